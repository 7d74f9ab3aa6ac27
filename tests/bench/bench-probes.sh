#!/bin/bash
# bench-probes.sh - failoverd's probe engine against HAProxy's httpchk, on
# the same loopback web heads in the same run.
#
# For each N in BENCH_SIZES (default "1000 10000"):
#   1. probe_benchsrv shards serve N ports (lib.sh: 5,000 ports per
#      process, each on its own loopback address: the fd hard limit here
#      is 20,000 and each port costs a listener and a kept-alive
#      connection);
#   2. probe_benchrun runs failoverd's engine, one probe per port at
#      interval 1s, BENCH_WARMUP s (default 3) then BENCH_SECONDS s
#      (default 20) measured: probes/s, CPU us per probe (user+system of
#      the probing process), lateness against the schedule p50/p99, RSS;
#   3. haproxy (Debian's) with one backend of N servers, option httpchk
#      GET /health, inter 1s, nbthread 1, for the same time: CPU us per
#      check from /proc/PID/stat, checks counted by the web heads.
# The two probers run one after the other, so they do not share the CPU,
# each pinned to CPU 0 with the web heads pinned to CPU 1 (when taskset
# and two CPUs are there), so that neither is preempted by the web heads.
# Then, at 1,000 endpoints for BENCH_TRACE_SECONDS (default 8; 0 skips
# it), what one check costs in system calls (strace -c) and in
# instructions (callgrind, at 200 endpoints): counts, not times, so they
# hold on a busy machine; a check is a request sent (one sendto).  Issue
# 18's point: the event on an idle kept-alive connection adds no system
# call to a check that finds nothing (the socket stays in epoll anyway).
# Output: key=value lines; the last is probe_cpu_ratio_vs_haproxy=<worst
# ratio over the sizes> (failoverd's CPU per probe / HAProxy's per check).
# bench-daemon.sh does the same for the whole daemon.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/bench/lib.sh"
RUNNER=$BENCHBIN/probe_benchrun
SIZES=${BENCH_SIZES:-1000 10000}
SECS=${BENCH_SECONDS:-20}
WARM=${BENCH_WARMUP:-3}

[ -x "$RUNNER" ] || { echo "bench-probes: missing $RUNNER (make bench-probes builds it)" >&2; exit 1; }
bench_init probes

worst=0
for N in $SIZES; do
	SRV_LIFE=$((4 * SECS + 120)) srv_start "$N"
	sed 's|.*|http://&/health|' "$dir/ports" >"$dir/urls"

	# failoverd's engine.
	r0=$(srv_requests)
	"${PIN_PROBER[@]}" "$RUNNER" -u "$dir/urls" -i 1000 -t 900 -w "$WARM" -d "$SECS" >"$dir/fo.out" 2>&1 ||
	    { echo "probe_benchrun failed" >&2; cat "$dir/fo.out" >&2; exit 1; }
	r1=$(srv_requests)
	sed "s/^/n${N}_failoverd_/" "$dir/fo.out"
	echo "n${N}_failoverd_requests_served=$((r1 - r0))"
	fo_cpu=$(sed -n 's/^cpu_us_per_probe=//p' "$dir/fo.out")

	# HAProxy, same heads, same rate.
	haproxy_run "n$N" "$SECS" "$WARM" "$fo_cpu" >/dev/null
	sed 's/_ratio_vs_haproxy=/_probe_cpu_ratio_vs_haproxy=/' "$dir/hap.out"
	ratio=$(sed -n 's/.*_ratio_vs_haproxy=//p' "$dir/hap.out")
	worst=$(awk -v a="$worst" -v b="$ratio" 'BEGIN { print (b > a ? b : a) }')
	srv_stop
done

# trace N SECS: syscalls (strace) or instructions (callgrind) per check.
TSECS=${BENCH_TRACE_SECONDS:-8}
trace() {		# TOOL N
	local tool=$1 n=$2 sent
	SRV_LIFE=$((TSECS + 60)) srv_start "$n"
	sed 's|.*|http://&/health|' "$dir/ports" >"$dir/urls"
	if [ "$tool" = strace ]; then
		strace -f -c -o "$dir/strace.out" "$RUNNER" -u "$dir/urls" -i 1000 -t 900 -w 1 -d "$TSECS" >/dev/null 2>&1
		sent=$(awk '$NF == "sendto" { print $4 }' "$dir/strace.out")
		awk -v s="${sent:-0}" -v n="$n" 's > 0 {
			if ($NF == "total") printf "n%d_syscalls_per_check=%.2f\n", n, $4 / s
			else if ($NF ~ /^(poll|epoll_ctl|epoll_wait|recvfrom|sendto)$/) printf "n%d_%s_per_check=%.2f\n", n, $NF, $4 / s
		}' "$dir/strace.out"
	else
		valgrind --tool=callgrind --callgrind-out-file="$dir/cg.out" "$RUNNER" -u "$dir/urls" \
		    -i 1000 -t 900 -w 1 -d "$TSECS" >"$dir/cg.run" 2>&1
		# Requests the heads served while it ran: every check, warm-up too.
		sent=$(srv_requests)
		awk -v s="$sent" -v n="$n" '/Collected :/ && s > 0 { printf "n%d_instructions_per_check=%d\n", n, $NF / s }' "$dir/cg.run"
	fi
	srv_stop
}
if [ "$TSECS" -gt 0 ]; then
	if command -v strace >/dev/null; then trace strace 1000; fi
	if command -v valgrind >/dev/null; then trace callgrind 200; fi
fi
echo "probe_cpu_ratio_vs_haproxy=$worst"
