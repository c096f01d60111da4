#include "events/exe_info.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <string>

#include "core/unique_fd.h"
#include "procfs/reader.h"

namespace lineage::events {
namespace {

bool read_exact(int fd, void* buf, size_t len, uint64_t offset) {
  ssize_t n = ::pread(fd, buf, len, static_cast<off_t>(offset));
  return n == static_cast<ssize_t>(len);
}

template <class Ehdr, class Phdr>
std::string interp_of(int fd, const unsigned char* ident) {
  Ehdr eh;
  std::memcpy(&eh, ident, sizeof eh);
  if (eh.e_phentsize != sizeof(Phdr) || eh.e_phnum == 0 || eh.e_phnum > 128) return {};
  Phdr ph[128];
  if (!read_exact(fd, ph, sizeof(Phdr) * eh.e_phnum, eh.e_phoff)) return {};
  for (unsigned i = 0; i < eh.e_phnum; ++i) {
    if (ph[i].p_type != PT_INTERP) continue;
    if (ph[i].p_filesz == 0 || ph[i].p_filesz > 4096) return {};
    std::string path(ph[i].p_filesz, '\0');
    if (!read_exact(fd, path.data(), path.size(), ph[i].p_offset)) return {};
    path.resize(::strnlen(path.data(), path.size()));
    return path;
  }
  return {};  // no loader: a static binary
}

// statx from cached attributes: never a round trip to a FUSE server.
bool statx_cached(int dirfd, const char* path, int flags, struct statx& sx) {
  return ::statx(dirfd, path, flags | AT_STATX_DONT_SYNC, STATX_TYPE | STATX_INO | STATX_CTIME | STATX_MNT_ID,
                 &sx) == 0;
}

uint64_t ctime_ns(const struct statx& sx) {
  return static_cast<uint64_t>(sx.stx_ctime.tv_sec) * 1'000'000'000ull + sx.stx_ctime.tv_nsec;
}

}  // namespace

ExeIdentity exe_identity(const std::string& proc_root, int32_t pid) {
  struct statx sx {};
  std::string link = proc_root + "/" + std::to_string(pid) + "/exe";
  if (!statx_cached(AT_FDCWD, link.c_str(), 0, sx)) return {};
  ExeIdentity id;
  id.dev = ::makedev(sx.stx_dev_major, sx.stx_dev_minor);
  id.ino = sx.stx_ino;
  id.ctime_ns = ctime_ns(sx);
  id.mount_id = (sx.stx_mask & STATX_MNT_ID) ? sx.stx_mnt_id : 0;
  return id;
}

std::string elf_interpreter(int fd) {
  unsigned char header[sizeof(Elf64_Ehdr)] = {};
  if (!read_exact(fd, header, sizeof header, 0)) return {};
  if (std::memcmp(header, ELFMAG, SELFMAG) != 0 || header[EI_DATA] != ELFDATA2LSB) return {};
  if (header[EI_CLASS] == ELFCLASS64) return interp_of<Elf64_Ehdr, Elf64_Phdr>(fd, header);
  if (header[EI_CLASS] == ELFCLASS32) return interp_of<Elf32_Ehdr, Elf32_Phdr>(fd, header);
  return {};
}

bool local_filesystem(uint64_t magic) {
  static constexpr std::array<uint64_t, 17> kLocal{
      0xEF53,      // ext2/3/4
      0x58465342,  // xfs
      0x9123683E,  // btrfs
      0x01021994,  // tmpfs
      0x858458F6,  // ramfs
      0x794C7630,  // overlayfs
      0x73717368,  // squashfs
      0xE0F5E1E2,  // erofs
      0xF2F52010,  // f2fs
      0x4D44,      // vfat
      0x2011BAB0,  // exfat
      0x2FC12FC1,  // zfs
      0x9660,      // iso9660
      0x3153464A,  // jfs
      0x52654973,  // reiserfs
      0xCA451A4E,  // bcachefs
      0x3434,      // nilfs2
  };
  for (uint64_t m : kLocal) {
    if (m == magic) return true;
  }
  return false;
}

bool local_filesystem(std::string_view type) {
  static constexpr std::array<std::string_view, 17> kLocal{
      "ext2",  "ext3",  "ext4",    "xfs",  "btrfs", "tmpfs",    "ramfs", "overlay",  "squashfs",
      "erofs", "f2fs",  "vfat",    "exfat", "zfs",  "iso9660", "jfs",   "bcachefs"};
  for (std::string_view t : kLocal) {
    if (t == type) return true;
  }
  return false;
}

void MountTypes::load() {
  loaded_ = std::chrono::steady_clock::now();
  types_.clear();
  std::string text;
  if (procfs::read_file_at(AT_FDCWD, "/proc/self/mountinfo", text, 4 << 20) != procfs::ReadError::kNone) return;
  // "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw"
  for (size_t pos = 0; pos < text.size();) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string_view line(text.data() + pos, nl - pos);
    pos = nl + 1;
    size_t dash = line.find(" - ");
    if (dash == std::string_view::npos) continue;
    std::string_view type = line.substr(dash + 3);
    type = type.substr(0, type.find(' '));
    uint64_t id = 0;
    size_t i = 0;
    for (; i < line.size() && line[i] >= '0' && line[i] <= '9'; ++i) id = id * 10 + uint64_t(line[i] - '0');
    if (i > 0) types_[id] = std::string(type);
  }
}

std::string_view MountTypes::type(uint64_t mount_id) {
  auto it = types_.find(mount_id);
  if (it == types_.end() && std::chrono::steady_clock::now() - loaded_ >= std::chrono::seconds(1)) {
    load();
    it = types_.find(mount_id);
  }
  return it == types_.end() ? std::string_view() : std::string_view(it->second);
}

std::string InterpreterCache::elf_loader(const core::Event& e, bool local_fs) {
  Key want{e.exe_ino, e.exe_ctime_ns};
  if (want.ino == 0 || !local_fs) return {};
  if (auto it = cache_.find(want); it != cache_.end()) return it->second;
  // An O_PATH handle opens nothing; only a regular file with the identity
  // the kernel reported is then opened for reading, through that handle.
  // (The device number is not compared: on btrfs, stat(2) reports the
  // subvolume's, the kernel's event the filesystem's.)
  auto open_checked = [&](const std::string& path) -> UniqueFd {
    UniqueFd handle(::open(path.c_str(), O_PATH | O_CLOEXEC));
    struct statx sx {};
    if (!handle.valid() || !statx_cached(handle.get(), "", AT_EMPTY_PATH, sx) || !S_ISREG(sx.stx_mode) ||
        sx.stx_ino != want.ino || ctime_ns(sx) != want.ctime_ns) {
      return {};
    }
    std::string self = "/proc/self/fd/" + std::to_string(handle.get());
    return UniqueFd(::open(self.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  };
  UniqueFd fd = open_checked("/proc/" + std::to_string(e.pid) + "/exe");
  if (!fd.valid() && !e.exe.empty() && e.exe[0] == '/') fd = open_checked(e.exe);
  if (!fd.valid()) return {};  // gone, or another file now: do not guess (and do not cache)
  std::string loader = elf_interpreter(fd.get());
  if (cache_.size() >= kMaxEntries) cache_.clear();
  cache_.emplace(want, loader);
  return loader;
}

}  // namespace lineage::events
