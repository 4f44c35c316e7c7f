/* SPDX-License-Identifier: MIT */
#include "common/config.h"

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
	cfg->arg_files = g_ptr_array_new_with_free_func(g_free);
	cfg->allow_entries = g_ptr_array_new_with_free_func(g_free);
	cfg->profiles = g_ptr_array_new_with_free_func(g_free);
	cfg->profile_entries = g_ptr_array_new_with_free_func(g_free);
	cfg->profile_where = g_ptr_array_new_with_free_func(g_free);
	cfg->env_set = g_ptr_array_new_with_free_func(g_free);
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
	g_ptr_array_unref(cfg->arg_files);
	g_ptr_array_unref(cfg->allow_entries);
	g_ptr_array_unref(cfg->profiles);
	g_ptr_array_unref(cfg->profile_entries);
	g_ptr_array_unref(cfg->profile_where);
	g_ptr_array_unref(cfg->env_set);
	g_array_unref(cfg->host_ports);
	g_array_unref(cfg->publish);
	g_free(cfg->resolver);
	g_free(cfg->log_file);
	g_free(cfg->learn_file);
	g_strfreev(cfg->argv);
	g_free(cfg);
}

void
sbx_config_add_mount(SbxConfig *cfg, SbxMountKind kind, const char *path)
{
	SbxMountOpt m = { .kind = kind, .path = g_strdup(path) };

	g_array_append_val(cfg->mounts, m);
}

static GPtrArray *
strv_array_copy(const GPtrArray *src)
{
	GPtrArray *dst = g_ptr_array_new_with_free_func(g_free);

	for (guint i = 0; i < src->len; i++)
		g_ptr_array_add(dst, g_strdup(g_ptr_array_index(src, i)));
	return dst;
}

SbxConfig *
sbx_config_copy(const SbxConfig *src)
{
	SbxConfig *dst = sbx_config_new();

	/* Scalars first, then replace every owned pointer with a deep copy.
	 * Keep in step with SbxConfig: a new pointer field must be copied here,
	 * or the two configs would share (and both free) it. */
	GArray *mounts = dst->mounts, *keep_fds = dst->keep_fds;
	GArray *host_ports = dst->host_ports, *publish = dst->publish;

	g_ptr_array_unref(dst->allow_files);
	g_ptr_array_unref(dst->arg_files);
	g_ptr_array_unref(dst->allow_entries);
	g_ptr_array_unref(dst->profiles);
	g_ptr_array_unref(dst->profile_entries);
	g_ptr_array_unref(dst->profile_where);
	g_ptr_array_unref(dst->env_set);
	*dst = *src;
	dst->mounts = mounts;
	dst->keep_fds = keep_fds;
	dst->host_ports = host_ports;
	dst->publish = publish;
	dst->custom_root = g_strdup(src->custom_root);
	dst->overlay_dir = g_strdup(src->overlay_dir);
	dst->hermetic_dir = g_strdup(src->hermetic_dir);
	dst->workdir = g_strdup(src->workdir);
	dst->debug_log = g_strdup(src->debug_log);
	dst->resolver = g_strdup(src->resolver);
	dst->log_file = g_strdup(src->log_file);
	dst->learn_file = g_strdup(src->learn_file);
	dst->argv = g_strdupv(src->argv);
	dst->allow_files = strv_array_copy(src->allow_files);
	dst->arg_files = strv_array_copy(src->arg_files);
	dst->allow_entries = strv_array_copy(src->allow_entries);
	dst->profiles = strv_array_copy(src->profiles);
	dst->profile_entries = strv_array_copy(src->profile_entries);
	dst->profile_where = strv_array_copy(src->profile_where);
	dst->env_set = strv_array_copy(src->env_set);
	for (guint i = 0; i < src->mounts->len; i++) {
		const SbxMountOpt *m = &g_array_index(src->mounts, SbxMountOpt, i);

		sbx_config_add_mount(dst, m->kind, m->path);
	}
	g_array_append_vals(dst->keep_fds, src->keep_fds->data, src->keep_fds->len);
	g_array_append_vals(dst->host_ports, src->host_ports->data, src->host_ports->len);
	for (guint i = 0; i < src->publish->len; i++) {
		SbxPublish pub = g_array_index(src->publish, SbxPublish, i);

		pub.host_addr = g_strdup(pub.host_addr);
		g_array_append_val(dst->publish, pub);
	}
	return dst;
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
