/* SPDX-License-Identifier: MIT
 *
 * name-gate.c — what the first bytes of a connection to a domain-only
 * destination may say (name-gate.h).
 */
#include "net/relay/name-gate.h"

#include <string.h>

static void
refuse(NameGateDecision *out, const char *reason)
{
	out->verdict = NAME_GATE_REFUSE;
	out->reason = reason;
}

/* A request naming NAME and PORT (CONNECT, SOCKS): its target must be
 * allowed, whatever the proxy's own name — a proxy on an allowed name
 * reaches everything else. */
static void
judge_target(const EgressPolicy *p, const SniffResult *s, const char *reason,
	     NameGateDecision *out)
{
	if (s->name[0] && s->port && egress_policy_name_allowed(p, s->name, s->port))
		out->verdict = NAME_GATE_ALLOW;
	else
		refuse(out, reason);
}

void
name_gate_judge(const EgressPolicy *p, guint16 port, const SniffResult *s, size_t len,
		NameGateDecision *out)
{
	out->sniff = *s;
	out->reason = NULL;
	out->pass = 0;
	switch (s->kind) {
	case SNIFF_MORE:
		out->verdict = NAME_GATE_HOLD;
		/* a hello longer than one record is none a real client sends */
		if (len >= SNIFF_HOLD_MAX)
			refuse(out, "protocol");
		return;
	case SNIFF_TLS:
	case SNIFF_HTTP:
		/* the name the server picks the site by, on this connection's port */
		if (s->name[0] && egress_policy_name_allowed(p, s->name, port))
			out->verdict = NAME_GATE_ALLOW;
		else
			refuse(out, s->kind == SNIFF_TLS ? "sni" : "host");
		return;
	case SNIFF_HTTP_CONNECT:
		judge_target(p, s, "host", out);
		return;
	case SNIFF_SOCKS4:
	case SNIFF_SOCKS5:
		judge_target(p, s, "socks", out);
		return;
	case SNIFF_SOCKS5_HELLO:
		out->verdict = NAME_GATE_SOCKS5_HELLO;
		out->pass = s->consumed;
		return;
	case SNIFF_SSH:
		/* no name on the wire, and a server of its own kind: the
		 * address was all the guest could choose */
		out->verdict = NAME_GATE_ALLOW;
		return;
	case SNIFF_UNKNOWN:
	case SNIFF_MALFORMED:
	default:
		refuse(out, "protocol");
		return;
	}
}

void
name_gate_decide(const EgressPolicy *p, guint16 port, gboolean socks5_request,
		 const uint8_t *buf, size_t len, NameGateDecision *out)
{
	SniffResult s;

	memset(&s, 0, sizeof s);
	if (socks5_request)
		sniff_socks5_request(buf, len, &s);
	else
		sniff_client(buf, len, &s);
	/* a SOCKS5 request is never another greeting */
	if (socks5_request && s.kind == SNIFF_SOCKS5_HELLO)
		s.kind = SNIFF_MALFORMED;
	name_gate_judge(p, port, &s, len, out);
}
