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

// --- Added for web-server-spawned-shell, exec-from-writable-dir,
// cron-runs-writable-script, reverse-shell, unexpected-listener. ---

#include <sys/stat.h>

#include <optional>
#include <vector>

#include "core/system_info.h"

namespace lineage::audit {

/// A web, application or database server a request can make run a command:
/// nginx, apache2/httpd, lighttpd, caddy, php-fpm*, node, uwsgi, gunicorn,
/// uvicorn, puma, unicorn (by exe name), java running a servlet container
/// (catalina, tomcat, jetty, wildfly, jboss in argv), postgres, mysqld,
/// mariadbd; python or ruby whose argv runs http.server, CGIHTTPRequestHandler,
/// gunicorn, uvicorn, flask, puma, unicorn or `manage.py runserver`.
/// postgres's archiver and startup processes are not: archive_command and
/// restore_command run shells by design.
bool is_web_server(const core::Process& p);

/// A reconnaissance command an intruder runs first: id, whoami, uname,
/// hostname, ifconfig, ip, netstat, ss, ps, w, who, last, curl, wget,
/// netcat-like tools, and cat/head/tail/less/more of /etc/passwd or
/// /etc/shadow.
bool is_recon_tool(const core::Process& p);

/// cron, crond, atd, anacron (by exe name, or busybox's crond applet). A
/// name is a claim: check the executable with Scene::verifier() too.
bool is_cron_daemon(const core::Process& p);

/// Average share of one core the process used over its life (utime+stime
/// over its age); nullopt when younger than min_age_ns or times are unknown.
std::optional<double> lifetime_cpu_share(const core::Process& p, const core::SystemInfo& sys,
                                         uint64_t min_age_ns = 2'000'000'000);

/// The files a shell command line runs, judged from its text alone: its
/// first word when absolute, and the script an absolute or bare shell or
/// interpreter is given ("bash /x/job.sh", "/usr/bin/python3 /x/a.py").
/// Leading NAME=VALUE words are skipped; a word with quotes, `$`, a
/// backtick, a glob or a `..`/`.` component ends the search (never guess).
std::vector<std::string> command_files(std::string_view command);

/// The files a process started directly by cron runs: for `sh -c CMD`,
/// command_files(CMD); for a shell or interpreter given a script, that
/// script (and the interpreter's own exe); otherwise its executable.
std::vector<std::string> job_files(const core::Process& p);

/// Why others than `owners` could change a file or the entries of a
/// directory with this stat, or "" when they cannot:
/// "world-writable (mode 0666)", "world-writable directory without sticky bit
/// (mode 0777)", "owned by uid 1001". A sticky world-writable directory
/// (/tmp) counts only when sticky_counts. owners: uids allowed to own it.
std::string others_can_write(const struct stat& st, bool sticky_counts, const std::vector<uint32_t>& owners);

/// "0755" for the permission bits (and sticky, setuid, setgid) of a mode.
std::string mode_text(mode_t mode);

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
