#!/bin/bash
# Two controllers on one zone: the second writer is refused by named itself.
#
# Controller test-ctl publishes www.  A second failoverd, c2 (its own state,
# its own TSIG key, adopt = yes), takes the name over: its ownership TXT
# replaces test-ctl's.  Then test-ctl flips www, as a manual switch does:
# its UPDATE requires test-ctl's TXT, so named answers NXRRSET (its log says
# which prerequisite failed), the zone keeps c2's record and TXT, and
# test-ctl reads the name back and reports that it is no longer its own.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/fo.sh"

fo_world
Z=${NAMED_ZONE%.}
fo_dig "_failoverd.$W" TXT | grep -q '"failoverd controller=test-ctl group=www"' ||
	fail "test-ctl's TXT: $(fo_dig "_failoverd.$W" TXT)"

# c2: the same stacks and group, its own state_dir, name and key.
sed -e "s|^state_dir = .*|state_dir = $FO/state2|" \
    -e "s|^name = test-ctl|name = c2|" \
    -e "s|^key_file = .*|key_file = $NAMED_KEYFILE2|" \
    -e "s|^\[group www\]|[group www]\nadopt = yes|" \
    "$FO/failoverd.conf" >"$FO/c2.conf"
"$FAILOVERD" -t -c "$FO/c2.conf" >/dev/null || fail "c2 config: $("$FAILOVERD" -t -c "$FO/c2.conf" 2>&1)"
"$FAILOVERD" -c "$FO/c2.conf" >>"$FO/c2.log" 2>&1 &
C2_PID=$!
named_trap_add "kill -9 $C2_PID 2>/dev/null; wait $C2_PID 2>/dev/null"
fo_wait 10 sh -c "dig +norec +short -p $NAMED_PORT @127.0.0.1 _failoverd.$W TXT | grep -q controller=c2" ||
	{ cat "$FO/c2.log"; fail "c2 never adopted www"; }
grep -q 'event=dns_owner .*verdict=adopt' "$FO/c2.log" || { cat "$FO/c2.log"; fail "c2: no adoption logged"; }
# c2 goes quiet: what remains to be shown is test-ctl's write.
kill -TERM "$C2_PID"
wait "$C2_PID"
fo_dig_is "$W" CNAME app1.example.net. || fail "record after adoption: $(fo_dig "$W" CNAME)"

nlog0=$(grep -c "key $NAMED_KEYNAME: .*update unsuccessful" "$NAMED_LOG")
out=$("$FAILOVERCTL" -c "$FO/failoverd.conf" switch www --yes --no-wait 2>&1) || fail "switch request refused: $out"
fo_wait 15 fo_log_has 'event=dns_update_failed .*result=NXRRSET' || fail "test-ctl's flip was not refused"
fo_wait 10 fo_log_has 'event=dns_not_owner .*controller=c2' || fail "test-ctl did not find c2's TXT"

# named refused it, on the TXT prerequisite, with test-ctl's key.
grep -q "key $NAMED_KEYNAME: updating zone '$Z/IN': update unsuccessful: _failoverd.www.$Z/TXT: 'RRset exists (value dependent)' prerequisite not satisfied (NXRRSET)" "$NAMED_LOG" ||
	fail "named's log: $(grep unsuccessful "$NAMED_LOG" | tail -3)"
[ "$(grep -c "key $NAMED_KEYNAME: .*update unsuccessful" "$NAMED_LOG")" -gt "$nlog0" ] ||
	fail "no refusal of test-ctl's UPDATE in named's log"
# The zone is c2's, as c2 left it.
fo_dig_is "$W" CNAME app1.example.net. || fail "record changed: $(fo_dig "$W" CNAME) $(fo_dig "$W" A)"
fo_dig_is "$W" A app1.example.net. || fail "A published: $(fo_dig "$W" A)"
[ "$(fo_dig "_failoverd.$W" TXT)" = '"failoverd controller=c2 group=www"' ] ||
	fail "TXT changed: $(fo_dig "_failoverd.$W" TXT)"
fo_stop || fail "stop"
echo "ok: a second writer's UPDATE is refused by named"
