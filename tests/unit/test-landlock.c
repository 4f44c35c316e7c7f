/* SPDX-License-Identifier: MIT
 *
 * test-landlock — the pure half of src/landlock.c: which paths of a mount
 * plan get which write-side rights, and which rights each ABI handles.
 * (Enforcement is tested end to end in tests/integration/test_hardening.py.)
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <linux/landlock.h>
#include <string.h>

#include "src/landlock.h"

static MountOp *
op(MountOpKind kind, const char *dest, unsigned flags, const char *why)
{
	MountOp *o = g_new0(MountOp, 1);

	o->kind = kind;
	o->dest = g_strdup(dest);
	o->source = g_strdup(dest);
	o->flags = flags;
	o->why = why;
	return o;
}

static void
free_op(gpointer p)
{
	MountOp *o = p;

	g_free(o->dest);
	g_free(o->source);
	g_free(o);
}

/* "path:grant" for every rule, in order. */
static char *
describe(GPtrArray *ops)
{
	MountPlan plan = { .ops = ops };
	g_autoptr(GPtrArray) rules = sbx_landlock_rules_for_plan(&plan);
	GString *s = g_string_new(NULL);

	for (guint i = 0; i < rules->len; i++) {
		const SbxLandlockRule *r = g_ptr_array_index(rules, i);

		g_string_append_printf(s, "%s%s:%d", i ? " " : "", r->path, (int)r->grant);
	}
	return g_string_free(s, FALSE);
}

static void
test_default_mode_rules(void **state)
{
	g_autoptr(GPtrArray) ops = g_ptr_array_new_with_free_func(free_op);
	g_autofree char *got = NULL;

	(void)state;
	g_ptr_array_add(ops, op(MOUNT_OP_TMPFS, "/", 0, "new root"));
	g_ptr_array_add(ops, op(MOUNT_OP_BIND, "/usr", MOUNT_OP_F_RDONLY, "top-level"));
	g_ptr_array_add(ops, op(MOUNT_OP_BIND, "/.dockerenv",
				MOUNT_OP_F_RDONLY | MOUNT_OP_F_FILE, "top-level"));
	g_ptr_array_add(ops, op(MOUNT_OP_SYMLINK, "/bin", 0, "top-level"));
	g_ptr_array_add(ops, op(MOUNT_OP_TMPFS, "/tmp", 0, "private /tmp"));
	g_ptr_array_add(ops, op(MOUNT_OP_DEV, "/dev", 0, "minimal /dev"));
	g_ptr_array_add(ops, op(MOUNT_OP_PROC, "/proc", 0, "new /proc"));
	g_ptr_array_add(ops, op(MOUNT_OP_MKDIR, "/home/u", 0, "home scratch"));
	g_ptr_array_add(ops, op(MOUNT_OP_OVERLAY, "/home/u/proj", 0, "project folder"));
	g_ptr_array_add(ops, op(MOUNT_OP_BIND, "/home/u/proj/src", 0, "CWD"));
	g_ptr_array_add(ops, op(MOUNT_OP_BIND, "/data/out.txt", MOUNT_OP_F_FILE, "-w"));
	g_ptr_array_add(ops, op(MOUNT_OP_EMPTY_FILE, "/data/log", MOUNT_OP_F_FILE,
				"empty output file"));
	g_ptr_array_add(ops, op(MOUNT_OP_FILE, "/etc/resolv.conf",
				MOUNT_OP_F_RDONLY | MOUNT_OP_F_FILE, "generated"));
	got = describe(ops);
	/* never "/", the read-only binds or generated files */
	assert_string_equal(got, "/tmp:0 /dev:1 /dev/shm:0 /proc:1 /home/u/proj:0 /home/u/proj/src:0 "
				 "/data/out.txt:2 /data/log:2");
}

static void
test_custom_root_overlay_is_writable(void **state)
{
	g_autoptr(GPtrArray) ops = g_ptr_array_new_with_free_func(free_op);
	g_autofree char *got = NULL;

	(void)state;
	g_ptr_array_add(ops, op(MOUNT_OP_OVERLAY, "/", 0, "-o root"));
	g_ptr_array_add(ops, op(MOUNT_OP_BIND, "/", MOUNT_OP_F_RDONLY, "host tree"));
	got = describe(ops);
	assert_string_equal(got, "/:0");
}

static void
test_access_per_abi(void **state)
{
	const guint64 file_rights = LANDLOCK_ACCESS_FS_WRITE_FILE | (1ULL << 14) | (1ULL << 15);

	(void)state;
	assert_int_equal(sbx_landlock_handled_access(0), 0);
	/* reads are never handled: the mount namespace decides them */
	for (int abi = 1; abi <= 7; abi++) {
		guint64 h = sbx_landlock_handled_access(abi);

		assert_int_equal(h & (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR |
				      LANDLOCK_ACCESS_FS_EXECUTE), 0);
		assert_true(h & LANDLOCK_ACCESS_FS_WRITE_FILE);
		assert_true(h & LANDLOCK_ACCESS_FS_MAKE_REG);
		assert_int_equal(sbx_landlock_grant_access(SBX_LANDLOCK_TREE, abi), h);
		/* a rule on a file may carry file rights only */
		assert_int_equal(sbx_landlock_grant_access(SBX_LANDLOCK_FILE, abi) & ~file_rights, 0);
		assert_int_equal(sbx_landlock_grant_access(SBX_LANDLOCK_EXISTING, abi) & ~file_rights, 0);
		assert_int_equal(sbx_landlock_grant_access(SBX_LANDLOCK_EXISTING, abi) & ~h, 0);
	}
	assert_false(sbx_landlock_handled_access(1) & LANDLOCK_ACCESS_FS_REFER);
	assert_true(sbx_landlock_handled_access(2) & LANDLOCK_ACCESS_FS_REFER);
	assert_false(sbx_landlock_handled_access(2) & (1ULL << 14));   /* TRUNCATE: ABI 3 */
	assert_true(sbx_landlock_handled_access(3) & (1ULL << 14));
	assert_false(sbx_landlock_handled_access(4) & (1ULL << 15));   /* IOCTL_DEV: ABI 5 */
	assert_true(sbx_landlock_handled_access(5) & (1ULL << 15));
	assert_int_equal(sbx_landlock_scopes(5), 0);
	assert_int_equal(sbx_landlock_scopes(6), 3);   /* abstract unix sockets, signals */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_mode_rules),
		cmocka_unit_test(test_custom_root_overlay_is_writable),
		cmocka_unit_test(test_access_per_abi),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
