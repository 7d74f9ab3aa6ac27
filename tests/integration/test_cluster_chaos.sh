#!/bin/bash
# test: long (over 40 s: started first)
# test_cluster_chaos.sh - the cluster's chaos run (issue 14): three
# failoverd members on a real three-member etcd, one named with TSIG, the
# web heads app1 and app2, and a seeded mix of faults while app1 and app2
# go down in turn and are rearmed:
#
#   member_kill   SIGKILL of a failoverd member (the leader half the time),
#                 started again 0.3-3 s later (its hook, if one ran, is
#                 left behind, as on a host that died)
#   member_stop   SIGSTOP of a member (the leader half the time) for
#                 0.3-5 s (often beyond lease_ttl), then SIGCONT
#   etcd_kill     SIGKILL of an etcd member, started again 1-4 s later
#                 on its data dir
#   etcd_stop     SIGSTOP of an etcd member for 0.3-4 s, then SIGCONT
#
# (two etcd members may be down at once: no quorum for a while).  The
# outages: the web head of the stack the record points at is killed; once
# the record has moved (or after CHAOS_OUTAGE_S without a move) it comes
# back in maintenance and the group is rearmed on whichever member leads.
#
# Every hook is campaigncheck's recording hook (with the member and
# FAILOVER_EPOCH); campaigncheck poll watches the record and its
# ownership TXT over TCP every 5 ms.  At the end every fault is undone,
# the members stop (SIGTERM), and campaigncheck check judges the hook
# log, the poll log, every member's history and named's journal
# (named-journalprint: every UPDATE named accepted, in order):
#
#   silent_move, switch_overlap, phase_twice, unjournaled_hook,
#   finished_rerun   as in test_campaign.sh
#   member_overlap   two members ran hooks of one switch at once
#   stale_epoch_hook a hook started under an epoch lower than one the
#                    ownership TXT had already shown
#   epoch_order      named accepted an UPDATE under a lower epoch after
#                    one under a higher epoch
#
# It prints the counts (faults, switches, hooks, violations) and fails on
# any violation, printing the seed to replay it.
#
#   CHAOS_SEED=N        the seed (default: random, printed)
#   CHAOS_SECONDS=N     time under faults (default 30; about 45 s in all)
#   CHAOS_FAULT_MS=N    mean time between two faults (default 700)
#   CHAOS_HOOK_MS=A-B   each hook sleeps A..B ms (default 0-400; keep B
#                       below lease_ttl: a hook of a SIGKILLed leader runs
#                       on, and no other host can stop it)
#   CHAOS_OUTAGE_S=N    how long an outage waits for the flip (default 12)
#   CHAOS_KEEP=1        keep the directory ($FO) for a look afterwards;
#   CHAOS_KEEP=DIR      copy the records (logs, hook log, poll log,
#                       journal, histories, the checker's output) to DIR
#
# Timing is real: a seed replays the same choices, not the same
# interleaving to the microsecond.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
command -v etcd >/dev/null || { echo "no etcd (make deps)"; exit 77; }
command -v named-journalprint >/dev/null || { echo "no named-journalprint"; exit 77; }
. "$TOP/tests/lib/fo.sh"
. "$TOP/tests/lib/etcd.sh"
. "$TOP/tests/lib/cluster.sh"
[ -n "${CHAOS_KEEP:-}" ] && FO_KEEP=1

SEED=${CHAOS_SEED:-$(( ($$ * 7919 + $(date +%s)) % 1000000 ))}
SECS=${CHAOS_SECONDS:-30}
FAULT_MS=${CHAOS_FAULT_MS:-700}
HOOK_MS=${CHAOS_HOOK_MS:-0-400}
OUTAGE_S=${CHAOS_OUTAGE_S:-12}
CK=$TOOLS/campaigncheck
echo "seed=$SEED seconds=$SECS fault_ms=$FAULT_MS hook_ms=$HOOK_MS lease_ttl=${CL_TTL}s"
echo "replay: CHAOS_SEED=$SEED CHAOS_SECONDS=$SECS CHAOS_FAULT_MS=$FAULT_MS CHAOS_HOOK_MS=$HOOK_MS tests/run.sh test_cluster_chaos"

POLL=
_chaos_cleanup() {
	[ -n "$POLL" ] && kill "$POLL" 2>/dev/null && wait "$POLL" 2>/dev/null
	return 0
}
named_trap_add _chaos_cleanup

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
note() { echo "$("$CK" now) $*" >>"$FO/events.log"; }

# The world: cl_world's, with campaigncheck as every hook.  The hook line
# is the same on every member (their digests must match): "-" makes the
# hook find its member's state_dir and name from its parent's -c file.
cl_world
cat >"$FO/hooks/rec" <<HOOK
#!/bin/sh
exec "$CK" hook "$FO/hooks.log" - "$FO/wh-\$FAILOVER_STACK" $HOOK_MS $SEED
HOOK
chmod 0755 "$FO/hooks/rec"
: >"$FO/hooks.log"; : >"$FO/events.log"; : >"$FO/poll.log"
FO_HOLD_DOWN=1s
for i in 1 2 3; do cl_conf "$i"; done
{
	echo "stack app1 CNAME:app1.example.net."
	echo "stack app2 A:127.0.0.2"
	echo "group www $W"
	for i in 1 2 3; do echo "member m$i $FO/state$i"; done
} >"$FO/map"
"$CK" poll -E -p "$NAMED_PORT" -i 5 -T $(( SECS + 120 )) -o "$FO/poll.log" "$W" >/dev/null 2>&1 &
POLL=$!
for i in 1 2 3; do cl_start "$i"; done
fo_wait 15 cl_leader || cl_fail "nobody leads"
fo_wait 10 fo_dig_is "$W" CNAME app1.example.net. || cl_fail "never published app1"
echo "leader m$(cl_leader) epoch $(cl_epoch "$(cl_leader)")"

# From here on the choices come from the seed alone.
RANDOM=$SEED

declare -A M_UNTIL M_FAULT E_UNTIL E_FAULT FCOUNT
nfaults=0

pick() {	# N: 1..N
	echo $(( 1 + RANDOM % $1 ))
}

member_pick() {	# a member that runs and is not stopped; the leader half the time
	local l c=() i
	l=$(cl_leader)
	if [ -n "$l" ] && [ -z "${M_FAULT[$l]:-}" ] && [ $((RANDOM % 2)) = 0 ]; then
		echo "$l"; return 0
	fi
	for i in 1 2 3; do [ -z "${M_FAULT[$i]:-}" ] && c+=("$i"); done
	[ ${#c[@]} -gt 0 ] || return 1
	echo "${c[$((RANDOM % ${#c[@]}))]}"
}

etcd_pick() {
	local c=() i
	for i in 1 2 3; do [ -z "${E_FAULT[$i]:-}" ] && c+=("$i"); done
	[ ${#c[@]} -gt 0 ] || return 1
	echo "${c[$((RANDOM % ${#c[@]}))]}"
}

fault() {
	local kind i t=$(now_ms) pid
	case $((RANDOM % 10)) in
	0|1|2) kind=member_kill ;;
	3|4|5) kind=member_stop ;;
	6|7) kind=etcd_kill ;;
	*) kind=etcd_stop ;;
	esac
	case $kind in
	member_kill)
		i=$(member_pick) || return 0
		cl_reap "$i"
		M_FAULT[$i]=kill; M_UNTIL[$i]=$(( t + 300 + RANDOM % 2700 )) ;;
	member_stop)
		i=$(member_pick) || return 0
		cl_kill "$i" STOP
		M_FAULT[$i]=stop; M_UNTIL[$i]=$(( t + 300 + RANDOM % 4700 )) ;;
	etcd_kill)
		i=$(etcd_pick) || return 0
		pid=${_etcd_pid[$i]}
		etcd_signal_member "$i" KILL; wait "$pid" 2>/dev/null
		E_FAULT[$i]=kill; E_UNTIL[$i]=$(( t + 1000 + RANDOM % 3000 )) ;;
	etcd_stop)
		i=$(etcd_pick) || return 0
		etcd_signal_member "$i" STOP
		E_FAULT[$i]=stop; E_UNTIL[$i]=$(( t + 300 + RANDOM % 3700 )) ;;
	esac
	note "fault $kind $i (leader m$(cl_leader))"
	nfaults=$((nfaults + 1)); FCOUNT[$kind]=$(( ${FCOUNT[$kind]:-0} + 1 ))
}

undo() {	# FORCE: undo every fault whose time has come (all with 1)
	local i t=$(now_ms)
	for i in 1 2 3; do
		if [ -n "${M_FAULT[$i]:-}" ] && { [ "${1:-0}" = 1 ] || [ "$t" -ge "${M_UNTIL[$i]}" ]; }; then
			if [ "${M_FAULT[$i]}" = kill ]; then cl_start "$i"; else cl_kill "$i" CONT; fi
			note "undo member_${M_FAULT[$i]} $i"
			M_FAULT[$i]=
		fi
		if [ -n "${E_FAULT[$i]:-}" ] && { [ "${1:-0}" = 1 ] || [ "$t" -ge "${E_UNTIL[$i]}" ]; }; then
			if [ "${E_FAULT[$i]}" = kill ]; then etcd_start_member "$i"; else etcd_signal_member "$i" CONT; fi
			note "undo etcd_${E_FAULT[$i]} $i"
			E_FAULT[$i]=
		fi
	done
}

# The outages: OUT is the stack whose web head is down ("" while none).
active_stack() {
	case $(fo_dig "$W" CNAME) in app1.example.net.) echo app1; return ;; esac
	case $(fo_dig "$W" A) in 127.0.0.2) echo app2; return ;; esac
	echo ""
}

OUT= OUT_T=0 NEXT_OUT=$(( $(now_ms) + 1000 )) REARM= REARM_T=0
noutages=0 nflips=0 nrearms=0
outage_step() {
	local t=$(now_ms) a l st
	if [ -n "$REARM" ]; then
		[ "$t" -ge "$REARM_T" ] || return 0
		REARM_T=$(( t + 700 ))
		l=$(cl_leader)
		[ -n "$l" ] && [ -z "${M_FAULT[$l]:-}" ] || return 0
		st=$(timeout 5 "$FAILOVERCTL" -c "$FO/m$l.conf" status www --json 2>/dev/null | jq -r '.status // empty' 2>/dev/null)
		case $st in
		wait_rearm)
			note "rearm on m$l: $(timeout 5 "$FAILOVERCTL" -c "$FO/m$l.conf" rearm www 2>&1 | head -1)" ;;
		serving|armed)
			note "rearmed (status $st on m$l)"; nrearms=$((nrearms + 1))
			REARM=; NEXT_OUT=$(( t + 500 + RANDOM % 2000 )) ;;
		esac
		return 0
	fi
	if [ -z "$OUT" ]; then
		[ "$t" -ge "$NEXT_OUT" ] || return 0
		a=$(active_stack)
		[ -n "$a" ] || return 0
		OUT=$a; OUT_T=$t
		fo_webhead_stop "$OUT"
		note "outage $OUT"; noutages=$((noutages + 1))
		return 0
	fi
	a=$(active_stack)
	if [ -n "$a" ] && [ "$a" != "$OUT" ]; then
		note "flipped to $a after $(( t - OUT_T )) ms"; nflips=$((nflips + 1))
		fo_maint "$OUT" on
		fo_webhead "$OUT" "$(eval echo "\$WH_PORT_$OUT")"
		OUT=; REARM=1; REARM_T=$(( t + 300 ))
	elif [ $(( t - OUT_T )) -ge $(( OUTAGE_S * 1000 )) ]; then
		l=$(cl_leader)
		st=
		[ -n "$l" ] && [ -z "${M_FAULT[$l]:-}" ] &&
		    st=$(timeout 5 "$FAILOVERCTL" -c "$FO/m$l.conf" status www --json 2>/dev/null | jq -c '[.status, .phase, .held]' 2>/dev/null)
		note "no flip within ${OUTAGE_S}s: $OUT back (leader m$l says $st)"
		fo_webhead "$OUT" "$(eval echo "\$WH_PORT_$OUT")"
		OUT=; NEXT_OUT=$(( t + 500 + RANDOM % 2000 ))
	fi
}

end=$(( $(now_ms) + SECS * 1000 ))
next_fault=$(( $(now_ms) + RANDOM % (2 * FAULT_MS) ))
while [ "$(now_ms)" -lt "$end" ]; do
	undo 0
	if [ "$(now_ms)" -ge "$next_fault" ]; then
		fault
		next_fault=$(( $(now_ms) + RANDOM % (2 * FAULT_MS + 1) ))
	fi
	outage_step
	sleep 0.05
done

# The end: every fault undone, a leader, no hook running, then stop.
undo 1
fo_wait 20 cl_leader || note "no leader 20 s after the faults ended"
l=$(cl_leader)
final=
[ -n "$l" ] && final=$(timeout 5 "$FAILOVERCTL" -c "$FO/m$l.conf" status www --json 2>/dev/null | jq -c '[.status, .phase, .held]' 2>/dev/null)
for ((k = 0; k < 300; k++)); do
	[ "$(grep -c '^start' "$FO/hooks.log")" -le "$(grep -c '^end' "$FO/hooks.log")" ] && break
	sleep 0.05
done
# A switch under way gets its last step.
sleep 1
rc_stop=0
for i in "${!CL_PID[@]}"; do cl_kill "$i" TERM; done
for i in "${!CL_PID[@]}"; do
	for ((k = 0; k < 300; k++)); do
		st=$(awk '{print $3}' "/proc/${CL_PID[$i]}/stat" 2>/dev/null)
		{ [ -z "$st" ] || [ "$st" = Z ]; } && break
		sleep 0.05
	done
	[ $k = 300 ] && { echo "m$i did not stop within 15 s of SIGTERM"; kill -9 "${CL_PID[$i]}"; rc_stop=1; }
	wait "${CL_PID[$i]}"; rc=$?
	[ $rc = 0 ] || { echo "m$i exit status $rc"; rc_stop=1; }
	unset "CL_PID[$i]"
done
for ((k = 0; k < 120; k++)); do
	[ "$(grep -c '^start' "$FO/hooks.log")" -le "$(grep -c '^end' "$FO/hooks.log")" ] && break
	sleep 0.05
done
sleep 0.1
kill "$POLL" 2>/dev/null; wait "$POLL" 2>/dev/null; POLL=

for i in 1 2 3; do "$TOOLS/storetool" -r "$FO/state$i" dump 2>&1; done >"$FO/history"
named-journalprint "$NAMED_DIR/zone.db.jnl" >"$FO/journal" 2>"$FO/journal.err" ||
    cl_fail "named-journalprint: $(cat "$FO/journal.err")"
"$CK" check -m "$FO/map" -p "$FO/poll.log" -k "$FO/hooks.log" -H "$FO/history" -J "$FO/journal" >"$FO/check.out" 2>&1
rc=$?
nsw=$(grep 'event=switch_started' "$FO/history" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p' | sort -u | wc -l)
nhk=$(grep -c '^start' "$FO/hooks.log")
nviol=$(grep -c '^violation=' "$FO/check.out")
epochs=$(grep -h 'event=leader_elected' "$FO"/m?.log "$FO"/m?.log.old 2>/dev/null | sed -n 's/.* epoch=\([0-9]*\).*/\1/p' | sort -un | wc -l)
fsum=$(for k in $(printf '%s\n' "${!FCOUNT[@]}" | sort); do printf '%s=%s ' "$k" "${FCOUNT[$k]}"; done)
if [ -n "${CHAOS_KEEP:-}" ] && [ "$CHAOS_KEEP" != 1 ]; then
	mkdir -p "$CHAOS_KEEP" && cp -r "$FO"/*.log "$FO"/*.log.old "$FO/poll.log" "$FO/journal" "$FO/history" \
	    "$FO/check.out" "$FO/map" "$FO"/m?.conf "$CHAOS_KEEP/" 2>/dev/null
	echo "records copied to $CHAOS_KEEP"
fi
grep -v '^violation=' "$FO/check.out" | sed 's/^/  /'
nfailed=$(grep 'event=switch_failed' "$FO/history" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p' | sort -u | wc -l)
echo "final: leader m$l says www is $final"
echo "summary: seed=$SEED faults=$nfaults (${fsum% }) outages=$noutages flips=$nflips rearms=$nrearms switches=$nsw switches_failed=$nfailed hooks=$nhk hooks_terminated=$(grep -c '^end .*status=term' "$FO/hooks.log") epochs=$epochs record_changes=$(grep -vc '_failoverd' "$FO/poll.log") violations=$nviol"
if [ $rc != 0 ]; then
	grep '^violation=' "$FO/check.out" | head -20 | sed 's/^/  /'
	echo "--- faults and outages"; tail -40 "$FO/events.log" | sed 's/^/  /'
	echo "--- record and TXT changes"; tail -20 "$FO/poll.log" | sed 's/^/  /'
	echo "FAIL: invariants violated (rc=$rc); replay with CHAOS_SEED=$SEED"
	FO_KEEP=1
	exit 1
fi
[ $rc_stop = 0 ] || cl_fail "a member did not stop cleanly"
[ "$nhk" -gt 0 ] || cl_fail "no hook ran: the run proved nothing"
echo ok
