#pragma once
// Which processes hold a set of files, asked of the kernel: BPF iterators
// (bpf/holders.bpf.c) walk every open file, every cwd, root and executable,
// and every file mapping of every task in-kernel, matching (device, inode).
// One read() per iterator instead of a directory listing, a stat() per fd
// and a maps file per process. Needs root (CAP_BPF and CAP_PERFMON, or
// CAP_SYS_ADMIN); callers fall back to procfs::scan_holders when it fails.
#include <cstdint>
#include <vector>

#include "core/result.h"

namespace lineage::events {

struct BpfHoldKey {
  uint32_t dev = 0;  // kernel dev_t of the superblock: major << 20 | minor
  uint64_t ino = 0;  // 0: every file of dev
};

struct BpfHold {
  int32_t pid = 0;    // tgid, in the initial pid namespace
  int32_t fd = 0;     // >= 0 an fd, else LINEAGE_HOLD_* (bpf/holders.h)
  uint32_t dev = 0;   // kernel dev_t
  uint32_t mode = 0;  // fds: 1 read, 2 write, 3 both (bit 4: the file is mapped)
  uint64_t inode = 0;
};

inline constexpr int32_t kHoldCwd = -1, kHoldRoot = -2, kHoldExe = -3, kHoldMmap = -4;

/// The kernel's dev_t of a userspace st_dev (MKDEV of its major and minor).
uint32_t kernel_dev(uint64_t st_dev);

/// Every hold of a file matching one of keys, one entry per (pid, fd) and
/// per (pid, cwd|root|exe|mmap), sorted by pid, then fds, cwd, root, exe,
/// mmap. Mappings are walked only with `maps`; with `marker` (an fd of this
/// process on the one file asked about), not when the kernel says nobody
/// maps that file (the walk of every task's mappings is most of the cost).
/// Empty keys: empty answer, the kernel untouched. kPermission when the
/// kernel refuses BPF; kInternal with libbpf's message otherwise, and
/// outside the initial pid namespace.
Result<std::vector<BpfHold>> find_holders_bpf(const std::vector<BpfHoldKey>& keys, bool maps, int marker = -1);

}  // namespace lineage::events
