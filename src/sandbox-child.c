/* SPDX-License-Identifier: MIT
 *
 * sandbox-child.c — the stage list of doc/ARCHITECTURE.md "Processes", child
 * side.  sbx_sandbox_child() is the whole story in order; every stage is a
 * named call.  Errors are sent to the launcher over the sync socket (it
 * prints them and exits 125); nothing of the payload runs after a failure.
 */
#include "src/sandbox-child.h"
#include "common/error.h"
#include "common/fdutil.h"
#include "common/log.h"
#include "src/cpu-handoff.h"
#include "src/init.h"
#include "src/landlock.h"
#include "src/resource-limits.h"
#include "src/privdrop.h"
#include "src/seccomp-filter.h"
#include "src/userns.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

static void
send_report(int sync_fd, gint32 code, const char *message)
{
	SbxSetupReport report = { .code = code };
	size_t len;

	g_strlcpy(report.message, message, sizeof report.message);
	len = sizeof report.code + strlen(report.message) + 1;
	while (send(sync_fd, &report, len, MSG_NOSIGNAL) < 0 && errno == EINTR)
		;
}

/* Report ERROR to the launcher and end this process.  _exit: in library
 * mode this is a copy of the caller, whose atexit handlers must not run. */
G_GNUC_NORETURN static void
fail(const SbxChildArgs *a, const char *stage, GError *error)
{
	sbx_debug("child: %s failed: %s", stage, error->message);
	send_report(a->sync_fd,
		    error->domain == SBX_ERROR && error->code != 0 ? error->code : SBX_ERR_OS,
		    error->message);
	_exit(SBX_EXIT_SETUP);
}

/* The overlays' upper directories go to the launcher (sandbox-child.h), with
 * what set-up itself put there (mount points created in an -o root).  Then
 * they are closed here: neither pid 1 nor the payload keeps them.  A failure
 * costs only the report. */
static void
send_uppers(int sync_fd, GArray *uppers)
{
	for (guint i = 0; i < uppers->len; i += SBX_UPPERS_PER_MSG) {
		SbxUppersMsg msg = { .code = SBX_REPORT_UPPERS };
		int fds[SBX_UPPERS_PER_MSG];
		int r;

		for (guint j = i; j < uppers->len && msg.n < SBX_UPPERS_PER_MSG; j++) {
			const FsUpper *u = &g_array_index(uppers, FsUpper, j);

			msg.op_index[msg.n] = u->op_index;
			discard_count_dir(u->fd, &msg.baseline[msg.n]);
			fds[msg.n++] = u->fd;
		}
		r = sbx_send_fds(sync_fd, &msg, sizeof msg, fds, msg.n);
		if (r < 0)
			sbx_debug("child: send the overlay upper directories: %s", g_strerror(-r));
	}
	for (guint i = 0; i < uppers->len; i++)
		close(g_array_index(uppers, FsUpper, i).fd);
	g_array_set_size(uppers, 0);
}

/* If the launcher dies, so does pid 1 — and with it the whole pid
 * namespace.  The race (launcher died before prctl) is closed by the next
 * stage: the launcher's end of the sync socket is then already closed, so
 * waiting for the maps reads EOF.  (getppid() cannot tell: the parent is
 * outside our pid namespace, so it reads 0 either way.) */
static gboolean
die_with_launcher(GError **error)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		return sbx_set_errno(error, errno, "set the parent-death signal");
	return TRUE;
}

/* The race die_with_launcher() leaves (the launcher died before our
 * prctl) is closed here: the launcher's end of the sync socket closes
 * when it dies, before its children are told (exit_files() comes before
 * exit_notify() in the kernel's exit path), so either the parent-death
 * signal is on its way or the socket already says hang-up.  No wait. */
static gboolean
launcher_alive(int sync_fd, GError **error)
{
	struct pollfd p = { .fd = sync_fd, .events = POLLRDHUP };
	int r;

	do
		r = poll(&p, 1, 0);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return sbx_set_errno(error, errno, "check the launcher");
	if (p.revents & (POLLHUP | POLLRDHUP | POLLERR))
		return sbx_set_errno(error, EPIPE, "the launcher went away");
	return TRUE;
}

/* The payload writes its nested user namespace's maps through procfs after
 * the pivot, when the sandbox may have no /proc at all (hermetic mode
 * without --proc).  Keep a handle on the procfs we start with; "self"
 * resolves to whoever opens through it.  CLOEXEC, closed in pid 1 by
 * sbx_init_start and in the payload right after use. */
static gboolean
open_proc_for_payload(int *proc_fd, GError **error)
{
	*proc_fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*proc_fd < 0)
		return sbx_set_errno(error, errno, "open /proc");
	return TRUE;
}

static gboolean
set_hostname(const SbxConfig *cfg, GError **error)
{
	/* Without -H the new UTS namespace keeps the host's name: tools that
	 * log or key caches by hostname keep working. */
	if (!cfg->hostname_localhost)
		return TRUE;
	if (sethostname("localhost", strlen("localhost")) < 0)
		return sbx_set_errno(error, errno, "set the hostname to localhost");
	return TRUE;
}

/* The payload keeps 0, 1, 2 and --keep-fd; the sync socket and the debug
 * log stay open only until the exec (both are CLOEXEC).  In library mode
 * the continuation is the caller's own program, whose fds it still needs:
 * there the API layer closes what could reach the host's file tree
 * (api_close_host_reaching_fds), and we close only our own. */
static gboolean
close_stray_fds(const SbxChildArgs *a, int landlock_fd, GError **error)
{
	g_autoptr(GArray) keep = g_array_new(FALSE, FALSE, sizeof(int));
	int debug_fd = sbx_log_debug_fd();

	if (a->continuation)
		return TRUE; /* sync socket, Landlock ruleset and debug log are closed below */

	if (a->cfg->keep_fds)
		g_array_append_vals(keep, a->cfg->keep_fds->data, a->cfg->keep_fds->len);
	g_array_append_val(keep, a->sync_fd);
	if (landlock_fd >= 0)
		g_array_append_val(keep, landlock_fd);
	if (debug_fd >= 0)
		g_array_append_val(keep, debug_fd);
	return sbx_close_fds_except((const int *)(void *)keep->data, keep->len, error);
}

/* Is there a file named NAME in some $PATH directory?  execvp() reports
 * EACCES when any directory on the way refused the search, even when the
 * command exists nowhere; like a shell, we call that "not found". */
static gboolean
exists_on_path(const char *name)
{
	const char *path = g_getenv("PATH");
	g_auto(GStrv) dirs = g_strsplit(path ? path : "/usr/local/bin:/bin:/usr/bin", ":", -1);

	for (guint i = 0; dirs[i]; i++) {
		g_autofree char *candidate = g_build_filename(*dirs[i] ? dirs[i] : ".", name, NULL);

		if (access(candidate, F_OK) == 0)
			return TRUE;
	}
	return FALSE;
}

/* The environment the profiles decided (their cache, a loopback proxy
 * as 10.0.2.2): this process is the payload (or its continuation) and has
 * one thread, so setenv() is safe here. */
static void
set_profile_env(const SbxConfig *cfg)
{
	for (guint i = 0; i < cfg->env_set->len; i++) {
		const char *kv = cfg->env_set->pdata[i];
		const char *eq = strchr(kv, '=');
		g_autofree char *name = g_strndup(kv, (gsize)(eq - kv));

		setenv(name, eq + 1, 1);
	}
}

G_GNUC_NORETURN static void
exec_payload(char **argv)
{
	int saved;

	sbx_handoff_release();     /* the command runs with the caller's CPU mask */
	execvp(argv[0], argv);
	saved = errno;
	if (saved == EACCES && !strchr(argv[0], '/') && !exists_on_path(argv[0]))
		saved = ENOENT;
	fprintf(stderr, "%s: %s: %s\n", sbx_log_prog(), argv[0],
		saved == ENOENT ? "command not found" : sbx_strerror(saved));
	_exit(saved == ENOENT ? SBX_EXIT_NOT_FOUND : SBX_EXIT_NOT_EXECUTABLE);
}

/* What pid 1 hands the payload: the set-up arguments, and the two fds
 * only the payload needs. */
typedef struct {
	const SbxChildArgs *a;
	int proc_fd;
	int landlock_fd;
} PayloadArgs;

/* The payload's stages, identity to seccomp.  The nested user namespace
 * exists already (pid 1's clone, or sbx_userns_unshare_nested() before
 * this in library mode); the maps are ours to write. */
static void
payload_setup(const PayloadArgs *p)
{
	const SbxChildArgs *a = p->a;
	g_autoptr(GError) error = NULL;

	if (!sbx_userns_map_identity(p->proc_fd, a->payload_uid, a->payload_gid, &error))
		fail(a, "identity", error);
	close(p->proc_fd);
	if (!close_stray_fds(a, p->landlock_fd, &error))
		fail(a, "close fds", error);
	sbx_debug("payload: fds closed; drop privileges");
	if (!sbx_drop_privileges(a->cap_last, &error))
		fail(a, "privilege drop", error);
	if (!sbx_landlock_enforce(p->landlock_fd, &error))
		fail(a, "landlock", error);
	if (!sbx_seccomp_load(a->seccomp, &error))
		fail(a, "seccomp", error);
	sbx_debug("payload: set-up OK; %s", a->continuation ? "continuing" : a->cfg->argv[0]);
	send_report(a->sync_fd, 0, "set-up OK");
	close(a->sync_fd);
	set_profile_env(a->cfg);
}

/* The CLI's payload (SbxPayloadFn): it shares pid 1's memory until the
 * exec, so it leaves pid 1's variables alone — the -D log's fd, like the
 * sync socket, is CLOEXEC and goes with the exec. */
G_GNUC_NORETURN static void
payload_exec(void *data)
{
	const PayloadArgs *p = data;

	payload_setup(p);
	exec_payload(p->a->cfg->argv);
}

void
sbx_sandbox_child(const SbxChildArgs *a)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) uppers = g_array_new(FALSE, FALSE, sizeof(FsUpper));
	PayloadArgs p = { .a = a };

	/* --- set-up child: pid 1, root of the new user namespace --- */
	if (!die_with_launcher(&error))
		fail(a, "parent-death signal", error);
	if (!launcher_alive(a->sync_fd, &error))
		fail(a, "handshake", error);
	if (!open_proc_for_payload(&p.proc_fd, &error))
		fail(a, "procfs", error);
	/* The network first: mini-tapbox's launcher sets up tap0, the
	 * ruleset and libslirp through the fds handed over here while we
	 * go on.  Nothing in it needs the maps: we hold every capability in
	 * our new user namespace from the clone on, and the launcher, its
	 * owner, holds them over it. */
	sbx_debug("child: network stage");
	if (!net_child_setup(a->net, a->net_chan, &error))
		fail(a, "network", error);
	sbx_debug("child: network stage done; own uid/gid maps");
	if (!sbx_userns_write_outer_maps(p.proc_fd, a->outer_uid, a->outer_gid, &error))
		fail(a, "user namespace", error);
	sbx_debug("child: filesystem stage");
	if (!fs_apply_plan(a->plan, uppers, &error))
		fail(a, "filesystem", error);
	send_uppers(a->sync_fd, uppers);
	if (!set_hostname(a->cfg, &error))
		fail(a, "hostname", error);
	/* Before init starts the payload and before the payload's nested
	 * user namespace exists: that namespace inherits the cap as its
	 * ceiling (resource-limits.c). */
	if (!sbx_limits_cap_tasks(a->cfg, p.proc_fd, &error))
		fail(a, "task limit", error);
	sbx_debug("child: landlock ruleset");
	/* Built here, after the pivot, because its rules name the new root's
	 * paths; pid 1 closes it, the payload enforces it last. */
	if (!sbx_landlock_prepare(a->plan, a->cfg, p.proc_fd, &p.landlock_fd, &error))
		fail(a, "landlock", error);
	/* mini-tapbox: the launcher has been installing the ruleset and
	 * attaching libslirp while we built the file system */
	if (!net_child_wait_up(a->net, a->net_chan, &error))
		fail(a, "network", error);
	close(a->net_chan);
	if (a->cfg->net_mode == SBX_NET_TAP)
		sbx_handoff_release();   /* the launcher has pushed us (cpu-handoff.h) */
	sbx_debug("child: set-up done; becoming init");
	if (!a->continuation) {
		/* never returns: pid 1 runs init, the payload execs */
		sbx_init_start(p.proc_fd, payload_exec, &p, &error);
		fail(a, "init", error);
	}
	if (!sbx_init_start(p.proc_fd, NULL, NULL, &error))
		fail(a, "init", error);

	/* --- library mode: the payload, a fork()ed copy of pid 1 --- */
	if (!sbx_userns_unshare_nested(&error))
		fail(a, "identity", error);
	payload_setup(&p);
	sbx_log_close_debug();
}
