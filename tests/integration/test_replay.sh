#!/bin/bash
# test_replay.sh - `failoverd simulate --replay`: a real daemon probes a real
# world and records its probe log; app1's web head dies for a while, the
# daemon switches to app2 and is stopped (SIGTERM flushes the log).  Then
# the log is replayed:
#   - with the same configuration: app1 goes down, the switch happens;
#   - with fall much larger: no switch (app2's 503s, recorded as failures
#     once it was active, count as a standby's successes again);
#   - twice: byte for byte the same; --json: JSON lines;
#   - --since/--until windows; a stack without log is named and stays
#     unknown; a stack in the log but not in the configuration is ignored;
#   - a missing store: one line naming the directory, exit 1; usage
#     errors exit 2.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/fo.sh"

fo_world
sleep 0.5				# some steady outcomes first
fo_webhead_stop app1
fo_wait 10 fo_log_has 'event=switch_finished' || fail "the daemon never switched"
sleep 1.2				# some outcomes at downinter too
fo_webhead app1 "$WH_PORT_app1"
fo_wait 5 fo_log_has 'event=health_change stack=app1 from=down to=up' ||
	fail "app1 not back up"
fo_stop || fail "failoverd exit status $?"

C=$FO/failoverd.conf
R=$FO/replay
mkdir -p "$R"

# 1. The same configuration: app1 down, a switch to app2.
"$FAILOVERD" simulate -c "$C" --replay >"$R/same" 2>"$R/same.err" ||
	fail "replay: exit $?: $(cat "$R/same.err")"
[ -s "$R/same.err" ] && fail "replay: stderr: $(cat "$R/same.err")"
has() { grep -Eq -- "$2" "$1" || { echo "--- $1"; cat "$1"; fail "$1: no line matching: $2"; }; }
hasnt() { ! grep -Eq -- "$2" "$1" || { echo "--- $1"; cat "$1"; fail "$1: a line matches: $2"; }; }
has "$R/same" '^ +0\.000 replay from=20[0-9-]+T[0-9:.]+Z to=20[0-9-]+T[0-9:.]+Z stacks=2 runs=[0-9]+ outcomes=[0-9]+$'
has "$R/same" '^ +0\.000 replay_stack stack=app1 runs=[0-9]+ outcomes=[0-9]+ first_ms=[0-9]+ last_ms=[0-9]+$'
has "$R/same" ' health_change stack=app1 from=up to=down reason=connect$'
has "$R/same" ' switch_started group=www .*from=app1 to=app2'
has "$R/same" ' switch_finished group=www'
has "$R/same" ' health_change stack=app1 from=down to=up$'
has "$R/same" ' summary group=www status=[a-z_]+ active=app2 switches=1 completed=1 failed=0 time_failed_ms=0 outage_to_flip_ms=[0-9]+ detect_ms=[0-9]+$'
has "$R/same" ' summary replay_from=20[0-9-]+T[0-9:.]+Z replay_to=20[0-9-]+T[0-9:.]+Z replay_start_epoch_ms=[0-9]+$'
# The detection time follows the thresholds: fall=3 at fastinter 100ms.
det=$(sed -n 's/.* summary group=www .*detect_ms=\([0-9]*\)$/\1/p' "$R/same")
[ "$det" -ge 150 ] && [ "$det" -le 1500 ] || fail "detect_ms=$det"
echo "same config: $(grep -c . "$R/same") lines, detect_ms=$det," \
    "$(sed -n 's/.*replay from=.* outcomes=\([0-9]*\)$/\1/p' "$R/same") outcomes"
# The replay puts app1's fall at the time the daemon saw it: the outcomes
# keep their times through the runs (fastinter burst, then downinter).
epoch=$(sed -n 's/.* replay_start_epoch_ms=\([0-9]*\)$/\1/p' "$R/same")
rel=$(sed -n 's/^ *\([0-9]*\)\.\([0-9]*\) health_change stack=app1 from=up to=down .*/\1\2/p' "$R/same")
ts=$(grep -m1 'event=health_change stack=app1 from=up to=down' "$FO/failoverd.log" |
    sed 's/^ts=\([^ ]*\) .*/\1/')
real=$(date -d "$ts" +%s%3N)
skew=$(( epoch + 10#$rel - real ))
echo "app1 down: daemon $ts, replay $(( 10#$rel )) ms after the start: skew ${skew} ms"
[ ${skew#-} -le 50 ] || fail "replayed fall is ${skew} ms off the daemon's"

# Same input, same output; and JSON lines.
"$FAILOVERD" simulate -c "$C" --replay >"$R/same2" 2>/dev/null
cmp -s "$R/same" "$R/same2" || fail "two replays differ"
"$FAILOVERD" simulate --replay --json -c "$C" >"$R/json" || fail "--json"
[ "$(wc -l <"$R/json")" = "$(wc -l <"$R/same")" ] || fail "--json: not as many lines"
if command -v jq >/dev/null; then
	jq -e . "$R/json" >/dev/null || fail "--json: not JSON lines"
	[ "$(jq -r 'select(.event=="switch_started") | .to' "$R/json")" = app2 ] ||
		fail "--json: no switch_started to app2"
fi
has "$R/json" '^\{"t_ms":0,"event":"replay","from":"20[^"]*Z","to":"[^"]*","stacks":2,'

# 2. A configuration whose fall is far larger: no switch.
sed 's/^fall = 3$/fall = 1000/' "$C" >"$FO/patient.conf"
grep -q '^fall = 1000$' "$FO/patient.conf" || fail "patient config"
"$FAILOVERD" simulate -c "$FO/patient.conf" --replay >"$R/patient" 2>&1 ||
	fail "patient replay: exit $?"
hasnt "$R/patient" 'switch_started'
hasnt "$R/patient" 'health_change stack=app1 from=up to=down'
has "$R/patient" ' health_suspect stack=app1 reason=connect$'
has "$R/patient" ' summary group=www status=serving active=app1 switches=0 completed=0 failed=0 '
# app2 stayed standby: its 503s are a standby's successes again.
hasnt "$R/patient" 'health_change stack=app2 from=up to=down'

# 3. Windows.  Since the last outcome: one outcome per stack at most.
to=$(sed -n 's/.* replay from=[^ ]* to=\([^ ]*\) .*/\1/p' "$R/same")
from=$(sed -n 's/.* replay from=\([^ ]*\) .*/\1/p' "$R/same")
"$FAILOVERD" simulate -c "$C" --replay --since "$to" >"$R/tail" ||
	fail "--since $to: exit $?"
has "$R/tail" " replay from=$to to=$to "
hasnt "$R/tail" switch_started
"$FAILOVERD" simulate -c "$C" --replay --since "$from" --until "$to" >"$R/window" ||
	fail "--since/--until"
cmp -s "$R/same" "$R/window" || fail "the whole window differs from no window"
"$FAILOVERD" simulate -c "$C" --replay --since 1h >"$R/hour" || fail "--since 1h"
cmp -s "$R/same" "$R/hour" || fail "--since 1h differs"
"$FAILOVERD" simulate -c "$C" --replay --since 7d --until 0s >"$R/week" ||
	fail "--since 7d --until 0s"
cmp -s "$R/same" "$R/week" || fail "--since 7d differs"
# The future holds nothing: one line, exit 1.
"$FAILOVERD" simulate -c "$C" --replay --since 2999-01-01 >"$R/out" 2>"$R/err"
[ $? = 1 ] || fail "--since the future: exit not 1"
[ "$(wc -l <"$R/err")" = 1 ] && grep -q "no probe outcome .* in $FO/state since 2999-01-01T00:00:00.000Z" "$R/err" ||
	fail "--since the future: $(cat "$R/err")"

# 4. A stack without log is named and stays unknown; one only in the log
# (app2, absent from this configuration) is ignored.
sed -e 's/^\[stack app2\]$/[stack app3]/' -e 's/^backup = app2$/backup = app3/' \
    "$C" >"$FO/other.conf"
"$FAILOVERD" simulate -c "$FO/other.conf" --replay >"$R/other" 2>&1 ||
	fail "other replay: exit $? $(cat "$R/other")"
has "$R/other" 'replay_stack stack=app3 runs=0 outcomes=0 data="none \(no probe log in the window: stays unknown\)"$'
hasnt "$R/other" 'stack=app2'
hasnt "$R/other" 'health_change stack=app3'
has "$R/other" 'health_change stack=app1 from=up to=down'
hasnt "$R/other" 'switch_started'

# 5. --state-dir, and a store that is not there.
cp -a "$FO/state" "$FO/state-copy"
"$FAILOVERD" simulate -c "$C" --replay --state-dir "$FO/state-copy" >"$R/copy" ||
	fail "--state-dir"
cmp -s "$R/same" "$R/copy" || fail "--state-dir: differs"
"$FAILOVERD" simulate -c "$C" --replay --state-dir "$FO/nothere" >"$R/out" 2>"$R/err"
[ $? = 1 ] || fail "missing store: exit not 1"
[ "$(wc -l <"$R/err")" = 1 ] && grep -q "cannot read the store in $FO/nothere: " "$R/err" ||
	fail "missing store: $(cat "$R/err")"
[ -s "$R/out" ] && fail "missing store: stdout not empty"
echo "missing store: $(cat "$R/err")"
mkdir "$FO/empty"
"$FAILOVERD" simulate -c "$C" --replay --state-dir "$FO/empty" >"$R/out" 2>"$R/err"
[ $? = 1 ] && [ "$(wc -l <"$R/err")" = 1 ] && grep -q "$FO/empty" "$R/err" ||
	fail "empty state dir: $(cat "$R/err")"
[ -e "$FO/empty/data.mdb" ] && fail "read-only replay created a store"

# 6. Usage errors exit 2.
usage_err() {
	"$FAILOVERD" simulate "$@" >"$R/out" 2>"$R/err"
	[ $? = 2 ] || fail "simulate $*: exit not 2"
	[ -s "$R/err" ] || fail "simulate $*: nothing on stderr"
}
usage_err -c "$C" --replay some.scn
usage_err -c "$C" --replay --since yesterday
usage_err -c "$C" --replay --until 2026-13-01
usage_err -c "$C" --replay --since 1h --until 2h
usage_err -c "$C" --replay --bogus
usage_err -c "$C" --since 1h config/scenarios/outage.scn
"$FAILOVERD" simulate --replay --help | grep -q -- '--since' || fail "--help"
echo ok
