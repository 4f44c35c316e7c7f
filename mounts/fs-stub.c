/* SPDX-License-Identifier: MIT
 * Temporary stub so the tree builds before mounts/ lands.  Refuses to run:
 * a sandbox without its filesystem stage must never start. */
#include "fs.h"
#include "common/error.h"

struct MountPlan { int unused; };

MountPlan *
fs_plan_for_config(const SbxConfig *cfg, GError **error)
{
	g_set_error(error, SBX_ERROR, SBX_ERR_OS, "filesystem stage not built yet");
	return NULL;
}
void fs_plan_add_file(MountPlan *plan, const char *dest, const char *contents) {}
gboolean
fs_apply_plan(const MountPlan *plan, GError **error)
{
	g_set_error(error, SBX_ERROR, SBX_ERR_OS, "filesystem stage not built yet");
	return FALSE;
}
void fs_cleanup_after(const MountPlan *plan) {}
void mount_plan_free(MountPlan *plan) { g_free(plan); }
