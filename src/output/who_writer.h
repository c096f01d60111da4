#pragma once
// `who` output: one block per holder (how it holds the resource, and its
// short why line), or one lineage.who/v1 document.
#include <cstdint>
#include <string>
#include <vector>

#include "output/json_writer.h"
#include "procfs/holders.h"
#include "procfs/net.h"

namespace lineage::output {

struct WhoHolder {
  int32_t pid = 0;
  std::string comm;
  std::string user;          // empty when unknown
  int64_t uid = -1;          // -1 when unknown
  std::string why;           // one line, as `why --short` prints it (escaped)
  std::string summary;       // the chain in a sentence (raw)
  std::vector<procfs::Hold> holds;
};

struct WhoReport {
  std::string resource;  // as typed
  std::string kind;      // file, directory, ..., tree, mount, port
  std::string path;      // canonical; the mount point of a mount
  std::string fstype, source;
  uint64_t dev = 0, ino = 0;
  uint16_t port = 0;
  std::vector<procfs::SocketEntry> sockets;  // a port's sockets
  std::vector<WhoHolder> holders;
  size_t unreadable = 0;  // processes whose fds could not be read
  size_t vanished = 0;    // holders that exited before they were explained
  std::string method;     // "bpf" or "proc"
};

struct WhoTextOptions {
  bool color = false;
  size_t width = 0;  // 0: no limit
  size_t max_holds = 8;  // per holder, in text; the rest counted
};

/// "fd 3 rw", "cwd", "mmap"; a socket's hold with its socket
/// ("fd 5 tcp 127.0.0.1:8080 LISTEN"). Pure.
std::string hold_text(const procfs::Hold& hold, const std::vector<procfs::SocketEntry>& sockets);

std::string render_who_text(const WhoReport& report, const WhoTextOptions& options);
Json who_json(const WhoReport& report);

}  // namespace lineage::output
