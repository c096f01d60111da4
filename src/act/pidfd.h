#pragma once
// A process held by a pidfd. A pid names whoever holds it now; a pidfd names
// one process for good: once the start time read after opening it matches the
// scan's, every signal sent through it reaches that process or nothing, even
// if the pid is reused a moment later.
#include <cstdint>

#include "core/unique_fd.h"
#include "procfs/reader.h"

namespace lineage::act {

/// Who a process is: its pid and its start time in clock ticks after boot
/// (/proc/PID/stat field 22), as a scan saw it.
struct Identity {
  int32_t pid = 0;
  uint64_t start_ticks = 0;
  bool operator==(const Identity&) const = default;
};

enum class HoldStatus {
  kHeld,     // the pidfd names the process the scan saw
  kGone,     // it exited (or is a zombie: exited, not yet reaped)
  kReused,   // the pid now names another process: never signal it
  kDenied,   // its stat cannot be read
  kNoFds,    // out of file descriptors
  kError,    // pidfd_open failed otherwise (no pidfd support: ENOSYS)
};
const char* to_string(HoldStatus status);

class PidFd {
 public:
  PidFd() = default;

  /// Opens a pidfd for id.pid, then reads PID/stat under reader's root: the
  /// process is held only when its start time is id's. Reading the start
  /// AFTER opening is what makes the check sound: had the pid been reused
  /// before the open, the stat read shows the newcomer's later start. A
  /// signal 0 through the pidfd after the read confirms the process the
  /// pidfd names was still alive when the stat was read, so the stat was its.
  static HoldStatus open(const Identity& id, const procfs::ProcReader& reader, PidFd& out);

  /// pidfd_send_signal: 0 or the errno (ESRCH: it exited; EPERM: not ours).
  int send_signal(int sig) const;
  /// True once the process has exited (the pidfd polls readable; a zombie
  /// counts as exited).
  bool exited() const;

  int fd() const { return fd_.get(); }
  bool valid() const { return fd_.valid(); }

 private:
  explicit PidFd(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

/// pidfd_open(2) as a raw syscall: -1 with errno on failure.
int pidfd_open_raw(int32_t pid);
/// pidfd_send_signal(2) as a raw syscall: 0 or -1 with errno.
int pidfd_send_signal_raw(int pidfd, int sig);

}  // namespace lineage::act
