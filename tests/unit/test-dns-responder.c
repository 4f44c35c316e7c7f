/* SPDX-License-Identifier: MIT
 *
 * test-dns-responder.c — the resolver's frame path (net/dns-responder.c):
 * which frames it takes out of the stream, the reply frames it builds
 * (addresses, ports, IPv4 and UDP checksums, IPv6), and the upstream round
 * trip against a UDP socket of the test standing in for --resolver.
 * No namespaces: the policy is compiled from literal and *.domain entries,
 * which need no resolution, and no nft socket is passed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/config.h"
#include "net/dns-msg.h"
#include "net/dns.h"
#include "net/policy.h"
#include "net/vnet.h"

static const guint8 guest_mac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
static const guint8 slirp_mac[6] = { 0x52, 0x55, 0x0a, 0x00, 0x02, 0x03 };

typedef struct {
	SbxConfig *cfg;
	EgressPolicy *policy;
	GMainContext *ctx;
	DnsResponder *r;
	Denials *denials;
	GPtrArray *sent;     /* GByteArray frames written "to the tap" */
	int upstream;        /* the test's stand-in upstream resolver */
} Fixture;

/* DnsSendFrameFunc */
static int
capture_frame(const guint8 *frame, size_t len, gpointer opaque)
{
	Fixture *f = opaque;
	GByteArray *b = g_byte_array_sized_new((guint)len);

	g_byte_array_append(b, frame, (guint)len);
	g_ptr_array_add(f->sent, b);
	return 0;
}

static Fixture *
fixture_new(gboolean restricted)
{
	Fixture *f = g_new0(Fixture, 1);
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	struct timeval tv = { .tv_sec = 3 };
	g_autoptr(GError) error = NULL;

	f->upstream = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	assert_int_equal(bind(f->upstream, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(f->upstream, (struct sockaddr *)&sin, &len), 0);
	setsockopt(f->upstream, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

	f->cfg = sbx_config_new();
	f->cfg->net_mode = SBX_NET_TAP;
	f->cfg->is_tapbox = TRUE;
	f->cfg->resolver = g_strdup_printf("127.0.0.1:%u", ntohs(sin.sin_port));
	if (restricted) {
		g_ptr_array_add(f->cfg->allow_entries, g_strdup("192.0.2.1"));
		g_ptr_array_add(f->cfg->allow_entries, g_strdup("*.wild.test"));
	} else {
		f->cfg->allow_all = TRUE;
	}
	f->policy = egress_policy_load(f->cfg, &error);
	assert_null(error);
	assert_non_null(f->policy);
	f->ctx = g_main_context_new();
	f->sent = g_ptr_array_new_with_free_func((GDestroyNotify)g_byte_array_unref);
	f->denials = denials_new(f->policy, f->cfg, f->ctx, -1);
	f->r = dns_responder_new(f->policy, f->cfg, f->ctx, -1, f->denials, capture_frame, f);
	return f;
}

/* The responder as net.c calls it: on the frame parsed once. */
static gboolean
handle_frame(DnsResponder *r, const guint8 *frame, size_t n)
{
	FrameInfo fi;

	return dns_responder_handle_frame(r, frame, frame_parse(frame, n, &fi) ? &fi : NULL);
}

static void
fixture_free(Fixture *f)
{
	dns_responder_free(f->r);
	denials_free(f->denials);
	egress_policy_free(f->policy);
	sbx_config_free(f->cfg);
	g_ptr_array_unref(f->sent);
	g_main_context_unref(f->ctx);
	close(f->upstream);
	g_free(f);
}

static guint16
csum(guint32 sum, const guint8 *p, size_t len)
{
	for (; len > 1; p += 2, len -= 2)
		sum += (guint32)(p[0] << 8 | p[1]);
	if (len)
		sum += (guint32)(p[0] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (guint16)sum;
}

/* A query frame from the guest to the resolver; DNS = the UDP payload. */
static size_t
query_frame(guint8 *buf, int family, guint16 dport, const guint8 *dns, size_t dlen)
{
	size_t iph = family == AF_INET6 ? 40 : 20;
	guint8 *ip = buf + 14, *udp = ip + iph;

	memcpy(buf, slirp_mac, 6);
	memcpy(buf + 6, guest_mac, 6);
	buf[12] = family == AF_INET6 ? 0x86 : 0x08;
	buf[13] = family == AF_INET6 ? 0xdd : 0x00;
	memset(ip, 0, iph);
	if (family == AF_INET6) {
		ip[0] = 0x60;
		ip[4] = (guint8)((8 + dlen) >> 8);
		ip[5] = (guint8)(8 + dlen);
		ip[6] = IPPROTO_UDP;
		ip[7] = 64;
		inet_pton(AF_INET6, VNET_GUEST6_TEXT, ip + 8);
		inet_pton(AF_INET6, VNET_RESOLVER6_TEXT, ip + 24);
	} else {
		ip[0] = 0x45;
		ip[2] = (guint8)((28 + dlen) >> 8);
		ip[3] = (guint8)(28 + dlen);
		ip[8] = 64;
		ip[9] = IPPROTO_UDP;
		inet_pton(AF_INET, VNET_GUEST4_TEXT, ip + 12);
		inet_pton(AF_INET, VNET_RESOLVER4_TEXT, ip + 16);
	}
	udp[0] = 0xa0;   /* source port 40960 */
	udp[1] = 0x00;
	udp[2] = (guint8)(dport >> 8);
	udp[3] = (guint8)dport;
	udp[4] = (guint8)((8 + dlen) >> 8);
	udp[5] = (guint8)(8 + dlen);
	udp[6] = udp[7] = 0;
	memcpy(udp + 8, dns, dlen);
	return 14 + iph + 8 + dlen;
}

static size_t
dns_query(guint8 *buf, guint16 id, const char *name, guint16 qtype)
{
	g_auto(GStrv) labels = g_strsplit(name, ".", -1);
	size_t off = 12;

	memset(buf, 0, 12);
	buf[0] = id >> 8;
	buf[1] = id & 0xff;
	buf[2] = 0x01;
	buf[5] = 1;
	for (char **l = labels; *l; l++) {
		buf[off++] = (guint8)strlen(*l);
		memcpy(buf + off, *l, strlen(*l));
		off += strlen(*l);
	}
	buf[off++] = 0;
	buf[off++] = qtype >> 8;
	buf[off++] = qtype & 0xff;
	buf[off++] = 0;
	buf[off++] = 1;
	return off;
}

/* Check the reply frame's headers and checksums; returns its DNS payload. */
static const guint8 *
check_reply(const GByteArray *fr, int family, size_t *dlen)
{
	const guint8 *f = fr->data, *ip = f + 14, *udp;
	size_t iph = family == AF_INET6 ? 40 : 20, ulen;
	guint32 pseudo;

	assert_memory_equal(f, guest_mac, 6);
	assert_memory_equal(f + 6, slirp_mac, 6);
	if (family == AF_INET6) {
		guint8 a[16];

		assert_int_equal(f[12] << 8 | f[13], 0x86dd);
		assert_int_equal(ip[0] >> 4, 6);
		assert_int_equal(ip[6], IPPROTO_UDP);
		inet_pton(AF_INET6, VNET_RESOLVER6_TEXT, a);
		assert_memory_equal(ip + 8, a, 16);
		inet_pton(AF_INET6, VNET_GUEST6_TEXT, a);
		assert_memory_equal(ip + 24, a, 16);
		assert_int_equal(ip[4] << 8 | ip[5], fr->len - 14 - 40);
		pseudo = csum(0, ip + 8, 32) ;
	} else {
		assert_int_equal(f[12] << 8 | f[13], 0x0800);
		assert_int_equal(ip[0], 0x45);
		assert_int_equal(ip[9], IPPROTO_UDP);
		assert_int_equal(ip[2] << 8 | ip[3], fr->len - 14);
		/* header checksum: the sum over the header is all ones */
		assert_int_equal(csum(0, ip, 20), 0xffff);
		assert_int_equal(ip[12], 10);
		assert_int_equal(ip[15], 3);
		assert_int_equal(ip[19], 100);
		pseudo = csum(0, ip + 12, 8);
	}
	udp = ip + iph;
	ulen = (size_t)(udp[4] << 8 | udp[5]);
	assert_int_equal(ulen, fr->len - 14 - iph);
	assert_int_equal(udp[0] << 8 | udp[1], 53);
	assert_int_equal(udp[2] << 8 | udp[3], 40960);
	assert_true(udp[6] || udp[7]);   /* a checksum is always present */
	assert_int_equal(csum(pseudo + IPPROTO_UDP + (guint32)ulen, udp, ulen), 0xffff);
	*dlen = ulen - 8;
	return udp + 8;
}

static void
test_nxdomain_v4_and_v6(void **state)
{
	Fixture *f = fixture_new(TRUE);
	guint8 dns[512], frame[1024];
	size_t dlen = dns_query(dns, 0x1111, "evil.test", DNS_TYPE_A), n, rlen;
	const guint8 *reply;
	guint8 dummy;

	n = query_frame(frame, AF_INET, 53, dns, dlen);
	assert_true(handle_frame(f->r, frame, n));
	assert_int_equal(f->sent->len, 1);
	reply = check_reply(f->sent->pdata[0], AF_INET, &rlen);
	assert_int_equal(reply[0] << 8 | reply[1], 0x1111);
	assert_int_equal(reply[3] & 0xf, DNS_RCODE_NXDOMAIN);

	n = query_frame(frame, AF_INET6, 53, dns, dlen);
	assert_true(handle_frame(f->r, frame, n));
	assert_int_equal(f->sent->len, 2);
	reply = check_reply(f->sent->pdata[1], AF_INET6, &rlen);
	assert_int_equal(reply[3] & 0xf, DNS_RCODE_NXDOMAIN);
	/* and nothing went upstream */
	assert_int_equal(recv(f->upstream, &dummy, 1, MSG_DONTWAIT), -1);
	fixture_free(f);
}

static void
test_frames_taken_or_left(void **state)
{
	Fixture *f = fixture_new(TRUE);
	guint8 dns[512], frame[1024];
	size_t dlen = dns_query(dns, 1, "evil.test", DNS_TYPE_A), n;

	/* UDP to the resolver on another port: consumed, never answered */
	n = query_frame(frame, AF_INET, 5353, dns, dlen);
	assert_true(handle_frame(f->r, frame, n));
	/* an IPv4 fragment to port 53: consumed, dropped */
	n = query_frame(frame, AF_INET, 53, dns, dlen);
	frame[14 + 6] = 0x20;   /* MF */
	assert_true(handle_frame(f->r, frame, n));
	/* a UDP length beyond the packet */
	n = query_frame(frame, AF_INET, 53, dns, dlen);
	frame[14 + 20 + 4] = 0x7f;
	assert_true(handle_frame(f->r, frame, n));
	/* a response (QR set): consumed, no answer (no reflection loops) */
	n = query_frame(frame, AF_INET, 53, dns, dlen);
	frame[14 + 20 + 8 + 2] |= 0x80;
	assert_true(handle_frame(f->r, frame, n));
	assert_int_equal(f->sent->len, 0);
	/* TCP to the resolver: not ours (the ruleset refuses it) */
	n = query_frame(frame, AF_INET, 53, dns, dlen);
	frame[14 + 9] = IPPROTO_TCP;
	assert_false(handle_frame(f->r, frame, n));
	/* UDP 53 to another address: not ours */
	n = query_frame(frame, AF_INET, 53, dns, dlen);
	frame[14 + 19] = 4;
	assert_false(handle_frame(f->r, frame, n));
	/* ARP, runts */
	n = query_frame(frame, AF_INET, 53, dns, dlen);
	frame[12] = 0x08;
	frame[13] = 0x06;
	assert_false(handle_frame(f->r, frame, n));
	assert_false(handle_frame(f->r, frame, 10));
	assert_int_equal(f->sent->len, 0);
	fixture_free(f);
}

static void
test_literal_only_other_types(void **state)
{
	Fixture *f = fixture_new(TRUE);
	guint8 dns[512], frame[1024];
	size_t dlen, n, rlen;
	const guint8 *reply;

	/* a wildcard-matching name, type MX: empty NOERROR, no upstream query */
	dlen = dns_query(dns, 2, "a.wild.test", DNS_TYPE_MX);
	n = query_frame(frame, AF_INET, 53, dns, dlen);
	assert_true(handle_frame(f->r, frame, n));
	reply = check_reply(f->sent->pdata[0], AF_INET, &rlen);
	assert_int_equal(reply[3] & 0xf, DNS_RCODE_NOERROR);
	assert_int_equal(reply[7], 0);
	/* "wild.test" itself is not below "*.wild.test"; "wild.test.evil" neither */
	dlen = dns_query(dns, 3, "wild.test.evil", DNS_TYPE_A);
	n = query_frame(frame, AF_INET, 53, dns, dlen);
	assert_true(handle_frame(f->r, frame, n));
	reply = check_reply(f->sent->pdata[1], AF_INET, &rlen);
	assert_int_equal(reply[3] & 0xf, DNS_RCODE_NXDOMAIN);
	fixture_free(f);
}

/* Receive the responder's upstream query, answer it with REPLY_RRS built
 * by the callback, and run the loop until the guest got its frame. */
static const guint8 *
upstream_round_trip(Fixture *f, guint8 rcode, const guint8 *rr, size_t rrlen, guint16 ancount,
		    size_t *rlen)
{
	guint8 q[512], a[1024];
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	ssize_t n = recvfrom(f->upstream, q, sizeof(q), 0, (struct sockaddr *)&peer, &plen);
	guint before = f->sent->len;
	gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;

	assert_true(n > 12);
	memcpy(a, q, (size_t)n);
	a[2] = 0x81;
	a[3] = 0x80 | rcode;
	a[7] = (guint8)ancount;
	if (rrlen)
		memcpy(a + n, rr, rrlen);
	assert_int_equal(sendto(f->upstream, a, (size_t)n + rrlen, 0, (struct sockaddr *)&peer,
				plen), (ssize_t)((size_t)n + rrlen));
	while (f->sent->len == before && g_get_monotonic_time() < deadline)
		g_main_context_iteration(f->ctx, FALSE);
	assert_int_equal(f->sent->len, before + 1);
	return check_reply(f->sent->pdata[before], AF_INET, rlen);
}

static void
test_wildcard_upstream(void **state)
{
	Fixture *f = fixture_new(TRUE);
	guint8 dns[512], frame[1024];
	static const guint8 loopback_rr[] = { 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1 };
	static const guint8 doc_rr[] = { 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 50 };
	size_t dlen, n, rlen;
	const guint8 *reply;

	/* an answer in a refused range is dropped: empty NOERROR */
	dlen = dns_query(dns, 0x2222, "lo.wild.test", DNS_TYPE_A);
	n = query_frame(frame, AF_INET, 53, dns, dlen);
	assert_true(handle_frame(f->r, frame, n));
	reply = upstream_round_trip(f, 0, loopback_rr, sizeof(loopback_rr), 1, &rlen);
	assert_int_equal(reply[0] << 8 | reply[1], 0x2222);
	assert_int_equal(reply[3] & 0xf, DNS_RCODE_NOERROR);
	assert_int_equal(reply[7], 0);

	/* upstream NXDOMAIN is passed on */
	dlen = dns_query(dns, 0x3333, "gone.wild.test", DNS_TYPE_A);
	n = query_frame(frame, AF_INET, 53, dns, dlen);
	assert_true(handle_frame(f->r, frame, n));
	reply = upstream_round_trip(f, DNS_RCODE_NXDOMAIN, NULL, 0, 0, &rlen);
	assert_int_equal(reply[3] & 0xf, DNS_RCODE_NXDOMAIN);

	/* a usable address that cannot be added to the ruleset (no nft
	 * socket here) must not be handed out: SERVFAIL */
	dlen = dns_query(dns, 0x4444, "ok.wild.test", DNS_TYPE_A);
	n = query_frame(frame, AF_INET, 53, dns, dlen);
	assert_true(handle_frame(f->r, frame, n));
	reply = upstream_round_trip(f, 0, doc_rr, sizeof(doc_rr), 1, &rlen);
	assert_int_equal(reply[3] & 0xf, DNS_RCODE_SERVFAIL);
	assert_int_equal(reply[7], 0);
	fixture_free(f);
}

static void
test_unrestricted_relay(void **state)
{
	Fixture *f = fixture_new(FALSE);
	guint8 dns[512], frame[1024];
	static const guint8 mx_rr[] = { 0xc0, 12, 0, 15, 0, 1, 0, 0, 0, 60, 0, 4, 0, 10, 0xc0, 12 };
	size_t dlen = dns_query(dns, 0x5555, "any.test", DNS_TYPE_MX), n, rlen;
	const guint8 *reply;

	n = query_frame(frame, AF_INET, 53, dns, dlen);
	assert_true(handle_frame(f->r, frame, n));
	reply = upstream_round_trip(f, 0, mx_rr, sizeof(mx_rr), 1, &rlen);
	/* the client's id restored, the answer passed through as is */
	assert_int_equal(reply[0] << 8 | reply[1], 0x5555);
	assert_int_equal(reply[7], 1);
	assert_int_equal(rlen, dlen + sizeof(mx_rr));
	assert_memory_equal(reply + dlen, mx_rr, sizeof(mx_rr));
	fixture_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nxdomain_v4_and_v6),
		cmocka_unit_test(test_frames_taken_or_left),
		cmocka_unit_test(test_literal_only_other_types),
		cmocka_unit_test(test_wildcard_upstream),
		cmocka_unit_test(test_unrestricted_relay),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
