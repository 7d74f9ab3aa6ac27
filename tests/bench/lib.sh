# lib.sh - what the benchmarks share (sourced by bench-*.sh):
#
#   bench_init NAME           temp dir $dir, cleanup at exit (after
#                             named's, when tests/lib/named.sh is loaded)
#   bench_bg CMD...           start CMD as our child; its pid in $BG_PID
#   bench_stop PID            stop one of ours and forget it
#   wait_for FILE REGEX [N]   poll for N tenths of a second (default 100)
#   cpu_ticks PID             utime + stime of PID, in clock ticks
#   srv_start N [-c]          probe_benchsrv shards serving N endpoints,
#                             5,000 per process, each shard on its own
#                             loopback address (127.0.1.K) so that no
#                             size runs out of ports; "addr:port" lines in
#                             $dir/ports; -c: every answer closes
#   srv_requests              requests served so far, over the shards
#   srv_stop                  stop every shard
#   haproxy_run PREFIX SECS WARM FO_CPU
#                             HAProxy (nbthread 1, option httpchk GET
#                             /health, inter 1s) on $dir/ports for WARM +
#                             SECS seconds; prints PREFIX_haproxy_* figures
#                             and PREFIX_ratio_vs_haproxy=FO_CPU/its CPU
#                             per check, also in $dir/hap.out; sets
#                             HAP_CPU_US (call it in this shell, not in
#                             a pipe, so that it forgets what it stops)
#   daemon_conf N INTERVAL_MS a whole daemon's configuration (below)
#
# PIN_PROBER / PIN_SRV: taskset prefixes (CPU 0 for the prober, CPU 1 for
# the web heads) when there are two CPUs, so that neither preempts the
# other.
BENCHBIN=${BENCHBIN:-$TOP/build/tests/bench}
SRV=$BENCHBIN/probe_benchsrv
PER_SRV=5000
PIN_PROBER=() PIN_SRV=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
	PIN_PROBER=(taskset -c 0) PIN_SRV=(taskset -c 1)
fi
bench_pids=()
srv_pids=()

_bench_cleanup() {
	local p
	for p in "${bench_pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${bench_pids[@]}"; do wait "$p" 2>/dev/null; done
	if declare -F named_stop >/dev/null; then named_stop; fi
	if [ -n "${BENCH_KEEP:-}" ]; then echo "bench: kept $dir" >&2; else rm -rf "$dir"; fi
}

bench_init() {		# NAME
	dir=$(mktemp -d "/tmp/bench-$1.XXXXXX")
	if declare -F named_trap_add >/dev/null; then
		named_trap_add _bench_cleanup
	else
		trap _bench_cleanup EXIT
	fi
	ulimit -n "$(ulimit -Hn)" 2>/dev/null
	[ -x "$SRV" ] || { echo "bench: missing $SRV (make bench builds it)" >&2; exit 1; }
}

bench_bg() {
	"$@" &
	BG_PID=$!
	bench_pids+=("$BG_PID")
}

bench_stop() {		# PID
	local p keep=()
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	for p in "${bench_pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	bench_pids=("${keep[@]}")
}

wait_for() {		# FILE REGEX [tenths of a second]
	local i
	for ((i = 0; i < ${3:-100}; i++)); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

cpu_ticks() {		# PID
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

srv_start() {		# N [-c]
	local left=$1 n k=0 life=${SRV_LIFE:-900}
	shift
	srv_pids=()
	: >"$dir/ports"
	while [ "$left" -gt 0 ]; do
		n=$((left < PER_SRV ? left : PER_SRV))
		bench_bg "${PIN_SRV[@]}" "$SRV" -n "$n" -a "127.0.1.$((k + 1))" -p 10000 \
		    -o "$dir/ports$k" -T "$life" "$@" >"$dir/srv$k.out" 2>&1
		srv_pids+=("$BG_PID")
		wait_for "$dir/srv$k.out" '^ready=' ||
		    { echo "server did not start" >&2; cat "$dir/srv$k.out" >&2; exit 1; }
		cat "$dir/ports$k" >>"$dir/ports"
		left=$((left - n))
		k=$((k + 1))
	done
}

srv_requests() {
	local p f total=0 n v k=0 i
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

srv_stop() {
	local p
	for p in "${srv_pids[@]}"; do bench_stop "$p"; done
	srv_pids=()
}

haproxy_run() {		# PREFIX SECS WARM FO_CPU_US
	local pre=$1 secs=$2 warm=$3 fo=$4 hap hp c0 c1 q0 q1 t0 t1 hrss
	hap=$(command -v haproxy || echo /usr/sbin/haproxy)
	[ -x "$hap" ] || { echo "bench: haproxy not installed" >&2; exit 1; }
	{
		printf 'global\n\tnbthread 1\n\tmaxconn 500\n'
		printf 'defaults\n\tmode http\n\ttimeout connect 900ms\n'
		printf '\ttimeout client 5s\n\ttimeout server 5s\n\ttimeout check 900ms\n'
		printf 'frontend unused\n\tbind unix@%s/haproxy.sock\n' "$dir"
		printf '\tdefault_backend heads\n'
		printf 'backend heads\n\toption httpchk GET /health\n'
		printf '\tdefault-server check inter 1s fall 3 rise 2\n'
		awk '{ printf "\tserver s%d %s\n", NR, $1 }' "$dir/ports"
	} >"$dir/haproxy.cfg"
	bench_bg "${PIN_PROBER[@]}" "$hap" -f "$dir/haproxy.cfg" -db >"$dir/haproxy.log" 2>&1
	hp=$BG_PID
	sleep "$warm"
	if ! kill -0 "$hp" 2>/dev/null; then
		echo "haproxy did not start" >&2; cat "$dir/haproxy.log" >&2; exit 1
	fi
	c0=$(cpu_ticks "$hp")
	q0=$(srv_requests)
	t0=$(date +%s%N)
	sleep "$secs"
	c1=$(cpu_ticks "$hp")
	q1=$(srv_requests)
	t1=$(date +%s%N)
	hrss=$(awk '/^VmRSS/ { print $2 }' "/proc/$hp/status")
	bench_stop "$hp"
	awk -v c=$((c1 - c0)) -v tck="$(getconf CLK_TCK)" -v n=$((q1 - q0)) \
	    -v ns=$((t1 - t0)) -v rss="$hrss" -v p="$pre" -v fo="$fo" '
	BEGIN {
		secs = ns / 1e9; cpu = c / tck
		per = n ? cpu * 1e6 / n : 0
		printf "%s_haproxy_checks_per_s=%.0f\n", p, n / secs
		printf "%s_haproxy_cpu_util=%.3f\n", p, cpu / secs
		printf "%s_haproxy_cpu_us_per_check=%.1f\n", p, per
		printf "%s_haproxy_rss_kib=%d\n", p, rss
		printf "%s_ratio_vs_haproxy=%.3f\n", p, per ? fo / per : 0
	}' >"$dir/hap.out"
	cat "$dir/hap.out"
	HAP_CPU_US=$(sed -n 's/.*_haproxy_cpu_us_per_check=//p' "$dir/hap.out")
}

# daemon_conf N INTERVAL_MS: a whole daemon's configuration, stacks s1..sN
# on the first N lines of $dir/ports, N/2 groups g1..gN/2 (primary s(2i-1),
# backup s(2i)), the zone of tests/lib/named.sh's named.
daemon_conf() {
	local n=$1 iv=$2
	cat <<CONF
[controller]
state_dir = $dir/state
listen = off
map_size = 4G

[dns]
server = 127.0.0.1:$NAMED_PORT
zone = $NAMED_ZONE
key_file = $NAMED_KEYFILE
confirm = 127.0.0.1:$NAMED_PORT
timeout = 2s
verify_interval = 1h
CONF
	awk -v n="$n" -v iv="$iv" 'NR <= n {
		printf "\n[stack s%d]\nweb_head = s%d.example.net\n", NR, NR
		printf "health_url = http://%s/health\n", $1
		printf "interval = %dms\ntimeout = 900ms\nrise = 2\nfall = 3\n", iv
		# Long intervals (the scaling runs): no 200 ms checks while
		# unknown, which would be 150,000 a second at 30,000 stacks.
		if (iv > 1000)
			printf "fastinter = %dms\ndowninter = %dms\n", iv, iv
	}' "$dir/ports"
	awk -v n="$n" 'BEGIN {
		for (i = 1; i <= n / 2; i++)
			printf "\n[group g%d]\naddress = g%d\nprimary = s%d\nbackup = s%d\nttl = 60s\n",
			    i, i, 2 * i - 1, 2 * i
	}'
}
