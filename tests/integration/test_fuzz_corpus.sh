#!/bin/bash
# Replay every fuzz regression input (tests/fuzz/corpus/NAME/) through the
# fuzz targets' own entry points (tests/integration/corpusrun.c includes
# tests/fuzz/fuzz_NAME.c), built like every other test: under SAN=1 with
# ASan and UBSan, so a crash once found stays fixed.  Also checks that
# every fuzz target has a corpus directory that is not empty, and that
# corpusrun knows every target.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
TOOLS=${TOOLS:-$TOP/build/tests/integration}
CR=$TOOLS/corpusrun
C=$TOP/tests/fuzz/corpus
[ -x "$CR" ] || { echo "FAIL: $CR not built"; exit 1; }

for f in "$TOP"/tests/fuzz/fuzz_*.c; do
	n=$(basename "$f" .c); n=${n#fuzz_}
	[ -n "$(ls -A "$C/$n" 2>/dev/null)" ] ||
	    { echo "FAIL: fuzz target $n has no corpus in $C/$n"; exit 1; }
	grep -q "\"tests/fuzz/fuzz_$n.c\"" "$TOP/tests/integration/corpusrun.c" ||
	    { echo "FAIL: corpusrun.c does not include fuzz_$n.c"; exit 1; }
done
t0=$(date +%s%N)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$CR" "$C" >"$out" 2>&1
rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
if [ $rc != 0 ]; then
	tail -40 "$out"
	echo "FAIL: corpusrun exit $rc; last input: $(grep '^ok ' "$out" | tail -1)"
	exit 1
fi
for n in $(cd "$C" && ls); do
	want=$(find "$C/$n" -maxdepth 1 -type f | wc -l)
	got=$(grep -c "^ok $n " "$out")
	[ "$want" = "$got" ] || { echo "FAIL: $n: $got of $want inputs replayed"; exit 1; }
	echo "$n: $got inputs"
done
echo "$(tail -1 "$out") in $ms ms"
