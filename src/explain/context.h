#pragma once
// What every detector sees: the validated chain and where to look for
// configuration (roots are configurable so tests can point at fixtures).
#include <string>
#include <vector>

#include "core/process.h"
#include "explain/source.h"
#include "explain/verify.h"
#include "procfs/reader.h"

namespace lineage::explain {

struct Paths {
  std::string etc = "/etc";                       // crontab, cron.d, systemd units
  std::string var_spool_cron = "/var/spool/cron";  // user crontabs (crontabs/USER)
  std::string docker = "/var/lib/docker";          // containers/<id>/config.v2.json
  std::string run = "/run";                        // containerd, crio, runc state
  std::string lib_systemd = "/lib/systemd";        // system units (also /usr/lib/systemd)
};

struct Context {
  /// Root first, target last. Every parent link was checked by start time.
  const std::vector<core::Process>& chain;
  const procfs::ProcReader& reader;
  const core::SystemInfo& sys;
  const Paths& paths;
  /// Who judges launcher executables; null: the real check under the
  /// reader's /proc (unit tests give a fake).
  const ExeVerifier* verifier = nullptr;

  const core::Process& target() const { return chain.back(); }
  const ExeVerifier& exe_verifier() const {
    return verifier != nullptr ? *verifier : default_verifier(reader.root());
  }
};

/// Checks the launcher `p` of source `s` (sshd, cron, tmux ...): sets
/// s.verified and s.unverified_reason, and adds the evidence line
/// "ancestor pid N runs PATH (verified: ...)" or "... (unverified: ...)".
void verify_launcher(const Context& ctx, const core::Process& p, Source& s);

/// verify_launcher for a system daemon (sshd, cron, atd, supervisord, runsv,
/// pm2 ...) at chain[index]: its run must also have been started by root,
/// that is chain[index] or a contiguous ancestor of the same family
/// (`same_family`, default: the same executable path) has real uid 0. A user
/// running a copy of the real, root-owned binary makes only that user's claim.
void verify_root_launcher(const Context& ctx, size_t index, Source& s,
                          bool (*same_family)(const core::Process&, const core::Process&) = nullptr);
/// Evidence for an environment variable read at or below s's launcher: a
/// fact below a verified launcher, a claim below an unverified one.
std::string env_evidence(const Source& s, std::string_view var, std::string_view value, int32_t pid);

/// A detector appends every source it can prove, with evidence.
using Detector = void (*)(const Context&, std::vector<Source>&);

/// Base name of a path: "/usr/sbin/sshd" -> "sshd".
std::string_view base_name(std::string_view path);
/// Base name of the process's executable, from /proc/PID/exe when read,
/// otherwise empty: detectors decide by the exe, never by comm alone.
std::string_view exe_name(const core::Process& p);
/// The executable's path, or "?" when it could not be read.
std::string exe_path(const core::Process& p);

}  // namespace lineage::explain
