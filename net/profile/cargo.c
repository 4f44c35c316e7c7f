/* SPDX-License-Identifier: MIT
 *
 * cargo.c — the cargo profile, with the subset of TOML cargo's
 * configuration uses.
 *
 * Files, highest priority first, as cargo merges them: .cargo/config.toml
 * (or the older .cargo/config) in CWD and each parent up to /, the deeper
 * first, then $CARGO_HOME (default ~/.cargo) /config.toml or /config; the
 * environment over all (CARGO_REGISTRIES_NAME_INDEX, CARGO_HTTP_PROXY).
 * Allowed: every registries.NAME.index and source.NAME.registry URL
 * ("sparse+" dropped), and — unless source.crates-io.replace-with sends
 * crates.io elsewhere — crates.io's sparse index and download hosts
 * (index.crates.io, static.crates.io: facts of crates.io).  A registry's
 * downloads may come from another host (the "dl" of its config.json);
 * those are for --allow.  http.proxy is a proxy.  No cache variable:
 * cargo keeps its cache in $CARGO_HOME beside its settings.
 */
#include "net/profile/profile.h"
#include "common/error.h"

#include <string.h>

#define CRATES_IO_INDEX "https://index.crates.io/"
#define CRATES_IO_DL "https://static.crates.io/"

typedef struct {
	const char *p, *end;
	const char *source;
	guint line;
	GError **error;
} Toml;

static gboolean
toml_fail(Toml *t, const char *what)
{
	return profile_bad_line(t->error, t->source, t->line, "%s", what);
}

/* Blanks (not newlines) and a comment up to the end of the line. */
static void
toml_skip_blank(Toml *t)
{
	while (t->p < t->end && (*t->p == ' ' || *t->p == '\t' || *t->p == '\r'))
		t->p++;
	if (t->p < t->end && *t->p == '#')
		while (t->p < t->end && *t->p != '\n')
			t->p++;
}

/* Blanks, comments and newlines. */
static void
toml_skip_space(Toml *t)
{
	for (;;) {
		toml_skip_blank(t);
		if (t->p < t->end && *t->p == '\n') {
			t->line++;
			t->p++;
			continue;
		}
		return;
	}
}

/* A string at t->p (", ', """ or '''), into *OUT. */
static gboolean
toml_string(Toml *t, char **out)
{
	char q = *t->p;
	gboolean multi = t->end - t->p >= 3 && t->p[1] == q && t->p[2] == q;
	GString *s = g_string_new(NULL);

	t->p += multi ? 3 : 1;
	for (;;) {
		if (t->p >= t->end || (!multi && *t->p == '\n')) {
			g_string_free(s, TRUE);
			return toml_fail(t, "missing closing quote");
		}
		if (multi && t->end - t->p >= 3 && t->p[0] == q && t->p[1] == q && t->p[2] == q) {
			t->p += 3;
			break;
		}
		if (!multi && *t->p == q) {
			t->p++;
			break;
		}
		if (*t->p == '\n')
			t->line++;
		if (q == '"' && *t->p == '\\' && t->p + 1 < t->end) {
			char c = t->p[1];

			t->p += 2;
			g_string_append_c(s, c == 'n' ? '\n' : c == 't' ? '\t' : c);
			continue;
		}
		g_string_append_c(s, *t->p++);
	}
	*out = g_string_free(s, FALSE);
	return TRUE;
}

/* A dotted key (bare or quoted parts) into PARTS. */
static gboolean
toml_key(Toml *t, GPtrArray *parts)
{
	for (;;) {
		toml_skip_blank(t);
		if (t->p < t->end && (*t->p == '"' || *t->p == '\'')) {
			char *part;

			if (!toml_string(t, &part))
				return FALSE;
			g_ptr_array_add(parts, part);
		} else {
			const char *start = t->p;

			while (t->p < t->end && (g_ascii_isalnum(*t->p) || *t->p == '_' ||
						 *t->p == '-'))
				t->p++;
			if (t->p == start)
				return toml_fail(t, "expected a key");
			g_ptr_array_add(parts, g_strndup(start, (gsize)(t->p - start)));
		}
		toml_skip_blank(t);
		if (t->p < t->end && *t->p == '.') {
			t->p++;
			continue;
		}
		return TRUE;
	}
}

static char *
join_path(const char *table, GPtrArray *parts, guint n)
{
	GString *s = g_string_new(table);

	for (guint i = 0; i < n; i++) {
		if (s->len)
			g_string_append_c(s, '.');
		g_string_append(s, parts->pdata[i]);
	}
	return g_string_free(s, FALSE);
}

static gboolean toml_value(Toml *t, const char *section, const char *key, GArray *kvs,
			   guint depth);

/* KEY = VALUE inside TABLE (dotted keys extend the table). */
static gboolean
toml_keyval(Toml *t, const char *table, GArray *kvs, guint depth)
{
	g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *section = NULL;

	if (!toml_key(t, parts))
		return FALSE;
	if (t->p >= t->end || *t->p != '=')
		return toml_fail(t, "expected '=' after the key");
	t->p++;
	toml_skip_blank(t);
	section = join_path(table, parts, parts->len - 1);
	return toml_value(t, section, parts->pdata[parts->len - 1], kvs, depth);
}

static gboolean
toml_value(Toml *t, const char *section, const char *key, GArray *kvs, guint depth)
{
	ProfileKV kv = { .line = t->line };

	if (depth > 32)
		return toml_fail(t, "nested too deep");
	if (t->p >= t->end)
		return toml_fail(t, "missing value");
	if (*t->p == '"' || *t->p == '\'') {
		if (!toml_string(t, &kv.value))
			return FALSE;
	} else if (*t->p == '[') {
		t->p++;
		for (;;) {
			toml_skip_space(t);
			if (t->p < t->end && *t->p == ']') {
				t->p++;
				return TRUE;
			}
			if (!toml_value(t, section, key, kvs, depth + 1))
				return FALSE;
			toml_skip_space(t);
			if (t->p < t->end && *t->p == ',')
				t->p++;
			else if (t->p >= t->end || *t->p != ']')
				return toml_fail(t, "expected ',' or ']' in an array");
		}
	} else if (*t->p == '{') {
		g_autofree char *inner = g_strdup_printf("%s%s%s", section, *section ? "." : "",
							 key);

		t->p++;
		for (;;) {
			toml_skip_blank(t);
			if (t->p < t->end && *t->p == '}') {
				t->p++;
				return TRUE;
			}
			if (!toml_keyval(t, inner, kvs, depth + 1))
				return FALSE;
			toml_skip_blank(t);
			if (t->p < t->end && *t->p == ',')
				t->p++;
			else if (t->p >= t->end || *t->p != '}')
				return toml_fail(t, "expected ',' or '}' in an inline table");
		}
	} else {
		const char *start = t->p;

		while (t->p < t->end && !strchr(" \t\r\n,]}#", *t->p))
			t->p++;
		if (t->p == start)
			return toml_fail(t, "missing value");
		kv.value = g_strndup(start, (gsize)(t->p - start));
	}
	kv.section = g_strdup(section);
	kv.key = g_strdup(key);
	g_array_append_val(kvs, kv);
	return TRUE;
}

gboolean
cargo_toml_parse(const char *text, gsize len, const char *source, GArray *kvs, GError **error)
{
	Toml t = { text, text + len, source, 1, error };
	g_autofree char *table = g_strdup("");

	if (memchr(text, '\0', len))
		return profile_bad_line(error, source, 1, "NUL byte in the file");
	for (;;) {
		toml_skip_space(&t);
		if (t.p >= t.end)
			return TRUE;
		if (*t.p == '[') {
			gboolean array = t.end - t.p >= 2 && t.p[1] == '[';
			g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func(g_free);

			t.p += array ? 2 : 1;
			if (!toml_key(&t, parts))
				return FALSE;
			if (t.p >= t.end || *t.p != ']' ||
			    (array && (t.end - t.p < 2 || t.p[1] != ']')))
				return toml_fail(&t, "missing ']' after the table name");
			t.p += array ? 2 : 1;
			g_free(table);
			table = join_path("", parts, parts->len);
		} else if (!toml_keyval(&t, table, kvs, 0)) {
			return FALSE;
		}
		toml_skip_blank(&t);
		if (t.p < t.end && *t.p != '\n')
			return toml_fail(&t, "unexpected text after the value");
	}
}

/* One file's settings, with where each came from. */
typedef struct {
	char *file;
	GArray *kvs;
} CargoLayer;

static void
cargo_layer_clear(gpointer p)
{
	CargoLayer *l = p;

	g_free(l->file);
	g_array_unref(l->kvs);
}

/* config.toml, else the older config, in DIR (reading at most one). */
static gboolean
cargo_dir(const ProfileHost *h, ProfileResult *r, GArray *layers, const char *dir,
	  GError **error)
{
	static const char *const names[] = { "config.toml", "config" };

	for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
		g_autofree char *path = g_build_filename(dir, names[i], NULL);
		gsize len;
		g_autofree char *text = NULL;
		CargoLayer l;

		if (!profile_read(h, r, path, TRUE, &text, &len, error))
			return FALSE;
		if (!text)
			continue;
		l.file = g_strdup(path);
		l.kvs = profile_kv_array_new();
		if (!cargo_toml_parse(text, len, path, l.kvs, error)) {
			cargo_layer_clear(&l);
			return FALSE;
		}
		g_array_append_val(layers, l);
		return TRUE;
	}
	return TRUE;
}

static const char *
cargo_get(GArray *layers, const char *section, const char *key, char **where)
{
	for (guint i = 0; i < layers->len; i++) {
		const CargoLayer *l = &g_array_index(layers, CargoLayer, i);

		for (guint j = l->kvs->len; j-- > 0;) {
			const ProfileKV *kv = &g_array_index(l->kvs, ProfileKV, j);

			if (strcmp(kv->section, section) == 0 && strcmp(kv->key, key) == 0) {
				*where = g_strdup_printf("%s:%u", l->file, kv->line);
				return kv->value;
			}
		}
	}
	return NULL;
}

static gboolean
cargo_add_index(ProfileResult *r, const char *url, const char *where, GError **error)
{
	if (g_str_has_prefix(url, "sparse+"))
		url += strlen("sparse+");
	if (g_str_has_prefix(url, "file://") || !strstr(url, "://"))
		return TRUE;
	return profile_add_url(r, url, where, error);
}

/* registries.NAME.index and source.NAME.registry, each at its effective value. */
static gboolean
cargo_registries(GArray *layers, ProfileResult *r, GError **error)
{
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);

	for (guint i = 0; i < layers->len; i++) {
		const CargoLayer *l = &g_array_index(layers, CargoLayer, i);

		for (guint j = 0; j < l->kvs->len; j++) {
			const ProfileKV *kv = &g_array_index(l->kvs, ProfileKV, j);
			g_autofree char *where = NULL;
			const char *url;

			if (!((g_str_has_prefix(kv->section, "registries.") &&
			       strcmp(kv->key, "index") == 0) ||
			      (g_str_has_prefix(kv->section, "source.") &&
			       strcmp(kv->key, "registry") == 0)))
				continue;
			if (!g_hash_table_add(seen, kv->section))
				continue;
			url = cargo_get(layers, kv->section, kv->key, &where);
			if (url && !cargo_add_index(r, url, where, error))
				return FALSE;
		}
	}
	return TRUE;
}

/* CARGO_REGISTRIES_NAME_INDEX variables. */
static gboolean
cargo_env_registries(const ProfileHost *h, ProfileResult *r, GError **error)
{
	for (char **e = h->env; e && *e; e++) {
		const char *eq = strchr(*e, '=');
		g_autofree char *name = eq ? g_strndup(*e, (gsize)(eq - *e)) : NULL;
		g_autofree char *where = NULL;

		if (!name || !g_str_has_prefix(name, "CARGO_REGISTRIES_") ||
		    !g_str_has_suffix(name, "_INDEX"))
			continue;
		where = g_strdup_printf("$%s", name);
		if (!cargo_add_index(r, eq + 1, where, error))
			return FALSE;
	}
	return TRUE;
}

gboolean
profile_cargo(const ProfileHost *h, ProfileResult *r, GError **error)
{
	g_autoptr(GArray) layers = g_array_new(FALSE, TRUE, sizeof(CargoLayer));
	const char *cargo_home = profile_getenv(h, "CARGO_HOME");
	g_autofree char *home_dir = cargo_home && g_path_is_absolute(cargo_home)
		? g_strdup(cargo_home) : g_build_filename(h->home, ".cargo", NULL);
	g_autofree char *dir = g_strdup(h->cwd);
	g_autofree char *where = NULL;
	const char *v;

	g_array_set_clear_func(layers, cargo_layer_clear);
	for (;;) {
		g_autofree char *dotcargo = g_build_filename(dir, ".cargo", NULL);
		g_autofree char *parent = g_path_get_dirname(dir);

		if (strcmp(dotcargo, home_dir) != 0 && !cargo_dir(h, r, layers, dotcargo, error))
			return FALSE;
		if (strcmp(parent, dir) == 0)
			break;
		g_free(dir);
		dir = g_steal_pointer(&parent);
	}
	if (!cargo_dir(h, r, layers, home_dir, error))
		return FALSE;
	if (!cargo_env_registries(h, r, error) || !cargo_registries(layers, r, error))
		return FALSE;
	if (!cargo_get(layers, "source.crates-io", "replace-with", &where) &&
	    (!profile_add_url(r, CRATES_IO_INDEX, "crates.io's index", error) ||
	     !profile_add_url(r, CRATES_IO_DL, "crates.io's downloads", error)))
		return FALSE;
	g_clear_pointer(&where, g_free);
	v = profile_getenv(h, "CARGO_HTTP_PROXY");
	if (v)
		where = g_strdup("$CARGO_HTTP_PROXY");
	else
		v = cargo_get(layers, "http", "proxy", &where);
	if (v && *v && !profile_add_proxy(r, "CARGO_HTTP_PROXY", v, where, error))
		return FALSE;
	g_ptr_array_add(r->notes, g_strdup("a registry may serve its downloads from another "
					   "host (the 'dl' of its config.json): add it with "
					   "--allow"));
	return TRUE;
}
