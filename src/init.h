/* SPDX-License-Identifier: MIT
 *
 * init.h — pid 1 of the sandbox's pid namespace.
 *
 * The set-up child becomes init once the sandbox is built: it forks the
 * payload (which is therefore never pid 1), reaps orphans, forwards
 * SIGINT SIGTERM SIGHUP SIGQUIT SIGUSR1 SIGUSR2 SIGWINCH to the payload, and
 * when the payload exits kills everything left in the namespace and exits
 * with the payload's status (128+N for a death by signal N: pid 1 cannot
 * die of its own signal, so the status travels as an exit code).
 */
#pragma once

#include <glib.h>

/* Fork the payload and run the init loop.  Returns TRUE only in the
 * payload child (signal mask restored, dispositions as inherited); in pid 1
 * it never returns — it _exit()s with the payload's status.  FALSE + error
 * (in pid 1) when the fork fails.  PAYLOAD_ONLY_FD (or -1) is an fd only
 * the payload needs: pid 1 closes it after the fork. */
gboolean sbx_init_start(int payload_only_fd, GError **error);

/* Wait status → the exit status the CLI reports (code, or 128+signal). */
int sbx_status_to_exit_code(int wait_status);
