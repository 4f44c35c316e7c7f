/* SPDX-License-Identifier: MIT
 *
 * policy-int.h — EgressPolicy internals shared by policy.c (load, names,
 * hosts) and policy-frame.c (per-frame check, run-time additions), and
 * visible to the unit tests.
 */
#pragma once

#include "net/policy.h"
#include "net/nft/nft.h"

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
	guint64 dropped;
};

/* The compiled sets (for tests and the benchmarks). */
const NftPolicy *egress_policy_nft(const EgressPolicy *p);
