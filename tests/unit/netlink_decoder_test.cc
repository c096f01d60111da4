// The netlink proc connector source's own logic, on literal datagrams (the
// nlmsghdr + cn_msg + proc_event bytes the kernel sends) and a fake /proc:
// lost-event counting from sequence gaps, the leader-thread exit that is not
// the process's end, and the pid-reuse guard on /proc reads.
#include "events/netlink_decoder.h"

#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>

#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "fake_procfs.h"

namespace lineage::events {
namespace {

using core::Event;
using core::EventKind;
using testing::FakeProcess;
using testing::FakeProcfs;

constexpr uint64_t kSecond = 1'000'000'000;

// One connector message as the kernel frames it.
std::vector<unsigned char> datagram(uint32_t seq, const proc_event& ev) {
  std::vector<unsigned char> buf(NLMSG_LENGTH(sizeof(cn_msg) + sizeof(proc_event)));
  nlmsghdr hdr{};
  hdr.nlmsg_len = static_cast<uint32_t>(buf.size());
  hdr.nlmsg_type = NLMSG_DONE;
  cn_msg msg{};
  msg.id.idx = CN_IDX_PROC;
  msg.id.val = CN_VAL_PROC;
  msg.seq = seq;
  msg.len = sizeof(proc_event);
  std::memcpy(buf.data(), &hdr, sizeof hdr);
  std::memcpy(buf.data() + NLMSG_HDRLEN, &msg, sizeof msg);
  std::memcpy(buf.data() + NLMSG_HDRLEN + sizeof msg, &ev, sizeof ev);
  return buf;
}

// `what` is both the member and its enum's name: the enum is named as C does.
proc_event header(enum proc_event::what what, uint32_t cpu, uint64_t time_ns) {
  proc_event ev;
  std::memset(&ev, 0, sizeof ev);
  ev.what = what;
  ev.cpu = cpu;
  ev.timestamp_ns = time_ns;
  return ev;
}

proc_event fork_event(int parent, int child, uint64_t time_ns, uint32_t cpu = 0) {
  proc_event ev = header(proc_event::PROC_EVENT_FORK, cpu, time_ns);
  ev.event_data.fork.parent_pid = parent;
  ev.event_data.fork.parent_tgid = parent;
  ev.event_data.fork.child_pid = child;
  ev.event_data.fork.child_tgid = child;
  return ev;
}

proc_event exec_event(int tgid, int tid, uint64_t time_ns) {
  proc_event ev = header(proc_event::PROC_EVENT_EXEC, 0, time_ns);
  ev.event_data.exec.process_pid = tid;
  ev.event_data.exec.process_tgid = tgid;
  return ev;
}

proc_event exit_event(int tgid, int tid, uint32_t code, uint64_t time_ns) {
  proc_event ev = header(proc_event::PROC_EVENT_EXIT, 0, time_ns);
  ev.event_data.exit.process_pid = tid;
  ev.event_data.exit.process_tgid = tgid;
  ev.event_data.exit.exit_code = code;
  return ev;
}

// Feeds datagrams one by one, as separate batches, and collects the events.
class Decoder {
 public:
  explicit Decoder(const FakeProcfs& fs) : reader_(*procfs::ProcReader::open(fs.root())), decoder_(reader_, false) {}
  std::vector<Event> feed(const std::vector<std::vector<unsigned char>>& datagrams) {
    std::vector<Event> out;
    for (const auto& d : datagrams) decoder_.decode(d.data(), d.size(), out);
    return out;
  }
  // All datagrams drained together: one batch, read from /proc once.
  std::vector<Event> feed_batch(const std::vector<std::vector<unsigned char>>& datagrams) {
    std::vector<ProcMessage> msgs;
    for (const auto& d : datagrams) {
      for (const ProcMessage& m : parse_proc_datagram(d.data(), d.size(), nullptr)) msgs.push_back(m);
    }
    std::vector<Event> out;
    decoder_.decode(msgs, out);
    return out;
  }
  NetlinkDecoder& operator*() { return decoder_; }
  NetlinkDecoder* operator->() { return &decoder_; }

 private:
  procfs::ProcReader reader_;
  NetlinkDecoder decoder_;
};

uint64_t lost_in(const std::vector<Event>& events) {
  uint64_t lost = 0;
  for (const Event& e : events) {
    if (e.kind == EventKind::kLost) lost += e.lost;
  }
  return lost;
}

TEST(NetlinkDecoder, ASequenceGapIsCountedAsLostEvents) {
  FakeProcfs fs;
  Decoder d(fs);
  auto out = d.feed({datagram(10, fork_event(1, 500, 5 * kSecond)), datagram(11, fork_event(1, 501, 6 * kSecond)),
                     datagram(15, fork_event(1, 502, 7 * kSecond))});
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].pid, 500);
  EXPECT_EQ(out[1].pid, 501);
  // Sequence numbers 12, 13 and 14 never arrived: reported before the event that shows the gap.
  EXPECT_EQ(out[2].kind, EventKind::kLost);
  EXPECT_EQ(out[2].lost, 3u);
  EXPECT_EQ(out[2].time_ns, 7 * kSecond);
  EXPECT_EQ(out[3].pid, 502);
}

TEST(NetlinkDecoder, SequencesAreCountedPerCpu) {
  FakeProcfs fs;
  Decoder d(fs);
  auto out = d.feed({datagram(10, fork_event(1, 500, kSecond, 0)), datagram(700, fork_event(1, 501, kSecond, 1)),
                     datagram(11, fork_event(1, 502, kSecond, 0)), datagram(701, fork_event(1, 503, kSecond, 1))});
  EXPECT_EQ(out.size(), 4u);
  EXPECT_EQ(lost_in(out), 0u) << "each cpu numbers its own messages";
}

TEST(NetlinkDecoder, AnOverrunIsCreditedAgainstTheNextGap) {
  FakeProcfs fs;
  Decoder d(fs);
  std::vector<Event> out = d.feed({datagram(10, fork_event(1, 500, kSecond))});
  d->overrun(2 * kSecond, out);  // ENOBUFS: one lost at once
  auto more = d.feed({datagram(14, fork_event(1, 501, 3 * kSecond))});
  out.insert(out.end(), more.begin(), more.end());
  EXPECT_EQ(lost_in(out), 3u) << "11, 12 and 13 lost in all, not 1 + 3";
}

TEST(NetlinkDecoder, AReorderedMessageIsNoGap) {
  FakeProcfs fs;
  Decoder d(fs);
  auto out = d.feed({datagram(10, fork_event(1, 500, kSecond)), datagram(8, fork_event(1, 501, kSecond)),
                     datagram(9, fork_event(1, 502, kSecond))});
  EXPECT_EQ(out.size(), 3u);
  EXPECT_EQ(lost_in(out), 0u);
}

TEST(NetlinkDecoder, ALeaderThreadExitOfARunningProcessIsDropped) {
  // De_thread: a non-leader thread exec'd, the kernel reports the leader's
  // exit with pid == tgid, and the process runs on under the new image.
  FakeProcfs fs;
  fs.add({.pid = 300, .ppid = 1, .comm = "worker", .state = 'S', .start_ticks = 100, .argv = {"worker", "-x"}});
  Decoder d(fs);
  auto out = d.feed_batch({datagram(1, exit_event(300, 300, 0, 10 * kSecond)),
                           datagram(2, exec_event(300, 301, 10 * kSecond))});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].kind, EventKind::kExec);
  EXPECT_EQ(out[0].pid, 300);
  EXPECT_EQ(out[0].tid, 301);
  EXPECT_EQ(d->leader_exits(), 1u);
}

TEST(NetlinkDecoder, TheExitOfAZombieIsPassedOn) {
  FakeProcfs fs;
  fs.add({.pid = 300, .ppid = 1, .comm = "worker", .state = 'Z', .start_ticks = 100});
  Decoder d(fs);
  auto out = d.feed({datagram(1, exit_event(300, 300, 9, 10 * kSecond))});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].kind, EventKind::kExit);
  EXPECT_EQ(out[0].exit_code, 9);
  EXPECT_EQ(out[0].start_time_ns, kSecond) << "from the zombie's stat";
  EXPECT_EQ(d->leader_exits(), 0u);
}

TEST(NetlinkDecoder, ANonLeaderThreadExitIsNotTheProcesss) {
  FakeProcfs fs;
  Decoder d(fs);
  auto out = d.feed({datagram(1, exit_event(300, 302, 0, 10 * kSecond))});
  EXPECT_TRUE(out.empty()) << "threads are passed on only when asked for";
}

TEST(NetlinkDecoder, ExecDetailsComeFromProc) {
  FakeProcfs fs;
  fs.add({.pid = 400, .ppid = 7, .comm = "sleep", .start_ticks = 100, .uid = 1000, .argv = {"sleep", "60"}});
  Decoder d(fs);
  auto out = d.feed({datagram(1, exec_event(400, 400, 10 * kSecond))});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].from_proc);
  EXPECT_EQ(out[0].comm, "sleep");
  EXPECT_EQ(out[0].argv, (std::vector<std::string>{"sleep", "60"}));
  EXPECT_EQ(out[0].ppid, 7);
  EXPECT_EQ(out[0].uid, 1000u);
  EXPECT_EQ(out[0].start_time_ns, kSecond);
}

TEST(NetlinkDecoder, AProcessStartedAfterTheEventIsAReusedPid) {
  // The exec'ing process is gone and pid 400 belongs to a later one (started
  // at 50 s, the exec was at 10 s): nothing of it is taken for the exec's.
  FakeProcfs fs;
  fs.add({.pid = 400, .ppid = 7, .comm = "other", .start_ticks = 5000, .uid = 1000, .argv = {"other"}});
  Decoder d(fs);
  auto out = d.feed({datagram(1, exec_event(400, 400, 10 * kSecond))});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].from_proc);
  EXPECT_TRUE(out[0].comm.empty());
  EXPECT_TRUE(out[0].argv.empty());
  EXPECT_EQ(out[0].start_time_ns, 0u);
  EXPECT_EQ(out[0].uid, 0u);
}

TEST(NetlinkDecoder, AReusedParentPidGivesNoParentStart) {
  FakeProcfs fs;
  fs.add({.pid = 20, .ppid = 1, .comm = "old", .start_ticks = 100});
  fs.add({.pid = 21, .ppid = 1, .comm = "new", .start_ticks = 5000});  // started after the fork below
  Decoder d(fs);
  auto out = d.feed({datagram(1, fork_event(20, 600, 10 * kSecond)), datagram(2, fork_event(21, 601, 10 * kSecond))});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].parent_start_time_ns, kSecond);
  EXPECT_EQ(out[1].parent_start_time_ns, 0u) << "pid 21 now is not the parent that forked";
}

TEST(NetlinkDecoder, MalformedDatagramsAreSkipped) {
  FakeProcfs fs;
  Decoder d(fs);
  auto good = datagram(1, fork_event(1, 500, kSecond));
  auto truncated = good;
  truncated.resize(NLMSG_HDRLEN + sizeof(cn_msg) + 8);
  size_t malformed = 0;
  EXPECT_TRUE(parse_proc_datagram(truncated.data(), truncated.size(), &malformed).empty());
  EXPECT_EQ(malformed, 1u);
  auto out = d.feed({truncated, good});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].pid, 500);
}

}  // namespace
}  // namespace lineage::events
