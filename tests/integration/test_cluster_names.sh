#!/bin/bash
# test_cluster_names.sh - a member's name is its own.  Two members of one
# name would share their member record, their verdicts, their commands'
# answers and their hooks' records, so the name is claimed in etcd:
#
#  - a second member started with the name of a live one waits
#    (member_name_taken), takes no part (it never campaigns, publishes no
#    verdict), and after 3 lease_ttls stops with member_duplicate and exit
#    status 1; the first one leads on, undisturbed;
#  - a member killed and started again at once finds its name still on
#    its previous life's lease: it waits for that lease to end, then holds
#    the name again and leads - no false member_duplicate.
#
# Before names were claimed, the second member overwrote the first's
# record and ran beside it under the same name.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
command -v etcd >/dev/null || { echo "no etcd (make deps)"; exit 77; }
. "$TOP/tests/lib/fo.sh"
. "$TOP/tests/lib/etcd.sh"
. "$TOP/tests/lib/cluster.sh"

cl_world 1
cl_conf 1
cl_conf 2
sed -i 's/^member = m2$/member = m1/' "$FO/m2.conf"
grep -q '^member = m1$' "$FO/m2.conf" || cl_fail "m2.conf: no member = m1"

cl_start 1
fo_wait 15 _cl_leads 1 || cl_fail "m1 does not lead"
fo_wait 5 fo_dig_is "$W" CNAME app1.example.net. || cl_fail "never published app1"
E1=$(cl_epoch 1)
ET=("$TOOLS/etcdtool" -e "$ETCD_ENDPOINTS")
# Whose the keys are: "create=N lease=L" of each (the lease is m1's).
kv_owners() {	# KEY [prefix]
	"${ET[@]}" get "$@" | sed -n 's/^event=kv .* create=\([0-9]*\) .* lease=\([0-9]*\)$/create=\1 lease=\2/p'
}
rec0=$(kv_owners /fo-test/members/m1)
[ -n "$rec0" ] || cl_fail "no members/m1 record"
lease1=${rec0##*lease=}
has_verdicts() { "${ET[@]}" get /fo-test/verdicts/m1/ prefix | grep -q '^event=kv'; }
fo_wait 5 has_verdicts || cl_fail "m1 published no verdicts"

echo "== a second member named m1"
t0=$(date +%s%N)
cl_start 2
pid2=${CL_PID[2]}
fo_wait 5 grep -q 'event=member_name_taken member=m1 ' "$FO/m2.log" ||
    cl_fail "the second m1 did not see its name taken: $(tail -5 "$FO/m2.log")"
# 3 lease_ttls of waiting, then a stop: bounded by 3 x 2 s + 4 s.
fo_wait $((3 * CL_TTL + 4)) bash -c "! kill -0 $pid2 2>/dev/null" ||
    cl_fail "the second m1 is still running after $((3 * CL_TTL + 4)) s"
wait "$pid2"
rc=$?
unset "CL_PID[2]"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "second m1: exit $rc after $ms ms"
[ "$rc" = 1 ] || cl_fail "the second m1 exited with $rc, not 1"
grep -q 'level=error event=member_duplicate member=m1 holder_advertise=' "$FO/m2.log" ||
    cl_fail "no member_duplicate error: $(grep -E 'member_|stopp' "$FO/m2.log")"
[ "$ms" -ge $((3 * CL_TTL * 1000)) ] || cl_fail "stopped after $ms ms, before 3 lease_ttls"
grep -q 'event=leader_elected' "$FO/m2.log" && cl_fail "the second m1 was elected"
# Its record and verdicts are still the first m1's: created by it, on its
# lease (the second one's put would have moved them to its own lease).
rec1=$(kv_owners /fo-test/members/m1)
[ "$rec1" = "$rec0" ] || cl_fail "members/m1 changed hands: $rec0 -> $rec1"
others=$(kv_owners /fo-test/verdicts/m1/ prefix | grep -v "lease=$lease1\$")
[ -z "$others" ] || cl_fail "verdicts of m1 on another lease: $others"
_cl_leads 1 || cl_fail "m1 lost its leadership"
[ "$(cl_epoch 1)" = "$E1" ] || cl_fail "m1 was elected again: epoch $(cl_epoch 1), was $E1"
grep -q 'event=member_name_taken' "$FO/m1.log" && cl_fail "the first m1 saw its name taken"

echo "== m1 killed and started again at once"
cl_reap 1
t0=$(date +%s%N)
cl_start 1
fo_wait 5 grep -q 'event=member_name_taken member=m1 ' "$FO/m1.log" ||
    cl_fail "the restarted m1 did not find its old lease"
fo_wait $((2 * CL_TTL + 3)) grep -q 'event=member_name_held member=m1 ' "$FO/m1.log" ||
    cl_fail "the restarted m1 never held its name again: $(grep member_ "$FO/m1.log")"
fo_wait 10 _cl_leads 1 || cl_fail "the restarted m1 does not lead"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "restarted m1 leads again after $ms ms"
grep -q 'event=member_duplicate' "$FO/m1.log" && cl_fail "a false member_duplicate"
cl_kill 1 TERM
fo_wait 10 bash -c "! kill -0 ${CL_PID[1]} 2>/dev/null" || cl_fail "m1 did not stop"
wait "${CL_PID[1]}"
rc=$?
unset "CL_PID[1]"
[ "$rc" = 0 ] || cl_fail "m1 exited with $rc"
echo ok
