/* SPDX-License-Identifier: MIT
 *
 * fuzz-allowlist.c — libFuzzer harness for the untrusted inputs of the
 * egress policy: allowlist text (every accepted entry must print back to
 * text that parses to the same entry, and must compile into an nft batch)
 * and Ethernet frames from the sandbox through the per-frame filter.  The
 * --resolver client's replies go through dns-msg.c, fuzzed by fuzz-dns.c.
 * Seeds: tests/fuzz/corpus-allowlist/.  Run: tests/fuzz/run.sh long allowlist
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/allowlist.h"
#include "net/nft/nft.h"
#include "net/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static EgressPolicy *
frame_policy(void)
{
	static EgressPolicy *p;
	static const char *const entries[] = { "192.0.2.0/24", "[2001:db8::/32]:443/tcp",
					       "198.51.100.7:53/udp", "*.example.test", NULL };

	if (!p) {
		SbxConfig *cfg = sbx_config_new();
		guint16 hp = 8080;

		for (const char *const *e = entries; *e; e++)
			g_ptr_array_add(cfg->allow_entries, g_strdup(*e));
		g_array_append_val(cfg->host_ports, hp);
		p = egress_policy_load(cfg, NULL);
		sbx_config_free(cfg);
		if (!p)
			abort();
	}
	return p;
}

static void
check_roundtrip(const AllowEntry *e)
{
	g_autofree char *text = allow_entry_to_string(e);
	g_autoptr(GArray) again = allowlist_new();
	const AllowEntry *r;

	if (!allowlist_parse_line(text, "rt", again, NULL) || again->len != 1)
		abort();
	r = &g_array_index(again, AllowEntry, 0);
	if (r->kind != e->kind || r->port != e->port || r->protos != e->protos ||
	    r->prefix != e->prefix || g_strcmp0(r->domain, e->domain) != 0 ||
	    ((e->kind == ALLOW_ADDR4 || e->kind == ALLOW_ADDR6) &&
	     memcmp(&r->addr, &e->addr, sizeof e->addr) != 0))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(GArray) entries = allowlist_new();
	g_autoptr(NftPolicy) np = nft_policy_new();

	if (allowlist_parse_text((const char *)data, size, "fuzz", entries, NULL)) {
		for (guint i = 0; i < entries->len; i++) {
			const AllowEntry *e = &g_array_index(entries, AllowEntry, i);

			check_roundtrip(e);
			if (e->kind == ALLOW_ADDR4)
				nft_range_set_add_prefix(&np->allow4, (const guint8 *)&e->addr,
							 e->prefix);
			else if (e->kind == ALLOW_ADDR6 && e->port)
				nft_range_set_add_prefix(&nft_policy_group(np, 6, e->port)->v6,
							 (const guint8 *)&e->addr, e->prefix);
			else if (e->kind == ALLOW_ADDR6)
				nft_range_set_add_prefix(&np->allow6, (const guint8 *)&e->addr,
							 e->prefix);
		}
		nft_policy_normalize(np);
		nft_batch_free(nft_build_batch(np, 1));
	}
	{
		/* as net.c does: the frame is parsed once for every check */
		FrameInfo fi;

		(void)egress_policy_allows_frame(frame_policy(),
						 frame_parse(data, size, &fi) ? &fi : NULL);
	}
	return 0;
}
