#include "output/json_writer.h"

#include "output/columns.h"
#include "output/format.h"
#include "core/tty.h"

namespace lineage::output {

using namespace core;

std::string dump_json(const Json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Json process_json(const Process& p, const core::SystemInfo& sys) {
  Json j = object_with_capacity(40);
  j["pid"] = p.pid();
  j["ppid"] = p.ppid();
  j["start_time"] = format_rfc3339(sys.realtime_ns_now - static_cast<int64_t>(elapsed_ns(p, sys)));
  j["start_time_ns"] = p.key.start_time_ns;
  j["comm"] = p.stat.comm;
  if (p.read & kFieldExe) {
    j["exe"] = p.exe->path;
    j["exe_deleted"] = p.exe->deleted;
  } else if (p.unavailable & kFieldExe) {
    j["exe"] = nullptr;
  }
  if (p.argv) {
    j["cmdline"] = *p.argv;
    if (p.argv_truncated) j["cmdline_truncated"] = true;
  } else if (p.unavailable & kFieldCmdline) {
    j["cmdline"] = nullptr;
  }
  if (p.status) {
    j["user"] = p.user;
    j["uid"] = p.status->uid.effective;
    j["ruid"] = p.status->uid.real;
    j["gid"] = p.status->gid.effective;
  } else if (p.unavailable & kFieldStatus) {
    j["user"] = nullptr;
    j["uid"] = nullptr;
  }
  j["state"] = std::string(1, p.stat.state);
  j["stat"] = format_stat(p);
  j["tty"] = core::tty_name(p.stat.tty_nr);
  j["sid"] = p.stat.sid;
  j["pgid"] = p.stat.pgid;
  j["nlwp"] = p.stat.num_threads;
  j["nice"] = p.stat.nice;
  j["rss_kb"] = p.stat.rss_pages * static_cast<int64_t>(sys.page_size) / 1024;
  j["vsz_kb"] = p.stat.vsize_bytes / 1024;
  j["cpu_ticks"] = p.stat.utime_ticks + p.stat.stime_ticks;
  j["kernel_thread"] = p.is_kernel_thread();
  if (p.cwd) j["cwd"] = *p.cwd;
  else if (p.unavailable & kFieldCwd) j["cwd"] = nullptr;
  if (p.cgroups) {
    Json list = Json::array();
    for (const auto& e : *p.cgroups) {
      list.push_back({{"hierarchy", e.hierarchy}, {"controllers", e.controllers}, {"path", e.path}});
    }
    j["cgroup"] = std::move(list);
  } else if (p.unavailable & kFieldCgroup) {
    j["cgroup"] = nullptr;
  }
  if (p.status && p.status->ns_pids.size() > 1) j["nspid"] = p.status->ns_pids;
  if (p.login_uid) j["loginuid"] = *p.login_uid;
  if (p.recorded) {
    // From recorded history: the process as it was, not as /proc has it.
    const RecordedState& r = *p.recorded;
    j["recorded"] = true;
    j["alive"] = !r.exited;
    if (r.exited) {
      if (r.exit_time_ns != 0) j["exit_time"] = format_rfc3339(r.realtime_offset_ns + static_cast<int64_t>(r.exit_time_ns));
      if (r.exit_unseen) j["exit_unseen"] = true;
      else if (r.status && (*r.status & 0x7f) == 0) j["exit_code"] = (*r.status >> 8) & 0xff;
      else if (r.status) j["exit_signal"] = *r.status & 0x7f;
    }
  }
  if (p.read & kFieldNamespaces) {
    auto ns = [](const std::optional<uint64_t>& v) { return v ? Json(*v) : Json(nullptr); };
    j["pidns"] = ns(p.ns.pid);
    j["mntns"] = ns(p.ns.mnt);
    j["netns"] = ns(p.ns.net);
  }
  return j;
}

std::string render_tree_json(const Forest& forest, const ProcessTree& tree,
                             const core::SystemInfo& sys, const std::vector<std::string>& columns) {
  Json head;
  head["schema"] = "lineage.tree/v1";
  head["generated_at"] = format_rfc3339(sys.realtime_ns_now);
  head["columns"] = columns;
  Json targets = Json::array();
  for (const auto& row : forest.rows) {
    if (row.target) targets.push_back(tree.at(row.index).pid());
  }
  head["targets"] = std::move(targets);
  std::string out = dump_json(head);
  out.pop_back();  // reopen the object for "processes"
  out += ",\"processes\":[";

  // Depth-first with an explicit stack: (row, next child to emit).
  auto open_node = [&](uint32_t r) {
    const Row& row = forest.rows[r];
    const Process& p = tree.at(row.index);
    Json j = process_json(p, sys);
    if (row.target) j["target"] = true;
    if (row.context) j["context"] = true;
    if (row.count > 1) {
      j["count"] = row.count;
      j["folded_pids"] = row.folded_pids;
    }
    if (!p.threads.empty() && (p.read & kFieldThreads)) {
      Json threads = Json::array();
      for (const auto& t : p.threads) {
        threads.push_back({{"tid", t.tid}, {"comm", t.comm}, {"state", std::string(1, t.state)}});
      }
      j["threads"] = std::move(threads);
    }
    std::string text = dump_json(j);
    text.pop_back();
    out += text;
    out += ",\"children\":[";
  };
  // Threads are listed inside their process ("threads"), not as children.
  auto is_thread = [&](uint32_t r) { return forest.rows[r].tid != 0; };
  struct Frame {
    uint32_t row;
    size_t next = 0;     // next child to consider
    size_t emitted = 0;  // children written so far
  };
  std::vector<Frame> stack;
  size_t roots_emitted = 0;
  for (uint32_t root : forest.roots) {
    if (is_thread(root)) continue;
    if (roots_emitted++ > 0) out += ',';
    open_node(root);
    stack.push_back({root});
    while (!stack.empty()) {
      Frame& f = stack.back();
      const auto& kids = forest.rows[f.row].children;
      while (f.next < kids.size() && is_thread(kids[f.next])) ++f.next;
      if (f.next == kids.size()) {
        out += "]}";
        stack.pop_back();
        continue;
      }
      uint32_t child = kids[f.next++];
      if (f.emitted++ > 0) out += ',';
      open_node(child);
      stack.push_back({child});
    }
  }
  out += "]}\n";
  return out;
}

}  // namespace lineage::output
