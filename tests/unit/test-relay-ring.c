/* SPDX-License-Identifier: MIT
 *
 * test-relay-ring.c — the TCP relay's byte rings (net/relay/relay-ring.c):
 * growth within a budget, wrap-around, and that bytes come out in the order
 * they went in whatever the split.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "net/relay/relay-ring.h"

#define MAX_CAP (1024 * 1024)

/* Read N bytes from offset 0 through spans (as the relay sends them). */
static void
read_out(const RelayRing *b, uint8_t *out, guint32 n)
{
	guint32 off = 0;

	while (off < n) {
		guint32 span;
		const uint8_t *p = relay_ring_span(b, off, &span);

		assert_true(span > 0);
		span = MIN(span, n - off);
		memcpy(out + off, p, span);
		off += span;
	}
}

/* Bytes go out in order across many wraps; free space and length add up
 * to the capacity at every step. */
static void
test_fifo_order_across_wraps(void **state)
{
	RelayRingBudget budget = { .max = 8 * MAX_CAP };
	RelayRing b = { 0 };
	static uint8_t in[100000], out[100000];
	guint32 next_in = 0;

	for (guint32 i = 0; i < sizeof in; i++)
		in[i] = (uint8_t)(i * 31 + 7);
	assert_int_equal(relay_ring_reserve(&b, &budget, 1, RELAY_RING_MIN), RELAY_RING_MIN);
	assert_int_equal(budget.used, RELAY_RING_MIN);
	for (int round = 0; round < 200; round++) {
		guint32 put = (guint32)(round * 7919) % 30000 + 1;
		guint32 take;
		struct iovec iov[2];

		put = MIN(put, b.cap - b.len);
		if (round % 2) {
			relay_ring_append(&b, in + next_in % 50000, put);
		} else {
			/* as the relay receives: into the free iovecs */
			int k = relay_ring_free_iov(&b, iov);
			guint32 first = MIN(put, (guint32)iov[0].iov_len);

			assert_true(k >= 1);
			memcpy(iov[0].iov_base, in + next_in % 50000, first);
			if (put > first) {
				assert_int_equal(k, 2);
				memcpy(iov[1].iov_base, in + next_in % 50000 + first, put - first);
			}
			relay_ring_commit(&b, put);
		}
		/* keep the expected stream simple: restart it at each put */
		take = b.len;
		read_out(&b, out, take);
		relay_ring_consume(&b, take);
		assert_memory_equal(out, in + next_in % 50000, put);
		assert_int_equal(b.len, 0);
		next_in += put;
		/* leave a remainder so the head moves around the ring */
		relay_ring_append(&b, in, 1000);
		relay_ring_consume(&b, 1000);
	}
	relay_ring_release(&b, &budget);
	assert_int_equal(budget.used, 0);
	assert_null(b.data);
}

/* Growth keeps the contents (re-linearised), doubles up to the maximum and
 * stops there. */
static void
test_growth_keeps_contents(void **state)
{
	RelayRingBudget budget = { .max = 8 * MAX_CAP };
	RelayRing b = { 0 };
	static uint8_t in[300000], out[300000];

	for (guint32 i = 0; i < sizeof in; i++)
		in[i] = (uint8_t)(i ^ (i >> 8));
	relay_ring_reserve(&b, &budget, 50000, MAX_CAP);
	relay_ring_append(&b, in, 50000);
	relay_ring_consume(&b, 40000);           /* head at 40000 */
	relay_ring_append(&b, in + 50000, 40000); /* wraps */
	assert_int_equal(b.cap, RELAY_RING_MIN);
	assert_true(relay_ring_reserve(&b, &budget, 250000, MAX_CAP) >= 250000);
	assert_int_equal(b.cap, 512 * 1024);
	assert_int_equal(b.head, 0);
	assert_int_equal(b.len, 50000);
	read_out(&b, out, b.len);
	assert_memory_equal(out, in + 40000, 50000);
	assert_int_equal(budget.used, 512 * 1024);
	/* never past the maximum */
	assert_int_equal(relay_ring_reserve(&b, &budget, 5 * MAX_CAP, MAX_CAP), MAX_CAP - 50000);
	assert_int_equal(b.cap, MAX_CAP);
	assert_int_equal(relay_ring_reserve(&b, &budget, 5 * MAX_CAP, MAX_CAP), MAX_CAP - 50000);
	relay_ring_release(&b, &budget);
	assert_int_equal(budget.used, 0);
}

/* Past the budget a ring does not grow — but its first allocation is
 * always made. */
static void
test_budget(void **state)
{
	RelayRingBudget budget = { .max = RELAY_RING_MIN };
	RelayRing a = { 0 }, b = { 0 };

	assert_int_equal(relay_ring_reserve(&a, &budget, 10, MAX_CAP), RELAY_RING_MIN);
	assert_int_equal(relay_ring_reserve(&b, &budget, 10, MAX_CAP), RELAY_RING_MIN);
	assert_int_equal(budget.used, 2 * RELAY_RING_MIN);
	relay_ring_append(&a, (const uint8_t *)"x", 1);
	assert_int_equal(relay_ring_reserve(&a, &budget, RELAY_RING_MIN, MAX_CAP),
			 RELAY_RING_MIN - 1);
	assert_int_equal(a.cap, RELAY_RING_MIN);
	relay_ring_release(&b, &budget);
	relay_ring_release(&b, &budget);          /* twice: harmless */
	budget.max = 4 * RELAY_RING_MIN;
	assert_true(relay_ring_reserve(&a, &budget, RELAY_RING_MIN, MAX_CAP) >= RELAY_RING_MIN);
	assert_int_equal(a.cap, 2 * RELAY_RING_MIN);
	relay_ring_release(&a, &budget);
	assert_int_equal(budget.used, 0);
}

/* A full ring offers no iovec; an empty unallocated one neither. */
static void
test_full_and_empty(void **state)
{
	RelayRingBudget budget = { .max = MAX_CAP };
	RelayRing b = { 0 };
	struct iovec iov[2];
	static uint8_t fill[RELAY_RING_MIN];

	assert_int_equal(relay_ring_free_iov(&b, iov), 0);
	relay_ring_reserve(&b, &budget, 1, RELAY_RING_MIN);
	relay_ring_append(&b, fill, sizeof fill);
	assert_int_equal(relay_ring_free_iov(&b, iov), 0);
	relay_ring_consume(&b, 100);
	assert_int_equal(relay_ring_free_iov(&b, iov), 1);
	assert_int_equal(iov[0].iov_len, 100);
	assert_ptr_equal(iov[0].iov_base, b.data);
	relay_ring_consume(&b, sizeof fill - 100);
	assert_int_equal(b.head, 0);              /* empty: back to the start */
	relay_ring_release(&b, &budget);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fifo_order_across_wraps),
		cmocka_unit_test(test_growth_keeps_contents),
		cmocka_unit_test(test_budget),
		cmocka_unit_test(test_full_and_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
