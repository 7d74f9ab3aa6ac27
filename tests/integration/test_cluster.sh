#!/bin/bash
# test: alone (takeover within lease_ttl + 1 s)
# test_cluster.sh - three failoverd members on a real three-member etcd,
# one named with TSIG, real web heads and hooks (lease_ttl 2 s).
#
#   1. m1 and m2 share a configuration, m3's [group] differs: m1 or m2
#      leads, m3 never does (config_mismatch); the leader publishes the
#      record with its epoch in the ownership TXT.
#   2. the leader is killed (SIGKILL): the other leads within lease_ttl +
#      1 s, with a higher epoch, replaces the TXT with it (owner_claimed),
#      and the record stays on app1.
#   3. the killed member comes back and follows; the leader is frozen
#      (SIGSTOP) longer than lease_ttl and app1 dies meanwhile: the member
#      back leads and fails over (its epoch in every hook's
#      FAILOVER_EPOCH); woken (SIGCONT), the frozen one runs no hook,
#      sends no UPDATE, says leader_lost and follows; named refuses an
#      UPDATE stating its epoch's TXT (NXRRSET) and the zone holds the
#      new leader's.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
command -v etcd >/dev/null || { echo "no etcd (make deps)"; exit 77; }
. "$TOP/tests/lib/fo.sh"
. "$TOP/tests/lib/etcd.sh"
. "$TOP/tests/lib/cluster.sh"

cl_world
cl_conf 1
cl_conf 2
cl_conf 3
# m3: the same world, another [group] (a longer TTL).
sed -e 's/^ttl = 60s$/ttl = 90s/' "$FO/m3.conf" >"$FO/m3.tmp" && mv "$FO/m3.tmp" "$FO/m3.conf"
grep -q '^ttl = 90s' "$FO/m3.conf" || cl_fail "m3's config not changed"
"$FAILOVERD" -t -c "$FO/m3.conf" >/dev/null || cl_fail "config check m3"

# --- 1. one leader, never m3 -------------------------------------------
cl_start 1
cl_start 2
cl_start 3
fo_wait 15 cl_leader || cl_fail "nobody leads"
L=$(cl_leader)
[ "$L" = 1 ] || [ "$L" = 2 ] || cl_fail "m$L leads"
EL=$(cl_epoch "$L")
fo_wait 5 fo_dig_is "$W" CNAME app1.example.net. || cl_fail "never published app1"
fo_wait 5 test "$(cl_txt_epoch)" = "$EL" || cl_fail "TXT epoch $(cl_txt_epoch), leader's $EL"
fo_wait 5 grep -q 'event=config_mismatch member=m3' "$FO/m3.log" || cl_fail "m3: no config_mismatch"
for i in 1 2 3; do
	[ "$i" = "$L" ] && continue
	grep -q 'event=hook_start\|event=dns_updated' "$FO/m$i.log" && cl_fail "follower m$i acted"
done
F=$((3 - L))
echo "leader m$L epoch $EL; follower m$F; m3 mismatched"

# --- 2. the leader killed ----------------------------------------------
fo_wait 10 grep -q 'event=health_change stack=app2 from=unknown to=up' "$FO/m$F.log" ||
    cl_fail "m$F never saw app2 up"
t0=$(date +%s%N)
cl_reap "$L"
fo_wait 6 _cl_leads "$F" || cl_fail "m$F did not take over"
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
echo "takeover after SIGKILL: $ms ms (lease_ttl ${CL_TTL}s)"
[ "$ms" -le $(( CL_TTL * 1000 + 1000 )) ] || cl_fail "takeover took $ms ms"
EF=$(cl_epoch "$F")
[ "$EF" -gt "$EL" ] || cl_fail "epoch $EF not above $EL"
fo_wait 5 grep -q "event=owner_claimed group=www .*epoch=$EF" "$FO/m$F.log" || cl_fail "m$F did not claim www"
[ "$(cl_txt_epoch)" = "$EF" ] || cl_fail "TXT epoch $(cl_txt_epoch), want $EF"
fo_dig_is "$W" CNAME app1.example.net. || cl_fail "record moved: $(fo_dig "$W")"
grep -q 'event=leader_elected' "$FO/m3.log" && cl_fail "m3 led"

# --- 3. the leader frozen, app1 dies meanwhile -------------------------
cl_start "$L"
fo_wait 10 grep -q "event=cluster_leader member=m$L leader=m$F" "$FO/m$L.log" ||
    cl_fail "m$L back does not follow m$F"
fo_wait 10 grep -q 'event=health_change stack=app2 from=unknown to=up' "$FO/m$L.log" ||
    cl_fail "m$L never saw app2 up"
: >"$FO/hooks.log"
cl_kill "$F" STOP
tstop=$(date +%s%N)
fo_webhead_stop app1
fo_wait 8 _cl_leads "$L" || cl_fail "m$L did not take over from the frozen m$F"
EL2=$(cl_epoch "$L")
[ "$EL2" -gt "$EF" ] || cl_fail "epoch $EL2 not above $EF"
fo_wait 15 fo_dig_is "$W" A 127.0.0.2 || cl_fail "no failover to app2 by m$L"
fo_wait 5 grep -q '^maintenance_off app2' "$FO/hooks.log" || cl_fail "switch not finished"
# Hold the frozen one past twice the ttl in all.
while [ $(( ($(date +%s%N) - tstop) / 1000000 )) -lt $(( 2 * CL_TTL * 1000 + 500 )) ]; do sleep 0.1; done
nhooks=$(wc -l <"$FO/hooks.log")
nupd=$(grep -c 'event=dns_updated' "$FO/m$F.log")
cl_kill "$F" CONT
fo_wait 5 grep -q "event=leader_lost member=m$F epoch=$EF" "$FO/m$F.log" || cl_fail "m$F did not step down"
fo_wait 10 grep -q "event=cluster_leader member=m$F leader=m$L epoch=$EL2" "$FO/m$F.log" ||
    cl_fail "m$F does not follow m$L"
sleep 1
[ "$(wc -l <"$FO/hooks.log")" = "$nhooks" ] || cl_fail "a hook ran after m$F woke"
grep -v "epoch=$EL2\$" "$FO/hooks.log" | grep -v '^status_change' | grep . && cl_fail "a hook of another epoch"
[ "$(grep -c 'event=dns_updated' "$FO/m$F.log")" = "$nupd" ] || cl_fail "m$F sent an UPDATE after it woke"
phases=$(grep -v '^status_change' "$FO/hooks.log" | awk '{print $1 ":" $2}' | tr '\n' ' ')
[ "$phases" = "maintenance_on:app1 replication_off:app2 promote:app2 maintenance_off:app2 " ] ||
    cl_fail "hook order: $phases"
# The zone: the new leader's record and TXT; the frozen one's TXT is
# refused by named as a prerequisite.
fo_dig_is "$W" A 127.0.0.2 || cl_fail "record: $(fo_dig "$W" A)"
[ "$(cl_txt_epoch)" = "$EL2" ] || cl_fail "TXT epoch $(cl_txt_epoch), want $EL2"
out=$(nsupdate -k "$NAMED_KEYFILE" 2>&1 <<NSU
server 127.0.0.1 $NAMED_PORT
zone $NAMED_ZONE
prereq yxrrset _failoverd.$W TXT "failoverd controller=test-ctl group=www epoch=$EF"
update delete $W A
update add $W 60 A 192.0.2.66
send
NSU
)
echo "$out" | grep -q NXRRSET || cl_fail "named took the old epoch's UPDATE: $out"
fo_dig_is "$W" A 127.0.0.2 || cl_fail "record changed: $(fo_dig "$W" A)"
grep -q 'event=leader_elected' "$FO/m3.log" && cl_fail "m3 led"

# --- the status: GET /v1/cluster is in test_cluster_api.sh -------------
for i in "${!CL_PID[@]}"; do
	cl_kill "$i" TERM
done
for i in "${!CL_PID[@]}"; do
	for ((k = 0; k < 200; k++)); do
		kill -0 "${CL_PID[$i]}" 2>/dev/null || break
		st=$(awk '{print $3}' "/proc/${CL_PID[$i]}/stat" 2>/dev/null)
		[ "$st" = Z ] && break
		sleep 0.05
	done
	wait "${CL_PID[$i]}" || cl_fail "m$i exit status $?"
	unset "CL_PID[$i]"
done
echo ok
