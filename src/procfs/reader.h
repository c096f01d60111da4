#pragma once
// Reads processes from a proc root (default /proc; tests pass a fake tree).
// Every per-process read is relative to the pid directory fd, so a pid that
// is reused mid-read cannot mix two processes. A process that exits mid-read
// is skipped; a field that is denied is marked unavailable, never invented.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/process.h"
#include "core/result.h"
#include "core/system_info.h"
#include "core/unique_fd.h"

namespace lineage::procfs {

/// Which processes kFieldExeFile is read for, by their executable's path
/// (three more lookups each): nullptr reads it for all.
using ExeFileFilter = bool (*)(std::string_view exe_path);
/// Which entries ("NAME=value") of an environment kFieldEnviron keeps:
/// nullptr keeps all. A scan that needs one variable of every process
/// (audit's LD_PRELOAD) saves an allocation per entry of the others.
using EnvFilter = bool (*)(std::string_view entry);

/// What a scan reads for only some processes, or keeps of some fields.
struct ScanFilters {
  ExeFileFilter exe_file = nullptr;
  EnvFilter environ = nullptr;
};

struct ScanStats {
  size_t vanished = 0;  // exited between listing and reading
  size_t denied = 0;    // processes with at least one denied field
};

class ProcReader {
 public:
  static constexpr size_t kMaxCmdlineBytes = 256 * 1024;

  /// Fails with kNotFound when root cannot be opened as a directory.
  static Result<ProcReader> open(const std::string& root = "/proc");

  /// Pids listed in the root, in directory order.
  std::vector<int32_t> list_pids() const;
  /// Every process in the table, with the requested field groups. Large
  /// tables are read by one thread per core.
  std::vector<core::Process> scan(core::FieldMask fields, ScanStats* stats = nullptr,
                                  ScanFilters filters = {}) const;
  /// One process; nullopt when it does not exist (or exited mid-read).
  /// With dirfd, the pid directory stays open there for read_more: it
  /// names this process only, even once the pid is reused.
  std::optional<core::Process> read(int32_t pid, core::FieldMask fields,
                                    UniqueFd* dirfd = nullptr) const;
  /// Reads more field groups of p through the dirfd read() kept (no second
  /// stat read to check identity: the fd cannot reach another process).
  /// Returns false, leaving p as it was, when the process has exited.
  bool read_more(int dirfd, core::Process& p, core::FieldMask fields) const;
  core::SystemInfo system_info() const;
  /// The inode of the user namespace of the process `key` names (its
  /// ns/user link); nullopt when it exited, the pid was reused, or the link
  /// is denied (reading it takes ptrace access).
  std::optional<uint64_t> user_namespace(const core::ProcessKey& key) const;
  /// The user namespace of pid 1 of this root (never reused): the initial
  /// one, where capabilities act on the whole system. Where pid 1's link is
  /// denied (not root, or a sandbox), the kernel's fixed inode of the
  /// initial user namespace, kInitialUserNamespace.
  uint64_t initial_user_namespace() const;
  /// PROC_USER_INIT_INO (include/linux/proc_ns.h, fixed since Linux 3.8):
  /// other namespaces' inodes are allocated from 0xF0000000 up.
  static constexpr uint64_t kInitialUserNamespace = 0xEFFFFFFD;
  /// The pid namespace whose numbers this root shows: that of its pid 1
  /// (else of the process reading it, when pid 1's link is denied).
  /// kInitialPidNamespace when neither can be read. Inside a container it
  /// is the container's: the kernel's global pids (eBPF, the proc
  /// connector) are not the ones /proc shows.
  uint64_t pid_namespace() const;
  /// PROC_PID_INIT_INO (include/linux/proc_ns.h).
  static constexpr uint64_t kInitialPidNamespace = 0xEFFFFFFC;
  static constexpr uint32_t kPidMaxLimit = 4194304;  // PID_MAX_LIMIT on 64-bit
  /// <root>/sys/kernel/pid_max: no chain of live processes is longer.
  /// kPidMaxLimit when it cannot be read. Reads the file on every call.
  uint32_t pid_max() const;
  /// Nanoseconds per clock tick of /proc start times (no file read).
  uint64_t tick_ns() const { return tick_ns_; }
  static uint64_t ticks_per_second();
  const std::string& root() const { return root_; }

 private:
  ProcReader(std::string root, UniqueFd fd) : root_(std::move(root)), root_fd_(std::move(fd)) {}
  std::optional<core::Process> read_at(int32_t pid, int dirfd, core::FieldMask fields,
                                       std::string& buf, const ScanFilters& filters = {}) const;
  /// The groups of fields other than stat; false when the process is gone.
  bool read_fields(int32_t pid, int dirfd, core::Process& p, core::FieldMask fields,
                   std::string& buf, const ScanFilters& filters = {}) const;

  std::string root_;
  UniqueFd root_fd_;
  uint64_t tick_ns_ = 10'000'000;
};

/// How a failed read is reported: gone (ENOENT/ESRCH) means the process
/// exited; denied is shown as unavailable.
enum class ReadError { kNone, kGone, kDenied, kOther };
ReadError classify_errno(int err);

/// Reads a whole file relative to dirfd into buf, at most cap bytes.
/// Sets *truncated when the file was longer than cap. short_read_is_eof
/// saves the final empty read for files the kernel fills as far as asked
/// (stat, status: single_open seq files; cmdline, environ: copied from the
/// process's memory until the count or the end). That read is not free:
/// for environ and cmdline it walks the other process's memory again.
ReadError read_file_at(int dirfd, const char* name, std::string& buf, size_t cap,
                       bool* truncated = nullptr, bool short_read_is_eof = false);

}  // namespace lineage::procfs
