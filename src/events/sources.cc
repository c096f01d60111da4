#include "events/sources.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "core/unique_fd.h"
#include "events/netlink_source.h"
#include "events/poll_source.h"
#include "procfs/parsers.h"
#ifdef LINEAGE_HAVE_BPF
#include "events/bpf_source.h"
#endif

namespace lineage::events {
namespace {

#ifdef LINEAGE_HAVE_BPF
// The initial cgroup namespace's inode (PROC_CGROUP_INIT_INO).
constexpr uint64_t kInitialCgroupNamespace = 0xEFFFFFFB;

// Which cgroup lines exec records carry, as lineage's own /proc/self/cgroup
// names the hierarchies: "name=systemd" (a hybrid or legacy host) and the
// unified one. In a cgroup namespace of its own lineage's /proc shows paths
// below that namespace's root, not the kernel's: then none.
void cgroup_view(const procfs::ProcReader& reader, BpfEventSource::Options& o) {
  struct stat ns {};
  o.cgroup_paths = ::stat("/proc/self/ns/cgroup", &ns) != 0 || ns.st_ino == kInitialCgroupNamespace;
  UniqueFd self(::open((reader.root() + "/self").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  std::string text;
  if (!self.valid() ||
      procfs::read_file_at(self.get(), "cgroup", text, 64 * 1024, nullptr, true) != procfs::ReadError::kNone) {
    o.cgroup_paths = false;
    return;
  }
  o.unified_hierarchy = false;
  for (const auto& line : procfs::parse_cgroup(text)) {
    if (line.controllers == "name=systemd") o.systemd_hierarchy = line.hierarchy;
    if (line.hierarchy == 0 && line.controllers.empty()) o.unified_hierarchy = true;
  }
}
#endif

}  // namespace

Result<OpenedSource> open_source(const std::string& which, const procfs::ProcReader& reader,
                                 int poll_interval_ms, bool include_threads, bool exec_evidence,
                                 std::function<bool(std::string_view)> keep_environ) {
  std::string why;
  bool any = which == "auto";
  // In a container's pid namespace /proc shows the container's pids: eBPF
  // translates to them, the proc connector serves only the initial one.
  const uint64_t pidns = reader.pid_namespace();
  const bool own_pidns = pidns != procfs::ProcReader::kInitialPidNamespace;
  struct stat user_ns {};
  const bool own_userns = ::stat("/proc/self/ns/user", &user_ns) == 0 &&
                          user_ns.st_ino != procfs::ProcReader::kInitialUserNamespace;
  Error last{ErrorKind::kInternal, "no event source"};
  if (any || which == "bpf") {
#ifdef LINEAGE_HAVE_BPF
    BpfEventSource::Options options;
    options.include_threads = include_threads;
    options.include_environ = exec_evidence;
    options.keep_environ = std::move(keep_environ);
    options.include_paths = exec_evidence;
    options.view_pidns = pidns;
    cgroup_view(reader, options);
    auto bpf = BpfEventSource::open(options);
    if (bpf) {
      return OpenedSource{std::move(*bpf),
                          why + (own_pidns ? "bpf: loaded, pids of this pid namespace only" : "bpf: loaded")};
    }
    why += bpf.error().message + "; ";  // "bpf: STEP: ..."
    last = bpf.error();
#else
    (void)exec_evidence;
    (void)keep_environ;
    why += "bpf: not built in; ";
    last = Error{ErrorKind::kInternal, "this lineage was built without eBPF support"};
#endif
    if (!any) return last;
  }
  if ((any || which == "netlink") && (own_pidns || own_userns)) {
    // The kernel ignores a subscription from outside the initial pid and
    // user namespaces: the socket would stay silent, nothing be recorded.
    const std::string no = std::string("the proc connector reports nothing to a process outside the initial ") +
                           (own_pidns ? "pid" : "user") + " namespace";
    why += "netlink: " + no + "; ";
    if (!any) return Error{ErrorKind::kUsage, "netlink: " + no + " (this one is in a container's)"};
  } else if (any || which == "netlink") {
    auto nl = NetlinkEventSource::open(reader, include_threads);
    if (nl) return OpenedSource{std::move(*nl), why + "netlink: proc connector"};
    why += "netlink: " + nl.error().message + "; ";
    last = nl.error();
    if (!any) return last;
  }
  auto poll = std::make_unique<PollEventSource>(reader, std::chrono::milliseconds(poll_interval_ms));
  return OpenedSource{std::move(poll),
                      why + "poll: scanning /proc every " + std::to_string(poll_interval_ms) +
                          " ms, processes shorter than that are missed" +
                          (include_threads ? std::string(", threads are not reported") : std::string())};
}

}  // namespace lineage::events
