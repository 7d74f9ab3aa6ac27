/*
 * address.c - `address = auto`: a random NNN-NNN-NNN label in the zone,
 * allocated in the store before it is ever published.
 *
 * A label is never handed out twice: the addresses database keeps every
 * allocation, and a deleted group's label stays as a tombstone forever, so
 * a name that users once pointed at can never start serving someone else.
 */
#include "controller/shell/daemon_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "controller/base/log.h"
#include "controller/store/store.h"

#define ALLOC_TRIES	64

struct find_arg {
	const char	*group;
	char		 label[STORE_NAME_MAX + 1];
};

static bool
find_cb(const char *addr, const struct store_addr *a, void *arg)
{
	struct find_arg *f = arg;

	if (a->state == STORE_ADDR_ALLOCATED && strcmp(a->group, f->group) == 0) {
		snprintf(f->label, sizeof(f->label), "%s", addr);
		return false;
	}
	return true;
}

static void
random_label(char *buf, size_t len)
{
	uint32_t r[3];

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		for (int i = 0; i < 3; i++)
			r[i] = (uint32_t)random();
	snprintf(buf, len, "%03u-%03u-%03u", r[0] % 1000, r[1] % 1000,
	    r[2] % 1000);
}

int
address_label_alloc(struct store *st, const char *group, int64_t now_ms,
    char *label, size_t len, char *err, size_t errlen)
{
	struct store_txn txn;
	struct find_arg f = { .group = group };
	int rc;

	if ((rc = store_txn_begin(st, true, &txn)) != 0) {
		snprintf(err, errlen, "%s: %s", store_errname(rc), txn.detail);
		return -1;
	}
	store_addr_foreach(&txn, find_cb, &f);
	if (f.label[0] != '\0') {
		store_txn_abort(&txn);
		snprintf(label, len, "%s", f.label);
		return 0;
	}
	for (int i = 0; i < ALLOC_TRIES; i++) {
		struct store_addr a;
		char cand[16];

		random_label(cand, sizeof(cand));
		if (store_addr_get(&txn, cand, &a))
			continue;	/* allocated or tombstoned: never again */
		memset(&a, 0, sizeof(a));
		a.state = STORE_ADDR_ALLOCATED;
		a.time_ms = now_ms;
		snprintf(a.group, sizeof(a.group), "%s", group);
		store_addr_put(&txn, cand, &a);
		if ((rc = store_txn_commit(&txn)) != 0) {
			snprintf(err, errlen, "%s: %s", store_errname(rc),
			    txn.detail);
			return -1;
		}
		snprintf(label, len, "%s", cand);
		return 0;
	}
	store_txn_abort(&txn);
	snprintf(err, errlen, "no free label after %d tries", ALLOC_TRIES);
	return -1;
}

int
address_resolve(struct daemon *d, struct dgroup *g, char *err, size_t errlen)
{
	const char *group = d->cfg->groups[g->idx].name;
	char label[STORE_NAME_MAX + 1];

	if (d->store == NULL) {
		/* Dry run: a scratch label, never persisted. */
		random_label(label, sizeof(label));
		log_warn("address_scratch", "group=%s label=%s detail=%s",
		    log_q(group), label, log_q("dry run: not allocated"));
	} else if (address_label_alloc(d->store, group, clock_wall_ms(), label,
	    sizeof(label), err, errlen) != 0)
		return -1;
	if ((size_t)snprintf(g->address, sizeof(g->address), "%s.%s", label,
	    d->cfg->dns.zone) >= sizeof(g->address)) {
		snprintf(err, errlen, "address too long");
		return -1;
	}
	log_info("address", "group=%s name=%s auto=1", log_q(group),
	    log_q(g->address));
	return 0;
}
