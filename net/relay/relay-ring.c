/* SPDX-License-Identifier: MIT
 *
 * relay-ring.c — byte rings for the TCP relay (what each function
 * promises: relay-ring.h).
 */
#include "net/relay/relay-ring.h"

#include <string.h>

guint32
relay_ring_reserve(RelayRing *b, RelayRingBudget *budget, guint32 want, guint32 cap_max)
{
	guint32 ncap = b->cap ? b->cap : RELAY_RING_MIN;
	uint8_t *nd;

	if (b->cap - b->len >= want || b->cap >= cap_max)
		return b->cap - b->len;
	while (ncap - b->len < want && ncap < cap_max)
		ncap *= 2;
	if (b->cap && budget->used + (ncap - b->cap) > budget->max)
		return b->cap - b->len;
	nd = g_malloc(ncap);
	/* Re-linearise: the contents start at 0 in the new memory. */
	if (b->len) {
		guint32 first = MIN(b->len, b->cap - b->head);

		memcpy(nd, b->data + b->head, first);
		memcpy(nd + first, b->data, b->len - first);
	}
	g_free(b->data);
	budget->used += ncap - b->cap;
	b->data = nd;
	b->cap = ncap;
	b->head = 0;
	return b->cap - b->len;
}

void
relay_ring_release(RelayRing *b, RelayRingBudget *budget)
{
	budget->used -= b->cap;
	g_clear_pointer(&b->data, g_free);
	b->cap = b->head = b->len = 0;
}

void
relay_ring_consume(RelayRing *b, guint32 n)
{
	g_assert(n <= b->len);
	if (!n)
		return;
	b->head = (b->head + n) & (b->cap - 1);
	b->len -= n;
	if (!b->len)
		b->head = 0;
}

uint8_t *
relay_ring_span(const RelayRing *b, guint32 off, guint32 *n)
{
	guint32 pos = (b->head + off) & (b->cap - 1);

	*n = MIN(b->len - off, b->cap - pos);
	return b->data + pos;
}

int
relay_ring_free_iov(const RelayRing *b, struct iovec iov[2])
{
	guint32 tail = b->cap ? (b->head + b->len) & (b->cap - 1) : 0;
	guint32 space = b->cap - b->len;
	guint32 first = MIN(space, b->cap - tail);

	if (!space)
		return 0;
	iov[0].iov_base = b->data + tail;
	iov[0].iov_len = first;
	if (first == space)
		return 1;
	iov[1].iov_base = b->data;
	iov[1].iov_len = space - first;
	return 2;
}

void
relay_ring_commit(RelayRing *b, guint32 k)
{
	g_assert(k <= b->cap - b->len);
	b->len += k;
}

void
relay_ring_append(RelayRing *b, const uint8_t *p, guint32 n)
{
	struct iovec iov[2] = { { 0 } };
	int k = relay_ring_free_iov(b, iov);
	guint32 first = k ? MIN(n, (guint32)iov[0].iov_len) : 0;

	g_assert(n <= b->cap - b->len);
	if (first)
		memcpy(iov[0].iov_base, p, first);
	if (n > first)
		memcpy(iov[1].iov_base, p + first, n - first);
	b->len += n;
}
