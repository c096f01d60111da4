#pragma once
// Which events of the stream `watch` shows: by kind, by subtree, by
// container, by comm, by user. Moved out of cli so the decisions can be
// tested; reads /proc only to find a container's cgroup (at set-up) and,
// for a source without cgroup ids, the cgroup of an exec'd process.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/event.h"
#include "core/live_tree.h"
#include "core/result.h"
#include "procfs/reader.h"

namespace lineage::resolve {

/// What the user asked for (watch's options).
struct EventFilterSpec {
  std::string kinds;               // "fork,exec,exit"; empty: all
  std::vector<int32_t> pids;       // subtrees rooted at these
  std::string container;           // name or id
  std::vector<std::string> comms;  // substrings of comm
  std::string user;                // name or uid
};

struct EventFilter {
  bool fork = true, exec = true, exit = true;
  std::vector<core::ProcessKey> subtrees;
  bool container = false;
  std::vector<core::ProcessKey> container_roots;  // the container's init(s)
  std::vector<uint64_t> container_cgroups;        // its cgroup v2 ids, when it has its own
  std::vector<std::string> container_paths;       // and their paths, for sources without ids
  std::vector<std::string> comms;
  std::optional<uint32_t> uid;
  const procfs::ProcReader* reader = nullptr;
};

/// Parses "fork,exec" into the kind switches of f; a usage error names an
/// unknown kind.
Result<bool> parse_event_kinds(std::string_view kinds, EventFilter& f);

/// Resolves the spec against the live tree (pids must be alive, the
/// container must exist).
Result<EventFilter> make_event_filter(const EventFilterSpec& spec, const core::LiveTree& tree,
                                      const procfs::ProcReader& reader);

/// Whether event e (already applied to tree; p is its process, or null) is
/// shown. Lost-event markers always are.
bool wanted(const EventFilter& f, const core::Event& e, const core::LiveTree& tree, const core::LiveProcess* p);

/// True when p is one of roots or below one at time t.
bool in_subtree(const core::LiveTree& tree, const core::LiveProcess& p, const std::vector<core::ProcessKey>& roots,
                uint64_t t);

/// The comms of p's chain at time t, root first, p last (at most 8
/// ancestors); a pid stands in for an unknown comm.
std::vector<std::string> chain_names(const core::LiveTree& tree, const core::LiveProcess* p, uint64_t t);

}  // namespace lineage::resolve
