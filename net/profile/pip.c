/* SPDX-License-Identifier: MIT
 *
 * pip.c — the pip profile.
 *
 * pip's configuration, lowest priority first (pip's
 * configuration.py override order):
 *   global  $XDG_CONFIG_DIRS/pip/pip.conf (default /etc/xdg), /etc/pip.conf
 *   user    ~/.pip/pip.conf (legacy), $XDG_CONFIG_HOME/pip/pip.conf
 *           (default ~/.config)
 *   site    $VIRTUAL_ENV/pip.conf
 *   file    $PIP_CONFIG_FILE (os.devnull: no file at all is read)
 *   env     PIP_INDEX_URL, PIP_EXTRA_INDEX_URL, PIP_FIND_LINKS
 * and within a file [install] over [global].  The hosts allowed: the
 * effective index-url (default https://pypi.org/simple, whose files are on
 * files.pythonhosted.org — facts of PyPI), every extra-index-url and every
 * find-links URL (local paths need no network).  A custom index may link
 * its files on other hosts; those are for --allow.
 */
#include "net/profile/profile.h"
#include "common/error.h"

#include <string.h>

#define PIP_DEFAULT_INDEX "https://pypi.org/simple"
#define PIP_DEFAULT_FILES "https://files.pythonhosted.org/"

gboolean
pipconf_parse(const char *text, gsize len, const char *source, GArray *kvs, GError **error)
{
	g_autofree char *copy = g_strndup(text, len);
	g_auto(GStrv) lines = NULL;
	g_autofree char *section = NULL;
	ProfileKV *cur = NULL;

	if (strlen(copy) != len)
		return profile_bad_line(error, source, 1, "NUL byte in the file");
	lines = g_strsplit(copy, "\n", -1);
	for (guint i = 0; lines[i]; i++) {
		char *raw = lines[i];
		char *l, *delim;
		ProfileKV kv = { 0 };

		if (*raw && raw[strlen(raw) - 1] == '\r')
			raw[strlen(raw) - 1] = '\0';
		l = g_strstrip(g_strdup(raw));
		if (*l == '#' || *l == ';') {
			g_free(l);
			continue;
		}
		if (!*l) {
			/* configparser keeps empty lines inside a value; they add nothing here */
			g_free(l);
			continue;
		}
		if (g_ascii_isspace(raw[0]) && cur) {
			/* an indented line continues the value above */
			char *joined = g_strconcat(cur->value, "\n", l, NULL);

			g_free(cur->value);
			cur->value = joined;
			g_free(l);
			continue;
		}
		if (*l == '[') {
			char *close = strchr(l, ']');

			if (!close) {
				g_free(l);
				return profile_bad_line(error, source, i + 1,
							"missing ']' after section name");
			}
			g_free(section);
			section = g_strndup(l + 1, (gsize)(close - l - 1));
			g_free(l);
			cur = NULL;
			continue;
		}
		delim = l + strcspn(l, "=:");
		if (!*delim || delim == l) {
			profile_bad_line(error, source, i + 1,
					 "expected 'key = value', a [section] or a comment");
			g_free(l);
			return FALSE;
		}
		if (!section) {
			g_free(l);
			return profile_bad_line(error, source, i + 1,
						"'key = value' before any [section]");
		}
		*delim = '\0';
		kv.section = g_strdup(section);
		kv.key = g_ascii_strdown(g_strstrip(l), -1);
		g_strdelimit(kv.key, "_", '-');
		kv.value = g_strdup(g_strstrip(delim + 1));
		kv.line = i + 1;
		g_free(l);
		g_array_append_val(kvs, kv);
		cur = &g_array_index(kvs, ProfileKV, kvs->len - 1);
	}
	return TRUE;
}

/* Settings found so far: key → (value, where); later sets win. */
typedef struct {
	GHashTable *value;     /* key → char * */
	GHashTable *where;     /* key → char * */
} PipSettings;

static void
pip_set(PipSettings *s, const char *key, const char *value, char *where)
{
	g_hash_table_replace(s->value, g_strdup(key), g_strdup(value));
	g_hash_table_replace(s->where, g_strdup(key), where);
}

static gboolean
pip_file(const ProfileHost *h, ProfileResult *r, PipSettings *s, const char *path,
	 GError **error)
{
	static const char *const sections[] = { "global", "install" };
	g_autoptr(GArray) kvs = profile_kv_array_new();
	gsize len;
	g_autofree char *text = NULL;

	if (!profile_read(h, r, path, TRUE, &text, &len, error))
		return FALSE;
	if (!text)
		return TRUE;
	if (!pipconf_parse(text, len, path, kvs, error))
		return FALSE;
	for (gsize sec = 0; sec < G_N_ELEMENTS(sections); sec++)
		for (guint i = 0; i < kvs->len; i++) {
			const ProfileKV *kv = &g_array_index(kvs, ProfileKV, i);

			if (strcmp(kv->section, sections[sec]) == 0)
				pip_set(s, kv->key, kv->value,
					g_strdup_printf("%s:%u", path, kv->line));
		}
	return TRUE;
}

/* Every URL in a whitespace-separated list; paths (find-links to a
 * directory) need no network. */
static gboolean
pip_add_urls(ProfileResult *r, const char *list, const char *where, GError **error)
{
	g_auto(GStrv) words = g_strsplit_set(list, " \t\n", -1);

	for (guint i = 0; words[i]; i++) {
		if (!*words[i] || (!g_str_has_prefix(words[i], "http://") &&
				   !g_str_has_prefix(words[i], "https://")))
			continue;
		if (!profile_add_url(r, words[i], where, error))
			return FALSE;
	}
	return TRUE;
}

static GPtrArray *
pip_config_files(const ProfileHost *h)
{
	GPtrArray *files = g_ptr_array_new_with_free_func(g_free);
	const char *xdg_dirs = profile_getenv(h, "XDG_CONFIG_DIRS");
	const char *xdg_home = profile_getenv(h, "XDG_CONFIG_HOME");
	const char *venv = profile_getenv(h, "VIRTUAL_ENV");
	g_auto(GStrv) dirs = g_strsplit(xdg_dirs && *xdg_dirs ? xdg_dirs : "/etc/xdg", ":", -1);

	for (guint i = 0; dirs[i]; i++)
		if (g_path_is_absolute(dirs[i]))
			g_ptr_array_add(files, g_build_filename(dirs[i], "pip", "pip.conf", NULL));
	g_ptr_array_add(files, g_strdup("/etc/pip.conf"));
	g_ptr_array_add(files, g_build_filename(h->home, ".pip", "pip.conf", NULL));
	if (xdg_home && g_path_is_absolute(xdg_home))
		g_ptr_array_add(files, g_build_filename(xdg_home, "pip", "pip.conf", NULL));
	else
		g_ptr_array_add(files, g_build_filename(h->home, ".config", "pip", "pip.conf", NULL));
	if (venv && g_path_is_absolute(venv))
		g_ptr_array_add(files, g_build_filename(venv, "pip.conf", NULL));
	return files;
}

gboolean
profile_pip(const ProfileHost *h, ProfileResult *r, GError **error)
{
	static const struct {
		const char *var, *key;
	} env_keys[] = {
		{ "PIP_INDEX_URL", "index-url" },
		{ "PIP_EXTRA_INDEX_URL", "extra-index-url" },
		{ "PIP_FIND_LINKS", "find-links" },
		{ "PIP_PROXY", "proxy" },
	};
	g_autoptr(GHashTable) value = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_autoptr(GHashTable) where = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	PipSettings s = { value, where };
	const char *config_file = profile_getenv(h, "PIP_CONFIG_FILE");
	const char *v;

	if (!config_file || strcmp(config_file, "/dev/null") != 0) {
		g_autoptr(GPtrArray) files = pip_config_files(h);

		if (config_file && *config_file)
			g_ptr_array_add(files, g_strdup(config_file));
		for (guint i = 0; i < files->len; i++)
			if (!pip_file(h, r, &s, files->pdata[i], error))
				return FALSE;
	}
	for (gsize i = 0; i < G_N_ELEMENTS(env_keys); i++)
		if ((v = profile_getenv(h, env_keys[i].var)) && *v)
			pip_set(&s, env_keys[i].key, v, g_strdup_printf("$%s", env_keys[i].var));

	if ((v = g_hash_table_lookup(value, "index-url"))) {
		if (!pip_add_urls(r, v, g_hash_table_lookup(where, "index-url"), error))
			return FALSE;
		g_ptr_array_add(r->notes, g_strdup("a custom index may serve its files from other "
						   "hosts: add those with --allow"));
	} else if (!profile_add_url(r, PIP_DEFAULT_INDEX, "pip's default index", error) ||
		   !profile_add_url(r, PIP_DEFAULT_FILES, "pip's default index (files)", error)) {
		return FALSE;
	}
	if ((v = g_hash_table_lookup(value, "extra-index-url")) &&
	    !pip_add_urls(r, v, g_hash_table_lookup(where, "extra-index-url"), error))
		return FALSE;
	if ((v = g_hash_table_lookup(value, "find-links")) &&
	    !pip_add_urls(r, v, g_hash_table_lookup(where, "find-links"), error))
		return FALSE;
	if ((v = g_hash_table_lookup(value, "proxy")) &&
	    !profile_add_proxy(r, "PIP_PROXY", v, g_hash_table_lookup(where, "proxy"), error))
		return FALSE;
	r->cache_var = g_strdup("PIP_CACHE_DIR");
	return TRUE;
}
