/* SPDX-License-Identifier: MIT
 *
 * npm.c — the npm profile (also yarn classic and pnpm, which read .npmrc).
 *
 * npm's configuration, highest priority first, as @npmcli/config loads it:
 *   1. npm_config_KEY / NPM_CONFIG_KEY environment variables (any case;
 *      '_' in KEY means '-');
 *   2. the project .npmrc: in the nearest directory from CWD upwards that
 *      holds package.json or node_modules (npm's "local prefix"), else CWD;
 *   3. the user config: $npm_config_userconfig, default ~/.npmrc;
 *   4. the global config: $npm_config_globalconfig or globalconfig= above,
 *      default PREFIX/etc/npmrc with PREFIX = $PREFIX or the directory two
 *      levels above the node executable (npm's global prefix);
 *   5. npm's builtin npmrc, next to npm itself (where distributions put
 *      prefix= or globalconfig=).
 * The hosts allowed: the effective "registry" (default
 * https://registry.npmjs.org/, a fact of npm) and every effective
 * "@scope:registry"; "proxy"/"https-proxy" are proxies.  Not read: CLI
 * --registry flags of the command (the command is not parsed), workspaces'
 * own .npmrc files (npm does not read them either).
 */
#include "net/profile/profile.h"
#include "common/error.h"

#include <string.h>

#define NPM_DEFAULT_REGISTRY "https://registry.npmjs.org/"

/* npm's envReplace: ${VAR} from the environment (a missing one is an
 * error, as npm fails on it), ${VAR?} empty when missing, \${ literal. */
static gboolean
npm_env_replace(const char *in, char **env, const char *source, guint line, char **out,
		GError **error)
{
	GString *s = g_string_new(NULL);

	for (const char *c = in; *c;) {
		const char *close;

		if (c[0] == '\\' && c[1] == '$' && c[2] == '{') {
			g_string_append(s, "${");
			c += 3;
			continue;
		}
		if (c[0] != '$' || c[1] != '{' || !(close = strchr(c + 2, '}'))) {
			g_string_append_c(s, *c++);
			continue;
		}
		{
			g_autofree char *name = g_strndup(c + 2, (gsize)(close - c - 2));
			gboolean optional = g_str_has_suffix(name, "?");
			const char *val;

			if (optional)
				name[strlen(name) - 1] = '\0';
			val = g_environ_getenv(env, name);
			if (!val && !optional) {
				g_string_free(s, TRUE);
				return profile_bad_line(error, source, line,
							"${%s} is not set (npm refuses this too; "
							"write ${%s?} for 'empty if unset')",
							name, name);
			}
			g_string_append(s, val ? val : "");
			c = close + 1;
		}
	}
	*out = g_string_free(s, FALSE);
	return TRUE;
}

/* The ini package's value rule: "…" and '…' are taken whole; otherwise
 * an unescaped ';' or '#' starts a comment and \; \# \\ are escapes. */
static char *
npm_ini_value(const char *v)
{
	size_t n = strlen(v);
	GString *s;

	if (n >= 2 && ((v[0] == '"' && v[n - 1] == '"') || (v[0] == '\'' && v[n - 1] == '\'')))
		return g_strndup(v + 1, n - 2);
	s = g_string_new(NULL);
	for (const char *c = v; *c; c++) {
		if (*c == '\\' && (c[1] == ';' || c[1] == '#' || c[1] == '\\')) {
			g_string_append_c(s, *++c);
			continue;
		}
		if (*c == ';' || *c == '#')
			break;
		g_string_append_c(s, *c);
	}
	return g_strstrip(g_string_free(s, FALSE));
}

gboolean
npmrc_parse(const char *text, gsize len, const char *source, char **env, GArray *kvs,
	    GError **error)
{
	g_auto(GStrv) lines = NULL;
	g_autofree char *section = g_strdup("");
	g_autofree char *copy = g_strndup(text, len);

	if (strlen(copy) != len)
		return profile_bad_line(error, source, 1, "NUL byte in the file");
	lines = g_strsplit(copy, "\n", -1);
	for (guint i = 0; lines[i]; i++) {
		char *l = g_strstrip(lines[i]);
		char *eq;
		ProfileKV kv = { 0 };
		g_autofree char *raw_key = NULL;
		g_autofree char *raw_val = NULL;

		if (!*l || *l == ';' || *l == '#')
			continue;
		if (*l == '[') {
			char *close = strrchr(l, ']');

			if (!close)
				return profile_bad_line(error, source, i + 1,
							"missing ']' after section name");
			g_free(section);
			section = g_strndup(l + 1, (gsize)(close - l - 1));
			continue;
		}
		eq = strchr(l, '=');
		raw_key = eq ? g_strstrip(g_strndup(l, (gsize)(eq - l))) : g_strdup(l);
		/* a line without '=' is KEY=true in ini; nothing npm's network uses */
		raw_val = eq ? npm_ini_value(eq + 1) : g_strdup("true");
		kv.line = i + 1;
		kv.section = g_strdup(section);
		if (!npm_env_replace(raw_key, env, source, i + 1, &kv.key, error)) {
			g_free(kv.section);
			return FALSE;
		}
		if (!npm_env_replace(raw_val, env, source, i + 1, &kv.value, error)) {
			g_free(kv.section);
			g_free(kv.key);
			return FALSE;
		}
		if (g_str_has_suffix(kv.key, "[]"))
			kv.key[strlen(kv.key) - 2] = '\0';
		g_array_append_val(kvs, kv);
	}
	return TRUE;
}

/* One source of settings; ENV_LAYER: KVS hold environment variables (the
 * variable's name in section). */
typedef struct {
	char *file;
	GArray *kvs;
	gboolean env_layer;
} NpmLayer;

static void
npm_layer_clear(gpointer p)
{
	NpmLayer *l = p;

	g_free(l->file);
	g_array_unref(l->kvs);
}

/* The effective value of KEY (highest layer first, later lines of a file
 * win within it, as in ini); *WHERE says where it came from. */
static const char *
npm_get(GArray *layers, const char *key, char **where)
{
	for (guint i = 0; i < layers->len; i++) {
		const NpmLayer *l = &g_array_index(layers, NpmLayer, i);

		for (guint j = l->kvs->len; j-- > 0;) {
			const ProfileKV *kv = &g_array_index(l->kvs, ProfileKV, j);

			if (*kv->section && !l->env_layer)
				continue;
			if (strcmp(kv->key, key) != 0)
				continue;
			if (where)
				*where = l->env_layer ? g_strdup_printf("$%s", kv->section)
						      : g_strdup_printf("%s:%u", l->file, kv->line);
			return kv->value;
		}
	}
	return NULL;
}

static NpmLayer *
npm_env_layer(const ProfileHost *h, GArray *layers)
{
	NpmLayer l = { .file = g_strdup("environment"), .kvs = profile_kv_array_new(),
		       .env_layer = TRUE };

	for (char **e = h->env; e && *e; e++) {
		const char *eq = strchr(*e, '=');
		ProfileKV kv = { 0 };

		if (!eq || g_ascii_strncasecmp(*e, "npm_config_", 11) != 0 || eq == *e + 11)
			continue;
		kv.section = g_strndup(*e, (gsize)(eq - *e));
		kv.key = g_ascii_strdown(*e + 11, eq - *e - 11);
		g_strdelimit(kv.key, "_", '-');
		kv.value = g_strdup(eq + 1);
		g_array_append_val(l.kvs, kv);
	}
	g_array_append_val(layers, l);
	return &g_array_index(layers, NpmLayer, layers->len - 1);
}

/* Read and parse PATH (if it exists) as a layer, inserted at AT
 * (G_MAXUINT: last, the lowest priority). */
static gboolean
npm_file_layer(const ProfileHost *h, ProfileResult *r, GArray *layers, guint at,
	       const char *path, GError **error)
{
	gsize len;
	g_autofree char *text = NULL;
	NpmLayer l = { 0 };

	if (!profile_read(h, r, path, TRUE, &text, &len, error))
		return FALSE;
	if (!text)
		return TRUE;
	l.file = g_strdup(path);
	l.kvs = profile_kv_array_new();
	if (!npmrc_parse(text, len, path, h->env, l.kvs, error)) {
		npm_layer_clear(&l);
		return FALSE;
	}
	if (at >= layers->len)
		g_array_append_val(layers, l);
	else
		g_array_insert_val(layers, at, l);
	return TRUE;
}

/* npm's local prefix: the nearest directory from CWD up holding
 * package.json or node_modules; CWD when there is none. */
static char *
npm_local_prefix(const ProfileHost *h)
{
	g_autofree char *dir = g_strdup(h->cwd);

	for (;;) {
		g_autofree char *pkg = g_build_filename(dir, "package.json", NULL);
		g_autofree char *mods = g_build_filename(dir, "node_modules", NULL);
		g_autofree char *parent = NULL;

		if (h->exists(h, pkg) || h->exists(h, mods))
			return g_steal_pointer(&dir);
		parent = g_path_get_dirname(dir);
		if (strcmp(parent, dir) == 0)
			return g_strdup(h->cwd);
		g_free(dir);
		dir = g_steal_pointer(&parent);
	}
}

/* LEVELS directories above the program's canonical path ("/usr/bin/node" → "/usr"). */
static char *
program_prefix(const ProfileHost *h, const char *name, guint levels)
{
	g_autofree char *path = h->find_program(h, name);
	char *dir;

	if (!path)
		return NULL;
	dir = g_steal_pointer(&path);
	for (guint i = 0; i < levels; i++) {
		char *up = g_path_get_dirname(dir);

		g_free(dir);
		dir = up;
	}
	return dir;
}

static gboolean
npm_add_registries(GArray *layers, ProfileResult *r, GError **error)
{
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
	gboolean have_default = FALSE;

	for (guint i = 0; i < layers->len; i++) {
		const NpmLayer *l = &g_array_index(layers, NpmLayer, i);

		for (guint j = 0; j < l->kvs->len; j++) {
			const char *key = g_array_index(l->kvs, ProfileKV, j).key;
			g_autofree char *where = NULL;
			const char *url;

			if (strcmp(key, "registry") != 0 &&
			    !(key[0] == '@' && g_str_has_suffix(key, ":registry")))
				continue;
			if (!g_hash_table_add(seen, (gpointer)key))
				continue;
			url = npm_get(layers, key, &where);
			if (!url || !*url)
				continue;
			have_default = have_default || strcmp(key, "registry") == 0;
			if (!profile_add_url(r, url, where, error))
				return FALSE;
		}
	}
	if (!have_default)
		return profile_add_url(r, NPM_DEFAULT_REGISTRY, "npm's default registry", error);
	return TRUE;
}

static gboolean
npm_add_proxies(GArray *layers, ProfileResult *r, GError **error)
{
	static const char *const keys[] = { "https-proxy", "proxy" };

	for (gsize i = 0; i < G_N_ELEMENTS(keys); i++) {
		g_autofree char *where = NULL;
		g_autofree char *var = g_strdup_printf("npm_config_%s", keys[i]);
		const char *url = npm_get(layers, keys[i], &where);

		g_strdelimit(var, "-", '_');
		if (url && *url && !profile_add_proxy(r, var, url, where, error))
			return FALSE;
	}
	return TRUE;
}

gboolean
profile_npm(const ProfileHost *h, ProfileResult *r, GError **error)
{
	g_autoptr(GArray) layers = g_array_new(FALSE, TRUE, sizeof(NpmLayer));
	g_autofree char *npm_dir = program_prefix(h, "npm", 2);
	g_autofree char *local = npm_local_prefix(h);
	g_autofree char *project = g_build_filename(local, ".npmrc", NULL);
	g_autofree char *user = NULL;
	g_autofree char *global = NULL;
	g_autoptr(GArray) builtin = g_array_new(FALSE, TRUE, sizeof(NpmLayer));
	guint global_at;
	const char *v;

	g_array_set_clear_func(layers, npm_layer_clear);
	g_array_set_clear_func(builtin, npm_layer_clear);
	npm_env_layer(h, layers);
	if (!npm_file_layer(h, r, layers, G_MAXUINT, project, error))
		return FALSE;
	v = npm_get(layers, "userconfig", NULL);
	user = v ? g_strdup(v) : g_build_filename(h->home, ".npmrc", NULL);
	if (strcmp(user, project) != 0 && !npm_file_layer(h, r, layers, G_MAXUINT, user, error))
		return FALSE;
	/* npm-cli.js is NPM_DIR/bin/npm-cli.js: the builtin npmrc is NPM_DIR/npmrc */
	if (npm_dir) {
		g_autofree char *path = g_build_filename(npm_dir, "npmrc", NULL);

		if (!npm_file_layer(h, r, builtin, G_MAXUINT, path, error))
			return FALSE;
	}
	/* globalconfig from everything above, the builtin file included;
	 * the global file itself ranks above the builtin one */
	global_at = layers->len;
	for (guint i = 0; i < builtin->len; i++) {
		NpmLayer l = g_array_index(builtin, NpmLayer, i);

		g_array_index(builtin, NpmLayer, i).file = NULL;
		g_array_index(builtin, NpmLayer, i).kvs = profile_kv_array_new();
		g_array_append_val(layers, l);
	}
	v = npm_get(layers, "globalconfig", NULL);
	if (v) {
		global = g_strdup(v);
	} else {
		g_autofree char *prefix = g_strdup(npm_get(layers, "prefix", NULL));

		if (!prefix)
			prefix = g_strdup(profile_getenv(h, "PREFIX"));
		if (!prefix)
			prefix = program_prefix(h, "node", 2);
		if (prefix)
			global = g_build_filename(prefix, "etc", "npmrc", NULL);
	}
	if (global && strcmp(global, user) != 0 && strcmp(global, project) != 0 &&
	    !npm_file_layer(h, r, layers, global_at, global, error))
		return FALSE;
	if (!npm_add_registries(layers, r, error) || !npm_add_proxies(layers, r, error))
		return FALSE;
	r->cache_var = g_strdup("npm_config_cache");
	return TRUE;
}
