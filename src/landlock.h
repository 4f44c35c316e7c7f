/* SPDX-License-Identifier: MIT
 *
 * landlock.h — the payload's Landlock layer (issue 14.4): writes go only
 * where the sandbox says writes go.
 *
 * The mount namespace decides what the payload sees; it cannot stop a file
 * opened outside the sandbox from being reopened for writing through
 * /proc/self/fd (`sh -c 'echo x > /proc/self/fd/0' < ~/secret`), nor make
 * a mount the host adds later read-only.  Landlock checks every open and
 * every directory change against rules tied to inodes, whatever path or
 * magic link led there.  The ruleset handles only the write side of the
 * ABI (WRITE_FILE, REMOVE_*, MAKE_*, REFER, TRUNCATE, IOCTL_DEV): reads stay
 * as the mount namespace gives them.  Write access is granted beneath:
 *
 *   tree     every writable mount of the plan: CWD, -w, -k overlays, the
 *            scratch tmpfs (/tmp, /var/tmp, /run, /home, -e, /dev/shm) and
 *            the -o root overlay — never the -x/-h root tmpfs, whose
 *            children are the read-only binds
 *   existing /dev: write, truncate and device ioctls, no new entries;
 *            /proc likewise (uid_map of a nested namespace with
 *            --allow-userns, oom_score_adj): the /proc/self/fd reopen is
 *            checked against the file it leads to, not against /proc
 *   file     a -w file, an empty output file, and the payload's stdin,
 *            stdout or stderr when it was opened for writing (so
 *            `echo > /dev/stderr` still works on a terminal or a redirect)
 *
 * With ABI ≥ 6, abstract unix sockets and signals are scoped to the
 * sandbox too.  Built in the set-up child after the pivot (the rules name
 * paths of the new root), enforced by the payload after no_new_privs, next
 * to the seccomp filter.
 */
#pragma once

#include "mounts/mount-plan.h"

#include <glib.h>

typedef enum {
	SBX_LANDLOCK_TREE = 0,   /* all write-side rights beneath a directory */
	SBX_LANDLOCK_EXISTING,   /* write, truncate, device ioctls; nothing created */
	SBX_LANDLOCK_FILE,       /* write and truncate one file */
} SbxLandlockGrant;

typedef struct {
	char *path;              /* inside the sandbox */
	SbxLandlockGrant grant;
	const char *why;         /* the plan op's origin, for the -D log */
} SbxLandlockRule;

/* Pure: the rules for PLAN, parents before children, as listed above
 * (without the standard fds, which are known only in the child).  A
 * GPtrArray of SbxLandlockRule *, freeing them. */
GPtrArray *sbx_landlock_rules_for_plan(const MountPlan *plan);

/* Pure: the rights the ruleset handles at ABI, and the rights GRANT gives
 * (a subset of them).  0 for ABI < 1. */
guint64 sbx_landlock_handled_access(int abi);
guint64 sbx_landlock_grant_access(SbxLandlockGrant grant, int abi);
/* Pure: the scopes at ABI (abstract unix sockets and signals from 6 on). */
guint64 sbx_landlock_scopes(int abi);

/* The kernel's Landlock ABI version; 0 when it has none (not built in, or
 * not in the lsm= list) — then only the mount namespace applies. */
int sbx_landlock_abi(void);

/* Set-up child, after the pivot: build the ruleset for PLAN plus the
 * standard fds opened for writing (reached through PROC_FD, a procfs
 * directory).  *RULESET_FD is the ruleset (CLOEXEC) or -1 when the kernel
 * has no Landlock (said in the -D log; an error with CFG's
 * --require-landlock).  With --allow-userns only the scopes apply: the
 * kernel refuses mounts under filesystem rules, and nested sandboxes
 * mount. */
gboolean sbx_landlock_prepare(const MountPlan *plan, const SbxConfig *cfg, int proc_fd,
			      int *ruleset_fd, GError **error);

/* Payload, after PR_SET_NO_NEW_PRIVS: enforce RULESET_FD (from
 * sbx_landlock_prepare; -1 is a no-op) and close it. */
gboolean sbx_landlock_enforce(int ruleset_fd, GError **error);
