/* SPDX-License-Identifier: MIT
 *
 * landlock.c — see landlock.h.  Raw syscalls: glibc has no wrappers, and
 * Debian 12's <linux/landlock.h> stops at ABI 2, so the newer constants are
 * spelled out here (values from the kernel's uapi header).
 */
#include "src/landlock.h"
#include "common/error.h"
#include "common/fdutil.h"
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)                 /* ABI 3 */
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)                /* ABI 5 */
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)          /* ABI 6 */
#endif
#ifndef LANDLOCK_SCOPE_SIGNAL
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1)                        /* ABI 6 */
#endif

/* struct landlock_ruleset_attr as of ABI 6.  The kernel takes a larger
 * struct than it knows as long as the unknown tail is zero, so one layout
 * serves every ABI (sbx_landlock_scopes() is 0 below 6). */
typedef struct {
	guint64 handled_access_fs;
	guint64 handled_access_net;
	guint64 scoped;
} RulesetAttr;

static const guint64 abi1_write_access =
	LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR |
	LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_CHAR |
	LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
	LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO |
	LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_MAKE_SYM;

guint64
sbx_landlock_handled_access(int abi)
{
	guint64 access = 0;

	if (abi >= 1)
		access |= abi1_write_access;
	if (abi >= 2)
		access |= LANDLOCK_ACCESS_FS_REFER;     /* ABI 1 refuses every cross-dir link/rename */
	if (abi >= 3)
		access |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		access |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return access;
}

guint64
sbx_landlock_grant_access(SbxLandlockGrant grant, int abi)
{
	/* What a rule on a file (not a directory) may carry. */
	const guint64 file_rights = LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE |
				    LANDLOCK_ACCESS_FS_IOCTL_DEV;

	switch (grant) {
	case SBX_LANDLOCK_TREE:
		return sbx_landlock_handled_access(abi);
	case SBX_LANDLOCK_EXISTING:
	case SBX_LANDLOCK_FILE:
		return sbx_landlock_handled_access(abi) & file_rights;
	default:
		return 0;
	}
}

guint64
sbx_landlock_scopes(int abi)
{
	return abi >= 6 ? LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL : 0;
}

static void
rule_free(SbxLandlockRule *rule)
{
	g_free(rule->path);
	g_free(rule);
}

static void
add_rule(GPtrArray *rules, const char *path, SbxLandlockGrant grant, const char *why)
{
	SbxLandlockRule *rule = g_new0(SbxLandlockRule, 1);

	rule->path = g_strdup(path);
	rule->grant = grant;
	rule->why = why;
	g_ptr_array_add(rules, rule);
}

GPtrArray *
sbx_landlock_rules_for_plan(const MountPlan *plan)
{
	GPtrArray *rules = g_ptr_array_new_with_free_func((GDestroyNotify)rule_free);

	for (guint i = 0; i < plan->ops->len; i++) {
		const MountOp *op = g_ptr_array_index(plan->ops, i);
		gboolean is_file = (op->flags & MOUNT_OP_F_FILE) != 0;
		g_autofree char *shm = NULL;

		switch (op->kind) {
		case MOUNT_OP_TMPFS:
			/* The -x/-h root tmpfs holds the read-only binds: a
			 * grant there would cover them (and anything the host
			 * mounts below them) too. */
			if (strcmp(op->dest, "/") != 0)
				add_rule(rules, op->dest, SBX_LANDLOCK_TREE, op->why);
			break;
		case MOUNT_OP_BIND:
			if (!(op->flags & MOUNT_OP_F_RDONLY))
				add_rule(rules, op->dest, is_file ? SBX_LANDLOCK_FILE : SBX_LANDLOCK_TREE,
					 op->why);
			break;
		case MOUNT_OP_OVERLAY:
			add_rule(rules, op->dest, SBX_LANDLOCK_TREE, op->why);
			break;
		case MOUNT_OP_EMPTY_FILE:
			add_rule(rules, op->dest, SBX_LANDLOCK_FILE, op->why);
			break;
		case MOUNT_OP_DEV:
			add_rule(rules, op->dest, SBX_LANDLOCK_EXISTING, op->why);
			shm = g_build_filename(op->dest, "shm", NULL);
			add_rule(rules, shm, SBX_LANDLOCK_TREE, op->why);
			break;
		case MOUNT_OP_PROC:
			add_rule(rules, op->dest, SBX_LANDLOCK_EXISTING, op->why);
			break;
		case MOUNT_OP_SYMLINK:
		case MOUNT_OP_MKDIR:     /* inside a tmpfs of the plan */
		case MOUNT_OP_FILE:      /* generated, read-only */
		default:
			break;
		}
	}
	return rules;
}

static int
sys_landlock_create_ruleset(const RulesetAttr *attr, size_t size, guint32 flags)
{
	return (int)syscall(SYS_landlock_create_ruleset, attr, size, flags);
}

int
sbx_landlock_abi(void)
{
	int abi = sys_landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

	return abi < 0 ? 0 : abi;
}

static const char *
grant_name(SbxLandlockGrant grant)
{
	switch (grant) {
	case SBX_LANDLOCK_TREE:
		return "tree";
	case SBX_LANDLOCK_EXISTING:
		return "existing files";
	case SBX_LANDLOCK_FILE:
		return "file";
	default:
		return "?";
	}
}

/* Allow ACCESS beneath the file or directory FD names. */
static int
add_path_rule(int ruleset_fd, int fd, guint64 access)
{
	struct landlock_path_beneath_attr attr = { .allowed_access = access, .parent_fd = fd };

	return (int)syscall(SYS_landlock_add_rule, ruleset_fd, LANDLOCK_RULE_PATH_BENEATH, &attr, 0);
}

static gboolean
add_plan_rules(int ruleset_fd, const MountPlan *plan, int abi, GError **error)
{
	g_autoptr(GPtrArray) rules = sbx_landlock_rules_for_plan(plan);

	for (guint i = 0; i < rules->len; i++) {
		const SbxLandlockRule *rule = g_ptr_array_index(rules, i);
		/* Mount points are never symlinks; one here would be a swap. */
		autoclose int fd = open(rule->path, O_PATH | O_NOFOLLOW | O_CLOEXEC);

		if (fd < 0 && (errno == ENOENT || errno == EACCES)) {
			/* An optional source that vanished, or a path below a
			 * directory of an unmapped user that even namespace-root
			 * cannot search (root launching in another user's
			 * tree): the payload cannot reach it by name either, so
			 * no rule — writes stay refused, never allowed. */
			sbx_debug("landlock: %s (%s): %s; no rule", rule->path, rule->why,
				  sbx_strerror(errno));
			continue;
		}
		if (fd < 0)
			return sbx_set_errno(error, errno, "landlock: open %s (%s)", rule->path,
					     rule->why);
		if (add_path_rule(ruleset_fd, fd, sbx_landlock_grant_access(rule->grant, abi)) < 0)
			return sbx_set_errno(error, errno, "landlock: allow writes beneath %s (%s)",
					     rule->path, rule->why);
		sbx_debug("landlock: %s writable (%s, %s)", rule->path, grant_name(rule->grant),
			  rule->why);
	}
	return TRUE;
}

/* The user gave the payload a terminal or a file to write to as fd 0, 1 or
 * 2: reopening it by name (/dev/stderr is /proc/self/fd/2) must keep
 * working.  A read-only fd gets nothing — that reopen is the attack. */
static gboolean
add_stdio_rules(int ruleset_fd, int proc_fd, int abi, GError **error)
{
	for (int fd = STDIN_FILENO; fd <= STDERR_FILENO; fd++) {
		int fl = fcntl(fd, F_GETFL);
		struct stat st;
		char name[32];
		autoclose int path_fd = -1;

		if (fl < 0 || (fl & O_ACCMODE) == O_RDONLY || fstat(fd, &st) < 0 ||
		    !(S_ISREG(st.st_mode) || S_ISCHR(st.st_mode)))
			continue;
		g_snprintf(name, sizeof name, "self/fd/%d", fd);
		path_fd = openat(proc_fd, name, O_PATH | O_CLOEXEC);
		if (path_fd < 0)
			return sbx_set_errno(error, errno, "landlock: reopen fd %d", fd);
		if (add_path_rule(ruleset_fd, path_fd, sbx_landlock_grant_access(SBX_LANDLOCK_FILE, abi)) < 0)
			return sbx_set_errno(error, errno, "landlock: allow writes to fd %d", fd);
		sbx_debug("landlock: fd %d (opened for writing) stays writable by name", fd);
	}
	return TRUE;
}

/* --allow-userns: the kernel refuses mount(2) and pivot_root(2) to any
 * process under Landlock filesystem rules — and the nested sandbox that
 * option is for must mount.  Then only the scopes apply (ABI >= 6). */
static gboolean
landlock_fs_rules_wanted(const SbxConfig *cfg)
{
	return !cfg->allow_userns;
}

gboolean
sbx_landlock_prepare(const MountPlan *plan, const SbxConfig *cfg, int proc_fd, int *ruleset_fd,
		     GError **error)
{
	int abi = sbx_landlock_abi();
	gboolean fs_rules = landlock_fs_rules_wanted(cfg);
	RulesetAttr attr = { 0 };
	autoclose int fd = -1;

	*ruleset_fd = -1;
	if (abi < 1) {
		if (cfg->require_landlock)
			return sbx_set_errno(error, EOPNOTSUPP,
					     "--require-landlock: this kernel has no Landlock "
					     "(needs Linux 5.13+ with landlock in the lsm= list)");
		sbx_debug("landlock: not available on this kernel; writes are limited by the "
			  "mount namespace only");
		return TRUE;
	}
	attr.handled_access_fs = fs_rules ? sbx_landlock_handled_access(abi) : 0;
	attr.scoped = sbx_landlock_scopes(abi);
	if (!attr.handled_access_fs && !attr.scoped) {
		sbx_debug("landlock: --allow-userns and ABI %d < 6: no ruleset at all", abi);
		return TRUE;
	}
	fd = sys_landlock_create_ruleset(&attr, sizeof attr, 0);
	if (fd < 0)
		return sbx_set_errno(error, errno, "landlock: create the ruleset (ABI %d)", abi);
	if (fs_rules &&
	    (!add_plan_rules(fd, plan, abi, error) || !add_stdio_rules(fd, proc_fd, abi, error)))
		return FALSE;
	if (!fs_rules)
		sbx_debug("landlock: --allow-userns: no filesystem rules (a process under them "
			  "may not mount, and a nested sandbox must)");
	sbx_debug("landlock: ABI %d; write-side rights %#llx handled%s", abi,
		  (unsigned long long)attr.handled_access_fs,
		  attr.scoped ? "; abstract unix sockets and signals scoped to the sandbox" :
				"; no scoping of abstract unix sockets and signals (ABI < 6)");
	*ruleset_fd = sbx_steal_fd(&fd);
	return TRUE;
}

gboolean
sbx_landlock_enforce(int ruleset_fd, GError **error)
{
	int r;

	if (ruleset_fd < 0)
		return TRUE;
	r = (int)syscall(SYS_landlock_restrict_self, ruleset_fd, 0);
	if (r < 0) {
		int saved = errno;

		close(ruleset_fd);
		return sbx_set_errno(error, saved, "landlock: enforce the ruleset");
	}
	close(ruleset_fd);
	sbx_debug("payload: landlock ruleset enforced");
	return TRUE;
}
