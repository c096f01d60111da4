#include "events/holders_lskel.h"

#include <errno.h>
#include <stdbool.h>

#include "holders.lskel.h"

struct lineage_holders_lskel {
	struct holders_lbpf *skel;
};

struct lineage_holders_lskel *lineage_holders_lskel_load(int single, uint32_t single_dev, uint64_t single_ino,
							int *err)
{
	struct lineage_holders_lskel *out;
	struct holders_lbpf *skel = holders_lbpf__open();

	if (!skel) {
		*err = -(errno ? errno : ENOMEM);
		return NULL;
	}
	skel->rodata->single = single != 0;
	skel->rodata->single_dev = single_dev;
	skel->rodata->single_ino = single_ino;
	*err = holders_lbpf__load(skel);
	if (*err != 0) {
		*err = *err < 0 ? *err : -*err;
		holders_lbpf__destroy(skel);
		return NULL;
	}
	out = malloc(sizeof *out);
	if (!out) {
		*err = -ENOMEM;
		holders_lbpf__destroy(skel);
		return NULL;
	}
	out->skel = skel;
	return out;
}

int lineage_holders_lskel_wanted_fd(const struct lineage_holders_lskel *l)
{
	return l->skel->maps.wanted.map_fd;
}

int lineage_holders_lskel_prog_fd(const struct lineage_holders_lskel *l, int which)
{
	switch (which) {
	case 0: return l->skel->progs.holder_files.prog_fd;
	case 1: return l->skel->progs.holder_tasks.prog_fd;
	default: return l->skel->progs.holder_vmas.prog_fd;
	}
}

void lineage_holders_lskel_destroy(struct lineage_holders_lskel *l)
{
	if (!l)
		return;
	holders_lbpf__destroy(l->skel);
	free(l);
}
