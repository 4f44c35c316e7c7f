/* SPDX-License-Identifier: MIT
 *
 * seccomp-filter.h — the payload's default seccomp filter (built by
 * seccomp-rules.c with libseccomp at build time, served from its BPF).
 *
 * Default action: allow.  Refused with EPERM (the list is documented in
 * mini-sandbox(1), "SECCOMP FILTER"; keep both in sync):
 *   ioctl(TIOCSTI), ioctl(TIOCLINUX)   type into / control the host terminal
 *   keyctl, add_key, request_key       the kernel keyring is not namespaced
 *   bpf, perf_event_open, userfaultfd  large kernel attack surface, exploit aids
 *   kexec_load, kexec_file_load, init_module, finit_module, delete_module
 *   open_by_handle_at                  opens files by handle, around mounts
 *   io_uring_setup/enter/register      io_uring operations bypass seccomp
 *   syslog, acct, quotactl, swapon, swapoff, reboot, settimeofday,
 *   clock_settime, clock_adjtime, uselib, lookup_dcookie, vhangup
 *                                      host-wide administration
 *   unshare/clone with CLONE_NEWUSER   a new user namespace makes the payload
 *                                      root of it: nf_tables and other
 *                                      root-only interfaces (unless
 *                                      --allow-userns); clone3 → ENOSYS, its
 *                                      flags are out of seccomp's reach
 * ptrace stays allowed (debuggers inside the sandbox; it cannot cross the
 * pid namespace).  Other new namespaces need a user namespace's
 * capabilities, which the payload does not hold.
 * On x86-64 the filter also covers the i386 and x32 ABIs so a 32-bit
 * syscall cannot go around it.
 */
#pragma once

#include <glib.h>

/* Launcher side, before the fork: the filter as classic BPF, compiled at
 * build time (seccomp-rules.h), so the payload only has to load it.
 * ALLOW_USERNS (--allow-userns) leaves clone/clone3/unshare alone.  NULL +
 * error on failure (only a broken build). */
GBytes *sbx_seccomp_compile(gboolean allow_userns, GError **error);

/* Payload side: load PROGRAM (from sbx_seccomp_compile) into the calling
 * thread — one prctl().  Needs PR_SET_NO_NEW_PRIVS (sbx_drop_privileges),
 * so it is the last step before exec. */
gboolean sbx_seccomp_load(GBytes *program, GError **error);

/* Both in one (tests, callers without a fork in between). */
gboolean sbx_seccomp_apply(gboolean allow_userns, GError **error);
