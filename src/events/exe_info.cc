#include "events/exe_info.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "core/unique_fd.h"

namespace lineage::events {
namespace {

ExeIdentity identity_of(const struct stat& st) {
  return ExeIdentity{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino),
                     static_cast<uint64_t>(st.st_ctim.tv_sec) * 1'000'000'000ull +
                         static_cast<uint64_t>(st.st_ctim.tv_nsec)};
}

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

}  // namespace

ExeIdentity exe_identity(const std::string& proc_root, int32_t pid) {
  struct stat st {};
  std::string link = proc_root + "/" + std::to_string(pid) + "/exe";
  if (::stat(link.c_str(), &st) != 0) return {};
  return identity_of(st);
}

std::string elf_interpreter(int fd) {
  unsigned char header[sizeof(Elf64_Ehdr)] = {};
  if (!read_exact(fd, header, sizeof header, 0)) return {};
  if (std::memcmp(header, ELFMAG, SELFMAG) != 0 || header[EI_DATA] != ELFDATA2LSB) return {};
  if (header[EI_CLASS] == ELFCLASS64) return interp_of<Elf64_Ehdr, Elf64_Phdr>(fd, header);
  if (header[EI_CLASS] == ELFCLASS32) return interp_of<Elf32_Ehdr, Elf32_Phdr>(fd, header);
  return {};
}

std::string InterpreterCache::elf_loader(const Event& e) {
  ExeIdentity want{e.exe_dev, e.exe_ino, e.exe_ctime_ns};
  if (want.ino == 0) return {};
  if (auto it = cache_.find(want); it != cache_.end()) return it->second;
  auto open_checked = [&](const std::string& path) -> UniqueFd {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    struct stat st {};
    if (!fd.valid() || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || !(identity_of(st) == want)) return {};
    return fd;
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
