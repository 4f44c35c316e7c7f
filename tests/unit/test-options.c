/* SPDX-License-Identifier: MIT
 *
 * test-options.c — the command line: every option, long/short equivalence,
 * order independence, @FILE expansion, every contradiction with its code and
 * message, bad numbers, mini-tapbox-only options, --help/--version.
 */
#include "options.h"
#include "common/error.h"
#include "sbx-build-config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

/* ---- helpers ---------------------------------------------------------- */

typedef struct {
	SbxParseResult res;
	SbxConfig *cfg;
	GError *error;
} Parsed;

static void
parsed_clear(Parsed *p)
{
	sbx_config_free(p->cfg);
	g_clear_error(&p->error);
}

/* Parse a NULL-terminated vector (without argv[0]). */
static Parsed
parse_v(gboolean tapbox, const char *const *args)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	Parsed p = { 0 };

	g_ptr_array_add(argv, (gpointer)(tapbox ? "mini-tapbox" : "mini-sandbox"));
	for (; *args; args++)
		g_ptr_array_add(argv, (gpointer)*args);
	g_ptr_array_add(argv, NULL);
	p.res = sbx_options_parse((int)argv->len - 1, (char **)argv->pdata, tapbox, &p.cfg,
				  &p.error);
	if (p.res == SBX_PARSE_ERROR) {
		assert_non_null(p.error);
		assert_null(p.cfg);
	} else {
		assert_null(p.error);
	}
	return p;
}

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define PARSE(...) parse_v(FALSE, ARGS(__VA_ARGS__))
#define PARSE_TAP(...) parse_v(TRUE, ARGS(__VA_ARGS__))

static SbxConfig *
parse_ok_v(gboolean tapbox, const char *const *args)
{
	Parsed p = parse_v(tapbox, args);

	if (p.res != SBX_PARSE_RUN)
		fail_msg("expected success, got: %s", p.error ? p.error->message : "exit-ok");
	return p.cfg;
}
#define PARSE_OK(...) parse_ok_v(FALSE, ARGS(__VA_ARGS__))
#define PARSE_TAP_OK(...) parse_ok_v(TRUE, ARGS(__VA_ARGS__))

/* Expect an error with CODE whose message contains every NEEDLE. */
static void
expect_error_v(gboolean tapbox, int code, const char *const *needles, const char *const *args)
{
	Parsed p = parse_v(tapbox, args);

	if (p.res != SBX_PARSE_ERROR)
		fail_msg("expected an error for '%s ...'", args[0]);
	if (p.error->domain != SBX_ERROR || p.error->code != code)
		fail_msg("expected code %d, got %d: %s", code, p.error->code, p.error->message);
	for (; *needles; needles++)
		if (!strstr(p.error->message, *needles))
			fail_msg("message '%s' lacks '%s'", p.error->message, *needles);
	parsed_clear(&p);
}
#define NEEDLES(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define EXPECT_ERROR(code, needles, ...) expect_error_v(FALSE, code, needles, ARGS(__VA_ARGS__))
#define EXPECT_TAP_ERROR(code, needles, ...) \
	expect_error_v(TRUE, code, needles, ARGS(__VA_ARGS__))

static gint
cmp_mount(gconstpointer a, gconstpointer b)
{
	const SbxMountOpt *x = a, *y = b;

	return x->kind != y->kind ? (int)x->kind - (int)y->kind : strcmp(x->path, y->path);
}

static gint
cmp_str(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
assert_str_eq_null(const char *a, const char *b)
{
	if (!a || !b)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

static void
assert_strv_set_eq(GPtrArray *a, GPtrArray *b)
{
	g_autoptr(GPtrArray) x = g_ptr_array_copy(a, NULL, NULL);
	g_autoptr(GPtrArray) y = g_ptr_array_copy(b, NULL, NULL);

	/* the copies share the strings (and would inherit the free func) */
	g_ptr_array_set_free_func(x, NULL);
	g_ptr_array_set_free_func(y, NULL);
	assert_int_equal(x->len, y->len);
	g_ptr_array_sort(x, cmp_str);
	g_ptr_array_sort(y, cmp_str);
	for (guint i = 0; i < x->len; i++)
		assert_string_equal(g_ptr_array_index(x, i), g_ptr_array_index(y, i));
}

/* Two configs mean the same sandbox (repeatable options compared as sets:
 * the order of -w/-M/... is not part of the meaning). */
static void
assert_config_equal(const SbxConfig *a, const SbxConfig *b)
{
	g_autoptr(GArray) ma = g_array_copy(a->mounts), mb = g_array_copy(b->mounts);

	/* the copies share path pointers: do not let them free anything */
	g_array_set_clear_func(ma, NULL);
	g_array_set_clear_func(mb, NULL);
	assert_int_equal(a->fs_mode, b->fs_mode);
	assert_str_eq_null(a->custom_root, b->custom_root);
	assert_str_eq_null(a->overlay_dir, b->overlay_dir);
	assert_str_eq_null(a->hermetic_dir, b->hermetic_dir);
	assert_int_equal(a->keep_overlay, b->keep_overlay);
	assert_int_equal(ma->len, mb->len);
	g_array_sort(ma, cmp_mount);
	g_array_sort(mb, cmp_mount);
	for (guint i = 0; i < ma->len; i++)
		assert_int_equal(cmp_mount(&g_array_index(ma, SbxMountOpt, i),
					   &g_array_index(mb, SbxMountOpt, i)), 0);
	assert_str_eq_null(a->workdir, b->workdir);
	assert_int_equal(a->mount_proc, b->mount_proc);
	assert_int_equal(a->tmpfs_size, b->tmpfs_size);
	assert_int_equal(a->identity, b->identity);
	assert_int_equal(a->hostname_localhost, b->hostname_localhost);
	assert_int_equal(a->timeout_secs, b->timeout_secs);
	assert_int_equal(a->grace_secs, b->grace_secs);
	assert_int_equal(a->sigint_polite, b->sigint_polite);
	assert_int_equal(a->keep_fds->len, b->keep_fds->len);
	assert_str_eq_null(a->debug_log, b->debug_log);
	assert_int_equal(a->verbose, b->verbose);
	assert_int_equal(a->net_mode, b->net_mode);
	assert_strv_set_eq(a->allow_files, b->allow_files);
	assert_strv_set_eq(a->allow_entries, b->allow_entries);
	assert_int_equal(a->allow_all, b->allow_all);
	assert_int_equal(a->allow_unresolved, b->allow_unresolved);
	assert_int_equal(a->host_ports->len, b->host_ports->len);
	assert_int_equal(a->publish->len, b->publish->len);
	assert_int_equal(a->mtu, b->mtu);
	assert_str_eq_null(a->resolver, b->resolver);
	assert_str_eq_null(a->log_file, b->log_file);
	assert_int_equal(a->is_tapbox, b->is_tapbox);
	assert_true(g_strv_equal((const char *const *)a->argv, (const char *const *)b->argv));
}

static const SbxMountOpt *
mount_at(const SbxConfig *cfg, guint i)
{
	assert_true(i < cfg->mounts->len);
	return &g_array_index(cfg->mounts, SbxMountOpt, i);
}

/* A scratch directory for argument files. */
static int
setup_tmpdir(void **state)
{
	*state = g_dir_make_tmp("test-options-XXXXXX", NULL);
	return *state ? 0 : -1;
}

static int
teardown_tmpdir(void **state)
{
	g_autoptr(GDir) dir = g_dir_open(*state, 0, NULL);
	const char *name;

	while (dir && (name = g_dir_read_name(dir))) {
		g_autofree char *path = g_build_filename(*state, name, NULL);

		unlink(path);
	}
	rmdir(*state);
	g_free(*state);
	return 0;
}

static char *
write_file(void **state, const char *name, const char *contents, gssize len)
{
	char *path = g_build_filename(*state, name, NULL);

	assert_true(g_file_set_contents(path, contents, len, NULL));
	return path;
}

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

static void
test_long_only_options(void **state)
{
	g_autoptr(SbxConfig) s = PARSE_OK("-o", "/r", "-d", "/o", "--keep-overlay",
					  "--tmpfs-size", "64m", "--keep-fd", "5",
					  "--keep-fd=7", "--", "c");
	g_autoptr(SbxConfig) h = PARSE_OK("-h", "/h", "--proc", "--", "c");
	g_autoptr(SbxConfig) t = PARSE_TAP_OK("--allow", "example.com:443", "--allow",
					      "10.0.0.0/8", "--allow-unresolved",
					      "--allow-host-port", "8080", "--allow-host-port=22",
					      "--publish", "8080:80", "--publish",
					      "0.0.0.0:2222:22", "--publish", "[::1]:9000:90",
					      "--mtu", "1500", "--resolver", "127.0.0.1:5353",
					      "--log", "/var/log/deny.json", "--", "c");
	const SbxPublish *pub;

	assert_true(s->keep_overlay);
	assert_int_equal(s->tmpfs_size, 64ULL << 20);
	assert_int_equal(s->keep_fds->len, 2);
	assert_int_equal(g_array_index(s->keep_fds, int, 0), 5);
	assert_int_equal(g_array_index(s->keep_fds, int, 1), 7);
	assert_true(h->mount_proc);

	assert_int_equal(t->allow_entries->len, 2);
	assert_string_equal(g_ptr_array_index(t->allow_entries, 0), "example.com:443");
	assert_false(t->allow_all);
	assert_true(t->allow_unresolved);
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
	EXPECT_ERROR(SBX_ERR_OS, NEEDLES((char *)*state), dir_at, "--", "c");
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

/* ---- contradictions and path rules ------------------------------------ */

static void
test_two_modes(void **state)
{
	EXPECT_ERROR(SBX_ERR_INVALID_MODE, NEEDLES("-x", "-o", "choose one"),
		     "-x", "-o", "/r", "--", "c");
	EXPECT_ERROR(SBX_ERR_INVALID_MODE, NEEDLES("-x", "-o"), "-o", "/r", "-x", "--", "c");
	EXPECT_ERROR(SBX_ERR_INVALID_MODE, NEEDLES("-o", "-h"), "-o", "/r", "-h", "/h", "--", "c");
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
	EXPECT_ERROR(SBX_ERR_ILLEGAL_CONFIG, NEEDLES("-d /r/ovl", "inside -o /r"), "-o", "/r",
		     "-d", "/r/ovl", "--", "c");
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

/* ---- mini-tapbox -------------------------------------------------------- */

static void
test_tapbox_only_options_rejected(void **state)
{
	static const char *const opts[][2] = {
		{ "-F", "/list" }, { "--allowlist", "/list" }, { "--allow", "example.com" },
		{ "--allow-unresolved", NULL }, { "--allow-host-port", "8080" },
		{ "--publish", "8080:80" }, { "--mtu", "1500" }, { "--resolver", "1.1.1.1" },
		{ "--log", "/deny.json" },
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

	help_x = capture_stdout(FALSE, ARGS("-x", "--help", "--", "c"), &res);
	assert_int_equal(res, SBX_PARSE_EXIT_OK);

	tap_help = capture_stdout(TRUE, ARGS("--help"), &res);
	assert_int_equal(res, SBX_PARSE_EXIT_OK);
	assert_non_null(strstr(tap_help, "man mini-tapbox"));
	assert_non_null(strstr(tap_help, "--allow-host-port"));

	version = capture_stdout(TRUE, ARGS("--version"), &res);
	assert_int_equal(res, SBX_PARSE_EXIT_OK);
	want = g_strdup_printf("mini-tapbox %s\n", PACKAGE_VERSION);
	assert_string_equal(version, want);
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
	assert_int_equal(err->code, SBX_ERR_INVALID_MODE);
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

static void
test_long_names_list(void **state)
{
	const char *const *names = sbx_options_long_names();
	static const char *const want[] = {
		"default", "root", "overlay-dir", "overlay", "hermetic", "write", "read-only",
		"empty", "workdir", "share-network", "no-loopback", "fake-root", "nobody",
		"hostname-localhost", "timeout", "kill-delay", "sigint-term", "debug-log",
		"allowlist", "allow", "allow-host-port", "publish", "mtu", "resolver", "log",
		"allow-unresolved", "keep-fd", "tmpfs-size", "keep-overlay", "proc", "verbose",
		"help", "version",
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
		cmocka_unit_test(test_command_ends_options),
		cmocka_unit_test(test_every_short_option),
		cmocka_unit_test(test_long_only_options),
		cmocka_unit_test(test_long_short_equivalence),
		cmocka_unit_test(test_clusters),
		cmocka_unit_test(test_order_independence),
		cmocka_unit_test_setup_teardown(test_argfile_basic, setup_tmpdir, teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_argfile_nested_and_command, setup_tmpdir,
						teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_argfile_value_across_boundary, setup_tmpdir,
						teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_argfile_errors, setup_tmpdir, teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_argfile_nesting_limit_exact, setup_tmpdir,
						teardown_tmpdir),
		cmocka_unit_test(test_two_modes),
		cmocka_unit_test(test_identity_and_network_conflicts),
		cmocka_unit_test(test_unique_options),
		cmocka_unit_test(test_overlay_needs_mode),
		cmocka_unit_test(test_relative_paths),
		cmocka_unit_test(test_host_files_made_absolute),
		cmocka_unit_test(test_read_and_write),
		cmocka_unit_test(test_tmp_in_default_mode),
		cmocka_unit_test(test_missing_command),
		cmocka_unit_test(test_unknown_and_malformed),
		cmocka_unit_test(test_bad_numbers),
		cmocka_unit_test(test_publish_and_resolver_syntax),
		cmocka_unit_test(test_tapbox_only_options_rejected),
		cmocka_unit_test(test_tapbox_semantics),
		cmocka_unit_test(test_help_and_version),
		cmocka_unit_test(test_api_setters_and_validate),
		cmocka_unit_test(test_long_names_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
