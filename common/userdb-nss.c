/* SPDX-License-Identifier: MIT
 *
 * userdb-nss.c — sbx_userdb_home() through glibc's NSS (see userdb.h).
 */
#include "common/userdb.h"

#include <pwd.h>

gboolean
sbx_userdb_home(uid_t uid, char **home, GError **error)
{
	struct passwd *pw;

	(void)error;
	*home = NULL;
	pw = getpwuid(uid);
	if (pw && pw->pw_dir && pw->pw_dir[0] == '/')
		*home = g_strdup(pw->pw_dir);
	return TRUE;
}
