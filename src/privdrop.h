/* SPDX-License-Identifier: MIT
 *
 * privdrop.h — the payload's privilege drop, in the fixed order of
 * doc/STYLE.md 9: close fds → capabilities (ambient, bounding, then
 * effective/permitted/inheritable) → PR_SET_NO_NEW_PRIVS.  The seccomp
 * filter (seccomp-filter.h) comes after, then execve.
 */
#pragma once

#include <glib.h>

/* Close every fd except 0, 1, 2, the NKEEP fds in KEEP (the user's
 * --keep-fd and the few the pre-exec code still needs; they are CLOEXEC
 * or closed explicitly).  Uses close_range(2). */
gboolean sbx_close_fds_except(const int *keep, guint nkeep, GError **error);

/* Clear the ambient set, drop every capability from the bounding set,
 * set effective/permitted/inheritable to empty, and set
 * PR_SET_NO_NEW_PRIVS.  Needs CAP_SETPCAP in the current user namespace
 * (the payload is namespace-root of its nested namespace at this point).
 * Afterwards even an execve() as uid 0 gains no capability. */
gboolean sbx_drop_privileges(GError **error);
