#!/bin/sh
# Install the Debian packages failoverd needs to build, test, benchmark and
# run its demo. Idempotent: says what it installs, and nothing when all are
# there. Needs root (or sudo) only when something is missing.
set -eu

PACKAGES="
build-essential pkg-config
libevent-dev libcurl4-openssl-dev libldns-dev liblmdb-dev libinih-dev
libjansson-dev libcmocka-dev libssl-dev
bind9 bind9-dnsutils bind9-utils
openssl curl jq lmdb-utils procps iproute2 psmisc util-linux bsdutils bsdextrautils
e2fsprogs groff-base man-db
clang valgrind
haproxy nginx-light postgresql
prometheus
etcd-server etcd-client
chromium chromium-driver python3-selenium
"

missing=""
for p in $PACKAGES; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = "installed" ] || missing="$missing $p"
done

if [ -z "$missing" ]; then
	echo "deps: all packages present"
	exit 0
fi

echo "deps: installing:$missing"
SUDO=""
if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
		echo "deps: not root and no sudo; install by hand:$missing" >&2
		exit 1
	fi
fi
export DEBIAN_FRONTEND=noninteractive
# Fresh machines have empty lists; update once, then install.
$SUDO apt-get update -qq
# Packaged services (named, nginx, postgresql, haproxy, prometheus) must not
# be started by the package scripts: tests and the demo start their own.
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
	$SUDO chmod 0755 "$policy"
	made_policy=1
fi
rc=0
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/tmp/failoverd-deps.log 2>&1 || rc=$?
[ $made_policy = 1 ] && $SUDO rm -f "$policy"
if [ $rc != 0 ]; then
	tail -20 /tmp/failoverd-deps.log >&2
	echo "deps: apt-get install failed (rc=$rc); log in /tmp/failoverd-deps.log" >&2
	exit 1
fi
echo "deps: installed:$missing"
