/* SPDX-License-Identifier: MIT
 *
 * test-options-check.c — the rules of options-check.c, through the parser
 * and directly as the C API uses them: every contradiction with its error
 * code and message, relative paths, -w/-M on one path, /tmp in -x, bad
 * numbers, --publish and --resolver syntax, the setters.
 */
#include "options-test-util.h"

/* ---- contradictions and path rules ------------------------------------ */

static void
test_two_modes(void **state)
{
	EXPECT_ERROR(SBX_ERR_INVALID_MODE, NEEDLES("-x", "-o", "choose one"),
		     "-x", "-o", "/r", "--", "c");
	EXPECT_ERROR(SBX_ERR_INVALID_MODE, NEEDLES("-x", "-o"), "-o", "/r", "-x", "--", "c");
	/* -h after a mode that makes a root is a second root, as in the original */
	EXPECT_ERROR(SBX_ERR_ROOT_NOT_UNIQUE, NEEDLES("-o", "-h", "one root"), "-o", "/r", "-h",
		     "/h", "--", "c");
	EXPECT_ERROR(SBX_ERR_ROOT_NOT_UNIQUE, NEEDLES("-x", "-h"), "-x", "-h", "/h", "--", "c");
	EXPECT_ERROR(SBX_ERR_INVALID_MODE, NEEDLES("-h", "-o"), "-h", "/h", "-o", "/r", "--", "c");
	EXPECT_ERROR(SBX_ERR_INVALID_MODE, NEEDLES("-h", "-x"), "--hermetic=/h", "--default",
		     "--", "c");
	EXPECT_ERROR(SBX_ERR_ROOT_NOT_UNIQUE, NEEDLES("-o", "/a", "/b"), "-o", "/a", "-o", "/b",
		     "--", "c");
	EXPECT_ERROR(SBX_ERR_ROOT_NOT_UNIQUE, NEEDLES("-h"), "-h", "/a", "-h", "/a", "--", "c");
	/* -x twice is harmless */
	sbx_config_free(PARSE_OK("-x", "-x", "--", "c"));
}

static void
test_identity_and_network_conflicts(void **state)
{
	EXPECT_ERROR(SBX_ERR_ILLEGAL_CONFIG, NEEDLES("-R (--fake-root)", "-U (--nobody)"),
		     "--fake-root", "--nobody", "--", "c");
	EXPECT_ERROR(SBX_ERR_ILLEGAL_NETWORK, NEEDLES("-n", "-N"), "-n", "-N", "--", "c");
	EXPECT_ERROR(SBX_ERR_ILLEGAL_NETWORK, NEEDLES("-n", "-N"), "-N", "-n", "--", "c");
	EXPECT_TAP_ERROR(SBX_ERR_ILLEGAL_NETWORK, NEEDLES("-N", "mini-tapbox"), "-N", "--", "c");
	EXPECT_TAP_ERROR(SBX_ERR_ILLEGAL_NETWORK, NEEDLES("--share-network", "mini-tapbox"),
			 "--share-network", "--", "c");
	EXPECT_TAP_ERROR(SBX_ERR_ILLEGAL_NETWORK, NEEDLES("-n", "mini-tapbox"), "-n", "--", "c");
	/* the same flag twice is fine */
	sbx_config_free(PARSE_OK("-R", "-R", "-N", "-N", "--", "c"));
	/* --allow-userns leaves Landlock's filesystem rules out */
	EXPECT_ERROR(SBX_ERR_ILLEGAL_CONFIG,
		     NEEDLES("--allow-userns and --require-landlock", "choose one"),
		     "--require-landlock", "--allow-userns", "--", "c");
	sbx_config_free(PARSE_OK("--allow-userns", "--", "c"));
	sbx_config_free(PARSE_OK("--require-landlock", "--", "c"));
}

static void
test_unique_options(void **state)
{
	EXPECT_ERROR(SBX_ERR_LOG_NOT_UNIQUE, NEEDLES("-D", "/a", "/b"), "-D", "/a", "-D", "/b",
		     "--", "c");
	EXPECT_ERROR(SBX_ERR_ILLEGAL_CONFIG, NEEDLES("-T given twice"), "-T", "1", "-T", "2",
		     "--", "c");
	EXPECT_ERROR(SBX_ERR_ILLEGAL_CONFIG, NEEDLES("--workdir given twice"), "-W", "/a",
		     "--workdir", "/b", "--", "c");
	EXPECT_TAP_ERROR(SBX_ERR_ILLEGAL_CONFIG, NEEDLES("--mtu given twice"), "--mtu", "1500",
			 "--mtu", "1500", "--", "c");
}

static void
test_overlay_needs_mode(void **state)
{
	EXPECT_ERROR(SBX_ERR_OVERLAY_NOT_SET, NEEDLES("-k /usr", "-o ROOT"), "-k", "/usr",
		     "--", "c");
	EXPECT_ERROR(SBX_ERR_OVERLAY_NOT_SET, NEEDLES("-d /ovl"), "-d", "/ovl", "--", "c");
	EXPECT_ERROR(SBX_ERR_OVERLAY_NOT_SET, NEEDLES("-d /ovl", "-o ROOT", "-x"), "-x", "-d",
		     "/ovl", "--", "c");
	EXPECT_ERROR(SBX_ERR_OVERLAY_NOT_SET, NEEDLES("-k /usr", "read-only mode"), "-k",
		     "/usr", "--", "c");
	EXPECT_ERROR(SBX_ERR_OVERLAY_NOT_SET, NEEDLES("-k /usr", "-h"), "-h", "/h", "-k", "/usr",
		     "--", "c");
	EXPECT_ERROR(SBX_ERR_OVERLAY_NOT_SET, NEEDLES("--keep-overlay", "-d DIR"), "-x",
		     "--keep-overlay", "--", "c");
	/* -d inside -o is decided at plan time, when ROOT's emptiness is known */
	sbx_config_free(PARSE_OK("-o", "/r", "-d", "/r", "--", "c"));
	EXPECT_ERROR(SBX_ERR_ILLEGAL_CONFIG, NEEDLES("--proc", "-h"), "-x", "--proc", "--", "c");
	/* -d next to the root (a sibling with a common prefix) is fine */
	sbx_config_free(PARSE_OK("-o", "/r", "-d", "/rx", "--", "c"));
}

static void
test_relative_paths(void **state)
{
	static const char *const flags[] = { "-w", "-M", "-e", "-W", "-o", "-h" };

	for (gsize i = 0; i < G_N_ELEMENTS(flags); i++) {
		g_autofree char *msg = g_strdup_printf("%s foo: not an absolute path; give the "
						       "full path, e.g. %s \"$PWD/foo\"",
						       flags[i], flags[i]);

		EXPECT_ERROR(SBX_ERR_NOT_ABSOLUTE, NEEDLES(msg), flags[i], "foo", "--", "c");
	}
	EXPECT_ERROR(SBX_ERR_NOT_ABSOLUTE, NEEDLES("-k sub/dir"), "-x", "-k", "sub/dir", "--",
		     "c");
	EXPECT_ERROR(SBX_ERR_NOT_ABSOLUTE, NEEDLES("-d ./ovl"), "-o", "/r", "-d", "./ovl", "--",
		     "c");
	EXPECT_ERROR(SBX_ERR_NOT_ABSOLUTE, NEEDLES("-w", "empty path"), "--write=", "--", "c");
}

static void
test_host_files_made_absolute(void **state)
{
	g_autofree char *cwd = g_get_current_dir();
	g_autofree char *want_f = g_build_filename(cwd, "list.txt", NULL);
	g_autofree char *want_d = g_build_filename(cwd, "sub/debug.log", NULL);
	g_autofree char *want_l = g_build_filename(cwd, "deny.json", NULL);
	g_autoptr(SbxConfig) t = PARSE_TAP_OK("-F", "list.txt", "-D", "sub/debug.log", "--log",
					      "deny.json", "--", "c");

	assert_string_equal(g_ptr_array_index(t->allow_files, 0), want_f);
	assert_string_equal(t->debug_log, want_d);
	assert_string_equal(t->log_file, want_l);
}

static void
test_read_and_write(void **state)
{
	EXPECT_ERROR(SBX_ERR_READ_AND_WRITE, NEEDLES("-w /data", "-M /data/"), "-w", "/data",
		     "-M", "/data/", "--", "c");
	EXPECT_ERROR(SBX_ERR_READ_AND_WRITE, NEEDLES("-w /a//b"), "-M", "/a/b", "-w", "/a//b",
		     "--", "c");
	/* a child of a writable path may be read-only */
	sbx_config_free(PARSE_OK("-w", "/data", "-M", "/data/ro", "--", "c"));
}

static void
test_tmp_in_default_mode(void **state)
{
	EXPECT_ERROR(SBX_ERR_TMP_REMOUNT, NEEDLES("-e /tmp", "private /tmp"), "-x", "-e", "/tmp",
		     "--", "c");
	EXPECT_ERROR(SBX_ERR_TMP_REMOUNT, NEEDLES("-w /tmp/"), "-x", "-w", "/tmp/", "--", "c");
	EXPECT_ERROR(SBX_ERR_TMP_REMOUNT, NEEDLES("-M /tmp"), "-M", "/tmp", "-x", "--", "c");
	EXPECT_ERROR(SBX_ERR_TMP_REMOUNT, NEEDLES("-k /tmp"), "-x", "-k", "/tmp", "--", "c");
	/* other modes may bind /tmp, and -x may bind below it */
	sbx_config_free(PARSE_OK("-w", "/tmp", "--", "c"));
	sbx_config_free(PARSE_OK("-x", "-w", "/tmp/build", "--", "c"));
}

/* ---- numbers ---------------------------------------------------------- */

static void
test_bad_numbers(void **state)
{
	SbxConfig *cfg;

	EXPECT_ERROR(SBX_ERR_ILLEGAL_CONFIG, NEEDLES("-T abc: not a number"), "-T", "abc", "--",
		     "c");
	EXPECT_ERROR(SBX_ERR_ILLEGAL_CONFIG, NEEDLES("-T -1"), "-T", "-1", "--", "c");
	EXPECT_ERROR(SBX_ERR_ILLEGAL_CONFIG, NEEDLES("--timeout 99999999999: out of range"),
		     "--timeout", "99999999999", "--", "c");
	EXPECT_ERROR(SBX_ERR_ILLEGAL_CONFIG, NEEDLES("-t 1.5"), "-t", "1.5", "--", "c");
	EXPECT_ERROR(SBX_ERR_ILLEGAL_CONFIG, NEEDLES("-T : not a number"), "-T", "", "--", "c");
	EXPECT_ERROR(SBX_ERR_ILLEGAL_CONFIG, NEEDLES("--keep-fd x"), "--keep-fd", "x", "--", "c");
	EXPECT_ERROR(SBX_ERR_ILLEGAL_CONFIG, NEEDLES("--tmpfs-size 0"), "--tmpfs-size", "0",
		     "--", "c");
	EXPECT_ERROR(SBX_ERR_ILLEGAL_CONFIG, NEEDLES("--tmpfs-size 12x", "512m"), "--tmpfs-size",
		     "12x", "--", "c");
	EXPECT_ERROR(SBX_ERR_ILLEGAL_CONFIG, NEEDLES("--tmpfs-size k"), "--tmpfs-size", "k",
		     "--", "c");
	EXPECT_ERROR(SBX_ERR_ILLEGAL_CONFIG, NEEDLES("--tmpfs-size 99999999999999999g"),
		     "--tmpfs-size", "99999999999999999g", "--", "c");
	EXPECT_ERROR(SBX_ERR_ILLEGAL_CONFIG, NEEDLES("--max-procs 0: out of range", "4194304"),
		     "--max-procs", "0", "--", "c");
	EXPECT_ERROR(SBX_ERR_ILLEGAL_CONFIG, NEEDLES("--max-procs 4194305"), "--max-procs",
		     "4194305", "--", "c");
	EXPECT_ERROR(SBX_ERR_ILLEGAL_CONFIG, NEEDLES("--max-procs many: not a number"),
		     "--max-procs", "many", "--", "c");
	EXPECT_TAP_ERROR(SBX_ERR_ILLEGAL_NETWORK, NEEDLES("--mtu 67: out of range", "68", "65520"),
			 "--mtu", "67", "--", "c");
	EXPECT_TAP_ERROR(SBX_ERR_ILLEGAL_NETWORK, NEEDLES("--mtu 65521"), "--mtu", "65521", "--",
			 "c");
	EXPECT_TAP_ERROR(SBX_ERR_ILLEGAL_NETWORK, NEEDLES("--allow-host-port 0"),
			 "--allow-host-port", "0", "--", "c");
	EXPECT_TAP_ERROR(SBX_ERR_ILLEGAL_NETWORK, NEEDLES("--allow-host-port 65536"),
			 "--allow-host-port", "65536", "--", "c");
	EXPECT_TAP_ERROR(SBX_ERR_ILLEGAL_NETWORK, NEEDLES("--allow-host-port http"),
			 "--allow-host-port", "http", "--", "c");

	cfg = PARSE_OK("--tmpfs-size", "1k", "-T", "0", "-t", "0", "--", "c");
	assert_int_equal(cfg->tmpfs_size, 1024);
	assert_int_equal(cfg->timeout_secs, 0);
	assert_int_equal(cfg->grace_secs, 0);
	sbx_config_free(cfg);
	cfg = PARSE_OK("--tmpfs-size", "3G", "--", "c");
	assert_int_equal(cfg->tmpfs_size, 3ULL << 30);
	sbx_config_free(cfg);
	cfg = PARSE_OK("--tmpfs-size", "4096", "--", "c");
	assert_int_equal(cfg->tmpfs_size, 4096);
	sbx_config_free(cfg);
	cfg = PARSE_TAP_OK("--mtu", "68", "--allow-host-port", "65535", "--", "c");
	assert_int_equal(cfg->mtu, 68);
	sbx_config_free(cfg);
}

static void
test_publish_and_resolver_syntax(void **state)
{
	static const char *const bad_publish[] = {
		"80", "a:80", "8080:0", "1.2.3:8080:80", "::1:8080:80", "[::1]8080:80",
		"[1.2.3.4]:8080:80", "1.2.3.4:8080:80:1", "8080:80:",
	};
	static const char *const bad_resolver[] = {
		"dns.example", "1.2.3.4:0", "1.2.3.4:65536", "[::1", "[::1]53", "1.2.3.4:",
		"::1:53x",
	};
	static const char *const good_resolver[] = {
		"1.2.3.4", "1.2.3.4:5353", "::1", "[::1]", "[fd00::3]:53",
	};

	for (gsize i = 0; i < G_N_ELEMENTS(bad_publish); i++)
		EXPECT_TAP_ERROR(SBX_ERR_ILLEGAL_NETWORK,
				 NEEDLES("--publish", bad_publish[i], "[HOSTIP:]HOSTPORT:PORT"),
				 "--publish", bad_publish[i], "--", "c");
	for (gsize i = 0; i < G_N_ELEMENTS(bad_resolver); i++)
		EXPECT_TAP_ERROR(SBX_ERR_ILLEGAL_NETWORK, NEEDLES("--resolver", bad_resolver[i]),
				 "--resolver", bad_resolver[i], "--", "c");
	for (gsize i = 0; i < G_N_ELEMENTS(good_resolver); i++)
		sbx_config_free(PARSE_TAP_OK("--resolver", good_resolver[i], "--", "c"));
	EXPECT_TAP_ERROR(SBX_ERR_ILLEGAL_NETWORK, NEEDLES("--allow: empty entry"), "--allow", "",
			 "--", "c");
}

/* --slirp-tcp cannot check names: with a domain entry it refuses, naming
 * both options; IP entries, or --no-name-check, are fine. */
static void
test_slirp_tcp_and_domain_entries(void **state)
{
	EXPECT_TAP_ERROR(SBX_ERR_ILLEGAL_NETWORK,
			 NEEDLES("--slirp-tcp", "--allow example.com:443", "--no-name-check"),
			 "--allow", "10.0.0.1", "--allow", "example.com:443", "--slirp-tcp", "--",
			 "c");
	EXPECT_TAP_ERROR(SBX_ERR_ILLEGAL_NETWORK, NEEDLES("--slirp-tcp", "*.example.com"),
			 "--slirp-tcp", "--allow", "*.example.com", "--", "c");
	sbx_config_free(PARSE_TAP_OK("--slirp-tcp", "--allow", "10.0.0.0/8:443", "--", "c"));
	sbx_config_free(PARSE_TAP_OK("--slirp-tcp", "--no-name-check", "--allow", "example.com",
				     "--", "c"));
	sbx_config_free(PARSE_TAP_OK("--allow", "example.com", "--", "c"));
}

/* ---- the C API's view: validate a config filled call by call ------------ */

static void
test_api_setters_and_validate(void **state)
{
	g_autoptr(SbxConfig) cfg = sbx_config_new();
	g_autoptr(GError) err = NULL;

	/* library mode: no argv is fine */
	assert_true(sbx_config_validate(cfg, &err));
	assert_true(sbx_config_set_fs_mode(cfg, SBX_FS_DEFAULT, NULL, &err));
	assert_false(sbx_config_set_fs_mode(cfg, SBX_FS_HERMETIC, "/h", &err));
	assert_int_equal(err->code, SBX_ERR_ROOT_NOT_UNIQUE);
	assert_non_null(strstr(err->message, "-x"));
	assert_non_null(strstr(err->message, "-h"));
	g_clear_error(&err);
	assert_int_equal(cfg->fs_mode, SBX_FS_DEFAULT);
	assert_null(cfg->hermetic_dir);

	assert_true(sbx_config_set_identity(cfg, SBX_ID_NOBODY, &err));
	assert_false(sbx_config_set_identity(cfg, SBX_ID_ROOT, &err));
	assert_int_equal(err->code, SBX_ERR_ILLEGAL_CONFIG);
	g_clear_error(&err);

	assert_true(sbx_config_set_debug_log(cfg, "/a", &err));
	assert_false(sbx_config_set_debug_log(cfg, "/a", &err));
	assert_int_equal(err->code, SBX_ERR_LOG_NOT_UNIQUE);
	g_clear_error(&err);

	sbx_config_add_mount(cfg, SBX_MOUNT_EMPTY_FILE, "out.txt");
	assert_false(sbx_config_validate(cfg, &err));
	assert_int_equal(err->code, SBX_ERR_NOT_ABSOLUTE);
	assert_non_null(strstr(err->message, "out.txt"));
	g_clear_error(&err);
	g_array_set_size(cfg->mounts, 0);

	/* fields written directly, bypassing the setters */
	cfg->custom_root = g_strdup("/r");
	assert_false(sbx_config_validate(cfg, &err));
	assert_int_equal(err->code, SBX_ERR_INVALID_MODE);
	g_clear_error(&err);
	g_clear_pointer(&cfg->custom_root, g_free);

	g_array_append_val(cfg->host_ports, (guint16){ 80 });
	assert_false(sbx_config_validate(cfg, &err));
	assert_int_equal(err->code, SBX_ERR_ILLEGAL_NETWORK);
	assert_non_null(strstr(err->message, "--allow-host-port needs mini-tapbox"));
	g_clear_error(&err);
	assert_true(sbx_config_set_net_mode(cfg, SBX_NET_TAP, &err));
	assert_true(sbx_config_validate(cfg, &err));
	cfg->mtu = 40;
	assert_false(sbx_config_validate(cfg, &err));
	assert_int_equal(err->code, SBX_ERR_ILLEGAL_NETWORK);
	g_clear_error(&err);
	cfg->mtu = SBX_DEFAULT_MTU;
	assert_false(sbx_config_set_net_mode(cfg, SBX_NET_HOST, &err));
	assert_int_equal(err->code, SBX_ERR_ILLEGAL_NETWORK);
	g_clear_error(&err);

	g_array_append_val(cfg->keep_fds, (int){ -1 });
	assert_false(sbx_config_validate(cfg, &err));
	assert_non_null(strstr(err->message, "--keep-fd -1"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_modes),
		cmocka_unit_test(test_identity_and_network_conflicts),
		cmocka_unit_test(test_unique_options),
		cmocka_unit_test(test_overlay_needs_mode),
		cmocka_unit_test(test_relative_paths),
		cmocka_unit_test(test_host_files_made_absolute),
		cmocka_unit_test(test_read_and_write),
		cmocka_unit_test(test_tmp_in_default_mode),
		cmocka_unit_test(test_bad_numbers),
		cmocka_unit_test(test_publish_and_resolver_syntax),
		cmocka_unit_test(test_slirp_tcp_and_domain_entries),
		cmocka_unit_test(test_api_setters_and_validate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
