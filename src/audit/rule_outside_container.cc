// outside-container: a process tied to a container that runs in the host's
// pid and mount namespaces (pid 1's, or lineage's own where pid 1's links
// are denied): the shape of a container escape.
//   - its chain passes through a container runtime shim (containerd-shim*,
//     conmon, a long-lived runc/crun) that has a container below it (a
//     direct child in a pid or mount namespace other than the host's), yet
//     this process is in the host's pid and mount namespaces: nsenter into
//     pid 1's namespaces from a privileged container does this;
//   - or its cgroup is a container's (docker-<id>.scope, /docker/<id>,
//     cri-containerd-, crio-, libpod-, kubepods) while its pid and mount
//     namespaces are the host's.
// Not escapes: the shim itself and the runtime (runc during a container's
// start is briefly in the host's namespaces and the container's cgroup),
// `docker exec`'d processes (in the container's namespaces), containers with
// --pid=host (their own mount namespace).
#include <algorithm>

#include <fmt/format.h>

#include "audit/classify.h"
#include "audit/rules.h"

namespace lineage::audit {

namespace {

bool is_shim(std::string_view name) {
  return name.starts_with("containerd-shim") || name == "conmon" || name == "runc" || name == "crun";
}

bool is_runtime(std::string_view name) {
  return is_shim(name) || name == "containerd" || name == "dockerd" || name == "runc" || name == "crun" ||
         name == "docker-proxy" || name == "podman" || name == "catatonit";
}

std::string ns_text(std::string_view kind, const std::optional<uint64_t>& ino) {
  return ino ? fmt::format("{}:[{}]", kind, *ino) : std::string(kind) + ":[unknown]";
}

}  // namespace

void check_outside_container(const Scene& scene, size_t index, std::vector<Finding>& out) {
  const core::ProcessTree& tree = scene.tree();
  const core::Process& p = tree.at(index);
  if (p.pid() == 1 || is_runtime(exe_name(p))) return;

  // The cheap evidence first (the tree and the cgroup the table holds): a
  // shim above, or a container's cgroup. Only such a process has its
  // namespaces read.
  const auto up = tree.ancestors(index);
  const bool below_shim = std::any_of(up.begin(), up.end(), [&](size_t a) { return is_shim(exe_name(tree.at(a))); });
  std::string_view cgroup_id;
  std::string cgroup_line;
  if (p.cgroups) {
    for (const core::CgroupEntry& e : *p.cgroups) {
      std::string_view id = container_in_cgroup(e.path);
      if (id.empty()) continue;
      cgroup_id = id;
      cgroup_line = fmt::format("{}:{}:{}", e.hierarchy, e.controllers, e.path);
      break;
    }
  }
  if (!below_shim && cgroup_id.empty()) return;

  std::optional<uint64_t> host_pid = scene.reference_pid_ns(), host_mnt = scene.reference_mnt_ns();
  const core::Namespaces& ns = scene.namespaces(index);
  // Unknown namespaces (not readable, not read) are no evidence.
  if (!host_pid || !host_mnt || !ns.pid || !ns.mnt) return;
  if (*ns.pid != *host_pid || *ns.mnt != *host_mnt) return;

  Finding f;
  f.rule = "outside-container";
  f.severity = Severity::kCritical;
  f.process = p.key;

  // The chain: the nearest shim above with a container below it.
  for (size_t a : up) {
    const core::Process& shim = tree.at(a);
    if (!is_shim(exe_name(shim))) continue;
    for (size_t c : tree.children(a)) {
      const core::Process& init = tree.at(c);
      const core::Namespaces& init_ns = scene.namespaces(c);
      if (!init_ns.pid || !init_ns.mnt || (*init_ns.pid == *host_pid && *init_ns.mnt == *host_mnt)) continue;
      if (is_runtime(exe_name(init))) continue;
      f.related_pid = shim.pid();
      f.title = fmt::format("in the host's pid and mount namespaces below the container runtime {} (pid {})",
                            exe_name(shim), shim.pid());
      f.evidence.push_back(fmt::format("runtime shim pid {}: {}", shim.pid(), shim.exe ? shim.exe->path : shim.stat.comm));
      f.evidence.push_back(fmt::format("the container's init pid {} ({}) in {} {}", init.pid(), init.stat.comm,
                                       ns_text("pid", init_ns.pid), ns_text("mnt", init_ns.mnt)));
      break;
    }
    if (f.related_pid != 0) break;
  }

  // The cgroup: a container's, named in any hierarchy.
  if (f.title.empty() && !cgroup_id.empty()) {
    f.title = fmt::format("in container {}'s cgroup but in the host's pid and mount namespaces", cgroup_id.substr(0, 12));
  }
  if (f.title.empty()) return;
  f.evidence.push_back(fmt::format("this process: {} {}, the host's", ns_text("pid", ns.pid), ns_text("mnt", ns.mnt)));
  if (!cgroup_line.empty()) f.evidence.push_back("cgroup " + cgroup_line);
  out.push_back(std::move(f));
}

}  // namespace lineage::audit
