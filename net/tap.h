/* SPDX-License-Identifier: MIT
 *
 * tap.h — create the sandbox's tap device.
 *
 * Called by the set-up child, namespace-root inside the new network
 * namespace, before the filesystem stage (the new root has no
 * /dev/net/tun, and should not).
 */
#pragma once

#include <glib.h>

#include <linux/virtio_net.h>

/* Every frame read from or written to the tap starts with this header. */
#define TAP_VNET_HLEN sizeof(struct virtio_net_hdr)

/* Open /dev/net/tun and attach a tap device IFNAME (IFF_TAP|IFF_NO_PI|
 * IFF_VNET_HDR: Ethernet frames behind a TAP_VNET_HLEN-byte virtio-net
 * header, no packet-info header; frames from the guest come without
 * offloads, i.e. whole and checksummed, which is what slirp_input wants).
 * The fd is O_CLOEXEC and O_NONBLOCK.  The device is not persistent: it goes
 * away when the last holder of the fd (the launcher) closes it.
 * Returns the fd, or -1 + error.  When /dev/net/tun itself cannot be opened
 * the message names the device, its mode and the fix. */
int tap_open(const char *ifname, GError **error);
