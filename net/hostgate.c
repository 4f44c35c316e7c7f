/* SPDX-License-Identifier: MIT
 *
 * hostgate.c — the per-port gate in front of slirp's host-loopback mapping
 * (why it exists: hostgate.h).
 */
#include "net/hostgate.h"
#include "net/frame.h"
#include "net/vnet.h"

#include <string.h>
#include <sys/socket.h>

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

/* slirp's virtual addresses (net.c configures slirp with the same). */
static const uint8_t gate_vnet4[] = VNET_NET4_BYTES;
static const uint8_t gate_dns4[4] = VNET_RESOLVER4_BYTES;
static const uint8_t gate_host4[4] = VNET_GATEWAY4_BYTES;
static const uint8_t gate_prefix6[] = VNET_NET6_BYTES;
static const uint8_t gate_dns6[16] = VNET_RESOLVER6_BYTES;
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

static gboolean
gate_port_open(const HostGate *g, guint16 port)
{
	return (g->open[port / 8] >> (port % 8)) & 1;
}

/* TCP or UDP to a host-mapped address, either family.  TCP: only a
 * connection-opening segment can make slirp connect to the host, so only
 * those are checked against the list.  UDP: DNS to the resolver address;
 * nothing else on the host side.  Any other protocol is dropped. */
static HostGateVerdict
gate_transport(const HostGate *g, const FrameInfo *fi, gboolean to_resolver)
{
	guint8 flags;

	switch (fi->l4proto) {
	case IPPROTO_TCP:
		if (fi->l4_caplen < FRAME_TCP_HLEN)
			return HOST_GATE_DROP;
		flags = fi->l4[13];
		if (to_resolver)   /* slirp itself forwards only port 53 there */
			return fi->dport == 53 ? HOST_GATE_PASS : HOST_GATE_REJECT;
		if ((flags & TCP_SYN) && !(flags & TCP_ACK))
			return gate_port_open(g, fi->dport) ? HOST_GATE_PASS : HOST_GATE_REJECT;
		return HOST_GATE_PASS;
	case IPPROTO_UDP:
		if (to_resolver && fi->l4_caplen >= FRAME_UDP_HLEN && fi->dport == 53)
			return HOST_GATE_PASS;
		return HOST_GATE_DROP;
	default:
		return HOST_GATE_DROP;
	}
}

static HostGateVerdict
gate_ipv4(const HostGate *g, const FrameInfo *fi)
{
	const uint8_t *dst = fi->daddr;
	gboolean to_resolver, to_host;

	if (fi->l3_hlen == 0)
		return HOST_GATE_DROP;
	to_resolver = memcmp(dst, gate_dns4, 4) == 0;
	to_host = memcmp(dst, gate_vnet4, sizeof gate_vnet4) == 0 ||
		  (dst[0] == 255 && dst[1] == 255 && dst[2] == 255 && dst[3] == 255);
	if (!to_host)
		return HOST_GATE_PASS;
	/* Fragments could rewrite the ports after this check (overlapping
	 * fragments are reassembled by slirp).  TCP from a guest with MTU ≥
	 * 576 never needs them towards slirp. */
	if (fi->fragment)
		return HOST_GATE_DROP;
	/* slirp answers echo to its own addresses itself. */
	if (fi->l4proto == IPPROTO_ICMP)
		return to_resolver || memcmp(dst, gate_host4, 4) == 0 ? HOST_GATE_PASS
								       : HOST_GATE_DROP;
	return gate_transport(g, fi, to_resolver);
}

static HostGateVerdict
gate_ipv6(const HostGate *g, const FrameInfo *fi)
{
	const uint8_t *dst = fi->daddr;
	gboolean to_resolver, to_host;

	to_resolver = memcmp(dst, gate_dns6, 16) == 0;
	to_host = memcmp(dst, gate_prefix6, sizeof gate_prefix6) == 0 ||
		  memcmp(dst, gate_allnodes6, 16) == 0;
	if (!to_host)
		return HOST_GATE_PASS;
	if (fi->l4proto == IPPROTO_ICMPV6)   /* neighbour discovery, echo to slirp */
		return HOST_GATE_PASS;
	/* Only the upper-layer header right after the fixed header is
	 * accepted: extension headers (fragments included) could hide it,
	 * and gate_transport() drops their numbers. */
	return gate_transport(g, fi, to_resolver);
}

HostGateVerdict
host_gate_check(HostGate *g, const FrameInfo *fi)
{
	HostGateVerdict v;

	if (!fi)
		v = HOST_GATE_DROP;      /* a runt, or IP with a broken fixed header */
	else if (fi->family == AF_INET)
		v = gate_ipv4(g, fi);
	else if (fi->family == AF_INET6)
		v = gate_ipv6(g, fi);
	else
		return HOST_GATE_PASS;   /* ARP and the rest: slirp's business */
	if (v != HOST_GATE_PASS)
		g->refused++;
	return v;
}

/* ---- RST for refused connects ------------------------------------------ */

/* Fill the 20-byte RST|ACK in OUT answering segment IN of SEGLEN bytes. */
static void
rst_fill_tcp(const uint8_t *in, size_t seglen, uint8_t *out)
{
	guint32 seq = (guint32)frame_rd16(in + 4) << 16 | frame_rd16(in + 6);
	guint32 ack = (guint32)frame_rd16(in + 8) << 16 | frame_rd16(in + 10);
	size_t doff = (size_t)(in[12] >> 4) * 4;
	guint32 answer;
	uint8_t flags = in[13];

	memset(out, 0, 20);
	memcpy(out, in + 2, 2);      /* sport = their dport */
	memcpy(out + 2, in, 2);      /* dport = their sport */
	/* RFC 793 reset generation: if the segment had an ACK, RST takes its
	 * ack number as sequence; otherwise seq 0 with ACK of everything. */
	if (flags & TCP_ACK) {
		frame_wr16(out + 4, (guint16)(ack >> 16));
		frame_wr16(out + 6, (guint16)ack);
		out[13] = TCP_RST;
	} else {
		answer = seq + (guint32)(seglen > doff ? seglen - doff : 0) +
			 ((flags & TCP_SYN) ? 1 : 0) + ((flags & TCP_FIN) ? 1 : 0);
		frame_wr16(out + 8, (guint16)(answer >> 16));
		frame_wr16(out + 10, (guint16)answer);
		out[13] = TCP_RST | TCP_ACK;
	}
	out[12] = 5 << 4;
}

size_t
host_gate_build_rst(const uint8_t *frame, const FrameInfo *fi, uint8_t *out, size_t out_size)
{
	uint8_t *oip, *otcp;
	size_t seglen, ohlen;
	guint32 sum;

	if (!fi || out_size < FRAME_ETH_HLEN + FRAME_IPV6_HLEN + FRAME_TCP_HLEN)
		return 0;
	memcpy(out, frame + 6, 6);          /* to the guest's MAC */
	memcpy(out + 6, frame, 6);          /* from the MAC it sent to */
	memcpy(out + 12, frame + 12, 2);
	if (fi->family == AF_UNSPEC || !fi->l4 || fi->l4proto != IPPROTO_TCP)
		return 0;
	/* the segment as the IP header sizes it (Ethernet padding is not
	 * data), within the frame */
	seglen = MIN(fi->ip_len, fi->l3_caplen);
	if (seglen < fi->l3_hlen + FRAME_TCP_HLEN || (fi->l4[13] & TCP_RST))
		return 0;
	seglen -= fi->l3_hlen;
	oip = out + FRAME_ETH_HLEN;
	if (fi->family == AF_INET) {
		ohlen = FRAME_IPV4_HLEN;
		memset(oip, 0, ohlen);
		oip[0] = 0x45;
		frame_wr16(oip + 2, FRAME_IPV4_HLEN + FRAME_TCP_HLEN);
		frame_wr16(oip + 6, 0x4000);     /* DF */
		oip[8] = 64;
		oip[9] = IPPROTO_TCP;
		memcpy(oip + 12, fi->daddr, 4);
		memcpy(oip + 16, fi->saddr, 4);
		frame_wr16(oip + 10, frame_csum_fold(frame_csum_add(0, oip, ohlen)));
	} else {
		ohlen = FRAME_IPV6_HLEN;
		memset(oip, 0, ohlen);
		oip[0] = 0x60;
		frame_wr16(oip + 4, FRAME_TCP_HLEN);
		oip[6] = IPPROTO_TCP;
		oip[7] = 64;
		memcpy(oip + 8, fi->daddr, 16);
		memcpy(oip + 24, fi->saddr, 16);
	}
	otcp = oip + ohlen;
	rst_fill_tcp(fi->l4, seglen, otcp);
	sum = frame_csum_pseudo(fi->family, fi->daddr, fi->saddr, IPPROTO_TCP, FRAME_TCP_HLEN);
	frame_wr16(otcp + 16, frame_csum_fold(frame_csum_add(sum, otcp, FRAME_TCP_HLEN)));
	return FRAME_ETH_HLEN + ohlen + FRAME_TCP_HLEN;
}
