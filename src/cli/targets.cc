#include "cli/targets.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "output/sanitize.h"

namespace lineage::cli {

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

bool name_matches(const core::Process& p, const std::string& name, bool exact) {
  if (exact) {
    if (p.stat.comm == name) return true;
    return p.argv && !p.argv->empty() && base_name(p.argv->front()) == name;
  }
  if (p.stat.comm.find(name) != std::string::npos) return true;
  return p.argv && p.command_line().find(name) != std::string::npos;
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
  std::vector<size_t> matches;
  for (size_t i = 0; i < tree.size(); ++i) {
    const core::Process& p = tree.at(i);
    if (p.pid() == self_pid) continue;
    if (name_matches(p, spec.text, spec.exact)) matches.push_back(i);
  }
  if (matches.empty()) {
    return not_found(fmt::format("no process matches '{}'", output::escape_text(spec.text)));
  }
  return matches;
}

}  // namespace lineage::cli
