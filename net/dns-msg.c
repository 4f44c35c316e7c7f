/* SPDX-License-Identifier: MIT
 *
 * dns-msg.c — parse DNS queries and upstream replies, build answers.
 * Pure: no I/O, no allocation on the query path.  See dns-msg.h.
 */
#include "net/dns-msg.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>

/* Compression jumps are bounded by the backwards-only rule already; this cap
 * only keeps the worst case small (each jump must land on a label). */
#define DNS_MAX_JUMPS 64
/* Bounded CNAME chain: longer chains are cut, their addresses ignored. */
#define DNS_MAX_CHAIN 8

static inline guint16
get16(const guint8 *p)
{
	return (guint16)((p[0] << 8) | p[1]);
}

static inline guint32
get32(const guint8 *p)
{
	return ((guint32)p[0] << 24) | ((guint32)p[1] << 16) | ((guint32)p[2] << 8) | p[3];
}

static inline void
put16(guint8 *p, guint16 v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static inline void
put32(guint8 *p, guint32 v)
{
	p[0] = v >> 24;
	p[1] = (v >> 16) & 0xff;
	p[2] = (v >> 8) & 0xff;
	p[3] = v & 0xff;
}

static gboolean
is_host_char(guint8 c)
{
	return g_ascii_isalnum(c) || c == '-' || c == '_';
}

/* Append one label octet to TEXT in presentation form. */
static size_t
append_text_octet(char *text, size_t pos, guint8 c)
{
	if (is_host_char(c)) {
		text[pos++] = g_ascii_tolower(c);
	} else if (c == '.' || c == '\\') {
		text[pos++] = '\\';
		text[pos++] = (char)c;
	} else {
		/* "\DDD": never let control bytes or quotes reach a log line */
		text[pos++] = '\\';
		text[pos++] = (char)('0' + c / 100);
		text[pos++] = (char)('0' + (c / 10) % 10);
		text[pos++] = (char)('0' + c % 10);
	}
	return pos;
}

gboolean
dns_read_name(const guint8 *msg, size_t len, size_t *off, char text[DNS_NAME_TEXT_MAX],
	      guint8 *wire, size_t *wire_len, gboolean *is_hostname)
{
	size_t pos = *off;
	size_t seg_start = pos;   /* where the current run of labels began */
	size_t end = 0;           /* *off after the name, set at the first jump */
	size_t wlen = 0, tlen = 0;
	unsigned jumps = 0;
	gboolean hostname = TRUE;

	for (;;) {
		guint8 b;

		if (pos >= len)
			return FALSE;
		b = msg[pos];
		if ((b & 0xc0) == 0xc0) {
			size_t target;

			if (pos + 1 >= len)
				return FALSE;
			target = ((size_t)(b & 0x3f) << 8) | msg[pos + 1];
			/* Only backwards, before everything read so far, and never
			 * into the header: guarantees termination without a
			 * visited set. */
			if (target >= seg_start || target < DNS_HEADER_LEN || ++jumps > DNS_MAX_JUMPS)
				return FALSE;
			if (!end)
				end = pos + 2;
			pos = seg_start = target;
			continue;
		}
		if (b & 0xc0)   /* 0x40 / 0x80: reserved label types */
			return FALSE;
		if (b == 0) {
			pos++;
			break;
		}
		if (pos + 1 + b > len || wlen + 1 + b + 1 > DNS_NAME_WIRE_MAX)
			return FALSE;
		if (wire)
			memcpy(wire + wlen, msg + pos, 1 + (size_t)b);
		wlen += 1 + (size_t)b;
		if (tlen)
			text[tlen++] = '.';
		for (size_t i = 0; i < b; i++) {
			guint8 c = msg[pos + 1 + i];

			if (!is_host_char(c))
				hostname = FALSE;
			tlen = append_text_octet(text, tlen, c);
		}
		pos += 1 + (size_t)b;
	}
	if (wire)
		wire[wlen] = 0;
	wlen++;
	if (tlen == 0) {
		text[tlen++] = '.';
		hostname = FALSE;
	}
	text[tlen] = '\0';
	*off = end ? end : pos;
	if (wire_len)
		*wire_len = wlen;
	if (is_hostname)
		*is_hostname = hostname;
	return TRUE;
}

DnsQueryStatus
dns_parse_query(const guint8 *msg, size_t len, DnsQuery *q)
{
	size_t off = DNS_HEADER_LEN;
	guint16 qdcount, ancount, nscount;

	memset(q, 0, offsetof(DnsQuery, qname_wire));
	q->qname_wire_len = 0;
	q->name[0] = '\0';
	if (len < DNS_HEADER_LEN)
		return DNS_QUERY_DROP;
	q->id = get16(msg);
	q->flags = get16(msg + 2);
	/* Never answer a response: two resolvers answering each other's
	 * answers would loop forever. */
	if (q->flags & DNS_FLAG_QR)
		return DNS_QUERY_DROP;
	qdcount = get16(msg + 4);
	ancount = get16(msg + 6);
	nscount = get16(msg + 8);
	q->rcode = DNS_RCODE_FORMERR;
	if (((q->flags >> 11) & 0xf) != 0) {
		q->rcode = DNS_RCODE_NOTIMP;
		return DNS_QUERY_ERROR;
	}
	/* Exactly one question; nothing in the answer/authority sections of a
	 * query.  Multi-question packets have no defined meaning (RFC 9619). */
	if (qdcount != 1 || ancount != 0 || nscount != 0)
		return DNS_QUERY_ERROR;
	if (!dns_read_name(msg, len, &off, q->name, q->qname_wire, &q->qname_wire_len,
			   &q->name_is_hostname))
		return DNS_QUERY_ERROR;
	if (off + 4 > len)
		return DNS_QUERY_ERROR;
	q->qtype = get16(msg + off);
	q->qclass = get16(msg + off + 2);
	q->has_question = TRUE;
	if (q->qtype == 0 || q->qtype == DNS_TYPE_OPT)
		return DNS_QUERY_ERROR;
	if (q->qclass != DNS_CLASS_IN) {
		q->rcode = DNS_RCODE_REFUSED;
		return DNS_QUERY_ERROR;
	}
	q->rcode = DNS_RCODE_NOERROR;
	return DNS_QUERY_OK;
}

size_t
dns_build_reply(const DnsQuery *q, guint8 rcode, int family, const void *addrs, size_t n_addrs,
		guint32 ttl, guint8 *buf, size_t bufsize)
{
	size_t limit = MIN(bufsize, (size_t)DNS_UDP_MAX);
	size_t off = DNS_HEADER_LEN;
	size_t rdlen = family == AF_INET6 ? 16 : 4;
	guint16 type = family == AF_INET6 ? DNS_TYPE_AAAA : DNS_TYPE_A;
	guint16 flags, ancount = 0;

	if (limit < DNS_HEADER_LEN || (q->has_question && limit < off + q->qname_wire_len + 4))
		return 0;
	/* QR, the query's opcode, RD and CD echoed, recursion available. */
	flags = DNS_FLAG_QR | (q->flags & (0x7800 | DNS_FLAG_RD | DNS_FLAG_CD)) | DNS_FLAG_RA |
		(rcode & 0xf);
	put16(buf, q->id);
	put16(buf + 2, flags);
	put16(buf + 4, q->has_question ? 1 : 0);
	memset(buf + 6, 0, 6);
	if (q->has_question) {
		memcpy(buf + off, q->qname_wire, q->qname_wire_len);
		off += q->qname_wire_len;
		put16(buf + off, q->qtype);
		put16(buf + off + 2, q->qclass);
		off += 4;
		for (size_t i = 0; i < n_addrs && off + 12 + rdlen <= limit; i++) {
			put16(buf + off, 0xc000 | DNS_HEADER_LEN);   /* owner: the question */
			put16(buf + off + 2, type);
			put16(buf + off + 4, DNS_CLASS_IN);
			put32(buf + off + 6, ttl);
			put16(buf + off + 10, (guint16)rdlen);
			memcpy(buf + off + 12, (const guint8 *)addrs + i * rdlen, rdlen);
			off += 12 + rdlen;
			ancount++;
		}
	}
	put16(buf + 6, ancount);
	return off;
}

size_t
dns_encode_name(const char *name, guint8 *wire, size_t size)
{
	size_t off = 0;
	const char *label = name;

	size = MIN(size, (size_t)DNS_NAME_WIRE_MAX);
	if (strcmp(name, ".") == 0)
		label = "";
	while (*label) {
		const char *dot = strchr(label, '.');
		size_t l = dot ? (size_t)(dot - label) : strlen(label);

		if (l == 0 || l > DNS_LABEL_MAX || off + 1 + l + 1 > size)
			return 0;
		wire[off++] = (guint8)l;
		memcpy(wire + off, label, l);
		off += l;
		label += l + (dot ? 1 : 0);
	}
	if (off + 1 > size)
		return 0;
	wire[off++] = 0;
	return off;
}

size_t
dns_build_query(guint16 id, const guint8 *qname_wire, size_t qname_len, guint16 qtype,
		guint8 *buf, size_t bufsize)
{
	size_t need = DNS_HEADER_LEN + qname_len + 4;

	if (bufsize < need || qname_len == 0 || qname_len > DNS_NAME_WIRE_MAX)
		return 0;
	put16(buf, id);
	put16(buf + 2, DNS_FLAG_RD);
	put16(buf + 4, 1);
	memset(buf + 6, 0, 6);
	memcpy(buf + DNS_HEADER_LEN, qname_wire, qname_len);
	put16(buf + DNS_HEADER_LEN + qname_len, qtype);
	put16(buf + DNS_HEADER_LEN + qname_len + 2, DNS_CLASS_IN);
	return need;
}

static gboolean
chain_contains(char chain[][DNS_NAME_TEXT_MAX], size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(chain[i], name) == 0)
			return TRUE;
	return FALSE;
}

/* Check header and question of a reply; *OFF → just after the question. */
static gboolean
reply_matches(const guint8 *msg, size_t len, guint16 id, const char *qname, guint16 qtype,
	      size_t *off)
{
	char owner[DNS_NAME_TEXT_MAX];
	guint16 flags;

	*off = DNS_HEADER_LEN;
	if (len < DNS_HEADER_LEN || get16(msg) != id)
		return FALSE;
	flags = get16(msg + 2);
	if (!(flags & DNS_FLAG_QR) || ((flags >> 11) & 0xf) != 0 || get16(msg + 4) != 1)
		return FALSE;
	if (!dns_read_name(msg, len, off, owner, NULL, NULL, NULL) || *off + 4 > len)
		return FALSE;
	if (strcmp(owner, qname) != 0 || get16(msg + *off) != qtype ||
	    get16(msg + *off + 2) != DNS_CLASS_IN)
		return FALSE;
	*off += 4;
	return TRUE;
}

gboolean
dns_reply_matches(const guint8 *msg, size_t len, guint16 id, const char *qname, guint16 qtype)
{
	size_t off;

	return reply_matches(msg, len, id, qname, qtype, &off);
}

gboolean
dns_parse_upstream_reply(const guint8 *msg, size_t len, guint16 id, const char *qname,
			 guint16 qtype, DnsUpstreamAnswer *ans)
{
	/* ~8 KiB: the CNAME chain in presentation form.  Kept off the heap so
	 * the parser has no failure mode but malformed input. */
	char chain[DNS_MAX_CHAIN][DNS_NAME_TEXT_MAX];
	char owner[DNS_NAME_TEXT_MAX];
	size_t n_chain = 1, off, answers_off;
	guint16 ancount;
	gboolean grew;

	memset(ans, 0, sizeof(*ans));
	ans->family = qtype == DNS_TYPE_AAAA ? AF_INET6 : AF_INET;
	if (!reply_matches(msg, len, id, qname, qtype, &off))
		return FALSE;
	ancount = get16(msg + 6);
	ans->rcode = get16(msg + 2) & 0xf;
	if (ans->rcode != DNS_RCODE_NOERROR)
		return TRUE;
	g_strlcpy(chain[0], qname, sizeof(chain[0]));
	answers_off = off;
	ans->ttl = G_MAXUINT32;

	/* Follow the CNAME chain whatever the record order: repeat the pass
	 * while it grows (at most DNS_MAX_CHAIN passes). */
	do {
		grew = FALSE;
		off = answers_off;
		for (guint i = 0; i < ancount; i++) {
			guint16 type, rdlen;
			guint32 ttl;
			size_t rdata;

			if (!dns_read_name(msg, len, &off, owner, NULL, NULL, NULL) || off + 10 > len)
				return FALSE;
			type = get16(msg + off);
			ttl = get32(msg + off + 4);
			rdlen = get16(msg + off + 8);
			rdata = off + 10;
			if (rdata + rdlen > len)
				return FALSE;
			off = rdata + rdlen;
			if (type != DNS_TYPE_CNAME || get16(msg + rdata - 8) != DNS_CLASS_IN ||
			    !chain_contains(chain, n_chain, owner))
				continue;
			char target[DNS_NAME_TEXT_MAX];
			size_t toff = rdata;

			if (!dns_read_name(msg, rdata + rdlen, &toff, target, NULL, NULL, NULL))
				return FALSE;
			if (chain_contains(chain, n_chain, target) || n_chain >= DNS_MAX_CHAIN)
				continue;
			g_strlcpy(chain[n_chain++], target, sizeof(chain[0]));
			ans->ttl = MIN(ans->ttl, ttl);
			grew = TRUE;
		}
	} while (grew);

	off = answers_off;
	for (guint i = 0; i < ancount; i++) {
		guint16 type, rdlen;
		size_t rdata;

		if (!dns_read_name(msg, len, &off, owner, NULL, NULL, NULL) || off + 10 > len)
			return FALSE;
		type = get16(msg + off);
		rdlen = get16(msg + off + 8);
		rdata = off + 10;
		if (rdata + rdlen > len)
			return FALSE;
		off = rdata + rdlen;
		if (type != qtype || get16(msg + rdata - 8) != DNS_CLASS_IN ||
		    !chain_contains(chain, n_chain, owner))
			continue;
		if (rdlen != (type == DNS_TYPE_AAAA ? 16 : 4))
			return FALSE;
		if (ans->n_addrs >= DNS_UPSTREAM_MAX_ADDRS)
			continue;
		memcpy(&ans->addrs[ans->n_addrs++], msg + rdata, rdlen);
		ans->ttl = MIN(ans->ttl, get32(msg + rdata - 6));
	}
	if (ans->n_addrs == 0)
		ans->ttl = 0;
	return TRUE;
}

const char *
dns_type_name(guint16 qtype, char buf[16])
{
	switch (qtype) {
	case DNS_TYPE_A: return "A";
	case DNS_TYPE_NS: return "NS";
	case DNS_TYPE_CNAME: return "CNAME";
	case DNS_TYPE_SOA: return "SOA";
	case DNS_TYPE_PTR: return "PTR";
	case DNS_TYPE_MX: return "MX";
	case DNS_TYPE_TXT: return "TXT";
	case DNS_TYPE_AAAA: return "AAAA";
	case 33: return "SRV";
	case 64: return "SVCB";
	case 65: return "HTTPS";
	case DNS_TYPE_ANY: return "ANY";
	default:
		g_snprintf(buf, 16, "TYPE%u", qtype);
		return buf;
	}
}

gboolean
dns_server_parse(const char *text, struct sockaddr_storage *sa, socklen_t *salen)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_DGRAM,
		.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
	};
	struct addrinfo *res = NULL;
	g_autofree char *host = NULL;
	const char *port = "53";
	const char *colon;
	gboolean ok;

	if (!text || !*text)
		return FALSE;
	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (!close || (close[1] != '\0' && close[1] != ':'))
			return FALSE;
		host = g_strndup(text + 1, (gsize)(close - text - 1));
		if (close[1] == ':')
			port = close + 2;
	} else if ((colon = strchr(text, ':')) && strchr(colon + 1, ':') == NULL) {
		host = g_strndup(text, (gsize)(colon - text));   /* v4:port */
		port = colon + 1;
	} else {
		host = g_strdup(text);   /* v4 or bare v6 */
	}
	if (!*port || strspn(port, "0123456789") != strlen(port) || strlen(port) > 5 ||
	    atoi(port) < 1 || atoi(port) > 65535)
		return FALSE;
	if (getaddrinfo(host, port, &hints, &res) != 0 || !res)
		return FALSE;
	ok = res->ai_addrlen <= sizeof(*sa);
	if (ok) {
		memcpy(sa, res->ai_addr, res->ai_addrlen);
		*salen = res->ai_addrlen;
	}
	freeaddrinfo(res);
	return ok;
}

char *
dns_resolv_conf_nameserver(const char *contents)
{
	g_auto(GStrv) lines = g_strsplit(contents ? contents : "", "\n", -1);

	for (char **l = lines; *l; l++) {
		g_auto(GStrv) words = g_strsplit_set(g_strstrip(*l), " \t", -1);
		guint n = 0;
		char *w[2] = { NULL, NULL };

		for (char **p = words; *p && n < 2; p++)
			if (**p)
				w[n++] = *p;
		if (n == 2 && strcmp(w[0], "nameserver") == 0)
			return g_strdup(w[1]);
	}
	return NULL;
}
