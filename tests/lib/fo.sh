# fo.sh - an end-to-end world for failoverd tests (sourced by bash tests):
# a real named (tests/lib/named.sh), controllable web heads
# ($TOOLS/webhead), recording hooks, and failoverd itself.
#
#   fo_init                       temp dir $FO, named started
#   fo_webhead NAME [PORT [ARGS]] start a web head; port in WH_PORT_NAME
#                                 (ARGS: -C, no keep-alive); it stops by
#                                 itself after WH_LIFETIME s (default 300)
#   fo_webhead_stop NAME          SIGTERM by PID, wait
#   fo_maint NAME on|off          503 while on (the recording hook's
#                                 maintenance_on/off set it too)
#   fo_maint_reset                app1 serving, app2 in maintenance
#   fo_hooks                      $FO/hooks/rec: records each run in
#                                 $FO/hooks.log and its env in $FO/env.*
#   fo_start [ARGS]               start failoverd -c $FO/failoverd.conf
#   fo_kill9 / fo_stop            stop it (SIGKILL / SIGTERM + wait)
#   fo_reset_state [NAME...]      state gone, the record back on app1
#   fo_dig NAME [TYPE]            what named answers (+short)
#   fo_wait SECONDS CMD...        poll CMD every 50 ms until it succeeds
#   fo_log_has REGEX              failoverd's log has a matching line
#
# Every process started here is the test shell's own child and is stopped
# by PID at exit, whatever happened.
. "$TOP/tests/lib/named.sh"

FO=$(mktemp -d /tmp/fo-test.XXXXXX)
chmod 0755 "$FO"
declare -A WH_PID
FO_PID=

_fo_cleanup() {
	local n
	[ -n "$FO_PID" ] && kill -9 "$FO_PID" 2>/dev/null && wait "$FO_PID" 2>/dev/null
	for n in "${!WH_PID[@]}"; do
		kill "${WH_PID[$n]}" 2>/dev/null && wait "${WH_PID[$n]}" 2>/dev/null
	done
	if [ -n "${FO_KEEP:-}" ]; then echo "kept $FO"; else rm -rf "$FO"; fi
}
named_trap_add _fo_cleanup

fail() {
	echo "FAIL: $*"
	if [ -f "$FO/failoverd.log" ]; then
		echo "--- failoverd log (tail)"; tail -60 "$FO/failoverd.log"
	fi
	[ -f "$FO/hooks.log" ] && { echo "--- hooks.log"; cat "$FO/hooks.log"; }
	exit 1
}

fo_wait() {	# seconds cmd...
	local limit=$1; shift
	local end=$(( $(date +%s%N) + limit * 1000000000 ))
	while ! "$@" >/dev/null 2>&1; do
		[ "$(date +%s%N)" -gt "$end" ] && return 1
		sleep 0.05
	done
	return 0
}

fo_init() {
	named_start "$FO/named" || fail "named_start"
}

fo_webhead() {	# name [port [args]]
	local name=$1 port=${2:-0} out=$FO/wh-$1.out
	mkdir -p "$FO/wh-$name"
	# A web head started again under its name: the last one's "ready=1"
	# must not be read before the new one truncates the file (its port
	# was then read from the empty file).
	rm -f "$out"
	"$TOOLS/webhead" -p "$port" -d "$FO/wh-$name" -T "${WH_LIFETIME:-300}" ${3:-} >"$out" 2>&1 &
	WH_PID[$name]=$!
	fo_wait 5 grep -q '^ready=1' "$out" || fail "webhead $name did not start: $(cat "$out")"
	eval "WH_PORT_$name=$(sed -n 's/^port=//p' "$out")"
}

fo_webhead_stop() {
	local name=$1
	[ -n "${WH_PID[$name]:-}" ] || return 0
	kill "${WH_PID[$name]}" 2>/dev/null
	wait "${WH_PID[$name]}" 2>/dev/null
	unset "WH_PID[$name]"
}

fo_maint() {	# name on|off
	if [ "$2" = on ]; then touch "$FO/wh-$1/maintenance"; else rm -f "$FO/wh-$1/maintenance"; fi
}

# Back to the start: the primary serving, the standby dormant.
fo_maint_reset() {
	fo_maint app1 off
	fo_maint app2 on
}

fo_hooks() {
	mkdir -p "$FO/hooks"
	cat >"$FO/hooks/rec" <<HOOK
#!/bin/sh
# What this run must do is read before it is recorded: a test that sees
# the line in hooks.log may change the files at once.
slow=\$(cat "$FO/hooks/slow.\$FAILOVER_PHASE" 2>/dev/null)
hang=; [ -f "$FO/hooks/hang.\$FAILOVER_PHASE" ] && hang=1
failing=; [ -f "$FO/hooks/fail.\$FAILOVER_PHASE" ] && failing=1
say=\$(cat "$FO/hooks/say.\$FAILOVER_PHASE" 2>/dev/null)
# Record the run: one line in hooks.log, the whole environment aside.
echo "\$FAILOVER_PHASE \$FAILOVER_STACK from=\$FAILOVER_FROM to=\$FAILOVER_TO id=\$FAILOVER_ID attempt=\$FAILOVER_ATTEMPT reason=\$FAILOVER_REASON status=\$FAILOVER_STATUS args=\$*" >>"$FO/hooks.log"
env | sort >"$FO/env.\$FAILOVER_PHASE"
[ -n "\$failing" ] && { echo "failing on purpose" >&2; exit 3; }
# Maintenance as the demo's hooks do it: the web head's flag file.
case \$FAILOVER_PHASE in
maintenance_on) [ -d "$FO/wh-\$FAILOVER_STACK" ] && touch "$FO/wh-\$FAILOVER_STACK/maintenance" ;;
maintenance_off|restore) rm -f "$FO/wh-\$FAILOVER_STACK/maintenance" ;;
esac
[ -n "\$hang" ] && { sleep 1000 & wait; }
[ -n "\$say" ] && echo "\$say"
[ -n "\$slow" ] && sleep "\$slow"
echo "done \$FAILOVER_PHASE"
exit 0
HOOK
	chmod 0755 "$FO/hooks/rec"
}

fo_start() {
	"$FAILOVERD" -c "$FO/failoverd.conf" "$@" >>"$FO/failoverd.log" 2>&1 &
	FO_PID=$!
}

fo_kill9() {
	[ -n "$FO_PID" ] || return 0
	kill -9 "$FO_PID" 2>/dev/null
	wait "$FO_PID" 2>/dev/null
	FO_PID=
}

fo_stop() {	# SIGTERM, bounded wait; returns failoverd's exit status
	local rc i st
	[ -n "$FO_PID" ] || return 0
	kill -TERM "$FO_PID" 2>/dev/null
	# A stop waits for running hooks (hook_timeout) and DNS in flight;
	# 30 s is more than any test's hooks take.
	for ((i = 0; i < 600; i++)); do
		st=$(awk '{print $3}' "/proc/$FO_PID/stat" 2>/dev/null)
		{ [ -z "$st" ] || [ "$st" = Z ]; } && break
		sleep 0.05
	done
	if [ $i = 600 ]; then
		echo "fo_stop: failoverd $FO_PID did not stop within 30 s" >&2
		grep -E 'event=(stopping|hook_start|hook_exited)' "$FO/failoverd.log" | tail -5 >&2
		kill -9 "$FO_PID" 2>/dev/null
	fi
	wait "$FO_PID"
	rc=$?
	FO_PID=
	# Why, when it is not in the log's own lines (a sanitizer's report).
	[ "$rc" = 0 ] || {
		echo "fo_stop: failoverd exited with status $rc"
		grep -v '^ts=' "$FO/failoverd.log" | tail -40
	}
	return $rc
}

# A world reset: the state gone and the record back on app1, as at a first
# start (a lost state alone leaves traffic where the record is: the
# published record is the truth).  NAMEs: the addresses (default $W).
fo_reset_state() {	# [NAME...]
	local n
	rm -rf "$FO/state"
	[ $# = 0 ] && set -- "$W"
	for n in "$@"; do
		nsupdate -k "$NAMED_KEYFILE" <<NSU || fail "nsupdate: reset $n"
server 127.0.0.1 $NAMED_PORT
zone $NAMED_ZONE
update delete $n A
update delete $n AAAA
update delete $n CNAME
update add $n 60 CNAME app1.example.net.
send
NSU
	done
}

fo_dig() {	# name [type]
	dig +norec +short +time=1 +tries=1 -p "$NAMED_PORT" @127.0.0.1 "$1" "${2:-CNAME}"
}

fo_dig_is() {	# name type expected
	[ "$(fo_dig "$1" "$2" | sort | tr '\n' ' ' | sed 's/ $//')" = "$3" ]
}

fo_log_has() {
	grep -Eq -- "$1" "$FO/failoverd.log"
}

fo_log_count() {
	grep -Ec -- "$1" "$FO/failoverd.log"
}

# The standard two-stack world's configuration: app1 (CNAME) and app2
# (A/AAAA), group www.  Extra lines: FO_CTL_EXTRA ([controller]),
# FO_STACK_EXTRA (both stacks; FO_INTERVAL, FO_TIMEOUT, FO_FALL set those
# keys), FO_GROUP_EXTRA ([group www]), FO_TAIL
# (appended at the end: more sections).
_fo_stack() {	# name web_head
	local H=$FO/hooks/rec port
	eval "port=\$WH_PORT_$1"
	cat <<CONF

[stack $1]
web_head = $2
health_url = http://127.0.0.1:$port/health
standby_expect_status = 200-399,503
interval = ${FO_INTERVAL:-200ms}
fastinter = 100ms
downinter = 500ms
timeout = ${FO_TIMEOUT:-150ms}
rise = 2
fall = ${FO_FALL:-3}
hook_timeout = ${FO_HOOK_TIMEOUT:-10s}
maintenance_on = $H on $1
maintenance_off = $H off $1
replication_off = $H replication-off $1
promote = $H promote $1
${FO_STACK_EXTRA:-}
CONF
}

fo_conf() {
	{
		cat <<CONF
[controller]
state_dir = $FO/state
listen = ${FO_LISTEN:-off}
name = test-ctl
${FO_CTL_EXTRA:-}

[dns]
server = 127.0.0.1:$NAMED_PORT
zone = $NAMED_ZONE
key_file = $NAMED_KEYFILE
timeout = 500ms
confirm = 127.0.0.1:$NAMED_PORT
verify_interval = ${FO_VERIFY:-1s}
CONF
		_fo_stack app1 app1.example.net
		_fo_stack app2 "127.0.0.2 ::2"
		cat <<CONF

[group www]
address = www
primary = app1
backup = app2
ttl = 60s
suspect_ttl = 5s
hold_down = ${FO_HOLD_DOWN:-10m}
${FO_GROUP_EXTRA:-}
${FO_TAIL:-}
CONF
	} >"$FO/failoverd.conf"
}

# The standard world up and serving app1: named, web heads, hooks, config,
# failoverd started, the record published.
fo_world() {
	fo_init
	fo_webhead app1
	fo_webhead app2
	fo_maint app2 on
	fo_hooks
	fo_conf
	"$FAILOVERD" -t -c "$FO/failoverd.conf" >/dev/null || fail "config check: $("$FAILOVERD" -t -c "$FO/failoverd.conf" 2>&1)"
	W=www.$NAMED_ZONE
	fo_start "$@"
	fo_wait 5 fo_dig_is "$W" CNAME app1.example.net. || fail "never published app1"
	fo_wait 5 fo_log_has 'event=health_change stack=app2 from=unknown to=up' || fail "app2 never up"
}

# The world of the status and metrics tests: app1 and app2 (app2 in
# maintenance), the recording hooks, W the group www's name, and a second
# group "api" on the same stacks whose name someone else already holds
# (a CNAME made with nsupdate): FO_TAIL=$(fo_tail_api) fo_conf adds it.
fo_tail_api() {
	cat <<EOF2

[group api]
address = api
primary = app1
backup = app2
ttl = 60s
EOF2
}
fo_world_foreign() {
	fo_init
	fo_webhead app1
	fo_webhead app2
	fo_maint app2 on
	fo_hooks
	W=www.$NAMED_ZONE
	nsupdate -k "$NAMED_KEYFILE" <<NSU || fail "nsupdate"
server 127.0.0.1 $NAMED_PORT
zone $NAMED_ZONE
update add api.$NAMED_ZONE 300 CNAME elsewhere.example.net.
send
NSU
}
