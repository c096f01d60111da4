#pragma once
// What an unprivileged user cannot forge about a launcher. A name, a path,
// argv or an environment variable is a claim; a launcher (sshd, cron, tmux,
// supervisord ...) counts only when the file it runs is the root-owned file
// at that path in the root it should come from:
//   - the running file (/proc/PID/exe: device and inode) is the file found at
//     the same path, walked component by component without following any
//     symlink, from the host's root (/proc/1/root; lineage's own where pid 1
//     is out of reach), or, for a process in a
//     mount namespace made by root (a rootful container), from its own root;
//   - that file and every directory above it are owned by root and not
//     writable by group or others;
//   - a mount namespace owned by a user namespace other than init's was made
//     by an unprivileged user (`unshare -Urm`, a rootless container): what is
//     mounted there is that user's claim, never evidence.
// A file replaced on disk after the process started (a package upgrade) is
// accepted when the running copy is root-owned, read-only to others, unlinked,
// and its path now holds a verified file.
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "core/process.h"

namespace lineage::explain {

struct Verification {
  bool verified = false;
  /// Verified: what was checked ("root-owned, the host's file").
  /// Unverified: why not ("runs /home/lbuser/sshd, owned by lbuser").
  std::string text;
};

class ExeVerifier {
 public:
  virtual ~ExeVerifier() = default;
  /// Whether p's running executable is the root-owned file at its path.
  virtual Verification check_exe(const core::Process& p) const = 0;
  /// Whether `path` (a script an interpreter runs, absolute) names a trusted
  /// file in the same root as p's executable.
  virtual Verification check_file(const core::Process& p, const std::string& path) const = 0;
  /// Whether p's cgroup (one line of /proc/PID/cgroup) could only have been
  /// made by root, or by `delegate` (a user manager's uid): every directory
  /// from the hierarchy's mount down to it owned by them and not writable by
  /// group or others. A user can make cgroups only where it may write (a
  /// delegated subtree), so a container or system unit named by a root-made
  /// cgroup is evidence; one in a user's subtree is that user's claim.
  virtual Verification check_cgroup(const core::Process& p, const core::CgroupEntry& entry,
                                    std::optional<uid_t> delegate = std::nullopt) const = 0;
};

/// The real check, reading under proc_root ("/proc"). Results are cached by
/// (device, inode) of the running file and the root it is resolved in, so a
/// run that meets the same sshd a thousand times checks it once.
class ProcExeVerifier final : public ExeVerifier {
 public:
  explicit ProcExeVerifier(std::string proc_root) : proc_root_(std::move(proc_root)) {}
  Verification check_exe(const core::Process& p) const override;
  Verification check_file(const core::Process& p, const std::string& path) const override;
  Verification check_cgroup(const core::Process& p, const core::CgroupEntry& entry,
                            std::optional<uid_t> delegate) const override;

 private:
  struct Root {
    std::string dir;  // "/proc/1/root" or "/proc/PID/root"
    uint64_t mnt_ns = 0;
    std::string refused;  // non-empty: no root can be trusted for this process
  };
  Root root_of(const core::Process& p) const;
  /// Where the hierarchy of `entry` is mounted, from our mountinfo ("" if not).
  std::string cgroup_mount(const core::CgroupEntry& entry) const;

  std::string proc_root_;
  mutable std::optional<std::pair<uint64_t, uint64_t>> init_ns_;  // (mnt, user) inodes of the host
  mutable std::string reference_;  // "1", or "self" where pid 1 is out of reach
  /// (device, inode, mount namespace, path, deleted): the same file under
  /// another name (execveat of a bind mount's fd) is judged by that name.
  mutable std::map<std::tuple<uint64_t, uint64_t, uint64_t, std::string, bool>, Verification> cache_;
  /// (mount point, fstype, super options) of every cgroup mount, read once.
  mutable std::optional<std::vector<std::tuple<std::string, std::string, std::string>>> cgroup_mounts_;
};

/// One verifier per proc root for the whole run (its cache is shared by every
/// report of a `why --all`).
const ExeVerifier& default_verifier(const std::string& proc_root);

/// The recorder's verdict on a process from history (never /proc: its pid
/// may name another process now).
Verification recorded_verdict(const core::Process& p);

}  // namespace lineage::explain
