/* SPDX-License-Identifier: MIT
 *
 * resolve.c — start-up resolution of allowlisted names on the host.
 *
 * The --resolver client is deliberately tiny (one UDP socket, the A and
 * AAAA queries in flight together, two tries): it runs once before the
 * sandbox starts.  It keeps its own query builder / reply walker because
 * the DNS helper's dns-msg.c (the launcher's responder) was not there yet
 * when this was written; both follow RFC 1035 §4.1 and bound every read.
 */
#include "resolve.h"
#include "common/error.h"
#include "common/fdutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#define DNS_TYPE_A 1
#define DNS_TYPE_AAAA 28
#define DNS_CLASS_IN 1
#define DNS_TIMEOUT_MS 2000
#define DNS_TRIES 2

gboolean
sbx_resolver_parse(const char *spec, struct sockaddr_storage *ss, socklen_t *len,
		   GError **error)
{
	g_autofree char *host = NULL;
	const char *port_s = NULL;
	unsigned long port = 53;
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	const char *colon = strchr(spec, ':');

	memset(ss, 0, sizeof *ss);
	if (spec[0] == '[') {
		const char *close = strchr(spec, ']');

		if (!close || (close[1] && close[1] != ':'))
			goto bad;
		host = g_strndup(spec + 1, (size_t)(close - spec - 1));
		if (close[1] == ':')
			port_s = close + 2;
	} else if (colon && !strchr(colon + 1, ':')) {
		host = g_strndup(spec, (size_t)(colon - spec));
		port_s = colon + 1;
	} else {
		host = g_strdup(spec);
	}
	if (port_s) {
		char *end;

		errno = 0;
		port = strtoul(port_s, &end, 10);
		if (!*port_s || *end || errno || port == 0 || port > 65535)
			goto bad;
	}
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((guint16)port);
		*len = sizeof *sin;
		return TRUE;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((guint16)port);
		*len = sizeof *sin6;
		return TRUE;
	}
bad:
	g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_NETWORK,
		    "--resolver %s: expected ADDR, ADDR:PORT or [IPV6]:PORT (numeric)", spec);
	return FALSE;
}

gsize
sbx_dns_build_query(guint8 *buf, gsize size, guint16 id, const char *name, guint16 qtype)
{
	gsize off = 12, nlen = strlen(name);
	const char *label = name;

	if (size < 512 || nlen == 0 || nlen > 253)
		return 0;
	memset(buf, 0, 12);
	buf[0] = (guint8)(id >> 8);
	buf[1] = (guint8)id;
	buf[2] = 0x01;                 /* RD */
	buf[5] = 1;                    /* QDCOUNT */
	while (*label) {
		const char *dot = strchr(label, '.');
		gsize l = dot ? (gsize)(dot - label) : strlen(label);

		if (l == 0 || l > 63)
			return 0;
		buf[off++] = (guint8)l;
		memcpy(buf + off, label, l);
		off += l;
		label += l + (dot ? 1 : 0);
	}
	buf[off++] = 0;
	buf[off++] = (guint8)(qtype >> 8);
	buf[off++] = (guint8)qtype;
	buf[off++] = 0;
	buf[off++] = DNS_CLASS_IN;
	return off;
}

/* Skip the (possibly compressed) name at *OFF; FALSE if it runs out of MSG. */
static gboolean
skip_name(const guint8 *msg, gsize len, gsize *off)
{
	gsize o = *off;

	for (guint labels = 0; labels < 128; labels++) {
		if (o >= len)
			return FALSE;
		if ((msg[o] & 0xc0) == 0xc0) {
			if (o + 2 > len)
				return FALSE;
			*off = o + 2;   /* a pointer ends the name; its target is not needed */
			return TRUE;
		}
		if (msg[o] & 0xc0)
			return FALSE;
		if (msg[o] == 0) {
			*off = o + 1;
			return TRUE;
		}
		o += 1u + msg[o];
	}
	return FALSE;
}

gboolean
sbx_dns_parse_reply(const guint8 *msg, gsize len, guint16 id, guint16 qtype, GArray *addrs,
		    int *rcode)
{
	gsize off = 12;
	guint qd, an;
	gsize want = qtype == DNS_TYPE_A ? 4 : 16;

	if (g_array_get_element_size(addrs) != want)
		return FALSE;   /* the caller's array must hold exactly one record */
	if (len < 12 || ((msg[0] << 8) | msg[1]) != id || !(msg[2] & 0x80))
		return FALSE;
	*rcode = msg[3] & 0x0f;
	qd = (guint)(msg[4] << 8 | msg[5]);
	an = (guint)(msg[6] << 8 | msg[7]);
	for (guint i = 0; i < qd; i++) {
		if (!skip_name(msg, len, &off) || off + 4 > len)
			return FALSE;
		off += 4;
	}
	for (guint i = 0; i < an; i++) {
		guint16 type, rdlen;

		if (!skip_name(msg, len, &off) || off + 10 > len)
			return FALSE;
		type = (guint16)(msg[off] << 8 | msg[off + 1]);
		rdlen = (guint16)(msg[off + 8] << 8 | msg[off + 9]);
		off += 10;
		if (off + rdlen > len)
			return FALSE;
		/* CNAME chains: the resolver already followed them; the
		 * addresses at the end of the chain are what we connect to. */
		if (type == qtype && rdlen == want)
			g_array_append_vals(addrs, msg + off, 1);
		off += rdlen;
	}
	return TRUE;
}

static void
append_unique(GArray *arr, const void *addr, gsize size)
{
	for (guint i = 0; i < arr->len; i++)
		if (memcmp(arr->data + i * size, addr, size) == 0)
			return;
	g_array_append_vals(arr, addr, 1);
}

static gboolean
resolve_with_server(const char *name, const char *resolver, GArray *addrs4, GArray *addrs6,
		    GError **error)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	autoclose int fd = -1;
	guint8 q[2][512];
	gsize qlen[2];
	guint16 ids[2];
	const guint16 types[2] = { DNS_TYPE_A, DNS_TYPE_AAAA };
	gboolean done[2] = { FALSE, FALSE };
	g_autoptr(GArray) got4 = g_array_new(FALSE, FALSE, sizeof(struct in_addr));
	g_autoptr(GArray) got6 = g_array_new(FALSE, FALSE, sizeof(struct in6_addr));

	if (!sbx_resolver_parse(resolver, &ss, &sslen, error))
		return FALSE;
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return sbx_set_errno(error, errno, "resolve %s: socket", name);
	/* connect() so replies from anyone else are filtered by the kernel */
	if (connect(fd, (struct sockaddr *)&ss, sslen) < 0)
		return sbx_set_errno(error, errno, "resolve %s: connect to resolver %s", name,
				     resolver);
	for (int i = 0; i < 2; i++) {
		ids[i] = (guint16)g_random_int_range(0, 0x10000);
		qlen[i] = sbx_dns_build_query(q[i], sizeof q[i], ids[i], name, types[i]);
		if (!qlen[i]) {
			g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_NETWORK,
				    "resolve %s: name too long", name);
			return FALSE;
		}
	}
	for (int attempt = 0; attempt < DNS_TRIES && !(done[0] && done[1]); attempt++) {
		gint64 deadline = g_get_monotonic_time() + DNS_TIMEOUT_MS * 1000;

		for (int i = 0; i < 2; i++)
			if (!done[i] && send(fd, q[i], qlen[i], 0) < 0)
				return sbx_set_errno(error, errno, "resolve %s: send to %s", name,
						     resolver);
		while (!(done[0] && done[1])) {
			gint64 left = (deadline - g_get_monotonic_time()) / 1000;
			struct pollfd pfd = { .fd = fd, .events = POLLIN };
			guint8 reply[4096];
			ssize_t n;
			int r;

			if (left <= 0)
				break;
			r = poll(&pfd, 1, (int)left);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				return sbx_set_errno(error, errno, "resolve %s: poll", name);
			if (r == 0)
				break;
			n = recv(fd, reply, sizeof reply, 0);
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n < 0)
				return sbx_set_errno(error, errno, "resolve %s: receive from %s",
						     name, resolver);
			for (int i = 0; i < 2; i++) {
				int rcode = 0;
				GArray *got = i == 0 ? got4 : got6;

				if (done[i] || n < 12 || ((reply[0] << 8) | reply[1]) != ids[i])
					continue;
				g_array_set_size(got, 0);
				if (!sbx_dns_parse_reply(reply, (gsize)n, ids[i], types[i], got,
							 &rcode))
					continue;   /* malformed: keep waiting */
				if (rcode != 0 && rcode != 3) {
					g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_NETWORK,
						    "resolve %s: resolver %s answered with error code %d",
						    name, resolver, rcode);
					return FALSE;
				}
				done[i] = TRUE;
			}
		}
	}
	if (!(done[0] && done[1])) {
		g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_NETWORK,
			    "resolve %s: no answer from resolver %s", name, resolver);
		return FALSE;
	}
	for (guint i = 0; i < got4->len; i++)
		append_unique(addrs4, &g_array_index(got4, struct in_addr, i), sizeof(struct in_addr));
	for (guint i = 0; i < got6->len; i++)
		append_unique(addrs6, &g_array_index(got6, struct in6_addr, i),
			      sizeof(struct in6_addr));
	return TRUE;
}

static gboolean
resolve_with_system(const char *name, GArray *addrs4, GArray *addrs6, GError **error)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL;
	int r = getaddrinfo(name, NULL, &hints, &res);

	if (r == EAI_NONAME || r == EAI_NODATA)
		return TRUE;
	if (r != 0) {
		g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_NETWORK, "resolve %s: %s", name,
			    r == EAI_SYSTEM ? g_strerror(errno) : gai_strerror(r));
		return FALSE;
	}
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET)
			append_unique(addrs4, &((struct sockaddr_in *)ai->ai_addr)->sin_addr,
				      sizeof(struct in_addr));
		else if (ai->ai_family == AF_INET6)
			append_unique(addrs6, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr,
				      sizeof(struct in6_addr));
	}
	freeaddrinfo(res);
	return TRUE;
}

gboolean
sbx_resolve_name(const char *name, const char *resolver, GArray *addrs4, GArray *addrs6,
		 GError **error)
{
	if (resolver)
		return resolve_with_server(name, resolver, addrs4, addrs6, error);
	return resolve_with_system(name, addrs4, addrs6, error);
}
