/* SPDX-License-Identifier: MIT
 *
 * nft-int.h — shared between nft.c (build), nft-apply.c (send, verify)
 * and the unit tests; not part of the net/ seam.  Everything here is
 * defined in nft.c except nft_addr_increment() (nft-policy.c).
 */
#pragma once

#include "net/nft/nft.h"

#include <net/if.h>
#include <sys/uio.h>

struct nftnl_table;
struct nftnl_chain;
struct nftnl_set;

#define NFT_CHAIN_OUTPUT "output"
#define NFT_CHAIN_DENY "deny"
/* nft datatype ids (nftables include/datatype.h) */
#define NFT_TYPE_IPV4 7
#define NFT_TYPE_IPV6 8
#define NFT_TYPE_INET_SERVICE 13
/* batch page size, as nft's BATCH_PAGE_SIZE */
#define NFT_BATCH_PAGE (4096 * 32)

/* One set element: key (network order) and whether it ends an interval. */
typedef struct {
	guint8 key[16];
	guint8 len;
	guint8 end;
} NftElemKey;

/* The ruleset as libnftnl objects: built once for the batch, again for the
 * read-back comparison. */
typedef struct {
	struct nftnl_table *table;
	struct nftnl_chain *output, *deny;
	GPtrArray *sets;       /* struct nftnl_set *, without elements */
	GPtrArray *set_keys;   /* GArray of NftElemKey per set, same index */
	GPtrArray *rules;      /* struct nftnl_rule *, in batch order (deny chain first) */
} NftObjects;

NftObjects *nft_objects_build(const NftPolicy *p);
void nft_objects_free(NftObjects *o);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NftObjects, nft_objects_free)

/* ADDR + 1 in place (big-endian, KEYLEN bytes); FALSE when it wrapped to 0.
 * In nft-policy.c. */
gboolean nft_addr_increment(guint8 *addr, guint keylen);
/* Interval-set elements for RS (doc/PLATFORM.md §2.3) appended to KEYS;
 * with SKIP_SINGLES only for its ranges of more than one address. */
void nft_interval_keys(const NftRangeSet *rs, gboolean skip_singles, GArray *keys);
/* Hash-set elements: the single-address ranges of RS. */
void nft_single_keys(const NftRangeSet *rs, GArray *keys);
/* Serialise O into a batch (nft_build_batch = build objects + this). */
NftBatch *nft_objects_batch(const NftObjects *o, guint32 seq);
/* The batch pages as an iovec array (caller g_free()s *IOV); returns count. */
int nft_batch_iov(NftBatch *b, struct iovec **iov);
/* What the batch message with sequence number SEQ creates, for errors. */
const char *nft_batch_describe(const NftBatch *b, guint32 seq);
