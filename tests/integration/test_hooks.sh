#!/bin/bash
# test: alone (timeout and flood durations are bounded)
# The hook runner (controller/shell/hook.c) on a real event loop with real child
# processes, through tests/integration/hooktool: exit statuses, output lines
# and streams, the exact environment, argv without a shell, timeout ->
# SIGTERM -> SIGKILL of the whole process group, bounded output, spawn
# failures, many hooks at once, other children left alone; then
# controller/shell/sdnotify.c against a unix datagram receiver.  hooktool itself
# checks that every hook ends exactly once and that no fd leaks.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
TOOLS=${TOOLS:-$TOP/$BUILD/tests/integration}
HT=$TOOLS/hooktool
[ -x "$HT" ] || { echo "no $HT (make $BUILD/tests/integration/hooktool)"; exit 1; }

tmp=$(mktemp -d /tmp/test_hooks.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }

# Spawner threads (the default) or posix_spawn on the loop itself: the
# script runs once in each mode (HOOKS_SPAWN=inline for the second run).
SPAWN=${HOOKS_SPAWN:-threads}
case $SPAWN in threads) PFLAG=-P0;; inline) PFLAG=-P-1;;
*) echo "HOOKS_SPAWN=$SPAWN?"; exit 1;; esac
echo "== spawn mode: $SPAWN"

# run NAME hooktool-args...: output in $tmp/NAME, hooktool's status checked.
run() {
	local name=$1; shift
	timeout -k 5 60 "$HT" run $PFLAG "$@" >"$tmp/$name" 2>"$tmp/$name.err"
	local rc=$?
	if [ $rc != 0 ]; then
		fail "$name: hooktool rc=$rc"
		sed 's/^/    | /' "$tmp/$name" "$tmp/$name.err" | tail -20
	fi
	return 0
}
# has NAME PATTERN: the output of NAME holds a line matching PATTERN (ERE).
has() {
	if grep -Eq -- "$2" "$tmp/$1"; then ok "$1: $2"; else
		fail "$1: no line matching '$2'"
		sed 's/^/    | /' "$tmp/$1" | tail -20
	fi
}
hasnt() {
	if grep -Eq -- "$2" "$tmp/$1"; then
		fail "$1: unexpected line matching '$2'"
		grep -E -- "$2" "$tmp/$1" | sed 's/^/    | /' | head -5
	else ok "$1: no '$2'"; fi
}
field() {	# NAME RECORD KEY: value of KEY= in the first RECORD line
	sed -n "s/^$2 .*\\b$3=\\([^ ]*\\).*/\\1/p" "$tmp/$1" | head -1
}
# gone PID: no such process, or a zombie nobody reaps (PID 1 in a container).
gone() {
	local st
	[ -r "/proc/$1/stat" ] || return 0
	st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 0
	[ "$st" = Z ] || [ -z "$st" ]
}

# Exit statuses and output lines with their streams.
run exit0 -- /bin/sh -c 'echo to-out; echo to-err >&2; exit 0'
has exit0 '^line idx=0 group=g1 phase=promote stream=stdout flags=- len=6 text=to-out$'
has exit0 '^line idx=0 .*stream=stderr flags=- len=6 text=to-err$'
has exit0 '^done idx=0 outcome=exited status=0 signal=0 killed=0 .* ok=1$'
run exit3 -- /bin/sh -c 'printf "a\nb\nno-newline"; exit 3'
has exit3 '^done idx=0 outcome=exited status=3 .* ok=0$'
has exit3 'stream=stdout flags=noeol len=10 text=no-newline$'
[ "$(grep -c '^line ' "$tmp/exit3")" = 3 ] || fail "exit3: not 3 lines"

# The environment is PATH plus exactly what was given, nothing inherited.
SECRET_FROM_PARENT=1 HOME=/root run env -e FAILOVER_GROUP=www \
    -e 'FAILOVER_REASON=two words' -e FAILOVER_ATTEMPT=2 -- /usr/bin/env
sed -n 's/^line .* text=//p' "$tmp/env" | sort >"$tmp/env.got"
printf '%s\n' FAILOVER_ATTEMPT=2 FAILOVER_GROUP=www \
    'FAILOVER_REASON=two words' PATH=/usr/sbin:/usr/bin:/sbin:/bin |
    sort >"$tmp/env.want"
if cmp -s "$tmp/env.got" "$tmp/env.want"; then ok "env exact"; else
	fail "env differs"; diff "$tmp/env.want" "$tmp/env.got" | sed 's/^/    | /'
fi
# A PATH given by the caller wins over the runner's.
run envpath -e PATH=/bin -- /usr/bin/env
has envpath 'text=PATH=/bin$'
[ "$(grep -c 'text=PATH=' "$tmp/envpath")" = 1 ] || fail "envpath: PATH twice"

# argv without a shell: spaces and $HOME stay literal; a bare name is
# looked up in the hook's PATH.
run argv -- printf '%s|\n' 'a b  c' '$HOME' '*' ''
has argv 'text=a b  c\|$'
has argv 'text=\$HOME\|$'
has argv 'text=\*\|$'
has argv 'len=1 text=\|$'

# stdin is /dev/null, and the child holds no fd but 0, 1 and 2.
run fds -- /bin/sh -c 'cat; ls /proc/self/fd/ | tr "\n" " "; echo'
has fds 'text=0 1 2 3 $'		# 3 is ls reading the directory

# Timeout: SIGTERM to the group, then SIGKILL after the grace period, for
# a hook that traps TERM and carries on.
run trapterm -t 300 -g 300 -- /bin/sh -c \
    'trap "echo got-term" TERM; while :; do sleep 0.05; done'
has trapterm 'text=got-term$'
has trapterm '^done idx=0 outcome=timeout status=-1 signal=9 killed=1 '
d=$(field trapterm done duration_ms)
[ -n "$d" ] && [ "$d" -ge 580 ] && [ "$d" -lt 2000 ] &&
    ok "trapterm took ${d} ms (300 + 300)" || fail "trapterm duration '$d'"
# The test switch for the grace period (no -g here).
FAILOVERD_TEST_KILL_GRACE_MS=200 run switch -t 100 -- /bin/sh -c \
    'trap "" TERM; exec sleep 30'
has switch '^done idx=0 outcome=timeout status=-1 signal=9 killed=1 '
d=$(field switch done duration_ms)
[ -n "$d" ] && [ "$d" -ge 290 ] && [ "$d" -lt 2000 ] &&
    ok "switch: ${d} ms (100 + 200)" || fail "switch: duration '$d'"
# A hook that dies of the SIGTERM: no SIGKILL needed.
run plainterm -t 200 -g 5000 -- /bin/sleep 30
has plainterm '^done idx=0 outcome=timeout status=-1 signal=15 killed=0 '

# The whole process group goes: a grandchild ignoring TERM dies too.
# -R: orphans come back to hooktool, not to the runner.
run group -R -t 200 -g 300 -- /bin/sh -c \
    'trap "" TERM; sleep 1000 & echo child=$!; wait'
gc=$(sed -n 's/.*text=child=//p' "$tmp/group")
has group '^done idx=0 outcome=timeout .*killed=1 '
has group "^foreign pid=$gc status=-1 signal=9$"
if [ -n "$gc" ] && gone "$gc"; then ok "grandchild $gc gone"; else
	fail "grandchild '$gc' still alive"; [ -n "$gc" ] && kill -9 "$gc"
fi
# A hook that exits after SIGTERM: its leftover group is killed at once.
run leftover -R -t 200 -g 10000 -- /bin/sh -c \
    'trap "exit 7" TERM; sh -c "trap \"\" TERM; sleep 1000" & echo child=$!; wait'
gc=$(sed -n 's/.*text=child=//p' "$tmp/leftover")
has leftover '^done idx=0 outcome=timeout status=7 signal=0 killed=0 '
d=$(field leftover done duration_ms)
[ -n "$d" ] && [ "$d" -lt 2000 ] && ok "leftover ended in ${d} ms" ||
    fail "leftover waited for the grace period ($d ms)"
if [ -n "$gc" ] && gone "$gc"; then ok "leftover $gc gone"; else
	fail "leftover '$gc' still alive"; [ -n "$gc" ] && kill -9 "$gc"
fi

# A grandchild of a hook that exits normally keeps the pipes open: the
# hook still ends after the drain bound, and the grandchild is left alone.
run drain -R -d 200 -- /bin/sh -c 'sleep 0.5 & echo bg=$!; exit 0'
has drain '^done idx=0 outcome=exited status=0 '
has drain '^foreign pid=[0-9]+ status=0 signal=0$'
s=$(sed -n 's/^start .*pid=//p' "$tmp/drain")
[ -n "$s" ] || fail "drain: no pid"

# Cancel: SIGTERM now.
run cancel -c 100 -- /bin/sleep 30
has cancel '^done idx=0 outcome=cancelled status=-1 signal=15 '

# A hook killed by a signal we did not send.
run selfkill -- /bin/sh -c 'kill -USR1 $$'
has selfkill '^done idx=0 outcome=signaled status=-1 signal=10 '

# 50 MB of output: fast, bounded memory, one truncation note.
run flood -q -- /bin/sh -c \
    'yes 0123456789012345678901234567890123456789 | head -c 50000000; echo tail >&2'
has flood '^line idx=0 .* flags=truncated len=16 text=output truncated$'
has flood '^done idx=0 outcome=exited status=0 .*out_bytes=50000005 .*truncated=1 ok=1$'
[ "$(grep -c 'flags=truncated' "$tmp/flood")" = 1 ] || fail "flood: note not once"
e=$(field flood summary elapsed_ms); g=$(field flood summary rss_grew_kb)
[ -n "$e" ] && [ "$e" -lt 5000 ] && ok "flood: 50 MB in ${e} ms" ||
    fail "flood: took '$e' ms"
[ -n "$g" ] && [ "$g" -lt 16384 ] && ok "flood: rss grew ${g} kB" ||
    fail "flood: rss grew '$g' kB"
# A line longer than the cap is cut and marked; the next line is whole.
run longline -l 100 -- /bin/sh -c \
    'head -c 1000 /dev/zero | tr "\0" x; echo; echo after'
has longline 'flags=cut len=100 text=x{100}$'
has longline 'flags=- len=5 text=after$'
has longline 'dropped_bytes=901 '

# Freeing the runner with a hook still running kills and reaps it (the
# daemon's last resort): hooktool leaves its loop after 300 ms here, and
# reports the hook as never done (rc 1; a leak under SAN=1 would be 86).
timeout -k 5 30 "$HT" run $PFLAG -T 300 -- /bin/sh -c 'echo pid=$$; exec sleep 30' \
    >"$tmp/abandon" 2>&1
rc=$?
[ $rc = 1 ] && ok "abandon: rc 1" || fail "abandon: rc=$rc"
has abandon '^running_after_loop=1$'
has abandon '^summary hooks=1 done=0 .*fds_before=([0-9]+) fds_after=\1 '
p=$(sed -n 's/.*text=pid=//p' "$tmp/abandon")
if [ -n "$p" ] && gone "$p"; then ok "abandon: $p gone"; else
	fail "abandon: '$p' still alive"; [ -n "$p" ] && kill -9 "$p"
fi

# Cancelled at once, while spawns may still be on the spawner threads.
run cancel0 -c 0 -n 20 -- /bin/sleep 30
[ "$(grep -c '^done .*outcome=cancelled status=-1 signal=15 ' \
    "$tmp/cancel0")" = 20 ] && ok "cancel0: 20 cancelled" ||
    fail "cancel0: not 20 cancelled"
# The loop left at once, with spawns queued or running: all are killed and
# reaped when the runner is freed.
timeout -k 5 30 "$HT" run $PFLAG -T 0 -n 50 -- /bin/sleep "30.$$" \
    >"$tmp/quit0" 2>&1
has quit0 '^summary hooks=50 done=0 .*fds_before=([0-9]+) fds_after=\1 '
left=$(pgrep -f "^/bin/sleep 30\.$$\$" | wc -l)
[ "$left" = 0 ] && ok "quit0: nothing left" ||
    fail "quit0: $left sleeps left (they end in 30 s)"

# Could not start.
run noent -- /nonexistent/hook arg
has noent '^done idx=0 outcome=nostart .*error=2 detail=/nonexistent/hook: No such file or directory$'
printf '#!/bin/sh\necho hi\n' >"$tmp/noexec.sh"; chmod 644 "$tmp/noexec.sh"
run noexec -- "$tmp/noexec.sh"
has noexec '^done idx=0 outcome=nostart .*error=13 .*Permission denied$'
run nopath -- no-such-hook-anywhere
has nopath '^done idx=0 outcome=nostart .*error=2 detail=no-such-hook-anywhere: '
run notdir -- /etc/passwd/x
has notdir '^done idx=0 outcome=nostart .*error=20 '

# 20 hooks at once: concurrent, not one after the other.
run parallel -n 20 -- /bin/sh -c 'sleep 0.3; echo done-$$'
[ "$(grep -c '^done .*outcome=exited status=0 ' "$tmp/parallel")" = 20 ] &&
    ok "parallel: 20 done" || fail "parallel: not 20 done"
[ "$(grep -c 'text=done-' "$tmp/parallel")" = 20 ] || fail "parallel: lines"
e=$(field parallel summary elapsed_ms)
[ -n "$e" ] && [ "$e" -lt 2000 ] && ok "parallel: ${e} ms" ||
    fail "parallel: took '$e' ms"

# Children that are not hooks are left for their owner: with zombies of
# hooktool's own waiting to be reaped, the runner still finds its hooks.
run others -F 5 -n 10 -- /bin/sh -c 'sleep 0.1; exit 4'
[ "$(grep -c '^done .*outcome=exited status=4 ' "$tmp/others")" = 10 ] &&
    ok "others: 10 hooks done" || fail "others: hooks not done"
[ "$(grep -c '^foreign pid=[0-9]* status=5 ' "$tmp/others")" = 5 ] &&
    ok "others: 5 other children left alone" || fail "others: children stolen"

# A hook reaped by someone else's wait(): it still ends, at its timeout,
# with its status reported lost, and nothing is killed by a stale pid.
run stolen -S 20 -t 500 -- /bin/sleep 0.1
has stolen '^stole pid='
has stolen '^done idx=0 outcome=signaled status=-1 signal=0 killed=0 .* detail=exit status lost'
d=$(field stolen done duration_ms)
[ -n "$d" ] && [ "$d" -ge 490 ] && [ "$d" -lt 2000 ] &&
    ok "stolen: ended at the timeout (${d} ms)" || fail "stolen: '$d' ms"

[ "$SPAWN" = threads ] || { echo; [ $failures = 0 ] &&
    { echo "test_hooks ($SPAWN): all passed"; exit 0; }
    echo "test_hooks ($SPAWN): $failures failed"; exit 1; }

# sd_notify: path and abstract sockets, every message kind.
timeout -k 5 30 "$HT" notify "$tmp" >"$tmp/notify" 2>&1 || fail "notify rc"
has notify '^notify sock=unset call=ready rc=0$'
for s in path abstract; do
	has notify "^notify sock=$s msg=READY=1$"
	has notify "^notify sock=$s msg=RELOADING=1\\|MONOTONIC_USEC=[0-9]+$"
	has notify "^notify sock=$s msg=STATUS=serving 3 groups second line$"
	has notify "^notify sock=$s msg=WATCHDOG=1$"
	has notify "^notify sock=$s msg=STOPPING=1$"
	[ "$(grep -c "^notify sock=$s call=.* rc=1$" "$tmp/notify")" = 5 ] ||
	    fail "notify $s: not 5 sent"
done
has notify '^notify sock=gone call=ready rc=-2$'
has notify '^notify sock=bad call=ready rc=-1$'
has notify '^watchdog case=unset usec=0$'
has notify '^watchdog case=nopid usec=20000000$'
has notify '^watchdog case=ourpid usec=20000000$'
has notify '^watchdog case=otherpid usec=0$'

# The unit file parses (where systemd-analyze can run).
if command -v systemd-analyze >/dev/null 2>&1; then
	out=$(systemd-analyze verify --man=no "$TOP/config/failoverd.service" 2>&1)
	if echo "$out" | grep -Eiq 'unknown|invalid|failed to parse|ignoring'; then
		fail "failoverd.service: $out"
	else
		ok "failoverd.service verified"
	fi
fi

echo
if [ "$SPAWN" = threads ]; then
	HOOKS_SPAWN=inline bash "$0" || failures=$((failures + 1))
fi
[ $failures = 0 ] && { echo "test_hooks ($SPAWN): all passed"; exit 0; }
echo "test_hooks ($SPAWN): $failures failed"
exit 1
