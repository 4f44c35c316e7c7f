/* SPDX-License-Identifier: MIT
 *
 * options.h — command line → SbxConfig (pure: no syscalls but reading @FILE
 * argument files; unit-tested in tests/unit/test-options.c).
 */
#pragma once

#include "common/config.h"

typedef enum {
	SBX_PARSE_RUN = 0,     /* *out is a complete, validated config */
	SBX_PARSE_EXIT_OK,     /* --help / --version printed to stdout */
	SBX_PARSE_ERROR,       /* *error set (usage problem → exit 125) */
} SbxParseResult;

/* Parse ARGV (argv[0] included).  IS_TAPBOX selects the mini-tapbox option
 * set.  Options are order-independent; contradictions are errors naming both
 * options.  @FILE arguments (before "--") are expanded, one argument a line. */
SbxParseResult sbx_options_parse(int argc, char **argv, gboolean is_tapbox,
				 SbxConfig **out, GError **error);

/* Checks that need no syscalls (contradictions, relative paths, ranges).
 * Shared with the C API, which fills SbxConfig call by call. */
gboolean sbx_config_validate(const SbxConfig *cfg, GError **error);
