#!/bin/sh
# check-rules.sh: contrib/prometheus/pakn.rules.yml is valid for
# Prometheus (promtool check rules), its alerts fire when and as
# pakn.rules.test.yml says (promtool test rules), and every pakn_ series
# it reads is one paknd exports (a name written in daemon/*.c), so the
# rules cannot drift from /metrics. Needs promtool (Debian package
# prometheus, in contrib/deps).
set -u
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
dir="$top_srcdir/contrib/prometheus"
fail=0
if ! command -v promtool >/dev/null 2>&1; then
	echo "check-rules: promtool not found: install the Debian package prometheus (contrib/deps)" >&2
	exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

promtool check rules "$dir/pakn.rules.yml" >"$tmp/out" 2>&1 || {
	cat "$tmp/out" >&2
	echo "check-rules: promtool check rules failed" >&2
	fail=1
}
(cd "$dir" && promtool test rules pakn.rules.test.yml) >"$tmp/out" 2>&1 || {
	cat "$tmp/out" >&2
	echo "check-rules: promtool test rules failed" >&2
	fail=1
}

# The series the rules read, and the names paknd writes.
grep -o 'pakn_[a-z0-9_]*' "$dir/pakn.rules.yml" | sort -u >"$tmp/read"
cat "$top_srcdir"/daemon/*.c | grep -o '"pakn_[a-z0-9_]*"' | tr -d '"' |
	sort -u >"$tmp/written"
[ -s "$tmp/read" ] || {
	echo "check-rules: the rules read no pakn_ series" >&2
	fail=1
}
comm -23 "$tmp/read" "$tmp/written" >"$tmp/unknown"
if [ -s "$tmp/unknown" ]; then
	echo "check-rules: pakn.rules.yml reads series paknd does not export:" >&2
	cat "$tmp/unknown" >&2
	fail=1
fi
n=$(grep -c '^      - alert:' "$dir/pakn.rules.yml")
t=$(grep -o 'alertname: [A-Za-z]*' "$dir/pakn.rules.test.yml" | sort -u | wc -l)
if [ "$n" != "$t" ]; then
	echo "check-rules: $n alerts, $t of them tested" >&2
	fail=1
fi
[ $fail = 0 ] && echo "check-rules: $n alerts tested, $(wc -l <"$tmp/read") series read, all exported"
exit $fail
