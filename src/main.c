/* SPDX-License-Identifier: MIT
 *
 * mini-sandbox / mini-tapbox command line front-end.  One binary; the name it
 * is invoked by chooses the option set (mini-tapbox adds the network ones).
 */
#include "common/config.h"
#include "common/error.h"
#include "common/log.h"
#include "src/launcher.h"
#include "src/options.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(SbxConfig) cfg = NULL;
	const char *base = strrchr(argv[0], '/');
	gboolean is_tapbox;
	int status;

	base = base ? base + 1 : argv[0];
	is_tapbox = strstr(base, "tapbox") != NULL;
	sbx_log_set_prog(is_tapbox ? "mini-tapbox" : "mini-sandbox");

	switch (sbx_options_parse(argc, argv, is_tapbox, &cfg, &error)) {
	case SBX_PARSE_EXIT_OK:
		return 0;
	case SBX_PARSE_ERROR:
		fprintf(stderr, "%s: %s\nTry '%s --help' or 'man %s'.\n", sbx_log_prog(),
			error->message, sbx_log_prog(), sbx_log_prog());
		return SBX_EXIT_SETUP;
	case SBX_PARSE_RUN:
	default:
		break;
	}

	status = sbx_run(cfg, &error);
	if (error)
		fprintf(stderr, "%s: %s\n", sbx_log_prog(), error->message);
	/* The sandbox is gone and sbx_run() has cleaned up on the host; what
	 * is left is freeing memory and the libraries' destructors, which on
	 * a VM cost a page fault per touched page (~0.3 ms) before the caller
	 * sees our status.  stdio is flushed; nothing else is pending. */
	fflush(NULL);
	_exit(status);
}
