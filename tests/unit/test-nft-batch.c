/* SPDX-License-Identifier: MIT
 *
 * test-nft-batch.c — the ruleset batch, parsed back with libnftnl/libmnl:
 * message types and order, flags, set attributes, interval elements
 * (doc/PLATFORM.md §2.3) and expression sequences (§2.4).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "net/nft/nft.h"
#include "net/nft/nft-int.h"
#include "net/nflog.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <string.h>

typedef struct {
	guint16 type;          /* NFT_MSG_* or NFNL_MSG_BATCH_* */
	guint16 flags;
	guint32 seq;
	char *name;            /* set / chain name, rule chain */
	char *text;            /* rule: expressions; set elements: keys */
	guint32 set_flags, key_type, key_len, policy;
	guint nelems;
} Msg;

static void
msg_clear(gpointer p)
{
	Msg *m = p;

	g_free(m->name);
	g_free(m->text);
}

/* Decode NEWSETELEM by hand with libmnl: nftnl_set_elems_nlmsg_parse()
 * refuses libnftnl's own output, whose element nests are numbered. */
static void
decode_elems(const struct nlmsghdr *nlh, Msg *m)
{
	GString *s = g_string_new(NULL);
	const struct nlattr *a, *el, *ea;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(a) == NFTA_SET_ELEM_LIST_SET)
			m->name = g_strdup(mnl_attr_get_str(a));
		if (mnl_attr_get_type(a) != NFTA_SET_ELEM_LIST_ELEMENTS)
			continue;
		mnl_attr_for_each_nested(el, a) {
			const guint8 *key = NULL;
			guint16 len = 0;
			guint32 flags = 0;
			char buf[INET6_ADDRSTRLEN];

			/* libnftnl numbers the element nests 1, 2, 3… (the
			 * kernel ignores the type), so no NFTA_LIST_ELEM check */
			mnl_attr_for_each_nested(ea, el) {
				const struct nlattr *d;

				if (mnl_attr_get_type(ea) == NFTA_SET_ELEM_FLAGS)
					flags = ntohl(mnl_attr_get_u32(ea));
				if (mnl_attr_get_type(ea) != NFTA_SET_ELEM_KEY)
					continue;
				mnl_attr_for_each_nested(d, ea) {
					assert_int_equal(mnl_attr_get_type(d), NFTA_DATA_VALUE);
					key = mnl_attr_get_payload(d);
					len = mnl_attr_get_payload_len(d);
				}
			}
			assert_non_null(key);
			if (len == 4 || len == 16)
				inet_ntop(len == 4 ? AF_INET : AF_INET6, key, buf, sizeof buf);
			else
				g_snprintf(buf, sizeof buf, "%u", (guint)(key[0] << 8 | key[1]));
			g_string_append_printf(s, "%s%s%s", s->len ? " " : "", buf,
					       flags & NFT_SET_ELEM_INTERVAL_END ? "!" : "");
			m->nelems++;
		}
	}
	m->text = g_string_free(s, FALSE);
}

static char *
rule_exprs(struct nftnl_rule *r)
{
	GString *s = g_string_new(NULL);
	struct nftnl_expr_iter *it = nftnl_expr_iter_create(r);
	struct nftnl_expr *e;

	while ((e = nftnl_expr_iter_next(it))) {
		char buf[256];

		nftnl_expr_snprintf(buf, sizeof buf, e, NFTNL_OUTPUT_DEFAULT, 0);
		g_string_append_printf(s, "[%s %s]", nftnl_expr_get_str(e, NFTNL_EXPR_NAME),
				       g_strstrip(buf));
	}
	nftnl_expr_iter_destroy(it);
	return g_string_free(s, FALSE);
}

/* Walk the batch bytes and decode every message. */
static GArray *
decode(NftBatch *b)
{
	g_autoptr(GBytes) bytes = nft_batch_bytes(b);
	gsize size;
	const void *data = g_bytes_get_data(bytes, &size);
	int len = (int)size;
	GArray *msgs = g_array_new(FALSE, TRUE, sizeof(Msg));

	g_array_set_clear_func(msgs, msg_clear);
	for (const struct nlmsghdr *nlh = data; mnl_nlmsg_ok(nlh, len);
	     nlh = mnl_nlmsg_next(nlh, &len)) {
		Msg m = { .flags = nlh->nlmsg_flags, .seq = nlh->nlmsg_seq };
		guint16 sub = nlh->nlmsg_type >> 8;

		m.type = sub == NFNL_SUBSYS_NFTABLES ? (nlh->nlmsg_type & 0xff) : nlh->nlmsg_type;
		if (sub == NFNL_SUBSYS_NFTABLES) {
			const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);

			assert_int_equal(g->nfgen_family, NFPROTO_INET);
		}
		if (sub != NFNL_SUBSYS_NFTABLES) {
			/* batch begin/end */
		} else if (m.type == NFT_MSG_NEWSET) {
			struct nftnl_set *s = nftnl_set_alloc();

			assert_int_equal(nftnl_set_nlmsg_parse(nlh, s), 0);
			m.name = g_strdup(nftnl_set_get_str(s, NFTNL_SET_NAME));
			m.set_flags = nftnl_set_get_u32(s, NFTNL_SET_FLAGS);
			m.key_type = nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE);
			m.key_len = nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN);
			assert_string_equal(nftnl_set_get_str(s, NFTNL_SET_TABLE), NFT_TABLE_NAME);
			assert_true(nftnl_set_is_set(s, NFTNL_SET_ID));
			nftnl_set_free(s);
		} else if (m.type == NFT_MSG_NEWSETELEM) {
			decode_elems(nlh, &m);
			/* one message stays well below a batch page's overrun */
			assert_true(nlh->nlmsg_len < MNL_SOCKET_BUFFER_SIZE);
		} else if (m.type == NFT_MSG_NEWCHAIN) {
			struct nftnl_chain *c = nftnl_chain_alloc();

			assert_int_equal(nftnl_chain_nlmsg_parse(nlh, c), 0);
			m.name = g_strdup(nftnl_chain_get_str(c, NFTNL_CHAIN_NAME));
			m.policy = nftnl_chain_is_set(c, NFTNL_CHAIN_POLICY) ?
				   nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY) : 99;
			if (!strcmp(m.name, "output")) {
				assert_int_equal(nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM),
						 NF_INET_LOCAL_OUT);
				assert_string_equal(nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE), "filter");
			}
			nftnl_chain_free(c);
		} else if (m.type == NFT_MSG_NEWRULE) {
			struct nftnl_rule *r = nftnl_rule_alloc();

			assert_int_equal(nftnl_rule_nlmsg_parse(nlh, r), 0);
			m.name = g_strdup(nftnl_rule_get_str(r, NFTNL_RULE_CHAIN));
			m.text = rule_exprs(r);
			nftnl_rule_free(r);
		} else if (m.type == NFT_MSG_NEWTABLE) {
			struct nftnl_table *t = nftnl_table_alloc();

			assert_int_equal(nftnl_table_nlmsg_parse(nlh, t), 0);
			m.name = g_strdup(nftnl_table_get_str(t, NFTNL_TABLE_NAME));
			nftnl_table_free(t);
		}
		g_array_append_val(msgs, m);
	}
	assert_int_equal(len, 0);
	return msgs;
}

static const Msg *
lookup(GArray *msgs, guint16 type, const char *name, guint nth)
{
	for (guint i = 0; i < msgs->len; i++) {
		const Msg *m = &g_array_index(msgs, Msg, i);

		if (m->type == type && (!name || !g_strcmp0(m->name, name)) && nth-- == 0)
			return m;
	}
	return NULL;
}

static gboolean
has(GArray *msgs, guint16 type, const char *name)
{
	return lookup(msgs, type, name, 0) != NULL;
}

/* The NTH message of TYPE for NAME; fails the test when there is none. */
static const Msg *
find(GArray *msgs, guint16 type, const char *name, guint nth)
{
	static const Msg none = { .name = (char *)"", .text = (char *)"" };
	const Msg *m = lookup(msgs, type, name, nth);

	if (!m) {
		fail_msg("no message %u for %s (#%u)", type, name, nth);
		return &none;
	}
	return m;
}

/* The rule of CHAIN whose expressions contain PART. */
static const Msg *
find_rule(GArray *msgs, const char *chain, const char *part)
{
	const Msg *m;

	for (guint i = 0; (m = lookup(msgs, NFT_MSG_NEWRULE, chain, i)); i++)
		if (strstr(m->text, part))
			return m;
	fail_msg("no rule in %s with %s", chain, part);
	return find(msgs, NFT_MSG_NEWRULE, chain, 0);
}

/* Is there a rule of CHAIN whose expressions contain PART? */
static gboolean
has_rule(GArray *msgs, const char *chain, const char *part)
{
	const Msg *m;

	for (guint i = 0; (m = lookup(msgs, NFT_MSG_NEWRULE, chain, i)); i++)
		if (strstr(m->text, part))
			return TRUE;
	return FALSE;
}

static void
add4(NftRangeSet *s, const char *a, guint prefix)
{
	struct in_addr x;

	assert_int_equal(inet_pton(AF_INET, a, &x), 1);
	nft_range_set_add_prefix(s, (guint8 *)&x, prefix);
}

static NftPolicy *
sample_policy(void)
{
	NftPolicy *p = nft_policy_new();
	struct in6_addr a6;
	NftPortGroup *g;
	guint16 hp = 8080;

	add4(&p->allow4, "1.1.1.0", 24);
	add4(&p->allow4, "2.2.2.0", 24);
	add4(&p->allow4, "3.3.3.0", 24);
	inet_pton(AF_INET6, "2001:db8::", &a6);
	nft_range_set_add_prefix(&p->allow6, (guint8 *)&a6, 32);
	g = nft_policy_group(p, IPPROTO_TCP, 5432);
	add4(&g->v4, "10.0.0.0", 8);
	g = nft_policy_group(p, IPPROTO_TCP, 443);
	g->dynamic = TRUE;
	g_array_append_val(p->host_ports, hp);
	nft_policy_normalize(p);
	return p;
}

static void
test_message_order(void **state)
{
	g_autoptr(NftPolicy) p = sample_policy();
	g_autoptr(NftBatch) b = nft_build_batch(p, 100);
	g_autoptr(GArray) msgs = decode(b);
	const Msg *first = &g_array_index(msgs, Msg, 0);
	const Msg *last = &g_array_index(msgs, Msg, msgs->len - 1);
	guint acks = 0;
	int phase = 0;

	assert_int_equal(first->type, NFNL_MSG_BATCH_BEGIN);
	assert_int_equal(first->seq, 100);
	assert_int_equal(last->type, NFNL_MSG_BATCH_END);
	assert_int_equal(g_array_index(msgs, Msg, 1).type, NFT_MSG_NEWTABLE);
	assert_string_equal(g_array_index(msgs, Msg, 1).name, "mini_sandbox");
	for (guint i = 1; i + 1 < msgs->len; i++) {
		const Msg *m = &g_array_index(msgs, Msg, i);

		/* sequence numbers increase by one, so errors map to messages */
		assert_int_equal(m->seq, 100 + i);
		acks += (m->flags & NLM_F_ACK) != 0;
		assert_true(m->flags & NLM_F_CREATE);
		/* phases: table → sets+elements → chains → rules */
		switch (m->type) {
		case NFT_MSG_NEWTABLE: assert_int_equal(phase, 0); phase = 1; break;
		case NFT_MSG_NEWSET:
		case NFT_MSG_NEWSETELEM: assert_true(phase == 1); break;
		case NFT_MSG_NEWCHAIN: assert_true(phase == 1 || phase == 2); phase = 2; break;
		case NFT_MSG_NEWRULE:
			assert_true(phase >= 2);
			phase = 3;
			assert_true(m->flags & NLM_F_APPEND);
			break;
		default: fail_msg("unexpected message type %u", m->type);
		}
		/* only the last message asks for an ACK (errors come back anyway) */
		assert_int_equal((m->flags & NLM_F_ACK) != 0, i + 2 == msgs->len);
	}
	assert_int_equal(acks, 1);
	assert_int_equal(acks, nft_batch_acks(b));
	/* deny chain created before output jumps to it */
	assert_true(find(msgs, NFT_MSG_NEWCHAIN, "deny", 0) < find(msgs, NFT_MSG_NEWCHAIN, "output", 0));
	assert_int_equal(find(msgs, NFT_MSG_NEWCHAIN, "output", 0)->policy, NF_DROP);
}

static void
test_sets(void **state)
{
	g_autoptr(NftPolicy) p = sample_policy();
	g_autoptr(NftBatch) b = nft_build_batch(p, 1);
	g_autoptr(GArray) msgs = decode(b);
	const Msg *m;

	m = find(msgs, NFT_MSG_NEWSET, "allow4", 0);
	assert_int_equal(m->set_flags, NFT_SET_INTERVAL);
	assert_int_equal(m->key_type, 7);
	assert_int_equal(m->key_len, 4);
	m = find(msgs, NFT_MSG_NEWSET, "allow6", 0);
	assert_int_equal(m->key_type, 8);
	assert_int_equal(m->key_len, 16);
	m = find(msgs, NFT_MSG_NEWSET, "dyn4", 0);
	assert_int_equal(m->set_flags, NFT_SET_TIMEOUT);
	m = find(msgs, NFT_MSG_NEWSET, "host_ports", 0);
	assert_int_equal(m->key_type, 13);
	assert_int_equal(m->key_len, 2);
	assert_true(has(msgs, NFT_MSG_NEWSET, "p4_tcp_5432"));
	/* no v6 address for that port: a static set that would stay empty is
	 * left out (its rule too); the timeout sets exist empty, the resolver
	 * fills them at run time */
	assert_false(has(msgs, NFT_MSG_NEWSET, "p6_tcp_5432"));
	assert_false(has(msgs, NFT_MSG_NEWSET, "d4_tcp_5432"));
	assert_true(has(msgs, NFT_MSG_NEWSET, "d4_tcp_443"));
	assert_true(has(msgs, NFT_MSG_NEWSET, "d6_tcp_443"));

	/* nft's own dump for { 1.1.1.0/24, 2.2.2.0/24, 3.3.3.0/24 } */
	m = find(msgs, NFT_MSG_NEWSETELEM, "allow4", 0);
	assert_string_equal(m->text,
			    "0.0.0.0! 1.1.1.0 1.1.2.0! 2.2.2.0 2.2.3.0! 3.3.3.0 3.3.4.0!");
	m = find(msgs, NFT_MSG_NEWSETELEM, "allow6", 0);
	assert_string_equal(m->text, "::! 2001:db8:: 2001:db9::!");
	m = find(msgs, NFT_MSG_NEWSETELEM, "host_ports", 0);
	assert_string_equal(m->text, "8080");
	/* empty and timeout sets get no element message */
	assert_false(has(msgs, NFT_MSG_NEWSETELEM, "dyn4"));
	assert_false(has(msgs, NFT_MSG_NEWSETELEM, "p6_tcp_5432"));
}

static void
test_interval_edges(void **state)
{
	g_autoptr(NftPolicy) p = nft_policy_new();
	g_autoptr(NftBatch) b = NULL;
	g_autoptr(GArray) msgs = NULL;
	guint8 zero[16] = { 0 }, top[16];

	/* 0.0.0.0/0: starts at 0 (no leading end), ends at the top (no end) */
	add4(&p->allow4, "0.0.0.0", 0);
	/* ffff::/16 reaches the top of the v6 space: no end element */
	memset(top, 0, sizeof top);
	top[0] = top[1] = 0xff;
	nft_range_set_add_prefix(&p->allow6, top, 16);
	nft_range_set_add_prefix(&p->allow6, zero, 128);
	nft_policy_normalize(p);
	b = nft_build_batch(p, 1);
	msgs = decode(b);
	assert_string_equal(find(msgs, NFT_MSG_NEWSETELEM, "allow4", 0)->text, "0.0.0.0");
	/* the single address :: goes to the hash set, the rest keeps its
	 * leading end element */
	assert_string_equal(find(msgs, NFT_MSG_NEWSETELEM, "allow6", 0)->text, "::! ffff::");
	assert_string_equal(find(msgs, NFT_MSG_NEWSETELEM, "addr6", 0)->text, "::");
	assert_int_equal(find(msgs, NFT_MSG_NEWSET, "addr6", 0)->set_flags, 0);
	assert_false(has(msgs, NFT_MSG_NEWSETELEM, "addr4"));
}

/* Count the elements of every NEWSETELEM message for NAME. */
static guint
count_elems(GArray *msgs, const char *name, guint *nmsgs)
{
	guint total = 0;

	*nmsgs = 0;
	for (guint i = 0; i < msgs->len; i++) {
		const Msg *m = &g_array_index(msgs, Msg, i);

		if (m->type == NFT_MSG_NEWSETELEM && !g_strcmp0(m->name, name)) {
			total += m->nelems;
			(*nmsgs)++;
		}
	}
	return total;
}

static void
test_large_set_split(void **state)
{
	g_autoptr(NftPolicy) p = nft_policy_new();
	g_autoptr(NftBatch) b = NULL;
	g_autoptr(GArray) msgs = NULL;
	guint nmsgs;

	for (guint i = 0; i < 1000; i++) {
		guint8 a[4] = { 10, (guint8)(i >> 8), (guint8)i, 1 };
		guint8 n[4] = { 11, (guint8)(i >> 8), (guint8)i, 0 };

		nft_range_set_add_prefix(&p->allow4, a, 32);
		nft_range_set_add_prefix(&p->allow4, n, 30);
	}
	nft_policy_normalize(p);
	b = nft_build_batch(p, 1);
	msgs = decode(b);
	/* 1000 single addresses: one hash element each */
	assert_int_equal(count_elems(msgs, "addr4", &nmsgs), 1000);
	assert_true(nmsgs > 1);
	/* 1000 /30s: 1 leading end + 1000 × (start, end) */
	assert_int_equal(count_elems(msgs, "allow4", &nmsgs), 2001);
	assert_true(nmsgs > 1);
}

static void
test_rules(void **state)
{
	g_autoptr(NftPolicy) p = sample_policy();
	g_autoptr(NftBatch) b = nft_build_batch(p, 1);
	g_autoptr(GArray) msgs = decode(b);
	guint nout = 0;
	const Msg *m;
	char want[512];

	/* the allow4 rule as `nft --debug=netlink` prints it (doc/PLATFORM.md §2.4) */
	g_snprintf(want, sizeof want, "%s",
		   "[meta load nfproto => reg 1][cmp eq reg 1 0x00000002][payload load 4b @ "
		   "network header + 16 => reg 1][lookup reg 1 set allow4");
	for (guint i = 0; i < msgs->len; i++) {
		m = &g_array_index(msgs, Msg, i);
		if (m->type == NFT_MSG_NEWRULE && !strcmp(m->name, "output"))
			nout++;
	}
	m = find(msgs, NFT_MSG_NEWRULE, "output", 0);
	assert_non_null(strstr(m->text, "meta load oifname"));
	assert_non_null(strstr(m->text, "0x00006f6c"));        /* "lo" */
	assert_non_null(strstr(m->text, "immediate reg 0 accept"));
	/* no conntrack at start-up without a connection limit: the first
	 * run-time answer brings it (test_conntrack_batch) */
	assert_false(has_rule(msgs, "output", "ct load"));
	/* find the allow4 rule and compare the expression sequence */
	m = find_rule(msgs, "output", "set allow4");
	assert_true(g_str_has_prefix(m->text, want));
	assert_true(g_str_has_suffix(m->text, "[immediate reg 0 accept]"));
	/* the last output rule jumps to deny; deny logs then rejects */
	m = find(msgs, NFT_MSG_NEWRULE, "output", nout - 1);
	assert_string_equal(m->text, "[immediate reg 0 jump -> deny]");
	m = find(msgs, NFT_MSG_NEWRULE, "deny", 0);
	assert_non_null(strstr(m->text, "[log"));
	assert_non_null(strstr(m->text, "group 7"));
	m = find(msgs, NFT_MSG_NEWRULE, "deny", 1);
	assert_non_null(strstr(m->text, "[meta load l4proto => reg 1][cmp eq reg 1 0x00000006]"));
	assert_non_null(strstr(m->text, "[reject type 1 code 0]"));
	m = find(msgs, NFT_MSG_NEWRULE, "deny", 2);
	assert_string_equal(m->text, "[reject type 2 code 3]");
	/* the resolver: udp 53 to 10.0.2.3 */
	m = find_rule(msgs, "output", "0x0302000a");
	assert_non_null(strstr(m->text, "[cmp eq reg 1 0x00000011]"));
	assert_non_null(strstr(m->text, "[cmp eq reg 1 0x00003500]"));
	/* port group rule: tcp dport 5432 then the address lookup */
	m = find_rule(msgs, "output", "set p4_tcp_5432");
	assert_non_null(strstr(m->text, "[payload load 2b @ transport header + 2 => reg 1]"
				     "[cmp eq reg 1 0x00003815]"));
	/* the gateway/resolver /31 is denied before the allow sets */
	m = find_rule(msgs, "output", "& 0xfeffffff )");
	assert_non_null(strstr(m->text, "jump -> deny"));
}

static void
test_allow_all(void **state)
{
	g_autoptr(NftPolicy) p = nft_policy_new();
	g_autoptr(NftBatch) b = NULL;
	g_autoptr(GArray) msgs = NULL;

	p->allow_all = TRUE;
	b = nft_build_batch(p, 1);
	msgs = decode(b);
	assert_int_equal(find(msgs, NFT_MSG_NEWCHAIN, "output", 0)->policy, NF_ACCEPT);
	assert_false(has(msgs, NFT_MSG_NEWSET, "allow4"));
	assert_false(has(msgs, NFT_MSG_NEWSET, "host_ports"));
	/* nothing needs conntrack: no ct expression, so none runs */
	assert_false(has_rule(msgs, "output", "ct load"));
	assert_false(has(msgs, NFT_MSG_NEWSET, "publish_ports"));
}

/* Without an allowlist or a connection limit, the host ports come first,
 * then everything not for the gateway pair is accepted at once; the
 * gateway pair's deny still follows.  With a limit, nothing may pass
 * before it. */
static void
test_allow_all_order(void **state)
{
	g_autoptr(NftPolicy) p = nft_policy_new();
	g_autoptr(NftPolicy) q = nft_policy_new();
	g_autoptr(NftBatch) b = NULL, c = NULL;
	g_autoptr(GArray) msgs = NULL, msgs2 = NULL;
	guint16 hp = 8080;
	const Msg *m;

	p->allow_all = TRUE;
	g_array_append_val(p->host_ports, hp);
	b = nft_build_batch(p, 1);
	msgs = decode(b);
	m = find(msgs, NFT_MSG_NEWRULE, "output", 0);
	assert_non_null(strstr(m->text, "set host_ports"));
	assert_non_null(strstr(m->text, "[cmp eq reg 1 0x0202000a]"));
	m = find(msgs, NFT_MSG_NEWRULE, "output", 2);
	assert_non_null(strstr(m->text, "& 0xfeffffff )"));
	assert_non_null(strstr(m->text, "[cmp neq reg 1 0x0202000a]"));
	assert_true(g_str_has_suffix(m->text, "[immediate reg 0 accept]"));
	m = find(msgs, NFT_MSG_NEWRULE, "output", 3);
	assert_non_null(strstr(m->text, "[cmp neq reg 1 0x000000fd 0x00000000 0x00000000 0x02000000]"));
	/* the deny of the gateway pair is still there, once per family */
	m = find_rule(msgs, "output", "[cmp eq reg 1 0x0202000a][immediate reg 0 jump -> deny]");
	assert_non_null(m);

	q->allow_all = TRUE;
	q->max_connections = 5;
	g_array_append_val(q->host_ports, hp);
	c = nft_build_batch(q, 1);
	msgs2 = decode(c);
	m = find(msgs2, NFT_MSG_NEWRULE, "output", 0);
	assert_non_null(strstr(m->text, "oifname"));
	assert_false(has_rule(msgs2, "output", "cmp neq reg 1 0x0202000a"));
}

/* Without an allowlist, replies of --publish'ed connections pass the
 * gateway's deny by source port and ACK flag; with a connection limit,
 * conntrack is back. */
static void
test_allow_all_publish_and_limit(void **state)
{
	g_autoptr(NftPolicy) p = nft_policy_new();
	g_autoptr(NftPolicy) q = nft_policy_new();
	g_autoptr(NftBatch) b = NULL, c = NULL;
	g_autoptr(GArray) msgs = NULL, msgs2 = NULL;
	guint16 port = 8000;
	const Msg *m;

	p->allow_all = TRUE;
	g_array_append_val(p->publish_ports, port);
	b = nft_build_batch(p, 1);
	msgs = decode(b);
	assert_true(has(msgs, NFT_MSG_NEWSET, "publish_ports"));
	m = find_rule(msgs, "output", "lookup reg 1 set publish_ports");
	assert_non_null(m);
	/* the ACK bit of the flags byte must be set */
	assert_non_null(strstr(m->text, "payload load 1b @ transport header + 13"));
	assert_non_null(strstr(m->text, "bitwise reg 1 = ( reg 1 & 0x00000010 )"));
	assert_non_null(strstr(m->text, "accept"));
	assert_false(has_rule(msgs, "output", "ct load"));

	q->allow_all = TRUE;
	q->max_connections = 10;
	c = nft_build_batch(q, 1);
	msgs2 = decode(c);
	assert_non_null(find_rule(msgs2, "output", "ct load state"));
	/* the limit comes after the resolver rules, so DNS queries to the
	 * sandbox's resolver never use it up (deterministic first request) */
	assert_true(find_rule(msgs2, "output", "connlimit") >
		    find_rule(msgs2, "output", "0x0302000a"));
}

/* The rule the first run-time answer inserts: one acknowledged NEWRULE,
 * without NLM_F_APPEND so that the kernel puts it at the head of the
 * output chain, with the expressions `nft --debug=netlink` prints for
 * "ct state established,related accept". */
static void
test_conntrack_batch(void **state)
{
	g_autoptr(NftBatch) b = nft_build_conntrack_batch(100);
	g_autoptr(GArray) msgs = decode(b);
	const Msg *m;

	assert_int_equal(msgs->len, 3);   /* begin, the rule, end */
	assert_int_equal(nft_batch_acks(b), 1);
	m = find(msgs, NFT_MSG_NEWRULE, "output", 0);
	assert_true(m->flags & NLM_F_ACK);
	assert_true(m->flags & NLM_F_CREATE);
	assert_false(m->flags & NLM_F_APPEND);
	assert_string_equal(m->text, "[ct load state => reg 1]"
				     "[bitwise reg 1 = ( reg 1 & 0x00000006 ) ^ 0x00000000]"
				     "[cmp neq reg 1 0x00000000][immediate reg 0 accept]");
	assert_int_equal(g_array_index(msgs, Msg, 0).seq, 100);
	assert_int_equal(m->seq, 101);
}

/* With an allowlist and --publish: replies of published connections pass
 * by port and ACK flag, as without a list; conntrack only with a limit. */
static void
test_list_publish_without_conntrack(void **state)
{
	g_autoptr(NftPolicy) p = sample_policy();
	g_autoptr(NftBatch) b = NULL;
	g_autoptr(GArray) msgs = NULL;
	guint16 port = 8000;

	g_array_append_val(p->publish_ports, port);
	b = nft_build_batch(p, 1);
	msgs = decode(b);
	assert_int_equal(find(msgs, NFT_MSG_NEWCHAIN, "output", 0)->policy, NF_DROP);
	assert_non_null(find_rule(msgs, "output", "lookup reg 1 set publish_ports"));
	assert_false(has_rule(msgs, "output", "ct load"));
	/* before the gateway pair's deny */
	assert_true(find_rule(msgs, "output", "set publish_ports") <
		    find_rule(msgs, "output", "& 0xfeffffff )"));
}

static void
test_set_names(void **state)
{
	NftPortGroup g = { .l4proto = IPPROTO_UDP, .port = 53 };
	char buf[32];

	assert_string_equal(nft_set_name(buf, sizeof buf, 'p', 4, NULL), "allow4");
	assert_string_equal(nft_set_name(buf, sizeof buf, 'd', 6, NULL), "dyn6");
	assert_string_equal(nft_set_name(buf, sizeof buf, 'p', 6, &g), "p6_udp_53");
	assert_string_equal(nft_set_name(buf, sizeof buf, 'd', 4, &g), "d4_udp_53");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_message_order),
		cmocka_unit_test(test_sets),
		cmocka_unit_test(test_interval_edges),
		cmocka_unit_test(test_large_set_split),
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_allow_all),
		cmocka_unit_test(test_allow_all_order),
		cmocka_unit_test(test_allow_all_publish_and_limit),
		cmocka_unit_test(test_conntrack_batch),
		cmocka_unit_test(test_list_publish_without_conntrack),
		cmocka_unit_test(test_set_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
