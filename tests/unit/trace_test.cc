// The spawn tree of `lineage trace`, built from synthetic events, and its
// three renderings.
//
//   100 make (root, forked by lineage 50)
//   ├─ 101 sh -c "cc -c a.c"  → exec cc
//   │  └─ 103 cc1             (exits with code 1)
//   └─ 102 (fork, no exec)    killed by SIGTERM
//   and, not ours: 200 (forked by 60), 201 (forked by 200)
#include <gtest/gtest.h>

#include <signal.h>

#include <algorithm>

#include "output/trace_writer.h"
#include "trace/spawn_tree.h"

namespace lineage::trace {
namespace {

constexpr uint64_t kMs = 1'000'000;
constexpr uint64_t kT0 = 1000 * kMs;

core::Event fork_of(int32_t pid, int32_t ppid, uint64_t t, uint64_t parent_start = 0, const char* comm = "make") {
  core::Event e;
  e.kind = core::EventKind::kFork;
  e.pid = e.tid = pid;
  e.ppid = ppid;
  e.time_ns = t;
  e.start_time_ns = t;
  e.parent_start_time_ns = parent_start;
  e.comm = comm;
  return e;
}

core::Event exec_of(int32_t pid, uint64_t t, uint64_t start, std::vector<std::string> argv) {
  core::Event e;
  e.kind = core::EventKind::kExec;
  e.pid = e.tid = pid;
  e.time_ns = t;
  e.start_time_ns = start;
  e.exe = "/usr/bin/" + argv.front();
  e.comm = argv.front();
  e.argv = std::move(argv);
  return e;
}

core::Event exit_of(int32_t pid, uint64_t t, uint64_t start, int32_t status, uint64_t cpu_ns = 0) {
  core::Event e;
  e.kind = core::EventKind::kExit;
  e.pid = e.tid = pid;
  e.time_ns = t;
  e.start_time_ns = start;
  e.exit_code = status;
  e.cpu_ns = cpu_ns;
  return e;
}

// The tree drawn above, every event applied in order.
SpawnTree build() {
  SpawnTree tree(100, kT0 - kMs);
  std::vector<core::Event> events = {
      fork_of(100, 50, kT0),  // the root's own fork (parent: lineage)
      exec_of(100, kT0 + 1 * kMs, kT0, {"make", "-j2"}),
      fork_of(200, 60, kT0 + 2 * kMs),  // someone else's
      fork_of(101, 100, kT0 + 3 * kMs, kT0),
      fork_of(102, 100, kT0 + 4 * kMs, kT0),
      exec_of(101, kT0 + 5 * kMs, kT0 + 3 * kMs, {"sh", "-c", "cc -c a.c"}),
      exec_of(101, kT0 + 6 * kMs, kT0 + 3 * kMs, {"cc", "-c", "a.c"}),
      fork_of(103, 101, kT0 + 7 * kMs, kT0 + 3 * kMs, "cc"),
      fork_of(201, 200, kT0 + 8 * kMs, kT0 + 2 * kMs),  // a grandchild of someone else's
      exec_of(103, kT0 + 9 * kMs, kT0 + 7 * kMs, {"cc1", "a.c"}),
      exec_of(201, kT0 + 9 * kMs, kT0 + 8 * kMs, {"other"}),
      exit_of(103, kT0 + 20 * kMs, kT0 + 7 * kMs, 1 << 8, 9 * kMs),
      exit_of(101, kT0 + 21 * kMs, kT0 + 3 * kMs, 1 << 8, 12 * kMs),
      exit_of(102, kT0 + 22 * kMs, kT0 + 4 * kMs, SIGTERM),
      exit_of(201, kT0 + 23 * kMs, kT0 + 8 * kMs, 0),
      exit_of(100, kT0 + 30 * kMs, kT0, 2 << 8, 3 * kMs),
  };
  for (const auto& e : events) tree.apply(e);
  return tree;
}

TEST(SpawnTree, KeepsOnlyTheCommandsDescendantsByForkParent) {
  SpawnTree tree = build();
  const auto& ps = tree.processes();
  ASSERT_EQ(ps.size(), 4u);
  std::vector<int32_t> pids;
  for (const auto& p : ps) pids.push_back(p.pid);
  EXPECT_EQ(pids, (std::vector<int32_t>{100, 101, 102, 103}));
  EXPECT_EQ(ps[0].children, (std::vector<size_t>{1, 2}));
  EXPECT_EQ(ps[1].children, (std::vector<size_t>{3}));
  EXPECT_EQ(ps[3].parent, 1u);
  EXPECT_EQ(ps[3].ppid, 101);
  EXPECT_TRUE(tree.running().empty());
}

TEST(SpawnTree, RecordsEveryExecExitAndCpuTime) {
  SpawnTree tree = build();
  const auto& ps = tree.processes();
  EXPECT_EQ(ps[0].start_time_ns, kT0);  // learnt from its own fork event
  EXPECT_EQ(ps[0].fork_ns, kT0);
  ASSERT_EQ(ps[1].execs.size(), 2u);
  EXPECT_EQ(ps[1].execs[0].argv.front(), "sh");
  EXPECT_EQ(ps[1].execs[1].argv, (std::vector<std::string>{"cc", "-c", "a.c"}));
  EXPECT_EQ(ps[1].comm, "cc");
  EXPECT_EQ(ps[1].exec_ns(), kT0 + 5 * kMs);
  EXPECT_TRUE(ps[2].execs.empty());
  EXPECT_EQ(ps[2].exec_ns(), kT0 + 4 * kMs);  // never exec'd: its fork
  EXPECT_EQ(ps[3].ending, Ending::kExited);
  EXPECT_EQ(ps[3].exit_ns - ps[3].fork_ns, 13 * kMs);
  EXPECT_EQ(describe_wait_status(ps[3].wait_status), "exit 1");
  EXPECT_TRUE(ps[3].cpu_known && ps[3].cpu_final);
  EXPECT_EQ(ps[3].cpu_ns, 9 * kMs);
  EXPECT_FALSE(ps[2].cpu_known);  // its exit had no CPU time
  EXPECT_EQ(describe_wait_status(ps[2].wait_status), "signal TERM");
}

TEST(SpawnTree, ADaemonLeftBehindIsStillRunning) {
  SpawnTree tree(100, kT0);
  tree.apply(fork_of(100, 50, kT0));
  tree.apply(fork_of(101, 100, kT0 + kMs, kT0));
  tree.apply(exec_of(101, kT0 + 2 * kMs, kT0 + kMs, {"sleep", "30"}));
  tree.apply(exit_of(100, kT0 + 3 * kMs, kT0, 0));
  EXPECT_EQ(tree.running(), (std::vector<size_t>{1}));
  EXPECT_TRUE(tree.processes()[1].alive());
  EXPECT_FALSE(tree.root().alive());
  // Its children are still followed after the command is gone.
  auto child = tree.apply(fork_of(102, 101, kT0 + 4 * kMs, kT0 + kMs));
  ASSERT_TRUE(child.has_value());
  EXPECT_EQ(tree.processes()[*child].parent, 1u);
}

TEST(SpawnTree, AReusedPidIsNotConfusedWithATracedProcess) {
  SpawnTree tree(100, kT0);
  tree.apply(fork_of(100, 50, kT0));
  tree.apply(fork_of(101, 100, kT0 + kMs, kT0));
  // An exec and an exit of some other process that holds pid 101 (a start
  // time far from the traced one's) do not touch the traced process.
  EXPECT_FALSE(tree.apply(exec_of(101, kT0 + 2 * kMs, kT0 + 500 * kMs, {"intruder"})).has_value());
  EXPECT_FALSE(tree.apply(exit_of(101, kT0 + 3 * kMs, kT0 + 500 * kMs, 0)).has_value());
  EXPECT_TRUE(tree.processes()[1].alive());
  EXPECT_TRUE(tree.processes()[1].execs.empty());
  // A fork whose parent pid is ours but whose parent start time is not.
  EXPECT_FALSE(tree.apply(fork_of(102, 101, kT0 + 4 * kMs, kT0 + 500 * kMs)).has_value());
  // Threads are not processes.
  core::Event thread = fork_of(103, 100, kT0 + 5 * kMs, kT0);
  thread.thread = true;
  EXPECT_FALSE(tree.apply(thread).has_value());
  EXPECT_EQ(tree.processes().size(), 2u);
}

TEST(SpawnTree, LostEventsAreCountedAndAProcessCanVanish) {
  SpawnTree tree(100, kT0);
  tree.apply(fork_of(100, 50, kT0));
  tree.apply(fork_of(101, 100, kT0 + kMs, kT0));
  core::Event lost;
  lost.kind = core::EventKind::kLost;
  lost.lost = 7;
  tree.apply(lost);
  EXPECT_EQ(tree.lost(), 7u);
  tree.mark_vanished(1);
  EXPECT_EQ(tree.processes()[1].ending, Ending::kVanished);
  EXPECT_EQ(tree.running(), (std::vector<size_t>{0}));
  EXPECT_FALSE(tree.find_pid(101).has_value());
}

core::Process proc_of(int32_t pid, int32_t ppid, uint64_t start, std::vector<std::string> argv) {
  core::Process p;
  p.key = {pid, start};
  p.stat.pid = pid;
  p.stat.ppid = ppid;
  p.stat.comm = argv.front();
  p.argv = std::move(argv);
  return p;
}

TEST(SpawnTree, ReconcileAddsWhatLostEventsHidAndClosesWhatVanished) {
  SpawnTree tree(100, kT0);
  tree.apply(fork_of(100, 50, kT0));
  tree.apply(fork_of(101, 100, kT0 + kMs, kT0));
  tree.apply(fork_of(102, 100, kT0 + 2 * kMs, kT0));
  // Events were lost: 101 exited unseen; 103 (below 100) and 104 (below
  // 103) were forked unseen; 300 is not ours; 105 holds a pid whose parent
  // pid is ours but it started before that parent (not its child).
  std::vector<core::Process> snapshot = {
      proc_of(104, 103, kT0 + 6 * kMs, {"cc1", "x.c"}),   // listed before its parent
      proc_of(100, 50, kT0, {"make"}),
      proc_of(102, 100, kT0 + 2 * kMs, {"sh"}),
      proc_of(103, 100, kT0 + 5 * kMs, {"cc", "-c", "x.c"}),
      proc_of(300, 1, kT0 + 5 * kMs, {"other"}),
      proc_of(105, 102, kT0 - 500 * kMs, {"old"}),
  };
  EXPECT_EQ(tree.reconcile(snapshot, kT0 + 10 * kMs), 3u);
  const auto& ps = tree.processes();
  ASSERT_EQ(ps.size(), 5u);
  EXPECT_EQ(ps[1].ending, Ending::kVanished);
  EXPECT_EQ(ps[3].pid, 103);
  EXPECT_TRUE(ps[3].backfilled);
  EXPECT_EQ(ps[3].parent, 0u);
  ASSERT_EQ(ps[3].execs.size(), 1u);
  EXPECT_EQ(ps[3].execs[0].argv, (std::vector<std::string>{"cc", "-c", "x.c"}));
  EXPECT_EQ(ps[4].pid, 104);
  EXPECT_EQ(ps[4].parent, 3u);
  // Their later events are followed as usual.
  EXPECT_TRUE(tree.apply(exit_of(104, kT0 + 20 * kMs, kT0 + 6 * kMs, 0)).has_value());
}

TEST(SpawnTree, CpuFromProcNeverReplacesTheExitsFigure) {
  SpawnTree tree(100, kT0);
  tree.apply(fork_of(100, 50, kT0));
  tree.note_cpu(0, 5 * kMs, false);
  tree.note_cpu(0, 3 * kMs, false);  // older and smaller: ignored
  EXPECT_EQ(tree.root().cpu_ns, 5 * kMs);
  tree.apply(exit_of(100, kT0 + 9 * kMs, kT0, 0, 8 * kMs));
  tree.note_cpu(0, 20 * kMs, false);
  EXPECT_EQ(tree.root().cpu_ns, 8 * kMs);
  EXPECT_TRUE(tree.root().cpu_final);
}

TEST(WaitStatus, DescribedAndMappedAsAShellWould) {
  EXPECT_EQ(describe_wait_status(0), "exit 0");
  EXPECT_EQ(describe_wait_status(7 << 8), "exit 7");
  EXPECT_EQ(describe_wait_status(SIGKILL), "signal KILL");
  EXPECT_EQ(describe_wait_status(SIGSEGV | 0x80), "signal SEGV (core dumped)");
  EXPECT_EQ(describe_wait_status(-1), "unknown");
  EXPECT_EQ(shell_exit_status(7 << 8), 7);
  EXPECT_EQ(shell_exit_status(SIGTERM), 143);
  EXPECT_EQ(shell_exit_status(0), 0);
}

TraceResult result_of(const SpawnTree& tree) {
  TraceResult r;
  r.command = {"make", "-j2"};
  r.source = "bpf";
  r.start_ns = tree.root().fork_ns;
  r.end_ns = kT0 + 31 * kMs;
  r.wait_status = 2 << 8;
  r.processes = tree.processes();
  return r;
}

TEST(TraceWriter, TextShowsTheTreeWithArgvStatusAndCpu) {
  std::string text = output::render_trace_text(result_of(build()));
  EXPECT_NE(text.find("exit 2 after 0.030s; 4 processes (0 left running)"), std::string::npos) << text;
  EXPECT_NE(text.find("+0.007s    0.013s    0.009s exit 1             103  │  └─ cc1 a.c"), std::string::npos) << text;
  EXPECT_NE(text.find("signal TERM"), std::string::npos);
  EXPECT_NE(text.find("unknown"), std::string::npos);  // 102's CPU time
  EXPECT_NE(text.find("└─ (make)"), std::string::npos) << text;  // forked, never exec'd
  EXPECT_EQ(text.find("Left running"), std::string::npos);
}

TEST(TraceWriter, TextListsWhatWasLeftRunning) {
  SpawnTree tree(100, kT0);
  tree.apply(fork_of(100, 50, kT0));
  tree.apply(fork_of(101, 100, kT0 + kMs, kT0));
  tree.apply(exec_of(101, kT0 + 2 * kMs, kT0 + kMs, {"sleep", "30"}));
  tree.apply(exit_of(100, kT0 + 3 * kMs, kT0, 0));
  std::string text = output::render_trace_text(result_of(tree));
  EXPECT_NE(text.find("Left running (not waited for): 1 process\n  pid 101     sleep 30"), std::string::npos) << text;
}

TEST(TraceWriter, JsonDocument) {
  output::Json j = output::trace_json(result_of(build()));
  EXPECT_EQ(j["schema"], "lineage.trace/v1");
  EXPECT_EQ(j["exit_status"], 2);
  ASSERT_EQ(j["processes"].size(), 4u);
  const auto& cc = j["processes"][1];
  EXPECT_EQ(cc["pid"], 101);
  EXPECT_EQ(cc["ppid"], 100);
  EXPECT_EQ(cc["argv"], output::Json::array({"cc", "-c", "a.c"}));
  EXPECT_EQ(cc["execs"].size(), 2u);
  EXPECT_EQ(cc["exit_code"], 1);
  EXPECT_TRUE(cc["signal"].is_null());
  EXPECT_EQ(j["processes"][2]["signal"], "TERM");
  EXPECT_TRUE(j["processes"][2]["cpu_seconds"].is_null());
  EXPECT_EQ(j["processes"][3]["cpu_from"], "exit");
  EXPECT_TRUE(j["left_running"].empty());
}

TEST(TraceWriter, ChromeHasOneCompleteEventPerProcessOnItsOwnTrack) {
  output::Json j = output::trace_chrome_json(result_of(build()));
  std::vector<const output::Json*> complete;
  for (const auto& e : j["traceEvents"]) {
    if (e["ph"] == "X") complete.push_back(&e);
  }
  ASSERT_EQ(complete.size(), 4u);
  // Depth first in fork order: 100, 101, 103, 102.
  const output::Json& cc1 = *complete[2];
  EXPECT_EQ(cc1["name"], "cc1 a.c");
  EXPECT_EQ(cc1["pid"], 103);
  EXPECT_EQ(cc1["tid"], 103);
  EXPECT_EQ(cc1["args"]["ppid"], 101);
  EXPECT_DOUBLE_EQ(cc1["ts"].get<double>(), 9000.0);   // its exec, µs after the command's start
  EXPECT_DOUBLE_EQ(cc1["dur"].get<double>(), 11000.0);  // to its exit
}

}  // namespace
}  // namespace lineage::trace
