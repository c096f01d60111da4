#include "core/process.h"

#include "core/event.h"

namespace lineage::core {

bool same_start(uint64_t a_ns, uint64_t b_ns, uint64_t tick_ns) {
  uint64_t diff = a_ns > b_ns ? a_ns - b_ns : b_ns - a_ns;
  return diff < tick_ns;
}

std::optional<std::string> Process::env(std::string_view key) const {
  if (!environ) return std::nullopt;
  for (const auto& entry : *environ) {
    if (entry.size() > key.size() && entry[key.size()] == '=' && entry.starts_with(key)) {
      return entry.substr(key.size() + 1);
    }
  }
  return std::nullopt;
}

std::string Process::command_line() const {
  if (!argv || argv->empty()) return "[" + stat.comm + "]";
  std::string out;
  for (const auto& arg : *argv) {
    if (!out.empty()) out += ' ';
    out += arg;
  }
  return out;
}

Process process_at_exec(const Event& e, const ProcessKey& key, int32_t ppid, uint64_t tick_ns) {
  Process p;
  p.key = key;
  p.stat.pid = key.pid;
  p.stat.comm = e.comm;
  p.stat.state = 'R';  // running: it is executing its new image
  p.stat.ppid = ppid;
  p.stat.num_threads = 1;  // exec leaves one thread
  if (tick_ns > 0) p.stat.start_ticks = key.start_time_ns / tick_ns;
  if (e.has_session_ids) {
    p.stat.sid = e.sid;
    p.stat.pgid = e.pgid;
    p.stat.tty_nr = static_cast<int32_t>(e.tty_nr);
    p.read |= kFieldStat;
  }
  if (e.has_login_uid) {
    p.login_uid = e.login_uid;
    p.read |= kFieldLoginUid;
  }
  if (!e.argv.empty() && e.argv_complete) {
    p.argv = e.argv;
    p.read |= kFieldCmdline;
  }
  if (!e.at_exec) return p;
  const AtExec& a = *e.at_exec;
  if (a.status) {
    p.status = a.status;
    p.read |= kFieldStatus;
  }
  if (a.exe) {
    p.exe = a.exe;
    p.read |= kFieldExe;
  }
  if (a.cwd) {
    p.cwd = a.cwd;
    p.read |= kFieldCwd;
  }
  if (a.cgroups) {
    p.cgroups = a.cgroups;
    p.read |= kFieldCgroup;
  }
  return p;
}

}  // namespace lineage::core
