#!/bin/bash
# test: alone (detection time bounds)
# Detection on the event, not on the schedule (probes/probe.c, "Events"),
# end to end with named, web heads and the recording hooks; interval 3 s,
# fastinter 100 ms, fall 3.
#  1. app1's web head closes idle kept-alive connections after 500 ms (its
#     keep-alive timeout): each close starts an immediate check that
#     succeeds; never a failure, and at most one extra check per round
#     (no probe loop).
#  2. app1's web head is SIGKILLed just after a check: its idle connection
#     closes at once, the immediate check fails (health_suspect
#     immediate=yes) and the record flips to app2 within 1.5 s, where the
#     schedule alone would not even have checked again for 2.9 s.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/fo.sh"

fo_init
fo_webhead app1 0 "-K 500 -v"
fo_webhead app2
fo_maint app2 on
fo_hooks
FO_CTL_EXTRA="log_level = debug" FO_INTERVAL=3s fo_conf
"$FAILOVERD" -t -c "$FO/failoverd.conf" >/dev/null || fail "config check: $("$FAILOVERD" -t -c "$FO/failoverd.conf" 2>&1)"
W=www.$NAMED_ZONE
fo_start
fo_wait 8 fo_dig_is "$W" CNAME app1.example.net. || fail "never published app1"
fo_wait 8 fo_log_has 'event=health_change stack=app1 from=unknown to=up' || fail "app1 never up"
fo_wait 8 fo_log_has 'event=health_change stack=app2 from=unknown to=up' || fail "app2 never up"

reqs() { grep -c '^request ' "$FO/wh-app1.out"; }

echo "== 1. keep-alive timeout: immediate checks that succeed, no loop"
imm() { grep -c 'event=probe stack=app1 ok=1 .*immediate=1' "$FO/failoverd.log"; }
sleep 1
r0=$(reqs) i0=$(imm)
sleep 9
r1=$(reqs) i1=$(imm)
n=$((r1 - r0)) ni=$((i1 - i0))
# Each immediate check starts a new round: 2 checks per 3.5 s.
echo "app1 served $n checks in 9 s, $ni of them immediate (an idle close each)"
[ "$ni" -ge 2 ] || fail "only $ni immediate checks in 9 s: the idle closes started none"
[ "$n" -le 7 ] || fail "$n checks in 9 s: a probe loop"
fo_log_has 'event=health_suspect stack=app1' && fail "app1 called suspect for closing idle connections"
fo_log_has 'event=health_change stack=app1 from=up' && fail "app1 left up"

echo "== 2. killed just after a check: the flip comes before the next round"
r0=$(reqs)
more() { [ "$(reqs)" -gt "$1" ]; }
fo_wait 5 more "$r0" || fail "no check of app1"
sleep 0.1
t0=$(date +%s%N)
kill -9 "${WH_PID[app1]}"
wait "${WH_PID[app1]}" 2>/dev/null
unset "WH_PID[app1]"
fo_wait 5 fo_dig_is "$W" A 127.0.0.2 || fail "never flipped to app2"
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
echo "kill to flip at named: $ms ms"
fo_log_has 'event=health_suspect stack=app1 .*immediate=yes' ||
    fail "the first failure was not an immediate check: $(grep 'stack=app1' "$FO/failoverd.log" | grep -E 'suspect|health_change' | tail -3)"
[ "$ms" -lt 1500 ] || fail "flip $ms ms after the kill: the schedule's pace, not the event's"
fo_stop >/dev/null || fail "failoverd did not stop cleanly"
echo "PASS"
exit 0
