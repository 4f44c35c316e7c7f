/* SPDX-License-Identifier: MIT
 *
 * policy.c — the egress policy: allowlist text → resolved, compiled
 * address sets (nft.h), the sandbox's /etc/hosts, the per-frame check in
 * the launcher and the DNS responder's view of allowlisted names.
 *
 * The frame filter mirrors the nft ruleset (nft.h) so that a bypass of the
 * in-namespace rules still reaches nothing: same sets, binary search on
 * sorted ranges, no allocation per frame.
 */
#include "net/policy.h"
#include "net/allowlist.h"
#include "net/nft/nft.h"
#include "net/resolve.h"
#include "net/policy-int.h"
#include "common/error.h"
#include "common/log.h"

#include <arpa/inet.h>
#include <string.h>

static void
domain_addrs_free(gpointer p)
{
	DomainAddrs *d = p;

	g_array_unref(d->v4);
	g_array_unref(d->v6);
	g_free(d);
}

static void
wildcard_clear(gpointer p)
{
	g_free(((Wildcard *)p)->suffix);
}

static guint
dyn_key_hash(gconstpointer p)
{
	const DynKey *k = p;
	guint h = 2166136261u ^ (guint)k->group;

	for (guint i = 0; i < k->keylen; i++)
		h = (h ^ k->addr[i]) * 16777619u;
	return h;
}

static gboolean
dyn_key_equal(gconstpointer a, gconstpointer b)
{
	const DynKey *x = a, *y = b;

	return x->group == y->group && x->keylen == y->keylen &&
	       memcmp(x->addr, y->addr, x->keylen) == 0;
}

static EgressPolicy *
policy_new(void)
{
	EgressPolicy *p = g_new0(EgressPolicy, 1);

	p->nft = nft_policy_new();
	p->domains = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, domain_addrs_free);
	p->domain_order = g_ptr_array_new();
	p->wildcards = g_array_new(FALSE, TRUE, sizeof(Wildcard));
	g_array_set_clear_func(p->wildcards, wildcard_clear);
	p->empty4 = g_array_new(FALSE, FALSE, sizeof(struct in_addr));
	p->empty6 = g_array_new(FALSE, FALSE, sizeof(struct in6_addr));
	nft_range_set_init(&p->literal4, 4);
	nft_range_set_init(&p->literal6, 16);
	/* DynEntry holds its key: freeing the value frees both */
	p->dyn = g_hash_table_new_full(dyn_key_hash, dyn_key_equal, NULL, g_free);
	g_queue_init(&p->dyn_order);
	p->literal = nft_policy_new();
	p->names = g_array_new(FALSE, TRUE, sizeof(Wildcard));
	g_array_set_clear_func(p->names, wildcard_clear);
	return p;
}

void
egress_policy_free(EgressPolicy *p)
{
	if (!p)
		return;
	nft_install_free(p->install);
	nft_policy_free(p->nft);
	g_ptr_array_unref(p->domain_order);
	g_hash_table_unref(p->domains);
	g_array_unref(p->wildcards);
	g_array_unref(p->empty4);
	g_array_unref(p->empty6);
	nft_range_set_clear(&p->literal4);
	nft_range_set_clear(&p->literal6);
	g_hash_table_unref(p->dyn);
	nft_policy_free(p->literal);
	g_array_unref(p->names);
	g_free(p);
}

gboolean
egress_policy_is_restricted(const EgressPolicy *p)
{
	return p->restricted;
}

gboolean
egress_addr_is_refused_range(int family, const void *addr)
{
	const guint8 *a = addr;

	if (family == AF_INET) {
		return a[0] == 0 ||                          /* 0.0.0.0/8 "this network" */
		       a[0] == 127 ||                        /* loopback */
		       (a[0] == 169 && a[1] == 254) ||       /* link-local, 169.254.169.254 */
		       a[0] >= 224;                          /* multicast, reserved, broadcast */
	}
	if (family == AF_INET6) {
		static const guint8 metadata[16] = { 0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0,
						     0, 0, 0, 0, 0, 0, 0x02, 0x54 };
		const struct in6_addr *a6 = addr;

		if (IN6_IS_ADDR_V4MAPPED(a6) || IN6_IS_ADDR_V4COMPAT(a6))
			return egress_addr_is_refused_range(AF_INET, a + 12) ||
			       IN6_IS_ADDR_UNSPECIFIED(a6) || IN6_IS_ADDR_LOOPBACK(a6);
		return IN6_IS_ADDR_UNSPECIFIED(a6) || IN6_IS_ADDR_LOOPBACK(a6) ||
		       IN6_IS_ADDR_LINKLOCAL(a6) || IN6_IS_ADDR_MULTICAST(a6) ||
		       memcmp(a, metadata, 16) == 0;
	}
	return TRUE;
}

/* Add ADDR/PREFIX of an entry with PORT/PROTOS to the compiled sets. */
static void
add_addr(EgressPolicy *p, int family, const guint8 *addr, guint prefix, guint16 port,
	 guint8 protos)
{
	if (!port) {
		nft_range_set_add_prefix(family == AF_INET ? &p->nft->allow4 : &p->nft->allow6,
					 addr, prefix);
		return;
	}
	for (guint8 bit = ALLOW_PROTO_TCP; bit <= ALLOW_PROTO_UDP; bit <<= 1) {
		NftPortGroup *g;

		if (!(protos & bit))
			continue;
		g = nft_policy_group(p->nft, bit == ALLOW_PROTO_TCP ? IPPROTO_TCP : IPPROTO_UDP,
				     port);
		nft_range_set_add_prefix(family == AF_INET ? &g->v4 : &g->v6, addr, prefix);
	}
}

static gboolean
is_literal(EgressPolicy *p, int family, const void *addr)
{
	return nft_range_set_contains(family == AF_INET ? &p->literal4 : &p->literal6, addr);
}

/* Drop answers in refused ranges (unless listed literally), with a warning. */
static void
filter_refused(EgressPolicy *p, const char *name, int family, GArray *addrs)
{
	gsize size = family == AF_INET ? 4 : 16;

	for (guint i = 0; i < addrs->len;) {
		const void *a = addrs->data + i * size;

		if (egress_addr_is_refused_range(family, a) && !is_literal(p, family, a)) {
			char buf[INET6_ADDRSTRLEN];

			inet_ntop(family, a, buf, sizeof buf);
			sbx_warn("%s resolves to %s (loopback, link-local, multicast or metadata "
				 "range): not allowed; list the address literally to allow it",
				 name, buf);
			g_array_remove_index(addrs, i);
		} else {
			i++;
		}
	}
}

/* The protocols a domain entry (`name`, `*.name`) admits.  QUIC hides the
 * server name in an encrypted Initial, so the name gate cannot check UDP:
 * a domain entry with a port admits UDP only when it says /udp (HTTP/3
 * clients fall back to TCP).  Without a port the whole-host sets take the
 * addresses, and the launcher's frame filter drops UDP to them
 * (policy-frame.c); an IP entry for the same address still admits it. */
static guint8
domain_protos(const AllowEntry *e)
{
	return e->port && e->protos == ALLOW_PROTO_ANY ? ALLOW_PROTO_TCP : e->protos;
}

static gboolean
resolve_domain(EgressPolicy *p, const SbxConfig *cfg, const AllowEntry *e, GError **error)
{
	DomainAddrs *d = g_hash_table_lookup(p->domains, e->domain);
	g_autoptr(GError) local = NULL;

	if (!d) {
		char *key;

		d = g_new0(DomainAddrs, 1);
		d->v4 = g_array_new(FALSE, FALSE, sizeof(struct in_addr));
		d->v6 = g_array_new(FALSE, FALSE, sizeof(struct in6_addr));
		key = g_strdup(e->domain);
		g_hash_table_insert(p->domains, key, d);
		g_ptr_array_add(p->domain_order, key);
		if (sbx_resolve_name(e->domain, cfg->resolver, d->v4, d->v6, &local)) {
			filter_refused(p, e->domain, AF_INET, d->v4);
			filter_refused(p, e->domain, AF_INET6, d->v6);
		}
		if (local || (d->v4->len == 0 && d->v6->len == 0)) {
			g_autofree char *why = local ? g_strdup(local->message) :
				g_strdup_printf("%s does not resolve to any usable address",
						e->domain);

			if (!cfg->allow_unresolved) {
				g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_NETWORK,
					    "%s: %s (--allow-unresolved makes this a warning)",
					    e->where, why);
				return FALSE;
			}
			sbx_warn("%s: %s; continuing without it", e->where, why);
		}
	}
	for (guint i = 0; i < d->v4->len; i++)
		add_addr(p, AF_INET, (const guint8 *)&g_array_index(d->v4, struct in_addr, i), 32,
			 e->port, domain_protos(e));
	for (guint i = 0; i < d->v6->len; i++)
		add_addr(p, AF_INET6, (const guint8 *)&g_array_index(d->v6, struct in6_addr, i),
			 128, e->port, domain_protos(e));
	return TRUE;
}

static gboolean
collect_entries(const SbxConfig *cfg, GArray *entries, GError **error)
{
	for (guint i = 0; i < cfg->allow_files->len; i++)
		if (!allowlist_parse_file(cfg->allow_files->pdata[i], entries, error))
			return FALSE;
	for (guint i = 0; i < cfg->allow_entries->len; i++) {
		g_autofree char *where = g_strdup_printf("--allow:%u", i + 1);
		const char *text = cfg->allow_entries->pdata[i];

		if (strchr(text, '\n')) {
			g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_NETWORK,
				    "%s: one entry per --allow", where);
			return FALSE;
		}
		if (!allowlist_parse_line(text, where, entries, error))
			return FALSE;
	}
	/* what the profiles read (net/profile/profile-host.c expanded them) */
	for (guint i = 0; i < cfg->profile_entries->len; i++)
		if (!allowlist_parse_line(cfg->profile_entries->pdata[i],
					  cfg->profile_where->pdata[i], entries, error))
			return FALSE;
	return TRUE;
}

EgressPolicy *
egress_policy_load(const SbxConfig *cfg, GError **error)
{
	g_autoptr(EgressPolicy) p = policy_new();
	g_autoptr(GArray) entries = allowlist_new();
	gboolean has_domains = FALSE;

	for (guint i = 0; i < cfg->host_ports->len; i++)
		g_array_append_val(p->nft->host_ports, g_array_index(cfg->host_ports, guint16, i));
	for (guint i = 0; i < cfg->publish->len; i++)
		g_array_append_val(p->nft->publish_ports,
				   g_array_index(cfg->publish, SbxPublish, i).guest_port);
	p->nft->max_connections = cfg->max_connections;
	if (cfg->allow_all) {
		p->nft->allow_all = TRUE;
		return g_steal_pointer(&p);
	}
	p->restricted = TRUE;
	if (!collect_entries(cfg, entries, error))
		return NULL;

	/* room for every entry up front: growing by doubling copied the
	 * arrays again and again for long lists */
	for (guint i = 0; i < entries->len; i++)
		has_domains |= g_array_index(entries, AllowEntry, i).kind == ALLOW_DOMAIN;
	g_array_set_size(p->nft->allow4.ranges, entries->len);
	g_array_set_size(p->nft->allow4.ranges, 0);
	/* literal entries first: they decide which refused-range answers stay */
	for (guint i = 0; i < entries->len; i++) {
		const AllowEntry *e = &g_array_index(entries, AllowEntry, i);
		int family = e->kind == ALLOW_ADDR4 ? AF_INET : AF_INET6;

		if (e->kind != ALLOW_ADDR4 && e->kind != ALLOW_ADDR6)
			continue;
		/* only needed to judge domain answers */
		if (has_domains)
			nft_range_set_add_prefix(family == AF_INET ? &p->literal4 : &p->literal6,
						 (const guint8 *)&e->addr, e->prefix);
		add_addr(p, family, (const guint8 *)&e->addr, e->prefix, e->port, e->protos);
		egress_policy_gate_add_literal(p, e);
	}
	nft_range_set_normalize(&p->literal4);
	nft_range_set_normalize(&p->literal6);
	for (guint i = 0; i < entries->len; i++) {
		const AllowEntry *e = &g_array_index(entries, AllowEntry, i);

		if (e->kind == ALLOW_DOMAIN) {
			Wildcard n = { g_strdup(e->domain), e->port, domain_protos(e) };

			g_array_append_val(p->names, n);
			if (!resolve_domain(p, cfg, e, error))
				return NULL;
		} else if (e->kind == ALLOW_WILDCARD) {
			Wildcard w = { g_strdup(e->domain), e->port, domain_protos(e) };

			g_array_append_val(p->wildcards, w);
			for (guint8 bit = ALLOW_PROTO_TCP; e->port && bit <= ALLOW_PROTO_UDP;
			     bit <<= 1)
				if (w.protos & bit)
					nft_policy_group(p->nft, bit == ALLOW_PROTO_TCP ?
							 IPPROTO_TCP : IPPROTO_UDP, e->port)->dynamic = TRUE;
		}
	}
	nft_policy_normalize(p->nft);
	nft_policy_normalize(p->literal);
	return g_steal_pointer(&p);
}

const NftPolicy *
egress_policy_nft(const EgressPolicy *p)
{
	return p->nft;
}

char *
egress_policy_hosts_file(const EgressPolicy *p)
{
	GString *s = g_string_new("127.0.0.1\tlocalhost\n"
				  "::1\tlocalhost ip6-localhost ip6-loopback\n");

	for (guint i = 0; i < p->domain_order->len; i++) {
		const char *name = p->domain_order->pdata[i];
		DomainAddrs *d = g_hash_table_lookup(p->domains, name);
		char buf[INET6_ADDRSTRLEN];

		for (guint j = 0; j < d->v4->len; j++)
			g_string_append_printf(s, "%s\t%s\n",
					       inet_ntop(AF_INET, &g_array_index(d->v4, struct in_addr, j),
							 buf, sizeof buf), name);
		for (guint j = 0; j < d->v6->len; j++)
			g_string_append_printf(s, "%s\t%s\n",
					       inet_ntop(AF_INET6,
							 &g_array_index(d->v6, struct in6_addr, j),
							 buf, sizeof buf), name);
	}
	return g_string_free(s, FALSE);
}

void
egress_policy_prepare_install(EgressPolicy *p)
{
	if (!p->install)
		p->install = nft_install_new(p->nft);
}

gboolean
egress_policy_install(EgressPolicy *p, int nft_sock, GError **error)
{
	egress_policy_prepare_install(p);
	if (!nft_install_run(p->install, nft_sock, error))
		return sbx_prefix_error(error, "install the egress ruleset");
	return TRUE;
}

gboolean
egress_policy_lookup_name(EgressPolicy *p, const char *name, GArray **addrs4, GArray **addrs6,
			  gboolean *is_wildcard)
{
	g_autofree char *n = allowlist_normalize_domain(name);
	DomainAddrs *d;

	*addrs4 = p->empty4;
	*addrs6 = p->empty6;
	*is_wildcard = FALSE;
	if (!n)
		return FALSE;
	d = g_hash_table_lookup(p->domains, n);
	if (d) {
		*addrs4 = d->v4;
		*addrs6 = d->v6;
		return TRUE;
	}
	for (guint i = 0; i < p->wildcards->len; i++) {
		if (allowlist_name_matches_wildcard(n, g_array_index(p->wildcards, Wildcard,
								     i).suffix)) {
			*is_wildcard = TRUE;
			return TRUE;
		}
	}
	return FALSE;
}
