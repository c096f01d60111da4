// lineage: why is this process running, and who started it?
#include <csignal>
#include <cstdio>
#include <exception>

#include "cli/app.h"

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);  // a closed pipe is an EPIPE write, handled
  try {
    return lineage::cli::run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lineage: internal error: %s\n", e.what());
    return 5;
  }
}
