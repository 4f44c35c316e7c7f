/* SPDX-License-Identifier: MIT
 *
 * slirp-dl.c — mini-tapbox's libslirp, loaded with dlopen() after the
 * clone (see slirp-lib.h).  It defines the seven libslirp functions the
 * network code calls, each a jump through the table sbx_slirp_load()
 * fills, resolved at the symbol versions a link against the same headers
 * would have bound.
 */
#include "net/slirp-lib.h"
#include "common/error.h"

#include <dlfcn.h>
#include <libslirp.h>
#include <string.h>

#define SLIRP_SONAME "libslirp.so.0"

typedef struct {
	gboolean loaded;
	Slirp *(*new_)(const SlirpConfig *, const SlirpCb *, void *);
	void (*cleanup)(Slirp *);
	void (*input)(Slirp *, const uint8_t *, int);
	void (*pollfds_fill)(Slirp *, uint32_t *, SlirpAddPollCb, void *);
	void (*pollfds_poll)(Slirp *, int, SlirpGetREventsCb, void *);
	int (*add_hostfwd)(Slirp *, int, struct in_addr, int, struct in_addr, int);
	int (*add_hostxfwd)(Slirp *, const struct sockaddr *, socklen_t,
			    const struct sockaddr *, socklen_t, int);
} SlirpFns;

static SlirpFns lib;

/* The versions libslirp 4.7's symbols carry (its libslirp.map): what the
 * linker binds for these headers. */
static const struct {
	const char *name, *version;
	size_t offset;
} symbols[] = {
	{ "slirp_new", "SLIRP_4.1", G_STRUCT_OFFSET(SlirpFns, new_) },
	{ "slirp_cleanup", "SLIRP_4.0", G_STRUCT_OFFSET(SlirpFns, cleanup) },
	{ "slirp_input", "SLIRP_4.0", G_STRUCT_OFFSET(SlirpFns, input) },
	{ "slirp_pollfds_fill", "SLIRP_4.0", G_STRUCT_OFFSET(SlirpFns, pollfds_fill) },
	{ "slirp_pollfds_poll", "SLIRP_4.0", G_STRUCT_OFFSET(SlirpFns, pollfds_poll) },
	{ "slirp_add_hostfwd", "SLIRP_4.0", G_STRUCT_OFFSET(SlirpFns, add_hostfwd) },
	{ "slirp_add_hostxfwd", "SLIRP_4.5", G_STRUCT_OFFSET(SlirpFns, add_hostxfwd) },
};

gboolean
sbx_slirp_load(GError **error)
{
	void *handle;

	if (lib.loaded)
		return TRUE;
	/* RTLD_LOCAL: libslirp and the shared GLib it needs stay out of the
	 * global scope; RTLD_NOW: a missing symbol fails here, not later. */
	handle = dlopen(SLIRP_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!handle) {
		g_set_error(error, SBX_ERROR, SBX_ERR_OS,
			    "cannot load %s, which mini-tapbox's network needs: %s (install "
			    "libslirp: the libslirp0 package on Debian and Ubuntu)", SLIRP_SONAME,
			    dlerror());
		return FALSE;
	}
	for (gsize i = 0; i < G_N_ELEMENTS(symbols); i++) {
		void *fn = dlvsym(handle, symbols[i].name, symbols[i].version);

		if (!fn) {
			g_set_error(error, SBX_ERROR, SBX_ERR_OS,
				    "%s has no %s@%s (libslirp 4.7 or later is needed): %s",
				    SLIRP_SONAME, symbols[i].name, symbols[i].version, dlerror());
			dlclose(handle);
			return FALSE;
		}
		memcpy((char *)&lib + symbols[i].offset, &fn, sizeof fn);
	}
	lib.loaded = TRUE;   /* the handle stays open for the process's life */
	return TRUE;
}

/* The functions of libslirp.h the network code calls.  Only reached after
 * sbx_slirp_load() succeeded (net_start_slirp()). */

Slirp *
slirp_new(const SlirpConfig *cfg, const SlirpCb *callbacks, void *opaque)
{
	return lib.new_(cfg, callbacks, opaque);
}

void
slirp_cleanup(Slirp *slirp)
{
	lib.cleanup(slirp);
}

void
slirp_input(Slirp *slirp, const uint8_t *pkt, int pkt_len)
{
	lib.input(slirp, pkt, pkt_len);
}

void
slirp_pollfds_fill(Slirp *slirp, uint32_t *timeout, SlirpAddPollCb add_poll, void *opaque)
{
	lib.pollfds_fill(slirp, timeout, add_poll, opaque);
}

void
slirp_pollfds_poll(Slirp *slirp, int select_error, SlirpGetREventsCb get_revents, void *opaque)
{
	lib.pollfds_poll(slirp, select_error, get_revents, opaque);
}

int
slirp_add_hostfwd(Slirp *slirp, int is_udp, struct in_addr host_addr, int host_port,
		  struct in_addr guest_addr, int guest_port)
{
	return lib.add_hostfwd(slirp, is_udp, host_addr, host_port, guest_addr, guest_port);
}

int
slirp_add_hostxfwd(Slirp *slirp, const struct sockaddr *haddr, socklen_t haddrlen,
		   const struct sockaddr *gaddr, socklen_t gaddrlen, int flags)
{
	return lib.add_hostxfwd(slirp, haddr, haddrlen, gaddr, gaddrlen, flags);
}
