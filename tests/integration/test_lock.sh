#!/bin/bash
# One controller per state (DESIGN.md, "What failoverd trusts"): a second
# failoverd on the same state_dir exits 1 naming the pid that holds
# state_dir/lock, before it touches anything.  The first daemon's hook,
# running in the middle of a failover, survives the second's start and
# completes; the lock does not leak into hooks; failoverctl, -t, a dry
# run and a replay keep working beside the daemon; a stale lock file is no obstacle; a
# state_dir on which the lock cannot be taken is a one-line error.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/fo.sh"

C=("$FAILOVERCTL" -c "$FO/failoverd.conf")
SECOND_PID=
second_cleanup() {
	[ -n "$SECOND_PID" ] && kill -9 "$SECOND_PID" 2>/dev/null && wait "$SECOND_PID" 2>/dev/null
}
named_trap_add second_cleanup

# Run a failoverd in the foreground, bounded: its exit status in $rc, its
# output in $out.
run_bounded() {	# logfile args...
	local log=$1; shift
	: >"$log"
	"$FAILOVERD" "$@" >"$log" 2>&1 &
	SECOND_PID=$!
	local i st
	for ((i = 0; i < 200; i++)); do
		st=$(awk '{print $3}' "/proc/$SECOND_PID/stat" 2>/dev/null)
		{ [ -z "$st" ] || [ "$st" = Z ]; } && break
		sleep 0.05
	done
	if [ $i = 200 ]; then
		kill -9 "$SECOND_PID" 2>/dev/null
		wait "$SECOND_PID" 2>/dev/null
		SECOND_PID=
		rc=timeout
		out=$(cat "$log")
		return
	fi
	wait "$SECOND_PID"
	rc=$?
	SECOND_PID=
	out=$(cat "$log")
}

# Who has the lock file open: pids, one a line.
lock_openers() {
	local f p
	for f in /proc/[0-9]*/fd/*; do
		[ "$(readlink "$f" 2>/dev/null)" = "$FO/state/lock" ] || continue
		p=${f#/proc/}; echo "${p%%/*}"
	done | sort -u
}

fo_world
FIRST=$FO_PID
[ -f "$FO/state/lock" ] || fail "no state_dir/lock"
[ "$(cat "$FO/state/lock")" = "$FIRST" ] || fail "lock file holds '$(cat "$FO/state/lock")', not the daemon's pid $FIRST"

echo "== a second daemon while the first is idle"
run_bounded "$FO/second.log" -c "$FO/failoverd.conf"
[ "$rc" = 1 ] || fail "second daemon: exit $rc, want 1: $out"
[ "$(wc -l <"$FO/second.log")" = 1 ] || fail "second daemon said more than one line: $out"
grep -q "level=error event=state_locked .*pid=$FIRST " "$FO/second.log" || fail "second daemon did not name pid $FIRST: $out"
grep -q "dir=\"*$FO/state\"* " "$FO/second.log" || fail "second daemon did not name the state_dir: $out"
kill -0 "$FIRST" || fail "the first daemon died"

echo "== failoverctl, -t and a dry run beside the daemon"
"${C[@]}" status >"$FO/status.out" 2>&1 || fail "failoverctl status: $(cat "$FO/status.out")"
grep -q www "$FO/status.out" || fail "failoverctl status does not show www: $(cat "$FO/status.out")"
"$FAILOVERD" -t -c "$FO/failoverd.conf" >"$FO/t.out" 2>&1 || fail "-t with the lock held: $(cat "$FO/t.out")"
grep -q 'configuration ok' "$FO/t.out" || fail "-t: $(cat "$FO/t.out")"
# The replay reads the store read-only, beside the daemon (so early, the
# probe log may hold nothing yet: that is the only refusal allowed).
"$FAILOVERD" simulate -c "$FO/failoverd.conf" --replay >"$FO/replay.out" 2>&1 ||
	grep -q 'no probe outcome' "$FO/replay.out" ||
	fail "simulate --replay beside the daemon: $(cat "$FO/replay.out")"
grep -q state_locked "$FO/replay.out" && fail "replay refused: $(cat "$FO/replay.out")"
# A dry run neither reads nor writes the state: it may run beside the
# daemon (and must not take its lock).
sum_before=$(md5sum <"$FO/state/lock")
"$FAILOVERD" -c "$FO/failoverd.conf" --dry-run >"$FO/dry.log" 2>&1 &
SECOND_PID=$!
fo_wait 10 grep -q 'event=ready' "$FO/dry.log" || fail "dry run beside the daemon never ready: $(cat "$FO/dry.log")"
grep -q 'state_locked' "$FO/dry.log" && fail "dry run refused: $(cat "$FO/dry.log")"
kill -TERM "$SECOND_PID"; wait "$SECOND_PID"; drc=$?; SECOND_PID=
[ "$drc" = 0 ] || fail "dry run exit $drc"
[ "$(md5sum <"$FO/state/lock")" = "$sum_before" ] || fail "the dry run rewrote the lock file"
grep 'event=hook_start' "$FO/dry.log" | grep -vq 'dry_run=yes' && fail "dry run ran a hook"

echo "== a second daemon while the first runs a slow hook in a failover"
: >"$FO/hooks.log"
echo 3 >"$FO/hooks/slow.maintenance_on"
fo_webhead_stop app1
fo_wait 10 grep -q '^maintenance_on ' "$FO/hooks.log" || fail "maintenance_on never started"
# The hook's own processes do not hold the lock: only the daemon does.
openers=$(lock_openers)
[ "$openers" = "$FIRST" ] || fail "lock file open in pids '$openers', want only $FIRST"
run_bounded "$FO/second.log" -c "$FO/failoverd.conf"
[ "$rc" = 1 ] || fail "second daemon during a switch: exit $rc, want 1: $out"
[ "$(wc -l <"$FO/second.log")" = 1 ] || fail "second daemon said more than one line: $out"
grep -q "event=state_locked .*pid=$FIRST " "$FO/second.log" || fail "second daemon did not name pid $FIRST: $out"
# The first's hook survived and the switch completes, each phase once.
fo_wait 15 fo_log_has 'event=switch_finished' || fail "the first daemon's switch did not finish"
fo_wait 5 fo_dig_is "$W" A 127.0.0.2 || fail "no flip to app2"
for p in maintenance_on replication_off promote maintenance_off; do
	n=$(grep -c "^$p " "$FO/hooks.log")
	[ "$n" = 1 ] || fail "$p ran $n times, want 1"
done
grep -q '^maintenance_on .*attempt=1 ' "$FO/hooks.log" || fail "maintenance_on not attempt 1"
fo_log_has 'event=hook_exited group=www phase=maintenance_on stack=app1 id=www-[0-9]+ outcome=exited exit=0 ' ||
	fail "maintenance_on did not complete in the first daemon"
fo_log_has 'event=orphan_hook' && fail "someone treated the running hook as an orphan"
ids=$(awk '{print $5}' "$FO/hooks.log" | sort -u | wc -l)
[ "$ids" = 1 ] || fail "$ids switch ids, want 1"
rm -f "$FO/hooks/slow.maintenance_on"

echo "== a stale lock file (the holder is gone) is no obstacle"
fo_stop || fail "stop"
[ -f "$FO/state/lock" ] || fail "the lock file was removed"
echo 999999 >"$FO/state/lock"
fo_start
fo_wait 10 fo_log_has "event=ready" || fail "no start over a stale lock file"
fo_wait 5 grep -qx "$FO_PID" "$FO/state/lock" || fail "the lock file does not name the new daemon"
# and after a SIGKILL: the lock dies with the process
fo_kill9
fo_start
fo_wait 10 grep -qx "$FO_PID" "$FO/state/lock" || fail "no lock after a SIGKILL'ed holder"
fo_wait 10 fo_log_has "event=ready" || fail "no start after a SIGKILL'ed holder"
fo_stop || fail "stop"

echo "== a state_dir on which the lock cannot be taken"
cp "$FO/failoverd.conf" "$FO/good.conf"
try_dir() {	# state_dir expected-regex
	sed "s|^state_dir = .*|state_dir = $1|" "$FO/good.conf" >"$FO/bad.conf"
	run_bounded "$FO/bad.log" -c "$FO/bad.conf"
	[ "$rc" = 1 ] || fail "state_dir=$1: exit $rc, want 1: $out"
	[ "$(wc -l <"$FO/bad.log")" = 1 ] || fail "state_dir=$1: more than one line: $out"
	grep -Eq "$2" "$FO/bad.log" || fail "state_dir=$1: $out"
}
: >"$FO/plainfile"
# (the configuration check sees this one)
try_dir "$FO/plainfile" 'state_dir: .*not a directory'
L='level=error event=store_open_failed dir='
mkdir -m 0700 "$FO/linked"; ln -s "$FO/elsewhere" "$FO/linked/lock"
try_dir "$FO/linked" "$L.*symbolic link"
mkdir -m 0700 "$FO/dirlock" "$FO/dirlock/lock"
try_dir "$FO/dirlock" "$L.*Is a directory"
try_dir /proc/failoverd-test "$L.*cannot create directory"
[ -e "$FO/elsewhere" ] && fail "followed the symbolic link"
echo ok
