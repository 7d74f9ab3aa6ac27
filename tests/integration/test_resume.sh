#!/bin/bash
# Crash safety: failoverd is killed with SIGKILL inside each phase in turn.
# After a restart the switch completes with the same id, the interrupted
# phase runs again with FAILOVER_ATTEMPT 2, and no finished phase runs again.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/fo.sh"

fo_world
for phase in maintenance_on replication_off promote maintenance_off dns; do
	echo "== kill -9 inside $phase"
	: >"$FO/hooks.log"
	: >"$FO/failoverd.log"
	if [ $phase = dns ]; then
		# The DNS phase: the server is down while failoverd dies.
		:
	else
		echo 3 >"$FO/hooks/slow.$phase"
	fi
	[ $phase = dns ] && echo 0.3 >"$FO/hooks/slow.maintenance_off"
	fo_webhead_stop app1
	if [ $phase = dns ]; then
		fo_wait 10 fo_log_has 'phase=maintenance_off stack=app2 attempt=1$' || fail "no maintenance_off"
		named_stop
		fo_wait 10 fo_log_has 'event=phase_started .*phase=dns' || fail "dns phase never started"
		sleep 0.3
	else
		fo_wait 10 grep -q "^$phase " "$FO/hooks.log" || fail "$phase never started"
	fi
	fo_kill9
	rm -f "$FO/hooks/slow."*
	[ $phase = dns ] && { named_restart || fail "named restart"; }
	fo_start
	fo_wait 10 fo_dig_is "$W" A 127.0.0.2 || fail "no flip after restart ($phase)"
	fo_wait 5 fo_log_has 'event=switch_finished' || fail "switch not finished ($phase)"
	ids=$(awk '{print $5}' "$FO/hooks.log" | sort -u | wc -l)
	[ "$ids" = 1 ] || fail "switch id changed across the restart ($phase)"
	for p in maintenance_on replication_off promote maintenance_off; do
		n=$(grep -c "^$p " "$FO/hooks.log")
		if [ $p = $phase ]; then
			[ "$n" = 2 ] || fail "$p ran $n times, want 2 (interrupted)"
			grep -q "^$p .*attempt=2 " "$FO/hooks.log" || fail "$p attempt 2 missing"
		else
			[ "$n" = 1 ] || fail "$p ran $n times, want 1 (interrupted $phase)"
		fi
	done
	fo_log_has 'event=switch_resumed|event=phase_started' || fail "no resume record"
	# The hook the killed daemon left running was stopped before the
	# phase ran again: never two attempts at once.
	if [ $phase != dns ]; then
		fo_log_has 'event=orphan_hook .*processes=[1-9]' || fail "orphan hook of $phase not stopped"
	fi

	# Back to app1 for the next round: rearm, then a manual switch back
	# is not available yet from here: reset the world instead.
	fo_stop || fail "stop"
	fo_reset_state
	fo_webhead app1 "$WH_PORT_app1"
	fo_maint_reset
	fo_start
	fo_wait 10 fo_dig_is "$W" CNAME app1.example.net. || fail "reset to app1"
	fo_wait 5 fo_log_has 'event=health_change stack=app2 from=unknown to=up' || fail "app2 never up"
done

# kill -9 inside a hook, then the state_dir is lost: the new daemon knows
# no switch, yet the hook left running is still this state's, and is
# stopped before a new switch runs its first hook (two maintenance_on of
# two switches at once otherwise).
echo "== kill -9 inside maintenance_on, then state_dir removed"
: >"$FO/hooks.log"
: >"$FO/failoverd.log"
touch "$FO/hooks/hang.maintenance_on"
fo_webhead_stop app1
fo_wait 10 grep -q "^maintenance_on " "$FO/hooks.log" || fail "maintenance_on never started"
old=$(awk '/^maintenance_on /{print $5; exit}' "$FO/hooks.log")
fo_kill9
rm -f "$FO/hooks/hang.maintenance_on"
orphans() {	# how many processes carry the old switch's id
	grep -lsxz "FAILOVER_ID=${old#id=}" /proc/[0-9]*/environ 2>/dev/null | wc -l
}
[ "$(orphans)" -gt 0 ] || fail "the killed daemon left no hook running (test broken)"
rm -rf "$FO/state"
: >"$FO/failoverd.log"
fo_start
fo_wait 10 fo_log_has 'event=orphan_hook .*processes=[1-9]' || fail "orphan hook of a lost state not stopped"
fo_wait 15 fo_dig_is "$W" A 127.0.0.2 || fail "no flip after the restart"
[ "$(orphans)" = 0 ] || fail "the old switch's hook still runs"
new=$(awk '/^maintenance_on /{print $5}' "$FO/hooks.log" | tail -1)
[ "$new" != "$old" ] || fail "no new switch"
# The orphan ended before the new switch's first hook began.
ol=$(grep -n 'event=orphan_hook' "$FO/failoverd.log" | head -1 | cut -d: -f1)
hl=$(grep -n 'event=hook_start .*phase=maintenance_on' "$FO/failoverd.log" | head -1 | cut -d: -f1)
[ -n "$hl" ] && [ "$ol" -lt "$hl" ] || fail "a new hook ran before the orphan was stopped"
grep -q '^FAILOVER_STATE_DIR=/' "$FO/env.maintenance_on" || fail "hooks do not get FAILOVER_STATE_DIR"
fo_stop || fail "stop"
echo ok
