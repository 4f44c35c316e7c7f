/* SPDX-License-Identifier: MIT
 *
 * policy-int.h — EgressPolicy internals shared by policy.c (load, names,
 * hosts) and policy-frame.c (per-frame check, run-time additions), and
 * visible to the unit tests.
 */
#pragma once

#include "net/policy.h"
#include "net/nft/nft.h"
#include "net/allowlist.h"

typedef struct {
	GArray *v4;            /* struct in_addr */
	GArray *v6;            /* struct in6_addr */
} DomainAddrs;

typedef struct {
	char *suffix;
	guint16 port;
	guint8 protos;
} Wildcard;

/* Run-time address (a *.domain answer) for the frame filter. */
typedef struct {
	gint32 group;          /* index into nft->groups, -1 = whole host */
	guint8 keylen;
	guint8 addr[16];
} DynKey;

/* The run-time table (policy-frame.c) is bounded in time and size: an
 * address is dropped DYN_IDLE_USEC after both its TTL and the last frame
 * of a flow that used it (the frame filter lets established TCP flows
 * outlive the TTL, as conntrack does in the ruleset), swept at most every
 * DYN_SWEEP_USEC; and at most DYN_MAX_ENTRIES addresses are kept, the
 * oldest added evicted first (reported through the evict function).
 * 16384 × ~120 bytes ≈ 2 MB: far more than any payload connects to
 * within the 300 s TTL cap, far less than the 63 MB that 300 000
 * distinct answers took when nothing expired. */
#define DYN_MAX_ENTRIES 16384
#define DYN_IDLE_USEC ((gint64)G_USEC_PER_SEC * 3600)
#define DYN_SWEEP_USEC ((gint64)G_USEC_PER_SEC * 5)

typedef struct {
	DynKey key;            /* the hash key: first */
	gint64 expiry;         /* monotonic µs: new flows allowed until then */
	gint64 last_used;      /* monotonic µs of the last frame it let through */
	GList link;            /* in EgressPolicy.dyn_order, oldest first; data = this */
} DynEntry;

struct EgressPolicy {
	NftPolicy *nft;
	NftInstall *install;   /* nft's batch, built ahead (egress_policy_prepare_install) */
	gboolean restricted;
	GHashTable *domains;   /* name → DomainAddrs */
	GPtrArray *domain_order; /* names, in allowlist order (hosts file) */
	GArray *wildcards;     /* Wildcard */
	GArray *empty4, *empty6;
	NftRangeSet literal4, literal6; /* every literal entry, ports ignored */
	GHashTable *dyn;       /* DynKey → DynEntry (its own key) */
	GQueue dyn_order;      /* DynEntry links, oldest added first */
	gint64 dyn_swept;      /* monotonic µs of the last sweep */
	guint64 dyn_evicted;   /* entries dropped by DYN_MAX_ENTRIES */
	gboolean conntrack;    /* the ruleset's ct rule is in (nft.h) */
	EgressDynEvictFunc evict_func;
	gpointer evict_data;
	/* The name gate's view (policy-gate.c): literal (IP/CIDR) entries
	 * alone, with their ports, and the exact domain entries with theirs
	 * (Wildcard.suffix holds the whole name). */
	NftPolicy *literal;
	GArray *names;         /* Wildcard */
	guint64 dropped;
};

/* Record literal entry E (ADDR4/ADDR6) in the name gate's view
 * (policy-gate.c); egress_policy_load normalises it at the end. */
void egress_policy_gate_add_literal(EgressPolicy *p, const AllowEntry *e);

/* Does an IP/CIDR entry without a port cover ADDR (KEYLEN bytes)? */
gboolean egress_policy_literal_host(const EgressPolicy *p, guint keylen, const guint8 *addr);

/* Drop the run-time entries unused since DYN_IDLE_USEC after their TTL,
 * as of NOW (monotonic µs).  For tests; egress_policy_add_resolved() calls
 * it every DYN_SWEEP_USEC. */
void egress_policy_dyn_sweep(EgressPolicy *p, gint64 now);

/* The compiled sets (for tests and the benchmarks). */
const NftPolicy *egress_policy_nft(const EgressPolicy *p);
