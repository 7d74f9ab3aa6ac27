# cluster.sh - several failoverd members on a real etcd (sourced by bash
# tests, after fo.sh and etcd.sh): each member has its own configuration
# file, state_dir, log and PID, and shares named, the web heads and the
# hooks of fo.sh.
#
#   cl_conf I [GROUP_EXTRA]   $FO/m$I.conf: fo_conf's world, state_dir
#                             $FO/state$I, [cluster] member m$I on
#                             $ETCD_ENDPOINTS, lease_ttl $CL_TTL
#   cl_start I [ENV=V...]     start member I (log $FO/m$I.log)
#   cl_kill I SIG             kill -SIG member I by PID
#   cl_reap I                 SIGKILL member I and wait for it
#   cl_leader                 the index of the member whose log says it was
#                             elected last and has not lost since ("")
#   cl_epoch I                the epoch of member I's last election
#   cl_txt_epoch              the epoch in www's ownership TXT
#   CL_API=1 cl_conf I        member I listens on 127.0.0.1:$CL_PORT_I
#   cl_quorum_world [N]       the quorum tests' world: etcd (N members,
#                             default 1), named, app1 and app2, hooks, and
#                             m1..m3 configured with source_address
#                             127.0.0.11..13 (CL_EXTRA: more [cluster]),
#                             prefix $CL_PREFIX, this run's own
#   cl_sees I / cl_unsees I   app1's web head fails / serves again the
#                             requests from member I's source address
#   cl_switches               switch_started lines in all members' logs
#
# The hooks record the epoch too (FAILOVER_EPOCH), as epoch=N at the end
# of each line of hooks.log.
CL_TTL=${CL_TTL:-2}
declare -A CL_PID

_cl_cleanup() {
	local i
	for i in "${!CL_PID[@]}"; do
		kill -CONT "${CL_PID[$i]}" 2>/dev/null
		kill -9 "${CL_PID[$i]}" 2>/dev/null && wait "${CL_PID[$i]}" 2>/dev/null
	done
	return 0
}
named_trap_add _cl_cleanup

cl_fail() {
	local i
	echo "FAIL: $*"
	for i in 1 2 3; do
		[ -f "$FO/m$i.log" ] || continue
		echo "--- m$i.log (events)"
		grep -E 'event=(leader|cluster|config_|fenced|owner_claimed|claim_|action_withheld|hook_start|dns_updated|switch_)' "$FO/m$i.log" | tail -25
	done
	[ -f "$FO/hooks.log" ] && { echo "--- hooks.log"; cat "$FO/hooks.log"; }
	exit 1
}

_cl_port() {	# a free port below 32768 (the ephemeral range starts there)
	local p try
	for ((try = 0; try < 200; try++)); do
		p=$((10000 + RANDOM % 22000))
		[ -z "$(ss -Hltn "sport = :$p" 2>/dev/null)" ] && { echo "$p"; return 0; }
	done
	return 1
}

cl_conf() {	# I [GROUP_EXTRA]; CL_API=1: listen on CL_PORT_I
	local i=$1 urls u
	if [ -n "${CL_API:-}" ]; then
		eval "CL_PORT_$i=$(_cl_port)"
		eval "FO_LISTEN=127.0.0.1:\$CL_PORT_$i"
	fi
	urls=
	for u in ${ETCD_ENDPOINTS//,/ }; do urls="${urls}etcd = $u"$'\n'; done
	FO_GROUP_EXTRA="${2:-}" FO_TAIL="
[cluster]
${urls}member = m$i
prefix = /fo-test/
lease_ttl = ${CL_TTL}s
${CL_EXTRA:-}" fo_conf
	sed -e "s|^state_dir = .*|state_dir = $FO/state$i|" "$FO/failoverd.conf" >"$FO/m$i.conf"
	"$FAILOVERD" -t -c "$FO/m$i.conf" >/dev/null 2>&1 ||
	    cl_fail "config check m$i: $("$FAILOVERD" -t -c "$FO/m$i.conf" 2>&1)"
}

cl_start() {	# I [ENV=V...]
	local i=$1; shift
	# A restarted member's log starts afresh (the old one kept aside).
	[ -f "$FO/m$i.log" ] && cat "$FO/m$i.log" >>"$FO/m$i.log.old" && : >"$FO/m$i.log"
	env "$@" "$FAILOVERD" -c "$FO/m$i.conf" >>"$FO/m$i.log" 2>&1 &
	CL_PID[$i]=$!
}

cl_kill() {	# I SIG
	kill -"$2" "${CL_PID[$1]}" 2>/dev/null
}

cl_reap() {	# I
	[ -n "${CL_PID[$1]:-}" ] || return 0
	kill -CONT "${CL_PID[$1]}" 2>/dev/null
	kill -9 "${CL_PID[$1]}" 2>/dev/null
	wait "${CL_PID[$1]}" 2>/dev/null
	unset "CL_PID[$1]"
}

_cl_leads() {	# I: its last leadership event is an election
	[ -f "$FO/m$1.log" ] || return 1
	grep -E 'event=(leader_elected|leader_lost)' "$FO/m$1.log" | tail -1 |
	    grep -q 'event=leader_elected'
}

cl_leader() {
	local i
	for i in "${!CL_PID[@]}"; do
		_cl_leads "$i" && { echo "$i"; return 0; }
	done
	echo ""
	return 1
}

cl_epoch() {	# I
	grep 'event=leader_elected' "$FO/m$1.log" | tail -1 | sed -n 's/.* epoch=\([0-9]*\).*/\1/p'
}

cl_txt_epoch() {
	fo_dig "_failoverd.$W" TXT | sed -n 's/.*epoch=\([0-9]*\).*/\1/p'
}

cl_hooks() {	# fo_hooks, with the epoch on each line
	fo_hooks
	sed -i 's|args=\$\*"|args=$* epoch=$FAILOVER_EPOCH"|' "$FO/hooks/rec"
	grep -q 'epoch=\$FAILOVER_EPOCH' "$FO/hooks/rec" || cl_fail "cl_hooks: no epoch in the hook"
}

# The world every cluster test starts from: an etcd of N members (three
# by default), named, app1 and app2's web heads (app2 in maintenance, as
# a backup is), the recording hooks; W is the group's name.
cl_world() {	# [N]
	etcd_start "$FO/etcd" "${1:-3}" || cl_fail "etcd did not start"
	fo_init
	fo_webhead app1
	fo_webhead app2
	fo_maint app2 on
	cl_hooks
	W=www.$NAMED_ZONE
}

# Members 1 and 2 (cl_conf'd) started with ENV..., one of them leading,
# the record published on app1 and app2 seen up by both: L the leader,
# F the other.  CL_PUBLISH_S bounds the wait for the record (5 s).
cl_pair_start() {	# [ENV=V...]
	local i
	cl_start 1 "$@"
	cl_start 2 "$@"
	fo_wait 15 cl_leader || cl_fail "nobody leads"
	L=$(cl_leader)
	F=$((3 - L))
	fo_wait "${CL_PUBLISH_S:-5}" fo_dig_is "$W" CNAME app1.example.net. ||
	    cl_fail "never published app1"
	for i in 1 2; do
		fo_wait 10 grep -q 'event=health_change stack=app2 from=unknown to=up' "$FO/m$i.log" ||
		    cl_fail "m$i never saw app2 up"
	done
}

cl_ctl() {	# I ARGS...: failoverctl on member I's host
	local i=$1; shift
	"$FAILOVERCTL" -c "$FO/m$i.conf" "$@"
}
cl_st() {	# I JQ: the group www as member I's store has it
	cl_ctl "$1" status www --json | jq -e "$2" >/dev/null
}
cl_post() {	# PORT PATH [BODY]: a POST with the API's token
	curl -s --max-time 15 -H "Authorization: Bearer $TOKEN" \
	    -H 'Content-Type: application/json' -d "${3:-{\}}" \
	    -w '\n%{http_code}' "http://127.0.0.1:$1$2"
}

cl_quorum_world() {	# [ETCD_MEMBERS]
	local i
	etcd_start "$FO/etcd" "${1:-1}" || cl_fail "etcd did not start"
	fo_init
	fo_webhead app1
	fo_webhead app2
	fo_maint app2 on
	cl_hooks
	W=www.$NAMED_ZONE
	# A prefix of this run's own: a stray member of another run that
	# finds this etcd on a port it knew (its own etcd gone) and carries
	# the same names must not vote here.
	CL_PREFIX=/fo-quorum-$$-$RANDOM/
	for i in 1 2 3; do
		FO_CTL_EXTRA="source_address = 127.0.0.1$i" cl_conf "$i"
		sed -i "s|^prefix = /fo-test/\$|prefix = $CL_PREFIX|" "$FO/m$i.conf"
		grep -q "^prefix = $CL_PREFIX\$" "$FO/m$i.conf" || cl_fail "m$i.conf: no prefix $CL_PREFIX"
	done
}

cl_sees() {	# I: member I's probes of app1 fail (from its source address)
	touch "$FO/wh-app1/fail.127.0.0.1$1"
}

cl_unsees() {	# I
	rm -f "$FO/wh-app1/fail.127.0.0.1$1"
}

cl_switches() {
	cat "$FO"/m[123].log | grep -c 'event=switch_started'
}
