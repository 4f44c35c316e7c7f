/* SPDX-License-Identifier: MIT
 *
 * test-net-none.c — the network stage of the mini-sandbox executable
 * (net/net-none.c): the modes without a network of their own are trivial,
 * and mini-tapbox's network is refused, never replaced by another one.
 * Linked with net-none.c instead of net.c, as mini-sandbox is.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "net/net.h"
#include "common/error.h"

#include <string.h>

static void
test_tap_is_refused(void **state)
{
	g_autoptr(SbxConfig) cfg = sbx_config_new();
	g_autoptr(GError) error = NULL;
	g_autoptr(SbxNet) net = NULL;

	(void)state;
	assert_false(net_has_tap());
	cfg->net_mode = SBX_NET_TAP;
	net = net_prepare(cfg, &error);
	assert_null(net);
	assert_non_null(error);
	assert_true(g_error_matches(error, SBX_ERROR, SBX_ERR_ILLEGAL_NETWORK));
	assert_non_null(strstr(error->message, "mini-tapbox executable"));
}

static void
test_other_modes_are_trivial(void **state)
{
	static const SbxNetMode modes[] = { SBX_NET_NONE, SBX_NET_LO_DOWN, SBX_NET_HOST };

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(modes); i++) {
		g_autoptr(SbxConfig) cfg = sbx_config_new();
		g_autoptr(GError) error = NULL;
		g_autoptr(SbxNet) net = NULL;

		cfg->net_mode = modes[i];
		net = net_prepare(cfg, &error);
		assert_non_null(net);
		assert_null(error);
		/* the host's resolv.conf and hosts are shown */
		assert_null(net_resolv_conf(net));
		assert_null(net_hosts_file(net));
		/* nothing to attach on the launcher's side */
		assert_true(net_launcher_attach(net, -1, NULL, &error));
		net_finish(net);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tap_is_refused),
		cmocka_unit_test(test_other_modes_are_trivial),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
