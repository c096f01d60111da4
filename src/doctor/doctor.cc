#include "doctor/doctor.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "events/sources.h"
#include "output/sanitize.h"
#include "procfs/reader.h"
#include "store/history.h"

namespace lineage::doctor {
namespace {

constexpr unsigned long long kCgroup2Magic = 0x63677270;

std::string read_small(const std::string& path, size_t cap = 1 << 20) {
  std::string out;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return out;
  char buf[8192];
  ssize_t n;
  while (out.size() < cap && (n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

struct Cap {
  int bit;
  const char* name;
  const char* use;
};
constexpr Cap kCaps[] = {
    {21, "CAP_SYS_ADMIN", "eBPF on older kernels, the proc connector, other users' /proc"},
    {39, "CAP_BPF", "loading the eBPF programs"},
    {38, "CAP_PERFMON", "attaching the eBPF tracepoints"},
    {19, "CAP_SYS_PTRACE", "reading other users' fds, environment and exe links"},
    {2, "CAP_DAC_READ_SEARCH", "reading /proc files of other users"},
};

Check kernel_check() {
  Check c{"kernel", "kernel", false, true, "", ""};
  utsname u{};
  if (::uname(&u) == 0) c.detail = fmt::format("{} {}", u.sysname, u.release);
  int major = 0, minor = 0;
  std::sscanf(u.release, "%d.%d", &major, &minor);
  c.ok = major > 5 || (major == 5 && minor >= 8);
  if (!c.ok) c.effect = "eBPF needs 5.8 or later (ring buffer, tp_btf): watch and record use netlink";
  return c;
}

Check btf_check() {
  Check c{"btf", "kernel BTF (/sys/kernel/btf/vmlinux)", false, true, "", ""};
  struct stat st {};
  c.ok = ::stat("/sys/kernel/btf/vmlinux", &st) == 0 && ::access("/sys/kernel/btf/vmlinux", R_OK) == 0;
  c.detail = c.ok ? fmt::format("{} KiB", st.st_size / 1024) : "missing or not readable";
  if (!c.ok) c.effect = "the CO-RE eBPF programs cannot load: watch, record and trace use netlink; who and why :PORT scan /proc";
  return c;
}

}  // namespace

std::string mount_options(std::string_view mountinfo, std::string_view mount_point) {
  std::string found;
  while (!mountinfo.empty()) {
    size_t eol = mountinfo.find('\n');
    std::string_view line = mountinfo.substr(0, eol);
    mountinfo.remove_prefix(eol == std::string_view::npos ? mountinfo.size() : eol + 1);
    // id parent major:minor root mount-point options ... - fstype source super-options
    size_t pos = 0;
    std::string_view fields[5];
    for (auto& f : fields) {
      size_t sp = line.find(' ', pos);
      if (sp == std::string_view::npos) break;
      f = line.substr(pos, sp - pos);
      pos = sp + 1;
    }
    if (fields[4] != mount_point) continue;
    size_t dash = line.find(" - ");
    if (dash == std::string_view::npos) continue;
    std::string_view rest = line.substr(dash + 3);
    size_t a = rest.find(' ');
    size_t b = a == std::string_view::npos ? a : rest.find(' ', a + 1);
    if (b == std::string_view::npos) continue;
    found = std::string(rest.substr(b + 1));  // the last mount there wins: it is the one seen
  }
  return found;
}

std::string proc_restrictions(std::string_view options) {
  std::string out;
  size_t pos = 0;
  while (pos <= options.size()) {
    size_t comma = options.find(',', pos);
    std::string_view o = options.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    if ((o.starts_with("hidepid=") && o != "hidepid=0" && o != "hidepid=off") || o == "subset=pid") {
      out += (out.empty() ? "" : ",") + std::string(o);
    }
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return out;
}

std::vector<std::string> missing_capabilities(unsigned long long cap_effective) {
  std::vector<std::string> out;
  for (const Cap& c : kCaps) {
    if (!(cap_effective & (1ull << c.bit))) out.emplace_back(c.name);
  }
  return out;
}

std::vector<Check> run_checks(const Options& o) {
  std::vector<Check> checks;
  checks.push_back(kernel_check());
  checks.push_back(btf_check());

  // Capabilities first: they explain the event sources' results below.
  Check caps{"capabilities", "capabilities of this process", false, true, "", ""};
  unsigned long long eff = 0;
  std::string status = read_small("/proc/self/status");
  if (size_t at = status.find("\nCapEff:"); at != std::string::npos) eff = std::strtoull(status.c_str() + at + 8, nullptr, 16);
  auto missing = missing_capabilities(eff);
  caps.ok = missing.empty();
  caps.detail = fmt::format("euid {}; CapEff {:016x}", ::geteuid(), eff);
  if (!caps.ok) {
    std::string names;
    for (const auto& m : missing) names += (names.empty() ? "" : ", ") + m;
    caps.detail += "; missing " + names;
    caps.effect = ::geteuid() == 0 ? "root without these capabilities (a container, setpriv): see the sources below"
                                   : "not root: other users' fds, environment and exe links are unreadable (why "
                                     "marks them unavailable, who and files miss their holders); watch, record and "
                                     "trace need root for eBPF and netlink and fall back to polling /proc";
  }
  checks.push_back(caps);

  if (o.probe_events) {
    auto reader = procfs::ProcReader::open(o.proc_root);
    for (const char* which : {"bpf", "netlink"}) {
      Check c{which, which == std::string("bpf") ? "eBPF programs load (tp_btf/sched_process_*)"
                                                 : "netlink proc connector",
              false, true, "", ""};
      if (!reader) {
        c.detail = reader.error().message;
      } else if (auto src = events::open_source(which, *reader)) {
        // A source that could not open says why in `why` (and may fall back).
        c.ok = src->source && src->source->name() == which;
        c.detail = src->why;
      } else {
        c.detail = src.error().message;
      }
      if (!c.ok) {
        c.effect = which == std::string("bpf")
                       ? "watch, record and trace use netlink: argv and exe are read from /proc after each exec, so "
                         "a process that exits at once may lack them; no exit reaper, no cgroup ids; who and why "
                         ":PORT scan /proc (slower above a few thousand processes)"
                       : "without eBPF too, watch, record and trace poll /proc: processes shorter than the interval "
                         "are missed";
      }
      checks.push_back(std::move(c));
    }
  }

  Check proc{"proc-mount", "/proc shows every process", false, true, "", ""};
  std::string options = mount_options(read_small("/proc/self/mountinfo"), "/proc");
  std::string restricted = proc_restrictions(options);
  proc.ok = restricted.empty() || ::geteuid() == 0;
  proc.detail = options.empty() ? "no /proc mount found in mountinfo" : "options " + options;
  if (options.empty()) proc.ok = false;
  if (!restricted.empty()) {
    proc.detail += "; restricted: " + restricted;
    if (!proc.ok) {
      proc.effect = "other users' processes are hidden: tree, why and top see only yours (root sees all)";
    }
  }
  if (restricted.find("subset=pid") != std::string::npos) {
    proc.ok = false;
    proc.effect = "subset=pid hides /proc/sys and /proc/net: pid_max, boot id and /proc/net fallbacks are missing";
  }
  checks.push_back(proc);

  Check cg{"cgroup", "cgroup v2 hierarchy", true, false, "", ""};
  struct statfs fs {};
  if (::statfs("/sys/fs/cgroup", &fs) == 0 && static_cast<unsigned long long>(fs.f_type) == kCgroup2Magic) {
    cg.detail = "cgroup v2 (unified)";
  } else if (::statfs("/sys/fs/cgroup/unified", &fs) == 0 &&
             static_cast<unsigned long long>(fs.f_type) == kCgroup2Magic) {
    cg.detail = "cgroup v1 with a v2 hierarchy at /sys/fs/cgroup/unified (hybrid)";
  } else {
    cg.ok = false;
    cg.detail = "cgroup v1 only";
    cg.effect = "no cgroup v2 ids: watch --container matches by /proc cgroup paths, bpf events carry no cgroup id";
  }
  checks.push_back(cg);

  Check systemd{"systemd", "systemd as init, over D-Bus", false, false, "", ""};
  bool booted = ::access("/run/systemd/system", F_OK) == 0;
  bool bus = ::access("/run/dbus/system_bus_socket", F_OK) == 0;
  systemd.ok = booted && bus;
  systemd.detail = booted ? (bus ? "booted with systemd; system bus socket present" : "booted with systemd; no system bus socket")
                          : "not booted with systemd";
  if (!systemd.ok) {
    systemd.effect = booted ? "units are named from cgroups only (no description, restarts or fragment path from D-Bus)"
                            : "no systemd units to attribute (why names other launchers)";
  }
  checks.push_back(systemd);

  Check runtimes{"containers", "container runtimes whose state lineage reads", false, false, "", ""};
  std::string found;
  for (const auto& [path, name] :
       {std::pair{"/var/lib/docker/containers", "docker"}, std::pair{"/run/containerd", "containerd"},
        std::pair{"/run/crio", "cri-o"}, std::pair{"/run/containers/storage", "podman"},
        std::pair{"/run/libpod", "podman"}, std::pair{"/var/lib/lxc", "lxc"}}) {
    if (::access(path, R_OK | X_OK) == 0 && found.find(name) == std::string::npos) {
      found += (found.empty() ? "" : ", ") + std::string(name);
    }
  }
  runtimes.ok = !found.empty();
  runtimes.detail = found.empty() ? "none found" : found;
  if (!runtimes.ok) runtimes.effect = "containers are named from cgroups only (no name or image) if any run";
  checks.push_back(runtimes);

  Check history{"history", "recorded history (lineage record)", false, false, "", ""};
  struct stat st {};
  if (o.db.empty() || ::stat(o.db.c_str(), &st) != 0) {
    history.detail = fmt::format("no database at {}", o.db);
    history.effect = "why stops at orphans' adopters, why --at and tree --at and history have nothing: run lineage "
                     "record (or enable lineage-record.service)";
  } else {
    auto h = store::History::open(o.db);
    history.detail = h ? fmt::format("{} ({} MiB, schema {})", o.db, st.st_size >> 20, h->version())
                       : fmt::format("{}: {}", o.db, h.error().message);
    history.ok = static_cast<bool>(h);
    if (!h) history.effect = "history cannot be read: why, why --at, tree --at and history work from /proc only";
  }
  checks.push_back(history);
  return checks;
}

std::string render_text(const std::vector<Check>& checks, bool color) {
  std::string out;
  size_t missing = 0;
  for (const Check& c : checks) {
    const char* mark = c.ok ? "ok     " : c.required ? "MISSING" : "absent ";
    const char* paint = !color ? "" : c.ok ? "\x1b[32m" : c.required ? "\x1b[31m" : "\x1b[33m";
    out += fmt::format("{}{}{} {:<46} {}\n", paint, mark, color ? "\x1b[0m" : "", c.title,
                       output::escape_text(c.detail));
    if (!c.ok && !c.effect.empty()) out += fmt::format("        -> {}\n", output::escape_text(c.effect));
    missing += !c.ok && c.required;
  }
  out += missing == 0 ? "\neverything lineage uses is here\n"
                      : fmt::format("\n{} thing{} lineage uses {} missing: the commands above degrade as said\n",
                                    missing, missing == 1 ? "" : "s", missing == 1 ? "is" : "are");
  return out;
}

std::string render_json(const std::vector<Check>& checks) {
  nlohmann::ordered_json doc;
  doc["schema"] = "lineage.doctor/v1";
  bool all = true;
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const Check& c : checks) {
    all &= c.ok || !c.required;
    list.push_back({{"id", c.id}, {"title", c.title}, {"ok", c.ok}, {"required", c.required},
                    {"detail", c.detail}, {"effect", c.ok ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(c.effect)}});
  }
  doc["ok"] = all;
  doc["checks"] = std::move(list);
  return doc.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

}  // namespace lineage::doctor
