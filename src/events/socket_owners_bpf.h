#pragma once
// Which processes hold a set of sockets, asked of the kernel: a BPF
// task_file iterator (bpf/socket_owners.bpf.c) walks every open file of
// every task in-kernel and reports the fds whose inode is one of ours. One
// read() instead of listing /proc/PID/fd for every process, so the cost no
// longer grows with a syscall per process. Needs root (CAP_BPF and
// CAP_PERFMON, or CAP_SYS_ADMIN); callers fall back to
// procfs::find_socket_owners when it fails.
#include <cstdint>
#include <vector>

#include "core/result.h"

namespace lineage::events {

struct SocketHolder {
  int32_t pid = 0;  // the process (tgid), in the initial pid namespace
  int32_t fd = 0;   // its lowest fd that holds the socket
  uint64_t inode = 0;
};

/// The processes holding any of these socket inodes (sockfs inode numbers,
/// as in SocketEntry::inode and "socket:[INODE]"), one entry per (pid,
/// inode), sorted by pid then fd. Empty input gives an empty answer without
/// touching the kernel. kPermission when the kernel refuses BPF; kInternal
/// with libbpf's message otherwise, and when the caller is not in the
/// initial pid namespace (the kernel's pids would not be the caller's).
Result<std::vector<SocketHolder>> find_socket_holders_bpf(const std::vector<uint64_t>& inodes);

}  // namespace lineage::events
