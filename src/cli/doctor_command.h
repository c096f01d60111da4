#pragma once
#include "cli/app.h"

namespace CLI {
class App;
}

namespace lineage::cli {

Command add_doctor_command(CLI::App& app);

}  // namespace lineage::cli
