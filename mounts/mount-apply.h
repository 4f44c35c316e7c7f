/* SPDX-License-Identifier: MIT
 *
 * mount-apply.h — execute a MountPlan (syscalls only; the decisions are in
 * mount-plan.c).
 */
#pragma once

#include "mounts/mount-plan.h"

/* In the set-up child (namespace-root of a fresh user+mount namespace, pid 1
 * of the new pid namespace): make / a slave tree, mount the size-limited
 * base tmpfs, pivot into it with the host at /oldroot, build the new root
 * at /newroot from PLAN's ops, detach the host, pivot into the new root and
 * chdir to PLAN->workdir.  FALSE + error naming the failing operation and
 * path; the mount namespace is then half built and must be abandoned.
 * UPPERS (or NULL) receives an FsUpper for every overlay (fs.h). */
gboolean mount_apply_plan(const MountPlan *plan, GArray *uppers, GError **error);

/* Escape , : \ for overlayfs' lowerdir/upperdir/workdir option values. */
char *mount_escape_overlay_path(const char *path);

/* Take the mount(2) + per-submount remount path that kernels without
 * open_tree()/mount_setattr() (< 5.12) get.  For tests only. */
void mount_apply_force_legacy(gboolean on);
