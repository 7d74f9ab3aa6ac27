#!/bin/bash
# The campaign's invariant checker (campaigncheck check) on hand-written
# records: a clean switch passes, and each invariant fires on a record
# that breaks it, and only that one.  Also the recording hook's journal
# look-up against a real store: a hook whose phase_started is committed
# says journaled=yes, one whose is not says no, one whose phase finished
# says finished=yes.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
TOOLS=${TOOLS:-$TOP/build/tests/integration}
CC=$TOOLS/campaigncheck
D=$(mktemp -d /tmp/fo-cc.XXXXXX)
trap 'rm -rf "$D"' EXIT

fail() { echo "FAIL: $*"; exit 1; }

cat >"$D/map" <<'EOF'
stack app1 CNAME:app1.example.net.
stack app2 A:127.0.0.2
stack app2b A:127.0.0.2
group www www.failover.test.
EOF

# One switch app1 -> app2, id s1: four hooks, then the dns phase, then
# the record moves.  Times in microseconds.
hooks_ok() {
	cat <<'EOF'
start t=1000 pid=11 group=www phase=maintenance_on id=s1 attempt=1 stack=app1 from=app1 to=app2 journaled=yes finished=no
end t=1100 pid=11 status=ok
start t=1200 pid=12 group=www phase=replication_off id=s1 attempt=1 stack=app2 from=app1 to=app2 journaled=yes finished=no
end t=1300 pid=12 status=ok
start t=1400 pid=13 group=www phase=promote id=s1 attempt=1 stack=app2 from=app1 to=app2 journaled=yes finished=no
end t=1500 pid=13 status=ok
start t=1600 pid=14 group=www phase=maintenance_off id=s1 attempt=1 stack=app2 from=app1 to=app2 journaled=yes finished=no
end t=1700 pid=14 status=ok
EOF
}
poll_ok() {
	cat <<'EOF'
500 www.failover.test. none
600 www.failover.test. CNAME:app1.example.net.
1800 www.failover.test. A:127.0.0.2
EOF
}
hist_ok() {
	cat <<'EOF'
event seq=1 ts_ms=1 group=www event=switch_started payload={"id":"s1","from":"app1","to":"app2"} hash=00
event seq=2 ts_ms=2 group=www event=phase_started payload={"level":"info","group":"www","id":"s1","phase":"dns","stack":"app2","attempt":"1"} hash=01
EOF
}

# expect NAME|ok: run the checker on $D/{hooks,poll,hist}
expect() {
	local want=$1 out rc
	out=$("$CC" check -m "$D/map" -p "$D/poll" -k "$D/hooks" -H "$D/hist" ${JOURNAL:+-J "$JOURNAL"})
	rc=$?
	if [ "$want" = ok ]; then
		[ $rc = 0 ] || fail "$2: expected no violation, got rc=$rc: $out"
	else
		[ $rc = 1 ] || fail "$2: expected $want, got rc=$rc: $out"
		echo "$out" | grep -q "^violation=$want " || fail "$2: $want did not fire: $out"
		[ "$(echo "$out" | grep '^violation=' | grep -vc "^violation=$want ")" = 0 ] ||
		    fail "$2: another invariant fired too: $out"
	fi
	echo "$2: $(echo "$out" | grep -m1 '^violation=' || echo clean)"
}

echo "== a clean switch"
hooks_ok >"$D/hooks"; poll_ok >"$D/poll"; hist_ok >"$D/hist"
expect ok "clean switch"

echo "== a restarted phase: attempt 1 ended (SIGTERM) before attempt 2"
{ hooks_ok | sed '/pid=13/d'
  echo "start t=1400 pid=21 group=www phase=promote id=s1 attempt=1 stack=app2 from=app1 to=app2 journaled=yes finished=no"
  echo "end t=1450 pid=21 status=term"
  echo "start t=1460 pid=22 group=www phase=promote id=s1 attempt=2 stack=app2 from=app1 to=app2 journaled=yes finished=no"
  echo "end t=1500 pid=22 status=ok"; } >"$D/hooks"
expect ok "restart after a kill"

echo "== a renamed stack still names the same web head"
hooks_ok | sed 's/to=app2/to=app2b/' >"$D/hooks"
expect ok "renamed target"

echo "== silent_move"
: >"$D/hooks"; : >"$D/hist"
expect silent_move "moved with no switch at all"
hooks_ok >"$D/hooks"
expect silent_move "moved with no dns phase journaled"
hist_ok >"$D/hist"
sed 's/^1800 /1650 /' <(poll_ok) >"$D/poll"
expect silent_move "moved before maintenance_off ended"
poll_ok >"$D/poll"
hooks_ok | sed 's/group=www/group=other/' >"$D/hooks"
expect silent_move "a switch of another group"
{ poll_ok; echo "2000 www.failover.test. CNAME:app1.example.net."; } >"$D/poll"
hooks_ok >"$D/hooks"
expect silent_move "moved back with no switch"
{ poll_ok; echo "2000 www.failover.test. CNAME:other.example.net."; } >"$D/poll"
expect ok "a record holding no stack is not a move between stacks"
poll_ok >"$D/poll"

echo "== switch_overlap"
{ hooks_ok
  echo "start t=1650 pid=31 group=www phase=maintenance_on id=s2 attempt=1 stack=app2 from=app2 to=app1 journaled=yes finished=no"
  echo "end t=1660 pid=31 status=ok"; } >"$D/hooks"
expect switch_overlap "a second id inside the first"
{ echo "start t=900 pid=31 group=www phase=promote id=s0 attempt=1 stack=app2 from=app1 to=app2 journaled=yes finished=no"
  echo "end t=1050 pid=31 status=ok"
  hooks_ok; } >"$D/hooks"
expect switch_overlap "a second id across the first's start"
{ echo "start t=800 pid=31 group=www phase=maintenance_on id=s2 attempt=1 stack=app2 from=app2 to=app1 journaled=yes finished=no"
  echo "end t=900 pid=31 status=ok"
  hooks_ok
  echo "start t=1800 pid=32 group=www phase=replication_off id=s2 attempt=1 stack=app1 from=app2 to=app1 journaled=yes finished=no"
  echo "end t=1900 pid=32 status=ok"; } >"$D/hooks"
expect switch_overlap "the first id's hooks between two hooks of a second"
{ hooks_ok
  echo "start t=1650 pid=31 group=www2 phase=maintenance_on id=s2 attempt=1 stack=app2 from=app2 to=app1 journaled=yes finished=no"
  echo "end t=1660 pid=31 status=ok"; } >"$D/hooks"
expect ok "two groups may switch at once"

echo "== phase_twice"
{ hooks_ok | sed '/pid=13/d'
  echo "start t=1400 pid=21 group=www phase=promote id=s1 attempt=1 stack=app2 from=app1 to=app2 journaled=yes finished=no"
  echo "start t=1420 pid=22 group=www phase=promote id=s1 attempt=2 stack=app2 from=app1 to=app2 journaled=yes finished=no"
  echo "end t=1450 pid=21 status=ok"
  echo "end t=1500 pid=22 status=ok"; } >"$D/hooks"
expect phase_twice "two attempts of promote at once"

echo "== unjournaled_hook"
hooks_ok | sed '/pid=13/s/journaled=yes/journaled=no/' >"$D/hooks"
expect unjournaled_hook "promote before its phase_started"

echo "== finished_rerun"
{ hooks_ok
  echo "start t=1750 pid=41 group=www phase=promote id=s1 attempt=2 stack=app2 from=app1 to=app2 journaled=yes finished=yes"
  echo "end t=1760 pid=41 status=ok"; } >"$D/hooks"
expect finished_rerun "promote again after phase_finished"

echo "== paused_switch"
hooks_ok >"$D/hooks"
{ echo 'event seq=1 ts_ms=1 group=www event=paused payload={"group":"www","actor":"uid:root"} hash=00'
  echo 'event seq=2 ts_ms=2 group=www event=switch_started payload={"id":"s9","from":"app1","to":"app2","reason":"manual"} hash=00'; } >"$D/hist2"
{ cat "$D/hist2"; hist_ok | sed 's/"to":"app2"}/"to":"app2","reason":"auto"}/'; } >"$D/hist"
expect paused_switch "an automatic switch of a paused group"
{ cat "$D/hist2"; echo 'event seq=3 ts_ms=3 group=www event=resumed payload={"group":"www"} hash=00'
  hist_ok | sed 's/"to":"app2"}/"to":"app2","reason":"auto"}/'; } >"$D/hist"
expect ok "paused, resumed, then an automatic switch; a manual one while paused"
{ cat "$D/hist2"; echo 'event seq=0 ts_ms=0 group=- event=state_lost payload={} hash=00'
  hist_ok | sed 's/"to":"app2"}/"to":"app2","reason":"auto"}/'; } >"$D/hist"
expect ok "paused, then the state_dir lost with its flags"
hist_ok >"$D/hist"

echo "== member_overlap (a cluster: member= and epoch= on each hook)"
hooks_m1() { hooks_ok | sed 's/$/ member=m1 epoch=5/'; }
{ hooks_m1
  echo "start t=1450 pid=51 group=www phase=maintenance_off id=s1 attempt=1 stack=app2 from=app1 to=app2 journaled=yes finished=no member=m2 epoch=6"
  echo "end t=1480 pid=51 status=ok"; } >"$D/hooks"
expect member_overlap "m2 runs a hook of s1 while m1's promote runs"
{ hooks_m1 | sed '/pid=14/d'
  echo "start t=1600 pid=51 group=www phase=maintenance_off id=s1 attempt=1 stack=app2 from=app1 to=app2 journaled=yes finished=no member=m2 epoch=6"
  echo "end t=1700 pid=51 status=ok"; } >"$D/hooks"
expect ok "m2 resumes s1 after m1's last hook ended"

echo "== stale_epoch_hook"
hooks_m1 >"$D/hooks"
{ poll_ok; echo "1300 _failoverd.www.failover.test. epoch=6"; } | sort -n >"$D/poll"
expect stale_epoch_hook "epoch 5 hooks after the TXT showed epoch 6"
{ poll_ok; echo "1300 _failoverd.www.failover.test. epoch=5"; } | sort -n >"$D/poll"
expect ok "the TXT at the hooks' own epoch"
{ poll_ok; echo "1750 _failoverd.www.failover.test. epoch=6"; } | sort -n >"$D/poll"
expect ok "a higher epoch seen only after the last hook started"
poll_ok >"$D/poll"

echo "== epoch_order (named's journal, as named-journalprint prints it)"
echo "group www2 www2.failover.test." >>"$D/map"
soa() { printf '%s failover.test.\t\t60\tIN\tSOA\tns.failover.test. hostmaster.failover.test. %s 3600 600 86400 60\n' "$1" "$2"; }
txt() { printf '%s _failoverd.%s.failover.test. 60 IN\tTXT\t"failoverd controller=test-ctl group=%s epoch=%s"\n' "$1" "$2" "$2" "$3"; }
journal_ok() {
	soa del 1; soa add 2
	printf 'add www.failover.test.\t60\tIN\tCNAME\tapp1.example.net.\n'
	txt add www 5
	soa del 2; soa add 3
	txt del www 5; txt add www 6
	soa del 3; soa add 4
	printf 'del www.failover.test.\t60\tIN\tCNAME\tapp1.example.net.\n'
	printf 'add www.failover.test.\t60\tIN\tA\t127.0.0.2\n'
}
hooks_ok >"$D/hooks"
JOURNAL=$D/journal
journal_ok >"$JOURNAL"
expect ok "publication at 5, claim by 6, a flip under 6"
{ journal_ok; soa del 4; soa add 5; txt del www 6; txt add www 5; } >"$JOURNAL"
expect epoch_order "the TXT claimed back by epoch 5"
{ journal_ok; soa del 4; soa add 5
  printf 'add www2.failover.test.\t60\tIN\tCNAME\tapp1.example.net.\n'; txt add www2 5; } >"$JOURNAL"
expect epoch_order "another group published under 5 after www's claim by 6"
{ journal_ok; soa del 4; soa add 5
  printf 'add www2.failover.test.\t60\tIN\tCNAME\tapp1.example.net.\n'; txt add www2 7; } >"$JOURNAL"
expect ok "another group under a higher epoch"
JOURNAL=

echo "== unreadable input"
"$CC" check -m "$D/map" -p "$D/nope" -k "$D/hooks" -H "$D/hist" >/dev/null 2>&1
[ $? = 2 ] || fail "a missing file is not exit 2"

echo "== the recording hook against a real store"
S=$D/state
"$TOOLS/storetool" "$S" event www phase_started \
    '{"group":"www","id":"s1","phase":"promote","stack":"app2","attempt":"1"}' >/dev/null ||
    fail "storetool event"
mkdir -p "$D/wh"
hook() {	# phase attempt
	env -i FAILOVER_GROUP=www FAILOVER_ID=s1 FAILOVER_PHASE=$1 \
	    FAILOVER_ATTEMPT=$2 FAILOVER_STACK=app2 FAILOVER_FROM=app1 \
	    FAILOVER_TO=app2 "$CC" hook "$D/hk.log" "$S" "$D/wh" 20 1
}
hook promote 1 || fail "hook exit"
hook promote 2 || fail "hook exit"
"$TOOLS/storetool" "$S" event www phase_finished \
    '{"group":"www","id":"s1","phase":"promote","stack":"app2","attempt":"1","result":"ok"}' >/dev/null
hook promote 1
hook maintenance_on 1
[ -f "$D/wh/maintenance" ] || fail "maintenance_on did not set the flag"
hook maintenance_off 1
[ ! -f "$D/wh/maintenance" ] || fail "maintenance_off did not clear the flag"
cat "$D/hk.log"
sed -n 1p "$D/hk.log" | grep -q 'journaled=yes finished=no' || fail "committed start not seen"
sed -n 3p "$D/hk.log" | grep -q 'attempt=2 .*journaled=no' || fail "attempt 2 seen as journaled"
sed -n 5p "$D/hk.log" | grep -q 'journaled=yes finished=yes' || fail "phase_finished not seen"
[ "$(grep -c '^end .*status=ok' "$D/hk.log")" = 5 ] || fail "ends"
echo "== SIGTERM ends the hook, recorded"
env -i FAILOVER_GROUP=www FAILOVER_ID=s1 FAILOVER_PHASE=replication_off \
    FAILOVER_ATTEMPT=1 "$CC" hook "$D/hk2.log" "$S" "$D/wh" 5000-5000 1 &
hp=$!
for ((i = 0; i < 100; i++)); do grep -q '^start' "$D/hk2.log" 2>/dev/null && break; sleep 0.02; done
kill -TERM $hp; wait $hp
[ $? = 143 ] || fail "SIGTERM exit"
grep -q '^end .*status=term' "$D/hk2.log" || fail "SIGTERM not recorded"
echo ok
