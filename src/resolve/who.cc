#include "resolve/who.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include <fmt/format.h>

#include "core/unique_fd.h"
#ifdef LINEAGE_HAVE_BPF
#include "events/holders_bpf.h"
#include "events/socket_owners_bpf.h"
#endif
#include "output/sanitize.h"

namespace lineage::resolve {
namespace {

using procfs::Hold;
using procfs::HoldKind;
using procfs::HoldQuery;

Result<uint16_t> parse_port_number(std::string_view digits, std::string_view typed) {
  uint32_t port = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (digits.empty() || ec != std::errc() || ptr != digits.data() + digits.size() || port == 0 || port > 65535) {
    return usage_error(fmt::format("bad port '{}': expected :PORT, tcp/PORT or udp/PORT with PORT from 1 to 65535",
                                   output::escape_text(typed)));
  }
  return static_cast<uint16_t>(port);
}

Error path_error(const std::string& path, int err) {
  ErrorKind kind = procfs::classify_errno(err) == procfs::ReadError::kDenied ? ErrorKind::kPermission
                                                                              : ErrorKind::kNotFound;
  return Error{kind, fmt::format("{}: {}", output::escape_text(path), std::strerror(err))};
}

std::string canonical(const std::string& path) {
  char* real = ::realpath(path.c_str(), nullptr);
  if (real == nullptr) return path;
  std::string out(real);
  ::free(real);
  return out;
}

std::string kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "directory";
  if (S_ISCHR(mode)) return "character device";
  if (S_ISBLK(mode)) return "block device";
  if (S_ISFIFO(mode)) return "fifo";
  if (S_ISSOCK(mode)) return "socket";
  return "file";
}

std::vector<procfs::MountEntry> read_mounts(const procfs::ProcReader& reader) {
  UniqueFd root(::open(reader.root().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  std::string text;
  if (!root.valid() || procfs::read_file_at(root.get(), "self/mountinfo", text, 64 << 20) != procfs::ReadError::kNone) {
    return {};
  }
  return procfs::parse_mountinfo(text);
}

void drop_self(std::vector<Hold>& holds) {
  const auto self = static_cast<int32_t>(::getpid());
  std::erase_if(holds, [&](const Hold& h) { return h.pid == self; });
}

#ifdef LINEAGE_HAVE_BPF
// How an fd holds its file, from an iterator record's mode (1 read, 2
// write, 3 both; the bit above says the file is also mapped).
std::string fd_access(uint32_t mode) {
  switch (mode & 3) {
    case 3: return "rw";
    case 2: return "w";
    case 1: return "r";
    default: return "";
  }
}

// The holds of a (dev, ino) or of a whole device from the BPF iterators.
// `marker` is an O_PATH fd this process holds on a file the query matches:
// the kernel must report it back, which proves the st_dev -> kernel dev_t
// translation right for this filesystem (btrfs and overlayfs report other
// devices to stat() than their superblock's). nullopt: use /proc.
std::optional<std::vector<Hold>> holds_from_bpf(const HoldQuery& q, int marker) {
  events::BpfHoldKey key;
  key.dev = events::kernel_dev(q.dev);
  key.ino = q.kind == HoldQuery::Kind::kFile ? q.ino : 0;
  // The kernel says whether anyone maps a regular file (its reverse map);
  // a device node's mappings live elsewhere, so those are always walked.
  struct stat st;
  const bool regular = ::fstat(marker, &st) == 0 && S_ISREG(st.st_mode);
  auto found = events::find_holders_bpf({key}, q.maps, q.kind == HoldQuery::Kind::kFile && regular ? marker : -1);
  if (!found) return std::nullopt;
  const auto self = static_cast<int32_t>(::getpid());
  bool marker_seen = false;
  std::vector<Hold> holds;
  std::vector<std::pair<int32_t, uint64_t>> exes;  // (pid, inode) held as exe
  for (const auto& f : *found) {
    if (f.pid == self) {
      marker_seen = marker_seen || f.fd == marker;
      continue;
    }
    Hold h;
    h.pid = f.pid;
    h.fd = f.fd;
    h.dev = q.dev;  // the same filesystem as the query's stat() saw
    h.inode = f.inode;
    switch (f.fd) {
      case events::kHoldCwd: h.kind = HoldKind::kCwd; break;
      case events::kHoldRoot: h.kind = HoldKind::kRoot; break;
      case events::kHoldExe: h.kind = HoldKind::kExe; break;
      case events::kHoldMmap: h.kind = HoldKind::kMmap; break;
      default:
        h.kind = HoldKind::kFd;
        h.mode = fd_access(f.mode);
    }
    if (h.kind != HoldKind::kFd) h.fd = -1;
    if (h.kind == HoldKind::kExe) exes.emplace_back(h.pid, h.inode);
    holds.push_back(std::move(h));
  }
  if (!marker_seen) return std::nullopt;
  if (q.kind == HoldQuery::Kind::kFile && q.exe_hides_mmap) {
    std::erase_if(holds, [&](const Hold& h) {
      return h.kind == HoldKind::kMmap &&
             std::find(exes.begin(), exes.end(), std::pair{h.pid, h.inode}) != exes.end();
    });
  }
  return holds;
}
#endif

// Paths of a mount's holds, which the kernel did not give: read from the
// holder's links (fd, cwd, root, exe) or its maps, only for the matches.
void fill_paths(const procfs::ProcReader& reader, std::vector<Hold>& holds) {
  UniqueFd root(::open(reader.root().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root.valid()) return;
  int32_t pid = 0;
  UniqueFd pid_fd;
  std::string maps;
  bool maps_read = false;
  for (auto& h : holds) {
    if (h.pid != pid) {
      pid = h.pid;
      pid_fd = UniqueFd(::openat(root.get(), std::to_string(pid).c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
      maps_read = false;
    }
    if (!pid_fd.valid()) continue;
    char link[4096];
    std::string name = h.kind == HoldKind::kFd ? "fd/" + std::to_string(h.fd) : std::string(procfs::hold_kind_name(h.kind));
    if (h.kind != HoldKind::kMmap) {
      ssize_t n = ::readlinkat(pid_fd.get(), name.c_str(), link, sizeof link);
      if (n > 0 && n < static_cast<ssize_t>(sizeof link)) h.path.assign(link, static_cast<size_t>(n));
      continue;
    }
    if (!maps_read) {
      maps_read = true;
      if (procfs::read_file_at(pid_fd.get(), "maps", maps, 64 << 20) != procfs::ReadError::kNone) maps.clear();
    }
    std::string_view text = maps;
    while (!text.empty() && h.path.empty()) {
      size_t nl = text.find('\n');
      auto e = procfs::parse_maps_line(text.substr(0, nl));
      text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
      if (e && e->inode == h.inode) h.path = std::string(e->path);
    }
  }
}

// File, device or mount holds: BPF when chosen and able, /proc otherwise.
std::vector<Hold> file_holds(const procfs::ProcReader& reader, const HoldQuery& q,
                             [[maybe_unused]] const std::string& marker_path, Method method,
                             procfs::ScanStats& stats, std::string& used) {
#ifdef LINEAGE_HAVE_BPF
  if (reader.root() == "/proc" && q.kind != HoldQuery::Kind::kBelow &&
      choose_bpf(method, method == Method::kAuto ? count_processes(reader, kBpfMinProcesses) : 0)) {
    UniqueFd marker(::open(marker_path.c_str(), O_PATH | O_CLOEXEC));
    struct stat st;
    if (marker.valid() && ::fstat(marker.get(), &st) == 0 && st.st_dev == q.dev &&
        (q.kind != HoldQuery::Kind::kFile || st.st_ino == q.ino)) {
      if (auto holds = holds_from_bpf(q, marker.get())) {
        used = "bpf";
        if (q.kind != HoldQuery::Kind::kFile) fill_paths(reader, *holds);
        return std::move(*holds);
      }
    }
  }
#endif
  used = "proc";
  auto holds = procfs::scan_holders(reader, q, &stats);
  drop_self(holds);
  return holds;
}

Result<WhoAnswer> port_holders(const procfs::ProcReader& reader, const Resource& r, Method method) {
  auto sockets = procfs::list_sockets(r.port, procfs::PortEnd::kEither);
  if (!sockets) return sockets.error();
  WhoAnswer a;
  a.kind = "port";
  std::vector<uint64_t> inodes;
  for (auto& s : *sockets) {
    if (s.inode == 0) continue;  // TIME_WAIT and the like: nobody holds them
    if (r.tcp && *r.tcp != procfs::is_tcp(s.proto)) continue;
    inodes.push_back(s.inode);
    a.sockets.push_back(std::move(s));
  }
  if (a.sockets.empty()) {
    std::string proto = r.tcp ? (*r.tcp ? "tcp " : "udp ") : "";
    return not_found(fmt::format("no {}socket uses port {} (in this network namespace)", proto, r.port));
  }
  a.holds = socket_holds(reader, inodes, method, a.stats, a.method);
  return a;
}

// A unix socket path: the sockets bound to it, from /proc/net/unix.
std::vector<uint64_t> unix_sockets_at(const procfs::ProcReader& reader, const std::string& typed,
                                      const std::string& real) {
  UniqueFd root(::open(reader.root().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  std::string text;
  if (!root.valid() || procfs::read_file_at(root.get(), "net/unix", text, 256 << 20) != procfs::ReadError::kNone) {
    return {};
  }
  std::vector<uint64_t> inodes;
  for (const auto& e : procfs::parse_proc_net_unix(text)) {
    if (e.path == real || e.path == typed) inodes.push_back(e.inode);
  }
  return inodes;
}

Result<WhoAnswer> path_holders(const procfs::ProcReader& reader, const Resource& r, Method method) {
  struct stat st;
  if (::stat(r.path.c_str(), &st) != 0) return path_error(r.path, errno);
  WhoAnswer a;
  a.path = canonical(r.path);
  HoldQuery q;
  std::string marker = r.path;
  auto mounts = read_mounts(reader);
  if (r.kind == Resource::Kind::kTree) {
    if (!S_ISDIR(st.st_mode)) return usage_error(fmt::format("--dir {}: not a directory", output::escape_text(r.path)));
    a.kind = "tree";
    q.kind = HoldQuery::Kind::kBelow;
    q.dir = a.path;
    q.devs.push_back(st.st_dev);
    for (const auto* m : procfs::mounts_below(mounts, a.path)) {
      struct stat below;
      if (::stat(m->mount_point.c_str(), &below) == 0) q.devs.push_back(below.st_dev);
    }
    if (const auto* m = procfs::mount_of(mounts, a.path)) a.fstype = m->fstype;
    method = Method::kProc;  // paths, not (dev, inode): only /proc names them
  } else if (r.kind == Resource::Kind::kMount) {
    a.kind = "mount";
    q.kind = HoldQuery::Kind::kDevice;
    q.dev = st.st_dev;
    const procfs::MountEntry* mount = nullptr;
    if (S_ISBLK(st.st_mode)) {  // a mounted block device: its filesystem
      q.dev = st.st_rdev;
      for (const auto& m : mounts) {
        if (makedev(m.major, m.minor) == st.st_rdev) mount = &m;
      }
      if (mount == nullptr) return not_found(fmt::format("{} is not mounted", output::escape_text(r.path)));
    } else {
      mount = procfs::mount_of(mounts, a.path);
      // A filesystem whose stat() device differs from its superblock's
      // (btrfs subvolumes) still has its holders by st_dev; the mount
      // table only names it.
      if (mount != nullptr && makedev(mount->major, mount->minor) != st.st_dev) mount = nullptr;
    }
    if (mount != nullptr) {
      a.path = mount->mount_point;
      a.fstype = mount->fstype;
      a.source = mount->source;
      marker = mount->mount_point;
    }
  } else {
    a.kind = kind_of(st.st_mode);
    if (S_ISSOCK(st.st_mode)) {
      a.unix_inodes = unix_sockets_at(reader, r.path, a.path);
      a.dev = st.st_dev;
      a.ino = st.st_ino;
      a.holds = socket_holds(reader, a.unix_inodes, method, a.stats, a.method);
      return a;
    }
    q.kind = HoldQuery::Kind::kFile;
    q.ino = st.st_ino;
    q.dev = st.st_dev;
    q.maps = S_ISREG(st.st_mode) || S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode);
  }
  a.dev = q.dev;
  a.ino = q.ino;
  a.holds = file_holds(reader, q, marker, method, a.stats, a.method);
  return a;
}

#ifdef LINEAGE_HAVE_BPF
// The other ends from the BPF file iterator. A pipe and a socket pair of
// this process's own are looked for too, and must come back: they prove the
// st_dev -> kernel dev_t translation of pipefs and sockfs. nullopt: /proc.
std::optional<std::vector<procfs::Holder>> peer_holders_bpf(const std::unordered_set<uint64_t>& pipes,
                                                            const std::unordered_set<uint64_t>& sockets) {
  int p[2], sp[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return std::nullopt;
  UniqueFd pipe_r(p[0]), pipe_w(p[1]);
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0) return std::nullopt;
  UniqueFd sock_a(sp[0]), sock_b(sp[1]);
  struct stat pst {}, sst {};
  if (::fstat(pipe_r.get(), &pst) != 0 || ::fstat(sock_a.get(), &sst) != 0) return std::nullopt;
  const uint32_t pipe_dev = events::kernel_dev(pst.st_dev), sock_dev = events::kernel_dev(sst.st_dev);
  std::vector<events::BpfHoldKey> keys;
  keys.push_back({pipe_dev, pst.st_ino});
  keys.push_back({sock_dev, sst.st_ino});
  for (uint64_t ino : pipes) keys.push_back({pipe_dev, ino});
  for (uint64_t ino : sockets) keys.push_back({sock_dev, ino});
  auto found = events::find_holders_bpf(keys, false);
  if (!found) return std::nullopt;
  const auto self = static_cast<int32_t>(::getpid());
  bool pipe_seen = false, sock_seen = false;
  std::vector<procfs::Holder> out;
  for (const auto& f : *found) {
    if (f.fd < 0) continue;  // cwd, root, exe: not an end of a pipe or socket
    if (f.pid == self && (f.fd == pipe_r.get() || f.fd == pipe_w.get())) {
      pipe_seen = true;
      continue;
    }
    if (f.pid == self && (f.fd == sock_a.get() || f.fd == sock_b.get())) {
      sock_seen = true;
      continue;
    }
    const bool is_pipe = f.dev == pipe_dev;
    if (is_pipe ? !pipes.contains(f.inode) : (f.dev != sock_dev || !sockets.contains(f.inode))) continue;
    out.push_back({f.pid, f.fd, is_pipe, f.inode, fd_access(f.mode)});
  }
  if (!pipe_seen || !sock_seen) return std::nullopt;
  std::sort(out.begin(), out.end(), [](const procfs::Holder& a, const procfs::Holder& b) {
    return a.pid != b.pid ? a.pid < b.pid : a.fd < b.fd;
  });
  return out;
}
#endif

}  // namespace

Result<Resource> parse_resource(std::string_view text, bool dir, bool mount) {
  if (dir && mount) return usage_error("give one of --dir and --mount");
  if (text.empty()) return usage_error("no resource: give a PATH, :PORT, tcp/PORT or udp/PORT");
  Resource r;
  std::string_view digits;
  bool port = false;
  if (text.starts_with(":")) {
    port = true;
    digits = text.substr(1);
  } else if (text.starts_with("tcp/") || text.starts_with("udp/")) {
    port = true;
    r.tcp = text.starts_with("tcp/");
    digits = text.substr(4);
  }
  if (port) {
    if (dir || mount) return usage_error("--dir and --mount take a path, not a port");
    auto number = parse_port_number(digits, text);
    if (!number) return number.error();
    r.kind = Resource::Kind::kPort;
    r.port = *number;
    return r;
  }
  r.kind = dir ? Resource::Kind::kTree : mount ? Resource::Kind::kMount : Resource::Kind::kPath;
  r.path = std::string(text);
  return r;
}

std::optional<Method> parse_method(std::string_view text) {
  if (text == "auto") return Method::kAuto;
  if (text == "bpf") return Method::kBpf;
  if (text == "proc") return Method::kProc;
  return std::nullopt;
}

size_t count_processes(const procfs::ProcReader& reader, size_t up_to) {
  size_t n = 0;
  int fd = ::open(reader.root().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return n;
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    ::close(fd);
    return n;
  }
  while (n < up_to) {
    const dirent* e = ::readdir(dir);
    if (e == nullptr) break;
    const char* c = e->d_name;
    while (*c >= '0' && *c <= '9') ++c;
    n += (*c == '\0' && c != e->d_name) ? 1 : 0;
  }
  ::closedir(dir);
  return n;
}

bool choose_bpf(Method method, size_t processes) {
  if (method == Method::kAuto) return processes >= kBpfMinProcesses;
  return method == Method::kBpf;
}

std::vector<Hold> socket_holds(const procfs::ProcReader& reader, const std::vector<uint64_t>& inodes,
                               [[maybe_unused]] Method method, procfs::ScanStats& stats, std::string& used) {
  std::vector<Hold> holds;
  if (inodes.empty()) return holds;
#ifdef LINEAGE_HAVE_BPF
  if (reader.root() == "/proc" && choose_bpf(method, method == Method::kAuto ? count_processes(reader, kBpfMinProcesses) : 0)) {
    if (auto found = events::find_socket_holders_bpf(inodes)) {
      used = "bpf";
      for (const auto& f : *found) {
        Hold h;
        h.pid = f.pid;
        h.fd = f.fd;
        h.inode = f.inode;
        holds.push_back(std::move(h));
      }
      drop_self(holds);
      return holds;
    }
  }
#endif
  used = "proc";
  HoldQuery q;
  q.kind = HoldQuery::Kind::kSockets;
  q.socket_inodes = inodes;
  holds = procfs::scan_holders(reader, q, &stats);
  // One hold per (process, socket), its lowest fd: as the kernel's answer.
  std::stable_sort(holds.begin(), holds.end(), [](const Hold& a, const Hold& b) {
    return a.pid != b.pid ? a.pid < b.pid : a.inode != b.inode ? a.inode < b.inode : a.fd < b.fd;
  });
  holds.erase(std::unique(holds.begin(), holds.end(),
                          [](const Hold& a, const Hold& b) { return a.pid == b.pid && a.inode == b.inode; }),
              holds.end());
  std::stable_sort(holds.begin(), holds.end(),
                   [](const Hold& a, const Hold& b) { return a.pid != b.pid ? a.pid < b.pid : a.fd < b.fd; });
  drop_self(holds);
  return holds;
}

std::vector<procfs::Holder> peer_holders(const procfs::ProcReader& reader, const std::unordered_set<uint64_t>& pipes,
                                         const std::unordered_set<uint64_t>& sockets, [[maybe_unused]] Method method,
                                         procfs::ScanStats& stats, std::string& used) {
  if (pipes.empty() && sockets.empty()) return {};
#ifdef LINEAGE_HAVE_BPF
  if (reader.root() == "/proc" &&
      choose_bpf(method, method == Method::kAuto ? count_processes(reader, kBpfMinProcesses) : 0)) {
    if (auto found = peer_holders_bpf(pipes, sockets)) {
      used = "bpf";
      return std::move(*found);
    }
  }
#endif
  used = "proc";
  return procfs::find_holders(reader, pipes, sockets, &stats);
}

Result<WhoAnswer> find_holders(const procfs::ProcReader& reader, const Resource& resource, Method method) {
  if (resource.kind == Resource::Kind::kPort) return port_holders(reader, resource, method);
  return path_holders(reader, resource, method);
}

}  // namespace lineage::resolve
