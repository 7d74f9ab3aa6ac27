#!/bin/bash
# Build and run every libFuzzer target tests/fuzz/fuzz_NAME.c for a bounded
# time (FUZZ_SECONDS, default 30 each) with clang, ASan and UBSan, starting
# from tests/fuzz/corpus/NAME/ (regression inputs are kept there).  Exits
# non-zero when a target crashes; the crashing input is left in build/fuzz/.
set -eu
cd "$(dirname "$0")/../.."
secs=${FUZZ_SECONDS:-30}
out=build/fuzz
mkdir -p "$out"
PKGS="libevent libcurl ldns lmdb inih jansson libcrypto"
CFL="-g -O1 -std=c11 -D_GNU_SOURCE -DFAILOVERD_VERSION=\"fuzz\" -I. $(pkg-config --cflags $PKGS)"
LIBS="$(pkg-config --libs $PKGS) -lm"
# The libraries' sources, as the Makefile builds them (print-lib-src), in
# one archive: like the Makefile's, a target links only the members it
# needs, so a program's own files (failoverctl's ctl_*.c) never have to.
SRC="$(make -s --no-print-directory print-lib-src) $out/dash_assets.c"
# The dashboard's files, as the Makefile builds them into the controller.
sh controller/face/dashboard/embed.sh controller/face/dashboard/index.html \
    controller/face/dashboard/dashboard.css controller/face/dashboard/dashboard.js \
    >"$out/dash_assets.c"
objs=
for c in $SRC; do
	o=$out/obj/${c%.c}.o
	mkdir -p "$(dirname "$o")"
	clang $CFL -fsanitize=fuzzer-no-link,address,undefined \
	    -fno-sanitize-recover=undefined -c -o "$o" "$c"
	objs="$objs $o"
done
rm -f "$out/libfailoverd.a"
ar rcs "$out/libfailoverd.a" $objs
rc=0
for f in tests/fuzz/fuzz_*.c; do
	[ -f "$f" ] || continue
	n=$(basename "$f" .c); n=${n#fuzz_}
	bin=$out/fuzz_$n
	clang $CFL -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	    -o "$bin" "$f" "$out/libfailoverd.a" $LIBS
	mkdir -p "tests/fuzz/corpus/$n" "$out/corpus-$n"
	echo "fuzz: $n for ${secs}s"
	if ! (cd "$out" && ./fuzz_$n -max_total_time="$secs" -timeout=5 \
	    -artifact_prefix="$PWD/crash-$n-" "corpus-$n" "../../tests/fuzz/corpus/$n" \
	    >"fuzz_$n.log" 2>&1); then
		echo "fuzz: $n FAILED; see $out/fuzz_$n.log"; tail -30 "$out/fuzz_$n.log"; rc=1
	else
		grep -E '^#[0-9]+.*DONE' "$out/fuzz_$n.log" | tail -1 || true
	fi
done
exit $rc
