#include "procfs/complete.h"

#include <utility>

namespace lineage::procfs {

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
  if (got & core::kFieldStatus) seen.status = std::move(r.status);
  if (got & core::kFieldCmdline) {
    seen.argv = std::move(r.argv);
    seen.argv_truncated = r.argv_truncated;
  }
  if (got & core::kFieldExe) seen.exe = std::move(r.exe);
  if (got & core::kFieldCwd) seen.cwd = std::move(r.cwd);
  if (got & core::kFieldCgroup) seen.cgroups = std::move(r.cgroups);
  if (got & core::kFieldEnviron) seen.environ = std::move(r.environ);
  if (got & core::kFieldLoginUid) {
    seen.login_uid = r.login_uid;
    seen.session_id = r.session_id;
  }
  seen.read |= got;
  seen.unavailable |= r.unavailable & missing & ~seen.read;
  return true;
}

}  // namespace lineage::procfs
