/* SPDX-License-Identifier: MIT
 *
 * privdrop.c — see privdrop.h.  Raw capset(2) instead of libcap: three
 * calls do not justify a dependency.
 */
#include "src/privdrop.h"
#include "common/error.h"
#include "common/fdutil.h"
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static int
compare_ints(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

static int
sys_close_range(unsigned first, unsigned last)
{
	return (int)syscall(SYS_close_range, first, last, 0);
}

gboolean
sbx_close_fds_except(const int *keep, guint nkeep, GError **error)
{
	g_autofree int *sorted = g_new(int, nkeep + 1);
	unsigned next = 3;
	guint n = 0;

	for (guint i = 0; i < nkeep; i++)
		if (keep[i] >= 3)
			sorted[n++] = keep[i];
	qsort(sorted, n, sizeof(int), compare_ints);
	/* Close the gaps between the kept fds, then everything above. */
	for (guint i = 0; i < n; i++) {
		if ((unsigned)sorted[i] > next && sys_close_range(next, (unsigned)sorted[i] - 1) < 0)
			return sbx_set_errno(error, errno, "close inherited fds %u-%d", next,
					     sorted[i] - 1);
		next = (unsigned)sorted[i] + 1;
	}
	if (sys_close_range(next, ~0U) < 0)
		return sbx_set_errno(error, errno, "close inherited fds from %u", next);
	return TRUE;
}

int
sbx_cap_last(void)
{
	char text[16];
	autoclose int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, text, sizeof text - 1) : -1;

	if (n <= 0)
		return 63;
	text[n] = '\0';
	return (int)strtol(text, NULL, 10);
}

gboolean
sbx_drop_privileges(int cap_last, GError **error)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2] = { { 0, 0, 0 }, { 0, 0, 0 } };
	int top = cap_last;

	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		return sbx_set_errno(error, errno, "clear the ambient capability set");
	/* The bounding set is what an execve() as uid 0 would get back:
	 * empty it while we still hold CAP_SETPCAP. */
	for (int cap = 0; cap <= top; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			return sbx_set_errno(error, errno, "drop capability %d from the bounding set",
					     cap);
	if (syscall(SYS_capset, &hdr, data) < 0)
		return sbx_set_errno(error, errno, "clear the capability sets");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return sbx_set_errno(error, errno, "set no_new_privs");
	sbx_debug("payload: capabilities dropped (0..%d), no_new_privs set", top);
	return TRUE;
}
