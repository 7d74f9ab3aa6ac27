#!/bin/bash
# test_quorum.sh - the quorum of vantage points (quorum = majority): three
# failoverd members whose probes leave from 127.0.0.11, .12 and .13 ([controller]
# source_address), one etcd, named, and an app1 web head that fails the
# requests of chosen client addresses only (webhead DIR/fail.ADDR).
#
#   1. the leader alone sees app1 down: no switch; gate no_quorum recorded
#      once, naming it as the one that sees app1 down.
#   2. one follower alone sees it down: still no switch, no_quorum names it.
#   3. that follower dies while it is the only one seeing app1 down: its
#      verdict vanishes with its lease, the hold clears, nothing switches.
#   4. two members (the followers, not the leader) see it down: the switch
#      runs once, and its history names the two.  failoverctl cluster,
#      GET /v1/cluster and /metrics show each member's verdicts.
#   5. a reload of the leader keeps every member's verdicts.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
command -v etcd >/dev/null || { echo "no etcd (make deps)"; exit 77; }
. "$TOP/tests/lib/fo.sh"
. "$TOP/tests/lib/etcd.sh"
. "$TOP/tests/lib/cluster.sh"

# One etcd member is enough: the quorum here is failoverd's members'.
CL_API=1 cl_quorum_world 1
mark() {	# the leader's log from now on: since REGEX
	MARK=$(wc -l <"$FO/m$L.log")
}
since() {	# REGEX: the leader's log has it after the mark
	tail -n +$((MARK + 1)) "$FO/m$L.log" | grep -Eq -- "$1"
}

cl_start 1
cl_start 2
cl_start 3
fo_wait 15 cl_leader || cl_fail "nobody leads"
L=$(cl_leader)
fo_wait 5 fo_dig_is "$W" CNAME app1.example.net. || cl_fail "never published app1"
# The leader hears all three on both stacks before anything is tried.
fo_wait 15 grep -Eq 'event=quorum_change stack=app1 .*to=up .* up=m1,m2,m3 ' "$FO/m$L.log" ||
    cl_fail "m$L never saw app1 up by all three"
fo_wait 15 grep -Eq 'event=quorum_change stack=app2 .*to=up .* up=m1,m2,m3 ' "$FO/m$L.log" ||
    cl_fail "m$L never saw app2 up by all three"
F1=$(( L % 3 + 1 )); F2=$(( (L + 1) % 3 + 1 ))
echo "leader m$L; followers m$F1 m$F2"

# --- 1. the leader alone sees app1 down ------------------------------
cl_sees "$L"
fo_wait 10 grep -q "event=health_change stack=app1 from=up to=down" "$FO/m$L.log" ||
    cl_fail "m$L never saw app1 down"
fo_wait 5 grep -Eq "event=gate_held group=www reason=no_quorum .*stack=app1 .*seen_down=m$L " "$FO/m$L.log" ||
    cl_fail "no gate no_quorum naming m$L"
sleep 1.5
[ "$(cl_switches)" = 0 ] || cl_fail "switched on the leader's view alone"
fo_dig_is "$W" CNAME app1.example.net. || cl_fail "record moved"
[ "$(grep -c 'reason=no_quorum' "$FO/m$L.log")" = 1 ] || cl_fail "no_quorum recorded more than once"
for i in $F1 $F2; do
	grep -q "event=health_change stack=app1 from=up to=down" "$FO/m$i.log" &&
	    cl_fail "m$i saw app1 down: its requests should not fail"
done
# failoverctl cluster shows each member's verdicts and the quorum's view.
"$FAILOVERCTL" -c "$FO/m$F1.conf" cluster >"$FO/cluster.txt" 2>&1 || cl_fail "failoverctl cluster: $(cat "$FO/cluster.txt")"
grep -A1 "^  m$L " "$FO/cluster.txt" | grep -Eq 'verdicts: .*app1=down\(status\)' ||
    cl_fail "failoverctl cluster: no app1=down for m$L: $(cat "$FO/cluster.txt")"
grep -A1 "^  m$F1 " "$FO/cluster.txt" | grep -Eq 'verdicts: .*app1=up' ||
    cl_fail "failoverctl cluster: no app1=up for m$F1: $(cat "$FO/cluster.txt")"
grep -Eq "^  app1 +decision=up quorum=majority required=2 live=3 down=m$L " "$FO/cluster.txt" ||
    cl_fail "failoverctl cluster: no quorum line for app1: $(cat "$FO/cluster.txt")"
"$FAILOVERCTL" -c "$FO/m$F1.conf" cluster --json >"$FO/cluster.json" 2>&1 || cl_fail "failoverctl cluster --json"
jq -e --arg m "m$L" '.members[] | select(.member == $m) | .verdicts.app1.view == "down"' \
    "$FO/cluster.json" >/dev/null || cl_fail "cluster --json: $(cat "$FO/cluster.json")"
# GET /v1/cluster on a follower has every member's verdicts; /metrics counts them.
eval "PF=\$CL_PORT_$F1"
curl -sf --max-time 2 "http://127.0.0.1:$PF/v1/cluster" >"$FO/v1cluster.json" || cl_fail "GET /v1/cluster"
jq -e --arg l "m$L" --arg f "m$F2" '.verdicts.quorum == "majority" and
    .verdicts.stacks.app1.decision == "up" and .verdicts.stacks.app1.live == 3 and
    .verdicts.stacks.app1.members[$l].view == "down" and
    .verdicts.stacks.app1.members[$l].reason == "status" and
    .verdicts.stacks.app1.members[$f].view == "up"' "$FO/v1cluster.json" >/dev/null ||
    cl_fail "GET /v1/cluster: $(jq -c .verdicts "$FO/v1cluster.json")"
# The dashboard shows them under each stack's health (in a real browser,
# when chromium, chromedriver and Selenium are installed).
if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
	timeout -k 5 90 /usr/bin/python3 "$TOP/tests/integration/dash_quorum.py" \
	    "http://127.0.0.1:$PF" app1 "^quorum up \(2 of 3 needed\): .*m$L down \(status\)" >"$FO/dash.out" 2>&1
	rc=$?
	[ $rc = 0 ] || [ $rc = 77 ] || cl_fail "dashboard: $(tail -3 "$FO/dash.out")"
fi
curl -sf --max-time 2 "http://127.0.0.1:$PF/metrics" >"$FO/metrics.txt" || cl_fail "GET /metrics"
grep -q '^failoverd_quorum_members{stack="app1",view="down"} 1$' "$FO/metrics.txt" &&
    grep -q '^failoverd_quorum_members{stack="app1",view="up"} 2$' "$FO/metrics.txt" &&
    grep -q '^failoverd_quorum_decision{stack="app1",decision="up"} 1$' "$FO/metrics.txt" ||
    cl_fail "metrics: $(grep quorum "$FO/metrics.txt")"

# --- 2. one follower alone sees it down -------------------------------
cl_unsees "$L"
fo_wait 10 grep -q "event=hold_cleared group=www reason=no_quorum" "$FO/m$L.log" ||
    cl_fail "the hold did not clear once m$L saw app1 up again"
cl_sees "$F1"
fo_wait 10 grep -Eq "event=gate_held group=www reason=no_quorum .*seen_down=m$F1 " "$FO/m$L.log" ||
    cl_fail "no gate no_quorum naming m$F1"
sleep 1.5
[ "$(cl_switches)" = 0 ] || cl_fail "switched on one follower's view"

# --- 3. that follower dies: its verdict goes with its lease --------------
mark
cl_reap "$F1"
fo_wait $(( CL_TTL + 8 )) since "event=hold_cleared group=www reason=no_quorum" ||
    cl_fail "m$F1's verdict did not vanish with it"
sleep 1
[ "$(cl_switches)" = 0 ] || cl_fail "switched after m$F1 died"
fo_dig_is "$W" CNAME app1.example.net. || cl_fail "record moved"
cl_unsees "$F1"
mark
cl_start "$F1"
fo_wait 15 since 'event=quorum_change stack=app1 .*to=up .* up=m1,m2,m3 ' ||
    cl_fail "m$F1 back not heard"

# --- 4. two members see it down: the switch runs, once ------------------
: >"$FO/hooks.log"
cl_sees "$F1"
cl_sees "$F2"
fo_wait 15 fo_dig_is "$W" A 127.0.0.2 || cl_fail "no switch with two of three seeing app1 down"
fo_wait 5 grep -q '^maintenance_off app2' "$FO/hooks.log" || cl_fail "no maintenance_off"
sleep 1
[ "$(cl_switches)" = 1 ] || cl_fail "$(cl_switches) switches"
[ "$(grep -c '^promote' "$FO/hooks.log")" = 1 ] || cl_fail "promote ran $(grep -c '^promote' "$FO/hooks.log") times"
want=$(printf 'm%s\n' "$F1" "$F2" | sort | tr '\n' , | sed 's/,$//')
grep -Eq "event=switch_started group=www .*seen_down=$want( |$)" "$FO/m$L.log" ||
    cl_fail "switch_started does not name $want: $(grep 'event=switch_started' "$FO/m$L.log")"
"$FAILOVERCTL" -c "$FO/m$L.conf" history www --json >"$FO/history.json" 2>&1 ||
    cl_fail "failoverctl history: $(cat "$FO/history.json")"
jq -e --arg w "$want" '[.events[] | select(.event == "switch_started" and .data.seen_down == $w)] | length == 1' \
    "$FO/history.json" >/dev/null || cl_fail "the history does not name $want: $(grep -o '"switch_started[^}]*' "$FO/history.json")"

# --- 5. a reload of the leader keeps every member's verdicts -------------
mark
cl_kill "$L" HUP
fo_wait 5 since 'event=reloaded' || cl_fail "m$L did not reload"
sleep 1.5
since 'event=quorum_change' && cl_fail "the reload changed the quorum's view: $(tail -n +$((MARK + 1)) "$FO/m$L.log" | grep quorum_change)"
eval "PL=\$CL_PORT_$L"
curl -sf --max-time 2 "http://127.0.0.1:$PL/v1/cluster" >"$FO/v1cluster.json" || cl_fail "GET /v1/cluster on m$L"
jq -e '.verdicts.stacks.app1.live == 3 and (.verdicts.stacks.app1.members | length) == 3 and
    .verdicts.stacks.app1.decision == "down"' "$FO/v1cluster.json" >/dev/null ||
    cl_fail "after the reload: $(jq -c .verdicts "$FO/v1cluster.json")"
echo ok
