#pragma once
#include <string>

#include "cli/app.h"
#include "explain/context.h"

namespace CLI {
class App;
}

namespace lineage::cli {

struct WhoOptions {
  CommonOptions common;
  std::string resource;  // PATH, :PORT, tcp/PORT, udp/PORT
  bool dir = false;      // --dir: anything open below PATH
  bool mount = false;    // --mount: anything open on PATH's filesystem
  bool wide = false;
  std::string method = "auto";  // hidden: auto, bpf, proc (tests, benchmarks)
  explain::Paths paths;
};

struct WhoOutput {
  std::string text;
  std::string notes;  // for stderr after the text (text mode only)
  int exit_code = 0;
};

/// The answer and its exit code: 0 holders found, 1 holders found but some
/// processes could not be read (the list may lack theirs), 2 nobody holds it
/// (or it does not exist), 3 nobody visible holds it and some processes
/// could not be read, 4 usage.
Result<WhoOutput> run_who(const WhoOptions& options);

Command add_who_command(CLI::App& app);

}  // namespace lineage::cli
