#!/usr/bin/env python3
"""Writes docs/schema/lineage.<kind>.v1.json, the JSON Schemas (draft 2020-12)
of every document lineage prints, from the definitions below.

The JSON files are what users and CI read; this script is where they are
edited, so that a Process or a Source is described once and embedded (as
"$defs") in every file that uses it: each file stands alone, with no $ref to
another file. After an edit run

    python3 tests/schema/generate.py            # rewrite docs/schema/
    python3 tests/schema/generate.py --check    # exit 1 when docs/schema/ differs

The ground truth is the writers: src/output/json_writer.cc (process_json),
why_writer.cc (source_json, why_json), events/event_json.cc and so on. A
field the writer may leave out is not "required"; a field it may write as
null is nullable. "additionalProperties": false closes an object only where the writer's keys are a fixed set.

Compatibility: v1 only grows (new fields, new enum values); no field is
removed or changes type. A breaking change is v2.
"""
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "docs", "schema")
DRAFT = "https://json-schema.org/draft/2020-12/schema"

DEV_PATTERN = r"^[0-9]+:[0-9]+$"
TIME_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$"


# ---- small builders -------------------------------------------------------

def _t(type_, desc, nullable=False, **kw):
    s = {"type": [type_, "null"] if nullable else type_}
    s.update(kw)
    s["description"] = desc
    return s


def S(desc, nullable=False, **kw):
    return _t("string", desc, nullable, **kw)


def I(desc, nullable=False, **kw):
    return _t("integer", desc, nullable, **kw)


def U(desc, nullable=False, **kw):
    """A non-negative integer (a count, a kernel id, an unsigned field)."""
    return _t("integer", desc, nullable, minimum=0, **kw)


def N(desc, nullable=False, **kw):
    return _t("number", desc, nullable, **kw)


def B(desc, nullable=False):
    return _t("boolean", desc, nullable)


def TRUE(desc):
    return {"const": True, "description": desc}


def TIME(desc, nullable=False):
    return _t("string", desc + " (RFC 3339, UTC, milliseconds)", nullable, pattern=TIME_PATTERN)


def E(values, desc, nullable=False):
    s = {"enum": list(values) + ([None] if nullable else [])}
    s["description"] = desc
    return s


def ARR(items, desc, nullable=False, **kw):
    s = {"type": ["array", "null"] if nullable else "array", "items": items}
    s.update(kw)
    s["description"] = desc
    return s


def REF(name, desc=None, nullable=False):
    ref = {"$ref": "#/$defs/" + name}
    if nullable:
        s = {"oneOf": [ref, {"type": "null"}]}
    else:
        s = ref
    if desc:
        s["description"] = desc
    return s


def OBJ(props, required=(), desc=None, closed=True, nullable=False, extra=None):
    """An object; required lists the keys always written; closed: no others."""
    for r in required:
        assert r in props, r
    s = {"type": ["object", "null"] if nullable else "object"}
    if desc:
        s["description"] = desc
    s["properties"] = props
    if required:
        s["required"] = list(required)
    if extra is not None:
        s["additionalProperties"] = extra
    elif closed:
        s["additionalProperties"] = False
    return s


def MAP(values, desc):
    return {"type": "object", "additionalProperties": values, "description": desc}


# ---- vocabularies ---------------------------------------------------------

SOURCE_KINDS = ["kernel", "container", "supervisor", "cron", "at", "systemd", "tmux", "screen", "ssh",
                "shell", "terminal", "orphan", "init"]
SEVERITIES = ["info", "low", "medium", "high", "critical"]
EVENT_KINDS = ["fork", "exec", "exit", "lost"]

# ---- shared definitions ---------------------------------------------------

PROCESS = OBJ({
    "pid": I("Process id, as seen from lineage's pid namespace."),
    "ppid": I("Parent process id (0 for pid 1 and kthreadd)."),
    "start_time": TIME("When the process started"),
    "start_time_ns": U("Start time in nanoseconds since boot (CLOCK_BOOTTIME); with pid, the process's identity."),
    "comm": S("The kernel's short name (/proc/PID/stat comm, at most 15 bytes). A claim: the process sets it."),
    "exe": S("Path of the running executable (/proc/PID/exe); null when it could not be read.", nullable=True),
    "exe_deleted": B("The executable was deleted or replaced after the process started it."),
    "cmdline": ARR({"type": "string"}, "Arguments (/proc/PID/cmdline); null when not readable; "
                   "empty for kernel threads and zombies. A claim.", nullable=True),
    "cmdline_truncated": TRUE("cmdline was cut at lineage's read bound."),
    "user": S("Name of the effective user; null when /proc/PID/status was not readable.", nullable=True),
    "uid": U("Effective user id; null when /proc/PID/status was not readable.", nullable=True),
    "ruid": U("Real user id."),
    "gid": U("Effective group id."),
    "state": S("One-letter process state (R, S, D, Z, T, t, X, I ...).", minLength=1, maxLength=1),
    "stat": S("ps-style STAT: the state and its flags (s session leader, + foreground, l threaded, < > nice ...)."),
    "tty": S("Controlling terminal (e.g. pts/0), or \"?\" for none."),
    "sid": I("Session id."),
    "pgid": I("Process group id."),
    "nlwp": I("Number of threads."),
    "nice": I("Nice value (-20 to 19)."),
    "rss_kb": I("Resident set size in KiB."),
    "vsz_kb": I("Virtual memory size in KiB."),
    "cpu_ticks": U("User plus system CPU time, in clock ticks (usually 100 a second)."),
    "kernel_thread": B("A kernel thread (kthreadd's children; no user space)."),
    "cwd": S("Working directory; null when not readable.", nullable=True),
    "cgroup": ARR(OBJ({
        "hierarchy": U("Hierarchy id (0 for cgroup v2)."),
        "controllers": S("Controllers of the hierarchy, comma-separated; empty for cgroup v2."),
        "path": S("Path of the cgroup inside its hierarchy."),
    }, required=["hierarchy", "controllers", "path"]), "The lines of /proc/PID/cgroup; null when not readable.",
        nullable=True),
    "nspid": ARR({"type": "integer"}, "Pids of the process in nested pid namespaces, outermost first "
                 "(only when it is in a nested one).", minItems=2),
    "loginuid": U("Audit login uid (/proc/PID/loginuid), when known and set."),
    "recorded": TRUE("The process comes from recorded history (an exited ancestor, or any process with --at), "
                     "not from /proc."),
    "alive": B("Recorded processes: false when it had exited at the moment shown."),
    "exit_time": TIME("Recorded processes: when it exited"),
    "exit_unseen": TRUE("Recorded processes: gone without its exit being seen."),
    "exit_code": U("Recorded processes: its exit code, when it exited normally."),
    "exit_signal": U("Recorded processes: the signal that killed it."),
    "pidns": U("Inode of its pid namespace; null when not readable.", nullable=True),
    "mntns": U("Inode of its mount namespace; null when not readable.", nullable=True),
    "netns": U("Inode of its network namespace; null when not readable.", nullable=True),
}, required=["pid", "ppid", "start_time", "start_time_ns", "comm", "state", "stat", "tty", "sid", "pgid", "nlwp",
             "nice", "rss_kb", "vsz_kb", "cpu_ticks", "kernel_thread"],
    desc="A process as lineage read it (output/json_writer.cc process_json). A field lineage tried to read "
         "but was denied is null, never invented; a field it did not try to read is absent.",
    closed=True)


def process_with(extra, required, desc):
    """A Process with more keys (a tree node, a kill member): one closed object, not $ref plus
    unevaluatedProperties, which python3-jsonschema 4.10 evaluates too slowly on a deep tree."""
    return OBJ(dict(PROCESS["properties"], **extra), required=PROCESS["required"] + list(required), desc=desc)

SOURCE = OBJ({
    "kind": E(SOURCE_KINDS, "What started the process."),
    "name": S("The launcher: a unit, a crontab line, a session, a container ..."),
    "pid": I("The launcher's pid (0: none, e.g. the kernel)."),
    "verified": B("true: evidence an unprivileged user cannot forge (a verified executable, a cgroup); "
                  "false: only a claim."),
    "unverified_reason": S("Why it could not be verified (only when verified is false)."),
    "details": MAP({"type": "string"}, "Kind-specific facts as text (unit, crontab, line, user, remote, via ...)."),
    "evidence": ARR({"type": "string"}, "What lineage saw, one line each."),
}, required=["kind", "name", "pid", "verified", "details", "evidence"],
    desc="A launch context that explains a process (output/why_writer.cc source_json).")


def process_defs():
    return {"process": PROCESS}


def source_defs():
    return {"source": SOURCE}


def header(kind, title, desc):
    return {
        "$schema": DRAFT,
        # No web address is promised: a URN names the schema; the file is docs/schema/lineage.KIND.v1.json.
        "$id": "urn:lineage:schema:%s:v1" % kind,
        "title": title,
        "description": desc,
    }


def doc(kind, title, desc, props, required, defs=None, closed=True, **extra):
    s = header(kind, title, desc)
    s["type"] = "object"
    props = dict({"schema": {"const": "lineage.%s/v1" % kind, "description": "Names this schema."}}, **props)
    s["properties"] = props
    s["required"] = ["schema"] + list(required)
    if closed:
        s["additionalProperties"] = False
    s.update(extra)
    if defs:
        s["$defs"] = defs
    return s


# ---- why ------------------------------------------------------------------

WHY_FIELDS = {
    "target": REF("process", "The process explained."),
    "chain": ARR(REF("process"), "Its ancestors, root first, the target last."),
    "truncated": B("The ancestor walk hit its bound: an origin may be missing."),
    "session_chain": ARR(REF("process"),
                         "An orphan's live session leader's chain (root first, leader last), where sources with "
                         "details.via = \"session\" were found."),
    "sources": ARR(REF("source"), "What started it, the most specific first."),
    "summary": S("One sentence: who started it."),
    "warnings": ARR(OBJ({"id": S("Stable id of the warning (running-as-root, deleted-executable ...)."),
                         "message": S("Its text.")}, required=["id", "message"]),
                    "Facts worth a look."),
    "listening": ARR(OBJ({
        "protocol": E(["tcp", "tcp6", "udp", "udp6"], "Socket protocol."),
        "address": S("Local address."),
        "port": U("Local port."),
        "all_interfaces": B("Bound to every interface (0.0.0.0 or ::)."),
    }, required=["protocol", "address", "port", "all_interfaces"]), "Sockets it listens on."),
    "git": OBJ({"repository": S("Top directory of the repository."), "branch": S("Checked-out branch.")},
               required=["repository", "branch"], nullable=True,
               desc="The git repository of its working directory; null when none."),
    "reused_parent_pid": I("Its parent's pid was reused by a younger process: the real parent exited."),
    "history": OBJ({"covered": B("Recorded history covers the process's origin."),
                    "note": S("Why not, when not.")}, required=["covered"],
                   desc="Only when recorded history was consulted (an orphan)."),
    "children": ARR(REF("process"), "Its children (--tree)."),
    "environment": {"type": ["object", "null"], "additionalProperties": {"type": "string"},
                    "description": "Its environment (--env), secret-looking values redacted; null when not "
                                   "readable."},
}
WHY_REQUIRED = ["target", "chain", "truncated", "sources", "summary", "warnings", "listening", "git"]


def why_schema():
    report = OBJ(WHY_FIELDS, required=WHY_REQUIRED, desc="One process's report, without \"schema\".")
    at = TIME("With --at: the moment shown")
    skipped = ARR(OBJ({"pid": I("The match that exited."), "target": S("The TARGET it matched, as typed."),
                       "reason": S("Why it is not explained (\"exited before it could be explained\").")},
                      required=["pid", "target", "reason"]),
                  "Matches that exited between the scan and their report (only when there are some; "
                  "cli/why_command.cc skipped_json).")
    single = OBJ(dict({"schema": {"const": "lineage.why/v1"}, "at": at, "skipped": skipped}, **WHY_FIELDS),
                 required=["schema"] + WHY_REQUIRED)
    several = OBJ({"schema": {"const": "lineage.why/v1"},
                   "results": ARR(REF("report"), "One report per process, in the order asked.", minItems=2),
                   "at": at, "skipped": skipped}, required=["schema", "results"])
    s = header("why", "lineage why --json",
               "Why a process runs: its chain of ancestors and what started it. With several targets the "
               "reports are in \"results\".")
    s["oneOf"] = [single, several]
    s["$defs"] = dict(report=report, **process_defs(), **source_defs())
    return s


# ---- tree -----------------------------------------------------------------

def tree_node():
    return process_with({
            "target": TRUE("A process named by TARGET."),
            "context": TRUE("An ancestor shown only as the path to a target."),
            "count": I("--compact: identical siblings folded into this row.", minimum=2),
            "folded_pids": ARR({"type": "integer"}, "--compact: the pids folded into this row."),
            "threads": ARR(OBJ({"tid": I("Thread id."), "comm": S("Thread name."),
                                "state": S("One-letter state.")}, required=["tid", "comm", "state"]),
                           "Its threads (when they were asked for)."),
            "children": ARR({"$ref": "#/$defs/node"}, "Its children, as nodes."),
    }, ["children"], "A process of the forest, with its children.")


TREE_FIELDS = {
    "generated_at": TIME("When the processes were read (with --at: the moment shown)"),
    "columns": ARR({"type": "string"}, "The columns the text output would show."),
    "targets": ARR({"type": "integer"}, "Pids named by TARGET; empty without one."),
    "processes": ARR({"$ref": "#/$defs/node"}, "The roots of the forest."),
}


def tree_schema():
    return doc("tree", "lineage tree --json", "The process forest (output/json_writer.cc render_tree_json).",
               TREE_FIELDS, ["generated_at", "columns", "targets", "processes"],
               defs=dict(node=tree_node(), **process_defs()))


# ---- event ----------------------------------------------------------------

def event_fields(with_lineage):
    f = {
        "event": E(EVENT_KINDS, "fork, exec, exit; lost: the kernel dropped events."),
        "time_ns": U("When, in nanoseconds since boot (CLOCK_BOOTTIME)."),
        "time": TIME("record --export: when"),
        "boot_id": S("record --export: the boot the time belongs to (/proc/sys/kernel/random/boot_id)."),
        "lost": U("lost events: how many were dropped."),
        "pid": I("The process (thread group id)."),
        "tid": I("The thread, when not the process's main thread."),
        "start_time_ns": U("The process's start time since boot: with pid, its identity."),
        "ppid": I("Its parent."),
        "parent_start_time_ns": U("The parent's start time since boot."),
        "uid": U("Effective user id."),
        "gid": U("Effective group id."),
        "thread": TRUE("The event is about a thread, not a process."),
        "thread_start_time_ns": U("The thread's start time since boot."),
        "comm": S("Kernel short name."),
        "exe": S("exec: the path executed."),
        "argv": ARR({"type": "string"}, "exec: the arguments (possibly cut at a bound)."),
        "exe_id": OBJ({"dev": U("Device of the executable."), "ino": U("Its inode."),
                       "ctime_ns": U("Its ctime, in ns.")}, required=["dev", "ino", "ctime_ns"],
                      desc="exec: the executable's identity (eBPF source)."),
        "interpreter": S("exec: the interpreter of a script (#!)."),
        "reaper": I("exit: the process that will reap it (when known)."),
        "reaper_start_time_ns": U("exit: the reaper's start time since boot."),
        "exit_code": I("exit: the exit code; null when killed by a signal or unknown.", nullable=True),
        "signal": U("exit: the signal that killed it."),
        "wait_status": I("exit: the raw wait status (-1: unknown, the poll source)."),
        "cgroup_id": U("The cgroup (v2) id."),
        "pidns": U("Inode of its pid namespace (when not the initial one)."),
        "ns_pid": I("Its pid inside that namespace."),
        "from_proc": TRUE("Synthesised from /proc (poll source, backfill), not from a kernel event."),
    }
    if with_lineage:
        f["lineage"] = ARR({"type": "string"}, "watch: the names of its ancestors, root first, itself last.")
    return f


def event_schema():
    s = doc("event", "lineage watch --json / record --export",
            "One process event, one JSON object a line (events/event_json.cc to_json_line; watch adds "
            "\"lineage\", record --export adds \"time\" and \"boot_id\").",
            event_fields(True), ["event", "time_ns"])
    s["if"] = {"properties": {"event": {"const": "lost"}}}
    s["then"] = {"required": ["lost"]}
    s["else"] = {"required": ["pid", "uid", "gid"]}
    s["allOf"] = [
        {"if": {"properties": {"event": {"const": "exec"}}}, "then": {"required": ["exe", "argv"]}},
        {"if": {"properties": {"event": {"const": "exit"}}}, "then": {"required": ["exit_code", "wait_status"]}},
    ]
    return s


# ---- history --------------------------------------------------------------

def history_schema():
    proc = OBJ({
        "pid": I("Process id."),
        "ppid": I("Parent process id."),
        "start_time": TIME("When it started"),
        "alive": B("Running now."),
        "exit_time": TIME("When it exited (when an exit is recorded)"),
        "duration_ns": U("How long it ran (when an exit is recorded)."),
        "exit_code": U("Its exit code (exited normally)."),
        "exit_signal": U("The signal that killed it."),
        "uid": U("Its user id (of its last exec, else of its fork)."),
        "user": S("That user's name (the uid as text when unknown)."),
        "comm": S("Its name (of its last exec, else of its fork)."),
        "exe": S("Executable of its last recorded exec."),
        "cmdline": ARR({"type": "string"}, "Arguments of its last recorded exec."),
        "backfilled": B("Recorded from /proc when recording began, not from a fork event."),
        "exit_unseen": TRUE("Gone without its exit being seen."),
        "depth": U("--descendants: 0 is PID itself, 1 its children ..."),
    }, required=["pid", "ppid", "start_time", "alive", "uid", "user", "comm", "backfilled"],
        desc="A recorded process (cli/history_command.cc to_json).")
    return doc("history", "lineage history --json", "Processes from the recorded history.",
               {"descendants_of": I("--descendants: the pid whose descendants are listed."),
                "processes": ARR(proc, "Matching processes, newest first (--descendants: depth first).")},
               ["processes"])


# ---- record-status --------------------------------------------------------

def record_status_schema():
    return doc("record-status", "lineage record --status --json", "The recorder and its database.", {
        "running": B("A recorder is recording into the database."),
        "starting": TRUE("A recorder holds the database but is not recording yet."),
        "pid": I("The recorder's pid (when one holds the database)."),
        "source": E(["bpf", "netlink", "poll"], "Its event source (when running)."),
        "database": S("Path of the database."),
        "exists": B("The database exists and could be opened."),
        "bytes": U("Size of the database and its WAL."),
        "processes": U("Processes recorded."),
        "events": U("Events the recorder has seen."),
        "events_per_second": N("Its recent event rate.", minimum=0),
        "lost": U("Events the kernel dropped."),
        "oldest": TIME("The first moment recorded (when anything is)"),
        "newest": TIME("The last moment recorded (when anything is)"),
    }, ["running", "database", "exists", "bytes", "processes", "events", "events_per_second", "lost"])


# ---- files ----------------------------------------------------------------

def files_schema():
    peer = OBJ({
        "pid": I("The other holder's pid."),
        "comm": S("Its name."),
        "fd": I("Its fd."),
        "mode": S("r, w or rw; null when its fdinfo was not readable.", nullable=True),
        "self": B("The holder is the process itself (both ends of a pipe or socket pair)."),
        "why": S("The holder's one-line why --short summary; null past the first 64 holders or when it "
                 "exited meanwhile.", nullable=True),
    }, required=["pid", "comm", "fd", "mode", "self", "why"])
    socket = OBJ({
        "protocol": S("TCP, TCP6, UDP, UDP6, UNIX, NETLINK, ..."),
        "local": S("Local end: address:port, a unix path, @abstract, or a netlink family."),
        "remote": S("Remote end; empty when none."),
        "state": S("ss-style state: LISTEN, ESTAB, TIME-WAIT ... (UDP: UNCONN or ESTAB; unix: LISTEN, CONNECTED, "
                   "UNCONNECTED ...); may be empty."),
        "type": S("unix sockets: STREAM, DGRAM, SEQPACKET."),
        "rqueue": U("Receive queue bytes; null when unknown.", nullable=True),
        "wqueue": U("Send queue bytes; null when unknown.", nullable=True),
        "peer_inode": U("unix sockets: the inode of the other end (0: none)."),
    }, required=["protocol", "local", "remote", "state", "rqueue", "wqueue"], desc="What a socket fd is.")
    f = OBJ({
        "fd": I("File descriptor; null for cwd, rtd, txt, mem.", nullable=True),
        "label": S("The fd number as text, or cwd, rtd, txt, mem."),
        "mode": E(["r", "w", "rw"], "Access mode; null when there is no fdinfo (not an fd, or not readable).",
                  nullable=True),
        "flags": ARR({"type": "string"}, "open(2) flags by name (append, cloexec, nonblock ...); null without "
                     "fdinfo.", nullable=True),
        "flags_octal": S("The flags as the kernel gives them, in octal (only with fdinfo)."),
        "offset": U("File position; null without fdinfo.", nullable=True),
        "mnt_id": U("Mount id; null when fdinfo lacks it. Absent without fdinfo.", nullable=True),
        "type": S("lsof-style type: REG, DIR, CHR, BLK, FIFO, sock, a_inode, ..."),
        "path": S("What it refers to."),
        "deleted": B("The file was deleted."),
        "link": S("The fd link as the kernel gives it."),
        "device": S("Its device, MAJ:MIN as in mountinfo (and who's dev); null when unknown.", nullable=True,
                    pattern=DEV_PATTERN),
        "inode": U("Inode number (0: none)."),
        "size": U("Size in bytes; null when not a regular file or unknown.", nullable=True),
        "socket": socket,
        "peers": ARR(peer, "Pipes and connected unix sockets: the other holders."),
        "peers_omitted": U("Holders not listed (past the bound)."),
    }, required=["fd", "label", "mode", "flags", "offset", "type", "path", "deleted", "link", "device",
                 "inode", "size"], desc="An open file.")
    return doc("files", "lineage files --json", "A process's open files (output/files_writer.cc).", {
        "process": OBJ({"pid": I("Process id."), "comm": S("Its name."),
                        "user": S("Its user; null when not readable.", nullable=True),
                        "uid": U("Its uid; null when not readable.", nullable=True)},
                       required=["pid", "comm", "user", "uid"], desc="The process whose files these are."),
        "files": ARR(f, "Its open files, cwd/rtd/txt first, then fds in order, then maps (--maps)."),
        "not_readable": ARR({"type": "string"}, "What could not be read (\"fd table\", \"cwd\", \"fd 7\" ...)."),
        "peer_scan": OBJ({"done": B("Other processes were searched for the other ends."),
                          "processes_not_readable": U("Processes whose fds could not be read."),
                          "method": E(["bpf", "proc"], "How the pipes' and sockets' other ends were looked "
                                      "for: bpf, the file iterator in the kernel; proc, every fd link of "
                                      "every process (named FIFOs: always proc).", nullable=True)},
                         required=["done", "processes_not_readable", "method"],
                         desc="The search of every process for the other ends of pipes and unix sockets."),
    }, ["process", "files", "not_readable", "peer_scan"])


# ---- who ------------------------------------------------------------------

def who_schema():
    sock = OBJ({
        "protocol": E(["tcp", "tcp6", "udp", "udp6"], "Socket protocol."),
        "local_address": S("Local address."), "local_port": U("Local port."),
        "remote_address": S("Remote address."), "remote_port": U("Remote port."),
        "state": S("ss-style state: LISTEN, ESTAB, ... (UDP: UNCONN or ESTAB)."),
        "inode": U("Socket inode."),
    }, required=["protocol", "local_address", "local_port", "remote_address", "remote_port", "state", "inode"])
    resource = OBJ({
        "query": S("The RESOURCE as typed."),
        "kind": E(["file", "directory", "character device", "block device", "fifo", "socket", "tree", "mount",
                   "port"], "What it is (tree: --dir, everything below a directory)."),
        "port": U("kind port: the port."),
        "path": S("The path resolved."),
        "dev": S("Its device, MAJ:MIN as in mountinfo (and files' device).", pattern=DEV_PATTERN),
        "inode": U("Its inode (not for tree and mount)."),
        "fstype": S("mount and tree: the filesystem type."),
        "source": S("mount: the mounted device."),
        "sockets": ARR(sock, "kind port: the sockets on it."),
    }, required=["query", "kind"], desc="What was asked about, resolved.")
    hold = OBJ({
        "how": E(["fd", "cwd", "root", "exe", "mmap"], "How the process holds it."),
        "fd": I("how fd: the fd."),
        "mode": S("how fd: r, w or rw (when known)."),
        "path": S("The path held (when known)."),
        "inode": U("The inode held (when known)."),
    }, required=["how"])
    holder = OBJ({
        "pid": I("Process id."), "comm": S("Its name."),
        "user": S("Its user (when known)."), "uid": U("Its uid (when known)."),
        "holds": ARR(hold, "Each way it holds the resource."),
        "why": S("Its one-line why --short summary."),
    }, required=["pid", "comm", "holds", "why"])
    return doc("who", "lineage who --json", "Who holds a file, directory, device, mount or port "
               "(output/who_writer.cc).", {
                   "resource": resource,
                   "holders": ARR(holder, "The processes holding it; empty when none (exit 2 or 3)."),
                   "unreadable_processes": U("Processes whose fds could not be read."),
                   "vanished": U("Holders that exited before they were explained."),
                   "method": E(["proc", "bpf"], "How the holders were found."),
               }, ["resource", "holders", "unreadable_processes", "vanished", "method"])


# ---- kill -----------------------------------------------------------------

def kill_schema():
    member = process_with({
            "joined": B("Forked during the kill, caught by a rescan."),
            "outcome": E(["planned", "pending", "signal", "killed", "gone", "skipped", "denied", "survived"],
                         "planned (--dry-run); signal: ended by the signal; killed: by KILL after the timeout; "
                         "gone: exited first; skipped, denied, survived."),
            "reason": S("skipped and denied: why."),
    }, ["joined", "outcome"], "A process of the kill and its outcome.")
    summary = OBJ({k: U(d) for k, d in [("signal", "Ended by the signal."), ("killed", "Ended by KILL."),
                                        ("gone", "Exited before the signal."), ("skipped", "Skipped."),
                                        ("denied", "Permission denied."), ("survived", "Still alive."),
                                        ("joined", "Forked during the kill.")]},
                  required=["signal", "killed", "gone", "skipped", "denied", "survived", "joined"],
                  desc="Counts of outcomes (not with --dry-run).")
    return doc("kill", "lineage kill --json", "A kill of a process and its tree, or its plan with --dry-run "
               "(cli/kill_command.cc report_json).", {
                   "target": REF("process", "The process named."),
                   "scope": E(["tree", "children", "group", "session"], "What was killed."),
                   "signal": S("Signal name without SIG (TERM, KILL, RTMIN+3 ...)."),
                   "signal_number": U("Its number."),
                   "timeout_ms": U("How long before KILL."),
                   "dry_run": B("Nothing was signalled."),
                   "plan": ARR({"type": "integer"}, "Pids, top-down, as first selected."),
                   "processes": ARR(member, "Each process and its outcome."),
                   "summary": summary,
                   "rescans": U("Rescans for processes forked during the kill (0 with --dry-run)."),
                   "stop": OBJ({
                       "method": E(["freezer", "sigstop"], "freezer: the set is exactly one cgroup, which was (or "
                                   "would be) frozen; sigstop: each process stopped by SIGSTOP, top-down."),
                       "cgroup": S("The cgroup frozen or tried (as /proc/PID/cgroup names it).", nullable=True),
                       "why_not_freezer": S("With sigstop: why the freezer was not used (or failed).",
                                            nullable=True),
                   }, required=["method", "cgroup", "why_not_freezer"],
                       desc="How the set is stopped before the signal, so nothing it forks meanwhile escapes."),
               }, ["target", "scope", "signal", "signal_number", "timeout_ms", "dry_run", "plan", "processes",
                   "rescans", "stop"],
               defs=process_defs())


# ---- top ------------------------------------------------------------------

def top_schema():
    proc = OBJ({
        "pid": I("Process id."), "ppid": I("Parent."),
        "start_time": TIME("When it started"), "start_time_ns": U("Start time since boot."),
        "comm": S("Its name."), "command": S("Its command line (or [comm])."),
        "cpu_percent": N("CPU over the interval; 100 = one core.", minimum=0),
        "cpu_ticks": U("CPU ticks over the interval."),
        "rss_bytes": U("Resident memory."),
        "started": B("Started during the interval."),
    }, required=["pid", "ppid", "start_time", "start_time_ns", "comm", "cpu_percent", "cpu_ticks", "rss_bytes",
                 "started"])
    group = OBJ({
        "key": S("Stable identity of the group."),
        "kind": E(SOURCE_KINDS + ["process", "unit", "user", "parent"],
                  "A Source kind, process or init or kernel (--by context); unit, container, user, parent "
                  "with --by."),
        "label": S("The group in words."),
        "cpu_percent": N("CPU of the group over the interval; 100 = one core.", minimum=0),
        "cpu_ticks": U("CPU ticks over the interval."),
        "rss_bytes": U("Resident memory of the group."),
        "processes": U("Processes in the group."),
        "started": U("Processes started during the interval."),
        "started_per_s": N("Starts a second.", minimum=0),
        "root": OBJ({"pid": I("Process id."), "start_time_ns": U("Start time since boot."),
                     "comm": S("Its name.")}, required=["pid", "start_time_ns", "comm"],
                    desc="--by context: the process at the top of the context."),
        "launcher_pid": I("--by context: the cron, sshd, tmux server ... (when there is one)."),
        "verified": B("--by context: the launcher is verified."),
        "details": MAP({"type": "string"}, "--by context: the Source's details."),
        "top": ARR(proc, "Its busiest processes."),
    }, required=["key", "kind", "label", "cpu_percent", "cpu_ticks", "rss_bytes", "processes", "started",
                 "started_per_s", "top"])
    return doc("top", "lineage top --json", "CPU by launch context over an interval (output/top_writer.cc). "
               "--watch prints one document a line.", {
                   "generated_at": TIME("When the second sample was taken"),
                   "interval_s": N("Measured interval between the two samples, in seconds.", minimum=0),
                   "by": E(["context", "unit", "container", "user", "parent"], "How processes are grouped."),
                   "sampler": E(["bpf", "proc"], "How every process was read."),
                   "cores": U("Online CPUs."),
                   "processes": U("Processes alive at the end."),
                   "started": U("Alive at the end, started during the interval."),
                   "exited": U("Gone at the end (their last CPU time is lost)."),
                   "cpu_percent": N("All processes; 100 = one core.", minimum=0),
                   "groups_total": U("Groups before --limit."),
                   "groups": ARR(group, "The busiest groups first."),
               }, ["generated_at", "interval_s", "by", "sampler", "cores", "processes", "started", "exited",
                   "cpu_percent",
                   "groups_total", "groups"])


# ---- zombies --------------------------------------------------------------

ZOMBIES_FIELDS = None


def zombies_fields():
    group = OBJ({
        "parent_pid": I("The parent that does not reap them."),
        "parent": REF("process", "The parent; null when it exited meanwhile.", nullable=True),
        "reaper": E(["parent", "init", "subreaper"], "parent; init: pid 1 of its pid namespace; subreaper: "
                    "a subreaper that adopted them."),
        "reaper_evidence": S("How the adoption is known (e.g. recorded history)."),
        "count": U("Zombies in the group."),
        "oldest_age_seconds": U("Age of the oldest."),
        "newest_age_seconds": U("Age of the newest."),
        "summary": S("The parent's why --short summary."),
        "sources": ARR(REF("source"), "The parent's sources."),
        "restart": OBJ({"kind": S("Source kind of the restart."), "name": S("What to restart."),
                        "command": S("The command that restarts it.")}, required=["kind", "name", "command"],
                       nullable=True, desc="How to restart the parent; null when unknown."),
        "advice": S("What to do."),
        "zombies": ARR(OBJ({"pid": I("Zombie pid."), "comm": S("Its name."), "start_time": TIME("When it started"),
                            "age_seconds": U("Its age.")}, required=["pid", "comm", "start_time", "age_seconds"]),
                       "The zombies."),
    }, required=["parent_pid", "parent", "reaper", "count", "oldest_age_seconds", "newest_age_seconds", "summary",
                 "sources", "restart", "advice", "zombies"])
    return {
        "generated_at": TIME("When the processes were read"),
        "min": U("--min: the smallest group reported."),
        "total": U("Zombies in the groups."),
        "groups": ARR(group, "Groups of zombies by parent, the largest first."),
    }


ZOMBIES_REQUIRED = ["generated_at", "min", "total", "groups"]


def zombies_schema():
    return doc("zombies", "lineage zombies --json", "Zombie processes grouped by the parent that does not reap "
               "them (output/zombies_writer.cc).", zombies_fields(), ZOMBIES_REQUIRED,
               defs=dict(**process_defs(), **source_defs()))


# ---- audit and finding ----------------------------------------------------

def finding_fields():
    return {
        "rule": S("The rule's id (audit --list-rules)."),
        "severity": E(SEVERITIES, "How bad."),
        "title": S("The finding in one line."),
        "evidence": ARR({"type": "string"}, "What lineage saw, one line each."),
        "pid": I("The process; null for a finding about the system.", nullable=True),
        "related_pid": I("The server, tracer ... involved; null when none.", nullable=True),
        "process": REF("process", "The process, as in lineage.tree/v1; null for the system, and for a process "
                       "already gone from /proc when judged (see seen).", nullable=True),
        "seen": OBJ({
            "pid": I("Process id."),
            "ppid": I("Its parent when judged."),
            "start_time_ns": U("Start time, ns since boot."),
            "comm": S("Its name."),
            "exe": S("Executable the event stream gave; null when unknown.", nullable=True),
            "cmdline": ARR({"type": "string"}, "Arguments the event stream gave; null when unknown.", nullable=True),
            "uid": U("Effective uid the event stream gave; null when unknown.", nullable=True),
        }, required=["pid", "ppid", "start_time_ns", "comm", "exe", "cmdline", "uid"],
            desc="When process is null for a process (watch --audit, audit --since): only what the event stream "
                 "said of it; nothing else is known, so nothing else is given."),
        "chain": ARR(OBJ({"pid": I("Process id."), "comm": S("Its name.")}, required=["pid", "comm"]),
                     "Its ancestors, root first, itself last."),
        "summary": S("Its why --short summary."),
        "time": TIME("When it was found; null for a live audit", nullable=True),
        "sources": ARR(REF("source"), "Its sources, as in lineage.why/v1."),
    }


FINDING_REQUIRED = ["rule", "severity", "title", "evidence", "pid", "related_pid", "process", "chain", "summary",
                    "time", "sources"]


def audit_schema():
    finding = OBJ(finding_fields(), required=FINDING_REQUIRED, desc="A finding (output/audit_writer.cc).")
    sev_count = OBJ({s: U("Findings of severity " + s + ".") for s in SEVERITIES}, required=SEVERITIES,
                    desc="Findings by severity, before --min-severity hides any.")
    return doc("audit", "lineage audit --json", "Findings of the audit rules (output/audit_writer.cc).", {
        "generated_at": TIME("When the processes were read"),
        "processes": U("Processes judged."),
        "rules": ARR({"type": "string"}, "The rules that ran."),
        "min_severity": E(SEVERITIES, "--min-severity."),
        "fail_on": E(SEVERITIES, "--fail-on: the severity that makes the exit code 1."),
        "counts": sev_count,
        "suppressed": U("Findings suppressed by the allow-list."),
        "allow_file": S("The --allow path; null when none.", nullable=True),
        "since": TIME("--since: the start of the span read from the history; null otherwise", nullable=True),
        "findings": ARR(finding, "Most severe first, then by pid."),
    }, ["generated_at", "processes", "rules", "min_severity", "fail_on", "counts", "suppressed", "allow_file",
        "since", "findings"], defs=dict(**process_defs(), **source_defs()))


def finding_schema():
    f = finding_fields()
    f["time"] = TIME("When the exec or fork that raised it happened")
    return doc("finding", "lineage watch --audit --json", "One finding a line, as it happens "
               "(cli/watch_command.cc finding_line).", f, FINDING_REQUIRED,
               defs=dict(**process_defs(), **source_defs()))


# ---- snapshot -------------------------------------------------------------

def snapshot_schema():
    raw = OBJ({
        "pid": I("Process id."),
        "read": U("Bit mask of the field groups read (core::FieldMask)."),
        "unavailable": U("Bit mask of the field groups denied."),
        "stat": ARR({"type": "integer"}, "tty_nr, tpgid, flags, utime, stime, priority, start_ticks, vsize, "
                    "rss_pages.", minItems=9, maxItems=9),
        "status": OBJ({
            "uid": ARR({"type": "integer"}, "Real, effective, saved, filesystem uid.", minItems=4, maxItems=4),
            "gid": ARR({"type": "integer"}, "Real, effective, saved, filesystem gid.", minItems=4, maxItems=4),
            "vm_locked_kb": U("VmLck."),
            "cap_effective": U("CapEff as a number."),
            "nspid": ARR({"type": "integer"}, "NSpid: pids in nested namespaces, outermost first."),
        }, required=["uid", "gid", "vm_locked_kb", "cap_effective", "nspid"], desc="From /proc/PID/status."),
        "session_id": U("Audit session id."),
        "userns": U("Inode of its user namespace."),
    }, required=["pid", "read", "unavailable", "stat"],
        desc="The numeric fields process_json leaves out, so that --from restores the Process exactly.")
    why_entry = OBJ(dict({"pid": I("Process id."),
                          "chain_pids": ARR({"type": "integer"}, "Its chain's pids, root first, itself last.")},
                         **{k: v for k, v in WHY_FIELDS.items() if k not in ("target", "chain")}),
                    required=["pid", "chain_pids"] + [k for k in WHY_REQUIRED if k not in ("target", "chain")],
                    desc="lineage.why/v1 of one process, without target and chain.")
    sock = OBJ({
        "protocol": E(["tcp", "tcp6", "udp", "udp6"], "Socket protocol."),
        "local_address": S("Local address."), "local_port": U("Local port."),
        "remote_address": S("Remote address."), "remote_port": U("Remote port."),
        "state": S("ss-style state, as in files and who: LISTEN, ESTAB, TIME-WAIT ... (UDP: UNCONN or ESTAB)."),
        "listening": B("Listening (TCP) or bound unconnected (UDP)."),
        "uid": U("Owner uid."),
        "inode": U("Socket inode."),
        "holders": ARR({"type": "integer"}, "Pids holding it."),
    }, required=["protocol", "local_address", "local_port", "remote_address", "remote_port", "state", "listening",
                 "uid", "inode", "holders"])
    hist_event = OBJ({
        "time": TIME("When"),
        "event": E(["fork", "exec", "exit"], "What."),
        "pid": I("Process id."),
        "ppid": I("fork: its parent."),
        "comm": S("fork, exec: its name."),
        "exe": S("exec: the executable."),
        "argv": ARR({"type": "string"}, "exec: the arguments."),
        "status": S("exit: how it ended, in words."),
    }, required=["time", "event", "pid"])
    history = {
        "oneOf": [
            {"type": "null"},
            OBJ({"db": S("The database."), "since": TIME("The start of the span"),
                 "processes": U("Recorded processes alive in the span."),
                 "events": ARR(hist_event, "Oldest first.")}, required=["db", "since", "processes", "events"]),
            OBJ({"db": S("The database."), "error": S("Why it could not be read.")}, required=["db", "error"]),
        ],
        "description": "The last --history of recorded events; null without a database (or --history 0).",
    }
    tree = dict(OBJ(dict({"schema": {"const": "lineage.tree/v1"}}, **TREE_FIELDS),
                    required=["schema", "generated_at", "columns", "targets", "processes"]),
                description="lineage.tree/v1 of every process, kernel threads included.")
    zombies = dict(OBJ(dict({"schema": {"const": "lineage.zombies/v1"}}, **zombies_fields()),
                       required=["schema"] + ZOMBIES_REQUIRED), description="lineage.zombies/v1 (--min 1).")
    return doc("snapshot", "lineage snapshot (the file)", "The whole scene in one file, readable later with "
               "--from (snapshot/build.cc). The environment of processes is never written.", {
                   "host": S("Host name."),
                   "boot_id": S("Boot id."),
                   "time": TIME("When the snapshot was taken"),
                   "kernel": S("uname: sysname release version."),
                   "machine": S("uname: machine."),
                   "system": OBJ({
                       "boot_ns": U("CLOCK_BOOTTIME at the scan."),
                       "realtime_ns": I("CLOCK_REALTIME at the scan."),
                       "mem_total_kb": U("MemTotal."),
                       "ticks_per_second": U("Clock ticks a second."),
                       "page_size": U("Page size in bytes."),
                       "processes": U("Processes scanned."),
                   }, required=["boot_ns", "realtime_ns", "mem_total_kb", "ticks_per_second", "page_size",
                                "processes"], desc="The machine's clocks and constants at the scan."),
                   "tree": tree,
                   "raw": ARR(raw, "One entry a process."),
                   "why": ARR(why_entry, "One entry a process."),
                   "sockets": ARR(sock, "Open TCP and UDP sockets."),
                   "zombies": zombies,
                   "history": history,
               }, ["host", "boot_id", "time", "kernel", "machine", "system", "tree", "raw", "why", "sockets",
                   "zombies", "history"],
               defs=dict(node=tree_node(), **process_defs(), **source_defs()))


def snapshot_written_schema():
    return doc("snapshot-written", "lineage snapshot --json", "What lineage snapshot --json prints once the "
               "file is written (cli/snapshot_command.cc).", {
                   "output": S("The file written."),
                   "bytes": U("Bytes of JSON (before compression)."),
                   "compressed": B("zstd-compressed (the name ends in .zst)."),
               }, ["output", "bytes", "compressed"])


# ---- trace (branch trace: src/output/trace_writer.cc trace_json) -----------

def trace_schema():
    sec = lambda d, nullable=False: N(d, nullable, minimum=0)
    exec_ = OBJ({"offset_seconds": sec("When, in seconds from CMD's fork (boot clock)."),
                 "exe": S("The path executed."),
                 "argv": ARR({"type": "string"}, "Its arguments.")}, required=["offset_seconds", "exe", "argv"])
    result = {"result": I("The syscall's result: an fd, 0, or -errno."),
              "error": S("The errno's name (ENOENT) when result < 0; else null.", nullable=True)}
    file_ = OBJ({"offset_seconds": sec("When it returned, in seconds from CMD's fork (boot clock)."),
                 "path": S("The path as the process gave it (relative to dirfd or the cwd when not absolute)."),
                 "path_truncated": B("Longer than lineage reads (511 bytes), or unreadable."),
                 "flags": S("The open flags: O_RDONLY|O_CLOEXEC ..."),
                 "dirfd": I("openat's directory fd; null: AT_FDCWD.", nullable=True),
                 "mode": U("The mode, with O_CREAT or O_TMPFILE; else null.", nullable=True),
                 **result}, required=["offset_seconds", "path", "path_truncated", "flags", "dirfd", "mode",
                                      "result", "error"])
    net_ = OBJ({"offset_seconds": sec("When it returned, in seconds from CMD's fork (boot clock)."),
                "call": E(["connect", "bind", "listen", "accept"], "The syscall (accept4 is accept)."),
                "fd": I("The socket (accept: the listening one; the new one is result)."),
                "family": S("inet, inet6, unix, or the number; null: unknown.", nullable=True),
                "address": S("connect/bind: the address given; listen: the socket's own; accept: the peer's. "
                             "127.0.0.1:80, [::1]:22, a unix path (@name: abstract); null: unknown.",
                             nullable=True),
                **result}, required=["offset_seconds", "call", "fd", "family", "address", "result", "error"])
    proc = OBJ({
        "pid": I("Process id."),
        "ppid": I("Its fork parent."),
        "comm": S("Its name."),
        "exe": S("The last exec's executable; null: it never exec'd.", nullable=True),
        "argv": ARR({"type": "string"}, "The last exec's arguments; empty when it never exec'd."),
        "start_offset_seconds": sec("Its fork, in seconds from CMD's fork."),
        "exec_offset_seconds": sec("Its first exec, from CMD's fork; null: never exec'd.", nullable=True),
        "state": E(["exited", "running", "unknown"], "unknown: gone without an exit event."),
        "duration_seconds": sec("Fork to exit; null unless exited.", nullable=True),
        "status": S("How it ended, in words (exit 0, signal TERM ...)."),
        "exit_code": U("Its exit code; null unless it exited normally.", nullable=True),
        "signal": S("The signal that ended it, by name; null unless killed.", nullable=True),
        "cpu_seconds": sec("CPU time; null when unknown.", nullable=True),
        "cpu_from": E(["exit", "last sighting"], "Where cpu_seconds comes from; null when unknown.",
                      nullable=True),
        "backfilled": B("Its fork was lost: found in /proc afterwards."),
        "execs": ARR(exec_, "Every exec, oldest first."),
        "files": ARR(file_, "With -e file: its opens, oldest first."),
        "network": ARR(net_, "With -e net: its connect, bind, listen and accept calls, oldest first."),
    }, required=["pid", "ppid", "comm", "exe", "argv", "start_offset_seconds", "exec_offset_seconds", "state",
                 "duration_seconds", "status", "exit_code", "signal", "cpu_seconds", "cpu_from", "backfilled",
                 "execs"])
    return doc("trace", "lineage trace --json", "A command's spawn tree (output/trace_writer.cc trace_json). "
               "Times are seconds from CMD's fork on the boot clock.", {
                   "command": ARR({"type": "string"}, "CMD and its arguments."),
                   "source": E(["bpf", "netlink"], "The event source."),
                   "started_at": TIME("CMD's fork"),
                   "duration_seconds": sec("CMD's, fork to exit."),
                   "status": S("How CMD ended: exit 0, signal TERM, signal SEGV (core dumped) ..."),
                   "exit_status": U("lineage's own exit status: CMD's, or 128 + signal."),
                   "wait_status": I("CMD's status as waitpid gave it."),
                   "events_lost": U("Events lost (> 0: processes may be missing)."),
                   "process_count": U("Processes traced."),
                   "left_running": ARR({"type": "integer"}, "Pids still alive when CMD ended."),
                   "events": ARR(E(["file", "net"], "A category."),
                                 "With -e: the call categories traced (each process then has files and/or network)."),
                   "io_lost": U("With -e: calls lost (the ring buffer was full, or no traced process held them)."),
                   "processes": ARR(proc, "In fork order; [0] is CMD.", minItems=1),
               }, ["command", "source", "started_at", "duration_seconds", "status", "exit_status", "wait_status",
                   "events_lost", "process_count", "left_running", "processes"])


def doctor_schema():
    check = OBJ({
        "id": E(["kernel", "btf", "capabilities", "bpf", "netlink", "proc-mount", "cgroup", "systemd",
                 "containers", "history"], "Stable id of the check."),
        "title": S("What is checked, for people."),
        "ok": B("lineage has it."),
        "required": B("Counted for the exit status and for the top-level ok (informational checks are not)."),
        "detail": S("What was found (a version, libbpf's error, mount options ...)."),
        "effect": S("When not ok: which commands degrade and how.", nullable=True),
    }, ["id", "title", "ok", "required", "detail", "effect"], desc="One check.")
    return doc("doctor", "lineage doctor --json", "What this machine gives lineage, and what is missing.", {
        "ok": B("Every required check passed (exit 0)."),
        "checks": ARR(check, "The checks, in a fixed order."),
    }, ["ok", "checks"])


SCHEMAS = {
    "why": why_schema,
    "tree": tree_schema,
    "event": event_schema,
    "history": history_schema,
    "record-status": record_status_schema,
    "files": files_schema,
    "who": who_schema,
    "kill": kill_schema,
    "top": top_schema,
    "zombies": zombies_schema,
    "snapshot": snapshot_schema,
    "snapshot-written": snapshot_written_schema,
    "audit": audit_schema,
    "finding": finding_schema,
    "trace": trace_schema,
    "doctor": doctor_schema,
}


def drop_none(x):
    if isinstance(x, dict):
        return {k: drop_none(v) for k, v in x.items() if v is not None or k == "const"}
    if isinstance(x, list):
        return [drop_none(v) for v in x]
    return x


def undescribed(x, path="$"):
    """Properties without a "description" (the issue asks for every field described)."""
    out = []
    if isinstance(x, dict):
        for k, v in x.get("properties", {}).items():
            if k != "schema" and "description" not in v and path.rsplit("/", 1)[-1] != "if":
                out.append(path + "." + k)
        for k, v in x.items():
            out += undescribed(v, path + "/" + k)
    elif isinstance(x, list):
        for i, v in enumerate(x):
            out += undescribed(v, "%s[%d]" % (path, i))
    return out


def render(kind):
    return json.dumps(drop_none(SCHEMAS[kind]()), indent=2, ensure_ascii=False) + "\n"


def main():
    check = "--check" in sys.argv[1:]
    stale = []
    for kind in SCHEMAS:
        path = os.path.join(OUT, "lineage.%s.v1.json" % kind)
        missing = undescribed(drop_none(SCHEMAS[kind]()))
        if missing:
            print("lineage.%s/v1: no description: %s" % (kind, ", ".join(missing)), file=sys.stderr)
            stale.append(path)
            continue
        text = render(kind)
        old = None
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                old = f.read()
        if old == text:
            continue
        if check:
            stale.append(path)
        else:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
    if stale:
        for p in stale:
            print("%s: differs from tests/schema/generate.py (run it)" % os.path.relpath(p, ROOT), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
