/* SPDX-License-Identifier: MIT
 *
 * loopback.h — `lo` of the sandbox's own network namespace.
 *
 * Runs in the set-up child, namespace-root inside that namespace.  One
 * SIOCGIFFLAGS/SIOCSIFFLAGS pair on a datagram socket: no rtnetlink (and no
 * libmnl), so mini-sandbox, which has no other network to configure, links
 * none of the network stack's libraries.
 */
#pragma once

#include "common/config.h"

/* The loopback part of every mode that has its own network namespace:
 * SBX_NET_NONE and SBX_NET_TAP bring `lo` up, SBX_NET_LO_DOWN leaves it
 * down, SBX_NET_HOST does nothing (the host's namespace is not ours). */
gboolean loopback_setup(SbxNetMode mode, GError **error);
