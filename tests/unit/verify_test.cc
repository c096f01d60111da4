// Launchers that fail verification are claims, never facts: the detectors
// with a fake verifier (which paths are trusted is the test's choice). The
// ownership rule is file_read's trusted_link_dir (safe_open_test). The real check against real files and
// processes is in tests/integration/verify_test.cc.
#include <gtest/gtest.h>

#include "explain/detectors.h"
#include "explain/narrative.h"
#include "explain/verify.h"
#include "chain_process.h"
#include "fake_procfs.h"
#include "fake_verifier.h"

namespace lineage::explain {
namespace {

using testing::FakeProcfs;
using testing::FakeVerifier;

// A process of the chain, run by an ordinary user (lbuser).
core::Process proc(int32_t pid, int32_t ppid, std::string exe, std::vector<std::string> argv,
                   std::vector<std::string> env = {}) {
  core::Process p = testing::proc(pid, ppid, std::move(exe), std::move(argv));
  p.status->uid = {1000, 1000, 1000, 1000};
  p.user = "lbuser";
  p.environ = std::move(env);
  return p;
}

struct Fixture {
  FakeProcfs fs;
  procfs::ProcReader reader = std::move(*procfs::ProcReader::open(fs.root()));
  core::SystemInfo sys = reader.system_info();
  Paths paths;
  FakeVerifier verifier;
  std::vector<Source> detect(const std::vector<core::Process>& chain) {
    return detect_all(Context{chain, reader, sys, paths, &verifier});
  }
};

const Source* find_kind(const std::vector<Source>& s, const std::string& kind) {
  for (const auto& x : s) {
    if (x.kind == kind) return &x;
  }
  return nullptr;
}

bool has_evidence(const Source& s, const std::string& part) {
  for (const auto& e : s.evidence) {
    if (e.find(part) != std::string::npos) return true;
  }
  return false;
}

const std::string kConn = "SSH_CONNECTION=10.0.0.9 5555 10.0.0.1 22";

// A process root started (real uid 0), as system daemons are.
core::Process as_root(core::Process p) {
  p.status->uid = {0, 0, 0, 0};
  p.user = "root";
  return p;
}

// How many sources of `kind` are verified and how many are claims; each
// must name the expected launcher pid.
std::pair<size_t, size_t> verified_and_claims(const std::vector<Source>& sources, const std::string& kind,
                                              int32_t verified_pid, int32_t claim_pid) {
  size_t verified = 0, claims = 0;
  for (const auto& s : sources) {
    if (s.kind != kind) continue;
    (s.verified ? verified : claims)++;
    EXPECT_EQ(s.pid, s.verified ? verified_pid : claim_pid) << kind;
  }
  return {verified, claims};
}

TEST(Verify, FakeSshdIsAClaimWithItsEnvironmentAsClaims) {
  Fixture f;
  f.verifier.untrusted = {"/home/lbuser/sshd"};
  std::vector<core::Process> chain = {proc(1, 0, "/sbin/init", {"/sbin/init"}),
                                      proc(50, 1, "/home/lbuser/sshd", {"/home/lbuser/sshd"}),
                                      proc(51, 50, "/usr/bin/sleep", {"sleep", "300"}, {kConn})};
  auto sources = f.detect(chain);
  const Source* ssh = find_kind(sources, "ssh");
  ASSERT_NE(ssh, nullptr);
  EXPECT_FALSE(ssh->verified);
  EXPECT_EQ(ssh->unverified_reason, "runs /home/lbuser/sshd, owned by lbuser");
  EXPECT_TRUE(has_evidence(*ssh, "claim: SSH_CONNECTION=10.0.0.9"));
  EXPECT_FALSE(has_evidence(*ssh, "(verified"));
  std::string summary = summarize(chain, sources);
  EXPECT_EQ(summary.find("ssh session of lbuser from 10.0.0.9 started"), std::string::npos) << summary;
  EXPECT_NE(summary.find("no verified launch context: pid 50 claims to be sshd"), std::string::npos) << summary;
  EXPECT_NE(summary.find("unverified: runs /home/lbuser/sshd, owned by lbuser"), std::string::npos) << summary;
}

TEST(Verify, RealSshdIsEvidence) {
  Fixture f;
  std::vector<core::Process> chain = {proc(1, 0, "/sbin/init", {"/sbin/init"}),
                                      as_root(proc(49, 1, "/usr/sbin/sshd", {"sshd: lbuser [priv]"})),
                                      proc(50, 49, "/usr/sbin/sshd", {"sshd: lbuser@pts/0"}),
                                      proc(51, 50, "/usr/bin/bash", {"-bash"}, {kConn})};
  auto sources = f.detect(chain);
  const Source* ssh = find_kind(sources, "ssh");
  ASSERT_NE(ssh, nullptr);
  EXPECT_TRUE(ssh->verified) << ssh->unverified_reason;
  EXPECT_TRUE(ssh->unverified_reason.empty());
  EXPECT_TRUE(has_evidence(*ssh, "runs /usr/sbin/sshd (verified: root-owned (fake))"));
  EXPECT_TRUE(has_evidence(*ssh, "SSH_CONNECTION=10.0.0.9 5555 10.0.0.1 22 in the environment of pid 51"));
  EXPECT_EQ(summarize(chain, sources).rfind("ssh session of lbuser from 10.0.0.9 started bash", 0), 0u);
}

// A planted sshd inside a real session neither hides the session nor is
// believed: both are reported, and the summary tells the verified one.
TEST(Verify, PlantedLauncherBelowARealOneDoesNotHideIt) {
  Fixture f;
  f.verifier.untrusted = {"/home/lbuser/sshd"};
  std::vector<core::Process> chain = {
      proc(1, 0, "/sbin/init", {"/sbin/init"}),
      as_root(proc(50, 1, "/usr/sbin/sshd", {"sshd: lbuser [priv]"})),
      proc(51, 50, "/usr/bin/bash", {"-bash"}, {"SSH_CONNECTION=127.0.0.1 4000 127.0.0.1 22"}),
      proc(52, 51, "/home/lbuser/sshd", {"sshd"}, {"SSH_CONNECTION=127.0.0.1 4000 127.0.0.1 22"}),
      proc(53, 52, "/usr/bin/sleep", {"sleep", "1"}, {kConn})};
  auto sources = f.detect(chain);
  EXPECT_EQ(verified_and_claims(sources, "ssh", 50, 52), std::make_pair(size_t{1}, size_t{1}));
  std::string summary = summarize(chain, sources);
  EXPECT_EQ(summary.rfind("ssh session of lbuser from 127.0.0.1 started bash", 0), 0u) << summary;
  EXPECT_NE(summary.find("; pid 52 claims to be sshd"), std::string::npos) << summary;
}

// The real, root-owned sshd binary run by a user (its own config and port)
// is that user's claim: no process of its run is root's.
TEST(Verify, RealDaemonBinaryRunByAUserIsAClaim) {
  Fixture f;
  std::vector<core::Process> chain = {proc(1, 0, "/sbin/init", {"/sbin/init"}),
                                      proc(50, 1, "/usr/sbin/sshd", {"/usr/sbin/sshd", "-D", "-p", "2222"}),
                                      proc(51, 50, "/usr/bin/sleep", {"sleep", "300"}, {kConn})};
  auto sources = f.detect(chain);
  const Source* ssh = find_kind(sources, "ssh");
  ASSERT_NE(ssh, nullptr);
  EXPECT_FALSE(ssh->verified);
  EXPECT_NE(ssh->unverified_reason.find("runs /usr/sbin/sshd as lbuser"), std::string::npos) << ssh->unverified_reason;
  // python running a root-owned supervisord script, as a user: a claim too.
  std::vector<core::Process> sup = {proc(1, 0, "/sbin/init", {"/sbin/init"}),
                                    proc(60, 1, "/usr/bin/python3.11", {"/usr/bin/python3", "/usr/bin/supervisord"}),
                                    proc(61, 60, "/usr/bin/sleep", {"sleep"}, {"SUPERVISOR_PROCESS_NAME=web"})};
  ASSERT_NE(find_kind(f.detect(sup), "supervisor"), nullptr);
  EXPECT_FALSE(find_kind(f.detect(sup), "supervisor")->verified);
}

// argv[0] is free text: `exec -a /usr/bin/supervisord python3 x.py` is not
// supervisord (python runs argv[1]).
TEST(Verify, InterpreterArgvZeroIsNotTheScript) {
  Fixture f;
  std::vector<core::Process> chain = {
      proc(1, 0, "/sbin/init", {"/sbin/init"}),
      as_root(proc(60, 1, "/usr/bin/python3.11", {"/usr/bin/supervisord", "/home/lbuser/x.py"})),
      proc(61, 60, "/usr/bin/sleep", {"sleep"}, {"SUPERVISOR_PROCESS_NAME=nginx"})};
  EXPECT_EQ(find_kind(f.detect(chain), "supervisor"), nullptr);
}

TEST(Verify, FakeSupervisordProgramIsAClaim) {
  Fixture f;
  f.verifier.untrusted = {"/home/lbuser/supervisord"};
  std::vector<core::Process> chain = {
      proc(1, 0, "/sbin/init", {"/sbin/init"}),
      proc(60, 1, "/home/lbuser/supervisord", {"supervisord"}),
      proc(61, 60, "/usr/bin/sleep", {"sleep", "300"}, {"SUPERVISOR_PROCESS_NAME=nginx"})};
  auto sources = f.detect(chain);
  const Source* sup = find_kind(sources, "supervisor");
  ASSERT_NE(sup, nullptr);
  EXPECT_FALSE(sup->verified);
  EXPECT_TRUE(has_evidence(*sup, "claim: SUPERVISOR_PROCESS_NAME=nginx"));
  EXPECT_EQ(summarize(chain, sources).find("supervisord program nginx started"), std::string::npos);
}

// python running supervisord: the interpreter is root's, so the script decides.
TEST(Verify, InterpretedSupervisordNeedsATrustedScript) {
  Fixture f;
  f.verifier.untrusted = {"/home/lbuser/supervisord"};
  auto chain_with = [](const std::string& script) {
    return std::vector<core::Process>{proc(1, 0, "/sbin/init", {"/sbin/init"}),
                                      as_root(proc(60, 1, "/usr/bin/python3.11", {"/usr/bin/python3", script})),
                                      proc(61, 60, "/usr/bin/sleep", {"sleep"}, {"SUPERVISOR_PROCESS_NAME=web"})};
  };
  auto fake = f.detect(chain_with("/home/lbuser/supervisord"));
  ASSERT_NE(find_kind(fake, "supervisor"), nullptr);
  EXPECT_FALSE(find_kind(fake, "supervisor")->verified);
  auto real = f.detect(chain_with("/usr/bin/supervisord"));
  ASSERT_NE(find_kind(real, "supervisor"), nullptr);
  EXPECT_TRUE(find_kind(real, "supervisor")->verified);
}

TEST(Verify, FakeTmuxServerIsNeverAskedAndNamedByItsId) {
  Fixture f;
  f.verifier.untrusted = {"/home/lbuser/tmux"};
  std::vector<core::Process> chain = {
      proc(1, 0, "/sbin/init", {"/sbin/init"}),
      proc(70, 1, "/home/lbuser/tmux", {"tmux"}),
      proc(71, 70, "/usr/bin/sleep", {"sleep"}, {"TMUX=/tmp/x,70,3", "TMUX_PANE=%1"})};
  auto sources = f.detect(chain);
  const Source* tmux = find_kind(sources, "tmux");
  ASSERT_NE(tmux, nullptr);
  EXPECT_FALSE(tmux->verified);
  EXPECT_EQ(tmux->name, "$3");
  EXPECT_TRUE(has_evidence(*tmux, "not verified, so it was not asked"));
}

TEST(Verify, CronDaemonCopyIsAClaim) {
  Fixture f;
  f.verifier.untrusted = {"/home/lbuser/cron"};
  std::vector<core::Process> chain = {proc(1, 0, "/sbin/init", {"/sbin/init"}),
                                      proc(80, 1, "/home/lbuser/cron", {"cron"}),
                                      proc(81, 80, "/usr/bin/dash", {"/bin/sh", "-c", "sleep 300"})};
  auto sources = f.detect(chain);
  const Source* cron = find_kind(sources, "cron");
  ASSERT_NE(cron, nullptr);
  EXPECT_FALSE(cron->verified);
  EXPECT_EQ(summarize(chain, sources).find("a cron job started"), std::string::npos);
}

TEST(Verify, SystemdUnitInAUserMadeCgroupIsAClaim) {
  Fixture f;
  f.verifier.cgroups_trusted = false;
  auto target = proc(90, 1, "/usr/bin/sleep", {"sleep"});
  target.cgroups = std::vector<core::CgroupEntry>{{0, "", "/system.slice/nginx.service"}};
  std::vector<core::Process> chain = {proc(1, 0, "/sbin/init", {"/sbin/init"}), target};
  auto sources = f.detect(chain);
  const Source* unit = find_kind(sources, "systemd");
  ASSERT_NE(unit, nullptr);
  EXPECT_FALSE(unit->verified);
  f.verifier.cgroups_trusted = true;
  EXPECT_TRUE(find_kind(f.detect(chain), "systemd")->verified);
}

}  // namespace
}  // namespace lineage::explain

namespace lineage::explain {
namespace {

// A planted supervisor or tmux below a real one: both reported, the claim
// unverified, the real one verified (a fake never hides the real launcher).
TEST(Verify, PlantedSupervisorAndTmuxBelowRealOnesAreBothReported) {
  Fixture f;
  f.verifier.untrusted = {"/home/lbuser/supervisord", "/home/lbuser/tmux"};
  std::vector<core::Process> sup = {
      proc(1, 0, "/sbin/init", {"/sbin/init"}),
      as_root(proc(60, 1, "/usr/bin/supervisord", {"/usr/bin/supervisord"})),
      proc(61, 60, "/home/lbuser/supervisord", {"supervisord"}, {"SUPERVISOR_PROCESS_NAME=web"}),
      proc(62, 61, "/usr/bin/sleep", {"sleep"}, {"SUPERVISOR_PROCESS_NAME=nginx"})};
  EXPECT_EQ(verified_and_claims(f.detect(sup), "supervisor", 60, 61), std::make_pair(size_t{1}, size_t{1}));

  std::vector<core::Process> mux = {proc(1, 0, "/sbin/init", {"/sbin/init"}),
                                    proc(70, 1, "/usr/bin/tmux", {"tmux"}),
                                    proc(71, 70, "/home/lbuser/tmux", {"tmux"}),
                                    proc(72, 71, "/usr/bin/sleep", {"sleep"})};
  EXPECT_EQ(verified_and_claims(f.detect(mux), "tmux", 70, 71), std::make_pair(size_t{1}, size_t{1}));
}

}  // namespace
}  // namespace lineage::explain
