/* SPDX-License-Identifier: MIT
 *
 * dns.h — the built-in resolver at 10.0.2.3 / fd00::3, in the launcher.
 *
 * Owner: DNS work (dns-msg.c pure parse/answer, dns-responder.c frames +
 * upstream + run-time set updates, denial log).  User: net.c, which calls
 * dns_responder_handle_frame() for every frame read from the tap BEFORE the
 * policy check and slirp_input().
 */
#pragma once

#include "policy.h"

typedef struct DnsResponder DnsResponder;

/* Write one Ethernet frame to the guest (the tap).  Returns 0 or -errno. */
typedef int (*DnsSendFrameFunc)(const uint8_t *frame, size_t len, gpointer opaque);

/* NFT_SOCK: a NETLINK_NETFILTER socket opened inside the sandbox netns
 * during set-up (for run-time set additions), or -1.  Takes ownership. */
DnsResponder *dns_responder_new(EgressPolicy *policy, const SbxConfig *cfg,
				GMainContext *ctx, int nft_sock,
				DnsSendFrameFunc send_frame, gpointer opaque);
/* TRUE if FRAME was a DNS query to the built-in resolver (UDP 53 to
 * 10.0.2.3 or fd00::3) and has been consumed (answered now or later). */
gboolean dns_responder_handle_frame(DnsResponder *r, const uint8_t *frame, size_t len);
void dns_responder_free(DnsResponder *r);
