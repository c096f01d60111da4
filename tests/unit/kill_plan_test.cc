#include "act/kill_plan.h"

#include <signal.h>

#include <gtest/gtest.h>

#include "act/cgroup_freezer.h"
#include "fake_procfs.h"
#include "procfs/reader.h"

namespace lineage::act {
namespace {

using testing::FakeProcess;
using testing::FakeProcfs;

constexpr uint32_t kKthread = 0x00200000;

// The test tree (start ticks in brackets; pgid/sid when not the pid's own):
//
//   1 init [1]
//   ├─ 2 kthreadd [2] (kernel thread)
//   │  └─ 3 kworker [3] (kernel thread)
//   ├─ 100 sshd [10]
//   │  └─ 200 bash [20]                        sid 200  <- lineage's shell
//   │     ├─ 300 lineage [30]        pgid 300, sid 200  <- self
//   │     └─ 400 make [40]           pgid 400, sid 200
//   │        ├─ 401 cc [41]          pgid 400, sid 200
//   │        │  └─ 402 as [42]       pgid 400, sid 200
//   │        └─ 403 daemon [43]      pgid 403, sid 403  (setsid)
//   │           └─ 404 worker [44]   pgid 403, sid 403
//   └─ 500 cron [50]
//      └─ 501 job [51]               pgid 501, sid 500
constexpr int32_t kSelf = 300;

void add_tree(FakeProcfs& fs) {
  fs.add({.pid = 1, .ppid = 0, .comm = "init", .start_ticks = 1, .argv = {"/sbin/init"}});
  fs.add({.pid = 2, .ppid = 0, .comm = "kthreadd", .start_ticks = 2, .pgid = 0, .sid = 0, .flags = kKthread});
  fs.add({.pid = 3, .ppid = 2, .comm = "kworker", .start_ticks = 3, .pgid = 0, .sid = 0, .flags = kKthread});
  fs.add({.pid = 100, .ppid = 1, .comm = "sshd", .start_ticks = 10, .argv = {"sshd"}});
  fs.add({.pid = 200, .ppid = 100, .comm = "bash", .start_ticks = 20, .argv = {"-bash"}});
  fs.add({.pid = 300, .ppid = 200, .comm = "lineage", .start_ticks = 30, .argv = {"lineage", "kill"}, .pgid = 300, .sid = 200});
  fs.add({.pid = 400, .ppid = 200, .comm = "make", .start_ticks = 40, .argv = {"make"}, .pgid = 400, .sid = 200});
  fs.add({.pid = 401, .ppid = 400, .comm = "cc", .start_ticks = 41, .argv = {"cc"}, .pgid = 400, .sid = 200});
  fs.add({.pid = 402, .ppid = 401, .comm = "as", .start_ticks = 42, .argv = {"as"}, .pgid = 400, .sid = 200});
  fs.add({.pid = 403, .ppid = 400, .comm = "daemon", .start_ticks = 43, .argv = {"daemon"}, .pgid = 403, .sid = 403});
  fs.add({.pid = 404, .ppid = 403, .comm = "worker", .start_ticks = 44, .argv = {"worker"}, .pgid = 403, .sid = 403});
  fs.add({.pid = 500, .ppid = 1, .comm = "cron", .start_ticks = 50, .argv = {"cron"}});
  fs.add({.pid = 501, .ppid = 500, .comm = "job", .start_ticks = 51, .argv = {"job"}, .pgid = 501, .sid = 500});
}

core::ProcessTree scan(const FakeProcfs& fs) {
  auto reader = procfs::ProcReader::open(fs.root());
  EXPECT_TRUE(reader);
  return core::ProcessTree(reader->scan(core::kFieldStat | core::kFieldCmdline));
}

std::vector<int32_t> pids(const core::ProcessTree& t, const std::vector<size_t>& idx) {
  std::vector<int32_t> out;
  for (size_t i : idx) out.push_back(t.at(i).pid());
  return out;
}

std::vector<int32_t> members_of(const core::ProcessTree& t, int32_t target, Scope scope) {
  return pids(t, select_members(t, make_anchor(t, t.find(target), scope), kSelf));
}

class KillPlan : public ::testing::Test {
 protected:
  void SetUp() override { add_tree(fs_); }
  FakeProcfs fs_;
};

TEST_F(KillPlan, TreeIsTheTargetAndEveryDescendantTopDown) {
  auto t = scan(fs_);
  // A parent always comes before its children; by depth, then pid.
  EXPECT_EQ(members_of(t, 400, Scope::kTree), (std::vector<int32_t>{400, 401, 403, 402, 404}));
  EXPECT_EQ(members_of(t, 402, Scope::kTree), (std::vector<int32_t>{402}));
}

TEST_F(KillPlan, ChildrenLeavesTheTargetOut) {
  auto t = scan(fs_);
  EXPECT_EQ(members_of(t, 400, Scope::kChildren), (std::vector<int32_t>{401, 403, 402, 404}));
  EXPECT_TRUE(members_of(t, 402, Scope::kChildren).empty());
}

TEST_F(KillPlan, GroupIsTheTargetsProcessGroupOnly) {
  auto t = scan(fs_);
  // 403 and 404 left the group with setsid: not members.
  EXPECT_EQ(members_of(t, 402, Scope::kGroup), (std::vector<int32_t>{400, 401, 402}));
  EXPECT_EQ(members_of(t, 404, Scope::kGroup), (std::vector<int32_t>{403, 404}));
}

TEST_F(KillPlan, SessionNeverHoldsLineageItselfOrKernelThreads) {
  auto t = scan(fs_);
  EXPECT_EQ(members_of(t, 401, Scope::kSession), (std::vector<int32_t>{200, 400, 401, 402}));
  // Kernel threads have sid 0 and pgid 0: never a user's group or session.
  auto kernel = members_of(t, 3, Scope::kGroup);
  EXPECT_TRUE(kernel.empty());
}

TEST_F(KillPlan, RefusesInitKernelThreadsAncestorsAndSelf) {
  auto t = scan(fs_);
  auto refused = [&](int32_t target, Scope scope) {
    auto anchor = make_anchor(t, t.find(target), scope);
    auto members = select_members(t, anchor, kSelf);
    std::vector<std::pair<int32_t, Refusal>> out;
    for (const auto& r : refusals(t, members, t.find(target), kSelf)) out.emplace_back(t.at(r.index).pid(), r.why);
    return out;
  };
  using V = std::vector<std::pair<int32_t, Refusal>>;
  EXPECT_EQ(refused(400, Scope::kTree), V{});
  EXPECT_EQ(refused(2, Scope::kTree), (V{{2, Refusal::kKernelThread}, {3, Refusal::kKernelThread}}));
  EXPECT_EQ(refused(200, Scope::kTree), (V{{200, Refusal::kAncestor}}));  // 300 (self) is not a member
  EXPECT_EQ(refused(401, Scope::kSession), (V{{200, Refusal::kAncestor}}));
  EXPECT_EQ(refused(kSelf, Scope::kTree), (V{{kSelf, Refusal::kSelf}}));
  auto first = [](const V& v) { return v.empty() ? std::pair<int32_t, Refusal>{0, Refusal::kSelf} : v.front(); };
  EXPECT_EQ(first(refused(1, Scope::kTree)), (std::pair<int32_t, Refusal>{1, Refusal::kInit}));
  // The sshd above the shell is an ancestor too; cron's job is not.
  EXPECT_EQ(first(refused(100, Scope::kTree)), (std::pair<int32_t, Refusal>{100, Refusal::kAncestor}));
  EXPECT_EQ(refused(501, Scope::kTree), V{});
  // --children of the shell: the shell is not a member, its other children are fine.
  EXPECT_EQ(refused(200, Scope::kChildren), V{});
}

TEST_F(KillPlan, RescanCatchesForksAndReusedPidsButNotStrangers) {
  auto before = scan(fs_);
  auto anchor = make_anchor(before, before.find(400), Scope::kTree);
  std::vector<Identity> held;
  for (size_t i : select_members(before, anchor, kSelf)) held.push_back({before.at(i).pid(), before.at(i).stat.start_ticks});

  // Meanwhile: 402 forked 405, 405 forked 406, 404 forked 407; 401 exited
  // and its pid was reused by a new child of make [60]; cron started 408.
  fs_.add({.pid = 405, .ppid = 402, .comm = "as2", .start_ticks = 55, .argv = {"as2"}, .pgid = 400, .sid = 200});
  fs_.add({.pid = 406, .ppid = 405, .comm = "as3", .start_ticks = 56, .argv = {"as3"}, .pgid = 400, .sid = 200});
  fs_.add({.pid = 407, .ppid = 404, .comm = "w2", .start_ticks = 57, .argv = {"w2"}, .pgid = 403, .sid = 403});
  fs_.add({.pid = 401, .ppid = 400, .comm = "cc", .start_ticks = 60, .argv = {"cc"}, .pgid = 400, .sid = 200});
  fs_.add({.pid = 408, .ppid = 500, .comm = "job2", .start_ticks = 61, .argv = {"job2"}, .pgid = 408, .sid = 500});
  auto after = scan(fs_);
  // 402 lost its parent (401 [41] exited; the new 401 started after it), so
  // it is a root now, but it is held: what it forked is caught. Top-down:
  // 405 and 406 hang from the root 402, 401 and 407 from deep in the tree.
  EXPECT_EQ(pids(after, new_members(after, anchor, held, kSelf)), (std::vector<int32_t>{405, 406, 401, 407}));

  // Once those are held too, nothing is new: the rounds end.
  for (size_t i : new_members(after, anchor, held, kSelf)) held.push_back({after.at(i).pid(), after.at(i).stat.start_ticks});
  EXPECT_TRUE(new_members(after, anchor, held, kSelf).empty());
}

TEST_F(KillPlan, RescanOfAGroupTakesNewcomersOfTheGroupAnywhere) {
  auto before = scan(fs_);
  auto anchor = make_anchor(before, before.find(401), Scope::kGroup);
  std::vector<Identity> held;
  for (size_t i : select_members(before, anchor, kSelf)) held.push_back({before.at(i).pid(), before.at(i).stat.start_ticks});
  fs_.add({.pid = 409, .ppid = 1, .comm = "stray", .start_ticks = 62, .argv = {"stray"}, .pgid = 400, .sid = 200});
  fs_.add({.pid = 410, .ppid = 401, .comm = "left", .start_ticks = 63, .argv = {"left"}, .pgid = 410, .sid = 200});
  auto after = scan(fs_);
  EXPECT_EQ(pids(after, new_members(after, anchor, held, kSelf)), (std::vector<int32_t>{409}));
}

TEST_F(KillPlan, ChildrenRescanStartsBelowTheUnheldTarget) {
  auto before = scan(fs_);
  auto anchor = make_anchor(before, before.find(403), Scope::kChildren);
  std::vector<Identity> held;
  for (size_t i : select_members(before, anchor, kSelf)) held.push_back({before.at(i).pid(), before.at(i).stat.start_ticks});
  fs_.add({.pid = 411, .ppid = 403, .comm = "new", .start_ticks = 64, .argv = {"new"}, .pgid = 403, .sid = 403});
  auto after = scan(fs_);
  EXPECT_EQ(pids(after, new_members(after, anchor, held, kSelf)), (std::vector<int32_t>{411}));
}

TEST_F(KillPlan, TargetWhosePidWasReusedSelectsNothing) {
  auto before = scan(fs_);
  auto anchor = make_anchor(before, before.find(403), Scope::kTree);
  fs_.add({.pid = 403, .ppid = 1, .comm = "other", .start_ticks = 70, .argv = {"other"}});
  auto after = scan(fs_);
  EXPECT_TRUE(select_members(after, anchor, kSelf).empty());
}

TEST(Signals, NamesAndNumbers) {
  EXPECT_EQ(parse_signal("TERM"), SIGTERM);
  EXPECT_EQ(parse_signal("SIGTERM"), SIGTERM);
  EXPECT_EQ(parse_signal("sigkill"), SIGKILL);
  EXPECT_EQ(parse_signal("int"), SIGINT);
  EXPECT_EQ(parse_signal("9"), SIGKILL);
  EXPECT_EQ(parse_signal("15"), SIGTERM);
  EXPECT_EQ(parse_signal("RTMIN"), SIGRTMIN);
  EXPECT_EQ(parse_signal("RTMIN+3"), SIGRTMIN + 3);
  EXPECT_EQ(parse_signal("SIGRTMAX-1"), SIGRTMAX - 1);
  EXPECT_EQ(parse_signal(std::to_string(SIGRTMAX)), SIGRTMAX);
  for (const char* bad : {"", "FOO", "SIG", "0", "-9", "65", "9x", "RTMIN-1", "RTMIN+99", "TERM ", "99999999999"}) {
    EXPECT_EQ(parse_signal(bad), std::nullopt) << bad;
  }
  EXPECT_EQ(signal_name(SIGTERM), "TERM");
  EXPECT_EQ(signal_name(SIGKILL), "KILL");
  EXPECT_EQ(signal_name(SIGABRT), "ABRT");
  EXPECT_EQ(signal_name(SIGRTMIN + 2), "RTMIN+2");
}


// ---- the cgroup freezer's path of a process --------------------------------

namespace freezer {

core::CgroupEntry line(uint32_t hierarchy, std::string controllers, std::string path) {
  return core::CgroupEntry{hierarchy, std::move(controllers), std::move(path)};
}

TEST(FreezerPath, V2IsTheUnifiedLine) {
  std::vector<core::CgroupEntry> hybrid = {line(6, "freezer", "/docker/abc"), line(4, "memory", "/m"),
                                          line(0, "", "/system.slice/nginx.service")};
  EXPECT_EQ(freezer_path(hybrid, true), "/system.slice/nginx.service");
  EXPECT_EQ(freezer_path(hybrid, false), "/docker/abc");
}

TEST(FreezerPath, V1NeedsTheFreezerController) {
  // A hierarchy naming freezer among others counts; one without it does not,
  // nor a controller whose name merely contains "freezer".
  EXPECT_EQ(freezer_path({line(3, "cpu,freezer", "/job")}, false), "/job");
  EXPECT_EQ(freezer_path({line(3, "cpu,cpuacct", "/job")}, false), "");
  EXPECT_EQ(freezer_path({line(3, "name=notfreezer", "/job")}, false), "");
  // A v1-only system has no unified line.
  EXPECT_EQ(freezer_path({line(6, "freezer", "/x")}, true), "");
}

}  // namespace freezer

}  // namespace
}  // namespace lineage::act
