/* SPDX-License-Identifier: MIT
 *
 * dns-responder.c — the built-in resolver at 10.0.2.3 / fd00::3.
 *
 * net.c hands every frame read from the tap to dns_responder_handle_frame()
 * before the policy check and slirp_input().  UDP frames to the resolver
 * addresses are consumed here (libslirp never sees them; its own forwarder
 * is off: SlirpConfig.disable_dns), the query is parsed (dns-msg.c) and the
 * reply frame (Ethernet/IP/UDP, checksums computed here) goes back through
 * send_frame:
 *
 *   restricted policy:  allowlisted exact name → start-up addresses;
 *                       *.domain match (A/AAAA) → upstream, asynchronously,
 *                       answers added to the nft timeout sets first;
 *                       any other name → NXDOMAIN, nothing leaves the host.
 *   unrestricted:       every query is relayed to the upstream as is.
 *
 * Upstream = --resolver ADDR[:PORT], else the first nameserver of the host's
 * /etc/resolv.conf.  One connected non-blocking UDP socket (the kernel then
 * drops datagrams from any other source), random 16-bit ids, the question
 * checked in every reply, a timeout per query (SERVFAIL), a cap on queries
 * in flight: the main loop never blocks on DNS and memory stays bounded.
 *
 * Every answer and every refusal is told to denials.c, which reports
 * blocked destinations with the name the resolver handed them out for.
 */
#include "net/dns.h"
#include "net/denials.h"
#include "net/dns-msg.h"
#include "net/frame.h"
#include "net/nft/nft.h"
#include "net/vnet.h"
#include "common/error.h"
#include "common/fdutil.h"
#include "common/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <glib-unix.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* TTL of answers from the start-up resolution: short, so a payload that
 * caches does not keep an address much longer than the run needs. */
#define STATIC_TTL 30
/* Run-time (*.domain) answers: the upstream TTL, clamped.  The floor leaves
 * the payload time to connect; the cap bounds how long an address stays
 * allowed after the name moved. */
#define DYN_TTL_MIN 5
#define DYN_TTL_MAX 300
#define UPSTREAM_TIMEOUT_MS 3000
#define MAX_PENDING 256

typedef union {
	struct in_addr v4;
	struct in6_addr v6;
} IpAddr;

/* Where a query came from: enough to address the reply frame. */
typedef struct {
	int family;
	guint8 guest_mac[6];
	guint8 resolver_mac[6];
	IpAddr guest_ip;
	IpAddr resolver_ip;
	guint16 guest_port;
} DnsClient;

typedef struct {
	DnsResponder *r;
	guint16 up_id;
	gboolean relay;          /* unrestricted: pass the reply through */
	DnsClient client;
	DnsQuery q;
	GSource *timeout;
} DnsPending;

struct DnsResponder {
	EgressPolicy *policy;
	gboolean restricted;
	GMainContext *ctx;
	DnsSendFrameFunc send_frame;
	gpointer opaque;
	int nft_sock;
	Denials *denials;	 /* borrowed: net.c owns it */

	struct sockaddr_storage upstream;
	socklen_t upstream_len;
	int up_sock;
	GSource *up_watch;
	GHashTable *pending;     /* GUINT_TO_POINTER(up_id) → DnsPending */
	size_t max_relay;        /* largest reply payload that fits the MTU */
	guint16 ip_id;

	guint64 queries;
	guint64 answered;

	/* last, and not zeroed (dns_responder_new) */
	guint8 frame[FRAME_ETH_HLEN + FRAME_IPV6_HLEN + FRAME_UDP_HLEN + 65536];
	guint8 msg[65536];
};

/* ---------------------------------------------------------------------------
 * Frames: parse the query's headers, build the reply's.
 */

static const guint8 resolver_v4[4] = VNET_RESOLVER4_BYTES;
static const guint8 resolver_v6[16] = VNET_RESOLVER6_BYTES;

/* Send PAYLOAD (PLEN bytes) from the resolver to CLIENT as one frame. */
static void
send_reply(DnsResponder *r, const DnsClient *c, const guint8 *payload, size_t plen)
{
	guint8 *f = r->frame;
	size_t iph = c->family == AF_INET6 ? FRAME_IPV6_HLEN : FRAME_IPV4_HLEN;
	guint8 *ip = f + FRAME_ETH_HLEN, *udp = ip + iph;
	size_t ulen = FRAME_UDP_HLEN + plen;
	guint32 sum;
	guint16 ucsum;
	int err;

	if (plen > sizeof(r->frame) - FRAME_ETH_HLEN - iph - FRAME_UDP_HLEN)
		return;
	memcpy(f, c->guest_mac, 6);
	memcpy(f + 6, c->resolver_mac, 6);
	frame_wr16(f + 12, c->family == AF_INET6 ? FRAME_ETHERTYPE_IPV6 : FRAME_ETHERTYPE_IPV4);
	memmove(udp + FRAME_UDP_HLEN, payload, plen);
	frame_wr16(udp, DNS_DEFAULT_PORT);
	frame_wr16(udp + 2, c->guest_port);
	frame_wr16(udp + 4, (guint16)ulen);
	frame_wr16(udp + 6, 0);
	if (c->family == AF_INET6) {
		memset(ip, 0, FRAME_IPV6_HLEN);
		ip[0] = 0x60;
		frame_wr16(ip + 4, (guint16)ulen);
		ip[6] = IPPROTO_UDP;
		ip[7] = 64;
		memcpy(ip + 8, &c->resolver_ip.v6, 16);
		memcpy(ip + 24, &c->guest_ip.v6, 16);
		sum = frame_csum_pseudo(AF_INET6, ip + 8, ip + 24, IPPROTO_UDP, ulen);
	} else {
		memset(ip, 0, FRAME_IPV4_HLEN);
		ip[0] = 0x45;
		frame_wr16(ip + 2, (guint16)(FRAME_IPV4_HLEN + ulen));
		frame_wr16(ip + 4, r->ip_id++);
		frame_wr16(ip + 6, 0x4000);             /* DF */
		ip[8] = 64;
		ip[9] = IPPROTO_UDP;
		memcpy(ip + 12, &c->resolver_ip.v4, 4);
		memcpy(ip + 16, &c->guest_ip.v4, 4);
		frame_wr16(ip + 10, frame_csum_fold(frame_csum_add(0, ip, FRAME_IPV4_HLEN)));
		sum = frame_csum_pseudo(AF_INET, ip + 12, ip + 16, IPPROTO_UDP, ulen);
	}
	ucsum = frame_csum_fold(frame_csum_add(sum, udp, ulen));
	/* 0 means "no checksum" (and is forbidden over IPv6): send all ones */
	frame_wr16(udp + 6, ucsum ? ucsum : 0xffff);
	err = r->send_frame(f, FRAME_ETH_HLEN + iph + ulen, r->opaque);
	if (err < 0)
		sbx_debug("dns: send reply: %s", g_strerror(-err));
	else
		r->answered++;
}

static void
reply(DnsResponder *r, const DnsClient *c, const DnsQuery *q, guint8 rcode, int family,
      const void *addrs, size_t n, guint32 ttl)
{
	guint8 buf[DNS_UDP_MAX];
	size_t len = dns_build_reply(q, rcode, family, addrs, n, ttl, buf, sizeof(buf));

	if (len)
		send_reply(r, c, buf, len);
}

/* If FRAME is UDP to the resolver, fill C and *PAYLOAD; returns
 * 1 = a datagram to port 53, 0 = not for us, -1 = for us but unusable
 * (fragment, truncated, other port): consumed and dropped, so nothing
 * addressed to the resolver ever reaches libslirp. */
static int
parse_frame(const guint8 *frame, const FrameInfo *fi, DnsClient *c, const guint8 **payload,
	    size_t *plen)
{
	const guint8 *udp;
	size_t ulen;

	memset(c, 0, sizeof(*c));
	if (!fi || fi->family == AF_UNSPEC)
		return 0;
	if (memcmp(fi->daddr, fi->family == AF_INET ? resolver_v4 : resolver_v6, fi->addr_len) != 0)
		return 0;
	if (fi->l4proto != IPPROTO_UDP) {
		/* IPv6 extension headers (or a fragment) before UDP: not a
		 * query we answer; anything else (ICMP, TCP) → slirp and the
		 * policy check */
		return fi->ext_hdr ? -1 : 0;
	}
	/* Ethernet padding: trust the IP length, within the frame */
	if (fi->l3_hlen == 0 || fi->ip_len < fi->l3_hlen || fi->ip_len > fi->l3_caplen)
		return -1;
	if (fi->fragment)
		return -1;
	if (fi->l3_hlen + FRAME_UDP_HLEN > fi->ip_len)
		return -1;
	udp = fi->l4;
	ulen = frame_rd16(udp + 4);
	if (ulen < FRAME_UDP_HLEN || fi->l3_hlen + ulen > fi->ip_len || fi->dport != DNS_DEFAULT_PORT)
		return -1;
	c->family = fi->family;
	memcpy(&c->guest_ip, fi->saddr, fi->addr_len);
	memcpy(&c->resolver_ip, fi->daddr, fi->addr_len);
	memcpy(c->guest_mac, frame + 6, 6);
	memcpy(c->resolver_mac, frame, 6);
	c->guest_port = fi->sport;
	*payload = udp + FRAME_UDP_HLEN;
	*plen = ulen - FRAME_UDP_HLEN;
	return 1;
}

/* ---------------------------------------------------------------------------
 * Upstream: on-demand answers for *.domain entries, and the relay.
 */

static void
pending_free(gpointer data)
{
	DnsPending *p = data;

	if (p->timeout)
		g_source_destroy(p->timeout);
	g_free(p);
}

/* Answer P with RCODE and forget it. */
static void
pending_fail(DnsResponder *r, DnsPending *p, guint8 rcode)
{
	reply(r, &p->client, &p->q, rcode, AF_INET, NULL, 0, 0);
	g_hash_table_remove(r->pending, GUINT_TO_POINTER(p->up_id));
}

/* GSourceFunc: the upstream did not answer in time. */
static gboolean
on_pending_timeout(gpointer data)
{
	DnsPending *p = data;

	sbx_debug("dns: upstream timeout for %s", p->q.name);
	p->timeout = NULL;   /* being dispatched: GLib destroys it on return */
	pending_fail(p->r, p, DNS_RCODE_SERVFAIL);
	return G_SOURCE_REMOVE;
}

/* Allow the addresses of a run-time answer: the in-namespace nft timeout
 * sets of every *.domain entry the name matches (so they expire with the
 * TTL) and the launcher's frame filter (defence in depth).  Done before the
 * reply goes out, so the payload's first connect already passes. */
static gboolean
allow_runtime(DnsResponder *r, const DnsPending *p, int family, const void *addrs, size_t n,
	      guint ttl, GError **error)
{
	if (r->nft_sock < 0) {
		g_set_error(error, SBX_ERROR, SBX_ERR_OS,
			    "add %s answers to the ruleset: no netlink socket into the sandbox",
			    p->q.name);
		return FALSE;
	}
	if (!egress_policy_add_resolved(r->policy, r->nft_sock, p->q.name, family, addrs,
					(guint)n, ttl, error))
		return sbx_prefix_error(error, "add %s answers to the ruleset: ", p->q.name);
	return TRUE;
}

static void
finish_lookup(DnsResponder *r, DnsPending *p, const DnsUpstreamAnswer *ans)
{
	guint8 keep[DNS_UPSTREAM_MAX_ADDRS * 16];
	size_t n = 0, alen = ans->family == AF_INET6 ? 16 : 4;
	guint ttl = CLAMP(ans->ttl, DYN_TTL_MIN, DYN_TTL_MAX);
	g_autoptr(GError) error = NULL;

	if (ans->rcode != DNS_RCODE_NOERROR) {
		pending_fail(r, p, ans->rcode == DNS_RCODE_NXDOMAIN ? DNS_RCODE_NXDOMAIN
								     : DNS_RCODE_SERVFAIL);
		return;
	}
	for (size_t i = 0; i < ans->n_addrs; i++) {
		if (egress_addr_is_refused_range(ans->family, &ans->addrs[i])) {
			denials_refused_answer(r->denials, p->q.name, ans->family, &ans->addrs[i],
				       "loopback, link-local, multicast or metadata range");
			continue;
		}
		/* a dense array of addresses, as the builders want it */
		memcpy(keep + n++ * alen, &ans->addrs[i], alen);
	}
	if (n && !allow_runtime(r, p, ans->family, keep, n, ttl, &error)) {
		sbx_warn("%s", error->message);
		pending_fail(r, p, DNS_RCODE_SERVFAIL);
		return;
	}
	denials_remember(r->denials, p->q.name, ans->family, keep, n);
	sbx_debug("dns: %s: %zu address(es) from upstream, ttl %u", p->q.name, n, ttl);
	reply(r, &p->client, &p->q, DNS_RCODE_NOERROR, ans->family, keep, n, ttl);
	g_hash_table_remove(r->pending, GUINT_TO_POINTER(p->up_id));
}

/* Unrestricted: nothing is refused, but the addresses a relayed answer
 * handed out are tied to their name all the same, for --learn (denials.h). */
static void
remember_relayed(DnsResponder *r, const DnsPending *p, const guint8 *msg, size_t len)
{
	guint8 packed[DNS_UPSTREAM_MAX_ADDRS * 16];
	DnsUpstreamAnswer ans;
	size_t alen;

	if (p->q.qtype != DNS_TYPE_A && p->q.qtype != DNS_TYPE_AAAA)
		return;
	if (!dns_parse_upstream_reply(msg, len, p->up_id, p->q.name, p->q.qtype, &ans) ||
	    ans.rcode != DNS_RCODE_NOERROR || ans.n_addrs == 0)
		return;
	alen = ans.family == AF_INET6 ? 16 : 4;
	for (size_t i = 0; i < ans.n_addrs; i++)
		memcpy(packed + i * alen, &ans.addrs[i], alen);
	denials_remember(r->denials, p->q.name, ans.family, packed, ans.n_addrs);
}

static void
handle_upstream_datagram(DnsResponder *r, guint8 *msg, size_t len)
{
	DnsPending *p;
	DnsUpstreamAnswer ans;

	if (len < DNS_HEADER_LEN)
		return;
	p = g_hash_table_lookup(r->pending, GUINT_TO_POINTER(frame_rd16(msg)));
	if (!p)
		return;   /* late or spoofed */
	if (p->relay) {
		if (!dns_reply_matches(msg, len, p->up_id, p->q.name, p->q.qtype))
			return;
		remember_relayed(r, p, msg, len);
		if (len > r->max_relay) {
			/* does not fit the link: tell the client it was cut */
			len = dns_build_reply(&p->q, msg[3] & 0xf, AF_INET, NULL, 0, 0, msg,
					      r->max_relay);
			msg[2] |= DNS_FLAG_TC >> 8;
		} else {
			frame_wr16(msg, p->q.id);
		}
		if (len)
			send_reply(r, &p->client, msg, len);
		g_hash_table_remove(r->pending, GUINT_TO_POINTER(p->up_id));
		return;
	}
	if (!dns_parse_upstream_reply(msg, len, p->up_id, p->q.name, p->q.qtype, &ans))
		return;
	finish_lookup(r, p, &ans);
}

/* GUnixFDSourceFunc */
static gboolean
on_upstream_readable(gint fd, GIOCondition cond, gpointer data)
{
	DnsResponder *r = data;

	for (;;) {
		ssize_t n = recv(fd, r->msg, sizeof(r->msg), MSG_DONTWAIT);

		if (n >= 0) {
			handle_upstream_datagram(r, r->msg, (size_t)n);
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == ECONNREFUSED) {
			/* nobody listens upstream: fail everything in flight now
			 * rather than after the timeout */
			GHashTableIter it;
			gpointer v;
			GPtrArray *all = g_ptr_array_new();

			sbx_debug("dns: upstream refused the query");
			g_hash_table_iter_init(&it, r->pending);
			while (g_hash_table_iter_next(&it, NULL, &v))
				g_ptr_array_add(all, v);
			for (guint i = 0; i < all->len; i++)
				pending_fail(r, g_ptr_array_index(all, i), DNS_RCODE_SERVFAIL);
			g_ptr_array_free(all, TRUE);
			continue;
		}
		break;   /* EAGAIN */
	}
	return G_SOURCE_CONTINUE;
}

static gboolean
ensure_upstream_socket(DnsResponder *r)
{
	autoclose int fd = -1;

	if (r->up_sock >= 0)
		return TRUE;
	if (!r->upstream_len)
		return FALSE;
	fd = socket(r->upstream.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&r->upstream, r->upstream_len) < 0) {
		sbx_warn("dns: cannot reach the upstream resolver: %s", g_strerror(errno));
		return FALSE;
	}
	r->up_sock = sbx_steal_fd(&fd);
	r->up_watch = g_unix_fd_source_new(r->up_sock, G_IO_IN);
	g_source_set_callback(r->up_watch, G_SOURCE_FUNC(on_upstream_readable), r, NULL);
	g_source_attach(r->up_watch, r->ctx);
	return TRUE;
}

/* Send Q upstream (RAW: the client's own message, for the relay). */
static void
ask_upstream(DnsResponder *r, const DnsClient *c, const DnsQuery *q, const guint8 *raw,
	     size_t rawlen)
{
	guint8 buf[DNS_UDP_MAX];
	const guint8 *out = buf;
	g_autofree guint8 *copy = NULL;
	size_t len;
	DnsPending *p;
	guint16 id;

	if (g_hash_table_size(r->pending) >= MAX_PENDING || !ensure_upstream_socket(r)) {
		reply(r, c, q, DNS_RCODE_SERVFAIL, AF_INET, NULL, 0, 0);
		return;
	}
	do
		id = (guint16)g_random_int_range(0, 65536);
	while (g_hash_table_contains(r->pending, GUINT_TO_POINTER(id)));
	if (raw) {
		copy = g_memdup2(raw, rawlen);
		frame_wr16(copy, id);
		out = copy;
		len = rawlen;
	} else {
		len = dns_build_query(id, q->qname_wire, q->qname_wire_len, q->qtype, buf,
				      sizeof(buf));
	}
	if (!len || send(r->up_sock, out, len, MSG_DONTWAIT) < 0) {
		sbx_debug("dns: send upstream for %s: %s", q->name, g_strerror(errno));
		reply(r, c, q, DNS_RCODE_SERVFAIL, AF_INET, NULL, 0, 0);
		return;
	}
	p = g_new0(DnsPending, 1);
	p->r = r;
	p->up_id = id;
	p->relay = raw != NULL;
	p->client = *c;
	p->q = *q;
	p->timeout = g_timeout_source_new(UPSTREAM_TIMEOUT_MS);
	g_source_set_callback(p->timeout, on_pending_timeout, p, NULL);
	g_source_attach(p->timeout, r->ctx);
	g_source_unref(p->timeout);
	g_hash_table_insert(r->pending, GUINT_TO_POINTER(id), p);
}

/* ---------------------------------------------------------------------------
 * Queries.
 */

static void
refuse_name(DnsResponder *r, const DnsClient *c, const DnsQuery *q)
{
	denials_refused_name(r->denials, q->name, q->qtype);
	reply(r, c, q, DNS_RCODE_NXDOMAIN, AF_INET, NULL, 0, 0);
}

/* A probe for a record of an allowed name: `_service._proto.NAME` (apt's
 * `_http._tcp.MIRROR` SRV, TLSA `_443._tcp.NAME`, …) with NAME allowed.
 * Nothing a connection needs: answered "no such name" without asking
 * upstream, and not a denial — otherwise every apt run ends "blocked 1
 * name" and users learn to ignore the summary (issue 16). */
static gboolean
is_probe_of_allowed_name(DnsResponder *r, const char *name)
{
	const char *rest = name;
	GArray *a4 = NULL, *a6 = NULL;
	gboolean wildcard = FALSE;

	while (rest[0] == '_' && strchr(rest, '.'))
		rest = strchr(rest, '.') + 1;
	if (rest == name || !*rest)
		return FALSE;
	return egress_policy_lookup_name(r->policy, rest, &a4, &a6, &wildcard);
}

static void
handle_query(DnsResponder *r, const DnsClient *c, const guint8 *msg, size_t len)
{
	DnsQuery q;
	GArray *a4 = NULL, *a6 = NULL;
	gboolean wildcard = FALSE;

	switch (dns_parse_query(msg, len, &q)) {
	case DNS_QUERY_DROP:
		return;
	case DNS_QUERY_ERROR:
		r->queries++;
		reply(r, c, &q, q.rcode, AF_INET, NULL, 0, 0);
		return;
	case DNS_QUERY_OK:
	default:
		break;
	}
	r->queries++;
	if (!r->restricted) {
		ask_upstream(r, c, &q, msg, len);
		return;
	}
	/* Only plain host names are looked up: a label with a dot or binary
	 * inside must not match an entry by its text form. */
	if (!q.name_is_hostname ||
	    !egress_policy_lookup_name(r->policy, q.name, &a4, &a6, &wildcard)) {
		if (q.name_is_hostname && is_probe_of_allowed_name(r, q.name)) {
			sbx_debug("dns: %s: a probe of an allowed name, answered NXDOMAIN", q.name);
			reply(r, c, &q, DNS_RCODE_NXDOMAIN, AF_INET, NULL, 0, 0);
			return;
		}
		refuse_name(r, c, &q);
		return;
	}
	if (wildcard && (q.qtype == DNS_TYPE_A || q.qtype == DNS_TYPE_AAAA)) {
		ask_upstream(r, c, &q, NULL, 0);
		return;
	}
	if (!wildcard && q.qtype == DNS_TYPE_A && a4 && a4->len) {
		denials_remember(r->denials, q.name, AF_INET, a4->data, a4->len);
		reply(r, c, &q, DNS_RCODE_NOERROR, AF_INET, a4->data, a4->len, STATIC_TTL);
	} else if (!wildcard && q.qtype == DNS_TYPE_AAAA && a6 && a6->len) {
		denials_remember(r->denials, q.name, AF_INET6, a6->data, a6->len);
		reply(r, c, &q, DNS_RCODE_NOERROR, AF_INET6, a6->data, a6->len, STATIC_TTL);
	} else {
		/* allowlisted name, other type (or no address of this family):
		 * an empty NOERROR, so resolvers do not try search domains */
		reply(r, c, &q, DNS_RCODE_NOERROR, AF_INET, NULL, 0, 0);
	}
}

gboolean
dns_responder_handle_frame(DnsResponder *r, const guint8 *frame, const FrameInfo *fi)
{
	DnsClient c;
	const guint8 *payload = NULL;
	size_t plen = 0;
	int kind = parse_frame(frame, fi, &c, &payload, &plen);

	if (kind == 0)
		return FALSE;
	if (kind > 0)
		handle_query(r, &c, payload, plen);
	return TRUE;
}

/* ---------------------------------------------------------------------------
 * Set-up and teardown.
 */

static void
resolve_upstream(DnsResponder *r, const SbxConfig *cfg)
{
	g_autofree char *contents = NULL;
	g_autofree char *ns = NULL;

	if (cfg->resolver) {
		if (!dns_server_parse(cfg->resolver, &r->upstream, &r->upstream_len))
			sbx_warn("--resolver %s: not ADDR[:PORT]; on-demand names will fail",
				 cfg->resolver);
		return;
	}
	if (g_file_get_contents("/etc/resolv.conf", &contents, NULL, NULL))
		ns = dns_resolv_conf_nameserver(contents);
	if (!ns || !dns_server_parse(ns, &r->upstream, &r->upstream_len))
		sbx_debug("dns: no usable nameserver in /etc/resolv.conf");
}

DnsResponder *
dns_responder_new(EgressPolicy *policy, const SbxConfig *cfg, GMainContext *ctx, int nft_sock,
		  Denials *denials, DnsSendFrameFunc send_frame, gpointer opaque)
{
	/* Everything but the two 64 KiB buffers zeroed: they are written
	 * before they are read, and zeroing them faulted in 32 pages on every
	 * mini-tapbox start, on the launcher's way to NET_UP (issue 19). */
	DnsResponder *r = g_malloc(sizeof *r);
	guint mtu = cfg->mtu ? cfg->mtu : SBX_DEFAULT_MTU;

	memset(r, 0, offsetof(DnsResponder, frame));

	r->policy = policy;
	r->restricted = policy && egress_policy_is_restricted(policy);
	r->ctx = ctx;
	r->send_frame = send_frame;
	r->opaque = opaque;
	r->nft_sock = nft_sock;
	r->denials = denials;
	r->up_sock = -1;
	r->ip_id = (guint16)g_random_int();
	r->pending = g_hash_table_new_full(NULL, NULL, NULL, pending_free);
	r->max_relay = MIN((size_t)mtu, sizeof(r->msg)) - FRAME_IPV6_HLEN - FRAME_UDP_HLEN;
	resolve_upstream(r, cfg);
	return r;
}

void
dns_responder_print_summary(DnsResponder *r)
{
	if (!r)
		return;
	sbx_debug("dns: %" G_GUINT64_FORMAT " queries, %" G_GUINT64_FORMAT " replies",
		  r->queries, r->answered);
}

void
dns_responder_free(DnsResponder *r)
{
	if (!r)
		return;
	g_hash_table_unref(r->pending);
	if (r->up_watch) {
		g_source_destroy(r->up_watch);
		g_source_unref(r->up_watch);
	}
	sbx_close_fdp(&r->up_sock);
	sbx_close_fdp(&r->nft_sock);
	g_free(r);
}
