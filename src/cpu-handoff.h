/* SPDX-License-Identifier: MIT
 *
 * cpu-handoff.h — where pid 1 and the CLI's payload start: on the
 * launcher's CPU when the launcher only waits, on another one when it has
 * work of its own.
 *
 * A start is a chain of hand-overs.  The scheduler of a VM keeps a new
 * task on its parent's vCPU (this one packs them: 190-197 children of 200
 * started there), and an idle vCPU is halted in the hypervisor, so waking
 * one costs more than a short hand-over.
 *  - mini-sandbox: the launcher clones pid 1 and then only waits; pid 1
 *    starts the payload with CLONE_VFORK and is suspended until its exec.
 *    The launcher pins itself to its current CPU for the clone (the child
 *    inherits the mask) and takes its own mask back at once; pid 1 keeps
 *    the pin until the payload has exec'd; the payload takes the caller's
 *    mask back right before its exec (bench/README.md: ~0.4 ms of a 12 ms
 *    `mini-sandbox -x -- true` on a 2-vCPU VM).
 *  - mini-tapbox: the launcher builds the ruleset's batch and starts
 *    libslirp right after the clone, ~1.3 ms during which pid 1, queued on
 *    the same vCPU, would not run.  The launcher pushes pid 1 to another
 *    CPU of the mask instead, and keeps to its own CPU until NET_UP is
 *    sent; pid 1 takes the caller's mask back once NET_UP has come (after
 *    it, the launcher touches no mask of pid 1's).
 * The command always runs with the CPU affinity it was given.  A
 * scheduling hint only: any failure leaves the masks as they were.
 */
#pragma once

#include <sys/types.h>

/* Save the calling thread's CPU mask, for sbx_handoff_release(). */
void sbx_handoff_save(void);

/* sbx_handoff_save(), and pin the caller to the CPU it is on. */
void sbx_handoff_pin(void);

/* Move CHILD (not yet running: just cloned) to a CPU of the saved mask
 * other than the caller's, when there is one, and pin the caller to its
 * own until sbx_handoff_release(). */
void sbx_handoff_push(pid_t child);

/* Put the saved mask back on the caller; nothing if none was saved.  In
 * the launcher after its clone (mini-tapbox's: once NET_UP is sent), in
 * pid 1 once the payload has exec'd (or mini-tapbox's NET_UP has come), in
 * the payload right before its exec (each its own copy of the state). */
void sbx_handoff_release(void);
