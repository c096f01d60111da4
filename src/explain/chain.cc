#include "explain/chain.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/process_tree.h"

namespace lineage::explain {

Result<Chain> build_chain(const procfs::ProcReader& reader, int32_t pid, core::FieldMask fields,
                          size_t max_depth, core::FieldMask ancestor_fields) {
  UniqueFd dirfd;
  auto target = reader.read(pid, fields, &dirfd);
  if (!target) return not_found(fmt::format("no process with pid {}", pid));
  Chain chain;
  chain.processes.push_back(std::move(*target));
  chain.dirfds.push_back(std::move(dirfd));
  while (chain.processes.size() < max_depth) {
    const core::Process& child = chain.processes.back();
    int32_t ppid = child.ppid();
    if (ppid <= 0) break;
    bool seen = std::any_of(chain.processes.begin(), chain.processes.end(),
                            [&](const core::Process& p) { return p.pid() == ppid; });
    if (seen) {
      chain.loop = true;
      break;
    }
    auto parent = reader.read(ppid, ancestor_fields, &dirfd);
    if (!parent) break;  // exited between the two reads
    if (!core::plausible_parent(*parent, child)) {
      chain.reused_parent_pid = ppid;
      break;
    }
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
