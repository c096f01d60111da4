/* The records bpf/process_events.bpf.c writes to its ring buffer, shared by
 * the BPF program and src/events/bpf_source.cc. Plain C: the BPF side sees
 * the kernel's types through vmlinux.h, userspace through <linux/types.h>.
 * Every record starts with a struct lineage_event_header; `kind` says which
 * of the three records follows. Fixed sizes, so the BPF side can reserve
 * ring buffer space with a constant. */
#ifndef LINEAGE_BPF_PROCESS_EVENTS_H
#define LINEAGE_BPF_PROCESS_EVENTS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define LINEAGE_COMM_LEN 16
#define LINEAGE_EXE_LEN 512   /* bprm->filename, NUL-terminated, truncated */
#define LINEAGE_ARGS_LEN 1024 /* argv as the kernel lays it out: NUL-separated */
#define LINEAGE_ENV_LEN 4096  /* the new image's environment, when asked for */
#define LINEAGE_PATH_LEN 512  /* a path the kernel resolved; longer ones are not sent (power of 2) */

enum lineage_event_kind {
	LINEAGE_EVENT_FORK = 1,
	LINEAGE_EVENT_EXEC = 2,
	LINEAGE_EVENT_EXIT = 3,
};

struct lineage_event_header {
	__u64 time_ns;       /* bpf_ktime_get_boot_ns(): CLOCK_BOOTTIME */
	__u64 start_time_ns; /* task->start_boottime of the process (group leader) */
	__u64 cgroup_id;     /* cgroup v2 id (kernfs node id) */
	__u32 kind;          /* enum lineage_event_kind */
	__s32 pid;           /* tgid */
	__s32 tid;           /* thread that did it */
	__u32 uid;           /* effective ids, as ps shows them */
	__u32 gid;
	__u32 pidns;         /* inode of the task's own pid namespace */
	__s32 ns_pid;        /* tgid as seen inside that namespace */
	__u32 reserved;
	char comm[LINEAGE_COMM_LEN];
};

#define LINEAGE_IDS_SESSION 1u  /* sid, pgid, tty_nr, ruid */
#define LINEAGE_IDS_LOGIN 2u    /* login_uid (the kernel has CONFIG_AUDITSYSCALL) */
#define LINEAGE_IDS_CREDS 4u    /* suid .. fsgid, cap_effective, tracer_pid */

/* Which resolved paths of an exec record are whole (the kernel's own
 * structures, read in the exec: what /proc would show at that moment). A
 * path that is too long or too deep, or not reachable by a plain walk (a
 * memfd, a detached dentry), is not sent: its bit is clear. */
#define LINEAGE_PATH_EXE 1u              /* exe_path: the file that runs, as /proc/PID/exe */
#define LINEAGE_PATH_EXE_DELETED 2u      /* ... and it was unlinked (" (deleted)") */
#define LINEAGE_PATH_CWD 4u              /* cwd, as /proc/PID/cwd */
#define LINEAGE_PATH_CWD_DELETED 8u
#define LINEAGE_PATH_CGROUP 16u          /* cgroup: the unified (v2) hierarchy's path */
#define LINEAGE_PATH_SYSTEMD_CGROUP 32u  /* systemd_cgroup: the name=systemd hierarchy's */

#define LINEAGE_FLAG_THREAD 1u /* fork/exit of one thread (h.tid), not of the process */

struct lineage_fork_event {
	struct lineage_event_header h; /* about the child */
	__u64 parent_start_time_ns;
	__u64 thread_start_time_ns;    /* the new task's own start_boottime */
	__s32 ppid;                    /* the parent's tgid */
	__u32 flags;                   /* LINEAGE_FLAG_* */
};

struct lineage_exec_event {
	struct lineage_event_header h; /* tid: the exec'ing thread before de_thread() */
	__u64 exe_ino;                 /* the file the kernel runs (a script's interpreter) */
	__u64 exe_ctime_ns;
	__u64 exe_fs_magic;            /* the file's filesystem (super block magic) */
	__u32 exe_dev;                 /* the kernel's dev_t: major << 20 | minor */
	__u32 exe_len;                 /* bytes in exe, without the NUL */
	__u32 args_len;                /* bytes in args; the last argument may be cut */
	__u32 interp_len;              /* bytes in interp; 0 unless a script's #! changed it */
	/* The session evidence /proc/PID/stat, status and loginuid show, as
	 * they are at the exec (a short-lived process is gone before /proc is
	 * read). Pids in the initial pid namespace. */
	__s32 sid;
	__s32 pgid;
	__u32 tty_nr;                  /* stat's encoding: minor & 0xff | major << 8 | (minor & ~0xff) << 12; 0: none */
	__u32 ruid;                    /* real uid */
	__u32 login_uid;               /* audit login uid; 4294967295: unset */
	__u32 id_flags;                /* LINEAGE_IDS_*: which of the above were read */
	__u32 suid, fsuid, rgid, sgid, fsgid; /* the rest of status's Uid: and Gid: */
	__s32 tracer_pid;              /* status's TracerPid: the ptrace tracer thread, 0: none */
	__u64 cap_effective;           /* status's CapEff */
	__u32 path_flags;              /* LINEAGE_PATH_*: which paths below are whole */
	__u32 exe_path_len;            /* bytes, without the NUL */
	__u32 cwd_len;
	__u32 cgroup_len;
	__u32 systemd_cgroup_len;
	__u32 reserved2;
	char exe[LINEAGE_EXE_LEN];
	char interp[LINEAGE_EXE_LEN];  /* bprm->interp when it differs from the filename */
	char args[LINEAGE_ARGS_LEN];
	/* Only in records of a program loaded with include_paths (without, the
	 * record ends at exe_path): path_flags says which are whole. */
	char exe_path[LINEAGE_PATH_LEN];
	char cwd[LINEAGE_PATH_LEN];
	char cgroup[LINEAGE_PATH_LEN];
	char systemd_cgroup[LINEAGE_PATH_LEN];
	/* Only in records of a program loaded with include_environ (and
	 * include_paths: the record is then sizeof(struct lineage_exec_event);
	 * without include_environ, it ends at env_size). */
	__u32 env_size;                /* bytes of the whole environment area */
	__u32 env_len;                 /* bytes in env: min(env_size, LINEAGE_ENV_LEN) when read, else 0 */
	char env[LINEAGE_ENV_LEN];     /* KEY=VALUE\0..., as execve gave it */
};

struct lineage_exit_event {
	struct lineage_event_header h;
	__u64 parent_start_time_ns;
	__u64 reaper_start_time_ns;
	__u64 thread_start_time_ns; /* with LINEAGE_FLAG_THREAD */
	__u64 cpu_ns;               /* the process's CPU time (scheduler runtime, every thread); 0 for a thread */
	__s32 exit_code;            /* task->exit_code: the wait status */
	__s32 ppid;                 /* the current parent (after any re-parenting) */
	__s32 reaper;               /* who adopts the children: nearest live subreaper, else the ns init */
	__u32 flags;                /* LINEAGE_FLAG_* */
};

#endif /* LINEAGE_BPF_PROCESS_EVENTS_H */
