/* SPDX-License-Identifier: MIT
 *
 * userdb-nss.c — sbx_userdb_home() for dynamically linked programs:
 * /etc/passwd, then getpwuid() (see userdb.h).
 */
#include "common/userdb.h"

gboolean
sbx_userdb_home(uid_t uid, char **home, GError **error)
{
	static const SbxUserdbSources sources = {
		.passwd = "/etc/passwd",
		.nsswitch = "/etc/nsswitch.conf",
		.getent = NULL,
	};

	return sbx_userdb_home_from(&sources, uid, home, error);
}
