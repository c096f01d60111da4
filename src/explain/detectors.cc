#include "explain/detectors.h"

#include <algorithm>

namespace lineage::explain {
namespace {

// Among sources anchored at the same process, the more specific first.
int rank(const std::string& kind) {
  static const char* kOrder[] = {"kernel", "container", "supervisor", "cron", "at", "systemd", "tmux",
                                 "screen", "ssh", "shell", "terminal", "orphan", "init"};
  for (size_t i = 0; i < std::size(kOrder); ++i) {
    if (kind == kOrder[i]) return static_cast<int>(i);
  }
  return static_cast<int>(std::size(kOrder));
}

}  // namespace

bool passes_context_in_environment(const core::Process& p) {
  std::string_view exe = exe_name(p);
  if (exe == "sshd" || exe == "sshd-session" || exe == "tmux" || exe == "screen" || exe == "supervisord") {
    return true;
  }
  if (!p.argv || p.argv->empty()) return false;
  const auto& argv = *p.argv;
  if (exe.starts_with("python") && argv.size() > 1 && base_name(argv[1]) == "supervisord") return true;
  return exe.starts_with("node") && argv[0].starts_with("PM2 v");
}

void complete_chain(const procfs::ProcReader& reader, Chain& chain) {
  const auto& procs = chain.processes;
  for (size_t i = 0; i + 1 < procs.size(); ++i) {
    if (!passes_context_in_environment(procs[i])) continue;
    for (size_t j = i + 1; j + 1 < procs.size(); ++j) read_more(reader, chain, j, core::kFieldEnviron);
    return;
  }
}

std::vector<Source> detect_all(const Context& ctx) {
  std::vector<Source> out;
  for (Detector d : {detect_kernel, detect_container, detect_supervisor, detect_cron,
                     detect_multiplexer, detect_ssh, detect_shell, detect_systemd, detect_orphan}) {
    d(ctx, out);
  }
  if (out.empty()) detect_init(ctx, out);
  std::stable_sort(out.begin(), out.end(), [](const Source& a, const Source& b) {
    if (a.anchor != b.anchor) return a.anchor > b.anchor;
    return rank(a.kind) < rank(b.kind);
  });
  return out;
}

}  // namespace lineage::explain
