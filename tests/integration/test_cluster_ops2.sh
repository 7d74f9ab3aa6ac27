#!/bin/bash
# test: long (over 40 s: started first)
# test_cluster_ops2.sh - an operator's command answered "accepted" in a
# cluster is in etcd, so the next leader has it (issue 14): a real
# three-member etcd, named, web heads, two failoverd members whose group
# states reach etcd late (FAILOVERD_TEST_CLUSTER_WRITE_DELAY_MS holds each
# batch 1.5 s), so that a leader SIGKILLed right after its answer dies
# before the state write that would otherwise have carried the flags.
#   - pause, resume, pin, unpin, each given through failoverctl on the
#     follower's host, the leader killed at the answer: the new leader has
#     it (flags and engine state); and a pause given to the leader's own
#     HTTP API;
#   - a switch request answered, the leader killed: the new leader runs it
#     and the record moves;
#   - failoverctl switch (without --no-wait) on a follower's host follows
#     the switch phase by phase from the state the member mirrors, to its
#     end; on a host without a daemon it says so and returns at once.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
command -v etcd >/dev/null || { echo "no etcd (make deps)"; exit 77; }
command -v jq >/dev/null || { echo "no jq"; exit 77; }
. "$TOP/tests/lib/fo.sh"
. "$TOP/tests/lib/etcd.sh"
. "$TOP/tests/lib/cluster.sh"

DELAY=FAILOVERD_TEST_CLUSTER_WRITE_DELAY_MS=1500
cl_world
TOKEN=cluster-ops2-$RANDOM$RANDOM$RANDOM
printf '%s\n' "$TOKEN" >"$FO/token"
chmod 0600 "$FO/token"
export FO_CTL_EXTRA="api_token_file = $FO/token"
CL_API=1 cl_conf 1
CL_API=1 cl_conf 2
CL_PUBLISH_S=8 cl_pair_start "$DELAY"

restarted() {	# I: member I again, its probes running
	cl_start "$1" "$DELAY"
	fo_wait 10 grep -q 'event=health_change stack=app2 from=unknown to=up' "$FO/m$1.log" ||
	    cl_fail "m$1: app2 never up after its restart"
}

# One command through the follower's host, the leader SIGKILLed as soon
# as the answer is in, then the new leader must show JQ.
killed_at_answer() {	# JQ VERB ARGS...
	local want=$1 L F out; shift
	L=$(cl_leader)
	[ -n "$L" ] || cl_fail "$*: nobody leads"
	F=$((3 - L))
	out=$(cl_ctl "$F" "$@") || cl_fail "$* through m$F: $out"
	cl_reap "$L"
	echo "$out" | grep -q "applied by the leader m$L" || cl_fail "$*: not the leader's answer: $out"
	fo_wait $((CL_TTL + 6)) _cl_leads "$F" || cl_fail "$*: m$F did not take over"
	fo_wait 6 cl_st "$F" "$want" ||
	    cl_fail "$*: accepted by m$L, lost with it: $(cl_ctl "$F" status www --json | jq -c '{flags,paused:.state.paused,pinned:.state.pinned}')"
	echo "$*: accepted by m$L, held by m$F after the kill"
	restarted "$L"
}

killed_at_answer '.flags.paused == true and .state.paused == true' pause www
killed_at_answer '.flags.paused == false and .state.paused == false' resume www
killed_at_answer '.flags.pinned == "app1" and .state.pinned == "app1"' pin www app1
killed_at_answer '.flags.pinned == null and .state.pinned == null' unpin www

# The leader's own API: its answer too comes once the pause is in etcd.
L=$(cl_leader)
F=$((3 - L))
eval "PL=\$CL_PORT_$L"
r=$(cl_post "$PL" /v1/groups/www/pause)
cl_reap "$L"
[ "$(echo "$r" | tail -1)" = 200 ] || cl_fail "POST pause on the leader m$L: $r"
fo_wait $((CL_TTL + 6)) _cl_leads "$F" || cl_fail "leader's API: m$F did not take over"
fo_wait 6 cl_st "$F" '.flags.paused == true and .state.paused == true' ||
    cl_fail "pause accepted by the leader m$L's own API, lost with it: $(cl_ctl "$F" status www --json | jq -c .flags)"
echo "pause through the leader m$L's own API: held by m$F after the kill"
restarted "$L"
killed_at_answer '.flags.paused == false and .state.paused == false' resume www

# A switch request: answered, the leader killed; the next one runs it.
L=$(cl_leader)
F=$((3 - L))
out=$(cl_ctl "$F" switch www --to app2 --yes --no-wait) || cl_fail "switch through m$F: $out"
cl_reap "$L"
echo "$out" | grep -q "applied by the leader m$L" || cl_fail "switch: not the leader's answer: $out"
fo_wait $((CL_TTL + 6)) _cl_leads "$F" || cl_fail "switch: m$F did not take over"
fo_wait 30 fo_dig_is "$W" A 127.0.0.2 ||
    cl_fail "switch accepted by m$L, lost with it: $(fo_dig "$W" CNAME) $(cl_ctl "$F" status www --json | jq -c .flags)"
echo "switch: accepted by m$L, run by m$F after the kill"
cl_start "$L" "$DELAY"
# app1 is in maintenance now (503): out of it, so that it can take over.
fo_maint app1 off
for i in "$L" "$F"; do
	fo_wait 10 grep -Eq 'event=health_change stack=app1 from=(unknown|down) to=up' "$FO/m$i.log" ||
	    cl_fail "m$i: app1 never up again"
done
fo_wait 10 cl_st "$L" '.state.status != "switching" and .last_switch.result == "completed"' ||
    cl_fail "m$L's mirror: $(cl_ctl "$L" status www --json | jq -c .last_switch)"

# failoverctl switch on a host without a daemon: says so, returns at once.
sed -e "s|^state_dir = .*|state_dir = $FO/state3|" -e "s|^member = .*|member = m3|" \
    "$FO/m1.conf" >"$FO/m3.conf"
mkdir -p "$FO/state3"
t0=$(date +%s%N)
out=$(cl_ctl 3 switch www --to app1 --yes 2>&1) || cl_fail "switch from a host without a daemon: $out"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "$out" | grep -q "applied by the leader m$F" || cl_fail "switch from m3's host: $out"
echo "$out" | grep -q "no failoverd member runs on this host.*not following the switch" ||
    cl_fail "no-daemon line: $out"
echo "switch from a host without a daemon: returned in $ms ms"
fo_wait 30 fo_dig_is "$W" CNAME app1.example.net. || cl_fail "no switch back to app1: $(fo_dig "$W" CNAME)"
fo_wait 10 cl_st "$L" '.last_switch.to == "app1" and .last_switch.result == "completed"' ||
    cl_fail "m$L's mirror: $(cl_ctl "$L" status www --json | jq -c .last_switch)"

# failoverctl switch on a follower's host follows it phase by phase, from
# the state its daemon mirrors, to its end.
out=$(cl_ctl "$L" switch www --to app2 --yes --timeout 60s 2>&1) ||
    cl_fail "switch followed on m$L's host: $out"
echo "$out"
echo "$out" | grep -q "applied by the leader m$F" || cl_fail "not the leader's answer: $out"
echo "$out" | grep -Eq '^switch www-[0-9]+ started: app1 -> app2 \(manual\)' || cl_fail "no start line: $out"
for ph in maintenance_on replication_off promote maintenance_off dns; do
	echo "$out" | grep -Eq "^  $ph +[a-z0-9-]+ +ok +[0-9]+ ms" || cl_fail "no line for $ph: $out"
done
echo "$out" | grep -Eq "^switch www-[0-9]+ completed in [0-9]+ ms: www\.[^ ]* now points at app2" ||
    cl_fail "no end line: $out"
fo_dig_is "$W" A 127.0.0.2 || cl_fail "followed to its end, but the record: $(fo_dig "$W" A)"
echo ok
