#include "explain/environment.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace lineage::explain {
namespace {

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

bool secret_name(const std::string& key) {
  static constexpr std::array kWords{"PASS", "PWD", "SECRET", "TOKEN", "KEY", "CREDENTIAL", "COOKIE",
                                     "SESSION", "AUTH", "PRIVATE", "SIGNATURE", "SALT"};
  std::string k = upper(key);
  if (k == "PWD" || k == "OLDPWD") return false;  // working directories
  return std::any_of(kWords.begin(), kWords.end(), [&](const char* w) { return k.find(w) != std::string::npos; });
}

// Long runs of base64/hex characters with both letters and digits.
bool random_looking(const std::string& v) {
  if (v.size() < 32 || v.find(' ') != std::string::npos || v.find('/') == 0) return false;
  bool letters = false, digits = false;
  for (unsigned char c : v) {
    if (std::isdigit(c)) digits = true;
    else if (std::isalpha(c)) letters = true;
    else if (c != '+' && c != '/' && c != '=' && c != '_' && c != '-' && c != '.') return false;
  }
  return letters && digits;
}

// scheme://user:password@host -> scheme://user:<redacted>@host. The
// authority ends at the first '/', '?' or '#' after "://", and the user
// information at its last '@': a password may hold '@' itself, and then
// everything up to the last one is secret.
std::string redact_url_password(const std::string& v) {
  size_t scheme = v.find("://");
  if (scheme == std::string::npos) return v;
  size_t begin = scheme + 3;
  size_t end = std::min(v.find_first_of("/?#", begin), v.size());
  size_t at = v.rfind('@', end == 0 ? 0 : end - 1);
  if (at == std::string::npos || at < begin) return v;
  size_t colon = v.find(':', begin);
  if (colon == std::string::npos || colon > at) return v;
  return v.substr(0, colon + 1) + kRedacted + v.substr(at);
}

}  // namespace

std::vector<std::pair<std::string, std::string>> redacted_environment(const std::vector<std::string>& environ) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& entry : environ) {
    size_t eq = entry.find('=');
    std::string key = entry.substr(0, eq);
    std::string value = eq == std::string::npos ? "" : entry.substr(eq + 1);
    if (!value.empty() && (secret_name(key) || random_looking(value))) {
      value = kRedacted;
    } else {
      value = redact_url_password(value);
    }
    out.emplace_back(std::move(key), std::move(value));
  }
  return out;
}

}  // namespace lineage::explain
