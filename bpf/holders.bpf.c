// SPDX-License-Identifier: GPL-2.0
/* Which processes hold these files: three iterators walk, in the kernel,
 * every open file of every task (task_file), every task's cwd, root and
 * executable (task), and every file mapping (task_vma), and write a struct
 * lineage_holder for each file whose (device, inode) userspace put in
 * `wanted` (inode 0: any file of that device, for a mount). One read() per
 * iterator replaces listing /proc/PID/fd, stat()ing every fd and reading
 * every maps file. CO-RE throughout, no kernel-version #ifs. The kernel objects
 * are read by direct loads of BTF-typed pointers (the verifier turns them into
 * fault-safe loads), not by BPF_CORE_READ's helper call per field: the
 * mapping walk reads several fields of every vma on the machine. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "holders.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LINEAGE_HOLDERS_MAX_KEYS);
	__type(key, struct lineage_holder_key);
	__type(value, __u8);
} wanted SEC(".maps");

/* The last mapping reported, so that a file mapped in several segments is
 * written once per process (the iterator visits a task's vmas in order, and
 * one reader runs it). */
__s32 last_vma_tgid;
__u64 last_vma_inode;

/* One key only (a mount, or one file: the usual query): set before load,
 * compared here instead of two hash lookups for every file and mapping. */
const volatile bool single = false;
const volatile __u32 single_dev = 0;
const volatile __u64 single_ino = 0; /* 0: any file of single_dev */

static __always_inline bool is_wanted(__u32 dev, __u64 ino)
{
	struct lineage_holder_key key = {.dev = dev, .ino = ino};

	if (single)
		return dev == single_dev && (single_ino == 0 || ino == single_ino);

	if (bpf_map_lookup_elem(&wanted, &key))
		return true;
	key.ino = 0;
	return bpf_map_lookup_elem(&wanted, &key) != NULL;
}

/* Writes a record when inode is a wanted file; returns whether it was. */
static __always_inline bool report(struct seq_file *seq, struct inode *inode, __s32 tgid, __s32 fd,
				   __u32 mode)
{
	struct lineage_holder rec = {};

	if (!inode || !inode->i_sb)
		return false;
	rec.dev = inode->i_sb->s_dev;
	rec.inode = inode->i_ino;
	if (!is_wanted(rec.dev, rec.inode))
		return false;
	rec.tgid = tgid;
	rec.fd = fd;
	rec.mode = mode;
	bpf_seq_write(seq, &rec, sizeof rec);
	return true;
}

SEC("iter/task_file")
int holder_files(struct bpf_iter__task_file *ctx)
{
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;

	if (!task || !file)
		return 0; /* the end-of-iteration call */
	/* Threads sharing their leader's fd table are skipped by the kernel;
	 * others repeat, and userspace dedupes by (tgid, fd). */
	struct inode *inode = file->f_inode;
	__u32 mode = file->f_mode & 3;

	/* Whether any process maps this inode at all (its address space's
	 * reverse map is not empty): when none does, userspace skips the
	 * costly walk of every task's mappings. */
	if (inode && inode->i_mapping && inode->i_mapping->i_mmap.rb_root.rb_node)
		mode |= LINEAGE_HOLD_MAPPED;
	report(ctx->meta->seq, inode, task->tgid, ctx->fd, mode);
	return 0;
}

SEC("iter/task")
int holder_tasks(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct seq_file *seq = ctx->meta->seq;
	struct fs_struct *fs;
	struct mm_struct *mm;
	__s32 tgid;

	if (!task)
		return 0;
	tgid = task->tgid;
	if (task->pid != tgid)
		return 0; /* a thread: its process's leader answers (as lsof) */
	fs = task->fs;
	if (fs) {
		if (fs->pwd.dentry)
			report(seq, fs->pwd.dentry->d_inode, tgid, LINEAGE_HOLD_CWD, 0);
		if (fs->root.dentry)
			report(seq, fs->root.dentry->d_inode, tgid, LINEAGE_HOLD_ROOT, 0);
	}
	mm = task->mm;
	if (mm && mm->exe_file)
		report(seq, mm->exe_file->f_inode, tgid, LINEAGE_HOLD_EXE, 0);
	return 0;
}

SEC("iter/task_vma")
int holder_vmas(struct bpf_iter__task_vma *ctx)
{
	struct task_struct *task = ctx->task;
	struct vm_area_struct *vma = ctx->vma;
	struct inode *inode;
	__s32 tgid;

	if (!task || !vma)
		return 0;
	if (!vma->vm_file)
		return 0;
	inode = vma->vm_file->f_inode;
	if (!inode)
		return 0;
	tgid = task->tgid;
	if (tgid == last_vma_tgid && (__u64)inode->i_ino == last_vma_inode)
		return 0;
	if (report(ctx->meta->seq, inode, tgid, LINEAGE_HOLD_MMAP, 0)) {
		last_vma_tgid = tgid;
		last_vma_inode = inode->i_ino;
	}
	return 0;
}
