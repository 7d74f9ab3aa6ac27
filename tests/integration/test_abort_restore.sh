#!/bin/bash
# An aborted sequence leaves service as it found it, and a stop never
# counts an attempt that did not run:
#  - a manual switch whose promote fails after maintenance_on succeeded
#    runs app1's maintenance_off hook as phase restore (FAILOVER_PHASE=
#    restore, FAILOVER_STACK=app1): app1 serves again, and failoverctl
#    says what happened;
#  - a kill -9 inside restore resumes it (attempt 2);
#  - restore_on_abort = no leaves app1 in maintenance and says so;
#  - a SIGTERM while a hook runs journals the phase's end; the restart
#    runs the next phase as FAILOVER_ATTEMPT=1, not 2.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/fo.sh"

C=("$FAILOVERCTL" -c "$FO/failoverd.conf")
app1_serves() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$WH_PORT_app1/health" | grep -qx 200; }
reset_world() {
	fo_stop || fail "stop"
	fo_reset_state
	rm -rf "$FO/hooks/"fail.* "$FO/hooks/"slow.*
	: >"$FO/hooks.log"
	: >"$FO/failoverd.log"
	fo_maint_reset
	fo_start
	fo_wait 10 fo_dig_is "$W" CNAME app1.example.net. || fail "reset to app1"
	fo_wait 5 fo_log_has 'event=health_change stack=app2 from=unknown to=up' || fail "app2 never up"
}

fo_world

echo "== promote fails: restore runs maintenance_off on app1"
touch "$FO/hooks/fail.promote"
OUT=$("${C[@]}" switch www --yes 2>&1 </dev/null)
rc=$?
[ $rc = 1 ] || fail "failed switch exited $rc: $OUT"
echo "$OUT"
grep -q "^restore app1 from=app1 to=app2 .*attempt=1 " "$FO/hooks.log" || fail "no restore run on app1"
grep -q "^FAILOVER_PHASE=restore$" "$FO/env.restore" || fail "FAILOVER_PHASE is not restore"
grep -q "^FAILOVER_STACK=app1$" "$FO/env.restore" || fail "FAILOVER_STACK is not app1"
grep -q "args=off app1$" <(grep '^restore ' "$FO/hooks.log") || fail "restore did not run app1's maintenance_off"
app1_serves || fail "app1 is still in maintenance after the restore"
echo "$OUT" | grep -q "restore" || fail "failoverctl did not say that it restored app1"
echo "$OUT" | grep -q "out of maintenance" || fail "failoverctl did not say app1 is out of maintenance"
fo_log_has 'event=phase_started .*phase=restore stack=app1 attempt=1' || fail "restore not journaled"
fo_log_has 'event=switch_failed .*phase=promote .*restore=ok' || fail "switch_failed does not carry restore=ok"
fo_dig_is "$W" CNAME app1.example.net. || fail "the record moved"
[ "$("${C[@]}" status www --json | jq -r .status)" = failed ] || fail "group not failed"

echo "== kill -9 inside restore: resumed as attempt 2"
reset_world
touch "$FO/hooks/fail.promote"
echo 3 >"$FO/hooks/slow.restore"
"${C[@]}" switch www --yes --no-wait >/dev/null 2>&1 </dev/null || fail "switch request"
fo_wait 10 grep -q "^restore " "$FO/hooks.log" || fail "restore never started"
fo_kill9
rm -f "$FO/hooks/slow.restore"
fo_start
fo_wait 10 fo_log_has 'event=switch_failed .*restore=ok' || fail "restore not resumed"
grep -q "^restore app1 .*attempt=2 " "$FO/hooks.log" || fail "restore attempt 2 missing"
[ "$(grep -c '^promote ' "$FO/hooks.log")" = 1 ] || fail "promote ran again"
app1_serves || fail "app1 still in maintenance after the resumed restore"

echo "== restore_on_abort = no: app1 left in maintenance, and said so"
fo_stop
FO_GROUP_EXTRA="restore_on_abort = no" fo_conf
"$FAILOVERD" -t -c "$FO/failoverd.conf" >/dev/null || fail "restore_on_abort refused: $("$FAILOVERD" -t -c "$FO/failoverd.conf" 2>&1)"
reset_world
touch "$FO/hooks/fail.promote"
OUT=$("${C[@]}" switch www --yes 2>&1 </dev/null)
[ $? = 1 ] || fail "failed switch did not exit 1: $OUT"
echo "$OUT"
grep -q "^restore " "$FO/hooks.log" && fail "restore ran with restore_on_abort = no"
app1_serves && fail "app1 serves although it was left in maintenance"
echo "$OUT" | grep -q "maintenance" || fail "failoverctl did not say app1 is in maintenance"
echo "$OUT" | grep -q "traffic stays on app1;" && fail "failoverctl claims traffic stays on app1 without more"
fo_log_has 'event=switch_failed .*restore=off' || fail "switch_failed does not carry restore=off"

echo "== SIGTERM inside promote: the next phase runs once, as attempt 1"
fo_stop
fo_conf
reset_world
echo 2 >"$FO/hooks/slow.promote"
fo_webhead_stop app1
fo_wait 10 grep -q "^promote " "$FO/hooks.log" || fail "promote never started"
fo_stop || fail "stop"
fo_log_has 'event=phase_finished .*phase=promote' || fail "promote's end not journaled at stop"
grep -q "^maintenance_off " "$FO/hooks.log" && fail "maintenance_off ran while stopping"
rm -f "$FO/hooks/slow.promote"
fo_start
fo_wait 10 fo_dig_is "$W" A 127.0.0.2 || fail "no flip after restart"
[ "$(grep -c '^maintenance_off ' "$FO/hooks.log")" = 1 ] || fail "maintenance_off ran $(grep -c '^maintenance_off ' "$FO/hooks.log") times"
grep -q "^maintenance_off app2 .*attempt=1 " "$FO/hooks.log" || fail "maintenance_off ran as $(grep '^maintenance_off ' "$FO/hooks.log")"
[ "$(grep -c '^promote ' "$FO/hooks.log")" = 1 ] || fail "promote ran again"
echo ok
