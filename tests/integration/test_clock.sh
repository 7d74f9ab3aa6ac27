#!/bin/bash
# Deadlines are on the monotonic clock (DESIGN.md, "What failoverd
# trusts"; failoverd(8), Clocks).  The daemon's wall clock is stepped
# through its test switch (FAILOVERD_TEST_CLOCK_FILE: milliseconds added
# to the wall clock), as an NTP step or `date -s` would:
#  - set back an hour while the flip is being retried (named down), the
#    flip still lands seconds after named is back, not an hour later;
#  - set forward an hour after a switch, hold_down still holds an
#    automatic switch back.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/fo.sh"

export FAILOVERD_TEST_CLOCK_FILE=$FO/clock
echo 0 >"$FAILOVERD_TEST_CLOCK_FILE"
C=("$FAILOVERCTL" -c "$FO/failoverd.conf")

fo_world
echo "== wall clock set back an hour while the flip is retried"
echo 0.3 >"$FO/hooks/slow.maintenance_off"
fo_webhead_stop app1
fo_wait 10 fo_log_has 'phase=maintenance_off stack=app2 attempt=1$' || fail "no maintenance_off"
named_stop
fo_wait 10 fo_log_has 'event=dns_failed .*id=' || fail "the flip never failed"
echo -3600000 >"$FAILOVERD_TEST_CLOCK_FILE"
sleep 0.5
named_restart || fail "named restart"
fo_wait 15 fo_dig_is "$W" A 127.0.0.2 || fail "the flip waits for the wall clock"
fo_wait 5 fo_log_has 'event=switch_finished' || fail "switch not finished"
! fo_log_has 'event=switch_finished .*duration_ms=-' || fail "a negative duration was recorded"

echo "== wall clock set forward an hour: hold_down still holds"
# failoverctl reads the real clock: back to it first, or the daemon would
# rightly take the rearm for a request from an hour in the future.
echo 0 >"$FAILOVERD_TEST_CLOCK_FILE"
rm -f "$FO/hooks/slow."*
fo_webhead app1 "$WH_PORT_app1"
fo_maint app1 on
fo_wait 10 fo_log_has 'event=health_change stack=app1 from=down to=up' || fail "app1 never back"
"${C[@]}" rearm www >/dev/null || fail "rearm"
fo_wait 5 fo_log_has 'event=rearmed' || fail "rearm not applied"
echo 3600000 >"$FAILOVERD_TEST_CLOCK_FILE"
sleep 0.3
fo_webhead_stop app2
fo_wait 10 fo_log_has 'event=gate_held .*reason=hold_down' || fail "hold_down did not hold after the clock jumped"
sleep 1
[ "$(grep -c '^maintenance_on ' "$FO/hooks.log")" = 1 ] || fail "a second switch started within hold_down"
echo ok
