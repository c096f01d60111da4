#include "events/socket_owners_bpf.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "core/unique_fd.h"
#include "events/libbpf_util.h"
#include "socket_owners.h"
#include "socket_owners.skel.h"

namespace lineage::events {
namespace {

// A holder record per (task, fd) on a wanted socket: even a pre-forked
// server with every worker holding every socket stays far below this.
constexpr size_t kMaxRecords = 1u << 20;

struct SkeletonDeleter {
  void operator()(socket_owners_bpf* skel) const { socket_owners_bpf__destroy(skel); }
};
struct LinkDeleter {
  void operator()(bpf_link* link) const { bpf_link__destroy(link); }
};

// Reads the iterator to its end. The kernel stops a read() after a million
// objects with nothing to show and answers EAGAIN: reading again resumes.
Result<std::string> read_all(int fd) {
  std::string bytes;
  char buf[16 * 1024];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0) return bytes;
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return Error{ErrorKind::kInternal, std::string("bpf socket owners: read: ") + std::strerror(errno)};
    }
    if (bytes.size() + size_t(n) > kMaxRecords * sizeof(lineage_socket_holder))
      return Error{ErrorKind::kInternal, "bpf socket owners: too many holders"};
    bytes.append(buf, size_t(n));
  }
}

}  // namespace

Result<std::vector<SocketHolder>> find_socket_holders_bpf(const std::vector<uint64_t>& inodes) {
  std::vector<SocketHolder> holders;
  if (inodes.empty()) return holders;
  if (!in_initial_pid_ns())
    return Error{ErrorKind::kInternal, "bpf socket owners: not in the initial pid namespace"};

  std::string log;
  LibbpfLogCapture capture(&log);
  std::unique_ptr<socket_owners_bpf, SkeletonDeleter> skel(socket_owners_bpf__open());
  if (!skel) return bpf_load_error("bpf socket owners", "open", errno, log);
  uint32_t entries = uint32_t(std::min<size_t>(inodes.size(), UINT32_MAX));
  if (int err = bpf_map__set_max_entries(skel->maps.wanted, entries); err != 0)
    return bpf_load_error("bpf socket owners", "size map", err, log);
  if (int err = socket_owners_bpf__load(skel.get()); err != 0) return bpf_load_error("bpf socket owners", "load", err, log);

  const uint8_t one = 1;
  for (uint64_t inode : inodes) {
    if (int err = bpf_map__update_elem(skel->maps.wanted, &inode, sizeof inode, &one, sizeof one, BPF_ANY);
        err != 0)
      return bpf_load_error("bpf socket owners", "fill map", err, log);
  }

  std::unique_ptr<bpf_link, LinkDeleter> link(bpf_program__attach_iter(skel->progs.find_holders, nullptr));
  if (!link) return bpf_load_error("bpf socket owners", "attach", errno, log);
  UniqueFd iter(bpf_iter_create(bpf_link__fd(link.get())));
  if (!iter.valid()) return bpf_load_error("bpf socket owners", "create iterator", errno, log);

  auto bytes = read_all(iter.get());
  if (!bytes) return bytes.error();
  const size_t count = bytes->size() / sizeof(lineage_socket_holder);  // a torn tail is dropped
  holders.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    lineage_socket_holder rec;
    std::memcpy(&rec, bytes->data() + i * sizeof rec, sizeof rec);
    if (rec.tgid <= 0) continue;
    holders.push_back({rec.tgid, rec.fd, rec.inode});
  }
  // One entry per (process, socket): threads with their own fd table and
  // tasks sharing one repeat it. Keep the lowest fd.
  std::sort(holders.begin(), holders.end(), [](const SocketHolder& a, const SocketHolder& b) {
    if (a.pid != b.pid) return a.pid < b.pid;
    if (a.inode != b.inode) return a.inode < b.inode;
    return a.fd < b.fd;
  });
  holders.erase(std::unique(holders.begin(), holders.end(),
                            [](const SocketHolder& a, const SocketHolder& b) {
                              return a.pid == b.pid && a.inode == b.inode;
                            }),
                holders.end());
  std::sort(holders.begin(), holders.end(), [](const SocketHolder& a, const SocketHolder& b) {
    return a.pid != b.pid ? a.pid < b.pid : a.fd < b.fd;
  });
  return holders;
}

}  // namespace lineage::events
