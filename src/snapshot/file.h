#pragma once
// Snapshot bytes on disk: plain or zstd.
#include <string>

#include "core/result.h"
#include "snapshot/snapshot.h"

namespace lineage::snapshot {

/// The decompressed contents of a regular file (zstd by its magic number),
/// at most kMaxBytes; a usage error otherwise.
Result<std::string> read_bytes(const std::string& path);

}  // namespace lineage::snapshot
