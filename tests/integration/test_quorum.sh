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
#      runs once, and its history names the two.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
command -v etcd >/dev/null || { echo "no etcd (make deps)"; exit 77; }
. "$TOP/tests/lib/fo.sh"
. "$TOP/tests/lib/etcd.sh"
. "$TOP/tests/lib/cluster.sh"

# One etcd member is enough: the quorum here is failoverd's members'.
etcd_start "$FO/etcd" 1 || cl_fail "etcd did not start"
fo_init
fo_webhead app1
fo_webhead app2
fo_maint app2 on
cl_hooks
W=www.$NAMED_ZONE
for i in 1 2 3; do
	FO_CTL_EXTRA="source_address = 127.0.0.1$i" cl_conf "$i"
done

sees() {	# I: member I's probes of app1 fail (from its source address)
	touch "$FO/wh-app1/fail.127.0.0.1$1"
}
unsees() {
	rm -f "$FO/wh-app1/fail.127.0.0.1$1"
}
logs_have() {	# REGEX: some member's log has it
	cat "$FO"/m[123].log | grep -Eq -- "$1"
}
mark() {	# the leader's log from now on: since REGEX
	MARK=$(wc -l <"$FO/m$L.log")
}
since() {	# REGEX: the leader's log has it after the mark
	tail -n +$((MARK + 1)) "$FO/m$L.log" | grep -Eq -- "$1"
}
switches() {
	cat "$FO"/m[123].log | grep -c 'event=switch_started'
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
sees "$L"
fo_wait 10 grep -q "event=health_change stack=app1 from=up to=down" "$FO/m$L.log" ||
    cl_fail "m$L never saw app1 down"
fo_wait 5 grep -Eq "event=gate_held group=www reason=no_quorum .*stack=app1 .*seen_down=m$L " "$FO/m$L.log" ||
    cl_fail "no gate no_quorum naming m$L"
sleep 1.5
[ "$(switches)" = 0 ] || cl_fail "switched on the leader's view alone"
fo_dig_is "$W" CNAME app1.example.net. || cl_fail "record moved"
[ "$(grep -c 'reason=no_quorum' "$FO/m$L.log")" = 1 ] || cl_fail "no_quorum recorded more than once"
for i in $F1 $F2; do
	grep -q "event=health_change stack=app1 from=up to=down" "$FO/m$i.log" &&
	    cl_fail "m$i saw app1 down: its requests should not fail"
done

# --- 2. one follower alone sees it down -------------------------------
unsees "$L"
fo_wait 10 grep -q "event=hold_cleared group=www reason=no_quorum" "$FO/m$L.log" ||
    cl_fail "the hold did not clear once m$L saw app1 up again"
sees "$F1"
fo_wait 10 grep -Eq "event=gate_held group=www reason=no_quorum .*seen_down=m$F1 " "$FO/m$L.log" ||
    cl_fail "no gate no_quorum naming m$F1"
sleep 1.5
[ "$(switches)" = 0 ] || cl_fail "switched on one follower's view"

# --- 3. that follower dies: its verdict goes with its lease --------------
mark
cl_reap "$F1"
fo_wait $(( CL_TTL + 8 )) since "event=hold_cleared group=www reason=no_quorum" ||
    cl_fail "m$F1's verdict did not vanish with it"
sleep 1
[ "$(switches)" = 0 ] || cl_fail "switched after m$F1 died"
fo_dig_is "$W" CNAME app1.example.net. || cl_fail "record moved"
unsees "$F1"
mark
cl_start "$F1"
fo_wait 15 since 'event=quorum_change stack=app1 .*to=up .* up=m1,m2,m3 ' ||
    cl_fail "m$F1 back not heard"

# --- 4. two members see it down: the switch runs, once ------------------
: >"$FO/hooks.log"
sees "$F1"
sees "$F2"
fo_wait 15 fo_dig_is "$W" A 127.0.0.2 || cl_fail "no switch with two of three seeing app1 down"
fo_wait 5 grep -q '^maintenance_off app2' "$FO/hooks.log" || cl_fail "no maintenance_off"
sleep 1
[ "$(switches)" = 1 ] || cl_fail "$(switches) switches"
[ "$(grep -c '^promote' "$FO/hooks.log")" = 1 ] || cl_fail "promote ran $(grep -c '^promote' "$FO/hooks.log") times"
want=$(printf 'm%s\n' "$F1" "$F2" | sort | tr '\n' , | sed 's/,$//')
grep -Eq "event=switch_started group=www .*seen_down=$want( |$)" "$FO/m$L.log" ||
    cl_fail "switch_started does not name $want: $(grep 'event=switch_started' "$FO/m$L.log")"
"$FAILOVERCTL" -c "$FO/m$L.conf" history www --json >"$FO/history.json" 2>&1 ||
    cl_fail "failoverctl history: $(cat "$FO/history.json")"
jq -e --arg w "$want" '[.events[] | select(.event == "switch_started" and .data.seen_down == $w)] | length == 1' \
    "$FO/history.json" >/dev/null || cl_fail "the history does not name $want: $(grep -o '"switch_started[^}]*' "$FO/history.json")"
echo ok
