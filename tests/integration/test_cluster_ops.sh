#!/bin/bash
# test_cluster_ops.sh - operator commands in a cluster go to the leader,
# and what they set survives the leader (issue 14): a real three-member
# etcd, named, web heads, two failoverd members.
#   - failoverctl on the follower's host and the follower's HTTP API give
#     their commands to the leader through etcd: the leader applies them
#     (its state is paused, pinned), answers, and the caller gets that
#     answer (a refusal with the leader's reason too);
#   - the pause and the pin, given before the leader is SIGKILLed, still
#     hold on the new leader: app1 then dies and nothing fails over;
#   - groups made at run time through the follower (its API, failoverctl)
#     are made by the leader and kept in etcd: every member has them
#     under one address, and so does the next leader;
#   - failoverctl on a host whose member is dead is applied by the leader;
#   - no leader at all: a clear no_leader within the bound, the command
#     withdrawn from etcd; etcd without quorum: cluster_unavailable, fast.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
command -v etcd >/dev/null || { echo "no etcd (make deps)"; exit 77; }
command -v jq >/dev/null || { echo "no jq"; exit 77; }
command -v curl >/dev/null || { echo "no curl"; exit 77; }
. "$TOP/tests/lib/fo.sh"
. "$TOP/tests/lib/etcd.sh"
. "$TOP/tests/lib/cluster.sh"

cl_world
TOKEN=cluster-ops-$RANDOM$RANDOM$RANDOM
printf '%s\n' "$TOKEN" >"$FO/token"
chmod 0600 "$FO/token"
export FO_CTL_EXTRA="api_token_file = $FO/token"
CL_API=1 cl_conf 1
CL_API=1 cl_conf 2
cl_pair_start
eval "PL=\$CL_PORT_$L PF=\$CL_PORT_$F"

# 1. failoverctl on the follower's host: applied by the leader.
out=$(cl_ctl "$F" pause www) || cl_fail "pause through m$F: $out"
echo "$out" | grep -q "applied by the leader m$L" || cl_fail "pause: not the leader's answer: $out"
grep -q "event=cluster_command member=m$L given_on=m$F .*cmd=pause .*result=accepted" "$FO/m$L.log" ||
    cl_fail "m$L did not apply the pause given on m$F"
fo_wait 5 cl_st "$L" '.flags.paused == true and .state.paused == true' ||
    cl_fail "the leader is not paused: $(cl_ctl "$L" status www --json)"
grep -q "event=cluster_command_given\|event=cluster_command " "$FO/m$F.log" &&
    cl_fail "m$F's daemon took part in a command given to failoverctl"

# 2. The follower's HTTP API: given to the leader, its answer returned.
t0=$(date +%s%N)
r=$(cl_post "$PF" /v1/groups/www/pin '{"stack":"app1"}')
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
code=$(echo "$r" | tail -1)
body=$(echo "$r" | sed '$d')
[ "$code" = 200 ] || cl_fail "POST pin on the follower: $code $body"
echo "$body" | jq -e ".ok == true and .leader == \"m$L\"" >/dev/null || cl_fail "pin: $body"
echo "pin through the follower's API answered in $ms ms"
grep -q "event=cluster_command_given member=m$F group=www cmd=pin" "$FO/m$F.log" ||
    cl_fail "m$F did not give the pin to the leader"
grep -q "event=cluster_command member=m$L given_on=m$F .*cmd=pin stack=app1 .*result=accepted" "$FO/m$L.log" ||
    cl_fail "m$L did not apply the pin"
fo_wait 5 cl_st "$L" '.state.pinned == "app1"' || cl_fail "the leader is not pinned: $(cl_ctl "$L" status www --json)"
# A refusal comes back with the leader's reason.
r=$(cl_post "$PF" /v1/groups/www/rearm)
[ "$(echo "$r" | tail -1)" = 409 ] || cl_fail "rearm of a serving group through the follower: $r"
out=$(cl_ctl "$F" rearm www 2>&1) && cl_fail "failoverctl rearm through m$F succeeded: $out"
echo "$out" | grep -q 'refused' || cl_fail "rearm refusal: $out"

# 3. In etcd with the state: the follower's mirror shows them too.
fo_wait 5 cl_st "$F" '.flags.paused == true and .flags.pinned == "app1" and .state.paused == true and .state.pinned == "app1"' ||
    cl_fail "the follower's mirror: $(cl_ctl "$F" status www --json)"

# 3b. Groups made at run time, through the follower: the leader makes
# them, keeps them in etcd, and every member has them, under one address.
r=$(cl_post "$PF" /v1/groups '{"name":"shop","address":"auto","primary":"app1"}')
[ "$(echo "$r" | tail -1)" = 201 ] || cl_fail "POST /v1/groups on the follower: $r"
echo "$r" | sed '$d' | jq -e ".leader == \"m$L\"" >/dev/null || cl_fail "group add: $r"
out=$(cl_ctl "$F" group add api2 --address api2 --primary app1) || cl_fail "group add through m$F: $out"
echo "$out" | grep -q "applied by the leader m$L" || cl_fail "group add: $out"
shop_addr() {	# I: shop's address as member I's store has it
	cl_ctl "$1" group list | awk '$1 == "shop" { print $3 }'
}
fo_wait 5 sh -c "\"$FAILOVERCTL\" -c $FO/m$L.conf group list | grep -Eq '^shop +runtime +[0-9]{3}-[0-9]{3}-[0-9]{3}\\.'" ||
    cl_fail "the leader has no address for shop: $(cl_ctl "$L" group list)"
SHOP=$(shop_addr "$L")
echo "shop made through the follower, at $SHOP"
fo_wait 5 fo_dig_is "$SHOP" CNAME app1.example.net. || cl_fail "shop not published at $SHOP"
fo_wait 5 fo_dig_is "api2.$NAMED_ZONE" CNAME app1.example.net. || cl_fail "api2 not published"
fo_wait 5 sh -c "[ \"\$(\"$FAILOVERCTL\" -c $FO/m$F.conf group list | awk '\$1 == \"shop\" { print \$3 }')\" = $SHOP ]" ||
    cl_fail "the follower's shop: $(cl_ctl "$F" group list) (leader: $SHOP)"
cl_ctl "$F" group list | grep -Eq '^api2 +runtime +api2\.' || cl_fail "the follower has no api2: $(cl_ctl "$F" group list)"
grep -q "event=groups_applied groups=3 runtime=2" "$FO/m$F.log" || cl_fail "m$F did not take the groups in"

# 4. The leader dies; the pause and the pin hold on the new leader.
EL=$(cl_epoch "$L")
cl_reap "$L"
fo_wait $((CL_TTL + 4)) _cl_leads "$F" || cl_fail "m$F did not take over"
grep -q "event=cluster_flags_adopted member=m$F groups=[1-9]" "$FO/m$F.log" ||
    cl_fail "m$F did not take the flags from etcd"
fo_wait 5 cl_st "$F" '.state.paused == true and .state.pinned == "app1"' ||
    cl_fail "the new leader dropped the pause or the pin: $(cl_ctl "$F" status www --json)"
fo_webhead_stop app1
fo_wait 5 grep -q 'event=health_change stack=app1 from=up to=down' "$FO/m$F.log" ||
    cl_fail "m$F never saw app1 down"
sleep 1
grep -q 'event=switch_started' "$FO/m$F.log" && cl_fail "the new leader failed over a paused, pinned group"
fo_dig_is "$W" CNAME app1.example.net. || cl_fail "the record moved: $(fo_dig "$W" CNAME)"
cl_st "$F" '.state.paused == true and .state.pinned == "app1"' || cl_fail "no longer paused/pinned"

# ... and so do the groups made at run time, under the same address.
[ "$(shop_addr "$F")" = "$SHOP" ] || cl_fail "shop's address moved: $(cl_ctl "$F" group list)"
fo_dig_is "$SHOP" CNAME app1.example.net. || cl_fail "shop's record: $(fo_dig "$SHOP" CNAME)"
out=$(cl_ctl "$L" group set shop --ttl 30s) || cl_fail "group set through m$L's host: $out"
echo "$out" | grep -q "applied by the leader m$F" || cl_fail "group set: $out"
fo_wait 5 sh -c "\"$FAILOVERCTL\" -c $FO/m$F.conf group list | grep -Eq '^shop .* 30s\$'" ||
    cl_fail "shop's ttl: $(cl_ctl "$F" group list)"

# 5. failoverctl on the dead member's host: the new leader applies it.
out=$(cl_ctl "$L" unpin www) || cl_fail "unpin through m$L's host: $out"
echo "$out" | grep -q "applied by the leader m$F" || cl_fail "unpin: $out"
fo_wait 5 cl_st "$F" '.state.pinned == null' || cl_fail "not unpinned: $(cl_ctl "$F" status www --json)"

# 6. No leader at all: a clear error within the bound, nothing left behind.
cl_reap "$F"
t0=$(date +%s%N)
out=$(cl_ctl "$F" resume www 2>&1) && cl_fail "resume with no leader succeeded: $out"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "no leader: answered in $ms ms: $out"
echo "$out" | grep -q 'no cluster leader' || cl_fail "no-leader message: $out"
[ "$ms" -lt $(( (2 * CL_TTL + 4) * 1000 )) ] || cl_fail "no-leader answer took $ms ms"
left=$(ETCDCTL_API=3 etcdctl --endpoints="$ETCD_ENDPOINTS" get --prefix /fo-test/commands/ --keys-only 2>&1)
[ -z "$left" ] || cl_fail "a withdrawn command is still in etcd: $left"

# 7. etcd without quorum: cluster_unavailable, not a wait.
etcd_stop_member 2
etcd_stop_member 3
t0=$(date +%s%N)
out=$(cl_ctl "$F" resume www 2>&1) && cl_fail "resume without etcd quorum succeeded: $out"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "etcd without quorum: answered in $ms ms: $out"
echo "$out" | grep -Eq 'etcd|no cluster leader' || cl_fail "no-quorum message: $out"
[ "$ms" -lt $(( (2 * CL_TTL + 6) * 1000 )) ] || cl_fail "no-quorum answer took $ms ms"
echo ok
