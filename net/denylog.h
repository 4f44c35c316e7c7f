/* SPDX-License-Identifier: MIT
 *
 * denylog.h — what the sandbox was not allowed to do, reported.
 *
 * Three kinds of denial: a refused name (DNS query for a name that is not
 * allowlisted: NXDOMAIN), a refused answer (an upstream answer for a
 * *.domain entry pointing into a refused range), and a blocked destination
 * (a packet the ruleset rejected, reported through NFLOG), with the name
 * that led to the address when the resolver handed it out.
 *
 * Each denial goes, as it happens, to stderr with -v and as one JSON object
 * per line to --log FILE (written with O_APPEND, one write per line, so a
 * reader never sees half a record):
 *
 *   {"time":"…Z","event":"name","name":"evil.test","qtype":"A"}
 *   {"time":"…Z","event":"answer","name":"a.example.test","addr":"127.0.0.1","reason":"…"}
 *   {"time":"…Z","event":"connection","proto":"tcp","addr":"192.0.2.7","port":80,"name":"x.test"}
 *   {"time":"…Z","event":"repeat","of":"connection","count":5000,"proto":"tcp",…}
 *   {"time":"…Z","event":"cap","bytes":16777146,"note":"…"}
 *   {"time":"…Z","event":"summary","connections":3,"names":2}   (last line, at exit)
 *
 * Repeats are aggregated, so a payload that retries in a loop cannot fill
 * the host's disk: a destination is the event and what tells it apart
 * (name and qtype; name, address and reason; proto, address and port —
 * not the name that led to the address).  Its first denial is written at
 * once; later ones are counted, and every DENYLOG_REPEAT_INTERVAL_SECS
 * (and at exit) each destination with a count gets one "repeat" record
 * carrying the fields of its first record.  At most
 * DENYLOG_MAX_DESTINATIONS destinations are remembered; the least recently
 * denied one makes room (its count written first), and is new again when
 * it comes back.  The first record is also the one line on stderr without
 * -v (denylog_set_quiet).
 *
 * Size cap: at most DENYLOG_MAX_BYTES of denial records per run (the file
 * may hold older runs' lines: O_APPEND), then one "cap" record and nothing
 * more but the summary record at exit; the same budget bounds the -v lines
 * on stderr.  The counts of the summary count every denial, capped or not.
 *
 * Memory is bounded: at most DENYLOG_MAX_NAMES distinct names are
 * remembered for the "names" count; beyond that every further refusal of
 * an unremembered name counts as a new one.
 */
#pragma once

#include <glib.h>
#include <stdint.h>

#define DENYLOG_MAX_NAMES 4096
#define DENYLOG_MAX_DESTINATIONS 4096
#define DENYLOG_REPEAT_INTERVAL_SECS 10
#define DENYLOG_MAX_BYTES (16u * 1024 * 1024)
#define DENYLOG_SUMMARY_NAMED 5
#define DENYLOG_STDERR_BURST 20

typedef struct DenyLog DenyLog;

/* PROG prefixes stderr lines ("mini-tapbox").  PATH (or NULL): the JSON
 * lines file, created 0600 / appended.  VERBOSE: report each denial on
 * stderr.  NULL + error when PATH cannot be opened. */
DenyLog *denylog_new(const char *prog, const char *path, gboolean verbose, GError **error);
void denylog_free(DenyLog *l);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DenyLog, denylog_free)

/* Write the repeat records from a timer on CTX, every
 * DENYLOG_REPEAT_INTERVAL_SECS while there are repeats to write.  Without
 * it (tests) they are written by denylog_flush() and at exit only. */
void denylog_attach(DenyLog *l, GMainContext *ctx);

/* Write one "repeat" record for every destination denied again since its
 * last record. */
void denylog_flush(DenyLog *l);

/* The size cap (DENYLOG_MAX_BYTES by default).  For tests. */
void denylog_set_max_bytes(DenyLog *l, guint64 max_bytes);

/* Without -v the first denial of each destination is still shown on
 * stderr as it happens (one "PROG: denied: …" line; repeats are counted,
 * not shown): a blocked name must not leave the screen blank while the
 * payload retries (issue 16); at most DENYLOG_STDERR_BURST such lines per
 * DENYLOG_REPEAT_INTERVAL_SECS, then one line says the rest is held back.
 * QUIET (-q) turns them off. */
void denylog_set_quiet(DenyLog *l, gboolean quiet);

/* A query for NAME (presentation form, see dns-msg.h) of type QTYPE was
 * refused. */
void denylog_name(DenyLog *l, const char *name, guint16 qtype);

/* An upstream answer ADDR (FAMILY AF_INET/AF_INET6, network order) for
 * NAME (NULL when not known: no "name" field) was refused (REASON, e.g.
 * "loopback/link-local/multicast/metadata range") and not added to the
 * allowed sets, or, later, evicted from them. */
void denylog_answer(DenyLog *l, const char *name, int family, const void *addr,
		    const char *reason);

/* The ruleset blocked a packet to ADDR (FAMILY, network order), L4PROTO
 * (IPPROTO_*), PORT (host order, 0 when none); NAME is the name the
 * resolver answered with that address, or NULL. */
void denylog_connection(DenyLog *l, int family, const void *addr, guint8 l4proto, guint16 port,
			const char *name);

/* The TCP relay's name gate refused a connection to ADDR (FAMILY, network
 * order) PORT: its first bytes carried NAME ("" when none), which no
 * domain entry allows; REASON says where the name was looked for ("sni",
 * "host", "socks", "protocol").  Counted as a blocked connection:
 *   {"event":"connection","proto":"tcp",…,"name":"x.test","reason":"sni"} */
void denylog_name_on_wire(DenyLog *l, int family, const void *addr, guint16 port,
			  const char *reason, const char *name);

guint64 denylog_blocked_connections(const DenyLog *l);
guint64 denylog_refused_names(const DenyLog *l);

/* "blocked 3 connections, 2 names".  Caller frees. */
char *denylog_summary(const DenyLog *l);

/* What the summary names: ": name evil.test (A), tcp to 192.0.2.7:80
 * (x.test)" — the first DENYLOG_SUMMARY_NAMED destinations, then ", and N
 * more, see --log …"; "" when nothing was blocked.  Caller frees. */
char *denylog_summary_details(const DenyLog *l);

/* "add to the allowlist: x.test:80 evil.test:PORT …" for those
 * destinations (a refused name's port is unknown: PORT), or NULL. */
char *denylog_suggestion(const DenyLog *l);

/* At exit: the pending repeat records, the summary line on stderr ("PROG:
 * blocked …" and its details) when anything was denied or -v was given,
 * the suggestion line, and the summary record in the log file (written
 * even past the size cap). */
void denylog_finish(DenyLog *l);

/* Append S to OUT as a JSON string literal (quotes included), escaping
 * quotes, backslashes and control characters.  Exposed for tests. */
void denylog_json_string(GString *out, const char *s);
