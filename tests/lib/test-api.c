/* SPDX-License-Identifier: MIT
 *
 * test-api — cmocka tests of libminisandbox's configuration calls and of
 * the continuation's fd hygiene, without starting a sandbox (so they run
 * under ASan/UBSan with the unit tests).  Built from the library's sources
 * so the internal helpers of api-internal.h are reachable too.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "src/minisandbox.h"
#include "src/api-internal.h"
#include "net/allowlist.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/io_uring.h>
#include <linux/userfaultfd.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/fanotify.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/timerfd.h>
#include <unistd.h>

/* The original's convention: -1 (-2 for a start inside a sandbox, -201),
 * the code kept for
 * mini_sandbox_get_last_error_code(). */
#define assert_fails(call, code)                                                        \
	do {                                                                            \
		long rv_ = (long)(call);                                                \
		assert_int_equal(rv_, (code) == -201 ? -2 : -1);                        \
		assert_int_equal(mini_sandbox_get_last_error_code(), (code));           \
	} while (0)

static int
reset(void **state)
{
	(void)state;
	unsetenv(SBX_INSIDE_ENV);
	assert_int_equal(mini_sandbox_reset(), 0);
	return 0;
}

static void
test_paths_are_checked_at_the_call(void **state)
{
	(void)state;
	assert_fails(mini_sandbox_mount_write("relative"), MINI_SANDBOX_ERR_NOT_ABSOLUTE);
	assert_int_equal(mini_sandbox_get_last_error_code(), MINI_SANDBOX_ERR_NOT_ABSOLUTE);
	assert_non_null(strstr(mini_sandbox_get_last_error_msg(), "relative"));
	assert_fails(mini_sandbox_mount_bind("/nonexistent/x"), MINI_SANDBOX_ERR_PATH_MISSING);
	assert_non_null(strstr(mini_sandbox_get_last_error_msg(), "mini_sandbox_mount_bind"));
	assert_fails(mini_sandbox_mount_tmpfs("/etc/hostname"), MINI_SANDBOX_ERR_INVALID_FOLDER);
	assert_fails(mini_sandbox_set_working_dir("/etc/hostname"), MINI_SANDBOX_ERR_INVALID_FOLDER);
	assert_fails(mini_sandbox_mount_write(NULL), MINI_SANDBOX_ERR_ILLEGAL_CONFIG);
	assert_fails(mini_sandbox_enable_log("/nonexistent/dir/log"), MINI_SANDBOX_ERR_PATH_MISSING);
	/* the last error is sticky, as in the original: a success keeps it */
	assert_int_equal(mini_sandbox_mount_bind("/etc"), 0);
	assert_int_equal(mini_sandbox_get_last_error_code(), MINI_SANDBOX_ERR_PATH_MISSING);
	assert_non_null(strstr(mini_sandbox_get_last_error_msg(), "mini_sandbox_enable_log"));
}

static void
test_modes(void **state)
{
	(void)state;
	assert_int_equal(mini_sandbox_setup_default(), 0);
	assert_int_equal(mini_sandbox_setup_default(), 0);
	/* as in the original: hermetic after default is a second root (-2),
	 * custom after default a second mode (-1) */
	assert_fails(mini_sandbox_setup_hermetic("/tmp"), MINI_SANDBOX_ERR_ROOT_NOT_UNIQUE);
	assert_fails(mini_sandbox_setup_custom("/tmp/o", "/tmp/r"), MINI_SANDBOX_ERR_INVALID_MODE);
	/* the failed call changed nothing: still default mode, where /tmp is
	 * private and cannot be remounted */
	assert_fails(mini_sandbox_mount_write("/tmp"), MINI_SANDBOX_ERR_TMP_REMOUNT);
	assert_int_equal(mini_sandbox_reset(), 0);
	assert_fails(mini_sandbox_mount_overlay("/etc"), MINI_SANDBOX_ERR_OVERLAY_NOT_SET);
	assert_int_equal(mini_sandbox_setup_hermetic("/tmp"), 0);
	assert_fails(mini_sandbox_setup_hermetic("/var"), MINI_SANDBOX_ERR_ROOT_NOT_UNIQUE);
	assert_int_equal(mini_sandbox_reset(), 0);
	/* hermetic shows DIR itself: it must exist, as for -h */
	assert_fails(mini_sandbox_setup_hermetic("/nonexistent/test-api/h"),
		     MINI_SANDBOX_ERR_PATH_MISSING);
	/* custom: missing base directories are created at start (as the CLI
	 * and the original do), not at the call */
	assert_int_equal(mini_sandbox_setup_custom("/nonexistent/test-api/b",
						   "/nonexistent/test-api/b"), 0);
	assert_int_equal(access("/nonexistent/test-api", F_OK), -1);
	assert_int_equal(mini_sandbox_reset(), 0);
	assert_fails(mini_sandbox_setup_custom("/tmp/o", "/etc/hostname"),
		     MINI_SANDBOX_ERR_INVALID_FOLDER);
	assert_fails(mini_sandbox_setup_custom("relative", "/tmp/r"), MINI_SANDBOX_ERR_NOT_ABSOLUTE);
}

static void
test_read_and_write_same_path(void **state)
{
	(void)state;
	assert_int_equal(mini_sandbox_mount_write("/etc"), 0);
	assert_fails(mini_sandbox_mount_bind("/etc"), MINI_SANDBOX_ERR_READ_AND_WRITE);
	assert_int_equal(mini_sandbox_enable_log("/tmp/test-api.log"), 0);
	assert_fails(mini_sandbox_enable_log("/tmp/test-api2.log"), MINI_SANDBOX_ERR_LOG_NOT_UNIQUE);
}

static void
test_empty_output_file_is_created(void **state)
{
	char dir[] = "/tmp/test-api-XXXXXX";
	char path[64], link_path[64];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/out.txt", dir);
	assert_int_equal(mini_sandbox_mount_empty_output_file(path), 0);
	assert_int_equal(access(path, F_OK), 0);
	/* a dangling symlink is never followed to create its target */
	snprintf(link_path, sizeof link_path, "%s/link", dir);
	assert_int_equal(symlink("/tmp/test-api-should-not-exist", link_path), 0);
	assert_true(mini_sandbox_mount_empty_output_file(link_path) < 0);
	assert_int_equal(access("/tmp/test-api-should-not-exist", F_OK), -1);
	unlink(link_path);
	unlink(path);
	rmdir(dir);
}

static void
test_network_rule(void **state)
{
	(void)state;
	assert_fails(mini_sandbox_allow_ipv4("1.2.3.256"), MINI_SANDBOX_ERR_ILLEGAL_NETWORK);
	assert_fails(mini_sandbox_allow_ipv4_subnet("10.0.0.0/40"), MINI_SANDBOX_ERR_ILLEGAL_NETWORK);
	assert_fails(mini_sandbox_allow_ipv4_subnet("10.0.0.300"), MINI_SANDBOX_ERR_ILLEGAL_NETWORK);
	/* a bare address is a /32, as in the original */
	assert_int_equal(mini_sandbox_allow_ipv4_subnet("198.51.100.7"), 0);
	assert_int_equal(mini_sandbox_reset(), 0);
	assert_fails(mini_sandbox_allow_domain("-bad-.example"), MINI_SANDBOX_ERR_ILLEGAL_NETWORK);
	assert_fails(mini_sandbox_allow("pypi.org:99999"), MINI_SANDBOX_ERR_ILLEGAL_NETWORK);
	assert_non_null(strstr(mini_sandbox_get_last_error_msg(), "99999"));
	assert_fails(mini_sandbox_allow("# comment"), MINI_SANDBOX_ERR_ILLEGAL_NETWORK);
	assert_fails(mini_sandbox_allow("a\nb"), MINI_SANDBOX_ERR_ILLEGAL_NETWORK);
	assert_fails(mini_sandbox_allow_host_port(0), MINI_SANDBOX_ERR_ILLEGAL_NETWORK);
	assert_fails(mini_sandbox_allow_max_connections(-1), MINI_SANDBOX_ERR_ILLEGAL_NETWORK);
	/* resolver and limit may come before the allow calls */
	assert_int_equal(mini_sandbox_set_resolver("127.0.0.1:5353"), 0);
	assert_fails(mini_sandbox_set_resolver("nonsense"), MINI_SANDBOX_ERR_ILLEGAL_NETWORK);
	assert_int_equal(mini_sandbox_allow_max_connections(10), 0);
	assert_int_equal(mini_sandbox_disable_name_check(), 0);
	assert_int_equal(mini_sandbox_allow("[2001:db8::1]:443/tcp"), 0);
	assert_int_equal(mini_sandbox_allow("*.example.com"), 0);
	assert_int_equal(mini_sandbox_allow_domain("pypi.org"), 0);
	assert_int_equal(mini_sandbox_allow_host_port(8080), 0);
	assert_fails(mini_sandbox_share_network(), MINI_SANDBOX_ERR_ILLEGAL_NETWORK);
	assert_fails(mini_sandbox_allow_all_domains(), MINI_SANDBOX_ERR_ILLEGAL_NETWORK);
	assert_int_equal(mini_sandbox_reset(), 0);
	assert_int_equal(mini_sandbox_allow_all_domains(), 0);
	assert_fails(mini_sandbox_allow("10.0.0.1"), MINI_SANDBOX_ERR_ILLEGAL_NETWORK);
	assert_int_equal(mini_sandbox_allow_host_port(8080), 0);
	assert_int_equal(mini_sandbox_reset(), 0);
	assert_int_equal(mini_sandbox_share_network(), 0);
	assert_fails(mini_sandbox_allow_ipv4("10.0.0.1"), MINI_SANDBOX_ERR_ILLEGAL_NETWORK);
}

static void
test_allowlist_file_parsed_at_the_call(void **state)
{
	char path[] = "/tmp/test-api-allow-XXXXXX";
	int fd = mkstemp(path);
	const char text[] = "10.0.0.1\n# fine\npypi.org:443\nnot valid here\n";

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof text - 1), (ssize_t)(sizeof text - 1));
	close(fd);
	assert_fails(mini_sandbox_allow_connections(path), MINI_SANDBOX_ERR_ILLEGAL_NETWORK);
	assert_non_null(strstr(mini_sandbox_get_last_error_msg(), ":4:"));
	assert_fails(mini_sandbox_allow_connections("/etc"), MINI_SANDBOX_ERR_PATH_MISSING);
	unlink(path);
}

static void
test_spawn_arguments(void **state)
{
	const char *const empty[] = { NULL };
	const char *const cmd[] = { "true", NULL };

	(void)state;
	assert_fails(mini_sandbox_spawn(empty), MINI_SANDBOX_ERR_ILLEGAL_CONFIG);
	assert_fails(mini_sandbox_spawn(NULL), MINI_SANDBOX_ERR_ILLEGAL_CONFIG);
	assert_fails(mini_sandbox_spawn_fds(cmd, 1000, -1, -1), MINI_SANDBOX_ERR_ILLEGAL_CONFIG);
	assert_int_equal(mini_sandbox_is_running(), 0);
}

static void *
failing_thread(void *arg)
{
	(void)arg;
	for (int i = 0; i < 200; i++) {
		if (mini_sandbox_mount_write("relative") != -1 ||
		    mini_sandbox_get_last_error_code() != MINI_SANDBOX_ERR_NOT_ABSOLUTE)
			return (void *)1;
		if (mini_sandbox_mount_bind("/usr") != 0 && mini_sandbox_get_last_error_code() !=
		    MINI_SANDBOX_ERR_ALREADY_STARTED)
			return (void *)2;
	}
	return NULL;
}

static void *
succeeding_thread(void *arg)
{
	(void)arg;
	if (mini_sandbox_mount_bind("/etc") != 0)
		return (void *)1;
	return (void *)(intptr_t)mini_sandbox_get_last_error_code();
}

/* The configuration is shared and locked; the last error is per thread. */
static void
test_threads(void **state)
{
	pthread_t t[8], quiet;
	void *quiet_ret = (void *)-1;

	(void)state;
	assert_int_equal(mini_sandbox_mount_bind("/etc"), 0);
	for (int i = 0; i < 8; i++)
		assert_int_equal(pthread_create(&t[i], NULL, failing_thread, NULL), 0);
	for (int i = 0; i < 8; i++) {
		void *ret = (void *)-1;

		assert_int_equal(pthread_join(t[i], &ret), 0);
		assert_null(ret);
	}
	/* a thread that never failed sees no error of the others */
	assert_int_equal(pthread_create(&quiet, NULL, succeeding_thread, NULL), 0);
	assert_int_equal(pthread_join(quiet, &quiet_ret), 0);
	assert_null(quiet_ret);
}

/* A marker in an unconfined process (this test) does not count. */
static void
test_forged_marker_ignored(void **state)
{
	(void)state;
	setenv(SBX_INSIDE_ENV, "1", 1);
	assert_false(api_inside_sandbox());
	unsetenv(SBX_INSIDE_ENV);
	assert_false(api_inside_sandbox());
}

/* The marker replaces an old one, keeps everything else, and setenv()
 * afterwards still works on the new environ. */
static void
test_mark_inside_keeps_the_environment(void **state)
{
	size_t markers = 0;

	(void)state;
	setenv(SBX_INSIDE_ENV, "0", 1);
	setenv("API_TEST_KEEP", "kept", 1);
	api_mark_inside();
	assert_string_equal(getenv(SBX_INSIDE_ENV), "1");
	assert_string_equal(getenv("API_TEST_KEEP"), "kept");
	for (char **e = environ; *e; e++)
		markers += g_str_has_prefix(*e, SBX_INSIDE_ENV "=");
	assert_int_equal(markers, 1);
	assert_int_equal(setenv("API_TEST_AFTER", "yes", 1), 0);
	assert_string_equal(getenv("API_TEST_AFTER"), "yes");
	assert_string_equal(getenv(SBX_INSIDE_ENV), "1");
	unsetenv(SBX_INSIDE_ENV);
	unsetenv("API_TEST_KEEP");
	unsetenv("API_TEST_AFTER");
	assert_null(getenv(SBX_INSIDE_ENV));
}

static gboolean
fd_is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

static void
test_continuation_closes_host_reaching_fds(void **state)
{
	int dir = open("/etc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int path = open("/etc/hostname", O_PATH | O_CLOEXEC);
	int file = open("/etc/hostname", O_RDONLY | O_CLOEXEC);
	int err = dup(2);
	int pipefd[2];

	(void)state;
	assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
	assert_true(dir >= 0 && path >= 0 && file >= 0 && err >= 0);
	api_close_host_reaching_fds();
	assert_false(fd_is_open(dir));
	assert_false(fd_is_open(path));
	assert_true(fd_is_open(file));
	assert_true(fd_is_open(err));
	assert_true(fd_is_open(pipefd[0]) && fd_is_open(pipefd[1]));
	assert_true(fd_is_open(0) && fd_is_open(1) && fd_is_open(2));
	close(file);
	close(err);
	close(pipefd[0]);
	close(pipefd[1]);
}

/* Each kind libminisandbox(3) lists as closed.  REQUIRED kinds must be
 * creatable wherever the tests run; the others depend on sysctls or
 * privileges (io_uring_disabled, unprivileged_userfaultfd, fanotify). */
static int
open_kind(const char *kind)
{
	sigset_t mask;
	struct io_uring_params params = { 0 };

	if (strcmp(kind, "procfs /proc/self/mem") == 0)
		return open("/proc/self/mem", O_RDWR | O_CLOEXEC);
	if (strcmp(kind, "nsfs") == 0)
		return open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (strcmp(kind, "eventfd") == 0)
		return eventfd(0, EFD_CLOEXEC);
	if (strcmp(kind, "inotify") == 0)
		return inotify_init1(IN_CLOEXEC);
	if (strcmp(kind, "signalfd") == 0) {
		sigemptyset(&mask);
		sigaddset(&mask, SIGUSR2);
		return signalfd(-1, &mask, SFD_CLOEXEC);
	}
	if (strcmp(kind, "timerfd") == 0)
		return timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	if (strcmp(kind, "epoll") == 0)
		return epoll_create1(EPOLL_CLOEXEC);
	if (strcmp(kind, "memfd") == 0)
		return memfd_create("test", MFD_CLOEXEC);
	if (strcmp(kind, "sealable memfd") == 0)
		return memfd_create("test", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (strcmp(kind, "pidfd") == 0)
		return (int)syscall(SYS_pidfd_open, getpid(), 0);
	if (strcmp(kind, "io_uring") == 0)
		return (int)syscall(SYS_io_uring_setup, 4, &params);
	if (strcmp(kind, "userfaultfd") == 0)
		return (int)syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);
	if (strcmp(kind, "fanotify") == 0)
		return fanotify_init(FAN_CLASS_NOTIF | FAN_REPORT_FID | FAN_CLOEXEC, O_RDONLY);
	return -1;
}

static void
test_continuation_closes_every_kind(void **state)
{
	static const struct {
		const char *kind;
		gboolean required;
	} kinds[] = {
		{ "procfs /proc/self/mem", TRUE }, { "nsfs", TRUE }, { "eventfd", TRUE },
		{ "inotify", TRUE }, { "signalfd", TRUE }, { "timerfd", TRUE },
		{ "epoll", TRUE }, { "memfd", TRUE }, { "sealable memfd", TRUE },
		{ "pidfd", TRUE }, { "io_uring", FALSE }, { "userfaultfd", FALSE },
		{ "fanotify", FALSE },
	};
	int fds[G_N_ELEMENTS(kinds)];
	/* A tmpfs file is kept: the memfd test must not catch /dev/shm. */
	int shm_file = open("/dev/shm", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	(void)state;
	for (gsize i = 0; i < G_N_ELEMENTS(kinds); i++) {
		fds[i] = open_kind(kinds[i].kind);
		if (fds[i] < 0 && kinds[i].required)
			fail_msg("cannot create a %s fd: %s", kinds[i].kind, strerror(errno));
	}
	api_close_host_reaching_fds();
	for (gsize i = 0; i < G_N_ELEMENTS(kinds); i++)
		if (fds[i] >= 0 && fd_is_open(fds[i]))
			fail_msg("the %s fd %d was kept", kinds[i].kind, fds[i]);
	if (shm_file >= 0) {
		assert_true(fd_is_open(shm_file));
		close(shm_file);
	}
}

/* 0, 1, 2 are never closed: one reaching the launcher becomes /dev/null. */
static void
test_continuation_neuters_host_reaching_stdio(void **state)
{
	int saved = dup(STDIN_FILENO);
	int mem = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
	struct stat st;

	(void)state;
	assert_true(saved >= 0 && mem >= 0);
	assert_int_equal(dup2(mem, STDIN_FILENO), STDIN_FILENO);
	close(mem);
	api_close_host_reaching_fds();
	assert_int_equal(fstat(STDIN_FILENO, &st), 0);
	assert_true(S_ISCHR(st.st_mode));
	assert_int_equal(st.st_rdev, makedev(1, 3));
	assert_int_equal(dup2(saved, STDIN_FILENO), STDIN_FILENO);
	close(saved);
}

/* mini_sandbox_allow_domain() takes what the allowlist grammar calls a
 * domain (allowlist_is_domain), no more and no less, and refuses the rest
 * with the documented code. */
static void
test_allow_domain_uses_the_grammar(void **state)
{
	const char *cases[] = {
		"pypi.org", "PyPI.Org.", "localhost", "*.example.com", "*.com", "a_b.example",
		"1.2.3.4", "::1", "pypi.org:443", "-bad-.example", "a..b", "", "*.", "a b",
	};

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		int want = allowlist_is_domain(cases[i]) ? 0 : -1;

		assert_int_equal(mini_sandbox_reset(), 0);
		if (mini_sandbox_allow_domain(cases[i]) != want)
			fail_msg("mini_sandbox_allow_domain(\"%s\") != %d", cases[i], want);
		if (want < 0 && mini_sandbox_get_last_error_code() != MINI_SANDBOX_ERR_ILLEGAL_NETWORK)
			fail_msg("mini_sandbox_allow_domain(\"%s\"): code %d", cases[i],
				 mini_sandbox_get_last_error_code());
	}
	assert_int_equal(mini_sandbox_reset(), 0);
	assert_int_equal(mini_sandbox_allow_domain("localhost"), 0);
	assert_fails(mini_sandbox_allow_domain("1.2.3.4"), MINI_SANDBOX_ERR_ILLEGAL_NETWORK);
	assert_non_null(strstr(mini_sandbox_get_last_error_msg(), "not a domain name"));
	assert_fails(mini_sandbox_allow_domain(NULL), MINI_SANDBOX_ERR_ILLEGAL_NETWORK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_paths_are_checked_at_the_call, reset),
		cmocka_unit_test_setup(test_modes, reset),
		cmocka_unit_test_setup(test_read_and_write_same_path, reset),
		cmocka_unit_test_setup(test_empty_output_file_is_created, reset),
		cmocka_unit_test_setup(test_network_rule, reset),
		cmocka_unit_test_setup(test_allowlist_file_parsed_at_the_call, reset),
		cmocka_unit_test_setup(test_spawn_arguments, reset),
		cmocka_unit_test_setup(test_threads, reset),
		cmocka_unit_test_setup(test_forged_marker_ignored, reset),
		cmocka_unit_test_setup(test_mark_inside_keeps_the_environment, reset),
		cmocka_unit_test_setup(test_continuation_closes_host_reaching_fds, reset),
		cmocka_unit_test_setup(test_continuation_closes_every_kind, reset),
		cmocka_unit_test_setup(test_continuation_neuters_host_reaching_stdio, reset),
		cmocka_unit_test_setup(test_allow_domain_uses_the_grammar, reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
