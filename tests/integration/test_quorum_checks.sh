#!/bin/bash
# test_quorum_checks.sh - a member's verdict counts in the quorum only if
# it comes from the same check (issue 15): three members probing app1 from
# 127.0.0.11..13 (test_quorum.sh's world), m3's [stack app1] asking for a
# body app1 never sends, so m3 sees app1 down by a check of its own.
#   - m3 does not lead (config_mismatch) but publishes its verdicts; the
#     leader says verdict_check_differs once and counts m3 as unknown
#     (failoverctl cluster --json: check_differs);
#   - one member of the same check sees app1 down, and so does m3: that
#     is no quorum (without the check's digest it was two of three, and
#     the switch ran);
#   - both members of the same check see app1 down: the switch runs, once,
#     and its history names those two, not m3.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
command -v etcd >/dev/null || { echo "no etcd (make deps)"; exit 77; }
command -v jq >/dev/null || { echo "no jq"; exit 77; }
. "$TOP/tests/lib/fo.sh"
. "$TOP/tests/lib/etcd.sh"
. "$TOP/tests/lib/cluster.sh"

cl_quorum_world 1
# m3 checks app1 by another rule: the body must say what it never says.
sed -i '/^\[stack app1\]$/a expect_body = never-this-body' "$FO/m3.conf"
grep -q '^expect_body = never-this-body' "$FO/m3.conf" || cl_fail "m3.conf not edited"
"$FAILOVERD" -t -c "$FO/m3.conf" >/dev/null 2>&1 || cl_fail "m3.conf: $("$FAILOVERD" -t -c "$FO/m3.conf" 2>&1)"

cl_start 1
fo_wait 15 _cl_leads 1 || cl_fail "m1 does not lead"
cl_start 2
cl_start 3
L=1 F=2
fo_wait 5 fo_dig_is "$W" CNAME app1.example.net. || cl_fail "never published app1"
fo_wait 10 grep -q 'event=config_mismatch member=m3' "$FO/m3.log" || cl_fail "m3 does not say config_mismatch"
fo_wait 10 grep -q 'event=health_change stack=app1 from=unknown to=down' "$FO/m3.log" ||
    cl_fail "m3 never saw app1 down by its check"
fo_wait 10 grep -q 'event=verdict_check_differs member=m3 stack=app1 ' "$FO/m$L.log" ||
    cl_fail "m$L did not see m3's check differ"
[ "$(grep -c 'event=verdict_check_differs member=m3 stack=app1 ' "$FO/m$L.log")" = 1 ] ||
    cl_fail "verdict_check_differs said more than once"
grep -q 'event=verdict_check_differs member=m3 stack=app2 ' "$FO/m$L.log" &&
    cl_fail "m3's app2 check is the same, but it was said to differ"
fo_wait 10 grep -Eq 'event=quorum_change stack=app1 .*to=up .* up=m1,m2 ' "$FO/m$L.log" ||
    cl_fail "m$L never saw app1 up by m1 and m2"
"$FAILOVERCTL" -c "$FO/m$L.conf" cluster --json >"$FO/cluster.json" 2>&1 || cl_fail "failoverctl cluster: $(cat "$FO/cluster.json")"
jq -e '(.members[] | select(.member == "m3") | .verdicts.app1 | .check_differs == true and .view == "down") and (.quorum.stacks.app1 | test("down=- up=m1,m2 unknown=m3"))' \
    "$FO/cluster.json" >/dev/null || cl_fail "cluster --json does not show m3's check differing: $(cat "$FO/cluster.json")"
: >"$FO/hooks.log"

# One of the same check and m3 see app1 down: no quorum.
cl_sees "$F"
fo_wait 10 grep -q 'event=health_change stack=app1 from=up to=down' "$FO/m$F.log" ||
    cl_fail "m$F never saw app1 down"
fo_wait 10 grep -q 'event=gate_held .*reason=no_quorum' "$FO/m$L.log" ||
    cl_fail "m$L recorded no no_quorum"
sleep 2
[ "$(cl_switches)" = 0 ] || cl_fail "a switch ran on m$F's view and a verdict of another check"
fo_dig_is "$W" CNAME app1.example.net. || cl_fail "the record moved: $(fo_dig "$W" CNAME)"
echo "m$F and m3 (another check) see app1 down: no quorum, no switch"

# Both of the same check: the switch runs, once, naming them.
cl_sees "$L"
fo_wait 15 fo_dig_is "$W" A 127.0.0.2 || cl_fail "no switch with m1 and m2 seeing app1 down"
fo_wait 5 grep -q '^maintenance_off app2' "$FO/hooks.log" || cl_fail "no maintenance_off"
sleep 1
[ "$(cl_switches)" = 1 ] || cl_fail "$(cl_switches) switches"
grep -Eq 'event=switch_started group=www .*seen_down=m1,m2( |$)' "$FO/m$L.log" ||
    cl_fail "switch_started: $(grep 'event=switch_started' "$FO/m$L.log")"
echo "m1 and m2 see app1 down: switched once, seen_down=m1,m2"
echo ok
