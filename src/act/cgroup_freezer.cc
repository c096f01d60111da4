#include "act/cgroup_freezer.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>
#include <unordered_set>

#include <fmt/format.h>

#include "procfs/holders.h"

namespace lineage::act {

namespace {

constexpr size_t kMaxDepth = 32;                 // cgroups below the frozen one
constexpr size_t kMaxProcs = 1 << 20;
constexpr size_t kMaxFileBytes = 4 * 1024 * 1024;  // one cgroup.procs

bool has_dotdot(const std::string& path) {
  for (size_t pos = 0; pos < path.size();) {
    size_t end = path.find('/', pos);
    if (end == std::string::npos) end = path.size();
    if (path.compare(pos, end - pos, "..") == 0) return true;
    pos = end + 1;
  }
  return false;
}

// A whole small file relative to dirfd (procfs's bounded reader); a file
// longer than the bound is a failure, never a cut list of pids.
bool read_at(int dirfd, const char* name, std::string& out) {
  bool truncated = false;
  return procfs::read_file_at(dirfd, name, out, kMaxFileBytes, &truncated) == procfs::ReadError::kNone && !truncated;
}

bool on_cgroup_fs(int fd) {
  struct statfs fs {};
  if (::fstatfs(fd, &fs) != 0) return false;
  return fs.f_type == CGROUP2_SUPER_MAGIC || fs.f_type == CGROUP_SUPER_MAGIC;
}

// The pids of dirfd's cgroup.procs and of every cgroup below it.
bool collect_procs(int dirfd, size_t depth, size_t limit, std::vector<int32_t>& out) {
  std::string text;
  if (!read_at(dirfd, "cgroup.procs", text)) return false;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    int32_t pid = 0;
    for (size_t k = pos; k < end && pid >= 0; ++k) {
      if (text[k] < '0' || text[k] > '9' || pid > 100'000'000) pid = -1;
      else pid = pid * 10 + (text[k] - '0');
    }
    if (pid > 0) out.push_back(pid);
    if (out.size() > limit) return true;  // more than asked: the caller sees it
    pos = end + 1;
  }
  if (depth >= kMaxDepth) return true;
  UniqueDir dir = UniqueDir::from_fd(UniqueFd(::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)));
  if (!dir) return false;
  while (dirent* e = ::readdir(dir.get())) {
    if (e->d_type != DT_DIR || e->d_name[0] == '.') continue;
    UniqueFd sub(::openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!sub.valid()) return false;
    if (!collect_procs(sub.get(), depth + 1, limit, out)) return false;
    if (out.size() > limit) return true;
  }
  return true;
}

struct CgroupMounts {
  std::string v2;               // the cgroup2 mount (unified or hybrid)
  std::vector<std::string> v1;  // every cgroup (v1) hierarchy's mount
};

CgroupMounts cgroup_mounts(const procfs::ProcReader& reader) {
  CgroupMounts m;
  UniqueFd root(::open(reader.root().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  std::string text;
  if (!root.valid() || procfs::read_file_at(root.get(), "self/mountinfo", text, 1 << 20) != procfs::ReadError::kNone) {
    return m;
  }
  for (const auto& e : procfs::parse_mountinfo(text)) {
    if (e.root != "/") continue;  // a bind of a cgroup below the root: paths would not match
    if (e.fstype == "cgroup2" && m.v2.empty()) m.v2 = e.mount_point;
    if (e.fstype == "cgroup") m.v1.push_back(e.mount_point);
  }
  return m;
}

bool is_dir(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

bool forked_since(const procfs::ProcReader& reader, int32_t pid, const std::unordered_set<int32_t>& members,
                  uint64_t scanned_ns) {
  // lineage itself (its shell may be a member with --force): never frozen
  // with the set, it would never thaw them.
  if (pid == static_cast<int32_t>(::getpid())) return false;
  auto p = reader.read(pid, core::kFieldStat);
  if (!p) return true;  // exited: nothing to end, nothing to spare
  if (members.count(p->ppid())) return true;
  // Within a tick of the scan counts as after it: the start time is in ticks.
  return p->stat.start_ticks * reader.tick_ns() + reader.tick_ns() >= scanned_ns;
}

std::string freezer_path(const std::vector<core::CgroupEntry>& cgroups, bool v2) {
  for (const auto& c : cgroups) {
    if (v2 && c.hierarchy == 0 && c.controllers.empty()) return c.path;
    if (!v2 && !c.controllers.empty()) {
      std::string list = "," + c.controllers + ",";
      if (list.find(",freezer,") != std::string::npos) return c.path;
    }
  }
  return {};
}

std::optional<FreezableCgroup> find_whole_cgroup(const procfs::ProcReader& reader,
                                                 const std::vector<core::Process>& plan, uint64_t scanned_ns,
                                                 std::string* why_not) {
  auto no = [&](std::string why) -> std::optional<FreezableCgroup> {
    if (why_not) *why_not = std::move(why);
    return std::nullopt;
  };
  if (plan.empty()) return no("nothing to end");
  // Every member's cgroups, read now. A member that has exited (or whose
  // pid is someone else's now: the kill skips it) is no longer in the set.
  std::vector<std::vector<core::CgroupEntry>> cgroups;
  std::unordered_set<int32_t> members;
  cgroups.reserve(plan.size());
  for (const auto& p : plan) {
    auto now = reader.read(p.pid(), core::kFieldStat | core::kFieldCgroup);
    if (!now || now->stat.start_ticks != p.stat.start_ticks || now->stat.state == 'Z') continue;
    if (!now->cgroups) return no(fmt::format("the cgroup of pid {} could not be read", p.pid()));
    cgroups.push_back(std::move(*now->cgroups));
    members.insert(p.pid());
  }
  if (cgroups.empty()) return no("every process to end has exited");
  CgroupMounts mounts = cgroup_mounts(reader);
  // The first hierarchy's reason is the one given (v2's where there is one).
  std::string why;
  auto because = [&why](std::string reason) {
    if (why.empty()) why = std::move(reason);
  };
  for (bool v2 : {true, false}) {
    if (v2 && mounts.v2.empty()) continue;
    if (!v2 && mounts.v1.empty()) continue;
    std::string path = freezer_path(cgroups.front(), v2);
    if (path.empty() || path.front() != '/') continue;
    bool same = std::all_of(cgroups.begin(), cgroups.end(),
                            [&](const auto& c) { return freezer_path(c, v2) == path; });
    if (!same) {
      because("the processes are in more than one cgroup");
      continue;
    }
    if (path == "/") {
      because("they are in the root cgroup");
      continue;
    }
    if (has_dotdot(path)) {
      because(fmt::format("cgroup {} is outside lineage's cgroup namespace", path));
      continue;
    }
    FreezableCgroup cg{path, {}, v2};
    if (v2) {
      cg.dir = mounts.v2 + path;
    } else {
      for (const auto& m : mounts.v1) {  // the hierarchy with the freezer's files
        if (::access((m + path + "/freezer.state").c_str(), F_OK) == 0) cg.dir = m + path;
      }
    }
    if (cg.dir.empty() || !is_dir(cg.dir)) {
      because(fmt::format("cgroup {} has no directory lineage can see", path));
      continue;
    }
    std::string error;
    auto freezer = Freezer::open(cg, &error);
    if (!freezer) {
      because(error);
      continue;
    }
    auto pids = freezer->procs(kMaxProcs);
    if (!pids) {
      because(fmt::format("{}'s processes could not be read", cg.dir));
      continue;
    }
    // Members read in it a moment ago and missing now have exited; one
    // that is not a member was forked since the scan (the kill catches it)
    // or is someone else's.
    bool foreign = pids->size() >= kMaxProcs;
    for (int32_t pid : *pids) {
      if (foreign) break;
      if (members.count(pid) == 0) foreign = !forked_since(reader, pid, members, scanned_ns);
    }
    if (foreign) {
      because(fmt::format("cgroup {} also holds processes that are not to be ended", path));
      continue;
    }
    return cg;
  }
  return no(why.empty() ? "no freezer hierarchy is mounted" : why);
}

std::optional<Freezer> Freezer::open(const FreezableCgroup& cgroup, std::string* error) {
  UniqueFd dir(::open(cgroup.dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dir.valid()) {
    if (error) *error = fmt::format("{}: {}", cgroup.dir, std::strerror(errno));
    return std::nullopt;
  }
  if (!on_cgroup_fs(dir.get())) {
    if (error) *error = fmt::format("{} is not on a cgroup filesystem", cgroup.dir);
    return std::nullopt;
  }
  const char* file = cgroup.v2 ? "cgroup.freeze" : "freezer.state";
  if (::faccessat(dir.get(), file, W_OK, 0) != 0) {
    if (error) *error = fmt::format("{}/{}: {}", cgroup.dir, file, std::strerror(errno));
    return std::nullopt;
  }
  return Freezer(std::move(dir), cgroup.v2);
}

Freezer::~Freezer() {
  if (frozen_) thaw();
}

bool Freezer::write_state(const char* value) const {
  UniqueFd fd(::openat(dir_.get(), v2_ ? "cgroup.freeze" : "freezer.state", O_WRONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) return false;
  size_t len = std::strlen(value);
  return ::write(fd.get(), value, len) == static_cast<ssize_t>(len);
}

bool Freezer::is_frozen() const {
  std::string text;
  if (v2_) {
    // cgroup.events: "populated 1\nfrozen 1\n"
    if (!read_at(dir_.get(), "cgroup.events", text)) return false;
    return text.find("frozen 1") != std::string::npos;
  }
  if (!read_at(dir_.get(), "freezer.state", text)) return false;
  return text.rfind("FROZEN", 0) == 0;  // not FREEZING
}

bool Freezer::freeze(uint64_t timeout_ns, std::string* error) {
  if (!write_state(v2_ ? "1" : "FROZEN")) {
    if (error) *error = fmt::format("freezing failed: {}", std::strerror(errno));
    return false;
  }
  frozen_ = true;  // asked: thaw from now on, even when it does not finish
  auto deadline = std::chrono::steady_clock::now() + std::chrono::nanoseconds(timeout_ns);
  while (!is_frozen()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      if (error) *error = "the cgroup did not freeze in time";
      thaw();
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

void Freezer::thaw() {
  write_state(v2_ ? "0" : "THAWED");
  frozen_ = false;
}

std::optional<std::vector<int32_t>> Freezer::procs(size_t limit) const {
  std::vector<int32_t> out;
  if (!collect_procs(dir_.get(), 0, limit, out)) return std::nullopt;
  return out;
}

}  // namespace lineage::act
