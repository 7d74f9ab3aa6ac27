#!/bin/bash
# failoverctl end to end against a running failoverd (real named, web heads,
# hooks): status table and JSON, failover-status, verify against a record
# edited by hand, pause holding an outage and resume switching, switch
# refusals (target not up, pinned, running), a forced switch, a followed
# switch with its phase durations, a failed switch, history JSON, group
# delete with its tombstone, flags written while the daemon is stopped,
# usage errors, and a tampered history named by --verify.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/fo.sh"
command -v jq >/dev/null || { echo "jq missing"; exit 77; }
command -v nsupdate >/dev/null || { echo "nsupdate missing"; exit 77; }

# A third stack in no group (probing app1's web head), and a group with no
# stacks (address reserved) for group delete.
FO_TAIL_FN() {
	cat <<EOF
[stack app3]
web_head = app3.example.net
health_url = http://127.0.0.1:$WH_PORT_app1/health
interval = 200ms
timeout = 150ms

[group old]
address = old
EOF
}
fo_init
fo_webhead app1
fo_webhead app2
fo_maint app2 on
fo_hooks
FO_VERIFY=1h FO_TAIL=$(FO_TAIL_FN) fo_conf
"$FAILOVERD" -t -c "$FO/failoverd.conf" >/dev/null ||
	fail "config: $("$FAILOVERD" -t -c "$FO/failoverd.conf" 2>&1)"
W=www.$NAMED_ZONE
C=("$FAILOVERCTL" -c "$FO/failoverd.conf")
ctl() { "${C[@]}" "$@"; }
# expect RC CMD...: run failoverctl, keep its output in $OUT.
expect() {
	local want=$1; shift
	OUT=$("${C[@]}" "$@" 2>&1 </dev/null)
	local rc=$?
	[ "$rc" = "$want" ] || fail "failoverctl $* exited $rc, not $want: $OUT"
}
health_is() { [ "$(ctl status www --json | jq -r ".stacks[] | select(.name==\"$1\") | .health")" = "$2" ]; }
state_is() { [ "$(ctl status www --json | jq -r .status)" = "$1" ]; }

# ---- usage errors and help (no daemon needed) ----
expect 2
expect 2 bogus
expect 2 pin www
expect 2 pause
expect 2 pause www --all
expect 2 switch
expect 2 switch www --bogus
expect 2 history --limit x
expect 2 group
expect 2 group frob www
expect 2 failover-status
for v in status switch pause resume pin unpin rearm history failover-status verify group; do
	expect 0 "$v" --help
	grep -q "^usage: failoverctl" <<<"$OUT" || fail "$v --help: $OUT"
done
expect 0 --help

fo_start
fo_wait 5 fo_dig_is "$W" CNAME app1.example.net. || fail "never published app1"
fo_wait 5 health_is app2 up || fail "app2 never up"
fo_wait 5 health_is app1 up || fail "app1 never up"

# ---- status ----
expect 0 status
grep -Eq '^www +www\.failover\.test\. +app1 +serving$' <<<"$OUT" || fail "status table: $OUT"
expect 0 status --wide
grep -Eq '^www +www\.failover\.test\. +app1 +serving +- +-' <<<"$OUT" || fail "status --wide: $OUT"
grep -Eq '^  app2 +backup +up +offline +since' <<<"$OUT" || fail "status stack line: $OUT"
expect 0 status --json
[ "$(jq -r '.groups[] | select(.name=="www") | .active' <<<"$OUT")" = app1 ] || fail "json active: $OUT"
[ "$(jq -r '.groups[] | select(.name=="old") | .status' <<<"$OUT")" = reserved ] || fail "json reserved"
expect 1 status nope

# ---- failover-status ----
expect 0 failover-status app1; [ "$OUT" = online ] || fail "app1: $OUT"
expect 0 failover-status app2; [ "$OUT" = offline ] || fail "app2: $OUT"
expect 0 failover-status app3; [ "$OUT" = none ] || fail "app3: $OUT"
expect 1 failover-status app9

# ---- verify: in sync, then a record changed by hand ----
expect 0 verify
grep -q "in sync: CNAME app1.example.net." <<<"$OUT" || fail "verify: $OUT"
nsu() { nsupdate -k "$NAMED_KEYFILE" <<EOF
server 127.0.0.1 $NAMED_PORT
zone $NAMED_ZONE
$1
send
EOF
}
nsu "update delete $W CNAME
update add $W 60 CNAME evil.example.net." || fail "nsupdate"
expect 1 verify www
grep -q "DRIFT" <<<"$OUT" && grep -q "evil.example.net" <<<"$OUT" || fail "verify drift: $OUT"
nsu "update delete $W CNAME
update add $W 60 CNAME app1.example.net." || fail "nsupdate back"
expect 0 verify www

# ---- refusals ----
expect 1 switch nope --yes
expect 1 switch www --to app9 --yes
expect 1 switch www --to app1 --yes
grep -q already_active <<<"$OUT" || grep -qi "already" <<<"$OUT" || fail "already active: $OUT"
expect 1 switch www			# no terminal, no --yes
grep -q -- "--yes" <<<"$OUT" || fail "no tty: $OUT"
# On a terminal without --yes: the plan (hooks with argv, the DNS change
# and its TTL), then a question; "n" changes nothing.
if command -v script >/dev/null; then
	OUT=$(printf 'n\n' | timeout 10 script -qec "$FAILOVERCTL -c $FO/failoverd.conf switch www" /dev/null 2>&1)
	[ $? = 1 ] || fail "tty switch answered n: $OUT"
	for l in "switch www from app1 to app2" "3. promote on app2: $FO/hooks/rec promote app2" \
	    "5. dns: $W CNAME app1.example.net. -> 127.0.0.2 ::2 ttl 60s" "target app2 is up since" \
	    "Proceed? \[y/N\]" "not confirmed"; do
		grep -q "$l" <<<"$OUT" || fail "tty plan lacks '$l': $OUT"
	done
	expect 0 status www --json
	jq -e '.flags.switch_requested | not' <<<"$OUT" >/dev/null || fail "n still requested"
fi
expect 1 rearm www			# nothing to rearm while serving
expect 1 pin www app3			# not one of the group's stacks
expect 0 pin www app1
expect 1 switch www --yes
grep -qi pinned <<<"$OUT" || fail "pinned: $OUT"
expect 0 unpin www

# ---- pause: an outage does not switch; resume: it does ----
expect 0 pause www
fo_wait 3 fo_log_has 'event=paused' || fail "pause not applied"
expect 0 status www
grep -q paused <<<"$OUT" || fail "status flags: $OUT"
fo_webhead_stop app1
fo_wait 5 health_is app1 down || fail "app1 not down"
fo_wait 3 fo_log_has 'event=gate_held.*reason=paused' || fail "no gate_held paused"
sleep 0.5
fo_dig_is "$W" CNAME app1.example.net. || fail "switched while paused"
expect 0 history www --json
jq -e '[.events[] | select(.event=="gate_held" and .data.reason=="paused")] | length >= 1' <<<"$OUT" >/dev/null ||
	fail "history: no gate_held paused"
expect 0 resume www
fo_wait 10 fo_dig_is "$W" A 127.0.0.2 || fail "no switch after resume"
fo_wait 5 state_is wait_rearm || fail "not wait_rearm: $(ctl status www)"
# From here on app2 answers 200 whatever its role (our hooks do not toggle
# maintenance), so that it stays up when it is active.
fo_maint app2 off
expect 0 failover-status app2; [ "$OUT" = online ] || fail "app2 after: $OUT"
expect 0 failover-status app1; [ "$OUT" = offline ] || fail "app1 after: $OUT"

# ---- switch back: app1 is down -> refused; --force goes ----
expect 1 switch www --yes
grep -q "target_not_up\|not up" <<<"$OUT" || fail "not up: $OUT"
[ "$(wc -l <<<"$OUT")" = 1 ] || fail "refusal not one line: $OUT"
expect 0 switch www --yes --force
grep -q "forced" <<<"$OUT" || fail "force: $OUT"
fo_dig_is "$W" CNAME app1.example.net. || fail "forced switch did not flip"

# ---- a followed switch with phase durations ----
fo_webhead app1 "$WH_PORT_app1"
fo_wait 5 health_is app1 up || fail "app1 not back"
expect 0 rearm www
fo_wait 5 state_is serving || fail "rearm not applied"
fo_wait 5 health_is app2 up || fail "app2 not up"
echo 0.3 >"$FO/hooks/slow.promote"
expect 0 switch www --yes
echo "$OUT"
for p in maintenance_on replication_off promote maintenance_off dns; do
	grep -Eq "^  $p +app[12] +ok +[0-9]+ ms" <<<"$OUT" || fail "phase $p: $OUT"
done
pd=$(sed -nE 's/^  promote +app2 +ok +([0-9]+) ms.*/\1/p' <<<"$OUT")
[ "${pd:-0}" -ge 300 ] || fail "promote duration $pd"
grep -q "completed in" <<<"$OUT" || fail "not completed: $OUT"
grep -q "request [0-9]" <<<"$OUT" && fail "two ids (a request's and the switch's): $OUT"
fo_dig_is "$W" A 127.0.0.2 || fail "followed switch did not flip"

# ---- a switch already running; then a failed one ----
expect 0 rearm www
fo_wait 5 state_is serving || fail "rearm 2"
echo 1 >"$FO/hooks/slow.promote"
fo_wait 5 health_is app1 up || fail "app1 not up"
expect 0 switch www --yes --no-wait
fo_wait 5 state_is switching || fail "not switching"
expect 1 switch www --yes --to app2 --force
grep -q "switch_running\|switch_pending\|running" <<<"$OUT" || fail "running: $OUT"
fo_wait 10 state_is wait_rearm || fail "switch did not end: $(ctl status www; ctl history www --limit 12)"
rm -f "$FO/hooks/slow.promote"
expect 0 rearm www
fo_wait 5 state_is serving || fail "rearm 3"
fo_wait 5 health_is app2 up || fail "app2 not up"
touch "$FO/hooks/fail.promote"
expect 1 switch www --yes
grep -q "failed in phase promote" <<<"$OUT" || fail "failed switch: $OUT"
grep -Eq "^  promote +app2 +failed +[0-9]+ ms  exit 3, policy abort" <<<"$OUT" || fail "failed phase line: $OUT"
state_is failed || fail "not failed"
rm -f "$FO/hooks/fail.promote"
expect 0 status www
grep -q "failed" <<<"$OUT" || fail "status after failure: $OUT"
expect 0 resume www			# clears a failed state, paused or not
grep -q "failed state cleared" <<<"$OUT" || fail "resume: $OUT"
fo_wait 5 state_is serving || fail "resume after failure"

# ---- history ----
expect 0 history www --limit 3
[ "$(wc -l <<<"$OUT")" = 3 ] || fail "history --limit 3: $OUT"
expect 0 history --json
jq -e '.events | map(.seq) | . == (sort)' <<<"$OUT" >/dev/null || fail "not oldest first"
jq -e '[.events[] | select(.event=="switch_finished")] | length == 4' <<<"$OUT" >/dev/null ||
	fail "switch_finished count: $(jq -c '[.events[].event]' <<<"$OUT")"
expect 0 history --verify

# ---- group delete ----
expect 1 group delete www
grep -q "points at" <<<"$OUT" || fail "delete www: $OUT"
expect 1 group delete nope
O=old.$NAMED_ZONE
nsu "update add $O 60 CNAME app1.example.net.
update add _failoverd.$O 60 TXT \"failoverd controller=test-ctl group=old\"" || fail "nsupdate old"
fo_dig_is "$O" CNAME app1.example.net. || fail "old not set up"
expect 0 group delete old
fo_dig_is "$O" CNAME "" || fail "old still published"
[ -z "$(fo_dig "_failoverd.$O" TXT)" ] || fail "old TXT left"
"$TOOLS/storetool" -r "$FO/state" dump | grep -q 'old.*tombstone\|tombstone.*old' ||
	fail "no tombstone: $("$TOOLS/storetool" -r "$FO/state" dump | grep -i addr)"

# ---- flags written while the daemon is stopped take effect at start ----
fo_wait 5 health_is app2 up || fail "app2 not up"
fo_stop || fail "failoverd exit $?"
expect 0 pause www
expect 0 switch www --yes --no-wait	# app2 was up at the last run
expect 0 status www --json
jq -e '.flags.paused and .flags.switch_requested' <<<"$OUT" >/dev/null || fail "flags: $OUT"
fo_start
fo_wait 10 fo_dig_is "$W" A 127.0.0.2 || fail "pending switch not run at start"
fo_wait 5 state_is wait_rearm || fail "not wait_rearm after start"
expect 0 status www --json
jq -e '.state.paused and (.flags.switch_requested | not)' <<<"$OUT" >/dev/null ||
	fail "after start: $(jq -c '.flags, .state.paused' <<<"$OUT")"
fo_stop || fail "failoverd exit $?"

# ---- a tampered history is named by --verify ----
expect 0 history --verify
n=$(ctl history --json | jq '[.events[] | select(.data.reason=="manual")][0].seq')
mdb_dump -s history "$FO/state" >"$FO/hist.dump" || fail "mdb_dump"
# Change the recorded reason of that event in place (same length), in the
# hex dump: "reason":"manual" -> "reason":"manuaL".
sed -i 's/22726561736f6e223a226d616e75616c/22726561736f6e223a226d616e75614c/' "$FO/hist.dump"
mdb_load -s history -f "$FO/hist.dump" "$FO/state" 2>/dev/null || fail "mdb_load"
expect 1 history --verify
grep -q "event $n " <<<"$OUT" || fail "verify did not name event $n: $OUT"
echo ok
