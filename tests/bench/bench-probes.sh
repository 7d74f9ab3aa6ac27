#!/bin/bash
# bench-probes.sh - failoverd's probe engine against HAProxy's httpchk, on
# the same loopback web heads in the same run.
#
# For each N in BENCH_SIZES (default "1000 10000"):
#   1. probe_benchsrv shards serve N ports on 127.0.0.1 (5,000 ports per
#      process: the fd hard limit here is 20,000 and each port costs a
#      listener and a kept-alive connection);
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
# Output: key=value lines; the last is probe_cpu_ratio_vs_haproxy=<worst
# ratio over the sizes> (failoverd's CPU per probe / HAProxy's per check).
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BENCHBIN=${BENCHBIN:-$TOP/build/tests/bench}
SRV=$BENCHBIN/probe_benchsrv
RUNNER=$BENCHBIN/probe_benchrun
SIZES=${BENCH_SIZES:-1000 10000}
SECS=${BENCH_SECONDS:-20}
WARM=${BENCH_WARMUP:-3}
PER_SRV=5000
PIN_PROBER=() PIN_SRV=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
	PIN_PROBER=(taskset -c 0) PIN_SRV=(taskset -c 1)
fi

for b in "$SRV" "$RUNNER"; do
	[ -x "$b" ] || { echo "bench-probes: missing $b (make bench-probes builds it)" >&2; exit 1; }
done
HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)
[ -x "$HAPROXY" ] || { echo "bench-probes: haproxy not installed" >&2; exit 1; }

dir=$(mktemp -d /tmp/bench-probes.XXXXXX)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf "$dir"
}
trap cleanup EXIT
stop() {		# PID: stop one of ours and forget it
	local p keep=()
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	for p in "${pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	pids=("${keep[@]}")
}
ulimit -n "$(ulimit -Hn)" 2>/dev/null

wait_for() {		# FILE REGEX [tenths of a second]
	local i
	for ((i = 0; i < ${3:-100}; i++)); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

srv_pids=()
srv_requests() {	# sum of requests over the server shards
	local p f total=0 n v k=0
	for p in "${srv_pids[@]}"; do
		f=$dir/srv$k.out
		n=$(grep -c '^requests=' "$f")
		kill -USR1 "$p"
		for ((i = 0; i < 50; i++)); do
			[ "$(grep -c '^requests=' "$f")" -gt "$n" ] && break
			sleep 0.02
		done
		v=$(grep '^requests=' "$f" | tail -1 | sed 's/requests=\([0-9]*\).*/\1/')
		total=$((total + v))
		k=$((k + 1))
	done
	echo $total
}

cpu_ticks() {		# utime + stime of PID, in clock ticks
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

worst=0
for N in $SIZES; do
	# Web heads.
	srv_pids=()
	: >"$dir/ports"
	left=$N k=0 base=10000
	while [ "$left" -gt 0 ]; do
		n=$((left < PER_SRV ? left : PER_SRV))
		"${PIN_SRV[@]}" "$SRV" -n "$n" -p "$base" -o "$dir/ports$k" -T $((4 * SECS + 120)) \
		    >"$dir/srv$k.out" 2>&1 &
		srv_pids+=($!)
		pids+=($!)
		wait_for "$dir/srv$k.out" '^ready=' || { echo "server did not start" >&2; cat "$dir/srv$k.out" >&2; exit 1; }
		cat "$dir/ports$k" >>"$dir/ports"
		base=$(($(tail -1 "$dir/ports$k") + 1))
		left=$((left - n))
		k=$((k + 1))
	done
	sed 's|.*|http://127.0.0.1:&/health|' "$dir/ports" >"$dir/urls"

	# failoverd's engine.
	r0=$(srv_requests)
	"${PIN_PROBER[@]}" "$RUNNER" -u "$dir/urls" -i 1000 -t 900 -w "$WARM" -d "$SECS" >"$dir/fo.out" 2>&1 ||
	    { echo "probe_benchrun failed" >&2; cat "$dir/fo.out" >&2; exit 1; }
	r1=$(srv_requests)
	sed "s/^/n${N}_failoverd_/" "$dir/fo.out"
	echo "n${N}_failoverd_requests_served=$((r1 - r0))"
	fo_cpu=$(sed -n 's/^cpu_us_per_probe=//p' "$dir/fo.out")

	# HAProxy, same heads, same rate.
	{
		printf 'global\n\tnbthread 1\n\tmaxconn 500\n'
		printf 'defaults\n\tmode http\n\ttimeout connect 900ms\n'
		printf '\ttimeout client 5s\n\ttimeout server 5s\n\ttimeout check 900ms\n'
		printf 'frontend unused\n\tbind unix@%s/haproxy.sock\n' "$dir"
		printf '\tdefault_backend heads\n'
		printf 'backend heads\n\toption httpchk GET /health\n'
		printf '\tdefault-server check inter 1s fall 3 rise 2\n'
		awk '{ printf "\tserver s%d 127.0.0.1:%s\n", NR, $1 }' "$dir/ports"
	} >"$dir/haproxy.cfg"
	"${PIN_PROBER[@]}" "$HAPROXY" -f "$dir/haproxy.cfg" -db >"$dir/haproxy.log" 2>&1 &
	hp=$!
	pids+=($hp)
	sleep "$WARM"
	if ! kill -0 "$hp" 2>/dev/null; then
		echo "haproxy did not start" >&2; cat "$dir/haproxy.log" >&2; exit 1
	fi
	c0=$(cpu_ticks "$hp")
	q0=$(srv_requests)
	t0=$(date +%s%N)
	sleep "$SECS"
	c1=$(cpu_ticks "$hp")
	q1=$(srv_requests)
	t1=$(date +%s%N)
	hrss=$(awk '/^VmRSS/ { print $2 }' "/proc/$hp/status")
	stop "$hp"
	tck=$(getconf CLK_TCK)
	checks=$((q1 - q0))
	awk -v c=$((c1 - c0)) -v tck="$tck" -v n="$checks" -v ns=$((t1 - t0)) \
	    -v rss="$hrss" -v N="$N" -v fo="$fo_cpu" '
	BEGIN {
		secs = ns / 1e9; cpu = c / tck
		per = n ? cpu * 1e6 / n : 0
		printf "n%d_haproxy_checks_per_s=%.0f\n", N, n / secs
		printf "n%d_haproxy_cpu_util=%.3f\n", N, cpu / secs
		printf "n%d_haproxy_cpu_us_per_check=%.1f\n", N, per
		printf "n%d_haproxy_rss_kib=%d\n", N, rss
		printf "n%d_probe_cpu_ratio_vs_haproxy=%.3f\n", N, per ? fo / per : 0
	}' | tee "$dir/hap.out"
	ratio=$(sed -n 's/.*_probe_cpu_ratio_vs_haproxy=//p' "$dir/hap.out")
	worst=$(awk -v a="$worst" -v b="$ratio" 'BEGIN { print (b > a ? b : a) }')

	for p in "${srv_pids[@]}"; do stop "$p"; done
done
echo "probe_cpu_ratio_vs_haproxy=$worst"
