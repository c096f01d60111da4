#include "resolve/targets_ext.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <optional>
#include <unordered_map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/process_tree.h"
#include "explain/file_read.h"
#ifdef LINEAGE_HAVE_BPF
#include "events/socket_owners_bpf.h"
#endif
#include "output/sanitize.h"
#include "procfs/net.h"
#include "resolve/targets.h"
#include "resolve/who.h"

namespace lineage::resolve {
namespace {

bool is_hex(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

struct DockerHit {
  std::string id;
  int32_t pid = 0;  // State.Pid: the container's init on the host
};

// Docker's own record of a container, found by name or id prefix.
std::optional<DockerHit> docker_lookup(const explain::Paths& paths, const std::string& name_or_id) {
  std::error_code ec;
  size_t seen = 0;
  for (const auto& entry : std::filesystem::directory_iterator(paths.docker + "/containers", ec)) {
    if (++seen > 10000) break;
    std::string id = entry.path().filename().string();
    if (!is_hex(id)) continue;
    std::string text;
    if (explain::read_bounded((entry.path() / "config.v2.json").string(), 4 << 20, text) !=
        explain::FileStatus::kOk) {
      continue;
    }
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) continue;
    std::string name = j.value("Name", "");
    if (name.starts_with("/")) name.erase(0, 1);
    bool match = name == name_or_id || (name_or_id.size() >= 4 && id.starts_with(name_or_id));
    if (!match) continue;
    DockerHit hit{id, 0};
    if (auto st = j.find("State"); st != j.end() && st->is_object()) {
      auto pid = st->find("Pid");
      if (pid != st->end() && pid->is_number_integer()) hit.pid = pid->get<int32_t>();
    }
    return hit;
  }
  return std::nullopt;
}

bool cgroup_mentions(const core::Process& p, const std::string& id) {
  if (!p.cgroups) return false;
  for (const auto& e : *p.cgroups) {
    if (e.path.find(id) != std::string::npos) return true;
  }
  return false;
}

// The owners of these sockets as find_socket_owners orders them (listening
// sockets first, then by pid, then by the order of `sockets`), asked of the
// kernel through a BPF iterator: one read() instead of a /proc/PID/fd
// listing per process. nullopt when that cannot answer (not built with BPF,
// not root, the kernel refuses, a /proc other than the live one): the caller
// then scans /proc.
std::optional<std::vector<procfs::SocketOwner>> holders_from_bpf(
    [[maybe_unused]] const procfs::ProcReader& reader,
    [[maybe_unused]] const std::vector<procfs::SocketEntry>& sockets) {
#ifdef LINEAGE_HAVE_BPF
  if (reader.root() != "/proc") return std::nullopt;  // the kernel knows only the live system
  // Loading the iterator costs a fixed 20-80 ms (libbpf parses the kernel's
  // BTF); a /proc scan ~15 us a process. Below the threshold the scan wins.
  if (!choose_bpf(Method::kAuto, count_processes(reader, kBpfMinProcesses))) return std::nullopt;
  std::vector<uint64_t> inodes;
  for (const auto& s : sockets) inodes.push_back(s.inode);
  auto held = events::find_socket_holders_bpf(inodes);
  if (!held) return std::nullopt;
  std::unordered_map<uint64_t, std::vector<size_t>> index_of;  // a whole table's sockets: no linear search
  for (size_t i = 0; i < sockets.size(); ++i) {
    if (sockets[i].inode != 0) index_of[sockets[i].inode].push_back(i);
  }
  struct Hit {
    int32_t pid;
    size_t index;
  };
  std::vector<Hit> hits;
  for (const auto& h : *held) {
    auto at = index_of.find(h.inode);
    if (at == index_of.end()) continue;
    for (size_t i : at->second) hits.push_back({h.pid, i});
  }
  std::sort(hits.begin(), hits.end(), [&](const Hit& a, const Hit& b) {
    bool la = sockets[a.index].listening, lb = sockets[b.index].listening;
    if (la != lb) return la;
    if (a.pid != b.pid) return a.pid < b.pid;
    return a.index < b.index;
  });
  std::vector<procfs::SocketOwner> owners;
  owners.reserve(hits.size());
  for (const Hit& h : hits) owners.push_back({h.pid, sockets[h.index]});
  return owners;
#else
  return std::nullopt;
#endif
}

}  // namespace

std::vector<procfs::SocketOwner> socket_owners(const procfs::ProcReader& reader,
                                               const std::vector<procfs::SocketEntry>& sockets,
                                               procfs::ScanStats* stats) {
  if (stats) *stats = {};
  if (auto held = holders_from_bpf(reader, sockets)) return std::move(*held);
  return procfs::find_socket_owners(reader, sockets, stats);
}

Result<std::vector<int32_t>> resolve_container(const procfs::ProcReader& reader, const explain::Paths& paths,
                                               const std::string& name_or_id) {
  if (name_or_id.empty()) return usage_error("empty container name");
  std::string id = name_or_id;
  int32_t state_pid = 0;
  if (auto hit = docker_lookup(paths, name_or_id)) {
    id = hit->id;
    state_pid = hit->pid;
  } else if (!is_hex(name_or_id) || name_or_id.size() < 4) {
    return not_found(fmt::format("no container named '{}'", output::escape_text(name_or_id)));
  }
  // The container's processes are the ones in its cgroup; its init is the
  // one whose parent is outside (the runtime's shim).
  core::ProcessTree tree(reader.scan(core::kFieldStat | core::kFieldCgroup));
  std::vector<int32_t> inits;
  for (size_t i = 0; i < tree.size(); ++i) {
    const core::Process& p = tree.at(i);
    if (!cgroup_mentions(p, id)) continue;
    size_t parent = tree.parent(i);
    if (parent != core::ProcessTree::kNone && cgroup_mentions(tree.at(parent), id)) continue;
    inits.push_back(p.pid());
  }
  if (state_pid > 0 && std::find(inits.begin(), inits.end(), state_pid) != inits.end()) {
    return std::vector<int32_t>{state_pid};
  }
  if (inits.empty()) {
    return not_found(fmt::format("container '{}' has no running process", output::escape_text(name_or_id)));
  }
  return inits;
}

Result<std::vector<int32_t>> resolve_port(const procfs::ProcReader& reader, const std::string& text) {
  // "8080", "tcp/8080" or "udp/53".
  std::string proto_filter;
  std::string digits = text;
  if (size_t slash = text.find('/'); slash != std::string::npos) {
    proto_filter = text.substr(0, slash);
    digits = text.substr(slash + 1);
    if (proto_filter != "tcp" && proto_filter != "udp") {
      return usage_error(fmt::format("bad port '{}': expected PORT, tcp/PORT or udp/PORT", output::escape_text(text)));
    }
  }
  uint32_t port = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (digits.empty() || ec != std::errc() || ptr != digits.data() + digits.size() || port == 0 || port > 65535) {
    return usage_error(fmt::format("bad port '{}': expected a number from 1 to 65535", output::escape_text(text)));
  }
  auto sockets = procfs::list_sockets(static_cast<uint16_t>(port));
  if (!sockets) return sockets.error();
  std::vector<procfs::SocketEntry> wanted;
  for (auto& s : *sockets) {
    if (s.inode == 0) continue;  // TIME_WAIT and the like: no owner
    if (!proto_filter.empty() && (proto_filter == "tcp") != procfs::is_tcp(s.proto)) continue;
    wanted.push_back(std::move(s));
  }
  if (wanted.empty()) return not_found(fmt::format("nothing uses port {}", output::escape_text(text)));
  procfs::ScanStats stats;
  std::vector<procfs::SocketOwner> owners = socket_owners(reader, wanted, &stats);
  std::vector<int32_t> pids;
  for (const auto& o : owners) {
    if (std::find(pids.begin(), pids.end(), o.pid) == pids.end()) pids.push_back(o.pid);
  }
  if (pids.empty()) {
    if (stats.denied > 0) {
      return Error{ErrorKind::kPermission,
                   fmt::format("port {} is in use, but its owner is hidden: {} processes could not be "
                               "inspected (run as root)", port, stats.denied)};
    }
    return not_found(fmt::format("port {} is in use, but no process holds it (in this network namespace)", port));
  }
  return pids;
}

Result<std::vector<int32_t>> resolve_file(const procfs::ProcReader& reader, const std::string& path) {
  procfs::ScanStats stats;
  auto uses = procfs::find_file_users(reader, path, &stats);
  // Its message ("PATH: No such file or directory") echoes the path as typed.
  if (!uses) return Error{uses.error().kind, output::escape_text(uses.error().message)};
  std::vector<int32_t> pids;
  for (const auto& u : *uses) {
    if (u.pid == static_cast<int32_t>(::getpid())) continue;
    if (std::find(pids.begin(), pids.end(), u.pid) == pids.end()) pids.push_back(u.pid);
  }
  if (pids.empty()) {
    if (stats.denied > 0) {
      return Error{ErrorKind::kPermission,
                   fmt::format("no visible process uses {}; {} processes could not be inspected (run as root)",
                               output::escape_text(path), stats.denied)};
    }
    return not_found(fmt::format("no process uses {}", output::escape_text(path)));
  }
  return pids;
}

Result<std::vector<int32_t>> resolve_name(const procfs::ProcReader& reader, const std::string& name,
                                          bool exact, bool all) {
  core::ProcessTree tree(reader.scan(core::kFieldStat | core::kFieldCmdline));
  auto found = resolve_target(tree, {TargetKind::kName, name, exact}, static_cast<int32_t>(::getpid()));
  if (!found) return found.error();
  std::vector<int32_t> pids;
  for (size_t i : *found) pids.push_back(tree.at(i).pid());
  if (pids.size() > 1 && !all) {
    std::string list;
    for (size_t k = 0; k < found->size() && k < 20; ++k) {
      const auto& p = tree.at((*found)[k]);
      list += fmt::format("\n  {:>2}. {:>7}  {}", k + 1, p.pid(), output::escape_text(p.command_line()));
    }
    if (found->size() > 20) list += fmt::format("\n  ... and {} more", found->size() - 20);
    return Error{ErrorKind::kUsage,
                 fmt::format("'{}' matches {} processes; give a pid, --exact, or --all:{}",
                             output::escape_text(name), pids.size(), list)};
  }
  return pids;
}

}  // namespace lineage::resolve
