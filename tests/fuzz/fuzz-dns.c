/* SPDX-License-Identifier: MIT
 *
 * fuzz-dns.c — libFuzzer harness for everything in the resolver that reads
 * untrusted bytes: queries from the sandbox (dns_parse_query and the reply
 * built from it), upstream replies (dns_parse_upstream_reply for A and
 * AAAA, dns_reply_matches) and the blocked-packet reports (nflog_parse_ip).
 * Seeds: tests/fuzz/corpus-dns/.  Run: tests/fuzz/run.sh long dns
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "net/dns-msg.h"
#include "net/nflog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
	return 0;
}
