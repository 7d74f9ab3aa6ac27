#!/bin/bash
# test: alone (put latency is bounded)
# test_etcd_client.sh - cluster/'s etcd client against a real three-member
# etcd (tests/lib/etcd.sh), through tests/integration/etcdtool:
#
#  - keys: put, get, prefix range, delete, binary-safe round trip;
#  - leases: granted ttl, keep-alive past the ttl keeps the key, no
#    renewal lets it go no earlier than ttl after the last renewal was
#    sent, then keep-alive and revoke say not_found; revoke deletes at once;
#  - create-if-absent races: two clients in one process, and two processes,
#    exactly one wins each round and the loser sees the winner;
#  - endpoints: a dead first endpoint is skipped (attempts=2), a frozen
#    (SIGSTOP) one costs one timeout, then the client stays on a live one;
#    endpoints that are not etcd (httpfault: 503, hang, garbage, a broken
#    body; a 200 or 302 that is not the gateway's answer);
#  - two of three members stopped: every put fails with error=unavailable
#    within the bound (endpoints x timeout), none hangs; when they are
#    back, puts succeed again.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
TOOLS=${TOOLS:-$TOP/$BUILD/tests/integration}
ET=$TOOLS/etcdtool
[ -x "$ET" ] || { echo "no $ET (make $BUILD/tests/integration/etcdtool)"; exit 1; }
command -v etcd >/dev/null || { echo "no etcd (make deps)"; exit 77; }

tmp=$(mktemp -d /tmp/test_etcd_client.XXXXXX)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
. "$TOP/tests/lib/etcd.sh"		# its trap runs first, then cleanup

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }

etcd_start "$tmp/etcd" 3 || { echo "etcd did not start"; exit 1; }
E=$ETCD_ENDPOINTS
et() { timeout 60 "$ET" -e "$E" -t 500 "$@"; }

# --- keys -------------------------------------------------------------
out=$(et put /t/a 'one two' && et put /t/b 2 && et put /t0 not-in-prefix && et get /t/ prefix)
echo "$out" | grep -q 'event=kv key="/t/a" value="one two"' &&
    echo "$out" | grep -q 'event=kv key="/t/b" value="2"' &&
    ! echo "$out" | grep -q '/t0' &&
    echo "$out" | grep -q 'event=range count=2' &&
    ok "put, prefix range" || fail "keys: $out"
out=$(et del /t/ prefix; et get /t/ prefix)
echo "$out" | grep -q 'event=del deleted=2' && echo "$out" | grep -q 'event=range count=0' &&
    ok "prefix delete" || fail "delete: $out"
out=$(et get /no/such/key)
echo "$out" | grep -q 'event=range count=0' && ok "absent key: empty range" || fail "absent: $out"

# --- leases -----------------------------------------------------------
out=$(et lease 2 2>&1)
rc=$?
echo "$out" | sed 's/^/    /'
[ $rc = 0 ] && ok "lease grant, keep-alive, expiry, revoke" || fail "lease (rc=$rc)"

# --- create-if-absent races -------------------------------------------
out=$(et race /race 50 2>&1)
rc=$?
echo "$out" | tail -1
[ $rc = 0 ] && echo "$out" | grep -q 'event=race rounds=50' &&
    ok "two clients, 50 rounds: one winner each" || fail "race: $out"
wins=0 losses=0 other=0
for r in $(seq 10); do
	et create "/prace/$r" "p1" >"$tmp/p1.$r" 2>&1 &
	a=$!
	et create "/prace/$r" "p2" >"$tmp/p2.$r" 2>&1 &
	b=$!
	wait $a $b
	w=$(cat "$tmp/p1.$r" "$tmp/p2.$r" | grep -c 'won=1')
	l=$(cat "$tmp/p1.$r" "$tmp/p2.$r" | grep -c 'won=0')
	if [ "$w" = 1 ] && [ "$l" = 1 ]; then
		winner=$(grep -l 'won=1' "$tmp/p1.$r" "$tmp/p2.$r" | sed 's/.*\/\(p[12]\)\..*/\1/')
		grep -q "holder=$winner " "$tmp/p1.$r" "$tmp/p2.$r" && wins=$((wins + 1)) || other=$((other + 1))
	else
		other=$((other + 1))
		cat "$tmp/p1.$r" "$tmp/p2.$r"
	fi
done
[ $other = 0 ] && ok "two processes, 10 rounds: one winner each, the loser names it" ||
    fail "process race: $other bad rounds"

# --- endpoint failover ------------------------------------------------
dead=$(( ${ETCD_URL_1##*:} + 1 ))
while ss -Hlnt "sport = :$dead" | grep -q .; do dead=$((dead + 1)); done
out=$(timeout 30 "$ET" -e "http://127.0.0.1:$dead,$E" -t 500 ops /t/failover 3 10)
echo "$out" | grep -q 'i=0 result=ok attempts=2' &&
    echo "$out" | grep -q 'i=1 result=ok attempts=1' &&
    echo "$out" | grep -q 'i=2 result=ok attempts=1' &&
    ok "dead first endpoint: tried once, then the next one sticks" || fail "failover: $out"

# Freeze a follower, first in the list: the leader frozen would stall
# the others' writes too (an election, not one unresponsive endpoint).
lead=$(etcd_leader_index)
fz=1; [ "$lead" = 1 ] && fz=2
url_of() { local v="ETCD_URL_$1"; echo "${!v}"; }
EF=$(url_of "$fz"); for ((i = 1; i <= 3; i++)); do [ $i = $fz ] || EF="$EF,$(url_of $i)"; done
etcd_signal_member "$fz" STOP
out=$(timeout 30 "$ET" -e "$EF" -t 500 ops /t/frozen 3 10)
etcd_signal_member "$fz" CONT
echo "$out" | sed 's/^/    /'
ms=$(echo "$out" | sed -n 's/.*i=0 result=ok attempts=2 ms=\([0-9]*\).*/\1/p')
if [ -n "$ms" ] && [ "$ms" -ge 400 ] && [ "$ms" -lt 3000 ] &&
    echo "$out" | grep -q 'i=1 result=ok attempts=1'; then
	ok "frozen first endpoint: one timeout (${ms} ms), then sticky"
else
	fail "frozen endpoint: $out"
fi
etcd_wait_health "$fz" 10 || fail "member $fz unhealthy after SIGCONT"

# --- endpoints that are not etcd ------------------------------------
# httpfault: one misbehaving web head per port.  Endpoint-level faults
# (5xx, no answer, broken answers) move on to etcd; an answer that is
# not the gateway's is an error of its own, not retried.
"$TOOLS/httpfault" -T 120 >"$tmp/hf.ports" 2>"$tmp/hf.err" &
pids+=($!)
for ((i = 0; i < 100; i++)); do grep -q '^ready=1' "$tmp/hf.ports" && break; sleep 0.05; done
declare -A HF
while IFS== read -r k v; do HF[$k]=$v; done <"$tmp/hf.ports"
for m in s503:ok:2 hang:ok:2 garbage:ok:2 closemid:ok:2 ok200:protocol:1 redir:protocol:1; do
	mode=${m%%:*} rest=${m#*:} want=${rest%%:*} att=${rest#*:}
	out=$(timeout 30 "$ET" -e "http://127.0.0.1:${HF[$mode]},$E" -t 500 ops /t/fault 1 10 2>&1)
	echo "$out" | grep -q "result=$want attempts=$att " &&
	    ok "first endpoint $mode: $want after $att attempt(s)" || fail "$mode: $out"
done
timeout 30 "$ET" -e "http://127.0.0.1:${HF[hang]},$E" -t 500 watch /t/wfault - 0 1 >"$tmp/wf.out" 2>&1 &
wfpid=$!; pids+=("$wfpid")
for ((i = 0; i < 100; i++)); do grep -q '^event=created' "$tmp/wf.out" && break; sleep 0.05; done
et put /t/wfault x >/dev/null
wait "$wfpid"; rc=$?
[ $rc = 0 ] && grep -q "^event=created endpoint=$ETCD_URL_1" "$tmp/wf.out" &&
    grep -q '^event=watch type=PUT key="/t/wfault"' "$tmp/wf.out" &&
    ok "watch behind a hanging endpoint: made on etcd, event seen" || fail "watch: $(cat "$tmp/wf.out")"

# --- no quorum --------------------------------------------------------
# Put every 200 ms; stop members 2 and 3 (SIGTERM) for ~4 s, start them
# again on their data dirs.
timeout 60 "$ET" -e "$E" -t 500 ops /t/quorum 10000 200 >"$tmp/ops.out" 2>&1 &
opspid=$!; pids+=("$opspid")
sleep 1
etcd_stop_member 2
etcd_stop_member 3
down_at=$(date +%s%N)
sleep 4
etcd_start_member 2
etcd_start_member 3
for i in 2 3; do etcd_wait_health "$i" 20 || fail "member $i did not come back"; done
sleep 2
kill -TERM "$opspid"; wait "$opspid"
sed 's/^/    /' "$tmp/ops.out" | awk 'NR <= 3 || /unavailable/ && ++u <= 6 || /result=ok/ && seen && ++o <= 2 { print } /unavailable/ { seen = 1 }'
nerr=$(grep -c 'result=unavailable' "$tmp/ops.out")
nbad=$(grep 'event=op' "$tmp/ops.out" | grep -vc 'result=ok\|result=unavailable')
# The bound: 3 endpoints x 500 ms, plus scheduling slack.
slow=$(awk '/event=op/ { for (i = 1; i <= NF; i++) if ($i ~ /^ms=/) { split($i, a, "="); if (a[2] > 2500) print } }' "$tmp/ops.out" | wc -l)
last=$(grep 'event=op' "$tmp/ops.out" | tail -3 | grep -c 'result=ok')
[ "$nerr" -ge 3 ] && ok "no quorum: $nerr puts failed with error=unavailable" ||
    fail "no quorum: only $nerr unavailable"
[ "$nbad" = 0 ] && ok "no other error" || fail "$nbad puts failed otherwise"
[ "$slow" = 0 ] && ok "none took longer than 2.5 s" || fail "$slow puts took longer than 2.5 s"
[ "$last" = 3 ] && ok "quorum back: puts succeed again" || fail "after recovery: $(tail -3 "$tmp/ops.out")"
grep 'result=unavailable' "$tmp/ops.out" | head -1 | grep -q 'detail=".*127.0.0.1' &&
    ok "the error names each endpoint's failure" || fail "detail: $(grep -m1 unavailable "$tmp/ops.out")"

[ $failures = 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "all ok"
