/* The record bpf/task_stats.bpf.c writes to its iterator's seq_file, one per
 * task (thread) of the system; shared by the BPF program and
 * src/events/task_stats_bpf.cc. Fixed size, no padding. */
#ifndef LINEAGE_BPF_TASK_STATS_H
#define LINEAGE_BPF_TASK_STATS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define LINEAGE_TASK_COMM_LEN 16

struct lineage_task_stat {
	__s32 tid;                /* the task, in the initial pid namespace */
	__s32 tgid;               /* its process */
	__s32 ppid;               /* tgid of the process's real parent (leaders only) */
	__u32 flags;              /* task->flags (PF_KTHREAD) */
	__u64 start_boottime_ns;  /* as /proc/PID/stat's starttime, in ns */
	__u64 runtime_ns;         /* CPU time of this task (se.sum_exec_runtime) */
	__u64 dead_runtime_ns;    /* leaders: CPU time of the process's exited threads */
	__s64 rss_pages;          /* leaders: file + anon + shmem pages, as /proc counts */
	char comm[LINEAGE_TASK_COMM_LEN];
};

#endif /* LINEAGE_BPF_TASK_STATS_H */
