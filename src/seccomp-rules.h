/* SPDX-License-Identifier: MIT
 *
 * seccomp-rules.h — the payload's seccomp filter, built with libseccomp
 * (the list and the reasons: seccomp-filter.h).
 *
 * Only the build runs this: seccomp-gen turns both variants into classic
 * BPF in a generated header that seccomp-filter.c serves from, so the
 * launcher neither loads libseccomp nor compiles a filter at every start
 * (1.4 M of the launcher's 2.7 M instructions, measured with callgrind).
 * The unit tests check that the header still matches what this builds.
 */
#pragma once

#include <glib.h>

/* The filter as classic BPF for the build's architecture (with its compat
 * ABIs).  ALLOW_USERNS leaves clone/clone3/unshare alone.  NULL + error on
 * failure. */
GBytes *sbx_seccomp_build(gboolean allow_userns, GError **error);

/* How many syscalls and ioctl requests it refuses (for the debug log). */
guint sbx_seccomp_refused_syscall_count(void);
guint sbx_seccomp_refused_ioctl_count(void);
