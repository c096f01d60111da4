#include "events/io_trace_bpf.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/syscall.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "events/libbpf_util.h"
#include "trace_io.h"
#include "trace_io.skel.h"

namespace lineage::events {
namespace {

struct SkeletonDeleter {
  void operator()(trace_io_bpf* skel) const { trace_io_bpf__destroy(skel); }
};
struct RingDeleter {
  void operator()(ring_buffer* ring) const { ring_buffer__free(ring); }
};

// This architecture's numbers (the kernel side has no table of its own);
// -1 where a syscall does not exist (open on arm64).
void set_syscall_numbers(trace_io_bpf* skel) {
  auto* ro = skel->rodata;
#ifdef SYS_open
  ro->nr_open = SYS_open;
#endif
  ro->nr_openat = SYS_openat;
#ifdef SYS_creat
  ro->nr_creat = SYS_creat;
#endif
#ifdef SYS_openat2
  ro->nr_openat2 = SYS_openat2;
#else
  ro->nr_openat2 = 437;  // the same on every architecture
#endif
  ro->nr_connect = SYS_connect;
  ro->nr_bind = SYS_bind;
  ro->nr_listen = SYS_listen;
#ifdef SYS_accept
  ro->nr_accept = SYS_accept;
#endif
  ro->nr_accept4 = SYS_accept4;
}

IoKind kind_of(uint32_t k, bool& ok) {
  ok = true;
  switch (k) {
    case LINEAGE_IO_OPEN: return IoKind::kOpen;
    case LINEAGE_IO_CONNECT: return IoKind::kConnect;
    case LINEAGE_IO_BIND: return IoKind::kBind;
    case LINEAGE_IO_LISTEN: return IoKind::kListen;
    case LINEAGE_IO_ACCEPT: return IoKind::kAccept;
    default: ok = false; return IoKind::kOpen;
  }
}

}  // namespace

struct IoTraceBpf::State {
  std::unique_ptr<trace_io_bpf, SkeletonDeleter> skel;
  std::unique_ptr<ring_buffer, RingDeleter> ring;  // after skel: freed first
  std::vector<IoCall>* sink = nullptr;
  uint64_t malformed = 0;

  static int on_record(void* self, void* data, size_t size) {
    static_cast<State*>(self)->handle(data, size);
    return 0;
  }
  void handle(const void* data, size_t size) {
    if (size < sizeof(lineage_io_event)) {
      ++malformed;
      return;
    }
    const auto* r = static_cast<const lineage_io_event*>(data);
    bool ok = false;
    IoKind kind = kind_of(r->kind, ok);
    if (!ok) {
      ++malformed;
      return;
    }
    IoCall c;
    c.time_ns = r->time_ns;
    c.pid = r->pid;
    c.tid = r->tid;
    c.start_time_ns = r->start_time_ns;
    c.kind = kind;
    c.result = r->ret;
    c.fd = r->fd;
    if (kind == IoKind::kOpen) {
      c.flags = r->flags;
      c.mode = r->mode;
      size_t n = std::min<size_t>(r->path_len, sizeof r->path);
      // path_len counts the NUL; a full buffer means the path was cut.
      c.path.assign(r->path, ::strnlen(r->path, n));
      c.path_cut = r->path_len == 0 || r->path_len >= sizeof r->path;
    } else {
      describe_sockaddr(r->addr, std::min<size_t>(r->addr_len, sizeof r->addr), c.family, c.address);
    }
    sink->push_back(std::move(c));
  }
};

IoTraceBpf::IoTraceBpf(std::unique_ptr<State> s) : s_(std::move(s)) {}
IoTraceBpf::~IoTraceBpf() = default;

Result<std::unique_ptr<IoTraceBpf>> IoTraceBpf::open(bool files, bool net) {
  if (!files && !net) return usage_error("nothing to trace: -e file and/or -e net");
  std::string log;
  LibbpfLogCapture capture(&log);
  auto s = std::make_unique<State>();
  s->skel.reset(trace_io_bpf__open());
  if (!s->skel) return bpf_load_error("bpf -e", "open", errno, log);
  trace_io_bpf* skel = s->skel.get();
  skel->rodata->trace_files = files;
  skel->rodata->trace_net = net;
  set_syscall_numbers(skel);
  if (int err = trace_io_bpf__load(skel); err != 0) return bpf_load_error("bpf -e", "load", err, log);
  if (int err = trace_io_bpf__attach(skel); err != 0) return bpf_load_error("bpf -e", "attach", err, log);
  s->ring.reset(ring_buffer__new(bpf_map__fd(skel->maps.io_events), &State::on_record, s.get(), nullptr));
  if (!s->ring) return bpf_load_error("bpf -e", "ring buffer", errno, log);
  return std::unique_ptr<IoTraceBpf>(new IoTraceBpf(std::move(s)));
}

Result<bool> IoTraceBpf::track(int32_t pid) {
  uint32_t key = static_cast<uint32_t>(pid);
  uint8_t one = 1;
  if (bpf_map__update_elem(s_->skel->maps.tracked, &key, sizeof key, &one, sizeof one, BPF_ANY) != 0) {
    return Error{ErrorKind::kInternal, std::string("bpf -e: cannot track the command: ") + std::strerror(errno)};
  }
  return true;
}

Result<size_t> IoTraceBpf::poll(std::vector<IoCall>& out, int timeout_ms) {
  size_t before = out.size();
  s_->sink = &out;
  int n = ring_buffer__poll(s_->ring.get(), timeout_ms);
  s_->sink = nullptr;
  if (n < 0 && n != -EINTR) {
    return Error{ErrorKind::kInternal, std::string("bpf -e: ring buffer poll: ") + std::strerror(-n)};
  }
  return out.size() - before;
}

uint64_t IoTraceBpf::lost() const {
  uint64_t total = s_->malformed;
  int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) return total;
  std::vector<uint64_t> per_cpu(size_t(cpus), 0);
  uint32_t key = 0;
  if (bpf_map__lookup_elem(s_->skel->maps.io_lost, &key, sizeof key, per_cpu.data(),
                           per_cpu.size() * sizeof(uint64_t), 0) == 0) {
    for (uint64_t n : per_cpu) total += n;
  }
  return total;
}

}  // namespace lineage::events
