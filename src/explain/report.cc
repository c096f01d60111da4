#include "explain/report.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <string_view>

#include "explain/detectors.h"
#include "explain/file_read.h"
#include "explain/narrative.h"
#include "explain/session.h"
#include "explain/warnings.h"
#include "procfs/net.h"
#include "procfs/parsers.h"
#include "procfs/users.h"

namespace lineage::explain {
namespace {

std::string read_small(const std::string& path, size_t cap = 256) {
  std::string text;
  if (read_bounded(path, cap, text) != FileStatus::kOk) return {};
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// Appends the pids listed in a task's children file.
void add_child_pids(std::string text, std::vector<int32_t>& pids) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  for (size_t pos = 0; pos < text.size() && pids.size() < 100000;) {
    size_t end = text.find(' ', pos);
    if (end == std::string::npos) end = text.size();
    int32_t pid = 0;
    std::from_chars(text.data() + pos, text.data() + end, pid);
    if (pid > 0) pids.push_back(pid);
    pos = end + 1;
  }
}

// Children from /proc/PID/task/*/children: no scan of the whole table. A
// single-threaded process (its stat says so) has one task to ask. The
// children's stat alone when only their states are needed.
std::vector<core::Process> read_children(const procfs::ProcReader& reader, const core::Process& p,
                                         int dirfd, core::FieldMask fields) {
  std::vector<core::Process> out;
  std::vector<int32_t> pids;
  std::string text;
  if (dirfd >= 0 && p.stat.num_threads == 1) {
    std::string name = "task/" + std::to_string(p.pid()) + "/children";
    if (procfs::read_file_at(dirfd, name.c_str(), text, 1 << 20) == procfs::ReadError::kNone) {
      add_child_pids(std::move(text), pids);
    }
  } else {
    std::string task_dir = reader.root() + "/" + std::to_string(p.pid()) + "/task";
    std::error_code ec;
    for (const auto& task : std::filesystem::directory_iterator(task_dir, ec)) {
      add_child_pids(read_small(task.path().string() + "/children", 1 << 20), pids);
    }
  }
  for (int32_t pid : pids) {
    auto child = reader.read(pid, fields);
    if (child && child->ppid() == p.pid()) out.push_back(std::move(*child));
  }
  return out;
}

// The listening sockets a pid holds: the kernel's socket table, then the
// pid's own fds (no scan of other processes).
std::vector<Listener> listeners_of(const procfs::ProcReader& reader, int32_t pid, int dirfd) {
  std::vector<Listener> out;
  std::vector<uint64_t> inodes =
      dirfd >= 0 ? procfs::socket_inodes_at(dirfd) : procfs::socket_inodes_of(reader, pid);
  if (inodes.empty()) return out;  // no sockets: ask no more
  auto all = procfs::list_sockets();
  if (!all) return out;
  std::vector<procfs::SocketEntry> listening;
  for (auto& s : *all) {
    if (s.listening && s.inode != 0) listening.push_back(std::move(s));
  }
  for (const auto& s : procfs::sockets_with(inodes, listening)) {
    out.push_back({std::string(procfs::protocol_name(s.proto)), s.local_address, s.local_port,
                   procfs::binds_all_interfaces(s)});
  }
  return out;
}

// git's safe.directory reasoning: a repository belongs to whoever owns its
// git directory. One owned by another user (a shared /tmp, someone else's
// home) is theirs to write, HEAD included.
bool trusted_git_owner(const struct stat& st, uint32_t owner_uid) {
  return st.st_uid == owner_uid || st.st_uid == 0;
}

std::string first_line(std::string text) {
  text.resize(std::min(text.size(), text.find('\n')));
  while (!text.empty() && (text.back() == '\r' || text.back() == ' ')) text.pop_back();
  return text;
}

// A ref name as git allows it (no controls, blanks or any of ~^:?*[\), or a
// commit id: what HEAD holds. Anything else is not printed as a branch.
bool is_ref_name(std::string_view s) {
  if (!s.starts_with("refs/") || s.size() > 200) return false;
  return std::none_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7f || std::string_view("~^:?*[\\").find(c) != std::string_view::npos;
  });
}
bool is_commit_id(std::string_view s) {
  auto hex = [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; };
  return (s.size() == 40 || s.size() == 64) && std::all_of(s.begin(), s.end(), hex);
}

// The branch HEAD names in an open git directory ("" when HEAD is missing,
// not a small regular file, reached through an untrusted link or malformed).
std::string branch_of(int git_dir) {
  std::string text;
  if (read_bounded_at(git_dir, "HEAD", 256, text) != FileStatus::kOk) return {};
  std::string head = first_line(std::move(text));
  if (head.starts_with("ref: ")) {
    std::string_view ref = std::string_view(head).substr(5);
    if (!is_ref_name(ref)) return {};
    return std::string(ref.starts_with("refs/heads/") ? ref.substr(11) : ref);
  }
  if (is_commit_id(head)) return head.substr(0, 12) + " (detached)";
  return {};
}

// A worktree or submodule: .git is a file "gitdir: PATH" (open as dot_git),
// and PATH must pass the same ownership rule.
std::string branch_via_gitdir(const std::string& dir, const OpenedFile& dot_git, uint32_t owner_uid) {
  OpenedFile file = open_safe(dir + "/.git", OpenAs::kRead);
  if (!file.ok() || file.st.st_dev != dot_git.st.st_dev || file.st.st_ino != dot_git.st.st_ino) return {};
  std::string text;
  if (read_bounded_fd(file.fd.get(), file.st, 4096, text) != FileStatus::kOk) return {};
  std::string link = first_line(std::move(text));
  if (!link.starts_with("gitdir: ") || link.size() == 8) return {};
  std::string gitdir = link.substr(8);
  if (!gitdir.starts_with("/")) gitdir = dir + "/" + gitdir;
  OpenedFile target = open_safe(gitdir, OpenAs::kPath);
  if (!target.ok() || !S_ISDIR(target.st.st_mode) || !trusted_git_owner(target.st, owner_uid)) return {};
  return branch_of(target.fd.get());
}

// An orphan whose session leader is alive: the sources of the leader's
// chain, right after the orphan source they explain.
void add_session_sources(const Context& ctx, Report& report) {
  auto orphan = std::find_if(report.sources.begin(), report.sources.end(),
                             [](const Source& s) { return s.kind == "orphan"; });
  if (orphan == report.sources.end()) return;
  auto session = explain_session(ctx, *orphan, report.sources);
  if (!session) return;
  report.session_chain = std::move(session->chain.processes);
  report.sources.insert(orphan + 1, std::make_move_iterator(session->sources.begin()),
                        std::make_move_iterator(session->sources.end()));
}

// A re-parented target: its recorded fork ancestors that exited take the
// place of the adopter in the chain, above them the live chain of the
// nearest one still running. Returns whether the chain changed.
//
// `orphan`: the detectors saw a re-parenting to init. Otherwise the target
// may have been adopted by a child subreaper (PR_SET_CHILD_SUBREAPER:
// systemd --user, tini, a container shim), which /proc cannot tell from a
// parent that forked it: the chain changes only when history recorded a
// fork parent other than the current parent, and nothing is noted when
// history does not cover the target.
bool splice_history(const procfs::ProcReader& reader, const Recall& recall, Report& report, bool orphan) {
  Origin o = recall.origin(report.target());
  if (!orphan) {
    const auto& ch = report.chain.processes;
    if (!o.covered || ch.size() < 2) return false;
    const core::Process& parent = ch[ch.size() - 2];
    bool forked_by_parent = o.ancestors.empty() &&
                            (!o.live_ancestor || (o.live_ancestor->pid == parent.pid() &&
                                                  core::same_start(o.live_ancestor->start_time_ns,
                                                                   parent.key.start_time_ns, reader.tick_ns())));
    if (forked_by_parent) return false;
  }
  if (!o.covered) {
    if (!o.note.empty()) report.history_covered = false, report.history_note = std::move(o.note);
    return false;
  }
  report.history_covered = true;
  if (o.ancestors.empty() && !o.live_ancestor) return false;
  Chain head;
  if (o.live_ancestor) {
    auto live = build_chain(reader, o.live_ancestor->pid);
    if (live && core::same_start(live->processes.back().key.start_time_ns, o.live_ancestor->start_time_ns,
                                 reader.tick_ns())) {
      head = std::move(*live);
    }
  }
  Chain& c = report.chain;
  core::Process target = std::move(c.processes.back());
  UniqueFd target_fd = c.dirfds.empty() ? UniqueFd() : std::move(c.dirfds.back());
  c.processes = std::move(head.processes);
  c.dirfds = std::move(head.dirfds);
  c.dirfds.resize(c.processes.size());
  for (auto& p : o.ancestors) {
    c.processes.push_back(std::move(p));
    c.dirfds.emplace_back();
  }
  c.processes.push_back(std::move(target));
  c.dirfds.push_back(std::move(target_fd));
  c.reused_parent_pid = head.reused_parent_pid;
  c.truncated = head.truncated;
  c.loop = head.loop;
  return true;
}

// What /proc says of a target that a parent other than init may have
// adopted rather than forked (a child subreaper: systemd --user, tini, a
// container shim). A child inherits its session and process group from
// the process that forked it, so a session or group that is neither the
// target's own nor its parent's came from a launcher that is gone (a login
// shell that ran `job &` and exited); a parent younger than the target
// cannot have forked it; and a few programs are subreapers by trade.
bool may_be_adopted(const std::vector<core::Process>& chain) {
  if (chain.size() < 2) return false;
  const core::Process& t = chain.back();
  const core::Process& parent = chain[chain.size() - 2];
  if (t.is_kernel_thread() || parent.pid() <= 1) return false;
  if (t.stat.sid > 0 && t.stat.sid != t.pid() && t.stat.sid != parent.stat.sid) return true;
  if (t.stat.pgid > 0 && t.stat.pgid != t.pid() && t.stat.pgid != parent.stat.pgid) return true;
  if (parent.key.start_time_ns > t.key.start_time_ns) return true;
  static constexpr std::string_view kSubreapers[] = {"systemd", "tini", "dumb-init", "docker-init", "catatonit",
                                                     "containerd-shim", "conmon", "s6-svscan", "s6-supervise"};
  return std::find(std::begin(kSubreapers), std::end(kSubreapers), parent.stat.comm) != std::end(kSubreapers);
}

}  // namespace

Report explain_recorded(const procfs::ProcReader& reader, const core::SystemInfo& sys, const Paths& paths,
                        std::vector<core::Process> chain, const ReportOptions& options) {
  Report report;
  report.chain.processes = std::move(chain);
  procfs::UserNames users;
  for (auto& p : report.chain.processes) users.fill(p);
  Context ctx{report.chain.processes, reader, sys, paths, options.verifier};
  report.sources = detect_all(ctx);
  report.summary = summarize(report.chain.processes, report.sources, report.session_chain);
  WarningInputs in;
  in.sources = report.sources;
  report.warnings = find_warnings(ctx, in);
  if (!options.want_environment) {
    for (auto& p : report.chain.processes) p.environ.reset();
  }
  return report;
}

Report explain_chain(const procfs::ProcReader& reader, const core::SystemInfo& sys, const Paths& paths,
                     std::vector<core::Process> chain, const ChainFacts& facts, const ReportOptions& options) {
  Report report;
  report.chain.processes = std::move(chain);
  report.chain.reused_parent_pid = facts.reused_parent_pid;
  report.chain.truncated = facts.truncated;
  Context ctx{report.chain.processes, reader, sys, paths, options.verifier};
  report.sources = detect_all(ctx);
  add_session_sources(ctx, report);
  report.summary = summarize(report.chain.processes, report.sources, report.session_chain);
  WarningInputs in;
  in.sources = report.sources;
  in.reused_parent_pid = facts.reused_parent_pid;
  in.chain_truncated = facts.truncated;
  in.zombie_children = facts.zombie_children;
  for (const auto& l : facts.listeners) {
    report.listeners.push_back(l);
    if (l.all_interfaces && !in.listens_on_all_interfaces) {
      in.listens_on_all_interfaces = true;
      in.listening_on = l.address + ":" + std::to_string(l.port) + "/" + l.protocol;
    }
  }
  report.warnings = find_warnings(ctx, in);
  if (options.want_git && report.target().cwd) {
    uint32_t uid = report.target().status ? report.target().status->uid.effective : 0;
    report.git = find_git(*report.target().cwd, uid);
  }
  if (!options.want_environment) {
    for (auto& p : report.chain.processes) p.environ.reset();
  }
  for (auto& p : report.session_chain) p.environ.reset();
  return report;
}

std::optional<GitInfo> find_git(const std::string& start, uint32_t owner_uid) {
  std::string dir = start;
  for (int depth = 0; depth < 64 && !dir.empty(); ++depth) {
    std::string base = dir == "/" ? "" : dir;
    OpenedFile dot_git = open_safe(base + "/.git", OpenAs::kPath);
    if (dot_git.ok()) {
      // The nearest .git is the repository, as for git: when it is not
      // trusted or not readable, no repository is reported (not a parent's).
      if (!trusted_git_owner(dot_git.st, owner_uid)) return std::nullopt;
      std::string branch;
      if (S_ISDIR(dot_git.st.st_mode)) branch = branch_of(dot_git.fd.get());
      else if (S_ISREG(dot_git.st.st_mode)) branch = branch_via_gitdir(base, dot_git, owner_uid);
      if (branch.empty()) return std::nullopt;
      return GitInfo{dir, std::move(branch)};
    }
    if (dot_git.status != FileStatus::kNotFound && dot_git.status != FileStatus::kDenied) {
      return std::nullopt;  // a .git behind a user's symlink, or unreadable
    }
    if (dir == "/") break;
    size_t slash = dir.rfind('/');
    if (slash == std::string::npos) break;
    dir = slash == 0 ? "/" : dir.substr(0, slash);
  }
  return std::nullopt;
}

Result<Report> explain_pid(const procfs::ProcReader& reader, const core::SystemInfo& sys,
                           const Paths& paths, int32_t pid, const ReportOptions& options) {
  auto chain = build_chain(reader, pid);
  if (!chain) return chain.error();
  Report report;
  report.chain = std::move(*chain);
  complete_chain(reader, report.chain);
  procfs::UserNames users;
  for (auto& p : report.chain.processes) users.fill(p);
  Context ctx{report.chain.processes, reader, sys, paths, options.verifier};
  report.sources = detect_all(ctx);
  bool orphan = std::any_of(report.sources.begin(), report.sources.end(),
                            [](const Source& s) { return s.kind == "orphan"; });
  // A parent other than init may be a subreaper that adopted the target:
  // history is asked when /proc hints so (below), not for every target,
  // so that `why` of a process whose chain is alive stays as fast as
  // without a database.
  if (options.recall != nullptr && (orphan || may_be_adopted(report.chain.processes)) &&
      splice_history(reader, *options.recall, report, orphan)) {
    complete_chain(reader, report.chain);
    for (auto& p : report.chain.processes) users.fill(p);
    report.sources = detect_all(ctx);  // ctx sees the spliced chain (the same vector)
    // The origin history found tells the story; the re-parenting follows it.
    std::stable_partition(report.sources.begin(), report.sources.end(),
                          [](const Source& s) { return s.kind != "orphan"; });
  }
  add_session_sources(ctx, report);
  report.summary = summarize(report.chain.processes, report.sources, report.session_chain);

  WarningInputs in;
  in.sources = report.sources;
  in.reused_parent_pid = report.chain.reused_parent_pid;
  in.chain_truncated = report.chain.truncated;
  const int target_fd = report.chain.dirfds.empty() ? -1 : report.chain.dirfds.back().get();
  report.children = read_children(reader, report.target(), target_fd,
                                  options.want_children
                                      ? core::kFieldStat | core::kFieldStatus | core::kFieldCmdline
                                      : core::kFieldStat);  // zombies are counted from stat
  for (const auto& c : report.children) in.zombie_children += c.is_zombie();
  if (!options.want_children) report.children.clear();
  for (auto& c : report.children) users.fill(c);

  for (const auto& l : listeners_of(reader, report.target().pid(), target_fd)) {
    report.listeners.push_back(l);
    if (l.all_interfaces && !in.listens_on_all_interfaces) {
      in.listens_on_all_interfaces = true;
      in.listening_on = l.address + ":" + std::to_string(l.port) + "/" + l.protocol;
    }
  }
  report.warnings = find_warnings(ctx, in);
  if (options.want_git && report.target().cwd) {
    // Only root's repositories when the target's uid is unknown.
    uint32_t uid = report.target().status ? report.target().status->uid.effective : 0;
    report.git = find_git(*report.target().cwd, uid);
  }
  if (!options.want_environment) {
    for (auto& p : report.chain.processes) p.environ.reset();  // never kept unless asked
  }
  for (auto& p : report.session_chain) p.environ.reset();  // --env shows the target's only
  report.chain.dirfds.clear();  // a report may be one of thousands (--all)
  return report;
}

}  // namespace lineage::explain
