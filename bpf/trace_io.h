/* The record bpf/trace_io.bpf.c sends for each file open and network call
 * of a traced process (`lineage trace -e file,net`); shared by the BPF
 * program and src/events/io_trace_bpf.cc. Fixed size, no padding. */
#ifndef LINEAGE_BPF_TRACE_IO_H
#define LINEAGE_BPF_TRACE_IO_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define LINEAGE_IO_PATH_MAX 512 /* bytes of a path read, its NUL included */
#define LINEAGE_IO_ADDR_MAX 128 /* bytes of a sockaddr read (sockaddr_storage) */

enum lineage_io_kind {
	LINEAGE_IO_OPEN = 1,    /* open, openat, openat2 */
	LINEAGE_IO_CONNECT = 2, /* addr: the caller's */
	LINEAGE_IO_BIND = 3,    /* addr: the caller's */
	LINEAGE_IO_LISTEN = 4,  /* addr: the socket's local address */
	LINEAGE_IO_ACCEPT = 5,  /* addr: the new socket's peer; fd: the listener */
};

struct lineage_io_event {
	__u64 time_ns;       /* CLOCK_BOOTTIME, at the syscall's return */
	__u64 start_time_ns; /* the process's start (its leader's start_boottime) */
	__s64 ret;           /* the syscall's result: fd, 0, or -errno */
	__s32 pid;           /* tgid */
	__s32 tid;
	__u32 kind;          /* enum lineage_io_kind */
	__s32 fd;            /* open: the dirfd (AT_FDCWD -100); net: the socket */
	__u64 flags;         /* open: the flags */
	__u32 mode;          /* open: the mode */
	__u32 path_len;      /* bytes read into path, NUL included; 0: unreadable */
	__u32 addr_len;      /* bytes of addr that hold a sockaddr; 0: none */
	__u32 pad;
	__u8 addr[LINEAGE_IO_ADDR_MAX];
	char path[LINEAGE_IO_PATH_MAX];
};

#endif /* LINEAGE_BPF_TRACE_IO_H */
