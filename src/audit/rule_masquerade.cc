// masquerade: a process dressed as something it is not.
//   (a) a user-space process (PF_KTHREAD clear) whose argv[0] or comm looks
//       like a kernel thread: "[kworker/0:1]", "kthreadd", "ksoftirqd/0";
//   (b) argv[0] names a program of /usr/sbin, /usr/bin, /sbin or /bin other
//       than the one running, and the running file lives outside the package
//       directories (`exec -a sshd /tmp/x`).
// Not masquerading: process titles (argv[0] with ':' or spaces: "sshd:
// user@pts/0", "nginx: worker process"), login shells ("-bash"), versions of
// the same program (python3 running python3.11), busybox applets.
#include <sys/stat.h>

#include <string>

#include <fmt/format.h>

#include "audit/classify.h"
#include "audit/rules.h"

namespace lineage::audit {

namespace {

bool looks_like_kernel_thread(std::string_view name) {
  if (name.size() >= 2 && name.front() == '[' && name.back() == ']') return true;
  for (std::string_view prefix : {"kworker/", "ksoftirqd/", "kthreadd", "migration/", "rcu_", "watchdog/", "kswapd"}) {
    if (name.starts_with(prefix)) return true;
  }
  return false;
}

// "python3" and "python3.11", "pip" and "pip3": the same program, versioned.
bool same_program(std::string_view a, std::string_view b) {
  if (a.size() > b.size()) std::swap(a, b);
  if (!b.starts_with(a)) return false;
  for (char c : b.substr(a.size())) {
    if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_')) return false;
  }
  return true;
}

// Where a program of that name is installed, or "" (stat only, no open).
std::string system_program(std::string_view name) {
  if (name.empty() || name == "." || name == ".." || name.size() > 255) return {};
  for (std::string_view dir : {"/usr/sbin/", "/usr/bin/", "/sbin/", "/bin/"}) {
    std::string path = std::string(dir) + std::string(name);
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) return path;
  }
  return {};
}

std::string exe_text(const core::Process& p) {
  if (!p.exe) return "exe not readable";
  return "exe " + p.exe->path + (p.exe->deleted ? " (deleted)" : "");
}

}  // namespace

void check_masquerade(const Scene& scene, size_t index, std::vector<Finding>& out) {
  const core::Process& p = scene.tree().at(index);
  if (p.is_kernel_thread()) return;
  std::string_view argv0 = p.argv && !p.argv->empty() ? std::string_view((*p.argv)[0]) : std::string_view();

  Finding f;
  f.rule = "masquerade";
  f.severity = Severity::kHigh;
  f.process = p.key;
  bool kthread_argv = looks_like_kernel_thread(argv0);
  if (kthread_argv || looks_like_kernel_thread(p.stat.comm)) {
    std::string_view name = kthread_argv ? argv0 : std::string_view(p.stat.comm);
    f.title = fmt::format("named like a kernel thread ({}) but runs {}", name,
                          p.exe ? p.exe->path : std::string("a user-space program"));
  } else {
    // (b): argv[0] names another installed program.
    if (!p.exe || p.exe->path.empty() || in_system_dir(p.exe->path)) return;
    if (argv0.empty() || argv0.find_first_of(": \t") != std::string_view::npos) return;
    std::string_view exe = exe_name(p);
    if (exe == "busybox" || exe == "toybox") return;
    std::string_view claimed = argv0_name(p);
    if (claimed.empty() || same_program(claimed, exe)) return;
    std::string installed = system_program(claimed);
    if (installed.empty()) return;
    f.title = fmt::format("argv[0] says {} but it runs {}", claimed, p.exe->path);
    f.evidence.push_back(fmt::format("{} is installed: argv[0] names it", installed));
  }
  f.evidence.insert(f.evidence.begin(), {"comm " + p.stat.comm, "argv[0] " + std::string(argv0), exe_text(p)});
  std::string where = p.exe ? writable_by_path(p.exe->path) : std::string();
  if (!where.empty()) f.evidence.push_back("the executable is " + where);
  out.push_back(std::move(f));
}

}  // namespace lineage::audit
