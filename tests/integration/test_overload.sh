#!/bin/bash
# test_overload.sh - a controller too busy to look is not a web head too slow to answer
# (probes/probe.c, "Late").  libcurl fails a transfer whose deadline has
# passed before it reads its socket, so a loop that looks late - stopped,
# or more checks due than a core can run - turned answers waiting unread
# into timeouts: at 20,000 checks a second on one core the daemon fell
# 300 ms behind and started 1,756 switches of healthy groups.
#
# app1 answers every check 250 ms after its request (timeout 1 s, fall 1:
# one counted timeout is a switch).  Four times, just after app1 has read a
# request, failoverd is stopped (SIGSTOP) for 1.5 s and continued: the
# check in flight ends 500 ms past its timeout.  It must be a local_fault
# that says the controller looked late, never a failure: app1 stays up, no
# switch starts, the record stays on app1.  Then app1 really stops
# answering (its port refuses): that is still seen, and the group fails
# over.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/fo.sh"

fo_init
fo_webhead app1 0 "-D 250 -v"
fo_webhead app2
fo_maint app2 on
fo_hooks
FO_TIMEOUT=1s FO_FALL=1 FO_INTERVAL=300ms fo_conf
"$FAILOVERD" -t -c "$FO/failoverd.conf" >/dev/null ||
    fail "config check: $("$FAILOVERD" -t -c "$FO/failoverd.conf" 2>&1)"
W=www.$NAMED_ZONE
fo_start
fo_wait 8 fo_dig_is "$W" CNAME app1.example.net. || fail "never published app1"
fo_wait 8 fo_log_has 'event=health_change stack=app1 from=unknown to=up' || fail "app1 never up"

reqs() { grep -c '^request ' "$FO/wh-app1.out"; }
more() { [ "$(reqs)" -gt "$1" ]; }
for k in 1 2 3 4; do
	r0=$(reqs)
	fo_wait 5 more "$r0" || fail "no check of app1 (stop $k)"
	kill -STOP "$FO_PID"
	sleep 1.5
	kill -CONT "$FO_PID"
	sleep 0.6
done
sleep 1
n=$(fo_log_count 'event=local_fault stack=app1 .*the controller looked [0-9]+ ms after the 1000 ms timeout')
echo "late timeouts not counted: $n of 4 stops"
[ "$n" -ge 1 ] || fail "no late timeout was reported as the controller's: $(grep -E 'stack=app1' "$FO/failoverd.log" | grep -vE 'event=probe ' | tail -3)"
fo_log_has 'event=health_suspect stack=app1' && fail "app1 called suspect for the controller's own stop: $(grep 'event=health_suspect stack=app1' "$FO/failoverd.log" | head -1)"
fo_log_has 'event=health_change stack=app1 from=up' && fail "app1 left up"
fo_log_has 'event=switch_started' && fail "a switch started for a healthy web head"
fo_dig_is "$W" CNAME app1.example.net. || fail "the record left app1"

echo "== app1 really gone: still detected"
fo_webhead_stop app1
fo_maint app2 off
fo_wait 10 fo_log_has 'event=health_change stack=app1 from=up to=down' || fail "app1 never down after it stopped"
fo_wait 10 fo_dig_is "$W" A 127.0.0.2 || fail "never flipped to app2"
fo_stop >/dev/null || fail "failoverd did not stop cleanly"
echo "PASS"
exit 0
