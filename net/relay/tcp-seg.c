/* SPDX-License-Identifier: MIT
 *
 * tcp-seg.c — TCP segments from and to the guest (what each function
 * promises: tcp-seg.h).
 */
#include "net/relay/tcp-seg.h"
#include "net/vnet.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#define TCPOPT_EOL 0
#define TCPOPT_NOP 1
#define TCPOPT_MSS 2
#define TCPOPT_WSCALE 3
#define TCP_WSCALE_MAX 14

/* Read the options of a SYN: MSS and window scale; the rest (SACK-permitted,
 * timestamps) is not taken up, which a SYN|ACK without them tells the
 * guest (RFC 7323 §2.2, RFC 2018 §2).  FALSE if an option runs past END. */
static gboolean
parse_syn_options(const uint8_t *p, const uint8_t *end, TcpSeg *out)
{
	while (p < end) {
		guint8 kind = p[0];
		guint8 olen;

		if (kind == TCPOPT_EOL)
			break;
		if (kind == TCPOPT_NOP) {
			p++;
			continue;
		}
		if (end - p < 2)
			return FALSE;
		olen = p[1];
		if (olen < 2 || olen > end - p)
			return FALSE;
		if (kind == TCPOPT_MSS && olen == 4)
			out->mss = frame_rd16(p + 2);
		else if (kind == TCPOPT_WSCALE && olen == 3) {
			out->has_wscale = TRUE;
			out->wscale = MIN(p[2], TCP_WSCALE_MAX);
		}
		p += olen;
	}
	return TRUE;
}

gboolean
tcp_seg_parse(const uint8_t *f, size_t len, const FrameInfo *fi, TcpSeg *out)
{
	size_t l4len, doff;
	const uint8_t *th;

	memset(out, 0, sizeof *out);
	if (len < FRAME_ETH_HLEN || (fi->family != AF_INET && fi->family != AF_INET6) ||
	    fi->l4proto != IPPROTO_TCP || fi->fragment || fi->ext_hdr || !fi->l4 ||
	    fi->ip_len > fi->l3_caplen || fi->ip_len < fi->l3_hlen)
		return FALSE;
	th = fi->l4;
	l4len = fi->ip_len - fi->l3_hlen;
	if (l4len < FRAME_TCP_HLEN)
		return FALSE;
	doff = (size_t)(th[12] >> 4) * 4;
	if (doff < FRAME_TCP_HLEN || doff > l4len)
		return FALSE;

	out->family = fi->family;
	out->eth_dst = f;
	out->eth_src = f + 6;
	out->saddr = fi->saddr;
	out->daddr = fi->daddr;
	out->sport = frame_rd16(th);
	out->dport = frame_rd16(th + 2);
	out->seq = (guint32)frame_rd16(th + 4) << 16 | frame_rd16(th + 6);
	out->ack = (guint32)frame_rd16(th + 8) << 16 | frame_rd16(th + 10);
	out->flags = th[13] & (TCP_SEG_FIN | TCP_SEG_SYN | TCP_SEG_RST | TCP_SEG_PSH | TCP_SEG_ACK);
	out->window = frame_rd16(th + 14);
	if ((out->flags & TCP_SEG_SYN) &&
	    !parse_syn_options(th + FRAME_TCP_HLEN, th + doff, out))
		return FALSE;
	out->payload = th + doff;
	out->payload_len = l4len - doff;
	return TRUE;
}

static void
wr32(uint8_t *p, guint32 v)
{
	frame_wr16(p, (guint16)(v >> 16));
	frame_wr16(p + 2, (guint16)v);
}

size_t
tcp_seg_build(uint8_t *hdr, const TcpSegAddrs *a, const TcpSegOut *o, const uint8_t *payload,
	      size_t payload_len)
{
	gboolean v6 = a->family == AF_INET6;
	size_t iphl = v6 ? FRAME_IPV6_HLEN : FRAME_IPV4_HLEN;
	size_t optlen = 0;
	size_t tcphl, l4len;
	uint8_t *ip = hdr + FRAME_ETH_HLEN;
	uint8_t *th = ip + iphl;
	guint32 sum;

	if (o->flags & TCP_SEG_SYN) {
		if (o->mss)
			optlen += 4;
		if (o->wscale >= 0)
			optlen += 4;      /* NOP + 3-byte option, keeps 4-byte alignment */
	}
	tcphl = FRAME_TCP_HLEN + optlen;
	l4len = tcphl + payload_len;
	if (l4len > (v6 ? 65535u : 65535u - FRAME_IPV4_HLEN))
		return 0;

	/* Ethernet: from the gateway to the guest */
	memcpy(hdr, a->guest_mac, 6);
	memcpy(hdr + 6, a->gw_mac, 6);
	frame_wr16(hdr + 12, v6 ? FRAME_ETHERTYPE_IPV6 : FRAME_ETHERTYPE_IPV4);

	if (v6) {
		memset(ip, 0, FRAME_IPV6_HLEN);
		ip[0] = 0x60;
		frame_wr16(ip + 4, (guint16)l4len);
		ip[6] = IPPROTO_TCP;
		ip[7] = 64;
		memcpy(ip + 8, a->peer_addr, 16);
		memcpy(ip + 24, a->guest_addr, 16);
	} else {
		memset(ip, 0, FRAME_IPV4_HLEN);
		ip[0] = 0x45;
		frame_wr16(ip + 2, (guint16)(FRAME_IPV4_HLEN + l4len));
		frame_wr16(ip + 4, o->ip_id);
		frame_wr16(ip + 6, 0x4000);      /* DF */
		ip[8] = 64;
		ip[9] = IPPROTO_TCP;
		memcpy(ip + 12, a->peer_addr, 4);
		memcpy(ip + 16, a->guest_addr, 4);
		frame_wr16(ip + 10, frame_csum_fold(frame_csum_add(0, ip, FRAME_IPV4_HLEN)));
	}

	frame_wr16(th, a->peer_port);
	frame_wr16(th + 2, a->guest_port);
	wr32(th + 4, o->seq);
	wr32(th + 8, o->ack);
	th[12] = (uint8_t)((tcphl / 4) << 4);
	th[13] = o->flags;
	frame_wr16(th + 14, o->window);
	frame_wr16(th + 16, 0);                 /* checksum, below */
	frame_wr16(th + 18, 0);                 /* urgent pointer */
	if (o->flags & TCP_SEG_SYN) {
		uint8_t *opt = th + FRAME_TCP_HLEN;

		if (o->mss) {
			opt[0] = TCPOPT_MSS;
			opt[1] = 4;
			frame_wr16(opt + 2, o->mss);
			opt += 4;
		}
		if (o->wscale >= 0) {
			opt[0] = TCPOPT_NOP;
			opt[1] = TCPOPT_WSCALE;
			opt[2] = 3;
			opt[3] = (uint8_t)MIN(o->wscale, TCP_WSCALE_MAX);
		}
	}
	sum = frame_csum_pseudo(a->family, a->peer_addr, a->guest_addr, IPPROTO_TCP, l4len);
	if (o->csum_partial) {
		/* what Linux puts there for CHECKSUM_PARTIAL: the folded,
		 * uncomplemented pseudo-header sum (tcp_v4_send_check) */
		frame_wr16(th + 16, (guint16)~frame_csum_fold(sum));
		return FRAME_ETH_HLEN + iphl + tcphl;
	}
	sum = frame_csum_add(sum, th, tcphl);
	if (payload_len)
		sum = frame_csum_add(sum, payload, payload_len);
	frame_wr16(th + 16, frame_csum_fold(sum));
	return FRAME_ETH_HLEN + iphl + tcphl;
}

static const uint8_t gateway4[4] = VNET_GATEWAY4_BYTES;
static const uint8_t loopback4[4] = { 127, 0, 0, 1 };
static const uint8_t slirp_net4[] = VNET_NET4_BYTES;
static const uint8_t slirp_prefix6[] = VNET_NET6_BYTES;
static const uint8_t resolver6[16] = VNET_RESOLVER6_BYTES;

TcpSegPeer
tcp_seg_map_peer(const TcpSeg *s, struct sockaddr_storage *sa, socklen_t *salen)
{
	memset(sa, 0, sizeof *sa);
	if (s->family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)sa;
		const uint8_t *d = s->daddr;

		in->sin_family = AF_INET;
		in->sin_port = htons(s->dport);
		*salen = sizeof *in;
		if (memcmp(d, gateway4, 4) == 0) {
			memcpy(&in->sin_addr, loopback4, 4);
			return TCP_SEG_PEER_RELAY;
		}
		if (memcmp(d, slirp_net4, sizeof slirp_net4) == 0)
			return TCP_SEG_PEER_SLIRP;
		if (d[0] == 0 || d[0] == 127 || d[0] >= 224)
			return TCP_SEG_PEER_REFUSE;
		memcpy(&in->sin_addr, d, 4);
		return TCP_SEG_PEER_RELAY;
	}
	if (s->family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)sa;
		struct in6_addr d;

		memcpy(&d, s->daddr, 16);
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(s->dport);
		*salen = sizeof *in6;
		if (memcmp(s->daddr, resolver6, 16) == 0 || IN6_IS_ADDR_LINKLOCAL(&d))
			return TCP_SEG_PEER_SLIRP;
		if (memcmp(s->daddr, slirp_prefix6, sizeof slirp_prefix6) == 0) {
			in6->sin6_addr = in6addr_loopback;
			return TCP_SEG_PEER_RELAY;
		}
		if (IN6_IS_ADDR_MULTICAST(&d) || IN6_IS_ADDR_LOOPBACK(&d) ||
		    IN6_IS_ADDR_UNSPECIFIED(&d) || IN6_IS_ADDR_V4MAPPED(&d) ||
		    IN6_IS_ADDR_V4COMPAT(&d))
			return TCP_SEG_PEER_REFUSE;
		in6->sin6_addr = d;
		return TCP_SEG_PEER_RELAY;
	}
	return TCP_SEG_PEER_SLIRP;
}
