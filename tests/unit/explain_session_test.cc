// An orphan explained through its session: the leader's chain, read from a
// fake proc tree, when the leader is alive, has exited, is a reused pid, is
// the orphan itself, and when both chains name the same unit.
//
//   1 init
//   ├─ 600 sshd -D                 /usr/sbin/sshd, root
//   │  └─ 610 sshd: root [priv]
//   │     └─ 611 sshd: root@pts/1
//   │        └─ 612 -bash          session leader, pts/1, SSH_CONNECTION
//   └─ 700 sleep 300               sid 612: `nohup sleep 300 &`, its shell gone
#include <gtest/gtest.h>

#include "explain/report.h"
#include "explain/session.h"
#include "fake_procfs.h"
#include "fake_verifier.h"

namespace lineage::explain {
namespace {

using testing::FakeProcfs;

struct Fixture {
  FakeProcfs fs;
  testing::FakeVerifier verifier;
  Paths paths;

  Fixture() {
    paths.etc = fs.root() + "/fixture/etc";
    paths.lib_systemd = fs.root() + "/fixture/lib/systemd";
    paths.run = fs.root() + "/fixture/run";
    paths.docker = fs.root() + "/fixture/docker";
    paths.var_spool_cron = fs.root() + "/fixture/spool";
    fs.add({.pid = 1, .comm = "init", .start_ticks = 1, .argv = {"/sbin/init"}});
    fs.add({.pid = 600, .ppid = 1, .comm = "sshd", .start_ticks = 10, .argv = {"/usr/sbin/sshd", "-D"}});
    fs.add({.pid = 610, .ppid = 600, .comm = "sshd", .start_ticks = 100, .argv = {"sshd: root [priv]"}});
    fs.add({.pid = 611, .ppid = 610, .comm = "sshd", .start_ticks = 101, .argv = {"sshd: root@pts/1"}});
    fs.add({.pid = 612, .ppid = 611, .comm = "bash", .start_ticks = 102, .argv = {"-bash"}, .tty_nr = 34817});
    fs.write(612, "environ", std::string("USER=root\0SSH_CONNECTION=10.0.0.7 52114 10.0.0.1 22\0", 52));
    for (int pid : {600, 610, 611}) fs.link(pid, "exe", "/usr/sbin/sshd");
    fs.link(1, "exe", "/sbin/init");
    fs.link(612, "exe", "/usr/bin/bash");
  }
  // The orphan: parent init, in session `sid`, started at `start` ticks.
  void add_orphan(int pid, int sid, uint64_t start) {
    fs.add({.pid = pid, .ppid = 1, .comm = "sleep", .start_ticks = start, .argv = {"sleep", "300"},
            .pgid = pid - 1, .sid = sid});
    fs.link(pid, "exe", "/usr/bin/sleep");
  }
  Report explain(int pid) {
    auto reader = procfs::ProcReader::open(fs.root());
    EXPECT_TRUE(reader);
    ReportOptions o;
    o.want_git = false;
    o.verifier = &verifier;
    auto r = explain_pid(*reader, reader->system_info(), paths, pid, o);
    EXPECT_TRUE(r);
    return std::move(*r);
  }
};

const Source* find(const Report& r, const std::string& kind) {
  for (const auto& s : r.sources) {
    if (s.kind == kind) return &s;
  }
  return nullptr;
}

std::string detail(const Source* s, const std::string& key) {
  const std::string* v = s ? s->find_detail(key) : nullptr;
  return v ? *v : "<none>";
}

bool has_warning(const Report& r, const std::string& id) {
  for (const auto& w : r.warnings) {
    if (w.id == id) return true;
  }
  return false;
}

TEST(OrphanSession, LeaderAliveNamesTheSshSession) {
  Fixture f;
  f.add_orphan(700, 612, 500);
  Report r = f.explain(700);
  ASSERT_GE(r.sources.size(), 2u);
  const Source& orphan = r.sources[0];
  EXPECT_EQ(orphan.kind, "orphan");
  EXPECT_EQ(detail(&orphan, "session"), "612");
  EXPECT_EQ(detail(&orphan, "session_leader"), "612");
  EXPECT_EQ(detail(&orphan, "session_leader_command"), "-bash");
  EXPECT_FALSE(via_session(orphan));

  // Right after the orphan: the ssh session, found on the leader's chain.
  const Source& ssh = r.sources[1];
  EXPECT_EQ(ssh.kind, "ssh");
  EXPECT_TRUE(ssh.verified);
  EXPECT_EQ(detail(&ssh, "via"), "session");
  EXPECT_EQ(detail(&ssh, "session_leader"), "612");
  EXPECT_EQ(detail(&ssh, "client"), "10.0.0.7");
  EXPECT_EQ(detail(&ssh, "user"), "root");
  ASSERT_FALSE(ssh.evidence.empty());
  EXPECT_EQ(ssh.evidence[0].rfind("same session as pid 612 (leader, alive)", 0), 0u) << ssh.evidence[0];
  const Source* terminal = find(r, "terminal");
  ASSERT_NE(terminal, nullptr);
  EXPECT_TRUE(via_session(*terminal));

  std::vector<int32_t> pids;
  for (const auto& p : r.session_chain) pids.push_back(p.pid());
  EXPECT_EQ(pids, (std::vector<int32_t>{1, 600, 610, 611, 612}));
  EXPECT_EQ(r.summary, "sleep is an orphan re-parented to init, from the session of -bash (pid 612): "
                       "ssh session of root from 10.0.0.7 started bash");
  // sshd does not look after the orphan: nothing will restart it.
  EXPECT_TRUE(has_warning(r, "no-supervisor"));
  for (const auto& p : r.session_chain) EXPECT_FALSE(p.environ);  // never kept
}

TEST(OrphanSession, UnverifiedLauncherInTheSessionStaysAClaim) {
  Fixture f;
  f.verifier.untrusted.insert("/usr/sbin/sshd");
  f.add_orphan(700, 612, 500);
  Report r = f.explain(700);
  const Source* ssh = find(r, "ssh");
  ASSERT_NE(ssh, nullptr);
  EXPECT_FALSE(ssh->verified);
  EXPECT_EQ(detail(ssh, "via"), "session");
  EXPECT_TRUE(has_warning(r, "unverified-launcher"));
  // The interactive shell on pts/1 is what the leader's chain verifiably is.
  EXPECT_EQ(r.summary, "sleep is an orphan re-parented to init, from the session of -bash (pid 612): "
                       "an interactive shell on pts/1 started bash");
}

TEST(OrphanSession, LeaderDeadSaysSo) {
  Fixture f;
  f.add_orphan(700, 650, 500);  // no pid 650: the login shell exited
  Report r = f.explain(700);
  ASSERT_EQ(r.sources.size(), 1u);
  const Source& orphan = r.sources[0];
  EXPECT_EQ(detail(&orphan, "session"), "650");
  EXPECT_EQ(detail(&orphan, "session_leader"), "<none>");
  EXPECT_EQ(detail(&orphan, "session_leader_exited"), "true");
  EXPECT_TRUE(r.session_chain.empty());
  EXPECT_EQ(r.summary, "sleep is an orphan re-parented to init, from session 650, whose leader has exited");
}

TEST(OrphanSession, ReusedLeaderPidIsNotFollowed) {
  Fixture f;
  f.add_orphan(700, 612, 50);  // started before pid 612 did: 612 is not its leader
  Report r = f.explain(700);
  ASSERT_EQ(r.sources.size(), 1u);
  const Source& orphan = r.sources[0];
  EXPECT_EQ(detail(&orphan, "session_leader"), "<none>");
  EXPECT_EQ(detail(&orphan, "session_leader_exited"), "true");
  bool said = false;
  for (const auto& e : orphan.evidence) said |= e.find("its pid was reused") != std::string::npos;
  EXPECT_TRUE(said);
  EXPECT_TRUE(r.session_chain.empty());
  EXPECT_EQ(find(r, "ssh"), nullptr);
}

TEST(OrphanSession, LeaderIsItselfGivesNoSessionEvidence) {
  Fixture f;
  f.add_orphan(700, 700, 500);  // setsid: it leads its own session
  Report r = f.explain(700);
  ASSERT_EQ(r.sources.size(), 1u);
  EXPECT_EQ(detail(&r.sources[0], "daemonized"), "true");
  EXPECT_EQ(detail(&r.sources[0], "session_leader"), "<none>");
  EXPECT_TRUE(r.session_chain.empty());
}

TEST(OrphanSession, KernelThreadLeaderIsNotAsked) {
  Fixture f;
  f.fs.add({.pid = 2, .comm = "kthreadd", .start_ticks = 1, .flags = 0x00208040});
  f.add_orphan(700, 2, 500);
  Report r = f.explain(700);
  ASSERT_EQ(r.sources.size(), 1u);
  EXPECT_EQ(detail(&r.sources[0], "session_leader"), "<none>");
  EXPECT_TRUE(r.session_chain.empty());
}

TEST(OrphanSession, UnitOfBothChainsIsReportedOnce) {
  Fixture f;
  const std::string unit = "0::/system.slice/lineage-job.service\n";
  for (int pid : {600, 610, 611, 612}) f.fs.write(pid, "cgroup", unit);
  f.add_orphan(700, 612, 500);
  f.fs.write(700, "cgroup", unit);
  Report r = f.explain(700);
  int units = 0;
  for (const auto& s : r.sources) units += s.kind == "systemd";
  EXPECT_EQ(units, 1);
  const Source* systemd = find(r, "systemd");
  ASSERT_NE(systemd, nullptr);
  EXPECT_FALSE(via_session(*systemd));  // the orphan's own cgroup says it
  const Source* ssh = find(r, "ssh");
  ASSERT_NE(ssh, nullptr);
  EXPECT_TRUE(via_session(*ssh));
  EXPECT_FALSE(has_warning(r, "no-supervisor"));
}

}  // namespace
}  // namespace lineage::explain
