#include "act/kill_plan.h"

#include <signal.h>

#include <algorithm>
#include <charconv>
#include <set>
#include <tuple>
#include <unordered_set>

#include <fmt/format.h>

namespace lineage::act {

using core::ProcessTree;

const char* to_string(Scope scope) {
  switch (scope) {
    case Scope::kTree: return "tree";
    case Scope::kChildren: return "children";
    case Scope::kGroup: return "group";
    case Scope::kSession: return "session";
  }
  return "?";
}

namespace {

Identity identity_of(const core::Process& p) { return {p.pid(), p.stat.start_ticks}; }

// Orders indices top-down: by depth in the tree (a parent is always
// shallower than its child), then pid.
void order_top_down(const ProcessTree& tree, std::vector<size_t>& list) {
  std::vector<std::pair<size_t, size_t>> keyed;  // (depth, index)
  keyed.reserve(list.size());
  for (size_t i : list) keyed.emplace_back(tree.ancestors(i).size(), i);
  std::sort(keyed.begin(), keyed.end(), [&](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first < b.first;
    return tree.at(a.second).pid() < tree.at(b.second).pid();
  });
  for (size_t k = 0; k < keyed.size(); ++k) list[k] = keyed[k].second;
}

// Every process below the roots (not the roots), depth first, no recursion.
template <class Visit>
void walk_below(const ProcessTree& tree, const std::vector<size_t>& roots, Visit visit) {
  std::vector<bool> seen(tree.size(), false);
  std::vector<size_t> stack;
  for (size_t r : roots) {
    seen[r] = true;
    stack.push_back(r);
  }
  while (!stack.empty()) {
    size_t i = stack.back();
    stack.pop_back();
    for (size_t c : tree.children(i)) {
      if (seen[c]) continue;
      seen[c] = true;
      visit(c);
      stack.push_back(c);
    }
  }
}

bool in_scope_by_id(const core::Process& p, const Anchor& anchor) {
  if (p.is_kernel_thread()) return false;  // pgid and sid 0: never in a user's group
  if (anchor.scope == Scope::kGroup) return p.stat.pgid == anchor.pgid;
  if (anchor.scope == Scope::kSession) return p.stat.sid == anchor.sid;
  return false;
}

}  // namespace

Anchor make_anchor(const ProcessTree& tree, size_t target, Scope scope) {
  const core::Process& p = tree.at(target);
  return Anchor{scope, identity_of(p), p.stat.pgid, p.stat.sid};
}

std::vector<size_t> select_members(const ProcessTree& tree, const Anchor& anchor, int32_t self_pid) {
  std::vector<size_t> out;
  if (anchor.scope == Scope::kGroup || anchor.scope == Scope::kSession) {
    for (size_t i = 0; i < tree.size(); ++i) {
      if (tree.at(i).pid() != self_pid && in_scope_by_id(tree.at(i), anchor)) out.push_back(i);
    }
  } else {
    size_t target = tree.find(anchor.target.pid);
    if (target == ProcessTree::kNone || identity_of(tree.at(target)) != anchor.target) return out;
    if (anchor.scope == Scope::kTree && anchor.target.pid != self_pid) out.push_back(target);
    walk_below(tree, {target}, [&](size_t i) {
      if (tree.at(i).pid() != self_pid) out.push_back(i);
    });
  }
  order_top_down(tree, out);
  return out;
}

std::vector<size_t> new_members(const ProcessTree& tree, const Anchor& anchor, const std::vector<Identity>& held,
                                int32_t self_pid) {
  std::set<std::pair<int32_t, uint64_t>> held_set;
  for (const Identity& id : held) held_set.emplace(id.pid, id.start_ticks);
  auto is_held = [&](const core::Process& p) { return held_set.count({p.pid(), p.stat.start_ticks}) != 0; };
  std::vector<size_t> out;
  if (anchor.scope == Scope::kGroup || anchor.scope == Scope::kSession) {
    for (size_t i = 0; i < tree.size(); ++i) {
      const core::Process& p = tree.at(i);
      if (p.pid() != self_pid && in_scope_by_id(p, anchor) && !is_held(p)) out.push_back(i);
    }
  } else {
    std::vector<size_t> roots;
    for (size_t i = 0; i < tree.size(); ++i) {
      if (is_held(tree.at(i)) || identity_of(tree.at(i)) == anchor.target) roots.push_back(i);
    }
    walk_below(tree, roots, [&](size_t i) {
      const core::Process& p = tree.at(i);
      if (p.pid() != self_pid && !is_held(p)) out.push_back(i);
    });
  }
  order_top_down(tree, out);
  return out;
}

std::vector<Refused> refusals(const ProcessTree& tree, const std::vector<size_t>& members, size_t target,
                              int32_t self_pid) {
  std::unordered_set<size_t> ancestors;
  size_t self = tree.find(self_pid);
  if (self != ProcessTree::kNone) {
    for (size_t a : tree.ancestors(self)) ancestors.insert(a);
  }
  std::vector<Refused> out;
  if (tree.at(target).pid() == self_pid) out.push_back({target, Refusal::kSelf});
  for (size_t i : members) {
    const core::Process& p = tree.at(i);
    if (p.pid() == 1) {
      out.push_back({i, Refusal::kInit});
    } else if (p.is_kernel_thread()) {
      out.push_back({i, Refusal::kKernelThread});
    } else if (ancestors.count(i) != 0) {
      out.push_back({i, Refusal::kAncestor});
    }
  }
  return out;
}

std::string describe(Refusal why) {
  switch (why) {
    case Refusal::kInit: return "init (pid 1)";
    case Refusal::kKernelThread: return "a kernel thread";
    case Refusal::kSelf: return "lineage itself";
    case Refusal::kAncestor: return "an ancestor of lineage (the shell or session it runs in)";
  }
  return "?";
}

namespace {

struct SignalName {
  const char* name;
  int number;
};
constexpr SignalName kSignals[] = {
    {"HUP", SIGHUP},     {"INT", SIGINT},       {"QUIT", SIGQUIT},   {"ILL", SIGILL},     {"TRAP", SIGTRAP},
    {"ABRT", SIGABRT},   {"IOT", SIGIOT},       {"BUS", SIGBUS},     {"FPE", SIGFPE},     {"KILL", SIGKILL},
    {"USR1", SIGUSR1},   {"SEGV", SIGSEGV},     {"USR2", SIGUSR2},   {"PIPE", SIGPIPE},   {"ALRM", SIGALRM},
    {"TERM", SIGTERM},   {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD},   {"CLD", SIGCHLD},    {"CONT", SIGCONT},
    {"STOP", SIGSTOP},   {"TSTP", SIGTSTP},     {"TTIN", SIGTTIN},   {"TTOU", SIGTTOU},   {"URG", SIGURG},
    {"XCPU", SIGXCPU},   {"XFSZ", SIGXFSZ},     {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH},
    {"IO", SIGIO},       {"POLL", SIGPOLL},     {"PWR", SIGPWR},     {"SYS", SIGSYS},
};

std::optional<int> parse_number(std::string_view text) {
  int n = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return n;
}

}  // namespace

std::optional<int> parse_signal(std::string_view text) {
  if (!text.empty() && text.front() >= '0' && text.front() <= '9') {
    auto n = parse_number(text);
    if (!n || *n < 1 || *n > SIGRTMAX) return std::nullopt;
    return n;
  }
  std::string upper(text.size(), ' ');
  std::transform(text.begin(), text.end(), upper.begin(),
                 [](char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; });
  std::string_view name = upper;
  if (name.starts_with("SIG")) name.remove_prefix(3);
  for (const SignalName& s : kSignals) {
    if (name == s.name) return s.number;
  }
  // RTMIN, RTMIN+N, RTMAX, RTMAX-N (as kill -l writes them).
  for (auto [prefix, base, sign] : {std::tuple{"RTMIN", SIGRTMIN, 1}, std::tuple{"RTMAX", SIGRTMAX, -1}}) {
    std::string_view p = prefix;
    if (!name.starts_with(p)) continue;
    std::string_view rest = name.substr(p.size());
    if (rest.empty()) return base;
    if (rest.front() != (sign > 0 ? '+' : '-')) return std::nullopt;
    auto n = parse_number(rest.substr(1));
    if (!n || *n < 0 || *n > SIGRTMAX - SIGRTMIN) return std::nullopt;
    return base + sign * *n;
  }
  return std::nullopt;
}

std::string signal_name(int sig) {
  for (const SignalName& s : kSignals) {
    if (s.number == sig) return s.name;
  }
  if (sig == SIGRTMIN) return "RTMIN";
  if (sig > SIGRTMIN && sig <= SIGRTMAX) return fmt::format("RTMIN+{}", sig - SIGRTMIN);
  return std::to_string(sig);
}

}  // namespace lineage::act
