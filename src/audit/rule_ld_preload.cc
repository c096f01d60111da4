// ld-preload: code injected into processes through the dynamic loader.
//   - LD_PRELOAD in a process's environment (the one variable read from it:
//     no other variable is ever printed). Children inherit it, so only the
//     topmost process of a chain carrying the same value is reported.
//   - /etc/ld.so.preload listing libraries: every dynamically linked program
//     started on the machine loads them (a system finding, pid 0).
// A library that anyone can write, or that lives outside the package
// directories and is not a root-owned file, raises the finding to high.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include <fmt/format.h>

#include "audit/classify.h"
#include "audit/rules.h"
#include "core/unique_fd.h"

namespace lineage::audit {

namespace {

// Why one library makes the finding high, or "" when it does not.
std::string library_concern(const Scene& scene, const core::Process* p, std::string_view lib) {
  std::string where = writable_by_path(lib);
  if (!where.empty()) return fmt::format("{}: {}", lib, where);
  if (in_system_dir(lib)) return {};
  // A bare name ("libfoo.so") is looked up in the loader's path: nothing to judge.
  if (!lib.starts_with('/')) return {};
  if (p == nullptr) {
    // /etc/ld.so.preload: the host's file, judged by its owner and mode.
    struct stat st {};
    std::string path(lib);
    if (::stat(path.c_str(), &st) != 0) return {};
    if (st.st_uid != 0) return fmt::format("{}: outside the package directories, owned by uid {}", lib, st.st_uid);
    if (st.st_mode & 022) return fmt::format("{}: writable by group or others", lib);
    return {};
  }
  if (p->recorded) return {};
  explain::Verification v = scene.verifier().check_file(*p, std::string(lib));
  if (v.verified) return {};
  return fmt::format("{}: outside the package directories, {}", lib, v.text);
}

size_t inheritors(const core::ProcessTree& tree, size_t index, const std::string& value) {
  size_t n = 0;
  std::vector<size_t> todo(tree.children(index).begin(), tree.children(index).end());
  while (!todo.empty() && n < 100000) {
    size_t c = todo.back();
    todo.pop_back();
    if (tree.at(c).env("LD_PRELOAD") != value) continue;
    ++n;
    for (size_t g : tree.children(c)) todo.push_back(g);
  }
  return n;
}

}  // namespace

bool env_wanted(std::string_view entry) { return entry.starts_with("LD_PRELOAD="); }

void check_ld_preload(const Scene& scene, size_t index, std::vector<Finding>& out) {
  const core::ProcessTree& tree = scene.tree();
  const core::Process& p = tree.at(index);
  std::optional<std::string> value = p.env("LD_PRELOAD");
  if (!value || preload_entries(*value).empty()) return;
  size_t parent = tree.parent(index);
  if (parent != core::ProcessTree::kNone && tree.at(parent).env("LD_PRELOAD") == value) return;  // inherited

  Finding f;
  f.rule = "ld-preload";
  f.severity = Severity::kMedium;
  f.process = p.key;
  std::vector<std::string_view> libs = preload_entries(*value);
  f.evidence.push_back("LD_PRELOAD=" + *value);
  for (std::string_view lib : libs) {
    std::string concern = library_concern(scene, &p, lib);
    if (!concern.empty()) {
      f.severity = Severity::kHigh;
      f.evidence.push_back(concern);
    }
  }
  f.title = fmt::format("LD_PRELOAD injects {}{}", libs.front(), libs.size() > 1 ? fmt::format(" and {} more", libs.size() - 1) : "");
  if (size_t n = inheritors(tree, index, *value)) {
    f.evidence.push_back(fmt::format("{} descendant{} inherit{} it", n, n == 1 ? "" : "s", n == 1 ? "s" : ""));
  }
  out.push_back(std::move(f));
}

void check_ld_so_preload(const Scene& scene, std::vector<Finding>& out) {
  // Only a scene of the live system: a recording or a unit test has no
  // /etc of its own to read.
  if (!scene.reader()) return;
  const char* path = "/etc/ld.so.preload";
  UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY));
  if (!fd.valid()) {
    if (errno == ENOENT) return;
    if (errno == ELOOP) {
      out.push_back(Finding{"ld-preload", Severity::kHigh, "/etc/ld.so.preload is a symlink (not followed)", {},
                            {"/etc/ld.so.preload: a symbolic link; ld.so follows it and loads what it lists"}, 0});
    }
    return;  // not readable: nothing can be said
  }
  struct stat st {};
  if (fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return;
  constexpr size_t kMax = 64 * 1024;
  std::string text;
  char buf[8192];
  while (text.size() < kMax) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  if (text.size() > kMax) text.resize(kMax);
  std::vector<std::string_view> libs = preload_entries(text);
  if (libs.empty()) return;

  Finding f;
  f.rule = "ld-preload";
  f.severity = Severity::kHigh;
  f.title = fmt::format("/etc/ld.so.preload makes every program load {}{}", libs.front(),
                        libs.size() > 1 ? fmt::format(" and {} more", libs.size() - 1) : "");
  f.evidence.push_back(fmt::format("/etc/ld.so.preload: owner uid {}, mode {:04o}, {} bytes", st.st_uid,
                                   st.st_mode & 07777, st.st_size));
  for (size_t i = 0; i < libs.size() && i < 16; ++i) {
    std::string concern = library_concern(scene, nullptr, libs[i]);
    f.evidence.push_back(concern.empty() ? fmt::format("lists {}", libs[i]) : "lists " + concern);
  }
  out.push_back(std::move(f));
}

}  // namespace lineage::audit
