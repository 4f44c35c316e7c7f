/* SPDX-License-Identifier: MIT
 *
 * test-mount-plan.c — the pure mount plan (mounts/mount-plan.c) for every
 * mode and option, on hand-made HostViews of a Debian-like host.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "mounts/hostview.h"
#include "mounts/mount-apply.h"
#include "mounts/mount-plan.h"

/* A Debian 12 host: merged /usr (bin, lib, sbin are symlinks), /home on the
 * root filesystem, /srv/data an NFS mount. */
static HostView *
debian_host(const char *cwd, const char *home)
{
	static const char *const dirs[] = { "boot", "dev", "etc", "home", "media", "mnt", "opt",
					    "proc", "root", "run", "srv", "sys", "tmp", "usr", "var" };
	HostView *v = host_view_new();

	for (gsize i = 0; i < G_N_ELEMENTS(dirs); i++)
		host_view_add_top(v, dirs[i], HOST_TYPE_DIR, NULL);
	host_view_add_top(v, "bin", HOST_TYPE_SYMLINK, "usr/bin");
	host_view_add_top(v, "lib", HOST_TYPE_SYMLINK, "usr/lib");
	host_view_add_top(v, "lib64", HOST_TYPE_SYMLINK, "usr/lib64");
	host_view_add_top(v, "sbin", HOST_TYPE_SYMLINK, "usr/sbin");
	host_view_add_top(v, "vmlinuz", HOST_TYPE_SYMLINK, "boot/vmlinuz-6.1.0");
	host_view_add_mount(v, "/", "ext4");
	host_view_add_mount(v, "/proc", "proc");
	host_view_add_mount(v, "/sys", "sysfs");
	host_view_add_mount(v, "/dev", "devtmpfs");
	host_view_add_mount(v, "/run", "tmpfs");
	host_view_add_mount(v, "/srv/data", "nfs4");
	v->cwd = g_strdup(cwd);
	v->home = g_strdup(home);
	v->uid = 1000;
	host_view_add_path(v, cwd, cwd, HOST_TYPE_DIR, 0);
	return v;
}

static const MountOp *
find_op(const MountPlan *plan, MountOpKind kind, const char *dest, int *index)
{
	for (guint i = 0; i < plan->ops->len; i++) {
		const MountOp *op = g_ptr_array_index(plan->ops, i);

		if (op->kind == kind && strcmp(op->dest, dest) == 0) {
			if (index)
				*index = (int)i;
			return op;
		}
	}
	return NULL;
}

/* Like find_op, but the op must exist (abort() tells the compiler too). */
static const MountOp *
must_op(const MountPlan *plan, MountOpKind kind, const char *dest)
{
	const MountOp *op = find_op(plan, kind, dest, NULL);

	if (!op) {
		fail_msg("no %d op at %s", (int)kind, dest);
		abort();
	}
	return op;
}

static const MountOp *
first_op(const MountPlan *plan)
{
	const MountOp *op = plan->ops->len ? g_ptr_array_index(plan->ops, 0) : NULL;

	if (!op)
		abort();
	return op;
}

static int
op_index(const MountPlan *plan, MountOpKind kind, const char *dest)
{
	int i = -1;

	assert_non_null(find_op(plan, kind, dest, &i));
	return i;
}

static gboolean
has_warning(const MountPlan *plan, const char *needle)
{
	for (guint i = 0; i < plan->warnings->len; i++)
		if (strstr(g_ptr_array_index(plan->warnings, i), needle))
			return TRUE;
	return FALSE;
}

/* Parents before children, always. */
static void
assert_depth_order(const MountPlan *plan)
{
	guint prev = 0;

	for (guint i = 0; i < plan->ops->len; i++) {
		const MountOp *op = g_ptr_array_index(plan->ops, i);
		guint d = mount_path_depth(op->dest);

		assert_true(d >= prev);
		prev = d;
	}
}

static MountPlan *
build_ok(const SbxConfig *cfg, const HostView *v)
{
	g_autoptr(GError) err = NULL;
	MountPlan *plan = mount_plan_build(cfg, v, &err);

	if (!plan)
		fail_msg("plan failed: %s", err->message);
	assert_depth_order(plan);
	return plan;
}

static void
build_fails(const SbxConfig *cfg, const HostView *v, int code, const char *n1, const char *n2)
{
	g_autoptr(GError) err = NULL;
	MountPlan *plan = mount_plan_build(cfg, v, &err);

	assert_null(plan);
	assert_non_null(err);
	assert_int_equal(err->code, code);
	if (n1 && !strstr(err->message, n1))
		fail_msg("'%s' not in '%s'", n1, err->message);
	if (n2 && !strstr(err->message, n2))
		fail_msg("'%s' not in '%s'", n2, err->message);
}

static void
test_depth(void **state)
{
	assert_int_equal(mount_path_depth("/"), 0);
	assert_int_equal(mount_path_depth("/usr"), 1);
	assert_int_equal(mount_path_depth("/usr/bin/"), 2);
	assert_true(mount_path_is_under("/home/u", "/home"));
	assert_false(mount_path_is_under("/homes", "/home"));
	assert_true(mount_path_is_under("/x", "/"));
}

static void
test_default_system_dirs(void **state)
{
	g_autoptr(HostView) v = debian_host("/home/u/proj", "/home/u");
	g_autoptr(SbxConfig) cfg = sbx_config_new();
	g_autoptr(MountPlan) plan = NULL;
	const MountOp *op;

	cfg->fs_mode = SBX_FS_DEFAULT;
	plan = build_ok(cfg, v);
	op = first_op(plan);
	assert_int_equal(op->kind, MOUNT_OP_TMPFS);
	assert_string_equal(op->dest, "/");
	op = must_op(plan, MOUNT_OP_BIND, "/usr");
	assert_non_null(op);
	assert_true(op->flags & MOUNT_OP_F_RDONLY);
	assert_string_equal(op->source, "/usr");
	assert_non_null(find_op(plan, MOUNT_OP_BIND, "/etc", NULL));
	/* merged-/usr symlinks are recreated, not bound */
	op = must_op(plan, MOUNT_OP_SYMLINK, "/bin");
	assert_non_null(op);
	assert_string_equal(op->source, "usr/bin");
	assert_null(find_op(plan, MOUNT_OP_BIND, "/bin", NULL));
	assert_non_null(find_op(plan, MOUNT_OP_SYMLINK, "/vmlinuz", NULL));
	/* the host's /tmp, /run, /home, /proc, /dev are never bound */
	assert_null(find_op(plan, MOUNT_OP_BIND, "/tmp", NULL));
	assert_null(find_op(plan, MOUNT_OP_BIND, "/run", NULL));
	assert_null(find_op(plan, MOUNT_OP_BIND, "/home", NULL));
	assert_null(find_op(plan, MOUNT_OP_BIND, "/dev", NULL));
	assert_null(find_op(plan, MOUNT_OP_BIND, "/proc", NULL));
	op = must_op(plan, MOUNT_OP_TMPFS, "/tmp");
	assert_non_null(op);
	assert_int_equal(op->mode, 01777);
	assert_non_null(find_op(plan, MOUNT_OP_TMPFS, "/var/tmp", NULL));
	assert_non_null(find_op(plan, MOUNT_OP_TMPFS, "/run", NULL));
	assert_non_null(find_op(plan, MOUNT_OP_TMPFS, "/home", NULL));
	assert_non_null(find_op(plan, MOUNT_OP_MKDIR, "/home/u", NULL));
	assert_non_null(find_op(plan, MOUNT_OP_DEV, "/dev", NULL));
	assert_non_null(find_op(plan, MOUNT_OP_PROC, "/proc", NULL));
	op = must_op(plan, MOUNT_OP_BIND, "/sys");
	assert_non_null(op);
	assert_true(op->flags & MOUNT_OP_F_RDONLY);
	/* /var/tmp covers part of the read-only /var */
	assert_true(op_index(plan, MOUNT_OP_BIND, "/var") < op_index(plan, MOUNT_OP_TMPFS, "/var/tmp"));
	assert_string_equal(plan->workdir, "/home/u/proj");
}

static void
test_default_cwd_in_home(void **state)
{
	g_autoptr(HostView) v = debian_host("/home/u/proj/src/lib", "/home/u");
	g_autoptr(SbxConfig) cfg = sbx_config_new();
	g_autoptr(MountPlan) plan = NULL;
	int home, top, cwd;

	cfg->fs_mode = SBX_FS_DEFAULT;
	plan = build_ok(cfg, v);
	home = op_index(plan, MOUNT_OP_TMPFS, "/home");
	top = op_index(plan, MOUNT_OP_OVERLAY, "/home/u/proj");
	cwd = op_index(plan, MOUNT_OP_BIND, "/home/u/proj/src/lib");
	assert_true(home < top);
	assert_true(top < cwd);
	assert_false(((MountOp *)g_ptr_array_index(plan->ops, cwd))->flags & MOUNT_OP_F_RDONLY);
	assert_int_equal(plan->n_overlays, 1);
	assert_int_equal(plan->warnings->len, 0);
}

static void
test_default_cwd_is_project_top(void **state)
{
	g_autoptr(HostView) v = debian_host("/home/u/proj", "/home/u");
	g_autoptr(SbxConfig) cfg = sbx_config_new();
	g_autoptr(MountPlan) plan = NULL;

	cfg->fs_mode = SBX_FS_DEFAULT;
	plan = build_ok(cfg, v);
	assert_non_null(find_op(plan, MOUNT_OP_BIND, "/home/u/proj", NULL));
	assert_int_equal(plan->n_overlays, 0);
}

static void
test_default_cwd_is_home_warns(void **state)
{
	g_autoptr(HostView) v = debian_host("/home/u", "/home/u");
	g_autoptr(SbxConfig) cfg = sbx_config_new();
	g_autoptr(MountPlan) plan = NULL;

	cfg->fs_mode = SBX_FS_DEFAULT;
	plan = build_ok(cfg, v);
	assert_non_null(find_op(plan, MOUNT_OP_BIND, "/home/u", NULL));
	assert_true(has_warning(plan, "your home"));
}

static void
test_default_cwd_outside_home(void **state)
{
	g_autoptr(HostView) v = debian_host("/opt/proj/sub", "/home/u");
	g_autoptr(SbxConfig) cfg = sbx_config_new();
	g_autoptr(MountPlan) plan = NULL;

	cfg->fs_mode = SBX_FS_DEFAULT;
	plan = build_ok(cfg, v);
	/* first component below the mount point "/" */
	assert_true(op_index(plan, MOUNT_OP_BIND, "/opt") < op_index(plan, MOUNT_OP_OVERLAY, "/opt"));
	assert_non_null(find_op(plan, MOUNT_OP_BIND, "/opt/proj/sub", NULL));
	assert_non_null(find_op(plan, MOUNT_OP_TMPFS, "/home", NULL));
}

static void
test_default_home_unset(void **state)
{
	g_autoptr(HostView) v = debian_host("/home/u/x/y", NULL);
	g_autoptr(SbxConfig) cfg = sbx_config_new();
	g_autoptr(MountPlan) plan = NULL;

	/* $HOME unset: the passwd home is still known and hidden, and the
	 * project folder is below it, never the home itself */
	v->pw_home = g_strdup("/home/u");
	cfg->fs_mode = SBX_FS_DEFAULT;
	plan = build_ok(cfg, v);
	assert_non_null(find_op(plan, MOUNT_OP_TMPFS, "/home", NULL));
	assert_non_null(find_op(plan, MOUNT_OP_MKDIR, "/home/u", NULL));
	assert_null(find_op(plan, MOUNT_OP_OVERLAY, "/home/u", NULL));
	assert_null(find_op(plan, MOUNT_OP_BIND, "/home/u", NULL));
	assert_non_null(find_op(plan, MOUNT_OP_OVERLAY, "/home/u/x", NULL));
	assert_non_null(find_op(plan, MOUNT_OP_BIND, "/home/u/x/y", NULL));
}

static void
test_default_home_unknown(void **state)
{
	g_autoptr(HostView) v = debian_host("/home/u/x/y", NULL);
	g_autoptr(SbxConfig) cfg = sbx_config_new();
	g_autoptr(MountPlan) plan = NULL;

	/* no home known at all: below /home, go two components down */
	cfg->fs_mode = SBX_FS_DEFAULT;
	plan = build_ok(cfg, v);
	assert_null(find_op(plan, MOUNT_OP_OVERLAY, "/home/u", NULL));
	assert_non_null(find_op(plan, MOUNT_OP_OVERLAY, "/home/u/x", NULL));
}

static void
test_default_home_lies(void **state)
{
	g_autoptr(HostView) v = debian_host("/home/u/x/y", "/opt/fakehome");
	g_autoptr(SbxConfig) cfg = sbx_config_new();
	g_autoptr(MountPlan) plan = NULL;

	/* $HOME points elsewhere and the passwd home is outside /home: both
	 * hidden, and the real home is not the project folder */
	v->pw_home = g_strdup("/srv/home/u");
	cfg->fs_mode = SBX_FS_DEFAULT;
	plan = build_ok(cfg, v);
	assert_non_null(find_op(plan, MOUNT_OP_TMPFS, "/opt/fakehome", NULL));
	assert_non_null(find_op(plan, MOUNT_OP_TMPFS, "/srv/home/u", NULL));
	assert_non_null(find_op(plan, MOUNT_OP_OVERLAY, "/home/u/x", NULL));
	assert_null(find_op(plan, MOUNT_OP_OVERLAY, "/home/u", NULL));
}

static void
test_default_home_is_slash_home(void **state)
{
	g_autoptr(HostView) v = debian_host("/home/u/x/y", "/home");
	g_autoptr(SbxConfig) cfg = sbx_config_new();
	g_autoptr(MountPlan) plan = NULL;

	/* HOME=/home must not make a whole home directory the project */
	v->pw_home = g_strdup("/home/u");
	cfg->fs_mode = SBX_FS_DEFAULT;
	plan = build_ok(cfg, v);
	assert_null(find_op(plan, MOUNT_OP_OVERLAY, "/home/u", NULL));
	assert_non_null(find_op(plan, MOUNT_OP_OVERLAY, "/home/u/x", NULL));
}

static void
test_default_cwd_on_network_mount(void **state)
{
	g_autoptr(HostView) v = debian_host("/srv/data/team/proj", "/home/u");
	g_autoptr(SbxConfig) cfg = sbx_config_new();
	g_autoptr(MountPlan) plan = NULL;

	cfg->fs_mode = SBX_FS_DEFAULT;
	plan = build_ok(cfg, v);
	/* first component below CWD's mount point /srv/data */
	assert_non_null(find_op(plan, MOUNT_OP_OVERLAY, "/srv/data/team", NULL));
	assert_non_null(find_op(plan, MOUNT_OP_BIND, "/srv/data/team/proj", NULL));
}

static void
test_default_cwd_under_tmp(void **state)
{
	g_autoptr(HostView) v = debian_host("/tmp/build/x/y", "/home/u");
	g_autoptr(SbxConfig) cfg = sbx_config_new();
	g_autoptr(MountPlan) plan = NULL;

	cfg->fs_mode = SBX_FS_DEFAULT;
	plan = build_ok(cfg, v);
	/* the private /tmp first, then CWD inside it; no overlay of
	 * /tmp/build, which could expose other programs' sockets */
	assert_true(op_index(plan, MOUNT_OP_TMPFS, "/tmp") <
		    op_index(plan, MOUNT_OP_BIND, "/tmp/build/x/y"));
	assert_null(find_op(plan, MOUNT_OP_OVERLAY, "/tmp/build", NULL));
	assert_int_equal(plan->n_overlays, 0);
}

static void
test_default_cwd_under_var_tmp(void **state)
{
	g_autoptr(HostView) v = debian_host("/var/tmp/build/x", "/home/u");
	g_autoptr(SbxConfig) cfg = sbx_config_new();
	g_autoptr(MountPlan) plan = NULL;

	cfg->fs_mode = SBX_FS_DEFAULT;
	plan = build_ok(cfg, v);
	/* like /tmp: the private /var/tmp first, then only CWD inside it; no
	 * overlay of /var or /var/tmp/build bringing the host's /var/tmp back */
	assert_true(op_index(plan, MOUNT_OP_TMPFS, "/var/tmp") <
		    op_index(plan, MOUNT_OP_BIND, "/var/tmp/build/x"));
	assert_null(find_op(plan, MOUNT_OP_OVERLAY, "/var", NULL));
	assert_null(find_op(plan, MOUNT_OP_OVERLAY, "/var/tmp/build", NULL));
	assert_null(find_op(plan, MOUNT_OP_BIND, "/var/tmp", NULL));
	assert_int_equal(plan->n_overlays, 0);
	assert_int_equal(plan->warnings->len, 0);
}

static void
test_default_cwd_unshared(void **state)
{
	static const char *const cwds[] = { "/", "/tmp", "/var/tmp", "/home", "/proc/self",
					    "/run/user/1000" };

	for (gsize i = 0; i < G_N_ELEMENTS(cwds); i++) {
		g_autoptr(HostView) v = debian_host(cwds[i], "/home/u");
		g_autoptr(SbxConfig) cfg = sbx_config_new();
		g_autoptr(MountPlan) plan = NULL;

		cfg->fs_mode = SBX_FS_DEFAULT;
		plan = build_ok(cfg, v);
		assert_null(find_op(plan, MOUNT_OP_BIND, cwds[i], NULL));
		assert_true(has_warning(plan, "not shared"));
	}
}

static void
test_default_parents_write(void **state)
{
	g_autoptr(HostView) v = debian_host("/home/u/proj/sub", "/home/u");
	g_autoptr(SbxConfig) cfg = sbx_config_new();
	g_autoptr(MountPlan) plan = NULL;
	const MountOp *op;

	cfg->fs_mode = SBX_FS_DEFAULT;
	cfg->parents_write = TRUE;
	plan = build_ok(cfg, v);
	assert_null(find_op(plan, MOUNT_OP_OVERLAY, "/home/u/proj", NULL));
	op = must_op(plan, MOUNT_OP_BIND, "/home/u/proj");
	assert_non_null(op);
	assert_false(op->flags & MOUNT_OP_F_RDONLY);
}

static void
test_default_home_outside_home_dir(void **state)
{
	g_autoptr(HostView) v = debian_host("/srv/p", "/root");
	g_autoptr(SbxConfig) cfg = sbx_config_new();
	g_autoptr(MountPlan) plan = NULL;

	cfg->fs_mode = SBX_FS_DEFAULT;
	plan = build_ok(cfg, v);
	/* /root bound read-only (top-level), then hidden by a scratch */
	assert_true(op_index(plan, MOUNT_OP_BIND, "/root") < op_index(plan, MOUNT_OP_TMPFS, "/root"));
}

static void
test_workdir_option(void **state)
{
	g_autoptr(HostView) v = debian_host("/home/u", "/home/u");
	g_autoptr(SbxConfig) cfg = sbx_config_new();
	g_autoptr(MountPlan) plan = NULL;

	cfg->fs_mode = SBX_FS_DEFAULT;
	cfg->workdir = g_strdup("/home/u/w/a");
	host_view_add_path(v, "/home/u/w/a", "/home/u/w/a", HOST_TYPE_DIR, 0);
	plan = build_ok(cfg, v);
	assert_string_equal(plan->workdir, "/home/u/w/a");
	assert_non_null(find_op(plan, MOUNT_OP_OVERLAY, "/home/u/w", NULL));
	assert_non_null(find_op(plan, MOUNT_OP_BIND, "/home/u/w/a", NULL));
	assert_null(find_op(plan, MOUNT_OP_BIND, "/home/u", NULL));
	assert_false(has_warning(plan, "your home"));
}

static void
test_write_file_and_read(void **state)
{
	g_autoptr(HostView) v = debian_host("/home/u/p", "/home/u");
	g_autoptr(SbxConfig) cfg = sbx_config_new();
	g_autoptr(MountPlan) plan = NULL;
	const MountOp *op;

	cfg->fs_mode = SBX_FS_DEFAULT;
	host_view_add_path(v, "/home/u/out.txt", "/home/u/out.txt", HOST_TYPE_FILE, 0);
	host_view_add_path(v, "/opt/sdk", "/opt/sdk", HOST_TYPE_DIR, 0);
	host_view_add_path(v, "/var/cache/x", "/var/cache/x", HOST_TYPE_DIR, 0);
	host_view_add_path(v, "/srv/scratch", "/srv/scratch", HOST_TYPE_DIR, 0);
	sbx_config_add_mount(cfg, SBX_MOUNT_WRITE, "/home/u/out.txt");
	sbx_config_add_mount(cfg, SBX_MOUNT_READ, "/opt/sdk");
	sbx_config_add_mount(cfg, SBX_MOUNT_OVERLAY, "/var/cache/x");
	sbx_config_add_mount(cfg, SBX_MOUNT_TMPFS, "/srv/scratch");
	plan = build_ok(cfg, v);
	op = must_op(plan, MOUNT_OP_BIND, "/home/u/out.txt");
	assert_non_null(op);
	assert_true(op->flags & MOUNT_OP_F_FILE);
	assert_false(op->flags & MOUNT_OP_F_RDONLY);
	/* the file lives in the /home scratch: mounted after it */
	assert_true(op_index(plan, MOUNT_OP_TMPFS, "/home") <
		    op_index(plan, MOUNT_OP_BIND, "/home/u/out.txt"));
	op = must_op(plan, MOUNT_OP_BIND, "/opt/sdk");
	assert_true(op->flags & MOUNT_OP_F_RDONLY);
	assert_non_null(find_op(plan, MOUNT_OP_OVERLAY, "/var/cache/x", NULL));
	assert_non_null(find_op(plan, MOUNT_OP_TMPFS, "/srv/scratch", NULL));
}

static void
test_nested_write_read(void **state)
{
	g_autoptr(HostView) v = debian_host("/home/u/p", "/home/u");
	g_autoptr(SbxConfig) cfg = sbx_config_new();
	g_autoptr(MountPlan) plan = NULL;

	cfg->fs_mode = SBX_FS_DEFAULT;
	host_view_add_path(v, "/srv/a", "/srv/a", HOST_TYPE_DIR, 0);
	host_view_add_path(v, "/srv/a/b", "/srv/a/b", HOST_TYPE_DIR, 0);
	host_view_add_path(v, "/srv/c", "/srv/c", HOST_TYPE_DIR, 0);
	host_view_add_path(v, "/srv/c/d/e", "/srv/c/d/e", HOST_TYPE_DIR, 0);
	/* -w inside a -M tree, given child first: order still parent first */
	sbx_config_add_mount(cfg, SBX_MOUNT_WRITE, "/srv/a/b");
	sbx_config_add_mount(cfg, SBX_MOUNT_READ, "/srv/a");
	/* -M inside a -w tree */
	sbx_config_add_mount(cfg, SBX_MOUNT_WRITE, "/srv/c");
	sbx_config_add_mount(cfg, SBX_MOUNT_READ, "/srv/c/d/e");
	plan = build_ok(cfg, v);
	assert_true(op_index(plan, MOUNT_OP_BIND, "/srv/a") < op_index(plan, MOUNT_OP_BIND, "/srv/a/b"));
	assert_true(op_index(plan, MOUNT_OP_BIND, "/srv/c") < op_index(plan, MOUNT_OP_BIND, "/srv/c/d/e"));
	assert_true(must_op(plan, MOUNT_OP_BIND, "/srv/a")->flags & MOUNT_OP_F_RDONLY);
	assert_false(must_op(plan, MOUNT_OP_BIND, "/srv/a/b")->flags & MOUNT_OP_F_RDONLY);
	assert_true(must_op(plan, MOUNT_OP_BIND, "/srv/c/d/e")->flags & MOUNT_OP_F_RDONLY);
	/* a user -M of a top-level dir covers the system bind (same depth, later) */
	assert_true(op_index(plan, MOUNT_OP_BIND, "/srv") < op_index(plan, MOUNT_OP_BIND, "/srv/a"));
}

static void
test_symlinked_path(void **state)
{
	g_autoptr(HostView) v = debian_host("/home/u/p", "/home/u");
	g_autoptr(SbxConfig) cfg = sbx_config_new();
	g_autoptr(MountPlan) plan = NULL;
	const MountOp *op;

	cfg->fs_mode = SBX_FS_DEFAULT;
	host_view_add_path(v, "/home/u/data", "/srv/big/data", HOST_TYPE_DIR, 0);
	sbx_config_add_mount(cfg, SBX_MOUNT_WRITE, "/home/u/data");
	plan = build_ok(cfg, v);
	op = must_op(plan, MOUNT_OP_BIND, "/home/u/data");
	assert_non_null(op);
	/* the bind source is the resolved path, the name stays the user's */
	assert_string_equal(op->source, "/srv/big/data");
}

/* Issue 14: a link a sandbox could have planted refuses every path option. */
static void
test_planted_link_refused(void **state)
{
	static const SbxMountKind kinds[] = { SBX_MOUNT_WRITE, SBX_MOUNT_READ, SBX_MOUNT_OVERLAY,
					      SBX_MOUNT_TMPFS, SBX_MOUNT_EMPTY_FILE };

	for (gsize i = 0; i < G_N_ELEMENTS(kinds); i++) {
		g_autoptr(HostView) v = debian_host("/home/u/p", "/home/u");
		g_autoptr(SbxConfig) cfg = sbx_config_new();

		cfg->fs_mode = SBX_FS_DEFAULT;
		host_view_add_planted_link(v, "/home/u/p/build", "/home/u/p/build", "../../../home/u");
		sbx_config_add_mount(cfg, kinds[i], "/home/u/p/build");
		build_fails(cfg, v, SBX_ERR_INVALID_FOLDER, "/home/u/p/build -> ../../../home/u",
			    "planted");
	}
	{
		g_autoptr(HostView) v = debian_host("/home/u/p", "/home/u");
		g_autoptr(SbxConfig) cfg = sbx_config_new();

		cfg->fs_mode = SBX_FS_DEFAULT;
		cfg->workdir = g_strdup("/home/u/p/w");
		host_view_add_planted_link(v, "/home/u/p/w", "/home/u/p/w", "/home/u");
		build_fails(cfg, v, SBX_ERR_INVALID_FOLDER, "-W /home/u/p/w", "/home/u/p/w -> /home/u");
	}
}

/* Issue 14: settings files under a writable bind are pinned read-only at
 * the place the sandbox sees them, with every directory in between pinned
 * (no rename); files elsewhere are left alone. */
static void
test_settings_files_pinned(void **state)
{
	g_autoptr(HostView) v = debian_host("/home/u/p", "/home/u");
	g_autoptr(SbxConfig) cfg = sbx_config_new();
	g_autoptr(MountPlan) plan = NULL;

	cfg->fs_mode = SBX_FS_DEFAULT;
	host_view_add_path(v, "/home/u/p/build.args", "/home/u/p/build.args", HOST_TYPE_FILE, 0);
	host_view_add_path(v, "/home/u/p/conf/net/allow.txt", "/home/u/p/conf/net/allow.txt",
			   HOST_TYPE_FILE, 0);
	host_view_add_path(v, "/home/u/out", "/srv/big/out", HOST_TYPE_DIR, 0);
	host_view_add_path(v, "/srv/big/out/debug.log", "/srv/big/out/debug.log", HOST_TYPE_FILE, 0);
	host_view_add_path(v, "/etc/sbx/deny.json", "/etc/sbx/deny.json", HOST_TYPE_FILE, 0);
	g_ptr_array_add(cfg->arg_files, g_strdup("/home/u/p/build.args"));
	g_ptr_array_add(cfg->allow_files, g_strdup("/home/u/p/conf/net/allow.txt"));
	cfg->debug_log = g_strdup("/srv/big/out/debug.log");
	cfg->log_file = g_strdup("/etc/sbx/deny.json");
	sbx_config_add_mount(cfg, SBX_MOUNT_WRITE, "/home/u/out");
	plan = build_ok(cfg, v);
	assert_true(must_op(plan, MOUNT_OP_PIN, "/home/u/p/build.args")->flags & MOUNT_OP_F_RDONLY);
	assert_true(must_op(plan, MOUNT_OP_PIN, "/home/u/p/conf/net/allow.txt")->flags &
		    MOUNT_OP_F_RDONLY);
	assert_false(must_op(plan, MOUNT_OP_PIN, "/home/u/p/conf")->flags & MOUNT_OP_F_RDONLY);
	assert_false(must_op(plan, MOUNT_OP_PIN, "/home/u/p/conf/net")->flags & MOUNT_OP_F_RDONLY);
	/* a -w bind whose name differs from its source: pinned where it shows */
	assert_true(must_op(plan, MOUNT_OP_PIN, "/home/u/out/debug.log")->flags & MOUNT_OP_F_RDONLY);
	assert_null(find_op(plan, MOUNT_OP_PIN, "/srv/big/out/debug.log", NULL));
	/* read-only where it is: nothing to pin; the writable root itself
	 * is a mount point already */
	assert_null(find_op(plan, MOUNT_OP_PIN, "/etc/sbx/deny.json", NULL));
	assert_null(find_op(plan, MOUNT_OP_PIN, "/home/u/p", NULL));
	/* after the bind that shows them */
	assert_true(op_index(plan, MOUNT_OP_BIND, "/home/u/p") <
		    op_index(plan, MOUNT_OP_PIN, "/home/u/p/build.args"));
}

/* Issue 14: --proc=host is the only way the applier may bind the host's /proc. */
static void
test_proc_host_flag(void **state)
{
	g_autoptr(HostView) v = debian_host("/home/u/p", "/home/u");
	g_autoptr(SbxConfig) cfg = sbx_config_new();
	g_autoptr(MountPlan) plan = NULL;
	g_autoptr(MountPlan) plan2 = NULL;

	cfg->fs_mode = SBX_FS_DEFAULT;
	plan = build_ok(cfg, v);
	assert_false(must_op(plan, MOUNT_OP_PROC, "/proc")->flags & MOUNT_OP_F_HOST_PROC);
	cfg->proc_host = TRUE;
	plan2 = build_ok(cfg, v);
	assert_true(must_op(plan2, MOUNT_OP_PROC, "/proc")->flags & MOUNT_OP_F_HOST_PROC);
}

static void
test_validation_errors(void **state)
{
	g_autoptr(HostView) v = debian_host("/home/u/p", "/home/u");

	host_view_add_path(v, "/home/u/none", NULL, HOST_TYPE_MISSING, ENOENT);
	host_view_add_path(v, "/home/u/loop", NULL, HOST_TYPE_MISSING, ELOOP);
	host_view_add_path(v, "/home/u/f", "/home/u/f", HOST_TYPE_FILE, 0);
	host_view_add_path(v, "/home/u/d", "/home/u/d", HOST_TYPE_DIR, 0);
	host_view_add_path(v, "/home/u/d2", "/home/u/d", HOST_TYPE_DIR, 0);
	host_view_add_path(v, "/tmp", "/tmp", HOST_TYPE_DIR, 0);
	host_view_add_path(v, "/home/u/sock", "/home/u/sock", HOST_TYPE_OTHER, 0);
	host_view_add_path(v, "/home/u/d/new.log", "/home/u/d/new.log", HOST_TYPE_MISSING, 0);
	host_view_add_path(v, "/nodir/x.log", NULL, HOST_TYPE_MISSING, ENOENT);
	struct {
		SbxMountKind kind;
		const char *path;
		int code;
		const char *needle;
	} cases[] = {
		{ SBX_MOUNT_WRITE, "/home/u/none", SBX_ERR_PATH_MISSING, "-w /home/u/none" },
		{ SBX_MOUNT_READ, "rel/path", SBX_ERR_NOT_ABSOLUTE, "-M rel/path" },
		{ SBX_MOUNT_WRITE, "/home/u/loop", SBX_ERR_INVALID_FOLDER, "loop" },
		{ SBX_MOUNT_TMPFS, "/home/u/f", SBX_ERR_INVALID_FOLDER, "-e /home/u/f" },
		{ SBX_MOUNT_OVERLAY, "/home/u/f", SBX_ERR_INVALID_FOLDER, "not a directory" },
		{ SBX_MOUNT_WRITE, "/tmp", SBX_ERR_TMP_REMOUNT, "/tmp" },
		{ SBX_MOUNT_WRITE, "/home/u/sock", SBX_ERR_INVALID_FOLDER, "/home/u/sock" },
		{ SBX_MOUNT_EMPTY_FILE, "/nodir/x.log", SBX_ERR_PATH_MISSING, "/nodir/x.log" },
		{ SBX_MOUNT_EMPTY_FILE, "/home/u/d", SBX_ERR_INVALID_FOLDER, "not a regular file" },
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(SbxConfig) cfg = sbx_config_new();

		cfg->fs_mode = SBX_FS_DEFAULT;
		sbx_config_add_mount(cfg, cases[i].kind, cases[i].path);
		build_fails(cfg, v, cases[i].code, cases[i].needle, NULL);
	}
	{
		/* both -w and -M of the same tree, even under two names */
		g_autoptr(SbxConfig) cfg = sbx_config_new();

		cfg->fs_mode = SBX_FS_DEFAULT;
		sbx_config_add_mount(cfg, SBX_MOUNT_WRITE, "/home/u/d");
		sbx_config_add_mount(cfg, SBX_MOUNT_READ, "/home/u/d2");
		build_fails(cfg, v, SBX_ERR_READ_AND_WRITE, "/home/u/d", "-M");
	}
	{
		g_autoptr(SbxConfig) cfg = sbx_config_new();
		g_autoptr(MountPlan) plan = NULL;

		cfg->fs_mode = SBX_FS_DEFAULT;
		sbx_config_add_mount(cfg, SBX_MOUNT_EMPTY_FILE, "/home/u/d/new.log");
		plan = build_ok(cfg, v);
		assert_non_null(find_op(plan, MOUNT_OP_EMPTY_FILE, "/home/u/d/new.log", NULL));
	}
	{
		g_autoptr(SbxConfig) cfg = sbx_config_new();

		cfg->fs_mode = SBX_FS_DEFAULT;
		cfg->workdir = g_strdup("/home/u/f");
		build_fails(cfg, v, SBX_ERR_INVALID_FOLDER, "-W /home/u/f", NULL);
	}
}

static void
test_custom_mode(void **state)
{
	g_autoptr(HostView) v = debian_host("/home/u/p", "/home/u");
	g_autoptr(SbxConfig) cfg = sbx_config_new();
	g_autoptr(MountPlan) plan = NULL;
	const MountOp *op;

	cfg->fs_mode = SBX_FS_CUSTOM;
	cfg->custom_root = g_strdup("/home/u/root");
	cfg->overlay_dir = g_strdup("/home/u/ovl");
	host_view_add_path(v, "/home/u/root", "/home/u/root", HOST_TYPE_DIR, 0);
	host_view_add_path(v, "/home/u/ovl", "/home/u/ovl", HOST_TYPE_DIR, 0);
	host_view_add_path(v, "/usr", "/usr", HOST_TYPE_DIR, 0);
	host_view_add_path(v, "/lib64", "/usr/lib64", HOST_TYPE_DIR, 0);
	sbx_config_add_mount(cfg, SBX_MOUNT_OVERLAY, "/usr");
	sbx_config_add_mount(cfg, SBX_MOUNT_READ, "/lib64");
	plan = build_ok(cfg, v);
	op = first_op(plan);
	assert_int_equal(op->kind, MOUNT_OP_OVERLAY);
	assert_string_equal(op->dest, "/");
	assert_string_equal(op->source, "/home/u/root");
	assert_non_null(find_op(plan, MOUNT_OP_OVERLAY, "/usr", NULL));
	op = must_op(plan, MOUNT_OP_BIND, "/lib64");
	assert_non_null(op);
	assert_string_equal(op->source, "/usr/lib64");
	/* only what is listed */
	assert_null(find_op(plan, MOUNT_OP_BIND, "/etc", NULL));
	assert_null(find_op(plan, MOUNT_OP_BIND, "/sys", NULL));
	assert_non_null(find_op(plan, MOUNT_OP_TMPFS, "/tmp", NULL));
	assert_non_null(find_op(plan, MOUNT_OP_DEV, "/dev", NULL));
	assert_non_null(find_op(plan, MOUNT_OP_BIND, "/home/u/p", NULL));
	assert_int_equal(plan->n_overlays, 2);
	/* an empty writable $HOME, as in the original */
	assert_non_null(find_op(plan, MOUNT_OP_TMPFS, "/home/u", NULL));

	{
		g_autoptr(SbxConfig) bad = sbx_config_new();

		bad->fs_mode = SBX_FS_DEFAULT;
		bad->overlay_dir = g_strdup("/home/u/ovl");
		build_fails(bad, v, SBX_ERR_OVERLAY_NOT_SET, "-d", NULL);
	}
	{
		g_autoptr(SbxConfig) bad = sbx_config_new();

		bad->fs_mode = SBX_FS_CUSTOM;
		bad->custom_root = g_strdup("/nope");
		host_view_add_path(v, "/nope", NULL, HOST_TYPE_MISSING, ENOENT);
		build_fails(bad, v, SBX_ERR_PATH_MISSING, "-o /nope", NULL);
	}
}

/* The original's usage: -o DIR -d DIR, DIR empty (or new).  An empty ROOT
 * is a fresh tmpfs root and -d may be inside it; a ROOT with content is a
 * lower layer and -d inside it is refused. */
static void
test_custom_mode_empty_root(void **state)
{
	g_autoptr(HostView) v = debian_host("/home/u/p", "/home/u");
	g_autoptr(SbxConfig) cfg = sbx_config_new();
	g_autoptr(MountPlan) plan = NULL;
	const MountOp *op;

	cfg->fs_mode = SBX_FS_CUSTOM;
	cfg->custom_root = g_strdup("/home/u/sbx");
	cfg->overlay_dir = g_strdup("/home/u/sbx");
	host_view_add_path(v, "/home/u/sbx", "/home/u/sbx", HOST_TYPE_DIR, 0);
	host_view_add_path(v, "/usr", "/usr", HOST_TYPE_DIR, 0);
	sbx_config_add_mount(cfg, SBX_MOUNT_OVERLAY, "/usr");
	build_fails(cfg, v, SBX_ERR_ILLEGAL_CONFIG, "-d /home/u/sbx is inside -o", "not empty");

	v->custom_root_empty = TRUE;
	plan = build_ok(cfg, v);
	op = first_op(plan);
	assert_int_equal(op->kind, MOUNT_OP_TMPFS);
	assert_string_equal(op->dest, "/");
	assert_non_null(find_op(plan, MOUNT_OP_OVERLAY, "/usr", NULL));
	assert_non_null(find_op(plan, MOUNT_OP_TMPFS, "/home/u", NULL));
	assert_int_equal(plan->n_overlays, 1);
}

static void
test_hermetic_mode(void **state)
{
	g_autoptr(HostView) v = debian_host("/home/u/p", "/home/u");
	g_autoptr(SbxConfig) cfg = sbx_config_new();
	g_autoptr(MountPlan) plan = NULL;

	cfg->fs_mode = SBX_FS_HERMETIC;
	cfg->hermetic_dir = g_strdup("/home/u/h");
	host_view_add_path(v, "/home/u/h", "/home/u/h", HOST_TYPE_DIR, 0);
	host_view_add_path(v, "/usr", "/usr", HOST_TYPE_DIR, 0);
	sbx_config_add_mount(cfg, SBX_MOUNT_READ, "/usr");
	plan = build_ok(cfg, v);
	assert_int_equal(first_op(plan)->kind, MOUNT_OP_TMPFS);
	assert_null(find_op(plan, MOUNT_OP_PROC, "/proc", NULL));
	assert_null(find_op(plan, MOUNT_OP_BIND, "/etc", NULL));
	assert_non_null(find_op(plan, MOUNT_OP_BIND, "/usr", NULL));
	assert_non_null(find_op(plan, MOUNT_OP_BIND, "/home/u/h", NULL));
	assert_non_null(find_op(plan, MOUNT_OP_BIND, "/home/u/p", NULL));
	assert_non_null(find_op(plan, MOUNT_OP_DEV, "/dev", NULL));
	assert_non_null(find_op(plan, MOUNT_OP_TMPFS, "/tmp", NULL));
	assert_int_equal(plan->n_overlays, 0);

	mount_plan_free(g_steal_pointer(&plan));
	cfg->mount_proc = TRUE;
	plan = build_ok(cfg, v);
	assert_non_null(find_op(plan, MOUNT_OP_PROC, "/proc", NULL));

	sbx_config_add_mount(cfg, SBX_MOUNT_OVERLAY, "/usr");
	build_fails(cfg, v, SBX_ERR_ILLEGAL_CONFIG, "-k /usr", NULL);
}

static void
test_readonly_mode(void **state)
{
	g_autoptr(HostView) v = debian_host("/home/u/p/q", "/home/u");
	g_autoptr(SbxConfig) cfg = sbx_config_new();
	g_autoptr(MountPlan) plan = NULL;
	const MountOp *op;

	cfg->fs_mode = SBX_FS_READONLY;
	host_view_add_path(v, "/srv/out", "/srv/out", HOST_TYPE_DIR, 0);
	sbx_config_add_mount(cfg, SBX_MOUNT_WRITE, "/srv/out");
	plan = build_ok(cfg, v);
	op = first_op(plan);
	assert_int_equal(op->kind, MOUNT_OP_BIND);
	assert_string_equal(op->dest, "/");
	assert_string_equal(op->source, "/");
	assert_true(op->flags & MOUNT_OP_F_RDONLY);
	assert_non_null(find_op(plan, MOUNT_OP_TMPFS, "/tmp", NULL));
	assert_non_null(find_op(plan, MOUNT_OP_TMPFS, "/run", NULL));
	assert_non_null(find_op(plan, MOUNT_OP_DEV, "/dev", NULL));
	assert_non_null(find_op(plan, MOUNT_OP_PROC, "/proc", NULL));
	assert_non_null(find_op(plan, MOUNT_OP_BIND, "/home/u/p/q", NULL));
	assert_null(find_op(plan, MOUNT_OP_OVERLAY, "/home/u/p", NULL));
	assert_false(must_op(plan, MOUNT_OP_BIND, "/srv/out")->flags & MOUNT_OP_F_RDONLY);
	assert_null(find_op(plan, MOUNT_OP_TMPFS, "/home", NULL));
}

static void
test_resolv_conf_and_generated_files(void **state)
{
	g_autoptr(HostView) v = debian_host("/home/u/p", "/home/u");
	g_autoptr(SbxConfig) cfg = sbx_config_new();
	g_autoptr(MountPlan) plan = NULL;
	const char *target = "/run/systemd/resolve/stub-resolv.conf";
	const MountOp *op;

	cfg->fs_mode = SBX_FS_DEFAULT;
	v->resolv_target = g_strdup(target);
	plan = build_ok(cfg, v);
	op = must_op(plan, MOUNT_OP_BIND, target);
	assert_non_null(op);
	assert_true(op->flags & MOUNT_OP_F_RDONLY);
	assert_true(op_index(plan, MOUNT_OP_TMPFS, "/run") < op_index(plan, MOUNT_OP_BIND, target));

	/* mini-tapbox's resolv.conf replaces the host's at the link target */
	fs_plan_add_file(plan, "/etc/resolv.conf", "nameserver 10.0.2.3\n");
	assert_null(find_op(plan, MOUNT_OP_BIND, target, NULL));
	op = must_op(plan, MOUNT_OP_FILE, target);
	assert_non_null(op);
	assert_string_equal(op->contents, "nameserver 10.0.2.3\n");
	fs_plan_add_file(plan, "/etc/hosts", "10.0.2.2 host\n");
	assert_true(op_index(plan, MOUNT_OP_BIND, "/etc") < op_index(plan, MOUNT_OP_FILE, "/etc/hosts"));
	assert_depth_order(plan);
}

static void
test_tmpfs_size(void **state)
{
	g_autoptr(HostView) v = debian_host("/home/u/p", "/home/u");
	g_autoptr(SbxConfig) cfg = sbx_config_new();
	g_autoptr(MountPlan) plan = NULL;

	cfg->fs_mode = SBX_FS_DEFAULT;
	cfg->tmpfs_size = 64 << 20;
	plan = build_ok(cfg, v);
	assert_int_equal(plan->tmpfs_size, 64 << 20);
}

/* Issue 15: in every mode the writable scratch areas (/tmp, /dev/shm, -e)
 * are scratch ops of the one budget, /dev/shm after /dev; the default
 * budget is a quarter of the memory. */
static void
test_one_scratch_budget(void **state)
{
	static const SbxFsMode modes[] = { SBX_FS_DEFAULT, SBX_FS_READONLY, SBX_FS_HERMETIC,
					   SBX_FS_CUSTOM };

	for (gsize m = 0; m < G_N_ELEMENTS(modes); m++) {
		g_autoptr(HostView) v = debian_host("/home/u/p", "/home/u");
		g_autoptr(SbxConfig) cfg = sbx_config_new();
		g_autoptr(MountPlan) plan = NULL;

		host_view_add_path(v, "/srv", "/srv", HOST_TYPE_DIR, 0);
		host_view_add_path(v, "/opt", "/opt", HOST_TYPE_DIR, 0);
		v->mem_total = G_GUINT64_CONSTANT(8) << 30;
		cfg->fs_mode = modes[m];
		if (modes[m] == SBX_FS_HERMETIC)
			cfg->hermetic_dir = g_strdup("/srv");
		if (modes[m] == SBX_FS_CUSTOM)
			cfg->custom_root = g_strdup("/srv");
		sbx_config_add_mount(cfg, SBX_MOUNT_TMPFS, "/opt");
		plan = build_ok(cfg, v);
		assert_int_equal(plan->tmpfs_size, G_GUINT64_CONSTANT(2) << 30);
		assert_int_equal(must_op(plan, MOUNT_OP_TMPFS, "/dev/shm")->mode, 01777);
		assert_true(op_index(plan, MOUNT_OP_DEV, "/dev") <
			    op_index(plan, MOUNT_OP_TMPFS, "/dev/shm"));
		assert_int_equal(must_op(plan, MOUNT_OP_TMPFS, "/opt")->mode, 0755);
		assert_int_equal(must_op(plan, MOUNT_OP_TMPFS, "/tmp")->mode, 01777);
	}
}

static void
test_mountinfo_parse(void **state)
{
	g_autoptr(HostView) v = host_view_new();
	const HostMount *m;

	host_view_parse_mountinfo(v,
		"26 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n"
		"40 26 0:50 / /mnt/my\\040disk ro,nosuid shared:5 - fuse.sshfs host: rw\n"
		"41 26 0:51 / /net rw - autofs auto rw\n");
	assert_int_equal(v->mounts->len, 3);
	m = host_view_mount_of(v, "/mnt/my disk/x");
	assert_non_null(m);
	assert_string_equal(m->mount_point, "/mnt/my disk");
	assert_true(m->read_only);
	assert_true(host_fs_type_is_remote(m->fs_type));
	assert_true(host_fs_type_is_remote("autofs"));
	assert_true(host_fs_type_is_remote("nfs4"));
	assert_false(host_fs_type_is_remote("ext4"));
	assert_string_equal(host_view_mount_of(v, "/usr")->mount_point, "/");
}

static void
test_overlay_escape(void **state)
{
	g_autofree char *e = mount_escape_overlay_path("/a,b:c\\d e");

	assert_string_equal(e, "/a\\,b\\:c\\\\d e");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_default_system_dirs),
		cmocka_unit_test(test_default_cwd_in_home),
		cmocka_unit_test(test_default_cwd_is_project_top),
		cmocka_unit_test(test_default_cwd_is_home_warns),
		cmocka_unit_test(test_default_cwd_outside_home),
		cmocka_unit_test(test_default_home_unset),
		cmocka_unit_test(test_default_home_unknown),
		cmocka_unit_test(test_default_home_lies),
		cmocka_unit_test(test_default_home_is_slash_home),
		cmocka_unit_test(test_default_cwd_on_network_mount),
		cmocka_unit_test(test_default_cwd_under_tmp),
		cmocka_unit_test(test_default_cwd_under_var_tmp),
		cmocka_unit_test(test_default_cwd_unshared),
		cmocka_unit_test(test_default_parents_write),
		cmocka_unit_test(test_default_home_outside_home_dir),
		cmocka_unit_test(test_workdir_option),
		cmocka_unit_test(test_write_file_and_read),
		cmocka_unit_test(test_nested_write_read),
		cmocka_unit_test(test_symlinked_path),
		cmocka_unit_test(test_planted_link_refused),
		cmocka_unit_test(test_settings_files_pinned),
		cmocka_unit_test(test_proc_host_flag),
		cmocka_unit_test(test_validation_errors),
		cmocka_unit_test(test_custom_mode),
		cmocka_unit_test(test_custom_mode_empty_root),
		cmocka_unit_test(test_hermetic_mode),
		cmocka_unit_test(test_readonly_mode),
		cmocka_unit_test(test_resolv_conf_and_generated_files),
		cmocka_unit_test(test_tmpfs_size),
		cmocka_unit_test(test_one_scratch_budget),
		cmocka_unit_test(test_mountinfo_parse),
		cmocka_unit_test(test_overlay_escape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
