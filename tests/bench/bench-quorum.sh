#!/bin/bash
# bench-quorum.sh - the detection time the quorum of vantage points adds,
# against a single controller in the same run, on the same kill.
#
# One named, one etcd member, app1 and app2's web heads, the recording
# hooks, the stacks of tests/lib/fo.sh (interval 200 ms, fastinter 100 ms,
# timeout 150 ms, fall 3).  Trials alternate (BENCH_QUORUM_TRIALS each,
# default 7):
#   single   one failoverd, no [cluster];
#   quorum   three members (quorum = majority, lease_ttl 2 s), each on its
#            own source address (127.0.0.11-13), all seen up by the leader.
# Per trial app1's web head is SIGKILLed a random 0-199 ms after the world
# settled; measured from the kill to the leader's switch_started (the
# decision) and to the flip accepted by named (dns_updated why=flip).
# The quorum's decision needs a second member's verdict through etcd: a
# put and a watch event on top of that member's own detection.
# Prints min/median/max of each, and last
#   quorum_added_ms_median = quorum decision median - single median
#                            (goal <= 100)
# The flips differ by more: a cluster's leader writes each step's group
# state to etcd before it acts on it (daemon_cluster.c), which the quorum
# does not change.
# Measured (7 trials each, other builds beside it, 2026-12-07):
#   decision median single 200 ms, quorum 222 ms: +22 ms;
#   flip median single 918 ms, quorum 1,143 ms.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
export TOP
export BUILD=${BUILD:-build}
export FAILOVERD=${FAILOVERD:-$TOP/$BUILD/failoverd}
export FAILOVERCTL=${FAILOVERCTL:-$TOP/$BUILD/failoverctl}
export TOOLS=${TOOLS:-$TOP/$BUILD/tests/integration}
command -v etcd >/dev/null || { echo "bench-quorum: no etcd" >&2; exit 1; }
. "$TOP/tests/lib/fo.sh"
. "$TOP/tests/lib/etcd.sh"
. "$TOP/tests/lib/cluster.sh"
TRIALS=${BENCH_QUORUM_TRIALS:-7}

etcd_start "$FO/etcd" 1 || cl_fail "etcd did not start"
fo_init
fo_webhead app1
fo_webhead app2
fo_maint app2 on
cl_hooks
P1=$WH_PORT_app1

# The ts= of the first line matching REGEX in FILE, in ms.
log_ms() {
	local ts
	ts=$(grep -m1 -E "$2" "$1" | sed -n 's/^ts=\([^ ]*\) .*/\1/p')
	[ -n "$ts" ] && date -d "$ts" +%s%3N
}
now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }

# Back to the start: app1 serving, no state anywhere, and a group address
# of its own for the next trial (N), so that nothing a trial left in the
# zone (the record on app2, an ownership TXT) is found by the next.
n=0
reset_world() {
	[ -n "${WH_PID[app1]:-}" ] || fo_webhead app1 "$P1"
	fo_maint_reset
	: >"$FO/hooks.log"
	rm -rf "$FO"/state "$FO"/state[123]
	n=$((n + 1))
	W=q$n.$NAMED_ZONE
}
# fo_conf, then the trial's address.
conf_addr() {	# FILE
	sed -i "s/^address = www$/address = q$n/" "$1"
}

# kill app1 a random 0-199 ms from now; the kill time in ms in K.
kill_app1() {
	sleep "0.$(printf '%03d' $((RANDOM % 200)))"
	kill -9 "${WH_PID[app1]}"
	K=$(now_ms)
	wait "${WH_PID[app1]}" 2>/dev/null
	unset "WH_PID[app1]"
}

single=() singleflip=() quorum=() quorumflip=()
trial=0
for ((t = 1; t <= TRIALS; t++)); do
	# --- single -----------------------------------------------------
	reset_world
	fo_conf
	conf_addr "$FO/failoverd.conf"
	: >"$FO/failoverd.log"
	fo_start
	fo_wait 10 fo_dig_is "$W" CNAME app1.example.net. || fail "single: never published"
	fo_wait 10 fo_log_has 'event=health_change stack=app2 from=unknown to=up' || fail "single: app2 never up"
	fo_wait 10 fo_log_has 'event=health_change stack=app1 from=unknown to=up' || fail "single: app1 never up"
	kill_app1
	k=$K
	fo_wait 15 fo_log_has 'event=dns_updated .*why=flip' || fail "single: no flip"
	s=$(log_ms "$FO/failoverd.log" 'event=switch_started')
	f=$(log_ms "$FO/failoverd.log" 'event=dns_updated .*why=flip')
	single+=($((s - k))); singleflip+=($((f - k)))
	fo_stop >/dev/null
	# --- quorum ------------------------------------------------------
	reset_world
	trial=$((trial + 1))
	for i in 1 2 3; do
		FO_CTL_EXTRA="source_address = 127.0.0.1$i" cl_conf "$i"
		sed -i "s|^prefix = /fo-test/$|prefix = /fo-bench-$$-$trial/|" "$FO/m$i.conf"
		conf_addr "$FO/m$i.conf"
		: >"$FO/m$i.log"
		cl_start "$i"
	done
	fo_wait 15 cl_leader || cl_fail "quorum: nobody leads"
	L=$(cl_leader)
	fo_wait 10 fo_dig_is "$W" CNAME app1.example.net. || cl_fail "quorum: never published"
	for s in app1 app2; do
		fo_wait 15 grep -Eq "event=quorum_change stack=$s .*to=up .* up=m1,m2,m3 " "$FO/m$L.log" ||
		    cl_fail "quorum: m$L never saw $s up by all three"
	done
	kill_app1
	k=$K
	fo_wait 15 grep -Eq 'event=dns_updated .*why=flip' "$FO/m$L.log" || cl_fail "quorum: no flip"
	s=$(log_ms "$FO/m$L.log" 'event=switch_started')
	f=$(log_ms "$FO/m$L.log" 'event=dns_updated .*why=flip')
	quorum+=($((s - k))); quorumflip+=($((f - k)))
	for i in 1 2 3; do cl_reap "$i"; done
	echo "trial $t: single decision $((single[-1])) ms flip $((singleflip[-1])) ms;" \
	    "quorum decision $((quorum[-1])) ms flip $((quorumflip[-1])) ms"
done

stats() {	# NAME VALUES...: NAME_min/median/max
	local n=$1; shift
	local v
	v=($(printf '%s\n' "$@" | sort -n))
	echo "${n}_min_ms=${v[0]}"
	echo "${n}_median_ms=${v[$(( ${#v[@]} / 2 ))]}"
	echo "${n}_max_ms=${v[-1]}"
}
stats single_decision "${single[@]}"
stats single_flip "${singleflip[@]}"
stats quorum_decision "${quorum[@]}"
stats quorum_flip "${quorumflip[@]}"
sm=$(printf '%s\n' "${single[@]}" | sort -n | sed -n "$(( ${#single[@]} / 2 + 1 ))p")
qm=$(printf '%s\n' "${quorum[@]}" | sort -n | sed -n "$(( ${#quorum[@]} / 2 + 1 ))p")
echo "quorum_added_ms_median=$((qm - sm))"
