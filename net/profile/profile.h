/* SPDX-License-Identifier: MIT
 *
 * profile.h — package-manager profiles (--profile NAME, "profile NAME" in
 * an allowlist file, mini_sandbox_allow_profile()): what a tool's own
 * configuration says it will contact, turned into allowlist entries, and
 * what the tool needs inside (its settings files, read-only; proxies made
 * reachable).  See PROFILES in mini-tapbox(1).
 *
 * Design: the profiles are pure code over a ProfileHost — the launcher's
 * environment, CWD and $HOME, and callbacks that read a file, test for a
 * path, list a directory and find a program.  The tool is never run: its
 * files are parsed the way the tool parses them (one small parser per
 * format: npm.c, pip.c, apt.c, git.c, go.c, cargo.c), so unit tests hand in sample files
 * and check the result (tests/unit/test-profile.c; fuzzed by
 * tests/fuzz/fuzz-profile.c).  profile-host.c is the only part that
 * touches the host: the real ProfileHost (files opened with the
 * settings-file rule of common/safepath.h) and the expansion of an
 * SbxConfig's profiles into entries, read-only binds, environment and host
 * ports.
 *
 * Every URL becomes an entry through allowlist_url_to_entry(), the one
 * conversion URL lines use too.
 */
#pragma once

#include <glib.h>

typedef struct ProfileHost ProfileHost;

struct ProfileHost {
	char **env;             /* the launcher's environment (NAME=VALUE) */
	const char *cwd;        /* absolute */
	const char *home;       /* absolute */
	/* Read PATH whole: contents (NUL-terminated, length *LEN), or NULL:
	 * *MISSING set when it does not exist (not an error), else ERROR. */
	char *(*read_file)(const ProfileHost *h, const char *path, gsize *len,
			   gboolean *missing, GError **error);
	/* Does PATH exist (as anything)? */
	gboolean (*exists)(const ProfileHost *h, const char *path);
	/* The names in DIR, sorted; NULL when it cannot be listed. */
	GPtrArray *(*list_dir)(const ProfileHost *h, const char *dir);
	/* Canonical path of program NAME on $PATH, or NULL. */
	char *(*find_program)(const ProfileHost *h, const char *name);
	void *data;
};

typedef struct {
	char *entry;            /* allowlist entry text ("registry.npmjs.org:443") */
	char *where;            /* why: "/home/u/.npmrc:3", "$PIP_INDEX_URL", "default" */
} ProfileEntry;

typedef struct {
	char *name;             /* "npm" */
	GArray *entries;        /* of ProfileEntry, in the order found */
	GPtrArray *files;       /* settings files read (absolute), bound read-only inside */
	GPtrArray *env;         /* "NAME=VALUE" set for the command */
	GArray *host_ports;     /* guint16: host ports a loopback proxy listens on */
	GPtrArray *notes;       /* for the reader: proxies, what was ignored */
	char *cache_var;        /* the tool's cache variable ("npm_config_cache"), or NULL */
} ProfileResult;

/* The known profiles, NULL-terminated, in the order --help lists them. */
const char *const *profile_names(void);

/* "npm, pip, apt, git, go, cargo" for messages.  Caller frees. */
char *profile_names_joined(void);

ProfileResult *profile_result_new(const char *name);
void profile_result_free(ProfileResult *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ProfileResult, profile_result_free)

/* Evaluate profile NAME on HOST.  An unknown NAME is SBX_ERR_ILLEGAL_CONFIG
 * listing the known ones; a settings file that cannot be parsed (or names
 * a URL that is no entry) is SBX_ERR_ILLEGAL_CONFIG "FILE:LINE: …". */
ProfileResult *profile_evaluate(const char *name, const ProfileHost *host, GError **error);

/* The text --print-profile shows: entries (as an allowlist, each with a
 * comment saying where it came from), binds, environment, notes. */
char *profile_result_format(const ProfileResult *r);

/* --- helpers for the profile modules (profile-int) --- */

/* Value of NAME in HOST's environment, or NULL. */
const char *profile_getenv(const ProfileHost *h, const char *name);

/* Add the entry URL means (allowlist_url_to_entry()); WHERE names its
 * origin.  A URL that is no entry is an error "WHERE: …". */
gboolean profile_add_url(ProfileResult *r, const char *url, const char *where, GError **error);

/* Add ENTRY (allowlist text) from WHERE, once. */
void profile_add_entry(ProfileResult *r, const char *entry, const char *where);

/* Read PATH through HOST into *TEXT (LEN bytes), or *TEXT = NULL when it
 * does not exist; with RECORD, note it in R->files (the settings bound
 * read-only inside).  FALSE only for a real error. */
gboolean profile_read(const ProfileHost *h, ProfileResult *r, const char *path, gboolean record,
		      char **text, gsize *len, GError **error);

/* A proxy URL from WHERE: a loopback proxy (127.0.0.0/8, ::1, localhost)
 * is reachable inside only as the host gateway 10.0.2.2, so VAR (the
 * variable to set, may be NULL) is rewritten and the port allowed as a
 * host port; any other proxy's HOST:PORT is allowed. */
gboolean profile_add_proxy(ProfileResult *r, const char *var, const char *url,
			   const char *where, GError **error);

/* The standard proxy variables (HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, either
 * case), through profile_add_proxy(). */
gboolean profile_add_env_proxies(const ProfileHost *h, ProfileResult *r, GError **error);

/* Set FMT-error "FILE:LINE: what" (SBX_ERR_ILLEGAL_CONFIG). */
gboolean profile_bad_line(GError **error, const char *file, guint line, const char *fmt, ...)
	G_GNUC_PRINTF(4, 5);

/* The profiles (one file each). */
gboolean profile_npm(const ProfileHost *h, ProfileResult *r, GError **error);
gboolean profile_pip(const ProfileHost *h, ProfileResult *r, GError **error);
gboolean profile_apt(const ProfileHost *h, ProfileResult *r, GError **error);
gboolean profile_git(const ProfileHost *h, ProfileResult *r, GError **error);
gboolean profile_go(const ProfileHost *h, ProfileResult *r, GError **error);
gboolean profile_cargo(const ProfileHost *h, ProfileResult *r, GError **error);

/* --- the parsers, exposed for the unit tests and the fuzzer --- */

typedef struct {
	char *section;          /* "" before any section; git: "remote.origin" */
	char *key;              /* as the tool normalises it */
	char *value;
	guint line;
} ProfileKV;

/* A GArray of ProfileKV that clears its elements. */
GArray *profile_kv_array_new(void);

/* npmrc (npm's ini): "key = value", [section], ';'/'#' comments, quoted
 * values, ${VAR} / ${VAR?} from ENV (a missing ${VAR} is an error, as in
 * npm).  Appends to KVS. */
gboolean npmrc_parse(const char *text, gsize len, const char *source, char **env, GArray *kvs,
		     GError **error);

/* pip.conf (Python's configparser): [section], "key = value" / "key:
 * value", indented continuation lines, full-line '#'/';' comments.  Keys
 * lower case with '_' → '-'. */
gboolean pipconf_parse(const char *text, gsize len, const char *source, GArray *kvs,
		       GError **error);

/* git config: [section], [section "sub"] (→ "section.sub"), "key = value",
 * '#'/';' comments also after values, double quotes and \-escapes. */
gboolean gitconfig_parse(const char *text, gsize len, const char *source, GArray *kvs,
			 GError **error);

/* apt sources: one-line "deb [opts] URI suite …" (KIND "list") or deb822
 * stanzas (KIND "sources"; Enabled: no skipped).  Appends each URI (char *)
 * with its line to URIS / LINES. */
gboolean apt_sources_parse(const char *text, gsize len, const char *source, gboolean deb822,
			   GPtrArray *uris, GArray *lines, GError **error);

/* apt.conf: "Acquire::http::Proxy "URL";" flat or nested in { }, "//",
 * "/ * * /" and '#' comments.  Appends (key, value) with the full "::" key
 * lower case to KVS. */
gboolean aptconf_parse(const char *text, gsize len, const char *source, GArray *kvs,
		       GError **error);

/* The TOML subset of cargo's config: [table], [[array]], dotted and quoted
 * keys, "basic" / 'literal' / multi-line strings, arrays and inline
 * tables (their members become section "TABLE.KEY"), bare values, '#'
 * comments.  Appends (section, key, value) to KVS. */
gboolean cargo_toml_parse(const char *text, gsize len, const char *source, GArray *kvs,
			  GError **error);
