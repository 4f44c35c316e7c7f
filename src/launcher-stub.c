/* SPDX-License-Identifier: MIT — temporary stub until launcher.c lands. */
#include "launcher.h"
#include "common/error.h"

int
sbx_run(const SbxConfig *cfg, GError **error)
{
	g_set_error(error, SBX_ERROR, SBX_ERR_OS, "launcher not built yet");
	return SBX_EXIT_SETUP;
}
gboolean
sbx_enter(const SbxConfig *cfg, GError **error)
{
	g_set_error(error, SBX_ERROR, SBX_ERR_OS, "launcher not built yet");
	return FALSE;
}
pid_t
sbx_spawn(const SbxConfig *cfg, GError **error)
{
	g_set_error(error, SBX_ERROR, SBX_ERR_OS, "launcher not built yet");
	return -1;
}
