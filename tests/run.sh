#!/bin/bash
# Run every test: the cmocka unit binaries, then the integration scripts.
# Each integration script is run with a bounded time and its own temporary
# directory; exit 0 = pass, 77 = skipped, anything else = fail.
# Ends with "N passed, N failed, N skipped" and exits non-zero on a failure.
#
#   tests/run.sh [PATTERN]     only tests whose name contains PATTERN
#
# TEST_JOBS integration scripts run at once (default 3, 2 under the
# sanitizers, which make them CPU-bound): most of them wait on leases,
# timers and hysteresis, not on a CPU; on two cores, 3 took the suite from
# 526 s to 460 (2026-12-07, the suite alone on a quiet machine).  A
# script whose header has a line "# test: alone" runs with nothing beside
# it: it measures time or load (valgrind, floods, detection bounds) and
# would measure its neighbours too; they run after the others.  "# test: long" (over 40 s)
# starts a script at the head of the parallel ones.  Every script picks
# its own free ports and directory.
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
if [ "$SAN" = 1 ]; then jobs=${TEST_JOBS:-2}; else jobs=${TEST_JOBS:-3}; fi

pass=0 fail=0 skip=0
failed=() names=()
logdir=$TOP/$BUILD/test-logs
mkdir -p "$logdir/unit" "$logdir/integration"

# Run one test; its report (one line, and the log's tail on a failure)
# goes to stdout in one write and its verdict to $logdir/NAME.verdict.
run_one() {		# name, command...
	local name=$1; shift
	local log=$logdir/$name.log t0 t1 rc ms out
	t0=$(date +%s%N)
	timeout -k 10 "$limit" "$@" >"$log" 2>&1
	rc=$?
	t1=$(date +%s%N)
	ms=$(( (t1 - t0) / 1000000 ))
	if [ $rc = 0 ]; then
		echo pass >"$logdir/$name.verdict"
		out=$(printf 'PASS  %-40s %6d ms' "$name" "$ms")
	elif [ $rc = 77 ]; then
		echo skip >"$logdir/$name.verdict"
		out=$(printf 'SKIP  %-40s %s' "$name" "$(tail -1 "$log")")
	else
		echo fail >"$logdir/$name.verdict"
		# The reason first (a test's "FAIL: ..." line comes before the
		# daemon's log it prints, which alone would fill the tail).
		out=$(printf 'FAIL  %-40s %6d ms (rc=%d)\n%s\n%s' "$name" "$ms" "$rc" \
		    "$(grep -m 3 -E '^(FAIL|not ok|\[  FAILED)' "$log" | sed 's/^/      > /')" \
		    "$(sed 's/^/      | /' "$log" | tail -40)")
	fi
	printf '%s\n' "$out"
}

for t in "$BUILD"/tests/unit/test_*; do
	[ -x "$t" ] || continue
	case $t in *.d|*.o) continue;; esac
	n=unit/$(basename "$t")
	[ -n "$pattern" ] && [[ $n != *"$pattern"* ]] && continue
	rm -f "$logdir/$n.verdict"
	names+=("$n")
	run_one "$n" "$t"
done

# The pool first, its long scripts ("# test: long") at its head so that
# none of them is the last to end; then the "alone" ones, one at a time.
# An alone script in the middle of the pool would wait for the pool to
# drain each time, one CPU idle behind the slowest.
long=() pool=() alone=()
for t in tests/integration/test_*.sh; do
	[ -f "$t" ] || continue
	n=integration/$(basename "$t" .sh)
	[ -n "$pattern" ] && [[ $n != *"$pattern"* ]] && continue
	rm -f "$logdir/$n.verdict"
	names+=("$n")
	if grep -q '^# test: alone' "$t" || [ "$jobs" -le 1 ]; then
		alone+=("$t")
	elif grep -q '^# test: long' "$t"; then
		long+=("$t")
	else
		pool+=("$t")
	fi
done
running=0
for t in ${long[@]+"${long[@]}"} ${pool[@]+"${pool[@]}"}; do
	while [ $running -ge "$jobs" ]; do
		wait -n; running=$((running - 1))
	done
	run_one "integration/$(basename "$t" .sh)" bash "$t" &
	running=$((running + 1))
done
wait
for t in ${alone[@]+"${alone[@]}"}; do
	run_one "integration/$(basename "$t" .sh)" bash "$t"
done

for n in "${names[@]}"; do
	case $(cat "$logdir/$n.verdict" 2>/dev/null) in
	pass) pass=$((pass + 1));;
	skip) skip=$((skip + 1));;
	*) fail=$((fail + 1)); failed+=("$n");;
	esac
done

echo
[ ${#failed[@]} -gt 0 ] && echo "failed: ${failed[*]}"
echo "$pass passed, $fail failed, $skip skipped"
[ $fail = 0 ]
