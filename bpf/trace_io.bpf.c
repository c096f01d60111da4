// SPDX-License-Identifier: GPL-2.0
/* `lineage trace -e file,net`: the opens and the connect/bind/listen/accept
 * calls of one command's processes, as the records of trace_io.h in a ring
 * buffer. Loaded only when -e is given. Filtered in the kernel: `tracked`
 * holds the traced tgids (userspace adds the command; a fork below a tracked
 * process adds the child; the last thread's exit removes it), and a syscall
 * of any other process costs one comparison of its number and at most one
 * hash lookup. The syscall numbers come from userspace (its <sys/syscall.h>),
 * so the object carries no per-architecture table. CO-RE throughout. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "trace_io.h"

char LICENSE[] SEC("license") = "GPL";

#define LINEAGE_AF_INET 2
#define LINEAGE_AF_INET6 10
#define LINEAGE_S_IFMT 00170000
#define LINEAGE_S_IFSOCK 0140000

/* Set by userspace between open and load; -1: no such syscall here. */
const volatile bool trace_files = false;
const volatile bool trace_net = false;
const volatile long nr_open = -1;
const volatile long nr_openat = -1;
const volatile long nr_openat2 = -1;
const volatile long nr_creat = -1;
const volatile long nr_connect = -1;
const volatile long nr_bind = -1;
const volatile long nr_listen = -1;
const volatile long nr_accept = -1;
const volatile long nr_accept4 = -1;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 * 1024 * 1024); /* about 15,000 calls */
} io_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} io_lost SEC(".maps");

/* The traced processes, by tgid. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u8);
} tracked SEC(".maps");

/* A syscall between its entry and its return, by thread. */
struct pending {
	__u64 ptr;   /* the path or sockaddr (user memory) */
	__u64 flags; /* open flags */
	__u32 kind;
	__s32 fd;
	__u32 mode;
	__u32 len; /* connect/bind: the sockaddr's length */
};
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct pending);
} pending SEC(".maps");

SEC("tp_btf/sched_process_fork")
int BPF_PROG(io_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = BPF_CORE_READ(parent, tgid);
	__u32 ctgid = BPF_CORE_READ(child, tgid);
	__u8 one = 1;

	if (ctgid != ptgid && bpf_map_lookup_elem(&tracked, &ptgid))
		bpf_map_update_elem(&tracked, &ctgid, &one, BPF_ANY);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(io_exit_task, struct task_struct *task)
{
	__u32 tid = BPF_CORE_READ(task, pid);
	__u32 tgid = BPF_CORE_READ(task, tgid);

	bpf_map_delete_elem(&pending, &tid);
	/* signal->live reaches 0 before this tracepoint in the last thread. */
	if (BPF_CORE_READ(task, signal, live.counter) == 0)
		bpf_map_delete_elem(&tracked, &tgid);
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(io_enter, struct pt_regs *regs, long id)
{
	struct pending p = {};
	__u64 pid_tgid;
	__u32 tgid, tid;

	if (trace_files && (id == nr_openat || id == nr_openat2 || id == nr_open || id == nr_creat))
		p.kind = LINEAGE_IO_OPEN;
	else if (trace_net && id == nr_connect)
		p.kind = LINEAGE_IO_CONNECT;
	else if (trace_net && id == nr_bind)
		p.kind = LINEAGE_IO_BIND;
	else if (trace_net && id == nr_listen)
		p.kind = LINEAGE_IO_LISTEN;
	else if (trace_net && (id == nr_accept || id == nr_accept4))
		p.kind = LINEAGE_IO_ACCEPT;
	else
		return 0;
	pid_tgid = bpf_get_current_pid_tgid();
	tgid = pid_tgid >> 32;
	tid = (__u32)pid_tgid;
	if (!bpf_map_lookup_elem(&tracked, &tgid))
		return 0;

	if (p.kind == LINEAGE_IO_OPEN) {
		if (id == nr_open) {
			p.fd = -100; /* AT_FDCWD */
			p.ptr = PT_REGS_PARM1_CORE_SYSCALL(regs);
			p.flags = PT_REGS_PARM2_CORE_SYSCALL(regs);
			p.mode = PT_REGS_PARM3_CORE_SYSCALL(regs);
		} else if (id == nr_creat) {
			/* creat(path, mode) is open(path, O_CREAT|O_WRONLY|O_TRUNC, mode) */
			p.fd = -100;
			p.ptr = PT_REGS_PARM1_CORE_SYSCALL(regs);
			p.flags = 01101;
			p.mode = PT_REGS_PARM2_CORE_SYSCALL(regs);
		} else {
			p.fd = PT_REGS_PARM1_CORE_SYSCALL(regs);
			p.ptr = PT_REGS_PARM2_CORE_SYSCALL(regs);
			if (id == nr_openat2) {
				struct open_how how = {};
				bpf_probe_read_user(&how, sizeof(how),
						    (void *)PT_REGS_PARM3_CORE_SYSCALL(regs));
				p.flags = how.flags;
				p.mode = how.mode;
			} else {
				p.flags = PT_REGS_PARM3_CORE_SYSCALL(regs);
				p.mode = PT_REGS_PARM4_CORE_SYSCALL(regs);
			}
		}
	} else {
		p.fd = PT_REGS_PARM1_CORE_SYSCALL(regs);
		if (p.kind == LINEAGE_IO_CONNECT || p.kind == LINEAGE_IO_BIND) {
			p.ptr = PT_REGS_PARM2_CORE_SYSCALL(regs);
			p.len = PT_REGS_PARM3_CORE_SYSCALL(regs);
		}
	}
	bpf_map_update_elem(&pending, &tid, &p, BPF_ANY);
	return 0;
}

/* The socket behind fd in the current process, or NULL. */
static __always_inline struct sock *sock_of_fd(int fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds;
	struct file *f = NULL;
	struct socket *sock;

	if (!fdt || fd < 0 || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	if (!f || (BPF_CORE_READ(f, f_inode, i_mode) & LINEAGE_S_IFMT) != LINEAGE_S_IFSOCK)
		return NULL;
	sock = BPF_CORE_READ(f, private_data);
	return sock ? BPF_CORE_READ(sock, sk) : NULL;
}

/* A socket's local (peer = 0) or peer address as a sockaddr, into out. */
static __always_inline __u32 sock_addr(struct sock *sk, bool peer, __u8 *out)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);

	if (family == LINEAGE_AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)out;
		in->sin_family = family;
		if (peer) {
			in->sin_port = BPF_CORE_READ(sk, __sk_common.skc_dport);
			in->sin_addr.s_addr = BPF_CORE_READ(sk, __sk_common.skc_daddr);
		} else {
			in->sin_port = bpf_htons(BPF_CORE_READ(sk, __sk_common.skc_num));
			in->sin_addr.s_addr = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		}
		return sizeof(*in);
	}
	if (family == LINEAGE_AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)out;
		in6->sin6_family = family;
		if (peer) {
			in6->sin6_port = BPF_CORE_READ(sk, __sk_common.skc_dport);
			BPF_CORE_READ_INTO(&in6->sin6_addr, sk, __sk_common.skc_v6_daddr);
		} else {
			in6->sin6_port = bpf_htons(BPF_CORE_READ(sk, __sk_common.skc_num));
			BPF_CORE_READ_INTO(&in6->sin6_addr, sk, __sk_common.skc_v6_rcv_saddr);
		}
		return sizeof(*in6);
	}
	*(__u16 *)out = family; /* the family alone */
	return sizeof(__u16);
}

SEC("tp_btf/sys_exit")
int BPF_PROG(io_return, struct pt_regs *regs, long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct pending *p = bpf_map_lookup_elem(&pending, &tid);
	struct lineage_io_event *rec;
	struct task_struct *task;
	struct sock *sk;

	if (!p)
		return 0;
	rec = bpf_ringbuf_reserve(&io_events, sizeof(*rec), 0);
	if (!rec) {
		__u32 zero = 0;
		__u64 *n = bpf_map_lookup_elem(&io_lost, &zero);
		if (n)
			*n += 1;
		bpf_map_delete_elem(&pending, &tid);
		return 0;
	}
	task = (struct task_struct *)bpf_get_current_task();
	rec->time_ns = bpf_ktime_get_boot_ns();
	rec->start_time_ns = BPF_CORE_READ(task, group_leader, start_boottime);
	rec->ret = ret;
	rec->pid = bpf_get_current_pid_tgid() >> 32;
	rec->tid = tid;
	rec->kind = p->kind;
	rec->fd = p->fd;
	rec->flags = p->flags;
	rec->mode = p->mode;
	rec->path_len = 0;
	rec->addr_len = 0;
	rec->pad = 0;
	if (p->kind == LINEAGE_IO_OPEN) {
		/* Read at the return: the kernel has faulted the path in. */
		long n = bpf_probe_read_user_str(rec->path, sizeof(rec->path), (void *)p->ptr);
		rec->path_len = n > 0 ? n : 0;
	} else if (p->kind == LINEAGE_IO_CONNECT || p->kind == LINEAGE_IO_BIND) {
		__u32 len = p->len;
		if (len > LINEAGE_IO_ADDR_MAX)
			len = LINEAGE_IO_ADDR_MAX;
		if (len > 0 && bpf_probe_read_user(rec->addr, len, (void *)p->ptr) == 0)
			rec->addr_len = len;
	} else if (p->kind == LINEAGE_IO_LISTEN) {
		sk = sock_of_fd(p->fd);
		if (sk)
			rec->addr_len = sock_addr(sk, false, rec->addr);
	} else if (p->kind == LINEAGE_IO_ACCEPT && ret >= 0) {
		sk = sock_of_fd(ret);
		if (sk)
			rec->addr_len = sock_addr(sk, true, rec->addr);
	}
	bpf_map_delete_elem(&pending, &tid);
	bpf_ringbuf_submit(rec, 0);
	return 0;
}
