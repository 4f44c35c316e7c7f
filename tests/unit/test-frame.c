/* SPDX-License-Identifier: MIT
 *
 * test-frame.c — the shared frame parser and Internet checksum
 * (net/frame.c), with hand-built Ethernet frames: IPv4 with and without
 * options, fragments, IPv6 with extension headers, non-IP frames, and every
 * truncation of a valid frame.  Frames are parsed from heap copies of
 * exactly their length, so an over-read shows under ASan.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <sys/socket.h>

#include "net/frame.h"
#include "net/vnet.h"

static const uint8_t guest4[4] = VNET_GUEST4_BYTES;
static const uint8_t world4[4] = { 192, 0, 2, 10 };
static const uint8_t guest6[16] = VNET_GUEST6_BYTES;
static const uint8_t world6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };

static void
put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
eth(uint8_t *f, unsigned type)
{
	memset(f, 0x11, 6);
	memset(f + 6, 0x22, 6);
	put16(f + 12, type);
}

/* IPv4 frame, IHL words of header (options zero), PROTO, FRAG field, a
 * 20-byte transport header with ports 40000 → DPORT and PAYLOAD bytes
 * after it.  Returns its length. */
static size_t
frame4(uint8_t *f, unsigned ihl, uint8_t proto, unsigned frag, unsigned dport, size_t payload)
{
	uint8_t *ip = f + FRAME_ETH_HLEN, *l4 = ip + ihl * 4;
	size_t iplen = ihl * 4 + 20 + payload;

	memset(f, 0, FRAME_ETH_HLEN + iplen);
	eth(f, FRAME_ETHERTYPE_IPV4);
	ip[0] = (uint8_t)(0x40 | ihl);
	put16(ip + 2, (unsigned)iplen);
	put16(ip + 6, frag);
	ip[8] = 64;
	ip[9] = proto;
	memcpy(ip + 12, guest4, 4);
	memcpy(ip + 16, world4, 4);
	put16(l4, 40000);
	put16(l4 + 2, dport);
	return FRAME_ETH_HLEN + iplen;
}

static size_t
frame6(uint8_t *f, uint8_t nh, unsigned dport, size_t payload)
{
	uint8_t *ip = f + FRAME_ETH_HLEN, *l4 = ip + FRAME_IPV6_HLEN;

	memset(f, 0, FRAME_ETH_HLEN + FRAME_IPV6_HLEN + 8 + payload);
	eth(f, FRAME_ETHERTYPE_IPV6);
	ip[0] = 0x60;
	put16(ip + 4, (unsigned)(8 + payload));
	ip[6] = nh;
	ip[7] = 64;
	memcpy(ip + 8, guest6, 16);
	memcpy(ip + 24, world6, 16);
	put16(l4, 40000);
	put16(l4 + 2, dport);
	put16(l4 + 4, (unsigned)(8 + payload));
	return FRAME_ETH_HLEN + FRAME_IPV6_HLEN + 8 + payload;
}

/* frame_parse on an exact-size heap copy of the first LEN bytes of F. */
static gboolean
parse_copy(const uint8_t *f, size_t len, FrameInfo *fi, uint8_t **copy)
{
	*copy = g_malloc(len ? len : 1);
	memcpy(*copy, f, len);
	return frame_parse(*copy, len, fi);
}

static void
test_ipv4_tcp(void **state)
{
	uint8_t f[128];
	size_t n = frame4(f, 5, IPPROTO_TCP, 0x4000 /* DF */, 443, 4);
	FrameInfo fi;

	assert_true(frame_parse(f, n, &fi));
	assert_int_equal(fi.ethertype, FRAME_ETHERTYPE_IPV4);
	assert_int_equal(fi.family, AF_INET);
	assert_ptr_equal(fi.l3, f + 14);
	assert_int_equal(fi.l3_caplen, n - 14);
	assert_int_equal(fi.l3_hlen, 20);
	assert_int_equal(fi.ip_len, 44);
	assert_int_equal(fi.addr_len, 4);
	assert_memory_equal(fi.saddr, guest4, 4);
	assert_memory_equal(fi.daddr, world4, 4);
	assert_int_equal(fi.l4proto, IPPROTO_TCP);
	assert_false(fi.fragment);     /* DF alone is no fragment */
	assert_false(fi.ext_hdr);
	assert_ptr_equal(fi.l4, f + 34);
	assert_int_equal(fi.l4_caplen, 24);
	assert_true(fi.has_ports);
	assert_int_equal(fi.sport, 40000);
	assert_int_equal(fi.dport, 443);
}

/* Options move the transport header; Ethernet padding is not IP data. */
static void
test_ipv4_options_and_padding(void **state)
{
	uint8_t f[128];
	size_t n = frame4(f, 7, IPPROTO_UDP, 0, 53, 0);
	FrameInfo fi;

	memset(f + n, 0, 10);   /* padding after the datagram */
	assert_true(frame_parse(f, n + 10, &fi));
	assert_int_equal(fi.l3_hlen, 28);
	assert_ptr_equal(fi.l4, f + 14 + 28);
	assert_int_equal(fi.ip_len, 48);
	assert_int_equal(fi.l3_caplen, 58);
	assert_true(fi.has_ports);
	assert_int_equal(fi.dport, 53);
}

/* A header length that cannot be right keeps the addresses, hides the
 * transport. */
static void
test_ipv4_bad_ihl(void **state)
{
	uint8_t f[128];
	size_t n = frame4(f, 5, IPPROTO_TCP, 0, 22, 0);
	FrameInfo fi;

	f[14] = 0x44;       /* 16 bytes: below the minimum */
	assert_true(frame_parse(f, n, &fi));
	assert_int_equal(fi.l3_hlen, 0);
	assert_null(fi.l4);
	assert_false(fi.has_ports);
	assert_memory_equal(fi.daddr, world4, 4);
	f[14] = 0x4f;       /* 60 bytes: past the end of this frame */
	assert_true(frame_parse(f, n, &fi));
	assert_int_equal(fi.l3_hlen, 0);
	assert_null(fi.l4);
	assert_int_equal(fi.l4proto, IPPROTO_TCP);
}

static void
test_ipv4_fragments(void **state)
{
	uint8_t f[128];
	size_t n;
	FrameInfo fi;

	/* first fragment (MF, offset 0): the ports are there */
	n = frame4(f, 5, IPPROTO_UDP, 0x2000, 53, 0);
	assert_true(frame_parse(f, n, &fi));
	assert_true(fi.fragment);
	assert_non_null(fi.l4);
	assert_true(fi.has_ports);
	assert_int_equal(fi.dport, 53);
	/* a later one: its first bytes are payload, not ports */
	n = frame4(f, 5, IPPROTO_UDP, 0x0010, 53, 0);
	assert_true(frame_parse(f, n, &fi));
	assert_true(fi.fragment);
	assert_null(fi.l4);
	assert_false(fi.has_ports);
	assert_int_equal(fi.dport, 0);
	assert_int_equal(fi.l3_hlen, 20);
	/* the last one: offset without MF */
	n = frame4(f, 5, IPPROTO_UDP, 0x1fff, 53, 0);
	assert_true(frame_parse(f, n, &fi));
	assert_true(fi.fragment);
	assert_null(fi.l4);
}

static void
test_ipv6_udp(void **state)
{
	uint8_t f[128];
	size_t n = frame6(f, IPPROTO_UDP, 53, 12);
	FrameInfo fi;

	assert_true(frame_parse(f, n, &fi));
	assert_int_equal(fi.family, AF_INET6);
	assert_int_equal(fi.l3_hlen, 40);
	assert_int_equal(fi.ip_len, 40 + 8 + 12);
	assert_int_equal(fi.addr_len, 16);
	assert_memory_equal(fi.saddr, guest6, 16);
	assert_memory_equal(fi.daddr, world6, 16);
	assert_int_equal(fi.l4proto, IPPROTO_UDP);
	assert_false(fi.fragment);
	assert_false(fi.ext_hdr);
	assert_ptr_equal(fi.l4, f + 54);
	assert_int_equal(fi.l4_caplen, 20);
	assert_true(fi.has_ports);
	assert_int_equal(fi.sport, 40000);
	assert_int_equal(fi.dport, 53);
}

/* Extension headers are reported, not walked: the next header is what the
 * fixed header says, and there are no ports. */
static void
test_ipv6_extension_headers(void **state)
{
	static const uint8_t ext[] = { 0, 43, 44, 60 };
	uint8_t f[128];
	size_t n;
	FrameInfo fi;

	for (size_t i = 0; i < G_N_ELEMENTS(ext); i++) {
		n = frame6(f, ext[i], 53, 0);
		assert_true(frame_parse(f, n, &fi));
		assert_true(fi.ext_hdr);
		assert_int_equal(fi.fragment, ext[i] == 44);
		assert_int_equal(fi.l4proto, ext[i]);
		assert_false(fi.has_ports);
	}
	n = frame6(f, IPPROTO_ICMPV6, 0, 0);
	assert_true(frame_parse(f, n, &fi));
	assert_false(fi.ext_hdr);
	assert_false(fi.has_ports);
	assert_non_null(fi.l4);
}

static void
test_not_ip(void **state)
{
	uint8_t f[64];
	FrameInfo fi;

	memset(f, 0, sizeof f);
	eth(f, FRAME_ETHERTYPE_ARP);
	assert_true(frame_parse(f, 42, &fi));
	assert_int_equal(fi.ethertype, FRAME_ETHERTYPE_ARP);
	assert_int_equal(fi.family, AF_UNSPEC);
	assert_null(fi.daddr);
	assert_null(fi.l4);
	/* IP ethertype, other version inside */
	frame4(f, 5, IPPROTO_TCP, 0, 22, 0);
	f[14] = 0x65;
	assert_false(frame_parse(f, 54, &fi));
	frame6(f, IPPROTO_UDP, 53, 0);
	f[14] = 0x40;
	assert_false(frame_parse(f, 62, &fi));
}

/* Every prefix of a valid frame: FALSE until the fixed IP header is
 * complete, then ports only once their 4 bytes are in. */
static void
test_truncated(void **state)
{
	uint8_t f[128];
	size_t n4 = frame4(f, 5, IPPROTO_TCP, 0, 22, 0);

	for (size_t len = 0; len <= n4; len++) {
		g_autofree uint8_t *copy = NULL;
		FrameInfo fi;
		gboolean ok = parse_copy(f, len, &fi, &copy);

		assert_int_equal(ok, len >= 14 + 20);
		if (len < 14)
			assert_int_equal(fi.ethertype, 0);
		if (!ok)
			continue;
		assert_int_equal(fi.l3_hlen, 20);
		assert_int_equal(fi.l4_caplen, len - 34);
		assert_int_equal(fi.has_ports, len >= 34 + 4);
		if (fi.has_ports)
			assert_int_equal(fi.dport, 22);
	}

	size_t n6 = frame6(f, IPPROTO_UDP, 53, 0);

	for (size_t len = 0; len <= n6; len++) {
		g_autofree uint8_t *copy = NULL;
		FrameInfo fi;
		gboolean ok = parse_copy(f, len, &fi, &copy);

		assert_int_equal(ok, len >= 14 + 40);
		if (!ok)
			continue;
		assert_int_equal(fi.ip_len, 48);   /* the claim, not the capture */
		assert_int_equal(fi.has_ports, len >= 54 + 4);
	}

	/* IPv4 with options cut inside the options */
	size_t n = frame4(f, 8, IPPROTO_TCP, 0, 22, 0);
	g_autofree uint8_t *copy = NULL;
	FrameInfo fi;

	assert_true(n > 14 + 30);
	assert_true(parse_copy(f, 14 + 30, &fi, &copy));
	assert_int_equal(fi.l3_hlen, 0);
	assert_null(fi.l4);
}

/* RFC 1071 §3 worked example, odd lengths and folding. */
static void
test_csum(void **state)
{
	static const uint8_t rfc[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	/* an IPv4 header with its checksum field zero; the right value is
	 * 0xb861 */
	static const uint8_t hdr[] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
				       0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };
	uint8_t h[sizeof hdr];
	uint8_t odd[] = { 0xab };

	/* The running sum is only defined up to folding. */
	assert_int_equal(frame_csum_fold(frame_csum_add(0, rfc, sizeof rfc)), (uint16_t)~0xddf2);
	assert_int_equal(frame_csum_fold(0x2ddf0), (uint16_t)~0xddf2);
	assert_int_equal(frame_csum_fold(frame_csum_add(0, hdr, sizeof hdr)), 0xb861);
	/* with the checksum in place, the header sums to all ones */
	memcpy(h, hdr, sizeof h);
	put16(h + 10, 0xb861);
	assert_int_equal(frame_csum_fold(frame_csum_add(0, h, sizeof h)), 0);
	/* an odd last byte counts as the high half of a word */
	assert_int_equal(frame_csum_add(1, odd, 1), 0xab01);
	assert_int_equal(frame_csum_fold(0), 0xffff);
	assert_int_equal(frame_csum_fold(0xffff), 0);
}

/* The word-at-a-time sum equals RFC 1071's two-bytes-at-a-time loop for
 * every length and alignment, also when pieces are chained. */
static guint32
csum_reference(guint32 sum, const uint8_t *p, size_t len)
{
	for (; len > 1; p += 2, len -= 2)
		sum += (guint32)(p[0] << 8 | p[1]);
	if (len)
		sum += (guint32)p[0] << 8;
	return sum;
}

static void
test_csum_wide(void **state)
{
	static uint8_t buf[70000];
	guint32 seed = 12345;

	for (size_t i = 0; i < sizeof buf; i++) {
		seed = seed * 1103515245u + 12345u;
		buf[i] = (uint8_t)(seed >> 16);
	}
	/* all ones: the carries of a 64 KiB piece must not be lost */
	memset(buf + 1000, 0xff, 65536);
	for (size_t off = 0; off < 8; off++)
		for (size_t len = 0; len < 80; len++)
			assert_int_equal(frame_csum_fold(frame_csum_add(7, buf + off, len)),
					 frame_csum_fold(csum_reference(7, buf + off, len)));
	for (size_t len = 65000; len < 65540; len += 13)
		assert_int_equal(frame_csum_fold(frame_csum_add(0, buf + 999, len)),
				 frame_csum_fold(csum_reference(0, buf + 999, len)));
	/* two even pieces chained == one piece */
	assert_int_equal(frame_csum_fold(frame_csum_add(frame_csum_add(0, buf, 30000), buf + 30000,
							 35535)),
			 frame_csum_fold(csum_reference(0, buf, 65535)));
}

/* The pseudo-header sums equal the sum over the pseudo-header spelt out
 * byte by byte (RFC 793 for IPv4, RFC 8200 §8.1 for IPv6). */
static void
test_csum_pseudo(void **state)
{
	uint8_t p4[12], p6[40];
	const uint8_t seg[] = { 0x9c, 0x40, 0x00, 0x35, 0x00, 0x0b, 0x00, 0x00, 1, 2, 3 };
	guint32 sum;

	memcpy(p4, guest4, 4);
	memcpy(p4 + 4, world4, 4);
	p4[8] = 0;
	p4[9] = IPPROTO_UDP;
	put16(p4 + 10, sizeof seg);
	sum = frame_csum_pseudo(AF_INET, guest4, world4, IPPROTO_UDP, sizeof seg);
	assert_int_equal(frame_csum_fold(frame_csum_add(sum, seg, sizeof seg)),
			 frame_csum_fold(frame_csum_add(frame_csum_add(0, p4, 12), seg, sizeof seg)));

	memcpy(p6, world6, 16);
	memcpy(p6 + 16, guest6, 16);
	memset(p6 + 32, 0, 8);
	p6[35] = sizeof seg;
	p6[39] = IPPROTO_TCP;
	sum = frame_csum_pseudo(AF_INET6, world6, guest6, IPPROTO_TCP, sizeof seg);
	assert_int_equal(frame_csum_fold(frame_csum_add(sum, seg, sizeof seg)),
			 frame_csum_fold(frame_csum_add(frame_csum_add(0, p6, 40), seg, sizeof seg)));

	/* an IPv6 length above 16 bits (a 32-bit field there) */
	memset(p6 + 32, 0, 8);
	p6[33] = 0x01;              /* 0x00011170 = 70000 */
	p6[34] = 0x11;
	p6[35] = 0x70;
	p6[39] = IPPROTO_UDP;
	assert_int_equal(frame_csum_fold(frame_csum_pseudo(AF_INET6, world6, guest6, IPPROTO_UDP,
							   70000)),
			 frame_csum_fold(frame_csum_add(0, p6, 40)));
}

/* The guest's announcements (libslirp learns its MAC from them): parsed
 * back, with the fields libslirp checks — a gratuitous ARP (sender IP =
 * target IP), an NA with hop limit 255, code 0, S clear, a valid checksum
 * and the MAC in its target link-layer option. */
static void
test_announce(void **state)
{
	static const uint8_t mac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
	static const uint8_t ip4[4] = { 10, 0, 2, 100 };
	static const uint8_t ip6[16] = { 0xfd, [14] = 1 };
	uint8_t f[FRAME_ANNOUNCE_MAX];
	FrameInfo fi;
	size_t n;

	n = frame_build_arp_announce(mac, ip4, f);
	assert_int_equal(n, 42);
	assert_true(frame_parse(f, n, &fi));
	assert_int_equal(fi.ethertype, FRAME_ETHERTYPE_ARP);
	assert_memory_equal(f + 6, mac, 6);
	assert_int_equal(frame_rd16(f + 14 + 6), 1);              /* request */
	assert_memory_equal(f + 14 + 8, mac, 6);
	assert_memory_equal(f + 14 + 14, ip4, 4);
	assert_memory_equal(f + 14 + 24, ip4, 4);

	n = frame_build_na_announce(mac, ip6, f);
	assert_true(n <= FRAME_ANNOUNCE_MAX);
	assert_true(frame_parse(f, n, &fi));
	assert_int_equal(fi.family, AF_INET6);
	assert_int_equal(fi.l4proto, IPPROTO_ICMPV6);
	assert_int_equal(fi.ip_len, n - FRAME_ETH_HLEN);
	assert_memory_equal(fi.saddr, ip6, 16);
	assert_int_equal(fi.daddr[0], 0xff);                      /* multicast */
	assert_int_equal(fi.l3[7], 255);
	assert_int_equal(fi.l4_caplen, 32);
	assert_int_equal(fi.l4[0], 136);
	assert_int_equal(fi.l4[1], 0);
	assert_int_equal(fi.l4[4] & 0xe0, 0x20);                  /* O only */
	assert_memory_equal(fi.l4 + 8, ip6, 16);
	assert_int_equal(fi.l4[24], 2);
	assert_int_equal(fi.l4[25], 1);
	assert_memory_equal(fi.l4 + 26, mac, 6);
	/* summed over with its checksum in place, the total folds to 0 */
	assert_int_equal(frame_csum_fold(frame_csum_add(
		frame_csum_pseudo(AF_INET6, fi.saddr, fi.daddr, IPPROTO_ICMPV6, fi.l4_caplen),
		fi.l4, fi.l4_caplen)), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_tcp),
		cmocka_unit_test(test_ipv4_options_and_padding),
		cmocka_unit_test(test_ipv4_bad_ihl),
		cmocka_unit_test(test_ipv4_fragments),
		cmocka_unit_test(test_ipv6_udp),
		cmocka_unit_test(test_ipv6_extension_headers),
		cmocka_unit_test(test_not_ip),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_csum),
		cmocka_unit_test(test_csum_wide),
		cmocka_unit_test(test_csum_pseudo),
		cmocka_unit_test(test_announce),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
