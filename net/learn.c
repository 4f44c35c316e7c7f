/* SPDX-License-Identifier: MIT
 *
 * learn.c — see learn.h.
 */
#include "net/learn.h"
#include "net/allowlist.h"
#include "common/error.h"
#include "common/fdutil.h"
#include "common/log.h"
#include "common/safepath.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

typedef enum {
	LEARN_CONNECTED = 0,   /* the command connected */
	LEARN_BLOCKED,         /* the enforced list blocked it */
	LEARN_REFUSED_NAME,    /* the enforced list refused the lookup */
} LearnKind;

typedef struct {
	LearnKind kind;
	guint64 count;
	gint64 first_seen;     /* real time, µs */
	guint16 last_sport;    /* UDP: a new source port is a new "connection" */
} LearnEntry;

struct Learner {
	gboolean enforced;
	gint64 started;
	GHashTable *entries;   /* entry text → LearnEntry */
	GHashTable *lookups;   /* name → first seen (gint64 *), resolved names */
	guint64 dropped;       /* not recorded: a bound was reached */
};

Learner *
learn_new(gboolean enforced)
{
	Learner *l = g_new0(Learner, 1);

	l->enforced = enforced;
	l->started = g_get_real_time();
	l->entries = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	l->lookups = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	return l;
}

void
learn_free(Learner *l)
{
	if (!l)
		return;
	g_hash_table_unref(l->entries);
	g_hash_table_unref(l->lookups);
	g_free(l);
}

void
learn_lookup(Learner *l, const char *name)
{
	g_autofree char *norm = allowlist_normalize_domain(name);
	gint64 *when;

	/* with an enforced list, an answered name was allowed: nothing to learn */
	if (l->enforced || !norm || g_hash_table_contains(l->lookups, norm))
		return;
	if (g_hash_table_size(l->lookups) >= LEARN_MAX_NAMES) {
		l->dropped++;
		return;
	}
	when = g_new(gint64, 1);
	*when = g_get_real_time();
	g_hash_table_insert(l->lookups, g_steal_pointer(&norm), when);
}

/* Count one more of ENTRY; SPORT (UDP, else 0) decides whether a datagram
 * is a new exchange. */
static void
record(Learner *l, char *entry, LearnKind kind, guint16 sport)
{
	LearnEntry *e = g_hash_table_lookup(l->entries, entry);

	if (e) {
		if (!sport || sport != e->last_sport)
			e->count++;
		e->last_sport = sport;
		g_free(entry);
		return;
	}
	if (g_hash_table_size(l->entries) >= LEARN_MAX_ENTRIES) {
		l->dropped++;
		g_free(entry);
		return;
	}
	e = g_new0(LearnEntry, 1);
	e->kind = kind;
	e->count = 1;
	e->first_seen = g_get_real_time();
	e->last_sport = sport;
	g_hash_table_insert(l->entries, entry, e);
}

void
learn_refused_name(Learner *l, const char *name)
{
	char *norm = allowlist_normalize_domain(name);

	if (norm)
		record(l, norm, LEARN_REFUSED_NAME, 0);
}

/* "name:443", "name:53/udp", "192.0.2.7:80/tcp", "[2001:db8::1]:53/udp" */
static char *
connection_entry(int family, const void *addr, gboolean udp, guint16 dport, const char *name)
{
	g_autofree char *norm = name && *name ? allowlist_normalize_domain(name) : NULL;
	char text[INET6_ADDRSTRLEN];

	if (norm)
		return g_strdup_printf("%s:%u%s", norm, dport, udp ? "/udp" : "");
	if (!inet_ntop(family, addr, text, sizeof text))
		return NULL;
	return g_strdup_printf(family == AF_INET6 ? "[%s]:%u/%s" : "%s:%u/%s", text, dport,
			       udp ? "udp" : "tcp");
}

void
learn_connection(Learner *l, int family, const void *addr, guint8 l4proto, guint16 sport,
		 guint16 dport, const char *name)
{
	gboolean udp = l4proto == IPPROTO_UDP;
	char *entry;

	if ((l4proto != IPPROTO_TCP && !udp) || dport == 0 ||
	    (family != AF_INET && family != AF_INET6))
		return;
	entry = connection_entry(family, addr, udp, dport, name);
	if (entry)
		record(l, entry, l->enforced ? LEARN_BLOCKED : LEARN_CONNECTED, udp ? sport : 0);
}

static char *
format_time(gint64 usec)
{
	g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(usec / G_USEC_PER_SEC);

	return t ? g_date_time_format(t, "%Y-%m-%dT%H:%M:%SZ") : g_strdup("?");
}

static gint
compare_strings(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of TABLE, sorted. */
static GPtrArray *
sorted_keys(GHashTable *table)
{
	GPtrArray *keys = g_ptr_array_new();
	GHashTableIter it;
	gpointer k;

	g_hash_table_iter_init(&it, table);
	while (g_hash_table_iter_next(&it, &k, NULL))
		g_ptr_array_add(keys, k);
	g_ptr_array_sort(keys, compare_strings);
	return keys;
}

static void
render_header(const Learner *l, GString *out, const char *command, gint64 now)
{
	g_autofree char *from = format_time(l->started);
	g_autofree char *to = format_time(now);

	g_string_append_printf(out, "# Allowlist written by %s --learn (mini-sandbox-allowlist(5))\n",
			       sbx_log_prog());
	if (command)
		g_string_append_printf(out, "# from a run of: %s\n", command);
	g_string_append_printf(out, "# between %s and %s.\n", from, to);
	if (l->enforced)
		g_string_append(out, "# Only what the allowlist given with it (-F/--allow) denied:\n"
				     "# add these to that list once you have checked them.\n");
	else
		g_string_append(out, "# Every destination the command connected to: a name where the\n"
				     "# connection followed a lookup of it, else the address.\n"
				     "# Review before use with -F.\n");
	if (l->dropped)
		g_string_append_printf(out, "# INCOMPLETE: %" G_GUINT64_FORMAT " more not recorded "
				       "(at most %d entries and %d names are kept).\n",
				       l->dropped, LEARN_MAX_ENTRIES, LEARN_MAX_NAMES);
}

static void
render_entry(GString *out, const char *entry, const LearnEntry *e)
{
	g_autofree char *first = format_time(e->first_seen);
	int pad = MAX(1, 40 - (int)strlen(entry));

	switch (e->kind) {
	case LEARN_REFUSED_NAME:
		g_string_append_printf(out, "%s%*s# looked up %" G_GUINT64_FORMAT " time%s, first %s; "
				       "refused, so the port is unknown: narrow it to %s:PORT "
				       "after the next run\n", entry, pad, "", e->count,
				       e->count == 1 ? "" : "s", first, entry);
		break;
	case LEARN_BLOCKED:
		g_string_append_printf(out, "%s%*s# blocked %" G_GUINT64_FORMAT " time%s, first %s\n",
				       entry, pad, "", e->count, e->count == 1 ? "" : "s", first);
		break;
	case LEARN_CONNECTED:
	default:
		g_string_append_printf(out, "%s%*s# %" G_GUINT64_FORMAT " connection%s, first %s\n",
				       entry, pad, "", e->count, e->count == 1 ? "" : "s", first);
		break;
	}
}

/* Is NAME the name part of some entry ("NAME:…" or "NAME")? */
static gboolean
name_has_entry(const Learner *l, GPtrArray *keys, const char *name)
{
	size_t n = strlen(name);

	if (g_hash_table_contains(l->entries, name))
		return TRUE;
	for (guint i = 0; i < keys->len; i++) {
		const char *k = g_ptr_array_index(keys, i);

		if (strncmp(k, name, n) == 0 && k[n] == ':')
			return TRUE;
	}
	return FALSE;
}

char *
learn_render(const Learner *l, const char *command, gint64 now)
{
	GString *out = g_string_new(NULL);
	g_autoptr(GPtrArray) keys = sorted_keys(l->entries);
	g_autoptr(GPtrArray) names = sorted_keys(l->lookups);
	gboolean titled = FALSE;

	render_header(l, out, command, now);
	g_string_append_c(out, '\n');
	for (guint i = 0; i < keys->len; i++) {
		const char *k = g_ptr_array_index(keys, i);

		render_entry(out, k, g_hash_table_lookup(l->entries, k));
	}
	if (keys->len == 0)
		g_string_append(out, "# (nothing)\n");
	/* Names resolved but never connected to: for the reader, not allowed. */
	for (guint i = 0; i < names->len; i++) {
		const char *name = g_ptr_array_index(names, i);

		if (name_has_entry(l, keys, name))
			continue;
		if (!titled)
			g_string_append(out, "\n# Looked up, never connected to (not allowed):\n");
		titled = TRUE;
		g_string_append_printf(out, "#   %s\n", name);
	}
	return g_string_free(out, FALSE);
}

/* The directory of PATH, opened O_PATH without following a link a sandbox
 * could have planted (the walk of common/safepath.h, then openat2 with
 * RESOLVE_NO_SYMLINKS on the result). */
static int
open_parent_dir(const char *path, GError **error)
{
	g_autofree char *dir = g_path_get_dirname(path);
	SbxPathInfo info = { 0 };
	struct open_how how = {
		.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	int fd = -1;

	if (!sbx_path_resolve(dir, FALSE, &info)) {
		if (info.link)
			g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_CONFIG,
				    "--learn %s: %s is a symbolic link (to %s) in a directory the "
				    "sandbox could write; not followed", path, info.link, info.target);
		else
			sbx_set_errno(error, info.err, "--learn %s: directory %s", path, dir);
	} else {
		fd = (int)syscall(SYS_openat2, AT_FDCWD, info.canonical, &how, sizeof how);
		if (fd < 0)
			sbx_set_errno(error, errno, "--learn %s: open directory %s", path,
				      info.canonical);
	}
	sbx_path_info_clear(&info);
	return fd;
}

gboolean
learn_write_file(const Learner *l, const char *path, const char *prefix, const char *command,
		 GError **error)
{
	g_autofree char *text = learn_render(l, command, g_get_real_time());
	g_autofree char *base = g_path_get_basename(path);
	g_autofree char *tmp = NULL;
	autoclose int dir = -1;
	autoclose int fd = -1;
	int r;

	dir = open_parent_dir(path, error);
	if (dir < 0)
		return FALSE;
	/* O_EXCL with a random name: nothing planted under that name is
	 * opened, and rename(2) replaces PATH itself, never a link's target. */
	tmp = g_strdup_printf(".%s.%08x.tmp", base, g_random_int());
	fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return sbx_set_errno(error, errno, "--learn %s: create %s", path, tmp);
	if (prefix && *prefix) {
		/* the grown list: what it was, then what this run adds */
		g_autofree char *body = g_steal_pointer(&text);

		text = g_strconcat(prefix, prefix[strlen(prefix) - 1] == '\n' ? "" : "\n", "\n",
				   body, NULL);
	}
	r = sbx_write_all(fd, text, strlen(text));
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (r < 0) {
		unlinkat(dir, tmp, 0);
		return sbx_set_errno(error, -r, "--learn %s: write %s", path, tmp);
	}
	if (renameat(dir, tmp, dir, base) < 0) {
		int e = errno;

		unlinkat(dir, tmp, 0);
		return sbx_set_errno(error, e, "--learn %s: rename %s over it", path, tmp);
	}
	return TRUE;
}
