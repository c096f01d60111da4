#include "explain/file_read.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "core/unique_fd.h"

namespace lineage::explain {

const char* describe(FileStatus s) {
  switch (s) {
    case FileStatus::kOk: return "read";
    case FileStatus::kNotFound: return "not found";
    case FileStatus::kDenied: return "permission denied";
    case FileStatus::kNotRegular: return "not a regular file";
    case FileStatus::kTooLarge: return "too large";
    case FileStatus::kError: return "unreadable";
  }
  return "unreadable";
}

FileStatus status_from_errno(int err) {
  if (err == ENOENT || err == ENOTDIR) return FileStatus::kNotFound;
  if (err == EACCES || err == EPERM) return FileStatus::kDenied;
  return FileStatus::kError;
}

FileStatus read_bounded(const std::string& path, size_t cap, std::string& out) {
  out.clear();
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd.valid()) return status_from_errno(errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return FileStatus::kError;
  if (!S_ISREG(st.st_mode)) return FileStatus::kNotRegular;
  // /proc and /sys files report size 0: the read below still stops at cap.
  if (st.st_size < 0 || static_cast<uint64_t>(st.st_size) > cap) return FileStatus::kTooLarge;
  // Grow as the file does: zero-filling a cap-sized buffer up front costs
  // page faults on every call (/proc files report size 0).
  size_t want = std::min<size_t>(cap + 1, std::max<size_t>(4096, static_cast<size_t>(st.st_size) + 1));
  out.resize(want);
  size_t used = 0;
  while (used < cap + 1) {
    if (used == out.size()) out.resize(std::min<size_t>(cap + 1, out.size() * 2));
    ssize_t n = ::read(fd.get(), out.data() + used, out.size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return FileStatus::kError;
    if (n == 0) break;
    used += static_cast<size_t>(n);
  }
  if (used > cap) return FileStatus::kTooLarge;  // grew while we read
  out.resize(used);
  return FileStatus::kOk;
}

}  // namespace lineage::explain
