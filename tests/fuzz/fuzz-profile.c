/* SPDX-License-Identifier: MIT
 *
 * fuzz-profile.c — libFuzzer harness for the settings-file parsers of the
 * package-manager profiles (net/profile/): the input is fed to every one
 * (npmrc with ${VAR} expansion, pip.conf, git config, apt sources in both
 * forms, apt.conf, cargo's TOML) and, as one line, to the shared URL →
 * entry conversion, whose result must be an entry the allowlist accepts
 * or an error.  The files are the user's (or a sandbox's, if it could
 * write them): no input may crash, hang or leak.
 * Seeds: tests/fuzz/corpus-profile/.  Run: tests/fuzz/run.sh long 600 profile
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/allowlist.h"
#include "net/profile/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_url(const char *text, size_t len)
{
	g_autofree char *line = g_strndup(text, len);
	g_autofree char *entry = NULL;
	g_autofree char *note = NULL;
	char *nl = strchr(line, '\n');

	if (nl)
		*nl = '\0';
	if (allowlist_is_url(line) && allowlist_url_to_entry(line, "fuzz", &entry, &note, NULL)) {
		g_autoptr(GArray) a = allowlist_new();

		/* a converted URL is either an entry or refused: never a crash */
		(void)allowlist_parse_line(entry, "fuzz", a, NULL);
		if (a->len > 1)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *env[] = { "HOME=/home/u", "TOKEN=t", NULL };
	const char *text = (const char *)data;
	g_autoptr(GArray) kvs = profile_kv_array_new();
	g_autoptr(GPtrArray) uris = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GArray) lines = g_array_new(FALSE, FALSE, sizeof(guint));

	(void)npmrc_parse(text, size, "npmrc", env, kvs, NULL);
	(void)pipconf_parse(text, size, "pip.conf", kvs, NULL);
	(void)gitconfig_parse(text, size, "config", kvs, NULL);
	(void)apt_sources_parse(text, size, "sources.list", FALSE, uris, lines, NULL);
	(void)apt_sources_parse(text, size, "x.sources", TRUE, uris, lines, NULL);
	(void)aptconf_parse(text, size, "apt.conf", kvs, NULL);
	(void)cargo_toml_parse(text, size, "config.toml", kvs, NULL);
	if (uris->len != lines->len)
		abort();
	for (guint i = 0; i < kvs->len; i++) {
		const ProfileKV *kv = &g_array_index(kvs, ProfileKV, i);

		if (!kv->key || !kv->value || !kv->section)
			abort();
	}
	check_url(text, size);
	return 0;
}
