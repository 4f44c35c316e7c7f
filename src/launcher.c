/* SPDX-License-Identifier: MIT
 *
 * launcher.c — the host side of the process model (launcher.h).
 *
 *   launch_prepare    net_prepare(), fs_plan_for_config(), seccomp   errors → 125,
 *                     nothing started
 *   launch_clone      raw clone(NEWUSER|NEWNS|NEWPID|NEWIPC|NEWUTS|NEWCGROUP[|NEWNET])
 *   launch_handshake  net_launcher_attach(); the set-up report (→ 125); pid 1
 *                     maps the caller's uid/gid → 0 itself
 *   launch_wait       main loop: forward signals, -T/-t backstop, pid 1's exit;
 *                     net_finish(); exit with pid 1's status
 *
 * The child's side is sandbox-child.c.  If this process dies, even by
 * SIGKILL, pid 1's parent-death signal takes the whole pid namespace down.
 */
#include "src/launcher.h"
#include "net/profile/profile-host.h"
#include "common/loop-epoll.h"
#include "common/error.h"
#include "common/fdutil.h"
#include "common/log.h"
#include "mounts/discarded.h"
#include "mounts/fs.h"
#include "mounts/mount-plan.h"
#include "src/cpu-handoff.h"
#include "src/init.h"
#include "net/net.h"
#include "src/nsclone.h"
#include "src/privdrop.h"
#include "src/sandbox-child.h"
#include "src/seccomp-filter.h"
#include "src/userns.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Timer slack of the launcher's loop thread.  Every timed wait of the loop
 * arms a high-resolution timer; when it expires before the next scheduler
 * tick, arming and cancelling it each reprogram the CPU's timer device —
 * on a virtual machine a trapped MSR write or a hypercall each time.  The
 * TCP relay's 1 ms delayed-ACK deadline bounds the wait for every reply,
 * so a request/response exchange paid that twice per round trip (1 µs of
 * its ~52 µs on a 2-vCPU VM, measured with everything on one CPU).  With a
 * slack of one tick at HZ=250 the kernel may let such a timer expire at
 * the next tick instead.  Nothing in the launcher needs finer timers: its
 * deadlines are delayed ACKs (now 1–5 ms), retransmission ticks (50 ms),
 * DNS timeouts and grace periods (seconds). */
#define LAUNCHER_TIMER_SLACK_NS (4 * 1000 * 1000)

/* Signals the launcher passes on to the sandbox (pid 1 passes them on to
 * the payload).  Keep in sync with init.c and mini-sandbox(1). */
static const int forwarded_signals[] = {
	SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH,
};

typedef struct {
	const SbxConfig *cfg;
	SbxNet *net;
	MountPlan *plan;
	GBytes *seccomp;          /* the payload's filter, compiled before the fork */
	SbxSandboxProcs procs;    /* pid 1 (and the clone helper, if any) */
	gboolean running;         /* procs.child not reaped yet */
	int sync_fd;              /* our end of the sync socketpair */
	int net_chan;             /* our end of the network stage's socketpair */
	gboolean in_sandbox;      /* this copy is the library-mode continuation */
	GMainContext *ctx;
	GMainLoop *loop;
	int wait_status;          /* pid 1's, once reaped */
	gboolean wait_failed;     /* waitpid() on pid 1 failed: status unknown */
	gboolean net_failed;      /* the network failed while it ran (on_net_fatal) */
	int tty_fd;               /* terminal the payload's group took over, or -1 */
	int jobctl_fd;            /* read end of the job-control pipe from pid 1, or -1 */
	gboolean signals_blocked; /* forwarded_signals blocked since before clone */
	sigset_t saved_mask;      /* the caller's mask, restored at the end */
	gboolean terminating;     /* SIGTERM sent, SIGKILL scheduled */
	GArray *uppers;           /* of UpperWatch: overlays whose writes are discarded */
} Launcher;

/* An overlay's upper directory, received from the set-up child
 * (sandbox-child.h) and counted once pid 1 is gone (discarded.h). */
typedef struct {
	guint op_index;
	int fd;
	DiscardCount baseline;
} UpperWatch;

static void
upper_watch_clear(gpointer p)
{
	sbx_close_fdp(&((UpperWatch *)p)->fd);
}

typedef enum {
	LAUNCH_FAILED,            /* *error set, nothing of the payload ran */
	LAUNCH_RUNNING,           /* launcher: the payload is running */
	LAUNCH_IN_SANDBOX,        /* library mode: we are the continuation */
} LaunchResult;

static Launcher *
launcher_new(const SbxConfig *cfg)
{
	Launcher *l = g_new0(Launcher, 1);

	l->cfg = cfg;
	l->sync_fd = l->net_chan = l->tty_fd = l->jobctl_fd = -1;
	l->procs.child_fd = l->procs.pid1_fd = -1;
	l->ctx = g_main_context_new();
	l->loop = g_main_loop_new(l->ctx, FALSE);
	l->uppers = g_array_new(FALSE, FALSE, sizeof(UpperWatch));
	g_array_set_clear_func(l->uppers, upper_watch_clear);
	return l;
}

static void
launcher_free(Launcher *l)
{
	if (!l)
		return;
	if (l->in_sandbox) {
		/* A copy of the launcher's bookkeeping: the plan and the network
		 * belong to the launcher; releasing them here could undo its
		 * work.  Only drop what is ours. */
		g_array_unref(l->uppers);
		g_main_loop_unref(l->loop);
		g_main_context_unref(l->ctx);
		g_free(l);
		return;
	}
	if (l->signals_blocked)
		sigprocmask(SIG_SETMASK, &l->saved_mask, NULL);
	if (l->running) {
		/* Error path: never leave a half-built sandbox behind. */
		sbx_sandbox_procs_signal(&l->procs, SIGKILL);
		kill(l->procs.child, SIGKILL);
		while (waitpid(l->procs.child, NULL, 0) < 0 && errno == EINTR)
			;
	}
	sbx_init_reclaim_terminal(l->tty_fd);
	sbx_sandbox_procs_clear(&l->procs);
	sbx_close_fdp(&l->sync_fd);
	sbx_close_fdp(&l->net_chan);
	sbx_close_fdp(&l->jobctl_fd);
	g_array_unref(l->uppers);
	if (l->plan) {
		fs_cleanup_after(l->plan);
		mount_plan_free(l->plan);
	}
	net_free(l->net);
	g_clear_pointer(&l->seccomp, g_bytes_unref);
	loop_epoll_uninstall(l->ctx);
	g_main_loop_unref(l->loop);
	g_main_context_unref(l->ctx);
	g_free(l);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Launcher, launcher_free)

static void
forwarded_signal_set(sigset_t *set)
{
	sigemptyset(set);
	for (size_t i = 0; i < G_N_ELEMENTS(forwarded_signals); i++)
		sigaddset(set, forwarded_signals[i]);
}

static void
reset_sigchld(void)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };

	sigemptyset(&dfl.sa_mask);
	sigaction(SIGCHLD, &dfl, NULL);
}

static void
block_forwarded_signals(Launcher *l)
{
	sigset_t set;

	forwarded_signal_set(&set);
	sigprocmask(SIG_BLOCK, &set, &l->saved_mask);
	l->signals_blocked = TRUE;
}

static unsigned long
clone_flags(const SbxConfig *cfg)
{
	unsigned long flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC |
			      CLONE_NEWUTS | CLONE_NEWCGROUP | SIGCHLD;

	if (cfg->net_mode != SBX_NET_HOST)
		flags |= CLONE_NEWNET;
	return flags;
}

static void
payload_identity(const SbxConfig *cfg, uid_t *uid, gid_t *gid)
{
	switch (cfg->identity) {
	case SBX_ID_ROOT:
		*uid = 0;
		*gid = 0;
		break;
	case SBX_ID_NOBODY:
		*uid = 65534;
		*gid = 65534;
		break;
	case SBX_ID_SAME:
	default:
		*uid = getuid();
		*gid = getgid();
		break;
	}
}

/* Ubuntu's AppArmor restriction lets clone(CLONE_NEWUSER) succeed and then
 * refuses every privileged operation inside, so an EPERM from a map write
 * or a mount deserves the same explanation as a refused clone. */
static gboolean
add_userns_hint(GError **error, int errnum)
{
	if (!error || !*error)
		return FALSE;
	if (errnum == EPERM && sbx_userns_apparmor_restricted()) {
		g_autofree char *hint = sbx_userns_explain_failure(errnum);
		char *msg = g_strdup_printf("%s (%s)", (*error)->message, hint);

		g_free((*error)->message);
		(*error)->message = msg;
	}
	return FALSE;
}

/* One message on the sync socket, with the fds it carries (at most
 * SBX_UPPERS_PER_MSG; more are closed).  Returns its length or -errno. */
static ssize_t
recv_sync_message(int fd, void *buf, size_t len, int *fds, unsigned *nfds)
{
	char ctrl[CMSG_SPACE(sizeof(int) * SBX_UPPERS_PER_MSG)];
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = ctrl, .msg_controllen = sizeof ctrl };
	ssize_t n;

	*nfds = 0;
	do
		n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		unsigned k;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		k = (unsigned)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		for (unsigned i = 0; i < k; i++) {
			int got;

			memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof got);
			if (*nfds < SBX_UPPERS_PER_MSG)
				fds[(*nfds)++] = got;
			else
				close(got);
		}
	}
	return n;
}

/* Keep the upper directories of an SbxUppersMsg (takes FDS). */
static void
take_uppers(Launcher *l, const SbxUppersMsg *msg, int *fds, unsigned nfds)
{
	for (unsigned i = 0; i < nfds; i++) {
		UpperWatch w = { .fd = fds[i] };

		if (i >= msg->n || msg->op_index[i] >= l->plan->ops->len) {
			close(fds[i]);
			continue;
		}
		w.op_index = msg->op_index[i];
		w.baseline = msg->baseline[i];
		g_array_append_val(l->uppers, w);
	}
}

/* The one report the sandbox sends before the payload runs, after the
 * overlays' upper directories (sandbox-child.h). */
static gboolean
read_setup_report(Launcher *l, GError **error)
{
	union {
		SbxSetupReport report;
		SbxUppersMsg uppers;
	} m;
	SbxSetupReport *report = &m.report;
	int fds[SBX_UPPERS_PER_MSG];
	unsigned nfds;
	ssize_t n;

	for (;;) {
		memset(&m, 0, sizeof m);
		n = recv_sync_message(l->sync_fd, &m, sizeof m, fds, &nfds);
		if (n < 0)
			return sbx_set_errno(error, (int)-n, "read the sandbox's set-up report");
		if (n == (ssize_t)sizeof m.uppers && m.uppers.code == SBX_REPORT_UPPERS) {
			take_uppers(l, &m.uppers, fds, nfds);
			continue;
		}
		for (unsigned i = 0; i < nfds; i++)
			close(fds[i]);
		break;
	}
	if (n < (ssize_t)sizeof report->code + 1) {
		g_set_error(error, SBX_ERROR, SBX_ERR_OS,
			    "the sandbox's set-up ended without a report (see -D for details)");
		return FALSE;
	}
	report->message[sizeof report->message - 1] = '\0';
	if (report->code == 0) {
		sbx_debug("launcher: sandbox reports %s", report->message);
		return TRUE;
	}
	g_set_error(error, SBX_ERROR, report->code, "%s", report->message);
	if (strstr(report->message, g_strerror(EPERM)))
		add_userns_hint(error, EPERM);
	return FALSE;
}

/* Once pid 1 is gone: one line per overlay whose writes are thrown away
 * (discarded.h).  Not with --keep-overlay: then they are kept in -d. */
static void
report_discarded(Launcher *l)
{
	if (!l->plan || l->plan->keep_overlay)
		return;
	/* An overlay split around mounts below it (mount-apply.c) has several
	 * upper directories for one op: one line for the op. */
	for (guint i = 0; i < l->uppers->len; i++) {
		UpperWatch *w = &g_array_index(l->uppers, UpperWatch, i);
		const MountOp *op = g_ptr_array_index(l->plan->ops, w->op_index);
		g_autofree char *line = NULL;
		DiscardCount total = { 0 };
		gint64 start = g_get_monotonic_time();

		if (w->fd < 0 || op->kind != MOUNT_OP_OVERLAY)
			continue;
		for (guint j = i; j < l->uppers->len; j++) {
			UpperWatch *u = &g_array_index(l->uppers, UpperWatch, j);
			DiscardCount count;

			if (u->fd < 0 || u->op_index != w->op_index)
				continue;
			discard_count_dir(u->fd, &count);
			discard_count_subtract(&count, &u->baseline);
			total.files += count.files;
			total.bytes += count.bytes;
			total.deletions += count.deletions;
			total.partial |= count.partial;
			if (u != w)
				sbx_close_fdp(&u->fd);
		}
		sbx_debug("launcher: %s upper: %" G_GUINT64_FORMAT " files counted in %"
			  G_GINT64_FORMAT " us", op->dest, total.files, g_get_monotonic_time() - start);
		line = discard_describe(op->dest, op->why, &total);
		if (line)
			fprintf(stderr, "%s: %s\n", sbx_log_prog(), line);
		sbx_close_fdp(&w->fd);
	}
}

/* Job control across the pid namespace (init.h): a pipe from pid 1, only
 * when we hold the terminal.  Without it ^Z works as before the process
 * groups were split — not at all — so a failure is only logged. */
static int jobctl_write_end = -1;

static void
open_jobctl_pipe(Launcher *l)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0) {
		sbx_debug("launcher: job-control pipe: %s", g_strerror(errno));
		return;
	}
	l->jobctl_fd = p[0];
	jobctl_write_end = p[1];
	sbx_init_set_jobctl_pipe(p[0], p[1]);
}

static void
close_jobctl_write_end(void)
{
	if (jobctl_write_end >= 0)
		close(jobctl_write_end);
	jobctl_write_end = -1;
	sbx_init_set_jobctl_pipe(-1, -1);
}

/* Stage 1, prepare: everything that can be checked on the host before any
 * process exists — debug log, network plan, mount plan, seccomp program,
 * the two socketpairs.  Fills ARGS for the child.  Errors → 125, nothing
 * started. */
static gboolean
launch_prepare(Launcher *l, SbxChildArgs *args, GError **error)
{
	const SbxConfig *cfg = l->cfg;
	int sync_pair[2], chan_pair[2];

	if (cfg->verbose)
		sbx_log_set_verbose(TRUE);
	if (cfg->debug_log && !sbx_log_open_debug(cfg->debug_log, error))
		return FALSE;
	sbx_debug("launcher: prepare network");
	l->net = net_prepare(cfg, error);
	if (!l->net)
		return FALSE;
	sbx_debug("launcher: plan mounts");
	l->plan = fs_plan_for_config(cfg, error);
	if (!l->plan)
		return FALSE;
	if (net_resolv_conf(l->net))
		fs_plan_add_file(l->plan, "/etc/resolv.conf", net_resolv_conf(l->net));
	if (net_hosts_file(l->net))
		fs_plan_add_file(l->plan, "/etc/hosts", net_hosts_file(l->net));
	sbx_debug("launcher: compile the seccomp filter");
	l->seccomp = sbx_seccomp_compile(cfg->allow_userns, error);
	if (!l->seccomp)
		return FALSE;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sync_pair) < 0)
		return sbx_set_errno(error, errno, "create the sync socketpair");
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, chan_pair) < 0) {
		sbx_set_errno(error, errno, "create the network socketpair");
		close(sync_pair[0]);
		close(sync_pair[1]);
		return FALSE;
	}
	l->sync_fd = sync_pair[0];
	l->net_chan = chan_pair[0];
	args->net = l->net;
	args->plan = l->plan;
	args->sync_fd = sync_pair[1];
	args->net_chan = chan_pair[1];
	args->seccomp = l->seccomp;
	args->outer_uid = getuid();
	args->outer_gid = getgid();
	payload_identity(cfg, &args->payload_uid, &args->payload_gid);
	args->cap_last = sbx_cap_last();

	/* pid 1's exit status must reach our waitpid(): an inherited SIG_IGN
	 * (or SA_NOCLDWAIT) for SIGCHLD would have the kernel discard it. */
	reset_sigchld();
	return TRUE;
}

/* Stage 2, clone: the namespaces and pid 1 (nsclone.c).  In the child
 * (library mode: the continuation) it runs sbx_sandbox_child() and returns
 * LAUNCH_IN_SANDBOX; in the launcher LAUNCH_RUNNING once the child exists.
 * Unflushed stdio would otherwise be written twice.  Signals for the
 * sandbox are blocked from here on: one arriving during set-up waits in
 * the signalfd and is forwarded once the payload exists, instead of
 * killing the launcher (and so the sandbox).  The child gets the caller's
 * mask back at once. */
static LaunchResult
launch_clone(Launcher *l, SbxChildArgs *args, GError **error)
{
	gboolean tapbox = l->cfg->net_mode == SBX_NET_TAP;
	SbxCloneResult result;

	fflush(NULL);
	l->tty_fd = sbx_init_note_terminal();
	if (l->tty_fd >= 0)
		open_jobctl_pipe(l);
	sbx_init_set_deadline(l->cfg->timeout_secs, l->cfg->grace_secs);
	block_forwarded_signals(l);
	sbx_debug("launcher: clone namespaces (flags %#lx)", clone_flags(l->cfg));
	/* The CLI's pid 1 and payload start on this CPU, mini-tapbox's pid 1
	 * on another: its launcher works alongside (the ruleset, libslirp).
	 * Not for the library's continuation.  cpu-handoff.h. */
	if (!args->continuation && tapbox)
		sbx_handoff_save();
	else if (!args->continuation)
		sbx_handoff_pin();
	result = sbx_clone_sandbox(clone_flags(l->cfg), &l->procs, error);
	if (result == SBX_CLONE_PARENT && !args->continuation && tapbox)
		sbx_handoff_push(l->procs.pid1);
	else if (result != SBX_CLONE_CHILD)
		sbx_handoff_release();
	switch (result) {
	case SBX_CLONE_CHILD:
		sigprocmask(SIG_SETMASK, &l->saved_mask, NULL);
		l->signals_blocked = FALSE;
		sbx_close_fdp(&l->sync_fd);
		sbx_close_fdp(&l->net_chan);
		l->jobctl_fd = -1;   /* pid 1 keeps the write end (init.c) */
		l->in_sandbox = TRUE;
		sbx_sandbox_child(args);
		return LAUNCH_IN_SANDBOX; /* library mode only: the payload */
	case SBX_CLONE_FAILED:
		l->running = l->procs.child > 0;
		close(args->sync_fd);
		close(args->net_chan);
		close_jobctl_write_end();
		return LAUNCH_FAILED;
	case SBX_CLONE_PARENT:
	default:
		break;
	}
	l->running = TRUE;
	close(args->sync_fd);
	close(args->net_chan);
	close_jobctl_write_end();
	/* Only now, after the clone: the sandbox never holds the epoll set.
	 * Before the network: the TCP relay watches its sockets in it. */
	loop_epoll_install(l->ctx);
	/* After the clone too: the sandbox keeps the default slack. */
	if (prctl(PR_SET_TIMERSLACK, (unsigned long)LAUNCHER_TIMER_SLACK_NS, 0, 0, 0) < 0)
		sbx_debug("launcher: timer slack: %s", g_strerror(errno));
	return LAUNCH_RUNNING;
}

/* The network cannot go on (net_set_fatal_func(): libslirp, loaded for
 * the first frame that needs it, would not load): the same message as a
 * failed start, and the sandbox ends with 125, as it would have before
 * its command ran had libslirp been loaded then. */
static void
on_net_fatal(const GError *error, gpointer data)
{
	Launcher *l = data;

	fprintf(stderr, "%s: %s\n", sbx_log_prog(), error->message);
	sbx_debug("launcher: network failed: %s; SIGKILL", error->message);
	l->net_failed = TRUE;
	sbx_sandbox_procs_signal(&l->procs, SIGKILL);
}

/* Stage 3, handshake with the child over the network channel and the
 * sync socket: pid 1 maps our ids to 0 in its user namespace itself and
 * goes on at once; the network attaches (NetHello/NetAnswer, net.c); last,
 * the child's one set-up report (SbxSetupReport): OK right before exec, or
 * why not. */
static gboolean
launch_handshake(Launcher *l, GError **error)
{
	g_autoptr(GError) net_error = NULL;
	gboolean ok;

	/* Network: trivial except for mini-tapbox.  If it fails because the
	 * child failed first, the child's report is the better message. */
	sbx_debug("launcher: attach network");
	ok = net_launcher_attach(l->net, l->net_chan, l->ctx, &net_error);
	if (l->cfg->net_mode == SBX_NET_TAP)
		sbx_handoff_release();   /* NET_UP sent, libslirp up: our own mask back (cpu-handoff.h) */
	if (!ok) {
		sbx_close_fdp(&l->net_chan); /* a child waiting on it reads EOF */
		if (!read_setup_report(l, error))
			return FALSE;
		g_propagate_error(error, g_steal_pointer(&net_error));
		return FALSE;
	}
	if (!read_setup_report(l, error))
		return FALSE;
	/* tap0 is attached by now (pid 1 reports after making it, if it
	 * did): its frames are read from here on */
	net_set_fatal_func(l->net, on_net_fatal, l);
	net_launcher_watch(l->net, l->ctx);
	return TRUE;
}

/* The stage list of the host side (doc/THEORY.md has the timeline across
 * the processes): prepare, clone, handshake; launch_wait() follows.
 * Returns in the launcher and, in library mode, in the continuation too. */
static LaunchResult
launcher_start(Launcher *l, gboolean continuation, GError **error)
{
	SbxChildArgs args = { .cfg = l->cfg, .continuation = continuation };
	LaunchResult r;

	if (!launch_prepare(l, &args, error))
		return LAUNCH_FAILED;
	r = launch_clone(l, &args, error);
	if (r != LAUNCH_RUNNING)
		return r;
	return launch_handshake(l, error) ? LAUNCH_RUNNING : LAUNCH_FAILED;
}

/* SIGTERM now, SIGKILL after the grace period.  pid 1 forwards SIGTERM to
 * the payload; SIGKILL to pid 1 ends the whole pid namespace. */
static gboolean
on_grace_expired(gpointer data)
{
	Launcher *l = data;

	sbx_debug("launcher: grace period over, SIGKILL");
	sbx_sandbox_procs_signal(&l->procs, SIGKILL);
	return G_SOURCE_REMOVE;
}

static void
launcher_terminate(Launcher *l)
{
	GSource *grace;

	if (l->terminating || !l->running)
		return;
	l->terminating = TRUE;
	sbx_debug("launcher: SIGTERM, SIGKILL in %u s", l->cfg->grace_secs);
	sbx_sandbox_procs_signal(&l->procs, SIGTERM);
	grace = g_timeout_source_new((guint)MIN(l->cfg->grace_secs, G_MAXUINT / 1000) * 1000);
	g_source_set_callback(grace, on_grace_expired, l, NULL);
	g_source_attach(grace, l->ctx);
	g_source_unref(grace);
}

/* pid 1 keeps the -T deadline (init.h): it is never stopped, and we may
 * be.  This is the backstop in case pid 1 did not end the sandbox: some
 * seconds after pid 1's SIGKILL was due, counted from later than pid 1's
 * clock (the handshake ends after its fork). */
#define DEADLINE_BACKSTOP_SECS 5

static gboolean
on_timeout(gpointer data)
{
	Launcher *l = data;

	sbx_warn("the sandbox outlived its time limit of %u s; killing it",
		 l->cfg->timeout_secs);
	sbx_sandbox_procs_signal(&l->procs, SIGKILL);
	return G_SOURCE_REMOVE;
}

static gboolean
on_signal(int fd, GIOCondition cond, gpointer data)
{
	Launcher *l = data;
	struct signalfd_siginfo si;

	while (read(fd, &si, sizeof si) == (ssize_t)sizeof si) {
		int sig = (int)si.ssi_signo;

		if (sig == SIGINT && l->cfg->sigint_polite) {
			launcher_terminate(l);
			continue;
		}
		/* Even from the terminal (SI_KERNEL): it reaches us only while
		 * our group is in the foreground, and the payload's own group
		 * then is not, so it would miss it.  pid 1 and the payload are
		 * in groups of their own: nobody else passes it on. */
		sbx_debug("launcher: forward signal %d", sig);
		sbx_sandbox_procs_signal(&l->procs, sig);
	}
	return G_SOURCE_CONTINUE;
}

/* pid 1 says the payload holding the terminal stopped (^Z): take the
 * terminal back and stop ourselves, so the shell sees the job stopped.
 * When the shell continues us (fg), let pid 1 continue the payload. */
static gboolean
on_sandbox_message(int fd, GIOCondition cond, gpointer data)
{
	Launcher *l = data;
	char msg;
	ssize_t n;

	do
		n = read(fd, &msg, 1);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return G_SOURCE_REMOVE;   /* pid 1 is gone: on_pid1_exit follows */
	if (msg != SBX_INIT_MSG_STOPPED)
		return G_SOURCE_CONTINUE;
	sbx_debug("launcher: payload stopped; stopping too");
	sbx_init_reclaim_terminal(l->tty_fd);
	kill(getpid(), SIGSTOP);
	sbx_debug("launcher: continued; continuing the payload");
	sbx_sandbox_procs_signal(&l->procs, SIGCONT);
	return G_SOURCE_CONTINUE;
}

static gboolean
on_pid1_exit(int fd, GIOCondition cond, gpointer data)
{
	Launcher *l = data;
	pid_t r;

	do
		r = waitpid(l->procs.child, &l->wait_status, 0);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		/* Without pid 1's status, success cannot be claimed. */
		sbx_warn("wait for the sandbox: %s", g_strerror(errno));
		l->wait_failed = TRUE;
	}
	sbx_debug("launcher: sandbox exited with %d", sbx_status_to_exit_code(l->wait_status));
	l->running = FALSE;
	g_main_loop_quit(l->loop);
	return G_SOURCE_REMOVE;
}

static GSource *
attach_fd(Launcher *l, int fd, GUnixFDSourceFunc func)
{
	GSource *src = g_unix_fd_source_new(fd, G_IO_IN);

	g_source_set_callback(src, G_SOURCE_FUNC(func), l, NULL);
	g_source_attach(src, l->ctx);
	return src;
}

/* Run the main loop until pid 1 is gone; returns the CLI exit status. */
static int
launch_wait(Launcher *l)
{
	g_autoptr(GSource) sig_source = NULL;
	g_autoptr(GSource) exit_source = NULL;
	g_autoptr(GSource) timeout_source = NULL;
	g_autoptr(GSource) message_source = NULL;
	autoclose int sigfd = -1;
	sigset_t set;

	/* signalfd instead of g_unix_signal_add(): covers SIGQUIT, gives
	 * si_code, and needs no helper thread.  The signals are blocked since
	 * launch_clone(). */
	forwarded_signal_set(&set);
	sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sigfd >= 0)
		sig_source = attach_fd(l, sigfd, on_signal);
	else
		sbx_warn("signalfd: %s; signals will not be forwarded", g_strerror(errno));
	exit_source = attach_fd(l, l->procs.child_fd, on_pid1_exit);
	if (l->jobctl_fd >= 0)
		message_source = attach_fd(l, l->jobctl_fd, on_sandbox_message);
	if (l->cfg->timeout_secs > 0) {
		guint64 backstop = (guint64)l->cfg->timeout_secs + l->cfg->grace_secs +
				   DEADLINE_BACKSTOP_SECS;

		timeout_source = g_timeout_source_new_seconds((guint)MIN(backstop, G_MAXUINT));
		g_source_set_callback(timeout_source, on_timeout, l, NULL);
		g_source_attach(timeout_source, l->ctx);
	}

	sbx_debug("launcher: payload running");
	g_main_loop_run(l->loop);
	sbx_init_reclaim_terminal(l->tty_fd);
	l->tty_fd = -1;

	if (sig_source)
		g_source_destroy(sig_source);
	g_source_destroy(exit_source);
	if (message_source)
		g_source_destroy(message_source);
	if (timeout_source)
		g_source_destroy(timeout_source);
	/* Discard what arrived after the end, then restore the caller's mask. */
	if (sigfd >= 0) {
		struct signalfd_siginfo si;

		while (read(sigfd, &si, sizeof si) > 0)
			;
	}
	sigprocmask(SIG_SETMASK, &l->saved_mask, NULL);
	l->signals_blocked = FALSE;
	net_finish(l->net);
	report_discarded(l);
	sbx_debug("launcher: network closed; exit");
	if (l->wait_failed || l->net_failed)
		return SBX_EXIT_SETUP;
	return sbx_status_to_exit_code(l->wait_status);
}

int
sbx_run(const SbxConfig *cfg, GError **error)
{
	g_autoptr(SbxConfig) expanded = NULL;
	g_autoptr(Launcher) l = NULL;

	g_return_val_if_fail(cfg->argv && cfg->argv[0], SBX_EXIT_SETUP);
	/* --profile: read the tools' settings before anything is planned */
	if (!sbx_profiles_expand(cfg, &expanded, error))
		return SBX_EXIT_SETUP;
	l = launcher_new(expanded ? expanded : cfg);
	switch (launcher_start(l, FALSE, error)) {
	case LAUNCH_RUNNING:
		return launch_wait(l);
	case LAUNCH_IN_SANDBOX: /* not reached: without continuation the payload execs */
	case LAUNCH_FAILED:
	default:
		sbx_debug("launcher: set-up failed: %s", error && *error ? (*error)->message : "?");
		return SBX_EXIT_SETUP;
	}
}

gboolean
sbx_enter(const SbxConfig *cfg, GError **error)
{
	g_autoptr(SbxConfig) expanded = NULL;
	g_autoptr(Launcher) l = NULL;
	int status;

	if (!sbx_profiles_expand(cfg, &expanded, error))
		return FALSE;
	l = launcher_new(expanded ? expanded : cfg);

	switch (launcher_start(l, TRUE, error)) {
	case LAUNCH_IN_SANDBOX:
		return TRUE;
	case LAUNCH_RUNNING:
		break;
	case LAUNCH_FAILED:
	default:
		return FALSE;
	}
	/* The caller is the launcher from here on; it never returns. */
	status = launch_wait(l);
	g_clear_pointer(&l, launcher_free);
	fflush(NULL);
	exit(status);
}
