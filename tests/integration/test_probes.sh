#!/bin/bash
# test_probes.sh - the probe engine against web heads that misbehave on
# purpose (httpfault) and a TLS server with a certificate made here: each
# fault must come back with the right reason, nothing may crash or leak
# (run under SAN=1 too), and the schedule must keep its promises.
#
# Expected classification (probes/classify.c says why):
#   ok200 ok, s503 status (ok when judged as standby with 503 allowed),
#   refuse connect, hang and slow timeout, closemid and garbage protocol,
#   huge with expect_body missing -> body after at most 64 KiB, a name that
#   cannot resolve dns, TLS not trusted tls, TLS with the CA file ok.
#
# VALGRIND="valgrind --leak-check=full ..." runs every probetool under it
# (test_probes_valgrind.sh does that).
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
TOOLS=${TOOLS:-$TOP/build/tests/integration}
PT=$TOOLS/probetool
HF=$TOOLS/httpfault
read -r -a RUN <<<"${VALGRIND:-}"
for t in "$PT" "$HF"; do
	[ -x "$t" ] || { echo "missing $t (make $t)"; exit 1; }
done
command -v openssl >/dev/null || { echo "no openssl"; exit 77; }

dir=$(mktemp -d /tmp/test_probes.XXXXXX)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf "$dir"
}
trap cleanup EXIT

fails=0 passes=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }

# wait_for FILE REGEX: up to 5 s.
wait_for() {
	local i
	for ((i = 0; i < 100; i++)); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

"$HF" -T 120 -d 200 >"$dir/ports" 2>"$dir/httpfault.err" &
pids+=($!)
hfpid=$!
wait_for "$dir/ports" '^ready=1' || { echo "httpfault did not start"; cat "$dir/httpfault.err"; exit 1; }
declare -A P
while IFS== read -r k v; do P[$k]=$v; done <"$dir/ports"

# TLS: a self-signed certificate for probe.test, served by openssl s_server.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$dir/key.pem" -out "$dir/cert.pem" -days 2 -subj /CN=probe.test \
    -addext "subjectAltName=DNS:probe.test" >"$dir/openssl.log" 2>&1 ||
    { echo "openssl req failed"; cat "$dir/openssl.log"; exit 1; }
openssl s_server -accept 127.0.0.1:0 -cert "$dir/cert.pem" -key "$dir/key.pem" \
    -www </dev/null >"$dir/tls.out" 2>&1 &
pids+=($!)
wait_for "$dir/tls.out" '^ACCEPT ' || { echo "s_server did not start"; cat "$dir/tls.out"; exit 1; }
P[tls]=$(sed -n 's/^ACCEPT .*:\([0-9]*\)$/\1/p' "$dir/tls.out" | head -1)

url() { echo "http://127.0.0.1:${P[$1]}/health"; }

# check NAME WANT... -- PROBETOOL-ARGS: every WANT (an ERE) must match the
# output, and probetool must exit 0 (under ASan: no leak).
check() {
	local name=$1 w out rc
	shift
	local wants=()
	while [ "$1" != -- ]; do wants+=("$1"); shift; done
	shift
	out=$("${RUN[@]}" "$PT" "$@" 2>&1)
	rc=$?
	LAST_OUT=$out
	if [ $rc != 0 ]; then
		fail "$name: probetool exit $rc"; echo "$out" | sed 's/^/    /'; return
	fi
	for w in "${wants[@]}"; do
		if ! grep -qE -- "$w" <<<"$out"; then
			fail "$name: no match for /$w/"; echo "$out" | sed 's/^/    /'; return
		fi
	done
	passes=$((passes + 1)); echo "ok   $name"
}

hf_stat() {		# KEY: httpfault's counter now
	local n
	n=$(grep -c . "$dir/ports")
	kill -USR1 "$hfpid"
	wait_for "$dir/ports" "^$1=" || return 1
	# The newest value: counters are printed again on each USR1.
	for ((i = 0; i < 40; i++)); do
		[ "$(grep -c . "$dir/ports")" -gt "$n" ] && break
		sleep 0.05
	done
	sleep 0.05
	grep "^$1=" "$dir/ports" | tail -1 | cut -d= -f2
}

# --- under valgrind: the same faults, fewer processes --------------------
if [ -n "${PROBES_QUICK:-}" ]; then
	u() { echo "url=$(url "$1") round=1 ok=. reason=$2 "; }
	check all-faults "$(u ok200 ok)" "$(u s503 status)" "$(u refuse connect)" \
	    "$(u hang timeout)" "$(u slow timeout)" "$(u closemid protocol)" \
	    "$(u garbage protocol)" "$(u huge body)" "$(u split body)" \
	    "$(u redir body)" -- -t 400 -i 200 -b "OK alive" \
	    "$(url ok200)" "$(url s503)" "$(url refuse)" "$(url hang)" \
	    "$(url slow)" "$(url closemid)" "$(url garbage)" "$(url huge)" \
	    "$(url split)" "$(url redir)"
	check tls-ca-and-host 'reason=ok' -- -t 8000 -C "$dir/cert.pem" \
	    -H probe.test "https://127.0.0.1:${P[tls]}/"
	check tls-untrusted 'reason=tls' -- -t 8000 "https://127.0.0.1:${P[tls]}/"
	check update-mid-transfer 'updated running=1' "url=$(url ok200) round=1 ok=1" \
	    -- -t 5000 -i 300 -X 150 -u "$(url ok200)" "$(url hang)"
	check remove-mid-transfer 'removed=2 running=2' -- -t 5000 -i 200 -R 400 \
	    "$(url hang)" "$(url slow)"
	echo "$passes passed, $fails failed"
	[ $fails = 0 ]
	exit
fi

# --- classification ---------------------------------------------------
check ok200 'reason=ok' 'status=200' 'ok=1' -- -t 1000 "$(url ok200)"
check s503 'reason=status' 'status=503' 'ok=0' 'detail="HTTP status 503' -- -t 1000 "$(url s503)"
check s503-standby 'reason=ok' 'status=503' 'standby=1' -- -t 1000 -y -S 200-399,503 "$(url s503)"
check s503-active-set 'reason=status' -- -t 1000 -S 200-399,503 "$(url s503)"
check refuse 'reason=connect' 'status=0' -- -t 1000 "$(url refuse)"
check hang 'reason=timeout' -- -t 400 "$(url hang)"
check slow 'reason=timeout' -- -t 400 "$(url slow)"

# A timeout the engine itself saw late is not the web head's: a stopped
# (or overloaded) loop leaves answers unread while their checks' deadlines
# pass, and libcurl fails such a transfer before it reads.  probetool is
# stopped for 1.5 s while its check of the hung port runs (timeout 300 ms):
# the result must be reason=local, saying so, not a timeout.
r0=$(hf_stat requests)
"${RUN[@]}" "$PT" -t 300 "$(url hang)" >"$dir/late.out" 2>&1 &
ptpid=$!
pids+=($ptpid)
for ((i = 0; i < 200; i++)); do
	[ "$(hf_stat requests)" -gt "${r0:-0}" ] && break
	sleep 0.05
done
kill -STOP "$ptpid"
sleep 1.5
kill -CONT "$ptpid"
wait "$ptpid"
rc=$?
if [ $rc = 0 ] && grep -qE 'round=1 ok=0 reason=local .*detail="the controller looked [0-9]+ ms after the 300 ms timeout' "$dir/late.out"; then
	passes=$((passes + 1)); echo "ok   late-timeout-is-local"
else
	fail "late-timeout-is-local: exit $rc"; sed 's/^/    /' "$dir/late.out"
fi
# Late timeouts also halve the checks allowed in flight: 200 checks of the
# hung port (timeout 2 s), all in flight, stopped together for 3 s, end
# late; the limit becomes 99 (half of the 199 still running after the
# first), so round 2's 200 checks start 99 at a time and the rest wait
# for those to end (held) - and, measured from their start, they time out
# on time: reason=timeout, not local.
urls=()
for ((i = 0; i < 200; i++)); do urls+=("$(url hang)"); done
r0=$(hf_stat requests)
"${RUN[@]}" "$PT" -t 2000 -i 400 -n 2 "${urls[@]}" >"$dir/cap.out" 2>&1 &
ptpid=$!
pids+=($ptpid)
for ((i = 0; i < 200; i++)); do
	[ "$(hf_stat requests)" -ge $(( ${r0:-0} + 200 )) ] && break
	sleep 0.02
done
kill -STOP "$ptpid"
sleep 3
kill -CONT "$ptpid"
wait "$ptpid"
rc=$?
nl=$(grep -c 'round=1 ok=0 reason=local' "$dir/cap.out")
nt=$(grep -c 'round=2 ok=0 reason=timeout' "$dir/cap.out")
if [ $rc = 0 ] && [ "$nl" = 200 ] && [ "$nt" = 200 ] &&
    grep -qE '^stats .* late=200 cap=[0-9]+ held=[1-9]' "$dir/cap.out"; then
	passes=$((passes + 1)); echo "ok   late-timeouts-cap-inflight"
else
	fail "late-timeouts-cap-inflight: exit $rc, $nl of 200 local in round 1, $nt of 200 timeouts in round 2"
	grep -v '^url=' "$dir/cap.out" | sed 's/^/    /'
	grep '^url=' "$dir/cap.out" | sed 's/url=[^ ]* //; s/latency_us=[0-9]* //; s/late_us=[-0-9]* //; s/detail=.*//; s/started_ms=.*//' | sort | uniq -c | sed 's/^/    /'
fi
check closemid 'reason=protocol' -- -t 1000 "$(url closemid)"
check garbage 'reason=protocol' -- -t 1000 "$(url garbage)"
check huge-body-missing 'reason=body' 'body_bytes=65536 ' -- -t 2000 -b NOT-THERE "$(url huge)"
check huge-no-expect 'reason=ok' 'body_bytes=65536 ' -- -t 2000 "$(url huge)"
check huge-found-early 'reason=ok' 'body_bytes=[0-9]{1,5} ' -- -t 2000 -b xxxx "$(url huge)"
check split-across-chunks 'reason=ok' -- -t 2000 -b ALIVE-TOKEN "$(url split)"
check split-missing 'reason=body' -- -t 2000 -b ALIVE-TOKENS "$(url split)"
check host-header 'reason=ok' -- -t 1000 -H site.test -b host=site.test "$(url echo)"
check user-agent 'reason=ok' -- -t 1000 -b "ua=failoverd/" "$(url echo)"
check no-redirect-followed 'reason=status' 'status=302' -- -t 1000 -s 200 "$(url redir)"
check redirect-in-set 'reason=ok' 'status=302' -- -t 1000 "$(url redir)"
long=$(printf 'a%.0s' {1..70})
# A label over 63 bytes fails in the local resolver: no query leaves.
check dns 'reason=dns' -- -t 1000 "http://$long.test/"
tls=https://127.0.0.1:${P[tls]}/
check tls-untrusted 'reason=tls' -- -t 2000 "$tls"
check tls-ca-and-host 'reason=ok' 'status=200' -- -t 2000 -C "$dir/cert.pem" -H probe.test "$tls"
check tls-ca-wrong-name 'reason=tls' -- -t 2000 -C "$dir/cert.pem" "$tls"
check tls-verify-off 'reason=ok' -- -t 2000 -k "$tls"
out=$("$PT" ftp://127.0.0.1/ 2>&1)
if [ $? = 1 ] && grep -q 'error="not a usable http or https URL"' <<<"$out"; then
	passes=$((passes + 1)); echo "ok   ftp-refused"
else
	fail "ftp-refused: $out"
fi

# --- keep-alive: three rounds on one connection, or three with -F -------
a0=$(hf_stat accepts)
check keepalive-rounds 'round=3 ok=1' -- -t 1000 -i 100 -n 3 "$(url ok200)"
a1=$(hf_stat accepts)
check fresh-rounds 'round=3 ok=1' -- -t 1000 -i 100 -n 3 -F "$(url ok200)"
a2=$(hf_stat accepts)
if [ -n "$a0" ] && [ $((a1 - a0)) = 1 ] && [ $((a2 - a1)) = 3 ]; then
	passes=$((passes + 1)); echo "ok   connection-reuse (1 connect for 3 rounds; 3 with -F)"
else
	fail "connection-reuse: accepts $a0 -> $a1 -> $a2"
fi
# A huge body stopped at 64 KiB: the server must not have sent it all.
hs=$(hf_stat hugesent)
if [ -n "$hs" ] && [ "$hs" -lt $((3 * 8 * 1024 * 1024)) ]; then
	passes=$((passes + 1)); echo "ok   huge-not-read-whole (server wrote $hs bytes for 3 probes)"
else
	fail "huge-not-read-whole: hugesent=$hs"
fi

# A kept-alive connection the server closed while idle: the next round
# notices, connects afresh and succeeds.
check keepalive-closed-by-server 'round=3 ok=1 reason=ok' -- -t 1000 -i 100 -n 3 "$(url closeafter)"
# A busy server closing a kept-alive connection just as the request comes
# (dropreuse: unanswered, a FIN; resetreuse: a reset): every round must
# still succeed.  Each is reconnected; libcurl 7.88 resends such a request
# itself only five times in an easy handle's life, so the engine resent
# the rest (retried=1): rounds 7 and 13 here.
for m in dropreuse resetreuse; do
	out=$("${RUN[@]}" "$PT" -t 1000 -i 50 -n 14 "$(url $m)" 2>&1)
	if [ "$(grep -c 'ok=1 reason=ok' <<<"$out")" = 14 ] &&
	    grep -q 'reconnects=13 retries=2 ' <<<"$out" &&
	    grep -q 'round=7 ok=1 .*reconnected=1 retried=1' <<<"$out"; then
		passes=$((passes + 1)); echo "ok   keepalive-$m"
	else
		fail "keepalive-$m"; echo "$out" | grep -v 'ok=1 reason=ok .*retried=0' | sed 's/^/    /'
	fi
done
# A busy server resetting every other connection it has just accepted
# (each answer says "Connection: close", so every round connects afresh,
# and its first connection is the one reset): every round succeeds, on
# the resend.
check fresh-reset-resent 'round=6 ok=1 reason=ok' 'reconnects=6 retries=6' \
    -- -t 1000 -i 50 -n 6 "$(url resetnew)"
if [ "$(grep -c 'ok=1 reason=ok' <<<"$LAST_OUT")" != 6 ]; then
	fail "fresh-reset-resent: not every round succeeded"
	echo "$LAST_OUT" | sed 's/^/    /'
fi
# A server that closes every connection unanswered is down: each round
# is resent once on a fresh connection (a busy nginx also closes new
# connections), and the resend fails too - two connections per round,
# every round a failure, reason protocol.
a0=$(hf_stat accepts)
check fresh-dropped 'round=3 ok=0 reason=protocol .*retried=1' 'reconnects=3 retries=3' \
    -- -t 1000 -i 50 -n 3 "$(url dropall)"
a1=$(hf_stat accepts)
if [ -n "$a0" ] && [ $((a1 - a0)) = 6 ]; then
	passes=$((passes + 1)); echo "ok   fresh-dropped-resent-once"
else
	fail "fresh-dropped-resent-once: accepts $a0 -> $a1 (want 6: two a round)"
fi
# A web head killed between rounds: its kept-alive connection dies with it
# and the fresh connect is refused, so reuse cannot hide it ("connect").
"$HF" -T 60 >"$dir/ports2" 2>/dev/null &
hf2=$!
pids+=($hf2)
if wait_for "$dir/ports2" '^ready=1'; then
	p2=$(sed -n 's/^ok200=//p' "$dir/ports2")
	"${RUN[@]}" "$PT" -t 1000 -i 300 -n 3 "http://127.0.0.1:$p2/" >"$dir/killed.out" 2>&1 &
	ptpid=$!
	wait_for "$dir/killed.out" 'round=1 ok=1' 50
	kill "$hf2"
	wait "$hf2" 2>/dev/null
	wait "$ptpid"
	if grep -q 'round=1 ok=1 reason=ok' "$dir/killed.out" &&
	    grep -q 'round=3 ok=0 reason=connect' "$dir/killed.out"; then
		passes=$((passes + 1)); echo "ok   keepalive-head-killed"
	else
		fail "keepalive-head-killed"; sed 's/^/    /' "$dir/killed.out"
	fi
else
	fail "second httpfault did not start"
fi

# --- schedule ----------------------------------------------------------
# fastinter: three rounds at 100 ms, not at the 10 s interval.
t0=$(date +%s%N)
check fast-mode 'round=3 ok=1' -- -t 1000 -i 10000 -f 100 -m fast -n 3 "$(url ok200)"
t1=$(date +%s%N)
ms=$(((t1 - t0) / 1000000))
if [ $ms -lt 3000 ]; then
	passes=$((passes + 1)); echo "ok   fast-mode-timing (${ms} ms)"
else
	fail "fast-mode-timing: ${ms} ms"
fi
# A check that outlives its interval is not doubled: rounds are skipped.
check no-double 'round=2 ok=0 reason=timeout' 'skipped=[2-9]' -- -t 650 -i 200 -n 2 "$(url hang)"
# timeout > interval, HAProxy's semantics: the round that came due while
# the check ran starts when it ends (~650 ms after the first), not at the
# next planned time after its end (1200 ms).
check timeout-over-interval 'round=2 ok=0 reason=timeout' 'skipped=[1-9]' -- -t 650 -i 600 -n 2 "$(url hang)"
s1=$(sed -n 's/.*round=1 .*started_ms=\([0-9]*\).*/\1/p' <<<"$LAST_OUT")
s2=$(sed -n 's/.*round=2 .*started_ms=\([0-9]*\).*/\1/p' <<<"$LAST_OUT")
if [ -n "$s1" ] && [ -n "$s2" ] && [ $((s2 - s1)) -ge 640 ] && [ $((s2 - s1)) -lt 1100 ]; then
	passes=$((passes + 1)); echo "ok   timeout-over-interval-start ($((s2 - s1)) ms)"
else
	fail "timeout-over-interval-start: round 2 started $((s2 - s1)) ms after round 1, want ~650"
fi
# Runtime change: from the callback (503 -> 200), and mid-transfer (a hung
# check is cancelled without a result and the new URL answers).
check update-from-callback "round=1 ok=0 reason=status" "url=$(url ok200) round=2 ok=1 reason=ok" \
    -- -t 1000 -i 100 -n 2 -u "$(url ok200)" "$(url s503)"
check update-mid-transfer 'updated running=1' "url=$(url ok200) round=1 ok=1 reason=ok" \
    -- -t 5000 -i 300 -X 150 -u "$(url ok200)" "$(url hang)"
# Removing probes mid-transfer is safe (ASan/valgrind watch) and silent.
check remove-mid-transfer 'removed=2 running=2' '^stats .*finished=0' -- -t 5000 -i 200 -R 400 "$(url hang)" "$(url slow)"

echo "$passes passed, $fails failed"
[ $fails = 0 ]
