/* SPDX-License-Identifier: MIT
 *
 * denials.c — blocked packets (NFLOG), refused names and answers, tied to
 * the names the resolver handed out, written to one log (denylog.c).
 */
#include "net/denials.h"
#include "net/denylog.h"
#include "net/dns-msg.h"
#include "net/nflog.h"
#include "net/policy-int.h"
#include "common/log.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

struct Denials {
	EgressPolicy *policy;   /* borrowed; outlives us (net.c) */
	gboolean restricted;
	NflogReader *nflog;
	DenyLog *log;
	GHashTable *addr_names; /* GBytes(family byte + address) → name */
	Learner *learner;       /* --learn, borrowed; or NULL */
};

static GBytes *
addr_key(int family, const void *addr)
{
	guint8 k[17];
	size_t alen = family == AF_INET6 ? 16 : 4;

	k[0] = (guint8)family;
	memcpy(k + 1, addr, alen);
	return g_bytes_new(k, 1 + alen);
}

void
denials_remember(Denials *d, const char *name, int family, const void *addrs, size_t n)
{
	size_t alen = family == AF_INET6 ? 16 : 4;

	if (d->learner)
		learn_lookup(d->learner, name);
	for (size_t i = 0; i < n; i++) {
		/* bounded: forget everything rather than grow without limit */
		if (g_hash_table_size(d->addr_names) >= DENIALS_MAX_ADDR_NAMES)
			g_hash_table_remove_all(d->addr_names);
		g_hash_table_replace(d->addr_names, addr_key(family, (const guint8 *)addrs + i * alen),
				     g_strdup(name));
	}
}

const char *
denials_name_for(Denials *d, int family, const void *addr)
{
	g_autoptr(GBytes) key = addr_key(family, addr);

	return g_hash_table_lookup(d->addr_names, key);
}

/* Names pinned at start-up: the payload may connect by /etc/hosts without
 * ever asking the resolver, so seed the map from the same hosts text. */
static void
remember_pinned_names(Denials *d, EgressPolicy *policy)
{
	g_autofree char *hosts = egress_policy_hosts_file(policy);
	g_auto(GStrv) lines = g_strsplit(hosts ? hosts : "", "\n", -1);

	for (char **l = lines; *l; l++) {
		g_auto(GStrv) f = g_strsplit_set(*l, " \t", 3);
		struct in6_addr a;

		if (!f[0] || !f[1] || !*f[1] || g_str_has_prefix(f[1], "localhost"))
			continue;
		if (inet_pton(AF_INET, f[0], &a) == 1)
			denials_remember(d, f[1], AF_INET, &a, 1);
		else if (inet_pton(AF_INET6, f[0], &a) == 1)
			denials_remember(d, f[1], AF_INET6, &a, 1);
	}
}

/* NflogEventFunc */
static void
on_blocked(const NflogEvent *ev, gpointer data)
{
	Denials *d = data;

	/* The kernel's own multicast chatter (MLD reports, IGMP, …) hits the
	 * deny chain too; it is no connection the payload attempted. */
	if ((ev->family == AF_INET6 && ev->daddr.v6.s6_addr[0] == 0xff) ||
	    (ev->family == AF_INET && (IN_MULTICAST(ntohl(ev->daddr.v4.s_addr)) ||
				       ev->daddr.v4.s_addr == INADDR_BROADCAST)))
		return;
	denylog_connection(d->log, ev->family, &ev->daddr, ev->l4proto, ev->dport,
			   denials_name_for(d, ev->family, &ev->daddr));
	if (d->learner)
		learn_connection(d->learner, ev->family, &ev->daddr, ev->l4proto, 0, ev->dport,
				 denials_name_for(d, ev->family, &ev->daddr));
}

void
denials_set_learner(Denials *d, Learner *learner)
{
	d->learner = learner;
}

/* EgressDynEvictFunc: the run-time table was full and ADDR, the oldest
 * *.domain answer, made room; new connections to it are refused until a
 * fresh answer brings it back. */
static void
on_dyn_evicted(int family, const void *addr, gpointer data)
{
	Denials *d = data;
	g_autofree char *reason = g_strdup_printf("evicted: the table of run-time answers is "
						  "full (%u addresses); resolve the name again",
						  (guint)DYN_MAX_ENTRIES);

	denylog_answer(d->log, denials_name_for(d, family, addr), family, addr, reason);
}

void
denials_refused_name(Denials *d, const char *name, guint16 qtype)
{
	denylog_name(d->log, name, qtype);
	/* only lookups a connection needs; other types follow from them */
	if (d->learner && (qtype == DNS_TYPE_A || qtype == DNS_TYPE_AAAA))
		learn_refused_name(d->learner, name);
}

void
denials_refused_answer(Denials *d, const char *name, int family, const void *addr,
		       const char *reason)
{
	denylog_answer(d->log, name, family, addr, reason);
}

void
denials_refused_on_wire(Denials *d, int family, const void *addr, guint16 port,
			const char *reason, const char *name)
{
	denylog_name_on_wire(d->log, family, addr, port, reason, name);
	if (d->learner)
		learn_connection(d->learner, family, addr, IPPROTO_TCP, 0, port,
				 name[0] ? name : denials_name_for(d, family, addr));
}

Denials *
denials_new(EgressPolicy *policy, const SbxConfig *cfg, GMainContext *ctx, int nflog_sock)
{
	Denials *d = g_new0(Denials, 1);
	g_autoptr(GError) error = NULL;

	d->policy = policy;
	d->restricted = policy && egress_policy_is_restricted(policy);
	d->addr_names = g_hash_table_new_full(g_bytes_hash, g_bytes_equal,
					      (GDestroyNotify)g_bytes_unref, g_free);
	if (d->restricted)
		remember_pinned_names(d, policy);
	d->log = denylog_new(sbx_log_prog(), cfg->log_file, cfg->verbose, &error);
	if (!d->log) {
		/* options.c checks --log early; this is the race-with-the-disk case */
		sbx_warn("%s; denials go to stderr only", error->message);
		d->log = denylog_new(sbx_log_prog(), NULL, cfg->verbose, NULL);
	}
	denylog_attach(d->log, ctx);
	denylog_set_quiet(d->log, cfg->quiet);
	if (nflog_sock >= 0)
		d->nflog = nflog_reader_new(nflog_sock, ctx, on_blocked, d);
	if (d->restricted)
		egress_policy_set_evict_func(policy, on_dyn_evicted, d);
	return d;
}

void
denials_finish(Denials *d)
{
	if (!d)
		return;
	/* the last rejections before the payload exited may still be queued */
	if (d->nflog)
		nflog_reader_drain(d->nflog);
	if (nflog_reader_lost(d->nflog))
		sbx_warn("%" G_GUINT64_FORMAT " denial report(s) were lost (socket overflow)",
			 nflog_reader_lost(d->nflog));
	if (d->restricted)
		denylog_finish(d->log);
}

void
denials_free(Denials *d)
{
	if (!d)
		return;
	if (d->restricted)
		egress_policy_set_evict_func(d->policy, NULL, NULL);
	nflog_reader_free(d->nflog);
	denylog_free(d->log);
	g_hash_table_unref(d->addr_names);
	g_free(d);
}
