# shellcheck shell=bash
# world.sh - the self-contained demo world of failoverd (sourced by bash).
#
# Everything runs on loopback, from one fresh directory $WORLD_DIR (mktemp -d
# under /tmp, mode 0755 so that nginx workers, running as nobody, can stat the
# maintenance flag and PostgreSQL, running as postgres, can reach its data):
#
#   named      BIND9 from tests/lib/named.sh; zone failover.demo. with
#              app1 A 127.0.0.1, app2 A 127.0.0.1 (the two web heads' names)
#              and the address www CNAME app1.failover.demo.  Updated with
#              the TSIG key $NAMED_KEYFILE (hmac-sha256, tsig-keygen).
#   stack app1 nginx web head on 127.0.0.1:$port (/health answers 200 "OK",
#              every URI answers 503 while $WORLD_DIR/app1/maintenance
#              exists) and PostgreSQL 15, the primary, on 127.0.0.1:$pgport
#              and a unix socket in $WORLD_DIR/app1/run.
#   stack app2 the same, its PostgreSQL a hot standby made with
#              pg_basebackup -R -X stream -c fast from app1 and streaming
#              from it; app2 starts in maintenance (a dormant standby
#              answers 503).  app1 commits synchronously to app2
#              (synchronous_standby_names = app2), so that every commit a
#              client saw is on app2's disk: the proof at the end holds
#              by design, not by luck.
#
# How the web head sits "in front of" the database, kept honest but simple:
# the web head's /health tells whether the stack serves (nginx itself); the
# writer talks to the active stack's database directly.  "Active" is what
# the address says: the writer asks the demo named for www.failover.demo.,
# reads the web head name it is a CNAME to (app1.failover.demo. or
# app2.failover.demo.) and uses that stack's database.
#
# Each stack directory holds stack.conf, the per-stack settings the example
# hooks in config/hooks/ read (hooks get only PATH and FAILOVER_* from
# failoverd, so the rest comes from their argv: "maintenance on DIR").
#
# Every process is this shell's own child, started in the foreground mode
# of its program, and stopped by PID in world_down (installed on EXIT through
# named_trap_add; INT and TERM exit through it too).  Re-runnable: nothing is
# kept outside $WORLD_DIR, which world_down removes unless WORLD_KEEP=1.
#
# API (bash functions; state in WORLD_* variables):
#   world_init                 make $WORLD_DIR, install the traps
#   world_named_up             start named with the demo zone
#   world_stack_create NAME    per-stack directory, ports, stack.conf
#   world_nginx_start NAME     / world_nginx_stop NAME
#   world_pg_primary NAME      initdb + start; creates table demo_rows
#   world_pg_standby NAME FROM pg_basebackup from FROM + start, streaming
#   world_pg_sync FROM TO      make FROM commit synchronously to TO
#   world_pg_start NAME        / world_pg_stop NAME [fast|immediate]
#   world_up                   all of the above for app1 + app2 (the demo)
#   world_down                 stop everything by PID, remove the directory
#   world_psql NAME SQL        one query, -qAtX, on NAME's socket
#   world_active               stack the address points at now (dig)
#   world_dig                  the address as dig shows it
#   world_flip TO              nsupdate -k: address CNAME TO's web head
#   world_failoverd_conf OUT   config/demo/failoverd.conf.in for this world
#   world_say TEXT             one narrated line, time since world_init
#   world_ms                   milliseconds since the epoch

WORLD_TOP=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
WORLD_ZONE=failover.demo.
WORLD_ADDRESS=www.$WORLD_ZONE
WORLD_DIR=
WORLD_PORTS=" "
declare -A WORLD_HTTP_PORT WORLD_PG_PORT WORLD_NGINX_PID WORLD_PG_PID
WORLD_WRITER_PID=
WORLD_EXTRA_PIDS=()

# shellcheck source=../lib/named.sh
. "$WORLD_TOP/tests/lib/named.sh"

world_ms() {
	local t=${EPOCHREALTIME/[.,]/}
	echo $((t / 1000))
}

WORLD_T0=$(world_ms)

# Deadlines for the bounded waits: world_deadline SECONDS sets one,
# world_before is true until it passes.  Generous: a loaded CI machine
# starts PostgreSQL several times slower than an idle one.
world_deadline() {
	WORLD_DEADLINE=$(($(world_ms) + $1 * 1000))
}
world_before() {
	[ "$(world_ms)" -lt "$WORLD_DEADLINE" ]
}

# WORLD_SAY_AT (epoch ms) tells an event at the time it happened.
world_say() {
	local ms=$((${WORLD_SAY_AT:-$(world_ms)} - WORLD_T0))
	printf '[%3d.%02ds] %s\n' $((ms / 1000)) $((ms % 1000 / 10)) "$*"
}

world_die() {
	echo "world: $*" >&2
	exit 1
}

# A TCP port below 32768 that nothing listens on and this world has not
# handed out yet, in WORLD_PORT (no subshell: the world remembers it).  The
# caller binds it; a lost race shows as a start failure and is retried.
world_free_port() {
	local p i
	for ((i = 0; i < 200; i++)); do
		p=$((10000 + RANDOM % 22000))
		[[ $WORLD_PORTS == *" $p "* ]] && continue
		[ -n "$(ss -Hlnt "sport = :$p" 2>/dev/null)" ] && continue
		[ -n "$(ss -Hlnu "sport = :$p" 2>/dev/null)" ] && continue
		WORLD_PORTS="$WORLD_PORTS$p "
		WORLD_PORT=$p
		return 0
	done
	world_die "no free port"
}

# Wait until PID is gone (reaped by bash) for at most SECONDS; 0 if gone,
# its exit status in WORLD_WAIT_RC.
world_wait_gone() {	# pid seconds
	local pid=$1 n=$(($2 * 20)) i st
	for ((i = 0; i < n; i++)); do
		st=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)
		if [ -z "$st" ] || [ "$st" = Z ]; then
			wait "$pid" 2>/dev/null
			WORLD_WAIT_RC=$?
			return 0
		fi
		sleep 0.05
	done
	return 1
}

# Stop one of our children: SIG, then KILL after SECONDS; always reaped.
world_kill() {		# pid sig seconds
	[ -n "$1" ] || return 0
	kill -"$2" "$1" 2>/dev/null || { wait "$1" 2>/dev/null; return 0; }
	world_wait_gone "$1" "$3" && return 0
	kill -KILL "$1" 2>/dev/null
	world_wait_gone "$1" 5
}

world_init() {
	WORLD_DIR=$(mktemp -d /tmp/failoverd-demo.XXXXXX) || world_die "mktemp failed"
	chmod 0755 "$WORLD_DIR"
	named_trap_add world_down
	trap 'exit 130' INT
	trap 'exit 143' TERM
	export WORLD_DIR
}

world_down() {
	local s p
	[ -n "$WORLD_DIR" ] || return 0
	world_kill "$WORLD_WRITER_PID" TERM 5
	WORLD_WRITER_PID=
	for p in "${WORLD_EXTRA_PIDS[@]}"; do
		world_kill "$p" TERM 5
	done
	WORLD_EXTRA_PIDS=()
	for s in "${!WORLD_NGINX_PID[@]}"; do
		world_nginx_stop "$s"
	done
	# immediate: no shutdown checkpoint for data about to be removed
	# (crash-safe all the same, should WORLD_KEEP=1 keep it)
	for s in "${!WORLD_PG_PID[@]}"; do
		world_pg_stop "$s" immediate
	done
	named_stop
	if [ "${WORLD_KEEP:-0}" = 1 ]; then
		echo "world: kept $WORLD_DIR" >&2
	else
		rm -rf "$WORLD_DIR"
	fi
	WORLD_DIR=
}

# ---- named --------------------------------------------------------------

world_named_up() {
	local extra=$WORLD_DIR/zone-extra
	cat >"$extra" <<EOF
app1	IN A 127.0.0.1
app2	IN A 127.0.0.1
www	60 IN CNAME app1.$WORLD_ZONE
EOF
	export NAMED_ZONE_EXTRA=$extra
	export NAMED_KEYNAME=failover-demo
	named_start "$WORLD_DIR/named" "$WORLD_ZONE" || world_die "named did not start"
}

world_dig() {
	dig +norec +noall +answer +time=1 +tries=1 -p "$NAMED_PORT" @127.0.0.1 \
	    "$WORLD_ADDRESS" 2>/dev/null
}

# The stack the address points at now: the first label of its CNAME target.
world_active() {
	local t
	t=$(dig +norec +short +time=1 +tries=1 -p "$NAMED_PORT" @127.0.0.1 \
	    "$WORLD_ADDRESS" CNAME 2>/dev/null | head -1)
	[ -n "$t" ] || return 1
	echo "${t%%.*}"
}

# Point the address at stack TO's web head: one TSIG-signed UPDATE.
world_flip() {		# to
	nsupdate -k "$NAMED_KEYFILE" <<EOF
server 127.0.0.1 $NAMED_PORT
zone $WORLD_ZONE
update delete $WORLD_ADDRESS CNAME
update add $WORLD_ADDRESS 60 CNAME $1.$WORLD_ZONE
send
EOF
}

# ---- failoverd ----------------------------------------------------------

# Render config/demo/failoverd.conf.in for this world into OUT: state in
# $WORLD_DIR/failoverd, the API on a free port with a 0600 token file, the
# hooks of this checkout.
world_failoverd_conf() {	# out
	local st=$WORLD_DIR/failoverd
	mkdir -p "$st" && chmod 0700 "$st"
	world_free_port
	WORLD_API_PORT=$WORLD_PORT
	WORLD_API_TOKEN_FILE=$WORLD_DIR/api.token
	(umask 077; head -c 24 /dev/urandom | base64 >"$WORLD_API_TOKEN_FILE")
	sed -e "s|@STATE_DIR@|$st/state|g" \
	    -e "s|@LISTEN@|127.0.0.1:$WORLD_API_PORT|g" \
	    -e "s|@API_TOKEN_FILE@|$WORLD_API_TOKEN_FILE|g" \
	    -e "s|@DNS_SERVER@|127.0.0.1:$NAMED_PORT|g" \
	    -e "s|@ZONE@|$WORLD_ZONE|g" \
	    -e "s|@KEY_FILE@|$NAMED_KEYFILE|g" \
	    -e "s|@HOOKS@|$WORLD_TOP/config/hooks|g" \
	    -e "s|@APP1_HEALTH_URL@|http://127.0.0.1:${WORLD_HTTP_PORT[app1]}/health|g" \
	    -e "s|@APP2_HEALTH_URL@|http://127.0.0.1:${WORLD_HTTP_PORT[app2]}/health|g" \
	    -e "s|@APP1_DIR@|$WORLD_DIR/app1|g" \
	    -e "s|@APP2_DIR@|$WORLD_DIR/app2|g" \
	    "$WORLD_TOP/config/demo/failoverd.conf.in" >"$1"
}

# ---- stacks ---------------------------------------------------------------

world_stack_create() {	# name
	local s=$1 d=$WORLD_DIR/$1
	mkdir -p "$d/nginx/logs" "$d/nginx/tmp" "$d/run" "$d/pgdata" || return 1
	chown postgres:postgres "$d/run" "$d/pgdata"
	chmod 0700 "$d/pgdata"
	world_free_port
	WORLD_HTTP_PORT[$s]=$WORLD_PORT
	world_free_port
	WORLD_PG_PORT[$s]=$WORLD_PORT
	world_stack_conf "$s"
	world_nginx_conf "$s"
}

# The settings the example hooks read (KEY=VALUE, no shell: see the hooks).
world_stack_conf() {	# name
	local s=$1 d=$WORLD_DIR/$1
	cat >"$d/stack.conf" <<EOF
# stack $s of the failoverd demo world, read by config/hooks/*
STACK=$s
FLAG=$d/maintenance
HEALTH_URL=http://127.0.0.1:${WORLD_HTTP_PORT[$s]}/health
PGBIN=$PGBIN
PGHOST=$d/run
PGPORT=${WORLD_PG_PORT[$s]}
PGDATA=$d/pgdata
PGUSER=postgres
PGDATABASE=postgres
LAG_MAX_BYTES=16777216
HOOK_LOG=$d/hooks.log
EOF
}

world_nginx_conf() {	# name
	local s=$1 d=$WORLD_DIR/$1 t=$WORLD_DIR/$1/nginx/tmp
	cat >"$d/nginx/nginx.conf" <<EOF
# web head of stack $s (failoverd demo)
daemon off;
worker_processes 1;
pid $d/nginx/nginx.pid;
events { worker_connections 256; }
http {
	access_log off;
	client_body_temp_path $t/body;
	proxy_temp_path $t/proxy;
	fastcgi_temp_path $t/fastcgi;
	uwsgi_temp_path $t/uwsgi;
	scgi_temp_path $t/scgi;
	server {
		listen 127.0.0.1:${WORLD_HTTP_PORT[$s]};
		default_type text/plain;
		# maintenance mode: every URI, next request, no reload
		if (-f $d/maintenance) { return 503 "$s: maintenance\n"; }
		location = /health { return 200 "OK\n"; }
		location / { return 200 "$s\n"; }
	}
}
EOF
}

world_http_status() {	# name [path]
	curl -s -o /dev/null -m 1 -w '%{http_code}' \
	    "http://127.0.0.1:${WORLD_HTTP_PORT[$1]}${2:-/health}" 2>/dev/null
}

world_nginx_start() {	# name
	local s=$1 d=$WORLD_DIR/$1/nginx i pid try st
	for ((try = 0; try < 5; try++)); do
		nginx -p "$d" -c "$d/nginx.conf" -e stderr \
		    >>"$d/logs/nginx.out" 2>&1 </dev/null &
		pid=$!
		world_deadline 10
		while world_before; do
			st=$(world_http_status "$s")
			[ "$st" = 200 ] || [ "$st" = 503 ] && {
				WORLD_NGINX_PID[$s]=$pid
				return 0
			}
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.02
		done
		world_kill "$pid" TERM 2
		# the port was taken meanwhile: another one
		world_free_port
		WORLD_HTTP_PORT[$s]=$WORLD_PORT
		world_stack_conf "$s"
		world_nginx_conf "$s"
	done
	tail -5 "$d/logs/nginx.out" >&2
	world_die "nginx of $s did not start"
}

world_nginx_stop() {	# name
	world_kill "${WORLD_NGINX_PID[$1]:-}" TERM 5
	unset "WORLD_NGINX_PID[$1]"
}

# ---- PostgreSQL -------------------------------------------------------------

world_psql() {		# name sql
	"$PGBIN/psql" -qAtX -v ON_ERROR_STOP=1 -h "$WORLD_DIR/$1/run" \
	    -p "${WORLD_PG_PORT[$1]}" -U postgres -d postgres -c "$2"
}

# Settings of NAME's own instance, appended last so that they win over
# whatever pg_basebackup copied from another stack.
world_pg_conf() {	# name
	local s=$1 d=$WORLD_DIR/$1
	cat >>"$d/pgdata/postgresql.conf" <<EOF

# ---- failoverd demo: stack $s ----
port = ${WORLD_PG_PORT[$s]}
listen_addresses = '127.0.0.1'
unix_socket_directories = '$d/run'
max_connections = 30
shared_buffers = 16MB
wal_level = replica
max_wal_senders = 5
hot_standby = on
logging_collector = off
log_min_messages = warning
EOF
}

# Start the postmaster as our direct child (setpriv execs, runuser would
# fork and stay in between) and wait until it accepts connections.
world_pg_start() {	# name
	local s=$1 d=$WORLD_DIR/$1 pid i
	setpriv --reuid=postgres --regid=postgres --init-groups -- \
	    "$PGBIN/postgres" -D "$d/pgdata" >>"$d/postgres.log" 2>&1 </dev/null &
	pid=$!
	WORLD_PG_PID[$s]=$pid
	world_deadline 30
	while world_before; do
		"$PGBIN/pg_isready" -q -h "$d/run" -p "${WORLD_PG_PORT[$s]}" && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.02
	done
	world_kill "$pid" INT 5
	return 1
}

# fast: SIGINT (clean shutdown); immediate: SIGQUIT (no checkpoint: the
# way a crash looks to the database).  KILL after 10 s, always reaped.
world_pg_stop() {	# name [fast|immediate]
	local sig=INT
	[ "${2:-fast}" = immediate ] && sig=QUIT
	world_kill "${WORLD_PG_PID[$1]:-}" "$sig" 10
	unset "WORLD_PG_PID[$1]"
}

world_pg_primary() {	# name
	local s=$1 d=$WORLD_DIR/$1 try
	runuser -u postgres -- "$PGBIN/initdb" -D "$d/pgdata" -U postgres \
	    --auth=trust -E UTF8 --locale=C -N >"$d/initdb.log" 2>&1 ||
	    { tail -5 "$d/initdb.log" >&2; world_die "initdb of $s failed"; }
	for ((try = 0; try < 5; try++)); do
		world_pg_conf "$s"
		world_pg_start "$s" && break
		unset "WORLD_PG_PID[$s]"
		world_free_port
		WORLD_PG_PORT[$s]=$WORLD_PORT
		world_stack_conf "$s"
	done
	[ -n "${WORLD_PG_PID[$s]:-}" ] ||
	    { tail -5 "$d/postgres.log" >&2; world_die "postgres of $s did not start"; }
	world_psql "$s" "CREATE TABLE demo_rows (id bigserial PRIMARY KEY,
	    ts timestamptz NOT NULL DEFAULT clock_timestamp(), stack text NOT NULL)" ||
	    world_die "cannot create demo_rows on $s"
}

world_pg_standby() {	# name from
	local s=$1 f=$2 d=$WORLD_DIR/$1 try i
	local conninfo="host=127.0.0.1 port=${WORLD_PG_PORT[$f]} user=postgres"
	runuser -u postgres -- "$PGBIN/pg_basebackup" -D "$d/pgdata" -R \
	    -X stream -c fast -d "$conninfo application_name=$s" \
	    >"$d/basebackup.log" 2>&1 ||
	    { tail -5 "$d/basebackup.log" >&2; world_die "pg_basebackup of $s failed"; }
	for ((try = 0; try < 5; try++)); do
		world_pg_conf "$s"
		world_pg_start "$s" && break
		unset "WORLD_PG_PID[$s]"
		world_free_port
		WORLD_PG_PORT[$s]=$WORLD_PORT
		world_stack_conf "$s"
	done
	[ -n "${WORLD_PG_PID[$s]:-}" ] ||
	    { tail -5 "$d/postgres.log" >&2; world_die "postgres of $s did not start"; }
	world_deadline 30
	while world_before; do
		[ "$(world_psql "$f" "SELECT count(*) FROM pg_stat_replication
		    WHERE application_name = '$s' AND state = 'streaming'")" = 1 ] &&
		    return 0
		sleep 0.02
	done
	world_die "$s does not stream from $f"
}

world_pg_sync() {	# from to
	local i
	world_psql "$1" "ALTER SYSTEM SET synchronous_standby_names = '$2'" &&
	    world_psql "$1" "SELECT pg_reload_conf()" >/dev/null || return 1
	world_deadline 30
	while world_before; do
		[ "$(world_psql "$1" "SELECT sync_state FROM pg_stat_replication
		    WHERE application_name = '$2'")" = sync ] && return 0
		sleep 0.02
	done
	return 1
}

# The whole demo world: named, app1 (primary, serving), app2 (standby, in
# maintenance), synchronous replication app1 -> app2.
world_up() {
	[ -x "$PGBIN/postgres" ] || world_die "no PostgreSQL 15 in $PGBIN"
	id postgres >/dev/null 2>&1 || world_die "no postgres user"
	world_named_up
	world_stack_create app1
	world_stack_create app2
	touch "$WORLD_DIR/app2/maintenance"
	world_nginx_start app1
	world_nginx_start app2
	world_pg_primary app1
	world_pg_standby app2 app1
	world_pg_sync app1 app2 || world_die "app1 -> app2 not synchronous"
}
