#pragma once
// Socket details for `lineage files`, from netlink sock_diag: unix sockets
// with their bound path and their peer's inode (UNIX_DIAG_PEER), TCP and
// UDP sockets with their queue sizes, and netlink sockets' protocols from
// /proc/net/netlink. All of the caller's network namespace.
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "procfs/net.h"

namespace lineage::procfs {

struct UnixSocket {
  uint64_t inode = 0;
  uint64_t peer = 0;       // the connected peer's inode; 0 when none
  uint8_t type = 0;        // SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET
  uint8_t state = 0;       // TCP_ESTABLISHED, TCP_LISTEN, TCP_CLOSE ...
  std::string path;        // bound name; an abstract one starts with '@'
  uint32_t rqueue = 0;     // listening: pending connections; else bytes queued
  uint32_t wqueue = 0;     // listening: the backlog; else bytes queued
  bool have_queues = false;
};

/// "STREAM", "DGRAM", "SEQPACKET", or "?".
std::string_view unix_type_name(uint8_t type);
/// "LISTEN", "CONNECTED" (established), "UNCONNECTED" (close), "CONNECTING"...
std::string_view unix_state_name(uint8_t state);
/// TCP state names as ss prints them: "ESTAB", "LISTEN", "TIME-WAIT", ...;
/// for UDP "UNCONN" or "ESTAB".
std::string_view inet_state_name(uint8_t state);

/// One received buffer of a unix_diag answer (every length checked before
/// use). Appends the sockets of messages with this seq.
SockDiagBatch parse_unix_diag(std::string_view bytes, uint32_t seq, std::vector<UnixSocket>& out);

/// The unix sockets with these inodes: one exact request each for a few,
/// one dump filtered here for many. A socket closed meanwhile is missing.
Result<std::vector<UnixSocket>> query_unix_sockets(const std::vector<uint64_t>& inodes);

struct InetSocket {
  SocketEntry entry;
  uint32_t rqueue = 0;  // listening TCP: the accept queue; else bytes
  uint32_t wqueue = 0;  // listening TCP: the backlog; else bytes
};

/// One received buffer of an inet_diag dump, keeping the queue sizes
/// net.h's SocketEntry leaves out.
SockDiagBatch parse_inet_diag(std::string_view bytes, Protocol proto, uint32_t seq, std::vector<InetSocket>& out);

/// Every socket of one protocol (one sock_diag dump).
Result<std::vector<InetSocket>> list_inet_sockets(Protocol proto);

/// /proc/net/netlink: inode -> netlink protocol number (the "Eth" column).
std::unordered_map<uint64_t, int> parse_proc_netlink(std::string_view text);
/// "ROUTE", "KOBJECT_UEVENT", "AUDIT", "GENERIC", ... as lsof names them;
/// the number for others.
std::string netlink_protocol_name(int protocol);

}  // namespace lineage::procfs
