// web-server-spawned-shell: (not written yet)
#include "audit/classify.h"
#include "audit/rules.h"

namespace lineage::audit {

void check_web_server_spawned_shell(const Scene& scene, size_t index, std::vector<Finding>& out) {
  (void)scene;
  (void)out;
  (void)index;
}

}  // namespace lineage::audit
