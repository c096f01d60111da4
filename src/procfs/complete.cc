#include "procfs/complete.h"

#include <utility>

namespace lineage::procfs {

bool complete_from_proc(const ProcReader& reader, core::Process& seen, core::FieldMask missing) {
  auto read = reader.read(seen.key.pid, missing | core::kFieldStat);
  if (!read || !core::same_start(read->key.start_time_ns, seen.key.start_time_ns, reader.tick_ns())) return false;
  core::Process& r = *read;
  if ((missing & core::kFieldStat) && (r.read & core::kFieldStat)) {
    std::string comm = std::move(seen.stat.comm);
    seen.stat = std::move(r.stat);
    if (!comm.empty()) seen.stat.comm = std::move(comm);
  }
  if (missing & core::kFieldStatus) seen.status = std::move(r.status);
  if (missing & core::kFieldCmdline) {
    seen.argv = std::move(r.argv);
    seen.argv_truncated = r.argv_truncated;
  }
  if (missing & core::kFieldExe) seen.exe = std::move(r.exe);
  if (missing & core::kFieldCwd) seen.cwd = std::move(r.cwd);
  if (missing & core::kFieldCgroup) seen.cgroups = std::move(r.cgroups);
  if (missing & core::kFieldEnviron) seen.environ = std::move(r.environ);
  if (missing & core::kFieldLoginUid) {
    seen.login_uid = r.login_uid;
    seen.session_id = r.session_id;
  }
  seen.read = (seen.read & ~missing) | (r.read & missing);
  seen.unavailable |= r.unavailable & missing;
  return true;
}

}  // namespace lineage::procfs
