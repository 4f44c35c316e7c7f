#!/usr/bin/env bash
# Static analysis gate: cppcheck over the product's C sources.
# GLib's declaration macros are defined away: cppcheck cannot expand them
# and would otherwise stop at the first one.
set -euo pipefail
cd "$(dirname "$0")/.."
exec cppcheck --quiet --error-exitcode=1 --enable=warning,portability --inline-suppr \
	-D_GNU_SOURCE -D__linux__ \
	'-DG_DEFINE_AUTOPTR_CLEANUP_FUNC(a,b)=' '-DG_DEFINE_AUTO_CLEANUP_FREE_FUNC(a,b,c)=' \
	'-DG_GNUC_PRINTF(a,b)=' -DG_GNUC_NORETURN= -DG_GNUC_UNUSED= \
	'-DG_DEFINE_QUARK(a,b)=GQuark b##_quark(void);' \
	-I . \
	--suppress=missingIncludeSystem \
	src common net mounts tests/unit tests/lib tests/fuzz examples "$@"
