// exec-from-writable-dir: the running executable lives where anyone can
// write (/tmp, /var/tmp, /dev/shm, a world-writable directory), in a hidden
// path, or no longer exists on disk (a memfd, a file deleted after exec):
// where droppers put implants and miners. Medium; high when the process
// also burns CPU (over half a core on average since it started) or was
// started by a (verified) cron or at daemon or below a web server. A
// deleted program of a system directory is the usual trace of a package
// upgrade: low, restart it to run the new version.
#include <fmt/format.h>

#include "audit/classify.h"
#include "audit/rules.h"

namespace lineage::audit {
namespace {

constexpr double kBusyShare = 0.5;

std::string dir_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return {};
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

bool asks_file_system(std::string_view exe_path) {
  return exe_path.starts_with('/') && !in_system_dir(exe_path) && writable_by_path(exe_path).empty();
}

void check_exec_from_writable_dir(const Scene& scene, size_t index, std::vector<Finding>& out) {
  const core::ProcessTree& tree = scene.tree();
  const core::Process& p = tree.at(index);
  if (!p.exe || p.exe->path.empty()) return;
  const std::string& path = p.exe->path;
  std::vector<std::string> why;
  std::string by_path = writable_by_path(path);
  bool memfd = by_path == "a memfd";
  bool system = in_system_dir(path);
  if (!by_path.empty()) {
    why.push_back(memfd ? "the executable is a memfd (it never was a file)" : "the executable is " + by_path);
  } else if (asks_file_system(path)) {
    // Packages' directories are root's; elsewhere, ask the file system (as
    // the process sees it: a container's paths are its own).
    std::string dir = dir_of(path);
    if (auto st = scene.stat_dir_in_root(index, dir)) {
      std::string r = others_can_write(*st, /*sticky_counts=*/true, {});
      if (!r.empty()) why.push_back(fmt::format("directory {} is {}", dir, r));
    }
    if (auto st = scene.stat_exe(index)) {
      std::string r = others_can_write(*st, true, {});
      if (!r.empty()) why.push_back("the executable is " + r);
    }
  }
  bool deleted_only = false;
  if (p.exe->deleted && !memfd) {
    why.push_back("the executable was deleted after it started");
    deleted_only = why.size() == 1;
  }
  if (why.empty()) return;

  Finding f;
  f.rule = "exec-from-writable-dir";
  f.process = p.key;
  f.evidence.push_back("exe " + path + (p.exe->deleted ? " (deleted)" : ""));
  for (auto& w : why) f.evidence.push_back(std::move(w));

  if (deleted_only && system) {
    f.severity = Severity::kLow;
    f.title = fmt::format("runs a deleted file of {} (an upgrade replaced it? restart it to run the new version)",
                          dir_of(path));
    out.push_back(std::move(f));
    return;
  }

  f.severity = Severity::kMedium;
  std::string raised;
  if (auto share = lifetime_cpu_share(p, scene.sys()); share && *share > kBusyShare) {
    raised = "busy";
    f.evidence.push_back(fmt::format("cpu {:.0f}% of a core on average since it started", *share * 100));
  }
  std::vector<size_t> up = tree.ancestors(index);
  for (size_t a : up) {
    const core::Process& anc = tree.at(a);
    if (is_web_server(anc)) {
      f.evidence.push_back(fmt::format("below the server {} (pid {})", exe_name(anc), anc.pid()));
      f.related_pid = anc.pid();
      if (raised.empty()) raised = "below a web server";
      break;
    }
    if (is_cron_daemon(anc)) {
      auto v = scene.verifier().check_exe(anc);
      if (!v.verified) continue;
      f.evidence.push_back(fmt::format("started by {} (pid {})", exe_name(anc), anc.pid()));
      f.related_pid = anc.pid();
      if (raised.empty()) raised = "started by " + std::string(exe_name(anc));
      break;
    }
  }
  if (!raised.empty()) f.severity = Severity::kHigh;
  std::string what = memfd                                          ? "a memfd"
                     : !by_path.empty() && by_path.starts_with("in ") ? "a file " + by_path
                     : !by_path.empty()                               ? "a file in " + by_path
                     : deleted_only                                   ? "a deleted file"
                                                                      : "a file others can change";
  f.title = fmt::format("runs {}{}", what, raised.empty() ? "" : " (" + raised + ")");
  out.push_back(std::move(f));
}

}  // namespace lineage::audit
