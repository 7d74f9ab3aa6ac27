#!/bin/bash
# bench-sim.sh - simulator speed: 100 stacks probed every second (50 groups)
# for 24 h of virtual time, with one outage and one failover along the way.
# Goal: >= 1,000,000 simulated probe events per second (under 10 s).
# Last line: simulate_events_per_s=<probe results fed to health per second>.
set -eu
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
FAILOVERD=${FAILOVERD:-$TOP/build/failoverd}
STACKS=${STACKS:-100}
HOURS=${HOURS:-24}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

{
	cat <<CONF
[controller]
state_dir = $tmp/state
listen = off
[dns]
server = 192.0.2.2:53
zone = failover.example.net
key_file = hmac-sha256:sim-key:c2ltdWxhdGlvbi1vbmx5LW5vdC1hLXJlYWwta2V5IQ==
CONF
	for i in $(seq 0 $((STACKS - 1))); do
		printf '[stack s%d]\nweb_head = s%d.example.net\n' "$i" "$i"
		printf 'health_url = http://192.0.2.%d/health\n' $((i % 250 + 1))
		printf 'interval = 1s\nfastinter = 200ms\ndowninter = 5s\ntimeout = 500ms\n'
		printf 'promote = /bin/true promote\n'
	done
	for g in $(seq 0 $((STACKS / 2 - 1))); do
		printf '[group g%d]\naddress = g%d\nprimary = s%d\nbackup = s%d\n' \
		    "$g" "$g" $((2 * g)) $((2 * g + 1))
	done
} >"$tmp/bench.conf"
cat >"$tmp/bench.scn" <<SCN
at 0s    s0 up
at 1h    s0 down
at 2h    s0 up
at 3h    s2 flap 1s
at 4h    s2 up
at ${HOURS}h end
SCN

t0=$(date +%s%N)
"$FAILOVERD" simulate -c "$tmp/bench.conf" "$tmp/bench.scn" >"$tmp/out"
t1=$(date +%s%N)
probes=$(tail -1 "$tmp/out" | sed -n 's/.* probes=\([0-9]*\).*/\1/p')
lines=$(wc -l <"$tmp/out")
ms=$(( (t1 - t0) / 1000000 ))
[ "$ms" -gt 0 ] || ms=1
echo "simulate_stacks=$STACKS"
echo "simulate_virtual_hours=$HOURS"
echo "simulate_probe_events=$probes"
echo "simulate_output_lines=$lines"
echo "simulate_wall_ms=$ms"
echo "simulate_events_per_s=$(( probes * 1000 / ms ))"
