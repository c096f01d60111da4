#include "procfs/fds.h"

#include <set>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <system_error>

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

// "pipe:[123]" with prefix "pipe:" -> 123.
std::optional<uint64_t> bracketed_inode(std::string_view link, std::string_view prefix) {
  if (!link.starts_with(prefix)) return std::nullopt;
  link.remove_prefix(prefix.size());
  if (link.size() < 3 || link.front() != '[' || link.back() != ']') return std::nullopt;
  uint64_t inode = 0;
  if (!to_number(link.substr(1, link.size() - 2), inode)) return std::nullopt;
  return inode;
}

constexpr std::string_view kDeleted = " (deleted)";

// A directory read with getdents64 into a caller-owned buffer (no DIR
// allocation per process); fn(name) returns false to stop. With
// short_is_end, a read that left room for more entries ends the listing:
// /proc/PID/fd fills the buffer until its last fd or until the next entry
// does not fit (an fd's entry is at most 32 bytes), which saves the final
// empty getdents64 of every process in a scan.
template <class Fn>
void for_each_entry(int dirfd, std::vector<char>& buf, Fn fn, bool short_is_end = false) {
  constexpr size_t kMaxFdEntry = 64;
  for (;;) {
    ssize_t n = ::getdents64(dirfd, buf.data(), buf.size());
    if (n <= 0) return;
    for (ssize_t off = 0; off < n;) {
      auto* d = reinterpret_cast<dirent64*>(buf.data() + off);
      if (d->d_reclen == 0) return;
      off += d->d_reclen;
      if (d->d_name[0] == '.') continue;
      if (!fn(d->d_name)) return;
    }
    if (short_is_end && buf.size() - static_cast<size_t>(n) >= kMaxFdEntry) return;
  }
}

// readlinkat into a string; the errno on failure. Links longer than
// PATH_MAX are not links the kernel makes.
int read_link(int dirfd, const char* name, std::string& out) {
  char buf[4096];
  ssize_t n = ::readlinkat(dirfd, name, buf, sizeof buf);
  if (n < 0) return errno;
  out.assign(buf, static_cast<size_t>(n));
  return 0;
}

void fill_from_stat(OpenFile& f, const struct stat& st) {
  // A device file is shown by the device it is (st_rdev), as lsof does.
  dev_t dev = S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? st.st_rdev : st.st_dev;
  f.dev_major = major(dev);
  f.dev_minor = minor(dev);
  f.inode = st.st_ino;
  if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) f.size = static_cast<uint64_t>(st.st_size);
}

// Type and path of a link, plus what stat says when the link resolves.
void describe(OpenFile& f, const struct stat* st) {
  LinkTarget t = classify_link(f.link);
  f.kind = t.kind;
  f.deleted = t.deleted;
  f.path = t.kind == LinkKind::kPath ? std::string(t.name) : f.link;
  if (st != nullptr) fill_from_stat(f, *st);
  switch (t.kind) {
    case LinkKind::kPath:
      f.type = t.memfd ? "memfd" : st != nullptr ? std::string(file_type(st->st_mode)) : "unknown";
      break;
    case LinkKind::kPipe:
      f.type = "FIFO";
      f.inode = t.inode;
      break;
    case LinkKind::kSocket:
      f.type = "sock";  // refined by the caller from the protocol
      f.inode = t.inode;
      break;
    case LinkKind::kAnon:
      f.type = std::string(anon_type(t.name));
      break;
    case LinkKind::kOther:
      f.type = st != nullptr ? std::string(file_type(st->st_mode)) : "unknown";
      if (t.name == "pidfd") f.type = "pidfd";
      break;
  }
}

// The kernel's name of a socket's protocol, read as the xattr
// system.sockprotoname of the socket inode, reached through our own
// /proc/self/fd/<dirfd> so the lookup stays in the pid directory we hold.
std::string socket_protocol(int pid_dirfd, const char* fd_name) {
  char path[96];
  std::snprintf(path, sizeof path, "/proc/self/fd/%d/fd/%s", pid_dirfd, fd_name);
  char name[32];
  ssize_t n = ::getxattr(path, "system.sockprotoname", name, sizeof name - 1);
  if (n <= 0) return "";
  std::string out(name, static_cast<size_t>(n));
  while (!out.empty() && out.back() == '\0') out.pop_back();
  return out;
}

// ENOENT alone does not mean the process exited: a kernel thread has no
// exe, a zombie no cwd. Whether it exited is asked of its stat at the end.
void note_denied(FdTable& t, int err, std::string what) {
  if (classify_errno(err) == ReadError::kDenied) t.not_readable.push_back(std::move(what));
}

// cwd, root and exe.
void read_special(int dirfd, FdTable& t) {
  static constexpr struct {
    const char* name;
    const char* label;
    const char* what;
  } kSpecial[] = {{"cwd", "cwd", "cwd"}, {"root", "rtd", "root"}, {"exe", "txt", "exe"}};
  for (const auto& s : kSpecial) {
    OpenFile f;
    f.label = s.label;
    int err = read_link(dirfd, s.name, f.link);
    if (err != 0) {
      note_denied(t, err, s.what);  // ENOENT on exe: a kernel thread has none
      continue;
    }
    struct stat st;
    bool have = ::fstatat(dirfd, s.name, &st, 0) == 0;
    describe(f, have ? &st : nullptr);
    t.anything_read = true;
    t.files.push_back(std::move(f));
  }
}

void read_fds(int dirfd, FdTable& t) {
  UniqueFd fd_dir(::openat(dirfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd_dir.valid()) {
    int err = errno;
    note_denied(t, err, "fd table");
    if (classify_errno(err) == ReadError::kGone) t.gone = true;  // every live process has one
    return;
  }
  UniqueFd info_dir(::openat(dirfd, "fdinfo", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  t.anything_read = true;
  std::vector<char> buf(16 * 1024);
  std::vector<OpenFile> fds;
  std::string text;
  for_each_entry(fd_dir.get(), buf, [&](const char* name) {
    OpenFile f;
    int number = -1;
    if (!to_number(std::string_view(name), number)) return true;
    f.fd = number;
    f.label = name;
    int err = read_link(fd_dir.get(), name, f.link);
    if (err != 0) {
      // ENOENT: closed between the listing and the read; not an entry.
      if (classify_errno(err) == ReadError::kDenied) t.not_readable.push_back("fd " + f.label);
      return true;
    }
    struct stat st;
    bool have = ::fstatat(fd_dir.get(), name, &st, 0) == 0;
    describe(f, have ? &st : nullptr);
    if (info_dir.valid() && read_file_at(info_dir.get(), name, text, 64 * 1024) == ReadError::kNone) {
      f.info = parse_fdinfo(text);
    }
    if (f.kind == LinkKind::kSocket) {
      f.sock_proto = socket_protocol(dirfd, name);
    }
    fds.push_back(std::move(f));
    return true;
  });
  std::sort(fds.begin(), fds.end(), [](const OpenFile& a, const OpenFile& b) { return a.fd < b.fd; });
  for (auto& f : fds) t.files.push_back(std::move(f));
}

void read_maps(int dirfd, FdTable& t, const std::string& exe_path) {
  std::string text;
  ReadError e = read_file_at(dirfd, "maps", text, 64 * 1024 * 1024);
  if (e != ReadError::kNone) {
    if (e == ReadError::kDenied) t.not_readable.push_back("maps");
    if (e == ReadError::kGone) t.gone = true;
    return;
  }
  t.anything_read = true;
  std::set<std::pair<uint64_t, uint64_t>> seen;  // (dev, inode)
  std::string_view rest(text);
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    auto m = parse_maps_line(line);
    if (!m || m->inode == 0 || m->path.empty() || m->path.front() != '/') continue;
    uint64_t dev = makedev(m->dev_major, m->dev_minor);
    if (!seen.emplace(dev, m->inode).second) continue;
    OpenFile f;
    f.label = "mem";
    f.link = std::string(m->path);
    LinkTarget lt = classify_link(f.link);
    f.kind = LinkKind::kPath;
    f.path = std::string(lt.name);
    f.deleted = lt.deleted;
    if (f.path == exe_path && !f.deleted) continue;  // the txt row already
    f.type = lt.memfd ? "memfd" : "REG";
    f.inode = m->inode;
    f.dev_major = m->dev_major;
    f.dev_minor = m->dev_minor;
    t.files.push_back(std::move(f));
  }
}

}  // namespace

// ---------------------------------------------------------------- text ---

LinkTarget classify_link(std::string_view link) {
  LinkTarget t;
  if (auto inode = bracketed_inode(link, "pipe:")) {
    t.kind = LinkKind::kPipe;
    t.inode = *inode;
    return t;
  }
  if (auto inode = bracketed_inode(link, "socket:")) {
    t.kind = LinkKind::kSocket;
    t.inode = *inode;
    return t;
  }
  constexpr std::string_view kAnon = "anon_inode:";
  if (link.starts_with(kAnon)) {
    std::string_view name = link.substr(kAnon.size());
    if (name.size() >= 2 && name.front() == '[' && name.back() == ']') name = name.substr(1, name.size() - 2);
    t.kind = LinkKind::kAnon;
    t.name = name;
    return t;
  }
  if (!link.empty() && link.front() == '/') {
    t.kind = LinkKind::kPath;
    if (link.ends_with(kDeleted)) {
      t.deleted = true;
      link.remove_suffix(kDeleted.size());
    }
    t.name = link;
    t.memfd = t.deleted && link.starts_with("/memfd:");
    return t;
  }
  if (bracketed_inode(link, "pidfd:")) t.name = "pidfd";  // pidfs on some kernels
  t.kind = LinkKind::kOther;
  return t;
}

std::string_view anon_type(std::string_view n) {
  static constexpr std::pair<std::string_view, std::string_view> kKinds[] = {
      {"eventfd", "eventfd"},         {"eventpoll", "epoll"},       {"signalfd", "signalfd"},
      {"timerfd", "timerfd"},         {"inotify", "inotify"},       {"fanotify", "fanotify"},
      {"pidfd", "pidfd"},             {"bpf-map", "bpf-map"},       {"bpf-prog", "bpf-prog"},
      {"bpf_link", "bpf-link"},       {"bpf-link", "bpf-link"},     {"io_uring", "io_uring"},
      {"userfaultfd", "userfaultfd"}, {"perf_event", "perf_event"},
  };
  for (const auto& [name, type] : kKinds) {
    if (n == name) return type;
  }
  return "a_inode";
}

std::string_view file_type(mode_t mode) {
  switch (mode & S_IFMT) {
    case S_IFREG: return "REG";
    case S_IFDIR: return "DIR";
    case S_IFCHR: return "CHR";
    case S_IFBLK: return "BLK";
    case S_IFIFO: return "FIFO";
    case S_IFLNK: return "LNK";
    case S_IFSOCK: return "sock";
    case 0: return "a_inode";
  }
  return "unknown";
}

std::optional<FdInfo> parse_fdinfo(std::string_view text) {
  FdInfo info;
  bool have_pos = false, have_flags = false;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view key = line.substr(0, colon);
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == '\t' || value.front() == ' ')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    if (key == "pos" && !have_pos) {
      if (!to_number(value, info.pos)) return std::nullopt;
      have_pos = true;
    } else if (key == "flags" && !have_flags) {
      if (!to_number(value, info.flags, 8)) return std::nullopt;
      have_flags = true;
    } else if (key == "mnt_id" && !info.mnt_id) {
      int32_t id = 0;
      if (to_number(value, id)) info.mnt_id = id;
    }
  }
  if (!have_pos || !have_flags) return std::nullopt;
  return info;
}

std::string_view mode_string(uint32_t flags) {
  switch (flags & O_ACCMODE) {
    case O_RDONLY: return "r";
    case O_WRONLY: return "w";
    default: return "rw";
  }
}

std::string flag_names(uint32_t flags) {
  static constexpr std::pair<uint32_t, const char*> kFlags[] = {
      {O_APPEND, "append"}, {O_CLOEXEC, "cloexec"}, {O_NONBLOCK, "nonblock"},
      {O_DIRECT, "direct"}, {O_SYNC, "sync"},       {O_PATH, "path"},
  };
  std::string out;
  for (const auto& [bit, name] : kFlags) {
    // O_SYNC includes O_DSYNC's bit: all of its bits must be set.
    if ((flags & bit) == bit) out += (out.empty() ? "" : ",") + std::string(name);
  }
  return out;
}

// ------------------------------------------------------------- reading ---

FdTable read_fd_table(int pid_dirfd, bool with_maps) {
  FdTable t;
  read_special(pid_dirfd, t);
  read_fds(pid_dirfd, t);
  if (with_maps) {
    std::string exe;
    for (const auto& f : t.files) {
      if (f.label == "txt") exe = f.path;
    }
    read_maps(pid_dirfd, t, exe);
  }
  // A process that exited while its table was read shows fewer entries than
  // it had: its stat going away says so.
  if (!t.gone && ::faccessat(pid_dirfd, "stat", F_OK, 0) != 0 &&
      classify_errno(errno) == ReadError::kGone) {
    t.gone = true;
  }
  return t;
}

std::vector<Holder> find_holders(const ProcReader& reader, const std::unordered_set<uint64_t>& pipes,
                                 const std::unordered_set<uint64_t>& sockets, ScanStats* stats) {
  std::vector<int32_t> pids = reader.list_pids();
  UniqueFd root(::open(reader.root().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root.valid() || (pipes.empty() && sockets.empty())) return {};

  struct Part {
    std::vector<Holder> found;
    ScanStats stats;
    std::vector<char> buf = std::vector<char>(8 * 1024);  // getdents64, one per worker
  };
  auto work = [&](Part& part, std::vector<char>& buf, int32_t pid) {
    char name[32];
    std::snprintf(name, sizeof name, "%d/fd", pid);
    UniqueFd dir(::openat(root.get(), name, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir.valid()) {
      ReadError e = classify_errno(errno);
      if (e == ReadError::kGone) ++part.stats.vanished;
      if (e == ReadError::kDenied) ++part.stats.denied;
      return;
    }
    for_each_entry(dir.get(), buf, [&](const char* fd_name) {
      char target[64];  // pipe and socket links are short
      ssize_t n = ::readlinkat(dir.get(), fd_name, target, sizeof target);
      if (n <= 0 || n == static_cast<ssize_t>(sizeof target)) return true;
      std::string_view link(target, static_cast<size_t>(n));
      bool is_pipe = link.front() == 'p';
      auto inode = bracketed_inode(link, is_pipe ? "pipe:" : "socket:");
      if (!inode || !(is_pipe ? pipes : sockets).contains(*inode)) return true;
      Holder h;
      h.pid = pid;
      h.pipe = is_pipe;
      h.inode = *inode;
      to_number(std::string_view(fd_name), h.fd);
      // Only a matching fd costs an fdinfo read: its end of the pipe.
      char info[320];
      std::snprintf(info, sizeof info, "%d/fdinfo/%s", pid, fd_name);
      std::string text;
      if (read_file_at(root.get(), info, text, 4096) == ReadError::kNone) {
        if (auto fi = parse_fdinfo(text)) h.mode = std::string(mode_string(fi->flags));
      }
      part.found.push_back(std::move(h));
      return true;
    }, /*short_is_end=*/true);
  };

  std::vector<Part> parts =
      scan::for_pids_parallel<Part>(pids, [&](Part& part, int32_t pid) { work(part, part.buf, pid); });

  std::vector<Holder> out;
  for (auto& p : parts) {
    out.insert(out.end(), std::make_move_iterator(p.found.begin()), std::make_move_iterator(p.found.end()));
    if (stats != nullptr) {
      stats->vanished += p.stats.vanished;
      stats->denied += p.stats.denied;
    }
  }
  std::sort(out.begin(), out.end(), [](const Holder& a, const Holder& b) {
    return a.pid != b.pid ? a.pid < b.pid : a.fd < b.fd;
  });
  return out;
}

}  // namespace lineage::procfs
