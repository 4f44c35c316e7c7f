/* SPDX-License-Identifier: MIT
 *
 * test-loop-epoll.c — the launcher's GPollFunc (common/loop-epoll.c):
 * direct watches served inside the wait, the wait going on after them, and
 * what ends it — a dispatch function asking for an iteration, one of
 * GLib's fds, a queue's deadline — plus the poll(2) fallback.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <glib-unix.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/loop-epoll.h"

typedef struct {
	GMainContext *ctx;
	int pipe[2];                /* the direct watch reads pipe[0] */
	LoopEpollQueue *q;
	LoopEpollWatch w;
	guint dispatched;           /* dispatch calls */
	guint events;               /* events taken in them */
	guint iterate_at;           /* dispatch returns TRUE at this call */
	gboolean refill;            /* write a byte back after each read */
	gint64 deadline_in;         /* µs: set the queue's deadline this far ahead */
} Fixture;

static gboolean on_direct(LoopEpollQueue *q, gpointer data);

static int
setup(void **state)
{
	Fixture *fx = g_new0(Fixture, 1);

	fx->ctx = g_main_context_new();
	assert_true(loop_epoll_install(fx->ctx));
	assert_true(loop_epoll_active(fx->ctx));
	assert_int_equal(pipe2(fx->pipe, O_NONBLOCK | O_CLOEXEC), 0);
	fx->q = loop_epoll_queue_new(on_direct, fx);
	assert_non_null(fx->q);
	fx->w.queue = fx->q;
	fx->w.data = fx;
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	Fixture *fx = *state;

	close(fx->pipe[0]);
	close(fx->pipe[1]);
	loop_epoll_queue_free(fx->q);
	loop_epoll_uninstall(fx->ctx);
	assert_false(loop_epoll_active(fx->ctx));
	g_main_context_unref(fx->ctx);
	g_free(fx);
	return 0;
}

static void
put_byte(int fd)
{
	assert_int_equal(write(fd, "x", 1), 1);
}

/* LoopEpollDispatchFunc */
static gboolean
on_direct(LoopEpollQueue *q, gpointer data)
{
	Fixture *fx = data;
	struct epoll_event ev[8];
	guint n;
	char c;

	fx->dispatched++;
	while ((n = loop_epoll_queue_take(q, ev, G_N_ELEMENTS(ev))) > 0) {
		for (guint i = 0; i < n; i++) {
			assert_ptr_equal(ev[i].data.ptr, fx);
			assert_true(ev[i].events & EPOLLIN);
		}
		fx->events += n;
	}
	while (read(fx->pipe[0], &c, 1) == 1)
		;
	if (fx->deadline_in)
		loop_epoll_queue_set_deadline(q, g_get_monotonic_time() + fx->deadline_in);
	if (fx->dispatched == fx->iterate_at)
		return TRUE;
	if (fx->refill)
		put_byte(fx->pipe[1]);
	return FALSE;
}

static gboolean
count_cb(gpointer data)
{
	(*(guint *)data)++;
	return G_SOURCE_CONTINUE;
}

static gboolean
count_fd_cb(gint fd, GIOCondition cond, gpointer data)
{
	char c;

	while (read(fd, &c, 1) == 1)
		;
	(*(guint *)data)++;
	return G_SOURCE_CONTINUE;
}

/* The wait serves the direct watch three times in a row and returns to
 * GLib only when the dispatch function asks; a GLib timeout far ahead
 * does not run meanwhile. */
static void
test_dispatch_inside_wait(void **state)
{
	Fixture *fx = *state;
	struct epoll_event ev[4];
	guint timeouts = 0;
	GSource *t = g_timeout_source_new_seconds(60);

	g_source_set_callback(t, count_cb, &timeouts, NULL);
	g_source_attach(t, fx->ctx);
	assert_int_equal(loop_epoll_watch_add(&fx->w, fx->pipe[0], EPOLLIN), 0);
	fx->iterate_at = 3;
	fx->refill = TRUE;
	put_byte(fx->pipe[1]);

	g_main_context_iteration(fx->ctx, TRUE);
	assert_int_equal(fx->dispatched, 3);
	assert_int_equal(fx->events, 3);
	assert_int_equal(timeouts, 0);
	assert_int_equal(loop_epoll_queue_take(fx->q, ev, G_N_ELEMENTS(ev)), 0);
	g_source_destroy(t);
	g_source_unref(t);
}

/* One of GLib's fds ends the wait, and its source is dispatched; direct
 * events that came in the same wait were served first. */
static void
test_glib_fd_ends_wait(void **state)
{
	Fixture *fx = *state;
	int other[2];
	guint fired = 0;
	GSource *s;

	assert_int_equal(pipe2(other, O_NONBLOCK | O_CLOEXEC), 0);
	s = g_unix_fd_source_new(other[0], G_IO_IN);
	g_source_set_callback(s, G_SOURCE_FUNC(count_fd_cb), &fired, NULL);
	g_source_attach(s, fx->ctx);
	assert_int_equal(loop_epoll_watch_add(&fx->w, fx->pipe[0], EPOLLIN), 0);
	put_byte(fx->pipe[1]);
	put_byte(other[1]);

	/* bounded: both fds are ready before the first wait */
	for (int i = 0; i < 10 && !fired; i++)
		g_main_context_iteration(fx->ctx, TRUE);
	assert_int_equal(fired, 1);
	assert_int_equal(fx->dispatched, 1);
	g_source_destroy(s);
	g_source_unref(s);
	close(other[0]);
	close(other[1]);
}

/* A deadline set by the dispatch function ends a wait that nothing else
 * would end: not before it, and (bounded) not much after. */
static void
test_queue_deadline_ends_wait(void **state)
{
	Fixture *fx = *state;
	gint64 t0;

	assert_int_equal(loop_epoll_watch_add(&fx->w, fx->pipe[0], EPOLLIN), 0);
	fx->deadline_in = 30 * 1000;
	put_byte(fx->pipe[1]);

	t0 = g_get_monotonic_time();
	g_main_context_iteration(fx->ctx, TRUE);
	assert_int_equal(fx->dispatched, 1);
	assert_true(g_get_monotonic_time() - t0 >= 30 * 1000);
	assert_true(g_get_monotonic_time() - t0 < 10 * G_USEC_PER_SEC);

	/* cleared: the next wait has no deadline but GLib's own */
	loop_epoll_queue_set_deadline(fx->q, 0);
	fx->deadline_in = 0;
	assert_false(g_main_context_iteration(fx->ctx, FALSE));
}

/* Queues exist only while a context waits through epoll. */
static void
test_queue_needs_the_epoll_wait(void **state)
{
	Fixture *fx = *state;

	loop_epoll_uninstall(fx->ctx);
	errno = 0;
	assert_null(loop_epoll_queue_new(on_direct, fx));
	assert_int_equal(errno, ENOTCONN);
	assert_true(loop_epoll_install(fx->ctx));
}

/* An fd epoll cannot watch (a regular file) in GLib's list: the wait
 * falls back to poll(2), and direct watches are still served. */
static void
test_fallback_serves_direct_watches(void **state)
{
	Fixture *fx = *state;
	int file = memfd_create("loop-epoll-test", MFD_CLOEXEC);
	guint fired = 0;
	GSource *s;

	assert_true(file >= 0);
	s = g_unix_fd_source_new(file, G_IO_IN);
	g_source_set_callback(s, G_SOURCE_FUNC(count_fd_cb), &fired, NULL);
	g_source_attach(s, fx->ctx);
	assert_int_equal(loop_epoll_watch_add(&fx->w, fx->pipe[0], EPOLLIN), 0);
	put_byte(fx->pipe[1]);

	g_main_context_iteration(fx->ctx, TRUE);
	assert_int_equal(fx->dispatched, 1);
	assert_true(fired >= 1);   /* a regular file always polls ready */
	g_source_destroy(s);
	g_source_unref(s);
	close(file);
}

/* Removing a watch stops its events. */
static void
test_watch_remove(void **state)
{
	Fixture *fx = *state;

	assert_int_equal(loop_epoll_watch_add(&fx->w, fx->pipe[0], EPOLLIN), 0);
	assert_int_equal(loop_epoll_watch_remove(fx->pipe[0]), 0);
	assert_int_equal(loop_epoll_watch_remove(fx->pipe[0]), -ENOENT);
	put_byte(fx->pipe[1]);
	assert_false(g_main_context_iteration(fx->ctx, FALSE));
	assert_int_equal(fx->dispatched, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dispatch_inside_wait, setup, teardown),
		cmocka_unit_test_setup_teardown(test_glib_fd_ends_wait, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_deadline_ends_wait, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_needs_the_epoll_wait, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fallback_serves_direct_watches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watch_remove, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
