#pragma once
// What an exec'd file is, beyond its path: its identity (device, inode,
// ctime: a replaced binary shows as a new identity under the same path) and
// the dynamic loader an ELF asks for (PT_INTERP; none for a static binary).
// The loader is read once per distinct file and cached by identity, so a
// build that runs cc1 ten thousand times reads its ELF header once.
#include <cstdint>
#include <string>
#include <unordered_map>

#include "events/event.h"

namespace lineage::events {

struct ExeIdentity {
  uint64_t dev = 0, ino = 0, ctime_ns = 0;
  bool operator==(const ExeIdentity&) const = default;
};

/// stat(2) of <proc_root>/PID/exe (the file itself, not the link); a zero
/// identity when the process is gone or the link is unreadable.
ExeIdentity exe_identity(const std::string& proc_root, int32_t pid);

/// The PT_INTERP path of the ELF open at fd, "" when it has none (static,
/// not an ELF) or the header is malformed. Reads at most a few KiB.
std::string elf_interpreter(int fd);

class InterpreterCache {
 public:
  static constexpr size_t kMaxEntries = 4096;

  /// The loader of the exec'd file of e (e.exe_* identity set): from the
  /// cache, else read from /proc/PID/exe, else from the path, in both cases
  /// only when the opened file has e's identity.
  std::string elf_loader(const Event& e);

 private:
  struct Hash {
    size_t operator()(const ExeIdentity& id) const {
      return std::hash<uint64_t>()(id.ino * 0x9E3779B97F4A7C15ull ^ id.dev ^ (id.ctime_ns << 1));
    }
  };
  std::unordered_map<ExeIdentity, std::string, Hash> cache_;
};

}  // namespace lineage::events
