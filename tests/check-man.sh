#!/bin/sh
# check-man.sh: the manual pages are clean under `mandoc -Tlint`, and
# paknd.conf(5) lists exactly the keys, sections and defaults that
# `paknctl defaults` prints (the key table of daemon/config.c), so the
# page cannot drift from the program. Run by make check from the build
# directory; needs mandoc (Debian package mandoc, in contrib/deps).
set -u
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
builddir=${PAKN_BUILDDIR:-$PWD}
man="$top_srcdir/man"
fail=0
if ! command -v mandoc >/dev/null 2>&1; then
	echo "check-man: mandoc not found: install the Debian package mandoc (contrib/deps)" >&2
	exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Lint with every style check; references to our own pages resolve in a
# manual tree of their own, references to other projects' pages (which
# may not be installed here) are the only messages allowed.
mkdir -p "$tmp/man/man5" "$tmp/man/man8"
cp "$man/paknd.conf.5" "$tmp/man/man5/"
cp "$man/paknd.8" "$man/paknctl.8" "$tmp/man/man8/"
makewhatis "$tmp/man" || fail=1
for page in "$man/paknd.8" "$man/paknctl.8" "$man/paknd.conf.5"; do
	mandoc -Tlint -W style -M "$tmp/man" "$page" >"$tmp/lint" 2>&1
	if grep -v -E 'referenced manual not found: Xr (syslog|sd_notify) 3' \
		"$tmp/lint" | grep . >&2; then
		echo "check-man: $page is not clean under mandoc -Tlint" >&2
		fail=1
	fi
done

# The key list: "section key default" lines from both sides.
"$builddir/daemon/paknctl" defaults | awk '
	/^\[/ { sub(/^\[/, ""); sub(/\]$/, ""); sec = $0; next }
	/^#/ || /^$/ { next }
	{ key = $1; val = $0; sub(/^[^=]*= ?/, "", val); sub(/ +$/, "", val)
	  print sec, key, (val == "" ? "(none)" : val) }' | sort >"$tmp/want"
awk '
	/^\.Ss Section Bq / { sec = $4; key = ""; next }
	/^\.S[sh] / { sec = ""; next }
	sec != "" && /^\.It Ic / { key = $3; next }
	key != "" && /^Default: none\.$/ { print sec, key, "(none)"; key = "" }
	key != "" && /^\.Ql / { v = $0; sub(/^\.Ql /, "", v); sub(/ \.$/, "", v)
	  if (prev == "Default:") print sec, key, v; key = "" }
	{ prev = $0 }' "$man/paknd.conf.5" | sort >"$tmp/have"
if [ ! -s "$tmp/want" ] || ! cmp -s "$tmp/want" "$tmp/have"; then
	echo "check-man: paknd.conf.5 and paknctl defaults differ (< program, > page):" >&2
	diff "$tmp/want" "$tmp/have" >&2
	fail=1
fi
[ "$fail" = 0 ] && echo "check-man: 3 pages clean, $(wc -l <"$tmp/want") keys match"
exit "$fail"
