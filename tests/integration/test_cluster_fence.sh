#!/bin/bash
# test_cluster_fence.sh - the DNS server fences a deposed leader that does
# not know it is deposed.  m1 runs with the test switch
# FAILOVERD_TEST_STALE_LEADER, which makes it ignore its own validity
# bound and the loss of its lease (as a leader would whose check came just
# before a long freeze); it leads, is frozen (SIGSTOP) until m2 leads and
# has claimed the name with its epoch, and is woken with a switch to do:
# one it took just before the freeze (FAILOVERD_TEST_CLUSTER_DELAY_FILE
# holds it between its take and its apply), whose caller went away with
# it, so that m2 never sees it.
# Its hooks run (nothing local stops it: that is what FAILOVER_EPOCH is
# for), but its flip is refused by named (NXRRSET on the ownership
# TXT), it says event=fenced and steps down: no further phase, nothing
# more sent, and the zone keeps m2's TXT.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
command -v etcd >/dev/null || { echo "no etcd (make deps)"; exit 77; }
. "$TOP/tests/lib/fo.sh"
. "$TOP/tests/lib/etcd.sh"
. "$TOP/tests/lib/cluster.sh"

cl_world
cl_conf 1
cl_conf 2
HOLD=$FO/hold
echo "apply 6000" >"$HOLD"
cl_start 1 FAILOVERD_TEST_STALE_LEADER=1 FAILOVERD_TEST_CLUSTER_DELAY_FILE="$HOLD"
fo_wait 15 _cl_leads 1 || cl_fail "m1 does not lead"
E1=$(cl_epoch 1)
fo_wait 5 fo_dig_is "$W" CNAME app1.example.net. || cl_fail "never published app1"
fo_wait 5 test "$(cl_txt_epoch)" = "$E1" || cl_fail "TXT epoch $(cl_txt_epoch)"
cl_start 2
fo_wait 10 grep -q 'event=cluster_leader member=m2 leader=m1' "$FO/m2.log" || cl_fail "m2 does not follow"
fo_wait 10 grep -q 'event=health_change stack=app2 from=unknown to=up' "$FO/m1.log" || cl_fail "m1: app2 not up"

# m1 takes a switch, and is frozen before it does it; its caller goes.
"$FAILOVERCTL" -c "$FO/m1.conf" switch www --yes --no-wait >/dev/null 2>&1 &
ctl=$!
fo_wait 5 grep -q 'event=cluster_command_taken member=m1 .*cmd=switch' "$FO/m1.log" ||
    cl_fail "m1 did not take the switch"
cl_kill 1 STOP
kill "$ctl" 2>/dev/null; wait "$ctl" 2>/dev/null
"$TOOLS/etcdtool" -e "$ETCD_ENDPOINTS" del /fo-test/commands/ prefix >/dev/null ||
    cl_fail "could not delete the commands"
fo_wait 8 _cl_leads 2 || cl_fail "m2 did not take over"
E2=$(cl_epoch 2)
[ "$E2" -gt "$E1" ] || cl_fail "epoch $E2 not above $E1"
fo_wait 5 grep -q "event=owner_claimed group=www .*epoch=$E2" "$FO/m2.log" || cl_fail "m2 did not claim"
[ "$(cl_txt_epoch)" = "$E2" ] || cl_fail "TXT epoch $(cl_txt_epoch), want $E2"

# The stale leader wakes up with its switch to do.
cl_kill 1 CONT
fo_wait 10 grep -q 'event=fenced member=m1 group=www' "$FO/m1.log" || cl_fail "m1 not fenced"
grep -Eq 'event=(dns_readback group=www .*why=NXRRSET|dns_update_failed group=www .*result=NXRRSET)' "$FO/m1.log" ||
    cl_fail "m1's UPDATE was not refused by the prerequisite"
n1=$(grep -c "epoch=$E1\$" "$FO/hooks.log")
fo_wait 5 grep -q "event=leader_lost member=m1 epoch=$E1 reason=fenced" "$FO/m1.log" || cl_fail "m1 did not step down"
sleep 2
grep -q "dns_updated.*why=flip" "$FO/m1.log" && cl_fail "an UPDATE of m1 was accepted"
[ "$(grep -c "epoch=$E1\$" "$FO/hooks.log")" = "$n1" ] || cl_fail "m1 ran a hook after it was fenced"
grep -A50 'event=fenced' "$FO/m1.log" | grep -q 'event=hook_start' && cl_fail "m1 started a hook after it was fenced"
[ "$(cl_txt_epoch)" = "$E2" ] || cl_fail "TXT epoch $(cl_txt_epoch) after the fence, want $E2"
fo_wait 10 grep -q "event=cluster_leader member=m1 leader=m2 epoch=$E2" "$FO/m1.log" || cl_fail "m1 does not follow m2"
echo ok
