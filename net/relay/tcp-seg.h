/* SPDX-License-Identifier: MIT
 *
 * tcp-seg.h — read the TCP segments the guest sends and write the ones the
 * TCP relay (tcp-relay.h) answers with.
 *
 * Pure code, no allocation, no syscalls (unit test:
 * tests/unit/test-tcp-seg.c).  The parser reads, never trusts: a segment
 * whose header or options run past the frame is refused, and every pointer
 * it reports lies inside the frame it was given.
 */
#pragma once

#include "net/frame.h"

#include <glib.h>
#include <stdint.h>
#include <sys/socket.h>

#define TCP_SEG_FIN 0x01
#define TCP_SEG_SYN 0x02
#define TCP_SEG_RST 0x04
#define TCP_SEG_PSH 0x08
#define TCP_SEG_ACK 0x10

/* Room for the Ethernet, IP and TCP headers of one segment the relay
 * builds (IPv6, with the MSS and window-scale options of a SYN|ACK). */
#define TCP_SEG_HDR_MAX (FRAME_ETH_HLEN + FRAME_IPV6_HLEN + FRAME_TCP_HLEN + 8)

/* Sequence-space comparisons (RFC 793 §3.3, modulo 2^32). */
#define TCP_SEQ_LT(a, b) ((gint32)((guint32)(a) - (guint32)(b)) < 0)
#define TCP_SEQ_LE(a, b) ((gint32)((guint32)(a) - (guint32)(b)) <= 0)
#define TCP_SEQ_GT(a, b) TCP_SEQ_LT(b, a)
#define TCP_SEQ_GE(a, b) TCP_SEQ_LE(b, a)

/* One TCP segment of a guest frame, as tcp_seg_parse() found it. */
typedef struct {
	int family;                 /* AF_INET or AF_INET6 */
	const uint8_t *eth_src;     /* 6 bytes: the guest's MAC */
	const uint8_t *eth_dst;     /* 6 bytes: the gateway MAC it used */
	const uint8_t *saddr;       /* 4 or 16 bytes, network order */
	const uint8_t *daddr;
	guint16 sport, dport;
	guint32 seq, ack;
	guint8 flags;               /* TCP_SEG_* */
	guint16 window;             /* as sent, not scaled */
	/* options, read only on a SYN (RFC 7323 §2.2: elsewhere ignored) */
	guint16 mss;                /* 0 = none given */
	gboolean has_wscale;
	guint8 wscale;              /* capped at 14 (RFC 7323 §2.3) */
	const uint8_t *payload;
	size_t payload_len;
} TcpSeg;

/* Parse the TCP segment in the frame FI describes (from frame_parse() of
 * the same LEN bytes at F).  FALSE when it is not a whole, unfragmented TCP
 * segment: not TCP, a fragment, IPv6 extension headers, a data offset
 * below 20 or past the IP packet, an IP length past the frame, or options
 * that run past the header.  The TCP checksum is not verified: frames come
 * from the guest's kernel over tap0. */
gboolean tcp_seg_parse(const uint8_t *f, size_t len, const FrameInfo *fi, TcpSeg *out);

/* The addresses of one relayed connection, from the guest's side. */
typedef struct {
	int family;                 /* AF_INET or AF_INET6 */
	uint8_t guest_mac[6];
	uint8_t gw_mac[6];
	uint8_t guest_addr[16];     /* first 4 bytes used for AF_INET */
	uint8_t peer_addr[16];      /* the address the guest connected to */
	guint16 guest_port;
	guint16 peer_port;
} TcpSegAddrs;

/* What goes into the header of one segment to the guest. */
typedef struct {
	guint32 seq, ack;
	guint8 flags;               /* TCP_SEG_* */
	guint16 window;             /* already scaled */
	guint16 mss;                /* SYN only: MSS option, 0 = none */
	gint wscale;                /* SYN only: window-scale option, -1 = none */
	guint16 ip_id;              /* IPv4 identification */
	/* Leave the checksum to the guest's kernel (a GSO super-segment it
	 * will take as several, virtio-net NEEDS_CSUM): the checksum field
	 * gets only the pseudo-header's sum and the payload is not read. */
	gboolean csum_partial;
} TcpSegOut;

/* Write into HDR (TCP_SEG_HDR_MAX bytes) the Ethernet, IP and TCP headers
 * of a segment from the peer to the guest carrying PAYLOAD_LEN bytes at
 * PAYLOAD (NULL when 0), checksums included (see csum_partial).  Returns the header length;
 * the frame is those bytes followed by the payload.  0 when the segment
 * would not fit in one IP packet. */
size_t tcp_seg_build(uint8_t *hdr, const TcpSegAddrs *a, const TcpSegOut *o,
		     const uint8_t *payload, size_t payload_len);

/* The largest payload of one IP packet of FAMILY with a 20-byte TCP
 * header: IPv4's total length and IPv6's payload length are 16 bits. */
#define TCP_SEG_PAYLOAD_MAX4 (65535u - FRAME_IPV4_HLEN - FRAME_TCP_HLEN)
#define TCP_SEG_PAYLOAD_MAX6 (65535u - FRAME_TCP_HLEN)

typedef enum {
	TCP_SEG_PEER_RELAY,         /* connect a host socket to *SA */
	TCP_SEG_PEER_SLIRP,         /* one of slirp's own addresses: its business */
	TCP_SEG_PEER_REFUSE,        /* never a host socket's destination: RST */
} TcpSegPeer;

/* Where a guest SYN S goes.  The gateway (10.0.2.2; fd00::/64 but the
 * resolver fd00::3) maps onto the host's loopback as in slirp (hostgate.h)
 * and other addresses are used as they are: RELAY, with *SA / *SALEN set.
 * The rest of slirp's networks (10.0.2.0/24, IPv6 link-local) stay with
 * slirp as before the relay.  REFUSE for what a guest's kernel never sends
 * out of tap0 and a host socket must not be pointed at: loopback,
 * unspecified, multicast and broadcast addresses, and the IPv6 forms of
 * IPv4 addresses (::ffff:0:0/96, ::/96), which a host socket would turn
 * into IPv4 — e.g. into 127.0.0.1, past the host-port gate. */
TcpSegPeer tcp_seg_map_peer(const TcpSeg *s, struct sockaddr_storage *sa, socklen_t *salen);

/* Bytes of IP and TCP header (without options) in front of each segment's
 * payload for FAMILY: the difference between MTU and MSS. */
static inline size_t
tcp_seg_ip_overhead(int family)
{
	return (family == AF_INET6 ? FRAME_IPV6_HLEN : FRAME_IPV4_HLEN) + FRAME_TCP_HLEN;
}
