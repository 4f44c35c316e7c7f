/* SPDX-License-Identifier: MIT */
#include "config.h"

static void
mount_opt_clear(gpointer p)
{
	SbxMountOpt *m = p;
	g_free(m->path);
}

static void
publish_clear(gpointer p)
{
	SbxPublish *pub = p;
	g_free(pub->host_addr);
}

SbxConfig *
sbx_config_new(void)
{
	SbxConfig *cfg = g_new0(SbxConfig, 1);

	cfg->mounts = g_array_new(FALSE, TRUE, sizeof(SbxMountOpt));
	g_array_set_clear_func(cfg->mounts, mount_opt_clear);
	cfg->keep_fds = g_array_new(FALSE, TRUE, sizeof(int));
	cfg->allow_files = g_ptr_array_new_with_free_func(g_free);
	cfg->allow_entries = g_ptr_array_new_with_free_func(g_free);
	cfg->host_ports = g_array_new(FALSE, TRUE, sizeof(guint16));
	cfg->publish = g_array_new(FALSE, TRUE, sizeof(SbxPublish));
	g_array_set_clear_func(cfg->publish, publish_clear);
	cfg->mtu = SBX_DEFAULT_MTU;
	cfg->grace_secs = SBX_DEFAULT_GRACE_SECS;
	return cfg;
}

void
sbx_config_free(SbxConfig *cfg)
{
	if (!cfg)
		return;
	g_free(cfg->custom_root);
	g_free(cfg->overlay_dir);
	g_free(cfg->hermetic_dir);
	g_array_unref(cfg->mounts);
	g_free(cfg->workdir);
	g_array_unref(cfg->keep_fds);
	g_free(cfg->debug_log);
	g_ptr_array_unref(cfg->allow_files);
	g_ptr_array_unref(cfg->allow_entries);
	g_array_unref(cfg->host_ports);
	g_array_unref(cfg->publish);
	g_free(cfg->resolver);
	g_free(cfg->log_file);
	g_strfreev(cfg->argv);
	g_free(cfg);
}

void
sbx_config_add_mount(SbxConfig *cfg, SbxMountKind kind, const char *path)
{
	SbxMountOpt m = { .kind = kind, .path = g_strdup(path) };

	g_array_append_val(cfg->mounts, m);
}

const char *
sbx_fs_mode_flag(SbxFsMode mode)
{
	switch (mode) {
	case SBX_FS_READONLY: return "(read-only mode)";
	case SBX_FS_DEFAULT: return "-x";
	case SBX_FS_CUSTOM: return "-o";
	case SBX_FS_HERMETIC: return "-h";
	default: return "?";
	}
}

const char *
sbx_mount_kind_flag(SbxMountKind kind)
{
	switch (kind) {
	case SBX_MOUNT_WRITE: return "-w";
	case SBX_MOUNT_READ: return "-M";
	case SBX_MOUNT_OVERLAY: return "-k";
	case SBX_MOUNT_TMPFS: return "-e";
	case SBX_MOUNT_EMPTY_FILE: return "empty output file";
	default: return "?";
	}
}
