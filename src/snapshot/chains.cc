#include "snapshot/chains.h"

#include "explain/detectors.h"

namespace lineage::snapshot {
namespace {

// The fields build_chain reads for an ancestor (the root also gets its
// namespaces): a chain made from the whole-table scan is cut down to them,
// so that detectors and the chain's JSON see what `why PID` sees.
void as_ancestor(core::Process& p, bool root, bool keep_environ) {
  core::FieldMask drop = core::kFieldCwd | core::kFieldLoginUid;
  if (!keep_environ) drop |= core::kFieldEnviron;
  if (!root) drop |= core::kFieldNamespaces;
  p.read &= ~drop;
  p.unavailable &= ~drop;
  p.cwd.reset();
  p.login_uid.reset();
  p.session_id.reset();
  if (!keep_environ) p.environ.reset();
  if (!root) p.ns = {};
}

}  // namespace

const ChainMemo::Cut& ChainMemo::cut(const core::Process& p, bool root, bool keep_environ) {
  // By identity, not by pid: a pid reused by another process (another
  // start time) is another entry. The same process in another place (its
  // parent gone, so now a root) is cut again.
  auto it = memo_.find(p.key);
  if (it != memo_.end() && it->second.root == root && it->second.keep_environ == keep_environ) return it->second;
  core::Process copy = p;
  as_ancestor(copy, root, keep_environ);
  ++cuts_;
  Cut c{std::move(copy), root, keep_environ};
  if (it != memo_.end()) {
    it->second = std::move(c);
    return it->second;
  }
  return memo_.emplace(p.key, std::move(c)).first->second;
}

std::vector<core::Process> ChainMemo::chain(const core::ProcessTree& tree, size_t index) {
  std::vector<size_t> up = tree.ancestors(index);
  std::vector<core::Process> out;
  out.reserve(up.size() + 1);
  bool env_passed = false;  // an ancestor above passes context in its environment
  for (auto it = up.rbegin(); it != up.rend(); ++it) {
    const core::Process& p = tree.at(*it);
    out.push_back(cut(p, it == up.rbegin(), env_passed).process);
    env_passed = env_passed || explain::passes_context_in_environment(p);
  }
  out.push_back(tree.at(index));
  return out;
}

}  // namespace lineage::snapshot
