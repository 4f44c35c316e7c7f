/* SPDX-License-Identifier: MIT
 *
 * test-sniff.c — the name gate's parser (net/relay/sniff.c): the TLS
 * ClientHello (real captures and built ones: SNI, GREASE, records and
 * segments, large post-quantum-sized hellos, every way to break one), HTTP
 * request line and Host, SOCKS4/4a/5, SSH.
 *
 * Every verdict is checked the way the relay uses the parser: on the whole
 * buffer and on every prefix of it.  A prefix may only say SNIFF_MORE or
 * the whole buffer's verdict — a parser that refused or admitted early on
 * bytes that later turn out otherwise would let the relay decide wrongly.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "net/relay/sniff.h"
#include "tests/unit/sniff-captures.h"

/* A string literal and its length, NULs inside included. */
#define LIT(s) (s), (sizeof(s) - 1)

/* ---- checking ------------------------------------------------------------ */

typedef SniffKind (*SniffFn)(const uint8_t *buf, size_t len, SniffResult *out);

/* FN on the first N bytes of BUF copied to a heap block of exactly N
 * bytes, so that ASan sees any read past N. */
static SniffKind
sniff_exact(SniffFn fn, const void *buf, size_t n, SniffResult *r)
{
	uint8_t *copy = malloc(n ? n : 1);
	SniffKind k;

	assert_non_null(copy);
	if (n)
		memcpy(copy, buf, n);
	k = fn(n ? copy : NULL, n, r);
	free(copy);
	return k;
}

/* sniff_client on BUF[0..LEN) gives KIND with NAME and PORT, and every
 * prefix gives MORE or that same verdict. */
static void
expect_n(const void *buf, size_t len, SniffKind kind, const char *name, uint16_t port)
{
	SniffResult r;

	for (size_t n = 0; n < len; n++) {
		SniffKind k = sniff_exact(sniff_client, buf, n, &r);

		if (k != SNIFF_MORE && k != kind)
			fail_msg("prefix of %zu/%zu bytes: %s, whole: %s", n, len,
				 sniff_kind_name(k), sniff_kind_name(kind));
		if (k == kind)
			assert_string_equal(r.name, name);
	}
	assert_int_equal(sniff_exact(sniff_client, buf, len, &r), kind);
	assert_int_equal(r.kind, kind);
	assert_string_equal(r.name, name);
	assert_int_equal(r.port, port);
}

static void
expect(const char *text, SniffKind kind, const char *name, uint16_t port)
{
	expect_n(text, strlen(text), kind, name, port);
}

/* Every proper prefix says MORE: the bytes are a valid start. */
static void
expect_all_prefixes_more(const uint8_t *buf, size_t len)
{
	SniffResult r;

	for (size_t n = 0; n < len; n++)
		if (sniff_exact(sniff_client, buf, n, &r) != SNIFF_MORE)
			fail_msg("prefix of %zu/%zu bytes: %s", n, len, sniff_kind_name(r.kind));
}

/* ---- building ClientHellos --------------------------------------------------- */

typedef struct {
	uint8_t b[3 * SNIFF_HOLD_MAX];
	size_t n;
} Bytes;

static void
put8(Bytes *b, size_t v)
{
	assert_true(b->n < sizeof b->b);
	b->b[b->n++] = (uint8_t)v;
}

static void
put16(Bytes *b, size_t v)
{
	put8(b, v >> 8 & 0xff);
	put8(b, v & 0xff);
}

static void
put_mem(Bytes *b, const void *p, size_t n)
{
	assert_true(n <= sizeof b->b - b->n);
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

static void
put_fill(Bytes *b, uint8_t v, size_t n)
{
	assert_true(n <= sizeof b->b - b->n);
	memset(b->b + b->n, v, n);
	b->n += n;
}

/* An extension of TYPE whose data is N bytes of FILL. */
static void
ext_fill(Bytes *e, size_t type, size_t n, uint8_t fill)
{
	put16(e, type);
	put16(e, n);
	put_fill(e, fill, n);
}

/* A server_name extension with one host_name entry NAME (N bytes). */
static void
ext_sni_n(Bytes *e, const char *name, size_t n)
{
	put16(e, 0);
	put16(e, n + 5);
	put16(e, n + 3);
	put8(e, 0);
	put16(e, n);
	put_mem(e, name, n);
}

static void
ext_sni(Bytes *e, const char *name)
{
	ext_sni_n(e, name, strlen(name));
}

/* The extensions a TLS 1.3 client sends besides SNI, with GREASE values
 * (RFC 8701) first and last as Chrome does, and a key share of
 * KEY_SHARE bytes (1216 for X25519MLKEM768 with X25519 beside it). */
static void
ext_typical(Bytes *e, size_t key_share)
{
	static const uint8_t versions[] = { 0x06, 0x8a, 0x8a, 0x03, 0x04, 0x03, 0x03 };

	ext_fill(e, 0x0a0a, 0, 0);
	put16(e, 43); /* supported_versions */
	put16(e, sizeof versions);
	put_mem(e, versions, sizeof versions);
	put16(e, 51); /* key_share: one entry of group 0x11ec */
	put16(e, key_share + 6);
	put16(e, key_share + 4);
	put16(e, 0x11ec);
	put16(e, key_share);
	put_fill(e, 0x42, key_share);
	ext_fill(e, 16, 14, 0x68); /* alpn (content irrelevant here) */
	ext_fill(e, 0xfafa, 1, 0);
}

/* A ClientHello handshake message around EXTS (no extension block at all
 * when EXTS is NULL). */
static void
hello_msg(Bytes *m, const Bytes *exts)
{
	static const uint8_t suites[] = { 0x1a, 0x1a, 0x13, 0x01, 0x13, 0x02, 0xc0, 0x2b };
	size_t body = 2 + 32 + 1 + 32 + 2 + sizeof suites + 2 + (exts ? 2 + exts->n : 0);

	put8(m, 1);
	put8(m, body >> 16);
	put16(m, body & 0xffff);
	put16(m, 0x0303);
	put_fill(m, 0x5a, 32);
	put8(m, 32);
	put_fill(m, 0xa5, 32);
	put16(m, sizeof suites);
	put_mem(m, suites, sizeof suites);
	put8(m, 1);
	put8(m, 0);
	if (exts) {
		put16(m, exts->n);
		put_mem(m, exts->b, exts->n);
	}
}

/* MSG in handshake records of at most REC bytes each. */
static void
records(Bytes *w, const Bytes *msg, size_t rec)
{
	for (size_t off = 0; off < msg->n; off += rec) {
		size_t n = msg->n - off < rec ? msg->n - off : rec;

		put8(w, 22);
		put16(w, 0x0301);
		put16(w, n);
		put_mem(w, msg->b + off, n);
	}
}

/* The wire bytes of a hello with EXTS in one record. */
static Bytes *
hello_wire(const Bytes *exts)
{
	static Bytes msg, wire;

	msg.n = wire.n = 0;
	hello_msg(&msg, exts);
	records(&wire, &msg, 16384);
	return &wire;
}

static Bytes exts_buf;

static Bytes *
new_exts(void)
{
	exts_buf.n = 0;
	return &exts_buf;
}

/* ---- TLS ------------------------------------------------------------------------ */

static void
test_tls_real_clients(void **state)
{
	expect_all_prefixes_more(openssl_hello, sizeof openssl_hello);
	expect_n(openssl_hello, sizeof openssl_hello, SNIFF_TLS, "example.test", 0);
	/* "Example.Test." on the wire: lower-cased, the trailing dot dropped */
	expect_all_prefixes_more(python_hello, sizeof python_hello);
	expect_n(python_hello, sizeof python_hello, SNIFF_TLS, "example.test", 0);
}

/* Bytes after the hello (a TLS 1.3 client's early data, or a
 * ChangeCipherSpec) do not change the verdict. */
static void
test_tls_trailing_records(void **state)
{
	static const uint8_t ccs[] = { 20, 3, 3, 0, 1, 1, 23, 3, 3, 0 };
	static Bytes w;

	w.n = 0;
	put_mem(&w, openssl_hello, sizeof openssl_hello);
	put_mem(&w, ccs, sizeof ccs);
	expect_n(w.b, w.n, SNIFF_TLS, "example.test", 0);
}

static void
test_tls_no_sni(void **state)
{
	Bytes *e = new_exts();
	Bytes *w;

	ext_typical(e, 32);
	w = hello_wire(e);
	expect_all_prefixes_more(w->b, w->n);
	expect_n(w->b, w->n, SNIFF_TLS, "", 0);
	/* a hello with no extension block at all */
	w = hello_wire(NULL);
	expect_n(w->b, w->n, SNIFF_TLS, "", 0);
}

/* SNI among many extensions, after and before GREASE ones; GREASE cipher
 * suites and versions are just values. */
static void
test_tls_many_extensions_grease(void **state)
{
	Bytes *e = new_exts();
	Bytes *w;

	ext_fill(e, 0x2a2a, 0, 0);
	ext_fill(e, 23, 0, 0);	      /* extended_master_secret */
	ext_fill(e, 65281, 1, 0);     /* renegotiation_info */
	ext_fill(e, 10, 8, 0x1d);     /* supported_groups */
	ext_sni(e, "Registry.Example.ORG");
	ext_typical(e, 32);
	ext_fill(e, 0xdada, 5, 0xff); /* GREASE with data */
	ext_fill(e, 21, 100, 0);      /* padding */
	w = hello_wire(e);
	expect_all_prefixes_more(w->b, w->n);
	expect_n(w->b, w->n, SNIFF_TLS, "registry.example.org", 0);
}

/* A post-quantum-sized hello (X25519MLKEM768 key share) spans several
 * TCP segments: every segment boundary says MORE, the whole says TLS. */
static void
test_tls_large_hello_segments(void **state)
{
	Bytes *e = new_exts();
	Bytes *w;
	SniffResult r;

	ext_sni(e, "pq.example.test");
	ext_typical(e, 1216);
	ext_fill(e, 0xfe0d, 250, 0x33); /* a GREASE encrypted_client_hello, as Chrome sends */
	w = hello_wire(e);
	assert_true(w->n > 1500);
	for (size_t seg = 1448; seg < w->n; seg += 1448)
		assert_int_equal(sniff_client(w->b, seg, &r), SNIFF_MORE);
	expect_all_prefixes_more(w->b, w->n);
	expect_n(w->b, w->n, SNIFF_TLS, "pq.example.test", 0);

	/* the SNI after a big key share, in the third segment */
	e = new_exts();
	ext_typical(e, 3000);
	ext_sni(e, "late.example.test");
	w = hello_wire(e);
	assert_true(w->n > 2896);
	assert_int_equal(sniff_client(w->b, 1448, &r), SNIFF_MORE);
	assert_int_equal(sniff_client(w->b, 2896, &r), SNIFF_MORE);
	expect_n(w->b, w->n, SNIFF_TLS, "late.example.test", 0);
}

/* The handshake message split over several records, at any byte (even
 * inside the 4-byte handshake header). */
static void
test_tls_split_records(void **state)
{
	static const size_t sizes[] = { 1, 2, 3, 5, 100, 200, 317 };
	static Bytes msg, wire;
	Bytes *e = new_exts();

	ext_sni(e, "split.example.test");
	ext_typical(e, 64);
	msg.n = 0;
	hello_msg(&msg, e);
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		wire.n = 0;
		records(&wire, &msg, sizes[i]);
		expect_all_prefixes_more(wire.b, wire.n);
		expect_n(wire.b, wire.n, SNIFF_TLS, "split.example.test", 0);
	}
	/* the real capture re-framed in two records */
	msg.n = 0;
	put_mem(&msg, openssl_hello + 5, sizeof openssl_hello - 5);
	wire.n = 0;
	records(&wire, &msg, 150);
	expect_n(wire.b, wire.n, SNIFF_TLS, "example.test", 0);
}

/* Inner lengths that run past their container. */
static void
test_tls_truncated(void **state)
{
	Bytes *e = new_exts();
	Bytes *w;
	size_t ext_len_at;

	ext_sni(e, "example.test");
	w = hello_wire(e);
	/* extensions length one more than present */
	ext_len_at = w->n - e->n - 2;
	w->b[ext_len_at + 1]++;
	expect_n(w->b, w->n, SNIFF_MALFORMED, "", 0);
	w->b[ext_len_at + 1] -= 2; /* one less: a byte left over */
	expect_n(w->b, w->n, SNIFF_MALFORMED, "", 0);

	/* the handshake message says 4 bytes more than the records carry,
	 * and an application-data record follows */
	w = hello_wire(e);
	w->b[8] += 4;
	put_mem(w, "\x17\x03\x03\x00\x04xxxx", 9);
	expect_n(w->b, w->n, SNIFF_MALFORMED, "", 0);

	/* session id longer than 32, cipher suites odd */
	w = hello_wire(e);
	w->b[5 + 4 + 34] = 33;
	expect_n(w->b, w->n, SNIFF_MALFORMED, "", 0);
	w = hello_wire(e);
	w->b[5 + 4 + 35 + 32 + 1] = 7;
	expect_n(w->b, w->n, SNIFF_MALFORMED, "", 0);

	/* a hello shorter than its fixed fields */
	expect_n(LIT("\x16\x03\x01\x00\x08\x01\x00\x00\x04\x03\x03\x00\x00"), SNIFF_MALFORMED, "",
		 0);
}

static void
test_tls_oversized(void **state)
{
	static Bytes msg, wire;
	SniffResult r;

	/* a hello longer than SNIFF_HOLD_MAX could hold: refused at once */
	expect_n(LIT("\x16\x03\x01\x40\x00\x01\x00\x40\x01"), SNIFF_MALFORMED, "", 0);
	expect_n(LIT("\x16\x03\x01\x40\x00\x01\xff\xff\xff"), SNIFF_MALFORMED, "", 0);
	/* a record longer than TLS allows */
	expect_n(LIT("\x16\x03\x01\x40\x01\x01"), SNIFF_MALFORMED, "", 0);

	/* a hello that fits SNIFF_HOLD_MAX but not in SNIFF_HOLD_MAX bytes
	 * on the wire (1-byte records): undecided at the bound → refused */
	msg.n = 0;
	hello_msg(&msg, NULL);
	put_fill(&msg, 0, 4000);
	msg.b[1] = 0;
	msg.b[2] = (uint8_t)((msg.n - 4) >> 8);
	msg.b[3] = (uint8_t)(msg.n - 4);
	wire.n = 0;
	records(&wire, &msg, 1);
	assert_true(wire.n > SNIFF_HOLD_MAX);
	assert_int_equal(sniff_client(wire.b, SNIFF_HOLD_MAX - 1, &r), SNIFF_MORE);
	assert_int_equal(sniff_client(wire.b, SNIFF_HOLD_MAX, &r), SNIFF_MALFORMED);

	/* the largest hello that fits: SNIFF_HOLD_MAX bytes on the wire */
	msg.n = 0;
	{
		Bytes *e = new_exts();

		ext_sni(e, "big.example.test");
		hello_msg(&msg, e);
		ext_fill(e, 21, SNIFF_HOLD_MAX - 5 - msg.n - 4, 0);
		msg.n = 0;
		hello_msg(&msg, e);
	}
	assert_int_equal(msg.n, SNIFF_HOLD_MAX - 5);
	wire.n = 0;
	records(&wire, &msg, 16384);
	expect_n(wire.b, wire.n, SNIFF_TLS, "big.example.test", 0);
	/* one byte more is refused as soon as its header is seen */
	msg.b[3]++;
	wire.n = 0;
	records(&wire, &msg, 16384);
	assert_int_equal(sniff_client(wire.b, 9, &r), SNIFF_MALFORMED);
}

static void
test_tls_garbage(void **state)
{
	Bytes *w;

	/* not a TLS record version */
	expect_n(LIT("\x16\x00\x01\x00\x10"), SNIFF_MALFORMED, "", 0);
	/* an empty handshake record */
	expect_n(LIT("\x16\x03\x01\x00\x00\x16\x03\x01"), SNIFF_MALFORMED, "", 0);
	/* a ServerHello, a Certificate */
	expect_n(LIT("\x16\x03\x03\x00\x04\x02\x00\x00\x00"), SNIFF_MALFORMED, "", 0);
	expect_n(LIT("\x16\x03\x03\x00\x04\x0b"), SNIFF_MALFORMED, "", 0);
	/* an alert between two parts of the hello */
	w = hello_wire(NULL);
	memcpy(w->b, openssl_hello, 100);
	w->b[3] = 0;
	w->b[4] = 95;
	memcpy(w->b + 100, "\x15\x03\x03\x00\x02\x02\x28", 7);
	expect_n(w->b, 107, SNIFF_MALFORMED, "", 0);
	/* noise in the record */
	expect_n(LIT("\x16\x03\x01\x00\x06\x01\x00\x00\x02\xde\xad"), SNIFF_MALFORMED, "", 0);
	/* SSLv2-compatible hello: not a TLS record */
	expect_n(LIT("\x80\x2e\x01\x03\x01"), SNIFF_UNKNOWN, "", 0);
}

static void
expect_sni_malformed(const char *name, size_t n)
{
	Bytes *e = new_exts();
	Bytes *w;

	ext_sni_n(e, name, n);
	w = hello_wire(e);
	expect_n(w->b, w->n, SNIFF_MALFORMED, "", 0);
}

static void
test_tls_bad_names(void **state)
{
	char big[300];
	Bytes *e;
	Bytes *w;

	expect_sni_malformed("", 0);
	expect_sni_malformed(".", 1);
	expect_sni_malformed("a..b", 4);
	expect_sni_malformed(".a", 2);
	expect_sni_malformed("a..", 3);
	expect_sni_malformed("ex ample.test", 13);
	expect_sni_malformed("example.test\0.evil", 18);
	expect_sni_malformed("a%2eb", 5);
	expect_sni_malformed("user@host", 9);
	expect_sni_malformed("h\xc3\xa9.test", 7);
	expect_sni_malformed("host:443", 8);

	memset(big, 'a', sizeof big);
	for (size_t i = 63; i < 250; i += 64)
		big[i] = '.';
	expect_sni_malformed(big, 256);
	/* 255 bytes plus the trailing dot is a name */
	big[255] = '.';
	e = new_exts();
	ext_sni_n(e, big, 256);
	w = hello_wire(e);
	{
		SniffResult r;

		assert_int_equal(sniff_client(w->b, w->n, &r), SNIFF_TLS);
		assert_int_equal(strlen(r.name), 255);
	}
	/* '_' and '-' are name bytes */
	e = new_exts();
	ext_sni(e, "_acme-x.Example.test");
	w = hello_wire(e);
	expect_n(w->b, w->n, SNIFF_TLS, "_acme-x.example.test", 0);

	/* two entries; a name_type other than host_name; an empty list */
	e = new_exts();
	put16(e, 0);
	put16(e, 2 + 2 * 6);
	put16(e, 2 * 6);
	put_mem(e, "\x00\x00\x03" "a.b" "\x00\x00\x03" "c.d", 12);
	w = hello_wire(e);
	expect_n(w->b, w->n, SNIFF_MALFORMED, "", 0);
	e = new_exts();
	put_mem(e, "\x00\x00\x00\x08\x00\x06\x01\x00\x03" "a.b", 12);
	w = hello_wire(e);
	expect_n(w->b, w->n, SNIFF_MALFORMED, "", 0);
	e = new_exts();
	put_mem(e, "\x00\x00\x00\x02\x00\x00", 6);
	w = hello_wire(e);
	expect_n(w->b, w->n, SNIFF_MALFORMED, "", 0);
	e = new_exts();
	ext_fill(e, 0, 0, 0);
	w = hello_wire(e);
	expect_n(w->b, w->n, SNIFF_MALFORMED, "", 0);
}

/* Two extensions of one type: which one would the server read? */
static void
test_tls_duplicate_extension(void **state)
{
	Bytes *e = new_exts();
	Bytes *w;

	ext_sni(e, "allowed.example");
	ext_fill(e, 23, 0, 0);
	ext_sni(e, "other.example");
	w = hello_wire(e);
	expect_n(w->b, w->n, SNIFF_MALFORMED, "", 0);

	e = new_exts();
	ext_sni(e, "allowed.example");
	ext_fill(e, 0x3a3a, 0, 0);
	ext_fill(e, 0x3a3a, 1, 0);
	w = hello_wire(e);
	expect_n(w->b, w->n, SNIFF_MALFORMED, "", 0);

	/* the highest type value, once, is fine */
	e = new_exts();
	ext_fill(e, 0xffff, 0, 0);
	ext_sni(e, "allowed.example");
	w = hello_wire(e);
	expect_n(w->b, w->n, SNIFF_TLS, "allowed.example", 0);
}

/* ---- HTTP -------------------------------------------------------------------------- */

static void
test_http_host(void **state)
{
	expect("GET / HTTP/1.1\r\nHost: example.test\r\n\r\n", SNIFF_HTTP, "example.test", 0);
	expect("GET /index.html?q=1 HTTP/1.0\r\nUser-Agent: t\r\nHost: Example.Test.:8080\r\n"
	       "Accept: */*\r\n\r\n",
	       SNIFF_HTTP, "example.test", 8080);
	expect("POST /x HTTP/1.1\r\nhOsT:\t  example.test \t\r\n\r\n", SNIFF_HTTP, "example.test",
	       0);
	expect("HEAD / HTTP/1.1\r\nHost:example.test\r\n\r\n", SNIFF_HTTP, "example.test", 0);
	expect("GET / HTTP/1.1\r\nHost: [::1]\r\n\r\n", SNIFF_HTTP, "::1", 0);
	expect("GET / HTTP/1.1\r\nHost: [2001:DB8:0::1]:8443\r\n\r\n", SNIFF_HTTP, "2001:db8::1",
	       8443);
	expect("GET / HTTP/1.1\r\nHost: 192.0.2.10:80\r\n\r\n", SNIFF_HTTP, "192.0.2.10", 80);
	expect("OPTIONS * HTTP/1.1\r\nHost: example.test\r\n\r\n", SNIFF_HTTP, "example.test", 0);
	expect("M-SEARCH * HTTP/1.1\r\nHost: example.test\r\n\r\n", SNIFF_HTTP, "example.test", 0);
	/* a header whose name only contains "host" */
	expect("GET / HTTP/1.1\r\nX-Host: other.test\r\nHost: example.test\r\nHosts: x\r\n\r\n",
	       SNIFF_HTTP, "example.test", 0);
	/* the body after the header block is not looked at */
	expect_n(LIT("POST / HTTP/1.1\r\nHost: example.test\r\nContent-Length: 4\r\n\r\n\0\n\r "),
		 SNIFF_HTTP, "example.test", 0);
}

static void
test_http_missing_host(void **state)
{
	expect("GET / HTTP/1.1\r\n\r\n", SNIFF_HTTP, "", 0);
	expect("GET / HTTP/1.0\r\nAccept: */*\r\n\r\n", SNIFF_HTTP, "", 0);
	expect("GET / HTTP/1.1\r\nHost:\r\n\r\n", SNIFF_HTTP, "", 0);
	expect("GET / HTTP/1.1\r\nHost:   \r\n\r\n", SNIFF_HTTP, "", 0);
}

static void
test_http_connect(void **state)
{
	expect("CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n",
	       SNIFF_HTTP_CONNECT, "example.test", 443);
	expect("CONNECT Other.Test:22 HTTP/1.1\r\n\r\n", SNIFF_HTTP_CONNECT, "other.test", 22);
	expect("CONNECT [2001:db8::1]:443 HTTP/1.1\r\n\r\n", SNIFF_HTTP_CONNECT, "2001:db8::1",
	       443);
	/* the port is required, and must be a port */
	expect("CONNECT example.test HTTP/1.1\r\n\r\n", SNIFF_MALFORMED, "", 0);
	expect("CONNECT example.test: HTTP/1.1\r\n\r\n", SNIFF_MALFORMED, "", 0);
	expect("CONNECT example.test:0 HTTP/1.1\r\n\r\n", SNIFF_MALFORMED, "", 0);
	expect("CONNECT example.test:65536 HTTP/1.1\r\n\r\n", SNIFF_MALFORMED, "", 0);
	expect("CONNECT example.test:44x HTTP/1.1\r\n\r\n", SNIFF_MALFORMED, "", 0);
	expect("CONNECT /x HTTP/1.1\r\n\r\n", SNIFF_MALFORMED, "", 0);
	expect("CONNECT user@other.test:443 HTTP/1.1\r\n\r\n", SNIFF_MALFORMED, "", 0);
	/* a Host header naming another host than the authority */
	expect("CONNECT other.test:443 HTTP/1.1\r\nHost: allowed.test:443\r\n\r\n",
	       SNIFF_MALFORMED, "", 0);
	/* authority-form is for CONNECT only */
	expect("GET example.test:80 HTTP/1.1\r\n\r\n", SNIFF_MALFORMED, "", 0);
}

static void
test_http_absolute_form(void **state)
{
	expect("GET http://Example.Test:8080/x?y HTTP/1.1\r\n\r\n", SNIFF_HTTP, "example.test",
	       8080);
	expect("GET http://example.test/x HTTP/1.1\r\nHost: example.test\r\n\r\n", SNIFF_HTTP,
	       "example.test", 0);
	expect("GET https://example.test:443 HTTP/1.1\r\nHost: EXAMPLE.test:443\r\n\r\n",
	       SNIFF_HTTP, "example.test", 443);
	expect("GET http://[::1]:81/ HTTP/1.1\r\n\r\n", SNIFF_HTTP, "::1", 81);
	/* disagreeing Host: the proxy and the origin would see different names */
	expect("GET http://other.test/ HTTP/1.1\r\nHost: allowed.test\r\n\r\n", SNIFF_MALFORMED,
	       "", 0);
	expect("GET http://allowed.test:80/ HTTP/1.1\r\nHost: allowed.test:81\r\n\r\n",
	       SNIFF_MALFORMED, "", 0);
	/* userinfo, empty authority, a bad host */
	expect("GET http://allowed.test@other.test/ HTTP/1.1\r\n\r\n", SNIFF_MALFORMED, "", 0);
	expect("GET http:///x HTTP/1.1\r\nHost: a.test\r\n\r\n", SNIFF_MALFORMED, "", 0);
	expect("GET http://a%2eb/ HTTP/1.1\r\n\r\n", SNIFF_MALFORMED, "", 0);
	expect("GET http://[::1%25eth0]/ HTTP/1.1\r\n\r\n", SNIFF_MALFORMED, "", 0);
	expect("GET http://::1/ HTTP/1.1\r\n\r\n", SNIFF_MALFORMED, "", 0);
}

/* What two parsers could read differently is refused. */
static void
test_http_ambiguous(void **state)
{
	/* obs-fold */
	expect("GET / HTTP/1.1\r\nHost: example.test\r\n other.test\r\n\r\n", SNIFF_MALFORMED,
	       "", 0);
	expect("GET / HTTP/1.1\r\n\tHost: example.test\r\n\r\n", SNIFF_MALFORMED, "", 0);
	/* two Host headers, same or different */
	expect("GET / HTTP/1.1\r\nHost: a.test\r\nHost: a.test\r\n\r\n", SNIFF_MALFORMED, "", 0);
	expect("GET / HTTP/1.1\r\nHost: a.test\r\nhost: b.test\r\n\r\n", SNIFF_MALFORMED, "", 0);
	/* bare LF, bare CR, NUL */
	expect("GET / HTTP/1.1\n\n", SNIFF_MALFORMED, "", 0);
	expect("GET / HTTP/1.1\r\nHost: a.test\n\r\n", SNIFF_MALFORMED, "", 0);
	expect("GET / HTTP/1.1\r\nHost: a.test\r\n\n", SNIFF_MALFORMED, "", 0);
	expect("GET / HTTP/1.1\r\nHost: a.test\rX: y\r\n\r\n", SNIFF_MALFORMED, "", 0);
	expect("GET / HTTP/1.1\rX", SNIFF_MALFORMED, "", 0);
	expect_n(LIT("GET / HTTP/1.1\r\nHost: a.test\0b.test\r\n\r\n"), SNIFF_MALFORMED, "", 0);
	expect_n(LIT("GET /\0 HTTP/1.1\r\n\r\n"), SNIFF_MALFORMED, "", 0);
	/* space before the colon; no colon; an empty field name */
	expect("GET / HTTP/1.1\r\nHost : other.test\r\n\r\n", SNIFF_MALFORMED, "", 0);
	expect("GET / HTTP/1.1\r\nHost other.test\r\n\r\n", SNIFF_MALFORMED, "", 0);
	expect("GET / HTTP/1.1\r\n: x\r\n\r\n", SNIFF_MALFORMED, "", 0);
	/* a Host value that is no host */
	expect("GET / HTTP/1.1\r\nHost: a.test b.test\r\n\r\n", SNIFF_MALFORMED, "", 0);
	expect("GET / HTTP/1.1\r\nHost: user@a.test\r\n\r\n", SNIFF_MALFORMED, "", 0);
	expect("GET / HTTP/1.1\r\nHost: a.test:80:80\r\n\r\n", SNIFF_MALFORMED, "", 0);
	expect("GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", SNIFF_MALFORMED, "", 0);
	expect("GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n", SNIFF_MALFORMED, "", 0);
	expect("GET / HTTP/1.1\r\nHost: []\r\n\r\n", SNIFF_MALFORMED, "", 0);
	expect("GET / HTTP/1.1\r\nHost: [1:2:3:4:5:6:7:8:1:2:3:4:5:6:7:8:1:2:3:4:5:6:7:8]\r\n\r\n",
	       SNIFF_MALFORMED, "", 0);
	expect("GET / HTTP/1.1\r\nHost: [1.2.3.4]\r\n\r\n", SNIFF_MALFORMED, "", 0);
	expect("GET / HTTP/1.1\r\nHost: a.test:000080\r\n\r\n", SNIFF_MALFORMED, "", 0);
	expect("GET / HTTP/1.1\r\nHost: a.test:-1\r\n\r\n", SNIFF_MALFORMED, "", 0);
	/* control bytes in any header's value */
	expect("GET / HTTP/1.1\r\nHost: a.test\r\nX: \x01\r\n\r\n", SNIFF_MALFORMED, "", 0);
	expect("GET / HTTP/1.1\r\nX: a\x7f\r\nHost: a.test\r\n\r\n", SNIFF_MALFORMED, "", 0);
	expect("GET / HTTP/1.1\r\nX: tab\there\r\nHost: a.test\r\n\r\n", SNIFF_HTTP, "a.test", 0);
	expect("GET / HTTP/1.1\r\nX(y): z\r\nHost: a.test\r\n\r\n", SNIFF_MALFORMED, "", 0);
	/* control bytes in a request target, two spaces */
	expect("GET /\x01 HTTP/1.1\r\n\r\n", SNIFF_MALFORMED, "", 0);
	expect("GET  / HTTP/1.1\r\n\r\n", SNIFF_MALFORMED, "", 0);
}

static void
test_http_partial(void **state)
{
	static char big[SNIFF_HOLD_MAX + 10];
	const char *req = "GET /path HTTP/1.1\r\nHost: example.test\r\nAccept: */*\r\n\r\n";
	SniffResult r;
	size_t n;

	expect_all_prefixes_more((const uint8_t *)req, strlen(req));
	/* one header line after another, never ending: refused at the bound */
	memcpy(big, "GET / HTTP/1.1\r\n", 16);
	n = 16;
	while (n + 8 < sizeof big) {
		memcpy(big + n, "X: yyy\r\n", 8);
		n += 8;
	}
	assert_int_equal(sniff_client((const uint8_t *)big, SNIFF_HOLD_MAX - 1, &r), SNIFF_MORE);
	assert_int_equal(sniff_client((const uint8_t *)big, SNIFF_HOLD_MAX, &r), SNIFF_MALFORMED);
}

static void
test_http_not_http(void **state)
{
	expect("hello world\r\n", SNIFF_UNKNOWN, "", 0);
	expect("get / HTTP/1.1\r\n\r\n", SNIFF_UNKNOWN, "", 0);
	expect("GET / HTTP/2.0\r\n\r\n", SNIFF_UNKNOWN, "", 0);
	expect("GET / HTTP/1.x\r\n\r\n", SNIFF_UNKNOWN, "", 0);
	expect("GET / HTTP/1.11\r\n\r\n", SNIFF_UNKNOWN, "", 0);
	expect("GET /\r\n", SNIFF_UNKNOWN, "", 0); /* HTTP/0.9 */
	expect("GET / FOO\r\n\r\n", SNIFF_UNKNOWN, "", 0);
	expect("GET /a b HTTP/1.1\r\n\r\n", SNIFF_UNKNOWN, "", 0);
	expect("ABCDEFGHIJKLMNOP / HTTP/1.1\r\n\r\n", SNIFF_UNKNOWN, "", 0);
	expect("ABCDEFGHIJKLMNO / HTTP/1.1\r\nHost: a.test\r\n\r\n", SNIFF_HTTP, "a.test", 0);
	expect("EHLO client.test\r\n", SNIFF_UNKNOWN, "", 0);
	expect(" GET / HTTP/1.1\r\n\r\n", SNIFF_UNKNOWN, "", 0);
	expect("G\tET / HTTP/1.1\r\n\r\n", SNIFF_UNKNOWN, "", 0);
	/* the HTTP/2 connection preface */
	expect("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", SNIFF_UNKNOWN, "", 0);
}

/* ---- SOCKS ----------------------------------------------------------------------------- */

static void
test_socks4(void **state)
{
	/* 4: port 80, 192.0.2.10, user "me" */
	expect_n(LIT("\x04\x01\x00\x50\xc0\x00\x02\x0a" "me\0"), SNIFF_SOCKS4, "192.0.2.10", 80);
	expect_n(LIT("\x04\x01\x01\xbb\x0a\x00\x00\x01\0"), SNIFF_SOCKS4, "10.0.0.1", 443);
	/* 4a: 0.0.0.1 and the name after the user id */
	expect_n(LIT("\x04\x01\x01\xbb\x00\x00\x00\x01" "me\0" "Other.Test\0"), SNIFF_SOCKS4,
		 "other.test", 443);
	expect_n(LIT("\x04\x01\x00\x16\x00\x00\x00\xff\0host.test.\0"), SNIFF_SOCKS4, "host.test",
		 22);
	/* 0.0.0.0 is an address, not 4a */
	expect_n(LIT("\x04\x01\x00\x50\x00\x00\x00\x00\0"), SNIFF_SOCKS4, "0.0.0.0", 80);
	/* BIND, a bad or empty 4a name */
	expect_n(LIT("\x04\x02\x00\x50\xc0\x00\x02\x0a\0"), SNIFF_MALFORMED, "", 0);
	expect_n(LIT("\x04\x01\x00\x50\x00\x00\x00\x01\0a b\0"), SNIFF_MALFORMED, "", 0);
	expect_n(LIT("\x04\x01\x00\x50\x00\x00\x00\x01\0\0"), SNIFF_MALFORMED, "", 0);
}

static void
test_socks5(void **state)
{
	SniffResult r;

	expect_n(LIT("\x05\x01\x00"), SNIFF_SOCKS5_HELLO, "", 0);
	assert_int_equal(sniff_client((const uint8_t *)"\x05\x02\x00\x02", 4, &r),
			 SNIFF_SOCKS5_HELLO);
	assert_int_equal(r.consumed, 4);
	/* the request sent right behind the greeting is not part of it */
	assert_int_equal(
		sniff_client((const uint8_t *)"\x05\x01\x00\x05\x01\x00\x01\x01\x02\x03\x04\x00\x50",
			     13, &r),
		SNIFF_SOCKS5_HELLO);
	assert_int_equal(r.consumed, 3);
	assert_int_equal(sniff_client((const uint8_t *)"\x05\x00", 2, &r), SNIFF_MALFORMED);
	assert_int_equal(r.consumed, 0);
	assert_int_equal(sniff_client((const uint8_t *)"\x05\x03\x00\x01", 4, &r), SNIFF_MORE);
}

/* sniff_socks5_request on BUF gives KIND with NAME and PORT; every prefix
 * MORE or that verdict. */
static void
expect_socks5(const void *buf, size_t len, SniffKind kind, const char *name, uint16_t port)
{
	SniffResult r;

	for (size_t n = 0; n < len; n++) {
		SniffKind k = sniff_exact(sniff_socks5_request, buf, n, &r);

		if (k != SNIFF_MORE && k != kind)
			fail_msg("prefix of %zu/%zu bytes: %s", n, len, sniff_kind_name(k));
	}
	assert_int_equal(sniff_exact(sniff_socks5_request, buf, len, &r), kind);
	assert_string_equal(r.name, name);
	assert_int_equal(r.port, port);
}

static void
test_socks5_request(void **state)
{
	expect_socks5(LIT("\x05\x01\x00\x01\xc0\x00\x02\x0a\x01\xbb"), SNIFF_SOCKS5, "192.0.2.10",
		      443);
	expect_socks5(LIT("\x05\x01\x00\x03\x0bOther.Test.\x00\x50"), SNIFF_SOCKS5, "other.test",
		      80);
	expect_socks5(LIT("\x05\x01\x00\x04\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01\x00\x16"),
		      SNIFF_SOCKS5, "2001:db8::1", 22);
	/* BIND, UDP ASSOCIATE, a bad version, reserved byte, address type */
	expect_socks5(LIT("\x05\x02\x00\x01\xc0\x00\x02\x0a\x01\xbb"), SNIFF_MALFORMED, "", 0);
	expect_socks5(LIT("\x05\x03\x00\x01\xc0\x00\x02\x0a\x01\xbb"), SNIFF_MALFORMED, "", 0);
	expect_socks5(LIT("\x04\x01\x00\x01\xc0\x00\x02\x0a\x01\xbb"), SNIFF_MALFORMED, "", 0);
	expect_socks5(LIT("\x05\x01\x01\x01\xc0\x00\x02\x0a\x01\xbb"), SNIFF_MALFORMED, "", 0);
	expect_socks5(LIT("\x05\x01\x00\x02\xc0\x00\x02\x0a\x01\xbb"), SNIFF_MALFORMED, "", 0);
	/* an empty or bad domain */
	expect_socks5(LIT("\x05\x01\x00\x03\x00\x00\x50"), SNIFF_MALFORMED, "", 0);
	expect_socks5(LIT("\x05\x01\x00\x03\x03" "a@b\x00\x50"), SNIFF_MALFORMED, "", 0);
	expect_socks5(LIT("\x05\x01\x00\x03\x03" "::1\x00\x50"), SNIFF_MALFORMED, "", 0);
}

/* ---- SSH, the rest ------------------------------------------------------------------------- */

static void
test_ssh(void **state)
{
	expect("SSH-2.0-OpenSSH_9.6p1 Debian-3\r\n", SNIFF_SSH, "", 0);
	expect("SSH-1.99-Client\r\n", SNIFF_SSH, "", 0);
	expect("SSH-2.0-", SNIFF_SSH, "", 0);
	expect("SSH-1.5-Old\r\n", SNIFF_UNKNOWN, "", 0);
	expect("SSH-2.1-x\r\n", SNIFF_UNKNOWN, "", 0);
	/* "SSH" is also a fine HTTP method name */
	expect("SSH / HTTP/1.1\r\nHost: a.test\r\n\r\n", SNIFF_HTTP, "a.test", 0);
}

static void
test_unknown(void **state)
{
	SniffResult r;

	assert_int_equal(sniff_client(NULL, 0, &r), SNIFF_MORE);
	assert_string_equal(r.name, "");
	expect_n(LIT("\x00\x01\x02"), SNIFF_UNKNOWN, "", 0);
	expect_n(LIT("\xff"), SNIFF_UNKNOWN, "", 0);
	expect("220 smtp.example ESMTP\r\n", SNIFF_UNKNOWN, "", 0);
	expect("{\"jsonrpc\":\"2.0\"}", SNIFF_UNKNOWN, "", 0);
	expect_n(LIT("\x17\x03\x03\x00\x10"), SNIFF_UNKNOWN, "", 0);
}

static void
test_kind_names(void **state)
{
	static const char *const names[] = { "more",	   "tls",	   "http",   "connect",
					      "socks4",	   "socks5-hello", "socks5", "ssh",
					      "unknown",   "malformed" };

	for (int k = SNIFF_MORE; k <= SNIFF_MALFORMED; k++)
		assert_string_equal(sniff_kind_name((SniffKind)k), names[k]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tls_real_clients),
		cmocka_unit_test(test_tls_trailing_records),
		cmocka_unit_test(test_tls_no_sni),
		cmocka_unit_test(test_tls_many_extensions_grease),
		cmocka_unit_test(test_tls_large_hello_segments),
		cmocka_unit_test(test_tls_split_records),
		cmocka_unit_test(test_tls_truncated),
		cmocka_unit_test(test_tls_oversized),
		cmocka_unit_test(test_tls_garbage),
		cmocka_unit_test(test_tls_bad_names),
		cmocka_unit_test(test_tls_duplicate_extension),
		cmocka_unit_test(test_http_host),
		cmocka_unit_test(test_http_missing_host),
		cmocka_unit_test(test_http_connect),
		cmocka_unit_test(test_http_absolute_form),
		cmocka_unit_test(test_http_ambiguous),
		cmocka_unit_test(test_http_partial),
		cmocka_unit_test(test_http_not_http),
		cmocka_unit_test(test_socks4),
		cmocka_unit_test(test_socks5),
		cmocka_unit_test(test_socks5_request),
		cmocka_unit_test(test_ssh),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_kind_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
