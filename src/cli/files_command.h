#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "cli/app.h"
#include "core/result.h"
#include "output/files_writer.h"

namespace lineage::cli {

struct FilesOptions {
  CommonOptions common;
  std::string target, pid, name;
  bool exact = false;
  std::string types;  // --type TYPE[,TYPE]
  bool net = false;
  bool deleted = false;
  bool maps = false;
  bool no_peers = false;
  std::string method = "auto";  // the peer search: auto, bpf, proc (hidden; tests)
  bool wide = false;
};

Command add_files_command(CLI::App& app);

/// Runs `lineage files`; the exit code (its error printed).
Result<int> run_files(const FilesOptions& options);

/// The --type values, lower case, validated: a usage error names the
/// unknown one and lists the valid ones.
Result<std::vector<std::string>> parse_file_types(std::string_view text);
/// Whether a row is of one of these types (see kFileTypes in the .cc).
bool matches_file_type(const output::FileRow& row, const std::vector<std::string>& types);

}  // namespace lineage::cli
