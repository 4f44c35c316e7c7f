/* SPDX-License-Identifier: MIT
 *
 * discarded.c — count an overlay's upper directory; see discarded.h.
 */
#include "mounts/discarded.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
	DiscardCount *count;
	guint64 entries;
} ScanState;

static void scan_dir(ScanState *s, int dirfd, guint depth);

static void
scan_entry(ScanState *s, int dirfd, const char *name, guint depth)
{
	struct stat st;
	int sub;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		s->count->partial = TRUE;
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		/* overlayfs marks a deleted lower file with a 0/0 char device */
		if (S_ISCHR(st.st_mode) && st.st_rdev == 0) {
			s->count->deletions++;
			return;
		}
		s->count->files++;
		if (S_ISREG(st.st_mode))
			s->count->bytes += (guint64)st.st_size;
		return;
	}
	if (depth + 1 >= DISCARD_MAX_DEPTH) {
		s->count->partial = TRUE;
		return;
	}
	sub = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sub < 0) {
		s->count->partial = TRUE;
		return;
	}
	scan_dir(s, sub, depth + 1);  /* closes sub */
}

/* Consumes DIRFD. */
static void
scan_dir(ScanState *s, int dirfd, guint depth)
{
	DIR *d = fdopendir(dirfd);
	struct dirent *e;

	if (!d) {
		close(dirfd);
		s->count->partial = TRUE;
		return;
	}
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (++s->entries > DISCARD_MAX_ENTRIES) {
			s->count->partial = TRUE;
			break;
		}
		scan_entry(s, dirfd, e->d_name, depth);
	}
	closedir(d);
}

void
discard_count_dir(int dirfd, DiscardCount *count)
{
	ScanState s = { .count = count };
	int own = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	memset(count, 0, sizeof *count);
	if (own < 0) {
		count->partial = TRUE;
		return;
	}
	scan_dir(&s, own, 0);
}

void
discard_count_subtract(DiscardCount *count, const DiscardCount *baseline)
{
	count->files -= MIN(count->files, baseline->files);
	count->bytes -= MIN(count->bytes, baseline->bytes);
	count->deletions -= MIN(count->deletions, baseline->deletions);
}

/* "41 MB", "1.5 kB", "3 bytes": ASCII only (g_format_size uses a
 * no-break space), decimal units as df -H and npm print them. */
static char *
format_size(guint64 bytes)
{
	static const char *const units[] = { "kB", "MB", "GB", "TB" };
	double v = (double)bytes;
	gsize u = 0;

	if (bytes < 1000)
		return g_strdup_printf("%" G_GUINT64_FORMAT " byte%s", bytes, bytes == 1 ? "" : "s");
	v /= 1000.0;
	while (v >= 999.5 && u + 1 < G_N_ELEMENTS(units)) {
		v /= 1000.0;
		u++;
	}
	return v < 9.95 ? g_strdup_printf("%.1f %s", v, units[u])
			: g_strdup_printf("%.0f %s", v, units[u]);
}

static const char *
advice(const char *target, const char *why, GString *buf)
{
	if (g_strcmp0(why, "-o root") == 0)
		g_string_printf(buf, "keep them with -d DIR --keep-overlay");
	else if (g_strcmp0(why, "-k") == 0)
		g_string_printf(buf, "keep them with -w %s instead of -k", target);
	else
		g_string_printf(buf, "keep them with -w %s", target);
	return buf->str;
}

char *
discard_describe(const char *target, const char *why, const DiscardCount *count)
{
	g_autoptr(GString) hint = g_string_new(NULL);
	g_autofree char *size = NULL;
	const char *more = count->partial ? "at least " : "";

	if (count->files == 0 && count->deletions == 0)
		return NULL;
	advice(target, why, hint);
	if (count->files == 0)
		return g_strdup_printf("discarded %s%" G_GUINT64_FORMAT " deletion%s under %s: %s",
				       more, count->deletions, count->deletions == 1 ? "" : "s",
				       target, hint->str);
	size = format_size(count->bytes);
	return g_strdup_printf("discarded %s%" G_GUINT64_FORMAT " file%s (%s) written under %s: %s",
			       more, count->files, count->files == 1 ? "" : "s", size, target,
			       hint->str);
}
