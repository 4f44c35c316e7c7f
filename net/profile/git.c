/* SPDX-License-Identifier: MIT
 *
 * git.c — the git profile: the hosts of the remotes of the repository the
 * command starts in.
 *
 * The repository: the nearest directory from CWD upwards holding .git (a
 * directory, or a file "gitdir: PATH" as worktrees and submodules have; a
 * worktree's remotes are in the common dir named by its "commondir"
 * file).  Read: its config's remote.NAME.url and .pushurl, and url.BASE.insteadOf
 * / pushInsteadOf rewrites from it and from ~/.gitconfig and
 * $XDG_CONFIG_HOME/git/config (which are bound read-only inside, for
 * user.name and the like).  include.path is not followed.  URL forms:
 * https://, http://, ssh://, git://, and scp-like [USER@]HOST:PATH (ssh,
 * port 22); local paths and file:// need no network.  Keys for ssh are
 * not made visible: the sandbox's $HOME is empty.
 */
#include "net/profile/profile.h"
#include "common/error.h"

#include <string.h>

/* git's value syntax: "…" quoting, \n \t \b \" \\ escapes, '#'/';' start a
 * comment outside quotes. */
static gboolean
git_value(const char *v, const char *source, guint line, char **out, GError **error)
{
	GString *s = g_string_new(NULL);
	gboolean quoted = FALSE;

	for (const char *c = v; *c; c++) {
		if (*c == '"') {
			quoted = !quoted;
		} else if (*c == '\\') {
			c++;
			switch (*c) {
			case 'n': g_string_append_c(s, '\n'); break;
			case 't': g_string_append_c(s, '\t'); break;
			case 'b': if (s->len) g_string_truncate(s, s->len - 1); break;
			case '"': case '\\': g_string_append_c(s, *c); break;
			default:
				g_string_free(s, TRUE);
				return profile_bad_line(error, source, line, "bad escape '\\%.1s'", c);
			}
		} else if (!quoted && (*c == '#' || *c == ';')) {
			break;
		} else {
			g_string_append_c(s, *c);
		}
	}
	if (quoted) {
		g_string_free(s, TRUE);
		return profile_bad_line(error, source, line, "missing closing '\"'");
	}
	*out = g_strstrip(g_string_free(s, FALSE));
	return TRUE;
}

/* [section] or [section "subsection"] (or the old [section.sub]). */
static gboolean
git_section(char *l, const char *source, guint line, char **out, GError **error)
{
	char *close = strrchr(l, ']');
	char *quote;

	if (!close)
		return profile_bad_line(error, source, line, "missing ']' after section name");
	*close = '\0';
	quote = strchr(l + 1, '"');
	if (!quote) {
		*out = g_ascii_strdown(g_strstrip(l + 1), -1);
		return TRUE;
	}
	{
		char *end = strrchr(quote, '"');
		g_autofree char *name = NULL;

		if (end == quote)
			return profile_bad_line(error, source, line, "missing closing '\"'");
		*quote = '\0';
		*end = '\0';
		name = g_ascii_strdown(g_strstrip(l + 1), -1);
		*out = g_strdup_printf("%s.%s", name, quote + 1);
	}
	return TRUE;
}

gboolean
gitconfig_parse(const char *text, gsize len, const char *source, GArray *kvs, GError **error)
{
	g_autofree char *copy = g_strndup(text, len);
	g_auto(GStrv) lines = NULL;
	g_autofree char *section = NULL;

	if (strlen(copy) != len)
		return profile_bad_line(error, source, 1, "NUL byte in the file");
	lines = g_strsplit(copy, "\n", -1);
	for (guint i = 0; lines[i]; i++) {
		char *l = g_strstrip(lines[i]);
		char *eq;
		ProfileKV kv = { 0 };

		if (!*l || *l == '#' || *l == ';')
			continue;
		if (*l == '[') {
			g_free(section);
			section = NULL;
			if (!git_section(l, source, i + 1, &section, error))
				return FALSE;
			continue;
		}
		if (!section)
			return profile_bad_line(error, source, i + 1,
						"'key = value' before any [section]");
		eq = strchr(l, '=');
		if (eq)
			*eq = '\0';
		kv.key = g_ascii_strdown(g_strstrip(l), -1);
		for (const char *c = kv.key; *c; c++)
			if (!g_ascii_isalnum(*c) && *c != '-') {
				g_free(kv.key);
				return profile_bad_line(error, source, i + 1, "invalid key name");
			}
		if (!*kv.key) {
			g_free(kv.key);
			return profile_bad_line(error, source, i + 1, "missing key name");
		}
		if (!eq) {
			kv.value = g_strdup("true");
		} else if (!git_value(eq + 1, source, i + 1, &kv.value, error)) {
			g_free(kv.key);
			return FALSE;
		}
		kv.section = g_strdup(section);
		kv.line = i + 1;
		g_array_append_val(kvs, kv);
	}
	return TRUE;
}

/* The repository's git dir holding config, or NULL when CWD is in none. */
static char *
git_find_config(const ProfileHost *h, ProfileResult *r, GError **error)
{
	g_autofree char *dir = g_strdup(h->cwd);

	for (;;) {
		g_autofree char *dotgit = g_build_filename(dir, ".git", NULL);
		g_autofree char *cfg = g_build_filename(dotgit, "config", NULL);
		g_autofree char *parent = NULL;

		if (h->exists(h, cfg))
			return g_steal_pointer(&cfg);
		if (h->exists(h, dotgit)) {
			/* a "gitdir: PATH" file: worktree or submodule */
			g_autoptr(GError) local = NULL;
			gboolean missing;
			gsize len;
			g_autofree char *text = h->read_file(h, dotgit, &len, &missing, &local);
			g_autofree char *gitdir = NULL;
			g_autofree char *common = NULL;
			g_autofree char *common_text = NULL;

			(void)r;
			if (!text || !g_str_has_prefix(text, "gitdir:"))
				return NULL;
			gitdir = g_strstrip(g_strdup(text + 7));
			if (!g_path_is_absolute(gitdir)) {
				char *abs = g_canonicalize_filename(gitdir, dir);

				g_free(gitdir);
				gitdir = abs;
			}
			common = g_build_filename(gitdir, "commondir", NULL);
			common_text = h->read_file(h, common, &len, &missing, NULL);
			if (common_text) {
				g_autofree char *c = g_strstrip(g_strdup(common_text));
				char *abs = g_canonicalize_filename(c, gitdir);

				g_free(gitdir);
				gitdir = abs;
			}
			return g_build_filename(gitdir, "config", NULL);
		}
		parent = g_path_get_dirname(dir);
		if (strcmp(parent, dir) == 0)
			return NULL;
		g_free(dir);
		dir = g_steal_pointer(&parent);
	}
	(void)error;
}

static gboolean
git_read(const ProfileHost *h, ProfileResult *r, const char *path, gboolean bind,
	 GArray *kvs, GPtrArray *sources, GError **error)
{
	gsize len;
	guint before = kvs->len;
	g_autofree char *text = NULL;

	if (!profile_read(h, r, path, bind, &text, &len, error))
		return FALSE;
	if (!text)
		return TRUE;
	if (!gitconfig_parse(text, len, path, kvs, error))
		return FALSE;
	for (guint i = before; i < kvs->len; i++)
		g_ptr_array_add(sources, g_strdup(path));
	return TRUE;
}

/* Apply the longest url.BASE.insteadOf prefix, as git does. */
static char *
git_rewrite(GArray *kvs, const char *url, const char *which)
{
	const char *best_base = NULL;
	size_t best_len = 0;

	for (guint i = 0; i < kvs->len; i++) {
		const ProfileKV *kv = &g_array_index(kvs, ProfileKV, i);
		size_t n = strlen(kv->value);

		if (!g_str_has_prefix(kv->section, "url.") || strcmp(kv->key, which) != 0)
			continue;
		if (n > best_len && strncmp(url, kv->value, n) == 0) {
			best_len = n;
			best_base = kv->section + 4;
		}
	}
	if (!best_base)
		return g_strdup(url);
	return g_strconcat(best_base, url + best_len, NULL);
}

/* A remote URL → entry; local paths add nothing. */
static gboolean
git_add_remote(ProfileResult *r, const char *url, const char *where, GError **error)
{
	const char *colon = strchr(url, ':');
	const char *slash = strchr(url, '/');

	if (strstr(url, "://")) {
		if (g_str_has_prefix(url, "file://"))
			return TRUE;
		return profile_add_url(r, url, where, error);
	}
	/* scp-like [USER@]HOST:PATH: a ':' before any '/' */
	if (colon && (!slash || colon < slash) && colon > url) {
		g_autofree char *host = g_strndup(url, (gsize)(colon - url));
		g_autofree char *ssh = g_strdup_printf("ssh://%s/", host);

		return profile_add_url(r, ssh, where, error);
	}
	return TRUE;
}

gboolean
profile_git(const ProfileHost *h, ProfileResult *r, GError **error)
{
	g_autoptr(GArray) kvs = profile_kv_array_new();
	g_autoptr(GPtrArray) sources = g_ptr_array_new_with_free_func(g_free);
	const char *xdg = profile_getenv(h, "XDG_CONFIG_HOME");
	g_autofree char *xdg_cfg = xdg && g_path_is_absolute(xdg)
		? g_build_filename(xdg, "git", "config", NULL)
		: g_build_filename(h->home, ".config", "git", "config", NULL);
	g_autofree char *user_cfg = g_build_filename(h->home, ".gitconfig", NULL);
	g_autofree char *repo_cfg = git_find_config(h, r, error);

	if (!git_read(h, r, xdg_cfg, TRUE, kvs, sources, error) ||
	    !git_read(h, r, user_cfg, TRUE, kvs, sources, error))
		return FALSE;
	if (!repo_cfg) {
		g_ptr_array_add(r->notes, g_strdup_printf("%s is not in a git repository: no "
							  "remotes", h->cwd));
		return TRUE;
	}
	if (!git_read(h, r, repo_cfg, FALSE, kvs, sources, error))
		return FALSE;
	for (guint i = 0; i < kvs->len; i++) {
		const ProfileKV *kv = &g_array_index(kvs, ProfileKV, i);
		g_autofree char *where = NULL;
		g_autofree char *url = NULL;

		if (!g_str_has_prefix(kv->section, "remote.") ||
		    (strcmp(kv->key, "url") != 0 && strcmp(kv->key, "pushurl") != 0))
			continue;
		where = g_strdup_printf("%s:%u", (char *)sources->pdata[i], kv->line);
		url = git_rewrite(kvs, kv->value, strcmp(kv->key, "pushurl") == 0
						      ? "pushinsteadof" : "insteadof");
		if (!git_add_remote(r, url, where, error))
			return FALSE;
	}
	return TRUE;
}
