#pragma once
// Snapshot bytes on disk: plain or zstd.
#include <string>

#include "core/result.h"
#include "core/unique_fd.h"
#include "snapshot/snapshot.h"

namespace lineage::snapshot {

/// Creates path for a snapshot before it is built: mode 0600, O_EXCL and
/// O_NOFOLLOW (with force, a regular file there is reused and truncated when
/// written). A usage error when it exists, is a link or not a regular file.
Result<UniqueFd> create_output(const std::string& path, bool force);
/// Writes text to the file create_output made, zstd-compressed when the
/// name ends in ".zst".
Result<bool> write_output(int fd, const std::string& path, const std::string& text);

/// The decompressed contents of a regular file (zstd by its magic number),
/// at most kMaxBytes; a usage error otherwise.
Result<std::string> read_bytes(const std::string& path);

}  // namespace lineage::snapshot
