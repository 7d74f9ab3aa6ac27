/*
 * test_config.c - config_load(): every class of error with its line, the
 * TSIG key file forms, defaults, and the value parsers.
 *
 * The error tests are a table: a configuration text, written to a file in
 * a fresh temporary directory, and the exact error lines expected, in
 * order.  "@DIR@" stands for that directory (which holds key files, hooks
 * and a token made by the group setup) and "@F@" for the file's path.
 * Most rows start with DNS, a valid [dns] section of four lines, so that
 * their own lines begin at 5.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"

#define SECRET	"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTAxMjM="
#define DNS	"[dns]\nserver = 127.0.0.1\nzone = example.net\n" \
		"key_file = @DIR@/tsig.key\n"
#define STACK_A	"[stack a]\nweb_head = a.example.com\n" \
		"health_url = http://127.0.0.1/health\n"
#define M(...)	(const char *[]){ __VA_ARGS__, NULL }

static char dir[64];

struct fixture {
	const char	*name;
	mode_t		 mode;
	const char	*text;
};

static const struct fixture fixtures[] = {
	{ "tsig.key", 0600, "key \"fo-key\" {\n\talgorithm hmac-sha256;\n"
	    "\tsecret \"" SECRET "\";\n};\n" },
	{ "open.key", 0644, "key \"fo-key\" {\n\talgorithm hmac-sha256;\n"
	    "\tsecret \"" SECRET "\";\n};\n" },
	{ "gw.key", 0620, "key k { algorithm hmac-sha256; secret \"" SECRET
	    "\"; };\n" },
	{ "comments.key", 0600, "# made by hand\n// another\n/* a C\n"
	    "   comment */ key \"c-key\" /* inline */ {\n"
	    "algorithm \"hmac-sha512\"; # trailing\n"
	    "secret \"" SECRET "\"; // trailing\n};\n" },
	{ "sha1.key", 0600, "key s1 { algorithm HMAC-SHA1; secret \"" SECRET
	    "\"; };" },
	{ "md5.key", 0600, "key \"m\" {\n\talgorithm hmac-md5;\n\tsecret \""
	    SECRET "\";\n};\n" },
	{ "sha384.key", 0600, "key \"m\" {\n\talgorithm hmac-sha384;\n"
	    "\tsecret \"" SECRET "\";\n};\n" },
	{ "badb64.key", 0600, "key \"m\" {\n\talgorithm hmac-sha256;\n"
	    "\tsecret \"not base64!\";\n};\n" },
	{ "two.key", 0600, "key a { algorithm hmac-sha256; secret \"" SECRET
	    "\"; };\nkey b { algorithm hmac-sha256; secret \"" SECRET
	    "\"; };\n" },
	{ "nosecret.key", 0600, "key a {\n algorithm hmac-sha256;\n};\n" },
	{ "junk.key", 0600, "key a {\n algorithm hmac-sha256;\n"
	    " colour blue;\n};\n" },
	{ "nosemi.key", 0600, "key a {\n algorithm hmac-sha256;\n"
	    " secret \"" SECRET "\"\n};\n" },
	{ "unterminated.key", 0600, "key a {\n/* never closed\n" },
	{ "hook", 0755, "#!/bin/sh\nexit 0\n" },
	{ "noexec", 0644, "#!/bin/sh\nexit 0\n" },
	{ "groupw", 0775, "#!/bin/sh\nexit 0\n" },
	{ "otherw", 0757, "#!/bin/sh\nexit 0\n" },
	{ "api.token", 0600, "t0ken-t0ken-t0ken-t0ken\n" },
	{ "open.token", 0640, "t0ken\n" },
	{ "empty.token", 0600, "" },
	{ "short.token", 0600, "short-token\n" },
	{ "blank.token", 0600, " \t \nsecond-line-is-not-the-token\n" },
	{ "ctl.token", 0600, "a-token-with\x01-a-control\n" },
	{ "ca.pem", 0644, "not really a certificate\n" },
};

struct row {
	const char	 *name;
	const char	 *text;
	const char	**errors;	/* NULL-terminated; NULL: loads */
};

static const struct row rows[] = {
	/* Sections. */
	{ "unknown section, its keys skipped", DNS "[weird]\nfoo = 1\n",
	  M("@F@:5: [weird]: unknown section (expected [controller], [dns], "
	    "[cluster], [stack NAME] or [group NAME])") },
	{ "missing [dns]", "[controller]\nstate_dir = @DIR@\n",
	  M("@F@: [dns]: required section is missing (it needs server, zone "
	    "and key_file)") },
	{ "empty file", "",
	  M("@F@: [dns]: required section is missing (it needs server, zone "
	    "and key_file)") },
	{ "named [dns], duplicate [controller]",
	  DNS "[controller]\n[controller]\n[dns x]\n",
	  M("@F@:6: [controller]: duplicate section (first at line 5)",
	    "@F@:7: [dns x]: [dns] takes no name") },
	{ "stack without a name, bad name", DNS "[stack]\n[group a b]\n",
	  M("@F@:5: [stack]: missing name: expected [stack NAME]",
	    "@F@:6: [group]: 'a b' is not a valid name (1-63 letters, digits, "
	    "'-', '_' or '.', starting with a letter or digit)") },
	{ "duplicate stack and group",
	  DNS STACK_A STACK_A "[group g]\naddress = g\n[group g]\n",
	  M("@F@:8: [stack a]: duplicate stack (first defined at line 5)",
	    "@F@:13: [group g]: duplicate group (first defined at line 11)") },
	{ "key outside of any section", "zone = x\n" DNS,
	  M("@F@:1: zone: key outside of any section (expected [controller], "
	    "[dns], [cluster], [stack NAME] or [group NAME] first)") },

	/* Keys. */
	{ "unknown keys, with hints", DNS "zon = x\nbogus = 1\ninterval = 1s\n",
	  M("@F@:5: zon: unknown key in [dns] (did you mean zone?)",
	    "@F@:6: bogus: unknown key in [dns]",
	    "@F@:7: interval: unknown key in [dns]; it belongs in "
	    "[stack NAME]") },
	{ "a key of another section", DNS "[group g]\naddress = g\n"
	  "timeout = 1s\n",
	  M("@F@:7: timeout: unknown key in [group NAME]; it belongs in [dns] "
	    "or [stack NAME]") },
	{ "duplicate key; repeatable keys repeat",
	  DNS "server = 127.0.0.2\nzone = example.org\n",
	  M("@F@:6: zone: duplicate key (first set at line 3)") },
	{ "missing required keys at the header's line",
	  "[dns]\nzone = example.net\n[stack a]\n[group g]\n",
	  M("@F@:1: server: required key is missing from [dns]",
	    "@F@:1: key_file: required key is missing from [dns]",
	    "@F@:3: web_head: required key is missing from [stack a]",
	    "@F@:3: health_url: required key is missing from [stack a]",
	    "@F@:4: address: required key is missing from [group g]") },
	{ "empty value", DNS "timeout =\n",
	  M("@F@:5: timeout: empty value (remove the line to use the "
	    "default)") },

	/* Syntax: every error, not only inih's first. */
	{ "syntax errors, each with its line",
	  DNS "timeout 2s\n[stack a\n  indented\n[stack b] junk\nbogus = 1\n"
	  "= 3\n",
	  M("@F@:5: timeout: syntax error: expected 'key = value', "
	    "'[section]' or a comment",
	    "@F@:6: [stack a: section header without ']'",
	    "@F@:7: indented: syntax error: expected 'key = value', "
	    "'[section]' or a comment",
	    "@F@:8: [stack b]: text after the section header (a comment "
	    "starts with ';' or '#')",
	    "@F@:10: line: syntax error: no key before '='") },
	{ "comments and blank lines are fine",
	  "; comment\n# comment\n\n  [dns]   ; inline\n"
	  "server = 127.0.0.1 ; inline\nzone = example.net\n"
	  "key_file = @DIR@/tsig.key\n", NULL },
	{ "a line longer than inih's buffer, trailing blanks",
	  DNS "verify_interval = 1s                                        "
	  "                                                                 "
	  "                                                                 "
	  "         \n", NULL },

	/* Values. */
	{ "bad values say what was expected",
	  DNS "timeout = 2\nretries = many\nprereq = maybe\n"
	  "[controller]\nlisten = localhost:80\nmap_size = 12Q\n"
	  "log_level = loud\nstate_dir = var/lib\n",
	  M("@F@:5: timeout: '2' is not a duration: expected a whole number "
	    "with a unit ms, s, m or h (e.g. 250ms, 2s, 1m30s)",
	    "@F@:6: retries: 'many': expected a whole number from 0 to 10",
	    "@F@:7: prereq: 'maybe': expected yes or no",
	    "@F@:9: listen: 'localhost:80': expected ADDRESS[:PORT] with a "
	    "numeric IPv4 or [IPv6] address, or off",
	    "@F@:10: map_size: '12Q': expected a size such as 64M or 1G",
	    "@F@:11: log_level: 'loud': expected error, warn, info or debug",
	    "@F@:12: state_dir: 'var/lib' is not an absolute path") },
	{ "transport", DNS "transport = quic\n",
	  M("@F@:5: transport: 'quic': expected udp (TCP after a timeout) or "
	    "tcp") },
	{ "out of range", DNS "retries = 11\ntimeout = 5ms\n"
	  "[controller]\nmap_size = 1K\n",
	  M("@F@:5: retries: 11 is out of range (0 to 10)",
	    "@F@:6: timeout: 5ms is out of range (10ms to 1m)",
	    "@F@:8: map_size: 1K is out of range (1M to 1T)") },
	{ "dns servers: port, duplicates",
	  DNS "server = 127.0.0.1:0\nserver = [::1]:53\nserver = ::1\n"
	  "confirm = 10.0.0.1:99999\n",
	  M("@F@:5: server: '127.0.0.1:0': expected ADDRESS[:PORT] with a "
	    "numeric IPv4 or [IPv6] address (port 53 by default)",
	    "@F@:7: server: ::1 is listed twice",
	    "@F@:8: confirm: '10.0.0.1:99999': expected ADDRESS[:PORT] with a "
	    "numeric IPv4 or [IPv6] address (port 53 by default)") },
	{ "zone not a DNS name",
	  "[dns]\nserver = 127.0.0.1\nzone = exa mple.net\n"
	  "key_file = @DIR@/tsig.key\n[dns]\n",
	  M("@F@:3: zone: 'exa mple.net' is not a valid DNS name (letters, "
	    "digits, '-', '_' and dots only)",
	    "@F@:5: [dns]: duplicate section (first at line 1)") },
	{ "zone label errors",
	  "[dns]\nserver = 127.0.0.1\nzone = -a.net\nkey_file = @DIR@/tsig.key\n"
	  "[group g]\naddress = a..b\n",
	  M("@F@:3: zone: '-a.net': a label starts with '-'",
	    "@F@:6: address: 'a..b' has an empty label") },
	{ "urls: http or https only",
	  DNS "[controller]\nwitness = ftp://x/\nwitness = http://h/ok\n"
	  "witness = nonsense\n[stack a]\nweb_head = a.example.com\n"
	  "health_url = http:///x\n",
	  M("@F@:6: witness: 'ftp' is not http or https: expected an http:// "
	    "or https:// URL",
	    "@F@:8: witness: 'nonsense' is not a URL: expected "
	    "http://HOST[:PORT]/PATH or https://...",
	    "@F@:11: health_url: URL 'http:///x' has no host") },
	{ "status ranges, booleans, counts",
	  DNS STACK_A "expect_status = 200-399,50\n"
	  "standby_expect_status = 399-200\ntls_verify = si\nrise = 0\n"
	  "fall = 1001\n",
	  M("@F@:8: expect_status: '200-399,50': expected HTTP statuses "
	    "100-599 as a comma-separated list of codes or ranges, e.g. "
	    "200-399,503 (at most 16)",
	    "@F@:9: standby_expect_status: '399-200': expected HTTP statuses "
	    "100-599 as a comma-separated list of codes or ranges, e.g. "
	    "200-399,503 (at most 16)",
	    "@F@:10: tls_verify: 'si': expected yes or no",
	    "@F@:11: rise: 0 is out of range (1 to 1000)",
	    "@F@:12: fall: 1001 is out of range (1 to 1000)") },
	{ "health_host is one word, expect_body any text",
	  DNS STACK_A "health_host = www example.com\nexpect_body = all is OK\n",
	  M("@F@:8: health_host: 'www example.com' holds a blank or control "
	    "character") },
	{ "web_head forms",
	  DNS "[stack a]\nweb_head = 192.0.2.1 lb.example.com\n"
	  "health_url = http://x/\n[stack b]\nweb_head = lb\n"
	  "health_url = http://x/\n[stack c]\nweb_head = 192.0.2.1 192.0.2.1\n"
	  "health_url = http://x/\n",
	  M("@F@:6: web_head: 'lb.example.com' is not an IPv4 or IPv6 address "
	    "(give one host name, or a list of addresses)",
	    "@F@:9: web_head: 'lb' is not a fully qualified host name",
	    "@F@:12: web_head: 192.0.2.1 is listed twice") },

	/* Intervals. */
	{ "fastinter > interval refused, timeout >= interval accepted",
	  DNS STACK_A "interval = 1s\nfastinter = 2s\ntimeout = 1s\n"
	  "[stack b]\nweb_head = b.example.com\nhealth_url = http://x/\n"
	  "timeout = 2s\n",
	  M("@F@:9: fastinter: fastinter (2s) must not be longer than "
	    "interval (1s)") },
	{ "timeout longer than interval (HAProxy's timeout check > inter)",
	  DNS STACK_A "interval = 1s\nfastinter = 200ms\ntimeout = 2s\n",
	  NULL },

	/* Hooks. */
	{ "hooks: absolute, existing, executable, not writable",
	  DNS STACK_A "promote = hooks/promote\n"
	  "maintenance_on = @DIR@/missing on\n"
	  "maintenance_off = @DIR@/noexec off\n"
	  "replication_off = @DIR@/groupw\nprecheck = @DIR@/otherw x\n"
	  "[group g]\naddress = g\non_status_change = @DIR@\n",
	  M("@F@:8: promote: 'hooks/promote' is not an absolute path: a hook "
	    "is run without a shell or PATH search",
	    "@F@:9: maintenance_on: @DIR@/missing: No such file or directory",
	    "@F@:10: maintenance_off: @DIR@/noexec is not executable "
	    "(mode 0644)",
	    "@F@:11: replication_off: @DIR@/groupw is writable by group "
	    "(mode 0775); chmod go-w it",
	    "@F@:12: precheck: @DIR@/otherw is writable by others (mode 0757); "
	    "chmod go-w it",
	    "@F@:15: on_status_change: @DIR@ is not a regular file") },

	/* Groups. */
	{ "group references",
	  DNS STACK_A "[group g1]\naddress = g1\nprimary = a\nbackup = a\n"
	  "[group g2]\naddress = g2\nprimary = nope\nbackup = a\n"
	  "[group g3]\naddress = g3\nbackup = a\n",
	  M("@F@:11: backup: the same stack as primary (a)",
	    "@F@:14: primary: no [stack nope] is defined",
	    "@F@:18: backup: a backup needs a primary: set primary in "
	    "[group g3]") },
	{ "group addresses",
	  DNS "[group g1]\naddress = www.example.org\n"
	  "[group g2]\naddress = example.net.\n"
	  "[group g3]\naddress = www\n[group g4]\naddress = WWW.example.net\n",
	  M("@F@:6: address: www.example.org. is not inside zone example.net. "
	    "(give a label, or a name ending in the zone)",
	    "@F@:8: address: example.net. is the zone's apex, which cannot "
	    "hold a CNAME; use a name inside the zone",
	    "@F@:12: address: www.example.net. is already the address of group "
	    "g3 (line 10)") },
	{ "ttls", DNS "[group g]\naddress = g\nttl = 1500ms\n"
	  "[group h]\naddress = h\nttl = 10s\nsuspect_ttl = 20s\n",
	  M("@F@:7: ttl: 1500ms is not a whole number of seconds",
	    "@F@:11: suspect_ttl: suspect_ttl (20s) must not be longer than "
	    "ttl (10s)") },

	/* TSIG keys. */
	{ "key file readable by others",
	  "[dns]\nserver = 127.0.0.1\nzone = example.net\n"
	  "key_file = @DIR@/open.key\n",
	  M("@F@:4: key_file: @DIR@/open.key is readable by group or others "
	    "(mode 0644); chmod 600 it") },
	{ "key file writable by group",
	  "[dns]\nserver = 127.0.0.1\nzone = example.net\n"
	  "key_file = @DIR@/gw.key\n",
	  M("@F@:4: key_file: @DIR@/gw.key is writable by group or others "
	    "(mode 0620); chmod 600 it") },
	{ "key file with comments, hmac-sha512",
	  "[dns]\nserver = 127.0.0.1\nzone = example.net\n"
	  "key_file = @DIR@/comments.key\n", NULL },
	{ "key file, hmac-sha1 in capitals",
	  "[dns]\nserver = 127.0.0.1\nzone = example.net\n"
	  "key_file = @DIR@/sha1.key\n", NULL },
	{ "keys of a duplicate [dns] section are skipped",
	  "[dns]\nkey_file = @DIR@/md5.key\n[dns]\nkey_file = @DIR@/sha384.key\n"
	  "[dns]\nkey_file = @DIR@/badb64.key\n[dns]\nkey_file = @DIR@/two.key\n"
	  "[dns]\nkey_file = @DIR@/nosecret.key\n"
	  "[dns]\nkey_file = @DIR@/junk.key\n[dns]\nkey_file = @DIR@/nosemi.key\n"
	  "[dns]\nkey_file = @DIR@/unterminated.key\n"
	  "[dns]\nkey_file = @DIR@/absent.key\n[dns]\nkey_file = tsig.key\n",
	  M("@F@:1: server: required key is missing from [dns]",
	    "@F@:1: zone: required key is missing from [dns]",
	    "@F@:2: key_file: @DIR@/md5.key:2: TSIG algorithm 'hmac-md5' is "
	    "not supported (accepted: hmac-sha256, hmac-sha1 or hmac-sha512)",
	    "@F@:3: [dns]: duplicate section (first at line 1)",
	    "@F@:5: [dns]: duplicate section (first at line 1)",
	    "@F@:7: [dns]: duplicate section (first at line 1)",
	    "@F@:9: [dns]: duplicate section (first at line 1)",
	    "@F@:11: [dns]: duplicate section (first at line 1)",
	    "@F@:13: [dns]: duplicate section (first at line 1)",
	    "@F@:15: [dns]: duplicate section (first at line 1)",
	    "@F@:17: [dns]: duplicate section (first at line 1)",
	    "@F@:19: [dns]: duplicate section (first at line 1)") },
	{ "inline keys", "[dns]\nserver = 127.0.0.1\nzone = example.net\n"
	  "key_file = hmac-sha224:k:" SECRET "\n", M("@F@:4: key_file: TSIG "
	  "algorithm 'hmac-sha224' is not supported (accepted: hmac-sha256, "
	  "hmac-sha1 or hmac-sha512)") },
	{ "inline key, bad base64", "[dns]\nserver = 127.0.0.1\n"
	  "zone = example.net\nkey_file = hmac-sha256:k:ab!c\n",
	  M("@F@:4: key_file: secret of key k is not valid base64") },
	{ "key_file neither path nor key", "[dns]\nserver = 127.0.0.1\n"
	  "zone = example.net\nkey_file = tsig.key\n",
	  M("@F@:4: key_file: 'tsig.key': expected an absolute path to a key "
	    "file or an inline key ALGORITHM:NAME:BASE64") },
	{ "key file absent", "[dns]\nserver = 127.0.0.1\n"
	  "zone = example.net\nkey_file = @DIR@/absent.key\n",
	  M("@F@:4: key_file: @DIR@/absent.key: No such file or directory") },

	/* Secret and plain files. */
	{ "api_token_file and ca_file",
	  DNS "[controller]\napi_token_file = @DIR@/open.token\n"
	  "[controller]\n" STACK_A "ca_file = @DIR@/none.pem\n"
	  "[stack b]\nweb_head = b.example.com\nhealth_url = https://b/\n"
	  "ca_file = @DIR@/ca.pem\n",
	  M("@F@:6: api_token_file: @DIR@/open.token is readable by group or "
	    "others (mode 0640); chmod 600 it",
	    "@F@:7: [controller]: duplicate section (first at line 5)",
	    "@F@:11: ca_file: @DIR@/none.pem: No such file or directory") },
	{ "api_token_file empty or absent",
	  DNS "[controller]\napi_token_file = @DIR@/empty.token\n",
	  M("@F@:6: api_token_file: @DIR@/empty.token is empty") },
	{ "api_token_file: short, blank, control characters",
	  DNS "[controller]\napi_token_file = @DIR@/short.token\n"
	  "api_token_file = @DIR@/blank.token\n"
	  "api_token_file = @DIR@/ctl.token\n",
	  M("@F@:6: api_token_file: @DIR@/short.token: the token is 11 bytes "
	    "long; at least 16 are needed (e.g. head -c 32 /dev/urandom | "
	    "base64)",
	    "@F@:7: api_token_file: duplicate key (first set at line 6)",
	    "@F@:8: api_token_file: duplicate key (first set at line 6)") },
	{ "api_token_file: blank first line",
	  DNS "[controller]\napi_token_file = @DIR@/blank.token\n",
	  M("@F@:6: api_token_file: @DIR@/blank.token: the first line holds "
	    "no token") },
	{ "api_token_file: a control character",
	  DNS "[controller]\napi_token_file = @DIR@/ctl.token\n",
	  M("@F@:6: api_token_file: @DIR@/ctl.token: the token holds a control "
	    "character") },

	/* The API's reach. */
	{ "listen beyond loopback without a token",
	  DNS "[controller]\nlisten = 0.0.0.0:8053\n",
	  M("@F@:6: listen: 0.0.0.0 is not a loopback address: set "
	    "api_token_file, or listen on 127.0.0.1") },
	{ "listen beyond loopback with a token",
	  DNS "[controller]\nlisten = [::]:8053\n"
	  "api_token_file = @DIR@/api.token\n", NULL },
	{ "listen on loopback without a token",
	  DNS "[controller]\nlisten = 127.0.0.2:8053\n", NULL },
	{ "api_host and api_max_connections",
	  DNS "[controller]\napi_host = ctl.example.net\napi_host = a b\n"
	  "api_max_connections = 0\n",
	  M("@F@:7: api_host: 'a b' is not a valid DNS name (letters, "
	    "digits, '-', '_' and dots only)",
	    "@F@:8: api_max_connections: 0 is out of range (1 to 10000)") },

	/* [cluster]. */
	{ "[cluster] needs etcd and member", DNS "[cluster]\n",
	  M("@F@:5: etcd: required key is missing from [cluster]",
	    "@F@:5: member: required key is missing from [cluster]") },
	{ "[cluster] values, each wrong",
	  DNS "[cluster]\netcd = ftp://127.0.0.1:2379\n"
	  "etcd = http://127.0.0.1:2379/v3\netcd = http://127.0.0.1:2379\n"
	  "etcd = HTTP://127.0.0.1:2379/\nmember = a/b\nprefix = failoverd\n"
	  "lease_ttl = 1s\nquorum = 0\nadvertise = nope\n[cluster]\n",
	  M("@F@:6: etcd: 'ftp' is not http or https: expected an http:// or "
	    "https:// URL",
	    "@F@:7: etcd: 'http://127.0.0.1:2379/v3': expected "
	    "http://HOST:PORT, with no path (the etcd client URL, as etcd's "
	    "--advertise-client-urls gives it)",
	    "@F@:9: etcd: HTTP://127.0.0.1:2379 is listed twice",
	    "@F@:10: member: 'a/b' is not a valid name (1-63 letters, digits, "
	    "'-', '_' or '.', starting with a letter or digit)",
	    "@F@:11: prefix: 'failoverd' does not start with '/' (e.g. "
	    "/failoverd/)",
	    "@F@:12: lease_ttl: 1s is out of range (2s to 5m)",
	    "@F@:13: quorum: '0': expected majority, all, or a number of "
	    "members from 1 to 64",
	    "@F@:14: advertise: 'nope' is not a URL: expected "
	    "http://HOST[:PORT]/PATH or https://...",
	    "@F@:15: [cluster]: duplicate section (first at line 5)") },
	{ "[cluster] more values",
	  DNS "[cluster]\netcd = http://127.0.0.1:2379?x=1\nmember = m\n"
	  "lease_ttl = 2500ms\nprefix = /a//b/\nquorum = 65\n"
	  "timeout = 1s\n[cluster]\nmember = n\n",
	  M("@F@:6: etcd: 'http://127.0.0.1:2379?x=1': expected "
	    "http://HOST:PORT, with no path (the etcd client URL, as etcd's "
	    "--advertise-client-urls gives it)",
	    "@F@:8: lease_ttl: 2500ms is not a whole number of seconds (etcd "
	    "grants leases in seconds)",
	    "@F@:9: prefix: '/a//b/' has an empty segment ('//')",
	    "@F@:10: quorum: '65': expected majority, all, or a number of "
	    "members from 1 to 64",
	    "@F@:11: timeout: unknown key in [cluster]; it belongs in [dns] "
	    "or [stack NAME]",
	    "@F@:12: [cluster]: duplicate section (first at line 5)") },
	{ "[cluster] bounds and characters",
	  DNS "[cluster]\netcd = http://127.0.0.1:2379\nmember = m\n"
	  "lease_ttl = 6m\nprefix = /fail over/\nquorum = many\n"
	  "[controller]\nlisten = off\n[cluster]\n",
	  M("@F@:8: lease_ttl: 6m is out of range (2s to 5m)",
	    "@F@:9: prefix: '/fail over/': expected segments of letters, "
	    "digits, '.', '_' or '-' between '/'",
	    "@F@:10: quorum: 'many': expected majority, all, or a number of "
	    "members from 1 to 64",
	    "@F@:13: [cluster]: duplicate section (first at line 5)") },
	{ "advertise without an API",
	  DNS "[cluster]\netcd = http://127.0.0.1:2379\nmember = m\n"
	  "advertise = http://127.0.0.1:8053\n[controller]\nlisten = off\n",
	  M("@F@:8: advertise: [controller] listen is off: there is no API "
	    "to reach at http://127.0.0.1:8053") },
	{ "cluster keys belong in [cluster]",
	  DNS "[controller]\netcd = http://127.0.0.1:2379\nlease_ttl = 10s\n",
	  M("@F@:6: etcd: unknown key in [controller]; it belongs in "
	    "[cluster]",
	    "@F@:7: lease_ttl: unknown key in [controller]; it belongs in "
	    "[cluster]") },
	{ "a whole [cluster]",
	  DNS "[cluster]\netcd = http://127.0.0.1:2379\n"
	  "etcd = https://[::1]:2379/\nmember = ctl-a\nprefix = /fo/x\n"
	  "lease_ttl = 1m\nquorum = ALL\nadvertise = http://127.0.0.1:8053\n",
	  NULL },

	/* source_address. */
	{ "source_address, not numeric",
	  DNS "[controller]\nsource_address = localhost\n",
	  M("@F@:6: source_address: 'localhost' is not a numeric IPv4 or IPv6 "
	    "address (the local address probes are sent from)") },
	{ "source_address on loopback", DNS "[controller]\n"
	  "source_address = 127.0.0.11\n", NULL },
	{ "source_address of the other family than a health_url",
	  DNS "[controller]\nsource_address = 127.0.0.1\n"
	  "[stack six]\nweb_head = six.example.com\n"
	  "health_url = http://[::1]:8080/health\n"
	  "[stack name]\nweb_head = name.example.com\n"
	  "health_url = http://name.example.com/health\n",
	  M("@F@:9: health_url: http://[::1]:8080/health is an IPv6 address, "
	    "but [controller] source_address 127.0.0.1 is IPv4: it cannot be "
	    "probed from there") },
};

/* source_address values one by one (one [controller] per file). */
struct srccase {
	const char	*value;
	const char	*why;		/* NULL: accepted */
};

static const struct srccase srccases[] = {
	{ "0.0.0.0", "0.0.0.0 is the unspecified address: remove the line to "
	  "let the system choose" },
	{ "::", ":: is the unspecified address: remove the line to let the "
	  "system choose" },
	{ "224.0.0.1", "224.0.0.1 is a multicast or broadcast address, not a "
	  "host's" },
	{ "255.255.255.255", "255.255.255.255 is a multicast or broadcast "
	  "address, not a host's" },
	{ "ff02::1", "ff02::1 is a multicast address, not a host's" },
	{ "::ffff:127.0.0.1", "::ffff:127.0.0.1 is an IPv4-mapped address: "
	  "give the IPv4 address 127.0.0.1" },
	{ "fe80::1", "fe80::1 is link-local, which needs an interface to mean "
	  "anything: give a global or unique local address" },
	{ "198.51.100.77", "198.51.100.77 is not an address of this host "
	  "(probes could not be sent from it)" },
	{ "127.0.0.1", NULL },
	{ "127.0.0.13", NULL },
	{ "127.255.0.1", NULL },
};

/* Each key file case separately: the table above stops at the first. */
struct keycase {
	const char	*file;
	const char	*why;
};

static const struct keycase keycases[] = {
	{ "md5.key", "@DIR@/md5.key:2: TSIG algorithm 'hmac-md5' is not "
	  "supported (accepted: hmac-sha256, hmac-sha1 or hmac-sha512)" },
	{ "sha384.key", "@DIR@/sha384.key:2: TSIG algorithm 'hmac-sha384' is "
	  "not supported (accepted: hmac-sha256, hmac-sha1 or hmac-sha512)" },
	{ "badb64.key", "@DIR@/badb64.key:3: secret of key m is not valid "
	  "base64" },
	{ "two.key", "@DIR@/two.key:2: a second key statement; the file must "
	  "hold exactly one key" },
	{ "nosecret.key", "@DIR@/nosecret.key: key a has no secret" },
	{ "junk.key", "@DIR@/junk.key:3: unknown statement 'colour' in key a "
	  "(expected algorithm or secret)" },
	{ "nosemi.key", "@DIR@/nosemi.key:4: expected ';'" },
	{ "unterminated.key", "@DIR@/unterminated.key:2: unterminated "
	  "comment" },
	{ "open.key", "@DIR@/open.key is readable by group or others "
	  "(mode 0644); chmod 600 it" },
	{ "absent.key", "@DIR@/absent.key: No such file or directory" },
};

/* Replace @DIR@ and @F@; caller frees. */
static char *
subst(const char *s, const char *path)
{
	size_t cap = strlen(s) * 2 + 4096, n = 0;
	char *out = malloc(cap);

	assert_non_null(out);
	while (*s != '\0') {
		const char *rep = NULL;
		size_t skip = 0;

		if (strncmp(s, "@DIR@", 5) == 0) {
			rep = dir;
			skip = 5;
		} else if (strncmp(s, "@F@", 3) == 0) {
			rep = path;
			skip = 3;
		}
		if (rep != NULL) {
			size_t l = strlen(rep);

			assert_true(n + l < cap);
			memcpy(out + n, rep, l);
			n += l;
			s += skip;
		} else {
			assert_true(n + 1 < cap);
			out[n++] = *s++;
		}
	}
	out[n] = '\0';
	return out;
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0 || *text == '\0', 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static int
setup(void **state)
{
	char path[256];

	snprintf(dir, sizeof(dir), "/tmp/test_config.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, fixtures[i].name);
		write_file(path, fixtures[i].text, fixtures[i].mode);
	}
	return 0;
}

static int
teardown(void **state)
{
	char path[256];

	for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, fixtures[i].name);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/t.conf", dir);
	unlink(path);
	rmdir(dir);
	return 0;
}

/* Write text (with @DIR@) to DIR/t.conf and load it. */
static int
load_text(const char *text, struct config **cfg, struct config_errors *errs,
    char *path, size_t len)
{
	char *body;
	int rc;

	snprintf(path, len, "%s/t.conf", dir);
	body = subst(text, path);
	write_file(path, body, 0600);
	free(body);
	rc = config_load(path, cfg, errs);
	return rc;
}

static void
test_row(void **state)
{
	const struct row *r = *state;
	struct config_errors errs = { 0 };
	struct config *cfg = NULL;
	char path[256];
	size_t nexp = 0;
	int rc, bad = 0;

	rc = load_text(r->text, &cfg, &errs, path, sizeof(path));
	if (r->errors != NULL)
		while (r->errors[nexp] != NULL)
			nexp++;
	for (size_t i = 0; i < errs.n || i < nexp; i++) {
		char *want = i < nexp ? subst(r->errors[i], path) : NULL;
		const char *got = i < errs.n ? errs.msg[i] : NULL;

		if (want == NULL || got == NULL || strcmp(want, got) != 0) {
			print_error("line %zu\n  want: %s\n  got:  %s\n", i,
			    want ? want : "(nothing)", got ? got : "(nothing)");
			bad++;
		}
		free(want);
	}
	if (nexp == 0) {
		assert_int_equal(rc, 0);
		assert_non_null(cfg);
	} else {
		assert_int_equal(rc, -1);
		assert_null(cfg);
	}
	config_errors_free(&errs);
	config_free(cfg);
	assert_int_equal(bad, 0);
}

static void
test_key_files(void **state)
{
	char path[256], why[512];

	for (size_t i = 0; i < sizeof(keycases) / sizeof(keycases[0]); i++) {
		struct cfg_tsig_key key = { 0 };
		char *want;

		snprintf(path, sizeof(path), "%s/%s", dir, keycases[i].file);
		why[0] = '\0';
		assert_int_equal(cfg_tsig_key_read(path, &key, why,
		    sizeof(why)), -1);
		want = subst(keycases[i].why, path);
		if (strcmp(want, why) != 0)
			print_error("%s\n  want: %s\n  got:  %s\n",
			    keycases[i].file, want, why);
		assert_string_equal(want, why);
		free(want);
		/* The secret never appears in a message. */
		assert_null(strstr(why, SECRET));
	}
}

static void
test_key_forms(void **state)
{
	struct cfg_tsig_key key;
	char path[256], why[512];

	snprintf(path, sizeof(path), "%s/tsig.key", dir);
	assert_int_equal(cfg_tsig_key_read(path, &key, why, sizeof(why)), 0);
	assert_string_equal(key.name, "fo-key");
	assert_int_equal(key.alg, CFG_TSIG_HMAC_SHA256);
	assert_string_equal(key.secret, SECRET);

	snprintf(path, sizeof(path), "%s/comments.key", dir);
	assert_int_equal(cfg_tsig_key_read(path, &key, why, sizeof(why)), 0);
	assert_string_equal(key.name, "c-key");
	assert_int_equal(key.alg, CFG_TSIG_HMAC_SHA512);

	snprintf(path, sizeof(path), "%s/sha1.key", dir);
	assert_int_equal(cfg_tsig_key_read(path, &key, why, sizeof(why)), 0);
	assert_int_equal(key.alg, CFG_TSIG_HMAC_SHA1);
	assert_string_equal(cfg_tsig_alg_name(key.alg), "hmac-sha1");

	assert_int_equal(cfg_tsig_key_parse_inline("hmac-sha512:k1:" SECRET,
	    &key, why, sizeof(why)), 0);
	assert_string_equal(key.name, "k1");
	assert_int_equal(key.alg, CFG_TSIG_HMAC_SHA512);
	assert_int_equal(cfg_tsig_key_parse_inline("k2:" SECRET, &key, why,
	    sizeof(why)), 0);
	assert_string_equal(key.name, "k2");
	assert_int_equal(key.alg, CFG_TSIG_HMAC_SHA256);
	assert_int_equal(cfg_tsig_key_parse_inline("hmac-md5:k:" SECRET, &key,
	    why, sizeof(why)), -1);
	assert_string_equal(why, "TSIG algorithm 'hmac-md5' is not supported "
	    "(accepted: hmac-sha256, hmac-sha1 or hmac-sha512)");
	assert_int_equal(cfg_tsig_key_parse_inline("hmac-sha256:k:c2hvcnQ=",
	    &key, why, sizeof(why)), -1);
	assert_string_equal(why, "secret of key k is too short (5 bytes; use "
	    "tsig-keygen)");
	assert_int_equal(cfg_tsig_key_parse_inline("nokey", &key, why,
	    sizeof(why)), -1);
}

static void
test_defaults(void **state)
{
	struct config_errors errs = { 0 };
	struct config *cfg = NULL;
	const struct cfg_stack *s;
	const struct cfg_group *g;
	char path[256];

	assert_int_equal(load_text(DNS STACK_A "[stack b]\n"
	    "web_head = 192.0.2.1 2001:DB8::1\nhealth_url = https://b/\n"
	    "interval = 100ms\n[stack c]\nweb_head = c.example.com.\n"
	    "health_url = http://c/\ninterval = 10s\n"
	    "[group www]\naddress = www\nprimary = a\nbackup = b\n"
	    "[group reserved]\naddress = auto\n[group fq]\n"
	    "address = Fq.Example.Net\nprimary = c\n",
	    &cfg, &errs, path, sizeof(path)), 0);
	assert_int_equal(errs.n, 0);

	assert_string_equal(cfg->controller.state_dir, "/var/lib/failoverd");
	assert_true(cfg->controller.listen_enabled);
	assert_string_equal(cfg->controller.listen.host, "127.0.0.1");
	assert_int_equal(cfg->controller.listen.port, 8053);
	assert_null(cfg->controller.api_token_file);
	assert_int_equal(cfg->controller.nwitness, 0);
	assert_true(cfg->controller.isolation_check);
	assert_non_null(cfg->controller.name);
	assert_int_equal(cfg->controller.map_size, 64 << 20);
	assert_int_equal(cfg->controller.log_level, 2);

	assert_int_equal(cfg->dns.nserver, 1);
	assert_string_equal(cfg->dns.server[0].host, "127.0.0.1");
	assert_int_equal(cfg->dns.server[0].port, 53);
	assert_string_equal(cfg->dns.zone, "example.net.");
	assert_int_equal(cfg->dns.timeout_ms, 2000);
	assert_int_equal(cfg->dns.retries, 2);
	assert_int_equal(cfg->dns.verify_interval_ms, 60000);
	assert_int_equal(cfg->dns.nconfirm, 0);
	assert_true(cfg->dns.prereq);
	assert_int_equal(cfg->dns.transport, CFG_DNS_TRANSPORT_UDP);

	assert_int_equal(cfg->nstack, 3);
	s = config_stack_find(cfg, "a");
	assert_non_null(s);
	assert_true(s->web_head.is_name);
	assert_string_equal(s->web_head.name, "a.example.com.");
	assert_int_equal(s->expect_status.n, 1);
	assert_int_equal(s->expect_status.r[0].lo, 200);
	assert_int_equal(s->expect_status.r[0].hi, 399);
	assert_int_equal(s->standby_expect_status.n, 1);
	assert_int_equal(s->interval_ms, 1000);
	assert_int_equal(s->fastinter_ms, 200);
	assert_int_equal(s->downinter_ms, 5000);
	assert_int_equal(s->timeout_ms, 500);
	assert_int_equal(s->rise, 3);
	assert_int_equal(s->fall, 3);
	assert_true(s->tls_verify);
	assert_null(s->ca_file);
	assert_null(s->health_host);
	assert_null(s->expect_body);
	assert_int_equal(s->promote.argc, 0);
	assert_int_equal(s->hook_timeout_ms, 60000);
	assert_int_equal(s->line, 5);

	s = config_stack_find(cfg, "b");
	assert_false(s->web_head.is_name);
	assert_int_equal(s->web_head.naddr, 2);
	assert_string_equal(s->web_head.addrs[0], "192.0.2.1");
	assert_string_equal(s->web_head.addrs[1], "2001:db8::1");
	assert_int_equal(s->fastinter_ms, 100);
	assert_int_equal(s->timeout_ms, 50);
	assert_int_equal(s->downinter_ms, 5000);
	s = config_stack_find(cfg, "c");
	assert_string_equal(s->web_head.name, "c.example.com.");
	assert_int_equal(s->timeout_ms, 2000);
	assert_int_equal(s->downinter_ms, 10000);
	assert_null(config_stack_find(cfg, "d"));
	assert_int_equal(config_stack_index(cfg, "c"), 2);

	g = config_group_find(cfg, "www");
	assert_non_null(g);
	assert_string_equal(g->address, "www.example.net.");
	assert_false(g->address_auto);
	assert_int_equal(g->primary, 0);
	assert_int_equal(g->backup, 1);
	assert_int_equal(g->ttl, 60);
	assert_int_equal(g->suspect_ttl, 5);
	assert_true(g->auto_failover);
	assert_int_equal(g->hold_down_ms, 600000);
	assert_false(g->adopt);
	assert_int_equal(g->on_status_change.argc, 0);
	g = config_group_find(cfg, "reserved");
	assert_true(g->address_auto);
	assert_null(g->address);
	assert_int_equal(g->primary, -1);
	assert_int_equal(g->backup, -1);
	g = config_group_find(cfg, "fq");
	assert_string_equal(g->address, "fq.example.net.");
	assert_int_equal(g->primary, 2);
	assert_int_equal(g->backup, -1);
	assert_null(config_group_find(cfg, "nope"));
	config_free(cfg);
}

static void
test_source_cases(void **state)
{
	for (size_t i = 0; i < sizeof(srccases) / sizeof(srccases[0]); i++) {
		const struct srccase *c = &srccases[i];
		struct config_errors errs = { 0 };
		struct config *cfg = NULL;
		char text[512], path[256], want[768];
		int rc;

		snprintf(text, sizeof(text), DNS "[controller]\n"
		    "source_address = %s\n", c->value);
		rc = load_text(text, &cfg, &errs, path, sizeof(path));
		if (c->why == NULL) {
			if (rc != 0)
				print_error("%s: %s\n", c->value, errs.msg[0]);
			assert_int_equal(rc, 0);
			assert_string_equal(cfg->controller.source_address,
			    c->value);
			assert_int_equal(cfg->controller.source_family,
			    AF_INET);
		} else {
			snprintf(want, sizeof(want), "%s:6: source_address: %s",
			    path, c->why);
			assert_int_equal(rc, -1);
			assert_int_equal(errs.n, 1);
			if (strcmp(errs.msg[0], want) != 0)
				print_error("want: %s\ngot:  %s\n", want,
				    errs.msg[0]);
			assert_string_equal(errs.msg[0], want);
		}
		config_errors_free(&errs);
		config_free(cfg);
	}
}

/* Canonical form; ::1 where the host has it; simulation skips the host. */
static void
test_source_forms(void **state)
{
	struct config_errors errs = { 0 };
	struct config *cfg = NULL;
	char path[256];

	assert_int_equal(load_text(DNS "[controller]\n"
	    "source_address = 127.000.0.12\n", &cfg, &errs, path,
	    sizeof(path)), -1);
	config_errors_free(&errs);
	/* Not local here, but the simulator sends nothing. */
	assert_int_equal(load_text(DNS "[controller]\n"
	    "source_address = 198.51.100.77\n", &cfg, &errs, path,
	    sizeof(path)), -1);
	config_errors_free(&errs);
	assert_int_equal(config_load_flags(path, CONFIG_SIMULATION, &cfg,
	    &errs), 0);
	assert_string_equal(cfg->controller.source_address, "198.51.100.77");
	config_free(cfg);
	cfg = NULL;
	assert_int_equal(load_text(DNS "[controller]\n"
	    "source_address = 2001:DB8:0:0::7\n", &cfg, &errs, path,
	    sizeof(path)), -1);
	config_errors_free(&errs);
	assert_int_equal(config_load_flags(path, CONFIG_SIMULATION, &cfg,
	    &errs), 0);
	assert_string_equal(cfg->controller.source_address, "2001:db8::7");
	assert_int_equal(cfg->controller.source_family, AF_INET6);
	config_free(cfg);
	cfg = NULL;
	/* Without the key: the kernel chooses. */
	assert_int_equal(load_text(DNS, &cfg, &errs, path, sizeof(path)), 0);
	assert_null(cfg->controller.source_address);
	assert_int_equal(cfg->controller.source_family, 0);
	config_free(cfg);
}

static void
test_cluster_values(void **state)
{
	struct config_errors errs = { 0 };
	struct config *cfg = NULL;
	char path[256], buf[16];

	/* Without [cluster], nothing is set. */
	assert_int_equal(load_text(DNS STACK_A, &cfg, &errs, path,
	    sizeof(path)), 0);
	assert_false(cfg->cluster.enabled);
	assert_int_equal(cfg->cluster.netcd, 0);
	assert_null(cfg->cluster.etcd);
	assert_null(cfg->cluster.member);
	assert_null(cfg->cluster.prefix);
	assert_int_equal(cfg->cluster.lease_ttl_ms, 0);
	config_free(cfg);
	cfg = NULL;

	/* Defaults. */
	assert_int_equal(load_text(DNS "[cluster]\n"
	    "etcd = http://127.0.0.1:2379/\nmember = ctl-a\n", &cfg, &errs,
	    path, sizeof(path)), 0);
	assert_true(cfg->cluster.enabled);
	assert_int_equal(cfg->cluster.line, 5);
	assert_int_equal(cfg->cluster.netcd, 1);
	assert_string_equal(cfg->cluster.etcd[0], "http://127.0.0.1:2379");
	assert_null(cfg->cluster.etcd[1]);
	assert_string_equal(cfg->cluster.member, "ctl-a");
	assert_string_equal(cfg->cluster.prefix, "/failoverd/");
	assert_int_equal(cfg->cluster.lease_ttl_ms, 10000);
	assert_int_equal(cfg->cluster.quorum.kind, CFG_QUORUM_MAJORITY);
	assert_string_equal(cfg_quorum_name(&cfg->cluster.quorum, buf,
	    sizeof(buf)), "majority");
	assert_null(cfg->cluster.advertise);
	config_free(cfg);
	cfg = NULL;

	/* Every key; etcd in file order; prefix gets its '/'. */
	assert_int_equal(load_text(DNS "[cluster]\nquorum = 2\n"
	    "etcd = http://127.0.0.1:2379\netcd = http://127.0.0.2:2379\n"
	    "etcd = https://[::1]:2379\nmember = b.1\nprefix = /fo/prod\n"
	    "lease_ttl = 2s\nadvertise = http://127.0.0.1:8053\n", &cfg, &errs,
	    path, sizeof(path)), 0);
	assert_int_equal(cfg->cluster.netcd, 3);
	assert_string_equal(cfg->cluster.etcd[1], "http://127.0.0.2:2379");
	assert_string_equal(cfg->cluster.etcd[2], "https://[::1]:2379");
	assert_string_equal(cfg->cluster.member, "b.1");
	assert_string_equal(cfg->cluster.prefix, "/fo/prod/");
	assert_int_equal(cfg->cluster.lease_ttl_ms, 2000);
	assert_int_equal(cfg->cluster.quorum.kind, CFG_QUORUM_COUNT);
	assert_int_equal(cfg->cluster.quorum.n, 2);
	assert_string_equal(cfg_quorum_name(&cfg->cluster.quorum, buf,
	    sizeof(buf)), "2");
	assert_string_equal(cfg->cluster.advertise, "http://127.0.0.1:8053");
	config_free(cfg);
	cfg = NULL;

	/* 5m is the bound; "/" alone is a prefix; all. */
	assert_int_equal(load_text(DNS "[cluster]\netcd = http://e:2379\n"
	    "member = m\nlease_ttl = 5m\nprefix = /\nquorum = all\n", &cfg,
	    &errs, path, sizeof(path)), 0);
	assert_int_equal(cfg->cluster.lease_ttl_ms, 300000);
	assert_string_equal(cfg->cluster.prefix, "/");
	assert_int_equal(cfg->cluster.quorum.kind, CFG_QUORUM_ALL);
	config_free(cfg);
	cfg = NULL;

	/* At most 16 etcd URLs. */
	{
		char text[2048];
		size_t n;

		n = (size_t)snprintf(text, sizeof(text), DNS "[cluster]\n"
		    "member = m\n");
		for (int i = 1; i <= 17; i++)
			n += (size_t)snprintf(text + n, sizeof(text) - n,
			    "etcd = http://127.0.0.%d:2379\n", i);
		assert_int_equal(load_text(text, &cfg, &errs, path,
		    sizeof(path)), -1);
		assert_int_equal(errs.n, 1);
		assert_non_null(strstr(errs.msg[0], ":23: etcd: more than 16 "
		    "etcd URLs"));
		config_errors_free(&errs);
	}
}

/* The digest: what means the same hashes the same, and only that. */
#define DG_BASE \
	"[controller]\nname = ctl1\n" \
	"[dns]\nserver = 127.0.0.1\nserver = 127.0.0.2:5353\n" \
	"zone = example.net\nkey_file = @DIR@/tsig.key\n" \
	"confirm = 127.0.0.3\nconfirm = 127.0.0.4\n" \
	"[stack a]\nweb_head = 192.0.2.1 192.0.2.2\n" \
	"health_url = http://127.0.0.1/health\n" \
	"expect_status = 200-299,300-399\ninterval = 1s\n" \
	"promote = @DIR@/hook promote now\n" \
	"[stack b]\nweb_head = b.example.com\n" \
	"health_url = http://127.0.0.1/b\n" \
	"[group www]\naddress = www\nprimary = a\nbackup = b\n" \
	"[group g2]\naddress = auto\n"

/* The same meaning, written otherwise; [controller] and [cluster] too. */
static const char *const dg_same[] = {
	"; a comment\n[group g2]\naddress = AUTO\n\n"
	"[stack b]\n  health_url=http://127.0.0.1/b ; inline\n"
	"web_head = B.Example.COM.\nrise = 3\n"
	"[dns]\nkey_file = hmac-sha256:fo-key:" SECRET "\n"
	"confirm = 127.0.0.4\nzone = EXAMPLE.NET.\nserver = 127.0.0.1:53\n"
	"server = 127.0.0.2:5353\nconfirm = 127.0.0.3\ntimeout = 2s\n"
	"[group www]\nbackup = b\nprimary = a\naddress = WWW.example.net\n"
	"ttl = 1m\n"
	"[stack a]\npromote = @DIR@/hook   promote\tnow\n"
	"interval = 1000ms\nfastinter = 200ms\nexpect_status = 200-399\n"
	"standby_expect_status = 300-399,200-299\n"
	"web_head = 192.0.2.2, 192.0.2.1\n"
	"health_url = http://127.0.0.1/health\n"
	"[controller]\nname = ctl2\nisolation_check = no\n"
	"witness = http://127.0.0.9/\nsource_address = 127.0.0.12\n"
	"[cluster]\netcd = http://127.0.0.1:2379\nmember = ctl-b\n"
	"quorum = all\nlease_ttl = 3s\n",
};

struct dg_edit {
	const char	*key;		/* the key whose meaning it changes */
	const char	*from, *to;	/* the first from in DG_BASE becomes to */
};

/* Each changes the meaning of [dns], [stack] or [group]. */
static const struct dg_edit dg_diff[] = {
	{ "server", "server = 127.0.0.1\nserver = 127.0.0.2:5353\n",
	  "server = 127.0.0.2:5353\nserver = 127.0.0.1\n" },
	{ "server", "127.0.0.2:5353", "127.0.0.2:5354" },
	{ "zone", "zone = example.net", "zone = example.org" },
	{ "key_file",
	  "key_file = @DIR@/tsig.key", "key_file = hmac-sha256:other:" SECRET },
	{ "key_file",
	  "key_file = @DIR@/tsig.key",
	  "key_file = hmac-sha512:fo-key:" SECRET },
	{ "timeout",
	  "confirm = 127.0.0.4\n", "confirm = 127.0.0.4\ntimeout = 3s\n" },
	{ "retries",
	  "confirm = 127.0.0.4\n", "confirm = 127.0.0.4\nretries = 3\n" },
	{ "verify_interval", "confirm = 127.0.0.4\n", "confirm = 127.0.0.4\n"
	  "verify_interval = 30s\n" },
	{ "confirm", "confirm = 127.0.0.4\n", "" },
	{ "prereq",
	  "confirm = 127.0.0.4\n", "confirm = 127.0.0.4\nprereq = no\n" },
	{ "transport", "confirm = 127.0.0.4\n", "confirm = 127.0.0.4\n"
	  "transport = tcp\n" },
	{ "web_head", "192.0.2.1 192.0.2.2", "192.0.2.1 192.0.2.3" },
	{ "web_head", "192.0.2.1 192.0.2.2", "192.0.2.1" },
	{ "web_head", "b.example.com", "c.example.com" },
	{ "health_url", "http://127.0.0.1/health", "http://127.0.0.1/healthz" },
	{ "health_host",
	  "interval = 1s\n", "interval = 1s\nhealth_host = www.example.com\n" },
	{ "expect_status", "200-299,300-399", "200-299,300-398" },
	{ "standby_expect_status", "interval = 1s\n", "interval = 1s\n"
	  "standby_expect_status = 200-399,503\n" },
	{ "expect_body",
	  "interval = 1s\n", "interval = 1s\nexpect_body = OK\n" },
	{ "interval", "interval = 1s\n", "interval = 2s\n" },
	{ "fastinter",
	  "interval = 1s\n", "interval = 1s\nfastinter = 100ms\n" },
	{ "downinter", "interval = 1s\n", "interval = 1s\ndowninter = 6s\n" },
	{ "timeout", "interval = 1s\n", "interval = 1s\ntimeout = 300ms\n" },
	{ "rise", "interval = 1s\n", "interval = 1s\nrise = 2\n" },
	{ "fall", "interval = 1s\n", "interval = 1s\nfall = 2\n" },
	{ "tls_verify", "interval = 1s\n", "interval = 1s\ntls_verify = no\n" },
	{ "ca_file",
	  "interval = 1s\n", "interval = 1s\nca_file = @DIR@/ca.pem\n" },
	{ "maintenance_on",
	  "interval = 1s\n", "interval = 1s\nmaintenance_on = @DIR@/hook\n" },
	{ "maintenance_off",
	  "interval = 1s\n", "interval = 1s\nmaintenance_off = @DIR@/hook\n" },
	{ "replication_off",
	  "interval = 1s\n", "interval = 1s\nreplication_off = @DIR@/hook\n" },
	{ "precheck",
	  "interval = 1s\n", "interval = 1s\nprecheck = @DIR@/hook\n" },
	{ "hook_timeout",
	  "interval = 1s\n", "interval = 1s\nhook_timeout = 30s\n" },
	{ "promote", "promote now", "promote later" },
	{ "promote", "promote now", "promote now now" },
	{ "promote", "promote now", "promotenow" },
	{ "name", "[stack b]\nweb_head = b.example.com\n"
	  "health_url = http://127.0.0.1/b\n[group www]\naddress = www\n"
	  "primary = a\nbackup = b\n", "[stack c]\nweb_head = b.example.com\n"
	  "health_url = http://127.0.0.1/b\n[group www]\naddress = www\n"
	  "primary = a\nbackup = c\n" },
	{ "name", "[group www]", "[stack c]\nweb_head = c.example.com\n"
	  "health_url = http://127.0.0.1/c\n[group www]" },
	{ "address", "address = www", "address = www2" },
	{ "primary", "primary = a\nbackup = b\n", "primary = b\nbackup = a\n" },
	{ "backup", "backup = b\n", "" },
	{ "ttl", "backup = b\n", "backup = b\nttl = 30s\n" },
	{ "suspect_ttl", "backup = b\n", "backup = b\nsuspect_ttl = 4s\n" },
	{ "auto_failover", "backup = b\n", "backup = b\nauto_failover = no\n" },
	{ "hold_down", "backup = b\n", "backup = b\nhold_down = 5m\n" },
	{ "adopt", "backup = b\n", "backup = b\nadopt = yes\n" },
	{ "on_status_change",
	  "backup = b\n", "backup = b\non_status_change = @DIR@/hook\n" },
	{ "restore_on_abort",
	  "backup = b\n", "backup = b\nrestore_on_abort = no\n" },
	{ "name", "[group g2]", "[group g3]" },
	{ "name", "[group g2]\naddress = auto\n", "" },
	{ "address",
	  "[group g2]\naddress = auto\n", "[group g2]\naddress = g2\n" },
};

/* Load text and digest it into hex. */
static void
digest_of(const char *text, char hex[CFG_DIGEST_HEX])
{
	struct config_errors errs = { 0 };
	struct config *cfg = NULL;
	char path[256];

	if (load_text(text, &cfg, &errs, path, sizeof(path)) != 0) {
		for (size_t i = 0; i < errs.n; i++)
			print_error("%s\n", errs.msg[i]);
		fail_msg("does not load:\n%s", text);
	}
	assert_int_equal(config_digest(cfg, hex), 0);
	assert_int_equal(strlen(hex), 64);
	assert_int_equal(strspn(hex, "0123456789abcdef"), 64);
	config_free(cfg);
}

static char *
edit(const struct dg_edit *e)
{
	const char *base = DG_BASE, *at = strstr(base, e->from);
	char *out;

	assert_non_null(at);
	assert_true(asprintf(&out, "%.*s%s%s", (int)(at - base), base, e->to,
	    at + strlen(e->from)) > 0);
	return out;
}

static void
test_digest(void **state)
{
	size_t n = sizeof(dg_diff) / sizeof(dg_diff[0]);
	char base[CFG_DIGEST_HEX], again[CFG_DIGEST_HEX];
	char (*seen)[CFG_DIGEST_HEX];

	digest_of(DG_BASE, base);
	digest_of(DG_BASE, again);
	assert_string_equal(base, again);
	for (size_t i = 0; i < sizeof(dg_same) / sizeof(dg_same[0]); i++) {
		digest_of(dg_same[i], again);
		if (strcmp(base, again) != 0)
			fail_msg("same meaning, other digest:\n%s", dg_same[i]);
	}
	/* Every edit gives its own digest: none equals the base or another. */
	seen = calloc(n, sizeof(*seen));
	assert_non_null(seen);
	for (size_t i = 0; i < n; i++) {
		char *text = edit(&dg_diff[i]);

		digest_of(text, seen[i]);
		free(text);
		if (strcmp(seen[i], base) == 0)
			fail_msg("edit %zu (%s -> %s) did not change the "
			    "digest", i, dg_diff[i].from, dg_diff[i].to);
		for (size_t j = 0; j < i; j++)
			if (strcmp(seen[i], seen[j]) == 0)
				fail_msg("edits %zu and %zu give one digest", j,
				    i);
	}
	free(seen);
	/* Every key of [dns], [stack] and [group] has an edit above: a new
	   key fails here until the digest and this table know it. */
	{
		const char *sect, *key;

		for (size_t i = 0; config_key_at(i, &sect, &key); i++) {
			bool found = false;

			if (strcmp(sect, "dns") != 0 && strcmp(sect, "stack")
			    != 0 && strcmp(sect, "group") != 0)
				continue;
			for (size_t j = 0; j < n && !found; j++)
				found = strcmp(dg_diff[j].key, key) == 0;
			if (!found)
				fail_msg("[%s] %s: no edit in dg_diff shows the "
				    "digest sees it", sect, key);
		}
	}
}

/* Each stack's check digest of text, in the order of its stacks. */
static size_t
checks_of(const char *text, char names[][64], char hex[][CFG_CHECK_HEX],
    size_t max)
{
	struct config_errors errs = { 0 };
	struct config *cfg = NULL;
	char path[256];
	size_t n;

	if (load_text(text, &cfg, &errs, path, sizeof(path)) != 0)
		fail_msg("does not load:\n%s", text);
	for (n = 0; n < cfg->nstack && n < max; n++) {
		snprintf(names[n], 64, "%s", cfg->stacks[n].name);
		assert_int_equal(config_check_digest(&cfg->stacks[n], hex[n]),
		    0);
		assert_int_equal(strlen(hex[n]), CFG_CHECK_HEX - 1);
	}
	config_free(cfg);
	return n;
}

/*
 * A stack's check digest (what a member's verdict of it depends on, in a
 * quorum) changes with every key of its probe, and with nothing else: a
 * hook, a group or [dns] told apart by the configuration's digest leaves
 * the verdicts comparable.
 */
static void
test_check_digest(void **state)
{
	static const char *const probe_keys[] = { "web_head", "health_url",
	    "health_host", "expect_status", "standby_expect_status",
	    "expect_body", "interval", "fastinter", "downinter", "timeout",
	    "rise", "fall", "tls_verify", "ca_file" };
	char bn[8][64], en[8][64], bh[8][CFG_CHECK_HEX], eh[8][CFG_CHECK_HEX];
	size_t nb, ne;

	nb = checks_of(DG_BASE, bn, bh, 8);
	assert_true(nb >= 2);
	assert_string_not_equal(bh[0], bh[1]);
	for (size_t i = 0; i < sizeof(dg_diff) / sizeof(dg_diff[0]); i++) {
		char *text;
		bool probe = false, changed = false;

		if (strcmp(dg_diff[i].key, "name") == 0)
			continue;	/* stacks renamed, added */
		for (size_t k = 0; k < sizeof(probe_keys) /
		    sizeof(probe_keys[0]); k++)
			probe |= strcmp(dg_diff[i].key, probe_keys[k]) == 0;
		/* [dns] has a timeout too: the section the edit falls in. */
		{
			const char *base = DG_BASE, *sec;

			for (sec = strstr(base, dg_diff[i].from); sec > base &&
			    *sec != '['; sec--)
				;
			probe &= strncmp(sec, "[stack", 6) == 0;
		}
		text = edit(&dg_diff[i]);
		ne = checks_of(text, en, eh, 8);
		free(text);
		for (size_t a = 0; a < ne; a++)
			for (size_t b = 0; b < nb; b++)
				if (strcmp(en[a], bn[b]) == 0 &&
				    strcmp(eh[a], bh[b]) != 0)
					changed = true;
		if (probe && !changed)
			fail_msg("edit %zu (%s) did not change a check digest",
			    i, dg_diff[i].key);
		if (!probe && changed)
			fail_msg("edit %zu (%s) changed a check digest", i,
			    dg_diff[i].key);
	}
}

static void
test_values(void **state)
{
	struct config_errors errs = { 0 };
	struct config *cfg = NULL;
	const struct cfg_stack *s;
	const struct cfg_group *g;
	char path[256];

	assert_int_equal(load_text("[controller]\nstate_dir = /srv/fo\n"
	    "listen = off\napi_token_file = @DIR@/api.token\n"
	    "witness = http://192.0.2.53/ping\nwitness = https://w2/\n"
	    "isolation_check = no\nname = ctl-1\nmap_size = 1G\n"
	    "log_level = debug\n"
	    "[dns]\nserver = [2001:db8::2]:5353\nserver = 127.0.0.1:5300\n"
	    "zone = Failover.Example.NET.\nkey_file = hmac-sha1:k:" SECRET "\n"
	    "timeout = 1500ms\nretries = 0\nverify_interval = 1m30s\n"
	    "confirm = 192.0.2.3\nprereq = off\ntransport = TCP\n"
	    "[stack app1]\nweb_head = lb.example.com\n"
	    "health_url = https://192.0.2.10/health\n"
	    "health_host = www.example.com\nexpect_status = 200-299, 301\n"
	    "standby_expect_status = 200-399,503\nexpect_body = all OK\n"
	    "interval = 2s\nfastinter = 250ms\ndowninter = 10s\n"
	    "timeout = 1s\nrise = 2\nfall = 5\ntls_verify = no\n"
	    "ca_file = @DIR@/ca.pem\n"
	    "maintenance_on = @DIR@/hook maintenance on\n"
	    "maintenance_off = @DIR@/hook\tmaintenance   off\n"
	    "replication_off = @DIR@/hook\npromote = @DIR@/hook promote\n"
	    "precheck = @DIR@/hook lag-ok\nhook_timeout = 5m\n"
	    "[group www]\naddress = www.failover.example.net.\n"
	    "primary = app1\nttl = 1m\nsuspect_ttl = 10s\n"
	    "auto_failover = false\nhold_down = 1h\nadopt = yes\n"
	    "on_status_change = @DIR@/hook notify\n",
	    &cfg, &errs, path, sizeof(path)), 0);
	assert_int_equal(errs.n, 0);

	assert_string_equal(cfg->controller.state_dir, "/srv/fo");
	assert_false(cfg->controller.listen_enabled);
	assert_non_null(strstr(cfg->controller.api_token_file, "api.token"));
	assert_int_equal(cfg->controller.nwitness, 2);
	assert_string_equal(cfg->controller.witness[1], "https://w2/");
	assert_false(cfg->controller.isolation_check);
	assert_string_equal(cfg->controller.name, "ctl-1");
	assert_int_equal(cfg->controller.map_size, 1 << 30);
	assert_int_equal(cfg->controller.log_level, 3);

	assert_int_equal(cfg->dns.nserver, 2);
	assert_string_equal(cfg->dns.server[0].host, "2001:db8::2");
	assert_int_equal(cfg->dns.server[0].port, 5353);
	assert_int_equal(cfg->dns.server[0].family, AF_INET6);
	assert_int_equal(cfg->dns.server[1].port, 5300);
	assert_string_equal(cfg->dns.zone, "failover.example.net.");
	assert_string_equal(cfg->dns.key.name, "k");
	assert_int_equal(cfg->dns.key.alg, CFG_TSIG_HMAC_SHA1);
	assert_string_equal(cfg->dns.key.secret, SECRET);
	assert_null(strstr(cfg->dns.key_file, SECRET));
	assert_int_equal(cfg->dns.timeout_ms, 1500);
	assert_int_equal(cfg->dns.retries, 0);
	assert_int_equal(cfg->dns.verify_interval_ms, 90000);
	assert_int_equal(cfg->dns.nconfirm, 1);
	assert_int_equal(cfg->dns.confirm[0].port, 53);
	assert_false(cfg->dns.prereq);
	assert_int_equal(cfg->dns.transport, CFG_DNS_TRANSPORT_TCP);

	s = &cfg->stacks[0];
	assert_string_equal(s->health_host, "www.example.com");
	assert_int_equal(s->expect_status.n, 2);
	assert_int_equal(s->expect_status.r[1].lo, 301);
	assert_true(cfg_status_match(&s->standby_expect_status, 503));
	assert_false(cfg_status_match(&s->expect_status, 503));
	assert_string_equal(s->expect_body, "all OK");
	assert_int_equal(s->interval_ms, 2000);
	assert_int_equal(s->fastinter_ms, 250);
	assert_int_equal(s->downinter_ms, 10000);
	assert_int_equal(s->timeout_ms, 1000);
	assert_int_equal(s->rise, 2);
	assert_int_equal(s->fall, 5);
	assert_false(s->tls_verify);
	assert_non_null(s->ca_file);
	assert_int_equal(s->maintenance_off.argc, 3);
	assert_string_equal(s->maintenance_off.argv[1], "maintenance");
	assert_string_equal(s->maintenance_off.argv[2], "off");
	assert_null(s->maintenance_off.argv[3]);
	assert_int_equal(s->replication_off.argc, 1);
	assert_int_equal(s->precheck.argc, 2);
	assert_int_equal(s->precheck.line, 41);
	assert_int_equal(s->hook_timeout_ms, 300000);

	g = &cfg->groups[0];
	assert_string_equal(g->address, "www.failover.example.net.");
	assert_int_equal(g->primary, 0);
	assert_string_equal(g->primary_name, "app1");
	assert_int_equal(g->ttl, 60);
	assert_int_equal(g->suspect_ttl, 10);
	assert_false(g->auto_failover);
	assert_int_equal(g->hold_down_ms, 3600000);
	assert_true(g->adopt);
	assert_int_equal(g->on_status_change.argc, 2);
	config_free(cfg);
}

static void
test_open_error(void **state)
{
	struct config_errors errs = { 0 };
	struct config *cfg = NULL;

	assert_int_equal(config_load("/nonexistent/failoverd.conf", &cfg,
	    &errs), -1);
	assert_null(cfg);
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.msg[0], "/nonexistent/failoverd.conf: open: "
	    "No such file or directory");
	config_errors_free(&errs);
	assert_int_equal(errs.n, 0);
}

/*
 * Lines longer than inih's 200-byte buffer: a hook command line and a URL
 * of hundreds of characters, an inline comment after them; beyond
 * CFG_LINE_MAX, one error naming the limit.
 */
static void
test_long_lines(void **state)
{
	struct config_errors errs = { 0 };
	struct config *cfg = NULL;
	const struct cfg_stack *s;
	char path[256], *text, *want, args[2048], url[1200];
	size_t n = 0;
	FILE *f;

	for (int i = 0; i < 100; i++)
		n += (size_t)snprintf(args + n, sizeof(args) - n, " arg%02d", i);
	snprintf(url, sizeof(url), "http://127.0.0.1/health?%0900d", 7);
	assert_true(asprintf(&text, DNS "[stack a]\nweb_head = a.example.com\n"
	    "health_url = %s   ; a comment after it\n"
	    "maintenance_on = @DIR@/hook%s\n", url, args) > 0);
	assert_int_equal(load_text(text, &cfg, &errs, path, sizeof(path)), 0);
	free(text);
	s = config_stack_find(cfg, "a");
	assert_non_null(s);
	assert_string_equal(s->health_url, url);
	assert_int_equal(s->maintenance_on.argc, 101);
	assert_string_equal(s->maintenance_on.argv[100], "arg99");
	assert_int_equal(s->maintenance_on.line, 8);
	config_free(cfg);

	/* Past the limit: refused, with the line and the limit. */
	snprintf(path, sizeof(path), "%s/t.conf", dir);
	assert_non_null(f = fopen(path, "w"));
	fprintf(f, "[dns]\nserver = 127.0.0.1\nzone = example.net\n"
	    "key_file = %s/tsig.key\n[stack a]\nweb_head = a.example.com\n"
	    "health_url = http://x/", dir);
	for (int i = 0; i < 70000; i++)
		fputc('a', f);
	fputs("\n", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, 0600), 0);
	cfg = NULL;
	assert_int_equal(config_load(path, &cfg, &errs), -1);
	assert_true(asprintf(&want, "%s:7: line: longer than 65536 characters",
	    path) > 0);
	/* The line is dropped, so health_url is missing too (line 5). */
	assert_int_equal(errs.n, 2);
	assert_string_equal(errs.msg[1], want);
	free(want);
	config_errors_free(&errs);
}

/* Load text written at mode; the errors joined by newlines (caller frees). */
static char *
load_errors(const char *text, mode_t mode)
{
	struct config_errors errs = { 0 };
	struct config *cfg = NULL;
	char path[256], *body, *all = NULL;
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/t.conf", dir);
	body = subst(text, path);
	write_file(path, body, mode);
	free(body);
	if (config_load(path, &cfg, &errs) == 0) {
		config_free(cfg);
		return NULL;
	}
	for (size_t i = 0; i < errs.n; i++) {
		size_t l = strlen(errs.msg[i]);

		assert_non_null(all = realloc(all, n + l + 2));
		memcpy(all + n, errs.msg[i], l);
		n += l;
		all[n++] = '\n';
		all[n] = '\0';
	}
	config_errors_free(&errs);
	return all;
}

static void
expect_error(const char *text, mode_t mode, const char *want)
{
	char *got = load_errors(text, mode), *w = subst(want, "");

	if (got == NULL || strstr(got, w) == NULL)
		print_error("want: %s\ngot:  %s\n", w, got ? got : "(loads)");
	assert_non_null(got);
	assert_non_null(strstr(got, w));
	free(got);
	free(w);
}

static void
expect_loads(const char *text, mode_t mode)
{
	char *got = load_errors(text, mode);

	if (got != NULL)
		print_error("unexpected: %s\n", got);
	assert_null(got);
}

/*
 * What runs or is written as root: a hook owned by another user or in a
 * directory others may write, a state_dir open to others or another
 * user's; an inline key in a file others may read; the file itself.
 */
static void
test_trust(void **state)
{
	char p[512];

	/* A hook owned by another user. */
	snprintf(p, sizeof(p), "%s/other-hook", dir);
	write_file(p, "#!/bin/sh\nexit 0\n", 0755);
	assert_int_equal(chown(p, 65534, 65534), 0);
	expect_error(DNS STACK_A "promote = @DIR@/other-hook\n", 0600,
	    ":8: promote: @DIR@/other-hook is owned by uid 65534, not by "
	    "root or the daemon's user (uid 0)");
	unlink(p);

	/* In a directory others may write, and one another user owns. */
	snprintf(p, sizeof(p), "%s/open", dir);
	assert_int_equal(mkdir(p, 0777), 0);
	assert_int_equal(chmod(p, 0777), 0);
	snprintf(p, sizeof(p), "%s/open/hook", dir);
	write_file(p, "#!/bin/sh\nexit 0\n", 0755);
	expect_error(DNS STACK_A "promote = @DIR@/open/hook\n", 0600,
	    ":8: promote: directory @DIR@/open is writable by group and "
	    "others (mode 0777), so what is in it can be replaced");
	/* Sticky, the hook ours: fine (as in /tmp). */
	snprintf(p, sizeof(p), "%s/open", dir);
	assert_int_equal(chmod(p, 01777), 0);
	expect_loads(DNS STACK_A "promote = @DIR@/open/hook\n", 0600);
	/* Sticky, but the hook another user's. */
	snprintf(p, sizeof(p), "%s/open/hook", dir);
	assert_int_equal(chown(p, 65534, 0), 0);
	expect_error(DNS STACK_A "promote = @DIR@/open/hook\n", 0600,
	    ":8: promote: @DIR@/open/hook is owned by uid 65534");
	unlink(p);
	snprintf(p, sizeof(p), "%s/open", dir);
	assert_int_equal(chmod(p, 0755), 0);
	assert_int_equal(chown(p, 65534, 0), 0);
	snprintf(p, sizeof(p), "%s/open/hook", dir);
	write_file(p, "#!/bin/sh\nexit 0\n", 0755);
	expect_error(DNS STACK_A "promote = @DIR@/open/hook\n", 0600,
	    ":8: promote: @DIR@/open is owned by uid 65534, not by root or "
	    "the daemon's user (uid 0)");
	/* Through a link: the way to its target is checked too. */
	snprintf(p, sizeof(p), "%s/link-hook", dir);
	assert_int_equal(symlink("open/hook", p), 0);
	expect_error(DNS STACK_A "promote = @DIR@/link-hook\n", 0600,
	    ":8: promote: @DIR@/open is owned by uid 65534");
	unlink(p);
	snprintf(p, sizeof(p), "%s/open/hook", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/open", dir);

	/* state_dir: open to others, another user's, or in such a parent. */
	assert_int_equal(chown(p, 0, 0), 0);
	assert_int_equal(chmod(p, 0777), 0);
	expect_error("[controller]\nstate_dir = @DIR@/open\n" DNS, 0600,
	    ":2: state_dir: @DIR@/open is writable by group and others (mode "
	    "0777); chmod 700 it");
	expect_error("[controller]\nstate_dir = @DIR@/open/state\n" DNS,
	    0600, ":2: state_dir: @DIR@/open/state does not exist, and its "
	    "directory @DIR@/open is writable by group and others (mode "
	    "0777): another user could make it first");
	assert_int_equal(chmod(p, 0700), 0);
	assert_int_equal(chown(p, 65534, 0), 0);
	expect_error("[controller]\nstate_dir = @DIR@/open\n" DNS, 0600,
	    ":2: state_dir: @DIR@/open is owned by uid 65534");
	assert_int_equal(chown(p, 0, 0), 0);
	expect_loads("[controller]\nstate_dir = @DIR@/open\n" DNS, 0600);
	expect_loads("[controller]\nstate_dir = @DIR@/open/state\n" DNS,
	    0600);
	assert_int_equal(rmdir(p), 0);

	/* An inline key is as secret as a key file. */
	expect_error("[dns]\nserver = 127.0.0.1\nzone = example.net\n"
	    "key_file = hmac-sha256:k:" SECRET "\n", 0644,
	    ":4: key_file: an inline key in @DIR@/t.conf, which group or others "
	    "may read (mode 0644): chmod 600 it, or give the key in a key "
	    "file");
	expect_loads("[dns]\nserver = 127.0.0.1\nzone = example.net\n"
	    "key_file = hmac-sha256:k:" SECRET "\n", 0600);

	/* The file names what root runs: no one else may write it. */
	expect_error(DNS, 0664, "@DIR@/t.conf: open: writable by group (mode "
	    "0664); chmod go-w it");
	expect_loads(DNS, 0644);
}

/*
 * Only a regular file of bounded size is read: a character device, a
 * directory and a file past 64 MiB are refused before anything is read.
 */
static void
test_not_regular(void **state)
{
	static const struct {
		const char	*path;
		const char	*why;
	} cases[] = {
		{ "/dev/null", "/dev/null: open: not a regular file (a "
		    "character device)" },
		{ "/dev/zero", "/dev/zero: open: not a regular file (a "
		    "character device)" },
		{ "/", "/: open: not a regular file (a directory)" },
	};
	struct config_errors errs = { 0 };
	struct config *cfg = NULL;
	char path[256], *want;
	int fd;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(config_load(cases[i].path, &cfg, &errs), -1);
		assert_null(cfg);
		assert_int_equal(errs.n, 1);
		assert_string_equal(errs.msg[0], cases[i].why);
		config_errors_free(&errs);
	}
	snprintf(path, sizeof(path), "%s/huge.conf", dir);
	assert_true((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) >= 0);
	assert_int_equal(ftruncate(fd, ((off_t)64 << 20) + 1), 0);
	close(fd);
	assert_int_equal(config_load(path, &cfg, &errs), -1);
	assert_true(asprintf(&want, "%s: open: 67108865 bytes: longer than "
	    "67108864", path) > 0);
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.msg[0], want);
	free(want);
	config_errors_free(&errs);
	unlink(path);
}

static void
test_duration(void **state)
{
	static const struct {
		const char	*s;
		int64_t		 ms;	/* -1: refused */
	} t[] = {
		{ "250ms", 250 }, { "2s", 2000 }, { "10m", 600000 },
		{ "1h", 3600000 }, { "1m30s", 90000 }, { "0s", 0 },
		{ "1h1ms", 3600001 }, { "2400h", 2400LL * 3600000 },
		{ "2", -1 }, { "", -1 }, { "s", -1 }, { "1.5s", -1 },
		{ "-1s", -1 }, { "1 s", -1 }, { "1sec", -1 }, { "1d", -1 },
		{ "2401h", -1 }, { "99999999999999999999s", -1 }, { "1S", -1 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int64_t ms = 42;
		int rc = cfg_parse_duration(t[i].s, &ms);

		if (t[i].ms < 0) {
			assert_int_equal(rc, -1);
			assert_int_equal(ms, 42);
		} else {
			assert_int_equal(rc, 0);
			assert_int_equal(ms, t[i].ms);
		}
	}
}

static void
test_status_set(void **state)
{
	struct cfg_status_set set;

	assert_int_equal(cfg_parse_status_set("200-399,503", &set), 0);
	assert_int_equal(set.n, 2);
	assert_true(cfg_status_match(&set, 200));
	assert_true(cfg_status_match(&set, 399));
	assert_true(cfg_status_match(&set, 503));
	assert_false(cfg_status_match(&set, 400));
	assert_false(cfg_status_match(&set, 502));
	assert_int_equal(cfg_parse_status_set(" 204 , 300 - 302 ", &set), 0);
	assert_int_equal(set.n, 2);
	assert_int_equal(set.r[1].hi, 302);
	assert_int_equal(cfg_parse_status_set("200,201,202,203,204,205,206,"
	    "207,208,209,210,211,212,213,214,215", &set), 0);
	assert_int_equal(set.n, 16);
	assert_int_equal(cfg_parse_status_set("200,201,202,203,204,205,206,"
	    "207,208,209,210,211,212,213,214,215,216", &set), -1);
	assert_int_equal(cfg_parse_status_set("", &set), -1);
	assert_int_equal(cfg_parse_status_set("99", &set), -1);
	assert_int_equal(cfg_parse_status_set("600", &set), -1);
	assert_int_equal(cfg_parse_status_set("2000", &set), -1);
	assert_int_equal(cfg_parse_status_set("300-200", &set), -1);
	assert_int_equal(cfg_parse_status_set("200,", &set), -1);
	assert_int_equal(cfg_parse_status_set("200-", &set), -1);
	assert_int_equal(cfg_parse_status_set("2xx", &set), -1);
}

static void
test_bool(void **state)
{
	static const char *const yes[] = { "yes", "YES", "true", "on", "1" };
	static const char *const no[] = { "no", "False", "off", "0" };
	static const char *const bad[] = { "", "y", "2", "yess", "nope" };
	bool b;

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		b = false;
		assert_int_equal(cfg_parse_bool(yes[i], &b), 0);
		assert_true(b);
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		b = true;
		assert_int_equal(cfg_parse_bool(no[i], &b), 0);
		assert_false(b);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(cfg_parse_bool(bad[i], &b), -1);
}

static void
test_hostport(void **state)
{
	static const struct {
		const char	*s;
		const char	*host;	/* NULL: refused */
		int		 port;
		int		 family;
	} t[] = {
		{ "192.0.2.2:53", "192.0.2.2", 53, AF_INET },
		{ "192.0.2.2", "192.0.2.2", 99, AF_INET },
		{ "[2001:db8::1]:5353", "2001:db8::1", 5353, AF_INET6 },
		{ "[::1]", "::1", 99, AF_INET6 },
		{ "2001:DB8:0::1", "2001:db8::1", 99, AF_INET6 },
		{ "127.0.0.1:0", "127.0.0.1", 0, AF_INET },
		{ "127.0.0.1:65535", "127.0.0.1", 65535, AF_INET },
		{ "127.0.0.1:65536", NULL, 0, 0 },
		{ "127.0.0.1:", NULL, 0, 0 },
		{ "127.0.0.1:x", NULL, 0, 0 },
		{ "localhost:53", NULL, 0, 0 },
		{ "[192.0.2.1]:53", NULL, 0, 0 },
		{ "[::1]53", NULL, 0, 0 },
		{ "[::1", NULL, 0, 0 },
		{ "::1:53x", NULL, 0, 0 },
		{ "", NULL, 0, 0 },
		{ "256.1.1.1", NULL, 0, 0 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct cfg_hostport hp = { .port = 7 };
		int rc = cfg_parse_hostport(t[i].s, 99, &hp);

		if (t[i].host == NULL) {
			if (rc != -1)
				print_error("accepted: %s\n", t[i].s);
			assert_int_equal(rc, -1);
			assert_int_equal(hp.port, 7);
			continue;
		}
		if (rc != 0)
			print_error("refused: %s\n", t[i].s);
		assert_int_equal(rc, 0);
		assert_string_equal(hp.host, t[i].host);
		assert_int_equal(hp.port, t[i].port);
		assert_int_equal(hp.family, t[i].family);
	}
}

static void
test_key_names(void **state)
{
	const char *sect, *key;
	size_t n = 0;
	bool seen_ca = false, seen_witness = false, seen_quorum = false;

	while (config_key_at(n, &sect, &key)) {
		if (strcmp(sect, "cluster") == 0 && strcmp(key, "quorum") == 0)
			seen_quorum = true;
		if (strcmp(sect, "stack") == 0 && strcmp(key, "ca_file") == 0)
			seen_ca = true;
		if (strcmp(sect, "controller") == 0 &&
		    strcmp(key, "witness") == 0)
			seen_witness = true;
		n++;
	}
	assert_true(seen_ca);
	assert_true(seen_witness);
	assert_true(seen_quorum);
	assert_int_equal(n, 12 + 9 + 6 + 20 + 10);
}

/* Groups made at run time: the file's rules, and only [group] keys. */
static void
test_with_groups(void **state)
{
	static const char *const bad[][2] = {
		{ "[group g2]\naddress = auto\nprimary = nope\n",
		  "run-time group g2: primary: no [stack nope] is defined" },
		{ "[stack c]\nweb_head = c.example.com\n",
		  "run-time groups: [stack c]: only [group NAME] can be made"
		  " at run time: stacks and hooks come only from the"
		  " configuration file" },
		{ "[group g2]\naddress = auto\non_status_change = @DIR@/hook\n",
		  "run-time group g2: on_status_change: cannot be set at run"
		  " time (only address, primary, backup and ttl; the rest"
		  " comes from the configuration file)" },
		{ "[group www]\naddress = w2\n",
		  "run-time groups: [group www]: duplicate group (first"
		  " defined at line 11)" },
		{ "[group g2]\naddress = www\n",
		  "run-time group g2: address: www.example.net. is already"
		  " the address of group www (line 12)" },
		{ "address = x\n",
		  "run-time groups: address: key outside of any section"
		  " (expected [controller], [dns], [cluster], [stack NAME] or"
		  " [group NAME] first)" },
	};
	struct config *cfg = NULL, *rt = NULL, *rt2 = NULL;
	struct config_errors errs = { 0 };
	char path[256], digest[CFG_DIGEST_HEX], digest2[CFG_DIGEST_HEX];

	/* No trailing newline: the groups still start a line of their own. */
	assert_int_equal(load_text(DNS STACK_A "[stack b]\nweb_head = "
	    "b.example.com\nhealth_url = http://127.0.0.1/h\n[group www]\n"
	    "address = www\nprimary = a", &cfg, &errs, path, sizeof(path)), 0);
	assert_int_equal(config_with_groups(cfg, "[group g2]\naddress = auto"
	    "\nprimary = a\nbackup = b\nttl = 30s\n", &rt, &errs), 0);
	assert_int_equal(rt->ngroup, 2);
	assert_false(rt->groups[0].runtime);
	assert_true(rt->groups[1].runtime);
	assert_true(rt->groups[1].address_auto);
	assert_int_equal(rt->groups[1].backup, 1);
	assert_int_equal(rt->groups[1].ttl, 30);
	/* A run-time group is state: the cluster digest ignores it. */
	assert_int_equal(config_digest(cfg, digest), 0);
	assert_int_equal(config_digest(rt, digest2), 0);
	assert_string_equal(digest, digest2);
	/* Derived again from a derived one: only its file part counts. */
	assert_int_equal(config_with_groups(rt, "", &rt2, &errs), 0);
	assert_int_equal(rt2->ngroup, 1);
	config_free(rt2);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *text = subst(bad[i][0], path), *want = subst(bad[i][1],
		    path);

		rt2 = NULL;
		assert_int_equal(config_with_groups(cfg, text, &rt2, &errs), -1);
		assert_null(rt2);
		assert_int_equal(errs.n, 1);
		assert_string_equal(errs.msg[0], want);
		config_errors_free(&errs);
		memset(&errs, 0, sizeof(errs));
		free(text);
		free(want);
	}
	config_free(rt);
	config_free(cfg);
}

int
main(void)
{
	size_t nrow = sizeof(rows) / sizeof(rows[0]);
	const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_key_files),
		cmocka_unit_test(test_key_forms),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_open_error),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_not_regular),
		cmocka_unit_test(test_trust),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_status_set),
		cmocka_unit_test(test_bool),
		cmocka_unit_test(test_hostport),
		cmocka_unit_test(test_key_names),
		cmocka_unit_test(test_source_cases),
		cmocka_unit_test(test_source_forms),
		cmocka_unit_test(test_cluster_values),
		cmocka_unit_test(test_digest),
		cmocka_unit_test(test_check_digest),
		cmocka_unit_test(test_with_groups),
	};
	size_t nfixed = sizeof(fixed) / sizeof(fixed[0]);
	struct CMUnitTest *tests;
	int rc;

	tests = calloc(nrow + nfixed, sizeof(*tests));
	if (tests == NULL)
		return 1;
	for (size_t i = 0; i < nrow; i++) {
		tests[i].name = rows[i].name;
		tests[i].test_func = test_row;
		tests[i].initial_state = (void *)&rows[i];
	}
	memcpy(tests + nrow, fixed, sizeof(fixed));
	rc = _cmocka_run_group_tests("config", tests, nrow + nfixed, setup,
	    teardown);
	free(tests);
	return rc;
}
