#!/bin/bash
# test_cluster_cmds.sh - an operator's command in a cluster is either done
# and answered, or not done and said so; and the run-time groups in etcd
# never go back (issue 14): a real etcd, named, web heads, two failoverd
# members whose leader is made slow at chosen points
# (FAILOVERD_TEST_CLUSTER_DELAY_FILE: "claim MS", "apply MS", "answer MS",
# "runtime MS").
#   - the answer comes after the caller's wait (2 lease_ttl + 1 s): the
#     command was taken, so the caller waits for its answer and gets
#     "accepted" - never "nothing was done" for a command the leader did;
#   - the leader takes the command only after the caller withdrew it:
#     nothing is done (cluster_command_withdrawn), and the caller was told
#     so;
#   - groups added one after the other while the leader's own writes of
#     PREFIX/runtime are slow: no member ever takes an older set of groups
#     after a newer one (each write of PREFIX/runtime in order).
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
command -v etcd >/dev/null || { echo "no etcd (make deps)"; exit 77; }
command -v jq >/dev/null || { echo "no jq"; exit 77; }
. "$TOP/tests/lib/fo.sh"
. "$TOP/tests/lib/etcd.sh"
. "$TOP/tests/lib/cluster.sh"

cl_world 1
HOLD=$FO/hold
: >"$HOLD"
cl_conf 1
cl_conf 2
cl_pair_start "FAILOVERD_TEST_CLUSTER_DELAY_FILE=$HOLD"
WAIT_MS=$(( 2 * CL_TTL * 1000 + 1000 ))

# 1. The answer comes late: the caller waits for it.
echo "answer $((WAIT_MS + 1500))" >"$HOLD"
t0=$(date +%s%N)
out=$(cl_ctl "$F" pause www 2>&1); rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
fo_wait 5 cl_st "$L" '.state.paused == true' && paused=1 || paused=0
[ "$rc" = 0 ] || {
	[ "$paused" = 1 ] && cl_fail "told '$out' (exit $rc) after $ms ms, but the leader m$L paused www"
	cl_fail "a late answer: $out (exit $rc, $ms ms)"
}
echo "$out" | grep -q "applied by the leader m$L" || cl_fail "pause: $out"
[ "$paused" = 1 ] || cl_fail "accepted, but m$L is not paused: $(cl_ctl "$L" status www --json)"
grep -q "event=cluster_command_taken member=m$L .*cmd=pause" "$FO/m$L.log" ||
    cl_fail "m$L did not say it took the pause"
echo "answer held past the caller's wait of $WAIT_MS ms: accepted after $ms ms"

# 2. Taken only after the caller withdrew it: nothing done, and said so.
echo "claim $((WAIT_MS + 1500))" >"$HOLD"
out=$(cl_ctl "$F" resume www 2>&1) && cl_fail "resume withdrawn, but it succeeded: $out"
echo "$out" | grep -q "no_leader\|no cluster leader" || cl_fail "resume: $out"
fo_wait 5 grep -q "event=cluster_command_withdrawn member=m$L .*cmd=resume" "$FO/m$L.log" ||
    cl_fail "m$L did not see the resume withdrawn"
grep -q "event=cluster_command member=m$L .*cmd=resume" "$FO/m$L.log" &&
    cl_fail "m$L applied a resume its caller withdrew"
cl_st "$L" '.state.paused == true and .flags.paused == true' ||
    cl_fail "a withdrawn resume was done: $(cl_ctl "$L" status www --json | jq -c .flags)"
: >"$HOLD"
out=$(cl_ctl "$F" resume www) || cl_fail "resume: $out"
echo "taken after the caller withdrew it: nothing done"

# 3. The run-time groups: etcd's value never goes back.
echo "runtime 1500" >"$HOLD"
for g in rt1 rt2 rt3; do
	out=$(cl_ctl "$F" group add "$g" --address "$g" --primary app1) ||
	    cl_fail "group add $g through m$F: $out"
done
fo_wait 10 grep -q "event=groups_applied groups=4 runtime=3" "$FO/m$F.log" ||
    cl_fail "m$F never had the three groups"
sleep 3
: >"$HOLD"
seq=$(grep -o 'event=groups_applied groups=[0-9]* runtime=[0-9]*' "$FO/m$F.log" | sed 's/.*runtime=//' | tr '\n' ' ')
prev=0
for n in $seq; do
	[ "$n" -ge "$prev" ] || cl_fail "m$F took an older set of run-time groups after a newer one: runtime= $seq"
	prev=$n
done
[ "$prev" = 3 ] || cl_fail "m$F ends with runtime=$prev: $seq"
echo "run-time groups on m$F, in the order taken: $seq"
echo ok
