#!/bin/bash
# A precheck run now at an operator's request (issue 17): failoverctl
# precheck and the plan of failoverctl switch ask failoverd, which owns
# the hooks, to run the switch target's precheck hook and show its
# verdict, its last lines and the replication lag it reports
# (replication_lag_ms=N); the hook gets the gate's environment, is bounded
# by hook_timeout, changes nothing, never runs beside a switch of the
# group (refused while one runs, cancelled when one starts), never delays
# the daemon's stop, and with the daemon stopped failoverctl says so at
# once.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/fo.sh"
command -v jq >/dev/null || { echo "jq missing"; exit 77; }

fo_init
fo_webhead app1
fo_webhead app2
fo_maint app2 on
fo_hooks
cat >"$FO/hooks/pre" <<HOOK
#!/bin/sh
env | sort >"$FO/pre.env"
echo "run \$FAILOVER_STACK" >>"$FO/pre.log"
[ -f "$FO/pre.slow" ] && sleep "\$(cat "$FO/pre.slow")"
echo "checking the replica of \$FAILOVER_STACK"
printf 'bell\a here\n'
printf 'caf\351 latin-1\n'
echo "replay lag ok replication_lag_ms=\$(cat "$FO/pre.lag" 2>/dev/null || echo 0)"
exit \$(cat "$FO/pre.rc" 2>/dev/null || echo 0)
HOOK
chmod 0755 "$FO/hooks/pre"
echo 1234 >"$FO/pre.lag"
export FAILOVERD_TEST_KILL_GRACE_MS=200
FO_HOOK_TIMEOUT=2s FO_STACK_EXTRA="precheck = $FO/hooks/pre" fo_conf
"$FAILOVERD" -t -c "$FO/failoverd.conf" >/dev/null ||
	fail "config: $("$FAILOVERD" -t -c "$FO/failoverd.conf" 2>&1)"
W=www.$NAMED_ZONE
ctl() { "$FAILOVERCTL" -c "$FO/failoverd.conf" "$@" 2>&1 </dev/null; }
state_is() { [ "$(ctl status www --json | jq -r .status)" = "$1" ]; }
npre() { [ -f "$FO/pre.log" ] && wc -l <"$FO/pre.log" || echo 0; }

# ---- the daemon stopped: said at once, no request left behind ----
fo_start
fo_wait 5 fo_dig_is "$W" CNAME app1.example.net. || fail "never published app1"
fo_wait 5 fo_log_has 'event=health_change stack=app2 from=unknown to=up' || fail "app2 never up"
fo_stop || fail "stop"
t0=$(date +%s%N)
out=$(ctl precheck www) && fail "precheck with no daemon passed: $out"
grep -q 'precheck on app2: not run: failoverd is not running' <<<"$out" || fail "no daemon: $out"
[ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 2000 ] || fail "waited with no daemon"
[ "$(npre)" = 0 ] || fail "a hook ran with no daemon"

fo_start
fo_wait 5 fo_log_has 'event=health_change stack=app2 from=unknown to=up' || fail "app2 never up after restart"
fo_wait 5 state_is serving || fail "not serving"

# ---- it passes: the verdict, the last lines, the lag; nothing changes ----
before=$(ctl status www --json | jq -c '{status, active, standby, flags, nswitch, held}')
hist=$(ctl history www --json | jq '.events | length')
out=$(ctl precheck www) || fail "precheck: $out"
echo "$out"
grep -q '^  precheck on app2: ok (exit 0, [0-9]* ms)$' <<<"$out" || fail "verdict: $out"
grep -q '^    > checking the replica of app2$' <<<"$out" || fail "output lines: $out"
grep -q '^    > bell? here$' <<<"$out" || fail "a control character reached the terminal: $out"
grep -q '^  replication lag on app2: 1234 ms$' <<<"$out" || fail "lag: $out"
grep -q '^    > caf? latin-1$' <<<"$out" || fail "a line that is not UTF-8 lost: $out"
out=$(ctl precheck www --to nosuch) && fail "an unknown stack passed: $out"
grep -q 'unknown stack nosuch' <<<"$out" || fail "unknown stack: $out"
[ "$(npre)" = 1 ] || fail "the hook ran $(npre) times"
for v in FAILOVER_GROUP=www FAILOVER_PHASE=precheck FAILOVER_STACK=app2 \
    FAILOVER_FROM=app1 FAILOVER_TO=app2 FAILOVER_DRY_RUN=0; do
	grep -qx "$v" "$FO/pre.env" || fail "hook env lacks $v: $(cat "$FO/pre.env")"
done
grep -q '^FAILOVER_ID=' "$FO/pre.env" && fail "a precheck with a switch id"
[ "$(ctl status www --json | jq -c '{status, active, standby, flags, nswitch, held}')" = "$before" ] ||
	fail "the state changed: $before -> $(ctl status www --json | jq -c '{status, active, standby, flags, nswitch, held}')"
[ "$(ctl history www --json | jq '.events | length')" = "$hist" ] || fail "the history changed"
fo_log_has 'event=precheck_requested group=www stack=app2 request=[0-9a-f]{32} actor=uid:root' || fail "no precheck_requested line"
fo_log_has 'event=hook_output group=www phase=precheck stack=app2 request=[0-9a-f]{32} stream=stdout line="replay lag ok replication_lag_ms=1234"' ||
	fail "hook output without request="
fo_log_has 'event=precheck_answered group=www stack=app2 request=[0-9a-f]{32} verdict=ok' || fail "no precheck_answered"
ctl precheck www --json | jq -e '.verdict == "ok" and .exit == 0 and .replication_lag_ms == 1234 and .stack == "app2"' >/dev/null ||
	fail "--json: $(ctl precheck www --json)"

# ---- it fails, it times out ----
echo 1 >"$FO/pre.rc"
out=$(ctl precheck www) && fail "a failing precheck passed: $out"
grep -q '^  precheck on app2: FAILED (exit 1, [0-9]* ms): an automatic failover would be held' <<<"$out" || fail "failed verdict: $out"
rm -f "$FO/pre.rc"
echo 30 >"$FO/pre.slow"
t0=$(date +%s%N)
out=$(ctl precheck www) && fail "a hanging precheck passed: $out"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
grep -q '^  precheck on app2: TIMED OUT' <<<"$out" || fail "timeout verdict: $out"
[ "$ms" -lt 5000 ] || fail "not bounded by hook_timeout (2 s): $ms ms"
echo "ok: a hanging precheck answered in $ms ms (hook_timeout 2 s)"
rm -f "$FO/pre.slow"

# ---- the plan shows it, before it asks ----
if command -v script >/dev/null; then
	out=$( (sleep 4; echo n) | timeout 20 script -qec "$FAILOVERCTL -c $FO/failoverd.conf switch www" /dev/null 2>&1)
	out=$(tr '\r' '\n' <<<"$out" | sed 's/\x1b\[K//g')
	echo "$out"
	grep -q 'then www waits for rearm: no automatic failover until failoverctl rearm www' <<<"$out" || fail "plan: no rearm line: $out"
	grep -q '^  precheck: failoverd is running it\.\.\.$' <<<"$out" || fail "plan: no word while it waits: $out"
	grep -q '^  precheck on app2: ok (exit 0' <<<"$out" || fail "plan: no precheck verdict: $out"
	grep -q '^  replication lag on app2: 1234 ms' <<<"$out" || fail "plan: no lag: $out"
	grep -q 'not confirmed; nothing changed' <<<"$out" || fail "plan: not refused: $out"
	state_is serving || fail "the plan changed the state"
else
	echo "script missing: the plan on a terminal not checked"
fi

# ---- never beside a switch: refused while one runs ----
n=$(npre)
echo 1.5 >"$FO/hooks/slow.promote"
ctl switch www --yes >"$FO/switch1.out" &
sw=$!
fo_wait 10 fo_log_has 'event=hook_start group=www phase=promote' || fail "promote never started"
out=$(ctl precheck www --to app2) && fail "a precheck during a switch passed: $out"
grep -q '^  precheck on app2: not run (a switch of the group is running)$' <<<"$out" || fail "during a switch: $out"
[ "$(npre)" = "$n" ] || fail "the precheck ran during a switch"
wait "$sw" || fail "switch: $(cat "$FO/switch1.out")"
rm -f "$FO/hooks/slow.promote"
fo_wait 10 state_is wait_rearm || fail "not wait_rearm: $(ctl status www)"
out=$(ctl rearm www) || fail "rearm: $out"
fo_wait 5 state_is serving || fail "not serving after rearm"
# app1 answered 503 while it was still active (maintenance_on): down, and
# checked at downinter; now the standby, where 503 is expected, it is up
# again at its next check and rise, up to downinter + fastinter later.
# The switch back below needs it up.
fo_wait 5 fo_log_has 'event=health_change stack=app1 from=down to=up' ||
    fail "app1 not up again as the standby"

# ---- ... and cancelled when one starts ----
echo 30 >"$FO/pre.slow"
ctl precheck www >"$FO/pre.out" &
pc=$!
fo_wait 10 eval '[ "$(npre)" -gt '"$(npre)"' ]' || fail "the slow precheck never started"
out=$(ctl switch www --yes) || fail "switch back: $out"
wait "$pc" && fail "a cancelled precheck passed: $(cat "$FO/pre.out")"
grep -q '^  precheck on app1: cancelled (a switch of the group started)$' "$FO/pre.out" || fail "cancelled: $(cat "$FO/pre.out")"
fo_log_has 'event=precheck_cancelled group=www stack=app1 request=[0-9a-f]{32} reason=switch_started' || fail "no precheck_cancelled"

# ---- stopping does not wait for it ----
ctl precheck www --to app2 >"$FO/pre2.out" &
pc=$!
fo_wait 10 eval '[ "$(npre)" -gt '"$(npre)"' ]' || fail "the slow precheck never started"
t0=$(date +%s%N)
fo_stop || fail "stop"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
wait "$pc" && fail "a precheck cancelled by the stop passed: $(cat "$FO/pre2.out")"
grep -q '^  precheck on app2: cancelled (failoverd is stopping)$' "$FO/pre2.out" || fail "cancelled by the stop: $(cat "$FO/pre2.out")"
[ "$ms" -lt 1500 ] || fail "the stop waited for the precheck: $ms ms (hook_timeout 2 s)"
echo "ok: stopped in $ms ms with a precheck running"
rm -f "$FO/pre.slow"
echo ok
