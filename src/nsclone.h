/* SPDX-License-Identifier: MIT
 *
 * nsclone.h — create pid 1 of the sandbox in its new namespaces.
 *
 * clone(CLONE_NEWUSER|…) works from a multithreaded process, but the child
 * of a raw clone() is a snapshot taken while the other threads may have
 * held malloc's or stdio's locks: the set-up code, which allocates, could
 * deadlock on them.  glibc's fork() resets those locks, so:
 *
 *   single-threaded caller (the CLI)   launcher ─raw clone→ pid 1
 *   multithreaded caller (library)     launcher ─fork→ clone helper ─raw clone→ pid 1
 *
 * The helper sends pid 1's pid and a pidfd for it to the launcher, closes
 * every fd, then waits for pid 1 and _exit()s with its status (as an exit
 * code, see sbx_status_to_exit_code).  Its parent-death signal chains the
 * launcher's death on to pid 1's.
 */
#pragma once

#include <glib.h>
#include <sys/types.h>

typedef struct {
	pid_t child;       /* our direct child, to waitpid(): pid 1 or the helper */
	int child_fd;      /* pidfd of CHILD: readable once it has exited */
	pid_t pid1;        /* the sandbox's pid 1 as seen from here (uid maps) */
	int pid1_fd;       /* pidfd of pid 1: signals for the sandbox go here */
} SbxSandboxProcs;

typedef enum {
	SBX_CLONE_FAILED,  /* *error set (with the user-namespace diagnosis) */
	SBX_CLONE_PARENT,  /* in the launcher: PROCS filled */
	SBX_CLONE_CHILD,   /* in pid 1 of the new namespaces */
} SbxCloneResult;

/* Create pid 1 with FLAGS (CLONE_NEW* | SIGCHLD).  The child starts with
 * the caller's signal mask and every fd the caller had. */
SbxCloneResult sbx_clone_sandbox(unsigned long flags, SbxSandboxProcs *procs, GError **error);

/* Send SIG to pid 1 (through its pidfd: no pid-reuse race).  No-op once
 * it is gone. */
void sbx_sandbox_procs_signal(const SbxSandboxProcs *procs, int sig);

/* Close the pidfds; does not signal or wait. */
void sbx_sandbox_procs_clear(SbxSandboxProcs *procs);
