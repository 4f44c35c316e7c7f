/* SPDX-License-Identifier: MIT
 *
 * loop-epoll.h — let a GMainContext wait with epoll instead of poll(2).
 *
 * Owner: src/.  Why: the launcher's loop watches about ten fds (tap, the
 * slirp and TCP-relay epoll sets, signalfd, pidfd, NFLOG, GLib's wakeup
 * fd).  poll(2) walks and re-arms every one of them at each wait — a wait
 * queue added and removed per fd, each behind an interrupt-disabling lock,
 * which on a paravirtualised guest is the bulk of a request/response round
 * trip.  An epoll set keeps the registrations between waits: only fds
 * whose events change are touched.
 *
 * Assumption, true of the launcher: an fd GLib polls is not closed and its
 * number reused for another fd with the same events between two waits
 * (sources here live as long as the loop).  Such a reuse would leave the
 * new fd unwatched; any change in the fd list re-registers every changed
 * entry.  fds epoll cannot watch (regular files) make that one wait fall
 * back to poll(2).
 */
#pragma once

#include <glib.h>

/* Make CTX wait through epoll.  One context per process; FALSE (and CTX
 * keeps polling with poll(2)) when another already does, or when no
 * epoll set can be created. */
gboolean loop_epoll_install(GMainContext *ctx);

/* Undo loop_epoll_install() for CTX and close the epoll set. */
void loop_epoll_uninstall(GMainContext *ctx);
