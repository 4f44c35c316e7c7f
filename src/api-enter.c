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
#include <sys/stat.h>
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

/* Could FD reach the host from inside?  Directories (openat, fchdir),
 * O_PATH fds (openat on directories, /proc/self/fd reopen of what they
 * name), pidfds (signals to host processes) and sockets of the host's
 * network namespace (connect() to anything the caller could reach). */
static gboolean
fd_reaches_host(int fd)
{
	struct stat st;
	char link[64], target[64];
	ssize_t n;
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return FALSE;
	if (fl & O_PATH)
		return TRUE;
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
		return TRUE;
	if (S_ISSOCK(st.st_mode) && socket_outside_sandbox_netns(fd))
		return TRUE;
	g_snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof target - 1);
	if (n > 0) {
		target[n] = '\0';
		if (strcmp(target, "anon_inode:[pidfd]") == 0)
			return TRUE;
	}
	return FALSE;
}

/* Close every fd of the continuation that could reach the host; keep the
 * rest (regular files, pipes, terminals, sockets made in the sandbox's own
 * network namespace — with -N that is the host's, so all sockets stay).  Runs single-threaded in
 * the continuation before start() returns. */
void
api_close_host_reaching_fds(void)
{
	g_autoptr(GArray) doomed = g_array_new(FALSE, FALSE, sizeof(int));
	DIR *dir = opendir("/proc/self/fd");

	if (dir) {
		struct dirent *de;
		int self = dirfd(dir);

		while ((de = readdir(dir))) {
			int fd;

			if (!g_ascii_isdigit(de->d_name[0]))
				continue;
			fd = atoi(de->d_name);
			if (fd > 2 && fd != self && fd_reaches_host(fd))
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
			if (fd_reaches_host(fd))
				g_array_append_val(doomed, fd);
	}
	for (guint i = 0; i < doomed->len; i++) {
		sbx_debug("library: closing fd %d (could reach host files)",
			  g_array_index(doomed, int, i));
		close(g_array_index(doomed, int, i));
	}
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

