#pragma once
// JSON documents. Strings from processes are made valid UTF-8; the forest
// is streamed without recursion.
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "output/forest.h"

namespace lineage::output {

using Json = nlohmann::ordered_json;

/// An empty object with room for n keys. An ordered_json object is a vector
/// of pair<const string, Json>, which cannot be moved: every growth copies
/// each value already in it, deeply. Objects that take many keys (or big
/// values early) start with this.
inline Json object_with_capacity(size_t n) {
  Json j = Json::object();
  j.get_ref<Json::object_t&>().reserve(n);
  return j;
}

/// The Process object of DESIGN.md, with the fields that were read; a field
/// group that was requested but denied is null.
Json process_json(const core::Process& p, const core::SystemInfo& sys);

/// Serialises with invalid UTF-8 replaced, never throwing on process data.
std::string dump_json(const Json& j);

/// Schema lineage.tree/v1: {"schema", "generated_at", "columns",
/// "targets", "processes": [Process + "children": [...]]}.
std::string render_tree_json(const Forest& forest, const core::ProcessTree& tree,
                             const core::SystemInfo& sys, const std::vector<std::string>& columns);

}  // namespace lineage::output
