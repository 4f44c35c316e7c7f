/* SPDX-License-Identifier: MIT
 *
 * test-policy.c — policy load (literal entries, domains through a stub DNS
 * server on 127.0.0.1 via --resolver, refused ranges), /etc/hosts, name
 * lookups, run-time additions and the per-frame filter with hand-built
 * Ethernet frames.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "net/policy.h"
#include "net/policy-int.h"
#include "net/vnet.h"
#include "net/resolve.h"
#include "net/dns-msg.h"
#include "common/error.h"
#include "common/fdutil.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---------- a stub DNS server on 127.0.0.1 ---------- */

typedef struct {
	int fd;
	int stop[2];
	guint16 port;
	GThread *thread;
	guint queries;
} Stub;

static gsize
stub_answer(const guint8 *q, gsize qlen, guint8 *r)
{
	gsize off = 12;
	char name[256] = "";
	guint16 qtype;
	gsize n;
	struct { const char *name; guint16 type; const char *addr; } zone[] = {
		{ "a.test", 1, "192.0.2.10" }, { "a.test", 28, "2001:db8::10" },
		{ "b.test", 1, "192.0.2.20" }, { "b.test", 1, "192.0.2.21" },
		{ "lo.test", 1, "127.0.0.1" },
		{ "meta.test", 1, "169.254.169.254" }, { "meta.test", 1, "192.0.2.11" },
		{ "meta.test", 28, "fd00:ec2::254" },
		{ "v6only.test", 28, "2001:db8::66" },
	};
	guint ans = 0;
	gboolean known = FALSE;

	while (off < qlen && q[off]) {
		g_strlcat(name, name[0] ? "." : "", sizeof name);
		strncat(name, (const char *)q + off + 1, q[off]);
		off += 1u + q[off];
	}
	off++;
	qtype = (guint16)(q[off] << 8 | q[off + 1]);
	off += 4;
	memcpy(r, q, off);
	r[2] = 0x81;
	r[3] = 0x80;
	n = off;
	for (guint i = 0; i < G_N_ELEMENTS(zone); i++) {
		int af = zone[i].type == 1 ? AF_INET : AF_INET6;
		guint8 rd[16];
		gsize rdlen = af == AF_INET ? 4 : 16;

		if (g_ascii_strcasecmp(zone[i].name, name))
			continue;
		known = TRUE;
		if (zone[i].type != qtype)
			continue;
		inet_pton(af, zone[i].addr, rd);
		r[n++] = 0xc0;
		r[n++] = 12;       /* pointer to the question name */
		r[n++] = 0;
		r[n++] = (guint8)qtype;
		r[n++] = 0;
		r[n++] = 1;
		memset(r + n, 0, 3);
		r[n + 3] = 60;
		n += 4;
		r[n++] = 0;
		r[n++] = (guint8)rdlen;
		memcpy(r + n, rd, rdlen);
		n += rdlen;
		ans++;
	}
	if (!strcmp(name, "fail.test"))
		r[3] = 0x82;       /* SERVFAIL */
	else if (!known)
		r[3] = 0x83;       /* NXDOMAIN */
	r[7] = (guint8)ans;
	return n;
}

static gpointer
stub_run(gpointer data)
{
	Stub *s = data;

	for (;;) {
		struct pollfd p[2] = { { s->fd, POLLIN, 0 }, { s->stop[0], POLLIN, 0 } };
		guint8 q[512], r[1024];
		struct sockaddr_storage from;
		socklen_t fl = sizeof from;
		ssize_t n;

		if (poll(p, 2, 5000) <= 0 || p[1].revents)
			return NULL;
		n = recvfrom(s->fd, q, sizeof q, 0, (struct sockaddr *)&from, &fl);
		if (n < 12)
			continue;
		s->queries++;
		sendto(s->fd, r, stub_answer(q, (gsize)n, r), 0, (struct sockaddr *)&from, fl);
	}
}

static int
stub_start(void **state)
{
	Stub *s = g_new0(Stub, 1);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof a;

	s->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(s->fd >= 0);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof a), 0);
	getsockname(s->fd, (struct sockaddr *)&a, &al);
	s->port = ntohs(a.sin_port);
	assert_int_equal(pipe2(s->stop, O_CLOEXEC), 0);
	s->thread = g_thread_new("stub-dns", stub_run, s);
	*state = s;
	return 0;
}

static int
stub_stop(void **state)
{
	Stub *s = *state;

	assert_int_equal(write(s->stop[1], "x", 1), 1);
	g_thread_join(s->thread);
	close(s->fd);
	close(s->stop[0]);
	close(s->stop[1]);
	g_free(s);
	return 0;
}

static SbxConfig *
config(Stub *s, const char *const *entries)
{
	SbxConfig *cfg = sbx_config_new();

	cfg->net_mode = SBX_NET_TAP;
	if (s)
		cfg->resolver = g_strdup_printf("127.0.0.1:%u", s->port);
	for (; entries && *entries; entries++)
		g_ptr_array_add(cfg->allow_entries, g_strdup(*entries));
	return cfg;
}

/* ---------- frames ---------- */

/* Ethernet + IPv4/IPv6 + TCP/UDP header to DADDR:DPORT. */
static gsize
frame(guint8 *f, const char *daddr, guint8 proto, guint16 sport, guint16 dport)
{
	struct in6_addr a6;
	gboolean v6 = strchr(daddr, ':') != NULL;
	gsize l3 = v6 ? 40 : 20, n = 14 + l3 + 20;

	memset(f, 0, n);
	f[12] = v6 ? 0x86 : 0x08;
	f[13] = v6 ? 0xdd : 0x00;
	if (v6) {
		f[14] = 0x60;
		f[14 + 6] = proto;
		inet_pton(AF_INET6, daddr, &a6);
		memcpy(f + 14 + 24, &a6, 16);
	} else {
		f[14] = 0x45;
		f[14 + 9] = proto;
		inet_pton(AF_INET, daddr, f + 14 + 16);
	}
	f[14 + l3] = (guint8)(sport >> 8);
	f[14 + l3 + 1] = (guint8)sport;
	f[14 + l3 + 2] = (guint8)(dport >> 8);
	f[14 + l3 + 3] = (guint8)dport;
	return n;
}

/* The filter as net.c calls it: on the frame parsed once. */
static gboolean
allows_frame(EgressPolicy *p, const guint8 *f, size_t n)
{
	FrameInfo fi;

	return egress_policy_allows_frame(p, frame_parse(f, n, &fi) ? &fi : NULL);
}

static gboolean
allows(EgressPolicy *p, const char *daddr, guint8 proto, guint16 dport)
{
	guint8 f[128];
	gsize n = frame(f, daddr, proto, 40000, dport);

	return allows_frame(p, f, n);
}

/* ---------- tests ---------- */

static void
test_literals_and_frames(void **state)
{
	const char *const entries[] = { "192.0.2.1", "198.51.100.0/24:5432/tcp", "[2001:db8::/32]:443",
					"0.0.0.0/0:22/udp", NULL };
	g_autoptr(SbxConfig) cfg = config(NULL, entries);
	g_autoptr(EgressPolicy) p = NULL;
	g_autoptr(GError) err = NULL;
	guint16 hp = 8080;
	guint8 f[128];

	g_array_append_val(cfg->host_ports, hp);
	p = egress_policy_load(cfg, &err);
	assert_non_null(p);
	assert_true(egress_policy_is_restricted(p));
	assert_true(allows(p, "192.0.2.1", IPPROTO_TCP, 80));
	assert_true(allows(p, "192.0.2.1", IPPROTO_UDP, 9));
	assert_true(allows(p, "192.0.2.1", IPPROTO_ICMP, 0));
	assert_false(allows(p, "192.0.2.2", IPPROTO_TCP, 80));
	assert_true(allows(p, "198.51.100.77", IPPROTO_TCP, 5432));
	assert_false(allows(p, "198.51.100.77", IPPROTO_UDP, 5432));
	assert_false(allows(p, "198.51.100.77", IPPROTO_TCP, 5433));
	assert_false(allows(p, "198.51.101.1", IPPROTO_TCP, 5432));
	assert_true(allows(p, "2001:db8:5::1", IPPROTO_TCP, 443));
	assert_true(allows(p, "2001:db8:5::1", IPPROTO_UDP, 443));
	assert_false(allows(p, "2001:db8:5::1", IPPROTO_TCP, 80));
	assert_false(allows(p, "2001:db9::1", IPPROTO_TCP, 443));
	assert_true(allows(p, "203.0.113.9", IPPROTO_UDP, 22));
	assert_false(allows(p, "203.0.113.9", IPPROTO_TCP, 22));
	/* gateway: only the host ports, tcp; never through a broad CIDR */
	assert_true(allows(p, VNET_GATEWAY4_TEXT, IPPROTO_TCP, 8080));
	assert_false(allows(p, VNET_GATEWAY4_TEXT, IPPROTO_TCP, 8081));
	assert_false(allows(p, VNET_GATEWAY4_TEXT, IPPROTO_UDP, 22));
	/* resolver: UDP 53 only */
	assert_true(allows(p, VNET_RESOLVER4_TEXT, IPPROTO_UDP, 53));
	assert_false(allows(p, VNET_RESOLVER4_TEXT, IPPROTO_TCP, 53));
	assert_true(allows(p, VNET_RESOLVER6_TEXT, IPPROTO_UDP, 53));
	/* fd00::2:PORT is the host's [::1]:PORT (mini-tapbox(1)) */
	assert_true(allows(p, VNET_GATEWAY6_TEXT, IPPROTO_TCP, 8080));
	assert_false(allows(p, VNET_GATEWAY6_TEXT, IPPROTO_TCP, 8081));
	/* ARP passes; neighbour solicitation passes; junk does not */
	memset(f, 0, sizeof f);
	f[12] = 0x08;
	f[13] = 0x06;
	assert_true(allows_frame(p, f, 42));
	frame(f, "ff02::1:ff00:2", IPPROTO_ICMPV6, 0, 0);
	f[14 + 40] = 135;
	assert_true(allows_frame(p, f, 14 + 40 + 24));
	f[14 + 40] = 128;     /* echo request to a multicast group */
	assert_false(allows_frame(p, f, 14 + 40 + 24));
	assert_false(allows_frame(p, f, 10));
	frame(f, "192.0.2.1", IPPROTO_TCP, 1, 2);
	f[14] = 0x4f;         /* IHL beyond the frame */
	assert_false(allows_frame(p, f, 14 + 20));
	frame(f, "198.51.100.77", IPPROTO_TCP, 1, 5432);
	assert_false(allows_frame(p, f, 14 + 20 + 2));  /* truncated ports */
	f[12] = 0x88;         /* unknown ethertype */
	assert_false(allows_frame(p, f, 60));
	assert_int_equal(egress_policy_dropped_frames(p), 16);
}

static void
test_publish_replies(void **state)
{
	g_autoptr(SbxConfig) cfg = config(NULL, (const char *const[]){ "192.0.2.1", NULL });
	SbxPublish pub = { .host_addr = g_strdup("127.0.0.1"), .host_port = 9000, .guest_port = 80 };
	g_autoptr(EgressPolicy) p = NULL;
	guint8 f[128];

	g_array_append_val(cfg->publish, pub);
	p = egress_policy_load(cfg, NULL);
	assert_non_null(p);
	frame(f, VNET_GATEWAY4_TEXT, IPPROTO_TCP, 80, 51234);
	assert_true(allows_frame(p, f, 14 + 40));
	frame(f, VNET_GATEWAY4_TEXT, IPPROTO_TCP, 81, 51234);
	assert_false(allows_frame(p, f, 14 + 40));
}

static void
test_allow_all(void **state)
{
	g_autoptr(SbxConfig) cfg = config(NULL, NULL);
	g_autoptr(EgressPolicy) p = NULL;
	g_autofree char *hosts = NULL;

	cfg->allow_all = TRUE;
	p = egress_policy_load(cfg, NULL);
	assert_non_null(p);
	assert_false(egress_policy_is_restricted(p));
	assert_true(allows(p, "203.0.113.1", IPPROTO_TCP, 80));
	assert_true(allows(p, "2001:db8::1", IPPROTO_UDP, 443));
	assert_true(allows(p, VNET_RESOLVER4_TEXT, IPPROTO_UDP, 53));
	/* host loopback stays closed without --allow-host-port */
	assert_false(allows(p, VNET_GATEWAY4_TEXT, IPPROTO_TCP, 8080));
	hosts = egress_policy_hosts_file(p);
	assert_string_equal(hosts, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
}

static void
test_domains(void **state)
{
	Stub *s = *state;
	const char *const entries[] = { "A.test", "b.test:443/tcp", "v6only.test.", "meta.test",
					"*.wild.test", "*.p.test:8443/tcp", NULL };
	g_autoptr(SbxConfig) cfg = config(s, entries);
	g_autoptr(EgressPolicy) p = NULL;
	g_autoptr(GError) err = NULL;
	g_autofree char *hosts = NULL;
	GArray *a4, *a6;
	gboolean wild;

	p = egress_policy_load(cfg, &err);
	if (!p)
		fail_msg("load: %s", err->message);
	hosts = egress_policy_hosts_file(p);
	assert_string_equal(hosts,
			    "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
			    "192.0.2.10\ta.test\n2001:db8::10\ta.test\n"
			    "192.0.2.20\tb.test\n192.0.2.21\tb.test\n"
			    "2001:db8::66\tv6only.test\n"
			    "192.0.2.11\tmeta.test\n");
	assert_true(allows(p, "192.0.2.10", IPPROTO_TCP, 1));
	assert_true(allows(p, "2001:db8::10", IPPROTO_TCP, 1));
	assert_true(allows(p, "192.0.2.21", IPPROTO_TCP, 443));
	assert_false(allows(p, "192.0.2.21", IPPROTO_TCP, 80));
	assert_false(allows(p, "169.254.169.254", IPPROTO_TCP, 80));
	assert_false(allows(p, "fd00:ec2::254", IPPROTO_TCP, 80));

	assert_true(egress_policy_lookup_name(p, "a.TEST.", &a4, &a6, &wild));
	assert_false(wild);
	assert_int_equal(a4->len, 1);
	assert_int_equal(a6->len, 1);
	assert_true(egress_policy_lookup_name(p, "meta.test", &a4, &a6, &wild));
	assert_int_equal(a4->len, 1);
	assert_int_equal(a6->len, 0);
	assert_true(egress_policy_lookup_name(p, "x.y.wild.test", &a4, &a6, &wild));
	assert_true(wild);
	assert_int_equal(a4->len, 0);
	assert_false(egress_policy_lookup_name(p, "wild.test", &a4, &a6, &wild));
	assert_false(egress_policy_lookup_name(p, "wild.test.evil", &a4, &a6, &wild));
	assert_false(egress_policy_lookup_name(p, "c.test", &a4, &a6, &wild));
	assert_false(egress_policy_lookup_name(p, "bad..name", &a4, &a6, &wild));

	/* run-time additions (frame filter only: no netns socket here) */
	{
		struct in_addr add[2];
		struct in6_addr add6;

		inet_pton(AF_INET, "203.0.113.5", &add[0]);
		inet_pton(AF_INET, "127.0.0.9", &add[1]);
		assert_false(allows(p, "203.0.113.5", IPPROTO_TCP, 80));
		assert_true(egress_policy_add_resolved(p, -1, "a.wild.test", AF_INET, add, 2, 60,
						       NULL));
		assert_true(allows(p, "203.0.113.5", IPPROTO_TCP, 80));
		assert_false(allows(p, "127.0.0.9", IPPROTO_TCP, 80));
		inet_pton(AF_INET6, "2001:db8:77::1", &add6);
		assert_true(egress_policy_add_resolved(p, -1, "q.p.test", AF_INET6, &add6, 1, 60,
						       NULL));
		assert_true(allows(p, "2001:db8:77::1", IPPROTO_TCP, 8443));
		assert_false(allows(p, "2001:db8:77::1", IPPROTO_TCP, 443));
		assert_false(allows(p, "2001:db8:77::1", IPPROTO_UDP, 8443));
		/* a name no wildcard covers adds nothing */
		inet_pton(AF_INET, "203.0.113.6", &add[0]);
		assert_true(egress_policy_add_resolved(p, -1, "evil.test", AF_INET, add, 1, 60, NULL));
		assert_false(allows(p, "203.0.113.6", IPPROTO_TCP, 80));
	}
}

static void
test_unresolved(void **state)
{
	Stub *s = *state;
	g_autoptr(SbxConfig) cfg = config(s, (const char *const[]){ "a.test", "none.test", NULL });
	g_autoptr(EgressPolicy) p = NULL;
	g_autoptr(GError) err = NULL;

	p = egress_policy_load(cfg, &err);
	assert_null(p);
	assert_int_equal(err->code, SBX_ERR_ILLEGAL_NETWORK);
	assert_true(g_str_has_prefix(err->message, "--allow:2: none.test does not resolve"));
	g_clear_error(&err);
	cfg->allow_unresolved = TRUE;
	p = egress_policy_load(cfg, &err);
	assert_non_null(p);
	assert_true(allows(p, "192.0.2.10", IPPROTO_TCP, 1));
}

static void
test_refused_answers(void **state)
{
	Stub *s = *state;
	g_autoptr(SbxConfig) cfg = config(s, (const char *const[]){ "lo.test", NULL });
	g_autoptr(EgressPolicy) p = NULL;
	g_autoptr(GError) err = NULL;

	/* only a loopback answer: nothing usable is an error */
	p = egress_policy_load(cfg, &err);
	assert_null(p);
	assert_non_null(strstr(err->message, "lo.test does not resolve to any usable address"));
	g_clear_error(&err);
	/* listed literally: allowed */
	g_ptr_array_add(cfg->allow_entries, g_strdup("127.0.0.0/8"));
	p = egress_policy_load(cfg, &err);
	assert_non_null(p);
}

static void
test_resolver_errors(void **state)
{
	Stub *s = *state;
	g_autoptr(SbxConfig) cfg = config(s, (const char *const[]){ "fail.test", NULL });
	g_autoptr(EgressPolicy) p = NULL;
	g_autoptr(GError) err = NULL;
	struct sockaddr_storage ss;
	socklen_t len;

	p = egress_policy_load(cfg, &err);
	assert_null(p);
	assert_non_null(strstr(err->message, "fail.test"));
	assert_non_null(strstr(err->message, "error code 2"));
	assert_true(sbx_resolver_parse("127.0.0.1", &ss, &len, NULL));
	assert_int_equal(ntohs(((struct sockaddr_in *)&ss)->sin_port), 53);
	assert_true(sbx_resolver_parse("[::1]:5353", &ss, &len, NULL));
	assert_int_equal(ntohs(((struct sockaddr_in6 *)&ss)->sin6_port), 5353);
	assert_true(sbx_resolver_parse("::1", &ss, &len, NULL));
	assert_false(sbx_resolver_parse("dns.example:53", &ss, &len, NULL));
	assert_false(sbx_resolver_parse("127.0.0.1:0", &ss, &len, NULL));
	assert_false(sbx_resolver_parse("[::1", &ss, &len, NULL));
}

static void
test_dns_reply_parser(void **state)
{
	guint8 q[512], r[1024], wire[DNS_NAME_WIRE_MAX];
	gsize wlen = dns_encode_name("a.test", wire, sizeof wire);
	gsize qlen = dns_build_query(0x1234, wire, wlen, 1, q, sizeof q);
	gsize rlen = stub_answer(q, qlen, r);
	DnsUpstreamAnswer ans;

	assert_true(qlen > 12);
	assert_true(dns_parse_upstream_reply(r, rlen, 0x1234, "a.test", 1, &ans));
	assert_int_equal(ans.rcode, 0);
	assert_int_equal(ans.n_addrs, 1);
	assert_false(dns_parse_upstream_reply(r, rlen, 0x1235, "a.test", 1, &ans));   /* wrong id */
	for (gsize cut = 0; cut < rlen; cut++)   /* every truncation is refused, not read past */
		assert_false(dns_parse_upstream_reply(r, cut, 0x1234, "a.test", 1, &ans));
	assert_int_equal(dns_encode_name("a..b", wire, sizeof wire), 0);
}

static void
test_bad_allow_entry(void **state)
{
	g_autoptr(SbxConfig) cfg = config(NULL, (const char *const[]){ "1.2.3.4", "1.2.3.4/99", NULL });
	g_autoptr(GError) err = NULL;

	assert_null(egress_policy_load(cfg, &err));
	assert_string_equal(err->message, "--allow:2: invalid prefix length '/99' (expected 0-32)");
	g_clear_error(&err);
	g_ptr_array_set_size(cfg->allow_entries, 0);
	g_ptr_array_add(cfg->allow_files, g_strdup("/nonexistent/allow.txt"));
	assert_null(egress_policy_load(cfg, &err));
	assert_int_equal(err->code, SBX_ERR_ILLEGAL_NETWORK);
}

static void
test_refused_ranges(void **state)
{
	const char *refused[] = { "127.0.0.1", "0.0.0.0", "169.254.169.254", "224.0.0.1",
				  "255.255.255.255", "::1", "::", "fe80::1", "ff02::1",
				  "fd00:ec2::254", "::ffff:127.0.0.1", "::ffff:169.254.169.254" };
	const char *fine[] = { "1.1.1.1", "10.1.2.3", "192.168.1.1", "2001:db8::1", "fd00::5",
			       "::ffff:8.8.8.8" };
	guint8 a[16];

	for (guint i = 0; i < G_N_ELEMENTS(refused); i++) {
		int af = strchr(refused[i], ':') ? AF_INET6 : AF_INET;

		inet_pton(af, refused[i], a);
		if (!egress_addr_is_refused_range(af, a))
			fail_msg("%s not refused", refused[i]);
	}
	for (guint i = 0; i < G_N_ELEMENTS(fine); i++) {
		int af = strchr(fine[i], ':') ? AF_INET6 : AF_INET;

		inet_pton(af, fine[i], a);
		if (egress_addr_is_refused_range(af, a))
			fail_msg("%s refused", fine[i]);
	}
}

/* Does TCP to DADDR:PORT need the relay's name gate? */
static gboolean
needs_check(EgressPolicy *p, const char *daddr, guint16 port)
{
	guint8 a[16];
	int af = strchr(daddr, ':') ? AF_INET6 : AF_INET;

	assert_int_equal(inet_pton(af, daddr, a), 1);
	return egress_policy_needs_name_check(p, af, a, port);
}

static void
test_name_gate(void **state)
{
	Stub *s = *state;
	const char *const entries[] = { "a.test", "b.test:443/tcp", "*.wild.test:443",
					"*.u.test:53/udp", "192.0.2.10:22", "192.0.2.20/31:8080/udp",
					"[2001:db8::/64]:8443", NULL };
	g_autoptr(SbxConfig) cfg = config(s, entries);
	g_autoptr(EgressPolicy) p = NULL;
	g_autoptr(GError) err = NULL;

	p = egress_policy_load(cfg, &err);
	if (!p)
		fail_msg("load: %s", err->message);
	/* a.test's address passed through its domain entry: check names ... */
	assert_true(needs_check(p, "192.0.2.10", 443));
	assert_true(needs_check(p, "2001:db8::10", 443));
	assert_true(needs_check(p, "192.0.2.21", 443));
	/* ... but an IP entry for the same address and port wins */
	assert_false(needs_check(p, "192.0.2.10", 22));
	assert_false(needs_check(p, "2001:db8::10", 8443));
	/* a UDP-only IP entry does not cover TCP */
	assert_true(needs_check(p, "192.0.2.20", 8080));
	/* gateway and resolver: never */
	assert_false(needs_check(p, VNET_GATEWAY4_TEXT, 8080));
	assert_false(needs_check(p, VNET_GATEWAY6_TEXT, 8080));
	assert_false(needs_check(p, VNET_RESOLVER4_TEXT, 53));

	/* names: exact entries on their ports, case and trailing dot ignored */
	assert_true(egress_policy_name_allowed(p, "a.test", 443));
	assert_true(egress_policy_name_allowed(p, "A.Test.", 1));
	assert_true(egress_policy_name_allowed(p, "b.test", 443));
	assert_false(egress_policy_name_allowed(p, "b.test", 80));
	assert_false(egress_policy_name_allowed(p, "x.a.test", 443));
	assert_false(egress_policy_name_allowed(p, "c.test", 443));
	assert_false(egress_policy_name_allowed(p, "", 443));
	assert_false(egress_policy_name_allowed(p, "a.test:443", 443));
	/* *.name: below the name only, on the entry's port and protocol */
	assert_true(egress_policy_name_allowed(p, "x.wild.test", 443));
	assert_true(egress_policy_name_allowed(p, "y.x.wild.test", 443));
	assert_false(egress_policy_name_allowed(p, "wild.test", 443));
	assert_false(egress_policy_name_allowed(p, "x.wild.test", 80));
	assert_false(egress_policy_name_allowed(p, "xwild.test", 443));
	assert_false(egress_policy_name_allowed(p, "q.u.test", 53));
	/* an address as the name: only IP entries admit it */
	assert_true(egress_policy_name_allowed(p, "192.0.2.10", 22));
	assert_false(egress_policy_name_allowed(p, "192.0.2.10", 443));
	assert_true(egress_policy_name_allowed(p, "2001:db8::99", 8443));
	assert_false(egress_policy_name_allowed(p, "192.0.2.20", 8080));
}

/* UDP to destinations only a domain entry admits: none, unless the entry
 * says /udp (QUIC hides the name from the gate). */
static void
test_domain_entries_admit_udp_only_when_told(void **state)
{
	Stub *s = *state;
	const char *const entries[] = { "a.test", "b.test:443", "*.w.test:443", "*.u.test:443/udp",
					"meta.test:53/udp", "192.0.2.20:9/udp", NULL };
	g_autoptr(SbxConfig) cfg = config(s, entries);
	g_autoptr(EgressPolicy) p = NULL;
	g_autoptr(GError) err = NULL;
	struct in_addr add;

	p = egress_policy_load(cfg, &err);
	if (!p)
		fail_msg("load: %s", err->message);
	/* a.test, no port: TCP and ICMP as before, no UDP */
	assert_true(allows(p, "192.0.2.10", IPPROTO_TCP, 9));
	assert_true(allows(p, "192.0.2.10", IPPROTO_ICMP, 0));
	assert_false(allows(p, "192.0.2.10", IPPROTO_UDP, 443));
	assert_false(allows(p, "2001:db8::10", IPPROTO_UDP, 443));
	/* b.test:443 means TCP; an IP entry still admits UDP to its address */
	assert_true(allows(p, "192.0.2.21", IPPROTO_TCP, 443));
	assert_false(allows(p, "192.0.2.21", IPPROTO_UDP, 443));
	assert_true(allows(p, "192.0.2.20", IPPROTO_UDP, 9));
	/* an explicit /udp does */
	assert_true(allows(p, "192.0.2.11", IPPROTO_UDP, 53));
	assert_false(allows(p, "192.0.2.11", IPPROTO_TCP, 53));
	/* wildcards likewise, for their on-demand answers */
	inet_pton(AF_INET, "203.0.113.5", &add);
	assert_true(egress_policy_add_resolved(p, -1, "x.w.test", AF_INET, &add, 1, 60, NULL));
	assert_true(allows(p, "203.0.113.5", IPPROTO_TCP, 443));
	assert_false(allows(p, "203.0.113.5", IPPROTO_UDP, 443));
	inet_pton(AF_INET, "203.0.113.6", &add);
	assert_true(egress_policy_add_resolved(p, -1, "x.u.test", AF_INET, &add, 1, 60, NULL));
	assert_true(allows(p, "203.0.113.6", IPPROTO_UDP, 443));
	assert_false(allows(p, "203.0.113.6", IPPROTO_TCP, 443));
}

static void
test_name_gate_unrestricted(void **state)
{
	g_autoptr(SbxConfig) cfg = config(NULL, NULL);
	g_autoptr(EgressPolicy) p = NULL;

	cfg->allow_all = TRUE;
	p = egress_policy_load(cfg, NULL);
	assert_non_null(p);
	assert_false(needs_check(p, "203.0.113.1", 443));
	g_clear_pointer(&p, egress_policy_free);
	g_clear_pointer(&cfg, sbx_config_free);
	/* only IP entries: nothing passed through a name */
	cfg = config(NULL, (const char *const[]){ "203.0.113.0/24", NULL });
	p = egress_policy_load(cfg, NULL);
	assert_non_null(p);
	assert_false(needs_check(p, "203.0.113.1", 443));
}

typedef struct {
	guint count;
	struct in_addr last;
} Evicted;

/* EgressDynEvictFunc */
static void
note_evicted(int family, const void *addr, gpointer data)
{
	Evicted *ev = data;

	assert_int_equal(family, AF_INET);
	ev->count++;
	memcpy(&ev->last, addr, 4);
}

static void
nth_addr(guint i, struct in_addr *a)
{
	a->s_addr = htonl((198u << 24) | (19u << 16) | i);   /* 198.19.0.0/16: never routed */
}

static gboolean
allows_nth(EgressPolicy *p, guint i)
{
	struct in_addr a;
	char buf[INET_ADDRSTRLEN];

	nth_addr(i, &a);
	/* UDP: always a new flow, judged by the TTL */
	return allows(p, inet_ntop(AF_INET, &a, buf, sizeof buf), IPPROTO_UDP, 53);
}

/* issue 15: run-time answers leave the table after their TTL (unless a
 * flow still uses them), and the table has a hard cap, oldest evicted and
 * reported. */
static void
test_runtime_table_expires_and_is_bounded(void **state)
{
	g_autoptr(SbxConfig) cfg = sbx_config_new();
	g_autoptr(EgressPolicy) p = NULL;
	Evicted ev = { 0 };
	struct in_addr a;
	gint64 now;

	/* /udp: the probe below is UDP, which a domain entry admits only
	 * when it says so (the name gate cannot read QUIC) */
	g_ptr_array_add(cfg->allow_entries, g_strdup("*.wild.test:53/udp"));
	p = egress_policy_load(cfg, NULL);
	assert_non_null(p);
	egress_policy_set_evict_func(p, note_evicted, &ev);

	/* expiry: #0 never used, #1 used by a flow */
	for (guint i = 0; i < 2; i++) {
		nth_addr(i, &a);
		assert_true(egress_policy_add_resolved(p, -1, "x.wild.test", AF_INET, &a, 1, 5,
						       NULL));
	}
	assert_true(allows_nth(p, 1));
	now = g_get_monotonic_time();
	egress_policy_dyn_sweep(p, now + 4 * G_USEC_PER_SEC);      /* within the TTL */
	assert_int_equal(g_hash_table_size(p->dyn), 2);
	egress_policy_dyn_sweep(p, now + 6 * G_USEC_PER_SEC);      /* past it */
	assert_int_equal(g_hash_table_size(p->dyn), 1);
	egress_policy_dyn_sweep(p, now + DYN_IDLE_USEC + 6 * G_USEC_PER_SEC);
	assert_int_equal(g_hash_table_size(p->dyn), 0);
	assert_false(allows_nth(p, 1));
	assert_int_equal(ev.count, 0);                              /* expiry is no eviction */

	/* the cap: DYN_MAX_ENTRIES + 10 distinct answers, #0 refreshed on the way */
	for (guint i = 0; i < DYN_MAX_ENTRIES + 10; i++) {
		nth_addr(i, &a);
		assert_true(egress_policy_add_resolved(p, -1, "y.wild.test", AF_INET, &a, 1, 60,
						       NULL));
		if (i == DYN_MAX_ENTRIES - 1) {
			nth_addr(0, &a);
			assert_true(egress_policy_add_resolved(p, -1, "y.wild.test", AF_INET, &a, 1,
							       60, NULL));
		}
	}
	assert_int_equal(g_hash_table_size(p->dyn), DYN_MAX_ENTRIES);
	assert_int_equal(g_queue_get_length(&p->dyn_order), DYN_MAX_ENTRIES);
	assert_int_equal(ev.count, 10);
	nth_addr(10, &a);
	assert_int_equal(ev.last.s_addr, a.s_addr);                /* #1..#10 went, not #0 */
	assert_true(allows_nth(p, 0));
	assert_false(allows_nth(p, 1));
	assert_false(allows_nth(p, 10));
	assert_true(allows_nth(p, 11));
	assert_true(allows_nth(p, DYN_MAX_ENTRIES + 9));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_literals_and_frames),
		cmocka_unit_test(test_publish_replies),
		cmocka_unit_test(test_allow_all),
		cmocka_unit_test_setup_teardown(test_domains, stub_start, stub_stop),
		cmocka_unit_test_setup_teardown(test_unresolved, stub_start, stub_stop),
		cmocka_unit_test_setup_teardown(test_refused_answers, stub_start, stub_stop),
		cmocka_unit_test_setup_teardown(test_resolver_errors, stub_start, stub_stop),
		cmocka_unit_test(test_dns_reply_parser),
		cmocka_unit_test(test_bad_allow_entry),
		cmocka_unit_test(test_refused_ranges),
		cmocka_unit_test_setup_teardown(test_name_gate, stub_start, stub_stop),
		cmocka_unit_test(test_name_gate_unrestricted),
		cmocka_unit_test_setup_teardown(test_domain_entries_admit_udp_only_when_told, stub_start,
						stub_stop),
		cmocka_unit_test(test_runtime_table_expires_and_is_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
