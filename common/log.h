/* SPDX-License-Identifier: MIT
 *
 * log.h — messages to the user and the -D debug log.
 *
 * sbx_warn() always goes to stderr ("mini-sandbox: warning: …").
 * sbx_debug() goes to the -D file (opened once by the launcher, inherited
 * by the set-up child, closed before the payload runs) and, with -v, to
 * stderr.  Both are async-signal-unsafe; do not call them from handlers.
 */
#pragma once

#include <glib.h>

/* Program name used as message prefix ("mini-sandbox" or "mini-tapbox"). */
void sbx_log_set_prog(const char *prog);
const char *sbx_log_prog(void);
/* Open FILE for debug output (O_APPEND|O_CLOEXEC).  FALSE + error if it cannot be opened. */
gboolean sbx_log_open_debug(const char *path, GError **error);
void sbx_log_set_verbose(gboolean verbose);
gboolean sbx_log_verbose(void);
/* The debug fd (or -1), so the pre-exec child can close it. */
int sbx_log_debug_fd(void);
void sbx_log_close_debug(void);

void sbx_warn(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
void sbx_debug(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
/* Whether sbx_debug() writes anywhere (-D or -v): for callers whose
 * message costs work to build. */
gboolean sbx_debug_enabled(void);
