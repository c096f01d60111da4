// The poll source's exec rule on a fake /proc: an exec is the image moving
// (text or stack, stat fields 26-28), a rename is not, a process with no
// image at a scan (mid-exec, exiting) is decided by the next one, and where
// the image is not ours to see the name is the sign.
#include "events/poll_source.h"

#include <chrono>
#include <vector>

#include <gtest/gtest.h>

#include "fake_procfs.h"

namespace lineage::events {
namespace {

using testing::FakeProcess;
using testing::FakeProcfs;

int execs_of(const std::vector<core::Event>& events, int pid) {
  int n = 0;
  for (const auto& e : events) n += e.pid == pid && e.kind == core::EventKind::kExec;
  return n;
}

class PollRule : public ::testing::Test {
 protected:
  // One scan of the fake /proc as it is now: the execs it reported for pid.
  int scan_execs(int pid) {
    std::vector<core::Event> events;
    EXPECT_TRUE(source_.poll(events, 1000).ok());
    return execs_of(events, pid);
  }
  FakeProcess seen(const char* comm, uint64_t code, uint64_t stack) {
    FakeProcess p{.pid = 40, .ppid = 1, .comm = comm, .argv = {comm}};
    p.start_code = code, p.end_code = code + 0x1000, p.start_stack = stack;
    return p;
  }
  // The scene before the source's first scan: init, and server (40).
  static FakeProcfs& scene(FakeProcfs& fs) {
    fs.add(FakeProcess{.pid = 1, .comm = "init", .argv = {"/sbin/init"}});
    FakeProcess p{.pid = 40, .ppid = 1, .comm = "server", .argv = {"server"}};
    p.start_code = 0x55550000, p.end_code = 0x55551000, p.start_stack = 0x7ffd0000;
    fs.add(p);
    return fs;
  }
  FakeProcfs fs_;
  bool ready_ = (scene(fs_), true);
  procfs::ProcReader reader_ = std::move(*procfs::ProcReader::open(fs_.root()));
  PollEventSource source_{reader_, std::chrono::milliseconds(1)};
};

TEST_F(PollRule, ARenameIsNotAnExec) {
  fs_.add(seen("worker", 0x55550000, 0x7ffd0000));
  EXPECT_EQ(scan_execs(40), 0);
}

TEST_F(PollRule, AnExecUnderTheSameNameMovesTheImage) {
  fs_.add(seen("server", 0x56660000, 0x7ffd0000));  // new text
  EXPECT_EQ(scan_execs(40), 1);
  fs_.add(seen("server", 0x56660000, 0x7ffe8000));  // same text (ASLR off), new stack
  EXPECT_EQ(scan_execs(40), 1);
  EXPECT_EQ(scan_execs(40), 0) << "reported once";
}

TEST_F(PollRule, NoImageAtAScanLeavesTheDecisionToTheNext) {
  // Caught in the middle of an exec (new name set, no memory yet): nothing
  // yet, then the exec once its image is there, with its argv.
  fs_.add(seen("client", 0, 0));
  EXPECT_EQ(scan_execs(40), 0);
  FakeProcess done = seen("client", 0x57770000, 0x7ffc0000);
  done.argv = {"client", "--once"};
  fs_.add(done);
  std::vector<core::Event> events;
  ASSERT_TRUE(source_.poll(events, 1000).ok());
  ASSERT_EQ(execs_of(events, 40), 1);
  for (const auto& e : events) {
    if (e.pid == 40) {
      EXPECT_EQ(e.argv, (std::vector<std::string>{"client", "--once"}));
    }
  }
  // The same exec under the same name, caught mid-way: found by the image.
  fs_.add(seen("client", 0, 0));
  EXPECT_EQ(scan_execs(40), 0);
  fs_.add(seen("client", 0x58880000, 0x7ffb0000));
  EXPECT_EQ(scan_execs(40), 1);
}

TEST_F(PollRule, WhereTheImageIsNotOursToSeeTheNameIsTheSign) {
  fs_.add(seen("server", 1, 0));  // became unreadable (a setuid exec): same name, no exec known
  EXPECT_EQ(scan_execs(40), 0);
  fs_.add(seen("helper", 1, 0));
  EXPECT_EQ(scan_execs(40), 1);
  fs_.add(seen("renamed", 1, 0));  // indistinguishable from an exec here
  EXPECT_EQ(scan_execs(40), 1);
}

}  // namespace
}  // namespace lineage::events
