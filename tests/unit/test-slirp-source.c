/* SPDX-License-Identifier: MIT
 *
 * test-slirp-source.c — libslirp driven by the GLib source of
 * net/slirp-source.c, without a tap: frames go in with slirp_loop_input and
 * come out through the send callback.  Checks that ARP is answered, that a
 * guest TCP connect is carried to a real host socket and back (the poll
 * set, check() and dispatch() all take part), and that an idle loop stays
 * idle (doc/PLATFORM.md §1.4).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/slirp-source.h"
#include "net/vnet.h"

static const uint8_t guest_mac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
static const uint8_t guest_ip[4] = VNET_GUEST4_BYTES;
static const uint8_t host_ip[4] = VNET_GATEWAY4_BYTES;

typedef struct {
	GPtrArray *frames;   /* GBytes of every frame slirp sent */
} Sink;

static ssize_t
sink_send(const void *frame, size_t len, gpointer opaque)
{
	Sink *s = opaque;

	g_ptr_array_add(s->frames, g_bytes_new(frame, len));
	return (ssize_t)len;
}

static SlirpLoop *
loop_new(Sink *sink, gboolean host_loopback)
{
	SlirpConfig sc;
	GError *error = NULL;
	SlirpLoop *loop;

	memset(&sc, 0, sizeof sc);
	sc.version = 4;
	sc.in_enabled = true;
	inet_pton(AF_INET, VNET_NET4_TEXT, &sc.vnetwork);
	inet_pton(AF_INET, VNET_NETMASK4_TEXT, &sc.vnetmask);
	inet_pton(AF_INET, VNET_GATEWAY4_TEXT, &sc.vhost);
	inet_pton(AF_INET, VNET_DHCP_START4_TEXT, &sc.vdhcp_start);
	inet_pton(AF_INET, VNET_RESOLVER4_TEXT, &sc.vnameserver);
	sc.if_mtu = sc.if_mru = 1500;
	sc.disable_host_loopback = !host_loopback;
	sc.disable_dhcp = true;
	sink->frames = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	loop = slirp_loop_new(&sc, NULL, sink_send, sink, &error);
	assert_null(error);
	assert_non_null(loop);
	return loop;
}

static void
put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static unsigned
csum_add(unsigned sum, const uint8_t *p, size_t len)
{
	for (; len > 1; p += 2, len -= 2)
		sum += (unsigned)(p[0] << 8 | p[1]);
	if (len)
		sum += (unsigned)p[0] << 8;
	return sum;
}

static unsigned
csum_fold(unsigned sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

static size_t
arp_request(uint8_t *f)
{
	memset(f, 0, 42);
	memset(f, 0xff, 6);
	memcpy(f + 6, guest_mac, 6);
	put16(f + 12, 0x0806);
	put16(f + 14, 1);          /* Ethernet */
	put16(f + 16, 0x0800);     /* IPv4 */
	f[18] = 6;
	f[19] = 4;
	put16(f + 20, 1);          /* request */
	memcpy(f + 22, guest_mac, 6);
	memcpy(f + 28, guest_ip, 4);
	memcpy(f + 38, host_ip, 4);
	return 42;
}

static size_t
tcp_syn(uint8_t *f, const uint8_t *slirp_mac, unsigned dport)
{
	uint8_t *ip = f + 14, *tcp = ip + 20, pseudo[12];

	memset(f, 0, 14 + 40);
	memcpy(f, slirp_mac, 6);
	memcpy(f + 6, guest_mac, 6);
	put16(f + 12, 0x0800);
	ip[0] = 0x45;
	put16(ip + 2, 40);
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, guest_ip, 4);
	memcpy(ip + 16, host_ip, 4);
	put16(ip + 10, csum_fold(csum_add(0, ip, 20)));
	put16(tcp, 40000);
	put16(tcp + 2, dport);
	put16(tcp + 4, 0x1000);
	tcp[12] = 5 << 4;
	tcp[13] = 0x02;            /* SYN */
	put16(tcp + 14, 65535);
	memcpy(pseudo, ip + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = 6;
	put16(pseudo + 10, 20);
	put16(tcp + 16, csum_fold(csum_add(csum_add(0, pseudo, 12), tcp, 20)));
	return 14 + 40;
}

/* The first frame slirp sent that is ETHERTYPE with L4 protocol PROTO (0:
 * any), or NULL. */
static const uint8_t *
find_frame(Sink *s, unsigned ethertype, unsigned proto, size_t *len)
{
	for (guint i = 0; i < s->frames->len; i++) {
		const uint8_t *f = g_bytes_get_data(s->frames->pdata[i], len);

		if (*len < 14 || (unsigned)(f[12] << 8 | f[13]) != ethertype)
			continue;
		if (proto && (*len < 34 || f[14 + 9] != proto))
			continue;
		return f;
	}
	return NULL;
}

static gboolean
set_flag(gpointer data)
{
	*(gboolean *)data = TRUE;
	return G_SOURCE_REMOVE;
}

static void
test_arp_answered(void **state)
{
	Sink sink;
	g_autoptr(SlirpLoop) loop = loop_new(&sink, FALSE);
	uint8_t f[64];
	const uint8_t *r;
	size_t len;

	slirp_loop_input(loop, f, arp_request(f));
	r = find_frame(&sink, 0x0806, 0, &len);
	assert_non_null(r);
	assert_int_equal(r[20] << 8 | r[21], 2);        /* reply */
	assert_memory_equal(r + 28, host_ip, 4);        /* 10.0.2.2 is at … */
	assert_memory_equal(r, guest_mac, 6);           /* … told to us */
	g_ptr_array_unref(sink.frames);
}

static void
test_tcp_connect_reaches_host_socket(void **state)
{
	Sink sink;
	g_autoptr(SlirpLoop) loop = loop_new(&sink, TRUE);
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t salen = sizeof sa;
	int lfd, cfd = -1;
	uint8_t f[128], slirp_mac[6];
	const uint8_t *r = NULL;
	size_t len;
	gint64 deadline;

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	assert_true(lfd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(listen(lfd, 4), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &salen), 0);

	/* slirp learns our MAC from the ARP request; we learn its MAC. */
	slirp_loop_input(loop, f, arp_request(f));
	r = find_frame(&sink, 0x0806, 0, &len);
	assert_non_null(r);
	memcpy(slirp_mac, r + 6, 6);
	g_ptr_array_set_size(sink.frames, 0);

	slirp_loop_input(loop, f, tcp_syn(f, slirp_mac, ntohs(sa.sin_port)));
	/* slirp connects non-blockingly; the SYN-ACK comes only once the
	 * host connect completed, i.e. through prepare/check/dispatch. */
	r = NULL;
	deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
	while (!r && g_get_monotonic_time() < deadline) {
		gboolean fired = FALSE;
		guint t = g_timeout_add(100, set_flag, &fired);

		g_main_context_iteration(NULL, TRUE);
		if (!fired)
			g_source_remove(t);
		if (cfd < 0)
			cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		r = find_frame(&sink, 0x0800, 6, &len);
	}
	assert_true(cfd >= 0);
	if (!r)
		fail_msg("no SYN-ACK from slirp");
	assert_memory_equal(r + 14 + 12, host_ip, 4);
	assert_int_equal(r[14 + 20 + 13] & 0x12, 0x12);   /* SYN|ACK */
	/* ack of our ISN + 1 */
	assert_int_equal(r[14 + 20 + 8] << 24 | r[14 + 20 + 9] << 16 | r[14 + 20 + 10] << 8 |
			 r[14 + 20 + 11], 0x10000001);
	close(cfd);
	close(lfd);
	g_ptr_array_unref(sink.frames);
}

static void
test_idle_loop_is_idle(void **state)
{
	Sink sink;
	g_autoptr(SlirpLoop) loop = loop_new(&sink, FALSE);
	gboolean done = FALSE;
	guint64 before;

	/* let the first prepare happen, then count over 600 ms */
	g_main_context_iteration(NULL, FALSE);
	before = slirp_loop_prepare_count(loop);
	g_timeout_add(600, set_flag, &done);
	while (!done)
		g_main_context_iteration(NULL, TRUE);
	/* slirp asks to be polled at most every second when idle; a busy
	 * loop would prepare hundreds of thousands of times */
	assert_true(slirp_loop_prepare_count(loop) - before <= 4);
	g_ptr_array_unref(sink.frames);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arp_answered),
		cmocka_unit_test(test_tcp_connect_reaches_host_socket),
		cmocka_unit_test(test_idle_loop_is_idle),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
