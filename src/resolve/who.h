#pragma once
// `lineage who RESOURCE`: the processes holding a file, a directory's tree,
// a mount, a port or a unix socket, and how each holds it. The kernel is
// asked through BPF iterators when that is cheaper than reading /proc (see
// choose_bpf); /proc is read otherwise, and whenever BPF is not there.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "core/result.h"
#include "procfs/fds.h"
#include "procfs/holders.h"
#include "procfs/net.h"
#include "procfs/reader.h"

namespace lineage::resolve {

/// What `who` was asked about, as typed.
struct Resource {
  enum class Kind : uint8_t {
    kPath,   // a file, directory, device, fifo or unix socket itself
    kTree,   // --dir: the directory and anything below it
    kMount,  // --mount: every file of the filesystem PATH is on
    kPort,   // :PORT, tcp/PORT, udp/PORT: either end of a socket
  };
  Kind kind = Kind::kPath;
  std::string path;
  uint16_t port = 0;
  std::optional<bool> tcp;  // kPort: tcp/ (true) or udp/ (false); unset: both
};

/// ":80", "tcp/80", "udp/53" are ports, anything else a path; --dir and
/// --mount take a path. Usage errors for a bad port, an empty resource, and
/// --dir with --mount or with a port. Pure.
Result<Resource> parse_resource(std::string_view text, bool dir, bool mount);

enum class Method : uint8_t { kAuto, kBpf, kProc };
/// "auto", "bpf", "proc".
std::optional<Method> parse_method(std::string_view text);

/// The cost rule of kAuto: loading the BPF iterators costs a fixed ~20-80 ms
/// (libbpf reads and parses the kernel's 5 MB BTF), a /proc scan ~15 µs a
/// process; below this many processes the scan wins.
inline constexpr size_t kBpfMinProcesses = 3000;
bool choose_bpf(Method method, size_t processes);
/// How many processes reader's root lists, counting no further than up_to:
/// the cost rule needs no more, and listing every pid of a large machine
/// costs (the kernel instantiates an entry for each).
size_t count_processes(const procfs::ProcReader& reader, size_t up_to);

struct WhoAnswer {
  /// What the resource is: "file", "directory", "character device",
  /// "block device", "fifo", "socket", "tree", "mount", "port".
  std::string kind;
  std::string path;          // canonical; kMount: the mount point
  uint64_t dev = 0, ino = 0; // st_dev and st_ino; kMount: the device only
  std::string fstype;        // kMount, kTree: the filesystem
  std::string source;        // kMount: what is mounted
  /// kPort and unix sockets: the matching sockets (inode != 0).
  std::vector<procfs::SocketEntry> sockets;
  std::vector<uint64_t> unix_inodes;
  std::vector<procfs::Hold> holds;  // by pid; lineage's own left out
  procfs::ScanStats stats;          // denied, vanished (the /proc path)
  std::string method;               // "bpf" or "proc"
};

/// Finds the holders. kNotFound (path missing, nothing on the port, a
/// block device not mounted), kPermission (the path cannot be looked up),
/// kUsage (--dir of a non-directory). No holder is an answer, not an error.
Result<WhoAnswer> find_holders(const procfs::ProcReader& reader, const Resource& resource, Method method);

/// Sockets of (pid, lowest fd) from a /proc scan of every fd, deduplicated
/// to one hold per (pid, socket) as the BPF socket iterator reports them.
std::vector<procfs::Hold> socket_holds(const procfs::ProcReader& reader, const std::vector<uint64_t>& inodes,
                                       Method method, procfs::ScanStats& stats, std::string& used);

/// The holders of pipes (pipefs inodes) and sockets (sockfs inodes), as
/// `files` looks for the other ends: the BPF file iterator where the cost
/// rule says so (every task's files matched in the kernel, in one pass),
/// else one readlink per fd of every process (procfs::find_holders). By
/// pid, then fd. `used` says which ("bpf" or "proc").
std::vector<procfs::Holder> peer_holders(const procfs::ProcReader& reader, const std::unordered_set<uint64_t>& pipes,
                                         const std::unordered_set<uint64_t>& sockets, Method method,
                                         procfs::ScanStats& stats, std::string& used);

}  // namespace lineage::resolve
