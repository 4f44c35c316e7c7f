/* SPDX-License-Identifier: MIT
 *
 * libstart — the library's start-up, for bench/startup.sh: the default
 * isolation mode (the library's equivalent of mini-sandbox -x), then
 * mini_sandbox_start(); the continuation exits at once.  Run as a whole
 * process it compares with `mini-sandbox -x -- true`; with an argument it
 * also prints, from the continuation, the microseconds from just before
 * mini_sandbox_start() to its first instruction (CLOCK_MONOTONIC: the
 * sandbox has no time namespace).
 *
 *	cc -O2 -I src libstart.c -L BUILD/src -lminisandbox -Wl,-rpath,BUILD/src
 */
#include <minisandbox.h>

#include <stdio.h>
#include <time.h>

int
main(int argc, char **argv)
{
	struct timespec t0, t1;

	(void)argv;
	if (mini_sandbox_setup_default() < 0)
		return 125;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (mini_sandbox_start() < 0)
		return 125;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (argc > 1)
		printf("%ld\n", (long)((t1.tv_sec - t0.tv_sec) * 1000000L +
				       (t1.tv_nsec - t0.tv_nsec) / 1000L));
	return 0;
}
