/* SPDX-License-Identifier: MIT
 *
 * policy-frame.c — the launcher's per-frame check (defence in depth behind
 * the nft ruleset) and run-time additions for *.domain answers.
 *
 * The frame filter answers the same question as the ruleset's output
 * chain, without conntrack: frames of established flows need no special
 * case because the guest's packets of an allowed flow go to the same
 * allowed destination; the one exception is replies of --publish'ed
 * (inbound) connections, which go to the gateway from a published port.
 */
#include "net/policy-int.h"
#include "net/allowlist.h"
#include "net/frame.h"
#include "net/vnet.h"
#include "common/error.h"
#include "common/log.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

static const guint8 gw4[4] = VNET_GATEWAY4_BYTES;
static const guint8 dns4[4] = VNET_RESOLVER4_BYTES;
static const guint8 gw6[16] = VNET_GATEWAY6_BYTES;
static const guint8 dns6[16] = VNET_RESOLVER6_BYTES;

/* Is ADDR a run-time (*.domain) answer of GROUP?  After its TTL it still
 * passes for frames of flows that already exist (NEW_FLOW false): the
 * ruleset keeps those alive through conntrack (its ct rule comes with the
 * first answer, ensure_conntrack()), and cutting them here would
 * stall a download that outlives the DNS TTL.  New flows need a fresh
 * answer, exactly as the nft timeout sets decide. */
static gboolean
dyn_allows(EgressPolicy *p, gint32 group, const guint8 *addr, guint keylen, gboolean new_flow)
{
	DynKey k = { .group = group, .keylen = (guint8)keylen };
	DynEntry *e;
	gint64 now;

	if (g_hash_table_size(p->dyn) == 0)
		return FALSE;
	memcpy(k.addr, addr, keylen);
	e = g_hash_table_lookup(p->dyn, &k);
	if (!e)
		return FALSE;
	now = g_get_monotonic_time();
	if (new_flow && e->expiry <= now)
		return FALSE;
	e->last_used = now;   /* keeps it past its TTL while a flow uses it */
	return TRUE;
}

static gboolean
has_port(const GArray *ports, guint16 port)
{
	for (guint i = 0; i < ports->len; i++)
		if (g_array_index(ports, guint16, i) == port)
			return TRUE;
	return FALSE;
}

/* Same decision as the output chain for a packet to DADDR (KEYLEN bytes);
 * L4PROTO / SPORT / DPORT are 0 when the frame has no TCP/UDP header.
 * NEW_FLOW: anything but a TCP segment without SYN. */
static gboolean
policy_allows(EgressPolicy *p, guint keylen, const guint8 *daddr, guint8 l4proto,
	      guint16 sport, guint16 dport, guint8 icmp6_type, gboolean new_flow)
{
	const NftPolicy *n = p->nft;
	gboolean v4 = keylen == 4;
	const guint8 *gw = v4 ? gw4 : gw6, *dns = v4 ? dns4 : dns6;

	/* IPv6 neighbour discovery (router/neighbour solicit/advert, redirect) */
	if (!v4 && l4proto == IPPROTO_ICMPV6 && icmp6_type >= 133 && icmp6_type <= 137)
		return TRUE;
	if (memcmp(daddr, dns, keylen) == 0)
		return l4proto == IPPROTO_UDP && dport == 53;
	if (memcmp(daddr, gw, keylen) == 0) {
		/* replies of inbound (--publish) connections come from their port */
		if (l4proto == IPPROTO_TCP && has_port(n->publish_ports, sport))
			return TRUE;
		return l4proto == IPPROTO_TCP && has_port(n->host_ports, dport);
	}
	if (!p->restricted)
		return TRUE;
	/* UDP: whole-host ranges of domain entries admit none (policy.c
	 * domain_protos); only an IP entry's */
	if (l4proto == IPPROTO_UDP && egress_policy_has_names(p)) {
		if (egress_policy_literal_host(p, keylen, daddr))
			return TRUE;
	} else if (nft_range_set_contains(v4 ? &n->allow4 : &n->allow6, daddr) ||
		   dyn_allows(p, -1, daddr, keylen, new_flow)) {
		return TRUE;
	}
	if (l4proto != IPPROTO_TCP && l4proto != IPPROTO_UDP)
		return FALSE;
	for (guint i = 0; i < n->groups->len; i++) {
		const NftPortGroup *g = &g_array_index(n->groups, NftPortGroup, i);

		if (g->l4proto != l4proto || g->port != dport)
			continue;
		if (nft_range_set_contains(v4 ? &g->v4 : &g->v6, daddr) ||
		    (g->dynamic && dyn_allows(p, (gint32)i, daddr, keylen, new_flow)))
			return TRUE;
	}
	return FALSE;
}

static gboolean
frame_allowed(EgressPolicy *p, const FrameInfo *fi)
{
	guint8 icmp6_type = 0;
	int tcp_flags;

	if (!fi)
		return FALSE;
	if (fi->ethertype == FRAME_ETHERTYPE_ARP)
		return TRUE;
	if (fi->family == AF_UNSPEC || fi->l3_hlen == 0)
		return FALSE;
	/* fi->l4 is NULL for a later IPv4 fragment: judged by address alone */
	if (fi->l4 && (fi->l4proto == IPPROTO_TCP || fi->l4proto == IPPROTO_UDP) && !fi->has_ports)
		return FALSE;   /* truncated transport header */
	if (fi->l4 && fi->l4proto == IPPROTO_ICMPV6 && fi->l4_caplen >= 1)
		icmp6_type = fi->l4[0];
	/* a new flow: anything but a TCP segment without SYN */
	tcp_flags = frame_tcp_flags(fi);
	return policy_allows(p, fi->addr_len, fi->daddr, fi->l4proto, fi->sport, fi->dport,
			     icmp6_type, tcp_flags < 0 || (tcp_flags & 0x02));
}

gboolean
egress_policy_allows_frame(EgressPolicy *p, const FrameInfo *fi)
{
	if (frame_allowed(p, fi))
		return TRUE;
	p->dropped++;
	return FALSE;
}

guint64
egress_policy_dropped_frames(const EgressPolicy *p)
{
	return p->dropped;
}

void
egress_policy_set_evict_func(EgressPolicy *p, EgressDynEvictFunc func, gpointer data)
{
	p->evict_func = func;
	p->evict_data = data;
}

static void
dyn_remove(EgressPolicy *p, DynEntry *e)
{
	g_queue_unlink(&p->dyn_order, &e->link);
	g_hash_table_remove(p->dyn, &e->key);   /* frees E */
}

void
egress_policy_dyn_sweep(EgressPolicy *p, gint64 now)
{
	GList *next;

	p->dyn_swept = now;
	for (GList *i = p->dyn_order.head; i; i = next) {
		DynEntry *e = i->data;

		next = i->next;
		if (now - MAX(e->expiry, e->last_used) > DYN_IDLE_USEC ||
		    (e->expiry <= now && e->last_used == 0))
			dyn_remove(p, e);
	}
}

/* Room for one more entry: the oldest added goes, from the nft timeout set
 * too (NFT_SOCK, -1 = none) so that the kernel's set is bounded by the
 * same cap, and is reported. */
static void
dyn_evict_oldest(EgressPolicy *p, int nft_sock)
{
	DynEntry *e = p->dyn_order.head->data;
	guint8 addr[16];
	guint keylen = e->key.keylen;
	int family = keylen == 4 ? AF_INET : AF_INET6;
	char set[32];

	memcpy(addr, e->key.addr, keylen);
	if (nft_sock >= 0) {
		const NftPortGroup *g = e->key.group < 0 ? NULL :
			&g_array_index(p->nft->groups, NftPortGroup, e->key.group);
		g_autoptr(GError) error = NULL;

		/* ENOENT: the kernel timed it out already */
		if (!nft_del_runtime_addrs(nft_sock, nft_set_name(set, sizeof set, 'd',
								  keylen == 4 ? 4 : 6, g),
					   family, addr, 1, &error))
			sbx_debug("policy: evict a run-time answer: %s", error->message);
	}
	dyn_remove(p, e);
	p->dyn_evicted++;
	if (p->evict_func)
		p->evict_func(family, addr, p->evict_data);
}

static void
dyn_add(EgressPolicy *p, int nft_sock, gint32 group, const guint8 *addr, guint keylen,
	gint64 expiry)
{
	DynKey k = { .group = group, .keylen = (guint8)keylen };
	DynEntry *e;

	memcpy(k.addr, addr, keylen);
	e = g_hash_table_lookup(p->dyn, &k);
	if (e) {
		/* a fresh answer: later expiry, and the youngest again */
		e->expiry = MAX(e->expiry, expiry);
		g_queue_unlink(&p->dyn_order, &e->link);
		g_queue_push_tail_link(&p->dyn_order, &e->link);
		return;
	}
	if (g_hash_table_size(p->dyn) >= DYN_MAX_ENTRIES)
		dyn_evict_oldest(p, nft_sock);
	e = g_new0(DynEntry, 1);
	e->key = k;
	e->expiry = expiry;
	e->link.data = e;
	g_hash_table_insert(p->dyn, &e->key, e);
	g_queue_push_tail_link(&p->dyn_order, &e->link);
}

/* The start-up ruleset has no conntrack without a connection limit
 * (nft.h): the first run-time answer inserts "ct state established,related
 * accept" before its addresses go in, so that flows to them outlive their
 * TTL in the kernel as dyn_allows() lets them here. */
static gboolean
ensure_conntrack(EgressPolicy *p, int nft_sock, GError **error)
{
	if (nft_sock < 0 || p->conntrack || p->nft->max_connections)
		return TRUE;
	if (!nft_add_conntrack_rule(nft_sock, error))
		return FALSE;
	p->conntrack = TRUE;
	return TRUE;
}

gboolean
egress_policy_add_resolved(EgressPolicy *p, int nft_sock, const char *name, int family,
			   const void *addrs, guint n, guint ttl_secs, GError **error)
{
	g_autofree char *norm = allowlist_normalize_domain(name);
	guint keylen = family == AF_INET ? 4 : 16;
	g_autoptr(GByteArray) ok = g_byte_array_new();
	gint64 expiry, now;
	guint count;
	char set[32];

	if (!norm || (family != AF_INET && family != AF_INET6)) {
		g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_NETWORK,
			    "run-time allow: bad name or family for '%s'", name);
		return FALSE;
	}
	for (guint i = 0; i < n; i++) {
		const guint8 *a = (const guint8 *)addrs + i * keylen;

		if (!egress_addr_is_refused_range(family, a))
			g_byte_array_append(ok, a, keylen);
	}
	count = ok->len / keylen;
	if (count == 0)
		return TRUE;
	ttl_secs = MAX(ttl_secs, 1u);
	now = g_get_monotonic_time();
	expiry = now + (gint64)ttl_secs * G_USEC_PER_SEC;
	/* expired answers leave the table as their nft set elements do */
	if (now - p->dyn_swept >= DYN_SWEEP_USEC)
		egress_policy_dyn_sweep(p, now);
	for (guint w = 0; w < p->wildcards->len; w++) {
		const Wildcard *wc = &g_array_index(p->wildcards, Wildcard, w);

		if (!allowlist_name_matches_wildcard(norm, wc->suffix))
			continue;
		if (!ensure_conntrack(p, nft_sock, error))
			return FALSE;
		if (!wc->port) {
			if (nft_sock >= 0 &&
			    !nft_add_runtime_addrs(nft_sock, nft_set_name(set, sizeof set, 'd',
									  keylen == 4 ? 4 : 6, NULL),
						   family, ok->data, count, ttl_secs, error))
				return FALSE;
			for (guint i = 0; i < count; i++)
				dyn_add(p, nft_sock, -1, ok->data + i * keylen, keylen, expiry);
			continue;
		}
		for (guint gi = 0; gi < p->nft->groups->len; gi++) {
			const NftPortGroup *g = &g_array_index(p->nft->groups, NftPortGroup, gi);
			guint8 bit = g->l4proto == IPPROTO_TCP ? ALLOW_PROTO_TCP : ALLOW_PROTO_UDP;

			if (g->port != wc->port || !(wc->protos & bit))
				continue;
			if (nft_sock >= 0 &&
			    !nft_add_runtime_addrs(nft_sock, nft_set_name(set, sizeof set, 'd',
									  keylen == 4 ? 4 : 6, g),
						   family, ok->data, count, ttl_secs, error))
				return FALSE;
			for (guint i = 0; i < count; i++)
				dyn_add(p, nft_sock, (gint32)gi, ok->data + i * keylen, keylen,
					expiry);
		}
	}
	return TRUE;
}
