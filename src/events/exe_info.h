#pragma once
// What an exec'd file is, beyond its path: its identity (device, inode,
// ctime: a replaced binary shows as a new identity under the same path) and
// the dynamic loader an ELF asks for (PT_INTERP; none for a static binary).
// The loader is read once per distinct file and cached by identity, so a
// build that runs cc1 ten thousand times reads its ELF header once.
//
// The files are named by processes anyone may start, and lineage runs as
// root: a loader is read only from local disk filesystems (a FUSE or
// network file could stall the event loop), through an O_PATH handle
// checked to be a regular file of the expected identity before it is
// opened for reading (a device node swapped in is never opened).
#include <cstdint>
#include <chrono>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/event.h"

namespace lineage::events {

struct ExeIdentity {
  uint64_t dev = 0, ino = 0, ctime_ns = 0;
  uint64_t mount_id = 0;  // statx's mount id; 0 when unknown
};

/// <proc_root>/PID/exe as statx(2) sees the file itself, from cached
/// attributes (AT_STATX_DONT_SYNC: a FUSE server is not asked); a zero
/// identity when the process is gone or the link is unreadable.
ExeIdentity exe_identity(const std::string& proc_root, int32_t pid);

/// The PT_INTERP path of the ELF open at fd, "" when it has none (static,
/// not an ELF) or the header is malformed. Reads at most a few KiB.
std::string elf_interpreter(int fd);

/// Local disk and memory filesystems, by super block magic / by the type
/// name of /proc/self/mountinfo.
bool local_filesystem(uint64_t magic);
bool local_filesystem(std::string_view type);

/// Mount id -> filesystem type, from /proc/self/mountinfo, re-read at most
/// once a second when an id is unknown.
class MountTypes {
 public:
  std::string_view type(uint64_t mount_id);

 private:
  void load();
  std::unordered_map<uint64_t, std::string> types_;
  std::chrono::steady_clock::time_point loaded_{};
};

class InterpreterCache {
 public:
  static constexpr size_t kMaxEntries = 4096;

  /// The loader of the exec'd file of e (e.exe_* identity set), when
  /// local_fs says its filesystem is a local one: from the cache, else read
  /// from /proc/PID/exe, else from the path, only when the file opened has
  /// e's inode and ctime.
  std::string elf_loader(const core::Event& e, bool local_fs);

 private:
  struct Key {
    uint64_t ino = 0, ctime_ns = 0;
    bool operator==(const Key&) const = default;
  };
  struct Hash {
    size_t operator()(const Key& k) const { return std::hash<uint64_t>()(k.ino * 0x9E3779B97F4A7C15ull ^ k.ctime_ns); }
  };
  std::unordered_map<Key, std::string, Hash> cache_;
};

}  // namespace lineage::events
