#!/bin/bash
# make install and make uninstall (issue 17): into a DESTDIR, the programs,
# the three manual pages, the configuration directory (0700) with the
# example and the hooks it names (notify included), and the systemd unit
# where systemd looks, with the paths filled in and Documentation= naming
# the three pages; an installed hook is never overwritten; uninstall
# removes what install put outside the configuration directory.  Then a
# fresh install whose example passes failoverd -t once the key and the
# token it names exist.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
SAN=${SAN:-0}
fail() { echo "FAIL: $*"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mk() { make -s --no-print-directory -C "$TOP" SAN="$SAN" "$@" >"$tmp/make.out" 2>&1 || fail "make $*: $(tail -5 "$tmp/make.out")"; }
mode() { stat -c %a "$1"; }

R=$tmp/root
mk install DESTDIR="$R"
for f in usr/local/sbin/failoverd usr/local/sbin/failoverctl \
    usr/local/share/man/man8/failoverd.8 usr/local/share/man/man8/failoverctl.8 \
    usr/local/share/man/man5/failoverd.conf.5 etc/failoverd/failoverd.conf.example \
    usr/local/lib/systemd/system/failoverd.service; do
	[ -f "$R/$f" ] || fail "not installed: $f"
done
[ "$(mode "$R/etc/failoverd")" = 700 ] || fail "/etc/failoverd mode $(mode "$R/etc/failoverd")"
for h in $(sed -n 's|^[a-z_]* *= */etc/failoverd/hooks/\([a-z_-]*\).*|\1|p' "$TOP/config/failoverd.conf.example" | sort -u); do
	[ -x "$R/etc/failoverd/hooks/$h" ] || fail "the example names hook $h, not installed"
done
[ -x "$R/etc/failoverd/hooks/notify" ] || fail "no notify hook"
U=$R/usr/local/lib/systemd/system/failoverd.service
grep -q '^ExecStart=/usr/local/sbin/failoverd -c /etc/failoverd/failoverd.conf$' "$U" || fail "unit ExecStart: $(grep ExecStart "$U")"
for p in 'failoverd(8)' 'failoverd.conf(5)' 'failoverctl(8)'; do
	grep -q "^Documentation=.*man:$p" "$U" || fail "unit Documentation= lacks $p"
done
# An operator's hook stays.
echo '#!/bin/sh' >"$R/etc/failoverd/hooks/maintenance"
mk install DESTDIR="$R"
[ "$(cat "$R/etc/failoverd/hooks/maintenance")" = '#!/bin/sh' ] || fail "install overwrote a hook"
# Another unit directory, by the variable.
mk install DESTDIR="$R" SYSTEMDUNITDIR=/etc/systemd/system
[ -f "$R/etc/systemd/system/failoverd.service" ] || fail "SYSTEMDUNITDIR not followed"
mk uninstall DESTDIR="$R"
for f in usr/local/sbin/failoverd usr/local/sbin/failoverctl usr/local/share/man/man8/failoverd.8 \
    usr/local/lib/systemd/system/failoverd.service usr/local/share/doc/failoverd; do
	[ -e "$R/$f" ] && fail "uninstall left $f"
done
[ -f "$R/etc/failoverd/failoverd.conf.example" ] || fail "uninstall removed the configuration directory"
echo "ok: install and uninstall in a DESTDIR"

# A fresh install in its own places: the example passes -t once the key
# and the token exist (install cannot make secrets).
P=$tmp/p E=$tmp/etc
mk install PREFIX="$P" SYSCONFDIR="$E"
command -v tsig-keygen >/dev/null || { echo "tsig-keygen missing: -t not checked"; exit 0; }
tsig-keygen -a hmac-sha256 failoverd >"$E/tsig.key" && chmod 0600 "$E/tsig.key" || fail "tsig-keygen"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$E/api.token" && chmod 0600 "$E/api.token"
cp "$E/failoverd.conf.example" "$E/failoverd.conf"
out=$("$P/sbin/failoverd" -t -c "$E/failoverd.conf" 2>&1) || fail "the installed example does not pass -t: $out"
echo "ok: the installed example passes -t"
