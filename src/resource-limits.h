/* SPDX-License-Identifier: MIT
 *
 * resource-limits.h — resource limits the sandbox puts on its payload (mini-sandbox(1)
 * RESOURCES).  Applied by the set-up child, pid 1 of the sandbox, as root of
 * the sandbox's user namespace, before the payload's own user namespace
 * exists.
 */
#pragma once

#include "common/config.h"

/* Tasks (processes and threads) a sandbox may hold when --max-procs /
 * mini_sandbox_set_max_procs() does not say otherwise.  A build with a few
 * hundred compiler processes fits; a fork bomb stops long before it can
 * exhaust the host's pid space (pid_max is 32768 on many systems).
 * Documented in mini-sandbox(1) RESOURCES. */
#define SBX_DEFAULT_MAX_PROCS 4096u

/* The largest --max-procs: the kernel's PID_MAX_LIMIT. */
#define SBX_MAX_MAX_PROCS 4194304u

/* The cap CFG asks for (its max_procs, or the default). */
guint sbx_limits_max_procs(const SbxConfig *cfg);

/* Cap the tasks of this process's user namespace at the --max-procs of CFG
 * by lowering RLIMIT_NPROC (soft and hard, never above the hard limit we
 * were given).  Since Linux 5.14 RLIMIT_NPROC is counted per user namespace
 * (ucounts): the caller's namespace counts its own tasks only, and every
 * user namespace created below it after this call inherits the cap as the
 * ceiling for all its tasks together; raising the hard limit again needs
 * CAP_SYS_RESOURCE in the initial namespace.  Older kernels count all of
 * the user's processes on the host against the cap (logged).
 *
 * The kernel never applies RLIMIT_NPROC to uid 0 of the host: when our
 * namespace's root is the host's root (PROC_FD: a procfs to read our
 * uid_map through), an explicit --max-procs is an SBX_ERR_ILLEGAL_CONFIG
 * error rather than a cap silently not enforced; the default is logged. */
gboolean sbx_limits_cap_tasks(const SbxConfig *cfg, int proc_fd, GError **error);
