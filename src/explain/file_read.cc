#include "explain/file_read.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <optional>

namespace lineage::explain {
namespace {

constexpr int kMaxLinks = 40;          // the kernel's own bound on links in one lookup
constexpr int kMaxComponents = 4096;   // a PATH_MAX path of one-letter names, links included

OpenedFile failed(FileStatus status) {
  OpenedFile out;
  out.status = status;
  return out;
}

int flags_for(OpenAs as) {
  switch (as) {
    case OpenAs::kRead: return O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
    case OpenAs::kDirectory: return O_RDONLY | O_DIRECTORY | O_CLOEXEC;
    case OpenAs::kPath: return O_PATH | O_CLOEXEC;
  }
  return O_PATH | O_CLOEXEC;
}

// Opening the last component: a socket gives ENXIO, a device without a
// driver ENXIO or ENODEV; neither is a file lineage would read.
FileStatus open_error(int err) {
  if (err == ENXIO || err == ENODEV) return FileStatus::kNotRegular;
  return status_from_errno(err);
}

// fstat of what was opened, checked against what the caller asked for.
OpenedFile finish(UniqueFd fd, OpenAs as) {
  OpenedFile out;
  if (::fstat(fd.get(), &out.st) != 0) return failed(status_from_errno(errno));
  if (as == OpenAs::kRead && !S_ISREG(out.st.st_mode)) return failed(FileStatus::kNotRegular);
  out.fd = std::move(fd);
  out.status = FileStatus::kOk;
  return out;
}

// Set once openat2 is found missing (old kernel, or a seccomp filter).
std::atomic<bool> no_openat2{false};

int openat2_without_links(int at, const char* path, int flags) {
  struct open_how how {};
  how.flags = static_cast<uint64_t>(flags);
  how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  return static_cast<int>(::syscall(SYS_openat2, at, path, &how, sizeof how));
}

// Next non-empty component of rest, consuming it and the slashes around
// it; "." when rest names the directory itself ("/", "a/").
std::string next_component(std::string_view& rest) {
  while (!rest.empty() && rest.front() == '/') rest.remove_prefix(1);
  size_t end = std::min(rest.find('/'), rest.size());
  std::string name(rest.substr(0, end));
  rest.remove_prefix(end);
  while (!rest.empty() && rest.front() == '/') rest.remove_prefix(1);
  return name.empty() ? "." : name;
}

// The target of the link name in dir; nullopt (errno set) when it is not
// a link or the target does not fit.
std::optional<std::string> read_link(int dir, const std::string& name) {
  char buf[PATH_MAX];
  ssize_t n = ::readlinkat(dir, name.c_str(), buf, sizeof buf);
  if (n < 0) return std::nullopt;
  if (static_cast<size_t>(n) >= sizeof buf) {
    errno = ENAMETOOLONG;
    return std::nullopt;
  }
  return std::string(buf, static_cast<size_t>(n));
}

// Whether a link in dir may be followed by its text. Links below /proc/PID
// (cwd, root, exe, fd/N) are magic: the kernel jumps to the object, which
// their text does not name ("/" for a container's root), and the process
// chose them. Only /proc's own (self, thread-self, mounts) are plain.
bool plain_links_in(int dir, const struct stat& st) {
  if (!trusted_link_dir(st)) return false;
  struct statfs fs {};
  if (::fstatfs(dir, &fs) != 0) return false;
  return fs.f_type != PROC_SUPER_MAGIC || st.st_ino == 1;  // 1: procfs's root
}

}  // namespace

const char* describe(FileStatus s) {
  switch (s) {
    case FileStatus::kOk: return "read";
    case FileStatus::kNotFound: return "not found";
    case FileStatus::kDenied: return "permission denied";
    case FileStatus::kNotRegular: return "not a regular file";
    case FileStatus::kTooLarge: return "too large";
    case FileStatus::kUntrustedLink: return "not followed: a symlink a non-root user could have made";
    case FileStatus::kError: return "unreadable";
  }
  return "unreadable";
}

FileStatus status_from_errno(int err) {
  if (err == ENOENT || err == ENOTDIR) return FileStatus::kNotFound;
  if (err == EACCES || err == EPERM) return FileStatus::kDenied;
  return FileStatus::kError;
}

bool trusted_link_dir(const struct stat& dir) {
  return dir.st_uid == 0 && (dir.st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

OpenedFile open_safe_walk(int at, const std::string& path, OpenAs as) {
  if (path.empty()) return failed(FileStatus::kNotFound);
  UniqueFd dir;
  int dir_trusted = -1;  // 0 or 1 once a link is found in dir
  auto start = [&](bool absolute) {
    dir.reset(absolute ? ::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)
                       : ::openat(at, ".", O_PATH | O_DIRECTORY | O_CLOEXEC));
    dir_trusted = -1;
    return dir.valid();
  };
  if (!start(path.front() == '/')) return failed(status_from_errno(errno));
  std::string pending = path;
  std::string_view rest = pending;
  int links = 0;
  for (int components = 0; components < kMaxComponents; ++components) {
    std::string name = next_component(rest);
    bool last = rest.empty();
    // O_NOFOLLOW everywhere: a link is never crossed by the kernel. A link
    // fails with ELOOP or ENOTDIR, except that O_PATH opens the link itself.
    int flags = last ? flags_for(as) | O_NOFOLLOW : O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    UniqueFd next(::openat(dir.get(), name.c_str(), flags));
    int open_errno = next.valid() ? 0 : errno;
    if (next.valid()) {
      if (!last) {
        dir = std::move(next);
        dir_trusted = -1;
        continue;
      }
      OpenedFile f = finish(std::move(next), as);
      if (!f.ok() || !S_ISLNK(f.st.st_mode)) return f;
    } else if (open_errno != ELOOP && open_errno != ENOTDIR) {
      return failed(last ? open_error(open_errno) : status_from_errno(open_errno));
    }
    auto target = read_link(dir.get(), name);
    if (!target) return failed(errno == EINVAL ? status_from_errno(open_errno) : status_from_errno(errno));
    if (++links > kMaxLinks) return failed(FileStatus::kError);
    if (dir_trusted < 0) {
      struct stat st {};
      if (::fstat(dir.get(), &st) != 0) return failed(status_from_errno(errno));
      dir_trusted = plain_links_in(dir.get(), st) ? 1 : 0;
    }
    if (dir_trusted == 0) return failed(FileStatus::kUntrustedLink);
    if (target->empty()) return failed(FileStatus::kNotFound);
    if (!rest.empty()) *target += "/" + std::string(rest);
    pending = std::move(*target);
    rest = pending;
    if (pending.front() == '/' && !start(true)) return failed(status_from_errno(errno));
  }
  return failed(FileStatus::kError);  // more components than any real path
}

OpenedFile open_safe(int at, const std::string& path, OpenAs as) {
  if (path.empty()) return failed(FileStatus::kNotFound);
  if (!no_openat2.load(std::memory_order_relaxed)) {
    // One call for a path without links; a link anywhere gives ELOOP, and
    // only then is the path walked to see whether root made the link.
    UniqueFd fd(openat2_without_links(at, path.c_str(), flags_for(as)));
    if (fd.valid()) return finish(std::move(fd), as);
    int err = errno;
    if (err == ENOSYS || err == EINVAL || err == E2BIG) {
      no_openat2.store(true, std::memory_order_relaxed);
    } else if (err != ELOOP && err != EPERM) {  // EPERM: a seccomp filter, perhaps
      return failed(open_error(err));
    }
  }
  return open_safe_walk(at, path, as);
}

FileStatus read_bounded_fd(int fd, const struct stat& st, size_t cap, std::string& out) {
  out.clear();
  // /proc and /sys files report size 0: the read below still stops at cap.
  if (st.st_size < 0 || static_cast<uint64_t>(st.st_size) > cap) return FileStatus::kTooLarge;
  // Grow as the file does: zero-filling a cap-sized buffer up front costs
  // page faults on every call (/proc files report size 0).
  size_t want = std::min<size_t>(cap + 1, std::max<size_t>(4096, static_cast<size_t>(st.st_size) + 1));
  out.resize(want);
  size_t used = 0;
  while (used < cap + 1) {
    if (used == out.size()) out.resize(std::min<size_t>(cap + 1, out.size() * 2));
    ssize_t n = ::read(fd, out.data() + used, out.size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      out.clear();
      return FileStatus::kError;
    }
    if (n == 0) break;
    used += static_cast<size_t>(n);
  }
  if (used > cap) {  // grew while we read
    out.clear();
    return FileStatus::kTooLarge;
  }
  out.resize(used);
  return FileStatus::kOk;
}

FileStatus read_bounded_at(int at, const std::string& path, size_t cap, std::string& out) {
  out.clear();
  OpenedFile f = open_safe(at, path, OpenAs::kRead);
  if (!f.ok()) return f.status;
  return read_bounded_fd(f.fd.get(), f.st, cap, out);
}

}  // namespace lineage::explain
