/* SPDX-License-Identifier: MIT
 *
 * test-tcp-relay.c — the TCP relay (net/relay/tcp-relay.c) driven frame by frame:
 * the test plays the guest, writing segments with tcp_relay_handle_frame
 * and reading the relay's frames from a SOCK_SEQPACKET pair that stands in
 * for the tap; the far end is a real listener on 127.0.0.1.  This reaches
 * what a real guest never shows on demand: a segment that is not
 * acknowledged (retransmission after the timeout), three duplicate ACKs
 * (fast retransmission), a shut window (probe) and the orderly close —
 * and the name gate (name-gate.h): held bytes, refusals, a server that
 * speaks first, a SOCKS5 greeting let through ahead of its request.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/loop-epoll.h"
#include "net/tap.h"
#include "net/relay/tcp-flow.h"
#include "net/relay/tcp-relay.h"
#include "net/relay/tcp-seg.h"
#include "net/policy.h"
#include "net/relay/sniff.h"
#include "net/vnet.h"

#define GUEST_PORT 40000
#define WAIT_MS 3000

typedef struct {
	GMainContext *ctx;
	TcpRelay *relay;
	int tap[2];            /* [0]: the relay's end, [1]: the test's */
	int listener;
	guint16 port;
	int host;              /* the accepted host-side socket */
	TcpSegAddrs from_guest;
	guint32 guest_seq;     /* next sequence number the guest sends */
	guint32 relay_next;    /* next sequence number the relay sends */
	EgressPolicy *policy;  /* the name gate's, or NULL */
	char refused_reason[16];
	char refused_name[256];
} Rig;

typedef struct {
	TcpSeg s;
	uint8_t buf[70000];
} Frame;

/* Guest → relay frames: tcp_seg_build writes peer → guest frames, so the
 * roles are swapped in the addresses it is given. */
static void
guest_send(Rig *r, guint8 flags, guint32 ack, guint16 window, const void *data, size_t n)
{
	uint8_t f[2048];
	TcpSegOut o = { .seq = r->guest_seq, .ack = ack, .flags = flags, .window = window,
			.wscale = -1 };
	FrameInfo fi;
	size_t hl;

	if (flags & TCP_SEG_SYN) {
		o.mss = 1460;
		o.wscale = 0;
	}
	hl = tcp_seg_build(f, &r->from_guest, &o, data, n);
	assert_true(hl > 0 && hl + n <= sizeof f);
	if (n)
		memcpy(f + hl, data, n);
	assert_true(frame_parse(f, hl + n, &fi));
	assert_true(tcp_relay_handle_frame(r->relay, f, hl + n, &fi));
	tcp_relay_flush(r->relay);
	r->guest_seq += (guint32)n + ((flags & (TCP_SEG_SYN | TCP_SEG_FIN)) ? 1 : 0);
}

/* The next frame the relay writes, within WAIT_MS (the loop runs
 * meanwhile); FALSE when none came. */
static gboolean
relay_frame(Rig *r, Frame *fr, guint wait_ms)
{
	gint64 end = g_get_monotonic_time() + (gint64)wait_ms * 1000;

	for (;;) {
		ssize_t n = recv(r->tap[1], fr->buf, sizeof fr->buf, MSG_DONTWAIT);
		FrameInfo fi;

		if (n > (ssize_t)TAP_VNET_HLEN) {
			const uint8_t *f = fr->buf + TAP_VNET_HLEN;
			size_t len = (size_t)n - TAP_VNET_HLEN;

			assert_true(frame_parse(f, len, &fi));
			assert_true(tcp_seg_parse(f, len, &fi, &fr->s));
			return TRUE;
		}
		if (g_get_monotonic_time() >= end)
			return FALSE;
		while (g_main_context_iteration(r->ctx, FALSE))
			;
		poll(&(struct pollfd){ .fd = r->tap[1], .events = POLLIN }, 1, 5);
	}
}

/* Guest connects; the relay connects the host socket and answers. */
static void
rig_connect(Rig *r, guint16 window)
{
	Frame fr;

	guest_send(r, TCP_SEG_SYN, 0, window, NULL, 0);
	assert_true(relay_frame(r, &fr, WAIT_MS));
	assert_int_equal(fr.s.flags, TCP_SEG_SYN | TCP_SEG_ACK);
	assert_int_equal(fr.s.ack, r->guest_seq);
	assert_int_equal(fr.s.mss, 1460);
	r->relay_next = fr.s.seq + 1;
	r->host = accept(r->listener, NULL, NULL);
	assert_true(r->host >= 0);
	guest_send(r, TCP_SEG_ACK, r->relay_next, window, NULL, 0);
}

static int
setup(void **state)
{
	Rig *r = g_new0(Rig, 1);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof sa;
	static const uint8_t guest4[4] = VNET_GUEST4_BYTES, gw4[4] = VNET_GATEWAY4_BYTES;
	static const uint8_t mac_g[6] = { 2, 0, 0, 0, 0, 1 }, mac_gw[6] = { 0x52, 0x55, 10, 0, 2, 2 };

	r->ctx = g_main_context_new();
	assert_true(loop_epoll_install(r->ctx));
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
				    r->tap), 0);
	r->relay = tcp_relay_new(r->ctx, r->tap[0], 1500);
	assert_non_null(r->relay);
	r->listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(bind(r->listener, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(listen(r->listener, 4), 0);
	assert_int_equal(getsockname(r->listener, (struct sockaddr *)&sa, &len), 0);
	r->port = ntohs(sa.sin_port);
	r->host = -1;
	/* swapped: "peer" is the guest, "guest" the gateway (see guest_send) */
	r->from_guest.family = AF_INET;
	memcpy(r->from_guest.guest_mac, mac_gw, 6);
	memcpy(r->from_guest.gw_mac, mac_g, 6);
	memcpy(r->from_guest.peer_addr, guest4, 4);
	memcpy(r->from_guest.guest_addr, gw4, 4);
	r->from_guest.peer_port = GUEST_PORT;
	r->from_guest.guest_port = r->port;
	r->guest_seq = 1000;
	*state = r;
	return 0;
}

static int
teardown(void **state)
{
	Rig *r = *state;

	tcp_relay_free(r->relay);
	egress_policy_free(r->policy);
	loop_epoll_uninstall(r->ctx);
	g_main_context_unref(r->ctx);
	close(r->tap[0]);
	close(r->tap[1]);
	close(r->listener);
	if (r->host >= 0)
		close(r->host);
	g_free(r);
	return 0;
}

/* Data the guest does not acknowledge comes again after the timeout, the
 * same bytes at the same sequence number; an ACK stops it. */
static void
test_retransmit_after_timeout(void **state)
{
	Rig *r = *state;
	Frame a, b;
	gint64 t0;

	rig_connect(r, 65535);
	assert_int_equal(send(r->host, "hello", 5, 0), 5);
	assert_true(relay_frame(r, &a, WAIT_MS));
	assert_int_equal(a.s.seq, r->relay_next);
	assert_int_equal(a.s.payload_len, 5);
	assert_memory_equal(a.s.payload, "hello", 5);
	t0 = g_get_monotonic_time();
	assert_true(relay_frame(r, &b, WAIT_MS));
	/* the timer starts at 200 ms */
	assert_true(g_get_monotonic_time() - t0 >= 150 * 1000);
	assert_int_equal(b.s.seq, a.s.seq);
	assert_int_equal(b.s.payload_len, 5);
	assert_memory_equal(b.s.payload, "hello", 5);
	r->relay_next += 5;
	guest_send(r, TCP_SEG_ACK, r->relay_next, 65535, NULL, 0);
	/* acknowledged: nothing more within two timeouts */
	assert_false(relay_frame(r, &b, 600));
	assert_int_equal(tcp_relay_active(r->relay), 1);
}

/* Three duplicate ACKs bring the unacknowledged data back at once. */
static void
test_fast_retransmit(void **state)
{
	Rig *r = *state;
	static char data[3000];
	Frame a, b;
	gint64 t0;
	guint32 got = 0;

	memset(data, 'x', sizeof data);
	rig_connect(r, 65535);
	assert_int_equal(send(r->host, data, sizeof data, 0), (ssize_t)sizeof data);
	while (got < sizeof data) {
		assert_true(relay_frame(r, &a, WAIT_MS));
		assert_int_equal(a.s.seq, r->relay_next + got);
		got += (guint32)a.s.payload_len;
	}
	/* the first segment is lost: ACK of its start, three times */
	t0 = g_get_monotonic_time();
	for (int i = 0; i < 3; i++)
		guest_send(r, TCP_SEG_ACK, r->relay_next, 65535, NULL, 0);
	assert_true(relay_frame(r, &b, WAIT_MS));
	assert_true(g_get_monotonic_time() - t0 < 150 * 1000);   /* before any timeout */
	assert_int_equal(b.s.seq, r->relay_next);
}

/* A shut window holds the data back; after the timeout a one-byte probe
 * goes out; a window update lets the rest through. */
static void
test_zero_window_probe(void **state)
{
	Rig *r = *state;
	Frame a;
	guint32 got = 0;

	gint64 t0;

	rig_connect(r, 0);
	t0 = g_get_monotonic_time();
	assert_int_equal(send(r->host, "abcdef", 6, 0), 6);
	assert_true(relay_frame(r, &a, WAIT_MS));
	/* nothing before the timeout, then one byte */
	assert_true(g_get_monotonic_time() - t0 >= 150 * 1000);
	assert_int_equal(a.s.seq, r->relay_next);
	assert_int_equal(a.s.payload_len, 1);
	assert_int_equal(a.s.payload[0], 'a');
	/* the guest takes the byte and opens its window: the rest follows */
	r->relay_next += 1;
	guest_send(r, TCP_SEG_ACK, r->relay_next, 65535, NULL, 0);
	while (got < 5) {
		assert_true(relay_frame(r, &a, WAIT_MS));
		assert_int_equal(a.s.seq, r->relay_next + got);
		assert_memory_equal(a.s.payload, "bcdef" + got, a.s.payload_len);
		got += (guint32)a.s.payload_len;
	}
	assert_int_equal(got, 5);
}

/* Guest data reaches the host socket; FIN both ways; the relay forgets
 * the connection once its FIN is acknowledged. */
static void
test_orderly_close(void **state)
{
	Rig *r = *state;
	Frame a;
	char buf[16];

	rig_connect(r, 65535);
	guest_send(r, TCP_SEG_ACK | TCP_SEG_PSH, r->relay_next, 65535, "ping", 4);
	guest_send(r, TCP_SEG_FIN | TCP_SEG_ACK, r->relay_next, 65535, NULL, 0);
	/* the relay acknowledges data and FIN */
	do
		assert_true(relay_frame(r, &a, WAIT_MS));
	while (a.s.ack != r->guest_seq);
	assert_int_equal(recv(r->host, buf, sizeof buf, MSG_WAITALL), 4);
	assert_memory_equal(buf, "ping", 4);
	assert_int_equal(recv(r->host, buf, sizeof buf, 0), 0);   /* the guest's FIN */
	close(r->host);
	r->host = -1;
	do
		assert_true(relay_frame(r, &a, WAIT_MS));
	while (!(a.s.flags & TCP_SEG_FIN));
	assert_int_equal(a.s.seq, r->relay_next);
	assert_int_equal(tcp_relay_active(r->relay), 1);
	guest_send(r, TCP_SEG_ACK, r->relay_next + 1, 65535, NULL, 0);
	assert_int_equal(tcp_relay_active(r->relay), 0);
	assert_int_equal(tcp_relay_total(r->relay), 1);
}

/* A server that talks first and closes at once: the connect's completion,
 * its data and its FIN reach the relay as one event, before the relay ever
 * ran.  The FIN must still reach the guest after the data (it was lost:
 * the event's RDHUP was dropped in the connecting state, and the short
 * read of the data then ended the reading, with no edge left to come). */
static void
test_server_talks_first_and_closes(void **state)
{
	Rig *r = *state;
	Frame a;
	guint32 got = 0;

	guest_send(r, TCP_SEG_SYN, 0, 65535, NULL, 0);
	/* loopback: the handshake completed inside the relay's connect() */
	r->host = accept(r->listener, NULL, NULL);
	assert_true(r->host >= 0);
	assert_int_equal(send(r->host, "banner\n", 7, 0), 7);
	assert_int_equal(shutdown(r->host, SHUT_WR), 0);

	assert_true(relay_frame(r, &a, WAIT_MS));
	assert_int_equal(a.s.flags, TCP_SEG_SYN | TCP_SEG_ACK);
	r->relay_next = a.s.seq + 1;
	guest_send(r, TCP_SEG_ACK, r->relay_next, 65535, NULL, 0);
	do {
		assert_true(relay_frame(r, &a, WAIT_MS));
		assert_int_equal(a.s.seq, r->relay_next + got);
		if (a.s.payload_len)
			assert_memory_equal(a.s.payload, &"banner\n"[got], a.s.payload_len);
		got += (guint32)a.s.payload_len;
	} while (!(a.s.flags & TCP_SEG_FIN));
	assert_int_equal(got, 7);
}

/* A connect that fails becomes a RST answering the SYN. */
static void
test_refused(void **state)
{
	Rig *r = *state;
	Frame a;

	close(r->listener);
	r->listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	guest_send(r, TCP_SEG_SYN, 0, 65535, NULL, 0);
	assert_true(relay_frame(r, &a, WAIT_MS));
	assert_true(a.s.flags & TCP_SEG_RST);
	assert_int_equal(a.s.ack, r->guest_seq);
	assert_int_equal(tcp_relay_active(r->relay), 0);
}

/* ---- the name gate ---- */

/* TcpRelayRefusedFunc */
static void
on_refused(int family, const uint8_t *addr, guint16 port, const char *reason, const char *name,
	   gpointer data)
{
	Rig *r = data;

	g_strlcpy(r->refused_reason, reason, sizeof r->refused_reason);
	g_strlcpy(r->refused_name, name, sizeof r->refused_name);
}

/* A gate whose policy allows names below good.test on any port and the
 * address 192.0.2.1 (no DNS: a wildcard resolves on demand only). */
static int
setup_gate(void **state)
{
	Rig *r;
	g_autoptr(SbxConfig) cfg = sbx_config_new();

	setup(state);
	r = *state;
	cfg->net_mode = SBX_NET_TAP;
	g_ptr_array_add(cfg->allow_entries, g_strdup("*.good.test"));
	g_ptr_array_add(cfg->allow_entries, g_strdup("192.0.2.1"));
	r->policy = egress_policy_load(cfg, NULL);
	assert_non_null(r->policy);
	tcp_relay_set_name_gate(r->relay, r->policy, on_refused, r);
	return 0;
}

/* The rig's listener is on the gateway's loopback, which the gate never
 * covers (host ports): turn it on for the one flow, as relay_open does for
 * a destination only a domain entry admitted. */
static void
gate_connect(Rig *r)
{
	GHashTableIter it;
	gpointer v;

	rig_connect(r, 65535);
	g_hash_table_iter_init(&it, ((struct TcpRelay *)r->relay)->flows);
	assert_true(g_hash_table_iter_next(&it, NULL, &v));
	assert_int_equal(((Flow *)v)->gate, FLOW_GATE_OFF);
	((Flow *)v)->gate = FLOW_GATE_FIRST;
}

/* Nothing arrives at the host socket within a loop iteration or two. */
static void
host_gets_nothing(Rig *r)
{
	char c;

	for (int i = 0; i < 3; i++)
		while (g_main_context_iteration(r->ctx, FALSE))
			;
	assert_int_equal(recv(r->host, &c, 1, MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
}

/* Read exactly N bytes from the host socket and compare them with WANT. */
static void
host_gets(Rig *r, const char *want, size_t n)
{
	char buf[512];
	size_t got = 0;

	assert_true(n <= sizeof buf);
	while (got < n) {
		ssize_t k;

		assert_true(poll(&(struct pollfd){ .fd = r->host, .events = POLLIN }, 1, WAIT_MS) == 1 ||
			    g_main_context_iteration(r->ctx, FALSE));
		k = recv(r->host, buf + got, n - got, MSG_DONTWAIT);
		if (k < 0 && errno == EAGAIN)
			continue;
		assert_true(k > 0);
		got += (size_t)k;
	}
	assert_memory_equal(buf, want, n);
}

/* The guest gets a RST, the host socket is reset without a byte. */
static void
assert_refused(Rig *r, const char *reason, const char *name)
{
	Frame a;
	char c;
	ssize_t k;

	do
		assert_true(relay_frame(r, &a, WAIT_MS));
	while (!(a.s.flags & TCP_SEG_RST));
	assert_int_equal(tcp_relay_active(r->relay), 0);
	assert_int_equal(tcp_relay_refused(r->relay), 1);
	assert_string_equal(r->refused_reason, reason);
	assert_string_equal(r->refused_name, name);
	assert_int_equal(poll(&(struct pollfd){ .fd = r->host, .events = POLLIN }, 1, WAIT_MS), 1);
	k = recv(r->host, &c, 1, 0);
	assert_true(k == 0 || (k < 0 && errno == ECONNRESET));
}

/* A request split over two segments: held until the Host header decides,
 * then all of it goes out. */
static void
test_gate_holds_until_allowed(void **state)
{
	Rig *r = *state;
	static const char req[] = "GET / HTTP/1.1\r\nHost: www.good.test\r\nAccept: */*\r\n\r\n";
	size_t half = 20;

	gate_connect(r);
	guest_send(r, TCP_SEG_ACK, r->relay_next, 65535, req, half);
	host_gets_nothing(r);
	guest_send(r, TCP_SEG_ACK | TCP_SEG_PSH, r->relay_next, 65535, req + half,
		   strlen(req) - half);
	host_gets(r, req, strlen(req));
	/* decided: later data takes the ungated path */
	guest_send(r, TCP_SEG_ACK | TCP_SEG_PSH, r->relay_next, 65535, "more", 4);
	host_gets(r, "more", 4);
	assert_int_equal(tcp_relay_refused(r->relay), 0);
}

/* Another name on the same address: reset, nothing reached the server. */
static void
test_gate_refuses_other_host(void **state)
{
	Rig *r = *state;
	static const char req[] = "GET / HTTP/1.1\r\nHost: evil.test\r\n\r\n";

	gate_connect(r);
	guest_send(r, TCP_SEG_ACK | TCP_SEG_PSH, r->relay_next, 65535, req, strlen(req));
	assert_refused(r, "host", "evil.test");
}

/* First bytes of no known protocol: refused. */
static void
test_gate_refuses_unknown(void **state)
{
	Rig *r = *state;

	gate_connect(r);
	guest_send(r, TCP_SEG_ACK | TCP_SEG_PSH, r->relay_next, 65535, "\x01\x02\x03\x04garbage", 11);
	assert_refused(r, "protocol", "");
}

/* More than SNIFF_HOLD_MAX bytes without a decision: refused. */
static void
test_gate_hold_limit(void **state)
{
	Rig *r = *state;
	char line[1001];
	guint sent = 0;

	gate_connect(r);
	guest_send(r, TCP_SEG_ACK, r->relay_next, 65535, "GET / HTTP/1.1\r\n", 16);
	memset(line, 'a', sizeof line);
	memcpy(line, "X-Pad: ", 7);
	line[998] = '\r';
	line[999] = '\n';
	while (sent < SNIFF_HOLD_MAX && tcp_relay_active(r->relay)) {
		guest_send(r, TCP_SEG_ACK, r->relay_next, 65535, line, 1000);
		sent += 1000;
	}
	assert_refused(r, "protocol", "");
}

/* The guest finishes before its bytes say anything: refused. */
static void
test_gate_fin_undecided(void **state)
{
	Rig *r = *state;

	gate_connect(r);
	guest_send(r, TCP_SEG_ACK, r->relay_next, 65535, "GET / HT", 8);
	guest_send(r, TCP_SEG_FIN | TCP_SEG_ACK, r->relay_next, 65535, NULL, 0);
	assert_refused(r, "protocol", "");
}

/* A server that speaks first was chosen by address: allowed. */
static void
test_gate_server_first(void **state)
{
	Rig *r = *state;
	Frame a;

	gate_connect(r);
	assert_int_equal(send(r->host, "220 hi\r\n", 8, 0), 8);
	do
		assert_true(relay_frame(r, &a, WAIT_MS));
	while (!a.s.payload_len);
	r->relay_next += (guint32)a.s.payload_len;
	guest_send(r, TCP_SEG_ACK | TCP_SEG_PSH, r->relay_next, 65535, "EHLO x\r\n", 8);
	host_gets(r, "EHLO x\r\n", 8);
}

/* ... even when the guest's bytes reach the relay before it read the
 * server's (they were in the socket first). */
static void
test_gate_server_first_unread(void **state)
{
	Rig *r = *state;

	gate_connect(r);
	assert_int_equal(send(r->host, "220 hi\r\n", 8, 0), 8);
	guest_send(r, TCP_SEG_ACK | TCP_SEG_PSH, r->relay_next, 65535, "EHLO x\r\n", 8);
	host_gets(r, "EHLO x\r\n", 8);
}

/* SSH carries no name: allowed. */
static void
test_gate_ssh(void **state)
{
	Rig *r = *state;
	static const char id[] = "SSH-2.0-OpenSSH_9.2\r\n";

	gate_connect(r);
	guest_send(r, TCP_SEG_ACK | TCP_SEG_PSH, r->relay_next, 65535, id, strlen(id));
	host_gets(r, id, strlen(id));
}

/* SOCKS5: the greeting goes out, the request naming another host does not. */
static void
test_gate_socks5(void **state)
{
	Rig *r = *state;
	static const char req[] = "\x05\x01\x00\x03\x09" "evil.test" "\x01\xbb";

	gate_connect(r);
	guest_send(r, TCP_SEG_ACK | TCP_SEG_PSH, r->relay_next, 65535, "\x05\x01\x00", 3);
	host_gets(r, "\x05\x01\x00", 3);
	assert_int_equal(send(r->host, "\x05\x00", 2, 0), 2);
	guest_send(r, TCP_SEG_ACK | TCP_SEG_PSH, r->relay_next, 65535, req, sizeof req - 1);
	assert_refused(r, "socks", "evil.test");
}

/* ... and one naming an allowed host goes out. */
static void
test_gate_socks5_allowed(void **state)
{
	Rig *r = *state;
	static const char both[] = "\x05\x01\x00" "\x05\x01\x00\x03\x0b" "a.good.test" "\x01\xbb";

	gate_connect(r);
	/* greeting and request in one segment, as some clients send them */
	guest_send(r, TCP_SEG_ACK | TCP_SEG_PSH, r->relay_next, 65535, both, sizeof both - 1);
	host_gets(r, both, sizeof both - 1);
	assert_int_equal(tcp_relay_refused(r->relay), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_retransmit_after_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fast_retransmit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zero_window_probe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_orderly_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_talks_first_and_closes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gate_holds_until_allowed, setup_gate, teardown),
		cmocka_unit_test_setup_teardown(test_gate_refuses_other_host, setup_gate, teardown),
		cmocka_unit_test_setup_teardown(test_gate_refuses_unknown, setup_gate, teardown),
		cmocka_unit_test_setup_teardown(test_gate_hold_limit, setup_gate, teardown),
		cmocka_unit_test_setup_teardown(test_gate_fin_undecided, setup_gate, teardown),
		cmocka_unit_test_setup_teardown(test_gate_server_first, setup_gate, teardown),
		cmocka_unit_test_setup_teardown(test_gate_server_first_unread, setup_gate, teardown),
		cmocka_unit_test_setup_teardown(test_gate_ssh, setup_gate, teardown),
		cmocka_unit_test_setup_teardown(test_gate_socks5, setup_gate, teardown),
		cmocka_unit_test_setup_teardown(test_gate_socks5_allowed, setup_gate, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
