/* SPDX-License-Identifier: MIT
 *
 * slirp-source.c — libslirp as a GSource (design and measurements:
 * doc/PLATFORM.md §1.4).
 *
 * Why the care: GLib signals the context's wakeup fd whenever a poll fd is
 * added or removed, and around the dispatch of a non-recursive source.
 * Re-registering slirp's fds on every prepare(), or claiming readiness in
 * every check(), turns the loop into a busy loop at 100% CPU with an idle
 * TCP connection (§1.4).  Registering only when slirp's set changes is not
 * enough under load either: in a bulk transfer a socket leaves slirp's set
 * whenever its buffer is full and comes back when it drains, and with
 * g_source_add_poll that cost ~6 eventfd writes and an empty loop iteration
 * per iteration (measured with strace, host→sandbox at half slirp4netns'
 * rate).  So the source hands GLib ONE fd that never changes — an epoll fd
 * — and mirrors slirp's set into it with epoll_ctl, which wakes nobody;
 * only fds whose events changed are touched.  check() stays honest: epoll
 * fd readable, or slirp's timer deadline passed.
 */
#include "net/slirp-source.h"
#include "common/error.h"
#include "common/fdutil.h"
#include "common/log.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <sys/epoll.h>
#include <unistd.h>

struct SlirpLoop {
	Slirp *slirp;
	GMainContext *ctx;
	GSource *source;            /* SlirpSource, attached to ctx */
	SlirpLoopSendFunc send;
	gpointer send_opaque;
	GPtrArray *timers;          /* SlirpTimer *, for cleanup at free */
	guint in_slirp;             /* depth of our calls into slirp */
};

typedef struct {
	int fd;
	int events;                 /* SLIRP_POLL_* asked for */
	int revents;                /* SLIRP_POLL_* seen in this dispatch */
} SlirpPollSlot;

typedef struct {
	GSource base;
	SlirpLoop *loop;
	int epfd;
	GPollFD epoll_pfd;          /* the only fd GLib polls for us */
	GArray *slots;              /* SlirpPollSlot, index = slirp's poll index */
	GHashTable *registered;     /* fd → epoll events currently in epfd */
	GArray *idx_by_fd;          /* gint, fd → index in slots, -1 = none */
	GArray *ready;              /* struct epoll_event buffer */
	gint64 deadline_us;         /* slirp's timer deadline, G_MAXINT64 = none */
	guint64 prepare_count;
} SlirpSource;

typedef struct {
	SlirpLoop *loop;
	SlirpTimerCb cb;
	void *cb_opaque;
	GSource *src;               /* pending timeout, or NULL */
} SlirpTimer;

/* ---- poll adapters ------------------------------------------------------ */

static guint32
slirp_events_to_epoll(int events)
{
	guint32 ev = 0;

	if (events & SLIRP_POLL_IN)
		ev |= EPOLLIN;
	if (events & SLIRP_POLL_OUT)
		ev |= EPOLLOUT;
	if (events & SLIRP_POLL_PRI)
		ev |= EPOLLPRI;
	/* SLIRP_POLL_HUP / _ERR, like POLLHUP / POLLERR for poll(2), need no
	 * asking: epoll always reports EPOLLHUP and EPOLLERR. */
	return ev;
}

static int
slirp_events_from_epoll(guint32 revents)
{
	int ev = 0;

	if (revents & EPOLLIN)
		ev |= SLIRP_POLL_IN;
	if (revents & EPOLLOUT)
		ev |= SLIRP_POLL_OUT;
	if (revents & EPOLLPRI)
		ev |= SLIRP_POLL_PRI;
	if (revents & EPOLLERR)
		ev |= SLIRP_POLL_ERR;
	if (revents & EPOLLHUP)
		ev |= SLIRP_POLL_HUP;
	return ev;
}

/* SlirpAddPollCb for slirp_pollfds_fill: one slot per call, in order. */
static int
slirp_source_add_poll(int fd, int events, void *opaque)
{
	SlirpSource *ss = opaque;
	SlirpPollSlot slot = { .fd = fd, .events = events };

	g_array_append_val(ss->slots, slot);
	return (int)ss->slots->len - 1;
}

/* SlirpGetREventsCb for slirp_pollfds_poll: indices refer to the slots of
 * the last slirp_pollfds_fill, i.e. of the last prepare(). */
static int
slirp_source_get_revents(int idx, void *opaque)
{
	SlirpSource *ss = opaque;

	if (idx < 0 || (guint)idx >= ss->slots->len)
		return 0;
	return g_array_index(ss->slots, SlirpPollSlot, idx).revents;
}

/* Make epfd watch FD for EV (0 = not at all).  Closed fds leave an epoll
 * set by themselves and their number may come back as a new socket, so a
 * MOD/DEL that finds nothing falls back to ADD / is ignored. */
static void
slirp_source_epoll_set(SlirpSource *ss, int fd, guint32 ev)
{
	gpointer old;
	struct epoll_event e = { .events = ev, .data.fd = fd };
	gboolean known = g_hash_table_lookup_extended(ss->registered, GINT_TO_POINTER(fd), NULL,
						      &old);
	int r;

	if (known && GPOINTER_TO_UINT(old) == ev)
		return;
	if (ev == 0) {
		epoll_ctl(ss->epfd, EPOLL_CTL_DEL, fd, NULL);
		g_hash_table_remove(ss->registered, GINT_TO_POINTER(fd));
		return;
	}
	if (known) {
		r = epoll_ctl(ss->epfd, EPOLL_CTL_MOD, fd, &e);
		if (r < 0 && errno == ENOENT)
			r = epoll_ctl(ss->epfd, EPOLL_CTL_ADD, fd, &e);
	} else {
		r = epoll_ctl(ss->epfd, EPOLL_CTL_ADD, fd, &e);
		if (r < 0 && errno == EEXIST)
			r = epoll_ctl(ss->epfd, EPOLL_CTL_MOD, fd, &e);
	}
	if (r < 0) {
		sbx_debug("slirp: watch fd %d: %s", fd, g_strerror(errno));
		g_hash_table_remove(ss->registered, GINT_TO_POINTER(fd));
		return;
	}
	g_hash_table_insert(ss->registered, GINT_TO_POINTER(fd), GUINT_TO_POINTER(ev));
}

/* ---- GSourceFuncs ------------------------------------------------------- */

static gboolean
slirp_source_prepare(GSource *base, gint *timeout)
{
	SlirpSource *ss = (SlirpSource *)base;
	uint32_t t = UINT32_MAX;
	GHashTableIter it;
	gpointer key;

	ss->prepare_count++;
	/* Forget the previous fill's fd → index map. */
	for (guint i = 0; i < ss->slots->len; i++) {
		int fd = g_array_index(ss->slots, SlirpPollSlot, i).fd;

		if (fd >= 0 && (guint)fd < ss->idx_by_fd->len)
			g_array_index(ss->idx_by_fd, gint, fd) = -1;
	}
	g_array_set_size(ss->slots, 0);
	slirp_pollfds_fill(ss->loop->slirp, &t, slirp_source_add_poll, ss);

	for (guint i = 0; i < ss->slots->len; i++) {
		const SlirpPollSlot *slot = &g_array_index(ss->slots, SlirpPollSlot, i);

		if (slot->fd < 0)
			continue;
		if ((guint)slot->fd >= ss->idx_by_fd->len) {
			guint old = ss->idx_by_fd->len;

			g_array_set_size(ss->idx_by_fd, (guint)slot->fd + 64);
			for (guint k = old; k < ss->idx_by_fd->len; k++)
				g_array_index(ss->idx_by_fd, gint, k) = -1;
		}
		g_array_index(ss->idx_by_fd, gint, slot->fd) = (gint)i;
		slirp_source_epoll_set(ss, slot->fd, slirp_events_to_epoll(slot->events));
	}
	/* fds slirp no longer wants (or closed) leave the epoll set. */
	g_hash_table_iter_init(&it, ss->registered);
	while (g_hash_table_iter_next(&it, &key, NULL)) {
		int fd = GPOINTER_TO_INT(key);

		if ((guint)fd >= ss->idx_by_fd->len || g_array_index(ss->idx_by_fd, gint, fd) < 0) {
			epoll_ctl(ss->epfd, EPOLL_CTL_DEL, fd, NULL);
			g_hash_table_iter_remove(&it);
		}
	}

	if (t == UINT32_MAX) {
		*timeout = -1;
		ss->deadline_us = G_MAXINT64;
	} else {
		*timeout = (gint)MIN(t, (uint32_t)G_MAXINT);
		ss->deadline_us = g_source_get_time(base) + (gint64)t * 1000;
	}
	return t == 0;
}

static gboolean
slirp_source_check(GSource *base)
{
	SlirpSource *ss = (SlirpSource *)base;

	return ss->epoll_pfd.revents != 0 || g_source_get_time(base) >= ss->deadline_us;
}

static gboolean
slirp_source_dispatch(GSource *base, GSourceFunc callback, gpointer user_data)
{
	SlirpSource *ss = (SlirpSource *)base;
	guint n = MAX(g_hash_table_size(ss->registered), 1u);
	int got;

	for (guint i = 0; i < ss->slots->len; i++)
		g_array_index(ss->slots, SlirpPollSlot, i).revents = 0;
	g_array_set_size(ss->ready, n);
	do
		got = epoll_wait(ss->epfd, (struct epoll_event *)(void *)ss->ready->data, (int)n, 0);
	while (got < 0 && errno == EINTR);
	for (int i = 0; i < got; i++) {
		const struct epoll_event *e = &g_array_index(ss->ready, struct epoll_event, i);
		int fd = e->data.fd;
		gint idx = (guint)fd < ss->idx_by_fd->len ? g_array_index(ss->idx_by_fd, gint, fd) : -1;

		if (idx >= 0)
			g_array_index(ss->slots, SlirpPollSlot, idx).revents =
				slirp_events_from_epoll(e->events);
	}

	/* Also runs slirp's TCP fast/slow timers (they are not callbacks). */
	ss->loop->in_slirp++;
	slirp_pollfds_poll(ss->loop->slirp, 0, slirp_source_get_revents, ss);
	ss->loop->in_slirp--;
	return G_SOURCE_CONTINUE;
}

static void
slirp_source_finalize(GSource *base)
{
	SlirpSource *ss = (SlirpSource *)base;

	sbx_close_fdp(&ss->epfd);
	g_array_unref(ss->slots);
	g_array_unref(ss->idx_by_fd);
	g_array_unref(ss->ready);
	g_hash_table_unref(ss->registered);
}

static GSourceFuncs slirp_source_funcs = {
	.prepare = slirp_source_prepare,
	.check = slirp_source_check,
	.dispatch = slirp_source_dispatch,
	.finalize = slirp_source_finalize,
};

/* ---- SlirpCb ------------------------------------------------------------ */

/* SlirpCb.send_packet */
static ssize_t
slirp_cb_send_packet(const void *buf, size_t len, void *opaque)
{
	SlirpLoop *loop = opaque;

	return loop->send(buf, len, loop->send_opaque);
}

/* SlirpCb.guest_error */
static void
slirp_cb_guest_error(const char *msg, void *opaque)
{
	sbx_debug("slirp: guest error: %s", msg);
}

/* SlirpCb.clock_get_ns: the clock GLib's timeouts use, so timer_mod's
 * absolute deadlines convert to GLib delays without drift. */
static int64_t
slirp_cb_clock_get_ns(void *opaque)
{
	return g_get_monotonic_time() * 1000;
}

static gboolean
slirp_timer_fire(gpointer data)
{
	SlirpTimer *t = data;
	GSource *src = t->src;

	/* Clear first: the callback may re-arm the timer (timer_mod). */
	t->src = NULL;
	t->cb(t->cb_opaque);
	g_source_unref(src);
	return G_SOURCE_REMOVE;
}

static void
slirp_timer_disarm(SlirpTimer *t)
{
	if (t->src) {
		g_source_destroy(t->src);
		g_source_unref(t->src);
		t->src = NULL;
	}
}

/* SlirpCb.timer_new */
static void *
slirp_cb_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
	SlirpLoop *loop = opaque;
	SlirpTimer *t = g_new0(SlirpTimer, 1);

	t->loop = loop;
	t->cb = cb;
	t->cb_opaque = cb_opaque;
	g_ptr_array_add(loop->timers, t);
	return t;
}

/* SlirpCb.timer_free */
static void
slirp_cb_timer_free(void *timer, void *opaque)
{
	SlirpLoop *loop = opaque;
	SlirpTimer *t = timer;

	if (!t)
		return;
	slirp_timer_disarm(t);
	g_ptr_array_remove_fast(loop->timers, t);
	g_free(t);
}

/* SlirpCb.timer_mod: EXPIRE_MS is absolute, in the clock_get_ns domain. */
static void
slirp_cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	SlirpTimer *t = timer;
	int64_t now_ms = g_get_monotonic_time() / 1000;
	int64_t delay = expire_ms > now_ms ? expire_ms - now_ms : 0;

	slirp_timer_disarm(t);
	t->src = g_timeout_source_new((guint)MIN(delay, (int64_t)G_MAXUINT));
	g_source_set_callback(t->src, slirp_timer_fire, t, NULL);
	g_source_attach(t->src, t->loop->ctx);
}

/* A socket slirp closes leaves the epoll set by itself, and its number may
 * come back as a new socket wanting the same events — which prepare()
 * would then skip as "already registered".  slirp announces both ends of a
 * socket's life (before closesocket() and after socket()/accept()), so the
 * registration is forgotten there and made afresh by the next prepare(). */
static void
slirp_source_forget_fd(SlirpLoop *loop, int fd)
{
	SlirpSource *ss = (SlirpSource *)loop->source;

	if (!ss || fd < 0)
		return;
	if (g_hash_table_remove(ss->registered, GINT_TO_POINTER(fd)))
		epoll_ctl(ss->epfd, EPOLL_CTL_DEL, fd, NULL);
}

/* SlirpCb.register_poll_fd */
static void
slirp_cb_register_poll_fd(int fd, void *opaque)
{
	slirp_source_forget_fd(opaque, fd);
}

/* SlirpCb.unregister_poll_fd */
static void
slirp_cb_unregister_poll_fd(int fd, void *opaque)
{
	slirp_source_forget_fd(opaque, fd);
}

/* SlirpCb.notify: a socket's send buffer drained below half, so slirp wants
 * to poll for more data: make the context run prepare() again.  When slirp
 * calls this from inside our own dispatch (slirp_input from the tap watch,
 * slirp_pollfds_poll here — in 4.7 the only callers, via sodrop), the
 * context runs every prepare() right after this dispatch anyway, and a
 * wakeup would only cost an eventfd write and an empty loop iteration per
 * ACK during a download. */
static void
slirp_cb_notify(void *opaque)
{
	SlirpLoop *loop = opaque;

	if (loop->in_slirp && g_main_context_is_owner(loop->ctx))
		return;
	g_main_context_wakeup(loop->ctx);
}

static const SlirpCb slirp_loop_callbacks = {
	.send_packet = slirp_cb_send_packet,
	.guest_error = slirp_cb_guest_error,
	.clock_get_ns = slirp_cb_clock_get_ns,
	.timer_new = slirp_cb_timer_new,
	.timer_free = slirp_cb_timer_free,
	.timer_mod = slirp_cb_timer_mod,
	.register_poll_fd = slirp_cb_register_poll_fd,
	.unregister_poll_fd = slirp_cb_unregister_poll_fd,
	.notify = slirp_cb_notify,
};

/* ---- public ------------------------------------------------------------- */

SlirpLoop *
slirp_loop_new(const SlirpConfig *cfg, GMainContext *ctx, SlirpLoopSendFunc send,
	       gpointer send_opaque, GError **error)
{
	g_autoptr(SlirpLoop) loop = g_new0(SlirpLoop, 1);
	autoclose int epfd = -1;
	SlirpSource *ss;

	loop->ctx = g_main_context_ref(ctx ? ctx : g_main_context_default());
	loop->send = send;
	loop->send_opaque = send_opaque;
	loop->timers = g_ptr_array_new();
	loop->slirp = slirp_new(cfg, &slirp_loop_callbacks, loop);
	if (!loop->slirp) {
		g_set_error(error, SBX_ERROR, SBX_ERR_OS,
			    "start libslirp: configuration refused (version %u, MTU %zu)",
			    cfg->version, cfg->if_mtu);
		return NULL;
	}
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0) {
		sbx_set_errno(error, errno, "start libslirp: create epoll set");
		return NULL;
	}
	loop->source = g_source_new(&slirp_source_funcs, sizeof(SlirpSource));
	g_source_set_name(loop->source, "slirp");
	ss = (SlirpSource *)loop->source;
	ss->loop = loop;
	ss->epfd = sbx_steal_fd(&epfd);
	ss->slots = g_array_new(FALSE, TRUE, sizeof(SlirpPollSlot));
	ss->idx_by_fd = g_array_new(FALSE, TRUE, sizeof(gint));
	ss->ready = g_array_new(FALSE, TRUE, sizeof(struct epoll_event));
	ss->registered = g_hash_table_new(NULL, NULL);
	ss->deadline_us = G_MAXINT64;
	ss->epoll_pfd.fd = ss->epfd;
	ss->epoll_pfd.events = G_IO_IN;
	g_source_add_poll(loop->source, &ss->epoll_pfd);
	/* GLib "blocks" a non-recursive source around its dispatch by
	 * removing and re-adding its poll fds, and the re-add signals the
	 * context's wakeup fd: one empty loop iteration after every dispatch
	 * (doc/PLATFORM.md §1.4).  Nothing here runs a nested loop, so recursion is
	 * harmless and the wakeups go away. */
	g_source_set_can_recurse(loop->source, TRUE);
	g_source_attach(loop->source, loop->ctx);
	return g_steal_pointer(&loop);
}

Slirp *
slirp_loop_get_slirp(SlirpLoop *loop)
{
	return loop->slirp;
}

void
slirp_loop_input(SlirpLoop *loop, const uint8_t *frame, size_t len)
{
	if (len > INT_MAX)
		return;
	loop->in_slirp++;
	slirp_input(loop->slirp, frame, (int)len);
	loop->in_slirp--;
}

guint64
slirp_loop_prepare_count(const SlirpLoop *loop)
{
	return loop->source ? ((const SlirpSource *)loop->source)->prepare_count : 0;
}

void
slirp_loop_free(SlirpLoop *loop)
{
	if (!loop)
		return;
	if (loop->source) {
		g_source_destroy(loop->source);
		g_clear_pointer(&loop->source, g_source_unref);
	}
	/* slirp_cleanup frees its timers through timer_free. */
	if (loop->slirp)
		slirp_cleanup(loop->slirp);
	for (guint i = 0; i < loop->timers->len; i++) {
		SlirpTimer *t = g_ptr_array_index(loop->timers, i);
		slirp_timer_disarm(t);
		g_free(t);
	}
	g_ptr_array_unref(loop->timers);
	g_main_context_unref(loop->ctx);
	g_free(loop);
}
