/* SPDX-License-Identifier: MIT
 *
 * test-privdrop.c — the payload's last steps before exec, each in a forked
 * child so the test runner keeps its own fds and privileges: fd closing,
 * the capability drop, the seccomp filter (including the masked ioctl
 * compare), and the wait-status → exit-code rule of init.c.
 */
#include "common/error.h"
#include "src/init.h"
#include "src/privdrop.h"
#include "src/seccomp-filter.h"
#include "src/seccomp-rules.h"
#include "src/userns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

/* Run FN in a child; it returns 0 on success or the line that failed. */
static int
in_child(int (*fn)(void))
{
	int status = 0;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fn());
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

#define CHECK(cond) do { if (!(cond)) return __LINE__ % 256 ? __LINE__ % 256 : 1; } while (0)

static gboolean
fd_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

static int
close_fds_child(void)
{
	int null = open("/dev/null", O_RDONLY);
	const int keep[] = { 20, 11, 2 };

	CHECK(null >= 0);
	CHECK(dup2(null, 10) == 10 && dup2(null, 11) == 11);
	CHECK(dup2(null, 12) == 12 && dup2(null, 20) == 20 && dup2(null, 300) == 300);
	CHECK(sbx_close_fds_except(keep, G_N_ELEMENTS(keep), NULL));
	CHECK(fd_open(0) && fd_open(1) && fd_open(2));
	CHECK(!fd_open(null) && !fd_open(10) && !fd_open(12) && !fd_open(300));
	CHECK(fd_open(11) && fd_open(20));
	return 0;
}

static void
test_close_fds_except(void **state)
{
	assert_int_equal(in_child(close_fds_child), 0);
}

static gboolean
status_has(const char *field, const char *value)
{
	g_autofree char *status = NULL;
	g_autofree char *needle = g_strdup_printf("\n%s:\t%s\n", field, value);

	return g_file_get_contents("/proc/self/status", &status, NULL, NULL) &&
	       strstr(status, needle) != NULL;
}

static int
drop_child(void)
{
	/* Namespace-root of a fresh user namespace, as the payload is. */
	CHECK(unshare(CLONE_NEWUSER) == 0);
	CHECK(!status_has("CapEff", "0000000000000000"));
	CHECK(sbx_drop_privileges(sbx_cap_last(), NULL));
	CHECK(status_has("CapInh", "0000000000000000"));
	CHECK(status_has("CapPrm", "0000000000000000"));
	CHECK(status_has("CapEff", "0000000000000000"));
	CHECK(status_has("CapBnd", "0000000000000000"));
	CHECK(status_has("CapAmb", "0000000000000000"));
	CHECK(status_has("NoNewPrivs", "1"));
	return 0;
}

static void
test_drop_privileges(void **state)
{
	assert_int_equal(in_child(drop_child), 0);
}

static int
seccomp_child(void)
{
	int fd = open("/dev/null", O_RDWR);
	char c = 'x';

	CHECK(fd >= 0);
	/* Without the filter: /dev/null is no tty. */
	CHECK(ioctl(fd, TIOCSTI, &c) < 0 && errno == ENOTTY);
	CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
	CHECK(sbx_seccomp_apply(FALSE, NULL));
	CHECK(ioctl(fd, TIOCSTI, &c) < 0 && errno == EPERM);
	CHECK(ioctl(fd, TIOCLINUX, &c) < 0 && errno == EPERM);
	/* The kernel reads the request as an int: junk in the upper half
	 * must not get it past the filter. */
	CHECK(syscall(SYS_ioctl, fd, (1UL << 32) | TIOCSTI, &c) < 0 && errno == EPERM);
	CHECK(syscall(SYS_keyctl, 0, -3, 1) < 0 && errno == EPERM);
	CHECK(syscall(SYS_add_key, "user", "k", "v", 1, -3) < 0 && errno == EPERM);
	CHECK(syscall(SYS_bpf, 0, NULL, 0) < 0 && errno == EPERM);
	CHECK(syscall(SYS_userfaultfd, 0) < 0 && errno == EPERM);
	CHECK(syscall(SYS_io_uring_setup, 1, NULL) < 0 && errno == EPERM);
	/* No new user namespace: clone3's flags are out of reach, so ENOSYS
	 * (libc falls back to clone). */
	CHECK(unshare(CLONE_NEWUSER) < 0 && errno == EPERM);
	CHECK(unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0 && errno == EPERM);
	CHECK(syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, 0) < 0 &&
	      errno == EPERM);
	CHECK(syscall(SYS_clone3, NULL, 0) < 0 && errno == ENOSYS);
	/* Ordinary life goes on. */
	CHECK(ioctl(fd, FIONREAD, &(int){ 0 }) == 0 || errno == ENOTTY || errno == EINVAL);
	CHECK(getpid() > 0);
	return 0;
}

static void
test_seccomp_refusals(void **state)
{
	assert_int_equal(in_child(seccomp_child), 0);
}

/* The BPF the launcher serves was generated at build time: it must still
 * be exactly what libseccomp builds from the rules, in both variants. */
static void
test_seccomp_built_in_matches_rules(void **state)
{
	for (int allow_userns = 0; allow_userns <= 1; allow_userns++) {
		g_autoptr(GBytes) built_in = sbx_seccomp_compile(allow_userns, NULL);
		g_autoptr(GBytes) fresh = sbx_seccomp_build(allow_userns, NULL);

		assert_non_null(built_in);
		assert_non_null(fresh);
		assert_true(g_bytes_equal(built_in, fresh));
	}
}

static void
test_exit_codes(void **state)
{
	assert_int_equal(sbx_status_to_exit_code(42 << 8), 42);   /* exited 42 */
	assert_int_equal(sbx_status_to_exit_code(0), 0);
	assert_int_equal(sbx_status_to_exit_code(SIGKILL), 137);  /* killed by 9 */
	assert_int_equal(sbx_status_to_exit_code(SIGTERM), 143);
	assert_int_equal(sbx_status_to_exit_code(SIGSEGV | 0x80), 139); /* core dumped */
}

static void
test_userns_explanations(void **state)
{
	/* Whatever this host's sysctls say, the message names a cause and a
	 * way out. */
	static const int errnos[] = { EPERM, EACCES, ENOSPC, EINVAL, EUSERS };

	for (size_t i = 0; i < G_N_ELEMENTS(errnos); i++) {
		g_autofree char *why = sbx_userns_explain_failure(errnos[i]);

		assert_non_null(why);
		assert_true(strstr(why, "user namespace") || strstr(why, "userns"));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_close_fds_except),
		cmocka_unit_test(test_drop_privileges),
		cmocka_unit_test(test_seccomp_refusals),
		cmocka_unit_test(test_seccomp_built_in_matches_rules),
		cmocka_unit_test(test_exit_codes),
		cmocka_unit_test(test_userns_explanations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
