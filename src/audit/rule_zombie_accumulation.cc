// zombie-accumulation: (not written yet)
#include "audit/classify.h"
#include "audit/rules.h"

namespace lineage::audit {

void check_zombie_accumulation(const Scene& scene, std::vector<Finding>& out) {
  (void)scene;
  (void)out;
}

}  // namespace lineage::audit
