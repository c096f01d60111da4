#include "cli/files_command.h"

#include <fcntl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include "cli/cli11.h"
#include "explain/report.h"
#include "output/sanitize.h"
#include "procfs/holders.h"
#include "procfs/net.h"
#include "procfs/reader.h"
#include "procfs/unix_diag.h"
#include "procfs/users.h"
#include "resolve/targets.h"
#include "resolve/targets_ext.h"
#include "resolve/who.h"

namespace lineage::cli {
namespace {

// Every --type value. Types as the TYPE column shows them (lower case), and
// groups: sock (every socket), inet (IPv4 and IPv6), tcp, udp, pipe (an
// unnamed FIFO), anon (every anon_inode kind), bpf (maps, programs, links).
constexpr std::string_view kFileTypes[] = {
    "reg",     "dir",      "chr",      "blk",     "fifo",     "pipe",     "lnk",         "sock",
    "inet",    "ipv4",     "ipv6",     "tcp",     "udp",      "unix",     "netlink",     "anon",
    "eventfd", "epoll",    "signalfd", "timerfd", "inotify",  "fanotify", "pidfd",       "bpf",
    "bpf-map", "bpf-prog", "bpf-link", "io_uring", "userfaultfd", "perf_event", "memfd", "a_inode",
};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool is_anon_type(const std::string& type) {
  static constexpr std::string_view kAnon[] = {"eventfd", "epoll", "signalfd", "timerfd", "inotify",
                                               "fanotify", "pidfd", "bpf-map", "bpf-prog", "bpf-link",
                                               "io_uring", "userfaultfd", "perf_event", "a_inode"};
  return std::find(std::begin(kAnon), std::end(kAnon), type) != std::end(kAnon);
}

std::string endpoint(const std::string& address, uint16_t port, bool ipv6) {
  if (ipv6) return fmt::format("[{}]:{}", address, port);
  return fmt::format("{}:{}", address, port);
}

// Socket types and details: TCP/UDP from one sock_diag dump per protocol the
// process holds, unix sockets by exact lookups, netlink from /proc/net/netlink.
void describe_sockets(const procfs::ProcReader& reader, std::vector<output::FileRow>& rows) {
  using procfs::Protocol;
  static const std::map<std::string, Protocol, std::less<>> kInet = {
      {"TCP", Protocol::kTcp}, {"TCPv6", Protocol::kTcp6}, {"UDP", Protocol::kUdp}, {"UDPv6", Protocol::kUdp6}};
  std::vector<Protocol> wanted;
  std::vector<uint64_t> unix_inodes;
  bool want_netlink = false;
  for (auto& row : rows) {
    const auto& f = row.file;
    if (f.kind != procfs::LinkKind::kSocket) continue;
    auto inet = kInet.find(f.sock_proto);
    if (inet != kInet.end()) {
      if (std::find(wanted.begin(), wanted.end(), inet->second) == wanted.end()) wanted.push_back(inet->second);
    } else if (f.sock_proto.starts_with("UNIX") || f.sock_proto.empty()) {
      unix_inodes.push_back(f.inode);
    }
    if (f.sock_proto == "NETLINK") want_netlink = true;
  }
  std::unordered_map<uint64_t, procfs::InetSocket> inet;
  for (Protocol p : wanted) {
    auto got = procfs::list_inet_sockets(p);
    if (!got) continue;  // the row stays "sock" with its protocol name
    for (auto& s : *got) inet.emplace(s.entry.inode, std::move(s));
  }
  std::unordered_map<uint64_t, procfs::UnixSocket> unix;
  if (auto got = procfs::query_unix_sockets(unix_inodes)) {
    for (auto& s : *got) unix.emplace(s.inode, std::move(s));
  }
  std::unordered_map<uint64_t, int> netlink;
  if (want_netlink) {
    UniqueFd root(::open(reader.root().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    std::string text;
    if (root.valid() && procfs::read_file_at(root.get(), "net/netlink", text, 16 << 20) == procfs::ReadError::kNone) {
      netlink = procfs::parse_proc_netlink(text);
    }
  }
  for (auto& row : rows) {
    auto& f = row.file;
    if (f.kind != procfs::LinkKind::kSocket) continue;
    output::SocketInfo info;
    info.protocol = f.sock_proto;
    if (auto it = inet.find(f.inode); it != inet.end()) {
      const auto& e = it->second.entry;
      bool v6 = procfs::is_ipv6(e.proto);
      f.type = v6 ? "IPv6" : "IPv4";
      info.protocol = procfs::is_tcp(e.proto) ? "TCP" : "UDP";
      info.local = endpoint(e.local_address, e.local_port, v6);
      if (e.remote_port != 0) info.remote = endpoint(e.remote_address, e.remote_port, v6);
      info.state = std::string(procfs::socket_state_name(e));
      info.rqueue = it->second.rqueue;
      info.wqueue = it->second.wqueue;
    } else if (auto u = unix.find(f.inode); u != unix.end()) {
      f.type = "unix";
      info.protocol = "UNIX";
      info.local = u->second.path;
      info.kind = std::string(procfs::unix_type_name(u->second.type));
      info.state = std::string(procfs::unix_state_name(u->second.state));
      if (u->second.have_queues) {
        info.rqueue = u->second.rqueue;
        info.wqueue = u->second.wqueue;
      }
      info.peer_inode = u->second.peer;
    } else if (f.sock_proto.starts_with("UNIX")) {
      f.type = "unix";  // closed meanwhile, or not in this network namespace
      info.protocol = "UNIX";
    } else if (f.sock_proto == "NETLINK") {
      f.type = "netlink";
      if (auto n = netlink.find(f.inode); n != netlink.end()) info.local = procfs::netlink_protocol_name(n->second);
    } else if (kInet.contains(f.sock_proto)) {
      f.type = f.sock_proto.ends_with("v6") ? "IPv6" : "IPv4";
      info.protocol = f.sock_proto.substr(0, 3);
    }
    if (info.protocol.empty()) info.protocol = "?";
    row.socket = std::move(info);
  }
}

// A named FIFO (mkfifo) of the report: the file, not a pipefs inode.
bool named_fifo(const output::FileRow& row) {
  return row.file.kind == procfs::LinkKind::kPath && row.file.type == "FIFO" && row.file.dev_major &&
         row.file.dev_minor && row.file.inode != 0;
}
uint64_t fifo_dev(const output::FileRow& row) { return makedev(*row.file.dev_major, *row.file.dev_minor); }

// The fds of every process that has one of the report's named FIFOs open:
// one /proc scan for each (a process rarely has more than one).
std::vector<std::pair<size_t, procfs::Hold>> named_fifo_holds(const procfs::ProcReader& reader,
                                                              const output::FilesReport& report,
                                                              procfs::ScanStats& stats) {
  std::vector<std::pair<size_t, procfs::Hold>> out;
  std::vector<std::pair<uint64_t, uint64_t>> done;
  for (size_t i = 0; i < report.rows.size(); ++i) {
    const auto& row = report.rows[i];
    if (!named_fifo(row)) continue;
    std::pair<uint64_t, uint64_t> id{fifo_dev(row), row.file.inode};
    if (std::find(done.begin(), done.end(), id) != done.end()) continue;
    done.push_back(id);
    procfs::HoldQuery q;
    q.kind = procfs::HoldQuery::Kind::kFile;
    q.dev = id.first;
    q.ino = id.second;
    q.maps = false;
    for (auto& h : procfs::scan_holders(reader, q, &stats)) {
      if (h.kind == procfs::HoldKind::kFd) out.emplace_back(i, std::move(h));
    }
  }
  return out;
}

// The other end of every pipe, named FIFO and unix socket: one pass over
// every process's fd links (and one more per named FIFO), then each
// holder's one-line why.
void find_peers(const procfs::ProcReader& reader, const core::SystemInfo& sys, resolve::Method method,
                output::FilesReport& report) {
  std::unordered_set<uint64_t> pipes, sockets;
  bool fifos = false;
  for (const auto& row : report.rows) {
    if (row.file.kind == procfs::LinkKind::kPipe) pipes.insert(row.file.inode);
    if (row.socket && row.socket->peer_inode != 0) sockets.insert(row.socket->peer_inode);
    fifos |= named_fifo(row);
  }
  if (pipes.empty() && sockets.empty() && !fifos) return;
  procfs::ScanStats stats;
  auto holders = resolve::peer_holders(reader, pipes, sockets, method, stats, report.peer_method);
  // A named FIFO's holders join as pipe holders of the row they match.
  std::vector<std::pair<size_t, procfs::Holder>> fifo_holders;
  for (auto& [row, h] : named_fifo_holds(reader, report, stats)) {
    fifo_holders.emplace_back(row, procfs::Holder{h.pid, h.fd, true, h.inode, h.mode});
  }
  report.peer_scan = true;
  report.peer_scan_denied = stats.denied;

  // comm and why of each holder, once per pid; a bounded number explained
  // (a pipe inherited by a whole tree has thousands of holders).
  constexpr size_t kMaxExplained = 64;
  constexpr size_t kMaxPeersListed = 1000;
  struct Who {
    std::string comm, why;
  };
  std::unordered_map<int32_t, Who> who;
  explain::ReportOptions ropts;
  ropts.want_git = false;
  explain::Paths paths;
  // lineage itself holds what it inherited (its caller's pipes): not a peer.
  const int32_t self = static_cast<int32_t>(::getpid());
  std::erase_if(holders, [&](const procfs::Holder& h) { return h.pid == self && self != report.pid; });
  std::erase_if(fifo_holders, [&](const auto& rh) { return rh.second.pid == self && self != report.pid; });
  std::vector<const procfs::Holder*> all;
  for (const auto& h : holders) all.push_back(&h);
  for (const auto& rh : fifo_holders) all.push_back(&rh.second);
  for (const procfs::Holder* hp : all) {
    const procfs::Holder& h = *hp;
    if (who.contains(h.pid)) continue;
    Who w;
    if (h.pid == report.pid) {
      w.comm = report.comm;
    } else if (who.size() < kMaxExplained) {
      if (auto r = explain::explain_pid(reader, sys, paths, h.pid, ropts)) {
        w.comm = r->target().stat.comm;
        w.why = r->summary;
      }
    }
    if (w.comm.empty()) {
      if (auto p = reader.read(h.pid, core::kFieldStat)) w.comm = p->stat.comm;
    }
    who.emplace(h.pid, std::move(w));
  }
  auto add_peer = [&](output::FileRow& row, const procfs::Holder& h) {
    if (h.pid == report.pid && h.fd == row.file.fd) return;  // this fd itself
    if (row.peers.size() >= kMaxPeersListed) {
      ++row.peers_omitted;
      return;
    }
    const Who& w = who[h.pid];
    row.peers.push_back({h.pid, w.comm, h.fd, h.mode, w.why});
  };
  for (size_t i = 0; i < report.rows.size(); ++i) {
    auto& row = report.rows[i];
    if (named_fifo(row)) {
      row.peers_searched = true;
      for (const auto& [r, h] : fifo_holders) {
        if (r == i) add_peer(row, h);
      }
      continue;
    }
    bool pipe = row.file.kind == procfs::LinkKind::kPipe;
    uint64_t wanted = pipe ? row.file.inode : row.socket ? row.socket->peer_inode : 0;
    if (wanted == 0) continue;
    row.peers_searched = true;
    for (const auto& h : holders) {
      if (h.pipe == pipe && h.inode == wanted) add_peer(row, h);
    }
  }
}

Result<int32_t> resolve_pid(const procfs::ProcReader& reader, const FilesOptions& o) {
  int given = !o.target.empty() + !o.pid.empty() + !o.name.empty();
  if (given > 1) return usage_error("give one target: TARGET, --pid or --name");
  if (given == 0) return usage_error("no target: give a PID or NAME (see lineage files --help)");
  if (!o.pid.empty() || (!o.target.empty() && resolve::looks_like_pid(o.target))) {
    return resolve::parse_pid(o.pid.empty() ? o.target : o.pid);
  }
  auto pids = resolve::resolve_name(reader, o.name.empty() ? o.target : o.name, o.exact, false);
  if (!pids) return pids.error();
  if (pids->empty()) return not_found("no process matches");
  return pids->front();
}

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ", ") + p;
  return out;
}

}  // namespace

Result<std::vector<std::string>> parse_file_types(std::string_view text) {
  std::vector<std::string> out;
  for (size_t pos = 0; pos <= text.size();) {
    size_t comma = text.find(',', pos);
    if (comma == std::string_view::npos) comma = text.size();
    std::string t = lower(text.substr(pos, comma - pos));
    pos = comma + 1;
    if (t.empty()) continue;
    if (std::find(std::begin(kFileTypes), std::end(kFileTypes), t) == std::end(kFileTypes)) {
      std::string valid;
      for (auto v : kFileTypes) valid += (valid.empty() ? "" : " ") + std::string(v);
      return usage_error(fmt::format("unknown file type '{}'; valid types: {}", output::escape_text(t), valid));
    }
    out.push_back(std::move(t));
  }
  if (out.empty()) return usage_error("--type needs at least one type");
  return out;
}

bool matches_file_type(const output::FileRow& row, const std::vector<std::string>& types) {
  const procfs::OpenFile& f = row.file;
  std::string type = lower(f.type);
  std::string proto = row.socket ? row.socket->protocol : f.sock_proto;
  for (const auto& t : types) {
    if (t == type) return true;
    if (t == "sock" && f.kind == procfs::LinkKind::kSocket) return true;
    if (t == "inet" && (type == "ipv4" || type == "ipv6")) return true;
    if (t == "tcp" && proto.starts_with("TCP")) return true;
    if (t == "udp" && proto.starts_with("UDP")) return true;
    if (t == "pipe" && f.kind == procfs::LinkKind::kPipe) return true;
    if (t == "anon" && is_anon_type(type)) return true;
    if (t == "bpf" && type.starts_with("bpf-")) return true;
  }
  return false;
}

Result<int> run_files(const FilesOptions& o) {
  auto method = resolve::parse_method(o.method);
  if (!method) return usage_error("--method takes auto, bpf or proc");
  std::vector<std::string> types;
  if (!o.types.empty()) {
    auto parsed = parse_file_types(o.types);
    if (!parsed) return parsed.error();
    types = std::move(*parsed);
  }
  auto reader = procfs::ProcReader::open(o.common.proc_root);
  if (!reader) return reader.error();
  auto pid = resolve_pid(*reader, o);
  if (!pid) return pid.error();

  UniqueFd dirfd;
  auto proc = reader->read(*pid, core::kFieldStat | core::kFieldStatus, &dirfd);
  if (!proc) return not_found(fmt::format("no process with pid {}", *pid));
  procfs::UserNames users;
  users.fill(*proc);

  output::FilesReport report;
  report.pid = *pid;
  report.comm = proc->stat.comm;
  report.user = proc->user;
  if (proc->status) report.uid = proc->status->uid.effective;

  procfs::FdTable table = procfs::read_fd_table(dirfd.get(), o.maps);
  std::string who = fmt::format("pid {} ({}{})", *pid, output::escape_text(report.comm),
                                report.user.empty() ? "" : ", user " + output::escape_text(report.user));
  if (table.gone) return not_found(who + " exited while its open files were read");
  if (!table.anything_read) {
    return Error{ErrorKind::kPermission,
                 fmt::format("{}: open files not readable: {} (permission denied); run as root or as its user", who,
                             join(table.not_readable))};
  }
  report.not_readable = std::move(table.not_readable);

  for (auto& f : table.files) report.rows.push_back({std::move(f), std::nullopt, false, {}});
  describe_sockets(*reader, report.rows);
  std::erase_if(report.rows, [&](const output::FileRow& row) {
    if (o.net && row.file.kind != procfs::LinkKind::kSocket) return true;
    if (o.deleted && !row.file.deleted) return true;
    return !types.empty() && !matches_file_type(row, types);
  });
  if (!o.no_peers) find_peers(*reader, reader->system_info(), *method, report);

  int rc = report.not_readable.empty() ? 0 : 1;
  if (o.common.json) {
    int w = write_out(output::dump_json(output::files_json(report)) + "\n");
    return w != 0 ? w : rc;
  }
  Terminal term = detect_terminal(o.common);
  int w = write_out(output::render_files_text(report, term.color, o.wide ? 0 : term.width));
  return w != 0 ? w : rc;
}

Command add_files_command(CLI::App& app) {
  auto o = std::make_shared<FilesOptions>();
  CLI::App* cmd = app.add_subcommand("files", "Open files, sockets and pipes of a process, like lsof -p");
  cmd->footer(
      "TARGET is a pid or a name (substring of comm or command line; --exact for an exact one).\n"
      "Examples:\n"
      "  lineage files 1234                every fd, cwd, root and exe of pid 1234\n"
      "  lineage files nginx --net         its sockets, with addresses, state and queues\n"
      "  lineage files 1234 --type pipe,unix   who is on the other end of its pipes and unix sockets\n"
      "  lineage files 1234 --deleted      files it holds that were deleted (disk space not freed)\n"
      "  lineage files 1234 --maps --json  also its mapped files, as lineage.files/v1\n"
      "Types: reg dir chr blk fifo pipe lnk sock inet ipv4 ipv6 tcp udp unix netlink anon eventfd epoll\n"
      "  signalfd timerfd inotify fanotify pidfd bpf bpf-map bpf-prog bpf-link io_uring userfaultfd\n"
      "  perf_event memfd a_inode\n"
      "Exit: 0 ok, 1 some of it not readable, 2 not found or exited, 3 nothing readable, 4 usage.");
  add_common(*cmd, o->common);
  cmd->add_option("TARGET", o->target, "A pid or a name");
  cmd->add_option("--pid", o->pid, "Target by pid");
  cmd->add_option("--name", o->name, "Target by name");
  cmd->add_flag("--exact", o->exact, "A name must equal comm or argv[0]'s base name");
  cmd->add_option("-t,--type", o->types, "Only these types, comma separated (see below)");
  cmd->add_flag("-i,--net", o->net, "Only sockets");
  cmd->add_flag("--deleted", o->deleted, "Only files deleted while open");
  cmd->add_flag("-m,--maps", o->maps, "Also memory-mapped files (mem rows)");
  cmd->add_option("--method", o->method, "The peer search: auto, bpf or proc (testing)")->group("");
  cmd->add_flag("--no-peers", o->no_peers, "Do not look for the other end of pipes, FIFOs and unix sockets");
  cmd->add_flag("-w,--wide", o->wide, "Do not cut lines to the terminal width");
  return Command{cmd, [o] { return finish(run_files(*o)); }};
}

}  // namespace lineage::cli
