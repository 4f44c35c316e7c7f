/* SPDX-License-Identifier: MIT
 *
 * cpu-handoff.h — start pid 1 and the CLI's payload on the CPU the
 * launcher runs on.
 *
 * A start is a chain of hand-overs: the launcher clones pid 1 and then
 * only waits; pid 1 starts the payload with CLONE_VFORK and is suspended
 * until the payload's exec.  The scheduler places each new task on the
 * idlest CPU, and an idle vCPU of a VM is halted in the hypervisor: waking
 * it costs more than the whole hand-over (bench/README.md: ~0.4 ms of a
 * 12 ms `mini-sandbox -- true` on a 2-vCPU VM), while the CPU the parent
 * frees as it waits sits unused.  So the launcher pins itself to its
 * current CPU for the clone (the child inherits the mask) and takes its own
 * mask back at once; pid 1 keeps the pin until the payload has exec'd; the
 * payload takes the caller's mask back right before its exec, so the
 * command runs with the CPU affinity it was given.  A scheduling hint
 * only: any failure leaves the masks as they were.
 */
#pragma once

/* Save the calling thread's CPU mask and pin it to the CPU it is on. */
void sbx_handoff_pin(void);

/* Put the mask saved by sbx_handoff_pin() back; nothing if there is none.
 * In the launcher after its clone, in pid 1 once the payload has exec'd,
 * in the payload right before its exec (each its own copy of the state). */
void sbx_handoff_release(void);
