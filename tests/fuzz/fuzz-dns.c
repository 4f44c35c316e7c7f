/* SPDX-License-Identifier: MIT
 *
 * fuzz-dns.c — libFuzzer harness for everything in the resolver that reads
 * untrusted bytes: queries from the sandbox (dns_parse_query and the reply
 * built from it), upstream replies (dns_parse_upstream_reply for A and
 * AAAA, dns_reply_matches), the blocked-packet reports (nflog_parse_ip),
 * and the responder's frame path (dns_responder_handle_frame, with a
 * literal-only policy so nothing goes upstream): every reply frame it
 * writes must carry valid IPv4 / UDP checksums.
 * Seeds: tests/fuzz/corpus-dns/.  Run: tests/fuzz/run.sh long dns
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/config.h"
#include "net/dns-msg.h"
#include "net/dns.h"
#include "net/nflog.h"
#include "net/policy.h"
#include "net/vnet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static guint16
csum(guint32 sum, const guint8 *p, size_t len)
{
	for (; len > 1; p += 2, len -= 2)
		sum += (guint32)(p[0] << 8 | p[1]);
	if (len)
		sum += (guint32)(p[0] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (guint16)sum;
}

/* DnsSendFrameFunc: check every reply the responder builds */
static int
check_frame(const guint8 *f, size_t len, gpointer opaque)
{
	const guint8 *ip = f + 14;
	size_t iph, ulen;
	guint32 pseudo;

	if (len < 14 + 20 + 8 + DNS_HEADER_LEN)
		__builtin_trap();
	if (f[12] == 0x08) {
		iph = 20;
		if (csum(0, ip, 20) != 0xffff)
			__builtin_trap();
		pseudo = csum(0, ip + 12, 8);
	} else {
		iph = 40;
		pseudo = csum(0, ip + 8, 32);
	}
	ulen = (size_t)(ip[iph + 4] << 8 | ip[iph + 5]);
	if (14 + iph + ulen != len || ulen > DNS_UDP_MAX + 8 ||
	    csum(pseudo + 17 + (guint32)ulen, ip + iph, ulen) != 0xffff)
		__builtin_trap();
	return 0;
}

static DnsResponder *
responder(void)
{
	/* static: lives for the whole run (and stays reachable for LSan) */
	static DnsResponder *r;
	static SbxConfig *cfg;
	static EgressPolicy *p;

	if (!r) {
		cfg = sbx_config_new();
		g_ptr_array_add(cfg->allow_entries, g_strdup("192.0.2.1"));
		cfg->net_mode = SBX_NET_TAP;
		p = egress_policy_load(cfg, NULL);
		if (!p)
			__builtin_trap();
		r = dns_responder_new(p, cfg, g_main_context_default(), -1,
				      denials_new(p, cfg, g_main_context_default(), -1),
				      check_frame, NULL);
	}
	return r;
}

/* The responder's frame path as net.c drives it: parsed once, then
 * handed over. */
static gboolean
handle_frame(const uint8_t *frame, size_t len)
{
	FrameInfo fi;

	return dns_responder_handle_frame(responder(), frame,
					  frame_parse(frame, len, &fi) ? &fi : NULL);
}

/* DATA as the UDP payload of a query frame to 10.0.2.3 or fd00::3. */
static void
feed_as_query(const uint8_t *data, size_t size, gboolean v6)
{
	static const guint8 guest4[4] = VNET_GUEST4_BYTES, resolver4[4] = VNET_RESOLVER4_BYTES;
	static const guint8 guest6[16] = VNET_GUEST6_BYTES, resolver6[16] = VNET_RESOLVER6_BYTES;
	static guint8 frame[14 + 40 + 8 + 4096];
	size_t iph = v6 ? 40 : 20;
	guint8 *ip = frame + 14, *udp = ip + iph;

	if (size > 4096)
		return;
	memset(frame, 0, 14 + iph + 8);
	frame[12] = v6 ? 0x86 : 0x08;
	frame[13] = v6 ? 0xdd : 0x00;
	if (v6) {
		ip[0] = 0x60;
		ip[4] = (guint8)((8 + size) >> 8);
		ip[5] = (guint8)(8 + size);
		ip[6] = 17;
		memcpy(ip + 8, guest6, 16);
		memcpy(ip + 24, resolver6, 16);
	} else {
		ip[0] = 0x45;
		ip[2] = (guint8)((28 + size) >> 8);
		ip[3] = (guint8)(28 + size);
		ip[9] = 17;
		memcpy(ip + 12, guest4, 4);
		memcpy(ip + 16, resolver4, 4);
	}
	udp[0] = 0x80;
	udp[3] = 53;
	udp[4] = (guint8)((8 + size) >> 8);
	udp[5] = (guint8)(8 + size);
	memcpy(udp + 8, data, size);
	(void)handle_frame(frame, 14 + iph + 8 + size);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	DnsQuery q;
	DnsUpstreamAnswer ans;
	NflogEvent ev;
	guint8 out[DNS_UDP_MAX];
	DnsQueryStatus st = dns_parse_query(data, size, &q);

	if (st != DNS_QUERY_DROP) {
		struct in6_addr a6[40];
		size_t n;

		memset(a6, 0x5a, sizeof(a6));
		n = dns_build_reply(&q, q.rcode, AF_INET6, a6, G_N_ELEMENTS(a6), 30, out,
				    sizeof(out));
		/* the reply always parses back as a reply to the same question */
		if (st == DNS_QUERY_OK && n && q.name_is_hostname &&
		    !dns_reply_matches(out, n, q.id, q.name, q.qtype))
			__builtin_trap();
		if (st == DNS_QUERY_OK)
			(void)dns_build_query(q.id, q.qname_wire, q.qname_wire_len, q.qtype, out,
					      sizeof(out));
	}
	/* the same bytes as an upstream reply to whatever it asks */
	if (size >= DNS_HEADER_LEN) {
		char name[DNS_NAME_TEXT_MAX];
		size_t off = DNS_HEADER_LEN;
		guint16 id = (guint16)(data[0] << 8 | data[1]);

		if (dns_read_name(data, size, &off, name, NULL, NULL, NULL)) {
			(void)dns_parse_upstream_reply(data, size, id, name, DNS_TYPE_A, &ans);
			(void)dns_parse_upstream_reply(data, size, id, name, DNS_TYPE_AAAA, &ans);
			if (ans.n_addrs > DNS_UPSTREAM_MAX_ADDRS)
				__builtin_trap();
		}
	}
	(void)nflog_parse_ip(data, size, &ev);
	/* the frame path: DATA as a whole frame, and as the query in a frame */
	(void)handle_frame(data, size);
	feed_as_query(data, size, size & 1);
	return 0;
}
