/* SPDX-License-Identifier: MIT
 *
 * hostview.c — gather the host facts the mount plan decides from.
 * See hostview.h for why the sweep never stats into network filesystems.
 */
#include "mounts/hostview.h"
#include "common/error.h"
#include "common/fdutil.h"
#include "common/safepath.h"
#include "common/userdb.h"

#include <dirent.h>
#include <limits.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void
host_top_free(gpointer p)
{
	HostTopEntry *e = p;

	g_free(e->name);
	g_free(e->link_target);
	g_free(e);
}

static void
host_mount_free(gpointer p)
{
	HostMount *m = p;

	g_free(m->mount_point);
	g_free(m->fs_type);
	g_free(m);
}

static void
host_path_free(gpointer p)
{
	HostPath *hp = p;

	g_free(hp->path);
	g_free(hp->canonical);
	g_free(hp->link);
	g_free(hp->link_target);
	g_free(hp);
}

HostView *
host_view_new(void)
{
	HostView *view = g_new0(HostView, 1);

	view->top = g_ptr_array_new_with_free_func(host_top_free);
	view->mounts = g_ptr_array_new_with_free_func(host_mount_free);
	view->paths = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, host_path_free);
	view->uid = getuid();
	return view;
}

void
host_view_free(HostView *view)
{
	if (!view)
		return;
	g_free(view->cwd);
	g_free(view->home);
	g_free(view->pw_home);
	g_ptr_array_unref(view->top);
	g_ptr_array_unref(view->mounts);
	g_hash_table_unref(view->paths);
	g_free(view->resolv_target);
	g_free(view);
}

void
host_view_add_top(HostView *view, const char *name, HostType type, const char *link_target)
{
	HostTopEntry *e = g_new0(HostTopEntry, 1);

	e->name = g_strdup(name);
	e->type = type;
	e->link_target = g_strdup(link_target);
	g_ptr_array_add(view->top, e);
}

void
host_view_add_mount(HostView *view, const char *mount_point, const char *fs_type)
{
	HostMount *m = g_new0(HostMount, 1);

	m->mount_point = g_strdup(mount_point);
	m->fs_type = g_strdup(fs_type);
	g_ptr_array_add(view->mounts, m);
}

void
host_view_add_path(HostView *view, const char *path, const char *canonical,
		   HostType type, int err)
{
	HostPath *hp = g_new0(HostPath, 1);

	hp->path = g_strdup(path);
	hp->canonical = g_strdup(canonical);
	hp->type = type;
	hp->err = err;
	g_hash_table_replace(view->paths, hp->path, hp);
}

void
host_view_add_planted_link(HostView *view, const char *path, const char *link,
			   const char *target)
{
	HostPath *hp;

	host_view_add_path(view, path, NULL, HOST_TYPE_MISSING, EPERM);
	hp = g_hash_table_lookup(view->paths, path);
	hp->link = g_strdup(link);
	hp->link_target = g_strdup(target);
}

const HostPath *
host_view_lookup(const HostView *view, const char *path)
{
	return path ? g_hash_table_lookup(view->paths, path) : NULL;
}

gboolean
host_fs_type_is_remote(const char *fs_type)
{
	static const char *const remote[] = {
		"autofs", "nfs", "nfs4", "cifs", "smb3", "smbfs", "fuse", "fuseblk",
		"9p", "ceph", "glusterfs", "afs", "lustre", "gpfs", "sshfs", "davfs",
	};

	if (!fs_type)
		return FALSE;
	if (g_str_has_prefix(fs_type, "fuse."))
		return TRUE;
	for (gsize i = 0; i < G_N_ELEMENTS(remote); i++)
		if (strcmp(fs_type, remote[i]) == 0)
			return TRUE;
	return FALSE;
}

static gboolean
path_is_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (strcmp(dir, "/") == 0)
		return path[0] == '/';
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

const HostMount *
host_view_mount_of(const HostView *view, const char *path)
{
	const HostMount *best = NULL;

	for (guint i = 0; i < view->mounts->len; i++) {
		const HostMount *m = g_ptr_array_index(view->mounts, i);

		/* Later entries of the same mount point are stacked on top:
		 * ">=" keeps the last one. */
		if (path_is_under(path, m->mount_point) &&
		    (!best || strlen(m->mount_point) >= strlen(best->mount_point)))
			best = m;
	}
	return best;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static char *
unescape_mountinfo(const char *s)
{
	GString *out = g_string_new(NULL);

	for (; *s; s++) {
		if (s[0] == '\\' && g_ascii_isdigit(s[1]) && g_ascii_isdigit(s[2]) &&
		    g_ascii_isdigit(s[3])) {
			g_string_append_c(out, (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0')));
			s += 3;
		} else {
			g_string_append_c(out, *s);
		}
	}
	return g_string_free(out, FALSE);
}

void
host_view_parse_mountinfo(HostView *view, const char *text)
{
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

	for (char **l = lines; *l; l++) {
		g_auto(GStrv) f = g_strsplit(*l, " ", -1);
		guint n = g_strv_length(f), sep;
		HostMount *m;

		if (n < 10)
			continue;
		/* id parent maj:min root mountpoint opts [optional…] - fstype source superopts */
		for (sep = 6; sep < n && strcmp(f[sep], "-") != 0; sep++)
			;
		if (sep + 1 >= n)
			continue;
		m = g_new0(HostMount, 1);
		m->mount_point = unescape_mountinfo(f[4]);
		m->fs_type = g_strdup(f[sep + 1]);
		m->read_only = g_str_has_prefix(f[5], "ro,") || strcmp(f[5], "ro") == 0;
		g_ptr_array_add(view->mounts, m);
	}
}

static HostType
type_of_mode(mode_t mode)
{
	if (S_ISDIR(mode))
		return HOST_TYPE_DIR;
	if (S_ISREG(mode))
		return HOST_TYPE_FILE;
	if (S_ISLNK(mode))
		return HOST_TYPE_SYMLINK;
	return HOST_TYPE_OTHER;
}

/* Canonical path of an O_PATH fd: the kernel's own answer, so no userspace
 * re-walk can be raced. */
static char *
fd_path(int fd)
{
	char link[64];

	g_snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	return g_file_read_link(link, NULL);
}

/* Walk DIR_OR_PATH with the planted-link rule (safepath.h).  FALSE when
 * the walk refused a link or failed: PATH is then recorded with the
 * reason.  *RESOLVED is the walk's canonical path, which the caller opens
 * with O_NOFOLLOW and compares with the kernel's answer. */
static gboolean
walk_user_path(HostView *view, const char *path, const char *dir_or_path, char **resolved)
{
	SbxPathInfo info;

	if (sbx_path_resolve(dir_or_path, FALSE, &info)) {
		*resolved = g_steal_pointer(&info.canonical);
		sbx_path_info_clear(&info);
		return TRUE;
	}
	if (info.link)
		host_view_add_planted_link(view, path, info.link, info.target);
	else
		host_view_add_path(view, path, NULL, HOST_TYPE_MISSING, info.err);
	sbx_path_info_clear(&info);
	return FALSE;
}

/* Open the walk's answer RESOLVED (no links left in it) and check that the
 * kernel agrees: a component swapped for a link in between (a concurrent
 * sandbox) shows as a different path. */
static int
open_resolved(const char *resolved, int flags, char **canonical)
{
	int fd = open(resolved, flags | O_PATH | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return -1;
	*canonical = fd_path(fd);
	if (!*canonical || strcmp(*canonical, resolved) != 0) {
		close(fd);
		g_clear_pointer(canonical, g_free);
		errno = ELOOP;
		return -1;
	}
	return fd;
}

const HostPath *
host_view_resolve(HostView *view, const char *path, gboolean parent_only)
{
	const HostPath *known = host_view_lookup(view, path);
	autoclose int fd = -1;
	struct stat st;
	g_autofree char *canonical = NULL;
	g_autofree char *resolved = NULL;

	if (known)
		return known;
	if (!g_path_is_absolute(path)) {
		host_view_add_path(view, path, NULL, HOST_TYPE_MISSING, EINVAL);
		return host_view_lookup(view, path);
	}
	if (parent_only) {
		g_autofree char *dir = g_path_get_dirname(path);
		g_autofree char *base = g_path_get_basename(path);
		autoclose int dfd = -1;
		g_autofree char *cdir = NULL;
		HostType type = HOST_TYPE_MISSING;

		if (!walk_user_path(view, path, dir, &resolved))
			return host_view_lookup(view, path);
		dfd = open_resolved(resolved, O_DIRECTORY, &cdir);
		if (dfd < 0) {
			host_view_add_path(view, path, NULL, HOST_TYPE_MISSING,
					   dfd < 0 ? errno : EIO);
			return host_view_lookup(view, path);
		}
		/* The output file itself must not be a symlink (O_NOFOLLOW at apply). */
		if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0)
			type = type_of_mode(st.st_mode);
		canonical = g_build_filename(cdir, base, NULL);
		host_view_add_path(view, path, canonical, type, 0);
		return host_view_lookup(view, path);
	}
	if (!walk_user_path(view, path, path, &resolved))
		return host_view_lookup(view, path);
	fd = open_resolved(resolved, 0, &canonical);
	if (fd < 0 || fstat(fd, &st) < 0) {
		host_view_add_path(view, path, NULL, HOST_TYPE_MISSING, errno ? errno : EIO);
		return host_view_lookup(view, path);
	}
	host_view_add_path(view, path, canonical, type_of_mode(st.st_mode), 0);
	return host_view_lookup(view, path);
}

static gint
compare_top(gconstpointer a, gconstpointer b)
{
	const HostTopEntry *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

static gboolean
gather_top(HostView *view, GError **error)
{
	DIR *dir = opendir("/");
	struct dirent *de;

	if (!dir)
		return sbx_set_errno(error, errno, "read directory /");
	while ((de = readdir(dir))) {
		g_autofree char *full = NULL;
		g_autofree char *target = NULL;
		const HostMount *m;
		HostType type;
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		full = g_strconcat("/", de->d_name, NULL);
		m = host_view_mount_of(view, full);
		if (m && strcmp(m->mount_point, full) == 0 && host_fs_type_is_remote(m->fs_type)) {
			/* A network or automount point: it is a directory, and we
			 * must not look further. */
			type = HOST_TYPE_DIR;
		} else if (de->d_type == DT_DIR) {
			type = HOST_TYPE_DIR;
		} else if (de->d_type == DT_LNK) {
			type = HOST_TYPE_SYMLINK;
		} else if (de->d_type == DT_REG) {
			type = HOST_TYPE_FILE;
		} else if (fstatat(AT_FDCWD, full, &st, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT) == 0) {
			type = type_of_mode(st.st_mode);
		} else {
			continue;
		}
		if (type == HOST_TYPE_SYMLINK && !(target = g_file_read_link(full, NULL)))
			continue;
		host_view_add_top(view, de->d_name, type, target);
	}
	closedir(dir);
	/* readdir order is arbitrary; a sorted plan reads better in -D logs. */
	g_ptr_array_sort(view->top, compare_top);
	return TRUE;
}

/* The canonical directory PATH names, or NULL.  Every link is followed
 * here: this is for the homes the plan hides, and hiding must reach the
 * real directory whoever made the link.  Not recorded in view->paths, so a
 * path option naming the same path still gets the planted-link check. */
static char *
canonical_dir(const char *path)
{
	g_autofree char *real = NULL;
	char *r;

	if (!path || !g_path_is_absolute(path))
		return NULL;
	r = realpath(path, NULL);
	real = g_strdup(r);
	free(r);
	if (real && g_file_test(real, G_FILE_TEST_IS_DIR))
		return g_steal_pointer(&real);
	return NULL;
}

gboolean
host_view_gather(HostView *view, gboolean top_entries, GError **error)
{
	g_autofree char *mountinfo = NULL;
	char buf[PATH_MAX];
	long pages, page_size;
	const char *home = g_getenv("HOME");
	g_autoptr(GError) local = NULL;
	g_autofree char *pw_home = NULL;

	if (!g_file_get_contents("/proc/self/mountinfo", &mountinfo, NULL, &local)) {
		g_set_error(error, SBX_ERROR, SBX_ERR_OS, "read /proc/self/mountinfo: %s",
			    local->message);
		return FALSE;
	}
	host_view_parse_mountinfo(view, mountinfo);
	view->uid = getuid();
	pages = sysconf(_SC_PHYS_PAGES);
	page_size = sysconf(_SC_PAGESIZE);
	if (pages > 0 && page_size > 0)
		view->mem_total = (guint64)pages * (guint64)page_size;
	/* getcwd(), not $PWD (g_get_current_dir() prefers it): the kernel's
	 * answer has no links in it, whichever way the user got there. */
	if (getcwd(buf, sizeof buf))
		view->cwd = g_strdup(buf);
	else
		view->cwd = g_get_current_dir();
	view->home = canonical_dir(home);
	/* $HOME is the caller's to unset or point elsewhere; the real home
	 * (keys, dotfiles) must be hidden all the same. */
	if (!sbx_userdb_home(view->uid, &pw_home, error))
		return FALSE;
	if (pw_home && home && strcmp(pw_home, home) == 0)
		view->pw_home = g_strdup(view->home);   /* the usual case: one lookup */
	else if (pw_home)
		view->pw_home = canonical_dir(pw_home);
	if (top_entries && !gather_top(view, error))
		return FALSE;
	if (g_file_test("/etc/resolv.conf", G_FILE_TEST_IS_SYMLINK)) {
		char *real = realpath("/etc/resolv.conf", NULL);

		view->resolv_target = g_strdup(real);
		free(real);
	}
	return TRUE;
}
