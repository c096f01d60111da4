#include "resolve/event_filter.h"

#include <sys/stat.h>

#include <algorithm>

#include <fmt/format.h>

#include "explain/context.h"
#include "output/sanitize.h"
#include "procfs/users.h"
#include "resolve/targets_ext.h"

namespace lineage::resolve {
namespace {

// The cgroup v2 directory of pid, as its id (the directory's inode, which
// is what the kernel reports as the cgroup id), when it is the process's
// own: a cgroup it shares with its parent (the runtime's shim) says nothing.
std::string cgroup_v2_path(const procfs::ProcReader& reader, int32_t pid, int32_t* ppid = nullptr) {
  auto proc = reader.read(pid, core::kFieldStat | core::kFieldCgroup);
  if (!proc || !proc->cgroups) return {};
  if (ppid) *ppid = proc->ppid();
  for (const auto& c : *proc->cgroups) {
    if (c.hierarchy == 0 && c.controllers.empty()) return c.path;
  }
  return {};
}

struct OwnCgroup {
  std::string path;  // empty: none of its own
  uint64_t id = 0;   // 0: the directory was not found
};

OwnCgroup own_cgroup(const procfs::ProcReader& reader, int32_t pid) {
  int32_t ppid = 0;
  std::string path = cgroup_v2_path(reader, pid, &ppid);
  if (path.empty() || path == "/" || path.find("..") != std::string::npos) return {};
  if (ppid > 0 && cgroup_v2_path(reader, ppid) == path) return {};
  OwnCgroup own{path, 0};
  for (const char* mount : {"/sys/fs/cgroup/unified", "/sys/fs/cgroup"}) {
    struct stat st {};
    if (::stat((std::string(mount) + path).c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      own.id = static_cast<uint64_t>(st.st_ino);
      break;
    }
  }
  return own;
}

}  // namespace

bool in_subtree(const core::LiveTree& tree, const core::LiveProcess& p, const std::vector<core::ProcessKey>& roots,
                uint64_t t) {
  for (const auto& root : roots) {
    if (p.key == root) return true;
  }
  for (const auto& a : tree.lineage(p.key, t)) {
    for (const auto& root : roots) {
      if (a == root) return true;
    }
  }
  return false;
}

Result<bool> parse_event_kinds(std::string_view kinds, EventFilter& f) {
  if (kinds.empty()) return true;
  f.fork = f.exec = f.exit = false;
  size_t pos = 0;
  while (pos <= kinds.size()) {
    size_t comma = kinds.find(',', pos);
    std::string_view name = kinds.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    if (name == "fork") f.fork = true;
    else if (name == "exec") f.exec = true;
    else if (name == "exit") f.exit = true;
    else {
      return Error{ErrorKind::kUsage,
                   fmt::format("unknown event '{}' (known: fork, exec, exit)", output::escape_text(name))};
    }
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return true;
}

Result<EventFilter> make_event_filter(const EventFilterSpec& o, const core::LiveTree& tree,
                                      const procfs::ProcReader& reader) {
  EventFilter f;
  f.reader = &reader;
  if (auto kinds = parse_event_kinds(o.kinds, f); !kinds) return kinds.error();
  for (int32_t pid : o.pids) {
    const core::LiveProcess* p = tree.find_pid(pid);
    if (p == nullptr) return Error{ErrorKind::kNotFound, fmt::format("no process with pid {}", pid)};
    f.subtrees.push_back(p->key);
  }
  if (!o.container.empty()) {
    auto inits = resolve::resolve_container(*f.reader, explain::Paths{}, o.container);
    if (!inits) return inits.error();
    f.container = true;
    for (int32_t pid : *inits) {
      const core::LiveProcess* p = tree.find_pid(pid);
      if (p == nullptr) continue;
      f.container_roots.push_back(p->key);
      // `docker exec` starts processes beside init (under the shim), not
      // below it: the cgroup says they are the container's.
      OwnCgroup own = own_cgroup(*f.reader, pid);
      if (own.id) f.container_cgroups.push_back(own.id);
      if (!own.path.empty()) f.container_paths.push_back(own.path);
    }
  }
  f.comms = o.comms;
  if (!o.user.empty()) {
    f.uid = procfs::UserNames::lookup(o.user);
    if (!f.uid) return Error{ErrorKind::kUsage, fmt::format("unknown user '{}'", output::escape_text(o.user))};
  }
  return f;
}

bool wanted(const EventFilter& f, const core::Event& e, const core::LiveTree& tree, const core::LiveProcess* p) {
  using core::EventKind;
  if ((e.kind == EventKind::kFork && !f.fork) || (e.kind == EventKind::kExec && !f.exec) ||
      (e.kind == EventKind::kExit && !f.exit)) {
    return false;
  }
  if (e.kind == EventKind::kLost) return true;  // losses are always shown
  if (f.uid && e.kind != EventKind::kExit && e.uid != *f.uid) return false;
  if (!f.comms.empty()) {
    std::string comm = p ? std::string(tree.comm_at(*p, e.time_ns)) : e.comm;
    bool any = false;
    for (const auto& c : f.comms) any |= comm.find(c) != std::string::npos;
    if (!any) return false;
  }
  if (!f.subtrees.empty() && (p == nullptr || !in_subtree(tree, *p, f.subtrees, e.time_ns))) return false;
  if (f.container) {
    if (p == nullptr) return false;
    const uint64_t* cg = p->cgroup_id.latest();
    uint64_t cgroup = e.cgroup_id ? e.cgroup_id : cg ? *cg : 0;
    bool by_cgroup = cgroup != 0 && std::find(f.container_cgroups.begin(), f.container_cgroups.end(), cgroup) !=
                                        f.container_cgroups.end();
    if (!by_cgroup && cgroup == 0 && e.kind == core::EventKind::kExec && !f.container_paths.empty()) {
      // A source without cgroup ids (netlink, poll): ask /proc.
      std::string path = cgroup_v2_path(*f.reader, e.pid);
      by_cgroup = std::find(f.container_paths.begin(), f.container_paths.end(), path) != f.container_paths.end();
    }
    if (!by_cgroup && !in_subtree(tree, *p, f.container_roots, e.time_ns)) return false;
  }
  return true;
}

std::vector<std::string> chain_names(const core::LiveTree& tree, const core::LiveProcess* p, uint64_t t) {
  std::vector<std::string> names;
  if (p == nullptr) return names;
  for (const auto& k : tree.lineage(p->key, t, 8)) {
    const core::LiveProcess* a = tree.find(k);
    std::string_view comm = a ? tree.comm_at(*a, t) : std::string_view();
    names.insert(names.begin(), comm.empty() ? std::to_string(k.pid) : std::string(comm));
  }
  std::string_view comm = tree.comm_at(*p, t);
  names.push_back(comm.empty() ? std::to_string(p->key.pid) : std::string(comm));
  return names;
}

}  // namespace lineage::resolve
