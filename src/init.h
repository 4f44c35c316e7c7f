/* SPDX-License-Identifier: MIT
 *
 * init.h — pid 1 of the sandbox's pid namespace.
 *
 * The set-up child becomes init once the sandbox is built: it forks the
 * payload (which is therefore never pid 1), reaps orphans, forwards
 * SIGINT SIGTERM SIGHUP SIGQUIT SIGUSR1 SIGUSR2 SIGWINCH to the payload, and
 * when the payload exits kills everything left in the namespace and exits
 * with the payload's status (128+N for a death by signal N: pid 1 cannot
 * die of its own signal, so the status travels as an exit code).
 *
 * SIGINT SIGQUIT SIGTERM SIGHUP and SIGWINCH go to the payload's whole
 * process group, as a terminal sends them to its foreground job (a shell
 * waiting for its foreground child would otherwise keep running);
 * SIGUSR1 and SIGUSR2 to the payload process alone.
 *
 * pid 1 and the payload each lead a process group of their own, as a
 * shell runs a job: a kill(0, sig) from inside must not reach the caller's
 * process group (the launcher, a calling shell, pipeline siblings).  If
 * the caller was in the foreground of its terminal, the payload's group
 * takes the terminal over, so it can still read it and gets ^C directly.
 */
#pragma once

#include <glib.h>

/* In the launcher, before the clone: remember which of fds 0/1/2 is a
 * terminal whose foreground process group is ours, and return it (or -1).
 * Decided here because the caller's process groups cannot be named from
 * inside the sandbox's pid namespace; pid 1, a copy of the launcher,
 * reads the answer in sbx_init_start(). */
int sbx_init_note_terminal(void);

/* Job control across the pid namespace.  When the payload holding the
 * terminal stops (^Z), pid 1 writes SBX_INIT_MSG_STOPPED to the pipe set
 * here (the launcher sets it before the clone, when it holds the
 * terminal; pid 1 keeps the write end, the payload neither end, and the
 * launcher reads); the launcher takes the terminal back
 * and stops itself, so the caller's shell sees its job stopped.  When the
 * shell continues the launcher, the launcher sends SIGCONT to pid 1, which
 * gives the terminal back to the payload's group and continues it. */
#define SBX_INIT_MSG_STOPPED 'S'
void sbx_init_set_jobctl_pipe(int read_end, int write_end);

/* -T: in the launcher, before the clone.  pid 1 keeps the time limit
 * itself, counted from the payload's fork: TIMEOUT_SECS later it continues
 * everything stopped in the namespace and sends SIGTERM to the payload's
 * group; GRACE_SECS after that it kills everything and exits as if the
 * payload died of SIGKILL (137).  pid 1 because it is never stopped: the
 * launcher stops itself with a stopped payload (job control above), and
 * its own timer would then wait for the shell's fg.  0 = no limit. */
void sbx_init_set_deadline(guint timeout_secs, guint grace_secs);

/* In the launcher, once pid 1 is gone: make our process group the
 * foreground of terminal FD again (from sbx_init_note_terminal(); -1 does
 * nothing).  Also when the payload stopped (see above). */
void sbx_init_reclaim_terminal(int fd);

/* The payload's set-up and exec, run by sbx_init_start() in the payload:
 * never returns (it execs or _exit()s). */
typedef void (*SbxPayloadFn)(void *arg);

/* Start the payload and run the init loop; in pid 1 it never returns — it
 * _exit()s with the payload's status.
 *
 * FN non-NULL (the CLI): the payload is clone(CLONE_VM|CLONE_VFORK|
 * CLONE_NEWUSER)d — in its nested user namespace already, sharing pid 1's
 * memory until its exec — and runs FN(ARG), which must exec or _exit and
 * must not write pid 1's variables.  FN NULL (library mode): fork(); returns
 * TRUE in the payload child, which has no nested namespace yet.
 *
 * Either way the payload starts in its own process group, holding the
 * terminal if the launcher held it, with the signal mask restored and
 * dispositions as inherited.  FALSE + error (in pid 1) when the clone or
 * fork fails.  PAYLOAD_ONLY_FD (or -1) is an fd only the payload needs:
 * pid 1 closes it after the payload started. */
gboolean sbx_init_start(int payload_only_fd, SbxPayloadFn fn, void *arg, GError **error);

/* Wait status → the exit status the CLI reports (code, or 128+signal). */
int sbx_status_to_exit_code(int wait_status);
