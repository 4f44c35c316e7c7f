/* SPDX-License-Identifier: MIT
 *
 * allowlist.h — the allowlist grammar (mini-sandbox-allowlist(5)), pure.
 *
 * One entry per line:
 *
 *     ENTRY [ ":" PORT [ "/" PROTO ] ]      PROTO = tcp | udp (default: both)
 *     ENTRY = IPV4 | IPV4/LEN | IPV6 | IPV6/LEN | DOMAIN | *.DOMAIN
 *
 * An IPv6 entry with a port is bracketed: "[2001:db8::/32]:443/tcp".
 * A URL is an entry too: "SCHEME://[USER@]HOST[:PORT][/PATH]" means
 * HOST:PORT, the port defaulting by scheme (allowlist_url_to_entry()).
 * In a file (not in --allow), "profile NAME" adds a package-manager
 * profile (net/profile/profile.h); the launcher expands those before the
 * policy is built (allowlist_file_profiles()), so the parsers here skip
 * them.  '#' starts a comment, blank lines are skipped.  Parsing never resolves
 * anything and never touches the file system except allowlist_parse_file().
 */
#pragma once

#include <glib.h>
#include <netinet/in.h>

typedef enum {
	ALLOW_ADDR4 = 0,    /* IPv4 address or CIDR */
	ALLOW_ADDR6,        /* IPv6 address or CIDR */
	ALLOW_DOMAIN,       /* exact name, resolved on the host at start-up */
	ALLOW_WILDCARD,     /* *.suffix: any name below suffix, resolved on demand */
} AllowKind;

/* Protocol bits of an entry. */
enum {
	ALLOW_PROTO_TCP = 1,
	ALLOW_PROTO_UDP = 2,
	ALLOW_PROTO_ANY = ALLOW_PROTO_TCP | ALLOW_PROTO_UDP,
};

#define ALLOW_DOMAIN_MAX 253

typedef struct {
	AllowKind kind;
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} addr;             /* ADDR4/ADDR6: network address (host bits cleared) */
	guint8 prefix;      /* ADDR4/ADDR6: prefix length (32/128 for a single address) */
	char *domain;       /* DOMAIN: lower case, no trailing dot; WILDCARD: the suffix */
	guint16 port;       /* 0 = every port */
	guint8 protos;      /* ALLOW_PROTO_* bits; ANY when no port */
	char *where;        /* "FILE:LINE" or "--allow:N", for messages */
} AllowEntry;

/* Free the strings an entry owns (used as the GArray clear func). */
void allow_entry_clear(gpointer entry);

/* A GArray of AllowEntry that clears its elements. */
GArray *allowlist_new(void);

/* Parse one line.  Appends 0 entries (blank / comment) or 1 entry to
 * ENTRIES.  WHERE ("FILE:LINE") prefixes every error, which is
 * SBX_ERR_ILLEGAL_NETWORK "WHERE: what is wrong". */
gboolean allowlist_parse_line(const char *line, const char *where, GArray *entries,
			      GError **error);

/* Parse a whole text (lines split on '\n'); SOURCE names it in messages
 * (lines numbered from 1).  NUL bytes in TEXT (length LEN) are an error. */
gboolean allowlist_parse_text(const char *text, gsize len, const char *source,
			      GArray *entries, GError **error);

/* Read and parse FILE.  An unreadable file is SBX_ERR_ILLEGAL_NETWORK too. */
gboolean allowlist_parse_file(const char *path, GArray *entries, GError **error);

/* The one conversion from a URL to an entry, shared by URL lines and the
 * package-manager profiles (net/profile/profile.h): "https://h/p" →
 * "h:443", "http://h" → "h:80", "https://[2001:db8::1]:8443/" →
 * "[2001:db8::1]:8443"; the explicit port wins.  Schemes and their
 * default ports: http 80, https 443, ssh 22, git 9418, socks4 socks4a
 * socks5 socks5h 1080 (proxies); "git+ssh" and "ssh+git" are ssh.  A
 * USER[:PASSWORD]@ part is dropped (and never echoed).  *ENTRY_OUT is the
 * entry text (not yet validated: allowlist_parse_line() does that); *NOTE_OUT
 * (may be NULL) says what was ignored ("path '/p' ignored"), or NULL.
 * FALSE + SBX_ERR_ILLEGAL_NETWORK "WHERE: …" for no host, an unknown
 * scheme or a bad port. */
gboolean allowlist_url_to_entry(const char *url, const char *where, char **entry_out,
				char **note_out, GError **error);

/* TRUE if TEXT looks like a URL ("SCHEME://…"), i.e. is for
 * allowlist_url_to_entry(). */
gboolean allowlist_is_url(const char *text);

/* The NAMEs of the "profile NAME" lines of FILE, appended to NAMES (char *),
 * in order.  Every other line is parsed too, so a bad file fails here
 * already with its FILE:LINE. */
gboolean allowlist_file_profiles(const char *path, GPtrArray *names, GError **error);

/* Normalise a DNS name for comparison: lower case, trailing dot removed.
 * Returns NULL when NAME is not a valid host name (labels 1..63 of
 * [a-z0-9-_], not starting/ending with '-', total <= 253).  Caller frees. */
char *allowlist_normalize_domain(const char *name);

/* TRUE if S, whole, is a DOMAIN or *.DOMAIN entry of the grammar, without
 * port or protocol — exactly what allowlist_parse_line() takes as a name
 * (so not an address: "1.2.3.4" is an IPV4 entry).  What
 * mini_sandbox_allow_domain() accepts. */
gboolean allowlist_is_domain(const char *s);

/* TRUE if NAME (normalised) is below SUFFIX: "a.example.com" matches
 * "example.com"; "example.com" itself and "badexample.com" do not. */
gboolean allowlist_name_matches_wildcard(const char *name, const char *suffix);

/* Entry as canonical text ("10.0.0.0/8:5432/tcp"), for messages and tests. */
char *allow_entry_to_string(const AllowEntry *e);
