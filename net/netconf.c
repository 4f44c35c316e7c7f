/* SPDX-License-Identifier: MIT
 *
 * netconf.c — rtnetlink requests for lo and tap0.
 */
#include "net/netconf.h"
#include "common/error.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct NetConf {
	struct mnl_socket *nl;
	unsigned int portid;
	unsigned int seq;
};

int
netconf_open_socket(GError **error)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	struct sockaddr_nl snl = { .nl_family = AF_NETLINK };   /* nl_pid 0: the kernel picks */

	if (fd < 0) {
		sbx_set_errno(error, errno, "open rtnetlink socket");
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&snl, sizeof snl) < 0) {
		sbx_set_errno(error, errno, "bind rtnetlink socket");
		close(fd);
		return -1;
	}
	return fd;
}

NetConf *
netconf_adopt(int fd, GError **error)
{
	g_autoptr(NetConf) nc = g_new0(NetConf, 1);

	nc->nl = mnl_socket_fdopen(fd);
	if (!nc->nl) {
		sbx_set_errno(error, errno, "use the sandbox's rtnetlink socket");
		close(fd);
		return NULL;
	}
	nc->portid = mnl_socket_get_portid(nc->nl);
	nc->seq = (unsigned int)time(NULL);
	return g_steal_pointer(&nc);
}

void
netconf_close(NetConf *nc)
{
	if (!nc)
		return;
	if (nc->nl)
		mnl_socket_close(nc->nl);
	g_free(nc);
}

/* Send one request with NLM_F_ACK and wait for its ACK.  Returns 0 or
 * -errno (the kernel's answer, or the socket error). */
static int
netconf_talk(NetConf *nc, struct nlmsghdr *nlh)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	unsigned int seq = nlh->nlmsg_seq;
	ssize_t n;
	int ret;

	if (mnl_socket_sendto(nc->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		n = mnl_socket_recvfrom(nc->nl, buf, sizeof buf);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		/* MNL_CB_STOP on the ACK (error 0); -1 + errno on an NLMSG_ERROR. */
		ret = mnl_cb_run(buf, (size_t)n, seq, nc->portid, NULL, NULL);
		if (ret < 0)
			return -errno;
	} while (ret > 0);
	return 0;
}

static struct nlmsghdr *
netconf_put_request(NetConf *nc, char *buf, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = ++nc->seq;
	return nlh;
}

/* The index in the socket's own network namespace (SIOCGIFINDEX through
 * the netlink socket reaches dev_ioctl() there), not the caller's, as
 * if_nametoindex() would: the launcher configures the sandbox's. */
static gboolean
netconf_ifindex(NetConf *nc, const char *ifname, unsigned int *index, GError **error)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof ifr);
	g_strlcpy(ifr.ifr_name, ifname, sizeof ifr.ifr_name);
	if (ioctl(mnl_socket_get_fd(nc->nl), SIOCGIFINDEX, &ifr) < 0)
		return sbx_set_errno(error, errno, "find network interface %s", ifname);
	*index = (unsigned int)ifr.ifr_ifindex;
	return TRUE;
}

gboolean
netconf_link_set(NetConf *nc, const char *ifname, gboolean up, guint mtu, GError **error)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;
	unsigned int index;
	int ret;

	if (!netconf_ifindex(nc, ifname, &index, error))
		return FALSE;
	nlh = netconf_put_request(nc, buf, RTM_NEWLINK, 0);
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof *ifm);
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = (int)index;
	ifm->ifi_flags = up ? IFF_UP : 0;
	ifm->ifi_change = IFF_UP;
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	ret = netconf_talk(nc, nlh);
	if (ret < 0) {
		if (mtu)
			return sbx_set_errno(error, -ret, "set %s %s with MTU %u", ifname,
					     up ? "up" : "down", mtu);
		return sbx_set_errno(error, -ret, "set %s %s", ifname, up ? "up" : "down");
	}
	return TRUE;
}

gboolean
netconf_qdisc_noqueue(NetConf *nc, const char *ifname, GError **error)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct tcmsg *tcm;
	unsigned int index;
	int ret;

	if (!netconf_ifindex(nc, ifname, &index, error))
		return FALSE;
	nlh = netconf_put_request(nc, buf, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_REPLACE);
	tcm = mnl_nlmsg_put_extra_header(nlh, sizeof *tcm);
	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = (int)index;
	tcm->tcm_handle = 0;
	tcm->tcm_parent = TC_H_ROOT;
	mnl_attr_put_strz(nlh, TCA_KIND, "noqueue");
	ret = netconf_talk(nc, nlh);
	if (ret < 0)
		return sbx_set_errno(error, -ret, "set the queueing discipline of %s to noqueue",
				     ifname);
	return TRUE;
}

gboolean
netconf_addr_add(NetConf *nc, const char *ifname, int family, const void *addr,
		 guint prefixlen, GError **error)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	char text[INET6_ADDRSTRLEN];
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	unsigned int index;
	size_t alen = family == AF_INET ? sizeof(struct in_addr) : sizeof(struct in6_addr);
	int ret;

	if (!netconf_ifindex(nc, ifname, &index, error))
		return FALSE;
	nlh = netconf_put_request(nc, buf, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof *ifa);
	ifa->ifa_family = (unsigned char)family;
	ifa->ifa_prefixlen = (unsigned char)prefixlen;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = index;
	/* Without IFA_LOCAL an IPv4 address has no local route. */
	mnl_attr_put(nlh, IFA_LOCAL, alen, addr);
	mnl_attr_put(nlh, IFA_ADDRESS, alen, addr);
	if (family == AF_INET6) {
		/* Duplicate address detection would hold the address "tentative"
		 * for ~1 s: the payload's first connect would fail with
		 * EADDRNOTAVAIL.  Nobody else is on this link but slirp. */
		ifa->ifa_flags = IFA_F_NODAD;
		mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
	}
	ret = netconf_talk(nc, nlh);
	if (ret < 0)
		return sbx_set_errno(error, -ret, "add address %s/%u to %s",
				     inet_ntop(family, addr, text, sizeof text) ? text : "?",
				     prefixlen, ifname);
	return TRUE;
}

gboolean
netconf_route_add_default(NetConf *nc, const char *ifname, int family, const void *gateway,
			  GError **error)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	char text[INET6_ADDRSTRLEN];
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	unsigned int index;
	size_t alen = family == AF_INET ? sizeof(struct in_addr) : sizeof(struct in6_addr);
	int ret;

	if (!netconf_ifindex(nc, ifname, &index, error))
		return FALSE;
	nlh = netconf_put_request(nc, buf, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof *rtm);
	rtm->rtm_family = (unsigned char)family;
	rtm->rtm_dst_len = 0;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put(nlh, RTA_GATEWAY, alen, gateway);
	mnl_attr_put_u32(nlh, RTA_OIF, index);
	ret = netconf_talk(nc, nlh);
	if (ret < 0)
		return sbx_set_errno(error, -ret, "add default route via %s dev %s",
				     inet_ntop(family, gateway, text, sizeof text) ? text : "?",
				     ifname);
	return TRUE;
}

gboolean
netconf_neigh_add(NetConf *nc, const char *ifname, int family, const void *addr,
		  const guint8 *mac, GError **error)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	char text[INET6_ADDRSTRLEN];
	struct nlmsghdr *nlh;
	struct ndmsg *ndm;
	unsigned int index;
	size_t alen = family == AF_INET ? sizeof(struct in_addr) : sizeof(struct in6_addr);
	int ret;

	if (!netconf_ifindex(nc, ifname, &index, error))
		return FALSE;
	nlh = netconf_put_request(nc, buf, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE);
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof *ndm);
	ndm->ndm_family = (unsigned char)family;
	ndm->ndm_ifindex = (int)index;
	ndm->ndm_state = NUD_PERMANENT;
	ndm->ndm_type = RTN_UNICAST;
	mnl_attr_put(nlh, NDA_DST, alen, addr);
	mnl_attr_put(nlh, NDA_LLADDR, 6, mac);
	ret = netconf_talk(nc, nlh);
	if (ret < 0)
		return sbx_set_errno(error, -ret, "add neighbour %s on %s",
				     inet_ntop(family, addr, text, sizeof text) ? text : "?", ifname);
	return TRUE;
}
