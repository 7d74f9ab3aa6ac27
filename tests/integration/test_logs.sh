#!/bin/bash
# Logs one can grep (issue 17), against a real daemon: a failed switch's
# hook lines carry the switch's id= and the hook's stack=; resume of a
# paused, failed group clears it without a spurious cmd_refused cmd=rearm;
# the history's JSON has numbers as numbers ("attempt":1); failoverctl
# group delete reaches the daemon's log; every line of a switch that
# completes carries its id= (status_change, the flip's dns_updated,
# confirmed, the notify hook's lines) and a status change outside a switch
# carries none; a stack going down logs at warning.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/fo.sh"
command -v jq >/dev/null || { echo "jq missing"; exit 77; }
command -v nsupdate >/dev/null || { echo "nsupdate missing"; exit 77; }

FO_TAIL_FN() {
	cat <<EOF2

[group old]
address = old
EOF2
}
fo_init
fo_webhead app1
fo_webhead app2
fo_maint app2 on
fo_hooks
W=www.$NAMED_ZONE
FO_GROUP_EXTRA="on_status_change = $FO/hooks/rec notify" FO_TAIL=$(FO_TAIL_FN) fo_conf
"$FAILOVERD" -t -c "$FO/failoverd.conf" >/dev/null ||
	fail "config: $("$FAILOVERD" -t -c "$FO/failoverd.conf" 2>&1)"
ctl() { "$FAILOVERCTL" -c "$FO/failoverd.conf" "$@" 2>&1 </dev/null; }
state_is() { [ "$(ctl status www --json | jq -r .status)" = "$1" ]; }

fo_start
fo_wait 5 fo_dig_is "$W" CNAME app1.example.net. || fail "never published app1"
fo_wait 5 fo_log_has 'event=health_change stack=app2 from=unknown to=up' || fail "app2 never up"
fo_wait 5 fo_log_has 'event=health_change stack=app1 from=unknown to=up' || fail "app1 never up"

# ---- a failed switch: every hook line carries id= and stack= ----
touch "$FO/hooks/fail.promote"
out=$(ctl switch www --yes) && fail "the switch did not fail: $out"
fo_wait 5 state_is failed || fail "not failed: $(ctl status www)"
rm -f "$FO/hooks/fail.promote"
id=$(ctl status www --json | jq -r .last_switch.id)
[ -n "$id" ] && [ "$id" != null ] || fail "no switch id"
fo_log_has "event=hook_output group=www phase=promote stack=app2 id=$id stream=stderr line=\"failing on purpose\"" ||
	fail "hook_output without id/stack"
fo_log_has "event=hook_exited group=www phase=promote stack=app2 id=$id outcome=exited exit=3 " ||
	fail "hook_exited without id/stack/exit"
fo_log_has "level=error event=switch_failed group=www id=$id " || fail "switch_failed not an error"

# ---- numbers are numbers in the history's JSON ----
ctl history www --json >"$FO/hist.json" || fail "history --json"
jq -e --arg id "$id" '[.events[] | select(.event == "phase_failed" and .data.id == $id)][0].data |
    (.attempt | type) == "number" and (.exit | type) == "number" and
    (.duration_ms | type) == "number" and (.id | type) == "string" and
    (.stack | type) == "string"' "$FO/hist.json" >/dev/null ||
	fail "phase_failed data types: $(jq -c '[.events[] | select(.event == "phase_failed")][0].data' "$FO/hist.json")"
jq -e '[.events[] | select(.event == "phase_started")] | all(.data.attempt | type == "number")' \
    "$FO/hist.json" >/dev/null || fail "phase_started attempt not a number"
# ... and failoverctl still prints them.
ctl history www | grep -Eq "phase_failed .*attempt=1 .*exit=3 " || fail "history text: $(ctl history www | tail -5)"

# ---- resume of a paused, failed group: cleared, nothing refused ----
out=$(ctl pause www) || fail "pause: $out"
fo_wait 5 fo_log_has 'event=paused group=www' || fail "pause not applied"
out=$(ctl resume www) || fail "resume: $out"
fo_wait 5 fo_log_has 'event=failed_state_cleared group=www by=resume' || fail "failed state not cleared"
fo_wait 5 state_is serving || fail "not serving after resume"
sleep 1				# several flag polls
fo_log_has 'event=cmd_refused group=www cmd=rearm' && fail "spurious cmd_refused cmd=rearm: $(grep cmd_refused "$FO/failoverd.log")"
ctl status www --json | jq -e '.flags.rearm_requested | not' >/dev/null || fail "a rearm request is left pending"

# ---- group delete from the command line reaches the daemon's log ----
O=old.$NAMED_ZONE
nsupdate -k "$NAMED_KEYFILE" <<NSU || fail "nsupdate old"
server 127.0.0.1 $NAMED_PORT
zone $NAMED_ZONE
update add $O 60 CNAME app1.example.net.
update add _failoverd.$O 60 TXT "failoverd controller=test-ctl group=old"
send
NSU
out=$(ctl group delete old) || fail "group delete: $out"
fo_wait 5 fo_log_has "event=group_deleted group=old address=$O tombstone=old seq=[0-9]+ by=failoverctl" ||
	fail "group delete not in the daemon's log"

# ---- a switch that completes: every line of it carries its id= ----
# The first publication's status change is no switch's.
fo_log_has 'event=status_change group=www stack=app1 status=online' ||
	fail "no status_change without id= at the first publication: $(grep 'event=status_change' "$FO/failoverd.log")"
out=$(ctl switch www --yes) || fail "switch: $out"
id2=$(ctl status www --json | jq -r .last_switch.id)
[ -n "$id2" ] && [ "$id2" != "$id" ] || fail "no new switch id: $id2"
fo_log_has "event=dns_updated group=www id=$id2 name=$W .* why=flip " ||
	fail "the flip without id=: $(grep 'event=dns_updated' "$FO/failoverd.log" | tail -2)"
fo_log_has "event=status_change group=www id=$id2 stack=app1 status=offline" ||
	fail "status_change offline without id=: $(grep 'event=status_change' "$FO/failoverd.log")"
fo_log_has "event=status_change group=www id=$id2 stack=app2 status=online" ||
	fail "status_change online without id=: $(grep 'event=status_change' "$FO/failoverd.log")"
fo_wait 5 fo_log_has "event=confirmed group=www id=$id2 name=$W " ||
	fail "confirmed without id=: $(grep 'event=confirmed' "$FO/failoverd.log")"
fo_wait 5 fo_log_has "event=hook_exited group=www phase=status_change stack=app2 id=$id2 outcome=exited exit=0 " ||
	fail "the notify hook's lines without id=: $(grep 'phase=status_change' "$FO/failoverd.log" | tail -3)"
fo_log_has "event=hook_output group=www phase=status_change stack=app2 id=$id2 stream=stdout" ||
	fail "the notify hook's output without id="
grep -q "^status_change app2 .*id=$id2 .*status=online" "$FO/hooks.log" ||
	fail "the notify hook without FAILOVER_ID: $(grep '^status_change' "$FO/hooks.log")"

# ---- a stack going down is a warning ----
fo_webhead_stop app1
fo_wait 10 fo_log_has 'level=warn event=health_change stack=app1 from=up to=down' ||
	fail "stack down not a warning: $(grep 'health_change stack=app1' "$FO/failoverd.log")"
fo_stop || fail "stop"
echo ok
