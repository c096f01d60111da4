// SPDX-License-Identifier: GPL-2.0
/* Which processes hold these sockets: a task_file iterator walks every open
 * file of every task in the kernel and writes a struct lineage_socket_holder
 * for each fd whose inode userspace put in `wanted`. This replaces reading
 * /proc/PID/fd of every process (thousands of syscalls) with one read() of
 * the iterator. CO-RE throughout: every kernel field is read with
 * BPF_CORE_READ; no kernel-version #ifs. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "socket_owners.h"

char LICENSE[] SEC("license") = "GPL";

/* Not in vmlinux.h (they are macros in the kernel). */
#define LINEAGE_S_IFMT 0170000
#define LINEAGE_S_IFSOCK 0140000

/* Socket inodes to look for; userspace fills it before the run. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LINEAGE_SOCKET_OWNERS_MAX);
	__type(key, __u64);
	__type(value, __u8);
} wanted SEC(".maps");

SEC("iter/task_file")
int find_holders(struct bpf_iter__task_file *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	struct lineage_socket_holder rec = {};
	struct inode *inode;
	__u64 ino;

	if (!task || !file)
		return 0; /* the end-of-iteration call */
	/* The kernel already skips threads that share their leader's fd table;
	 * tasks that share one otherwise (CLONE_FILES without CLONE_THREAD)
	 * repeat, and userspace dedupes by (tgid, inode). */
	inode = BPF_CORE_READ(file, f_inode);
	if (!inode)
		return 0;
	if ((BPF_CORE_READ(inode, i_mode) & LINEAGE_S_IFMT) != LINEAGE_S_IFSOCK)
		return 0;
	ino = BPF_CORE_READ(inode, i_ino);
	if (!bpf_map_lookup_elem(&wanted, &ino))
		return 0;

	rec.tgid = BPF_CORE_READ(task, tgid);
	rec.pid = BPF_CORE_READ(task, pid);
	rec.fd = ctx->fd;
	rec.inode = ino;
	bpf_seq_write(seq, &rec, sizeof rec);
	return 0;
}
