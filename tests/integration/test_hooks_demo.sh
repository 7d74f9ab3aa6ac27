#!/bin/bash
# The example hooks (config/hooks/maintenance, config/hooks/database) against
# the real demo world of tests/demo/world.sh: two nginx web heads and a
# PostgreSQL 15 primary (app1) with a streaming hot standby (app2).  Each
# hook runs twice (idempotence) with only PATH and the contract variables,
# as failoverd runs it, and its effect is checked on the real servers; then
# the same hooks against a dead web head and a dead database fail fast.
# Skipped (77) without PostgreSQL 15, nginx or root.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
[ -x "$PGBIN/postgres" ] || { echo "skip: no PostgreSQL 15 in $PGBIN"; exit 77; }
command -v nginx >/dev/null || { echo "skip: no nginx"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "skip: needs root (postgres runs as user postgres)"; exit 77; }
id postgres >/dev/null 2>&1 || { echo "skip: no postgres user"; exit 77; }

. "$TOP/tests/demo/world.sh"

HOOKS=$TOP/config/hooks
failures=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; failures=$((failures + 1)); }
check() {		# description command...
	local d=$1; shift
	if "$@"; then ok "$d"; else bad "$d"; fi
}

# Run a hook as failoverd does: no shell, only PATH and FAILOVER_*.
# Sets rc, out (its output) and ms (its duration).
ATTEMPT=0
hook() {		# phase stack hook args...
	local phase=$1 stack=$2 t0; shift 2
	ATTEMPT=$((ATTEMPT + 1))
	t0=$(world_ms)
	out=$(env -i PATH=/usr/bin:/bin FAILOVER_GROUP=www \
	    FAILOVER_PHASE="$phase" FAILOVER_STACK="$stack" FAILOVER_FROM=app1 \
	    FAILOVER_TO=app2 FAILOVER_ID=42 FAILOVER_ATTEMPT=$ATTEMPT \
	    FAILOVER_REASON=manual FAILOVER_ADDRESS=www.failover.demo. \
	    FAILOVER_DRY_RUN="${DRY:-0}" FAILOVER_STATUS=none "$@" 2>&1)
	rc=$?
	ms=$(($(world_ms) - t0))
	echo "     [$phase $stack rc=$rc ${ms}ms] $out"
}
expect_rc() {		# want description
	if [ "$rc" = "$1" ]; then ok "$2"; else bad "$2 (rc=$rc, want $1)"; fi
}

t0=$(world_ms)
world_init
world_stack_create app1
world_stack_create app2
touch "$WORLD_DIR/app2/maintenance"
world_nginx_start app1
world_nginx_start app2
world_pg_primary app1
world_pg_standby app2 app1
echo "world up in $(($(world_ms) - t0)) ms ($WORLD_DIR)"
W1=$WORLD_DIR/app1 W2=$WORLD_DIR/app2

# --- the hook files themselves
for h in "$HOOKS/maintenance" "$HOOKS/database"; do
	check "$(basename "$h") is executable" test -x "$h"
	check "$(basename "$h") is not group/other-writable" \
	    test -z "$(find "$h" -perm /022)"
done
hook maintenance_on app1 "$HOOKS/maintenance"
expect_rc 2 "no arguments: usage"
hook maintenance_on app1 "$HOOKS/maintenance" on "$W2"
expect_rc 1 "FAILOVER_STACK app1 with app2's configuration: refused"
cp "$W1/stack.conf" "$WORLD_DIR/loose.conf"
chmod 0664 "$WORLD_DIR/loose.conf"
hook maintenance_on app1 "$HOOKS/maintenance" on "$WORLD_DIR/loose.conf"
expect_rc 1 "group-writable stack.conf: refused"
check "refused before touching the flag" test ! -e "$W1/maintenance"
chmod 0644 "$WORLD_DIR/loose.conf"
chown postgres "$WORLD_DIR/loose.conf"
hook maintenance_on app1 "$HOOKS/maintenance" on "$WORLD_DIR/loose.conf"
expect_rc 1 "stack.conf owned by another user: refused"
hook precheck app1 "$HOOKS/database" lag-ok "$WORLD_DIR/loose.conf"
expect_rc 1 "... by the database hook too"

# --- maintenance on/off, twice each
for i in 1 2; do
	hook maintenance_on app1 "$HOOKS/maintenance" on "$W1"
	expect_rc 0 "maintenance on app1 (run $i)"
	check "app1 /health answers 503 (run $i)" test "$(world_http_status app1)" = 503
	check "app1 / answers 503 (run $i)" test "$(world_http_status app1 /)" = 503
done
for i in 1 2; do
	hook maintenance_off app1 "$HOOKS/maintenance" off "$W1"
	expect_rc 0 "maintenance off app1 (run $i)"
	check "app1 answers 200 (run $i)" test "$(world_http_status app1)" = 200
done
hook maintenance_on app2 "$HOOKS/maintenance" on "$W2"
expect_rc 0 "maintenance on app2, already in maintenance"
DRY=1 hook maintenance_off app2 "$HOOKS/maintenance" off "$W2"
expect_rc 0 "dry run of maintenance off"
check "dry run left the flag" test -e "$W2/maintenance"

# --- database: precheck, replication off, promote, twice each
for i in 1 2; do
	hook precheck app2 "$HOOKS/database" lag-ok "$W2"
	expect_rc 0 "lag-ok on the streaming standby (run $i)"
	check "lag-ok says the lag as replication_lag_bytes=N (run $i)" \
	    grep -Eq '(^| )replication_lag_bytes=[0-9]+( |$)' <<<"$out"
done
hook precheck app2 "$HOOKS/database" lag-ok "$W2" LAG_MAX_BYTES=-1
expect_rc 1 "lag-ok with a bound below any lag: not ok"
for i in 1 2; do
	hook replication_off app2 "$HOOKS/database" replication-off "$W2"
	expect_rc 0 "replication-off app2 (run $i)"
	check "no WAL receiver on app2 (run $i)" \
	    test "$(world_psql app2 'SELECT count(*) FROM pg_stat_wal_receiver')" = 0
	check "app2 still a read-only standby (run $i)" \
	    test "$(world_psql app2 'SELECT pg_is_in_recovery()')" = t
done
check "app1 sees no replica any more" \
    test "$(world_psql app1 'SELECT count(*) FROM pg_stat_replication')" = 0
for i in 1 2; do
	hook promote app2 "$HOOKS/database" promote "$W2"
	expect_rc 0 "promote app2 (run $i)"
	check "app2 not in recovery (run $i)" \
	    test "$(world_psql app2 'SELECT pg_is_in_recovery()')" = f
done
case $out in *already*) ok "second promote says already promoted";;
*) bad "second promote says already promoted";; esac
check "app2 takes writes" world_psql app2 \
    "INSERT INTO demo_rows(stack) VALUES ('app2')"
hook precheck app2 "$HOOKS/database" lag-ok "$W2"
expect_rc 0 "lag-ok on a primary: nothing to replay"
for i in 1 2; do
	hook maintenance_off app2 "$HOOKS/maintenance" off "$W2"
	expect_rc 0 "maintenance off app2 (run $i)"
	check "app2 answers 200 (run $i)" test "$(world_http_status app2)" = 200
done

# --- dead stack: fail fast, with a clear message
world_nginx_stop app1
world_pg_stop app1 immediate
hook maintenance_on app1 "$HOOKS/maintenance" on "$W1"
expect_rc 1 "maintenance on a dead web head fails"
check "... fast (${ms} ms < 3000)" test "$ms" -lt 3000
check "... saying the web head does not answer" grep -q "does not answer" <<<"$out"
check "... and the flag is set for when it comes back" test -e "$W1/maintenance"
for a in replication-off promote lag-ok; do
	hook "$a" app1 "$HOOKS/database" "$a" "$W1"
	expect_rc 1 "$a on a dead database fails"
	check "... fast (${ms} ms < 5000)" test "$ms" -lt 5000
	check "... saying it is unreachable" grep -q unreachable <<<"$out"
done

# --- the demo's failoverd.conf (config/demo/failoverd.conf.in, rendered for
# this world) passes failoverd's own configuration check, hooks included
FAILOVERD=${FAILOVERD:-$TOP/${BUILD:-build}/failoverd}
if [ -x "$FAILOVERD" ]; then
	world_named_up
	world_failoverd_conf "$WORLD_DIR/failoverd.conf"
	out=$("$FAILOVERD" -t -c "$WORLD_DIR/failoverd.conf" 2>&1)
	rc=$?
	echo "     [failoverd -t rc=$rc] $out"
	expect_rc 0 "failoverd -t accepts the demo configuration"
else
	echo "     (no $FAILOVERD: configuration check not run)"
fi

# --- the audit trail carries the contract variables
check "HOOK_LOG has the switch id and phases" \
    grep -q 'phase=promote stack=app2 id=42 attempt=' "$W2/hooks.log"

echo "total $(($(world_ms) - t0)) ms, $failures failure(s)"
[ "$failures" = 0 ]
