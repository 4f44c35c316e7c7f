/* SPDX-License-Identifier: MIT
 *
 * test-discarded.c — counting an overlay's upper directory and the line the
 * launcher prints (mounts/discarded.c), on a real temporary directory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "mounts/discarded.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void
write_file(const char *dir, const char *name, const char *contents)
{
	g_autofree char *p = g_build_filename(dir, name, NULL);

	assert_true(g_file_set_contents(p, contents, -1, NULL));
}

static void
test_count_files_sizes_and_symlinks(void **state)
{
	g_autofree char *dir = g_dir_make_tmp("test-discarded-XXXXXX", NULL);
	g_autofree char *sub = NULL, *deep = NULL, *link = NULL, *cmd = NULL;
	DiscardCount c;
	int fd;

	(void)state;
	assert_non_null(dir);
	sub = g_build_filename(dir, "a", NULL);
	deep = g_build_filename(dir, "a", "b", NULL);
	assert_int_equal(g_mkdir_with_parents(deep, 0755), 0);
	write_file(dir, "top", "12345");
	write_file(sub, "mid", "");
	write_file(deep, "low", "abc");
	/* a symlink counts as a file and is never followed */
	link = g_build_filename(dir, "loop", NULL);
	assert_int_equal(symlink("/", link), 0);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	discard_count_dir(fd, &c);
	assert_int_equal(c.files, 4);
	assert_int_equal(c.bytes, 8);
	assert_int_equal(c.deletions, 0);
	assert_false(c.partial);
	/* DIRFD is not consumed: a second count gives the same */
	discard_count_dir(fd, &c);
	assert_int_equal(c.files, 4);
	close(fd);
	cmd = g_strdup_printf("rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void
test_empty_dir_and_subtract(void **state)
{
	DiscardCount c = { .files = 3, .bytes = 10, .deletions = 1 };
	DiscardCount base = { .files = 5, .bytes = 4 };

	(void)state;
	discard_count_subtract(&c, &base);
	assert_int_equal(c.files, 0);
	assert_int_equal(c.bytes, 6);
	assert_int_equal(c.deletions, 1);
}

static void
test_describe(void **state)
{
	DiscardCount none = { 0 };
	DiscardCount some = { .files = 1843, .bytes = 41 * 1000 * 1000 };
	DiscardCount one = { .files = 1, .bytes = 3, .partial = TRUE };
	DiscardCount del = { .deletions = 2 };
	g_autofree char *a = NULL, *b = NULL, *c = NULL, *d = NULL;

	(void)state;
	assert_null(discard_describe("/home/u/proj", "project folder", &none));
	a = discard_describe("/home/u/proj", "project folder", &some);
	assert_string_equal(a, "discarded 1843 files (41 MB) written under /home/u/proj: "
			       "keep them with -w /home/u/proj");
	b = discard_describe("/usr", "-k", &one);
	assert_string_equal(b, "discarded at least 1 file (3 bytes) written under /usr: "
			       "keep them with -w /usr instead of -k");
	c = discard_describe("/", "-o root", &del);
	assert_string_equal(c, "discarded 2 deletions under /: keep them with -d DIR --keep-overlay");
	d = discard_describe("/opt", "-k", &(DiscardCount){ .files = 2 });
	assert_non_null(strstr(d, "2 files (0 bytes)"));
	g_free(d);
	d = discard_describe("/opt", "-k", &(DiscardCount){ .files = 1, .bytes = 1500 });
	assert_non_null(strstr(d, "1 file (1.5 kB)"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_count_files_sizes_and_symlinks),
		cmocka_unit_test(test_empty_dir_and_subtract),
		cmocka_unit_test(test_describe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
