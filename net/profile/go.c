/* SPDX-License-Identifier: MIT
 *
 * go.c — the go profile (module downloads).
 *
 * Settings, as the go command reads them: the environment first, then the
 * go env file ($GOENV, default $XDG_CONFIG_HOME/go/env or ~/.config/go/env,
 * KEY=VALUE lines written by `go env -w`).  GOPROXY is a list separated by
 * ',' or '|' (default "https://proxy.golang.org,direct"): every proxy URL
 * is allowed; "off" ends the list (no downloads); "direct" means modules
 * are fetched from their origin hosts, which no setting names — a note
 * says so.  GOSUMDB (default sum.golang.org; "NAME[+KEY] [URL]", "off") is
 * allowed as its URL, or https://NAME.  GOPRIVATE / GONOPROXY / GONOSUMDB
 * patterns are noted: those modules come from their origin hosts.  Cache
 * variable: GOMODCACHE.
 */
#include "net/profile/profile.h"
#include "common/error.h"

#include <string.h>

#define GO_DEFAULT_PROXY "https://proxy.golang.org,direct"
#define GO_DEFAULT_SUMDB "sum.golang.org"

/* The go env file's KEY=VALUE lines (the last one of a key wins). */
static gboolean
go_env_file(const ProfileHost *h, ProfileResult *r, GHashTable *vals, GHashTable *wheres,
	    GError **error)
{
	const char *goenv = profile_getenv(h, "GOENV");
	const char *xdg = profile_getenv(h, "XDG_CONFIG_HOME");
	g_autofree char *path = NULL;
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;
	gsize len;

	if (goenv && strcmp(goenv, "off") == 0)
		return TRUE;
	if (goenv && g_path_is_absolute(goenv))
		path = g_strdup(goenv);
	else if (xdg && g_path_is_absolute(xdg))
		path = g_build_filename(xdg, "go", "env", NULL);
	else
		path = g_build_filename(h->home, ".config", "go", "env", NULL);
	if (!profile_read(h, r, path, TRUE, &text, &len, error))
		return FALSE;
	if (!text)
		return TRUE;
	if (strlen(text) != len)
		return profile_bad_line(error, path, 1, "NUL byte in the file");
	lines = g_strsplit(text, "\n", -1);
	for (guint i = 0; lines[i]; i++) {
		char *l = g_strstrip(lines[i]);
		char *eq = strchr(l, '=');

		if (!*l || *l == '#')
			continue;
		if (!eq || eq == l)
			return profile_bad_line(error, path, i + 1, "expected KEY=VALUE");
		*eq = '\0';
		g_hash_table_replace(vals, g_strdup(l), g_strdup(eq + 1));
		g_hash_table_replace(wheres, g_strdup(l), g_strdup_printf("%s:%u", path, i + 1));
	}
	return TRUE;
}

/* The environment over the file; *WHERE for messages. */
static const char *
go_get(const ProfileHost *h, GHashTable *vals, GHashTable *wheres, const char *key,
       const char *fallback, char **where)
{
	const char *v = profile_getenv(h, key);

	if (v) {
		*where = g_strdup_printf("$%s", key);
		return v;
	}
	if ((v = g_hash_table_lookup(vals, key))) {
		*where = g_strdup(g_hash_table_lookup(wheres, key));
		return v;
	}
	*where = g_strdup_printf("go's default %s", key);
	return fallback;
}

static gboolean
go_proxies(ProfileResult *r, const char *list, const char *where, GError **error)
{
	g_auto(GStrv) items = g_strsplit_set(list, ",|", -1);

	for (guint i = 0; items[i]; i++) {
		const char *it = g_strstrip(items[i]);

		if (!*it)
			continue;
		if (strcmp(it, "off") == 0)
			break;
		if (strcmp(it, "direct") == 0) {
			g_ptr_array_add(r->notes,
					g_strdup_printf("%s: 'direct': modules not on a proxy come "
							"from their origin hosts; add those with "
							"--allow", where));
			continue;
		}
		/* go accepts a proxy without a scheme and means https */
		if (!strstr(it, "://")) {
			g_autofree char *url = g_strconcat("https://", it, NULL);

			if (!profile_add_url(r, url, where, error))
				return FALSE;
		} else if (!g_str_has_prefix(it, "file://") &&
			   !profile_add_url(r, it, where, error)) {
			return FALSE;
		}
	}
	return TRUE;
}

static gboolean
go_sumdb(ProfileResult *r, const char *value, const char *where, GError **error)
{
	g_auto(GStrv) words = g_strsplit_set(value, " \t", -1);
	const char *name = NULL, *url = NULL;

	for (guint i = 0; words[i]; i++) {
		if (!*words[i])
			continue;
		if (!name)
			name = words[i];
		else if (!url)
			url = words[i];
	}
	if (!name || strcmp(name, "off") == 0)
		return TRUE;
	if (url)
		return profile_add_url(r, url, where, error);
	{
		g_autofree char *host = g_strndup(name, strcspn(name, "+"));
		g_autofree char *https = g_strconcat("https://", host, NULL);

		return profile_add_url(r, https, where, error);
	}
}

gboolean
profile_go(const ProfileHost *h, ProfileResult *r, GError **error)
{
	static const char *const private_vars[] = { "GOPRIVATE", "GONOPROXY", "GONOSUMDB" };
	g_autoptr(GHashTable) vals = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_autoptr(GHashTable) wheres = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
							     g_free);
	g_autofree char *where = NULL;
	const char *v;

	if (!go_env_file(h, r, vals, wheres, error))
		return FALSE;
	v = go_get(h, vals, wheres, "GOPROXY", GO_DEFAULT_PROXY, &where);
	if (!go_proxies(r, v, where, error))
		return FALSE;
	g_clear_pointer(&where, g_free);
	v = go_get(h, vals, wheres, "GOSUMDB", GO_DEFAULT_SUMDB, &where);
	if (!go_sumdb(r, v, where, error))
		return FALSE;
	for (gsize i = 0; i < G_N_ELEMENTS(private_vars); i++) {
		g_clear_pointer(&where, g_free);
		v = go_get(h, vals, wheres, private_vars[i], NULL, &where);
		if (v && *v)
			g_ptr_array_add(r->notes,
					g_strdup_printf("%s: %s=%s: those modules come from their "
							"origin hosts; add those with --allow",
							where, private_vars[i], v));
	}
	r->cache_var = g_strdup("GOMODCACHE");
	return TRUE;
}
