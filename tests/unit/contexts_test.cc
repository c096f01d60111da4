// ContextCache on a fake /proc: the launch context of every process,
// explained once per candidate root and inherited below it.
//
//   init (1, /sbin/init)
//   ├─ cron (500, /usr/sbin/cron)
//   │  └─ cron (600, per-job child)
//   │     └─ /bin/sh -c python3 analyze_data.py (601)   the crontab line's job
//   │        └─ python3 analyze_data.py (700 .. 719)     20 busy workers
//   ├─ nginx (800, cgroup /system.slice/nginx.service)
//   │  └─ nginx (801, worker)
//   └─ bash (900, no launch context: its own subtree)
//      └─ sleep (901)
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "core/process_tree.h"
#include "explain/contexts.h"
#include "fake_procfs.h"
#include "fake_verifier.h"

namespace lineage::explain {
namespace {

using testing::FakeProcess;
using testing::FakeProcfs;

constexpr const char* kNoUnit = "0::/\n";

struct Fixture {
  FakeProcfs fs;
  procfs::ProcReader reader = std::move(*procfs::ProcReader::open(fs.root()));
  core::SystemInfo sys = reader.system_info();
  Paths paths;
  testing::FakeVerifier verifier;
  std::string dir = fs.root() + "/fixture";

  Fixture() {
    paths.etc = dir + "/etc";
    paths.lib_systemd = dir + "/lib/systemd";
    paths.run = dir + "/run";
    paths.docker = dir + "/docker";
    paths.var_spool_cron = dir + "/spool";
    std::filesystem::create_directories(dir + "/etc/cron.d");
    std::ofstream(dir + "/etc/cron.d/analyze") << "# runaway\nSHELL=/bin/sh\n* * * * * root python3 analyze_data.py\n";
    add({.pid = 1, .ppid = 0, .comm = "init", .start_ticks = 1, .argv = {"/sbin/init"}, .cgroup = kNoUnit}, "/sbin/init");
    add({.pid = 500, .ppid = 1, .comm = "cron", .start_ticks = 50, .argv = {"/usr/sbin/cron", "-f"}, .cgroup = kNoUnit},
        "/usr/sbin/cron");
    add({.pid = 600, .ppid = 500, .comm = "cron", .start_ticks = 60, .argv = {"/usr/sbin/cron", "-f"}, .cgroup = kNoUnit},
        "/usr/sbin/cron");
    add({.pid = 601, .ppid = 600, .comm = "sh", .start_ticks = 61,
         .argv = {"/bin/sh", "-c", "python3 analyze_data.py"}, .cgroup = kNoUnit}, "/usr/bin/dash");
    for (int i = 0; i < 20; ++i) add_worker(700 + i, 70);
    add({.pid = 800, .ppid = 1, .comm = "nginx", .start_ticks = 80, .argv = {"nginx: master process"},
         .cgroup = "0::/system.slice/nginx.service\n"}, "/usr/sbin/nginx");
    add({.pid = 801, .ppid = 800, .comm = "nginx", .start_ticks = 81, .uid = 4242, .argv = {"nginx: worker process"},
         .cgroup = "0::/system.slice/nginx.service\n"}, "/usr/sbin/nginx");
    add({.pid = 900, .ppid = 1, .comm = "bash", .start_ticks = 90, .argv = {"bash"}, .cgroup = kNoUnit}, "/usr/bin/bash");
    add({.pid = 901, .ppid = 900, .comm = "sleep", .start_ticks = 91, .argv = {"sleep", "9"}, .cgroup = kNoUnit},
        "/usr/bin/sleep");
  }
  void add(const FakeProcess& p, const std::string& exe) {
    fs.add(p);
    fs.link(p.pid, "exe", exe);
    procs.push_back(p);
  }
  void add_worker(int pid, uint64_t start) {
    add({.pid = pid, .ppid = 601, .comm = "python3", .start_ticks = start,
         .argv = {"python3", "analyze_data.py"}, .cgroup = kNoUnit}, "/usr/bin/python3.12");
  }
  // The snapshot top takes: stat only.
  core::ProcessTree snapshot() { return core::ProcessTree(reader.scan(core::kFieldStat)); }
  std::vector<FakeProcess> procs;
};

const ProcessContext& of(const core::ProcessTree& tree, const std::vector<const ProcessContext*>& c, int32_t pid) {
  size_t i = tree.find(pid);
  EXPECT_NE(i, core::ProcessTree::kNone) << pid;
  return *c.at(i);
}

TEST(ContextCache, RunawayCronJobIsOneContextNamingTheLine) {
  Fixture f;
  ContextCache cache(f.reader, f.sys, f.paths, &f.verifier);
  auto tree = f.snapshot();
  auto c = cache.resolve(tree);
  ASSERT_EQ(c.size(), tree.size());
  const LaunchContext& job = *of(tree, c, 601).context;
  EXPECT_EQ(job.kind, "cron");
  EXPECT_EQ(job.key, "cron:" + f.dir + "/etc/cron.d/analyze:3");
  EXPECT_EQ(job.label, "cron job " + f.dir + "/etc/cron.d/analyze:3");
  EXPECT_EQ(job.root.pid, 601);
  EXPECT_EQ(job.launcher_pid, 500);
  for (int pid = 700; pid < 720; ++pid) EXPECT_EQ(of(tree, c, pid).context->key, job.key) << pid;
  EXPECT_FALSE(of(tree, c, 700).explained);  // inherited from the job's shell
  EXPECT_TRUE(of(tree, c, 601).explained);   // its parent is cron: a candidate
}

TEST(ContextCache, SystemdUnitAndPlainSubtrees) {
  Fixture f;
  ContextCache cache(f.reader, f.sys, f.paths, &f.verifier);
  auto tree = f.snapshot();
  auto c = cache.resolve(tree);
  EXPECT_EQ(of(tree, c, 801).context->kind, "systemd");
  EXPECT_EQ(of(tree, c, 801).context->key, "systemd:system:nginx.service");
  EXPECT_EQ(of(tree, c, 801).unit, "nginx.service");
  EXPECT_EQ(of(tree, c, 801).user, "4242");  // no such user in the test's database: the number
  EXPECT_EQ(of(tree, c, 801).context, of(tree, c, 800).context);
  // No launch context: the subtree of the child of init, named by it.
  const LaunchContext& shell = *of(tree, c, 901).context;
  EXPECT_EQ(shell.kind, "process");
  EXPECT_EQ(shell.root.pid, 900);
  EXPECT_EQ(shell.label, "bash (pid 900) of root");
  EXPECT_EQ(of(tree, c, 1).context->kind, "init");
  EXPECT_TRUE(of(tree, c, 901).unit.empty());
}

TEST(ContextCache, ExplainsOnlyCandidateRootsAndOnlyNewKeys) {
  Fixture f;
  ContextCache cache(f.reader, f.sys, f.paths, &f.verifier);
  auto tree = f.snapshot();
  cache.resolve(tree);
  // Candidates: init, cron, its job child, the job shell, nginx, bash: not
  // the 20 workers, not nginx's worker, not sleep.
  EXPECT_EQ(cache.explained(), 6u);
  EXPECT_EQ(cache.read(), tree.size());
  EXPECT_EQ(cache.size(), tree.size());

  // Again: nothing read. One new worker: only it is read, and not explained.
  cache.resolve(tree);
  EXPECT_EQ(cache.read(), tree.size());
  f.add_worker(720, 95);
  auto tree2 = f.snapshot();
  auto c2 = cache.resolve(tree2);
  EXPECT_EQ(cache.read(), tree.size() + 1);
  EXPECT_EQ(cache.explained(), 6u);
  EXPECT_EQ(of(tree2, c2, 720).context->kind, "cron");
}

TEST(ContextCache, ReusedPidIsANewProcessAndGoneOnesAreForgotten) {
  Fixture f;
  ContextCache cache(f.reader, f.sys, f.paths, &f.verifier);
  auto tree = f.snapshot();
  cache.resolve(tree);
  const size_t before = cache.size();
  // pid 901 exits; its pid is reused by a child of the cron job's shell.
  f.fs.add({.pid = 901, .ppid = 601, .comm = "python3", .start_ticks = 99, .argv = {"python3", "analyze_data.py"},
            .cgroup = kNoUnit});
  f.fs.remove(901, "exe");
  f.fs.link(901, "exe", "/usr/bin/python3.12");
  auto tree2 = f.snapshot();
  auto c2 = cache.resolve(tree2);
  EXPECT_EQ(of(tree2, c2, 901).context->kind, "cron");  // not bash's subtree any more
  EXPECT_EQ(cache.read(), before + 1);
  EXPECT_EQ(cache.size(), before);  // the old 901 forgotten
}

TEST(ContextCache, ALauncherIsKnownByItsExecutable) {
  core::Process p;
  p.exe = core::ExeInfo{"/usr/sbin/cron", false};
  EXPECT_TRUE(is_launcher(p));
  p.exe = core::ExeInfo{"/home/u/cron-like", false};
  EXPECT_FALSE(is_launcher(p));
  p.stat.comm = "sshd";  // comm is a claim, never enough
  EXPECT_FALSE(is_launcher(p));
  p.exe = core::ExeInfo{"/usr/bin/containerd-shim-runc-v2", false};
  EXPECT_TRUE(is_launcher(p));
  p.exe = core::ExeInfo{"/usr/bin/busybox", false};
  p.argv = std::vector<std::string>{"busybox", "sh"};
  EXPECT_FALSE(is_launcher(p));
  p.argv = std::vector<std::string>{"busybox", "crond", "-f"};
  EXPECT_TRUE(is_launcher(p));
}

}  // namespace
}  // namespace lineage::explain
