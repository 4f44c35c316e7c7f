/* SPDX-License-Identifier: MIT
 *
 * test-userdb.c — passwd(5) lines (common/userdb.c), and the statically
 * linked mini-sandbox's lookup: a passwd file of the test's own, then a
 * stand-in getent (a shell script) for the accounts the file lacks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "common/error.h"
#include "common/userdb.h"

#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *
parse(const char *text, uid_t uid)
{
	return sbx_userdb_parse_home(text, strlen(text), uid);
}

static void
test_parse_entries(void **state)
{
	const char *db =
		"root:x:0:0:root:/root:/bin/bash\n"
		"# a comment:x:1001:1001::/nope:/bin/sh\n"
		"\n"
		"+nisuser:x:1001:1001::/nis:/bin/sh\n"
		"-other::::::\n"
		"short:x:1001:1001:/short\n"
		"long:x:1001:1001::/long:/bin/sh:extra\n"
		"signed:x:+1001:1001::/signed:/bin/sh\n"
		"prefix:x:10010:1001::/prefix:/bin/sh\n"
		"me:x:1001:1001:Me:/home/me:/bin/sh\n"
		"again:x:1001:1001::/home/again:/bin/sh\n"
		"last:x:1002:1002::/home/last:/bin/sh";   /* no final newline */
	g_autofree char *root = parse(db, 0);
	g_autofree char *me = parse(db, 1001);
	g_autofree char *last = parse(db, 1002);
	g_autofree char *none = parse(db, 1003);

	(void)state;
	assert_string_equal(root, "/root");
	assert_string_equal(me, "/home/me");      /* the first well-formed entry wins */
	assert_string_equal(last, "/home/last");
	assert_null(none);
}

static void
test_parse_unusable_home(void **state)
{
	g_autofree char *empty = parse("a:x:5:5:::/bin/sh\n", 5);
	g_autofree char *relative = parse("a:x:5:5::home/a:/bin/sh\n", 5);
	g_autofree char *big = parse("a:x:99999999999:5::/h:/bin/sh\n", (uid_t)99999999999ULL);
	static const char with_nul[] = "a:x:5:5::/h\0me:/bin/sh\n";
	g_autofree char *nul = sbx_userdb_parse_home(with_nul, sizeof with_nul - 1, 5);

	(void)state;
	assert_null(empty);
	assert_null(relative);
	assert_null(big);        /* more digits than a uid has */
	assert_null(nul);
}

/* A temporary directory with a passwd file and stand-in getent scripts. */
typedef struct {
	char *dir;
	char *passwd;
	char *nsswitch;
} Fixture;

static int
setup(void **state)
{
	Fixture *f = g_new0(Fixture, 1);
	g_autofree char *tmpl = g_build_filename(g_get_tmp_dir(), "test-userdb-XXXXXX", NULL);

	f->dir = g_mkdtemp(g_steal_pointer(&tmpl));
	if (!f->dir)
		return -1;
	f->passwd = g_build_filename(f->dir, "passwd", NULL);
	f->nsswitch = g_build_filename(f->dir, "nsswitch.conf", NULL);
	if (!g_file_set_contents(f->nsswitch, "passwd:         files systemd\n", -1, NULL))
		return -1;
	if (!g_file_set_contents(f->passwd,
				 "root:x:0:0:root:/root:/bin/bash\n"
				 "nohome:x:1500:1500::/:/bin/sh\n"
				 "blank:x:1600:1600:::/bin/sh\n", -1, NULL))
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	Fixture *f = *state;
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", f->dir);

	if (system(cmd) != 0)
		return -1;
	g_free(f->passwd);
	g_free(f->nsswitch);
	g_free(f->dir);
	g_free(f);
	return 0;
}

/* A getent stand-in running BODY (sh), which also records that it ran. */
static char *
fake_getent(Fixture *f, const char *name, const char *body)
{
	char *path = g_build_filename(f->dir, name, NULL);
	g_autofree char *script = g_strdup_printf("#!/bin/sh\necho \"$@\" > '%s.ran'\n%s\n",
						  path, body);

	assert_true(g_file_set_contents(path, script, -1, NULL));
	assert_int_equal(chmod(path, 0755), 0);
	return path;
}

/* sbx_userdb_home_from() with the fixture's files and GETENT. */
static gboolean
lookup(Fixture *f, const char *getent, uid_t uid, char **home, GError **error)
{
	SbxUserdbSources src = { .passwd = f->passwd, .nsswitch = f->nsswitch, .getent = getent };

	return sbx_userdb_home_from(&src, uid, home, error);
}

static gboolean
ran(const char *getent)
{
	g_autofree char *marker = g_strconcat(getent, ".ran", NULL);

	return g_file_test(marker, G_FILE_TEST_EXISTS);
}

static void
test_file_answers_first(void **state)
{
	Fixture *f = *state;
	g_autofree char *getent = fake_getent(f, "getent-unused", "exit 1");
	g_autofree char *home = NULL, *blank = NULL;
	g_autoptr(GError) error = NULL;

	assert_true(lookup(f, getent, 0, &home, &error));
	assert_string_equal(home, "/root");
	/* an entry without a usable home answers too: getent is not asked */
	assert_true(lookup(f, getent, 1600, &blank, &error));
	assert_null(blank);
	assert_false(ran(getent));
}

static void
test_getent_for_other_accounts(void **state)
{
	Fixture *f = *state;
	g_autofree char *getent = fake_getent(f, "getent-ldap",
		"[ \"$1 $2\" = \"passwd 4242\" ] || exit 3\n"
		"echo 'ldapuser:*:4242:4242:LDAP:/net/home/ldapuser:/bin/bash'");
	g_autofree char *home = NULL, *args = NULL;
	g_autofree char *marker = g_strconcat(getent, ".ran", NULL);
	g_autoptr(GError) error = NULL;

	assert_true(lookup(f, getent, 4242, &home, &error));
	assert_null(error);
	assert_string_equal(home, "/net/home/ldapuser");
	assert_true(g_file_get_contents(marker, &args, NULL, NULL));
	assert_string_equal(args, "passwd 4242\n");
}

static void
test_getent_without_passwd_file(void **state)
{
	Fixture *f = *state;
	g_autofree char *getent = fake_getent(f, "getent-root",
		"echo 'root:x:0:0:root:/root:/bin/bash'");
	g_autofree char *missing = g_build_filename(f->dir, "no-such-passwd", NULL);
	g_autofree char *home = NULL;
	g_autoptr(GError) error = NULL;

	SbxUserdbSources src = { .passwd = missing, .nsswitch = f->nsswitch, .getent = getent };

	assert_true(sbx_userdb_home_from(&src, 0, &home, &error));
	assert_string_equal(home, "/root");
	assert_true(ran(getent));
}

static void
test_getent_no_such_account(void **state)
{
	Fixture *f = *state;
	g_autofree char *getent = fake_getent(f, "getent-none", "exit 2");
	char stale[] = "stale";
	char *home = stale;      /* overwritten: no answer is NULL, not what was there */
	g_autoptr(GError) error = NULL;

	assert_true(lookup(f, getent, 4242, &home, &error));
	assert_null(home);
	assert_null(error);
	assert_true(ran(getent));
}

/* Every way of not getting an answer is an error, never "no home". */
static void
test_getent_failures_are_errors(void **state)
{
	Fixture *f = *state;
	struct {
		const char *name, *body, *message;
	} cases[] = {
		{ "getent-fails", "exit 1", "exit status 1" },
		{ "getent-killed", "kill -9 $$", "signal 9" },
		{ "getent-other-uid", "echo 'x:x:77:77::/x:/bin/sh'", "printed no entry for uid 4242" },
		{ "getent-garbage", "echo 'not a passwd line'", "printed no entry" },
		{ "getent-flood", "i=0; while [ $i -lt 5000 ]; do echo 'padding padding padding'; i=$((i+1)); done",
		  "Message too long" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *getent = fake_getent(f, cases[i].name, cases[i].body);
		g_autofree char *home = NULL;
		g_autoptr(GError) error = NULL;

		assert_false(lookup(f, getent, 4242, &home, &error));
		assert_non_null(error);
		assert_non_null(strstr(error->message, cases[i].message));
		assert_null(home);
	}
}

/* A caller that ignores SIGCHLD (an inherited SIG_IGN) must still get
 * getent's exit status: 2 is "no such account", not a failure to wait. */
static void
test_getent_status_with_sigchld_ignored(void **state)
{
	Fixture *f = *state;
	g_autofree char *getent = fake_getent(f, "getent-none", "exit 2");
	g_autofree char *home = NULL;
	g_autoptr(GError) error = NULL;
	struct sigaction ign = { .sa_handler = SIG_IGN }, old, now;
	gboolean ok;

	sigemptyset(&ign.sa_mask);
	sigaction(SIGCHLD, &ign, &old);
	ok = lookup(f, getent, 4242, &home, &error);
	sigaction(SIGCHLD, &old, &now);
	assert_null(error);
	assert_true(ok);
	assert_null(home);
	assert_true(now.sa_handler == SIG_IGN);     /* the caller's disposition is back */
}

static void
test_getent_missing_names_the_fix(void **state)
{
	Fixture *f = *state;
	g_autofree char *getent = g_build_filename(f->dir, "no-getent-here", NULL);
	g_autofree char *home = NULL;
	g_autoptr(GError) error = NULL;

	assert_false(lookup(f, getent, 4242, &home, &error));
	assert_non_null(strstr(error->message, "uid 4242 needs a user database other than"));
	assert_non_null(strstr(error->message, "No such file or directory"));
	assert_non_null(strstr(error->message, "-Dstatic_pie=false"));
}

static void
test_nsswitch_files_first(void **state)
{
	(void)state;
	assert_true(sbx_userdb_files_first(NULL));                        /* glibc's default */
	assert_true(sbx_userdb_files_first("group: sss\n"));              /* no passwd line */
	assert_true(sbx_userdb_files_first("passwd:         files systemd\n"));
	assert_true(sbx_userdb_files_first("passwd:files"));
	assert_true(sbx_userdb_files_first("  passwd:\tfiles [NOTFOUND=return] sss\n"));
	assert_true(sbx_userdb_files_first("passwd: files[NOTFOUND=return] sss\n"));
	assert_true(sbx_userdb_files_first("# passwd: sss files\npasswd: files\n"));
	assert_false(sbx_userdb_files_first("passwd: sss files\n"));
	assert_false(sbx_userdb_files_first("group: files\npasswd: ldap files\n"));
	assert_false(sbx_userdb_files_first("passwd: compat\n"));
	assert_false(sbx_userdb_files_first("passwd: filesystem\n"));
	assert_false(sbx_userdb_files_first("passwd:\n"));
	assert_true(sbx_userdb_files_first("passwd files\n"));    /* no colon: no passwd line, the default */
}

/* Another source first: the file's entry is not what getpwuid() would
 * return, so it is not used. */
static void
test_other_source_first(void **state)
{
	Fixture *f = *state;
	g_autofree char *getent = fake_getent(f, "getent-sss",
		"echo 'root:x:0:0:root:/var/lib/sss-root:/bin/bash'");
	g_autofree char *home = NULL;
	g_autoptr(GError) error = NULL;

	assert_true(g_file_set_contents(f->nsswitch, "passwd: sss files\n", -1, NULL));
	assert_true(lookup(f, getent, 0, &home, &error));
	assert_string_equal(home, "/var/lib/sss-root");
	assert_true(ran(getent));
}

/* A passwd or nsswitch.conf that exists but cannot be read is an error:
 * the fallback would read the same file and find nothing. */
static void
test_unreadable_files_are_errors(void **state)
{
	Fixture *f = *state;
	g_autofree char *getent = fake_getent(f, "getent-unused", "exit 2");
	g_autofree char *home = NULL;
	g_autoptr(GError) error = NULL;
	SbxUserdbSources src = { .passwd = f->dir, .nsswitch = f->nsswitch, .getent = getent };

	assert_false(sbx_userdb_home_from(&src, 0, &home, &error));     /* a directory: EISDIR */
	assert_non_null(strstr(error->message, f->dir));
	g_clear_error(&error);
	src.passwd = f->passwd;
	src.nsswitch = f->dir;
	assert_false(sbx_userdb_home_from(&src, 0, &home, &error));
	assert_non_null(strstr(error->message, f->dir));
	assert_false(ran(getent));
}

/* Without a getent program: getpwuid() in this process (the dynamically
 * linked executables).  Root is in every user database there is. */
static void
test_fallback_in_process(void **state)
{
	Fixture *f = *state;
	g_autofree char *missing = g_build_filename(f->dir, "no-such-passwd", NULL);
	g_autofree char *home = NULL;
	g_autoptr(GError) error = NULL;
	SbxUserdbSources src = { .passwd = missing, .nsswitch = f->nsswitch, .getent = NULL };
	struct passwd *pw = getpwuid(0);

	assert_non_null(pw);
	assert_true(sbx_userdb_home_from(&src, 0, &home, &error));
	assert_string_equal(home, pw->pw_dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_entries),
		cmocka_unit_test(test_parse_unusable_home),
		cmocka_unit_test_setup_teardown(test_file_answers_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_getent_for_other_accounts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_getent_without_passwd_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_getent_no_such_account, setup, teardown),
		cmocka_unit_test_setup_teardown(test_getent_failures_are_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_getent_missing_names_the_fix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_getent_status_with_sigchld_ignored, setup, teardown),
		cmocka_unit_test(test_nsswitch_files_first),
		cmocka_unit_test_setup_teardown(test_other_source_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreadable_files_are_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fallback_in_process, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
