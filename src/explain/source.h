#pragma once
// What `why` finds: launch contexts (sources) with their evidence, and
// warnings. Plain data; detectors fill it, writers print it.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace lineage::explain {

/// One launch context. kind is one of DESIGN.md's: systemd, container, cron,
/// at, ssh, tmux, screen, terminal, shell, supervisor, init, orphan, kernel.
struct Source {
  std::string kind;
  std::string name;  // unit, container name, crontab, session name ...
  int32_t pid = 0;   // the launcher process (sshd, cron, tmux server ...); 0 if none
  /// Index in the chain (root first) of the process the context starts at;
  /// sources nearer the target are more specific and are listed first.
  size_t anchor = 0;
  std::vector<std::pair<std::string, std::string>> details;  // in order
  std::vector<std::string> evidence;  // what was read, so a person can check
  /// False when the launcher's executable failed verification (see
  /// explain/verify.h): the source is then a claim, not evidence, and
  /// unverified_reason says why ("runs /home/lbuser/sshd, owned by lbuser").
  bool verified = true;
  std::string unverified_reason;

  void detail(std::string key, std::string value) {
    details.emplace_back(std::move(key), std::move(value));
  }
  const std::string* find_detail(const std::string& key) const {
    for (const auto& [k, v] : details) {
      if (k == key) return &v;
    }
    return nullptr;
  }
};

struct Warning {
  std::string id;  // stable: running-as-root, exe-deleted, ...
  std::string message;
};

}  // namespace lineage::explain
