#include "act/killer.h"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

namespace lineage::act {

const char* to_string(Outcome outcome) {
  switch (outcome) {
    case Outcome::kPending: return "pending";
    case Outcome::kSignalled: return "signal";
    case Outcome::kKilled: return "killed";
    case Outcome::kGone: return "gone";
    case Outcome::kSkipped: return "skipped";
    case Outcome::kDenied: return "denied";
    case Outcome::kSurvived: return "survived";
  }
  return "?";
}

namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kMaxCgroupProcs = 1 << 20;

class Killer {
 public:
  Killer(const procfs::ProcReader& reader, const Anchor& anchor, const KillSettings& settings)
      : reader_(reader), anchor_(anchor), settings_(settings) {}

  KillReport run(std::vector<core::Process> plan) {
    hold_anchor();
    for (auto& p : plan) {
      Member& m = hold(std::move(p), false);
      if (settings_.cgroup == nullptr) stop(m);  // top-down, each as it is held
    }
    if (settings_.cgroup != nullptr && !freeze()) {
      for (Member& m : report_.members) stop(m);
    }
    catch_forks();
    for (Member& m : report_.members) {
      if (m.outcome == Outcome::kPending) send(m, settings_.signal);
    }
    if (freezer_) freezer_->thaw();  // the signal is delivered as they thaw
    if (settings_.signal != SIGKILL) continue_stopped();
    wait_for_exit(settings_.timeout_ns, Outcome::kSignalled);
    if (any_pending()) {
      // Survivors may have forked from a handler since they went on: stop
      // them, catch what they forked, then KILL.
      if (!freezer_ || !refreeze()) {
        for (Member& m : report_.members) stop(m);
      }
      catch_forks();
      for (Member& m : report_.members) {
        if (m.outcome == Outcome::kPending) send(m, SIGKILL);
      }
      if (freezer_) freezer_->thaw();
      wait_for_exit(settings_.kill_wait_ns, Outcome::kKilled);
      for (Member& m : report_.members) {
        if (m.outcome == Outcome::kPending) m.outcome = Outcome::kSurvived;
      }
    }
    if (anchor_fd_.valid()) anchor_fd_.send_signal(SIGCONT);
    for (Member& m : report_.members) m.fd = PidFd();  // close early: a big tree holds many
    return std::move(report_);
  }

 private:
  void hold_anchor() {
    if (anchor_.scope != Scope::kChildren || !settings_.stop_anchor) return;
    PidFd fd;
    if (PidFd::open(anchor_.target, reader_, fd) != HoldStatus::kHeld) return;
    if (fd.send_signal(SIGSTOP) != 0) return;
    anchor_fd_ = std::move(fd);
    report_.anchor_held = true;
  }

  // Opens the pidfd and checks the start time: a member from now on.
  Member& hold(core::Process p, bool joined) {
    Member m;
    m.joined = joined;
    Identity id{p.pid(), p.stat.start_ticks};
    m.process = std::move(p);
    held_.push_back(id);
    HoldStatus status = PidFd::open(id, reader_, m.fd);
    if (status == HoldStatus::kGone) {
      m.outcome = Outcome::kGone;
    } else if (status != HoldStatus::kHeld) {
      m.outcome = Outcome::kSkipped;
      m.reason = to_string(status);
    }
    report_.members.push_back(std::move(m));
    return report_.members.back();
  }

  void stop(Member& m) {
    if (m.outcome != Outcome::kPending || m.stopped) return;
    send(m, SIGSTOP);
    m.stopped = m.outcome == Outcome::kPending;
  }

  void continue_stopped() {
    for (Member& m : report_.members) {
      if (m.outcome == Outcome::kPending && m.stopped) m.fd.send_signal(SIGCONT);
      m.stopped = false;
    }
  }

  // Freezes the plan's cgroup and holds what was forked into it before the
  // freeze; false (thawed, with the reason noted) to fall back to SIGSTOP.
  bool freeze() {
    report_.cgroup = settings_.cgroup->path;
    std::string error;
    auto freezer = Freezer::open(*settings_.cgroup, &error);
    if (freezer && freezer->freeze(settings_.freeze_timeout_ns, &error)) {
      freezer_.emplace(std::move(*freezer));
      if (join_cgroup(&error)) {
        report_.frozen = true;
        return true;
      }
      freezer_.reset();  // thaws
    }
    report_.freezer_note = error;
    return false;
  }

  // The survivors' second stop, before KILL: the same cgroup frozen again.
  bool refreeze() {
    std::string error;
    if (freezer_->freeze(settings_.freeze_timeout_ns, &error) && join_cgroup(&error)) return true;
    freezer_->thaw();
    return false;
  }

  // While frozen nothing in the cgroup forks, so one read of its processes
  // is all of them: each not held yet joins when it is a member's child or
  // started after the plan was scanned (forked meanwhile, its parent gone).
  // Any other was in the cgroup already and someone else's: false.
  bool join_cgroup(std::string* error) {
    auto pids = freezer_->procs(kMaxCgroupProcs);
    if (!pids) {
      *error = "the frozen cgroup's processes could not be read";
      return false;
    }
    std::unordered_set<int32_t> member_pids;
    for (const Member& m : report_.members) member_pids.insert(m.process.pid());
    std::unordered_map<int32_t, uint64_t> held_start;  // pid -> start ticks of what is held
    for (const Identity& id : held_) held_start[id.pid] = id.start_ticks;
    for (int32_t pid : *pids) {
      auto p = reader_.read(pid, settings_.fields);
      if (!p) continue;  // exited since
      if (auto h = held_start.find(pid); h != held_start.end() && h->second == p->stat.start_ticks) continue;
      if (!forked_since(reader_, pid, member_pids, settings_.plan_scanned_ns)) {
        *error = fmt::format("pid {} ({}) is in the cgroup and not to be ended", pid, p->stat.comm);
        return false;
      }
      member_pids.insert(pid);
      hold(std::move(*p), true);
    }
    return true;
  }

  // Sends sig through the member's pidfd; records ESRCH and EPERM.
  void send(Member& m, int sig) {
    int err = m.fd.send_signal(sig);
    if (err == 0) return;
    if (err == ESRCH) {
      m.outcome = Outcome::kGone;
    } else {
      m.outcome = err == EPERM ? Outcome::kDenied : Outcome::kSkipped;
      m.reason = std::strerror(err);
    }
  }

  // Rescans until a scan finds nothing new below or beside the held set:
  // every held process is stopped before the scan, and a stopped process
  // forks nothing, so the rounds end.
  void catch_forks() {
    for (size_t round = 0; round < settings_.max_rounds; ++round) {
      core::ProcessTree tree(reader_.scan(core::kFieldStat));  // stat alone: rounds stay cheap
      ++report_.rescans;
      std::vector<size_t> found = new_members(tree, anchor_, held_, settings_.self_pid);
      if (found.empty()) return;
      for (size_t i : found) {
        const core::Process& seen = tree.at(i);
        // The command line for the report, when it is still the same process.
        auto full = reader_.read(seen.pid(), settings_.fields);
        bool same = full && full->stat.start_ticks == seen.stat.start_ticks;
        stop(hold(same ? std::move(*full) : seen, true));
      }
    }
  }

  bool any_pending() const {
    return std::any_of(report_.members.begin(), report_.members.end(),
                       [](const Member& m) { return m.outcome == Outcome::kPending; });
  }

  // Polls the pending members' pidfds (readable once the process exits)
  // until all have exited or the time is up.
  void wait_for_exit(uint64_t budget_ns, Outcome ended) {
    auto deadline = Clock::now() + std::chrono::nanoseconds(budget_ns);
    std::vector<pollfd> fds;
    std::vector<Member*> owners;
    for (;;) {
      fds.clear();
      owners.clear();
      for (Member& m : report_.members) {
        if (m.outcome != Outcome::kPending) continue;
        fds.push_back({m.fd.fd(), POLLIN, 0});
        owners.push_back(&m);
      }
      if (fds.empty()) return;
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left < 0) left = 0;
      int n = ::poll(fds.data(), fds.size(), static_cast<int>(std::min<int64_t>(left, 1000)));
      if (n < 0 && errno != EINTR) return;
      for (size_t k = 0; n > 0 && k < fds.size(); ++k) {
        if (fds[k].revents != 0) owners[k]->outcome = ended;
      }
      if (left == 0 && n <= 0) return;
    }
  }

  const procfs::ProcReader& reader_;
  const Anchor& anchor_;
  const KillSettings& settings_;
  KillReport report_;
  std::vector<Identity> held_;
  PidFd anchor_fd_;
  std::optional<Freezer> freezer_;
};

}  // namespace

KillReport kill_processes(const procfs::ProcReader& reader, const Anchor& anchor, std::vector<core::Process> plan,
                          const KillSettings& settings) {
  return Killer(reader, anchor, settings).run(std::move(plan));
}

}  // namespace lineage::act
