/* SPDX-License-Identifier: MIT
 *
 * loop-epoll.c — a GPollFunc on one epoll set (why: loop-epoll.h).
 */
#include "loop-epoll.h"
#include "common/fdutil.h"
#include "common/log.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>

#define READY_MAX 64

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
		struct epoll_event ev = { .events = want, .data.fd = (int)fd };
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

/* GPollFunc */
static gint
loop_epoll_poll(GPollFD *ufds, guint nfds, gint timeout)
{
	struct epoll_event ev[READY_MAX];
	gint n, ready = 0;

	if (!loop_epoll_same_list(ufds, nfds))
		loop_epoll_sync(ufds, nfds);
	if (le.fallback)
		return g_poll(ufds, nfds, timeout);
	n = epoll_wait(le.epfd, ev, READY_MAX, timeout);
	if (n < 0)
		return -1;          /* errno stays: GLib ignores EINTR */
	for (guint i = 0; i < nfds; i++)
		ufds[i].revents = 0;
	for (gint k = 0; k < n; k++) {
		for (guint i = 0; i < nfds; i++) {
			if (ufds[i].fd != ev[k].data.fd)
				continue;
			ufds[i].revents = (gushort)(ev[k].events &
						    (ufds[i].events | G_IO_ERR | G_IO_HUP | G_IO_NVAL));
		}
	}
	for (guint i = 0; i < nfds; i++)
		ready += ufds[i].revents != 0;
	return ready;
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
	g_main_context_unref(le.ctx);
	memset(&le, 0, sizeof le);
	le.epfd = -1;
}
