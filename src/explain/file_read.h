#pragma once
// Bounded reads of configuration and state files (crontabs, unit files,
// runtime state): anyone may have planted a huge file or a FIFO there.
#include <cstddef>
#include <string>

namespace lineage::explain {

enum class FileStatus { kOk, kNotFound, kDenied, kNotRegular, kTooLarge, kError };

/// "read", "not found", "permission denied", ... for evidence strings.
const char* describe(FileStatus status);

/// kNotFound for ENOENT/ENOTDIR, kDenied for EACCES/EPERM, else kError.
FileStatus status_from_errno(int err);

/// Reads a regular file of at most cap bytes into out. Opened with
/// O_NONBLOCK so that a FIFO cannot hang the caller.
FileStatus read_bounded(const std::string& path, size_t cap, std::string& out);

}  // namespace lineage::explain
