#include "act/pidfd.h"

#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace lineage::act {

int pidfd_open_raw(int32_t pid) {
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0u));
}

int pidfd_send_signal_raw(int pidfd, int sig) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0u));
}

const char* to_string(HoldStatus status) {
  switch (status) {
    case HoldStatus::kHeld: return "held";
    case HoldStatus::kGone: return "already gone";
    case HoldStatus::kReused: return "pid reused by another process";
    case HoldStatus::kDenied: return "not readable";
    case HoldStatus::kNoFds: return "out of file descriptors";
    case HoldStatus::kError: return "pidfd_open failed";
  }
  return "?";
}

HoldStatus PidFd::open(const Identity& id, const procfs::ProcReader& reader, PidFd& out) {
  UniqueFd fd(pidfd_open_raw(id.pid));
  if (!fd.valid()) {
    if (errno == ESRCH) return HoldStatus::kGone;
    if (errno == EMFILE || errno == ENFILE) return HoldStatus::kNoFds;
    return HoldStatus::kError;  // EINVAL (a thread id), ENOSYS (kernel < 5.3)
  }
  // Only now, with the pidfd open, read the start time.
  UniqueFd dirfd;
  auto p = reader.read(id.pid, core::kFieldStat, &dirfd);
  if (!p) {
    // Gone, or its stat denied: tell them apart by the pidfd itself.
    PidFd held(std::move(fd));
    return held.send_signal(0) == ESRCH ? HoldStatus::kGone : HoldStatus::kDenied;
  }
  if (p->stat.start_ticks != id.start_ticks) return HoldStatus::kReused;
  PidFd held(std::move(fd));
  // The stat read above was of whoever held the pid at that moment; if the
  // pidfd's process is alive after it, that was the pidfd's process.
  if (held.send_signal(0) == ESRCH || p->is_zombie()) return HoldStatus::kGone;
  out = std::move(held);
  return HoldStatus::kHeld;
}

int PidFd::send_signal(int sig) const {
  return pidfd_send_signal_raw(fd_.get(), sig) == 0 ? 0 : errno;
}

bool PidFd::exited() const {
  pollfd pfd{fd_.get(), POLLIN, 0};
  return ::poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLIN | POLLHUP)) != 0;
}

}  // namespace lineage::act
