/* SPDX-License-Identifier: MIT
 *
 * denylog.c — denial records on stderr (-v) and as JSON lines (--log).
 * See denylog.h.
 */
#include "net/denylog.h"
#include "net/dns-msg.h"
#include "common/error.h"
#include "common/fdutil.h"
#include "common/log.h"
#include "common/safepath.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <unistd.h>

struct DenyLog {
	char *prog;
	int fd;                 /* --log FILE, or -1 */
	gboolean verbose;
	gboolean finished;
	guint64 connections;
	guint64 names;
	GHashTable *seen_names; /* distinct refused names, at most DENYLOG_MAX_NAMES */
};

DenyLog *
denylog_new(const char *prog, const char *path, gboolean verbose, GError **error)
{
	g_autoptr(DenyLog) l = g_new0(DenyLog, 1);

	l->prog = g_strdup(prog ? prog : "mini-tapbox");
	l->fd = -1;
	l->verbose = verbose;
	l->seen_names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	if (path) {
		/* the launcher writes it: never through a planted link */
		l->fd = sbx_open_settings_file(path, O_WRONLY | O_CREAT | O_APPEND, "--log", error);
		if (l->fd < 0)
			return NULL;
	}
	return g_steal_pointer(&l);
}

void
denylog_free(DenyLog *l)
{
	if (!l)
		return;
	sbx_close_fdp(&l->fd);
	g_hash_table_unref(l->seen_names);
	g_free(l->prog);
	g_free(l);
}

void
denylog_json_string(GString *out, const char *s)
{
	g_string_append_c(out, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': g_string_append(out, "\\\""); break;
		case '\\': g_string_append(out, "\\\\"); break;
		case '\n': g_string_append(out, "\\n"); break;
		case '\t': g_string_append(out, "\\t"); break;
		default:
			/* control bytes, and non-ASCII so the file stays valid UTF-8 */
			if (*p < 0x20 || *p >= 0x7f)
				g_string_append_printf(out, "\\u%04x", *p);
			else
				g_string_append_c(out, (char)*p);
		}
	}
	g_string_append_c(out, '"');
}

/* Start a JSON record: {"time":"…","event":"EVENT" */
static GString *
record_begin(const char *event)
{
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	g_autofree char *stamp = g_date_time_format(now, "%Y-%m-%dT%H:%M:%S");
	GString *s = g_string_new(NULL);

	g_string_append_printf(s, "{\"time\":\"%s.%03dZ\",\"event\":\"%s\"", stamp,
			       g_date_time_get_microsecond(now) / 1000, event);
	return s;
}

static void
record_end(DenyLog *l, GString *s)
{
	g_string_append(s, "}\n");
	if (l->fd >= 0 && sbx_write_all(l->fd, s->str, s->len) < 0) {
		/* a full disk must not take the sandbox down; say it once */
		sbx_warn("write denial log: %s; denials are no longer logged", g_strerror(errno));
		sbx_close_fdp(&l->fd);
	}
	g_string_free(s, TRUE);
}

static const char *
proto_name(guint8 l4proto, char buf[8])
{
	switch (l4proto) {
	case IPPROTO_TCP: return "tcp";
	case IPPROTO_UDP: return "udp";
	case IPPROTO_ICMP: return "icmp";
	case IPPROTO_ICMPV6: return "icmpv6";
	case IPPROTO_SCTP: return "sctp";
	default:
		g_snprintf(buf, 8, "%u", l4proto);
		return buf;
	}
}

void
denylog_name(DenyLog *l, const char *name, guint16 qtype)
{
	char tbuf[16];
	const char *type = dns_type_name(qtype, tbuf);
	GString *s;

	if (!g_hash_table_contains(l->seen_names, name)) {
		l->names++;
		if (g_hash_table_size(l->seen_names) < DENYLOG_MAX_NAMES)
			g_hash_table_add(l->seen_names, g_strdup(name));
	}
	if (l->verbose)
		fprintf(stderr, "%s: denied: name %s (%s): not in the allowlist\n", l->prog, name,
			type);
	s = record_begin("name");
	g_string_append(s, ",\"name\":");
	denylog_json_string(s, name);
	g_string_append_printf(s, ",\"qtype\":\"%s\"", type);
	record_end(l, s);
}

void
denylog_answer(DenyLog *l, const char *name, int family, const void *addr, const char *reason)
{
	char abuf[INET6_ADDRSTRLEN] = "?";
	GString *s;

	inet_ntop(family, addr, abuf, sizeof(abuf));
	if (l->verbose)
		fprintf(stderr, "%s: denied: answer %s for %s: %s\n", l->prog, abuf, name, reason);
	s = record_begin("answer");
	g_string_append(s, ",\"name\":");
	denylog_json_string(s, name);
	g_string_append_printf(s, ",\"addr\":\"%s\",\"reason\":", abuf);
	denylog_json_string(s, reason);
	record_end(l, s);
}

void
denylog_connection(DenyLog *l, int family, const void *addr, guint8 l4proto, guint16 port,
		   const char *name)
{
	char abuf[INET6_ADDRSTRLEN] = "?", pbuf[8];
	const char *proto = proto_name(l4proto, pbuf);
	GString *s;

	l->connections++;
	inet_ntop(family, addr, abuf, sizeof(abuf));
	if (l->verbose) {
		g_autofree char *where = port ? g_strdup_printf(family == AF_INET6 ? "[%s]:%u" : "%s:%u",
								abuf, port)
					      : g_strdup(abuf);

		fprintf(stderr, "%s: denied: %s to %s%s%s%s\n", l->prog, proto, where,
			name ? " (" : "", name ? name : "", name ? ")" : "");
	}
	s = record_begin("connection");
	g_string_append_printf(s, ",\"proto\":\"%s\",\"addr\":\"%s\"", proto, abuf);
	if (port)
		g_string_append_printf(s, ",\"port\":%u", port);
	if (name) {
		g_string_append(s, ",\"name\":");
		denylog_json_string(s, name);
	}
	record_end(l, s);
}

void
denylog_name_on_wire(DenyLog *l, int family, const void *addr, guint16 port, const char *reason,
		     const char *name)
{
	char abuf[INET6_ADDRSTRLEN] = "?";
	GString *s;

	l->connections++;
	inet_ntop(family, addr, abuf, sizeof(abuf));
	if (l->verbose) {
		if (name[0])
			fprintf(stderr, "%s: denied: tcp to %s%s%s:%u: %s name %s is not in the "
				"allowlist\n", l->prog, family == AF_INET6 ? "[" : "", abuf,
				family == AF_INET6 ? "]" : "", port, reason, name);
		else
			fprintf(stderr, "%s: denied: tcp to %s%s%s:%u: no host name in the first "
				"bytes (%s)\n", l->prog, family == AF_INET6 ? "[" : "", abuf,
				family == AF_INET6 ? "]" : "", port, reason);
	}
	s = record_begin("connection");
	g_string_append_printf(s, ",\"proto\":\"tcp\",\"addr\":\"%s\",\"port\":%u,\"name\":",
			       abuf, port);
	denylog_json_string(s, name);
	g_string_append(s, ",\"reason\":");
	denylog_json_string(s, reason);
	record_end(l, s);
}

guint64
denylog_blocked_connections(const DenyLog *l)
{
	return l->connections;
}

guint64
denylog_refused_names(const DenyLog *l)
{
	return l->names;
}

char *
denylog_summary(const DenyLog *l)
{
	return g_strdup_printf("blocked %" G_GUINT64_FORMAT " connection%s, %" G_GUINT64_FORMAT
			       " name%s", l->connections, l->connections == 1 ? "" : "s",
			       l->names, l->names == 1 ? "" : "s");
}

void
denylog_finish(DenyLog *l)
{
	g_autofree char *line = NULL;
	GString *s;

	if (l->finished)
		return;
	l->finished = TRUE;
	line = denylog_summary(l);
	if (l->verbose || l->connections || l->names)
		fprintf(stderr, "%s: %s\n", l->prog, line);
	s = record_begin("summary");
	g_string_append_printf(s, ",\"connections\":%" G_GUINT64_FORMAT ",\"names\":%"
			       G_GUINT64_FORMAT, l->connections, l->names);
	record_end(l, s);
}
