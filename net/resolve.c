/* SPDX-License-Identifier: MIT
 *
 * resolve.c — start-up resolution of allowlisted names on the host.
 *
 * The --resolver client is deliberately tiny (one UDP socket, the A and
 * AAAA queries in flight together, two tries): it runs once before the
 * sandbox starts.  Messages are built and checked by dns-msg.c, the same
 * code the launcher's responder uses for its upstream queries: a reply
 * counts only if it answers exactly our question, and only records of the
 * name or its CNAME chain are taken.
 */
#include "net/resolve.h"
#include "common/error.h"
#include "common/fdutil.h"
#include "net/dns-msg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#define DNS_TIMEOUT_MS 2000
#define DNS_TRIES 2

gboolean
sbx_resolver_parse(const char *spec, struct sockaddr_storage *ss, socklen_t *len,
		   GError **error)
{
	if (dns_server_parse(spec, ss, len))
		return TRUE;
	g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_NETWORK,
		    "--resolver %s: expected ADDR, ADDR:PORT or [IPV6]:PORT (numeric)", spec);
	return FALSE;
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
	guint8 q[2][DNS_UDP_MAX], wire[DNS_NAME_WIRE_MAX];
	gsize qlen[2], wire_len = dns_encode_name(name, wire, sizeof wire);
	guint16 ids[2];
	const guint16 types[2] = { DNS_TYPE_A, DNS_TYPE_AAAA };
	gboolean done[2] = { FALSE, FALSE };
	g_autoptr(GArray) got4 = g_array_new(FALSE, FALSE, sizeof(struct in_addr));
	g_autoptr(GArray) got6 = g_array_new(FALSE, FALSE, sizeof(struct in6_addr));
	g_autofree char *lname = g_ascii_strdown(name, -1);

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
		qlen[i] = wire_len ? dns_build_query(ids[i], wire, wire_len, types[i], q[i],
						     sizeof q[i]) : 0;
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
				DnsUpstreamAnswer ans;
				GArray *got = i == 0 ? got4 : got6;

				if (done[i] || !dns_parse_upstream_reply(reply, (size_t)n, ids[i],
									 lname, types[i], &ans))
					continue;   /* not our question, or malformed: keep waiting */
				if (ans.rcode != DNS_RCODE_NOERROR && ans.rcode != DNS_RCODE_NXDOMAIN) {
					g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_NETWORK,
						    "resolve %s: resolver %s answered with error code %d",
						    name, resolver, ans.rcode);
					return FALSE;
				}
				for (size_t k = 0; k < ans.n_addrs; k++)
					g_array_append_vals(got, i == 0 ? (const void *)&ans.addrs[k].v4
								    : (const void *)&ans.addrs[k].v6, 1);
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
