#!/bin/sh
# Print the AppArmor profile PROFILE in the dialect of the apparmor_parser
# installed here, so the packages built on a release carry a profile that
# release parses:
#
#   AppArmor 4 (Ubuntu 24.04+, Debian 13+: abi/4.0 is present)
#       the profile as written: abi 4.0, the "userns," rule;
#   AppArmor 3 (Debian 12: only abi/3.0)
#       "abi <abi/3.0>," and no "userns," rule: AppArmor 3 has no such rule
#       (a syntax error there), and Debian 12's kernel (6.1) does not
#       mediate user namespaces, so nothing is lost.
#
# Usage: for-parser.sh PROFILE [ABI_DIR]   (ABI_DIR: /etc/apparmor.d/abi)
set -eu
profile=${1:?usage: for-parser.sh PROFILE [ABI_DIR]}
abi_dir=${2:-/etc/apparmor.d/abi}

if [ -e "$abi_dir/4.0" ]; then
	exec cat "$profile"
fi
if [ ! -e "$abi_dir/3.0" ]; then
	echo "for-parser.sh: neither $abi_dir/4.0 nor $abi_dir/3.0 exists;" \
		"install AppArmor's parser (Debian: apt install apparmor)" >&2
	exit 1
fi
# Both lines must be there to be rewritten: a profile edited out of shape
# fails here rather than shipping half-converted.
grep -qx 'abi <abi/4.0>,' "$profile" && grep -qx '  userns,' "$profile" || {
	echo "for-parser.sh: $profile lacks 'abi <abi/4.0>,' or '  userns,'" >&2
	exit 1
}
sed -e 's|^abi <abi/4.0>,$|abi <abi/3.0>,  # for-parser.sh: AppArmor 3 (no userns rule, none needed)|' \
    -e '/^  userns,$/d' "$profile"
