#include "explain/context.h"

#include <fmt/format.h>

namespace lineage::explain {

std::string_view base_name(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string_view exe_name(const core::Process& p) {
  if (!p.exe) return {};
  return base_name(p.exe->path);
}

std::string exe_path(const core::Process& p) { return p.exe ? p.exe->path : "?"; }

void verify_launcher(const Context& ctx, const core::Process& p, Source& s) {
  Verification v = ctx.exe_verifier().check_exe(p);
  s.verified = v.verified;
  s.unverified_reason = v.verified ? std::string() : v.text;
  s.evidence.push_back(fmt::format("ancestor pid {} runs {} ({}: {})", p.pid(), exe_path(p),
                                   v.verified ? "verified" : "unverified", v.text));
}

void verify_root_launcher(const Context& ctx, size_t index, Source& s,
                          bool (*same_family)(const core::Process&, const core::Process&)) {
  const auto& chain = ctx.chain;
  const core::Process& p = chain[index];
  verify_launcher(ctx, p, s);
  if (!s.verified) return;
  for (size_t j = index + 1; j-- > 0;) {
    const core::Process& q = chain[j];
    bool family = same_family ? same_family(p, q) : exe_path(p) == exe_path(q);
    if (j != index && !family) break;
    if (q.status && q.status->uid.real == 0) return;
  }
  s.verified = false;
  s.unverified_reason = fmt::format("runs {} as {}, and no process of its run is root's: a user's copy of the daemon",
                                    exe_path(p), p.status ? p.user : std::string("an unknown user"));
  s.evidence.push_back(fmt::format("pid {} runs as {} and was not started by root (unverified)", p.pid(),
                                   p.status ? p.user : std::string("?")));
}

std::string env_evidence(const Source& s, std::string_view var, std::string_view value, int32_t pid) {
  if (s.verified) return fmt::format("{}={} in the environment of pid {}", var, value, pid);
  return fmt::format("claim: {}={} in the environment of pid {}, below an unverified launcher", var, value, pid);
}

}  // namespace lineage::explain
