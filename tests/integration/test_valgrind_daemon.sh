#!/bin/bash
# test: alone (valgrind's slowdown)
# A short life of the real daemon under valgrind memcheck: start with a
# key named refuses, SIGHUP with the right one, publish the record, a
# failover with hooks (the primary's web head stopped; one hook hangs and
# is killed at its timeout), a reload that adds a group, an invalid
# reload, API requests, SIGTERM.  Passes when
# failoverd exits 0 and valgrind reports zero errors, no definitely or
# indirectly lost bytes and no descriptor of its own still open.  Only
# third-party global state may be suppressed (tests/valgrind.supp, each
# entry says why).  Skipped under SAN=1 (ASan and valgrind do not mix;
# ASan checks leaks there) and without valgrind.
set -u
[ "${SAN:-0}" = 1 ] && { echo "skip: SAN build (ASan checks leaks there)"; exit 77; }
command -v valgrind >/dev/null || { echo "skip: no valgrind"; exit 77; }
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/fo.sh"

VG_LOG=$FO/valgrind.log
VG=(valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect
    --show-leak-kinds=definite,indirect --error-exitcode=99
    --track-fds=yes --num-callers=30
    --suppressions="$TOP/tests/valgrind.supp" --log-file="$VG_LOG")

port_free() { [ -z "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]; }

vg_start() {
	"${VG[@]}" "$FAILOVERD" -c "$FO/failoverd.conf" >>"$FO/failoverd.log" 2>&1 &
	FO_PID=$!
}

fo_init
fo_webhead app1
fo_webhead app2
fo_maint app2 on
fo_hooks
W=www.$NAMED_ZONE
echo tok-$$-$RANDOM-0123456789abcdef >"$FO/token"
chmod 0600 "$FO/token"

# The configuration on port $p, key file $1; everything is slower under
# valgrind: give the probes room.
vg_conf() {
	NAMED_KEYFILE=$1 FO_INTERVAL=500ms FO_HOOK_TIMEOUT=1s FO_CTL_EXTRA="listen = 127.0.0.1:$p
api_token_file = $FO/token" fo_conf
	sed -i -e '0,/^listen = off$/{/^listen = off$/d}' \
	    -e 's/^timeout = 150ms$/timeout = 400ms/' \
	    -e 's/^fastinter = 100ms$/fastinter = 200ms/' "$FO/failoverd.conf"
}

# Start with a key named refuses (the error path), fixed by a reload.
GOODKEY=$NAMED_KEYFILE
api=
for try in 1 2 3 4 5 6 7 8; do
	p=$((20000 + RANDOM % 12000))
	port_free "$p" || continue
	vg_conf "$NAMED_KEYFILE_NOGRANT"
	"$FAILOVERD" -t -c "$FO/failoverd.conf" >"$FO/t.out" 2>&1 ||
	    fail "config: $(cat "$FO/t.out")"
	: >"$FO/failoverd.log"
	t0=$(date +%s%N)
	vg_start
	if fo_wait 30 fo_log_has 'event=(api_listening|start_failed)' &&
	    fo_log_has 'event=api_listening'; then
		api=http://127.0.0.1:$p
		break
	fi
	fo_stop
	fo_reset_state
done
[ -n "$api" ] || fail "could not start failoverd under valgrind with a listener"

fo_wait 30 fo_log_has 'event=dns_failed .*error=REFUSED' || fail "no REFUSED"
vg_conf "$GOODKEY"
kill -HUP "$FO_PID"
fo_wait 30 fo_dig_is "$W" CNAME app1.example.net. || fail "never published app1"
echo "published $(( ($(date +%s%N) - t0) / 1000000 )) ms after the start (refused key, then SIGHUP) under valgrind"
fo_wait 30 fo_log_has 'event=health_change stack=app2 from=unknown to=up' || fail "app2 never up"
curl -s -o /dev/null --max-time 10 "$api/metrics" || fail "/metrics"
curl -s -o /dev/null --max-time 10 "$api/v1/groups/www" || fail "/v1/groups/www"

# A failover with every hook; maintenance_on hangs, is killed at its
# timeout (with its process group), and the sequence goes on.
touch "$FO/hooks/hang.maintenance_on"
fo_webhead_stop app1
fo_wait 60 fo_log_has 'event=switch_finished' || fail "no switch under valgrind"
fo_wait 30 fo_dig_is "$W" A 127.0.0.2 || fail "record not flipped"
fo_log_has 'event=hook_exited .*phase=maintenance_on .*outcome=timeout' ||
    fail "hung maintenance_on not timed out"
for ph in maintenance_on replication_off promote maintenance_off; do
	grep -q "^$ph " "$FO/hooks.log" || fail "hook $ph did not run"
done

# A reload that adds a stack and a group, then one that is invalid.
FO_TAIL="[stack app3]
web_head = app3.example.net
health_url = http://127.0.0.1:$WH_PORT_app2/health
interval = 500ms
timeout = 400ms

[group extra]
address = extra
primary = app3" vg_conf "$GOODKEY"
kill -HUP "$FO_PID"
fo_wait 30 fo_log_has 'event=reloaded .*groups=2' || fail "reload not applied"
fo_wait 30 fo_dig_is "extra.$NAMED_ZONE" CNAME app3.example.net. || fail "new group not published"
echo "bogus line" >>"$FO/failoverd.conf"
kill -HUP "$FO_PID"
fo_wait 30 fo_log_has 'event=reload_failed' || fail "invalid reload not refused"
curl -s -o /dev/null --max-time 10 -X POST -H "Authorization: Bearer $(cat "$FO/token")" \
    "$api/v1/groups/www/pause" || fail "POST pause"

fo_stop
rc=$?
echo "failoverd exit status under valgrind: $rc"
sed -n '/HEAP SUMMARY/,$p' "$VG_LOG"
[ $rc = 0 ] || { cat "$VG_LOG"; fail "exit status $rc (99: valgrind found errors)"; }
grep -q 'ERROR SUMMARY: 0 errors' "$VG_LOG" || { cat "$VG_LOG"; fail "valgrind errors"; }
grep -Eq '(definitely|indirectly) lost: [1-9]' "$VG_LOG" && { cat "$VG_LOG"; fail "leaks"; }
# No descriptor of its own left open at exit: every one valgrind lists is
# inherited (the test shell's, valgrind's log).
leaked=$(awk '/Open (file|AF_[A-Z0-9]*) (descriptor|socket)/ { fd = $0; next }
    fd != "" { if ($0 !~ /inherited from parent/) print fd; fd = "" }' "$VG_LOG")
[ -z "$leaked" ] || { cat "$VG_LOG"; fail "descriptors left open: $leaked"; }
fo_log_has 'event=stopped' || fail "no clean stop"
echo PASS
