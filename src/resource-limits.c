/* SPDX-License-Identifier: MIT
 *
 * resource-limits.c — resource limits of the sandbox (resource-limits.h).
 *
 * Tasks: why RLIMIT_NPROC and not a cgroup.  A cgroup v2 with pids.max
 * would also bound the tasks, but an unprivileged launcher may only make
 * one where systemd delegated a subtree to the user: a unit with
 * Delegate=yes, in practice a scope asked for over D-Bus (what podman and
 * systemd-run --user --scope do).  Splitting the launcher's own scope or
 * service cgroup behind the manager's back is not supported by systemd,
 * and hosts with cgroup v1 or a hybrid hierarchy (pids a v1 controller)
 * and most containers have no delegation at all.  (Root could make a
 * cgroup anywhere; that path is not written yet, see sbx_limits_cap_tasks.)
 * The per-user-namespace RLIMIT_NPROC accounting (Linux 5.14, "ucounts")
 * gives the same bound everywhere without privilege or a service manager:
 *
 *  - the sandbox's user namespace counts the tasks of the sandbox's uid in
 *    that namespace (pid 1 and the payload), not the user's other processes;
 *  - a fork that would exceed the forking task's RLIMIT_NPROC fails with
 *    EAGAIN;
 *  - a user namespace records its creator's RLIMIT_NPROC as the ceiling of
 *    its whole subtree, so the payload's nested namespace (created after
 *    this call) cannot escape the cap, and raising a hard limit needs
 *    CAP_SYS_RESOURCE in the initial namespace, which the payload never has.
 *
 * The sandbox maps a single uid (the user's) and so does every nested
 * namespace an unprivileged payload can make: switching uids inside (-U,
 * -R, setuid) never leaves that one count.
 *
 * Checked on Linux 6.18: with the cap at 50, a process in the namespace
 * starts 49 children then gets EAGAIN, also from a nested user namespace,
 * while the same user had 100 other processes on the host; setrlimit()
 * raising the hard limit fails with EPERM.
 */
#include "src/resource-limits.h"
#include "common/error.h"
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

guint
sbx_limits_max_procs(const SbxConfig *cfg)
{
	return cfg->max_procs ? cfg->max_procs : SBX_DEFAULT_MAX_PROCS;
}

/* Linux 5.14 or later: RLIMIT_NPROC is counted per user namespace. */
static gboolean
nproc_per_userns(void)
{
	struct utsname u;
	unsigned major = 0, minor = 0;

	if (uname(&u) < 0 || sscanf(u.release, "%u.%u", &major, &minor) != 2)
		return TRUE;
	return major > 5 || (major == 5 && minor >= 14);
}

/* Is uid 0 of our user namespace the host's root?  uid_map, read from
 * inside, shows "0 OUTSIDE 1". */
static gboolean
ns_root_is_host_root(int proc_fd)
{
	char buf[128] = "";
	unsigned inside = 1, outside = 1;
	int fd = openat(proc_fd, "self/uid_map", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;

	if (fd >= 0)
		close(fd);
	return n > 0 && sscanf(buf, "%u %u", &inside, &outside) == 2 && inside == 0 &&
	       outside == 0;
}

gboolean
sbx_limits_cap_tasks(const SbxConfig *cfg, int proc_fd, GError **error)
{
	guint max = sbx_limits_max_procs(cfg);
	struct rlimit rl;

	if (ns_root_is_host_root(proc_fd)) {
		if (cfg->max_procs) {
			g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_CONFIG,
				    "--max-procs %u cannot be enforced: mini-sandbox runs as root, and "
				    "the kernel does not count uid 0's processes against RLIMIT_NPROC "
				    "(run mini-sandbox as an unprivileged user)", max);
			return FALSE;
		}
		sbx_debug("child: running as the host's root: no task cap (the kernel does not "
			  "apply RLIMIT_NPROC to uid 0)");
		return TRUE;
	}
	if (getrlimit(RLIMIT_NPROC, &rl) < 0)
		return sbx_set_errno(error, errno, "read RLIMIT_NPROC");
	/* Never raise: a lower hard limit the user set stays in force. */
	if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max > max)
		rl.rlim_max = max;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NPROC, &rl) < 0)
		return sbx_set_errno(error, errno, "set RLIMIT_NPROC to %lu (--max-procs)",
				     (unsigned long)rl.rlim_max);
	sbx_debug("child: at most %lu tasks (RLIMIT_NPROC, counted in the sandbox's user "
		  "namespace)", (unsigned long)rl.rlim_max);
	if (!nproc_per_userns())
		sbx_debug("child: this kernel (before 5.14) counts all of the user's processes "
			  "against --max-procs, not only the sandbox's");
	return TRUE;
}
