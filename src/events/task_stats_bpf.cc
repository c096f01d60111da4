#include "events/task_stats_bpf.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "core/unique_fd.h"
#include "events/libbpf_util.h"
#include "task_stats.h"
#include "task_stats.skel.h"

namespace lineage::events {
namespace {

// Far above any pid_max (4 million): a bound on what one read may hold.
constexpr size_t kMaxRecords = 1u << 23;
constexpr int32_t kMaxPid = 1 << 22;  // PID_MAX_LIMIT on 64-bit

struct SkeletonDeleter {
  void operator()(task_stats_bpf* skel) const { task_stats_bpf__destroy(skel); }
};
struct LinkDeleter {
  void operator()(bpf_link* link) const { bpf_link__destroy(link); }
};

}  // namespace

struct TaskStatsBpf::State {
  std::unique_ptr<task_stats_bpf, SkeletonDeleter> skel;
  std::unique_ptr<bpf_link, LinkDeleter> link;
  std::string bytes;  // kept: its capacity is reused every refresh
  /// tgid -> 1 + index of its leader in the sample; 0: none. Indexed by
  /// pid (no hashing), kept and reset entry by entry between refreshes.
  std::vector<uint32_t> slot;
};

TaskStatsBpf::TaskStatsBpf(std::unique_ptr<State> s) : s_(std::move(s)) {}
TaskStatsBpf::~TaskStatsBpf() = default;

Result<std::unique_ptr<TaskStatsBpf>> TaskStatsBpf::open() {
  if (!in_initial_pid_ns()) return Error{ErrorKind::kInternal, "bpf task stats: not in the initial pid namespace"};
  std::string log;
  LibbpfLogCapture capture(&log);
  auto s = std::make_unique<State>();
  s->skel.reset(task_stats_bpf__open_and_load());
  if (!s->skel) return bpf_load_error("bpf task stats", "load", errno, log);
  s->link.reset(bpf_program__attach_iter(s->skel->progs.dump_tasks, nullptr));
  if (!s->link) return bpf_load_error("bpf task stats", "attach", errno, log);
  return std::unique_ptr<TaskStatsBpf>(new TaskStatsBpf(std::move(s)));
}

Result<std::vector<core::Process>> TaskStatsBpf::sample(uint64_t tick_ns) {
  UniqueFd iter(bpf_iter_create(bpf_link__fd(s_->link.get())));
  if (!iter.valid()) return Error{ErrorKind::kInternal, std::string("bpf task stats: iterator: ") + std::strerror(errno)};
  std::string& bytes = s_->bytes;
  bytes.clear();
  char buf[64 * 1024];
  for (;;) {
    ssize_t n = ::read(iter.get(), buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      // The kernel stops a read after a million objects with nothing to
      // show and answers EAGAIN: reading again resumes.
      if (errno == EINTR || errno == EAGAIN) continue;
      return Error{ErrorKind::kInternal, std::string("bpf task stats: read: ") + std::strerror(errno)};
    }
    if (bytes.size() + size_t(n) > kMaxRecords * sizeof(lineage_task_stat)) {
      return Error{ErrorKind::kInternal, "bpf task stats: too many tasks"};
    }
    bytes.append(buf, size_t(n));
  }
  const size_t count = bytes.size() / sizeof(lineage_task_stat);  // a torn tail is dropped
  std::vector<core::Process> out;
  std::vector<uint64_t> runtime;  // ns, same index as out
  std::vector<uint32_t>& slot = s_->slot;
  out.reserve(count);
  runtime.reserve(count);
  auto rec_at = [&](size_t i) {
    lineage_task_stat r;
    std::memcpy(&r, bytes.data() + i * sizeof r, sizeof r);
    return r;
  };
  for (size_t i = 0; i < count; ++i) {
    lineage_task_stat r = rec_at(i);
    if (r.tid != r.tgid || r.tgid <= 0 || r.tgid > kMaxPid) continue;
    core::Process& p = out.emplace_back();  // built in place: a Process is large
    p.stat.pid = r.tgid;
    p.stat.ppid = r.ppid;
    p.stat.flags = r.flags;
    p.stat.rss_pages = r.rss_pages;
    p.stat.start_ticks = r.start_boottime_ns / tick_ns;  // nsec_to_clock_t: floor, as /proc
    r.comm[LINEAGE_TASK_COMM_LEN - 1] = '\0';
    p.stat.comm = r.comm;
    p.key = {r.tgid, p.stat.start_ticks * tick_ns};
    p.read = core::kFieldStat;
    if (size_t(r.tgid) >= slot.size()) slot.resize(size_t(r.tgid) + 1, 0);
    slot[size_t(r.tgid)] = uint32_t(out.size());
    runtime.push_back(r.runtime_ns + r.dead_runtime_ns);
  }
  // Threads add to their process, in a second pass: pids wrap, so a
  // thread may come before its leader.
  for (size_t i = 0; i < count; ++i) {
    lineage_task_stat r = rec_at(i);
    if (r.tid == r.tgid || r.tgid <= 0 || size_t(r.tgid) >= slot.size()) continue;
    if (uint32_t at = slot[size_t(r.tgid)]; at != 0) runtime[at - 1] += r.runtime_ns;
  }
  for (size_t i = 0; i < out.size(); ++i) {
    out[i].stat.utime_ticks = runtime[i] / tick_ns;
    slot[size_t(out[i].pid())] = 0;  // clean for the next refresh
  }
  return out;
}

}  // namespace lineage::events
