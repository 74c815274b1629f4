#!/bin/sh
# check-layout.sh: the daemon's modules include one another without a
# cycle; http.c names no handler (the modules that register routes are
# not included by it); the timer workers (outbox, deadline, summary,
# survey) do not include http.h. A module is a .c and its .h; paknd.h
# (the daemon's state) is a node of its own, apart from main (paknd.c).
# Prints one line per finding; exits 1 if there is any.
set -u
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
src="$top_srcdir/daemon"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

# The node of a file or header name (without its extension).
node() {
	case "$1" in
	paknd.h) echo paknd_state ;;
	paknd.c) echo main ;;
	*) echo "${1%.*}" ;;
	esac
}

for f in "$src"/*.c "$src"/*.h; do
	b=$(basename "$f")
	m=$(node "$b")
	sed -n 's/^#include "\([a-z_0-9]*\.h\)".*/\1/p' "$f" | while read -r h; do
		n=$(node "$h")
		[ "$n" != "$m" ] && echo "$m $n"
	done
done | sort -u >"$tmp/edges"
if ! tsort "$tmp/edges" >/dev/null 2>"$tmp/loop"; then
	echo "check-layout: the includes of daemon/ form a cycle:"
	sed -n 's/^tsort: //p' "$tmp/loop" | grep -v 'input contains a loop'
	fail=1
fi

for f in "$src"/*.c; do
	b=$(basename "$f")
	[ "$b" = http.c ] && continue
	grep -q 'http_route_add(' "$f" && echo "$(node "$b")"
done >"$tmp/handlers"
if [ ! -s "$tmp/handlers" ]; then
	echo "check-layout: no module registers a route (http_route_add)"
	fail=1
fi
while read -r h; do
	if grep -q "^#include \"$h.h\"" "$src/http.c"; then
		echo "check-layout: http.c includes $h.h, a handler's header"
		fail=1
	fi
done <"$tmp/handlers"

for w in outbox deadline summary survey; do
	[ -f "$src/$w.c" ] || continue
	if grep -q '^#include "http.h"' "$src/$w.c"; then
		echo "check-layout: $w.c includes http.h (a worker, not a handler)"
		fail=1
	fi
done

[ $fail = 0 ] && echo "check-layout: $(wc -l <"$tmp/edges") includes, no cycle;" \
	"$(wc -l <"$tmp/handlers") modules register routes, http.c names none"
exit $fail
