#pragma once
#include <functional>
#include <string>
#include <vector>

#include "core/result.h"

namespace CLI {
class App;
}

namespace lineage::cli {

/// Options every command takes.
struct CommonOptions {
  bool json = false;
  bool no_color = false;
  std::string proc_root = "/proc";  // hidden: for tests on fake trees
};

/// Terminal facts decided once, in one place.
struct Terminal {
  bool color = false;
  size_t width = 0;  // 0: unlimited (not a terminal)
};
Terminal detect_terminal(const CommonOptions& common);

/// A command that adds itself to the parser from its own file
/// (`Command add_zombies_command(CLI::App& app)`): run() is called when
/// `app` was the command parsed, and returns the exit code.
struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

/// --json, --no-color and the hidden --proc-root, on every command.
void add_common(CLI::App& app, CommonOptions& common);
/// Prints "lineage: MESSAGE" on stderr; returns the error's exit code.
int print_error(const Error& error);
/// Writes text to stdout (a reader gone away is not a failure); 0 or 5.
int write_out(const std::string& text);
/// The exit code of a command's result, its error printed.
int finish(const Result<int>& rc);

/// Parses the command line and runs the command; returns the exit code.
/// Prints errors as one line on stderr.
int run(int argc, char** argv);

}  // namespace lineage::cli
