#!/bin/bash
# Run benchmarks: tests/bench/run.sh all|NAME...
# Each benchmark is tests/bench/bench-NAME.sh; it prints "name=value" figure
# lines, its last line being its headline ratio.  "all" runs every one and
# ends with one table of the headline figures.
set -u
cd "$(dirname "$0")/../.."
export TOP=$PWD BUILD=${BUILD:-build}
export FAILOVERD=$TOP/$BUILD/failoverd FAILOVERCTL=$TOP/$BUILD/failoverctl
export TOOLS=$TOP/$BUILD/tests/integration BENCHBIN=$TOP/$BUILD/tests/bench
names=("$@")
if [ ${#names[@]} = 0 ] || [ "${names[0]}" = all ]; then
	names=()
	for f in tests/bench/bench-*.sh; do
		[ -f "$f" ] || continue
		n=${f#tests/bench/bench-}; names+=("${n%.sh}")
	done
fi
rc=0
summary=()
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for n in "${names[@]}"; do
	f=tests/bench/bench-$n.sh
	if [ ! -f "$f" ]; then echo "bench: no benchmark $n" >&2; rc=1; continue; fi
	echo "== bench $n"
	# Through a file: tee to /dev/stderr would reopen a redirected output
	# file at offset 0 and overwrite it.
	bash "$f" 2>&1 | tee "$tmp/$n.out"
	[ "${PIPESTATUS[0]}" = 0 ] || rc=1
	summary+=("$(grep -E '^[a-z0-9_]+=' "$tmp/$n.out" | tail -1)")
done
if [ ${#names[@]} -gt 1 ]; then
	echo
	echo "== summary"
	printf '%s\n' "${summary[@]}" | column -t -s= 2>/dev/null || printf '%s\n' "${summary[@]}"
fi
exit $rc
