/* SPDX-License-Identifier: MIT — temporary stub until dns-responder.c lands:
 * consumes nothing, so libslirp's forwarder answers (unrestricted mode only;
 * the policy stub refuses restricted configurations). */
#include "dns.h"

struct DnsResponder { int unused; };

gboolean
dns_open_netns_sockets(int *nflog_sock, int *nft_sock, GError **error)
{
	*nflog_sock = *nft_sock = -1;
	return TRUE;
}
DnsResponder *
dns_responder_new(EgressPolicy *policy, const SbxConfig *cfg, GMainContext *ctx, int nft_sock,
		  int nflog_sock, DnsSendFrameFunc send_frame, gpointer opaque)
{
	return g_new0(DnsResponder, 1);
}
gboolean dns_responder_handle_frame(DnsResponder *r, const uint8_t *frame, size_t len) { return FALSE; }
void dns_responder_print_summary(DnsResponder *r) {}
void dns_responder_free(DnsResponder *r) { g_free(r); }
