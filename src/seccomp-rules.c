/* SPDX-License-Identifier: MIT
 *
 * seccomp-rules.c — the payload's seccomp filter in libseccomp's terms
 * (seccomp-rules.h).  Runs at build time (seccomp-gen.c) and in the unit
 * tests, never in the launcher.
 */
#include "src/seccomp-rules.h"
#include "common/error.h"
#include "common/fdutil.h"

#include <errno.h>
#include <linux/filter.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Syscalls refused whatever their arguments (names, so libseccomp resolves
 * them per architecture and skips the ones an ABI does not have). */
static const char *const refused_syscalls[] = {
	"keyctl", "add_key", "request_key",
	"bpf", "perf_event_open", "userfaultfd",
	"kexec_load", "kexec_file_load",
	"init_module", "finit_module", "delete_module",
	"open_by_handle_at",
	"io_uring_setup", "io_uring_enter", "io_uring_register",
	"syslog", "acct", "quotactl", "swapon", "swapoff", "reboot",
	"settimeofday", "clock_settime", "clock_adjtime",
	"uselib", "lookup_dcookie", "vhangup",
};

/* ioctl requests refused on any fd. */
static const unsigned long refused_ioctls[] = {
	TIOCSTI,    /* push characters into a terminal's input queue */
	TIOCLINUX,  /* virtual console tricks, incl. selection paste */
};

static void
filter_ctx_release(scmp_filter_ctx *ctx)
{
	if (*ctx)
		seccomp_release(*ctx);
}

/* Extra ABIs the native architecture can also execute. */
static gboolean
add_compat_arches(scmp_filter_ctx ctx, GError **error)
{
	static const uint32_t x86_64_compat[] = { SCMP_ARCH_X86, SCMP_ARCH_X32 };
	static const uint32_t aarch64_compat[] = { SCMP_ARCH_ARM };
	const uint32_t *arches = NULL;
	size_t n = 0;

	if (seccomp_arch_native() == SCMP_ARCH_X86_64) {
		arches = x86_64_compat;
		n = G_N_ELEMENTS(x86_64_compat);
	} else if (seccomp_arch_native() == SCMP_ARCH_AARCH64) {
		arches = aarch64_compat;
		n = G_N_ELEMENTS(aarch64_compat);
	}
	for (size_t i = 0; i < n; i++) {
		int r = seccomp_arch_add(ctx, arches[i]);

		if (r < 0 && r != -EEXIST)
			return sbx_set_errno(error, -r, "seccomp: add architecture %u", arches[i]);
	}
	return TRUE;
}

/* New user namespaces (issue 14.7): inside one, the payload would be root
 * again and reach root-only kernel interfaces — nf_tables, new mounts of
 * many filesystems — that are a frequent source of privilege escalations.
 * clone and unshare are refused when their flags ask for CLONE_NEWUSER;
 * clone3 passes its flags in memory, which seccomp cannot read, so it is
 * refused with ENOSYS as a whole: libc and language runtimes then fall back
 * to clone(2), as they do on kernels before 5.3 (Docker and Flatpak do the
 * same). */
static gboolean
refuse_new_user_namespaces(scmp_filter_ctx ctx, GError **error)
{
	int r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(unshare), 1,
				 SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER));

	if (r < 0)
		return sbx_set_errno(error, -r, "seccomp: refuse unshare(CLONE_NEWUSER)");
	r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
			     SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER));
	if (r < 0)
		return sbx_set_errno(error, -r, "seccomp: refuse clone(CLONE_NEWUSER)");
	r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	if (r < 0)
		return sbx_set_errno(error, -r, "seccomp: refuse clone3");
	return TRUE;
}

/* Build the filter in libseccomp's form. */
static scmp_filter_ctx
build_filter(gboolean allow_userns, GError **error)
{
	__attribute__((cleanup(filter_ctx_release))) scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int r;

	if (!ctx)
		return sbx_set_errno(error, ENOMEM, "seccomp: create filter"), NULL;
	if (!add_compat_arches(ctx, error))
		return NULL;
	for (size_t i = 0; i < G_N_ELEMENTS(refused_syscalls); i++) {
		int nr = seccomp_syscall_resolve_name(refused_syscalls[i]);

		if (nr == __NR_SCMP_ERROR)
			continue; /* unknown to this libseccomp: nothing to refuse */
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
		if (r < 0)
			return sbx_set_errno(error, -r, "seccomp: refuse %s", refused_syscalls[i]), NULL;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(refused_ioctls); i++) {
		/* The request argument is an int in the kernel: compare the low
		 * 32 bits only, or garbage in the upper half slips past. */
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
				     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffUL, refused_ioctls[i]));
		if (r < 0)
			return sbx_set_errno(error, -r, "seccomp: refuse ioctl %#lx",
					     refused_ioctls[i]), NULL;
	}
	if (!allow_userns && !refuse_new_user_namespaces(ctx, error))
		return NULL;
	return g_steal_pointer(&ctx);
}

GBytes *
sbx_seccomp_build(gboolean allow_userns, GError **error)
{
	__attribute__((cleanup(filter_ctx_release))) scmp_filter_ctx ctx =
		build_filter(allow_userns, error);
	autoclose int fd = -1;
	g_autofree char *bpf = NULL;
	struct stat st;
	int r;

	if (!ctx)
		return NULL;
	/* libseccomp 2.5 exports only to an fd (export_bpf_mem is 2.6). */
	fd = memfd_create("sbx-seccomp", MFD_CLOEXEC);
	if (fd < 0)
		return sbx_set_errno(error, errno, "seccomp: memfd_create"), NULL;
	r = seccomp_export_bpf(ctx, fd);
	if (r < 0)
		return sbx_set_errno(error, -r, "seccomp: export the filter"), NULL;
	if (fstat(fd, &st) < 0)
		return sbx_set_errno(error, errno, "seccomp: stat the exported filter"), NULL;
	if (st.st_size <= 0 || st.st_size % sizeof(struct sock_filter) != 0 ||
	    st.st_size / sizeof(struct sock_filter) > BPF_MAXINSNS)
		return sbx_set_errno(error, EINVAL, "seccomp: exported filter has %lld bytes",
				     (long long)st.st_size), NULL;
	bpf = g_malloc((size_t)st.st_size);
	r = (int)pread(fd, bpf, (size_t)st.st_size, 0);
	if (r != (int)st.st_size)
		return sbx_set_errno(error, r < 0 ? errno : EIO, "seccomp: read the exported filter"),
		       NULL;
	return g_bytes_new_take(g_steal_pointer(&bpf), (size_t)st.st_size);
}

guint
sbx_seccomp_refused_syscall_count(void)
{
	return G_N_ELEMENTS(refused_syscalls);
}

guint
sbx_seccomp_refused_ioctl_count(void)
{
	return G_N_ELEMENTS(refused_ioctls);
}
