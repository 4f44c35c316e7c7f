/* SPDX-License-Identifier: MIT
 *
 * name-gate.h — the TCP relay's name gate (issue 13): may the first bytes
 * a guest sends on a connection go to a destination that the allowlist
 * admitted only through a domain entry?
 *
 * Why: a domain entry becomes a set of addresses, and CDNs and proxies
 * serve thousands of sites on one address, choosing the site by the name
 * the client sends.  The relay (tcp-flow.c) holds such a connection's
 * bytes — nothing goes upstream — until name_gate_decide() says what they
 * carry: the TLS server name, the HTTP Host, the target of a CONNECT or
 * SOCKS request must match a domain entry for the port (policy.h
 * egress_policy_name_allowed); SSH, which carries no name, passes; anything
 * else, or no name, is refused.  Pure: no I/O; the parser is sniff.h.
 */
#pragma once

#include "net/policy.h"
#include "net/relay/sniff.h"

#include <glib.h>
#include <stdint.h>

typedef enum {
	NAME_GATE_HOLD,         /* not decidable yet: hold the bytes, wait for more */
	NAME_GATE_ALLOW,        /* forward everything; the gate is done */
	NAME_GATE_REFUSE,       /* reset the connection; nothing went upstream */
	NAME_GATE_SOCKS5_HELLO, /* forward `pass` bytes (the greeting), then judge
				 * what follows with SOCKS5_REQUEST set */
} NameGateVerdict;

typedef struct {
	NameGateVerdict verdict;
	const char *reason;     /* REFUSE: "sni", "host", "socks" or "protocol" */
	SniffResult sniff;      /* what the bytes said (sniff.name: the name seen) */
	size_t pass;            /* SOCKS5_HELLO: bytes to forward */
} NameGateDecision;

/* Judge the LEN bytes at BUF, everything the guest sent so far on a
 * connection to port PORT (after a forwarded SOCKS5 greeting when
 * SOCKS5_REQUEST), against policy P.  LEN ≥ SNIFF_HOLD_MAX without a
 * decision is a refusal. */
void name_gate_decide(const EgressPolicy *p, guint16 port, gboolean socks5_request,
		      const uint8_t *buf, size_t len, NameGateDecision *out);

/* The same, for what the parser already found (S) in LEN bytes: the
 * policy half, apart for tests. */
void name_gate_judge(const EgressPolicy *p, guint16 port, const SniffResult *s, size_t len,
		     NameGateDecision *out);
