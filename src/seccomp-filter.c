/* SPDX-License-Identifier: MIT
 *
 * seccomp-filter.c — see seccomp-filter.h for the list and the reasons.
 * The BPF comes from the build (seccomp-rules.c via seccomp-gen): the
 * launcher only hands it on.
 */
#include "src/seccomp-filter.h"
#include "common/error.h"
#include "common/log.h"
#include "src/seccomp-bpf.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>

GBytes *
sbx_seccomp_compile(gboolean allow_userns, GError **error)
{
	const unsigned char *bpf = allow_userns ? sbx_seccomp_bpf_allow_userns
						: sbx_seccomp_bpf_default;
	gsize size = allow_userns ? sizeof sbx_seccomp_bpf_allow_userns
				  : sizeof sbx_seccomp_bpf_default;

	/* The generator checked it; this only guards a broken build. */
	if (size == 0 || size % sizeof(struct sock_filter) != 0 ||
	    size / sizeof(struct sock_filter) > BPF_MAXINSNS)
		return sbx_set_errno(error, EINVAL, "seccomp: built-in filter has %zu bytes",
				     (size_t)size), NULL;
	sbx_debug("launcher: seccomp filter compiled at build time (%u syscalls, %u ioctls "
		  "refused, new user namespaces %s, %zu insns)",
		  SBX_SECCOMP_REFUSED_SYSCALLS, SBX_SECCOMP_REFUSED_IOCTLS,
		  allow_userns ? "allowed (--allow-userns)" : "refused",
		  (size_t)(size / sizeof(struct sock_filter)));
	return g_bytes_new_static(bpf, size);
}

gboolean
sbx_seccomp_load(GBytes *program, GError **error)
{
	gsize size = 0;
	const struct sock_filter *insns = g_bytes_get_data(program, &size);
	struct sock_fprog prog = {
		.len = (unsigned short)(size / sizeof(struct sock_filter)),
		.filter = (struct sock_filter *)(void *)insns,
	};

	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0)
		return sbx_set_errno(error, errno, "seccomp: load the filter");
	sbx_debug("payload: seccomp filter loaded");
	return TRUE;
}

gboolean
sbx_seccomp_apply(gboolean allow_userns, GError **error)
{
	g_autoptr(GBytes) program = sbx_seccomp_compile(allow_userns, error);

	return program && sbx_seccomp_load(program, error);
}
