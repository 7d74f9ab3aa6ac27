#!/bin/bash
# test_cluster_etcd.sh - two failoverd members on a three-member etcd lose
# it: two etcd members are stopped, so no quorum is left.  The leader's
# validity runs out and it steps down; every member says
# cluster_unavailable (once) and keeps probing.  app1 dies meanwhile: no
# switch starts, no hook runs, the record stays on app1.  The two etcd
# members come back: a member leads and the failover happens, once; the
# follower's status shows it (its warm copy of the states in etcd).
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
command -v etcd >/dev/null || { echo "no etcd (make deps)"; exit 77; }
. "$TOP/tests/lib/fo.sh"
. "$TOP/tests/lib/etcd.sh"
. "$TOP/tests/lib/cluster.sh"

cl_world
cl_conf 1
cl_conf 2
cl_pair_start
EL=$(cl_epoch "$L")

# --- etcd without quorum -------------------------------------------------
# The two that are not etcd's leader, one after the other: with the
# leader stopped first, the other two elected a new one before the second
# stop and etcd was rightly available again in between (a member said
# cluster_unavailable, cluster_available, cluster_unavailable: seen under
# the sanitizers); a follower stopped first leaves the quorum as it was.
KEEP=$(etcd_leader_index)
[ -n "$KEEP" ] || KEEP=1
GONE=()
for i in 1 2 3; do [ "$i" = "$KEEP" ] || GONE+=("$i"); done
etcd_stop_member "${GONE[0]}"
etcd_stop_member "${GONE[1]}"
fo_wait $((CL_TTL + 2)) grep -q "event=leader_lost member=m$L epoch=$EL" "$FO/m$L.log" ||
    cl_fail "m$L did not step down without etcd"
for i in 1 2; do
	fo_wait 5 grep -q 'event=cluster_unavailable' "$FO/m$i.log" || cl_fail "m$i: no cluster_unavailable"
done
fo_webhead_stop app1
for i in 1 2; do
	fo_wait 5 grep -q 'event=health_change stack=app1 from=up to=down' "$FO/m$i.log" ||
	    cl_fail "m$i: app1 not seen down (probes must go on)"
done
sleep 2
[ -s "$FO/hooks.log" ] && cl_fail "a hook ran without etcd: $(cat "$FO/hooks.log")"
fo_dig_is "$W" CNAME app1.example.net. || cl_fail "record moved without etcd: $(fo_dig "$W")"
for i in 1 2; do
	[ "$(grep -c 'event=cluster_unavailable' "$FO/m$i.log")" = 1 ] ||
	    cl_fail "m$i: cluster_unavailable said $(grep -c 'event=cluster_unavailable' "$FO/m$i.log") times"
	grep -q 'event=switch_start' "$FO/m$i.log" && cl_fail "m$i started a switch without etcd"
done

# --- etcd back --------------------------------------------------------------
etcd_start_member "${GONE[0]}"
etcd_start_member "${GONE[1]}"
etcd_wait_health "$KEEP" 15 || cl_fail "etcd not healthy again"
fo_wait 20 fo_dig_is "$W" A 127.0.0.2 || cl_fail "no failover once etcd is back"
fo_wait 5 grep -q '^maintenance_off app2' "$FO/hooks.log" || cl_fail "switch not finished"
sleep 1
phases=$(grep -v '^status_change' "$FO/hooks.log" | awk '{print $1 ":" $2}' | tr '\n' ' ')
[ "$phases" = "maintenance_on:app1 replication_off:app2 promote:app2 maintenance_off:app2 " ] ||
    cl_fail "hook order (once): $phases"
n=$(cat "$FO/m1.log" "$FO/m2.log" | grep -c 'event=switch_start')
[ "$n" = 1 ] || cl_fail "$n switches started"
L2=$(cl_leader)
[ -n "$L2" ] || cl_fail "nobody leads after etcd is back"
[ "$(cl_epoch "$L2")" -gt "$EL" ] || cl_fail "epoch did not grow"
[ "$(cl_txt_epoch)" = "$(cl_epoch "$L2")" ] || cl_fail "TXT epoch $(cl_txt_epoch)"
for i in 1 2; do
	grep -q 'event=cluster_available' "$FO/m$i.log" || cl_fail "m$i: no cluster_available"
done
# The follower's warm copy: its own status says what the leader did.
O=$((3 - L2))
fo_wait 5 sh -c "'$FAILOVERCTL' -c '$FO/m$O.conf' status www --json | jq -e '.active == \"app2\" and .status == \"wait_rearm\"'" ||
    cl_fail "follower m$O's status: $("$FAILOVERCTL" -c "$FO/m$O.conf" status www --json | head -20)"
echo ok
