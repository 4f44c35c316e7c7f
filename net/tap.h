/* SPDX-License-Identifier: MIT
 *
 * tap.h — create the sandbox's tap device.
 *
 * pid 1 opens /dev/net/tun inside the new network namespace, first thing
 * (the new root has no /dev/net/tun, and should not); the launcher
 * attaches tap0 through that fd while pid 1 builds the file system.
 */
#pragma once

#include <glib.h>

#include <linux/virtio_net.h>

/* Every frame read from or written to the tap starts with this header. */
#define TAP_VNET_HLEN sizeof(struct virtio_net_hdr)

/* Set-up child, in the sandbox's network namespace: open /dev/net/tun
 * (O_CLOEXEC, O_NONBLOCK).  The device file remembers the namespace it
 * was opened in: a tap attached through it later is created there,
 * whoever attaches it.  Returns the fd, or -1 + error naming the device,
 * its mode and the fix. */
int tap_open_device(GError **error);

/* Launcher, on the fd pid 1 opened: attach a tap device IFNAME
 * (IFF_TAP|IFF_NO_PI|IFF_VNET_HDR: Ethernet frames behind a
 * TAP_VNET_HLEN-byte virtio-net header, no packet-info header; frames from
 * the guest come without offloads, i.e. whole and checksummed, which is
 * what slirp_input wants).  The kernel checks CAP_NET_ADMIN over the
 * namespace's owner: the launcher created that user namespace, so it has
 * it.  The device is made persistent so that the launcher's last close()
 * does not wait for its unregistration; it goes away with the namespace. */
gboolean tap_attach(int fd, const char *ifname, GError **error);

/* The MAC address of the device FD is attached to (TUN answers
 * SIOCGIFHWADDR on its fd); FALSE + errno before tap_attach(). */
gboolean tap_get_mac(int fd, guint8 mac[6]);
