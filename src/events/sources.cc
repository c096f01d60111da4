#include "events/sources.h"

#include <sys/stat.h>

#include "events/netlink_source.h"
#include "events/poll_source.h"
#ifdef LINEAGE_HAVE_BPF
#include "events/bpf_source.h"
#endif

namespace lineage::events {

Result<OpenedSource> open_source(const std::string& which, const procfs::ProcReader& reader,
                                 int poll_interval_ms, bool include_threads, bool include_environ) {
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
    options.include_environ = include_environ;
    options.view_pidns = pidns;
    auto bpf = BpfEventSource::open(options);
    if (bpf) {
      return OpenedSource{std::move(*bpf),
                          why + (own_pidns ? "bpf: loaded, pids of this pid namespace only" : "bpf: loaded")};
    }
    why += bpf.error().message + "; ";  // "bpf: STEP: ..."
    last = bpf.error();
#else
    (void)include_environ;
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
