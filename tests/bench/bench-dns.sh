#!/bin/bash
# bench-dns: flip 1,000 failover addresses on a real named.
#
# failoverd's updater (tests/bench/dnsbench.c over dnsupdate/, one libevent
# loop, updates coalesced into few signed UPDATE messages) against the naive
# script: one `nsupdate -k` process per record in a shell loop.  To keep the
# run short the loop is timed over NSUPDATE_SAMPLE records (default 100) and
# extrapolated to 1,000, which the output says.  Every one of the 1,000
# records is read back afterwards.  Last line:
# dns_speedup_vs_nsupdate_loop=<value>.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BENCHBIN=${BENCHBIN:-$TOP/${BUILD:-build}/tests/bench}
N=${DNS_BENCH_N:-1000}
SAMPLE=${NSUPDATE_SAMPLE:-100}
[ -x "$BENCHBIN/dnsbench" ] || { echo "bench-dns: no $BENCHBIN/dnsbench (make bench-dns builds it)" >&2; exit 1; }
. "$TOP/tests/lib/named.sh"

tmp=$(mktemp -d /tmp/bench-dns.XXXXXX)
named_trap_add "rm -rf '$tmp'"

# The zone starts with N failover addresses on the old web head.
for ((i = 0; i < N; i++)); do
	printf 'fo-%04d 60 IN CNAME app1.example.net.\n' "$i"
done >"$tmp/extra.db"
printf 'fo-rtt 60 IN CNAME app1.example.net.\n' >>"$tmp/extra.db"
NAMED_ZONE_EXTRA=$tmp/extra.db named_start "$tmp/named" || { echo "bench-dns: named did not start" >&2; exit 1; }
Z=$NAMED_ZONE
have=$(dig +norec +short -p "$NAMED_PORT" @127.0.0.1 "fo-$(printf %04d $((N - 1))).$Z" CNAME)
[ "$have" = app1.example.net. ] || { echo "bench-dns: zone not loaded" >&2; exit 1; }

echo "== failoverd updater: $N flips at once, then read-back of all $N"
out=$("$BENCHBIN/dnsbench" -s "127.0.0.1#$NAMED_PORT" -z "$Z" -k "$NAMED_KEYFILE" \
    -n "$N" -p fo -f app1.example.net. -t app2.example.net. ${DNS_BENCH_BATCH:+-b $DNS_BENCH_BATCH})
rc=$?
echo "$out"
[ $rc = 0 ] || { echo "bench-dns: flips or read-back failed" >&2; exit 1; }
ours_ms=$(sed -n 's/^dns_flip_all_ms=//p' <<<"$out")
# An independent check with dig of a few records.
for i in 0 $((N / 2)) $((N - 1)); do
	r=$(dig +norec +short -p "$NAMED_PORT" @127.0.0.1 "fo-$(printf %04d "$i").$Z" CNAME)
	[ "$r" = app2.example.net. ] || { echo "bench-dns: dig fo-$i: '$r'" >&2; exit 1; }
done

echo "== naive loop: one nsupdate -k process per record, $SAMPLE records (extrapolated to $N)"
t0=$(date +%s%N)
for ((i = 0; i < SAMPLE; i++)); do
	name=$(printf 'fo-%04d.%s' "$i" "$Z")
	nsupdate -k "$NAMED_KEYFILE" <<EOF || { echo "bench-dns: nsupdate failed" >&2; exit 1; }
server 127.0.0.1 $NAMED_PORT
zone $Z
update delete $name CNAME
update add $name 60 CNAME app3.example.net.
send
EOF
done
t1=$(date +%s%N)
r=$(dig +norec +short -p "$NAMED_PORT" @127.0.0.1 "fo-$(printf %04d $((SAMPLE - 1))).$Z" CNAME)
[ "$r" = app3.example.net. ] || { echo "bench-dns: nsupdate loop did not apply" >&2; exit 1; }
loop_ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e6 }')
loop_est=$(awk -v l="$loop_ms" -v s="$SAMPLE" -v n="$N" 'BEGIN { printf "%.1f", l * n / s }')
echo "nsupdate_loop_records_timed=$SAMPLE"
echo "nsupdate_loop_ms=$loop_ms"
echo "nsupdate_per_record_ms=$(awk -v l="$loop_ms" -v s="$SAMPLE" 'BEGIN { printf "%.2f", l / s }')"
echo "nsupdate_loop_${N}_ms_extrapolated=$loop_est"
echo "failoverd_flip_${N}_ms=$ours_ms"
goal=$(awk -v o="$ours_ms" 'BEGIN { print (o < 100) ? "met" : "missed" }')
echo "goal_all_flips_under_100ms=$goal"
speed=$(awk -v a="$loop_est" -v b="$ours_ms" 'BEGIN { printf "%.1f", a / b }')
echo "goal_speedup_at_least_20x=$(awk -v s="$speed" 'BEGIN { print (s >= 20) ? "met" : "missed" }')"
echo "dns_speedup_vs_nsupdate_loop=$speed"
