#pragma once
// The environment for `why --env`, with values that look like secrets
// redacted: shown only when asked, and never the secret itself.
#include <string>
#include <utility>
#include <vector>

namespace lineage::explain {

inline constexpr const char* kRedacted = "<redacted>";

/// Splits KEY=VALUE entries and redacts secret-looking values: names that
/// mention a password, token, key, secret, credential, cookie or session;
/// long random-looking values; passwords inside URLs (user:pass@host).
std::vector<std::pair<std::string, std::string>> redacted_environment(const std::vector<std::string>& environ);

}  // namespace lineage::explain
