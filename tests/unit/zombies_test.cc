#include "core/zombies.h"

#include <gtest/gtest.h>

#include "explain/reaping.h"
#include "fake_procfs.h"
#include "procfs/reader.h"

namespace lineage::core {
namespace {

using testing::FakeProcess;
using testing::FakeProcfs;

ProcessTree scan(const FakeProcfs& fs, FieldMask fields = kFieldStat) {
  auto reader = procfs::ProcReader::open(fs.root());
  EXPECT_TRUE(reader);
  return ProcessTree(reader->scan(fields));
}

std::vector<int32_t> pids(const ProcessTree& tree, const ZombieGroup& g) {
  std::vector<int32_t> out;
  for (size_t i : g.zombies) out.push_back(tree.at(i).pid());
  return out;
}

//   1 init
//   ├─ 100 factory          (3 zombies: 103 oldest, 101, 102 newest)
//   │   ├─ 101 Z  ├─ 102 Z  ├─ 103 Z
//   │   └─ 104 worker (S)
//   ├─ 200 app              (a zombie leader whose other threads live)
//   │   └─ 201 Z, 3 threads
//   └─ 300 Z                (adopted by init)
TEST(Zombies, GroupsByParentLargestFirstOldestFirst) {
  FakeProcfs fs(1000.0);
  fs.add({.pid = 1, .comm = "init", .start_ticks = 1, .argv = {"/sbin/init"}});
  fs.add({.pid = 100, .ppid = 1, .comm = "factory", .start_ticks = 500, .argv = {"factory"}});
  fs.add({.pid = 101, .ppid = 100, .comm = "child", .state = 'Z', .start_ticks = 700});
  fs.add({.pid = 102, .ppid = 100, .comm = "child", .state = 'Z', .start_ticks = 900});
  fs.add({.pid = 103, .ppid = 100, .comm = "child", .state = 'Z', .start_ticks = 600});
  fs.add({.pid = 104, .ppid = 100, .comm = "worker", .start_ticks = 800, .argv = {"worker"}});
  fs.add({.pid = 200, .ppid = 1, .comm = "app", .start_ticks = 500, .argv = {"app"}});
  fs.add({.pid = 201, .ppid = 200, .comm = "threaded", .state = 'Z', .start_ticks = 600, .threads = 3});
  fs.add({.pid = 300, .ppid = 1, .comm = "orphan", .state = 'Z', .start_ticks = 650});
  ProcessTree tree = scan(fs);
  auto groups = group_zombies(tree);
  ASSERT_EQ(groups.size(), 2u);  // 201 is a live process: its leader thread exited
  EXPECT_EQ(groups[0].parent_pid, 100);
  EXPECT_EQ(pids(tree, groups[0]), (std::vector<int32_t>{103, 101, 102}));
  EXPECT_EQ(groups[0].reaper, Reaper::kParent);
  EXPECT_EQ(groups[0].oldest_start_ns, 600ull * 10'000'000);
  EXPECT_EQ(groups[0].newest_start_ns, 900ull * 10'000'000);
  ASSERT_NE(groups[0].parent, ProcessTree::kNone);
  EXPECT_EQ(tree.at(groups[0].parent).pid(), 100);
  EXPECT_EQ(groups[1].parent_pid, 1);
  EXPECT_EQ(pids(tree, groups[1]), (std::vector<int32_t>{300}));
  EXPECT_EQ(groups[1].reaper, Reaper::kInit);
}

TEST(Zombies, NoneWhenNothingIsZombie) {
  FakeProcfs fs;
  fs.add({.pid = 1, .comm = "init", .start_ticks = 1, .argv = {"/sbin/init"}});
  fs.add({.pid = 5, .ppid = 1, .comm = "dead-thread-leader", .state = 'Z', .start_ticks = 5, .threads = 2});
  fs.add({.pid = 6, .ppid = 2, .comm = "kworker", .state = 'Z', .start_ticks = 5, .flags = kPfKthread});
  EXPECT_TRUE(group_zombies(scan(fs)).empty());
}

TEST(Zombies, ContainerInitIsNamespaceInit) {
  FakeProcfs fs;
  fs.add({.pid = 1, .comm = "init", .start_ticks = 1, .argv = {"/sbin/init"}});
  fs.add({.pid = 40, .ppid = 1, .comm = "app", .start_ticks = 5, .argv = {"app"}});
  fs.write(40, "status", "Name:\tapp\nPid:\t40\nPPid:\t1\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nNSpid:\t40\t1\n");
  fs.add({.pid = 41, .ppid = 1, .comm = "other", .start_ticks = 5, .argv = {"other"}});
  ProcessTree tree = scan(fs, kFieldStat | kFieldStatus);
  EXPECT_TRUE(is_namespace_init(tree.at(tree.find(40))));
  EXPECT_TRUE(is_namespace_init(tree.at(tree.find(1))));
  EXPECT_FALSE(is_namespace_init(tree.at(tree.find(41))));
}

explain::Source source(std::string kind, std::vector<std::pair<std::string, std::string>> details,
                       bool verified = true) {
  explain::Source s;
  s.kind = std::move(kind);
  s.details = std::move(details);
  s.verified = verified;
  return s;
}

TEST(Reaping, RestartNamesTheMostSpecificServiceContainerOrProgram) {
  using explain::restart_of;
  EXPECT_EQ(restart_of({source("shell", {}), source("systemd", {{"unit", "web.service"}, {"manager", "system"}})})
                .command,
            "systemctl restart web.service");
  EXPECT_EQ(restart_of({source("systemd", {{"unit", "app.service"}, {"manager", "user"}})}).command,
            "systemctl --user restart app.service");
  // A login session's scope is not a thing to restart; the claim of an
  // unverified supervisor is not either.
  EXPECT_EQ(restart_of({source("systemd", {{"unit", "session-3.scope"}})}).command, "");
  EXPECT_EQ(restart_of({source("supervisor", {{"manager", "supervisord"}, {"program", "w"}}, false)}).command, "");
  EXPECT_EQ(restart_of({source("supervisor", {{"manager", "supervisord"}, {"program", "worker"}}),
                        source("systemd", {{"unit", "supervisor.service"}})})
                .command,
            "supervisorctl restart worker");
  EXPECT_EQ(restart_of({source("container", {{"runtime", "docker"}, {"name", "web1"}})}).command,
            "docker restart web1");
  EXPECT_EQ(restart_of({source("container", {{"runtime", "containerd"}, {"name", "c"}, {"pod", "p-1"},
                                             {"namespace", "prod"}})})
                .command,
            "kubectl delete pod -n prod p-1");
  // A name a shell would read as more than a name is never suggested.
  EXPECT_EQ(restart_of({source("systemd", {{"unit", "x;rm -rf ~.service"}})}).command, "");
}

TEST(Reaping, AdviceFitsTheReaper) {
  ZombieGroup g;
  g.parent_pid = 4242;
  explain::Restart r{"systemd", "web.service", "systemctl restart web.service"};
  std::string a = explain::zombie_advice(g, "python3", r);
  EXPECT_NE(a.find("pid 4242 (python3) must wait()"), std::string::npos) << a;
  EXPECT_NE(a.find("systemctl restart web.service"), std::string::npos) << a;
  g.reaper = Reaper::kSubreaper;
  a = explain::zombie_advice(g, "sub", {});
  EXPECT_NE(a.find("subreaper"), std::string::npos) << a;
  EXPECT_NE(a.find("restart it by hand"), std::string::npos) << a;
  g.reaper = Reaper::kInit;
  a = explain::zombie_advice(g, "app", {});
  EXPECT_NE(a.find("init of its pid namespace"), std::string::npos) << a;
}

}  // namespace
}  // namespace lineage::core
