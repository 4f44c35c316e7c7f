/* SPDX-License-Identifier: MIT
 *
 * error.h — one GError domain for the whole project.
 *
 * The codes are the public libminisandbox error codes (same values as the
 * original mini-sandbox project), so an error raised deep in mounts/ or net/
 * reaches mini_sandbox_get_last_error_code() unchanged.  Modules return
 * gboolean + GError **; only main() and the pre-exec child turn an error into
 * an exit status (always SBX_EXIT_SETUP = 125 for the launcher's own errors).
 */
#pragma once

#include <glib.h>

#define SBX_ERROR (sbx_error_quark())
GQuark sbx_error_quark(void);

typedef enum {
	SBX_ERR_NONE = 0,
	SBX_ERR_INVALID_MODE = -1,          /* two filesystem modes */
	SBX_ERR_ROOT_NOT_UNIQUE = -2,       /* -o / -h given twice */
	SBX_ERR_INVALID_FOLDER = -3,        /* not a directory / cannot be used */
	SBX_ERR_OVERLAY_NOT_SET = -4,       /* -k / -d without -o */
	SBX_ERR_PATH_MISSING = -5,          /* path does not exist */
	SBX_ERR_NOT_ABSOLUTE = -6,          /* relative path */
	SBX_ERR_LOG_NOT_UNIQUE = -7,        /* -D twice */
	SBX_ERR_ILLEGAL_CONFIG = -8,        /* contradictory options */
	SBX_ERR_READ_AND_WRITE = -9,        /* same path -w and -M */
	SBX_ERR_ILLEGAL_NETWORK = -10,      /* contradictory network options, bad allowlist */
	SBX_ERR_TMP_REMOUNT = -11,          /* /tmp remounted in -x */
	SBX_ERR_OS = -100,                  /* a syscall failed during set-up */
	SBX_ERR_NESTED = -201,              /* already inside a mini-sandbox */
	SBX_ERR_ALREADY_STARTED = -202,     /* configuration after start() */
} SbxErrorCode;

/* Exit statuses of the CLI (documented in mini-sandbox(1)). */
enum {
	SBX_EXIT_NOT_EXECUTABLE = 126,
	SBX_EXIT_NOT_FOUND = 127,
	SBX_EXIT_SETUP = 125,
};

/* Set *error to SBX_ERR_OS with "what: strerror(errnum)", WHAT formatted
 * from FMT.  No hint is added here: a hint needs the context (which
 * operation, which file) that only the caller has, so callers that know
 * one add it (the launcher's add_userns_hint for EPERM under Ubuntu's
 * AppArmor restriction, tap.c for /dev/net/tun, nft-apply.c for missing
 * nf_tables modules).  Returns FALSE so callers can
 * `return sbx_set_errno(error, errno, "mount %s", p);` — but save errno
 * first when anything (a close() on the way out) runs in between. */
gboolean sbx_set_errno(GError **error, int errnum, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

/* strerror() for code that may run between the sandbox's clone and its
 * exec or the library's continuation (and everywhere sbx_set_errno runs).
 * g_strerror() takes a GLib lock that fork(2) does not reset: held by
 * another thread of a library caller at the clone, it never came free in
 * pid 1.  strerrordesc_np() takes no lock (untranslated, static text). */
const char *sbx_strerror(int errnum);

/* Prefix an error message with context; returns FALSE. */
gboolean sbx_prefix_error(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
