// Rules outside-container, privilege-gain, masquerade, ld-preload,
// ptrace-attached and zombie-accumulation on trees built by hand (no /proc
// behind the scene: reader null, a fake verifier). Each has cases that fire
// and cases that must not.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "audit/classify.h"
#include "audit/rules.h"
#include "audit/scene.h"
#include "fake_verifier.h"

namespace lineage::audit {
namespace {

constexpr uint64_t kS = 1'000'000'000;
constexpr uint64_t kHostPid = 4026531836, kHostMnt = 4026531841;

struct Builder {
  std::vector<core::Process> procs;
  Builder() { procs.reserve(4096); }  // add() hands out references

  core::Process& add(int32_t pid, int32_t ppid, std::string exe, std::vector<std::string> argv, uint32_t uid = 0,
                     uint32_t euid = 0) {
    core::Process p;
    p.key = {pid, static_cast<uint64_t>(pid) * kS};
    p.stat.pid = pid;
    p.stat.ppid = ppid;
    p.stat.state = 'S';
    p.stat.num_threads = 1;
    p.stat.start_ticks = static_cast<uint64_t>(pid) * 100;
    p.stat.comm = exe.substr(exe.rfind('/') + 1).substr(0, 15);
    p.exe = core::ExeInfo{std::move(exe), false};
    p.argv = std::move(argv);
    p.status = core::StatusInfo{};
    p.status->uid = {uid, euid, euid, euid};
    p.ns.pid = kHostPid;
    p.ns.mnt = kHostMnt;
    procs.push_back(std::move(p));
    return procs.back();
  }
};

struct Audit {
  core::ProcessTree tree;
  core::SystemInfo sys;
  testing::FakeVerifier verifier;
  std::vector<Finding> findings;

  Audit(std::vector<core::Process> procs, std::string_view rule, testing::FakeVerifier v = {})
      : tree(std::move(procs)), verifier(std::move(v)) {
    sys.boot_ns_now = 100000 * kS;
    Scene scene(tree, sys, nullptr, &verifier);
    const Rule* r = find_rule(rule);
    EXPECT_NE(r, nullptr);
    const Rule* rules[] = {r};
    findings = evaluate(scene, rules);
  }
  const Finding* about(int32_t pid) const {
    for (const Finding& f : findings) {
      if (f.process.pid == pid) return &f;
    }
    return nullptr;
  }
};

bool has_evidence(const Finding& f, std::string_view part) {
  return std::any_of(f.evidence.begin(), f.evidence.end(),
                     [&](const std::string& e) { return e.find(part) != std::string::npos; });
}

// ---- outside-container -------------------------------------------------

// init(1) > containerd(50) > shim(100) > container init sh(101, own pid+mnt ns)
//                                       > exec'd sh(102, container's ns)
Builder container_host() {
  Builder b;
  b.add(1, 0, "/usr/lib/systemd/systemd", {"/sbin/init"});
  b.add(50, 1, "/usr/bin/containerd", {"containerd"});
  b.add(100, 1, "/usr/bin/containerd-shim-runc-v2", {"/usr/bin/containerd-shim-runc-v2", "-namespace", "moby"});
  auto& init = b.add(101, 100, "/bin/busybox", {"sleep", "4000"});
  init.ns.pid = 4026532500;
  init.ns.mnt = 4026532501;
  init.cgroups = std::vector<core::CgroupEntry>{{0, "", "/system.slice/docker-" + std::string(64, 'a') + ".scope"}};
  auto& exec = b.add(102, 100, "/bin/busybox", {"sh"});
  exec.ns = init.ns;
  exec.cgroups = init.cgroups;
  return b;
}

TEST(OutsideContainer, ProcessBelowShimInHostNamespacesFires) {
  Builder b = container_host();
  b.add(110, 101, "/usr/bin/nsenter", {"nsenter", "-t", "1", "-m", "-p"});  // pid+mnt: the host's
  b.add(111, 110, "/usr/bin/sleep", {"sleep", "60"});
  Audit run(b.procs, "outside-container");
  const Finding* f = run.about(111);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Severity::kCritical);
  EXPECT_EQ(f->related_pid, 100);
  EXPECT_NE(f->title.find("containerd-shim-runc-v2 (pid 100)"), std::string::npos) << f->title;
  EXPECT_TRUE(has_evidence(*f, "init pid 101"));
  EXPECT_TRUE(has_evidence(*f, "pid:[4026532500]"));
  EXPECT_TRUE(has_evidence(*f, "this process: pid:[4026531836] mnt:[4026531841]"));
  EXPECT_NE(run.about(110), nullptr);
  // The container's own processes, the shim, containerd: nothing.
  for (int32_t pid : {1, 50, 100, 101, 102}) EXPECT_EQ(run.about(pid), nullptr) << pid;
}

TEST(OutsideContainer, PidHostContainerEscapingToHostMountNamespaceFires) {
  // docker run --pid=host --privileged: the container's init shares the
  // host's pid namespace but has its own mount namespace.
  Builder b = container_host();
  b.procs[3].ns.pid = kHostPid;
  b.procs[4].ns.pid = kHostPid;
  b.add(111, 101, "/usr/bin/sleep", {"sleep", "60"});
  b.procs.back().cgroups = b.procs[3].cgroups;
  Audit run(b.procs, "outside-container");
  const Finding* f = run.about(111);
  ASSERT_NE(f, nullptr);
  EXPECT_TRUE(has_evidence(*f, "cgroup 0::/system.slice/docker-aaaa"));
  EXPECT_EQ(run.about(101), nullptr);  // its own mount namespace: a container
  EXPECT_EQ(run.about(102), nullptr);
}

TEST(OutsideContainer, ContainerCgroupWithHostNamespacesFires) {
  Builder b;
  b.add(1, 0, "/usr/lib/systemd/systemd", {"/sbin/init"});
  auto& p = b.add(40, 1, "/usr/bin/bash", {"bash"});
  p.cgroups = std::vector<core::CgroupEntry>{{0, "", "/docker/" + std::string(64, 'b')}};
  auto& runc = b.add(41, 1, "/usr/sbin/runc", {"runc", "init"});  // a container starting
  runc.cgroups = p.cgroups;
  auto& conmon = b.add(42, 1, "/usr/bin/conmon", {"conmon"});
  conmon.cgroups = std::vector<core::CgroupEntry>{{0, "", "/machine.slice/libpod-conmon-" + std::string(64, 'c') + ".scope"}};
  auto& mon = b.add(43, 1, "/usr/bin/python3", {"python3"});  // not the runtime, but a conmon scope
  mon.cgroups = conmon.cgroups;
  Audit run(b.procs, "outside-container");
  const Finding* f = run.about(40);
  ASSERT_NE(f, nullptr);
  EXPECT_NE(f->title.find("bbbbbbbbbbbb's cgroup"), std::string::npos) << f->title;
  EXPECT_EQ(run.findings.size(), 1u);
}

TEST(OutsideContainer, UnknownNamespacesAreNoEvidence) {
  Builder b = container_host();
  auto& s = b.add(111, 101, "/usr/bin/sleep", {"sleep", "60"});
  s.ns.pid.reset();  // not readable
  Audit run(b.procs, "outside-container");
  EXPECT_TRUE(run.findings.empty());
}

TEST(OutsideContainer, CgroupNames) {
  std::string id(64, 'f');
  EXPECT_EQ(container_in_cgroup("/system.slice/docker-" + id + ".scope"), id);
  EXPECT_EQ(container_in_cgroup("/docker/" + id), id);
  EXPECT_EQ(container_in_cgroup("/kubepods/burstable/pod1234/" + id), id);
  EXPECT_EQ(container_in_cgroup("/kubepods.slice/kubepods-pod1.slice/cri-containerd-" + id + ".scope"), id);
  EXPECT_EQ(container_in_cgroup("/machine.slice/libpod-" + id + ".scope"), id);
  EXPECT_EQ(container_in_cgroup("/machine.slice/libpod-conmon-" + id + ".scope"), "");
  EXPECT_EQ(container_in_cgroup("/system.slice/docker.service"), "");
  EXPECT_EQ(container_in_cgroup("/user.slice/" + id), "");
  EXPECT_EQ(container_in_cgroup("/docker/" + id.substr(1)), "");
  EXPECT_EQ(container_in_cgroup("/docker/" + std::string(64, 'G')), "");
}

// ---- privilege-gain ------------------------------------------------------

TEST(PrivilegeGain, SetuidCopyInTmpBelowUserIsCritical) {
  Builder b;
  b.add(1, 0, "/usr/lib/systemd/systemd", {"/sbin/init"});
  b.add(20, 1, "/usr/bin/bash", {"-bash"}, 1001, 1001);
  b.add(30, 20, "/tmp/x/helper", {"./helper"}, 1001, 0);
  b.add(31, 20, "/home/u/bin/helper", {"helper"}, 1001, 0);
  testing::FakeVerifier v;
  v.untrusted = {"/tmp/x/helper", "/home/u/bin/helper"};
  Audit run(b.procs, "privilege-gain", v);
  const Finding* f = run.about(30);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Severity::kCritical);
  EXPECT_EQ(f->related_pid, 20);
  EXPECT_TRUE(has_evidence(*f, "parent pid 20 (bash) uid 1001 euid 1001"));
  EXPECT_TRUE(has_evidence(*f, "uid 1001 euid 0"));
  EXPECT_TRUE(has_evidence(*f, "not verified: runs /tmp/x/helper"));
  const Finding* g = run.about(31);
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->severity, Severity::kHigh);
}

TEST(PrivilegeGain, KnownVerifiedHelperIsInfoAndUnverifiedOneIsHigh) {
  Builder b;
  b.add(1, 0, "/usr/lib/systemd/systemd", {"/sbin/init"});
  b.add(20, 1, "/usr/bin/bash", {"-bash"}, 1001, 1001);
  b.add(30, 20, "/usr/bin/sudo", {"sudo", "true"}, 0, 0);
  b.add(31, 20, "/opt/evil/sudo", {"sudo"}, 1001, 0);
  testing::FakeVerifier v;
  v.untrusted = {"/opt/evil/sudo"};
  Audit run(b.procs, "privilege-gain", v);
  const Finding* f = run.about(30);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Severity::kInfo);
  EXPECT_NE(f->title.find("sudo"), std::string::npos);
  const Finding* g = run.about(31);
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->severity, Severity::kHigh);
  EXPECT_NE(g->title.find("named like a setuid helper"), std::string::npos);
}

TEST(PrivilegeGain, CapabilitiesInTheInitialUserNamespace) {
  Builder b;
  b.add(1, 0, "/usr/lib/systemd/systemd", {"/sbin/init"});
  b.add(20, 1, "/usr/bin/bash", {"bash"}, 1001, 1001);
  auto& caps = b.add(30, 20, "/tmp/x/raw", {"raw"}, 1001, 1001);
  caps.status->cap_effective = 1ull << 13;  // cap_net_raw
  caps.ns.user = procfs::ProcReader::kInitialUserNamespace;
  auto& userns = b.add(31, 20, "/usr/bin/unshare", {"unshare", "-r"}, 1001, 1001);
  userns.status->cap_effective = 0x1ffffffffff;
  userns.ns.user = 4026532900;  // its own user namespace: no gain on the host
  auto& unknown = b.add(32, 20, "/tmp/x/raw2", {"raw2"}, 1001, 1001);
  unknown.status->cap_effective = 1ull << 13;  // user namespace not read, no reader
  testing::FakeVerifier v;
  v.untrusted = {"/tmp/x/raw", "/tmp/x/raw2"};
  Audit run(b.procs, "privilege-gain", v);
  const Finding* f = run.about(30);
  ASSERT_NE(f, nullptr);
  EXPECT_TRUE(has_evidence(*f, "capabilities 0x2000 its parent lacks"));
  EXPECT_EQ(run.about(31), nullptr);
  EXPECT_EQ(run.about(32), nullptr);
}

TEST(PrivilegeGain, RootParentsAndDaemonsDoNotFire) {
  Builder b;
  b.add(1, 0, "/usr/lib/systemd/systemd", {"/sbin/init"});
  b.add(10, 1, "/usr/sbin/sshd", {"sshd"});                        // root below root
  b.add(20, 10, "/usr/bin/bash", {"-bash"}, 1001, 1001);           // user below root
  b.add(30, 20, "/usr/bin/sudo", {"sudo", "-i"}, 0, 0);             // (info)
  b.add(40, 30, "/usr/bin/bash", {"-bash"}, 0, 0);                  // root below sudo (root)
  b.add(50, 1, "/usr/lib/systemd/systemd", {"systemd", "--user"}, 1001, 1001);
  b.add(60, 50, "/tmp/adopted", {"adopted"}, 1001, 0);              // adopted by the user manager
  b.add(70, 20, "/usr/bin/sleep", {"sleep", "1"}, 1001, 1001);      // no gain
  auto& gone = b.add(80, 999, "/tmp/orphan", {"orphan"}, 1001, 0);  // parent not in the table
  (void)gone;
  auto& half = b.add(90, 20, "/tmp/x", {"x"}, 1001, 0);
  (void)half;
  b.procs[2].status->uid = {1001, 0, 0, 0};  // bash with euid 0: parent is not non-root
  Audit run(b.procs, "privilege-gain");
  for (const Finding& f : run.findings) {
    EXPECT_EQ(f.severity, Severity::kInfo) << f.process.pid << " " << f.title;
  }
}

// ---- masquerade ------------------------------------------------------------

TEST(Masquerade, KernelThreadNamesOnUserProcessesFire) {
  Builder b;
  b.add(1, 0, "/usr/lib/systemd/systemd", {"/sbin/init"});
  b.add(20, 1, "/tmp/.x/sleep", {"[kworker/0:1]", "30"}, 1001, 1001);
  auto& comm = b.add(21, 1, "/home/u/miner", {"miner"}, 1001, 1001);
  comm.stat.comm = "kthreadd";
  auto& kernel = b.add(2, 0, "", {});  // a real kernel thread
  kernel.exe.reset();
  kernel.stat.comm = "kworker/0:1";
  kernel.stat.flags = core::kPfKthread;
  Audit run(b.procs, "masquerade");
  const Finding* f = run.about(20);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Severity::kHigh);
  EXPECT_NE(f->title.find("[kworker/0:1]"), std::string::npos);
  EXPECT_TRUE(has_evidence(*f, "argv[0] [kworker/0:1]"));
  EXPECT_TRUE(has_evidence(*f, "exe /tmp/.x/sleep"));
  EXPECT_TRUE(has_evidence(*f, "comm sleep"));
  ASSERT_NE(run.about(21), nullptr);
  EXPECT_EQ(run.about(2), nullptr);
}

TEST(Masquerade, Argv0NamingAnInstalledProgramFires) {
  // /bin/sh exists on every machine these tests run on.
  Builder b;
  b.add(1, 0, "/usr/lib/systemd/systemd", {"/sbin/init"});
  b.add(20, 1, "/tmp/x/sleep", {"sh"}, 1001, 1001);
  b.add(21, 1, "/tmp/x/sleep", {"/usr/bin/sh", "-c", "x"}, 1001, 1001);
  Audit run(b.procs, "masquerade");
  const Finding* f = run.about(20);
  ASSERT_NE(f, nullptr);
  EXPECT_NE(f->title.find("argv[0] says sh but it runs /tmp/x/sleep"), std::string::npos) << f->title;
  EXPECT_TRUE(has_evidence(*f, "/sh is installed"));
  EXPECT_NE(run.about(21), nullptr);
}

TEST(Masquerade, TitlesLoginShellsVersionsAndSystemFilesDoNotFire) {
  Builder b;
  b.add(1, 0, "/usr/lib/systemd/systemd", {"/sbin/init"});
  b.add(10, 1, "/usr/sbin/sshd", {"sshd: alice@pts/0"});
  b.add(11, 1, "/usr/sbin/nginx", {"nginx: worker process"});
  b.add(12, 1, "/home/u/nginx/sbin/nginx", {"nginx: worker process"});
  b.add(13, 1, "/usr/bin/bash", {"-bash"});
  b.add(14, 1, "/home/u/.pyenv/versions/3.12.1/bin/python3.12", {"/home/u/.pyenv/versions/3.12.1/bin/python3"});
  b.add(15, 1, "/tmp/bb/busybox", {"sh"});
  b.add(16, 1, "/usr/bin/python3.11", {"python3"});  // in a package directory
  b.add(17, 1, "/home/u/bin/tool", {"tool", "--x"});
  b.add(18, 1, "/home/u/bin/tool", {"no-such-program-anywhere"});
  b.add(19, 1, "/home/u/bin/sh", {"-sh"});
  auto& zombie = b.add(20, 1, "/tmp/gone", {});
  zombie.stat.state = 'Z';
  Audit run(b.procs, "masquerade");
  for (const Finding& f : run.findings) ADD_FAILURE() << f.process.pid << " " << f.title;
}

// ---- ld-preload ------------------------------------------------------------

TEST(LdPreload, PreloadInTmpIsHighAndInheritedOnceReported) {
  Builder b;
  b.add(1, 0, "/usr/lib/systemd/systemd", {"/sbin/init"});
  auto& sh = b.add(20, 1, "/usr/bin/bash", {"bash"}, 1001, 1001);
  sh.environ = std::vector<std::string>{"HOME=/home/u", "SECRET_TOKEN=hunter2"};
  auto& s = b.add(30, 20, "/usr/bin/sleep", {"sleep", "30"}, 1001, 1001);
  s.environ = std::vector<std::string>{"SECRET_TOKEN=hunter2", "LD_PRELOAD=/tmp/x/libfake.so"};
  auto& child = b.add(31, 30, "/usr/bin/cat", {"cat"}, 1001, 1001);
  child.environ = s.environ;
  Audit run(b.procs, "ld-preload");
  ASSERT_EQ(run.findings.size(), 1u);
  const Finding& f = run.findings[0];
  EXPECT_EQ(f.process.pid, 30);
  EXPECT_EQ(f.severity, Severity::kHigh);
  EXPECT_EQ(f.title, "LD_PRELOAD injects /tmp/x/libfake.so");
  EXPECT_TRUE(has_evidence(f, "LD_PRELOAD=/tmp/x/libfake.so"));
  EXPECT_TRUE(has_evidence(f, "1 descendant inherits it"));
  for (const auto& e : f.evidence) EXPECT_EQ(e.find("hunter2"), std::string::npos) << e;
  EXPECT_EQ(f.title.find("hunter2"), std::string::npos);
}

TEST(LdPreload, SystemLibraryIsMediumUnverifiedIsHighEmptyIsNothing) {
  Builder b;
  b.add(1, 0, "/usr/lib/systemd/systemd", {"/sbin/init"});
  auto& sys = b.add(20, 1, "/usr/bin/sleep", {"sleep"});
  sys.environ = std::vector<std::string>{"LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libeatmydata.so"};
  auto& local = b.add(21, 1, "/usr/bin/sleep", {"sleep"});
  local.environ = std::vector<std::string>{"LD_PRELOAD=/srv/app/libhook.so:/usr/lib/libok.so"};
  auto& empty = b.add(22, 1, "/usr/bin/sleep", {"sleep"});
  empty.environ = std::vector<std::string>{"LD_PRELOAD=", "PATH=/bin"};
  auto& spaces = b.add(23, 1, "/usr/bin/sleep", {"sleep"});
  spaces.environ = std::vector<std::string>{"LD_PRELOAD= : "};
  auto& none = b.add(24, 1, "/usr/bin/sleep", {"sleep"});
  none.environ = std::vector<std::string>{"PATH=/bin"};
  testing::FakeVerifier v;
  v.untrusted = {"/srv/app/libhook.so"};
  Audit run(b.procs, "ld-preload", v);
  ASSERT_EQ(run.findings.size(), 2u);
  const Finding* f = run.about(20);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Severity::kMedium);
  const Finding* g = run.about(21);
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->severity, Severity::kHigh);
  EXPECT_EQ(g->title, "LD_PRELOAD injects /srv/app/libhook.so and 1 more");
  EXPECT_TRUE(has_evidence(*g, "/srv/app/libhook.so: outside the package directories, runs /srv/app/libhook.so, owned by lbuser"));
}

TEST(LdPreload, ListSplitsLikeTheLoader) {
  using V = std::vector<std::string_view>;
  EXPECT_EQ(preload_entries("/a.so:/b.so /c.so\n\t/d.so"), (V{"/a.so", "/b.so", "/c.so", "/d.so"}));
  EXPECT_EQ(preload_entries(" ::\n"), V{});
  EXPECT_EQ(preload_entries(""), V{});
}

TEST(LdPreload, NoSystemFileReadWithoutAReader) {
  Builder b;
  b.add(1, 0, "/usr/lib/systemd/systemd", {"/sbin/init"});
  Audit run(b.procs, "ld-preload");
  EXPECT_TRUE(run.findings.empty());
}

// ---- ptrace-attached -------------------------------------------------------

TEST(PtraceAttached, RootTracerIsMediumUserTracerIsHighSameUserNothing) {
  Builder b;
  b.add(1, 0, "/usr/lib/systemd/systemd", {"/sbin/init"});
  b.add(10, 1, "/usr/bin/strace", {"strace", "-p", "20"}, 0, 0);
  auto& a = b.add(20, 1, "/usr/bin/sleep", {"sleep", "30"}, 1001, 1001);
  a.status->tracer_pid = 10;
  b.add(30, 1, "/usr/bin/gdb", {"gdb", "-p", "40"}, 1002, 1002);
  auto& c = b.add(40, 1, "/usr/bin/sleep", {"sleep", "30"}, 1001, 1001);
  c.status->tracer_pid = 30;
  b.add(50, 1, "/usr/bin/strace", {"strace", "-f", "sleep"}, 1001, 1001);
  auto& own = b.add(60, 50, "/usr/bin/sleep", {"sleep", "30"}, 1001, 1001);
  own.status->tracer_pid = 50;
  auto& lost = b.add(70, 1, "/usr/bin/sleep", {"sleep", "30"}, 1001, 1001);
  lost.status->tracer_pid = 9999;  // tracer not in the table: unknown
  Audit run(b.procs, "ptrace-attached");
  ASSERT_EQ(run.findings.size(), 2u);
  const Finding* f = run.about(20);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Severity::kMedium);
  EXPECT_EQ(f->related_pid, 10);
  EXPECT_NE(f->title.find("root traces it"), std::string::npos);
  EXPECT_TRUE(has_evidence(*f, "TracerPid 10"));
  EXPECT_TRUE(has_evidence(*f, "strace -p 20"));
  const Finding* g = run.about(40);
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->severity, Severity::kHigh);
  EXPECT_TRUE(has_evidence(*g, "tracer uid 1002 euid 1002"));
}

// ---- zombie-accumulation ----------------------------------------------------

Builder with_zombies(int n, int32_t parent_pid = 20) {
  Builder b;
  b.add(1, 0, "/usr/lib/systemd/systemd", {"/sbin/init"});
  b.add(parent_pid, 1, "/usr/bin/python3", {"python3", "spawner.py"}, 1001, 1001);
  for (int i = 0; i < n; ++i) {
    auto& z = b.add(1000 + i, parent_pid, "", {});
    z.exe.reset();
    z.argv = std::vector<std::string>{};
    z.stat.comm = "python3";
    z.stat.state = 'Z';
  }
  return b;
}

TEST(ZombieAccumulation, HundredZombiesUnderOneParentFire) {
  Audit run(with_zombies(150).procs, "zombie-accumulation");
  ASSERT_EQ(run.findings.size(), 1u);
  const Finding& f = run.findings[0];
  EXPECT_EQ(f.process.pid, 20);
  EXPECT_EQ(f.severity, Severity::kMedium);
  EXPECT_NE(f.title.find("150 zombie children"), std::string::npos) << f.title;
  EXPECT_TRUE(has_evidence(f, "parent command python3 spawner.py"));
  EXPECT_TRUE(has_evidence(f, "oldest zombie started"));
  EXPECT_TRUE(has_evidence(f, "(pid 1000)"));
}

TEST(ZombieAccumulation, ThousandIsHighNinetyNineIsNothing) {
  Audit many(with_zombies(1000).procs, "zombie-accumulation");
  ASSERT_EQ(many.findings.size(), 1u);
  EXPECT_EQ(many.findings[0].severity, Severity::kHigh);
  Audit few(with_zombies(99).procs, "zombie-accumulation");
  EXPECT_TRUE(few.findings.empty());
  // A leader whose threads still run is not a zombie process.
  Builder b = with_zombies(100);
  b.procs.back().stat.num_threads = 3;
  Audit threads(b.procs, "zombie-accumulation");
  EXPECT_TRUE(threads.findings.empty());
}

}  // namespace
}  // namespace lineage::audit
