#include "procfs/reader.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <system_error>
#include <thread>

#include "core/clock.h"
#include "procfs/complete.h"
#include "procfs/parsers.h"

namespace lineage::procfs {

ReadError classify_errno(int err) {
  switch (err) {
    case 0: return ReadError::kNone;
    case ENOENT:
    case ESRCH: return ReadError::kGone;
    case EACCES:
    case EPERM: return ReadError::kDenied;
    default: return ReadError::kOther;
  }
}

ReadError read_file_at(int dirfd, const char* name, std::string& buf, size_t cap,
                       bool* truncated, bool short_read_is_eof) {
  buf.clear();
  if (truncated) *truncated = false;
  UniqueFd fd(::openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd.valid()) return classify_errno(errno);
  size_t used = 0;
  size_t chunk = 4096;
  for (;;) {
    if (used == cap) {
      char probe;
      ssize_t more = ::read(fd.get(), &probe, 1);
      if (more > 0 && truncated) *truncated = true;
      break;
    }
    size_t want = std::min(chunk, cap - used);
    buf.resize(used + want);
    ssize_t n = ::read(fd.get(), buf.data() + used, want);
    if (n < 0) {
      if (errno == EINTR) continue;
      buf.resize(used);
      return classify_errno(errno);
    }
    if (n == 0) break;
    used += static_cast<size_t>(n);
    if (short_read_is_eof && static_cast<size_t>(n) < want) break;
    chunk = std::min<size_t>(chunk * 2, 1 << 20);
  }
  buf.resize(used);
  return ReadError::kNone;
}

namespace {

// readlinkat into a string; procfs links are at most PATH_MAX long.
ReadError read_link_at(int dirfd, const char* name, std::string& out) {
  char target[4096 + 64];
  ssize_t n = ::readlinkat(dirfd, name, target, sizeof target);
  if (n < 0) return classify_errno(errno);
  out.assign(target, static_cast<size_t>(n));
  return ReadError::kNone;
}

bool parse_pid(const char* name, int32_t& pid) {
  size_t len = std::strlen(name);
  auto [ptr, ec] = std::from_chars(name, name + len, pid);
  return ec == std::errc() && ptr == name + len && pid > 0;
}

// Still alive? Used after a read failed with "gone" to tell a process that
// exited (skip it) from a file that does not exist for it (zombie's exe).
bool still_exists(int dirfd) {
  struct stat st;
  return ::fstatat(dirfd, "stat", &st, 0) == 0;
}

std::optional<core::FileStat> stat_at(int dirfd, const char* name) {
  struct stat st;
  if (::fstatat(dirfd, name, &st, 0) != 0) return std::nullopt;
  return core::FileStat{st.st_dev, st.st_ino, st.st_mode, st.st_uid, st.st_gid};
}

// The exe and root links followed (the kernel's own references: a user
// cannot redirect them) and the mount namespace.
core::ExeFile read_exe_file(int dirfd, std::string& link) {
  core::ExeFile f;
  f.exe = stat_at(dirfd, "exe");
  f.root = stat_at(dirfd, "root");
  if (read_link_at(dirfd, "ns/mnt", link) == ReadError::kNone) f.mnt_ns = parse_ns_link(link);
  return f;
}

void read_threads(int dirfd, int32_t pid, std::vector<core::Thread>& out, std::string& buf) {
  UniqueFd task(::openat(dirfd, "task", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!task.valid()) return;
  UniqueDir dir = UniqueDir::from_fd(UniqueFd(::dup(task.get())));
  if (!dir) return;
  while (dirent* entry = ::readdir(dir.get())) {
    int32_t tid = 0;
    if (!parse_pid(entry->d_name, tid) || tid == pid) continue;
    char path[32];
    std::snprintf(path, sizeof path, "%d/stat", tid);
    if (read_file_at(task.get(), path, buf, 4096, nullptr, true) != ReadError::kNone) continue;
    auto stat = parse_stat(buf);
    if (!stat) continue;
    out.push_back({tid, std::move(stat->comm), stat->state, stat->utime_ticks, stat->stime_ticks,
                   stat->start_ticks});
  }
}

}  // namespace

Result<ProcReader> ProcReader::open(const std::string& root) {
  UniqueFd fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) {
    return Error{ErrorKind::kNotFound, "cannot open proc root " + root + ": " + std::strerror(errno)};
  }
  ProcReader reader(root, std::move(fd));
  core::SystemInfo clock;  // only the tick: no need to read uptime and meminfo here
  clock.ticks_per_second = ticks_per_second();
  reader.tick_ns_ = clock.tick_ns();
  return reader;
}

uint64_t ProcReader::ticks_per_second() {
  long ticks = ::sysconf(_SC_CLK_TCK);
  return ticks > 0 ? static_cast<uint64_t>(ticks) : 100;
}

core::SystemInfo ProcReader::system_info() const {
  core::SystemInfo info;
  info.ticks_per_second = ticks_per_second();
  long page = ::sysconf(_SC_PAGESIZE);
  if (page > 0) info.page_size = static_cast<uint64_t>(page);
  std::string buf;
  // Both are generated whole at open: a short read is the end.
  if (read_file_at(root_fd_.get(), "uptime", buf, 4096, nullptr, true) == ReadError::kNone) {
    info.boot_ns_now = parse_uptime_ns(buf).value_or(0);
  }
  info.realtime_ns_now = core::realtime_now_ns();
  if (read_file_at(root_fd_.get(), "meminfo", buf, 64 * 1024, nullptr, true) == ReadError::kNone) {
    info.mem_total_kb = parse_meminfo_total_kb(buf).value_or(0);
  }
  return info;
}

std::optional<uint64_t> ProcReader::user_namespace(const core::ProcessKey& key) const {
  char name[16];
  std::snprintf(name, sizeof name, "%d", key.pid);
  UniqueFd dirfd(::openat(root_fd_.get(), name, O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dirfd.valid()) return std::nullopt;
  // The directory fd names one process: once its start time matches, the
  // link read through it cannot be a later process's.
  std::string buf;
  if (read_file_at(dirfd.get(), "stat", buf, 4096, nullptr, true) != ReadError::kNone) return std::nullopt;
  auto stat = parse_stat(buf);
  if (!stat || stat->pid != key.pid ||
      !core::same_start(stat->start_ticks * tick_ns_, key.start_time_ns, tick_ns_)) {
    return std::nullopt;
  }
  std::string link;
  if (read_link_at(dirfd.get(), "ns/user", link) != ReadError::kNone) return std::nullopt;
  return parse_ns_link(link);
}

uint64_t ProcReader::initial_user_namespace() const {
  std::string link;
  if (read_link_at(root_fd_.get(), "1/ns/user", link) != ReadError::kNone) return kInitialUserNamespace;
  return parse_ns_link(link).value_or(kInitialUserNamespace);
}

uint64_t ProcReader::pid_namespace() const {
  // Pid 1 of this mount is its namespace's init (the link takes ptrace
  // access); lineage's own namespace is the same unless /proc was not
  // remounted after an unshare.
  std::string link;
  for (const char* path : {"1/ns/pid", "self/ns/pid"}) {
    if (read_link_at(root_fd_.get(), path, link) != ReadError::kNone) continue;
    if (auto ns = parse_ns_link(link)) return *ns;
  }
  return kInitialPidNamespace;
}

uint32_t ProcReader::pid_max() const {
  std::string buf;
  if (read_file_at(root_fd_.get(), "sys/kernel/pid_max", buf, 64, nullptr, true) != ReadError::kNone) {
    return kPidMaxLimit;
  }
  auto value = parse_decimal_u32(buf);
  return value && *value > 0 ? std::min(*value, kPidMaxLimit) : kPidMaxLimit;
}

std::optional<core::Process> ProcReader::read_at(int32_t pid, int dirfd, core::FieldMask fields,
                                                 std::string& buf, const ScanFilters& filters) const {
  using namespace core;
  if (read_file_at(dirfd, "stat", buf, 4096, nullptr, true) != ReadError::kNone) return std::nullopt;
  auto stat = parse_stat(buf);
  if (!stat || stat->pid != pid) return std::nullopt;
  Process p;
  p.stat = std::move(*stat);
  p.key = {pid, p.stat.start_ticks * tick_ns_};
  p.read = kFieldStat;
  if (!read_fields(pid, dirfd, p, fields, buf, filters)) return std::nullopt;
  return p;
}

bool ProcReader::read_fields(int32_t pid, int dirfd, core::Process& p, core::FieldMask fields,
                             std::string& buf, const ScanFilters& filters) const {
  using namespace core;
  bool gone = false;
  // Records the outcome of one field group; returns true when it was read.
  auto outcome = [&](Field field, ReadError err) {
    if (err == ReadError::kNone) {
      p.read |= field;
      return true;
    }
    if (err == ReadError::kGone && !still_exists(dirfd)) gone = true;
    p.unavailable |= field;
    return false;
  };

  if (fields & kFieldStatus) {
    if (outcome(kFieldStatus, read_file_at(dirfd, "status", buf, 64 * 1024, nullptr, true))) {
      p.status = parse_status(buf);
      if (!p.status) {
        p.read &= ~kFieldStatus;
        p.unavailable |= kFieldStatus;
      }
    }
  }
  if (fields & kFieldCmdline) {
    if (outcome(kFieldCmdline,
                read_file_at(dirfd, "cmdline", buf, kMaxCmdlineBytes, &p.argv_truncated, true))) {
      p.argv = parse_cmdline(buf);
    }
  }
  std::string link;
  if (fields & kFieldExe) {
    if (outcome(kFieldExe, read_link_at(dirfd, "exe", link))) p.exe = parse_exe_link(link);
  }
  if ((fields & kFieldExeFile) && p.exe && (!filters.exe_file || filters.exe_file(p.exe->path))) {
    p.exe_file = read_exe_file(dirfd, link);
    p.read |= kFieldExeFile;
  }
  if (fields & kFieldCwd) {
    if (outcome(kFieldCwd, read_link_at(dirfd, "cwd", link))) p.cwd = link;
  }
  if (fields & kFieldCgroup) {
    // A single_open seq file like stat: generated whole, a short read ends it.
    if (outcome(kFieldCgroup, read_file_at(dirfd, "cgroup", buf, 64 * 1024, nullptr, true))) {
      p.cgroups = parse_cgroup(buf);
    }
  }
  if (fields & kFieldNamespaces) {
    bool any = false;
    for (auto [name, slot] : {std::pair{"ns/pid", &p.ns.pid}, std::pair{"ns/mnt", &p.ns.mnt},
                              std::pair{"ns/net", &p.ns.net}}) {
      ReadError err = read_link_at(dirfd, name, link);
      if (err == ReadError::kNone) {
        *slot = parse_ns_link(link);
        any = true;
      } else if (err == ReadError::kGone && !still_exists(dirfd)) {
        gone = true;
      }
    }
    // The user namespace matters only where capabilities do: a non-root
    // process holding some (are they the host's or its own namespace's?).
    // Read for those alone, so a scan of ordinary processes pays nothing.
    if (any && p.status && p.status->uid.effective != 0 && p.status->cap_effective != 0 &&
        read_link_at(dirfd, "ns/user", link) == ReadError::kNone) {
      p.ns.user = parse_ns_link(link);
    }
    (any ? p.read : p.unavailable) |= kFieldNamespaces;
  }
  if (fields & kFieldEnviron) {
    if (outcome(kFieldEnviron, read_file_at(dirfd, "environ", buf, kMaxCmdlineBytes, nullptr, true))) {
      p.environ = parse_cmdline(buf, filters.environ);  // the same NUL-separated layout
    }
  }
  if (fields & kFieldLoginUid) {
    if (outcome(kFieldLoginUid, read_file_at(dirfd, "loginuid", buf, 64, nullptr, true))) {
      p.login_uid = parse_decimal_u32(buf);
    }
    if (read_file_at(dirfd, "sessionid", buf, 64, nullptr, true) == ReadError::kNone) {
      p.session_id = parse_decimal_u32(buf);
    }
  }
  if (fields & kFieldThreads) {
    read_threads(dirfd, pid, p.threads, buf);
    p.read |= kFieldThreads;
  }
  return !gone;
}

std::optional<core::Process> ProcReader::read(int32_t pid, core::FieldMask fields,
                                              UniqueFd* keep) const {
  if (pid <= 0) return std::nullopt;
  char name[16];
  std::snprintf(name, sizeof name, "%d", pid);
  UniqueFd dirfd(::openat(root_fd_.get(), name, O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dirfd.valid()) return std::nullopt;
  std::string buf;
  auto p = read_at(pid, dirfd.get(), fields, buf);
  if (p && keep) *keep = std::move(dirfd);
  return p;
}

bool ProcReader::read_more(int dirfd, core::Process& p, core::FieldMask fields) const {
  fields &= ~core::kFieldStat;
  core::Process more;
  std::string buf;
  if (!read_fields(p.pid(), dirfd, more, fields, buf)) return false;
  const core::FieldMask more_read = more.read, more_unavailable = more.unavailable;
  take_fields(p, std::move(more), fields);
  p.read |= more_read & fields;
  p.unavailable |= more_unavailable & fields;
  return true;
}

std::vector<int32_t> ProcReader::list_pids() const {
  std::vector<int32_t> pids;
  UniqueDir dir = UniqueDir::from_fd(
      UniqueFd(::openat(root_fd_.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)));
  if (!dir) return pids;
  while (dirent* entry = ::readdir(dir.get())) {
    int32_t pid = 0;
    if (parse_pid(entry->d_name, pid)) pids.push_back(pid);
  }
  return pids;
}

std::vector<core::Process> ProcReader::scan(core::FieldMask fields, ScanStats* stats,
                                            ScanFilters filters) const {
  const std::vector<int32_t> pids = list_pids();
  // Reading /proc costs microseconds per file in the kernel, and the work
  // per pid is independent: spread it over the cores, in chunks so that a
  // slow stretch of pids does not leave a worker idle.
  constexpr size_t kChunk = 128;
  constexpr size_t kMinPidsPerWorker = 512;
  size_t workers = std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 4);
  workers = std::min(workers, std::max<size_t>(1, pids.size() / kMinPidsPerWorker));
  std::atomic<size_t> next{0};
  // One slot per listed pid, filled in place by whichever worker reads it:
  // the table comes out in /proc's (pid) order, so the tree need not sort
  // it, and each Process (768 bytes) is written once into memory touched
  // once, where per-worker vectors merged after cost a second copy of all.
  std::vector<core::Process> table(pids.size());
  std::vector<uint8_t> present(pids.size(), 0);
  std::vector<ScanStats> part_stats(workers);
  auto work = [&](ScanStats& part) {
    std::string buf;
    buf.reserve(8192);
    char name[16];
    for (size_t begin; (begin = next.fetch_add(kChunk)) < pids.size();) {
      for (size_t i = begin; i < std::min(begin + kChunk, pids.size()); ++i) {
        std::snprintf(name, sizeof name, "%d", pids[i]);
        UniqueFd dirfd(::openat(root_fd_.get(), name, O_PATH | O_DIRECTORY | O_CLOEXEC));
        std::optional<core::Process> p;
        if (dirfd.valid()) p = read_at(pids[i], dirfd.get(), fields, buf, filters);
        if (!p) {
          ++part.vanished;
          continue;
        }
        if (p->unavailable) ++part.denied;
        table[i] = std::move(*p);
        present[i] = 1;
      }
    }
  };
  std::vector<std::thread> threads;
  for (size_t w = 1; w < workers; ++w) {
    try {
      threads.emplace_back(work, std::ref(part_stats[w]));
    } catch (const std::system_error&) {
      break;  // no thread to spare: the chunks left are read below
    }
  }
  work(part_stats[0]);
  for (auto& t : threads) t.join();

  if (stats) {
    *stats = {};
    for (const ScanStats& part : part_stats) {
      stats->vanished += part.vanished;
      stats->denied += part.denied;
    }
  }
  // Close the gaps the processes that exited meanwhile left (few).
  size_t kept = 0;
  for (size_t i = 0; i < table.size(); ++i) {
    if (!present[i]) continue;
    if (kept != i) table[kept] = std::move(table[i]);
    ++kept;
  }
  table.resize(kept);
  return table;
}

}  // namespace lineage::procfs
