#!/bin/bash
# Groups made at run time against a real failoverd (real named, real web
# heads, recording hooks): failoverctl group add|set|list|delete and
# POST /v1/groups, PATCH and DELETE /v1/groups/NAME.  A group added either
# way is published; an auto address is shown once allocated; the groups
# survive a restart; a backup set later makes a switch work; delete is
# refused while the group points at a stack and tombstones its address
# after; the file's groups are read-only (409); bad input is one clear line
# (naming an unknown stack), a non-zero exit or a 4xx, and changes nothing;
# every change needs the token (401, as every POST does; 403 without a
# token file); a file that no longer fits a run-time group: the reload is
# refused naming it, and at start the others run without it.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/fo.sh"

command -v curl >/dev/null || { echo "skip: no curl"; exit 77; }
command -v jq >/dev/null || { echo "skip: no jq"; exit 77; }

port_free() { [ -z "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]; }

fo_init
fo_webhead app1
fo_webhead app2
fo_maint app2 on
fo_hooks
TOKEN=groups-token-$RANDOM$RANDOM$RANDOM$RANDOM
printf '%s\n' "$TOKEN" >"$FO/token"
chmod 0600 "$FO/token"
W=www.$NAMED_ZONE
Z=$NAMED_ZONE
CTL="$FAILOVERCTL -c $FO/failoverd.conf"

start_listening() {
	local try
	for try in $(seq 1 40); do
		[ -n "${PORT:-}" ] || PORT=$(( 20000 + RANDOM % 12000 ))
		port_free "$PORT" || { PORT=; continue; }
		FO_LISTEN=127.0.0.1:$PORT
		FO_CTL_EXTRA="api_token_file = $FO/token"
		FO_HOLD_DOWN=0s
		fo_conf
		fo_start
		fo_wait 20 eval 'fo_log_has "event=api_listening.*:$PORT" || ! kill -0 $FO_PID' || fail "failoverd did not listen"
		fo_log_has "event=api_listening.*:$PORT" && return 0
		fo_log_has 'listen on' || fail "failoverd did not start: $(tail -3 "$FO/failoverd.log")"
		fo_kill9
		PORT=
	done
	fail "could not start failoverd with a listener"
}
start_listening
BASE=http://127.0.0.1:$PORT
fo_wait 5 fo_dig_is "$W" CNAME app1.example.net. || fail "never published app1"
fo_wait 5 fo_log_has 'event=health_change stack=app2 from=unknown to=up' || fail "app2 never up"

req() {	# METHOD PATH [curl args]: $CODE, $FO/body
	local m=$1 p=$2; shift 2
	CODE=$(curl -sS -X "$m" -o "$FO/body" -w '%{http_code}' \
	    --max-time 5 "$@" "$BASE$p") || CODE=000
}
auth=(-H "Authorization: Bearer $TOKEN")
json=(-H "Content-Type: application/json")
expect() { [ "$CODE" = "$1" ] || fail "$2: HTTP $CODE, want $1: $(head -c 400 "$FO/body")"; }
jqb() { jq -e "$@" "$FO/body" >/dev/null; }
listing() { $CTL group list; }
# What a change would touch: the groups, their flags and addresses, and
# the history's count of group changes (group states move by themselves).
state_sum() {
	{ listing; "$TOOLS/storetool" -r "$FO/state" dump 2>/dev/null |
	    grep -E '^(address|flags) |event=group_'; } | md5sum
}

# ---- failoverctl group add: published, listed, in the status
$CTL group add shop --address shop --primary app1 --ttl 30s >"$FO/out" 2>&1 || fail "group add shop: $(cat "$FO/out")"
grep -q '^shop: added (primary app1, backup none, ttl 30s)$' "$FO/out" || fail "group add said: $(cat "$FO/out")"
fo_wait 5 fo_dig_is "shop.$Z" CNAME app1.example.net. || fail "shop never published"
fo_log_has 'event=groups_applied groups=2 runtime=1' || fail "the daemon did not log groups_applied"
listing | grep -Eq "^shop +runtime +shop\.$Z +app1 +- +30s$" || fail "group list: $(listing)"
listing | grep -Eq "^www +file +www\.$Z +app1 +app2 +60s$" || fail "group list www: $(listing)"
$CTL status shop >"$FO/out" 2>&1 || fail "status shop: $(cat "$FO/out")"

# ---- every change needs the token, and a refused one changes nothing
before=$(state_sum)
req POST /v1/groups "${json[@]}" -d '{"name":"blog","primary":"app1"}'; expect 401 "POST without a token"
req POST /v1/groups "${json[@]}" -H "Authorization: Bearer wrong-$TOKEN" -d '{"name":"blog"}'; expect 401 "POST with a wrong token"
req PATCH /v1/groups/shop "${json[@]}" -d '{"backup":"app2"}'; expect 401 "PATCH without a token"
req DELETE /v1/groups/shop; expect 401 "DELETE without a token"
[ "$(state_sum)" = "$before" ] || fail "a refused request changed the state"

# ---- POST /v1/groups: auto address, shown once allocated, published
req POST /v1/groups "${auth[@]}" "${json[@]}" -d '{"name":"blog","primary":"app1"}'; expect 201 "POST blog"
jqb '.name == "blog" and .definition.origin == "runtime" and .definition.address == "auto"
    and .definition.primary == "app1" and .definition.backup == null' || fail "POST body: $(cat "$FO/body")"
BLOG=$(jq -r .address "$FO/body")
[[ $BLOG =~ ^[0-9]{3}-[0-9]{3}-[0-9]{3}\.$Z$ ]] || fail "auto address: $BLOG"
fo_wait 5 fo_dig_is "$BLOG" CNAME app1.example.net. || fail "blog ($BLOG) never published"
listing | grep -Eq "^blog +runtime +$BLOG +app1 +- +60s$" || fail "group list blog: $(listing)"
req GET /v1/groups; expect 200 "GET /v1/groups"
jqb '[.groups[].name] == ["www", "shop", "blog"]' || fail "GET groups: $(jq -c '[.groups[].name]' "$FO/body")"

# ---- the file's groups are read-only; a name is taken once
req PATCH /v1/groups/www "${auth[@]}" "${json[@]}" -d '{"ttl":"30s"}'; expect 409 "PATCH www"
jqb '.reason == "in_config"' || fail "PATCH www: $(cat "$FO/body")"
req DELETE /v1/groups/www "${auth[@]}"; expect 409 "DELETE www"
req POST /v1/groups "${auth[@]}" "${json[@]}" -d '{"name":"www"}'; expect 409 "POST www"
req POST /v1/groups "${auth[@]}" "${json[@]}" -d '{"name":"blog"}'; expect 409 "POST blog again"
$CTL group set www --ttl 30s >"$FO/out" 2>&1 && fail "group set www succeeded"
grep -q 'defined in the configuration file' "$FO/out" || fail "group set www said: $(cat "$FO/out")"
req PATCH /v1/groups/nope "${auth[@]}" "${json[@]}" -d '{"ttl":"30s"}'; expect 404 "PATCH an unknown group"

# ---- bad input: one clear line, non-zero, nothing changed
before=$(state_sum)
$CTL group add bad --primary app9 >"$FO/out" 2>"$FO/err"; rc=$?
[ $rc = 1 ] || fail "group add with an unknown stack: exit $rc"
[ "$(wc -l <"$FO/err")" = 1 ] || fail "not one line: $(cat "$FO/err")"
grep -q 'run-time group bad: primary: no \[stack app9\] is defined' "$FO/err" || fail "unknown stack: $(cat "$FO/err")"
req POST /v1/groups "${auth[@]}" "${json[@]}" -d '{"name":"bad","primary":"app9"}'; expect 400 "POST unknown stack"
jqb '.error | test("stack app9")' || fail "POST unknown stack: $(cat "$FO/body")"
req POST /v1/groups "${auth[@]}" "${json[@]}" -d '{"name":"bad","backup":"app2"}'; expect 400 "POST backup without primary"
jqb '.error | test("a backup needs a primary")' || fail "backup alone: $(cat "$FO/body")"
req POST /v1/groups "${auth[@]}" "${json[@]}" -d '{"name":"bad","primary":"app1","ttl":"soon"}'; expect 400 "POST bad ttl"
req POST /v1/groups "${auth[@]}" "${json[@]}" -d '{"name":"bad x"}'; expect 400 "POST bad name"
req POST /v1/groups "${auth[@]}" "${json[@]}" -d '{"name":"bad","primary":"app1\non_status_change = /bin/sh"}'; expect 400 "POST a value with a newline"
req POST /v1/groups "${auth[@]}" "${json[@]}" -d '{"name":"bad","on_status_change":"/bin/sh"}'; expect 400 "POST a hook"
req POST /v1/groups "${auth[@]}" "${json[@]}" -d '{"name":'; expect 400 "POST bad JSON"
req POST /v1/groups "${auth[@]}" "${json[@]}" -d '{"name":"bad","address":"shop"}'; expect 400 "POST a taken address"
$CTL group set shop --backup app1 >"$FO/out" 2>"$FO/err" && fail "backup = primary accepted"
grep -q 'the same stack as primary' "$FO/err" || fail "backup = primary: $(cat "$FO/err")"
$CTL group add >"$FO/out" 2>&1; [ $? = 2 ] || fail "group add without a name: not a usage error"
[ "$(state_sum)" = "$before" ] || fail "bad input changed the state"
fo_log_has 'event=groups_refused' && fail "the daemon was handed groups it refused"

# ---- a restart keeps the groups, their addresses and their records
fo_stop || fail "failoverd did not stop cleanly"
fo_start
fo_wait 20 fo_log_has "event=ready stacks=2 groups=3" || fail "not ready with 3 groups after the restart"
listing | grep -Eq "^blog +runtime +$BLOG +app1 +- +60s$" || fail "blog after the restart: $(listing)"
listing | grep -Eq "^shop +runtime +shop\.$Z +app1 +- +30s$" || fail "shop after the restart: $(listing)"
fo_wait 5 fo_dig_is "$BLOG" CNAME app1.example.net. || fail "blog not published after the restart"
fo_wait 10 fo_log_has 'event=api_listening' || fail "no API after the restart"

# ---- PATCH sets the backup later; a switch then works
req PATCH /v1/groups/blog "${auth[@]}" "${json[@]}" -d '{"backup":"app2"}'; expect 200 "PATCH blog backup"
jqb '.definition.backup == "app2" and .standby == "app2"' || fail "PATCH body: $(cat "$FO/body")"
# app1 goes into maintenance during blog's switch: keep www where it is.
$CTL pause www >/dev/null || fail "pause www"
$CTL pause shop >/dev/null || fail "pause shop"
timeout 60 $CTL switch blog --yes >"$FO/out" 2>&1 || fail "switch blog: $(cat "$FO/out")"
fo_wait 5 fo_dig_is "$BLOG" A 127.0.0.2 || fail "blog not on app2 after the switch: $(fo_dig "$BLOG" A)"
fo_dig_is "$W" CNAME app1.example.net. || fail "www moved with blog"

# ---- delete: refused while it points at a stack, tombstoned after
req DELETE /v1/groups/blog "${auth[@]}"; expect 409 "DELETE blog with stacks"
jqb '.reason == "has_stacks" and (.error | test("app1 and app2"))' || fail "DELETE blog: $(cat "$FO/body")"
$CTL group delete shop >"$FO/out" 2>"$FO/err" && fail "group delete shop with a primary succeeded"
grep -q 'points at app1' "$FO/err" || fail "group delete shop said: $(cat "$FO/err")"
# Unpointed, its record still published: the API sends to failoverctl,
# which removes the record with a signed UPDATE.
$CTL group set shop --no-primary >"$FO/out" 2>&1 || fail "group set shop --no-primary: $(cat "$FO/out")"
fo_wait 5 fo_log_has 'event=state_reset group=shop' || fail "the daemon did not take shop without a primary"
req DELETE /v1/groups/shop "${auth[@]}"; expect 409 "DELETE shop while its record is published"
jqb '.reason == "published"' || fail "DELETE shop published: $(cat "$FO/body")"
$CTL group delete shop >"$FO/out" 2>&1 || fail "group delete shop: $(cat "$FO/out")"
fo_wait 5 eval '[ -z "$(fo_dig shop.$Z CNAME)" ]' || fail "shop's record is still there"
"$TOOLS/storetool" -r "$FO/state" dump | grep -q 'shop.*tombstone\|tombstone.*shop' || fail "no tombstone for shop"
listing | grep -q '^shop ' && fail "shop still listed"
# A group that points at nothing: 204, its auto label tombstoned.
req POST /v1/groups "${auth[@]}" "${json[@]}" -d '{"name":"spare","address":null,"ttl":30}'; expect 201 "POST spare"
jqb '.definition.address == "auto" and .definition.ttl == 30 and .definition.primary == null' || fail "spare: $(cat "$FO/body")"
SPARE=$(jq -r .address "$FO/body")
[[ $SPARE =~ ^[0-9]{3}-[0-9]{3}-[0-9]{3}\.$Z$ ]] || fail "spare's address: $SPARE"
[ -z "$(fo_dig "$SPARE" CNAME)$(fo_dig "$SPARE" A)" ] || fail "a group without stacks published something"
req DELETE /v1/groups/spare "${auth[@]}"; expect 204 "DELETE spare"
"$TOOLS/storetool" -r "$FO/state" dump | grep -q "${SPARE%%.*}.*tombstone" || fail "no tombstone for $SPARE"
req GET /v1/groups/spare; expect 404 "spare after delete"
# The name may come back, never its label.
req POST /v1/groups "${auth[@]}" "${json[@]}" -d "{\"name\":\"spare2\",\"address\":\"${SPARE%%.*}\"}"; expect 409 "POST on a tombstoned label"
jqb '.reason == "address_taken"' || fail "tombstoned label: $(cat "$FO/body")"
grep 'event=groups_applied' "$FO/failoverd.log" | tail -1 | grep -q 'groups=2 runtime=1$' || fail "the delete was not taken in: $(grep 'event=groups_applied' "$FO/failoverd.log" | tail -1)"

# ---- a file that no longer fits the groups made at run time
# A third stack, and a group on it; then a file without that stack.
fo_webhead app3
FO_TAIL=$(_fo_stack app3 app3.example.net)
fo_conf
kill -HUP "$FO_PID"
fo_wait 10 fo_log_has 'event=reloaded .*stacks=3' || fail "no reload with app3"
$CTL group add three --address three --primary app3 >"$FO/out" 2>&1 || fail "group add three: $(cat "$FO/out")"
fo_wait 5 fo_dig_is "three.$Z" CNAME app3.example.net. || fail "three never published"
FO_TAIL=
fo_conf
kill -HUP "$FO_PID"
fo_wait 10 fo_log_has 'event=reload_refused error="run-time group three: primary: no \[stack app3\] is defined"' ||
	fail "the reload did not name the group that no longer fits"
fo_log_has 'event=reload_failed .*do not fit the new file' || fail "no reload_failed"
kill -0 "$FO_PID" || fail "failoverd died on the reload"
req GET /v1/groups/three; expect 200 "three after the refused reload"
# At start, the file's groups run without it, and it stays in the store.
fo_stop || fail "failoverd did not stop cleanly"
fo_start
fo_wait 20 fo_log_has "event=ready stacks=2 groups=2" || fail "not ready with www and blog"
fo_log_has 'event=groups_refused error="run-time group three: primary: no \[stack app3\] is defined"' ||
	fail "no groups_refused at start"
$CTL status www >"$FO/out" 2>"$FO/err" || fail "status with unfit groups: $(cat "$FO/err")"
grep -q 'warning: the groups made at run time are left out: run-time group three' "$FO/err" || fail "no warning: $(cat "$FO/err")"
$CTL group add four --primary app1 >"$FO/out" 2>"$FO/err" && fail "add accepted while the state does not fit"
grep -q 'no longer fit the configuration file' "$FO/err" || fail "add with unfit state: $(cat "$FO/err")"
# The stack back in the file: the group is back, as it was.
FO_TAIL=$(_fo_stack app3 app3.example.net)
fo_conf
kill -HUP "$FO_PID"
fo_wait 10 fo_log_has 'event=reloaded .*stacks=3 groups=3' || fail "the group did not come back with its stack"
fo_dig_is "three.$Z" CNAME app3.example.net. || fail "three's record moved"
# ---- no api_token_file: every change is 403, and changes nothing
fo_stop || fail "failoverd did not stop cleanly"
FO_CTL_EXTRA=
fo_conf
sed -i '/^api_token_file/d' "$FO/failoverd.conf"
fo_start
fo_wait 20 fo_log_has "event=ready stacks=3 groups=3" || fail "no restart without a token file"
before=$(state_sum)
req POST /v1/groups "${auth[@]}" "${json[@]}" -d '{"name":"nope"}'; expect 403 "POST without a token file"
req PATCH /v1/groups/blog "${auth[@]}" "${json[@]}" -d '{"ttl":"30s"}'; expect 403 "PATCH without a token file"
req DELETE /v1/groups/three "${auth[@]}"; expect 403 "DELETE without a token file"
[ "$(state_sum)" = "$before" ] || fail "a 403 changed the state"
fo_stop || fail "failoverd did not stop cleanly at the end"
fo_log_has 'level=error event=(api_error|store_failed|state_unreadable)' && fail "errors: $(grep level=error "$FO/failoverd.log" | head -3)"
echo "PASS: test_groups"
