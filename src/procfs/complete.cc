#include "procfs/complete.h"

#include <utility>

namespace lineage::procfs {

void take_fields(core::Process& to, core::Process&& from, core::FieldMask fields) {
  if (fields & core::kFieldStatus) to.status = std::move(from.status);
  if (fields & core::kFieldCmdline) {
    to.argv = std::move(from.argv);
    to.argv_truncated = from.argv_truncated;
  }
  if (fields & core::kFieldExe) to.exe = std::move(from.exe);
  if (fields & core::kFieldExeFile) to.exe_file = std::move(from.exe_file);
  if (fields & core::kFieldCwd) to.cwd = std::move(from.cwd);
  if (fields & core::kFieldCgroup) to.cgroups = std::move(from.cgroups);
  if (fields & core::kFieldNamespaces) to.ns = from.ns;
  if (fields & core::kFieldThreads) to.threads = std::move(from.threads);
  if (fields & core::kFieldEnviron) to.environ = std::move(from.environ);
  if (fields & core::kFieldLoginUid) {
    to.login_uid = from.login_uid;
    to.session_id = from.session_id;
  }
}

bool complete_from_proc(const ProcReader& reader, core::Process& seen, core::FieldMask missing) {
  auto read = reader.read(seen.key.pid, missing | core::kFieldStat);
  if (!read || !core::same_start(read->key.start_time_ns, seen.key.start_time_ns, reader.tick_ns())) return false;
  core::Process& r = *read;
  // Only what /proc gave replaces the event's word (a zombie has no exe
  // link: the event's path stays).
  const core::FieldMask got = r.read & missing;
  if (got & core::kFieldStat) {
    std::string comm = std::move(seen.stat.comm);
    seen.stat = std::move(r.stat);
    if (!comm.empty()) seen.stat.comm = std::move(comm);
  }
  take_fields(seen, std::move(r), got & ~core::kFieldStat);
  seen.read |= got;
  seen.unavailable |= r.unavailable & missing & ~seen.read;
  return true;
}

}  // namespace lineage::procfs
