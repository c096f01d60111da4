// Reading a snapshot back: the processes as the scan had them (the tree's
// Process objects and the raw numbers beside them), and each one's why.
#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "core/tty.h"
#include "output/sanitize.h"
#include "snapshot/file.h"
#include "snapshot/snapshot.h"

namespace lineage::snapshot {
namespace {

// A word lineage wrote (a source kind, a detail key, a warning id, a
// protocol), which the writers print as it is: from a file, anything but
// letters, digits and _ . : / - becomes '?', so a crafted snapshot cannot
// put terminal escapes on the screen through them.
std::string token(std::string text) {
  for (char& c : text) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '.' || c == ':' || c == '/' || c == '-';
    if (!ok) c = '?';
  }
  return text;
}

using output::Json;

// The deepest nesting of a JSON text (outside strings): checked before
// parsing, so a hostile file cannot make the parser or a recursive walk
// of the result go arbitrarily deep.
size_t nesting(std::string_view text) {
  size_t depth = 0, deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '{' || c == '[') deepest = std::max(deepest, ++depth);
    else if ((c == '}' || c == ']') && depth > 0) --depth;
  }
  return deepest;
}

Error bad(const std::string& what) { return usage_error("snapshot: " + what); }

template <class T>
T get(const Json& j, const char* key, T fallback = T{}) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  return it->get<T>();
}

std::optional<uint64_t> ns_of(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return std::nullopt;
  return it->get<uint64_t>();
}

// One process from its tree node and its raw numbers.
core::Process restore(const Json& node, const Json* raw, const core::SystemInfo& sys) {
  core::Process p;
  p.key.pid = get<int32_t>(node, "pid");
  p.key.start_time_ns = get<uint64_t>(node, "start_time_ns");
  core::StatInfo& s = p.stat;
  s.pid = p.key.pid;
  s.comm = get<std::string>(node, "comm");
  std::string state = get<std::string>(node, "state", "?");
  s.state = state.empty() ? '?' : state[0];
  s.ppid = get<int32_t>(node, "ppid");
  s.pgid = get<int32_t>(node, "pgid");
  s.sid = get<int32_t>(node, "sid");
  s.num_threads = get<int64_t>(node, "nlwp");
  s.nice = get<int64_t>(node, "nice");
  s.start_ticks = p.key.start_time_ns / sys.tick_ns();
  // Clamped to 2^40 KiB (1 PiB): a hostile file must not overflow them.
  constexpr int64_t kMaxKb = int64_t{1} << 40;
  s.rss_pages = std::clamp<int64_t>(get<int64_t>(node, "rss_kb"), 0, kMaxKb) * 1024 /
                static_cast<int64_t>(sys.page_size);
  s.vsize_bytes = std::min<uint64_t>(get<uint64_t>(node, "vsz_kb"), kMaxKb) * 1024;
  s.utime_ticks = get<uint64_t>(node, "cpu_ticks");
  if (get<bool>(node, "kernel_thread")) s.flags |= core::kPfKthread;
  p.read = core::kFieldStat;
  if (raw != nullptr) {
    p.read = get<uint32_t>(*raw, "read", core::kFieldStat);
    p.unavailable = get<uint32_t>(*raw, "unavailable");
    const Json& st = raw->at("stat");
    if (st.is_array() && st.size() == 9) {
      s.tty_nr = st[0].get<int32_t>();
      s.tpgid = st[1].get<int32_t>();
      s.flags = st[2].get<uint32_t>();
      s.utime_ticks = st[3].get<uint64_t>();
      s.stime_ticks = st[4].get<uint64_t>();
      s.priority = st[5].get<int64_t>();
      s.start_ticks = st[6].get<uint64_t>();
      s.vsize_bytes = st[7].get<uint64_t>();
      s.rss_pages = st[8].get<int64_t>();
    }
    if (auto it = raw->find("status"); it != raw->end() && it->is_object()) {
      core::StatusInfo status;
      auto ids = [&](const char* key, core::Ids& out) {
        const Json& a = it->at(key);
        if (a.is_array() && a.size() == 4) {
          out = {a[0].get<uint32_t>(), a[1].get<uint32_t>(), a[2].get<uint32_t>(), a[3].get<uint32_t>()};
        }
      };
      ids("uid", status.uid);
      ids("gid", status.gid);
      status.vm_locked_kb = get<uint64_t>(*it, "vm_locked_kb");
      status.cap_effective = get<uint64_t>(*it, "cap_effective");
      status.ns_pids = get<std::vector<int32_t>>(*it, "nspid");
      p.status = std::move(status);
      p.user = get<std::string>(node, "user");
    }
    if (auto it = raw->find("session_id"); it != raw->end()) p.session_id = it->get<uint32_t>();
    p.ns.user = ns_of(*raw, "userns");
  }
  if (p.read & core::kFieldExe) p.exe = core::ExeInfo{get<std::string>(node, "exe"), get<bool>(node, "exe_deleted")};
  if (auto it = node.find("cmdline"); it != node.end() && it->is_array()) {
    p.argv = it->get<std::vector<std::string>>();
    p.argv_truncated = get<bool>(node, "cmdline_truncated");
  }
  if (auto it = node.find("cwd"); it != node.end() && it->is_string()) p.cwd = it->get<std::string>();
  if (auto it = node.find("cgroup"); it != node.end() && it->is_array()) {
    std::vector<core::CgroupEntry> list;
    for (const auto& e : *it) {
      list.push_back({get<uint32_t>(e, "hierarchy"), get<std::string>(e, "controllers"), get<std::string>(e, "path")});
    }
    p.cgroups = std::move(list);
  }
  if (auto it = node.find("loginuid"); it != node.end()) p.login_uid = it->get<uint32_t>();
  if (p.read & core::kFieldNamespaces) {
    p.ns.pid = ns_of(node, "pidns");
    p.ns.mnt = ns_of(node, "mntns");
    p.ns.net = ns_of(node, "netns");
  }
  return p;
}

Result<core::SystemInfo> system_of(const Json& doc) {
  auto it = doc.find("system");
  if (it == doc.end() || !it->is_object()) return bad("no \"system\" object");
  core::SystemInfo sys;
  sys.boot_ns_now = get<uint64_t>(*it, "boot_ns");
  sys.realtime_ns_now = get<int64_t>(*it, "realtime_ns");
  sys.mem_total_kb = get<uint64_t>(*it, "mem_total_kb");
  sys.ticks_per_second = get<uint64_t>(*it, "ticks_per_second", 100);
  sys.page_size = get<uint64_t>(*it, "page_size", 4096);
  const bool page_ok = sys.page_size >= 512 && sys.page_size <= (uint64_t{1} << 30) &&
                       (sys.page_size & (sys.page_size - 1)) == 0;
  if (sys.ticks_per_second == 0 || sys.ticks_per_second > 1'000'000'000 || !page_ok) {
    return bad("impossible clock tick or page size");
  }
  return sys;
}

Result<bool> check_schema(const Json& doc) {
  if (!doc.is_object()) return bad("not a lineage snapshot (not a JSON object)");
  auto it = doc.find("schema");
  if (it == doc.end() || !it->is_string()) return bad("not a lineage snapshot (no \"schema\")");
  std::string schema = it->get<std::string>();
  constexpr std::string_view kPrefix = "lineage.snapshot/v";
  if (!schema.starts_with(kPrefix)) {
    return bad(fmt::format("not a lineage snapshot (schema \"{}\")", output::escape_text(schema.substr(0, 80))));
  }
  int version = 0;
  std::string_view v = std::string_view(schema).substr(kPrefix.size());
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), version);
  if (ec != std::errc() || end != v.data() + v.size() || version < 1) {
    return bad(fmt::format("unknown schema \"{}\"", output::escape_text(schema.substr(0, 80))));
  }
  if (version > kVersion) {
    return bad(fmt::format("schema {} is newer than this lineage reads ({}): use a newer lineage",
                           output::escape_text(schema), kSchema));
  }
  return true;
}

}  // namespace

Result<Scene> parse(std::string_view text) {
  if (nesting(text) > kMaxDepth) return bad(fmt::format("nested deeper than {} levels: refused", kMaxDepth));
  Json doc = Json::parse(text, nullptr, false);
  if (doc.is_discarded()) {
    return bad(text.empty() ? "empty file" : "truncated or not JSON");
  }
  auto ok = check_schema(doc);
  if (!ok) return ok.error();
  try {
    auto sys = system_of(doc);
    if (!sys) return sys.error();
    Scene scene;
    scene.sys = *sys;
    scene.host = get<std::string>(doc, "host");
    scene.boot_id = get<std::string>(doc, "boot_id");
    scene.time = get<std::string>(doc, "time");
    auto tree = doc.find("tree");
    if (tree == doc.end() || !tree->is_object() || !tree->contains("processes")) return bad("no \"tree\"");
    std::unordered_map<int32_t, const Json*> raw;
    if (auto r = doc.find("raw"); r != doc.end() && r->is_array()) {
      for (const auto& e : *r) raw[get<int32_t>(e, "pid")] = &e;
    }
    // The nested forest, walked with an explicit stack.
    std::vector<const Json*> stack;
    for (const auto& root : tree->at("processes")) stack.push_back(&root);
    while (!stack.empty()) {
      const Json* node = stack.back();
      stack.pop_back();
      if (!node->is_object()) return bad("a process is not an object");
      int32_t pid = get<int32_t>(*node, "pid");
      auto r = raw.find(pid);
      scene.processes.push_back(restore(*node, r == raw.end() ? nullptr : r->second, scene.sys));
      if (auto kids = node->find("children"); kids != node->end() && kids->is_array()) {
        for (const auto& k : *kids) stack.push_back(&k);
      }
    }
    if (auto why = doc.find("why"); why != doc.end() && why->is_array()) {
      for (auto& e : *why) scene.why.emplace(get<int32_t>(e, "pid"), std::move(e));
    }
    if (auto z = doc.find("zombies"); z != doc.end() && z->is_object() && z->contains("groups")) {
      for (const auto& g : z->at("groups")) {
        if (get<std::string>(g, "reaper") == "subreaper") {
          scene.subreapers[get<int32_t>(g, "parent_pid")] = get<std::string>(g, "reaper_evidence");
        }
      }
    }
    return scene;
  } catch (const Json::exception& e) {
    return bad(fmt::format("malformed ({})", output::escape_text(e.what())));
  }
}

Result<Scene> read_file(const std::string& path) {
  auto bytes = read_bytes(path);
  if (!bytes) return bytes.error();
  auto scene = parse(*bytes);
  if (!scene) return Error{scene.error().kind, output::escape_text(path) + ": " + scene.error().message};
  return scene;
}

Result<explain::Report> report_of(const Scene& scene, const core::ProcessTree& tree, int32_t pid) {
  auto it = scene.why.find(pid);
  size_t index = tree.find(pid);
  if (it == scene.why.end() || index == core::ProcessTree::kNone) {
    return not_found(fmt::format("pid {} is not in the snapshot (taken {})", pid, output::escape_text(scene.time)));
  }
  const Json& w = it->second;
  try {
    explain::Report r;
    for (int32_t p : get<std::vector<int32_t>>(w, "chain_pids")) {
      size_t i = tree.find(p);
      if (i != core::ProcessTree::kNone) r.chain.processes.push_back(tree.at(i));
    }
    if (r.chain.processes.empty() || r.chain.processes.back().pid() != pid) r.chain.processes.push_back(tree.at(index));
    r.chain.truncated = get<bool>(w, "truncated");
    r.chain.reused_parent_pid = get<int32_t>(w, "reused_parent_pid");
    if (auto s = w.find("session_chain"); s != w.end() && s->is_array()) {
      for (const auto& p : *s) {
        size_t i = tree.find(get<int32_t>(p, "pid"));
        if (i != core::ProcessTree::kNone) r.session_chain.push_back(tree.at(i));
      }
    }
    for (const auto& s : w.at("sources")) {
      explain::Source src;
      src.kind = token(get<std::string>(s, "kind"));
      src.name = get<std::string>(s, "name");
      src.pid = get<int32_t>(s, "pid");
      src.verified = get<bool>(s, "verified", true);
      src.unverified_reason = get<std::string>(s, "unverified_reason");
      if (auto d = s.find("details"); d != s.end() && d->is_object()) {
        // Keys are printed as they are (lineage wrote words); values are
        // escaped by the writers. Only scalars: a nested value is not ours.
        for (const auto& [k, v] : d->items()) {
          if (v.is_string()) src.detail(token(k), v.get<std::string>());
          else if (v.is_primitive()) src.detail(token(k), v.dump());
        }
      }
      src.evidence = get<std::vector<std::string>>(s, "evidence");
      r.sources.push_back(std::move(src));
    }
    r.summary = get<std::string>(w, "summary");
    for (const auto& x : w.at("warnings")) r.warnings.push_back({token(get<std::string>(x, "id")), get<std::string>(x, "message")});
    if (auto l = w.find("listening"); l != w.end() && l->is_array()) {
      for (const auto& x : *l) {
        r.listeners.push_back({token(get<std::string>(x, "protocol")), get<std::string>(x, "address"), get<uint16_t>(x, "port"),
                               get<bool>(x, "all_interfaces")});
      }
    }
    if (auto g = w.find("git"); g != w.end() && g->is_object()) {
      r.git = explain::GitInfo{get<std::string>(*g, "repository"), get<std::string>(*g, "branch")};
    }
    return r;
  } catch (const Json::exception& e) {
    return bad(fmt::format("the why of pid {} is malformed ({})", pid, output::escape_text(e.what())));
  }
}

}  // namespace lineage::snapshot
