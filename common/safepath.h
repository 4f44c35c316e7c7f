/* SPDX-License-Identifier: MIT
 *
 * safepath.h — resolve the paths the user names without following a
 * symbolic link a sandbox could have planted, and open the launcher's own
 * settings files (@FILE, -F, -D, --log) without following such a link.
 *
 * A sandbox writes as the caller: every file and link it leaves on the
 * host is owned by the caller and lies in a directory the caller can write
 * (CWD, -w, -W).  So a symbolic link is trusted — followed — only when
 *   - the link is not owned by the caller, and
 *   - the directory holding it is not owned by the caller, and
 *   - the caller cannot write that directory (access(2) W_OK: mode bits,
 *     ACLs, read-only mounts).
 * Root-owned system links (/home -> /var/home, /var/run -> /run, the merged
 * /usr links) pass; anything in the caller's own trees does not, whoever
 * made it: the launcher cannot tell a link the user made from one a sandbox
 * planted.  For a caller that is root every link fails the test (root can
 * write every directory).  Documented in mini-sandbox(1), SECURITY.
 */
#pragma once

#include <glib.h>
#include <sys/stat.h>

/* What resolving a path found.  Clear with sbx_path_info_clear(). */
typedef struct {
	char *canonical;       /* the path with every (trusted) link resolved; NULL on error */
	char *link;            /* the first untrusted symbolic link met, or NULL */
	char *target;          /* its target, as readlink(2) gives it */
	int err;               /* 0, or the errno of the lookup (ENOENT, ENOTDIR, ELOOP, …);
				* EPERM when LINK is set */
	gboolean missing;      /* MAY_BE_MISSING and the last component does not exist */
} SbxPathInfo;

void sbx_path_info_clear(SbxPathInfo *info);

/* Walk the absolute PATH one component at a time (openat O_PATH|O_NOFOLLOW,
 * so every decision is made on the object held, not on a name that could
 * change), following only trusted links (above).  MAY_BE_MISSING: a
 * missing last component is fine (a file about to be created): *OUT->missing
 * is set and canonical names it.  TRUE with OUT->canonical, or FALSE with
 * OUT->err (and OUT->link/target for an untrusted link). */
gboolean sbx_path_resolve(const char *path, gboolean may_be_missing, SbxPathInfo *out);

/* The trust rule above, for a link LINK_ST in the directory DIR_FD whose
 * path is DIR_PATH.  Exposed for the unit test. */
gboolean sbx_symlink_is_trusted(int dir_fd, const char *dir_path, const struct stat *link_st);

/* Open a settings file of the launcher: FLAGS is O_RDONLY (@FILE, -F) or
 * O_WRONLY|O_CREAT|O_APPEND (-D, --log; created 0600).  The path is resolved
 * with sbx_path_resolve() and the result opened with RESOLVE_NO_SYMLINKS,
 * so neither a planted link on the way nor a final link is followed; the
 * result must be a regular file (a FIFO or device is refused, never
 * blocked on).  WHAT names the option in messages ("-D", "@").  Returns a
 * CLOEXEC fd, or -1 + error (SBX_ERR_ILLEGAL_CONFIG → exit 125). */
int sbx_open_settings_file(const char *path, int flags, const char *what, GError **error);

/* sbx_open_settings_file(PATH, O_RDONLY) and read it whole, at most MAX
 * bytes (a larger file is an error: a settings file is small, and
 * /dev/zero-like files must not make us allocate forever).  Returns the
 * contents NUL-terminated (*LEN without the NUL), or NULL + error. */
char *sbx_read_settings_file(const char *path, const char *what, gsize max, gsize *len,
			     GError **error);
