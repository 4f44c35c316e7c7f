/* SPDX-License-Identifier: MIT
 *
 * policy.h — the egress allowlist, from text to kernel.
 *
 * allowlist.c parses the grammar; policy.c compiles the entries, resolving
 * domains on the host, into an NftPolicy (net/nft/) and installs it;
 * policy-frame.c checks every frame against it and adds run-time answers;
 * policy-gate.c answers the TCP relay's name gate.  Users: net.c
 * (net_prepare / child setup / per-frame check), the DNS responder (dns.h:
 * name lookups, run-time additions for *.domain entries) and the name gate
 * (net/relay/name-gate.h).
 */
#pragma once

#include "common/config.h"
#include "net/frame.h"
#include <netinet/in.h>
#include <stdint.h>

typedef struct EgressPolicy EgressPolicy;

/* ---- policy.c: load, hosts file, install, names ---- */

/* Parse every -F file and --allow entry of CFG, resolve domains on the host
 * (cfg->resolver or the system resolver), refuse answers in loopback /
 * link-local / multicast / metadata ranges unless listed literally, and
 * compile interval sets.  Errors: "FILE:LINE: what is wrong" (code
 * SBX_ERR_ILLEGAL_NETWORK).  cfg->allow_all → a policy that allows all. */
EgressPolicy *egress_policy_load(const SbxConfig *cfg, GError **error);
void egress_policy_free(EgressPolicy *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(EgressPolicy, egress_policy_free)

/* TRUE when the policy restricts anything (FALSE for unrestricted tapbox). */
gboolean egress_policy_is_restricted(const EgressPolicy *p);

/* /etc/hosts for the sandbox: localhost lines + each allowlisted domain
 * pinned to its start-up addresses.  Caller frees. */
char *egress_policy_hosts_file(const EgressPolicy *p);

/* Launcher side, through NFT_SOCK (a NETLINK_NETFILTER socket pid 1
 * opened in the sandbox's netns, nft_install_run()): install table inet
 * mini_sandbox in ONE batch, read it back and verify it. */
gboolean egress_policy_install(EgressPolicy *p, int nft_sock, GError **error);

/* Build the ruleset's batch now (egress_policy_install() does it if not
 * done): the launcher calls it while it waits for pid 1's sockets. */
void egress_policy_prepare_install(EgressPolicy *p);

/* DNS view of the policy.  Look NAME up (case-insensitive, no trailing dot):
 * returns TRUE if allowlisted (exact entry or *.suffix match); fills
 * *addrs4 / *addrs6 (GArray of struct in_addr / struct in6_addr, borrowed,
 * may be empty) from the start-up resolution for exact entries;
 * *is_wildcard tells the caller to resolve upstream on demand. */
gboolean egress_policy_lookup_name(EgressPolicy *p, const char *name,
				   GArray **addrs4, GArray **addrs6, gboolean *is_wildcard);

/* Is ADDR in a range refused for resolved answers (loopback, link-local,
 * multicast, metadata, unspecified)?  FAMILY is AF_INET / AF_INET6. */
gboolean egress_addr_is_refused_range(int family, const void *addr);

/* ---- policy-frame.c: the per-frame check, run-time additions ---- */

/* Launcher side, per frame from the tap (defence in depth), as
 * frame_parse() found it (FI; NULL when it could not be parsed: refused):
 * TRUE if the frame's destination is allowed by the compiled policy (ARP, IPv6 ND and
 * frames to the built-in resolver / gateway are allowed as the ruleset
 * allows them).  Must be cheap: called for every frame. */
gboolean egress_policy_allows_frame(EgressPolicy *p, const FrameInfo *fi);
/* Frames refused by egress_policy_allows_frame so far. */
guint64 egress_policy_dropped_frames(const EgressPolicy *p);

/* Run-time addition for a *.domain answer (DNS responder, launcher side):
 * for every wildcard entry NAME matches, add the N addresses of FAMILY
 * (AF_INET: struct in_addr[], AF_INET6: struct in6_addr[]) that are not in
 * a refused range to that entry's timeout sets (dyn4/dyn6, or dN_PROTO_PORT
 * for entries with a port) through NFT_SOCK (nft.h nft_add_runtime_addrs;
 * -1 = frame filter only, for tests), expiring after TTL_SECS, and to the
 * frame filter.  Call before answering the query. */
gboolean egress_policy_add_resolved(EgressPolicy *p, int nft_sock, const char *name,
				    int family, const void *addrs, guint n, guint ttl_secs,
				    GError **error);

/* The run-time table holds at most DYN_MAX_ENTRIES addresses
 * (policy-int.h); FUNC (or NULL) hears of each address evicted to make
 * room (FAMILY, ADDR in network order): new flows to it are refused by the
 * frame filter from then on, until a fresh answer adds it again. */
typedef void (*EgressDynEvictFunc)(int family, const void *addr, gpointer data);
void egress_policy_set_evict_func(EgressPolicy *p, EgressDynEvictFunc func, gpointer data);

/* ---- policy-gate.c: the name gate's view ---- */

/* The TCP relay's name gate (net/relay/name-gate.h).  Does a new TCP
 * connection to ADDR (FAMILY, network order) port PORT need its name
 * checked?  TRUE when the policy restricts egress and no IP/CIDR entry
 * admits that destination — it then passed only through a domain entry
 * (an IP entry wins where both cover an address).  FALSE for the gateway
 * and the resolver (host ports, not the allowlist, admit those). */
gboolean egress_policy_needs_name_check(const EgressPolicy *p, int family, const void *addr,
					guint16 port);

/* May a TCP connection to port PORT carry NAME (the TLS server name, the
 * HTTP Host, a CONNECT/SOCKS target; lower case, an address as text)?  A
 * host name must match a domain entry that allows TCP to PORT (`*.name`
 * only below name); an address must be covered by an IP/CIDR entry for
 * TCP to PORT. */
gboolean egress_policy_name_allowed(const EgressPolicy *p, const char *name, guint16 port);

/* Does the policy have a domain entry (`name`, `*.name`)? */
gboolean egress_policy_has_names(const EgressPolicy *p);
