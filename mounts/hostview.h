/* SPDX-License-Identifier: MIT
 *
 * hostview.h — the facts about the host the mount plan needs, gathered once
 * by the launcher (host side, caller's uid) before the fork.
 *
 * Gathering never stat()s into autofs/NFS/CIFS/FUSE mounts: the top-level
 * sweep uses readdir()'s d_type and the mount table's fs type, so a dead
 * network filesystem cannot hang set-up.  Only paths the user named are
 * resolved (O_PATH + /proc/self/fd readlink), component by component so
 * that a symbolic link a sandbox could have planted is refused, not
 * followed (common/safepath.h has the rule).
 */
#pragma once

#include <glib.h>
#include <sys/types.h>

typedef enum {
	HOST_TYPE_MISSING = 0,
	HOST_TYPE_DIR,
	HOST_TYPE_FILE,        /* regular file */
	HOST_TYPE_SYMLINK,     /* top-level entries only: user paths are followed */
	HOST_TYPE_OTHER,       /* device, socket, fifo */
} HostType;

/* A top-level entry of the host's "/". */
typedef struct {
	char *name;            /* "usr", "bin" */
	HostType type;
	char *link_target;     /* readlink() result for symlinks ("usr/bin") */
} HostTopEntry;

/* One line of /proc/self/mountinfo. */
typedef struct {
	char *mount_point;     /* unescaped */
	char *fs_type;
	gboolean read_only;
} HostMount;

/* A path the user named, resolved on the host. */
typedef struct {
	char *path;            /* as given */
	char *canonical;       /* every symlink resolved; NULL when err != 0 */
	HostType type;         /* of the canonical target */
	int err;               /* 0, or errno of the lookup (ENOENT, ELOOP, EACCES, ENOTDIR…);
				* EPERM with link set */
	char *link;            /* a symlink on the way a sandbox could have planted, or NULL */
	char *link_target;     /* its target */
} HostPath;

typedef struct {
	char *cwd;             /* canonical CWD of the launcher */
	char *home;            /* canonical $HOME (NULL if unset or missing) */
	char *pw_home;         /* canonical passwd home of uid: $HOME may be unset or lie */
	uid_t uid;
	GPtrArray *top;        /* of HostTopEntry * */
	GPtrArray *mounts;     /* of HostMount *, mountinfo order */
	GHashTable *paths;     /* given path → HostPath * */
	char *resolv_target;   /* canonical target of /etc/resolv.conf when it is a symlink */
	guint64 mem_total;     /* bytes of physical memory (MemTotal); 0 = unknown */
	gboolean custom_root_empty; /* -o ROOT holds nothing (but -d run directories):
				     * the original's fresh root, not a lower layer */
} HostView;

HostView *host_view_new(void);
void host_view_free(HostView *view);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HostView, host_view_free)

/* Fill CWD, $HOME, the passwd home, uid, the mount table,
 * /etc/resolv.conf's target and the memory size from the running system,
 * and with TOP_ENTRIES the entries of / (only -x's new root is built from
 * them: a read of / and a readlink per link the other modes do not need). */
gboolean host_view_gather(HostView *view, gboolean top_entries, GError **error);

/* Resolve PATH on the host and record it (idempotent).  With PARENT_ONLY
 * the last component need not exist (empty output files): the parent is
 * resolved and the name appended. */
const HostPath *host_view_resolve(HostView *view, const char *path, gboolean parent_only);

/* Recorded lookup, NULL if PATH was never resolved. */
const HostPath *host_view_lookup(const HostView *view, const char *path);

/* Test/plan helpers: add facts by hand. */
void host_view_add_top(HostView *view, const char *name, HostType type, const char *link_target);
void host_view_add_mount(HostView *view, const char *mount_point, const char *fs_type);
void host_view_add_path(HostView *view, const char *path, const char *canonical,
			HostType type, int err);

/* Record that resolving PATH met the untrusted symbolic link LINK -> TARGET. */
void host_view_add_planted_link(HostView *view, const char *path, const char *link,
				const char *target);

/* TRUE for filesystem types a sweep must never look into (autofs, nfs,
 * cifs/smb3, fuse.*, 9p, ceph, …). */
gboolean host_fs_type_is_remote(const char *fs_type);

/* The mount (longest mount point) containing PATH, or NULL. */
const HostMount *host_view_mount_of(const HostView *view, const char *path);

/* Parse the text of /proc/self/mountinfo into VIEW->mounts (unescaping
 * \040 and friends).  Exposed for the unit test. */
void host_view_parse_mountinfo(HostView *view, const char *text);
