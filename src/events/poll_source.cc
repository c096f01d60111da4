#include "events/poll_source.h"

#include <algorithm>
#include <thread>
#include <utility>

#include "core/clock.h"

namespace lineage::events {

namespace {

constexpr core::FieldMask kFields = core::kFieldStat | core::kFieldStatus | core::kFieldCmdline;

core::Event exit_event(int32_t pid, const auto& seen, uint64_t now) {
  core::Event e;
  e.kind = core::EventKind::kExit;
  e.time_ns = now;  // the scan that noticed; the real time is not known
  e.pid = e.tid = pid;
  e.start_time_ns = seen.start_time_ns;
  e.ppid = seen.ppid;
  e.exit_code = -1;  // unknown: only the parent's wait() sees it
  return e;
}

// An event of process p as a scan found it.
core::Event scanned(core::EventKind kind, uint64_t time_ns, const core::Process& p) {
  core::Event e;
  e.kind = kind;
  e.time_ns = time_ns;
  e.pid = e.tid = p.pid();
  e.start_time_ns = p.key.start_time_ns;
  e.ppid = p.ppid();
  e.comm = p.stat.comm;
  e.from_proc = true;
  if (p.status) {
    e.uid = p.status->uid.real;
    e.gid = p.status->gid.real;
    if (!p.status->ns_pids.empty()) e.ns_pid = p.status->ns_pids.back();
  }
  return e;
}

// The exec of that event: the image the process runs now.
core::Event image_now(core::Event exec, core::Process& p) {
  exec.kind = core::EventKind::kExec;
  if (p.argv) exec.argv = std::move(*p.argv), exec.argv_complete = !p.argv_truncated;
  return exec;
}

}  // namespace

PollEventSource::PollEventSource(const procfs::ProcReader& reader,
                                 std::chrono::milliseconds interval)
    : reader_(reader), interval_(interval) {
  previous_ = scan(nullptr);
  next_scan_ = std::chrono::steady_clock::now() + interval_;
}

PollEventSource::Table PollEventSource::scan(std::vector<core::Process>* processes) const {
  std::vector<core::Process> list = reader_.scan(kFields);
  Table table;
  table.reserve(list.size());
  for (const core::Process& p : list) {
    table[p.pid()] = {p.key.start_time_ns, p.ppid(), p.stat.comm, p.stat.start_code, p.stat.end_code,
                      p.stat.start_stack};
  }
  if (processes) *processes = std::move(list);
  return table;
}

Result<size_t> PollEventSource::poll(std::vector<core::Event>& out, int timeout_ms) {
  auto now = std::chrono::steady_clock::now();
  if (timeout_ms >= 0 && next_scan_ - now > std::chrono::milliseconds(timeout_ms)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(timeout_ms));
    return size_t{0};
  }
  std::this_thread::sleep_until(next_scan_);
  std::vector<core::Process> processes;
  Table table = scan(&processes);
  next_scan_ = std::chrono::steady_clock::now() + interval_;
  return diff(processes, table, out);
}

size_t PollEventSource::diff(std::vector<core::Process>& now, Table& table,
                             std::vector<core::Event>& out) {
  const size_t before = out.size();
  const uint64_t now_ns = core::boot_now_ns();
  // Vanished, or its pid now names another process (reuse): exited.
  for (const auto& [pid, seen] : previous_) {
    auto it = table.find(pid);
    if (it == table.end() || it->second.start_time_ns != seen.start_time_ns) {
      out.push_back(exit_event(pid, seen, now_ns));
      ++stats_.exits;
    }
  }
  // New processes, parents before children (oldest first). A known one
  // exec'd since the last scan when its image moved: an exec maps a new
  // text and a new stack (at random addresses with ASLR; the stack also
  // moves with the size of argv and the environment), a rename by
  // prctl(PR_SET_NAME) moves neither, and an exec of a program of the same
  // name is seen. Where lineage may not see where the image lies (the
  // ptrace read check: another user's process without root, a setuid or
  // undumpable one), a new name is the sign, as an exec sets it, and a
  // rename reads as one. A process found in the middle of an exec (its
  // new name set, its argv not yet) or exiting has no image at all
  // (start_code 0): it keeps what the last scan saw, name included, and
  // the next scan decides.
  auto visible = [](uint64_t start_code) { return start_code > 1; };
  std::vector<core::Process*> fresh;
  for (core::Process& p : now) {
    auto it = previous_.find(p.pid());
    if (it == previous_.end() || it->second.start_time_ns != p.key.start_time_ns) {
      fresh.push_back(&p);
      continue;
    }
    if (p.is_kernel_thread()) continue;
    const Seen& was = it->second;
    bool execd = false;
    if (visible(was.start_code) && visible(p.stat.start_code)) {
      execd = was.start_code != p.stat.start_code || was.end_code != p.stat.end_code ||
              was.start_stack != p.stat.start_stack;
    } else if (visible(was.start_code) && p.stat.start_code == 0) {
      Seen& kept = table[p.pid()];
      kept.comm = was.comm;
      kept.start_code = was.start_code, kept.end_code = was.end_code, kept.start_stack = was.start_stack;
    } else {
      execd = was.comm != p.stat.comm;
    }
    if (execd) {
      // Dated by the scan that noticed: the real time is not known.
      out.push_back(image_now(scanned(core::EventKind::kExec, now_ns, p), p));
      ++stats_.execs;
    }
  }
  std::sort(fresh.begin(), fresh.end(), [](const core::Process* a, const core::Process* b) {
    return std::pair(a->key.start_time_ns, a->pid()) < std::pair(b->key.start_time_ns, b->pid());
  });
  for (core::Process* p : fresh) {
    core::Event fork = scanned(core::EventKind::kFork, p->key.start_time_ns, *p);
    if (auto parent = table.find(fork.ppid); parent != table.end()) {
      fork.parent_start_time_ns = parent->second.start_time_ns;
    }
    out.push_back(fork);
    ++stats_.forks;
    // A kernel thread never execs. For anything else a scan cannot tell
    // whether the child exec'd: report the image it runs now.
    if (p->is_kernel_thread()) continue;
    out.push_back(image_now(std::move(fork), *p));
    ++stats_.execs;
  }
  previous_ = std::move(table);
  return out.size() - before;
}

}  // namespace lineage::events
