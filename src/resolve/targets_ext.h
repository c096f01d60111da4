#pragma once
// Targets that need more than one process table: names scanned from /proc,
// ports, files, containers.
#include <string>
#include <vector>

#include "core/result.h"
#include "explain/context.h"
#include "procfs/reader.h"

namespace lineage::procfs {
struct SocketEntry;
struct SocketOwner;
}  // namespace lineage::procfs

namespace lineage::resolve {

/// Processes whose comm or command line matches name (see resolve_target),
/// scanned from /proc. Several matches are a usage error listing them
/// (ambiguous), unless all.
Result<std::vector<int32_t>> resolve_name(const procfs::ProcReader& reader, const std::string& name, bool exact,
                                          bool all);
/// "8080" or "tcp/8080": the processes holding sockets on that local port,
/// listeners first.
Result<std::vector<int32_t>> resolve_port(const procfs::ProcReader& reader, const std::string& port);
/// Processes that hold the file open (fd, cwd, exe, mapping).
Result<std::vector<int32_t>> resolve_file(const procfs::ProcReader& reader, const std::string& path);
/// procfs::find_socket_owners, the same answer in the same order, asked of
/// the kernel through a BPF iterator when that pays (live /proc, root, at
/// least kBpfMinProcesses processes): one read() instead of a /proc/PID/fd
/// listing per process. Falls back to /proc (and fills stats) otherwise.
std::vector<procfs::SocketOwner> socket_owners(const procfs::ProcReader& reader,
                                               const std::vector<procfs::SocketEntry>& sockets,
                                               procfs::ScanStats* stats = nullptr);
/// The init process of a container given by name or id.
Result<std::vector<int32_t>> resolve_container(const procfs::ProcReader& reader, const explain::Paths& paths,
                                               const std::string& name_or_id);

}  // namespace lineage::resolve
