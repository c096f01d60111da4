#include "procfs/users.h"

#include <pwd.h>

#include <charconv>
#include <vector>

namespace lineage::procfs {

const std::string& UserNames::name(uint32_t uid) {
  auto it = cache_.find(uid);
  if (it != cache_.end()) return it->second;
  std::string result = std::to_string(uid);
  passwd entry{};
  passwd* found = nullptr;
  std::vector<char> buf(16384);
  if (getpwuid_r(uid, &entry, buf.data(), buf.size(), &found) == 0 && found != nullptr) {
    result = found->pw_name;
  }
  return cache_.emplace(uid, std::move(result)).first->second;
}

std::optional<uint32_t> UserNames::lookup(std::string_view name_or_uid) {
  if (name_or_uid.empty()) return std::nullopt;
  uint32_t uid = 0;
  auto [ptr, ec] = std::from_chars(name_or_uid.data(), name_or_uid.data() + name_or_uid.size(), uid);
  if (ec == std::errc() && ptr == name_or_uid.data() + name_or_uid.size()) return uid;
  std::string name(name_or_uid);
  passwd entry{};
  passwd* found = nullptr;
  std::vector<char> buf(16384);
  if (getpwnam_r(name.c_str(), &entry, buf.data(), buf.size(), &found) == 0 && found != nullptr) {
    return found->pw_uid;
  }
  return std::nullopt;
}

}  // namespace lineage::procfs
