#pragma once
// A file open or network call of a traced process (`lineage trace -e
// file,net`), as the kernel reported it, and the pure functions that make
// its parts readable. The kernel side is bpf/trace_io.bpf.c; the loader is
// events/io_trace_bpf.h.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace lineage::events {

enum class IoKind : uint8_t { kOpen, kConnect, kBind, kListen, kAccept };

struct IoCall {
  uint64_t time_ns = 0;        // CLOCK_BOOTTIME, at the return
  int32_t pid = 0, tid = 0;
  uint64_t start_time_ns = 0;  // the process's start: its identity with pid
  IoKind kind = IoKind::kOpen;
  int64_t result = 0;          // fd, 0, or -errno
  int32_t fd = 0;              // open: the dirfd (AT_FDCWD: -100); net: the socket
  uint64_t flags = 0;          // open: O_* flags
  uint32_t mode = 0;           // open: the mode (with O_CREAT, O_TMPFILE)
  std::string path;            // open: as the process gave it (hostile bytes)
  bool path_cut = false;       // longer than the kernel side reads (or unreadable)
  std::string family;          // net: "inet", "inet6", "unix", or the number
  std::string address;         // net: "127.0.0.1:8080", "[::1]:22", "/run/x.sock"; "" unknown
};

/// "open", "connect", "bind", "listen", "accept".
std::string_view io_kind_name(IoKind kind);
/// "file" for opens, "net" for the rest (the -e category).
std::string_view io_category(IoKind kind);
/// The access mode and the named flags: "O_RDONLY", "O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC";
/// bits without a name as a trailing hex number.
std::string open_flags_text(uint64_t flags);
/// "ENOENT" for -2, "" for a result >= 0; an unnamed errno as its number.
std::string errno_name(int64_t result);
/// A sockaddr's family name and address text from its raw bytes (len as
/// the kernel gave it). AF_INET "1.2.3.4:80", AF_INET6 "[::1]:22",
/// AF_UNIX its path ("@name" for an abstract one), else the family number
/// and an empty address.
void describe_sockaddr(const uint8_t* addr, size_t len, std::string& family, std::string& address);

}  // namespace lineage::events
