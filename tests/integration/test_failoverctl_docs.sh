#!/bin/bash
# The manual pages failoverd(8), failoverctl(8) and failoverd.conf(5) stay
# in step with the code: they render without warnings, every verb and
# option that failoverctl --help lists is documented and every one the page
# documents is the binary's, every option of failoverd's usage is
# documented and every one failoverd(8) documents is accepted, and every
# hook environment variable the hook runner sets is in failoverd(8).
# (Every key of the configuration parser in failoverd.conf(5), and none
# it does not know: test_config_check.)
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
FAILOVERCTL=${FAILOVERCTL:-$TOP/$BUILD/failoverctl}
FAILOVERD=${FAILOVERD:-$TOP/$BUILD/failoverd}
D=${DOCS:-$TOP/docs}
fail() { echo "FAIL: $*"; exit 1; }
command -v groff >/dev/null || { echo "groff missing"; exit 77; }

for p in failoverd.8 failoverctl.8 failoverd.conf.5; do
	[ -f "$D/$p" ] || fail "$p missing"
	w=$(groff -mandoc -ww -z "$D/$p" 2>&1)
	[ -z "$w" ] || fail "$p: $w"
	if command -v man >/dev/null; then
		MANWIDTH=80 man -l "$D/$p" >/dev/null 2>&1 || fail "man -l $p"
	fi
done

# failoverctl: each verb has an .It Cm entry under VERBS, each long option
# of its usage appears as "Fl -OPT".
verbs=$("$FAILOVERCTL" --help | sed -n 's/^  failoverctl \([a-z-]*\).*/\1/p')
[ "$(wc -w <<<"$verbs")" -ge 11 ] || fail "verbs: $verbs"
for v in $verbs; do
	grep -q "^\.It Cm $v" "$D/failoverctl.8" || fail "failoverctl.8 lacks verb $v"
	"$FAILOVERCTL" "$v" --help >/dev/null || fail "$v --help"
	for o in $("$FAILOVERCTL" "$v" --help | head -1 | grep -o -- '--[a-z-]*'); do
		grep -q -- "Fl -${o#--}" "$D/failoverctl.8" || fail "failoverctl.8 lacks $v $o"
	done
done
grep -q '^\.Cm group delete' "$D/failoverctl.8" || fail "group delete synopsis"

# ... and the other way: each verb the page describes (.It Cm under VERBS)
# is one of failoverctl's, with only options that verb's usage has.
awk '/^\.Sh VERBS/ { f = 1; next } /^\.Sh/ { f = 0 } f && /^\.It Cm / { print }' \
    "$D/failoverctl.8" >"${TMPDIR:-/tmp}/verbs.$$"
[ -s "${TMPDIR:-/tmp}/verbs.$$" ] || fail "failoverctl.8: no verbs under VERBS"
while read -r _ _ v rest; do
	grep -qx -- "$v" <<<"$verbs" || fail "failoverctl.8 documents verb $v, which failoverctl does not have"
	u=$("$FAILOVERCTL" "$v" --help | head -1)
	for o in $(grep -o -- 'Fl -[a-z-]*' <<<"$rest" | sed 's/^Fl /-/'); do
		grep -q -- "$o\b" <<<"$u" || fail "failoverctl.8 documents $v $o, not in its usage: $u"
	done
done <"${TMPDIR:-/tmp}/verbs.$$"
rm -f "${TMPDIR:-/tmp}/verbs.$$"

# failoverd: options of its usage.
for o in $("$FAILOVERD" --help | grep -o -- '--[a-z-]*'); do
	grep -q -- "Fl -${o#--}" "$D/failoverd.8" || fail "failoverd.8 lacks $o"
done
grep -q '^\.Cm simulate' "$D/failoverd.8" || fail "failoverd.8 lacks simulate"
# ... and each long option failoverd(8) documents is accepted: in the
# usage, or (the ones it keeps out of it) taken without a usage error.
usage=$("$FAILOVERD" --help)
for o in $(awk '/^\.Sh OPTIONS/ { f = 1; next } /^\.Sh/ { f = 0 } f' "$D/failoverd.8" |
    grep -o -- 'Fl -[a-z-]*' | sed 's/^Fl /-/' | sort -u); do
	grep -q -- "$o\b" <<<"$usage" && continue
	case $o in
	--help|--version) "$FAILOVERD" "$o" >/dev/null 2>&1 || fail "failoverd $o fails" ;;
	--config|--test)
		"$FAILOVERD" --test --config /nonexistent/failoverd.conf >/dev/null 2>&1
		[ $? = 1 ] || fail "failoverd --test --config: not a configuration error" ;;
	*) fail "failoverd.8 documents $o, which failoverd's usage does not have" ;;
	esac
done

# The hook environment: every variable the runner can set.
vars=$(grep -o '"FAILOVER_[A-Z_]*"' "$TOP/controller/shell/hook_env.c" | tr -d '"' | sort -u)
[ -n "$vars" ] || fail "no FAILOVER_ variables found in hook_env.c"
for v in $vars; do
	grep -q "Ev $v\b\|Ev .*$v" "$D/failoverd.8" || fail "failoverd.8 lacks $v"
done

# The systemd unit points at all three pages.
for p in 'failoverd(8)' 'failoverd.conf(5)' 'failoverctl(8)'; do
	grep -q "^Documentation=.*man:$p" "$TOP/config/failoverd.service" ||
		fail "failoverd.service: Documentation= lacks $p"
done

# Exit codes and signals are stated.
grep -q '^\.Sh EXIT STATUS' "$D/failoverctl.8" || fail "failoverctl.8: EXIT STATUS"
grep -q '^\.Sh EXIT STATUS' "$D/failoverd.8" || fail "failoverd.8: EXIT STATUS"
for s in SIGHUP SIGTERM SIGINT; do
	grep -q "$s" "$D/failoverd.8" || fail "failoverd.8 lacks $s"
done
echo ok
