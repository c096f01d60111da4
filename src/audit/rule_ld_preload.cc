// ld-preload: (not written yet)
#include "audit/classify.h"
#include "audit/rules.h"

namespace lineage::audit {

void check_ld_preload(const Scene& scene, size_t index, std::vector<Finding>& out) {
  (void)scene;
  (void)out;
  (void)index;
}

void check_ld_so_preload(const Scene& scene, std::vector<Finding>& out) {
  (void)scene;
  (void)out;
}
}  // namespace lineage::audit
