/* SPDX-License-Identifier: MIT
 *
 * allowlist.c — the allowlist grammar; see allowlist.h and
 * man/mini-sandbox-allowlist.5.  Every malformed line is an error: a typo
 * that silently dropped an entry (or widened one) is worse than a refusal.
 */
#include "net/allowlist.h"
#include "common/error.h"
#include "common/log.h"
#include "common/safepath.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

void
allow_entry_clear(gpointer p)
{
	AllowEntry *e = p;

	g_clear_pointer(&e->domain, g_free);
	g_clear_pointer(&e->where, g_free);
}

GArray *
allowlist_new(void)
{
	GArray *a = g_array_new(FALSE, TRUE, sizeof(AllowEntry));

	g_array_set_clear_func(a, allow_entry_clear);
	return a;
}

static gboolean G_GNUC_PRINTF(3, 4)
bad_line(GError **error, const char *where, const char *fmt, ...)
{
	va_list ap;
	g_autofree char *what = NULL;

	va_start(ap, fmt);
	what = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_NETWORK, "%s: %s", where, what);
	return FALSE;
}

static gboolean
is_label_char(char c)
{
	return g_ascii_isalnum(c) || c == '-' || c == '_';
}

char *
allowlist_normalize_domain(const char *name)
{
	g_autofree char *d = g_ascii_strdown(name, -1);
	size_t len = strlen(d);
	const char *label;

	if (len && d[len - 1] == '.')
		d[--len] = '\0';
	if (len == 0 || len > ALLOW_DOMAIN_MAX)
		return NULL;
	label = d;
	for (size_t i = 0; i <= len; i++) {
		if (d[i] == '.' || d[i] == '\0') {
			size_t llen = (size_t)(d + i - label);

			if (llen == 0 || llen > 63 || label[0] == '-' || d[i - 1] == '-')
				return NULL;
			label = d + i + 1;
		} else if (!is_label_char(d[i])) {
			return NULL;
		}
	}
	return g_steal_pointer(&d);
}

gboolean
allowlist_name_matches_wildcard(const char *name, const char *suffix)
{
	size_t n = strlen(name), s = strlen(suffix);

	return n > s + 1 && name[n - s - 1] == '.' &&
	       g_ascii_strcasecmp(name + n - s, suffix) == 0;
}

/* Parse the decimal number in [S, S+LEN) into *OUT (<= MAX). */
static gboolean
parse_uint(const char *s, size_t len, unsigned max, unsigned *out)
{
	unsigned v = 0;

	if (len == 0 || len > 5)
		return FALSE;
	for (size_t i = 0; i < len; i++) {
		if (!g_ascii_isdigit(s[i]))
			return FALSE;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return FALSE;
	*out = v;
	return TRUE;
}

/* Schemes a URL entry may have, and the port each one means. */
static const struct {
	const char *scheme;
	guint16 port;
} url_schemes[] = {
	{ "http", 80 },   { "https", 443 },  { "ssh", 22 },        { "git+ssh", 22 },
	{ "ssh+git", 22 }, { "git", 9418 },   { "socks4", 1080 },   { "socks4a", 1080 },
	{ "socks5", 1080 }, { "socks5h", 1080 },
};

gboolean
allowlist_is_url(const char *text)
{
	const char *sep = strstr(text, "://");

	if (!sep || sep == text)
		return FALSE;
	for (const char *c = text; c < sep; c++)
		if (!g_ascii_isalnum(*c) && *c != '+' && *c != '-' && *c != '.')
			return FALSE;
	return TRUE;
}

gboolean
allowlist_url_to_entry(const char *url, const char *where, char **entry_out, char **note_out,
		       GError **error)
{
	const char *sep = strstr(url, "://");
	const char *auth, *auth_end, *at, *host, *host_end, *port = NULL;
	g_autofree char *scheme = NULL;
	gint default_port = -1;
	unsigned p;

	if (note_out)
		*note_out = NULL;
	if (!allowlist_is_url(url))
		return bad_line(error, where, "'%s' is not a URL (SCHEME://HOST…)", url);
	scheme = g_ascii_strdown(url, sep - url);
	for (gsize i = 0; i < G_N_ELEMENTS(url_schemes); i++)
		if (strcmp(scheme, url_schemes[i].scheme) == 0)
			default_port = url_schemes[i].port;
	if (default_port < 0)
		return bad_line(error, where,
				"unknown URL scheme '%s' (expected http, https, ssh, git or socks5; "
				"or write HOST:PORT)", scheme);
	auth = sep + 3;
	auth_end = auth + strcspn(auth, "/?#");
	/* USER:PASSWORD@ is credentials, not a destination: skip it, quietly */
	at = memrchr(auth, '@', (size_t)(auth_end - auth));
	host = at ? at + 1 : auth;
	if (*host == '[') {
		host_end = memchr(host, ']', (size_t)(auth_end - host));
		if (!host_end)
			return bad_line(error, where, "missing ']' after the IPv6 address in a URL");
		host_end++;
	} else {
		host_end = memchr(host, ':', (size_t)(auth_end - host));
		if (!host_end)
			host_end = auth_end;
	}
	if (host_end < auth_end) {
		if (*host_end != ':')
			return bad_line(error, where, "unexpected '%.*s' after the host of a URL",
					(int)(auth_end - host_end), host_end);
		port = host_end + 1;
	}
	if (host_end == host || (*host == '[' && host_end == host + 2))
		return bad_line(error, where, "URL '%s://…' has no host", scheme);
	if (port && port < auth_end) {
		if (!parse_uint(port, (size_t)(auth_end - port), 65535, &p) || p == 0)
			return bad_line(error, where, "invalid port '%.*s' in a URL (expected 1-65535)",
					(int)(auth_end - port), port);
	} else {
		p = (unsigned)default_port;  /* "http://h:/" means the default, as in RFC 3986 */
	}
	*entry_out = g_strdup_printf("%.*s:%u", (int)(host_end - host), host, p);
	if (note_out && *auth_end && strcmp(auth_end, "/") != 0)
		*note_out = g_strdup_printf("path '%s' ignored: an entry allows the whole host:port",
					    auth_end);
	return TRUE;
}

/* "profile NAME": the name of a profile (a word), or NULL if LINE is not one. */
static const char *
profile_line_name(const char *s)
{
	if (strncmp(s, "profile", 7) != 0 || !g_ascii_isspace(s[7]))
		return NULL;
	s += 7;
	while (g_ascii_isspace(*s))
		s++;
	return s;
}

static gboolean
valid_profile_name(const char *name)
{
	if (!*name)
		return FALSE;
	for (; *name; name++)
		if (!g_ascii_isalnum(*name) && *name != '-' && *name != '_')
			return FALSE;
	return TRUE;
}

/* "PORT" or "PORT/tcp" / "PORT/udp". */
static gboolean
parse_port_spec(const char *spec, const char *where, AllowEntry *e, GError **error)
{
	const char *slash = strchr(spec, '/');
	size_t plen = slash ? (size_t)(slash - spec) : strlen(spec);
	unsigned port;

	if (plen == 0)
		return bad_line(error, where, "missing port after ':'");
	if (!parse_uint(spec, plen, 65535, &port) || port == 0)
		return bad_line(error, where, "invalid port '%.*s' (expected 1-65535)",
				(int)plen, spec);
	e->port = (guint16)port;
	e->protos = ALLOW_PROTO_ANY;
	if (slash) {
		if (g_ascii_strcasecmp(slash + 1, "tcp") == 0)
			e->protos = ALLOW_PROTO_TCP;
		else if (g_ascii_strcasecmp(slash + 1, "udp") == 0)
			e->protos = ALLOW_PROTO_UDP;
		else
			return bad_line(error, where, "unknown protocol '%s' (expected tcp or udp)",
					slash + 1);
	}
	return TRUE;
}

static gboolean
all_digits_and_dots(const char *s)
{
	for (; *s; s++)
		if (!g_ascii_isdigit(*s) && *s != '.')
			return FALSE;
	return TRUE;
}

/* Clear the host bits of ADDR (LEN bytes) beyond PREFIX; TRUE if any was set. */
static gboolean
mask_host_bits(guint8 *addr, size_t len, unsigned prefix)
{
	gboolean had = FALSE;

	for (size_t i = 0; i < len; i++) {
		unsigned bits = prefix > i * 8 ? prefix - (unsigned)i * 8 : 0;
		guint8 mask = bits >= 8 ? 0xff : (guint8)(0xff << (8 - bits));

		if (addr[i] & ~mask)
			had = TRUE;
		addr[i] &= mask;
	}
	return had;
}

/* HOST is an address, a CIDR, a domain or a wildcard (no port). */
static gboolean
parse_host(const char *host, gboolean bracketed, const char *where, AllowEntry *e,
	   GError **error)
{
	const char *slash = strchr(host, '/');
	size_t alen = slash ? (size_t)(slash - host) : strlen(host);
	char addr[ALLOW_DOMAIN_MAX + 3];

	/* every valid entry fits; a longer one is an invalid name below */
	if (alen >= sizeof addr)
		return bad_line(error, where, "invalid domain name '%.40s…' (too long)", host);
	memcpy(addr, host, alen);
	addr[alen] = '\0';
	if (!bracketed && !strchr(addr, ':') && inet_pton(AF_INET, addr, &e->addr.v4) == 1) {
		e->kind = ALLOW_ADDR4;
		e->prefix = 32;
	} else if (inet_pton(AF_INET6, addr, &e->addr.v6) == 1) {
		e->kind = ALLOW_ADDR6;
		e->prefix = 128;
	} else if (!bracketed && inet_pton(AF_INET, addr, &e->addr.v4) == 1) {
		e->kind = ALLOW_ADDR4;
		e->prefix = 32;
	} else if (bracketed) {
		return bad_line(error, where, "'%s' in brackets is not an IPv6 address", addr);
	} else if (slash) {
		return bad_line(error, where, "'%s' before '/' is not an IP address", addr);
	} else if (all_digits_and_dots(addr)) {
		return bad_line(error, where, "invalid IPv4 address '%s'", addr);
	} else if (strchr(addr, ':')) {
		return bad_line(error, where, "invalid IPv6 address '%s'", addr);
	} else {
		gboolean wild = g_str_has_prefix(addr, "*.");
		g_autofree char *d = allowlist_normalize_domain(wild ? addr + 2 : addr);

		if (!d || strchr(d, '*'))
			return bad_line(error, where, "invalid domain name '%s'", addr);
		e->kind = wild ? ALLOW_WILDCARD : ALLOW_DOMAIN;
		e->domain = g_steal_pointer(&d);
		return TRUE;
	}

	if (slash) {
		unsigned max = e->kind == ALLOW_ADDR4 ? 32 : 128, len;

		if (!parse_uint(slash + 1, strlen(slash + 1), max, &len))
			return bad_line(error, where, "invalid prefix length '/%s' (expected 0-%u)",
					slash + 1, max);
		e->prefix = (guint8)len;
		if (mask_host_bits((guint8 *)&e->addr, e->kind == ALLOW_ADDR4 ? 4 : 16, len)) {
			char buf[INET6_ADDRSTRLEN];

			inet_ntop(e->kind == ALLOW_ADDR4 ? AF_INET : AF_INET6, &e->addr, buf,
				  sizeof buf);
			return bad_line(error, where, "'%s' has host bits set (did you mean %s/%u?)",
					host, buf, len);
		}
	}
	return TRUE;
}

static gboolean parse_line_in(const char *line, const char *where, GArray *entries,
			      GPtrArray *profiles, gboolean in_file, GError **error);

gboolean
allowlist_is_domain(const char *s)
{
	AllowEntry e;
	gboolean ok;

	if (!s)
		return FALSE;
	memset(&e, 0, sizeof e);
	ok = parse_host(s, FALSE, "", &e, NULL) &&
	     (e.kind == ALLOW_DOMAIN || e.kind == ALLOW_WILDCARD);
	allow_entry_clear(&e);
	return ok;
}

gboolean
allowlist_parse_line(const char *line, const char *where, GArray *entries, GError **error)
{
	return parse_line_in(line, where, entries, NULL, FALSE, error);
}

/* A URL line: the entry it means, parsed as if written so. */
static gboolean
parse_url_line(const char *url, const char *where, GArray *entries, GError **error)
{
	g_autofree char *entry = NULL;
	g_autofree char *note = NULL;

	if (!allowlist_url_to_entry(url, where, &entry, &note, error))
		return FALSE;
	if (note)
		sbx_debug("allowlist: %s: %s", where, note);
	if (allowlist_is_url(entry))
		return bad_line(error, where, "'%s' is not a host", entry);
	return parse_line_in(entry, where, entries, NULL, FALSE, error);
}

/* IN_FILE: "profile NAME" lines are allowed (PROFILES collects the names,
 * or NULL: skipped). */
static gboolean
parse_line_in(const char *line, const char *where, GArray *entries, GPtrArray *profiles,
	      gboolean in_file, GError **error)
{
	/* parsing 10 000 lines should not cost 10 000 allocations each */
	char stack[512];
	size_t line_len = strlen(line);
	g_autofree char *heap = line_len < sizeof stack ? NULL : g_strdup(line);
	char *text = heap ? heap : memcpy(stack, line, line_len + 1);
	AllowEntry e = { .protos = ALLOW_PROTO_ANY };
	char *hash = strchr(text, '#');
	char *s, *colon;
	char *host = NULL;
	const char *port_spec = NULL;
	gboolean bracketed = FALSE;

	if (hash)
		*hash = '\0';
	/* tolerate CRLF files: a trailing CR is line-end noise, not content */
	if (!hash && *text && text[strlen(text) - 1] == '\r')
		text[strlen(text) - 1] = '\0';
	s = g_strstrip(text);
	if (*s == '\0')
		return TRUE;
	if (profile_line_name(s)) {
		const char *name = profile_line_name(s);

		if (!in_file)
			return bad_line(error, where, "'profile' lines belong in an allowlist "
					"file; use --profile %s", name);
		if (!valid_profile_name(name))
			return bad_line(error, where, "invalid profile name '%s' "
					"(see mini-tapbox --help for the list)", name);
		if (profiles)
			g_ptr_array_add(profiles, g_strdup(name));
		return TRUE;
	}
	for (char *c = s; *c; c++) {
		if (g_ascii_isspace(*c))
			return bad_line(error, where, "unexpected space in '%s' (one entry per line)", s);
		if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
			return bad_line(error, where, "unexpected character 0x%02x", (unsigned char)*c);
	}

	if (allowlist_is_url(s))
		return parse_url_line(s, where, entries, error);
	if (*s == '[') {
		char *close = strchr(s, ']');

		if (!close)
			return bad_line(error, where, "missing ']' after IPv6 address");
		if (close[1] != '\0' && close[1] != ':')
			return bad_line(error, where, "unexpected '%s' after ']'", close + 1);
		if (close[1] == ':')
			port_spec = close + 2;
		*close = '\0';
		host = s + 1;
		bracketed = TRUE;
	} else if ((colon = strchr(s, ':')) && !strchr(colon + 1, ':')) {
		/* exactly one ':' → HOST:PORT; several → bare IPv6 */
		*colon = '\0';
		host = s;
		port_spec = colon + 1;
	} else {
		const char *slash = strrchr(s, '/');

		host = s;
		if (!colon && slash && (g_ascii_strcasecmp(slash + 1, "tcp") == 0 ||
					g_ascii_strcasecmp(slash + 1, "udp") == 0))
			return bad_line(error, where, "a protocol needs a port, e.g. '%.*s:443%s'",
					(int)(slash - s), s, slash);
	}
	if (*host == '\0')
		return bad_line(error, where, "missing address or name");
	if (!parse_host(host, bracketed, where, &e, error))
		return FALSE;
	if (port_spec && !parse_port_spec(port_spec, where, &e, error)) {
		allow_entry_clear(&e);
		return FALSE;
	}
	e.where = g_strdup(where);
	g_array_append_val(entries, e);
	return TRUE;
}

static gboolean
parse_text_in(const char *text, gsize len, const char *source, GArray *entries,
	      GPtrArray *profiles, GError **error)
{
	gsize start = 0;
	guint lineno = 0, old_len = entries->len, lines = 1;
	char stack[512];

	/* grow ENTRIES once instead of doubling (and copying) log2(N) times */
	for (const char *c = text; (c = memchr(c, '\n', len - (gsize)(c - text))); c++)
		lines++;
	g_array_set_size(entries, old_len + lines);
	g_array_set_size(entries, old_len);

	while (start < len) {
		const char *nl = memchr(text + start, '\n', len - start);
		gsize end = nl ? (gsize)(nl - text) : len, n = end - start;
		g_autofree char *heap = n < sizeof stack ? NULL : g_strndup(text + start, n);
		char *line = heap ? heap : stack;
		g_autofree char *where = NULL;
		char where_buf[256];

		if (!heap) {
			memcpy(stack, text + start, n);
			stack[n] = '\0';
		}
		lineno++;
		if (g_snprintf(where_buf, sizeof where_buf, "%s:%u", source, lineno) >=
		    (int)sizeof where_buf)
			where = g_strdup_printf("%s:%u", source, lineno);
		if (strlen(line) != n)
			return bad_line(error, where ? where : where_buf, "NUL byte in line");
		if (!parse_line_in(line, where ? where : where_buf, entries, profiles, TRUE,
				   error))
			return FALSE;
		start = end + 1;
	}
	return TRUE;
}

gboolean
allowlist_parse_text(const char *text, gsize len, const char *source, GArray *entries,
		     GError **error)
{
	return parse_text_in(text, len, source, entries, NULL, error);
}

/* An allowlist is text a person keeps; a bound keeps a FIFO or /dev/zero
 * from making the launcher allocate forever. */
#define ALLOWLIST_MAX_BYTES ((gsize)16 << 20)

static gboolean
parse_file_in(const char *path, GArray *entries, GPtrArray *profiles, GError **error)
{
	g_autofree char *text = NULL;
	g_autoptr(GError) local = NULL;
	gsize len;

	/* Never through a symlink a sandbox could have planted (safepath.h). */
	text = sbx_read_settings_file(path, "allowlist", ALLOWLIST_MAX_BYTES, &len, &local);
	if (!text) {
		g_set_error_literal(error, SBX_ERROR, SBX_ERR_ILLEGAL_NETWORK, local->message);
		return FALSE;
	}
	return parse_text_in(text, len, path, entries, profiles, error);
}

gboolean
allowlist_parse_file(const char *path, GArray *entries, GError **error)
{
	return parse_file_in(path, entries, NULL, error);
}

gboolean
allowlist_file_profiles(const char *path, GPtrArray *names, GError **error)
{
	g_autoptr(GArray) scratch = allowlist_new();

	return parse_file_in(path, scratch, names, error);
}

char *
allow_entry_to_string(const AllowEntry *e)
{
	GString *s = g_string_new(NULL);
	char buf[INET6_ADDRSTRLEN];
	gboolean v6 = e->kind == ALLOW_ADDR6;

	switch (e->kind) {
	case ALLOW_ADDR4:
	case ALLOW_ADDR6:
		inet_ntop(v6 ? AF_INET6 : AF_INET, &e->addr, buf, sizeof buf);
		if (v6 && e->port)
			g_string_append_c(s, '[');
		g_string_append(s, buf);
		if (e->prefix != (v6 ? 128 : 32))
			g_string_append_printf(s, "/%u", e->prefix);
		if (v6 && e->port)
			g_string_append_c(s, ']');
		break;
	case ALLOW_DOMAIN:
		g_string_append(s, e->domain);
		break;
	case ALLOW_WILDCARD:
		g_string_append_printf(s, "*.%s", e->domain);
		break;
	default:
		break;
	}
	if (e->port)
		g_string_append_printf(s, ":%u", e->port);
	if (e->port && e->protos != ALLOW_PROTO_ANY)
		g_string_append(s, e->protos == ALLOW_PROTO_TCP ? "/tcp" : "/udp");
	return g_string_free(s, FALSE);
}
