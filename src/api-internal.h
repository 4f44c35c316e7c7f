/* SPDX-License-Identifier: MIT
 *
 * api-internal.h — the process-level parts of libminisandbox (api-enter.c):
 * nesting detection, the continuation's fd hygiene, the spawn child.
 */
#pragma once

#include "common/config.h"

#include <sys/types.h>

/* Environment marker set in every sandboxed continuation.  It can only make
 * start() refuse (ERR_NESTED), and only when the process is really confined:
 * see api_inside_sandbox(). */
#define SBX_INSIDE_ENV "MINI_SANDBOX_INSIDE"

/* TRUE when this process runs inside a mini-sandbox: the SBX_INSIDE_ENV
 * marker is set AND the process is confined (no capabilities, no_new_privs,
 * a seccomp filter, a non-initial user namespace).  A forged marker in an
 * unconfined process is ignored, so the environment cannot switch the
 * sandbox off. */
gboolean api_inside_sandbox(void);

/* In the continuation: close every fd that could reach the host or the
 * launcher — directories, O_PATH, sockets of another network namespace,
 * procfs (/proc/self/mem is the launcher's memory), nsfs, anon inodes
 * (eventfd, inotify, fanotify, signalfd, timerfd, epoll, io_uring,
 * userfaultfd, bpf, perf), pidfds, memfds (also hugetlbfs, memfd_secret).
 * Keep regular files, pipes, terminals and the sandbox's own sockets.
 * 0, 1, 2 are never closed: one that reaches the host becomes /dev/null. */
void api_close_host_reaching_fds(void);
/* In the continuation: MINI_SANDBOX_INSIDE=1 in environ, without setenv(3)
 * (whose lock a thread of the caller may have held at the fork). */
void api_mark_inside(void);

/* Child side of mini_sandbox_spawn_fds(): PDEATHSIG, FDS[0..2] (-1 =
 * inherit) as 0/1/2, every other fd closed, then sbx_run(CFG) and _exit with
 * its status.  PARENT is the caller's pid (PDEATHSIG race check). */
G_GNUC_NORETURN void api_spawn_child(const SbxConfig *cfg, pid_t parent, const int fds[3]);
