#!/bin/bash
# systemd integration and clean stops: READY/RELOADING/STOPPING/WATCHDOG on
# NOTIFY_SOCKET; SIGTERM in the middle of a hook waits for the hook, journals
# the end of its phase, exits 0; the restart goes on from the next phase.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/fo.sh"

"$TOOLS/notifyrecv" "$FO/notify.sock" 60 >"$FO/notify.out" 2>&1 &
NR=$!
named_trap_add "kill $NR 2>/dev/null; wait $NR 2>/dev/null"
fo_wait 5 grep -q ready=1 "$FO/notify.out" || fail "notifyrecv"

export NOTIFY_SOCKET=$FO/notify.sock WATCHDOG_USEC=300000
fo_world
unset NOTIFY_SOCKET WATCHDOG_USEC
fo_wait 5 grep -q '^msg=READY=1' "$FO/notify.out" || fail "no READY=1"
fo_wait 5 grep -q '^msg=WATCHDOG=1' "$FO/notify.out" || fail "no WATCHDOG=1"
# STATUS= for systemctl status: what the groups do, sent when it changes.
fo_wait 5 grep -q '^msg=STATUS=1 group: 1 serving, 0 switching, 0 waiting for rearm, 0 failed, 0 held$' "$FO/notify.out" ||
	fail "no STATUS=: $(grep STATUS "$FO/notify.out")"
kill -HUP "$FO_PID"
fo_wait 5 grep -q '^msg=RELOADING=1|MONOTONIC_USEC=' "$FO/notify.out" || fail "no RELOADING=1"
[ "$(grep -c '^msg=READY=1' "$FO/notify.out")" -ge 2 ] || fo_wait 5 bash -c "[ \$(grep -c '^msg=READY=1' '$FO/notify.out') -ge 2 ]" || fail "no READY=1 after reload"

echo "== SIGTERM inside a hook"
echo 1.5 >"$FO/hooks/slow.promote"
fo_webhead_stop app1
fo_wait 10 grep -q '^promote ' "$FO/hooks.log" || fail "promote never started"
t0=$(date +%s%N)
kill -TERM "$FO_PID"
wait "$FO_PID"; rc=$?
FO_PID=
t1=$(date +%s%N)
[ $rc = 0 ] || fail "exit status $rc after SIGTERM"
fo_wait 5 grep -q '^msg=STOPPING=1' "$FO/notify.out" || fail "no STOPPING=1"
echo "stopped after $(( (t1 - t0) / 1000000 )) ms (the hook had 1.5 s to run)"
fo_log_has 'event=phase_finished .*phase=promote .*result=ok' || fail "promote's end not journaled before the stop"
fo_log_has 'event=hook_start .*phase=maintenance_off' && fail "a new phase started while stopping"
rm -f "$FO/hooks/slow.promote"
fo_start
fo_wait 10 fo_dig_is "$W" A 127.0.0.2 || fail "no flip after the restart"
[ "$(grep -c '^promote ' "$FO/hooks.log")" = 1 ] || fail "promote ran again after a clean stop"
grep -q '^maintenance_off ' "$FO/hooks.log" || fail "maintenance_off never ran"
fo_stop || fail "stop"
echo ok
