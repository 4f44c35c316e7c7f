/* SPDX-License-Identifier: MIT
 *
 * dns.h — the built-in resolver at 10.0.2.3 / fd00::3, in the launcher.
 *
 * dns-msg.c parses queries and builds answers (pure); dns-responder.c
 * takes the frames, asks upstream, adds run-time answers to the sets.
 * User: net.c, which calls
 * dns_responder_handle_frame() for every frame read from the tap BEFORE the
 * policy check and slirp_input().
 */
#pragma once

#include "net/policy.h"

typedef struct DnsResponder DnsResponder;

/* Write one Ethernet frame to the guest (the tap).  Returns 0 or -errno. */
typedef int (*DnsSendFrameFunc)(const uint8_t *frame, size_t len, gpointer opaque);

/* NFLOG group the ruleset's "log group" statement (before the reject
 * rules) sends blocked packets to. */
#define SBX_NFLOG_GROUP 7

/* Child side, namespace-root inside the sandbox netns, before the payload
 * starts: open the sockets the responder needs later — an nfnetlink_log
 * socket bound to SBX_NFLOG_GROUP (blocked-destination reports) and a
 * NETLINK_NETFILTER socket for run-time set additions (*.domain entries).
 * net.c sends both to the launcher with the tap fd. */
gboolean dns_open_netns_sockets(int *nflog_sock, int *nft_sock, GError **error);

/* Launcher side.  NFT_SOCK / NFLOG_SOCK: the sockets above, or -1; takes
 * ownership.  Answers go to the guest through SEND_FRAME. */
DnsResponder *dns_responder_new(EgressPolicy *policy, const SbxConfig *cfg,
				GMainContext *ctx, int nft_sock, int nflog_sock,
				DnsSendFrameFunc send_frame, gpointer opaque);
/* TRUE if FRAME (FI: what frame_parse() found in it, NULL if it could not
 * be parsed) was a DNS query to the built-in resolver (UDP 53 to 10.0.2.3
 * or fd00::3) and has been consumed (answered now or later). */
gboolean dns_responder_handle_frame(DnsResponder *r, const uint8_t *frame, const FrameInfo *fi);
/* One line on stderr at exit: "blocked 3 connections, 2 names" (mini-tapbox
 * with an allowlist), and the end of the --log file. */
void dns_responder_print_summary(DnsResponder *r);
void dns_responder_free(DnsResponder *r);
