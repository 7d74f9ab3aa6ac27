#!/bin/bash
# Controller benchmarks, with no-op hooks (no hooks configured: the phases
# are skipped), a real named and real web heads on loopback.
#
#  1. Detection-to-flip: from the moment the primary web head stops
#     answering to the moment the authoritative server answers with the
#     backup's record.  interval 500ms, fastinter 100ms, fall 3; TRIALS runs.
#     Goal: median at most fall x interval + 150 ms.
#  2. Mass failover: GROUPS groups whose primaries (all probing one web
#     head) fail at once: time from the last detection to the last record
#     flipped, and every record confirmed.  Goal: under 5 s.
#
# Last line: detect_to_flip_overhead_ms=<median beyond fall x interval>.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
TOOLS=${TOOLS:-$TOP/build/tests/integration}
FAILOVERD=${FAILOVERD:-$TOP/build/failoverd}
. "$TOP/tests/lib/fo.sh"
TRIALS=${TRIALS:-7}
GROUPS_N=${GROUPS_N:-1000}
ulimit -n 65536 2>/dev/null

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

fo_init
fo_webhead app1
fo_webhead app2

# ---- 1. detection to flip ----
interval_ms=500
fall=3
overheads=()
for t in $(seq 1 "$TRIALS"); do
	rm -rf "$FO/state"
	: >"$FO/failoverd.log"
	[ -n "${WH_PID[app1]:-}" ] || fo_webhead app1 "$WH_PORT_app1"
	cat >"$FO/failoverd.conf" <<CONF
[controller]
state_dir = $FO/state
listen = off
[dns]
server = 127.0.0.1:$NAMED_PORT
zone = $NAMED_ZONE
key_file = $NAMED_KEYFILE
confirm = 127.0.0.1:$NAMED_PORT
[stack app1]
web_head = app1.example.net
health_url = http://127.0.0.1:$WH_PORT_app1/health
interval = ${interval_ms}ms
fastinter = 100ms
timeout = 300ms
rise = 2
fall = $fall
[stack app2]
web_head = 127.0.0.2
health_url = http://127.0.0.1:$WH_PORT_app2/health
interval = ${interval_ms}ms
fastinter = 100ms
timeout = 300ms
rise = 2
fall = $fall
[group www]
address = www
primary = app1
backup = app2
CONF
	fo_start
	W=www.$NAMED_ZONE
	fo_wait 10 fo_dig_is "$W" CNAME app1.example.net. || fail "trial $t: not published"
	fo_wait 10 fo_log_has 'stack=app2 from=unknown to=up' || fail "trial $t: app2 not up"
	# A random point in the probe cycle.
	sleep 0.$((RANDOM % 5))$((RANDOM % 10))
	t0=$(now_ms)
	fo_webhead_stop app1
	while ! fo_dig_is "$W" A 127.0.0.2; do
		[ $(( $(now_ms) - t0 )) -gt 10000 ] && fail "trial $t: no flip"
		sleep 0.005
	done
	t1=$(now_ms)
	d=$((t1 - t0))
	o=$((d - fall * interval_ms))
	overheads+=("$o")
	echo "trial $t: outage_to_flip_ms=$d overhead_ms=$o"
	fo_stop >/dev/null
done
median=$(printf '%s\n' "${overheads[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
echo "detect_to_flip_budget_ms=$((fall * interval_ms + 150))"

# ---- 2. mass failover ----
[ -n "${WH_PID[app1]:-}" ] || fo_webhead app1 "$WH_PORT_app1"
rm -rf "$FO/state"
: >"$FO/failoverd.log"
{
	cat <<CONF
[controller]
state_dir = $FO/state
listen = off
map_size = 512M
[dns]
server = 127.0.0.1:$NAMED_PORT
zone = $NAMED_ZONE
key_file = $NAMED_KEYFILE
confirm = 127.0.0.1:$NAMED_PORT
verify_interval = 10m
CONF
	for i in $(seq 1 "$GROUPS_N"); do
		cat <<CONF
[stack p$i]
web_head = p$i.example.net
health_url = http://127.0.0.1:$WH_PORT_app1/health
interval = 1s
fastinter = 200ms
timeout = 500ms
rise = 1
fall = 3
[stack b$i]
web_head = b$i.example.net
health_url = http://127.0.0.1:$WH_PORT_app2/health
interval = 1s
timeout = 500ms
rise = 1
fall = 3
[group g$i]
address = g$i
primary = p$i
backup = b$i
CONF
	done
} >"$FO/failoverd.conf"
FAILOVERD_LOG_LEVEL=info fo_start
n=0
fo_wait 60 bash -c "[ \$(grep -c 'event=health_change stack=b.* to=up' '$FO/failoverd.log') -ge $GROUPS_N ]" || fail "backups not up"
fo_wait 60 bash -c "[ \$(grep -c 'event=dns_updated .*why=publish' '$FO/failoverd.log') -ge $GROUPS_N ]" || fail "records not published"
sleep 1
tk=$(now_ms)
fo_webhead_stop app1
fo_wait 60 bash -c "[ \$(grep -c 'event=switch_finished' '$FO/failoverd.log') -ge $GROUPS_N ]" || fail "not every group switched: $(fo_log_count 'event=switch_finished')"
fo_wait 60 bash -c "[ \$(grep -c 'event=confirmed' '$FO/failoverd.log') -ge $GROUPS_N ]" || fail "not every flip confirmed: $(fo_log_count 'event=confirmed')"
ms_of() { sed -n 's/^ts=\([^ ]*\) .*/\1/p' | tail -1 | xargs -I{} date -d {} +%s%3N; }
last_detect=$(grep 'event=health_change stack=p.* to=down' "$FO/failoverd.log" | ms_of)
first_detect=$(grep 'event=health_change stack=p.* to=down' "$FO/failoverd.log" | head -1 | ms_of)
last_flip=$(grep 'event=dns_updated .*why=flip' "$FO/failoverd.log" | ms_of)
last_conf=$(grep 'event=confirmed' "$FO/failoverd.log" | ms_of)
msgs=$(grep 'event=dns_updated .*why=flip' "$FO/failoverd.log" | sed -n 's/.*batch=\([0-9]*\).*/\1/p' | sort -n | uniq -c | awk '{n+=$1/$2} END {printf "%d", n}')
# Spot-check the server itself.
bad=0
for i in 1 $((GROUPS_N / 2)) "$GROUPS_N"; do
	fo_dig_is "g$i.$NAMED_ZONE" CNAME "b$i.example.net." || bad=$((bad + 1))
done
[ $bad = 0 ] || fail "records not flipped on the server"
fo_stop >/dev/null
echo "mass_groups=$GROUPS_N"
echo "mass_detections_spread_ms=$((last_detect - first_detect))"
echo "mass_last_detect_to_last_flip_ms=$((last_flip - last_detect))"
echo "mass_last_detect_to_all_confirmed_ms=$((last_conf - last_detect))"
echo "mass_update_messages=$msgs"
echo "mass_kill_to_all_confirmed_ms=$((last_conf - tk))"
echo "detect_to_flip_overhead_ms=$median"
