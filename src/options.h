/* SPDX-License-Identifier: MIT
 *
 * options.h — command line → SbxConfig (pure: no syscalls but reading @FILE
 * argument files and getcwd() for relative -F/-D/--log; unit-tested in
 * tests/unit/test-options.c).
 *
 * The option set is documented in man/mini-sandbox.1 and man/mini-tapbox.1;
 * completion/mini-sandbox offers the same names.  A doc test
 * (man/check-options.sh) fails when a long option is missing from either.
 */
#pragma once

#include "common/config.h"

typedef enum {
	SBX_PARSE_RUN = 0,     /* *out is a complete, validated config */
	SBX_PARSE_EXIT_OK,     /* --help / --version printed to stdout */
	SBX_PARSE_ERROR,       /* *error set (usage problem → exit 125) */
} SbxParseResult;

/* ---- options.c: the command line ---- */

/* Parse ARGV (argv[0] included).  IS_TAPBOX selects the mini-tapbox option
 * set.  Options are order-independent; contradictions are errors naming both
 * options.  Options end at "--" or at the first argument that is not an
 * option (that argument starts the command).  @FILE arguments in option
 * position are expanded, one argument a line (nested up to
 * SBX_ARGFILE_MAX_DEPTH).  Relative -F/-D/--log paths are made absolute
 * against the current directory; relative mount paths are errors.
 * Reentrant: no global state (safe to call repeatedly, e.g. in tests). */
SbxParseResult sbx_options_parse(int argc, char **argv, gboolean is_tapbox,
				 SbxConfig **out, GError **error);

#define SBX_ARGFILE_MAX_DEPTH 8
#define SBX_ARGFILE_MAX_BYTES ((gsize)1 << 20)

/* ---- options-check.c: checks and setters shared with the C API ---- */

/* Checks that need no syscalls (contradictions, relative paths, ranges).
 * Shared with the C API, which fills SbxConfig call by call.  A config with
 * argv == NULL (library mode) is fine; a non-NULL argv must name a command. */
gboolean sbx_config_validate(const SbxConfig *cfg, GError **error);

/* Setters that detect contradictions the SbxConfig fields cannot record
 * (they hold one value), for the parser and the C API alike.
 *
 * sbx_config_set_fs_mode: DIR is the -o ROOT or -h DIR (NULL for -x).
 * Another mode chosen before → SBX_ERR_INVALID_MODE naming both flags; -o or
 * -h a second time → SBX_ERR_ROOT_NOT_UNIQUE.  Choosing the same mode again
 * without a directory (-x -x) is fine. */
gboolean sbx_config_set_fs_mode(SbxConfig *cfg, SbxFsMode mode, const char *dir,
				GError **error);
/* -R vs -U → SBX_ERR_ILLEGAL_CONFIG naming both. */
gboolean sbx_config_set_identity(SbxConfig *cfg, SbxIdentity id, GError **error);
/* -n vs -N, or either with mini-tapbox's network → SBX_ERR_ILLEGAL_NETWORK. */
gboolean sbx_config_set_net_mode(SbxConfig *cfg, SbxNetMode mode, GError **error);
/* -D a second time → SBX_ERR_LOG_NOT_UNIQUE.  Copies PATH. */
gboolean sbx_config_set_debug_log(SbxConfig *cfg, const char *path, GError **error);

/* Value parsers shared with the C API; errors name OPT and the value
 * (SBX_ERR_ILLEGAL_CONFIG, or SBX_ERR_ILLEGAL_NETWORK for --publish).
 * SIZE: digits with an optional k/m/g suffix (powers of 1024), > 0. */
gboolean sbx_parse_size(const char *opt, const char *value, guint64 *out, GError **error);
/* [HOSTIP:]HOSTPORT:PORT, HOSTIP IPv4 or [IPv6]; host defaults to 127.0.0.1.
 * Fills *out (out->host_addr allocated, brackets stripped). */
gboolean sbx_parse_publish(const char *opt, const char *value, SbxPublish *out,
			   GError **error);

/* ---- options.c ---- */

/* NULL-terminated list of every long option name (without "--"), in the
 * order of --help; for tests and documentation checks. */
const char *const *sbx_options_long_names(void);
