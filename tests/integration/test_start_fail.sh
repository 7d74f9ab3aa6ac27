#!/bin/bash
# Every way out of a partial start: failoverd exits 1 with a one-line
# reason, no crash (under SAN: no use after free, no leak), and leaves the
# world as it found it: no record published or changed, no hook run, the
# state in LMDB byte for byte the same.  Real faults where the host gives
# them (the API's port taken, an address not on the host, a corrupt
# store), the test switch FAILOVERD_TEST_START_FAIL for each step after
# (daemon.c, start_fault()), and a start that fails after it has resumed
# an interrupted switch: the phase it would run again does not run, and
# the next good start runs it as attempt 2, not 3.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/fo.sh"

RUN_PID=
run_cleanup() {
	[ -n "$RUN_PID" ] && kill -9 "$RUN_PID" 2>/dev/null && wait "$RUN_PID" 2>/dev/null
}
named_trap_add run_cleanup

# Start failoverd in the foreground, bounded to 10 s: exit status in $rc
# (timeout if it did not stop), its output in $FO/run.log.
run_bounded() {	# args...
	local i st
	: >"$FO/run.log"
	"$FAILOVERD" -c "$FO/failoverd.conf" "$@" >"$FO/run.log" 2>&1 &
	RUN_PID=$!
	for ((i = 0; i < 200; i++)); do
		st=$(awk '{print $3}' "/proc/$RUN_PID/stat" 2>/dev/null)
		{ [ -z "$st" ] || [ "$st" = Z ]; } && break
		sleep 0.05
	done
	if [ $i = 200 ]; then
		kill -9 "$RUN_PID" 2>/dev/null
		wait "$RUN_PID" 2>/dev/null
		RUN_PID=
		rc=timeout
		return
	fi
	wait "$RUN_PID"
	rc=$?
	RUN_PID=
}

# What must not change across a failed start.
snapshot() {
	{
		echo "dns: $(fo_dig "$W" CNAME) $(fo_dig "$W" A)"
		echo "hooks: $(cat "$FO/hooks.log" 2>/dev/null | md5sum)"
		[ -f "$FO/state/data.mdb" ] && echo "state: $(md5sum <"$FO/state/data.mdb")"
	} 2>&1
}

# One failed start: exit 1, one error naming why ($1) as the last line,
# nothing else changed.
expect_fail() {	# what-regex [args...]
	local want=$1 before after; shift
	before=$(snapshot)
	run_bounded "$@"
	after=$(snapshot)
	# A first start creates the (empty) store before it can fail later.
	if [[ $before != *state:* ]] || [ -n "${FO_STATE_MAY_CHANGE:-}" ]; then
		before=$(grep -v '^state:' <<<"$before")
		after=$(grep -v '^state:' <<<"$after")
	fi
	[ "$rc" = 1 ] || fail "$want: exit $rc, want 1: $(cat "$FO/run.log")"
	# One error, the reason, said last; nothing else above info.
	[ "$(grep -c 'level=error' "$FO/run.log")" = 1 ] || fail "$want: not one error: $(cat "$FO/run.log")"
	tail -1 "$FO/run.log" | grep -Eq "level=error event=.*$want" || fail "$want: $(cat "$FO/run.log")"
	grep -Eq 'level=(warn|crit)' "$FO/run.log" && fail "$want: warnings: $(cat "$FO/run.log")"
	[ "$before" = "$after" ] || fail "$want: the world changed: before: $before after: $after"
}

W=
fo_init
W=www.$NAMED_ZONE
fo_webhead app1
fo_webhead app2
fo_webhead witness
fo_maint app2 on
fo_hooks
FO_CTL_EXTRA="witness = http://127.0.0.1:$WH_PORT_witness/health"

echo "== the API's port is taken (by a web head), before any state exists"
FO_LISTEN=127.0.0.1:$WH_PORT_app1 fo_conf
"$FAILOVERD" -t -c "$FO/failoverd.conf" >/dev/null || fail "-t refuses the configuration"
expect_fail 'start_failed what=api .*Address already in use'
[ -z "$(fo_dig "$W" CNAME)" ] || fail "published before failing"

echo "== the API's address is not on this host"
printf '%s\n' 0123456789abcdef0123456789abcdef >"$FO/token"
chmod 0600 "$FO/token"
FO_CTL_EXTRA="$FO_CTL_EXTRA
api_token_file = $FO/token" FO_LISTEN=192.0.2.1:8080 fo_conf
"$FAILOVERD" -t -c "$FO/failoverd.conf" >/dev/null || fail "-t refuses the configuration"
expect_fail 'start_failed what=api .*(Cannot assign requested address|not available)'

echo "== each step after the groups resume, on a first start (no state)"
FO_LISTEN=127.0.0.1:0 fo_conf
for step in probes witness probelog ready; do
	echo "-- $step"
	rm -rf "$FO/state"
	FAILOVERD_TEST_START_FAIL=$step expect_fail "start_failed what=$step "
	[ -z "$(fo_dig "$W" CNAME)" ] || fail "$step: published before failing"
done

echo "== a good start, then each step after a failover"
FO_LISTEN=127.0.0.1:0 fo_conf
fo_start
fo_wait 5 fo_dig_is "$W" CNAME app1.example.net. || fail "never published app1"
fo_wait 5 fo_log_has 'event=health_change stack=app2 from=unknown to=up' || fail "app2 never up"
fo_webhead_stop app1
fo_wait 15 fo_log_has 'event=switch_finished' || fail "no failover"
fo_wait 5 fo_dig_is "$W" A 127.0.0.2 || fail "no flip to app2"
fo_stop || fail "stop"
for step in store dns state api probes witness probelog ready; do
	echo "-- $step"
	FAILOVERD_TEST_START_FAIL=$step expect_fail "start_failed what=$step "
	# and a start with nothing wrong still serves app2, untouched
done
echo "-- ready, --dry-run"
FAILOVERD_TEST_START_FAIL=ready expect_fail "start_failed what=ready " --dry-run
# --paused writes its pause (a flag, as failoverctl pause does) before the
# groups resume; a failed start leaves that pause, which only holds back.
echo "-- ready, --paused"
FO_STATE_MAY_CHANGE=1 FAILOVERD_TEST_START_FAIL=ready expect_fail "start_failed what=ready " --paused
"$FAILOVERCTL" -c "$FO/failoverd.conf" resume www >/dev/null 2>&1 || fail "failoverctl resume"

echo "== a corrupt store"
cp "$FO/state/data.mdb" "$FO/data.mdb.good"
head -c 65536 /dev/urandom >"$FO/state/data.mdb"
expect_fail 'store_open_failed '
cp "$FO/data.mdb.good" "$FO/state/data.mdb"

echo "== a failed start after resuming an interrupted switch"
# Back to app1 from scratch, then kill -9 inside promote.
fo_reset_state
fo_webhead app1 "$WH_PORT_app1"
fo_maint_reset
fo_start
fo_wait 10 fo_dig_is "$W" CNAME app1.example.net. || fail "reset to app1"
fo_wait 5 fo_log_has 'event=health_change stack=app2 from=unknown to=up' || fail "app2 never up"
: >"$FO/hooks.log"
echo 30 >"$FO/hooks/slow.promote"
fo_webhead_stop app1
fo_wait 10 grep -q '^promote ' "$FO/hooks.log" || fail "promote never started"
fo_kill9
rm -f "$FO/hooks/slow.promote"
# The killed daemon's promote is an orphan: the next start stops it
# (before anything that can fail after the lock), then fails.
for step in api probes ready; do
	echo "-- $step"
	before=$(md5sum <"$FO/state/data.mdb")
	FAILOVERD_TEST_START_FAIL=$step run_bounded
	[ "$rc" = 1 ] || fail "$step after an interrupted switch: exit $rc: $(cat "$FO/run.log")"
	[ "$(grep -c 'level=error' "$FO/run.log")" = 1 ] || fail "$step: not one error: $(cat "$FO/run.log")"
	[ "$(md5sum <"$FO/state/data.mdb")" = "$before" ] || fail "$step: the state changed"
	n=$(grep -c '^promote ' "$FO/hooks.log")
	[ "$n" = 1 ] || fail "$step: promote ran $n times, want 1 (the failed start ran it)"
done
fo_start
fo_wait 15 fo_log_has 'event=switch_finished' || fail "the switch did not finish after the failed starts"
fo_wait 5 fo_dig_is "$W" A 127.0.0.2 || fail "no flip to app2"
grep -q '^promote .*attempt=2 ' "$FO/hooks.log" || fail "promote not run again as attempt 2"
grep -q '^promote .*attempt=3 ' "$FO/hooks.log" && fail "promote ran as attempt 3: a failed start counted"
n=$(grep -c '^promote ' "$FO/hooks.log")
[ "$n" = 2 ] || fail "promote ran $n times, want 2"
fo_stop || fail "stop"
echo ok
