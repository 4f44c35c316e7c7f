/* SPDX-License-Identifier: MIT
 *
 * loop-epoll.c — a GPollFunc on one epoll set (why: loop-epoll.h).
 */
#include "common/loop-epoll.h"
#include "common/fdutil.h"
#include "common/log.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>

#define READY_MAX 64
/* epoll data of a direct watch: the LoopEpollWatch's address with the top
 * bit set; GLib's fds are registered with data.u64 = fd. */
#define DIRECT_TAG (1ULL << 63)

struct LoopEpollQueue {
	GArray *events;         /* struct epoll_event, data.ptr = watch data */
	LoopEpollDispatchFunc dispatch;
	gpointer dispatch_data;
	gboolean listed;        /* in le.ready */
	gint64 deadline;        /* loop_epoll_queue_set_deadline; 0 = none */
};

/* GLib's G_IO_* are poll(2)'s POLL* on Linux, and epoll's EPOLL* for
 * the same conditions have the same values: no translation needed. */
G_STATIC_ASSERT((int)G_IO_IN == (int)EPOLLIN && (int)G_IO_OUT == (int)EPOLLOUT &&
		(int)G_IO_PRI == (int)EPOLLPRI && (int)G_IO_ERR == (int)EPOLLERR &&
		(int)G_IO_HUP == (int)EPOLLHUP);

typedef struct {
	GMainContext *ctx;
	int epfd;
	GArray *watched;        /* gushort per fd: events registered, 0 = none */
	GArray *last;           /* GPollFD: the list of the previous wait */
	GArray *merged;         /* gushort per fd: scratch for a new list */
	gboolean fallback;      /* an fd of the current list cannot be in epoll */
	GArray *fallback_fds;   /* GPollFD: the list plus the epoll set, for g_poll */
	GPtrArray *ready;       /* LoopEpollQueue that got events in this wait */
	GPtrArray *queues;      /* every LoopEpollQueue (for their deadlines) */
} LoopEpoll;

static LoopEpoll le = { .epfd = -1 };

static gushort *
slot(GArray *a, gint fd)
{
	if ((guint)fd >= a->len)
		g_array_set_size(a, (guint)fd + 16);
	return &g_array_index(a, gushort, fd);
}

/* Bring the epoll set in line with UFDS. */
static void
loop_epoll_sync(const GPollFD *ufds, guint nfds)
{
	le.fallback = FALSE;
	/* merged: what each fd should be watched for (an fd may appear more
	 * than once, with different events) */
	if (le.merged->len)
		memset(le.merged->data, 0, le.merged->len * sizeof(gushort));
	for (guint i = 0; i < nfds; i++)
		if (ufds[i].fd >= 0)
			*slot(le.merged, ufds[i].fd) |= ufds[i].events | G_IO_ERR;
	if (le.watched->len < le.merged->len)
		g_array_set_size(le.watched, le.merged->len);
	for (guint fd = 0; fd < le.watched->len; fd++) {
		gushort want = fd < le.merged->len ? g_array_index(le.merged, gushort, fd) : 0;
		gushort *have = &g_array_index(le.watched, gushort, fd);
		struct epoll_event ev = { .events = want, .data.u64 = fd };
		int r = 0;

		if (want == *have)
			continue;
		if (!want) {
			epoll_ctl(le.epfd, EPOLL_CTL_DEL, (int)fd, NULL);
		} else if (*have) {
			r = epoll_ctl(le.epfd, EPOLL_CTL_MOD, (int)fd, &ev);
			if (r < 0 && errno == ENOENT)
				r = epoll_ctl(le.epfd, EPOLL_CTL_ADD, (int)fd, &ev);
		} else {
			r = epoll_ctl(le.epfd, EPOLL_CTL_ADD, (int)fd, &ev);
			if (r < 0 && errno == EEXIST)
				r = epoll_ctl(le.epfd, EPOLL_CTL_MOD, (int)fd, &ev);
		}
		if (r < 0) {
			/* EPERM: a regular file, always ready to poll(2) */
			le.fallback = TRUE;
			want = 0;
		}
		*have = want;
	}
	g_array_set_size(le.last, 0);
	g_array_append_vals(le.last, ufds, nfds);
}

static gboolean
loop_epoll_same_list(const GPollFD *ufds, guint nfds)
{
	if (le.last->len != nfds)
		return FALSE;
	for (guint i = 0; i < nfds; i++) {
		const GPollFD *o = &g_array_index(le.last, GPollFD, i);

		if (o->fd != ufds[i].fd || o->events != ufds[i].events)
			return FALSE;
	}
	return TRUE;
}

/* Milliseconds from now to the earlier of END (G_MAXINT64: none) and the
 * queues' deadlines, for epoll_wait: -1 for none. */
static gint
loop_epoll_ms_until(gint64 end)
{
	gint64 left;

	for (guint i = 0; i < le.queues->len; i++) {
		const LoopEpollQueue *q = g_ptr_array_index(le.queues, i);

		if (q->deadline)
			end = MIN(end, q->deadline);
	}
	if (end == G_MAXINT64)
		return -1;
	left = end - g_get_monotonic_time();
	if (left <= 0)
		return 0;
	return (gint)MIN((left + 999) / 1000, (gint64)G_MAXINT);
}

/* Sort N ready events: GLib's fds into UFDS' revents (returns how many
 * entries of UFDS are ready), direct watches into their queues. */
static gint
loop_epoll_take(const struct epoll_event *ev, gint n, GPollFD *ufds, guint nfds)
{
	gint ready = 0;

	for (gint k = 0; k < n; k++) {
		if (ev[k].data.u64 & DIRECT_TAG) {
			LoopEpollWatch *w = (LoopEpollWatch *)(uintptr_t)(ev[k].data.u64 & ~DIRECT_TAG);
			struct epoll_event q = { .events = ev[k].events, .data.ptr = w->data };

			g_array_append_val(w->queue->events, q);
			if (!w->queue->listed) {
				w->queue->listed = TRUE;
				g_ptr_array_add(le.ready, w->queue);
			}
			continue;
		}
		for (guint i = 0; i < nfds; i++) {
			if ((guint64)ufds[i].fd != ev[k].data.u64)
				continue;
			ufds[i].revents = (gushort)(ev[k].events &
						    (ufds[i].events | G_IO_ERR | G_IO_HUP | G_IO_NVAL));
		}
	}
	for (guint i = 0; i < nfds; i++)
		ready += ufds[i].revents != 0;
	return ready;
}

/* Hand the queues that got events to their dispatch functions.  TRUE when
 * one of them asked for an iteration. */
static gboolean
loop_epoll_dispatch(void)
{
	gboolean iterate = FALSE;

	/* a dispatch function may free another queue (which leaves the
	 * list) but adds none: the list only grows in loop_epoll_take */
	while (le.ready->len) {
		LoopEpollQueue *q = g_ptr_array_steal_index(le.ready, le.ready->len - 1);

		q->listed = FALSE;
		iterate |= q->dispatch(q, q->dispatch_data);
	}
	return iterate;
}

/* The wait when an fd of GLib's list cannot be in the epoll set: poll(2)
 * over the list and the epoll set itself. */
static gint
loop_epoll_poll_fallback(GPollFD *ufds, guint nfds, gint timeout)
{
	struct epoll_event ev[READY_MAX];
	GPollFD *all;
	gint n, ready = 0;

	g_array_set_size(le.fallback_fds, 0);
	g_array_append_vals(le.fallback_fds, ufds, nfds);
	g_array_set_size(le.fallback_fds, nfds + 1);
	all = (GPollFD *)(void *)le.fallback_fds->data;
	all[nfds] = (GPollFD){ .fd = le.epfd, .events = G_IO_IN };
	n = g_poll(all, nfds + 1, timeout);
	if (n < 0)
		return -1;
	for (guint i = 0; i < nfds; i++) {
		ufds[i].revents = all[i].revents;
		ready += ufds[i].revents != 0;
	}
	if (!all[nfds].revents)
		return ready;
	/* GLib's fds in the set are already answered by poll(2) */
	n = epoll_wait(le.epfd, ev, READY_MAX, 0);
	for (gint k = 0; k < n; k++)
		if (ev[k].data.u64 & DIRECT_TAG)
			loop_epoll_take(&ev[k], 1, ufds, 0);
	loop_epoll_dispatch();
	return ready;
}

/* GPollFunc.  Direct watches with a dispatch function are served inside
 * the wait: after their events the wait goes on, without a GLib iteration
 * (prepare, check and dispatch of every source, twice per request/response
 * round trip), until one of GLib's fds is ready, GLib's timeout or a
 * queue's deadline passes, or a dispatch function asks for an
 * iteration. */
static gint
loop_epoll_poll(GPollFD *ufds, guint nfds, gint timeout)
{
	struct epoll_event ev[READY_MAX];
	gint n, ready;
	gint64 end;

	if (!loop_epoll_same_list(ufds, nfds))
		loop_epoll_sync(ufds, nfds);
	for (guint i = 0; i < nfds; i++)
		ufds[i].revents = 0;
	if (le.fallback)
		return loop_epoll_poll_fallback(ufds, nfds, timeout);
	end = timeout < 0 ? G_MAXINT64 : g_get_monotonic_time() + (gint64)timeout * 1000;
	for (;;) {
		n = epoll_wait(le.epfd, ev, READY_MAX, timeout);
		if (n < 0)
			return -1;  /* errno stays: GLib ignores EINTR */
		ready = loop_epoll_take(ev, n, ufds, nfds);
		if (loop_epoll_dispatch() || ready || n == 0)
			return ready;
		timeout = loop_epoll_ms_until(end);
		if (timeout == 0)
			return 0;
	}
}

gboolean
loop_epoll_install(GMainContext *ctx)
{
	if (le.ctx)
		return le.ctx == ctx;
	le.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (le.epfd < 0) {
		sbx_debug("loop: epoll_create1: %s; waiting with poll(2)", g_strerror(errno));
		return FALSE;
	}
	le.ctx = g_main_context_ref(ctx);
	le.watched = g_array_new(FALSE, TRUE, sizeof(gushort));
	le.merged = g_array_new(FALSE, TRUE, sizeof(gushort));
	le.last = g_array_new(FALSE, FALSE, sizeof(GPollFD));
	le.fallback_fds = g_array_new(FALSE, FALSE, sizeof(GPollFD));
	le.ready = g_ptr_array_new();
	le.queues = g_ptr_array_new();
	g_main_context_set_poll_func(ctx, loop_epoll_poll);
	return TRUE;
}

void
loop_epoll_uninstall(GMainContext *ctx)
{
	if (!le.ctx || le.ctx != ctx)
		return;
	g_main_context_set_poll_func(ctx, NULL);
	sbx_close_fdp(&le.epfd);
	g_array_unref(le.watched);
	g_array_unref(le.merged);
	g_array_unref(le.last);
	g_array_unref(le.fallback_fds);
	g_ptr_array_unref(le.ready);
	g_ptr_array_unref(le.queues);
	g_main_context_unref(le.ctx);
	memset(&le, 0, sizeof le);
	le.epfd = -1;
}

gboolean
loop_epoll_active(GMainContext *ctx)
{
	return le.ctx && le.ctx == ctx;
}

LoopEpollQueue *
loop_epoll_queue_new(LoopEpollDispatchFunc fn, gpointer data)
{
	LoopEpollQueue *q;

	if (!le.ctx) {
		errno = ENOTCONN;
		return NULL;
	}
	q = g_new0(LoopEpollQueue, 1);
	q->events = g_array_new(FALSE, FALSE, sizeof(struct epoll_event));
	q->dispatch = fn;
	q->dispatch_data = data;
	g_ptr_array_add(le.queues, q);
	return q;
}

void
loop_epoll_queue_free(LoopEpollQueue *q)
{
	if (!q)
		return;
	if (q->listed && le.ready)
		g_ptr_array_remove_fast(le.ready, q);
	if (le.queues)
		g_ptr_array_remove_fast(le.queues, q);
	g_array_unref(q->events);
	g_free(q);
}

int
loop_epoll_watch_add(LoopEpollWatch *w, int fd, guint32 events)
{
	struct epoll_event ev = { .events = events, .data.u64 = (uintptr_t)w | DIRECT_TAG };

	if (!le.ctx)
		return -ENOTCONN;
	if (epoll_ctl(le.epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	return 0;
}

void
loop_epoll_queue_set_deadline(LoopEpollQueue *q, gint64 deadline)
{
	q->deadline = deadline;
}

int
loop_epoll_watch_remove(int fd)
{
	if (!le.ctx)
		return -ENOTCONN;
	if (epoll_ctl(le.epfd, EPOLL_CTL_DEL, fd, NULL) < 0)
		return -errno;
	return 0;
}

guint
loop_epoll_queue_take(LoopEpollQueue *q, struct epoll_event *out, guint max)
{
	guint n = MIN(max, q->events->len);

	if (!n)
		return 0;
	memcpy(out, q->events->data, n * sizeof *out);
	g_array_remove_range(q->events, 0, n);
	return n;
}

void
loop_epoll_queue_forget(LoopEpollQueue *q, gconstpointer data)
{
	for (guint i = q->events->len; i-- > 0;)
		if (g_array_index(q->events, struct epoll_event, i).data.ptr == data)
			g_array_remove_index(q->events, i);
}
