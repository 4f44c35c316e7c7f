/* SPDX-License-Identifier: MIT
 *
 * fdutil.h — small fd helpers GLib 2.74 lacks (no g_autofd yet).
 */
#pragma once

#include <glib.h>
#include <sys/types.h>

/* `autoclose int fd = open(...);` closes fd (if >= 0) when it leaves scope. */
void sbx_close_fdp(int *fdp);
#define autoclose __attribute__((cleanup(sbx_close_fdp)))

/* Return *fdp and set it to -1 (like g_steal_fd, GLib 2.70 has it but we keep ours). */
static inline int sbx_steal_fd(int *fdp) { int fd = *fdp; *fdp = -1; return fd; }

/* EINTR-safe full read/write.  Return 0 or -errno; read_all returns -EPIPE on EOF. */
int sbx_write_all(int fd, const void *buf, size_t len);
int sbx_read_all(int fd, void *buf, size_t len);

/* Send / receive one fd with a small payload over a unix socket (SCM_RIGHTS).
 * Received fds are O_CLOEXEC.  Return 0 or -errno. */
int sbx_send_fds(int sock, const void *data, size_t len, const int *fds, unsigned nfds);
int sbx_recv_fds(int sock, void *data, size_t len, int *fds, unsigned nfds);
