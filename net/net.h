/* SPDX-License-Identifier: MIT
 *
 * net.h — the network stage, seen from the launcher.
 *
 * Three calls, in the order of doc/THEORY.md:
 *   launcher: net_prepare()        before the fork: read allowlists, resolve
 *                                  domains on the host, compile the policy
 *   child:    net_child_setup()    first thing in the new netns: lo (mini-
 *                                  sandbox); for mini-tapbox /dev/net/tun and
 *                                  the netlink sockets, handed out
 *   launcher: net_launcher_attach() receive the fds; through them install the
 *                                  nft ruleset; relay and DNS on the GLib
 *                                  main context; tap0 and lo if first to
 *                                  ask; say "up"; then load libslirp
 *   child:    net_child_wait_up()  before the payload starts: tap0 and lo if
 *                                  first to ask; wait for "up"
 *   launcher: net_launcher_watch() after the set-up report: read tap0
 * CHAN is one end of a SOCK_SEQPACKET socketpair made by the launcher before
 * the fork, used only by these two functions.
 */
#pragma once

#include "common/config.h"

typedef struct SbxNet SbxNet;

/* TRUE in a build with mini-tapbox's network (net.c), FALSE in one
 * without it (net-none.c: the mini-sandbox executable). */
gboolean net_has_tap(void);

/* Never NULL on success, also for modes without a network (then trivial);
 * NULL + error for SBX_NET_TAP in a build without it. */
SbxNet *net_prepare(const SbxConfig *cfg, GError **error);

/* Contents for the sandbox's /etc/resolv.conf and /etc/hosts, or NULL when
 * the host's files should be shown (modes other than mini-tapbox). */
const char *net_resolv_conf(const SbxNet *net);
const char *net_hosts_file(const SbxNet *net);

/* Child side: lo (modes with their own network namespace); for
 * mini-tapbox, /dev/net/tun and the netlink sockets, handed to the
 * launcher (copies of the first two are kept for tap0).  The network is
 * not up yet: see net_child_wait_up(). */
gboolean net_child_setup(SbxNet *net, int chan, GError **error);

/* Child side, before the payload starts: makes tap0 and lo if it is first
 * to ask, then returns once the launcher says the network is up (ruleset
 * installed and verified, relay and resolver ready, tap0 configured), or
 * FALSE + error; the payload must not start on FALSE.  Trivial without
 * mini-tapbox's network. */
gboolean net_child_wait_up(SbxNet *net, int chan, GError **error);

/* Launcher side, after the fork.  Attaches sources to CTX. */
gboolean net_launcher_attach(SbxNet *net, int chan, GMainContext *ctx, GError **error);

/* Launcher side, once the sandbox has reported its set-up (so tap0 is
 * attached, whoever made it): watch tap0 on CTX.  Not before: epoll on a
 * tun fd that has no device yet gets EPOLLERR without a wait-queue entry,
 * and would never hear of a frame again. */
void net_launcher_watch(SbxNet *net, GMainContext *ctx);

/* Launcher side: FUNC is called (at most once, from the loop) when the
 * network fails in a way the sandbox cannot go on with — libslirp, loaded
 * with the first frame that needs it, cannot be loaded.  FUNC reports
 * ERROR and ends the sandbox (exit 125).  Without FUNC the error is only
 * warned about and the frame dropped. */
typedef void (*SbxNetFatalFunc)(const GError *error, gpointer data);
void net_set_fatal_func(SbxNet *net, SbxNetFatalFunc func, gpointer data);

/* At exit: print the one-line denial summary (mini-tapbox) and release. */
void net_finish(SbxNet *net);
void net_free(SbxNet *net);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SbxNet, net_free)
