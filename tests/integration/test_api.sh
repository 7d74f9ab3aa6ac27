#!/bin/bash
# The HTTP API, /metrics and /healthz of a real failoverd (real named, real
# web heads, recording hooks): JSON of the GET endpoints, the bearer token
# on every POST (missing, wrong, none configured, unusable, re-read on
# reload), 404/405/413/400, the effect of pause/resume/switch/rearm (the
# record moves, checked with dig), and /metrics checked by promtool with
# the values a manual and an automatic failover leave behind.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/fo.sh"

command -v curl >/dev/null || { echo "skip: no curl"; exit 77; }
command -v jq >/dev/null || { echo "skip: no jq"; exit 77; }
PROMTOOL=$(command -v promtool || true)

fo_init
fo_webhead app1
fo_webhead app2
fo_maint app2 on			# a dormant standby answers 503
fo_hooks
H=$FO/hooks/rec
TOKEN1=t0k3n-$RANDOM$RANDOM-secret
TOKEN=$TOKEN1
printf '%s\n' "$TOKEN" >"$FO/token"
chmod 0600 "$FO/token"

# write_conf LISTEN [TOKENFILE]: the configuration (no token line when "")
write_conf() {
	local tokline=
	[ -n "${2-}" ] && tokline="api_token_file = $2"
	cat >"$FO/failoverd.conf" <<CONF
[controller]
state_dir = $FO/state
listen = $1
$tokline
name = test-ctl

[dns]
server = 127.0.0.1:$NAMED_PORT
zone = $NAMED_ZONE
key_file = $NAMED_KEYFILE
timeout = 500ms
confirm = 127.0.0.1:$NAMED_PORT
verify_interval = 1s

[stack app1]
web_head = app1.example.net
health_url = http://127.0.0.1:$WH_PORT_app1/health
standby_expect_status = 200-399,503
interval = 200ms
fastinter = 100ms
downinter = 500ms
timeout = 150ms
rise = 2
fall = 3
maintenance_on = $H on app1
maintenance_off = $H off app1
replication_off = $H replication-off app1
promote = $H promote app1

[stack app2]
web_head = 127.0.0.2 ::2
health_url = http://127.0.0.1:$WH_PORT_app2/health
standby_expect_status = 200-399,503
interval = 200ms
fastinter = 100ms
downinter = 500ms
timeout = 150ms
rise = 2
fall = 3
maintenance_on = $H on app2
maintenance_off = $H off app2
replication_off = $H replication-off app2
promote = $H promote app2

[group www]
address = www
primary = app1
backup = app2
ttl = 60s
suspect_ttl = 5s
hold_down = 0s
CONF
}

port_free() {
	[ -z "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]
}

# Start failoverd listening on a free port below 32768: pick one at
# random, check it with ss, and try another when the bind fails anyway.
start_api() {	# "127.0.0.1" or "[::1]", then failoverd's arguments
	local host=$1 try
	shift
	for try in $(seq 1 40); do
		PORT=$(( 20000 + RANDOM % 12000 ))
		port_free "$PORT" || continue
		write_conf "$host:$PORT" "$FO/token"
		: >"$FO/failoverd.log"
		fo_start "$@"
		# Generous: a sanitizer build on a loaded machine starts slowly.
		if fo_wait 20 fo_log_has 'event=(api_listening|start_failed|store_open_failed)' &&
		    fo_log_has 'event=api_listening'; then
			BASE="http://$host:$PORT"
			return 0
		fi
		echo "start_api: try $try on port $PORT failed:"
		grep -E 'level=(error|warn)' "$FO/failoverd.log" | tail -5
		fo_kill9
	done
	fail "could not start failoverd with a listener"
}

# req METHOD PATH [CURL ARGS...]: status in $CODE, body in $FO/body,
# headers in $FO/hdr.
req() {
	local m=(-X "$1") p=$2; shift 2
	[ "${m[1]}" = HEAD ] && m=(-I)
	CODE=$(curl -sS -g "${m[@]}" -o "$FO/body" -D "$FO/hdr" -w '%{http_code}' \
	    --max-time 5 "$@" "$BASE$p") || CODE=000
}
auth() { req POST "$1" -H "Authorization: Bearer $TOKEN" "${@:2}"; }
expect() {	# code what
	[ "$CODE" = "$1" ] || fail "$2: HTTP $CODE, want $1: $(head -c 400 "$FO/body")"
}
jqb() { jq -e "$@" "$FO/body" >/dev/null; }
group_is() {	# jq filter on GET /v1/groups/www
	curl -sS -g --max-time 2 "$BASE/v1/groups/www" | jq -e "$1" >/dev/null
}
metric() {	# exact series -> value
	curl -sS -g --max-time 2 "$BASE/metrics" |
	    awk -v s="$1" '$1 == s { print $2; f = 1 } END { exit !f }'
}
metric_is() { [ "$(metric "$1")" = "$2" ]; }
reloads_ge() { [ "$(fo_log_count 'event=reloaded')" -ge "$1" ]; }

# Clients that stall are dropped after this many seconds (default 10).
export FAILOVERD_TEST_API_TIMEOUT_S=1

W=www.$NAMED_ZONE
start_api 127.0.0.1
fo_wait 5 fo_dig_is "$W" CNAME app1.example.net. || fail "never published app1"
fo_wait 5 fo_log_has 'event=health_change stack=app2 from=unknown to=up' || fail "app2 never up"
fo_wait 5 fo_log_has 'event=health_change stack=app1 from=unknown to=up' || fail "app1 never up"
fo_log_has 'event=api_token state=loaded' || fail "token not loaded"
grep -qF -- "$TOKEN" "$FO/failoverd.log" && fail "the token is in the log"

# ---- /healthz, 404, 405
req GET /healthz; expect 200 healthz
[ "$(cat "$FO/body")" = ok ] || fail "healthz body: $(cat "$FO/body")"
req GET /nothing; expect 404 "unknown path"
jqb '.error and .status == 404' || fail "404 body not a JSON error"
req GET /v1/groups/; expect 404 "trailing slash"
req GET /v1/groups/www/pause/x; expect 404 "too deep"
req DELETE /v1/groups; expect 405 "DELETE /v1/groups"
grep -qi '^Allow: GET, HEAD' "$FO/hdr" || fail "405 without Allow: $(cat "$FO/hdr")"
req GET /v1/groups/www/pause; expect 405 "GET on a POST route"
grep -qi '^Allow: POST' "$FO/hdr" || fail "405 without Allow: POST"
req POST /metrics -H "Authorization: Bearer $TOKEN"; expect 405 "POST /metrics"
req PUT /v1/groups/www/pause; expect 405 "PUT"
for p in '/v1/groups/%00' '/v1/groups/w%00w' '/v1/groups/%zz' '/v1//groups' \
    "/v1/groups/$(head -c 400 /dev/zero | tr '\0' a)" '/v1/groups/..' \
    '/v1/groups/www%2Fpause' '/%2e%2e/metrics'; do
	req GET "$p"
	[ "${CODE:0:1}" = 4 ] || fail "GET $p: HTTP $CODE"
done
req GET /healthz; expect 200 "alive after odd paths"
# A burst of parallel clients: every one answered.
t0=$(date +%s%N)
seq 200 | xargs -P 20 -I{} curl -s -o /dev/null -w '%{http_code}\n' --max-time 5 \
    "$BASE/v1/groups/www" >"$FO/burst"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$(grep -c '^200$' "$FO/burst")" = 200 ] || fail "burst: $(sort "$FO/burst" | uniq -c)"
echo "200 GET /v1/groups/www by 20 clients: $ms ms"

# ---- GET endpoints: valid JSON, the right things in it
req GET /v1/groups; expect 200 "GET /v1/groups"
grep -qi '^Content-Type: application/json' "$FO/hdr" || fail "content type"
jqb '.groups | length == 1' || fail "groups: $(cat "$FO/body")"
jqb '.groups[0].name == "www" and .groups[0].active == "app1"' || fail "groups[0]: $(cat "$FO/body")"
req GET /v1/groups/www; expect 200 "GET /v1/groups/www"
jqb '.status == "serving" and .active == "app1" and .standby == "app2"' || fail "www: $(cat "$FO/body")"
jqb '.flags.paused == false' || fail "www flags: $(cat "$FO/body")"
req GET /v1/groups/nope; expect 404 "unknown group"
req GET /v1/groups/w%77w; expect 200 "percent-encoded name"
req GET /v1/stacks/app1; expect 200 "GET /v1/stacks/app1"
jqb '.name == "app1" and .health == "up"' || fail "app1: $(cat "$FO/body")"
req GET /v1/stacks; expect 200 "GET /v1/stacks"
jqb '[.stacks[].name] == ["app1","app2"]' || fail "stacks: $(cat "$FO/body")"
req GET /v1/stacks/nope; expect 404 "unknown stack"
req GET '/v1/events?group=www&limit=3'; expect 200 "GET /v1/events"
jqb '.events | length >= 1 and length <= 3' || fail "events: $(cat "$FO/body")"
jqb '[.events[].group] | all(. == "www")' || fail "events not filtered"
req GET '/v1/events?limit=x'; expect 400 "bad limit"
req GET '/v1/events?from=999999'; expect 200 "events from the future"
jqb '.events == []' || fail "events from 999999: $(cat "$FO/body")"
req HEAD /v1/groups; expect 200 "HEAD"

# ---- a client that stalls in its headers is dropped after the timeout
t0=$(date +%s%N)
exec 3<>"/dev/tcp/127.0.0.1/$PORT" || fail "connect"
printf 'GET /healthz HTTP/1.1\r\nHost: x\r\n' >&3
timeout 5 cat <&3 >/dev/null
rc=$?
exec 3>&-
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ $rc = 0 ] && [ $ms -lt 4000 ] || fail "stalled client kept: rc=$rc after $ms ms"
echo "stalled client dropped after $ms ms"

# ---- POST without the token changes nothing
req POST /v1/groups/www/pause; expect 401 "pause without token"
grep -qi '^WWW-Authenticate: Bearer' "$FO/hdr" || fail "401 without WWW-Authenticate"
jqb '.error' || fail "401 body"
req POST /v1/groups/www/pause -H "Authorization: Bearer wrong$TOKEN"; expect 401 "wrong token"
req POST /v1/groups/www/pause -H "Authorization: Bearer ${TOKEN%?}"; expect 401 "token prefix"
req POST /v1/groups/www/pause -H "Authorization: Basic $TOKEN"; expect 401 "basic scheme"
req POST /v1/groups/www/switch -H "Authorization: Bearer nope" \
    -d '{"to":"app2","force":true}'; expect 401 "switch, wrong token"
fo_log_has 'event=api_refused method=POST path=/v1/groups/www/pause http_status=401' ||
	fail "refusal not logged"
sleep 0.5				# more than a flags poll
req GET /v1/groups/www; expect 200 "after 401"
jqb '.flags.paused == false and .flags.switch_requested == false and .active == "app1"' ||
	fail "a refused POST changed something: $(cat "$FO/body")"
[ -s "$FO/hooks.log" ] && fail "a refused switch ran hooks"

# ---- bounded bodies and headers; malformed bodies
head -c 20000 /dev/zero | tr '\0' ' ' >"$FO/big"
auth /v1/groups/www/pause --data-binary @"$FO/big"; expect 413 "oversize body"
auth /v1/groups/www/pause -H "X-Big: $(head -c 9000 /dev/zero | tr '\0' x)"
[ "${CODE:0:1}" = 4 ] || fail "oversize header: HTTP $CODE"
auth /v1/groups/www/pause -d '{"paused":'; expect 400 "broken JSON"
auth /v1/groups/www/pause -d '[1]'; expect 400 "not an object"
auth /v1/groups/www/pin -d '{}'; expect 400 "pin without stack"
auth /v1/groups/www/pin -d '{"stack":7}'; expect 400 "pin, stack not a string"
auth /v1/groups/www/switch -d '{"to":"app2","force":"yes"}'; expect 400 "force not a bool"
auth /v1/groups/www/switch -d '{"too":"app2"}'; expect 400 "unknown member"
auth /v1/groups/nope/pause; expect 404 "pause an unknown group"
auth /v1/groups/www/pin -d '{"stack":"nope"}'
[ "$CODE" = 404 ] || [ "$CODE" = 409 ] || [ "$CODE" = 400 ] || fail "pin unknown stack: HTTP $CODE"
req GET /healthz; expect 200 "alive after the bad requests"
req GET /v1/groups/www
jqb '.flags.paused == false and .flags.pinned == null' || fail "a bad POST changed something: $(cat "$FO/body")"

# ---- with the token: pause, resume, pin, unpin
auth /v1/groups/www/pause; expect 200 pause
jqb '.ok == true and .command == "pause"' || fail "pause reply: $(cat "$FO/body")"
# In force at once: the API pokes the daemon's flags poll.
group_is '.flags.paused == true and .state.paused == true' || fail "pause not in force at once"
fo_wait 3 fo_log_has 'event=command group=www cmd=pause' || fail "daemon never fed the pause"
# Every command names its actor: the API's is the peer's address.
fo_log_has 'event=command group=www cmd=pause .*actor=api:127.0.0.1' || fail "pause without actor=api:127.0.0.1"
fo_log_has 'event=paused group=www actor=api:127.0.0.1' || fail "paused record without its actor"
auth /v1/groups/www/resume -d '{}'; expect 200 resume
fo_wait 3 group_is '.flags.paused == false and .state.paused == false' || fail "resume not in force"
auth /v1/groups/www/pin -H 'Content-Type: application/json' -d '{"stack":"app1"}'; expect 200 pin
fo_wait 3 group_is '.flags.pinned == "app1"' || fail "pin not shown"
auth /v1/groups/www/switch -d '{"to":"app2"}'; expect 409 "switch while pinned elsewhere"
jqb '.reason == "pinned"' || fail "409 reason: $(cat "$FO/body")"
auth /v1/groups/www/unpin; expect 200 unpin
fo_wait 3 group_is '.flags.pinned == null and .state.pinned == null' || fail "unpin not in force"
auth /v1/groups/www/rearm; expect 409 "rearm while serving"
auth /v1/groups/www/switch -d '{"to":"app1"}'; expect 409 "switch to the active stack"
jqb '.reason == "already_active"' || fail "409 reason: $(cat "$FO/body")"

# ---- manual switch through the API: the record moves
echo 1 >"$FO/hooks/slow.promote"	# long enough to look at it running
auth /v1/groups/www/switch -d '{"to":"app2","force":false}'; expect 200 switch
jqb '.request_id > 0' || fail "switch reply: $(cat "$FO/body")"
auth /v1/groups/www/switch -d '{"to":"app2"}'; expect 409 "second switch while one is requested"
jqb '.reason == "switch_pending" or .reason == "switch_running"' ||
	fail "409 reason: $(cat "$FO/body")"
fo_wait 3 metric_is failoverd_switches_in_flight 1 || fail "switch not in flight"
fo_wait 3 metric_is 'failoverd_group_status{group="www",status="switching"}' 1 ||
	fail "status switching not shown"
auth /v1/groups/www/switch -d '{"to":"app2"}'; expect 409 "switch while one runs"
rm -f "$FO/hooks/slow.promote"
fo_wait 10 fo_dig_is "$W" A 127.0.0.2 || fail "switch did not move the record"
fo_wait 5 group_is '.active == "app2" and .status == "wait_rearm"' || fail "not wait_rearm after the switch"
grep -q 'reason=manual' "$FO/hooks.log" || fail "hooks not manual"
fo_log_has 'event=switch_started group=www .*reason=manual .*actor=api:127.0.0.1' || fail "switch_started without its actor"
auth /v1/groups/www/switch -d '{"cancel":true}'; expect 409 "cancel with no request pending"
jqb '.reason == "no_request"' || fail "409 reason: $(cat "$FO/body")"
auth /v1/groups/www/switch -d '{"cancel":"yes"}'; expect 400 "cancel not a bool"
fo_wait 3 metric_is 'failoverd_switches_total{group="www",reason="manual",result="ok"}' 1 ||
	fail "manual switch not counted"

# ---- rearm, then an automatic failover back to app1
auth /v1/groups/www/rearm; expect 200 rearm
fo_wait 3 group_is '.status == "serving"' || fail "rearm not in force"
fo_webhead_stop app2
fo_wait 10 fo_dig_is "$W" CNAME app1.example.net. || fail "no automatic failover to app1"
fo_wait 5 group_is '.status == "wait_rearm" and .active == "app1"' || fail "auto switch not finished"
auth /v1/groups/www/switch -d '{"to":"app2"}'; expect 409 "switch to a stack that is down"
jqb '.reason == "target_not_up"' || fail "409 reason: $(cat "$FO/body")"
req GET '/v1/events?group=www&limit=200'; expect 200 "events after the switches"
jqb '[.events[] | select(.event == "switch_finished")] | length == 2' ||
	fail "switch_finished events: $(jq -c '[.events[].event]' "$FO/body")"
jqb '[.events[].seq] | . == sort' || fail "events not oldest first"

# ---- /metrics
req GET /metrics; expect 200 metrics
grep -qi '^Content-Type: text/plain; version=0.0.4' "$FO/hdr" || fail "metrics content type"
cp "$FO/body" "$FO/metrics.txt"
if [ -n "$PROMTOOL" ]; then
	promtool check metrics <"$FO/metrics.txt" >"$FO/promtool.out" 2>&1 ||
		fail "promtool: $(cat "$FO/promtool.out")"
else
	echo "note: no promtool, format not checked"
fi
m() { awk -v s="$1" '$1 == s { print $2 }' "$FO/metrics.txt"; }
for fam in probes_total probe_duration_seconds stack_health group_active_stack \
    switches_total phase_duration_seconds dns_updates_total drift_repairs_total \
    switches_in_flight build_info; do
	grep -q "^# TYPE failoverd_$fam " "$FO/metrics.txt" || fail "family $fam missing"
done
grep -v '^#' "$FO/metrics.txt" | grep -v '^failoverd_' && fail "a metric without the prefix"
[ "$(m 'failoverd_switches_total{group="www",reason="auto",result="ok"}')" = 1 ] || fail "auto switch count"
[ "$(m 'failoverd_switches_total{group="www",reason="manual",result="ok"}')" = 1 ] || fail "manual switch count"
[ "$(m 'failoverd_switches_total{group="www",reason="auto",result="failed"}')" = 0 ] || fail "failed count"
[ "$(m 'failoverd_group_active_stack{group="www",stack="app1"}')" = 1 ] || fail "active app1"
[ "$(m 'failoverd_group_active_stack{group="www",stack="app2"}')" = 0 ] || fail "app2 not active"
[ "$(m 'failoverd_stack_health{stack="app2",state="down"}')" = 1 ] || fail "app2 down"
[ "$(m 'failoverd_stack_health{stack="app1",state="up"}')" = 1 ] || fail "app1 up"
[ "$(m 'failoverd_switches_in_flight')" = 0 ] || fail "in flight"
[ "$(m 'failoverd_phase_duration_seconds_count{phase="promote",result="ok"}')" = 2 ] || fail "promote count"
[ "$(m 'failoverd_phase_duration_seconds_count{phase="dns",result="ok"}')" = 2 ] || fail "dns phase count"
[ "$(m 'failoverd_dns_updates_total{result="NOERROR"}')" -ge 3 ] || fail "NOERROR updates"
# fall = 3 failures took app2 down: connection refused once it stopped (a
# 503 may come first, from the maintenance it was put in when it stopped
# being active).
[ "$(m 'failoverd_probes_total{stack="app2",result="connect"}')" -ge 1 ] || fail "app2 connect failures"
[ $(( $(m 'failoverd_probes_total{stack="app2",result="connect"}') + $(m 'failoverd_probes_total{stack="app2",result="status"}') )) -ge 3 ] || fail "app2 failures"
[ "$(m 'failoverd_probes_total{stack="app1",result="ok"}')" -ge 5 ] || fail "app1 ok probes"
cnt=$(m 'failoverd_probe_duration_seconds_count{stack="app1"}')
inf=$(m 'failoverd_probe_duration_seconds_bucket{stack="app1",le="+Inf"}')
[ "$cnt" -gt 10 ] && [ "$cnt" = "$inf" ] || fail "histogram count $cnt +Inf $inf"
[ "$(m 'failoverd_build_info{version="0.1.0"}')" = 1 ] || fail "build_info"
echo "metrics: $(grep -vc '^#' "$FO/metrics.txt") series," \
    "$(curl -s -o /dev/null -w '%{size_download} bytes in %{time_total} s' "$BASE/metrics")"

# ---- the token on reload: none configured -> 403; re-read; unusable -> 403
write_conf "127.0.0.1:$PORT" ""
kill -HUP "$FO_PID"
fo_wait 5 fo_log_has 'event=reloaded' || fail "no reload"
auth /v1/groups/www/pause; expect 403 "no token file"
jqb '.error | test("api_token_file")' || fail "403 message: $(cat "$FO/body")"
TOKEN2=second-$RANDOM$RANDOM-0123456789
printf '%s\r\nignored second line\n' "$TOKEN2" >"$FO/token2"
chmod 0600 "$FO/token2"
write_conf "127.0.0.1:$PORT" "$FO/token2"
kill -HUP "$FO_PID"
fo_wait 5 reloads_ge 2 || fail "no second reload"
auth /v1/groups/www/pause; expect 401 "old token after reload"
TOKEN=$TOKEN2
auth /v1/groups/www/pause; expect 200 "new token after reload"
# A token file others may read fails the reload: the old token holds.
chmod 0644 "$FO/token2"
kill -HUP "$FO_PID"
fo_wait 5 fo_log_has 'event=reload_failed' || fail "reload with a readable token file"
auth /v1/groups/www/resume; expect 200 "token kept after a failed reload"
# A token file without a token fails the reload as it fails -t: the old
# token holds.
printf '\n' >"$FO/token2"
chmod 0600 "$FO/token2"
n=$(fo_log_count 'event=reload_failed')
kill -HUP "$FO_PID"
fo_wait 5 eval '[ "$(fo_log_count event=reload_failed)" -gt "$n" ]' ||
	fail "reload with an empty token file"
fo_log_has 'reload_failed.*the first line holds no token' ||
	grep -q 'the first line holds no token' "$FO/failoverd.log" ||
	fail "empty token reason not logged"
auth /v1/groups/www/resume; expect 200 "token kept after a reload with an empty token file"
req GET /healthz; expect 200 "healthz after reloads"

fo_stop || fail "failoverd exit status $?"
fo_log_has 'event=stopped' || fail "no clean stop"

# ---- dry-run: no state store, so only /metrics and /healthz answer
TOKEN=$TOKEN1
start_api 127.0.0.1 --dry-run
req GET /healthz; expect 200 "healthz in dry-run"
req GET /metrics; expect 200 "metrics in dry-run"
grep -q '^failoverd_dry_run 1$' "$FO/body" || fail "dry_run gauge"
req GET /v1/groups; expect 503 "groups in dry-run"
auth /v1/groups/www/pause; expect 503 "pause in dry-run"
req POST /v1/groups/www/pause -H "Authorization: Bearer x"; expect 401 "dry-run, wrong token"
fo_stop || fail "failoverd exit status $? (dry-run)"

# ---- IPv6 loopback, when there is one
if ip -6 addr show lo 2>/dev/null | grep -q '::1/128'; then
	TOKEN=$TOKEN1
	start_api '[::1]'
	req GET /healthz; expect 200 "healthz on [::1]"
	req GET /v1/groups/www; expect 200 "group on [::1]"
	jqb '.flags.paused == false' || fail "resume did not persist: $(cat "$FO/body")"
	auth /v1/groups/www/pause; expect 200 "pause on [::1]"
	fo_wait 3 group_is '.state.paused == true' || fail "pause on [::1] not in force"
	fo_stop || fail "failoverd exit status $? (v6)"
else
	echo "note: no IPv6 loopback, [::1] not tested"
fi
echo ok
