/* SPDX-License-Identifier: MIT
 *
 * test-profile.c — the package-manager profiles on sample settings files
 * (comments, quoting, ${VAR}, sections, continuation lines, deb822,
 * nested apt.conf, insteadOf), through a fake ProfileHost: a table of
 * path → contents, an environment and a CWD.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "net/profile/profile.h"
#include "common/error.h"

#include <string.h>

typedef struct {
	GHashTable *files;      /* path → contents; a NULL value is a directory */
	GHashTable *programs;   /* name → canonical path */
} FakeHost;

static char *
fake_read(const ProfileHost *h, const char *path, gsize *len, gboolean *missing, GError **error)
{
	FakeHost *f = h->data;
	const char *text;

	if (!g_hash_table_contains(f->files, path) ||
	    !(text = g_hash_table_lookup(f->files, path))) {
		*missing = TRUE;
		return NULL;
	}
	*missing = FALSE;
	*len = strlen(text);
	return g_strdup(text);
}

static gboolean
fake_exists(const ProfileHost *h, const char *path)
{
	FakeHost *f = h->data;
	GHashTableIter it;
	gpointer key;
	size_t n = strlen(path);

	if (g_hash_table_contains(f->files, path))
		return TRUE;
	g_hash_table_iter_init(&it, f->files);
	while (g_hash_table_iter_next(&it, &key, NULL))
		if (strncmp(key, path, n) == 0 && ((char *)key)[n] == '/')
			return TRUE;
	return FALSE;
}

static gint
cmp(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static GPtrArray *
fake_list(const ProfileHost *h, const char *dir)
{
	FakeHost *f = h->data;
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	GHashTableIter it;
	gpointer key;
	size_t n = strlen(dir);

	g_hash_table_iter_init(&it, f->files);
	while (g_hash_table_iter_next(&it, &key, NULL))
		if (strncmp(key, dir, n) == 0 && ((char *)key)[n] == '/' &&
		    !strchr((char *)key + n + 1, '/'))
			g_ptr_array_add(names, g_strdup((char *)key + n + 1));
	g_ptr_array_sort(names, cmp);
	return names;
}

static char *
fake_program(const ProfileHost *h, const char *name)
{
	FakeHost *f = h->data;

	return g_strdup(g_hash_table_lookup(f->programs, name));
}

typedef struct {
	FakeHost fake;
	ProfileHost host;
} Fixture;

static int
setup(void **state)
{
	Fixture *fx = g_new0(Fixture, 1);

	fx->fake.files = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	fx->fake.programs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	fx->host.env = g_new0(char *, 1);
	fx->host.cwd = "/home/u/proj/sub";
	fx->host.home = "/home/u";
	fx->host.read_file = fake_read;
	fx->host.exists = fake_exists;
	fx->host.list_dir = fake_list;
	fx->host.find_program = fake_program;
	fx->host.data = &fx->fake;
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	Fixture *fx = *state;

	g_hash_table_unref(fx->fake.files);
	g_hash_table_unref(fx->fake.programs);
	g_strfreev(fx->host.env);
	g_free(fx);
	return 0;
}

static void
put(Fixture *fx, const char *path, const char *text)
{
	g_hash_table_replace(fx->fake.files, g_strdup(path), g_strdup(text));
}

static void
setenv_fx(Fixture *fx, const char *name, const char *value)
{
	fx->host.env = g_environ_setenv(fx->host.env, name, value, TRUE);
}

/* The entries of R as "entry@where" lines, for one comparison. */
static char *
entries_text(const ProfileResult *r)
{
	GString *s = g_string_new(NULL);

	for (guint i = 0; i < r->entries->len; i++) {
		const ProfileEntry *e = &g_array_index(r->entries, ProfileEntry, i);

		g_string_append_printf(s, "%s@%s\n", e->entry, e->where);
	}
	return g_string_free(s, FALSE);
}

static void
assert_profile(Fixture *fx, const char *name, const char *want)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(ProfileResult) r = profile_evaluate(name, &fx->host, &err);
	g_autofree char *got = NULL;

	if (!r)
		fail_msg("profile %s failed: %s", name, err->message);
	got = entries_text(r);
	if (strcmp(got, want) != 0)
		fail_msg("profile %s:\n got:\n%s want:\n%s", name, got, want);
}

static void
assert_profile_error(Fixture *fx, const char *name, const char *msg)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(ProfileResult) r = profile_evaluate(name, &fx->host, &err);

	if (r)
		fail_msg("profile %s succeeded; wanted '%s'", name, msg);
	assert_int_equal(err->code, SBX_ERR_ILLEGAL_CONFIG);
	if (!strstr(err->message, msg))
		fail_msg("message '%s' lacks '%s'", err->message, msg);
}

static gboolean
has_string(GPtrArray *a, const char *s)
{
	for (guint i = 0; i < a->len; i++)
		if (strcmp(a->pdata[i], s) == 0)
			return TRUE;
	return FALSE;
}

/* ---- npm ---- */

static void
test_npm_default(void **state)
{
	assert_profile(*state, "npm", "registry.npmjs.org:443@npm's default registry\n");
}

static void
test_npm_files(void **state)
{
	Fixture *fx = *state;
	g_autoptr(GError) err = NULL;
	g_autoptr(ProfileResult) r = NULL;

	setenv_fx(fx, "CORP_HOST", "npm.corp.example");
	/* ~/.npmrc: comments, quoting, ${VAR}, a scoped registry, a token */
	put(fx, "/home/u/.npmrc",
	    "; user settings\n"
	    "# another comment\n"
	    "registry = https://${CORP_HOST}/api/npm/  ; trailing comment\n"
	    "@corp:registry=\"https://npm.corp.example:8443/scoped/\"\n"
	    "//npm.corp.example/api/npm/:_authToken=${NPM_TOKEN?}\n"
	    "fund=false\n"
	    "[section]\n"
	    "registry=https://ignored.example/\n");
	/* the project root is the nearest package.json above CWD */
	put(fx, "/home/u/proj/package.json", "{}");
	put(fx, "/home/u/proj/.npmrc", "@other:registry=http://198.18.0.10:4873\n");
	/* global: PREFIX/etc/npmrc with PREFIX two levels above node */
	g_hash_table_replace(fx->fake.programs, g_strdup("node"), g_strdup("/opt/node/bin/node"));
	put(fx, "/opt/node/etc/npmrc", "@glob:registry='https://glob.example/'\n");
	assert_profile(fx, "npm",
		       "198.18.0.10:4873@/home/u/proj/.npmrc:1\n"
		       "npm.corp.example:443@/home/u/.npmrc:3\n"
		       "npm.corp.example:8443@/home/u/.npmrc:4\n"
		       "glob.example:443@/opt/node/etc/npmrc:1\n");
	r = profile_evaluate("npm", &fx->host, &err);
	assert_non_null(r);
	assert_true(has_string(r->files, "/home/u/.npmrc"));
	assert_true(has_string(r->files, "/home/u/proj/.npmrc"));
	assert_true(has_string(r->files, "/opt/node/etc/npmrc"));
	assert_string_equal(r->cache_var, "npm_config_cache");

	/* the environment wins over every file, in any case */
	setenv_fx(fx, "NPM_CONFIG_REGISTRY", "https://env.example/");
	assert_profile(fx, "npm",
		       "env.example:443@$NPM_CONFIG_REGISTRY\n"
		       "198.18.0.10:4873@/home/u/proj/.npmrc:1\n"
		       "npm.corp.example:8443@/home/u/.npmrc:4\n"
		       "glob.example:443@/opt/node/etc/npmrc:1\n");
}

static void
test_npm_errors(void **state)
{
	Fixture *fx = *state;

	put(fx, "/home/u/.npmrc", "fund=false\nregistry=${MISSING_VAR}/x\n");
	assert_profile_error(fx, "npm", "/home/u/.npmrc:2: ${MISSING_VAR} is not set");
	put(fx, "/home/u/.npmrc", "registry=ftp://x.example/\n");
	assert_profile_error(fx, "npm", "/home/u/.npmrc:1: unknown URL scheme 'ftp'");
	put(fx, "/home/u/.npmrc", "[broken\n");
	assert_profile_error(fx, "npm", "/home/u/.npmrc:1: missing ']'");
}

static void
test_npm_proxy(void **state)
{
	Fixture *fx = *state;
	g_autoptr(GError) err = NULL;
	g_autoptr(ProfileResult) r = NULL;

	put(fx, "/home/u/.npmrc", "https-proxy=http://127.0.0.1:3128/\n");
	setenv_fx(fx, "http_proxy", "http://user:pw@proxy.example:8080");
	r = profile_evaluate("npm", &fx->host, &err);
	assert_non_null(r);
	assert_int_equal(r->host_ports->len, 1);
	assert_int_equal(g_array_index(r->host_ports, guint16, 0), 3128);
	assert_true(has_string(r->env, "npm_config_https_proxy=http://10.0.2.2:3128/"));
	assert_true(has_string(r->notes,
			       "a proxy is set: behind a proxy, the proxy decides what is reachable"));
	g_clear_pointer(&r, profile_result_free);
	assert_profile(fx, "npm",
		       "registry.npmjs.org:443@npm's default registry\n"
		       "proxy.example:8080@$http_proxy\n");
}

/* ---- pip ---- */

static void
test_pip_default(void **state)
{
	assert_profile(*state, "pip",
		       "pypi.org:443@pip's default index\n"
		       "files.pythonhosted.org:443@pip's default index (files)\n");
}

static void
test_pip_files(void **state)
{
	Fixture *fx = *state;

	put(fx, "/etc/pip.conf", "[global]\nindex-url = https://global.example/simple\n");
	put(fx, "/home/u/.config/pip/pip.conf",
	    "# user config\n"
	    "; also a comment\n"
	    "[global]\n"
	    "timeout = 60\n"
	    "Extra_Index_URL =\n"
	    "    https://extra1.example/simple\n"
	    "    http://198.18.0.11:8080/simple\n"
	    "find-links: /local/wheels https://links.example/wheels/\n"
	    "[install]\n"
	    "index-url = https://user.example:8443/pypi/simple\n"
	    "[freeze]\n"
	    "index-url = https://ignored.example/\n");
	assert_profile(fx, "pip",
		       "user.example:8443@/home/u/.config/pip/pip.conf:10\n"
		       "extra1.example:443@/home/u/.config/pip/pip.conf:5\n"
		       "198.18.0.11:8080@/home/u/.config/pip/pip.conf:5\n"
		       "links.example:443@/home/u/.config/pip/pip.conf:8\n");
	/* $VIRTUAL_ENV/pip.conf over the user's, the environment over all */
	setenv_fx(fx, "VIRTUAL_ENV", "/home/u/venv");
	put(fx, "/home/u/venv/pip.conf", "[global]\nextra-index-url=https://venv.example/\n");
	setenv_fx(fx, "PIP_INDEX_URL", "https://env.example/simple");
	assert_profile(fx, "pip",
		       "env.example:443@$PIP_INDEX_URL\n"
		       "venv.example:443@/home/u/venv/pip.conf:2\n"
		       "links.example:443@/home/u/.config/pip/pip.conf:8\n");
}

static void
test_pip_errors(void **state)
{
	Fixture *fx = *state;

	put(fx, "/home/u/.pip/pip.conf", "index-url = https://x.example/\n");
	assert_profile_error(fx, "pip", "/home/u/.pip/pip.conf:1: 'key = value' before any");
	put(fx, "/home/u/.pip/pip.conf", "[global]\nthis line is wrong\n");
	assert_profile_error(fx, "pip", "/home/u/.pip/pip.conf:2: expected 'key = value'");
}

/* ---- apt ---- */

static void
test_apt(void **state)
{
	Fixture *fx = *state;

	put(fx, "/etc/apt/sources.list",
	    "# main archive\n"
	    "deb http://deb.example/debian bookworm main contrib\n"
	    "deb [arch=amd64 signed-by=/usr/share/keyrings/k.gpg] https://repo.example:8443/apt stable main\n"
	    "deb-src http://deb.example/debian bookworm main\n"
	    "deb file:/srv/local ./\n"
	    "deb cdrom:[Debian]/ bookworm main\n");
	put(fx, "/etc/apt/sources.list.d/extra.list",
	    "deb mirror+http://mirrors.example/list.txt bookworm main\n");
	put(fx, "/etc/apt/sources.list.d/ignored.save", "deb http://ignored.example/ x y\n");
	put(fx, "/etc/apt/sources.list.d/debian.sources",
	    "Types: deb deb-src\n"
	    "URIs: http://198.18.0.10/debian\n"
	    "  https://second.example/debian\n"
	    "Suites: bookworm bookworm-updates\n"
	    "# a comment inside a stanza\n"
	    "Components: main\n"
	    "\n"
	    "Types: deb\n"
	    "URIs: http://disabled.example/\n"
	    "Enabled: no\n"
	    "Suites: x\n");
	put(fx, "/etc/apt/apt.conf.d/01proxy",
	    "// proxies\n"
	    "Acquire {\n"
	    "  http { Proxy \"http://127.0.0.1:3142\"; Proxy::deb.example \"DIRECT\"; };\n"
	    "};\n"
	    "/* block\n comment */\n"
	    "APT::NeverAutoRemove { \"^linux-.*\"; };\n");
	put(fx, "/etc/apt/apt.conf", "Acquire::https::Proxy \"http://proxy.example:3128/\";\n");
	assert_profile(fx, "apt",
		       "deb.example:80@/etc/apt/sources.list:2\n"
		       "repo.example:8443@/etc/apt/sources.list:3\n"
		       "198.18.0.10:80@/etc/apt/sources.list.d/debian.sources:2\n"
		       "second.example:443@/etc/apt/sources.list.d/debian.sources:2\n"
		       "mirrors.example:80@/etc/apt/sources.list.d/extra.list:1\n"
		       "proxy.example:3128@/etc/apt/apt.conf:1\n");
}

static void
test_apt_errors(void **state)
{
	Fixture *fx = *state;

	put(fx, "/etc/apt/sources.list", "deb http://x.example/\n");
	assert_profile_error(fx, "apt", "/etc/apt/sources.list:1: a source line needs a URI");
	put(fx, "/etc/apt/sources.list", "rpm http://x.example/ a b\n");
	assert_profile_error(fx, "apt", "/etc/apt/sources.list:1: expected 'deb'");
	put(fx, "/etc/apt/sources.list", "");
	put(fx, "/etc/apt/apt.conf", "Acquire::http::Proxy \"http://x:1\"\n");
	assert_profile_error(fx, "apt", "/etc/apt/apt.conf:1: missing ';'");
	put(fx, "/etc/apt/apt.conf", "Acquire { http { Proxy \"x\"; };\n");
	assert_profile_error(fx, "apt", "missing '}'");
}

/* ---- git ---- */

static void
test_git(void **state)
{
	Fixture *fx = *state;

	put(fx, "/home/u/.gitconfig",
	    "[user]\n\tname = U\n"
	    "[url \"https://mirror.example/\"]\n\tinsteadOf = gh:\n");
	put(fx, "/home/u/proj/.git/config",
	    "[core]\n\tbare = false\n"
	    "[remote \"origin\"]\n\turl = git@code.example:team/repo.git  # scp-like\n"
	    "\tfetch = +refs/heads/*:refs/remotes/origin/*\n"
	    "[remote \"up\"]\n\turl = \"ssh://git@198.18.0.12:2222/r.git\"\n"
	    "\tpushurl = https://push.example/r\n"
	    "[remote \"short\"]\n\turl = gh:team/x\n"
	    "[remote \"local\"]\n\turl = /srv/git/r.git\n");
	assert_profile(fx, "git",
		       "code.example:22@/home/u/proj/.git/config:4\n"
		       "198.18.0.12:2222@/home/u/proj/.git/config:7\n"
		       "push.example:443@/home/u/proj/.git/config:8\n"
		       "mirror.example:443@/home/u/proj/.git/config:10\n");
}

static void
test_git_worktree(void **state)
{
	Fixture *fx = *state;
	g_autoptr(GError) err = NULL;
	g_autoptr(ProfileResult) r = NULL;

	put(fx, "/home/u/proj/.git", "gitdir: /srv/main/.git/worktrees/proj\n");
	put(fx, "/srv/main/.git/worktrees/proj/commondir", "../..\n");
	put(fx, "/srv/main/.git/config", "[remote \"origin\"]\n url = https://wt.example/r\n");
	assert_profile(fx, "git", "wt.example:443@/srv/main/.git/config:2\n");
	put(fx, "/srv/main/.git/config", "[remote \"origin\"]\n url = \"unterminated\n");
	assert_profile_error(fx, "git", "/srv/main/.git/config:2: missing closing");
	fx->host.cwd = "/elsewhere";
	r = profile_evaluate("git", &fx->host, &err);
	assert_non_null(r);
	assert_int_equal(r->entries->len, 0);
}

/* ---- go ---- */

static void
test_go(void **state)
{
	Fixture *fx = *state;
	g_autoptr(GError) err = NULL;
	g_autoptr(ProfileResult) r = NULL;

	assert_profile(fx, "go",
		       "proxy.golang.org:443@go's default GOPROXY\n"
		       "sum.golang.org:443@go's default GOSUMDB\n");
	/* the go env file (go env -w), then the environment over it */
	put(fx, "/home/u/.config/go/env",
	    "GOPROXY=https://goproxy.example/mod|direct\n"
	    "GOSUMDB=sum.example+abc123 https://sumdb.example:8443/\n"
	    "GOPRIVATE=*.corp.example\n");
	assert_profile(fx, "go",
		       "goproxy.example:443@/home/u/.config/go/env:1\n"
		       "sumdb.example:8443@/home/u/.config/go/env:2\n");
	r = profile_evaluate("go", &fx->host, &err);
	assert_non_null(r);
	assert_int_equal(r->notes->len, 2);   /* direct, GOPRIVATE */
	assert_true(has_string(r->files, "/home/u/.config/go/env"));
	setenv_fx(fx, "GOPROXY", "198.18.0.10:8080,off,https://never.example/");
	setenv_fx(fx, "GOSUMDB", "off");
	assert_profile(fx, "go", "198.18.0.10:8080@$GOPROXY\n");
	put(fx, "/home/u/.config/go/env", "GOPROXY\n");
	assert_profile_error(fx, "go", "/home/u/.config/go/env:1: expected KEY=VALUE");
}

/* ---- cargo ---- */

static void
test_cargo(void **state)
{
	Fixture *fx = *state;

	assert_profile(fx, "cargo",
		       "index.crates.io:443@crates.io's index\n"
		       "static.crates.io:443@crates.io's downloads\n");
	put(fx, "/home/u/.cargo/config.toml",
	    "# user settings\n"
	    "[registries.corp]\n"
	    "index = \"sparse+https://cargo.corp.example/index/\"  # sparse\n"
	    "[registries]\n"
	    "other = { index = 'https://198.18.0.11:8080/git-index' }\n"
	    "[source.crates-io]\n"
	    "replace-with = \"mirror\"\n"
	    "[source.mirror]\n"
	    "registry = \"\"\"https://mirror.example/crates.io-index\"\"\"\n"
	    "[http]\n"
	    "proxy = \"127.0.0.1:3128\"\n"
	    "[alias]\n"
	    "b = [\"build\",\n  \"--release\"]  # multi-line array\n"
	    "[[unstable.x]]\n"
	    "n = 1\n");
	/* a project config deeper down wins for the same key */
	put(fx, "/home/u/proj/.cargo/config.toml",
	    "registries.corp.index = \"https://cargo2.corp.example/\"\n");
	assert_profile(fx, "cargo",
		       "cargo2.corp.example:443@/home/u/proj/.cargo/config.toml:1\n"
		       "198.18.0.11:8080@/home/u/.cargo/config.toml:5\n"
		       "mirror.example:443@/home/u/.cargo/config.toml:9\n");
	setenv_fx(fx, "CARGO_REGISTRIES_ENVREG_INDEX", "sparse+http://env.example:8080/");
	assert_profile(fx, "cargo",
		       "env.example:8080@$CARGO_REGISTRIES_ENVREG_INDEX\n"
		       "cargo2.corp.example:443@/home/u/proj/.cargo/config.toml:1\n"
		       "198.18.0.11:8080@/home/u/.cargo/config.toml:5\n"
		       "mirror.example:443@/home/u/.cargo/config.toml:9\n");
}

static void
test_cargo_errors(void **state)
{
	Fixture *fx = *state;

	put(fx, "/home/u/.cargo/config.toml", "[registries.x\nindex = \"a\"\n");
	assert_profile_error(fx, "cargo", "/home/u/.cargo/config.toml:1: missing ']'");
	put(fx, "/home/u/.cargo/config.toml", "[a]\n\nindex = \"unterminated\n");
	assert_profile_error(fx, "cargo", "/home/u/.cargo/config.toml:3: missing closing quote");
	put(fx, "/home/u/.cargo/config.toml", "a = 1 b\n");
	assert_profile_error(fx, "cargo", "/home/u/.cargo/config.toml:1: unexpected text");
	put(fx, "/home/u/.cargo/config.toml", "[registries.x]\nindex = \"ftp://x.example/\"\n");
	assert_profile_error(fx, "cargo", "/home/u/.cargo/config.toml:2: unknown URL scheme");
}

static void
test_unknown(void **state)
{
	Fixture *fx = *state;

	assert_profile_error(fx, "cpan", "unknown profile 'cpan'; known profiles: npm, pip, apt, git, go, cargo");
}

static void
test_format(void **state)
{
	Fixture *fx = *state;
	g_autoptr(GError) err = NULL;
	g_autoptr(ProfileResult) r = NULL;
	g_autofree char *text = NULL;

	put(fx, "/home/u/.npmrc", "registry=https://r.example/\n");
	r = profile_evaluate("npm", &fx->host, &err);
	assert_non_null(r);
	text = profile_result_format(r);
	assert_non_null(strstr(text, "r.example:443  # /home/u/.npmrc:1\n"));
	assert_non_null(strstr(text, "(read-only inside): /home/u/.npmrc\n"));
	g_clear_pointer(&r, profile_result_free);
	g_clear_pointer(&text, g_free);
	setenv_fx(fx, "HTTPS_PROXY", "http://user:s3cret@127.0.0.1:3128/");
	r = profile_evaluate("npm", &fx->host, &err);
	assert_non_null(r);
	text = profile_result_format(r);
	assert_non_null(strstr(text, "# environment: HTTPS_PROXY=http://***@10.0.2.2:3128/\n"));
	assert_null(strstr(text, "s3cret"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_npm_default, setup, teardown),
		cmocka_unit_test_setup_teardown(test_npm_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_npm_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_npm_proxy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pip_default, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pip_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pip_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apt_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_git, setup, teardown),
		cmocka_unit_test_setup_teardown(test_git_worktree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_go, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cargo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cargo_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_format, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
