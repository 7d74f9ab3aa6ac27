#!/bin/bash
# The named harness: a TSIG-signed update with nsupdate, read back with dig;
# a restart keeps the update (journal); named is gone after named_stop.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
command -v named >/dev/null 2>&1 || [ -x /usr/sbin/named ] || { echo "no named"; exit 77; }
. "$TOP/tests/lib/named.sh"

tmp=$(mktemp -d /tmp/test_named_harness.XXXXXX)
named_trap_add "rm -rf '$tmp'"
fail() { echo "FAIL: $*"; exit 1; }

named_start "$tmp/named" || fail "named_start"
echo "named pid=$NAMED_PID port=$NAMED_PORT zone=$NAMED_ZONE"
[ "$(stat -c %a "$NAMED_KEYFILE")" = 600 ] || fail "key file mode"
# The fixture is our own child.
[ "$(awk '{print $4}' /proc/$NAMED_PID/stat)" = $$ ] || fail "named is not our child"

nsupdate -k "$NAMED_KEYFILE" <<EOF || fail "nsupdate"
server 127.0.0.1 $NAMED_PORT
zone $NAMED_ZONE
update delete www.$NAMED_ZONE CNAME
update add www.$NAMED_ZONE 60 CNAME app1.example.net.
send
EOF
got=$(dig +norec +short -p "$NAMED_PORT" @127.0.0.1 "www.$NAMED_ZONE" CNAME)
[ "$got" = "app1.example.net." ] || fail "dig read back '$got'"

# Unsigned update refused.
nsupdate <<EOF >/dev/null 2>&1 && fail "unsigned update accepted"
server 127.0.0.1 $NAMED_PORT
zone $NAMED_ZONE
update add x.$NAMED_ZONE 60 A 192.0.2.1
send
EOF

port=$NAMED_PORT
named_restart || fail "restart"
[ "$NAMED_PORT" = "$port" ] || fail "port changed"
got=$(dig +norec +short -p "$NAMED_PORT" @127.0.0.1 "www.$NAMED_ZONE" CNAME)
[ "$got" = "app1.example.net." ] || fail "journal lost across restart: '$got'"

pid=$NAMED_PID
named_stop
[ -d /proc/$pid ] && fail "named $pid still there"
echo "ok"
