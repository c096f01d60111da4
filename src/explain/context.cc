#include "explain/context.h"

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

}  // namespace lineage::explain
