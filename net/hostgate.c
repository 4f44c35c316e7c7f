/* SPDX-License-Identifier: MIT
 *
 * hostgate.c — the per-port gate in front of slirp's host-loopback mapping
 * (why it exists: hostgate.h).
 */
#include "hostgate.h"

#include <string.h>

#define ETH_HLEN_ 14
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define PROTO_ICMP 1
#define PROTO_TCP 6
#define PROTO_UDP 17
#define PROTO_ICMPV6 58
#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

/* slirp's virtual addresses (net.c configures slirp with the same). */
static const uint8_t gate_vnet4[3] = { 10, 0, 2 };               /* 10.0.2.0/24 */
static const uint8_t gate_dns4[4] = { 10, 0, 2, 3 };
static const uint8_t gate_host4[4] = { 10, 0, 2, 2 };
static const uint8_t gate_prefix6[8] = { 0xfd, 0, 0, 0, 0, 0, 0, 0 };  /* fd00::/64 */
static const uint8_t gate_dns6[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3 };
static const uint8_t gate_allnodes6[16] = { 0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };

struct HostGate {
	guint8 open[65536 / 8];     /* bitmap of allowed TCP ports */
	gboolean any;
	guint64 refused;
};

HostGate *
host_gate_new(const GArray *ports)
{
	HostGate *g = g_new0(HostGate, 1);

	for (guint i = 0; ports && i < ports->len; i++) {
		guint16 p = g_array_index(ports, guint16, i);
		g->open[p / 8] |= (guint8)(1u << (p % 8));
		g->any = TRUE;
	}
	return g;
}

void
host_gate_free(HostGate *g)
{
	g_free(g);
}

gboolean
host_gate_has_ports(const HostGate *g)
{
	return g->any;
}

guint64
host_gate_refused(const HostGate *g)
{
	return g->refused;
}

static guint16
get16(const uint8_t *p)
{
	return (guint16)(p[0] << 8 | p[1]);
}

static void
put16(uint8_t *p, guint16 v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static gboolean
gate_port_open(const HostGate *g, guint16 port)
{
	return (g->open[port / 8] >> (port % 8)) & 1;
}

/* TCP to a host-mapped address: only a connection-opening segment can make
 * slirp connect to the host, so only those are checked against the list. */
static HostGateVerdict
gate_tcp(const HostGate *g, const uint8_t *tcp, size_t len, gboolean to_resolver)
{
	guint8 flags;
	guint16 dport;

	if (len < 20)
		return HOST_GATE_DROP;
	dport = get16(tcp + 2);
	flags = tcp[13];
	if (to_resolver)   /* slirp itself forwards only port 53 there */
		return dport == 53 ? HOST_GATE_PASS : HOST_GATE_REJECT;
	if ((flags & TCP_SYN) && !(flags & TCP_ACK))
		return gate_port_open(g, dport) ? HOST_GATE_PASS : HOST_GATE_REJECT;
	return HOST_GATE_PASS;
}

static HostGateVerdict
gate_ipv4(const HostGate *g, const uint8_t *ip, size_t len)
{
	size_t ihl;
	const uint8_t *dst;
	gboolean to_resolver, to_host;

	if (len < 20 || (ip[0] >> 4) != 4)
		return HOST_GATE_DROP;
	ihl = (size_t)(ip[0] & 0x0f) * 4;
	if (ihl < 20 || ihl > len)
		return HOST_GATE_DROP;
	dst = ip + 16;
	to_resolver = memcmp(dst, gate_dns4, 4) == 0;
	to_host = memcmp(dst, gate_vnet4, 3) == 0 ||
		  (dst[0] == 255 && dst[1] == 255 && dst[2] == 255 && dst[3] == 255);
	if (!to_host)
		return HOST_GATE_PASS;
	/* Fragments could rewrite the ports after this check (overlapping
	 * fragments are reassembled by slirp).  TCP from a guest with MTU ≥
	 * 576 never needs them towards slirp. */
	if (get16(ip + 6) & 0x3fff)
		return HOST_GATE_DROP;
	switch (ip[9]) {
	case PROTO_TCP:
		return gate_tcp(g, ip + ihl, len - ihl, to_resolver);
	case PROTO_UDP:
		/* DNS to the resolver address; nothing else on the host side. */
		if (to_resolver && len >= ihl + 8 && get16(ip + ihl + 2) == 53)
			return HOST_GATE_PASS;
		return HOST_GATE_DROP;
	case PROTO_ICMP:
		/* slirp answers echo to its own addresses itself. */
		return to_resolver || memcmp(dst, gate_host4, 4) == 0 ? HOST_GATE_PASS
								       : HOST_GATE_DROP;
	default:
		return HOST_GATE_DROP;
	}
}

static HostGateVerdict
gate_ipv6(const HostGate *g, const uint8_t *ip, size_t len)
{
	const uint8_t *dst;
	gboolean to_resolver, to_host;

	if (len < 40 || (ip[0] >> 4) != 6)
		return HOST_GATE_DROP;
	dst = ip + 24;
	to_resolver = memcmp(dst, gate_dns6, 16) == 0;
	to_host = memcmp(dst, gate_prefix6, 8) == 0 || memcmp(dst, gate_allnodes6, 16) == 0;
	if (!to_host)
		return HOST_GATE_PASS;
	/* Only the upper-layer header right after the fixed header is
	 * accepted: extension headers (fragments included) could hide it. */
	switch (ip[6]) {
	case PROTO_TCP:
		return gate_tcp(g, ip + 40, len - 40, to_resolver);
	case PROTO_UDP:
		if (to_resolver && len >= 48 && get16(ip + 42) == 53)
			return HOST_GATE_PASS;
		return HOST_GATE_DROP;
	case PROTO_ICMPV6:   /* neighbour discovery, echo to slirp */
		return HOST_GATE_PASS;
	default:
		return HOST_GATE_DROP;
	}
}

HostGateVerdict
host_gate_check(HostGate *g, const uint8_t *frame, size_t len)
{
	HostGateVerdict v;

	if (len < ETH_HLEN_)
		return HOST_GATE_DROP;
	switch (get16(frame + 12)) {
	case ETHERTYPE_IPV4:
		v = gate_ipv4(g, frame + ETH_HLEN_, len - ETH_HLEN_);
		break;
	case ETHERTYPE_IPV6:
		v = gate_ipv6(g, frame + ETH_HLEN_, len - ETH_HLEN_);
		break;
	default:             /* ARP and the rest: slirp's business */
		return HOST_GATE_PASS;
	}
	if (v != HOST_GATE_PASS)
		g->refused++;
	return v;
}

/* ---- RST for refused connects ------------------------------------------ */

static guint32
csum_add(guint32 sum, const uint8_t *p, size_t len)
{
	for (; len > 1; p += 2, len -= 2)
		sum += get16(p);
	if (len)
		sum += (guint32)p[0] << 8;
	return sum;
}

static guint16
csum_fold(guint32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (guint16)~sum;
}

/* Fill the 20-byte RST|ACK in OUT answering segment IN of SEGLEN bytes. */
static void
rst_fill_tcp(const uint8_t *in, size_t seglen, uint8_t *out)
{
	guint32 seq = (guint32)get16(in + 4) << 16 | get16(in + 6);
	guint32 ack = (guint32)get16(in + 8) << 16 | get16(in + 10);
	size_t doff = (size_t)(in[12] >> 4) * 4;
	guint32 answer;
	uint8_t flags = in[13];

	memset(out, 0, 20);
	memcpy(out, in + 2, 2);      /* sport = their dport */
	memcpy(out + 2, in, 2);      /* dport = their sport */
	/* RFC 793 reset generation: if the segment had an ACK, RST takes its
	 * ack number as sequence; otherwise seq 0 with ACK of everything. */
	if (flags & TCP_ACK) {
		put16(out + 4, (guint16)(ack >> 16));
		put16(out + 6, (guint16)ack);
		out[13] = TCP_RST;
	} else {
		answer = seq + (guint32)(seglen > doff ? seglen - doff : 0) +
			 ((flags & TCP_SYN) ? 1 : 0) + ((flags & TCP_FIN) ? 1 : 0);
		put16(out + 8, (guint16)(answer >> 16));
		put16(out + 10, (guint16)answer);
		out[13] = TCP_RST | TCP_ACK;
	}
	out[12] = 5 << 4;
}

size_t
host_gate_build_rst(const uint8_t *frame, size_t len, uint8_t *out, size_t out_size)
{
	const uint8_t *ip = frame + ETH_HLEN_;
	size_t iplen = len - ETH_HLEN_;
	guint32 sum;

	if (len < ETH_HLEN_ || out_size < ETH_HLEN_ + 40 + 20)
		return 0;
	memcpy(out, frame + 6, 6);          /* to the guest's MAC */
	memcpy(out + 6, frame, 6);          /* from the MAC it sent to */
	memcpy(out + 12, frame + 12, 2);
	switch (get16(frame + 12)) {
	case ETHERTYPE_IPV4: {
		size_t ihl, seglen;
		uint8_t *oip = out + ETH_HLEN_, *otcp = oip + 20, pseudo[12];

		if (iplen < 20 || ip[9] != PROTO_TCP)
			return 0;
		ihl = (size_t)(ip[0] & 0x0f) * 4;
		seglen = MIN((size_t)get16(ip + 2), iplen);
		if (ihl < 20 || seglen < ihl + 20 || (ip[ihl + 13] & TCP_RST))
			return 0;
		memset(oip, 0, 20);
		oip[0] = 0x45;
		put16(oip + 2, 40);
		put16(oip + 6, 0x4000);     /* DF */
		oip[8] = 64;
		oip[9] = PROTO_TCP;
		memcpy(oip + 12, ip + 16, 4);
		memcpy(oip + 16, ip + 12, 4);
		put16(oip + 10, csum_fold(csum_add(0, oip, 20)));
		rst_fill_tcp(ip + ihl, seglen - ihl, otcp);
		memcpy(pseudo, oip + 12, 8);
		pseudo[8] = 0;
		pseudo[9] = PROTO_TCP;
		put16(pseudo + 10, 20);
		sum = csum_add(csum_add(0, pseudo, 12), otcp, 20);
		put16(otcp + 16, csum_fold(sum));
		return ETH_HLEN_ + 40;
	}
	case ETHERTYPE_IPV6: {
		size_t seglen;
		uint8_t *oip = out + ETH_HLEN_, *otcp = oip + 40, pseudo[40];

		if (iplen < 60 || ip[6] != PROTO_TCP)
			return 0;
		seglen = MIN((size_t)get16(ip + 4), iplen - 40);
		if (seglen < 20 || (ip[40 + 13] & TCP_RST))
			return 0;
		memset(oip, 0, 40);
		oip[0] = 0x60;
		put16(oip + 4, 20);
		oip[6] = PROTO_TCP;
		oip[7] = 64;
		memcpy(oip + 8, ip + 24, 16);
		memcpy(oip + 24, ip + 8, 16);
		rst_fill_tcp(ip + 40, seglen, otcp);
		memcpy(pseudo, oip + 8, 32);
		memset(pseudo + 32, 0, 8);
		pseudo[35] = 20;
		pseudo[39] = PROTO_TCP;
		sum = csum_add(csum_add(0, pseudo, 40), otcp, 20);
		put16(otcp + 16, csum_fold(sum));
		return ETH_HLEN_ + 60;
	}
	default:
		return 0;
	}
}
