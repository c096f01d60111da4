#include "resolve/targets.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "output/sanitize.h"

namespace lineage::resolve {

bool looks_like_pid(const std::string& text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

Result<int32_t> parse_pid(const std::string& text) {
  constexpr int32_t kPidMaxLimit = 4194304;
  int32_t pid = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), pid);
  if (!looks_like_pid(text) || ec != std::errc() || ptr != text.data() + text.size() || pid <= 0 ||
      pid > kPidMaxLimit) {
    return usage_error(fmt::format("invalid pid '{}': expected a number from 1 to {}",
                                   output::escape_text(text), kPidMaxLimit));
  }
  return pid;
}

namespace {

std::string_view base_name(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

enum class Match { kNone, kOwnName, kCommandLineOnly };

// How p matches: by its own name (comm, argv[0]'s base name) or only
// somewhere in its command line (a wrapper that carries the name as an
// argument: `timeout 10 lineage why sleep`).
Match name_matches(const core::Process& p, const std::string& name, bool exact) {
  std::string_view argv0 = p.argv && !p.argv->empty() ? base_name(p.argv->front()) : std::string_view();
  if (exact) return p.stat.comm == name || argv0 == name ? Match::kOwnName : Match::kNone;
  if (p.stat.comm.find(name) != std::string::npos || argv0.find(name) != std::string_view::npos) {
    return Match::kOwnName;
  }
  return p.argv && p.command_line().find(name) != std::string::npos ? Match::kCommandLineOnly : Match::kNone;
}

// Our own ancestors in the snapshot (bounded by the tree's walk).
std::vector<int32_t> ancestors_of(const core::ProcessTree& tree, int32_t self_pid) {
  std::vector<int32_t> pids;
  size_t self = tree.find(self_pid);
  if (self == core::ProcessTree::kNone) return pids;
  for (size_t i : tree.ancestors(self)) pids.push_back(tree.at(i).pid());
  return pids;
}

}  // namespace

Result<std::vector<size_t>> resolve_target(const core::ProcessTree& tree, const TargetSpec& spec,
                                           int32_t self_pid) {
  if (is_pid_target(spec)) {
    auto pid = parse_pid(spec.text);
    if (!pid) return pid.error();
    size_t index = tree.find(*pid);
    if (index == core::ProcessTree::kNone) return not_found(fmt::format("no process with pid {}", *pid));
    return std::vector<size_t>{index};
  }
  if (spec.text.empty()) return usage_error("empty process name");
  const std::vector<int32_t> ours = ancestors_of(tree, self_pid);
  std::vector<size_t> matches;
  for (size_t i = 0; i < tree.size(); ++i) {
    const core::Process& p = tree.at(i);
    if (p.pid() == self_pid) continue;
    Match m = name_matches(p, spec.text, spec.exact);
    if (m == Match::kNone) continue;
    bool ancestor = std::find(ours.begin(), ours.end(), p.pid()) != ours.end();
    if (ancestor && m == Match::kCommandLineOnly) continue;
    matches.push_back(i);
  }
  if (matches.empty()) {
    return not_found(fmt::format("no process matches '{}'", output::escape_text(spec.text)));
  }
  return matches;
}

}  // namespace lineage::resolve
