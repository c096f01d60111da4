// Snapshot files: created 0600 without following a link or replacing
// anything unless asked; read with a bound on size and nesting.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <zstd.h>

#include "core/unique_fd.h"
#include "output/sanitize.h"
#include "snapshot/file.h"

namespace lineage::snapshot {
namespace {

constexpr unsigned char kZstdMagic[4] = {0x28, 0xB5, 0x2F, 0xFD};

Error io_error(const std::string& what, const std::string& path, int err) {
  ErrorKind kind = err == EACCES || err == EPERM ? ErrorKind::kPermission
                   : err == ENOENT               ? ErrorKind::kNotFound
                                                 : ErrorKind::kUsage;
  return {kind, fmt::format("{} {}: {}", what, output::escape_text(path), std::strerror(err))};
}

bool write_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

Result<std::string> compress(const std::string& text) {
  std::string out(ZSTD_compressBound(text.size()), '\0');
  size_t n = ZSTD_compress(out.data(), out.size(), text.data(), text.size(), 3);
  if (ZSTD_isError(n)) return Error{ErrorKind::kInternal, std::string("zstd: ") + ZSTD_getErrorName(n)};
  out.resize(n);
  return out;
}

// Streams a zstd frame out, refusing past kMaxBytes and a frame cut short.
Result<std::string> decompress(std::string_view in, const std::string& path) {
  std::unique_ptr<ZSTD_DStream, size_t (*)(ZSTD_DStream*)> ds(ZSTD_createDStream(), ZSTD_freeDStream);
  if (!ds) return Error{ErrorKind::kInternal, "zstd: out of memory"};
  ZSTD_initDStream(ds.get());
  std::string out;
  std::string chunk(ZSTD_DStreamOutSize(), '\0');
  ZSTD_inBuffer ib{in.data(), in.size(), 0};
  size_t last = 1;
  while (ib.pos < ib.size || last != 0) {
    ZSTD_outBuffer ob{chunk.data(), chunk.size(), 0};
    last = ZSTD_decompressStream(ds.get(), &ob, &ib);
    if (ZSTD_isError(last)) {
      return usage_error(fmt::format("{}: not a valid zstd file ({})", output::escape_text(path),
                                     ZSTD_getErrorName(last)));
    }
    out.append(chunk.data(), ob.pos);
    if (out.size() > kMaxBytes) {
      return usage_error(fmt::format("{}: more than {} bytes decompressed: refused", output::escape_text(path),
                                     kMaxBytes));
    }
    if (ob.pos == 0 && ib.pos == ib.size && last != 0) {
      return usage_error(fmt::format("{}: truncated zstd file", output::escape_text(path)));
    }
  }
  return out;
}

}  // namespace

// Opens the file an O_PATH fd names for real, after it was checked: the
// checked inode is the one opened, whatever the path points to by now.
UniqueFd reopen(int path_fd, int flags) {
  std::string self = fmt::format("/proc/self/fd/{}", path_fd);
  return UniqueFd(::open(self.c_str(), flags | O_CLOEXEC | O_NOCTTY));
}

Result<UniqueFd> create_output(const std::string& path, bool force) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (fd.valid()) return fd;
  if (errno != EEXIST) return io_error("cannot create", path, errno);
  if (!force) {
    return usage_error(fmt::format("{} exists: give another --output, or --force to replace it",
                                   output::escape_text(path)));
  }
  // --force replaces only a plain file of ours: not a symbolic link (it
  // points where its owner chose), not a device or FIFO (opening one acts),
  // not another user's file (they could read it) nor a hard link (the
  // other name may be anything, /etc/shadow included).
  UniqueFd held(::open(path.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!held.valid()) return io_error("cannot open", path, errno);
  struct stat st {};
  if (::fstat(held.get(), &st) != 0) return io_error("cannot open", path, errno);
  if (S_ISLNK(st.st_mode)) return usage_error(fmt::format("{} is a symbolic link: refused", output::escape_text(path)));
  if (!S_ISREG(st.st_mode)) return usage_error(fmt::format("{} is not a regular file", output::escape_text(path)));
  if (st.st_uid != ::geteuid() || st.st_nlink != 1) {
    return usage_error(fmt::format("{} belongs to another user or has other names (hard links): refused",
                                   output::escape_text(path)));
  }
  fd = reopen(held.get(), O_WRONLY);
  if (!fd.valid()) return io_error("cannot open", path, errno);
  // The file may have had a wider mode.
  if (::fchmod(fd.get(), 0600) != 0) return io_error("cannot chmod", path, errno);
  return fd;
}

Result<bool> write_output(int fd, const std::string& path, const std::string& text) {
  std::string compressed;
  const std::string* bytes = &text;
  if (path.ends_with(".zst")) {
    auto z = compress(text);
    if (!z) return z.error();
    compressed = std::move(*z);
    bytes = &compressed;
  }
  if (::ftruncate(fd, 0) != 0 || !write_all(fd, bytes->data(), bytes->size()) || ::fsync(fd) != 0) {
    return io_error("cannot write", path, errno);
  }
  return true;
}

Result<std::string> read_bytes(const std::string& path) {
  // O_PATH first: a device or FIFO behind the name (a user's symbolic
  // link) is never opened, only looked at.
  UniqueFd held(::open(path.c_str(), O_PATH | O_CLOEXEC));
  if (!held.valid()) return io_error("cannot open", path, errno);
  struct stat st {};
  if (::fstat(held.get(), &st) != 0) return io_error("cannot read", path, errno);
  if (!S_ISREG(st.st_mode)) return usage_error(fmt::format("{} is not a regular file", output::escape_text(path)));
  UniqueFd fd = reopen(held.get(), O_RDONLY);
  if (!fd.valid()) return io_error("cannot open", path, errno);
  if (static_cast<uint64_t>(st.st_size) > kMaxBytes) {
    return usage_error(fmt::format("{} is larger than {} bytes: refused", output::escape_text(path), kMaxBytes));
  }
  std::string data(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < data.size()) {
    ssize_t n = ::read(fd.get(), data.data() + got, data.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_error("cannot read", path, errno);
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  data.resize(got);
  if (data.size() >= 4 && std::memcmp(data.data(), kZstdMagic, 4) == 0) return decompress(data, path);
  return data;
}

}  // namespace lineage::snapshot
