#include "audit/allow.h"

#include <fnmatch.h>

#include <optional>

#include <fmt/format.h>

namespace lineage::audit {
namespace {

std::string_view trim(std::string_view s) {
  size_t a = s.find_first_not_of(" \t\r");
  if (a == std::string_view::npos) return {};
  size_t b = s.find_last_not_of(" \t\r");
  return s.substr(a, b - a + 1);
}

// Splits on runs of blanks; a value may be quoted with "..." to hold blanks
// (chain patterns do: "*nginx > sh").
std::optional<std::vector<std::string>> split_fields(std::string_view line) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i >= line.size() || line[i] == '#') break;  // an unquoted '#' starts a comment
    std::string field;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') {
      if (line[i] == '"') {
        size_t close = line.find('"', i + 1);
        if (close == std::string_view::npos) return std::nullopt;
        field.append(line.substr(i + 1, close - i - 1));
        i = close + 1;
      } else {
        field += line[i++];
      }
    }
    out.push_back(std::move(field));
  }
  return out;
}

bool glob(const std::string& pattern, const std::string& text) {
  return fnmatch(pattern.c_str(), text.c_str(), 0) == 0;
}

bool valid_rule_id(std::string_view id) {
  if (id == "*") return true;
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

}  // namespace

Result<std::vector<AllowEntry>> parse_allow(std::string_view text) {
  std::vector<AllowEntry> entries;
  size_t number = 0;
  while (!text.empty()) {
    size_t eol = text.find('\n');
    std::string_view raw = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    ++number;
    std::string_view line = trim(raw);
    auto fields = split_fields(line);
    if (!fields) return Error{ErrorKind::kUsage, fmt::format("allow-list line {}: unbalanced quote", number)};
    if (fields->empty()) continue;  // blank or a comment
    AllowEntry e;
    e.line = number;
    e.rule = (*fields)[0];
    if (!valid_rule_id(e.rule)) {
      return Error{ErrorKind::kUsage, fmt::format("allow-list line {}: '{}' is not a rule id or '*'", number,
                                                  e.rule.substr(0, 64))};
    }
    for (size_t k = 1; k < fields->size(); ++k) {
      const std::string& f = (*fields)[k];
      if (f.starts_with("chain=")) e.chain = f.substr(6);
      else if (f.starts_with("exe=")) e.exe = f.substr(4);
      else if (f.starts_with("user=")) e.user = f.substr(5);
      else if (f.find('=') == std::string::npos && e.chain.empty()) e.chain = f;
      else {
        return Error{ErrorKind::kUsage,
                     fmt::format("allow-list line {}: unknown condition '{}' (chain=, exe=, user=)", number,
                                 f.substr(0, 64))};
      }
    }
    entries.push_back(std::move(e));
  }
  return entries;
}

bool allows(const AllowEntry& e, const Finding& finding, const AllowSubject& s) {
  if (e.rule != "*" && e.rule != finding.rule) return false;
  bool conditions = !e.chain.empty() || !e.exe.empty() || !e.user.empty();
  if (finding.process.pid == 0) return !conditions;
  if (!e.chain.empty() && !glob(e.chain, s.chain)) return false;
  if (!e.exe.empty() && !glob(e.exe, s.exe)) return false;
  if (!e.user.empty() && e.user != s.user) return false;
  return true;
}

}  // namespace lineage::audit
