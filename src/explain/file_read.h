#pragma once
// Files lineage opens because a process pointed at them (its cwd and the
// directories above, crontabs, unit files, runtime state): anyone may have
// planted a huge file, a FIFO, a device node or a symlink to a root-only
// file there, and lineage often runs as root.
//
// Opening resolves a path one component at a time without letting the
// kernel follow any symlink; a symlink is followed only when the directory
// holding it is root's and nobody else can write to it (so root made the
// link: /lib -> usr/lib, /etc/systemd/system/*.wants/...). A link in /tmp,
// in a user's home or in any directory a non-root user can write is refused,
// and so is a /proc/PID magic link (cwd, root, fd/N: the process chose them).
// When the kernel has openat2(2), a path without symlinks is opened in one
// call (RESOLVE_NO_SYMLINKS) and only a path that has one is walked.
#include <fcntl.h>
#include <sys/stat.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "core/unique_fd.h"

namespace lineage::explain {

enum class FileStatus {
  kOk,
  kNotFound,
  kDenied,
  kNotRegular,
  kTooLarge,
  kUntrustedLink,  // a symlink in a directory a non-root user can write
  kError,
};

/// "read", "not found", "permission denied", ... for evidence strings.
const char* describe(FileStatus status);

/// kNotFound for ENOENT/ENOTDIR, kDenied for EACCES/EPERM, else kError.
FileStatus status_from_errno(int err);

/// Whether a symlink found in a directory with this status may be followed:
/// the directory is owned by root and not writable by group or others, so
/// only root can have made (or replaced) the link.
bool trusted_link_dir(const struct stat& dir);

/// What the last component must be and how it is opened.
enum class OpenAs {
  kRead,       // a regular file, O_RDONLY|O_NONBLOCK|O_NOCTTY (a FIFO never blocks)
  kDirectory,  // a directory, O_RDONLY|O_DIRECTORY (for fdopendir)
  kPath,       // anything but a symlink, O_PATH (nothing is opened for I/O)
};

struct OpenedFile {
  FileStatus status = FileStatus::kError;
  UniqueFd fd;
  struct stat st {};  // of fd, when status is kOk
  bool ok() const { return status == FileStatus::kOk; }
};

/// Opens path (absolute, or relative to the directory fd `at`, which may be
/// AT_FDCWD) following only trusted symlinks, at most 40 of them. kRead
/// gives kNotRegular for a FIFO, socket or device (refused after fstat).
OpenedFile open_safe(int at, const std::string& path, OpenAs as);
inline OpenedFile open_safe(const std::string& path, OpenAs as) {
  return open_safe(AT_FDCWD, path, as);
}

/// The component-by-component walk alone (what open_safe does when the
/// path has a symlink or the kernel lacks openat2): for tests and for
/// measuring the fast path against it.
OpenedFile open_safe_walk(int at, const std::string& path, OpenAs as);

/// Reads the regular file open on fd, st being its status, of at most cap
/// bytes into out.
FileStatus read_bounded_fd(int fd, const struct stat& st, size_t cap, std::string& out);

/// Reads a regular file of at most cap bytes into out, opened by open_safe
/// (relative paths from `at`).
FileStatus read_bounded_at(int at, const std::string& path, size_t cap, std::string& out);
inline FileStatus read_bounded(const std::string& path, size_t cap, std::string& out) {
  return read_bounded_at(AT_FDCWD, path, cap, out);
}

}  // namespace lineage::explain
