/* SPDX-License-Identifier: MIT
 *
 * api.c — libminisandbox, the public C API of minisandbox.h.
 *
 * Each configuration call works on a copy of the process-wide SbxConfig:
 * check the argument, apply it to the copy, run the same whole-config
 * validation as the command line (sbx_config_validate), and only then make
 * the copy current.  So a failed call leaves the configuration untouched and
 * the library accepts exactly what the CLI accepts, in any order the CLI
 * accepts.  mini_sandbox_start() hands the config to sbx_enter() (the same
 * launcher the CLI uses) and tidies up the continuation: host-reaching fds
 * closed, nesting marker set.
 */
#include "src/minisandbox.h"

#include "common/config.h"
#include "common/error.h"
#include "common/fdutil.h"
#include "common/log.h"
#include "src/launcher.h"
#include "src/resource-limits.h"
#include "src/options.h"
#include "src/api-internal.h"
#include "net/allowlist.h"
#include "net/profile/profile.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

/* The public codes are the internal ones; keep them in step. */
G_STATIC_ASSERT(MINI_SANDBOX_ERR_INVALID_MODE == SBX_ERR_INVALID_MODE);
G_STATIC_ASSERT(MINI_SANDBOX_ERR_TMP_REMOUNT == SBX_ERR_TMP_REMOUNT);
G_STATIC_ASSERT(MINI_SANDBOX_ERR_OS == SBX_ERR_OS);
G_STATIC_ASSERT(MINI_SANDBOX_ERR_NESTED == SBX_ERR_NESTED);
G_STATIC_ASSERT(MINI_SANDBOX_ERR_ALREADY_STARTED == SBX_ERR_ALREADY_STARTED);

#define API_EXPORT __attribute__((visibility("default")))

/* libmini-tapbox (the original's tapbox library) is built from this file
 * with SBX_API_TAPBOX_DEFAULT=1: there, as with mini-tapbox(1), a sandbox
 * with no network call gets the unrestricted tap network (with the CLI's
 * warning); libminisandbox and libmini-sandbox keep "no allow call, no
 * network". */
#ifndef SBX_API_TAPBOX_DEFAULT
#define SBX_API_TAPBOX_DEFAULT 0
#endif

static GMutex api_lock;
static SbxConfig *api_cfg;          /* current configuration, lazily made */
static gboolean api_started;        /* TRUE in the continuation */
static char *api_resolver;          /* mini_sandbox_set_resolver() */
static guint api_max_connections;   /* mini_sandbox_allow_max_connections() */
static gboolean api_no_name_check;  /* mini_sandbox_disable_name_check() */

/* mini_sandbox_set_fork_hooks(): pthread_atfork(3) for start()'s fork. */
typedef struct {
	void (*prepare)(void);
	void (*parent)(void);
	void (*child)(void);
} ApiForkHooks;
static ApiForkHooks api_fork_hooks;

static __thread int last_code;
static __thread char last_msg[1024];

/* ---- error state --------------------------------------------------------- */

/* The original's calling convention, kept so its callers need no change: a
 * failing call returns -1, or -2 when the failure is the one the original
 * reports as recoverable (start() inside a sandbox already: the sandbox in
 * force applies, MINI_SANDBOX_ERR_NESTED); a second start() or a call after
 * start() is -1 with the code -202, as there.  The code
 * itself is kept for mini_sandbox_get_last_error_code().  The last error is
 * sticky, as there: a later successful call does not clear it (per thread,
 * like errno).  Every failure goes through api_fail(), so functions added
 * later follow the convention without knowing it. */

static int
api_ok(void)
{
	return 0;
}

static int
api_return_value(int code)
{
	return code == SBX_ERR_NESTED ? -2 : -1;
}

static int api_fail(int code, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static int
api_fail(int code, const char *fmt, ...)
{
	va_list ap;

	/* Never report success for a failure (the original returned 0 after a
	 * failed start). */
	if (code >= 0)
		code = SBX_ERR_OS;
	va_start(ap, fmt);
	g_vsnprintf(last_msg, sizeof last_msg, fmt, ap);
	va_end(ap);
	last_code = code;
	return api_return_value(code);
}

static int
api_fail_gerror(const char *what, const GError *error)
{
	int code = SBX_ERR_OS;

	if (error && error->domain == SBX_ERROR && error->code < 0)
		code = error->code;
	return api_fail(code, "%s: %s", what, error ? error->message : "unknown error");
}

/* ---- configuration copy (every call is tentative until validated) ------- */

/* Start a configuration call: lock, refuse after start(), hand out a copy
 * to modify.  Pair with api_commit() or api_abort(). */
static SbxConfig *
api_begin(int *code)
{
	g_mutex_lock(&api_lock);
	if (api_started) {
		g_mutex_unlock(&api_lock);
		*code = api_fail(SBX_ERR_ALREADY_STARTED,
				 "the sandbox is already started: the configuration cannot change");
		return NULL;
	}
	if (!api_cfg)
		api_cfg = sbx_config_new();
	return sbx_config_copy(api_cfg);
}

static int
api_abort(SbxConfig *tentative, int code)
{
	sbx_config_free(tentative);
	g_mutex_unlock(&api_lock);
	return code;
}

/* Validate the whole tentative config as the CLI would; make it current. */
static int
api_commit(SbxConfig *tentative, const char *what)
{
	g_autoptr(GError) error = NULL;

	tentative->is_tapbox = tentative->net_mode == SBX_NET_TAP;
	if (!sbx_config_validate(tentative, &error))
		return api_abort(tentative, api_fail_gerror(what, error));
	sbx_config_free(api_cfg);
	api_cfg = tentative;
	g_mutex_unlock(&api_lock);
	return api_ok();
}

/* ---- argument checks ----------------------------------------------------- */

typedef enum { PATH_ANY, PATH_DIR, PATH_FILE } PathKind;

static int
api_check_path(const char *what, const char *path, PathKind kind)
{
	struct stat st;

	if (!path || !*path)
		return api_fail(SBX_ERR_ILLEGAL_CONFIG, "%s: empty path", what);
	if (path[0] != '/')
		return api_fail(SBX_ERR_NOT_ABSOLUTE, "%s: %s: not an absolute path", what, path);
	if (stat(path, &st) < 0) {
		int saved = errno;

		return api_fail(saved == ENOENT || saved == ENOTDIR ? SBX_ERR_PATH_MISSING : SBX_ERR_OS,
				"%s: %s: %s", what, path, g_strerror(saved));
	}
	if (kind == PATH_DIR && !S_ISDIR(st.st_mode))
		return api_fail(SBX_ERR_INVALID_FOLDER, "%s: %s: not a directory", what, path);
	if (kind == PATH_FILE && !S_ISREG(st.st_mode))
		return api_fail(SBX_ERR_PATH_MISSING, "%s: %s: not a regular file", what, path);
	return 0;
}

/* Is the parent directory of PATH an existing directory? */
static int
api_check_parent_dir(const char *what, const char *path)
{
	g_autofree char *dir = NULL;

	if (!path || !*path)
		return api_fail(SBX_ERR_ILLEGAL_CONFIG, "%s: empty path", what);
	if (path[0] != '/')
		return api_fail(SBX_ERR_NOT_ABSOLUTE, "%s: %s: not an absolute path", what, path);
	dir = g_path_get_dirname(path);
	return api_check_path(what, dir, PATH_DIR);
}

static gboolean
api_has_allow_entries(const SbxConfig *cfg)
{
	return cfg->allow_entries->len > 0 || cfg->allow_files->len > 0 || cfg->profiles->len > 0;
}

static gboolean
is_ipv4(const char *s)
{
	struct in_addr a;

	return inet_pton(AF_INET, s, &a) == 1;
}

static gboolean
is_ipv4_cidr(const char *s)
{
	g_autofree char *addr = g_strdup(s);
	char *slash = strchr(addr, '/');
	char *end = NULL;
	long bits;

	if (!slash)
		return FALSE;
	*slash = '\0';
	if (!g_ascii_isdigit(slash[1]))
		return FALSE;
	bits = strtol(slash + 1, &end, 10);
	return *end == '\0' && bits >= 0 && bits <= 32 && is_ipv4(addr);
}

/* One allowlist entry, checked by the allowlist grammar itself
 * (net/allowlist.c) so a typo is reported at the call, in the CLI's words;
 * the launcher's net_prepare parses everything again at start(). */
static int
api_check_entry(const char *what, const char *entry)
{
	g_autoptr(GArray) parsed = allowlist_new();
	g_autoptr(GError) error = NULL;

	if (!entry || !*entry)
		return api_fail(SBX_ERR_ILLEGAL_NETWORK, "%s: empty allowlist entry", what);
	for (const char *p = entry; *p; p++) {
		if (*p == '\n' || *p == '\r')
			return api_fail(SBX_ERR_ILLEGAL_NETWORK,
					"%s: \"%s\": one entry, without newlines", what, entry);
	}
	if (!allowlist_parse_line(entry, what, parsed, &error))
		return api_fail(error->code < 0 ? error->code : SBX_ERR_ILLEGAL_NETWORK, "%s",
				error->message);
	if (parsed->len != 1)
		return api_fail(SBX_ERR_ILLEGAL_NETWORK, "%s: \"%s\": no allowlist entry "
				"(blank or a comment)", what, entry);
	return 0;
}

/* ---- filesystem mode ----------------------------------------------------- */

/* The CLI's setter decides: a second, different mode is INVALID_MODE, a
 * second -o/-h is ROOT_NOT_UNIQUE (as in the original), -x twice is fine. */
static int
api_set_mode(const char *what, SbxFsMode mode, const char *root, const char *overlay)
{
	g_autoptr(GError) error = NULL;
	int code = 0;
	SbxConfig *cfg = api_begin(&code);

	if (!cfg)
		return code;
	if (!sbx_config_set_fs_mode(cfg, mode, root, &error))
		return api_abort(cfg, api_fail_gerror(what, error));
	if (overlay)
		cfg->overlay_dir = g_strdup(overlay);
	return api_commit(cfg, what);
}

API_EXPORT int
mini_sandbox_setup_default(void)
{
	return api_set_mode("mini_sandbox_setup_default", SBX_FS_DEFAULT, NULL, NULL);
}

/* An existing directory, or an absolute path that does not exist yet: the
 * filesystem stage creates it with its parents, as the original did and as
 * the CLI does with -o/-d. */
static int
api_check_dir_or_creatable(const char *what, const char *path)
{
	struct stat st;

	if (!path || !*path)
		return api_fail(SBX_ERR_ILLEGAL_CONFIG, "%s: empty path", what);
	if (path[0] != '/')
		return api_fail(SBX_ERR_NOT_ABSOLUTE, "%s: %s: not an absolute path", what, path);
	if (stat(path, &st) == 0 || errno != ENOENT)
		return api_check_path(what, path, PATH_DIR);
	return 0;
}

API_EXPORT int
mini_sandbox_setup_custom(const char *overlayfs_dir, const char *sandbox_root)
{
	const char *what = "mini_sandbox_setup_custom";
	int code;

	if ((code = api_check_dir_or_creatable(what, sandbox_root)) < 0 ||
	    (code = api_check_dir_or_creatable(what, overlayfs_dir)) < 0)
		return code;
	return api_set_mode(what, SBX_FS_CUSTOM, sandbox_root, overlayfs_dir);
}

API_EXPORT int
mini_sandbox_setup_hermetic(const char *sandbox_root)
{
	const char *what = "mini_sandbox_setup_hermetic";
	int code;

	/* Must exist, as for -h: hermetic mode shows DIR itself. */
	if ((code = api_check_path(what, sandbox_root, PATH_DIR)) < 0)
		return code;
	return api_set_mode(what, SBX_FS_HERMETIC, sandbox_root, NULL);
}

/* ---- per-path options ---------------------------------------------------- */

static int
api_add_mount(const char *what, SbxMountKind kind, const char *path, PathKind path_kind)
{
	int code = 0;
	SbxConfig *cfg;

	if ((code = api_check_path(what, path, path_kind)) < 0)
		return code;
	if (!(cfg = api_begin(&code)))
		return code;
	sbx_config_add_mount(cfg, kind, path);
	return api_commit(cfg, what);
}

API_EXPORT int
mini_sandbox_mount_bind(const char *path)
{
	return api_add_mount("mini_sandbox_mount_bind", SBX_MOUNT_READ, path, PATH_ANY);
}

API_EXPORT int
mini_sandbox_mount_write(const char *path)
{
	return api_add_mount("mini_sandbox_mount_write", SBX_MOUNT_WRITE, path, PATH_ANY);
}

API_EXPORT int
mini_sandbox_mount_tmpfs(const char *path)
{
	return api_add_mount("mini_sandbox_mount_tmpfs", SBX_MOUNT_TMPFS, path, PATH_DIR);
}

API_EXPORT int
mini_sandbox_mount_overlay(const char *path)
{
	return api_add_mount("mini_sandbox_mount_overlay", SBX_MOUNT_OVERLAY, path, PATH_ANY);
}

API_EXPORT int
mini_sandbox_mount_empty_output_file(const char *path)
{
	const char *what = "mini_sandbox_mount_empty_output_file";
	struct stat st;
	int code;

	if ((code = api_check_parent_dir(what, path)) < 0)
		return code;
	if (lstat(path, &st) < 0) {
		/* O_EXCL|O_NOFOLLOW: never follow a symlink planted at PATH. */
		autoclose int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);

		if (fd < 0 && errno != EEXIST) {
			int saved = errno;

			return api_fail(SBX_ERR_OS, "%s: create %s: %s", what, path, g_strerror(saved));
		}
	}
	return api_add_mount(what, SBX_MOUNT_EMPTY_FILE, path, PATH_FILE);
}

API_EXPORT int
mini_sandbox_set_working_dir(const char *path)
{
	const char *what = "mini_sandbox_set_working_dir";
	int code = 0;
	SbxConfig *cfg;

	if ((code = api_check_path(what, path, PATH_DIR)) < 0)
		return code;
	if (!(cfg = api_begin(&code)))
		return code;
	g_free(cfg->workdir);
	cfg->workdir = g_strdup(path);
	return api_commit(cfg, what);
}

API_EXPORT int
mini_sandbox_mount_parents_write(void)
{
	int code = 0;
	SbxConfig *cfg = api_begin(&code);

	if (!cfg)
		return code;
	cfg->parents_write = TRUE;
	return api_commit(cfg, "mini_sandbox_mount_parents_write");
}

/* --proc=host (issue 14): the only way to the host's /proc where the
 * kernel refuses a new one; without it that start fails. */
API_EXPORT int
mini_sandbox_allow_host_proc(void)
{
	int code = 0;
	SbxConfig *cfg = api_begin(&code);

	if (!cfg)
		return code;
	cfg->proc_host = TRUE;
	return api_commit(cfg, "mini_sandbox_allow_host_proc");
}

API_EXPORT int
mini_sandbox_allow_userns(void)
{
	int code = 0;
	SbxConfig *cfg = api_begin(&code);

	if (!cfg)
		return code;
	cfg->allow_userns = TRUE;
	return api_commit(cfg, "mini_sandbox_allow_userns");
}

API_EXPORT int
mini_sandbox_enable_log(const char *path)
{
	const char *what = "mini_sandbox_enable_log";
	g_autoptr(GError) error = NULL;
	int code = 0;
	SbxConfig *cfg;

	if ((code = api_check_parent_dir(what, path)) < 0)
		return code;
	if (!(cfg = api_begin(&code)))
		return code;
	if (!sbx_config_set_debug_log(cfg, path, &error))
		return api_abort(cfg, api_fail_gerror(what, error));
	return api_commit(cfg, what);
}

/* ---- network ------------------------------------------------------------- */

API_EXPORT int
mini_sandbox_share_network(void)
{
	const char *what = "mini_sandbox_share_network";
	g_autoptr(GError) error = NULL;
	int code = 0;
	SbxConfig *cfg = api_begin(&code);

	if (!cfg)
		return code;
	if (!sbx_config_set_net_mode(cfg, SBX_NET_HOST, &error))
		return api_abort(cfg, api_fail_gerror(what, error));
	return api_commit(cfg, what);
}

/* Common part of every allow call: the mode rule of minisandbox.h. */
static SbxConfig *
api_begin_allow(const char *what, gboolean is_entry, int *code)
{
	SbxConfig *cfg = api_begin(code);

	if (!cfg)
		return NULL;
	if (cfg->net_mode == SBX_NET_HOST) {
		*code = api_abort(cfg, api_fail(SBX_ERR_ILLEGAL_NETWORK,
			"%s: the host network is shared (mini_sandbox_share_network); "
			"an allowlist cannot apply to it", what));
		return NULL;
	}
	if (is_entry && cfg->allow_all) {
		*code = api_abort(cfg, api_fail(SBX_ERR_ILLEGAL_NETWORK,
			"%s: all destinations are already allowed (mini_sandbox_allow_all_domains)",
			what));
		return NULL;
	}
	cfg->net_mode = SBX_NET_TAP;
	return cfg;
}

static int
api_add_entry(const char *what, const char *entry)
{
	int code = 0;
	SbxConfig *cfg;

	if ((code = api_check_entry(what, entry)) < 0)
		return code;
	if (!(cfg = api_begin_allow(what, TRUE, &code)))
		return code;
	g_ptr_array_add(cfg->allow_entries, g_strdup(entry));
	return api_commit(cfg, what);
}

API_EXPORT int
mini_sandbox_allow(const char *entry)
{
	return api_add_entry("mini_sandbox_allow", entry);
}

API_EXPORT int
mini_sandbox_allow_ipv4(const char *ip)
{
	if (!ip || !is_ipv4(ip))
		return api_fail(SBX_ERR_ILLEGAL_NETWORK, "mini_sandbox_allow_ipv4: \"%s\": "
				"not an IPv4 address", ip ? ip : "(null)");
	return api_add_entry("mini_sandbox_allow_ipv4", ip);
}

/* A bare address is a /32, as the original took it (its own tests pass
 * bare addresses). */
API_EXPORT int
mini_sandbox_allow_ipv4_subnet(const char *subnet)
{
	g_autofree char *host = NULL;

	if (subnet && is_ipv4(subnet))
		subnet = host = g_strconcat(subnet, "/32", NULL);
	if (!subnet || !is_ipv4_cidr(subnet))
		return api_fail(SBX_ERR_ILLEGAL_NETWORK, "mini_sandbox_allow_ipv4_subnet: \"%s\": "
				"not an IPv4 CIDR (ADDRESS/BITS) or address", subnet ? subnet : "(null)");
	return api_add_entry("mini_sandbox_allow_ipv4_subnet", subnet);
}

API_EXPORT int
mini_sandbox_allow_domain(const char *domain)
{
	/* the allowlist grammar decides what a domain is (allowlist.h) */
	if (!domain || !allowlist_is_domain(domain))
		return api_fail(SBX_ERR_ILLEGAL_NETWORK, "mini_sandbox_allow_domain: \"%s\": "
				"not a domain name", domain ? domain : "(null)");
	return api_add_entry("mini_sandbox_allow_domain", domain);
}

API_EXPORT int
mini_sandbox_allow_connections(const char *path)
{
	const char *what = "mini_sandbox_allow_connections";
	g_autoptr(GArray) parsed = allowlist_new();
	g_autoptr(GError) error = NULL;
	int code = 0;
	SbxConfig *cfg;

	if ((code = api_check_path(what, path, PATH_FILE)) < 0)
		return code;
	if (!allowlist_parse_file(path, parsed, &error))
		return api_fail_gerror(what, error);
	if (!(cfg = api_begin_allow(what, TRUE, &code)))
		return code;
	g_ptr_array_add(cfg->allow_files, g_strdup(path));
	return api_commit(cfg, what);
}

API_EXPORT int
mini_sandbox_learn_allowlist(const char *path)
{
	const char *what = "mini_sandbox_learn_allowlist";
	int code = 0;
	SbxConfig *cfg;

	if ((code = api_check_parent_dir(what, path)) < 0)
		return code;
	if (!(cfg = api_begin_allow(what, FALSE, &code)))
		return code;
	g_free(cfg->learn_file);
	cfg->learn_file = g_strdup(path);
	return api_commit(cfg, what);
}

API_EXPORT int
mini_sandbox_allow_profile(const char *name)
{
	const char *what = "mini_sandbox_allow_profile";
	gboolean known = FALSE;
	int code = 0;
	SbxConfig *cfg;

	for (const char *const *n = profile_names(); name && *n; n++)
		known = known || strcmp(*n, name) == 0;
	if (!known) {
		g_autofree char *names = profile_names_joined();

		return api_fail(SBX_ERR_ILLEGAL_CONFIG, "%s: \"%s\": unknown profile; known "
				"profiles: %s", what, name ? name : "(null)", names);
	}
	if (!(cfg = api_begin_allow(what, TRUE, &code)))
		return code;
	g_ptr_array_add(cfg->profiles, g_strdup(name));
	return api_commit(cfg, what);
}

API_EXPORT int
mini_sandbox_allow_all_domains(void)
{
	const char *what = "mini_sandbox_allow_all_domains";
	int code = 0;
	SbxConfig *cfg;

	if (!(cfg = api_begin_allow(what, FALSE, &code)))
		return code;
	if (api_has_allow_entries(cfg))
		return api_abort(cfg, api_fail(SBX_ERR_ILLEGAL_NETWORK,
			"%s: cannot allow all domains after specifying a network rule", what));
	cfg->allow_all = TRUE;
	return api_commit(cfg, what);
}

API_EXPORT int
mini_sandbox_allow_host_port(int port)
{
	const char *what = "mini_sandbox_allow_host_port";
	int code = 0;
	SbxConfig *cfg;
	guint16 p;

	if (port < 1 || port > 65535)
		return api_fail(SBX_ERR_ILLEGAL_NETWORK, "%s: %d: not a port (1..65535)", what, port);
	if (!(cfg = api_begin_allow(what, FALSE, &code)))
		return code;
	p = (guint16)port;
	g_array_append_val(cfg->host_ports, p);
	return api_commit(cfg, what);
}

/* The resolver and the connection limit only mean something for the
 * mini-tapbox network; they are kept aside and join the configuration at
 * start()/spawn() when that network is chosen, so they may be set before
 * or after the allow calls (the CLI's validation rejects them without
 * mini-tapbox). */
API_EXPORT int
mini_sandbox_set_resolver(const char *addr)
{
	const char *what = "mini_sandbox_set_resolver";
	g_autoptr(GError) error = NULL;
	int code = 0;
	SbxConfig *cfg;

	if ((code = api_check_entry(what, addr)) < 0)
		return code;
	if (!(cfg = api_begin(&code)))
		return code;
	/* Let the CLI's checker judge the syntax, on the side. */
	cfg->net_mode = SBX_NET_TAP;
	cfg->resolver = g_strdup(addr);
	if (!sbx_config_validate(cfg, &error))
		return api_abort(cfg, api_fail_gerror(what, error));
	g_free(api_resolver);
	api_resolver = g_strdup(addr);
	return api_abort(cfg, api_ok());
}

API_EXPORT int
mini_sandbox_allow_max_connections(int max_connections)
{
	int code = 0;
	SbxConfig *cfg;

	if (max_connections <= 0)
		return api_fail(SBX_ERR_ILLEGAL_NETWORK,
				"mini_sandbox_allow_max_connections: %d: must be > 0", max_connections);
	if (!(cfg = api_begin(&code)))
		return code;
	api_max_connections = (guint)max_connections;
	return api_abort(cfg, api_ok());
}

API_EXPORT int
mini_sandbox_disable_name_check(void)
{
	int code = 0;
	SbxConfig *cfg;

	if (!(cfg = api_begin(&code)))
		return code;
	api_no_name_check = TRUE;
	return api_abort(cfg, api_ok());
}

API_EXPORT int
mini_sandbox_set_max_procs(int max_procs)
{
	int code = 0;
	SbxConfig *cfg;

	if (max_procs <= 0 || (guint)max_procs > SBX_MAX_MAX_PROCS)
		return api_fail(SBX_ERR_ILLEGAL_CONFIG,
				"mini_sandbox_set_max_procs: %d: give a number from 1 to %u",
				max_procs, SBX_MAX_MAX_PROCS);
	if (!(cfg = api_begin(&code)))
		return code;
	cfg->max_procs = (guint)max_procs;
	return api_commit(cfg, "mini_sandbox_set_max_procs");
}

API_EXPORT int
mini_sandbox_reset(void)
{
	int code = 0;
	SbxConfig *cfg = api_begin(&code);

	if (!cfg)
		return code;
	sbx_config_free(cfg);
	g_clear_pointer(&api_resolver, g_free);
	api_max_connections = 0;
	api_no_name_check = FALSE;
	return api_commit(sbx_config_new(), "mini_sandbox_reset");
}

/* ---- running ------------------------------------------------------------- */

/* libmini-tapbox: nothing allowed means everything allowed, as in
 * mini-tapbox(1) without -F (the network code warns on stderr); a shared
 * host network stays what it is. */
static void
api_apply_tapbox_default(SbxConfig *cfg)
{
	if (cfg->net_mode != SBX_NET_NONE && cfg->net_mode != SBX_NET_TAP)
		return;
	if (api_has_allow_entries(cfg))
		return;
	cfg->net_mode = SBX_NET_TAP;
	cfg->allow_all = TRUE;
}

/* The configuration to run: the current one, plus the settings kept aside
 * when the mini-tapbox network is chosen, plus ARGV (NULL for start()),
 * validated as a whole.  Called with the lock held. */
static SbxConfig *
api_config_for_run(const char *const argv[], GError **error)
{
	g_autoptr(SbxConfig) cfg = NULL;

	if (!api_cfg)
		api_cfg = sbx_config_new();
	cfg = sbx_config_copy(api_cfg);
	if (SBX_API_TAPBOX_DEFAULT)
		api_apply_tapbox_default(cfg);
	if (cfg->net_mode == SBX_NET_TAP) {
		cfg->resolver = g_strdup(api_resolver);
		cfg->max_connections = api_max_connections;
		cfg->no_name_check = api_no_name_check;
	}
	/* Learning without a list to enforce: egress open, as mini-tapbox
	 * --learn without -F (net/learn.h). */
	if (cfg->learn_file && !api_has_allow_entries(cfg))
		cfg->allow_all = TRUE;
	cfg->is_tapbox = cfg->net_mode == SBX_NET_TAP;
	cfg->argv = argv ? g_strdupv((char **)argv) : NULL;
	if (!sbx_config_validate(cfg, error))
		return NULL;
	return g_steal_pointer(&cfg);
}

/* start() proper, between the fork hooks. */
static int
api_start(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(SbxConfig) cfg = NULL;
	const char *what = "mini_sandbox_start";

	g_mutex_lock(&api_lock);
	if (api_started) {
		g_mutex_unlock(&api_lock);
		return api_fail(SBX_ERR_ALREADY_STARTED, "%s: the sandbox is already started", what);
	}
	if (api_inside_sandbox()) {
		g_mutex_unlock(&api_lock);
		return api_fail(SBX_ERR_NESTED, "%s: this process already runs inside a mini-sandbox",
				what);
	}
	if (!(cfg = api_config_for_run(NULL, &error))) {
		g_mutex_unlock(&api_lock);
		return api_fail_gerror(what, error);
	}
	/* Unflushed stdio would be written twice: by the launcher's exit()
	 * and by the continuation. */
	fflush(NULL);

	/* The lock stays held across the fork: in the caller this never
	 * returns on success (other threads' calls wait forever, outside), in
	 * the continuation we are the only thread and release it below. */
	if (!sbx_enter(cfg, &error)) {
		g_mutex_unlock(&api_lock);
		return api_fail_gerror(what, error);
	}

	/* The continuation, inside the sandbox. */
	api_started = TRUE;
	api_close_host_reaching_fds();
	api_mark_inside();
	g_mutex_unlock(&api_lock);
	return api_ok();
}

/* Run HOOK (may be NULL) and give back RC: a library call made by the
 * hook (a runtime's at-fork callbacks run the caller's code) must not
 * replace start()'s own error code and message. */
static int
api_run_fork_hook(void (*hook)(void), int rc)
{
	int code = last_code;
	char msg[sizeof last_msg];

	if (!hook)
		return rc;
	memcpy(msg, last_msg, sizeof msg);
	hook();
	last_code = code;
	memcpy(last_msg, msg, sizeof msg);
	return rc;
}

API_EXPORT int
mini_sandbox_set_fork_hooks(void (*prepare)(void), void (*parent)(void), void (*child)(void))
{
	g_mutex_lock(&api_lock);
	if (api_started) {
		g_mutex_unlock(&api_lock);
		return api_fail(SBX_ERR_ALREADY_STARTED,
				"mini_sandbox_set_fork_hooks: the sandbox is already started");
	}
	api_fork_hooks = (ApiForkHooks){ prepare, parent, child };
	g_mutex_unlock(&api_lock);
	return api_ok();
}

/* The hooks run outside api_lock: they may call back into the library
 * (mini_sandbox_is_running() from a Python at-fork callback).  The child
 * hook runs before start() returns, so before any of the caller's code
 * runs in the continuation (minisandbox.h says why that matters). */
API_EXPORT int
mini_sandbox_start(void)
{
	ApiForkHooks hooks;
	int rc;

	g_mutex_lock(&api_lock);
	hooks = api_fork_hooks;
	g_mutex_unlock(&api_lock);
	if (hooks.prepare)
		hooks.prepare();
	rc = api_start();
	return api_run_fork_hook(rc == 0 ? hooks.child : hooks.parent, rc);
}

API_EXPORT int
mini_sandbox_is_running(void)
{
	int running;

	g_mutex_lock(&api_lock);
	running = api_started ? 1 : 0;
	g_mutex_unlock(&api_lock);
	return running;
}

API_EXPORT pid_t
mini_sandbox_spawn_fds(const char *const argv[], int stdin_fd, int stdout_fd, int stderr_fd)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(SbxConfig) cfg = NULL;
	const char *what = "mini_sandbox_spawn";
	const int fds[3] = { stdin_fd, stdout_fd, stderr_fd };
	pid_t parent = getpid(), pid;

	if (!argv || !argv[0] || !*argv[0])
		return api_fail(SBX_ERR_ILLEGAL_CONFIG, "%s: no command given", what);
	for (int i = 0; i < 3; i++)
		if (fds[i] >= 0 && fcntl(fds[i], F_GETFD) < 0)
			return api_fail(SBX_ERR_ILLEGAL_CONFIG, "%s: fd %d: %s", what, fds[i],
					g_strerror(EBADF));
	g_mutex_lock(&api_lock);
	if (api_started) {
		g_mutex_unlock(&api_lock);
		return api_fail(SBX_ERR_ALREADY_STARTED, "%s: the sandbox is already started", what);
	}
	if (api_inside_sandbox()) {
		g_mutex_unlock(&api_lock);
		return api_fail(SBX_ERR_NESTED, "%s: this process already runs inside a mini-sandbox",
				what);
	}
	if (!(cfg = api_config_for_run(argv, &error))) {
		g_mutex_unlock(&api_lock);
		return api_fail_gerror(what, error);
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0)
		api_spawn_child(cfg, parent, fds);
	g_mutex_unlock(&api_lock);
	if (pid < 0) {
		int saved = errno;

		return api_fail(SBX_ERR_OS, "%s: fork: %s", what, g_strerror(saved));
	}
	return pid;
}

API_EXPORT pid_t
mini_sandbox_spawn(const char *const argv[])
{
	return mini_sandbox_spawn_fds(argv, -1, -1, -1);
}

API_EXPORT int
mini_sandbox_get_last_error_code(void)
{
	return last_code;
}

API_EXPORT const char *
mini_sandbox_get_last_error_msg(void)
{
	return last_msg;
}
