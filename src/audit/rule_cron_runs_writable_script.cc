// cron-runs-writable-script: a job that a (verified) cron, at or anacron
// daemon started runs a file that others than the job's user can change:
// the file is world-writable or owned by another user, or its directory is
// world-writable without the sticky bit or owned by another user. Whoever
// can write there runs code as the job's user (often root) at the next run.
// The files are those the command names (its first word when absolute, and
// the script a shell or interpreter is given), judged from the command's
// text: nothing is guessed from words a shell would expand.
#include <fmt/format.h>

#include "audit/classify.h"
#include "audit/rules.h"

namespace lineage::audit {
namespace {

std::string dir_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return {};
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

void check_cron_runs_writable_script(const Scene& scene, size_t index, std::vector<Finding>& out) {
  const core::ProcessTree& tree = scene.tree();
  size_t parent = tree.parent(index);
  if (parent == core::ProcessTree::kNone) return;
  const core::Process& p = tree.at(index);
  const core::Process& cron = tree.at(parent);
  // The daemon itself forks a copy of itself per job: the job is below it.
  if (!is_cron_daemon(cron) || is_cron_daemon(p)) return;
  if (!p.status) return;  // the job's user is unknown
  std::vector<std::string> files = job_files(p);
  if (files.empty()) return;
  auto verdict = scene.verifier().check_exe(cron);
  if (!verdict.verified) return;

  uint32_t job_uid = p.status->uid.effective;
  std::vector<uint32_t> owners = {0, job_uid};
  std::vector<std::string> why;
  for (const std::string& file : files) {
    if (auto st = scene.stat_in_root(index, file, /*follow=*/true)) {
      std::string r = others_can_write(*st, /*sticky_counts=*/false, owners);
      if (!r.empty()) why.push_back(fmt::format("file {} is {}", file, r));
    }
    std::string dir = dir_of(file);
    if (auto st = scene.stat_in_root(index, dir, true)) {
      std::string r = others_can_write(*st, false, owners);
      if (!r.empty()) why.push_back(fmt::format("directory {} is {}", dir, r));
    }
  }
  if (why.empty()) return;

  Finding f;
  f.rule = "cron-runs-writable-script";
  f.severity = Severity::kHigh;
  f.process = p.key;
  f.related_pid = cron.pid();
  f.title = fmt::format("a {} job (uid {}) runs a file others can change", exe_name(cron), job_uid);
  f.evidence.push_back(fmt::format("started by {} (pid {}): {}", exe_name(cron), cron.pid(), verdict.text));
  f.evidence.push_back("command " + p.command_line());
  for (auto& w : why) f.evidence.push_back(std::move(w));
  out.push_back(std::move(f));
}

}  // namespace lineage::audit
