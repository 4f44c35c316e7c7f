/* SPDX-License-Identifier: MIT
 *
 * tap.c — /dev/net/tun → tap0.
 */
#include "net/tap.h"
#include "common/error.h"
#include "common/fdutil.h"
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#define TUN_PATH "/dev/net/tun"

/* The common failure on a fresh machine: the device node is 0600 root (seen
 * on the CI host, doc/PLATFORM.md §6) or the tun module is not loaded.
 * Say which and how to fix it, keeping the errno text. */
static gboolean
tap_explain_open_failure(int errnum, GError **error)
{
	struct stat st;
	const char *fix;

	if (stat(TUN_PATH, &st) < 0) {
		g_set_error(error, SBX_ERROR, SBX_ERR_OS,
			    "cannot open %s: %s; load the tun module (`modprobe tun` as root)",
			    TUN_PATH, sbx_strerror(errnum));
		return FALSE;
	}
	if (errnum == EACCES || errnum == EPERM)
		fix = "mini-tapbox needs read/write access: run `chmod 0666 " TUN_PATH "` as root";
	else if (errnum == ENODEV || errnum == ENXIO)
		fix = "the device has no driver: load the tun module (`modprobe tun` as root)";
	else
		fix = "mini-tapbox needs a working tun device";
	/* The owner is not shown: inside our user namespace root is 65534. */
	g_set_error(error, SBX_ERROR, SBX_ERR_OS, "cannot open %s: %s (mode %04o); %s", TUN_PATH,
		    sbx_strerror(errnum), (unsigned)(st.st_mode & 07777), fix);
	return FALSE;
}

/* Closing the last fd of a non-persistent tun device unregisters it right
 * there, synchronously (RCU grace periods under the RTNL lock: 14–27 ms on
 * a loaded 2-vCPU VM), and that last close is the launcher's, at exit:
 * the user would wait for it before getting the exit status.  A persistent
 * device outlives its fds and goes with its network namespace instead,
 * which the kernel tears down asynchronously once the sandbox's processes
 * and the launcher's sockets in it are gone; nothing is left behind, no
 * process waits for it.  Nobody can attach to it meanwhile: the launcher
 * closes it only after pid 1, and with it every process of the sandbox,
 * is gone (and attaching needs CAP_NET_ADMIN in the namespace, which the
 * payload never has).  Only an optimisation: if the kernel refuses, the
 * close simply stays slow. */
static void
tap_hand_teardown_to_namespace(int fd, const char *ifname)
{
	if (ioctl(fd, TUNSETPERSIST, 1) < 0)
		sbx_debug("net: %s stays non-persistent (TUNSETPERSIST: %s); closing it will wait "
			  "for its unregistration", ifname, g_strerror(errno));
}

int
tap_open_device(GError **error)
{
	int fd = open(TUN_PATH, O_RDWR | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		tap_explain_open_failure(errno, error);
	return fd;
}

gboolean
tap_attach(int fd, const char *ifname, GError **error)
{
	struct ifreq ifr;

	g_return_val_if_fail(strlen(ifname) < IFNAMSIZ, FALSE);

	memset(&ifr, 0, sizeof ifr);
	/* IFF_VNET_HDR: a virtio-net header in front of each frame, so the
	 * launcher can hand the guest one 64 KiB TCP segment the guest's
	 * kernel takes as many (GSO) — one write instead of one per MSS at
	 * MTU 1500.  No TUNSETOFFLOAD: frames from the guest stay whole and
	 * checksummed, as slirp_input wants them.  IFF_NO_PI: no 4-byte
	 * packet-info header. */
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	g_strlcpy(ifr.ifr_name, ifname, sizeof ifr.ifr_name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		return sbx_set_errno(error, errno,
				     "create tap device %s (TUNSETIFF on %s; needs CAP_NET_ADMIN in "
				     "the sandbox's network namespace and the tun module)", ifname,
				     TUN_PATH);
	tap_hand_teardown_to_namespace(fd, ifname);
	return TRUE;
}

gboolean
tap_get_mac(int fd, guint8 mac[6])
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof ifr);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		return FALSE;
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	return TRUE;
}
