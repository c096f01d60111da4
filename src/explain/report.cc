#include "explain/report.h"

#include <charconv>
#include <filesystem>

#include "explain/detectors.h"
#include "explain/file_read.h"
#include "explain/narrative.h"
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

}  // namespace

std::optional<GitInfo> find_git(const std::string& start) {
  std::string dir = start;
  for (int depth = 0; depth < 64 && !dir.empty(); ++depth) {
    std::string head = read_small(dir + "/.git/HEAD");
    if (head.empty()) {
      // A worktree or submodule: .git is a file "gitdir: PATH".
      std::string link = read_small(dir + "/.git");
      if (link.starts_with("gitdir: ")) {
        std::string gitdir = link.substr(8);
        if (!gitdir.starts_with("/")) gitdir = dir + "/" + gitdir;
        head = read_small(gitdir + "/HEAD");
      }
    }
    if (!head.empty()) {
      GitInfo info;
      info.repository = dir.empty() ? "/" : dir;
      if (head.starts_with("ref: refs/heads/")) info.branch = head.substr(16);
      else if (head.starts_with("ref: ")) info.branch = head.substr(5);
      else info.branch = head.substr(0, 12) + " (detached)";
      return info;
    }
    if (dir == "/") break;
    size_t slash = dir.rfind('/');
    dir = slash == 0 ? "/" : dir.substr(0, slash);
  }
  return std::nullopt;
}

Result<Report> explain_pid(const procfs::ProcReader& reader, const procfs::SystemInfo& sys,
                           const Paths& paths, int32_t pid, const ReportOptions& options) {
  auto chain = build_chain(reader, pid);
  if (!chain) return chain.error();
  Report report;
  report.chain = std::move(*chain);
  // Environments below the first process that passes context that way.
  auto& procs = report.chain.processes;
  for (size_t i = 0; i + 1 < procs.size(); ++i) {
    if (!passes_context_in_environment(procs[i])) continue;
    for (size_t j = i + 1; j + 1 < procs.size(); ++j) read_more(reader, report.chain, j, core::kFieldEnviron);
    break;
  }
  procfs::UserNames users;
  for (auto& p : report.chain.processes) users.fill(p);
  Context ctx{report.chain.processes, reader, sys, paths};
  report.sources = detect_all(ctx);
  report.summary = summarize(report.chain.processes, report.sources);

  WarningInputs in;
  in.sources = report.sources;
  in.reused_parent_pid = report.chain.reused_parent_pid;
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
  if (options.want_git && report.target().cwd) report.git = find_git(*report.target().cwd);
  if (!options.want_environment) {
    for (auto& p : report.chain.processes) p.environ.reset();  // never kept unless asked
  }
  report.chain.dirfds.clear();  // a report may be one of thousands (--all)
  return report;
}

}  // namespace lineage::explain
