/* SPDX-License-Identifier: MIT
 *
 * test-hostgate.c — the per-port gate in front of slirp's host-loopback
 * mapping (net/hostgate.c): which guest frames may open a connection to the
 * host's 127.0.0.1 / ::1, and the RST that refuses the others.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>

#include "net/hostgate.h"
#include "net/vnet.h"

#define SYN 0x02
#define ACK 0x10
#define RST 0x04

static const uint8_t guest4[4] = VNET_GUEST4_BYTES;
static const uint8_t host4[4] = VNET_GATEWAY4_BYTES;
static const uint8_t dns4[4] = VNET_RESOLVER4_BYTES;
static const uint8_t other4[4] = { 10, 0, 2, 7 };
static const uint8_t bcast4[4] = { 255, 255, 255, 255 };
static const uint8_t world4[4] = { 192, 0, 2, 10 };
static const uint8_t guest6[16] = VNET_GUEST6_BYTES;
static const uint8_t host6[16] = VNET_GATEWAY6_BYTES;
static const uint8_t dns6[16] = VNET_RESOLVER6_BYTES;
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
	static const uint8_t slirp_mac[6] = { 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02 };
	static const uint8_t guest_mac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };

	memcpy(f, slirp_mac, 6);
	memcpy(f + 6, guest_mac, 6);
	put16(f + 12, type);
}

/* IPv4 frame to DST with protocol PROTO and an L4 header; returns length. */
static size_t
frame4(uint8_t *f, const uint8_t *dst, uint8_t proto, unsigned dport, uint8_t flags,
       unsigned frag)
{
	uint8_t *ip = f + 14, *l4 = ip + 20;

	memset(f, 0, 14 + 20 + 20);
	eth(f, 0x0800);
	ip[0] = 0x45;
	put16(ip + 2, 40);
	put16(ip + 6, frag);
	ip[8] = 64;
	ip[9] = proto;
	memcpy(ip + 12, guest4, 4);
	memcpy(ip + 16, dst, 4);
	put16(l4, 40000);
	put16(l4 + 2, dport);
	put16(l4 + 4, 0x1234);
	put16(l4 + 6, 0x5678);
	l4[12] = 5 << 4;
	l4[13] = flags;
	return 14 + 40;
}

static size_t
frame6(uint8_t *f, const uint8_t *dst, uint8_t nh, unsigned dport, uint8_t flags)
{
	uint8_t *ip = f + 14, *l4 = ip + 40;

	memset(f, 0, 14 + 40 + 20);
	eth(f, 0x86dd);
	ip[0] = 0x60;
	put16(ip + 4, 20);
	ip[6] = nh;
	ip[7] = 64;
	memcpy(ip + 8, guest6, 16);
	memcpy(ip + 24, dst, 16);
	put16(l4, 40000);
	put16(l4 + 2, dport);
	put16(l4 + 4, 0x1234);
	put16(l4 + 6, 0x5678);
	l4[12] = 5 << 4;
	l4[13] = flags;
	return 14 + 60;
}

/* The gate as net.c calls it: on the frame parsed once. */
static HostGateVerdict
check(HostGate *g, const uint8_t *f, size_t n)
{
	FrameInfo fi;

	return host_gate_check(g, frame_parse(f, n, &fi) ? &fi : NULL);
}

static size_t
build_rst(const uint8_t *f, size_t n, uint8_t *out, size_t size)
{
	FrameInfo fi;

	return host_gate_build_rst(f, frame_parse(f, n, &fi) ? &fi : NULL, out, size);
}

static HostGate *
gate_with(unsigned port)
{
	g_autoptr(GArray) ports = g_array_new(FALSE, FALSE, sizeof(guint16));
	guint16 p = (guint16)port;

	if (port)
		g_array_append_val(ports, p);
	return host_gate_new(ports);
}

static void
test_listed_port_opens(void **state)
{
	g_autoptr(HostGate) g = gate_with(8080);
	uint8_t f[128];
	size_t n;

	assert_true(host_gate_has_ports(g));
	n = frame4(f, host4, 6, 8080, SYN, 0);
	assert_int_equal(check(g, f, n), HOST_GATE_PASS);
	n = frame6(f, host6, 6, 8080, SYN);
	assert_int_equal(check(g, f, n), HOST_GATE_PASS);
	assert_int_equal(host_gate_refused(g), 0);
}

static void
test_unlisted_port_rejected(void **state)
{
	g_autoptr(HostGate) g = gate_with(8080);
	uint8_t f[128];
	size_t n;

	n = frame4(f, host4, 6, 22, SYN, 0);
	assert_int_equal(check(g, f, n), HOST_GATE_REJECT);
	n = frame6(f, host6, 6, 22, SYN);
	assert_int_equal(check(g, f, n), HOST_GATE_REJECT);
	/* slirp maps all of fd00::/64 and 255.255.255.255 to the host too */
	n = frame6(f, guest6, 6, 22, SYN);
	assert_int_equal(check(g, f, n), HOST_GATE_REJECT);
	n = frame4(f, bcast4, 6, 22, SYN, 0);
	assert_int_equal(check(g, f, n), HOST_GATE_REJECT);
	n = frame4(f, other4, 6, 22, SYN, 0);
	assert_int_equal(check(g, f, n), HOST_GATE_REJECT);
	assert_int_equal(host_gate_refused(g), 5);
}

static void
test_no_ports_everything_closed(void **state)
{
	g_autoptr(HostGate) g = gate_with(0);
	uint8_t f[128];
	size_t n;

	assert_false(host_gate_has_ports(g));
	n = frame4(f, host4, 6, 8080, SYN, 0);
	assert_int_equal(check(g, f, n), HOST_GATE_REJECT);
}

/* Segments of existing connections (replies on --publish connections come
 * from 10.0.2.2) pass: slirp never opens a host socket for them. */
static void
test_established_segments_pass(void **state)
{
	g_autoptr(HostGate) g = gate_with(0);
	uint8_t f[128];
	size_t n;

	n = frame4(f, host4, 6, 41000, SYN | ACK, 0);
	assert_int_equal(check(g, f, n), HOST_GATE_PASS);
	n = frame4(f, host4, 6, 41000, ACK, 0);
	assert_int_equal(check(g, f, n), HOST_GATE_PASS);
	n = frame6(f, host6, 6, 41000, ACK);
	assert_int_equal(check(g, f, n), HOST_GATE_PASS);
}

static void
test_udp_and_fragments_to_host_dropped(void **state)
{
	g_autoptr(HostGate) g = gate_with(8080);
	uint8_t f[128];
	size_t n;

	n = frame4(f, host4, 17, 8080, 0, 0);
	assert_int_equal(check(g, f, n), HOST_GATE_DROP);
	n = frame6(f, host6, 17, 8080, 0);
	assert_int_equal(check(g, f, n), HOST_GATE_DROP);
	/* first fragment (MF) and a later one (offset) */
	n = frame4(f, host4, 6, 8080, SYN, 0x2000);
	assert_int_equal(check(g, f, n), HOST_GATE_DROP);
	n = frame4(f, host4, 6, 8080, SYN, 0x0010);
	assert_int_equal(check(g, f, n), HOST_GATE_DROP);
	/* IPv6 fragment header instead of TCP */
	n = frame6(f, host6, 44, 8080, SYN);
	assert_int_equal(check(g, f, n), HOST_GATE_DROP);
	/* truncated */
	n = frame4(f, host4, 6, 8080, SYN, 0);
	assert_int_equal(check(g, f, 14 + 20 + 10), HOST_GATE_DROP);
	assert_int_equal(check(g, f, 10), HOST_GATE_DROP);
}

static void
test_resolver_only_port_53(void **state)
{
	g_autoptr(HostGate) g = gate_with(8080);
	uint8_t f[128];
	size_t n;

	n = frame4(f, dns4, 17, 53, 0, 0);
	assert_int_equal(check(g, f, n), HOST_GATE_PASS);
	n = frame4(f, dns4, 17, 54, 0, 0);
	assert_int_equal(check(g, f, n), HOST_GATE_DROP);
	n = frame4(f, dns4, 6, 8080, SYN, 0);
	assert_int_equal(check(g, f, n), HOST_GATE_REJECT);
	n = frame6(f, dns6, 17, 53, 0);
	assert_int_equal(check(g, f, n), HOST_GATE_PASS);
	n = frame6(f, dns6, 6, 22, SYN);
	assert_int_equal(check(g, f, n), HOST_GATE_REJECT);
}

static void
test_world_and_other_protocols_pass(void **state)
{
	g_autoptr(HostGate) g = gate_with(0);
	uint8_t f[128];
	size_t n;

	n = frame4(f, world4, 6, 22, SYN, 0);
	assert_int_equal(check(g, f, n), HOST_GATE_PASS);
	n = frame4(f, world4, 17, 5353, 0, 0x2000);
	assert_int_equal(check(g, f, n), HOST_GATE_PASS);
	n = frame6(f, world6, 6, 22, SYN);
	assert_int_equal(check(g, f, n), HOST_GATE_PASS);
	/* ICMP echo to slirp itself, neighbour discovery to the gateway */
	n = frame4(f, host4, 1, 0, 0, 0);
	assert_int_equal(check(g, f, n), HOST_GATE_PASS);
	n = frame6(f, host6, 58, 0, 0);
	assert_int_equal(check(g, f, n), HOST_GATE_PASS);
	/* ARP */
	memset(f, 0, 42);
	eth(f, 0x0806);
	assert_int_equal(check(g, f, 42), HOST_GATE_PASS);
}

static unsigned
csum(const uint8_t *p, size_t len, unsigned sum)
{
	for (; len > 1; p += 2, len -= 2)
		sum += (unsigned)(p[0] << 8 | p[1]);
	if (len)
		sum += (unsigned)p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

static void
test_rst_ipv4(void **state)
{
	uint8_t f[128], out[128], pseudo[12];
	size_t n = frame4(f, host4, 6, 22, SYN, 0);
	size_t m = build_rst(f, n, out, sizeof out);
	const uint8_t *ip = out + 14, *tcp = ip + 20;

	assert_int_equal(m, 14 + 40);
	assert_memory_equal(out, f + 6, 6);         /* back to the guest's MAC */
	assert_memory_equal(out + 6, f, 6);
	assert_memory_equal(ip + 12, host4, 4);
	assert_memory_equal(ip + 16, guest4, 4);
	assert_int_equal(csum(ip, 20, 0), 0xffff);  /* header checksum valid */
	assert_int_equal(tcp[0] << 8 | tcp[1], 22);
	assert_int_equal(tcp[2] << 8 | tcp[3], 40000);
	assert_int_equal(tcp[13], RST | ACK);
	/* ack = their seq + 1 (the SYN) */
	assert_int_equal((unsigned)(tcp[8] << 24 | tcp[9] << 16 | tcp[10] << 8 | tcp[11]),
			 0x12345679u);
	memcpy(pseudo, ip + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = 6;
	pseudo[10] = 0;
	pseudo[11] = 20;
	assert_int_equal(csum(tcp, 20, csum(pseudo, 12, 0)), 0xffff);
	/* never answer a RST with a RST */
	n = frame4(f, host4, 6, 22, RST, 0);
	assert_int_equal(build_rst(f, n, out, sizeof out), 0);
}

static void
test_rst_ipv6(void **state)
{
	uint8_t f[128], out[128], pseudo[40];
	size_t n = frame6(f, host6, 6, 22, SYN);
	size_t m = build_rst(f, n, out, sizeof out);
	const uint8_t *ip = out + 14, *tcp = ip + 40;

	assert_int_equal(m, 14 + 60);
	assert_memory_equal(ip + 8, host6, 16);
	assert_memory_equal(ip + 24, guest6, 16);
	assert_int_equal(tcp[13], RST | ACK);
	memcpy(pseudo, ip + 8, 32);
	memset(pseudo + 32, 0, 8);
	pseudo[35] = 20;
	pseudo[39] = 6;
	assert_int_equal(csum(tcp, 20, csum(pseudo, 40, 0)), 0xffff);
	/* too small an output buffer */
	assert_int_equal(build_rst(f, n, out, 40), 0);
}

/* net/vnet.h gives each address twice, as text and as bytes: they must
 * name the same address, or slirp, tap0 and the filters would disagree. */
static void
test_vnet_text_and_bytes_agree(void **state)
{
	static const uint8_t net4[] = VNET_NET4_BYTES, net6[] = VNET_NET6_BYTES;
	static const uint8_t mask4[4] = VNET_PAIR4_MASK, mask6[16] = VNET_PAIR6_MASK;
	static const struct {
		int family;
		const char *text;
		const uint8_t *bytes;
	} cases[] = {
		{ AF_INET, VNET_GATEWAY4_TEXT, host4 },
		{ AF_INET, VNET_RESOLVER4_TEXT, dns4 },
		{ AF_INET, VNET_GUEST4_TEXT, guest4 },
		{ AF_INET6, VNET_GATEWAY6_TEXT, host6 },
		{ AF_INET6, VNET_RESOLVER6_TEXT, dns6 },
		{ AF_INET6, VNET_GUEST6_TEXT, guest6 },
	};
	uint8_t a[16], m[4];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t len = cases[i].family == AF_INET ? 4 : 16;

		assert_int_equal(inet_pton(cases[i].family, cases[i].text, a), 1);
		assert_memory_equal(a, cases[i].bytes, len);
		/* every one of them is inside the network */
		assert_memory_equal(a, len == 4 ? net4 : net6, len == 4 ? sizeof net4 : sizeof net6);
	}
	assert_int_equal(sizeof net4 * 8, VNET_NET4_PREFIX);
	assert_int_equal(sizeof net6 * 8, VNET_NET6_PREFIX);
	assert_int_equal(inet_pton(AF_INET, VNET_NET4_TEXT, a), 1);
	assert_memory_equal(a, net4, sizeof net4);
	assert_int_equal(inet_pton(AF_INET, VNET_NETMASK4_TEXT, m), 1);
	assert_int_equal(m[0] & m[1] & m[2], 0xff);
	assert_int_equal(m[3], 0);
	assert_int_equal(inet_pton(AF_INET, VNET_DHCP_START4_TEXT, a), 1);
	assert_memory_equal(a, net4, sizeof net4);
	assert_int_equal(inet_pton(AF_INET6, VNET_NET6_TEXT, a), 1);
	assert_memory_equal(a, net6, sizeof net6);
	/* the pair masks: gateway and resolver, nothing else */
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(host4[i] & mask4[i], dns4[i] & mask4[i]);
	for (size_t i = 0; i < 16; i++)
		assert_int_equal(host6[i] & mask6[i], dns6[i] & mask6[i]);
	assert_int_equal(host4[3] & 1, 0);
	assert_int_equal(host6[15] & 1, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listed_port_opens),
		cmocka_unit_test(test_unlisted_port_rejected),
		cmocka_unit_test(test_no_ports_everything_closed),
		cmocka_unit_test(test_established_segments_pass),
		cmocka_unit_test(test_udp_and_fragments_to_host_dropped),
		cmocka_unit_test(test_resolver_only_port_53),
		cmocka_unit_test(test_world_and_other_protocols_pass),
		cmocka_unit_test(test_rst_ipv4),
		cmocka_unit_test(test_rst_ipv6),
		cmocka_unit_test(test_vnet_text_and_bytes_agree),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
