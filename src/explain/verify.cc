#include "explain/verify.h"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <memory>
#include <mutex>

#include <fmt/format.h>

#include "core/unique_fd.h"
#include "explain/file_read.h"
#include "procfs/holders.h"
#include "procfs/users.h"

namespace lineage::explain {
namespace {

constexpr int kMaxComponents = 64;

std::string owner_text(const struct stat& st) {
  static procfs::UserNames names;
  return names.name(st.st_uid);
}

// Why one object on a trusted path fails the rule ("" when it passes): the
// rule of trusted_link_dir (file_read.h), with a reason, and optionally one
// more owner (a user manager's delegated cgroups).
std::string mode_problem(const struct stat& st, std::optional<uid_t> also = std::nullopt) {
  if (st.st_uid != 0 && st.st_uid != also) return "owned by " + owner_text(st);
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) return "writable by group or others";
  return {};
}

// Walks `path` from the directory `root` without following any symlink (the
// kernel's exe path is canonical: a symlink on it is somebody's plant). Every
// directory on the way and the final object must pass the rule. On success
// fills `out` with the object's stat and returns "". Each prefix is looked at
// with one fstatat(AT_SYMLINK_NOFOLLOW): its parent was checked first, root
// owns it and nobody else may write it, so no user can swap a component
// between two looks.
std::string walk_trusted(const std::string& root, const std::string& path, struct stat& out,
                         bool want_dir = false, std::optional<uid_t> also = std::nullopt) {
  if (path.empty() || path[0] != '/') return "a path that is not absolute";
  struct stat st {};
  if (::stat(root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return "a root that could not be opened";
  if (auto why = mode_problem(st, also); !why.empty()) return "whose root directory is " + why;
  std::string walked;
  int components = 0;
  for (size_t pos = 1; pos <= path.size();) {
    size_t end = path.find('/', pos);
    if (end == std::string::npos) end = path.size();
    std::string_view comp(path.data() + pos, end - pos);
    pos = end + 1;
    if (comp.empty()) continue;
    if (comp == "." || comp == "..") return "a path with . or ..";
    if (++components > kMaxComponents) return "a path too deep to check";
    const bool last = path.find_first_not_of('/', end) == std::string::npos;
    walked += '/';
    walked += comp;
    if (::fstatat(AT_FDCWD, (root + walked).c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return fmt::format("which is not there ({} missing)", walked);
    }
    if (S_ISLNK(st.st_mode)) return fmt::format("through a symlink at {}", walked);
    if (auto why = mode_problem(st, also); !why.empty()) {
      return last ? why : fmt::format("whose directory {} is {}", walked, why);
    }
    if ((!last || want_dir) && !S_ISDIR(st.st_mode)) return fmt::format("{} is not a directory", walked);
    if (last && !want_dir && !S_ISREG(st.st_mode)) return "not a regular file";
  }
  out = st;
  return {};
}

std::optional<uint64_t> ns_inode(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return st.st_ino;
}

// The user namespace that owns a mount namespace (NS_GET_USERNS).
std::optional<uint64_t> owner_userns(const std::string& mnt_ns_path) {
  UniqueFd mnt(::open(mnt_ns_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!mnt.valid()) return std::nullopt;
  UniqueFd user(::ioctl(mnt.get(), NS_GET_USERNS));
  struct stat st {};
  if (!user.valid() || ::fstat(user.get(), &st) != 0) return std::nullopt;
  return st.st_ino;
}

bool on_nosuid_mount(const std::string& path) {
  struct statvfs vfs {};
  return ::statvfs(path.c_str(), &vfs) == 0 && (vfs.f_flag & ST_NOSUID) != 0;
}

}  // namespace

// A process from history: its pid may name another process now, so /proc
// says nothing about it; the recorder's verdict at its exec stands.
Verification recorded_verdict(const core::Process& p) {
  const core::RecordedState& r = *p.recorded;
  std::string path = p.exe ? p.exe->path : "?";
  if (!r.verified) return {false, fmt::format("runs {}, not checked when recorded", path)};
  if (!*r.verified) return {false, fmt::format("recorded: {}", r.unverified_reason)};
  return {true, "root-owned, the host's file, checked when recorded"};
}

ProcExeVerifier::Root ProcExeVerifier::root_of(const core::Process& p) const {
  Root r;
  const std::string pid_dir = fmt::format("{}/{}", proc_root_, p.pid());
  if (!init_ns_) {
    // The host is pid 1's namespaces; where even root may not look at pid 1
    // (lineage itself in a sandbox whose init belongs to an outer user
    // namespace), lineage's own namespaces stand for the host.
    auto mnt = ns_inode(proc_root_ + "/1/ns/mnt");
    auto user = ns_inode(proc_root_ + "/1/ns/user");
    reference_ = "1";
    if (!mnt || !user || ::access((proc_root_ + "/1/root/").c_str(), X_OK) != 0) {
      mnt = ns_inode(proc_root_ + "/self/ns/mnt");
      user = ns_inode(proc_root_ + "/self/ns/user");
      reference_ = "self";
    }
    init_ns_ = std::make_pair(mnt.value_or(0), user.value_or(0));
  }
  auto mnt = ns_inode(pid_dir + "/ns/mnt");
  if (!mnt || init_ns_->first == 0) {
    r.refused = "(its mount namespace could not be read)";
    return r;
  }
  r.mnt_ns = *mnt;
  if (*mnt == init_ns_->first) {
    r.dir = proc_root_ + "/" + reference_ + "/root";
    return r;
  }
  // Another mount namespace: only one that root made (a runtime's) has a root
  // whose root-owned files mean anything.
  auto owner = owner_userns(pid_dir + "/ns/mnt");
  if (!owner || *owner != init_ns_->second) {
    r.refused = "in a mount namespace made by an unprivileged user (owned by a user namespace other than the host's)";
    return r;
  }
  r.dir = pid_dir + "/root";
  return r;
}

Verification ProcExeVerifier::check_exe(const core::Process& p) const {
  if (p.recorded) return recorded_verdict(p);
  if (!p.exe || p.exe->path.empty()) return {false, "its executable could not be read"};
  const std::string& path = p.exe->path;
  struct stat run {};
  if (::stat(fmt::format("{}/{}/exe", proc_root_, p.pid()).c_str(), &run) != 0) {
    return {false, "its running file could not be examined"};
  }
  if (auto why = mode_problem(run); !why.empty()) return {false, fmt::format("runs {}, {}", path, why)};
  Root root = root_of(p);
  if (!root.refused.empty()) return {false, fmt::format("runs {} {}", path, root.refused)};
  auto key = std::make_tuple(static_cast<uint64_t>(run.st_dev), static_cast<uint64_t>(run.st_ino), root.mnt_ns,
                             path, p.exe->deleted);
  if (auto it = cache_.find(key); it != cache_.end()) return it->second;

  Verification v;
  const char* where = root.dir == proc_root_ + "/" + reference_ + "/root" ? "the host's" : "its container's";
  struct stat found {};
  std::string problem = walk_trusted(root.dir, path, found);
  if (!problem.empty()) {
    v.text = fmt::format("runs {}, {}", path, problem);
  } else if (on_nosuid_mount(root.dir + path)) {
    // FUSE and udisks mounts (always nosuid) let a user claim uid 0 for
    // every file: ownership read there proves nothing.
    v.text = fmt::format("runs {}, on a nosuid mount (a user may mount those: FUSE, removable media)", path);
  } else if (found.st_dev == run.st_dev && found.st_ino == run.st_ino) {
    v = {true, fmt::format("root-owned, the same file as {} in {} root", path, where)};
  } else if (p.exe->deleted && run.st_nlink == 0) {
    v = {true, fmt::format("root-owned copy of {} replaced on disk since it started (an upgrade?); "
                           "the path now holds a root-owned file", path)};
  } else {
    v.text = fmt::format("runs a file other than {} in {} root", path, where);
  }
  cache_.emplace(key, v);
  return v;
}

Verification ProcExeVerifier::check_file(const core::Process& p, const std::string& path) const {
  if (p.recorded) return {false, fmt::format("{} was run by a process that is gone (not checkable now)", path)};
  Root root = root_of(p);
  if (!root.refused.empty()) return {false, fmt::format("{} is read {}", path, root.refused)};
  struct stat found {};
  std::string problem = walk_trusted(root.dir, path, found);
  if (!problem.empty()) return {false, fmt::format("runs {}, {}", path, problem)};
  return {true, fmt::format("{} is root-owned", path)};
}

std::string ProcExeVerifier::cgroup_mount(const core::CgroupEntry& entry) const {
  if (!cgroup_mounts_) {
    cgroup_mounts_.emplace();
    std::string text;
    if (read_bounded(proc_root_ + "/self/mountinfo", 1 << 20, text) == FileStatus::kOk) {
      for (auto& m : procfs::parse_mountinfo(text)) {
        if (m.root == "/" && (m.fstype == "cgroup" || m.fstype == "cgroup2")) {
          cgroup_mounts_->emplace_back(std::move(m.mount_point), std::move(m.fstype), "," + m.super_options + ",");
        }
      }
    }
  }
  for (const auto& [point, fstype, super] : *cgroup_mounts_) {
    if (entry.hierarchy == 0 && entry.controllers.empty()) {
      if (fstype == "cgroup2") return point;
      continue;
    }
    if (fstype != "cgroup" || entry.controllers.empty()) continue;
    bool all = true;  // every controller of the line is an option of the mount
    for (size_t pos = 0; pos <= entry.controllers.size();) {
      size_t end = entry.controllers.find(',', pos);
      if (end == std::string::npos) end = entry.controllers.size();
      if (super.find("," + entry.controllers.substr(pos, end - pos) + ",") == std::string::npos) all = false;
      pos = end + 1;
    }
    if (all) return point;
  }
  return {};
}

Verification ProcExeVerifier::check_cgroup(const core::Process&, const core::CgroupEntry& entry,
                                           std::optional<uid_t> delegate) const {
  std::string mount = cgroup_mount(entry);
  if (mount.empty()) return {false, fmt::format("cgroup {} is on no cgroup mount lineage can see", entry.path)};
  if (entry.path == "/") return {true, "the root cgroup"};
  struct stat found {};
  std::string problem = walk_trusted(mount, entry.path, found, /*want_dir=*/true, delegate);
  if (!problem.empty()) return {false, fmt::format("cgroup {}, {}", entry.path, problem)};
  return {true, fmt::format("cgroup {} under {} made by {}", entry.path, mount,
                            found.st_uid == 0 ? std::string("root") : owner_text(found))};
}

const ExeVerifier& default_verifier(const std::string& proc_root) {
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<ProcExeVerifier>> verifiers;
  std::lock_guard lock(mu);
  auto& v = verifiers[proc_root];
  if (!v) v = std::make_unique<ProcExeVerifier>(proc_root);
  return *v;
}

}  // namespace lineage::explain
