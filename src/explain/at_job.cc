#include "explain/at_job.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

#include "core/unique_fd.h"
#include "explain/file_read.h"
#include "procfs/parsers.h"
#include "procfs/users.h"

namespace lineage::explain {
namespace {

constexpr size_t kMaxFds = 256;  // fds looked at per atd child
constexpr std::string_view kDeleted = " (deleted)";

std::optional<uint64_t> parse_hex(std::string_view s) {
  uint64_t v = 0;
  for (char c : s) {
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0) return std::nullopt;
    v = v * 16 + static_cast<uint64_t>(d);
  }
  return v;
}

/// Where atd keeps job files and their output, per distribution.
struct SpoolDirs {
  std::string jobs, output;
};

std::vector<SpoolDirs> spool_dirs(const Paths& paths) {
  const std::string& cron = paths.var_spool_cron;
  std::string spool = cron.substr(0, cron.rfind('/'));  // /var/spool
  return {{cron + "/atjobs", cron + "/atspool"},        // Debian, Ubuntu
          {spool + "/at", spool + "/at/spool"}};        // Fedora, RHEL, SUSE
}

/// An fd link that names a job file (or its output file) in a spool dir.
struct SpoolLink {
  std::string link;    // as read, " (deleted)" included
  std::string path;    // without " (deleted)"
  const SpoolDirs* dirs = nullptr;
  bool in_jobs = false;
  bool deleted = false;
  AtJobName name;
  std::string base;    // the file name
};

std::optional<SpoolLink> spool_link(std::string link, const std::vector<SpoolDirs>& all) {
  SpoolLink s;
  s.path = link;
  if (s.path.ends_with(kDeleted)) {
    s.path.resize(s.path.size() - kDeleted.size());
    s.deleted = true;
  }
  size_t slash = s.path.rfind('/');
  if (slash == std::string::npos) return std::nullopt;
  std::string_view dir = std::string_view(s.path).substr(0, slash);
  s.base = s.path.substr(slash + 1);
  auto name = parse_at_job_name(s.base);
  if (!name) return std::nullopt;
  for (const auto& d : all) {
    if (dir == d.jobs || dir == d.output) {
      s.dirs = &d;
      s.in_jobs = dir == d.jobs;
      s.name = *name;
      s.link = std::move(link);
      return s;
    }
  }
  return std::nullopt;
}

/// /proc/PID of p, checked to be p and not a later process that reused the
/// pid: links read through this fd are p's (they fail once p exits).
UniqueFd open_pid_dir(const Context& ctx, const core::Process& p) {
  if (p.recorded) return {};  // from history: the pid may be another process's now
  std::string path = fmt::format("{}/{}", ctx.reader.root(), p.pid());
  UniqueFd dir(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid()) return dir;
  std::string text;
  if (procfs::read_file_at(dir.get(), "stat", text, 4096, nullptr, true) != procfs::ReadError::kNone) {
    return {};
  }
  auto stat = procfs::parse_stat(text);
  uint64_t tick = ctx.reader.tick_ns();
  if (!stat || !core::same_start(stat->start_ticks * tick, p.key.start_time_ns, tick)) return {};
  return dir;
}

std::optional<std::string> read_link_at(int dir, const std::string& name) {
  char buf[4096];
  ssize_t n = ::readlinkat(dir, name.c_str(), buf, sizeof buf);
  if (n <= 0 || static_cast<size_t>(n) >= sizeof buf) return std::nullopt;
  return std::string(buf, static_cast<size_t>(n));
}

struct Found {
  SpoolLink link;
  int32_t pid = 0;
  std::string fd;                    // "fd 0"
  std::optional<struct stat> file;   // what the fd refers to
};

/// fd 0 of chain[first..]: atd makes the job file the job shell's stdin.
std::optional<Found> from_stdin(const Context& ctx, size_t first, const std::vector<SpoolDirs>& dirs,
                                std::vector<std::string>& evidence) {
  for (size_t i = first; i < ctx.chain.size(); ++i) {
    const core::Process& p = ctx.chain[i];
    UniqueFd dir = open_pid_dir(ctx, p);
    if (!dir.valid()) continue;
    auto link = read_link_at(dir.get(), "fd/0");
    if (!link) {
      if (errno == EACCES || errno == EPERM) {
        evidence.push_back(fmt::format("could not read fd 0 of pid {} (permission denied)", p.pid()));
      }
      continue;
    }
    auto s = spool_link(*link, dirs);
    if (!s || !s->in_jobs) continue;
    Found f{std::move(*s), p.pid(), "fd 0", std::nullopt};
    struct stat st {};
    if (::fstatat(dir.get(), "fd/0", &st, 0) == 0) f.file = st;
    return f;
  }
  return std::nullopt;
}

/// Any fd of atd's per-job children: the output file, or the job file.
std::optional<Found> from_atd_child(const Context& ctx, size_t first, size_t last,
                                    const std::vector<SpoolDirs>& dirs) {
  for (size_t i = first; i <= last; ++i) {
    UniqueFd dir = open_pid_dir(ctx, ctx.chain[i]);
    if (!dir.valid()) continue;
    UniqueFd fd_dir(::openat(dir.get(), "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    UniqueDir d = UniqueDir::from_fd(std::move(fd_dir));
    if (!d) continue;
    std::optional<Found> found;
    size_t seen = 0;
    while (dirent* e = ::readdir(d.get())) {
      if (e->d_name[0] == '.') continue;
      if (++seen > kMaxFds) break;
      std::string name = std::string("fd/") + e->d_name;
      auto link = read_link_at(dir.get(), name);
      auto s = link ? spool_link(*link, dirs) : std::nullopt;
      if (!s) continue;
      found = Found{std::move(*s), ctx.chain[i].pid(), "fd " + std::string(e->d_name), std::nullopt};
      struct stat st {};
      if (found->link.in_jobs && ::fstatat(dir.get(), name.c_str(), &st, 0) == 0) found->file = st;
      break;
    }
    if (found) return found;
  }
  return std::nullopt;
}

bool same_file(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

}  // namespace

std::optional<AtJobName> parse_at_job_name(std::string_view name) {
  if (name.size() != 14) return std::nullopt;
  char q = name[0];
  if (!((q >= 'a' && q <= 'z') || (q >= 'A' && q <= 'Z') || q == '=')) return std::nullopt;
  auto number = parse_hex(name.substr(1, 5));
  auto minutes = parse_hex(name.substr(6));
  if (!number || !minutes) return std::nullopt;
  return AtJobName{q, static_cast<uint32_t>(*number), *minutes};
}

std::optional<AtJob> find_at_job(const Context& ctx, size_t daemon_first, size_t daemon_last,
                                 std::vector<std::string>& evidence) {
  auto dirs = spool_dirs(ctx.paths);
  auto found = from_stdin(ctx, daemon_last + 1, dirs, evidence);
  if (!found) found = from_atd_child(ctx, daemon_first + 1, daemon_last, dirs);
  if (!found) {
    evidence.push_back(fmt::format("no fd 0 of the job's processes, nor any fd of atd's per-job "
                                   "child, is a job file in {} or {}",
                                   dirs[0].jobs, dirs[1].jobs));
    return std::nullopt;
  }
  const SpoolLink& link = found->link;
  evidence.push_back(fmt::format("{} of pid {} is {}", found->fd, found->pid, link.link));

  // The job file on disk: as linked, or under '=' while it runs.
  AtJob job;
  job.name = link.name;
  std::optional<struct stat> file = found->file;
  std::string rest = link.base.substr(1);
  std::vector<std::string> candidates;
  if (link.in_jobs && !link.deleted) candidates.push_back(link.path);
  candidates.push_back(link.dirs->jobs + "/=" + rest);
  if (!link.in_jobs) candidates.push_back(link.dirs->jobs + "/" + link.base);
  for (const auto& path : candidates) {
    // Only stat'ed, but through open_safe all the same: a link in the spool
    // (writable by atd's group) would name any file on the system.
    OpenedFile f = open_safe(path, OpenAs::kPath);
    if (!f.ok() || !S_ISREG(f.st.st_mode)) continue;
    if (found->file && !same_file(f.st, *found->file)) continue;
    job.spool_file = path;
    file = f.st;
    break;
  }
  if (job.spool_file.empty() && link.in_jobs) job.spool_file = link.path;  // gone, or not searchable
  if (!job.spool_file.empty() && job.spool_file != link.path) {
    evidence.push_back(found->file
                           ? fmt::format("the same file is {} (atd renames a running job's file)",
                                         job.spool_file)
                           : fmt::format("its job file is {}", job.spool_file));
  }
  if (file) job.owner = procfs::UserNames().name(file->st_uid);
  evidence.push_back(fmt::format("at job {} in queue {}{}", job.name.number, job.name.queue,
                                 job.owner.empty() ? "" : ", job file owned by " + job.owner));
  return job;
}

}  // namespace lineage::explain
