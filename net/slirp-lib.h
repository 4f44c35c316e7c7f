/* SPDX-License-Identifier: MIT
 *
 * slirp-lib.h — making libslirp callable before its first use.
 *
 * mini-tapbox loads libslirp with dlopen() (slirp-dl.c) for the first frame
 * that needs it (net_slirp_for_frame(); after NET_UP with --slirp-tcp,
 * before it with --publish):
 * libslirp needs the shared GLib, and mapping and relocating the two (with
 * PCRE2 and libm) was ~1.1 ms of every start before main(), and ~2 ms
 * of the launcher's work before NET_UP after the clone (issue 19,
 * bench/README.md).  mini-tapbox
 * links GLib statically; the shared GLib libslirp brings binds only
 * libslirp's own calls (the executable exports none of GLib's symbols).
 * Everything else (libminisandbox, the tests) links libslirp as usual
 * (slirp-linked.c).
 */
#pragma once

#include <glib.h>

/* Make the libslirp functions net.c and slirp-source.c call usable: load
 * the library (once; later calls return at once) or do nothing when it is
 * linked.  FALSE with *error naming the library and the fix. */
gboolean sbx_slirp_load(GError **error);
