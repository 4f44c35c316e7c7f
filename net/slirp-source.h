/* SPDX-License-Identifier: MIT
 *
 * slirp-source.h — libslirp 4.7 driven by a GLib main context.
 *
 * One GSource carries slirp's poll fds and its TCP fast/slow timer
 * deadline (doc/PLATFORM.md §1.4: the poll set is re-registered
 * only when it changes, and check() is honest, so an idle connection costs
 * no CPU); slirp's own timers (the IPv6 RA timer in 4.7) are GLib timeout
 * sources; slirp's notify() wakes the context.
 */
#pragma once

#include <glib.h>
#include <libslirp.h>

typedef struct SlirpLoop SlirpLoop;

/* Deliver one Ethernet frame from slirp to the guest.  Return LEN (also when
 * the frame was dropped because the guest is not ready) or -errno. */
typedef ssize_t (*SlirpLoopSendFunc)(const void *frame, size_t len, gpointer opaque);

/* Create libslirp with CFG, its callbacks bound to CTX, and attach its
 * source to CTX.  SEND delivers frames to the guest.  NULL + error when
 * libslirp refuses the configuration. */
SlirpLoop *slirp_loop_new(const SlirpConfig *cfg, GMainContext *ctx, SlirpLoopSendFunc send,
			  gpointer send_opaque, GError **error);

/* The Slirp instance (for slirp_input, slirp_add_hostfwd, …). */
Slirp *slirp_loop_get_slirp(SlirpLoop *loop);

/* Feed one guest frame to slirp.  Frames larger than INT_MAX are dropped. */
void slirp_loop_input(SlirpLoop *loop, const uint8_t *frame, size_t len);

/* Number of GSource prepare() calls so far (tests: idle must be idle). */
guint64 slirp_loop_prepare_count(const SlirpLoop *loop);

/* Detach the source, free the timers and slirp_cleanup().  NULL is fine. */
void slirp_loop_free(SlirpLoop *loop);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SlirpLoop, slirp_loop_free)
