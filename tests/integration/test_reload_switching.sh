#!/bin/bash
# A reload that would remove a group in the middle of its switch is refused
# whole; the switch finishes under the running configuration.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/fo.sh"

FO_TAIL="
[group api]
address = api
primary = app1
backup = app2"
export FO_TAIL
fo_world
fo_wait 5 fo_dig_is "api.$NAMED_ZONE" CNAME app1.example.net. || fail "api not published"
echo 1.5 >"$FO/hooks/slow.promote"
fo_webhead_stop app1
fo_wait 10 fo_log_has 'event=hook_start group=api phase=promote' || fail "api's promote never started"
FO_TAIL= fo_conf
kill -HUP "$FO_PID"
fo_wait 5 fo_log_has 'event=reload_failed .*group=api' || fail "removal of a switching group not refused"
fo_wait 10 fo_dig_is "api.$NAMED_ZONE" A 127.0.0.2 || fail "api's switch did not finish"
fo_wait 10 fo_dig_is "$W" A 127.0.0.2 || fail "www's switch did not finish"
# Once the switch is over, the same reload goes through.
kill -HUP "$FO_PID"
fo_wait 5 fo_log_has 'event=group_removed group=api' || fail "reload after the switch"
fo_stop || fail "stop"
echo ok
