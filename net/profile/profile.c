/* SPDX-License-Identifier: MIT
 *
 * profile.c — the profile registry, the result model and the helpers every
 * profile shares (URLs → entries, settings files, proxies).  Pure: the host
 * is reached only through the ProfileHost callbacks.
 */
#include "net/profile/profile.h"
#include "net/allowlist.h"
#include "common/error.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <string.h>

typedef gboolean (*ProfileFunc)(const ProfileHost *h, ProfileResult *r, GError **error);

static const struct {
	const char *name;
	ProfileFunc func;
} profiles[] = {
	{ "npm", profile_npm },
	{ "pip", profile_pip },
	{ "apt", profile_apt },
	{ "git", profile_git },
	{ "go", profile_go },
	{ "cargo", profile_cargo },
};

const char *const *
profile_names(void)
{
	static const char *names[G_N_ELEMENTS(profiles) + 1];

	if (!names[0])
		for (gsize i = 0; i < G_N_ELEMENTS(profiles); i++)
			names[i] = profiles[i].name;
	return names;
}

char *
profile_names_joined(void)
{
	return g_strjoinv(", ", (char **)profile_names());
}

static void
profile_entry_clear(gpointer p)
{
	ProfileEntry *e = p;

	g_clear_pointer(&e->entry, g_free);
	g_clear_pointer(&e->where, g_free);
}

ProfileResult *
profile_result_new(const char *name)
{
	ProfileResult *r = g_new0(ProfileResult, 1);

	r->name = g_strdup(name);
	r->entries = g_array_new(FALSE, TRUE, sizeof(ProfileEntry));
	g_array_set_clear_func(r->entries, profile_entry_clear);
	r->files = g_ptr_array_new_with_free_func(g_free);
	r->env = g_ptr_array_new_with_free_func(g_free);
	r->host_ports = g_array_new(FALSE, FALSE, sizeof(guint16));
	r->notes = g_ptr_array_new_with_free_func(g_free);
	return r;
}

void
profile_result_free(ProfileResult *r)
{
	if (!r)
		return;
	g_free(r->name);
	g_array_unref(r->entries);
	g_ptr_array_unref(r->files);
	g_ptr_array_unref(r->env);
	g_array_unref(r->host_ports);
	g_ptr_array_unref(r->notes);
	g_free(r->cache_var);
	g_free(r);
}

ProfileResult *
profile_evaluate(const char *name, const ProfileHost *host, GError **error)
{
	for (gsize i = 0; i < G_N_ELEMENTS(profiles); i++) {
		g_autoptr(ProfileResult) r = NULL;

		if (strcmp(profiles[i].name, name) != 0)
			continue;
		r = profile_result_new(name);
		if (!profiles[i].func(host, r, error) || !profile_add_env_proxies(host, r, error))
			return NULL;
		return g_steal_pointer(&r);
	}
	{
		g_autofree char *known = profile_names_joined();

		g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_CONFIG,
			    "unknown profile '%s'; known profiles: %s", name, known);
	}
	return NULL;
}

const char *
profile_getenv(const ProfileHost *h, const char *name)
{
	return g_environ_getenv(h->env, name);
}

gboolean
profile_bad_line(GError **error, const char *file, guint line, const char *fmt, ...)
{
	va_list ap;
	g_autofree char *what = NULL;

	va_start(ap, fmt);
	what = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_CONFIG, "%s:%u: %s", file, line, what);
	return FALSE;
}

void
profile_add_entry(ProfileResult *r, const char *entry, const char *where)
{
	ProfileEntry e;

	for (guint i = 0; i < r->entries->len; i++)
		if (strcmp(g_array_index(r->entries, ProfileEntry, i).entry, entry) == 0)
			return;
	e.entry = g_strdup(entry);
	e.where = g_strdup(where);
	g_array_append_val(r->entries, e);
}

/* The entry must be one the allowlist accepts: checked now, so a bad URL
 * is reported with the line of the settings file that holds it. */
gboolean
profile_add_url(ProfileResult *r, const char *url, const char *where, GError **error)
{
	g_autofree char *entry = NULL;
	g_autoptr(GArray) check = allowlist_new();
	g_autoptr(GError) local = NULL;

	if (!allowlist_url_to_entry(url, where, &entry, NULL, &local) ||
	    !allowlist_parse_line(entry, where, check, &local)) {
		g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_CONFIG, "%s (in '%s')", local->message,
			    url);
		return FALSE;
	}
	profile_add_entry(r, entry, where);
	return TRUE;
}

gboolean
profile_read(const ProfileHost *h, ProfileResult *r, const char *path, gboolean record,
	     char **text, gsize *len, GError **error)
{
	g_autoptr(GError) local = NULL;
	gboolean missing = FALSE;
	gboolean seen = FALSE;

	*text = h->read_file(h, path, len, &missing, &local);
	if (!*text) {
		if (!local)
			return TRUE;
		g_propagate_error(error, g_steal_pointer(&local));
		return FALSE;
	}
	for (guint i = 0; record && i < r->files->len; i++)
		seen = seen || strcmp(r->files->pdata[i], path) == 0;
	if (record && !seen)
		g_ptr_array_add(r->files, g_strdup(path));
	return TRUE;
}

/* "127.0.0.1", "[::1]", "localhost": a proxy only the host can reach. */
static gboolean
is_loopback_host(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;
	g_autofree char *bare = g_strdup(host);
	size_t n = strlen(bare);

	if (n >= 2 && bare[0] == '[' && bare[n - 1] == ']') {
		memmove(bare, bare + 1, n - 2);
		bare[n - 2] = '\0';
	}
	if (g_ascii_strcasecmp(bare, "localhost") == 0 ||
	    g_str_has_suffix(bare, ".localhost"))
		return TRUE;
	if (inet_pton(AF_INET, bare, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	return inet_pton(AF_INET6, bare, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

gboolean
profile_add_proxy(ProfileResult *r, const char *var, const char *url, const char *where,
		  GError **error)
{
	g_autofree char *entry = NULL;
	g_autoptr(GError) local = NULL;
	const char *colon;
	guint64 port;

	if (!*url)
		return TRUE;
	/* curl and pip accept "host:port" without a scheme and mean http */
	if (!allowlist_is_url(url)) {
		g_autofree char *with_scheme = g_strconcat("http://", url, NULL);

		return profile_add_proxy(r, var, with_scheme, where, error);
	}
	if (!allowlist_url_to_entry(url, where, &entry, NULL, &local)) {
		g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_CONFIG, "%s (proxy '%s')",
			    local->message, url);
		return FALSE;
	}
	colon = strrchr(entry, ':');
	g_assert(colon);
	{
		g_autofree char *host = g_strndup(entry, (gsize)(colon - entry));

		if (!is_loopback_host(host))
			return profile_add_url(r, url, where, error);
	}
	if (!g_ascii_string_to_unsigned(colon + 1, 10, 1, 65535, &port, NULL))
		g_assert_not_reached();
	{
		guint16 p = (guint16)port;
		const char *sep = strstr(url, "://");
		const char *auth = sep + 3;
		const char *auth_end = auth + strcspn(auth, "/?#");
		const char *at = g_strrstr_len(auth, auth_end - auth, "@");
		gboolean seen = FALSE;

		for (guint i = 0; i < r->host_ports->len; i++)
			seen = seen || g_array_index(r->host_ports, guint16, i) == p;
		if (!seen)
			g_array_append_val(r->host_ports, p);
		if (var) {
			/* keep scheme, credentials and path; only the host changes */
			g_autofree char *prefix = g_strndup(url, (gsize)((at ? at + 1 : auth) - url));

			g_ptr_array_add(r->env, g_strdup_printf("%s=%s10.0.2.2:%u%s", var, prefix,
								p, auth_end));
		}
		g_ptr_array_add(r->notes,
				g_strdup_printf("%s: proxy on the host's loopback port %u: reached "
						"inside as 10.0.2.2:%u (--allow-host-port %u)",
						where, p, p, p));
	}
	return TRUE;
}

gboolean
profile_add_env_proxies(const ProfileHost *h, ProfileResult *r, GError **error)
{
	static const char *const vars[] = {
		"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy",
	};
	gboolean any = FALSE;

	for (gsize i = 0; i < G_N_ELEMENTS(vars); i++) {
		const char *v = profile_getenv(h, vars[i]);
		g_autofree char *where = g_strdup_printf("$%s", vars[i]);

		if (!v || !*v)
			continue;
		if (!profile_add_proxy(r, vars[i], v, where, error))
			return FALSE;
		any = TRUE;
	}
	if (any)
		g_ptr_array_add(r->notes, g_strdup("a proxy is set: behind a proxy, the proxy "
						   "decides what is reachable"));
	return TRUE;
}

/* A proxy URL with USER:PASSWORD@ is shown with "***@" instead:
 * --print-profile output is for review and commits, not for secrets. */
static char *
hide_credentials(const char *assignment)
{
	const char *sep = strstr(assignment, "://");
	const char *auth, *at;

	if (!sep)
		return g_strdup(assignment);
	auth = sep + 3;
	at = g_strstr_len(auth, (gssize)strcspn(auth, "/?#"), "@");
	if (!at)
		return g_strdup(assignment);
	return g_strdup_printf("%.*s***%s", (int)(auth - assignment), assignment, at);
}

char *
profile_result_format(const ProfileResult *r)
{
	GString *s = g_string_new(NULL);

	g_string_append_printf(s, "# profile %s: allowlist entries\n", r->name);
	for (guint i = 0; i < r->entries->len; i++) {
		const ProfileEntry *e = &g_array_index(r->entries, ProfileEntry, i);

		g_string_append_printf(s, "%s  # %s\n", e->entry, e->where);
	}
	for (guint i = 0; i < r->host_ports->len; i++)
		g_string_append_printf(s, "# --allow-host-port %u\n",
				       g_array_index(r->host_ports, guint16, i));
	for (guint i = 0; i < r->files->len; i++)
		g_string_append_printf(s, "# settings read (read-only inside): %s\n",
				       (char *)r->files->pdata[i]);
	for (guint i = 0; i < r->env->len; i++) {
		g_autofree char *shown = hide_credentials(r->env->pdata[i]);

		g_string_append_printf(s, "# environment: %s\n", shown);
	}
	if (r->cache_var)
		g_string_append_printf(s, "# cache (--profile-cache): $%s\n", r->cache_var);
	for (guint i = 0; i < r->notes->len; i++)
		g_string_append_printf(s, "# note: %s\n", (char *)r->notes->pdata[i]);
	return g_string_free(s, FALSE);
}

static void
profile_kv_clear(gpointer p)
{
	ProfileKV *kv = p;

	g_clear_pointer(&kv->section, g_free);
	g_clear_pointer(&kv->key, g_free);
	g_clear_pointer(&kv->value, g_free);
}

GArray *
profile_kv_array_new(void)
{
	GArray *a = g_array_new(FALSE, TRUE, sizeof(ProfileKV));

	g_array_set_clear_func(a, profile_kv_clear);
	return a;
}
