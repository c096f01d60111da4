// `lineage trace -e file,net` (its calls given to their processes, the
// parts of a call made readable, the three renderings) and `lineage
// history --descendants --format chrome` (recorded rows as a trace).
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cstring>

#include "events/io_call.h"
#include "output/trace_writer.h"
#include "store/schema.h"
#include "trace/recorded.h"
#include "trace/spawn_tree.h"

namespace lineage::trace {
namespace {

using events::IoCall;
using events::IoKind;

constexpr uint64_t kMs = 1'000'000;
constexpr uint64_t kT0 = 1000 * kMs;

TEST(IoCall, OpenFlagsNameTheAccessModeAndEachFlag) {
  EXPECT_EQ(events::open_flags_text(O_RDONLY), "O_RDONLY");
  EXPECT_EQ(events::open_flags_text(O_RDONLY | O_CLOEXEC), "O_RDONLY|O_CLOEXEC");
  EXPECT_EQ(events::open_flags_text(O_WRONLY | O_CREAT | O_TRUNC), "O_WRONLY|O_CREAT|O_TRUNC");
  EXPECT_EQ(events::open_flags_text(O_RDWR | O_TMPFILE), "O_RDWR|O_TMPFILE");
  EXPECT_EQ(events::open_flags_text(O_RDONLY | O_DIRECTORY), "O_RDONLY|O_DIRECTORY");
  EXPECT_EQ(events::open_flags_text(O_RDONLY | (1u << 30)), "O_RDONLY|0x40000000");
}

TEST(IoCall, ErrnoNames) {
  EXPECT_EQ(events::errno_name(-ENOENT), "ENOENT");
  EXPECT_EQ(events::errno_name(-ECONNREFUSED), "ECONNREFUSED");
  EXPECT_EQ(events::errno_name(3), "");
  EXPECT_EQ(events::errno_name(-100000), "-100000");
}

TEST(IoCall, SockaddrsOfEachFamily) {
  std::string family, address;
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(8080);
  ::inet_pton(AF_INET, "127.0.0.1", &in.sin_addr);
  events::describe_sockaddr(reinterpret_cast<const uint8_t*>(&in), sizeof in, family, address);
  EXPECT_EQ(family, "inet");
  EXPECT_EQ(address, "127.0.0.1:8080");
  // Too short for its family: the family only.
  events::describe_sockaddr(reinterpret_cast<const uint8_t*>(&in), 4, family, address);
  EXPECT_EQ(family, "inet");
  EXPECT_EQ(address, "");

  sockaddr_in6 in6{};
  in6.sin6_family = AF_INET6;
  in6.sin6_port = htons(22);
  in6.sin6_addr = in6addr_loopback;
  events::describe_sockaddr(reinterpret_cast<const uint8_t*>(&in6), sizeof in6, family, address);
  EXPECT_EQ(address, "[::1]:22");

  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  std::strcpy(un.sun_path, "/run/x.sock");
  events::describe_sockaddr(reinterpret_cast<const uint8_t*>(&un), offsetof(sockaddr_un, sun_path) + 12, family,
                            address);
  EXPECT_EQ(family, "unix");
  EXPECT_EQ(address, "/run/x.sock");
  std::memcpy(un.sun_path, "\0abs", 4);
  events::describe_sockaddr(reinterpret_cast<const uint8_t*>(&un), offsetof(sockaddr_un, sun_path) + 4, family,
                            address);
  EXPECT_EQ(address, "@abs");

  events::describe_sockaddr(reinterpret_cast<const uint8_t*>(&in), 1, family, address);
  EXPECT_EQ(family, "");
}

IoCall open_call(int32_t pid, uint64_t start, uint64_t t, std::string path, int64_t result) {
  IoCall c;
  c.pid = c.tid = pid;
  c.start_time_ns = start;
  c.time_ns = t;
  c.kind = IoKind::kOpen;
  c.fd = AT_FDCWD;
  c.flags = O_RDONLY;
  c.path = std::move(path);
  c.result = result;
  return c;
}

//   100 sh (root)
//   └─ 101 cat /etc/hostname   opens /etc/hostname = 3, /nope = -ENOENT
//   and 101 again later (pid reused, another start): not ours
TraceResult traced() {
  SpawnTree tree(100, kT0);
  core::Event f;
  f.kind = core::EventKind::kFork;
  f.pid = f.tid = 101;
  f.ppid = 100;
  f.time_ns = f.start_time_ns = kT0 + kMs;
  tree.apply(f);
  core::Event x;
  x.kind = core::EventKind::kExec;
  x.pid = x.tid = 101;
  x.time_ns = kT0 + 2 * kMs;
  x.start_time_ns = kT0 + kMs;
  x.argv = {"cat", "/etc/hostname"};
  x.exe = "/usr/bin/cat";
  tree.apply(x);
  TraceResult r;
  r.command = {"sh"};
  r.source = "bpf";
  r.start_ns = kT0;
  r.end_ns = kT0 + 10 * kMs;
  r.wait_status = 0;
  r.processes = tree.processes();
  r.io_events = {"file", "net"};
  IoCall connect;
  connect.pid = connect.tid = 100;
  connect.time_ns = kT0 + 5 * kMs;
  connect.kind = IoKind::kConnect;
  connect.fd = 3;
  connect.family = "inet";
  connect.address = "127.0.0.1:8080";
  connect.result = -ECONNREFUSED;
  std::vector<IoCall> calls = {open_call(101, kT0 + kMs, kT0 + 4 * kMs, "/nope", -ENOENT),
                               open_call(101, kT0 + kMs, kT0 + 3 * kMs, "/etc/hostname", 3),
                               open_call(101, kT0 + 500 * kMs, kT0 + 600 * kMs, "/other", 3), connect};
  r.io_lost = attach_io(r, calls, kMs);
  return r;
}

TEST(AttachIo, CallsGoToTheProcessOfThatPidAndStartInTimeOrder) {
  TraceResult r = traced();
  EXPECT_EQ(r.io_lost, 1u);  // /other: pid 101 of another start
  ASSERT_EQ(r.processes[1].io.size(), 2u);
  EXPECT_EQ(r.processes[1].io[0].path, "/etc/hostname");
  EXPECT_EQ(r.processes[1].io[1].path, "/nope");
  ASSERT_EQ(r.processes[0].io.size(), 1u);
  EXPECT_EQ(r.processes[0].io[0].kind, IoKind::kConnect);
}

TEST(TraceWriter, TextShowsEachCallUnderItsProcess) {
  TraceResult r = traced();
  r.processes[1].io[0].path = "/etc/host\x1b[2Jname";  // hostile bytes stay escaped
  std::string text = output::render_trace_text(r);
  EXPECT_NE(text.find("2 opens, 1 network call (1 more lost)"), std::string::npos) << text;
  EXPECT_NE(text.find("└─ cat /etc/hostname\n"), std::string::npos) << text;
  EXPECT_NE(text.find("      open \"/etc/host\\e[2Jname\" O_RDONLY = 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("open \"/nope\" O_RDONLY = -ENOENT"), std::string::npos) << text;
  EXPECT_NE(text.find("│  connect fd 3 to 127.0.0.1:8080 = -ECONNREFUSED"), std::string::npos) << text;
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
}

TEST(TraceWriter, LiveLineOfACall) {
  TraceResult r = traced();
  EXPECT_EQ(output::render_trace_live_io(r.processes[1].io[1], kT0),
            "  +0.004s file     101 open \"/nope\" O_RDONLY = -ENOENT\n");
  EXPECT_EQ(output::render_trace_live_io(r.processes[0].io[0], kT0),
            "  +0.005s net      100 connect fd 3 to 127.0.0.1:8080 = -ECONNREFUSED\n");
}

TEST(TraceWriter, JsonHasFilesAndNetworkOnlyWhenAsked) {
  TraceResult r = traced();
  output::Json j = output::trace_json(r);
  EXPECT_EQ(j["events"], output::Json::array({"file", "net"}));
  const auto& cat = j["processes"][1];
  ASSERT_EQ(cat["files"].size(), 2u);
  EXPECT_EQ(cat["files"][0]["path"], "/etc/hostname");
  EXPECT_EQ(cat["files"][0]["flags"], "O_RDONLY");
  EXPECT_EQ(cat["files"][0]["result"], 3);
  EXPECT_TRUE(cat["files"][0]["error"].is_null());
  EXPECT_EQ(cat["files"][1]["error"], "ENOENT");
  EXPECT_EQ(j["processes"][0]["network"][0]["address"], "127.0.0.1:8080");
  EXPECT_EQ(j["processes"][0]["network"][0]["call"], "connect");
  r.io_events = {"file"};
  j = output::trace_json(r);
  EXPECT_FALSE(j["processes"][0].contains("network"));
  r.io_events.clear();
  j = output::trace_json(r);
  EXPECT_FALSE(j.contains("events"));
  EXPECT_FALSE(j["processes"][1].contains("files"));
}

TEST(TraceWriter, ChromeHasAnInstantPerCallOnItsProcessTrack) {
  output::Json j = output::trace_chrome_json(traced());
  std::vector<output::Json> instants;
  for (const auto& e : j["traceEvents"]) {
    if (e["ph"] == "i") instants.push_back(e);
  }
  ASSERT_EQ(instants.size(), 3u);
  EXPECT_EQ(instants[0]["cat"], "net");
  EXPECT_EQ(instants[0]["pid"], 100);
  EXPECT_EQ(instants[1]["name"], "open \"/etc/hostname\" O_RDONLY = 3");
  EXPECT_EQ(instants[1]["tid"], 101);
  EXPECT_DOUBLE_EQ(instants[1]["ts"].get<double>(), 3000.0);
}

store::RecordedProcess recorded(int64_t row, int64_t parent_row, int32_t pid, int32_t ppid, uint64_t start,
                                std::optional<uint64_t> exit, std::vector<std::string> argv) {
  store::RecordedProcess p;
  p.row = row;
  p.parent_row = parent_row;
  p.key = {pid, start};
  p.ppid = ppid;
  p.fork_ns = start;
  p.exit_ns = exit;
  p.status = exit ? std::optional<int32_t>(0) : std::nullopt;
  p.fork_comm = "sh";
  p.realtime_offset_ns = 5;
  store::RecordedExec e;
  e.time_ns = start + kMs;
  e.argv = std::move(argv);
  e.exe = "/bin/" + e.argv.front();
  e.comm = e.argv.front();
  p.execs.push_back(std::move(e));
  return p;
}

TEST(FromRecorded, RowsBecomeATraceWithTheSameNesting) {
  std::vector<store::RecordedProcess> rows = {
      recorded(10, 1, 500, 1, kT0, kT0 + 50 * kMs, {"sh", "-c", "x"}),
      recorded(11, 10, 501, 500, kT0 + 2 * kMs, kT0 + 20 * kMs, {"sh", "-c", "y"}),
      recorded(12, 11, 502, 501, kT0 + 3 * kMs, kT0 + 4 * kMs, {"true", "first"}),
      recorded(13, 10, 503, 500, kT0 + 30 * kMs, std::nullopt, {"sleep", "100"}),
      recorded(14, 99, 504, 500, kT0 + 31 * kMs, std::nullopt, {"lost"}),
  };
  rows[1].status = 3 << 8;
  TraceResult r = from_recorded(
      rows, [](const store::RecordedProcess& p) { return p.key.pid == 503; }, kT0 + 90 * kMs);
  ASSERT_EQ(r.processes.size(), 5u);
  EXPECT_EQ(r.source, "history");
  EXPECT_EQ(r.command, (std::vector<std::string>{"sh", "-c", "x"}));
  EXPECT_EQ(r.start_ns, kT0);
  EXPECT_EQ(r.end_ns, kT0 + 90 * kMs);  // something still runs: now
  EXPECT_EQ(r.processes[0].children, (std::vector<size_t>{1, 3, 4}));  // 504's parent unknown: under the root
  EXPECT_EQ(r.processes[1].children, (std::vector<size_t>{2}));
  EXPECT_EQ(r.processes[1].wait_status, 3 << 8);
  EXPECT_EQ(r.processes[3].ending, Ending::kRunning);
  EXPECT_EQ(r.processes[4].ending, Ending::kVanished);

  output::Json j = output::trace_chrome_json(r);
  std::vector<output::Json> complete;
  for (const auto& e : j["traceEvents"]) {
    if (e["ph"] == "X") complete.push_back(e);
  }
  ASSERT_EQ(complete.size(), 5u);
  EXPECT_EQ(complete[2]["name"], "true first");
  EXPECT_EQ(complete[2]["args"]["ppid"], 501);
  EXPECT_EQ(complete[1]["args"]["status"], "exit 3");
  EXPECT_DOUBLE_EQ(complete[2]["ts"].get<double>(), 4000.0);  // its exec
  EXPECT_EQ(j["otherData"]["source"], "history");
}

TEST(FromRecorded, AnExitUnseenIsNotAnExit) {
  std::vector<store::RecordedProcess> rows = {recorded(1, 0, 7, 1, kT0, kT0 + kMs, {"x"})};
  rows[0].flags = store::kFlagExitUnseen;
  TraceResult r = from_recorded(rows, nullptr, kT0);
  EXPECT_EQ(r.processes[0].ending, Ending::kVanished);
  EXPECT_EQ(r.wait_status, -1);
}

}  // namespace
}  // namespace lineage::trace
