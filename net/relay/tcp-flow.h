/* SPDX-License-Identifier: MIT
 *
 * tcp-flow.h — inside the TCP relay (tcp-relay.h): one relayed connection
 * ("flow") and the relay that holds them.  Private to tcp-relay.c, which
 * opens flows, watches their sockets and runs their timers, and
 * tcp-flow.c, which is the TCP of one flow.
 *
 * One flow in three states:
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
 */
#pragma once

#include "net/relay/relay-ring.h"
#include "net/relay/tcp-relay.h"
#include "net/relay/tcp-seg.h"
#include "common/loop-epoll.h"

#include <glib.h>
#include <stdint.h>

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
 * write to the tap and a pass through the guest's stack — is saved.  The
 * launcher's timer slack (launcher.c) may add up to 4 ms. */
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

/* The name gate (name-gate.h) of a flow to a domain-only destination. */
typedef enum {
	FLOW_GATE_OFF,              /* decided, or never needed: today's path */
	FLOW_GATE_FIRST,            /* holding the guest's first bytes */
	FLOW_GATE_SOCKS5,           /* greeting passed; holding the request */
} FlowGate;

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
	FlowGate gate;              /* while on, to_host holds the guest's bytes */
	guint32 gate_pass;          /* bytes at to_host's start that may go out */

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
	gboolean timer_new;         /* attached since the loop last iterated */
	GHashTable *flows;          /* FlowKey * → Flow * */
	GPtrArray *owed;            /* Flow * owing the guest an ACK */
	GPtrArray *delayed;         /* Flow * whose ACK waits for ack_deadline */
	gint64 ack_deadline;        /* µs, monotonic; 0 = no delayed ACK */
	GPtrArray *dead;            /* Flow * closed, freed at the end of a dispatch */
	RelayRingBudget budget;     /* all rings' capacity, ≤ TCP_RELAY_BUDGET */
	guint16 ip_id;
	guint64 total;
	const EgressPolicy *gate_policy; /* NULL: no name gate */
	TcpRelayRefusedFunc on_refused;
	gpointer refused_data;
	guint64 refused;
	uint8_t hdr[TCP_SEG_HDR_MAX];
};

/* ---- tcp-flow.c: the TCP of one flow ---- */

/* The next sequence number the flow sends (data sent, plus an unacked FIN). */
guint32 flow_snd_nxt(const Flow *f);
/* Send one segment (FLAGS, SEQ, N bytes at PAYLOAD) to the guest. */
void flow_emit(Flow *f, guint8 flags, guint32 seq, const uint8_t *payload, guint32 n);
/* End F: RST_GUEST tells the guest, RST_HOST aborts the host connection;
 * F is freed at the next relay_settle. */
void flow_close(Flow *f, gboolean rst_guest, gboolean rst_host);
void flow_free(Flow *f);
/* Close F in order once both sides finished and our FIN is acknowledged. */
void flow_maybe_done(Flow *f);
/* A guest segment: its acknowledgement side, then its data and FIN. */
void flow_on_guest_ack(Flow *f, const TcpSeg *s);
void flow_on_guest_data(Flow *f, const TcpSeg *s);
/* Does the name gate apply to a new flow F (relay_open)? */
void flow_gate_setup(Flow *f);
/* Send what the guest's window allows, reading from the host as needed. */
void flow_push(Flow *f);
void flow_send_synack(Flow *f);
/* EVENTS (EPOLL*) on F's host socket. */
void flow_on_host_event(Flow *f, guint32 events);
/* F's retransmission or window-probe timer ran out. */
void flow_on_timeout(Flow *f);

/* ---- tcp-relay.c ---- */

/* Make sure the relay's timer runs (a flow armed rto_at). */
void relay_tick_ensure(TcpRelay *r);
