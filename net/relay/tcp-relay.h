/* SPDX-License-Identifier: MIT
 *
 * tcp-relay.h — the guest's outbound TCP connections, relayed onto host
 * sockets by the launcher itself instead of libslirp's TCP engine.
 *
 * Why the relay exists: libslirp 4.7 has no TCP window scaling and
 * caps segments at 32 KiB (tcp.h TCP_MAXSEG_MAX), so every connection
 * through it moves at most 64 KiB per round trip through the launcher, and
 * it answers every segment with an ACK frame.  The relay terminates the
 * guest's TCP in the launcher with window scaling and a window sized to
 * its own buffers, writes what the guest sends straight into a host socket
 * and sends what the host socket delivers as segments of the guest's MSS,
 * acknowledging once per batch of tap frames.  It keeps unacknowledged
 * data until the guest acknowledges it and retransmits on timeout or three
 * duplicate ACKs: the tap can drop frames when the guest's queue is full.
 *
 * What it takes: a SYN from the guest (no ACK), already let through by the
 * host gate and the egress policy, to any address but slirp's own network
 * — except the gateway (10.0.2.2, fd00::/64 apart from the resolver), which
 * maps onto the host's loopback as in slirp.  Everything else — inbound
 * --publish connections, TCP to the resolver address, segments of no
 * relayed connection — stays with slirp (tcp_relay_handle_frame returns
 * FALSE).  A refused or failed connect answers the guest with a RST.
 *
 * Memory: each connection buffers at most TCP_RELAY_BUF_MAX bytes each way
 * (the window it advertises and the data in flight to the guest), and all
 * connections together at most TCP_RELAY_BUDGET; past that budget windows
 * shrink to what is already allocated.
 */
#pragma once

#include "net/frame.h"
#include "net/policy.h"

#include <glib.h>
#include <stdint.h>

#define TCP_RELAY_BUF_MAX (1024 * 1024)
#define TCP_RELAY_BUDGET (128 * 1024 * 1024)

typedef struct TcpRelay TcpRelay;

/* A relay writing its frames to the (non-blocking) tap fd TAP_FD for a
 * guest link of MTU, dispatched on CTX. */
TcpRelay *tcp_relay_new(GMainContext *ctx, int tap_fd, guint mtu);
void tcp_relay_free(TcpRelay *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TcpRelay, tcp_relay_free)

/* Offer one Ethernet frame from the guest (LEN bytes at FRAME, FI: what
 * frame_parse() found in it) that the host gate and the egress policy let
 * through.  TRUE when the relay took it (a segment of a relayed connection,
 * or a SYN that starts one); FALSE to give it to slirp. */
gboolean tcp_relay_handle_frame(TcpRelay *r, const uint8_t *frame, size_t len,
				const FrameInfo *fi);

/* End of a batch of guest frames: send the ACKs owed for them.  TRUE if
 * the relay attached a GLib source since the last call (a caller inside
 * the loop's wait must let the context iterate: loop-epoll.h). */
gboolean tcp_relay_flush(TcpRelay *r);

/* A connection the name gate refused: to ADDR (FAMILY, network order)
 * PORT; REASON "sni", "host", "socks" or "protocol"; NAME the name the
 * guest's bytes carried ("" when none). */
typedef void (*TcpRelayRefusedFunc)(int family, const uint8_t *addr, guint16 port,
				    const char *reason, const char *name, gpointer data);

/* Turn on the name gate (name-gate.h): a new connection to a destination
 * POLICY admitted only through a domain entry holds the guest's bytes
 * until they name an allowed host, and is reset otherwise, reported
 * through ON_REFUSED.  POLICY is borrowed and outlives R. */
void tcp_relay_set_name_gate(TcpRelay *r, const EgressPolicy *policy,
			     TcpRelayRefusedFunc on_refused, gpointer data);

/* Connections the name gate refused since the start. */
guint64 tcp_relay_refused(const TcpRelay *r);

/* Connections relayed now / since the start. */
guint tcp_relay_active(const TcpRelay *r);
guint64 tcp_relay_total(const TcpRelay *r);
