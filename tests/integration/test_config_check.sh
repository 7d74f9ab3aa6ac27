#!/bin/bash
# failoverd -t end to end: the shipped example passes (its /etc/failoverd
# paths rewritten into a temporary directory holding a real tsig-keygen key
# and stub hooks), bad files exit 1 with every error on its line, and
# failoverd.conf(5) and the example document every key of the grammar
# (listed by tests/integration/cfgkeys).
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
FAILOVERD=${FAILOVERD:-$TOP/$BUILD/failoverd}
TOOLS=${TOOLS:-$TOP/$BUILD/tests/integration}
[ -x "$FAILOVERD" ] || { echo "no $FAILOVERD"; exit 1; }
[ -x "$TOOLS/cfgkeys" ] || { echo "no $TOOLS/cfgkeys"; exit 1; }

tmp=$(mktemp -d /tmp/test_config_check.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }

# check NAME WANT_RC FILE: run failoverd -t -c FILE, output in $tmp/NAME.
check() {
	local name=$1 want=$2 file=$3 rc
	timeout -k 5 30 "$FAILOVERD" -t -c "$file" >"$tmp/$name.out" \
	    2>"$tmp/$name.err"
	rc=$?
	if [ "$rc" = "$want" ]; then ok "$name: exit $rc"; else
		fail "$name: exit $rc, want $want"
		sed 's/^/    | /' "$tmp/$name.out" "$tmp/$name.err" | head -30
	fi
}
# has NAME STREAM TEXT: a line of the output equals TEXT exactly.
has() {
	if grep -Fxq -- "$3" "$tmp/$1.$2"; then ok "$1: $3"; else
		fail "$1: no line '$3'"
		sed 's/^/    | /' "$tmp/$1.$2" | head -30
	fi
}
# lines NAME N: stderr of NAME has exactly N lines.
lines() {
	local n
	n=$(wc -l <"$tmp/$1.err")
	if [ "$n" = "$2" ]; then ok "$1: $2 error lines"; else
		fail "$1: $n error lines, want $2"
		sed 's/^/    | /' "$tmp/$1.err" | head -30
	fi
}

# The example, with /etc/failoverd/ moved into $tmp.
etc=$tmp/etc/failoverd
mkdir -p "$etc/hooks"
if command -v tsig-keygen >/dev/null; then
	tsig-keygen -a hmac-sha256 failoverd >"$etc/tsig.key"
else
	printf 'key "failoverd" {\n\talgorithm hmac-sha256;\n\tsecret "%s";\n};\n' \
	    c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTAxMjM= >"$etc/tsig.key"
fi
chmod 600 "$etc/tsig.key"
head -c 32 /dev/urandom | base64 >"$etc/api.token"
chmod 600 "$etc/api.token"
for h in maintenance database notify; do
	printf '#!/bin/sh\nexit 0\n' >"$etc/hooks/$h"
	chmod 755 "$etc/hooks/$h"
done
example=$TOP/config/failoverd.conf.example
sed "s|/etc/failoverd/|$etc/|g" "$example" >"$tmp/example.conf"
# lineof REGEX [N]: the line number of the Nth line of the example matching.
lineof() { grep -n -E -- "$1" "$example" | sed -n "${2:-1}p" | cut -d: -f1; }
check example 0 "$tmp/example.conf"
has example out "configuration ok"
lines example 0

# The contract's own example (DESIGN.md, "Configuration"), with its files
# made: timeout = 2s with interval = 1s is HAProxy's semantics, not an
# error.  Its source_address must be an address of this host: 127.0.0.1
# stands in for it.
sed -e "s|/etc/failoverd/|$etc/|g" -e "s|= 192.0.2.100 |= 127.0.0.1 |" \
    >"$tmp/design.conf" <<'CONF'
[controller]
state_dir       = /var/lib/failoverd        ; LMDB environment, created 0700
listen          = 127.0.0.1:8053            ; HTTP API and /metrics; off to disable
api_token_file  = /etc/failoverd/api.token  ; bearer token for every POST
witness         = http://192.0.2.53/ping    ; optional, may repeat
isolation_check = yes
request_ttl     = 5m                        ; a switch or rearm request not taken by then expires
api_max_connections = 64
source_address  = 192.0.2.100               ; optional: the local address probes are sent from

[cluster]
etcd            = http://10.0.0.5:2379      ; may repeat: the etcd cluster's client URLs
member          = ctl-a                     ; this member's name, unique in the cluster
prefix          = /failoverd/               ; key prefix in etcd
lease_ttl       = 10s                       ; leadership lease
quorum          = majority                  ; members that must see a stack down: majority, all, or a number
advertise       = http://10.0.0.11:8053     ; where failoverctl and the dashboard reach this member (optional)

[dns]
server          = 192.0.2.2:53              ; may repeat; tried in order
zone            = failover.example.net
key_file        = /etc/failoverd/tsig.key
timeout         = 2s
verify_interval = 60s
confirm         = 192.0.2.3:53              ; optional, may repeat; default: the zone's NS set

[stack app1]
web_head        = app1-lb.example.net       ; or: 192.0.2.10 2001:db8::10
health_url      = http://192.0.2.10/health
health_host     = www.example.com           ; Host header, optional
expect_status   = 200-399
standby_expect_status = 200-399,503         ; while not active (maintenance page)
expect_body     = OK                        ; optional substring
interval        = 1s
fastinter       = 200ms
downinter       = 5s
timeout         = 2s
rise            = 3
fall            = 3
tls_verify      = yes
maintenance_on  = /etc/failoverd/hooks/maintenance on
maintenance_off = /etc/failoverd/hooks/maintenance off
replication_off = /etc/failoverd/hooks/database replication-off
promote         = /etc/failoverd/hooks/database promote
precheck        = /etc/failoverd/hooks/database lag-ok   ; optional gate, run on the standby
hook_timeout    = 60s

[stack app2]
web_head        = 192.0.2.20 2001:db8::20
health_url      = http://192.0.2.20/health
standby_expect_status = 200-399,503
replication_off = /etc/failoverd/hooks/database replication-off
promote         = /etc/failoverd/hooks/database promote
maintenance_off = /etc/failoverd/hooks/maintenance off

[group www]
address          = www                      ; label in the zone, FQDN, or auto
primary          = app1
backup           = app2                     ; optional
ttl              = 60s
suspect_ttl      = 5s                       ; TTL while the active stack is suspect
auto_failover    = yes
hold_down        = 10m
adopt            = no                       ; take over an existing record not marked as ours
on_status_change = /etc/failoverd/hooks/notify   ; optional
restore_on_abort = yes                      ; maintenance_off on the old stack after an aborted sequence
CONF
check design 0 "$tmp/design.conf"
has design out "configuration ok"
lines design 0

# The same, unmodified, fails only because /etc/failoverd is not there
# (or passes, on a machine where it is).
if [ ! -e /etc/failoverd ]; then
	check example-asis 1 "$example"
	has example-asis err "$example:$(lineof ^api_token_file): api_token_file: /etc/failoverd/api.token: No such file or directory"
fi

# The key file's mode.
chmod 644 "$etc/tsig.key"
check keymode 1 "$tmp/example.conf"
has keymode err "$tmp/example.conf:$(lineof ^key_file): key_file: $etc/tsig.key is readable by group or others (mode 0644); chmod 600 it"
lines keymode 1
chmod 600 "$etc/tsig.key"

# A refused algorithm, from a real tsig-keygen.
if command -v tsig-keygen >/dev/null; then
	tsig-keygen -a hmac-md5 old >"$tmp/md5.key" 2>/dev/null
	chmod 600 "$tmp/md5.key"
	sed "s|^key_file .*|key_file = $tmp/md5.key|" "$tmp/example.conf" \
	    >"$tmp/md5.conf"
	check md5 1 "$tmp/md5.conf"
	has md5 err "$tmp/md5.conf:$(lineof ^key_file): key_file: $tmp/md5.key:2: TSIG algorithm 'hmac-md5' is not supported (accepted: hmac-sha256, hmac-sha1 or hmac-sha512)"
fi

# A hook writable by others, and one that is not executable.
chmod 757 "$etc/hooks/database"
chmod 644 "$etc/hooks/notify"
check hooks 1 "$tmp/example.conf"
has hooks err "$tmp/example.conf:$(lineof ^replication_off): replication_off: $etc/hooks/database is writable by others (mode 0757); chmod go-w it"
has hooks err "$tmp/example.conf:$(lineof ^on_status_change): on_status_change: $etc/hooks/notify is not executable (mode 0644)"
lines hooks 7	# replication_off, promote, precheck twice; notify
chmod 755 "$etc/hooks/database" "$etc/hooks/notify"

# Many errors at once: each reported, in line order, exit 1.
cat >"$tmp/bad.conf" <<EOF
[controller]
listen = localhost
[dns]
server = 127.0.0.1:53
zone = failover..example.net
key_file = $etc/tsig.key
[stack app1]
web_head = app1.example.net
health_url = ftp://192.0.2.1/
interval = 1s
timeout = 1s
fastinter = 2s
promote = hooks/promote
[stack app1]
[group www]
address = www
primary = app2
backup = app2
[group other]
address = www.elsewhere.net
[nonsense]
oops
EOF
check bad 1 "$tmp/bad.conf"
B=$tmp/bad.conf
has bad err "$B:2: listen: 'localhost': expected ADDRESS[:PORT] with a numeric IPv4 or [IPv6] address, or off"
has bad err "$B:5: zone: 'failover..example.net' has an empty label"
has bad err "$B:9: health_url: 'ftp' is not http or https: expected an http:// or https:// URL"
# timeout >= interval is HAProxy's semantics, not an error.
grep -q ": timeout: " "$tmp/bad.err" && fail "timeout >= interval refused"
has bad err "$B:12: fastinter: fastinter (2s) must not be longer than interval (1s)"
has bad err "$B:13: promote: 'hooks/promote' is not an absolute path: a hook is run without a shell or PATH search"
has bad err "$B:14: [stack app1]: duplicate stack (first defined at line 7)"
has bad err "$B:17: primary: no [stack app2] is defined"
has bad err "$B:18: backup: no [stack app2] is defined"
has bad err "$B:18: backup: the same stack as primary (app2)"
has bad err "$B:21: [nonsense]: unknown section (expected [controller], [dns], [cluster], [stack NAME] or [group NAME])"
has bad err "$B:22: oops: syntax error: expected 'key = value', '[section]' or a comment"
lines bad 11
if [ -s "$tmp/bad.out" ]; then fail "bad: wrote to stdout"; else ok "bad: nothing on stdout"; fi
sort -t: -k2,2n -s "$tmp/bad.err" | cmp -s - "$tmp/bad.err" &&
    ok "bad: errors in line order" || fail "bad: errors not in line order"

# A zone error leaves the group addresses unchecked rather than wrong:
# fix it and the out-of-zone address shows.
sed 's/failover\.\.example/failover.example/' "$B" >"$tmp/bad2.conf"
check bad2 1 "$tmp/bad2.conf"
has bad2 err "$tmp/bad2.conf:20: address: www.elsewhere.net. is not inside zone failover.example.net. (give a label, or a name ending in the zone)"

# [cluster] and source_address: each error on its line, nothing else.
cat >"$tmp/cluster.conf" <<EOF
[controller]
listen = off
source_address = 198.51.100.77
[cluster]
etcd = http://127.0.0.1:2379/v3
etcd = http://127.0.0.1:2380
etcd = http://127.0.0.1:2380/
lease_ttl = 1500ms
quorum = most
advertise = http://127.0.0.1:8053
[dns]
server = 127.0.0.1:53
zone = failover.example.net
key_file = $etc/tsig.key
EOF
check cluster 1 "$tmp/cluster.conf"
C=$tmp/cluster.conf
has cluster err "$C:3: source_address: 198.51.100.77 is not an address of this host (probes could not be sent from it)"
has cluster err "$C:4: member: required key is missing from [cluster]"
has cluster err "$C:5: etcd: 'http://127.0.0.1:2379/v3': expected http://HOST:PORT, with no path (the etcd client URL, as etcd's --advertise-client-urls gives it)"
has cluster err "$C:7: etcd: http://127.0.0.1:2380 is listed twice"
has cluster err "$C:8: lease_ttl: 1500ms is not a whole number of seconds (etcd grants leases in seconds)"
has cluster err "$C:9: quorum: 'most': expected majority, all, or a number of members from 1 to 64"
has cluster err "$C:10: advertise: [controller] listen is off: there is no API to reach at http://127.0.0.1:8053"
lines cluster 7
# Fixed, it passes.
sed -e 's/^source_address = .*/source_address = 127.0.0.12/' \
    -e 's|^etcd = http://127.0.0.1:2379/v3|etcd = http://127.0.0.1:2379|' \
    -e '/^etcd = http:\/\/127.0.0.1:2380\/$/d' -e 's/^lease_ttl = .*/lease_ttl = 2s/' \
    -e 's/^quorum = .*/quorum = 2\nmember = ctl-b/' -e '/^advertise/d' \
    "$C" >"$tmp/cluster2.conf"
check cluster2 0 "$tmp/cluster2.conf"
has cluster2 out "configuration ok"

# Missing file.
check missing 1 "$tmp/absent.conf"
has missing err "$tmp/absent.conf: open: No such file or directory"

# Every key is documented in the man page (under its section) and shown in
# the example.
man=$TOP/docs/failoverd.conf.5
"$TOOLS/cfgkeys" >"$tmp/keys" || fail "cfgkeys failed"
nkeys=$(wc -l <"$tmp/keys")
[ "$nkeys" -ge 40 ] && ok "cfgkeys: $nkeys keys" || fail "cfgkeys: only $nkeys keys"
awk '/^\.Ss \[(controller|dns|cluster|stack|group)/ {
	s = $2; gsub(/[^a-z]/, "", s); next }
    /^\.Sh/ { s = "" }
    /^\.It Cm / && s != "" { print s, $3 }' "$man" | sort >"$tmp/documented"
sort "$tmp/keys" >"$tmp/keys.sorted"
missing=$(comm -23 "$tmp/keys.sorted" "$tmp/documented")
extra=$(comm -13 "$tmp/keys.sorted" "$tmp/documented")
if [ -z "$missing" ]; then ok "man page documents every key"; else
	fail "keys not documented in $man: $(echo $missing)"
fi
if [ -z "$extra" ]; then ok "man page documents no unknown key"; else
	fail "man page documents keys the parser does not know: $(echo $extra)"
fi
awk '/^;?\[(controller|dns|cluster|stack|group)/ { s = $1; gsub(/[^a-z]/, "", s) }
    /^;?[a-z_]+ *=/ { k = $1; sub(/^;/, "", k); sub(/=.*/, "", k); print s, k }' \
    "$example" | sort -u >"$tmp/shown"
missing=$(comm -23 "$tmp/keys.sorted" "$tmp/shown")
if [ -z "$missing" ]; then ok "example shows every key"; else
	fail "keys missing from the example: $(echo $missing)"
fi

# The man page renders without warnings.
if command -v groff >/dev/null; then
	warn=$(groff -mandoc -ww -z "$man" 2>&1)
	[ -z "$warn" ] && ok "man page renders cleanly" ||
	    fail "groff warnings: $warn"
	if LC_ALL=C man -l "$man" 2>/dev/null | grep -q 'TSIG KEYS'; then
		ok "man -l renders it"
	else
		fail "man -l failed"
	fi
fi

echo "$failures failure(s)"
[ "$failures" = 0 ]
