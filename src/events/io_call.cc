#include "events/io_call.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>

namespace lineage::events {

std::string_view io_kind_name(IoKind kind) {
  switch (kind) {
    case IoKind::kOpen: return "open";
    case IoKind::kConnect: return "connect";
    case IoKind::kBind: return "bind";
    case IoKind::kListen: return "listen";
    case IoKind::kAccept: return "accept";
  }
  return "?";
}

std::string_view io_category(IoKind kind) { return kind == IoKind::kOpen ? "file" : "net"; }

std::string open_flags_text(uint64_t flags) {
  std::string out;
  switch (flags & O_ACCMODE) {
    case O_RDONLY: out = "O_RDONLY"; break;
    case O_WRONLY: out = "O_WRONLY"; break;
    case O_RDWR: out = "O_RDWR"; break;
    default: out = "O_ACCMODE"; break;
  }
  uint64_t rest = flags & ~uint64_t(O_ACCMODE);
  // O_TMPFILE includes O_DIRECTORY's bit: named first, it takes both.
  static constexpr std::pair<uint64_t, const char*> kNames[] = {
      {O_TMPFILE, "O_TMPFILE"}, {O_CREAT, "O_CREAT"},         {O_EXCL, "O_EXCL"},
      {O_NOCTTY, "O_NOCTTY"},   {O_TRUNC, "O_TRUNC"},         {O_APPEND, "O_APPEND"},
      {O_NONBLOCK, "O_NONBLOCK"}, {O_DSYNC, "O_DSYNC"},       {O_DIRECT, "O_DIRECT"},
      {O_LARGEFILE, "O_LARGEFILE"}, {O_DIRECTORY, "O_DIRECTORY"}, {O_NOFOLLOW, "O_NOFOLLOW"},
      {O_NOATIME, "O_NOATIME"}, {O_CLOEXEC, "O_CLOEXEC"},     {O_PATH, "O_PATH"},
      {O_SYNC & ~O_DSYNC, "O_SYNC"}, {FASYNC, "O_ASYNC"},
  };
  for (auto [bits, name] : kNames) {
    if (bits != 0 && (rest & bits) == bits) {
      out += '|';
      out += name;
      rest &= ~bits;
    }
  }
  if (rest != 0) {
    char hex[24];
    std::snprintf(hex, sizeof hex, "|%#llx", static_cast<unsigned long long>(rest));
    out += hex;
  }
  return out;
}

std::string errno_name(int64_t result) {
  if (result >= 0) return {};
  if (result < -4095) return std::to_string(result);
  const char* name = ::strerrorname_np(static_cast<int>(-result));
  return name ? std::string(name) : "errno " + std::to_string(-result);
}

void describe_sockaddr(const uint8_t* addr, size_t len, std::string& family, std::string& address) {
  family.clear();
  address.clear();
  sa_family_t fam = 0;
  if (len < sizeof fam) return;
  std::memcpy(&fam, addr, sizeof fam);
  char text[INET6_ADDRSTRLEN] = {};
  if (fam == AF_INET && len >= sizeof(sockaddr_in)) {
    sockaddr_in in;
    std::memcpy(&in, addr, sizeof in);
    family = "inet";
    ::inet_ntop(AF_INET, &in.sin_addr, text, sizeof text);
    address = std::string(text) + ":" + std::to_string(ntohs(in.sin_port));
  } else if (fam == AF_INET6 && len >= sizeof(sockaddr_in6)) {
    sockaddr_in6 in6;
    std::memcpy(&in6, addr, sizeof in6);
    family = "inet6";
    ::inet_ntop(AF_INET6, &in6.sin6_addr, text, sizeof text);
    address = "[" + std::string(text) + "]:" + std::to_string(ntohs(in6.sin6_port));
  } else if (fam == AF_UNIX) {
    family = "unix";
    size_t off = offsetof(sockaddr_un, sun_path);
    if (len > off) {
      const char* path = reinterpret_cast<const char*>(addr + off);
      size_t n = len - off;
      if (path[0] == '\0') address = "@" + std::string(path + 1, ::strnlen(path + 1, n - 1));
      else address = std::string(path, ::strnlen(path, n));
    }
  } else if (fam == AF_INET) {
    family = "inet";
  } else if (fam == AF_INET6) {
    family = "inet6";
  } else {
    family = std::to_string(fam);
  }
}

}  // namespace lineage::events
