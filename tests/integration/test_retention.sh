#!/bin/bash
# The logs never crowd out the journal: a state_dir whose history already
# takes 60 % of a small map (a flapping fleet's year) is cut down by the
# daemon to its share (event=store_pruned), the hash chain still verifies
# (the prune is anchored inside it), and a switch then journals and
# completes.  The store-level year of flapping is test_store's
# test_year_of_flapping.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/fo.sh"

fo_init
fo_webhead app1
fo_webhead app2
fo_maint app2 on
fo_hooks
FO_CTL_EXTRA="map_size = 2M" fo_conf
W=www.$NAMED_ZONE
"$TOOLS/storetool" -m $((2 << 20)) "$FO/state" fill www 60 || fail "fill"
"$TOOLS/storetool" -r "$FO/state" verify >/dev/null || fail "chain broken before the daemon"
fo_start
fo_wait 5 fo_dig_is "$W" CNAME app1.example.net. || fail "never published app1"
fo_wait 15 fo_log_has 'event=store_pruned history_removed=[1-9]' || fail "the history was not pruned"
"$TOOLS/storetool" -r "$FO/state" verify | grep -q '^ok ' || fail "chain does not verify after the prune: $("$TOOLS/storetool" -r "$FO/state" verify)"
u=$("$TOOLS/storetool" -r "$FO/state" usage)
hb=$(sed -n 's/.*history_bytes=\([0-9]*\).*/\1/p' <<<"$u")
mb=$(sed -n 's/.*map_bytes=\([0-9]*\).*/\1/p' <<<"$u")
[ "$hb" -le $((mb / 4)) ] || fail "history still takes $hb of $mb bytes"
fo_wait 5 fo_log_has 'event=health_change stack=app2 from=unknown to=up' || fail "app2 never up"
fo_webhead_stop app1
fo_wait 10 fo_dig_is "$W" A 127.0.0.2 || fail "no failover"
fo_wait 5 fo_log_has 'event=switch_finished' || fail "switch not journaled to its end"
fo_log_has 'event=persist_failed' && fail "a commit failed"
"$TOOLS/storetool" -r "$FO/state" verify | grep -q '^ok ' || fail "chain does not verify after the switch"
echo ok
