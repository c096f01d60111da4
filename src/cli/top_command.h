#pragma once
// `lineage top`: where the load comes from, grouped by launch context.
#include "cli/app.h"

namespace lineage::cli {

Command add_top_command(CLI::App& app);

}  // namespace lineage::cli
