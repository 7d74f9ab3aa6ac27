#!/bin/bash
# dnsupdate/ against a misbehaving server (fakedns): answers without TSIG,
# with a bad MAC, the wrong id, the wrong question, cut short, truncated,
# garbage, or none at all.  Each is rejected or ignored until the timeout,
# never taken as success, and nothing crashes; a genuine answer that follows
# forged ones still completes the request; TC leads to TCP.  Then server
# fail-over: a silent first server, the real answer from the second.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
TOOLS=${TOOLS:-$TOP/build/tests/integration}
[ -x "$TOOLS/dnstool" ] && [ -x "$TOOLS/fakedns" ] || { echo "tools missing"; exit 1; }

tmp=$(mktemp -d /tmp/test_dns_fake.XXXXXX)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

KEY="hmac-sha256:fake-key:5hUBpFUj6Fugd3A9V9kcK51Jzsx72ZE4zaoVEfLW4yI="
"$TOOLS/fakedns" -k "$KEY" -p "$tmp/port" &
pid=$!
for ((i = 0; i < 100; i++)); do [ -s "$tmp/port" ] && break; sleep 0.02; done
port=$(cat "$tmp/port" 2>/dev/null)
[ -n "$port" ] || { echo "fakedns did not start"; exit 1; }

# One try per server: a retry after a UDP timeout would go over TCP, where
# fakedns answers correctly (test_dns_edges.sh tests that fallback).
run() {		# mode want-result
	local out
	out=$("$TOOLS/dnstool" -s "127.0.0.1#$port" -z "$1.test." -k "$KEY" \
	    -t 200 -r 0 update "www.$1.test." app1.example.net. 2>&1)
	if [[ $out =~ Sanitizer|runtime\ error ]] || ! [[ $out =~ result=$2[\ ] ]]; then
		fail "$1: want $2, got: $out"
	else
		echo "ok: $1 -> $2"
	fi
}

run good NOERROR
run refused REFUSED
run nosig unsigned_response
run badmac bad_response
run wrongid timeout
run wrongq timeout
run cut timeout
run garbage timeout
run silent timeout
run mixed NOERROR
run tc NOERROR
kill -0 "$pid" 2>/dev/null || fail "fakedns died"

# Servers in order: the first one never answers, the second does.
out=$("$TOOLS/dnstool" -s "127.0.0.1#$port" -s "127.0.0.1#$port" -z silent.test. \
    -k "$KEY" -t 100 -r 0 update www.silent.test. a.example.net. 2>&1)
[[ $out =~ result=timeout.*tries=2 ]] && echo "ok: two servers tried" || fail "two servers: $out"
# A closed port: refused at once, by name.
out=$("$TOOLS/dnstool" -s "127.0.0.1#1" -z good.test. -k "$KEY" -t 1000 -r 2 \
    update www.good.test. a.example.net. 2>&1)
[[ $out =~ result=network_error ]] && echo "ok: closed port" || fail "closed port: $out"

echo "$fails failure(s)"
[ $fails = 0 ]
