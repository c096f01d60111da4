#include "procfs/net.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "procfs/pid_scan.h"
#include "procfs/unix_diag.h"

namespace lineage::procfs {
namespace {

using scan::count;
using scan::for_each_entry;
using scan::for_pids_parallel;
using scan::open_root;

// ---------------------------------------------------------------- text ---

std::string_view next_token(std::string_view& rest) {
  size_t start = rest.find_first_not_of(" \t");
  if (start == std::string_view::npos) {
    rest = {};
    return {};
  }
  rest.remove_prefix(start);
  size_t end = rest.find_first_of(" \t");
  std::string_view token = rest.substr(0, end);
  rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
  return token;
}

template <class T>
bool to_number(std::string_view s, T& out, int base = 10) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out, base);
  return ec == std::errc() && ptr == s.data() + s.size();
}

// Exactly `digits` hex digits (from_chars alone would take a sign or fewer).
bool fixed_hex(std::string_view s, size_t digits, uint32_t& out) {
  if (s.size() != digits) return false;
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return to_number(s, out, 16);
}

std::string format_address(const unsigned char* bytes, bool ipv6) {
  char text[INET6_ADDRSTRLEN];
  if (::inet_ntop(ipv6 ? AF_INET6 : AF_INET, bytes, text, sizeof text) == nullptr) return "?";
  return text;
}

// "0100007F:0050": the kernel prints each 32-bit word of the (network
// order) address with %08X, i.e. as the host reads those four bytes, so
// storing the parsed word in host order gives back the original bytes.
bool parse_endpoint(std::string_view text, bool ipv6, std::string& address, uint16_t& port) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) return false;
  std::string_view hex = text.substr(0, colon);
  size_t words = ipv6 ? 4 : 1;
  if (hex.size() != words * 8) return false;
  unsigned char bytes[16];
  for (size_t i = 0; i < words; ++i) {
    uint32_t word = 0;
    if (!fixed_hex(hex.substr(i * 8, 8), 8, word)) return false;
    std::memcpy(bytes + i * 4, &word, 4);
  }
  uint32_t p = 0;
  if (!fixed_hex(text.substr(colon + 1), 4, p)) return false;
  address = format_address(bytes, ipv6);
  port = static_cast<uint16_t>(p);
  return true;
}

bool is_listening(Protocol proto, uint8_t state, const std::string& remote, uint16_t remote_port) {
  if (is_tcp(proto)) return state == kTcpListen;
  return state == kTcpClose && remote_port == 0 && (remote == "0.0.0.0" || remote == "::");
}

std::optional<SocketEntry> parse_proc_net_line(std::string_view line, Protocol proto) {
  // "  sl  local rem st tx:rx tr:when retrnsmt uid timeout inode ..."
  std::string_view f[10];
  for (auto& field : f) {
    field = next_token(line);
    if (field.empty()) return std::nullopt;
  }
  if (f[0].back() != ':') return std::nullopt;  // also rejects the header line
  SocketEntry e;
  e.proto = proto;
  uint32_t state = 0;
  if (!parse_endpoint(f[1], is_ipv6(proto), e.local_address, e.local_port) ||
      !parse_endpoint(f[2], is_ipv6(proto), e.remote_address, e.remote_port) ||
      !fixed_hex(f[3], 2, state) || !to_number(f[7], e.uid) || !to_number(f[9], e.inode)) {
    return std::nullopt;
  }
  e.state = static_cast<uint8_t>(state);
  e.listening = is_listening(proto, e.state, e.remote_address, e.remote_port);
  return e;
}

void parse_lines(std::string_view text, Protocol proto, std::optional<uint16_t> port,
                 std::vector<SocketEntry>& out, PortEnd end = PortEnd::kLocal) {
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    auto e = parse_proc_net_line(line, proto);
    if (e && (!port || port_matches(*e, *port, end))) out.push_back(std::move(*e));
  }
}

// Streams fd in chunks and calls on_line for every line (without its '\n';
// the last one may lack it). Lines here are ~150 bytes: a "line" longer
// than a chunk is not one the kernel writes and is dropped whole, so the
// buffer never grows past two chunks. on_line returns false to stop.
// Returns 0, or the errno of a failed read.
template <class OnLine>
int for_each_line(int fd, std::string& buf, OnLine&& on_line) {
  constexpr size_t kChunk = 64 * 1024;
  buf.clear();
  bool skipping = false;  // inside an overlong line
  for (;;) {
    size_t used = buf.size();
    buf.resize(used + kChunk);
    ssize_t n = ::read(fd, buf.data() + used, kChunk);
    if (n < 0) {
      int err = errno;
      buf.resize(used);
      if (err == EINTR) continue;
      return err;
    }
    buf.resize(used + static_cast<size_t>(n));
    std::string_view text(buf);
    size_t consumed = 0;
    for (size_t nl; (nl = text.find('\n', consumed)) != std::string_view::npos; consumed = nl + 1) {
      if (skipping) {
        skipping = false;  // the end of the overlong line
        continue;
      }
      if (!on_line(text.substr(consumed, nl - consumed))) return 0;
    }
    if (n == 0) {
      if (!skipping && consumed < text.size()) on_line(text.substr(consumed));
      return 0;
    }
    buf.erase(0, consumed);
    if (buf.size() > kChunk) {
      buf.clear();
      skipping = true;
    }
  }
}

// ------------------------------------------------------------- netlink ---

constexpr size_t kNetlinkBuffer = 64 * 1024;  // one recvmsg; the kernel fills ~32 KiB

int family_of(Protocol p) { return is_ipv6(p) ? AF_INET6 : AF_INET; }
int ip_protocol_of(Protocol p) { return is_tcp(p) ? IPPROTO_TCP : IPPROTO_UDP; }

Error netlink_error(const char* what, int err) {
  return Error{ErrorKind::kInternal, std::string("sock_diag: ") + what + ": " + std::strerror(err)};
}

// One sock_diag answer. Every length comes from the wire and is checked
// against what was actually received before anything is read.
std::optional<SocketEntry> parse_diag_message(const unsigned char* data, size_t len,
                                              Protocol proto) {
  inet_diag_msg msg;
  if (len < sizeof msg) return std::nullopt;
  std::memcpy(&msg, data, sizeof msg);
  if (msg.idiag_family != family_of(proto)) return std::nullopt;
  SocketEntry e;
  e.proto = proto;
  bool ipv6 = is_ipv6(proto);
  e.local_address = format_address(reinterpret_cast<const unsigned char*>(msg.id.idiag_src), ipv6);
  e.remote_address = format_address(reinterpret_cast<const unsigned char*>(msg.id.idiag_dst), ipv6);
  e.local_port = ntohs(msg.id.idiag_sport);
  e.remote_port = ntohs(msg.id.idiag_dport);
  e.state = msg.idiag_state;
  e.listening = is_listening(proto, e.state, e.remote_address, e.remote_port);
  e.uid = msg.idiag_uid;
  e.inode = msg.idiag_inode;

  size_t off = NLMSG_ALIGN(sizeof msg);
  while (off < len && len - off >= sizeof(nlattr)) {
    nlattr attr;
    std::memcpy(&attr, data + off, sizeof attr);
    if (attr.nla_len < sizeof attr || attr.nla_len > len - off) break;
    if ((attr.nla_type & NLA_TYPE_MASK) == INET_DIAG_CGROUP_ID &&
        attr.nla_len >= sizeof attr + sizeof(uint64_t)) {
      std::memcpy(&e.cgroup_id, data + off + sizeof attr, sizeof(uint64_t));
    }
    off += NLA_ALIGN(attr.nla_len);
  }
  return e;
}

bool send_dump_request(int fd, Protocol proto, std::optional<uint16_t> port, uint32_t seq,
                       PortEnd end) {
  // Port filter: S_EQ compares the local port (host order) with the port in
  // the following op; match jumps past both ops (accept, len 0), no match
  // jumps 4 bytes beyond the end (reject). Either end (as ss compiles `sport
  // = P or dport = P`): a local match falls through to a JMP to the end, a
  // miss jumps to a D_EQ pair (the remote port) that decides as above. The
  // kernel's audit walks the "yes" jumps, so every op lies on that path.
  constexpr uint16_t kOp = sizeof(inet_diag_bc_op);
  struct {
    nlmsghdr nlh;
    inet_diag_req_v2 req;
    nlattr attr;
    inet_diag_bc_op ops[5];
  } msg;
  std::memset(&msg, 0, sizeof msg);
  size_t len = NLMSG_LENGTH(sizeof msg.req);
  if (port) {
    uint16_t ops_len = 2 * kOp;
    if (end == PortEnd::kEither) {
      ops_len = 5 * kOp;
      msg.ops[0] = {INET_DIAG_BC_S_EQ, 2 * kOp, 3 * kOp};
      msg.ops[1] = {0, 0, *port};
      msg.ops[2] = {INET_DIAG_BC_JMP, kOp, 3 * kOp};
      msg.ops[3] = {INET_DIAG_BC_D_EQ, 2 * kOp, 3 * kOp};
      msg.ops[4] = {0, 0, *port};
    } else {
      msg.ops[0] = {INET_DIAG_BC_S_EQ, 2 * kOp, 3 * kOp};
      msg.ops[1] = {0, 0, *port};
    }
    msg.attr.nla_type = INET_DIAG_REQ_BYTECODE;
    msg.attr.nla_len = static_cast<uint16_t>(sizeof msg.attr + ops_len);
    len = NLMSG_ALIGN(len) + NLA_ALIGN(msg.attr.nla_len);
  }
  msg.nlh.nlmsg_len = static_cast<uint32_t>(len);
  msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  msg.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  msg.nlh.nlmsg_seq = seq;
  msg.req.sdiag_family = static_cast<uint8_t>(family_of(proto));
  msg.req.sdiag_protocol = static_cast<uint8_t>(ip_protocol_of(proto));
  msg.req.idiag_states = ~0u;  // every state, as /proc/net lists them
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  for (;;) {
    ssize_t n = ::sendto(fd, &msg, len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel);
    if (n == static_cast<ssize_t>(len)) return true;
    if (n < 0 && errno == EINTR) continue;
    return false;
  }
}

// ------------------------------------------------------------ /proc scan ---

// "socket:[12345]" -> 12345.
std::optional<uint64_t> socket_inode(std::string_view link) {
  constexpr std::string_view kPrefix = "socket:[";
  if (link.size() < kPrefix.size() + 2 || link.substr(0, kPrefix.size()) != kPrefix ||
      link.back() != ']') {
    return std::nullopt;
  }
  uint64_t inode = 0;
  if (!to_number(link.substr(kPrefix.size(), link.size() - kPrefix.size() - 1), inode)) {
    return std::nullopt;
  }
  return inode;
}

// Calls fn(inode) for each socket fd in the fd directory fd_dir (relative
// to dirfd; repeats possible); fn returns false to stop. Returns the
// outcome of opening the fd dir.
template <class Fn>
ReadError for_each_socket_fd_in(int dirfd, const char* fd_dir, std::vector<char>& buf, Fn fn) {
  UniqueFd dir(::openat(dirfd, fd_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid()) return classify_errno(errno);
  for_each_entry(dir.get(), buf, [&](const char* fd_name) {
    char target[64];  // socket links are short; longer links are not sockets
    ssize_t n = ::readlinkat(dir.get(), fd_name, target, sizeof target);
    if (n <= 0 || n == static_cast<ssize_t>(sizeof target)) return true;
    auto inode = socket_inode(std::string_view(target, static_cast<size_t>(n)));
    return inode ? fn(*inode) : true;
  });
  return ReadError::kNone;
}

template <class Fn>
ReadError for_each_socket_fd(int root_fd, int32_t pid, std::vector<char>& buf, Fn fn) {
  char name[32];
  std::snprintf(name, sizeof name, "%d/fd", pid);
  return for_each_socket_fd_in(root_fd, name, buf, fn);
}

}  // namespace

// ============================================================ sockets ===

std::string_view protocol_name(Protocol proto) {
  switch (proto) {
    case Protocol::kTcp: return "tcp";
    case Protocol::kTcp6: return "tcp6";
    case Protocol::kUdp: return "udp";
    case Protocol::kUdp6: return "udp6";
  }
  return "?";
}

std::vector<SocketEntry> parse_proc_net(std::string_view text, Protocol proto) {
  std::vector<SocketEntry> out;
  parse_lines(text, proto, std::nullopt, out);
  return out;
}

bool port_matches(const SocketEntry& socket, uint16_t port, PortEnd end) {
  return socket.local_port == port || (end == PortEnd::kEither && socket.remote_port == port);
}

bool binds_all_interfaces(const SocketEntry& socket) {
  return socket.local_address == "0.0.0.0" || socket.local_address == "::";
}

Result<std::vector<SocketEntry>> list_sockets_netlink(Protocol proto,
                                                      std::optional<uint16_t> local_port,
                                                      PortEnd end) {
  UniqueFd fd(::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
  if (!fd.valid()) return netlink_error("socket", errno);
  timeval timeout{2, 0};  // the kernel answers at once; never hang on it
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  constexpr uint32_t kSeq = 0x6c6e6167;
  if (!send_dump_request(fd.get(), proto, local_port, kSeq, end)) return netlink_error("send", errno);

  std::vector<char> buf(kNetlinkBuffer);
  std::vector<SocketEntry> out;
  for (;;) {
    sockaddr_nl from{};
    iovec iov{buf.data(), buf.size()};
    msghdr mh{};
    mh.msg_name = &from;
    mh.msg_namelen = sizeof from;
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    ssize_t n = ::recvmsg(fd.get(), &mh, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return netlink_error("recv", errno);
    if (n == 0) return netlink_error("recv", EPIPE);
    if (mh.msg_flags & MSG_TRUNC) return netlink_error("recv", EMSGSIZE);
    if (from.nl_pid != 0) continue;  // only the kernel speaks here
    auto batch = parse_sock_diag(std::string_view(buf.data(), static_cast<size_t>(n)), proto, kSeq,
                                 local_port, out, end);
    if (batch.error != 0) return netlink_error("dump", batch.error);
    if (batch.done) return out;
  }
}

SockDiagBatch parse_sock_diag(std::string_view bytes, Protocol proto, uint32_t seq,
                              std::optional<uint16_t> local_port, std::vector<SocketEntry>& out,
                              PortEnd end) {
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
      if (payload_len >= sizeof err) std::memcpy(&err, payload, sizeof err);
      return {false, err < 0 && err > -4096 ? -err : EBADMSG};
    }
    if (h.nlmsg_type != SOCK_DIAG_BY_FAMILY) continue;
    auto e = parse_diag_message(payload, payload_len, proto);
    if (e && (!local_port || port_matches(*e, *local_port, end))) out.push_back(std::move(*e));
  }
  return {false, 0};
}

Result<std::vector<SocketEntry>> read_proc_net(const std::string& proc_root, Protocol proto,
                                               std::optional<uint16_t> local_port, PortEnd end) {
  std::string path = proc_root + "/net/" + std::string(protocol_name(proto));
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return Error{classify_errno(errno) == ReadError::kDenied ? ErrorKind::kPermission
                                                             : ErrorKind::kNotFound,
                 "cannot read " + path + ": " + std::strerror(errno)};
  }
  std::vector<SocketEntry> out;
  std::string buf;
  int err = for_each_line(fd.get(), buf, [&](std::string_view line) {
    parse_lines(line, proto, local_port, out, end);
    return true;
  });
  if (err != 0) return Error{ErrorKind::kInternal, "read " + path + ": " + std::strerror(err)};
  return out;
}

Result<std::vector<SocketEntry>> list_sockets(std::optional<uint16_t> local_port, PortEnd end) {
  std::vector<SocketEntry> all;
  std::string errors;
  bool any = false;
  for (Protocol p : {Protocol::kTcp, Protocol::kTcp6, Protocol::kUdp, Protocol::kUdp6}) {
    auto got = list_sockets_netlink(p, local_port, end);
    if (!got) got = read_proc_net("/proc", p, local_port, end);
    if (!got) {
      errors += (errors.empty() ? "" : "; ") + got.error().message;
      continue;
    }
    any = true;
    all.insert(all.end(), std::make_move_iterator(got->begin()),
               std::make_move_iterator(got->end()));
  }
  if (!any) return Error{ErrorKind::kInternal, "cannot list sockets: " + errors};
  return all;
}

// ============================================================== owners ===

std::vector<SocketOwner> find_socket_owners(const ProcReader& reader,
                                            const std::vector<SocketEntry>& sockets,
                                            ScanStats* stats) {
  // inode -> indices into sockets (one inode can be listed twice, e.g. a
  // caller that concatenated two listings).
  const auto wanted = [&] {
    std::unordered_map<uint64_t, std::vector<size_t>> m;
    for (size_t i = 0; i < sockets.size(); ++i) {
      if (sockets[i].inode != 0) m[sockets[i].inode].push_back(i);
    }
    return m;
  }();
  if (stats) *stats = {};
  UniqueFd root = open_root(reader);
  if (wanted.empty() || !root.valid()) return {};
  // A port's few sockets: once a process has shown them all, its other fds
  // cannot add any. For many sockets the per-fd check costs more than it saves.
  constexpr size_t kEarlyStopMax = 64;
  const bool early_stop = wanted.size() <= kEarlyStopMax;

  struct Hit {
    int32_t pid;
    size_t index;
  };
  struct Part {
    std::vector<Hit> hits;
    ScanStats stats;
    std::vector<char> buf = std::vector<char>(32 * 1024);
    std::vector<uint64_t> found;  // wanted inodes held by the current process
  };
  auto parts = for_pids_parallel<Part>(reader.list_pids(), [&](Part& part, int32_t pid) {
    part.found.clear();
    ReadError err = for_each_socket_fd(root.get(), pid, part.buf, [&](uint64_t inode) {
      if (wanted.find(inode) == wanted.end()) return true;
      if (!early_stop) {
        part.found.push_back(inode);
        return true;
      }
      if (std::find(part.found.begin(), part.found.end(), inode) == part.found.end()) {
        part.found.push_back(inode);
      }
      return part.found.size() < wanted.size();
    });
    count(part.stats, err);
    // One owner entry per (process, socket), however many fds hold it.
    std::sort(part.found.begin(), part.found.end());
    part.found.erase(std::unique(part.found.begin(), part.found.end()), part.found.end());
    for (uint64_t inode : part.found) {
      for (size_t index : wanted.at(inode)) part.hits.push_back({pid, index});
    }
  });

  std::vector<Hit> hits;
  for (auto& part : parts) {
    hits.insert(hits.end(), part.hits.begin(), part.hits.end());
    if (stats) {
      stats->vanished += part.stats.vanished;
      stats->denied += part.stats.denied;
    }
  }
  std::sort(hits.begin(), hits.end(), [&](const Hit& a, const Hit& b) {
    bool la = sockets[a.index].listening, lb = sockets[b.index].listening;
    if (la != lb) return la;
    if (a.pid != b.pid) return a.pid < b.pid;
    return a.index < b.index;
  });
  std::vector<SocketOwner> out;
  out.reserve(hits.size());
  for (const Hit& h : hits) out.push_back({h.pid, sockets[h.index]});
  return out;
}

std::vector<uint64_t> socket_inodes_of(const ProcReader& reader, int32_t pid) {
  std::vector<uint64_t> inodes;
  UniqueFd root = open_root(reader);
  if (!root.valid() || pid <= 0) return inodes;
  std::vector<char> buf(32 * 1024);
  for_each_socket_fd(root.get(), pid, buf, [&](uint64_t inode) {
    inodes.push_back(inode);
    return true;
  });
  return inodes;
}

std::vector<uint64_t> socket_inodes_at(int pid_dirfd) {
  std::vector<uint64_t> inodes;
  std::vector<char> buf(8 * 1024);
  for_each_socket_fd_in(pid_dirfd, "fd", buf, [&](uint64_t inode) {
    inodes.push_back(inode);
    return true;
  });
  return inodes;
}

std::vector<SocketEntry> sockets_of(const ProcReader& reader, int32_t pid,
                                    const std::vector<SocketEntry>& all) {
  return sockets_with(socket_inodes_of(reader, pid), all);
}

std::vector<SocketEntry> sockets_with(const std::vector<uint64_t>& inodes,
                                      const std::vector<SocketEntry>& all) {
  std::unordered_set<uint64_t> held(inodes.begin(), inodes.end());
  std::vector<SocketEntry> out;
  for (const auto& s : all) {
    if (s.inode != 0 && held.count(s.inode)) out.push_back(s);
  }
  std::stable_partition(out.begin(), out.end(), [](const SocketEntry& s) { return s.listening; });
  return out;
}

// ========================================================== file users ===

std::optional<MapsEntry> parse_maps_line(std::string_view line) {
  // "7f12a0000000-7f12a0021000 r-xp 00000000 fd:01 1234567    /usr/lib/x.so"
  std::string_view rest = line;
  std::string_view range = next_token(rest), perms = next_token(rest),
                   offset = next_token(rest), dev = next_token(rest), inode = next_token(rest);
  if (inode.empty() || range.find('-') == std::string_view::npos || perms.size() != 4) {
    return std::nullopt;
  }
  MapsEntry e;
  size_t colon = dev.find(':');
  uint64_t ignored = 0;
  if (colon == std::string_view::npos || !to_number(dev.substr(0, colon), e.dev_major, 16) ||
      !to_number(dev.substr(colon + 1), e.dev_minor, 16) || !to_number(offset, ignored, 16) ||
      !to_number(inode, e.inode)) {
    return std::nullopt;
  }
  size_t path = rest.find_first_not_of(" \t");
  if (path != std::string_view::npos) {
    e.path = rest.substr(path);
    if (!e.path.empty() && e.path.back() == '\n') e.path.remove_suffix(1);
  }
  return e;
}

namespace {

struct Target {
  dev_t dev = 0;
  ino_t ino = 0;
  bool directory = false;
  bool mappable = false;      // a regular file or a device
  std::string real_path;      // canonical, for "cwd (inside)"
  bool same(const struct stat& st) const { return st.st_dev == dev && st.st_ino == ino; }
};

// Does the maps file hold a mapping of the target?
bool maps_has(int pid_fd, const Target& t, std::string& buf) {
  UniqueFd fd(::openat(pid_fd, "maps", O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return false;
  const uint32_t major_t = major(t.dev), minor_t = minor(t.dev);
  bool found = false;
  for_each_line(fd.get(), buf, [&](std::string_view line) {
    auto e = parse_maps_line(line);
    found = e && e->inode == t.ino && e->dev_major == major_t && e->dev_minor == minor_t;
    return !found;
  });
  return found;
}

// cwd strictly below the target directory: the cwd path starts with the
// target's path, and that path names the cwd itself in our mount view (a
// process in another mount namespace may print the same path for a
// different directory).
bool cwd_inside(int pid_fd, const Target& t, const struct stat& cwd_st) {
  char link[4096];
  ssize_t n = ::readlinkat(pid_fd, "cwd", link, sizeof link);
  if (n <= 0 || n == static_cast<ssize_t>(sizeof link)) return false;
  std::string_view cwd(link, static_cast<size_t>(n));
  std::string_view base = t.real_path == "/" ? std::string_view() : t.real_path;
  if (cwd.size() <= base.size() + 1 || cwd.substr(0, base.size()) != base ||
      cwd[base.size()] != '/') {
    return false;
  }
  struct stat st;
  std::string path(cwd);
  return ::stat(path.c_str(), &st) == 0 && st.st_dev == cwd_st.st_dev &&
         st.st_ino == cwd_st.st_ino;
}

// Appends the uses of one process; returns how opening it went.
ReadError file_uses_of(int root_fd, int32_t pid, const Target& t, std::vector<FileUse>& out,
                       std::vector<char>& dir_buf, std::string& maps_buf) {
  char name[16];
  std::snprintf(name, sizeof name, "%d", pid);
  UniqueFd pid_fd(::openat(root_fd, name, O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!pid_fd.valid()) return classify_errno(errno);
  UniqueFd fd_dir(::openat(pid_fd.get(), "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd_dir.valid()) return classify_errno(errno);

  std::vector<int> fds;
  for_each_entry(fd_dir.get(), dir_buf, [&](const char* fd_name) {
    struct stat st;
    int fd = 0;
    if (::fstatat(fd_dir.get(), fd_name, &st, 0) == 0 && t.same(st) &&
        to_number(std::string_view(fd_name), fd)) {
      fds.push_back(fd);
    }
    return true;
  });
  std::sort(fds.begin(), fds.end());
  for (int fd : fds) out.push_back({pid, "fd " + std::to_string(fd)});

  struct stat st;
  if (t.directory) {
    if (::fstatat(pid_fd.get(), "cwd", &st, 0) == 0) {
      if (t.same(st)) {
        out.push_back({pid, "cwd"});
      } else if (cwd_inside(pid_fd.get(), t, st)) {
        out.push_back({pid, "cwd (inside)"});
      }
    }
    if (::fstatat(pid_fd.get(), "root", &st, 0) == 0 && t.same(st)) out.push_back({pid, "root"});
    return ReadError::kNone;
  }
  bool exe = ::fstatat(pid_fd.get(), "exe", &st, 0) == 0 && t.same(st);
  if (exe) out.push_back({pid, "exe"});
  if (t.mappable && !exe && maps_has(pid_fd.get(), t, maps_buf)) out.push_back({pid, "mmap"});
  return ReadError::kNone;
}

}  // namespace

Result<std::vector<FileUse>> find_file_users(const ProcReader& reader, const std::string& path,
                                             ScanStats* stats) {
  if (stats) *stats = {};
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return Error{classify_errno(errno) == ReadError::kDenied ? ErrorKind::kPermission
                                                             : ErrorKind::kNotFound,
                 path + ": " + std::strerror(errno)};
  }
  Target t;
  t.dev = st.st_dev;
  t.ino = st.st_ino;
  t.directory = S_ISDIR(st.st_mode);
  t.mappable = S_ISREG(st.st_mode) || S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode);
  if (t.directory) {
    char* real = ::realpath(path.c_str(), nullptr);
    if (real != nullptr) {
      t.real_path = real;
      ::free(real);
    }
  }
  UniqueFd root = open_root(reader);
  if (!root.valid()) {
    return Error{ErrorKind::kNotFound, "cannot open proc root " + reader.root()};
  }

  struct Part {
    std::vector<FileUse> uses;
    ScanStats stats;
    std::vector<char> dir_buf = std::vector<char>(32 * 1024);
    std::string maps_buf;
  };
  auto parts = for_pids_parallel<Part>(reader.list_pids(), [&](Part& part, int32_t pid) {
    count(part.stats, file_uses_of(root.get(), pid, t, part.uses, part.dir_buf, part.maps_buf));
  });
  std::vector<FileUse> out;
  for (auto& part : parts) {
    out.insert(out.end(), std::make_move_iterator(part.uses.begin()),
               std::make_move_iterator(part.uses.end()));
    if (stats) {
      stats->vanished += part.stats.vanished;
      stats->denied += part.stats.denied;
    }
  }
  // Each process's uses are already in order; order the processes.
  std::stable_sort(out.begin(), out.end(),
                   [](const FileUse& a, const FileUse& b) { return a.pid < b.pid; });
  return out;
}

std::string_view socket_state_name(const SocketEntry& socket) {
  if (!is_tcp(socket.proto)) return socket.state == kTcpEstablished ? "ESTAB" : "UNCONN";
  return inet_state_name(socket.state);
}

}  // namespace lineage::procfs
