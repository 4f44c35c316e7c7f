/* SPDX-License-Identifier: MIT
 *
 * cpu-handoff.c — where pid 1 and the payload start (see cpu-handoff.h).
 */
#include "src/cpu-handoff.h"

#include <sched.h>
#include <stdbool.h>

/* Copied into pid 1 by the clone, shared with the CLONE_VM payload (which
 * only reads it). */
static cpu_set_t saved_mask;
static bool saved;

void
sbx_handoff_save(void)
{
	if (!saved)
		saved = sched_getaffinity(0, sizeof saved_mask, &saved_mask) == 0;
}

void
sbx_handoff_pin(void)
{
	cpu_set_t one;
	int cpu;

	sbx_handoff_save();
	cpu = sched_getcpu();
	if (!saved || cpu < 0 || cpu >= CPU_SETSIZE)
		return;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	sched_setaffinity(0, sizeof one, &one);
}

void
sbx_handoff_push(pid_t child)
{
	cpu_set_t others, one;
	int cpu = sched_getcpu();

	if (!saved || cpu < 0 || cpu >= CPU_SETSIZE)
		return;
	others = saved_mask;
	CPU_CLR(cpu, &others);
	if (CPU_COUNT(&others) == 0 || sched_setaffinity(child, sizeof others, &others) < 0)
		return;
	/* and stay here ourselves: pid 1's wake-up of us (the fds it hands
	 * over) would otherwise pull us onto its CPU, and the ruleset's batch
	 * and pid 1's file system would share one CPU while the other idles */
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	sched_setaffinity(0, sizeof one, &one);
}

void
sbx_handoff_release(void)
{
	if (saved)
		sched_setaffinity(0, sizeof saved_mask, &saved_mask);
}
