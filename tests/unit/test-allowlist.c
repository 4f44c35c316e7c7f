/* SPDX-License-Identifier: MIT
 *
 * test-allowlist.c — the allowlist grammar: every valid form, every
 * malformed case with its message, and the CIDR range arithmetic.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "net/allowlist.h"
#include "net/nft/nft.h"
#include "net/nft/nft-int.h"
#include "common/error.h"

#include <arpa/inet.h>
#include <string.h>
#include <unistd.h>

/* Parse LINE; assert it gives exactly one entry whose canonical text is WANT. */
static void
assert_entry(const char *line, const char *want, AllowKind kind)
{
	g_autoptr(GArray) a = allowlist_new();
	g_autoptr(GError) err = NULL;
	g_autofree char *text = NULL;

	if (!allowlist_parse_line(line, "t:1", a, &err))
		fail_msg("'%s' refused: %s", line, err->message);
	assert_int_equal(a->len, 1);
	text = allow_entry_to_string(&g_array_index(a, AllowEntry, 0));
	assert_string_equal(text, want);
	assert_int_equal(g_array_index(a, AllowEntry, 0).kind, kind);
	assert_string_equal(g_array_index(a, AllowEntry, 0).where, "t:1");
}

static void
assert_bad(const char *line, const char *msg_part)
{
	g_autoptr(GArray) a = allowlist_new();
	g_autoptr(GError) err = NULL;

	if (allowlist_parse_line(line, "list.txt:7", a, &err))
		fail_msg("'%s' accepted", line);
	assert_int_equal(err->code, SBX_ERR_ILLEGAL_NETWORK);
	assert_true(g_str_has_prefix(err->message, "list.txt:7: "));
	if (!strstr(err->message, msg_part))
		fail_msg("'%s': message '%s' lacks '%s'", line, err->message, msg_part);
	assert_int_equal(a->len, 0);
}

static void
test_valid_forms(void **state)
{
	assert_entry("1.2.3.4", "1.2.3.4", ALLOW_ADDR4);
	assert_entry("  1.2.3.4  # comment", "1.2.3.4", ALLOW_ADDR4);
	assert_entry("10.0.0.0/8", "10.0.0.0/8", ALLOW_ADDR4);
	assert_entry("0.0.0.0/0", "0.0.0.0/0", ALLOW_ADDR4);
	assert_entry("1.2.3.4/32", "1.2.3.4", ALLOW_ADDR4);
	assert_entry("1.2.3.4:443", "1.2.3.4:443", ALLOW_ADDR4);
	assert_entry("10.0.0.0/8:5432", "10.0.0.0/8:5432", ALLOW_ADDR4);
	assert_entry("10.0.0.0/8:5432/tcp", "10.0.0.0/8:5432/tcp", ALLOW_ADDR4);
	assert_entry("1.2.3.4:53/UDP", "1.2.3.4:53/udp", ALLOW_ADDR4);
	assert_entry("2001:db8::1", "2001:db8::1", ALLOW_ADDR6);
	assert_entry("2001:DB8::/32", "2001:db8::/32", ALLOW_ADDR6);
	assert_entry("::/0", "::/0", ALLOW_ADDR6);
	assert_entry("[2001:db8::1]", "2001:db8::1", ALLOW_ADDR6);
	assert_entry("[2001:db8::1]:443", "[2001:db8::1]:443", ALLOW_ADDR6);
	assert_entry("[2001:db8::/32]:443/tcp", "[2001:db8::/32]:443/tcp", ALLOW_ADDR6);
	assert_entry("::ffff:1.2.3.4", "::ffff:1.2.3.4", ALLOW_ADDR6);
	assert_entry("Example.COM", "example.com", ALLOW_DOMAIN);
	assert_entry("example.com.", "example.com", ALLOW_DOMAIN);
	assert_entry("registry.example.com:443/tcp", "registry.example.com:443/tcp", ALLOW_DOMAIN);
	assert_entry("localhost", "localhost", ALLOW_DOMAIN);
	assert_entry("_srv.x-y.example", "_srv.x-y.example", ALLOW_DOMAIN);
	assert_entry("*.Example.com", "*.example.com", ALLOW_WILDCARD);
	assert_entry("*.example.com:443", "*.example.com:443", ALLOW_WILDCARD);
	assert_entry("a:65535", "a:65535", ALLOW_DOMAIN);
}

static void
test_ports_and_protos(void **state)
{
	g_autoptr(GArray) a = allowlist_new();
	AllowEntry *e;

	assert_true(allowlist_parse_line("1.2.3.4", "t:1", a, NULL));
	assert_true(allowlist_parse_line("1.2.3.4:80/tcp", "t:2", a, NULL));
	assert_true(allowlist_parse_line("1.2.3.4:53/udp", "t:3", a, NULL));
	assert_true(allowlist_parse_line("1.2.3.4:8", "t:4", a, NULL));
	e = &g_array_index(a, AllowEntry, 0);
	assert_int_equal(e->port, 0);
	assert_int_equal(e->protos, ALLOW_PROTO_ANY);
	e = &g_array_index(a, AllowEntry, 1);
	assert_int_equal(e->port, 80);
	assert_int_equal(e->protos, ALLOW_PROTO_TCP);
	e = &g_array_index(a, AllowEntry, 2);
	assert_int_equal(e->protos, ALLOW_PROTO_UDP);
	e = &g_array_index(a, AllowEntry, 3);
	assert_int_equal(e->port, 8);
	assert_int_equal(e->protos, ALLOW_PROTO_ANY);
}

static void
test_malformed(void **state)
{
	assert_bad("1.2.3", "invalid IPv4 address '1.2.3'");
	assert_bad("1.2.3.4.5", "invalid IPv4 address");
	assert_bad("256.1.1.1", "invalid IPv4 address");
	assert_bad("1.2.3.4/33", "invalid prefix length '/33' (expected 0-32)");
	assert_bad("2001:db8::/129", "invalid prefix length '/129' (expected 0-128)");
	assert_bad("1.2.3.4/", "invalid prefix length");
	assert_bad("1.2.3.4/x", "invalid prefix length");
	assert_bad("1.2.3.4/-1", "invalid prefix length");
	assert_bad("10.0.0.1/8", "host bits set (did you mean 10.0.0.0/8?)");
	assert_bad("2001:db8::1/32", "did you mean 2001:db8::/32?");
	assert_bad("example.com/24", "'example.com' before '/' is not an IP address");
	assert_bad("1.2.3.4:", "missing port after ':'");
	assert_bad("1.2.3.4:0", "invalid port '0'");
	assert_bad("1.2.3.4:65536", "invalid port '65536'");
	assert_bad("1.2.3.4:http", "invalid port 'http'");
	assert_bad("1.2.3.4:443/sctp", "unknown protocol 'sctp'");
	assert_bad("1.2.3.4:443/", "unknown protocol ''");
	assert_bad("example.com/tcp", "a protocol needs a port");
	assert_bad("[2001:db8::1", "missing ']'");
	assert_bad("[2001:db8::1]443", "unexpected '443' after ']'");
	assert_bad("[1.2.3.4]:443", "is not an IPv6 address");
	assert_bad("[]:443", "missing address or name");
	assert_bad("2001:db8:::1", "invalid IPv6 address");
	assert_bad("1.2.3.4:80:90", "invalid IPv6 address");
	assert_bad(":443", "missing address or name");
	assert_bad("exa mple.com", "unexpected space");
	assert_bad("1.2.3.4 tcp", "unexpected space");
	assert_bad("ex$ample.com", "invalid domain name");
	assert_bad("-bad.example", "invalid domain name");
	assert_bad("bad-.example", "invalid domain name");
	assert_bad("a..b", "invalid domain name");
	assert_bad("*", "invalid domain name");
	assert_bad("*.", "invalid domain name");
	assert_bad("*example.com", "invalid domain name");
	assert_bad("a.*.example.com", "invalid domain name");
	assert_bad("*.*.example.com", "invalid domain name");
	assert_bad("ex\x01" "ample", "unexpected character 0x01");
	assert_bad("caf\xc3\xa9.example", "unexpected character 0xc3");
}

static void
test_long_names(void **state)
{
	g_autofree char *label64 = g_strnfill(64, 'a');
	g_autofree char *label63 = g_strnfill(63, 'a');
	g_autofree char *ok = g_strdup_printf("%s.%s.%s.%s", label63, label63, label63,
					      "a234567890123456789012345678901234567890123456789012345678901");
	g_autofree char *too_long = g_strdup_printf("%s.x", ok);
	g_autofree char *bad_label = g_strdup_printf("%s.example", label64);
	g_autoptr(GArray) a = allowlist_new();

	assert_int_equal(strlen(ok), 253);
	assert_true(allowlist_parse_line(ok, "t:1", a, NULL));
	assert_bad(too_long, "invalid domain name");
	assert_bad(bad_label, "invalid domain name");
}

static void
test_text_lines(void **state)
{
	const char *text = "# allowlist\n\n1.2.3.4\n  \t\nexample.com:443 # web\r\n";
	g_autoptr(GArray) a = allowlist_new();
	g_autoptr(GError) err = NULL;

	/* CRLF line ends are tolerated; a CR inside an entry is not */
	assert_true(allowlist_parse_text(text, strlen(text), "f", a, &err));
	assert_int_equal(a->len, 2);
	assert_false(allowlist_parse_text("a.org\r\nb\rc.org\n", 14, "f", a, &err));
	assert_string_equal(err->message, "f:2: unexpected space in 'b\rc.org' (one entry per line)");
	g_clear_error(&err);
	g_array_set_size(a, 0);
	text = "# allowlist\n\n1.2.3.4\n  \t\nexample.com:443 # web\n*.x.org";
	assert_true(allowlist_parse_text(text, strlen(text), "f", a, &err));
	assert_int_equal(a->len, 3);
	assert_string_equal(g_array_index(a, AllowEntry, 1).where, "f:5");
	assert_string_equal(g_array_index(a, AllowEntry, 2).where, "f:6");
	g_array_set_size(a, 0);
	assert_false(allowlist_parse_text("1.2.3.4\n1.2.3.4\0x\n", 18, "f", a, &err));
	assert_string_equal(err->message, "f:2: NUL byte in line");
	g_clear_error(&err);
	assert_false(allowlist_parse_file("/nonexistent/list", a, &err));
	assert_int_equal(err->code, SBX_ERR_ILLEGAL_NETWORK);
	assert_non_null(strstr(err->message, "/nonexistent/list"));
}

/* URL entries (issue 16): the scheme gives the port, an explicit port
 * wins, credentials and the path are dropped. */
static void
test_url_entries(void **state)
{
	g_autofree char *entry = NULL;
	g_autofree char *note = NULL;
	g_autoptr(GError) err = NULL;

	assert_entry("https://registry.example.com/some/path", "registry.example.com:443",
		     ALLOW_DOMAIN);
	assert_entry("http://Example.com", "example.com:80", ALLOW_DOMAIN);
	assert_entry("HTTPS://example.com:8443/x?y=1", "example.com:8443", ALLOW_DOMAIN);
	assert_entry("https://user:secret@example.com/", "example.com:443", ALLOW_DOMAIN);
	assert_entry("https://example.com:/", "example.com:443", ALLOW_DOMAIN);
	assert_entry("https://example.com/p#frag  # comment", "example.com:443", ALLOW_DOMAIN);
	assert_entry("https://198.18.0.10:8080/simple", "198.18.0.10:8080", ALLOW_ADDR4);
	assert_entry("https://[2001:db8::1]/", "[2001:db8::1]:443", ALLOW_ADDR6);
	assert_entry("http://[fd42::10]:3128", "[fd42::10]:3128", ALLOW_ADDR6);
	assert_entry("ssh://git@example.com/r.git", "example.com:22", ALLOW_DOMAIN);
	assert_entry("git+ssh://example.com:2222/r", "example.com:2222", ALLOW_DOMAIN);
	assert_entry("git://example.com/r", "example.com:9418", ALLOW_DOMAIN);
	assert_entry("socks5h://127.0.0.1", "127.0.0.1:1080", ALLOW_ADDR4);
	assert_entry("https://*.example.com/", "*.example.com:443", ALLOW_WILDCARD);

	assert_bad("ftp://example.com/", "unknown URL scheme 'ftp'");
	assert_bad("https:///path", "has no host");
	assert_bad("https://[]/", "has no host");
	assert_bad("https://example.com:99999/", "invalid port '99999'");
	assert_bad("https://example.com:0/", "invalid port '0'");
	assert_bad("https://example.com:44a/", "invalid port '44a'");
	assert_bad("https://[2001:db8::1/", "missing ']'");
	assert_bad("https://[2001:db8::1]x/", "unexpected 'x'");
	assert_bad("https://bad_host!/", "invalid domain name 'bad_host!'");
	assert_bad("https://a.org https://b.org", "unexpected space");

	/* the shared conversion, as profiles use it: the note names the path
	 * and never the password */
	assert_true(allowlist_url_to_entry("https://u:pw@r.example/npm/", "w", &entry, &note, &err));
	assert_string_equal(entry, "r.example:443");
	assert_non_null(note);
	assert_non_null(strstr(note, "'/npm/'"));
	assert_null(strstr(note, "pw"));
	g_clear_pointer(&entry, g_free);
	g_clear_pointer(&note, g_free);
	assert_true(allowlist_url_to_entry("https://r.example/", "w", &entry, &note, &err));
	assert_null(note);
	assert_false(allowlist_is_url("example.com:443"));
	assert_false(allowlist_is_url("://x"));
	assert_true(allowlist_is_url("git+ssh://x"));
}

/* "profile NAME" lines: collected from files, refused in --allow. */
static void
test_profile_lines(void **state)
{
	const char *text = "# list\nprofile npm\nexample.com:443\nprofile   pip # index\n";
	g_autoptr(GArray) a = allowlist_new();
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) err = NULL;
	g_autofree char *path = NULL;
	int fd = g_file_open_tmp("test-allowlist-XXXXXX", &path, NULL);

	assert_true(fd >= 0);
	assert_true(g_file_set_contents(path, text, -1, NULL));
	close(fd);
	assert_true(allowlist_parse_text(text, strlen(text), "f", a, &err));
	assert_int_equal(a->len, 1);
	assert_true(allowlist_file_profiles(path, names, &err));
	assert_int_equal(names->len, 2);
	assert_string_equal(names->pdata[0], "npm");
	assert_string_equal(names->pdata[1], "pip");
	unlink(path);
	assert_bad("profile npm", "use --profile npm");
	assert_false(allowlist_parse_text("profile n/p\n", 12, "f", a, &err));
	assert_non_null(strstr(err->message, "f:1: invalid profile name 'n/p'"));
}

static void
test_wildcard_match(void **state)
{
	assert_true(allowlist_name_matches_wildcard("a.example.com", "example.com"));
	assert_true(allowlist_name_matches_wildcard("x.y.EXAMPLE.com", "example.com"));
	assert_false(allowlist_name_matches_wildcard("example.com", "example.com"));
	assert_false(allowlist_name_matches_wildcard("badexample.com", "example.com"));
	assert_false(allowlist_name_matches_wildcard("example.com.evil", "example.com"));
	assert_false(allowlist_name_matches_wildcard(".example.com", "example.com"));
}

/* ---- range arithmetic ---- */

static NftRangeSet
v4set(const char *const *cidrs)
{
	NftRangeSet s;

	nft_range_set_init(&s, 4);
	for (; *cidrs; cidrs++) {
		char buf[32];
		char *slash;
		struct in_addr a;

		g_strlcpy(buf, *cidrs, sizeof buf);
		slash = strchr(buf, '/');
		*slash = '\0';
		assert_int_equal(inet_pton(AF_INET, buf, &a), 1);
		nft_range_set_add_prefix(&s, (guint8 *)&a, (guint)atoi(slash + 1));
	}
	nft_range_set_normalize(&s);
	return s;
}

static char *
ranges_text(const NftRangeSet *s)
{
	GString *out = g_string_new(NULL);

	for (guint i = 0; i < s->ranges->len; i++) {
		const NftRange *r = &g_array_index(s->ranges, NftRange, i);
		char lo[INET6_ADDRSTRLEN], hi[INET6_ADDRSTRLEN];
		int af = s->keylen == 4 ? AF_INET : AF_INET6;

		g_string_append_printf(out, "%s%s-%s", i ? " " : "", inet_ntop(af, r->lo, lo, sizeof lo),
				       inet_ntop(af, r->hi, hi, sizeof hi));
	}
	return g_string_free(out, FALSE);
}

static void
assert_ranges(const char *const *cidrs, const char *want)
{
	NftRangeSet s = v4set(cidrs);
	g_autofree char *text = ranges_text(&s);

	assert_string_equal(text, want);
	nft_range_set_clear(&s);
}

static void
test_cidr_math(void **state)
{
	assert_ranges((const char *const[]){ "0.0.0.0/0", NULL }, "0.0.0.0-255.255.255.255");
	assert_ranges((const char *const[]){ "1.2.3.4/32", NULL }, "1.2.3.4-1.2.3.4");
	assert_ranges((const char *const[]){ "10.0.0.0/8", NULL }, "10.0.0.0-10.255.255.255");
	/* adjacent merge, across the byte carry */
	assert_ranges((const char *const[]){ "10.0.0.0/24", "10.0.1.0/24", NULL },
		      "10.0.0.0-10.0.1.255");
	assert_ranges((const char *const[]){ "10.0.0.255/32", "10.0.1.0/32", NULL },
		      "10.0.0.255-10.0.1.0");
	/* overlap and containment, any order */
	assert_ranges((const char *const[]){ "10.1.0.0/16", "10.0.0.0/8", "10.2.3.4/32", NULL },
		      "10.0.0.0-10.255.255.255");
	/* gap of one address stays */
	assert_ranges((const char *const[]){ "1.1.1.1/32", "1.1.1.3/32", NULL },
		      "1.1.1.1-1.1.1.1 1.1.1.3-1.1.1.3");
	/* the top of the address space */
	assert_ranges((const char *const[]){ "255.255.255.255/32", "255.255.255.254/32", NULL },
		      "255.255.255.254-255.255.255.255");
	assert_ranges((const char *const[]){ "128.0.0.0/1", "0.0.0.0/1", NULL },
		      "0.0.0.0-255.255.255.255");
}

static void
test_v6_and_contains(void **state)
{
	NftRangeSet s;
	struct in6_addr a;
	guint8 probe[16];

	nft_range_set_init(&s, 16);
	inet_pton(AF_INET6, "2001:db8::", &a);
	nft_range_set_add_prefix(&s, (guint8 *)&a, 32);
	inet_pton(AF_INET6, "2001:db9::", &a);
	nft_range_set_add_prefix(&s, (guint8 *)&a, 32);
	inet_pton(AF_INET6, "::1", &a);
	nft_range_set_add_prefix(&s, (guint8 *)&a, 128);
	nft_range_set_normalize(&s);
	{
		g_autofree char *t = ranges_text(&s);

		assert_string_equal(t, "::1-::1 2001:db8::-2001:db9:ffff:ffff:ffff:ffff:ffff:ffff");
	}
	inet_pton(AF_INET6, "2001:db9:1::5", probe);
	assert_true(nft_range_set_contains(&s, probe));
	inet_pton(AF_INET6, "2001:dba::", probe);
	assert_false(nft_range_set_contains(&s, probe));
	inet_pton(AF_INET6, "::2", probe);
	assert_false(nft_range_set_contains(&s, probe));
	inet_pton(AF_INET6, "::1", probe);
	assert_true(nft_range_set_contains(&s, probe));
	nft_range_set_clear(&s);

	/* /128 and ::/0 */
	nft_range_set_init(&s, 16);
	memset(probe, 0, 16);
	nft_range_set_add_prefix(&s, probe, 0);
	nft_range_set_normalize(&s);
	memset(probe, 0xff, 16);
	assert_true(nft_range_set_contains(&s, probe));
	nft_range_set_clear(&s);
}

static void
test_increment(void **state)
{
	guint8 a[4] = { 10, 0, 0, 255 };
	guint8 top[16];

	assert_true(nft_addr_increment(a, 4));
	assert_memory_equal(a, ((guint8[]){ 10, 0, 1, 0 }), 4);
	memset(top, 0xff, sizeof top);
	assert_false(nft_addr_increment(top, 16));
	for (int i = 0; i < 16; i++)
		assert_int_equal(top[i], 0);
}

/* allowlist_is_domain() is the grammar's own answer: TRUE exactly when
 * allowlist_parse_line() makes one DOMAIN or WILDCARD entry without a port
 * of the string (for strings without blanks or comments, which a line may
 * have around its entry and a name may not). */
static void
test_is_domain_agrees_with_parse_line(void **state)
{
	g_autofree char *long_label = g_strnfill(64, 'a');
	g_autofree char *label63 = g_strnfill(63, 'b');
	/* 257 characters: over the 253 a name may have */
	g_autofree char *long_name = g_strdup_printf("a.%s.%s.%s.%s", label63, label63, label63,
						     label63);
	const char *cases[] = {
		"pypi.org", "PyPI.Org.", "localhost", "a_b.example", "*.example.com", "*.com",
		"1.2.3.4", "10.0.0.0/8", "::1", "[::1]", "2001:db8::/32", "1.2.3",
		"pypi.org:443", "pypi.org:443/tcp", "-bad-.example", "bad-.example", "a..b",
		".example", "", "*", "*.", "*.*.example", "ex*ample.com", "xn--nxasmq6b.example",
		long_label, long_name,
	};

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GArray) entries = allowlist_new();
		gboolean parsed = allowlist_parse_line(cases[i], "t", entries, NULL);
		gboolean named = parsed && entries->len == 1;
		const AllowEntry *e = named ? &g_array_index(entries, AllowEntry, 0) : NULL;
		gboolean want = e && (e->kind == ALLOW_DOMAIN || e->kind == ALLOW_WILDCARD) &&
				e->port == 0;

		if (allowlist_is_domain(cases[i]) != want)
			fail_msg("allowlist_is_domain(\"%s\") != %d", cases[i], want);
	}
	/* the cases that differed from the C API's former check of its own */
	assert_true(allowlist_is_domain("localhost"));
	assert_true(allowlist_is_domain("pypi.org."));
	assert_true(allowlist_is_domain("*.com"));
	assert_false(allowlist_is_domain("1.2.3.4"));
	/* one name, not a line */
	assert_false(allowlist_is_domain(" pypi.org"));
	assert_false(allowlist_is_domain("pypi.org # comment"));
	assert_false(allowlist_is_domain(NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_forms),
		cmocka_unit_test(test_ports_and_protos),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_long_names),
		cmocka_unit_test(test_text_lines),
		cmocka_unit_test(test_url_entries),
		cmocka_unit_test(test_profile_lines),
		cmocka_unit_test(test_wildcard_match),
		cmocka_unit_test(test_cidr_math),
		cmocka_unit_test(test_v6_and_contains),
		cmocka_unit_test(test_increment),
		cmocka_unit_test(test_is_domain_agrees_with_parse_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
