/* SPDX-License-Identifier: MIT
 *
 * userdb.h — the caller's home directory from the user database
 * (passwd(5)), which the mount plan hides even when $HOME points
 * elsewhere.
 *
 * Both kinds of executable read /etc/passwd themselves when nsswitch.conf
 * asks "files" first for passwd (glibc's default, and Debian's): the entry
 * found there is the one getpwuid() would return, without the NSS set-up
 * (~0.4 ms of a start: the nscd socket, nsswitch.conf, the module code).
 * For the other accounts, or another order:
 *  - userdb-nss.c: getpwuid(), through glibc's NSS modules (files, sss,
 *    systemd, ldap, ...) loaded into the process.  Everything dynamically
 *    linked uses it: mini-tapbox, libminisandbox, the tests.
 *  - userdb-files.c: for the statically linked mini-sandbox (meson option
 *    static_pie).  A static glibc loads NSS modules with dlopen(), and the
 *    modules pull in the shared libc next to the static one: here the
 *    first lookup of an account not in /etc/passwd (systemd's module)
 *    crashed the process.  It asks getent(1) — a dynamically linked
 *    program of glibc's own — instead.
 */
#pragma once

#include <glib.h>
#include <sys/types.h>

/* The home directory of uid's account.  *home is NULL (and TRUE returned)
 * when the user database has no entry for uid; FALSE with *error set when
 * the database could not be asked (the caller must not guess then: the
 * home it would fail to hide holds the user's keys).
 * Defined in userdb-nss.c or userdb-files.c (see above). */
gboolean sbx_userdb_home(uid_t uid, char **home, GError **error);

/* Pure: the home directory of the first entry for uid in passwd(5) text
 * (LEN bytes, need not be NUL-terminated), or NULL when there is none.
 * Comment, blank and NIS compat ("+"/"-") lines are skipped, as are lines
 * without exactly seven fields or with a uid that is not a decimal number;
 * an entry whose home is not an absolute path yields NULL (nothing to
 * hide).  Defined in userdb.c. */
char *sbx_userdb_parse_home(const char *text, gsize len, uid_t uid);

/* Pure: whether nsswitch.conf TEXT (NULL: there is none) has passwd
 * lookups ask "files" first — also when it has no passwd line (glibc's
 * default is files).  "compat" is not "files": it gives +/- lines a
 * meaning.  Defined in userdb.c. */
gboolean sbx_userdb_files_first(const char *nsswitch);

/* Where a lookup asks: the passwd file, nsswitch.conf, and for the rest
 * the program GETENT run as `getent passwd UID` (exit 2: no such
 * account), or getpwuid() in this process when GETENT is NULL. */
typedef struct {
	const char *passwd;
	const char *nsswitch;
	const char *getent;
} SbxUserdbSources;

/* sbx_userdb_home() with its sources named (the unit test passes files of
 * its own).  A missing passwd file counts as one without the entry.
 * Defined in userdb.c. */
gboolean sbx_userdb_home_from(const SbxUserdbSources *src, uid_t uid, char **home,
			      GError **error);
