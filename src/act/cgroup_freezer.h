#pragma once
// The cgroup freezer for `lineage kill`. When the processes to end are
// exactly the processes of one cgroup (a systemd service, a container, a
// job its launcher put in a cgroup of its own), freezing that cgroup stops
// them all at once, children forked a moment ago included, without a
// SIGSTOP their parents would be told about; while frozen nothing in it
// forks, so one read of cgroup.procs is the whole set.
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/process.h"
#include "core/unique_fd.h"
#include "procfs/reader.h"

namespace lineage::act {

struct FreezableCgroup {
  std::string path;  // as /proc/PID/cgroup names it ("/system.slice/x.service")
  std::string dir;   // its directory: the hierarchy's mount point + path
  bool v2 = true;    // cgroup.freeze (v2) or freezer.state (the v1 freezer)
};

/// The cgroup the plan is exactly: every member still alive in it, and every
/// process in it and in the cgroups below it a member or forked since the
/// plan was scanned (at boot-relative scanned_ns: see forked_since). Not the
/// root cgroup, not a path with "..". v2 first, else the v1 freezer
/// hierarchy. nullopt with *why_not saying why otherwise.
std::optional<FreezableCgroup> find_whole_cgroup(const procfs::ProcReader& reader,
                                                 const std::vector<core::Process>& plan, uint64_t scanned_ns,
                                                 std::string* why_not);

/// A process found beside the members that a kill under way may take as
/// forked meanwhile: a member's child, or started after the scan (its parent
/// may have exited already), or exited. Anything else was there before and
/// is someone else's; lineage itself never counts as forked meanwhile.
bool forked_since(const procfs::ProcReader& reader, int32_t pid, const std::unordered_set<int32_t>& members,
                  uint64_t scanned_ns);

/// Pure part of find_whole_cgroup: the freezer's cgroup path of one
/// process from its /proc/PID/cgroup lines (v2 "0::/path" when v2, else
/// the v1 line whose controllers include freezer). Empty when none.
std::string freezer_path(const std::vector<core::CgroupEntry>& cgroups, bool v2);

/// Freezes and thaws one cgroup; thaws in its destructor what it froze.
class Freezer {
 public:
  /// Opens the cgroup's directory (checked to be on a cgroup filesystem).
  static std::optional<Freezer> open(const FreezableCgroup& cgroup, std::string* error);
  Freezer(Freezer&& other) noexcept
      : dir_(std::move(other.dir_)), v2_(other.v2_), frozen_(std::exchange(other.frozen_, false)) {}
  Freezer& operator=(Freezer&&) = delete;
  ~Freezer();

  /// Asks the kernel to freeze and waits (up to timeout_ns) until every
  /// process in it is frozen. False with *error when it is not.
  bool freeze(uint64_t timeout_ns, std::string* error);
  void thaw();
  bool frozen() const { return frozen_; }
  /// The pids in the cgroup and below it (cgroup.procs of each), at most
  /// `limit`; nullopt when a cgroup.procs could not be read.
  std::optional<std::vector<int32_t>> procs(size_t limit) const;

 private:
  Freezer(UniqueFd dir, bool v2) : dir_(std::move(dir)), v2_(v2) {}
  bool write_state(const char* value) const;
  bool is_frozen() const;

  UniqueFd dir_;
  bool v2_ = true;
  bool frozen_ = false;
};

}  // namespace lineage::act
