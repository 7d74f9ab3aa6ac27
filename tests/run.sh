#!/bin/bash
# Run every test: the cmocka unit binaries, then the integration scripts.
# Each integration script is run with a bounded time and its own temporary
# directory; exit 0 = pass, 77 = skipped, anything else = fail.
# Ends with "N passed, N failed, N skipped" and exits non-zero on a failure.
#
#   tests/run.sh [PATTERN]     only tests whose name contains PATTERN
set -u
cd "$(dirname "$0")/.."
export TOP=$PWD
export BUILD=${BUILD:-build}
export SAN=${SAN:-0}
export FAILOVERD=$TOP/$BUILD/failoverd
export FAILOVERCTL=$TOP/$BUILD/failoverctl
export TOOLS=$TOP/$BUILD/tests/integration
# Sanitizers: fail loudly, leak-check at exit.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=86}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=87}
pattern=${1:-}
limit=${TEST_TIMEOUT:-300}

pass=0 fail=0 skip=0
failed=()
logdir=$TOP/$BUILD/test-logs
mkdir -p "$logdir/unit" "$logdir/integration"

run_one() {		# name, command...
	local name=$1; shift
	local log=$logdir/$name.log t0 t1 rc
	t0=$(date +%s%N)
	timeout -k 10 "$limit" "$@" >"$log" 2>&1
	rc=$?
	t1=$(date +%s%N)
	local ms=$(( (t1 - t0) / 1000000 ))
	if [ $rc = 0 ]; then
		pass=$((pass + 1)); printf 'PASS  %-40s %6d ms\n' "$name" "$ms"
	elif [ $rc = 77 ]; then
		skip=$((skip + 1)); printf 'SKIP  %-40s %s\n' "$name" "$(tail -1 "$log")"
	else
		fail=$((fail + 1)); failed+=("$name")
		printf 'FAIL  %-40s %6d ms (rc=%d)\n' "$name" "$ms" "$rc"
		sed 's/^/      | /' "$log" | tail -40
	fi
}

for t in "$BUILD"/tests/unit/test_*; do
	[ -x "$t" ] || continue
	case $t in *.d|*.o) continue;; esac
	n=unit/$(basename "$t")
	[ -n "$pattern" ] && [[ $n != *"$pattern"* ]] && continue
	run_one "$n" "$t"
done

for t in tests/integration/test_*.sh; do
	[ -f "$t" ] || continue
	n=integration/$(basename "$t" .sh)
	[ -n "$pattern" ] && [[ $n != *"$pattern"* ]] && continue
	run_one "$n" bash "$t"
done

echo
[ ${#failed[@]} -gt 0 ] && echo "failed: ${failed[*]}"
echo "$pass passed, $fail failed, $skip skipped"
[ $fail = 0 ]
