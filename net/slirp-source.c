/* SPDX-License-Identifier: MIT
 *
 * slirp-source.c — libslirp as a GSource (design and measurements:
 * NOTES-platform.md §1.4).
 *
 * Why the care: GLib signals the context's wakeup fd whenever a poll fd is
 * added, and around the dispatch of a non-recursive source.  Re-registering
 * slirp's fds on every prepare(), or claiming readiness in every check(),
 * turns the loop into a busy loop at 100% CPU with an idle TCP connection.
 * So the registered set only changes when slirp's set changes, and check()
 * reports readiness only for real revents or an expired slirp deadline.
 */
#include "slirp-source.h"
#include "common/error.h"
#include "common/log.h"

#include <limits.h>
#include <poll.h>

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
	GSource base;
	SlirpLoop *loop;
	GArray *cur;                /* GPollFD registered with g_source_add_poll */
	GArray *next;               /* built by slirp_pollfds_fill in prepare() */
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

static int
slirp_events_to_gio(int events)
{
	int ev = 0;

	if (events & SLIRP_POLL_IN)
		ev |= G_IO_IN;
	if (events & SLIRP_POLL_OUT)
		ev |= G_IO_OUT;
	if (events & SLIRP_POLL_PRI)
		ev |= G_IO_PRI;
	if (events & SLIRP_POLL_ERR)
		ev |= G_IO_ERR;
	if (events & SLIRP_POLL_HUP)
		ev |= G_IO_HUP;
	return ev;
}

static int
slirp_events_from_gio(int revents)
{
	int ev = 0;

	if (revents & G_IO_IN)
		ev |= SLIRP_POLL_IN;
	if (revents & G_IO_OUT)
		ev |= SLIRP_POLL_OUT;
	if (revents & G_IO_PRI)
		ev |= SLIRP_POLL_PRI;
	if (revents & G_IO_ERR)
		ev |= SLIRP_POLL_ERR;
	if (revents & G_IO_HUP)
		ev |= SLIRP_POLL_HUP;
	return ev;
}

/* SlirpAddPollCb for slirp_pollfds_fill: append to the "next" set. */
static int
slirp_source_add_poll(int fd, int events, void *opaque)
{
	SlirpSource *ss = opaque;
	GPollFD pfd = { .fd = fd, .events = (gushort)slirp_events_to_gio(events) };

	g_array_append_val(ss->next, pfd);
	return (int)ss->next->len - 1;
}

/* SlirpGetREventsCb for slirp_pollfds_poll: indices refer to "cur", which
 * equals the set slirp filled in the last prepare(). */
static int
slirp_source_get_revents(int idx, void *opaque)
{
	SlirpSource *ss = opaque;

	if (idx < 0 || (guint)idx >= ss->cur->len)
		return 0;
	return slirp_events_from_gio(g_array_index(ss->cur, GPollFD, idx).revents);
}

/* TRUE when the two sets poll different fds (or in another order).  A
 * change of events alone is not a change of the set: GLib reads
 * GPollFD.events afresh when it builds the poll array after prepare(), so
 * prepare() updates them in place.  In a bulk transfer slirp toggles
 * POLLIN/POLLOUT of the same sockets all the time; re-registering for that
 * would signal the wakeup fd and cost an extra loop iteration each time. */
static gboolean
slirp_source_fds_changed(const GArray *a, const GArray *b)
{
	if (a->len != b->len)
		return TRUE;
	for (guint i = 0; i < a->len; i++)
		if (g_array_index(a, GPollFD, i).fd != g_array_index(b, GPollFD, i).fd)
			return TRUE;
	return FALSE;
}

/* ---- GSourceFuncs ------------------------------------------------------- */

static gboolean
slirp_source_prepare(GSource *base, gint *timeout)
{
	SlirpSource *ss = (SlirpSource *)base;
	uint32_t t = UINT32_MAX;

	ss->prepare_count++;
	g_array_set_size(ss->next, 0);
	slirp_pollfds_fill(ss->loop->slirp, &t, slirp_source_add_poll, ss);

	if (slirp_source_fds_changed(ss->cur, ss->next)) {
		GArray *old = ss->cur;

		/* GPollFD pointers are handed to GLib, so remove all of the old
		 * set before the arrays swap (a swap may move the storage). */
		for (guint i = 0; i < old->len; i++)
			g_source_remove_poll(base, &g_array_index(old, GPollFD, i));
		ss->cur = ss->next;
		ss->next = old;
		for (guint i = 0; i < ss->cur->len; i++)
			g_source_add_poll(base, &g_array_index(ss->cur, GPollFD, i));
	} else {
		/* Same fds: keep GLib's registrations (same storage), take the
		 * new events, forget stale revents. */
		for (guint i = 0; i < ss->cur->len; i++) {
			GPollFD *pfd = &g_array_index(ss->cur, GPollFD, i);

			pfd->events = g_array_index(ss->next, GPollFD, i).events;
			pfd->revents = 0;
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

	for (guint i = 0; i < ss->cur->len; i++)
		if (g_array_index(ss->cur, GPollFD, i).revents)
			return TRUE;
	return g_source_get_time(base) >= ss->deadline_us;
}

static gboolean
slirp_source_dispatch(GSource *base, GSourceFunc callback, gpointer user_data)
{
	SlirpSource *ss = (SlirpSource *)base;

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

	g_array_unref(ss->cur);
	g_array_unref(ss->next);
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

/* SlirpCb.register_poll_fd / unregister_poll_fd: informational on Linux;
 * the fd set comes from slirp_pollfds_fill (QEMU and slirp4netns also
 * ignore these). */
static void
slirp_cb_register_poll_fd(int fd, void *opaque)
{
}

static void
slirp_cb_unregister_poll_fd(int fd, void *opaque)
{
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
	loop->source = g_source_new(&slirp_source_funcs, sizeof(SlirpSource));
	g_source_set_name(loop->source, "slirp");
	ss = (SlirpSource *)loop->source;
	ss->loop = loop;
	ss->cur = g_array_new(FALSE, TRUE, sizeof(GPollFD));
	ss->next = g_array_new(FALSE, TRUE, sizeof(GPollFD));
	ss->deadline_us = G_MAXINT64;
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
		g_source_unref(loop->source);
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
