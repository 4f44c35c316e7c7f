/* SPDX-License-Identifier: MIT
 *
 * tcp-relay.c — the guest's outbound TCP connections on host sockets (why
 * and what: tcp-relay.h; one connection's TCP: tcp-flow.c).  Here: the
 * table of flows, opening them on a guest's SYN, handing host socket
 * events to them, delayed ACKs and the retransmission timer.
 *
 * Host sockets are direct watches in the loop's own epoll set
 * (common/loop-epoll.h), edge-triggered so that nothing is re-armed per
 * event: `host_readable` / `host_writable` remember whether the last
 * recv/send stopped short of EAGAIN.  Their events are handled inside the
 * loop's wait (loop-epoll.h: dispatch inside the wait); the relay's GSource
 * is the delayed-ACK timer for the waits GLib begins.  Flows are freed only
 * at the end of
 * a dispatch (`dead` list): a batch of events may still name a flow that
 * an earlier event of the same batch closed; a flow freed between the wait
 * and the dispatch takes its queued events with it (flow_free).
 */
#include "net/relay/tcp-flow.h"
#include "net/frame.h"
#include "common/fdutil.h"
#include "common/log.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct {
	GSource base;
	TcpRelay *relay;
} RelaySource;

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
		if (!r->ack_deadline) {
			r->ack_deadline = g_get_monotonic_time() + DELACK_US;
			loop_epoll_queue_set_deadline(r->events, r->ack_deadline);
		}
	}
	g_ptr_array_set_size(r->owed, 0);
	for (guint i = 0; i < r->dead->len; i++)
		flow_free(g_ptr_array_index(r->dead, i));
	g_ptr_array_set_size(r->dead, 0);
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
	flow_gate_setup(f);
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

void
relay_tick_ensure(TcpRelay *r)
{
	if (r->timer)
		return;
	r->timer = g_timeout_source_new(TICK_MS);
	r->timer_new = TRUE;
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
	loop_epoll_queue_set_deadline(r->events, 0);
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

	return r->ack_deadline && g_get_monotonic_time() >= r->ack_deadline;
}

/* Handle the queued host socket events, a delayed-ACK deadline that has
 * passed, and the ACKs and closes that follow. */
static void
relay_run(TcpRelay *r)
{
	struct epoll_event ev[EPOLL_BATCH];
	guint n;

	/* A flow closed by an earlier event stays allocated (dead) until
	 * relay_settle; a flow freed before this dispatch had its events
	 * taken out of the queue by flow_free. */
	while ((n = loop_epoll_queue_take(r->events, ev, EPOLL_BATCH)) > 0) {
		for (guint i = 0; i < n; i++) {
			Flow *f = ev[i].data.ptr;

			if (!f->dead)
				flow_on_host_event(f, ev[i].events);
		}
	}
	if (r->ack_deadline && g_get_monotonic_time() >= r->ack_deadline)
		relay_send_delayed(r);
	relay_settle(r);
}

/* Did the relay attach a source since the loop last iterated?  (The loop
 * must then iterate to take it into its timeout.) */
static gboolean
relay_loop_changed(TcpRelay *r)
{
	gboolean changed = r->timer_new;

	r->timer_new = FALSE;
	return changed;
}

/* The delayed-ACK deadline passed (prepare/check). */
static gboolean
relay_source_dispatch(GSource *base, GSourceFunc cb, gpointer data)
{
	TcpRelay *r = ((RelaySource *)base)->relay;

	relay_send_delayed(r);
	relay_settle(r);
	r->timer_new = FALSE;
	return G_SOURCE_CONTINUE;
}

/* LoopEpollDispatchFunc: host socket events, inside the loop's wait. */
static gboolean
relay_dispatch_in_wait(LoopEpollQueue *q, gpointer data)
{
	TcpRelay *r = data;

	relay_run(r);
	/* what prepare() does: a deadline whose ACKs went out with data is
	 * no reason to wake up */
	if (r->ack_deadline && !relay_delayed_owed(r))
		relay_send_delayed(r);
	return relay_loop_changed(r);
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
	r->events = loop_epoll_queue_new(relay_dispatch_in_wait, r);
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
tcp_relay_handle_frame(TcpRelay *r, const uint8_t *frame, size_t len, const FrameInfo *fi)
{
	TcpSeg s;
	FlowKey key;
	Flow *f;

	if (fi->family == AF_UNSPEC || fi->l4proto != IPPROTO_TCP ||
	    !tcp_seg_parse(frame, len, fi, &s))
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
		return tcp_relay_handle_frame(r, frame, len, fi);
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

gboolean
tcp_relay_flush(TcpRelay *r)
{
	relay_settle(r);
	return relay_loop_changed(r);
}

void
tcp_relay_set_name_gate(TcpRelay *r, const EgressPolicy *policy, TcpRelayRefusedFunc on_refused,
			gpointer data)
{
	r->gate_policy = policy;
	r->on_refused = on_refused;
	r->refused_data = data;
}

guint64
tcp_relay_refused(const TcpRelay *r)
{
	return r->refused;
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
