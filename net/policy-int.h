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

struct EgressPolicy {
	NftPolicy *nft;
	gboolean restricted;
	GHashTable *domains;   /* name → DomainAddrs */
	GPtrArray *domain_order; /* names, in allowlist order (hosts file) */
	GArray *wildcards;     /* Wildcard */
	GArray *empty4, *empty6;
	NftRangeSet literal4, literal6; /* every literal entry, ports ignored */
	GHashTable *dyn;       /* DynKey → gint64 expiry (monotonic µs) */
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

/* The compiled sets (for tests and the benchmarks). */
const NftPolicy *egress_policy_nft(const EgressPolicy *p);
