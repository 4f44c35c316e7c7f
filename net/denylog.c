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
#include <string.h>
#include <unistd.h>

/* A destination denied before (denylog.h): its first record is written,
 * repeats are counted until the next flush. */
typedef struct {
	GList link;             /* in DenyLog.order, oldest first; data = this */
	char *key;              /* event + the fields that tell destinations apart */
	const char *event;      /* "name", "answer", "connection" */
	char *fields;           /* the JSON fields after "event", for the repeat record */
	char *what;             /* the -v description, for the repeat line */
	guint64 repeats;        /* since the last record */
} DenyDest;

struct DenyLog {
	char *prog;
	int fd;                 /* --log FILE, or -1 */
	gboolean verbose;
	gboolean finished;
	guint64 connections;
	guint64 names;
	GHashTable *seen_names; /* distinct refused names, at most DENYLOG_MAX_NAMES */
	GHashTable *dests;      /* key → DenyDest, at most DENYLOG_MAX_DESTINATIONS */
	GQueue order;           /* DenyDest links, least recently denied first */
	guint pending;          /* destinations with repeats > 0 */
	GMainContext *ctx;      /* for the flush timer; NULL: flushed at exit only */
	GSource *flush_timer;
	guint64 max_bytes;
	guint64 file_bytes, stderr_bytes;   /* written by this run */
	gboolean file_capped, stderr_capped;
	gboolean quiet;         /* -q: no run-time lines without -v */
	gint64 burst_start;     /* without -v: the current rate window (monotonic µs) */
	guint burst_lines;      /* first-denial lines shown in it */
	gboolean have_log;      /* --log given: the summary points there */
	GHashTable *shown;      /* name-gate refusals shown once (keys), bounded */
	GHashTable *summarized; /* the summary's texts of the destinations so far, bounded */
	GPtrArray *named;       /* the first DENYLOG_SUMMARY_NAMED destinations, for the summary */
	GPtrArray *suggested;   /* their allowlist entries, without duplicates */
	guint64 distinct;       /* destinations blocked (names and connections) */
};

static void
deny_dest_free(gpointer p)
{
	DenyDest *d = p;

	g_free(d->key);
	g_free(d->fields);
	g_free(d->what);
	g_free(d);
}

DenyLog *
denylog_new(const char *prog, const char *path, gboolean verbose, GError **error)
{
	g_autoptr(DenyLog) l = g_new0(DenyLog, 1);

	l->prog = g_strdup(prog ? prog : "mini-tapbox");
	l->fd = -1;
	l->verbose = verbose;
	l->seen_names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	l->dests = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, deny_dest_free);
	l->shown = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	l->summarized = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	l->named = g_ptr_array_new_with_free_func(g_free);
	l->suggested = g_ptr_array_new_with_free_func(g_free);
	l->have_log = path != NULL;
	g_queue_init(&l->order);
	l->max_bytes = DENYLOG_MAX_BYTES;
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
	if (l->flush_timer) {
		g_source_destroy(l->flush_timer);
		g_source_unref(l->flush_timer);
	}
	g_clear_pointer(&l->ctx, g_main_context_unref);
	sbx_close_fdp(&l->fd);
	g_hash_table_unref(l->dests);   /* the queue's links live in its entries */
	g_hash_table_unref(l->seen_names);
	g_hash_table_unref(l->shown);
	g_hash_table_unref(l->summarized);
	g_ptr_array_unref(l->named);
	g_ptr_array_unref(l->suggested);
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

void
denylog_attach(DenyLog *l, GMainContext *ctx)
{
	g_clear_pointer(&l->ctx, g_main_context_unref);
	l->ctx = ctx ? g_main_context_ref(ctx) : NULL;
}

void
denylog_set_max_bytes(DenyLog *l, guint64 max_bytes)
{
	l->max_bytes = max_bytes;
}

void
denylog_set_quiet(DenyLog *l, gboolean quiet)
{
	l->quiet = quiet;
}

/* A destination blocked for the first time: remember how to name it in the
 * exit summary (SUMMARY: the first few; a name refused for A and for AAAA
 * is one) and what to add to the allowlist for it. */
static void
note_blocked(DenyLog *l, const char *summary, const char *suggest)
{
	if (g_hash_table_contains(l->summarized, summary))
		return;
	if (g_hash_table_size(l->summarized) >= DENYLOG_MAX_DESTINATIONS)
		g_hash_table_remove_all(l->summarized);
	g_hash_table_add(l->summarized, g_strdup(summary));
	l->distinct++;
	if (l->named->len >= DENYLOG_SUMMARY_NAMED)
		return;
	g_ptr_array_add(l->named, g_strdup(summary));
	if (suggest && !g_ptr_array_find_with_equal_func(l->suggested, suggest, g_str_equal, NULL))
		g_ptr_array_add(l->suggested, g_strdup(suggest));
}

static void
write_file(DenyLog *l, const GString *s)
{
	if (l->fd < 0)
		return;
	if (sbx_write_all(l->fd, s->str, s->len) < 0) {
		/* a full disk must not take the sandbox down; say it once */
		sbx_warn("write denial log: %s; denials are no longer logged", g_strerror(errno));
		sbx_close_fdp(&l->fd);
		return;
	}
	l->file_bytes += s->len;
}

/* Finish record S ("}\n") and write it, unless the cap is reached: then
 * one last record says so and nothing but the summary follows.  ALWAYS:
 * the summary record, written whatever the cap. */
static void
record_write(DenyLog *l, GString *s, gboolean always)
{
	g_string_append(s, "}\n");
	if (always || (!l->file_capped && l->file_bytes + s->len <= l->max_bytes)) {
		write_file(l, s);
	} else if (!l->file_capped) {
		GString *cap = record_begin("cap");

		l->file_capped = TRUE;
		g_string_append_printf(cap, ",\"bytes\":%" G_GUINT64_FORMAT ",\"note\":\"log size "
				       "cap reached: further denials are only counted in the "
				       "summary\"}\n", l->file_bytes);
		write_file(l, cap);
		g_string_free(cap, TRUE);
	}
	g_string_free(s, TRUE);
}

static void
record_end(DenyLog *l, GString *s)
{
	record_write(l, s, FALSE);
}

/* Without -v, at most DENYLOG_STDERR_BURST first-denial lines per
 * DENYLOG_REPEAT_INTERVAL_SECS: a payload walking through thousands of
 * destinations must neither flood the terminal nor slow the launcher down
 * (writing to a slow stderr would make the kernel drop NFLOG reports). */
static gboolean
within_burst(DenyLog *l)
{
	gint64 now = g_get_monotonic_time();

	if (now - l->burst_start >= DENYLOG_REPEAT_INTERVAL_SECS * G_USEC_PER_SEC) {
		l->burst_start = now;
		l->burst_lines = 0;
	}
	if (l->burst_lines < DENYLOG_STDERR_BURST) {
		l->burst_lines++;
		return TRUE;
	}
	if (l->burst_lines++ == DENYLOG_STDERR_BURST)
		fprintf(stderr, "%s: more denials; not shown for %d s (the summary at exit names "
			"them, -v shows each)\n", l->prog, DENYLOG_REPEAT_INTERVAL_SECS);
	return FALSE;
}

/* One line "PROG: TEXT" on stderr, within the same cap as the file: every
 * denial with -v; without it the FIRST denial of each destination only
 * (issue 16: a blocked name must not leave the screen blank), unless -q,
 * and at most DENYLOG_STDERR_BURST of them in an interval. */
static void
say(DenyLog *l, const char *text, gboolean first)
{
	size_t len;

	if (!(l->verbose || (first && !l->quiet)) || l->stderr_capped)
		return;
	if (!l->verbose && !within_burst(l))
		return;
	len = strlen(l->prog) + strlen(text) + 3;
	if (l->stderr_bytes + len > l->max_bytes) {
		l->stderr_capped = TRUE;
		fprintf(stderr, "%s: denial reports stop here (size cap reached); the summary "
			"still counts every denial\n", l->prog);
		return;
	}
	l->stderr_bytes += len;
	fprintf(stderr, "%s: %s\n", l->prog, text);
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

/* The repeat record of D: {"event":"repeat","of":EVENT,"count":N,FIELDS}. */
static void
write_repeats(DenyLog *l, DenyDest *d)
{
	g_autofree char *line = NULL;
	GString *s;

	if (!d->repeats)
		return;
	line = g_strdup_printf("denied again %" G_GUINT64_FORMAT " time%s: %s", d->repeats,
			       d->repeats == 1 ? "" : "s", d->what);
	say(l, line, FALSE);
	s = record_begin("repeat");
	g_string_append_printf(s, ",\"of\":\"%s\",\"count\":%" G_GUINT64_FORMAT "%s", d->event,
			       d->repeats, d->fields);
	record_end(l, s);
	d->repeats = 0;
	l->pending--;
}

void
denylog_flush(DenyLog *l)
{
	for (GList *i = l->order.head; i && l->pending; i = i->next)
		write_repeats(l, i->data);
}

/* GSourceFunc: an interval is over; one repeat record per destination. */
static gboolean
on_flush_timer(gpointer data)
{
	DenyLog *l = data;

	denylog_flush(l);
	g_clear_pointer(&l->flush_timer, g_source_unref);
	return G_SOURCE_REMOVE;
}

static void
arm_flush_timer(DenyLog *l)
{
	if (l->flush_timer || !l->ctx || l->finished)
		return;
	l->flush_timer = g_timeout_source_new_seconds(DENYLOG_REPEAT_INTERVAL_SECS);
	g_source_set_callback(l->flush_timer, on_flush_timer, l, NULL);
	g_source_attach(l->flush_timer, l->ctx);
}

/* A denial of the destination KEY.  Known: counted for the next repeat
 * record.  New: remembered (the least recently denied one makes room,
 * its count written first) and TRUE: the caller writes its record. */
static gboolean
deny_first(DenyLog *l, const char *event, char *key, char *fields, char *what)
{
	DenyDest *d = g_hash_table_lookup(l->dests, key);

	if (d) {
		if (d->repeats++ == 0)
			l->pending++;
		g_queue_unlink(&l->order, &d->link);
		g_queue_push_tail_link(&l->order, &d->link);
		arm_flush_timer(l);
		g_free(key);
		g_free(fields);
		g_free(what);
		return FALSE;
	}
	if (g_hash_table_size(l->dests) >= DENYLOG_MAX_DESTINATIONS) {
		DenyDest *oldest = l->order.head->data;

		write_repeats(l, oldest);
		g_queue_unlink(&l->order, &oldest->link);
		g_hash_table_remove(l->dests, oldest->key);
	}
	d = g_new0(DenyDest, 1);
	d->link.data = d;
	d->key = key;
	d->event = event;
	d->fields = fields;
	d->what = what;
	g_hash_table_insert(l->dests, d->key, d);
	g_queue_push_tail_link(&l->order, &d->link);
	return TRUE;
}

/* Write the first record of a destination: the -v line WHAT (SHOWN: also
 * without -v) and {"time":…,"event":EVENT FIELDS}. */
static void
write_first(DenyLog *l, const char *event, const char *fields, const char *what, gboolean shown)
{
	g_autofree char *line = g_strdup_printf("denied: %s", what);
	GString *s;

	say(l, line, shown);
	s = record_begin(event);
	g_string_append(s, fields);
	record_end(l, s);
}

/* SUMMARY (taken, may be NULL): how the exit summary names it — a name or
 * a connection the payload wanted; NULL for the resolver's own refusals of
 * answers (a refused range, an eviction from the full table), which are
 * only in -v and the --log file.  SUGGEST (taken, may be NULL): the
 * allowlist entry for it. */
static void
deny(DenyLog *l, const char *event, char *key, GString *fields, char *what, char *summary,
     char *suggest)
{
	g_autofree char *f = g_string_free(fields, FALSE);

	if (deny_first(l, event, key, g_strdup(f), g_strdup(what))) {
		write_first(l, event, f, what, summary != NULL);
		if (summary)
			note_blocked(l, summary, suggest);
	}
	g_free(what);
	g_free(summary);
	g_free(suggest);
}

void
denylog_name(DenyLog *l, const char *name, guint16 qtype)
{
	char tbuf[16];
	const char *type = dns_type_name(qtype, tbuf);
	GString *f = g_string_new(",\"name\":");

	if (!g_hash_table_contains(l->seen_names, name)) {
		l->names++;
		if (g_hash_table_size(l->seen_names) < DENYLOG_MAX_NAMES)
			g_hash_table_add(l->seen_names, g_strdup(name));
	}
	denylog_json_string(f, name);
	g_string_append_printf(f, ",\"qtype\":\"%s\"", type);
	/* the port a name needs is unknown: no connection could follow */
	deny(l, "name", g_strdup_printf("name %s %s", type, name), f,
	     g_strdup_printf("name %s (%s): not in the allowlist", name, type),
	     g_strdup_printf("name %s", name),
	     qtype == DNS_TYPE_A || qtype == DNS_TYPE_AAAA ? g_strdup_printf("%s:PORT", name)
							   : NULL);
}

void
denylog_answer(DenyLog *l, const char *name, int family, const void *addr, const char *reason)
{
	char abuf[INET6_ADDRSTRLEN] = "?";
	GString *f = g_string_new(NULL);

	inet_ntop(family, addr, abuf, sizeof(abuf));
	if (name) {
		g_string_append(f, ",\"name\":");
		denylog_json_string(f, name);
	}
	g_string_append_printf(f, ",\"addr\":\"%s\",\"reason\":", abuf);
	denylog_json_string(f, reason);
	deny(l, "answer", g_strdup_printf("answer %s %s %s", abuf, name ? name : "", reason), f,
	     g_strdup_printf("answer %s%s%s: %s", abuf, name ? " for " : "", name ? name : "",
			     reason), NULL, NULL);
}

/* The allowlist entry for a blocked connection: by the name that led to
 * it (a domain entry admits UDP only with /udp), else by address. */
static char *
connection_entry(const char *where, const char *proto, guint8 l4proto, guint16 port,
		 const char *name)
{
	if (!port)
		return name ? g_strdup(name) : NULL;
	if (name)
		return g_strdup_printf("%s:%u%s", name, port, l4proto == IPPROTO_UDP ? "/udp" : "");
	return g_strdup_printf("%s/%s", where, proto);
}

void
denylog_connection(DenyLog *l, int family, const void *addr, guint8 l4proto, guint16 port,
		   const char *name)
{
	char abuf[INET6_ADDRSTRLEN] = "?", pbuf[8];
	const char *proto = proto_name(l4proto, pbuf);
	g_autofree char *where = NULL;
	GString *f = g_string_new(NULL);

	l->connections++;
	inet_ntop(family, addr, abuf, sizeof(abuf));
	where = port ? g_strdup_printf(family == AF_INET6 ? "[%s]:%u" : "%s:%u", abuf, port)
		     : g_strdup(abuf);
	g_string_append_printf(f, ",\"proto\":\"%s\",\"addr\":\"%s\"", proto, abuf);
	if (port)
		g_string_append_printf(f, ",\"port\":%u", port);
	if (name) {
		g_string_append(f, ",\"name\":");
		denylog_json_string(f, name);
	}
	/* the name is not part of the key: it tells where the address came
	 * from, the destination is the same */
	deny(l, "connection", g_strdup_printf("connection %s %s", proto, where), f,
	     g_strdup_printf("%s to %s%s%s%s", proto, where, name ? " (" : "", name ? name : "",
			     name ? ")" : ""),
	     g_strdup_printf("%s to %s%s%s%s", proto, where, name ? " (" : "", name ? name : "",
			     name ? ")" : ""),
	     connection_entry(where, proto, l4proto, port, name));
}

void
denylog_name_on_wire(DenyLog *l, int family, const void *addr, guint16 port, const char *reason,
		     const char *name)
{
	char abuf[INET6_ADDRSTRLEN] = "?";
	GString *s;

	g_autofree char *where = NULL, *what = NULL, *key = NULL, *line = NULL;
	gboolean first;

	l->connections++;
	inet_ntop(family, addr, abuf, sizeof(abuf));
	where = g_strdup_printf(family == AF_INET6 ? "[%s]:%u" : "%s:%u", abuf, port);
	what = name[0] ? g_strdup_printf("tcp to %s: %s name %s is not in the allowlist", where,
					 reason, name)
		       : g_strdup_printf("tcp to %s: no host name in the first bytes (%s)", where,
					 reason);
	/* every record goes to the file; on stderr the first of each only */
	key = g_strdup_printf("%s %s %s", where, reason, name);
	first = !g_hash_table_contains(l->shown, key);
	if (first) {
		if (g_hash_table_size(l->shown) >= DENYLOG_MAX_DESTINATIONS)
			g_hash_table_remove_all(l->shown);
		g_hash_table_add(l->shown, g_steal_pointer(&key));
		g_autofree char *summary = g_strdup_printf("tcp to %s (%s %s)", where, reason,
							   name[0] ? name : "without a name");
		g_autofree char *suggest = name[0] ? g_strdup_printf("%s:%u", name, port) : NULL;

		note_blocked(l, summary, suggest);
	}
	line = g_strdup_printf("denied: %s", what);
	say(l, line, first);
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

char *
denylog_summary_details(const DenyLog *l)
{
	GString *s = g_string_new(NULL);

	for (guint i = 0; i < l->named->len; i++)
		g_string_append_printf(s, "%s%s", i ? ", " : ": ",
				       (const char *)g_ptr_array_index(l->named, i));
	if (l->distinct > l->named->len)
		g_string_append_printf(s, ", and %" G_GUINT64_FORMAT " more, see %s",
				       l->distinct - l->named->len,
				       l->have_log ? "the --log file" : "--log FILE or -v");
	return g_string_free(s, FALSE);
}

char *
denylog_suggestion(const DenyLog *l)
{
	GString *s;
	gboolean port_unknown = FALSE;

	if (l->suggested->len == 0)
		return NULL;
	s = g_string_new("add to the allowlist:");
	for (guint i = 0; i < l->suggested->len; i++) {
		const char *e = g_ptr_array_index(l->suggested, i);

		g_string_append_printf(s, " %s", e);
		port_unknown |= g_str_has_suffix(e, ":PORT");
	}
	if (port_unknown)
		g_string_append(s, " (PORT: the port the name is used on, 443 for HTTPS)");
	g_string_append(s, "; or let --learn FILE write the list");
	return g_string_free(s, FALSE);
}

void
denylog_finish(DenyLog *l)
{
	g_autofree char *line = NULL, *details = NULL, *suggestion = NULL;
	GString *s;

	if (l->finished)
		return;
	denylog_flush(l);
	l->finished = TRUE;
	line = denylog_summary(l);
	details = denylog_summary_details(l);
	suggestion = denylog_suggestion(l);
	if (l->verbose || l->connections || l->names)
		fprintf(stderr, "%s: %s%s\n", l->prog, line, details);
	if (suggestion)
		fprintf(stderr, "%s: %s\n", l->prog, suggestion);
	if (l->fd < 0)
		return;   /* no --log: no record to build (its time stamp reads the locale's charset) */
	s = record_begin("summary");
	g_string_append_printf(s, ",\"connections\":%" G_GUINT64_FORMAT ",\"names\":%"
			       G_GUINT64_FORMAT, l->connections, l->names);
	record_write(l, s, TRUE);
}
