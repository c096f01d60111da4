#include "procfs/holders.h"

#include <set>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cerrno>
#include <cstring>
#include <unordered_set>

#include "procfs/net.h"
#include "procfs/pid_scan.h"

namespace lineage::procfs {
namespace {

template <class T>
bool to_number(std::string_view s, T& out, int base = 10) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out, base);
  return ec == std::errc() && ptr == s.data() + s.size();
}

std::string_view next_field(std::string_view& rest) {
  size_t start = rest.find_first_not_of(' ');
  if (start == std::string_view::npos) {
    rest = {};
    return {};
  }
  rest.remove_prefix(start);
  size_t end = rest.find(' ');
  std::string_view field = rest.substr(0, end);
  rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
  return field;
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape_octal(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      unsigned value = 0;
      if (to_number(s.substr(i + 1, 3), value, 8) && value < 256) {
        out += static_cast<char>(value);
        i += 3;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

constexpr std::string_view kDeleted = " (deleted)";

std::string_view strip_deleted(std::string_view path) {
  if (path.size() > kDeleted.size() && path.ends_with(kDeleted)) path.remove_suffix(kDeleted.size());
  return path;
}

// A link's text (fd, cwd, root, exe); empty when unreadable or too long.
std::string read_link(int dirfd, const char* name) {
  char buf[4096];
  ssize_t n = ::readlinkat(dirfd, name, buf, sizeof buf);
  if (n == static_cast<ssize_t>(sizeof buf)) errno = ENAMETOOLONG;
  if (n <= 0 || n == static_cast<ssize_t>(sizeof buf)) return {};
  return std::string(buf, static_cast<size_t>(n));
}

// "socket:[12345]" -> 12345.
std::optional<uint64_t> socket_inode(std::string_view link) {
  constexpr std::string_view kPrefix = "socket:[";
  if (link.size() < kPrefix.size() + 2 || !link.starts_with(kPrefix) || link.back() != ']') return std::nullopt;
  uint64_t inode = 0;
  if (!to_number(link.substr(kPrefix.size(), link.size() - kPrefix.size() - 1), inode)) return std::nullopt;
  return inode;
}

class Matcher {
 public:
  explicit Matcher(const HoldQuery& q)
      : q_(q), sockets_(q.socket_inodes.begin(), q.socket_inodes.end()), devs_(q.devs.begin(), q.devs.end()) {}

  const HoldQuery& query() const { return q_; }

  // A stat()ed file (fd, cwd, root, exe) whose link reads `link` (read
  // lazily: only kBelow needs it to decide).
  bool matches(const struct stat& st, std::string_view link) const {
    switch (q_.kind) {
      case HoldQuery::Kind::kFile: return st.st_dev == q_.dev && st.st_ino == q_.ino;
      case HoldQuery::Kind::kDevice: return st.st_dev == q_.dev;
      case HoldQuery::Kind::kBelow: return devs_.count(st.st_dev) && path_is_below(link, q_.dir);
      case HoldQuery::Kind::kSockets: return false;
    }
    return false;
  }
  bool matches_mapping(const MapsEntry& e) const {
    uint64_t dev = makedev(e.dev_major, e.dev_minor);
    switch (q_.kind) {
      case HoldQuery::Kind::kFile: return dev == q_.dev && e.inode == q_.ino;
      case HoldQuery::Kind::kDevice: return e.inode != 0 && dev == q_.dev;
      case HoldQuery::Kind::kBelow:
        return e.inode != 0 && devs_.count(dev) && !e.path.empty() && path_is_below(e.path, q_.dir);
      case HoldQuery::Kind::kSockets: return false;
    }
    return false;
  }
  bool wants_socket(uint64_t inode) const { return sockets_.count(inode) != 0; }

 private:
  const HoldQuery& q_;
  std::unordered_set<uint64_t> sockets_;
  std::unordered_set<uint64_t> devs_;
};

struct Buffers {
  std::vector<char> dir = std::vector<char>(32 * 1024);
  std::string maps;
  std::string text;
};

std::string fd_mode(int pid_fd, const char* fd_name, std::string& buf) {
  char name[48];
  std::snprintf(name, sizeof name, "fdinfo/%s", fd_name);
  if (read_file_at(pid_fd, name, buf, 4096) != ReadError::kNone) return {};
  auto flags = parse_fdinfo_flags(buf);
  return flags ? access_mode(*flags) : std::string();
}

// Returns false when an fd could not be looked at (denied: a process whose
// fd directory lists but whose links do not resolve for us).
bool scan_fds(int pid_fd, int fd_dir, int32_t pid, const Matcher& m, std::vector<Hold>& out, Buffers& b) {
  bool denied = false;
  const HoldQuery& q = m.query();
  const bool sockets = q.kind == HoldQuery::Kind::kSockets;
  const bool below = q.kind == HoldQuery::Kind::kBelow;
  const size_t first = out.size();
  scan::for_each_entry(fd_dir, b.dir, [&](const char* fd_name) {
    int fd = 0;
    if (!to_number(std::string_view(fd_name), fd)) return true;
    Hold h;
    if (sockets || below) {
      // The link decides first: a readlink is cheaper than a stat, and most
      // fds are neither the sockets nor under the directory.
      h.path = read_link(fd_dir, fd_name);
      if (h.path.empty() && errno == EACCES) denied = true;
      if (sockets) {
        auto inode = socket_inode(h.path);
        if (!inode || !m.wants_socket(*inode)) return true;
        h.inode = *inode;
      } else if (h.path.empty() || !path_is_below(h.path, q.dir)) {
        return true;
      }
    }
    if (!sockets) {
      struct stat st;
      if (::fstatat(fd_dir, fd_name, &st, 0) != 0) {
        denied = denied || errno == EACCES;
        return true;
      }
      if (!m.matches(st, h.path)) return true;
      h.dev = st.st_dev;
      h.inode = st.st_ino;
      if (q.kind == HoldQuery::Kind::kDevice) h.path = read_link(fd_dir, fd_name);
    }
    h.pid = pid;
    h.kind = HoldKind::kFd;
    h.fd = fd;
    h.mode = fd_mode(pid_fd, fd_name, b.text);
    out.push_back(std::move(h));
    return true;
  });
  std::sort(out.begin() + static_cast<std::ptrdiff_t>(first), out.end(),
            [](const Hold& a, const Hold& c) { return a.fd < c.fd; });
  return !denied;
}

// cwd, root and exe; returns whether exe matched.
bool scan_links(int pid_fd, int32_t pid, const Matcher& m, std::vector<Hold>& out) {
  bool exe = false;
  const bool below = m.query().kind == HoldQuery::Kind::kBelow;
  for (auto [name, kind] : {std::pair{"cwd", HoldKind::kCwd}, std::pair{"root", HoldKind::kRoot},
                            std::pair{"exe", HoldKind::kExe}}) {
    std::string link;
    if (below) {
      link = read_link(pid_fd, name);
      if (link.empty() || !path_is_below(link, m.query().dir)) continue;
    }
    struct stat st;
    if (::fstatat(pid_fd, name, &st, 0) != 0 || !m.matches(st, link)) continue;
    if (!below && m.query().kind != HoldQuery::Kind::kFile) link = read_link(pid_fd, name);
    Hold h;
    h.pid = pid;
    h.kind = kind;
    h.dev = st.st_dev;
    h.inode = st.st_ino;
    h.path = std::move(link);
    out.push_back(std::move(h));
    exe = exe || kind == HoldKind::kExe;
  }
  return exe;
}

// Mapped files: one hold per distinct file.
void scan_maps(int pid_fd, int32_t pid, const Matcher& m, std::vector<Hold>& out, Buffers& b) {
  if (read_file_at(pid_fd, "maps", b.maps, 64 << 20) != ReadError::kNone) return;
  std::set<std::pair<uint64_t, uint64_t>> seen;  // (dev, inode)
  std::string_view text = b.maps;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    auto e = parse_maps_line(line);
    if (!e || !m.matches_mapping(*e)) continue;
    std::pair<uint64_t, uint64_t> key{makedev(e->dev_major, e->dev_minor), e->inode};
    if (!seen.insert(key).second) continue;
    Hold h;
    h.pid = pid;
    h.kind = HoldKind::kMmap;
    h.dev = key.first;
    h.inode = key.second;
    h.path = std::string(strip_deleted(e->path));
    out.push_back(std::move(h));
    if (m.query().kind == HoldQuery::Kind::kFile) return;
  }
}

ReadError holds_of(int root_fd, int32_t pid, const Matcher& m, std::vector<Hold>& out, Buffers& b) {
  char name[16];
  std::snprintf(name, sizeof name, "%d", pid);
  UniqueFd pid_fd(::openat(root_fd, name, O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!pid_fd.valid()) return classify_errno(errno);
  UniqueFd fd_dir(::openat(pid_fd.get(), "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd_dir.valid()) return classify_errno(errno);
  const ReadError fds = scan_fds(pid_fd.get(), fd_dir.get(), pid, m, out, b) ? ReadError::kNone
                                                                                : ReadError::kDenied;
  const HoldQuery& q = m.query();
  if (q.kind == HoldQuery::Kind::kSockets) return fds;
  bool exe = scan_links(pid_fd.get(), pid, m, out);
  if (q.maps && !(exe && q.exe_hides_mmap && q.kind == HoldQuery::Kind::kFile)) {
    scan_maps(pid_fd.get(), pid, m, out, b);
  }
  return fds;
}

}  // namespace

std::string_view hold_kind_name(HoldKind kind) {
  switch (kind) {
    case HoldKind::kFd: return "fd";
    case HoldKind::kCwd: return "cwd";
    case HoldKind::kRoot: return "root";
    case HoldKind::kExe: return "exe";
    case HoldKind::kMmap: return "mmap";
  }
  return "?";
}

std::vector<Hold> scan_holders(const ProcReader& reader, const HoldQuery& query, ScanStats* stats) {
  if (stats) *stats = {};
  UniqueFd root = scan::open_root(reader);
  if (!root.valid()) return {};
  if (query.kind == HoldQuery::Kind::kSockets && query.socket_inodes.empty()) return {};
  Matcher m(query);
  struct Part {
    std::vector<Hold> holds;
    ScanStats stats;
    Buffers buffers;
  };
  auto parts = scan::for_pids_parallel<Part>(reader.list_pids(), [&](Part& part, int32_t pid) {
    scan::count(part.stats, holds_of(root.get(), pid, m, part.holds, part.buffers));
  });
  std::vector<Hold> out;
  for (auto& part : parts) {
    out.insert(out.end(), std::make_move_iterator(part.holds.begin()), std::make_move_iterator(part.holds.end()));
    if (stats) {
      stats->vanished += part.stats.vanished;
      stats->denied += part.stats.denied;
    }
  }
  // Each process's holds are in order already; order the processes.
  std::stable_sort(out.begin(), out.end(), [](const Hold& a, const Hold& b) { return a.pid < b.pid; });
  return out;
}

// ------------------------------------------------------ pure parsers ---

std::optional<uint32_t> parse_fdinfo_flags(std::string_view text) {
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (!line.starts_with("flags:")) continue;
    line.remove_prefix(6);
    size_t start = line.find_first_not_of(" \t");
    if (start == std::string_view::npos) return std::nullopt;
    line.remove_prefix(start);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) line.remove_suffix(1);
    uint32_t flags = 0;
    if (!to_number(line, flags, 8)) return std::nullopt;
    return flags;
  }
  return std::nullopt;
}

std::string access_mode(uint32_t flags) {
  switch (flags & O_ACCMODE) {
    case O_RDONLY: return "r";
    case O_WRONLY: return "w";
    case O_RDWR: return "rw";
  }
  return {};
}

bool path_is_below(std::string_view path, std::string_view dir) {
  path = strip_deleted(path);
  if (path.empty() || path.front() != '/' || dir.empty()) return false;
  if (dir == "/") return true;
  if (!path.starts_with(dir)) return false;
  return path.size() == dir.size() || path[dir.size()] == '/';
}

std::optional<MountEntry> parse_mountinfo_line(std::string_view line) {
  // "36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw,errors=continue"
  std::string_view rest = line;
  std::string_view id = next_field(rest), parent = next_field(rest), dev = next_field(rest),
                   root = next_field(rest), mount_point = next_field(rest);
  if (mount_point.empty()) return std::nullopt;
  uint32_t ignored = 0;
  if (!to_number(id, ignored) || !to_number(parent, ignored)) return std::nullopt;
  MountEntry e;
  size_t colon = dev.find(':');
  if (colon == std::string_view::npos || !to_number(dev.substr(0, colon), e.major) ||
      !to_number(dev.substr(colon + 1), e.minor)) {
    return std::nullopt;
  }
  // Optional fields up to a lone "-", then fstype and source.
  for (std::string_view f = next_field(rest);; f = next_field(rest)) {
    if (f.empty()) return std::nullopt;
    if (f == "-") break;
  }
  std::string_view fstype = next_field(rest), source = next_field(rest), super_options = next_field(rest);
  if (fstype.empty()) return std::nullopt;
  e.root = unescape_octal(root);
  e.mount_point = unescape_octal(mount_point);
  e.fstype = unescape_octal(fstype);
  e.source = unescape_octal(source);
  e.super_options = unescape_octal(super_options);
  return e;
}

std::vector<MountEntry> parse_mountinfo(std::string_view text) {
  std::vector<MountEntry> out;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    auto e = parse_mountinfo_line(text.substr(0, nl));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (e) out.push_back(std::move(*e));
  }
  return out;
}

const MountEntry* mount_of(const std::vector<MountEntry>& mounts, std::string_view path) {
  const MountEntry* best = nullptr;
  for (const auto& m : mounts) {
    if (!path_is_below(path, m.mount_point)) continue;
    // Later entries are mounted over earlier ones at the same point.
    if (best == nullptr || m.mount_point.size() >= best->mount_point.size()) best = &m;
  }
  return best;
}

std::vector<const MountEntry*> mounts_below(const std::vector<MountEntry>& mounts, std::string_view dir) {
  std::vector<const MountEntry*> out;
  for (const auto& m : mounts) {
    if (m.mount_point != dir && path_is_below(m.mount_point, dir)) out.push_back(&m);
  }
  return out;
}

std::vector<UnixSocketEntry> parse_proc_net_unix(std::string_view text) {
  // "Num       RefCount Protocol Flags    Type St Inode Path"
  // "0000000000000000: 00000002 00000000 00010000 0001 01 23456 /run/x.sock"
  std::vector<UnixSocketEntry> out;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view rest = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    std::string_view f[7];
    bool ok = true;
    for (auto& field : f) {
      field = next_field(rest);
      ok = ok && !field.empty();
    }
    if (!ok || f[0].back() != ':') continue;
    UnixSocketEntry e;
    if (!to_number(f[6], e.inode)) continue;
    size_t start = rest.find_first_not_of(' ');
    if (start == std::string_view::npos) continue;  // unbound
    e.path = std::string(rest.substr(start));
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace lineage::procfs
