/* SPDX-License-Identifier: MIT
 *
 * minisandbox.h — libminisandbox: sandbox a running program from the inside.
 *
 *	#include <minisandbox.h>        (pkg-config --cflags --libs minisandbox)
 *
 *	if (mini_sandbox_setup_default() < 0 ||
 *	    mini_sandbox_mount_write("/home/me/out") < 0 ||
 *	    mini_sandbox_allow("pypi.org:443") < 0 ||
 *	    mini_sandbox_start() < 0) {
 *		fprintf(stderr, "sandbox: %s\n", mini_sandbox_get_last_error_msg());
 *		return 1;               // nothing ran unsandboxed
 *	}
 *	// from here on the program runs inside the sandbox
 *
 * Function names, arguments, meanings and error codes are those of the
 * original mini-sandbox project (github.com/qualcomm/mini-sandbox), so its
 * users can switch without changing a line.  Where the original was wrong,
 * this library is right:
 *
 *  - configuration calls check their arguments at once: a relative path, a
 *    path that does not exist or a malformed allowlist entry is an error
 *    (the original accepted some of them silently);
 *  - after a failed mini_sandbox_start() the error code is set and
 *    mini_sandbox_is_running() is 0 (the original reported 0 and "running");
 *  - a caller with threads is supported and the rule is documented (see
 *    mini_sandbox_start()), threads are not silently lost;
 *  - nothing in the environment can switch the sandbox off (see
 *    MINI_SANDBOX_ERR_NESTED).
 *
 * All functions return 0 (or a pid / a flag where stated) on success and,
 * as the original did, -1 on failure (-2 when the failure is recoverable:
 * MINI_SANDBOX_ERR_NESTED, a start() inside a sandbox already); the
 * MINI_SANDBOX_ERR_* code and a message naming the operation and the object
 * are then available from mini_sandbox_get_last_error_code() /
 * mini_sandbox_get_last_error_msg() until the next failure.
 * A failed configuration call leaves the configuration as it was.
 *
 * The configuration is one per process, guarded by a lock, so calls from
 * several threads are safe; the last error is per thread (like errno).
 * The library never calls exit() in the caller's process, except in the one
 * case mini_sandbox_start() documents: after a successful start, the outer
 * process (the launcher) exits with the sandbox's status.
 *
 * Reference: libminisandbox(3).
 */
#ifndef MINISANDBOX_H
#define MINISANDBOX_H

#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MINI_SANDBOX_VERSION_MAJOR 0
#define MINI_SANDBOX_VERSION_MINOR 1
#define MINI_SANDBOX_VERSION_MICRO 0

/* Error codes (same values as the original project). */
#define MINI_SANDBOX_ERR_NONE               0
#define MINI_SANDBOX_ERR_INVALID_MODE      -1   /* two filesystem modes */
#define MINI_SANDBOX_ERR_ROOT_NOT_UNIQUE   -2   /* sandbox root given twice */
#define MINI_SANDBOX_ERR_INVALID_FOLDER    -3   /* not a directory / unusable */
#define MINI_SANDBOX_ERR_OVERLAY_NOT_SET   -4   /* overlay option without custom mode */
#define MINI_SANDBOX_ERR_PATH_MISSING      -5   /* path does not exist */
#define MINI_SANDBOX_ERR_NOT_ABSOLUTE      -6   /* relative path */
#define MINI_SANDBOX_ERR_LOG_NOT_UNIQUE    -7   /* debug log given twice */
#define MINI_SANDBOX_ERR_ILLEGAL_CONFIG    -8   /* contradictory options, bad argument */
#define MINI_SANDBOX_ERR_READ_AND_WRITE    -9   /* same path read-only and writable */
#define MINI_SANDBOX_ERR_ILLEGAL_NETWORK  -10   /* contradictory network options, bad allowlist */
#define MINI_SANDBOX_ERR_TMP_REMOUNT      -11   /* /tmp remounted in default mode */
#define MINI_SANDBOX_ERR_OS              -100   /* a system call failed during set-up */
#define MINI_SANDBOX_ERR_NESTED          -201   /* already inside a mini-sandbox */
#define MINI_SANDBOX_ERR_ALREADY_STARTED -202   /* configuration or start after start() */

/* ---- filesystem mode (at most one; none = read-only mode) ----------------
 * mini_sandbox_setup_default() twice is fine; a second custom or hermetic
 * root is MINI_SANDBOX_ERR_ROOT_NOT_UNIQUE, a second, different mode
 * MINI_SANDBOX_ERR_INVALID_MODE. */

/* Default mode (mini-sandbox -x): fresh root, system directories read-only,
 * the working directory writable, $HOME an empty scratch, private /tmp. */
int mini_sandbox_setup_default(void);
/* Custom mode (-o SANDBOX_ROOT -d OVERLAYFS_DIR): absolute paths, existing
 * directories or created at start (as the original did); an empty
 * SANDBOX_ROOT gives a fresh root (OVERLAYFS_DIR may then be the same
 * directory), one with content is the lower layer of /.  $HOME is an empty
 * writable scratch. */
int mini_sandbox_setup_custom(const char *overlayfs_dir, const char *sandbox_root);
/* Hermetic mode (-h SANDBOX_ROOT): only what is mounted explicitly. */
int mini_sandbox_setup_hermetic(const char *sandbox_root);

/* ---- per-path options; PATH must be absolute and exist ------------------ */

/* Read-only bind (-M). */
int mini_sandbox_mount_bind(const char *path);
/* Read-write bind (-w): writes persist on the host. */
int mini_sandbox_mount_write(const char *path);
/* Empty tmpfs over an existing directory (-e). */
int mini_sandbox_mount_tmpfs(const char *path);
/* Overlay (-k): writable inside, changes thrown away; default or custom
 * mode only (else MINI_SANDBOX_ERR_OVERLAY_NOT_SET). */
int mini_sandbox_mount_overlay(const char *path);
/* Make PATH a writable output file: created empty on the host (mode 0666
 * minus umask) if it does not exist yet (its directory must), then bound
 * read-write like mini_sandbox_mount_write(). */
int mini_sandbox_mount_empty_output_file(const char *path);
/* Working directory of the sandbox (-W); default: the caller's CWD. */
int mini_sandbox_set_working_dir(const char *path);
/* Make the folders above the working directory writable (shared with the
 * host) instead of an overlay whose changes are thrown away. */
int mini_sandbox_mount_parents_write(void);
/* Where the kernel refuses a new /proc (a container that masks paths below
 * /proc), give the sandbox the host's /proc, with a warning (--proc=host);
 * without this call such a start fails.  The sandbox then sees every
 * process of the host. */
int mini_sandbox_allow_host_proc(void);
/* Write a debug log of the set-up stages to PATH (-D); its directory must
 * exist.  Only once: a second call is MINI_SANDBOX_ERR_LOG_NOT_UNIQUE. */
int mini_sandbox_enable_log(const char *path);
/* Let the code inside create user namespaces (--allow-userns), e.g. for a
 * nested sandbox or a browser's own sandbox.  By default they are refused:
 * inside one the code is root again and reaches root-only kernel
 * interfaces such as nf_tables. */
int mini_sandbox_allow_userns(void);

/* ---- network -------------------------------------------------------------
 * The rule, decided by the calls made before start():
 *  - no network call:            a private network namespace with only lo
 *                                 (libmini-tapbox, the original's tapbox
 *                                 library: the unrestricted tap network);
 *  - mini_sandbox_share_network(): the host's network (-N);
 *  - any allow call (allow, allow_connections, allow_ipv4, allow_ipv4_subnet,
 *    allow_domain, allow_host_port): the mini-tapbox user-mode network whose
 *    egress is limited to exactly the allowed entries (-F / --allow);
 *  - mini_sandbox_allow_all_domains(): the mini-tapbox network, egress
 *    unrestricted.
 * share_network with any allow call, or allow_all_domains with any allow
 * entry, is MINI_SANDBOX_ERR_ILLEGAL_NETWORK, whichever comes first.
 * allow_max_connections, set_resolver and disable_name_check do not choose
 * a mode; they apply
 * when the mini-tapbox network is used. */

/* The host's network namespace (mini-sandbox -N). */
int mini_sandbox_share_network(void);
/* Any entry of the allowlist grammar, mini-sandbox-allowlist(5):
 * "10.0.0.1", "10.0.0.0/8:5432", "[2001:db8::1]:443", "pypi.org:443 tcp",
 * "*.example.com". */
int mini_sandbox_allow(const char *entry);
/* Every entry of an allowlist file (-F PATH); PATH must be a regular file. */
int mini_sandbox_allow_connections(const char *path);
/* One IPv4 address (dotted quad). */
int mini_sandbox_allow_ipv4(const char *ip);
/* One IPv4 CIDR ("10.1.0.0/16"); a bare address ("10.1.2.3") is a /32. */
int mini_sandbox_allow_ipv4_subnet(const char *subnet);
/* One domain name (resolved on the host at start, pinned in /etc/hosts). */
int mini_sandbox_allow_domain(const char *domain);
/* The package-manager profile NAME ("npm", "pip", "apt", "git", "go", "cargo";
 * --profile): the hosts the tool's own settings name, read on the host at
 * start, its settings files read-only inside.  mini-tapbox(1), PROFILES. */
int mini_sandbox_allow_profile(const char *name);
/* mini-tapbox network without an allowlist: any destination. */
int mini_sandbox_allow_all_domains(void);
/* Write the allowlist the run needed to PATH when the sandbox ends
 * (mini-tapbox --learn PATH); PATH's directory must exist.  Chooses the
 * mini-tapbox network; without any allow call egress is unrestricted
 * while learning, with them they are enforced and PATH gets only what they
 * denied. */
int mini_sandbox_learn_allowlist(const char *path);
/* TCP port PORT (1..65535) of the host's loopback, reachable from the
 * sandbox as 10.0.2.2:PORT (--allow-host-port). */
int mini_sandbox_allow_host_port(int port);
/* Upstream DNS server for resolving allowlisted domains, "ADDR[:PORT]"
 * (--resolver); default: the host's system resolver. */
int mini_sandbox_set_resolver(const char *addr);
/* Limit of simultaneous connections the sandbox may open (> 0); DNS queries
 * to the sandbox's resolver do not count.  (The original counted every
 * connection of the sandbox's life; see libminisandbox(3), COMPATIBILITY.) */
int mini_sandbox_allow_max_connections(int max_connections);
/* Turn the name gate off (--no-name-check): a domain entry then admits
 * every connection to its addresses, whatever site it names — every site
 * a CDN serves there.  Weakens the allowlist; see mini-tapbox(1). */
int mini_sandbox_disable_name_check(void);

/* ---- resources ----------------------------------------------------------- */

/* At most MAX_PROCS tasks (processes and threads) in the sandbox
 * (--max-procs); default 4096.  A fork beyond it fails with EAGAIN inside;
 * see mini-sandbox(1) RESOURCES.  1 <= MAX_PROCS <= 4194304, else
 * MINI_SANDBOX_ERR_ILLEGAL_CONFIG. */
int mini_sandbox_set_max_procs(int max_procs);

/* ---- running ------------------------------------------------------------ */

/* Enter the sandbox; the rest of the program runs inside it.
 *
 * The calling process forks and stays OUTSIDE as the launcher: it runs the
 * network loop, waits for the sandbox and exits with its status (the
 * continuation's exit code, 128+N if it died of signal N).  On success this
 * call therefore never returns in the caller.  The continuation, a child of
 * the sandbox's pid 1 (not pid 1 itself), is where mini_sandbox_start()
 * returns 0.  Killing the outer process (even with SIGKILL) kills the
 * sandbox.
 *
 * On failure nothing ran unsandboxed: it returns < 0 in the caller with a
 * specific code (MINI_SANDBOX_ERR_OS with a message naming the failing
 * operation and a hint when user namespaces are unavailable, a
 * configuration code when the configuration as a whole is contradictory)
 * and the caller may fix the configuration and try again.
 *
 * Threads: only the calling thread continues inside the sandbox.  The
 * caller's other threads are not carried in; they keep existing in the
 * outer (launcher) process, unsandboxed, until it exits with the sandbox.
 * Start the sandbox before creating threads, or make sure they do nothing
 * that needs sandboxing.  (Python: pyminisandbox holds the interpreter lock
 * in the outer process, so other Python threads stop there.)  As after
 * fork(2), a lock another thread held at the start stays taken in the
 * continuation unless libc resets it: glibc does for malloc and stdio, not
 * for setenv/putenv/unsetenv — avoid those in the continuation if other
 * threads change the environment.
 *
 * File descriptors: the continuation keeps what the caller had open, except
 * descriptors that could reach the host: every directory fd and every
 * O_PATH fd (and pidfds) are closed on entry, so an fd opened before
 * start() cannot be used with openat() to escape; so is every socket of the
 * caller's network namespace (unless the sandbox shares it:
 * mini_sandbox_share_network()), so a socket opened before start() cannot
 * connect() past "no network" or the allowlist — including unix sockets to
 * host services.  Regular files, pipes and terminals keep working (a dup of
 * stderr, an open log file).
 *
 * Buffered C stdio output is flushed before the fork (so nothing is printed
 * twice).  Calls after a successful start() fail (-2) with
 * MINI_SANDBOX_ERR_ALREADY_STARTED, so does a second start().  Inside a
 * sandbox that was started by mini-sandbox or this library, it fails (-2)
 * with MINI_SANDBOX_ERR_NESTED: that happens only when the process
 * really is confined (user namespace, no capabilities, no-new-privs,
 * seccomp) — the MINI_SANDBOX_INSIDE environment marker alone is never
 * enough, so the environment cannot switch the sandbox off. */
int mini_sandbox_start(void);

/* Functions mini_sandbox_start() calls around its fork, as pthread_atfork(3)
 * handlers are called around fork(2): PREPARE first thing in start(),
 * PARENT in the caller just before a failed start() returns, CHILD in the
 * continuation just before start() returns 0 — before any code of the
 * caller runs inside.  Each may be NULL; a new call replaces all three;
 * mini_sandbox_reset() keeps them.  Handlers of pthread_atfork(3) are no
 * substitute: the sandbox's processes are made with clone(2) and fork(2) in
 * between, so they may run elsewhere, or not at all.  A language runtime
 * with threads needs these: pyminisandbox passes PyOS_BeforeFork,
 * PyOS_AfterFork_Parent and PyOS_AfterFork_Child (returning to the
 * interpreter first can hang the continuation: another thread's pending
 * request for the interpreter lock is copied in, and that thread is not).
 * MINI_SANDBOX_ERR_ALREADY_STARTED after start(). */
int mini_sandbox_set_fork_hooks(void (*prepare)(void), void (*parent)(void),
				void (*child)(void));

/* 1 in the continuation after a successful mini_sandbox_start(), else 0. */
int mini_sandbox_is_running(void);

/* Run ARGV (NULL-terminated; ARGV[0] looked up in PATH inside the sandbox)
 * in a sandbox built from the current configuration, as a child while the
 * caller stays outside.  Returns the pid of the child launcher (> 0): reap
 * it with waitpid(); its exit status is that of mini-sandbox(1) (the
 * command's code, 128+N on signal N, 126/127 if it could not be run, 125
 * when set-up failed).  The configuration is kept, so several commands can
 * be spawned.  The child inherits stdin/stdout/stderr and no other fd; it
 * dies with the calling thread (parent-death signal). */
pid_t mini_sandbox_spawn(const char *const argv[]);
/* As mini_sandbox_spawn(), with STDIN_FD, STDOUT_FD, STDERR_FD as the
 * command's fds 0, 1, 2 (-1: inherit the caller's).  No other fd of the
 * caller reaches the child. */
pid_t mini_sandbox_spawn_fds(const char *const argv[], int stdin_fd, int stdout_fd,
			     int stderr_fd);

/* Forget the whole configuration (back to read-only mode, no network).
 * Fails with MINI_SANDBOX_ERR_ALREADY_STARTED after start(). */
int mini_sandbox_reset(void);

/* MINI_SANDBOX_ERR_* code of the most recent failed call of this library in
 * this thread (0 before any failure); as in the original, a later successful
 * call does not clear it. */
int mini_sandbox_get_last_error_code(void);
/* Message of that failure ("" before any); valid until the next failed call
 * of this library in the same thread. */
const char *mini_sandbox_get_last_error_msg(void);

#ifdef __cplusplus
}
#endif

#endif /* MINISANDBOX_H */
