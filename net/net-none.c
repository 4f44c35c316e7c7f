/* SPDX-License-Identifier: MIT
 *
 * net-none.c — the network stage (net.h) of a build without the tap
 * network: the mini-sandbox executable, which must not load libslirp,
 * libnftnl or libmnl (issue 19: every library costs start-up time).
 *
 * Its modes are the ones that need nothing but the namespace itself: its
 * own namespace with lo up (SBX_NET_NONE) or down (-n), or the host's (-N).
 * SBX_NET_TAP is refused, never run with another network than asked for;
 * main.c already says so for the mini-tapbox name (net_has_tap()), this is
 * the backstop.
 */
#include "net/net.h"
#include "net/loopback.h"
#include "common/error.h"

struct SbxNet {
	SbxNetMode mode;
};

gboolean
net_has_tap(void)
{
	return FALSE;
}

SbxNet *
net_prepare(const SbxConfig *cfg, GError **error)
{
	SbxNet *net;

	if (cfg->net_mode == SBX_NET_TAP) {
		g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_NETWORK,
			    "this executable was built without mini-tapbox's network: run the "
			    "mini-tapbox executable for it");
		return NULL;
	}
	net = g_new0(SbxNet, 1);
	net->mode = cfg->net_mode;
	return net;
}

const char *
net_resolv_conf(const SbxNet *net)
{
	return NULL;
}

const char *
net_hosts_file(const SbxNet *net)
{
	return NULL;
}

gboolean
net_child_setup(SbxNet *net, int chan, GError **error)
{
	if (!loopback_setup(net->mode, error))
		return sbx_prefix_error(error, "network set-up");
	return TRUE;
}

gboolean
net_child_wait_up(SbxNet *net, int chan, GError **error)
{
	return TRUE;
}

gboolean
net_launcher_attach(SbxNet *net, int chan, GMainContext *ctx, GError **error)
{
	return TRUE;
}

void
net_launcher_watch(SbxNet *net, GMainContext *ctx)
{
}

void
net_set_fatal_func(SbxNet *net, SbxNetFatalFunc func, gpointer data)
{
}

void
net_finish(SbxNet *net)
{
}

void
net_free(SbxNet *net)
{
	g_free(net);
}
