/* SPDX-License-Identifier: MIT
 *
 * options-check.c — the rules an SbxConfig must satisfy before anything
 * runs, shared by the command line (options.c) and the C API (api.c).
 *
 * Two kinds of check:
 *  - setters (sbx_config_set_*) catch contradictions a single field cannot
 *    remember afterwards: -x then -o leaves only "custom" in fs_mode, so the
 *    conflict must be seen when the second mode arrives;
 *  - sbx_config_validate() looks at the finished config: relative paths,
 *    overlays without an overlay mode, -w and -M on one path, /tmp in -x,
 *    network settings without mini-tapbox, ranges.
 * Nothing here touches the filesystem: whether a path exists is decided by
 * the mount plan (mounts/), which looks at the host once.
 *
 * Every message names the option and the value, says what is wrong and how
 * to fix it, in the user's terms (the CLI flags, also for API users: the
 * man page explains the API by the same flags).
 */
#include "src/options.h"
#include "common/error.h"
#include "net/allowlist.h"

#include <arpa/inet.h>
#include <string.h>

static const char *
fs_mode_option(SbxFsMode mode)
{
	switch (mode) {
	case SBX_FS_READONLY: return "read-only mode (no mode flag)";
	case SBX_FS_DEFAULT: return "-x (--default)";
	case SBX_FS_CUSTOM: return "-o (--root)";
	case SBX_FS_HERMETIC: return "-h (--hermetic)";
	default: return "?";
	}
}

static const char *
net_mode_option(SbxNetMode mode)
{
	switch (mode) {
	case SBX_NET_NONE: return "the default network (private lo)";
	case SBX_NET_LO_DOWN: return "-n (--no-loopback)";
	case SBX_NET_HOST: return "-N (--share-network)";
	case SBX_NET_TAP: return "mini-tapbox's network";
	default: return "?";
	}
}

static const char *
identity_option(SbxIdentity id)
{
	switch (id) {
	case SBX_ID_SAME: return "the caller's identity";
	case SBX_ID_ROOT: return "-R (--fake-root)";
	case SBX_ID_NOBODY: return "-U (--nobody)";
	default: return "?";
	}
}

gboolean
sbx_config_set_fs_mode(SbxConfig *cfg, SbxFsMode mode, const char *dir, GError **error)
{
	const char *flag = sbx_fs_mode_flag(mode);

	if (mode == cfg->fs_mode) {
		if (mode == SBX_FS_DEFAULT || mode == SBX_FS_READONLY)
			return TRUE;
		g_set_error(error, SBX_ERROR, SBX_ERR_ROOT_NOT_UNIQUE,
			    "%s given twice (%s and %s); a sandbox has one root, give %s once",
			    flag, mode == SBX_FS_CUSTOM ? cfg->custom_root : cfg->hermetic_dir,
			    dir ? dir : "?", flag);
		return FALSE;
	}
	/* As in the original: -h after -x or -o is a second root (its default
	 * and custom modes make a root too), not a second mode. */
	if (mode == SBX_FS_HERMETIC &&
	    (cfg->fs_mode == SBX_FS_DEFAULT || cfg->fs_mode == SBX_FS_CUSTOM)) {
		g_set_error(error, SBX_ERROR, SBX_ERR_ROOT_NOT_UNIQUE,
			    "%s and %s: both make the sandbox's root; a sandbox has one root, "
			    "choose one", fs_mode_option(cfg->fs_mode), flag);
		return FALSE;
	}
	if (cfg->fs_mode != SBX_FS_READONLY || mode == SBX_FS_READONLY) {
		g_set_error(error, SBX_ERROR, SBX_ERR_INVALID_MODE,
			    "%s and %s: two filesystem modes; choose one",
			    fs_mode_option(cfg->fs_mode), fs_mode_option(mode));
		return FALSE;
	}
	if ((mode == SBX_FS_CUSTOM || mode == SBX_FS_HERMETIC) && !dir) {
		g_set_error(error, SBX_ERROR, SBX_ERR_INVALID_FOLDER,
			    "%s needs a directory", flag);
		return FALSE;
	}
	cfg->fs_mode = mode;
	if (mode == SBX_FS_CUSTOM)
		cfg->custom_root = g_strdup(dir);
	else if (mode == SBX_FS_HERMETIC)
		cfg->hermetic_dir = g_strdup(dir);
	return TRUE;
}

gboolean
sbx_config_set_identity(SbxConfig *cfg, SbxIdentity id, GError **error)
{
	if (cfg->identity != SBX_ID_SAME && cfg->identity != id) {
		g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_CONFIG,
			    "%s and %s cannot be combined: the command runs as root or as "
			    "nobody; choose one", identity_option(cfg->identity),
			    identity_option(id));
		return FALSE;
	}
	cfg->identity = id;
	return TRUE;
}

gboolean
sbx_config_set_net_mode(SbxConfig *cfg, SbxNetMode mode, GError **error)
{
	if (cfg->net_mode == mode)
		return TRUE;
	if (cfg->net_mode != SBX_NET_NONE) {
		g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_NETWORK,
			    "%s and %s cannot be combined; choose one network",
			    net_mode_option(cfg->net_mode), net_mode_option(mode));
		return FALSE;
	}
	cfg->net_mode = mode;
	return TRUE;
}

gboolean
sbx_config_set_debug_log(SbxConfig *cfg, const char *path, GError **error)
{
	if (cfg->debug_log) {
		g_set_error(error, SBX_ERROR, SBX_ERR_LOG_NOT_UNIQUE,
			    "-D given twice (%s and %s); give one debug log file",
			    cfg->debug_log, path);
		return FALSE;
	}
	cfg->debug_log = g_strdup(path);
	return TRUE;
}

gboolean
sbx_parse_size(const char *opt, const char *value, guint64 *out, GError **error)
{
	g_autofree char *digits = g_strdup(value);
	size_t len = strlen(digits);
	guint64 mult = 1, n;

	if (len > 0) {
		switch (g_ascii_tolower(digits[len - 1])) {
		case 'k': mult = 1ULL << 10; break;
		case 'm': mult = 1ULL << 20; break;
		case 'g': mult = 1ULL << 30; break;
		default: break;
		}
		if (mult != 1)
			digits[len - 1] = '\0';
	}
	if (!g_ascii_string_to_unsigned(digits, 10, 1, G_MAXUINT64 / mult, &n, NULL)) {
		g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_CONFIG,
			    "%s %s: not a size; give a number above 0 with an optional k, m "
			    "or g suffix, e.g. %s 512m", opt, value, opt);
		return FALSE;
	}
	*out = n * mult;
	return TRUE;
}

static gboolean
parse_port(const char *s, guint16 *port)
{
	guint64 n;

	if (!g_ascii_string_to_unsigned(s, 10, 1, 65535, &n, NULL))
		return FALSE;
	*port = (guint16)n;
	return TRUE;
}

gboolean
sbx_parse_publish(const char *opt, const char *value, SbxPublish *out, GError **error)
{
	g_autofree char *host = NULL;
	g_auto(GStrv) parts = NULL;
	const char *rest = value;
	char **ports;
	guint8 addr[sizeof(struct in6_addr)];

	if (value[0] == '[') {
		const char *close = strchr(value, ']');

		if (close && close[1] == ':') {
			host = g_strndup(value + 1, (size_t)(close - value - 1));
			rest = close + 2;
		}
		if (!host || inet_pton(AF_INET6, host, addr) != 1)
			goto bad;
	}
	parts = g_strsplit(rest, ":", -1);
	ports = parts;
	if (!host && g_strv_length(parts) == 3) {
		host = g_strdup(parts[0]);
		ports = parts + 1;
		if (inet_pton(AF_INET, host, addr) != 1)
			goto bad;
	}
	if (g_strv_length(ports) != 2 || !parse_port(ports[0], &out->host_port) ||
	    !parse_port(ports[1], &out->guest_port))
		goto bad;
	out->host_addr = host ? g_steal_pointer(&host) : g_strdup("127.0.0.1");
	return TRUE;
bad:
	g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_NETWORK,
		    "%s %s: expected [HOSTIP:]HOSTPORT:PORT with ports 1-65535 and an "
		    "IPv6 HOSTIP in brackets, e.g. %s 8080:80 or %s [::1]:8080:80",
		    opt, value, opt, opt);
	return FALSE;
}

/* Lexical form for comparisons only ("/tmp/" and "/tmp/." are "/tmp");
 * the config keeps paths as given. */
static char *
path_key(const char *path)
{
	return g_canonicalize_filename(path, "/");
}

static gboolean
check_absolute(const char *flag, const char *path, GError **error)
{
	if (!path)
		return TRUE;
	if (!*path) {
		g_set_error(error, SBX_ERROR, SBX_ERR_NOT_ABSOLUTE,
			    "%s: empty path; give the full path of a file or directory", flag);
		return FALSE;
	}
	if (path[0] != '/') {
		g_set_error(error, SBX_ERROR, SBX_ERR_NOT_ABSOLUTE,
			    "%s %s: not an absolute path; give the full path, e.g. %s \"$PWD/%s\"",
			    flag, path, flag, path);
		return FALSE;
	}
	return TRUE;
}

static gboolean
validate_paths(const SbxConfig *cfg, GError **error)
{
	if (!check_absolute("-o", cfg->custom_root, error) ||
	    !check_absolute("-d", cfg->overlay_dir, error) ||
	    !check_absolute("-h", cfg->hermetic_dir, error) ||
	    !check_absolute("-W", cfg->workdir, error) ||
	    !check_absolute("-D", cfg->debug_log, error) ||
	    !check_absolute("--log", cfg->log_file, error) ||
	    !check_absolute("--learn", cfg->learn_file, error))
		return FALSE;
	for (guint i = 0; i < cfg->mounts->len; i++) {
		const SbxMountOpt *m = &g_array_index(cfg->mounts, SbxMountOpt, i);

		if (!check_absolute(sbx_mount_kind_flag(m->kind), m->path, error))
			return FALSE;
	}
	for (guint i = 0; i < cfg->allow_files->len; i++)
		if (!check_absolute("-F", g_ptr_array_index(cfg->allow_files, i), error))
			return FALSE;
	return TRUE;
}

static gboolean
validate_mode(const SbxConfig *cfg, GError **error)
{
	gboolean overlay_mode = cfg->fs_mode == SBX_FS_DEFAULT || cfg->fs_mode == SBX_FS_CUSTOM;

	/* The setters keep these consistent; a caller writing fields directly
	 * may not have. */
	if ((cfg->custom_root && cfg->fs_mode != SBX_FS_CUSTOM) ||
	    (cfg->hermetic_dir && cfg->fs_mode != SBX_FS_HERMETIC)) {
		g_set_error(error, SBX_ERROR, SBX_ERR_INVALID_MODE,
			    "%s and %s: two filesystem modes; choose one",
			    fs_mode_option(cfg->custom_root ? SBX_FS_CUSTOM : SBX_FS_HERMETIC),
			    fs_mode_option(cfg->fs_mode));
		return FALSE;
	}
	if ((cfg->fs_mode == SBX_FS_CUSTOM && !cfg->custom_root) ||
	    (cfg->fs_mode == SBX_FS_HERMETIC && !cfg->hermetic_dir)) {
		g_set_error(error, SBX_ERROR, SBX_ERR_INVALID_FOLDER, "%s needs a directory",
			    fs_mode_option(cfg->fs_mode));
		return FALSE;
	}
	/* Overlays need a mode that builds a new root with overlays, as in the
	 * original: -x (upper directories in memory) or -o (in memory, or under
	 * -d DIR — only custom mode keeps them on disk). */
	if (cfg->overlay_dir && cfg->fs_mode != SBX_FS_CUSTOM) {
		g_set_error(error, SBX_ERROR, SBX_ERR_OVERLAY_NOT_SET,
			    "-d %s: an overlay directory needs custom mode, -o ROOT; this "
			    "sandbox is in %s", cfg->overlay_dir, fs_mode_option(cfg->fs_mode));
		return FALSE;
	}
	for (guint i = 0; i < cfg->mounts->len; i++) {
		const SbxMountOpt *m = &g_array_index(cfg->mounts, SbxMountOpt, i);

		if (m->kind == SBX_MOUNT_OVERLAY && !overlay_mode) {
			g_set_error(error, SBX_ERROR, SBX_ERR_OVERLAY_NOT_SET,
				    "-k %s: overlays need -o ROOT (or -x); this sandbox is in %s",
				    m->path, fs_mode_option(cfg->fs_mode));
			return FALSE;
		}
	}
	if (cfg->keep_overlay && !cfg->overlay_dir) {
		g_set_error(error, SBX_ERROR, SBX_ERR_OVERLAY_NOT_SET,
			    "--keep-overlay keeps what the overlays wrote under -d DIR; give "
			    "-d DIR (without it, overlay changes live in memory and vanish)");
		return FALSE;
	}
	/* -d inside -o is judged when the filesystem is planned: fine when
	 * ROOT is empty (the original's usage, -o DIR -d DIR), not when ROOT
	 * is a lower layer (mounts/mount-plan.c). */
	if (cfg->mount_proc && cfg->fs_mode != SBX_FS_HERMETIC) {
		g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_CONFIG,
			    "--proc is for hermetic mode (-h DIR); the other modes always "
			    "mount a new /proc; drop --proc (--proc=host is the opt-in to the "
			    "host's /proc where a new one is refused)");
		return FALSE;
	}
	return TRUE;
}

static gboolean
validate_mounts(const SbxConfig *cfg, GError **error)
{
	for (guint i = 0; i < cfg->mounts->len; i++) {
		const SbxMountOpt *m = &g_array_index(cfg->mounts, SbxMountOpt, i);
		g_autofree char *key = path_key(m->path);
		const char *flag = sbx_mount_kind_flag(m->kind);

		if (cfg->fs_mode == SBX_FS_DEFAULT && strcmp(key, "/tmp") == 0 &&
		    m->kind != SBX_MOUNT_EMPTY_FILE) {
			g_set_error(error, SBX_ERROR, SBX_ERR_TMP_REMOUNT,
				    "%s %s: -x gives the sandbox a private /tmp of its own, "
				    "which cannot be replaced; drop %s %s",
				    flag, m->path, flag, m->path);
			return FALSE;
		}
		if (m->kind != SBX_MOUNT_WRITE)
			continue;
		for (guint j = 0; j < cfg->mounts->len; j++) {
			const SbxMountOpt *o = &g_array_index(cfg->mounts, SbxMountOpt, j);
			g_autofree char *okey = NULL;

			if (o->kind != SBX_MOUNT_READ)
				continue;
			okey = path_key(o->path);
			if (strcmp(key, okey) == 0) {
				g_set_error(error, SBX_ERROR, SBX_ERR_READ_AND_WRITE,
					    "-w %s and -M %s: the same path cannot be writable "
					    "and read-only; keep one", m->path, o->path);
				return FALSE;
			}
		}
	}
	return TRUE;
}

/* --resolver ADDR[:PORT]: the grammar of net/resolve.c's
 * sbx_resolver_parse(), checked here so the mistake is a usage error before
 * anything starts.  IPv4, IPv4:PORT, IPv6, [IPv6], [IPv6]:PORT. */
static gboolean
resolver_is_valid(const char *spec)
{
	g_autofree char *host = NULL;
	const char *port_s = NULL, *colon = strchr(spec, ':');
	guint8 addr[sizeof(struct in6_addr)];
	guint16 port;

	if (spec[0] == '[') {
		const char *close = strchr(spec, ']');

		if (!close || (close[1] && close[1] != ':'))
			return FALSE;
		host = g_strndup(spec + 1, (size_t)(close - spec - 1));
		if (close[1] == ':')
			port_s = close + 2;
		if (inet_pton(AF_INET6, host, addr) != 1)
			return FALSE;
	} else if (colon && !strchr(colon + 1, ':')) {
		host = g_strndup(spec, (size_t)(colon - spec));
		port_s = colon + 1;
		if (inet_pton(AF_INET, host, addr) != 1)
			return FALSE;
	} else if (inet_pton(AF_INET, spec, addr) != 1 && inet_pton(AF_INET6, spec, addr) != 1) {
		return FALSE;
	}
	return !port_s || parse_port(port_s, &port);
}

/* Network settings only mean something for mini-tapbox: say which one was
 * given to mini-sandbox instead of silently ignoring it. */
static const char *
tapbox_only_setting(const SbxConfig *cfg)
{
	if (cfg->allow_files->len)
		return "-F";
	if (cfg->allow_entries->len)
		return "--allow";
	if (cfg->allow_unresolved)
		return "--allow-unresolved";
	if (cfg->slirp_tcp)
		return "--slirp-tcp";
	if (cfg->no_name_check)
		return "--no-name-check";
	if (cfg->host_ports->len)
		return "--allow-host-port";
	if (cfg->publish->len)
		return "--publish";
	if (cfg->mtu != SBX_DEFAULT_MTU)
		return "--mtu";
	if (cfg->resolver)
		return "--resolver";
	if (cfg->log_file)
		return "--log";
	if (cfg->learn_file)
		return "--learn";
	if (cfg->max_connections)
		return "mini_sandbox_allow_max_connections()";
	return NULL;
}

/* The first --allow entry that is a domain (`name`, `*.name`), or NULL.
 * -F files are judged when they are read (net.c), with the same rule. */
static const char *
first_domain_entry(const SbxConfig *cfg)
{
	for (guint i = 0; i < cfg->allow_entries->len; i++) {
		const char *text = g_ptr_array_index(cfg->allow_entries, i);
		g_autoptr(GArray) one = allowlist_new();

		if (allowlist_parse_line(text, "--allow", one, NULL) && one->len &&
		    (g_array_index(one, AllowEntry, 0).kind == ALLOW_DOMAIN ||
		     g_array_index(one, AllowEntry, 0).kind == ALLOW_WILDCARD))
			return text;
	}
	return NULL;
}

static gboolean
validate_network(const SbxConfig *cfg, GError **error)
{
	const char *setting = tapbox_only_setting(cfg);

	if (cfg->is_tapbox && cfg->net_mode != SBX_NET_TAP) {
		g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_NETWORK,
			    "%s cannot be used with mini-tapbox: it always builds its own "
			    "network", net_mode_option(cfg->net_mode));
		return FALSE;
	}
	if (cfg->net_mode != SBX_NET_TAP) {
		if (setting) {
			g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_NETWORK,
				    "%s needs mini-tapbox: mini-sandbox has no network of "
				    "its own (use mini-tapbox, or -N for the host's network)",
				    setting);
			return FALSE;
		}
		return TRUE;
	}
	if (cfg->mtu < 68 || cfg->mtu > SBX_DEFAULT_MTU) {
		g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_NETWORK,
			    "--mtu %u: out of range; give a number from 68 to %d, e.g. --mtu 1500",
			    cfg->mtu, SBX_DEFAULT_MTU);
		return FALSE;
	}
	for (guint i = 0; i < cfg->host_ports->len; i++) {
		if (g_array_index(cfg->host_ports, guint16, i) == 0) {
			g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_NETWORK,
				    "--allow-host-port 0: give a port from 1 to 65535");
			return FALSE;
		}
	}
	for (guint i = 0; i < cfg->publish->len; i++) {
		const SbxPublish *pub = &g_array_index(cfg->publish, SbxPublish, i);

		if (!pub->host_port || !pub->guest_port || !pub->host_addr) {
			g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_NETWORK,
				    "--publish %s:%u:%u: give ports from 1 to 65535",
				    pub->host_addr ? pub->host_addr : "?", pub->host_port,
				    pub->guest_port);
			return FALSE;
		}
	}
	/* libslirp's TCP cannot see a connection's first bytes: with it, a
	 * domain entry would admit every site on its addresses (issue 13) */
	if (cfg->slirp_tcp && !cfg->no_name_check && first_domain_entry(cfg)) {
		g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_NETWORK,
			    "--slirp-tcp cannot check the names a domain entry (--allow %s) "
			    "admits: leave out --slirp-tcp, or give --no-name-check to let any "
			    "name through on its addresses", first_domain_entry(cfg));
		return FALSE;
	}
	if (cfg->resolver && !resolver_is_valid(cfg->resolver)) {
		g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_NETWORK,
			    "--resolver %s: expected a numeric ADDR, ADDR:PORT or [IPV6]:PORT, "
			    "e.g. --resolver 127.0.0.1:5353", cfg->resolver);
		return FALSE;
	}
	return TRUE;
}

gboolean
sbx_config_validate(const SbxConfig *cfg, GError **error)
{
	if (!validate_mode(cfg, error) || !validate_paths(cfg, error) ||
	    !validate_mounts(cfg, error) || !validate_network(cfg, error))
		return FALSE;
	for (guint i = 0; i < cfg->keep_fds->len; i++) {
		int fd = g_array_index(cfg->keep_fds, int, i);

		if (fd < 0) {
			g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_CONFIG,
				    "--keep-fd %d: not a file descriptor; give a number >= 0", fd);
			return FALSE;
		}
	}
	if (cfg->allow_userns && cfg->require_landlock) {
		/* The kernel refuses mounts under Landlock's filesystem rules. */
		g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_CONFIG,
			    "--allow-userns and --require-landlock: with --allow-userns the "
			    "filesystem rules of Landlock are left out (the kernel refuses mounts "
			    "under them, and a nested sandbox must mount); choose one");
		return FALSE;
	}
	if (cfg->argv && (!cfg->argv[0] || !cfg->argv[0][0])) {
		g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_CONFIG,
			    "no command given (the command name is empty); put it last, "
			    "e.g. -- bash");
		return FALSE;
	}
	return TRUE;
}
