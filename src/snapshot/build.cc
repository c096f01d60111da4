// Building a snapshot: one scan of every process with every field a column
// or a detector reads, then each process's why from its chain in memory.
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "core/time_spec.h"
#include "explain/detectors.h"
#include "explain/reaping.h"
#include "output/columns.h"
#include "output/format.h"
#include "output/forest.h"
#include "output/why_writer.h"
#include "output/zombies_writer.h"
#include "procfs/net.h"
#include "procfs/users.h"
#include "resolve/targets_ext.h"
#include "snapshot/chains.h"
#include "snapshot/snapshot.h"
#include "store/history.h"
#include "store/recall.h"

namespace lineage::snapshot {
namespace {

using output::Json;

std::vector<std::string> default_column_names() {
  std::vector<std::string> names;
  std::string_view spec = output::kDefaultColumns;
  for (size_t pos = 0; pos <= spec.size();) {
    size_t comma = std::min(spec.find(',', pos), spec.size());
    names.emplace_back(spec.substr(pos, comma - pos));
    pos = comma + 1;
  }
  return names;
}

// The numeric fields process_json leaves out, so that --from restores the
// Process exactly (ps's STAT flags, times, memory, every uid).
Json raw_json(const core::Process& p) {
  const core::StatInfo& s = p.stat;
  Json j;
  j["pid"] = p.pid();
  j["read"] = p.read & ~core::kFieldEnviron;
  j["unavailable"] = p.unavailable & ~core::kFieldEnviron;
  j["stat"] = {s.tty_nr, s.tpgid, s.flags, s.utime_ticks, s.stime_ticks, s.priority, s.start_ticks,
               s.vsize_bytes, s.rss_pages};
  if (p.status) {
    const core::StatusInfo& st = *p.status;
    j["status"] = {{"uid", {st.uid.real, st.uid.effective, st.uid.saved, st.uid.filesystem}},
                   {"gid", {st.gid.real, st.gid.effective, st.gid.saved, st.gid.filesystem}},
                   {"vm_locked_kb", st.vm_locked_kb},
                   {"cap_effective", st.cap_effective},
                   {"nspid", st.ns_pids}};
  }
  if (p.session_id) j["session_id"] = *p.session_id;
  if (p.ns.user) j["userns"] = *p.ns.user;
  return j;
}

std::string hostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

Json sockets_json(const std::vector<procfs::SocketEntry>& sockets, const std::vector<procfs::SocketOwner>& owners) {
  std::unordered_map<uint64_t, std::vector<int32_t>> holders;
  for (const auto& o : owners) holders[o.socket.inode].push_back(o.pid);
  Json list = Json::array();
  for (const auto& s : sockets) {
    Json j = {{"protocol", procfs::protocol_name(s.proto)},
              {"local_address", s.local_address},
              {"local_port", s.local_port},
              {"remote_address", s.remote_address},
              {"remote_port", s.remote_port},
              {"state", std::string(procfs::socket_state_name(s))},
              {"listening", s.listening},
              {"uid", s.uid},
              {"inode", s.inode}};
    auto h = holders.find(s.inode);
    std::vector<int32_t> pids = s.inode != 0 && h != holders.end() ? h->second : std::vector<int32_t>{};
    std::sort(pids.begin(), pids.end());
    pids.erase(std::unique(pids.begin(), pids.end()), pids.end());
    j["holders"] = pids;
    list.push_back(std::move(j));
  }
  return list;
}

// The recorded processes alive in the last window, as fork, exec and exit
// events, oldest first. Null when there is no database.
Json history_json(const BuildOptions& o, const core::SystemInfo& sys) {
  if (o.history_ns <= 0 || ::access(o.db.c_str(), F_OK) != 0) return nullptr;
  auto h = store::History::open(o.db);
  if (!h) return {{"db", o.db}, {"error", h.error().message}};
  store::HistoryFilter f;
  f.since_unix_ns = sys.realtime_ns_now - o.history_ns;
  f.limit = 200000;
  auto rows = h->query(f);
  if (!rows) return {{"db", o.db}, {"error", rows.error().message}};
  std::vector<std::pair<int64_t, Json>> events;
  for (const auto& r : *rows) {
    int64_t t = r.unix_ns(r.key.start_time_ns);
    if (t >= *f.since_unix_ns) {
      events.emplace_back(t, Json{{"time", output::format_rfc3339(t)}, {"event", "fork"}, {"pid", r.key.pid},
                                  {"ppid", r.ppid}, {"comm", r.fork_comm}});
    }
    for (const auto& e : r.execs) {
      int64_t te = r.unix_ns(e.time_ns);
      if (te < *f.since_unix_ns) continue;
      events.emplace_back(te, Json{{"time", output::format_rfc3339(te)}, {"event", "exec"}, {"pid", r.key.pid},
                                   {"comm", e.comm}, {"exe", e.exe}, {"argv", e.argv}});
    }
    if (r.exit_ns) {
      int64_t tx = r.unix_ns(*r.exit_ns);
      if (tx >= *f.since_unix_ns) {
        Json x = {{"time", output::format_rfc3339(tx)}, {"event", "exit"}, {"pid", r.key.pid}};
        if (r.status) x["status"] = store::describe_status(*r.status);
        events.emplace_back(tx, std::move(x));
      }
    }
  }
  std::stable_sort(events.begin(), events.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  Json list = Json::array();
  for (auto& [t, e] : events) list.push_back(std::move(e));
  return {{"db", o.db},
          {"since", output::format_rfc3339(*f.since_unix_ns)},
          {"processes", rows->size()},
          {"events", std::move(list)}};
}

}  // namespace

Result<std::string> build(const procfs::ProcReader& reader, const BuildOptions& o) {
  core::SystemInfo sys = reader.system_info();
  // Everything a column or a detector reads, in one scan.
  core::FieldMask fields = explain::kChainFields;
  for (const auto& c : output::all_columns()) fields |= c.needs;
  std::vector<core::Process> scanned = reader.scan(fields);
  procfs::UserNames users;
  for (auto& p : scanned) users.fill(p);
  core::ProcessTree tree(std::move(scanned));

  output::ForestOptions forest_options;
  forest_options.visible = [](const core::Process&) { return true; };
  std::string tree_json =
      output::render_tree_json(output::build_forest(tree, sys, forest_options), tree, sys, default_column_names());
  tree_json.pop_back();  // its newline

  // Sockets and their holders, once for the whole table.
  std::vector<procfs::SocketEntry> sockets;
  if (auto all = procfs::list_sockets()) sockets = std::move(*all);
  std::vector<procfs::SocketOwner> owners = resolve::socket_owners(reader, sockets);
  std::unordered_map<int32_t, std::vector<explain::Listener>> listening;
  for (const auto& ow : owners) {
    if (!ow.socket.listening) continue;
    listening[ow.pid].push_back({std::string(procfs::protocol_name(ow.socket.proto)), ow.socket.local_address,
                                 ow.socket.local_port, procfs::binds_all_interfaces(ow.socket)});
  }

  // Each process's why from its chain as scanned: no process is read again.
  // Siblings are explained one after the other so that their common
  // ancestors (the whole chain but the last) are copied once per family,
  // not once per process; each entry is serialised at once, in its place.
  explain::ReportOptions ropts;
  ropts.want_git = false;          // looked up below, once per directory
  ropts.want_environment = true;   // kept in the chain reused by the siblings (add_why_fields prints none)
  std::map<std::pair<std::string, uint32_t>, std::optional<explain::GitInfo>> git_of;  // by (cwd, uid)
  std::vector<std::string> summaries(tree.size());
  std::vector<std::vector<explain::Source>> sources_of(tree.size());
  std::vector<std::string> why_text(tree.size());
  std::vector<size_t> order(tree.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return tree.parent(a) < tree.parent(b); });
  ChainMemo chains;  // each ancestor cut once, shared by its descendants
  std::vector<core::Process> family;  // the ancestors of the last process, cut
  size_t family_parent = core::ProcessTree::kNone;
  for (size_t i : order) {
    const size_t parent = tree.parent(i);
    std::vector<core::Process> chain;
    if (parent != core::ProcessTree::kNone && parent == family_parent) {
      chain = std::move(family);
      chain.push_back(tree.at(i));
    } else {
      chain = chains.chain(tree, i);
    }
    explain::ChainFacts facts;
    if (parent != core::ProcessTree::kNone || tree.at(i).ppid() != 0) {
      std::vector<size_t> up = tree.ancestors(i);
      size_t top = up.empty() ? i : up.back();
      int32_t above = tree.at(top).ppid();
      if (above != 0 && tree.parent(top) == core::ProcessTree::kNone && tree.find(above) != core::ProcessTree::kNone) {
        facts.reused_parent_pid = above;
      }
    }
    for (size_t c : tree.children(i)) facts.zombie_children += tree.at(c).is_zombie();
    if (auto l = listening.find(tree.at(i).pid()); l != listening.end()) facts.listeners = l->second;
    explain::Report r = explain::explain_chain(reader, sys, o.paths, std::move(chain), facts, ropts);
    const core::Process& t = r.target();
    if (t.cwd) {
      uint32_t uid = t.status ? t.status->uid.effective : 0;
      auto key = std::make_pair(*t.cwd, uid);
      auto g = git_of.find(key);
      if (g == git_of.end()) g = git_of.emplace(key, explain::find_git(*t.cwd, uid)).first;
      r.git = g->second;
    }
    // why_json without schema, target and chain: the chain by pids.
    Json entry = output::object_with_capacity(16);
    entry["pid"] = t.pid();
    Json pids = Json::array();
    for (const auto& p : r.chain.processes) pids.push_back(p.pid());
    entry["chain_pids"] = std::move(pids);
    output::add_why_fields(entry, r, sys, false);
    why_text[i] = output::dump_json(entry);
    summaries[i] = std::move(r.summary);
    sources_of[i] = std::move(r.sources);
    family = std::move(r.chain.processes);
    family.pop_back();
    family_parent = parent;
  }

  // Zombies, with the parents' reports made above.
  explain::ExplainParent parent_why = [&](int32_t pid) -> std::optional<explain::ParentWhy> {
    size_t i = tree.find(pid);
    if (i == core::ProcessTree::kNone) return std::nullopt;
    return explain::ParentWhy{tree.at(i), summaries[i], sources_of[i]};
  };
  store::LazyRecall recall(o.db, reader);
  auto factories = explain::find_zombie_factories(tree, parent_why, &recall);

  utsname u{};
  ::uname(&u);
  Json head;
  head["schema"] = kSchema;
  head["host"] = hostname();
  head["boot_id"] = store::read_boot_id(reader.root());
  head["time"] = output::format_rfc3339(sys.realtime_ns_now);
  head["kernel"] = fmt::format("{} {} {}", u.sysname, u.release, u.version);
  head["machine"] = u.machine;
  head["system"] = {{"boot_ns", sys.boot_ns_now},         {"realtime_ns", sys.realtime_ns_now},
                    {"mem_total_kb", sys.mem_total_kb},  {"ticks_per_second", sys.ticks_per_second},
                    {"page_size", sys.page_size},        {"processes", tree.size()}};
  size_t why_bytes = 0;
  for (const auto& w : why_text) why_bytes += w.size() + 1;
  std::string out = output::dump_json(head);
  out.reserve(out.size() + tree_json.size() + why_bytes + 200 * tree.size() + (1 << 20));
  out.pop_back();
  out += ",\"tree\":";
  out += tree_json;
  out += ",\"raw\":[";
  for (size_t i = 0; i < tree.size(); ++i) {
    if (i > 0) out += ',';
    out += output::dump_json(raw_json(tree.at(i)));
  }
  out += ']';
  out += ",\"why\":[";
  for (size_t i = 0; i < why_text.size(); ++i) {
    if (i > 0) out += ',';
    out += why_text[i];
  }
  out += ']';
  out += ",\"sockets\":";
  out += output::dump_json(sockets_json(sockets, owners));
  out += ",\"zombies\":";
  out += output::dump_json(output::zombies_json(factories, tree, sys, 1));
  out += ",\"history\":";
  out += output::dump_json(history_json(o, sys));
  out += "}\n";
  return out;
}

}  // namespace lineage::snapshot
