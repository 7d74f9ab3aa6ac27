#!/bin/bash
# The demo is part of the suite: nginx + PostgreSQL streaming replication +
# named + failoverd, a real failover, and the proof that no acknowledged
# commit was lost.  Skips when PostgreSQL 15 or nginx is missing.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
[ -x /usr/lib/postgresql/15/bin/postgres ] && command -v nginx >/dev/null ||
	{ echo "skip: no PostgreSQL 15 or nginx"; exit 77; }
out=$(BUILD=$BUILD FAILOVERD=$FAILOVERD DEMO_ROWS=10 bash "$TOP/tests/demo/run.sh" 2>&1)
rc=$?
printf '%s\n' "$out" | tail -25
[ $rc = 0 ] || { echo "FAIL: demo exit $rc"; exit 1; }
printf '%s\n' "$out" | grep -q 'PROVEN: no acknowledged commit was lost' || { echo "FAIL: no proof"; exit 1; }
printf '%s\n' "$out" | grep -q 'phase dns on app2: ok' || { echo "FAIL: failoverd did not flip"; exit 1; }
echo ok
