#pragma once
// RAII owners of a file descriptor and of a directory stream: every kernel
// handle is closed exactly once.
#include <dirent.h>
#include <unistd.h>

#include <utility>

namespace lineage {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(std::exchange(other.fd_, -1));
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }
  /// Gives up ownership without closing.
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_ = -1;
};

/// Owns a DIR* (closedir closes its fd too).
class UniqueDir {
 public:
  UniqueDir() = default;
  UniqueDir(UniqueDir&& other) noexcept : dir_(std::exchange(other.dir_, nullptr)) {}
  UniqueDir& operator=(UniqueDir&& other) noexcept {
    if (this != &other) reset(std::exchange(other.dir_, nullptr));
    return *this;
  }
  UniqueDir(const UniqueDir&) = delete;
  UniqueDir& operator=(const UniqueDir&) = delete;
  ~UniqueDir() { reset(); }

  /// A stream over fd, which it takes over; when fdopendir fails (or fd is
  /// invalid) the fd is still closed and the result is empty.
  static UniqueDir from_fd(UniqueFd fd) {
    UniqueDir out;
    if (!fd.valid()) return out;
    out.dir_ = ::fdopendir(fd.get());
    if (out.dir_ != nullptr) fd.release();
    return out;
  }
  /// opendir(path); empty on failure.
  static UniqueDir open(const char* path) {
    UniqueDir out;
    out.dir_ = ::opendir(path);
    return out;
  }

  DIR* get() const { return dir_; }
  explicit operator bool() const { return dir_ != nullptr; }
  void reset(DIR* dir = nullptr) {
    if (dir_ != nullptr) ::closedir(dir_);
    dir_ = dir;
  }

 private:
  DIR* dir_ = nullptr;
};

}  // namespace lineage
