#!/bin/bash
# test_quorum_modes.sh - quorum = 1 and quorum = all, as failoverd.conf(5)
# documents them, on the world of test_quorum.sh (three members probing
# from 127.0.0.11..13, app1 failing chosen client addresses only).
#
#   1. quorum = 1: one follower alone sees app1 down: the switch runs,
#      once, and its history names that member.
#   2. quorum = all (a fresh cluster: new prefix, states and record back
#      on app1): two of three see app1 down: no switch, no_quorum names
#      the first of them (recorded once); the third sees it down too: the switch runs, once.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
command -v etcd >/dev/null || { echo "no etcd (make deps)"; exit 77; }
. "$TOP/tests/lib/fo.sh"
. "$TOP/tests/lib/etcd.sh"
. "$TOP/tests/lib/cluster.sh"

start_all() {	# every member's log starts empty; L the leader
	local i
	for i in 1 2 3; do : >"$FO/m$i.log"; cl_start "$i"; done
	fo_wait 15 cl_leader || cl_fail "nobody leads"
	L=$(cl_leader)
	fo_wait 5 fo_dig_is "$W" CNAME app1.example.net. || cl_fail "never published app1"
	fo_wait 15 grep -Eq 'event=quorum_change stack=app1 .*to=up .* up=m1,m2,m3 ' "$FO/m$L.log" ||
	    cl_fail "m$L never saw app1 up by all three"
	fo_wait 15 grep -Eq 'event=quorum_change stack=app2 .*to=up .* up=m1,m2,m3 ' "$FO/m$L.log" ||
	    cl_fail "m$L never saw app2 up by all three"
	F1=$(( L % 3 + 1 )); F2=$(( (L + 1) % 3 + 1 ))
	: >"$FO/hooks.log"
}

names() {	# I...: "mI,mJ" sorted
	printf 'm%s\n' "$@" | sort | tr '\n' , | sed 's/,$//'
}

switched_once() {	# SEEN_DOWN
	fo_wait 15 fo_dig_is "$W" A 127.0.0.2 || cl_fail "no switch"
	fo_wait 5 grep -q '^maintenance_off app2' "$FO/hooks.log" || cl_fail "no maintenance_off"
	sleep 1
	[ "$(cl_switches)" = 1 ] || cl_fail "$(cl_switches) switches"
	grep -Eq "event=switch_started group=www .*seen_down=$1( |$)" "$FO/m$L.log" ||
	    cl_fail "switch_started does not name $1: $(grep 'event=switch_started' "$FO/m$L.log")"
	"$FAILOVERCTL" -c "$FO/m$L.conf" history www --json >"$FO/history.json" 2>&1 ||
	    cl_fail "failoverctl history: $(cat "$FO/history.json")"
	jq -e --arg w "$1" '[.events[] | select(.event == "switch_started" and .data.seen_down == $w)] | length == 1' \
	    "$FO/history.json" >/dev/null || cl_fail "the history does not name $1"
}

# --- 1. quorum = 1 -----------------------------------------------------
CL_EXTRA="quorum = 1" cl_quorum_world 1
start_all
echo "quorum = 1: leader m$L"
cl_sees "$F1"
fo_wait 10 grep -q "event=health_change stack=app1 from=up to=down" "$FO/m$F1.log" ||
    cl_fail "m$F1 never saw app1 down"
switched_once "$(names "$F1")"
grep -q 'reason=no_quorum' "$FO/m$L.log" && cl_fail "no_quorum with quorum = 1"

# --- 2. quorum = all: a fresh cluster ------------------------------------
for i in 1 2 3; do cl_reap "$i"; done
cl_unsees "$F1"
fo_reset_state
for i in 1 2 3; do
	rm -rf "$FO/state$i"
	sed -i -e 's|^quorum = 1$|quorum = all|' -e "s|^prefix = $CL_PREFIX\$|prefix = ${CL_PREFIX%/}-all/|" "$FO/m$i.conf"
	grep -q '^quorum = all$' "$FO/m$i.conf" || cl_fail "m$i.conf: no quorum = all"
done
fo_maint_reset
start_all
echo "quorum = all: leader m$L"
cl_sees "$F1"
cl_sees "$F2"
want=$(names "$F1" "$F2")
# Recorded once, when the first of them saw it; the view names both.
fo_wait 10 grep -Eq "event=gate_held group=www reason=no_quorum .*required=3 live=3 seen_down=m($F1|$F2) " "$FO/m$L.log" ||
    cl_fail "no gate no_quorum"
fo_wait 10 grep -Eq "event=quorum_change stack=app1 .*to=no_quorum .*required=3 live=3 down=$want " "$FO/m$L.log" ||
    cl_fail "the quorum's view does not name $want"
sleep 1.5
[ "$(cl_switches)" = 0 ] || cl_fail "switched with two of three (quorum = all)"
fo_dig_is "$W" CNAME app1.example.net. || cl_fail "record moved"
cl_sees "$L"
switched_once "$(names 1 2 3)"
echo ok
