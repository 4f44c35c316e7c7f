/* SPDX-License-Identifier: MIT
 *
 * lib-client — a libminisandbox caller for tests/integration/test_lib.py.
 *
 *	lib-client SCENARIO [ARGS…]
 *
 * Each scenario configures the library, calls mini_sandbox_start() (or
 * spawn) and reports what it sees as "key value" lines on stdout, so the
 * Python side can check them and then look at the host for what leaked.
 * Uses only the public header and the installed-style library, like a real
 * client.  A line "start-failed CODE MESSAGE" means start() returned in the
 * caller.
 */
#include <minisandbox.h>

#include <glib.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void
say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* "NAME RETURN CODE": a call's return value and the last error code after it. */
static void
say_call(const char *name, long rc)
{
	say("%s %ld %d", name, rc, mini_sandbox_get_last_error_code());
}

/* Report a failed call and stop: the caller learned of it (exit 3). */
static void
check(int rc, const char *call)
{
	if (rc < 0) {
		say("call-failed %s %d %s", call, mini_sandbox_get_last_error_code(),
		    mini_sandbox_get_last_error_msg());
		exit(3);
	}
}

static void
start_or_report(void)
{
	int rc = mini_sandbox_start();

	if (rc < 0) {
		say("start-rc %d", rc);
		say("start-failed %d %s", mini_sandbox_get_last_error_code(),
		    mini_sandbox_get_last_error_msg());
		say("is-running %d", mini_sandbox_is_running());
		exit(3);
	}
	say("inside pid=%d running=%d", (int)getpid(), mini_sandbox_is_running());
}

/* errno name of creating PATH, "ok" when it worked. */
static const char *
try_create(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		return strerrorname_np(errno);
	if (write(fd, "x\n", 2) != 2) {
		close(fd);
		return strerrorname_np(errno);
	}
	close(fd);
	return "ok";
}

static const char *
try_connect(const char *addr, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	const char *result = "ok";

	inet_pton(AF_INET, addr, &sa.sin_addr);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		result = strerrorname_np(errno);
	} else {
		char buf[64] = "";
		ssize_t n;

		/* The test server answers "hello" and closes. */
		n = read(fd, buf, sizeof buf - 1);
		if (n <= 0 || strncmp(buf, "hello", 5) != 0)
			result = "no-greeting";
	}
	close(fd);
	return result;
}

/* sandboxed WORKDIR_FILE OUTSIDE_FILE PORT: after start, a file in CWD
 * persists, a file outside CWD does not reach the host, no network. */
static int
scenario_sandboxed(char **argv)
{
	check(mini_sandbox_setup_default(), "setup_default");
	start_or_report();
	say("write-cwd %s", try_create(argv[0]));
	say("write-outside %s", try_create(argv[1]));
	say("connect-host %s", try_connect("127.0.0.1", atoi(argv[2])));
	say("connect-gateway %s", try_connect("10.0.2.2", atoi(argv[2])));
	return 0;
}

/* exit CODE */
static int
scenario_exit(char **argv)
{
	start_or_report();
	return atoi(argv[0]);
}

/* twice: after start, configuration and start give -202. */
static int
scenario_twice(char **argv)
{
	(void)argv;
	check(mini_sandbox_setup_default(), "setup_default");
	start_or_report();
	say_call("second-start", mini_sandbox_start());
	say_call("mount-after", mini_sandbox_mount_write("/tmp"));
	say_call("allow-after", mini_sandbox_allow("10.0.0.1"));
	say_call("reset-after", mini_sandbox_reset());
	say("last-code %d", mini_sandbox_get_last_error_code());
	return 0;
}

/* vanishing-path DIR MARKER: DIR exists when configured, is gone at start;
 * start fails in the caller and nothing ran (MARKER never written). */
static int
scenario_vanishing_path(char **argv)
{
	check(mini_sandbox_mount_write(argv[0]), "mount_write");
	if (rmdir(argv[0]) < 0) {
		perror("rmdir");
		return 99;
	}
	start_or_report();
	try_create(argv[1]);
	return 0;
}

/* start-only: start and print; used for nested, userns-off and forged
 * marker checks. */
static int
scenario_start_only(char **argv)
{
	(void)argv;
	start_or_report();
	return 0;
}

/* nested CLIENT: start, then run CLIENT start-only inside: the inner start
 * must be refused with ERR_NESTED (and the marker must be set). */
static int
scenario_nested(char **argv)
{
	check(mini_sandbox_setup_default(), "setup_default");
	start_or_report();
	say("marker %s", getenv("MINI_SANDBOX_INSIDE") ? getenv("MINI_SANDBOX_INSIDE") : "unset");
	execl(argv[0], argv[0], "start-only", (char *)NULL);
	say("exec-failed %s", strerrorname_np(errno));
	return 99;
}

/* procmem: the attack of issue 14 item 3.  /proc/self/mem opened before
 * start() is the caller's memory — and the caller becomes the launcher,
 * which stays outside.  The continuation tries to overwrite the
 * launcher's copy of launcher_flag; the launcher prints it when it exits
 * (atexit: it leaves with exit()), so a successful write shows on the host. */
static char launcher_flag[16] = "untouched";
static pid_t caller_pid;

static void
report_launcher_flag(void)
{
	if (getpid() == caller_pid)
		say("launcher-flag %s", launcher_flag);
}

static int
scenario_procmem(char **argv)
{
	int mem = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
	ssize_t n;

	(void)argv;
	if (mem < 0) {
		perror("open /proc/self/mem");
		return 99;
	}
	caller_pid = getpid();
	atexit(report_launcher_flag);
	check(mini_sandbox_setup_default(), "setup_default");
	start_or_report();
	n = pwrite(mem, "PWNED", 6, (off_t)(uintptr_t)launcher_flag);
	say("mem-write %s", n == 6 ? "ok" : strerrorname_np(errno));
	return 0;
}

/* fdkinds HOMEDIR: fds of the kinds libminisandbox(3) closes, opened before
 * start(); inside, each is reported "open" or "closed".  A regular file
 * and a pipe are the positive control. */
static const char *
fd_state(int fd)
{
	if (fd < 0)
		return "not-created";
	return fcntl(fd, F_GETFD) >= 0 ? "open" : "closed";
}

static int
scenario_fdkinds(char **argv)
{
	int watch = inotify_init1(IN_CLOEXEC);
	int kinds[] = {
		open("/proc/self/mem", O_RDONLY | O_CLOEXEC),
		open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC),
		eventfd(0, EFD_CLOEXEC),
		watch,
		memfd_create("lib-client", MFD_CLOEXEC),
		(int)syscall(SYS_pidfd_open, getpid(), 0),
	};
	static const char *const names[] = { "procfs", "nsfs", "eventfd", "inotify", "memfd",
					     "pidfd" };
	int file = open("/etc/hostname", O_RDONLY | O_CLOEXEC);
	int pipefd[2];

	if (pipe2(pipefd, O_CLOEXEC) < 0 || file < 0 ||
	    inotify_add_watch(watch, argv[0], IN_ALL_EVENTS) < 0) {
		perror("set-up");
		return 99;
	}
	check(mini_sandbox_setup_default(), "setup_default");
	start_or_report();
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		say("%s %s", names[i], fd_state(kinds[i]));
	say("file %s", fd_state(file));
	say("pipe %s", fcntl(pipefd[0], F_GETFD) >= 0 && fcntl(pipefd[1], F_GETFD) >= 0 ?
		"open" : "closed");
	return 0;
}

/* reopen FILE: FILE opened read-only before start() (a configuration
 * file), then reopened for writing through /proc/self/fd inside — the
 * attack of issue 14 item 4 in library mode; Landlock refuses it. */
static int
scenario_reopen(char **argv)
{
	int fd = open(argv[0], O_RDONLY | O_CLOEXEC);
	char name[64];
	int w;

	if (fd < 0) {
		perror("open");
		return 99;
	}
	check(mini_sandbox_setup_default(), "setup_default");
	start_or_report();
	snprintf(name, sizeof name, "/proc/self/fd/%d", fd);
	w = open(name, O_WRONLY | O_TRUNC | O_CLOEXEC);
	say("reopen-write %s", w >= 0 ? "ok" : strerrorname_np(errno));
	if (w >= 0 && write(w, "PWNED\n", 6) != 6)
		return 99;
	return 0;
}

/* userns ALLOW: unshare(CLONE_NEWUSER) inside, after
 * mini_sandbox_allow_userns() when ALLOW is 1. */
static int
scenario_userns(char **argv)
{
	check(mini_sandbox_setup_default(), "setup_default");
	if (atoi(argv[0]))
		check(mini_sandbox_allow_userns(), "allow_userns");
	start_or_report();
	say("unshare-user %s", unshare(CLONE_NEWUSER) == 0 ? "ok" : strerrorname_np(errno));
	return 0;
}

/* fds DIR LOGFILE: a dup of stderr and a log file keep working, a directory
 * fd and an O_PATH fd of DIR no longer reach it. */
static int
scenario_fds(char **argv)
{
	int err = dup(2);
	int log = open(argv[1], O_WRONLY | O_APPEND | O_CLOEXEC);
	int dir = open(argv[0], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int path = open(argv[0], O_PATH | O_CLOEXEC);
	int fd;

	if (err < 0 || log < 0 || dir < 0 || path < 0) {
		perror("open");
		return 99;
	}
	check(mini_sandbox_setup_default(), "setup_default");
	start_or_report();
	dprintf(err, "stderr-dup-works\n");
	dprintf(log, "log-file-works\n");
	fd = openat(dir, "secret", O_RDONLY | O_CLOEXEC);
	say("openat-dir-read %s", fd < 0 ? strerrorname_np(errno) : "ok");
	fd = openat(dir, "planted", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	say("openat-dir-create %s", fd < 0 ? strerrorname_np(errno) : "ok");
	fd = openat(path, "secret", O_RDONLY | O_CLOEXEC);
	say("openat-path-read %s", fd < 0 ? strerrorname_np(errno) : "ok");
	say("fchdir %s", fchdir(dir) < 0 ? strerrorname_np(errno) : "ok");
	return 0;
}

/* sockets PORT: a socket made before start() belongs to the caller's
 * network namespace and is closed; one made inside sees only the sandbox's
 * network (no route to the host's 127.0.0.1:PORT). */
static int
scenario_sockets(char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[0])) };
	int before = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int inside;

	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (before < 0) {
		perror("socket");
		return 99;
	}
	check(mini_sandbox_setup_default(), "setup_default");
	start_or_report();
	say("before-connect %s", connect(before, (struct sockaddr *)&a, sizeof a) < 0 ?
	    strerrorname_np(errno) : "ok");
	inside = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	say("inside-connect %s", connect(inside, (struct sockaddr *)&a, sizeof a) < 0 ?
	    strerrorname_np(errno) : "ok");
	return 0;
}

/* wait TOKEN: start, say "ready", then block until killed (TOKEN lets the
 * test find every process of this sandbox in the host's /proc). */
static int
scenario_wait(char **argv)
{
	(void)argv;
	start_or_report();
	say("ready");
	while (pause() < 0 && errno == EINTR)
		;
	return 0;
}

static void *
busy_thread(void *arg)
{
	volatile unsigned long *counter = arg;

	for (;;) {
		char *p = malloc(64 + (*counter % 4096));

		if (p)
			p[0] = (char)*counter;
		free(p);
		(*counter)++;
	}
	return NULL;
}

/* threads N CODE: N busy threads (malloc churn) in the caller, then start;
 * the continuation is single-threaded and exits CODE. */
static int
scenario_threads(char **argv)
{
	static volatile unsigned long counters[64];
	int n = atoi(argv[0]);
	int tasks = 0;
	struct dirent *de;
	DIR *dir;

	for (int i = 0; i < n && i < 64; i++) {
		pthread_t t;

		if (pthread_create(&t, NULL, busy_thread, (void *)&counters[i]) != 0)
			return 99;
	}
	check(mini_sandbox_setup_default(), "setup_default");
	start_or_report();
	dir = opendir("/proc/self/task");
	while (dir && (de = readdir(dir)))
		if (de->d_name[0] != '.')
			tasks++;
	if (dir)
		closedir(dir);
	say("threads-inside %d", tasks);
	return atoi(argv[1]);
}

/* Churns what libc guards with locks: malloc, a stdio stream, setenv. */
static void *
libc_locks_thread(void *arg)
{
	FILE *sink = fopen("/dev/null", "we");
	unsigned long i = (unsigned long)(uintptr_t)arg;

	for (;; i++) {
		char value[32], *p = malloc(64 + i % 4096);

		if (p)
			p[0] = (char)i;
		free(p);
		if (sink)
			fprintf(sink, "%lu churn\n", i);
		snprintf(value, sizeof value, "%lu", i);
		setenv("LIB_CLIENT_CHURN", value, 1);
	}
	return NULL;
}

/* threads-libc N: N threads busy in malloc, stdio and setenv while start()
 * forks; the continuation must come out of start() with the marker set. */
static int
scenario_threads_libc(char **argv)
{
	int n = atoi(argv[0]);

	for (int i = 0; i < n; i++) {
		pthread_t t;

		if (pthread_create(&t, NULL, libc_locks_thread, (void *)(uintptr_t)i) != 0)
			return 99;
	}
	check(mini_sandbox_setup_default(), "setup_default");
	start_or_report();
	say("marker %s", getenv("MINI_SANDBOX_INSIDE") ? getenv("MINI_SANDBOX_INSIDE") : "-");
	return 0;
}

/* A GLib user's thread: g_strerror(), GErrors, quarks, slices — each
 * behind a GLib lock at times. */
static gint glib_rounds;

static void *
glib_locks_thread(void *arg)
{
	for (unsigned long i = (unsigned long)(uintptr_t)arg;; i++) {
		GError *e = g_error_new(G_FILE_ERROR, 1, "churn %s", g_strerror((int)(i % 134)));
		char *name = g_strdup_printf("churn-%lu", i % 5000);
		gpointer slice = g_slice_alloc(32 + i % 200);

		(void)g_quark_from_string(name);
		g_slice_free1(32 + i % 200, slice);
		g_free(name);
		g_error_free(e);
		g_atomic_int_inc(&glib_rounds);
	}
	return NULL;
}

/* threads-glib N: N threads in GLib while start() forks (the sandbox's
 * set-up uses GLib too; fork() does not reset GLib's locks). */
static int
scenario_threads_glib(char **argv)
{
	int n = atoi(argv[0]);

	for (int i = 0; i < n; i++) {
		pthread_t t;

		if (pthread_create(&t, NULL, glib_locks_thread, (void *)(uintptr_t)i) != 0)
			return 99;
	}
	/* Start only once the threads are at it. */
	while (g_atomic_int_get(&glib_rounds) < 1000 * n)
		sched_yield();
	check(mini_sandbox_setup_default(), "setup_default");
	start_or_report();
	return 0;
}

/* The fork hooks record where they ran: "NAME@caller" or "NAME@other". */
static char hook_trace[256];
static pid_t hook_caller;

static void
hook_note(const char *name)
{
	size_t len = strlen(hook_trace);

	snprintf(hook_trace + len, sizeof hook_trace - len, "%s%s@%s", len ? "," : "", name,
		 getpid() == hook_caller ? "caller" : "other");
}

static void
hook_prepare(void)
{
	hook_note("prepare");
}

/* A library call that fails inside the hook must not replace the code
 * and message of the failed start(). */
static void
hook_parent(void)
{
	hook_note("parent");
	(void)mini_sandbox_mount_write("relative/path");
}

static void
hook_child(void)
{
	hook_note(mini_sandbox_is_running() ? "child-running" : "child");
}

/* hooks DIR|-: fork hooks around start; with DIR, DIR is gone at start so
 * start fails in the caller. */
static int
scenario_hooks(char **argv)
{
	hook_caller = getpid();
	check(mini_sandbox_set_fork_hooks(hook_prepare, hook_parent, hook_child), "set_fork_hooks");
	if (strcmp(argv[0], "-") != 0) {
		check(mini_sandbox_mount_write(argv[0]), "mount_write");
		if (rmdir(argv[0]) < 0) {
			perror("rmdir");
			return 99;
		}
	}
	if (mini_sandbox_start() < 0) {
		say("hooks %s", hook_trace);
		say("start-failed %d %s", mini_sandbox_get_last_error_code(),
		    mini_sandbox_get_last_error_msg());
		return 3;
	}
	say("hooks %s", hook_trace);
	{
		int rv = mini_sandbox_set_fork_hooks(NULL, NULL, NULL);

		say("hooks-after-start %d %d", rv, mini_sandbox_get_last_error_code());
	}
	return 0;
}

/* net ALLOWED_PORT OTHER_PORT: only the allowed host port is reachable. */
static int
scenario_net(char **argv)
{
	check(mini_sandbox_allow_host_port(atoi(argv[0])), "allow_host_port");
	start_or_report();
	say("allowed %s", try_connect("10.0.2.2", atoi(argv[0])));
	say("other %s", try_connect("10.0.2.2", atoi(argv[1])));
	return 0;
}

/* spawn CODE: mini_sandbox_spawn() a shell that exits CODE; waitpid. */
static int
scenario_spawn(char **argv)
{
	char script[64];
	const char *const cmd[] = { "sh", "-c", script, NULL };
	int status = 0;
	pid_t pid;

	snprintf(script, sizeof script, "echo spawned-output; exit %d", atoi(argv[0]));
	check(mini_sandbox_setup_default(), "setup_default");
	pid = mini_sandbox_spawn(cmd);
	check(pid, "spawn");
	if (waitpid(pid, &status, 0) != pid)
		return 99;
	say("spawn-status %d", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	say("is-running %d", mini_sandbox_is_running());
	return 0;
}

/* config: the configuration calls' return values and error codes ("NAME
 * RETURN CODE"), no start. */
static int
scenario_config(char **argv)
{
	(void)argv;
	say_call("relative", mini_sandbox_mount_write("relative/path"));
	say_call("missing", mini_sandbox_mount_write("/nonexistent/mini-sandbox-test"));
	say("missing-msg %s", mini_sandbox_get_last_error_msg());
	say_call("workdir-missing", mini_sandbox_set_working_dir("/nonexistent/mini-sandbox-wd"));
	say_call("tmpfs-file", mini_sandbox_mount_tmpfs("/etc/passwd"));
	say_call("ok", mini_sandbox_mount_bind("/etc"));
	say("ok-code %d", mini_sandbox_get_last_error_code());
	say_call("read-and-write", mini_sandbox_mount_write("/etc"));
	say_call("default", mini_sandbox_setup_default());
	say_call("default-again", mini_sandbox_setup_default());
	say_call("hermetic-after-default", mini_sandbox_setup_hermetic("/tmp"));
	say_call("tmp-in-default", mini_sandbox_mount_write("/tmp"));
	say_call("log", mini_sandbox_enable_log("/tmp/mini-sandbox-lib-test.log"));
	say_call("log-again", mini_sandbox_enable_log("/tmp/mini-sandbox-lib-test2.log"));
	say_call("bad-ipv4", mini_sandbox_allow_ipv4("10.0.0.300"));
	say_call("bad-subnet", mini_sandbox_allow_ipv4_subnet("10.0.0.0/33"));
	say_call("bad-domain", mini_sandbox_allow_domain("exa mple.com"));
	say_call("bad-entry", mini_sandbox_allow("a\nb"));
	say_call("bad-port", mini_sandbox_allow_host_port(70000));
	say_call("ipv4", mini_sandbox_allow_ipv4("10.0.0.1"));
	say_call("subnet-bare", mini_sandbox_allow_ipv4_subnet("198.51.100.7"));
	say_call("share-after-allow", mini_sandbox_share_network());
	say_call("all-after-allow", mini_sandbox_allow_all_domains());
	say_call("resolver-bad", mini_sandbox_set_resolver("not-an-address"));
	say_call("resolver", mini_sandbox_set_resolver("127.0.0.1:5353"));
	say_call("max-conn-bad", mini_sandbox_allow_max_connections(0));
	say_call("reset", mini_sandbox_reset());
	say_call("share", mini_sandbox_share_network());
	say_call("allow-after-share", mini_sandbox_allow("10.0.0.1"));
	say_call("spawn-empty", (int)mini_sandbox_spawn((const char *const[]){ NULL }));
	say("is-running %d", mini_sandbox_is_running());
	return 0;
}

static const struct {
	const char *name;
	int nargs;
	int (*run)(char **argv);
} scenarios[] = {
	{ "sandboxed", 3, scenario_sandboxed },
	{ "exit", 1, scenario_exit },
	{ "twice", 0, scenario_twice },
	{ "vanishing-path", 2, scenario_vanishing_path },
	{ "start-only", 0, scenario_start_only },
	{ "fds", 2, scenario_fds },
	{ "procmem", 0, scenario_procmem },
	{ "fdkinds", 1, scenario_fdkinds },
	{ "reopen", 1, scenario_reopen },
	{ "userns", 1, scenario_userns },
	{ "sockets", 1, scenario_sockets },
	{ "wait", 1, scenario_wait },
	{ "nested", 1, scenario_nested },
	{ "threads", 2, scenario_threads },
	{ "threads-libc", 1, scenario_threads_libc },
	{ "threads-glib", 1, scenario_threads_glib },
	{ "hooks", 1, scenario_hooks },
	{ "net", 2, scenario_net },
	{ "spawn", 1, scenario_spawn },
	{ "config", 0, scenario_config },
};

int
main(int argc, char **argv)
{
	for (size_t i = 0; argc >= 2 && i < sizeof scenarios / sizeof scenarios[0]; i++) {
		if (strcmp(argv[1], scenarios[i].name) != 0)
			continue;
		if (argc - 2 != scenarios[i].nargs) {
			fprintf(stderr, "lib-client %s: %d arguments expected\n", argv[1],
				scenarios[i].nargs);
			return 98;
		}
		return scenarios[i].run(argv + 2);
	}
	fprintf(stderr, "usage: lib-client SCENARIO [ARGS…] (see the source)\n");
	return 98;
}
