/* SPDX-License-Identifier: MIT
 *
 * dns-msg.h — DNS messages for the built-in resolver, pure (no I/O).
 *
 * Everything here works on untrusted bytes from the sandbox (queries) or
 * from the network (upstream replies), so every read is bounds-checked,
 * compression pointers may only jump backwards past everything read so far
 * (no loops), names are capped at 255 octets and labels at 63.  Malformed
 * input is answered with FORMERR or dropped, never trusted.
 *
 * Replies are capped at DNS_UDP_MAX (512) bytes: the resolver does not
 * speak EDNS and does not serve TCP, so it never needs more — records that
 * do not fit are left out (fewer addresses), TC is never set.
 */
#pragma once

#include <glib.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define DNS_HEADER_LEN 12
#define DNS_NAME_WIRE_MAX 255      /* RFC 1035 2.3.4, length octets included */
#define DNS_LABEL_MAX 63
/* Presentation form: every octet may need "\DDD", plus dots. */
#define DNS_NAME_TEXT_MAX (4 * DNS_NAME_WIRE_MAX + 1)
#define DNS_UDP_MAX 512
#define DNS_UPSTREAM_MAX_ADDRS 32
#define DNS_DEFAULT_PORT 53

enum {
	DNS_TYPE_A = 1,
	DNS_TYPE_NS = 2,
	DNS_TYPE_CNAME = 5,
	DNS_TYPE_SOA = 6,
	DNS_TYPE_PTR = 12,
	DNS_TYPE_MX = 15,
	DNS_TYPE_TXT = 16,
	DNS_TYPE_AAAA = 28,
	DNS_TYPE_OPT = 41,
	DNS_TYPE_ANY = 255,
};

enum { DNS_CLASS_IN = 1 };

enum {
	DNS_RCODE_NOERROR = 0,
	DNS_RCODE_FORMERR = 1,
	DNS_RCODE_SERVFAIL = 2,
	DNS_RCODE_NXDOMAIN = 3,
	DNS_RCODE_NOTIMP = 4,
	DNS_RCODE_REFUSED = 5,
};

/* Header flag bits (host order of the 16-bit flags word). */
enum {
	DNS_FLAG_QR = 0x8000,
	DNS_FLAG_AA = 0x0400,
	DNS_FLAG_TC = 0x0200,
	DNS_FLAG_RD = 0x0100,
	DNS_FLAG_RA = 0x0080,
	DNS_FLAG_CD = 0x0010,
};

typedef enum {
	DNS_QUERY_OK = 0,   /* one well-formed IN question: look the name up */
	DNS_QUERY_ERROR,    /* answer at once with q->rcode (question echoed if has_question) */
	DNS_QUERY_DROP,     /* no answer at all: shorter than a header, or a response */
} DnsQueryStatus;

/* A parsed query.  About 1.3 KiB; fine on the stack. */
typedef struct {
	guint16 id;
	guint16 flags;                /* the query's flags word */
	guint16 qtype;
	guint16 qclass;
	guint8 rcode;                 /* for DNS_QUERY_ERROR */
	gboolean has_question;        /* qname/qtype/qclass valid (echoed in replies) */
	gboolean name_is_hostname;    /* every label is [A-Za-z0-9_-]: safe to look up */
	guint8 qname_wire[DNS_NAME_WIRE_MAX]; /* uncompressed, case as received */
	size_t qname_wire_len;
	char name[DNS_NAME_TEXT_MAX]; /* lower case, no trailing dot, "\DDD" escapes; "." = root */
} DnsQuery;

/* Parse the query MSG (LEN bytes, the UDP payload).  Exactly one question
 * of class IN with opcode QUERY is DNS_QUERY_OK; other opcodes → NOTIMP,
 * other classes → REFUSED, zero or several questions, answer/authority
 * records, bad names or a truncated question → FORMERR.  The additional
 * section (EDNS OPT) is ignored. */
DnsQueryStatus dns_parse_query(const guint8 *msg, size_t len, DnsQuery *q);

/* Build the reply to Q into BUF (BUFSIZE bytes): RCODE, and for each of the
 * N_ADDRS addresses of FAMILY (AF_INET: struct in_addr[], AF_INET6:
 * struct in6_addr[]) one A / AAAA record with TTL, owner = the question
 * (compression pointer).  Records that would take the reply beyond
 * DNS_UDP_MAX or BUFSIZE are left out.  Returns the length, or 0 when
 * BUFSIZE cannot even hold the header and question. */
size_t dns_build_reply(const DnsQuery *q, guint8 rcode, int family, const void *addrs,
		       size_t n_addrs, guint32 ttl, guint8 *buf, size_t bufsize);

/* Encode host name NAME (presentation form, no escapes, an optional
 * trailing dot) as an uncompressed wire name into WIRE (SIZE bytes).
 * Returns its length, or 0 for an empty label, a label over 63 octets or
 * a name over 255. */
size_t dns_encode_name(const char *name, guint8 *wire, size_t size);

/* Build a recursive query (RD set) for the wire name QNAME_WIRE (length
 * QNAME_LEN, uncompressed, as in DnsQuery) and QTYPE, class IN, with ID.
 * Returns the length, or 0 when BUFSIZE is too small. */
size_t dns_build_query(guint16 id, const guint8 *qname_wire, size_t qname_len, guint16 qtype,
		       guint8 *buf, size_t bufsize);

/* What an upstream reply said about one A or AAAA question. */
typedef struct {
	guint8 rcode;
	guint32 ttl;      /* smallest TTL of the records used (CNAMEs of the chain included) */
	size_t n_addrs;
	int family;       /* AF_INET for A, AF_INET6 for AAAA */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} addrs[DNS_UPSTREAM_MAX_ADDRS];
} DnsUpstreamAnswer;

/* Parse an upstream reply to our query (ID, lower-case presentation name
 * QNAME, QTYPE A or AAAA).  FALSE when MSG is not a well-formed reply to
 * exactly that question (wrong id, QR clear, other question, truncated
 * records): the caller ignores it and keeps waiting.  Otherwise fills ANS:
 * the A/AAAA records owned by QNAME or by a name of its CNAME chain (the
 * CNAMEs themselves are skipped — the sandbox gets a flat answer), other
 * owners are ignored (no poisoning through unrelated records). */
gboolean dns_parse_upstream_reply(const guint8 *msg, size_t len, guint16 id, const char *qname,
				  guint16 qtype, DnsUpstreamAnswer *ans);

/* TRUE if MSG is a response (QR, opcode QUERY) with ID and exactly one
 * question QNAME (lower-case presentation form) / QTYPE / class IN.  Used
 * to accept relayed replies of any type. */
gboolean dns_reply_matches(const guint8 *msg, size_t len, guint16 id, const char *qname,
			   guint16 qtype);

/* Read the name at *OFF of MSG into presentation form TEXT (lower case,
 * see DnsQuery.name) and, if WIRE is not NULL, its uncompressed wire form
 * (*WIRE_LEN).  Advances *OFF past the name as stored at *OFF.  FALSE on a
 * truncated, looping, oversize or reserved-label name. */
gboolean dns_read_name(const guint8 *msg, size_t len, size_t *off, char text[DNS_NAME_TEXT_MAX],
		       guint8 *wire, size_t *wire_len, gboolean *is_hostname);

/* "A", "AAAA", "MX", … or "TYPE123". Returns a static string or writes BUF. */
const char *dns_type_name(guint16 qtype, char buf[16]);

/* Parse an upstream server address "ADDR", "ADDR:PORT", "[V6]:PORT" or a
 * bare IPv6 address (port 53 by default) into SA / *SALEN.  Numeric only. */
gboolean dns_server_parse(const char *text, struct sockaddr_storage *sa, socklen_t *salen);

/* The first "nameserver" address of resolv.conf CONTENTS, or NULL.
 * Caller frees. */
char *dns_resolv_conf_nameserver(const char *contents);
