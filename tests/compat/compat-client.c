/* SPDX-License-Identifier: MIT
 *
 * compat-client.c — a C program written the way the original mini-sandbox
 * project's users write theirs: its header, its build flags (-DLIBMINISANDBOX,
 * -DMINITAP for the tapbox library), its "== 0" / "== -1" checks, linked
 * with -lmini-sandbox or -lmini-tapbox.  tests/compat/meson.build compiles it
 * unchanged with gcc and clang; tests/integration/test_compat.py runs it.
 *
 *	compat-client errors            return values and codes, no start
 *	compat-client default HOST PORT start; write $HOME; connect HOST:PORT
 *	compat-client custom BASE       setup_custom under BASE (not existing yet)
 *	compat-client twice             a second start after the first
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "linux-sandbox-api.h"

static int
try_write_home(void)
{
	const char *home = getenv("HOME");
	char path[4096];
	FILE *f;

	if (home == NULL)
		return -1;
	snprintf(path, sizeof path, "%s/libminisandbox.test", home);
	f = fopen(path, "w");
	if (f == NULL)
		return -1;
	fprintf(f, "libmini-sandbox\n");
	return fclose(f);
}

static int
try_connect(const char *host, int port)
{
	struct sockaddr_in sa;
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int rc;

	if (s < 0)
		return -1;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	sa.sin_addr.s_addr = inet_addr(host);
	rc = connect(s, (struct sockaddr *)&sa, sizeof sa);
	close(s);
	return rc;
}

static int
check(const char *what, int res)
{
	if (res != 0) {
		printf("failed %s %d %d %s\n", what, res, mini_sandbox_get_last_error_code(),
		       mini_sandbox_get_last_error_msg());
		exit(3);
	}
	return res;
}

static int
scenario_errors(void)
{
	int res = mini_sandbox_mount_write("a/b/c");

	printf("relative %d %d\n", res, mini_sandbox_get_last_error_code());
	res = mini_sandbox_setup_default();
	printf("default %d %d\n", res, mini_sandbox_get_last_error_code());
	res = mini_sandbox_setup_hermetic("/tmp");
	printf("hermetic-after-default %d %d\n", res, mini_sandbox_get_last_error_code());
#ifdef MINITAP
	res = mini_sandbox_allow_ipv4_subnet("198.51.100.7");
	printf("subnet-bare %d\n", res);
	res = mini_sandbox_allow_max_connections(0);
	printf("max-conn-bad %d %d\n", res, mini_sandbox_get_last_error_code());
#else
	res = mini_sandbox_share_network();
	printf("share %d\n", res);
#endif
	return 0;
}

static int
scenario_default(const char *host, int port)
{
	check("setup_default", mini_sandbox_setup_default());
	check("start", mini_sandbox_start());
	printf("inside\n");
	printf("home-write %s\n", try_write_home() == 0 ? "ok" : strerror(errno));
	printf("connect %s\n", try_connect(host, port) == 0 ? "ok" : "refused");
	return 0;
}

static int
scenario_custom(const char *base)
{
	char overlay[4096], root[4096];

	snprintf(overlay, sizeof overlay, "%s/overlay", base);
	snprintf(root, sizeof root, "%s/root", base);
	check("setup_custom", mini_sandbox_setup_custom(overlay, root));
	check("overlay /bin", mini_sandbox_mount_overlay("/bin"));
	check("overlay /lib", mini_sandbox_mount_overlay("/lib"));
	check("overlay /lib64", mini_sandbox_mount_overlay("/lib64"));
	check("start", mini_sandbox_start());
	printf("inside\n");
	printf("home-write %s\n", try_write_home() == 0 ? "ok" : strerror(errno));
	printf("bin %s\n", access("/bin/sh", X_OK) == 0 ? "ok" : strerror(errno));
	return 0;
}

static int
scenario_twice(void)
{
	int res;

	check("setup_default", mini_sandbox_setup_default());
	check("start", mini_sandbox_start());
	res = mini_sandbox_start();
	printf("second-start %d %d\n", res, mini_sandbox_get_last_error_code());
	res = mini_sandbox_mount_bind("/etc");
	printf("mount-after %d %d\n", res, mini_sandbox_get_last_error_code());
	return 0;
}

int
main(int argc, char *argv[])
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 2 && strcmp(argv[1], "errors") == 0)
		return scenario_errors();
	if (argc == 4 && strcmp(argv[1], "default") == 0)
		return scenario_default(argv[2], atoi(argv[3]));
	if (argc == 3 && strcmp(argv[1], "custom") == 0)
		return scenario_custom(argv[2]);
	if (argc == 2 && strcmp(argv[1], "twice") == 0)
		return scenario_twice();
	fprintf(stderr, "usage: %s errors|default HOST PORT|custom BASE|twice\n", argv[0]);
	return 2;
}
