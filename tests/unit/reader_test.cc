#include "procfs/reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "fake_procfs.h"

namespace lineage::procfs {
namespace {

using core::FieldMask;
using namespace core;
using testing::FakeProcess;
using testing::FakeProcfs;

const Process* by_pid(const std::vector<Process>& ps, int pid) {
  for (const auto& p : ps) {
    if (p.pid() == pid) return &p;
  }
  return nullptr;
}

TEST(ProcReader, OpenFailsOnMissingRoot) {
  auto r = ProcReader::open("/nonexistent/proc");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kNotFound);
}

TEST(ProcReader, ScansEveryProcessWithItsFields) {
  FakeProcfs fs(500.0);
  fs.add({.pid = 1, .comm = "init", .start_ticks = 1, .argv = {"/sbin/init"}});
  fs.add({.pid = 10, .ppid = 1, .comm = "sshd", .start_ticks = 200, .uid = 0,
          .argv = {"sshd: alice [priv]"}});
  fs.add({.pid = 11, .ppid = 10, .comm = "bash", .start_ticks = 300, .uid = 1000,
          .argv = {"-bash"}, .tty_nr = 34816});
  fs.write(1, "notes", "not a process file");
  std::filesystem::create_directories(fs.root() + "/self_not_a_pid");
  auto reader = ProcReader::open(fs.root());
  ASSERT_TRUE(reader);
  ScanStats stats;
  auto ps = reader->scan(kFieldStat | kFieldStatus | kFieldCmdline, &stats);
  ASSERT_EQ(ps.size(), 3u);
  EXPECT_EQ(stats.vanished, 0u);
  const Process* bash = by_pid(ps, 11);
  ASSERT_NE(bash, nullptr);
  EXPECT_EQ(bash->ppid(), 10);
  EXPECT_EQ(bash->key.start_time_ns, 300u * reader->system_info().tick_ns());
  ASSERT_TRUE(bash->status);
  EXPECT_EQ(bash->status->uid.effective, 1000u);
  ASSERT_TRUE(bash->argv);
  EXPECT_EQ(bash->argv->front(), "-bash");
  EXPECT_EQ(bash->read, kFieldStat | kFieldStatus | kFieldCmdline);
  EXPECT_EQ(bash->unavailable, 0u);
  auto sys = reader->system_info();
  EXPECT_EQ(sys.boot_ns_now, 500'000'000'000u);
  EXPECT_EQ(sys.mem_total_kb, 1024u * 1024u);
}

TEST(ProcReader, ReadsOnlyTheRequestedFiles) {
  FakeProcfs fs;
  fs.add({.pid = 5, .argv = {"x"}});
  // A status that cannot be read: asking for it marks it unavailable; not
  // asking must not touch it.
  fs.remove(5, "status");
  std::filesystem::create_directory(fs.root() + "/5/status");
  fs.remove(5, "cmdline");
  std::filesystem::create_directory(fs.root() + "/5/cmdline");
  auto reader = ProcReader::open(fs.root());
  auto only_stat = reader->scan(kFieldStat);
  ASSERT_EQ(only_stat.size(), 1u);
  EXPECT_EQ(only_stat[0].unavailable, 0u);
  EXPECT_FALSE(only_stat[0].status);
  EXPECT_FALSE(only_stat[0].argv);
  auto with_status = reader->scan(kFieldStat | kFieldStatus);
  ASSERT_EQ(with_status.size(), 1u);
  EXPECT_EQ(with_status[0].unavailable, static_cast<FieldMask>(kFieldStatus));
}

TEST(ProcReader, SkipsVanishedAndMalformedProcesses) {
  FakeProcfs fs;
  fs.add({.pid = 1, .comm = "init"});
  fs.add({.pid = 2, .comm = "gone"});
  fs.remove(2, "stat");  // exited between readdir and read
  fs.add({.pid = 3, .comm = "bad"});
  fs.write(3, "stat", "3 (bad) ");  // truncated
  fs.add({.pid = 4, .comm = "other"});
  fs.write(4, "stat", FakeProcfs::stat_line({.pid = 9}));  // pid does not match dir
  auto reader = ProcReader::open(fs.root());
  ScanStats stats;
  auto ps = reader->scan(kFieldStat, &stats);
  ASSERT_EQ(ps.size(), 1u);
  EXPECT_EQ(ps[0].pid(), 1);
  EXPECT_EQ(stats.vanished, 3u);
  EXPECT_FALSE(reader->read(2, kFieldStat));
  EXPECT_TRUE(reader->read(1, kFieldStat));
  EXPECT_FALSE(reader->read(0, kFieldStat));
  EXPECT_FALSE(reader->read(77, kFieldStat));
}

TEST(ProcReader, MissingFileOfALiveProcessIsUnavailable) {
  FakeProcfs fs;
  fs.add({.pid = 7, .state = 'Z', .argv = {}});  // a zombie: no exe, empty cmdline
  auto reader = ProcReader::open(fs.root());
  auto p = reader->read(7, kFieldStat | kFieldCmdline | kFieldExe | kFieldCwd);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->is_zombie());
  ASSERT_TRUE(p->argv);
  EXPECT_TRUE(p->argv->empty());
  EXPECT_EQ(p->command_line(), "[proc]");
  EXPECT_EQ(p->unavailable, static_cast<FieldMask>(kFieldExe | kFieldCwd));
  EXPECT_FALSE(p->exe);
}

TEST(ProcReader, LinksNamespacesCgroupsAndThreads) {
  FakeProcfs fs;
  fs.add({.pid = 20, .comm = "worker", .argv = {"/opt/w"}, .threads = 3,
          .cgroup = "1:name=systemd:/system.slice/w.service\n0::/system.slice/w.service\n"});
  fs.link(20, "exe", "/opt/w (deleted)");
  fs.link(20, "cwd", "/srv");
  fs.link(20, "ns/pid", "pid:[4026531836]");
  fs.link(20, "ns/mnt", "mnt:[4026531840]");
  fs.link(20, "ns/net", "net:[4026531992]");
  fs.write(20, "task/20/stat", FakeProcfs::stat_line({.pid = 20, .comm = "worker"}));
  fs.write(20, "task/21/stat", FakeProcfs::stat_line({.pid = 21, .comm = "io thread", .state = 'R'}));
  fs.write(20, "task/22/stat", FakeProcfs::stat_line({.pid = 22, .comm = "gc"}));
  auto reader = ProcReader::open(fs.root());
  auto p = reader->read(20, kFieldStat | kFieldExe | kFieldCwd | kFieldCgroup | kFieldNamespaces |
                                kFieldThreads);
  ASSERT_TRUE(p);
  ASSERT_TRUE(p->exe);
  EXPECT_EQ(p->exe->path, "/opt/w");
  EXPECT_TRUE(p->exe->deleted);
  EXPECT_EQ(p->cwd, "/srv");
  ASSERT_TRUE(p->cgroups);
  EXPECT_EQ(p->cgroups->size(), 2u);
  EXPECT_EQ(p->ns.pid, 4026531836u);
  EXPECT_EQ(p->ns.net, 4026531992u);
  ASSERT_EQ(p->threads.size(), 2u);  // the leader is not listed again
  std::vector<int32_t> tids{p->threads[0].tid, p->threads[1].tid};
  std::sort(tids.begin(), tids.end());
  EXPECT_EQ(tids, (std::vector<int32_t>{21, 22}));
}

// Denied files are reported as unavailable, never invented. Root bypasses
// file modes, so when run as root the check runs in a child as nobody.
TEST(ProcReader, DeniedFieldIsUnavailable) {
  FakeProcfs fs;
  fs.add({.pid = 30, .argv = {"secret"}});
  ::chmod((fs.root() + "/30/cmdline").c_str(), 0);
  ::chmod((fs.root() + "/30").c_str(), 0755);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) ::_exit(3);
    auto reader = ProcReader::open(fs.root());
    if (!reader) ::_exit(4);
    auto p = reader->read(30, kFieldStat | kFieldCmdline);
    bool ok = p && !p->argv && (p->unavailable & kFieldCmdline) && !(p->read & kFieldCmdline);
    ::_exit(ok ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(ProcReader, BoundedCmdlineRead) {
  FakeProcfs fs;
  std::string huge(ProcReader::kMaxCmdlineBytes + 100, 'a');
  fs.add({.pid = 40, .argv = {huge}});
  auto reader = ProcReader::open(fs.root());
  auto p = reader->read(40, kFieldStat | kFieldCmdline);
  ASSERT_TRUE(p && p->argv);
  EXPECT_TRUE(p->argv_truncated);
  EXPECT_EQ(p->argv->front().size(), ProcReader::kMaxCmdlineBytes);
}

TEST(ProcReader, LargeTableReadByWorkersIsComplete) {
  FakeProcfs fs;
  constexpr int kCount = 1500;  // enough for several workers and chunks
  for (int pid = 1; pid <= kCount; ++pid) {
    fs.add({.pid = pid, .ppid = pid > 1 ? pid / 2 : 0, .start_ticks = static_cast<uint64_t>(pid),
            .argv = {"p" + std::to_string(pid)}});
  }
  fs.remove(700, "stat");
  auto reader = ProcReader::open(fs.root());
  ScanStats stats;
  auto ps = reader->scan(kFieldStat | kFieldCmdline, &stats);
  EXPECT_EQ(ps.size(), static_cast<size_t>(kCount - 1));
  EXPECT_EQ(stats.vanished, 1u);
  std::vector<bool> seen(kCount + 1, false);
  for (const auto& p : ps) {
    ASSERT_FALSE(seen[p.pid()]) << "read twice: " << p.pid();
    seen[p.pid()] = true;
    EXPECT_EQ(p.argv->front(), "p" + std::to_string(p.pid()));
  }
}

TEST(ClassifyErrno, GoneDeniedOther) {
  EXPECT_EQ(classify_errno(ENOENT), ReadError::kGone);
  EXPECT_EQ(classify_errno(ESRCH), ReadError::kGone);
  EXPECT_EQ(classify_errno(EACCES), ReadError::kDenied);
  EXPECT_EQ(classify_errno(EPERM), ReadError::kDenied);
  EXPECT_EQ(classify_errno(EIO), ReadError::kOther);
}

TEST(ProcReader, PidMaxFromTheRootElseTheLimit) {
  FakeProcfs fs;
  auto reader = ProcReader::open(fs.root());
  ASSERT_TRUE(reader);
  EXPECT_EQ(reader->pid_max(), ProcReader::kPidMaxLimit);  // no file
  std::filesystem::create_directories(fs.root() + "/sys/kernel");
  std::ofstream(fs.root() + "/sys/kernel/pid_max") << "32768\n";
  EXPECT_EQ(reader->pid_max(), 32768u);
  std::ofstream(fs.root() + "/sys/kernel/pid_max") << "junk\n";
  EXPECT_EQ(reader->pid_max(), ProcReader::kPidMaxLimit);
}

TEST(ProcReader, UserNamespaceOnlyWhereCapabilitiesMakeItMatter) {
  FakeProcfs fs;
  fs.add({.pid = 1, .comm = "init", .start_ticks = 1});
  fs.add({.pid = 20, .comm = "capped", .start_ticks = 200, .uid = 1000});
  fs.add({.pid = 21, .comm = "plain", .start_ticks = 210, .uid = 1000});
  // FakeProcfs writes CapEff 0: give 20 a capability.
  fs.write(20, "status", "Name:\tcapped\nUid:\t1000\t1000\t1000\t1000\nGid:\t1000\t1000\t1000\t1000\n"
                         "CapEff:\t0000000000200000\n");
  for (int pid : {1, 20, 21}) {
    fs.link(pid, "ns/pid", "pid:[4026531836]");
    fs.link(pid, "ns/user", pid == 1 ? "user:[4026531837]" : "user:[4026532600]");
  }
  auto reader = ProcReader::open(fs.root());
  ASSERT_TRUE(reader);
  auto capped = reader->read(20, kFieldStat | kFieldStatus | kFieldNamespaces);
  ASSERT_TRUE(capped);
  ASSERT_TRUE(capped->status);
  EXPECT_EQ(capped->status->cap_effective, uint64_t{1} << 21);
  EXPECT_EQ(capped->ns.user, 4026532600u);
  auto plain = reader->read(21, kFieldStat | kFieldStatus | kFieldNamespaces);
  ASSERT_TRUE(plain);
  EXPECT_FALSE(plain->ns.user);  // no capabilities: not read
  EXPECT_EQ(reader->user_namespace(plain->key), 4026532600u);
  EXPECT_EQ(reader->initial_user_namespace(), 4026531837u);
  fs.remove(1, "ns/user");  // denied or missing: the kernel's fixed inode
  fs.link(1, "ns/user", "user:[4026532999]");
  EXPECT_EQ(reader->initial_user_namespace(), 4026532999u);  // pid 1's own, when readable
  fs.remove(1, "ns/user");
  EXPECT_EQ(reader->initial_user_namespace(), ProcReader::kInitialUserNamespace);
  // A key whose start time is not the process's names nothing.
  EXPECT_FALSE(reader->user_namespace({21, plain->key.start_time_ns + 5 * reader->tick_ns()}));
  EXPECT_FALSE(reader->user_namespace({99, 0}));
}

TEST(UniqueDir, ListsADirectoryAndClosesIt) {
  FakeProcfs fs;
  fs.add({.pid = 7});
  int fd = ::open(fs.root().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  {
    UniqueDir dir = UniqueDir::from_fd(UniqueFd(fd));
    ASSERT_TRUE(dir);
    bool seen = false;
    while (dirent* e = ::readdir(dir.get())) seen = seen || std::string(e->d_name) == "7";
    EXPECT_TRUE(seen);
    EXPECT_EQ(::fcntl(fd, F_GETFD), FD_CLOEXEC);  // still open while owned
  }
  EXPECT_EQ(::fcntl(fd, F_GETFD), -1);  // closed with the stream
}

TEST(UniqueDir, ClosesTheFdWhenFdopendirFails) {
  FakeProcfs fs;
  fs.add({.pid = 7});
  int fd = ::open((fs.root() + "/7/stat").c_str(), O_RDONLY | O_CLOEXEC);  // not a directory
  ASSERT_GE(fd, 0);
  UniqueDir dir = UniqueDir::from_fd(UniqueFd(fd));
  EXPECT_FALSE(dir);
  EXPECT_EQ(::fcntl(fd, F_GETFD), -1);
  EXPECT_EQ(errno, EBADF);
  EXPECT_FALSE(UniqueDir::from_fd(UniqueFd()));
}

}  // namespace
}  // namespace lineage::procfs
