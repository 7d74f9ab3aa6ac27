/*
 * fuzz_dns_response.c - libFuzzer target for the answer-handling path of
 * dnsupdate/: every input is judged (parsed, matched by id and question,
 * TSIG checked, records collected) as the answer to two pending requests
 * with id 0x1234: a signed UPDATE of zone failover.test. and an unsigned
 * query for www.failover.test. A.  The corpus holds real answers of named
 * to such requests.  Nothing may crash, leak or read out of bounds, and a
 * verdict must be self-consistent.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dnsupdate/dnsup_msg.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct cfg_tsig_key key = {
	"failoverd-key", CFG_TSIG_HMAC_SHA256,
	"5hUBpFUj6Fugd3A9V9kcK51Jzsx72ZE4zaoVEfLW4yI="
};
static struct dnsup_msg *upd, *qry;

static void
setup(void)
{
	struct dnsup_update u;
	char err[128];

	memset(&u, 0, sizeof(u));
	u.name = "www.failover.test.";
	dnsup_rrset_parse(&u.want, "192.0.2.1 2001:db8::1", 60, err,
	    sizeof(err));
	u.prereq = DNSUP_PREREQ_IS;
	dnsup_rrset_parse(&u.prev, "app1.example.net.", 0, err, sizeof(err));
	u.owner_txt = "failoverd controller=c1 group=www";
	if (dnsup_msg_update("failover.test.", &u, 1, 0x1234, &key, &upd, err,
	    sizeof(err)) == -1 || dnsup_msg_query("www.failover.test.", 1,
	    0x1234, NULL, &qry, err, sizeof(err)) == -1)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dnsup_verdict v;
	struct dnsup_found f;
	char buf[512];
	size_t i;

	if (upd == NULL)
		setup();
	dnsup_msg_check(upd, &key, data, size, time(NULL), &v, &f);
	if (v.kind == DNSUP_V_FINAL && v.result == DNSUP_R_NOERROR &&
	    size < 12)
		abort();
	if (strlen(v.detail) >= sizeof(v.detail))
		abort();
	dnsup_found_clear(&f);
	memset(&f, 0xa5, sizeof(f));
	dnsup_msg_check(qry, NULL, data, size, time(NULL), &v, &f);
	if (v.kind == DNSUP_V_FINAL) {
		if (f.rrset.naddr > DNSUP_MAX_ADDRS ||
		    f.txt.n > DNSUP_MAX_TXT || (f.nns > 0 && f.ns == NULL) ||
		    strlen(f.other) >= sizeof(f.other))
			abort();
		for (i = 0; i < f.rrset.naddr; i++)
			if (strlen(f.rrset.addrs[i]) >= sizeof(f.rrset.addrs[0]))
				abort();
		for (i = 0; i < f.txt.n; i++)
			if (f.txt.t[i].len > sizeof(f.txt.t[i].rdata))
				abort();
		dnsup_rrset_format(&f.rrset, buf, sizeof(buf));
		dnsup_txtset_format(&f.txt, buf, sizeof(buf));
	}
	dnsup_found_clear(&f);
	return 0;
}
