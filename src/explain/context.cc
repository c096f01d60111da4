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

std::string env_evidence(const Source& s, std::string_view var, std::string_view value, int32_t pid) {
  if (s.verified) return fmt::format("{}={} in the environment of pid {}", var, value, pid);
  return fmt::format("claim: {}={} in the environment of pid {}, below an unverified launcher", var, value, pid);
}

}  // namespace lineage::explain
