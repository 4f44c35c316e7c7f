/* SPDX-License-Identifier: MIT
 *
 * relay-ring.h — the byte rings of the TCP relay (tcp-relay.h): what one
 * connection holds for the host socket or for the guest.
 *
 * Pure code: memory, no syscalls (unit test:
 * tests/unit/test-relay-ring.c).  A ring's capacity is 0 or a power of two
 * from RELAY_RING_MIN up to the caller's maximum; it grows on demand, out
 * of a budget shared by all rings of the relay, and never shrinks (the
 * connection's end frees it).  The first allocation of a ring is taken
 * even past the budget, so every connection can move data at all.
 */
#pragma once

#include <glib.h>
#include <stdint.h>
#include <sys/uio.h>

#define RELAY_RING_MIN (64 * 1024)

typedef struct {
	uint8_t *data;
	guint32 cap;                /* 0 or a power of two */
	guint32 head;               /* index of the first byte */
	guint32 len;                /* bytes held */
} RelayRing;

typedef struct {
	gsize used;                 /* capacity of all rings */
	gsize max;
} RelayRingBudget;

/* Grow B, if needed and allowed, so that WANT more bytes fit, up to a
 * capacity of CAP_MAX (a power of two ≥ RELAY_RING_MIN).  Returns the free
 * space afterwards, which may be less than WANT. */
guint32 relay_ring_reserve(RelayRing *b, RelayRingBudget *budget, guint32 want,
			   guint32 cap_max);

/* Free B's memory and give its capacity back to BUDGET. */
void relay_ring_release(RelayRing *b, RelayRingBudget *budget);

/* Drop the first N bytes (N ≤ len). */
void relay_ring_consume(RelayRing *b, guint32 n);

/* The bytes from offset OFF (< len) on, up to the end of the ring's memory:
 * *N of them at the returned pointer. */
uint8_t *relay_ring_span(const RelayRing *b, guint32 off, guint32 *n);

/* The free space as up to two iovecs, in order; returns how many (0 when
 * full).  After reading K bytes into them, relay_ring_commit(B, K). */
int relay_ring_free_iov(const RelayRing *b, struct iovec iov[2]);
void relay_ring_commit(RelayRing *b, guint32 k);

/* Append N bytes at P; N must fit in the free space. */
void relay_ring_append(RelayRing *b, const uint8_t *p, guint32 n);
