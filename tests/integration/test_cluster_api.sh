#!/bin/bash
# test: alone (handover within 1.5 s)
# test_cluster_api.sh - what a cluster says of itself: GET /v1/cluster on
# each member (role, leader, epoch, members, last renewal), the metrics
# failoverd_cluster_{leader,epoch,members}, `failoverctl cluster` and the
# leader line of `failoverctl status`; alone, none of it changes what
# /metrics says.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
command -v etcd >/dev/null || { echo "no etcd (make deps)"; exit 77; }
command -v jq >/dev/null || { echo "no jq"; exit 77; }
. "$TOP/tests/lib/fo.sh"
. "$TOP/tests/lib/etcd.sh"
. "$TOP/tests/lib/cluster.sh"

cl_world
CL_API=1 cl_conf 1
CL_API=1 cl_conf 2
cl_start 1
cl_start 2
fo_wait 15 cl_leader || cl_fail "nobody leads"
L=$(cl_leader)
F=$((3 - L))
E=$(cl_epoch "$L")
eval "PL=\$CL_PORT_$L PF=\$CL_PORT_$F"
get() { curl -sf --max-time 2 "http://127.0.0.1:$1$2"; }
# The members' records are read every lease_ttl/3.
fo_wait 5 sh -c "curl -sf http://127.0.0.1:$PF/v1/cluster | jq -e '.members | length == 2'" ||
    cl_fail "follower does not list 2 members: $(get "$PF" /v1/cluster)"
jl=$(get "$PL" /v1/cluster) || cl_fail "GET /v1/cluster on the leader"
jf=$(get "$PF" /v1/cluster) || cl_fail "GET /v1/cluster on the follower"
[ "$(echo "$jl" | jq -r .role)" = leader ] || cl_fail "leader's role: $jl"
[ "$(echo "$jf" | jq -r .role)" = follower ] || cl_fail "follower's role: $jf"
[ "$(echo "$jf" | jq -r .leader)" = "m$L" ] || cl_fail "follower's leader: $jf"
[ "$(echo "$jf" | jq -r .epoch)" = "$E" ] || cl_fail "follower's epoch: $jf"
[ "$(echo "$jl" | jq -r .epoch)" = "$E" ] || cl_fail "leader's epoch: $jl"
echo "$jl" | jq -e '.last_renewal_ago_ms >= 0 and .last_renewal_ago_ms < 2000' >/dev/null ||
    cl_fail "leader's last renewal: $jl"
echo "$jf" | jq -e "[.members[] | select(.member == \"m$L\") | .role] == [\"leader\"]" >/dev/null ||
    cl_fail "members' roles: $jf"
echo "$jf" | jq -e '[.members[].config_match] == [true, true]' >/dev/null || cl_fail "config_match: $jf"

ml=$(get "$PL" /metrics) || cl_fail "metrics"
mf=$(get "$PF" /metrics) || cl_fail "metrics"
echo "$ml" | grep -qx 'failoverd_cluster_leader 1' || cl_fail "leader metric on the leader"
echo "$mf" | grep -qx 'failoverd_cluster_leader 0' || cl_fail "leader metric on the follower"
echo "$mf" | grep -qx "failoverd_cluster_epoch $E" || cl_fail "epoch metric"
echo "$mf" | grep -qx 'failoverd_cluster_members 2' || cl_fail "members metric"

out=$("$FAILOVERCTL" -c "$FO/m$F.conf" cluster) || cl_fail "failoverctl cluster: $out"
echo "$out" | grep -Eq "^leader: m$L since 20[0-9-]+T[0-9:]+Z  epoch: $E  members: 2" || cl_fail "failoverctl cluster: $out"
echo "$out" | grep -Eq "^  m$L +leader +config=same" || cl_fail "failoverctl cluster rows: $out"
echo "$out" | grep -Eq "^  m$F +follower +config=same" || cl_fail "failoverctl cluster rows: $out"
"$FAILOVERCTL" -c "$FO/m$F.conf" cluster --json | jq -e ".leader == \"m$L\" and .epoch == $E" >/dev/null ||
    cl_fail "failoverctl cluster --json"
"$FAILOVERCTL" -c "$FO/m$F.conf" status | grep -Eq "^cluster: leader m$L since 20[0-9-]+T[0-9:]+Z, epoch $E, 2 members" ||
    cl_fail "failoverctl status: $("$FAILOVERCTL" -c "$FO/m$F.conf" status)"
# A stopped leader resigns: the other leads at once, not a lease_ttl later.
t0=$(date +%s%N)
cl_kill "$L" TERM
fo_wait 3 _cl_leads "$F" || cl_fail "m$F did not take over from the stopped m$L"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "takeover after SIGTERM: $ms ms"
[ "$ms" -lt 1500 ] || cl_fail "takeover after a resignation took $ms ms"
wait "${CL_PID[$L]}" || cl_fail "m$L exit status $?"
unset "CL_PID[$L]"
grep -q "event=leader_lost member=m$L epoch=$E reason=stopping" "$FO/m$L.log" || cl_fail "m$L: no leader_lost reason=stopping"

# A reload that changes a follower's [group] makes it a mismatch: it does
# not lead when the leader goes.
cl_start "$L"
fo_wait 10 grep -q "event=cluster_leader member=m$L leader=m$F" "$FO/m$L.log" || cl_fail "m$L does not follow"
sed -i 's/^ttl = 60s$/ttl = 90s/' "$FO/m$L.conf"
cl_kill "$L" HUP
fo_wait 5 grep -q "event=config_mismatch member=m$L" "$FO/m$L.log" || cl_fail "m$L: no config_mismatch after the reload"
cl_kill "$F" TERM
wait "${CL_PID[$F]}" || cl_fail "m$F exit status $?"
unset "CL_PID[$F]"
sleep $((CL_TTL + 2))
grep -q 'event=leader_elected' "$FO/m$L.log" && cl_fail "the mismatched m$L led"
echo "$(get "$(eval echo \$CL_PORT_$L)" /v1/cluster)" | jq -e '.eligible == false and .role == "follower"' >/dev/null ||
    cl_fail "m$L's view: $(get "$(eval echo \$CL_PORT_$L)" /v1/cluster)"

# Alone: no cluster line, no cluster metric.
fo_conf
"$FAILOVERCTL" -c "$FO/failoverd.conf" status | grep -q '^cluster:' && cl_fail "a cluster line alone"
"$FAILOVERCTL" -c "$FO/failoverd.conf" cluster >/dev/null 2>&1 && cl_fail "failoverctl cluster alone succeeded"
echo ok
