/* SPDX-License-Identifier: MIT
 *
 * test-name-gate.c — the name gate's policy half (net/relay/name-gate.c):
 * what each kind of first bytes, with the name it carried, decides for a
 * connection to a domain-only destination.  The parser itself has its own
 * test (test-sniff.c); here its results are made by hand.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "net/relay/name-gate.h"
#include "common/config.h"

#include <string.h>

static EgressPolicy *
policy(void)
{
	g_autoptr(SbxConfig) cfg = sbx_config_new();
	static const char *const entries[] = { "*.cdn.test:443", "*.any.test", "192.0.2.1:8080/tcp",
					       "*.q.test:443/udp", NULL };
	EgressPolicy *p;

	cfg->net_mode = SBX_NET_TAP;
	for (const char *const *e = entries; *e; e++)
		g_ptr_array_add(cfg->allow_entries, g_strdup(*e));
	p = egress_policy_load(cfg, NULL);
	assert_non_null(p);
	return p;
}

static NameGateVerdict
judge(EgressPolicy *p, guint16 port, SniffKind kind, const char *name, guint16 target,
      size_t len, const char **reason)
{
	SniffResult s;
	NameGateDecision d;

	memset(&s, 0, sizeof s);
	s.kind = kind;
	g_strlcpy(s.name, name, sizeof s.name);
	s.port = target;
	s.consumed = kind == SNIFF_SOCKS5_HELLO ? 3 : 0;
	name_gate_judge(p, port, &s, len, &d);
	*reason = d.reason;
	if (d.verdict == NAME_GATE_SOCKS5_HELLO)
		assert_int_equal(d.pass, 3);
	assert_string_equal(d.sniff.name, name);
	return d.verdict;
}

static void
test_tls_and_http(void **state)
{
	g_autoptr(EgressPolicy) p = policy();
	const char *why;

	assert_int_equal(judge(p, 443, SNIFF_TLS, "www.cdn.test", 0, 300, &why), NAME_GATE_ALLOW);
	assert_int_equal(judge(p, 443, SNIFF_TLS, "evil.test", 0, 300, &why), NAME_GATE_REFUSE);
	assert_string_equal(why, "sni");
	/* no SNI: refused, even where every name below a suffix is allowed */
	assert_int_equal(judge(p, 443, SNIFF_TLS, "", 0, 300, &why), NAME_GATE_REFUSE);
	assert_string_equal(why, "sni");
	/* the entry's port counts: *.cdn.test:443 says nothing about 80 */
	assert_int_equal(judge(p, 80, SNIFF_HTTP, "www.cdn.test", 0, 40, &why), NAME_GATE_REFUSE);
	assert_string_equal(why, "host");
	assert_int_equal(judge(p, 80, SNIFF_HTTP, "a.any.test", 0, 40, &why), NAME_GATE_ALLOW);
	assert_int_equal(judge(p, 80, SNIFF_HTTP, "any.test", 0, 40, &why), NAME_GATE_REFUSE);
	assert_int_equal(judge(p, 80, SNIFF_HTTP, "", 0, 40, &why), NAME_GATE_REFUSE);
	/* a UDP-only entry admits no TCP name */
	assert_int_equal(judge(p, 443, SNIFF_TLS, "x.q.test", 0, 300, &why), NAME_GATE_REFUSE);
}

static void
test_proxies(void **state)
{
	g_autoptr(EgressPolicy) p = policy();
	const char *why;

	/* the proxy's address passed through a name; its target must too */
	assert_int_equal(judge(p, 3128, SNIFF_HTTP_CONNECT, "evil.test", 443, 60, &why),
			 NAME_GATE_REFUSE);
	assert_string_equal(why, "host");
	assert_int_equal(judge(p, 3128, SNIFF_HTTP_CONNECT, "www.cdn.test", 443, 60, &why),
			 NAME_GATE_ALLOW);
	assert_int_equal(judge(p, 3128, SNIFF_HTTP_CONNECT, "www.cdn.test", 22, 60, &why),
			 NAME_GATE_REFUSE);
	assert_int_equal(judge(p, 1080, SNIFF_SOCKS5, "evil.test", 443, 20, &why), NAME_GATE_REFUSE);
	assert_string_equal(why, "socks");
	assert_int_equal(judge(p, 1080, SNIFF_SOCKS4, "x.any.test", 80, 20, &why), NAME_GATE_ALLOW);
	/* an address as target: only an IP entry admits it */
	assert_int_equal(judge(p, 1080, SNIFF_SOCKS4, "192.0.2.1", 8080, 9, &why), NAME_GATE_ALLOW);
	assert_int_equal(judge(p, 1080, SNIFF_SOCKS4, "192.0.2.1", 80, 9, &why), NAME_GATE_REFUSE);
	assert_int_equal(judge(p, 1080, SNIFF_SOCKS5, "www.cdn.test", 0, 20, &why), NAME_GATE_REFUSE);
	assert_int_equal(judge(p, 1080, SNIFF_SOCKS5_HELLO, "", 0, 3, &why), NAME_GATE_SOCKS5_HELLO);
}

static void
test_other_kinds(void **state)
{
	g_autoptr(EgressPolicy) p = policy();
	const char *why;

	assert_int_equal(judge(p, 22, SNIFF_SSH, "", 0, 20, &why), NAME_GATE_ALLOW);
	assert_int_equal(judge(p, 443, SNIFF_MORE, "", 0, 100, &why), NAME_GATE_HOLD);
	assert_int_equal(judge(p, 443, SNIFF_MORE, "", 0, SNIFF_HOLD_MAX - 1, &why), NAME_GATE_HOLD);
	assert_int_equal(judge(p, 443, SNIFF_MORE, "", 0, SNIFF_HOLD_MAX, &why), NAME_GATE_REFUSE);
	assert_string_equal(why, "protocol");
	assert_int_equal(judge(p, 443, SNIFF_UNKNOWN, "", 0, 5, &why), NAME_GATE_REFUSE);
	assert_string_equal(why, "protocol");
	assert_int_equal(judge(p, 443, SNIFF_MALFORMED, "", 0, 5, &why), NAME_GATE_REFUSE);
	assert_string_equal(why, "protocol");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tls_and_http),
		cmocka_unit_test(test_proxies),
		cmocka_unit_test(test_other_kinds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
