/* SPDX-License-Identifier: MIT
 *
 * dns.h — the built-in resolver at 10.0.2.3 / fd00::3, in the launcher.
 *
 * dns-msg.c parses and answers (pure), dns-responder.c carries frames, asks
 * the upstream and adds run-time set elements; what it refuses and answers
 * it tells denials.c.  net.c calls dns_responder_handle_frame() for every
 * frame read from the tap BEFORE the policy check and slirp_input().
 */
#pragma once

#include "net/denials.h"
#include "net/policy.h"

typedef struct DnsResponder DnsResponder;

/* Write one Ethernet frame to the guest (the tap).  Returns 0 or -errno. */
typedef int (*DnsSendFrameFunc)(const uint8_t *frame, size_t len, gpointer opaque);

/* Launcher side.  NFT_SOCK: the NETLINK_NETFILTER socket the set-up child
 * opened in the sandbox's netns for run-time set additions (*.domain
 * answers), or -1; taken.  DENIALS (borrowed) is told every answer and
 * every refusal.  Answers go to the guest through SEND_FRAME. */
DnsResponder *dns_responder_new(EgressPolicy *policy, const SbxConfig *cfg,
				GMainContext *ctx, int nft_sock, Denials *denials,
				DnsSendFrameFunc send_frame, gpointer opaque);
/* TRUE if FRAME (FI: what frame_parse() found in it, NULL if it could not
 * be parsed) was a DNS query to the built-in resolver (UDP 53 to 10.0.2.3
 * or fd00::3) and has been consumed (answered now or later). */
gboolean dns_responder_handle_frame(DnsResponder *r, const uint8_t *frame, const FrameInfo *fi);
/* At exit: the query counts in the -D log. */
void dns_responder_print_summary(DnsResponder *r);
void dns_responder_free(DnsResponder *r);
