/* SPDX-License-Identifier: MIT
 *
 * loop-epoll.h — let a GMainContext wait with epoll instead of poll(2).
 *
 * The launcher's loop watches about ten fds (tap,
 * slirp's epoll set, signalfd, pidfd, NFLOG, GLib's wakeup fd) and the TCP
 * relay's sockets.  poll(2) walks and re-arms every one of them at each wait — a wait
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
 *
 * Direct watches: fds GLib does not see (the TCP relay's host sockets) sit
 * in the same epoll set, so one epoll_wait per wake-up serves both — a
 * nested epoll set would cost a second epoll_wait per wake-up, and on a
 * paravirtualised guest each epoll_wait's interrupt-disabling lock is the
 * dearest part of it.  Their events are queued (LoopEpollQueue) and
 * handed to the queue's dispatch function inside the wait itself.
 *
 * Dispatch inside the wait: a GLib iteration prepares, checks and
 * dispatches every source of the context, and a request/response round
 * trip through the launcher takes two of them (guest request on the tap,
 * host reply on a socket) — about as much CPU as libslirp's whole TCP
 * engine spends per round trip.  The dispatch function runs right after the
 * epoll_wait that saw its events, and the wait goes on unless it asks for
 * an iteration.  What such a function may do: read and write its fds,
 * add and remove direct watches, set its queue's deadline
 * (loop_epoll_queue_set_deadline).  Anything GLib must see — a source
 * attached or
 * destroyed, work handed to another source — it reports by returning TRUE,
 * and the wait returns to GLib (the context lock is not held in a
 * GPollFunc, so attaching a source there is allowed).
 */
#pragma once

#include <glib.h>
#include <sys/epoll.h>

/* Make CTX wait through epoll.  One context per process; FALSE (and CTX
 * keeps polling with poll(2)) when another already does, or when no
 * epoll set can be created. */
gboolean loop_epoll_install(GMainContext *ctx);

/* Undo loop_epoll_install() for CTX and close the epoll set. */
void loop_epoll_uninstall(GMainContext *ctx);

/* TRUE if CTX waits through epoll (direct watches are possible). */
gboolean loop_epoll_active(GMainContext *ctx);

/* Events of direct watches, in arrival order, for one owner. */
typedef struct LoopEpollQueue LoopEpollQueue;

/* One direct watch; lives as long as its fd is open (closing the fd ends
 * the watch). */
typedef struct {
	LoopEpollQueue *queue;
	gpointer data;              /* handed back with each event */
} LoopEpollWatch;

/* Called inside the wait with Q's new events (take them all with
 * loop_epoll_queue_take); TRUE if the context must iterate before waiting
 * again. */
typedef gboolean (*LoopEpollDispatchFunc)(LoopEpollQueue *q, gpointer data);

/* A queue whose events go to FN with DATA; NULL (errno ENOTCONN) when no
 * context waits through epoll. */
LoopEpollQueue *loop_epoll_queue_new(LoopEpollDispatchFunc fn, gpointer data);

/* A wait that dispatches inside itself ends by DEADLINE
 * (g_get_monotonic_time() µs; 0 = none) at the latest — the owner's timer,
 * which a GSource of the owner's also reports in prepare() for the waits
 * GLib begins. */
void loop_epoll_queue_set_deadline(LoopEpollQueue *q, gint64 deadline);
void loop_epoll_queue_free(LoopEpollQueue *q);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LoopEpollQueue, loop_epoll_queue_free)

/* Watch FD for EVENTS (EPOLL*, e.g. with EPOLLET) in the installed epoll
 * set; events go to W->queue with W->data.  0, or -errno (-ENOTCONN when
 * no context waits through epoll). */
int loop_epoll_watch_add(LoopEpollWatch *w, int fd, guint32 events);
/* Stop watching FD (closing it does too, if it has no duplicate). */
int loop_epoll_watch_remove(int fd);

/* Queued events, oldest first: up to MAX into OUT (events, data.ptr =
 * the watch's data); returns how many. */
guint loop_epoll_queue_take(LoopEpollQueue *q, struct epoll_event *out, guint max);

/* Drop the queued events carrying DATA (its owner is about to free it). */
void loop_epoll_queue_forget(LoopEpollQueue *q, gconstpointer data);
