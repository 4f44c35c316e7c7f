/* SPDX-License-Identifier: MIT — temporary stub until options.c lands. */
#include "options.h"
#include "common/error.h"
#include <string.h>

SbxParseResult
sbx_options_parse(int argc, char **argv, gboolean is_tapbox, SbxConfig **out, GError **error)
{
	SbxConfig *cfg = sbx_config_new();
	int i = 1;

	cfg->is_tapbox = is_tapbox;
	cfg->net_mode = is_tapbox ? SBX_NET_TAP : SBX_NET_NONE;
	for (; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) { i++; break; }
		if (strcmp(argv[i], "-x") == 0) cfg->fs_mode = SBX_FS_DEFAULT;
	}
	if (i >= argc) {
		sbx_config_free(cfg);
		g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_CONFIG, "no command given");
		return SBX_PARSE_ERROR;
	}
	cfg->argv = g_strdupv(argv + i);
	*out = cfg;
	return SBX_PARSE_RUN;
}

gboolean sbx_config_validate(const SbxConfig *cfg, GError **error) { return TRUE; }
