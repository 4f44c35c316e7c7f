/* SPDX-License-Identifier: MIT
 *
 * test-tcp-seg.c — the TCP relay's segment reader and writer
 * (net/relay/tcp-seg.c): what it reads from a guest's SYN and data segments,
 * what it refuses, and that the segments it builds carry correct headers
 * and checksums (checked by summing the built frame, as a receiver does).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "net/relay/tcp-seg.h"
#include "net/vnet.h"

static const uint8_t guest_mac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
static const uint8_t gw_mac[6] = { 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02 };

static TcpSegAddrs
addrs4(void)
{
	TcpSegAddrs a = { .family = AF_INET, .guest_port = 40000, .peer_port = 443 };
	static const uint8_t g[4] = VNET_GUEST4_BYTES, p[4] = { 192, 0, 2, 10 };

	memcpy(a.guest_mac, guest_mac, 6);
	memcpy(a.gw_mac, gw_mac, 6);
	memcpy(a.guest_addr, g, 4);
	memcpy(a.peer_addr, p, 4);
	return a;
}

static TcpSegAddrs
addrs6(void)
{
	TcpSegAddrs a = addrs4();
	static const uint8_t g[16] = VNET_GUEST6_BYTES;
	static const uint8_t p[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };

	a.family = AF_INET6;
	memcpy(a.guest_addr, g, 16);
	memcpy(a.peer_addr, p, 16);
	return a;
}

/* Build a frame: headers from tcp_seg_build, then the payload. */
static size_t
build(uint8_t *f, const TcpSegAddrs *a, const TcpSegOut *o, const uint8_t *pl, size_t n)
{
	size_t hl = tcp_seg_build(f, a, o, pl, n);

	assert_true(hl > 0);
	if (n)
		memcpy(f + hl, pl, n);
	return hl + n;
}

/* The transport checksum of a parsed frame sums to zero, as a receiver
 * verifies it. */
static void
assert_tcp_csum_ok(const uint8_t *f, size_t len)
{
	FrameInfo fi;
	size_t l4len;
	guint32 sum;

	assert_true(frame_parse(f, len, &fi));
	l4len = fi.ip_len - fi.l3_hlen;
	sum = frame_csum_pseudo(fi.family, fi.saddr, fi.daddr, IPPROTO_TCP, l4len);
	sum = frame_csum_add(sum, fi.l4, l4len);
	assert_int_equal(frame_csum_fold(sum), 0);
	if (fi.family == AF_INET)
		assert_int_equal(frame_csum_fold(frame_csum_add(0, fi.l3, fi.l3_hlen)), 0);
}

static gboolean
parse(const uint8_t *f, size_t len, TcpSeg *s)
{
	FrameInfo fi;

	if (!frame_parse(f, len, &fi))
		return FALSE;
	return tcp_seg_parse(f, len, &fi, s);
}

/* A SYN|ACK with MSS and window scale, in both families: read back, every
 * field as written, checksums right. */
static void
test_synack_round_trip(void **state)
{
	TcpSegAddrs fams[2] = { addrs4(), addrs6() };

	for (int i = 0; i < 2; i++) {
		uint8_t f[256];
		TcpSegOut o = { .seq = 0xfffffff0u, .ack = 1234, .window = 65535,
				.flags = TCP_SEG_SYN | TCP_SEG_ACK, .mss = 1460, .wscale = 5,
				.ip_id = 7 };
		size_t len = build(f, &fams[i], &o, NULL, 0);
		TcpSeg s;

		assert_int_equal(len, 14 + (i ? 40 : 20) + 28);
		assert_true(parse(f, len, &s));
		assert_int_equal(s.family, fams[i].family);
		assert_memory_equal(s.eth_dst, guest_mac, 6);
		assert_memory_equal(s.eth_src, gw_mac, 6);
		assert_memory_equal(s.saddr, fams[i].peer_addr, i ? 16 : 4);
		assert_memory_equal(s.daddr, fams[i].guest_addr, i ? 16 : 4);
		assert_int_equal(s.sport, 443);
		assert_int_equal(s.dport, 40000);
		assert_int_equal(s.seq, 0xfffffff0u);
		assert_int_equal(s.ack, 1234);
		assert_int_equal(s.flags, TCP_SEG_SYN | TCP_SEG_ACK);
		assert_int_equal(s.window, 65535);
		assert_int_equal(s.mss, 1460);
		assert_true(s.has_wscale);
		assert_int_equal(s.wscale, 5);
		assert_int_equal(s.payload_len, 0);
		assert_tcp_csum_ok(f, len);
	}
}

/* A data segment: payload where the header says, odd length, checksum
 * over header and payload. */
static void
test_data_round_trip(void **state)
{
	TcpSegAddrs fams[2] = { addrs4(), addrs6() };
	uint8_t payload[1001];

	for (size_t k = 0; k < sizeof payload; k++)
		payload[k] = (uint8_t)(k * 7 + 3);
	for (int i = 0; i < 2; i++) {
		uint8_t f[2048];
		TcpSegOut o = { .seq = 99, .ack = 77, .window = 512, .wscale = -1,
				.flags = TCP_SEG_ACK | TCP_SEG_PSH };
		size_t len = build(f, &fams[i], &o, payload, sizeof payload);
		TcpSeg s;

		assert_true(parse(f, len, &s));
		assert_int_equal(s.flags, TCP_SEG_ACK | TCP_SEG_PSH);
		assert_int_equal(s.mss, 0);
		assert_false(s.has_wscale);
		assert_int_equal(s.payload_len, sizeof payload);
		assert_memory_equal(s.payload, payload, sizeof payload);
		assert_tcp_csum_ok(f, len);
	}
}

/* csum_partial (a GSO frame the guest's kernel finishes): the field holds
 * the pseudo-header sum, uncomplemented, and the payload is not read. */
static void
test_partial_checksum(void **state)
{
	TcpSegAddrs a = addrs4();
	uint8_t f[128];
	TcpSegOut o = { .seq = 1, .ack = 2, .flags = TCP_SEG_ACK, .wscale = -1,
			.csum_partial = TRUE };
	size_t hl = tcp_seg_build(f, &a, &o, NULL, 60000);
	guint32 pseudo = frame_csum_pseudo(AF_INET, a.peer_addr, a.guest_addr, IPPROTO_TCP,
					   20 + 60000);
	uint16_t field = (uint16_t)(f[14 + 20 + 16] << 8 | f[14 + 20 + 17]);

	assert_int_equal(hl, 14 + 20 + 20);
	assert_int_equal(field, (uint16_t)~frame_csum_fold(pseudo));
	/* IP total length covers the whole super-segment */
	assert_int_equal(f[14 + 2] << 8 | f[14 + 3], 20 + 20 + 60000);
}

/* More than one IP packet holds: refused. */
static void
test_build_too_big(void **state)
{
	TcpSegAddrs a4 = addrs4(), a6 = addrs6();
	uint8_t f[128];
	TcpSegOut o = { .flags = TCP_SEG_ACK, .wscale = -1, .csum_partial = TRUE };

	assert_int_not_equal(tcp_seg_build(f, &a4, &o, NULL, TCP_SEG_PAYLOAD_MAX4), 0);
	assert_int_equal(tcp_seg_build(f, &a4, &o, NULL, TCP_SEG_PAYLOAD_MAX4 + 1), 0);
	assert_int_not_equal(tcp_seg_build(f, &a6, &o, NULL, TCP_SEG_PAYLOAD_MAX6), 0);
	assert_int_equal(tcp_seg_build(f, &a6, &o, NULL, TCP_SEG_PAYLOAD_MAX6 + 1), 0);
}

/* A guest SYN's options: NOPs skipped, unknown ones stepped over, a window
 * scale above 14 capped, EOL ends the list. */
static void
test_syn_options(void **state)
{
	TcpSegAddrs a = addrs4();
	uint8_t f[256];
	TcpSegOut o = { .flags = TCP_SEG_SYN, .wscale = -1 };
	size_t hl = tcp_seg_build(f, &a, &o, NULL, 0);
	uint8_t *th = f + 14 + 20;
	static const uint8_t opts[] = { 1, 4, 2, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0, /* SACK-ok, TS */
					1, 3, 3, 15, 2, 4, 0x05, 0xb4, 0, 0, 0 };
	TcpSeg s;
	size_t len;

	/* rebuild the TCP header with our own options (data offset 11) */
	memcpy(th + 20, opts, 24);
	th[12] = 11 << 4;
	len = hl + 24;
	f[14 + 2] = (uint8_t)((len - 14) >> 8);
	f[14 + 3] = (uint8_t)(len - 14);
	assert_true(parse(f, len, &s));
	assert_int_equal(s.mss, 1460);
	assert_true(s.has_wscale);
	assert_int_equal(s.wscale, 14);
	assert_int_equal(s.payload_len, 0);

	/* an option whose length runs past the header */
	memcpy(th + 20, (const uint8_t[]){ 1, 1, 2, 40 }, 4);
	assert_false(parse(f, len, &s));
	/* a zero option length would loop forever */
	memcpy(th + 20, (const uint8_t[]){ 2, 0, 0, 0 }, 4);
	assert_false(parse(f, len, &s));
}

/* What is not one whole TCP segment is refused. */
static void
test_parse_refuses(void **state)
{
	TcpSegAddrs a = addrs4();
	uint8_t f[256], g[256];
	TcpSegOut o = { .flags = TCP_SEG_ACK, .wscale = -1 };
	static const uint8_t pl[10] = { 0 };
	size_t len = build(f, &a, &o, pl, sizeof pl);
	TcpSeg s;

	assert_true(parse(f, len, &s));
	/* data offset below 5 words, and past the packet */
	memcpy(g, f, len);
	g[14 + 20 + 12] = 4 << 4;
	assert_false(parse(g, len, &s));
	memcpy(g, f, len);
	g[14 + 20 + 12] = 15 << 4;
	assert_false(parse(g, len, &s));
	/* IP length past the frame: cut short */
	assert_false(parse(f, len - 1, &s));
	/* a fragment */
	memcpy(g, f, len);
	g[14 + 6] = 0x20;             /* MF */
	assert_false(parse(g, len, &s));
	/* not TCP */
	memcpy(g, f, len);
	g[14 + 9] = 17;
	assert_false(parse(g, len, &s));
	/* Ethernet padding after the IP packet is not payload */
	memcpy(g, f, len);
	memset(g + len, 0xee, 6);
	assert_true(parse(g, len + 6, &s));
	assert_int_equal(s.payload_len, sizeof pl);
}

/* Where a SYN to DADDR (FAMILY) goes: the host address, "slirp" or
 * "refuse". */
static const char *
mapped(int family, const char *daddr, char *buf, size_t size)
{
	uint8_t addr[16];
	TcpSeg s = { .family = family, .daddr = addr, .dport = 8080 };
	struct sockaddr_storage sa;
	socklen_t salen = 0;

	assert_int_equal(inet_pton(family, daddr, addr), 1);
	switch (tcp_seg_map_peer(&s, &sa, &salen)) {
	case TCP_SEG_PEER_SLIRP:
		return "slirp";
	case TCP_SEG_PEER_REFUSE:
		return "refuse";
	case TCP_SEG_PEER_RELAY:
	default:
		break;
	}
	if (family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)&sa;

		assert_int_equal(salen, sizeof *in);
		assert_int_equal(ntohs(in->sin_port), 8080);
		return inet_ntop(AF_INET, &in->sin_addr, buf, (socklen_t)size);
	}
	assert_int_equal(salen, sizeof(struct sockaddr_in6));
	assert_int_equal(ntohs(((const struct sockaddr_in6 *)&sa)->sin6_port), 8080);
	return inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&sa)->sin6_addr, buf,
			 (socklen_t)size);
}

/* The gateway maps onto the host's loopback, the world is itself, and
 * nothing a guest names reaches the host's loopback any other way. */
static void
test_map_peer(void **state)
{
	static const struct {
		int family;
		const char *daddr, *want;
	} cases[] = {
		{ AF_INET, VNET_GATEWAY4_TEXT, "127.0.0.1" },
		{ AF_INET, "192.0.2.10", "192.0.2.10" },
		{ AF_INET, VNET_RESOLVER4_TEXT, "slirp" },
		{ AF_INET, "10.0.2.77", "slirp" },
		{ AF_INET, "127.0.0.1", "refuse" },
		{ AF_INET, "0.0.0.0", "refuse" },
		{ AF_INET, "224.0.0.1", "refuse" },
		{ AF_INET, "255.255.255.255", "refuse" },
		/* other private and link-local ranges: the allowlist's call */
		{ AF_INET, "10.1.2.3", "10.1.2.3" },
		{ AF_INET, "169.254.169.254", "169.254.169.254" },
		{ AF_INET6, VNET_GATEWAY6_TEXT, "::1" },
		{ AF_INET6, "fd00::1234", "::1" },
		{ AF_INET6, VNET_RESOLVER6_TEXT, "slirp" },
		{ AF_INET6, "fe80::1", "slirp" },
		{ AF_INET6, "2001:db8::1", "2001:db8::1" },
		{ AF_INET6, "::1", "refuse" },
		{ AF_INET6, "::", "refuse" },
		/* would be IPv4 loopback on the host, past the host-port gate */
		{ AF_INET6, "::ffff:127.0.0.1", "refuse" },
		{ AF_INET6, "::127.0.0.1", "refuse" },
		{ AF_INET6, "ff02::1", "refuse" },
	};
	char buf[INET6_ADDRSTRLEN];

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++)
		assert_string_equal(mapped(cases[i].family, cases[i].daddr, buf, sizeof buf),
				    cases[i].want);
}

/* Sequence numbers compare modulo 2^32. */
static void
test_seq_compare(void **state)
{
	assert_true(TCP_SEQ_LT(0xfffffff0u, 5));
	assert_true(TCP_SEQ_GT(5, 0xfffffff0u));
	assert_true(TCP_SEQ_LE(7, 7));
	assert_true(TCP_SEQ_GE(7, 7));
	assert_false(TCP_SEQ_LT(7, 7));
	assert_true(TCP_SEQ_LT(1, 0x7fffffffu));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_synack_round_trip),
		cmocka_unit_test(test_data_round_trip),
		cmocka_unit_test(test_partial_checksum),
		cmocka_unit_test(test_build_too_big),
		cmocka_unit_test(test_syn_options),
		cmocka_unit_test(test_parse_refuses),
		cmocka_unit_test(test_seq_compare),
		cmocka_unit_test(test_map_peer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
