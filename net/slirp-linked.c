/* SPDX-License-Identifier: MIT
 *
 * slirp-linked.c — sbx_slirp_load() where libslirp is linked (the library,
 * the tests): nothing to do.  See slirp-lib.h.
 */
#include "net/slirp-lib.h"

gboolean
sbx_slirp_load(GError **error)
{
	(void)error;
	return TRUE;
}
