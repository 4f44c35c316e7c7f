/* SPDX-License-Identifier: MIT
 *
 * test-nflog.c — blocked-packet reports (net/nflog.c) and the denial log
 * records they become (net/denylog.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include "net/denylog.h"
#include "net/nflog.h"

static const guint8 tcp4[] = {
	0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, IPPROTO_TCP, 0, 0, 10, 0, 2, 100, 192, 0, 2, 7,
	0x9c, 0x40, 0x00, 0x50, /* 40000 → 80 */ 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 0x02, 0, 0, 0, 0, 0, 0,
};

static void
test_parse_ipv4_tcp(void **state)
{
	NflogEvent ev;
	char buf[INET_ADDRSTRLEN];

	assert_true(nflog_parse_ip(tcp4, sizeof(tcp4), &ev));
	assert_int_equal(ev.family, AF_INET);
	assert_int_equal(ev.l4proto, IPPROTO_TCP);
	assert_int_equal(ev.dport, 80);
	assert_string_equal(inet_ntop(AF_INET, &ev.daddr.v4, buf, sizeof(buf)), "192.0.2.7");
	/* headers cut short: address known, port not */
	assert_true(nflog_parse_ip(tcp4, 22, &ev));
	assert_int_equal(ev.dport, 0);
	assert_false(nflog_parse_ip(tcp4, 19, &ev));
}

static void
test_parse_ipv4_fragment(void **state)
{
	guint8 frag[sizeof(tcp4)];
	NflogEvent ev;

	memcpy(frag, tcp4, sizeof(frag));
	frag[6] = 0x00;
	frag[7] = 0x10;   /* offset 128: no transport header in this one */
	assert_true(nflog_parse_ip(frag, sizeof(frag), &ev));
	assert_int_equal(ev.dport, 0);
}

static void
test_parse_ipv6_udp_with_ext(void **state)
{
	/* IPv6, hop-by-hop (8 bytes) → UDP 5353 → 53 to 2001:db8::7 */
	guint8 p[40 + 8 + 8] = { 0x60, 0, 0, 0, 0, 16, 0 /* HBH */, 64 };
	NflogEvent ev;
	char buf[INET6_ADDRSTRLEN];

	inet_pton(AF_INET6, "2001:db8::7", p + 24);
	p[40] = IPPROTO_UDP;   /* next header after HBH */
	p[41] = 0;             /* HBH length: 8 bytes */
	p[48] = 0x14;
	p[49] = 0xe9;
	p[50] = 0;
	p[51] = 53;
	assert_true(nflog_parse_ip(p, sizeof(p), &ev));
	assert_int_equal(ev.family, AF_INET6);
	assert_int_equal(ev.l4proto, IPPROTO_UDP);
	assert_int_equal(ev.dport, 53);
	assert_string_equal(inet_ntop(AF_INET6, &ev.daddr.v6, buf, sizeof(buf)), "2001:db8::7");
	/* an extension header running past the end: no port, no crash */
	p[41] = 200;
	assert_true(nflog_parse_ip(p, sizeof(p), &ev));
	assert_int_equal(ev.dport, 0);
}

static void
count_event(const NflogEvent *ev, gpointer data)
{
	(*(int *)data)++;
	assert_int_equal(ev->dport, 80);
}

static void
test_parse_netlink_messages(void **state)
{
	/* two NFULNL_MSG_PACKET messages and one of another type */
	static guint8 buf[1024] __attribute__((aligned(4)));
	size_t off = 0;
	int seen = 0;

	for (int i = 0; i < 3; i++) {
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf + off);
		struct nfgenmsg *nfg;

		nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) |
				  (i == 1 ? NFULNL_MSG_CONFIG : NFULNL_MSG_PACKET);
		nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
		nfg->nfgen_family = AF_INET;
		mnl_attr_put_u32(nlh, NFULA_MARK, 0);
		mnl_attr_put(nlh, NFULA_PAYLOAD, sizeof(tcp4), tcp4);
		off += nlh->nlmsg_len;
	}
	assert_int_equal(nflog_parse(buf, off, count_event, &seen), 2);
	assert_int_equal(seen, 2);
	/* truncated anywhere: never reads past the end */
	for (size_t len = 0; len < off; len++)
		(void)nflog_parse(buf, len, NULL, NULL);
}

static void
test_json_string(void **state)
{
	g_autoptr(GString) s = g_string_new(NULL);

	denylog_json_string(s, "a\"b\\c\n\x01\xc3");
	assert_string_equal(s->str, "\"a\\\"b\\\\c\\n\\u0001\\u00c3\"");
}

static void
test_denylog_records(void **state)
{
	g_autofree char *dir = g_dir_make_tmp("test-denylog-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "log.jsonl", NULL);
	g_autofree char *text = NULL;
	g_autofree char *summary = NULL;
	g_auto(GStrv) lines = NULL;
	g_autoptr(DenyLog) l = denylog_new("mini-tapbox", path, FALSE, NULL);
	struct in_addr a;

	assert_non_null(l);
	inet_pton(AF_INET, "192.0.2.7", &a);
	denylog_name(l, "evil.test", 1);
	denylog_name(l, "evil.test", 28);     /* same name: counted once */
	denylog_name(l, "x\\\"y.test", 16);
	denylog_connection(l, AF_INET, &a, IPPROTO_TCP, 80, "good.test");
	denylog_connection(l, AF_INET, &a, IPPROTO_ICMP, 0, NULL);
	denylog_answer(l, "m.example.test", AF_INET, &a, "metadata range");
	assert_int_equal(denylog_refused_names(l), 2);
	assert_int_equal(denylog_blocked_connections(l), 2);
	summary = denylog_summary(l);
	assert_string_equal(summary, "blocked 2 connections, 2 names");
	denylog_finish(l);
	denylog_finish(l);   /* idempotent */

	assert_true(g_file_get_contents(path, &text, NULL, NULL));
	lines = g_strsplit(text, "\n", -1);
	assert_int_equal(g_strv_length(lines), 8);   /* 7 records + "" after the last \n */
	assert_non_null(strstr(lines[0], "\"event\":\"name\",\"name\":\"evil.test\",\"qtype\":\"A\"}"));
	assert_non_null(strstr(lines[2], "\"name\":\"x\\\\\\\"y.test\",\"qtype\":\"TXT\""));
	assert_non_null(strstr(lines[3], "\"event\":\"connection\",\"proto\":\"tcp\","
				       "\"addr\":\"192.0.2.7\",\"port\":80,\"name\":\"good.test\"}"));
	assert_non_null(strstr(lines[4], "\"proto\":\"icmp\",\"addr\":\"192.0.2.7\"}"));
	assert_non_null(strstr(lines[5], "\"event\":\"answer\",\"name\":\"m.example.test\","
				       "\"addr\":\"192.0.2.7\",\"reason\":\"metadata range\"}"));
	assert_non_null(strstr(lines[6], "\"event\":\"summary\",\"connections\":2,\"names\":2}"));
	assert_int_equal(strncmp(lines[0], "{\"time\":\"20", 11), 0);
	unlink(path);
	rmdir(dir);
}

static guint
count_lines_with(char **lines, const char *needle)
{
	guint n = 0;

	for (char **l = lines; *l; l++)
		n += strstr(*l, needle) != NULL;
	return n;
}

/* issue 15: a retry loop writes one record per destination and interval,
 * not one per denial; the summary still counts every denial. */
static void
test_denylog_aggregates_repeats(void **state)
{
	g_autofree char *dir = g_dir_make_tmp("test-denylog-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "log.jsonl", NULL);
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;
	g_autoptr(DenyLog) l = denylog_new("mini-tapbox", path, FALSE, NULL);
	struct in_addr a, b;

	inet_pton(AF_INET, "192.0.2.7", &a);
	inet_pton(AF_INET, "192.0.2.8", &b);
	for (int i = 0; i < 20000; i++)
		denylog_connection(l, AF_INET, &a, IPPROTO_TCP, 80, i % 2 ? "x.test" : NULL);
	denylog_connection(l, AF_INET, &a, IPPROTO_TCP, 81, NULL);   /* other port: new */
	denylog_connection(l, AF_INET, &b, IPPROTO_TCP, 80, NULL);   /* other address: new */
	for (int i = 0; i < 500; i++)
		denylog_name(l, "evil.test", 1);
	denylog_flush(l);                                   /* end of an interval */
	denylog_connection(l, AF_INET, &a, IPPROTO_TCP, 80, NULL);  /* next interval */
	denylog_finish(l);
	assert_int_equal(denylog_blocked_connections(l), 20003);
	assert_int_equal(denylog_refused_names(l), 1);

	assert_true(g_file_get_contents(path, &text, NULL, NULL));
	lines = g_strsplit(text, "\n", -1);
	/* 3 first connections, 1 name, 2 repeats in the first interval, 1 in
	 * the second, the summary, "" after the last \n */
	assert_int_equal(g_strv_length(lines), 9);
	assert_int_equal(count_lines_with(lines, "\"event\":\"connection\""), 3);
	assert_int_equal(count_lines_with(lines, "\"event\":\"name\""), 1);
	assert_non_null(strstr(text, "\"event\":\"repeat\",\"of\":\"connection\",\"count\":19999,"
				     "\"proto\":\"tcp\",\"addr\":\"192.0.2.7\",\"port\":80}"));
	assert_non_null(strstr(text, "\"event\":\"repeat\",\"of\":\"name\",\"count\":499,"
				     "\"name\":\"evil.test\",\"qtype\":\"A\"}"));
	assert_non_null(strstr(lines[6], "\"event\":\"repeat\",\"of\":\"connection\",\"count\":1,"));
	assert_non_null(strstr(text, "\"event\":\"summary\",\"connections\":20003,\"names\":1}"));
	unlink(path);
	rmdir(dir);
}

/* More distinct destinations than the table holds: the least recently
 * denied one is evicted with its count written, and is new when it comes
 * back.  Memory stays at the table's size. */
static void
test_denylog_destination_table_is_bounded(void **state)
{
	g_autofree char *dir = g_dir_make_tmp("test-denylog-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "log.jsonl", NULL);
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;
	g_autoptr(DenyLog) l = denylog_new("mini-tapbox", path, FALSE, NULL);
	struct in_addr a;

	inet_pton(AF_INET, "192.0.2.7", &a);
	denylog_connection(l, AF_INET, &a, IPPROTO_UDP, 1, NULL);
	denylog_connection(l, AF_INET, &a, IPPROTO_UDP, 1, NULL);    /* one repeat pending */
	for (guint p = 2; p <= DENYLOG_MAX_DESTINATIONS; p++)       /* fills the table */
		denylog_connection(l, AF_INET, &a, IPPROTO_UDP, (guint16)p, NULL);
	denylog_connection(l, AF_INET, &a, IPPROTO_UDP, 60000, NULL);  /* evicts port 1 */
	denylog_connection(l, AF_INET, &a, IPPROTO_UDP, 1, NULL);      /* new again */
	denylog_finish(l);

	assert_true(g_file_get_contents(path, &text, NULL, NULL));
	lines = g_strsplit(text, "\n", -1);
	assert_int_equal(count_lines_with(lines, "\"port\":1}"), 3);  /* first, repeat, first */
	assert_non_null(strstr(lines[DENYLOG_MAX_DESTINATIONS],
			       "\"event\":\"repeat\",\"of\":\"connection\",\"count\":1,"
			       "\"proto\":\"udp\",\"addr\":\"192.0.2.7\",\"port\":1}"));
	assert_int_equal(count_lines_with(lines, "\"event\":\"connection\""),
			 DENYLOG_MAX_DESTINATIONS + 2);
	unlink(path);
	rmdir(dir);
}

/* Past the size cap one "cap" record, then only the summary at exit,
 * whose counts include what was not written. */
static void
test_denylog_size_cap(void **state)
{
	g_autofree char *dir = g_dir_make_tmp("test-denylog-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "log.jsonl", NULL);
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;
	g_autoptr(DenyLog) l = denylog_new("mini-tapbox", path, FALSE, NULL);
	struct in_addr a;
	gsize len;

	inet_pton(AF_INET, "192.0.2.7", &a);
	denylog_set_max_bytes(l, 1000);
	for (guint p = 1; p <= 100; p++)
		denylog_connection(l, AF_INET, &a, IPPROTO_TCP, (guint16)p, NULL);
	denylog_finish(l);

	assert_true(g_file_get_contents(path, &text, &len, NULL));
	lines = g_strsplit(text, "\n", -1);
	assert_int_equal(count_lines_with(lines, "\"event\":\"cap\""), 1);
	assert_int_equal(count_lines_with(lines, "\"event\":\"connection\""),
			 g_strv_length(lines) - 3);
	assert_true(g_strv_length(lines) < 20);
	assert_non_null(strstr(lines[g_strv_length(lines) - 3], "\"event\":\"cap\",\"bytes\":"));
	assert_non_null(strstr(lines[g_strv_length(lines) - 2],
			       "\"event\":\"summary\",\"connections\":100,"));
	assert_true(len < 1000 + 400);   /* the cap record and the summary on top */
	unlink(path);
	rmdir(dir);
}

static void
test_denylog_bad_path(void **state)
{
	g_autoptr(GError) error = NULL;
	DenyLog *l = denylog_new("mini-tapbox", "/nonexistent/dir/log", FALSE, &error);

	assert_null(l);
	assert_non_null(strstr(error->message, "/nonexistent/dir/log"));
}

/* Issue 16: the summary names what was blocked and what to add for it. */
static void
test_denylog_summary_names_and_suggests(void **state)
{
	g_autoptr(DenyLog) l = denylog_new("mini-tapbox", NULL, FALSE, NULL);
	g_autofree char *details = NULL, *suggestion = NULL, *none = NULL;
	struct in_addr a;
	struct in6_addr a6;

	(void)state;
	assert_non_null(l);
	denylog_set_quiet(l, TRUE);           /* no stderr lines from the test */
	none = denylog_summary_details(l);
	assert_string_equal(none, "");
	assert_null(denylog_suggestion(l));
	inet_pton(AF_INET, "192.0.2.7", &a);
	inet_pton(AF_INET6, "2001:db8::7", &a6);
	denylog_name(l, "evil.test", 1);
	denylog_name(l, "evil.test", 28);     /* another destination, same entry */
	denylog_name(l, "evil.test", 1);      /* a repeat: named once */
	denylog_connection(l, AF_INET, &a, IPPROTO_TCP, 80, "good.test");
	denylog_connection(l, AF_INET, &a, IPPROTO_UDP, 53, NULL);
	denylog_connection(l, AF_INET6, &a6, IPPROTO_TCP, 443, NULL);
	denylog_name_on_wire(l, AF_INET, &a, 443, "sni", "other.test");
	denylog_name_on_wire(l, AF_INET, &a, 443, "sni", "other.test");
	details = denylog_summary_details(l);
	assert_string_equal(details, ": name evil.test, tcp to 192.0.2.7:80 (good.test), "
				     "udp to 192.0.2.7:53, tcp to [2001:db8::7]:443, "
				     "tcp to 192.0.2.7:443 (sni other.test)");
	denylog_name(l, "more.test", 1);
	g_free(details);
	details = denylog_summary_details(l);
	assert_true(g_str_has_suffix(details, "(sni other.test), and 1 more, see --log FILE or -v"));
	suggestion = denylog_suggestion(l);
	assert_string_equal(suggestion, "add to the allowlist: evil.test:PORT good.test:80 "
					"192.0.2.7:53/udp [2001:db8::7]:443/tcp other.test:443 (PORT: "
					"the port the name is used on, 443 for HTTPS); or let --learn "
					"FILE write the list");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ipv4_tcp),
		cmocka_unit_test(test_parse_ipv4_fragment),
		cmocka_unit_test(test_parse_ipv6_udp_with_ext),
		cmocka_unit_test(test_parse_netlink_messages),
		cmocka_unit_test(test_json_string),
		cmocka_unit_test(test_denylog_records),
		cmocka_unit_test(test_denylog_aggregates_repeats),
		cmocka_unit_test(test_denylog_destination_table_is_bounded),
		cmocka_unit_test(test_denylog_size_cap),
		cmocka_unit_test(test_denylog_bad_path),
		cmocka_unit_test(test_denylog_summary_names_and_suggests),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
