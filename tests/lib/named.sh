# named.sh - a real BIND9 named as a test fixture (sourced by bash tests).
#
#   . "$TOP/tests/lib/named.sh"
#   named_start DIR [ZONE]      start named in DIR (created, should be fresh)
#   named_stop                  SIGTERM by PID, wait for it (bounded)
#   named_restart               stop and start again in the same DIR and on
#                               the same port: the journal (.jnl) is kept
#   named_trap_add 'CMD'        run CMD at exit too, before named is stopped
#
# named runs in the foreground (-f, logging to DIR/named.log) as the test
# shell's own child, so that it is reaped at once and never outlives the
# test: an EXIT trap installed here stops it whatever happened.  It listens
# on 127.0.0.1 only, on a random free port below 32768 (the ephemeral range
# starts there); when the bind fails anyway another port is tried.
#
# The zone (default failover.test.) is dynamic: SOA, NS ns.ZONE, ns A
# 127.0.0.1 (so a zone's NS set resolves to 127.0.0.1, port 53: tests give
# confirm servers explicitly), plus every line of the file named by
# $NAMED_ZONE_EXTRA when set (e.g. 1,000 records for a benchmark).
# Keys, made with tsig-keygen, each in its own BIND-format file of mode 0600:
#   NAMED_KEYNAME  / NAMED_KEYFILE        hmac-sha256, may update the zone
#   NAMED_KEYNAME2 / NAMED_KEYFILE2       hmac-sha256, may update the zone
#   NAMED_KEYFILE_SHA1, NAMED_KEYFILE_SHA512   other algorithms, may update
#   NAMED_KEYFILE_NOGRANT                 known to named, no update rights
# Exported when ready: NAMED_PORT NAMED_PID NAMED_DIR NAMED_ZONE NAMED_KEYNAME
# NAMED_KEYFILE NAMED_SECRET (base64 of the first key) and NAMED_LOG.
# Readiness: a TXT record holding a token of this start (harness-id.ZONE)
# answered by dig, polled for at most 5 s; the token proves that the answer
# comes from our named, not from another server already on the port.

NAMED_BIN=${NAMED_BIN:-/usr/sbin/named}
NAMED_PID=
_named_hooks=()

named_trap_add() {
	_named_hooks+=("$1")
}

_named_on_exit() {
	local rc=$? h
	for h in "${_named_hooks[@]}"; do
		eval "$h" || true
	done
	named_stop
	return $rc
}
trap _named_on_exit EXIT

_named_port_free() {	# port
	[ -z "$(ss -Hlnu "sport = :$1" 2>/dev/null)" ] &&
	    [ -z "$(ss -Hlnt "sport = :$1" 2>/dev/null)" ]
}

_named_keygen() {	# alg name file
	tsig-keygen -a "$1" "$2" >"$3" || return 1
	chmod 0600 "$3"
}

_named_write_conf() {
	local d=$NAMED_DIR z=$NAMED_ZONE
	cat >"$d/named.conf" <<EOF
include "$d/key1.key";
include "$d/key2.key";
include "$d/key-sha1.key";
include "$d/key-sha512.key";
include "$d/key-nogrant.key";
options {
	directory "$d";
	pid-file "$d/named.pid";
	session-keyfile "$d/session.key";
	listen-on port $NAMED_PORT { 127.0.0.1; };
	listen-on-v6 { none; };
	recursion no;
	notify no;
	dnssec-validation no;
	minimal-responses no;
};
controls { };
logging {
	channel main { file "$d/named.log"; severity info; print-time yes; };
	category default { main; };
	category update { main; };
	category security { main; };
	category lame-servers { null; };
};
zone "$z" {
	type primary;
	file "$d/zone.db";
	update-policy {
		grant $NAMED_KEYNAME zonesub ANY;
		grant $NAMED_KEYNAME2 zonesub ANY;
		grant ${NAMED_KEYNAME}-sha1 zonesub ANY;
		grant ${NAMED_KEYNAME}-sha512 zonesub ANY;
	};
};
EOF
}

_named_write_zone() {
	local f=$NAMED_DIR/zone.db
	cat >"$f" <<EOF
\$ORIGIN $NAMED_ZONE
\$TTL 60
@	IN SOA ns.$NAMED_ZONE hostmaster.$NAMED_ZONE 1 3600 600 86400 60
@	IN NS ns.$NAMED_ZONE
ns	IN A 127.0.0.1
harness-id	IN TXT "$NAMED_TOKEN"
EOF
	if [ -n "${NAMED_ZONE_EXTRA:-}" ]; then
		cat "$NAMED_ZONE_EXTRA" >>"$f" || return 1
	fi
}

# Start (or restart) named on NAMED_PORT in NAMED_DIR; 0 when it answers.
_named_launch() {
	local i st
	"$NAMED_BIN" -f -n 2 -c "$NAMED_DIR/named.conf" \
	    >>"$NAMED_DIR/named.out" 2>&1 </dev/null &
	NAMED_PID=$!
	export NAMED_PID
	for ((i = 0; i < 100; i++)); do
		if ! kill -0 "$NAMED_PID" 2>/dev/null; then
			break
		fi
		local st; st=$(awk '{print $3}' "/proc/$NAMED_PID/stat" 2>/dev/null)
		[ "$st" = Z ] && break
		# Our own token: another server may hold the port already
		# (named keeps running when it cannot bind).
		if dig +norec +short +time=1 +tries=1 -p "$NAMED_PORT" \
		    @127.0.0.1 "harness-id.$NAMED_ZONE" TXT 2>/dev/null |
		    grep -q "$NAMED_TOKEN"; then
			return 0
		fi
		grep -q "address in use" "$NAMED_LOG" "$NAMED_DIR/named.out" \
		    2>/dev/null && break
		sleep 0.05
	done
	# Keep what this try saw: the next try starts with fresh logs.
	{
		echo "try port=$NAMED_PORT pid=$NAMED_PID polls=$i"
		if [ "$(awk '{print $3}' "/proc/$NAMED_PID/stat" 2>/dev/null)" = Z ] ||
		    ! kill -0 "$NAMED_PID" 2>/dev/null; then
			wait "$NAMED_PID"
			echo "named exited with status $?"
		fi
		tail -5 "$NAMED_DIR/named.out" "$NAMED_LOG" 2>/dev/null
	} >>"$NAMED_DIR/attempts.log"
	named_stop
	return 1
}

named_start() {		# DIR [ZONE]
	local d=$1 try
	mkdir -p "$d" || return 1
	NAMED_DIR=$(cd "$d" && pwd)
	NAMED_ZONE=${2:-failover.test.}
	case $NAMED_ZONE in *.) ;; *) NAMED_ZONE=$NAMED_ZONE. ;; esac
	NAMED_KEYNAME=${NAMED_KEYNAME:-failoverd-key}
	NAMED_KEYNAME2=${NAMED_KEYNAME}-2
	NAMED_KEYFILE=$NAMED_DIR/key1.key
	NAMED_KEYFILE2=$NAMED_DIR/key2.key
	NAMED_KEYFILE_SHA1=$NAMED_DIR/key-sha1.key
	NAMED_KEYFILE_SHA512=$NAMED_DIR/key-sha512.key
	NAMED_KEYFILE_NOGRANT=$NAMED_DIR/key-nogrant.key
	NAMED_LOG=$NAMED_DIR/named.log
	NAMED_TOKEN=harness-$$-$RANDOM-$(date +%s%N)
	_named_keygen hmac-sha256 "$NAMED_KEYNAME" "$NAMED_KEYFILE" &&
	_named_keygen hmac-sha256 "$NAMED_KEYNAME2" "$NAMED_KEYFILE2" &&
	_named_keygen hmac-sha1 "${NAMED_KEYNAME}-sha1" "$NAMED_KEYFILE_SHA1" &&
	_named_keygen hmac-sha512 "${NAMED_KEYNAME}-sha512" "$NAMED_KEYFILE_SHA512" &&
	_named_keygen hmac-sha256 "${NAMED_KEYNAME}-nogrant" "$NAMED_KEYFILE_NOGRANT" ||
	    { echo "named.sh: tsig-keygen failed" >&2; return 1; }
	NAMED_SECRET=$(sed -n 's/.*secret "\(.*\)".*/\1/p' "$NAMED_KEYFILE")
	export NAMED_DIR NAMED_ZONE NAMED_KEYNAME NAMED_KEYNAME2 NAMED_KEYFILE \
	    NAMED_KEYFILE2 NAMED_KEYFILE_SHA1 NAMED_KEYFILE_SHA512 \
	    NAMED_KEYFILE_NOGRANT NAMED_LOG NAMED_SECRET
	_named_write_zone || return 1
	for ((try = 0; try < 40; try++)); do
		NAMED_PORT=$((10000 + RANDOM % 22000))
		_named_port_free "$NAMED_PORT" || continue
		export NAMED_PORT
		_named_write_conf
		rm -f "$NAMED_LOG" "$NAMED_DIR/named.out"
		_named_launch && return 0
	done
	echo "named.sh: named did not start; tries:" >&2
	cat "$NAMED_DIR/attempts.log" >&2 2>/dev/null
	return 1
}

named_stop() {
	local i
	[ -n "${NAMED_PID:-}" ] || return 0
	kill -TERM "$NAMED_PID" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		local st; st=$(awk '{print $3}' "/proc/$NAMED_PID/stat" 2>/dev/null)
		{ [ -z "$st" ] || [ "$st" = Z ]; } && break
		sleep 0.05
	done
	kill -KILL "$NAMED_PID" 2>/dev/null
	wait "$NAMED_PID" 2>/dev/null
	NAMED_PID=
	return 0
}

named_restart() {
	local i
	named_stop
	for ((i = 0; i < 50; i++)); do
		_named_port_free "$NAMED_PORT" && break
		sleep 0.05
	done
	_named_launch
}
