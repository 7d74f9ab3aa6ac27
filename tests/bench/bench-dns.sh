#!/bin/bash
# bench-dns: flip 1,000 failover addresses on a real named.
#
# failoverd's updater (tests/bench/dnsbench.c over dnsupdate/, one libevent
# loop, updates coalesced into few signed UPDATE messages, each with the
# prerequisites failoverd sends: the record it replaces and the ownership
# TXT) against the naive script: one `nsupdate -k` process per record in a
# shell loop.  To keep the run short the loop is timed over NSUPDATE_SAMPLE
# records (default 100) and extrapolated to 1,000, which the output says.
# Every one of the 1,000 records is read back afterwards.  Then one flip's
# latency while 1,000 read-back queries wait for a server that never
# answers (goal: within 2x of the idle figure), and the whole daemon's
# first publication of PUBLISH_GROUPS (default 5,000) groups at start
# (goal: under 1 s), with the checks it runs meanwhile against their
# schedule and against the same daemon's under --dry-run (goal: 0.99 of
# the dry run's).  Last line: dns_speedup_vs_nsupdate_loop=<value>.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BENCHBIN=${BENCHBIN:-$TOP/${BUILD:-build}/tests/bench}
N=${DNS_BENCH_N:-1000}
SAMPLE=${NSUPDATE_SAMPLE:-100}
PUBLISH_GROUPS=${PUBLISH_GROUPS:-5000}
FAILOVERD=${FAILOVERD:-$TOP/${BUILD:-build}/failoverd}
TOOLS=${TOOLS:-$TOP/${BUILD:-build}/tests/integration}
[ -x "$BENCHBIN/dnsbench" ] || { echo "bench-dns: no $BENCHBIN/dnsbench (make bench-dns builds it)" >&2; exit 1; }
. "$TOP/tests/lib/fo.sh"
ulimit -n 65536 2>/dev/null

tmp=$(mktemp -d /tmp/bench-dns.XXXXXX)
named_trap_add "rm -rf '$tmp'"

# The zone starts with N failover addresses on the old web head.
for ((i = 0; i < N; i++)); do
	printf 'fo-%04d 60 IN CNAME app1.example.net.\n' "$i"
	printf '_failoverd.fo-%04d 60 IN TXT "failoverd controller=bench group=fo-%04d"\n' "$i" "$i"
done >"$tmp/extra.db"
printf 'fo-rtt 60 IN CNAME app1.example.net.\n' >>"$tmp/extra.db"
printf '_failoverd.fo-rtt 60 IN TXT "failoverd controller=bench group=fo-rtt"\n' >>"$tmp/extra.db"
NAMED_ZONE_EXTRA=$tmp/extra.db named_start "$tmp/named" || { echo "bench-dns: named did not start" >&2; exit 1; }
Z=$NAMED_ZONE
have=$(dig +norec +short -p "$NAMED_PORT" @127.0.0.1 "fo-$(printf %04d $((N - 1))).$Z" CNAME)
[ "$have" = app1.example.net. ] || { echo "bench-dns: zone not loaded" >&2; exit 1; }

echo "== failoverd updater: $N flips at once, then read-back of all $N"
out=$("$BENCHBIN/dnsbench" -s "127.0.0.1#$NAMED_PORT" -z "$Z" -k "$NAMED_KEYFILE" \
    -n "$N" -p fo -f app1.example.net. -t app2.example.net. -o bench \
    ${DNS_BENCH_BATCH:+-b $DNS_BENCH_BATCH})
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
named_stop

# ---- the whole daemon: first publication of PUBLISH_GROUPS groups ----
# Two stacks per group, each probed once a second whatever its health
# (PUBLISH_GROUPS x 2 probes a second, on two web heads), nothing published
# yet, no state: every group publishes at once.  The checks finished in the
# 4 s from ready (publication included), against the schedule, and against
# a reference run of the same daemon under --dry-run (same probes, no
# UPDATE sent) in the same invocation: whether the schedule was kept while
# the records went out.
echo "== failoverd: first publication of $PUBLISH_GROUPS groups at start"
named_start "$tmp/named2" || { echo "bench-dns: named did not start" >&2; exit 1; }
fo_webhead app1
fo_webhead app2
api_port=$((10000 + RANDOM % 20000))
{
	cat <<CONF
[controller]
state_dir = @STATE@
listen = 127.0.0.1:$api_port
map_size = 1G
[dns]
server = 127.0.0.1:$NAMED_PORT
zone = $NAMED_ZONE
key_file = $NAMED_KEYFILE
confirm = 127.0.0.1:$NAMED_PORT
verify_interval = 10m
CONF
	for ((i = 1; i <= PUBLISH_GROUPS; i++)); do
		cat <<CONF
[stack p$i]
web_head = p$i.example.net
health_url = http://127.0.0.1:$WH_PORT_app1/health
interval = 1s
fastinter = 1s
downinter = 1s
rise = 1
timeout = 500ms
[stack b$i]
web_head = b$i.example.net
health_url = http://127.0.0.1:$WH_PORT_app2/health
interval = 1s
fastinter = 1s
downinter = 1s
rise = 1
timeout = 500ms
[group g$i]
address = g$i
primary = p$i
backup = b$i
CONF
	done
} >"$tmp/publish.conf.in"
probes() { curl -s --max-time 30 "http://127.0.0.1:$api_port/metrics" | sed -n 's/^failoverd_probe_duration_seconds_count{[^}]*} //p' | awk '{ n += $1 } END { print n + 0 }'; }
ms_of() { sed -n 's/^ts=\([^ ]*\) .*/\1/p' | xargs -I{} date -d {} +%s%3N; }

# publish_run NAME [--dry-run]: sets SCHED (checks finished from ready to
# 4 s after it, against the schedule's PUBLISH_GROUPS x 2 a second: first
# rounds are spread over the first interval, so n x T are due by T),
# T_START, T_READY, T_LAST (the last publication, or would-be one).
publish_run() {
	local name=$1 dry=${2:-} log=$tmp/$1.log done_re p1= w1 i s
	sed "s|@STATE@|$tmp/state-$name|" "$tmp/publish.conf.in" >"$tmp/$name.conf"
	done_re='event=dns_updated .*why=publish'
	[ -n "$dry" ] && done_re='event=dns_updated .*why=publish dry_run=yes'
	"$FAILOVERD" $dry -c "$tmp/$name.conf" >"$log" 2>&1 &
	FO_PID=$!
	fo_wait 60 grep -q 'event=ready' "$log" ||
		{ tail "$log" >&2; echo "bench-dns: failoverd ($name) not ready" >&2; return 1; }
	T_START=$(grep -m1 'event=start' "$log" | ms_of)
	T_READY=$(grep -m1 'event=ready' "$log" | ms_of)
	fo_wait 60 bash -c "[ \$(grep -c '$done_re' '$log') -ge $PUBLISH_GROUPS ]" ||
		{ echo "bench-dns: $name: published $(grep -c "$done_re" "$log") of $PUBLISH_GROUPS" >&2; return 1; }
	s=$(awk -v a="$T_READY" -v b="$(date +%s%3N)" 'BEGIN { r = 4 - (b - a) / 1e3; print (r > 0) ? r : 0 }')
	sleep "$s"
	for ((i = 0; i < 100; i++)); do p1=$(probes); [ -n "$p1" ] && break; sleep 0.05; done
	w1=$(date +%s%3N)
	fo_stop >/dev/null
	[ -n "$p1" ] || { echo "bench-dns: no metrics ($name)" >&2; return 1; }
	SCHED=$(awk -v p="$p1" -v n="$((2 * PUBLISH_GROUPS))" -v a="$T_READY" -v b="$w1" \
	    'BEGIN { printf "%.3f", p / (n * (b - a) / 1e3) }')
	T_LAST=$(grep "$done_re" "$log" | tail -1 | ms_of)
	[ -n "${PUBLISH_KEEP_LOG:-}" ] && cp "$log" "$PUBLISH_KEEP_LOG.$name"
	return 0
}

publish_run reference --dry-run || exit 1
ref_sched=$SCHED
publish_run publish || exit 1
log=$tmp/publish.log
pub_msgs=$(grep 'event=dns_updated .*why=publish' "$log" | sed -n 's/.*batch=\([0-9]*\).*/\1/p' | sort -n | uniq -c | awk '{n+=$1/$2} END {printf "%d", n}')
readbacks=$(grep -c 'event=dns_readback' "$log")
for i in 1 $((PUBLISH_GROUPS / 2)) "$PUBLISH_GROUPS"; do
	r=$(dig +norec +short -p "$NAMED_PORT" @127.0.0.1 "g$i.$NAMED_ZONE" CNAME)
	[ "$r" = "p$i.example.net." ] || { echo "bench-dns: g$i holds '$r'" >&2; exit 1; }
	r=$(dig +norec +short -p "$NAMED_PORT" @127.0.0.1 "_failoverd.g$i.$NAMED_ZONE" TXT)
	[[ $r =~ ^\"failoverd\ controller=[^\ ]+\ group=g$i\"$ ]] ||
	    { echo "bench-dns: TXT of g$i: '$r'" >&2; exit 1; }
done
publish_ms=$((T_LAST - T_READY))
sched=$(awk -v a="$SCHED" -v b="$ref_sched" 'BEGIN { printf "%.3f", (b > 0) ? a / b : 0 }')
echo "publish_groups=$PUBLISH_GROUPS"
echo "publish_start_to_ready_ms=$((T_READY - T_START))"
echo "publish_ready_to_last_published_ms=$publish_ms"
echo "publish_update_messages=$pub_msgs"
echo "publish_readbacks=$readbacks"
echo "publish_checks_vs_schedule=$SCHED"
echo "publish_checks_vs_schedule_dry_run_reference=$ref_sched"
echo "publish_checks_vs_dry_run=$sched"
echo "goal_publish_under_1s=$(awk -v m="$publish_ms" 'BEGIN { print (m < 1000) ? "met" : "missed" }')"
# The publication's share of any shortfall: the dry run has the same
# probes and no UPDATE.
echo "goal_checks_kept_while_publishing=$(awk -v r="$sched" 'BEGIN { print (r >= 0.99) ? "met" : "missed" }')"
loop_est=$(awk -v l="$loop_ms" -v s="$SAMPLE" -v n="$N" 'BEGIN { printf "%.1f", l * n / s }')
echo "nsupdate_loop_records_timed=$SAMPLE"
echo "nsupdate_loop_ms=$loop_ms"
echo "nsupdate_per_record_ms=$(awk -v l="$loop_ms" -v s="$SAMPLE" 'BEGIN { printf "%.2f", l / s }')"
echo "nsupdate_loop_${N}_ms_extrapolated=$loop_est"
echo "failoverd_flip_${N}_ms=$ours_ms"
loaded=$(sed -n 's/^dns_loaded_vs_idle_p50=//p' <<<"$out")
echo "goal_loaded_flip_within_2x_idle=$(awk -v r="$loaded" 'BEGIN { print (r <= 2) ? "met" : "missed" }')"
goal=$(awk -v o="$ours_ms" 'BEGIN { print (o < 100) ? "met" : "missed" }')
echo "goal_all_flips_under_100ms=$goal"
speed=$(awk -v a="$loop_est" -v b="$ours_ms" 'BEGIN { printf "%.1f", a / b }')
echo "goal_speedup_at_least_20x=$(awk -v s="$speed" 'BEGIN { print (s >= 20) ? "met" : "missed" }')"
echo "dns_speedup_vs_nsupdate_loop=$speed"
