#!/bin/bash
# test_cluster_orphans.sh - members that share a host: a follower that
# restarts while the leader runs a hook of a switch must not take that hook
# for one its own killed daemon left behind.  The follower's state (the
# leader's, mirrored from etcd) says the switch is running, with the same
# FAILOVER_ID the leader's hook carries; only FAILOVER_STATE_DIR says whose
# hook it is.  Before the fix the restarted follower SIGTERMed the
# leader's promote (exit 143) and the switch failed.
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

echo 4 >"$FO/hooks/slow.promote"	# long enough for a restart beside it
fo_webhead_stop app1
fo_wait 10 grep -q '^promote app2' "$FO/hooks.log" || cl_fail "m$L never ran promote"
id=$(sed -n 's/^promote app2 .* id=\([^ ]*\) .*/\1/p' "$FO/hooks.log" | head -1)
sleep 0.5	# the follower mirrors the running switch (etcd watch)
cl_reap "$F"
cl_start "$F"
fo_wait 10 grep -q 'event=cluster_join' "$FO/m$F.log" || cl_fail "m$F did not start again"
if grep -q 'event=orphan_hook' "$FO/m$F.log"; then
	cl_fail "m$F took the leader's hook for its own orphan: $(grep 'event=orphan_hook' "$FO/m$F.log")"
fi
fo_wait 15 grep -q "event=switch_finished group=www id=$id" "$FO/m$L.log" ||
    cl_fail "the leader's switch did not finish: $(grep -E 'event=(phase_finished|switch_failed|hook_exited)' "$FO/m$L.log" | tail -5)"
grep -q "event=phase_finished .*phase=promote .*result=ok" "$FO/m$L.log" ||
    cl_fail "promote did not end well: $(grep 'phase=promote' "$FO/m$L.log" | tail -3)"
fo_wait 5 fo_dig_is "$W" A 127.0.0.2 || cl_fail "no flip"
echo ok
