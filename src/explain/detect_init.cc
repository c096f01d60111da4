// Kernel threads, and init when nothing else is known.
#include <fmt/format.h>

#include "explain/detectors.h"

namespace lineage::explain {

void detect_kernel(const Context& ctx, std::vector<Source>& out) {
  const core::Process& t = ctx.target();
  if (!t.is_kernel_thread()) return;
  Source s;
  s.kind = "kernel";
  s.name = t.stat.comm;
  s.anchor = ctx.chain.size() - 1;
  if (ctx.chain.size() > 1) s.pid = ctx.chain[ctx.chain.size() - 2].pid();
  s.evidence.push_back(
      fmt::format("PF_KTHREAD is set in the flags of /proc/{}/stat (0x{:x})", t.pid(), t.stat.flags));
  if (s.pid != 0) {
    s.evidence.push_back(fmt::format("parent pid {} is {}", s.pid, ctx.chain[ctx.chain.size() - 2].stat.comm));
  }
  out.push_back(std::move(s));
}

void detect_init(const Context& ctx, std::vector<Source>& out) {
  const core::Process& root = ctx.chain.front();
  if (root.pid() != 1) return;
  Source s;
  s.kind = "init";
  s.pid = 1;
  s.name = root.exe ? root.exe->path : root.stat.comm;
  s.anchor = 0;
  s.evidence.push_back(fmt::format("the chain reaches pid 1 ({}) with no other launch context found",
                                   root.exe ? root.exe->path : root.stat.comm));
  out.push_back(std::move(s));
}

}  // namespace lineage::explain
