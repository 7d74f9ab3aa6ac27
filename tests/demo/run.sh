#!/bin/bash
# run.sh - `make demo`: failoverd's failover, end to end, on real software.
#
# The world (tests/demo/world.sh has the details), all on loopback in one
# fresh /tmp/failoverd-demo.XXXXXX:
#
#            dig / nsupdate -k (TSIG)
#   named  www.failover.demo. CNAME app1.failover.demo.  (later: app2)
#     |
#     |   stack app1 (primary)                stack app2 (standby)
#     |   nginx :P  /health 200               nginx :P  503 (maintenance flag)
#     |   PostgreSQL :P  primary  --- sync streaming --->  PostgreSQL :P  hot standby
#     |
#   writer: asks named which stack www points at, commits rows into that
#           stack's database, logs every id it saw committed.
#
# The web head's /health says whether the stack serves (what failoverd
# probes); the writer talks to the active stack's database directly, the
# active stack being whatever the address points at.  The story:
#   1. world up, the record as dig sees it, the writer commits on app1;
#   2. the primary stack app1 stops: nginx (SIGTERM) and PostgreSQL
#      (immediate shutdown, the way a crash looks to the database);
#   3. the failover: app1 seen down, precheck, maintenance_on app1 (fails:
#      the stack is dead; the policy goes on), replication_off app2, promote
#      app2, maintenance_off app2, dns (www -> app2) - each with its time;
#   4. the writer carries on on app2; the record after, as dig sees it;
#   5. the proof: every id the writer saw committed is in app2's table;
#   6. timings; every process stopped by PID; exit 0 on success.
#
# Step 3, two ways:
#   DEMO_FAILOVERD=1  failoverd does it: config/demo/failoverd.conf.in is
#                     rendered for the world (world_failoverd_conf), checked
#                     with failoverd -t, and $FAILOVERD -c FILE is started
#                     before the stop; its event= log lines are told as
#                     sentences at their own timestamps, and the timings
#                     come from them (do_failover_failoverd).
#                     This is the default.
#   DEMO_FAILOVERD=0  do_failover_stand_in: the same hooks with the same
#                     contract environment and the same flip by nsupdate -k,
#                     by hand, for comparing failoverd with a script.
#
# CLUSTER=1 (make demo CLUSTER=1, make demo-cluster): the same world under
# a three-member etcd (tests/lib/etcd.sh, on loopback) and three failoverd
# members m1..m3 with the same configuration plus a [cluster] section
# (lease_ttl DEMO_LEASE_TTL, default 2 s), each its own state_dir, API
# port and log.  Step 2 then kills the leading member (SIGKILL, as a host
# that dies) TOGETHER with the primary stack: the narration shows a
# follower taking the lead (leader_elected, a higher epoch, the ownership
# TXT claimed) and running the failover; the proof is the same.  Implies
# DEMO_FAILOVERD=1.
#
# Env: BUILD (build), FAILOVERD ($BUILD/failoverd), DEMO_FAILOVERD (1),
# WORLD_KEEP=1 keeps the directory, DEMO_ROWS (30) rows before and after,
# CLUSTER (0), DEMO_LEASE_TTL (2).
set -u
cd "$(dirname "$0")/../.." || exit 1
TOP=$PWD
BUILD=${BUILD:-build}
FAILOVERD=${FAILOVERD:-$TOP/$BUILD/failoverd}
HOOKS=$TOP/config/hooks
DEMO_FAILOVERD=${DEMO_FAILOVERD:-1}
DEMO_ROWS=${DEMO_ROWS:-30}
CLUSTER=${CLUSTER:-0}
[ "$CLUSTER" = 1 ] && DEMO_FAILOVERD=1
DEMO_LEASE_TTL=${DEMO_LEASE_TTL:-2}

. "$TOP/tests/demo/world.sh"

fail() {
	world_say "DEMO FAILED: $*"
	exit 1
}

[ "$CLUSTER" = 1 ] && { command -v etcd >/dev/null || { echo "demo: etcd not found (make deps)" >&2; exit 1; }; }
for c in named nginx dig nsupdate curl setpriv runuser; do
	command -v "$c" >/dev/null || { echo "demo: $c not found (make deps)" >&2; exit 1; }
done
[ -x "$PGBIN/postgres" ] || { echo "demo: no PostgreSQL 15 in $PGBIN (make deps)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "demo: run as root (PostgreSQL runs as postgres, nginx workers as nobody)" >&2; exit 1; }

declare -A PHASE_MS PHASE_RC
T_UP=0 T_STOP=0 T_DOWN=0 T_FLIP=0

rows_on() {		# stack: rows the writer saw committed there
	if [ -s "$IDLOG" ]; then
		awk -v s="$1" '$2 == s { n++ } END { print n + 0 }' "$IDLOG"
	else
		echo 0
	fi
}

wait_rows() {		# stack count seconds
	local i n=$(($3 * 10))
	for ((i = 0; i < n; i++)); do
		[ "$(rows_on "$1")" -ge "$2" ] && return 0
		kill -0 "$WORLD_WRITER_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# ---- the failover, by hand: STAND-IN FOR FAILOVERD ------------------------
#
# Replace with do_failover_failoverd once failoverd runs the world.  It does
# what failoverd's defaults do: probe the active stack every 500 ms (timeout
# 400 ms), down after 3 failures (fall); the standby counts as up with a 503
# (standby_expect_status 200-399,503); then the phases in order, each hook
# run without a shell and with only PATH and the FAILOVER_* variables; a
# failed maintenance_on is logged and the sequence goes on, any other failed
# phase aborts; dns is one TSIG-signed UPDATE (nsupdate -k).

SWITCH_ID=demo-$(date +%s)

run_hook() {		# phase stack "command line from the config"
	local phase=$1 stack=$2 t0 out rc words
	set -f
	# shellcheck disable=SC2206
	words=($3)		# split on blanks, no shell: as failoverd does
	set +f
	t0=$(world_ms)
	out=$(env -i PATH=/usr/bin:/bin FAILOVER_GROUP=www FAILOVER_PHASE="$phase" \
	    FAILOVER_STACK="$stack" FAILOVER_FROM=app1 FAILOVER_TO=app2 \
	    FAILOVER_ID="$SWITCH_ID" FAILOVER_ATTEMPT=1 FAILOVER_REASON=auto \
	    FAILOVER_ADDRESS="$WORLD_ADDRESS" FAILOVER_DRY_RUN=0 \
	    FAILOVER_STATUS=none timeout -k 1 30 "${words[@]}" 2>&1)
	rc=$?
	PHASE_MS[$phase]=$(($(world_ms) - t0))
	PHASE_RC[$phase]=$rc
	world_say "  phase $phase on $stack: rc=$rc, ${PHASE_MS[$phase]} ms"
	while IFS= read -r l; do
		world_say "    | $l"
	done <<<"$out"
	return $rc
}

failover_prepare_stand_in() {
	world_say "(failoverd is not plugged in yet: a stand-in runs the same hooks and the same UPDATE by hand)"
}

do_failover_stand_in() {
	local fails=0 i code t0
	world_say "stand-in: probing app1 /health every 500 ms, fall 3"
	for ((i = 0; i < 60 && fails < 3; i++)); do
		code=$(curl -s -o /dev/null -m 0.4 -w '%{http_code}' \
		    "http://127.0.0.1:${WORLD_HTTP_PORT[app1]}/health" 2>/dev/null)
		case $code in
		2??|3??) fails=0 ;;
		*)	fails=$((fails + 1))
			world_say "  app1 /health: ${code/#000/no answer} (failure $fails of 3)" ;;
		esac
		[ $fails -lt 3 ] && sleep 0.5
	done
	[ $fails -ge 3 ] || fail "app1 never looked down"
	T_DOWN=$(world_ms)
	world_say "app1 is DOWN, $((T_DOWN - T_STOP)) ms after the stop"
	code=$(world_http_status app2)
	case $code in
	2??|3??|503) world_say "app2 /health: $code, a standby able to take over: up" ;;
	*)	fail "app2 is not up either ($code): no failover" ;;
	esac
	world_say "switch $SWITCH_ID: www from app1 to app2 (auto)"
	run_hook precheck app2 "$HOOKS/database lag-ok $WORLD_DIR/app2" ||
	    fail "precheck says not safe to promote"
	run_hook maintenance_on app1 "$HOOKS/maintenance on $WORLD_DIR/app1" ||
	    world_say "  maintenance_on failed: logged, the sequence goes on (a dead stack cannot be put into maintenance)"
	run_hook replication_off app2 "$HOOKS/database replication-off $WORLD_DIR/app2" ||
	    fail "replication_off failed: switch aborted"
	run_hook promote app2 "$HOOKS/database promote $WORLD_DIR/app2" ||
	    fail "promote failed: switch aborted"
	run_hook maintenance_off app2 "$HOOKS/maintenance off $WORLD_DIR/app2" ||
	    fail "maintenance_off failed: switch aborted"
	t0=$(world_ms)
	world_flip app2 || fail "the UPDATE was refused"
	T_FLIP=$(world_ms)
	PHASE_MS[dns]=$((T_FLIP - t0))
	world_say "  phase dns: UPDATE www CNAME app2.$WORLD_ZONE (TSIG $NAMED_KEYNAME) accepted, ${PHASE_MS[dns]} ms"
	world_say "switch $SWITCH_ID finished in $((T_FLIP - T_DOWN)) ms"
}

# ---- the failover by failoverd ---------------------------------------------
#
# DEMO_FAILOVERD=1.  Event names as controller/core/engine.c and
# controller/shell/daemon.c log them: switch_started, phase_started,
# phase_finished, phase_skipped, switch_finished, switch_failed,
# health_change stack=S from=X to=Y.

FD_LOG=
FD_PID=
NARRATOR_PID=

failover_prepare_failoverd() {
	local conf=$WORLD_DIR/failoverd.conf i out
	[ -x "$FAILOVERD" ] || fail "no $FAILOVERD (make)"
	world_failoverd_conf "$conf"
	out=$(timeout 10 "$FAILOVERD" -t -c "$conf" 2>&1) ||
	    fail "failoverd -t refuses $conf: $out"
	world_say "failoverd -t: $out"
	FD_LOG=$WORLD_DIR/failoverd.log
	: >"$FD_LOG"
	"$FAILOVERD" -c "$conf" >>"$FD_LOG" 2>&1 </dev/null &
	FD_PID=$!
	WORLD_EXTRA_PIDS+=("$FD_PID")
	world_say "failoverd started (pid $FD_PID, $conf)"
	narrate_failoverd &
	NARRATOR_PID=$!
	WORLD_EXTRA_PIDS+=("$NARRATOR_PID")
	# Both stacks must be up before app1 stops (rise 2 at 500 ms).
	for ((i = 0; i < 150; i++)); do
		kill -0 "$FD_PID" 2>/dev/null || fail "failoverd exited: $(tail -3 "$FD_LOG")"
		grep -q 'event=health_change stack=app1 .*to=up' "$FD_LOG" &&
		    grep -q 'event=health_change stack=app2 .*to=up' "$FD_LOG" &&
		    return 0
		sleep 0.1
	done
	fail "failoverd did not see both stacks up within 15 s"
}

# KEY's value in a key=value log line, quotes removed; empty when absent.
fd_kv() {		# key line
	if [[ $2 =~ (^|\ )$1=(\"(([^\"\\]|\\.)*)\"|([^ ]*)) ]]; then
		echo "${BASH_REMATCH[3]}${BASH_REMATCH[5]}"
	fi
}

# The line's ts= as milliseconds since the epoch (the clock of world_ms).
fd_ts() {		# line
	local ts
	ts=$(fd_kv ts "$1")
	ts=${ts%Z}
	date -u -d "${ts/T/ }" +%s%3N 2>/dev/null || world_ms
}

# One failoverd log line told as a sentence, at the time failoverd logged
# it; nothing for the lines not worth telling.
fd_tell() {		# line
	local l=$1 ev t msg st
	ev=$(fd_kv event "$l")
	case $ev in
	health_change)
		msg="$(fd_kv stack "$l") is $(fd_kv to "$l") (was $(fd_kv from "$l"); $(fd_kv reason "$l"), HTTP status $(fd_kv http_status "$l"))" ;;
	health_suspect)
		msg="$(fd_kv stack "$l") is suspect: $(fd_kv reason "$l")" ;;
	health_cleared)
		msg="$(fd_kv stack "$l") is no longer suspect" ;;
	ttl_lowered|ttl_restored)
		msg="TTL of the address $(fd_kv from "$l") -> $(fd_kv to "$l") s (${ev#ttl_}, $(fd_kv stack "$l") suspect)" ;;
	dns_updated)
		msg="UPDATE accepted: $(fd_kv name "$l") $(fd_kv records "$l") ttl $(fd_kv ttl "$l") ($(fd_kv why "$l"), $(fd_kv elapsed_ms "$l") ms)" ;;
	record_published)
		msg="the address points at $(fd_kv stack "$l")" ;;
	gate_held)
		msg="switch held: $(fd_kv reason "$l")" ;;
	switch_started)
		msg="SWITCH $(fd_kv id "$l"): $(fd_kv from "$l") -> $(fd_kv to "$l") ($(fd_kv reason "$l"))" ;;
	phase_started)
		msg="  phase $(fd_kv phase "$l") on $(fd_kv stack "$l") (attempt $(fd_kv attempt "$l"))" ;;
	phase_finished|phase_failed)
		st=$(fd_kv result "$l")
		[ "$ev" = phase_failed ] && st="$st, policy $(fd_kv policy "$l")"
		msg="  phase $(fd_kv phase "$l") on $(fd_kv stack "$l"): $st, $(fd_kv duration_ms "$l") ms" ;;
	phase_skipped)
		msg="  phase $(fd_kv phase "$l") skipped: $(fd_kv reason "$l")" ;;
	hook_output)
		msg="    | $(fd_kv line "$l")" ;;
	hook_exited)
		[ "$(fd_kv phase "$l")" = precheck ] || return 0
		msg="precheck on the standby: $(fd_kv outcome "$l") $(fd_kv exit "$l"), $(fd_kv duration_ms "$l") ms" ;;
	switch_finished)
		msg="switch $(fd_kv id "$l") finished: $(fd_kv from "$l") -> $(fd_kv to "$l") in $(fd_kv duration_ms "$l") ms" ;;
	switch_failed)
		msg="SWITCH FAILED: $l" ;;
	status_change)
		case $(fd_kv status "$l") in
		online)	msg="$(fd_kv stack "$l") takes the traffic (online)" ;;
		*)	msg="$(fd_kv stack "$l") takes no traffic ($(fd_kv status "$l"))" ;;
		esac ;;
	confirmed)
		msg="every server answers the new record ($(fd_kv servers "$l"), $(fd_kv elapsed_ms "$l") ms)" ;;
	leader_elected)
		msg="LEADER: $(fd_kv member "$l") leads, epoch $(fd_kv epoch "$l") (lease_ttl $(fd_kv lease_ttl_s "$l") s)" ;;
	leader_lost)
		msg="$(fd_kv member "$l") is no longer the leader of epoch $(fd_kv epoch "$l"): $(fd_kv reason "$l")" ;;
	cluster_leader)
		if [ "$(fd_kv leader "$l")" = none ]; then
			msg="$(fd_kv member "$l") sees no leader: the last one's lease has expired in etcd"
		else
			msg="$(fd_kv member "$l") follows $(fd_kv leader "$l") (epoch $(fd_kv epoch "$l"))"
		fi ;;
	owner_claimed)
		msg="ownership TXT of $(fd_kv name "$l") now says epoch $(fd_kv epoch "$l"): an UPDATE of any older leader is refused by named" ;;
	config_match)
		msg="$(fd_kv member "$l") has the leader's configuration digest" ;;
	*)
		case $(fd_kv level "$l") in
		error|warn) msg="${l#ts=* }" ;;
		*) return 0 ;;
		esac ;;
	esac
	t=$(fd_ts "$l")
	WORLD_SAY_AT=$t world_say "  failoverd${FD_LABEL:+ $FD_LABEL}: $msg"
}

narrate_failoverd() {	# [LOG PID LABEL]
	local l log=${1:-$FD_LOG} pid=${2:-$FD_PID}
	FD_LABEL=${3:-}
	tail --pid="$pid" -n +1 -f "$log" 2>/dev/null |
	    while IFS= read -r l; do
		fd_tell "$l"
	done
}

# Wait for the switch (at most 30 s); take the times from failoverd's log.
do_failover_failoverd() {
	local i l p
	for ((i = 0; i < 300; i++)); do
		grep -q 'event=switch_finished' "$FD_LOG" && break
		grep -q 'event=switch_failed' "$FD_LOG" && fail "failoverd: switch failed"
		kill -0 "$FD_PID" 2>/dev/null || fail "failoverd exited"
		sleep 0.1
	done
	l=$(grep -m1 'event=switch_finished' "$FD_LOG") || fail "no switch within 30 s"
	T_FLIP=$(fd_ts "$l")
	l=$(grep -m1 'event=health_change stack=app1 .*to=down' "$FD_LOG")
	if [ -n "$l" ]; then T_DOWN=$(fd_ts "$l"); else T_DOWN=$T_STOP; fi
	while IFS= read -r l; do
		p=$(fd_kv phase "$l")
		PHASE_MS[$p]=$(fd_kv duration_ms "$l")
		case $l in *event=phase_failed*) PHASE_RC[$p]=1 ;; esac
	done < <(grep -E 'event=(phase_finished|phase_failed)' "$FD_LOG")
	l=$(grep 'event=hook_exited .*phase=precheck' "$FD_LOG" | tail -1)
	[ -n "$l" ] && PHASE_MS[precheck]=$(fd_kv duration_ms "$l")
	sleep 0.3		# let the narrator catch up
}

# ---- the failover by a cluster of failoverd members -------------------------
#
# CLUSTER=1.  Three etcd members and three failoverd members; the one that
# leads is killed with the primary stack.  CL_LOG[i], CL_PID[i]: member i.

declare -A CL_LOG CL_PID
CL_LEADER= CL_NEW= T_ELECTED=0 EPOCH_OLD= EPOCH_NEW=

cl_leads() {		# i: its last leadership line is an election
	grep -E 'event=(leader_elected|leader_lost)' "${CL_LOG[$1]}" | tail -1 |
	    grep -q 'event=leader_elected'
}

cl_leader_now() {	# the member that leads now, of those alive
	local i
	for i in "${!CL_PID[@]}"; do
		kill -0 "${CL_PID[$i]}" 2>/dev/null && cl_leads "$i" && { echo "$i"; return 0; }
	done
	return 1
}

failover_prepare_cluster() {
	local base=$WORLD_DIR/failoverd.conf i out urls u
	[ -x "$FAILOVERD" ] || fail "no $FAILOVERD (make)"
	# etcd's EXIT trap runs the world's after it: sourced here, after
	# world_init installed that one.
	. "$TOP/tests/lib/etcd.sh"
	t0=$(world_ms)
	etcd_start "$WORLD_DIR/etcd" 3 || fail "etcd did not start"
	world_say "etcd: three members on $ETCD_ENDPOINTS, healthy in $(($(world_ms) - t0)) ms"
	world_failoverd_conf "$base"
	urls=
	for u in ${ETCD_ENDPOINTS//,/ }; do urls="${urls}etcd            = $u"$'\n'; done
	for i in 1 2 3; do
		world_free_port
		mkdir -p "$WORLD_DIR/failoverd/m$i" && chmod 0700 "$WORLD_DIR/failoverd/m$i"
		{
			sed -e "s|^state_dir .*|state_dir       = $WORLD_DIR/failoverd/m$i/state|" \
			    -e "s|^listen .*|listen          = 127.0.0.1:$WORLD_PORT|" "$base"
			printf '\n[cluster]\n%smember          = m%s\nprefix          = /failoverd-demo/\nlease_ttl       = %ss\n' \
			    "$urls" "$i" "$DEMO_LEASE_TTL"
		} >"$WORLD_DIR/m$i.conf"
		out=$(timeout 10 "$FAILOVERD" -t -c "$WORLD_DIR/m$i.conf" 2>&1) ||
		    fail "failoverd -t refuses $WORLD_DIR/m$i.conf: $out"
	done
	world_say "failoverd -t: $out (each of m1, m2, m3: the demo's configuration plus [cluster], lease_ttl ${DEMO_LEASE_TTL}s)"
	for i in 1 2 3; do
		CL_LOG[$i]=$WORLD_DIR/m$i.log
		: >"${CL_LOG[$i]}"
		"$FAILOVERD" -c "$WORLD_DIR/m$i.conf" >>"${CL_LOG[$i]}" 2>&1 </dev/null &
		CL_PID[$i]=$!
		WORLD_EXTRA_PIDS+=("${CL_PID[$i]}")
		narrate_failoverd "${CL_LOG[$i]}" "${CL_PID[$i]}" "m$i" &
		WORLD_EXTRA_PIDS+=("$!")
	done
	world_say "failoverd members started: m1 (pid ${CL_PID[1]}), m2 (pid ${CL_PID[2]}), m3 (pid ${CL_PID[3]})"
	# One leads, and every member sees both stacks up (a follower keeps
	# its health warm: it must know the standby is up when it takes over).
	for ((i = 0; i < 300; i++)); do
		CL_LEADER=$(cl_leader_now) && all_up && break
		sleep 0.1
	done
	[ -n "$CL_LEADER" ] || fail "no member leads within 30 s"
	all_up || fail "the members did not see both stacks up within 30 s"
	EPOCH_OLD=$(grep 'event=leader_elected' "${CL_LOG[$CL_LEADER]}" | tail -1 | sed -n 's/.* epoch=\([0-9]*\).*/\1/p')
	for ((i = 0; i < 100; i++)); do
		dig +short -p "$NAMED_PORT" @127.0.0.1 "_failoverd.$WORLD_ADDRESS" TXT | grep -q "epoch=$EPOCH_OLD" && break
		sleep 0.1
	done
	world_say "m$CL_LEADER leads (epoch $EPOCH_OLD); the ownership TXT as dig sees it: $(dig +short -p "$NAMED_PORT" @127.0.0.1 "_failoverd.$WORLD_ADDRESS" TXT)"
}

all_up() {
	local i
	for i in 1 2 3; do
		grep -q 'event=health_change stack=app1 .*to=up' "${CL_LOG[$i]}" &&
		    grep -q 'event=health_change stack=app2 .*to=up' "${CL_LOG[$i]}" || return 1
	done
}

cl_kill_leader() {
	kill -9 "${CL_PID[$CL_LEADER]}" 2>/dev/null
	world_wait_gone "${CL_PID[$CL_LEADER]}" 5
	world_say "the leader m$CL_LEADER is SIGKILLed (its host died with the primary stack)"
}

# The survivors: one takes the lead, then runs the switch (at most 40 s).
do_failover_cluster() {
	local i l p log
	unset "CL_PID[$CL_LEADER]"
	for ((i = 0; i < 400; i++)); do
		[ -z "$CL_NEW" ] && CL_NEW=$(cl_leader_now)
		[ -n "$CL_NEW" ] && grep -q 'event=switch_finished' "${CL_LOG[$CL_NEW]}" && break
		[ -n "$CL_NEW" ] && grep -q 'event=switch_failed' "${CL_LOG[$CL_NEW]}" && fail "failoverd m$CL_NEW: switch failed"
		sleep 0.1
	done
	[ -n "$CL_NEW" ] || fail "no member took over within 40 s"
	log=${CL_LOG[$CL_NEW]}
	l=$(grep 'event=leader_elected' "$log" | tail -1)
	T_ELECTED=$(fd_ts "$l")
	EPOCH_NEW=$(fd_kv epoch "$l")
	[ "$EPOCH_NEW" -gt "$EPOCH_OLD" ] || fail "the new epoch $EPOCH_NEW is not above $EPOCH_OLD"
	l=$(grep -m1 'event=switch_finished' "$log") || fail "m$CL_NEW: no switch within 40 s"
	T_FLIP=$(fd_ts "$l")
	l=$(grep -m1 'event=health_change stack=app1 .*to=down' "$log")
	if [ -n "$l" ]; then T_DOWN=$(fd_ts "$l"); else T_DOWN=$T_STOP; fi
	while IFS= read -r l; do
		p=$(fd_kv phase "$l")
		PHASE_MS[$p]=$(fd_kv duration_ms "$l")
		case $l in *event=phase_failed*) PHASE_RC[$p]=1 ;; esac
	done < <(grep -E 'event=(phase_finished|phase_failed)' "$log")
	l=$(grep 'event=hook_exited .*phase=precheck' "$log" | tail -1)
	[ -n "$l" ] && PHASE_MS[precheck]=$(fd_kv duration_ms "$l")
	for i in "${!CL_LOG[@]}"; do
		[ "$i" = "$CL_NEW" ] && continue
		grep -q 'event=hook_start\|event=dns_updated' "${CL_LOG[$i]}" && [ "$i" != "$CL_LEADER" ] &&
		    fail "m$i acted without leading"
	done
	world_say "the ownership TXT after, as dig sees it: $(dig +short -p "$NAMED_PORT" @127.0.0.1 "_failoverd.$WORLD_ADDRESS" TXT)"
	sleep 0.3		# let the narrators catch up
}

# ---- the story ----------------------------------------------------------

world_init
IDLOG=$WORLD_DIR/ids.log
world_say "== failoverd demo: two stacks, one address, a failover on real software =="
world_say "world: named, two nginx web heads, PostgreSQL primary + hot standby in $WORLD_DIR"
t0=$(world_ms)
world_up
T_UP=$(($(world_ms) - t0))
world_say "world up in $T_UP ms:"
world_say "  named      127.0.0.1:$NAMED_PORT, zone $WORLD_ZONE, TSIG key $NAMED_KEYNAME (hmac-sha256)"
world_say "  stack app1 nginx 127.0.0.1:${WORLD_HTTP_PORT[app1]} (/health $(world_http_status app1)), PostgreSQL :${WORLD_PG_PORT[app1]} primary"
world_say "  stack app2 nginx 127.0.0.1:${WORLD_HTTP_PORT[app2]} (/health $(world_http_status app2): maintenance), PostgreSQL :${WORLD_PG_PORT[app2]} hot standby, $(world_psql app1 "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'app2'") streaming from app1"
world_say "record before, as dig sees it:"
while IFS= read -r l; do world_say "  $l"; done < <(world_dig)
[ "$(world_active)" = app1 ] || fail "www does not point at app1"

if [ "$CLUSTER" = 1 ]; then
	failover_prepare_cluster
elif [ "$DEMO_FAILOVERD" = 1 ]; then
	failover_prepare_failoverd
else
	failover_prepare_stand_in
fi

export WORLD_T0
"$TOP/tests/demo/writer" "$WORLD_DIR" "$NAMED_PORT" "$WORLD_ADDRESS" "$IDLOG" &
WORLD_WRITER_PID=$!
wait_rows app1 "$DEMO_ROWS" 20 || fail "the writer does not commit on app1"
world_say "the writer has committed $(rows_on app1) rows on app1"

if [ "$CLUSTER" = 1 ]; then
	world_say "STOPPING THE PRIMARY STACK app1 AND THE LEADER m$CL_LEADER: nginx (SIGTERM), PostgreSQL (immediate shutdown, as a crash), failoverd m$CL_LEADER (SIGKILL)"
else
	world_say "STOPPING THE PRIMARY STACK app1: nginx (SIGTERM), PostgreSQL (immediate shutdown, as a crash)"
fi
T_STOP=$(world_ms)
[ "$CLUSTER" = 1 ] && cl_kill_leader
world_nginx_stop app1
world_pg_stop app1 immediate
world_say "app1 stopped ($(($(world_ms) - T_STOP)) ms)"

if [ "$CLUSTER" = 1 ]; then
	do_failover_cluster
elif [ "$DEMO_FAILOVERD" = 1 ]; then
	do_failover_failoverd
else
	do_failover_stand_in
fi

world_say "record after, as dig sees it:"
while IFS= read -r l; do world_say "  $l"; done < <(world_dig)
[ "$(world_active)" = app2 ] || fail "www does not point at app2"
world_say "app2 /health: $(world_http_status app2)"

wait_rows app2 "$DEMO_ROWS" 20 || fail "the writer does not commit on app2"
world_kill "$WORLD_WRITER_PID" TERM 10
WORLD_WRITER_PID=

# ---- the proof ------------------------------------------------------------
world_say "proof: every row the writer saw committed must be on the new primary app2"
seen=$WORLD_DIR/seen.txt db=$WORLD_DIR/app2-rows.txt
awk '{ print $1 }' "$IDLOG" | sort >"$seen"
world_psql app2 "SELECT id FROM demo_rows" | sort >"$db" ||
    fail "cannot read demo_rows on app2"
n_seen=$(wc -l <"$seen")
n_db=$(wc -l <"$db")
n_dup=$(uniq -d "$seen" | wc -l)
n_missing=$(comm -23 "$seen" "$db" | wc -l)
n_unseen=$(comm -13 "$seen" "$db" | wc -l)
n1=$(rows_on app1) n2=$(rows_on app2)
world_say "  writer saw $n_seen commits: $n1 on app1, then $n2 on app2"
world_say "  app2 holds $n_db rows; missing: $n_missing; seen twice: $n_dup; committed but never acknowledged to the writer: $n_unseen"
if [ "$n_missing" != 0 ] || [ "$n_dup" != 0 ]; then
	comm -23 "$seen" "$db" | head -5 | sed 's/^/  missing id /'
	fail "rows the writer saw committed are missing on app2"
fi
world_say "  PROVEN: no acknowledged commit was lost"
last1=$(awk '$2 == "app1" { t = $3 } END { print t }' "$IDLOG")
first2=$(awk '$2 == "app2" { print $3; exit }' "$IDLOG")

# ---- summary --------------------------------------------------------------
if [ -n "$FD_PID" ]; then
	# SIGTERM: failoverd stops after journaling the current step.
	kill -TERM "$FD_PID" 2>/dev/null
	FD_RC=timeout
	world_wait_gone "$FD_PID" 10 && FD_RC=$WORLD_WAIT_RC
	world_kill "$FD_PID" KILL 5
	world_say "failoverd stopped by SIGTERM: exit status $FD_RC"
	[ "$FD_RC" = 0 ] || world_say "WARNING: failoverd exited $FD_RC (log: $FD_LOG)"
fi
if [ "$CLUSTER" = 1 ]; then
	for i in "${!CL_PID[@]}"; do kill -TERM "${CL_PID[$i]}" 2>/dev/null; done
	for i in "${!CL_PID[@]}"; do
		FD_RC=timeout
		world_wait_gone "${CL_PID[$i]}" 10 && FD_RC=$WORLD_WAIT_RC
		world_kill "${CL_PID[$i]}" KILL 5
		world_say "failoverd m$i stopped by SIGTERM: exit status $FD_RC"
		[ "$FD_RC" = 0 ] || world_say "WARNING: failoverd m$i exited $FD_RC (log: ${CL_LOG[$i]})"
	done
	etcd_stop_all
	world_say "etcd stopped"
fi
td=$(world_ms)
world_down
T_DOWNW=$(($(world_ms) - td))
mode="stand-in for failoverd"
[ "$DEMO_FAILOVERD" = 1 ] && mode="failoverd"
[ "$CLUSTER" = 1 ] && mode="a cluster of three failoverd members, lease_ttl ${DEMO_LEASE_TTL}s"
echo
echo "== summary ($mode) =="
printf '  %-34s %6d ms\n' "world up (named, 2 nginx, 2 pg)" "$T_UP"
if [ "$CLUSTER" = 1 ]; then
	printf '  %-34s %6d ms (m%s, epoch %s -> %s)\n' "leader killed -> new leader" $((T_ELECTED - T_STOP)) "$CL_NEW" "$EPOCH_OLD" "$EPOCH_NEW"
fi
printf '  %-34s %6d ms\n' "stop of app1 -> seen down" $((T_DOWN - T_STOP))
for p in precheck maintenance_on replication_off promote maintenance_off dns; do
	[ -n "${PHASE_MS[$p]:-}" ] || continue
	r=
	[ "${PHASE_RC[$p]:-0}" != 0 ] && r=" (failed, went on)"
	printf '  %-34s %6d ms%s\n' "  phase $p" "${PHASE_MS[$p]}" "$r"
done
printf '  %-34s %6d ms\n' "seen down -> record flipped" $((T_FLIP - T_DOWN))
printf '  %-34s %6d ms\n' "stop of app1 -> record flipped" $((T_FLIP - T_STOP))
printf '  %-34s %6d ms\n' "writer: last commit app1 -> app2" $((first2 - last1))
printf '  %-34s %6d ms\n' "world down (every process by PID)" "$T_DOWNW"
printf '  %-34s %6s\n' "rows seen committed / lost" "$n_seen / $n_missing"
echo "demo: OK"
exit 0
