#include "explain/contexts.h"

#include <algorithm>

#include <fmt/format.h>

#include "explain/chain.h"
#include "explain/detectors.h"
#include "explain/narrative.h"
#include "explain/systemd_unit.h"

namespace lineage::explain {
namespace {

// Ancestor walks stop here: a forest deeper than this is hostile or broken,
// and what lies above is taken as its own root.
constexpr size_t kMaxWalk = 4096;

std::string cgroup_text(const core::Process& p) {
  std::string out;
  if (!p.cgroups) return out;
  for (const auto& c : *p.cgroups) out += fmt::format("{}:{}:{}\n", c.hierarchy, c.controllers, c.path);
  return out;
}

// The path systemd names units by: the unified hierarchy, else name=systemd.
std::string_view systemd_path(const core::Process& p) {
  if (!p.cgroups) return {};
  for (const auto& c : *p.cgroups) {
    if (c.controllers == "name=systemd") return c.path;
  }
  for (const auto& c : *p.cgroups) {
    if (c.hierarchy == 0 && c.controllers.empty()) return c.path;
  }
  return {};
}

std::string get(const Source& s, const char* key) {
  const std::string* v = s.find_detail(key);
  return v ? *v : std::string();
}

std::string key_text(const core::ProcessKey& k) { return fmt::format("{}@{}", k.pid, k.start_time_ns); }

// The group a source makes: a cron line's runs are one group; a session, a
// pane or a program is one per launcher.
std::string group_key(const Source& s, const core::ProcessKey& root) {
  const std::string& k = s.kind;
  if (k == "cron" && !get(s, "line").empty()) return fmt::format("cron:{}:{}", get(s, "crontab"), get(s, "line"));
  if (k == "at" && !get(s, "job").empty()) return "at:" + get(s, "job");
  if (k == "systemd") {
    std::string manager = get(s, "manager");
    if (manager == "user") return fmt::format("systemd:user:{}:{}", s.pid, s.name);
    return fmt::format("systemd:{}:{}", manager, s.name);
  }
  if (k == "container") {
    std::string id = get(s, "id");
    return "container:" + (id.empty() ? s.name : id);
  }
  if (k == "tmux" || k == "screen") return fmt::format("{}:{}:{}", k, s.pid, s.name);
  if (k == "supervisor") return fmt::format("supervisor:{}:{}:{}", get(s, "manager"), s.pid, get(s, "program"));
  return fmt::format("{}:{}", k, key_text(root));  // ssh session, cron run without its line
}

std::shared_ptr<const LaunchContext> process_context(const core::Process& root, const std::string& user) {
  auto c = std::make_shared<LaunchContext>();
  c->root = root.key;
  c->root_comm = root.stat.comm;
  c->name = root.stat.comm;
  if (root.pid() == 1) {
    c->kind = "init";
    c->key = "init";
    c->label = fmt::format("init ({})", root.stat.comm);
    return c;
  }
  c->kind = "process";
  c->key = "process:" + key_text(root.key);
  c->label = user.empty() ? fmt::format("{} (pid {})", root.stat.comm, root.pid())
                          : fmt::format("{} (pid {}) of {}", root.stat.comm, root.pid(), user);
  return c;
}

}  // namespace

bool is_group_kind(std::string_view kind) {
  for (std::string_view k : {"container", "supervisor", "cron", "at", "systemd", "tmux", "screen", "ssh"}) {
    if (kind == k) return true;
  }
  return false;
}

bool is_launcher(const core::Process& p) {
  if (passes_context_in_environment(p)) return true;
  std::string_view exe = exe_name(p);
  for (std::string_view d : {"cron", "crond", "anacron", "atd", "sshd", "sshd-session", "supervisord", "runsv",
                             "runsvdir", "s6-supervise", "conmon", "systemd"}) {
    if (exe == d) return true;
  }
  if (exe.starts_with("containerd-shim")) return true;
  if (exe == "busybox" && p.argv) {
    return std::any_of(p.argv->begin(), p.argv->end(), [](const std::string& a) { return base_name(a) == "crond"; });
  }
  return false;
}

ContextCache::ContextCache(const procfs::ProcReader& reader, const core::SystemInfo& sys, Paths paths,
                           const ExeVerifier* verifier)
    : reader_(reader), sys_(sys), paths_(std::move(paths)), verifier_(verifier) {
  auto k = std::make_shared<LaunchContext>();
  k->key = "kernel";
  k->kind = "kernel";
  k->name = "kernel";
  k->label = "the kernel (kernel threads)";
  kernel_ = std::move(k);
}

std::vector<const ProcessContext*> ContextCache::resolve(const core::ProcessTree& tree) {
  ++generation_;
  std::vector<const ProcessContext*> out(tree.size(), nullptr);
  std::vector<Entry*> entry_of(tree.size(), nullptr);
  std::vector<size_t> path;
  for (size_t i = 0; i < tree.size(); ++i) {
    // Up to the nearest ancestor already known (this call or a cached key),
    // then down again, each process computed after its parent.
    path.clear();
    Entry* known = nullptr;
    for (size_t j = i; j != core::ProcessTree::kNone && path.size() < kMaxWalk; j = tree.parent(j)) {
      if (entry_of[j] != nullptr) {
        known = entry_of[j];
        break;
      }
      auto it = entries_.find(tree.at(j).key);
      if (it != entries_.end()) {
        it->second.generation = generation_;
        entry_of[j] = &it->second;
        out[j] = &it->second.pc;
        known = &it->second;
        break;
      }
      path.push_back(j);
    }
    for (size_t n = path.size(); n-- > 0;) {
      size_t j = path[n];
      Entry* parent = n + 1 < path.size() ? entry_of[path[n + 1]] : known;
      Entry e = compute(tree, j, parent);
      e.generation = generation_;
      auto [it, inserted] = entries_.insert_or_assign(tree.at(j).key, std::move(e));
      entry_of[j] = &it->second;
      out[j] = &it->second.pc;
    }
  }
  std::erase_if(entries_, [&](const auto& kv) { return kv.second.generation != generation_; });
  return out;
}

ContextCache::Entry ContextCache::compute(const core::ProcessTree& tree, size_t index, const Entry* parent) {
  const core::Process& p = tree.at(index);
  Entry e;
  if (p.is_kernel_thread() || p.pid() == 2) {
    e.pc.context = kernel_;
    e.pc.user = "root";  // kernel threads run as uid 0
    return e;
  }
  // What a candidate test needs: the cgroup; the exe and argv only for a
  // process with children (whether it is a launcher).
  core::FieldMask fields = core::kFieldStat | core::kFieldStatus | core::kFieldCgroup;
  if (!tree.children(index).empty()) fields |= core::kFieldExe | core::kFieldCmdline;
  ++read_;
  auto facts = reader_.read(p.pid(), fields);
  const bool alive = facts && facts->key == p.key;
  if (alive) {
    users_.fill(*facts);
    e.pc.user = facts->user;
    e.cgroup = cgroup_text(*facts);
    e.launcher = !tree.children(index).empty() && is_launcher(*facts);
    if (auto unit = unit_from_cgroup(systemd_path(*facts))) e.pc.unit = unit->unit;
  }
  const size_t up = tree.parent(index);
  const bool candidate = parent == nullptr || up == core::ProcessTree::kNone || tree.at(up).pid() == 1 ||
                         parent->launcher || (alive && e.cgroup != parent->cgroup);
  if (candidate && alive && explain(p, e)) return e;
  if (parent != nullptr && up != core::ProcessTree::kNone && tree.at(up).pid() != 1) {
    // Inside its parent's context (or a candidate where nothing new was found).
    e.pc.context = parent->pc.context;
    e.pc.container = parent->pc.container;
    return e;
  }
  e.pc.context = process_context(p, e.pc.user);
  if (parent != nullptr && e.pc.container.empty()) e.pc.container = parent->pc.container;
  return e;
}

bool ContextCache::explain(const core::Process& p, Entry& e) {
  auto chain = build_chain(reader_, p.pid());
  if (!chain || chain->processes.back().key != p.key) return false;  // exited, pid reused
  ++explained_;
  e.pc.explained = true;
  complete_chain(reader_, *chain);
  for (auto& q : chain->processes) users_.fill(q);
  Context ctx{chain->processes, reader_, sys_, paths_, verifier_};
  std::vector<Source> sources = detect_all(ctx);
  chain->dirfds.clear();
  for (const auto& s : sources) {
    if (s.kind == "container" && e.pc.container.empty()) e.pc.container = s.name;
  }
  auto found = std::find_if(sources.begin(), sources.end(), [](const Source& s) { return is_group_kind(s.kind); });
  if (found == sources.end()) return false;
  const Source& s = *found;
  const core::Process& root = chain->processes[std::min(s.anchor, chain->processes.size() - 1)];
  auto c = std::make_shared<LaunchContext>();
  c->root = root.key;
  c->root_comm = root.stat.comm;
  c->key = group_key(s, root.key);
  c->kind = s.kind;
  c->name = s.name;
  c->label = describe(s);
  if (!s.verified) c->label += " (unverified: " + s.unverified_reason + ")";
  c->launcher_pid = s.pid;
  c->verified = s.verified;
  c->details = s.details;
  e.pc.context = std::move(c);
  return true;
}

}  // namespace lineage::explain
