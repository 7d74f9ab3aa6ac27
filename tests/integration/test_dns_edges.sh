#!/bin/bash
# test: alone (the flip's latency is bounded)
# dnsupdate/ at the protocol edges a real authoritative setup shows: a
# second writer refused by named itself (the ownership TXT is a
# prerequisite of every UPDATE), an answer lost after the server applied
# the UPDATE, names that hold other types, several ownership records,
# servers that answer REFUSED/SERVFAIL/NOTIMP/NOTAUTH, drop UDP, answer
# without AA or only signed queries, a long retry schedule (every try signed
# anew), whole-message errors on a batch, an UPDATE among 1,024 unanswered
# queries, and confirmation on an NS set that does not all resolve.
# Real named where named shows the behaviour; fakedns (alone, or relaying
# to named) for what named will not do.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
TOOLS=${TOOLS:-$TOP/build/tests/integration}
[ -x /usr/sbin/named ] || { echo "no named"; exit 77; }
[ -x "$TOOLS/dnstool" ] && [ -x "$TOOLS/fakedns" ] || { echo "tools missing"; exit 1; }
. "$TOP/tests/lib/named.sh"

tmp=$(mktemp -d /tmp/test_dns_edges.XXXXXX)
fpids=()
_stop_fakes() {
	local p
	for p in "${fpids[@]}"; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	fpids=()
}
named_trap_add "_stop_fakes; rm -rf '$tmp'"
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
expect() {	# what want-regex command...
	local what=$1 re=$2 out; shift 2
	out=$("$@" 2>&1)
	if [[ $out =~ Sanitizer|runtime\ error ]]; then
		fail "$what: sanitizer: $out"
	elif [[ $out =~ $re ]]; then ok "$what"; else fail "$what: got: $out"; fi
}

# fake MODE [UPSTREAM_PORT]: start fakedns, its port in FPORT.
fake() {
	local pf=$tmp/fake.$RANDOM.port
	"$TOOLS/fakedns" -k "$NAMED_KEYFILE" -p "$pf" -m "$1" ${2:+-u "$2"} &
	fpids+=($!)
	for ((i = 0; i < 100; i++)); do [ -s "$pf" ] && break; sleep 0.02; done
	FPORT=$(cat "$pf" 2>/dev/null)
	[ -n "$FPORT" ] || { echo "fakedns $1 did not start"; exit 1; }
}

named_start "$tmp/named" || { echo "named_start failed"; exit 1; }
Z=$NAMED_ZONE
S=127.0.0.1#$NAMED_PORT
dt() { "$TOOLS/dnstool" -s "$S" -z "$Z" -k "$NAMED_KEYFILE" -t 300 -r 0 "$@"; }
dt2() { "$TOOLS/dnstool" -s "$S" -z "$Z" -k "$NAMED_KEYFILE2" -t 300 -r 0 "$@"; }
dg() { dig +norec +short -p "$NAMED_PORT" @127.0.0.1 "$@" | sort | tr '\n' ' ' | sed 's/ $//'; }
nsu() {
	{ echo "server 127.0.0.1 $NAMED_PORT"; echo "zone $Z"; cat; echo send; } |
	    nsupdate -k "$NAMED_KEYFILE" || fail "nsupdate"
}

# 1. Two controllers on one zone.  c1 publishes api, c2 (its own key)
# adopts it; c1 then sends what its daemon sends for a flip (the record it
# published as the compare-and-swap, its own TXT): named refuses it, because
# the TXT it requires is no longer there.
expect "c1 publishes api" 'update result=NOERROR' \
    dt publish "api.$Z" app1.example.net. --owner c1 api
expect "c2 adopts api" 'update result=NOERROR' \
    dt2 publish "api.$Z" app1.example.net. --owner c2 api --adopt
[ "$(dg "_failoverd.api.$Z" TXT)" = '"failoverd controller=c2 group=api"' ] &&
    ok "TXT is c2's" || fail "TXT after adoption: $(dg "_failoverd.api.$Z" TXT)"
nlog0=$(grep -c "prerequisite not satisfied" "$NAMED_LOG")
expect "c1's flip refused by named" 'result=NXRRSET' \
    dt update "api.$Z" app3.example.net. --prev app1.example.net. --owner c1 api
[ "$(dg "api.$Z" CNAME)" = app1.example.net. ] &&
    [ "$(dg "_failoverd.api.$Z" TXT)" = '"failoverd controller=c2 group=api"' ] &&
    ok "zone unchanged: c2's record and TXT" ||
    fail "zone after c1's flip: $(dg "api.$Z" CNAME) $(dg "_failoverd.api.$Z" TXT)"
grep "key $NAMED_KEYNAME:.*update unsuccessful: _failoverd.api.${Z%.}/TXT: 'RRset exists (value dependent)' prerequisite not satisfied (NXRRSET)" \
    "$NAMED_LOG" >/dev/null && [ "$(grep -c "prerequisite not satisfied" "$NAMED_LOG")" -gt "$nlog0" ] &&
    ok "named's log: c1's UPDATE refused on the TXT prerequisite" ||
    fail "named's log: $(grep -i unsuccessful "$NAMED_LOG" | tail -3)"
expect "c1 reads back: not ours" 'owner result=not_owner.*controller=c2' \
    dt publish "api.$Z" app3.example.net. --owner c1 api

# 2. The answer is lost after named applied the UPDATE: the retry fails its
# prerequisite, the read-back shows what was sent: success.
expect "publish lost" 'update result=NOERROR' \
    dt publish "lost.$Z" app1.example.net. --owner c1 lost
fake drop1 "$NAMED_PORT"
expect "lost answer, retry NXRRSET, read back: applied" 'result=NOERROR.*tries=2' \
    "$TOOLS/dnstool" -s "127.0.0.1#$FPORT" -z "$Z" -k "$NAMED_KEYFILE" -t 300 -r 1 \
    update "lost.$Z" app2.example.net. --prev app1.example.net. --owner c1 lost
[ "$(dg "lost.$Z" CNAME)" = app2.example.net. ] && ok "dig lost" || fail "dig lost: $(dg "lost.$Z" CNAME)"
# The same lost answer, but someone else wrote the name meanwhile: still a
# failure (what the name holds is not what was sent).
expect "a real lost compare-and-swap stays a failure" 'result=NXRRSET' \
    "$TOOLS/dnstool" -s "127.0.0.1#$FPORT" -z "$Z" -k "$NAMED_KEYFILE" -t 300 -r 1 \
    update "lost.$Z" app3.example.net. --prev app1.example.net. --owner c1 lost

# 2b. A flip never waits behind a TTL change of the same name (dnsup.h,
# supersede).  Queued together: the TTL change is cancelled, the flip goes
# alone.  In flight (its answer lost, retried 1 s later): the flip, with
# its compare-and-swap, goes at once beside it; the late TTL change then
# fails its prerequisite and cannot undo the flip.
expect "publish sup" 'update result=NOERROR' \
    dt publish "sup.$Z" app1.example.net. --owner c1 sup
expect "queued TTL change superseded" 'result=cancelled.*detail="superseded"' \
    dt multi "sup.$Z|app1.example.net.|app1.example.net." "sup.$Z|app2.example.net.|app1.example.net.|s"
[ "$(dg "sup.$Z" CNAME)" = app2.example.net. ] && ok "dig sup: the flip" || fail "dig sup: $(dg "sup.$Z" CNAME)"
_stop_fakes
fake dropfirst "$NAMED_PORT"
out=$("$TOOLS/dnstool" -s "127.0.0.1#$FPORT" -z "$Z" -k "$NAMED_KEYFILE" -t 1000 -r 1 \
    multi "sup.$Z|app2.example.net.|app2.example.net." "sup.$Z|app3.example.net.|app2.example.net.|sd50" 2>&1)
fl_us=$(echo "$out" | awk '/result=NOERROR/ { sub(/.*elapsed_us=/, ""); print $1 + 0; exit }')
if echo "$out" | grep -q 'result=NOERROR' && [ -n "$fl_us" ] && [ "$fl_us" -lt 300000 ] &&
    echo "$out" | grep -q 'result=NXRRSET'; then
	ok "in flight: the flip in ${fl_us} us, not behind the 1 s retry; the late TTL change refused"
else
	fail "in flight: $out"
fi
[ "$(dg "sup.$Z" CNAME)" = app3.example.net. ] && ok "dig sup: the flip stands" || fail "dig sup after the late TTL change: $(dg "sup.$Z" CNAME)"
_stop_fakes

# 3. A name that holds only other types is not free; one that holds only
# our TXT is ours, and its UPDATE still carries prerequisites.
nsu <<EOF
update add mx.$Z 60 MX 10 mail.example.net.
update add _failoverd.e2.$Z 60 TXT "failoverd controller=c1 group=e2"
EOF
expect "MX only: not ours" 'owner result=not_owner.*MX' \
    dt publish "mx.$Z" app1.example.net. --owner c1 mx
expect "MX only, adopt, CNAME: refused (a CNAME cannot sit beside MX)" 'owner result=cname_conflict.*MX' \
    dt publish "mx.$Z" app1.example.net. --owner c1 mx --adopt
expect "MX only, adopt, addresses: published" 'update result=NOERROR' \
    dt publish "mx.$Z" 192.0.2.5 --owner c1 mx --adopt
[ "$(dg "mx.$Z" MX)" = "10 mail.example.net." ] && [ "$(dg "mx.$Z" A)" = 192.0.2.5 ] &&
    ok "MX kept beside the A record" || fail "mx: $(dg "mx.$Z" ANY)"
expect "empty name with our TXT: prerequisites on the records and the TXT" \
    "sent nsupdate=.*prereq nxrrset e2.$Z CNAME.*prereq yxrrset _failoverd.e2.$Z IN TXT \"failoverd controller=c1 group=e2\".*update result=NOERROR" \
    dt publish "e2.$Z" app1.example.net. --owner c1 e2

# 4. Several TXT records at _failoverd: the same verdict whatever their
# order in the answer (named shuffles them).
nsu <<EOF
update add _failoverd.two.$Z 60 TXT "failoverd controller=c1 group=two"
update add _failoverd.two.$Z 60 TXT "failoverd controller=c9 group=two"
update add two.$Z 60 CNAME app1.example.net.
EOF
verdicts=
for i in 1 2 3 4 5 6 7 8 9 10; do
	v=$(dt publish "two.$Z" app2.example.net. --owner c1 two | sed -n 's/^owner result=\([a-z_A-Z]*\).*/\1/p')
	verdicts="$verdicts $v"
done
[[ $verdicts =~ ^(\ not_owner)+$ ]] && ok "two TXT: not ours, 10 times" || fail "two TXT verdicts:$verdicts"
[ "$(dg "two.$Z" CNAME)" = app1.example.net. ] && ok "two: untouched" || fail "two: $(dg "two.$Z" CNAME)"

# 5. The next server after a definite error from the first.
for m in refused servfail notimp notauth; do
	fake "$m"
	expect "first server $m, second named" "result=NOERROR server=127.0.0.1#$NAMED_PORT " \
	    "$TOOLS/dnstool" -s "127.0.0.1#$FPORT" -s "$S" -z "$Z" -k "$NAMED_KEYFILE" \
	    -t 300 -r 0 update "next.$Z" 192.0.2.8
	_stop_fakes
done

# Error numbers stay in the detail.
fake rcode12
expect "an rcode without a name keeps its number" 'result=other_rcode .*detail="[^"]*rcode 12' \
    "$TOOLS/dnstool" -s "127.0.0.1#$FPORT" -z "$Z" -k "$NAMED_KEYFILE" -t 300 -r 0 \
    update "num.$Z" 192.0.2.8
_stop_fakes
fake tsigerr20
expect "a TSIG error without a name keeps its number" 'result=bad_response .*detail="[^"]*TSIG error 20' \
    "$TOOLS/dnstool" -s "127.0.0.1#$FPORT" -z "$Z" -k "$NAMED_KEYFILE" -t 300 -r 0 \
    update "num.$Z" 192.0.2.8
_stop_fakes
fake tsigerr21
expect "BADALG by name and number" 'result=BADALG .*detail="[^"]*TSIG error BADALG \(21\)' \
    "$TOOLS/dnstool" -s "127.0.0.1#$FPORT" -z "$Z" -k "$NAMED_KEYFILE" -t 300 -r 0 \
    update "num.$Z" 192.0.2.8
_stop_fakes

# 6. A server that drops UDP: TCP after the UDP timeout; transport = tcp.
fake udpsilent "$NAMED_PORT"
expect "UDP dropped: TCP after the timeout" 'result=NOERROR.*tries=2' \
    "$TOOLS/dnstool" -s "127.0.0.1#$FPORT" -z "$Z" -k "$NAMED_KEYFILE" -t 300 -r 1 \
    update "udp.$Z" 192.0.2.9
expect "UDP dropped: read back over TCP" 'rrset="A 192.0.2.9"' \
    "$TOOLS/dnstool" -s "127.0.0.1#$FPORT" -z "$Z" -k "$NAMED_KEYFILE" -t 300 -r 1 \
    readback "udp.$Z"
expect "transport tcp" 'result=NOERROR.*tries=1' \
    "$TOOLS/dnstool" -s "127.0.0.1#$FPORT" -z "$Z" -k "$NAMED_KEYFILE" -t 300 -r 0 -T \
    update "udp.$Z" 192.0.2.10
_stop_fakes

# 6b. A query's datagram lost (a server's socket overflowed): sent again
# within the try, at the retransmission timeout (a few hundred ms), not
# after the whole timeout (here 3 s) and a retry over TCP.
fake qdrop1 "$NAMED_PORT"
out=$("$TOOLS/dnstool" -s "127.0.0.1#$FPORT" -z "$Z" -k "$NAMED_KEYFILE" -t 3000 -r 1 \
    readback "udp.$Z" 2>&1)
rb_us=$(echo "$out" | sed -n 's/^readback result=NOERROR.* elapsed_us=\([0-9]*\).*/\1/p')
if [ -n "$rb_us" ] && [ "$rb_us" -lt 1500000 ] && echo "$out" | grep -q 'rrset="A 192.0.2.10".* tcp=0 resent=[1-9]'; then
	ok "a lost query sent again: answered in ${rb_us} us over UDP"
else
	fail "a lost query: $out"
fi
# ... and fewer queries at once after it (32 at first, halved); with
# nothing lost, one more per answer.
echo "$out" | grep -q ' qwnd=16 ' && ok "queries in flight halved after a loss" ||
    fail "queries in flight after a loss: $out"
_stop_fakes
expect "queries in flight grow with answers" 'readback result=NOERROR .* resent=0 qwnd=3[3-9] ' \
    "$TOOLS/dnstool" -s "127.0.0.1#$NAMED_PORT" -z "$Z" -k "$NAMED_KEYFILE" -t 3000 -r 1 \
    readback "udp.$Z"

# 7. Queries: AA required; read-back queries to the servers are signed.
fake noaa
expect "an answer without AA is not \"none\"" 'readback result=not_authoritative' \
    "$TOOLS/dnstool" -s "127.0.0.1#$FPORT" -z "$Z" -k "$NAMED_KEYFILE" -t 300 -r 0 \
    readback "www.$Z"
_stop_fakes
fake noany
expect "ANY refused: the records asked type by type" 'readback result=NOERROR .*owner result=NOERROR verdict=free' \
    "$TOOLS/dnstool" -s "127.0.0.1#$FPORT" -z "$Z" -k "$NAMED_KEYFILE" -t 300 -r 0 \
    publish "any.$Z" 192.0.2.13 --owner c1 any
_stop_fakes
fake signedonly
expect "read-back queries are signed" 'readback result=NOERROR' \
    "$TOOLS/dnstool" -s "127.0.0.1#$FPORT" -z "$Z" -k "$NAMED_KEYFILE" -t 300 -r 0 \
    readback "www.$Z"
_stop_fakes

# 8. A long retry schedule: every try is signed anew.
fake resign
expect "every try signed anew" 'result=NOERROR.*tries=2' \
    "$TOOLS/dnstool" -s "127.0.0.1#$FPORT" -z "$Z" -k "$NAMED_KEYFILE" -t 1200 -r 1 \
    update "re.$Z" 192.0.2.11
_stop_fakes

# 9. A whole-message error is not split into one message per update.
expect "wrong key, 200 updates: no split" 'many ok=0 failed=200 messages=[1-5] .*split=0' \
    dt -k "hmac-sha256:nosuchkey:Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmE=" \
    many 200 wk 192.0.2.7

# 10. An UPDATE does not wait behind queries: 1,024 queries to a server
# that never answers (2 s timeout), then one flip.
fake silent
out=$("$TOOLS/dnstool" -s "$S" -z "$Z" -k "$NAMED_KEYFILE" -t 2000 -r 0 \
    loaded 1024 "127.0.0.1#$FPORT" "load.$Z" 192.0.2.12 2>&1)
us=$(sed -n 's/^update result=NOERROR .*elapsed_us=\([0-9]*\).*/\1/p' <<<"$out")
[ -n "$us" ] && [ "$us" -lt 500000 ] && ok "flip among 1,024 unanswered queries: $us us" ||
    fail "flip among unanswered queries: $out"
_stop_fakes

# 11. Confirmation on the NS set: a name server that does not resolve is
# not confirmed, even when every other one holds the record; and no name
# server is dropped past 8 names.
dt update "www.$Z" app1.example.net. >/dev/null
nsu <<EOF
update add $Z 60 NS ns.other.invalid.
EOF
out=$(dt confirm "www.$Z" app1.example.net. --ns-port "$NAMED_PORT" --bound 1500 2>&1)
echo "$out"
[[ ! $out =~ result=NOERROR ]] && [[ $out =~ lagging=\"ns.other.invalid.\ \(unresolved ]] &&
    [[ $out =~ servers=\"127.0.0.1#$NAMED_PORT\" ]] &&
    ok "unresolved name server beside one that holds the record: not confirmed" ||
    fail "unresolved NS: $out"
nsu <<EOF
$(for i in $(seq 1 19); do echo "update add $Z 60 NS ns$i.$Z"; echo "update add ns$i.$Z 60 A 127.0.1.$i"; done)
EOF
out=$(dt confirm "www.$Z" app1.example.net. --ns-port "$NAMED_PORT" --bound 1500 2>&1)
echo "$out"
[[ ! $out =~ result=NOERROR ]] && [[ $out =~ lagging=.*ns.other.invalid.\ \(unresolved ]] &&
    ok "unresolved name server among 21: not confirmed" || fail "unresolved NS: $out"
[[ $out =~ nserver=21\  ]] && ok "21 name servers, none dropped" || fail "NS count: $out"
# Only localhost. left: resolved through the system resolver.
nsu <<EOF
update add $Z 60 NS localhost.
update delete $Z NS ns.$Z
update delete $Z NS ns.other.invalid.
$(for i in $(seq 1 19); do echo "update delete $Z NS ns$i.$Z"; done)
EOF
want="servers=\"127.0.0.1#$NAMED_PORT\""
if getent ahosts localhost | grep -q '^::1'; then want="servers=\"127.0.0.1#$NAMED_PORT ::1#$NAMED_PORT\""; fi
dt update "www.$Z" app1.example.net. >/dev/null
out=$(dt confirm "www.$Z" app1.example.net. --ns-port "$NAMED_PORT" --bound 3000 2>&1)
if [[ $want =~ ::1 ]]; then
	[[ $out =~ $want ]] && ok "localhost. through the system resolver" || fail "localhost NS: $out"
else
	[[ $out =~ confirm\ result=NOERROR\ $want ]] && ok "localhost. through the system resolver" || fail "localhost NS: $out"
fi

echo "$fails failure(s)"
[ $fails = 0 ]
