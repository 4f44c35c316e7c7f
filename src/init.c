/* SPDX-License-Identifier: MIT
 *
 * init.c — see init.h.  The loop is synchronous (sigwaitinfo): pid 1 has
 * nothing else to do, and blocked signals are queued for a namespace init
 * even when sent from outside (the kernel drops only signals an init has
 * neither a handler for nor blocked).
 */
#include "init.h"
#include "common/error.h"
#include "common/log.h"
#include "privdrop.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static const int forwarded_signals[] = {
	SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH,
};

int
sbx_status_to_exit_code(int wait_status)
{
	if (WIFEXITED(wait_status))
		return WEXITSTATUS(wait_status);
	if (WIFSIGNALED(wait_status))
		return 128 + WTERMSIG(wait_status);
	return SBX_EXIT_SETUP;
}

/* Reap everything that has exited; record the payload's status. */
static gboolean
reap_children(pid_t payload, int *payload_status)
{
	gboolean payload_done = FALSE;
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == payload) {
			*payload_status = status;
			payload_done = TRUE;
		}
	}
	return payload_done;
}

G_GNUC_NORETURN static void
init_loop(pid_t payload, const sigset_t *waited)
{
	int payload_status = 0;
	siginfo_t info;

	for (;;) {
		int sig = sigwaitinfo(waited, &info);

		if (sig < 0)
			continue; /* EINTR */
		if (sig == SIGCHLD) {
			if (reap_children(payload, &payload_status))
				break;
			continue;
		}
		/* A signal the terminal sent to the foreground process group
		 * (SI_KERNEL: ^C, ^\, window size) reached the payload directly;
		 * forwarding it would deliver it twice. */
		if (info.si_code == SI_KERNEL)
			continue;
		kill(payload, sig);
	}
	sbx_debug("init: payload exited (status %d); killing what is left",
		  sbx_status_to_exit_code(payload_status));
	/* Nothing may outlive the payload: daemons, stray children. */
	kill(-1, SIGKILL);
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
	_exit(sbx_status_to_exit_code(payload_status));
}

gboolean
sbx_init_start(int payload_only_fd, GError **error)
{
	sigset_t waited, saved;
	pid_t payload;

	/* An inherited SIG_IGN for SIGCHLD would make the kernel reap the
	 * payload behind our back, and its status would be lost. */
	struct sigaction dfl = { .sa_handler = SIG_DFL };

	sigemptyset(&dfl.sa_mask);
	sigaction(SIGCHLD, &dfl, NULL);
	/* Block before the fork so no signal meant for the payload is lost
	 * between fork() and sigwaitinfo(). */
	sigemptyset(&waited);
	for (size_t i = 0; i < G_N_ELEMENTS(forwarded_signals); i++)
		sigaddset(&waited, forwarded_signals[i]);
	sigaddset(&waited, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &waited, &saved) < 0)
		return sbx_set_errno(error, errno, "init: block signals");

	payload = fork();
	if (payload < 0) {
		int saved_errno = errno;

		sigprocmask(SIG_SETMASK, &saved, NULL);
		return sbx_set_errno(error, saved_errno, "init: fork the payload");
	}
	if (payload == 0) {
		sigprocmask(SIG_SETMASK, &saved, NULL);
		return TRUE;
	}
	if (payload_only_fd >= 0)
		close(payload_only_fd);
	sbx_debug("init: payload is pid %d", (int)payload);
	/* pid 1 keeps only stderr (and the -D log): the sync socket must
	 * reach EOF when the payload goes, and a pipe on stdout must see EOF
	 * when the payload closes its copy, not when pid 1 exits. */
	close(STDIN_FILENO);
	close(STDOUT_FILENO);
	{
		int keep = sbx_log_debug_fd();
		g_autoptr(GError) ignored = NULL;

		sbx_close_fds_except(&keep, keep >= 0 ? 1 : 0, &ignored);
	}
	init_loop(payload, &waited);
}
