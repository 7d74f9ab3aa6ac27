#!/bin/bash
# The dashboard's side of the API against a real failoverd (real named,
# real web heads, recording hooks): GET / and its headers (the CSP names
# the inline script and style by their SHA-256, ETag, no-store, 304),
# GET /v1/groups/NAME/plan (the same plan failoverctl switch prints; 404,
# 409, 400), GET /v1/groups/NAME/dns (what named answers), GET
# /v1/history/verify, and GET /v1/events/stream: events pushed as they are
# recorded (an API command and a switch), Last-Event-ID replay,
# keep-alive, the cap on streams (503 in JSON) and a stream that is gone.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/fo.sh"

command -v curl >/dev/null || { echo "skip: no curl"; exit 77; }
command -v jq >/dev/null || { echo "skip: no jq"; exit 77; }
command -v openssl >/dev/null || { echo "skip: no openssl"; exit 77; }

port_free() { [ -z "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]; }

fo_init
fo_webhead app1
fo_webhead app2
fo_maint app2 on
fo_hooks
TOKEN=dash-token-$RANDOM$RANDOM$RANDOM$RANDOM
printf '%s\n' "$TOKEN" >"$FO/token"
chmod 0600 "$FO/token"
W=www.$NAMED_ZONE
export FAILOVERD_TEST_SSE_KEEPALIVE_S=1	# a keep-alive comment every second

# Four connections: at most two event streams (half of them).
for try in $(seq 1 40); do
	PORT=$(( 20000 + RANDOM % 12000 ))
	port_free "$PORT" || continue
	FO_LISTEN=127.0.0.1:$PORT
	FO_CTL_EXTRA="api_token_file = $FO/token
api_max_connections = 4"
	FO_HOLD_DOWN=0s
	fo_conf
	: >"$FO/failoverd.log"
	fo_start
	# Listening, or gone (a port taken: try another; anything else: fail).
	fo_wait 20 eval 'fo_log_has event=api_listening || ! kill -0 $FO_PID' || fail "failoverd did not listen"
	fo_log_has 'event=api_listening' && break
	fo_log_has 'listen on' || fail "failoverd did not start: $(tail -3 "$FO/failoverd.log")"
	fo_kill9
	PORT=
done
[ -n "$PORT" ] || fail "could not start failoverd with a listener"
BASE=http://127.0.0.1:$PORT
fo_wait 5 fo_dig_is "$W" CNAME app1.example.net. || fail "never published app1"
fo_wait 5 fo_log_has 'event=health_change stack=app2 from=unknown to=up' || fail "app2 never up"

req() {	# METHOD PATH [curl args]: $CODE, $FO/body, $FO/hdr
	local m=$1 p=$2; shift 2
	CODE=$(curl -sS -X "$m" -o "$FO/body" -D "$FO/hdr" -w '%{http_code}' \
	    --max-time 5 "$@" "$BASE$p") || CODE=000
}
expect() { [ "$CODE" = "$1" ] || fail "$2: HTTP $CODE, want $1: $(head -c 400 "$FO/body")"; }
hdr() { tr -d '\r' <"$FO/hdr" | sed -n "s/^$1: //Ip" | head -1; }
sha_b64() { openssl dgst -sha256 -binary | openssl base64 -A; }

# ---- GET /: one page, nothing fetched from elsewhere
req GET /; expect 200 "GET /"
[ "$(hdr Content-Type)" = "text/html; charset=utf-8" ] || fail "page type: $(hdr Content-Type)"
[ "$(hdr Cache-Control)" = no-store ] || fail "page cache: $(hdr Cache-Control)"
[ "$(hdr X-Content-Type-Options)" = nosniff ] || fail "nosniff"
CSP=$(hdr Content-Security-Policy)
ETAG=$(hdr ETag)
case $CSP in "default-src 'self'; script-src 'sha256-"*"'; style-src 'sha256-"*) ;; *) fail "CSP: $CSP" ;; esac
case $CSP in *unsafe*) fail "CSP allows unsafe: $CSP" ;; esac
case $CSP in *"frame-ancestors 'none'"*) ;; *) fail "CSP frames: $CSP" ;; esac
[[ $ETAG =~ ^\"[0-9a-f]{32}\"$ ]] || fail "ETag: $ETAG"
grep -q '<h1>Failover Groups</h1>' "$FO/body" || fail "no title in the page"
# The inline script and style are exactly the files, and the CSP names
# exactly their hashes.
for f in js css; do
	[ $f = js ] && { open='<script>'; close='</script>'; file=dashboard.js; key=script-src; }
	[ $f = css ] && { open='<style>'; close='</style>'; file=dashboard.css; key=style-src; }
	want=$(sha_b64 <"$TOP/controller/face/dashboard/$file")
	case $CSP in *"$key 'sha256-$want'"*) ;; *) fail "CSP $key is not the hash of $file ($want): $CSP" ;; esac
	grep -qF "$(head -c 200 "$TOP/controller/face/dashboard/$file")" "$FO/body" || fail "$file not inline"
done
grep -q '<script src=\|<link rel="stylesheet"' "$FO/body" && fail "the page still loads a file"
grep -Eiq '(src|href)="https?://' "$FO/body" && fail "the page names another origin"
grep -q 'document.cookie' "$TOP/controller/face/dashboard/dashboard.js" && fail "the script uses cookies"
req GET / -H "If-None-Match: $ETAG"; expect 304 "GET / with the ETag"
req HEAD / -I; expect 200 "HEAD /"
req POST / -H "Authorization: Bearer $TOKEN"; expect 405 "POST /"
tr -d '\r' <"$FO/hdr" | grep -q '^Allow: GET, HEAD' || fail "405 without Allow"

# ---- the plan: the same as failoverctl switch prints
req GET /v1/groups/www/plan; expect 200 plan
jq -e --arg h "$FO/hooks/rec" '.group == "www" and .from == "app1" and .to == "app2"
    and .force == false and .refused == null
    and ([.steps[].phase] == ["maintenance_on", "replication_off", "promote", "maintenance_off"])
    and .steps[0].stack == "app1" and .steps[0].command == [$h, "on", "app1"]
    and .steps[2].stack == "app2" and .steps[2].command == [$h, "promote", "app2"]
    and .dns.from == "CNAME app1.example.net." and .dns.to == "127.0.0.2 ::2" and .dns.ttl == 60
    and (.after | test("waits for rearm"))' "$FO/body" >/dev/null || fail "plan: $(cat "$FO/body")"
jq -j .text "$FO/body" >"$FO/plan.api"
grep -q "^  5. dns: $W CNAME app1.example.net. -> 127.0.0.2 ::2 ttl 60s$" "$FO/plan.api" || fail "plan text: $(cat "$FO/plan.api")"
grep -q "^  then www waits for rearm" "$FO/plan.api" || fail "plan text has no rearm line"
# failoverctl prints the same plan (it asks on a terminal: script gives it one).
if command -v script >/dev/null; then
	printf 'n\n' | script -qec "$FAILOVERCTL -c $FO/failoverd.conf switch www" /dev/null >"$FO/plan.ctl" 2>&1
	tr -d '\r' <"$FO/plan.ctl" | sed -n '/^switch www/,/^  then/p' >"$FO/plan.ctl2"
	diff "$FO/plan.api" "$FO/plan.ctl2" >/dev/null || fail "the API's plan and failoverctl's differ: $(diff "$FO/plan.api" "$FO/plan.ctl2")"
fi
req GET '/v1/groups/www/plan?to=app2&force=0'; expect 200 "plan to app2"
req GET /v1/groups/nope/plan; expect 404 "plan of an unknown group"
jqb() { jq -e "$@" "$FO/body" >/dev/null; }
jqb '.status == 404 and (.error | length > 0)' || fail "404 plan body"
req GET '/v1/groups/www/plan?to=app1'; expect 409 "plan to the active stack"
jqb '.status == 409 and (.reason | length > 0)' || fail "409 plan body: $(cat "$FO/body")"
req GET '/v1/groups/www/plan?to=nostack'; [ "$CODE" = 404 ] || [ "$CODE" = 409 ] || fail "plan to an unknown stack: $CODE"
req GET '/v1/groups/www/plan?force=maybe'; expect 400 "plan with a bad force"

# ---- GET /v1/groups: the live fields
req GET /v1/groups/www; expect 200 group
jqb '.stacks[0].latency_ms >= 0 and .stacks[0].last_check_ms > 0 and .stacks[0].http_status == 200
    and .stacks[1].http_status == 503' || fail "live fields: $(jq -c .stacks "$FO/body")"

# ---- GET /v1/groups/NAME/dns: what named answers, asked in the background
dns_is() {
	curl -sS --max-time 2 "$BASE/v1/groups/www/dns" | jq -e --arg a "$1" \
	    '.servers | length == 1 and .[0].answer == $a and .[0].result == "NOERROR"
	     and .[0].ttl == 60 and .[0].server == "127.0.0.1#'"$NAMED_PORT"'"' >/dev/null
}
fo_wait 5 dns_is "CNAME app1.example.net." || fail "dns: $(curl -sS "$BASE/v1/groups/www/dns")"
req GET /v1/groups/nope/dns; expect 404 "dns of an unknown group"

# ---- GET /v1/history/verify
req GET /v1/history/verify; expect 200 verify
jqb '.ok == true and .first_bad == null and .count > 0' || fail "verify: $(cat "$FO/body")"

# ---- the event stream
# stream NAME [ARGS]: a stream in the background, into $FO/NAME.sse
declare -A SSE_PID
stream() {
	local n=$1; shift
	curl -sSN --max-time 60 "$@" "$BASE/v1/events/stream" >"$FO/$n.sse" 2>"$FO/$n.err" &
	SSE_PID[$n]=$!
}
stream_stop() {
	kill "${SSE_PID[$1]}" 2>/dev/null; wait "${SSE_PID[$1]}" 2>/dev/null
	unset "SSE_PID[$1]"
}
_sse_cleanup() { local n; for n in "${!SSE_PID[@]}"; do kill "${SSE_PID[$n]}" 2>/dev/null; done; }
named_trap_add _sse_cleanup
streams_metric() { curl -sS --max-time 2 "$BASE/metrics" | awk '$1 == "failoverd_api_connections" { print $2 }'; }

stream s1 -D "$FO/s1.hdr"
fo_wait 5 grep -q '^event: hello' "$FO/s1.sse" || fail "no hello on the stream: $(cat "$FO/s1.sse" "$FO/s1.err")"
tr -d '\r' <"$FO/s1.hdr" | grep -qi '^Content-Type: text/event-stream' || fail "stream type: $(cat "$FO/s1.hdr")"
LAST=$(sed -n 's/^data: {"last_seq":\([0-9]*\).*/\1/p' "$FO/s1.sse" | head -1)
[ -n "$LAST" ] || fail "hello without last_seq: $(cat "$FO/s1.sse")"
fo_wait 5 grep -q '^: keep-alive' "$FO/s1.sse" || fail "no keep-alive comment: $(cat "$FO/s1.sse")"
# A command over the API is pushed as it is recorded.
req POST /v1/groups/www/pause -H "Authorization: Bearer $TOKEN"; expect 200 pause
fo_wait 5 grep -q '"event":"command"' "$FO/s1.sse" || fail "the pause was not pushed: $(cat "$FO/s1.sse")"
grep -q '^event: history' "$FO/s1.sse" || fail "no history event name"
grep '^data: {"seq"' "$FO/s1.sse" | head -1 | sed 's/^data: //' | jq -e '.group == "www" and (.hash | length == 64)' >/dev/null ||
    fail "event JSON: $(grep '^data: {"seq"' "$FO/s1.sse" | head -1)"
# A command from failoverctl (another process) is found within a second or so.
"$FAILOVERCTL" -c "$FO/failoverd.conf" resume www >/dev/null || fail "failoverctl resume"
fo_wait 5 grep -q '"cmd":"resume"' "$FO/s1.sse" || fail "failoverctl's resume was not pushed: $(cat "$FO/s1.sse")"

# Two streams at most (api_max_connections = 4): the third is 503 in JSON.
stream s2
fo_wait 5 grep -q '^event: hello' "$FO/s2.sse" || fail "no second stream"
req GET /v1/events/stream; expect 503 "a third stream"
jqb '.status == 503 and (.error | test("too many event streams"))' || fail "503 body: $(cat "$FO/body")"
[ "$(hdr Content-Type)" = application/json ] || fail "503 type"
# ... while plain requests still get through.
req GET /healthz; expect 200 "healthz beside two streams"
# A stream that is gone frees its place.
stream_stop s2
fo_wait 5 bash -c "curl -sS --max-time 1 -o /dev/null -w '%{http_code}' -N $BASE/v1/events/stream?from=0 | grep -q 200" ||
    fail "the place of a closed stream was not freed"

# A switch over the API: its phases arrive on the stream, in order.
req POST /v1/groups/www/switch -H "Authorization: Bearer $TOKEN" -d '{"to":"app2"}'; expect 200 switch
fo_wait 20 grep -q '"event":"switch_finished"' "$FO/s1.sse" || fail "no switch_finished on the stream: $(grep -o '"event":"[a-z_]*"' "$FO/s1.sse" | tr '\n' ' ')"
order=$(grep -o '"event":"\(switch_started\|phase_finished\|switch_finished\)"' "$FO/s1.sse" | sed 's/.*:"//; s/"//' | uniq | tr '\n' ' ')
[ "$order" = "switch_started phase_finished switch_finished " ] || fail "phases out of order: $order"
fo_wait 5 fo_dig_is "$W" A 127.0.0.2 || fail "named does not answer app2"
fo_wait 8 dns_is "A 127.0.0.2 AAAA ::2" || fail "dns after the switch: $(curl -sS "$BASE/v1/groups/www/dns")"
# Sequence numbers on the stream: increasing, none twice.
grep '^id: ' "$FO/s1.sse" | sed 's/id: //' >"$FO/ids"
sort -n -u "$FO/ids" | diff - "$FO/ids" >/dev/null || fail "ids not increasing: $(tr '\n' ' ' <"$FO/ids")"

# Last-Event-ID: a reconnecting client gets what it missed.
MID=$(sed -n 3p "$FO/ids")
curl -sSN --max-time 2 -H "Last-Event-ID: $MID" "$BASE/v1/events/stream" >"$FO/s3.sse" 2>/dev/null
first=$(grep '^id: ' "$FO/s3.sse" | head -1 | sed 's/id: //')
[ "$first" = "$(sed -n 4p "$FO/ids")" ] || fail "replay after $MID starts at $first: $(head -20 "$FO/s3.sse")"
# (It may go further: an event after the snapshot, e.g. the TTL put back.)
grep '^id: ' "$FO/s3.sse" | sed 's/id: //' | grep -qxF "$(tail -1 "$FO/ids")" ||
    fail "replay does not reach the newest event $(tail -1 "$FO/ids"): $(grep '^id: ' "$FO/s3.sse" | tr '\n' ' ')"

req GET /v1/history/verify; expect 200 "verify after the switch"
jqb '.ok == true' || fail "chain after the switch: $(cat "$FO/body")"
stream_stop s1
fo_stop || fail "failoverd exited $?"
fo_log_has 'level=error' && fail "errors in the log: $(grep level=error "$FO/failoverd.log" | head -3)"
echo "ok: dashboard API"
