/* SPDX-License-Identifier: MIT
 *
 * safepath.c — resolve user paths without following planted symbolic
 * links; open the launcher's settings files safely.  See safepath.h for
 * the trust rule and why it is what it is.
 */
#include "common/safepath.h"
#include "common/error.h"
#include "common/fdutil.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The kernel's own limit on links followed in one lookup (MAXSYMLINKS). */
#define SBX_MAX_LINKS 40

void
sbx_path_info_clear(SbxPathInfo *info)
{
	g_clear_pointer(&info->canonical, g_free);
	g_clear_pointer(&info->link, g_free);
	g_clear_pointer(&info->target, g_free);
	info->err = 0;
	info->missing = FALSE;
}

gboolean
sbx_symlink_is_trusted(int dir_fd, const char *dir_path, const struct stat *link_st)
{
	uid_t uid = geteuid();
	struct stat dir_st;

	/* Owned by the caller: the caller (or a sandbox, as the caller) made
	 * it, or could chmod the directory back after planting. */
	if (link_st->st_uid == uid)
		return FALSE;
	if (fstat(dir_fd, &dir_st) < 0 || dir_st.st_uid == uid)
		return FALSE;
	/* Group or other write bits, ACLs: whatever the kernel says. */
	return faccessat(AT_FDCWD, dir_path, W_OK, AT_EACCESS) < 0 && errno != ENOENT;
}

/* Push the components of PATH onto TODO, last first, so the next one to
 * walk is at the end. */
static void
push_components(GPtrArray *todo, const char *path)
{
	g_auto(GStrv) parts = g_strsplit(path, "/", -1);
	guint n = g_strv_length(parts);

	for (guint i = n; i > 0; i--)
		if (*parts[i - 1])
			g_ptr_array_add(todo, g_strdup(parts[i - 1]));
}

static void
canonical_up(GString *cur)
{
	char *slash = strrchr(cur->str, '/');

	if (slash && slash != cur->str)
		g_string_truncate(cur, (gsize)(slash - cur->str));
	else
		g_string_assign(cur, "/");
}

static void
canonical_down(GString *cur, const char *name)
{
	if (cur->len > 1)
		g_string_append_c(cur, '/');
	g_string_append(cur, name);
}

static gboolean
walk_fail(SbxPathInfo *out, int err)
{
	out->err = err ? err : EIO;
	return FALSE;
}

/* A link at DIR/NAME (fd LINK_FD, stat LINK_ST): refuse it, or queue its
 * target.  *DIR is reset to "/" for an absolute target. */
static gboolean
walk_link(int *dir, GString *cur, const char *name, int link_fd, const struct stat *link_st,
	  GPtrArray *todo, SbxPathInfo *out)
{
	char buf[4096];
	ssize_t n = readlinkat(link_fd, "", buf, sizeof buf - 1);

	if (n < 0)
		return walk_fail(out, errno);
	buf[n] = '\0';
	if (!sbx_symlink_is_trusted(*dir, cur->str, link_st)) {
		out->link = g_build_filename(cur->str, name, NULL);
		out->target = g_strdup(buf);
		return walk_fail(out, EPERM);
	}
	push_components(todo, buf);
	if (buf[0] == '/') {
		int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);

		if (root < 0)
			return walk_fail(out, errno);
		close(*dir);
		*dir = root;
		g_string_assign(cur, "/");
	}
	return TRUE;
}

gboolean
sbx_path_resolve(const char *path, gboolean may_be_missing, SbxPathInfo *out)
{
	g_autoptr(GPtrArray) todo = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GString) cur = g_string_new("/");
	autoclose int dir = -1;
	guint links = 0;

	memset(out, 0, sizeof *out);
	if (!path || !g_path_is_absolute(path))
		return walk_fail(out, EINVAL);
	dir = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return walk_fail(out, errno);
	push_components(todo, path);
	while (todo->len > 0) {
		g_autofree char *name = g_ptr_array_steal_index(todo, todo->len - 1);
		gboolean last = todo->len == 0;
		autoclose int fd = -1;
		struct stat st;

		if (strcmp(name, ".") == 0)
			continue;
		if (strcmp(name, "..") == 0) {
			/* cur has no links in it, so its parent is the real one */
			fd = openat(dir, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
			if (fd < 0)
				return walk_fail(out, errno);
			close(dir);
			dir = sbx_steal_fd(&fd);
			canonical_up(cur);
			continue;
		}
		fd = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT && last && may_be_missing) {
			canonical_down(cur, name);
			out->missing = TRUE;
			break;
		}
		if (fd < 0 || fstat(fd, &st) < 0)
			return walk_fail(out, errno);
		if (S_ISLNK(st.st_mode)) {
			if (++links > SBX_MAX_LINKS)
				return walk_fail(out, ELOOP);
			if (!walk_link(&dir, cur, name, fd, &st, todo, out))
				return FALSE;
			continue;
		}
		if (!last && !S_ISDIR(st.st_mode))
			return walk_fail(out, ENOTDIR);
		close(dir);
		dir = sbx_steal_fd(&fd);
		canonical_down(cur, name);
	}
	out->canonical = g_strdup(cur->str);
	return TRUE;
}

static int
open_no_symlinks(const char *path, int flags)
{
	struct open_how how = {
		.flags = (guint64)flags,
		.mode = (flags & O_CREAT) ? 0600 : 0,
		.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof how);

	/* Before Linux 5.6: the path has no links in it (just resolved), and
	 * O_NOFOLLOW still refuses a final one. */
	if (fd < 0 && errno == ENOSYS)
		fd = open(path, flags, 0600);
	return fd;
}

int
sbx_open_settings_file(const char *path, int flags, const char *what, GError **error)
{
	gboolean writing = (flags & O_ACCMODE) != O_RDONLY;
	SbxPathInfo info;
	autoclose int fd = -1;
	struct stat st;
	int saved;

	if (!sbx_path_resolve(path, writing && (flags & O_CREAT), &info)) {
		if (info.link)
			g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_CONFIG,
				    "%s %s: the path goes through the symbolic link %s -> %s in a "
				    "directory you can write, which a sandbox could have planted; "
				    "remove the link or give the real path", what, path, info.link,
				    info.target);
		else
			sbx_set_errno(error, info.err, "cannot %s %s %s",
				      writing ? "open for writing" : "read", what, path);
		sbx_path_info_clear(&info);
		return -1;
	}
	/* O_NONBLOCK: a FIFO must be refused below, not waited on. */
	fd = open_no_symlinks(info.canonical, flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	saved = errno;
	sbx_path_info_clear(&info);
	if (fd < 0) {
		if (saved == ELOOP)
			g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_CONFIG,
				    "%s %s: became a symbolic link while being opened; remove the "
				    "link or give the real path", what, path);
		else if (saved == ENXIO)
			g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_CONFIG,
				    "%s %s: not a regular file (a FIFO?); give a regular file",
				    what, path);
		else
			sbx_set_errno(error, saved, "cannot %s %s %s",
				      writing ? "open for writing" : "read", what, path);
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		sbx_set_errno(error, errno, "%s %s: stat", what, path);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_CONFIG,
			    "%s %s: not a regular file; give a regular file", what, path);
		return -1;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
		sbx_set_errno(error, errno, "%s %s: fcntl", what, path);
		return -1;
	}
	return sbx_steal_fd(&fd);
}

char *
sbx_read_settings_file(const char *path, const char *what, gsize max, gsize *len,
		       GError **error)
{
	autoclose int fd = sbx_open_settings_file(path, O_RDONLY, what, error);
	g_autofree char *buf = NULL;
	gsize got = 0;

	if (fd < 0)
		return NULL;
	buf = g_malloc(max + 2);
	while (got <= max) {
		ssize_t n = read(fd, buf + got, max + 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			sbx_set_errno(error, errno, "%s %s: read", what, path);
			return NULL;
		}
		if (n == 0)
			break;
		got += (gsize)n;
	}
	if (got > max) {
		g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_CONFIG,
			    "%s %s: larger than %" G_GSIZE_FORMAT " bytes; a settings file is "
			    "small text", what, path, max);
		return NULL;
	}
	buf[got] = '\0';
	*len = got;
	return g_steal_pointer(&buf);
}
