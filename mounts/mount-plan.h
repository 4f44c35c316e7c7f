/* SPDX-License-Identifier: MIT
 *
 * mount-plan.h — the pure half of the filesystem stage.
 *
 * mount_plan_build() turns an SbxConfig plus a HostView (facts gathered by
 * hostview.c: CWD, $HOME, the host's top-level entries, the mount table,
 * every user-given path resolved to its canonical form) into an ordered list
 * of MountOp.  No syscalls happen here, so tests/unit/test-mount-plan.c can
 * check every mode and option with hand-made HostViews.  mount-apply.c
 * executes the list.
 *
 * Paths: MountOp.dest is a path *inside* the sandbox ("/usr"); MountOp.source
 * is a path on the host ("/usr") — the applier reaches it through the old
 * root during set-up.
 */
#pragma once

#include "common/config.h"
#include "mounts/hostview.h"
#include "mounts/fs.h"

/* All scratch a sandbox can write (the new root, overlay upper dirs,
 * /tmp, /var/tmp, /run, /dev/shm, homes, -e directories, generated files)
 * lives on ONE tmpfs of this many bytes, cfg->tmpfs_size (--tmpfs-size), so
 * a runaway writer takes at most that much of the host's memory whatever
 * it fills: by default a quarter of the machine's memory (half of the
 * kernel's own tmpfs default), SBX_FALLBACK_TMPFS_SIZE when that is
 * unknown.  Documented in mini-sandbox(1) RESOURCES. */
#define SBX_DEFAULT_TMPFS_RAM_DIVISOR 4
#define SBX_FALLBACK_TMPFS_SIZE (G_GUINT64_CONSTANT(2) << 30)

/* /dev holds only mount points, symlinks and two directories: a few pages
 * and inodes are plenty, and a payload cannot use it as unbounded scratch. */
#define SBX_DEV_TMPFS_OPTIONS "mode=0755,size=64k,nr_inodes=64"

typedef enum {
	MOUNT_OP_TMPFS = 0,    /* empty scratch dir (mode) of the one budget tmpfs, at dest */
	MOUNT_OP_BIND,         /* recursive bind of host source at dest */
	MOUNT_OP_OVERLAY,      /* overlay: lower = host source, upper/work in scratch or -d */
	MOUNT_OP_DEV,          /* minimal /dev (doc/PLATFORM.md §5.5) at dest */
	MOUNT_OP_PROC,         /* new procfs at dest */
	MOUNT_OP_SYMLINK,      /* symlink dest → source (as the host has it) */
	MOUNT_OP_MKDIR,        /* directory dest (e.g. $HOME in the /home scratch) */
	MOUNT_OP_FILE,         /* generated file (contents), bound read-only at dest */
	MOUNT_OP_EMPTY_FILE,   /* create/truncate host file source, bind it read-write */
	MOUNT_OP_PIN,          /* bind what the new root has at dest over itself (F_RDONLY:
				* read-only): a mount point cannot be renamed or unlinked */
} MountOpKind;

enum {
	MOUNT_OP_F_RDONLY = 1 << 0,   /* every mount of the tree read-only */
	MOUNT_OP_F_FILE = 1 << 1,     /* source is not a directory: mount point is a file */
	MOUNT_OP_F_OPTIONAL = 1 << 2, /* source may vanish between plan and apply: skip */
	MOUNT_OP_F_HOST_PROC = 1 << 3, /* PROC: --proc=host, bind the host's /proc if a new
					* one is refused (else that is an error) */
};

typedef struct {
	MountOpKind kind;
	char *source;          /* host path; symlink target for SYMLINK; NULL otherwise */
	char *dest;            /* absolute path inside the sandbox */
	unsigned flags;        /* MOUNT_OP_F_* */
	unsigned mode;         /* MOUNT_OP_TMPFS: permissions of the scratch dir (01777) */
	char *contents;        /* MOUNT_OP_FILE only */
	const char *why;       /* origin for messages: "-w", "CWD", "top-level", … (static) */
} MountOp;

struct MountPlan {
	SbxFsMode mode;
	GPtrArray *ops;        /* of MountOp *, parents before children (see mount_plan_insert) */
	char *workdir;         /* where the payload starts, inside the sandbox */
	char *overlay_dir;     /* host dir for overlay upper/work (-d run dir); NULL = base tmpfs */
	int run_lock_fd;       /* flock held on the -d run dir's lock file (fs.c), or -1 */
	gboolean keep_overlay;
	guint64 tmpfs_size;    /* bytes, for all scratch together (the base tmpfs) */
	GPtrArray *warnings;   /* of char *: shown once by the launcher */
	GHashTable *redirects; /* sandbox path → path a generated file must really cover
				* (e.g. /etc/resolv.conf → /run/systemd/resolve/stub-resolv.conf) */
	guint n_overlays;      /* numbering for overlay upper/work directories */
};

/* The launcher's settings files (@FILE, -F, -D, --log) that lie under a
 * writable bind get a read-only PIN of themselves, and every directory
 * between the bind and the file a PIN too, so the sandbox can neither
 * rewrite nor replace what the next run reads (issue 14).  mount_plan_build()
 * does this for the files of CFG that VIEW resolved. */

/* Decide every mount for CFG on the host described by VIEW.  Validates the
 * path options against VIEW (missing, not a directory, symlink loop, both -w
 * and -M, relative, /tmp remounted in -x …): NULL + an SBX_ERR_* error whose
 * message names the option, the path and the fix. */
MountPlan *mount_plan_build(const SbxConfig *cfg, const HostView *view, GError **error);

/* Insert OP (taking ownership) keeping the order the applier needs: ops are
 * sorted by the depth of dest (parents before children), and ops of equal
 * depth keep insertion order, so a later op covers an earlier one. */
void mount_plan_insert(MountPlan *plan, MountOp *op);

/* Number of path components of an absolute path ("/" = 0, "/usr/bin" = 2). */
guint mount_path_depth(const char *path);

/* TRUE if PATH is DIR or below DIR (both absolute, normalised). */
gboolean mount_path_is_under(const char *path, const char *dir);

/* Human-readable one-line description, for the -D log and tests. */
char *mount_op_describe(const MountOp *op);

void mount_op_free(MountOp *op);

/* Add a generated file the sandbox sees read-only at DEST (absolute), e.g.
 * /etc/resolv.conf and /etc/hosts for mini-tapbox.  Copies CONTENTS. */
void fs_plan_add_file(MountPlan *plan, const char *dest, const char *contents);

void mount_plan_free(MountPlan *plan);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MountPlan, mount_plan_free)
