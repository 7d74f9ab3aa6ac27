#!/bin/bash
# test: alone (valgrind's slowdown)
# test_probes_valgrind.sh - the probe fault cases once under valgrind
# memcheck: no invalid access and zero definite or indirect leaks in the
# probe engine (libcurl's and OpenSSL's global caches are "still
# reachable", which is not a leak).  Skipped under SAN=1 (ASan and
# valgrind do not mix) and when valgrind is missing.
set -u
[ "${SAN:-0}" = 1 ] && { echo "skip: SAN build (ASan checks leaks there)"; exit 77; }
command -v valgrind >/dev/null || { echo "skip: no valgrind"; exit 77; }
export VALGRIND="valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=1"
export PROBES_QUICK=1
exec bash "$(dirname "$0")/test_probes.sh"
