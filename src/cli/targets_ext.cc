#include "cli/targets_ext.h"

namespace lineage::cli {

// Placeholders until procfs/net and the container state readers land.
Result<std::vector<int32_t>> resolve_port(const procfs::ProcReader&, const std::string&) {
  return Error{ErrorKind::kInternal, "port targets are not available yet"};
}
Result<std::vector<int32_t>> resolve_file(const procfs::ProcReader&, const std::string&) {
  return Error{ErrorKind::kInternal, "file targets are not available yet"};
}
Result<std::vector<int32_t>> resolve_container(const procfs::ProcReader&, const explain::Paths&,
                                               const std::string&) {
  return Error{ErrorKind::kInternal, "container targets are not available yet"};
}

}  // namespace lineage::cli
