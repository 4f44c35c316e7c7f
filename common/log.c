/* SPDX-License-Identifier: MIT */
#include "common/log.h"
#include "common/error.h"
#include "common/safepath.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static const char *prog_name = "mini-sandbox";
static int debug_fd = -1;
static gboolean verbose_on;

void sbx_log_set_prog(const char *prog) { prog_name = prog; }
const char *sbx_log_prog(void) { return prog_name; }
void sbx_log_set_verbose(gboolean verbose) { verbose_on = verbose; }
gboolean sbx_log_verbose(void) { return verbose_on; }
int sbx_log_debug_fd(void) { return debug_fd; }

gboolean
sbx_log_open_debug(const char *path, GError **error)
{
	/* Written as the caller, outside the sandbox: never through a link a
	 * sandbox planted (safepath.h). */
	int fd = sbx_open_settings_file(path, O_WRONLY | O_CREAT | O_APPEND, "-D", error);

	if (fd < 0)
		return FALSE;
	sbx_log_close_debug();
	debug_fd = fd;
	return TRUE;
}

void
sbx_log_close_debug(void)
{
	if (debug_fd >= 0)
		close(debug_fd);
	debug_fd = -1;
}

void
sbx_warn(const char *fmt, ...)
{
	va_list ap;
	g_autofree char *msg = NULL;
	int saved = errno;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: warning: %s\n", prog_name, msg);
	if (debug_fd >= 0)
		dprintf(debug_fd, "[%d] warning: %s\n", (int)getpid(), msg);
	errno = saved;
}

gboolean
sbx_debug_enabled(void)
{
	return debug_fd >= 0 || verbose_on;
}

void
sbx_debug(const char *fmt, ...)
{
	va_list ap;
	g_autofree char *msg = NULL;
	struct timespec ts;
	int saved = errno;

	if (debug_fd < 0 && !verbose_on)
		return;
	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (debug_fd >= 0)
		dprintf(debug_fd, "%ld.%06ld [%d] %s\n", (long)ts.tv_sec, ts.tv_nsec / 1000,
			(int)getpid(), msg);
	if (verbose_on)
		fprintf(stderr, "%s: %s\n", prog_name, msg);
	errno = saved;
}
