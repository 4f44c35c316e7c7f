/* SPDX-License-Identifier: MIT
 *
 * policy-gate.c — the egress policy as the TCP relay's name gate asks it
 * (policy.h): which destinations passed only through a domain entry, and
 * which names a connection to them may carry.
 *
 * Why separate sets: the compiled sets (policy.c → nft) merge literal and
 * domain addresses, which is all the kernel needs; the gate must know
 * whether an IP entry covers a destination on its own, because an IP
 * entry means "any name" and wins over a domain entry on the same address.
 * Called once per new TCP connection, never per segment.
 */
#include "net/policy-int.h"
#include "net/allowlist.h"
#include "net/vnet.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

/* The gateway (host ports) and the resolver: admitted by the ruleset's own
 * rules, never by an entry (policy-frame.c decides them the same way). */
static const guint8 gw4[4] = VNET_GATEWAY4_BYTES;
static const guint8 dns4[4] = VNET_RESOLVER4_BYTES;
static const guint8 gw6[16] = VNET_GATEWAY6_BYTES;
static const guint8 dns6[16] = VNET_RESOLVER6_BYTES;

void
egress_policy_gate_add_literal(EgressPolicy *p, const AllowEntry *e)
{
	gboolean v4 = e->kind == ALLOW_ADDR4;
	NftPortGroup *g;

	if (!e->port) {
		nft_range_set_add_prefix(v4 ? &p->literal->allow4 : &p->literal->allow6,
					 (const guint8 *)&e->addr, e->prefix);
		return;
	}
	if (!(e->protos & ALLOW_PROTO_TCP))
		return;
	g = nft_policy_group(p->literal, IPPROTO_TCP, e->port);
	nft_range_set_add_prefix(v4 ? &g->v4 : &g->v6, (const guint8 *)&e->addr, e->prefix);
}

gboolean
egress_policy_literal_host(const EgressPolicy *p, guint keylen, const guint8 *addr)
{
	return nft_range_set_contains(keylen == 4 ? &p->literal->allow4 : &p->literal->allow6, addr);
}

/* Does an IP/CIDR entry admit TCP to ADDR (KEYLEN bytes) port PORT? */
static gboolean
literal_covers(const EgressPolicy *p, guint keylen, const guint8 *addr, guint16 port)
{
	const NftPolicy *l = p->literal;
	gboolean v4 = keylen == 4;

	if (nft_range_set_contains(v4 ? &l->allow4 : &l->allow6, addr))
		return TRUE;
	for (guint i = 0; i < l->groups->len; i++) {
		const NftPortGroup *g = &g_array_index(l->groups, NftPortGroup, i);

		if (g->l4proto == IPPROTO_TCP && g->port == port)
			return nft_range_set_contains(v4 ? &g->v4 : &g->v6, addr);
	}
	return FALSE;
}

gboolean
egress_policy_needs_name_check(const EgressPolicy *p, int family, const void *addr,
			       guint16 port)
{
	guint keylen = family == AF_INET ? 4 : 16;
	gboolean v4 = family == AF_INET;

	if (!p->restricted || (family != AF_INET && family != AF_INET6))
		return FALSE;
	if (memcmp(addr, v4 ? gw4 : gw6, keylen) == 0 || memcmp(addr, v4 ? dns4 : dns6, keylen) == 0)
		return FALSE;
	return !literal_covers(p, keylen, addr, port);
}

gboolean
egress_policy_has_names(const EgressPolicy *p)
{
	return p->restricted && (p->names->len || p->wildcards->len);
}

/* Does entry-like rule R (a name or a suffix with PORT and PROTOS) admit
 * TCP to PORT? */
static gboolean
rule_admits_port(const Wildcard *r, guint16 port)
{
	return (r->protos & ALLOW_PROTO_TCP) && (!r->port || r->port == port);
}

gboolean
egress_policy_name_allowed(const EgressPolicy *p, const char *name, guint16 port)
{
	g_autofree char *norm = NULL;
	guint8 addr[16];

	if (inet_pton(AF_INET, name, addr) == 1)
		return literal_covers(p, 4, addr, port);
	if (inet_pton(AF_INET6, name, addr) == 1)
		return literal_covers(p, 16, addr, port);
	norm = allowlist_normalize_domain(name);
	if (!norm)
		return FALSE;
	for (guint i = 0; i < p->names->len; i++) {
		const Wildcard *r = &g_array_index(p->names, Wildcard, i);

		if (rule_admits_port(r, port) && strcmp(r->suffix, norm) == 0)
			return TRUE;
	}
	for (guint i = 0; i < p->wildcards->len; i++) {
		const Wildcard *r = &g_array_index(p->wildcards, Wildcard, i);

		if (rule_admits_port(r, port) && allowlist_name_matches_wildcard(norm, r->suffix))
			return TRUE;
	}
	return FALSE;
}
