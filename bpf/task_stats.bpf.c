// SPDX-License-Identifier: GPL-2.0
/* What `lineage top` reads of every process each refresh, in one read(): a
 * task iterator writes a struct lineage_task_stat per task (thread) with
 * its identity (tgid, start time), parent, CPU time and resident pages.
 * Replaces opening and reading /proc/PID/stat of every process (a path
 * walk and a seq_file per pid). CO-RE throughout. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "task_stats.h"

char LICENSE[] SEC("license") = "GPL";

/* enum mm_counter_type: file, anon, swap entries, shmem. */
#define LINEAGE_MM_FILEPAGES 0
#define LINEAGE_MM_ANONPAGES 1
#define LINEAGE_MM_SHMEMPAGES 3

SEC("iter/task")
int dump_tasks(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	struct lineage_task_stat rec = {};
	struct mm_struct *mm;

	if (!task)
		return 0; /* the end-of-iteration call */
	rec.tid = BPF_CORE_READ(task, pid);
	rec.tgid = BPF_CORE_READ(task, tgid);
	rec.flags = BPF_CORE_READ(task, flags);
	rec.runtime_ns = BPF_CORE_READ(task, se.sum_exec_runtime);
	if (rec.tid == rec.tgid) {
		rec.ppid = BPF_CORE_READ(task, real_parent, tgid);
		rec.start_boottime_ns = BPF_CORE_READ(task, start_boottime);
		rec.dead_runtime_ns = BPF_CORE_READ(task, signal, sum_sched_runtime);
		mm = BPF_CORE_READ(task, mm);
		if (mm) {
			/* percpu_counter_read_positive, as get_mm_counter does */
			__s64 file = BPF_CORE_READ(mm, rss_stat[LINEAGE_MM_FILEPAGES].count);
			__s64 anon = BPF_CORE_READ(mm, rss_stat[LINEAGE_MM_ANONPAGES].count);
			__s64 shmem = BPF_CORE_READ(mm, rss_stat[LINEAGE_MM_SHMEMPAGES].count);
			rec.rss_pages = (file > 0 ? file : 0) + (anon > 0 ? anon : 0) + (shmem > 0 ? shmem : 0);
		}
		BPF_CORE_READ_STR_INTO(&rec.comm, task, comm);
	}
	bpf_seq_write(seq, &rec, sizeof rec);
	return 0;
}
