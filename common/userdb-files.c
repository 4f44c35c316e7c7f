/* SPDX-License-Identifier: MIT
 *
 * userdb-files.c — sbx_userdb_home() for the statically linked
 * mini-sandbox: /etc/passwd, then getent(1) (see userdb.h).
 */
#include "common/userdb.h"

gboolean
sbx_userdb_home(uid_t uid, char **home, GError **error)
{
	static const SbxUserdbSources sources = {
		.passwd = "/etc/passwd",
		.nsswitch = "/etc/nsswitch.conf",
		/* glibc installs getent in its bindir: /usr/bin on every
		 * distribution (/bin links there where /usr is merged) */
		.getent = "/usr/bin/getent",
	};

	return sbx_userdb_home_from(&sources, uid, home, error);
}

/* The static executable is linked with --wrap for glibc's NSS lookups
 * (src/meson.build): GLib's gutils.c refers to them (g_get_home_dir() and
 * friends, which mini-sandbox does not call), and a call would make the
 * static glibc dlopen() NSS modules, the crash userdb.h describes.  The
 * wrappers answer "no such entry" instead; nothing of NSS is linked in. */
struct passwd;
int __wrap_getpwnam_r(const char *name, struct passwd *pwd, char *buf, size_t buflen,
		      struct passwd **result);
int __wrap_getpwuid_r(uid_t uid, struct passwd *pwd, char *buf, size_t buflen,
		      struct passwd **result);
struct passwd *__wrap_getpwuid(uid_t uid);

int
__wrap_getpwnam_r(const char *name, struct passwd *pwd, char *buf, size_t buflen,
		  struct passwd **result)
{
	(void)name, (void)pwd, (void)buf, (void)buflen;
	*result = NULL;
	return 0;
}

int
__wrap_getpwuid_r(uid_t uid, struct passwd *pwd, char *buf, size_t buflen, struct passwd **result)
{
	(void)uid, (void)pwd, (void)buf, (void)buflen;
	*result = NULL;
	return 0;
}

struct passwd *
__wrap_getpwuid(uid_t uid)
{
	(void)uid;
	return NULL;
}
