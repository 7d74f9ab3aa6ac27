#!/bin/bash
# SIGHUP: a reload that adds groups (one with an auto address, one with no
# stacks) is applied without disturbing the running probes; an invalid
# configuration is refused and the old one keeps running.  --dry-run runs
# no hook and sends no UPDATE.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/fo.sh"

fo_world
fo_wait 5 fo_log_has "event=health_change stack=app1 from=unknown to=up" || fail "app1 never up"
probes_before=$(fo_log_count 'event=health_change stack=app1 from=unknown')

echo "== reload adds groups"
FO_TAIL="
[group api]
address = api
primary = app1
backup = app2
ttl = 30s

[group spare]
address = auto
" fo_conf
kill -HUP "$FO_PID"
fo_wait 5 fo_log_has 'event=reloaded' || fail "no reload"
fo_log_has 'event=group_added group=api' || fail "api not added"
fo_wait 5 fo_dig_is "api.$NAMED_ZONE" CNAME app1.example.net. || fail "api not published"
label=$(sed -n 's/.*event=address group=spare name=\([0-9-]*\)\..*/\1/p' "$FO/failoverd.log" | head -1)
echo "auto address: $label"
[[ $label =~ ^[0-9]{3}-[0-9]{3}-[0-9]{3}$ ]] || fail "auto address label '$label'"
[ -z "$(fo_dig "$label.$NAMED_ZONE" A)$(fo_dig "$label.$NAMED_ZONE" CNAME)" ] || fail "a group with no stacks published"
# Unchanged stacks kept their probe and health: no new unknown->up.
[ "$(fo_log_count 'event=health_change stack=app1 from=unknown')" = "$probes_before" ] || fail "app1 probe restarted by the reload"
fo_dig_is "$W" CNAME app1.example.net. || fail "www disturbed"

echo "== the same auto address after a restart"
fo_stop || fail "stop"
mv "$FO/failoverd.log" "$FO/failoverd.log.old"
fo_start
fo_wait 5 fo_log_has 'event=ready' || fail "restart"
[ "$(sed -n 's/.*event=address group=spare name=\([0-9-]*\)\..*/\1/p' "$FO/failoverd.log" | sort -u)" = "$label" ] || fail "auto address changed"

echo "== invalid reload is refused"
cp "$FO/failoverd.conf" "$FO/good.conf"
printf '\n[group broken]\nprimary = nosuch\n' >>"$FO/failoverd.conf"
cat "$FO/failoverd.log" >>"$FO/failoverd.log.old"
: >"$FO/failoverd.log"
kill -HUP "$FO_PID"
fo_wait 5 fo_log_has 'event=reload_failed' || fail "invalid reload not refused"
fo_log_has 'event=reload_refused .*nosuch' || fail "reload error not named"
kill -0 "$FO_PID" || fail "daemon died"
fo_webhead_stop app1
fo_wait 10 fo_dig_is "$W" A 127.0.0.2 || fail "old configuration not running after a refused reload"
fo_wait 5 fo_dig_is "api.$NAMED_ZONE" A 127.0.0.2 || fail "the second group did not flip"
fo_stop || fail "stop"

echo "== dry run"
cp "$FO/good.conf" "$FO/failoverd.conf"
fo_webhead app1 "$WH_PORT_app1"
: >"$FO/hooks.log"
: >"$FO/failoverd.log"
fo_reset_state
before=$(fo_dig "$W" A | sort | tr '\n' ' ')
fo_start --dry-run
fo_wait 5 fo_log_has 'event=ready' || fail "dry-run start"
fo_wait 5 fo_log_has 'event=dns_updated .*dry_run=yes' || fail "no dns_updated dry_run=yes"
fo_log_has 'nsupdate=.*update add www' || fail "UPDATE not shown in nsupdate syntax"
fo_webhead_stop app1
fo_wait 10 fo_log_has 'event=hook_start .*phase=promote .*dry_run=yes .*FAILOVER_ID=' || fail "hook_start dry_run=yes with env missing"
fo_wait 5 fo_log_has 'event=switch_finished' || fail "dry-run switch did not finish"
[ -s "$FO/hooks.log" ] && fail "a hook ran in dry-run"
[ "$(fo_dig "$W" A | sort | tr '\n' ' ')" = "$before" ] || fail "dry-run changed DNS"
[ -e "$FO/state" ] && fail "dry-run touched the state directory"
fo_stop || fail "stop"
echo ok
