#!/bin/bash
# What failoverd trusts before it runs anything as root, checked by
# `failoverd -t` and by a start alike (each refusal: -t exits 1 naming
# FILE:LINE: KEY, a start exits 1 with the same reason and creates no
# state):
#  (a) the configuration itself: -c /dev/zero, /dev/urandom, a FIFO with
#      no writer and a directory fail at once; a file others may write is
#      refused;
#  (b) the API token file: a symbolic link, a blank first line, a token
#      shorter than 16 bytes (each passed -t before, then every POST got
#      403); an inline TSIG key in a file others may read;
#  (c) hooks owned by another user, in a directory others may write or
#      another user owns, or reached through a link into one;
#  (d) state_dir open to others or another user's, and data.mdb or
#      lock.mdb as a symbolic link (root would have created the target);
#  (e) listen on 0.0.0.0 without a token file.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/fo.sh"

ok() { echo "ok: $*"; }

fo_init
fo_webhead app1
fo_webhead app2
fo_hooks
fo_conf
"$FAILOVERD" -t -c "$FO/failoverd.conf" >/dev/null || fail "base config refused"
CONF=$FO/failoverd.conf

# refused DESC REGEX [CONF]: -t and a start both refuse, quickly.
refused() {
	local desc=$1 re=$2 conf=${3:-$CONF} rc t0 ms
	t0=$(date +%s%N)
	timeout 10 "$FAILOVERD" -t -c "$conf" >"$FO/t.out" 2>&1
	rc=$?
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	[ $rc = 1 ] || fail "$desc: -t exit $rc after $ms ms: $(head -3 "$FO/t.out")"
	grep -Eq -- "$re" "$FO/t.out" || fail "$desc: -t said: $(cat "$FO/t.out")"
	timeout 10 "$FAILOVERD" -c "$conf" >"$FO/run.out" 2>&1
	rc=$?
	[ $rc = 1 ] || fail "$desc: start exit $rc: $(head -3 "$FO/run.out")"
	grep -Eq -- "$re" "$FO/run.out" || fail "$desc: start said: $(cat "$FO/run.out")"
	[ -e "$FO/state/data.mdb" ] && fail "$desc: a refused start made the state"
	ok "$desc ($ms ms): $(head -1 "$FO/t.out" | sed "s|$FO|\$FO|g")"
}
accepted() {	# DESC [CONF]
	"$FAILOVERD" -t -c "${2:-$CONF}" >"$FO/t.out" 2>&1 ||
		fail "$1: refused: $(cat "$FO/t.out")"
	ok "$1: accepted"
}

echo "== (a) the configuration file"
refused "-c /dev/zero" "^/dev/zero: open: not a regular file \(a character device\)$" /dev/zero
refused "-c /dev/urandom" "^/dev/urandom: open: not a regular file" /dev/urandom
mkfifo "$FO/fifo"
refused "-c a FIFO with no writer" "fifo: open: not a regular file \(a FIFO\)$" "$FO/fifo"
refused "-c a directory" "open: not a regular file \(a directory\)$" "$FO"
chmod 0666 "$CONF"
refused "a configuration others may write" "failoverd.conf: open: writable by group and others \(mode 0666\)"
chmod 0644 "$CONF"

echo "== (b) secrets"
head -c 24 /dev/urandom | base64 >"$FO/real.token"
chmod 0600 "$FO/real.token"
ln -s "$FO/real.token" "$FO/link.token"
FO_CTL_EXTRA="api_token_file = $FO/link.token" fo_conf
refused "a symlinked token file" "^$CONF:[0-9]+: api_token_file: $FO/link.token is a symbolic link"
printf ' \t \nsecond-line-is-not-the-token-either\n' >"$FO/blank.token"
chmod 0600 "$FO/blank.token"
FO_CTL_EXTRA="api_token_file = $FO/blank.token" fo_conf
refused "a blank token" "^$CONF:[0-9]+: api_token_file: $FO/blank.token: the first line holds no token"
echo "0123456789abcde" >"$FO/short.token"
chmod 0600 "$FO/short.token"
FO_CTL_EXTRA="api_token_file = $FO/short.token" fo_conf
refused "a 15-byte token" "^$CONF:[0-9]+: api_token_file: $FO/short.token: the token is 15 bytes long; at least 16"
FO_CTL_EXTRA="api_token_file = $FO/real.token" fo_conf
accepted "a real token"
key=$(sed -n 's/.*secret "\(.*\)";/\1/p' "$NAMED_KEYFILE")
keyname=$(sed -n 's/^key "\{0,1\}\([^" ]*\)"\{0,1\} *{.*/\1/p' "$NAMED_KEYFILE")
[ -n "$key" ] && [ -n "$keyname" ] || fail "cannot read the test key"
sed "s|^key_file = .*|key_file = hmac-sha256:$keyname:$key|" "$CONF" >"$FO/inline.conf"
chmod 0644 "$FO/inline.conf"
refused "an inline key in a 0644 file" "^$FO/inline.conf:[0-9]+: key_file: an inline key in $FO/inline.conf, which group or others may read \(mode 0644\)" "$FO/inline.conf"
chmod 0600 "$FO/inline.conf"
accepted "an inline key in a 0600 file" "$FO/inline.conf"
fo_conf

echo "== (c) hooks"
cp "$FO/hooks/rec" "$FO/hooks/nobody"
chown 65534:65534 "$FO/hooks/nobody"
FO_STACK_EXTRA="precheck = $FO/hooks/nobody lag-ok" fo_conf
refused "a hook owned by another user" "^$CONF:[0-9]+: precheck: $FO/hooks/nobody is owned by uid 65534, not by root or the daemon's user"
mkdir -m 0777 "$FO/open"
chmod 0777 "$FO/open"
cp "$FO/hooks/rec" "$FO/open/hook"
FO_STACK_EXTRA="precheck = $FO/open/hook lag-ok" fo_conf
refused "a hook in a directory others may write" "^$CONF:[0-9]+: precheck: directory $FO/open is writable by group and others \(mode 0777\)"
ln -s "$FO/open/hook" "$FO/hooks/via-link"
FO_STACK_EXTRA="precheck = $FO/hooks/via-link lag-ok" fo_conf
refused "a hook through a link into such a directory" "^$CONF:[0-9]+: precheck: directory $FO/open is writable"
chmod 0755 "$FO/open"
chown 65534 "$FO/open"
FO_STACK_EXTRA="precheck = $FO/open/hook lag-ok" fo_conf
refused "a hook in another user's directory" "^$CONF:[0-9]+: precheck: $FO/open is owned by uid 65534"
chown 0 "$FO/open"
accepted "the same hook once the directory is root's"
fo_conf

echo "== (d) state_dir"
rm -rf "$FO/state"
mkdir -m 0777 "$FO/state"
chmod 0777 "$FO/state"
refused "a state_dir others may write" "^$CONF:[0-9]+: state_dir: $FO/state is writable by group and others \(mode 0777\); chmod 700 it"
chmod 0700 "$FO/state"
chown 65534 "$FO/state"
refused "another user's state_dir" "^$CONF:[0-9]+: state_dir: $FO/state is owned by uid 65534"
chown 0 "$FO/state"
ln -s "$FO/target.mdb" "$FO/state/data.mdb"
refused "data.mdb as a symbolic link" "state_dir: $FO/state/data.mdb is a symbolic link"
[ -e "$FO/target.mdb" ] && fail "root created the link's target"
rm -f "$FO/state/data.mdb"
ln -s "$FO/target.lock" "$FO/state/lock.mdb"
refused "lock.mdb as a symbolic link" "state_dir: $FO/state/lock.mdb is a symbolic link"
[ -e "$FO/target.lock" ] && fail "root created the lock link's target"
rm -f "$FO/state/lock.mdb"
accepted "an empty state_dir of mode 0700"

echo "== (e) listen beyond loopback"
FO_LISTEN=0.0.0.0:0 fo_conf
refused "listen = 0.0.0.0 without a token" "^$CONF:[0-9]+: listen: 0.0.0.0 is not a loopback address: set api_token_file"
FO_LISTEN=0.0.0.0:0 FO_CTL_EXTRA="api_token_file = $FO/real.token" fo_conf
accepted "listen = 0.0.0.0 with a token"
echo PASS
