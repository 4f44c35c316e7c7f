/* SPDX-License-Identifier: MIT
 *
 * tcp-flow.c — the TCP of one relayed connection (tcp-flow.h): segments to
 * the guest, what the guest sends and acknowledges, the host socket's data
 * both ways, retransmission and the orderly close.
 */
#include "net/relay/tcp-flow.h"
#include "net/relay/name-gate.h"
#include "net/frame.h"
#include "net/tap.h"
#include "common/fdutil.h"
#include "common/log.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

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

guint32
flow_snd_nxt(const Flow *f)
{
	return f->snd_una + f->sent + (f->fin_sent && !f->fin_acked ? 1 : 0);
}

/* Send one segment with PAYLOAD (N bytes) at SEQ; more than one MSS goes
 * as one GSO frame the guest's kernel takes as N / mss segments.  A full
 * tap queue drops it, like a lost frame: the retransmission timer covers
 * both. */
void
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
void
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

void
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
void
flow_maybe_done(Flow *f)
{
	if (!f->dead && f->guest_fin && f->host_shut && f->fin_acked)
		flow_close(f, FALSE, FALSE);
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
		/* the name gate holds all but what it let pass */
		guint32 avail = G_UNLIKELY(f->gate) ? f->gate_pass : f->to_host.len;

		if (!avail)
			break;
		iov[0].iov_base = relay_ring_span(&f->to_host, 0, &n0);
		n0 = MIN(n0, avail);
		iov[0].iov_len = n0;
		if (n0 < avail) {
			iov[1].iov_base = f->to_host.data;
			iov[1].iov_len = avail - n0;
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
		if ((guint32)k < avail)
			f->host_writable = FALSE;
		relay_ring_consume(&f->to_host, (guint32)k);
		if (G_UNLIKELY(f->gate))
			f->gate_pass -= (guint32)k;
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

	if (!f->to_host.len && f->host_writable && !f->gate) {
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
		/* what the name gate holds is bounded (sniff.h) */
		if (G_UNLIKELY(f->gate))
			room = MIN(room, f->gate_pass + SNIFF_HOLD_MAX - f->to_host.len);
		relay_ring_append(&f->to_host, p + taken, room);
		taken += room;
	}
	return taken;
}

/* ---- the name gate (name-gate.h) ----------------------------------------- */

void
flow_gate_setup(Flow *f)
{
	const TcpRelay *r = f->relay;

	f->gate = r->gate_policy && egress_policy_needs_name_check(r->gate_policy,
					f->key.family, f->key.peer_addr, f->addrs.peer_port)
		  ? FLOW_GATE_FIRST : FLOW_GATE_OFF;
	f->gate_pass = 0;
}

/* The decision is made and allows the connection: what was held goes out,
 * and from now on data takes the ungated path. */
static void
flow_gate_open(Flow *f)
{
	f->gate = FLOW_GATE_OFF;
	f->gate_pass = 0;
	flow_drain_to_host(f);
}

/* Reset both sides: the guest sees a RST at once, the host socket closes
 * (RST, SO_LINGER 0) without a byte of the guest's sent. */
static void
flow_gate_refuse(Flow *f, const NameGateDecision *d)
{
	TcpRelay *r = f->relay;

	r->refused++;
	sbx_debug("tcp relay: name gate refused port %u (%s, %s \"%s\")", f->addrs.peer_port,
		  d->reason, sniff_kind_name(d->sniff.kind), d->sniff.name);
	if (r->on_refused)
		r->on_refused(f->key.family, f->key.peer_addr, f->addrs.peer_port, d->reason,
			      d->sniff.name, r->refused_data);
	flow_close(f, TRUE, TRUE);
}

/* Did the server send something already?  Then it spoke first (SMTP,
 * FTP, …): chosen by address, not by a name the guest sent — and it heard
 * nothing of the guest's yet, which the gate still holds. */
static gboolean
flow_gate_host_spoke(Flow *f)
{
	char c;
	ssize_t k;

	do
		k = recv(f->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	while (k < 0 && errno == EINTR);
	return k > 0;
}

/* Judge what the gate holds: from gate_pass on, the bytes not let through
 * (all of them, or what follows a SOCKS5 greeting). */
static void
flow_gate_run(Flow *f)
{
	while (f->gate && !f->dead) {
		guint32 off = f->gate_pass;
		guint32 len = f->to_host.len - off;
		g_autofree uint8_t *copy = NULL;
		const uint8_t *buf;
		guint32 n0;
		NameGateDecision d;

		if (!len)
			return;
		if (f->gate == FLOW_GATE_FIRST && flow_gate_host_spoke(f)) {
			flow_gate_open(f);
			return;
		}
		/* the ring holds at least 64 KiB from its start and the gate
		 * at most 16 KiB more than it passed: one span, as a rule */
		buf = relay_ring_span(&f->to_host, off, &n0);
		if (n0 < len) {
			copy = g_malloc(len);
			memcpy(copy, buf, n0);
			memcpy(copy + n0, f->to_host.data, len - n0);
			buf = copy;
		}
		name_gate_decide(f->relay->gate_policy, f->addrs.peer_port,
				 f->gate == FLOW_GATE_SOCKS5, buf, len, &d);
		switch (d.verdict) {
		case NAME_GATE_HOLD:
			/* the guest finished without saying enough */
			if (f->guest_fin) {
				d.reason = "protocol";
				flow_gate_refuse(f, &d);
			}
			return;
		case NAME_GATE_ALLOW:
			flow_gate_open(f);
			return;
		case NAME_GATE_SOCKS5_HELLO:
			f->gate = FLOW_GATE_SOCKS5;
			f->gate_pass += (guint32)d.pass;
			if (!flow_drain_to_host(f))
				return;
			continue;    /* the request may be held already */
		case NAME_GATE_REFUSE:
		default:
			flow_gate_refuse(f, &d);
			return;
		}
	}
}

/* The sequence-number side of a guest segment: data and FIN. */
void
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
	if (G_UNLIKELY(f->gate))
		flow_gate_run(f);
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
	/* the server spoke before the guest sent a byte (flow_gate_host_spoke) */
	if (G_UNLIKELY(f->gate == FLOW_GATE_FIRST) && !f->to_host.len)
		f->gate = FLOW_GATE_OFF;
	return (guint32)k;
}

/* Send what the guest's window allows, reading from the host socket as
 * needed; then the FIN once the host finished and everything is out. */
void
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
void
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

void
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

void
flow_on_host_event(Flow *f, guint32 events)
{
	if (f->state == FLOW_CONNECTING) {
		/* A server that talks first may have sent its data and even
		 * its FIN by now, all in this one edge: remember the FIN, or
		 * the short read of the data ends the reading for good.
		 * (host_readable is TRUE from the start.) */
		if (events & (EPOLLRDHUP | EPOLLHUP))
			f->host_rdhup = TRUE;
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
void
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
