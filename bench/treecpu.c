/* SPDX-License-Identifier: MIT
 *
 * treecpu.c — wall and CPU time of whole process trees, side by side.
 *
 * hyperfine's user+sys is the rusage of what the command's process waited
 * for.  A tool that reports the exit status before reaping its own
 * children (bwrap's monitor reads pid 1's exit code from an eventfd and
 * exits, leaving pid 1 and the payload unreaped) is then charged only for
 * its first process.  This runner is a child subreaper
 * (PR_SET_CHILD_SUBREAPER): whatever the command leaves behind is
 * reparented to it and reaped here, so RUSAGE_CHILDREN covers every
 * process of the tree.
 *
 * usage: [TREECPU_GAP_MS=N] treecpu ROUNDS NAME=COMMAND...   (COMMAND split on spaces)
 * The commands run interleaved, one each per round (the first 3 rounds are
 * warm-up), stdout and stderr to /dev/null.  Per command it prints medians
 * of: the wall time until the command's own process exits ("returned"),
 * until every process of its tree is gone ("tree"), and the tree's CPU
 * time (user+sys), with the first command as the reference for ratios.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WARMUP 3
#define MAX_ARGS 64

typedef struct {
	char *name;
	char *argv[MAX_ARGS];
	double *ret, *tree, *cpu;
} Cmd;

static long gap_ms;

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double
children_cpu_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_CHILDREN, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static int
compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, compare_doubles);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* One run: returns 0, or -1 when the command could not be started. */
static int
run_once(Cmd *c, int slot, int devnull)
{
	double t0, cpu0, returned = 0;
	int status;
	pid_t pid, r;

	/* TREECPU_GAP_MS: an idle pause before each run, so that none starts
	 * while the kernel still tears down the last one's namespaces */
	if (gap_ms > 0) {
		struct timespec gap = { gap_ms / 1000, (gap_ms % 1000) * 1000000L };

		nanosleep(&gap, NULL);
	}
	t0 = now_ms();
	cpu0 = children_cpu_ms();
	pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(devnull, STDOUT_FILENO);
		dup2(devnull, STDERR_FILENO);
		execvp(c->argv[0], c->argv);
		_exit(127);
	}
	/* Reap the command, then whatever it left to us, until none is left. */
	while ((r = wait(&status)) > 0 || errno == EINTR) {
		if (r == pid)
			returned = now_ms();
	}
	if (slot >= 0) {
		c->ret[slot] = returned - t0;
		c->tree[slot] = now_ms() - t0;
		c->cpu[slot] = children_cpu_ms() - cpu0;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	int rounds = argc > 2 ? atoi(argv[1]) : 0, ncmd = argc - 2, devnull;
	const char *gap = getenv("TREECPU_GAP_MS");
	Cmd *cmds;

	gap_ms = gap ? atol(gap) : 0;

	if (rounds <= WARMUP || ncmd < 1) {
		fprintf(stderr, "usage: treecpu ROUNDS(>%d) NAME=COMMAND...\n", WARMUP);
		return 2;
	}
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
		perror("treecpu: PR_SET_CHILD_SUBREAPER");
		return 1;
	}
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	cmds = calloc((size_t)ncmd, sizeof *cmds);
	for (int i = 0; i < ncmd; i++) {
		char *eq = strchr(argv[i + 2], '='), *save = NULL, *tok;
		int n = 0;

		if (!eq) {
			fprintf(stderr, "treecpu: %s: expected NAME=COMMAND\n", argv[i + 2]);
			return 2;
		}
		*eq = '\0';
		cmds[i].name = argv[i + 2];
		for (tok = strtok_r(eq + 1, " ", &save); tok && n < MAX_ARGS - 1;
		     tok = strtok_r(NULL, " ", &save))
			cmds[i].argv[n++] = tok;
		cmds[i].ret = calloc((size_t)rounds, sizeof(double));
		cmds[i].tree = calloc((size_t)rounds, sizeof(double));
		cmds[i].cpu = calloc((size_t)rounds, sizeof(double));
	}
	for (int r = 0; r < rounds; r++)
		for (int i = 0; i < ncmd; i++)
			if (run_once(&cmds[i], r >= WARMUP ? r - WARMUP : -1, devnull) < 0) {
				perror("treecpu: fork");
				return 1;
			}

	int n = rounds - WARMUP;
	double ref_ret = 0, ref_cpu = 0;

	printf("%-32s %12s %10s %12s %9s %8s\n", "command (whole tree)", "returned ms",
	       "tree ms", "tree cpu ms", "x first", "cpu x");
	for (int i = 0; i < ncmd; i++) {
		double ret = median(cmds[i].ret, n), tree = median(cmds[i].tree, n);
		double cpu = median(cmds[i].cpu, n);

		if (i == 0) {
			ref_ret = ret;
			ref_cpu = cpu;
		}
		printf("%-32s %12.2f %10.2f %12.2f %9.2f %8.2f\n", cmds[i].name, ret, tree, cpu,
		       ret / ref_ret, cpu / ref_cpu);
	}
	printf("(%d interleaved runs each after %d warm-up rounds; medians)\n", n, WARMUP);
	return 0;
}
