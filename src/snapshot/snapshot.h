#pragma once
// `lineage snapshot`: the whole scene in one document (lineage.snapshot/v1),
// and the same read back, so that `tree`, `why` and `zombies` answer from a
// file (--from) as they would have from /proc at that moment.
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/process_tree.h"
#include "core/result.h"
#include "core/system_info.h"
#include "explain/context.h"
#include "explain/report.h"
#include "output/json_writer.h"
#include "procfs/reader.h"

namespace lineage::snapshot {

inline constexpr const char* kSchema = "lineage.snapshot/v1";
inline constexpr int kVersion = 1;
/// A snapshot is refused past this size, decompressed (10,000 processes
/// make about 30 MB).
inline constexpr uint64_t kMaxBytes = uint64_t{1} << 30;
/// JSON nesting refused past this depth (the tree nests two levels a
/// process generation: a fork chain this deep is not a real machine's).
inline constexpr size_t kMaxDepth = 20000;

struct BuildOptions {
  std::string db;              // history database; no file: no history section
  int64_t history_ns = 0;      // the last this many ns of recorded events; 0: none
  explain::Paths paths;
};

/// The scene now, as one JSON document (newline-terminated).
Result<std::string> build(const procfs::ProcReader& reader, const BuildOptions& options);

/// A snapshot read back.
struct Scene {
  core::SystemInfo sys;
  std::string host, boot_id, time;
  std::vector<core::Process> processes;
  /// The why of each process by pid: lineage.why/v1 without target and
  /// chain, with "chain_pids" (root first) instead.
  std::unordered_map<int32_t, output::Json> why;
  /// Parents the snapshot's zombies section found to be subreapers (known
  /// from recorded history then), with the evidence.
  std::unordered_map<int32_t, std::string> subreapers;
};

/// Reads a snapshot file (plain or zstd). A file that is not a regular file,
/// too large, truncated, not JSON, not a snapshot or of a newer schema is a
/// one-line usage error (exit 4); a missing one kNotFound.
Result<Scene> read_file(const std::string& path);
/// The same from text (tests, fuzzing).
Result<Scene> parse(std::string_view text);

/// The report of pid as the snapshot has it; kNotFound when it has none.
Result<explain::Report> report_of(const Scene& scene, const core::ProcessTree& tree, int32_t pid);

}  // namespace lineage::snapshot
