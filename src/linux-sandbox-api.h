/* SPDX-License-Identifier: MIT
 *
 * linux-sandbox-api.h — the header of the original mini-sandbox project,
 * for its users: code written against it compiles and links unchanged
 *
 *	#include "linux-sandbox-api.h"
 *	cc ... $(pkg-config --cflags --libs mini-sandbox)     (or mini-tapbox)
 *
 * The original declared its functions only with -DLIBMINISANDBOX, the
 * network calls only with (allow_*) or without (share_network) -DMINITAP,
 * and with empty parameter lists.  Here every function is declared always,
 * with full prototypes (from minisandbox.h, the same names, arguments and
 * codes): a superset, so nothing that compiled there fails here.  Which
 * library is linked decides the network default: libmini-tapbox gives the
 * unrestricted tap network when no network call is made, libmini-sandbox
 * none, as in the original.  See libminisandbox(3), COMPATIBILITY.
 */
#ifndef SRC_MAIN_TOOLS_LINUX_SANDBOX_API_H_
#define SRC_MAIN_TOOLS_LINUX_SANDBOX_API_H_

#include "minisandbox.h"

#endif /* SRC_MAIN_TOOLS_LINUX_SANDBOX_API_H_ */
