// SPDX-License-Identifier: GPL-2.0
/* Process fork, exec and exit from the scheduler's BTF tracepoints, written
 * to one ring buffer as the records of process_events.h. CO-RE throughout:
 * every kernel field is read with BPF_CORE_READ, so one object loads on any
 * kernel with BTF; no kernel-version #ifs. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "process_events.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by userspace between open and load. */
const volatile bool include_threads = false; /* fork of a thread (CLONE_THREAD) */
const volatile bool include_environ = false; /* exec records carry the environment */
const volatile bool include_paths = false;   /* exec records carry the resolved paths (fill_paths) */
/* The pid namespace (its inode) whose numbers the reader's /proc shows; 0
 * for the initial one. Set when lineage runs in a container: every pid in
 * a record is then that namespace's number for the task (pid_nr_ns()), 0
 * for a task outside it, and a task outside it is not reported at all. */
const volatile __u32 view_pidns = 0;
/* The hierarchy id of the cgroup v1 hierarchy "name=systemd" (a hybrid or
 * legacy host), whose path exec records then carry; 0: none. */
const volatile __u32 systemd_hierarchy = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 * 1024 * 1024); /* userspace may resize before load */
} events SEC(".maps");

/* Records that did not fit in the ring buffer: userspace reports them.
 * Globals (.bss, memory-mapped by userspace): read with loads, not a bpf()
 * call on every poll. Records are lost when the ring is full, every CPU
 * producing at once: one slot per CPU (a cache line each, CPUs beyond
 * LINEAGE_LOST_SLOTS share), so they do not fight over one line then. */
#define LINEAGE_LOST_SLOTS 64 /* a power of 2 */
#define LINEAGE_LOST_STRIDE 8 /* __u64s per 64-byte line: only the first counts */
__u64 lost_records[LINEAGE_LOST_SLOTS * LINEAGE_LOST_STRIDE] = {};

/* Processes whose exit was reported, by (tgid, start): when a whole group
 * dies at once (exit_group, SIGKILL), several threads on several CPUs can
 * see signal->live at zero by the time they reach the exit tracepoint;
 * the first to claim the entry reports the process, exactly once. LRU: an
 * entry is only needed for the microseconds the threads race. */
struct exit_key {
	__u32 tgid;
	__u32 pad;
	__u64 start;
};
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, struct exit_key);
	__type(value, __u8);
} exited SEC(".maps");

/* Deepest path sent: components, and mount points crossed on the way up. */
#define LINEAGE_PATH_DEPTH 64 /* a power of 2 */
#define LINEAGE_MOUNT_DEPTH 16

/* Per-CPU room to build a path in: the component names, leaf first, then
 * the text, written left to right. Twice the path bound, so a write at any
 * offset below the bound has the whole bound to fill. */
struct path_scratch {
	const void *names[LINEAGE_PATH_DEPTH];
	/* How many names: kept here, not in a register, so the verifier does
	 * not follow every count separately (it would give up on the size). */
	__u32 n;
	__u32 pad;
	char buf[2 * LINEAGE_PATH_LEN];
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct path_scratch);
} scratch SEC(".maps");

static __always_inline void *reserve(__u64 size)
{
	void *rec = bpf_ringbuf_reserve(&events, size, 0);
	if (!rec)
		__sync_fetch_and_add(
			&lost_records[(bpf_get_smp_processor_id() & (LINEAGE_LOST_SLOTS - 1)) * LINEAGE_LOST_STRIDE], 1);
	return rec;
}

/* Deepest pid namespace level searched for view_pidns: a container in a
 * container in a container is three. */
#define LINEAGE_MAX_VIEW_LEVEL 8

/* The number of a struct pid in view_pidns (pid_nr_ns()): the global one
 * when no view is set, 0 when the pid has no number there. */
static __always_inline __s32 view_nr(struct pid *pid)
{
	unsigned int level;

	if (!pid)
		return 0;
	if (!view_pidns)
		return BPF_CORE_READ(pid, numbers[0].nr);
	level = BPF_CORE_READ(pid, level);
	for (unsigned int i = 1; i <= LINEAGE_MAX_VIEW_LEVEL; i++) {
		struct upid upid = {};

		if (i > level)
			break;
		if (bpf_probe_read_kernel(&upid, sizeof(upid), &pid->numbers[i]))
			return 0;
		if (BPF_CORE_READ(upid.ns, ns.inum) == view_pidns)
			return upid.nr;
	}
	return 0;
}

/* A task's process (tgid) in view_pidns. */
static __always_inline __s32 view_tgid(struct task_struct *task)
{
	if (!view_pidns)
		return BPF_CORE_READ(task, tgid);
	return view_nr(BPF_CORE_READ(task, group_leader, thread_pid));
}

/* Whether the task's process has a number in view_pidns: checked before a
 * record is reserved, so the host's other processes cost no ring space. */
static __always_inline bool in_view(struct task_struct *task)
{
	return !view_pidns || view_tgid(task) != 0;
}

/* Fills the header. With a view, the caller checked in_view(): a thread's
 * number lives in the same namespace as its leader's. */
static __always_inline void fill_header(struct lineage_event_header *h, struct task_struct *task,
					__u32 kind)
{
	struct task_struct *leader = BPF_CORE_READ(task, group_leader);
	struct pid *pid = BPF_CORE_READ(task, thread_pid);
	unsigned int level = BPF_CORE_READ(pid, level);
	struct upid upid = {};

	h->time_ns = bpf_ktime_get_boot_ns();
	h->start_time_ns = BPF_CORE_READ(leader, start_boottime);
	h->kind = kind;
	if (view_pidns) {
		h->pid = view_nr(BPF_CORE_READ(leader, thread_pid));
		h->tid = view_nr(pid);
	} else {
		h->pid = BPF_CORE_READ(task, tgid);
		h->tid = BPF_CORE_READ(task, pid);
	}
	h->uid = BPF_CORE_READ(task, cred, euid.val);
	h->gid = BPF_CORE_READ(task, cred, egid.val);
	/* The innermost level is the task's own namespace; numbers[] is a
	 * flexible array, so read the element by address. For a thread the
	 * thread's own number is read; the caller fixes up ns_pid for tgid. */
	bpf_probe_read_kernel(&upid, sizeof(upid), &pid->numbers[level]);
	h->pidns = BPF_CORE_READ(upid.ns, ns.inum);
	h->ns_pid = upid.nr;
	h->reserved = 0;
	BPF_CORE_READ_STR_INTO(&h->comm, task, comm);
}

/* The namespace pid of the process (tgid), not of the thread. */
static __always_inline __s32 leader_ns_pid(struct task_struct *task, __s32 fallback)
{
	struct task_struct *leader = BPF_CORE_READ(task, group_leader);
	struct pid *pid = BPF_CORE_READ(leader, thread_pid);
	unsigned int level = BPF_CORE_READ(pid, level);
	struct upid upid = {};

	if (bpf_probe_read_kernel(&upid, sizeof(upid), &pid->numbers[level]))
		return fallback;
	return upid.nr;
}

/* The inode's ctime moved between kernels: i_ctime (before 6.6), __i_ctime
 * (6.6-6.10), i_ctime_sec + i_ctime_nsec (6.11 on). */
struct inode___ctime_split {
	time64_t i_ctime_sec;
	u32 i_ctime_nsec;
} __attribute__((preserve_access_index));
struct inode___ctime_hidden {
	struct timespec64 __i_ctime;
} __attribute__((preserve_access_index));
struct inode___ctime_plain {
	struct timespec64 i_ctime;
} __attribute__((preserve_access_index));

static __always_inline __u64 inode_ctime_ns(struct inode *inode)
{
	struct timespec64 ts = {};

	if (bpf_core_field_exists(struct inode___ctime_split, i_ctime_sec)) {
		struct inode___ctime_split *i = (void *)inode;
		/* Multigrain timestamps keep a flag in the top bit(s) of the
		 * nanoseconds; a real value is below 2^30. */
		return (__u64)BPF_CORE_READ(i, i_ctime_sec) * 1000000000ull +
		       (BPF_CORE_READ(i, i_ctime_nsec) & 0x3fffffff);
	}
	if (bpf_core_field_exists(struct inode___ctime_hidden, __i_ctime)) {
		struct inode___ctime_hidden *i = (void *)inode;
		ts = BPF_CORE_READ(i, __i_ctime);
	} else {
		struct inode___ctime_plain *i = (void *)inode;
		ts = BPF_CORE_READ(i, i_ctime);
	}
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* Who adopts the children of an exiting process, as the kernel's
 * find_new_reaper() decides: the nearest ancestor in the same pid namespace
 * marked child subreaper that still has a live thread, else the namespace's
 * init. Read before exit_notify() moves the children. */
static __always_inline struct task_struct *find_reaper(struct task_struct *task)
{
	struct pid *pid = BPF_CORE_READ(task, thread_pid);
	unsigned int level = BPF_CORE_READ(pid, level);
	struct signal_struct *sig = BPF_CORE_READ(task, signal);
	struct task_struct *reaper;
	struct upid upid = {};

	if (bpf_probe_read_kernel(&upid, sizeof(upid), &pid->numbers[level]))
		return NULL;
	if (BPF_CORE_READ_BITFIELD_PROBED(sig, has_child_subreaper)) {
		reaper = BPF_CORE_READ(task, real_parent);
		for (int i = 0; i < 64 && reaper; i++) {
			struct pid *rp = BPF_CORE_READ(reaper, thread_pid);
			struct signal_struct *rs;

			if (BPF_CORE_READ(reaper, pid) == 0 || BPF_CORE_READ(rp, level) != level)
				break; /* the idle task, or out of the namespace */
			rs = BPF_CORE_READ(reaper, signal);
			if (BPF_CORE_READ_BITFIELD_PROBED(rs, is_child_subreaper) &&
			    BPF_CORE_READ(rs, live.counter) > 0)
				return reaper;
			reaper = BPF_CORE_READ(reaper, real_parent);
		}
	}
	return BPF_CORE_READ(upid.ns, child_reaper);
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(handle_fork, struct task_struct *parent, struct task_struct *child)
{
	struct lineage_fork_event *e;
	struct task_struct *parent_leader;
	bool thread = BPF_CORE_READ(child, pid) != BPF_CORE_READ(child, tgid);

	if (thread && !include_threads)
		return 0;
	if (!in_view(child))
		return 0;
	e = reserve(sizeof(*e));
	if (!e)
		return 0;
	fill_header(&e->h, child, LINEAGE_EVENT_FORK);
	if (thread)
		e->h.ns_pid = leader_ns_pid(child, e->h.ns_pid);
	/* Runs in the parent after copy_process(), which already placed the
	 * child in its cgroup (clone3 CLONE_INTO_CGROUP may differ from the
	 * parent's), so read the child's own. */
	e->h.cgroup_id = BPF_CORE_READ(child, cgroups, dfl_cgrp, kn, id);
	parent_leader = BPF_CORE_READ(parent, group_leader);
	e->ppid = view_tgid(parent);
	e->parent_start_time_ns = BPF_CORE_READ(parent_leader, start_boottime);
	e->thread_start_time_ns = BPF_CORE_READ(child, start_boottime);
	e->flags = thread ? LINEAGE_FLAG_THREAD : 0;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* Writes "/" and the s->n names of s->names, root-most (the last) first,
 * into s->buf, NUL-terminated: a path as d_path() and /proc print it.
 * Returns its length, or -1 when the names were not all collected (ok
 * false), the path does not fit in LINEAGE_PATH_LEN or a name cannot be
 * read. */
static __noinline int join_names(struct path_scratch *s, bool ok)
{
	__u32 pos = 0, off, n = s->n;

	if (!ok || n > LINEAGE_PATH_DEPTH)
		return -1;
	if (n == 0) {
		s->buf[0] = '/';
		s->buf[1] = '\0';
		return 1;
	}
	for (int i = LINEAGE_PATH_DEPTH - 1; i >= 0; i--) {
		long r;

		if (i >= n)
			continue;
		if (pos >= LINEAGE_PATH_LEN - 1)
			return -1;
		s->buf[pos] = '/';
		pos++;
		off = pos;
		barrier_var(off); /* keep the mask: the verifier needs it, the compiler thinks not */
		off &= LINEAGE_PATH_LEN - 1;
		r = bpf_probe_read_kernel_str(&s->buf[off], LINEAGE_PATH_LEN, s->names[i]);
		if (r <= 1)
			return -1; /* unreadable, or an empty name */
		pos += r - 1;
	}
	if (pos >= LINEAGE_PATH_LEN)
		return -1;
	return pos;
}

/* The component names of a path (a mount and a dentry) into s->names,
 * leaf first, as prepend_path() walks them: up the dentries to the mount's
 * root, then from the mount point in the parent mount, up to the root of
 * the mount namespace. False for a path deeper than the bounds or not
 * reachable that way (a pseudo file such as a memfd, a disconnected
 * dentry): /proc then says. */
static __noinline bool collect_dentries(struct path_scratch *s, struct vfsmount *vfsmnt, struct dentry *dentry)
{
	struct mount *mnt = (void *)vfsmnt - bpf_core_field_offset(struct mount, mnt);
	struct dentry *root = BPF_CORE_READ(vfsmnt, mnt_root); /* read once a mount */

	s->n = 0;
	for (int i = 0; i < LINEAGE_PATH_DEPTH + LINEAGE_MOUNT_DEPTH; i++) {
		struct dentry *parent;
		__u32 n;

		if (!dentry || !vfsmnt)
			return false;
		if (dentry == root) {
			struct mount *up = BPF_CORE_READ(mnt, mnt_parent);

			if (up == mnt || !up)
				return true; /* the namespace's root mount */
			dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
			mnt = up;
			vfsmnt = (void *)up + bpf_core_field_offset(struct mount, mnt);
			root = BPF_CORE_READ(vfsmnt, mnt_root);
			continue;
		}
		parent = BPF_CORE_READ(dentry, d_parent);
		n = s->n;
		if (parent == dentry || n >= LINEAGE_PATH_DEPTH)
			return false;
		s->names[n] = BPF_CORE_READ(dentry, d_name.name);
		s->n = n + 1;
		dentry = parent;
	}
	return false;
}

/* d_unlinked(): removed from its directory (d_path() adds " (deleted)"). */
static __always_inline bool dentry_unlinked(struct dentry *d)
{
	return BPF_CORE_READ(d, d_hash.pprev) == NULL && BPF_CORE_READ(d, d_parent) != d;
}

/* kernfs_node's parent became __parent (RCU) in 6.15. */
struct kernfs_node___parent {
	struct kernfs_node *parent;
} __attribute__((preserve_access_index));
struct kernfs_node___rcu_parent {
	struct kernfs_node *__parent;
} __attribute__((preserve_access_index));

static __always_inline struct kernfs_node *kn_parent(struct kernfs_node *kn)
{
	if (bpf_core_field_exists(struct kernfs_node___rcu_parent, __parent))
		return BPF_CORE_READ((struct kernfs_node___rcu_parent *)kn, __parent);
	return BPF_CORE_READ((struct kernfs_node___parent *)kn, parent);
}

/* A cgroup's path in its hierarchy, as /proc/PID/cgroup prints it from the
 * initial cgroup namespace: the kernfs names up to the hierarchy's root.
 * False when it is deeper than the bound. */
static __noinline bool collect_kernfs(struct path_scratch *s, struct kernfs_node *kn)
{
	s->n = 0;
	for (int i = 0; i < LINEAGE_PATH_DEPTH; i++) {
		struct kernfs_node *parent;
		__u32 n;

		if (!kn)
			return false;
		parent = kn_parent(kn);
		if (!parent)
			return true; /* the root cgroup */
		n = s->n;
		if (n >= LINEAGE_PATH_DEPTH)
			return false;
		s->names[n] = BPF_CORE_READ(kn, name);
		s->n = n + 1;
		kn = parent;
	}
	return false;
}

/* The cgroup of the name=systemd hierarchy among the task's css_set links. */
static __always_inline struct kernfs_node *systemd_kn(struct task_struct *task)
{
	struct css_set *cset = BPF_CORE_READ(task, cgroups);
	struct list_head *head, *pos;

	if (!systemd_hierarchy || !cset)
		return NULL;
	head = (void *)cset + bpf_core_field_offset(struct css_set, cgrp_links);
	pos = BPF_CORE_READ(cset, cgrp_links.next);
	for (int i = 0; i < 32 && pos && pos != head; i++) {
		/* A css_set's links hang by cgrp_link (the names say the other end). */
		struct cgrp_cset_link *link = (void *)pos - bpf_core_field_offset(struct cgrp_cset_link, cgrp_link);
		struct cgroup *cgrp = BPF_CORE_READ(link, cgrp);

		if (BPF_CORE_READ(cgrp, root, hierarchy_id) == (int)systemd_hierarchy)
			return BPF_CORE_READ(cgrp, kn);
		pos = BPF_CORE_READ(link, cgrp_link.next);
	}
	return NULL;
}

/* Copies the built path (length len, -1: none) into a record's field;
 * returns whether it was sent. */
static __always_inline bool put_path(struct path_scratch *s, int len, char *dst, __u32 *dst_len)
{
	*dst_len = 0;
	dst[0] = '\0';
	if (len <= 0 || len >= LINEAGE_PATH_LEN)
		return false;
	if (bpf_probe_read_kernel(dst, LINEAGE_PATH_LEN, s->buf))
		return false;
	*dst_len = len;
	return true;
}

/* The paths /proc would show of the process at its exec: the file that
 * runs, the working directory, the cgroups systemd and container runtimes
 * name units and containers by. */
static __always_inline void fill_paths(struct lineage_exec_event *e, struct task_struct *task,
				       struct linux_binprm *bprm)
{
	__u32 zero = 0;
	struct path_scratch *s = bpf_map_lookup_elem(&scratch, &zero);
	struct file *file = BPF_CORE_READ(bprm, file);
	struct fs_struct *fs = BPF_CORE_READ(task, fs);
	struct dentry *d;
	int len;

	e->path_flags = 0;
	e->exe_path_len = e->cwd_len = e->cgroup_len = e->systemd_cgroup_len = 0;
	e->exe_path[0] = e->cwd[0] = e->cgroup[0] = e->systemd_cgroup[0] = '\0';
	if (!s)
		return;
	d = BPF_CORE_READ(file, f_path.dentry);
	len = join_names(s, collect_dentries(s, BPF_CORE_READ(file, f_path.mnt), d));
	if (put_path(s, len, e->exe_path, &e->exe_path_len)) {
		e->path_flags |= LINEAGE_PATH_EXE;
		if (dentry_unlinked(d))
			e->path_flags |= LINEAGE_PATH_EXE_DELETED;
	}
	if (fs) {
		d = BPF_CORE_READ(fs, pwd.dentry);
		len = join_names(s, collect_dentries(s, BPF_CORE_READ(fs, pwd.mnt), d));
		if (put_path(s, len, e->cwd, &e->cwd_len)) {
			e->path_flags |= LINEAGE_PATH_CWD;
			if (dentry_unlinked(d))
				e->path_flags |= LINEAGE_PATH_CWD_DELETED;
		}
	}
	len = join_names(s, collect_kernfs(s, BPF_CORE_READ(task, cgroups, dfl_cgrp, kn)));
	if (put_path(s, len, e->cgroup, &e->cgroup_len))
		e->path_flags |= LINEAGE_PATH_CGROUP;
	if (systemd_hierarchy) {
		struct kernfs_node *kn = systemd_kn(task);

		if (kn) {
			len = join_names(s, collect_kernfs(s, kn));
			if (put_path(s, len, e->systemd_cgroup, &e->systemd_cgroup_len))
				e->path_flags |= LINEAGE_PATH_SYSTEMD_CGROUP;
		}
	}
}

/* loginuid moved nowhere, but exists only with CONFIG_AUDITSYSCALL. */
struct task_struct___login {
	kuid_t loginuid;
} __attribute__((preserve_access_index));

static __always_inline void fill_ids(struct lineage_exec_event *e, struct task_struct *task)
{
	struct signal_struct *sig = BPF_CORE_READ(task, signal);
	struct tty_struct *tty = BPF_CORE_READ(sig, tty);

	e->sid = view_nr(BPF_CORE_READ(sig, pids[bpf_core_enum_value(enum pid_type, PIDTYPE_SID)]));
	e->pgid = view_nr(BPF_CORE_READ(sig, pids[bpf_core_enum_value(enum pid_type, PIDTYPE_PGID)]));
	e->tty_nr = 0;
	if (tty) {
		/* tty_devnum(): MKDEV(driver->major, driver->minor_start) + index,
		 * then new_encode_dev() as proc_pid_stat() prints it. */
		__u32 major = BPF_CORE_READ(tty, driver, major);
		__u32 minor = BPF_CORE_READ(tty, driver, minor_start) + BPF_CORE_READ(tty, index);

		e->tty_nr = (minor & 0xff) | (major << 8) | ((minor & ~0xffu) << 12);
	}
	e->ruid = BPF_CORE_READ(task, cred, uid.val);
	e->id_flags = LINEAGE_IDS_SESSION;
	{
		const struct cred *cred = BPF_CORE_READ(task, cred);
		struct task_struct *tracer;

		e->suid = BPF_CORE_READ(cred, suid.val);
		e->fsuid = BPF_CORE_READ(cred, fsuid.val);
		e->rgid = BPF_CORE_READ(cred, gid.val);
		e->sgid = BPF_CORE_READ(cred, sgid.val);
		e->fsgid = BPF_CORE_READ(cred, fsgid.val);
		/* kernel_cap_t: a u64 since 6.3, two u32 (low first) before. */
		e->cap_effective = 0;
		bpf_probe_read_kernel(&e->cap_effective, sizeof(e->cap_effective), &cred->cap_effective);
		/* ptrace_parent(): the tracer while the task is traced. */
		tracer = BPF_CORE_READ(task, ptrace) ? BPF_CORE_READ(task, parent) : NULL;
		e->tracer_pid = tracer ? view_nr(BPF_CORE_READ(tracer, thread_pid)) : 0;
		e->id_flags |= LINEAGE_IDS_CREDS;
	}
	e->login_uid = 0xffffffffu;
	if (bpf_core_field_exists(struct task_struct___login, loginuid)) {
		struct task_struct___login *t = (void *)task;

		e->login_uid = BPF_CORE_READ(t, loginuid.val);
		e->id_flags |= LINEAGE_IDS_LOGIN;
	}
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(handle_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	struct lineage_exec_event *e;
	unsigned long arg_start, arg_end, len;
	const char *filename, *interp;
	struct inode *inode;
	long n;

	if (!in_view(task))
		return 0;
	/* Only what is filled: the ring's pages are written, and on a busy
	 * machine its space is the budget. */
	if (include_environ)
		e = reserve(sizeof(*e));
	else if (include_paths)
		e = reserve(offsetof(struct lineage_exec_event, env_size));
	else
		e = reserve(offsetof(struct lineage_exec_event, exe_path));
	if (!e)
		return 0;
	/* de_thread() already made the exec'ing thread the leader (pid ==
	 * tgid) and gave it the leader's start time; old_pid is the tid it
	 * had, which differs from tgid for exec from a non-leader thread. */
	fill_header(&e->h, task, LINEAGE_EVENT_EXEC);
	/* old_pid is a global number: in a view it cannot be translated, and
	 * the thread that exec'd is the leader now anyway. */
	if (!view_pidns)
		e->h.tid = old_pid;
	e->h.cgroup_id = bpf_get_current_cgroup_id();
	fill_ids(e, task);
	e->path_flags = 0;
	if (include_paths || include_environ)
		fill_paths(e, task, bprm);

	filename = BPF_CORE_READ(bprm, filename);
	n = bpf_probe_read_kernel_str(e->exe, sizeof(e->exe), filename);
	e->exe_len = n > 0 ? n - 1 : 0;
	if (n <= 0)
		e->exe[0] = '\0';
	/* A script's #! line replaced bprm->interp (binfmt_script); for an
	 * ELF it is the filename itself. */
	interp = BPF_CORE_READ(bprm, interp);
	e->interp_len = 0;
	e->interp[0] = '\0';
	if (interp && interp != filename) {
		n = bpf_probe_read_kernel_str(e->interp, sizeof(e->interp), interp);
		e->interp_len = n > 0 ? n - 1 : 0;
	}
	/* The file that runs now (for a script, its interpreter's binary). */
	inode = BPF_CORE_READ(bprm, file, f_inode);
	e->exe_ino = BPF_CORE_READ(inode, i_ino);
	e->exe_dev = BPF_CORE_READ(inode, i_sb, s_dev);
	e->exe_ctime_ns = inode_ctime_ns(inode);
	e->exe_fs_magic = BPF_CORE_READ(inode, i_sb, s_magic);

	/* The new image's argv is on its fresh stack, written by the kernel
	 * moments ago, so it is resident. */
	arg_start = BPF_CORE_READ(task, mm, arg_start);
	arg_end = BPF_CORE_READ(task, mm, arg_end);
	len = arg_end > arg_start ? arg_end - arg_start : 0;
	if (len > LINEAGE_ARGS_LEN)
		len = LINEAGE_ARGS_LEN;
	e->args_len = 0;
	if (len > 0 && bpf_probe_read_user(e->args, len, (const void *)arg_start) == 0)
		e->args_len = len;
	if (include_environ) {
		/* The environment sits right above argv on the same fresh stack,
		 * resident too. Userspace keeps only the few context variables. */
		unsigned long env_start = BPF_CORE_READ(task, mm, env_start);
		unsigned long env_end = BPF_CORE_READ(task, mm, env_end);

		len = env_end > env_start ? env_end - env_start : 0;
		e->env_size = len > 0xffffffffUL ? 0xffffffffU : len;
		if (len > LINEAGE_ENV_LEN)
			len = LINEAGE_ENV_LEN;
		e->env_len = 0;
		if (len > 0 && bpf_probe_read_user(e->env, len, (const void *)env_start) == 0)
			e->env_len = len;
	}
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* Every thread passes through here. Report the process once: do_exit()
 * decrements signal->live before this tracepoint, so the thread that sees
 * zero is the last of its group (the group is dead). "pid == tgid" would
 * report a leader that called pthread_exit() while its threads still run,
 * and miss nothing else, so the live count is the right test. Other
 * threads' exits are reported only when threads are asked for. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(handle_exit, struct task_struct *task)
{
	struct lineage_exit_event *e;
	struct task_struct *parent, *reaper;
	bool thread = BPF_CORE_READ(task, signal, live.counter) != 0;

	if (!thread) {
		struct exit_key key = {};
		__u8 one = 1;

		key.tgid = BPF_CORE_READ(task, tgid);
		key.start = BPF_CORE_READ(task, group_leader, start_boottime);
		/* Another thread of the group already reported it: this one is
		 * just a thread ending. */
		if (bpf_map_update_elem(&exited, &key, &one, BPF_NOEXIST) != 0)
			thread = true;
	}
	if (thread && (!include_threads || BPF_CORE_READ(task, pid) == BPF_CORE_READ(task, tgid)))
		return 0;
	if (!in_view(task))
		return 0;
	e = reserve(sizeof(*e));
	if (!e)
		return 0;
	fill_header(&e->h, task, LINEAGE_EVENT_EXIT);
	if (e->h.pid != e->h.tid)
		e->h.ns_pid = leader_ns_pid(task, e->h.ns_pid);
	e->h.cgroup_id = bpf_get_current_cgroup_id();
	e->exit_code = BPF_CORE_READ(task, exit_code);
	e->flags = thread ? LINEAGE_FLAG_THREAD : 0;
	e->thread_start_time_ns = BPF_CORE_READ(task, start_boottime);
	e->ppid = 0;
	e->parent_start_time_ns = 0;
	e->reaper = 0;
	e->reaper_start_time_ns = 0;
	e->cpu_ns = 0;
	if (!thread) {
		/* The group's CPU time: threads already released were summed
		 * into signal->sum_sched_runtime (__exit_signal); this last one
		 * is not yet. Exact, unlike the tick-sampled utime/stime. */
		e->cpu_ns = BPF_CORE_READ(task, se.sum_exec_runtime) +
			    BPF_CORE_READ(task, signal, sum_sched_runtime);
		parent = BPF_CORE_READ(task, real_parent);
		e->ppid = view_tgid(parent);
		e->parent_start_time_ns = BPF_CORE_READ(parent, group_leader, start_boottime);
		reaper = find_reaper(task);
		if (reaper) {
			e->reaper = view_tgid(reaper);
			e->reaper_start_time_ns = BPF_CORE_READ(reaper, group_leader, start_boottime);
		}
	}
	bpf_ringbuf_submit(e, 0);
	return 0;
}
