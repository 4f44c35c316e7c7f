/* SPDX-License-Identifier: MIT
 *
 * fs.h — the filesystem stage: plan on the host, apply in the child
 * (mounts/fs.c).
 *
 * The launcher calls fs_plan_for_config() before the fork (so every path
 * error is reported with exit 125 before anything starts), hands the plan
 * to the set-up child, which calls fs_apply_plan() as namespace-root inside
 * its new user+mount namespace, as pid 1 of the new pid namespace, after
 * the network stage and before the privilege drop.  What the plan holds,
 * how files are added to it and how it is freed: mount-plan.h.
 */
#pragma once

#include "common/config.h"

typedef struct MountPlan MountPlan;

/* Look at the host (CWD, $HOME, top-level directories, mountinfo) and
 * decide every mount.  Validates every path option: relative, missing,
 * both -w and -M, … → FALSE with an SBX_ERR_* code whose message names the
 * option and the path.  Pure decisions are in mount-plan.c (unit-tested);
 * this function only gathers the host facts they need. */
MountPlan *fs_plan_for_config(const SbxConfig *cfg, GError **error);

/* An overlay's upper directory, held open for the discarded-writes report
 * (mounts/discarded.h): OP_INDEX is the overlay's op in plan->ops, FD an
 * O_RDONLY|O_DIRECTORY|O_CLOEXEC fd of its upper directory. */
typedef struct {
	guint op_index;
	int fd;
} FsUpper;

/* Child side: apply the plan, mount /proc (the caller is pid 1 of the new
 * pid namespace), pivot_root, detach the old root, chdir to the working
 * directory.  Returns FALSE + error naming the failing mount.  UPPERS (a
 * GArray of FsUpper, or NULL) receives every overlay's upper directory;
 * the caller closes the fds. */
gboolean fs_apply_plan(const MountPlan *plan, GArray *uppers, GError **error);

/* Launcher side, after the sandbox ended (also on error paths): remove what
 * the plan created on the host — only ever under a user-given -d directory. */
void fs_cleanup_after(const MountPlan *plan);
