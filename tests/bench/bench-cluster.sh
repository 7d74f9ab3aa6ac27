#!/bin/bash
# bench-cluster.sh - the cluster's figures (issue 14): three failoverd
# members on a real three-member etcd (tests/lib/etcd.sh: heartbeat 50 ms,
# election 500 ms), one named with TSIG, on loopback.
#
#  1. takeover (BENCH_CLUSTER_TRIALS, default 20, at each lease_ttl of
#     BENCH_CLUSTER_TTLS, default "2 10"): the leader is SIGKILLed a random
#     0-999 ms after the members have settled; from the kill to the new
#     leader's leader_elected and to its owner_claimed (the ownership TXT
#     replaced with its epoch: its first act, accepted by named).
#     Prints min/median/p90/max; goal: acting <= lease_ttl + 500 ms.
#  2. flip (BENCH_CLUSTER_FLIP_TRIALS, default the same; lease_ttl 2 s,
#     interval 200 ms, fastinter 100 ms, fall 3, the recording hooks):
#     the active stack's web head and the leader SIGKILLed at once; from
#     the kill to the record flipped as dig sees it.  Then the stack comes
#     back as the standby, the member restarts and the group is rearmed,
#     for the next trial the other way.  Goal (median) <= fall x interval
#     + lease_ttl + 1 s.
#  3. idle (BENCH_CLUSTER_GROUPS, default 1,000 groups, 2,000 stacks on
#     probe_benchsrv, interval BENCH_CLUSTER_INTERVAL_MS (default 2000),
#     timeout 900 ms, lease_ttl 10 s, no hooks): once every record is
#     published and every stack up, BENCH_CLUSTER_IDLE_S (default 20)
#     seconds of nothing: etcd's writes (etcd_mvcc_put_total, the store
#     revision, etcd_server_proposals_committed_total from member 1's
#     /metrics) per second and per probe, the leader's state changes
#     (health and TTL lines of its log) in the same window, and each
#     member's CPU; then the same groups on one failoverd alone, for its
#     CPU in the same run.
#  4. mass: every primary's web head (one probe_benchsrv process)
#     SIGKILLed at once; from the kill to the last of the flips accepted by
#     named, in the cluster (the leader's log) and alone.  Goal: cluster
#     within 2x of alone.  The followers run (the default,
#     BENCH_CLUSTER_MASS_FOLLOWERS=run): with the quorum of vantage points
#     the leader fails a group over only once a majority of the live
#     members see its primary down, and a SIGSTOPped member stays live
#     until its lease ends, so "stop" measures lease_ttl, not the cluster.
# BENCH_CLUSTER_PARTS (default "takeover flip idle") picks parts; mass
# runs with idle, on its world.  Last line: cluster_mass_ratio_vs_single.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
export FAILOVERD=${FAILOVERD:-$TOP/build/failoverd}
export FAILOVERCTL=${FAILOVERCTL:-$TOP/build/failoverctl}
export TOOLS=${TOOLS:-$TOP/build/tests/integration}
command -v etcd >/dev/null || { echo "bench-cluster: no etcd (make deps)" >&2; exit 1; }
. "$TOP/tests/lib/fo.sh"
. "$TOP/tests/lib/etcd.sh"
. "$TOP/tests/lib/cluster.sh"
. "$TOP/tests/bench/lib.sh"
dir=$FO
[ -n "${BENCH_KEEP:-}" ] && FO_KEEP=1
_bc_cleanup() {
	local p
	for p in "${bench_pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	for p in "${bench_pids[@]}"; do wait "$p" 2>/dev/null; done
	return 0
}
named_trap_add _bc_cleanup
# Only this shell cleans up.  Seen here once: a command substitution's
# child ran the EXIT trap (bash: "wait_for: No record of process"), which
# stopped named and etcd under the running benchmark.
trap '[ "$BASHPID" = "$$" ] && _etcd_on_exit' EXIT
ulimit -n "$(ulimit -Hn)" 2>/dev/null

TRIALS=${BENCH_CLUSTER_TRIALS:-20}
TTLS=${BENCH_CLUSTER_TTLS:-2 10}
FTRIALS=${BENCH_CLUSTER_FLIP_TRIALS:-$TRIALS}
NG=${BENCH_CLUSTER_GROUPS:-1000}
IDLE_S=${BENCH_CLUSTER_IDLE_S:-20}
PARTS=${BENCH_CLUSTER_PARTS:-takeover flip idle}
IVMS=${BENCH_CLUSTER_INTERVAL_MS:-2000}
MASS_FOLLOWERS=${BENCH_CLUSTER_MASS_FOLLOWERS:-run}
has_part() { case " $PARTS " in *" $1 "*) return 0 ;; esac; return 1; }

now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }
ts_ms() {	# a log line: its ts= in ms since the epoch
	local ts
	ts=$(echo "$1" | sed -n 's/^ts=\([^ ]*\) .*/\1/p')
	[ -n "$ts" ] && date -d "$ts" +%s%3N
}
# The first line of FILE matching REGEX whose ts is at or after T (ms).
line_after() {	# FILE REGEX T
	local l t
	while IFS= read -r l; do
		t=$(ts_ms "$l") || continue
		[ -n "$t" ] && [ "$t" -ge "$3" ] && { echo "$t"; return 0; }
	done < <(grep -E -- "$2" "$1" 2>/dev/null)
	return 1
}
stats() {	# PREFIX VALUES...: PREFIX_{n,min,median,p90,max}_ms
	local p=$1; shift
	[ $# -gt 0 ] || { echo "${p}_n=0"; return; }
	printf '%s\n' "$@" | sort -n | awk -v p="$p" '{ v[NR] = $1 } END {
		n = NR; i90 = int(0.9 * n + 0.999); if (i90 < 1) i90 = 1
		printf "%s_n=%d\n%s_min_ms=%d\n%s_median_ms=%d\n%s_p90_ms=%d\n%s_max_ms=%d\n",
		    p, n, p, v[1], p, v[int((n + 1) / 2)], p, v[i90], p, v[n] }'
}
median_of() { sed -n "s/^$1_median_ms=//p"; }
rsleep() { sleep "$(printf '0.%03d' $((RANDOM % 1000)))"; }

stop_members() {
	local i k st
	for i in "${!CL_PID[@]}"; do cl_kill "$i" TERM; done
	for i in "${!CL_PID[@]}"; do
		for ((k = 0; k < 300; k++)); do
			st=$(awk '{print $3}' "/proc/${CL_PID[$i]}/stat" 2>/dev/null)
			{ [ -z "$st" ] || [ "$st" = Z ]; } && break
			sleep 0.05
		done
		cl_reap "$i"
	done
}

# Every member runs and follows the leader, which has claimed www.
settled() {
	local l=$(cl_leader) i e
	[ -n "$l" ] || return 1
	e=$(cl_epoch "$l")
	grep -q "event=owner_claimed group=www .*epoch=$e\|event=dns_updated" "$FO/m$l.log" || return 1
	[ "$(cl_txt_epoch)" = "$e" ] || return 1
	for i in "${!CL_PID[@]}"; do
		[ "$i" = "$l" ] && continue
		grep -q "event=cluster_leader member=m$i leader=m$l" "$FO/m$i.log" || return 1
	done
	[ ${#CL_PID[@]} = 3 ]
}

cl_world
FO_HOLD_DOWN=1s

# ---- 1. takeover ----
if has_part takeover; then
for ttl in $TTLS; do
	CL_TTL=$ttl
	for i in 1 2 3; do cl_conf "$i"; rm -rf "$FO/state$i"; done
	for i in 1 2 3; do cl_start "$i"; done
	fo_wait 30 settled || cl_fail "ttl $ttl: never settled"
	el=() ac=()
	for ((t = 0; t < TRIALS; t++)); do
		fo_wait $((3 * ttl + 20)) settled || { echo "ttl $ttl trial $t: not settled" >&2; break; }
		L=$(cl_leader)
		rsleep
		t0=$(now_ms)
		cl_reap "$L"
		fo_wait $((2 * ttl + 10)) cl_leader || { echo "ttl $ttl trial $t: nobody took over" >&2; break; }
		N=$(cl_leader)
		e=$(cl_epoch "$N")
		fo_wait 10 grep -q "event=owner_claimed group=www .*epoch=$e" "$FO/m$N.log" ||
		    { echo "ttl $ttl trial $t: m$N never claimed www" >&2; break; }
		te=$(line_after "$FO/m$N.log" 'event=leader_elected' "$t0")
		ta=$(line_after "$FO/m$N.log" "event=owner_claimed group=www .*epoch=$e" "$t0")
		el+=($((te - t0))); ac+=($((ta - t0)))
		cl_start "$L"
	done
	stop_members
	echo "takeover_ttl${ttl}_lease_ttl_ms=$((ttl * 1000))"
	stats "takeover_ttl${ttl}_elected" "${el[@]}"
	stats "takeover_ttl${ttl}_acting" "${ac[@]}" | tee "$FO/tk$ttl.out"
	echo "takeover_ttl${ttl}_acting_goal_ms=$((ttl * 1000 + 500))"
done
fi

# ---- 2. primary stack and leader killed together ----
if has_part flip; then
CL_TTL=2
# fo_webhead's web heads end after 300 s: fresh ones, on the same ports.
for s in app1 app2; do
	fo_webhead_stop "$s"
	fo_webhead "$s" "$(eval echo "\$WH_PORT_$s")"
done
for i in 1 2 3; do cl_conf "$i"; rm -rf "$FO/state$i"; done
for i in 1 2 3; do cl_start "$i"; done
fo_wait 30 settled || cl_fail "flip: never settled"
active_stack() {
	case $(fo_dig "$W" CNAME) in app1.example.net.) echo app1; return ;; esac
	case $(fo_dig "$W" A) in 127.0.0.2) echo app2; return ;; esac
	echo ""
}
# The leader says the group serves and its standby is up.
ready_to_flip() {
	local l=$(cl_leader) j
	[ -n "$l" ] && settled || return 1
	j=$("$FAILOVERCTL" -c "$FO/m$l.conf" status www --json 2>/dev/null) || return 1
	[ "$(echo "$j" | jq -r '.status')" = serving ] || return 1
	[ "$(echo "$j" | jq -r '[.stacks[] | select(.health == "up")] | length')" = 2 ]
}
fl=()
for ((t = 0; t < FTRIALS; t++)); do
	fo_wait 40 ready_to_flip || { echo "flip trial $t: not ready" >&2; break; }
	A=$(active_stack); B=app1; [ "$A" = app1 ] && B=app2
	L=$(cl_leader)
	rsleep
	t0=$(now_ms)
	kill -9 "${WH_PID[$A]}" "${CL_PID[$L]}"
	wait "${WH_PID[$A]}" 2>/dev/null; unset "WH_PID[$A]"
	cl_reap "$L"
	for ((k = 0; k < 2000; k++)); do
		[ "$(active_stack)" = "$B" ] && break
		sleep 0.01
	done
	t1=$(now_ms)
	[ "$(active_stack)" = "$B" ] || { echo "flip trial $t: no flip to $B" >&2; break; }
	fl+=($((t1 - t0)))
	# Back: the dead stack returns as the standby, the member restarts,
	# the group is rearmed on the leader.
	fo_maint "$A" on
	fo_webhead "$A" "$(eval echo "\$WH_PORT_$A")"
	cl_start "$L"
	for ((k = 0; k < 100; k++)); do
		l=$(cl_leader)
		[ -n "$l" ] && [ "$("$FAILOVERCTL" -c "$FO/m$l.conf" status www --json 2>/dev/null | jq -r .status)" = wait_rearm ] &&
		    "$FAILOVERCTL" -c "$FO/m$l.conf" rearm www >/dev/null 2>&1 && break
		sleep 0.2
	done
done
stop_members
echo "flip_fall=3 flip_interval_ms=200 flip_lease_ttl_ms=2000"
stats flip_record "${fl[@]}"
echo "flip_record_median_goal_ms=$((3 * 200 + 2000 + 1000))"
fi

# ---- 3 and 4. 1,000 groups: idle, then all at once ----
if has_part idle; then
SRVB=$BENCHBIN/probe_benchsrv
[ -x "$SRVB" ] || { echo "bench-cluster: missing $SRVB" >&2; exit 1; }
srv() {		# NAME ADDR [-c]: G endpoints; ports in $FO/NAME.ports
	local n=$1 a=$2; shift 2
	bench_bg "${PIN_SRV[@]}" "$SRVB" -n "$NG" -a "$a" -p 10000 -o "$FO/$n.ports" -T 1800 "$@" >"$FO/$n.out" 2>&1
	eval "SRV_$n=$BG_PID"
	wait_for "$FO/$n.out" '^ready=' || { echo "bench-cluster: $n did not start" >&2; cat "$FO/$n.out" >&2; exit 1; }
}
big_conf() {	# STATE_DIR ADDR_PREFIX PRIMARY_PORTS BACKUP_PORTS [CLUSTER_TAIL]
	cat <<CONF
[controller]
state_dir = $1
listen = off
name = bench-ctl
map_size = 1G

[dns]
server = 127.0.0.1:$NAMED_PORT
zone = $NAMED_ZONE
key_file = $NAMED_KEYFILE
confirm = 127.0.0.1:$NAMED_PORT
timeout = 2s
verify_interval = 1h
CONF
	paste -d' ' "$3" "$4" | awk -v pre="$2" -v iv="$IVMS" '{
		for (s = 1; s <= 2; s++) {
			printf "\n[stack %s%d]\nweb_head = %s%d.example.net\n", s == 1 ? "p" : "b", NR, s == 1 ? "p" : "b", NR
			printf "health_url = http://%s/health\n", $s
			printf "interval = %dms\nfastinter = 200ms\ntimeout = 900ms\nrise = 2\nfall = 3\n", iv
		}
		printf "\n[group g%d]\naddress = %s%d\nprimary = p%d\nbackup = b%d\nttl = 60s\nhold_down = 1s\n", NR, pre, NR, NR, NR
	}'
	printf '%s\n' "${5:-}"
}
etcd_metric() {	# NAME: member 1's value
	curl -s --max-time 2 "$ETCD_URL_1/metrics" | awk -v m="$1" '$1 == m { print int($2) }'
}
# Until LOG has every group published and every stack up (bounded).
big_ready() {	# LOG
	local i
	for ((i = 0; i < 600 + NG / 5; i++)); do
		[ "$(grep -c 'event=health_change .*to=up' "$1")" -ge $((2 * NG)) ] &&
		    [ "$(grep -c 'event=dns_updated' "$1")" -ge 1 ] &&
		    [ "$(grep -c 'event=record_published\|why=publish' "$1")" -ge "$NG" ] && return 0
		sleep 0.1
	done
	return 1
}
# The time from T0 to the last of NG flips in LOG (bounded).
mass_flip() {	# LOG T0
	local i tl
	for ((i = 0; i < 900; i++)); do
		[ "$(grep -c 'event=dns_updated .*why=flip' "$1")" -ge "$NG" ] && break
		sleep 0.1
	done
	echo "flipped=$(grep -c 'event=dns_updated .*why=flip' "$1")" >&2
	tl=$(ts_ms "$(grep 'event=dns_updated .*why=flip' "$1" | tail -1)")
	echo $(( ${tl:-0} - $2 ))
}
tck=$(getconf CLK_TCK)
served() {	# requests the cluster's two probe_benchsrv have answered
	local n f t=0
	kill -USR1 "$SRV_cp" "$SRV_cb"
	sleep 0.3
	for f in cp cb; do
		n=$(grep '^requests=' "$FO/$f.out" | tail -1 | sed 's/requests=\([0-9]*\).*/\1/')
		t=$((t + ${n:-0}))
	done
	echo "$t"
}

# The cluster.
srv cp 127.0.5.1
srv cb 127.0.6.1 -c
urls=; for u in ${ETCD_ENDPOINTS//,/ }; do urls="${urls}etcd = $u"$'\n'; done
for i in 1 2 3; do
	big_conf "$FO/bstate$i" c "$FO/cp.ports" "$FO/cb.ports" "
[cluster]
${urls}member = b$i
prefix = /fo-bench/
lease_ttl = 10s" >"$FO/b$i.conf"
	"$FAILOVERD" -t -c "$FO/b$i.conf" >/dev/null || cl_fail "big config b$i: $("$FAILOVERD" -t -c "$FO/b$i.conf" 2>&1 | head -3)"
done
declare -A BPID
for i in 1 2 3; do
	bench_bg "${PIN_PROBER[@]}" "$FAILOVERD" -c "$FO/b$i.conf" >"$FO/b$i.log" 2>&1
	BPID[$i]=$BG_PID
done
BL=
for ((k = 0; k < 300; k++)); do
	for i in 1 2 3; do grep -q 'event=leader_elected' "$FO/b$i.log" && BL=$i; done
	[ -n "$BL" ] && break
	sleep 0.1
done
[ -n "$BL" ] || cl_fail "idle: nobody leads the 1,000 groups"
big_ready "$FO/b$BL.log" || echo "idle: the leader b$BL is not ready: $(grep -c 'to=up' "$FO/b$BL.log") up, $(grep -c 'event=record_published\|why=publish' "$FO/b$BL.log") published" >&2
for i in 1 2 3; do
	[ "$i" = "$BL" ] && continue
	for ((k = 0; k < 300; k++)); do
		[ "$(grep -c 'event=health_change .*to=up' "$FO/b$i.log")" -ge $((2 * NG)) ] && break
		sleep 0.1
	done
done
sleep 3
p0=$(etcd_metric etcd_mvcc_put_total); r0=$(etcd_metric etcd_server_proposals_committed_total)
v0=$(etcd_metric etcd_debugging_mvcc_current_revision)
declare -A C0
for i in 1 2 3; do C0[$i]=$(cpu_ticks "${BPID[$i]}"); done
q0=$(served)
ti0=$(now_ms)
n0=$(grep -cE 'event=(health_|ttl_)' "$FO/b$BL.log")
sleep "$IDLE_S"
ti1=$(now_ms)
n1=$(grep -cE 'event=(health_|ttl_)' "$FO/b$BL.log")
p1=$(etcd_metric etcd_mvcc_put_total); r1=$(etcd_metric etcd_server_proposals_committed_total)
v1=$(etcd_metric etcd_debugging_mvcc_current_revision)
declare -A C1
for i in 1 2 3; do C1[$i]=$(cpu_ticks "${BPID[$i]}"); done
q1=$(served)
secs_ms=$((ti1 - ti0))
echo "idle_groups=$NG idle_stacks=$((2 * NG)) idle_interval_ms=$IVMS idle_seconds=$((secs_ms / 1000))"
awk -v p=$((p1 - p0)) -v r=$((r1 - r0)) -v q=$((q1 - q0)) -v ms=$secs_ms -v v=$((v1 - v0)) -v n=$((n1 - n0)) 'BEGIN {
	printf "idle_leader_state_changes_per_s=%.2f\n", n * 1000 / ms
	printf "idle_etcd_puts_per_state_change=%.2f\n", n ? p / n : 0
	printf "idle_probes_per_s=%.0f\n", q * 1000 / ms
	printf "idle_etcd_puts_per_s=%.2f\n", p * 1000 / ms
	printf "idle_etcd_revisions_per_s=%.2f\n", v * 1000 / ms
	printf "idle_etcd_proposals_per_s=%.2f\n", r * 1000 / ms
	printf "idle_etcd_puts_per_probe=%.5f\n", q ? p / q : 0
}'
fcpu=0
for i in 1 2 3; do
	c=$(awk -v c=$((C1[$i] - C0[$i])) -v t="$tck" -v ms=$secs_ms 'BEGIN { printf "%.3f", c / t * 1000 / ms }')
	role=follower; [ "$i" = "$BL" ] && role=leader
	echo "idle_cluster_${role}_b${i}_cpu_util=$c"
	[ "$i" = "$BL" ] && lcpu=$c
	[ "$i" != "$BL" ] && fcpu=$c
done
# All at once, in the cluster.
if [ "$MASS_FOLLOWERS" = stop ]; then
	for i in 1 2 3; do [ "$i" = "$BL" ] || kill -STOP "${BPID[$i]}"; done
fi
echo "mass_cluster_followers=$MASS_FOLLOWERS"
p0=$(etcd_metric etcd_mvcc_put_total); r0=$(etcd_metric etcd_server_proposals_committed_total)
t0=$(now_ms)
kill -9 "$SRV_cp"; wait "$SRV_cp" 2>/dev/null
cms=$(mass_flip "$FO/b$BL.log" "$t0")
echo "mass_cluster_last_flip_ms=$cms"
sleep 1
p1=$(etcd_metric etcd_mvcc_put_total); r1=$(etcd_metric etcd_server_proposals_committed_total)
echo "mass_cluster_etcd_puts=$((p1 - p0)) mass_cluster_etcd_proposals=$((r1 - r0))"
for i in 1 2 3; do kill -CONT "${BPID[$i]}"; bench_stop "${BPID[$i]}"; done
bench_stop "$SRV_cb"

# Alone: the same groups, other addresses, other web heads.
srv sp 127.0.7.1
srv sb 127.0.8.1 -c
big_conf "$FO/sstate" s "$FO/sp.ports" "$FO/sb.ports" >"$FO/single.conf"
bench_bg "${PIN_PROBER[@]}" "$FAILOVERD" -c "$FO/single.conf" >"$FO/single.log" 2>&1
SP=$BG_PID
big_ready "$FO/single.log" || echo "idle: the single daemon is not ready" >&2
sleep 3
s0=$(cpu_ticks "$SP"); ts0=$(now_ms)
sleep "$IDLE_S"
s1=$(cpu_ticks "$SP"); ts1=$(now_ms)
scpu=$(awk -v c=$((s1 - s0)) -v t="$tck" -v ms=$((ts1 - ts0)) 'BEGIN { printf "%.3f", c / t * 1000 / ms }')
echo "idle_single_cpu_util=$scpu"
awk -v l="$lcpu" -v f="$fcpu" -v s="$scpu" 'BEGIN {
	printf "idle_leader_cpu_ratio_vs_single=%.2f\nidle_follower_cpu_ratio_vs_single=%.2f\n", s ? l / s : 0, s ? f / s : 0 }'
t0=$(now_ms)
kill -9 "$SRV_sp"; wait "$SRV_sp" 2>/dev/null
sms=$(mass_flip "$FO/single.log" "$t0")
echo "mass_single_last_flip_ms=$sms"
bench_stop "$SP"
bench_stop "$SRV_sb"
awk -v c="$cms" -v s="$sms" 'BEGIN { printf "cluster_mass_ratio_vs_single=%.2f\n", (s > 0) ? c / s : 0 }'
fi
