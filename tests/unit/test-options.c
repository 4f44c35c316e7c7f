/* SPDX-License-Identifier: MIT
 *
 * test-options.c — the command line parser: every option, long/short
 * equivalence, clusters, order independence, where options end, @FILE
 * expansion, unknown and malformed options, mini-tapbox's option set,
 * --help/--version.  The rules a config must satisfy (contradictions,
 * paths, numbers) are in test-options-check.c.
 */
#include "options-test-util.h"
#include "sbx-build-config.h"

/* ---- basics ----------------------------------------------------------- */

static void
test_defaults(void **state)
{
	g_autoptr(SbxConfig) cfg = PARSE_OK("--", "true");

	assert_int_equal(cfg->fs_mode, SBX_FS_READONLY);
	assert_int_equal(cfg->net_mode, SBX_NET_NONE);
	assert_int_equal(cfg->identity, SBX_ID_SAME);
	assert_int_equal(cfg->mtu, SBX_DEFAULT_MTU);
	assert_int_equal(cfg->grace_secs, SBX_DEFAULT_GRACE_SECS);
	assert_false(cfg->allow_all);
	assert_false(cfg->is_tapbox);
	assert_string_equal(cfg->argv[0], "true");
	assert_null(cfg->argv[1]);
}

static void
test_command_ends_options(void **state)
{
	g_autoptr(SbxConfig) a = PARSE_OK("-x", "ls", "-l", "-R", "--", "@x");
	g_autoptr(SbxConfig) b = PARSE_OK("-x", "--", "-weird", "--help");
	g_autoptr(SbxConfig) c = PARSE_OK("-", "arg");

	/* options after the command belong to the command */
	assert_true(g_strv_equal((const char *const *)a->argv,
				 ARGS("ls", "-l", "-R", "--", "@x")));
	assert_int_equal(a->identity, SBX_ID_SAME);
	assert_true(g_strv_equal((const char *const *)b->argv, ARGS("-weird", "--help")));
	assert_string_equal(c->argv[0], "-");
}

static void
test_every_short_option(void **state)
{
	g_autoptr(SbxConfig) cfg = PARSE_OK("-x", "-w", "/w", "-M", "/m", "-e", "/e",
					    "-k", "/k", "-W", "/wd", "-R", "-H",
					    "-T", "30", "-t", "7", "-i", "-D", "/dbg", "-v",
					    "--", "cmd");
	g_autoptr(SbxConfig) n = PARSE_OK("-n", "-U", "--", "cmd");
	g_autoptr(SbxConfig) N = PARSE_OK("-N", "--", "cmd");
	g_autoptr(SbxConfig) o = PARSE_OK("-o", "/root", "-d", "/ovl", "-k", "/usr", "--", "c");
	g_autoptr(SbxConfig) h = PARSE_OK("-h", "/herm", "-M", "/usr", "--", "c");
	g_autoptr(SbxConfig) f = PARSE_TAP_OK("-F", "/allow", "-F", "/allow2", "--", "c");

	assert_int_equal(cfg->fs_mode, SBX_FS_DEFAULT);
	assert_int_equal(cfg->mounts->len, 4);
	assert_int_equal(mount_at(cfg, 0)->kind, SBX_MOUNT_WRITE);
	assert_string_equal(mount_at(cfg, 0)->path, "/w");
	assert_int_equal(mount_at(cfg, 1)->kind, SBX_MOUNT_READ);
	assert_string_equal(mount_at(cfg, 1)->path, "/m");
	assert_int_equal(mount_at(cfg, 2)->kind, SBX_MOUNT_TMPFS);
	assert_string_equal(mount_at(cfg, 2)->path, "/e");
	assert_int_equal(mount_at(cfg, 3)->kind, SBX_MOUNT_OVERLAY);
	assert_string_equal(mount_at(cfg, 3)->path, "/k");
	assert_null(cfg->overlay_dir);
	assert_string_equal(cfg->workdir, "/wd");
	assert_int_equal(cfg->identity, SBX_ID_ROOT);
	assert_true(cfg->hostname_localhost);
	assert_int_equal(cfg->timeout_secs, 30);
	assert_int_equal(cfg->grace_secs, 7);
	assert_true(cfg->sigint_polite);
	assert_string_equal(cfg->debug_log, "/dbg");
	assert_true(cfg->verbose);

	assert_int_equal(n->net_mode, SBX_NET_LO_DOWN);
	assert_int_equal(n->identity, SBX_ID_NOBODY);
	assert_int_equal(N->net_mode, SBX_NET_HOST);

	assert_int_equal(o->fs_mode, SBX_FS_CUSTOM);
	assert_string_equal(o->custom_root, "/root");
	assert_string_equal(o->overlay_dir, "/ovl");

	assert_int_equal(h->fs_mode, SBX_FS_HERMETIC);
	assert_string_equal(h->hermetic_dir, "/herm");

	assert_int_equal(f->net_mode, SBX_NET_TAP);
	assert_int_equal(f->allow_files->len, 2);
	assert_string_equal(g_ptr_array_index(f->allow_files, 1), "/allow2");
	assert_false(f->allow_all);
}

/* Issue 14: --proc=host is the opt-in to the host's /proc, in any mode;
 * plain --proc keeps its meaning; other values and -x --proc are errors. */
static void
test_proc_host(void **state)
{
	g_autoptr(SbxConfig) x = PARSE_OK("-x", "--proc=host", "--", "c");
	g_autoptr(SbxConfig) h = PARSE_OK("-h", "/h", "--proc", "--proc=host", "--", "c");
	g_autoptr(SbxConfig) plain = PARSE_OK("-x", "--", "c");

	assert_true(x->proc_host);
	assert_false(x->mount_proc);
	assert_true(h->proc_host && h->mount_proc);
	assert_false(plain->proc_host);
	EXPECT_ERROR(SBX_ERR_ILLEGAL_CONFIG, NEEDLES("--proc=yes", "--proc=host"),
		     "-x", "--proc=yes", "--", "c");
	EXPECT_ERROR(SBX_ERR_ILLEGAL_CONFIG, NEEDLES("--proc=", "empty"), "-x", "--proc=", "--", "c");
	EXPECT_ERROR(SBX_ERR_ILLEGAL_CONFIG, NEEDLES("hermetic", "--proc=host"), "-x", "--proc",
		     "--", "c");
}

/* Issue 14: argument files are recorded (absolute) for the mount plan. */
static void
test_argfile_recorded(void **state)
{
	g_autofree char *f = write_file(state, "rec.args", "-x\n", -1);
	g_autofree char *at = g_strconcat("@", f, NULL);
	g_autoptr(SbxConfig) c = PARSE_OK(at, "--", "c");

	assert_int_equal(c->arg_files->len, 1);
	assert_string_equal(g_ptr_array_index(c->arg_files, 0), f);
}

static void
test_long_only_options(void **state)
{
	g_autoptr(SbxConfig) s = PARSE_OK("-o", "/r", "-d", "/o", "--keep-overlay",
					  "--tmpfs-size", "64m", "--keep-fd", "5", "--max-procs", "300",
					  "--keep-fd=7", "--", "c");
	g_autoptr(SbxConfig) h = PARSE_OK("-h", "/h", "--proc", "--", "c");
	g_autoptr(SbxConfig) t = PARSE_TAP_OK("--allow", "example.com:443", "--allow",
					      "10.0.0.0/8", "--allow-unresolved", "--slirp-tcp",
					      "--no-name-check",
					      "--allow-host-port", "8080", "--allow-host-port=22",
					      "--publish", "8080:80", "--publish",
					      "0.0.0.0:2222:22", "--publish", "[::1]:9000:90",
					      "--mtu", "1500", "--resolver", "127.0.0.1:5353",
					      "--log", "/var/log/deny.json", "--", "c");
	const SbxPublish *pub;

	assert_true(s->keep_overlay);
	assert_int_equal(s->tmpfs_size, 64ULL << 20);
	assert_int_equal(s->max_procs, 300);
	assert_int_equal(s->keep_fds->len, 2);
	assert_int_equal(g_array_index(s->keep_fds, int, 0), 5);
	assert_int_equal(g_array_index(s->keep_fds, int, 1), 7);
	assert_true(h->mount_proc);

	assert_int_equal(t->allow_entries->len, 2);
	assert_string_equal(g_ptr_array_index(t->allow_entries, 0), "example.com:443");
	assert_false(t->allow_all);
	assert_true(t->allow_unresolved);
	assert_true(t->slirp_tcp);
	assert_false(s->slirp_tcp);
	assert_true(t->no_name_check);
	assert_false(s->no_name_check);
	assert_int_equal(t->host_ports->len, 2);
	assert_int_equal(g_array_index(t->host_ports, guint16, 0), 8080);
	assert_int_equal(g_array_index(t->host_ports, guint16, 1), 22);
	assert_int_equal(t->publish->len, 3);
	pub = &g_array_index(t->publish, SbxPublish, 0);
	assert_string_equal(pub->host_addr, "127.0.0.1");
	assert_int_equal(pub->host_port, 8080);
	assert_int_equal(pub->guest_port, 80);
	pub = &g_array_index(t->publish, SbxPublish, 1);
	assert_string_equal(pub->host_addr, "0.0.0.0");
	assert_int_equal(pub->host_port, 2222);
	assert_int_equal(pub->guest_port, 22);
	pub = &g_array_index(t->publish, SbxPublish, 2);
	assert_string_equal(pub->host_addr, "::1");
	assert_int_equal(pub->host_port, 9000);
	assert_int_equal(pub->guest_port, 90);
	assert_int_equal(t->mtu, 1500);
	assert_string_equal(t->resolver, "127.0.0.1:5353");
	assert_string_equal(t->log_file, "/var/log/deny.json");
}

/* Every short option and its long name give the same config, in each
 * spelling: "-w /p", "-w/p", "--write /p", "--write=/p". */
static void
test_long_short_equivalence(void **state)
{
	static const struct {
		const char *s, *l, *value;
		gboolean tapbox;
	} pairs[] = {
		{ "-x", "--default", NULL, FALSE },
		{ "-o", "--root", "/r", FALSE },
		{ "-h", "--hermetic", "/h", FALSE },
		{ "-w", "--write", "/p", FALSE },
		{ "-M", "--read-only", "/p", FALSE },
		{ "-e", "--empty", "/p", FALSE },
		{ "-W", "--workdir", "/p", FALSE },
		{ "-N", "--share-network", NULL, FALSE },
		{ "-n", "--no-loopback", NULL, FALSE },
		{ "-R", "--fake-root", NULL, FALSE },
		{ "-U", "--nobody", NULL, FALSE },
		{ "-H", "--hostname-localhost", NULL, FALSE },
		{ "-T", "--timeout", "12", FALSE },
		{ "-t", "--kill-delay", "9", FALSE },
		{ "-i", "--sigint-term", NULL, FALSE },
		{ "-D", "--debug-log", "/dbg", FALSE },
		{ "-v", "--verbose", NULL, FALSE },
		{ "-F", "--allowlist", "/allow", TRUE },
	};

	for (gsize i = 0; i < G_N_ELEMENTS(pairs); i++) {
		g_autoptr(SbxConfig) ref = NULL;
		g_autofree char *attached = NULL, *eq = NULL;

		if (!pairs[i].value) {
			ref = parse_ok_v(pairs[i].tapbox, ARGS(pairs[i].s, "--", "c"));
			g_autoptr(SbxConfig) l = parse_ok_v(pairs[i].tapbox,
							    ARGS(pairs[i].l, "--", "c"));
			assert_config_equal(ref, l);
			continue;
		}
		ref = parse_ok_v(pairs[i].tapbox, ARGS(pairs[i].s, pairs[i].value, "--", "c"));
		attached = g_strconcat(pairs[i].s, pairs[i].value, NULL);
		eq = g_strconcat(pairs[i].l, "=", pairs[i].value, NULL);
		{
			g_autoptr(SbxConfig) a = parse_ok_v(pairs[i].tapbox,
							    ARGS(attached, "--", "c"));
			g_autoptr(SbxConfig) l = parse_ok_v(pairs[i].tapbox,
							    ARGS(pairs[i].l, pairs[i].value,
								 "--", "c"));
			g_autoptr(SbxConfig) e = parse_ok_v(pairs[i].tapbox,
							    ARGS(eq, "--", "c"));

			assert_config_equal(ref, a);
			assert_config_equal(ref, l);
			assert_config_equal(ref, e);
		}
	}
	/* -k and -d need an overlay mode: compare them under -o */
	{
		g_autoptr(SbxConfig) a = PARSE_OK("-o", "/r", "-k", "/k", "-d", "/d", "--", "c");
		g_autoptr(SbxConfig) b = PARSE_OK("--root=/r", "--overlay", "/k",
						  "--overlay-dir=/d", "--", "c");

		assert_config_equal(a, b);
	}
}

static void
test_clusters(void **state)
{
	g_autoptr(SbxConfig) a = PARSE_OK("-RHxiv", "--", "c");
	g_autoptr(SbxConfig) b = PARSE_OK("-xw/data", "-T5", "--", "c");
	g_autoptr(SbxConfig) c = PARSE_OK("-xM", "/ro", "--", "c");

	assert_int_equal(a->identity, SBX_ID_ROOT);
	assert_true(a->hostname_localhost);
	assert_int_equal(a->fs_mode, SBX_FS_DEFAULT);
	assert_true(a->sigint_polite);
	assert_true(a->verbose);
	assert_int_equal(b->fs_mode, SBX_FS_DEFAULT);
	assert_string_equal(mount_at(b, 0)->path, "/data");
	assert_int_equal(b->timeout_secs, 5);
	assert_int_equal(mount_at(c, 0)->kind, SBX_MOUNT_READ);
	assert_string_equal(mount_at(c, 0)->path, "/ro");
}

static void
test_order_independence(void **state)
{
	/* each group is one option with its value */
	static const char *const groups[][2] = {
		{ "-x", NULL }, { "-w", "/a" }, { "-M", "/b" }, { "-k", "/c" },
		{ "-e", "/d" }, { "-W", "/e" }, { "-U", NULL }, { "-H", NULL },
		{ "-T", "3" }, { "-t", "1" }, { "-i", NULL }, { "-n", NULL },
		{ "--keep-fd", "4" }, { "--tmpfs-size", "1g" }, { "-D", "/log" },
	};
	const gsize ng = G_N_ELEMENTS(groups);
	g_autoptr(SbxConfig) ref = NULL;

	/* forward, reverse, and every rotation */
	for (gsize variant = 0; variant < ng + 1; variant++) {
		g_autoptr(GPtrArray) args = g_ptr_array_new();
		g_autoptr(SbxConfig) cfg = NULL;

		for (gsize k = 0; k < ng; k++) {
			gsize g = variant == ng ? ng - 1 - k : (k + variant) % ng;

			g_ptr_array_add(args, (gpointer)groups[g][0]);
			if (groups[g][1])
				g_ptr_array_add(args, (gpointer)groups[g][1]);
		}
		g_ptr_array_add(args, (gpointer)"--");
		g_ptr_array_add(args, (gpointer)"cmd");
		g_ptr_array_add(args, NULL);
		cfg = parse_ok_v(FALSE, (const char *const *)args->pdata);
		if (!ref)
			ref = g_steal_pointer(&cfg);
		else
			assert_config_equal(ref, cfg);
	}
	/* contradictions are found whichever comes first */
	EXPECT_ERROR(SBX_ERR_ILLEGAL_CONFIG, NEEDLES("-R", "-U"), "-R", "-U", "--", "c");
	EXPECT_ERROR(SBX_ERR_ILLEGAL_CONFIG, NEEDLES("-R", "-U"), "-U", "-R", "--", "c");
	EXPECT_ERROR(SBX_ERR_OVERLAY_NOT_SET, NEEDLES("-k /k"), "-k", "/k", "--", "c");
	{
		/* -k before -x is as good as after it */
		g_autoptr(SbxConfig) a = PARSE_OK("-k", "/k", "-x", "--", "c");
		g_autoptr(SbxConfig) b = PARSE_OK("-x", "-k", "/k", "--", "c");

		assert_config_equal(a, b);
	}
}

/* ---- @FILE ------------------------------------------------------------ */

static void
test_argfile_basic(void **state)
{
	g_autofree char *f = write_file(state, "args", "-x\n-w\n/with space\n\n-R\r\n", -1);
	g_autofree char *at = g_strconcat("@", f, NULL);
	g_autoptr(SbxConfig) cfg = PARSE_OK(at, "-H", "--", "echo", "@notexpanded");

	assert_int_equal(cfg->fs_mode, SBX_FS_DEFAULT);
	assert_string_equal(mount_at(cfg, 0)->path, "/with space");
	assert_int_equal(cfg->identity, SBX_ID_ROOT);
	assert_true(cfg->hostname_localhost);
	assert_true(g_strv_equal((const char *const *)cfg->argv, ARGS("echo", "@notexpanded")));
}

static void
test_argfile_nested_and_command(void **state)
{
	g_autofree char *inner = write_file(state, "inner", "-U\n-M\n/ro", -1);
	g_autofree char *outer_text = g_strdup_printf("-x\n@%s\n--\nprintf\n%%s\\n\n", inner);
	g_autofree char *outer = write_file(state, "outer", outer_text, -1);
	g_autofree char *at = g_strconcat("@", outer, NULL);
	g_autoptr(SbxConfig) cfg = PARSE_OK(at, "after");

	assert_int_equal(cfg->identity, SBX_ID_NOBODY);
	assert_string_equal(mount_at(cfg, 0)->path, "/ro");
	/* "--" inside the file: the command is the rest of the file, then argv */
	assert_true(g_strv_equal((const char *const *)cfg->argv,
				 ARGS("printf", "%s\\n", "after")));
}

static void
test_argfile_value_across_boundary(void **state)
{
	/* the file ends with an option that takes a value: the value is the
	 * next argument, and an @ in a value is never expanded */
	g_autofree char *f = write_file(state, "tail", "-x\n-W", -1);
	g_autofree char *at = g_strconcat("@", f, NULL);
	g_autoptr(SbxConfig) cfg = PARSE_OK(at, "/@work", "--", "c");

	assert_string_equal(cfg->workdir, "/@work");
}

static void
test_argfile_edges(void **state)
{
	g_autofree char *lng = write_file(state, "long", "--timeout", -1);
	g_autofree char *cmd = write_file(state, "cmd", "-x\nls", -1);
	g_autofree char *empty = write_file(state, "empty", "\n\n", -1);
	g_autofree char *at_lng = g_strconcat("@", lng, NULL);
	g_autofree char *at_cmd = g_strconcat("@", cmd, NULL);
	g_autofree char *at_empty = g_strconcat("@", empty, NULL);
	g_autoptr(SbxConfig) a = PARSE_OK(at_lng, "9", "--", "c");
	g_autoptr(SbxConfig) b = PARSE_OK(at_cmd, "-l");
	g_autoptr(SbxConfig) c = PARSE_OK(at_empty, at_empty, "-H", "--", "c");

	/* a long option at the end of a file takes its value from argv */
	assert_int_equal(a->timeout_secs, 9);
	/* the command may start inside a file and go on in argv */
	assert_int_equal(b->fs_mode, SBX_FS_DEFAULT);
	assert_true(g_strv_equal((const char *const *)b->argv, ARGS("ls", "-l")));
	/* a file without arguments adds nothing */
	assert_true(c->hostname_localhost);
	EXPECT_ERROR(SBX_ERR_ILLEGAL_CONFIG, NEEDLES("--timeout needs a value"), at_lng);
}

static void
test_argfile_errors(void **state)
{
	g_autofree char *self = g_build_filename(*state, "self", NULL);
	g_autofree char *self_text = g_strdup_printf("-H\n@%s\n", self);
	g_autofree char *f = write_file(state, "self", self_text, -1);
	g_autofree char *at = g_strconcat("@", f, NULL);
	g_autofree char *missing = g_build_filename(*state, "missing", NULL);
	g_autofree char *at_missing = g_strconcat("@", missing, NULL);
	g_autofree char *nul = write_file(state, "nul", "-x\0-R\n", 6);
	g_autofree char *at_nul = g_strconcat("@", nul, NULL);
	g_autofree char *dir_at = g_strconcat("@", (char *)*state, NULL);

	EXPECT_ERROR(SBX_ERR_ILLEGAL_CONFIG, NEEDLES("nested deeper than 8", f), at, "--", "c");
	EXPECT_ERROR(SBX_ERR_OS, NEEDLES(missing, "cannot read argument file",
					 "No such file"), at_missing, "--", "c");
	EXPECT_ERROR(SBX_ERR_ILLEGAL_CONFIG, NEEDLES(nul, "NUL"), at_nul, "--", "c");
	/* a settings file must be a regular file (common/safepath.h) */
	EXPECT_ERROR(SBX_ERR_ILLEGAL_CONFIG, NEEDLES((char *)*state, "not a regular file"),
		     dir_at, "--", "c");
	EXPECT_ERROR(SBX_ERR_ILLEGAL_CONFIG, NEEDLES("missing file name"), "@", "--", "c");
}

static void
test_argfile_nesting_limit_exact(void **state)
{
	/* SBX_ARGFILE_MAX_DEPTH levels work; one more does not */
	g_autofree char *prev = write_file(state, "level0", "-H\n", -1);

	for (int i = 1; i <= SBX_ARGFILE_MAX_DEPTH; i++) {
		g_autofree char *name = g_strdup_printf("level%d", i);
		g_autofree char *text = g_strdup_printf("@%s\n", prev);

		g_free(prev);
		prev = write_file(state, name, text, -1);
	}
	/* prev is level8 → 9 files deep in total */
	{
		g_autofree char *at = g_strconcat("@", prev, NULL);
		g_autofree char *inner = g_build_filename(*state, "level7", NULL);
		g_autofree char *at7 = g_strconcat("@", inner, NULL);
		g_autoptr(SbxConfig) ok = PARSE_OK(at7, "--", "c");

		assert_true(ok->hostname_localhost);
		EXPECT_ERROR(SBX_ERR_ILLEGAL_CONFIG, NEEDLES("nested deeper"), at, "--", "c");
	}
}

/* ---- no command, unknown and malformed options ------------------------- */

static void
test_missing_command(void **state)
{
	EXPECT_ERROR(SBX_ERR_ILLEGAL_CONFIG, NEEDLES("no command given"), "-x", "--");
	EXPECT_ERROR(SBX_ERR_ILLEGAL_CONFIG, NEEDLES("no command given"), "-x");
	EXPECT_ERROR(SBX_ERR_ILLEGAL_CONFIG, NEEDLES("empty"), "--", "");
	{
		Parsed p = parse_v(FALSE, (const char *const[]){ NULL });

		assert_int_equal(p.res, SBX_PARSE_ERROR);
		assert_non_null(strstr(p.error->message, "no command given"));
		parsed_clear(&p);
	}
}

static void
test_unknown_and_malformed(void **state)
{
	EXPECT_ERROR(SBX_ERR_ILLEGAL_CONFIG, NEEDLES("unknown option -Q"), "-Q", "--", "c");
	EXPECT_ERROR(SBX_ERR_ILLEGAL_CONFIG, NEEDLES("unknown option --nope"), "--nope=1", "--",
		     "c");
	/* no abbreviations: a future option must never change an old script */
	EXPECT_ERROR(SBX_ERR_ILLEGAL_CONFIG, NEEDLES("unknown option --defaul"), "--defaul",
		     "--", "c");
	EXPECT_ERROR(SBX_ERR_ILLEGAL_CONFIG, NEEDLES("--fake-root takes no value"),
		     "--fake-root=yes", "--", "c");
	EXPECT_ERROR(SBX_ERR_ILLEGAL_CONFIG, NEEDLES("-w needs a value"), "-w");
	EXPECT_ERROR(SBX_ERR_ILLEGAL_CONFIG, NEEDLES("--timeout needs a value"), "--timeout");
	/* -h is hermetic, not help: say so */
	EXPECT_ERROR(SBX_ERR_ILLEGAL_CONFIG, NEEDLES("-h needs a value", "--help"), "-h");
}

/* ---- mini-tapbox -------------------------------------------------------- */

static void
test_tapbox_only_options_rejected(void **state)
{
	static const char *const opts[][2] = {
		{ "-F", "/list" }, { "--allowlist", "/list" }, { "--allow", "example.com" },
		{ "--allow-unresolved", NULL }, { "--allow-host-port", "8080" },
		{ "--publish", "8080:80" }, { "--mtu", "1500" }, { "--resolver", "1.1.1.1" },
		{ "--log", "/deny.json" }, { "--slirp-tcp", NULL }, { "--no-name-check", NULL },
	};

	for (gsize i = 0; i < G_N_ELEMENTS(opts); i++) {
		g_autofree char *msg = g_strdup_printf("%s needs mini-tapbox", opts[i][0]);

		if (opts[i][1])
			EXPECT_ERROR(SBX_ERR_ILLEGAL_NETWORK, NEEDLES(msg), opts[i][0], opts[i][1],
				     "--", "c");
		else
			EXPECT_ERROR(SBX_ERR_ILLEGAL_NETWORK, NEEDLES(msg), opts[i][0], "--", "c");
	}
}

static void
test_tapbox_semantics(void **state)
{
	g_autoptr(SbxConfig) open_net = PARSE_TAP_OK("-x", "--", "c");
	g_autoptr(SbxConfig) listed = PARSE_TAP_OK("--allow", "10.0.0.1", "--", "c");

	assert_true(open_net->is_tapbox);
	assert_int_equal(open_net->net_mode, SBX_NET_TAP);
	assert_true(open_net->allow_all);
	assert_int_equal(listed->net_mode, SBX_NET_TAP);
	assert_false(listed->allow_all);
}

/* ---- --help / --version ------------------------------------------------- */

static char *
capture_stdout(gboolean tapbox, const char *const *args, SbxParseResult *res)
{
	FILE *tmp = tmpfile();
	int saved;
	Parsed p;
	char buf[4096];
	size_t n;

	assert_non_null(tmp);
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(tmp), STDOUT_FILENO) >= 0);
	p = parse_v(tapbox, args);
	fflush(stdout);
	assert_true(dup2(saved, STDOUT_FILENO) >= 0);
	close(saved);
	*res = p.res;
	parsed_clear(&p);
	rewind(tmp);
	n = fread(buf, 1, sizeof buf - 1, tmp);
	fclose(tmp);
	buf[n] = '\0';
	return g_strdup(buf);
}

static void
test_help_and_version(void **state)
{
	SbxParseResult res;
	g_autofree char *help = capture_stdout(FALSE, ARGS("--help"), &res);
	g_autofree char *help_x = NULL, *tap_help = NULL, *version = NULL, *want = NULL;

	assert_int_equal(res, SBX_PARSE_EXIT_OK);
	assert_non_null(strstr(help, "Usage: mini-sandbox"));
	assert_non_null(strstr(help, "man mini-sandbox"));
	assert_null(strstr(help, "--allow-host-port"));
	/* short, and it points at the man page */
	assert_true(strlen(help) < 1500);

	/* --help wins over a complete command line */
	help_x = capture_stdout(FALSE, ARGS("-x", "--help", "--", "c"), &res);
	assert_int_equal(res, SBX_PARSE_EXIT_OK);
	assert_string_equal(help_x, help);

	tap_help = capture_stdout(TRUE, ARGS("--help"), &res);
	assert_int_equal(res, SBX_PARSE_EXIT_OK);
	assert_non_null(strstr(tap_help, "man mini-tapbox"));
	assert_non_null(strstr(tap_help, "--allow-host-port"));

	version = capture_stdout(TRUE, ARGS("--version"), &res);
	assert_int_equal(res, SBX_PARSE_EXIT_OK);
	want = g_strdup_printf("mini-tapbox %s\n", PACKAGE_VERSION);
	assert_string_equal(version, want);
}

/* The original's -P -m -S -G -l -L are accepted (with a notice) and
 * change nothing: its users' scripts keep working. */
static void
test_original_compat_letters(void **state)
{
	g_autoptr(SbxConfig) cfg = PARSE_OK("-x", "-P", "-m", "/t", "-S", "/stats", "-G", "g",
					    "-l", "/out", "-L", "/err", "--", "cmd");
	g_autoptr(SbxConfig) tap = PARSE_TAP_OK("-Pm/t", "--", "cmd");

	assert_int_equal(cfg->fs_mode, SBX_FS_DEFAULT);
	assert_int_equal(cfg->mounts->len, 0);
	assert_string_equal(cfg->argv[0], "cmd");
	assert_null(cfg->argv[1]);
	assert_string_equal(tap->argv[0], "cmd");
}

static void
test_long_names_list(void **state)
{
	const char *const *names = sbx_options_long_names();
	static const char *const want[] = {
		"default", "root", "overlay-dir", "overlay", "hermetic", "write", "read-only",
		"empty", "workdir", "share-network", "no-loopback", "fake-root", "nobody",
		"hostname-localhost", "timeout", "kill-delay", "sigint-term", "debug-log",
		"allowlist", "allow", "allow-host-port", "publish", "mtu", "resolver", "log", "learn", "quiet",
		"allow-unresolved", "slirp-tcp", "no-name-check", "keep-fd", "tmpfs-size", "keep-overlay", "proc", "verbose",
		"max-procs",
		"profile", "print-profile", "profile-cache",
		"help", "version", "allow-userns", "require-landlock",
	};

	assert_int_equal(g_strv_length((char **)names), G_N_ELEMENTS(want));
	for (gsize i = 0; i < G_N_ELEMENTS(want); i++)
		assert_true(g_strv_contains(names, want[i]));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_proc_host),
		cmocka_unit_test(test_command_ends_options),
		cmocka_unit_test(test_every_short_option),
		cmocka_unit_test(test_original_compat_letters),
		cmocka_unit_test(test_long_only_options),
		cmocka_unit_test(test_long_short_equivalence),
		cmocka_unit_test(test_clusters),
		cmocka_unit_test(test_order_independence),
		cmocka_unit_test_setup_teardown(test_argfile_basic, setup_tmpdir, teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_argfile_recorded, setup_tmpdir, teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_argfile_nested_and_command, setup_tmpdir,
						teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_argfile_value_across_boundary, setup_tmpdir,
						teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_argfile_edges, setup_tmpdir, teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_argfile_errors, setup_tmpdir, teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_argfile_nesting_limit_exact, setup_tmpdir,
						teardown_tmpdir),
		cmocka_unit_test(test_missing_command),
		cmocka_unit_test(test_unknown_and_malformed),
		cmocka_unit_test(test_tapbox_only_options_rejected),
		cmocka_unit_test(test_tapbox_semantics),
		cmocka_unit_test(test_help_and_version),
		cmocka_unit_test(test_long_names_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
