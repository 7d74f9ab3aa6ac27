# etcd.sh - a real etcd (Debian etcd-server 3.4) as a test fixture, one or
# three members on loopback (sourced by bash tests).
#
#   . "$TOP/tests/lib/etcd.sh"
#   etcd_start DIR [N]        start an N-member cluster (1 or 3; default 3)
#                             in DIR (created, should be fresh); 0 when every
#                             member answers GET /health with "true"
#   etcd_stop_member I        SIGTERM member I (1..N) by PID, wait (bounded)
#   etcd_start_member I       start member I again on its ports and data dir
#   etcd_signal_member I SIG  kill -SIG member I (KILL, STOP, CONT)
#   etcd_wait_health I [S]    wait up to S seconds (default 10) until member
#                             I says {"health":"true"} (it has a leader)
#   etcd_stop_all             stop every member (also done at exit)
#
# Every member runs in the foreground as the test shell's own child, logging
# to DIR/mI.log, with a fresh --data-dir DIR/mI, explicit client and peer
# URLs on 127.0.0.1 and ports picked at random below 32768 (the ephemeral
# range starts there) and checked free first; when a member cannot bind
# anyway, the whole cluster is started again on other ports (bounded).
# Raft runs fast for tests: --heartbeat-interval 50 ms, --election-timeout
# 500 ms (ETCD_HEARTBEAT_MS, ETCD_ELECTION_MS to change), so a lost leader
# is replaced within about a second and the shortest lease etcd grants is
# 1 s (etcd raises shorter TTLs to 1.5 election timeouts).
#
# Exported when ready: ETCD_N, ETCD_ENDPOINTS (client URLs, comma-
# separated, member 1 first), ETCD_URL_1.., ETCD_PID_1.., ETCD_DIR.
# The EXIT trap installed here stops every member (a stopped one is sent
# SIGCONT first, so that it can die) and then runs the EXIT trap that was
# there before, if any.

ETCD_BIN=${ETCD_BIN:-/usr/bin/etcd}
ETCD_HEARTBEAT_MS=${ETCD_HEARTBEAT_MS:-50}
ETCD_ELECTION_MS=${ETCD_ELECTION_MS:-500}
ETCD_N=0
declare -a _etcd_cport _etcd_pport _etcd_pid

_etcd_prev_trap=$(trap -p EXIT | sed -e "s/^trap -- '//" -e "s/' EXIT\$//")
_etcd_on_exit() {
	local rc=$?
	etcd_stop_all
	if [ -n "$_etcd_prev_trap" ]; then
		eval "$_etcd_prev_trap"
	fi
	return $rc
}
trap _etcd_on_exit EXIT

_etcd_port_free() {	# port
	[ -z "$(ss -Hlnt "sport = :$1" 2>/dev/null)" ]
}

_etcd_pick_port() {	# prints a free port not yet taken by this cluster
	local p i used try
	for ((try = 0; try < 200; try++)); do
		p=$((10000 + RANDOM % 22000))
		used=0
		for ((i = 1; i <= ETCD_N; i++)); do
			[ "${_etcd_cport[$i]:-}" = "$p" ] && used=1
			[ "${_etcd_pport[$i]:-}" = "$p" ] && used=1
		done
		[ $used = 0 ] && _etcd_port_free "$p" && { echo "$p"; return 0; }
	done
	return 1
}

_etcd_alive() {		# pid: running (also when stopped), not a zombie
	local st
	st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)
	[ -n "$st" ] && [ "$st" != Z ]
}

etcd_start_member() {	# I
	local i=$1 cluster="" j
	for ((j = 1; j <= ETCD_N; j++)); do
		cluster="${cluster:+$cluster,}m$j=http://127.0.0.1:${_etcd_pport[$j]}"
	done
	"$ETCD_BIN" --name "m$i" --data-dir "$ETCD_DIR/m$i" \
	    --listen-client-urls "http://127.0.0.1:${_etcd_cport[$i]}" \
	    --advertise-client-urls "http://127.0.0.1:${_etcd_cport[$i]}" \
	    --listen-peer-urls "http://127.0.0.1:${_etcd_pport[$i]}" \
	    --initial-advertise-peer-urls "http://127.0.0.1:${_etcd_pport[$i]}" \
	    --initial-cluster "$cluster" --initial-cluster-state new \
	    --initial-cluster-token "$ETCD_TOKEN" \
	    --heartbeat-interval "$ETCD_HEARTBEAT_MS" \
	    --election-timeout "$ETCD_ELECTION_MS" \
	    >>"$ETCD_DIR/m$i.log" 2>&1 </dev/null &
	_etcd_pid[$i]=$!
	eval "ETCD_PID_$i=$!"
	export "ETCD_PID_$i"
}

etcd_wait_health() {	# I [SECONDS]
	local i=$1 n=$(( ${2:-10} * 20 )) k out
	for ((k = 0; k < n; k++)); do
		_etcd_alive "${_etcd_pid[$i]}" || return 1
		out=$(curl -s --max-time 1 "http://127.0.0.1:${_etcd_cport[$i]}/health" 2>/dev/null)
		case $out in *'"health":"true"'*) return 0 ;; esac
		sleep 0.05
	done
	return 1
}

etcd_signal_member() {	# I SIG
	kill -"$2" "${_etcd_pid[$1]}" 2>/dev/null
}

# The index of the member that is raft leader now ("" if none answers).
# Freezing the leader stalls every write until the others elect a new
# one, so a test about one unresponsive endpoint freezes a follower.
etcd_leader_index() {
	local i out mid lead
	for ((i = 1; i <= ETCD_N; i++)); do
		[ -n "${_etcd_pid[$i]:-}" ] || continue
		out=$(curl -s --max-time 1 -X POST -d '{}' \
		    "http://127.0.0.1:${_etcd_cport[$i]}/v3/maintenance/status" 2>/dev/null)
		mid=$(echo "$out" | jq -r '.header.member_id // empty' 2>/dev/null)
		lead=$(echo "$out" | jq -r '.leader // empty' 2>/dev/null)
		[ -n "$mid" ] && [ "$mid" = "$lead" ] && { echo "$i"; return 0; }
	done
	echo ""
}

etcd_stop_member() {	# I
	local i=$1 k pid=${_etcd_pid[$1]:-}
	[ -n "$pid" ] || return 0
	kill -CONT "$pid" 2>/dev/null
	kill -TERM "$pid" 2>/dev/null
	for ((k = 0; k < 100; k++)); do
		_etcd_alive "$pid" || break
		sleep 0.05
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	_etcd_pid[$i]=
	return 0
}

etcd_stop_all() {
	local i
	for ((i = 1; i <= ETCD_N; i++)); do
		[ -n "${_etcd_pid[$i]:-}" ] && kill -CONT "${_etcd_pid[$i]}" 2>/dev/null
		[ -n "${_etcd_pid[$i]:-}" ] && kill -TERM "${_etcd_pid[$i]}" 2>/dev/null
	done
	for ((i = 1; i <= ETCD_N; i++)); do
		etcd_stop_member "$i"
	done
}

etcd_start() {		# DIR [N]
	local d=$1 n=${2:-3} try i ok
	mkdir -p "$d" || return 1
	ETCD_DIR=$(cd "$d" && pwd)
	command -v "$ETCD_BIN" >/dev/null || { echo "etcd.sh: no $ETCD_BIN" >&2; return 1; }
	for ((try = 0; try < 5; try++)); do
		ETCD_N=$n
		ETCD_TOKEN=t$$-$RANDOM-$try
		for ((i = 1; i <= n; i++)); do
			_etcd_cport[$i]=; _etcd_pport[$i]=
		done
		for ((i = 1; i <= n; i++)); do
			_etcd_cport[$i]=$(_etcd_pick_port) || return 1
			_etcd_pport[$i]=$(_etcd_pick_port) || return 1
			rm -rf "$ETCD_DIR/m$i"
			: >"$ETCD_DIR/m$i.log"
		done
		for ((i = 1; i <= n; i++)); do
			etcd_start_member "$i"
		done
		ok=1
		for ((i = 1; i <= n; i++)); do
			etcd_wait_health "$i" 15 || { ok=0; break; }
		done
		if [ $ok = 1 ]; then
			ETCD_ENDPOINTS=
			for ((i = 1; i <= n; i++)); do
				eval "ETCD_URL_$i=http://127.0.0.1:${_etcd_cport[$i]}"
				export "ETCD_URL_$i"
				ETCD_ENDPOINTS="${ETCD_ENDPOINTS:+$ETCD_ENDPOINTS,}http://127.0.0.1:${_etcd_cport[$i]}"
			done
			export ETCD_N ETCD_ENDPOINTS ETCD_DIR
			return 0
		fi
		{
			echo "try $try: member $i not healthy"
			for ((i = 1; i <= n; i++)); do tail -3 "$ETCD_DIR/m$i.log"; done
		} >>"$ETCD_DIR/attempts.log"
		etcd_stop_all
	done
	echo "etcd.sh: etcd did not start; tries:" >&2
	cat "$ETCD_DIR/attempts.log" >&2 2>/dev/null
	return 1
}
