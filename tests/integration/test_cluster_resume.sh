#!/bin/bash
# test: alone (takeover within lease_ttl + 1 s)
# test_cluster_resume.sh - the leader dies in the middle of a switch: the
# group's state is in etcd (written, fenced on the leader key, before each
# local commit and side effect), and the next leader resumes from it as a
# restarted daemon resumes from its store.  The leader is killed (SIGKILL,
# its running promote hook with it) while promote runs: the other member
# leads within lease_ttl + 1 s, runs promote again with the same
# FAILOVER_ID, FAILOVER_ATTEMPT=2 and its higher FAILOVER_EPOCH, then
# maintenance_off once, and flips the record once; maintenance_on and
# replication_off are not run again.
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

echo 30 >"$FO/hooks/slow.promote"	# the first promote outlives its leader
fo_webhead_stop app1
fo_wait 10 grep -q '^promote app2' "$FO/hooks.log" || cl_fail "m$L never ran promote"
grep -q "^promote app2 .*attempt=1 .*epoch=$EL\$" "$FO/hooks.log" || cl_fail "first promote: $(cat "$FO/hooks.log")"
rm -f "$FO/hooks/slow.promote"
# The leader's host dies, its hook with it: its pid by its environment.
hookpids=$(grep -l "FAILOVER_STATE_DIR=$FO/state$L" /proc/[0-9]*/environ 2>/dev/null |
    sed -n 's|/proc/\([0-9]*\)/environ|\1|p')
t0=$(date +%s%N)
cl_reap "$L"
for p in $hookpids; do kill -9 "$p" 2>/dev/null; done
fo_wait 6 _cl_leads "$F" || cl_fail "m$F did not take over"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "takeover in the middle of promote: $ms ms"
[ "$ms" -le $(( CL_TTL * 1000 + 1000 )) ] || cl_fail "takeover took $ms ms"
EF=$(cl_epoch "$F")
[ "$EF" -gt "$EL" ] || cl_fail "epoch $EF not above $EL"
fo_wait 5 grep -q "event=take_over groups=1 from_etcd=1" "$FO/m$F.log" || cl_fail "m$F did not take the state from etcd"
fo_wait 15 fo_dig_is "$W" A 127.0.0.2 || cl_fail "no flip by m$F"
fo_wait 5 grep -q '^maintenance_off app2' "$FO/hooks.log" || cl_fail "no maintenance_off"
sleep 1
id=$(sed -n 's/^maintenance_on app1 .* id=\([^ ]*\) .*/\1/p' "$FO/hooks.log")
[ -n "$id" ] || cl_fail "no switch id"
seq=$(grep -v '^status_change' "$FO/hooks.log" | awk '{print $1 ":" $2 ":" $5 ":" $6 ":" $NF}' | tr '\n' ' ')
want="maintenance_on:app1:id=$id:attempt=1:epoch=$EL replication_off:app2:id=$id:attempt=1:epoch=$EL promote:app2:id=$id:attempt=1:epoch=$EL promote:app2:id=$id:attempt=2:epoch=$EF maintenance_off:app2:id=$id:attempt=1:epoch=$EF "
[ "$seq" = "$want" ] || cl_fail "hooks: $seq
want:  $want"
n=$(cat "$FO/m1.log" "$FO/m2.log" | grep -c 'event=dns_updated .*why=flip')
[ "$n" = 1 ] || cl_fail "$n flips"
[ "$(cl_txt_epoch)" = "$EF" ] || cl_fail "TXT epoch $(cl_txt_epoch)"
fo_wait 5 grep -q "event=switch_finished group=www id=$id" "$FO/m$F.log" || cl_fail "no switch_finished on m$F"
echo ok
