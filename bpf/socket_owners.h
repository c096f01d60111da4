/* The record bpf/socket_owners.bpf.c writes to its iterator's seq_file, one
 * per (task, fd) that holds a wanted socket; shared by the BPF program and
 * src/events/socket_owners_bpf.cc. Plain C: the BPF side sees the kernel's
 * types through vmlinux.h, userspace through <linux/types.h>. Fixed size,
 * no padding: userspace reads the stream in whole records. */
#ifndef LINEAGE_BPF_SOCKET_OWNERS_H
#define LINEAGE_BPF_SOCKET_OWNERS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Most sockets userspace may ask about in one run (size of `wanted`). */
#define LINEAGE_SOCKET_OWNERS_MAX 4096

struct lineage_socket_holder {
	__s32 tgid;  /* process, in the initial pid namespace */
	__s32 pid;   /* the task (thread) whose fd table held it */
	__s32 fd;
	__u32 pad;   /* zero */
	__u64 inode; /* sockfs inode: the number in "socket:[INODE]" */
};

#endif /* LINEAGE_BPF_SOCKET_OWNERS_H */
