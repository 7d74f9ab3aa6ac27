#!/bin/bash
# test_simulate.sh - `failoverd simulate`: every example scenario in
# config/scenarios/ gives its .expected output byte for byte (text, and
# JSON for outage), twice in a row; scenario errors name file and line;
# usage errors exit 2.
#
# To accept a deliberate change of output, regenerate the expected files:
#   for f in config/scenarios/*.scn; do build/failoverd simulate \
#     -c config/scenarios/failoverd.conf $f > ${f%.scn}.expected; done
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
FAILOVERD=${FAILOVERD:-$TOP/build/failoverd}
cd "$TOP" || exit 1
[ -x "$FAILOVERD" ] || { echo "no $FAILOVERD"; exit 77; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
conf=config/scenarios/failoverd.conf
fail=0

bad() { echo "FAIL: $*"; fail=1; }

# 1. Every example scenario against its expected output.
n=0
for scn in config/scenarios/*.scn; do
	exp=${scn%.scn}.expected
	[ -f "$exp" ] || { bad "$scn has no $exp"; continue; }
	"$FAILOVERD" simulate -c "$conf" "$scn" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	[ $rc = 0 ] || { bad "$scn: exit $rc: $(cat "$tmp/err")"; continue; }
	[ -s "$tmp/err" ] && bad "$scn: stderr not empty: $(cat "$tmp/err")"
	if ! cmp -s "$tmp/out" "$exp"; then
		bad "$scn: output differs from $exp"
		diff -u "$exp" "$tmp/out" | head -30
	fi
	# Same input, same output.
	"$FAILOVERD" simulate -c "$conf" "$scn" >"$tmp/out2" 2>/dev/null
	cmp -s "$tmp/out" "$tmp/out2" || bad "$scn: two runs differ"
	n=$((n + 1))
done
[ $n -ge 5 ] || bad "only $n example scenarios"
echo "ok: $n example scenarios match their expected output"

# 2. JSON lines.
"$FAILOVERD" simulate -c "$conf" config/scenarios/outage.scn --json \
    >"$tmp/json" || bad "--json failed"
cmp -s "$tmp/json" config/scenarios/outage.expected.json ||
    { bad "--json output differs"; diff -u config/scenarios/outage.expected.json "$tmp/json" | head -20; }
if command -v jq >/dev/null; then
	jq -e . "$tmp/json" >/dev/null || bad "--json: not JSON lines"
fi
# Options after the scenario work too (failoverctl-style ordering).
"$FAILOVERD" simulate config/scenarios/outage.scn --json -c "$conf" \
    >"$tmp/json2" || bad "options after the scenario"
cmp -s "$tmp/json" "$tmp/json2" || bad "option order changes the output"

# 3. Key outcomes, stated plainly (in case someone regenerates blindly).
expect_line() {		# file, extended regex
	grep -Eq "$2" "$1" || bad "$1: no line matching: $2"
}
d=config/scenarios
expect_line $d/outage.expected 'summary group=www status=serving active=app2 switches=1 completed=1 failed=0'
expect_line $d/outage.expected 'rearmed group=www'
grep -Eq 'switch_started.*id=www-3[0-9]{4} ' $d/flapping.expected &&
    bad "flapping: switched during the fast flap"
expect_line $d/flapping.expected 'summary group=www .*switches=1 completed=1'
expect_line $d/isolation.expected 'gate_held group=www reason=isolated'
expect_line $d/isolation.expected 'gate_held group=www reason=witness_down'
expect_line $d/failed-promote.expected 'switch_failed group=www .*phase=promote .*traffic=app1'
expect_line $d/failed-promote.expected 'failed_state_cleared group=www by=resume'
expect_line $d/failed-promote.expected 'gate_held group=www reason=hold_down'
expect_line $d/failed-promote.expected 'switch_started group=www .*reason=manual'
expect_line $d/dns-outage.expected 'dns_failed group=www .*failures=4 retry_in_ms=8000'
expect_line $d/dns-outage.expected 'switch_finished group=www'
expect_line $d/hook-timeout.expected 'phase_failed .*phase=maintenance_on .*policy=continue'
expect_line $d/hook-timeout.expected 'phase_failed .*phase=promote .*result=timeout .*policy=abort'
expect_line $d/precheck.expected 'gate_held group=www reason=precheck_failed'
# The gate dns_unusable: a refused key holds the failover (no hook runs)
# and refuses a manual switch; accepted again, the switch runs.
expect_line $d/dns-refused.expected 'dns_unusable group=www reason=BADKEY final=yes'
expect_line $d/dns-refused.expected 'gate_held group=www reason=dns_unusable .*dns=BADKEY'
expect_line $d/dns-refused.expected 'cmd_refused group=www cmd=switch reason=dns_unusable dns=BADKEY'
expect_line $d/dns-refused.expected 'dns_usable group=www was=BADKEY'
expect_line $d/dns-refused.expected 'switch_finished group=www'
sed -n '/dns_usable group=www/q;p' $d/dns-refused.expected | grep -q hook_start &&
    bad "dns-refused: a hook ran while the DNS was refused"

# 4. Scenario errors: FILE:LINE: what, exit 1, nothing on stdout.
check_err() {		# name, scenario text, expected stderr (exact)
	printf '%b' "$2" >"$tmp/$1.scn"
	"$FAILOVERD" simulate -c "$conf" "$tmp/$1.scn" >"$tmp/o" 2>"$tmp/e"
	rc=$?
	[ $rc = 1 ] || bad "$1: exit $rc, want 1"
	[ -s "$tmp/o" ] && bad "$1: printed on stdout"
	printf '%b' "$3" >"$tmp/want"
	cmp -s "$tmp/e" "$tmp/want" ||
	    { bad "$1: stderr"; echo "--- want"; cat "$tmp/want"; echo "--- got"; cat "$tmp/e"; }
}
F=$tmp
check_err word 'at 0s app1 up\nat 10s app1 sideways\nat 1m end\n' \
    "$F/word.scn:2: app1: expected up, down, timeout, status N or flap DUR, not 'sideways' (or: hook, dns, witness, ctl, end)\n"
check_err back '# c\nat 10s app1 down\nat 5s app1 up\nat 1m end\n' \
    "$F/back.scn:3: time 5s goes backwards\n"
check_err time 'at soon app1 down\nat 1m end\n' \
    "$F/time.scn:1: bad time 'soon' (e.g. 30s, 250ms, 2h)\n"
check_err noend 'at 0s app1 up\n' \
    "$F/noend.scn: no 'at TIME end' line: the scenario must say when it ends\n"
check_err after 'at 1m end\nat 2m app1 up\n' \
    "$F/after.scn:2: line after 'end'\n"
check_err several 'app1 up\nat 1s hook app2 promote explode\nat 2s dns sideways\nat 3s ctl status www\nat 4s app1 status 999\nat 1m end\n' \
    "$F/several.scn:1: expected 'at TIME ...', not 'app1'\n$F/several.scn:2: hook: expected fail, hang or ok, not 'explode'\n$F/several.scn:3: dns: expected up, down or refuse REASON\n$F/several.scn:4: ctl: unknown or unplayable verb 'status' (pause, resume, pin, unpin, rearm, switch)\n$F/several.scn:5: status: expected an HTTP status 100-599, not 999\n"
check_err refuse 'at 0s dns refuse NXDOMAIN\nat 1m end\n' \
    "$F/refuse.scn:1: dns refuse: expected REFUSED, NOTAUTH, BADKEY, BADSIG, NOTZONE or not_owner\n"
check_err names 'at 0s app9 up\nat 1s ctl pause nosuch\nat 2s ctl switch www --to app7\nat 1m end\n' \
    "$F/names.scn:1: unknown stack 'app9'\n$F/names.scn:2: unknown group 'nosuch'\n$F/names.scn:3: unknown stack 'app7'\n"
rm -f "$tmp/missing.scn"
"$FAILOVERD" simulate -c "$conf" "$tmp/missing.scn" >/dev/null 2>"$tmp/e"
[ $? = 1 ] || bad "missing file: exit status"
grep -qx "$tmp/missing.scn: No such file or directory" "$tmp/e" ||
    bad "missing file: $(cat "$tmp/e")"

# 5. Usage errors exit 2; a bad configuration exits 1 with its errors.
"$FAILOVERD" simulate -c "$conf" >/dev/null 2>&1; [ $? = 2 ] || bad "no scenario: not 2"
"$FAILOVERD" simulate -c "$conf" a b >/dev/null 2>&1; [ $? = 2 ] || bad "two scenarios: not 2"
"$FAILOVERD" simulate --bogus x >/dev/null 2>&1; [ $? = 2 ] || bad "bad option: not 2"
"$FAILOVERD" simulate --help | grep -q 'usage: failoverd simulate' || bad "--help"
printf '[nonsense\n' >"$tmp/bad.conf"
"$FAILOVERD" simulate -c "$tmp/bad.conf" config/scenarios/outage.scn >/dev/null 2>"$tmp/e"
[ $? = 1 ] || bad "bad config: exit status"
grep -q "^$tmp/bad.conf:" "$tmp/e" || bad "bad config: $(cat "$tmp/e")"

[ $fail = 0 ] && echo "test_simulate: ok"
exit $fail
