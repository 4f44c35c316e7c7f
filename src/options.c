/* SPDX-License-Identifier: MIT
 *
 * options.c — the command line of mini-sandbox and mini-tapbox.
 *
 * Our own small loop rather than getopt_long: it keeps no global state (the
 * unit tests call it many times), it expands @FILE argument files where they
 * stand, and it never permutes arguments — options end at "--" or at the
 * first non-option, so `mini-sandbox -x ls -l` runs `ls -l`.
 *
 * Supported forms: -x, clusters (-RHx), -wPATH, -w PATH, --write PATH,
 * --write=PATH.  Long names must be spelled out (no abbreviations), so a
 * future option can never change what an existing script means.
 *
 * Order independence: every option only records what was asked for; the
 * contradictions that a single SbxConfig field cannot remember (two modes,
 * -R with -U, -n with -N, a second -o/-h/-D) are caught by the setters in
 * options-check.c, everything else by sbx_config_validate() at the end, so
 * the result never depends on the order the options were given in.
 */
#include "src/options.h"
#include "common/error.h"
#include "common/log.h"
#include "common/safepath.h"
#include "net/profile/profile-host.h"
#include "src/resource-limits.h"
#include "sbx-build-config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef enum {
	OPT_DEFAULT, OPT_ROOT, OPT_OVERLAY_DIR, OPT_OVERLAY, OPT_HERMETIC,
	OPT_WRITE, OPT_READ_ONLY, OPT_EMPTY, OPT_WORKDIR, OPT_KEEP_OVERLAY,
	OPT_PROC, OPT_TMPFS_SIZE,
	OPT_SHARE_NETWORK, OPT_NO_LOOPBACK,
	OPT_FAKE_ROOT, OPT_NOBODY, OPT_HOSTNAME_LOCALHOST, OPT_ALLOW_USERNS,
	OPT_REQUIRE_LANDLOCK,
	OPT_TIMEOUT, OPT_MAX_PROCS, OPT_KILL_DELAY, OPT_SIGINT_TERM, OPT_KEEP_FD,
	OPT_DEBUG_LOG, OPT_VERBOSE, OPT_QUIET,
	OPT_ALLOWLIST, OPT_ALLOW, OPT_ALLOW_UNRESOLVED, OPT_SLIRP_TCP, OPT_NO_NAME_CHECK,
	OPT_ALLOW_HOST_PORT,
	OPT_PUBLISH, OPT_MTU, OPT_RESOLVER, OPT_LOG, OPT_LEARN,
	OPT_PROFILE, OPT_PRINT_PROFILE, OPT_PROFILE_CACHE,
	OPT_HELP, OPT_VERSION,
	OPT_COMPAT_PTY, OPT_COMPAT_IGNORED,
	OPT_COUNT
} OptId;

enum {
	OPTF_VALUE = 1 << 0,    /* takes an argument */
	OPTF_TAPBOX = 1 << 1,   /* mini-tapbox only */
	OPTF_SANDBOX = 1 << 2,  /* mini-sandbox only */
	OPTF_ONCE = 1 << 3,     /* a second use is an error (last-wins would be order-dependent) */
	OPTF_INLINE_VALUE = 1 << 4, /* an optional value, only as --name=VALUE */
};

typedef struct {
	const char *name;       /* long name without "--"; NULL: short only */
	char letter;            /* short letter or 0 */
	guint flags;
	OptId id;
} OptDef;

/* Keep in step with man/mini-sandbox.1, man/mini-tapbox.1 and
 * completion/mini-sandbox (man/check-options.sh compares them). */
static const OptDef opt_table[] = {
	{ "default",            'x', 0,                        OPT_DEFAULT },
	{ "root",               'o', OPTF_VALUE,               OPT_ROOT },
	{ "overlay-dir",        'd', OPTF_VALUE | OPTF_ONCE,   OPT_OVERLAY_DIR },
	{ "overlay",            'k', OPTF_VALUE,               OPT_OVERLAY },
	{ "hermetic",           'h', OPTF_VALUE,               OPT_HERMETIC },
	{ "write",              'w', OPTF_VALUE,               OPT_WRITE },
	{ "read-only",          'M', OPTF_VALUE,               OPT_READ_ONLY },
	{ "empty",              'e', OPTF_VALUE,               OPT_EMPTY },
	{ "workdir",            'W', OPTF_VALUE | OPTF_ONCE,   OPT_WORKDIR },
	{ "keep-overlay",       0,   0,                        OPT_KEEP_OVERLAY },
	{ "proc",               0,   OPTF_INLINE_VALUE,        OPT_PROC },
	{ "tmpfs-size",         0,   OPTF_VALUE | OPTF_ONCE,   OPT_TMPFS_SIZE },
	{ "share-network",      'N', OPTF_SANDBOX,             OPT_SHARE_NETWORK },
	{ "no-loopback",        'n', OPTF_SANDBOX,             OPT_NO_LOOPBACK },
	{ "fake-root",          'R', 0,                        OPT_FAKE_ROOT },
	{ "nobody",             'U', 0,                        OPT_NOBODY },
	{ "hostname-localhost", 'H', 0,                        OPT_HOSTNAME_LOCALHOST },
	{ "allow-userns",       0,   0,                        OPT_ALLOW_USERNS },
	{ "require-landlock",   0,   0,                        OPT_REQUIRE_LANDLOCK },
	{ "timeout",            'T', OPTF_VALUE | OPTF_ONCE,   OPT_TIMEOUT },
	{ "max-procs",          0,   OPTF_VALUE | OPTF_ONCE,   OPT_MAX_PROCS },
	{ "kill-delay",         't', OPTF_VALUE | OPTF_ONCE,   OPT_KILL_DELAY },
	{ "sigint-term",        'i', 0,                        OPT_SIGINT_TERM },
	{ "keep-fd",            0,   OPTF_VALUE,               OPT_KEEP_FD },
	{ "debug-log",          'D', OPTF_VALUE,               OPT_DEBUG_LOG },
	{ "verbose",            'v', 0,                        OPT_VERBOSE },
	{ "allowlist",          'F', OPTF_VALUE | OPTF_TAPBOX, OPT_ALLOWLIST },
	{ "allow",              0,   OPTF_VALUE | OPTF_TAPBOX, OPT_ALLOW },
	{ "allow-unresolved",   0,   OPTF_TAPBOX,              OPT_ALLOW_UNRESOLVED },
	{ "slirp-tcp",          0,   OPTF_TAPBOX,              OPT_SLIRP_TCP },
	{ "no-name-check",      0,   OPTF_TAPBOX,              OPT_NO_NAME_CHECK },
	{ "allow-host-port",    0,   OPTF_VALUE | OPTF_TAPBOX, OPT_ALLOW_HOST_PORT },
	{ "publish",            0,   OPTF_VALUE | OPTF_TAPBOX, OPT_PUBLISH },
	{ "mtu",                0,   OPTF_VALUE | OPTF_TAPBOX | OPTF_ONCE, OPT_MTU },
	{ "resolver",           0,   OPTF_VALUE | OPTF_TAPBOX | OPTF_ONCE, OPT_RESOLVER },
	{ "log",                0,   OPTF_VALUE | OPTF_TAPBOX | OPTF_ONCE, OPT_LOG },
	{ "learn",              0,   OPTF_VALUE | OPTF_TAPBOX | OPTF_ONCE, OPT_LEARN },
	{ "quiet",              'q', OPTF_TAPBOX,              OPT_QUIET },
	{ "profile",            0,   OPTF_VALUE | OPTF_TAPBOX, OPT_PROFILE },
	{ "print-profile",      0,   OPTF_VALUE | OPTF_TAPBOX, OPT_PRINT_PROFILE },
	{ "profile-cache",      0,   OPTF_TAPBOX,              OPT_PROFILE_CACHE },
	{ "help",               0,   0,                        OPT_HELP },
	{ "version",            0,   0,                        OPT_VERSION },
	/* The original's letters that change nothing here (a notice says so),
	 * so its users' scripts keep working: -P (gid tty, writable
	 * /dev/pts), and -m -S -G -l -L, which it accepted and ignored. */
	{ NULL,                 'P', 0,                        OPT_COMPAT_PTY },
	{ NULL,                 'm', OPTF_VALUE,               OPT_COMPAT_IGNORED },
	{ NULL,                 'S', OPTF_VALUE,               OPT_COMPAT_IGNORED },
	{ NULL,                 'G', OPTF_VALUE,               OPT_COMPAT_IGNORED },
	{ NULL,                 'l', OPTF_VALUE,               OPT_COMPAT_IGNORED },
	{ NULL,                 'L', OPTF_VALUE,               OPT_COMPAT_IGNORED },
};

const char *const *
sbx_options_long_names(void)
{
	static const char *names[G_N_ELEMENTS(opt_table) + 1];

	if (!names[0]) {
		gsize n = 0;

		for (gsize i = 0; i < G_N_ELEMENTS(opt_table); i++)
			if (opt_table[i].name)
				names[n++] = opt_table[i].name;
	}
	return names;
}

static const char help_sandbox[] =
	"Network: none but a private lo (-n: lo down; -N: the host's network)\n";
static const char help_tapbox[] =
	"Network: -F FILE / --allow ENTRY limit egress (none given: unrestricted);\n"
	"         --allow-host-port PORT, --publish, --log FILE, --resolver ADDR;\n"
	"         --learn FILE writes the allowlist a run needs; -q: denials only at exit;\n"
	"         --profile NAME (npm pip apt git go cargo), --print-profile\n"
	"         NAME, --profile-cache\n";

/* --help: short on purpose; the man page is the reference (STYLE 15). */
static void
print_help(const char *prog, gboolean is_tapbox)
{
	printf("Usage: %s [OPTIONS] [--] COMMAND [ARG...]\n", prog);
	fputs("Run COMMAND in a rootless sandbox (user namespaces; no root needed).\n"
	      "\n"
	      "Filesystem mode (at most one; none = read-only mode):\n"
	      "  -x, --default          system read-only, CWD writable, $HOME empty\n"
	      "  -o, --root ROOT        custom root with -k overlays (-d DIR keeps them)\n"
	      "  -h, --hermetic DIR     only what -M/-w name (-h is not help)\n"
	      "Paths:   -w PATH writable, -M PATH read-only, -k PATH overlay, -e DIR empty,\n"
	      "         -W DIR working directory\n"
	      "Process: -R fake root, -U nobody, -H hostname, -T SECS timeout, -i, -v,\n"
	      "         --allow-userns (nested user namespaces), --require-landlock\n",
	      stdout);
	fputs(is_tapbox ? help_tapbox : help_sandbox, stdout);
	fputs("\n"
	      "Options end at -- or at the first non-option; @FILE reads one argument a line.\n",
	      stdout);
	printf("Exit status: the command's; 125 for %s's own errors.\n"
	       "Every option, mode and exit status: man %s\n", prog, prog);
}

/* A stack of argument sources: argv at the bottom, one entry per @FILE
 * being read.  Arguments are taken from the top until it runs dry. */
typedef struct {
	char **args;            /* owned for files, borrowed for argv */
	int n;
	int pos;
	gboolean owned;
} ArgSource;

typedef struct {
	GArray *stack;          /* of ArgSource */
	GPtrArray *retired;     /* lines of finished files, freed between options */
	SbxConfig *cfg;
	gboolean is_tapbox;
	const char *prog;
	gboolean seen[OPT_COUNT];
} Parser;

static void
arg_source_clear(gpointer p)
{
	ArgSource *src = p;

	if (src->owned)
		g_strfreev(src->args);
}

/* The next argument, from whichever source is on top.  A file that runs
 * dry is retired, not freed: the option being parsed may still point into
 * it (its last line was "-W", and the value comes from the next source). */
static const char *
parser_next(Parser *p)
{
	while (p->stack->len > 0) {
		ArgSource *top = &g_array_index(p->stack, ArgSource, p->stack->len - 1);

		if (top->pos < top->n)
			return top->args[top->pos++];
		if (top->owned) {
			g_ptr_array_add(p->retired, top->args);
			top->owned = FALSE;
		}
		g_array_set_size(p->stack, p->stack->len - 1);
	}
	return NULL;
}

/* Everything not consumed yet, across all sources, becomes the command. */
static char **
parser_take_rest(Parser *p)
{
	GPtrArray *rest = g_ptr_array_new();
	const char *arg;

	while ((arg = parser_next(p)))
		g_ptr_array_add(rest, g_strdup(arg));
	g_ptr_array_add(rest, NULL);
	return (char **)g_ptr_array_free(rest, FALSE);
}

static char *host_file_path(const char *value);

/* Read an argument file with a size bound (a FIFO or /dev/zero must not
 * make us allocate forever), never through a symlink a sandbox could have
 * planted (common/safepath.h), and split it into lines. */
static char **
read_arg_file(const char *path, int *n_out, GError **error)
{
	g_autofree char *buf = NULL;
	g_autoptr(GPtrArray) lines = NULL;
	gsize len;
	char *line, *next;

	buf = sbx_read_settings_file(path, "argument file", SBX_ARGFILE_MAX_BYTES, &len, error);
	if (!buf)
		return NULL;
	if (memchr(buf, '\0', len)) {
		g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_CONFIG,
			    "@%s: argument file contains a NUL byte; it must be text, "
			    "one argument a line", path);
		return NULL;
	}
	lines = g_ptr_array_new_with_free_func(g_free);
	/* One argument a line, verbatim (no quoting, no comments); empty lines
	 * are skipped and a CR before the LF is dropped, as the original did. */
	for (line = buf; *line; line = next) {
		char *nl = strchr(line, '\n');
		size_t l;

		next = nl ? nl + 1 : line + strlen(line);
		l = nl ? (size_t)(nl - line) : strlen(line);
		if (l > 0 && line[l - 1] == '\r')
			l--;
		if (l > 0)
			g_ptr_array_add(lines, g_strndup(line, l));
	}
	*n_out = (int)lines->len;
	g_ptr_array_add(lines, NULL);
	return (char **)g_ptr_array_steal(lines, NULL);
}

static gboolean
parser_push_file(Parser *p, const char *arg, GError **error)
{
	const char *path = arg + 1;
	g_autofree char *full = NULL;
	ArgSource src = { 0 };

	if (!*path) {
		g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_CONFIG,
			    "@: missing file name; write @FILE to read arguments from FILE");
		return FALSE;
	}
	/* argv itself is level 0, so len - 1 files are open */
	if ((int)p->stack->len > SBX_ARGFILE_MAX_DEPTH) {
		g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_CONFIG,
			    "@%s: argument files nested deeper than %d levels "
			    "(does a file include itself?)", path, SBX_ARGFILE_MAX_DEPTH);
		return FALSE;
	}
	full = host_file_path(path);
	src.args = read_arg_file(full, &src.n, error);
	if (!src.args)
		return FALSE;
	/* the mount plan keeps it read-only inside (a sandbox must not
	 * rewrite the next run's options) */
	g_ptr_array_add(p->cfg->arg_files, g_steal_pointer(&full));
	src.owned = TRUE;
	g_array_append_val(p->stack, src);
	return TRUE;
}

static const OptDef *
find_long(const char *name, size_t len)
{
	for (gsize i = 0; i < G_N_ELEMENTS(opt_table); i++)
		if (opt_table[i].name && strlen(opt_table[i].name) == len &&
		    strncmp(opt_table[i].name, name, len) == 0)
			return &opt_table[i];
	return NULL;
}

static const OptDef *
find_short(char letter)
{
	for (gsize i = 0; i < G_N_ELEMENTS(opt_table); i++)
		if (opt_table[i].letter == letter)
			return &opt_table[i];
	return NULL;
}

/* Relative host-side files (@FILE, -F, -D, --log) are opened by the
 * launcher, so resolve them against its directory now, before anything
 * changes it.  getcwd(), not g_get_current_dir() (which prefers $PWD): the
 * kernel's answer has no symbolic links in it, so the user's own way into
 * the directory is not mistaken for a planted link (common/safepath.h). */
static char *
host_file_path(const char *value)
{
	char cwd[PATH_MAX];

	if (g_path_is_absolute(value) || !*value)
		return g_strdup(value);
	if (!getcwd(cwd, sizeof cwd)) {
		g_autofree char *fallback = g_get_current_dir();

		return g_build_filename(fallback, value, NULL);
	}
	return g_build_filename(cwd, value, NULL);
}

static gboolean
parse_uint_opt(const char *as, const char *value, guint64 min, guint64 max, int code,
	       const char *example, guint64 *out, GError **error)
{
	g_autoptr(GError) err = NULL;

	if (g_ascii_string_to_unsigned(value, 10, min, max, out, &err))
		return TRUE;
	if (g_error_matches(err, G_NUMBER_PARSER_ERROR, G_NUMBER_PARSER_ERROR_OUT_OF_BOUNDS))
		g_set_error(error, SBX_ERROR, code,
			    "%s %s: out of range; give a number from %" G_GUINT64_FORMAT
			    " to %" G_GUINT64_FORMAT ", e.g. %s", as, value, min, max, example);
	else
		g_set_error(error, SBX_ERROR, code,
			    "%s %s: not a number; give a whole number, e.g. %s", as, value,
			    example);
	return FALSE;
}

/* Apply one option.  AS is the spelling the user wrote ("-T" or
 * "--timeout"), so messages quote what they typed.  VALUE is never NULL
 * ("" for options without a value). */
static gboolean
apply_option(Parser *p, const OptDef *def, const char *as, const char *value, GError **error)
{
	SbxConfig *cfg = p->cfg;
	guint64 n;

	if ((def->flags & OPTF_TAPBOX) && !p->is_tapbox) {
		g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_NETWORK,
			    "%s needs mini-tapbox: mini-sandbox has no network of its own "
			    "(use mini-tapbox, or -N for the host's network)", as);
		return FALSE;
	}
	if ((def->flags & OPTF_SANDBOX) && p->is_tapbox) {
		g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_NETWORK,
			    "%s cannot be used with mini-tapbox: it always builds its own "
			    "network (use mini-sandbox %s)", as, as);
		return FALSE;
	}
	if ((def->flags & OPTF_ONCE) && p->seen[def->id]) {
		g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_CONFIG,
			    "%s given twice; give it once", as);
		return FALSE;
	}
	p->seen[def->id] = TRUE;

	switch (def->id) {
	case OPT_DEFAULT:
		return sbx_config_set_fs_mode(cfg, SBX_FS_DEFAULT, NULL, error);
	case OPT_ROOT:
		return sbx_config_set_fs_mode(cfg, SBX_FS_CUSTOM, value, error);
	case OPT_HERMETIC:
		return sbx_config_set_fs_mode(cfg, SBX_FS_HERMETIC, value, error);
	case OPT_OVERLAY_DIR:
		cfg->overlay_dir = g_strdup(value);
		return TRUE;
	case OPT_OVERLAY:
		sbx_config_add_mount(cfg, SBX_MOUNT_OVERLAY, value);
		return TRUE;
	case OPT_WRITE:
		sbx_config_add_mount(cfg, SBX_MOUNT_WRITE, value);
		return TRUE;
	case OPT_READ_ONLY:
		sbx_config_add_mount(cfg, SBX_MOUNT_READ, value);
		return TRUE;
	case OPT_EMPTY:
		sbx_config_add_mount(cfg, SBX_MOUNT_TMPFS, value);
		return TRUE;
	case OPT_WORKDIR:
		cfg->workdir = g_strdup(value);
		return TRUE;
	case OPT_KEEP_OVERLAY:
		cfg->keep_overlay = TRUE;
		return TRUE;
	case OPT_PROC:
		/* --proc: a new /proc in hermetic mode (as before); --proc=host:
		 * also accept the host's /proc where a new one is refused */
		if (!*value) {
			cfg->mount_proc = TRUE;
			return TRUE;
		}
		if (strcmp(value, "host") == 0) {
			cfg->proc_host = TRUE;
			return TRUE;
		}
		g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_CONFIG,
			    "%s=%s: unknown value; write %s (a new /proc in -h mode) or %s=host "
			    "(share the host's /proc when a new one is refused)", as, value, as, as);
		return FALSE;
	case OPT_TMPFS_SIZE:
		return sbx_parse_size(as, value, &cfg->tmpfs_size, error);
	case OPT_SHARE_NETWORK:
		return sbx_config_set_net_mode(cfg, SBX_NET_HOST, error);
	case OPT_NO_LOOPBACK:
		return sbx_config_set_net_mode(cfg, SBX_NET_LO_DOWN, error);
	case OPT_FAKE_ROOT:
		return sbx_config_set_identity(cfg, SBX_ID_ROOT, error);
	case OPT_NOBODY:
		return sbx_config_set_identity(cfg, SBX_ID_NOBODY, error);
	case OPT_HOSTNAME_LOCALHOST:
		cfg->hostname_localhost = TRUE;
		return TRUE;
	case OPT_ALLOW_USERNS:
		cfg->allow_userns = TRUE;
		return TRUE;
	case OPT_REQUIRE_LANDLOCK:
		cfg->require_landlock = TRUE;
		return TRUE;
	case OPT_TIMEOUT:
		if (!parse_uint_opt(as, value, 0, G_MAXINT32, SBX_ERR_ILLEGAL_CONFIG, "60", &n,
				    error))
			return FALSE;
		cfg->timeout_secs = (guint)n;
		return TRUE;
	case OPT_MAX_PROCS:
		if (!parse_uint_opt(as, value, 1, SBX_MAX_MAX_PROCS, SBX_ERR_ILLEGAL_CONFIG, "512",
				    &n, error))
			return FALSE;
		cfg->max_procs = (guint)n;
		return TRUE;
	case OPT_KILL_DELAY:
		if (!parse_uint_opt(as, value, 0, G_MAXINT32, SBX_ERR_ILLEGAL_CONFIG, "5", &n,
				    error))
			return FALSE;
		cfg->grace_secs = (guint)n;
		return TRUE;
	case OPT_SIGINT_TERM:
		cfg->sigint_polite = TRUE;
		return TRUE;
	case OPT_KEEP_FD: {
		int fd;

		if (!parse_uint_opt(as, value, 0, G_MAXINT32, SBX_ERR_ILLEGAL_CONFIG, "3", &n,
				    error))
			return FALSE;
		fd = (int)n;
		g_array_append_val(cfg->keep_fds, fd);
		return TRUE;
	}
	case OPT_DEBUG_LOG: {
		g_autofree char *path = host_file_path(value);

		return sbx_config_set_debug_log(cfg, path, error);
	}
	case OPT_VERBOSE:
		cfg->verbose = TRUE;
		return TRUE;
	case OPT_ALLOWLIST:
		g_ptr_array_add(cfg->allow_files, host_file_path(value));
		return TRUE;
	case OPT_ALLOW:
		if (!*value) {
			g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_NETWORK,
				    "%s: empty entry; give an address, CIDR or domain, "
				    "e.g. %s example.com:443", as, as);
			return FALSE;
		}
		g_ptr_array_add(cfg->allow_entries, g_strdup(value));
		return TRUE;
	case OPT_SLIRP_TCP:
		cfg->slirp_tcp = TRUE;
		return TRUE;
	case OPT_NO_NAME_CHECK:
		cfg->no_name_check = TRUE;
		return TRUE;
	case OPT_ALLOW_UNRESOLVED:
		cfg->allow_unresolved = TRUE;
		return TRUE;
	case OPT_ALLOW_HOST_PORT: {
		guint16 port;

		if (!parse_uint_opt(as, value, 1, 65535, SBX_ERR_ILLEGAL_NETWORK, "8080", &n,
				    error))
			return FALSE;
		port = (guint16)n;
		g_array_append_val(cfg->host_ports, port);
		return TRUE;
	}
	case OPT_PUBLISH: {
		SbxPublish pub = { 0 };

		if (!sbx_parse_publish(as, value, &pub, error))
			return FALSE;
		g_array_append_val(cfg->publish, pub);
		return TRUE;
	}
	case OPT_MTU:
		if (!parse_uint_opt(as, value, 68, SBX_DEFAULT_MTU, SBX_ERR_ILLEGAL_NETWORK,
				    "1500", &n, error))
			return FALSE;
		cfg->mtu = (guint)n;
		return TRUE;
	case OPT_RESOLVER:
		cfg->resolver = g_strdup(value);
		return TRUE;
	case OPT_LOG:
		cfg->log_file = host_file_path(value);
		return TRUE;
	case OPT_LEARN:
		cfg->learn_file = host_file_path(value);
		return TRUE;
	case OPT_QUIET:
		cfg->quiet = TRUE;
		return TRUE;
	case OPT_PROFILE: {
		g_autofree char *known = profile_names_joined();
		gboolean found = FALSE;

		for (const char *const *name = profile_names(); *name; name++)
			found = found || strcmp(*name, value) == 0;
		if (!found) {
			g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_CONFIG,
				    "%s %s: unknown profile; known profiles: %s", as, value, known);
			return FALSE;
		}
		g_ptr_array_add(cfg->profiles, g_strdup(value));
		return TRUE;
	}
	case OPT_PRINT_PROFILE:
		return sbx_profile_print(value, error);
	case OPT_PROFILE_CACHE:
		cfg->profile_cache = TRUE;
		return TRUE;
	case OPT_HELP:
		print_help(p->prog, p->is_tapbox);
		return TRUE;
	case OPT_VERSION:
		printf("%s %s\n", p->prog, PACKAGE_VERSION);
		return TRUE;
	case OPT_COMPAT_PTY:
		/* The new devpts instance already lets the command use the ptys
		 * it opens; gid tty cannot be mapped without privilege. */
		sbx_warn("%s has no effect: /dev/pts is already a private instance the "
			 "command can write (the tty group cannot be mapped rootless)", as);
		return TRUE;
	case OPT_COMPAT_IGNORED:
		sbx_warn("%s %s ignored: accepted for scripts written for the original "
			 "mini-sandbox, which ignores it too", as, value);
		return TRUE;
	case OPT_COUNT:
	default:
		g_assert_not_reached();
	}
}

/* The value of an option: the rest of the word if there is one, else the
 * next argument (which may come from the next source, and is never
 * @-expanded: `-w @dir` means the path "@dir"). */
static const char *
option_value(Parser *p, const char *as, const char *inline_value, GError **error)
{
	const char *value = inline_value;

	if (!value)
		value = parser_next(p);
	if (!value) {
		/* -h is hermetic mode here, as in the original, not help */
		g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_CONFIG,
			    "%s needs a value%s; see '%s --help'", as,
			    strcmp(as, "-h") == 0 ? " (-h DIR is hermetic mode; help is --help)" : "",
			    p->prog);
		return NULL;
	}
	return value;
}

static gboolean
parse_long(Parser *p, const char *arg, gboolean *stop, GError **error)
{
	const char *name = arg + 2;
	const char *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	g_autofree char *as = g_strndup(arg, len + 2);
	const OptDef *def = find_long(name, len);
	const char *value = "";

	if (!def) {
		g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_CONFIG,
			    "unknown option %s (long options must be spelled out in full)", as);
		return FALSE;
	}
	if (def->flags & OPTF_VALUE) {
		value = option_value(p, as, eq ? eq + 1 : NULL, error);
		if (!value)
			return FALSE;
	} else if (eq && (def->flags & OPTF_INLINE_VALUE)) {
		value = eq + 1;
		if (!*value) {
			g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_CONFIG,
				    "%s=: empty value; write %s or %s=VALUE", as, as, as);
			return FALSE;
		}
	} else if (eq) {
		g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_CONFIG,
			    "%s takes no value (got '%s')", as, eq + 1);
		return FALSE;
	}
	if (!apply_option(p, def, as, value, error))
		return FALSE;
	*stop = def->id == OPT_HELP || def->id == OPT_VERSION || def->id == OPT_PRINT_PROFILE;
	return TRUE;
}

static gboolean
parse_short_cluster(Parser *p, const char *arg, gboolean *stop, GError **error)
{
	for (const char *c = arg + 1; *c; c++) {
		const OptDef *def = find_short(*c);
		char as[3] = { '-', *c, '\0' };

		if (!def) {
			g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_CONFIG,
				    "unknown option %s; see '%s --help'", as, p->prog);
			return FALSE;
		}
		if (def->flags & OPTF_VALUE) {
			const char *value = option_value(p, as, c[1] ? c + 1 : NULL, error);
			if (!value || !apply_option(p, def, as, value, error))
				return FALSE;
			return TRUE;   /* the value used up the rest of the word */
		}
		if (!apply_option(p, def, as, "", error))
			return FALSE;
	}
	*stop = FALSE;
	return TRUE;
}

static SbxParseResult
parse_all(Parser *p, GError **error)
{
	SbxConfig *cfg = p->cfg;
	const char *arg;

	while ((arg = parser_next(p))) {
		gboolean exit_ok = FALSE;

		/* the previous option is applied (its values copied), and ARG
		 * comes from a source still on the stack: retired files can go */
		g_ptr_array_set_size(p->retired, 0);

		if (strcmp(arg, "--") == 0)
			break;
		if (arg[0] == '@') {
			if (!parser_push_file(p, arg, error))
				return SBX_PARSE_ERROR;
			continue;
		}
		if (arg[0] != '-' || arg[1] == '\0') {
			/* the command starts here: put it back */
			ArgSource *top = &g_array_index(p->stack, ArgSource, p->stack->len - 1);

			/* parser_next() never pops the source it just returned from */
			top->pos--;
			break;
		}
		if (arg[1] == '-' ? !parse_long(p, arg, &exit_ok, error)
				  : !parse_short_cluster(p, arg, &exit_ok, error))
			return SBX_PARSE_ERROR;
		if (exit_ok)
			return SBX_PARSE_EXIT_OK;
	}
	cfg->argv = parser_take_rest(p);
	if (!cfg->argv[0]) {
		g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_CONFIG,
			    "no command given; put it last, e.g. %s -x -- bash", p->prog);
		return SBX_PARSE_ERROR;
	}
	/* mini-tapbox with nothing to allow keeps the original's behaviour:
	 * unrestricted egress (the network code says so on stderr). */
	if (p->is_tapbox && cfg->allow_files->len == 0 && cfg->allow_entries->len == 0 &&
	    cfg->profiles->len == 0)
		cfg->allow_all = TRUE;
	return sbx_config_validate(cfg, error) ? SBX_PARSE_RUN : SBX_PARSE_ERROR;
}

SbxParseResult
sbx_options_parse(int argc, char **argv, gboolean is_tapbox, SbxConfig **out, GError **error)
{
	g_autoptr(SbxConfig) cfg = sbx_config_new();
	g_autoptr(GArray) stack = g_array_new(FALSE, TRUE, sizeof(ArgSource));
	g_autoptr(GPtrArray) retired = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
	ArgSource top = { .args = argv + 1, .n = argc > 0 ? argc - 1 : 0 };
	Parser p = {
		.stack = stack,
		.retired = retired,
		.cfg = cfg,
		.is_tapbox = is_tapbox,
		.prog = is_tapbox ? "mini-tapbox" : "mini-sandbox",
	};
	SbxParseResult res;

	g_array_set_clear_func(stack, arg_source_clear);
	g_array_append_val(stack, top);
	cfg->is_tapbox = is_tapbox;
	if (is_tapbox && !sbx_config_set_net_mode(cfg, SBX_NET_TAP, error))
		return SBX_PARSE_ERROR;
	res = parse_all(&p, error);
	if (res == SBX_PARSE_RUN)
		*out = g_steal_pointer(&cfg);
	if (res == SBX_PARSE_EXIT_OK)
		fflush(stdout);
	return res;
}
