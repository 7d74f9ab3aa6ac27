#!/bin/bash
# Chaos: kill -9 of the daemon at random moments of a switch, 20 times
# over.  Each run must converge to exactly one completed switch with the
# record correct, the same switch id throughout, and no phase that was
# journaled as finished ever run again.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/fo.sh"

RUNS=${CHAOS_RUNS:-20}
# Done when the journal says so: a kill right after the commit can take
# the log line with it.
switch_done() {
	fo_log_has 'event=switch_finished' ||
	    "$TOOLS/storetool" -r "$FO/state" dump 2>/dev/null |
	    grep -q '^event .*event=switch_finished'
}
fo_world
fo_stop
RANDOM=${CHAOS_SEED:-$$}
echo "seed=${CHAOS_SEED:-$$}"

for run in $(seq 1 "$RUNS"); do
	fo_reset_state
	: >"$FO/hooks.log"
	: >"$FO/failoverd.log"
	[ -n "${WH_PID[app1]:-}" ] || fo_webhead app1 "$WH_PORT_app1"
	fo_maint_reset
	# Each hook takes a little while, so that kills land inside phases too.
	for p in maintenance_on replication_off promote maintenance_off; do
		printf '0.%02d\n' $((RANDOM % 6 + 2)) >"$FO/hooks/slow.$p"
	done
	fo_start
	fo_wait 10 fo_dig_is "$W" CNAME app1.example.net. || fail "run $run: not on app1"
	fo_wait 5 fo_log_has 'event=health_change stack=app2 from=unknown to=up' || fail "run $run: app2 not up"
	fo_webhead_stop app1
	# The kills land inside the switch: a restarted daemon must first see
	# the primary down again before a switch exists at all, so killing
	# before it starts only tests patience.
	fo_wait 10 fo_log_has 'event=switch_started' || fail "run $run: no switch"
	kills=0
	# Kill at random moments until the switch is done.
	while ! switch_done; do
		# The first kill early enough to land inside most switches.
		sleep "$(printf '0.%02d' $((RANDOM % (kills == 0 ? 12 : 25))))"
		switch_done && break
		fo_kill9
		kills=$((kills + 1))
		[ $kills -gt 60 ] && fail "run $run: never converged"
		# The next kill comes at a random moment of the new life, not
		# of its start-up (slow under the sanitizers).
		ready=$(fo_log_count 'event=ready')
		fo_start
		fo_wait 10 bash -c "[ \$(grep -c 'event=ready' '$FO/failoverd.log') -gt $ready ]" ||
			fail "run $run: restart $kills not ready"
	done
	fo_wait 5 fo_dig_is "$W" A 127.0.0.2 || fail "run $run: record not on app2"
	fo_stop >/dev/null
	# The journal in the store is the truth (a log line may be lost in a
	# kill after a commit).  Exactly one switch, one id, finished once.
	"$TOOLS/storetool" -r "$FO/state" dump | grep '^event ' >"$FO/history"
	[ "$(grep -c 'event=switch_finished' "$FO/history")" = 1 ] || fail "run $run: switch_finished count"
	[ "$(grep -c 'event=switch_started' "$FO/history")" = 1 ] || fail "run $run: switch_started count"
	[ "$(awk '{print $5}' "$FO/hooks.log" | sort -u | wc -l)" = 1 ] || fail "run $run: more than one switch id"
	for p in maintenance_on replication_off promote maintenance_off; do
		fin=$(grep -c "event=phase_finished .*\"phase\":\"$p\"" "$FO/history")
		[ "$fin" = 1 ] || fail "run $run: $p finished $fin times"
		# Never started again once finished.
		awk -v p="\"phase\":\"$p\"" '
			index($0, "event=phase_finished") && index($0, p) { done = 1 }
			done && index($0, "event=phase_started") && index($0, p) { bad = 1 }
			END { exit bad }' "$FO/history" || fail "run $run: $p started after it finished"
		# Each hook run was journaled as started first.
		st=$(grep -c "event=phase_started .*\"phase\":\"$p\"" "$FO/history")
		hk=$(grep -c "^$p " "$FO/hooks.log")
		[ "$hk" -le "$st" ] || fail "run $run: $p ran $hk times, journaled $st starts"
	done
	echo "run $run: kills=$kills hooks=$(wc -l <"$FO/hooks.log")"
done
echo ok
