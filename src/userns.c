/* SPDX-License-Identifier: MIT
 *
 * userns.c — uid/gid maps and the "why can't I create a user namespace"
 * diagnosis.  See userns.h for the two-level layout.
 */
#include "src/userns.h"
#include "common/error.h"
#include "common/fdutil.h"
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Write all of TEXT to PATH (a /proc file: one write(2) call matters for
 * uid_map, which rejects a second write). */
static gboolean
write_proc_file(int dirfd, const char *path, const char *text, GError **error)
{
	autoclose int fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC);
	size_t len = strlen(text);
	ssize_t n;

	if (fd < 0)
		return sbx_set_errno(error, errno, "open %s", path);
	do
		n = write(fd, text, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return sbx_set_errno(error, errno, "write \"%.*s\" to %s",
				     (int)strcspn(text, "\n"), text, path);
	if ((size_t)n != len)
		return sbx_set_errno(error, EIO, "short write to %s", path);
	return TRUE;
}

/* Write the three files for the user namespace of the process whose /proc
 * directory is PROC_DIR (relative to DIRFD): setgroups must say "deny"
 * before an unprivileged writer may write gid_map (user_namespaces(7)). */
static gboolean
write_maps(int dirfd, const char *proc_dir, const char *uid_line, const char *gid_line,
	   GError **error)
{
	char setgroups[64], uid_map[64], gid_map[64];

	g_snprintf(setgroups, sizeof setgroups, "%s/setgroups", proc_dir);
	g_snprintf(uid_map, sizeof uid_map, "%s/uid_map", proc_dir);
	g_snprintf(gid_map, sizeof gid_map, "%s/gid_map", proc_dir);
	if (!write_proc_file(dirfd, setgroups, "deny", error))
		return FALSE;
	if (!write_proc_file(dirfd, uid_map, uid_line, error))
		return FALSE;
	return write_proc_file(dirfd, gid_map, gid_line, error);
}

gboolean
sbx_userns_write_outer_maps(int proc_fd, uid_t outside_uid, gid_t outside_gid, GError **error)
{
	char uid_line[32], gid_line[32];

	g_snprintf(uid_line, sizeof uid_line, "0 %u 1\n", (unsigned)outside_uid);
	g_snprintf(gid_line, sizeof gid_line, "0 %u 1\n", (unsigned)outside_gid);
	if (!write_maps(proc_fd, "self", uid_line, gid_line, error))
		return FALSE;
	sbx_debug("child: map uid %u -> 0, gid %u -> 0 in its own user namespace",
		  (unsigned)outside_uid, (unsigned)outside_gid);
	return TRUE;
}

gboolean
sbx_userns_map_identity(int proc_fd, uid_t inside_uid, gid_t inside_gid, GError **error)
{
	char uid_line[32], gid_line[32];

	g_snprintf(uid_line, sizeof uid_line, "%u 0 1\n", (unsigned)inside_uid);
	g_snprintf(gid_line, sizeof gid_line, "%u 0 1\n", (unsigned)inside_gid);
	/* We are our own writer: a single line mapping our own (outer) euid 0
	 * is what an unprivileged writer may set. */
	if (!write_maps(proc_fd, "self", uid_line, gid_line, error))
		return sbx_prefix_error(error, "map the payload's identity %u:%u",
					(unsigned)inside_uid, (unsigned)inside_gid);
	sbx_debug("payload: nested user namespace, uid %u gid %u",
		  (unsigned)inside_uid, (unsigned)inside_gid);
	return TRUE;
}

gboolean
sbx_userns_unshare_nested(GError **error)
{
	if (unshare(CLONE_NEWUSER) < 0)
		return sbx_set_errno(error, errno, "create the payload's nested user namespace");
	return TRUE;
}

/* Read a small integer sysctl; -1 when absent or unreadable. */
static long
read_sysctl(const char *path)
{
	g_autofree char *text = NULL;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return -1;
	return strtol(text, NULL, 10);
}

gboolean
sbx_userns_apparmor_restricted(void)
{
	return read_sysctl("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == 1;
}

char *
sbx_userns_explain_failure(int errnum)
{
	if (read_sysctl("/proc/sys/kernel/unprivileged_userns_clone") == 0)
		return g_strdup("unprivileged user namespaces are disabled "
				"(kernel.unprivileged_userns_clone=0); enable them with "
				"'sysctl -w kernel.unprivileged_userns_clone=1'");
	if (read_sysctl("/proc/sys/user/max_user_namespaces") == 0)
		return g_strdup("user namespaces are disabled (user.max_user_namespaces=0 "
				"in this namespace); raise it with "
				"'sysctl -w user.max_user_namespaces=15000'");
	if (errnum == ENOSPC)
		return g_strdup("the limit on user namespaces is reached "
				"(user.max_user_namespaces, or nesting deeper than 32 levels); "
				"raise user.max_user_namespaces or end other sandboxes");
	if (errnum == EUSERS)
		return g_strdup("user namespaces nest too deeply (the kernel allows 32 levels)");
	if (sbx_userns_apparmor_restricted())
		return g_strdup("Ubuntu's AppArmor restricts unprivileged user namespaces "
				"(kernel.apparmor_restrict_unprivileged_userns=1); install the "
				"profile contrib/apparmor/mini-sandbox into /etc/apparmor.d/ and "
				"load it with 'apparmor_parser -r /etc/apparmor.d/mini-sandbox'");
	if (errnum == EINVAL)
		return g_strdup("the kernel does not support user namespaces here "
				"(built without CONFIG_USER_NS, or running in a chroot)");
	return g_strdup("creating user namespaces is forbidden here, most likely by a "
			"container's seccomp profile (e.g. Docker's default): run the container "
			"with a profile that allows clone/unshare(CLONE_NEWUSER), or "
			"--security-opt seccomp=unconfined; inside another mini-sandbox, start "
			"that one with --allow-userns");
}
