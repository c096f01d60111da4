#pragma once
// A verifier for unit tests of detectors (pure logic): executables and files
// are trusted by path, cgroups by a flag. The real check (explain/verify.h)
// is tested against real files and processes in tests/integration.
#include <set>
#include <string>

#include "explain/verify.h"

namespace lineage::testing {

class FakeVerifier final : public explain::ExeVerifier {
 public:
  /// Trusts every path unless `untrusted` names it.
  std::set<std::string> untrusted;
  bool cgroups_trusted = true;

  explain::Verification check_exe(const core::Process& p) const override {
    if (!p.exe) return {false, "its executable could not be read"};
    return check_file(p, p.exe->path);
  }
  explain::Verification check_file(const core::Process&, const std::string& path) const override {
    if (untrusted.count(path)) return {false, "runs " + path + ", owned by lbuser"};
    return {true, "root-owned (fake)"};
  }
  explain::Verification check_cgroup(const core::Process&, const core::CgroupEntry& e,
                                     std::optional<uid_t>) const override {
    if (!cgroups_trusted) return {false, "cgroup " + e.path + ", owned by lbuser"};
    return {true, "cgroup made by root (fake)"};
  }
};

}  // namespace lineage::testing
