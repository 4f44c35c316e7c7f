/* SPDX-License-Identifier: MIT
 *
 * netconf.h — interface configuration over rtnetlink (libmnl).
 *
 * pid 1 opens the NETLINK_ROUTE socket inside the sandbox's network
 * namespace and hands it over; the launcher, owner of the sandbox's user
 * namespace and so CAP_NET_ADMIN there, configures tap0 and lo through it
 * while pid 1 builds the file system.  Never shells out to ip(8): every
 * change is
 * one rtnetlink request with NLM_F_ACK, and the kernel's answer (errno) is
 * reported with the operation and the object.
 */
#pragma once

#include "common/config.h"
#include <netinet/in.h>

typedef struct NetConf NetConf;

/* Open and bind a NETLINK_ROUTE socket in the current network namespace;
 * returns its fd (O_CLOEXEC) or -1 + error. */
int netconf_open_socket(GError **error);

/* Take over FD, a socket from netconf_open_socket(), possibly opened by
 * another process in another network namespace: requests act there.
 * FD is closed with the NetConf, or here on failure. */
NetConf *netconf_adopt(int fd, GError **error);
void netconf_close(NetConf *nc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NetConf, netconf_close)

/* Set IFNAME up (or down) and, when MTU != 0, its MTU, in one RTM_NEWLINK. */
gboolean netconf_link_set(NetConf *nc, const char *ifname, gboolean up, guint mtu,
			  GError **error);

/* Give IFNAME the "noqueue" root queueing discipline: frames go straight
 * to the driver.  For a tap, whose driver never asks the stack to hold a
 * frame back (a full queue drops it), any queue in front of it only costs
 * an enqueue and a dequeue per frame. */
gboolean netconf_qdisc_noqueue(NetConf *nc, const char *ifname, GError **error);

/* Add ADDR/PREFIXLEN (FAMILY AF_INET or AF_INET6, ADDR a struct in_addr /
 * in6_addr) to IFNAME.  IPv6 addresses get IFA_F_NODAD so they are usable at
 * once instead of after ~1 s of duplicate address detection. */
gboolean netconf_addr_add(NetConf *nc, const char *ifname, int family, const void *addr,
			  guint prefixlen, GError **error);

/* Add a default route of FAMILY via GATEWAY on IFNAME (main table). */
gboolean netconf_route_add_default(NetConf *nc, const char *ifname, int family,
				   const void *gateway, GError **error);

/* Add a permanent neighbour entry on IFNAME: ADDR (FAMILY as above) is at
 * the 6-byte MAC, without ARP or neighbour discovery ever asking. */
gboolean netconf_neigh_add(NetConf *nc, const char *ifname, int family, const void *addr,
			   const guint8 *mac, GError **error);

