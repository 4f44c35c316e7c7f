/* SPDX-License-Identifier: MIT */
#include "common/error.h"

#include <stdarg.h>
#include <string.h>

G_DEFINE_QUARK(sbx-error-quark, sbx_error)

const char *
sbx_strerror(int errnum)
{
	const char *desc = strerrordesc_np(errnum);

	return desc ? desc : "Unknown error";
}

gboolean
sbx_set_errno(GError **error, int errnum, const char *fmt, ...)
{
	va_list ap;
	g_autofree char *what = NULL;

	va_start(ap, fmt);
	what = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_set_error(error, SBX_ERROR, SBX_ERR_OS, "%s: %s", what, sbx_strerror(errnum));
	return FALSE;
}

gboolean
sbx_prefix_error(GError **error, const char *fmt, ...)
{
	va_list ap;
	g_autofree char *prefix = NULL;

	if (!error || !*error)
		return FALSE;
	va_start(ap, fmt);
	prefix = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_prefix_error(error, "%s: ", prefix);
	return FALSE;
}
