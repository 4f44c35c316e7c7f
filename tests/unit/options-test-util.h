/* SPDX-License-Identifier: MIT
 *
 * options-test-util.h — helpers shared by test-options.c (the parser) and
 * test-options-check.c (the rules): parse a vector, expect an error with a
 * code and message fragments, compare two configs by meaning.
 */
#pragma once

#include "src/options.h"
#include "common/error.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

typedef struct {
	SbxParseResult res;
	SbxConfig *cfg;
	GError *error;
} Parsed;

G_GNUC_UNUSED static void
parsed_clear(Parsed *p)
{
	sbx_config_free(p->cfg);
	g_clear_error(&p->error);
}

/* Parse a NULL-terminated vector (without argv[0]). */
G_GNUC_UNUSED static Parsed
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

G_GNUC_UNUSED static SbxConfig *
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
G_GNUC_UNUSED static void
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

G_GNUC_UNUSED static gint
cmp_mount(gconstpointer a, gconstpointer b)
{
	const SbxMountOpt *x = a, *y = b;

	return x->kind != y->kind ? (int)x->kind - (int)y->kind : strcmp(x->path, y->path);
}

G_GNUC_UNUSED static gint
cmp_str(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

G_GNUC_UNUSED static void
assert_str_eq_null(const char *a, const char *b)
{
	if (!a || !b)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

G_GNUC_UNUSED static void
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
G_GNUC_UNUSED static void
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
	assert_int_equal(a->max_procs, b->max_procs);
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

G_GNUC_UNUSED static const SbxMountOpt *
mount_at(const SbxConfig *cfg, guint i)
{
	assert_true(i < cfg->mounts->len);
	return &g_array_index(cfg->mounts, SbxMountOpt, i);
}

/* A scratch directory for argument files. */
G_GNUC_UNUSED static int
setup_tmpdir(void **state)
{
	*state = g_dir_make_tmp("test-options-XXXXXX", NULL);
	return *state ? 0 : -1;
}

G_GNUC_UNUSED static int
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

G_GNUC_UNUSED static char *
write_file(void **state, const char *name, const char *contents, gssize len)
{
	char *path = g_build_filename(*state, name, NULL);

	assert_true(g_file_set_contents(path, contents, len, NULL));
	return path;
}
