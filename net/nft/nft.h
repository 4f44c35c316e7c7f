/* SPDX-License-Identifier: MIT
 *
 * nft.h — the sandbox's nftables ruleset, as data and as one netlink batch.
 *
 * Plan, then apply: NftPolicy is the compiled allowlist (sorted, merged
 * address ranges per set), nft_build_batch() turns it into a libnftnl batch
 * (pure: no socket, unit-tested by parsing the bytes back), nft_install_run()
 * sends that batch in ONE sendmsg inside the sandbox netns, drains the
 * replies and reads the ruleset back to verify it.
 *
 * Ruleset (table inet mini_sandbox, see mini-sandbox-allowlist(5)):
 *
 *   set addr4/addr6        hash sets: whole-host entries of one address
 *   set allow4/allow6      interval sets: whole-host entries of wider ranges
 *   set dyn4/dyn6          timeout sets: run-time answers for *.domain entries
 *   set pN_tcp_443 (N=4/6) interval sets: entries with a port, one per proto·port
 *   set dN_tcp_443         timeout sets: *.domain entries with that proto·port
 *   set host_ports         inet_service: --allow-host-port (tcp, 10.0.2.2 only)
 *   chain output  hook output, policy drop:
 *       [ct state established,related accept]         (see below)
 *       oifname "lo" accept
 *       [ct state established,related accept]         (max_connections)
 *       tcp sport @publish_ports, ACK, to 10.0.2.2 accept (otherwise)
 *       icmpv6 type 133-137 accept                     (neighbour discovery)
 *       udp dport 53 to 10.0.2.3 / fd00::3 accept      (built-in resolver)
 *       [ct count over MAX → jump deny]               (max_connections; DNS
 *                                                      above does not count)
 *       tcp dport @host_ports to 10.0.2.2 accept
 *       daddr in 10.0.2.2/31 or fd00::2/127 → jump deny (gateway, resolver:
 *                                            nothing else, even if a CIDR covers it)
 *       daddr @addr4/@addr6/@allow4/@allow6/@dyn4/@dyn6 accept
 *       per proto·port: l4proto P th dport N daddr @pN_… / @dN_… accept
 *       jump deny
 *   chain deny:  log group SBX_NFLOG_GROUP; tcp → reject with tcp reset;
 *                reject with icmpx admin-prohibited
 *
 * Why separate timeout sets instead of "flags interval,timeout": run-time
 * answers are single addresses, and a hash set with timeouts accepts the
 * same address again (refresh) where an rbtree interval set would refuse an
 * overlapping range with EEXIST.  Both kinds were checked in an unprivileged
 * user+net namespace on this kernel.
 *
 * Conntrack only where needed: its first rule in a namespace registers
 * conntrack's hooks, which on a host without a firewall costs 1-3 ms of
 * kernel text patching (issue 19).  With max_connections ("ct count") the
 * start-up ruleset has "ct state established,related accept" after the
 * loopback rule.  Without, a set publish_ports lets replies of --publish
 * connections (ACK set, from a published port) through to the gateway, and
 * the first run-time answer for a *.domain entry inserts the ct rule at the
 * head of the chain before its addresses go in (nft_add_conntrack_rule()):
 * flows to an answer's addresses outlive its TTL, as the launcher's frame
 * filter lets them.  Other flows need no state: their packets go to the
 * same statically allowed destination.
 *
 * Unrestricted tapbox (allow_all): chain output with policy accept, keeping
 * only the gateway rules: the host's loopback stays closed except for
 * --allow-host-port.  The gateway rules come first.
 */
#pragma once

#include <glib.h>
#include <stdint.h>

#define NFT_TABLE_NAME "mini_sandbox"

/* Inclusive address range, network byte order (KEYLEN 4 or 16 bytes used). */
typedef struct {
	guint8 lo[16];
	guint8 hi[16];
} NftRange;

/* Sorted, non-overlapping, non-adjacent ranges of one address family. */
typedef struct {
	guint keylen;          /* 4 (IPv4) or 16 (IPv6) */
	GArray *ranges;        /* NftRange */
} NftRangeSet;

/* Entries with a port: one proto·port and its address ranges. */
typedef struct {
	guint8 l4proto;        /* IPPROTO_TCP or IPPROTO_UDP */
	guint16 port;          /* host order */
	NftRangeSet v4, v6;
	gboolean dynamic;      /* a *.domain entry uses it: create the dN_ timeout sets */
} NftPortGroup;

typedef struct {
	gboolean allow_all;    /* unrestricted egress, gateway rules only */
	NftRangeSet allow4, allow6;
	GArray *groups;        /* NftPortGroup, sorted by (l4proto, port) */
	GArray *host_ports;    /* guint16, host order */
	GArray *publish_ports; /* guint16, host order: --publish's sandbox ports */
	guint max_connections; /* 0 = no limit */
} NftPolicy;

/* ---- nft-policy.c: the ruleset as data ---- */

void nft_range_set_init(NftRangeSet *s, guint keylen);
void nft_range_set_clear(NftRangeSet *s);
/* Add ADDR/PREFIX (network order, s->keylen bytes). */
void nft_range_set_add_prefix(NftRangeSet *s, const guint8 *addr, guint prefix);
/* Sort and merge overlapping and adjacent ranges.  Call after adding. */
void nft_range_set_normalize(NftRangeSet *s);
/* Binary search; the set must be normalised. */
gboolean nft_range_set_contains(const NftRangeSet *s, const guint8 *addr);

NftPolicy *nft_policy_new(void);
void nft_policy_free(NftPolicy *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NftPolicy, nft_policy_free)
/* The group for L4PROTO·PORT, created if missing (keeps groups sorted). */
NftPortGroup *nft_policy_group(NftPolicy *p, guint8 l4proto, guint16 port);
/* Normalise every range set; call once after filling. */
void nft_policy_normalize(NftPolicy *p);

/* Set names of the ruleset ("allow4", "p6_tcp_443", "d4_udp_53", …) into
 * BUF (>= 32 bytes).  KIND is 'p' (static) or 'd' (timeout); FAMILY is 4
 * or 6.  For whole-host sets pass group NULL. */
const char *nft_set_name(char *buf, gsize size, char kind, int family, const NftPortGroup *g);

/* ---- nft.c: the batch (pure) ---- */

/* An opaque batch (libnftnl pages) ready to send. */
typedef struct NftBatch NftBatch;
/* Build the whole ruleset for P; SEQ is the first sequence number. */
NftBatch *nft_build_batch(const NftPolicy *p, guint32 seq);
void nft_batch_free(NftBatch *b);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NftBatch, nft_batch_free)
/* The batch as one contiguous buffer (copied), for tests and the fuzzer. */
GBytes *nft_batch_bytes(NftBatch *b);
/* Number of messages that carry NLM_F_ACK (the replies nft_install_run waits for). */
guint nft_batch_acks(const NftBatch *b);
/* One rule, "ct state established,related accept", inserted at the head
 * of chain output (no NLM_F_APPEND), acknowledged. */
NftBatch *nft_build_conntrack_batch(guint32 seq);

/* ---- nft-apply.c: send, verify, run-time additions ---- */

/* The ruleset's objects and its batch, built ahead of time from P (the
 * launcher builds them while pid 1 makes the network namespace's devices;
 * ~0.7 ms of libnftnl work on a 2-vCPU VM). */
typedef struct NftInstall NftInstall;
NftInstall *nft_install_new(const NftPolicy *p);
void nft_install_free(NftInstall *in);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NftInstall, nft_install_free)

/* Through SOCK, a bound NETLINK_NETFILTER socket opened in the sandbox's
 * netns (nft_open_socket(), by pid 1): the launcher, owner of the
 * sandbox's user namespace, holds CAP_NET_ADMIN there.  Send IN's batch in
 * one sendmsg, collect every reply (any error fails: the batch is one
 * kernel transaction, so nothing is half-applied), then dump table
 * mini_sandbox and compare its sets, elements and chain against IN.  All
 * replies are read: SOCK can serve run-time additions afterwards.
 * ENOENT / EOPNOTSUPP / EAFNOSUPPORT / EPROTONOSUPPORT → "nf_tables
 * unavailable: …" with the fix. */
gboolean nft_install_run(const NftInstall *in, int sock, GError **error);

/* Open a NETLINK_NETFILTER socket (CLOEXEC) in the current netns. */
int nft_open_socket(GError **error);

/* Run-time API (the DNS responder, launcher side).  Add N addresses of
 * FAMILY (AF_INET: struct in_addr[], AF_INET6: struct in6_addr[]) to the
 * timeout set SET (e.g. "dyn4", "d6_tcp_443") of table inet mini_sandbox,
 * each expiring after TIMEOUT_SECS (>= 1), through SOCK — a
 * NETLINK_NETFILTER socket opened inside the sandbox netns by the set-up
 * child (net_open_netns_sockets in net.c) and handed out.  One batch, waits for its
 * ACK (blocking, bounded: the kernel answers inside sendmsg).  Re-adding an
 * address that is already there succeeds. */
gboolean nft_add_runtime_addrs(int sock, const char *set, int family, const void *addrs,
			       guint n, guint timeout_secs, GError **error);
/* The reverse: remove N addresses from SET before their timeout (the
 * launcher's table of run-time answers evicted them, policy-int.h).  An
 * address the kernel already timed out is an error (ENOENT). */
gboolean nft_del_runtime_addrs(int sock, const char *set, int family, const void *addrs,
			       guint n, GError **error);
/* Insert nft_build_conntrack_batch()'s rule through SOCK (same socket as
 * above): called once, before the first run-time addresses go in.  A kernel
 * without nft_ct gets the "nf_tables unavailable" message with the fix. */
gboolean nft_add_conntrack_rule(int sock, GError **error);
