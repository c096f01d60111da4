#include <arpa/inet.h>

#include <cstddef>
#include <cstring>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "procfs/net.h"

// /proc/net/{tcp,tcp6,udp,udp6} under every protocol, the same bytes as a
// sock_diag answer, and each line as a /proc/PID/maps line. What comes out
// must be well formed, whatever came in.
namespace {

void check_address(const std::string& text, bool ipv6) {
  unsigned char bytes[16];
  if (::inet_pton(ipv6 ? AF_INET6 : AF_INET, text.c_str(), bytes) != 1) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lineage::procfs;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  size_t lines = 1;
  for (char c : text) lines += c == '\n';
  for (Protocol p : {Protocol::kTcp, Protocol::kTcp6, Protocol::kUdp, Protocol::kUdp6}) {
    auto sockets = parse_proc_net(text, p);
    if (sockets.size() > lines) __builtin_trap();
    for (const auto& s : sockets) {
      if (s.proto != p) __builtin_trap();
      check_address(s.local_address, is_ipv6(p));
      check_address(s.remote_address, is_ipv6(p));
      if (s.listening && is_tcp(p) && s.state != kTcpListen) __builtin_trap();
      (void)binds_all_interfaces(s);
    }
    // As netlink: answer to the seq of the first message, if there is one.
    uint32_t seq = 0;
    if (size >= 12) std::memcpy(&seq, data + 8, sizeof seq);
    std::vector<SocketEntry> diag;
    auto batch = parse_sock_diag(text, p, seq, std::nullopt, diag);
    if (batch.error < 0 || diag.size() > size / 72) __builtin_trap();
    for (const auto& s : diag) {
      check_address(s.local_address, is_ipv6(p));
      check_address(s.remote_address, is_ipv6(p));
    }
  }
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    auto m = parse_maps_line(line);
    if (m && !m->path.empty() &&
        (m->path.data() < line.data() || m->path.data() + m->path.size() > line.data() + line.size())) {
      __builtin_trap();
    }
  }
  return 0;
}
