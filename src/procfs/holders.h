#pragma once
// Which processes hold a file, a directory's tree, a whole filesystem or a
// set of sockets, found by reading /proc (the fallback of the BPF iterators
// in events/holders_bpf.h, and the only way for a directory's tree). Each
// process's fds, cwd, root, exe and mappings are looked at through its pid
// directory fd; nothing a user names is opened.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "procfs/reader.h"

namespace lineage::procfs {

enum class HoldKind : uint8_t { kFd, kCwd, kRoot, kExe, kMmap };
/// "fd", "cwd", "root", "exe", "mmap".
std::string_view hold_kind_name(HoldKind kind);

/// One way one process holds a matching file.
struct Hold {
  int32_t pid = 0;
  HoldKind kind = HoldKind::kFd;
  int32_t fd = -1;     // kFd only
  std::string mode;    // kFd: "r", "w", "rw"; empty when unknown
  uint64_t dev = 0;    // st_dev as stat() gives it (0 when unknown)
  uint64_t inode = 0;
  /// The file's path as the holder's links name it (raw bytes: escape
  /// before printing); filled for a tree, a mount and sockets' peers.
  std::string path;
};

/// What to look for.
struct HoldQuery {
  enum class Kind : uint8_t {
    kFile,     // one file: (dev, ino)
    kDevice,   // every file of a filesystem: st_dev == dev (fuser -m)
    kBelow,    // the directory `dir` and anything below it (lsof +D)
    kSockets,  // sockets with one of socket_inodes ("socket:[N]")
  };
  Kind kind = Kind::kFile;
  uint64_t dev = 0;
  uint64_t ino = 0;
  /// kBelow: the canonical path (no trailing '/', "/" for the root) and the
  /// st_dev of it and of every mount below it: a link path inside dir counts
  /// only on one of those (a process in another mount namespace may name a
  /// different file by the same path).
  std::string dir;
  std::vector<uint64_t> devs;
  std::vector<uint64_t> socket_inodes;
  bool maps = true;  // also file mappings (kFile, kDevice, kBelow)
  bool exe_hides_mmap = true;  // kFile: no "mmap" for the process's own exe
};

/// Every hold of a matching file by every process under reader.root(), by
/// pid, then fds, cwd, root, exe, mmap. Processes whose fds cannot be read
/// are counted in stats->denied, those that exited in stats->vanished.
std::vector<Hold> scan_holders(const ProcReader& reader, const HoldQuery& query,
                               ScanStats* stats = nullptr);

// ------------------------------------------------------ pure parsers ---

/// The "flags:" value of a /proc/PID/fdinfo/N text (octal).
std::optional<uint32_t> parse_fdinfo_flags(std::string_view fdinfo);
/// "r", "w" or "rw" from open flags' access mode.
std::string access_mode(uint32_t flags);

/// path is dir or lies below it (component-wise: /a/bc is not below /a/b).
/// dir is canonical ("/" is the root); a " (deleted)" suffix of path is not
/// part of it.
bool path_is_below(std::string_view path, std::string_view dir);

/// One line of /proc/PID/mountinfo.
struct MountEntry {
  uint32_t major = 0, minor = 0;  // the superblock's device
  std::string root;               // the mount's root within its filesystem
  std::string mount_point;        // octal escapes (\040) undone
  std::string fstype;
  std::string source;
  std::string super_options;      // "rw,freezer": a cgroup v1 mount's controllers are among them
};
std::optional<MountEntry> parse_mountinfo_line(std::string_view line);
std::vector<MountEntry> parse_mountinfo(std::string_view text);
/// The mount a canonical path lies on: the last listed (the top of a stack)
/// among those with the longest mount point the path is below. Null when
/// none (an empty table).
const MountEntry* mount_of(const std::vector<MountEntry>& mounts, std::string_view path);
/// The mounts strictly below a canonical directory.
std::vector<const MountEntry*> mounts_below(const std::vector<MountEntry>& mounts,
                                            std::string_view dir);

/// A bound unix socket of /proc/net/unix: its sockfs inode and path
/// (abstract names start with '@').
struct UnixSocketEntry {
  uint64_t inode = 0;
  std::string path;
};
std::vector<UnixSocketEntry> parse_proc_net_unix(std::string_view text);

}  // namespace lineage::procfs
