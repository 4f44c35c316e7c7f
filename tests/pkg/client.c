/* SPDX-License-Identifier: MIT
 *
 * client — the smallest libminisandbox program, built by tests/pkg/smoke.sh
 * against the installed header and library (pkg-config minisandbox):
 *
 *	client MARKER
 *
 * MARKER is a file in the caller's $HOME.  Before the start it must exist;
 * after mini_sandbox_setup_default() + mini_sandbox_start() the program runs
 * inside, where $HOME is an empty scratch, so it must not.  Prints
 * "inside home-hidden" and exits 0 then; 1 when the marker is still
 * visible; 125 when the set-up failed (nothing ran unsandboxed).
 */
#include <minisandbox.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: client MARKER\n");
		return 2;
	}
	if (access(argv[1], F_OK) != 0) {
		fprintf(stderr, "client: %s: %s (the marker must exist outside)\n", argv[1],
			strerror(errno));
		return 2;
	}
	if (mini_sandbox_setup_default() < 0 || mini_sandbox_start() < 0) {
		fprintf(stderr, "client: %s\n", mini_sandbox_get_last_error_msg());
		return 125;
	}
	/* inside the sandbox from here on */
	if (access(argv[1], F_OK) == 0 || errno != ENOENT) {
		printf("inside home-visible\n");
		return 1;
	}
	printf("inside home-hidden\n");
	return 0;
}
