/* SPDX-License-Identifier: MIT
 *
 * hostgate.h — which guest frames may reach the host's loopback.
 *
 * Pure code, no syscalls (unit test: tests/unit/test-hostgate.c).
 *
 * libslirp 4.7 maps guest connections to its own addresses onto the host's
 * loopback: 10.0.2.2 and 255.255.255.255 → 127.0.0.1, anything in fd00::/64
 * (and ff02::1) → ::1, on every port (src/socket.c sotranslate_out4/6).
 * `disable_host_loopback` closes all of it; there is no per-port switch, and
 * a guestfwd callback sees only one connection per forwarded port at a time
 * (slirp_socket_recv finds the connection by the guest-side address and
 * port).  So with --allow-host-port the launcher keeps slirp's mapping on and
 * gates every guest frame bound for those addresses here, before
 * slirp_input: a new TCP connection (SYN without ACK — the only segment that
 * makes slirp open a host socket, tcp_input.c) is let through only to a
 * listed port; UDP and fragments to them never pass; segments of existing
 * connections (replies on --publish connections, which come from 10.0.2.2)
 * pass, because slirp only matches them against sockets it already has.
 */
#pragma once

#include "net/frame.h"

#include <glib.h>
#include <stdint.h>

typedef enum {
	HOST_GATE_PASS = 0,   /* not for the host, or allowed: give it to slirp */
	HOST_GATE_DROP,       /* silently dropped */
	HOST_GATE_REJECT,     /* a refused TCP connect: answer with a RST */
} HostGateVerdict;

typedef struct HostGate HostGate;

/* PORTS: GArray of guint16 (the --allow-host-port list), may be NULL. */
HostGate *host_gate_new(const GArray *ports);
void host_gate_free(HostGate *g);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HostGate, host_gate_free)

/* TRUE if any port is open, i.e. slirp must keep its host-loopback mapping. */
gboolean host_gate_has_ports(const HostGate *g);

/* Verdict for one Ethernet frame from the guest, as frame_parse() found
 * it (FI; NULL when it could not be parsed: dropped).  Addresses are
 * slirp's: 10.0.2.0/24 with the resolver 10.0.2.3 and fd00::/64 with
 * fd00::3. */
HostGateVerdict host_gate_check(HostGate *g, const FrameInfo *fi);

/* Build into OUT (at least 14 + 40 + 20 bytes) a TCP RST|ACK answering the
 * TCP segment in FRAME (FI: what frame_parse() found in it; IPv4 or IPv6,
 * as seen by host_gate_check), with Ethernet and IP addresses and ports
 * swapped.  Returns its length, or 0 if FRAME is not a TCP segment it can
 * answer. */
size_t host_gate_build_rst(const uint8_t *frame, const FrameInfo *fi, uint8_t *out,
			   size_t out_size);

/* Frames refused so far (drops and rejects). */
guint64 host_gate_refused(const HostGate *g);
