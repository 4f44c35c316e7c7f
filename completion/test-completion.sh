#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Test of completion/mini-sandbox (meson test "completion").  The helpers
# bash-completion provides are replaced by stubs that record what the
# completion asked for, so the test needs no bash-completion package.
set -u
script=$1

_init_completion()
{
	words=("${COMP_WORDS[@]}")
	cword=$COMP_CWORD
	cur=${words[cword]}
	prev=${words[cword - 1]}
	split=false
	return 0
}
_filedir() { COMPREPLY=("FILEDIR${1:-}"); }
_command_offset() { COMPREPLY=("COMMAND@$1"); }
compopt() { :; }

# shellcheck source=/dev/null
. "$script" || exit 1
complete -p mini-sandbox >/dev/null && complete -p mini-tapbox >/dev/null || {
	echo "completion not registered for both names" >&2
	exit 1
}

fail=0
# complete LINE (words separated by spaces; a trailing space = empty word)
run()
{
	read -r -a COMP_WORDS <<<"$1"
	[[ $1 == *" " ]] && COMP_WORDS+=("")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_mini_sandbox
	echo "${COMPREPLY[*]-}"
}
expect()    # LINE WANT: the replies contain every word of WANT
{
	local got
	got=" $(run "$1") "
	for w in $2; do
		if [[ $got != *" $w "* ]]; then
			echo "'$1': expected '$w' in:$got" >&2
			fail=1
		fi
	done
}
expect_not()    # LINE WORD: the replies do not contain WORD
{
	local got
	got=" $(run "$1") "
	if [[ $got == *" $2 "* ]]; then
		echo "'$1': did not expect '$2' in:$got" >&2
		fail=1
	fi
}
expect_empty()
{
	local got
	got=$(run "$1")
	if [[ -n $got ]]; then
		echo "'$1': expected nothing, got: $got" >&2
		fail=1
	fi
}

expect "mini-sandbox -" "-x -N -n -w --write --share-network --help --version --tmpfs-size"
expect_not "mini-sandbox -" "-F"
expect_not "mini-sandbox --allow" "--allow-host-port"
expect "mini-tapbox --allow" "--allow --allow-host-port --allow-unresolved"
expect "mini-tapbox -" "-F --allowlist --publish --mtu --resolver --log"
expect_not "mini-tapbox -" "-N"
expect_not "mini-tapbox -" "--share-network"
expect "mini-sandbox -w " "FILEDIR"
expect "mini-sandbox --debug-log " "FILEDIR"
expect "mini-tapbox -F " "FILEDIR"
expect "mini-tapbox --learn " "FILEDIR"
expect "mini-sandbox -o " "FILEDIR-d"
expect "mini-sandbox -xW " "FILEDIR-d"
expect_empty "mini-sandbox -T "
expect_empty "mini-tapbox --allow-host-port "
expect "mini-sandbox -x -- ls" "COMMAND@3"
expect "mini-sandbox -x -- ls -" "COMMAND@3"
expect "mini-sandbox -w /a ls -" "COMMAND@3"
expect "mini-sandbox -xw/a ls " "COMMAND@2"
expect "mini-sandbox @args -T 5 -- make " "COMMAND@5"
exit $fail
