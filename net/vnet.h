/* SPDX-License-Identifier: MIT
 *
 * vnet.h — the sandbox's side of mini-tapbox's network: every address and
 * prefix, in one table (doc/ARCHITECTURE.md "Addresses").
 *
 * They are libslirp's defaults (10.0.2.0/24, fd00::/64, gateway .2,
 * nameserver .3), with the guest at .100 / ::100 as slirp4netns has it.
 * net.c configures libslirp and tap0 with them; the resolver, the host
 * gate, the frame filter, the ruleset and the TCP relay recognise frames
 * by them.  A change here changes all of them together — and what users
 * read in mini-tapbox(1) and libminisandbox(3) (10.0.2.2:PORT for the
 * host's loopback), which must change with it.
 *
 * Each address comes as text (for inet_pton, resolv.conf and messages) and
 * as bytes in network order (for comparisons with frame_parse() results
 * and nft keys); tests/unit/test-hostgate.c checks that the two agree.
 */
#pragma once

/* ---- IPv4: 10.0.2.0/24 ---- */

#define VNET_NET4_TEXT          "10.0.2.0"
#define VNET_NETMASK4_TEXT      "255.255.255.0"
#define VNET_NET4_PREFIX        24
/* The network's first VNET_NET4_PREFIX / 8 bytes. */
#define VNET_NET4_BYTES         { 10, 0, 2 }

/* The gateway: libslirp's own address (vhost); TCP to it is the host's
 * 127.0.0.1 (--allow-host-port). */
#define VNET_GATEWAY4_TEXT      "10.0.2.2"
#define VNET_GATEWAY4_BYTES     { 10, 0, 2, 2 }

/* The built-in resolver (libslirp's vnameserver; its forwarder is off). */
#define VNET_RESOLVER4_TEXT     "10.0.2.3"
#define VNET_RESOLVER4_BYTES    { 10, 0, 2, 3 }

/* libslirp's first DHCP lease; DHCP is off, but libslirp wants one. */
#define VNET_DHCP_START4_TEXT   "10.0.2.15"

/* The sandbox's own address on tap0 (static), VNET_NET4_PREFIX long. */
#define VNET_GUEST4_TEXT        "10.0.2.100"
#define VNET_GUEST4_BYTES       { 10, 0, 2, 100 }

/* Gateway and resolver as one pair, 10.0.2.2/31 (this mask): the ruleset
 * and the frame filter let nothing else reach either. */
#define VNET_PAIR4_MASK         { 0xff, 0xff, 0xff, 0xfe }

/* ---- IPv6: fd00::/64 ---- */

#define VNET_NET6_TEXT          "fd00::"
#define VNET_NET6_PREFIX        64
/* The prefix's VNET_NET6_PREFIX / 8 bytes.  libslirp maps every address
 * in it but the resolver onto the host's ::1. */
#define VNET_NET6_BYTES         { 0xfd, 0, 0, 0, 0, 0, 0, 0 }

#define VNET_GATEWAY6_TEXT      "fd00::2"
#define VNET_GATEWAY6_BYTES     { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 }

#define VNET_RESOLVER6_TEXT     "fd00::3"
#define VNET_RESOLVER6_BYTES    { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3 }

#define VNET_GUEST6_TEXT        "fd00::100"
#define VNET_GUEST6_BYTES       { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0 }

/* Gateway and resolver, fd00::2/127. */
#define VNET_PAIR6_MASK         { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, \
				  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe }

/* ---- link layer ---- */

/* The MAC addresses libslirp answers ARP and neighbour solicitations with
 * for its gateway and resolver: 52:55 and the IPv4 address (arp_input()),
 * 52:56 and the last four bytes of the IPv6 address (in6_compute_ethaddr()).
 * tap0 gets them as permanent neighbour entries (net_configure_tap()), so
 * the payload never asks, and libslirp need not be there to answer: it is
 * loaded only for the first frame that needs it (net.c). */
#define VNET_GATEWAY4_MAC       { 0x52, 0x55, 10, 0, 2, 2 }
#define VNET_RESOLVER4_MAC      { 0x52, 0x55, 10, 0, 2, 3 }
#define VNET_GATEWAY6_MAC       { 0x52, 0x56, 0, 0, 0, 2 }
#define VNET_RESOLVER6_MAC      { 0x52, 0x56, 0, 0, 0, 3 }
