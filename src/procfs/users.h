#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/process.h"

namespace lineage::procfs {

/// uid <-> user name through the system's user database, cached: a scan
/// asks for the same few uids thousands of times.
class UserNames {
 public:
  /// The name of uid, or the number itself when the database has none.
  const std::string& name(uint32_t uid);
  /// Sets p.user from its effective uid, when its status was read.
  void fill(core::Process& p) {
    if (p.status) p.user = name(p.status->uid.effective);
  }
  /// A user name or a decimal uid; nullopt when neither is known.
  static std::optional<uint32_t> lookup(std::string_view name_or_uid);

 private:
  /// The name from /etc/passwd when NSS would take it from there first.
  const std::string* from_passwd_file(uint32_t uid);

  std::unordered_map<uint32_t, std::string> cache_;
  bool files_read_ = false;
  bool use_file_ = false;
  std::string passwd_;
};

}  // namespace lineage::procfs
