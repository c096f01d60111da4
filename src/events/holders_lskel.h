/* The holders iterators as a libbpf light skeleton (bpftool gen skeleton
 * -L): a loader program does the CO-RE relocations and finds the iterators'
 * attach points in the kernel, so userspace never reads and parses the
 * kernel's BTF (5.5 MB here, read in full by libbpf 1.1 on every load: about
 * a third of `who --mount`). The generated header is C only; this wrapper
 * (holders_lskel.c) gives C++ plain fds. Needs in-kernel CO-RE (Linux 5.17+)
 * and BPF_PROG_TYPE_SYSCALL; where loading fails the caller uses the libbpf
 * skeleton (holders.skel.h), which works back to 5.8. */
#ifndef LINEAGE_EVENTS_HOLDERS_LSKEL_H
#define LINEAGE_EVENTS_HOLDERS_LSKEL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct lineage_holders_lskel;

/* Opens and loads, with the single-key globals set first (as
 * holders.bpf.c's rodata). NULL with *err (a negative errno) on failure. */
struct lineage_holders_lskel *lineage_holders_lskel_load(int single, uint32_t single_dev, uint64_t single_ino,
							int *err);
/* The `wanted` map, and the programs: 0 holder_files, 1 holder_tasks,
 * 2 holder_vmas. */
int lineage_holders_lskel_wanted_fd(const struct lineage_holders_lskel *skel);
int lineage_holders_lskel_prog_fd(const struct lineage_holders_lskel *skel, int which);
void lineage_holders_lskel_destroy(struct lineage_holders_lskel *skel);

#ifdef __cplusplus
}
#endif

#endif
