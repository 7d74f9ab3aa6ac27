#!/bin/bash
# Failure policies and gates, end to end:
#  - flapping faster than `fall` does not switch;
#  - both stacks down: no switch, the gate's reason recorded;
#  - a failed promote leaves the record unchanged, the group failed, and no
#    further automatic attempt;
#  - a hook that hangs is killed at hook_timeout, its whole process group;
#  - a failed maintenance_on does not stop the sequence.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/fo.sh"

reset_world() {
	fo_stop >/dev/null 2>&1
	fo_reset_state
	rm -rf "$FO/hooks/"fail.* "$FO/hooks/"hang.* "$FO/hooks/"slow.*
	: >"$FO/hooks.log"
	: >"$FO/failoverd.log"
	[ -n "${WH_PID[app1]:-}" ] || fo_webhead app1 "$WH_PORT_app1"
	[ -n "${WH_PID[app2]:-}" ] || fo_webhead app2 "$WH_PORT_app2"
	rm -f "$FO/wh-app1/fail"
	fo_maint_reset
	fo_conf
	fo_start
	fo_wait 10 fo_dig_is "$W" CNAME app1.example.net. || fail "reset to app1"
	fo_wait 5 fo_log_has 'event=health_change stack=app2 from=unknown to=up' || fail "app2 never up"
}

FO_HOOK_TIMEOUT=1s
fo_world

echo "== flapping faster than fall"
touch "$FO/wh-app1/flap"
sleep 2
rm -f "$FO/wh-app1/flap"
fo_log_has 'event=switch_started' && fail "flapping caused a switch"
fo_dig_is "$W" CNAME app1.example.net. || fail "record moved while flapping"
fo_log_has 'event=ttl_lowered' || fail "suspect did not lower the TTL"
fo_wait 5 fo_log_has 'event=ttl_restored' || fail "TTL not restored"

echo "== both stacks down"
fo_webhead_stop app2
fo_wait 5 fo_log_has 'event=health_change stack=app2 from=up to=down' || fail "app2 not down"
fo_webhead_stop app1
fo_wait 5 fo_log_has 'event=health_change stack=app1 from=up to=down' || fail "app1 not down"
fo_wait 5 fo_log_has 'event=gate_held .*reason=(standby_not_up|isolated)' || fail "no gate reason recorded"
sleep 0.5
fo_log_has 'event=switch_started' && fail "switched with both stacks down"
[ -s "$FO/hooks.log" ] && fail "hooks ran with both stacks down"

echo "== promote fails"
reset_world
touch "$FO/hooks/fail.promote"
fo_webhead_stop app1
fo_wait 10 fo_log_has 'event=switch_failed' || fail "no switch_failed"
fo_dig_is "$W" CNAME app1.example.net. || fail "record changed after a failed promote"
grep -q '^maintenance_off' "$FO/hooks.log" && fail "sequence went on after promote failed"
fo_log_has 'event=hook_output .*phase=promote stack=app2 id=www-[0-9]+ stream=stderr line="failing on purpose"' || fail "hook stderr not logged"
sleep 1.5
[ "$(grep -c '^promote' "$FO/hooks.log")" = 1 ] || fail "automatic retry after failed"
fo_log_has 'event=gate_held .*reason=failed' || true

echo "== hook hangs"
reset_world
touch "$FO/hooks/hang.replication_off"
fo_webhead_stop app1
fo_wait 10 fo_log_has 'event=hook_exited .*phase=replication_off .*outcome=timeout' || fail "hang not timed out"
fo_wait 5 fo_log_has 'event=switch_failed' || fail "timeout did not fail the switch"
# The hook's own sleep child is gone too: nothing of it is left.
sleep 0.3
pgrep -f "sleep 1000" >/dev/null && {
	for p in $(pgrep -f "sleep 1000"); do
		grep -q "$FO" /proc/$p/environ 2>/dev/null && fail "hook's child survived"
	done
}
fo_dig_is "$W" CNAME app1.example.net. || fail "record changed after a hung hook"

echo "== maintenance_on fails, the sequence continues"
reset_world
touch "$FO/hooks/fail.maintenance_on"
fo_webhead_stop app1
fo_wait 10 fo_dig_is "$W" A 127.0.0.2 || fail "no flip after a failed maintenance_on"
grep -q '^maintenance_off' "$FO/hooks.log" || fail "sequence did not go on"

echo "== hold_down holds a second switch"
reset_world
fo_webhead_stop app1
fo_wait 10 fo_dig_is "$W" A 127.0.0.2 || fail "no first switch"
fo_webhead app1 "$WH_PORT_app1"
fo_wait 5 fo_log_has 'event=health_change stack=app1 from=down to=up' || fail "app1 not back"
"$FAILOVERCTL" -c "$FO/failoverd.conf" rearm www || fail "rearm"
fo_wait 5 fo_log_has 'event=rearmed|event=cmd_applied.*rearm|cmd=rearm' || fail "rearm not applied"
fo_webhead_stop app2
fo_wait 10 fo_log_has 'event=gate_held .*reason=hold_down' || fail "hold_down did not hold"
sleep 0.5
[ "$(fo_log_count 'event=switch_started')" = 1 ] || fail "a second switch inside hold_down"
fo_dig_is "$W" A 127.0.0.2 || fail "record moved inside hold_down"

echo "== --paused"
fo_stop >/dev/null
fo_reset_state
fo_webhead app2 "$WH_PORT_app2"
fo_maint_reset
: >"$FO/failoverd.log"
: >"$FO/hooks.log"
fo_start --paused
fo_wait 10 fo_dig_is "$W" CNAME app1.example.net. || fail "paused daemon did not publish"
fo_wait 5 fo_log_has 'event=health_change stack=app2 from=unknown to=up' || fail "app2 never up"
fo_webhead_stop app1
fo_wait 10 fo_log_has 'event=gate_held .*reason=paused' || fail "not held by the pause"
sleep 0.5
fo_log_has 'event=switch_started' && fail "switched while paused"
"$FAILOVERCTL" -c "$FO/failoverd.conf" resume www || fail "resume"
fo_wait 10 fo_dig_is "$W" A 127.0.0.2 || fail "no switch after resume"
fo_stop || fail "stop"
echo ok
