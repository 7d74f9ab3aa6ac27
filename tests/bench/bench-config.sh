#!/bin/bash
# bench-config.sh - configuration loading: `failoverd -t` on N groups over
# two stacks (each group four lines), best of RUNS runs.  Linear loading
# keeps the time per group as N grows tenfold: the headline is the time
# per group at 100,000 groups over the time per group at 10,000, from the
# same invocation (1.0: linear; the quadratic loader before was past 50).
# Goal: 100,000 groups under 1 s.
# Last line: config_linearity_ratio=<per-group time 100k / 10k>.
set -eu
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
FAILOVERD=${FAILOVERD:-$TOP/build/failoverd}
RUNS=${RUNS:-3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf 'key "k" {\n\talgorithm hmac-sha256;\n\tsecret "%s";\n};\n' \
    "$(head -c 32 /dev/urandom | base64)" >"$tmp/k.key"
chmod 0600 "$tmp/k.key"

conf() {	# N
	printf '[controller]\nstate_dir = %s/state\nlisten = off\nname = bench\n' "$tmp"
	printf '[dns]\nserver = 127.0.0.1:53\nzone = example.net\nkey_file = %s/k.key\n' "$tmp"
	printf '[stack a]\nweb_head = a.example.com\nhealth_url = http://127.0.0.1:1/health\n'
	printf '[stack b]\nweb_head = 192.0.2.1\nhealth_url = http://127.0.0.1:2/health\n'
	seq 0 $(($1 - 1)) | awk '{ printf "[group g%d]\naddress = g%d\nprimary = a\nbackup = b\n", $1, $1 }'
}

best_ms() {	# FILE: the fastest of RUNS checks, in ms
	local best= t0 ms
	for _ in $(seq 1 "$RUNS"); do
		t0=$(date +%s%N)
		"$FAILOVERD" -t -c "$1" >/dev/null
		ms=$(( ($(date +%s%N) - t0) / 1000000 ))
		[ -z "$best" ] || [ "$ms" -lt "$best" ] && best=$ms
	done
	echo "$best"
}

conf 10000 >"$tmp/10k.conf"
conf 100000 >"$tmp/100k.conf"
t10=$(best_ms "$tmp/10k.conf")
t100=$(best_ms "$tmp/100k.conf")
echo "config_10k_groups_ms=$t10"
echo "config_100k_groups_ms=$t100"
echo "config_100k_bytes=$(stat -c %s "$tmp/100k.conf")"
awk -v a="$t10" -v b="$t100" 'BEGIN {
	if (a < 1) a = 1
	printf "config_linearity_ratio=%.2f\n", (b / 100000) / (a / 10000) }'
