/* SPDX-License-Identifier: MIT
 *
 * profile-host.h — the host side of the package-manager profiles: the real
 * ProfileHost (this process's environment, CWD, $HOME; files opened with
 * the settings-file rule of common/safepath.h, so a link a sandbox planted
 * is never followed) and the expansion of a config's profiles.
 */
#pragma once

#include "common/config.h"
#include "net/profile/profile.h"

/* Fill H for this process.  Clear with profile_host_clear(). */
void profile_host_init(ProfileHost *h);
void profile_host_clear(ProfileHost *h);

/* The profiles CFG asks for (--profile, library calls, "profile" lines of
 * its -F files), evaluated on the host: NULL in *OUT when there are none,
 * else a copy of CFG with the entries (profile_entries/profile_where),
 * read-only binds of the settings files read, environment (env_set), host
 * ports of loopback proxies and, with --profile-cache, a cache directory
 * per tool (~/.cache/mini-sandbox/NAME, 0700, bound read-write and named
 * by the tool's cache variable).  A proxy note is printed once on stderr.
 * Errors are SBX_ERR_ILLEGAL_CONFIG / SBX_ERR_ILLEGAL_NETWORK (exit 125). */
gboolean sbx_profiles_expand(const SbxConfig *cfg, SbxConfig **out, GError **error);

/* --print-profile NAME: what the profile would add, on stdout. */
gboolean sbx_profile_print(const char *name, GError **error);

/* Create (or open) ~/.cache/mini-sandbox/NAME below HOME, mode 0700,
 * never through a symbolic link; its path in *PATH. */
gboolean profile_cache_dir(const char *home, const char *name, char **path, GError **error);
