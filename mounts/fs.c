/* SPDX-License-Identifier: MIT
 *
 * fs.c — the filesystem stage's entry points (fs.h): gather host facts,
 * build the plan, hand it to the applier, clean up -d directories.
 */
#include "fs.h"
#include "hostview.h"
#include "mount-apply.h"
#include "mount-plan.h"
#include "common/error.h"
#include "common/fdutil.h"
#include "common/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void
resolve_config_paths(HostView *view, const SbxConfig *cfg)
{
	const char *dirs[] = { cfg->workdir, cfg->custom_root, cfg->overlay_dir, cfg->hermetic_dir };

	for (gsize i = 0; i < G_N_ELEMENTS(dirs); i++)
		if (dirs[i])
			host_view_resolve(view, dirs[i], FALSE);
	for (guint i = 0; i < cfg->mounts->len; i++) {
		const SbxMountOpt *m = &g_array_index(cfg->mounts, SbxMountOpt, i);

		if (m->path)
			host_view_resolve(view, m->path, m->kind == SBX_MOUNT_EMPTY_FILE);
	}
}

MountPlan *
fs_plan_for_config(const SbxConfig *cfg, GError **error)
{
	g_autoptr(HostView) view = host_view_new();
	g_autoptr(MountPlan) plan = NULL;

	if (!host_view_gather(view, error))
		return NULL;
	resolve_config_paths(view, cfg);
	plan = mount_plan_build(cfg, view, error);
	if (!plan)
		return NULL;
	if (cfg->overlay_dir) {
		/* One run directory per sandbox under -d, so concurrent
		 * sandboxes never share upper dirs and cleanup removes only ours. */
		const HostPath *hp = host_view_lookup(view, cfg->overlay_dir);
		g_autofree char *tmpl = g_build_filename(hp->canonical, "mini-sandbox-XXXXXX", NULL);

		if (!g_mkdtemp_full(tmpl, 0700)) {
			sbx_set_errno(error, errno, "-d %s: create the overlay directory", cfg->overlay_dir);
			return NULL;
		}
		plan->overlay_dir = g_steal_pointer(&tmpl);
	}
	for (guint i = 0; i < plan->warnings->len; i++)
		sbx_warn("%s", (const char *)g_ptr_array_index(plan->warnings, i));
	for (guint i = 0; i < plan->ops->len; i++) {
		g_autofree char *d = mount_op_describe(g_ptr_array_index(plan->ops, i));

		sbx_debug("plan: %s", d);
	}
	return g_steal_pointer(&plan);
}

gboolean
fs_apply_plan(const MountPlan *plan, GError **error)
{
	return mount_apply_plan(plan, error);
}

/* rm -rf that never follows symlinks and copes with overlay's work/work
 * (mode 000): make each directory writable+searchable before emptying it. */
static void
remove_tree_at(int dirfd, const char *name)
{
	autoclose int fd = -1;
	DIR *dir;
	struct dirent *de;

	if (unlinkat(dirfd, name, 0) == 0 || errno != EISDIR)
		return;
	fchmodat(dirfd, name, 0700, 0);
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	dir = fdopendir(dup(fd));
	if (!dir)
		return;
	while ((de = readdir(dir)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			remove_tree_at(fd, de->d_name);
	closedir(dir);
	if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0)
		sbx_debug("cannot remove %s: %s", name, g_strerror(errno));
}

void
fs_cleanup_after(const MountPlan *plan)
{
	g_autofree char *parent = NULL;
	g_autofree char *base = NULL;
	autoclose int dfd = -1;

	if (!plan || !plan->overlay_dir)
		return;
	if (plan->keep_overlay) {
		sbx_warn("overlay changes kept in %s", plan->overlay_dir);
		return;
	}
	parent = g_path_get_dirname(plan->overlay_dir);
	base = g_path_get_basename(plan->overlay_dir);
	dfd = open(parent, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0)
		remove_tree_at(dfd, base);
}
