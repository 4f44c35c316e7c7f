/* SPDX-License-Identifier: MIT
 *
 * api-enter.c — libminisandbox's process-level work: is this process
 * already sandboxed, what the continuation may keep of the caller's fds,
 * and the child launcher behind mini_sandbox_spawn_fds().
 */
#include "src/api-internal.h"

#include "common/error.h"
#include "common/log.h"
#include "src/launcher.h"

#include <dirent.h>
#include <linux/sockios.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

/* ---- nesting ------------------------------------------------------------- */

/* Does /proc/self/status show a confined process: no capabilities at all,
 * no_new_privs, a seccomp filter — and is it in a user namespace other than
 * the initial one?  This is what our payloads look like; an unconfined
 * process cannot fake any of it. */
static gboolean
api_process_is_confined(void)
{
	g_autofree char *status = NULL, *uid_map = NULL;
	g_auto(GStrv) lines = NULL;
	g_auto(GStrv) map = NULL;
	gboolean no_new_privs = FALSE, seccomp = FALSE, no_caps = FALSE;

	if (!g_file_get_contents("/proc/self/status", &status, NULL, NULL) ||
	    !g_file_get_contents("/proc/self/uid_map", &uid_map, NULL, NULL))
		return FALSE;
	lines = g_strsplit(status, "\n", -1);
	for (char **l = lines; *l; l++) {
		if (g_str_has_prefix(*l, "NoNewPrivs:"))
			no_new_privs = atoi(*l + strlen("NoNewPrivs:")) == 1;
		else if (g_str_has_prefix(*l, "Seccomp:"))
			seccomp = atoi(*l + strlen("Seccomp:")) == 2;
		else if (g_str_has_prefix(*l, "CapBnd:"))
			no_caps = g_ascii_strtoull(*l + strlen("CapBnd:"), NULL, 16) == 0;
	}
	/* The initial user namespace maps the full range "0 0 4294967295". */
	map = g_strsplit_set(g_strstrip(uid_map), " \t\n", -1);
	{
		g_autoptr(GPtrArray) fields = g_ptr_array_new();

		for (char **f = map; *f; f++)
			if (**f)
				g_ptr_array_add(fields, *f);
		if (fields->len == 3 && strcmp(g_ptr_array_index(fields, 0), "0") == 0 &&
		    strcmp(g_ptr_array_index(fields, 1), "0") == 0 &&
		    strcmp(g_ptr_array_index(fields, 2), "4294967295") == 0)
			return FALSE;
	}
	return no_new_privs && seccomp && no_caps;
}

/* Nested start is refused only when the marker says "inside a mini-sandbox"
 * AND the process is confined.  A forged marker in an unconfined process
 * is ignored (we sandbox as asked), so the environment cannot turn the
 * sandbox off; a real sandbox without the marker simply nests. */
gboolean
api_inside_sandbox(void)
{
	const char *marker = getenv(SBX_INSIDE_ENV);

	if (!marker || !*marker)
		return FALSE;
	if (api_process_is_confined())
		return TRUE;
	sbx_debug("%s is set but this process is not confined: ignoring it", SBX_INSIDE_ENV);
	return FALSE;
}

/* Set the nesting marker in the continuation without setenv(3).  glibc's
 * fork(2) resets the malloc and stdio locks in the child but not the lock
 * of setenv/putenv: when another thread of the caller was inside setenv()
 * at the fork, the lock stays taken for good in the continuation, and
 * setenv() here hung (tests/lib/lib-client.c "threads"; 19 of 20 starts
 * with threads calling setenv in a loop).  The continuation is
 * single-threaded, so a new environ array needs no lock; later setenv()
 * calls take it over like any environ the program assigned. */
void
api_mark_inside(void)
{
	static char marker[] = SBX_INSIDE_ENV "=1";
	/* Kept here too: a later setenv() moves environ to a copy, and the
	 * array would look leaked (LeakSanitizer). */
	static char **ours;
	size_t name_len = strlen(SBX_INSIDE_ENV), n = 0, kept = 0;
	char **env;

	for (char **e = environ; e && *e; e++)
		n++;
	env = g_new(char *, n + 2);
	for (char **e = environ; e && *e; e++)
		if (strncmp(*e, SBX_INSIDE_ENV, name_len) != 0 || (*e)[name_len] != '=')
			env[kept++] = *e;
	env[kept++] = marker;
	env[kept] = NULL;
	environ = env;
	g_free(ours); /* only ever ours: no longer environ, nothing points to it */
	ours = env;
}

/* ---- the continuation's fds ---------------------------------------------- */

/* Identity (device, inode) of the network namespace socket SOCK lives in. */
static gboolean
socket_netns(int sock, struct stat *ns)
{
	int nsfd = ioctl(sock, SIOCGSKNS);
	gboolean ok;

	if (nsfd < 0)
		return FALSE;
	ok = fstat(nsfd, ns) == 0;
	close(nsfd);
	return ok;
}

/* Is socket FD bound to a network namespace other than the sandbox's?  A
 * socket keeps the namespace it was created in: one opened before start()
 * could still connect() anywhere the caller could, past "no network" and
 * past the allowlist.  Unknown counts as "other". */
static gboolean
socket_outside_sandbox_netns(int fd)
{
	struct stat mine, theirs;
	int probe = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	gboolean outside = TRUE;

	if (probe >= 0) {
		if (socket_netns(probe, &mine) && socket_netns(fd, &theirs))
			outside = mine.st_dev != theirs.st_dev || mine.st_ino != theirs.st_ino;
		close(probe);
	}
	return outside;
}

/* Filesystem magics of <linux/magic.h>, spelled out: older headers lack
 * some (PIDFS_MAGIC is 6.9). */
#define API_PROC_SUPER_MAGIC 0x9fa0
#define API_NSFS_MAGIC 0x6e736673
#define API_ANON_INODE_FS_MAGIC 0x09041934
#define API_PIDFS_MAGIC 0x50494446
#define API_HUGETLBFS_MAGIC 0x958458f6
#define API_SECRETMEM_MAGIC 0x5345434d

/* The device of the kernel's internal shmem mount, where every memfd
 * lives: a memfd is a tmpfs file that no mount shows, so neither its
 * f_type (TMPFS_MAGIC, like /tmp's files) nor F_GET_SEALS (which every
 * shmem file answers) tells it apart — its superblock does.  A memfd of
 * our own names that superblock without needing /proc (hermetic mode
 * without --proc has none).  0 when memfd_create is not available. */
static dev_t
memfd_device(void)
{
	struct stat st;
	int probe = memfd_create("sbx-probe", MFD_CLOEXEC);
	dev_t dev = 0;

	if (probe < 0)
		return 0;
	if (fstat(probe, &st) == 0)
		dev = st.st_dev;
	close(probe);
	return dev;
}

/* Is FD of a kind that hands the continuation something of the launcher's
 * or the host's, whatever the mount namespace says?
 *   procfs   /proc/self/mem of the caller is the launcher's memory, which
 *            stays outside; /proc/PID/… of host processes
 *   nsfs     setns() into the host's namespaces (with the capability)
 *   anon     eventfd, inotify (watches on host directories), fanotify,
 *   inodes   signalfd, timerfd, epoll, io_uring, userfaultfd, bpf, perf
 *   pidfs    pidfds: signals to host processes
 *   memfd    shared memory with the launcher or a host process (also
 *            hugetlbfs and memfd_secret) */
static gboolean
fd_kind_reaches_host(int fd, const struct stat *st, dev_t memfd_dev)
{
	struct statfs fs;

	if (fstatfs(fd, &fs) < 0)
		return FALSE;
	switch ((unsigned long)fs.f_type) {
	case API_PROC_SUPER_MAGIC:
	case API_NSFS_MAGIC:
	case API_ANON_INODE_FS_MAGIC:
	case API_PIDFS_MAGIC:
	case API_HUGETLBFS_MAGIC:
	case API_SECRETMEM_MAGIC:
		return TRUE;
	default:
		return memfd_dev != 0 && S_ISREG(st->st_mode) && st->st_dev == memfd_dev;
	}
}

/* Could FD reach the host from inside?  Directories (openat, fchdir),
 * O_PATH fds (openat on directories, /proc/self/fd reopen of what they
 * name), sockets of the host's network namespace (connect() to anything
 * the caller could reach), and the kinds of fd_kind_reaches_host(). */
static gboolean
fd_reaches_host(int fd, dev_t memfd_dev)
{
	struct stat st;
	char link[64], target[64];
	ssize_t n;
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return FALSE;
	if (fl & O_PATH)
		return TRUE;
	if (fstat(fd, &st) < 0)
		return TRUE; /* unknown counts as reaching */
	if (S_ISDIR(st.st_mode))
		return TRUE;
	if (S_ISSOCK(st.st_mode))
		return socket_outside_sandbox_netns(fd);
	if (fd_kind_reaches_host(fd, &st, memfd_dev))
		return TRUE;
	/* Kernels before pidfs (6.9) make pidfds anon inodes, caught above;
	 * the name is a second opinion where /proc is mounted. */
	g_snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof target - 1);
	if (n > 0) {
		target[n] = '\0';
		if (strcmp(target, "anon_inode:[pidfd]") == 0 || g_str_has_prefix(target, "/memfd:"))
			return TRUE;
	}
	return FALSE;
}

/* 0, 1 and 2 stay open whatever they are (code after start() writes to
 * them without checking), but one that reaches the host — the caller may
 * have dup'ed /proc/self/mem or a directory there — becomes /dev/null.  A
 * socket there (socket activation, inetd) stays: it is connected, and
 * taking it away would break the caller's protocol. */
static void
replace_host_reaching_stdio(dev_t memfd_dev)
{
	for (int fd = STDIN_FILENO; fd <= STDERR_FILENO; fd++) {
		struct stat st;
		int null_fd;

		if (fstat(fd, &st) < 0 || S_ISSOCK(st.st_mode) || !fd_reaches_host(fd, memfd_dev))
			continue;
		sbx_debug("library: fd %d could reach the host or the launcher: now /dev/null", fd);
		null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (null_fd < 0 || dup2(null_fd, fd) < 0)
			close(fd);
		if (null_fd >= 0 && null_fd != fd)
			close(null_fd);
	}
}

/* Close every fd of the continuation that could reach the host; keep the
 * rest (regular files, pipes, terminals, sockets made in the sandbox's own
 * network namespace — with -N that is the host's, so all sockets stay).
 * The list is libminisandbox(3)'s "FILE DESCRIPTORS".  Runs
 * single-threaded in the continuation before start() returns. */
void
api_close_host_reaching_fds(void)
{
	g_autoptr(GArray) doomed = g_array_new(FALSE, FALSE, sizeof(int));
	dev_t memfd_dev = memfd_device();
	DIR *dir = opendir("/proc/self/fd");

	if (dir) {
		struct dirent *de;
		int self = dirfd(dir);

		while ((de = readdir(dir))) {
			int fd;

			if (!g_ascii_isdigit(de->d_name[0]))
				continue;
			fd = atoi(de->d_name);
			if (fd > 2 && fd != self && fd_reaches_host(fd, memfd_dev))
				g_array_append_val(doomed, fd);
		}
		closedir(dir);
	} else {
		/* No /proc (hermetic mode without --proc): probe every possible fd. */
		struct rlimit rl = { 0 };
		int max = 65536;

		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY)
			max = (int)MIN(rl.rlim_max, (rlim_t)(1 << 20));
		for (int fd = 3; fd < max; fd++)
			if (fd_reaches_host(fd, memfd_dev))
				g_array_append_val(doomed, fd);
	}
	for (guint i = 0; i < doomed->len; i++) {
		sbx_debug("library: closing fd %d (could reach the host or the launcher)",
			  g_array_index(doomed, int, i));
		close(g_array_index(doomed, int, i));
	}
	replace_host_reaching_stdio(memfd_dev);
}

/* Child launcher of mini_sandbox_spawn_fds(): fds in place, everything
 * else closed, then the CLI's launcher.  Never returns. */
void
api_spawn_child(const SbxConfig *cfg, pid_t parent, const int fds[3])
{
	g_autoptr(GError) error = NULL;
	int moved[3];
	sigset_t none;
	int status;

	/* The caller dies → we die → the sandbox dies. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(SBX_EXIT_SETUP);
	/* Start from a clean slate like a new program would, not with the
	 * caller's handlers (Python's SIGINT handler, SIG_IGN for SIGPIPE) or
	 * its thread's signal mask: the launcher installs what it needs and the
	 * command gets default dispositions, as with subprocess. */
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Move the wanted fds above 2 first, so that e.g. swapping 1 and 2
	 * works. */
	for (int i = 0; i < 3; i++) {
		moved[i] = fds[i] >= 0 ? fcntl(fds[i], F_DUPFD_CLOEXEC, 3) : -1;
		if (fds[i] >= 0 && moved[i] < 0)
			_exit(SBX_EXIT_SETUP);
	}
	for (int i = 0; i < 3; i++)
		if (moved[i] >= 0 && dup2(moved[i], i) < 0)
			_exit(SBX_EXIT_SETUP);
	/* No other fd of the caller reaches the sandbox or stays open here
	 * (a pipe's write end kept by us would hide EOF from the caller). */
	if (close_range(3, ~0U, 0) < 0)
		for (int fd = 3; fd < 65536; fd++)
			close(fd);
	status = sbx_run(cfg, &error);
	if (error)
		fprintf(stderr, "%s: %s\n", sbx_log_prog(), error->message);
	fflush(stderr);
	_exit(status);
}

