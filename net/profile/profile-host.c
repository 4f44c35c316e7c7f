/* SPDX-License-Identifier: MIT
 *
 * profile-host.c — the real ProfileHost and the expansion of --profile
 * into a config (see profile-host.h).  The only part of the profiles that
 * makes system calls.
 */
#include "net/profile/profile-host.h"
#include "net/allowlist.h"
#include "common/error.h"
#include "common/fdutil.h"
#include "common/log.h"
#include "common/safepath.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A package manager's settings file is small text. */
#define PROFILE_FILE_MAX ((gsize)1 << 20)

/* ProfileHost.read_file: the settings-file rule (no planted links, regular
 * files only, bounded); a missing file is no error. */
static char *
host_read_file(const ProfileHost *h, const char *path, gsize *len, gboolean *missing,
	       GError **error)
{
	SbxPathInfo info;
	gboolean ok = sbx_path_resolve(path, FALSE, &info);

	(void)h;
	*missing = !ok && !info.link && (info.err == ENOENT || info.err == ENOTDIR);
	sbx_path_info_clear(&info);
	if (*missing)
		return NULL;
	return sbx_read_settings_file(path, "profile settings file", PROFILE_FILE_MAX, len,
				      error);
}

/* ProfileHost.exists */
static gboolean
host_exists(const ProfileHost *h, const char *path)
{
	SbxPathInfo info;
	gboolean ok = sbx_path_resolve(path, FALSE, &info);
	gboolean found = ok || info.link;

	(void)h;
	sbx_path_info_clear(&info);
	return found;
}

static gint
compare_names(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ProfileHost.list_dir */
static GPtrArray *
host_list_dir(const ProfileHost *h, const char *dir)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	GPtrArray *names;
	const char *name;

	(void)h;
	if (!d)
		return NULL;
	names = g_ptr_array_new_with_free_func(g_free);
	while ((name = g_dir_read_name(d)))
		g_ptr_array_add(names, g_strdup(name));
	g_ptr_array_sort(names, compare_names);
	return names;
}

/* ProfileHost.find_program: the canonical path, as node's process.execPath. */
static char *
host_find_program(const ProfileHost *h, const char *name)
{
	const char *path = profile_getenv(h, "PATH");
	g_auto(GStrv) dirs = g_strsplit(path ? path : "/usr/local/bin:/usr/bin:/bin", ":", -1);

	for (guint i = 0; dirs[i]; i++) {
		g_autofree char *candidate = NULL;
		char real[PATH_MAX];

		if (!g_path_is_absolute(dirs[i]))
			continue;
		candidate = g_build_filename(dirs[i], name, NULL);
		if (access(candidate, X_OK) == 0 && realpath(candidate, real))
			return g_strdup(real);
	}
	return NULL;
}

void
profile_host_init(ProfileHost *h)
{
	char cwd[PATH_MAX];

	memset(h, 0, sizeof *h);
	h->env = g_get_environ();
	h->cwd = g_strdup(getcwd(cwd, sizeof cwd) ? cwd : "/");
	h->home = g_strdup(g_get_home_dir());
	h->read_file = host_read_file;
	h->exists = host_exists;
	h->list_dir = host_list_dir;
	h->find_program = host_find_program;
}

void
profile_host_clear(ProfileHost *h)
{
	g_strfreev(h->env);
	g_free((char *)h->cwd);
	g_free((char *)h->home);
	memset(h, 0, sizeof *h);
}

/* Open (creating, 0700) the directory NAME in DIR_FD, never through a
 * link, and make sure it is ours and private. */
static int
cache_step(int dir_fd, const char *name, const char *path, gboolean make_private,
	   GError **error)
{
	struct stat st;
	int fd;

	if (mkdirat(dir_fd, name, 0700) < 0 && errno != EEXIST) {
		sbx_set_errno(error, errno, "create the profile cache directory %s", path);
		return -1;
	}
	fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		int saved = errno;

		if (saved == ELOOP || saved == ENOTDIR)
			g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_CONFIG,
				    "profile cache %s: not a directory (a symbolic link a sandbox "
				    "could have planted?); remove it", path);
		else
			sbx_set_errno(error, saved, "open the profile cache directory %s", path);
		return -1;
	}
	if (fstat(fd, &st) < 0 || st.st_uid != getuid()) {
		g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_CONFIG,
			    "profile cache %s: not owned by you; remove it", path);
		close(fd);
		return -1;
	}
	if (make_private && (st.st_mode & 077) && fchmod(fd, 0700) < 0) {
		sbx_set_errno(error, errno, "make the profile cache %s private", path);
		close(fd);
		return -1;
	}
	return fd;
}

gboolean
profile_cache_dir(const char *home, const char *name, char **path, GError **error)
{
	static const char *const steps[] = { ".cache", "mini-sandbox" };
	SbxPathInfo info;
	autoclose int dir = -1;
	g_autoptr(GString) cur = NULL;

	if (!sbx_path_resolve(home, FALSE, &info)) {
		sbx_set_errno(error, info.err ? info.err : EPERM, "profile cache: resolve $HOME %s",
			      home);
		sbx_path_info_clear(&info);
		return FALSE;
	}
	cur = g_string_new(info.canonical);
	dir = open(info.canonical, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	sbx_path_info_clear(&info);
	if (dir < 0)
		return sbx_set_errno(error, errno, "profile cache: open $HOME %s", cur->str);
	for (gsize i = 0; i <= G_N_ELEMENTS(steps); i++) {
		const char *step = i < G_N_ELEMENTS(steps) ? steps[i] : name;
		int next;

		g_string_append_printf(cur, "/%s", step);
		/* ~/.cache is the user's; ours below it are private */
		next = cache_step(dir, step, cur->str, i > 0, error);
		if (next < 0)
			return FALSE;
		close(dir);
		dir = next;
	}
	*path = g_string_free(g_steal_pointer(&cur), FALSE);
	return TRUE;
}

static void
env_set(SbxConfig *cfg, const char *assignment)
{
	const char *eq = strchr(assignment, '=');
	gsize n = (gsize)(eq - assignment) + 1;

	for (guint i = 0; i < cfg->env_set->len; i++)
		if (strncmp(cfg->env_set->pdata[i], assignment, n) == 0) {
			g_free(cfg->env_set->pdata[i]);
			cfg->env_set->pdata[i] = g_strdup(assignment);
			return;
		}
	g_ptr_array_add(cfg->env_set, g_strdup(assignment));
}

static gboolean
profile_path_is_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return strcmp(dir, "/") != 0 && strncmp(path, dir, n) == 0 && path[n] == '/';
}

static gboolean
has_mount(const SbxConfig *cfg, const char *path)
{
	for (guint i = 0; i < cfg->mounts->len; i++)
		if (strcmp(g_array_index(cfg->mounts, SbxMountOpt, i).path, path) == 0)
			return TRUE;
	return FALSE;
}

static gboolean
apply_result(SbxConfig *out, const ProfileHost *h, const ProfileResult *r,
	     gboolean *proxy_noted, GError **error)
{
	for (guint i = 0; i < r->entries->len; i++) {
		const ProfileEntry *e = &g_array_index(r->entries, ProfileEntry, i);

		g_ptr_array_add(out->profile_entries, g_strdup(e->entry));
		g_ptr_array_add(out->profile_where, g_strdup_printf("profile %s (%s)", r->name,
								    e->where));
	}
	/* Read-only: tokens in them can go only to the hosts allowed above.
	 * Only those in $HOME (empty inside otherwise) and in the working
	 * directory (writable otherwise); the system's (/etc, /usr) are
	 * read-only already. */
	for (guint i = 0; i < r->files->len; i++) {
		const char *f = r->files->pdata[i];

		if ((profile_path_is_under(f, h->home) || profile_path_is_under(f, h->cwd)) &&
		    !has_mount(out, f))
			sbx_config_add_mount(out, SBX_MOUNT_READ, f);
	}
	for (guint i = 0; i < r->env->len; i++)
		env_set(out, r->env->pdata[i]);
	for (guint i = 0; i < r->host_ports->len; i++) {
		guint16 p = g_array_index(r->host_ports, guint16, i);
		gboolean seen = FALSE;

		for (guint j = 0; j < out->host_ports->len; j++)
			seen = seen || g_array_index(out->host_ports, guint16, j) == p;
		if (!seen)
			g_array_append_val(out->host_ports, p);
	}
	for (guint i = 0; i < r->notes->len; i++) {
		const char *note = r->notes->pdata[i];

		sbx_debug("profile %s: %s", r->name, note);
		if (!*proxy_noted && g_str_has_prefix(note, "a proxy is set")) {
			fprintf(stderr, "%s: %s\n", sbx_log_prog(), note);
			*proxy_noted = TRUE;
		}
	}
	if (out->profile_cache && r->cache_var) {
		g_autofree char *dir = NULL;
		g_autofree char *assignment = NULL;

		if (!profile_cache_dir(h->home, r->name, &dir, error))
			return FALSE;
		if (!has_mount(out, dir))
			sbx_config_add_mount(out, SBX_MOUNT_WRITE, dir);
		assignment = g_strdup_printf("%s=%s", r->cache_var, dir);
		env_set(out, assignment);
	}
	return TRUE;
}

gboolean
sbx_profiles_expand(const SbxConfig *cfg, SbxConfig **out, GError **error)
{
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(SbxConfig) copy = NULL;
	g_autoptr(GHashTable) done = g_hash_table_new(g_str_hash, g_str_equal);
	ProfileHost h;
	gboolean proxy_noted = FALSE, ok = TRUE;

	*out = NULL;
	for (guint i = 0; i < cfg->profiles->len; i++)
		g_ptr_array_add(names, g_strdup(cfg->profiles->pdata[i]));
	for (guint i = 0; i < cfg->allow_files->len; i++)
		if (!allowlist_file_profiles(cfg->allow_files->pdata[i], names, error))
			return FALSE;
	if (names->len == 0)
		return TRUE;
	copy = sbx_config_copy(cfg);
	profile_host_init(&h);
	for (guint i = 0; ok && i < names->len; i++) {
		g_autoptr(ProfileResult) r = NULL;

		if (!g_hash_table_add(done, names->pdata[i]))
			continue;
		r = profile_evaluate(names->pdata[i], &h, error);
		ok = r && apply_result(copy, &h, r, &proxy_noted, error);
	}
	profile_host_clear(&h);
	if (!ok)
		return FALSE;
	*out = g_steal_pointer(&copy);
	return TRUE;
}

gboolean
sbx_profile_print(const char *name, GError **error)
{
	ProfileHost h;
	g_autoptr(ProfileResult) r = NULL;
	g_autofree char *text = NULL;

	profile_host_init(&h);
	r = profile_evaluate(name, &h, error);
	profile_host_clear(&h);
	if (!r)
		return FALSE;
	text = profile_result_format(r);
	fputs(text, stdout);
	return TRUE;
}
