#!/bin/bash
# test_etcd_watch.sh - cluster/'s watch streams against a real three-member
# etcd while its members die, freeze and lose quorum: a watcher on a
# prefix (endpoints member 1 first) and a writer that creates PREFIX/1..N
# one by one (each key exactly once, its revision printed).  Meanwhile:
#
#   1. member 1, carrying the watch, is killed (SIGKILL): the stream
#      breaks, the watch resumes on member 2; member 1 is started again;
#   2. member 2, now carrying it, is frozen (SIGSTOP) for 3 s: its stream
#      goes silent, the watch is made again after watch_idle_ms, member 2
#      does not answer "created", member 3 does;
#   3. members 2 and 3 are stopped: member 1 has no leader and ends the
#      stream ("no leader", thanks to hasleader); the watch reports
#      error=unavailable and keeps trying; both come back.
#
# Then every key the writer wrote must have been seen by the watcher
# exactly once, with the revision the writer got, in revision order;
# and a watch from a revision etcd has compacted reports compacted.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
TOOLS=${TOOLS:-$TOP/$BUILD/tests/integration}
ET=$TOOLS/etcdtool
[ -x "$ET" ] || { echo "no $ET (make $BUILD/tests/integration/etcdtool)"; exit 1; }
command -v etcd >/dev/null || { echo "no etcd (make deps)"; exit 77; }

tmp=$(mktemp -d /tmp/test_etcd_watch.XXXXXX)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
. "$TOP/tests/lib/etcd.sh"

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }

# wait_for FILE ERE SECONDS
wait_for() {
	local i
	for ((i = 0; i < $3 * 20; i++)); do
		grep -qE -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}
count() { grep -cE -- "$2" "$1" 2>/dev/null; }

etcd_start "$tmp/etcd" 3 || { echo "etcd did not start"; exit 1; }
E=$ETCD_ENDPOINTS
R="$ETCD_URL_3,$ETCD_URL_2,$ETCD_URL_1"
N=120

timeout 120 "$ET" -e "$E" -t 500 -i 1000 watch /w/ prefix 0 $N >"$tmp/watch.out" 2>&1 &
wpid=$!; pids+=("$wpid")
wait_for "$tmp/watch.out" "event=created endpoint=$ETCD_URL_1" 10 ||
    { cat "$tmp/watch.out"; fail "watch not created on member 1"; exit 1; }
timeout 120 "$ET" -e "$R" -t 500 writer /w $N 50 >"$tmp/writer.out" 2>&1 &
xpid=$!; pids+=("$xpid")

# 1. Kill the watch's member.
wait_for "$tmp/writer.out" 'key=/w/10 ' 20 || fail "writer stuck before 10"
etcd_signal_member 1 KILL
wait "$ETCD_PID_1" 2>/dev/null
wait_for "$tmp/watch.out" "event=created endpoint=$ETCD_URL_2" 10 &&
    ok "member 1 killed: the watch resumed on member 2" || fail "no stream on member 2"
wait_for "$tmp/writer.out" 'key=/w/30 ' 20 || fail "writer stuck before 30"
etcd_start_member 1
etcd_wait_health 1 20 || fail "member 1 did not come back"

# 2. Freeze it.
wait_for "$tmp/writer.out" 'key=/w/45 ' 20 || fail "writer stuck before 45"
etcd_signal_member 2 STOP
wait_for "$tmp/watch.out" "event=created endpoint=$ETCD_URL_3" 10 &&
    ok "member 2 frozen: the silent stream was made again on member 3" ||
    fail "no stream on member 3"
grep -q "event=watch_error\|not created within" "$tmp/watch.out" && true
sleep 2
etcd_signal_member 2 CONT
etcd_wait_health 2 20 || fail "member 2 unhealthy after SIGCONT"

# 3. No quorum for member 1 (the watch's first endpoint again?  wherever
#    it is now, two of three go).
wait_for "$tmp/writer.out" 'key=/w/70 ' 30 || fail "writer stuck before 70"
etcd_stop_member 2
etcd_stop_member 3
wait_for "$tmp/watch.out" 'event=watch_error error=unavailable' 10 &&
    ok "no quorum: the watch says unavailable" || fail "no watch_error while without quorum"
sleep 2
etcd_start_member 2
etcd_start_member 3
for i in 2 3; do etcd_wait_health "$i" 20 || fail "member $i did not come back"; done

# The end: the writer finishes, the watcher stops after N events.
for ((i = 0; i < 900; i++)); do
	kill -0 "$xpid" 2>/dev/null || kill -0 "$wpid" 2>/dev/null || break
	sleep 0.1
done
wait "$xpid"; xrc=$?
kill -TERM "$wpid" 2>/dev/null; wait "$wpid"; wrc=$?
[ $wrc = 0 ] || fail "watcher rc=$wrc"
[ $xrc = 0 ] && ok "writer created $N keys" || { fail "writer rc=$xrc"; tail -5 "$tmp/writer.out"; }
grep -E 'event=(created|watch_error|watch_end)' "$tmp/watch.out" | sed 's/^/    /' | cut -c1-220

sed -n 's/^event=wrote key=\([^ ]*\) rev=\([0-9]*\).*/\1 \2/p' "$tmp/writer.out" >"$tmp/want"
sed -n 's/^event=watch type=PUT key="\([^"]*\)" rev=\([0-9]*\).*/\1 \2/p' "$tmp/watch.out" >"$tmp/got"
[ "$(wc -l <"$tmp/want")" = $N ] || fail "writer reported $(wc -l <"$tmp/want") keys"
if cmp -s <(sort "$tmp/want") <(sort "$tmp/got"); then
	ok "every key seen once, with its revision ($N events)"
else
	fail "watch events differ from the writes:"
	diff <(sort "$tmp/want") <(sort "$tmp/got") | head -20
fi
dups=$(awk '{ print $2 }' "$tmp/got" | sort | uniq -d | wc -l)
[ "$dups" = 0 ] && ok "no revision delivered twice" || fail "$dups revisions twice"
awk '{ if ($2 <= last) bad++; last = $2 } END { exit bad > 0 }' "$tmp/got" &&
    ok "in revision order" || fail "out of order"
streams=$(count "$tmp/watch.out" '^event=created')
[ "$streams" -ge 4 ] && ok "$streams streams over the run" || fail "only $streams streams"

# Compaction: a watch from before the compacted revision says so.
rev=$(timeout 10 "$ET" -e "$E" put /w/last x | sed -n 's/.*rev=\([0-9]*\).*/\1/p')
if [ -n "$rev" ] && ETCDCTL_API=3 timeout 10 etcdctl --endpoints="$E" compaction "$rev" >/dev/null 2>&1; then
	out=$(timeout 20 "$ET" -e "$E" -t 500 watch /w/ prefix 2 2>&1)
	crc=$?
	[ $crc = 0 ] && echo "$out" | grep -q "event=compacted compact_revision=$rev" &&
	    ok "watch from a compacted revision: compacted, oldest kept $rev" ||
	    fail "compaction: $out"
else
	fail "could not compact at '$rev'"
fi

[ $failures = 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "all ok"
