#!/bin/bash
# test_layout: calls go downward through the parts (docs/ARCHITECTURE.md).
# A grep of #include lines: the leaf libraries include nothing of
# controller/; the core and the store include nothing of the shell, the
# face or the simulator; the face and the simulator nothing of the shell;
# the base (logger, clock) nothing above it.  Any new file directly in
# controller/ besides the program's entry is a part without a home.
set -u
cd "$TOP"
bad=0
check() {	# part-glob, forbidden-regex, why
	local files f
	files=$(ls $1 2>/dev/null)
	[ -n "$files" ] || { echo "test_layout: no files match $1"; bad=1; return; }
	for f in $files; do
		grep -nE "^#include \"($2)" "$f" | while IFS= read -r l; do
			echo "test_layout: $f:${l%%:*}: ${l#*:} ($3)"
		done | grep . && bad=1
	done
	return 0
}
check 'probes/*.[ch] dnsupdate/*.[ch] config/*.[ch] cluster/*.[ch]' \
	'controller/' 'a leaf library includes no controller/ header'
check 'controller/base/*.[ch]' \
	'controller/(core|store|shell|face|sim)/' 'the base calls nothing above it'
check 'controller/core/*.[ch]' \
	'controller/(store|shell|face|sim)/|probes/probe\.h|dnsupdate/dnsup\.h|cluster/' 'the core is pure: no I/O library'
check 'controller/store/*.[ch]' \
	'controller/(shell|face|sim)/' 'the store calls nothing above it'
check 'controller/face/*.[ch]' \
	'controller/(shell|sim)/' 'the face calls the core and the store, never the shell'
check 'controller/sim/*.[ch]' \
	'controller/(shell|face)/' 'the simulator calls the core and the store, never the shell'
for f in controller/*.[ch]; do
	[ "$f" = controller/failoverd.c ] && continue
	echo "test_layout: $f: a file outside the parts' folders"; bad=1
done
# a file of controller/ is one concern: past about 1,000 lines it is split
# by concern (docs/ARCHITECTURE.md); 1,200 is where this check says so
for f in controller/*.c controller/*/*.c; do
	n=$(wc -l <"$f")
	[ "$n" -le 1200 ] ||
	    { echo "test_layout: $f: $n lines: split it by concern"; bad=1; }
done
# the folders hold what docs/ARCHITECTURE.md says they hold
for d in base core store shell face sim; do
	grep -q "controller/$d/" docs/ARCHITECTURE.md ||
	    { echo "test_layout: docs/ARCHITECTURE.md does not describe controller/$d/"; bad=1; }
done
[ $bad = 0 ] && echo "test_layout: ok"
exit $bad
