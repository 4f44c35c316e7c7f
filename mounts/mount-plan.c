/* SPDX-License-Identifier: MIT
 *
 * mount-plan.c — decide every mount of a sandbox (pure: no syscalls).
 *
 * The four modes (config.h SbxFsMode), reduced to the same vocabulary:
 *
 *   -x        "/" tmpfs; host top-level dirs read-only; symlinks (/bin → usr/bin)
 *             recreated; /tmp, /var/tmp, /run, /home, $HOME scratch; /dev, /proc, /sys;
 *             CWD read-write, its project folder as an overlay.
 *   -o ROOT   "/" = overlay of ROOT; only -k/-M/-w/-e, CWD, /dev, /proc, /tmp.
 *   -h DIR    "/" tmpfs; only -M/-w, DIR and CWD read-write, /dev, /tmp; /proc if asked.
 *   (none)    "/" = the host tree read-only; CWD and -w writable; /tmp, /run,
 *             /dev/shm private; new /proc.
 *
 * Ordering: the applier runs ops front to back; mount_plan_insert() keeps
 * them sorted by depth of dest, so parents are mounted before children and,
 * at equal depth, the later (more specific, user-given) op covers the earlier.
 */
#include "mounts/mount-plan.h"
#include "common/error.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

void
mount_op_free(MountOp *op)
{
	if (!op)
		return;
	g_free(op->source);
	g_free(op->dest);
	g_free(op->contents);
	g_free(op);
}

void
mount_plan_free(MountPlan *plan)
{
	if (!plan)
		return;
	g_ptr_array_unref(plan->ops);
	g_free(plan->workdir);
	g_free(plan->overlay_dir);
	if (plan->run_lock_fd >= 0)
		close(plan->run_lock_fd);
	g_ptr_array_unref(plan->warnings);
	g_hash_table_unref(plan->redirects);
	g_free(plan);
}

guint
mount_path_depth(const char *path)
{
	guint depth = 0;

	for (const char *p = path; *p; p++)
		if (*p == '/' && p[1] != '\0' && p[1] != '/')
			depth++;
	return depth;
}

gboolean
mount_path_is_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (strcmp(dir, "/") == 0)
		return path[0] == '/';
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

void
mount_plan_insert(MountPlan *plan, MountOp *op)
{
	guint depth = mount_path_depth(op->dest);
	guint i = plan->ops->len;

	/* Stable: after every op whose depth is <= ours. */
	while (i > 0 && mount_path_depth(((MountOp *)g_ptr_array_index(plan->ops, i - 1))->dest) > depth)
		i--;
	g_ptr_array_insert(plan->ops, (gint)i, op);
}

static MountOp *
op_new(MountOpKind kind, const char *source, const char *dest, unsigned flags, const char *why)
{
	MountOp *op = g_new0(MountOp, 1);

	op->kind = kind;
	op->source = g_strdup(source);
	op->dest = g_strdup(dest);
	op->flags = flags;
	op->why = why;
	return op;
}

static void
add(MountPlan *plan, MountOpKind kind, const char *source, const char *dest,
    unsigned flags, const char *why)
{
	mount_plan_insert(plan, op_new(kind, source, dest, flags, why));
}

/* Scratch at DEST: a directory of the sandbox's one budget tmpfs, not a
 * tmpfs of its own, so that all scratch together stays within
 * plan->tmpfs_size. */
static void
add_tmpfs(MountPlan *plan, const char *dest, unsigned mode, const char *why)
{
	MountOp *op = op_new(MOUNT_OP_TMPFS, NULL, dest, 0, why);

	op->mode = mode;
	mount_plan_insert(plan, op);
}

/* The minimal /dev and its /dev/shm, which is scratch like /tmp. */
static void
add_dev(MountPlan *plan)
{
	add(plan, MOUNT_OP_DEV, NULL, "/dev", 0, "minimal /dev");
	add_tmpfs(plan, "/dev/shm", 01777, "private /dev/shm");
}

static void
warn(MountPlan *plan, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void
warn(MountPlan *plan, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	g_ptr_array_add(plan->warnings, g_strdup_vprintf(fmt, ap));
	va_end(ap);
}

char *
mount_op_describe(const MountOp *op)
{
	static const char *const names[] = {
		[MOUNT_OP_TMPFS] = "tmpfs", [MOUNT_OP_BIND] = "bind",
		[MOUNT_OP_OVERLAY] = "overlay", [MOUNT_OP_DEV] = "dev", [MOUNT_OP_PROC] = "proc",
		[MOUNT_OP_SYMLINK] = "symlink", [MOUNT_OP_MKDIR] = "mkdir",
		[MOUNT_OP_FILE] = "file", [MOUNT_OP_EMPTY_FILE] = "empty-file",
		[MOUNT_OP_PIN] = "pin",
	};

	g_autofree char *mode = op->kind == MOUNT_OP_TMPFS ?
				g_strdup_printf(" mode=%04o", op->mode) : NULL;

	return g_strdup_printf("%s%s %s%s%s%s (%s)", names[op->kind],
			       op->flags & MOUNT_OP_F_RDONLY ? "-ro" : "",
			       op->dest, op->source ? " <- " : "", op->source ? op->source : "",
			       mode ? mode : "", op->why ? op->why : "");
}

/* ---- validation ---------------------------------------------------------- */

static gboolean
fail_path(GError **error, int code, const char *opt, const char *path, const char *problem,
	  const char *fix)
{
	g_set_error(error, SBX_ERROR, code, "%s %s: %s (%s)", opt, path, problem, fix);
	return FALSE;
}

/* A symbolic link in a directory the caller can write: a previous sandbox
 * could have planted it to point this run somewhere else (issue 14). */
static gboolean
fail_planted_link(GError **error, const char *opt, const char *path, const HostPath *hp)
{
	g_set_error(error, SBX_ERROR, SBX_ERR_INVALID_FOLDER,
		    "%s %s: the path goes through the symbolic link %s -> %s, which lies in a "
		    "directory you can write, so a sandbox could have planted it; give the "
		    "real path or remove the link (see SECURITY in mini-sandbox(1))",
		    opt, path, hp->link, hp->link_target);
	return FALSE;
}

/* Check that PATH (given with option OPT) resolved; NEED_DIR when only a
 * directory makes sense.  Returns the canonical path or NULL + error. */
static const char *
checked_path(const HostView *view, const char *opt, const char *path, gboolean need_dir,
	     GError **error)
{
	const HostPath *hp;

	if (!path || !g_path_is_absolute(path)) {
		fail_path(error, SBX_ERR_NOT_ABSOLUTE, opt, path ? path : "(null)",
			  "not an absolute path", "give the full path, e.g. \"$PWD/…\"");
		return NULL;
	}
	hp = host_view_lookup(view, path);
	if (hp && hp->link) {
		fail_planted_link(error, opt, path, hp);
		return NULL;
	}
	if (!hp || hp->err == ENOENT || (hp->err == 0 && hp->type == HOST_TYPE_MISSING)) {
		fail_path(error, SBX_ERR_PATH_MISSING, opt, path, "no such file or directory",
			  "create it first or fix the path");
		return NULL;
	}
	if (hp->err == ELOOP) {
		fail_path(error, SBX_ERR_INVALID_FOLDER, opt, path, "symbolic link loop",
			  "point the option at the real directory");
		return NULL;
	}
	if (hp->err == ENOTDIR) {
		fail_path(error, SBX_ERR_PATH_MISSING, opt, path,
			  "a component of the path is not a directory", "fix the path");
		return NULL;
	}
	if (hp->err) {
		g_autofree char *problem = g_strdup_printf("cannot be used: %s", g_strerror(hp->err));

		fail_path(error, SBX_ERR_INVALID_FOLDER, opt, path, problem,
			  "check the path and its permissions");
		return NULL;
	}
	if (need_dir && hp->type != HOST_TYPE_DIR) {
		fail_path(error, SBX_ERR_INVALID_FOLDER, opt, path, "not a directory",
			  "this option needs a directory");
		return NULL;
	}
	if (hp->type != HOST_TYPE_DIR && hp->type != HOST_TYPE_FILE) {
		fail_path(error, SBX_ERR_INVALID_FOLDER, opt, path,
			  "neither a regular file nor a directory", "name a file or a directory");
		return NULL;
	}
	return hp->canonical;
}

static gboolean
path_is_tmp(const char *path)
{
	g_autofree char *norm = g_canonicalize_filename(path, "/");

	return strcmp(norm, "/tmp") == 0;
}

static gboolean
validate_mounts(const SbxConfig *cfg, const HostView *view, GError **error)
{
	for (guint i = 0; i < cfg->mounts->len; i++) {
		const SbxMountOpt *a = &g_array_index(cfg->mounts, SbxMountOpt, i);
		const char *ca;

		if (a->kind == SBX_MOUNT_EMPTY_FILE) {
			const HostPath *hp = host_view_lookup(view, a->path);

			if (!a->path || !g_path_is_absolute(a->path))
				return fail_path(error, SBX_ERR_NOT_ABSOLUTE, "empty output file",
						 a->path ? a->path : "(null)", "not an absolute path",
						 "give the full path");
			if (hp && hp->link)
				return fail_planted_link(error, "empty output file", a->path, hp);
			if (!hp || hp->err)
				return fail_path(error, SBX_ERR_PATH_MISSING, "empty output file",
						 a->path, "its directory does not exist",
						 "create the directory first");
			if (hp->type != HOST_TYPE_MISSING && hp->type != HOST_TYPE_FILE)
				return fail_path(error, SBX_ERR_INVALID_FOLDER, "empty output file",
						 a->path, "exists and is not a regular file",
						 "remove it or choose another name");
			continue;
		}
		ca = checked_path(view, sbx_mount_kind_flag(a->kind), a->path,
				  a->kind == SBX_MOUNT_OVERLAY || a->kind == SBX_MOUNT_TMPFS, error);
		if (!ca)
			return FALSE;
		if (a->kind == SBX_MOUNT_OVERLAY && cfg->fs_mode == SBX_FS_HERMETIC) {
			g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_CONFIG,
				    "-k %s: hermetic mode (-h) has no overlays (use -M or -w)", a->path);
			return FALSE;
		}
		if (cfg->fs_mode == SBX_FS_DEFAULT &&
		    (strcmp(ca, "/tmp") == 0 || path_is_tmp(a->path))) {
			g_set_error(error, SBX_ERROR, SBX_ERR_TMP_REMOUNT,
				    "%s %s: /tmp is always a private tmpfs in -x (share a directory below it instead)",
				    sbx_mount_kind_flag(a->kind), a->path);
			return FALSE;
		}
		for (guint j = 0; j < i; j++) {
			const SbxMountOpt *b = &g_array_index(cfg->mounts, SbxMountOpt, j);
			const HostPath *hb = host_view_lookup(view, b->path);
			gboolean rw_pair = (a->kind == SBX_MOUNT_WRITE && b->kind == SBX_MOUNT_READ) ||
					   (a->kind == SBX_MOUNT_READ && b->kind == SBX_MOUNT_WRITE);

			if (rw_pair && hb && hb->canonical && strcmp(hb->canonical, ca) == 0) {
				g_set_error(error, SBX_ERROR, SBX_ERR_READ_AND_WRITE,
					    "%s is given both as -w and -M (%s, %s): choose one",
					    ca, a->path, b->path);
				return FALSE;
			}
		}
	}
	return TRUE;
}

/* ---- the pieces every mode uses ------------------------------------------ */

static void
add_user_mounts(MountPlan *plan, const SbxConfig *cfg, const HostView *view)
{
	for (guint i = 0; i < cfg->mounts->len; i++) {
		const SbxMountOpt *m = &g_array_index(cfg->mounts, SbxMountOpt, i);
		const HostPath *hp = host_view_lookup(view, m->path);
		unsigned file = hp->type == HOST_TYPE_FILE ? MOUNT_OP_F_FILE : 0;
		const char *p = hp->canonical;
		g_autofree char *d = g_canonicalize_filename(m->path, "/");

		/* source = canonical host path (opened without following
		 * symlinks at apply time, so it cannot be swapped); dest = the
		 * name the user gave (-M /lib64 shows up as /lib64).  The bind
		 * covers exactly the named tree: symlinks inside it resolve in
		 * the sandbox's own view. */
		switch (m->kind) {
		case SBX_MOUNT_WRITE:
			add(plan, MOUNT_OP_BIND, p, d, file, "-w");
			break;
		case SBX_MOUNT_READ:
			add(plan, MOUNT_OP_BIND, p, d, file | MOUNT_OP_F_RDONLY, "-M");
			break;
		case SBX_MOUNT_OVERLAY:
			add(plan, MOUNT_OP_OVERLAY, p, d, 0, "-k");
			plan->n_overlays++;
			break;
		case SBX_MOUNT_TMPFS:
			add_tmpfs(plan, d, 0755, "-e");
			break;
		case SBX_MOUNT_EMPTY_FILE:
			add(plan, MOUNT_OP_EMPTY_FILE, p, d, MOUNT_OP_F_FILE, "empty output file");
			break;
		default:
			break;
		}
	}
}

/* DIR is /home, a home directory, or holds $HOME / the passwd home. */
static gboolean
is_a_home(const char *dir, const HostView *view)
{
	g_autofree char *parent = g_path_get_dirname(dir);
	const char *const homes[] = { view->home, view->pw_home };

	if (strcmp(parent, "/home") == 0 || strcmp(dir, "/home") == 0)
		return TRUE;
	for (gsize i = 0; i < G_N_ELEMENTS(homes); i++)
		if (homes[i] && mount_path_is_under(homes[i], dir))
			return TRUE;
	return FALSE;
}

/* The original project's "top folder above CWD": the first component below
 * the scratch area CWD lives in ($HOME, the passwd home, /home), else below
 * CWD's mount point, but never a home directory or anything holding one
 * (someone's keys and dotfiles), even when $HOME is unset or wrong.
 * Returns NULL when CWD is that folder itself, or under /tmp or /var/tmp. */
static char *
project_top(const char *cwd, const HostView *view, gboolean home_scratch)
{
	const char *base = NULL;
	const HostMount *m;
	const char *slash;

	/* /tmp is shared by every program on the host: its first-level
	 * directories hold agent and X11 sockets (/tmp/ssh-XXXX/agent.N), which
	 * an overlay would make reachable.  Under /tmp only CWD is shared; the
	 * same for /var/tmp, which is private too and as shared on the host. */
	if (mount_path_is_under(cwd, "/tmp") || mount_path_is_under(cwd, "/var/tmp"))
		return NULL;
	if (view->home && strcmp(view->home, "/") != 0 && mount_path_is_under(cwd, view->home))
		base = view->home;
	else if (view->pw_home && strcmp(view->pw_home, "/") != 0 &&
		 mount_path_is_under(cwd, view->pw_home))
		base = view->pw_home;
	else if (home_scratch && mount_path_is_under(cwd, "/home"))
		base = "/home";
	else if ((m = host_view_mount_of(view, cwd)))
		base = m->mount_point;
	else
		base = "/";
	slash = cwd + strlen(base);
	for (;;) {
		g_autofree char *top = NULL;

		while (*slash == '/')
			slash++;
		slash = strchr(slash, '/');
		if (!slash)
			return NULL;   /* CWD is the project folder itself */
		top = g_strndup(cwd, (gsize)(slash - cwd));
		/* A $HOME that is unset or wrong must not make a whole home
		 * directory, or /home, the project folder: go one deeper. */
		if (!is_a_home(top, view))
			return g_steal_pointer(&top);
	}
}

/* CWD (or -W): read-write and shared; its project folder an overlay (or
 * read-write with parents_write) in -x. */
static void
add_workdir(MountPlan *plan, const SbxConfig *cfg, const HostView *view, const char *wd,
	    gboolean with_parents)
{
	/* The first four are refused only as CWD itself (a directory below
	 * them is shared alone); the rest also below. */
	static const char *const unshared[] = { "/", "/tmp", "/var/tmp", "/home",
						"/proc", "/sys", "/dev", "/run" };
	g_autofree char *top = NULL;

	plan->workdir = g_strdup(wd);
	for (gsize i = 0; i < G_N_ELEMENTS(unshared); i++) {
		gboolean exact = strcmp(wd, unshared[i]) == 0;
		gboolean below = i >= 4 && mount_path_is_under(wd, unshared[i]);

		if (exact || below) {
			warn(plan, "the working directory %s is not shared with the sandbox "
			     "(it would expose host state); run from a project directory or use -w", wd);
			return;
		}
	}
	if (((view->home && strcmp(wd, view->home) == 0) ||
	     (view->pw_home && strcmp(wd, view->pw_home) == 0)) && cfg->fs_mode == SBX_FS_DEFAULT)
		warn(plan, "the working directory is your home %s: all of it (dotfiles, keys) "
		     "is shared read-write with the sandbox; run from a project directory instead", wd);
	if (with_parents && (top = project_top(wd, view, TRUE))) {
		if (cfg->parents_write)
			add(plan, MOUNT_OP_BIND, top, top, 0, "project folder (parents_write)");
		else {
			add(plan, MOUNT_OP_OVERLAY, top, top, 0, "project folder");
			plan->n_overlays++;
		}
	}
	add(plan, MOUNT_OP_BIND, wd, wd, 0, "CWD");
}

/* /run without host sockets, but name resolution still working when
 * /etc/resolv.conf points into /run (systemd-resolved). */
static void
add_run(MountPlan *plan, const HostView *view)
{
	add_tmpfs(plan, "/run", 0755, "no host sockets");
	if (view->resolv_target && mount_path_is_under(view->resolv_target, "/run")) {
		add(plan, MOUNT_OP_BIND, view->resolv_target, view->resolv_target,
		    MOUNT_OP_F_RDONLY | MOUNT_OP_F_FILE | MOUNT_OP_F_OPTIONAL, "resolv.conf target");
		g_hash_table_insert(plan->redirects, g_strdup("/etc/resolv.conf"),
				    g_strdup(view->resolv_target));
	}
}

/* A new procfs; with --proc=host the applier may bind the host's instead
 * when the kernel refuses a new one (a container with masked /proc). */
static void
add_proc(MountPlan *plan, const SbxConfig *cfg)
{
	add(plan, MOUNT_OP_PROC, NULL, "/proc", cfg->proc_host ? MOUNT_OP_F_HOST_PROC : 0,
	    cfg->proc_host ? "new /proc, else the host's (--proc=host)" : "new /proc");
}

static gboolean
is_special_top(const char *name)
{
	static const char *const special[] = { "proc", "sys", "dev", "tmp", "run", "home" };

	for (gsize i = 0; i < G_N_ELEMENTS(special); i++)
		if (strcmp(name, special[i]) == 0)
			return TRUE;
	return FALSE;
}

/* A home outside /home gets its own empty tmpfs; one below /home is
 * already hidden and only recreated as an empty scratch directory. */
static void
hide_home(MountPlan *plan, const char *home)
{
	if (!home || strcmp(home, "/") == 0)
		return;
	if (!mount_path_is_under(home, "/home"))
		add_tmpfs(plan, home, 0700, "home hidden");
	else
		add(plan, MOUNT_OP_MKDIR, NULL, home, 0, "home scratch");
}

static void
plan_default(MountPlan *plan, const SbxConfig *cfg, const HostView *view, const char *wd)
{
	add_tmpfs(plan, "/", 0755, "new root");
	for (guint i = 0; i < view->top->len; i++) {
		const HostTopEntry *e = g_ptr_array_index(view->top, i);
		g_autofree char *path = g_strconcat("/", e->name, NULL);

		if (is_special_top(e->name))
			continue;
		if (e->type == HOST_TYPE_SYMLINK)
			add(plan, MOUNT_OP_SYMLINK, e->link_target, path, 0, "top-level");
		else if (e->type == HOST_TYPE_DIR)
			add(plan, MOUNT_OP_BIND, path, path, MOUNT_OP_F_RDONLY | MOUNT_OP_F_OPTIONAL,
			    "top-level");
		else if (e->type == HOST_TYPE_FILE)
			add(plan, MOUNT_OP_BIND, path, path,
			    MOUNT_OP_F_RDONLY | MOUNT_OP_F_FILE | MOUNT_OP_F_OPTIONAL, "top-level");
	}
	add_tmpfs(plan, "/tmp", 01777, "private /tmp");
	add_tmpfs(plan, "/var/tmp", 01777, "private /var/tmp");
	add_dev(plan);
	add_proc(plan, cfg);
	add(plan, MOUNT_OP_BIND, "/sys", "/sys", MOUNT_OP_F_RDONLY | MOUNT_OP_F_OPTIONAL, "/sys");
	add_run(plan, view);
	add_tmpfs(plan, "/home", 0755, "homes hidden");
	hide_home(plan, view->home);
	if (!view->home || !view->pw_home || strcmp(view->home, view->pw_home) != 0)
		hide_home(plan, view->pw_home);
	add_workdir(plan, cfg, view, wd, TRUE);
	add_user_mounts(plan, cfg, view);
}

/* A non-empty ROOT is the lower layer of the sandbox's /; an empty (or
 * new) one is the original's usage — a base directory, the root built from
 * -k/-M/-w alone — so the root is a fresh tmpfs and -d may be ROOT itself.
 * Either way $HOME is an empty writable scratch, as in the original. */
static void
plan_custom(MountPlan *plan, const SbxConfig *cfg, const HostView *view, const char *root,
	    const char *wd)
{
	if (view->custom_root_empty) {
		add_tmpfs(plan, "/", 0755, "new root (-o ROOT is empty)");
	} else {
		add(plan, MOUNT_OP_OVERLAY, root, "/", 0, "-o root");
		plan->n_overlays++;
	}
	add_tmpfs(plan, "/tmp", 01777, "private /tmp");
	add_dev(plan);
	add_proc(plan, cfg);
	if (view->home && strcmp(view->home, "/") != 0)
		add_tmpfs(plan, view->home, 0700, "home scratch");
	add_workdir(plan, cfg, view, wd, FALSE);
	add_user_mounts(plan, cfg, view);
}

static void
plan_hermetic(MountPlan *plan, const SbxConfig *cfg, const HostView *view, const char *dir,
	      const char *wd)
{
	add_tmpfs(plan, "/", 0755, "new root");
	add_tmpfs(plan, "/tmp", 01777, "private /tmp");
	add_dev(plan);
	if (cfg->mount_proc || cfg->proc_host)
		add_proc(plan, cfg);
	add(plan, MOUNT_OP_BIND, dir, dir, 0, "-h");
	add_workdir(plan, cfg, view, wd, FALSE);
	add_user_mounts(plan, cfg, view);
}

static void
plan_readonly(MountPlan *plan, const SbxConfig *cfg, const HostView *view, const char *wd)
{
	/* "No new root": the sandbox sees the host's own tree, read-only to the
	 * last submount.  We still pivot into it so that nothing outside this
	 * view stays reachable. */
	add(plan, MOUNT_OP_BIND, "/", "/", MOUNT_OP_F_RDONLY, "host tree");
	add_tmpfs(plan, "/tmp", 01777, "private /tmp");
	add_dev(plan);
	add_proc(plan, cfg);
	add_run(plan, view);
	add_workdir(plan, cfg, view, wd, FALSE);
	add_user_mounts(plan, cfg, view);
}

/* ---- settings files (issue 14) ------------------------------------------ */

static void
add_pin(MountPlan *plan, const char *dest, unsigned flags)
{
	for (guint i = 0; i < plan->ops->len; i++) {
		MountOp *op = g_ptr_array_index(plan->ops, i);

		if (op->kind == MOUNT_OP_PIN && strcmp(op->dest, dest) == 0) {
			op->flags |= flags;
			return;
		}
	}
	add(plan, MOUNT_OP_PIN, NULL, dest, flags, "settings file kept");
}

/* Where the host file CANONICAL appears writable in the sandbox: one
 * destination per read-write bind whose source holds it.  Each entry is a
 * pair (root of the bind inside, the file inside). */
static GPtrArray *
writable_places(const MountPlan *plan, const char *canonical)
{
	GPtrArray *places = g_ptr_array_new_with_free_func(g_free);

	for (guint i = 0; i < plan->ops->len; i++) {
		const MountOp *op = g_ptr_array_index(plan->ops, i);
		const char *rel;

		if (op->kind != MOUNT_OP_BIND || op->flags & (MOUNT_OP_F_RDONLY | MOUNT_OP_F_FILE) ||
		    !op->source || strcmp(op->source, canonical) == 0 ||
		    !mount_path_is_under(canonical, op->source))
			continue;
		rel = canonical + (strcmp(op->source, "/") == 0 ? 0 : strlen(op->source));
		g_ptr_array_add(places, g_strdup(op->dest));
		g_ptr_array_add(places, g_build_filename(op->dest, rel, NULL));
	}
	return places;
}

static void
protect_settings_file(MountPlan *plan, const HostView *view, const char *path)
{
	const HostPath *hp = host_view_lookup(view, path);
	g_autoptr(GPtrArray) places = NULL;

	/* A file that did not resolve was refused when it was opened. */
	if (!hp || hp->err || hp->type != HOST_TYPE_FILE || !hp->canonical)
		return;
	places = writable_places(plan, hp->canonical);
	for (guint i = 0; i + 1 < places->len; i += 2) {
		const char *root = g_ptr_array_index(places, i);
		const char *file = g_ptr_array_index(places, i + 1);
		const char *slash = file + strlen(root);

		/* Every directory between the bind and the file becomes a
		 * mount point (rename and rmdir then fail with EBUSY), so the
		 * file cannot be moved away and replaced by another. */
		while ((slash = strchr(slash + 1, '/'))) {
			g_autofree char *dir = g_strndup(file, (gsize)(slash - file));

			add_pin(plan, dir, 0);
		}
		add_pin(plan, file, MOUNT_OP_F_RDONLY | MOUNT_OP_F_FILE);
	}
}

static void
protect_settings_files(MountPlan *plan, const SbxConfig *cfg, const HostView *view)
{
	const char *single[] = { cfg->debug_log, cfg->log_file, cfg->learn_file };

	for (guint i = 0; i < cfg->arg_files->len; i++)
		protect_settings_file(plan, view, g_ptr_array_index(cfg->arg_files, i));
	for (guint i = 0; i < cfg->allow_files->len; i++)
		protect_settings_file(plan, view, g_ptr_array_index(cfg->allow_files, i));
	for (gsize i = 0; i < G_N_ELEMENTS(single); i++)
		if (single[i])
			protect_settings_file(plan, view, single[i]);
}

MountPlan *
mount_plan_build(const SbxConfig *cfg, const HostView *view, GError **error)
{
	g_autoptr(MountPlan) plan = g_new0(MountPlan, 1);
	const char *wd;
	const char *dir = NULL;

	plan->mode = cfg->fs_mode;
	plan->ops = g_ptr_array_new_with_free_func((GDestroyNotify)mount_op_free);
	plan->warnings = g_ptr_array_new_with_free_func(g_free);
	plan->redirects = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	plan->tmpfs_size = cfg->tmpfs_size ? cfg->tmpfs_size :
			   view->mem_total ? view->mem_total / SBX_DEFAULT_TMPFS_RAM_DIVISOR :
			   SBX_FALLBACK_TMPFS_SIZE;
	plan->keep_overlay = cfg->keep_overlay;
	plan->run_lock_fd = -1;

	if (cfg->workdir)
		wd = checked_path(view, "-W", cfg->workdir, TRUE, error);
	else
		wd = view->cwd;
	if (cfg->workdir && !wd)
		return NULL;
	if (!wd || !g_path_is_absolute(wd)) {
		g_set_error(error, SBX_ERROR, SBX_ERR_INVALID_FOLDER,
			    "the current directory cannot be determined (use -W DIR)");
		return NULL;
	}
	if (cfg->overlay_dir && cfg->fs_mode != SBX_FS_CUSTOM) {
		g_set_error(error, SBX_ERROR, SBX_ERR_OVERLAY_NOT_SET,
			    "-d %s: an overlay directory needs custom mode (-o ROOT)", cfg->overlay_dir);
		return NULL;
	}
	if (!validate_mounts(cfg, view, error))
		return NULL;

	switch (cfg->fs_mode) {
	case SBX_FS_DEFAULT:
		plan_default(plan, cfg, view, wd);
		break;
	case SBX_FS_CUSTOM:
		if (!(dir = checked_path(view, "-o", cfg->custom_root, TRUE, error)))
			return NULL;
		if (cfg->overlay_dir &&
		    !checked_path(view, "-d", cfg->overlay_dir, TRUE, error))
			return NULL;
		/* Upper directories inside a lower layer would overlap it. */
		if (cfg->overlay_dir && !view->custom_root_empty &&
		    mount_path_is_under(checked_path(view, "-d", cfg->overlay_dir, TRUE, NULL), dir)) {
			g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_CONFIG,
				    "-d %s is inside -o %s, which is not empty (its content is the "
				    "sandbox's /); put the overlay directory outside it, or use an "
				    "empty ROOT", cfg->overlay_dir, cfg->custom_root);
			return NULL;
		}
		plan_custom(plan, cfg, view, dir, wd);
		break;
	case SBX_FS_HERMETIC:
		if (!(dir = checked_path(view, "-h", cfg->hermetic_dir, TRUE, error)))
			return NULL;
		plan_hermetic(plan, cfg, view, dir, wd);
		break;
	case SBX_FS_READONLY:
		plan_readonly(plan, cfg, view, wd);
		break;
	default:
		g_set_error(error, SBX_ERROR, SBX_ERR_INVALID_MODE, "unknown filesystem mode %d",
			    (int)cfg->fs_mode);
		return NULL;
	}
	protect_settings_files(plan, cfg, view);
	return g_steal_pointer(&plan);
}

void
fs_plan_add_file(MountPlan *plan, const char *dest, const char *contents)
{
	const char *real = g_hash_table_lookup(plan->redirects, dest);
	MountOp *op;

	/* A generated file replaces whatever the plan would have shown at that
	 * place (e.g. the host's resolv.conf target bound into /run). */
	if (real)
		dest = real;
	for (guint i = 0; i < plan->ops->len; i++) {
		MountOp *old = g_ptr_array_index(plan->ops, i);

		if (strcmp(old->dest, dest) == 0 && old->flags & MOUNT_OP_F_FILE) {
			g_ptr_array_remove_index(plan->ops, i);
			break;
		}
	}
	op = op_new(MOUNT_OP_FILE, NULL, dest, MOUNT_OP_F_RDONLY | MOUNT_OP_F_FILE, "generated");
	op->contents = g_strdup(contents);
	mount_plan_insert(plan, op);
}
