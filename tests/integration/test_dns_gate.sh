#!/bin/bash
# The gate dns_unusable against a real named: a switch never starts while
# the server refuses the group's DNS, because its flip would be refused too
# (the old stack put in maintenance, the replica promoted, the group stuck
# in switching/dns for good).
#
# 1. adopt = no on a name that exists without our ownership TXT: the first
#    publication is judged not_owner.  app1 dies: held, no hook runs;
#    failoverctl status and GET /v1/groups/www show the gate and the
#    reason; a manual switch (failoverctl, POST .../switch) is refused
#    naming both; --force is the operator's way through.
# 2. A key named doesn't know (BADKEY), then a key without update rights
#    (REFUSED by update-policy) on the first publication: held the same
#    way, the reason follows the server.  With the right key the first
#    UPDATE is accepted, the gate opens and the still-dead app1 fails over
#    normally.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/fo.sh"

fo_init
fo_webhead app1
fo_webhead app2
fo_maint app2 on
fo_hooks
W=www.$NAMED_ZONE
CONF=$FO/failoverd.conf

nsu() {
	{ echo "server 127.0.0.1 $NAMED_PORT"; echo "zone $NAMED_ZONE"; cat; echo send; } |
	    nsupdate -k "$NAMED_KEYFILE" || fail "nsupdate"
}
# No sequence hook ran (on_status_change is not configured here).
no_hooks() {
	[ ! -s "$FO/hooks.log" ] || fail "hooks ran while the DNS was refused: $(cat "$FO/hooks.log")"
}
ctl() { "$FAILOVERCTL" -c "$CONF" "$@"; }

# ---- 1. not ours: adopt = no over a foreign name ----
nsu <<EOF
update add $W 300 CNAME elsewhere.example.net.
EOF
# The HTTP API too, when curl is there.
API=
if command -v curl >/dev/null; then
	for try in $(seq 1 20); do
		PORT=$(( 20000 + RANDOM % 12000 ))
		[ -z "$(ss -Hltn "sport = :$PORT" 2>/dev/null)" ] && { API=http://127.0.0.1:$PORT; break; }
	done
	TOKEN=gate-token-$RANDOM$RANDOM$RANDOM
	printf '%s\n' "$TOKEN" >"$FO/token"
	chmod 0600 "$FO/token"
fi
if [ -n "$API" ]; then
	FO_LISTEN=127.0.0.1:$PORT FO_CTL_EXTRA="api_token_file = $FO/token" fo_conf
else
	fo_conf
fi
"$FAILOVERD" -t -c "$CONF" >/dev/null || fail "config check: $("$FAILOVERD" -t -c "$CONF" 2>&1)"
fo_start
fo_wait 10 fo_log_has 'event=dns_unusable group=www .*reason=not_owner' || fail "not_owner not judged"
fo_wait 5 fo_log_has 'event=health_change stack=app2 from=unknown to=up' || fail "app2 never up"
fo_webhead_stop app1
fo_wait 10 fo_log_has 'event=gate_held group=www .*reason=dns_unusable .*dns=not_owner' ||
	fail "the gate did not hold"
sleep 1.5			# several probe rounds and DNS retries
no_hooks
fo_dig_is "$W" CNAME elsewhere.example.net. || fail "the foreign record changed: $(fo_dig "$W" CNAME)"
out=$(ctl status 2>&1)
echo "$out" | grep -q 'held by gate dns_unusable not_owner' || fail "status: $out"
echo "$out" | grep -Eq '^www .* not_published$' || fail "status not published: $out"
out=$(ctl status www --json 2>&1)
echo "$out" | grep -q '"dns_unusable": *"not_owner"' || fail "status --json: $out"
out=$(ctl switch www --yes --no-wait 2>&1) && fail "a manual switch was accepted: $out"
echo "$out" | grep -q 'dns_unusable (reason=not_owner)' || fail "refusal: $out"
if [ -n "$API" ]; then
	fo_wait 10 fo_log_has 'event=api_listening' || fail "the API did not listen"
	code=$(curl -sS --max-time 5 -o "$FO/body" -w '%{http_code}' -X POST \
	    -H "Authorization: Bearer $TOKEN" -d '{}' "$API/v1/groups/www/switch")
	[ "$code" = 409 ] || fail "API switch: HTTP $code: $(cat "$FO/body")"
	grep -q '"reason": *"dns_unusable"' "$FO/body" && grep -q 'reason=not_owner' "$FO/body" ||
		fail "API refusal: $(cat "$FO/body")"
	curl -sS --max-time 5 "$API/v1/groups/www" >"$FO/body"
	grep -q '"dns_unusable": *"not_owner"' "$FO/body" && grep -q '"held": *"dns_unusable"' "$FO/body" ||
		fail "API status: $(cat "$FO/body")"
fi
sleep 0.5
no_hooks
# --force: the operator's call; the sequence starts.
out=$(ctl switch www --yes --no-wait --force 2>&1) || fail "--force refused: $out"
fo_wait 10 grep -q '^maintenance_on app1' "$FO/hooks.log" || fail "--force did not start the switch"
fo_stop || fail "stop (1)"

# ---- 2. a key the server refuses, then the right one ----
nsu <<EOF
update delete $W
update delete _failoverd.$W
EOF
rm -rf "$FO/state" "$FO/hooks.log"
fo_maint_reset
tsig-keygen -a hmac-sha256 unknown-to-named >"$FO/unknown.key" && chmod 0600 "$FO/unknown.key" ||
	fail "tsig-keygen"
sed -i -e "s|^key_file = .*|key_file = $FO/unknown.key|" -e "s|^listen = .*|listen = off|" \
    -e "/^api_token_file/d" "$CONF"
: >"$FO/failoverd.log"
fo_start
fo_wait 10 fo_log_has 'event=dns_unusable group=www .*reason=BADKEY' || fail "BADKEY not judged"
fo_wait 5 fo_log_has 'event=health_change stack=app2 from=unknown to=up' || fail "app2 never up (2)"
# app1 may be found down before the first answer (held as unchecked):
# the gate is recorded again with what the server said.
fo_wait 10 fo_log_has 'event=gate_held group=www .*reason=dns_unusable .*dns=BADKEY' ||
	fail "the gate did not hold on BADKEY"
sleep 1
no_hooks
ctl status | grep -q 'held by gate dns_unusable BADKEY' || fail "status (2): $(ctl status 2>&1)"
fo_stop || fail "stop (2)"

sed -i "s|^key_file = .*|key_file = $NAMED_KEYFILE_NOGRANT|" "$CONF"
: >"$FO/failoverd.log"
fo_start
fo_wait 10 fo_log_has 'event=dns_unusable group=www .*reason=REFUSED' || fail "REFUSED not judged"
fo_wait 10 fo_log_has 'event=gate_held group=www .*reason=dns_unusable .*dns=REFUSED' ||
	fail "the gate did not hold on REFUSED"
sleep 1
no_hooks
out=$(ctl switch www --yes --no-wait 2>&1) && fail "a manual switch was accepted (2): $out"
echo "$out" | grep -q 'dns_unusable (reason=REFUSED)' || fail "refusal (2): $out"
fo_stop || fail "stop (3)"
[ -z "$(fo_dig "$W" CNAME)$(fo_dig "$W" A)" ] || fail "a refused key published something"

# The right key: accepted at once, the gate opens, app1 (still down)
# fails over through the whole sequence.
sed -i "s|^key_file = .*|key_file = $NAMED_KEYFILE|" "$CONF"
: >"$FO/failoverd.log"
fo_start
fo_wait 15 fo_dig_is "$W" A 127.0.0.2 || fail "no failover once the key was accepted"
fo_log_has 'event=dns_usable group=www .*was=REFUSED' || fail "no dns_usable"
phases=$(awk '{print $1 ":" $2}' "$FO/hooks.log" | tr '\n' ' ')
[ "$phases" = "maintenance_on:app1 replication_off:app2 promote:app2 maintenance_off:app2 " ] ||
	fail "hook order: $phases"
fo_wait 5 fo_log_has 'event=switch_finished group=www' || fail "no switch_finished"
fo_stop || fail "stop (4)"
echo "ok: no switch starts while named refuses the group's DNS"
