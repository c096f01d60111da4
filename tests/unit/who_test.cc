// `lineage who`: the pure parts (resource forms, fdinfo, below-a-directory
// matching, mountinfo and the mount a path is on, /proc/net/unix, hold
// text) on literal strings, and the /proc scan on a fake proc tree whose fd
// links point at real files in a temporary directory.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "fake_procfs.h"
#include "output/who_writer.h"
#include "procfs/holders.h"
#include "resolve/who.h"

namespace lineage {
namespace {

using procfs::Hold;
using procfs::HoldKind;
using procfs::HoldQuery;
using resolve::Resource;

TEST(WhoResource, PortForms) {
  auto r = resolve::parse_resource(":8080", false, false);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, Resource::Kind::kPort);
  EXPECT_EQ(r->port, 8080);
  EXPECT_FALSE(r->tcp.has_value());
  r = resolve::parse_resource("tcp/22", false, false);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->port, 22);
  EXPECT_EQ(r->tcp, true);
  r = resolve::parse_resource("udp/53", false, false);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->tcp, false);
}

TEST(WhoResource, BadPortsAreUsageErrors) {
  for (const char* bad : {":", ":0", ":65536", ":80x", ":-1", "tcp/", "udp/http", ":+80"}) {
    auto r = resolve::parse_resource(bad, false, false);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().kind, ErrorKind::kUsage) << bad;
  }
}

TEST(WhoResource, PathsAndFlags) {
  auto r = resolve::parse_resource("/var/log/x.log", false, false);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, Resource::Kind::kPath);
  EXPECT_EQ(r->path, "/var/log/x.log");
  r = resolve::parse_resource("relative/tcp/80", false, false);  // a path that mentions tcp/
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, Resource::Kind::kPath);
  r = resolve::parse_resource("/srv", true, false);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, Resource::Kind::kTree);
  r = resolve::parse_resource("/mnt/usb", false, true);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, Resource::Kind::kMount);
  EXPECT_EQ(resolve::parse_resource("/x", true, true).error().kind, ErrorKind::kUsage);
  EXPECT_EQ(resolve::parse_resource(":80", true, false).error().kind, ErrorKind::kUsage);
  EXPECT_EQ(resolve::parse_resource("", false, false).error().kind, ErrorKind::kUsage);
}

TEST(WhoMethod, CostRule) {
  EXPECT_FALSE(resolve::choose_bpf(resolve::Method::kAuto, 1000));
  EXPECT_TRUE(resolve::choose_bpf(resolve::Method::kAuto, 10000));
  EXPECT_TRUE(resolve::choose_bpf(resolve::Method::kBpf, 1));
  EXPECT_FALSE(resolve::choose_bpf(resolve::Method::kProc, 100000));
  EXPECT_EQ(resolve::parse_method("proc"), resolve::Method::kProc);
  EXPECT_FALSE(resolve::parse_method("kernel").has_value());
}

TEST(WhoParsers, FdinfoFlags) {
  auto f = procfs::parse_fdinfo_flags("pos:\t0\nflags:\t0102002\nmnt_id:\t25\nino:\t42\n");
  ASSERT_TRUE(f);
  EXPECT_EQ(*f, 0102002u);
  EXPECT_EQ(procfs::access_mode(*f), "rw");
  EXPECT_EQ(procfs::access_mode(*procfs::parse_fdinfo_flags("flags:\t02000000\n")), "r");
  EXPECT_EQ(procfs::access_mode(*procfs::parse_fdinfo_flags("pos: 0\nflags: 01\n")), "w");
  EXPECT_FALSE(procfs::parse_fdinfo_flags("pos:\t0\n"));
  EXPECT_FALSE(procfs::parse_fdinfo_flags("flags:\t0x12\n"));
  EXPECT_FALSE(procfs::parse_fdinfo_flags("flags:\t09\n"));  // not octal
}

TEST(WhoParsers, BelowADirectory) {
  EXPECT_TRUE(procfs::path_is_below("/srv/data", "/srv/data"));
  EXPECT_TRUE(procfs::path_is_below("/srv/data/a/b.log", "/srv/data"));
  EXPECT_TRUE(procfs::path_is_below("/srv/data/x (deleted)", "/srv/data"));
  EXPECT_FALSE(procfs::path_is_below("/srv/database/x", "/srv/data"));  // component-wise
  EXPECT_FALSE(procfs::path_is_below("/srv", "/srv/data"));
  EXPECT_FALSE(procfs::path_is_below("socket:[123]", "/"));  // not a path
  EXPECT_FALSE(procfs::path_is_below("anon_inode:[eventfd]", "/srv"));
  EXPECT_TRUE(procfs::path_is_below("/anything", "/"));
  EXPECT_FALSE(procfs::path_is_below("", "/"));
}

constexpr const char* kMountinfo =
    "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
    "30 22 0:26 / /proc rw,nosuid - proc proc rw\n"
    "41 22 0:39 / /mnt/usb\\040stick rw,relatime shared:20 - vfat /dev/sdb1 rw\n"
    "42 22 0:40 / /mnt/usb rw - tmpfs tmpfs rw\n"
    "43 42 0:41 / /mnt/usb/inner rw master:3 - tmpfs inner rw\n"
    "44 42 0:42 / /mnt/usb/inner rw - tmpfs over rw\n"
    "garbage line\n"
    "45 22 0:43 / /bad rw no-separator tmpfs x rw\n"
    "46 22 0:44 / /sys/fs/cgroup/freezer rw,nosuid - cgroup cgroup rw,freezer\n";

TEST(WhoParsers, Mountinfo) {
  auto mounts = procfs::parse_mountinfo(kMountinfo);
  ASSERT_EQ(mounts.size(), 7u);
  EXPECT_EQ(mounts[0].major, 254u);
  EXPECT_EQ(mounts[0].minor, 0u);
  EXPECT_EQ(mounts[0].fstype, "ext4");
  EXPECT_EQ(mounts[0].source, "/dev/vda");
  EXPECT_EQ(mounts[2].mount_point, "/mnt/usb stick");  // \040 undone
  EXPECT_EQ(mounts[2].fstype, "vfat");
  EXPECT_EQ(mounts[6].fstype, "cgroup");
  EXPECT_EQ(mounts[6].super_options, "rw,freezer");  // a v1 hierarchy's controllers
}

TEST(WhoParsers, MountOfAPath) {
  auto mounts = procfs::parse_mountinfo(kMountinfo);
  const auto* m = procfs::mount_of(mounts, "/home/x");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->mount_point, "/");
  m = procfs::mount_of(mounts, "/mnt/usb/file");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->minor, 40u);
  m = procfs::mount_of(mounts, "/mnt/usb stick/file");  // not /mnt/usb
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->minor, 39u);
  m = procfs::mount_of(mounts, "/mnt/usb/inner/deep");  // the top of a stack
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->source, "over");
  auto below = procfs::mounts_below(mounts, "/mnt/usb");
  ASSERT_EQ(below.size(), 2u);
  EXPECT_EQ(below[0]->mount_point, "/mnt/usb/inner");
  EXPECT_TRUE(procfs::mounts_below(mounts, "/mnt/usb/inner").empty());
  EXPECT_EQ(procfs::mount_of({}, "/x"), nullptr);
}

TEST(WhoParsers, ProcNetUnix) {
  auto socks = procfs::parse_proc_net_unix(
      "Num       RefCount Protocol Flags    Type St Inode Path\n"
      "0000000000000000: 00000002 00000000 00010000 0001 01 23456 /run/app.sock\n"
      "0000000000000000: 00000003 00000000 00000000 0001 03 23457\n"
      "0000000000000000: 00000002 00000000 00010000 0001 01 23458 @abstract name\n"
      "0000000000000000: 00000002 00000000 00010000 0001 01 x /bad\n");
  ASSERT_EQ(socks.size(), 2u);
  EXPECT_EQ(socks[0].inode, 23456u);
  EXPECT_EQ(socks[0].path, "/run/app.sock");
  EXPECT_EQ(socks[1].path, "@abstract name");
}

TEST(WhoOutput, HoldText) {
  Hold h;
  h.kind = HoldKind::kFd;
  h.fd = 7;
  h.mode = "rw";
  h.inode = 99;
  procfs::SocketEntry s;
  s.proto = procfs::Protocol::kTcp;
  s.local_address = "127.0.0.1";
  s.local_port = 40000;
  s.remote_address = "127.0.0.1";
  s.remote_port = 8080;
  s.state = procfs::kTcpEstablished;
  s.inode = 99;
  EXPECT_EQ(output::hold_text(h, {}), "fd 7 rw");
  EXPECT_EQ(output::hold_text(h, {s}), "fd 7 rw tcp 127.0.0.1:40000 -> 127.0.0.1:8080 ESTAB");
  h.kind = HoldKind::kCwd;
  EXPECT_EQ(output::hold_text(h, {s}), "cwd");
}

// A fake proc tree whose links point at files of a real temporary tree.
class WhoScan : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lineage-who-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::filesystem::create_directories(dir_ + "/data/sub");
    std::filesystem::create_directories(dir_ + "/database");
    for (const char* f : {"/data/a.log", "/data/sub/b.log", "/database/c.log", "/other.bin"}) {
      std::ofstream(dir_ + f) << "x";
    }
    for (int pid : {10, 20, 30, 40}) {
      proc_.add({.pid = pid, .ppid = 1, .comm = "p" + std::to_string(pid)});
      ::mkdir((proc_.root() + "/" + std::to_string(pid) + "/fd").c_str(), 0755);
    }
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  struct stat stat_of(const std::string& rel) {
    struct stat st {};
    EXPECT_EQ(::stat((dir_ + rel).c_str(), &st), 0);
    return st;
  }
  std::vector<Hold> scan(const HoldQuery& q, procfs::ScanStats* stats = nullptr) {
    auto reader = procfs::ProcReader::open(proc_.root());
    EXPECT_TRUE(reader);
    return procfs::scan_holders(*reader, q, stats);
  }

  std::string dir_;
  testing::FakeProcfs proc_;
};

TEST_F(WhoScan, OneFileByDeviceAndInode) {
  proc_.link(10, "fd/3", dir_ + "/data/a.log");
  proc_.link(10, "fd/5", dir_ + "/other.bin");
  proc_.write(10, "fdinfo/3", "pos:\t0\nflags:\t0100001\n");
  proc_.link(20, "cwd", dir_ + "/data");
  proc_.link(30, "exe", dir_ + "/data/a.log");
  auto a = stat_of("/data/a.log");
  // pid 30's maps name the file too: its exe hides the mmap; pid 40 maps it.
  std::string line = "7f0000000000-7f0000001000 r-xp 00000000 " +
                     fmt::format("{:02x}:{:02x} {}", major(a.st_dev), minor(a.st_dev), a.st_ino) +
                     "  " + dir_ + "/data/a.log\n";
  proc_.write(30, "maps", line);
  proc_.write(40, "maps", line + line);
  HoldQuery q;
  q.kind = HoldQuery::Kind::kFile;
  q.dev = a.st_dev;
  q.ino = a.st_ino;
  auto holds = scan(q);
  ASSERT_EQ(holds.size(), 3u);
  EXPECT_EQ(holds[0].pid, 10);
  EXPECT_EQ(holds[0].kind, HoldKind::kFd);
  EXPECT_EQ(holds[0].fd, 3);
  EXPECT_EQ(holds[0].mode, "w");
  EXPECT_EQ(holds[1].pid, 30);
  EXPECT_EQ(holds[1].kind, HoldKind::kExe);
  EXPECT_EQ(holds[2].pid, 40);
  EXPECT_EQ(holds[2].kind, HoldKind::kMmap);  // once, though mapped twice
}

TEST_F(WhoScan, WholeDeviceIsEveryFileOnIt) {
  proc_.link(10, "fd/3", dir_ + "/data/a.log");
  proc_.link(20, "cwd", dir_ + "/database");
  proc_.link(30, "fd/0", "/proc/self/stat");  // another filesystem
  auto a = stat_of("/data/a.log");
  HoldQuery q;
  q.kind = HoldQuery::Kind::kDevice;
  q.dev = a.st_dev;
  q.maps = false;
  auto holds = scan(q);
  ASSERT_EQ(holds.size(), 2u);
  EXPECT_EQ(holds[0].pid, 10);
  EXPECT_EQ(holds[0].path, dir_ + "/data/a.log");
  EXPECT_EQ(holds[1].pid, 20);
  EXPECT_EQ(holds[1].kind, HoldKind::kCwd);
}

TEST_F(WhoScan, BelowADirectoryOnItsDevices) {
  proc_.link(10, "fd/3", dir_ + "/data/sub/b.log");
  proc_.link(20, "cwd", dir_ + "/data");
  proc_.link(30, "fd/4", dir_ + "/database/c.log");  // a sibling with the same prefix
  proc_.link(40, "fd/5", dir_ + "/data/a.log");
  HoldQuery q;
  q.kind = HoldQuery::Kind::kBelow;
  q.dir = dir_ + "/data";
  q.devs = {stat_of("/data").st_dev};
  auto holds = scan(q);
  ASSERT_EQ(holds.size(), 3u);
  EXPECT_EQ(holds[0].pid, 10);
  EXPECT_EQ(holds[1].pid, 20);
  EXPECT_EQ(holds[1].kind, HoldKind::kCwd);
  EXPECT_EQ(holds[2].pid, 40);
  // The same paths on a device that is not the directory's: not its files
  // (another mount namespace's file by the same name).
  q.devs = {stat_of("/data").st_dev + 1};
  EXPECT_TRUE(scan(q).empty());
}

TEST_F(WhoScan, SocketsByInodeAndVanishedProcesses) {
  proc_.link(10, "fd/3", "socket:[555]");
  proc_.link(10, "fd/4", "socket:[556]");
  proc_.link(20, "fd/9", "socket:[555]");
  std::filesystem::remove(proc_.root() + "/30/fd");  // exited mid-scan: its fd directory is gone
  HoldQuery q;
  q.kind = HoldQuery::Kind::kSockets;
  q.socket_inodes = {555};
  procfs::ScanStats stats;
  auto holds = scan(q, &stats);
  ASSERT_EQ(holds.size(), 2u);
  EXPECT_EQ(holds[0].pid, 10);
  EXPECT_EQ(holds[0].fd, 3);
  EXPECT_EQ(holds[1].pid, 20);
  EXPECT_EQ(holds[1].fd, 9);
  EXPECT_EQ(stats.vanished, 1u);
  EXPECT_EQ(stats.denied, 0u);
}

}  // namespace
}  // namespace lineage

namespace lineage::resolve {
namespace {

// The cost rule's count stops where the rule stops caring, and counts only
// pid directories.
TEST(CountProcesses, CountsPidsUpToTheLimit) {
  testing::FakeProcfs fs;
  for (int pid : {1, 20, 300, 4000}) {
    testing::FakeProcess p;
    p.pid = pid;
    fs.add(p);
  }
  fs.write(1, "comm", "x\n");  // a file below a pid is not a pid
  auto reader = procfs::ProcReader::open(fs.root());
  ASSERT_TRUE(static_cast<bool>(reader));
  EXPECT_EQ(count_processes(*reader, 100), 4u);
  EXPECT_EQ(count_processes(*reader, 2), 2u);
  EXPECT_EQ(count_processes(*reader, 0), 0u);
}

}  // namespace
}  // namespace lineage::resolve
