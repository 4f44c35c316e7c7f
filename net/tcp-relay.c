/* SPDX-License-Identifier: MIT
 *
 * tcp-relay.c — the guest's outbound TCP connections on host sockets (why
 * and what: tcp-relay.h).
 *
 * One connection ("flow") in three states:
 *   CONNECTING   the guest's SYN arrived, the host socket's connect() runs;
 *                the guest's retransmitted SYNs are ignored
 *   SYN_RCVD     connected; our SYN|ACK is out, waiting for the guest's ACK
 *   ESTABLISHED  data both ways, half-closes (FIN) both ways
 * and two byte rings: `to_host` holds what the guest sent and we already
 * acknowledged but the host socket did not take yet (bounded by the window
 * we advertise), `to_guest` holds what we read from the host socket from
 * snd_una on — sent and unacknowledged, then not yet sent — until the guest
 * acknowledges it (bounded by the guest's window: we only read from the
 * host socket what we can send at once).
 *
 * Host sockets are direct watches in the loop's own epoll set
 * (src/common/loop-epoll.h), edge-triggered so that nothing is re-armed per
 * event: `host_readable` / `host_writable` remember whether the last
 * recv/send stopped short of EAGAIN.  Their events are queued by the wait
 * and handled by this relay's GSource.  Flows are freed only at the end of
 * a dispatch (`dead` list): a batch of events may still name a flow that
 * an earlier event of the same batch closed; a flow freed between the wait
 * and the dispatch takes its queued events with it (flow_free).
 */
#include "tcp-relay.h"
#include "frame.h"
#include "relay-ring.h"
#include "tap.h"
#include "tcp-seg.h"
#include "common/fdutil.h"
#include "common/loop-epoll.h"
#include "common/log.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define RELAY_WSCALE 5              /* 65535 << 5: up to 2 MiB of window */
#define RTO_MIN_MS 200
#define RTO_MAX_MS 8000
#define RETRIES_MAX 10
#define TICK_MS 50
#define EPOLL_BATCH 64
#define FLOWS_MAX 16384
#define MSS_DEFAULT 536             /* RFC 9293 §3.7.1, when the SYN gives none */
/* A small segment's ACK waits this long for a reply to ride on (RFC 9293
 * §3.8.6.3 allows 500 ms; Linux waits 40 ms): in a request/response
 * exchange the answer usually comes first and the pure ACK frame — a
 * write to the tap and a pass through the guest's stack — is saved. */
#define DELACK_US 1000
/* ... unless this much is unacknowledged (RFC 9293: every second full
 * segment), so that the guest's congestion window keeps growing. */
#define DELACK_BYTES_MAX (32 * 1024)

typedef enum {
	FLOW_CONNECTING,
	FLOW_SYN_RCVD,
	FLOW_ESTABLISHED,
} FlowState;

typedef struct {
	guint8 family;
	guint8 pad;
	guint16 guest_port;
	guint16 peer_port;
	guint16 pad2;
	uint8_t guest_addr[16];
	uint8_t peer_addr[16];
} FlowKey;

typedef struct {
	FlowKey key;
	TcpSegAddrs addrs;
	TcpRelay *relay;
	int fd;
	LoopEpollWatch watch;       /* fd in the loop's epoll set */
	FlowState state;
	gboolean dead;
	gboolean ack_owed;          /* data or FIN to acknowledge */
	gboolean ack_now;           /* ... and it cannot wait (see relay_settle) */
	gboolean ack_delayed;       /* in relay->delayed */

	/* guest → host */
	guint32 rcv_nxt;            /* next sequence number we expect */
	guint32 rcv_acked;          /* the last rcv_nxt we acknowledged */
	guint32 guest_isn;
	RelayRing to_host;
	gboolean guest_fin;
	gboolean host_shut;         /* shutdown(SHUT_WR) done */
	gboolean host_writable;
	guint8 rcv_wscale;          /* shift of the windows we advertise */

	/* host → guest */
	guint32 iss;
	guint32 snd_una;            /* first byte the guest has not acknowledged */
	guint32 sent;               /* bytes of to_guest sent (from snd_una on) */
	RelayRing to_guest;
	guint32 snd_wnd;            /* the guest's window, scaled */
	guint8 snd_wscale;
	gboolean wscale_ok;
	guint16 mss;                /* payload per segment to the guest */
	guint32 gso_max;            /* payload per frame: whole MSS multiples */
	gboolean host_readable;
	gboolean host_eof;
	gboolean host_rdhup;        /* epoll saw the host's FIN (EPOLLRDHUP) */
	gboolean fin_sent;
	gboolean fin_acked;
	guint dupacks;
	gint64 rto_at;              /* µs, monotonic; 0 = not armed */
	guint rto_ms;
	guint retries;
} Flow;

struct TcpRelay {
	GMainContext *ctx;
	int tap_fd;
	guint mtu;
	GSource *source;
	LoopEpollQueue *events;     /* host socket events, from the loop's epoll */
	GSource *timer;
	GHashTable *flows;          /* FlowKey * → Flow * */
	GPtrArray *owed;            /* Flow * owing the guest an ACK */
	GPtrArray *delayed;         /* Flow * whose ACK waits for ack_deadline */
	gint64 ack_deadline;        /* µs, monotonic; 0 = no delayed ACK */
	GPtrArray *dead;            /* Flow * closed, freed at the end of a dispatch */
	RelayRingBudget budget;     /* all rings' capacity, ≤ TCP_RELAY_BUDGET */
	guint16 ip_id;
	guint64 total;
	uint8_t hdr[TCP_SEG_HDR_MAX];
};

typedef struct {
	GSource base;
	TcpRelay *relay;
} RelaySource;

static void flow_push(Flow *f);

/* ---- frames to the guest -------------------------------------------------- */

/* The window we advertise: what to_host may still take. */
static guint32
flow_rcv_window(const Flow *f)
{
	const TcpRelay *r = f->relay;
	guint32 limit = TCP_RELAY_BUF_MAX;

	if (r->budget.used >= r->budget.max)
		limit = MAX(f->to_host.cap, (guint32)RELAY_RING_MIN);
	return limit > f->to_host.len ? limit - f->to_host.len : 0;
}

static guint32
flow_snd_nxt(const Flow *f)
{
	return f->snd_una + f->sent + (f->fin_sent && !f->fin_acked ? 1 : 0);
}

/* Send one segment with PAYLOAD (N bytes) at SEQ; more than one MSS goes
 * as one GSO frame the guest's kernel takes as N / mss segments.  A full
 * tap queue drops it, like a lost frame: the retransmission timer covers
 * both. */
static void
flow_emit(Flow *f, guint8 flags, guint32 seq, const uint8_t *payload, guint32 n)
{
	TcpRelay *r = f->relay;
	guint32 wnd = flow_rcv_window(f);
	TcpSegOut o = {
		.seq = seq,
		.ack = f->rcv_nxt,
		.flags = flags,
		.wscale = -1,
		.ip_id = r->ip_id++,
	};
	struct virtio_net_hdr vh = { 0 };
	struct iovec iov[3];
	size_t hl;
	ssize_t w;

	o.csum_partial = n > f->mss;
	if (flags & TCP_SEG_SYN) {
		/* RFC 7323 §2.2: the window of a SYN is never scaled. */
		o.window = (guint16)MIN(wnd, 65535u);
		o.mss = (guint16)MIN(r->mtu - tcp_seg_ip_overhead(f->addrs.family), 65535u);
		o.wscale = f->wscale_ok ? f->rcv_wscale : -1;
	} else {
		o.window = (guint16)MIN(wnd >> f->rcv_wscale, 65535u);
	}
	hl = tcp_seg_build(r->hdr, &f->addrs, &o, payload, n);
	if (!hl)
		return;
	if (o.csum_partial) {
		vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		vh.gso_type = f->addrs.family == AF_INET6 ? VIRTIO_NET_HDR_GSO_TCPV6
							   : VIRTIO_NET_HDR_GSO_TCPV4;
		vh.hdr_len = (guint16)hl;
		vh.gso_size = f->mss;
		vh.csum_start = (guint16)(hl - FRAME_TCP_HLEN);   /* no options on data */
		vh.csum_offset = 16;                              /* tcphdr.check */
	}
	iov[0].iov_base = &vh;
	iov[0].iov_len = TAP_VNET_HLEN;
	iov[1].iov_base = r->hdr;
	iov[1].iov_len = hl;
	iov[2].iov_base = (void *)payload;
	iov[2].iov_len = n;
	do
		w = writev(r->tap_fd, iov, n ? 3 : 2);
	while (w < 0 && errno == EINTR);
	if (flags & TCP_SEG_ACK) {
		f->ack_owed = FALSE;
		f->ack_now = FALSE;
		f->rcv_acked = f->rcv_nxt;
	}
}

static void
relay_tick_ensure(TcpRelay *r);

static void
flow_arm_rto(Flow *f)
{
	if (!f->rto_at) {
		f->rto_at = g_get_monotonic_time() + (gint64)f->rto_ms * 1000;
		relay_tick_ensure(f->relay);
	}
}

/* Owe the guest an ACK, sent at the end of this dispatch — or, for a
 * small amount of data (not NOW), a little later if nothing else carries
 * it first. */
static void
flow_owe_ack(Flow *f, gboolean now)
{
	f->ack_now = f->ack_now || now;
	if (!f->ack_owed) {
		f->ack_owed = TRUE;
		g_ptr_array_add(f->relay->owed, f);
	}
}

/* ---- life and death --------------------------------------------------------- */

/* Close FLOW.  RST_GUEST: tell the guest (the host side failed); otherwise
 * the guest reset it or both sides finished.  RST_HOST: abort the host
 * connection (SO_LINGER 0) instead of closing it in order. */
static void
flow_close(Flow *f, gboolean rst_guest, gboolean rst_host)
{
	TcpRelay *r = f->relay;

	if (f->dead)
		return;
	if (rst_guest)
		flow_emit(f, TCP_SEG_RST | TCP_SEG_ACK, flow_snd_nxt(f), NULL, 0);
	if (f->fd >= 0) {
		if (rst_host) {
			struct linger lg = { .l_onoff = 1, .l_linger = 0 };

			setsockopt(f->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
		}
		sbx_close_fdp(&f->fd);
	}
	f->dead = TRUE;
	g_hash_table_remove(r->flows, &f->key);
	g_ptr_array_add(r->dead, f);
}

static void
flow_free(Flow *f)
{
	loop_epoll_queue_forget(f->relay->events, f);
	if (f->ack_delayed)
		g_ptr_array_remove_fast(f->relay->delayed, f);
	relay_ring_release(&f->to_host, &f->relay->budget);
	relay_ring_release(&f->to_guest, &f->relay->budget);
	g_free(f);
}

/* Both directions finished and our FIN acknowledged: close in order. */
static void
flow_maybe_done(Flow *f)
{
	if (!f->dead && f->guest_fin && f->host_shut && f->fin_acked)
		flow_close(f, FALSE, FALSE);
}

/* Send the ACKs owed — the ones that may wait go to the delayed list —
 * and free the flows closed in this dispatch. */
static void
relay_settle(TcpRelay *r)
{
	for (guint i = 0; i < r->owed->len; i++) {
		Flow *f = g_ptr_array_index(r->owed, i);
		guint32 unacked = f->rcv_nxt - f->rcv_acked;

		if (f->dead || !f->ack_owed)
			continue;
		if (f->ack_now || unacked >= MIN(2u * f->mss, (guint32)DELACK_BYTES_MAX)) {
			flow_emit(f, TCP_SEG_ACK, flow_snd_nxt(f), NULL, 0);
			continue;
		}
		if (!f->ack_delayed) {
			f->ack_delayed = TRUE;
			g_ptr_array_add(r->delayed, f);
		}
		if (!r->ack_deadline)
			r->ack_deadline = g_get_monotonic_time() + DELACK_US;
	}
	g_ptr_array_set_size(r->owed, 0);
	for (guint i = 0; i < r->dead->len; i++)
		flow_free(g_ptr_array_index(r->dead, i));
	g_ptr_array_set_size(r->dead, 0);
}

/* ---- guest → host ------------------------------------------------------------ */

/* The host socket failed: reset the guest's side. */
static void
flow_host_failed(Flow *f, int err)
{
	sbx_debug("tcp relay: host connection to port %u: %s", f->addrs.peer_port,
		  g_strerror(err));
	flow_close(f, TRUE, TRUE);
}

/* Write to_host into the host socket until it is empty or the socket full;
 * then half-close if the guest finished.  FALSE if the flow died. */
static gboolean
flow_drain_to_host(Flow *f)
{
	while (f->to_host.len && f->host_writable) {
		struct iovec iov[2];
		guint32 n0;
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 1 };
		ssize_t k;

		iov[0].iov_base = relay_ring_span(&f->to_host, 0, &n0);
		iov[0].iov_len = n0;
		if (n0 < f->to_host.len) {
			iov[1].iov_base = f->to_host.data;
			iov[1].iov_len = f->to_host.len - n0;
			mh.msg_iovlen = 2;
		}
		k = sendmsg(f->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			f->host_writable = FALSE;
			break;
		}
		if (k < 0) {
			flow_host_failed(f, errno);
			return FALSE;
		}
		if ((guint32)k < f->to_host.len)
			f->host_writable = FALSE;
		relay_ring_consume(&f->to_host, (guint32)k);
	}
	if (!f->to_host.len && f->guest_fin && !f->host_shut) {
		shutdown(f->fd, SHUT_WR);
		f->host_shut = TRUE;
	}
	return TRUE;
}

/* Take N bytes of guest data at P: straight into the host socket when
 * nothing is queued before them, else (or for the rest) into to_host.
 * Returns the bytes taken — all of them unless to_host is full — or -1 if
 * the flow died. */
static gssize
flow_take_data(Flow *f, const uint8_t *p, guint32 n)
{
	guint32 taken = 0;
	guint32 room;

	if (!f->to_host.len && f->host_writable) {
		ssize_t k;

		do
			k = send(f->fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		while (k < 0 && errno == EINTR);
		if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			flow_host_failed(f, errno);
			return -1;
		}
		taken = k > 0 ? (guint32)k : 0;
		if (taken < n)
			f->host_writable = FALSE;
	}
	if (taken < n) {
		room = relay_ring_reserve(&f->to_host, &f->relay->budget, n - taken,
					  TCP_RELAY_BUF_MAX);
		room = MIN(room, n - taken);
		relay_ring_append(&f->to_host, p + taken, room);
		taken += room;
	}
	return taken;
}

/* The sequence-number side of a guest segment: data and FIN. */
static void
flow_on_guest_data(Flow *f, const TcpSeg *s)
{
	const uint8_t *p = s->payload;
	guint32 n = (guint32)s->payload_len;
	guint32 seq = s->seq;
	gboolean fin = (s->flags & TCP_SEG_FIN) != 0;
	gssize took;

	if (!n && !fin)
		return;
	if (TCP_SEQ_LT(seq, f->rcv_nxt)) {
		guint32 skip = f->rcv_nxt - seq;

		/* a retransmission of what we have: tell the guest again */
		if (skip > n || (skip == n && !fin)) {
			flow_owe_ack(f, TRUE);
			return;
		}
		p += skip;
		n -= skip;
		seq = f->rcv_nxt;
	}
	/* out of order (a frame before it was lost), or after the FIN: a
	 * duplicate ACK at once, which makes the guest retransmit */
	if (seq != f->rcv_nxt || f->guest_fin) {
		flow_owe_ack(f, TRUE);
		return;
	}
	flow_owe_ack(f, fin);
	if (n) {
		took = flow_take_data(f, p, n);
		if (took < 0)
			return;
		f->rcv_nxt += (guint32)took;
		if ((guint32)took < n)
			fin = FALSE;
	}
	if (fin) {
		f->rcv_nxt++;
		f->guest_fin = TRUE;
		if (!f->to_host.len && !f->host_shut) {
			shutdown(f->fd, SHUT_WR);
			f->host_shut = TRUE;
		}
	}
}

/* ---- host → guest ------------------------------------------------------------ */

/* Go back to the first unacknowledged byte (timeout, 3 duplicate ACKs). */
static void
flow_rewind(Flow *f)
{
	f->sent = 0;
	if (!f->fin_acked)
		f->fin_sent = FALSE;
	f->dupacks = 0;
}

/* Read from the host socket into to_guest, at most ROOM bytes.  Returns
 * what was read; sets host_eof / clears host_readable on the way. */
static guint32
flow_read_host(Flow *f, guint32 room)
{
	struct iovec iov[2];
	struct msghdr mh = { .msg_iov = iov };
	guint32 space = relay_ring_reserve(&f->to_guest, &f->relay->budget, room,
					    TCP_RELAY_BUF_MAX);
	ssize_t k;
	int niov;

	if (!space)
		return 0;
	/* only what can go out now; the rest waits in the host socket */
	niov = relay_ring_free_iov(&f->to_guest, iov);
	if (iov[0].iov_len >= room) {
		iov[0].iov_len = room;
		niov = 1;
	} else if (niov == 2 && iov[0].iov_len + iov[1].iov_len > room) {
		iov[1].iov_len = room - iov[0].iov_len;
	}
	mh.msg_iovlen = (size_t)niov;
	do
		k = recvmsg(f->fd, &mh, MSG_DONTWAIT);
	while (k < 0 && errno == EINTR);
	if (k < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			f->host_readable = FALSE;
			return 0;
		}
		flow_host_failed(f, errno);
		return 0;
	}
	if (k == 0) {
		f->host_eof = TRUE;
		return 0;
	}
	/* Short of what was asked: the socket was empty at that moment, and
	 * the next data to arrive raises a new edge — but a FIN that came
	 * with this data raises none: then read on until recv says 0. */
	if ((size_t)k < MIN(space, room) && !f->host_rdhup)
		f->host_readable = FALSE;
	relay_ring_commit(&f->to_guest, (guint32)k);
	return (guint32)k;
}

/* Send what the guest's window allows, reading from the host socket as
 * needed; then the FIN once the host finished and everything is out. */
static void
flow_push(Flow *f)
{
	if (f->dead || f->state != FLOW_ESTABLISHED)
		return;
	for (;;) {
		guint32 window_room = f->snd_wnd > f->sent ? f->snd_wnd - f->sent : 0;
		guint32 unsent = f->to_guest.len - f->sent;

		while (unsent && window_room) {
			guint32 span;
			const uint8_t *p = relay_ring_span(&f->to_guest, f->sent, &span);
			guint32 n = MIN(MIN(span, window_room), f->gso_max);

			flow_emit(f, TCP_SEG_ACK | (n == unsent ? TCP_SEG_PSH : 0),
				  f->snd_una + f->sent, p, n);
			f->sent += n;
			unsent -= n;
			window_room -= n;
			flow_arm_rto(f);
		}
		if (unsent || f->host_eof || !f->host_readable || f->dead)
			break;
		/* Read what can go out now.  With the guest's window shut and
		 * nothing held, one byte: the probe that keeps asking for the
		 * window (a window update the guest sends can be lost). */
		if (window_room) {
			if (!flow_read_host(f, window_room))
				break;
		} else if (!f->snd_wnd && !f->to_guest.len) {
			flow_read_host(f, 1);
			break;
		} else {
			break;
		}
	}
	if (f->dead)
		return;
	if (f->host_eof && !f->fin_sent && f->sent == f->to_guest.len) {
		flow_emit(f, TCP_SEG_FIN | TCP_SEG_ACK, f->snd_una + f->sent, NULL, 0);
		f->fin_sent = TRUE;
		flow_arm_rto(f);
	}
	/* the guest's window is shut with data waiting: probe it */
	if (!f->snd_wnd && f->to_guest.len > f->sent)
		flow_arm_rto(f);
}

/* The acknowledgement side of a guest segment. */
static void
flow_on_guest_ack(Flow *f, const TcpSeg *s)
{
	guint32 acked = s->ack - f->snd_una;
	guint32 nxt = flow_snd_nxt(f);
	guint32 wnd = f->wscale_ok ? (guint32)s->window << f->snd_wscale : s->window;

	if (TCP_SEQ_GT(s->ack, nxt) || TCP_SEQ_LT(s->ack, f->snd_una))
		return;
	if (acked) {
		guint32 data = MIN(acked, f->sent);

		if (acked > f->sent && f->fin_sent)
			f->fin_acked = TRUE;
		relay_ring_consume(&f->to_guest, data);
		f->sent -= data;
		f->snd_una = s->ack;
		f->dupacks = 0;
		f->retries = 0;
		f->rto_ms = RTO_MIN_MS;
		f->rto_at = 0;
		if (f->sent || (f->fin_sent && !f->fin_acked))
			flow_arm_rto(f);
	} else if (f->sent && !s->payload_len && wnd == f->snd_wnd &&
		   !(s->flags & (TCP_SEG_FIN | TCP_SEG_SYN)) && ++f->dupacks == 3) {
		flow_rewind(f);
	}
	f->snd_wnd = wnd;
}

/* ---- opening ------------------------------------------------------------------- */

static void
flow_key_from_seg(FlowKey *k, const TcpSeg *s)
{
	guint alen = s->family == AF_INET6 ? 16 : 4;

	memset(k, 0, sizeof *k);
	k->family = (guint8)s->family;
	k->guest_port = s->sport;
	k->peer_port = s->dport;
	memcpy(k->guest_addr, s->saddr, alen);
	memcpy(k->peer_addr, s->daddr, alen);
}

/* Answer a SYN we cannot relay with a RST, without a flow. */
static void
relay_refuse(TcpRelay *r, const TcpSeg *s)
{
	Flow tmp;

	memset(&tmp, 0, sizeof tmp);
	tmp.relay = r;
	tmp.fd = -1;
	tmp.addrs.family = s->family;
	memcpy(tmp.addrs.guest_mac, s->eth_src, 6);
	memcpy(tmp.addrs.gw_mac, s->eth_dst, 6);
	memcpy(tmp.addrs.guest_addr, s->saddr, s->family == AF_INET6 ? 16 : 4);
	memcpy(tmp.addrs.peer_addr, s->daddr, s->family == AF_INET6 ? 16 : 4);
	tmp.addrs.guest_port = s->sport;
	tmp.addrs.peer_port = s->dport;
	tmp.rcv_nxt = s->seq + 1;
	flow_emit(&tmp, TCP_SEG_RST | TCP_SEG_ACK, 0, NULL, 0);
}

/* A SYN from the guest: connect a host socket; the SYN|ACK follows when it
 * is connected. */
static void
relay_open(TcpRelay *r, const TcpSeg *s, const struct sockaddr_storage *sa, socklen_t salen)
{
	static const int one = 1;
	autoclose int fd = -1;
	Flow *f;
	int ret;
	guint16 mss = s->mss ? s->mss : MSS_DEFAULT;

	if (g_hash_table_size(r->flows) >= FLOWS_MAX) {
		sbx_debug("tcp relay: %u connections open, refusing another", FLOWS_MAX);
		relay_refuse(r, s);
		return;
	}
	fd = socket(s->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		sbx_debug("tcp relay: socket: %s", g_strerror(errno));
		relay_refuse(r, s);
		return;
	}
	/* The guest's own stack already decided when to send: do not delay
	 * its segments again (slirp does the same). */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(fd, (const struct sockaddr *)sa, salen) < 0 && errno != EINPROGRESS) {
		sbx_debug("tcp relay: connect to port %u: %s", s->dport, g_strerror(errno));
		relay_refuse(r, s);
		return;
	}

	f = g_new0(Flow, 1);
	f->relay = r;
	flow_key_from_seg(&f->key, s);
	f->addrs.family = s->family;
	memcpy(f->addrs.guest_mac, s->eth_src, 6);
	memcpy(f->addrs.gw_mac, s->eth_dst, 6);
	memcpy(f->addrs.guest_addr, f->key.guest_addr, 16);
	memcpy(f->addrs.peer_addr, f->key.peer_addr, 16);
	f->addrs.guest_port = s->sport;
	f->addrs.peer_port = s->dport;
	f->state = FLOW_CONNECTING;
	f->guest_isn = s->seq;
	f->rcv_nxt = s->seq + 1;
	f->wscale_ok = s->has_wscale;
	f->snd_wscale = s->has_wscale ? s->wscale : 0;
	f->rcv_wscale = s->has_wscale ? RELAY_WSCALE : 0;
	f->snd_wnd = s->window;
	f->mss = (guint16)MIN((guint)mss, r->mtu - tcp_seg_ip_overhead(s->family));
	f->mss = MAX(f->mss, 8);
	/* as many whole segments as one IP packet holds */
	f->gso_max = (s->family == AF_INET6 ? TCP_SEG_PAYLOAD_MAX6 : TCP_SEG_PAYLOAD_MAX4) /
		     f->mss * f->mss;
	f->iss = g_random_int();
	f->snd_una = f->iss;
	f->rto_ms = RTO_MIN_MS;
	f->host_writable = TRUE;
	f->host_readable = TRUE;
	f->watch.queue = r->events;
	f->watch.data = f;
	/* edge-triggered: nothing to re-arm per event (host_readable /
	 * host_writable remember where the last recv/send stopped) */
	ret = loop_epoll_watch_add(&f->watch, fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET);
	if (ret < 0) {
		sbx_debug("tcp relay: watch socket: %s", g_strerror(-ret));
		relay_refuse(r, s);
		g_free(f);
		return;
	}
	f->fd = sbx_steal_fd(&fd);
	g_hash_table_insert(r->flows, &f->key, f);
	r->total++;
}

static void
flow_send_synack(Flow *f)
{
	flow_emit(f, TCP_SEG_SYN | TCP_SEG_ACK, f->iss, NULL, 0);
	flow_arm_rto(f);
}

/* The host socket's connect() finished, for better or worse. */
static void
flow_on_connected(Flow *f)
{
	int err = 0;
	socklen_t elen = sizeof err;

	if (getsockopt(f->fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
		err = errno;
	if (err) {
		flow_host_failed(f, err);
		return;
	}
	f->state = FLOW_SYN_RCVD;
	flow_send_synack(f);
}

/* ---- events ------------------------------------------------------------------- */

static void
flow_on_host_event(Flow *f, guint32 events)
{
	if (f->state == FLOW_CONNECTING) {
		if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
			flow_on_connected(f);
		return;
	}
	if (events & EPOLLERR) {
		int err = 0;
		socklen_t elen = sizeof err;

		getsockopt(f->fd, SOL_SOCKET, SO_ERROR, &err, &elen);
		if (err) {
			flow_host_failed(f, err);
			return;
		}
	}
	if (events & EPOLLOUT) {
		guint32 before = flow_rcv_window(f);
		guint32 after;

		f->host_writable = TRUE;
		if (!flow_drain_to_host(f))
			return;
		/* the window opened by half its size, or from below one
		 * segment: tell the guest, it may be waiting for it */
		after = flow_rcv_window(f);
		if (after > before &&
		    (after - before >= TCP_RELAY_BUF_MAX / 2 || before < f->mss))
			flow_owe_ack(f, TRUE);
	}
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP))
		f->host_readable = TRUE;
	if (events & (EPOLLRDHUP | EPOLLHUP))
		f->host_rdhup = TRUE;
	flow_push(f);
	flow_maybe_done(f);
}

/* A flow's retransmission (or window-probe) timer ran out. */
static void
flow_on_timeout(Flow *f)
{
	f->rto_at = 0;
	if (++f->retries > RETRIES_MAX) {
		sbx_debug("tcp relay: guest stopped answering on port %u, resetting",
			  f->addrs.peer_port);
		flow_close(f, TRUE, TRUE);
		return;
	}
	f->rto_ms = MIN(f->rto_ms * 2, (guint)RTO_MAX_MS);
	if (f->state == FLOW_SYN_RCVD) {
		flow_send_synack(f);
		return;
	}
	if (f->state != FLOW_ESTABLISHED)
		return;
	if (f->sent || (f->fin_sent && !f->fin_acked)) {
		flow_rewind(f);
	} else if (!f->snd_wnd && f->to_guest.len) {
		/* zero-window probe: one byte past the window (RFC 9293 §3.8.6.1) */
		guint32 span;
		const uint8_t *p = relay_ring_span(&f->to_guest, 0, &span);

		flow_emit(f, TCP_SEG_ACK, f->snd_una, p, 1);
		f->sent = 1;
	}
	flow_push(f);
	if (!f->dead)
		flow_arm_rto(f);
}

/* Retransmission and window-probe timer, running only while some flow has
 * a timer armed: an idle relay makes no wake-ups. */
static gboolean
relay_on_tick(gpointer data)
{
	TcpRelay *r = data;
	gint64 now = g_get_monotonic_time();
	g_autoptr(GPtrArray) due = g_ptr_array_new();
	gboolean armed = FALSE;
	GHashTableIter it;
	gpointer v;

	/* Collect first: a timeout may close flows, i.e. change the table. */
	g_hash_table_iter_init(&it, r->flows);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		Flow *f = v;

		if (f->rto_at && now >= f->rto_at)
			g_ptr_array_add(due, f);
	}
	for (guint i = 0; i < due->len; i++)
		flow_on_timeout(g_ptr_array_index(due, i));
	relay_settle(r);
	g_hash_table_iter_init(&it, r->flows);
	while (!armed && g_hash_table_iter_next(&it, NULL, &v))
		armed = ((Flow *)v)->rto_at != 0;
	if (armed)
		return G_SOURCE_CONTINUE;
	g_clear_pointer(&r->timer, g_source_unref);
	return G_SOURCE_REMOVE;
}

static void
relay_tick_ensure(TcpRelay *r)
{
	if (r->timer)
		return;
	r->timer = g_timeout_source_new(TICK_MS);
	g_source_set_name(r->timer, "tcp-relay-timer");
	g_source_set_callback(r->timer, relay_on_tick, r, NULL);
	g_source_attach(r->timer, r->ctx);
}

/* Send the delayed ACKs still owed. */
static void
relay_send_delayed(TcpRelay *r)
{
	for (guint i = 0; i < r->delayed->len; i++) {
		Flow *f = g_ptr_array_index(r->delayed, i);

		f->ack_delayed = FALSE;
		if (!f->dead && f->ack_owed)
			flow_emit(f, TCP_SEG_ACK, flow_snd_nxt(f), NULL, 0);
	}
	g_ptr_array_set_size(r->delayed, 0);
	r->ack_deadline = 0;
}

/* Does a flow on the delayed list still owe its ACK? */
static gboolean
relay_delayed_owed(const TcpRelay *r)
{
	for (guint i = 0; i < r->delayed->len; i++) {
		const Flow *f = g_ptr_array_index(r->delayed, i);

		if (!f->dead && f->ack_owed)
			return TRUE;
	}
	return FALSE;
}

static gboolean
relay_source_prepare(GSource *base, gint *timeout)
{
	TcpRelay *r = ((RelaySource *)base)->relay;
	gint64 left;

	*timeout = -1;
	if (loop_epoll_queue_pending(r->events))
		return TRUE;
	if (!r->ack_deadline)
		return FALSE;
	/* Usually the reply carried the delayed ACKs already: then there is
	 * no deadline to wake up for (a timed wait arms a timer, and its
	 * expiry is a wake-up with nothing to do). */
	if (!relay_delayed_owed(r)) {
		relay_send_delayed(r);
		return FALSE;
	}
	left = r->ack_deadline - g_get_monotonic_time();
	if (left <= 0)
		return TRUE;
	*timeout = (gint)((left + 999) / 1000);
	return FALSE;
}

static gboolean
relay_source_check(GSource *base)
{
	TcpRelay *r = ((RelaySource *)base)->relay;

	return loop_epoll_queue_pending(r->events) ||
	       (r->ack_deadline && g_get_monotonic_time() >= r->ack_deadline);
}

static gboolean
relay_source_dispatch(GSource *base, GSourceFunc cb, gpointer data)
{
	RelaySource *rs = (RelaySource *)base;
	struct epoll_event ev[EPOLL_BATCH];
	guint n;

	/* A flow closed by an earlier event stays allocated (dead) until
	 * relay_settle; a flow freed before this dispatch had its events
	 * taken out of the queue by flow_free. */
	while ((n = loop_epoll_queue_take(rs->relay->events, ev, EPOLL_BATCH)) > 0) {
		for (guint i = 0; i < n; i++) {
			Flow *f = ev[i].data.ptr;

			if (!f->dead)
				flow_on_host_event(f, ev[i].events);
		}
	}
	if (rs->relay->ack_deadline && g_get_monotonic_time() >= rs->relay->ack_deadline)
		relay_send_delayed(rs->relay);
	relay_settle(rs->relay);
	return G_SOURCE_CONTINUE;
}

static GSourceFuncs relay_source_funcs = {
	.prepare = relay_source_prepare,
	.check = relay_source_check,
	.dispatch = relay_source_dispatch,
};

/* ---- public ------------------------------------------------------------------- */

static guint
flow_key_hash(gconstpointer p)
{
	const uint8_t *b = p;
	guint32 h = 2166136261u;

	for (size_t i = 0; i < sizeof(FlowKey); i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

static gboolean
flow_key_equal(gconstpointer a, gconstpointer b)
{
	return memcmp(a, b, sizeof(FlowKey)) == 0;
}

TcpRelay *
tcp_relay_new(GMainContext *ctx, int tap_fd, guint mtu)
{
	TcpRelay *r;

	ctx = ctx ? ctx : g_main_context_default();
	if (!loop_epoll_active(ctx)) {
		errno = ENOTSUP;
		return NULL;
	}
	r = g_new0(TcpRelay, 1);
	r->ctx = g_main_context_ref(ctx);
	r->tap_fd = tap_fd;
	r->mtu = mtu;
	r->budget.max = TCP_RELAY_BUDGET;
	r->flows = g_hash_table_new(flow_key_hash, flow_key_equal);
	r->owed = g_ptr_array_new();
	r->delayed = g_ptr_array_new();
	r->dead = g_ptr_array_new();
	r->events = loop_epoll_queue_new();
	r->source = g_source_new(&relay_source_funcs, sizeof(RelaySource));
	g_source_set_name(r->source, "tcp-relay");
	((RelaySource *)r->source)->relay = r;
	/* no block/unblock (and wakeup-fd signal) around each dispatch; see
	 * slirp-source.c */
	g_source_set_can_recurse(r->source, TRUE);
	g_source_attach(r->source, r->ctx);
	return r;
}

void
tcp_relay_free(TcpRelay *r)
{
	GHashTableIter it;
	gpointer v;

	if (!r)
		return;
	g_hash_table_iter_init(&it, r->flows);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		Flow *f = v;

		sbx_close_fdp(&f->fd);
		f->dead = TRUE;
		g_ptr_array_add(r->dead, f);
	}
	g_hash_table_remove_all(r->flows);
	g_ptr_array_set_size(r->owed, 0);
	relay_settle(r);
	if (r->timer) {
		g_source_destroy(r->timer);
		g_source_unref(r->timer);
	}
	if (r->source) {
		g_source_destroy(r->source);
		g_source_unref(r->source);
	}
	g_hash_table_unref(r->flows);
	g_ptr_array_unref(r->owed);
	g_ptr_array_unref(r->delayed);
	loop_epoll_queue_free(r->events);
	g_ptr_array_unref(r->dead);
	g_main_context_unref(r->ctx);
	g_free(r);
}

gboolean
tcp_relay_handle_frame(TcpRelay *r, const uint8_t *frame, size_t len)
{
	FrameInfo fi;
	TcpSeg s;
	FlowKey key;
	Flow *f;

	if (!frame_parse(frame, len, &fi) || fi.family == AF_UNSPEC ||
	    fi.l4proto != IPPROTO_TCP || !tcp_seg_parse(frame, len, &fi, &s))
		return FALSE;
	flow_key_from_seg(&key, &s);
	f = g_hash_table_lookup(r->flows, &key);
	if (!f) {
		struct sockaddr_storage sa;
		socklen_t salen;

		if ((s.flags & (TCP_SEG_SYN | TCP_SEG_ACK | TCP_SEG_RST | TCP_SEG_FIN)) != TCP_SEG_SYN)
			return FALSE;
		switch (tcp_seg_map_peer(&s, &sa, &salen)) {
		case TCP_SEG_PEER_RELAY:
			relay_open(r, &s, &sa, salen);
			return TRUE;
		case TCP_SEG_PEER_REFUSE:
			relay_refuse(r, &s);
			return TRUE;
		case TCP_SEG_PEER_SLIRP:
		default:
			return FALSE;
		}
	}
	if (s.flags & TCP_SEG_RST) {
		flow_close(f, FALSE, TRUE);
		return TRUE;
	}
	if (s.flags & TCP_SEG_SYN) {
		if (s.flags & TCP_SEG_ACK)
			return TRUE;
		if (s.seq == f->guest_isn) {
			/* retransmitted: our SYN|ACK may have been lost */
			if (f->state == FLOW_SYN_RCVD)
				flow_send_synack(f);
			return TRUE;
		}
		/* the guest reuses the ports for a new connection */
		flow_close(f, FALSE, TRUE);
		return tcp_relay_handle_frame(r, frame, len);
	}
	if (!(s.flags & TCP_SEG_ACK) || f->state == FLOW_CONNECTING)
		return TRUE;
	if (f->state == FLOW_SYN_RCVD) {
		if (s.ack != f->iss + 1)
			return TRUE;
		f->state = FLOW_ESTABLISHED;
		f->snd_una = f->iss + 1;
		f->rto_at = 0;
		f->retries = 0;
	}
	flow_on_guest_ack(f, &s);
	flow_on_guest_data(f, &s);
	if (f->dead)
		return TRUE;
	flow_push(f);
	flow_maybe_done(f);
	return TRUE;
}

void
tcp_relay_flush(TcpRelay *r)
{
	relay_settle(r);
}

guint
tcp_relay_active(const TcpRelay *r)
{
	return g_hash_table_size(r->flows);
}

guint64
tcp_relay_total(const TcpRelay *r)
{
	return r->total;
}
