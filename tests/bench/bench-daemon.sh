#!/bin/bash
# bench-daemon.sh - the WHOLE daemon (probes, health, engine, group commit,
# probe log, DNS) at scale, against HAProxy's httpchk on the same web heads
# in the same run.
#
#  1. N endpoints (BENCH_DAEMON_N, default 10,000: stacks s1..sN) in N/2
#     groups (g1..gN/2, primary s(2i-1), backup s(2i)), one probe_benchsrv
#     port each (keep-alive, so the 10,000 kept-alive connections fit), a
#     real named for the zone, interval 1 s.  failoverd starts on an empty
#     state and publishes every group's record; then, after BENCH_WARMUP s
#     (default 5), BENCH_SECONDS s (default 20) are measured:
#       daemon_publish_ms          start to the last first publication
#                                  (goal < 1,000 for 5,000 records)
#       daemon_cpu_us_per_check    user+system CPU of failoverd / checks
#                                  served by the web heads
#       daemon_checks_vs_schedule  checks/s against N/interval (goal >= 99 %)
#       daemon_rss_kib_per_endpoint  VmRSS / N (goal < 16)
#     then HAProxy (nbthread 1, option httpchk, inter 1s) on the same ports:
#       daemon_cpu_ratio_vs_haproxy   (goal <= 0.5)
#  2. Scaling (BENCH_SCALE_SIZES, default "1000 10000 30000"): the same
#     daemon at each size probing at the same rate, 1,000 checks a second
#     (interval N/1000 s), web heads that close every connection (30,000
#     kept-alive connections would not fit the 20,000 file descriptors a
#     process may have here).  Per-check work that grew with the number of
#     stacks or groups would show as CPU per check growing with N:
#       scale_nN_cpu_us_per_check, and daemon_cpu_per_check_spread =
#       largest / smallest (goal <= 1.25: flat).
# failoverd and HAProxy run one after the other, each pinned to CPU 0, the
# web heads and named on CPU 1 (when there are two).
# Last line: daemon_cpu_ratio_vs_haproxy=<ratio>.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
FAILOVERD=${FAILOVERD:-$TOP/build/failoverd}
. "$TOP/tests/lib/named.sh"
. "$TOP/tests/bench/lib.sh"
N=${BENCH_DAEMON_N:-10000}
SECS=${BENCH_SECONDS:-20}
WARM=${BENCH_WARMUP:-5}
SCALE=${BENCH_SCALE_SIZES-1000 10000 30000}
[ -x "$FAILOVERD" ] || { echo "bench-daemon: missing $FAILOVERD" >&2; exit 1; }
bench_init daemon
named_start "$dir/named" || { echo "bench-daemon: named did not start" >&2; exit 1; }
# named answers the whole daemon's UPDATEs: keep it off the prober's CPU.
[ ${#PIN_SRV[@]} -gt 0 ] && taskset -p -c 1 "$NAMED_PID" >/dev/null 2>&1

ms_of() {		# the ts= of a log line, in ms since the epoch
	sed -n 's/^ts=\([^ ]*\) .*/\1/p' | xargs -I{} date -d {} +%s%3N
}

# run N INTERVAL_MS PREFIX: start failoverd, wait until every record is
# published and every stack is up, measure; prints PREFIX_* figures and
# sets FO_CPU_US.
run() {
	local n=$1 iv=$2 pre=$3 groups=$(($1 / 2)) fo log c0 c1 q0 q1 t0 t1 rss
	local tstart tready tpub tenths=$((600 + n / 10)) expect i
	log=$dir/fo-$pre.log
	rm -rf "$dir/state"
	daemon_conf "$n" "$iv" >"$dir/failoverd.conf"
	"$FAILOVERD" -t -c "$dir/failoverd.conf" >"$dir/check.out" 2>&1 ||
	    { echo "bench-daemon: bad configuration" >&2; head "$dir/check.out" >&2; exit 1; }
	bench_bg "${PIN_PROBER[@]}" "$FAILOVERD" -c "$dir/failoverd.conf" >"$log" 2>&1
	fo=$BG_PID
	wait_for "$log" 'event=ready' "$tenths" || { echo "bench-daemon: not ready" >&2; tail "$log" >&2; exit 1; }
	for ((i = 0; i < tenths; i++)); do
		[ "$(grep -c 'event=dns_updated .*why=publish' "$log")" -ge "$groups" ] && break
		kill -0 "$fo" 2>/dev/null || break
		sleep 0.1
	done
	[ "$(grep -c 'event=dns_updated .*why=publish' "$log")" -ge "$groups" ] ||
	    { echo "bench-daemon: only $(grep -c 'event=dns_updated .*why=publish' "$log") of $groups published" >&2; tail "$log" >&2; exit 1; }
	for ((i = 0; i < tenths; i++)); do
		[ "$(grep -c 'event=health_change .*to=up' "$log")" -ge "$n" ] && break
		sleep 0.1
	done
	tstart=$(grep -m1 'event=start ' "$log" | ms_of)
	tready=$(grep -m1 'event=ready ' "$log" | ms_of)
	tpub=$(grep 'event=dns_updated .*why=publish' "$log" | tail -1 | ms_of)
	echo "${pre}_endpoints=$n"
	echo "${pre}_groups=$groups"
	# From start (configuration, store, descriptors) and, as bench-dns
	# measures it, from ready (the zone read back, then the UPDATEs).
	echo "${pre}_publish_ms=$((tpub - tstart))"
	echo "${pre}_publish_from_ready_ms=$((tpub - tready))"
	echo "${pre}_stacks_up=$(grep -c 'event=health_change .*to=up' "$log")"
	sleep "$WARM"
	c0=$(cpu_ticks "$fo")
	q0=$(srv_requests)
	t0=$(date +%s%N)
	sleep "$SECS"
	c1=$(cpu_ticks "$fo")
	q1=$(srv_requests)
	t1=$(date +%s%N)
	rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$fo/status")
	# Where the RSS is: the heap and other anonymous memory, the mapped
	# files (the LMDB map, the binaries).
	awk -v p="$pre" '/^RssAnon/ { printf "%s_rss_anon_kib=%d\n", p, $2 }
	    /^VmHWM/ { printf "%s_rss_peak_kib=%d\n", p, $2 }
	    /^RssFile/ { printf "%s_rss_file_kib=%d\n", p, $2 }' "/proc/$fo/status"
	bench_stop "$fo"
	grep -E 'level=(warn|error)' "$log" | head -3 >&2
	expect=$(awk -v n="$n" -v iv="$iv" 'BEGIN { print n * 1000 / iv }')
	awk -v c=$((c1 - c0)) -v tck="$(getconf CLK_TCK)" -v q=$((q1 - q0)) \
	    -v ns=$((t1 - t0)) -v rss="$rss" -v n="$n" -v p="$pre" -v want="$expect" '
	BEGIN {
		secs = ns / 1e9; cpu = c / tck
		printf "%s_checks_per_s=%.0f\n", p, q / secs
		printf "%s_checks_vs_schedule=%.4f\n", p, q / secs / want
		printf "%s_cpu_util=%.3f\n", p, cpu / secs
		printf "%s_cpu_us_per_check=%.1f\n", p, q ? cpu * 1e6 / q : 0
		printf "%s_rss_kib=%d\n", p, rss
		printf "%s_rss_kib_per_endpoint=%.1f\n", p, rss / n
	}' | tee "$dir/run.out"
	FO_CPU_US=$(sed -n 's/.*_cpu_us_per_check=//p' "$dir/run.out")
}

# ---- 1. the whole daemon at N endpoints, then HAProxy on them ----
srv_start "$N"
run "$N" 1000 daemon
haproxy_run daemon "$SECS" 3 "$FO_CPU_US" >/dev/null
sed 's/_ratio_vs_haproxy=/_cpu_ratio_vs_haproxy=/' "$dir/hap.out"
ratio=$(sed -n 's/.*_ratio_vs_haproxy=//p' "$dir/hap.out")
srv_stop

# ---- 2. the same at several sizes, 1,000 checks a second ----
per=()
for S in $SCALE; do
	srv_start "$S" -c
	run "$S" "$S" "scale_n$S" >"$dir/scale.out"
	cat "$dir/scale.out"
	per+=("$FO_CPU_US")
	srv_stop
done
if [ ${#per[@]} -gt 1 ]; then
	printf '%s\n' "${per[@]}" | awk '
	{ v = $1 + 0; if (NR == 1 || v < lo) lo = v; if (NR == 1 || v > hi) hi = v }
	END { printf "daemon_cpu_per_check_spread=%.2f\n", lo ? hi / lo : 0 }'
fi
echo "daemon_cpu_ratio_vs_haproxy=$ratio"
