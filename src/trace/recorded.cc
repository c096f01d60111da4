#include "trace/recorded.h"

#include <algorithm>
#include <unordered_map>

#include "store/schema.h"

namespace lineage::trace {

TraceResult from_recorded(const std::vector<store::RecordedProcess>& rows,
                          const std::function<bool(const store::RecordedProcess&)>& running, uint64_t now_ns) {
  TraceResult r;
  r.source = "history";
  if (rows.empty()) return r;
  std::unordered_map<int64_t, size_t> index_of;  // history row -> index
  bool any_running = false;
  for (const store::RecordedProcess& rec : rows) {
    TracedProcess p;
    p.pid = rec.key.pid;
    p.start_time_ns = rec.key.start_time_ns;
    p.fork_ns = rec.fork_ns ? rec.fork_ns : rec.key.start_time_ns;
    p.ppid = rec.ppid;
    p.comm = rec.execs.empty() ? rec.fork_comm : rec.execs.back().comm;
    for (const store::RecordedExec& e : rec.execs) p.execs.push_back(Exec{e.time_ns, e.exe, e.argv});
    p.backfilled = (rec.flags & store::kFlagBackfilled) != 0;
    if (rec.exit_ns && !(rec.flags & store::kFlagExitUnseen)) {
      p.ending = Ending::kExited;
      p.exit_ns = *rec.exit_ns;
      p.wait_status = rec.status.value_or(-1);
    } else if (!rec.exit_ns && running && running(rec)) {
      p.ending = Ending::kRunning;
      any_running = true;
    } else {
      p.ending = Ending::kVanished;  // the recorder stopped, or the exit was not seen
    }
    size_t index = r.processes.size();
    if (index != 0) {
      auto parent = index_of.find(rec.parent_row);
      p.parent = parent == index_of.end() ? 0 : parent->second;
      r.processes[p.parent].children.push_back(index);
    }
    index_of[rec.row] = index;
    r.end_ns = std::max({r.end_ns, p.fork_ns, rec.exit_ns.value_or(0)});
    r.processes.push_back(std::move(p));
  }
  if (any_running) r.end_ns = std::max(r.end_ns, now_ns);
  const store::RecordedProcess& root = rows.front();
  const TracedProcess& traced_root = r.processes.front();
  if (!traced_root.execs.empty()) r.command = traced_root.execs.back().argv;
  if (r.command.empty()) r.command = {traced_root.comm};
  r.start_ns = traced_root.fork_ns;
  r.realtime_offset_ns = root.realtime_offset_ns;
  r.wait_status = traced_root.ending == Ending::kExited ? traced_root.wait_status : -1;
  return r;
}

}  // namespace lineage::trace
