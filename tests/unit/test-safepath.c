/* SPDX-License-Identifier: MIT
 *
 * test-safepath.c — the planted-link rule of common/safepath.c on a real
 * temporary directory (the caller owns it, so every link in it is one a
 * sandbox could have planted) and on root's merged-/usr links.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "common/error.h"
#include "common/safepath.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int
setup_tmpdir(void **state)
{
	g_autofree char *tmpl = g_build_filename(g_get_tmp_dir(), "test-safepath-XXXXXX", NULL);
	char *dir = g_mkdtemp(g_steal_pointer(&tmpl));
	char *real;

	if (!dir)
		return -1;
	/* the walk's answer has no links: compare against the real path */
	real = realpath(dir, NULL);
	g_free(dir);
	*state = g_strdup(real);
	free(real);
	return 0;
}

static int
teardown_tmpdir(void **state)
{
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", (char *)*state);

	if (system(cmd) != 0)
		return -1;
	g_free(*state);
	return 0;
}

static char *
path_in(void **state, const char *rel)
{
	return g_build_filename((char *)*state, rel, NULL);
}

static void
test_plain_and_dotdot(void **state)
{
	g_autofree char *sub = path_in(state, "a/b");
	g_autofree char *twisty = path_in(state, "a/b/../b/./");
	g_autofree char *missing = path_in(state, "a/new.log");
	g_autofree char *expect_missing = path_in(state, "a/new.log");
	SbxPathInfo info;

	assert_int_equal(g_mkdir_with_parents(sub, 0700), 0);
	assert_true(sbx_path_resolve(twisty, FALSE, &info));
	assert_string_equal(info.canonical, sub);
	sbx_path_info_clear(&info);
	assert_false(sbx_path_resolve(missing, FALSE, &info));
	assert_int_equal(info.err, ENOENT);
	assert_null(info.link);
	sbx_path_info_clear(&info);
	assert_true(sbx_path_resolve(missing, TRUE, &info));
	assert_true(info.missing);
	assert_string_equal(info.canonical, expect_missing);
	sbx_path_info_clear(&info);
	assert_false(sbx_path_resolve("relative/path", FALSE, &info));
	assert_int_equal(info.err, EINVAL);
	sbx_path_info_clear(&info);
}

static void
test_own_links_refused(void **state)
{
	g_autofree char *real = path_in(state, "real");
	g_autofree char *link = path_in(state, "build");
	g_autofree char *through = path_in(state, "build/file");
	SbxPathInfo info;

	assert_int_equal(mkdir(real, 0700), 0);
	assert_int_equal(symlink("real", link), 0);
	/* as the last component and in the middle alike */
	for (int i = 0; i < 2; i++) {
		assert_false(sbx_path_resolve(i ? through : link, i != 0, &info));
		assert_int_equal(info.err, EPERM);
		assert_string_equal(info.link, link);
		assert_string_equal(info.target, "real");
		sbx_path_info_clear(&info);
	}
}

static void
test_root_links_followed(void **state)
{
	struct stat st;
	SbxPathInfo info;

	(void)state;
	/* Debian 12 and most current systems: /lib -> usr/lib, made by root */
	if (lstat("/lib", &st) < 0 || !S_ISLNK(st.st_mode) || st.st_uid != 0)
		skip();
	if (geteuid() == 0) {
		/* root can write every directory: no link can be trusted */
		assert_false(sbx_path_resolve("/lib/..", FALSE, &info));
		assert_string_equal(info.link, "/lib");
		sbx_path_info_clear(&info);
		return;
	}
	assert_true(sbx_path_resolve("/lib/..", FALSE, &info));
	/* ".." after a link is the parent of the link's target, as the kernel has it */
	assert_string_equal(info.canonical, "/usr");
	sbx_path_info_clear(&info);
}

static void
test_open_settings_file(void **state)
{
	g_autofree char *file = path_in(state, "args");
	g_autofree char *link = path_in(state, "args.link");
	g_autofree char *fifo = path_in(state, "fifo");
	g_autofree char *created = path_in(state, "new.log");
	g_autoptr(GError) err = NULL;
	g_autoptr(GError) err2 = NULL;
	g_autoptr(GError) err3 = NULL;
	int fd;

	assert_true(g_file_set_contents(file, "-x\n", -1, NULL));
	assert_int_equal(symlink(file, link), 0);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	fd = sbx_open_settings_file(file, O_RDONLY, "@", &err);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(sbx_open_settings_file(link, O_WRONLY | O_CREAT | O_APPEND, "-D", &err),
			 -1);
	assert_int_equal(err->code, SBX_ERR_ILLEGAL_CONFIG);
	assert_non_null(strstr(err->message, link));
	/* a FIFO without a reader: refused at once, never waited on */
	assert_int_equal(sbx_open_settings_file(fifo, O_WRONLY | O_CREAT | O_APPEND, "-D", &err2),
			 -1);
	assert_non_null(strstr(err2->message, "not a regular file"));
	fd = sbx_open_settings_file(created, O_WRONLY | O_CREAT | O_APPEND, "--log", &err3);
	assert_true(fd >= 0);
	close(fd);
	assert_true(g_file_test(created, G_FILE_TEST_IS_REGULAR));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_plain_and_dotdot, setup_tmpdir, teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_own_links_refused, setup_tmpdir, teardown_tmpdir),
		cmocka_unit_test(test_root_links_followed),
		cmocka_unit_test_setup_teardown(test_open_settings_file, setup_tmpdir,
						teardown_tmpdir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
