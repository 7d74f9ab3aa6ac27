#!/bin/bash
# Metrics one can alert on (issue 17), against a real named and daemon:
# each group's record in sync, its publication failing with the reason,
# not_owner refusals counted, the last switch's time, the last successful
# probe per stack (frozen while the stack fails, unlike the last probe),
# phase results by phase and result (a failed-but-continued
# maintenance_on included), phase_duration_seconds as a histogram by
# result, the probe latency histogram by stack; promtool check metrics
# clean; docs/alerts.yml passes promtool check rules and the rule tests
# in alerts_test.yml.  Also GET /v1/stacks/NAME/failover-status, the one
# curl a cron job on an application server needs (text/plain, no
# privilege: asked as nobody).
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/fo.sh"
command -v curl >/dev/null || { echo "curl missing"; exit 77; }
command -v nsupdate >/dev/null || { echo "nsupdate missing"; exit 77; }
command -v promtool >/dev/null || { echo "promtool missing"; exit 77; }

# ---- the rules first: they need no daemon ----
promtool check rules "$TOP/docs/alerts.yml" >"$FO/rules.out" 2>&1 ||
	fail "promtool check rules: $(cat "$FO/rules.out")"
(cd "$TOP/tests/integration" && promtool test rules alerts_test.yml) >"$FO/rtest.out" 2>&1 ||
	fail "promtool test rules: $(cat "$FO/rtest.out")"

fo_world_foreign
PORT=
for try in $(seq 1 20); do
	p=$(( 20000 + RANDOM % 12000 ))
	[ -z "$(ss -Hltn "sport = :$p" 2>/dev/null)" ] && { PORT=$p; break; }
done
[ -n "$PORT" ] || fail "no free port"
FO_LISTEN=127.0.0.1:$PORT FO_TAIL=$(fo_tail_api) fo_conf
"$FAILOVERD" -t -c "$FO/failoverd.conf" >/dev/null ||
	fail "config: $("$FAILOVERD" -t -c "$FO/failoverd.conf" 2>&1)"
ctl() { "$FAILOVERCTL" -c "$FO/failoverd.conf" "$@" 2>&1 </dev/null; }
state_is() { [ "$(ctl status www --json | jq -r .status)" = "$1" ]; }

scrape() {
	curl -sS --max-time 5 "http://127.0.0.1:$PORT/metrics" >"$FO/metrics.txt" || fail "GET /metrics"
	promtool check metrics <"$FO/metrics.txt" >"$FO/promtool.out" 2>&1 ||
		fail "promtool check metrics: $(cat "$FO/promtool.out")"
}
m() { awk -v s="$1" '$1 == s { print $2 }' "$FO/metrics.txt"; }
is() {	# series expected
	local v; v=$(m "$1")
	[ "$v" = "$2" ] || fail "$1 = '$v', want $2"
}
gt0() {
	local v; v=$(m "$1")
	awk -v v="$v" 'BEGIN { exit !(v + 0 > 0) }' || fail "$1 = '$v', want > 0"
}

fo_start
fo_wait 5 fo_dig_is "$W" CNAME app1.example.net. || fail "never published app1"
fo_wait 10 fo_log_has 'event=dns_unusable group=api .*reason=not_owner' || fail "api not judged not_owner"
fo_wait 5 fo_log_has 'event=health_change stack=app2 from=unknown to=up' || fail "app2 never up"
fo_wait 5 fo_log_has 'event=api_listening' || fail "the API did not listen"

# ---- at rest: www in sync, api refused ----
scrape
is 'failoverd_group_record_in_sync{group="www"}' 1
is 'failoverd_group_record_in_sync{group="api"}' 0
is 'failoverd_group_publication_failing{group="www",reason=""}' 0
is 'failoverd_group_publication_failing{group="api",reason="not_owner"}' 1
gt0 'failoverd_dns_not_owner_total{group="api"}'
is 'failoverd_dns_not_owner_total{group="www"}' 0
is 'failoverd_group_last_switch_timestamp_seconds{group="www"}' 0.000
gt0 'failoverd_stack_last_success_timestamp_seconds{stack="app1"}'
gt0 'failoverd_probe_duration_seconds_count{stack="app1"}'
[ "$(m 'failoverd_probe_duration_seconds_count{stack="app2"}')" = \
  "$(m 'failoverd_probe_duration_seconds_bucket{stack="app2",le="+Inf"}')" ] || fail "app2 histogram count"
grep -q '^# TYPE failoverd_phase_duration_seconds histogram$' "$FO/metrics.txt" || fail "phase_duration_seconds not a histogram"

# ---- failover-status as text, for anyone ----
fs() {	# stack: the body; the content type in $FO/fs.hdr
	curl -sS --max-time 5 -D "$FO/fs.hdr" "http://127.0.0.1:$PORT/v1/stacks/$1/failover-status"
}
[ "$(fs app1)" = online ] || fail "failover-status app1: $(fs app1)"
grep -qi '^Content-Type: text/plain' "$FO/fs.hdr" || fail "failover-status content type: $(cat "$FO/fs.hdr")"
[ "$(fs app2)" = offline ] || fail "failover-status app2: $(fs app2)"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$PORT/v1/stacks/app9/failover-status")
[ "$code" = 404 ] || fail "failover-status of an unknown stack: HTTP $code"
if command -v runuser >/dev/null && id nobody >/dev/null 2>&1; then
	out=$(runuser -u nobody -- curl -sS --max-time 5 "http://127.0.0.1:$PORT/v1/stacks/app1/failover-status") ||
		fail "as nobody: $out"
	[ "$out" = online ] || fail "as nobody: $out"
fi

# ---- a switch whose maintenance_on fails but continues ----
touch "$FO/hooks/fail.maintenance_on"
out=$(ctl switch www --yes) || fail "switch: $out"
fo_wait 10 state_is wait_rearm || fail "not wait_rearm: $(ctl status www)"
rm -f "$FO/hooks/fail.maintenance_on"
scrape
is 'failoverd_phase_results_total{group="www",phase="maintenance_on",result="failed"}' 1
is 'failoverd_phase_results_total{group="www",phase="maintenance_on",result="ok"}' 0
is 'failoverd_phase_results_total{group="www",phase="promote",result="ok"}' 1
is 'failoverd_phase_results_total{group="www",phase="dns",result="ok"}' 1
is 'failoverd_phase_duration_seconds_count{phase="maintenance_on",result="failed"}' 1
is 'failoverd_phase_duration_seconds_count{phase="promote",result="ok"}' 1
is 'failoverd_phase_duration_seconds_bucket{phase="promote",result="ok",le="+Inf"}' 1
gt0 'failoverd_group_last_switch_timestamp_seconds{group="www"}'
is 'failoverd_switches_total{group="www",reason="manual",result="ok"}' 1
# app2 takes www's traffic now; app1 still api's (combined: online).
[ "$(fs app2)" = online ] && [ "$(fs app1)" = online ] || fail "failover-status after the switch: $(fs app1) $(fs app2)"

# ---- the last success stops while the probes go on failing ----
fo_webhead_stop app1
fo_wait 10 fo_log_has 'event=health_change stack=app1 from=up to=down' || fail "app1 not down"
scrape
ok1=$(m 'failoverd_stack_last_success_timestamp_seconds{stack="app1"}')
pr1=$(m 'failoverd_stack_last_probe_timestamp_seconds{stack="app1"}')
sleep 1.2
scrape
[ "$(m 'failoverd_stack_last_success_timestamp_seconds{stack="app1"}')" = "$ok1" ] ||
	fail "last success moved while app1 is down"
awk -v a="$pr1" -v b="$(m 'failoverd_stack_last_probe_timestamp_seconds{stack="app1"}')" \
    'BEGIN { exit !(b > a) }' || fail "last probe did not move: $pr1"
fo_stop || fail "stop"
echo ok
