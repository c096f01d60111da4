#include "explain/chain.h"

#include <algorithm>
#include <unordered_set>

#include <fmt/format.h>

#include "core/process_tree.h"

namespace lineage::explain {
namespace {

constexpr size_t kKeptDirfds = 256;

}  // namespace

Result<Chain> build_chain(const procfs::ProcReader& reader, int32_t pid, core::FieldMask fields,
                          size_t max_depth, core::FieldMask ancestor_fields) {
  UniqueFd dirfd;
  auto target = reader.read(pid, fields, &dirfd);
  if (!target) return not_found(fmt::format("no process with pid {}", pid));
  Chain chain;
  chain.processes.push_back(std::move(*target));
  chain.dirfds.push_back(std::move(dirfd));
  std::unordered_set<int32_t> seen_deep;  // filled once the chain is deeper than kShallowChain
  for (;;) {
    const core::Process& child = chain.processes.back();
    int32_t ppid = child.ppid();
    if (ppid <= 0) break;
    const size_t depth = chain.processes.size();
    if (depth == kShallowChain + 1) {
      for (const auto& p : chain.processes) seen_deep.insert(p.pid());
      // Only a deep chain needs its bound: no live chain is longer than pid_max.
      if (max_depth == 0) max_depth = reader.pid_max();
    }
    if (max_depth != 0 && depth >= max_depth) {
      chain.truncated = true;
      break;
    }
    bool seen = depth <= kShallowChain
                    ? std::any_of(chain.processes.begin(), chain.processes.end(),
                                  [&](const core::Process& p) { return p.pid() == ppid; })
                    : seen_deep.contains(ppid);
    if (seen) {
      chain.loop = true;
      break;
    }
    // Directory fds are kept for the first kKeptDirfds levels only: a chain
    // thousands deep must not run out of descriptors (a failed open would
    // read as an exited parent and cut the chain). read_more falls back to
    // a start-time check for the others.
    auto parent = reader.read(ppid, ancestor_fields, depth < kKeptDirfds ? &dirfd : nullptr);
    if (!parent) break;  // exited between the two reads
    if (!core::plausible_parent(*parent, child)) {
      chain.reused_parent_pid = ppid;
      break;
    }
    if (!seen_deep.empty()) seen_deep.insert(ppid);
    chain.processes.push_back(std::move(*parent));
    chain.dirfds.push_back(std::move(dirfd));
  }
  std::reverse(chain.processes.begin(), chain.processes.end());
  std::reverse(chain.dirfds.begin(), chain.dirfds.end());
  if (chain.processes.size() > 1) read_more(reader, chain, 0, core::kFieldNamespaces);
  return chain;
}

void read_more(const procfs::ProcReader& reader, Chain& chain, size_t index, core::FieldMask fields) {
  core::Process& p = chain.processes[index];
  if (p.recorded) return;  // from history: /proc has nothing of it
  if (index < chain.dirfds.size() && chain.dirfds[index].valid()) {
    reader.read_more(chain.dirfds[index].get(), p, fields);
    return;
  }
  auto again = reader.read(p.pid(), core::kFieldStat | fields);
  if (!again || again->key != p.key) return;  // exited, or the pid was reused
  if (fields & core::kFieldEnviron) p.environ = std::move(again->environ);
  if (fields & core::kFieldNamespaces) p.ns = again->ns;
  p.read |= again->read & fields;
  p.unavailable |= again->unavailable & fields;
}

}  // namespace lineage::explain
