#!/bin/bash
# End to end: real named, real web heads, real hook processes, failoverd.
# The primary's web head dies -> within fall x interval (plus a margin) the
# address points at the backup, the hooks ran in order with the contract
# environment, events are in the history; the primary coming back does not
# cause a failback.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/fo.sh"

fo_init
fo_webhead app1
fo_webhead app2
fo_maint app2 on			# a dormant standby answers 503
fo_hooks
H=$FO/hooks/rec
FO_GROUP_EXTRA="on_status_change = $H notify" fo_conf
"$FAILOVERD" -t -c "$FO/failoverd.conf" || fail "config check"

W=www.$NAMED_ZONE
fo_start
fo_wait 5 fo_dig_is "$W" CNAME app1.example.net. || fail "never published app1"
# The ownership record goes with the first publication.
fo_dig "_failoverd.$W" TXT | grep -q 'group=www' || fail "no ownership TXT"
fo_wait 5 fo_log_has 'event=health_change stack=app2 from=unknown to=up' || fail "app2 never up"

t0=$(date +%s%N)
fo_webhead_stop app1
fo_wait 10 fo_dig_is "$W" A 127.0.0.2 || fail "no flip to app2"
t1=$(date +%s%N)
fo_dig_is "$W" AAAA ::2 || fail "AAAA missing"
fo_dig_is "$W" CNAME "" || fail "CNAME left behind"
echo "outage to flip: $(( (t1 - t0) / 1000000 )) ms"

# Hooks: in order, on the right stacks, with the same switch id.
phases=$(grep -v '^status_change' "$FO/hooks.log" | awk '{print $1 ":" $2}' | tr '\n' ' ')
[ "$phases" = "maintenance_on:app1 replication_off:app2 promote:app2 maintenance_off:app2 " ] ||
	fail "hook order: $phases"
[ "$(grep -v '^status_change' "$FO/hooks.log" | awk '{print $5}' | sort -u | wc -l)" = 1 ] || fail "switch id not stable"
grep -q "reason=auto" "$FO/hooks.log" || fail "reason not auto"
# Environment: PATH plus exactly the contract variables.
envs=$(cut -d= -f1 "$FO/env.promote" | tr '\n' ' ')
want="FAILOVER_ADDRESS FAILOVER_ATTEMPT FAILOVER_DRY_RUN FAILOVER_FROM FAILOVER_GROUP FAILOVER_ID FAILOVER_PHASE FAILOVER_REASON FAILOVER_STACK FAILOVER_STATE_DIR FAILOVER_TO PATH "
# sh itself may add PWD/SHLVL/_ to what env prints; drop those.
envs=$(echo "$envs" | tr ' ' '\n' | grep -v -E '^(PWD|SHLVL|_|OLDPWD|)$' | tr '\n' ' ')
[ "$envs" = "$want" ] || fail "hook env: $envs"
grep -q "^FAILOVER_ADDRESS=$W\$" "$FO/env.promote" || fail "FAILOVER_ADDRESS"
grep -q "^FAILOVER_ATTEMPT=1\$" "$FO/env.promote" || fail "FAILOVER_ATTEMPT"

fo_wait 5 fo_log_has 'event=switch_finished' || fail "no switch_finished"
# on_status_change: each stack whose status changed, with FAILOVER_STATUS.
fo_wait 5 grep -q '^status_change app2 .*status=online' "$FO/hooks.log" || fail "no online status_change for app2"
fo_wait 5 grep -q '^status_change app1 .*status=offline' "$FO/hooks.log" || fail "no offline status_change for app1"
fo_wait 5 fo_log_has 'event=confirmed' || fail "no confirmation"

# The primary comes back: no failback.
fo_webhead app1 "$WH_PORT_app1"
fo_wait 5 fo_log_has 'event=health_change stack=app1 from=down to=up' || fail "app1 not back up"
sleep 1
fo_dig_is "$W" A 127.0.0.2 || fail "failed back"
[ "$(grep -vc '^status_change' "$FO/hooks.log")" = 4 ] || fail "hooks ran again"

# A record changed by hand is drift: detected by the periodic read-back
# (verify_interval 1s) and repaired.
nsupdate -k "$NAMED_KEYFILE" <<NSU || fail "nsupdate"
server 127.0.0.1 $NAMED_PORT
zone $NAMED_ZONE
update delete $W A
update add $W 60 A 192.0.2.99
send
NSU
# (The read-back, once a second, may find and repair it before dig looks.)
fo_dig_is "$W" A "127.0.0.2 192.0.2.99" || fo_dig_is "$W" A 192.0.2.99 ||
    fo_log_has 'event=drift group=www .*found A 192.0.2.99' || fail "hand edit not applied"
fo_wait 5 fo_log_has 'event=drift group=www' || fail "drift not detected"
fo_wait 5 fo_dig_is "$W" A 127.0.0.2 || fail "drift not repaired"

fo_stop || fail "failoverd exit status $?"
fo_log_has 'event=stopped' || fail "no clean stop"
echo ok
