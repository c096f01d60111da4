#pragma once
// The open files of one process: its fd table (fd/N links and fdinfo/N),
// cwd, root, exe and, on request, its mapped files; and the processes that
// hold given pipes and sockets (the other end of a pipe or unix socket).
//
// Everything is read relative to the pid's directory fd, so a pid reused
// mid-read cannot mix two processes. Links are read with readlinkat and
// stat()ed through the magic link (fstatat on fd/N): that resolves the open
// file's inode without opening anything a user could have planted.
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "procfs/reader.h"

namespace lineage::procfs {

// ------------------------------------------------------------ pure text ---

/// What an fd/N link names.
enum class LinkKind : uint8_t {
  kPath,    // "/var/log/x", "/x (deleted)", "/memfd:name (deleted)"
  kPipe,    // "pipe:[123]"
  kSocket,  // "socket:[456]"
  kAnon,    // "anon_inode:[eventfd]", "anon_inode:inotify", "anon_inode:bpf-map"
  kOther,   // "net:[4026531840]" (an nsfs fd), "pidfd:[7]", anything else
};

struct LinkTarget {
  LinkKind kind = LinkKind::kOther;
  uint64_t inode = 0;      // pipe and socket: the number in brackets
  std::string_view name;   // kPath: the path without " (deleted)"; kAnon: "eventfd"
  bool deleted = false;    // kPath ended in " (deleted)"
  bool memfd = false;      // kPath is "/memfd:NAME (deleted)"
};

/// Classifies a link target as readlink gives it (views point into link).
LinkTarget classify_link(std::string_view link);

/// The type shown for an anon_inode kind: "eventfd", "epoll", "signalfd",
/// "timerfd", "inotify", "fanotify", "pidfd", "bpf-map", "bpf-prog",
/// "bpf-link", "io_uring", "userfaultfd", "perf_event"; "a_inode" for others.
std::string_view anon_type(std::string_view anon_name);

/// "REG", "DIR", "CHR", "BLK", "FIFO", "LNK", "sock"; "a_inode" for a mode
/// with no file type (an anonymous inode); "unknown" otherwise.
std::string_view file_type(mode_t mode);

/// /proc/PID/fdinfo/N: "pos:\t0\nflags:\t02100002\nmnt_id:\t29\nino:\t123\n"
/// (and kind-specific lines after). nullopt when pos or flags is missing or
/// malformed.
struct FdInfo {
  uint64_t pos = 0;
  uint32_t flags = 0;  // octal in the file: O_ACCMODE, O_APPEND, O_CLOEXEC...
  std::optional<int32_t> mnt_id;
};
std::optional<FdInfo> parse_fdinfo(std::string_view text);

/// "r", "w" or "rw" from the access mode bits of flags.
std::string_view mode_string(uint32_t flags);
/// The flags a reader cares about, comma separated: "append", "cloexec",
/// "nonblock", "direct", "sync", "path"; "" when none.
std::string flag_names(uint32_t flags);

// ----------------------------------------------------------- the reading ---

struct OpenFile {
  /// "3" for fd 3; "cwd", "rtd" (root), "txt" (exe), "mem" (a mapping), as lsof.
  std::string label;
  int fd = -1;             // -1 for cwd, rtd, txt, mem
  std::string link;        // the link as read (pipe:[1], /x (deleted), ...)
  LinkKind kind = LinkKind::kOther;
  std::string type;        // REG, DIR, CHR, BLK, FIFO, sock, eventfd, memfd ...
  std::string path;        // kPath: without " (deleted)"; otherwise the link
  bool deleted = false;
  uint64_t inode = 0;      // st_ino, or the link's number
  std::optional<uint32_t> dev_major, dev_minor;  // st_dev; st_rdev of CHR and BLK
  std::optional<uint64_t> size;    // regular files and directories
  std::optional<FdInfo> info;      // fds only
  /// Sockets: "TCP", "TCPv6", "UDP", "UDPv6", "UNIX" (or "UNIX-STREAM" on
  /// newer kernels), "NETLINK", ... as the
  /// kernel names the protocol (system.sockprotoname); empty when unknown.
  std::string sock_proto;
};

struct FdTable {
  std::vector<OpenFile> files;   // cwd, rtd, txt, fds by number, then mem
  /// What could not be read for lack of permission: "fd table", "cwd",
  /// "root", "exe", "maps", "fd 7".
  std::vector<std::string> not_readable;
  bool gone = false;             // the process exited while it was read
  /// Something of the process was read (a denied fd table alone is not).
  bool anything_read = false;
};

/// Reads the open files of the process whose /proc directory is pid_dirfd.
FdTable read_fd_table(int pid_dirfd, bool with_maps);

/// One fd of some process holding a wanted pipe or socket.
struct Holder {
  int32_t pid = 0;
  int fd = -1;
  bool pipe = false;        // else a socket
  uint64_t inode = 0;
  std::string mode;         // "r", "w", "rw"; "" when fdinfo could not be read
};

/// Every fd of every process under reader's root that holds one of these
/// pipe or socket inodes: one readlink per fd, no fdinfo but for the fds
/// that match. By pid, then fd. Processes whose fd table is denied are
/// counted in stats->denied, the ones that exit meanwhile in vanished.
std::vector<Holder> find_holders(const ProcReader& reader, const std::unordered_set<uint64_t>& pipes,
                                 const std::unordered_set<uint64_t>& sockets, ScanStats* stats = nullptr);

}  // namespace lineage::procfs
