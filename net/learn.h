/* SPDX-License-Identifier: MIT
 *
 * learn.h — write an allowlist from what a run did (mini-tapbox --learn).
 *
 * The launcher sees every lookup (the built-in resolver) and every new
 * connection (the frames from the tap, or, with an enforced -F list, the
 * denials) — so it can write the list a user would otherwise assemble from
 * failures (issue 16).  Each connection becomes one allowlist entry:
 *
 *   name:PORT          TCP, when the resolver's answer for NAME held the address
 *   name:PORT/udp      the same for UDP (a domain entry admits UDP only so)
 *   ADDR:PORT/tcp      no lookup led to it ([ADDR]:PORT/tcp for IPv6)
 *   name               (only with an enforced list) a lookup it refused: no
 *                      connection could follow, so the port is unknown
 *
 * sorted, deduplicated, each with a comment (count, first seen), under a
 * header saying how the list was made; names looked up but never connected
 * to are listed as comments only.  Nothing here resolves or connects.
 *
 * Memory is bounded: at most LEARN_MAX_ENTRIES entries and LEARN_MAX_NAMES
 * looked-up names; past that the list says it is incomplete.
 */
#pragma once

#include <glib.h>

#define LEARN_MAX_ENTRIES 4096
#define LEARN_MAX_NAMES 4096

typedef struct Learner Learner;

/* ENFORCED: a -F/--allow list is enforced as well, and the learner hears
 * only what it denied (denials.c); the header says so. */
Learner *learn_new(gboolean enforced);
void learn_free(Learner *l);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Learner, learn_free)

/* The resolver answered NAME (A or AAAA). */
void learn_lookup(Learner *l, const char *name);

/* A lookup of NAME (A or AAAA) was refused by the enforced list. */
void learn_refused_name(Learner *l, const char *name);

/* A new connection (TCP SYN, or a UDP datagram; L4PROTO IPPROTO_TCP/UDP,
 * others are ignored) to ADDR (FAMILY, network order) port DPORT from port
 * SPORT (0 if unknown); NAME: the name whose answer held ADDR, or the name
 * the connection carried (TLS SNI, HTTP Host), or NULL. */
void learn_connection(Learner *l, int family, const void *addr, guint8 l4proto,
		      guint16 sport, guint16 dport, const char *name);

/* The list as text.  COMMAND (may be NULL) is named in the header.  NOW is
 * the time for the header (real time, µs).  Caller frees. */
char *learn_render(const Learner *l, const char *command, gint64 now);

/* Write the list to PATH atomically: a new file in PATH's directory
 * (opened without following any link a sandbox could have planted, see
 * common/safepath.h), then rename(2) over PATH.  PREFIX (or NULL) is
 * written first (the -F list PATH already was, when it is grown). */
gboolean learn_write_file(const Learner *l, const char *path, const char *prefix,
			  const char *command, GError **error);
