#pragma once
// Completing what an exec event said of a process (core::process_at_exec)
// with what /proc says of it, for the parts the event could not hold.
#include "core/process.h"
#include "procfs/reader.h"

namespace lineage::procfs {

/// Moves the field groups `fields` (all but stat, which callers merge their
/// own way) from `from` into `to`; their read and unavailable bits are the
/// caller's to set.
void take_fields(core::Process& to, core::Process&& from, core::FieldMask fields);

/// Reads the `missing` field groups of seen's process from /proc into
/// `seen`: stat (the event's comm stays: what the exec named), status,
/// cmdline, exe, cwd, cgroup, environ, login uid. A group /proc did not
/// give keeps what `seen` had. False, and `seen` unchanged, when /proc no
/// longer shows that process (gone, or its pid held by a later one: its
/// evidence is not ours).
bool complete_from_proc(const ProcReader& reader, core::Process& seen, core::FieldMask missing);

}  // namespace lineage::procfs
