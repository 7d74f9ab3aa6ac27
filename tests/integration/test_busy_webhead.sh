#!/bin/bash
# test: alone (thousands of connections, bounded in time)
# A busy web head is not a dead one.  A real nginx at its connection limit
# (worker_connections 64, and connhog holding more connections than that:
# most of them requests that never end, which nginx cannot reclaim, and a
# few idle kept-alive ones kept fresh, so that nginx's least recently used
# idle connections - the ones it closes to make room - are failoverd's)
# keeps "reusing connections" for the whole test.  It closes failoverd's
# kept-alive connections while they are idle and also just as a request
# goes out on them.  failoverd probes its two ports (stacks app1 and app2
# of group www, interval 200 ms, fall 3) for 30 s and must count zero
# failures, start zero switches and report reconnects
# (failoverd_probe_reconnects_total).  Then nginx is stopped for real:
# both stacks must go down after exactly `fall` failed checks, reason
# connect.
#
# Why two stacks: they are checked in the same wake-up, so the connection
# one of them opens afresh makes nginx close the other's just as its
# request arrives - the race a single probe rarely meets.  libcurl 7.88
# retries such a request on a fresh connection, but only five times in an
# easy handle's life: before the fix every sixth one failed.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/fo.sh"

command -v nginx >/dev/null || { echo "skip: no nginx"; exit 77; }
command -v curl >/dev/null || { echo "skip: no curl"; exit 77; }
SECS=${BUSY_SECONDS:-30}
HOG_PID= NG_PID=
_busy_cleanup() {
	local p
	for p in $HOG_PID $NG_PID; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
}
named_trap_add _busy_cleanup

port_free() {
	[ -z "$(ss -Hlnt "sport = :$1" 2>/dev/null)" ]
}
free_port() {		# a free TCP port below 32768, not in $*
	local p try
	for ((try = 0; try < 200; try++)); do
		p=$(( 20000 + RANDOM % 12000 ))
		case " $* " in *" $p "*) continue;; esac
		port_free "$p" && { echo "$p"; return 0; }
	done
	return 1
}

fo_init
fo_hooks
H=$FO/hooks/rec
NG=$FO/nginx
mkdir -p "$NG/logs" "$NG/tmp"

# nginx, its two ports (one per stack); another port if one was taken.
for ((try = 0; try < 5; try++)); do
	PA=$(free_port) && PB=$(free_port "$PA") || fail "no free ports"
	cat >"$NG/nginx.conf" <<EOF
daemon off;
user root;
worker_processes 1;
pid $NG/nginx.pid;
error_log stderr warn;
events { worker_connections 64; }
http {
	access_log off;
	client_header_timeout 300s;
	client_body_temp_path $NG/tmp/body;
	proxy_temp_path $NG/tmp/proxy;
	fastcgi_temp_path $NG/tmp/fastcgi;
	uwsgi_temp_path $NG/tmp/uwsgi;
	scgi_temp_path $NG/tmp/scgi;
	server {
		listen 127.0.0.1:$PA;
		listen 127.0.0.1:$PB;
		default_type text/plain;
		location = /health { return 200 "OK\n"; }
	}
}
EOF
	nginx -p "$NG" -c "$NG/nginx.conf" -e stderr >"$NG/nginx.err" 2>&1 </dev/null &
	NG_PID=$!
	ok=1
	for p in "$PA" "$PB"; do
		fo_wait 5 curl -sf -o /dev/null -m 1 "http://127.0.0.1:$p/health" || ok=0
	done
	[ $ok = 1 ] && break
	kill "$NG_PID" 2>/dev/null; wait "$NG_PID" 2>/dev/null; NG_PID=
done
[ -n "$NG_PID" ] || fail "nginx did not start: $(tail -3 "$NG/nginx.err")"

# Keep it at its limit: 54 never-ending requests, 10 idle connections kept
# fresh every 50 ms, one reopened every 200 ms (each makes nginx close its
# least recently used idle connection).
"$TOOLS/connhog" -p "$PA" -P 54 -n 10 -R 50 -r 5 -T $((SECS + 90)) >"$FO/hog.out" 2>&1 &
HOG_PID=$!
fo_wait 5 grep -q '^ready=1' "$FO/hog.out" || fail "connhog: $(cat "$FO/hog.out")"

API=$(free_port "$PA" "$PB") || fail "no free port for the API"
cat >"$FO/failoverd.conf" <<CONF
[controller]
state_dir = $FO/state
listen = 127.0.0.1:$API
name = test-ctl

[dns]
server = 127.0.0.1:$NAMED_PORT
zone = $NAMED_ZONE
key_file = $NAMED_KEYFILE
timeout = 500ms
confirm = 127.0.0.1:$NAMED_PORT
verify_interval = 5s
CONF
for s in app1:$PA:app1.example.net app2:$PB:127.0.0.2; do
	IFS=: read -r name port head <<<"$s"
	cat >>"$FO/failoverd.conf" <<CONF

[stack $name]
web_head = $head
health_url = http://127.0.0.1:$port/health
interval = 200ms
fastinter = 200ms
downinter = 500ms
timeout = 150ms
rise = 2
fall = 3
maintenance_on = $H on $name
maintenance_off = $H off $name
replication_off = $H replication-off $name
promote = $H promote $name
CONF
done
cat >>"$FO/failoverd.conf" <<CONF

[group www]
address = www
primary = app1
backup = app2
ttl = 60s
suspect_ttl = 5s
CONF
"$FAILOVERD" -t -c "$FO/failoverd.conf" >/dev/null || fail "config: $("$FAILOVERD" -t -c "$FO/failoverd.conf" 2>&1)"
FAILOVERD_LOG_LEVEL=debug fo_start
W=www.$NAMED_ZONE
fo_wait 10 fo_dig_is "$W" CNAME app1.example.net. || fail "never published app1"
fo_wait 10 fo_log_has 'event=health_change stack=app2 from=unknown to=up' || fail "app2 never up"
fo_wait 10 fo_log_has 'event=health_change stack=app1 from=unknown to=up' || fail "app1 never up"

busy0=$(grep -c 'worker_connections are not enough' "$NG/nginx.err")
echo "probing the busy nginx for ${SECS}s"
sleep "$SECS"
kill -USR1 "$HOG_PID"
fo_wait 2 grep -q '^opened=' "$FO/hog.out"

metrics=$(curl -sf -m 5 "http://127.0.0.1:$API/metrics") || fail "no /metrics"
checks=$(echo "$metrics" | awk '/^failoverd_probes_total\{stack="app[12]"/ { n += $2 } END { print n + 0 }')
failures=$(echo "$metrics" | awk '/^failoverd_probes_total\{stack="app[12]"/ && !/result="ok"/ { n += $2 } END { print n + 0 }')
reconnects=$(echo "$metrics" | awk '/^failoverd_probe_reconnects_total\{stack="app[12]"\}/ { n += $2 } END { print n + 0 }')
busy1=$(grep -c 'worker_connections are not enough' "$NG/nginx.err")
echo "checks=$checks failures=$failures reconnects=$reconnects" \
    "nginx_reusing_warnings=$((busy1 - busy0)) hog: $(grep '^opened=' "$FO/hog.out" | tail -1)"
[ "$((busy1 - busy0))" -ge $((SECS / 2)) ] ||
    fail "nginx was not kept at its limit (it warns once a second while it reuses connections)"
[ "$checks" -ge $((SECS * 5 * 2 * 8 / 10)) ] || fail "too few checks: $checks"
if [ "$failures" != 0 ]; then
	grep -E 'event=probe .*ok=0' "$FO/failoverd.log" | head -5
	fail "$failures checks of a busy but healthy web head failed"
fi
fo_log_has 'event=health_suspect' && fail "a stack was called suspect"
fo_log_has 'event=health_change stack=app[12] from=up' && fail "a stack left up"
fo_log_has 'event=switch_started' && fail "a switch started"
[ "$reconnects" -gt 0 ] || fail "no reconnect counted although nginx closed connections"
echo "$metrics" | grep -q '^# TYPE failoverd_probe_reconnects_total counter' ||
    fail "failoverd_probe_reconnects_total has no TYPE line"

# The web head really refuses now: down after exactly `fall` checks.
kill "$HOG_PID"; wait "$HOG_PID" 2>/dev/null; HOG_PID=
lines0=$(wc -l <"$FO/failoverd.log")
t0=$(date +%s%N)
kill "$NG_PID"; wait "$NG_PID" 2>/dev/null; NG_PID=
fo_wait 5 fo_log_has 'event=health_change stack=app1 from=up to=down' || fail "app1 not seen down"
t1=$(date +%s%N)
fo_wait 5 fo_log_has 'event=health_change stack=app2 from=up to=down' || fail "app2 not seen down"
for s in app1 app2; do
	after=$(tail -n +"$((lines0 + 1))" "$FO/failoverd.log")
	n=$(echo "$after" | sed -n "/event=health_change stack=$s from=up to=down/q;p" |
	    grep -c "event=probe stack=$s ok=0")
	[ "$n" = 3 ] || fail "$s went down after $n failed checks, not fall=3"
	echo "$after" | grep -q "event=health_change stack=$s from=up to=down reason=connect" ||
	    fail "$s down for another reason than connect: $(echo "$after" | grep "event=health_change stack=$s" | head -1)"
done
ms=$(( (t1 - t0) / 1000000 ))
echo "refused: app1 down ${ms} ms after nginx stopped (3 checks of 200 ms)"
# Three checks 200 ms apart, the first within 200 ms: well under 2 s.
[ "$ms" -lt 2000 ] || fail "detection took ${ms} ms"
fo_log_has 'event=switch_started' && fail "a switch started with both stacks down"
fo_stop || fail "failoverd exited with an error"
echo "PASS"
