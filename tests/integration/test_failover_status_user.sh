#!/bin/bash
# failoverctl failover-status STACK as an unprivileged user (issue 17):
# the cron jobs FAILOVER_STATUS exists for may run as anyone.  As nobody,
# who can read the configuration but neither the TSIG key, the API token
# nor the state (state_dir is 0700), it prints what root's failoverctl
# prints (asked of the daemon's API); with the daemon stopped it exits 1
# with one line saying why.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
[ "$(id -u)" = 0 ] || { echo "skipped: must run as root to run failoverctl as nobody"; exit 77; }
command -v setpriv >/dev/null || { echo "skipped: setpriv missing"; exit 77; }
id nobody >/dev/null 2>&1 || { echo "skipped: no user nobody"; exit 77; }
. "$TOP/tests/lib/fo.sh"
port_free() { [ -z "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]; }

fo_init
fo_webhead app1
fo_webhead app2
fo_maint app2 on
fo_hooks
W=www.$NAMED_ZONE
printf 'status-token-%s\n' "$RANDOM$RANDOM$RANDOM" >"$FO/token"
chmod 0600 "$FO/token"
for try in $(seq 1 40); do
	PORT=$(( 20000 + RANDOM % 12000 ))
	port_free "$PORT" || continue
	FO_LISTEN=127.0.0.1:$PORT FO_CTL_EXTRA="api_token_file = $FO/token" fo_conf
	: >"$FO/failoverd.log"
	fo_start
	fo_wait 20 eval 'fo_log_has event=api_listening || ! kill -0 $FO_PID' || fail "failoverd did not listen"
	fo_log_has 'event=api_listening' && break
	fo_kill9
	PORT=
done
[ -n "$PORT" ] || fail "could not start failoverd with a listener"
chmod 0644 "$FO/failoverd.conf"
fo_wait 5 fo_dig_is "$W" CNAME app1.example.net. || fail "never published app1"

ctl() { "$FAILOVERCTL" -c "$FO/failoverd.conf" "$@" 2>&1 </dev/null; }
nb() { setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$FAILOVERCTL" -c "$FO/failoverd.conf" "$@" 2>&1 </dev/null; }

# What nobody may not read.
for f in "$NAMED_KEYFILE" "$FO/token" "$FO/state"; do
	setpriv --reuid=nobody --regid=nogroup --clear-groups -- test -r "$f" &&
		fail "nobody can read $f: the test proves nothing"
done

# ---- the daemon running: nobody's answer is root's ----
for s in app1 app2; do
	want=$(ctl failover-status "$s") || fail "root: failover-status $s: $want"
	got=$(nb failover-status "$s") || fail "nobody: failover-status $s: $got"
	[ "$got" = "$want" ] || fail "nobody: $s is '$got', root says '$want'"
done
[ "$(nb failover-status app1)" = online ] || fail "app1 not online for nobody"
[ "$(nb failover-status app2)" = offline ] || fail "app2 not offline for nobody"
out=$(nb failover-status nosuch) && fail "unknown stack accepted: $out"
grep -q 'unknown stack nosuch' <<<"$out" || fail "unknown stack: $out"
echo "ok: failover-status as nobody"

# ---- the daemon stopped: one line saying why ----
fo_stop || fail "stop"
out=$(nb failover-status app1) && fail "answered with no daemon: $out"
[ "$(wc -l <<<"$out")" = 1 ] || fail "not one line: $out"
grep -q 'cannot read the state .* nor ask failoverd' <<<"$out" || fail "no reason: $out"
[ "$(ctl failover-status app1)" = online ] || fail "root reads the state: $(ctl failover-status app1)"
echo ok
