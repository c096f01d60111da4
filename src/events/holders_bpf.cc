#include "events/holders_bpf.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "core/unique_fd.h"
#include "events/holders_lskel.h"
#include "events/libbpf_util.h"
#include "holders.h"
#include "holders.skel.h"

namespace lineage::events {
namespace {

constexpr size_t kMaxRecords = 1u << 22;  // 96 MiB: far above any real answer
constexpr const char* kWhat = "bpf holders";

struct SkeletonDeleter {
  void operator()(holders_bpf* skel) const { holders_bpf__destroy(skel); }
};
struct LightDeleter {
  void operator()(lineage_holders_lskel* skel) const { lineage_holders_lskel_destroy(skel); }
};

// The loaded map and programs, from whichever skeleton loaded them.
struct Loaded {
  std::unique_ptr<lineage_holders_lskel, LightDeleter> light;
  std::unique_ptr<holders_bpf, SkeletonDeleter> skel;
  int wanted = -1;
  int files = -1, tasks = -1, vmas = -1;  // vmas -1: not loaded
};

// The light skeleton first (no BTF parsed here); where the kernel cannot
// run its loader (before 5.17), the libbpf skeleton, whose errors carry
// libbpf's log.
Result<Loaded> load(const std::vector<BpfHoldKey>& keys, bool maps, std::string& log) {
  Loaded l;
  const bool single = keys.size() == 1;
  int err = 0;
  l.light.reset(lineage_holders_lskel_load(single, single ? keys[0].dev : 0, single ? keys[0].ino : 0, &err));
  if (l.light) {
    l.wanted = lineage_holders_lskel_wanted_fd(l.light.get());
    l.files = lineage_holders_lskel_prog_fd(l.light.get(), 0);
    l.tasks = lineage_holders_lskel_prog_fd(l.light.get(), 1);
    l.vmas = lineage_holders_lskel_prog_fd(l.light.get(), 2);
    return l;
  }
  l.skel.reset(holders_bpf__open());
  if (!l.skel) return bpf_load_error(kWhat, "open", errno, log);
  if (!maps) bpf_program__set_autoload(l.skel->progs.holder_vmas, false);
  if (single) {
    l.skel->rodata->single = true;
    l.skel->rodata->single_dev = keys[0].dev;
    l.skel->rodata->single_ino = keys[0].ino;
  }
  if (err = holders_bpf__load(l.skel.get()); err != 0) return bpf_load_error(kWhat, "load", err, log);
  l.wanted = bpf_map__fd(l.skel->maps.wanted);
  l.files = bpf_program__fd(l.skel->progs.holder_files);
  l.tasks = bpf_program__fd(l.skel->progs.holder_tasks);
  if (maps) l.vmas = bpf_program__fd(l.skel->progs.holder_vmas);
  return l;
}

// Runs one iterator program to its end and appends its records. The kernel
// stops a read() after a million objects with nothing to show (EAGAIN):
// reading again resumes.
Result<bool> run_iterator(int prog_fd, std::vector<BpfHold>& out, std::string& log) {
  UniqueFd link(bpf_link_create(prog_fd, 0, BPF_TRACE_ITER, nullptr));
  if (!link.valid()) return bpf_load_error(kWhat, "attach", errno, log);
  UniqueFd iter(bpf_iter_create(link.get()));
  if (!iter.valid()) return bpf_load_error(kWhat, "create iterator", errno, log);
  std::string bytes;
  char buf[16 * 1024];
  for (;;) {
    ssize_t n = ::read(iter.get(), buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return Error{ErrorKind::kInternal, std::string(kWhat) + ": read: " + std::strerror(errno)};
    }
    if ((bytes.size() + size_t(n)) / sizeof(lineage_holder) + out.size() > kMaxRecords)
      return Error{ErrorKind::kInternal, std::string(kWhat) + ": too many holders"};
    bytes.append(buf, size_t(n));
  }
  const size_t count = bytes.size() / sizeof(lineage_holder);  // a torn tail is dropped
  for (size_t i = 0; i < count; ++i) {
    lineage_holder rec;
    std::memcpy(&rec, bytes.data() + i * sizeof rec, sizeof rec);
    if (rec.tgid <= 0) continue;
    out.push_back({rec.tgid, rec.fd, rec.dev, rec.mode, rec.inode});
  }
  return true;
}

// fds first (ascending), then cwd, root, exe, mmap.
int rank(int32_t fd) { return fd >= 0 ? fd : INT32_MAX - 4 - fd; }

}  // namespace

uint32_t kernel_dev(uint64_t st_dev) {
  return static_cast<uint32_t>((uint64_t{major(st_dev)} << 20) | (minor(st_dev) & 0xFFFFF));
}

Result<std::vector<BpfHold>> find_holders_bpf(const std::vector<BpfHoldKey>& keys, bool maps, int marker) {
  std::vector<BpfHold> holds;
  if (keys.empty()) return holds;
  if (keys.size() > LINEAGE_HOLDERS_MAX_KEYS)
    return Error{ErrorKind::kInternal, std::string(kWhat) + ": too many files to look for"};
  if (!in_initial_pid_ns())
    return Error{ErrorKind::kInternal, std::string(kWhat) + ": not in the initial pid namespace"};

  std::string log;
  LibbpfLogCapture capture(&log);
  auto loaded = load(keys, maps, log);
  if (!loaded) return loaded.error();
  const uint8_t one = 1;
  for (const BpfHoldKey& k : keys) {
    lineage_holder_key key{};
    key.dev = k.dev;
    key.ino = k.ino;
    if (bpf_map_update_elem(loaded->wanted, &key, &one, BPF_ANY) != 0)
      return bpf_load_error(kWhat, "fill map", errno, log);
  }
  for (int prog : {loaded->files, loaded->tasks}) {
    auto ran = run_iterator(prog, holds, log);
    if (!ran) return ran.error();
  }
  if (maps && marker >= 0) {
    const auto self = static_cast<int32_t>(::getpid());
    for (const BpfHold& h : holds) {
      if (h.pid == self && h.fd == marker) maps = (h.mode & LINEAGE_HOLD_MAPPED) != 0;
    }
  }
  if (maps) {
    auto ran = run_iterator(loaded->vmas, holds, log);
    if (!ran) return ran.error();
  }
  for (BpfHold& h : holds) h.mode &= 3;
  std::sort(holds.begin(), holds.end(), [](const BpfHold& a, const BpfHold& b) {
    if (a.pid != b.pid) return a.pid < b.pid;
    if (a.fd != b.fd) return rank(a.fd) < rank(b.fd);
    return a.inode < b.inode;
  });
  // Tasks sharing one fd table (CLONE_FILES without CLONE_THREAD) and
  // threads with their own repeat an fd; a file mapped in pieces repeats
  // mmap. One entry each (a mount's mmaps keep one per file).
  holds.erase(std::unique(holds.begin(), holds.end(),
                          [](const BpfHold& a, const BpfHold& b) {
                            return a.pid == b.pid && a.fd == b.fd && a.inode == b.inode && a.dev == b.dev;
                          }),
              holds.end());
  return holds;
}

}  // namespace lineage::events
