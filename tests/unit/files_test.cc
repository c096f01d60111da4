// lineage files: the pure parts on literal text (link targets, fdinfo,
// modes, /proc/net/netlink, sock_diag answers, --type), the fd table on a
// fake proc tree, and a process that exits while its table is read.
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include <gtest/gtest.h>

#include "cli/files_command.h"
#include "fake_procfs.h"
#include "output/files_writer.h"
#include "procfs/fds.h"
#include "procfs/unix_diag.h"

namespace lineage::procfs {
namespace {

using testing::FakeProcess;
using testing::FakeProcfs;

// ---------------------------------------------------------- link targets ---

TEST(ClassifyLink, PipesAndSocketsCarryTheirInode) {
  auto p = classify_link("pipe:[123456]");
  EXPECT_EQ(p.kind, LinkKind::kPipe);
  EXPECT_EQ(p.inode, 123456u);
  auto s = classify_link("socket:[456]");
  EXPECT_EQ(s.kind, LinkKind::kSocket);
  EXPECT_EQ(s.inode, 456u);
}

TEST(ClassifyLink, MalformedBracketsAreNotPipes) {
  EXPECT_EQ(classify_link("pipe:[]").kind, LinkKind::kOther);
  EXPECT_EQ(classify_link("pipe:[12").kind, LinkKind::kOther);
  EXPECT_EQ(classify_link("pipe:[1x]").kind, LinkKind::kOther);
  EXPECT_EQ(classify_link("socket:[-1]").kind, LinkKind::kOther);
  EXPECT_EQ(classify_link("").kind, LinkKind::kOther);
}

TEST(ClassifyLink, AnonInodesWithAndWithoutBrackets) {
  auto e = classify_link("anon_inode:[eventfd]");
  EXPECT_EQ(e.kind, LinkKind::kAnon);
  EXPECT_EQ(e.name, "eventfd");
  EXPECT_EQ(anon_type(e.name), "eventfd");
  EXPECT_EQ(anon_type(classify_link("anon_inode:inotify").name), "inotify");
  EXPECT_EQ(anon_type(classify_link("anon_inode:[eventpoll]").name), "epoll");
  EXPECT_EQ(anon_type(classify_link("anon_inode:[signalfd]").name), "signalfd");
  EXPECT_EQ(anon_type(classify_link("anon_inode:[timerfd]").name), "timerfd");
  EXPECT_EQ(anon_type(classify_link("anon_inode:[pidfd]").name), "pidfd");
  EXPECT_EQ(anon_type(classify_link("anon_inode:bpf-map").name), "bpf-map");
  EXPECT_EQ(anon_type(classify_link("anon_inode:bpf-prog").name), "bpf-prog");
  EXPECT_EQ(anon_type(classify_link("anon_inode:bpf_link").name), "bpf-link");
  EXPECT_EQ(anon_type(classify_link("anon_inode:[io_uring]").name), "io_uring");
  EXPECT_EQ(anon_type(classify_link("anon_inode:[something-new]").name), "a_inode");
}

TEST(ClassifyLink, DeletedPathsAndMemfds) {
  auto d = classify_link("/var/log/app.log (deleted)");
  EXPECT_EQ(d.kind, LinkKind::kPath);
  EXPECT_TRUE(d.deleted);
  EXPECT_FALSE(d.memfd);
  EXPECT_EQ(d.name, "/var/log/app.log");
  auto m = classify_link("/memfd:f10mem (deleted)");
  EXPECT_TRUE(m.memfd);
  EXPECT_TRUE(m.deleted);
  EXPECT_EQ(m.name, "/memfd:f10mem");
  auto live = classify_link("/memfd:not-a-memfd");  // a real file of that name
  EXPECT_FALSE(live.memfd);
  EXPECT_FALSE(live.deleted);
  auto plain = classify_link("/etc/hostname");
  EXPECT_FALSE(plain.deleted);
  EXPECT_EQ(plain.name, "/etc/hostname");
}

TEST(ClassifyLink, NamespacesAndNewPidfds) {
  EXPECT_EQ(classify_link("net:[4026531840]").kind, LinkKind::kOther);
  auto p = classify_link("pidfd:[1234]");
  EXPECT_EQ(p.kind, LinkKind::kOther);
  EXPECT_EQ(p.name, "pidfd");
}

TEST(FileType, FromModeBits) {
  EXPECT_EQ(file_type(S_IFREG | 0644), "REG");
  EXPECT_EQ(file_type(S_IFDIR | 0755), "DIR");
  EXPECT_EQ(file_type(S_IFCHR | 0666), "CHR");
  EXPECT_EQ(file_type(S_IFBLK | 0660), "BLK");
  EXPECT_EQ(file_type(S_IFIFO | 0600), "FIFO");
  EXPECT_EQ(file_type(S_IFSOCK | 0777), "sock");
  EXPECT_EQ(file_type(0600), "a_inode");
}

// ---------------------------------------------------------------- fdinfo ---

TEST(ParseFdinfo, RegularFile) {
  auto info = parse_fdinfo("pos:\t4096\nflags:\t02102001\nmnt_id:\t29\nino:\t733\n");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->pos, 4096u);
  EXPECT_EQ(info->flags, 02102001u);
  EXPECT_EQ(info->mnt_id, 29);
  EXPECT_EQ(mode_string(info->flags), "w");
  EXPECT_EQ(flag_names(info->flags), "append,cloexec");
}

TEST(ParseFdinfo, KindSpecificLinesAreIgnored) {
  auto info = parse_fdinfo(
      "pos:\t0\nflags:\t02\nmnt_id:\t16\nino:\t18\n"
      "tfd:        5 events:       19 data:                5  pos:0 ino:7 sdev:f\n");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->pos, 0u);  // the epoll line's "pos:0" is not the fd's
  EXPECT_EQ(mode_string(info->flags), "rw");
  EXPECT_EQ(flag_names(info->flags), "");
  auto eventfd = parse_fdinfo("pos:\t0\nflags:\t02004002\nmnt_id:\t16\nino:\t1057\neventfd-count:  0\n");
  ASSERT_TRUE(eventfd);
  EXPECT_EQ(flag_names(eventfd->flags), "cloexec,nonblock");
}

TEST(ParseFdinfo, MissingOrHostileFieldsFail) {
  EXPECT_FALSE(parse_fdinfo(""));
  EXPECT_FALSE(parse_fdinfo("pos:\t0\n"));                  // no flags
  EXPECT_FALSE(parse_fdinfo("flags:\t0100000\n"));          // no pos
  EXPECT_FALSE(parse_fdinfo("pos:\t-1\nflags:\t0\n"));      // negative
  EXPECT_FALSE(parse_fdinfo("pos:\t0\nflags:\t0989\n"));    // not octal
  EXPECT_FALSE(parse_fdinfo("pos:\t99999999999999999999999\nflags:\t0\n"));  // overflow
  auto rdonly = parse_fdinfo("pos:  7  \nflags: 0100000");  // spaces, no final newline
  ASSERT_TRUE(rdonly);
  EXPECT_EQ(rdonly->pos, 7u);
  EXPECT_EQ(mode_string(rdonly->flags), "r");
}

// ------------------------------------------------------ /proc/net/netlink ---

TEST(ParseProcNetlink, ProtocolByInode) {
  auto m = parse_proc_netlink(
      "sk               Eth Pid        Groups   Rmem     Wmem     Dump  Locks    Drops    Inode\n"
      "ffff8f0c0a1b2000 0   897        00000551 0        0        0     2        0        20671\n"
      "ffff8f0c0a1b4000 15  1          00000001 0        0        0     2        0        17003\n"
      "garbage line\n");
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m.at(20671), 0);
  EXPECT_EQ(netlink_protocol_name(m.at(20671)), "ROUTE");
  EXPECT_EQ(netlink_protocol_name(m.at(17003)), "KOBJECT_UEVENT");
  EXPECT_EQ(netlink_protocol_name(99), "99");
}

// ------------------------------------------------------------- unix_diag ---

// A unix_diag answer as the kernel sends it: header, message, attributes.
std::string unix_message(uint32_t seq, uint32_t inode, uint8_t state, const std::string& name, uint32_t peer) {
  std::string payload(sizeof(unix_diag_msg), '\0');
  unix_diag_msg msg{};
  msg.udiag_family = AF_UNIX;
  msg.udiag_type = SOCK_STREAM;
  msg.udiag_state = state;
  msg.udiag_ino = inode;
  std::memcpy(payload.data(), &msg, sizeof msg);
  auto attr = [&](uint16_t type, const void* data, size_t len) {
    nlattr a{static_cast<uint16_t>(sizeof(nlattr) + len), type};
    payload.append(reinterpret_cast<const char*>(&a), sizeof a);
    payload.append(static_cast<const char*>(data), len);
    payload.append(NLA_ALIGN(a.nla_len) - a.nla_len, '\0');
  };
  if (!name.empty()) attr(UNIX_DIAG_NAME, name.data(), name.size());
  if (peer != 0) attr(UNIX_DIAG_PEER, &peer, sizeof peer);
  unix_diag_rqlen q{3, 128};
  attr(UNIX_DIAG_RQLEN, &q, sizeof q);
  nlmsghdr h{};
  h.nlmsg_len = static_cast<uint32_t>(NLMSG_HDRLEN + payload.size());
  h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  h.nlmsg_seq = seq;
  std::string out(reinterpret_cast<const char*>(&h), sizeof h);
  out += payload;
  out.append(NLMSG_ALIGN(h.nlmsg_len) - h.nlmsg_len, '\0');
  return out;
}

std::string done_message(uint32_t seq) {
  nlmsghdr h{};
  h.nlmsg_len = NLMSG_HDRLEN + sizeof(int);
  h.nlmsg_type = NLMSG_DONE;
  h.nlmsg_seq = seq;
  std::string out(reinterpret_cast<const char*>(&h), sizeof h);
  out.append(sizeof(int), '\0');
  return out;
}

TEST(ParseUnixDiag, PathPeerAndQueues) {
  std::string bytes = unix_message(7, 100, 1, "/run/app.sock", 101) +
                      unix_message(7, 102, 10, std::string("\0abstract", 9), 0) +
                      unix_message(8, 103, 1, "", 0) +  // another request's answer
                      done_message(7);
  std::vector<UnixSocket> out;
  auto batch = parse_unix_diag(bytes, 7, out);
  EXPECT_TRUE(batch.done);
  EXPECT_EQ(batch.error, 0);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].inode, 100u);
  EXPECT_EQ(out[0].peer, 101u);
  EXPECT_EQ(out[0].path, "/run/app.sock");
  EXPECT_EQ(unix_state_name(out[0].state), "CONNECTED");
  EXPECT_EQ(unix_type_name(out[0].type), "STREAM");
  EXPECT_TRUE(out[0].have_queues);
  EXPECT_EQ(out[0].rqueue, 3u);
  EXPECT_EQ(out[0].wqueue, 128u);
  EXPECT_EQ(out[1].path, "@abstract");
  EXPECT_EQ(unix_state_name(out[1].state), "LISTEN");
  EXPECT_EQ(out[1].peer, 0u);
}

TEST(ParseUnixDiag, TruncatedBufferIsAnError) {
  std::string bytes = unix_message(7, 100, 1, "/x", 101);
  bytes.resize(bytes.size() - 12);  // the header claims more than arrived
  std::vector<UnixSocket> out;
  auto batch = parse_unix_diag(bytes, 7, out);
  EXPECT_EQ(batch.error, EBADMSG);
  EXPECT_TRUE(out.empty());
}

TEST(ParseUnixDiag, AttributeLongerThanMessageIsDropped) {
  std::string bytes = unix_message(7, 100, 1, "/x", 0);
  // Make the name attribute claim 200 bytes: it must not be read past the message.
  size_t attr_at = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(unix_diag_msg));
  uint16_t bad = 200;
  std::memcpy(bytes.data() + attr_at, &bad, sizeof bad);
  std::vector<UnixSocket> out;
  parse_unix_diag(bytes, 7, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].path, "");
}

TEST(ParseUnixDiag, AckEndsAnExactLookup) {
  nlmsghdr h{};
  h.nlmsg_len = NLMSG_HDRLEN + sizeof(nlmsgerr);
  h.nlmsg_type = NLMSG_ERROR;
  h.nlmsg_seq = 7;
  std::string ack(reinterpret_cast<const char*>(&h), sizeof h);
  nlmsgerr err{};
  err.error = 0;
  ack.append(reinterpret_cast<const char*>(&err), sizeof err);
  std::vector<UnixSocket> out;
  EXPECT_TRUE(parse_unix_diag(unix_message(7, 5, 1, "", 6) + ack, 7, out).done);
  ASSERT_EQ(out.size(), 1u);
  err.error = -ENOENT;
  std::memcpy(ack.data() + sizeof h, &err, sizeof err);
  out.clear();
  EXPECT_EQ(parse_unix_diag(ack, 7, out).error, ENOENT);
}

TEST(InetStateName, AsSsPrintsThem) {
  EXPECT_EQ(inet_state_name(1), "ESTAB");
  EXPECT_EQ(inet_state_name(10), "LISTEN");
  EXPECT_EQ(inet_state_name(6), "TIME-WAIT");
  EXPECT_EQ(inet_state_name(200), "?");
}

// -------------------------------------------------- fd table, fake tree ---

TEST(ReadFdTable, FakeTreeLinksAndFdinfo) {
  FakeProcfs fake;
  fake.add(FakeProcess{.pid = 10, .comm = "holder"});
  fake.link(10, "cwd", "/srv");
  fake.link(10, "fd/3", "/var/log/app.log (deleted)");
  fake.link(10, "fd/4", "pipe:[777]");
  fake.link(10, "fd/5", "anon_inode:[eventfd]");
  fake.link(10, "fd/12", "/memfd:cache (deleted)");
  fake.write(10, "fdinfo/3", "pos:\t42\nflags:\t02102001\nmnt_id:\t29\n");
  fake.write(10, "fdinfo/4", "pos:\t0\nflags:\t00\nmnt_id:\t15\n");
  UniqueFd dir(::open((fake.root() + "/10").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(dir.valid());
  FdTable t = read_fd_table(dir.get(), false);
  EXPECT_FALSE(t.gone);
  EXPECT_TRUE(t.anything_read);
  ASSERT_EQ(t.files.size(), 5u);  // cwd, then fds by number (exe and root are missing)
  EXPECT_EQ(t.files[0].label, "cwd");
  EXPECT_EQ(t.files[1].label, "3");
  EXPECT_TRUE(t.files[1].deleted);
  EXPECT_EQ(t.files[1].path, "/var/log/app.log");
  ASSERT_TRUE(t.files[1].info);
  EXPECT_EQ(t.files[1].info->pos, 42u);
  EXPECT_EQ(t.files[2].type, "FIFO");
  EXPECT_EQ(t.files[2].inode, 777u);
  EXPECT_EQ(t.files[3].type, "eventfd");
  EXPECT_FALSE(t.files[3].info);  // no fdinfo file: unknown, not invented
  EXPECT_EQ(t.files[4].label, "12");
  EXPECT_EQ(t.files[4].type, "memfd");
}

TEST(ReadFdTable, MissingFdDirectoryMeansGone) {
  FakeProcfs fake;
  fake.add(FakeProcess{.pid = 10});
  fake.link(10, "cwd", "/");
  std::filesystem::remove_all(fake.root() + "/10/fd");
  UniqueFd dir(::open((fake.root() + "/10").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  FdTable t = read_fd_table(dir.get(), false);
  EXPECT_TRUE(t.gone);
}

TEST(ReadFdTable, ProcessThatExitsWhileItsDirectoryIsHeld) {
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::pause();
    ::_exit(0);
  }
  std::string dir_path = "/proc/" + std::to_string(child);
  UniqueFd dir(::open(dir_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(dir.valid());
  FdTable alive = read_fd_table(dir.get(), false);
  EXPECT_FALSE(alive.gone);
  EXPECT_FALSE(alive.files.empty());
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  FdTable t = read_fd_table(dir.get(), false);
  EXPECT_TRUE(t.gone);
}

TEST(FindHolders, EveryFdOfEveryProcessWithTheInode) {
  FakeProcfs fake;
  fake.add(FakeProcess{.pid = 10});
  fake.add(FakeProcess{.pid = 20, .ppid = 10});
  fake.add(FakeProcess{.pid = 30, .ppid = 10});
  fake.link(10, "fd/4", "pipe:[777]");
  fake.link(10, "fd/5", "socket:[777]");  // same number, other filesystem
  fake.link(20, "fd/0", "pipe:[777]");
  fake.write(20, "fdinfo/0", "pos:\t0\nflags:\t0100000\n");
  fake.link(20, "fd/1", "pipe:[778]");
  fake.link(30, "fd/9", "socket:[900]");
  auto reader = ProcReader::open(fake.root());
  ASSERT_TRUE(reader);
  auto holders = find_holders(*reader, {777}, {900});
  ASSERT_EQ(holders.size(), 3u);
  EXPECT_EQ(holders[0].pid, 10);
  EXPECT_EQ(holders[0].fd, 4);
  EXPECT_TRUE(holders[0].pipe);
  EXPECT_EQ(holders[0].mode, "");  // no fdinfo: not guessed
  EXPECT_EQ(holders[1].pid, 20);
  EXPECT_EQ(holders[1].fd, 0);
  EXPECT_EQ(holders[1].mode, "r");
  EXPECT_EQ(holders[2].pid, 30);
  EXPECT_FALSE(holders[2].pipe);
  EXPECT_EQ(holders[2].inode, 900u);
}

}  // namespace
}  // namespace lineage::procfs

namespace lineage::cli {
namespace {

TEST(FileTypes, UnknownTypeListsTheValidOnes) {
  auto bad = parse_file_types("reg,socks");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, ErrorKind::kUsage);
  EXPECT_NE(bad.error().message.find("'socks'"), std::string::npos);
  EXPECT_NE(bad.error().message.find("eventfd"), std::string::npos);
  EXPECT_FALSE(parse_file_types(","));
  auto ok = parse_file_types("REG,Unix,,tcp");
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, (std::vector<std::string>{"reg", "unix", "tcp"}));
}

output::FileRow row(std::string type, procfs::LinkKind kind, std::string proto = "") {
  output::FileRow r;
  r.file.type = std::move(type);
  r.file.kind = kind;
  r.file.sock_proto = proto;
  if (!proto.empty()) r.socket = output::SocketInfo{.protocol = proto};
  return r;
}

TEST(FileTypes, GroupsMatchTheirMembers) {
  auto tcp6 = row("IPv6", procfs::LinkKind::kSocket, "TCP");
  EXPECT_TRUE(matches_file_type(tcp6, {"tcp"}));
  EXPECT_TRUE(matches_file_type(tcp6, {"inet"}));
  EXPECT_TRUE(matches_file_type(tcp6, {"ipv6"}));
  EXPECT_TRUE(matches_file_type(tcp6, {"sock"}));
  EXPECT_FALSE(matches_file_type(tcp6, {"udp", "unix"}));
  auto pipe = row("FIFO", procfs::LinkKind::kPipe);
  EXPECT_TRUE(matches_file_type(pipe, {"pipe"}));
  EXPECT_TRUE(matches_file_type(pipe, {"fifo"}));
  auto named = row("FIFO", procfs::LinkKind::kPath);
  EXPECT_FALSE(matches_file_type(named, {"pipe"}));
  EXPECT_TRUE(matches_file_type(row("eventfd", procfs::LinkKind::kAnon), {"anon"}));
  EXPECT_TRUE(matches_file_type(row("bpf-map", procfs::LinkKind::kAnon), {"bpf"}));
  EXPECT_FALSE(matches_file_type(row("REG", procfs::LinkKind::kPath), {"anon", "dir"}));
}

output::FilesReport sample_report() {
  output::FilesReport r;
  r.pid = 42;
  r.comm = "app\x1b[31m";
  r.user = "alice";
  r.uid = 1000;
  output::FileRow del;
  del.file.label = "3";
  del.file.fd = 3;
  del.file.type = "REG";
  del.file.path = "/tmp/evil\nname";
  del.file.deleted = true;
  del.file.inode = 99;
  del.file.dev_major = 8;
  del.file.dev_minor = 1;
  del.file.size = 10;
  del.file.info = procfs::FdInfo{5, 02102001, 29};
  r.rows.push_back(del);
  output::FileRow pipe;
  pipe.file.label = "4";
  pipe.file.fd = 4;
  pipe.file.type = "FIFO";
  pipe.file.kind = procfs::LinkKind::kPipe;
  pipe.file.path = "pipe:[777]";
  pipe.file.inode = 777;
  pipe.file.info = procfs::FdInfo{0, 01, 15};
  pipe.peers_searched = true;
  pipe.peers.push_back({43, "cat", 0, "r", "sshd session of alice started bash, which started cat"});
  r.rows.push_back(pipe);
  r.not_readable = {"fd 9"};
  r.peer_scan = true;
  return r;
}

TEST(FilesText, TableWithPeersEscaped) {
  std::string text = output::render_files_text(sample_report(), false, 0);
  EXPECT_NE(text.find("app\\e[31m (pid 42)  user alice"), std::string::npos) << text;
  EXPECT_NE(text.find("/tmp/evil\\nname (deleted)"), std::string::npos) << text;
  EXPECT_NE(text.find("append,cloexec"), std::string::npos) << text;
  EXPECT_NE(text.find("-> cat (pid 43) fd 0 r: sshd session of alice"), std::string::npos) << text;
  EXPECT_NE(text.find("Not readable (permission denied): fd 9"), std::string::npos) << text;
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
}

TEST(FilesText, ManyHoldersAreCounted) {
  output::FilesReport r = sample_report();
  output::FileRow& pipe = r.rows[1];
  pipe.peers.clear();
  for (int i = 0; i < 20; ++i) pipe.peers.push_back({100 + i, "worker", 251, "w", ""});
  pipe.peers_omitted = 5;
  std::string text = output::render_files_text(r, false, 0);
  EXPECT_NE(text.find("worker (pid 115) fd 251 w"), std::string::npos) << text;
  EXPECT_EQ(text.find("worker (pid 116)"), std::string::npos) << text;
  EXPECT_NE(text.find("-> and 9 more (--json lists them)"), std::string::npos) << text;
  pipe.peers.clear();
  pipe.peers_omitted = 0;
  r.peer_scan_denied = 7;
  text = output::render_files_text(r, false, 0);
  EXPECT_NE(text.find("other end: not found (7 processes' fds not readable)"), std::string::npos) << text;
}

TEST(FilesJson, Schema) {
  auto j = output::files_json(sample_report());
  EXPECT_EQ(j["schema"], "lineage.files/v1");
  EXPECT_EQ(j["process"]["pid"], 42);
  ASSERT_EQ(j["files"].size(), 2u);
  EXPECT_EQ(j["files"][0]["fd"], 3);
  EXPECT_EQ(j["files"][0]["mode"], "w");
  EXPECT_EQ(j["files"][0]["flags"], output::Json::array({"append", "cloexec"}));
  EXPECT_EQ(j["files"][0]["deleted"], true);
  EXPECT_EQ(j["files"][0]["device"], "8:1");
  EXPECT_EQ(j["files"][1]["peers"][0]["pid"], 43);
  EXPECT_EQ(j["files"][1]["peers"][0]["mode"], "r");
  EXPECT_FALSE(j["files"][0].contains("peers"));
  EXPECT_EQ(j["not_readable"][0], "fd 9");
}

}  // namespace
}  // namespace lineage::cli
