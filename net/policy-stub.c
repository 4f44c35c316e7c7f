/* SPDX-License-Identifier: MIT — temporary stub until policy.c lands:
 * refuses every restricted configuration. */
#include "policy.h"
#include "common/error.h"

struct EgressPolicy { int allow_all; };

EgressPolicy *
egress_policy_load(const SbxConfig *cfg, GError **error)
{
	EgressPolicy *p;

	if (cfg->allow_files->len || cfg->allow_entries->len) {
		g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_NETWORK, "allowlists are not built yet");
		return NULL;
	}
	p = g_new0(EgressPolicy, 1);
	p->allow_all = 1;
	return p;
}
void egress_policy_free(EgressPolicy *p) { g_free(p); }
gboolean egress_policy_is_restricted(const EgressPolicy *p) { return FALSE; }
char *egress_policy_hosts_file(const EgressPolicy *p)
{ return g_strdup("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"); }
gboolean egress_policy_install(const EgressPolicy *p, GError **error) { return TRUE; }
gboolean egress_policy_allows_frame(EgressPolicy *p, const uint8_t *frame, size_t len) { return TRUE; }
guint64 egress_policy_dropped_frames(const EgressPolicy *p) { return 0; }
gboolean
egress_policy_lookup_name(EgressPolicy *p, const char *name, GArray **addrs4, GArray **addrs6,
			  gboolean *is_wildcard)
{ return FALSE; }
gboolean egress_addr_is_refused_range(int family, const void *addr) { return TRUE; }
