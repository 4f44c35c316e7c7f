/* SPDX-License-Identifier: MIT
 *
 * nsclone.c — see nsclone.h for why there are two paths.
 */
#include "src/nsclone.h"
#include "common/error.h"
#include "common/fdutil.h"
#include "common/log.h"
#include "src/init.h"
#include "src/userns.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* fork() with namespace flags: no new stack, the child continues here
 * (bubblewrap's raw_clone). */
static pid_t
raw_clone(unsigned long flags)
{
#if defined(__s390__) || defined(__CRIS__)
	return (pid_t)syscall(SYS_clone, 0, flags);
#else
	return (pid_t)syscall(SYS_clone, flags, 0, NULL, NULL, 0);
#endif
}

static int
pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* From /proc/self/status; unknown counts as "several" (the safe path). */
static gboolean
single_threaded(void)
{
	g_autofree char *status = NULL;
	const char *line;

	if (!g_file_get_contents("/proc/self/status", &status, NULL, NULL))
		return FALSE;
	line = strstr(status, "\nThreads:");
	return line && strtol(line + strlen("\nThreads:"), NULL, 10) == 1;
}

static SbxCloneResult
clone_failed(int errnum, GError **error)
{
	g_autofree char *hint = sbx_userns_explain_failure(errnum);

	g_set_error(error, SBX_ERROR, SBX_ERR_OS,
		    "cannot create the sandbox's user namespace (clone: %s): %s; "
		    "the command was not run", g_strerror(errnum), hint);
	return SBX_CLONE_FAILED;
}

static SbxCloneResult
clone_directly(unsigned long flags, SbxSandboxProcs *procs, GError **error)
{
	pid_t pid = raw_clone(flags);

	if (pid < 0)
		return clone_failed(errno, error);
	if (pid == 0)
		return SBX_CLONE_CHILD;
	procs->child = procs->pid1 = pid;
	procs->child_fd = pidfd_open(pid);
	procs->pid1_fd = pidfd_open(pid);
	if (procs->child_fd < 0 || procs->pid1_fd < 0)
		return sbx_set_errno(error, errno, "pidfd_open for the sandbox"), SBX_CLONE_FAILED;
	return SBX_CLONE_PARENT;
}

/* The helper after its clone(): report, hold the fort, pass the status on. */
G_GNUC_NORETURN static void
helper_relay(int report_fd, pid_t pid1, int clone_errno)
{
	gint32 msg = pid1 > 0 ? (gint32)pid1 : -clone_errno;
	int status = 0;
	int fd = pid1 > 0 ? pidfd_open(pid1) : -1;

	if (pid1 > 0 && fd < 0)
		msg = -errno;
	sbx_send_fds(report_fd, &msg, sizeof msg, &fd, fd >= 0 ? 1 : 0);
	/* Nothing of ours may keep a pipe or the sync socket open. */
	syscall(SYS_close_range, 0U, ~0U, 0U);
	if (pid1 <= 0)
		_exit(SBX_EXIT_SETUP);
	while (waitpid(pid1, &status, 0) < 0 && errno == EINTR)
		;
	_exit(sbx_status_to_exit_code(status));
}

static SbxCloneResult
clone_via_helper(unsigned long flags, SbxSandboxProcs *procs, GError **error)
{
	/* Block everything a terminal can send: the helper must not die of a
	 * ^C meant for the payload (its death would kill the sandbox). */
	static const int terminal_signals[] = { SIGINT, SIGQUIT, SIGTSTP, SIGHUP, SIGTERM,
						SIGUSR1, SIGUSR2, SIGWINCH };
	autoclose int ours = -1, theirs = -1;
	pid_t launcher = getpid();
	sigset_t block, saved;
	int pair[2], fd = -1, r;
	gint32 msg = 0;
	pid_t helper;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
		return sbx_set_errno(error, errno, "create the clone helper's socketpair"),
		       SBX_CLONE_FAILED;
	ours = pair[0];
	theirs = pair[1];
	sigemptyset(&block);
	for (size_t i = 0; i < G_N_ELEMENTS(terminal_signals); i++)
		sigaddset(&block, terminal_signals[i]);
	pthread_sigmask(SIG_BLOCK, &block, &saved);
	helper = fork();
	if (helper == 0) {
		pid_t pid1;

		if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != launcher)
			_exit(SBX_EXIT_SETUP);
		pid1 = raw_clone(flags);
		if (pid1 == 0) {
			sigprocmask(SIG_SETMASK, &saved, NULL);
			sbx_close_fdp(&ours);
			sbx_close_fdp(&theirs);
			return SBX_CLONE_CHILD;
		}
		helper_relay(theirs, pid1, errno);
	}
	r = errno;
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	if (helper < 0)
		return sbx_set_errno(error, r, "fork the clone helper"), SBX_CLONE_FAILED;
	sbx_close_fdp(&theirs);
	procs->child = helper;
	procs->child_fd = pidfd_open(helper);
	if (procs->child_fd < 0)
		return sbx_set_errno(error, errno, "pidfd_open for the clone helper"),
		       SBX_CLONE_FAILED;
	/* A failed clone comes without an fd: sbx_recv_fds() says EPROTO but
	 * has read the (negative) errno. */
	r = sbx_recv_fds(ours, &msg, sizeof msg, &fd, 1);
	if (r == -EPROTO && msg < 0)
		return clone_failed((int)-msg, error);
	if (r < 0)
		return sbx_set_errno(error, -r, "read pid 1 from the clone helper"),
		       SBX_CLONE_FAILED;
	procs->pid1 = (pid_t)msg;
	procs->pid1_fd = fd;
	sbx_debug("launcher: multithreaded caller, clone helper %d, pid 1 is %d",
		  (int)helper, (int)procs->pid1);
	return SBX_CLONE_PARENT;
}

SbxCloneResult
sbx_clone_sandbox(unsigned long flags, SbxSandboxProcs *procs, GError **error)
{
	procs->child = procs->pid1 = 0;
	procs->child_fd = procs->pid1_fd = -1;
	if (single_threaded())
		return clone_directly(flags, procs, error);
	return clone_via_helper(flags, procs, error);
}

void
sbx_sandbox_procs_signal(const SbxSandboxProcs *procs, int sig)
{
	if (procs->pid1_fd >= 0)
		syscall(SYS_pidfd_send_signal, procs->pid1_fd, sig, NULL, 0U);
}

void
sbx_sandbox_procs_clear(SbxSandboxProcs *procs)
{
	sbx_close_fdp(&procs->child_fd);
	sbx_close_fdp(&procs->pid1_fd);
}
