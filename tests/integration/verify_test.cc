// The real launcher check (explain/verify.h) against real files, real
// processes, a real user-made mount namespace and real cgroups. Needs root
// (to make root-owned and user-owned files); skips otherwise.
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "explain/verify.h"
#include "procfs/reader.h"

namespace lineage::explain {
namespace {

namespace fs = std::filesystem;

constexpr uid_t kNobody = 65534;

// A running process started from argv[0] (no shell), killed at scope exit.
class Running {
 public:
  /// Waits until the child runs `expect_exe` (argv[0] when empty).
  explicit Running(std::vector<std::string> argv, std::string expect_exe = "") {
    if (expect_exe.empty()) expect_exe = argv[0];
    pid_ = ::fork();
    if (pid_ == 0) {
      std::vector<char*> args;
      for (auto& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    for (int i = 0; i < 200; ++i) {
      std::error_code ec;
      auto exe = fs::read_symlink("/proc/" + std::to_string(pid_) + "/exe", ec);
      if (!ec && exe == expect_exe) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  ~Running() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  pid_t pid() const { return pid_; }
  core::Process read() const {
    auto reader = procfs::ProcReader::open("/proc");
    auto p = reader->read(pid_, core::kFieldStat | core::kFieldExe | core::kFieldCgroup);
    EXPECT_TRUE(p.has_value());
    return p ? *p : core::Process{};
  }

 private:
  pid_t pid_ = -1;
};

class VerifyReal : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to make root-owned and user-owned files";
    // A root-owned 0755 directory under a root-owned path (not /tmp, which
    // anyone may write).
    char tmpl[] = "/var/lib/lineage-verify-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ::chmod(dir_.c_str(), 0755);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  std::string copy_sleep(const std::string& name, uid_t owner, mode_t mode) {
    std::string path = dir_ + "/" + name;
    fs::copy_file("/usr/bin/sleep", path, fs::copy_options::overwrite_existing);
    EXPECT_EQ(::chown(path.c_str(), owner, 0), 0);
    EXPECT_EQ(::chmod(path.c_str(), mode), 0);
    return path;
  }
  std::string dir_;
};

TEST_F(VerifyReal, SystemBinaryIsVerified) {
  Running r({"/usr/bin/sleep", "30"});
  ProcExeVerifier v("/proc");
  auto result = v.check_exe(r.read());
  EXPECT_TRUE(result.verified) << result.text;
  EXPECT_NE(result.text.find("root-owned, the same file as /usr/bin/sleep"), std::string::npos) << result.text;
}

TEST_F(VerifyReal, UsersCopyIsNotVerifiedAndSaysWhose) {
  std::string path = copy_sleep("sshd", kNobody, 0755);
  Running r({path, "30"});
  auto result = ProcExeVerifier("/proc").check_exe(r.read());
  EXPECT_FALSE(result.verified);
  EXPECT_EQ(result.text, "runs " + path + ", owned by nobody");
}

TEST_F(VerifyReal, GroupWritableFileOrDirectoryIsNotVerified) {
  std::string path = copy_sleep("cron", 0, 0775);
  {
    Running r({path, "30"});
    auto result = ProcExeVerifier("/proc").check_exe(r.read());
    EXPECT_FALSE(result.verified);
    EXPECT_NE(result.text.find("writable by group or others"), std::string::npos) << result.text;
  }
  ::chmod(path.c_str(), 0755);
  ::chmod(dir_.c_str(), 0777);
  {
    Running r({path, "30"});
    auto result = ProcExeVerifier("/proc").check_exe(r.read());
    EXPECT_FALSE(result.verified);
    EXPECT_NE(result.text.find("whose directory " + dir_ + " is writable"), std::string::npos) << result.text;
  }
  ::chmod(dir_.c_str(), 0755);
  Running r({path, "30"});
  auto result = ProcExeVerifier("/proc").check_exe(r.read());
  EXPECT_TRUE(result.verified) << result.text;
}

// A binary under /tmp (world-writable, sticky) can be swapped by anyone.
TEST_F(VerifyReal, BinaryUnderTmpIsNotVerified) {
  char tmpl[] = "/tmp/lineage-verify-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::string path = std::string(tmpl) + "/atd";
  fs::copy_file("/usr/bin/sleep", path);
  ::chmod(tmpl, 0755);
  {
    Running r({path, "30"});
    auto result = ProcExeVerifier("/proc").check_exe(r.read());
    EXPECT_FALSE(result.verified);
    EXPECT_NE(result.text.find("whose directory /tmp is writable by group or others"), std::string::npos)
        << result.text;
  }
  fs::remove_all(tmpl);
}

// An upgrade replaces the file under a running daemon: still the daemon.
TEST_F(VerifyReal, ReplacedOnDiskAfterStartIsVerified) {
  std::string path = copy_sleep("sshd", 0, 0755);
  Running r({path, "30"});
  ASSERT_EQ(::unlink(path.c_str()), 0);
  copy_sleep("sshd", 0, 0755);
  core::Process p = r.read();
  ASSERT_TRUE(p.exe && p.exe->deleted);
  auto result = ProcExeVerifier("/proc").check_exe(p);
  EXPECT_TRUE(result.verified) << result.text;
  EXPECT_NE(result.text.find("replaced on disk"), std::string::npos) << result.text;
}

// A copy replaced on disk whose path now holds a user's file is not.
TEST_F(VerifyReal, ReplacedByAUsersFileIsNotVerified) {
  std::string path = copy_sleep("sshd", 0, 0755);
  Running r({path, "30"});
  ASSERT_EQ(::unlink(path.c_str()), 0);
  copy_sleep("sshd", kNobody, 0755);
  auto result = ProcExeVerifier("/proc").check_exe(r.read());
  EXPECT_FALSE(result.verified) << result.text;
}

// A nosuid mount (as FUSE and udisks mounts always are, which users may
// make) proves nothing by ownership, even of a root-owned file.
TEST_F(VerifyReal, FileOnANosuidMountIsNotVerified) {
  std::string mnt = dir_ + "/mnt";
  ASSERT_EQ(::mkdir(mnt.c_str(), 0755), 0);
  if (::mount("lineage-test", mnt.c_str(), "tmpfs", MS_NOSUID, "mode=0755") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here";
  }
  std::string path = mnt + "/sshd";
  fs::copy_file("/usr/bin/sleep", path);
  ::chmod(path.c_str(), 0755);
  {
    Running r({path, "30"});
    auto result = ProcExeVerifier("/proc").check_exe(r.read());
    EXPECT_FALSE(result.verified);
    EXPECT_NE(result.text.find("nosuid mount"), std::string::npos) << result.text;
  }
  ::umount2(mnt.c_str(), MNT_DETACH);
}

// A mount namespace made inside a new user namespace: whatever is mounted
// there is its maker's claim, even a root-owned system binary.
TEST_F(VerifyReal, UserMadeMountNamespaceNeverCounts) {
  if (::access("/usr/bin/unshare", X_OK) != 0) GTEST_SKIP() << "no unshare";
  Running r({"/usr/bin/unshare", "-Urm", "/usr/bin/sleep", "30"}, "/usr/bin/sleep");
  core::Process p = r.read();
  ASSERT_TRUE(p.exe);
  if (p.exe->path != "/usr/bin/sleep") GTEST_SKIP() << "unshare -Urm failed here (user namespaces off?)";
  auto result = ProcExeVerifier("/proc").check_exe(p);
  EXPECT_FALSE(result.verified);
  EXPECT_NE(result.text.find("mount namespace made by an unprivileged user"), std::string::npos) << result.text;
}

// A cgroup made in a directory a user owns (a delegated subtree) is that
// user's claim; one made by root is evidence.
TEST_F(VerifyReal, CgroupOwnershipDecides) {
  Running r({"/usr/bin/sleep", "30"});
  core::Process p = r.read();
  ASSERT_TRUE(p.cgroups);
  ProcExeVerifier v("/proc");
  const core::CgroupEntry* line = nullptr;
  for (const auto& e : *p.cgroups) {
    if (e.controllers == "name=systemd") line = &e;
  }
  for (const auto& e : *p.cgroups) {
    if (!line && e.hierarchy == 0 && e.controllers.empty()) line = &e;
  }
  ASSERT_NE(line, nullptr);
  auto own = v.check_cgroup(p, *line, std::nullopt);
  EXPECT_TRUE(own.verified) << own.text;

  // Make a user-owned cgroup beside ours and ask about a path inside it.
  std::string mount = line->controllers == "name=systemd" ? "/sys/fs/cgroup/systemd" : "";
  if (mount.empty() || !fs::exists(mount)) GTEST_SKIP() << "no v1 name=systemd hierarchy to make a cgroup in";
  std::string name = "lineage-verify-" + std::to_string(::getpid());
  std::string dir = mount + "/" + name;
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  ASSERT_EQ(::chown(dir.c_str(), kNobody, kNobody), 0);
  ASSERT_EQ(::mkdir((dir + "/nginx.service").c_str(), 0755), 0);
  core::CgroupEntry fake = *line;
  fake.path = "/" + name + "/nginx.service";
  auto claimed = v.check_cgroup(p, fake, std::nullopt);
  EXPECT_FALSE(claimed.verified);
  EXPECT_NE(claimed.text.find("is owned by nobody"), std::string::npos) << claimed.text;
  EXPECT_TRUE(v.check_cgroup(p, fake, kNobody).verified);  // a user manager's own units
  ::rmdir((dir + "/nginx.service").c_str());
  ::rmdir(dir.c_str());
}

}  // namespace
}  // namespace lineage::explain
