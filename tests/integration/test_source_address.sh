#!/bin/bash
# [controller] source_address: every check (stacks and witnesses) leaves
# from that local address, and so follows that vantage point's path.  The
# web heads print each request's client address; 127.0.0.11 is on lo
# without any setup on Linux.  A web head that fails only the requests
# from 127.0.0.11 is down for this controller, from there only; a reload
# to another source address moves the checks there.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/fo.sh"

fo_init
fo_webhead wit 0 -v
fo_webhead app1 0 -v
fo_webhead app2 0 -v
fo_maint app2 on
fo_hooks
FO_CTL_EXTRA="source_address = 127.0.0.11
witness = http://127.0.0.1:$WH_PORT_wit/ping"
fo_conf
"$FAILOVERD" -t -c "$FO/failoverd.conf" >/dev/null ||
    fail "config check: $("$FAILOVERD" -t -c "$FO/failoverd.conf" 2>&1)"
W=www.$NAMED_ZONE
fo_start
fo_wait 5 fo_dig_is "$W" CNAME app1.example.net. || fail "not published"
fo_wait 5 fo_log_has 'event=health_change stack=app2 from=unknown to=up' || fail "app2 never up"

from_only() {	# web head, address: it has seen requests, all from there
	grep -q "^request n=.* from=$2\$" "$FO/wh-$1.out" &&
	    ! grep "^request n=" "$FO/wh-$1.out" | grep -vq " from=$2\$"
}
for h in app1 app2 wit; do
	fo_wait 5 grep -q "^request n=" "$FO/wh-$h.out" || fail "$h never probed"
	from_only "$h" 127.0.0.11 ||
	    fail "$h saw checks from elsewhere: $(grep -v 'from=127.0.0.11$' "$FO/wh-$h.out" | head -3)"
done

# Broken from this vantage point only: the controller sees app1 down.
touch "$FO/wh-app1/fail.127.0.0.12"
sleep 1
fo_log_has 'event=health_change stack=app1 from=up to=down' &&
    fail "app1 down although only 127.0.0.12's requests fail"
touch "$FO/wh-app1/fail.127.0.0.11"
fo_wait 5 fo_log_has 'event=health_change stack=app1 from=up to=down' ||
    fail "app1 not seen down from 127.0.0.11"
fo_wait 10 fo_dig_is "$W" A 127.0.0.2 || fail "no failover"

# A reload to another source address moves every check there.
sed -i 's/^source_address = .*/source_address = 127.0.0.12/' "$FO/failoverd.conf"
for h in app1 app2; do : >"$FO/wh-$h.out"; done
kill -HUP "$FO_PID"
fo_wait 5 fo_log_has 'event=reloaded' || fail "no reload"
for h in app1 app2; do
	fo_wait 5 grep -q "from=127.0.0.12\$" "$FO/wh-$h.out" || fail "$h not probed from 127.0.0.12 after the reload"
done
sleep 0.5
for h in app1 app2; do : >"$FO/wh-$h.out"; done
sleep 1
for h in app1 app2; do
	from_only "$h" 127.0.0.12 || fail "$h still probed from elsewhere after the reload: $(head -3 "$FO/wh-$h.out")"
done
fo_stop || fail "stop"
echo ok
