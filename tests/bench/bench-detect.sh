#!/bin/bash
# bench-detect.sh - how fast a dead web head is noticed, failoverd against
# HAProxy in the same run, on the same kill.
#
# Settings for both (issue 18): interval 1 s, fastinter 200 ms, fall 3,
# rise 2, timeout 500 ms; failoverd without hooks (every phase skipped),
# a real named; HAProxy 2.6 option httpchk with `inter 1s fastinter 200ms
# fall 3 rise 2`, `timeout check 500ms`, probing the same web head.
#
#  1. kill (BENCH_DETECT_TRIALS, default 20): app1's web head is SIGKILLed
#     a random 0-999 ms after both have settled.  Per trial, from the kill:
#       failoverd's flip UPDATE accepted by named (event=dns_updated
#       why=flip), failoverd's down (health_change to=down), HAProxy's
#       "Server heads/app1 is DOWN".  Prints min/median/p90/max of each and
#         kill_flip_ratio_vs_haproxy = failoverd flip median / HAProxy
#                                      detection median  (goal <= 0.5)
#         kill_flip_p90_ms against kill_flip_p90_goal_ms =
#                                      (fall - 1) x fastinter + 150
#  2. vanish (BENCH_VANISH_TRIALS, default 10; 0 skips it): the web head
#     runs in a network namespace behind a veth pair, and the namespace's
#     end is taken down: its packets are dropped, nothing answers, nothing
#     resets (power loss, a cut cable).  Only the schedule and the timeout
#     can see it; reported beside HAProxy's (vanish_*).
#  3. mass (BENCH_MASS_GROUPS, default 10,000; 0 skips it): that many
#     groups, primaries on one probe_benchsrv process per 5,000 (kept
#     alive), backups on others (a new connection per check, so that the
#     20,000 stacks fit the descriptors a process may have); every primary
#     process SIGKILLed at once.  Prints the switches started before the
#     kill (false ones: every web head answered), the time from the kill to
#     the last of the flips accepted by named (goal <= 3,000 ms at 10,000),
#     and the CPU of failoverd and of named over that time.
# Last line: kill_flip_ratio_vs_haproxy=<ratio>.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
FAILOVERD=${FAILOVERD:-$TOP/build/failoverd}
TOOLS=${TOOLS:-$TOP/build/tests/integration}
. "$TOP/tests/lib/named.sh"
. "$TOP/tests/bench/lib.sh"
TRIALS=${BENCH_DETECT_TRIALS:-20}
VTRIALS=${BENCH_VANISH_TRIALS:-10}
MASS=${BENCH_MASS_GROUPS:-10000}
IV=1000 FAST=200 FALL=3 RISE=2 TMO=500
HAP=$(command -v haproxy || echo /usr/sbin/haproxy)
[ -x "$FAILOVERD" ] || { echo "bench-detect: missing $FAILOVERD" >&2; exit 1; }
[ -x "$TOOLS/webhead" ] || { echo "bench-detect: missing $TOOLS/webhead" >&2; exit 1; }
[ -x "$HAP" ] || { echo "bench-detect: haproxy not installed" >&2; exit 1; }
bench_init detect
NS=
_detect_cleanup() {
	if [ -n "$NS" ]; then
		ip netns del "$NS" 2>/dev/null
		ip link del "fdh$$" 2>/dev/null
	fi
}
named_trap_add _detect_cleanup
named_start "$dir/named" || { echo "bench-detect: named did not start" >&2; exit 1; }

now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }
# The ts= of the first log line matching REGEX, in ms since the epoch.
log_ms() {		# FILE REGEX
	local ts
	ts=$(grep -m1 -E "$2" "$1" | sed -n 's/^ts=\([^ ]*\) .*/\1/p')
	[ -n "$ts" ] && date -d "$ts" +%s%3N
}
# Each line of stdin prefixed with the time it was read, in ms.
stamp() {
	local l t
	while IFS= read -r l; do
		t=${EPOCHREALTIME/./}
		echo "$((t / 1000)) $l"
	done
}
# wait_grep FILE REGEX TENTHS
wait_grep() { wait_for "$1" "$2" "$3"; }

webhead() {		# OUT [ARGS...]: starts one, port in WH_PORT, pid WH_PID
	local out=$1
	shift
	bench_bg "${PIN_SRV[@]}" "$@" -T 600 >"$out" 2>&1
	WH_PID=$BG_PID
	wait_for "$out" '^ready=1' 50 || { echo "webhead did not start: $(cat "$out")" >&2; exit 1; }
	WH_PORT=$(sed -n 's/^port=//p' "$out")
}

# Each trial's group gets a name of its own (ADDRESS): the record a trial
# leaves on app2 would otherwise be adopted by the next trial's start, with
# a wiped state, and the kill of app1 would then flip nothing.
fo_conf() {		# ADDR1 PORT1 ADDR2 PORT2 ADDRESS
	cat <<CONF
[controller]
state_dir = $dir/state
listen = off

[dns]
server = 127.0.0.1:$NAMED_PORT
zone = $NAMED_ZONE
key_file = $NAMED_KEYFILE
timeout = 500ms
verify_interval = 1h
CONF
	for s in 1 2; do
		local a p
		if [ $s = 1 ]; then a=$1 p=$2; else a=$3 p=$4; fi
		printf '\n[stack app%d]\nweb_head = 192.0.2.%d\n' "$s" "$s"
		printf 'health_url = http://%s:%s/health\n' "$a" "$p"
		printf 'interval = %dms\nfastinter = %dms\ndowninter = %dms\n' $IV $FAST $IV
		printf 'timeout = %dms\nrise = %d\nfall = %d\n' $TMO $RISE $FALL
	done
	printf '\n[group www]\naddress = %s\nprimary = app1\nbackup = app2\n' "$5"
	printf 'ttl = 60s\nsuspect_ttl = 5s\n'
}

hap_conf() {		# ADDR PORT
	printf 'global\n\tnbthread 1\n'
	printf 'defaults\n\tmode http\n\ttimeout connect %dms\n' $TMO
	printf '\ttimeout client 5s\n\ttimeout server 5s\n\ttimeout check %dms\n' $TMO
	printf 'frontend unused\n\tbind unix@%s/haproxy.sock\n\tdefault_backend heads\n' "$dir"
	printf 'backend heads\n\toption httpchk GET /health\n'
	printf '\tserver app1 %s:%s check inter %dms fastinter %dms fall %d rise %d\n' \
	    "$1" "$2" $IV $FAST $FALL $RISE
}

# trial MODE N: one kill (or vanish) seen by failoverd and HAProxy at once;
# appends "flip down hap" (ms from the kill) to $dir/MODE.txt.
trial() {
	local mode=$1 n=$2 a1=127.0.0.1 fo hp t0 tf td th pause wh1 wh2
	local log=$dir/fo-$mode-$n.log hlog=$dir/hap-$mode-$n.log
	if [ "$mode" = vanish ]; then
		ip netns exec "$NS" ip link set "fdn$$" up
		a1=10.213.$(( $$ % 200 )).2
		webhead "$dir/wh1.out" ip netns exec "$NS" "$TOOLS/webhead" -a "$a1" -p 0
	else
		webhead "$dir/wh1.out" "$TOOLS/webhead" -p 0
	fi
	wh1=$WH_PID
	local p1=$WH_PORT
	webhead "$dir/wh2.out" "$TOOLS/webhead" -p 0
	wh2=$WH_PID
	rm -rf "$dir/state"
	fo_conf "$a1" "$p1" 127.0.0.1 "$WH_PORT" "www-$mode-$n" >"$dir/failoverd.conf"
	"$FAILOVERD" -t -c "$dir/failoverd.conf" >"$dir/check.out" 2>&1 ||
	    { echo "bench-detect: bad configuration: $(head -3 "$dir/check.out")" >&2; exit 1; }
	bench_bg "${PIN_PROBER[@]}" "$FAILOVERD" -c "$dir/failoverd.conf" >"$log" 2>&1
	fo=$BG_PID
	hap_conf "$a1" "$p1" >"$dir/haproxy.cfg"
	bench_bg "${PIN_PROBER[@]}" "$HAP" -f "$dir/haproxy.cfg" -db > >(stamp >"$hlog") 2>&1
	hp=$BG_PID
	wait_grep "$log" 'event=record_published' 50 || { echo "bench-detect: not published" >&2; tail -5 "$log" >&2; exit 1; }
	wait_grep "$log" 'event=health_change stack=app1 from=unknown to=up' 50 || { echo "bench-detect: app1 not up" >&2; exit 1; }
	wait_grep "$log" 'event=health_change stack=app2 from=unknown to=up' 50 || { echo "bench-detect: app2 not up" >&2; exit 1; }
	# Settled, then a random phase against both schedules.
	sleep 1.5
	pause=$((RANDOM % 1000))
	sleep "$(printf '0.%03d' $pause)"
	t0=$(now_ms)
	if [ "$mode" = vanish ]; then
		ip netns exec "$NS" ip link set "fdn$$" down
	else
		kill -9 "$wh1"
	fi
	wait_grep "$log" 'event=dns_updated .*why=flip' 100
	wait_grep "$hlog" 'Server heads/app1 is DOWN' 100
	tf=$(log_ms "$log" 'event=dns_updated .*why=flip')
	td=$(log_ms "$log" 'event=health_change stack=app1 from=up to=down')
	th=$(grep -m1 'Server heads/app1 is DOWN' "$hlog" | cut -d' ' -f1)
	echo "$(( ${tf:-0} - t0 )) $(( ${td:-0} - t0 )) $(( ${th:-0} - t0 ))" >>"$dir/$mode.txt"
	bench_stop "$hp"
	bench_stop "$fo"
	bench_stop "$wh1"
	bench_stop "$wh2"
	[ -n "$tf" ] && [ -n "$th" ] || { echo "bench-detect: trial $mode $n incomplete (flip ${tf:-none}, haproxy ${th:-none})" >&2; tail -3 "$log" >&2; }
}

# stats PREFIX FILE COLUMN NAME: min/median/p90/max of a column (> 0 only).
stats() {
	awk -v p="$1" -v c="$3" -v n="$4" '$c > 0 { v[++k] = $c }
	END {
		if (k == 0) { printf "%s_%s_trials=0\n", p, n; exit }
		for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++)
			if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
		med = k % 2 ? v[(k + 1) / 2] : (v[k / 2] + v[k / 2 + 1]) / 2
		i90 = int(0.9 * k + 0.999); if (i90 < 1) i90 = 1
		printf "%s_%s_trials=%d\n%s_%s_min_ms=%d\n%s_%s_median_ms=%d\n", p, n, k, p, n, v[1], p, n, med
		printf "%s_%s_p90_ms=%d\n%s_%s_max_ms=%d\n", p, n, v[i90], p, n, v[k]
	}' "$2"
}
med() { sed -n "s/^$1_median_ms=//p" "$dir/stats.out"; }

# ---- 1. a killed process ----
: >"$dir/kill.txt"
for ((i = 1; i <= TRIALS; i++)); do trial kill "$i"; done
{
	stats kill "$dir/kill.txt" 1 flip
	stats kill "$dir/kill.txt" 2 down
	stats kill "$dir/kill.txt" 3 haproxy_down
} | tee "$dir/stats.out"
echo "kill_flip_p90_goal_ms=$(( (FALL - 1) * FAST + 150 ))"
kill_ratio=$(awk -v a="$(med kill_flip)" -v b="$(med kill_haproxy_down)" 'BEGIN { printf "%.3f", b ? a / b : 0 }')
echo "kill_down_ratio_vs_haproxy=$(awk -v a="$(med kill_down)" -v b="$(med kill_haproxy_down)" 'BEGIN { printf "%.3f", b ? a / b : 0 }')"
echo "kill_flip_ratio_goal=0.5"

# ---- 2. a host that vanishes silently ----
if [ "$VTRIALS" -gt 0 ]; then
	NS=fodet$$
	net=10.213.$(( $$ % 200 ))
	if ip netns add "$NS" 2>/dev/null &&
	    ip link add "fdh$$" type veth peer name "fdn$$" &&
	    ip link set "fdn$$" netns "$NS" &&
	    ip addr add "$net.1/30" dev "fdh$$" && ip link set "fdh$$" up &&
	    ip netns exec "$NS" ip addr add "$net.2/30" dev "fdn$$" &&
	    ip netns exec "$NS" ip link set lo up; then
		: >"$dir/vanish.txt"
		for ((i = 1; i <= VTRIALS; i++)); do trial vanish "$i"; done
		{
			stats vanish "$dir/vanish.txt" 1 flip
			stats vanish "$dir/vanish.txt" 2 down
			stats vanish "$dir/vanish.txt" 3 haproxy_down
		} | tee "$dir/stats.out"
		echo "vanish_flip_ratio_vs_haproxy=$(awk -v a="$(med vanish_flip)" -v b="$(med vanish_haproxy_down)" 'BEGIN { printf "%.3f", b ? a / b : 0 }')"
	else
		echo "bench-detect: no network namespace here (needs CAP_NET_ADMIN): vanish skipped" >&2
	fi
fi

# ---- 3. mass failover ----
if [ "$MASS" -gt 0 ]; then
	srv_start "$MASS"
	mv "$dir/ports" "$dir/ports.primary"
	prim=("${srv_pids[@]}")
	srv_pids=()
	# Backups on other loopback addresses, closing every connection.
	left=$MASS k=0
	: >"$dir/ports.backup"
	while [ "$left" -gt 0 ]; do
		n=$((left < PER_SRV ? left : PER_SRV))
		bench_bg "${PIN_SRV[@]}" "$SRV" -n "$n" -a "127.0.2.$((k + 1))" -p 10000 \
		    -o "$dir/bports$k" -T 900 -c >"$dir/bsrv$k.out" 2>&1
		srv_pids+=("$BG_PID")
		wait_for "$dir/bsrv$k.out" '^ready=' || { echo "server did not start" >&2; exit 1; }
		cat "$dir/bports$k" >>"$dir/ports.backup"
		left=$((left - n)) k=$((k + 1))
	done
	rm -rf "$dir/state"
	{
		cat <<CONF
[controller]
state_dir = $dir/state
listen = off
map_size = 4G

[dns]
server = 127.0.0.1:$NAMED_PORT
zone = $NAMED_ZONE
key_file = $NAMED_KEYFILE
timeout = 2s
verify_interval = 1h
CONF
		paste -d' ' "$dir/ports.primary" "$dir/ports.backup" | awk -v iv=$IV -v f=$FAST \
		    -v tmo=$TMO -v fall=$FALL -v rise=$RISE '{
			for (s = 1; s <= 2; s++) {
				printf "\n[stack %s%d]\nweb_head = %s%d.example.net\n", s == 1 ? "p" : "b", NR, s == 1 ? "p" : "b", NR
				printf "health_url = http://%s/health\n", $s
				printf "interval = %dms\nfastinter = %dms\ntimeout = %dms\nrise = %d\nfall = %d\n", iv, f, tmo, rise, fall
			}
			printf "\n[group g%d]\naddress = g%d\nprimary = p%d\nbackup = b%d\nttl = 60s\n", NR, NR, NR, NR
		}'
	} >"$dir/mass.conf"
	log=$dir/fo-mass.log
	bench_bg "${PIN_PROBER[@]}" "$FAILOVERD" -c "$dir/mass.conf" >"$log" 2>&1
	fo=$BG_PID
	tenths=$((600 + MASS / 10))
	for ((i = 0; i < tenths; i++)); do
		[ "$(grep -c 'event=record_published' "$log")" -ge "$MASS" ] &&
		    [ "$(grep -c 'event=health_change .*to=up' "$log")" -ge $((2 * MASS)) ] && break
		kill -0 "$fo" 2>/dev/null || break
		sleep 0.1
	done
	echo "mass_groups=$MASS"
	echo "mass_published=$(grep -c 'event=record_published' "$log")"
	echo "mass_stacks_up=$(grep -c 'event=health_change .*to=up' "$log")"
	sleep 3
	# Every web head answered every check so far: a switch now is false.
	echo "mass_false_switches=$(grep -c 'event=switch_started' "$log")"
	c0=$(cpu_ticks "$fo") n0=$(cpu_ticks "$NAMED_PID")
	t0=$(now_ms)
	kill -9 "${prim[@]}"
	for p in "${prim[@]}"; do wait "$p" 2>/dev/null; done
	for ((i = 0; i < 300; i++)); do
		[ "$(grep -c 'event=dns_updated .*why=flip' "$log")" -ge "$MASS" ] && break
		sleep 0.1
	done
	c1=$(cpu_ticks "$fo") n1=$(cpu_ticks "$NAMED_PID")
	nf=$(grep -c 'event=dns_updated .*why=flip' "$log")
	tl=$(grep 'event=dns_updated .*why=flip' "$log" | tail -1 | sed -n 's/^ts=\([^ ]*\) .*/\1/p')
	tl=$(date -d "$tl" +%s%3N 2>/dev/null || echo 0)
	tfirst=$(log_ms "$log" 'event=health_change stack=p[0-9]+ from=up to=down')
	echo "mass_flipped=$nf"
	echo "mass_first_down_ms=$(( ${tfirst:-0} - t0 ))"
	echo "mass_last_flip_ms=$(( tl - t0 ))"
	echo "mass_last_flip_goal_ms=3000"
	tck=$(getconf CLK_TCK)
	echo "mass_failoverd_cpu_ms=$(( (c1 - c0) * 1000 / tck ))"
	echo "mass_named_cpu_ms=$(( (n1 - n0) * 1000 / tck ))"
	grep -E 'level=(warn|error)' "$log" | grep -v 'event=gate_held\|event=switch' | head -3 >&2
	bench_stop "$fo"
	srv_stop
fi
echo "kill_flip_ratio_vs_haproxy=$kill_ratio"
