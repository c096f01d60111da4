#pragma once
// `files` output: an lsof-like table with the other end of pipes and unix
// sockets under their row, or one lineage.files/v1 document.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "output/json_writer.h"
#include "procfs/fds.h"

namespace lineage::output {

/// A process holding the other end of a pipe or unix socket (or sharing it).
struct FilePeer {
  int32_t pid = 0;
  std::string comm;
  int fd = -1;
  std::string mode;  // "r", "w", "rw"; "" when not readable
  std::string why;   // the one-line `why --short` summary; "" when not explained
};

struct SocketInfo {
  std::string protocol;  // TCP, UDP, UNIX, NETLINK, PACKET ...
  std::string local, remote;  // "127.0.0.1:80", "[::1]:80"; unix: the bound path
  std::string state;     // LISTEN, ESTAB, UNCONN; unix: CONNECTED, LISTEN, ...
  std::string kind;      // unix: STREAM, DGRAM, SEQPACKET
  std::optional<uint32_t> rqueue, wqueue;
  uint64_t peer_inode = 0;  // unix: the connected socket's inode
};

struct FileRow {
  procfs::OpenFile file;
  std::optional<SocketInfo> socket;
  /// Pipes and unix sockets: whether the other end was looked for, and who
  /// holds it (several processes can).
  bool peers_searched = false;
  std::vector<FilePeer> peers;
  /// Holders beyond the ones kept in peers (a pipe every process of a
  /// large tree inherited): counted, not listed.
  size_t peers_omitted = 0;
};

/// Peers a text row shows; the rest are counted in one line.
inline constexpr size_t kTextPeers = 16;

struct FilesReport {
  int32_t pid = 0;
  std::string comm;
  std::string user;
  std::optional<uint32_t> uid;
  std::vector<FileRow> rows;
  std::vector<std::string> not_readable;  // "fd table", "cwd", "fd 7", ...
  /// The peer search: processes whose fd table could not be read (a peer
  /// there is not shown); whether a search was made at all.
  bool peer_scan = false;
  size_t peer_scan_denied = 0;
  std::string peer_method;  // "bpf" (the file iterator) or "proc" (every fd link); empty: none
};

/// The table; width 0: lines are not cut.
std::string render_files_text(const FilesReport& report, bool color, size_t width);

/// {"schema": "lineage.files/v1", "process": {...}, "files": [...],
///  "not_readable": [...], "peer_scan": {...}}
Json files_json(const FilesReport& report);

/// "8,1" (lsof's DEVICE) from a row; "" when unknown.
std::string device_text(const procfs::OpenFile& f);

}  // namespace lineage::output
