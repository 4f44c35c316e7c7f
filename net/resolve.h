/* SPDX-License-Identifier: MIT
 *
 * resolve.h — host-side name resolution at start-up (A and AAAA).
 *
 * Without --resolver the system resolver (getaddrinfo) answers.  With
 * --resolver ADDR[:PORT] we ask that server directly over UDP (messages from
 * dns-msg.h), so tests (and users) can point the sandbox at a
 * specific upstream without touching the host's resolv.conf.
 */
#pragma once

#include <glib.h>
#include <sys/socket.h>

/* Parse "ADDR", "ADDR:PORT", "[V6ADDR]:PORT" (numeric only; default port
 * 53) into *SS / *LEN.  Errors are SBX_ERR_ILLEGAL_NETWORK. */
gboolean sbx_resolver_parse(const char *spec, struct sockaddr_storage *ss, socklen_t *len,
			    GError **error);

/* Resolve NAME (a host name, no wildcard) and append its addresses to
 * ADDRS4 (struct in_addr) and ADDRS6 (struct in6_addr), duplicates removed.
 * RESOLVER is NULL (system resolver) or a --resolver spec.  A name that does
 * not exist or has no address is success with nothing appended; FALSE means
 * the resolver itself failed (timeout, SERVFAIL, bad reply) and says why. */
gboolean sbx_resolve_name(const char *name, const char *resolver, GArray *addrs4,
			  GArray *addrs6, GError **error);
