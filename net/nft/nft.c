/* SPDX-License-Identifier: MIT
 *
 * nft.c — the pure batch builder (the policy model is in nft-policy.c).
 * The socket side (send, drain, read back, run-time additions) is in
 * nft-apply.c.  Expression sequences follow what `nft --debug=netlink`
 * prints for the same rules (doc/PLATFORM.md §2.4).
 */
#include "net/nft/nft.h"
#include "net/vnet.h"
#include "net/nft/nft-int.h"
#include "net/nflog.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <libnftnl/batch.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <netinet/in.h>
#include <string.h>

/* ---------- expressions ---------- */

static void
add_expr(struct nftnl_rule *r, struct nftnl_expr *e)
{
	nftnl_rule_add_expr(r, e);
}

static void
add_meta(struct nftnl_rule *r, guint32 key)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	add_expr(r, e);
}

static void
add_cmp(struct nftnl_rule *r, guint32 op, const void *data, guint32 len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");

	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	add_expr(r, e);
}

static void
add_cmp_u8(struct nftnl_rule *r, guint8 v)
{
	add_cmp(r, NFT_CMP_EQ, &v, 1);
}

static void
add_payload(struct nftnl_rule *r, guint32 base, guint32 offset, guint32 len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");

	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	add_expr(r, e);
}

static void
add_bitwise(struct nftnl_rule *r, const void *mask, guint32 len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("bitwise");
	guint8 zero[16] = { 0 };

	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len);
	add_expr(r, e);
}

static void
add_lookup(struct nftnl_rule *r, const char *set, guint32 set_id)
{
	struct nftnl_expr *e = nftnl_expr_alloc("lookup");

	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, set_id);
	add_expr(r, e);
}

static void
add_verdict(struct nftnl_rule *r, int verdict, const char *chain)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (guint32)verdict);
	if (chain)
		nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
	add_expr(r, e);
}

static void
add_reject(struct nftnl_rule *r, guint32 type, guint8 code)
{
	struct nftnl_expr *e = nftnl_expr_alloc("reject");

	nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, type);
	nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE, code);
	add_expr(r, e);
}

/* "meta nfproto ipv4|ipv6" + "payload daddr" — the dependency nft adds in
 * an inet table before every ip/ip6 header match. */
static void
add_daddr(struct nftnl_rule *r, int family)
{
	add_meta(r, NFT_META_NFPROTO);
	add_cmp_u8(r, family == 4 ? NFPROTO_IPV4 : NFPROTO_IPV6);
	add_payload(r, NFT_PAYLOAD_NETWORK_HEADER, family == 4 ? 16 : 24, family == 4 ? 4 : 16);
}

static void
add_l4proto(struct nftnl_rule *r, guint8 proto)
{
	add_meta(r, NFT_META_L4PROTO);
	add_cmp_u8(r, proto);
}

/* th dport: offset 2 of the transport header, both for TCP and UDP */
static void
add_dport(struct nftnl_rule *r)
{
	add_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
}

static struct nftnl_rule *
new_rule(NftObjects *o, const char *chain)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, NFT_TABLE_NAME);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	g_ptr_array_add(o->rules, r);
	return r;
}

/* ---------- sets ---------- */

static struct nftnl_set *
new_set(NftObjects *o, const char *name, guint32 key_type, guint32 key_len, guint32 flags)
{
	struct nftnl_set *s = nftnl_set_alloc();

	nftnl_set_set_str(s, NFTNL_SET_TABLE, NFT_TABLE_NAME);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_u32(s, NFTNL_SET_ID, o->sets->len + 1);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, flags);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, key_type);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, key_len);
	g_ptr_array_add(o->sets, s);
	g_ptr_array_add(o->set_keys, g_array_new(FALSE, TRUE, sizeof(NftElemKey)));
	return s;
}

/* The element list of the set new_set() made last. */
static GArray *
last_keys(NftObjects *o)
{
	return o->set_keys->pdata[o->set_keys->len - 1];
}

static void
add_key(GArray *keys, const guint8 *key, guint len, gboolean end)
{
	NftElemKey k = { .len = (guint8)len, .end = end ? 1 : 0 };

	memcpy(k.key, key, len);
	g_array_append_val(keys, k);
}

static gboolean
range_is_single(const NftRange *r, guint keylen)
{
	return memcmp(r->lo, r->hi, keylen) == 0;
}

void
nft_interval_keys(const NftRangeSet *rs, gboolean skip_singles, GArray *keys)
{
	static const guint8 zero[16];
	gboolean first = TRUE;

	for (guint i = 0; i < rs->ranges->len; i++) {
		const NftRange *r = &g_array_index(rs->ranges, NftRange, i);
		guint8 end[16];

		if (skip_singles && range_is_single(r, rs->keylen))
			continue;
		/* nft adds a leading end element at 0 when the first range does
		 * not start there (nftables src/intervals.c
		 * segtree_needs_first_segment) */
		if (first && memcmp(r->lo, zero, rs->keylen) != 0)
			add_key(keys, zero, rs->keylen, TRUE);
		first = FALSE;
		add_key(keys, r->lo, rs->keylen, FALSE);
		memcpy(end, r->hi, rs->keylen);
		/* a range ending at the top of the address space has no end */
		if (nft_addr_increment(end, rs->keylen))
			add_key(keys, end, rs->keylen, TRUE);
	}
}

void
nft_single_keys(const NftRangeSet *rs, GArray *keys)
{
	for (guint i = 0; i < rs->ranges->len; i++) {
		const NftRange *r = &g_array_index(rs->ranges, NftRange, i);

		if (range_is_single(r, rs->keylen))
			add_key(keys, r->lo, rs->keylen, FALSE);
	}
}

typedef enum {
	ALLOW_SET_RANGES,      /* interval set of every range */
	ALLOW_SET_WIDE,        /* interval set of the ranges of more than one address */
	ALLOW_SET_SINGLES,     /* hash set of the single addresses */
	ALLOW_SET_TIMEOUT,     /* empty timeout set for run-time answers */
} AllowSetKind;

/* Set NAME holding (part of) RS, plus the rule
 * "[proto·port] daddr @NAME accept". */
static void
add_allow_set(NftObjects *o, const char *name, int family, const NftRangeSet *rs,
	      const NftPortGroup *g, AllowSetKind kind)
{
	static const guint32 flags[] = {
		[ALLOW_SET_RANGES] = NFT_SET_INTERVAL, [ALLOW_SET_WIDE] = NFT_SET_INTERVAL,
		[ALLOW_SET_SINGLES] = 0, [ALLOW_SET_TIMEOUT] = NFT_SET_TIMEOUT,
	};
	g_autoptr(GArray) keys = g_array_new(FALSE, TRUE, sizeof(NftElemKey));
	struct nftnl_set *s;
	struct nftnl_rule *r;
	guint16 port_be;

	if (kind == ALLOW_SET_RANGES || kind == ALLOW_SET_WIDE)
		nft_interval_keys(rs, kind == ALLOW_SET_WIDE, keys);
	else if (kind == ALLOW_SET_SINGLES)
		nft_single_keys(rs, keys);
	/* Only the timeout sets change at run time (policy-frame.c): a
	 * static set without elements would match nothing.  Left out with
	 * its rule: each set costs the kernel's batch (a 10-entry list made
	 * 22 sets, most of them empty; issue 19). */
	if (kind != ALLOW_SET_TIMEOUT && keys->len == 0)
		return;
	s = new_set(o, name, family == 4 ? NFT_TYPE_IPV4 : NFT_TYPE_IPV6, rs->keylen,
		    flags[kind]);
	g_array_append_vals(last_keys(o), keys->data, keys->len);
	/* Size the hash table for its final element count up front.  Without
	 * the hint the kernel's rhashtable grows while the batch inserts, and
	 * a dump taken during that deferred resize may repeat or skip
	 * elements: the read-back check then fails now and then (seen with
	 * 10 000 entries). */
	if (kind == ALLOW_SET_SINGLES)
		nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, keys->len);
	r = new_rule(o, NFT_CHAIN_OUTPUT);
	if (g) {
		/* proto·port first, the address last so REG_1 holds it for lookup */
		add_meta(r, NFT_META_NFPROTO);
		add_cmp_u8(r, family == 4 ? NFPROTO_IPV4 : NFPROTO_IPV6);
		add_l4proto(r, g->l4proto);
		add_dport(r);
		port_be = htons(g->port);
		add_cmp(r, NFT_CMP_EQ, &port_be, 2);
		add_payload(r, NFT_PAYLOAD_NETWORK_HEADER, family == 4 ? 16 : 24, rs->keylen);
	} else {
		add_daddr(r, family);
	}
	add_lookup(r, name, nftnl_set_get_u32(s, NFTNL_SET_ID));
	add_verdict(r, NF_ACCEPT, NULL);
}

/* ---------- the ruleset ---------- */

static const guint8 gw4[4] = VNET_GATEWAY4_BYTES;
static const guint8 dns4[4] = VNET_RESOLVER4_BYTES;
static const guint8 gw6[16] = VNET_GATEWAY6_BYTES;
static const guint8 dns6[16] = VNET_RESOLVER6_BYTES;

static const guint8 gw_mask4[4] = VNET_PAIR4_MASK;
static const guint8 gw_mask6[16] = VNET_PAIR6_MASK;

/* A set NAME of the TCP/UDP ports in PORTS (guint16, host order). */
static struct nftnl_set *
new_port_set(NftObjects *o, const char *name, const GArray *ports)
{
	struct nftnl_set *s = new_set(o, name, NFT_TYPE_INET_SERVICE, 2, 0);

	for (guint i = 0; i < ports->len; i++) {
		guint16 be = htons(g_array_index(ports, guint16, i));

		add_key(last_keys(o), (const guint8 *)&be, 2, FALSE);
	}
	return s;
}

/* An output rule that begins "daddr is the gateway, l4proto tcp". */
static struct nftnl_rule *
new_gateway_tcp_rule(NftObjects *o, int family)
{
	struct nftnl_rule *r = new_rule(o, NFT_CHAIN_OUTPUT);

	add_daddr(r, family);
	add_cmp(r, NFT_CMP_EQ, family == 4 ? gw4 : gw6, family == 4 ? 4 : 16);
	add_l4proto(r, IPPROTO_TCP);
	return r;
}

/* 10.0.2.2:PORT / [fd00::2]:PORT are the host's 127.0.0.1:PORT /
 * [::1]:PORT (mini-tapbox(1)): accepted for the --allow-host-port ports. */
static void
add_host_port_rules(NftObjects *o, const NftPolicy *p)
{
	struct nftnl_set *s;

	if (!p->host_ports->len)
		return;
	s = new_port_set(o, "host_ports", p->host_ports);
	for (int family = 4; family <= 6; family += 2) {
		struct nftnl_rule *r = new_gateway_tcp_rule(o, family);

		add_dport(r);
		add_lookup(r, "host_ports", nftnl_set_get_u32(s, NFTNL_SET_ID));
		add_verdict(r, NF_ACCEPT, NULL);
	}
}

/* 10.0.2.2/31 = gateway + resolver: nothing else reaches them, even when a
 * broad CIDR (0.0.0.0/0) would accept them below.  With OP NFT_CMP_NEQ and
 * VERDICT NF_ACCEPT instead: everything else passes at once. */
static void
add_gateway_pair_rules(NftObjects *o, enum nft_cmp_ops op, int verdict, const char *chain)
{
	for (int family = 4; family <= 6; family += 2) {
		struct nftnl_rule *r = new_rule(o, NFT_CHAIN_OUTPUT);

		add_daddr(r, family);
		add_bitwise(r, family == 4 ? gw_mask4 : gw_mask6, family == 4 ? 4 : 16);
		add_cmp(r, op, family == 4 ? gw4 : gw6, family == 4 ? 4 : 16);
		add_verdict(r, verdict, chain);
	}
}

static void
add_deny_chain_rules(NftObjects *o)
{
	struct nftnl_rule *r = new_rule(o, NFT_CHAIN_DENY);
	struct nftnl_expr *log = nftnl_expr_alloc("log");

	/* blocked packets to the launcher's nfnetlink_log socket (denial log) */
	nftnl_expr_set_u16(log, NFTNL_EXPR_LOG_GROUP, SBX_NFLOG_GROUP);
	add_expr(r, log);
	r = new_rule(o, NFT_CHAIN_DENY);
	add_l4proto(r, IPPROTO_TCP);
	add_reject(r, NFT_REJECT_TCP_RST, 0);
	r = new_rule(o, NFT_CHAIN_DENY);
	add_reject(r, NFT_REJECT_ICMPX_UNREACH, NFT_REJECT_ICMPX_ADMIN_PROHIBITED);
}

static void
add_resolver_rule(NftObjects *o, int family)
{
	struct nftnl_rule *r = new_rule(o, NFT_CHAIN_OUTPUT);
	guint16 port_be = htons(53);

	add_daddr(r, family);
	add_cmp(r, NFT_CMP_EQ, family == 4 ? dns4 : dns6, family == 4 ? 4 : 16);
	add_l4proto(r, IPPROTO_UDP);
	add_dport(r);
	add_cmp(r, NFT_CMP_EQ, &port_be, 2);
	add_verdict(r, NF_ACCEPT, NULL);
}

/* IPv6 neighbour discovery (types 133-137) must pass, also to the
 * gateway fd00::2 and solicited-node multicast, or IPv6 never works. */
static void
add_nd_rule(NftObjects *o)
{
	struct nftnl_rule *r = new_rule(o, NFT_CHAIN_OUTPUT);
	guint8 lo = 133, hi = 137;

	add_meta(r, NFT_META_NFPROTO);
	add_cmp_u8(r, NFPROTO_IPV6);
	add_l4proto(r, IPPROTO_ICMPV6);
	add_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1);
	add_cmp(r, NFT_CMP_GTE, &lo, 1);
	add_cmp(r, NFT_CMP_LTE, &hi, 1);
	add_verdict(r, NF_ACCEPT, NULL);
}

/* ct state established,related accept.  In the start-up ruleset only
 * with a connection limit (connlimit needs conntrack anyway); otherwise
 * inserted at the head of the chain with the first run-time answer
 * (nft_build_conntrack_batch()), see nft_objects_build(). */
static void
add_conntrack_rule(NftObjects *o)
{
	static const guint32 ct_bits =
		NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED);
	static const guint32 zero = 0;
	struct nftnl_expr *ct = nftnl_expr_alloc("ct");
	struct nftnl_rule *r = new_rule(o, NFT_CHAIN_OUTPUT);

	nftnl_expr_set_u32(ct, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
	nftnl_expr_set_u32(ct, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	add_expr(r, ct);
	add_bitwise(r, &ct_bits, 4);
	add_cmp(r, NFT_CMP_NEQ, &zero, 4);
	add_verdict(r, NF_ACCEPT, NULL);
}

/* "ct count over N": new connections beyond N are denied.  After the
 * resolver rules, so DNS queries to the sandbox's own resolver never count:
 * whether a libc sends A and AAAA from one socket or two must not decide
 * whether the first connection is refused. */
static void
add_connlimit_rule(NftObjects *o, const NftPolicy *p)
{
	struct nftnl_expr *e;
	struct nftnl_rule *r;

	if (!p->max_connections)
		return;
	e = nftnl_expr_alloc("connlimit");
	r = new_rule(o, NFT_CHAIN_OUTPUT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CONNLIMIT_COUNT, p->max_connections);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CONNLIMIT_FLAGS, NFT_CONNLIMIT_F_INV);
	add_expr(r, e);
	add_verdict(r, NFT_JUMP, NFT_CHAIN_DENY);
}

/* Without a connection limit the start-up ruleset has no conntrack
 * (nft_objects_build()).  The one thing "ct state established" let through
 * before any run-time answer — replies of --publish'ed connections, which
 * go to the gateway the rules below deny — is let through by source port
 * and ACK flag instead: a new connection from such a port (SYN without
 * ACK) stays denied, as with conntrack. */
static void
add_publish_reply_rules(NftObjects *o, const NftPolicy *p)
{
	static const guint8 ack = 0x10;
	static const guint8 zero = 0;
	struct nftnl_set *s;

	if (!p->publish_ports->len)
		return;
	s = new_port_set(o, "publish_ports", p->publish_ports);
	for (int family = 4; family <= 6; family += 2) {
		struct nftnl_rule *r = new_gateway_tcp_rule(o, family);

		add_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 2);   /* source port */
		add_lookup(r, "publish_ports", nftnl_set_get_u32(s, NFTNL_SET_ID));
		add_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 13, 1);  /* flags */
		add_bitwise(r, &ack, 1);
		add_cmp(r, NFT_CMP_NEQ, &zero, 1);
		add_verdict(r, NF_ACCEPT, NULL);
	}
}

NftObjects *
nft_objects_build(const NftPolicy *p)
{
	NftObjects *o = g_new0(NftObjects, 1);
	struct nftnl_rule *r;
	gboolean fast;
	char name[32];
	static const char lo[IFNAMSIZ] = "lo";

	o->sets = g_ptr_array_new_with_free_func((GDestroyNotify)nftnl_set_free);
	o->set_keys = g_ptr_array_new_with_free_func((GDestroyNotify)g_array_unref);
	o->rules = g_ptr_array_new_with_free_func((GDestroyNotify)nftnl_rule_free);
	o->table = nftnl_table_alloc();
	nftnl_table_set_u32(o->table, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	nftnl_table_set_str(o->table, NFTNL_TABLE_NAME, NFT_TABLE_NAME);

	o->output = nftnl_chain_alloc();
	nftnl_chain_set_str(o->output, NFTNL_CHAIN_TABLE, NFT_TABLE_NAME);
	nftnl_chain_set_str(o->output, NFTNL_CHAIN_NAME, NFT_CHAIN_OUTPUT);
	nftnl_chain_set_u32(o->output, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
	nftnl_chain_set_str(o->output, NFTNL_CHAIN_TYPE, "filter");
	nftnl_chain_set_u32(o->output, NFTNL_CHAIN_HOOKNUM, NF_INET_LOCAL_OUT);
	nftnl_chain_set_s32(o->output, NFTNL_CHAIN_PRIO, 0);
	nftnl_chain_set_u32(o->output, NFTNL_CHAIN_POLICY, p->allow_all ? NF_ACCEPT : NF_DROP);
	o->deny = nftnl_chain_alloc();
	nftnl_chain_set_str(o->deny, NFTNL_CHAIN_TABLE, NFT_TABLE_NAME);
	nftnl_chain_set_str(o->deny, NFTNL_CHAIN_NAME, NFT_CHAIN_DENY);
	nftnl_chain_set_u32(o->deny, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
	add_deny_chain_rules(o);

	/* Unrestricted egress without a connection limit: every rule below
	 * only accepts, but for the gateway pair's deny, so the common cases
	 * come first — the host ports, then everything not for the gateway
	 * pair (an internet packet passed 22 expressions before, now 11). */
	fast = p->allow_all && !p->max_connections;
	if (fast) {
		add_host_port_rules(o, p);
		add_gateway_pair_rules(o, NFT_CMP_NEQ, NF_ACCEPT, NULL);
	}
	r = new_rule(o, NFT_CHAIN_OUTPUT);
	add_meta(r, NFT_META_OIFNAME);
	add_cmp(r, NFT_CMP_EQ, lo, IFNAMSIZ);
	add_verdict(r, NF_ACCEPT, NULL);
	/* Conntrack only where the start-up ruleset needs it.  Its first
	 * rule in a namespace registers conntrack's hooks, and on a host
	 * without a firewall that flips netfilter's static keys (kernel text
	 * patching, IPIs to every CPU): 1-3 ms of the start-up (issue 19).
	 * Without a connection limit the only flows "ct state established"
	 * keeps alive that the rules below would not are those to a run-time
	 * (*.domain) answer past its TTL; nft_build_conntrack_batch() adds
	 * the rule with the first such answer, before its addresses. */
	if (p->max_connections)
		add_conntrack_rule(o);
	else
		add_publish_reply_rules(o, p);
	add_nd_rule(o);
	add_resolver_rule(o, 4);
	add_resolver_rule(o, 6);
	add_connlimit_rule(o, p);
	if (!fast)
		add_host_port_rules(o, p);
	add_gateway_pair_rules(o, NFT_CMP_EQ, NFT_JUMP, NFT_CHAIN_DENY);
	if (p->allow_all)
		return o;

	/* Whole-host entries: single addresses in hash sets, wider ranges in
	 * interval sets.  A /32 costs one hash element instead of a start and
	 * an end element in the rbtree, which halves the batch and makes
	 * installing 10 000 single addresses several times faster. */
	add_allow_set(o, "addr4", 4, &p->allow4, NULL, ALLOW_SET_SINGLES);
	add_allow_set(o, "addr6", 6, &p->allow6, NULL, ALLOW_SET_SINGLES);
	add_allow_set(o, "allow4", 4, &p->allow4, NULL, ALLOW_SET_WIDE);
	add_allow_set(o, "allow6", 6, &p->allow6, NULL, ALLOW_SET_WIDE);
	add_allow_set(o, "dyn4", 4, &p->allow4, NULL, ALLOW_SET_TIMEOUT);
	add_allow_set(o, "dyn6", 6, &p->allow6, NULL, ALLOW_SET_TIMEOUT);
	for (guint i = 0; i < p->groups->len; i++) {
		const NftPortGroup *g = &g_array_index(p->groups, NftPortGroup, i);

		add_allow_set(o, nft_set_name(name, sizeof name, 'p', 4, g), 4, &g->v4, g,
			      ALLOW_SET_RANGES);
		add_allow_set(o, nft_set_name(name, sizeof name, 'p', 6, g), 6, &g->v6, g,
			      ALLOW_SET_RANGES);
		if (g->dynamic) {
			add_allow_set(o, nft_set_name(name, sizeof name, 'd', 4, g), 4, &g->v4, g,
				      ALLOW_SET_TIMEOUT);
			add_allow_set(o, nft_set_name(name, sizeof name, 'd', 6, g), 6, &g->v6, g,
				      ALLOW_SET_TIMEOUT);
		}
	}
	r = new_rule(o, NFT_CHAIN_OUTPUT);
	add_verdict(r, NFT_JUMP, NFT_CHAIN_DENY);
	return o;
}

void
nft_objects_free(NftObjects *o)
{
	if (!o)
		return;
	nftnl_table_free(o->table);
	nftnl_chain_free(o->output);
	nftnl_chain_free(o->deny);
	g_ptr_array_unref(o->sets);
	g_ptr_array_unref(o->set_keys);
	g_ptr_array_unref(o->rules);
	g_free(o);
}

/* ---------- serialisation ---------- */

struct NftBatch {
	struct nftnl_batch *batch;
	guint acks;
	guint32 first_seq;
	GPtrArray *what;       /* description per message, index = seq - first_seq */
};

/* Large sets are split over several NEWSETELEM messages so every message
 * stays well inside one batch page's overrun area. */
#define ELEMS_PER_MSG 128

static void
put_msg(NftBatch *b, guint16 type, guint16 flags, guint32 *seq,
	void (*payload)(struct nlmsghdr *, const void *), const void *obj, char *what)
{
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(nftnl_batch_buffer(b->batch), type,
						     NFPROTO_INET, flags, (*seq)++);

	payload(nlh, obj);
	nftnl_batch_update(b->batch);
	g_ptr_array_add(b->what, what);
	if (flags & NLM_F_ACK)
		b->acks++;
}

#define PAYLOAD_FN(name, type, fn) \
	static void name(struct nlmsghdr *nlh, const void *obj) { fn(nlh, (type *)obj); }
PAYLOAD_FN(table_payload, struct nftnl_table, nftnl_table_nlmsg_build_payload)
PAYLOAD_FN(set_payload, struct nftnl_set, nftnl_set_nlmsg_build_payload)
PAYLOAD_FN(chain_payload, struct nftnl_chain, nftnl_chain_nlmsg_build_payload)
PAYLOAD_FN(rule_payload, struct nftnl_rule, nftnl_rule_nlmsg_build_payload)

/* NEWSETELEM messages for KEYS of set S, ELEMS_PER_MSG at a time, written
 * with libmnl directly (the attribute layout of libnftnl's
 * nftnl_set_elems_nlmsg_build_payload): one nftnl_set_elem object per
 * element made a 10 000-entry list measurably slower to build. */
static void
put_elements(NftBatch *b, guint32 *seq, const struct nftnl_set *s, const GArray *keys)
{
	const char *name = nftnl_set_get_str(s, NFTNL_SET_NAME);
	guint32 id = nftnl_set_get_u32(s, NFTNL_SET_ID);

	for (guint start = 0; start < keys->len; start += ELEMS_PER_MSG) {
		struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(nftnl_batch_buffer(b->batch),
							     NFT_MSG_NEWSETELEM, NFPROTO_INET,
							     NLM_F_CREATE, (*seq)++);
		struct nlattr *list;

		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, NFT_TABLE_NAME);
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, name);
		mnl_attr_put_u32(nlh, NFTA_SET_ELEM_LIST_SET_ID, htonl(id));
		list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
		for (guint i = start; i < keys->len && i < start + ELEMS_PER_MSG; i++) {
			const NftElemKey *k = &g_array_index(keys, NftElemKey, i);
			struct nlattr *elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
			struct nlattr *key;

			if (k->end)
				mnl_attr_put_u32(nlh, NFTA_SET_ELEM_FLAGS,
						 htonl(NFT_SET_ELEM_INTERVAL_END));
			key = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);
			mnl_attr_put(nlh, NFTA_DATA_VALUE, k->len, k->key);
			mnl_attr_nest_end(nlh, key);
			mnl_attr_nest_end(nlh, elem);
		}
		mnl_attr_nest_end(nlh, list);
		nftnl_batch_update(b->batch);
		g_ptr_array_add(b->what, g_strdup_printf("elements of set %s", name));
	}
}

NftBatch *
nft_build_batch(const NftPolicy *p, guint32 seq)
{
	g_autoptr(NftObjects) o = nft_objects_build(p);

	return nft_objects_batch(o, seq);
}

/* A batch with its BEGIN message; *SEQ is the next sequence number. */
static NftBatch *
batch_begin(guint32 *seq)
{
	NftBatch *b = g_new0(NftBatch, 1);

	b->batch = nftnl_batch_alloc(NFT_BATCH_PAGE, MNL_SOCKET_BUFFER_SIZE);
	b->what = g_ptr_array_new_with_free_func(g_free);
	nftnl_batch_begin(nftnl_batch_buffer(b->batch), (*seq)++);
	nftnl_batch_update(b->batch);
	b->first_seq = *seq;
	return b;
}

static NftBatch *
batch_end(NftBatch *b, guint32 seq)
{
	nftnl_batch_end(nftnl_batch_buffer(b->batch), seq);
	nftnl_batch_update(b->batch);
	return b;
}

NftBatch *
nft_build_conntrack_batch(guint32 seq)
{
	NftObjects o = { .rules = g_ptr_array_new_with_free_func(
				 (GDestroyNotify)nftnl_rule_free) };
	NftBatch *b = batch_begin(&seq);

	add_conntrack_rule(&o);
	/* NEWRULE without NLM_F_APPEND or a position: the kernel puts it
	 * first in the chain, where it only accepts, as "oifname lo" does */
	put_msg(b, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_ACK, &seq, rule_payload,
		o.rules->pdata[0], g_strdup("rule ct state established,related accept"));
	g_ptr_array_unref(o.rules);
	return batch_end(b, seq);
}

NftBatch *
nft_objects_batch(const NftObjects *o, guint32 seq)
{
	NftBatch *b = batch_begin(&seq);

	put_msg(b, NFT_MSG_NEWTABLE, NLM_F_CREATE, &seq, table_payload, o->table,
		g_strdup("table inet " NFT_TABLE_NAME));
	for (guint i = 0; i < o->sets->len; i++) {
		struct nftnl_set *s = o->sets->pdata[i];

		put_msg(b, NFT_MSG_NEWSET, NLM_F_CREATE, &seq, set_payload, s,
			g_strdup_printf("set %s", nftnl_set_get_str(s, NFTNL_SET_NAME)));
		put_elements(b, &seq, s, o->set_keys->pdata[i]);
	}
	put_msg(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE, &seq, chain_payload, o->deny,
		g_strdup("chain " NFT_CHAIN_DENY));
	/* One ACK, for the last message: a failing message is reported with or
	 * without NLM_F_ACK (nfnetlink_rcv_batch), and the last one's ACK says
	 * the kernel got to the end.  An ACK per message cost a reply skb and
	 * a recv() each (58 for the 10-entry benchmark list, issue 19).  (Not
	 * set afterwards: nftnl_batch_update() may have copied the message to a
	 * new page.) */
	put_msg(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE | (o->rules->len ? 0 : NLM_F_ACK), &seq,
		chain_payload, o->output,
		g_strdup("chain " NFT_CHAIN_OUTPUT));
	for (guint i = 0; i < o->rules->len; i++) {
		struct nftnl_rule *r = o->rules->pdata[i];
		char text[512];

		nftnl_rule_snprintf(text, sizeof text, r, NFTNL_OUTPUT_DEFAULT, 0);
		put_msg(b, NFT_MSG_NEWRULE,
			NLM_F_CREATE | NLM_F_APPEND | (i + 1 == o->rules->len ? NLM_F_ACK : 0), &seq,
			rule_payload, r, g_strdup_printf("rule %u (%s)", i + 1, g_strstrip(text)));
	}
	return batch_end(b, seq);
}

void
nft_batch_free(NftBatch *b)
{
	if (!b)
		return;
	nftnl_batch_free(b->batch);
	g_ptr_array_unref(b->what);
	g_free(b);
}

guint
nft_batch_acks(const NftBatch *b)
{
	return b->acks;
}

int
nft_batch_iov(NftBatch *b, struct iovec **iov)
{
	int n = nftnl_batch_iovec_len(b->batch);

	*iov = g_new0(struct iovec, n);
	nftnl_batch_iovec(b->batch, *iov, (guint32)n);
	return n;
}

GBytes *
nft_batch_bytes(NftBatch *b)
{
	g_autofree struct iovec *iov = NULL;
	int n = nft_batch_iov(b, &iov);
	GByteArray *out = g_byte_array_new();

	for (int i = 0; i < n; i++)
		g_byte_array_append(out, iov[i].iov_base, (guint)iov[i].iov_len);
	return g_byte_array_free_to_bytes(out);
}

const char *
nft_batch_describe(const NftBatch *b, guint32 seq)
{
	if (seq < b->first_seq || seq - b->first_seq >= b->what->len)
		return "batch";
	return b->what->pdata[seq - b->first_seq];
}
