/* SPDX-License-Identifier: MIT
 *
 * launcher.h — the process model of doc/ARCHITECTURE.md "Processes".
 *
 * launcher (caller's uid, outside) ─clone(NEWUSER|NEWNS|NEWPID|NEWNET|NEWIPC|NEWUTS|NEWCGROUP)→
 *   set-up child = pid 1 (namespace-root): network stage, filesystem stage, then init loop
 *     └─ payload: nested user namespace for the requested identity, privilege drop, exec
 *
 * Theory of operation: doc/THEORY.md has the whole start as a timeline,
 * launcher | set-up child | payload, with every channel (the SYNC and CHAN
 * socketpairs, the uid maps, pidfds, the job-control pipe), every message
 * (NetHello/NetAnswer, the overlays' upper directories, SbxSetupReport) and the
 * function that handles each stage: launch_prepare(), launch_clone(),
 * launch_handshake(), launch_wait() here; sbx_sandbox_child() in the child.
 */
#pragma once

#include "common/config.h"

/* All three reset SIGCHLD to its default disposition in the process that
 * becomes the launcher: pid 1's status must reach the launcher's waitpid().
 * Signals for the sandbox (SIGINT SIGTERM SIGHUP SIGQUIT SIGUSR1 SIGUSR2
 * SIGWINCH) are blocked in the launcher while it runs and forwarded.
 *
 * CLI: run cfg->argv sandboxed.  Returns the exit status the CLI should exit
 * with: the payload's code, 128+N if it died of signal N, 126/127 when it
 * could not be executed, 125 with *error set when set-up failed (then
 * nothing ran). */
int sbx_run(const SbxConfig *cfg, GError **error);

/* Library mode (mini_sandbox_start): returns TRUE in the sandboxed
 * continuation (a child of pid 1).  In the caller it never returns on
 * success: the caller becomes the launcher and exits with the sandbox's
 * status.  FALSE + error in the caller when set-up failed; nothing ran. */
gboolean sbx_enter(const SbxConfig *cfg, GError **error);

