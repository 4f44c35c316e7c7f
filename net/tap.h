/* SPDX-License-Identifier: MIT
 *
 * tap.h — create the sandbox's tap device.
 *
 * Owner: net/.  Called by the set-up child, namespace-root inside the new
 * network namespace, before the filesystem stage (the new root has no
 * /dev/net/tun, and should not).
 */
#pragma once

#include <glib.h>

/* Open /dev/net/tun and attach a tap device IFNAME (IFF_TAP|IFF_NO_PI: raw
 * Ethernet frames, no packet-info header, which is what slirp_input wants).
 * The fd is O_CLOEXEC and O_NONBLOCK.  The device is not persistent: it goes
 * away when the last holder of the fd (the launcher) closes it.
 * Returns the fd, or -1 + error.  When /dev/net/tun itself cannot be opened
 * the message names the device, its mode and the fix. */
int tap_open(const char *ifname, GError **error);
