/* SPDX-License-Identifier: MIT
 *
 * apt.c — the apt profile.
 *
 * Read, as apt reads them with its default Dir:: settings (a changed
 * Dir::Etc is not followed): /etc/apt/sources.list and
 * /etc/apt/sources.list.d/ *.list (one-line form) and *.sources (deb822);
 * $APT_CONFIG or the files of /etc/apt/apt.conf.d/ then /etc/apt/apt.conf
 * for Acquire::http::Proxy / Acquire::https::Proxy (also per host:
 * Acquire::http::Proxy::HOST, "DIRECT" meaning none).  Every http/https
 * URI of an enabled source is allowed; "mirror+http://…" allows the host of
 * the mirror list (the mirrors it names are for --allow); file:, cdrom: and
 * copy: need no network.
 */
#include "net/profile/profile.h"
#include "common/error.h"

#include <string.h>

#define APT_DIR "/etc/apt"

/* The URI of a source as a network URL, or NULL (local, or not http). */
static const char *
apt_network_uri(const char *uri)
{
	static const char *const wrappers[] = { "mirror+", "tor+" };

	for (gsize i = 0; i < G_N_ELEMENTS(wrappers); i++)
		if (g_str_has_prefix(uri, wrappers[i]))
			uri += strlen(wrappers[i]);
	if (g_str_has_prefix(uri, "http://") || g_str_has_prefix(uri, "https://"))
		return uri;
	return NULL;
}

/* "deb [arch=amd64 signed-by=/k.gpg] http://deb.example/debian bookworm main" */
static gboolean
apt_one_line(char *l, const char *source, guint line, GPtrArray *uris, GArray *lines,
	     GError **error)
{
	char *p = l, *uri;
	size_t n;

	n = strcspn(p, " \t");
	if ((n != 3 || strncmp(p, "deb", 3) != 0) && (n != 7 || strncmp(p, "deb-src", 7) != 0))
		return profile_bad_line(error, source, line,
					"expected 'deb' or 'deb-src' at the start of a source line");
	p += n;
	p += strspn(p, " \t");
	if (*p == '[') {
		char *close = strchr(p, ']');

		if (!close)
			return profile_bad_line(error, source, line, "missing ']' after the options");
		p = close + 1;
		p += strspn(p, " \t");
	}
	uri = p;
	n = strcspn(p, " \t");
	p += n;
	if (n == 0 || !*(p + strspn(p, " \t")))
		return profile_bad_line(error, source, line,
					"a source line needs a URI and a suite");
	g_ptr_array_add(uris, g_strndup(uri, n));
	g_array_append_val(lines, line);
	return TRUE;
}

/* One deb822 stanza's fields, once it ends. */
typedef struct {
	char *uris;
	guint uris_line;
	gboolean disabled;
} AptStanza;

static void
apt_stanza_flush(AptStanza *st, GPtrArray *uris, GArray *lines)
{
	if (st->uris && !st->disabled) {
		g_auto(GStrv) words = g_strsplit_set(st->uris, " \t\n", -1);

		for (guint i = 0; words[i]; i++)
			if (*words[i]) {
				g_ptr_array_add(uris, g_strdup(words[i]));
				g_array_append_val(lines, st->uris_line);
			}
	}
	g_clear_pointer(&st->uris, g_free);
	st->disabled = FALSE;
}

gboolean
apt_sources_parse(const char *text, gsize len, const char *source, gboolean deb822,
		  GPtrArray *uris, GArray *lines, GError **error)
{
	g_autofree char *copy = g_strndup(text, len);
	g_auto(GStrv) ls = NULL;
	AptStanza st = { 0 };
	gboolean in_uris = FALSE;

	if (strlen(copy) != len)
		return profile_bad_line(error, source, 1, "NUL byte in the file");
	ls = g_strsplit(copy, "\n", -1);
	for (guint i = 0; ls[i]; i++) {
		char *raw = ls[i];
		char *hash = strchr(raw, '#');
		char *l, *colon;
		gboolean cont = g_ascii_isspace(raw[0]) && raw[0] != '\n';

		if (hash)
			*hash = '\0';
		l = g_strstrip(raw);
		if (!deb822) {
			if (*l && !apt_one_line(l, source, i + 1, uris, lines, error))
				return FALSE;
			continue;
		}
		if (!*l) {
			/* a blank line (not a comment line) ends a stanza */
			if (!hash)
				apt_stanza_flush(&st, uris, lines);
			in_uris = FALSE;
			continue;
		}
		if (cont) {
			if (in_uris) {
				char *j = g_strconcat(st.uris, " ", l, NULL);

				g_free(st.uris);
				st.uris = j;
			}
			continue;
		}
		colon = strchr(l, ':');
		if (!colon || colon == l) {
			apt_stanza_flush(&st, uris, lines);
			return profile_bad_line(error, source, i + 1, "expected 'Field: value'");
		}
		*colon = '\0';
		in_uris = g_ascii_strcasecmp(l, "URIs") == 0;
		if (in_uris) {
			g_free(st.uris);
			st.uris = g_strdup(g_strstrip(colon + 1));
			st.uris_line = i + 1;
		} else if (g_ascii_strcasecmp(l, "Enabled") == 0) {
			st.disabled = g_ascii_strcasecmp(g_strstrip(colon + 1), "no") == 0;
		}
	}
	apt_stanza_flush(&st, uris, lines);
	return TRUE;
}

/* --- apt.conf --- */

typedef struct {
	const char *p, *end;
	const char *source;
	guint line;
} AptLexer;

typedef enum { TOK_END, TOK_WORD, TOK_STRING, TOK_OPEN, TOK_CLOSE, TOK_SEMI } AptTok;

/* Skip blanks and comments ("//…", "/ *…* /", and '#' lines other than
 * the #include / #clear directives, which are skipped too). */
static void
apt_skip(AptLexer *lx)
{
	while (lx->p < lx->end) {
		if (*lx->p == '\n') {
			lx->line++;
			lx->p++;
		} else if (g_ascii_isspace(*lx->p)) {
			lx->p++;
		} else if (*lx->p == '#' || (lx->p + 1 < lx->end && lx->p[0] == '/' && lx->p[1] == '/')) {
			while (lx->p < lx->end && *lx->p != '\n')
				lx->p++;
		} else if (lx->p + 1 < lx->end && lx->p[0] == '/' && lx->p[1] == '*') {
			lx->p += 2;
			while (lx->p + 1 < lx->end && !(lx->p[0] == '*' && lx->p[1] == '/')) {
				if (*lx->p == '\n')
					lx->line++;
				lx->p++;
			}
			lx->p = MIN(lx->p + 2, lx->end);
		} else {
			return;
		}
	}
}

static AptTok
apt_next(AptLexer *lx, char **text, GError **error)
{
	const char *start;

	*text = NULL;
	apt_skip(lx);
	if (lx->p >= lx->end)
		return TOK_END;
	switch (*lx->p) {
	case '{':
		lx->p++;
		return TOK_OPEN;
	case '}':
		lx->p++;
		return TOK_CLOSE;
	case ';':
		lx->p++;
		return TOK_SEMI;
	case '"':
		start = ++lx->p;
		while (lx->p < lx->end && *lx->p != '"' && *lx->p != '\n')
			lx->p++;
		if (lx->p >= lx->end || *lx->p != '"') {
			profile_bad_line(error, lx->source, lx->line, "missing closing '\"'");
			return TOK_END;
		}
		*text = g_strndup(start, (gsize)(lx->p++ - start));
		return TOK_STRING;
	default:
		start = lx->p;
		while (lx->p < lx->end && !g_ascii_isspace(*lx->p) && !strchr("{};\"", *lx->p))
			lx->p++;
		*text = g_strndup(start, (gsize)(lx->p - start));
		return TOK_WORD;
	}
}

static void
apt_kv_add(GArray *kvs, GPtrArray *scope, const char *name, const char *value, guint line)
{
	ProfileKV kv = { .section = g_strdup(""), .line = line };
	g_autoptr(GString) key = g_string_new(NULL);

	for (guint i = 0; i < scope->len; i++)
		g_string_append_printf(key, "%s::", (char *)scope->pdata[i]);
	g_string_append(key, name);
	kv.key = g_ascii_strdown(key->str, -1);
	kv.value = g_strdup(value);
	g_array_append_val(kvs, kv);
}

gboolean
aptconf_parse(const char *text, gsize len, const char *source, GArray *kvs, GError **error)
{
	AptLexer lx = { text, text + len, source, 1 };
	g_autoptr(GPtrArray) scope = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) local = NULL;

	if (memchr(text, '\0', len))
		return profile_bad_line(error, source, 1, "NUL byte in the file");
	for (;;) {
		g_autofree char *name = NULL;
		g_autofree char *value = NULL;
		guint line;
		AptTok t = apt_next(&lx, &name, &local);

		if (local) {
			g_propagate_error(error, g_steal_pointer(&local));
			return FALSE;
		}
		if (t == TOK_END)
			break;
		if (t == TOK_SEMI)
			continue;
		if (t == TOK_CLOSE) {
			if (scope->len == 0)
				return profile_bad_line(error, source, lx.line, "unexpected '}'");
			g_ptr_array_set_size(scope, scope->len - 1);
			continue;
		}
		if (t == TOK_STRING) {
			/* an element of a list: NeverAutoRemove { "^linux-.*"; }; */
			if (scope->len == 0)
				return profile_bad_line(error, source, lx.line,
							"expected an option name, e.g. "
							"Acquire::http::Proxy");
			continue;
		}
		if (t != TOK_WORD)
			return profile_bad_line(error, source, lx.line,
						"expected an option name, e.g. Acquire::http::Proxy");
		line = lx.line;
		t = apt_next(&lx, &value, &local);
		if (local) {
			g_propagate_error(error, g_steal_pointer(&local));
			return FALSE;
		}
		if (t == TOK_OPEN) {
			if (scope->len >= 32)
				return profile_bad_line(error, source, line, "nested too deep");
			g_ptr_array_add(scope, g_steal_pointer(&name));
			continue;
		}
		if (t == TOK_SEMI) {
			apt_kv_add(kvs, scope, name, "", line);
			continue;
		}
		if (t != TOK_STRING && t != TOK_WORD)
			return profile_bad_line(error, source, line, "expected a value after '%s'",
						name);
		apt_kv_add(kvs, scope, name, value, line);
		g_clear_pointer(&value, g_free);
		t = apt_next(&lx, &value, &local);
		if (local) {
			g_propagate_error(error, g_steal_pointer(&local));
			return FALSE;
		}
		if (t != TOK_SEMI)
			return profile_bad_line(error, source, line, "missing ';' after '%s'", name);
	}
	if (scope->len)
		return profile_bad_line(error, source, lx.line, "missing '}' at the end");
	return TRUE;
}

/* --- the profile --- */

static gboolean
apt_sources_file(const ProfileHost *h, ProfileResult *r, const char *path, gboolean deb822,
		 GError **error)
{
	g_autoptr(GPtrArray) uris = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GArray) lines = g_array_new(FALSE, FALSE, sizeof(guint));
	gsize len;
	g_autofree char *text = NULL;

	if (!profile_read(h, r, path, TRUE, &text, &len, error))
		return FALSE;
	if (!text)
		return TRUE;
	if (!apt_sources_parse(text, len, path, deb822, uris, lines, error))
		return FALSE;
	for (guint i = 0; i < uris->len; i++) {
		const char *url = apt_network_uri(uris->pdata[i]);
		g_autofree char *where = g_strdup_printf("%s:%u", path,
							 g_array_index(lines, guint, i));

		if (url && !profile_add_url(r, url, where, error))
			return FALSE;
		if (url && url != uris->pdata[i])
			g_ptr_array_add(r->notes,
					g_strdup_printf("%s: the mirrors a mirror list names are "
							"not read: add them with --allow", where));
	}
	return TRUE;
}

static gboolean
apt_conf_file(const ProfileHost *h, ProfileResult *r, const char *path, GArray *kvs,
	      GPtrArray *wheres, GError **error)
{
	gsize len;
	guint before = kvs->len;
	g_autofree char *text = NULL;

	if (!profile_read(h, r, path, TRUE, &text, &len, error))
		return FALSE;
	if (!text)
		return TRUE;
	if (!aptconf_parse(text, len, path, kvs, error))
		return FALSE;
	for (guint i = before; i < kvs->len; i++)
		g_ptr_array_add(wheres, g_strdup_printf("%s:%u", path,
							g_array_index(kvs, ProfileKV, i).line));
	return TRUE;
}

/* apt reads the parts whose names are letters, digits, '_', '-', '.' with
 * no extension or ".conf" / ".list" / ".sources" (SUFFIX). */
static gboolean
apt_part_name_ok(const char *name, const char *suffix)
{
	if (suffix && !g_str_has_suffix(name, suffix))
		return FALSE;
	if (name[0] == '.')
		return FALSE;
	for (const char *c = name; *c; c++)
		if (!g_ascii_isalnum(*c) && !strchr("_-.", *c))
			return FALSE;
	return TRUE;
}

static gboolean
apt_proxies(const ProfileHost *h, ProfileResult *r, GError **error)
{
	g_autoptr(GArray) kvs = profile_kv_array_new();
	g_autoptr(GPtrArray) wheres = g_ptr_array_new_with_free_func(g_free);
	const char *apt_config = profile_getenv(h, "APT_CONFIG");
	g_autoptr(GPtrArray) parts = h->list_dir(h, APT_DIR "/apt.conf.d");

	for (guint i = 0; parts && i < parts->len; i++) {
		const char *name = parts->pdata[i];
		g_autofree char *path = g_build_filename(APT_DIR "/apt.conf.d", name, NULL);

		if ((apt_part_name_ok(name, NULL) && !strchr(name, '.')) ||
		    apt_part_name_ok(name, ".conf")) {
			if (!apt_conf_file(h, r, path, kvs, wheres, error))
				return FALSE;
		}
	}
	if (!apt_conf_file(h, r, apt_config && *apt_config ? apt_config : APT_DIR "/apt.conf",
			   kvs, wheres, error))
		return FALSE;
	for (guint i = 0; i < kvs->len; i++) {
		const ProfileKV *kv = &g_array_index(kvs, ProfileKV, i);

		if (!g_str_has_prefix(kv->key, "acquire::http::proxy") &&
		    !g_str_has_prefix(kv->key, "acquire::https::proxy"))
			continue;
		if (!*kv->value || g_ascii_strcasecmp(kv->value, "DIRECT") == 0)
			continue;
		if (!profile_add_proxy(r, NULL, kv->value, wheres->pdata[i], error))
			return FALSE;
	}
	return TRUE;
}

gboolean
profile_apt(const ProfileHost *h, ProfileResult *r, GError **error)
{
	g_autoptr(GPtrArray) parts = h->list_dir(h, APT_DIR "/sources.list.d");

	if (!apt_sources_file(h, r, APT_DIR "/sources.list", FALSE, error))
		return FALSE;
	for (guint i = 0; parts && i < parts->len; i++) {
		const char *name = parts->pdata[i];
		g_autofree char *path = g_build_filename(APT_DIR "/sources.list.d", name, NULL);

		if (apt_part_name_ok(name, ".list") &&
		    !apt_sources_file(h, r, path, FALSE, error))
			return FALSE;
		if (apt_part_name_ok(name, ".sources") &&
		    !apt_sources_file(h, r, path, TRUE, error))
			return FALSE;
	}
	return apt_proxies(h, r, error);
}
