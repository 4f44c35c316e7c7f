/* SPDX-License-Identifier: MIT
 *
 * tap.c — /dev/net/tun → tap0.
 */
#include "net/tap.h"
#include "common/error.h"
#include "common/fdutil.h"

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

int
tap_open(const char *ifname, GError **error)
{
	autoclose int fd = -1;
	struct ifreq ifr;

	g_return_val_if_fail(strlen(ifname) < IFNAMSIZ, -1);

	fd = open(TUN_PATH, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		tap_explain_open_failure(errno, error);
		return -1;
	}
	memset(&ifr, 0, sizeof ifr);
	/* IFF_VNET_HDR: a virtio-net header in front of each frame, so the
	 * launcher can hand the guest one 64 KiB TCP segment the guest's
	 * kernel takes as many (GSO) — one write instead of one per MSS at
	 * MTU 1500.  No TUNSETOFFLOAD: frames from the guest stay whole and
	 * checksummed, as slirp_input wants them.  IFF_NO_PI: no 4-byte
	 * packet-info header. */
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	g_strlcpy(ifr.ifr_name, ifname, sizeof ifr.ifr_name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int saved = errno;
		sbx_set_errno(error, saved,
			      "create tap device %s (TUNSETIFF on %s; needs CAP_NET_ADMIN in the "
			      "sandbox's network namespace and the tun module)", ifname, TUN_PATH);
		return -1;
	}
	return sbx_steal_fd(&fd);
}
