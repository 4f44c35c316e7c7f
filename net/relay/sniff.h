/* SPDX-License-Identifier: MIT
 *
 * sniff.h — what the first bytes a guest sends on a TCP connection say
 * about where it is going: the TLS server name (SNI), the HTTP Host, the
 * target of a CONNECT or SOCKS request.  Pure: no I/O, no allocation
 * beyond the caller's result, fuzzed (tests/fuzz/fuzz-sniff.c).
 *
 * Why it exists: a domain entry of the allowlist becomes a set of
 * addresses, and CDNs and proxies serve thousands of sites on one address,
 * choosing the site by the name the client sends.  The TCP relay's name
 * gate (tcp-flow.c) holds a connection's first bytes until sniff_client()
 * has told it which name they carry, and forwards nothing upstream before
 * the name is checked against the allowlist.
 *
 * Contract: call sniff_client() with ALL the bytes the guest sent so far
 * on the connection (the relay reassembles them, at most SNIFF_HOLD_MAX).
 * SNIFF_MORE means "not decidable yet": hold, read more, call again with
 * the longer buffer; at SNIFF_HOLD_MAX bytes the caller refuses.  Every
 * other kind is final for those bytes.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* A ClientHello with post-quantum key shares spans several segments; 16
 * KiB is one TLS record's maximum plaintext, so a hello longer than that is
 * not one a real client sends. */
#define SNIFF_HOLD_MAX 16384
#define SNIFF_NAME_MAX 255

typedef enum {
	SNIFF_MORE,	     /* a prefix of something recognisable: need more bytes */
	SNIFF_TLS,	     /* TLS ClientHello; name = SNI host name, "" when none */
	SNIFF_HTTP,	     /* HTTP/1.x request; name = Host header's host, "" when none */
	SNIFF_HTTP_CONNECT,  /* HTTP CONNECT; name/port = the request's authority */
	SNIFF_SOCKS4,	     /* SOCKS4/4a CONNECT; name = 4a host name or dotted address */
	SNIFF_SOCKS5_HELLO,  /* SOCKS5 greeting (method list), `consumed` bytes long:
			      * forward it, then call sniff_socks5_request() on
			      * the bytes that follow the server's method reply */
	SNIFF_SOCKS5,	     /* SOCKS5 CONNECT; name = host name or address text */
	SNIFF_SSH,	     /* "SSH-2.0-" identification: a protocol with no name */
	SNIFF_UNKNOWN,	     /* none of the above: the caller refuses */
	SNIFF_MALFORMED,     /* looked like one of the above, but is broken */
} SniffKind;

typedef struct {
	SniffKind kind;
	/* Lower-case, no trailing dot; an IPv6 address without brackets.
	 * Empty when the protocol carried no name. */
	char name[SNIFF_NAME_MAX + 1];
	uint16_t port;	 /* target port when the bytes name one, else 0 */
	size_t consumed; /* SNIFF_SOCKS5_HELLO: length of the greeting */
} SniffResult;

/* Classify the LEN bytes at BUF, the start of a client's stream, and fill
 * *OUT.  Returns out->kind.  Reads only the first SNIFF_HOLD_MAX bytes and
 * never returns SNIFF_MORE for LEN >= SNIFF_HOLD_MAX; a verdict other than
 * SNIFF_MORE stays the same for any longer buffer with the same start. */
SniffKind sniff_client(const uint8_t *buf, size_t len, SniffResult *out);

/* A SOCKS5 request (after the method negotiation): SNIFF_SOCKS5,
 * SNIFF_MORE or SNIFF_MALFORMED (also for commands other than CONNECT). */
SniffKind sniff_socks5_request(const uint8_t *buf, size_t len, SniffResult *out);

/* A printable name for KIND, for logs ("tls", "http", …). */
const char *sniff_kind_name(SniffKind kind);
