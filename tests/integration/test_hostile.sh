#!/bin/bash
# test: alone (floods the daemon and bounds its answers)
# An outsider on the same host, with no token, against a real failoverd
# (real named, real web heads) run at `ulimit -n 1024`.  app1 (active)
# has no keep-alive, so each of its checks needs a new socket; app2
# (standby) keeps its connection: a controller short of descriptors would
# see app1 down and app2 up, and fail over for nothing.
#  config    100,000 groups are checked in a few seconds (a generous
#            bound; the figure is in make bench);
#  errors    413, a malformed request and too many headers are answered as
#            JSON, like the rest of the API;
#  rebind    a Host header that names neither the listen address, nor
#            localhost, nor an api_host is answered 421 (DNS rebinding);
#  flood     thousands of unauthenticated POSTs cost a few log lines and a
#            count (event=log_suppressed), not a line each;
#  slowloris connections sending a byte at a time are closed once the
#            whole-request deadline (5 s) passes;
#  attack    1,100 connections each sending half a request and one more
#            header line every 2.5 s, reconnecting when closed, for
#            HOSTILE_ATTACK_S seconds (30): probes keep their schedule (p99
#            lateness from the metrics), no stack changes health, no
#            switch, /healthz answers within 1 s after, the log grows by
#            less than 1 MB and failoverd uses less than half a core;
#  emfile    the daemon's own descriptor limit cut to nothing (prlimit):
#            the API listener pauses (one line) instead of spinning, app1's
#            failing checks are local faults (event=local_fault), never a
#            failure of app1; all resumes when the limit is back.
# HOSTILE_SECTIONS picks some of them (default: all, in the order above).
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/fo.sh"

command -v curl >/dev/null || { echo "skip: no curl"; exit 77; }
command -v jq >/dev/null || { echo "skip: no jq"; exit 77; }
command -v prlimit >/dev/null || { echo "skip: no prlimit"; exit 77; }
SECTIONS=${HOSTILE_SECTIONS:-config errors rebind flood slowloris attack emfile}
ATTACK_S=${HOSTILE_ATTACK_S:-30}
HZ=$(getconf CLK_TCK)
ok() { echo "ok: $*"; }
want() { [[ " $SECTIONS " == *" $1 "* ]]; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# ---- config: 100,000 groups
if want config; then
	mkdir -p "$FO/big"
	printf 'key "k" {\n\talgorithm hmac-sha256;\n\tsecret "%s";\n};\n' \
	    "$(head -c 32 /dev/urandom | base64)" >"$FO/big/k.key"
	chmod 0600 "$FO/big/k.key"
	{
		printf '[controller]\nstate_dir = %s/big/state\nlisten = off\nname = big\n' "$FO"
		printf '[dns]\nserver = 127.0.0.1:53\nzone = example.net\nkey_file = %s/big/k.key\n' "$FO"
		printf '[stack a]\nweb_head = a.example.com\nhealth_url = http://127.0.0.1:1/health\n'
		printf '[stack b]\nweb_head = 192.0.2.1\nhealth_url = http://127.0.0.1:2/health\n'
		seq 0 99999 | awk '{ printf "[group g%d]\naddress = g%d\nprimary = a\nbackup = b\n", $1, $1 }'
	} >"$FO/big/big.conf"
	t0=$(now_ms)
	timeout 20 "$FAILOVERD" -t -c "$FO/big/big.conf" >"$FO/big/out" 2>&1 ||
		fail "100,000 groups: -t failed or took over 20 s: $(head -3 "$FO/big/out")"
	ms=$(( $(now_ms) - t0 ))
	[ $ms -lt 10000 ] || fail "100,000 groups took $ms ms"
	ok "100,000 groups checked in $ms ms"
	rm -rf "$FO/big"
fi

# ---- the world: app1 without keep-alive, app2 with
fo_init
fo_webhead app1 0 -C
fo_webhead app2
fo_maint app2 on
fo_hooks
head -c 32 /dev/urandom | base64 >"$FO/token"
chmod 0600 "$FO/token"
TOKEN=$(cat "$FO/token")
port_free() { [ -z "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]; }
for try in $(seq 1 40); do
	PORT=$(( 20000 + RANDOM % 12000 ))
	port_free "$PORT" || continue
	FO_LISTEN=127.0.0.1:$PORT FO_INTERVAL=250ms FO_HOLD_DOWN=0s \
	    FO_CTL_EXTRA="api_token_file = $FO/token
api_host = failoverd.test" fo_conf
	: >"$FO/failoverd.log"
	(ulimit -n 1024 && exec "$FAILOVERD" -c "$FO/failoverd.conf") >>"$FO/failoverd.log" 2>&1 &
	FO_PID=$!
	started() { fo_log_has 'event=(api_listening|start_failed|store_open_failed)' ||
	    ! kill -0 "$FO_PID" 2>/dev/null; }
	if fo_wait 20 started && fo_log_has 'event=api_listening'; then
		break
	fi
	kill -0 "$FO_PID" 2>/dev/null || { wait "$FO_PID"; FO_PID=; fail "failoverd exited"; }
	fo_kill9
done
[ -n "$FO_PID" ] || fail "could not start failoverd with a listener"
BASE=http://127.0.0.1:$PORT
W=www.$NAMED_ZONE
[ "$(awk '/^Max open files/ { print $4 }' "/proc/$FO_PID/limits")" = 1024 ] ||
	fail "not at ulimit -n 1024: $(grep 'open files' "/proc/$FO_PID/limits")"
fo_wait 5 fo_dig_is "$W" CNAME app1.example.net. || fail "never published app1"
fo_wait 5 fo_log_has 'event=health_change stack=app1 from=unknown to=up' || fail "app1 never up"
fo_wait 5 fo_log_has 'event=health_change stack=app2 from=unknown to=up' || fail "app2 never up"

req() {		# METHOD PATH [CURL ARGS]: $CODE, body in $FO/body
	local m=$1 p=$2; shift 2
	CODE=$(curl -sS -X "$m" -o "$FO/body" -w '%{http_code}' --max-time 5 \
	    "$@" "$BASE$p") || CODE=000
}
json_error() {	# CODE WHAT: the body is {"error": ..., "status": CODE}
	jq -e --argjson c "$1" '.status == $c and (.error | type == "string")' \
	    "$FO/body" >/dev/null 2>&1 || fail "$2: not a JSON error: $(head -c 300 "$FO/body")"
}
raw() {		# FORMAT: sent as printf makes it; status in $CODE, body in $FO/body
	printf "$1" >"$FO/raw.in"
	timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/'"$PORT"'; cat >&3; cat <&3' \
	    <"$FO/raw.in" >"$FO/raw" 2>/dev/null
	CODE=$(head -1 "$FO/raw" | awk '{ print $2 }')
	sed '1,/^\r$/d' "$FO/raw" >"$FO/body"
}
metrics() { curl -sS --max-time 2 "$BASE/metrics"; }
mval() {	# FILE SERIES -> value (0 when absent)
	awk -v s="$2" '$1 == s { v = $2 } END { print v + 0 }' "$1"
}
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$FO_PID/stat"; }
no_trouble() {	# WHAT: no health change, no switch, the record still app1
	fo_log_has 'event=health_change stack=app[12] from=up' &&
		fail "$1: a stack changed health: $(grep event=health_change "$FO/failoverd.log" | tail -3)"
	fo_log_has 'event=(switch_start|phase_start)' && fail "$1: a switch started"
	fo_dig_is "$W" CNAME app1.example.net. || fail "$1: the record moved"
}

# ---- errors: JSON like the rest of the API
if want errors; then
	head -c 20000 /dev/zero | tr '\0' ' ' >"$FO/big.body"
	req POST /v1/groups/www/pause -H "Authorization: Bearer $TOKEN" --data-binary @"$FO/big.body"
	[ "$CODE" = 413 ] || fail "oversize body: HTTP $CODE"
	json_error 413 "413"
	raw 'BOGUS\r\n\r\n'
	[ "$CODE" = 400 ] || fail "malformed request: HTTP $CODE: $(head -3 "$FO/raw")"
	json_error 400 "malformed request"
	grep -qi '^Content-Type: application/json' "$FO/raw" || fail "400 not application/json"
	req GET /healthz -H "X-Big: $(head -c 9000 /dev/zero | tr '\0' x)"
	[ "${CODE:0:1}" = 4 ] || fail "oversize headers: HTTP $CODE"
	json_error "$CODE" "oversize headers"
	req GET /healthz; [ "$CODE" = 200 ] || fail "healthz after the errors: $CODE"
	ok "413, 400 and oversize headers are JSON errors"
fi

# ---- rebind: only a Host that names this API
if want rebind; then
	req GET /v1/groups/www -H "Host: rebind.attacker.example:$PORT"
	[ "$CODE" = 421 ] || fail "rebinding Host: HTTP $CODE: $(head -c 300 "$FO/body")"
	json_error 421 "421"
	jq -e '.error | test("Host")' "$FO/body" >/dev/null || fail "421 says why: $(cat "$FO/body")"
	req POST /v1/groups/www/pause -H "Host: rebind.attacker.example" -H "Authorization: Bearer $TOKEN"
	[ "$CODE" = 421 ] || fail "rebinding Host on a POST with the token: HTTP $CODE"
	req GET /v1/groups/www -H "Host: 127.0.0.1:1"
	[ "$CODE" = 421 ] || fail "Host with another port: HTTP $CODE"
	for h in "127.0.0.1:$PORT" 127.0.0.1 "localhost:$PORT" "LOCALHOST:$PORT" \
	    "failoverd.test:$PORT" "failoverd.test."; do
		req GET /v1/groups/www -H "Host: $h"
		[ "$CODE" = 200 ] || fail "Host: $h: HTTP $CODE: $(head -c 300 "$FO/body")"
	done
	req GET /v1/groups/www/ -H "Host: rebind.attacker.example"
	[ "$CODE" = 421 ] || fail "the Host is checked before the path: HTTP $CODE"
	fo_log_has 'status=421' || fail "421 not logged"
	ok "Host rebind.attacker.example -> 421; the listen address, localhost, api_host -> 200"
fi

# ---- flood: 3,000 POSTs without a token
if want flood; then
	before=$(fo_log_count 'event=api_refused')
	size0=$(stat -c %s "$FO/failoverd.log")
	urls=()
	for i in $(seq 1 3000); do urls+=("$BASE/v1/groups/www/pause"); done
	t0=$(now_ms)
	curl -s -o /dev/null -w '%{http_code}\n' -X POST "${urls[@]}" >"$FO/flood" ||
		fail "flood: curl failed"
	ms=$(( $(now_ms) - t0 ))
	[ "$(grep -c '^401$' "$FO/flood")" = 3000 ] || fail "flood: $(sort "$FO/flood" | uniq -c)"
	lines=$(( $(fo_log_count 'event=api_refused') - before ))
	grown=$(( $(stat -c %s "$FO/failoverd.log") - size0 ))
	[ "$lines" -le 30 ] || fail "3,000 refused POSTs logged $lines lines"
	FLOOD_T0=$(now_ms)
	ok "3,000 POSTs without a token in $ms ms: $lines log lines, $grown bytes"
fi

# ---- slowloris: a byte every 200 ms never makes a whole request
if want slowloris; then
	"$TOOLS/hostile" -b -n 20 -i 200 -d 8 127.0.0.1 "$PORT" >"$FO/slow.out" ||
		fail "hostile: $(cat "$FO/slow.out")"
	. "$FO/slow.out"
	[ "$opened" = 20 ] || fail "slowloris: $(tr '\n' ' ' <"$FO/slow.out")"
	[ "$closed" = 20 ] && [ "$open_end" = 0 ] ||
		fail "slowloris connections kept: $(tr '\n' ' ' <"$FO/slow.out")"
	[ "$life_max_ms" -le 7000 ] && [ "$life_min_ms" -ge 4000 ] ||
		fail "slowloris closed after $life_min_ms..$life_max_ms ms (deadline 5 s)"
	ok "20 slowloris connections closed after $life_min_ms..$life_max_ms ms"
fi
if want flood; then
	# The count of what was left out comes once its 10 s window is over.
	fo_wait 15 fo_log_has 'event=log_suppressed what=api_refused count=[0-9]+' ||
		fail "no summary of the refused POSTs"
	ok "summarised: $(grep -o 'event=log_suppressed what=api_refused count=[0-9]*' "$FO/failoverd.log" | head -1)"
fi

# ---- attack: descriptors pinned by half-requests
if want attack; then
	metrics >"$FO/m0" || fail "metrics before the attack"
	size0=$(stat -c %s "$FO/failoverd.log")
	cpu0=$(cpu_ticks)
	t0=$(now_ms)
	"$TOOLS/hostile" -r -n 1100 -i 2500 -d "$ATTACK_S" 127.0.0.1 "$PORT" >"$FO/attack.out" ||
		fail "hostile: $(cat "$FO/attack.out")"
	t1=$(now_ms)
	cpu1=$(cpu_ticks)
	hz_ms=$(curl -sS -o "$FO/body" -w '%{http_code} %{time_total}' --max-time 1 "$BASE/healthz") ||
		fail "/healthz did not answer within 1 s after the attack"
	[ "${hz_ms% *}" = 200 ] || fail "/healthz after the attack: $hz_ms"
	metrics >"$FO/m1" || fail "metrics after the attack"
	size1=$(stat -c %s "$FO/failoverd.log")
	. "$FO/attack.out"
	cpu_pct=$(( (cpu1 - cpu0) * 1000 * 100 / HZ / (t1 - t0) ))
	grown=$(( size1 - size0 ))
	# p99 lateness: the smallest bucket holding 99% of the attack's checks.
	p99=$(paste <(grep '^failoverd_probe_lateness_seconds_bucket' "$FO/m0") \
	    <(grep '^failoverd_probe_lateness_seconds_bucket' "$FO/m1") |
	    awk '{ n++; le[n] = $1; d[n] = $4 - $2 } END {
		if (n == 0) { print "none"; exit }
		total = d[n]
		for (i = 1; i <= n; i++) if (d[i] >= 0.99 * total) {
			sub(/.*le="/, "", le[i]); sub(/".*/, "", le[i]); print le[i]; exit } }')
	for s in app1 app2; do
		c0=$(mval "$FO/m0" "failoverd_probes_total{stack=\"$s\",result=\"ok\"}")
		c1=$(mval "$FO/m1" "failoverd_probes_total{stack=\"$s\",result=\"ok\"}")
		l1=$(mval "$FO/m1" "failoverd_probes_total{stack=\"$s\",result=\"local\"}")
		expect=$(( (t1 - t0) / 250 ))
		[ $(( c1 - c0 )) -ge $(( expect * 8 / 10 )) ] ||
			fail "$s: $(( c1 - c0 )) good checks during the attack, $expect due"
		[ "$l1" = 0 ] || fail "$s: $l1 local faults during the attack"
	done
	echo "attack: $ATTACK_S s, $(tr '\n' ' ' <"$FO/attack.out")"
	echo "attack: failoverd cpu ${cpu_pct}% of a core, log +$grown bytes," \
	    "probe lateness p99 <= $p99 s, /healthz after: $hz_ms"
	echo "attack: api $(grep -E '^failoverd_api_(connections|accepted|refused|deadline)' "$FO/m1" | tr '\n' ' ')"
	no_trouble "attack"
	[ "$grown" -lt 1000000 ] || fail "the log grew by $grown bytes"
	[ "$cpu_pct" -lt 50 ] || fail "failoverd used $cpu_pct% of a core"
	[ "$p99" != none ] || fail "no probe lateness histogram"
	awk -v p="$p99" 'BEGIN { exit !(p + 0 <= 0.25) }' || fail "probe lateness p99 $p99 s"
	[ "$answered_503" -gt 0 ] || fail "no connection was refused"
	ok "attack held off: no switch, probes on time, /healthz answered"
fi

# ---- emfile: the daemon's own limit cut to nothing
if want emfile; then
	size0=$(stat -c %s "$FO/failoverd.log")
	cpu0=$(cpu_ticks)
	t0=$(now_ms)
	prlimit --pid "$FO_PID" --nofile=3:1024 || fail "prlimit"
	pids=()
	for i in 1 2 3 4 5; do
		curl -s -o /dev/null --max-time 0.5 "$BASE/healthz" &
		pids+=($!)
	done
	sleep 3
	wait "${pids[@]}" 2>/dev/null
	t1=$(now_ms)
	cpu1=$(cpu_ticks)
	prlimit --pid "$FO_PID" --nofile=1024:1024 || fail "prlimit back"
	cpu_pct=$(( (cpu1 - cpu0) * 1000 * 100 / HZ / (t1 - t0) ))
	grown=$(( $(stat -c %s "$FO/failoverd.log") - size0 ))
	fo_wait 3 eval 'curl -s -o /dev/null --max-time 0.5 "$BASE/healthz"' ||
		fail "the API did not come back"
	fo_log_has 'event=local_fault stack=app1' || fail "app1's checks were not local faults"
	n=$(fo_log_count 'event=api_accept_paused')
	[ "$n" = 1 ] || fail "api_accept_paused logged $n times"
	fo_wait 3 fo_log_has 'event=api_accept_resumed' || fail "no api_accept_resumed"
	echo "emfile: cpu ${cpu_pct}% of a core, log +$grown bytes over $(( t1 - t0 )) ms"
	no_trouble "emfile"
	[ "$cpu_pct" -lt 30 ] || fail "failoverd spun at $cpu_pct% of a core"
	[ "$grown" -lt 100000 ] || fail "the log grew by $grown bytes"
	sleep 1
	no_trouble "after emfile"
	ok "out of descriptors: listener paused once, local faults, no health change"
fi

fo_stop || fail "failoverd exit status $?"
fo_log_has 'event=stopped' || fail "no clean stop"
echo PASS
