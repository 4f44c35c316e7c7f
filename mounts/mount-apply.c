/* SPDX-License-Identifier: MIT
 *
 * mount-apply.c — build the sandbox's root from a MountPlan.
 *
 * Layout during set-up (bubblewrap's trick, doc/PLATFORM.md §5.2):
 *
 *   /            the base tmpfs (size-limited), private to this namespace
 *   /oldroot     the host's tree: every bind source is reached through it
 *   /newroot     the sandbox's root, built op by op
 *   /scratch     overlay upper/work dirs, generated files, and one directory
 *                per scratch "tmpfs" of the plan (the new root, /tmp, /run,
 *                /dev/shm, homes, -e), bound where it belongs
 *
 * The base tmpfs is the sandbox's only writable memory: every scratch area
 * is a directory of it, so --tmpfs-size bounds all of them together (a
 * tmpfs per area would give each the whole budget).  /dev is the exception,
 * a tmpfs of a few pages (SBX_DEV_TMPFS_OPTIONS) that only holds mount
 * points and symlinks.
 *
 * Binds are made with open_tree(OPEN_TREE_CLONE|AT_RECURSIVE) on an fd
 * opened with openat2(RESOLVE_NO_SYMLINKS) below /oldroot, so a path that
 * was swapped for a symlink after the plan was made is refused rather than
 * followed, then mount_setattr(AT_RECURSIVE, MOUNT_ATTR_RDONLY) makes every
 * submount read-only before the tree is attached with move_mount().  Older
 * kernels get mount(MS_BIND|MS_REC) plus a per-submount remount that keeps
 * the locked flags.  Everything on the base tmpfs vanishes with the mount
 * namespace, so overlays leave nothing on the host even after SIGKILL.
 */
#include "mounts/mount-apply.h"
#include "common/error.h"
#include "common/fdutil.h"
#include "common/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#define BASE_DIR "/tmp"    /* host dir the base tmpfs covers, in our namespace only */
#define OLDROOT "/oldroot"
#define NEWROOT "/newroot"
#define SCRATCH "/scratch"

typedef struct {
	const MountPlan *plan;
	int oldroot;           /* O_PATH fd of /oldroot */
	guint n_overlay;
	guint n_file;
	guint n_scratch;
	gboolean xattr_probed;
	gboolean legacy;       /* no open_tree/mount_setattr: mount(2) fallback */
	guint op_index;        /* of the op being applied */
	GArray *uppers;        /* of FsUpper, or NULL (fs.h) */
	guint split_depth;     /* apply_overlay_split() recursion */
} ApplyCtx;

static gboolean force_legacy;

void
mount_apply_force_legacy(gboolean on)
{
	force_legacy = on;
}

char *
mount_escape_overlay_path(const char *path)
{
	GString *s = g_string_new(NULL);

	for (const char *p = path; *p; p++) {
		if (*p == ',' || *p == ':' || *p == '\\')
			g_string_append_c(s, '\\');
		g_string_append_c(s, *p);
	}
	return g_string_free(s, FALSE);
}

static char *
in_newroot(const char *dest)
{
	return strcmp(dest, "/") == 0 ? g_strdup(NEWROOT) : g_strconcat(NEWROOT, dest, NULL);
}

/* Create the mount point DEST, a directory or an empty file: 0 or -errno. */
static int
make_mountpoint(const char *dest, gboolean is_file)
{
	if (is_file) {
		int fd = open(dest, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0444);

		if (fd < 0)
			return -errno;
		close(fd);
	} else if (mkdir(dest, 0755) < 0 && errno != EEXIST) {
		return -errno;
	}
	return 0;
}

/* Create the mount point DEST (dir or empty file) and its parents when
 * missing.  In a read-only bind this fails with EROFS, as it should.
 * The mount point is tried first, its parents only on ENOENT: the parent
 * nearly always exists (a node of the new /dev, a path in a tree just
 * bound), and each mkdir -p that finds it is two system calls more on a
 * start (issue 19). */
static gboolean
ensure_mountpoint(const char *dest, gboolean is_file, GError **error)
{
	g_autofree char *parent = NULL;
	struct stat st;
	int r;

	if (stat(dest, &st) == 0)
		return TRUE;
	r = make_mountpoint(dest, is_file);
	if (r == -ENOENT) {
		parent = g_path_get_dirname(dest);
		if (g_mkdir_with_parents(parent, 0755) < 0)
			return sbx_set_errno(error, errno, "create directory %s", parent);
		r = make_mountpoint(dest, is_file);
	}
	if (r < 0)
		return sbx_set_errno(error, -r, "create mount point %s", dest);
	return TRUE;
}

static int
open_beneath(int dirfd, const char *path, guint64 flags, guint64 mode)
{
	struct open_how how = {
		.flags = flags | O_CLOEXEC,
		.mode = mode,
		.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_BENEATH,
	};
	const char *rel = path;

	while (*rel == '/')
		rel++;
	return (int)syscall(SYS_openat2, dirfd, *rel ? rel : ".", &how, sizeof how);
}

/* mountinfo per-mount options → MS_* flags a remount must keep (they are
 * locked when inherited from the parent namespace, mount_namespaces(7)). */
static unsigned long
locked_flags(const char *opts)
{
	static const struct { const char *name; unsigned long flag; } map[] = {
		{ "nosuid", MS_NOSUID }, { "nodev", MS_NODEV }, { "noexec", MS_NOEXEC },
		{ "noatime", MS_NOATIME }, { "nodiratime", MS_NODIRATIME },
		{ "relatime", MS_RELATIME },
	};
	g_auto(GStrv) parts = g_strsplit(opts, ",", -1);
	unsigned long flags = 0;

	for (char **p = parts; *p; p++)
		for (gsize i = 0; i < G_N_ELEMENTS(map); i++)
			if (strcmp(*p, map[i].name) == 0)
				flags |= map[i].flag;
	return flags;
}

/* Old kernels: remount DEST and every submount below it read-only. */
static gboolean
remount_tree_readonly(const char *dest, GError **error)
{
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;

	if (!g_file_get_contents(OLDROOT "/proc/self/mountinfo", &text, NULL, NULL))
		return sbx_set_errno(error, EIO, "read mountinfo to make %s read-only", dest);
	lines = g_strsplit(text, "\n", -1);
	for (char **l = lines; *l; l++) {
		g_auto(GStrv) f = g_strsplit(*l, " ", 7);
		g_autofree char *mp = NULL;

		if (g_strv_length(f) < 7)
			continue;
		mp = g_strcompress(f[4]);   /* \040 → space */
		if (!(strcmp(mp, dest) == 0 || (g_str_has_prefix(mp, dest) && mp[strlen(dest)] == '/')))
			continue;
		if (mount(NULL, mp, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | locked_flags(f[5]),
			  NULL) < 0)
			return sbx_set_errno(error, errno, "remount %s read-only", mp);
	}
	return TRUE;
}

/* Attach a clone of the tree at (DIRFD, "") on DEST. */
static gboolean
attach_clone(ApplyCtx *ctx, int fd, const char *what, const char *dest, gboolean rdonly,
	     GError **error)
{
	autoclose int tree = -1;

	if (!ctx->legacy) {
		tree = open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE |
				 AT_EMPTY_PATH);
		if (tree < 0 && errno == ENOSYS)
			ctx->legacy = TRUE;
		else if (tree < 0)
			return sbx_set_errno(error, errno, "clone mount tree of %s", what);
	}
	if (!ctx->legacy && rdonly) {
		struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };

		if (mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0) {
			if (errno != ENOSYS)
				return sbx_set_errno(error, errno, "make %s read-only", what);
			ctx->legacy = TRUE;
		}
	}
	if (!ctx->legacy) {
		if (move_mount(tree, "", AT_FDCWD, dest,
			       MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_SYMLINKS) < 0)
			return sbx_set_errno(error, errno, "bind %s on %s", what, dest);
		return TRUE;
	}
	{
		char src[64];

		g_snprintf(src, sizeof src, OLDROOT "/proc/self/fd/%d", fd);
		if (mount(src, dest, NULL, MS_BIND | MS_REC, NULL) < 0)
			return sbx_set_errno(error, errno, "bind %s on %s", what, dest);
		return !rdonly || remount_tree_readonly(dest, error);
	}
}

static gboolean
apply_bind(ApplyCtx *ctx, const MountOp *op, const char *dest, GError **error)
{
	autoclose int fd = open_beneath(ctx->oldroot, op->source, O_PATH, 0);

	if (fd < 0) {
		if (errno == ENOENT && op->flags & MOUNT_OP_F_OPTIONAL) {
			sbx_debug("skip %s: %s vanished", op->dest, op->source);
			return TRUE;
		}
		if (errno == ELOOP || errno == EXDEV)
			return sbx_set_errno(error, errno,
					     "open %s (%s) for binding: a path component became a symlink",
					     op->source, op->why);
		return sbx_set_errno(error, errno, "open %s (%s) for binding", op->source, op->why);
	}
	if (!ensure_mountpoint(dest, op->flags & MOUNT_OP_F_FILE, error))
		return FALSE;
	return attach_clone(ctx, fd, op->source, dest, op->flags & MOUNT_OP_F_RDONLY, error);
}

/* Overlay upper dirs on tmpfs need user.* xattrs (Linux >= 6.6); without
 * them overlayfs breaks later with EIO, so refuse up front. */
static gboolean
probe_tmpfs_user_xattr(GError **error)
{
	if (setxattr(SCRATCH, "user.mini-sandbox.probe", "1", 1, 0) == 0) {
		removexattr(SCRATCH, "user.mini-sandbox.probe");
		return TRUE;
	}
	return sbx_set_errno(error, errno,
			     "overlay needs user extended attributes on tmpfs (Linux 6.6 or later) "
			     "for its upper directory; on this kernel use custom mode with -d DIR "
			     "on a disk filesystem — probe on " SCRATCH);
}

/* Hold the upper directory open for the discarded-writes report
 * (mounts/discarded.h).  Without it only the report is lost. */
static void
keep_upper(ApplyCtx *ctx, const char *upper)
{
	FsUpper u = { .op_index = ctx->op_index };

	if (!ctx->uppers)
		return;
	u.fd = open(upper, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (u.fd < 0) {
		sbx_debug("open overlay upper %s: %s", upper, g_strerror(errno));
		return;
	}
	g_array_append_val(ctx->uppers, u);
}

/* Overlay of a directory with mounts below it.
 *
 * In a user namespace the kernel refuses an overlay whose lower directory
 * has mounts below it (EINVAL; dmesg: "overlayfs: failed to clone
 * lowerpath"): those mounts came from a more privileged namespace and are
 * locked, and the private copy overlayfs takes of its lower layer would
 * leave them out, revealing what they cover.  Docker's /etc (hosts,
 * resolv.conf, hostname are bind mounts), a project folder with a bind
 * mount inside and an -o ROOT with submounts all hit this.  Such a
 * directory is rebuilt one level down, as the original mini-sandbox did: a
 * scratch directory at DEST (new entries land there and are thrown away,
 * like an overlay's), each subdirectory overlaid in turn (and split again when it
 * has mounts below it), symlinks recreated, and every other entry — files,
 * the submounted ones included — bound read-only: a copy would make a file
 * the sandbox may not write on the host writable, an overlay would not. */
#define OVERLAY_SPLIT_MAX_DEPTH 16

static gboolean apply_overlay(ApplyCtx *ctx, const MountOp *op, const char *dest, GError **error);
static gboolean apply_scratch(ApplyCtx *ctx, const MountOp *op, const char *dest, GError **error);

/* Is anything mounted strictly below PATH (a path in our namespace)? */
static gboolean
has_mounts_below(const char *path)
{
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;
	size_t len = strlen(path);

	if (!g_file_get_contents(OLDROOT "/proc/self/mountinfo", &text, NULL, NULL))
		return FALSE;
	lines = g_strsplit(text, "\n", -1);
	for (char **l = lines; *l; l++) {
		g_auto(GStrv) f = g_strsplit(*l, " ", 6);
		g_autofree char *mp = NULL;

		if (g_strv_length(f) < 6)
			continue;
		mp = g_strcompress(f[4]);   /* \040 → space */
		if (strncmp(mp, path, len) == 0 && mp[len] == '/' && mp[len + 1] != '\0')
			return TRUE;
	}
	return FALSE;
}

static gboolean
overlay_split_entry(ApplyCtx *ctx, const MountOp *op, int dfd, const char *name,
		    const char *dest, GError **error)
{
	g_autofree char *src = g_build_filename(op->source, name, NULL);
	g_autofree char *shown = g_build_filename(op->dest, name, NULL);
	g_autofree char *to = g_build_filename(dest, name, NULL);
	autoclose int fd = -1;
	struct stat st;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return sbx_set_errno(error, errno, "stat %s (%s, overlaid piecewise)", src, op->why);
	if (S_ISDIR(st.st_mode)) {
		MountOp child = *op;

		child.source = src;
		child.dest = shown;
		return apply_overlay(ctx, &child, to, error);
	}
	if (S_ISLNK(st.st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlinkat(dfd, name, target, sizeof target - 1);

		if (n < 0)
			return sbx_set_errno(error, errno, "read symlink %s (%s)", src, op->why);
		target[n] = '\0';
		if (symlink(target, to) < 0)
			return sbx_set_errno(error, errno, "create symlink %s -> %s", shown, target);
		return TRUE;
	}
	fd = openat(dfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return sbx_set_errno(error, errno, "open %s (%s) for binding", src, op->why);
	if (!ensure_mountpoint(to, TRUE, error))
		return FALSE;
	return attach_clone(ctx, fd, src, to, TRUE, error);
}

static gboolean
apply_overlay_split(ApplyCtx *ctx, const MountOp *op, const char *dest, GError **error)
{
	MountOp scratch;
	autoclose int dfd = -1;
	struct dirent *de;
	struct stat st;
	gboolean ok = TRUE;
	DIR *dir;

	if (ctx->split_depth >= OVERLAY_SPLIT_MAX_DEPTH)
		return sbx_set_errno(error, EINVAL, "mount overlay on %s (%s): mounts below it "
				     "more than %d levels deep; overlay a deeper directory instead",
				     op->dest, op->why, OVERLAY_SPLIT_MAX_DEPTH);
	dfd = open_beneath(ctx->oldroot, op->source, O_RDONLY | O_DIRECTORY, 0);
	if (dfd < 0 || fstat(dfd, &st) < 0)
		return sbx_set_errno(error, errno, "open %s (%s) to overlay it piecewise",
				     op->source, op->why);
	/* The new entries' home is scratch of the one budget, like -e's. */
	scratch = *op;
	scratch.mode = st.st_mode & 07777;
	if (!apply_scratch(ctx, &scratch, dest, error))
		return FALSE;
	sbx_debug("overlay %s: mounts below it, overlaid entry by entry", op->dest);
	if (!(dir = fdopendir(dfd)))
		return sbx_set_errno(error, errno, "read directory %s (%s)", op->source, op->why);
	dfd = -1;   /* owned by DIR now */
	ctx->split_depth++;
	while (ok && (errno = 0, de = readdir(dir))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		ok = overlay_split_entry(ctx, op, dirfd(dir), de->d_name, dest, error);
	}
	if (ok && errno)
		ok = sbx_set_errno(error, errno, "read directory %s (%s)", op->source, op->why);
	ctx->split_depth--;
	closedir(dir);
	return ok;
}

static gboolean
apply_overlay(ApplyCtx *ctx, const MountOp *op, const char *dest, GError **error)
{
	g_autofree char *base = NULL, *upper = NULL, *work = NULL, *lower = NULL, *opts = NULL;
	g_autofree char *e_lower = NULL, *e_upper = NULL, *e_work = NULL;
	guint n = ctx->n_overlay++;

	if (ctx->plan->overlay_dir) {
		base = g_strdup_printf(OLDROOT "%s/ovl-%u", ctx->plan->overlay_dir, n);
	} else {
		if (!ctx->xattr_probed && !probe_tmpfs_user_xattr(error))
			return FALSE;
		ctx->xattr_probed = TRUE;
		base = g_strdup_printf(SCRATCH "/ovl-%u", n);
	}
	upper = g_strconcat(base, "/upper", NULL);
	work = g_strconcat(base, "/work", NULL);
	if (g_mkdir_with_parents(upper, 0755) < 0 || g_mkdir_with_parents(work, 0700) < 0)
		return sbx_set_errno(error, errno, "create overlay directories in %s", base);
	keep_upper(ctx, upper);
	lower = strcmp(op->source, "/") == 0 ? g_strdup(OLDROOT) : g_strconcat(OLDROOT, op->source, NULL);
	e_lower = mount_escape_overlay_path(lower);
	e_upper = mount_escape_overlay_path(upper);
	e_work = mount_escape_overlay_path(work);
	/* userxattr: in a user namespace overlay must keep its metadata in
	 * user.overlay.* (doc/PLATFORM.md §4); without it rm -rf of lower dirs → EIO. */
	opts = g_strdup_printf("lowerdir=%s,upperdir=%s,workdir=%s,userxattr", e_lower, e_upper, e_work);
	if (!ensure_mountpoint(dest, FALSE, error))
		return FALSE;
	if (mount("overlay", dest, "overlay", MS_NOSUID | MS_NODEV, opts) < 0) {
		int e = errno;

		if (e == ELOOP)
			return sbx_set_errno(error, e, "mount overlay on %s (%s): overlay directories "
					     "may not overlap", op->dest, op->why);
		if (e == EINVAL && has_mounts_below(lower))
			return apply_overlay_split(ctx, op, dest, error);
		if (e == ENODEV)
			return sbx_set_errno(error, e, "mount overlay on %s (%s): overlayfs is not "
					     "available in this kernel (load the overlay module)",
					     op->dest, op->why);
		return sbx_set_errno(error, e, "mount overlay on %s (%s)", op->dest, op->why);
	}
	return TRUE;
}

static gboolean
bind_host_node(ApplyCtx *ctx, const char *host, const char *dest, gboolean is_file,
	       GError **error)
{
	autoclose int fd = open_beneath(ctx->oldroot, host, O_PATH, 0);

	if (fd < 0) {
		sbx_debug("no %s on the host: %s", host, sbx_strerror(errno));
		return TRUE;
	}
	if (!ensure_mountpoint(dest, is_file, error))
		return FALSE;
	return attach_clone(ctx, fd, host, dest, FALSE, error);
}

/* doc/PLATFORM.md §5.5: mknod is refused in a user namespace, so the nodes are binds
 * of the host's; devpts is a new instance so no host pty is reachable. */
static gboolean
apply_dev(ApplyCtx *ctx, const MountOp *op, const char *dest, GError **error)
{
	static const char *const nodes[] = { "null", "zero", "full", "random", "urandom", "tty" };
	static const char *const links[][2] = {
		{ "stdin", "/proc/self/fd/0" }, { "stdout", "/proc/self/fd/1" },
		{ "stderr", "/proc/self/fd/2" }, { "fd", "/proc/self/fd" },
		{ "core", "/proc/kcore" }, { "ptmx", "pts/ptmx" },
	};
	g_autofree char *pts = g_strconcat(dest, "/pts", NULL);

	if (!ensure_mountpoint(dest, FALSE, error))
		return FALSE;
	/* /dev/shm is a scratch op of the plan, bound here afterwards. */
	if (mount("tmpfs", dest, "tmpfs", MS_NOSUID | MS_NODEV, SBX_DEV_TMPFS_OPTIONS) < 0)
		return sbx_set_errno(error, errno, "mount tmpfs on %s", op->dest);
	for (gsize i = 0; i < G_N_ELEMENTS(nodes); i++) {
		g_autofree char *host = g_strconcat("/dev/", nodes[i], NULL);
		g_autofree char *node = g_strconcat(dest, "/", nodes[i], NULL);

		if (!bind_host_node(ctx, host, node, TRUE, error))
			return FALSE;
	}
	for (gsize i = 0; i < G_N_ELEMENTS(links); i++) {
		g_autofree char *l = g_strconcat(dest, "/", links[i][0], NULL);

		if (symlink(links[i][1], l) < 0)
			return sbx_set_errno(error, errno, "create symlink %s/%s", op->dest, links[i][0]);
	}
	if (mkdir(pts, 0755) < 0)
		return sbx_set_errno(error, errno, "create %s/pts", op->dest);
	if (mount("devpts", pts, "devpts", MS_NOSUID | MS_NOEXEC,
		  "newinstance,ptmxmode=0666,mode=620") < 0)
		return sbx_set_errno(error, errno, "mount devpts on %s/pts", op->dest);
	return TRUE;
}

/* A scratch area of the plan: a fresh directory of the base tmpfs with the
 * op's mode, bound at DEST, so it draws on the one budget. */
static gboolean
apply_scratch(ApplyCtx *ctx, const MountOp *op, const char *dest, GError **error)
{
	g_autofree char *dir = g_strdup_printf(SCRATCH "/tmpfs-%u", ctx->n_scratch++);
	autoclose int fd = -1;

	/* chmod: mkdir's mode is cut by the umask, 01777 must stay 01777. */
	if (mkdir(dir, 0700) < 0 || chmod(dir, op->mode) < 0)
		return sbx_set_errno(error, errno, "create scratch directory %s for %s (%s)", dir,
				     op->dest, op->why);
	fd = open(dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return sbx_set_errno(error, errno, "open scratch directory %s", dir);
	if (!ensure_mountpoint(dest, FALSE, error))
		return FALSE;
	return attach_clone(ctx, fd, op->dest, dest, FALSE, error);
}

/* Make DEST (already mounted) read-only in place, e.g. /proc/sys. */
static void
readonly_in_place(ApplyCtx *ctx, const char *dest)
{
	autoclose int fd = open(dest, O_PATH | O_CLOEXEC | O_NOFOLLOW);
	GError *err = NULL;

	if (fd < 0 || !attach_clone(ctx, fd, dest, dest, TRUE, &err)) {
		sbx_debug("cannot make %s read-only: %s", dest, err ? err->message : sbx_strerror(errno));
		g_clear_error(&err);
	}
}

/* The mount points below the host's /proc ("/proc/keys, /proc/kcore"), as
 * the set-up process sees them under /oldroot: what makes the kernel refuse
 * a new procfs in a user namespace (a /proc that is not fully visible). */
static char *
masked_proc_paths(void)
{
	static const char prefix[] = OLDROOT "/proc/";
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;
	g_autoptr(GString) out = g_string_new(NULL);
	guint n = 0;

	if (!g_file_get_contents(OLDROOT "/proc/self/mountinfo", &text, NULL, NULL))
		return g_strdup("unknown: mountinfo unreadable");
	lines = g_strsplit(text, "\n", -1);
	for (char **l = lines; *l; l++) {
		g_auto(GStrv) f = g_strsplit(*l, " ", 6);
		g_autofree char *mp = NULL;

		if (g_strv_length(f) < 5)
			continue;
		mp = g_strcompress(f[4]);
		if (!g_str_has_prefix(mp, prefix))
			continue;
		if (n++ < 8)
			g_string_append_printf(out, "%s%s", out->len ? ", " : "",
					       mp + strlen(OLDROOT));
	}
	if (n > 8)
		g_string_append_printf(out, " and %u more", n - 8);
	if (n == 0)
		g_string_append(out, "none found below /proc");
	return g_string_free(g_steal_pointer(&out), FALSE);
}

static gboolean
apply_proc(ApplyCtx *ctx, const MountOp *op, const char *dest, GError **error)
{
	static const char *const ro[] = { "sys", "sysrq-trigger", "irq", "bus" };

	if (!ensure_mountpoint(dest, FALSE, error))
		return FALSE;
	if (mount("proc", dest, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
		autoclose int fd = -1;
		g_autofree char *masked = NULL;

		if (errno != EPERM)
			return sbx_set_errno(error, errno, "mount proc on %s", op->dest);
		/* doc/PLATFORM.md §5.4: in containers with masked /proc paths the kernel
		 * refuses a new procfs.  The host's /proc would show the host's
		 * processes, command lines, sockets and mount table: fail closed
		 * unless the user asked for exactly that (issue 14). */
		masked = masked_proc_paths();
		if (!(op->flags & MOUNT_OP_F_HOST_PROC)) {
			g_set_error(error, SBX_ERROR, SBX_ERR_OS,
				    "mount a new /proc: refused by the kernel (EPERM) because the "
				    "host's /proc has paths mounted over it (%s), as container "
				    "engines mask them; run the container with an unmasked /proc "
				    "(e.g. docker/podman run --security-opt systempaths=unconfined), "
				    "or pass --proc=host to give the sandbox the host's /proc, which "
				    "shows every process of the host", masked);
			return FALSE;
		}
		sbx_warn("--proc=host: the kernel refused a new /proc (masked: %s); the sandbox "
			 "gets the host's /proc and sees every process of the host", masked);
		fd = open_beneath(ctx->oldroot, "/proc", O_PATH, 0);
		if (fd < 0 || !attach_clone(ctx, fd, "/proc", dest, FALSE, error))
			return error && *error ? FALSE :
			       sbx_set_errno(error, errno, "bind /proc on %s", op->dest);
	}
	for (gsize i = 0; i < G_N_ELEMENTS(ro); i++) {
		g_autofree char *p = g_strconcat(dest, "/", ro[i], NULL);

		readonly_in_place(ctx, p);
	}
	return TRUE;
}

/* Bind what the new root has at DEST over itself: a mount point cannot be
 * renamed, unlinked or replaced from inside, and with F_RDONLY not written
 * either (the launcher's settings files, issue 14). */
static gboolean
apply_pin(ApplyCtx *ctx, const MountOp *op, const char *dest, GError **error)
{
	autoclose int fd = open(dest, O_PATH | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT) {
		/* covered by a later op (-e): the host file is not reachable */
		sbx_debug("pin %s: not in the sandbox's tree", op->dest);
		return TRUE;
	}
	if (fd < 0)
		return sbx_set_errno(error, errno, "open %s to keep it (%s)", op->dest, op->why);
	return attach_clone(ctx, fd, op->dest, dest, op->flags & MOUNT_OP_F_RDONLY, error);
}

static gboolean
apply_file(ApplyCtx *ctx, const MountOp *op, const char *dest, GError **error)
{
	g_autofree char *path = g_strdup_printf(SCRATCH "/file-%u", ctx->n_file++);
	g_autoptr(GError) local = NULL;
	autoclose int fd = -1;

	if (!g_file_set_contents_full(path, op->contents, -1, G_FILE_SET_CONTENTS_NONE, 0444,
				      &local)) {
		g_set_error(error, SBX_ERROR, SBX_ERR_OS, "write generated %s: %s", op->dest,
			    local->message);
		return FALSE;
	}
	fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return sbx_set_errno(error, errno, "open generated %s", path);
	if (!ensure_mountpoint(dest, TRUE, error))
		return FALSE;
	return attach_clone(ctx, fd, op->dest, dest, TRUE, error);
}

static gboolean
apply_empty_file(ApplyCtx *ctx, const MountOp *op, const char *dest, GError **error)
{
	/* Created through the old root as namespace-root, i.e. owned by the
	 * caller on the host; O_NOFOLLOW via RESOLVE_NO_SYMLINKS: never
	 * truncate what a planted symlink points at. */
	autoclose int fd = open_beneath(ctx->oldroot, op->source, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0)
		return sbx_set_errno(error, errno, "create empty output file %s", op->source);
	if (!ensure_mountpoint(dest, TRUE, error))
		return FALSE;
	return attach_clone(ctx, fd, op->source, dest, FALSE, error);
}

static gboolean
apply_op(ApplyCtx *ctx, const MountOp *op, GError **error)
{
	g_autofree char *dest = in_newroot(op->dest);
	g_autofree char *parent = NULL;

	/* described only for -D: in pid 1 every allocation may be a fault */
	if (sbx_debug_enabled()) {
		g_autofree char *desc = mount_op_describe(op);

		sbx_debug("mount: %s", desc);
	}
	switch (op->kind) {
	case MOUNT_OP_TMPFS:
		return apply_scratch(ctx, op, dest, error);
	case MOUNT_OP_BIND:
		return apply_bind(ctx, op, dest, error);
	case MOUNT_OP_OVERLAY:
		return apply_overlay(ctx, op, dest, error);
	case MOUNT_OP_DEV:
		return apply_dev(ctx, op, dest, error);
	case MOUNT_OP_PROC:
		return apply_proc(ctx, op, dest, error);
	case MOUNT_OP_SYMLINK:
		/* the link first, its parents only on ENOENT (ensure_mountpoint()) */
		if (symlink(op->source, dest) == 0 || errno == EEXIST)
			return TRUE;
		if (errno != ENOENT)
			return sbx_set_errno(error, errno, "create symlink %s -> %s", op->dest, op->source);
		parent = g_path_get_dirname(dest);
		if (g_mkdir_with_parents(parent, 0755) < 0 ||
		    (symlink(op->source, dest) < 0 && errno != EEXIST))
			return sbx_set_errno(error, errno, "create symlink %s -> %s", op->dest, op->source);
		return TRUE;
	case MOUNT_OP_MKDIR:
		if (g_mkdir_with_parents(dest, 0700) < 0)
			return sbx_set_errno(error, errno, "create directory %s (%s)", op->dest, op->why);
		return TRUE;
	case MOUNT_OP_FILE:
		return apply_file(ctx, op, dest, error);
	case MOUNT_OP_EMPTY_FILE:
		return apply_empty_file(ctx, op, dest, error);
	case MOUNT_OP_PIN:
		return apply_pin(ctx, op, dest, error);
	default:
		return sbx_set_errno(error, EINVAL, "unknown mount operation %d", (int)op->kind);
	}
}

/* Move into the base tmpfs with the host tree at /oldroot.  nr_inodes: an
 * empty file costs kernel memory but no size, so files are bounded too, at
 * one per 4 KiB of budget like the kernel's own tmpfs default. */
static gboolean
enter_base(const MountPlan *plan, GError **error)
{
	g_autofree char *opts = g_strdup_printf("mode=0755,size=%" G_GUINT64_FORMAT
						",nr_inodes=%" G_GUINT64_FORMAT, plan->tmpfs_size,
						MAX(plan->tmpfs_size / 4096, 1024));

	/* Never send our mounts to the host, still receive its unmounts
	 * (doc/PLATFORM.md §5.1). */
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		return sbx_set_errno(error, errno, "make / a slave mount");
	if (mount("tmpfs", BASE_DIR, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
		return sbx_set_errno(error, errno, "mount base tmpfs on " BASE_DIR);
	if (mount(NULL, BASE_DIR, NULL, MS_PRIVATE, NULL) < 0)
		return sbx_set_errno(error, errno, "make base tmpfs private");
	if (chdir(BASE_DIR) < 0)
		return sbx_set_errno(error, errno, "chdir " BASE_DIR);
	if (mkdir("." NEWROOT, 0755) < 0 || mkdir("." OLDROOT, 0755) < 0 ||
	    mkdir("." SCRATCH, 0700) < 0)
		return sbx_set_errno(error, errno, "create set-up directories in the base tmpfs");
	if (syscall(SYS_pivot_root, ".", "." OLDROOT) < 0)
		return sbx_set_errno(error, errno, "pivot_root into the base tmpfs");
	if (chdir("/") < 0)
		return sbx_set_errno(error, errno, "chdir /");
	return TRUE;
}

/* Detach the host, then make /newroot the root (crun do_pivot, doc/PLATFORM.md §5.2). */
static gboolean
enter_newroot(GError **error)
{
	if (mount(NULL, OLDROOT, NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return sbx_set_errno(error, errno, "make the old root private");
	if (umount2(OLDROOT, MNT_DETACH) < 0)
		return sbx_set_errno(error, errno, "detach the old root");
	if (chdir(NEWROOT) < 0)
		return sbx_set_errno(error, errno, "chdir " NEWROOT);
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return sbx_set_errno(error, errno, "pivot_root into the new root");
	/* The base tmpfs is now stacked on "/": detach it; overlays and
	 * generated files keep their own references to it. */
	if (umount2(".", MNT_DETACH) < 0)
		return sbx_set_errno(error, errno, "detach the base tmpfs");
	if (chdir("/") < 0)
		return sbx_set_errno(error, errno, "chdir /");
	return TRUE;
}

/* The binds are still slaves of the host's peer groups (enter_base), so a
 * file system the host mounts later — a USB stick under /media, anything
 * under a -M path — would propagate in without our read-only attribute.
 * Once the tree is complete, nothing may come in: every mount private.
 * The price: a host unmount no longer propagates either (the sandbox
 * keeps such a file system busy until it ends). */
static gboolean
stop_propagation(GError **error)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return sbx_set_errno(error, errno, "make the sandbox's mounts private");
	return TRUE;
}

gboolean
mount_apply_plan(const MountPlan *plan, GArray *uppers, GError **error)
{
	ApplyCtx ctx = { .plan = plan, .oldroot = -1, .legacy = force_legacy, .uppers = uppers };
	autoclose int oldroot = -1;
	gboolean ok = TRUE;

	if (!enter_base(plan, error))
		return FALSE;
	oldroot = open(OLDROOT, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (oldroot < 0)
		return sbx_set_errno(error, errno, "open " OLDROOT);
	ctx.oldroot = oldroot;
	for (guint i = 0; ok && i < plan->ops->len; i++) {
		ctx.op_index = i;
		ok = apply_op(&ctx, g_ptr_array_index(plan->ops, i), error);
	}
	if (!ok)
		return FALSE;
	if (!enter_newroot(error))
		return FALSE;
	if (!stop_propagation(error))
		return FALSE;
	if (plan->workdir && chdir(plan->workdir) < 0) {
		sbx_warn("cannot enter %s inside the sandbox (%s); starting in /", plan->workdir,
			 sbx_strerror(errno));
	}
	return TRUE;
}
