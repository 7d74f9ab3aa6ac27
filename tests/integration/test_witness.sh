#!/bin/bash
# Isolation: with a witness configured, a controller that cannot reach it
# does not fail over (gate witness_down); once the witness answers again,
# the held switch goes ahead.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/fo.sh"

fo_init
fo_webhead wit
FO_CTL_EXTRA="witness = http://127.0.0.1:$WH_PORT_wit/ping
isolation_check = yes"
export FO_CTL_EXTRA
fo_webhead app1
fo_webhead app2
fo_maint app2 on
fo_hooks
fo_conf
W=www.$NAMED_ZONE
fo_start
fo_wait 5 fo_dig_is "$W" CNAME app1.example.net. || fail "not published"
fo_wait 5 fo_log_has 'event=witness_change from=unknown to=ok' || fail "witness never ok"
fo_wait 5 fo_log_has 'event=health_change stack=app2 from=unknown to=up' || fail "app2 never up"

fo_webhead_stop wit
fo_webhead_stop app1
fo_wait 5 fo_log_has 'event=witness_change from=ok to=down' || fail "witness not seen down"
fo_wait 5 fo_log_has 'event=gate_held .*reason=witness_down' || fail "not held by the witness"
sleep 0.5
fo_log_has 'event=switch_started' && fail "switched while isolated"
fo_dig_is "$W" CNAME app1.example.net. || fail "record moved while isolated"

fo_webhead wit "$WH_PORT_wit"
fo_wait 10 fo_dig_is "$W" A 127.0.0.2 || fail "no switch once the witness answered"
fo_stop || fail "stop"
echo ok
