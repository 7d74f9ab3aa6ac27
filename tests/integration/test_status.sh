#!/bin/bash
# failoverctl status shows trouble (issue 17): the 80-column table, a
# group whose record the server refuses shown as not_published with the
# reason, an active stack down while the group waits for rearm shown as an
# ALARM naming the gate, and a banner when no daemon runs on the state
# (with when the state was last written) instead of ageing health.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/fo.sh"
command -v jq >/dev/null || { echo "jq missing"; exit 77; }
command -v nsupdate >/dev/null || { echo "nsupdate missing"; exit 77; }

fo_world_foreign
FO_TAIL=$(fo_tail_api) fo_conf
"$FAILOVERD" -t -c "$FO/failoverd.conf" >/dev/null ||
	fail "config: $("$FAILOVERD" -t -c "$FO/failoverd.conf" 2>&1)"
ctl() { "$FAILOVERCTL" -c "$FO/failoverd.conf" "$@" 2>&1 </dev/null; }
health_is() { [ "$(ctl status www --json | jq -r ".stacks[] | select(.name==\"$1\") | .health")" = "$2" ]; }
state_is() { [ "$(ctl status www --json | jq -r .status)" = "$1" ]; }
fits80() {	# every line of $1 within 80 columns (but a long path)
	local long
	long=$(grep -v "^! (state_dir " <<<"$1" | awk 'length($0) > 80')
	[ -z "$long" ] || fail "status wider than 80 columns: $long"
}

fo_start
fo_wait 5 fo_dig_is "$W" CNAME app1.example.net. || fail "never published app1"
fo_wait 5 health_is app1 up || fail "app1 never up"
fo_wait 5 health_is app2 up || fail "app2 never up"
fo_wait 10 fo_log_has 'event=dns_unusable group=api .*reason=not_owner' || fail "api not judged not_owner"

# ---- running: no banner, 80 columns, the refused group not published ----
out=$(ctl status)
echo "$out"
fits80 "$out"
grep -q 'NOT RUNNING' <<<"$out" && fail "banner while running: $out"
grep -Eq '^www +www\.failover\.test\. +app1 +serving$' <<<"$out" || fail "www line: $out"
grep -Eq '^api +api\.failover\.test\. +app1 +not_published$' <<<"$out" || fail "api line: $out"
grep -Eq '^  ! not published: .*not_owner' <<<"$out" || fail "api reason: $out"
grep -Eq '^www +.*serving' <<<"$(ctl status --wide)" || fail "--wide: $(ctl status --wide)"
[ "$(ctl status --json | jq -r .daemon.running)" = true ] || fail "json daemon.running"

# ---- wait_rearm with its active stack down: an alarm naming the gate ----
# On a terminal, a running phase ticks with its elapsed time and the
# hook's last line of output.
if command -v script >/dev/null; then
	echo 1.2 >"$FO/hooks/slow.promote"
	echo "copying 42 of 100" >"$FO/hooks/say.promote"
	out=$(timeout 20 script -qec "$FAILOVERCTL -c $FO/failoverd.conf switch www --yes" /dev/null 2>&1) ||
		fail "switch on a tty: $out"
	rm -f "$FO/hooks/slow.promote" "$FO/hooks/say.promote"
	grep -Eq 'promote +app2 +running +[01]\.[0-9] s' <<<"$out" || fail "no progress line: $out"
	grep -Eq 'promote +app2 +running +[01]\.[0-9] s  \| copying 42 of 100' <<<"$out" ||
		fail "the progress line lacks the hook's last line: $out"
	tr '\r' '\n' <<<"$out" | sed 's/\x1b\[K//g' | awk '/ running / && length($0) > 80 { bad = 1 } END { exit bad }' ||
		fail "a progress line wider than 80 columns: $out"
	ls "$FO/state"/progress.* >/dev/null 2>&1 && fail "a progress file left after the switch: $(ls "$FO/state")"
	grep -Eq '^  promote +app2 +ok +[0-9]+ ms' <<<"$(tr '\r' '\n' <<<"$out" | sed 's/\x1b\[K//g')" ||
		fail "no phase line: $out"
else
	out=$(ctl switch www --yes) || fail "switch: $out"
fi
fo_wait 10 state_is wait_rearm || fail "not wait_rearm: $(ctl status www)"
fo_maint app2 off
fo_webhead_stop app2
fo_wait 10 health_is app2 down || fail "app2 not down"
fo_wait 5 fo_log_has 'event=gate_held group=www .*reason=wait_rearm' || fail "no gate_held wait_rearm"
out=$(ctl status www)
echo "$out"
fits80 "$out"
grep -Eq '^  ! ALARM: active stack app2 is down; no failover, held by gate wait_rearm' <<<"$out" ||
	fail "no alarm: $out"
grep -q 'last switch: .*app1->app2 manual completed' <<<"$out" || fail "last switch line: $out"

# ---- stopped: a banner, with when the state was last written ----
fo_stop || fail "stop"
out=$(ctl status)
echo "$out"
fits80 "$out"
grep -q "^! failoverd is NOT RUNNING: " <<<"$out" || fail "no banner: $out"
grep -Eq '^! State last written [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z \([0-9]+s ago\)' <<<"$out" ||
	fail "no last-written time: $out"
[ "$(ctl status --json | jq -r .daemon.running)" = false ] || fail "json daemon.running stopped"
echo ok
