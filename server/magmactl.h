/* magmactl.h - what magmactl's commands (magmactl.c, magmactl_join.c)
 * share: checking options through the config parser, and making a
 * node's files in its data directory. */
#ifndef MAGMA_MAGMACTL_H
#define MAGMA_MAGMACTL_H

#include <stddef.h>

#include "conf.h"

#define EXIT_USAGE 2

/* magmactl join (magmactl_join.c). */
int magmactl_join(int argc, char **argv, const char *data_dir);

/* Append "key = val" to the config text text[0..*n) of capacity cap, for
 * option --key of command cmd ("init", "join"): -1 (message on stderr)
 * for a value with a newline or a text too long. */
int mctl_conf_add(const char *cmd, char *text, size_t cap, int *n,
                  const char *key, const char *val);

/* Parse text into cfg, one validator for magmactl and magmad: -1 with
 * "magmactl CMD: key: what" on stderr. */
int mctl_conf_check(const char *cmd, const char *text, magma_conf *cfg);

/* Non-zero when dir/name exists (lstat). */
int mctl_exists(const char *dir, const char *name);

/* Make the node in the absolute, existing directory dabs: its store,
 * then magma.conf from cfg.  On failure says why on stderr, removes
 * the store files it made, and returns -1. */
int mctl_node_create(const char *cmd, const char *dabs, const magma_conf *cfg);

#endif
