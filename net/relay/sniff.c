/* SPDX-License-Identifier: MIT
 *
 * sniff.c — what a client's first bytes say about where it is going (what
 * each function promises: sniff.h).
 *
 * Every parser here reads untrusted bytes from the sandbox and is fed the
 * whole stream prefix again each time more arrives, so each one is written
 * to be monotone: a verdict other than SNIFF_MORE depends only on bytes
 * already seen, and longer buffers with the same prefix get the same
 * verdict.  That lets the relay decide at the earliest byte that settles
 * it, and the fuzz harness checks it.  No allocation, no recursion, one
 * pass over the bytes (the TLS handshake is copied once to undo record
 * framing).
 *
 * Strictness is deliberate: the gate's verdict is only worth something if
 * the upstream server reads the same name from the same bytes.  Anything
 * two parsers could read differently (two Host headers, folded lines,
 * bare LF, a URI naming one host and a Host header another, duplicate TLS
 * extensions) is SNIFF_MALFORMED, which the relay refuses.
 */
#include "net/relay/sniff.h"

#include <arpa/inet.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>

/* ---- bounds-checked reading --------------------------------------------- */

typedef struct {
	const uint8_t *p;
	size_t len;
	size_t off;
} Cursor;

static gboolean
cur_u8(Cursor *c, size_t *v)
{
	if (c->len - c->off < 1)
		return FALSE;
	*v = c->p[c->off++];
	return TRUE;
}

static gboolean
cur_u16(Cursor *c, size_t *v)
{
	if (c->len - c->off < 2)
		return FALSE;
	*v = (size_t)c->p[c->off] << 8 | c->p[c->off + 1];
	c->off += 2;
	return TRUE;
}

/* Take N bytes as a sub-cursor. */
static gboolean
cur_sub(Cursor *c, size_t n, Cursor *sub)
{
	if (c->len - c->off < n)
		return FALSE;
	*sub = (Cursor){ .p = c->p + c->off, .len = n };
	c->off += n;
	return TRUE;
}

static gboolean
cur_skip(Cursor *c, size_t n)
{
	Cursor ignored;

	return cur_sub(c, n, &ignored);
}

static gboolean
cur_done(const Cursor *c)
{
	return c->off == c->len;
}

/* ---- names ---------------------------------------------------------------- */

/* The bytes a host name may carry: the allowlist's grammar (letters,
 * digits, '-', '_') plus the label separator.  Everything else — '%', '@',
 * spaces, NULs, non-ASCII — is a name the allowlist cannot hold, and one a
 * server might read differently from us. */
static gboolean
name_byte_ok(uint8_t c)
{
	return g_ascii_isalnum(c) || c == '-' || c == '_' || c == '.';
}

/* Copy the host name at P (N bytes) into OUT: lower-cased, one trailing
 * dot dropped.  FALSE for an empty name, an empty label, a byte outside
 * name_byte_ok(), or more than SNIFF_NAME_MAX bytes. */
static gboolean
name_copy(const uint8_t *p, size_t n, char out[SNIFF_NAME_MAX + 1])
{
	if (n > 0 && p[n - 1] == '.')
		n--;
	if (n == 0 || n > SNIFF_NAME_MAX || p[0] == '.' || p[n - 1] == '.')
		return FALSE;
	for (size_t i = 0; i < n; i++) {
		if (!name_byte_ok(p[i]) || (p[i] == '.' && p[i + 1] == '.'))
			return FALSE;
		out[i] = g_ascii_tolower((char)p[i]);
	}
	out[n] = '\0';
	return TRUE;
}

/* An IPv6 address literal (no brackets) as its canonical text, so one
 * address has one spelling whatever the client wrote. */
static gboolean
ipv6_copy(const uint8_t *p, size_t n, char out[SNIFF_NAME_MAX + 1])
{
	char text[INET6_ADDRSTRLEN];
	struct in6_addr a;

	if (n == 0 || n >= sizeof text)
		return FALSE;
	for (size_t i = 0; i < n; i++)
		if (!g_ascii_isxdigit(p[i]) && p[i] != ':' && p[i] != '.')
			return FALSE;
	memcpy(text, p, n);
	text[n] = '\0';
	return inet_pton(AF_INET6, text, &a) == 1 &&
	       inet_ntop(AF_INET6, &a, out, SNIFF_NAME_MAX + 1) != NULL;
}

/* ---- TLS ------------------------------------------------------------------ */

#define TLS_RECORD_HEADER 5
#define TLS_RECORD_MAX 16384 /* RFC 8446 §5.1: 2^14 plaintext bytes */
#define TLS_CT_HANDSHAKE 22
#define TLS_HS_CLIENT_HELLO 1
#define TLS_HS_HEADER 4
#define TLS_EXT_SERVER_NAME 0
#define TLS_SNI_HOST_NAME 0

/* The server_name extension (RFC 6066 §3): exactly one entry, a
 * host_name.  Several names would leave the choice to the server. */
static SniffKind
tls_server_name(Cursor *ext, SniffResult *out)
{
	Cursor list, name;
	size_t list_len, type, name_len;

	if (!cur_u16(ext, &list_len) || !cur_sub(ext, list_len, &list) || !cur_done(ext) ||
	    !cur_u8(&list, &type) || type != TLS_SNI_HOST_NAME || !cur_u16(&list, &name_len) ||
	    !cur_sub(&list, name_len, &name) || !cur_done(&list) ||
	    !name_copy(name.p, name.len, out->name))
		return SNIFF_MALFORMED;
	return SNIFF_TLS;
}

/* The extensions block: every extension once, server_name read. */
static SniffKind
tls_extensions(Cursor *c, SniffResult *out)
{
	/* one bit per extension type: finds duplicates in one pass */
	uint8_t seen[65536 / 8];
	Cursor exts;
	size_t exts_len;

	if (cur_done(c))
		return SNIFF_TLS; /* a hello without extensions (TLS 1.0 era) */
	if (!cur_u16(c, &exts_len) || !cur_sub(c, exts_len, &exts) || !cur_done(c))
		return SNIFF_MALFORMED;
	memset(seen, 0, sizeof seen);
	while (!cur_done(&exts)) {
		size_t type, len;
		Cursor data;

		if (!cur_u16(&exts, &type) || !cur_u16(&exts, &len) || !cur_sub(&exts, len, &data))
			return SNIFF_MALFORMED;
		if (seen[type / 8] & (1u << (type % 8)))
			return SNIFF_MALFORMED;
		seen[type / 8] |= (uint8_t)(1u << (type % 8));
		if (type == TLS_EXT_SERVER_NAME && tls_server_name(&data, out) != SNIFF_TLS)
			return SNIFF_MALFORMED;
	}
	return SNIFF_TLS;
}

/* The ClientHello body (RFC 8446 §4.1.2; the same layout since SSL 3). */
static SniffKind
tls_client_hello(const uint8_t *body, size_t len, SniffResult *out)
{
	Cursor c = { .p = body, .len = len };
	size_t major, minor, sid_len, suites_len, comp_len;

	if (!cur_u8(&c, &major) || !cur_u8(&c, &minor) || major != 3 || !cur_skip(&c, 32) ||
	    !cur_u8(&c, &sid_len) || sid_len > 32 || !cur_skip(&c, sid_len) ||
	    !cur_u16(&c, &suites_len) || suites_len < 2 || suites_len % 2 ||
	    !cur_skip(&c, suites_len) || !cur_u8(&c, &comp_len) || comp_len < 1 ||
	    !cur_skip(&c, comp_len))
		return SNIFF_MALFORMED;
	return tls_extensions(&c, out);
}

/* Undo the record layer: copy the handshake bytes of consecutive
 * handshake records into HS until the ClientHello is complete.  A hello
 * may be split over records at any byte (RFC 8446 §5.1), and each record
 * over TCP segments. */
static SniffKind
tls_sniff(const uint8_t *buf, size_t len, SniffResult *out)
{
	uint8_t hs[SNIFF_HOLD_MAX];
	size_t hs_len = 0, pos = 0, want = 0; /* want: hello length with header */

	while (pos < len) {
		size_t avail = len - pos, rlen, n;

		if (buf[pos] != TLS_CT_HANDSHAKE || (avail >= 2 && buf[pos + 1] != 3))
			return SNIFF_MALFORMED;
		if (avail < TLS_RECORD_HEADER)
			return SNIFF_MORE;
		rlen = (size_t)buf[pos + 3] << 8 | buf[pos + 4];
		if (rlen == 0 || rlen > TLS_RECORD_MAX)
			return SNIFF_MALFORMED; /* RFC 8446 §5.1 forbids both */
		n = MIN(rlen, avail - TLS_RECORD_HEADER);
		n = MIN(n, sizeof hs - hs_len);
		memcpy(hs + hs_len, buf + pos + TLS_RECORD_HEADER, n);
		hs_len += n;
		if (hs_len >= 1 && hs[0] != TLS_HS_CLIENT_HELLO)
			return SNIFF_MALFORMED;
		if (hs_len >= TLS_HS_HEADER && !want) {
			want = TLS_HS_HEADER +
			       ((size_t)hs[1] << 16 | (size_t)hs[2] << 8 | hs[3]);
			/* with its record header it could never be held */
			if (want + TLS_RECORD_HEADER > SNIFF_HOLD_MAX)
				return SNIFF_MALFORMED;
		}
		if (want && hs_len >= want)
			return tls_client_hello(hs + TLS_HS_HEADER, want - TLS_HS_HEADER, out);
		if (avail - TLS_RECORD_HEADER < rlen)
			return SNIFF_MORE;
		pos += TLS_RECORD_HEADER + rlen;
	}
	return SNIFF_MORE;
}

/* ---- host[:port] ------------------------------------------------------------ */

/* ":PORT" digits: 1-65535.  An empty port ("host:") means the default
 * (RFC 3986 §3.2.3), reported as 0, unless REQUIRED. */
static gboolean
port_parse(const uint8_t *p, size_t n, gboolean required, uint16_t *port)
{
	size_t v = 0;

	if (n == 0) {
		*port = 0;
		return !required;
	}
	if (n > 5)
		return FALSE;
	for (size_t i = 0; i < n; i++) {
		if (!g_ascii_isdigit(p[i]))
			return FALSE;
		v = v * 10 + (size_t)(p[i] - '0');
	}
	if (v == 0 || v > 65535)
		return FALSE;
	*port = (uint16_t)v;
	return TRUE;
}

/* An authority without userinfo: host, [IPv6] or IPv4, then an optional
 * (or, with PORT_REQUIRED, mandatory) ":port". */
static gboolean
authority_parse(const uint8_t *p, size_t n, gboolean port_required, char name[SNIFF_NAME_MAX + 1],
		uint16_t *port)
{
	const uint8_t *colon;

	if (n > 0 && p[0] == '[') {
		const uint8_t *close = memchr(p, ']', n);
		size_t rest;

		if (!close || !ipv6_copy(p + 1, (size_t)(close - p) - 1, name))
			return FALSE;
		rest = n - (size_t)(close - p) - 1;
		if (rest == 0)
			return port_parse(NULL, 0, port_required, port);
		return close[1] == ':' && port_parse(close + 2, rest - 1, port_required, port);
	}
	colon = memchr(p, ':', n);
	if (!colon)
		return name_copy(p, n, name) && port_parse(NULL, 0, port_required, port);
	return name_copy(p, (size_t)(colon - p), name) &&
	       port_parse(colon + 1, n - (size_t)(colon - p) - 1, port_required, port);
}

/* ---- HTTP/1.x ----------------------------------------------------------------- */

#define HTTP_METHOD_MAX 15 /* method and its space within the first 16 bytes */
#define HTTP_VERSION "HTTP/1."
#define HTTP_VERSION_LEN 7

typedef struct {
	size_t method_len;
	const uint8_t *target;
	size_t target_len;
	size_t line_end; /* offset just past the request line's LF */
} HttpRequestLine;

typedef struct {
	gboolean found;
	char name[SNIFF_NAME_MAX + 1]; /* "" for an empty Host value */
	uint16_t port;
} HttpHost;

static gboolean
method_byte_ok(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || c == '-' || c == '_';
}

/* RFC 9110 §5.6.2 tchar: what a header name is made of. */
static gboolean
tchar_ok(uint8_t c)
{
	return g_ascii_isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* "METHOD SP target SP HTTP/1.d CRLF", byte by byte so that a prefix gets
 * MORE and every other verdict is the one the whole line would get.
 * UNKNOWN while the bytes do not look like HTTP (no method and space in
 * the first 16 bytes, no HTTP/1.x version ending the line); MALFORMED
 * once they do but break its rules. */
static SniffKind
http_request_line(const uint8_t *buf, size_t len, HttpRequestLine *rl)
{
	size_t i = 0, v;

	for (; i < len && buf[i] != ' '; i++)
		if (!method_byte_ok(buf[i]) || i >= HTTP_METHOD_MAX)
			return SNIFF_UNKNOWN;
	if (i == len)
		return SNIFF_MORE;
	if (i == 0)
		return SNIFF_UNKNOWN;
	rl->method_len = i++;
	rl->target = buf + i;
	for (; i < len && buf[i] != ' '; i++) {
		if (buf[i] == '\r' || buf[i] == '\n')
			return SNIFF_UNKNOWN; /* no version: HTTP/0.9 or not HTTP */
		if (buf[i] <= 0x20 || buf[i] >= 0x7f)
			return SNIFF_MALFORMED;
	}
	if (i == len)
		return SNIFF_MORE;
	rl->target_len = (size_t)(buf + i - rl->target);
	if (rl->target_len == 0)
		return SNIFF_MALFORMED;
	for (v = 0, i++; i < len && v < HTTP_VERSION_LEN; i++, v++)
		if (buf[i] != HTTP_VERSION[v])
			return SNIFF_UNKNOWN;
	if (i == len)
		return SNIFF_MORE;
	if (!g_ascii_isdigit(buf[i]))
		return SNIFF_UNKNOWN;
	if (++i == len)
		return SNIFF_MORE;
	if (buf[i] == '\n')
		return SNIFF_MALFORMED; /* bare LF */
	if (buf[i] != '\r')
		return SNIFF_UNKNOWN;
	if (++i == len)
		return SNIFF_MORE;
	if (buf[i] != '\n')
		return SNIFF_MALFORMED; /* bare CR */
	rl->line_end = i + 1;
	return SNIFF_HTTP;
}

/* One complete header line (without its CRLF). */
static SniffKind
http_header(const uint8_t *p, size_t n, HttpHost *host)
{
	const uint8_t *colon = memchr(p, ':', n);
	size_t name_len, vs, ve;

	/* RFC 9112 §5.1: no whitespace between field name and colon */
	if (!colon || colon == p)
		return SNIFF_MALFORMED;
	name_len = (size_t)(colon - p);
	for (size_t i = 0; i < name_len; i++)
		if (!tchar_ok(p[i]))
			return SNIFF_MALFORMED;
	for (size_t i = name_len + 1; i < n; i++)
		if ((p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f)
			return SNIFF_MALFORMED;
	if (name_len != 4 || g_ascii_strncasecmp((const char *)p, "host", 4) != 0)
		return SNIFF_HTTP;
	if (host->found)
		return SNIFF_MALFORMED; /* RFC 9112 §3.2: exactly one Host */
	host->found = TRUE;
	for (vs = name_len + 1; vs < n && (p[vs] == ' ' || p[vs] == '\t'); vs++)
		;
	for (ve = n; ve > vs && (p[ve - 1] == ' ' || p[ve - 1] == '\t'); ve--)
		;
	if (ve == vs)
		return SNIFF_HTTP; /* empty Host: the target names no authority */
	return authority_parse(p + vs, ve - vs, FALSE, host->name, &host->port) ? SNIFF_HTTP
										 : SNIFF_MALFORMED;
}

/* The header block after the request line, up to the empty line; OFF is
 * set past it.  Each line is judged when its LF arrives, and bytes no line
 * may carry (NUL, bare CR, a fold) as soon as they arrive. */
static SniffKind
http_headers(const uint8_t *buf, size_t len, size_t *off, HttpHost *host)
{
	size_t s = *off;

	while (s < len) {
		const uint8_t *lf = memchr(buf + s, '\n', len - s);
		size_t end = lf ? (size_t)(lf - buf) : len; /* first byte not in the line */
		const uint8_t *cr = memchr(buf + s, '\r', end - s);
		SniffKind k;

		if (memchr(buf + s, '\0', end - s))
			return SNIFF_MALFORMED;
		if (buf[s] == ' ' || buf[s] == '\t')
			return SNIFF_MALFORMED; /* obs-fold (RFC 9112 §5.2) */
		if (cr && (size_t)(cr - buf) + 1 < end)
			return SNIFF_MALFORMED; /* bare CR */
		if (!lf)
			return SNIFF_MORE;
		if (!cr)
			return SNIFF_MALFORMED; /* bare LF */
		if (end - 1 == s) {
			*off = end + 1;
			return SNIFF_HTTP; /* the empty line: end of the header block */
		}
		k = http_header(buf + s, end - 1 - s, host);
		if (k != SNIFF_HTTP)
			return k;
		s = end + 1;
	}
	return SNIFF_MORE;
}

/* An absolute-form target's authority: "scheme://authority[/?#…]". FALSE
 * (with *IS_ABSOLUTE TRUE) for a broken or userinfo-carrying authority:
 * "http://allowed@other/" is a classic way to show a checker one name. */
static gboolean
absolute_authority(const uint8_t *t, size_t n, gboolean *is_absolute, const uint8_t **auth,
		   size_t *auth_len)
{
	size_t i = 0, a;

	*is_absolute = FALSE;
	if (n == 0 || !g_ascii_isalpha(t[0]))
		return FALSE;
	while (i < n && (g_ascii_isalnum(t[i]) || t[i] == '+' || t[i] == '-' || t[i] == '.'))
		i++;
	if (n - i < 3 || memcmp(t + i, "://", 3) != 0)
		return FALSE;
	*is_absolute = TRUE;
	a = i + 3;
	for (i = a; i < n && t[i] != '/' && t[i] != '?' && t[i] != '#'; i++)
		if (t[i] == '@')
			return FALSE;
	*auth = t + a;
	*auth_len = i - a;
	return TRUE;
}

/* The name the request goes to, from its target and its Host header.
 * When both name a host they must agree (RFC 9112 §3.2.2 lets a proxy
 * ignore Host for an absolute URI; an origin server behind it may not). */
static SniffKind
http_target(const uint8_t *buf, const HttpRequestLine *rl, const HttpHost *host,
	    SniffResult *out)
{
	gboolean is_connect = rl->method_len == 7 && memcmp(buf, "CONNECT", 7) == 0;
	gboolean is_absolute;
	const uint8_t *auth = NULL;
	size_t auth_len = 0;
	SniffKind kind = SNIFF_HTTP;

	if (is_connect) {
		if (!authority_parse(rl->target, rl->target_len, TRUE, out->name, &out->port))
			return SNIFF_MALFORMED;
		kind = SNIFF_HTTP_CONNECT;
	} else if (absolute_authority(rl->target, rl->target_len, &is_absolute, &auth,
				      &auth_len)) {
		if (!authority_parse(auth, auth_len, FALSE, out->name, &out->port))
			return SNIFF_MALFORMED;
	} else if (is_absolute) {
		return SNIFF_MALFORMED;
	} else if (rl->target[0] == '/' || (rl->target_len == 1 && rl->target[0] == '*')) {
		/* origin-form, asterisk-form: the Host header names the site */
		if (host->found) {
			memcpy(out->name, host->name, sizeof out->name);
			out->port = host->port;
		}
		return SNIFF_HTTP;
	} else {
		return SNIFF_MALFORMED; /* authority-form without CONNECT */
	}
	if (host->found && (strcmp(host->name, out->name) != 0 ||
			    (host->port && out->port && host->port != out->port)))
		return SNIFF_MALFORMED;
	return kind;
}

static SniffKind
http_sniff(const uint8_t *buf, size_t len, SniffResult *out)
{
	HttpRequestLine rl = { 0 };
	HttpHost host = { 0 };
	SniffKind k = http_request_line(buf, len, &rl);
	size_t off;

	if (k != SNIFF_HTTP)
		return k;
	off = rl.line_end;
	k = http_headers(buf, len, &off, &host);
	if (k != SNIFF_HTTP)
		return k;
	return http_target(buf, &rl, &host, out);
}

/* ---- SOCKS ---------------------------------------------------------------------- */

#define SOCKS_CMD_CONNECT 1
#define SOCKS5_ATYP_IPV4 1
#define SOCKS5_ATYP_DOMAIN 3
#define SOCKS5_ATYP_IPV6 4

static void
ipv4_text(const uint8_t a[4], char out[SNIFF_NAME_MAX + 1])
{
	snprintf(out, SNIFF_NAME_MAX + 1, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
}

/* SOCKS4: VN=4 CD PORT(2) IP(4) USERID NUL; SOCKS4a puts 0.0.0.x (x ≠ 0)
 * in IP and the host name, NUL-terminated, after the user id. */
static SniffKind
socks4_sniff(const uint8_t *buf, size_t len, SniffResult *out)
{
	const uint8_t *nul, *host, *host_end;
	gboolean is_4a;

	if (len < 2)
		return SNIFF_MORE;
	if (buf[1] != SOCKS_CMD_CONNECT)
		return SNIFF_MALFORMED;
	if (len < 8)
		return SNIFF_MORE;
	nul = memchr(buf + 8, '\0', len - 8);
	if (!nul)
		return SNIFF_MORE;
	out->port = (uint16_t)(buf[2] << 8 | buf[3]);
	is_4a = buf[4] == 0 && buf[5] == 0 && buf[6] == 0 && buf[7] != 0;
	if (!is_4a) {
		ipv4_text(buf + 4, out->name);
		return SNIFF_SOCKS4;
	}
	host = nul + 1;
	host_end = memchr(host, '\0', (size_t)(buf + len - host));
	if (!host_end) {
		/* judge the bytes so far: a name byte no name may carry is final */
		for (const uint8_t *p = host; p < buf + len; p++)
			if (!name_byte_ok(*p) || p - host >= SNIFF_NAME_MAX + 1)
				return SNIFF_MALFORMED;
		return SNIFF_MORE;
	}
	return name_copy(host, (size_t)(host_end - host), out->name) ? SNIFF_SOCKS4
								    : SNIFF_MALFORMED;
}

/* SOCKS5 greeting: VER=5 NMETHODS METHODS… (RFC 1928 §3). */
static SniffKind
socks5_hello_sniff(const uint8_t *buf, size_t len, SniffResult *out)
{
	if (len < 2)
		return SNIFF_MORE;
	if (buf[1] == 0)
		return SNIFF_MALFORMED;
	if (len < 2 + (size_t)buf[1])
		return SNIFF_MORE;
	out->consumed = 2 + (size_t)buf[1];
	return SNIFF_SOCKS5_HELLO;
}

/* SOCKS5 request: VER=5 CMD RSV=0 ATYP DST.ADDR DST.PORT (RFC 1928 §4). */
static SniffKind
socks5_request(const uint8_t *buf, size_t len, SniffResult *out)
{
	size_t addr_len, need;

	if (len >= 1 && buf[0] != 5)
		return SNIFF_MALFORMED;
	if (len >= 2 && buf[1] != SOCKS_CMD_CONNECT)
		return SNIFF_MALFORMED;
	if (len >= 3 && buf[2] != 0)
		return SNIFF_MALFORMED;
	if (len < 4)
		return SNIFF_MORE;
	switch (buf[3]) {
	case SOCKS5_ATYP_IPV4:
		addr_len = 4;
		need = 4 + 4 + 2;
		break;
	case SOCKS5_ATYP_IPV6:
		addr_len = 16;
		need = 4 + 16 + 2;
		break;
	case SOCKS5_ATYP_DOMAIN:
		if (len < 5)
			return SNIFF_MORE;
		addr_len = buf[4];
		if (addr_len == 0)
			return SNIFF_MALFORMED;
		need = 5 + addr_len + 2;
		break;
	default:
		return SNIFF_MALFORMED;
	}
	if (len < need)
		return SNIFF_MORE;
	out->port = (uint16_t)(buf[need - 2] << 8 | buf[need - 1]);
	if (buf[3] == SOCKS5_ATYP_IPV4)
		ipv4_text(buf + 4, out->name);
	else if (buf[3] == SOCKS5_ATYP_IPV6)
		inet_ntop(AF_INET6, buf + 4, out->name, sizeof out->name);
	else if (!name_copy(buf + 5, addr_len, out->name))
		return SNIFF_MALFORMED;
	return SNIFF_SOCKS5;
}

/* ---- SSH ---------------------------------------------------------------------------- */

/* The identification string (RFC 4253 §4.2); "SSH-1.99-" is a server
 * speaking both versions, which clients echo. */
static SniffKind
ssh_sniff(const uint8_t *buf, size_t len)
{
	static const char *const ids[] = { "SSH-2.0-", "SSH-1.99-" };

	for (size_t i = 0; i < G_N_ELEMENTS(ids); i++) {
		size_t n = strlen(ids[i]);

		if (memcmp(buf, ids[i], MIN(len, n)) == 0)
			return len < n ? SNIFF_MORE : SNIFF_SSH;
	}
	return SNIFF_UNKNOWN;
}

static gboolean
starts_like_ssh(const uint8_t *buf, size_t len)
{
	return memcmp(buf, "SSH-", MIN(len, 4)) == 0;
}

/* ---- entry points ---------------------------------------------------------------------- */

/* Only final, name-bearing verdicts keep what the parser wrote. */
static SniffKind
finish(SniffKind kind, SniffResult *out)
{
	out->kind = kind;
	if (kind == SNIFF_MORE || kind == SNIFF_UNKNOWN || kind == SNIFF_MALFORMED) {
		memset(out->name, 0, sizeof out->name);
		out->port = 0;
		out->consumed = 0;
	}
	return kind;
}

static SniffKind
sniff_dispatch(const uint8_t *buf, size_t len, SniffResult *out)
{
	if (len == 0)
		return SNIFF_MORE;
	if (buf[0] == TLS_CT_HANDSHAKE)
		return tls_sniff(buf, len, out);
	if (buf[0] == 4)
		return socks4_sniff(buf, len, out);
	if (buf[0] == 5)
		return socks5_hello_sniff(buf, len, out);
	if (starts_like_ssh(buf, len))
		return ssh_sniff(buf, len);
	if (buf[0] >= 'A' && buf[0] <= 'Z')
		return http_sniff(buf, len, out);
	return SNIFF_UNKNOWN;
}

SniffKind
sniff_client(const uint8_t *buf, size_t len, SniffResult *out)
{
	SniffKind kind;

	memset(out, 0, sizeof *out);
	/* The caller holds at most SNIFF_HOLD_MAX bytes: the verdict depends
	 * on those alone (so a longer buffer cannot change it), and undecided
	 * at that point is as final as broken. */
	len = MIN(len, SNIFF_HOLD_MAX);
	kind = sniff_dispatch(buf, len, out);
	if (kind == SNIFF_MORE && len == SNIFF_HOLD_MAX)
		kind = SNIFF_MALFORMED;
	return finish(kind, out);
}

SniffKind
sniff_socks5_request(const uint8_t *buf, size_t len, SniffResult *out)
{
	memset(out, 0, sizeof *out);
	return finish(socks5_request(buf, len, out), out);
}

const char *
sniff_kind_name(SniffKind kind)
{
	switch (kind) {
	case SNIFF_MORE:
		return "more";
	case SNIFF_TLS:
		return "tls";
	case SNIFF_HTTP:
		return "http";
	case SNIFF_HTTP_CONNECT:
		return "connect";
	case SNIFF_SOCKS4:
		return "socks4";
	case SNIFF_SOCKS5_HELLO:
		return "socks5-hello";
	case SNIFF_SOCKS5:
		return "socks5";
	case SNIFF_SSH:
		return "ssh";
	case SNIFF_UNKNOWN:
		return "unknown";
	case SNIFF_MALFORMED:
		return "malformed";
	default:
		return "?";
	}
}
