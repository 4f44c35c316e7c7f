/* SPDX-License-Identifier: MIT
 *
 * frame.c — Ethernet/IP/TCP/UDP header parsing and the Internet checksum
 * (what each function promises: frame.h).
 */
#include "net/frame.h"

#include <string.h>
#include <sys/socket.h>

/* IPv6 extension headers that may sit between the fixed header and the
 * transport header of a guest's frame (RFC 8200 §4.1). */
#define IPV6_NH_HOPOPTS 0
#define IPV6_NH_ROUTING 43
#define IPV6_NH_FRAGMENT 44
#define IPV6_NH_DSTOPTS 60

#define IPV4_MF 0x2000
#define IPV4_OFFSET_MASK 0x1fff

/* Fill the IPv4 fields of OUT from IP (CAPLEN bytes of frame). */
static gboolean
parse_ipv4(const uint8_t *ip, size_t caplen, FrameInfo *out)
{
	size_t ihl;
	guint16 frag;

	if (caplen < FRAME_IPV4_HLEN || (ip[0] >> 4) != 4)
		return FALSE;
	out->family = AF_INET;
	out->ip_len = frame_rd16(ip + 2);
	out->saddr = ip + 12;
	out->daddr = ip + 16;
	out->addr_len = 4;
	out->l4proto = ip[9];
	frag = frame_rd16(ip + 6);
	out->fragment = (frag & (IPV4_MF | IPV4_OFFSET_MASK)) != 0;
	ihl = (size_t)(ip[0] & 0x0f) * 4;
	/* The addresses above are in the fixed 20 bytes and stay usable; a
	 * header length that cannot be right only hides the transport. */
	if (ihl < FRAME_IPV4_HLEN || ihl > caplen)
		return TRUE;
	out->l3_hlen = ihl;
	if ((frag & IPV4_OFFSET_MASK) == 0) {
		out->l4 = ip + ihl;
		out->l4_caplen = caplen - ihl;
	}
	return TRUE;
}

static gboolean
parse_ipv6(const uint8_t *ip, size_t caplen, FrameInfo *out)
{
	guint8 nh;

	if (caplen < FRAME_IPV6_HLEN || (ip[0] >> 4) != 6)
		return FALSE;
	nh = ip[6];
	out->family = AF_INET6;
	out->ip_len = FRAME_IPV6_HLEN + (size_t)frame_rd16(ip + 4);
	out->saddr = ip + 8;
	out->daddr = ip + 24;
	out->addr_len = 16;
	out->l4proto = nh;
	out->fragment = nh == IPV6_NH_FRAGMENT;
	out->ext_hdr = nh == IPV6_NH_HOPOPTS || nh == IPV6_NH_ROUTING ||
		       nh == IPV6_NH_FRAGMENT || nh == IPV6_NH_DSTOPTS;
	out->l3_hlen = FRAME_IPV6_HLEN;
	out->l4 = ip + FRAME_IPV6_HLEN;
	out->l4_caplen = caplen - FRAME_IPV6_HLEN;
	return TRUE;
}

gboolean
frame_parse(const uint8_t *f, size_t len, FrameInfo *out)
{
	gboolean ok;

	memset(out, 0, sizeof(*out));
	if (len < FRAME_ETH_HLEN)
		return FALSE;
	out->ethertype = frame_rd16(f + 12);
	out->family = AF_UNSPEC;
	out->l3 = f + FRAME_ETH_HLEN;
	out->l3_caplen = len - FRAME_ETH_HLEN;
	switch (out->ethertype) {
	case FRAME_ETHERTYPE_IPV4:
		ok = parse_ipv4(out->l3, out->l3_caplen, out);
		break;
	case FRAME_ETHERTYPE_IPV6:
		ok = parse_ipv6(out->l3, out->l3_caplen, out);
		break;
	default:
		return TRUE;
	}
	if (!ok)
		return FALSE;
	if (out->l4 && (out->l4proto == IPPROTO_TCP || out->l4proto == IPPROTO_UDP) &&
	    out->l4_caplen >= 4) {
		out->has_ports = TRUE;
		out->sport = frame_rd16(out->l4);
		out->dport = frame_rd16(out->l4 + 2);
	}
	return TRUE;
}

guint32
frame_csum_add(guint32 sum, const uint8_t *p, size_t len)
{
	/* The one's complement sum does not depend on byte order except for a
	 * final swap (RFC 1071 §2(B)), so sum native 32-bit words into a
	 * 64-bit accumulator — eight bytes per step instead of two: the TCP
	 * relay checksums up to 64 KiB per frame. */
	uint64_t acc = 0;
	uint32_t w32;
	uint16_t w16;
	guint16 v;

	for (; len >= 8; p += 8, len -= 8) {
		uint64_t w;

		memcpy(&w, p, 8);
		acc += (w & 0xffffffffu) + (w >> 32);
	}
	if (len >= 4) {
		memcpy(&w32, p, 4);
		acc += w32;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		memcpy(&w16, p, 2);
		acc += w16;
		p += 2;
		len -= 2;
	}
	if (len) {
		/* The odd last byte is the high half of a big-endian word. */
		w16 = 0;
		memcpy(&w16, p, 1);
		acc += w16;
	}
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	v = (guint16)acc;
	return sum + GUINT16_FROM_BE(v);
}

guint16
frame_csum_fold(guint32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (guint16)~sum;
}

guint32
frame_csum_pseudo(int family, const uint8_t *saddr, const uint8_t *daddr, guint8 proto,
		  size_t l4len)
{
	size_t alen = family == AF_INET6 ? 16 : 4;
	guint32 sum = frame_csum_add(0, saddr, alen);

	/* The pseudo-header's zero bytes add nothing.  Its length field is
	 * 16 bits for IPv4 and 32 for IPv6; adding the length whole rather
	 * than as two 16-bit words gives the same folded result (2^16 ≡ 1
	 * in one's complement arithmetic). */
	sum = frame_csum_add(sum, daddr, alen);
	return sum + proto + (guint32)l4len;
}

size_t
frame_build_arp_announce(const uint8_t mac[6], const uint8_t ip4[4], uint8_t *out)
{
	uint8_t *arp = out + FRAME_ETH_HLEN;

	memset(out, 0xff, 6);                       /* broadcast */
	memcpy(out + 6, mac, 6);
	frame_wr16(out + 12, FRAME_ETHERTYPE_ARP);
	frame_wr16(arp, 1);                         /* Ethernet */
	frame_wr16(arp + 2, FRAME_ETHERTYPE_IPV4);
	arp[4] = 6;
	arp[5] = 4;
	frame_wr16(arp + 6, 1);                     /* request */
	memcpy(arp + 8, mac, 6);                    /* sender */
	memcpy(arp + 14, ip4, 4);
	memset(arp + 18, 0, 6);                     /* target: the same IP */
	memcpy(arp + 24, ip4, 4);
	return FRAME_ETH_HLEN + 28;
}

size_t
frame_build_na_announce(const uint8_t mac[6], const uint8_t ip6[16], uint8_t *out)
{
	static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 1 };
	static const uint8_t all_nodes_mac[6] = { 0x33, 0x33, 0, 0, 0, 1 };
	uint8_t *ip = out + FRAME_ETH_HLEN, *icmp = ip + FRAME_IPV6_HLEN;
	const size_t icmp_len = 24 + 8;             /* NA + target link-layer option */

	memcpy(out, all_nodes_mac, 6);
	memcpy(out + 6, mac, 6);
	frame_wr16(out + 12, FRAME_ETHERTYPE_IPV6);
	memset(ip, 0, FRAME_IPV6_HLEN);
	ip[0] = 0x60;
	frame_wr16(ip + 4, (guint16)icmp_len);
	ip[6] = IPPROTO_ICMPV6;
	ip[7] = 255;                                /* hop limit: on-link only */
	memcpy(ip + 8, ip6, 16);
	memcpy(ip + 24, all_nodes, 16);
	memset(icmp, 0, icmp_len);
	icmp[0] = 136;                              /* neighbour advertisement */
	icmp[4] = 0x20;                             /* O; neither R nor S */
	memcpy(icmp + 8, ip6, 16);                  /* target */
	icmp[24] = 2;                               /* target link-layer address */
	icmp[25] = 1;                               /* 8 bytes */
	memcpy(icmp + 26, mac, 6);
	frame_wr16(icmp + 2, frame_csum_fold(frame_csum_add(
		frame_csum_pseudo(AF_INET6, ip6, all_nodes, IPPROTO_ICMPV6, icmp_len), icmp,
		icmp_len)));
	return FRAME_ETH_HLEN + FRAME_IPV6_HLEN + icmp_len;
}
