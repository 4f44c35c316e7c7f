/* SPDX-License-Identifier: MIT
 *
 * cpu-handoff.c — pid 1 and the payload start on the launcher's CPU (see
 * cpu-handoff.h).
 */
#include "src/cpu-handoff.h"

#include <sched.h>
#include <stdbool.h>

/* Copied into pid 1 by the clone, shared with the CLONE_VM payload (which
 * only reads it). */
static cpu_set_t saved_mask;
static bool pinned;

void
sbx_handoff_pin(void)
{
	cpu_set_t one;
	int cpu;

	if (pinned || sched_getaffinity(0, sizeof saved_mask, &saved_mask) < 0)
		return;
	cpu = sched_getcpu();
	if (cpu < 0 || cpu >= CPU_SETSIZE)
		return;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	pinned = sched_setaffinity(0, sizeof one, &one) == 0;
}

void
sbx_handoff_release(void)
{
	if (pinned)
		sched_setaffinity(0, sizeof saved_mask, &saved_mask);
}
