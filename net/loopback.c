/* SPDX-License-Identifier: MIT
 *
 * loopback.c — bring `lo` up with the interface ioctls.
 */
#include "net/loopback.h"
#include "common/error.h"
#include "common/fdutil.h"

#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

/* IFF_UP on IFNAME.  The flags are read first because SIOCSIFFLAGS sets
 * them all; a fresh namespace's lo has IFF_LOOPBACK, which must stay. */
static gboolean
loopback_set_up(const char *ifname, GError **error)
{
	struct ifreq ifr;
	autoclose int sock = -1;

	/* Any socket of the namespace will do for the interface ioctls;
	 * AF_UNIX needs no protocol family of the network stack. */
	sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return sbx_set_errno(error, errno, "open a socket to configure %s", ifname);
	memset(&ifr, 0, sizeof ifr);
	g_strlcpy(ifr.ifr_name, ifname, sizeof ifr.ifr_name);
	if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0)
		return sbx_set_errno(error, errno, "read the flags of %s", ifname);
	if (ifr.ifr_flags & IFF_UP)
		return TRUE;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0)
		return sbx_set_errno(error, errno, "set %s up", ifname);
	return TRUE;
}

gboolean
loopback_setup(SbxNetMode mode, GError **error)
{
	switch (mode) {
	case SBX_NET_NONE:
	case SBX_NET_TAP:
		break;
	case SBX_NET_LO_DOWN:   /* -n: a namespace where nothing, not even lo, works */
	case SBX_NET_HOST:      /* -N: the host's namespace is not ours to change */
		return TRUE;
	default:
		g_return_val_if_reached(FALSE);
	}
	/* The nft reject rules answer through lo (locally generated RST and
	 * ICMP), and loopback services inside the sandbox need it. */
	return loopback_set_up("lo", error);
}
