#!/bin/bash
# The LMDB store across real processes (tests/integration/storetool):
# while one process holds the write transaction, another reads the last
# commit without waiting and a third waits to write; the holder is killed
# with kill -9 in the middle of its transaction; the waiting writer then
# gets the lock (LMDB's robust mutex), the held write is gone, the last
# commit is intact and the history chain verifies.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
TOOLS=${TOOLS:-$TOP/$BUILD/tests/integration}
ST=$TOOLS/storetool
[ -x "$ST" ] || { echo "no $ST (make $BUILD/tests/integration/storetool)"; exit 1; }

tmp=$(mktemp -d /tmp/test_store_crash.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }
dir=$tmp/state

# wait_for FILE PATTERN TENTHS: bounded wait for a line in FILE.
wait_for() {
	for _ in $(seq "$3"); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

"$ST" "$dir" put-group www A >/dev/null || fail "put-group A"
"$ST" "$dir" event www state '{"to":"A"}' >/dev/null || fail "event A"
[ "$(stat -c %a "$dir")" = 700 ] && ok "state dir 0700" || fail "state dir mode $(stat -c %a "$dir")"
[ "$(stat -c %a "$dir/data.mdb")" = 600 ] && ok "data.mdb 0600" || fail "data.mdb mode"

"$ST" "$dir" hold www B >"$tmp/hold.out" 2>&1 &
holder=$!; pids+=("$holder")
wait_for "$tmp/hold.out" holding 100 && ok "holder has the write lock" || fail "holder never held: $(cat "$tmp/hold.out")"

# A reader is not blocked by the writer and sees the last commit.
timeout 10 "$ST" -r "$dir" dump >"$tmp/dump1" 2>&1 && ok "read while a write is held" || fail "reader blocked or failed"
grep -q 'group name=www len=1 value="A"' "$tmp/dump1" && ok "reader sees A" || fail "reader: $(cat "$tmp/dump1")"

# A second writer waits for the lock.
"$ST" "$dir" put-group www C >"$tmp/w2.out" 2>&1 &
writer=$!; pids+=("$writer")
sleep 0.3
if kill -0 "$writer" 2>/dev/null; then ok "second writer waits"; else fail "second writer did not wait: $(cat "$tmp/w2.out")"; fi

kill -9 "$holder"
wait "$holder" 2>/dev/null
# ... and gets it once the holder is dead.
for _ in $(seq 100); do kill -0 "$writer" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$writer" 2>/dev/null; then
	fail "second writer still blocked after the holder died"
else
	wait "$writer"; rc=$?
	[ $rc = 0 ] && ok "second writer committed after the kill" || fail "second writer rc=$rc: $(cat "$tmp/w2.out")"
fi

timeout 10 "$ST" "$dir" dump >"$tmp/dump2" 2>&1 || fail "dump after crash"
grep -q 'group name=www len=1 value="C"' "$tmp/dump2" && ok "state is C" || fail "after: $(cat "$tmp/dump2")"
grep -q 'event=held' "$tmp/dump2" && fail "the killed transaction left an event" || ok "killed transaction left nothing"
out=$(timeout 10 "$ST" "$dir" verify)
[ "$out" = "ok events=1" ] && ok "history verifies ($out)" || fail "verify: $out"
"$ST" "$dir" event www state '{"to":"C"}' >/dev/null || fail "event C"
out=$(timeout 10 "$ST" "$dir" verify)
[ "$out" = "ok events=2" ] && ok "history still chains ($out)" || fail "verify: $out"

# The flags generation moves with another process's flags write.
g1=$("$ST" -r "$dir" gen)
"$ST" "$dir" pause www >/dev/null || fail "pause"
g2=$("$ST" -r "$dir" gen)
[ "$g2" = $((g1 + 1)) ] && ok "generation $g1 -> $g2" || fail "generation $g1 -> $g2"
grep -q . <("$ST" -r "$dir" dump | grep 'flags group=www paused=1') && ok "paused flag stored" || fail "no paused flag"

echo "$failures failure(s)"
[ $failures = 0 ]
