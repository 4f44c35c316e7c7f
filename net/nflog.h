/* SPDX-License-Identifier: MIT
 *
 * nflog.h — blocked packets from the sandbox's ruleset, via nfnetlink_log.
 *
 * The ruleset's deny chain says "log group SBX_NFLOG_GROUP" before its
 * reject rules (net/nft/nft.c).  Kernel logging to the ring buffer is muted
 * outside the init netns (nf_log_all_netns=0), but an nfnetlink_log socket
 * bound to that group *inside* the netns receives each blocked packet
 * (doc/PLATFORM.md §6).  The set-up child opens and binds the socket while
 * it is namespace-root (binding needs CAP_NET_ADMIN over the netns); the
 * launcher then only reads it — no capability needed for that.
 */
#pragma once

#include <glib.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

/* NFLOG group the ruleset's "log group" statement (before the reject
 * rules) sends blocked packets to. */
#define SBX_NFLOG_GROUP 7

/* One blocked packet. */
typedef struct {
	int family;            /* AF_INET / AF_INET6 */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} daddr;
	guint8 l4proto;        /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP(V6), … */
	guint16 dport;         /* TCP/UDP destination port, host order; 0 otherwise */
} NflogEvent;

/* Child side: open a NETLINK_NETFILTER socket (non-blocking, CLOEXEC),
 * bind it to nfnetlink_log GROUP for IPv4 and IPv6 with copy mode
 * "packet" (headers only) and no batching.  Returns the fd or -1 + error. */
int nflog_open(guint16 group, GError **error);

/* Parse one netlink datagram BUF (LEN bytes) read from that socket: calls
 * FUNC for every NFULNL_MSG_PACKET whose payload has a parsable IP header.
 * Returns the number of events.  Pure: unit-tested and fuzzed. */
typedef void (*NflogEventFunc)(const NflogEvent *ev, gpointer user_data);
guint nflog_parse(const guint8 *buf, size_t len, NflogEventFunc func, gpointer user_data);

/* Parse an IP packet (network header first) into EV.  FALSE when too short
 * or not IPv4/IPv6.  Extension headers of IPv6 are walked (bounded). */
gboolean nflog_parse_ip(const guint8 *pkt, size_t len, NflogEvent *ev);

/* Launcher side: a GLib watch on SOCK (takes ownership) in CTX that reads
 * every datagram until EAGAIN and calls FUNC per event.  Lost messages
 * (ENOBUFS: the socket buffer overflowed) are counted, not fatal. */
typedef struct NflogReader NflogReader;
NflogReader *nflog_reader_new(int sock, GMainContext *ctx, NflogEventFunc func,
			      gpointer user_data);
/* Read what is queued now (also used at exit, so the last denials before
 * the payload ended are not lost). */
void nflog_reader_drain(NflogReader *r);
/* Number of kernel messages lost to ENOBUFS. */
guint64 nflog_reader_lost(const NflogReader *r);
void nflog_reader_free(NflogReader *r);
