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

/* The highest capability this kernel knows (/proc/sys/kernel/cap_last_cap),
 * read by the launcher before the clone: the bounding-set loop must cover
 * capabilities newer than our headers too.  63 (every bit of the 64-bit
 * sets) when it cannot be read: the kernel answers EINVAL for numbers it
 * does not know, which the loop skips. */
int sbx_cap_last(void);

/* Clear the ambient set, drop every capability (0..CAP_LAST) from the bounding set,
 * set effective/permitted/inheritable to empty, and set
 * PR_SET_NO_NEW_PRIVS.  Needs CAP_SETPCAP in the current user namespace
 * (the payload is namespace-root of its nested namespace at this point).
 * Afterwards even an execve() as uid 0 gains no capability. */
gboolean sbx_drop_privileges(int cap_last, GError **error);
