#!/bin/bash
# mem-daemon.sh - where the whole daemon's resident bytes are, per endpoint.
#
# Not part of `make bench` (it needs heaptrack, and the daemon runs slower
# under it): BUILD=build tests/bench/mem-daemon.sh.  The daemon of
# bench-daemon.sh (BENCH_DAEMON_N endpoints, default 10,000, in N/2 groups,
# interval 1 s, kept-alive connections to probe_benchsrv, a real named)
# runs under heaptrack until every record is published and every stack is
# up, plus BENCH_WARMUP s (default 30: the pool of easy handles forgets
# the first round's burst after 10 to 20 s); then its /proc figures are read and
# it is killed (SIGKILL: what was still allocated is then what it held in
# steady state).  Printed, in KiB per endpoint:
#   mem_rss / mem_rss_anon / mem_rss_file   VmRSS, RssAnon, RssFile
#   mem_heap_live                            bytes allocated and live
#                                            (libcurl's blocks kept for
#                                            reuse by probes/curlmem.c count
#                                            where they were first made)
#   mem_<part>                               live bytes by who asked:
#       curl_xfer      libcurl's connections and transfers (what it makes
#                      inside curl_multi_*: connectdata, its buffers)
#       curl_easy      libcurl's easy handles (the pool lent to checks)
#       curl_other     the rest of libcurl (multi handles, shares)
#       probes         the probe engine's own (struct probe, schedule)
#       daemon         the daemon's stacks, groups, probe log, health
#       config         the parsed configuration
#       dns            dnsupdate (ldns) and the resolver
#       lmdb           LMDB's own heap (pages are in mem_rss_file)
#       event          libevent (timers, bufferevents)
#       other          everything else
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
FAILOVERD=${FAILOVERD:-$TOP/$BUILD/failoverd}
BENCHBIN=${BENCHBIN:-$TOP/$BUILD/tests/bench}
command -v heaptrack >/dev/null && command -v heaptrack_print >/dev/null ||
    { echo "skip: no heaptrack (apt-get install heaptrack)"; exit 77; }
. "$TOP/tests/lib/named.sh"
. "$TOP/tests/bench/lib.sh"
N=${BENCH_DAEMON_N:-10000}
WARM=${BENCH_WARMUP:-30}
[ -x "$FAILOVERD" ] || { echo "mem-daemon: missing $FAILOVERD" >&2; exit 1; }
bench_init memdaemon
named_start "$dir/named" || { echo "mem-daemon: named did not start" >&2; exit 1; }
srv_start "$N"
daemon_conf "$N" 1000 >"$dir/failoverd.conf"
log=$dir/fo.log
bench_bg heaptrack -o "$dir/ht" "$FAILOVERD" -c "$dir/failoverd.conf" >"$log" 2>&1
ht=$BG_PID
fo=
for ((i = 0; i < 100; i++)); do
	fo=$(pgrep -P "$ht" -x failoverd) && break
	sleep 0.1
done
[ -n "$fo" ] || { echo "mem-daemon: failoverd did not start" >&2; cat "$log" >&2; exit 1; }
tenths=$((3000 + N / 5))
for ((i = 0; i < tenths; i++)); do
	[ "$(grep -c 'event=dns_updated .*why=publish' "$log")" -ge $((N / 2)) ] &&
	    [ "$(grep -c 'event=health_change .*to=up' "$log")" -ge "$N" ] && break
	kill -0 "$fo" 2>/dev/null || { echo "mem-daemon: failoverd died" >&2; tail "$log" >&2; exit 1; }
	sleep 0.1
done
sleep "$WARM"
awk -v n="$N" '/^VmRSS/ { printf "mem_rss=%.1f\n", $2 / n }
    /^RssAnon/ { printf "mem_rss_anon=%.1f\n", $2 / n }
    /^RssFile/ { printf "mem_rss_file=%.1f\n", $2 / n }' "/proc/$fo/status"
kill -KILL "$fo"
wait "$ht" 2>/dev/null
f=$(ls "$dir"/ht*.zst "$dir"/ht*.gz 2>/dev/null | head -1)
[ -n "$f" ] || { echo "mem-daemon: no heaptrack data" >&2; cat "$log" >&2; exit 1; }
heaptrack_print -f "$f" --flamegraph-cost-type leaked -F "$dir/stacks.txt" >/dev/null 2>&1
# A line: frames from the outermost, ';'-separated, then the live bytes.
# The part is decided by the innermost frame that has a name (libcurl's
# own functions have none here: its exported entry points do).
awk -v n="$N" '
function part(st,    m, fr, i, f, out) {
	m = split(st, fr, ";")
	for (i = m; i >= 1; i--) {
		f = fr[i]
		if (f ~ /^ *0x/ || f ~ /^curlmem_(malloc|calloc|realloc|strdup)/ || f == "")
			continue
		if (f ~ /^curl_easy_(init|setopt|reset|duphandle)/) {
			out = i > 1 ? fr[i - 1] : ""
			while (out ~ /^ *0x/ && --i > 1) out = fr[i - 1]
			return out ~ /^xfer_/ ? "curl_easy" : "curl_other"
		}
		if (f ~ /^curl_multi_/) return "curl_xfer"
		if (f ~ /^(curl_|Curl_)/) return "curl_other"
		if (f ~ /^(probe_|xfer_|sock_|shard_|conf_|pool_|tick_|sockopt_|timeout_cb)/) return "probes"
		if (f ~ /^(config_|cfg_|ini_|named_begin|line_check|section_begin|read_line_cb|validate)/) return "config"
		if (f ~ /^(dnsup_|ldns_|ddns_)/) return "dns"
		if (f ~ /^(mdb_|store_)/) return "lmdb"
		if (f ~ /^(event_|evbuffer_|bufferevent_|evhttp_|evutil_|evmap_|epoll_)/)
			return "event"
		if (f ~ /^(daemon_|dgroup_|probelog_|plog_|groups_|stacks_|stack_|health_|eng_|api_|hook_)/)
			return "daemon"
	}
	return "other"
}
{
	b = $NF; st = $0; sub(/ [0-9]+$/, "", st)
	p = part(st); by[p] += b; total += b
}
END {
	printf "mem_heap_live=%.1f\n", total / 1024 / n
	split("curl_xfer curl_easy curl_other probes daemon config dns lmdb event other", o, " ")
	for (i = 1; i in o; i++)
		printf "mem_%s=%.2f\n", o[i], by[o[i]] / 1024 / n
}' "$dir/stacks.txt"
[ -n "${MEM_KEEP_STACKS:-}" ] && cp "$dir/stacks.txt" "$MEM_KEEP_STACKS"
exit 0
