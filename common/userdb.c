/* SPDX-License-Identifier: MIT
 *
 * userdb.c — passwd(5) lines, nsswitch.conf's passwd order, and the
 * lookup both kinds of executable share (see userdb.h).
 */
#include "common/userdb.h"
#include "common/error.h"
#include "common/fdutil.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define PASSWD_FIELDS 7
/* getent prints one line; anything longer is not the answer we asked for. */
#define GETENT_OUTPUT_MAX 65536

/* uid's decimal text, exactly: no sign, no spaces, no overflow. */
static gboolean
field_is_uid(const char *s, gsize len, uid_t uid)
{
	guint64 v = 0;

	if (len == 0 || len > 10)
		return FALSE;
	for (gsize i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return FALSE;
		v = v * 10 + (guint64)(s[i] - '0');
	}
	return v == (guint64)uid;
}

/* The home of LINE (LEN bytes, no newline) when it is uid's entry. */
static gboolean
line_home(const char *line, gsize len, uid_t uid, char **home)
{
	const char *field[PASSWD_FIELDS];
	gsize flen[PASSWD_FIELDS];
	gsize n = 0, start = 0;

	if (len == 0 || line[0] == '#' || line[0] == '+' || line[0] == '-')
		return FALSE;
	for (gsize i = 0; i <= len; i++) {
		if (i < len && line[i] != ':')
			continue;
		if (n == PASSWD_FIELDS)
			return FALSE;
		field[n] = line + start;
		flen[n] = i - start;
		n++;
		start = i + 1;
	}
	if (n != PASSWD_FIELDS || !field_is_uid(field[2], flen[2], uid))
		return FALSE;
	*home = flen[5] > 0 && field[5][0] == '/' && !memchr(field[5], '\0', flen[5]) ?
		g_strndup(field[5], flen[5]) : NULL;
	return TRUE;
}

/* TRUE when TEXT has an entry for uid; *home is its home, or NULL. */
static gboolean
find_entry(const char *text, gsize len, uid_t uid, char **home)
{
	gsize pos = 0;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		gsize end = nl ? (gsize)(nl - text) : len;

		if (line_home(text + pos, end - pos, uid, home))
			return TRUE;
		pos = end + 1;
	}
	return FALSE;
}

char *
sbx_userdb_parse_home(const char *text, gsize len, uid_t uid)
{
	char *home = NULL;

	find_entry(text, len, uid, &home);
	return home;
}

gboolean
sbx_userdb_files_first(const char *nsswitch)
{
	const char *line = nsswitch;

	while (line && *line) {
		const char *end = strchrnul(line, '\n');
		const char *p = line;

		while (*p == ' ' || *p == '\t')
			p++;
		if (g_str_has_prefix(p, "passwd") && p + 6 <= end) {
			p += 6;
			while (p < end && (*p == ' ' || *p == '\t'))
				p++;
			if (p < end && *p == ':') {
				p++;
				while (p < end && (*p == ' ' || *p == '\t'))
					p++;
				/* the first source, up to a blank, '[' or the line's end */
				return end - p >= 5 && strncmp(p, "files", 5) == 0 &&
				       (p + 5 == end || p[5] == ' ' || p[5] == '\t' || p[5] == '[' ||
					p[5] == '#');
			}
		}
		line = *end ? end + 1 : NULL;
	}
	return TRUE;    /* no passwd line: glibc asks files */
}

/* Read FD to EOF, at most GETENT_OUTPUT_MAX bytes.  0 or -errno. */
static int
read_bounded(int fd, GString *out)
{
	char buf[4096];

	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		if (out->len + (gsize)n > GETENT_OUTPUT_MAX)
			return -EMSGSIZE;
		g_string_append_len(out, buf, n);
	}
}

/* `GETENT passwd UID`, with no environment and stdin/stderr on /dev/null:
 * the line it prints goes through the same parser as the file. */
static gboolean
ask_getent(const char *getent, uid_t uid, char **home, GError **error)
{
	char uidtext[24];
	char *argv[] = { (char *)"getent", (char *)"passwd", uidtext, NULL };
	char *envp[] = { NULL };
	struct sigaction dfl = { .sa_handler = SIG_DFL }, saved_chld;
	posix_spawn_file_actions_t fa;
	g_autoptr(GString) out = g_string_new(NULL);
	autoclose int rd = -1;
	int pipefd[2], rc, status;
	pid_t pid;

	g_snprintf(uidtext, sizeof uidtext, "%u", (unsigned)uid);
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return sbx_set_errno(error, errno, "pipe for %s", getent);
	/* An inherited SIG_IGN for SIGCHLD would have the kernel reap getent
	 * and its exit status (2: no such account) be lost.  Only the static
	 * mini-sandbox gets here, single-threaded, before anything of its own
	 * handles SIGCHLD. */
	sigemptyset(&dfl.sa_mask);
	sigaction(SIGCHLD, &dfl, &saved_chld);
	rd = pipefd[0];
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	rc = posix_spawn(&pid, getent, &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	if (rc != 0) {
		sigaction(SIGCHLD, &saved_chld, NULL);
		g_set_error(error, SBX_ERROR, SBX_ERR_OS,
			    "uid %u needs a user database other than /etc/passwd, and %s cannot be "
			    "run to ask it: %s (this mini-sandbox is linked statically and does not "
			    "load NSS modules itself; install getent, or build with -Dstatic_pie=false)",
			    (unsigned)uid, getent, sbx_strerror(rc));
		return FALSE;
	}
	rc = read_bounded(rd, out);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			int saved = errno;

			sigaction(SIGCHLD, &saved_chld, NULL);
			return sbx_set_errno(error, saved, "wait for %s", getent);
		}
	}
	sigaction(SIGCHLD, &saved_chld, NULL);
	if (rc < 0)
		return sbx_set_errno(error, -rc, "read the answer of %s passwd %s", getent, uidtext);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 2)
		return TRUE;    /* no such account, in any database */
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		g_set_error(error, SBX_ERROR, SBX_ERR_OS,
			    "%s passwd %s failed (%s %d): cannot find the home directory to hide",
			    getent, uidtext, WIFEXITED(status) ? "exit status" : "signal",
			    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		return FALSE;
	}
	if (!find_entry(out->str, out->len, uid, home)) {
		g_set_error(error, SBX_ERROR, SBX_ERR_OS,
			    "%s passwd %s printed no entry for uid %s: cannot find the home "
			    "directory to hide", getent, uidtext, uidtext);
		return FALSE;
	}
	return TRUE;
}

/* getpwuid() in this process: NSS as the C library has it configured. */
static gboolean
ask_nss(uid_t uid, char **home)
{
	struct passwd *pw = getpwuid(uid);

	if (pw && pw->pw_dir && pw->pw_dir[0] == '/')
		*home = g_strdup(pw->pw_dir);
	return TRUE;
}

/* Whether the passwd file answers for uid: 1 when nsswitch.conf asks it
 * first and it has uid's entry (*home then set, NULL for an unusable
 * home), 0 when the fallback must be asked, -1 with *error set when a file
 * that exists cannot be read (nothing may guess the home then). */
static int
ask_passwd_file(const SbxUserdbSources *src, uid_t uid, char **home, GError **error)
{
	g_autofree char *nsswitch = NULL;
	g_autofree char *text = NULL;
	g_autoptr(GError) local = NULL;
	gsize len = 0;

	if (!g_file_get_contents(src->nsswitch, &nsswitch, NULL, &local)) {
		if (!g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
			g_set_error(error, SBX_ERROR, SBX_ERR_OS, "read %s: %s", src->nsswitch,
				    local->message);
			return -1;
		}
		g_clear_error(&local);
	}
	if (!sbx_userdb_files_first(nsswitch))
		return 0;
	if (!g_file_get_contents(src->passwd, &text, &len, &local)) {
		if (g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			return 0;
		g_set_error(error, SBX_ERROR, SBX_ERR_OS, "read %s: %s", src->passwd,
			    local->message);
		return -1;
	}
	return find_entry(text, len, uid, home) ? 1 : 0;
}

gboolean
sbx_userdb_home_from(const SbxUserdbSources *src, uid_t uid, char **home, GError **error)
{
	int r;

	*home = NULL;
	r = ask_passwd_file(src, uid, home, error);
	if (r != 0)
		return r > 0;
	return src->getent ? ask_getent(src->getent, uid, home, error) : ask_nss(uid, home);
}
