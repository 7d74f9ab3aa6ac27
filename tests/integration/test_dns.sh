#!/bin/bash
# dnsupdate/ against a real named, through dnstool: flips, read-back with dig
# and with our code, errors by name, prerequisites, coalescing and split,
# server down then back, drift detected and repaired, ownership.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
TOOLS=${TOOLS:-$TOP/build/tests/integration}
[ -x /usr/sbin/named ] || { echo "no named"; exit 77; }
[ -x "$TOOLS/dnstool" ] || { echo "no $TOOLS/dnstool"; exit 1; }
. "$TOP/tests/lib/named.sh"

tmp=$(mktemp -d /tmp/test_dns.XXXXXX)
named_trap_add "rm -rf '$tmp'"
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

named_start "$tmp/named" || { echo "named_start failed"; exit 1; }
Z=$NAMED_ZONE
S=127.0.0.1#$NAMED_PORT
dt() { "$TOOLS/dnstool" -s "$S" -z "$Z" -k "$NAMED_KEYFILE" -t 300 -r 0 "$@"; }
dg() { dig +norec +short -p "$NAMED_PORT" @127.0.0.1 "$@" | sort | tr '\n' ' ' | sed 's/ $//'; }
expect() {	# what want-regex command...
	local what=$1 re=$2 out; shift 2
	out=$("$@" 2>&1)
	if [[ $out =~ Sanitizer|runtime\ error ]]; then
		fail "$what: sanitizer: $out"
	elif [[ $out =~ $re ]]; then ok "$what"; else fail "$what: got: $out"; fi
}

# Flips, each with the compare-and-swap prerequisite after the first.
expect "first publication CNAME" 'result=NOERROR' \
    dt update "www.$Z" app1.example.net. --empty
[ "$(dg "www.$Z" CNAME)" = app1.example.net. ] && ok "dig CNAME" || fail "dig CNAME: $(dg "www.$Z" CNAME)"
expect "flip CNAME->CNAME" 'result=NOERROR' \
    dt update "www.$Z" app2.example.net. --prev app1.example.net.
[ "$(dg "www.$Z" CNAME)" = app2.example.net. ] && ok "dig CNAME 2" || fail "dig CNAME 2"
expect "flip CNAME->A/AAAA" 'result=NOERROR' \
    dt update "www.$Z" "192.0.2.10 2001:db8::10" --prev app2.example.net.
[ "$(dg "www.$Z" A)" = 192.0.2.10 ] && [ "$(dg "www.$Z" AAAA)" = 2001:db8::10 ] &&
    [ -z "$(dg "www.$Z" CNAME)" ] && ok "dig A/AAAA" || fail "dig A/AAAA"
expect "read back A/AAAA" 'rrset="A 192.0.2.10 AAAA 2001:db8::10" ttl=60' \
    dt readback "www.$Z"
expect "flip A->CNAME" 'result=NOERROR' \
    dt update "www.$Z" app1.example.net. --prev "192.0.2.10 2001:db8::10"
[ "$(dg "www.$Z" CNAME)" = app1.example.net. ] &&
    [ "$(dg "www.$Z" A)" = app1.example.net. ] &&
    [ "$(dg "www.$Z" AAAA)" = app1.example.net. ] &&
    ok "dig CNAME 3" || fail "dig CNAME 3"
expect "read back CNAME" 'rrset="CNAME app1.example.net."' dt readback "www.$Z"
expect "verify in sync" 'in_sync=yes' dt verify "www.$Z" app1.example.net.
expect "TCP" 'result=NOERROR' dt -T update "www.$Z" app1.example.net. \
    --prev app1.example.net.
expect "hmac-sha1" 'result=NOERROR' "$TOOLS/dnstool" -s "$S" -z "$Z" \
    -k "$NAMED_KEYFILE_SHA1" update "sha.$Z" 192.0.2.1
expect "hmac-sha512" 'result=NOERROR' "$TOOLS/dnstool" -s "$S" -z "$Z" \
    -k "$NAMED_KEYFILE_SHA512" update "sha.$Z" 192.0.2.2

# Errors by name.
expect "wrong secret" 'result=BADSIG' dt \
    -k "hmac-sha256:$NAMED_KEYNAME:Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmE=" \
    update "www.$Z" app9.example.net.
expect "unknown key" 'result=BADKEY' dt \
    -k "hmac-sha256:nosuchkey:Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmE=" \
    update "www.$Z" app9.example.net.
expect "zone not served" 'result=NOTAUTH' dt -z not-served.test. \
    update www.not-served.test. app9.example.net.
expect "name outside the zone" 'result=NOTZONE' dt update www.example.com. \
    app9.example.net.
expect "key without rights" 'result=REFUSED' "$TOOLS/dnstool" -s "$S" -z "$Z" \
    -k "$NAMED_KEYFILE_NOGRANT" -t 300 -r 0 update "www.$Z" app9.example.net.
[ "$(dg "www.$Z" CNAME)" = app1.example.net. ] && ok "nothing changed" || fail "changed by a refused update"

expect "answer outside the fudge" 'result=BADTIME.*from the local clock' \
    dt -S 1000 update "www.$Z" app1.example.net.

# An answer larger than 512 bytes (a long TXT at _failoverd.big, put there
# by hand): truncated over UDP, read again over TCP.
long=$(printf 'x%.0s' $(seq 1 200))
nsupdate -k "$NAMED_KEYFILE" <<EOF || fail "nsupdate long TXT"
server 127.0.0.1 $NAMED_PORT
zone $Z
update add _failoverd.big.$Z 60 TXT "$long" "$long" "$long"
send
EOF
expect "read back through TC and TCP" 'owner="x{200}.* tcp=[1-9]' \
    dt readback "big.$Z"

# Prerequisites.
expect "lost compare-and-swap" 'result=NXRRSET' \
    dt update "www.$Z" app3.example.net. --prev app2.example.net.
expect "rrset must not exist" 'result=YXRRSET' \
    dt update "www.$Z" app3.example.net. --prev none
expect "name must not exist" 'result=YXDOMAIN' \
    dt update "www.$Z" app3.example.net. --empty

# Coalescing: 200 updates, few messages; one bad member is split out.
expect "200 concurrent" 'many ok=200 failed=0 messages=[1-9] ' dt many 200 bulk 192.0.2.7
[ "$(dg "bulk-199.$Z" A)" = 192.0.2.7 ] && ok "dig bulk-199" || fail "dig bulk-199"
out=$(dt multi "m1.$Z|192.0.2.1" "m2.$Z|192.0.2.2|198.51.100.1" "m3.$Z|192.0.2.3")
echo "$out"
[[ $(grep "name=m1" <<<"$out") =~ result=NOERROR ]] &&
[[ $(grep "name=m2" <<<"$out") =~ result=NXRRSET ]] &&
[[ $(grep "name=m3" <<<"$out") =~ result=NOERROR ]] &&
[ "$(dg "m3.$Z" A)" = 192.0.2.3 ] && ok "bad member split out" || fail "split"

# Drift: changed by hand, detected, repaired.
nsupdate -k "$NAMED_KEYFILE" <<EOF || fail "nsupdate by hand"
server 127.0.0.1 $NAMED_PORT
zone $Z
update delete www.$Z CNAME
update add www.$Z 60 A 203.0.113.66
send
EOF
expect "drift detected" 'in_sync=no drift="want CNAME app1.example.net. found A 203.0.113.66"' \
    dt verify "www.$Z" app1.example.net.
expect "drift repaired" 'repair result=NOERROR' dt repair "www.$Z" app1.example.net.
expect "in sync after repair" 'in_sync=yes' dt verify "www.$Z" app1.example.net.
[ "$(dg "www.$Z" CNAME)" = app1.example.net. ] && ok "dig after repair" || fail "dig after repair"

# Ownership.
expect "publish a free name" 'owner result=NOERROR verdict=free.*update result=NOERROR' \
    dt publish "api.$Z" app1.example.net. --owner c1 api
[ "$(dg "_failoverd.api.$Z" TXT)" = '"failoverd controller=c1 group=api"' ] &&
    ok "ownership TXT published" || fail "TXT: $(dg "_failoverd.api.$Z" TXT)"
expect "publish our own name again" 'verdict=ours.*update result=NOERROR' \
    dt publish "api.$Z" app2.example.net. --owner c1 api
expect "refuse a name without TXT" 'owner result=not_owner.*holds CNAME app1.example.net. and has no _failoverd' \
    dt publish "www.$Z" app2.example.net. --owner c1 www
expect "refuse another controller's name" 'not_owner.*controller=c1 group=api' \
    dt publish "api.$Z" app2.example.net. --owner c2 api
expect "adopt" 'update result=NOERROR' \
    dt publish "www.$Z" app2.example.net. --owner c1 www --adopt
[ "$(dg "_failoverd.www.$Z" TXT)" = '"failoverd controller=c1 group=www"' ] &&
    ok "adopted TXT" || fail "adopted TXT"

# Confirmation: explicit servers, and the zone's NS set.
expect "confirm at server" 'confirm result=NOERROR .*nserver=1 nlag=0' \
    dt confirm "www.$Z" app2.example.net. --at "$S"
expect "confirm via NS set" "confirm result=NOERROR servers=\"127.0.0.1#$NAMED_PORT\"" \
    dt confirm "www.$Z" app2.example.net. --ns-port "$NAMED_PORT"
expect "confirm lag reported" 'confirm result=timeout .*nlag=1 .*want CNAME app3.example.net. found CNAME app2.example.net.' \
    dt confirm "www.$Z" app3.example.net. --at "$S" --bound 200

# Server stopped: an error by name at once; then back.
named_stop
expect "server down" 'result=(network_error|timeout)' \
    dt update "www.$Z" app1.example.net.
named_restart || { fail "restart"; exit 1; }
expect "after restart" 'result=NOERROR' dt update "www.$Z" app1.example.net. \
    --prev app2.example.net.
expect "journal kept" 'rrset="CNAME app1.example.net."' dt readback "www.$Z"

echo "$fails failure(s)"
[ $fails = 0 ]
