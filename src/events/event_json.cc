#include "events/event_json.h"

#include <nlohmann/json.hpp>

#include "core/time_spec.h"

namespace lineage::events {

using Json = nlohmann::ordered_json;

std::string_view kind_name(core::EventKind kind) {
  switch (kind) {
    case core::EventKind::kFork: return "fork";
    case core::EventKind::kExec: return "exec";
    case core::EventKind::kExit: return "exit";
    case core::EventKind::kLost: return "lost";
  }
  return "unknown";
}

std::string to_json_line(const core::Event& e, const ExportStamp* stamp) {
  Json j;
  j["schema"] = "lineage.event/v1";
  j["event"] = kind_name(e.kind);
  j["time_ns"] = e.time_ns;
  if (stamp != nullptr) {
    j["time"] = core::format_time(static_cast<int64_t>(e.time_ns) + stamp->realtime_offset_ns, true);
    j["boot_id"] = stamp->boot_id;
  }
  if (e.kind == core::EventKind::kLost) {
    j["lost"] = e.lost;
  } else {
    j["pid"] = e.pid;
    if (e.tid != 0 && e.tid != e.pid) j["tid"] = e.tid;
    if (e.start_time_ns) j["start_time_ns"] = e.start_time_ns;
    if (e.ppid) j["ppid"] = e.ppid;
    if (e.parent_start_time_ns) j["parent_start_time_ns"] = e.parent_start_time_ns;
    j["uid"] = e.uid;
    j["gid"] = e.gid;
    if (e.thread) {
      j["thread"] = true;
      if (e.thread_start_time_ns) j["thread_start_time_ns"] = e.thread_start_time_ns;
    }
    if (!e.comm.empty()) j["comm"] = e.comm;
    if (e.kind == core::EventKind::kExec) {
      j["exe"] = e.exe;
      j["argv"] = e.argv;
      if (e.exe_ino) {
        j["exe_id"] = Json{{"dev", e.exe_dev}, {"ino", e.exe_ino}, {"ctime_ns", e.exe_ctime_ns}};
      }
      if (!e.interpreter.empty()) j["interpreter"] = e.interpreter;
    }
    if (e.kind == core::EventKind::kExit && e.reaper_pid) {
      j["reaper"] = e.reaper_pid;
      if (e.reaper_start_time_ns) j["reaper_start_time_ns"] = e.reaper_start_time_ns;
    }
    if (e.kind == core::EventKind::kExit) {
      // exit_code is the kernel's wait status: split it as a shell would.
      if (e.exit_code < 0) {
        j["exit_code"] = nullptr;  // unknown (the poll source)
      } else if ((e.exit_code & 0x7f) == 0) {
        j["exit_code"] = (e.exit_code >> 8) & 0xff;
      } else {
        j["exit_code"] = nullptr;
        j["signal"] = e.exit_code & 0x7f;
      }
      j["wait_status"] = e.exit_code;
    }
    if (e.cgroup_id) j["cgroup_id"] = e.cgroup_id;
    if (e.pidns) {
      j["pidns"] = e.pidns;
      j["ns_pid"] = e.ns_pid;
    }
    if (e.from_proc) j["from_proc"] = true;
  }
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<core::Event> from_json_line(std::string_view line) {
  auto j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  try {
    core::Event e;
    std::string kind = j.value("event", "");
    if (kind == "fork") e.kind = core::EventKind::kFork;
    else if (kind == "exec") e.kind = core::EventKind::kExec;
    else if (kind == "exit") e.kind = core::EventKind::kExit;
    else if (kind == "lost") e.kind = core::EventKind::kLost;
    else return std::nullopt;
    e.time_ns = j.value("time_ns", uint64_t{0});
    e.pid = j.value("pid", 0);
    e.tid = j.value("tid", e.pid);
    e.start_time_ns = j.value("start_time_ns", uint64_t{0});
    e.ppid = j.value("ppid", 0);
    e.parent_start_time_ns = j.value("parent_start_time_ns", uint64_t{0});
    e.uid = j.value("uid", 0u);
    e.gid = j.value("gid", 0u);
    e.thread = j.value("thread", false);
    e.thread_start_time_ns = j.value("thread_start_time_ns", uint64_t{0});
    e.comm = j.value("comm", "");
    e.exe = j.value("exe", "");
    if (j.contains("exe_id") && j["exe_id"].is_object()) {
      const auto& id = j["exe_id"];
      e.exe_dev = id.value("dev", uint64_t{0});
      e.exe_ino = id.value("ino", uint64_t{0});
      e.exe_ctime_ns = id.value("ctime_ns", uint64_t{0});
    }
    e.interpreter = j.value("interpreter", "");
    e.reaper_pid = j.value("reaper", 0);
    e.reaper_start_time_ns = j.value("reaper_start_time_ns", uint64_t{0});
    if (j.contains("argv") && j["argv"].is_array()) {
      for (const auto& a : j["argv"]) {
        if (a.is_string()) e.argv.push_back(a.get<std::string>());
      }
    }
    // The raw wait status when recorded; otherwise rebuild it from exit_code.
    if (j.contains("wait_status") && j["wait_status"].is_number_integer()) {
      e.exit_code = j["wait_status"].get<int32_t>();
    } else if (j.contains("exit_code") && j["exit_code"].is_number_integer()) {
      e.exit_code = (j["exit_code"].get<int32_t>() & 0xff) << 8;
    }
    e.cgroup_id = j.value("cgroup_id", uint64_t{0});
    e.pidns = j.value("pidns", 0u);
    e.ns_pid = j.value("ns_pid", 0);
    e.lost = j.value("lost", uint64_t{0});
    e.from_proc = j.value("from_proc", false);
    return e;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;  // a field of the wrong type
  }
}

}  // namespace lineage::events
