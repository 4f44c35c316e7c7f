/* SPDX-License-Identifier: MIT
 *
 * frame.h — read the headers of one Ethernet frame from the guest, and the
 * Internet checksum for the frames the launcher builds itself.
 *
 * Pure code, no allocation, no syscalls: it runs on every
 * frame the guest sends (unit test: tests/unit/test-frame.c).  Its users are
 * the per-frame egress check (policy-frame.c), the host-port gate and its
 * RSTs (hostgate.c), the built-in resolver (dns-responder.c) and net.c,
 * which announces the guest to a libslirp loaded late.
 *
 * The parser reads, never trusts: every field it reports lies inside the
 * LEN bytes it was given.  It decides nothing; each caller keeps its own
 * policy for what a malformed or unusual frame means (drop it, pass it on
 * to slirp, consume it), which is why it reports the oddities (fragments,
 * IPv6 extension headers, a bad IPv4 header length) rather than refusing
 * them.
 */
#pragma once

#include <glib.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#define FRAME_ETH_HLEN 14
#define FRAME_ETHERTYPE_IPV4 0x0800
#define FRAME_ETHERTYPE_ARP 0x0806
#define FRAME_ETHERTYPE_IPV6 0x86dd
#define FRAME_IPV4_HLEN 20        /* without options */
#define FRAME_IPV6_HLEN 40
#define FRAME_TCP_HLEN 20         /* without options */
#define FRAME_UDP_HLEN 8

/* What frame_parse() found.  Pointers point into the caller's frame. */
typedef struct {
	guint16 ethertype;
	/* AF_INET or AF_INET6 for an IP frame; AF_UNSPEC for any other
	 * ethertype (ARP, …), in which case nothing below is filled. */
	int family;

	const uint8_t *l3;        /* the IP header */
	size_t l3_caplen;         /* bytes of the frame from l3 on */
	/* IP header length: IHL * 4 for IPv4, 40 for IPv6 (extension headers
	 * are not walked, see ext_hdr).  0 when the IPv4 IHL is below 5 or
	 * runs past the frame: then l4 is NULL and there are no ports. */
	size_t l3_hlen;
	/* Length the IP header claims for the packet (IPv4 total length,
	 * 40 + IPv6 payload length).  Not checked against l3_caplen: a
	 * frame may carry Ethernet padding, or be cut short. */
	size_t ip_len;
	const uint8_t *saddr;     /* 4 or 16 bytes, network order */
	const uint8_t *daddr;
	guint addr_len;           /* 4 or 16 */
	/* IPv4 protocol or IPv6 next header (the first one: with extension
	 * headers this is the extension header's number, not TCP/UDP). */
	guint8 l4proto;
	/* IPv4: MF set or a non-zero offset.  IPv6: the next header is a
	 * Fragment header. */
	gboolean fragment;
	/* IPv6 next header is Hop-by-Hop (0), Routing (43), Fragment (44) or
	 * Destination Options (60): the transport header, if any, is further
	 * on and none of the callers looks for it. */
	gboolean ext_hdr;

	/* The transport header: l3 + l3_hlen, with l4_caplen bytes of the
	 * frame from there on.  NULL for an IPv4 fragment other than the
	 * first (only the first carries the ports) and a bad IPv4 IHL. */
	const uint8_t *l4;
	size_t l4_caplen;
	/* TCP or UDP with at least 4 bytes of its header present. */
	gboolean has_ports;
	guint16 sport;
	guint16 dport;
} FrameInfo;

/* Parse the Ethernet frame F of LEN bytes into *OUT.  FALSE when it is
 * shorter than an Ethernet header (then out->ethertype is 0), or when its
 * ethertype is IPv4 / IPv6 and the fixed IP header is cut short or carries
 * another version number.  TRUE otherwise, also for non-IP ethertypes
 * (family AF_UNSPEC); read l3_hlen, fragment, ext_hdr before trusting l4. */
gboolean frame_parse(const uint8_t *f, size_t len, FrameInfo *out);

/* The flags byte of the TCP header FI describes (FIN 0x01, SYN 0x02,
 * RST 0x04, PSH 0x08, ACK 0x10), or -1 when FI holds no TCP header with
 * that byte (another protocol, IPv6 extension headers, a later fragment,
 * cut short). */
static inline int
frame_tcp_flags(const FrameInfo *fi)
{
	return fi->l4 && fi->l4proto == IPPROTO_TCP && fi->l4_caplen > 13 ? fi->l4[13] : -1;
}

/* Big-endian 16-bit field at P. */
static inline guint16
frame_rd16(const uint8_t *p)
{
	return (guint16)(p[0] << 8 | p[1]);
}

/* Store V at P, big-endian. */
static inline void
frame_wr16(uint8_t *p, guint16 v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Internet checksum (RFC 1071), in two steps so several pieces (pseudo-
 * header, header, payload) can be summed: frame_csum_add() adds LEN bytes
 * at P as big-endian 16-bit words (an odd last byte padded with zero) to
 * the running SUM; frame_csum_fold() folds the carries and complements,
 * giving the value to store in the checksum field (which must be zero
 * while summing).  The sum of an even-length piece does not overflow
 * 32 bits below 128 KiB. */
guint32 frame_csum_add(guint32 sum, const uint8_t *p, size_t len);
guint16 frame_csum_fold(guint32 sum);

/* Running sum of the TCP/UDP pseudo-header for FAMILY (AF_INET: RFC 793,
 * AF_INET6: RFC 8200 §8.1): source and destination addresses SADDR, DADDR
 * (4 or 16 bytes), protocol PROTO and the transport length L4LEN (header +
 * payload).  Continue with frame_csum_add() over the transport header and
 * payload, then frame_csum_fold(). */
guint32 frame_csum_pseudo(int family, const uint8_t *saddr, const uint8_t *daddr, guint8 proto,
			  size_t l4len);

/* Frames in which the guest announces itself: a gratuitous ARP request
 * (sender = target = IP4) and an unsolicited neighbour advertisement of
 * IP6 to all nodes (hop limit 255, override flag, target link-layer
 * address option), both from MAC.  libslirp learns a guest's MAC from
 * such frames; it is loaded after the guest's first packets, which it
 * never saw (net.c).  Write into OUT (FRAME_ANNOUNCE_MAX bytes at least);
 * return the length. */
#define FRAME_ANNOUNCE_MAX 86
size_t frame_build_arp_announce(const uint8_t mac[6], const uint8_t ip4[4], uint8_t *out);
size_t frame_build_na_announce(const uint8_t mac[6], const uint8_t ip6[16], uint8_t *out);
