/* SPDX-License-Identifier: MIT
 *
 * test-dns-msg.c — the DNS message parser and builders (net/dns-msg.c).
 * Every malformed class the resolver must survive has a case here; the
 * fuzz harness (tests/fuzz/fuzz-dns.c) covers the rest.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>

#include "net/dns-msg.h"

/* Header: id 0x1234, RD, one question. */
#define HDR_Q1 0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00
/* "www.Example.com" */
#define NAME_WWW 3, 'w', 'w', 'w', 7, 'E', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0

static void
test_parse_a(void **state)
{
	static const guint8 msg[] = { HDR_Q1, NAME_WWW, 0x00, 0x01, 0x00, 0x01 };
	DnsQuery q;

	assert_int_equal(dns_parse_query(msg, sizeof(msg), &q), DNS_QUERY_OK);
	assert_int_equal(q.id, 0x1234);
	assert_int_equal(q.qtype, DNS_TYPE_A);
	assert_int_equal(q.qclass, DNS_CLASS_IN);
	assert_string_equal(q.name, "www.example.com");
	assert_true(q.name_is_hostname);
	assert_true(q.has_question);
	/* the wire name keeps the client's case (0x20 randomisation echo) */
	assert_int_equal(q.qname_wire_len, 17);
	assert_memory_equal(q.qname_wire, msg + 12, 17);
}

static void
test_parse_types(void **state)
{
	static const guint16 types[] = { DNS_TYPE_AAAA, DNS_TYPE_MX, DNS_TYPE_TXT, DNS_TYPE_ANY,
					 65, DNS_TYPE_PTR };
	for (size_t i = 0; i < G_N_ELEMENTS(types); i++) {
		guint8 msg[] = { HDR_Q1, NAME_WWW, types[i] >> 8, types[i] & 0xff, 0x00, 0x01 };
		DnsQuery q;

		assert_int_equal(dns_parse_query(msg, sizeof(msg), &q), DNS_QUERY_OK);
		assert_int_equal(q.qtype, types[i]);
	}
}

static void
test_parse_edns_ignored(void **state)
{
	/* dig-style: arcount 1 with an OPT record */
	static const guint8 msg[] = { 0xab, 0xcd, 0x01, 0x20, 0, 1, 0, 0, 0, 0, 0, 1, NAME_WWW,
				      0x00, 0x1c, 0x00, 0x01,
				      0x00, 0x00, 0x29, 0x10, 0x00, 0, 0, 0, 0, 0, 0 };
	DnsQuery q;

	assert_int_equal(dns_parse_query(msg, sizeof(msg), &q), DNS_QUERY_OK);
	assert_int_equal(q.qtype, DNS_TYPE_AAAA);
}

static void
test_parse_drop(void **state)
{
	static const guint8 shortmsg[] = { 0x12, 0x34, 0x01 };
	static const guint8 response[] = { 0x12, 0x34, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, NAME_WWW,
					   0, 1, 0, 1 };
	DnsQuery q;

	assert_int_equal(dns_parse_query(shortmsg, sizeof(shortmsg), &q), DNS_QUERY_DROP);
	assert_int_equal(dns_parse_query(shortmsg, 0, &q), DNS_QUERY_DROP);
	assert_int_equal(dns_parse_query(response, sizeof(response), &q), DNS_QUERY_DROP);
}

static void
expect_error(const guint8 *msg, size_t len, guint8 rcode, gboolean has_question)
{
	DnsQuery q;

	assert_int_equal(dns_parse_query(msg, len, &q), DNS_QUERY_ERROR);
	assert_int_equal(q.rcode, rcode);
	assert_int_equal(q.has_question, has_question);
}

static void
test_parse_bad_counts(void **state)
{
	static const guint8 zero_q[] = { 0x12, 0x34, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0 };
	static const guint8 two_q[] = { 0x12, 0x34, 0x01, 0x00, 0, 2, 0, 0, 0, 0, 0, 0, NAME_WWW,
					0, 1, 0, 1, NAME_WWW, 0, 28, 0, 1 };
	static const guint8 huge_q[] = { 0x12, 0x34, 0x01, 0x00, 0xff, 0xff, 0, 0, 0, 0, 0, 0,
					 NAME_WWW, 0, 1, 0, 1 };
	static const guint8 with_an[] = { 0x12, 0x34, 0x01, 0x00, 0, 1, 0xff, 0xff, 0, 0, 0, 0,
					  NAME_WWW, 0, 1, 0, 1 };
	static const guint8 with_ns[] = { 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 1, 0, 0,
					  NAME_WWW, 0, 1, 0, 1 };

	expect_error(zero_q, sizeof(zero_q), DNS_RCODE_FORMERR, FALSE);
	expect_error(two_q, sizeof(two_q), DNS_RCODE_FORMERR, FALSE);
	expect_error(huge_q, sizeof(huge_q), DNS_RCODE_FORMERR, FALSE);
	expect_error(with_an, sizeof(with_an), DNS_RCODE_FORMERR, FALSE);
	expect_error(with_ns, sizeof(with_ns), DNS_RCODE_FORMERR, FALSE);
}

static void
test_parse_opcode_class(void **state)
{
	/* opcode 2 (STATUS) */
	static const guint8 status[] = { 0x12, 0x34, 0x11, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, NAME_WWW,
					 0, 1, 0, 1 };
	/* class CH: version.bind-style queries */
	static const guint8 chaos[] = { HDR_Q1, NAME_WWW, 0, 16, 0, 3 };
	static const guint8 opt_q[] = { HDR_Q1, NAME_WWW, 0, 41, 0, 1 };

	expect_error(status, sizeof(status), DNS_RCODE_NOTIMP, FALSE);
	expect_error(chaos, sizeof(chaos), DNS_RCODE_REFUSED, TRUE);
	expect_error(opt_q, sizeof(opt_q), DNS_RCODE_FORMERR, TRUE);
}

static void
test_parse_truncated(void **state)
{
	static const guint8 full[] = { HDR_Q1, NAME_WWW, 0, 1, 0, 1 };

	/* every prefix between the header and the full question is FORMERR */
	for (size_t len = DNS_HEADER_LEN; len < sizeof(full); len++)
		expect_error(full, len, DNS_RCODE_FORMERR, FALSE);
	/* a label longer than what is left */
	static const guint8 label_past_end[] = { HDR_Q1, 40, 'a', 'b', 'c' };
	expect_error(label_past_end, sizeof(label_past_end), DNS_RCODE_FORMERR, FALSE);
	/* a pointer cut in half */
	static const guint8 half_ptr[] = { HDR_Q1, 1, 'a', 0xc0 };
	expect_error(half_ptr, sizeof(half_ptr), DNS_RCODE_FORMERR, FALSE);
}

static void
test_parse_compression_loops(void **state)
{
	/* pointer to itself */
	static const guint8 self[] = { HDR_Q1, 0xc0, 12, 0, 1, 0, 1 };
	/* label then pointer back to that label: a -> a -> … */
	static const guint8 back_loop[] = { HDR_Q1, 1, 'a', 0xc0, 12, 0, 1, 0, 1 };
	/* forward pointer */
	static const guint8 forward[] = { HDR_Q1, 0xc0, 16, 0, 1, 0, 1, 0 };
	/* pointer into the header */
	static const guint8 into_hdr[] = { HDR_Q1, 0xc0, 2, 0, 1, 0, 1 };
	/* reserved label types 0x40, 0x80 */
	static const guint8 ext40[] = { HDR_Q1, 0x41, 'a', 0, 0, 1, 0, 1 };
	static const guint8 ext80[] = { HDR_Q1, 0x81, 'a', 0, 0, 1, 0, 1 };

	expect_error(self, sizeof(self), DNS_RCODE_FORMERR, FALSE);
	expect_error(back_loop, sizeof(back_loop), DNS_RCODE_FORMERR, FALSE);
	expect_error(forward, sizeof(forward), DNS_RCODE_FORMERR, FALSE);
	expect_error(into_hdr, sizeof(into_hdr), DNS_RCODE_FORMERR, FALSE);
	expect_error(ext40, sizeof(ext40), DNS_RCODE_FORMERR, FALSE);
	expect_error(ext80, sizeof(ext80), DNS_RCODE_FORMERR, FALSE);
}

static void
test_read_name_compressed(void **state)
{
	/* a response-like layout: "example.com" at 12, "www" + ptr at 25 */
	static const guint8 msg[] = { HDR_Q1, 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o',
				      'm', 0, 3, 'w', 'w', 'w', 0xc0, 12, 0xff };
	char text[DNS_NAME_TEXT_MAX];
	guint8 wire[DNS_NAME_WIRE_MAX];
	size_t off = 25, wlen = 0;
	gboolean host = FALSE;

	assert_true(dns_read_name(msg, sizeof(msg), &off, text, wire, &wlen, &host));
	assert_string_equal(text, "www.example.com");
	assert_int_equal(off, 31);   /* just after the pointer */
	assert_int_equal(wlen, 17);
	assert_true(host);
	/* a chain of pointers that only go backwards is fine */
	static const guint8 chain[] = { HDR_Q1, 1, 'c', 0, 1, 'b', 0xc0, 12, 1, 'a', 0xc0, 15 };
	off = 19;
	assert_true(dns_read_name(chain, sizeof(chain), &off, text, NULL, NULL, NULL));
	assert_string_equal(text, "a.b.c");
}

static void
test_parse_oversize_names(void **state)
{
	guint8 msg[DNS_HEADER_LEN + 300 + 4];
	size_t off = DNS_HEADER_LEN;
	static const guint8 hdr[] = { HDR_Q1 };

	/* 64-octet label: length byte 0x40 is a reserved type → FORMERR */
	memcpy(msg, hdr, sizeof(hdr));
	msg[off++] = 64;
	memset(msg + off, 'a', 64);
	off += 64;
	msg[off++] = 0;
	memset(msg + off, 0, 4);
	expect_error(msg, off + 4, DNS_RCODE_FORMERR, FALSE);

	/* 5 labels of 63 = 320 octets > 255 */
	off = DNS_HEADER_LEN;
	for (int i = 0; i < 4; i++) {
		msg[off++] = 63;
		memset(msg + off, 'b', 63);
		off += 63;
	}
	msg[off++] = 0;
	msg[off++] = 0;
	msg[off++] = 1;
	msg[off++] = 0;
	msg[off++] = 1;
	/* 4 × 64 + 1 = 257 > 255 */
	expect_error(msg, off, DNS_RCODE_FORMERR, FALSE);

	/* exactly 255: 3 × 63-labels + one 61-label = 4 × 1 + 250 + 1 */
	off = DNS_HEADER_LEN;
	for (int i = 0; i < 3; i++) {
		msg[off++] = 63;
		memset(msg + off, 'c', 63);
		off += 63;
	}
	msg[off++] = 61;
	memset(msg + off, 'd', 61);
	off += 61;
	msg[off++] = 0;
	msg[off++] = 0;
	msg[off++] = 1;
	msg[off++] = 0;
	msg[off++] = 1;
	DnsQuery q;
	assert_int_equal(dns_parse_query(msg, off, &q), DNS_QUERY_OK);
	assert_int_equal(q.qname_wire_len, 255);
}

static void
test_parse_odd_names(void **state)
{
	/* a dot and a NUL inside a label: not a host name, escaped for logs */
	static const guint8 msg[] = { HDR_Q1, 3, 'a', '.', 0x00, 3, 'C', 'O', 'M', 0, 0, 1, 0, 1 };
	static const guint8 root[] = { HDR_Q1, 0, 0, 2, 0, 1 };
	DnsQuery q;

	assert_int_equal(dns_parse_query(msg, sizeof(msg), &q), DNS_QUERY_OK);
	assert_string_equal(q.name, "a\\.\\000.com");
	assert_false(q.name_is_hostname);
	assert_int_equal(dns_parse_query(root, sizeof(root), &q), DNS_QUERY_OK);
	assert_string_equal(q.name, ".");
	assert_false(q.name_is_hostname);
}

static void
test_build_reply_a(void **state)
{
	static const guint8 msg[] = { HDR_Q1, NAME_WWW, 0x00, 0x01, 0x00, 0x01 };
	static const guint8 expect[] = {
		0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0, NAME_WWW, 0, 1, 0, 1,
		0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 192, 0, 2, 1,
		0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 192, 0, 2, 2,
	};
	struct in_addr a[2];
	guint8 buf[DNS_UDP_MAX];
	DnsQuery q;
	size_t n;

	inet_pton(AF_INET, "192.0.2.1", &a[0]);
	inet_pton(AF_INET, "192.0.2.2", &a[1]);
	assert_int_equal(dns_parse_query(msg, sizeof(msg), &q), DNS_QUERY_OK);
	n = dns_build_reply(&q, DNS_RCODE_NOERROR, AF_INET, a, 2, 30, buf, sizeof(buf));
	assert_int_equal(n, sizeof(expect));
	assert_memory_equal(buf, expect, sizeof(expect));
}

static void
test_build_reply_aaaa(void **state)
{
	static const guint8 msg[] = { HDR_Q1, NAME_WWW, 0x00, 0x1c, 0x00, 0x01 };
	static const guint8 expect[] = {
		0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, NAME_WWW, 0, 28, 0, 1,
		0xc0, 0x0c, 0, 28, 0, 1, 0, 0, 0x01, 0x2c, 0, 16,
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53,
	};
	struct in6_addr a;
	guint8 buf[DNS_UDP_MAX];
	DnsQuery q;

	inet_pton(AF_INET6, "2001:db8::53", &a);
	assert_int_equal(dns_parse_query(msg, sizeof(msg), &q), DNS_QUERY_OK);
	assert_int_equal(dns_build_reply(&q, DNS_RCODE_NOERROR, AF_INET6, &a, 1, 300, buf,
					 sizeof(buf)), sizeof(expect));
	assert_memory_equal(buf, expect, sizeof(expect));
}

static void
test_build_reply_nxdomain_empty(void **state)
{
	/* RD clear in the query: RD clear in the reply */
	static const guint8 msg[] = { 0xbe, 0xef, 0x00, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, NAME_WWW,
				      0, 15, 0, 1 };
	static const guint8 nx[] = { 0xbe, 0xef, 0x80, 0x83, 0, 1, 0, 0, 0, 0, 0, 0, NAME_WWW,
				     0, 15, 0, 1 };
	guint8 buf[DNS_UDP_MAX];
	DnsQuery q;

	assert_int_equal(dns_parse_query(msg, sizeof(msg), &q), DNS_QUERY_OK);
	assert_int_equal(dns_build_reply(&q, DNS_RCODE_NXDOMAIN, AF_INET, NULL, 0, 0, buf,
					 sizeof(buf)), sizeof(nx));
	assert_memory_equal(buf, nx, sizeof(nx));
	/* empty NOERROR (MX of an allowlisted name): same with rcode 0 */
	assert_int_equal(dns_build_reply(&q, DNS_RCODE_NOERROR, AF_INET, NULL, 0, 0, buf,
					 sizeof(buf)), sizeof(nx));
	assert_int_equal(buf[3], 0x80);
}

static void
test_build_reply_formerr(void **state)
{
	static const guint8 two_q[] = { 0x55, 0x66, 0x01, 0x00, 0, 2, 0, 0, 0, 0, 0, 0 };
	static const guint8 expect[] = { 0x55, 0x66, 0x81, 0x81, 0, 0, 0, 0, 0, 0, 0, 0 };
	guint8 buf[DNS_UDP_MAX];
	DnsQuery q;

	assert_int_equal(dns_parse_query(two_q, sizeof(two_q), &q), DNS_QUERY_ERROR);
	assert_int_equal(dns_build_reply(&q, q.rcode, AF_INET, NULL, 0, 0, buf, sizeof(buf)),
			 sizeof(expect));
	assert_memory_equal(buf, expect, sizeof(expect));
	/* too small a buffer: 0, never an overflow */
	assert_int_equal(dns_build_reply(&q, q.rcode, AF_INET, NULL, 0, 0, buf, 11), 0);
}

static void
test_build_reply_caps_at_512(void **state)
{
	static const guint8 msg[] = { HDR_Q1, NAME_WWW, 0x00, 0x1c, 0x00, 0x01 };
	struct in6_addr many[64];
	guint8 buf[4096];
	DnsQuery q;
	size_t n;

	memset(many, 0x11, sizeof(many));
	assert_int_equal(dns_parse_query(msg, sizeof(msg), &q), DNS_QUERY_OK);
	n = dns_build_reply(&q, 0, AF_INET6, many, 64, 5, buf, sizeof(buf));
	assert_true(n <= DNS_UDP_MAX);
	/* (512 - 12 - 21) / 28 = 17 records */
	assert_int_equal(buf[7], 17);
	assert_int_equal(n, 12 + 21 + 17 * 28);
}

static void
test_build_query(void **state)
{
	static const guint8 wire[] = { NAME_WWW };
	static const guint8 expect[] = { 0x77, 0x88, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, NAME_WWW,
					 0, 28, 0, 1 };
	guint8 buf[DNS_UDP_MAX];

	assert_int_equal(dns_build_query(0x7788, wire, sizeof(wire), DNS_TYPE_AAAA, buf,
					 sizeof(buf)), sizeof(expect));
	assert_memory_equal(buf, expect, sizeof(expect));
	assert_int_equal(dns_build_query(1, wire, sizeof(wire), DNS_TYPE_A, buf, 20), 0);
}

/* Response for a.example.test A: a CNAME chain a → b → c, then A records of
 * c, an A record for an unrelated owner (must be ignored). */
static const guint8 upstream_chain[] = {
	0x42, 0x42, 0x81, 0x80, 0, 1, 0, 5, 0, 0, 0, 0,
	/* 12: question a.example.test */
	1, 'a', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1,
	/* answers listed out of order: the second link first */
	/* 32: b.example.test (1 'b' + ptr to 14) CNAME c.example.test (at 46), ttl 100 */
	1, 'b', 0xc0, 14, 0, 5, 0, 1, 0, 0, 0, 100, 0, 4, 1, 'c', 0xc0, 14,
	/* 50: a CNAME b, ttl 50 */
	0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 50, 0, 2, 0xc0, 32,
	/* 64: c A 198.51.100.7 ttl 600 (owner via pointer to the CNAME target at 46) */
	0xc0, 46, 0, 1, 0, 1, 0, 0, 0x02, 0x58, 0, 4, 198, 51, 100, 7,
	/* c A 198.51.100.8 ttl 20 */
	0xc0, 46, 0, 1, 0, 1, 0, 0, 0, 20, 0, 4, 198, 51, 100, 8,
	/* evil.test A 203.0.113.66: unrelated owner, ignored */
	4, 'e', 'v', 'i', 'l', 0xc0, 22, 0, 1, 0, 1, 0, 0, 0, 1, 0, 4, 203, 0, 113, 66,
};

static void
test_upstream_cname_chain(void **state)
{
	DnsUpstreamAnswer ans;
	char buf[INET_ADDRSTRLEN];

	assert_true(dns_parse_upstream_reply(upstream_chain, sizeof(upstream_chain), 0x4242,
					     "a.example.test", DNS_TYPE_A, &ans));
	assert_int_equal(ans.rcode, DNS_RCODE_NOERROR);
	assert_int_equal(ans.family, AF_INET);
	assert_int_equal(ans.n_addrs, 2);
	assert_string_equal(inet_ntop(AF_INET, &ans.addrs[0].v4, buf, sizeof(buf)), "198.51.100.7");
	assert_string_equal(inet_ntop(AF_INET, &ans.addrs[1].v4, buf, sizeof(buf)), "198.51.100.8");
	assert_int_equal(ans.ttl, 20);   /* min over CNAMEs and addresses */
}

static void
test_upstream_rejects(void **state)
{
	DnsUpstreamAnswer ans;
	guint8 m[sizeof(upstream_chain)];

	/* wrong id */
	assert_false(dns_parse_upstream_reply(upstream_chain, sizeof(upstream_chain), 0x4243,
					      "a.example.test", DNS_TYPE_A, &ans));
	/* other question name / type */
	assert_false(dns_parse_upstream_reply(upstream_chain, sizeof(upstream_chain), 0x4242,
					      "b.example.test", DNS_TYPE_A, &ans));
	assert_false(dns_parse_upstream_reply(upstream_chain, sizeof(upstream_chain), 0x4242,
					      "a.example.test", DNS_TYPE_AAAA, &ans));
	/* truncated anywhere inside the answers */
	for (size_t len = 32; len < sizeof(upstream_chain); len++)
		assert_false(dns_parse_upstream_reply(upstream_chain, len, 0x4242,
						      "a.example.test", DNS_TYPE_A, &ans));
	/* not a response */
	memcpy(m, upstream_chain, sizeof(m));
	m[2] &= 0x7f;
	assert_false(dns_parse_upstream_reply(m, sizeof(m), 0x4242, "a.example.test",
					      DNS_TYPE_A, &ans));
	/* an A record with rdlength 5 */
	static const guint8 bad_rdlen[] = { 0, 7, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0,
					    1, 'a', 0, 0, 1, 0, 1,
					    0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 9, 0, 5, 1, 2, 3, 4, 5 };
	assert_false(dns_parse_upstream_reply(bad_rdlen, sizeof(bad_rdlen), 7, "a", DNS_TYPE_A,
					      &ans));
	/* the same with rdlength 4 is accepted */
	memcpy(m, bad_rdlen, sizeof(bad_rdlen));
	m[30] = 4;
	assert_true(dns_parse_upstream_reply(m, sizeof(bad_rdlen) - 1, 7, "a", DNS_TYPE_A, &ans));
	assert_int_equal(ans.n_addrs, 1);
	assert_int_equal(ans.ttl, 9);
}

static void
test_upstream_nxdomain(void **state)
{
	static const guint8 nx[] = { 0, 9, 0x81, 0x83, 0, 1, 0, 0, 0, 0, 0, 0, NAME_WWW, 0, 1, 0, 1 };
	DnsUpstreamAnswer ans;

	assert_true(dns_parse_upstream_reply(nx, sizeof(nx), 9, "www.example.com", DNS_TYPE_A,
					     &ans));
	assert_int_equal(ans.rcode, DNS_RCODE_NXDOMAIN);
	assert_int_equal(ans.n_addrs, 0);
}

static void
test_upstream_cname_loop(void **state)
{
	/* a CNAME a, a CNAME a, and no address: terminates, no answer */
	static const guint8 m[] = { 0, 1, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0,
				    1, 'a', 0, 0, 1, 0, 1,
				    0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 9, 0, 2, 0xc0, 12,
				    0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 9, 0, 2, 0xc0, 12 };
	DnsUpstreamAnswer ans;

	assert_true(dns_parse_upstream_reply(m, sizeof(m), 1, "a", DNS_TYPE_A, &ans));
	assert_int_equal(ans.n_addrs, 0);
	assert_int_equal(ans.ttl, 0);
}

static void
test_server_parse(void **state)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

	assert_true(dns_server_parse("127.0.0.1", &ss, &len));
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(ntohs(in->sin_port), 53);
	assert_true(dns_server_parse("127.0.0.1:5353", &ss, &len));
	assert_int_equal(ntohs(in->sin_port), 5353);
	assert_true(dns_server_parse("::1", &ss, &len));
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(ntohs(in6->sin6_port), 53);
	assert_true(dns_server_parse("[::1]:8053", &ss, &len));
	assert_int_equal(ntohs(in6->sin6_port), 8053);
	assert_false(dns_server_parse("example.com", &ss, &len));
	assert_false(dns_server_parse("127.0.0.1:0", &ss, &len));
	assert_false(dns_server_parse("127.0.0.1:99999", &ss, &len));
	assert_false(dns_server_parse("[::1", &ss, &len));
	assert_false(dns_server_parse("", &ss, &len));
}

static void
test_resolv_conf(void **state)
{
	g_autofree char *a = dns_resolv_conf_nameserver(
		"# generated\nsearch lan\n  nameserver\t192.0.2.53  \nnameserver 192.0.2.54\n");
	g_autofree char *b = dns_resolv_conf_nameserver("search x\n");

	assert_string_equal(a, "192.0.2.53");
	assert_null(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_a),
		cmocka_unit_test(test_parse_types),
		cmocka_unit_test(test_parse_edns_ignored),
		cmocka_unit_test(test_parse_drop),
		cmocka_unit_test(test_parse_bad_counts),
		cmocka_unit_test(test_parse_opcode_class),
		cmocka_unit_test(test_parse_truncated),
		cmocka_unit_test(test_parse_compression_loops),
		cmocka_unit_test(test_read_name_compressed),
		cmocka_unit_test(test_parse_oversize_names),
		cmocka_unit_test(test_parse_odd_names),
		cmocka_unit_test(test_build_reply_a),
		cmocka_unit_test(test_build_reply_aaaa),
		cmocka_unit_test(test_build_reply_nxdomain_empty),
		cmocka_unit_test(test_build_reply_formerr),
		cmocka_unit_test(test_build_reply_caps_at_512),
		cmocka_unit_test(test_build_query),
		cmocka_unit_test(test_upstream_cname_chain),
		cmocka_unit_test(test_upstream_rejects),
		cmocka_unit_test(test_upstream_nxdomain),
		cmocka_unit_test(test_upstream_cname_loop),
		cmocka_unit_test(test_server_parse),
		cmocka_unit_test(test_resolv_conf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
