/* SPDX-License-Identifier: MIT
 *
 * discarded.h — what the payload wrote into overlays that are thrown away.
 *
 * Writes below the project folder's parents (-x), -k paths and the custom
 * root (-o) land in an overlay's upper directory, which vanishes with the
 * sandbox.  Nothing at run time said so (issue 16): `npm install` run from
 * a workspace package "succeeded" and the host had nothing.
 *
 * How the launcher sees the upper directories after the sandbox is gone:
 * the set-up child opens each one (O_RDONLY|O_DIRECTORY) while it builds
 * the mounts and passes the fds to the launcher over the sync socket
 * (sandbox-child.h) before the payload runs.  An open fd keeps its mount
 * alive after the mount namespace is destroyed, so the launcher can count
 * what is there once pid 1 is reaped — however the payload ended, even
 * after SIGKILL of the whole namespace, and wherever the upper directory
 * lives (the base tmpfs, a budgeted scratch tmpfs, or the -d directory).
 * Nothing inside the sandbox runs any more when the launcher looks, and it
 * never follows a symlink there.
 */
#pragma once

#include <glib.h>

typedef struct {
	guint64 files;        /* non-directories that are not whiteouts */
	guint64 bytes;        /* sum of their sizes */
	guint64 deletions;    /* whiteouts: host files hidden in the sandbox */
	gboolean partial;     /* some directory could not be read, or a limit was hit */
} DiscardCount;

/* Count what the upper directory DIRFD holds (not consuming DIRFD).  Never
 * follows symlinks; stops at DISCARD_MAX_DEPTH levels and DISCARD_MAX_ENTRIES
 * entries (then ->partial).  Directories themselves are not counted: most
 * are copy-ups of the parents of a written file. */
#define DISCARD_MAX_DEPTH 64
#define DISCARD_MAX_ENTRIES (G_GUINT64_CONSTANT(1) << 22)
void discard_count_dir(int dirfd, DiscardCount *count);

/* COUNT minus BASELINE (what set-up itself put there: mount points), never
 * below zero. */
void discard_count_subtract(DiscardCount *count, const DiscardCount *baseline);

/* The one line the launcher prints for TARGET (the overlay's path inside the
 * sandbox), or NULL when nothing was discarded.  WHY is the mount plan's
 * origin of the overlay ("project folder", "-k", "-o root"), which decides
 * the advice.  Without the program prefix. */
char *discard_describe(const char *target, const char *why, const DiscardCount *count);
