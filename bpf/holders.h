/* Records and keys of bpf/holders.bpf.c, shared with
 * src/events/holders_bpf.cc. Plain C, fixed size, no padding: userspace
 * reads the iterators' streams in whole records. */
#ifndef LINEAGE_BPF_HOLDERS_H
#define LINEAGE_BPF_HOLDERS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Most (device, inode) keys userspace may ask about in one run. */
#define LINEAGE_HOLDERS_MAX_KEYS 4096

/* How a task holds the file (lineage_holder.fd when negative). */
#define LINEAGE_HOLD_CWD (-1)
#define LINEAGE_HOLD_ROOT (-2)
#define LINEAGE_HOLD_EXE (-3)
#define LINEAGE_HOLD_MMAP (-4)

/* In lineage_holder.mode of an fd: some process maps the file. */
#define LINEAGE_HOLD_MAPPED 4

/* A wanted file: the kernel's dev_t of its superblock (MKDEV: major << 20 |
 * minor, as /proc/PID/mountinfo prints it) and its inode number; inode 0
 * stands for every file of that device (a mount). */
struct lineage_holder_key {
	__u32 dev;
	__u32 pad; /* zero */
	__u64 ino;
};

struct lineage_holder {
	__s32 tgid;  /* process, in the initial pid namespace */
	__s32 fd;    /* >= 0: an fd; else LINEAGE_HOLD_* */
	__u32 dev;   /* the file's superblock dev_t (kernel encoding) */
	__u32 mode;  /* fds: f_mode & 3 (1 read, 2 write), | LINEAGE_HOLD_MAPPED */
	__u64 inode;
};

#endif /* LINEAGE_BPF_HOLDERS_H */
