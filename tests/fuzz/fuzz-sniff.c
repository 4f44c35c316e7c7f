/* SPDX-License-Identifier: MIT
 *
 * fuzz-sniff.c — libFuzzer harness for the name gate's parser
 * (net/relay/sniff.c), which reads the first bytes every guest connection
 * sends.  Besides memory safety (ASan/UBSan) it checks what the relay
 * relies on:
 *   - the result is well formed: a kind in range, a NUL-terminated name of
 *     lower-case name bytes (':' only in IPv6 text), nothing but the kind
 *     on MORE/UNKNOWN/MALFORMED, `consumed` within the input;
 *   - it is monotone: every prefix of the input gets SNIFF_MORE or exactly
 *     the whole input's verdict (kind, name, port, consumed), so the relay
 *     may decide on the bytes it has;
 *   - TLS record framing does not matter: the input taken as a ClientHello
 *     body gets the same verdict in one record as split over two.
 * Seeds: tests/fuzz/corpus-sniff/.  Run: tests/fuzz/run.sh long 600 sniff
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/relay/sniff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* inputs up to this size get every prefix checked; longer ones a few */
#define ALL_PREFIXES_MAX 512
#define SPLIT_POINTS 24

static int
name_byte_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
	       c == '_' || c == ':';
}

static void
check_result(SniffKind k, const SniffResult *r, size_t size)
{
	const char *nul = memchr(r->name, '\0', sizeof r->name);
	const char *kn = sniff_kind_name(k);

	if (k != r->kind || k < SNIFF_MORE || k > SNIFF_MALFORMED || !kn || strcmp(kn, "?") == 0)
		__builtin_trap();
	if (!nul)
		__builtin_trap();
	for (const char *p = r->name; p < nul; p++)
		if (!name_byte_ok(*p))
			__builtin_trap();
	/* no empty label: no leading, trailing or double dot */
	if (nul > r->name && (r->name[0] == '.' || nul[-1] == '.' || strstr(r->name, "..")))
		__builtin_trap();
	if (r->consumed > size || (r->consumed != 0) != (k == SNIFF_SOCKS5_HELLO))
		__builtin_trap();
	if ((k == SNIFF_MORE || k == SNIFF_UNKNOWN || k == SNIFF_MALFORMED ||
	     k == SNIFF_SSH || k == SNIFF_SOCKS5_HELLO) &&
	    (r->name[0] || r->port))
		__builtin_trap();
	if ((k == SNIFF_HTTP_CONNECT || k == SNIFF_SOCKS4 || k == SNIFF_SOCKS5) && !r->name[0])
		__builtin_trap();
	if (k == SNIFF_HTTP_CONNECT && r->port == 0)
		__builtin_trap();
}

static int
same_verdict(const SniffResult *a, const SniffResult *b)
{
	return a->kind == b->kind && a->port == b->port && a->consumed == b->consumed &&
	       strcmp(a->name, b->name) == 0;
}

typedef SniffKind (*SniffFn)(const uint8_t *buf, size_t len, SniffResult *out);

/* FN on the first N bytes of DATA copied to a heap block of exactly N
 * bytes: ASan sees a read past the prefix, which DATA itself would hide. */
static SniffKind
sniff_prefix(SniffFn fn, const uint8_t *data, size_t n, SniffResult *r)
{
	uint8_t *copy = malloc(n ? n : 1);
	SniffKind k;

	if (!copy)
		__builtin_trap();
	if (n)
		memcpy(copy, data, n);
	k = fn(copy, n, r);
	free(copy);
	return k;
}

/* FN on DATA, then on prefixes: each MORE or the same verdict. */
static void
check_monotone(SniffFn fn, const uint8_t *data, size_t size, SniffResult *whole)
{
	SniffResult r;

	check_result(sniff_prefix(fn, data, size, whole), whole, size);
	for (size_t i = 0; i < (size <= ALL_PREFIXES_MAX ? size : SPLIT_POINTS); i++) {
		size_t n = size <= ALL_PREFIXES_MAX ? i : size / SPLIT_POINTS * i + (i & 7);

		check_result(sniff_prefix(fn, data, n, &r), &r, n);
		if (r.kind != SNIFF_MORE && !same_verdict(&r, whole))
			__builtin_trap();
	}
}

static size_t
put_record_header(uint8_t *p, size_t len)
{
	p[0] = 22;
	p[1] = 3;
	p[2] = 1;
	p[3] = (uint8_t)(len >> 8);
	p[4] = (uint8_t)len;
	return 5;
}

/* DATA as the body of a ClientHello, framed in one record and in two
 * (split at a point DATA chooses): the verdicts agree.  Reaches the
 * hello's inner parser without the fuzzer having to get the outer
 * lengths right. */
static void
check_as_hello_body(const uint8_t *data, size_t size)
{
	static uint8_t msg[4 + 8192], wire[2 * 5 + sizeof msg];
	SniffResult one, two;
	size_t msg_len = 4 + size, split, w;

	if (size > sizeof msg - 4)
		return;
	msg[0] = 1;
	msg[1] = (uint8_t)(size >> 16);
	msg[2] = (uint8_t)(size >> 8);
	msg[3] = (uint8_t)size;
	memcpy(msg + 4, data, size);

	w = put_record_header(wire, msg_len);
	memcpy(wire + w, msg, msg_len);
	check_monotone(sniff_client, wire, w + msg_len, &one);

	split = 1 + (size ? data[size - 1] * msg_len / 256 : 0);
	if (split >= msg_len)
		return;
	w = put_record_header(wire, split);
	memcpy(wire + w, msg, split);
	w += split;
	w += put_record_header(wire + w, msg_len - split);
	memcpy(wire + w, msg + split, msg_len - split);
	w += msg_len - split;
	check_result(sniff_prefix(sniff_client, wire, w, &two), &two, w);
	if (!same_verdict(&one, &two))
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	SniffResult whole, req;

	check_monotone(sniff_client, data, size, &whole);
	/* the SOCKS5 request after a greeting, and the input as a request */
	if (whole.kind == SNIFF_SOCKS5_HELLO)
		check_monotone(sniff_socks5_request, data + whole.consumed,
			       size - whole.consumed, &req);
	check_monotone(sniff_socks5_request, data, size, &req);
	check_as_hello_body(data, size);
	return 0;
}
