#pragma once
// What kind of program a process runs, for the audit rules. Judged by the
// executable's base name (the kernel's /proc/PID/exe), falling back to comm
// only when exe is unknown; argv[0] is consulted only where a multi-call
// binary (busybox) decides its applet by it. A name is a claim: rules that
// need evidence ask Scene::verifier() too.
#include <string>
#include <string_view>
#include <vector>

#include "core/process.h"

namespace lineage::audit {

/// Base name of the running executable ("bash" for /usr/bin/bash, without
/// " (deleted)"); comm when exe was not read.
std::string_view exe_name(const core::Process& p);

/// Base name of argv[0], or "" without argv.
std::string_view argv0_name(const core::Process& p);

/// The program the process is, for the predicates below: exe_name, or the
/// applet (argv[0]) of busybox / toybox.
std::string_view program_name(const core::Process& p);

bool is_shell(const core::Process& p);        // sh, bash, dash, zsh, ksh, ash, fish, csh ...
bool is_interpreter(const core::Process& p);  // python*, perl*, ruby*, php*, node, lua*, tclsh ...
bool is_netcat_like(const core::Process& p);  // nc, ncat, netcat, socat, nc.openbsd ...
/// An interpreter running code from its command line: python -c, perl -e,
/// ruby -e, php -r, node -e / --eval.
bool is_one_liner(const core::Process& p);

/// Why a path is a place anyone can write to, or "" when it is not judged
/// so from the path alone: "in /tmp", "in /var/tmp", "in /dev/shm",
/// "a hidden path" (a component starting with '.'), "a memfd".
std::string writable_by_path(std::string_view path);

/// Under /usr, /bin, /sbin, /lib*, /opt, /snap: where packages put programs.
bool in_system_dir(std::string_view path);

}  // namespace lineage::audit

namespace lineage::audit {

/// The libraries of an LD_PRELOAD value or of /etc/ld.so.preload's text:
/// separated by whitespace or ':' as ld.so separates them; empty entries
/// dropped. Views into `list`.
std::vector<std::string_view> preload_entries(std::string_view list);

/// The container id (64 hex digits) a cgroup path names as its own
/// container: ".../docker-<id>.scope", "/docker/<id>", cri-containerd-,
/// crio-, libpod- (not libpod-conmon-, the monitor's scope on the host), or
/// a kubepods path ending in <id>. "" when it names none.
std::string_view container_in_cgroup(std::string_view path);

}  // namespace lineage::audit
