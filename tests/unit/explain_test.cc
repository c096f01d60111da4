// Detectors, warnings and the narrative on chains built by hand, and the
// chain walk on a fake proc tree. Each test names the evidence a detector
// must use, and the name-only guesses it must not make.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include <gtest/gtest.h>

#include "explain/chain.h"
#include "explain/detectors.h"
#include "explain/environment.h"
#include "explain/narrative.h"
#include "explain/report.h"
#include "explain/systemd_unit.h"
#include "explain/warnings.h"
#include "chain_process.h"
#include "fake_procfs.h"
#include "fake_verifier.h"
#include "procfs/parsers.h"

namespace lineage::explain {
namespace {

using testing::FakeProcfs;

using testing::proc;

struct Fixture {
  FakeProcfs fs;
  procfs::ProcReader reader = std::move(*procfs::ProcReader::open(fs.root()));
  core::SystemInfo sys = reader.system_info();
  Paths paths;
  // Launchers are judged by path here; the real check is tested on real
  // files in tests/integration/verify_test.cc.
  testing::FakeVerifier verifier;
  std::string dir = fs.root() + "/fixture";
  Fixture() {
    paths.etc = dir + "/etc";
    paths.lib_systemd = dir + "/lib/systemd";
    paths.run = dir + "/run";
    paths.docker = dir + "/docker";
    paths.var_spool_cron = dir + "/spool";
  }
  std::vector<Source> detect(const std::vector<core::Process>& chain) {
    return detect_all(Context{chain, reader, sys, paths, &verifier});
  }
  void write(const std::string& rel, const std::string& text) {
    std::filesystem::create_directories(std::filesystem::path(dir + "/" + rel).parent_path());
    std::ofstream(dir + "/" + rel) << text;
  }
};

const Source* find_kind(const std::vector<Source>& s, const std::string& kind) {
  for (const auto& x : s) {
    if (x.kind == kind) return &x;
  }
  return nullptr;
}

std::string detail(const Source* s, const std::string& key) {
  const std::string* v = s ? s->find_detail(key) : nullptr;
  return v ? *v : "<none>";
}

TEST(UnitFromCgroup, SystemUserSessionAndContainerScopes) {
  auto svc = unit_from_cgroup("/system.slice/nginx.service");
  ASSERT_TRUE(svc);
  EXPECT_EQ(svc->unit, "nginx.service");
  EXPECT_EQ(svc->manager, "system");
  EXPECT_EQ(svc->slice, "system.slice");
  auto user = unit_from_cgroup("/user.slice/user-1000.slice/user@1000.service/app.slice/syncthing.service");
  ASSERT_TRUE(user);
  EXPECT_EQ(user->unit, "syncthing.service");
  EXPECT_EQ(user->manager, "user");
  EXPECT_EQ(user->user_uid, 1000u);
  auto session = unit_from_cgroup("/user.slice/user-0.slice/session-4.scope");
  ASSERT_TRUE(session);
  EXPECT_TRUE(session->session_scope);
  auto docker = unit_from_cgroup("/system.slice/docker-0123abcd.scope");
  ASSERT_TRUE(docker);
  EXPECT_TRUE(docker->container_scope);
  EXPECT_FALSE(unit_from_cgroup("/"));
  EXPECT_FALSE(unit_from_cgroup("/docker/0123"));
}

TEST(DetectSystemd, ServiceWithUnitFile) {
  Fixture f;
  f.write("lib/systemd/system/nginx.service", "[Unit]\nDescription=A high performance web server\n[Service]\nExecStart=/usr/sbin/nginx\n");
  auto init = proc(1, 0, "/usr/lib/systemd/systemd", {"/sbin/init"});
  auto nginx = proc(500, 1, "/usr/sbin/nginx", {"nginx: master process"});
  auto worker = proc(501, 500, "/usr/sbin/nginx", {"nginx: worker process"});
  for (auto* p : {&nginx, &worker}) p->cgroups = procfs::parse_cgroup("0::/system.slice/nginx.service\n");
  auto sources = f.detect({init, nginx, worker});
  const Source* s = find_kind(sources, "systemd");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->name, "nginx.service");
  EXPECT_EQ(s->pid, 1);
  EXPECT_EQ(detail(s, "manager"), "system");
  EXPECT_EQ(detail(s, "description"), "A high performance web server");
  EXPECT_EQ(detail(s, "fragment_path"), f.dir + "/lib/systemd/system/nginx.service");
  EXPECT_EQ(summarize({init, nginx, worker}, sources),
            "systemd system unit nginx.service started nginx, which started nginx");
}

TEST(DetectSystemd, SessionScopeIsNotBlamedOnSystemd) {
  Fixture f;
  auto init = proc(1, 0, "/usr/lib/systemd/systemd", {"/sbin/init"});
  auto shell = proc(700, 1, "/usr/bin/bash", {"-bash"});
  shell.stat.tty_nr = 34816;
  auto vim = proc(701, 700, "/usr/bin/vim.basic", {"vim"});
  for (auto* p : {&shell, &vim}) p->cgroups = procfs::parse_cgroup("0::/user.slice/user-0.slice/session-3.scope\n");
  auto sources = f.detect({init, shell, vim});
  EXPECT_EQ(find_kind(sources, "systemd"), nullptr);
  const Source* t = find_kind(sources, "terminal");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->name, "pts/0");
  EXPECT_EQ(sources.front().kind, "terminal");
}

TEST(DetectSsh, ClientFromTheSessionEnvironment) {
  Fixture f;
  auto init = proc(1, 0, "/sbin/init", {"/sbin/init"});
  auto listener = proc(600, 1, "/usr/sbin/sshd", {"sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups"});
  auto priv = proc(610, 600, "/usr/sbin/sshd", {"sshd: alice [priv]"});
  auto user = proc(611, 610, "/usr/sbin/sshd", {"sshd: alice@pts/1"});
  auto bash = proc(612, 611, "/usr/bin/bash", {"-bash"});
  bash.user = "alice";
  bash.stat.tty_nr = 34817;
  bash.environ = std::vector<std::string>{"USER=alice", "SSH_CONNECTION=10.0.0.7 52114 10.0.0.1 22"};
  auto sleep = proc(700, 612, "/usr/bin/sleep", {"sleep", "100"});
  std::vector<core::Process> chain{init, listener, priv, user, bash, sleep};
  auto sources = f.detect(chain);
  ASSERT_FALSE(sources.empty());
  const Source& s = sources.front();
  EXPECT_EQ(s.kind, "ssh");
  EXPECT_EQ(s.pid, 611);
  EXPECT_EQ(detail(&s, "client"), "10.0.0.7");
  EXPECT_EQ(detail(&s, "client_port"), "52114");
  EXPECT_EQ(detail(&s, "user"), "alice");
  EXPECT_EQ(detail(&s, "tty"), "pts/1");
  EXPECT_EQ(summarize(chain, sources), "ssh session of alice from 10.0.0.7 started bash, which started sleep");
}

TEST(DetectSsh, NameAloneIsNotEvidence) {
  Fixture f;
  // A process calling itself sshd, run from /tmp: not an ssh session.
  auto init = proc(1, 0, "/sbin/init", {"/sbin/init"});
  auto fake = proc(600, 1, "/tmp/.x/miner", {"sshd"});
  auto child = proc(601, 600, "/usr/bin/sleep", {"sleep", "1"});
  auto sources = f.detect({init, fake, child});
  EXPECT_EQ(find_kind(sources, "ssh"), nullptr);
}

TEST(DetectMultiplexer, ScreenSessionFromSty) {
  Fixture f;
  auto init = proc(1, 0, "/sbin/init", {"/sbin/init"});
  auto screen = proc(800, 1, "/usr/bin/screen", {"SCREEN", "-dmS", "builds"});
  auto shell = proc(801, 800, "/usr/bin/bash", {"/bin/bash"});
  shell.environ = std::vector<std::string>{"STY=800.builds", "WINDOW=0"};
  auto make = proc(802, 801, "/usr/bin/make", {"make"});
  auto sources = f.detect({init, screen, shell, make});
  const Source* s = find_kind(sources, "screen");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->name, "builds");
  EXPECT_EQ(detail(s, "window"), "0");
}

TEST(DetectMultiplexer, TmuxWithoutAnswerFallsBackToSessionId) {
  Fixture f;
  auto init = proc(1, 0, "/sbin/init", {"/sbin/init"});
  auto tmux = proc(900, 1, "/usr/bin/tmux", {"tmux", "new", "-d", "-s", "work"});
  auto sleep = proc(901, 900, "/usr/bin/sleep", {"sleep", "100"});
  sleep.environ = std::vector<std::string>{"TMUX=/nonexistent/tmux-0/default,900,3", "TMUX_PANE=%7"};
  auto sources = f.detect({init, tmux, sleep});
  const Source* s = find_kind(sources, "tmux");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->name, "$3");  // never the socket's name, never a guess from argv
  EXPECT_EQ(detail(s, "pane"), "%7");
}

TEST(DetectShell, ScriptVersusInteractive) {
  Fixture f;
  auto init = proc(1, 0, "/sbin/init", {"/sbin/init"});
  auto login = proc(100, 1, "/usr/bin/bash", {"-bash"});
  login.stat.tty_nr = 1025;  // tty1
  auto script = proc(101, 100, "/usr/bin/bash", {"bash", "deploy.sh", "--fast"});
  auto child = proc(102, 101, "/usr/bin/rsync", {"rsync", "-a"});
  auto sources = f.detect({init, login, script, child});
  ASSERT_GE(sources.size(), 2u);
  EXPECT_EQ(sources[0].kind, "shell");
  EXPECT_EQ(detail(&sources[0], "script"), "deploy.sh");
  EXPECT_EQ(sources[1].kind, "terminal");
  EXPECT_EQ(sources[1].name, "tty1");
}

// busybox is a shell only when its applet is one: `busybox crond` is not.
TEST(DetectShell, BusyboxOnlyAsAShellApplet) {
  Fixture f;
  auto init = proc(1, 0, "/sbin/init", {"/sbin/init"});
  auto crond = proc(200, 1, "/usr/bin/busybox", {"busybox", "crond", "-f", "-c", "/tmp/tabs"});
  auto job = proc(201, 200, "/usr/bin/busybox", {"sh", "-c", "backup.sh"});
  auto tool = proc(202, 201, "/usr/bin/rsync", {"rsync", "-a"});
  auto sources = f.detect({init, crond, job, tool});
  const Source* s = find_kind(sources, "shell");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->pid, 201);
  EXPECT_EQ(detail(s, "command"), "backup.sh");
  for (const Source& src : sources) {
    if (src.kind == "shell" || src.kind == "terminal") {
      EXPECT_NE(src.pid, 200);  // crond is no shell
    }
  }
  auto applet = proc(203, 1, "/usr/bin/busybox", {"busybox", "sh", "run.sh"});
  auto sources2 = f.detect({init, applet, proc(204, 203, "/usr/bin/sleep", {"sleep", "1"})});
  const Source* s2 = find_kind(sources2, "shell");
  ASSERT_NE(s2, nullptr);
  EXPECT_EQ(detail(s2, "script"), "run.sh");
}

TEST(DetectSupervisor, SupervisordProgramFromEnvironment) {
  Fixture f;
  auto init = proc(1, 0, "/sbin/init", {"/sbin/init"});
  auto sup = proc(300, 1, "/usr/bin/python3.11", {"/usr/bin/python3", "/usr/bin/supervisord", "-n"});
  auto worker = proc(301, 300, "/usr/bin/sleep", {"sleep", "1000"});
  worker.environ = std::vector<std::string>{"SUPERVISOR_PROCESS_NAME=queue-worker", "SUPERVISOR_GROUP_NAME=queue"};
  auto sources = f.detect({init, sup, worker});
  ASSERT_FALSE(sources.empty());
  EXPECT_EQ(sources.front().kind, "supervisor");
  EXPECT_EQ(detail(&sources.front(), "manager"), "supervisord");
  EXPECT_EQ(detail(&sources.front(), "program"), "queue-worker");
  EXPECT_EQ(detail(&sources.front(), "group"), "queue");
}

TEST(DetectOrphan, DoubleForkFromASession) {
  Fixture f;
  f.fs.add({.pid = 400, .ppid = 1, .comm = "bash", .start_ticks = 10, .argv = {"-bash"}});
  auto init = proc(1, 0, "/sbin/init", {"/sbin/init"}, 1);
  auto daemon = proc(450, 1, "/usr/bin/sleep", {"sleep", "1000"}, 5'000'000'000);
  daemon.stat.sid = 400;  // still in bash's session, but its parent is init
  daemon.stat.pgid = 449;
  auto sources = f.detect({init, daemon});
  const Source* s = find_kind(sources, "orphan");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(detail(s, "session"), "400");
  EXPECT_EQ(detail(s, "session_leader"), "400");
  EXPECT_EQ(detail(s, "session_leader_command"), "-bash");
  std::vector<core::Process> chain{init, daemon};
  Context ctx{chain, f.reader, f.sys, f.paths};
  WarningInputs in;
  in.sources = sources;
  bool no_supervisor = false;
  for (const auto& w : find_warnings(ctx, in)) no_supervisor |= w.id == "no-supervisor";
  EXPECT_TRUE(no_supervisor);
}

TEST(DetectOrphan, DaemonStartedByInitIsNotAnOrphan) {
  Fixture f;
  auto init = proc(1, 0, "/sbin/init", {"/sbin/init"});
  auto daemon = proc(450, 1, "/usr/sbin/rsyslogd", {"/usr/sbin/rsyslogd", "-n"});
  auto sources = f.detect({init, daemon});
  EXPECT_EQ(find_kind(sources, "orphan"), nullptr);
  ASSERT_EQ(sources.size(), 1u);
  EXPECT_EQ(sources[0].kind, "init");
}

TEST(Warnings, EvidenceBasedIds) {
  Fixture f;
  auto init = proc(1, 0, "/sbin/init", {"/sbin/init"});
  auto t = proc(66, 1, "/tmp/x", {"/tmp/x"});
  t.exe->deleted = true;
  t.cwd = "/dev/shm";
  t.environ = std::vector<std::string>{"LD_PRELOAD=/tmp/hook.so"};
  t.status->uid.effective = 1000;
  t.status->cap_effective = uint64_t{1} << 21;
  t.stat.state = 'T';
  std::vector<core::Process> chain{init, t};
  Context ctx{chain, f.reader, f.sys, f.paths};
  WarningInputs in;
  in.reused_parent_pid = 5;
  in.zombie_children = 7;
  std::vector<std::string> ids;
  for (const auto& w : find_warnings(ctx, in)) ids.push_back(w.id);
  for (const char* id : {"dangerous-capabilities", "exe-deleted", "exe-world-writable", "cwd-world-writable",
                         "ld-preload", "stopped", "many-zombie-children", "pid-reused-in-chain"}) {
    EXPECT_NE(std::find(ids.begin(), ids.end(), id), ids.end()) << id;
  }
  EXPECT_EQ(std::find(ids.begin(), ids.end(), "running-as-root"), ids.end());
}

TEST(Environment, SecretsAreRedacted) {
  auto env = redacted_environment({"HOME=/root", "DB_PASSWORD=hunter2", "GITHUB_TOKEN=ghp_x",
                                   "DATABASE_URL=postgres://app:s3cret@db:5432/app",
                                   "BLOB=AKIAIOSFODNN7EXAMPLEwJalrXUtnFEMIK7MDENG", "PWD=/srv", "EMPTY="});
  std::map<std::string, std::string> m(env.begin(), env.end());
  EXPECT_EQ(m["HOME"], "/root");
  EXPECT_EQ(m["DB_PASSWORD"], kRedacted);
  EXPECT_EQ(m["GITHUB_TOKEN"], kRedacted);
  EXPECT_EQ(m["DATABASE_URL"], std::string("postgres://app:") + kRedacted + "@db:5432/app");
  EXPECT_EQ(m["BLOB"], kRedacted);
  EXPECT_EQ(m["PWD"], "/srv");
  EXPECT_EQ(m["EMPTY"], "");
}

bool has_warning(const std::vector<Warning>& ws, const std::string& id) {
  return std::any_of(ws.begin(), ws.end(), [&](const Warning& w) { return w.id == id; });
}

TEST(Warnings, CapabilitiesCountOnlyInTheInitialUserNamespace) {
  Fixture f;
  f.fs.link(1, "ns/user", "user:[4026531837]");
  auto init = proc(1, 0, "/sbin/init", {"/sbin/init"});
  auto t = proc(66, 1, "/usr/bin/sleep", {"sleep", "100"});
  t.status->uid.effective = 1000;
  t.status->cap_effective = ~uint64_t{0} >> 23;  // a full set, as after unshare -Ur
  WarningInputs in;
  // In its own user namespace (unshare -Ur): the set gives nothing on the host.
  t.ns.user = 4026532555;
  std::vector<core::Process> own{init, t};
  EXPECT_FALSE(has_warning(find_warnings(Context{own, f.reader, f.sys, f.paths}, in), "dangerous-capabilities"));
  // In the initial one: it does.
  t.ns.user = 4026531837;
  std::vector<core::Process> host{init, t};
  EXPECT_TRUE(has_warning(find_warnings(Context{host, f.reader, f.sys, f.paths}, in), "dangerous-capabilities"));
  // pid 1's link denied (a sandbox): the kernel's fixed inode of the initial one.
  f.fs.remove(1, "ns/user");
  EXPECT_TRUE(has_warning(find_warnings(Context{host, f.reader, f.sys, f.paths}, in), "dangerous-capabilities"));
  EXPECT_FALSE(has_warning(find_warnings(Context{own, f.reader, f.sys, f.paths}, in), "dangerous-capabilities"));
}

TEST(Warnings, UserNamespaceReadOnDemandThroughTheReader) {
  Fixture f;
  f.fs.add({.pid = 1, .comm = "init", .start_ticks = 1, .argv = {"/sbin/init"}});
  f.fs.add({.pid = 66, .ppid = 1, .comm = "sleep", .start_ticks = 500, .uid = 1000, .argv = {"sleep"}});
  f.fs.link(1, "ns/user", "user:[4026531837]");
  f.fs.link(66, "ns/user", "user:[4026532555]");
  auto init = proc(1, 0, "/sbin/init", {"/sbin/init"});
  auto t = proc(66, 1, "/usr/bin/sleep", {"sleep"}, 500 * f.reader.tick_ns());
  t.status->uid.effective = 1000;
  t.status->cap_effective = uint64_t{1} << 21;
  std::vector<core::Process> chain{init, t};
  EXPECT_FALSE(has_warning(find_warnings(Context{chain, f.reader, f.sys, f.paths}, {}), "dangerous-capabilities"));
  // A pid now naming a younger process tells nothing: the warning stays.
  chain.back().key.start_time_ns = 400 * f.reader.tick_ns();
  EXPECT_TRUE(has_warning(find_warnings(Context{chain, f.reader, f.sys, f.paths}, {}), "dangerous-capabilities"));
}

TEST(Warnings, UnverifiedLauncherAndTruncatedChain) {
  Fixture f;
  auto init = proc(1, 0, "/sbin/init", {"/sbin/init"});
  auto t = proc(66, 1, "/usr/bin/sleep", {"sleep"});
  std::vector<core::Process> chain{init, t};
  Context ctx{chain, f.reader, f.sys, f.paths};
  WarningInputs in;
  Source ssh;
  ssh.kind = "ssh";
  ssh.pid = 4200;
  ssh.verified = false;
  ssh.unverified_reason = "runs /home/lbuser/sshd, owned by lbuser";
  Source verified_cron;
  verified_cron.kind = "cron";
  verified_cron.pid = 300;
  in.sources = {ssh, verified_cron};
  auto ws = find_warnings(ctx, in);
  std::vector<std::string> messages;
  for (const auto& w : ws) {
    if (w.id == "unverified-launcher") messages.push_back(w.message);
  }
  EXPECT_EQ(messages, (std::vector<std::string>{
                          "pid 4200 claims to be sshd (unverified: runs /home/lbuser/sshd, owned by lbuser)"}));
  EXPECT_FALSE(has_warning(ws, "chain-truncated"));
  in.chain_truncated = true;
  EXPECT_TRUE(has_warning(find_warnings(ctx, in), "chain-truncated"));
}

TEST(Environment, UrlPasswordRedactedUpToTheLastAtOfTheAuthority) {
  auto env = redacted_environment({"DATABASE_URL=postgres://u:p@ss@h/db", "Q=https://u:a@b@host?x=@y",
                                   "F=https://u:pw@host#frag@z", "PATH_AT=https://host/a:b@c",
                                   "HOMEPAGE=https://user@host/x", "PLAIN=a@b"});
  std::map<std::string, std::string> m(env.begin(), env.end());
  std::string r = kRedacted;
  EXPECT_EQ(m["DATABASE_URL"], "postgres://u:" + r + "@h/db");
  EXPECT_EQ(m["Q"], "https://u:" + r + "@host?x=@y");
  EXPECT_EQ(m["F"], "https://u:" + r + "@host#frag@z");
  EXPECT_EQ(m["PATH_AT"], "https://host/a:b@c");  // an '@' in the path is no credential
  EXPECT_EQ(m["HOMEPAGE"], "https://user@host/x");
  EXPECT_EQ(m["PLAIN"], "a@b");
}

// A chain `depth` processes deep below pid 1: pids 1000.. (1000 the
// child of init, each next one its child), all started in order.
void add_deep_chain(FakeProcfs& fs, int depth) {
  fs.add({.pid = 1, .comm = "init", .start_ticks = 1, .argv = {"/sbin/init"}});
  for (int i = 0; i < depth; ++i) {
    fs.add({.pid = 1000 + i, .ppid = i == 0 ? 1 : 999 + i, .comm = "sh",
            .start_ticks = static_cast<uint64_t>(10 + i), .argv = {"sh"}});
  }
}

TEST(Chain, WalksAChainDeeperThanAnyFixedBound) {
  FakeProcfs fs;
  add_deep_chain(fs, 300);
  auto reader = procfs::ProcReader::open(fs.root());
  auto chain = build_chain(*reader, 1299);
  ASSERT_TRUE(chain);
  ASSERT_EQ(chain->processes.size(), 301u);
  EXPECT_EQ(chain->processes.front().pid(), 1);
  EXPECT_EQ(chain->processes.back().pid(), 1299);
  EXPECT_FALSE(chain->truncated);
  EXPECT_FALSE(chain->loop);
  ASSERT_EQ(chain->dirfds.size(), 301u);
  EXPECT_TRUE(chain->dirfds.back().valid());  // the target's is always kept
  // The root's namespaces are read even though its fd was not kept.
  EXPECT_TRUE(chain->processes.front().read & core::kFieldNamespaces ||
              chain->processes.front().unavailable & core::kFieldNamespaces);
}

TEST(Chain, BoundedByPidMaxAndMarkedTruncated) {
  FakeProcfs fs;
  add_deep_chain(fs, 150);
  std::filesystem::create_directories(fs.root() + "/sys/kernel");
  std::ofstream(fs.root() + "/sys/kernel/pid_max") << "100\n";
  auto reader = procfs::ProcReader::open(fs.root());
  EXPECT_EQ(reader->pid_max(), 100u);
  auto chain = build_chain(*reader, 1149);
  ASSERT_TRUE(chain);
  EXPECT_EQ(chain->processes.size(), 100u);
  EXPECT_TRUE(chain->truncated);
  EXPECT_EQ(chain->processes.back().pid(), 1149);
  // A shallow chain never reads the bound and is not cut.
  auto shallow = build_chain(*reader, 1010);
  ASSERT_TRUE(shallow);
  EXPECT_EQ(shallow->processes.size(), 12u);
  EXPECT_FALSE(shallow->truncated);
}

TEST(Chain, LoopFoundDeepInTheChain) {
  // Equal start times make every link plausible: 2000 -> 2001 -> ... -> 2099
  // -> 2030 again, a loop found through the hash set past kShallowChain.
  FakeProcfs fs;
  for (int i = 0; i < 100; ++i) {
    fs.add({.pid = 2000 + i, .ppid = i == 99 ? 2030 : 2001 + i, .comm = "x", .start_ticks = 50, .argv = {"x"}});
  }
  auto reader = procfs::ProcReader::open(fs.root());
  auto chain = build_chain(*reader, 2000);
  ASSERT_TRUE(chain);
  EXPECT_TRUE(chain->loop);
  EXPECT_FALSE(chain->truncated);
  EXPECT_EQ(chain->processes.size(), 100u);
}

TEST(Chain, StopsAtAReusedParentPid) {
  FakeProcfs fs;
  fs.add({.pid = 1, .comm = "init", .start_ticks = 1, .argv = {"/sbin/init"}});
  fs.add({.pid = 50, .ppid = 1, .comm = "bash", .start_ticks = 100, .argv = {"bash"}});
  fs.add({.pid = 60, .ppid = 50, .comm = "make", .start_ticks = 200, .argv = {"make"}});
  // 70's parent 80 started after it: pid 80 was reused.
  fs.add({.pid = 70, .ppid = 80, .comm = "orphan", .start_ticks = 300, .argv = {"x"}});
  fs.add({.pid = 80, .ppid = 1, .comm = "new", .start_ticks = 400, .argv = {"y"}});
  auto reader = procfs::ProcReader::open(fs.root());
  auto chain = build_chain(*reader, 60);
  ASSERT_TRUE(chain);
  std::vector<int32_t> pids;
  for (const auto& p : chain->processes) pids.push_back(p.pid());
  EXPECT_EQ(pids, (std::vector<int32_t>{1, 50, 60}));
  auto reused = build_chain(*reader, 70);
  ASSERT_TRUE(reused);
  EXPECT_EQ(reused->processes.size(), 1u);
  EXPECT_EQ(reused->reused_parent_pid, 80);
  EXPECT_EQ(build_chain(*reader, 99).error().kind, ErrorKind::kNotFound);
}

TEST(FindGit, BranchOfTheEnclosingRepository) {
  FakeProcfs fs;
  std::string repo = fs.root() + "/repo";
  std::filesystem::create_directories(repo + "/.git");
  std::filesystem::create_directories(repo + "/src/deep");
  std::ofstream(repo + "/.git/HEAD") << "ref: refs/heads/feature/x\n";
  auto git = find_git(repo + "/src/deep", ::geteuid());
  ASSERT_TRUE(git);
  EXPECT_EQ(git->repository, repo);
  EXPECT_EQ(git->branch, "feature/x");
}

}  // namespace
}  // namespace lineage::explain
