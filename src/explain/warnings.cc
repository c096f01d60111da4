#include "explain/warnings.h"

#include <cstdlib>

#include <fmt/format.h>

#include "explain/narrative.h"
#include "explain/session.h"

namespace lineage::explain {
namespace {

struct Cap {
  int bit;
  const char* name;
};
// Capabilities that amount to root, or close to it.
constexpr Cap kDangerous[] = {{21, "CAP_SYS_ADMIN"}, {19, "CAP_SYS_PTRACE"}, {16, "CAP_SYS_MODULE"},
                              {17, "CAP_SYS_RAWIO"}, {1, "CAP_DAC_OVERRIDE"}, {2, "CAP_DAC_READ_SEARCH"},
                              {7, "CAP_SETUID"}, {6, "CAP_SETGID"}, {12, "CAP_NET_ADMIN"},
                              {39, "CAP_BPF"}};

// Among the sources of the target's own chain: one found through an
// orphan's session (explain/session.h) does not look after the orphan.
bool has_kind(const std::vector<Source>& sources, std::initializer_list<const char*> kinds) {
  for (const auto& s : sources) {
    if (via_session(s)) continue;
    for (const char* k : kinds) {
      if (s.kind == k) return true;
    }
  }
  return false;
}

// Capabilities act on the system only when held in the initial user
// namespace: a process in one of its own (unshare -Ur) may hold a full set
// that gives nothing outside. Unknown (a link denied) counts as effective.
bool caps_effective_on_host(const Context& ctx, const core::Process& t) {
  auto own = t.ns.user ? t.ns.user : ctx.reader.user_namespace(t.key);
  return !own || *own == ctx.reader.initial_user_namespace();
}

}  // namespace

bool in_world_writable_dir(std::string_view path) {
  for (std::string_view dir : {"/tmp/", "/var/tmp/", "/dev/shm/"}) {
    if (path.starts_with(dir)) return true;
  }
  return false;
}

std::vector<Warning> find_warnings(const Context& ctx, const WarningInputs& in) {
  std::vector<Warning> w;
  const core::Process& t = ctx.target();
  auto add = [&](const char* id, std::string message) { w.push_back({id, std::move(message)}); };
  if (t.is_kernel_thread()) return w;

  if (t.status && t.status->uid.effective == 0) add("running-as-root", "runs as root (euid 0)");
  if (t.status && t.status->uid.effective != 0 && t.status->cap_effective != 0) {
    std::string caps;
    for (const auto& c : kDangerous) {
      if (t.status->cap_effective & (uint64_t{1} << c.bit)) caps += (caps.empty() ? "" : ", ") + std::string(c.name);
    }
    if (!caps.empty() && caps_effective_on_host(ctx, t)) {
      add("dangerous-capabilities", "non-root but holds " + caps);
    }
  }
  if (t.exe && t.exe->deleted) {
    add("exe-deleted", fmt::format("its executable {} was deleted or replaced since it started", t.exe->path));
  }
  if (t.exe && in_world_writable_dir(t.exe->path)) {
    add("exe-world-writable", fmt::format("runs from {}, a world-writable directory", t.exe->path));
  }
  if (t.cwd && in_world_writable_dir(*t.cwd + "/")) {
    add("cwd-world-writable", fmt::format("working directory {} is world-writable", *t.cwd));
  }
  if (auto preload = t.env("LD_PRELOAD"); preload && !preload->empty()) {
    add("ld-preload", "LD_PRELOAD=" + *preload + " injects code into it");
  }
  if (in.listens_on_all_interfaces) add("listening-all-interfaces", "listens on all interfaces: " + in.listening_on);
  if (t.stat.state == 'Z') add("zombie", "is a zombie: exited, but its parent has not reaped it");
  if (t.stat.state == 'T' || t.stat.state == 't') add("stopped", "is stopped (SIGSTOP or a debugger)");
  if (in.zombie_children >= 5) {
    add("many-zombie-children", fmt::format("has {} zombie children it does not reap", in.zombie_children));
  }
  if (in.reused_parent_pid != 0) {
    add("pid-reused-in-chain", fmt::format("its parent pid {} now names a younger process: the real parent "
                                           "exited and the pid was reused",
                                           in.reused_parent_pid));
  }
  if (in.chain_truncated) {
    add("chain-truncated", fmt::format("the chain was cut at {} ancestors: an origin above may be missing",
                                       ctx.chain.size() - 1));
  }
  for (const auto& s : in.sources) {
    if (s.verified) continue;
    std::string launcher = s.pid > 0 ? fmt::format("pid {}", s.pid) : std::string("a process");
    add("unverified-launcher", fmt::format("{} claims to be {} (unverified: {})", launcher,
                                           launcher_name(s), s.unverified_reason));
  }
  uint64_t rss_kb = static_cast<uint64_t>(std::max<int64_t>(0, t.stat.rss_pages)) * ctx.sys.page_size / 1024;
  if (ctx.sys.mem_total_kb > 0 && rss_kb * 4 > ctx.sys.mem_total_kb) {
    add("high-memory", fmt::format("uses {} MiB, over a quarter of memory", rss_kb / 1024));
  }
  uint64_t elapsed = ctx.sys.boot_ns_now > t.key.start_time_ns ? ctx.sys.boot_ns_now - t.key.start_time_ns : 0;
  uint64_t cpu_ns = (t.stat.utime_ticks + t.stat.stime_ticks) * ctx.sys.tick_ns();
  if (elapsed > 60'000'000'000ull && cpu_ns * 10 > elapsed * 9) {
    add("high-cpu", fmt::format("has used {:.0f}% of a cpu on average since it started",
                                100.0 * static_cast<double>(cpu_ns) / static_cast<double>(elapsed)));
  }
  for (const auto& s : in.sources) {
    const std::string* restarts = s.find_detail("restarts");
    if (s.kind == "systemd" && restarts && std::atoi(restarts->c_str()) >= 3) {
      add("restarted-many-times", fmt::format("{} has been restarted {} times", s.name, *restarts));
    }
  }
  if (!has_kind(in.sources, {"systemd", "container", "supervisor", "cron", "at", "kernel"}) &&
      has_kind(in.sources, {"orphan"})) {
    add("no-supervisor", "nothing supervises it: if it dies, nothing will restart it");
  }
  return w;
}

}  // namespace lineage::explain
