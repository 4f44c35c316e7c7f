/* SPDX-License-Identifier: MIT
 *
 * seccomp-filter.c — see seccomp-filter.h for the list and the reasons.
 */
#include "seccomp-filter.h"
#include "common/error.h"
#include "common/log.h"

#include <errno.h>
#include <seccomp.h>
#include <sys/ioctl.h>

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

gboolean
sbx_seccomp_apply(GError **error)
{
	__attribute__((cleanup(filter_ctx_release))) scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int r;

	if (!ctx)
		return sbx_set_errno(error, ENOMEM, "seccomp: create filter");
	if (!add_compat_arches(ctx, error))
		return FALSE;
	for (size_t i = 0; i < G_N_ELEMENTS(refused_syscalls); i++) {
		int nr = seccomp_syscall_resolve_name(refused_syscalls[i]);

		if (nr == __NR_SCMP_ERROR)
			continue; /* unknown to this libseccomp: nothing to refuse */
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
		if (r < 0)
			return sbx_set_errno(error, -r, "seccomp: refuse %s", refused_syscalls[i]);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(refused_ioctls); i++) {
		/* The request argument is an int in the kernel: compare the low
		 * 32 bits only, or garbage in the upper half slips past. */
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
				     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffUL, refused_ioctls[i]));
		if (r < 0)
			return sbx_set_errno(error, -r, "seccomp: refuse ioctl %#lx", refused_ioctls[i]);
	}
	r = seccomp_load(ctx);
	if (r < 0)
		return sbx_set_errno(error, -r, "seccomp: load filter");
	sbx_debug("payload: seccomp filter loaded (%zu syscalls, %zu ioctls refused)",
		  G_N_ELEMENTS(refused_syscalls), G_N_ELEMENTS(refused_ioctls));
	return TRUE;
}
