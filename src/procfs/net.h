#pragma once
// Sockets and the processes that hold them; the processes that use a file.
//
// Sockets come from netlink sock_diag (one dump per family and protocol,
// filtered by port in the kernel), or from /proc/net/{tcp,tcp6,udp,udp6}
// when sock_diag is not there. Owners come from /proc/PID/fd: the kernel
// keeps no socket -> process map, so every process that could hold a socket
// has to be looked at (see find_socket_owners for why no cheaper guess is
// safe). Both views are of the caller's network namespace.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "procfs/reader.h"

namespace lineage::procfs {

enum class Protocol : uint8_t { kTcp, kTcp6, kUdp, kUdp6 };

/// "tcp", "tcp6", "udp", "udp6": the /proc/net file name, also ss's spelling.
std::string_view protocol_name(Protocol proto);
inline bool is_tcp(Protocol p) { return p == Protocol::kTcp || p == Protocol::kTcp6; }
inline bool is_ipv6(Protocol p) { return p == Protocol::kTcp6 || p == Protocol::kUdp6; }

inline constexpr uint8_t kTcpEstablished = 0x01;
inline constexpr uint8_t kTcpClose = 0x07;  // also an unconnected UDP socket
inline constexpr uint8_t kTcpListen = 0x0A;

struct SocketEntry {
  Protocol proto = Protocol::kTcp;
  std::string local_address;   // "127.0.0.1", "::1", "::ffff:10.0.0.1"
  uint16_t local_port = 0;
  std::string remote_address;
  uint16_t remote_port = 0;
  uint8_t state = 0;           // TCP state number (include/net/tcp_states.h)
  /// TCP: state LISTEN. UDP: unconnected (state CLOSE, no remote end), the
  /// closest UDP has to "listening".
  bool listening = false;
  uint32_t uid = 0;            // the socket's owner: fsuid of its creator
  uint64_t inode = 0;          // 0 for TIME_WAIT and SYN_RECV mini sockets
  /// cgroup v2 id of the creator at creation time; 0 when unknown (/proc
  /// fallback, or a kernel without INET_DIAG_CGROUP_ID).
  uint64_t cgroup_id = 0;
};

/// The state of SOCKET as ss names it, in every document that shows one
/// (files, who, snapshot): TCP "LISTEN", "ESTAB", "TIME-WAIT" ...; UDP
/// "ESTAB" when connected, else "UNCONN".
std::string_view socket_state_name(const SocketEntry& socket);

/// One of /proc/net/{tcp,tcp6,udp,udp6}. The kernel prints each address as
/// 32-bit words of network-order bytes formatted as host-order hex, so the
/// bytes are recovered in host order. The header and any malformed line are
/// skipped.
std::vector<SocketEntry> parse_proc_net(std::string_view text, Protocol proto);

/// Which end a port names: the local one only (a server's port, as `why
/// :PORT`), or either (also a client connected to that port, as `who`).
enum class PortEnd : uint8_t { kLocal, kEither };
bool port_matches(const SocketEntry& socket, uint16_t port, PortEnd end);

/// Bound to the wildcard address: 0.0.0.0 or ::.
bool binds_all_interfaces(const SocketEntry& socket);

/// Every TCP and UDP socket (IPv4 and IPv6) of the caller's network
/// namespace, or those whose local port is local_port. netlink sock_diag
/// first; per protocol, /proc/net when sock_diag fails. Fails only when
/// neither source could be read for any protocol.
Result<std::vector<SocketEntry>> list_sockets(std::optional<uint16_t> local_port = std::nullopt,
                                              PortEnd end = PortEnd::kLocal);

/// The two sources on their own (tests compare them).
Result<std::vector<SocketEntry>> list_sockets_netlink(Protocol proto,
                                                      std::optional<uint16_t> local_port,
                                                      PortEnd end = PortEnd::kLocal);
/// Reads <proc_root>/net/<proto>, streaming: memory stays bounded however
/// many sockets the table holds.
Result<std::vector<SocketEntry>> read_proc_net(const std::string& proc_root, Protocol proto,
                                               std::optional<uint16_t> local_port,
                                               PortEnd end = PortEnd::kLocal);

/// One received buffer of a sock_diag dump answer, as sent by the kernel
/// (exposed for tests and fuzzing: every length in it is checked before
/// use). Appends the sockets of messages with this seq; done at NLMSG_DONE;
/// error is an errno from NLMSG_ERROR, or EBADMSG for a malformed buffer.
struct SockDiagBatch {
  bool done = false;
  int error = 0;
};
SockDiagBatch parse_sock_diag(std::string_view bytes, Protocol proto, uint32_t seq,
                              std::optional<uint16_t> local_port, std::vector<SocketEntry>& out,
                              PortEnd end = PortEnd::kLocal);

struct SocketOwner {
  int32_t pid = 0;
  SocketEntry socket;
};

/// The processes holding any of these sockets, found through the
/// /proc/PID/fd links ("socket:[INODE]") under reader.root(). Every process
/// is looked at: a socket is shared by fork (a pre-forked server's
/// workers), passed over SCM_RIGHTS or by systemd socket activation, and
/// outlives its creator's uid and cgroup changes, so neither the socket's
/// uid nor its cgroup bounds who holds it. Listening sockets come first,
/// then the others; within each, by pid, then by the order of `sockets`.
/// Processes whose fds cannot be read (another user's, when not root) are
/// counted in stats->denied.
std::vector<SocketOwner> find_socket_owners(const ProcReader& reader,
                                            const std::vector<SocketEntry>& sockets,
                                            ScanStats* stats = nullptr);

/// The sockets in `all` that pid holds, listening ones first. Empty when the
/// process is gone or its fds cannot be read.
/// Inodes of the sockets a pid holds open (from its fd links).
std::vector<uint64_t> socket_inodes_of(const ProcReader& reader, int32_t pid);

/// The same through the pid's directory fd (as ProcReader::read keeps it).
std::vector<uint64_t> socket_inodes_at(int pid_dirfd);

std::vector<SocketEntry> sockets_of(const ProcReader& reader, int32_t pid,
                                    const std::vector<SocketEntry>& all);
/// The sockets in `all` with one of these inodes, listening ones first.
std::vector<SocketEntry> sockets_with(const std::vector<uint64_t>& inodes,
                                      const std::vector<SocketEntry>& all);

struct FileUse {
  int32_t pid = 0;
  /// "fd 3", "cwd", "cwd (inside)", "root", "exe" or "mmap" ("mmap" is left
  /// out for the file that is also the process's exe).
  std::string how;
};

/// Processes that use path: same (st_dev, st_ino) as an open fd, cwd, root,
/// exe or a mapped file of the process; for a directory, also a cwd below
/// it. By pid, then fds, cwd, root, exe, mmap. Fails with kNotFound when path
/// cannot be stat()ed. Threads that unshared their fd table are not looked
/// at (as lsof).
Result<std::vector<FileUse>> find_file_users(const ProcReader& reader, const std::string& path,
                                             ScanStats* stats = nullptr);

/// One line of /proc/PID/maps: "start-end perms offset MAJ:MIN inode  path".
struct MapsEntry {
  uint32_t dev_major = 0, dev_minor = 0;  // hex in the file
  uint64_t inode = 0;                     // 0 for anonymous mappings
  std::string_view path;                  // points into the line; may be empty
};
std::optional<MapsEntry> parse_maps_line(std::string_view line);

}  // namespace lineage::procfs
