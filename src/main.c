/* SPDX-License-Identifier: MIT
 *
 * mini-sandbox / mini-tapbox command line front-end.  The name it is invoked
 * by chooses the option set (mini-tapbox adds the network ones).  Linked
 * twice (src/meson.build): the mini-tapbox executable with the user-mode
 * network (net.c), the mini-sandbox executable without it and without its
 * libraries (net-none.c), which then refuses mini-tapbox's option set.
 */
#include "common/config.h"
#include "common/error.h"
#include "common/log.h"
#include "net/net.h"
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
	/* A copy of (or link to) mini-sandbox under mini-tapbox's name: run
	 * nothing rather than without the network that name promises. */
	if (is_tapbox && !net_has_tap()) {
		fprintf(stderr, "%s: %s is the mini-sandbox executable, built without "
			"mini-tapbox's user-mode network: run the mini-tapbox executable "
			"(installed next to mini-sandbox) instead\n", sbx_log_prog(), argv[0]);
		return SBX_EXIT_SETUP;
	}

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
