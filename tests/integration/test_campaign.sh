#!/bin/bash
# test: alone (a seeded fault campaign with timed phases)
# The randomized campaign (issue 10, "Proof"): real named with a TSIG key,
# three real web heads, the recording hook (campaigncheck hook), real
# LMDB, and failoverd under a seeded mix of faults:
#
#   kill9      kill -9 of the daemon at a random moment, then a restart
#   kill9hook  kill -9 while a hook runs (the hook is left behind)
#   hup        SIGHUP after a random edit of the configuration: a stack
#              renamed, a group's primary and backup swapped, a group
#              (www3..www5) added or removed, the DNS server switched
#              between named and a proxy that loses answers
#   stopped    with the daemon stopped: operator commands (switch,
#              rearm, pause, resume) and edits, then a start
#   second     a second failoverd on the same state_dir for a while
#   wipe       state_dir removed while stopped, then a start (--paused or
#              not): lost state
#   clock      the daemon's wall clock stepped (FAILOVERD_TEST_CLOCK_FILE)
#   dnsloss    the daemon talks to named through fakedns -m drop1: the
#              first answer to each UPDATE is lost (applied, never heard)
#   ctl        operator commands while it runs
#   webhead    a web head killed or revived
#
# A poller (campaigncheck poll) asks named over TCP for every group's
# record every few milliseconds; at the end of each run campaigncheck
# check reads its record of changes, the hook log and the history, and
# asserts: the record never moves between stacks outside a switch; no two
# switch ids of a group overlap; no phase of an id runs twice at once; no
# hook starts before its phase_started is committed, nor after its
# phase_finished.  A violation fails the test with the seed to replay.
#
#   CAMPAIGN_SEED=N        the seed (default: random, printed)
#   CAMPAIGN_RUNS=N        fresh worlds (default 3)
#   CAMPAIGN_SECONDS=N     fault time over all runs (default 45)
#   CAMPAIGN_FAULTS=LIST   comma-separated, a name repeated weighs more;
#                          "all" for every fault (default: see below)
#   CAMPAIGN_KEEP=1        keep the records ($FO) for a look afterwards
#
# Timing is real, so a seed replays the same choices of faults, edits and
# hook durations, not the same interleaving to the microsecond.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/fo.sh"
[ -n "${CAMPAIGN_KEEP:-}" ] && FO_KEEP=1

ALL_FAULTS=kill9,kill9,kill9hook,hup,hup,hup,stopped,second,wipe,clock,dnsloss,ctl,ctl,webhead,webhead,webhead
# The default is every fault.  SAFE_FAULTS (CAMPAIGN_FAULTS=safe) leaves
# out those that needed issue 10's fixes - a second daemon on one
# state_dir, role edits and renames on reload, a group removed and added
# again, requests while stopped, a lost state_dir - to tell a regression
# of those from a new fault.
SAFE_FAULTS=kill9,kill9,kill9hook,hupsafe,hupsafe,clock,dnsloss,ctl,ctl,stoppedsafe,webhead,webhead,webhead
FAULTS=${CAMPAIGN_FAULTS:-all}
[ "$FAULTS" = all ] && FAULTS=$ALL_FAULTS
[ "$FAULTS" = safe ] && FAULTS=$SAFE_FAULTS
RUNS=${CAMPAIGN_RUNS:-3}
SECONDS_ALL=${CAMPAIGN_SECONDS:-45}
SEED=${CAMPAIGN_SEED:-$(( ($$ * 7919 + $(date +%s)) % 1000000 ))}
CK=$TOOLS/campaigncheck
IFS=, read -r -a FAULT_LIST <<<"$FAULTS"
echo "seed=$SEED runs=$RUNS seconds=$SECONDS_ALL faults=$FAULTS"
echo "replay: CAMPAIGN_SEED=$SEED CAMPAIGN_RUNS=$RUNS CAMPAIGN_SECONDS=$SECONDS_ALL CAMPAIGN_FAULTS=$FAULTS tests/run.sh test_campaign"

D1= D2= POLL= PROXY=
_camp_cleanup() {
	local p
	for p in $D1 $D2 $POLL $PROXY; do
		kill -9 "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	return 0
}
named_trap_add _camp_cleanup

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
rsleep() { sleep "$(printf '%d.%03d' $(( $1 / 1000 )) $(( $1 % 1000 )))"; }	# ms
alive() { [ -n "$1" ] && [ -d "/proc/$1" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }
note() { echo "$("$CK" now) $*" >>"$R/events.log"; }

# The world's fixed parts: three web heads, each its own record value,
# alive for the whole campaign (they stop by themselves after 300 s by
# default, which a long campaign outlived).
WH_LIFETIME=$(( SECONDS_ALL + 600 ))
fo_webhead app1; fo_webhead app2; fo_webhead app3
WH_VALUE=([1]=app1.example.net [2]="127.0.0.2 ::2" [3]=127.0.0.3)
WH_POLL=([1]=CNAME:app1.example.net. [2]=A:127.0.0.2 [3]=A:127.0.0.3)

# The configuration's moving parts.
declare -A GP GB		# group -> primary / backup stack index
SN=()				# stack index -> current section name

conf() {
	local i g H
	{
		cat <<CONF
[controller]
state_dir = $R/state
listen = off
name = campaign-ctl

[dns]
server = 127.0.0.1:$DNS_PORT
zone = $NAMED_ZONE
key_file = $NAMED_KEYFILE
timeout = 300ms
confirm = 127.0.0.1:$NAMED_PORT
verify_interval = 1s
CONF
		for i in 1 2 3; do
			H="$CK hook $R/hooks.log $R/state $FO/wh-app$i 0-250 $SEED"
			cat <<CONF

[stack ${SN[$i]}]
web_head = ${WH_VALUE[$i]}
health_url = http://127.0.0.1:$(eval echo "\$WH_PORT_app$i")/health
standby_expect_status = 200-399,503
interval = 200ms
fastinter = 100ms
downinter = 300ms
timeout = 150ms
rise = 2
fall = 2
hook_timeout = 5s
maintenance_on = $H
replication_off = $H
promote = $H
maintenance_off = $H
CONF
		done
		for g in $(printf '%s\n' "${!GP[@]}" | sort); do
			cat <<CONF

[group $g]
address = $g
primary = ${SN[${GP[$g]}]}
backup = ${SN[${GB[$g]}]}
ttl = 30s
suspect_ttl = 5s
hold_down = 1s
CONF
		done
	} >"$R/failoverd.conf"
	for i in 1 2 3; do echo "stack ${SN[$i]} ${WH_POLL[$i]}" >>"$R/map"; done
	"$FAILOVERD" -t -c "$R/failoverd.conf" >/dev/null 2>&1 ||
	    fail "run $run: the campaign wrote a configuration -t refuses: $("$FAILOVERD" -t -c "$R/failoverd.conf" 2>&1)"
}

# A random edit.  SAFE: only those main is not known to mishandle (an
# extra group is added under a name never used before in the run).
EXTRA=(www3 www4 www5)
declare -A USED
edit() {	# safe|all
	local k g i j cand=()
	k=$((RANDOM % 4))
	[ "$1" = safe ] && [ $k -lt 2 ] && k=$((2 + RANDOM % 2))
	case $k in
	0)	i=$((1 + RANDOM % 3))
		SN[$i]=app$i-r$((RANDOM % 1000))
		note "edit rename stack $i to ${SN[$i]}" ;;
	1)	g=${EXTRA[0]}; cand=($(groups_now))
		g=${cand[$((RANDOM % ${#cand[@]}))]}
		i=${GP[$g]}; GP[$g]=${GB[$g]}; GB[$g]=$i
		note "edit swap $g primary=${SN[${GP[$g]}]} backup=${SN[${GB[$g]}]}" ;;
	2)	for g in "${EXTRA[@]}"; do
			[ -n "${GP[$g]:-}" ] && continue
			[ "$1" = safe ] && [ -n "${USED[$g]:-}" ] && continue
			cand+=("$g")
		done
		if [ ${#cand[@]} -gt 0 ] && [ $((RANDOM % 2)) = 0 ] || ! extra_present; then
			if [ ${#cand[@]} = 0 ]; then note "edit none"; return 0; fi
			g=${cand[$((RANDOM % ${#cand[@]}))]}
			i=$((1 + RANDOM % 3)); j=$((1 + (i + RANDOM % 2) % 3))
			GP[$g]=$i; GB[$g]=$j; USED[$g]=1
			note "edit add $g primary=${SN[$i]} backup=${SN[$j]}"
		else
			cand=()
			for g in "${EXTRA[@]}"; do [ -n "${GP[$g]:-}" ] && cand+=("$g"); done
			g=${cand[$((RANDOM % ${#cand[@]}))]}
			unset "GP[$g]" "GB[$g]"; note "edit remove $g"
		fi ;;
	3)	if [ "$DNS_PORT" = "$NAMED_PORT" ]; then
			DNS_PORT=$PROXY_PORT; note "edit dns via the lossy proxy"
		else
			DNS_PORT=$NAMED_PORT; note "edit dns straight to named"
		fi ;;
	esac
	conf
}
extra_present() {
	local g
	for g in "${EXTRA[@]}"; do [ -n "${GP[$g]:-}" ] && return 0; done
	return 1
}
groups_now() { printf '%s\n' "${!GP[@]}" | sort; }

start_daemon() {	# [args]
	D1_LINE=$(( $(cat "$R/failoverd.log" 2>/dev/null | wc -l) + 1 ))
	"$FAILOVERD" -c "$R/failoverd.conf" "$@" >>"$R/failoverd.log" 2>&1 &
	D1=$!
	note "start pid=$D1 $*"
}

# The daemon is only ever stopped by the campaign: one that ended by
# itself (a crash, a sanitizer's report, a refusal to start) fails the run.
reap_if_dead() {
	local rc
	[ -n "$D1" ] && ! alive "$D1" || return 0
	wait "$D1"; rc=$?
	note "daemon pid=$D1 ended by itself rc=$rc"
	EXITS+=("pid=$D1 rc=$rc: $(sed -n "$D1_LINE,\$p" "$R/failoverd.log" | grep -E 'level=(error|crit)|Sanitizer|runtime error' | tail -1)")
	D1=
}

kill_daemon() {
	reap_if_dead
	[ -n "$D1" ] || return 0
	kill -9 "$D1" 2>/dev/null; wait "$D1" 2>/dev/null
	note "kill9 pid=$D1"
	D1=
}

ctl_random() {
	local g verb out cand
	cand=($(groups_now))
	g=${cand[$((RANDOM % ${#cand[@]}))]}
	case $((RANDOM % 5)) in
	0) verb="switch $g --yes --no-wait" ;;
	1) verb="switch $g --yes --no-wait --force" ;;
	2) verb="rearm $g" ;;
	3) verb="pause $g" ;;
	4) verb="resume $g" ;;
	esac
	out=$(timeout 10 "$FAILOVERCTL" -c "$R/failoverd.conf" $verb 2>&1 </dev/null)
	note "ctl $verb rc=$? ${out%%$'\n'*}"
}

webhead_random() {
	local i=$((1 + $((RANDOM % 3))))
	if [ -n "${WH_PID[app$i]:-}" ]; then
		fo_webhead_stop app$i; note "webhead app$i killed"
	else
		fo_webhead app$i "$(eval echo "\$WH_PORT_app$i")"; note "webhead app$i revived"
	fi
}

# Revive every web head and rearm: the next faults find something to do.
heal() {
	local i
	for i in 1 2 3; do
		[ -n "${WH_PID[app$i]:-}" ] || fo_webhead app$i "$(eval echo "\$WH_PORT_app$i")"
	done
}

fault() {	# name
	local ms n
	case $1 in
	kill9)
		rsleep "$((RANDOM % 400))"; kill_daemon; start_daemon ;;
	kill9hook)
		# Until a hook is running (its start not yet ended), at most 3 s.
		for ((ms = 0; ms < 3000; ms += 20)); do
			[ "$(grep -c '^start' "$R/hooks.log" 2>/dev/null)" -gt \
			    "$(grep -c '^end' "$R/hooks.log" 2>/dev/null)" ] && break
			sleep 0.02
		done
		rsleep "$((RANDOM % 100))"; kill_daemon; start_daemon ;;
	hup|hupsafe)
		if [ "$1" = hup ]; then edit all; else edit safe; fi
		alive "$D1" && kill -HUP "$D1" && note "sighup" ;;
	stopped|stoppedsafe)
		kill_daemon
		n=$((RANDOM % 3))
		for ms in $(seq 0 $n); do
			if [ "$1" = stopped ]; then
				ctl_random
			else	# no switch request while stopped (item 4)
				case $((RANDOM % 3)) in
				0) ctl_one "rearm www" ;; 1) ctl_one "pause www2" ;; 2) ctl_one "resume www2" ;;
				esac
			fi
		done
		[ $((RANDOM % 2)) = 0 ] && { if [ "$1" = stopped ]; then edit all; else edit safe; fi; }
		start_daemon ;;
	second)
		# Once the first is up: a second one started before the first
		# took the state_dir would rightly win it.
		for ((ms = 0; ms < 5000; ms += 20)); do
			sed -n "$D1_LINE,\$p" "$R/failoverd.log" | grep -q 'event=ready' && break
			sleep 0.02
		done
		"$FAILOVERD" -c "$R/failoverd.conf" >>"$R/failoverd2.log" 2>&1 &
		D2=$!
		note "second pid=$D2"
		# While both may run, give them something to switch.
		rsleep $((RANDOM % 500)); webhead_random
		rsleep $((300 + RANDOM % 1500))
		if alive "$D2"; then kill -9 "$D2"; note "second killed"; else note "second exited"; fi
		wait "$D2" 2>/dev/null; D2= ;;
	clock)
		ms=$(( ( $((RANDOM % 5)) - 2 ) * 1800000 ))
		echo "$ms" >"$FAILOVERD_TEST_CLOCK_FILE"; note "clock step=$ms" ;;
	dnsloss)
		if [ -n "$PROXY_PORT" ] && [ "$DNS_PORT" = "$NAMED_PORT" ]; then
			DNS_PORT=$PROXY_PORT; conf
			alive "$D1" && kill -HUP "$D1"; note "dns via the lossy proxy"
		fi ;;
	wipe)	# The state lost (a disk replaced, a restore gone wrong): the
		# published record must still be the truth.
		kill_daemon
		# What the history said stays part of the record to judge.
		"$TOOLS/storetool" -r "$R/state" dump >>"$R/history.lost" 2>&1
		echo "event seq=0 ts_ms=0 group=- event=state_lost payload={} hash=00" >>"$R/history.lost"
		rm -rf "$R/state"; note "state_dir removed"
		if [ $((RANDOM % 2)) = 0 ]; then
			start_daemon --paused
		else
			start_daemon
		fi ;;
	ctl)	ctl_random ;;
	webhead) webhead_random ;;
	*)	fail "unknown fault $1" ;;
	esac
	reap_if_dead
	[ -n "$D1" ] || start_daemon
}

ctl_one() {
	local out
	out=$(timeout 10 "$FAILOVERCTL" -c "$R/failoverd.conf" $1 2>&1 </dev/null)
	note "ctl $1 rc=$? ${out%%$'\n'*}"
}

win() {	# file: its lines from 4 s before $vt to 0.5 s after
	awk -v a=$((vt - 4000000)) -v b=$((vt + 500000)) '
		{ t = $1; if ($2 ~ /^t=/) t = substr($2, 3) }
		t >= a && t <= b' "$1" | sed 's/^/  /'
}

total_faults=0 total_switches=0 bad_runs=0 total_hooks=0
declare -A FCOUNT
per_run_ms=$(( SECONDS_ALL * 1000 / RUNS ))
for run in $(seq 1 "$RUNS"); do
	R=$FO/run$run
	mkdir -p "$R"
	: >"$R/hooks.log"; : >"$R/map"; : >"$R/poll.log"; : >"$R/events.log"; : >"$R/history.lost"
	export FAILOVERD_TEST_CLOCK_FILE=$R/clock
	echo 0 >"$FAILOVERD_TEST_CLOCK_FILE"
	heal
	fo_maint app1 off; fo_maint app2 on; fo_maint app3 on
	named_start "$R/named" || fail "run $run: named_start"
	PROXY_PORT=
	"$TOOLS/fakedns" -k "$NAMED_KEYFILE" -p "$R/proxy.port" -m drop1 -u "$NAMED_PORT" >"$R/proxy.log" 2>&1 &
	PROXY=$!
	for ((i = 0; i < 100; i++)); do [ -s "$R/proxy.port" ] && break; sleep 0.02; done
	PROXY_PORT=$(cat "$R/proxy.port" 2>/dev/null)
	[ -n "$PROXY_PORT" ] || fail "run $run: fakedns did not start"
	# The run's choices come from the seed alone (named_start above
	# draws ports from RANDOM too).
	RANDOM=$(( SEED + run * 7777 ))
	DNS_PORT=$NAMED_PORT
	case ",$FAULTS," in *,dnsloss,*) [ $((RANDOM % 2)) = 0 ] && DNS_PORT=$PROXY_PORT ;; esac
	SN=([1]=app1 [2]=app2 [3]=app3)
	GP=([www]=1 [www2]=3); GB=([www]=2 [www2]=1)
	USED=() EXITS=()
	for g in www www2 "${EXTRA[@]}"; do echo "group $g $g.$NAMED_ZONE" >>"$R/map"; done
	conf
	"$CK" poll -p "$NAMED_PORT" -i 5 -T $(( per_run_ms / 1000 + 120 )) -o "$R/poll.log" \
	    $(for g in www www2 "${EXTRA[@]}"; do echo "$g.$NAMED_ZONE"; done) >/dev/null 2>&1 &
	POLL=$!
	start_daemon
	fo_wait 10 grep -q 'event=ready' "$R/failoverd.log" || fail "run $run: never ready: $(tail -5 "$R/failoverd.log")"
	end=$(( $(now_ms) + per_run_ms ))
	nf=0
	while [ "$(now_ms)" -lt "$end" ]; do
		f=${FAULT_LIST[$((RANDOM % ${#FAULT_LIST[@]}))]}
		note "fault $f"
		fault "$f"
		nf=$((nf + 1)); FCOUNT[$f]=$(( ${FCOUNT[$f]:-0} + 1 ))
		# Let the daemon act on it.
		rsleep $(( 100 + $((RANDOM % 700)) ))
		# Now and then: everything back, so that switches keep coming.
		if [ $((RANDOM % 4)) = 0 ]; then
			heal
			for g in $(groups_now); do ctl_one "rearm $g"; done
		fi
	done
	# The end: stop it all, let left-behind hooks finish (bounded: their
	# sleep is at most 250 ms, hook_timeout 5 s), then judge.
	[ -n "$D2" ] && { kill -9 "$D2" 2>/dev/null; wait "$D2" 2>/dev/null; D2=; }
	reap_if_dead
	if [ -n "$D1" ]; then
		kill -TERM "$D1"
		for ((i = 0; i < 200; i++)); do alive "$D1" || break; sleep 0.05; done
		alive "$D1" && { kill -9 "$D1"; EXITS+=("pid=$D1 did not stop within 10 s of SIGTERM"); }
		wait "$D1"; rc=$?
		[ $rc = 0 ] || [ $rc = 137 ] || EXITS+=("pid=$D1 SIGTERM: exit $rc: $(sed -n "$D1_LINE,\$p" "$R/failoverd.log" | grep -E 'level=(error|crit)|Sanitizer|runtime error' | tail -1)")
	fi
	D1=
	for ((i = 0; i < 120; i++)); do
		[ "$(grep -c '^start' "$R/hooks.log")" -le "$(grep -c '^end' "$R/hooks.log")" ] && break
		sleep 0.05
	done
	sleep 0.1
	kill "$POLL" 2>/dev/null; wait "$POLL" 2>/dev/null; POLL=
	kill "$PROXY" 2>/dev/null; wait "$PROXY" 2>/dev/null; PROXY=
	{ cat "$R/history.lost"; "$TOOLS/storetool" -r "$R/state" dump 2>&1; } >"$R/history"
	"$CK" check -m "$R/map" -p "$R/poll.log" -k "$R/hooks.log" -H "$R/history" >"$R/check.out" 2>&1
	rc=$?
	sw=$(grep -c 'event=switch_started' "$R/history")
	hk=$(grep -c '^start' "$R/hooks.log")
	total_faults=$((total_faults + nf)); total_switches=$((total_switches + sw)); total_hooks=$((total_hooks + hk))
	echo "run $run: faults=$nf switches=$sw hooks=$hk record_changes=$(wc -l <"$R/poll.log") $(tail -1 "$R/check.out")"
	for e in "${EXITS[@]}"; do echo "violation=daemon_exit detail=\"$e\"" >>"$R/check.out"; rc=1; done
	if [ $rc != 0 ]; then
		bad_runs=$((bad_runs + 1))
		echo "run $run: FAILED (seed=$SEED)"
		grep '^violation=' "$R/check.out" | head -10 | sed 's/^/  /'
		# What happened in the 4 s before the first violation of each
		# invariant.
		for v in $(grep '^violation=' "$R/check.out" | cut -d' ' -f1 | sort -u); do
			vt=$(grep -m1 "^$v " "$R/check.out" | sed -n 's/.*t=\([0-9]*\).*/\1/p')
			[ -n "$vt" ] || vt=$(tail -1 "$R/events.log" | cut -d' ' -f1)
			echo "  === $v at t=$vt"
			echo "  --- faults before it (monotonic us)"; win "$R/events.log"
			echo "  --- record changes"; win "$R/poll.log"
			echo "  --- hooks"; win "$R/hooks.log"
		done
	fi
	named_stop
done
f_summary=$(for k in $(printf '%s\n' "${!FCOUNT[@]}" | sort); do printf '%s=%s ' "$k" "${FCOUNT[$k]}"; done)
echo "summary: seed=$SEED runs=$RUNS faults=$total_faults ($f_summary) switches=$total_switches hooks=$total_hooks failed_runs=$bad_runs"
[ $bad_runs = 0 ] || { echo "FAIL: invariants violated; replay with CAMPAIGN_SEED=$SEED"; exit 1; }
echo ok
