/* SPDX-License-Identifier: MIT
 *
 * init.c — see init.h.  The loop is synchronous (sigwaitinfo): pid 1 has
 * nothing else to do, and blocked signals are queued for a namespace init
 * even when sent from outside (the kernel drops only signals an init has
 * neither a handler for nor blocked).
 */
#include "src/init.h"
#include "common/error.h"
#include "common/fdutil.h"
#include "common/log.h"
#include "src/cpu-handoff.h"
#include "src/privdrop.h"

#include <errno.h>
#include <sched.h>
#include <sys/mman.h>
#include <signal.h>
#include <stdio.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const int forwarded_signals[] = {
	SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH,
};

/* Set by the launcher before the clone, so pid 1 inherits it. */
static int foreground_tty = -1;
/* The job-control pipe (init.h): pid 1 writes, the launcher reads.  Set
 * by the launcher before the clone, so pid 1 and the payload inherit it. */
static int jobctl_write = -1, jobctl_read = -1;
/* -T and -t (init.h): set by the launcher before the clone. */
static guint deadline_secs, deadline_grace_secs;

void
sbx_init_set_deadline(guint timeout_secs, guint grace_secs)
{
	deadline_secs = timeout_secs;
	deadline_grace_secs = grace_secs;
}

void
sbx_init_set_jobctl_pipe(int read_end, int write_end)
{
	jobctl_read = read_end;
	jobctl_write = write_end;
}

int
sbx_init_note_terminal(void)
{
	foreground_tty = -1;
	for (int fd = STDIN_FILENO; fd <= STDERR_FILENO; fd++) {
		if (isatty(fd) && tcgetpgrp(fd) == getpgrp()) {
			foreground_tty = fd;
			break;
		}
	}
	return foreground_tty;
}

/* tcsetpgrp() from a process group that is not in the foreground raises
 * SIGTTOU (which would stop us) unless SIGTTOU is blocked. */
static int
set_foreground(int fd, pid_t pgrp)
{
	sigset_t ttou, saved;
	int r, saved_errno;

	sigemptyset(&ttou);
	sigaddset(&ttou, SIGTTOU);
	sigprocmask(SIG_BLOCK, &ttou, &saved);
	r = tcsetpgrp(fd, pgrp);
	saved_errno = errno;
	sigprocmask(SIG_SETMASK, &saved, NULL);
	errno = saved_errno;
	return r;
}

void
sbx_init_reclaim_terminal(int fd)
{
	if (fd < 0 || tcgetpgrp(fd) == getpgrp())
		return;
	if (set_foreground(fd, getpgrp()) < 0)
		sbx_debug("launcher: take the terminal back: %s", sbx_strerror(errno));
}

/* In the payload, before anything of the caller's runs: its own process
 * group, and the terminal if the launcher's group had it. */
static void
payload_own_group(void)
{
	if (setpgid(0, 0) < 0)
		sbx_warn("payload: own process group: %s", sbx_strerror(errno));
	else if (foreground_tty >= 0 && set_foreground(foreground_tty, getpid()) < 0)
		sbx_warn("payload: take over the terminal: %s", sbx_strerror(errno));
}

int
sbx_status_to_exit_code(int wait_status)
{
	if (WIFEXITED(wait_status))
		return WEXITSTATUS(wait_status);
	if (WIFSIGNALED(wait_status))
		return 128 + WTERMSIG(wait_status);
	return SBX_EXIT_SETUP;
}

/* The payload holding the terminal was stopped (^Z, SIGTTIN): the shell
 * waits for the launcher, not for it, so tell the launcher, which takes
 * the terminal back and stops itself; the shell then sees the job stopped. */
static void
payload_stopped(void)
{
	static const char stopped = SBX_INIT_MSG_STOPPED;

	if (foreground_tty < 0 || jobctl_write < 0)
		return;
	sbx_debug("init: payload stopped; telling the launcher");
	if (sbx_write_all(jobctl_write, &stopped, 1) < 0)
		sbx_debug("init: tell the launcher the payload stopped: %s", sbx_strerror(errno));
}

/* The launcher was continued (fg): give the terminal back to the payload's
 * group and continue it. */
static void
payload_continue(pid_t payload)
{
	if (foreground_tty >= 0 && set_foreground(foreground_tty, payload) < 0)
		sbx_debug("init: give the terminal back to the payload: %s", sbx_strerror(errno));
	kill(-payload, SIGCONT);
}

/* The signals a terminal sends to its whole foreground job (init.h). */
static gboolean
is_job_signal(int sig)
{
	return sig == SIGINT || sig == SIGQUIT || sig == SIGTERM || sig == SIGHUP ||
	       sig == SIGWINCH;
}

/* SIG to the payload's process group, as a terminal would send it: a shell
 * waiting for its foreground child must not be the only one to get ^C.
 * The payload may have left its group (setsid) or the group may be gone
 * already: then to the payload alone. */
static void
signal_payload(pid_t payload, int sig)
{
	if (is_job_signal(sig) && kill(-payload, sig) == 0)
		return;
	kill(payload, sig);
}

/* Reap everything that has exited; record the payload's status. */
static gboolean
reap_children(pid_t payload, int *payload_status)
{
	gboolean payload_done = FALSE;
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG | WUNTRACED)) > 0) {
		if (pid != payload)
			continue;
		if (WIFSTOPPED(status)) {
			payload_stopped();
			continue;
		}
		*payload_status = status;
		payload_done = TRUE;
	}
	return payload_done;
}

static gint64
monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (gint64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The -T deadline, kept by pid 1 because pid 1 is never stopped: the
 * launcher stops itself when the payload stops (job control, init.h), and
 * a payload that stops itself after starting a setsid worker would
 * otherwise hold the launcher's timer for as long as the shell keeps the
 * job stopped.  Signals from inside the namespace cannot stop or kill
 * pid 1 (the kernel drops SIGSTOP and SIGKILL sent to a namespace init
 * from within), so nothing the payload does can hold this clock. */
typedef struct {
	gint64 term_at, kill_at;   /* CLOCK_MONOTONIC ms; 0 = not armed */
} Deadline;

static void
deadline_start(Deadline *d)
{
	gint64 now = monotonic_ms();

	d->term_at = d->kill_at = 0;
	if (deadline_secs == 0)
		return;
	d->term_at = now + (gint64)deadline_secs * 1000;
	d->kill_at = d->term_at + (gint64)deadline_grace_secs * 1000;
}

/* How long sigtimedwait() may wait: until the next step of D, or NULL
 * (no deadline: wait for a signal only). */
static struct timespec *
deadline_wait(const Deadline *d, struct timespec *ts)
{
	gint64 next = d->term_at ? d->term_at : d->kill_at, left;

	if (!next)
		return NULL;
	left = MAX(next - monotonic_ms(), 0);
	ts->tv_sec = left / 1000;
	ts->tv_nsec = (left % 1000) * 1000000;
	return ts;
}

/* Do the step of D that is due, if any.  At the deadline: continue
 * everything stopped in the namespace (a stopped process would not act on
 * SIGTERM) and send SIGTERM to the payload's group.  After the grace
 * period: TRUE, the caller kills everything. */
static gboolean
deadline_step(Deadline *d, pid_t payload)
{
	gint64 now = monotonic_ms();

	if (d->term_at && now >= d->term_at) {
		d->term_at = 0;
		sbx_warn("time limit of %u s reached; stopping the sandbox", deadline_secs);
		kill(-1, SIGCONT);
		signal_payload(payload, SIGTERM);
	}
	if (!d->term_at && d->kill_at && now >= d->kill_at) {
		sbx_debug("init: grace period over, SIGKILL");
		return TRUE;
	}
	return FALSE;
}

G_GNUC_NORETURN static void
init_loop(pid_t payload, const sigset_t *waited)
{
	int payload_status = 0;
	siginfo_t info;
	Deadline deadline;

	deadline_start(&deadline);
	for (;;) {
		struct timespec ts;
		int sig;

		/* checked before every wait, not only on its timeout: a payload
		 * that keeps a signal pending (children exiting in a loop) would
		 * otherwise starve the timeout */
		if (deadline_step(&deadline, payload)) {
			payload_status = SIGKILL;   /* a wait status: killed by SIGKILL */
			break;
		}
		sig = sigtimedwait(waited, &info, deadline_wait(&deadline, &ts));
		if (sig < 0)
			continue; /* EINTR, or EAGAIN: a step of the deadline is due */
		if (sig == SIGCHLD) {
			if (reap_children(payload, &payload_status))
				break;
			continue;
		}
		if (sig == SIGCONT) {
			payload_continue(payload);
			continue;
		}
		/* From the terminal (SI_KERNEL: ^C, ^\, window size): only if
		 * something inside made our own group the foreground one.
		 * Terminal signals for the caller's group reach the launcher,
		 * which forwards them. */
		if (info.si_code == SI_KERNEL)
			continue;
		signal_payload(payload, sig);
	}
	sbx_debug("init: payload exited (status %d); killing what is left",
		  sbx_status_to_exit_code(payload_status));
	/* Nothing may outlive the payload: daemons, stray children. */
	kill(-1, SIGKILL);
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
	_exit(sbx_status_to_exit_code(payload_status));
}

/* The payload of a CLONE_VM spawn (sbx_init_start with a function).  It
 * shares pid 1's memory until its exec: it closes fds and sets its own
 * group and mask, but writes none of pid 1's variables. */
typedef struct {
	SbxPayloadFn fn;
	void *arg;
	sigset_t mask;
} PayloadSpawn;

/* The payload's first steps, either way it was started: the job-control
 * pipe is pid 1's and the launcher's only (its fds are closed, the
 * variables left alone: a CLONE_VM payload shares them with pid 1), its
 * own process group, the caller's signal mask back. */
static void
payload_begin(const sigset_t *mask)
{
	if (jobctl_read >= 0)
		close(jobctl_read);
	if (jobctl_write >= 0)
		close(jobctl_write);
	payload_own_group();
	sigprocmask(SIG_SETMASK, mask, NULL);
}

static int
payload_trampoline(void *data)
{
	PayloadSpawn *spawn = data;

	payload_begin(&spawn->mask);
	spawn->fn(spawn->arg);
	_exit(SBX_EXIT_SETUP); /* not reached: FN execs or _exits */
}

/* Stack of the CLONE_VM payload, used until its exec: what the set-up
 * calls need (GLib, the 4 KiB report, execvp's path search), with room,
 * above a guard page.  Never unmapped: pid 1 lives as long as the sandbox
 * and the few pages the payload touched cost less than the munmap(),
 * whose TLB shootdown reaches the CPU the payload ran on (an IPI: on a VM,
 * an exit to the hypervisor). */
#define PAYLOAD_STACK_SIZE (512 * 1024)
#define PAYLOAD_GUARD_SIZE (64 * 1024)

/* clone(CLONE_VM|CLONE_VFORK|CLONE_NEWUSER): no copy of pid 1's page
 * tables and no copy-on-write faults in either process, and the nested
 * user namespace comes with the process (unshare(CLONE_NEWUSER) would be
 * refused to a process that shares its memory).  Returns once the payload
 * has exec'd or exited, or -1 with errno. */
static pid_t
spawn_payload(PayloadSpawn *spawn)
{
	char *area = mmap(NULL, PAYLOAD_GUARD_SIZE + PAYLOAD_STACK_SIZE, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (area == MAP_FAILED)
		return -1;
	if (mprotect(area + PAYLOAD_GUARD_SIZE, PAYLOAD_STACK_SIZE, PROT_READ | PROT_WRITE) < 0)
		return -1;
	return clone(payload_trampoline, area + PAYLOAD_GUARD_SIZE + PAYLOAD_STACK_SIZE,
		     CLONE_VM | CLONE_VFORK | CLONE_NEWUSER | SIGCHLD, spawn);
}

gboolean
sbx_init_start(int payload_only_fd, SbxPayloadFn fn, void *arg, GError **error)
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
	sigaddset(&waited, SIGCONT);   /* from the launcher: see payload_continue() */
	if (sigprocmask(SIG_BLOCK, &waited, &saved) < 0)
		return sbx_set_errno(error, errno, "init: block signals");
	/* Out of the caller's process group too: a terminal signal to that
	 * group would otherwise reach us as well as the launcher, and the
	 * launcher's forwarded copy could merge with ours while pending —
	 * one of them must not be dropped, so only the launcher gets it. */
	if (setpgid(0, 0) < 0)
		sbx_warn("init: own process group: %s", sbx_strerror(errno));

	if (fn) {
		PayloadSpawn spawn = { .fn = fn, .arg = arg, .mask = saved };

		payload = spawn_payload(&spawn);
		sbx_handoff_release();     /* the payload has exec'd (or is gone) */
	} else {
		payload = fork();
	}
	if (payload < 0) {
		int saved_errno = errno;

		sigprocmask(SIG_SETMASK, &saved, NULL);
		return sbx_set_errno(error, saved_errno, "init: start the payload");
	}
	if (payload == 0) {
		payload_begin(&saved);
		jobctl_read = jobctl_write = -1;   /* a fork()ed payload's own copies */
		return TRUE;
	}
	/* Both sides set the group, as a shell does: whichever runs first,
	 * the payload is in it before it execs or we forward a signal.
	 * EACCES: it has exec'd already; ESRCH: it is gone. */
	if (setpgid(payload, payload) < 0 && errno != EACCES && errno != ESRCH)
		sbx_warn("init: payload's process group: %s", sbx_strerror(errno));
	if (payload_only_fd >= 0)
		close(payload_only_fd);
	sbx_debug("init: payload is pid %d", (int)payload);
	/* pid 1 keeps only stderr (and the -D log): the sync socket must
	 * reach EOF when the payload goes, and a pipe on stdout must see EOF
	 * when the payload closes its copy, not when pid 1 exits. */
	if (foreground_tty >= 0)   /* keep the terminal for payload_continue() */
		foreground_tty = fcntl(foreground_tty, F_DUPFD_CLOEXEC, 3);
	close(STDIN_FILENO);
	close(STDOUT_FILENO);
	{
		int keep[3], n = 0;
		g_autoptr(GError) ignored = NULL;

		if (sbx_log_debug_fd() >= 0)
			keep[n++] = sbx_log_debug_fd();
		if (jobctl_write >= 0)
			keep[n++] = jobctl_write;
		if (foreground_tty >= 0)
			keep[n++] = foreground_tty;
		sbx_close_fds_except(keep, (unsigned)n, &ignored);
	}
	init_loop(payload, &waited);
}
