/* SPDX-License-Identifier: MIT
 * Temporary stub so the tree builds before net/ lands: no-network modes
 * only; mini-tapbox refuses to run. */
#include "net.h"
#include "common/error.h"

struct SbxNet { SbxNetMode mode; };

SbxNet *
net_prepare(const SbxConfig *cfg, GError **error)
{
	SbxNet *net;

	if (cfg->net_mode == SBX_NET_TAP) {
		g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_NETWORK,
			    "mini-tapbox networking is not built yet");
		return NULL;
	}
	net = g_new0(SbxNet, 1);
	net->mode = cfg->net_mode;
	return net;
}
const char *net_resolv_conf(const SbxNet *net) { return NULL; }
const char *net_hosts_file(const SbxNet *net) { return NULL; }
gboolean net_child_setup(SbxNet *net, int chan, GError **error) { return TRUE; }
gboolean net_launcher_attach(SbxNet *net, int chan, GMainContext *ctx, GError **error) { return TRUE; }
void net_finish(SbxNet *net) {}
void net_free(SbxNet *net) { g_free(net); }
