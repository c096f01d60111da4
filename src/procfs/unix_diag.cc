#include "procfs/unix_diag.h"

#include <unordered_set>
#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "core/unique_fd.h"

namespace lineage::procfs {
namespace {

constexpr size_t kNetlinkBuffer = 64 * 1024;
constexpr uint32_t kSeq = 0x66696c65;  // "file"

Error netlink_error(const char* what, int err) {
  return Error{ErrorKind::kInternal, std::string("sock_diag: ") + what + ": " + std::strerror(err)};
}

UniqueFd open_diag_socket() {
  UniqueFd fd(::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
  if (fd.valid()) {
    timeval timeout{2, 0};  // the kernel answers at once; never hang on it
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  }
  return fd;
}

bool send_all(int fd, const void* msg, size_t len) {
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  for (;;) {
    ssize_t n = ::sendto(fd, msg, len, 0, reinterpret_cast<const sockaddr*>(&kernel), sizeof kernel);
    if (n == static_cast<ssize_t>(len)) return true;
    if (n < 0 && errno == EINTR) continue;
    return false;
  }
}

// Receives until parse says done or fails; parse(bytes) -> SockDiagBatch.
template <class Parse>
int receive(int fd, Parse parse) {
  std::vector<char> buf(kNetlinkBuffer);
  for (;;) {
    sockaddr_nl from{};
    iovec iov{buf.data(), buf.size()};
    msghdr mh{};
    mh.msg_name = &from;
    mh.msg_namelen = sizeof from;
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    ssize_t n = ::recvmsg(fd, &mh, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) return EPIPE;
    if (mh.msg_flags & MSG_TRUNC) return EMSGSIZE;
    if (from.nl_pid != 0) continue;  // only the kernel speaks here
    SockDiagBatch batch = parse(std::string_view(buf.data(), static_cast<size_t>(n)));
    if (batch.error != 0) return batch.error;
    if (batch.done) return 0;
  }
}

// Walks the netlink messages of one buffer: on_message(payload, len) for
// each SOCK_DIAG_BY_FAMILY answer of this seq. NLMSG_DONE and an ack
// (NLMSG_ERROR 0) end the answer.
template <class OnMessage>
SockDiagBatch walk(std::string_view bytes, uint32_t seq, OnMessage on_message) {
  const auto* buf = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t len = bytes.size();
  for (size_t off = 0; off < len && len - off >= sizeof(nlmsghdr);) {
    nlmsghdr h;
    std::memcpy(&h, buf + off, sizeof h);
    if (h.nlmsg_len < NLMSG_HDRLEN || h.nlmsg_len > len - off) return {false, EBADMSG};
    const unsigned char* payload = buf + off + NLMSG_HDRLEN;
    size_t payload_len = h.nlmsg_len - NLMSG_HDRLEN;
    off += NLMSG_ALIGN(h.nlmsg_len);
    if (h.nlmsg_seq != seq) continue;
    if (h.nlmsg_type == NLMSG_DONE) return {true, 0};
    if (h.nlmsg_type == NLMSG_ERROR) {
      int err = 0;
      if (payload_len < sizeof err) return {false, EBADMSG};
      std::memcpy(&err, payload, sizeof err);
      if (err == 0) return {true, 0};
      return {false, err < 0 && err > -4096 ? -err : EBADMSG};
    }
    if (h.nlmsg_type == SOCK_DIAG_BY_FAMILY) on_message(payload, payload_len);
  }
  return {false, 0};
}

// Calls fn(type, data, len) for each attribute after a fixed header.
template <class Fn>
void for_each_attr(const unsigned char* data, size_t len, size_t header, Fn fn) {
  size_t off = NLMSG_ALIGN(header);
  while (off < len && len - off >= sizeof(nlattr)) {
    nlattr attr;
    std::memcpy(&attr, data + off, sizeof attr);
    if (attr.nla_len < sizeof attr || attr.nla_len > len - off) return;
    fn(attr.nla_type & NLA_TYPE_MASK, data + off + sizeof attr, attr.nla_len - sizeof attr);
    off += NLA_ALIGN(attr.nla_len);
  }
}

void parse_unix_message(const unsigned char* data, size_t len, std::vector<UnixSocket>& out) {
  unix_diag_msg msg;
  if (len < sizeof msg) return;
  std::memcpy(&msg, data, sizeof msg);
  if (msg.udiag_family != AF_UNIX) return;
  UnixSocket s;
  s.inode = msg.udiag_ino;
  s.type = msg.udiag_type;
  s.state = msg.udiag_state;
  for_each_attr(data, len, sizeof msg, [&](int type, const unsigned char* value, size_t n) {
    if (type == UNIX_DIAG_NAME && n > 0) {
      std::string name(reinterpret_cast<const char*>(value), n);
      if (name[0] == '\0') {
        name[0] = '@';  // abstract: no file, a name in the namespace
      } else {
        name.resize(::strnlen(name.c_str(), name.size()));
      }
      s.path = std::move(name);
    } else if (type == UNIX_DIAG_PEER && n >= sizeof(uint32_t)) {
      uint32_t peer = 0;
      std::memcpy(&peer, value, sizeof peer);
      s.peer = peer;
    } else if (type == UNIX_DIAG_RQLEN && n >= sizeof(unix_diag_rqlen)) {
      unix_diag_rqlen q;
      std::memcpy(&q, value, sizeof q);
      s.rqueue = q.udiag_rqueue;
      s.wqueue = q.udiag_wqueue;
      s.have_queues = true;
    }
  });
  out.push_back(std::move(s));
}

int family_of(Protocol p) { return is_ipv6(p) ? AF_INET6 : AF_INET; }

std::string format_address(const void* bytes, bool ipv6) {
  char text[INET6_ADDRSTRLEN];
  if (::inet_ntop(ipv6 ? AF_INET6 : AF_INET, bytes, text, sizeof text) == nullptr) return "?";
  return text;
}

void parse_inet_message(const unsigned char* data, size_t len, Protocol proto, std::vector<InetSocket>& out) {
  inet_diag_msg msg;
  if (len < sizeof msg) return;
  std::memcpy(&msg, data, sizeof msg);
  if (msg.idiag_family != family_of(proto)) return;
  InetSocket s;
  SocketEntry& e = s.entry;
  e.proto = proto;
  e.local_address = format_address(msg.id.idiag_src, is_ipv6(proto));
  e.remote_address = format_address(msg.id.idiag_dst, is_ipv6(proto));
  e.local_port = ntohs(msg.id.idiag_sport);
  e.remote_port = ntohs(msg.id.idiag_dport);
  e.state = msg.idiag_state;
  e.listening = is_tcp(proto) ? e.state == kTcpListen : (e.state == kTcpClose && e.remote_port == 0);
  e.uid = msg.idiag_uid;
  e.inode = msg.idiag_inode;
  s.rqueue = msg.idiag_rqueue;
  s.wqueue = msg.idiag_wqueue;
  out.push_back(std::move(s));
}

}  // namespace

std::string_view unix_type_name(uint8_t type) {
  switch (type) {
    case SOCK_STREAM: return "STREAM";
    case SOCK_DGRAM: return "DGRAM";
    case SOCK_SEQPACKET: return "SEQPACKET";
  }
  return "?";
}

std::string_view unix_state_name(uint8_t state) {
  switch (state) {
    case TCP_ESTABLISHED: return "CONNECTED";
    case TCP_LISTEN: return "LISTEN";
    case TCP_CLOSE: return "UNCONNECTED";
    case TCP_SYN_SENT: return "CONNECTING";
  }
  return "?";
}

std::string_view inet_state_name(uint8_t state) {
  static constexpr std::string_view kNames[] = {"?",         "ESTAB",   "SYN-SENT",   "SYN-RECV",
                                                "FIN-WAIT-1", "FIN-WAIT-2", "TIME-WAIT", "UNCONN",
                                                "CLOSE-WAIT", "LAST-ACK",   "LISTEN",    "CLOSING",
                                                "NEW-SYN-RECV"};
  return state < std::size(kNames) ? kNames[state] : "?";
}

SockDiagBatch parse_unix_diag(std::string_view bytes, uint32_t seq, std::vector<UnixSocket>& out) {
  return walk(bytes, seq, [&](const unsigned char* p, size_t n) { parse_unix_message(p, n, out); });
}

SockDiagBatch parse_inet_diag(std::string_view bytes, Protocol proto, uint32_t seq, std::vector<InetSocket>& out) {
  return walk(bytes, seq, [&](const unsigned char* p, size_t n) { parse_inet_message(p, n, proto, out); });
}

Result<std::vector<UnixSocket>> query_unix_sockets(const std::vector<uint64_t>& inodes) {
  std::vector<UnixSocket> out;
  if (inodes.empty()) return out;
  UniqueFd fd = open_diag_socket();
  if (!fd.valid()) return netlink_error("socket", errno);
  struct {
    nlmsghdr nlh;
    unix_diag_req req;
  } msg;
  auto request = [&](uint32_t inode, bool dump) {
    std::memset(&msg, 0, sizeof msg);
    msg.nlh.nlmsg_len = sizeof msg;
    msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    msg.nlh.nlmsg_flags = NLM_F_REQUEST | (dump ? NLM_F_DUMP : NLM_F_ACK);
    msg.nlh.nlmsg_seq = kSeq;
    msg.req.sdiag_family = AF_UNIX;
    msg.req.udiag_states = ~0u;
    msg.req.udiag_ino = inode;
    msg.req.udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_PEER | UDIAG_SHOW_RQLEN;
    msg.req.udiag_cookie[0] = msg.req.udiag_cookie[1] = INET_DIAG_NOCOOKIE;  // any socket of this inode
    return send_all(fd.get(), &msg, sizeof msg);
  };
  auto parse = [&](std::string_view bytes) { return parse_unix_diag(bytes, kSeq, out); };
  // A few sockets: one exact lookup each; many: one dump of the namespace.
  constexpr size_t kExactMax = 32;
  if (inodes.size() <= kExactMax) {
    for (uint64_t inode : inodes) {
      if (inode > UINT32_MAX) continue;  // unix_diag inodes are 32 bits
      if (!request(static_cast<uint32_t>(inode), false)) return netlink_error("send", errno);
      int err = receive(fd.get(), parse);
      if (err != 0 && err != ENOENT) return netlink_error("lookup", err);  // ENOENT: closed meanwhile
    }
    return out;
  }
  if (!request(0, true)) return netlink_error("send", errno);
  int err = receive(fd.get(), parse);
  if (err != 0) return netlink_error("dump", err);
  std::vector<UnixSocket> wanted;
  const std::unordered_set<uint64_t> asked(inodes.begin(), inodes.end());
  for (auto& s : out) {
    if (asked.count(s.inode) != 0) wanted.push_back(std::move(s));
  }
  return wanted;
}

Result<std::vector<InetSocket>> list_inet_sockets(Protocol proto) {
  UniqueFd fd = open_diag_socket();
  if (!fd.valid()) return netlink_error("socket", errno);
  struct {
    nlmsghdr nlh;
    inet_diag_req_v2 req;
  } msg;
  std::memset(&msg, 0, sizeof msg);
  msg.nlh.nlmsg_len = sizeof msg;
  msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  msg.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  msg.nlh.nlmsg_seq = kSeq;
  msg.req.sdiag_family = static_cast<uint8_t>(family_of(proto));
  msg.req.sdiag_protocol = static_cast<uint8_t>(is_tcp(proto) ? IPPROTO_TCP : IPPROTO_UDP);
  msg.req.idiag_states = ~0u;
  if (!send_all(fd.get(), &msg, sizeof msg)) return netlink_error("send", errno);
  std::vector<InetSocket> out;
  int err = receive(fd.get(), [&](std::string_view bytes) { return parse_inet_diag(bytes, proto, kSeq, out); });
  if (err != 0) return netlink_error("dump", err);
  return out;
}

std::unordered_map<uint64_t, int> parse_proc_netlink(std::string_view text) {
  // "sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode"
  std::unordered_map<uint64_t, int> out;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    std::string_view f[10];
    size_t n = 0;
    while (n < 10) {
      size_t start = line.find_first_not_of(' ');
      if (start == std::string_view::npos) break;
      line.remove_prefix(start);
      size_t end = line.find(' ');
      f[n++] = line.substr(0, end);
      line.remove_prefix(end == std::string_view::npos ? line.size() : end);
    }
    if (n < 10) continue;
    int proto = 0;
    uint64_t inode = 0;
    auto [p1, e1] = std::from_chars(f[1].data(), f[1].data() + f[1].size(), proto);
    auto [p2, e2] = std::from_chars(f[9].data(), f[9].data() + f[9].size(), inode);
    if (e1 != std::errc() || p1 != f[1].data() + f[1].size() || e2 != std::errc() ||
        p2 != f[9].data() + f[9].size()) {
      continue;  // the header line
    }
    out[inode] = proto;
  }
  return out;
}

std::string netlink_protocol_name(int protocol) {
  static constexpr const char* kNames[] = {
      "ROUTE", "UNUSED", "USERSOCK", "FIREWALL", "SOCK_DIAG", "NFLOG", "XFRM", "SELINUX",
      "ISCSI", "AUDIT", "FIB_LOOKUP", "CONNECTOR", "NETFILTER", "IP6_FW", "DNRTMSG", "KOBJECT_UEVENT",
      "GENERIC", "DM", "SCSITRANSPORT", "ENCRYPTFS", "RDMA", "CRYPTO", "SMC"};
  if (protocol >= 0 && static_cast<size_t>(protocol) < std::size(kNames)) return kNames[protocol];
  return std::to_string(protocol);
}

}  // namespace lineage::procfs
