/* SPDX-License-Identifier: MIT
 *
 * denials.h — what the sandbox's network was not allowed to do, in the
 * launcher: the blocked packets the ruleset reports through NFLOG, the
 * names the resolver refused, and for each blocked address the name the
 * resolver had handed it out for.
 *
 * Why a module of its own: three parts of the launcher refuse things (the
 * kernel ruleset, reported through nflog.c; the resolver, dns-responder.c;
 * the relay) and one place must tie an address back to a name and write
 * one log (denylog.c) and one summary.  The resolver only tells this
 * module what it answered (denials_remember) and what it refused.
 *
 * Memory is bounded: at most DENIALS_MAX_ADDR_NAMES address→name pairs;
 * past that the map starts again empty (a later denial may then be
 * reported without its name, never with a wrong one).
 */
#pragma once

#include "common/config.h"
#include "net/learn.h"
#include "net/policy.h"

#include <glib.h>

#define DENIALS_MAX_ADDR_NAMES 4096

typedef struct Denials Denials;

/* POLICY (borrowed, may be NULL): seeds the names pinned at start-up.
 * NFLOG_SOCK: the nfnetlink_log socket the set-up child opened, or -1;
 * taken.  The log goes to --log / -v as CFG says. */
Denials *denials_new(EgressPolicy *policy, const SbxConfig *cfg, GMainContext *ctx,
		     int nflog_sock);
void denials_free(Denials *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Denials, denials_free)

/* The resolver answered NAME with the N addresses of FAMILY (network
 * order, packed) at ADDRS. */
void denials_remember(Denials *d, const char *name, int family, const void *addrs, size_t n);

/* The name the resolver last handed ADDR (FAMILY) out for, or NULL. */
const char *denials_name_for(Denials *d, int family, const void *addr);

/* The resolver refused a query for NAME of type QTYPE. */
void denials_refused_name(Denials *d, const char *name, guint16 qtype);

/* The resolver refused an upstream ANSWER (ADDR of FAMILY) for NAME. */
void denials_refused_answer(Denials *d, const char *name, int family, const void *addr,
			    const char *reason);

/* The relay's name gate refused a TCP connection to ADDR (FAMILY) PORT
 * whose first bytes named NAME ("" when none); REASON: "sni", "host",
 * "socks" or "protocol" (denylog.h denylog_name_on_wire). */
void denials_refused_on_wire(Denials *d, int family, const void *addr, guint16 port,
			     const char *reason, const char *name);

/* --learn (net/learn.h): tell LEARNER (borrowed, or NULL) every answer,
 * and with an enforced list every refused lookup and blocked connection. */
void denials_set_learner(Denials *d, Learner *learner);

/* At exit: read what NFLOG still has queued, then the summary line and
 * the log's last record (only when the policy restricts egress). */
void denials_finish(Denials *d);
