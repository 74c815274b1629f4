#!/bin/sh
# run-fuzzers.sh: run each libFuzzer target briefly over a copy of its seed
# corpus; fail if any of them finds a crash, leak or sanitizer report.
# Prints one line per target: "fuzz NAME: ok (...)" or "fuzz NAME: FAIL".
#
# FUZZ_DIR: directory holding the fuzz binaries (the build's tests/fuzz).
# FUZZ_SRCDIR: the source tests/fuzz, holding corpus/<target>/.
# FUZZ_RUNS, FUZZ_TIME: bounds per target (default 20000 runs, 15 s).

FUZZ_DIR=${FUZZ_DIR:-$(dirname "$0")/fuzz}
FUZZ_SRCDIR=${FUZZ_SRCDIR:-$(dirname "$0")/fuzz}
FUZZ_RUNS=${FUZZ_RUNS:-20000}
FUZZ_TIME=${FUZZ_TIME:-15}
TARGETS=${FUZZ_NAMES:-"fuzz_kannel fuzz_twilio fuzz_at fuzz_form fuzz_phone fuzz_config fuzz_grammar"}

work=$(mktemp -d "${TMPDIR:-/tmp}/pakn-fuzz.XXXXXX") || exit 1
failed=0

# Run one target; print one line; keep its work files if it fails.
run_target() {
	t=$1
	bin=$FUZZ_DIR/$t
	if [ ! -x "$bin" ]; then
		echo "fuzz $t: FAIL ($bin is missing)"
		return 1
	fi
	mkdir -p "$work/$t/corpus" "$work/$t/artifacts"
	if [ -d "$FUZZ_SRCDIR/corpus/$t" ]; then
		cp "$FUZZ_SRCDIR/corpus/$t"/* "$work/$t/corpus/" 2>/dev/null
	fi
	if "$bin" -runs="$FUZZ_RUNS" -max_total_time="$FUZZ_TIME" \
	    -artifact_prefix="$work/$t/artifacts/" "$work/$t/corpus" \
	    >"$work/$t/log" 2>&1; then
		echo "fuzz $t: ok ($(grep '^Done ' "$work/$t/log" | tail -n 1))"
		return 0
	fi
	echo "fuzz $t: FAIL (see $work/$t/log and $work/$t/artifacts/)"
	tail -n 30 "$work/$t/log" | sed 's/^/    /'
	return 1
}

for t in $TARGETS; do
	run_target "$t" || failed=1
done

if [ "$failed" -eq 0 ]; then
	rm -rf "$work"
	exit 0
fi
exit 1
