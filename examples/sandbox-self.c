/* SPDX-License-Identifier: MIT
 *
 * sandbox-self — a program that sandboxes itself with libminisandbox.
 *
 *	cc sandbox-self.c $(pkg-config --cflags --libs minisandbox) -o sandbox-self
 *	./sandbox-self [ALLOWLIST-ENTRY…]
 *
 * Run it from a project directory: after mini_sandbox_start() the program
 * can write there, but not to $HOME, and it reaches only the network
 * entries given on the command line ("pypi.org:443", "10.0.0.0/8") — none
 * by default.
 */
#include <minisandbox.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int
try_write(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *home = getenv("HOME");
	char home_file[4096];
	int rc;

	if (mini_sandbox_setup_default() < 0)
		goto failed;
	for (int i = 1; i < argc; i++)
		if (mini_sandbox_allow(argv[i]) < 0)
			goto failed;

	/* From here on: inside the sandbox.  The outer process waits and
	 * exits with our exit status. */
	if (mini_sandbox_start() < 0)
		goto failed;

	printf("inside the sandbox as pid %d\n", (int)getpid());
	rc = try_write("sandbox-self.out");
	printf("write ./sandbox-self.out: %s\n", rc < 0 ? strerror(-rc) : "ok (persists)");
	if (home) {
		snprintf(home_file, sizeof home_file, "%s/sandbox-self.out", home);
		rc = try_write(home_file);
		printf("write %s: %s\n", home_file,
		       rc < 0 ? strerror(-rc) : "ok (a scratch $HOME: vanishes at exit)");
	}
	return 0;

failed:
	/* Nothing ran unsandboxed; say why and stop. */
	fprintf(stderr, "sandbox-self: %s (error %d)\n", mini_sandbox_get_last_error_msg(),
		mini_sandbox_get_last_error_code());
	return 125;
}
