/* SPDX-License-Identifier: MIT
 *
 * nft-policy.c — the compiled policy model of nft.h: sorted, merged
 * address ranges (what both the ruleset and the launcher's frame filter
 * look addresses up in), port groups and set names.  Pure.
 */
#include "net/nft/nft.h"
#include "net/nft/nft-int.h"

#include <netinet/in.h>
#include <string.h>

/* ---------- address ranges ---------- */

void
nft_range_set_init(NftRangeSet *s, guint keylen)
{
	s->keylen = keylen;
	s->ranges = g_array_new(FALSE, TRUE, sizeof(NftRange));
}

void
nft_range_set_clear(NftRangeSet *s)
{
	g_clear_pointer(&s->ranges, g_array_unref);
}

void
nft_range_set_add_prefix(NftRangeSet *s, const guint8 *addr, guint prefix)
{
	NftRange r = { 0 };

	for (guint i = 0; i < s->keylen; i++) {
		guint bits = prefix > i * 8 ? prefix - i * 8 : 0;
		guint8 mask = bits >= 8 ? 0xff : (guint8)(0xff << (8 - bits));

		r.lo[i] = addr[i] & mask;
		r.hi[i] = (guint8)(addr[i] | (guint8)~mask);
	}
	g_array_append_val(s->ranges, r);
}

static int
range_cmp(gconstpointer a, gconstpointer b, gpointer keylen)
{
	return memcmp(((const NftRange *)a)->lo, ((const NftRange *)b)->lo,
		      GPOINTER_TO_UINT(keylen));
}

/* ADDR + 1 in place (big-endian); FALSE on wrap-around (ADDR was all ones). */
gboolean
nft_addr_increment(guint8 *addr, guint keylen)
{
	for (guint i = keylen; i-- > 0;)
		if (++addr[i] != 0)
			return TRUE;
	return FALSE;
}

void
nft_range_set_normalize(NftRangeSet *s)
{
	guint out = 0;

	if (s->ranges->len < 2)
		return;
	g_array_sort_with_data(s->ranges, range_cmp, GUINT_TO_POINTER(s->keylen));
	for (guint i = 1; i < s->ranges->len; i++) {
		NftRange *cur = &g_array_index(s->ranges, NftRange, out);
		NftRange *next = &g_array_index(s->ranges, NftRange, i);
		guint8 after[16];
		gboolean top;

		memcpy(after, cur->hi, s->keylen);
		top = !nft_addr_increment(after, s->keylen);
		/* overlapping or adjacent: the kernel refuses overlaps (EEXIST) */
		if (top || memcmp(next->lo, after, s->keylen) <= 0) {
			if (memcmp(next->hi, cur->hi, s->keylen) > 0)
				memcpy(cur->hi, next->hi, s->keylen);
		} else {
			g_array_index(s->ranges, NftRange, ++out) = *next;
		}
	}
	g_array_set_size(s->ranges, out + 1);
}

gboolean
nft_range_set_contains(const NftRangeSet *s, const guint8 *addr)
{
	guint lo = 0, hi = s->ranges->len;

	while (lo < hi) {
		guint mid = lo + (hi - lo) / 2;
		const NftRange *r = &g_array_index(s->ranges, NftRange, mid);

		if (memcmp(addr, r->lo, s->keylen) < 0)
			hi = mid;
		else if (memcmp(addr, r->hi, s->keylen) > 0)
			lo = mid + 1;
		else
			return TRUE;
	}
	return FALSE;
}

static void
group_clear(gpointer p)
{
	NftPortGroup *g = p;

	nft_range_set_clear(&g->v4);
	nft_range_set_clear(&g->v6);
}

NftPolicy *
nft_policy_new(void)
{
	NftPolicy *p = g_new0(NftPolicy, 1);

	nft_range_set_init(&p->allow4, 4);
	nft_range_set_init(&p->allow6, 16);
	p->groups = g_array_new(FALSE, TRUE, sizeof(NftPortGroup));
	g_array_set_clear_func(p->groups, group_clear);
	p->host_ports = g_array_new(FALSE, TRUE, sizeof(guint16));
	p->publish_ports = g_array_new(FALSE, TRUE, sizeof(guint16));
	return p;
}

void
nft_policy_free(NftPolicy *p)
{
	if (!p)
		return;
	nft_range_set_clear(&p->allow4);
	nft_range_set_clear(&p->allow6);
	g_array_unref(p->groups);
	g_array_unref(p->host_ports);
	g_array_unref(p->publish_ports);
	g_free(p);
}

NftPortGroup *
nft_policy_group(NftPolicy *p, guint8 l4proto, guint16 port)
{
	guint i;
	NftPortGroup g = { .l4proto = l4proto, .port = port };

	for (i = 0; i < p->groups->len; i++) {
		NftPortGroup *cur = &g_array_index(p->groups, NftPortGroup, i);

		if (cur->l4proto == l4proto && cur->port == port)
			return cur;
		if (cur->l4proto > l4proto || (cur->l4proto == l4proto && cur->port > port))
			break;
	}
	nft_range_set_init(&g.v4, 4);
	nft_range_set_init(&g.v6, 16);
	g_array_insert_val(p->groups, i, g);
	return &g_array_index(p->groups, NftPortGroup, i);
}

void
nft_policy_normalize(NftPolicy *p)
{
	nft_range_set_normalize(&p->allow4);
	nft_range_set_normalize(&p->allow6);
	for (guint i = 0; i < p->groups->len; i++) {
		NftPortGroup *g = &g_array_index(p->groups, NftPortGroup, i);

		nft_range_set_normalize(&g->v4);
		nft_range_set_normalize(&g->v6);
	}
}

const char *
nft_set_name(char *buf, gsize size, char kind, int family, const NftPortGroup *g)
{
	if (!g)
		g_snprintf(buf, size, "%s%d", kind == 'd' ? "dyn" : "allow", family);
	else
		g_snprintf(buf, size, "%c%d_%s_%u", kind, family,
			   g->l4proto == IPPROTO_TCP ? "tcp" : "udp", g->port);
	return buf;
}
