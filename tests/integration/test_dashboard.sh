#!/bin/bash
# The dashboard in a real browser (headless chromium through chromedriver
# and Selenium, all Debian packages from make deps; nothing is downloaded)
# against a real failoverd, named and two web heads: the page, the green
# radio, the confirmation of a switch read from the grey radio, Switch
# Traffic Now with a wrong and then the right token, the phases live, the
# radio buttons following the record, the history's chain verdict, pause
# and resume, a group added through the form and edited to set its
# backup, one deleted, phone width (test_dashboard.py).  Then named must answer the
# backup's records and the hooks must have run in order.  Screenshots of
# each step: build/test-logs/dashboard/.  Skipped (77) only when chromium,
# chromedriver or Selenium is not installed.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/fo.sh"

CHROMIUM=$(command -v chromium || true)
CHROMEDRIVER=$(command -v chromedriver || true)
[ -n "$CHROMIUM" ] && [ -n "$CHROMEDRIVER" ] || { echo "skip: no chromium/chromedriver (apt-get install chromium chromium-driver)"; exit 77; }
# Debian's python3, which python3-selenium installs into (a python3
# earlier on PATH, from pyenv or a venv, does not see it).
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
"$PY" -c 'import selenium' 2>/dev/null || { echo "skip: no python3-selenium"; exit 77; }
command -v curl >/dev/null || { echo "skip: no curl"; exit 77; }

SHOTS=$TOP/${BUILD:-build}/test-logs/dashboard
rm -rf "$SHOTS"
mkdir -p "$SHOTS"

port_free() { [ -z "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]; }

fo_init
fo_webhead app1
fo_webhead app2
fo_maint app2 on
fo_hooks
TOKEN=dash-browser-token-$RANDOM$RANDOM$RANDOM
printf '%s\n' "$TOKEN" >"$FO/token"
chmod 0600 "$FO/token"
W=www.$NAMED_ZONE

for try in $(seq 1 40); do
	PORT=$(( 20000 + RANDOM % 12000 ))
	port_free "$PORT" || continue
	FO_LISTEN=127.0.0.1:$PORT
	FO_CTL_EXTRA="api_token_file = $FO/token"
	FO_HOLD_DOWN=0s
	fo_conf
	: >"$FO/failoverd.log"
	fo_start
	fo_wait 20 eval 'fo_log_has event=api_listening || ! kill -0 $FO_PID' || fail "failoverd did not listen"
	fo_log_has 'event=api_listening' && break
	fo_log_has 'listen on' || fail "failoverd did not start: $(tail -3 "$FO/failoverd.log")"
	fo_kill9
	PORT=
done
[ -n "$PORT" ] || fail "could not start failoverd with a listener"
BASE=http://127.0.0.1:$PORT
fo_wait 5 fo_dig_is "$W" CNAME app1.example.net. || fail "never published app1"
fo_wait 5 fo_log_has 'event=health_change stack=app2 from=unknown to=up' || fail "app2 never up"
fo_wait 5 fo_log_has 'event=health_change stack=app1 from=unknown to=up' || fail "app1 never up"

# The browser is the test's own child too: chromedriver and chromium end
# with driver.quit(); a timeout kills the whole run.
FO_HOOK=$FO/hooks/rec CHROMIUM=$CHROMIUM CHROMEDRIVER=$CHROMEDRIVER HOME=$FO \
    timeout -k 5 240 "$PY" "$TOP/tests/integration/test_dashboard.py" \
    "$BASE" "$TOKEN" "$SHOTS" "$NAMED_PORT"
rc=$?
[ $rc = 0 ] || fail "browser test failed (rc=$rc); screenshots in $SHOTS"

# What the page did is what happened.
fo_dig_is "$W" A 127.0.0.2 || fail "named does not answer the backup's A: $(fo_dig "$W" A)"
fo_dig_is "$W" AAAA ::2 || fail "named does not answer the backup's AAAA: $(fo_dig "$W" AAAA)"
[ -z "$(fo_dig "$W" CNAME)" ] || fail "the CNAME is still there"
order=$(awk '{ print $1 "/" $2 }' "$FO/hooks.log" | tr '\n' ' ')
[ "$order" = "maintenance_on/app1 replication_off/app2 promote/app2 maintenance_off/app2 " ] ||
    fail "hooks ran as: $order"
fo_log_has 'event=api_command group=www cmd=switch stack=app2 .*peer=127\.0\.0\.1' || fail "no switch command (with its peer) in the log"
fo_log_has 'event=api_refused .*http_status=401' || fail "the wrong token was not refused"
grep -qF -- "$TOKEN" "$FO/failoverd.log" && fail "the token is in the log"
# The groups made in the page are in the state, as failoverctl sees them.
$FAILOVERCTL -c "$FO/failoverd.conf" group list >"$FO/list" || fail "group list"
grep -Eq '^shop +runtime +[0-9]{3}-[0-9]{3}-[0-9]{3}\.[^ ]+ +app2 +app1 +60s$' "$FO/list" || fail "shop: $(cat "$FO/list")"
grep -q '^spare ' "$FO/list" && fail "spare was not deleted: $(cat "$FO/list")"
SHOP=$(awk '$1 == "shop" { print $3 }' "$FO/list")
fo_dig_is "$SHOP" A 127.0.0.2 || fail "shop ($SHOP) is not published on app2: $(fo_dig "$SHOP" A)"
fo_log_has 'event=api_group group=shop cmd=add' || fail "no add in the log"
fo_log_has 'event=api_group group=shop cmd=set' || fail "no edit in the log"
fo_log_has 'event=api_group group=spare cmd=delete' || fail "no delete in the log"
for s in 01-loaded 02-confirm 03-wrong-token 04-phases 05-switched 07-add-form 08-added 09-edited 10-deleted 06-phone; do
	[ -s "$SHOTS/$s.png" ] || fail "no screenshot $s"
done
fo_stop || fail "failoverd exited $?"
fo_log_has 'level=error' && fail "errors in the log: $(grep level=error "$FO/failoverd.log" | head -3)"
echo "ok: dashboard in chromium; screenshots in $SHOTS"
