#!/bin/bash
# Operator requests are fresh and attributable (DESIGN.md, "What failoverd
# trusts"):
#  - a switch requested while failoverd is stopped and not taken within
#    request_ttl expires at start (event=request_expired): nothing runs;
#  - failoverctl switch GROUP --cancel withdraws a pending request; a
#    second cancel is refused (exit 1);
#  - a fresh request still runs, and every command is recorded with its
#    actor (actor=uid:NAME) in the history and the log.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/fo.sh"
command -v jq >/dev/null || { echo "jq missing"; exit 77; }

C=("$FAILOVERCTL" -c "$FO/failoverd.conf")
ctl() { "${C[@]}" "$@" </dev/null; }
ME=uid:$(id -un)

FO_CTL_EXTRA="request_ttl = 2s" fo_world
fo_stop || fail "stop"

echo "== a request made while stopped expires after request_ttl"
ctl switch www --yes --no-wait >/dev/null 2>&1 || fail "switch request refused: $(ctl switch www --yes --no-wait 2>&1)"
ctl history www --json | jq -e '[.events[] | select(.event == "command" and .data.cmd == "switch")] | last | .data.actor == "'"$ME"'"' >/dev/null ||
	fail "the request is not recorded with actor=$ME: $(ctl history www --limit 3)"
sleep 2.5
: >"$FO/failoverd.log"
fo_start
fo_wait 5 fo_log_has "event=request_expired group=www cmd=switch .*actor=$ME" || fail "no request_expired"
sleep 1
fo_log_has 'event=switch_started' && fail "an expired request ran"
[ -s "$FO/hooks.log" ] && fail "hooks ran for an expired request"
[ "$(ctl status www --json | jq -r .flags.switch_requested)" = false ] || fail "the expired request is still pending"
fo_dig_is "$W" CNAME app1.example.net. || fail "the record moved"

echo "== --cancel withdraws a pending request"
fo_stop || fail "stop"
ctl switch www --yes --no-wait >/dev/null 2>&1 || fail "switch request"
OUT=$(ctl switch www --cancel 2>&1) || fail "cancel refused: $OUT"
echo "$OUT" | grep -q withdrawn || fail "cancel said: $OUT"
OUT=$(ctl switch www --cancel 2>&1) && fail "a second cancel succeeded: $OUT"
echo "$OUT" | grep -q "no switch request is pending" || fail "second cancel said: $OUT"
ctl switch www --cancel --yes >/dev/null 2>&1; [ $? = 2 ] || fail "--cancel --yes is not a usage error"
ctl history www --json | jq -e '[.events[] | select(.event == "request_cancelled")] | last | .data.actor == "'"$ME"'" and .data.requested_by == "'"$ME"'"' >/dev/null ||
	fail "request_cancelled without its actors: $(ctl history www --limit 3)"
: >"$FO/failoverd.log"
fo_start
fo_wait 5 fo_log_has 'event=ready' || fail "not ready"
sleep 1
fo_log_has 'event=switch_started' && fail "a cancelled request ran"

echo "== a fresh request runs, with its actor on every record"
OUT=$(ctl switch www --yes 2>&1) || fail "switch failed: $OUT"
fo_wait 5 fo_dig_is "$W" A 127.0.0.2 || fail "no flip"
fo_log_has "event=command group=www cmd=switch .*actor=$ME" || fail "daemon's command line without actor"
fo_log_has "event=switch_started group=www .*actor=$ME" || fail "switch_started without actor"
ctl rearm www >/dev/null || fail "rearm"
fo_wait 5 fo_log_has "event=rearmed group=www .*actor=$ME" || fail "rearmed without actor"
ctl history www | grep -q "command .*cmd=rearm .*actor=$ME" || fail "history line without actor: $(ctl history www --limit 4)"
echo ok
