/* SPDX-License-Identifier: MIT
 * TEMPORARY development stub until mounts/ lands (the filesystem work
 * deletes this file).  It only gives the new pid namespace its own /proc so
 * the launcher can be exercised; it provides NO filesystem isolation and
 * must not ship. */
#include "fs.h"
#include "common/error.h"

#include <errno.h>
#include <sys/mount.h>

struct MountPlan { int unused; };

MountPlan *
fs_plan_for_config(const SbxConfig *cfg, GError **error)
{
	return g_new0(MountPlan, 1);
}
void fs_plan_add_file(MountPlan *plan, const char *dest, const char *contents) {}
gboolean
fs_apply_plan(const MountPlan *plan, GError **error)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		return sbx_set_errno(error, errno, "make / a slave mount");
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return sbx_set_errno(error, errno, "mount proc on /proc");
	return TRUE;
}
void fs_cleanup_after(const MountPlan *plan) {}
void mount_plan_free(MountPlan *plan) { g_free(plan); }
