/* SPDX-License-Identifier: MIT
 *
 * fs.c — the filesystem stage's entry points (fs.h): gather host facts,
 * build the plan, hand it to the applier, clean up -d directories.
 */
#include "mounts/fs.h"
#include "mounts/hostview.h"
#include "mounts/mount-apply.h"
#include "mounts/mount-plan.h"
#include "common/error.h"
#include "common/fdutil.h"
#include "common/log.h"
#include "common/safepath.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static void remove_tree(int parent, const char *name, const char *root);

static void
resolve_config_paths(HostView *view, const SbxConfig *cfg)
{
	const char *dirs[] = { cfg->workdir, cfg->custom_root, cfg->overlay_dir, cfg->hermetic_dir };

	for (gsize i = 0; i < G_N_ELEMENTS(dirs); i++)
		if (dirs[i])
			host_view_resolve(view, dirs[i], FALSE);
	for (guint i = 0; i < cfg->mounts->len; i++) {
		const SbxMountOpt *m = &g_array_index(cfg->mounts, SbxMountOpt, i);

		if (m->path)
			host_view_resolve(view, m->path, m->kind == SBX_MOUNT_EMPTY_FILE);
	}
	/* The settings files, so the plan can keep them read-only inside. */
	for (guint i = 0; i < cfg->arg_files->len; i++)
		host_view_resolve(view, g_ptr_array_index(cfg->arg_files, i), FALSE);
	for (guint i = 0; i < cfg->allow_files->len; i++)
		host_view_resolve(view, g_ptr_array_index(cfg->allow_files, i), FALSE);
	if (cfg->debug_log)
		host_view_resolve(view, cfg->debug_log, FALSE);
	if (cfg->log_file)
		host_view_resolve(view, cfg->log_file, FALSE);
	if (cfg->learn_file)
		host_view_resolve(view, cfg->learn_file, FALSE);
}

/* --log is written later, by the network stage, and --learn by the
 * launcher at exit (net/learn.h); create them now, the same safe way
 * (common/safepath.h), so that the plan finds them and keeps them
 * read-only inside (issue 14): what the next run reads is never what the
 * sandbox wrote.  An existing file is left as it is.  -D is open already. */
static gboolean
create_written_settings(const SbxConfig *cfg, GError **error)
{
	const char *files[] = { cfg->log_file, cfg->learn_file };
	const char *what[] = { "--log", "--learn" };

	for (gsize i = 0; i < G_N_ELEMENTS(files); i++) {
		int fd;

		if (!files[i])
			continue;
		fd = sbx_open_settings_file(files[i], O_WRONLY | O_CREAT | O_APPEND, what[i], error);
		if (fd < 0)
			return FALSE;
		close(fd);
	}
	return TRUE;
}

/* ---- -d run directories ----------------------------------------------------
 *
 * One run directory per sandbox under -d (mini-sandbox-XXXXXX), so that
 * concurrent sandboxes never share upper dirs and cleanup removes only
 * ours.  A launcher killed with SIGKILL cannot clean up, so each run
 * directory holds RUN_LOCK, flock()ed by the launcher for its whole life
 * (the fd is CLOEXEC: the payload never holds it; the sandbox's pid 1, a
 * fork, shares it and dies with the launcher).  The next run with the same
 * -d removes every run directory whose lock is free.  --keep-overlay runs
 * get no lock file: the user asked to keep that directory. */
#define RUN_DIR_PREFIX "mini-sandbox-"
#define RUN_LOCK "launcher.lock"
#define RUN_LOCK_NEW "launcher.lock.new"

/* A name g_mkdtemp_full() made from RUN_DIR_PREFIX "XXXXXX". */
static gboolean
is_run_dir_name(const char *name)
{
	const char *x = name + strlen(RUN_DIR_PREFIX);

	if (!g_str_has_prefix(name, RUN_DIR_PREFIX) || strlen(x) != 6)
		return FALSE;
	for (; *x; x++)
		if (!g_ascii_isalnum(*x))
			return FALSE;
	return TRUE;
}

/* Remove DFD/NAME (in DIR) if it is a run directory of ours whose launcher
 * is gone.  Never follows a symlink: NAME is opened O_NOFOLLOW and the
 * removal works on fds below DFD. */
static void
remove_if_stale(int dfd, const char *dir, const char *name)
{
	autoclose int run = -1;
	autoclose int lock = -1;
	g_autofree char *path = NULL;
	struct stat st;

	if (!is_run_dir_name(name) || fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISDIR(st.st_mode) || st.st_uid != geteuid())
		return;
	run = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (run < 0)
		return;
	/* No lock file: kept with --keep-overlay, or not ours. */
	lock = openat(run, RUN_LOCK, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB) < 0)
		return;
	path = g_build_filename(dir, name, NULL);
	sbx_debug("-d: removing %s: the mini-sandbox that made it is gone (its %s is not locked)",
		  path, RUN_LOCK);
	remove_tree(dfd, name, path);
}

static void
remove_stale_run_dirs(const char *dir)
{
	autoclose int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int fd = dfd >= 0 ? dup(dfd) : -1;
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	const struct dirent *de;

	if (!d) {
		sbx_debug("-d: cannot look for stale run directories in %s: %s", dir,
			  g_strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d)))
		remove_if_stale(dfd, dir, de->d_name);
	closedir(d);
}

/* Create RUN_LOCK in RUN_DIR already locked: under a temporary name first,
 * so that a concurrent sweep never sees it unlocked. */
static int
take_run_lock(const char *run_dir, GError **error)
{
	autoclose int run = open(run_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	autoclose int lock = -1;

	if (run >= 0)
		lock = openat(run, RUN_LOCK_NEW, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			      0600);
	if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB) < 0 ||
	    renameat(run, RUN_LOCK_NEW, run, RUN_LOCK) < 0) {
		sbx_set_errno(error, errno, "-d: create the lock file %s/%s", run_dir, RUN_LOCK);
		return -1;
	}
	return sbx_steal_fd(&lock);
}

static gboolean
make_run_dir(MountPlan *plan, const SbxConfig *cfg, const char *dir, GError **error)
{
	g_autofree char *tmpl = g_build_filename(dir, RUN_DIR_PREFIX "XXXXXX", NULL);

	remove_stale_run_dirs(dir);
	if (!g_mkdtemp_full(tmpl, 0700))
		return sbx_set_errno(error, errno, "-d %s: create the overlay directory",
				     cfg->overlay_dir);
	plan->overlay_dir = g_steal_pointer(&tmpl);
	if (cfg->keep_overlay)
		return TRUE;
	plan->run_lock_fd = take_run_lock(plan->overlay_dir, error);
	if (plan->run_lock_fd < 0) {
		fs_cleanup_after(plan);
		return FALSE;
	}
	return TRUE;
}

/* The original's -o ROOT and -d DIR are base directories it creates when
 * missing; so do we (with their parents), before the host view is taken. */
static gboolean
create_custom_dirs(const SbxConfig *cfg, GError **error)
{
	const char *dirs[][2] = { { "-o", cfg->custom_root }, { "-d", cfg->overlay_dir } };

	if (cfg->fs_mode != SBX_FS_CUSTOM)
		return TRUE;
	for (gsize i = 0; i < G_N_ELEMENTS(dirs); i++) {
		const char *dir = dirs[i][1];

		if (dir && g_path_is_absolute(dir) && g_mkdir_with_parents(dir, 0755) < 0)
			return sbx_set_errno(error, errno, "%s %s: create the directory", dirs[i][0],
					     dir);
	}
	return TRUE;
}

/* Does ROOT hold nothing but -d run directories (mini-sandbox-XXXXXX, when
 * -d is ROOT itself, as in the original's docs)?  Then it is a fresh root,
 * not a lower layer. */
static gboolean
custom_root_is_empty(const HostView *view, const SbxConfig *cfg)
{
	const HostPath *hp;
	g_autoptr(GDir) dir = NULL;
	const char *name;

	if (cfg->fs_mode != SBX_FS_CUSTOM || !cfg->custom_root)
		return FALSE;
	hp = host_view_lookup(view, cfg->custom_root);
	if (!hp || hp->err || !hp->canonical || !(dir = g_dir_open(hp->canonical, 0, NULL)))
		return FALSE;
	while ((name = g_dir_read_name(dir)))
		if (!is_run_dir_name(name))
			return FALSE;
	return TRUE;
}

MountPlan *
fs_plan_for_config(const SbxConfig *cfg, GError **error)
{
	g_autoptr(HostView) view = host_view_new();
	g_autoptr(MountPlan) plan = NULL;

	if (!create_written_settings(cfg, error) || !create_custom_dirs(cfg, error) ||
	    !host_view_gather(view, cfg->fs_mode == SBX_FS_DEFAULT, error))
		return NULL;
	resolve_config_paths(view, cfg);
	view->custom_root_empty = custom_root_is_empty(view, cfg);
	plan = mount_plan_build(cfg, view, error);
	if (!plan)
		return NULL;
	if (cfg->overlay_dir &&
	    !make_run_dir(plan, cfg, host_view_lookup(view, cfg->overlay_dir)->canonical, error))
		return NULL;
	for (guint i = 0; i < plan->warnings->len; i++)
		sbx_warn("%s", (const char *)g_ptr_array_index(plan->warnings, i));
	for (guint i = 0; sbx_debug_enabled() && i < plan->ops->len; i++) {
		g_autofree char *d = mount_op_describe(g_ptr_array_index(plan->ops, i));

		sbx_debug("plan: %s", d);
	}
	return g_steal_pointer(&plan);
}

gboolean
fs_apply_plan(const MountPlan *plan, GArray *uppers, GError **error)
{
	return mount_apply_plan(plan, uppers, error);
}

/* One directory on the way down: its name in its parent, and who it is, so
 * that ".." can be checked on the way back up. */
typedef struct {
	char *name;
	dev_t dev;
	ino_t ino;
} RemoveLevel;

static void
remove_level_clear(gpointer p)
{
	g_free(((RemoveLevel *)p)->name);
}

/* Open DIRFD/NAME as a directory without following symlinks, after making
 * it searchable and writable (overlay's work/work is mode 000). */
static int
open_subdir(int dirfd, const char *name, struct stat *st)
{
	int fd;

	fchmodat(dirfd, name, 0700, 0);
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0 && fstat(fd, st) < 0) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* Unlink every non-directory in DIRFD; *SUBDIR = the first directory met
 * (NULL when DIRFD is now empty).  On failure, *BAD names the entry. */
static gboolean
empty_files(int dirfd, char **subdir, char **bad)
{
	int fd = dup(dirfd);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	gboolean ok = TRUE;
	int saved;

	*subdir = NULL;
	if (!dir) {
		saved = errno;
		if (fd >= 0)
			close(fd);
		errno = saved;
		*bad = g_strdup(".");
		return FALSE;
	}
	rewinddir(dir);
	while (ok && !*subdir && (de = readdir(dir))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(dirfd, de->d_name, 0) == 0 || errno == ENOENT)
			continue;
		if (errno == EISDIR)
			*subdir = g_strdup(de->d_name);
		else {
			*bad = g_strdup(de->d_name);
			ok = FALSE;
		}
	}
	saved = errno;
	closedir(dir);
	errno = saved;
	return ok;
}

static char *
stack_path(const char *root, GArray *stack, const char *leaf)
{
	GString *s = g_string_new(root);

	for (guint i = 1; i < stack->len; i++)
		g_string_append_printf(s, "/%s", g_array_index(stack, RemoveLevel, i).name);
	if (leaf)
		g_string_append_printf(s, "/%s", leaf);
	return g_string_free(s, FALSE);
}

/* rm -rf ROOT (named NAME in PARENT) that never follows symlinks and holds
 * one directory fd at a time whatever the depth: a recursion holding fds
 * per level gave up silently on trees deeper than the fd limit.  Warns,
 * naming the directory, when something cannot be removed. */
static void
remove_tree(int parent, const char *name, const char *root)
{
	g_autoptr(GArray) stack = g_array_new(FALSE, FALSE, sizeof(RemoveLevel));
	g_autofree char *bad = NULL;
	autoclose int cur = -1;
	RemoveLevel lv;
	struct stat st;

	g_array_set_clear_func(stack, remove_level_clear);
	if (unlinkat(parent, name, 0) == 0 || errno == ENOENT)
		return;
	if (errno != EISDIR || (cur = open_subdir(parent, name, &st)) < 0)
		goto fail;
	lv = (RemoveLevel){ g_strdup(name), st.st_dev, st.st_ino };
	g_array_append_val(stack, lv);
	while (stack->len > 0) {
		g_autofree char *sub = NULL;
		const RemoveLevel *up;
		int fd;

		if (!empty_files(cur, &sub, &bad))
			goto fail;
		if (sub) {
			if ((fd = open_subdir(cur, sub, &st)) < 0) {
				bad = g_steal_pointer(&sub);
				goto fail;
			}
			close(cur);
			cur = fd;
			lv = (RemoveLevel){ g_steal_pointer(&sub), st.st_dev, st.st_ino };
			g_array_append_val(stack, lv);
			continue;
		}
		/* CUR is empty: climb to its parent and remove it there. */
		if (stack->len == 1) {
			if (unlinkat(parent, name, AT_REMOVEDIR) < 0)
				goto fail;
			return;
		}
		fd = openat(cur, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		up = &g_array_index(stack, RemoveLevel, stack->len - 2);
		if (fd < 0 || fstat(fd, &st) < 0 || st.st_dev != up->dev || st.st_ino != up->ino) {
			/* moved under us: do not remove anything outside ROOT */
			if (fd >= 0)
				close(fd);
			errno = ESTALE;
			goto fail;
		}
		close(cur);
		cur = fd;
		bad = g_strdup(g_array_index(stack, RemoveLevel, stack->len - 1).name);
		g_array_set_size(stack, stack->len - 1);
		if (unlinkat(cur, bad, AT_REMOVEDIR) < 0)
			goto fail;
		g_clear_pointer(&bad, g_free);
	}
	return;
fail:
	{
		int saved = errno;
		g_autofree char *where = stack_path(root, stack, bad);

		sbx_warn("-d: cannot remove %s (%s); %s is left behind", where, g_strerror(saved),
			 root);
	}
}

void
fs_cleanup_after(const MountPlan *plan)
{
	g_autofree char *parent = NULL;
	g_autofree char *base = NULL;
	autoclose int dfd = -1;

	if (!plan || !plan->overlay_dir)
		return;
	if (plan->keep_overlay) {
		sbx_warn("overlay changes kept in %s", plan->overlay_dir);
		return;
	}
	parent = g_path_get_dirname(plan->overlay_dir);
	base = g_path_get_basename(plan->overlay_dir);
	dfd = open(parent, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		sbx_warn("-d: cannot open %s (%s); %s is left behind", parent, g_strerror(errno),
			 plan->overlay_dir);
	else
		remove_tree(dfd, base, plan->overlay_dir);
}
