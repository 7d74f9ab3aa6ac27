#!/bin/bash
# The daemon's world is built from the committed state, the configuration
# and the published record, alike at start and at reload (DESIGN.md, "What
# failoverd trusts"); issue 10, defects 1, 2, 4, 6 and 7:
#  6  a stack that becomes active in a group added by a reload is probed
#     with the active rules (a 503 is down), not the standby ones;
#  7  a pause set on a group, the group removed and added back by reloads,
#     still holds: the group does not fail over;
#  4  a forced switch requested while stopped runs as one switch after
#     the resume: maintenance_on once, attempt 1, no switch_resumed;
#  2  after a failover to app2, a reload that renames app2 keeps traffic
#     on it (the record's stack), with no silent failback; one that makes
#     the group's backup another stack holds it (record_foreign);
#  1  after a failover to app2, the state lost and failoverd started
#     --paused: the record on app2 is adopted (wait_rearm, state_mismatch),
#     app1 is never published.
#     A record moved by hand to the other stack while running is held
#     (record_moved), not repaired, until a rearm accepts it;
#  4b a switch requested for a group killed in the middle of its switch is
#     refused; the killed phase runs again as attempt 2 of the same switch,
#     no second switch id, switch_resumed interrupted=yes.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/fo.sh"
command -v jq >/dev/null || { echo "jq missing"; exit 77; }

C=("$FAILOVERCTL" -c "$FO/failoverd.conf")
ctl() { "${C[@]}" "$@" </dev/null; }

# Every record www ever had, polled while a step runs (a failback that is
# repaired a moment later is still a failback).
POLL_PID=
poll_start() {
	: >"$FO/records.log"
	( while :; do
		echo "$(fo_dig "$W" CNAME)|$(fo_dig "$W" A)" >>"$FO/records.log"
		sleep 0.05
	done ) &
	POLL_PID=$!
}
poll_stop() {
	[ -n "$POLL_PID" ] && { kill "$POLL_PID" 2>/dev/null; wait "$POLL_PID" 2>/dev/null; }
	POLL_PID=
}
trap 'poll_stop' EXIT
named_trap_add poll_stop 2>/dev/null || true

# WORLD_ALL=1: report each defect and go on (to see every one fail on a
# build without the fixes); by default the first failure ends the test.
FAILED=
bad() {
	if [ -n "${WORLD_ALL:-}" ]; then echo "FAIL (going on): $*"; FAILED=1; else fail "$*"; fi
}

fo_world

echo "== 6: a stack that became active after a reload is probed as active"
FO_TAIL="
[group api]
address = api
primary = app2
backup = app1
ttl = 30s
auto_failover = no
" fo_conf
: >"$FO/failoverd.log"
kill -HUP "$FO_PID"
fo_wait 5 fo_log_has 'event=reloaded' || fail "no reload"
# app2 still answers 503 (maintenance): as api's active stack it is down.
fo_wait 5 fo_log_has 'event=health_change stack=app2 from=up to=down' ||
	bad "app2 active for api but still probed with standby rules (503 is up)"
fo_stop || fail "stop"

echo "== 7: a pause survives the group's removal and return"
rm -rf "$FO/state"
: >"$FO/failoverd.log"
FO_TAIL="
[group www2]
address = www2
primary = app1
backup = app2
ttl = 30s
hold_down = 10m
" fo_conf
cp "$FO/failoverd.conf" "$FO/with-www2.conf"
fo_start
fo_wait 5 fo_log_has 'event=ready' || fail "not ready"
fo_wait 5 fo_dig_is "www2.$NAMED_ZONE" CNAME app1.example.net. || fail "www2 not published"
ctl pause www2 >/dev/null || fail "pause www2"
fo_wait 5 fo_log_has 'event=command group=www2 cmd=pause' || fail "pause not taken"
fo_conf
kill -HUP "$FO_PID"
fo_wait 5 fo_log_has 'event=group_removed group=www2' || fail "www2 not removed"
cp "$FO/with-www2.conf" "$FO/failoverd.conf"
kill -HUP "$FO_PID"
fo_wait 5 fo_log_has 'event=group_added group=www2' || fail "www2 not added back"
[ "$(ctl status www2 --json | jq -r .flags.paused)" = true ] || fail "the store lost www2's pause"
fo_webhead_stop app1
fo_wait 15 fo_log_has 'event=switch_finished group=www ' || fail "www did not fail over"
sleep 1
fo_log_has 'event=switch_started group=www2 ' && bad "www2 was paused and failed over"
fo_dig_is "www2.$NAMED_ZONE" CNAME app1.example.net. || bad "www2's record moved"
fo_stop || fail "stop"

echo "== 4: a forced switch requested while stopped runs once, after the resume"
# www is in wait_rearm on app2 (app1 in maintenance); back to app1.
fo_webhead app1 "$WH_PORT_app1"
fo_conf
: >"$FO/hooks.log"
: >"$FO/failoverd.log"
OUT=$(ctl switch www --to app1 --force --yes --no-wait 2>&1) || fail "switch request refused: $OUT"
echo 2 >"$FO/hooks/slow.maintenance_on"
fo_start
fo_wait 20 fo_log_has 'event=switch_finished group=www ' || fail "the requested switch did not finish"
rm -f "$FO/hooks/slow.maintenance_on"
[ "$(grep -c '^maintenance_on ' "$FO/hooks.log")" = 1 ] || bad "maintenance_on ran $(grep -c '^maintenance_on ' "$FO/hooks.log") times"
grep -q 'attempt=2' "$FO/hooks.log" && bad "a phase ran as attempt 2 for a switch that never ran before"
fo_log_has 'event=switch_resumed' && bad "switch_resumed for a switch that started in this run"
ctl history www --json | jq -e '[.events[] | select(.event == "switch_resumed")] | length == 0' >/dev/null ||
	bad "history says switch_resumed"
fo_dig_is "$W" CNAME app1.example.net. || fail "www not on app1"
# And to app2 by hand, for what follows.
ctl rearm www >/dev/null || fail "rearm"
fo_wait 5 fo_log_has 'event=rearmed group=www' || fail "not rearmed"
fo_wait 5 fo_log_has 'event=health_change stack=app2 from=down to=up' || fail "app2 not up as standby"
OUT=$(ctl switch www --to app2 --yes 2>&1) || fail "switch to app2: $OUT"
fo_wait 10 fo_dig_is "$W" A 127.0.0.2 || fail "www not on app2"

echo "== 2: a reload that renames the active stack keeps traffic on it"
# www is in wait_rearm on app2 now.
: >"$FO/failoverd.log"
sed -i 's/^\[stack app2\]/[stack app3]/; s/^backup = app2/backup = app3/' "$FO/failoverd.conf"
"$FAILOVERD" -t -c "$FO/failoverd.conf" >/dev/null || fail "renamed config: $("$FAILOVERD" -t -c "$FO/failoverd.conf" 2>&1)"
poll_start
kill -HUP "$FO_PID"
fo_wait 5 fo_log_has 'event=reloaded' || fail "no reload"
sleep 3
poll_stop
grep -q 'app1' "$FO/records.log" && bad "the reload published app1: $(grep -m1 app1 "$FO/records.log")"
fo_dig_is "$W" A 127.0.0.2 || bad "www left app2 (now app3)"
fo_log_has 'event=hook_start' && bad "a hook ran on a reload"
[ "$(ctl status www --json | jq -r .active)" = app3 ] || bad "active is $(ctl status www --json | jq -r .active), not app3"

echo "== 2b: a reload that makes the active stack no longer the group's holds"
: >"$FO/failoverd.log"
sed -i 's/^backup = app3/backup = app4/' "$FO/failoverd.conf"
WH_PORT_app4=$WH_PORT_app1 _fo_stack app4 app4.example.net >>"$FO/failoverd.conf"
"$FAILOVERD" -t -c "$FO/failoverd.conf" >/dev/null || fail "app4 config: $("$FAILOVERD" -t -c "$FO/failoverd.conf" 2>&1)"
poll_start
kill -HUP "$FO_PID"
fo_wait 5 fo_log_has 'event=reloaded' || fail "no reload"
fo_wait 5 fo_log_has 'level=error event=record_foreign group=www ' || bad "no record_foreign"
sleep 2
poll_stop
grep -Eq 'app1|app4' "$FO/records.log" && bad "a reload moved www off app3: $(grep -Em1 'app1|app4' "$FO/records.log")"
fo_dig_is "$W" A 127.0.0.2 || bad "www left app3"
fo_log_has 'event=hook_start' && bad "a hook ran on a reload"
fo_stop || fail "stop"

echo "== 1: state lost, started --paused: the record on app2 is adopted"
fo_conf
fo_webhead_stop app1
fo_webhead app1 "$WH_PORT_app1"
rm -rf "$FO/state"
: >"$FO/failoverd.log"
: >"$FO/hooks.log"
poll_start
fo_start --paused
fo_wait 5 fo_log_has 'event=ready' || fail "not ready"
sleep 3
poll_stop
grep -q 'app1' "$FO/records.log" && bad "lost state + --paused published app1: $(grep -m1 app1 "$FO/records.log")"
fo_dig_is "$W" A 127.0.0.2 || bad "www left app2"
fo_log_has 'level=warn.*event=state_mismatch group=www .*record=app2' || fo_log_has 'event=state_mismatch group=www .*record=app2' || bad "no state_mismatch"
[ "$(ctl status www --json | jq -r .status)" = wait_rearm ] || bad "status $(ctl status www --json | jq -r .status), not wait_rearm"
[ "$(ctl status www --json | jq -r .active)" = app2 ] || bad "active is not app2"
[ -s "$FO/hooks.log" ] && bad "a hook ran: $(cat "$FO/hooks.log")"
fo_stop || fail "stop"

echo "== 1b: state lost, started plainly: the same"
rm -rf "$FO/state"
: >"$FO/failoverd.log"
poll_start
fo_start
fo_wait 5 fo_log_has 'event=ready' || fail "not ready"
sleep 3
poll_stop
grep -q 'app1' "$FO/records.log" && bad "lost state published app1"
fo_dig_is "$W" A 127.0.0.2 || bad "www left app2"

echo "== record moved by hand to the other stack: held, not repaired"
# www: wait_rearm on app2.  Someone brings app1 back and points www at it
# by hand.
fo_maint app1 off
: >"$FO/failoverd.log"
nsupdate -k "$NAMED_KEYFILE" <<NSU || fail "nsupdate"
server 127.0.0.1 $NAMED_PORT
zone $NAMED_ZONE
update delete $W A
update delete $W AAAA
update add $W 60 CNAME app1.example.net.
send
NSU
fo_wait 5 fo_log_has 'level=error event=record_moved group=www .*record=app1 active=app2' || bad "no record_moved"
sleep 2.5
fo_log_has 'event=drift group=www' && bad "the moved record was taken for drift"
fo_dig_is "$W" CNAME app1.example.net. || bad "the moved record was 'repaired'"
[ -s "$FO/hooks.log" ] && bad "a hook ran: $(cat "$FO/hooks.log")"
ctl history www --json | jq -e '[.events[] | select(.event == "record_moved")] | length == 1' >/dev/null ||
	bad "record_moved not in the history"
ctl rearm www >/dev/null || fail "rearm"
fo_wait 5 fo_log_has 'event=state_mismatch group=www expected=app2 record=app1' || bad "the rearm did not adopt the record"
fo_wait 5 fo_log_has 'event=rearmed group=www' || bad "not rearmed"
[ "$(ctl status www --json | jq -r .status)" = serving ] || bad "status $(ctl status www --json | jq -r .status) after the rearm"
[ "$(ctl status www --json | jq -r .active)" = app1 ] || bad "active is not app1 after the rearm"
fo_dig_is "$W" CNAME app1.example.net. || bad "www left app1"
fo_stop || fail "stop"

echo "== 4b: a request for a group still switching at start is not a new switch"
fo_maint_reset
: >"$FO/hooks.log"
: >"$FO/failoverd.log"
fo_start
fo_wait 5 fo_log_has 'event=ready' || fail "not ready"
fo_wait 5 fo_log_has 'event=health_change stack=app2 from=unknown to=up' || fail "app2 not up"
echo 30 >"$FO/hooks/slow.maintenance_on"
OUT=$(ctl switch www --to app2 --yes --no-wait 2>&1) || fail "switch: $OUT"
fo_wait 10 grep -q '^maintenance_on ' "$FO/hooks.log" || fail "maintenance_on never started"
fo_kill9
rm -f "$FO/hooks/slow.maintenance_on"
# failoverctl judges with the engine's rule: refused, nothing pending.
OUT=$(ctl switch www --to app2 --force --yes --no-wait 2>&1) && bad "a switch request for a group still switching was accepted: $OUT"
: >"$FO/failoverd.log"
fo_start
fo_wait 20 fo_log_has 'event=switch_finished group=www ' || fail "the switch did not finish"
fo_log_has 'event=switch_started' && bad "a new switch started"
fo_log_has 'event=switch_resumed group=www .*interrupted=yes attempt=1' || bad "no switch_resumed interrupted=yes for the killed phase"
[ "$(sed -n 's/.* id=\([^ ]*\) .*/\1/p' "$FO/hooks.log" | sort -u | wc -l)" = 1 ] || bad "more than one switch id: $(cat "$FO/hooks.log")"
[ "$(grep -c '^maintenance_on .*attempt=2' "$FO/hooks.log")" = 1 ] || bad "maintenance_on not run again once as attempt 2"
fo_stop || fail "stop"
[ -n "$FAILED" ] && exit 1
echo ok
