/* SPDX-License-Identifier: MIT
 *
 * userns.h — user namespaces: the outer one (caller's uid → 0, written by
 * pid 1 itself) and the payload's nested one (the requested identity).
 *
 *   host:   caller uid U ──outer userns──► 0 (namespace-root: mounts, nft)
 *   payload:              0 ──nested userns──► X (U by default, 0 for -R, 65534 for -U)
 *
 * The nested namespace is what keeps a -R payload's capabilities away from
 * the network namespace, which the outer namespace owns.
 */
#pragma once

#include <glib.h>
#include <sys/types.h>

/* Set-up child (pid 1), right after the clone: map OUTSIDE_UID/GID (the
 * launcher's, read before the clone: ours are unmapped until now) to 0 in
 * our own new user namespace, through PROC_FD (a procfs directory; "self"
 * is whoever opens through it).  setgroups "deny" first, as an
 * unprivileged writer must; a single line mapping our own euid is what an
 * unprivileged writer may set (user_namespaces(7)).  FALSE + error naming
 * the file. */
gboolean sbx_userns_write_outer_maps(int proc_fd, uid_t outside_uid, gid_t outside_gid,
				     GError **error);

/* Payload side, already in its nested user namespace (created by pid 1's
 * clone(CLONE_NEWUSER)): map INSIDE_UID/GID there to our own outer 0, so
 * that getuid() == INSIDE_UID.  PROC_FD as above, opened before the
 * filesystem stage: the sandbox itself may have no /proc (hermetic mode).
 * Leaves the full (nested-namespace) capability set in place: the
 * privilege drop comes after. */
gboolean sbx_userns_map_identity(int proc_fd, uid_t inside_uid, gid_t inside_gid,
				 GError **error);

/* The nested namespace for a payload that is not in one yet (library
 * mode, a fork()ed copy of pid 1): unshare(CLONE_NEWUSER); the maps follow
 * with sbx_userns_map_identity(). */
gboolean sbx_userns_unshare_nested(GError **error);

/* A sentence explaining why creating a user namespace failed with ERRNUM on
 * this host and how to fix it: looks at kernel.unprivileged_userns_clone,
 * user.max_user_namespaces, kernel.apparmor_restrict_unprivileged_userns,
 * and otherwise names a container's seccomp profile.  Never NULL. */
char *sbx_userns_explain_failure(int errnum);

/* TRUE when Ubuntu's AppArmor restriction is on: then clone(CLONE_NEWUSER)
 * succeeds but the namespace holds no capabilities, so the failure shows up
 * later as EPERM on a mount or a map write. */
gboolean sbx_userns_apparmor_restricted(void);
