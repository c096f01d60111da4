#include "procfs/net.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "fake_procfs.h"

namespace lineage::procfs {
namespace {

namespace fs = std::filesystem;
using testing::FakeProcess;
using testing::FakeProcfs;

// ------------------------------------------------------------ parsers ---
// Lines below were copied from /proc/net/* of an x86-64 (little-endian)
// machine running 6.x, with sockets made for the purpose.

constexpr bool kLittleEndian = std::endian::native == std::endian::little;
#define REQUIRE_LITTLE_ENDIAN()                                                         \
  if (!kLittleEndian) GTEST_SKIP() << "the literal lines were printed by a little-endian " \
                                      "kernel; a big-endian one prints other hex"

constexpr const char* kTcp =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout "
    "inode                                                     \n"
    "   0: 0100007F:0CEA 00000000:0000 0A 00000000:00000000 00:00000000 00000000 65534        0 "
    "1217823 1 000000003ca027ca 100 0 0 10 0                   \n"
    "   1: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 "
    "119 1 00000000f67115ed 100 0 0 10 0                       \n"
    "   2: 0100007F:CB9A 0100007F:1F90 06 00000000:00000000 03:000015E0 00000000     0        0 "
    "0 3 000000001497e1d9                                      \n"
    "   3: 0100007F:1F90 0100007F:CB9A 01 00000000:00000000 00:00000000 00000000     0        0 "
    "1217143 1 00000000c5131f63 20 0 0 10 -1                   \n";

constexpr const char* kTcp6 =
    "  sl  local_address                         remote_address                        st "
    "tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    "   0: 000000FD000000000000000002000000:20FC 00000000000000000000000000000000:0000 0A "
    "00000000:00000000 00:00000000 00000000     0        0 1217818 1 0000000006fd2753 100 0 0 10 0\n"
    "   1: 00000000000000000000000000000000:2329 00000000000000000000000000000000:0000 0A "
    "00000000:00000000 00:00000000 00000000     0        0 1217819 1 00000000efc63e5a 100 0 0 10 0\n"
    "   2: 0000000000000000FFFF00000100007F:2329 0000000000000000FFFF00000100007F:AED2 01 "
    "00000000:00000000 00:00000000 00000000     0        0 1217821 1 00000000b61f8857 20 0 0 10 -1\n"
    "   3: 00000000000000000000000001000000:20FB 00000000000000000000000000000000:0000 0A "
    "00000000:00000000 00:00000000 00000000     0        0 1217144 1 00000000cd708d2f 100 0 0 10 0\n";

constexpr const char* kUdp =
    "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
    "timeout inode ref pointer drops            \n"
    "13882: 00000000:14E9 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 "
    "1217148 2 0000000050b2eafc 0       \n"
    "15761: 0100007F:9C40 0100007F:0035 01 00000000:00000000 00:00000000 00000000     0        0 "
    "1217149 2 000000002f6a15bd 0       \n";

constexpr const char* kUdp6 =
    "  sl  local_address                         remote_address                        st "
    "tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"
    "13882: 00000000000000000000000001000000:14E9 00000000000000000000000000000000:0000 07 "
    "00000000:00000000 00:00000000 00000000     0        0 1217150 2 000000003e7c4b3d 0\n"
    "13883: 00000000000000000000000000000000:14EA 00000000000000000000000000000000:0000 07 "
    "00000000:00000000 00:00000000 00000000     0        0 1217151 2 0000000021095ca0 0\n";

TEST(ParseProcNet, TcpIpv4ListenersTimeWaitAndEstablished) {
  REQUIRE_LITTLE_ENDIAN();
  auto s = parse_proc_net(kTcp, Protocol::kTcp);
  ASSERT_EQ(s.size(), 4u);

  EXPECT_EQ(s[0].proto, Protocol::kTcp);
  EXPECT_EQ(s[0].local_address, "127.0.0.1");
  EXPECT_EQ(s[0].local_port, 3306);
  EXPECT_EQ(s[0].remote_address, "0.0.0.0");
  EXPECT_EQ(s[0].remote_port, 0);
  EXPECT_EQ(s[0].state, kTcpListen);
  EXPECT_TRUE(s[0].listening);
  EXPECT_EQ(s[0].uid, 65534u);
  EXPECT_EQ(s[0].inode, 1217823u);
  EXPECT_EQ(s[0].cgroup_id, 0u);

  EXPECT_EQ(s[1].local_address, "0.0.0.0");
  EXPECT_EQ(s[1].local_port, 2024);
  EXPECT_EQ(s[1].inode, 119u);

  // TIME_WAIT: no inode, fewer columns after it.
  EXPECT_EQ(s[2].state, 0x06);
  EXPECT_FALSE(s[2].listening);
  EXPECT_EQ(s[2].inode, 0u);
  EXPECT_EQ(s[2].local_port, 52122);
  EXPECT_EQ(s[2].remote_port, 8080);

  EXPECT_EQ(s[3].state, kTcpEstablished);
  EXPECT_FALSE(s[3].listening);
  EXPECT_EQ(s[3].local_address, "127.0.0.1");
  EXPECT_EQ(s[3].local_port, 8080);
  EXPECT_EQ(s[3].remote_address, "127.0.0.1");
  EXPECT_EQ(s[3].remote_port, 52122);
}

TEST(ParseProcNet, TcpIpv6WordsAreHostOrder) {
  REQUIRE_LITTLE_ENDIAN();
  auto s = parse_proc_net(kTcp6, Protocol::kTcp6);
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s[0].proto, Protocol::kTcp6);
  EXPECT_EQ(s[0].local_address, "fd00::2");
  EXPECT_EQ(s[0].local_port, 8444);
  EXPECT_TRUE(s[0].listening);
  EXPECT_EQ(s[0].remote_address, "::");
  EXPECT_EQ(s[1].local_address, "::");
  EXPECT_EQ(s[1].local_port, 9001);
  // A dual-stack listener's connection from IPv4.
  EXPECT_EQ(s[2].local_address, "::ffff:127.0.0.1");
  EXPECT_EQ(s[2].remote_address, "::ffff:127.0.0.1");
  EXPECT_EQ(s[2].remote_port, 44754);
  EXPECT_FALSE(s[2].listening);
  EXPECT_EQ(s[2].inode, 1217821u);
  EXPECT_EQ(s[3].local_address, "::1");
  EXPECT_EQ(s[3].local_port, 8443);
}

TEST(ParseProcNet, UdpUnconnectedCountsAsListening) {
  REQUIRE_LITTLE_ENDIAN();
  auto s = parse_proc_net(kUdp, Protocol::kUdp);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].local_address, "0.0.0.0");
  EXPECT_EQ(s[0].local_port, 5353);
  EXPECT_EQ(s[0].state, kTcpClose);
  EXPECT_TRUE(s[0].listening);
  EXPECT_EQ(s[0].inode, 1217148u);
  // connect()ed UDP: ESTABLISHED, with a remote end.
  EXPECT_EQ(s[1].local_port, 40000);
  EXPECT_EQ(s[1].remote_port, 53);
  EXPECT_EQ(s[1].state, kTcpEstablished);
  EXPECT_FALSE(s[1].listening);

  auto s6 = parse_proc_net(kUdp6, Protocol::kUdp6);
  ASSERT_EQ(s6.size(), 2u);
  EXPECT_EQ(s6[0].local_address, "::1");
  EXPECT_EQ(s6[0].local_port, 5353);
  EXPECT_TRUE(s6[0].listening);
  EXPECT_EQ(s6[1].local_address, "::");
  EXPECT_EQ(s6[1].local_port, 5354);
  EXPECT_EQ(s6[1].inode, 1217151u);
}

// One vocabulary for files, who and snapshot: the names ss prints.
TEST(SocketStateName, AsSsPrintsThem) {
  SocketEntry tcp{.proto = Protocol::kTcp6, .state = 10};
  EXPECT_EQ(socket_state_name(tcp), "LISTEN");
  tcp.state = kTcpEstablished;
  EXPECT_EQ(socket_state_name(tcp), "ESTAB");
  tcp.state = 6;
  EXPECT_EQ(socket_state_name(tcp), "TIME-WAIT");
  tcp.state = kTcpClose;
  EXPECT_EQ(socket_state_name(tcp), "UNCONN");
  tcp.state = 200;
  EXPECT_EQ(socket_state_name(tcp), "?");
  SocketEntry udp{.proto = Protocol::kUdp, .state = kTcpClose};
  EXPECT_EQ(socket_state_name(udp), "UNCONN");
  udp.state = kTcpEstablished;
  EXPECT_EQ(socket_state_name(udp), "ESTAB");
}

TEST(ParseProcNet, WrongFamilyForTheFileYieldsNothing) {
  EXPECT_TRUE(parse_proc_net(kTcp, Protocol::kTcp6).empty());
  EXPECT_TRUE(parse_proc_net(kTcp6, Protocol::kTcp).empty());
}

TEST(ParseProcNet, MalformedLinesAreSkippedNotGuessed) {
  REQUIRE_LITTLE_ENDIAN();
  const std::string good =
      "   1: 0100007F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000  0 42 1 0\n";
  const char* bad[] = {
      "",
      "\n\n\n",
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid\n",
      "   1: 0100007F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000\n",
      "   1 0100007F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000 1000 0 42\n",
      "   1: 0100007G:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000 1000 0 42\n",
      "   1: +100007F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000 1000 0 42\n",
      "   1: 100007F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000 1000 0 42\n",
      "   1: 0100007F:10050 00000000:0000 0A 00000000:00000000 00:00000000 00000000 1000 0 42\n",
      "   1: 0100007F:050 00000000:0000 0A 00000000:00000000 00:00000000 00000000 1000 0 42\n",
      "   1: 0100007F 00000000:0000 0A 00000000:00000000 00:00000000 00000000 1000 0 42\n",
      "   1: 0100007F:0050 00000000:0000 A 00000000:00000000 00:00000000 00000000 1000 0 42\n",
      "   1: 0100007F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000 -1 0 42\n",
      "   1: 0100007F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000 1000 0 4x2\n",
      "   1: 0100007F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000 "
      "99999999999 0 42\n",
      "   1: 0100007F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000 1000 0 "
      "99999999999999999999999\n",
  };
  for (const char* line : bad) {
    EXPECT_TRUE(parse_proc_net(line, Protocol::kTcp).empty()) << line;
    // A bad line does not take its neighbours with it.
    auto s = parse_proc_net(good + line + "\n" + good, Protocol::kTcp);
    EXPECT_EQ(s.size(), 2u) << line;
  }
  std::string nul("   1: 0100007F:0050 00000000:0000 0A 0\0 1000 0 42\n", 49);
  EXPECT_TRUE(parse_proc_net(nul, Protocol::kTcp).empty());
  auto last = parse_proc_net(good.substr(0, good.size() - 1), Protocol::kTcp);  // no final \n
  ASSERT_EQ(last.size(), 1u);
  EXPECT_EQ(last[0].inode, 42u);
  EXPECT_EQ(last[0].uid, 1000u);
}

TEST(BindsAllInterfaces, OnlyTheWildcardAddresses) {
  SocketEntry e;
  for (const char* any : {"0.0.0.0", "::"}) {
    e.local_address = any;
    EXPECT_TRUE(binds_all_interfaces(e)) << any;
  }
  for (const char* one : {"127.0.0.1", "::1", "fd00::2", "::ffff:127.0.0.1", "192.0.2.2"}) {
    e.local_address = one;
    EXPECT_FALSE(binds_all_interfaces(e)) << one;
  }
}

TEST(ParseMapsLine, DeviceIsHexAndInodeDecimal) {
  auto e = parse_maps_line(
      "55d4c5a00000-55d4c5a28000 r--p 00000000 fd:01 1835041                    /usr/bin/sleep");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->dev_major, 0xfdu);
  EXPECT_EQ(e->dev_minor, 1u);
  EXPECT_EQ(e->inode, 1835041u);
  EXPECT_EQ(e->path, "/usr/bin/sleep");

  auto big = parse_maps_line("7f00-7f01 r-xp 0001c000 103:1a 77 /lib/with space (deleted)\n");
  ASSERT_TRUE(big);
  EXPECT_EQ(big->dev_major, 0x103u);
  EXPECT_EQ(big->dev_minor, 0x1au);
  EXPECT_EQ(big->path, "/lib/with space (deleted)");

  auto anon = parse_maps_line("7ffd1000-7ffd2000 rw-p 00000000 00:00 0 ");
  ASSERT_TRUE(anon);
  EXPECT_EQ(anon->inode, 0u);
  EXPECT_TRUE(anon->path.empty());

  for (const char* bad : {"", "7f00-7f01 r-xp 00000000 fd01 77 /x", "7f00 r-xp 0 fd:01 77 /x",
                          "7f00-7f01 r-xp 00000000 fd:01", "7f00-7f01 rx 0 fd:01 77",
                          "7f00-7f01 r-xp 00000000 fd:zz 77 /x", "7f00-7f01 r-xp 0 fd:01 -7"}) {
    EXPECT_FALSE(parse_maps_line(bad)) << bad;
  }
}

// A sock_diag answer as the kernel lays it out, for parse_sock_diag.
class DiagWire {
 public:
  // One SOCK_DIAG_BY_FAMILY message; extra is appended after inet_diag_msg.
  DiagWire& socket(uint8_t family, const char* local, uint16_t port, uint32_t inode,
                   const std::string& extra = {}, uint32_t seq = kSeq) {
    inet_diag_msg m{};
    m.idiag_family = family;
    m.idiag_state = kTcpListen;
    m.id.idiag_sport = htons(port);
    ::inet_pton(family, local, m.id.idiag_src);
    m.idiag_uid = 1000;
    m.idiag_inode = inode;
    return message(SOCK_DIAG_BY_FAMILY, std::string(reinterpret_cast<char*>(&m), sizeof m) + extra,
                   seq);
  }
  DiagWire& message(uint16_t type, const std::string& payload, uint32_t seq = kSeq) {
    nlmsghdr h{};
    h.nlmsg_len = static_cast<uint32_t>(NLMSG_HDRLEN + payload.size());
    h.nlmsg_type = type;
    h.nlmsg_seq = seq;
    bytes += std::string(reinterpret_cast<char*>(&h), sizeof h) + payload;
    bytes.resize(NLMSG_ALIGN(bytes.size()));
    return *this;
  }
  static std::string attr(uint16_t type, const std::string& payload, int len_delta = 0) {
    nlattr a{};
    a.nla_type = type;
    a.nla_len = static_cast<uint16_t>(sizeof a + payload.size() + len_delta);
    std::string out = std::string(reinterpret_cast<char*>(&a), sizeof a) + payload;
    out.resize(NLA_ALIGN(out.size()));
    return out;
  }
  static std::string u64(uint64_t v) { return std::string(reinterpret_cast<char*>(&v), sizeof v); }
  static constexpr uint32_t kSeq = 7;
  std::string bytes;
};

TEST(ParseSockDiag, ReadsSocketsAndTheCgroupAttribute) {
  DiagWire w;
  w.socket(AF_INET, "127.0.0.1", 8080, 111, DiagWire::attr(INET_DIAG_CGROUP_ID, DiagWire::u64(4242)))
      .socket(AF_INET, "10.0.0.1", 9090, 112)
      .socket(AF_INET, "127.0.0.1", 8080, 999, "", 8)  // another request's answer
      .message(NLMSG_DONE, std::string(4, '\0'));
  std::vector<SocketEntry> out;
  auto batch = parse_sock_diag(w.bytes, Protocol::kTcp, DiagWire::kSeq, std::nullopt, out);
  EXPECT_TRUE(batch.done);
  EXPECT_EQ(batch.error, 0);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].local_address, "127.0.0.1");
  EXPECT_EQ(out[0].local_port, 8080);
  EXPECT_EQ(out[0].inode, 111u);
  EXPECT_EQ(out[0].uid, 1000u);
  EXPECT_EQ(out[0].cgroup_id, 4242u);
  EXPECT_TRUE(out[0].listening);
  EXPECT_EQ(out[1].local_address, "10.0.0.1");
  EXPECT_EQ(out[1].cgroup_id, 0u);

  out.clear();
  parse_sock_diag(w.bytes, Protocol::kTcp, DiagWire::kSeq, 9090, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].inode, 112u);

  DiagWire v6;
  v6.socket(AF_INET6, "fd00::2", 443, 5).socket(AF_INET, "127.0.0.1", 1, 6);  // wrong family
  out.clear();
  batch = parse_sock_diag(v6.bytes, Protocol::kTcp6, DiagWire::kSeq, std::nullopt, out);
  EXPECT_FALSE(batch.done);
  EXPECT_EQ(batch.error, 0);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].local_address, "fd00::2");
}

TEST(ParseSockDiag, HostileLengthsAreRejectedOrIgnored) {
  std::vector<SocketEntry> out;
  auto parse = [&](const std::string& bytes) {
    out.clear();
    return parse_sock_diag(bytes, Protocol::kTcp, DiagWire::kSeq, std::nullopt, out);
  };
  DiagWire good;
  good.socket(AF_INET, "127.0.0.1", 80, 1);

  // nlmsg_len beyond what was received, and below the header size.
  std::string longer = good.bytes;
  uint32_t len = static_cast<uint32_t>(longer.size() + 4);
  std::memcpy(longer.data(), &len, sizeof len);
  EXPECT_EQ(parse(longer).error, EBADMSG);
  EXPECT_TRUE(out.empty());
  std::string shorter = good.bytes;
  len = 8;
  std::memcpy(shorter.data(), &len, sizeof len);
  EXPECT_EQ(parse(shorter).error, EBADMSG);
  // Cut mid-message: the rest of the buffer is not a message.
  EXPECT_EQ(parse(good.bytes.substr(0, good.bytes.size() - 10)).error, EBADMSG);
  EXPECT_EQ(parse(good.bytes.substr(0, 10)).error, 0);  // less than a header: nothing
  EXPECT_TRUE(out.empty());

  // A payload too short for inet_diag_msg is skipped, the next one is read.
  DiagWire runt;
  runt.message(SOCK_DIAG_BY_FAMILY, std::string(20, '\0')).socket(AF_INET, "127.0.0.1", 81, 2);
  EXPECT_EQ(parse(runt.bytes).error, 0);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].inode, 2u);

  // Attributes: longer than the message, shorter than their header, or a
  // cgroup id with too few bytes: ignored, the socket is kept.
  for (const std::string& bad :
       {DiagWire::attr(INET_DIAG_CGROUP_ID, DiagWire::u64(9), 64),
        DiagWire::attr(INET_DIAG_CGROUP_ID, DiagWire::u64(9), -6),
        DiagWire::attr(INET_DIAG_CGROUP_ID, std::string(4, '\x09'))}) {
    DiagWire w;
    w.socket(AF_INET, "127.0.0.1", 82, 3, bad);
    EXPECT_EQ(parse(w.bytes).error, 0);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].cgroup_id, 0u);
  }

  // NLMSG_ERROR carries a negative errno; a short or senseless one is EBADMSG.
  int eperm = -EPERM;
  DiagWire err;
  err.message(NLMSG_ERROR, std::string(reinterpret_cast<char*>(&eperm), sizeof eperm));
  EXPECT_EQ(parse(err.bytes).error, EPERM);
  DiagWire short_err;
  short_err.message(NLMSG_ERROR, "");
  EXPECT_EQ(parse(short_err.bytes).error, EBADMSG);
  int odd = 12345678;
  DiagWire odd_err;
  odd_err.message(NLMSG_ERROR, std::string(reinterpret_cast<char*>(&odd), sizeof odd));
  EXPECT_EQ(parse(odd_err.bytes).error, EBADMSG);
}

// ------------------------------------------------- fake proc trees ---

std::string tcp_line(int slot, const char* local, const char* remote, const char* state,
                     uint32_t uid, uint64_t inode) {
  char line[256];
  std::snprintf(line, sizeof line,
                "%4d: %s %s %s 00000000:00000000 00:00000000 00000000 %5u        0 %llu 1 "
                "0000000000000000 100 0 0 10 0\n",
                slot, local, remote, state, uid, static_cast<unsigned long long>(inode));
  return line;
}

TEST(ReadProcNet, StreamsLargeTablesAndFiltersByPort) {
  REQUIRE_LITTLE_ENDIAN();
  FakeProcfs fs;
  fs::create_directories(fs.root() + "/net");
  std::ofstream out(fs.root() + "/net/tcp", std::ios::binary);
  out << "  sl  local_address rem_address   st tx_queue ...\n";
  for (int i = 0; i < 3000; ++i) {  // ~450 KiB: many read chunks
    out << tcp_line(i, i % 2 ? "0100007F:0050" : "0100007F:0051", "00000000:0000", "0A", 0,
                    1000 + i);
    if (i == 1500) out << std::string(200 * 1024, 'x') << "\n";  // garbage longer than a chunk
  }
  out.close();
  auto all = read_proc_net(fs.root(), Protocol::kTcp, std::nullopt);
  ASSERT_TRUE(all) << all.error().message;
  ASSERT_EQ(all->size(), 3000u);
  EXPECT_EQ(all->front().inode, 1000u);
  EXPECT_EQ(all->back().inode, 3999u);
  auto port80 = read_proc_net(fs.root(), Protocol::kTcp, 80);
  ASSERT_TRUE(port80);
  EXPECT_EQ(port80->size(), 1500u);
  for (const auto& s : *port80) EXPECT_EQ(s.local_port, 80);

  auto missing = read_proc_net(fs.root(), Protocol::kUdp6, std::nullopt);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::kNotFound);
}

std::vector<int32_t> owners_of(const std::vector<SocketOwner>& owners, uint64_t inode) {
  std::vector<int32_t> pids;
  for (const auto& o : owners) {
    if (o.socket.inode == inode) pids.push_back(o.pid);
  }
  std::sort(pids.begin(), pids.end());
  return pids;
}

SocketEntry entry(uint64_t inode, bool listening, uint16_t port = 80) {
  SocketEntry e;
  e.local_address = "0.0.0.0";
  e.local_port = port;
  e.inode = inode;
  e.listening = listening;
  e.state = listening ? kTcpListen : kTcpEstablished;
  return e;
}

TEST(FindSocketOwners, EveryHolderListenersFirstOnAFakeTree) {
  FakeProcfs fs;
  // 10: master holding the listener (fd 3, and dup'ed as fd 7) and a client
  // connection; 11, 12: forked workers sharing the listener; 13: unrelated.
  for (int pid : {10, 11, 12, 13}) fs.add({.pid = pid, .ppid = pid == 10 ? 1 : 10});
  fs.link(10, "fd/0", "/dev/null");
  fs.link(10, "fd/3", "socket:[5001]");
  fs.link(10, "fd/7", "socket:[5001]");
  fs.link(10, "fd/8", "socket:[6001]");
  fs.link(11, "fd/3", "socket:[5001]");
  fs.link(12, "fd/3", "socket:[5001]");
  fs.link(12, "fd/4", "pipe:[5001]");
  fs.link(13, "fd/3", "socket:[9999]");
  fs.link(13, "fd/4", "socket:[50011]");
  fs.link(13, "fd/5", "socket:[5001");
  auto reader = ProcReader::open(fs.root());
  ASSERT_TRUE(reader);
  std::vector<SocketEntry> sockets = {entry(6001, false), entry(5001, true), entry(0, false)};
  ScanStats stats;
  auto owners = find_socket_owners(*reader, sockets, &stats);
  ASSERT_EQ(owners.size(), 4u);
  EXPECT_EQ(owners[0].pid, 10);
  EXPECT_EQ(owners[0].socket.inode, 5001u);
  EXPECT_EQ(owners[1].pid, 11);
  EXPECT_EQ(owners[2].pid, 12);
  EXPECT_TRUE(owners[2].socket.listening);
  EXPECT_EQ(owners[3].pid, 10);
  EXPECT_EQ(owners[3].socket.inode, 6001u);
  EXPECT_EQ(stats.vanished, 0u);

  auto held = sockets_of(*reader, 10, sockets);
  ASSERT_EQ(held.size(), 2u);
  EXPECT_EQ(held[0].inode, 5001u);  // listening first
  EXPECT_EQ(held[1].inode, 6001u);
  EXPECT_TRUE(sockets_of(*reader, 13, sockets).empty());
  EXPECT_TRUE(sockets_of(*reader, 4242, sockets).empty());
  EXPECT_TRUE(find_socket_owners(*reader, {entry(0, true)}).empty());
}

std::vector<std::string> uses_of(const std::vector<FileUse>& uses, int32_t pid) {
  std::vector<std::string> out;
  for (const auto& u : uses) {
    if (u.pid == pid) out.push_back(u.how);
  }
  return out;
}

using Hows = std::vector<std::string>;

TEST(FindSocketOwners, ManySocketsAtOnce) {
  // More sockets than the per-process early stop handles: every holder is
  // still found once per socket, however many fds hold it.
  FakeProcfs fs;
  fs.add({.pid = 30});
  fs.add({.pid = 31});
  std::vector<SocketEntry> sockets;
  for (int i = 0; i < 100; ++i) {
    sockets.push_back(entry(7000 + i, i % 10 == 0, static_cast<uint16_t>(1000 + i)));
    fs.link(30, "fd/" + std::to_string(10 + i), "socket:[" + std::to_string(7000 + i) + "]");
  }
  fs.link(30, "fd/500", "socket:[7005]");
  fs.link(31, "fd/3", "socket:[7099]");
  auto reader = ProcReader::open(fs.root());
  ASSERT_TRUE(reader);
  auto owners = find_socket_owners(*reader, sockets);
  ASSERT_EQ(owners.size(), 101u);
  for (size_t i = 0; i < 10; ++i) EXPECT_TRUE(owners[i].socket.listening) << i;
  EXPECT_EQ(owners[0].socket.inode, 7000u);
  EXPECT_EQ(owners[9].socket.inode, 7090u);
  EXPECT_EQ(owners_of(owners, 7005), std::vector<int32_t>{30});
  EXPECT_EQ(owners_of(owners, 7099), (std::vector<int32_t>{30, 31}));
  EXPECT_EQ(owners.back().pid, 31);
}

TEST(FindFileUsers, FakeTreeFdsCwdRootAndMaps) {
  FakeProcfs fs;
  fs::create_directories(fs::path(fs.root()) / "files" / "sub");
  fs::path dir = fs::canonical(fs::path(fs.root()) / "files");
  fs::path file = dir / "data.db";
  std::ofstream(file) << "x";
  struct stat st;
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  char maps[512];
  std::snprintf(maps, sizeof maps,
                "1000-2000 r--p 00000000 %x:%x %llu   %s\n3000-4000 rw-p 00000000 00:00 0 \n",
                major(st.st_dev), minor(st.st_dev), static_cast<unsigned long long>(st.st_ino),
                file.c_str());
  // 20: the file open twice, cwd in dir/sub. 21: the file mapped, root at
  // dir. 22: cwd is dir itself, and a look-alike path in maps with another
  // inode. 23: no fd dir (exited).
  fs.add({.pid = 20});
  fs.link(20, "fd/2", "/dev/null");
  fs.link(20, "fd/12", file.string());
  fs.link(20, "fd/5", file.string());
  fs.link(20, "cwd", (dir / "sub").string());
  fs.add({.pid = 21});
  fs.link(21, "fd/0", "/dev/null");
  fs.write(21, "maps", maps);
  fs.link(21, "root", dir.string());
  fs.link(21, "cwd", "/");
  fs.add({.pid = 22});
  fs.link(22, "fd/0", "/dev/null");
  fs.link(22, "cwd", dir.string());
  fs.write(22, "maps", "1000-2000 r--p 00000000 00:00 1 " + file.string() + "\n");
  fs.add({.pid = 23});
  auto reader = ProcReader::open(fs.root());
  ASSERT_TRUE(reader);

  ScanStats stats;
  auto on_file = find_file_users(*reader, file.string(), &stats);
  ASSERT_TRUE(on_file) << on_file.error().message;
  EXPECT_EQ(uses_of(*on_file, 20), (Hows{"fd 5", "fd 12"}));
  EXPECT_EQ(uses_of(*on_file, 21), (Hows{"mmap"}));
  EXPECT_EQ(uses_of(*on_file, 22), Hows{});
  EXPECT_EQ(stats.vanished, 1u);  // 23

  auto on_dir = find_file_users(*reader, dir.string());
  ASSERT_TRUE(on_dir);
  EXPECT_EQ(uses_of(*on_dir, 20), (Hows{"cwd (inside)"}));
  EXPECT_EQ(uses_of(*on_dir, 21), (Hows{"root"}));
  EXPECT_EQ(uses_of(*on_dir, 22), (Hows{"cwd"}));
  ASSERT_FALSE(on_dir->empty());
  EXPECT_TRUE(std::is_sorted(on_dir->begin(), on_dir->end(),
                             [](const FileUse& a, const FileUse& b) { return a.pid < b.pid; }));

  auto on_sub = find_file_users(*reader, (dir / "sub").string());
  ASSERT_TRUE(on_sub);
  EXPECT_EQ(uses_of(*on_sub, 20), (Hows{"cwd"}));
  EXPECT_EQ(uses_of(*on_sub, 22), Hows{});  // the parent is not inside its child

  auto missing = find_file_users(*reader, (dir / "nope").string());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::kNotFound);
}

// ------------------------------------------------------ live kernel ---
// Sockets and files of this test process and of children it forks: they
// need no privilege, so these also run (and must pass) as non-root.

struct Bound {
  UniqueFd fd;
  uint16_t port = 0;
  uint64_t inode = 0;
};

// A socket bound to addr:0 (and listening for TCP); nullopt when the
// machine cannot (no IPv6).
std::optional<Bound> bind_socket(int family, int type, const char* addr) {
  Bound b;
  b.fd.reset(::socket(family, type | SOCK_CLOEXEC, 0));
  if (!b.fd.valid()) return std::nullopt;
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (family == AF_INET) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    if (::inet_pton(AF_INET, addr, &sin->sin_addr) != 1) return std::nullopt;
    len = sizeof *sin;
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    sin6->sin6_family = AF_INET6;
    if (::inet_pton(AF_INET6, addr, &sin6->sin6_addr) != 1) return std::nullopt;
    len = sizeof *sin6;
  }
  if (::bind(b.fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) return std::nullopt;
  if (type == SOCK_STREAM && ::listen(b.fd.get(), 8) != 0) return std::nullopt;
  len = sizeof ss;
  if (::getsockname(b.fd.get(), reinterpret_cast<sockaddr*>(&ss), &len) != 0) return std::nullopt;
  b.port = ntohs(family == AF_INET ? reinterpret_cast<sockaddr_in*>(&ss)->sin_port
                                   : reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  struct stat st;
  if (::fstat(b.fd.get(), &st) != 0) return std::nullopt;
  b.inode = st.st_ino;
  return b;
}

uint64_t inode_of(int fd) {
  struct stat st;
  return ::fstat(fd, &st) == 0 ? st.st_ino : 0;
}

const SocketEntry* by_inode(const std::vector<SocketEntry>& all, uint64_t inode) {
  for (const auto& s : all) {
    if (s.inode == inode) return &s;
  }
  return nullptr;
}

// A forked child that holds everything this process has open (fork), may
// chdir somewhere, and waits until the object dies.
class Child {
 public:
  explicit Child(const char* chdir_to = nullptr, std::optional<uid_t> become = std::nullopt) {
    int stop[2], ready[2];
    if (::pipe2(stop, O_CLOEXEC) != 0 || ::pipe2(ready, O_CLOEXEC) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(stop[1]);
      ::close(ready[0]);
      char c = (chdir_to && ::chdir(chdir_to) != 0) ? 'F' : '+';
      // Dropping root makes a process non-dumpable (its /proc dir then
      // belongs to root); servers such as nginx turn dumpable back on.
      if (become && (::setresgid(*become, *become, *become) != 0 ||
                     ::setresuid(*become, *become, *become) != 0 ||
                     ::prctl(PR_SET_DUMPABLE, 1) != 0)) {
        c = 'F';
      }
      (void)!::write(ready[1], &c, 1);
      while (::read(stop[0], &c, 1) < 0 && errno == EINTR) {
      }
      ::_exit(0);
    }
    ::close(stop[0]);
    ::close(ready[1]);
    stop_.reset(stop[1]);
    char c = 0;
    ok_ = pid_ > 0 && ::read(ready[0], &c, 1) == 1 && c == '+';
    ::close(ready[0]);
  }
  ~Child() {
    stop_.reset();
    if (pid_ > 0) ::waitpid(pid_, nullptr, 0);
  }
  bool ok() const { return ok_; }
  int32_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  UniqueFd stop_;
  bool ok_ = false;
};

// The cgroup v2 directory this process is in, from mountinfo and
// /proc/self/cgroup; empty when there is no cgroup2 mount.
std::string own_cgroup_v2_dir() {
  std::ifstream mountinfo("/proc/self/mountinfo");
  std::string line, mount;
  while (std::getline(mountinfo, line)) {
    size_t dash = line.find(" - cgroup2 ");
    if (dash == std::string::npos) continue;
    std::istringstream fields(line);
    std::string id, parent, dev, root, point;
    fields >> id >> parent >> dev >> root >> point;
    if (root == "/") mount = point;
  }
  std::ifstream cgroup("/proc/self/cgroup");
  while (!mount.empty() && std::getline(cgroup, line)) {
    if (line.rfind("0::", 0) == 0) return mount + line.substr(3);
  }
  return {};
}

TEST(LiveSockets, TcpListenerAndConnectionWithAllTheirHolders) {
  auto listener = bind_socket(AF_INET, SOCK_STREAM, "127.0.0.1");
  ASSERT_TRUE(listener) << "cannot listen on 127.0.0.1: " << std::strerror(errno);
  UniqueFd client(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(listener->port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(client.get(), reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
  UniqueFd accepted(::accept4(listener->fd.get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_TRUE(accepted.valid());
  const uint64_t accepted_inode = inode_of(accepted.get());

  auto all = list_sockets(listener->port);
  ASSERT_TRUE(all) << all.error().message;
  for (const auto& s : *all) EXPECT_EQ(s.local_port, listener->port);
  const SocketEntry* l = by_inode(*all, listener->inode);
  ASSERT_NE(l, nullptr) << "listener on port " << listener->port << " not listed";
  EXPECT_EQ(l->proto, Protocol::kTcp);
  EXPECT_EQ(l->local_address, "127.0.0.1");
  EXPECT_EQ(l->remote_address, "0.0.0.0");
  EXPECT_TRUE(l->listening);
  EXPECT_EQ(l->state, kTcpListen);
  EXPECT_EQ(l->uid, ::geteuid());
  EXPECT_FALSE(binds_all_interfaces(*l));
  const SocketEntry* a = by_inode(*all, accepted_inode);
  ASSERT_NE(a, nullptr);
  EXPECT_FALSE(a->listening);
  EXPECT_EQ(a->state, kTcpEstablished);
  EXPECT_EQ(a->remote_address, "127.0.0.1");
  EXPECT_EQ(a->remote_port, ntohs([&] {
              sockaddr_in me{};
              socklen_t len = sizeof me;
              ::getsockname(client.get(), reinterpret_cast<sockaddr*>(&me), &len);
              return me.sin_port;
            }()));
  EXPECT_EQ(by_inode(*all, inode_of(client.get())), nullptr);  // its local port differs

  // Both sources agree on what they both know.
  auto from_proc = read_proc_net("/proc", Protocol::kTcp, listener->port);
  ASSERT_TRUE(from_proc) << from_proc.error().message;
  const SocketEntry* p = by_inode(*from_proc, listener->inode);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->local_address, "127.0.0.1");
  EXPECT_EQ(p->local_port, listener->port);
  EXPECT_TRUE(p->listening);
  auto from_netlink = list_sockets_netlink(Protocol::kTcp, listener->port);
  if (!from_netlink) {
    std::printf("note: sock_diag unavailable (%s); /proc/net was used\n",
                from_netlink.error().message.c_str());
  } else {
    const SocketEntry* n = by_inode(*from_netlink, listener->inode);
    ASSERT_NE(n, nullptr);
    EXPECT_EQ(n->local_address, p->local_address);
    EXPECT_EQ(n->remote_address, p->remote_address);
    EXPECT_EQ(n->uid, p->uid);
    EXPECT_EQ(n->state, p->state);
    ASSERT_NE(by_inode(*from_netlink, accepted_inode), nullptr);
    EXPECT_EQ(by_inode(*from_netlink, accepted_inode)->remote_port,
              by_inode(*from_proc, accepted_inode)->remote_port);
    std::string cgroup_dir = own_cgroup_v2_dir();
    struct stat st;
    if (cgroup_dir.empty() || ::stat(cgroup_dir.c_str(), &st) != 0) {
      std::printf("note: no cgroup v2 directory found; cgroup id not checked\n");
    } else {
      EXPECT_EQ(n->cgroup_id, st.st_ino) << "cgroup id is the inode of " << cgroup_dir;
    }
  }

  Child child;
  ASSERT_TRUE(child.ok());
  auto reader = ProcReader::open();
  ASSERT_TRUE(reader);
  ScanStats stats;
  auto owners = find_socket_owners(*reader, *all, &stats);
  struct stat init;
  if (::geteuid() != 0 && ::stat("/proc/1", &init) == 0 && init.st_uid != ::geteuid()) {
    EXPECT_GT(stats.denied, 0u) << "init's fds cannot be read, and that must be counted";
  }
  std::vector<int32_t> both = {::getpid(), child.pid()};
  std::sort(both.begin(), both.end());
  EXPECT_EQ(owners_of(owners, listener->inode), both);
  EXPECT_EQ(owners_of(owners, accepted_inode), both);
  auto first_connected = std::find_if(owners.begin(), owners.end(),
                                      [](const SocketOwner& o) { return !o.socket.listening; });
  EXPECT_TRUE(std::none_of(first_connected, owners.end(),
                           [](const SocketOwner& o) { return o.socket.listening; }))
      << "listeners come first";

  auto mine = sockets_of(*reader, ::getpid(), *all);
  ASSERT_EQ(mine.size(), 2u);
  EXPECT_EQ(mine[0].inode, listener->inode);
  EXPECT_EQ(mine[1].inode, accepted_inode);
}

TEST(LiveSockets, FindsAHolderThatDroppedPrivileges) {
  // A root-created listener inherited by a worker that runs as another
  // user: neither the socket's uid nor root ownership of the worker's /proc
  // directory points at the worker, and it must still be found.
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to switch a child to another uid";
  auto listener = bind_socket(AF_INET, SOCK_STREAM, "127.0.0.1");
  ASSERT_TRUE(listener);
  Child worker(nullptr, 65534);
  ASSERT_TRUE(worker.ok());
  struct stat st;
  ASSERT_EQ(::stat(("/proc/" + std::to_string(worker.pid())).c_str(), &st), 0);
  ASSERT_EQ(st.st_uid, 65534u);
  auto all = list_sockets(listener->port);
  ASSERT_TRUE(all);
  ASSERT_NE(by_inode(*all, listener->inode), nullptr);
  EXPECT_EQ(by_inode(*all, listener->inode)->uid, 0u);
  auto reader = ProcReader::open();
  ASSERT_TRUE(reader);
  std::vector<int32_t> both = {::getpid(), worker.pid()};
  std::sort(both.begin(), both.end());
  EXPECT_EQ(owners_of(find_socket_owners(*reader, *all), listener->inode), both);
}

TEST(LiveSockets, Ipv6Listener) {
  auto listener = bind_socket(AF_INET6, SOCK_STREAM, "::1");
  if (!listener) GTEST_SKIP() << "no IPv6 loopback here: " << std::strerror(errno);
  auto all = list_sockets(listener->port);
  ASSERT_TRUE(all) << all.error().message;
  const SocketEntry* l = by_inode(*all, listener->inode);
  ASSERT_NE(l, nullptr);
  EXPECT_EQ(l->proto, Protocol::kTcp6);
  EXPECT_EQ(l->local_address, "::1");
  EXPECT_EQ(l->local_port, listener->port);
  EXPECT_TRUE(l->listening);
  auto from_proc = read_proc_net("/proc", Protocol::kTcp6, listener->port);
  ASSERT_TRUE(from_proc);
  ASSERT_NE(by_inode(*from_proc, listener->inode), nullptr);
  EXPECT_EQ(by_inode(*from_proc, listener->inode)->local_address, "::1");
  auto reader = ProcReader::open();
  ASSERT_TRUE(reader);
  EXPECT_EQ(owners_of(find_socket_owners(*reader, *all), listener->inode),
            std::vector<int32_t>{::getpid()});
}

TEST(LiveSockets, UdpBoundIsListeningConnectedIsNot) {
  auto server = bind_socket(AF_INET, SOCK_DGRAM, "127.0.0.1");
  auto peer = bind_socket(AF_INET, SOCK_DGRAM, "127.0.0.1");
  ASSERT_TRUE(server && peer);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(server->port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(peer->fd.get(), reinterpret_cast<sockaddr*>(&to), sizeof to), 0);

  auto s = list_sockets(server->port);
  ASSERT_TRUE(s) << s.error().message;
  const SocketEntry* e = by_inode(*s, server->inode);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->proto, Protocol::kUdp);
  EXPECT_TRUE(e->listening);
  EXPECT_EQ(e->state, kTcpClose);
  auto c = list_sockets(peer->port);
  ASSERT_TRUE(c);
  e = by_inode(*c, peer->inode);
  ASSERT_NE(e, nullptr);
  EXPECT_FALSE(e->listening);
  EXPECT_EQ(e->remote_port, server->port);
  auto from_proc = read_proc_net("/proc", Protocol::kUdp, peer->port);
  ASSERT_TRUE(from_proc);
  ASSERT_NE(by_inode(*from_proc, peer->inode), nullptr);
  EXPECT_FALSE(by_inode(*from_proc, peer->inode)->listening);

  auto reader = ProcReader::open();
  ASSERT_TRUE(reader);
  auto owners = find_socket_owners(*reader, *s);
  EXPECT_EQ(owners_of(owners, server->inode), std::vector<int32_t>{::getpid()});
}

struct TempDir {
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "lineage-net-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) != nullptr) path = fs::canonical(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    if (!path.empty()) fs::remove_all(path, ec);
  }
  fs::path path;
};

TEST(LiveFileUsers, OpenMappedExeAndCwd) {
  TempDir tmp;
  ASSERT_FALSE(tmp.path.empty());
  fs::path held = tmp.path / "held.log", mapped = tmp.path / "mapped.bin";
  std::ofstream(held) << "held";
  std::ofstream(mapped) << std::string(4096, 'm');
  UniqueFd held_fd(::open(held.c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(held_fd.valid());
  void* map = nullptr;
  {
    UniqueFd fd(::open(mapped.c_str(), O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(fd.valid());
    map = ::mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE, fd.get(), 0);
    ASSERT_NE(map, MAP_FAILED);
  }  // only the mapping is left
  fs::create_directories(tmp.path / "work" / "deep");
  Child child((tmp.path / "work" / "deep").c_str());
  ASSERT_TRUE(child.ok());
  auto reader = ProcReader::open();
  ASSERT_TRUE(reader);
  const int32_t me = ::getpid();

  auto on_held = find_file_users(*reader, held.string());
  ASSERT_TRUE(on_held) << on_held.error().message;
  EXPECT_EQ(uses_of(*on_held, me), Hows{"fd " + std::to_string(held_fd.get())});
  // The child inherited the fd, so it holds the file too.
  EXPECT_EQ(uses_of(*on_held, child.pid()), Hows{"fd " + std::to_string(held_fd.get())});

  auto on_mapped = find_file_users(*reader, mapped.string());
  ASSERT_TRUE(on_mapped);
  EXPECT_EQ(uses_of(*on_mapped, me), Hows{"mmap"});

  auto exe = fs::read_symlink("/proc/self/exe");
  auto on_exe = find_file_users(*reader, exe.string());
  ASSERT_TRUE(on_exe);
  EXPECT_EQ(uses_of(*on_exe, me), Hows{"exe"});

  auto on_work = find_file_users(*reader, (tmp.path / "work").string());
  ASSERT_TRUE(on_work);
  EXPECT_EQ(uses_of(*on_work, child.pid()), Hows{"cwd (inside)"});
  EXPECT_EQ(uses_of(*on_work, me), Hows{});
  auto on_deep = find_file_users(*reader, (tmp.path / "work" / "deep").string());
  ASSERT_TRUE(on_deep);
  EXPECT_EQ(uses_of(*on_deep, child.pid()), Hows{"cwd"});
  // Through a symlink to the directory: the same directory.
  fs::create_directory_symlink(tmp.path / "work", tmp.path / "alias");
  auto on_alias = find_file_users(*reader, (tmp.path / "alias").string());
  ASSERT_TRUE(on_alias);
  EXPECT_EQ(uses_of(*on_alias, child.pid()), Hows{"cwd (inside)"});
  ::munmap(map, 4096);
}

}  // namespace
}  // namespace lineage::procfs
