/*
 * ops_group.c - groups made at run time (ops_group.h).
 *
 * The text kept in the store is written here only, one section a group,
 * in the order the groups were added, each key on its line:
 *
 *	[group shop]
 *	address = auto
 *	primary = app1
 *	ttl = 60s
 *
 * A change reads the text, makes the configuration in force from it
 * (config_with_groups), builds the new text from that configuration with
 * the change applied, and has config_with_groups judge the new text before
 * anything is written: the rules are config/'s alone.  What goes into the
 * text is checked first to be made of name characters only, so no value
 * can start a line, a section or a comment of its own.
 */
#include "controller/face/ops_group.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "config/config.h"
#include "controller/core/engine.h"
#include "controller/face/ops.h"
#include "controller/store/store.h"

struct text {
	char	*s;
	size_t	 n, cap;
	bool	 nomem;
};

static void __attribute__((format(printf, 2, 3)))
text_add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->nomem)
		return;
	for (;;) {
		size_t room = t->cap - t->n;

		va_start(ap, fmt);
		n = vsnprintf(t->s != NULL ? t->s + t->n : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->nomem = true;
			return;
		}
		if ((size_t)n < room) {
			t->n += (size_t)n;
			return;
		}
		size_t cap = t->cap ? t->cap * 2 : 1024;
		while (cap < t->n + (size_t)n + 1)
			cap *= 2;
		char *s = realloc(t->s, cap);
		if (s == NULL) {
			t->nomem = true;
			return;
		}
		t->s = s;
		t->cap = cap;
	}
}

static void
reply_set(struct ops_reply *r, enum ops_outcome o, const char *reason,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
reply_set(struct ops_reply *r, enum ops_outcome o, const char *reason,
    const char *fmt, ...)
{
	va_list ap;

	r->outcome = o;
	r->code = o == OPS_DONE ? 0 : 1;
	snprintf(r->reason, sizeof(r->reason), "%s", reason);
	va_start(ap, fmt);
	vsnprintf(r->message, sizeof(r->message), fmt, ap);
	va_end(ap);
}

/* A value that can only be one word of the text (see the top). */
static bool
word_ok(const char *s)
{
	if (s == NULL || *s == '\0' || strlen(s) > 253)
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' ||
		    *s == '.'))
			return false;
	return true;
}

/* The stored text, copied (NULL when there is none). */
static char *
text_get(struct store_txn *txn)
{
	const void *v;
	size_t len;
	char *s;

	if (!store_meta_get(txn, OPS_GROUPS_META, &v, &len))
		return NULL;
	if ((s = malloc(len + 1)) == NULL)
		return NULL;
	memcpy(s, v, len);
	s[len] = '\0';
	return s;
}

/* The first error of a load, as one line; frees errs. */
static void
first_error(struct config_errors *errs, char *buf, size_t len)
{
	if (errs->n == 0)
		snprintf(buf, len, "out of memory");
	else if (errs->n == 1)
		snprintf(buf, len, "%s", errs->msg[0]);
	else
		snprintf(buf, len, "%s (and %zu more)", errs->msg[0],
		    errs->n - 1);
	config_errors_free(errs);
	memset(errs, 0, sizeof(*errs));
}

int
ops_groups_config(struct store *st, const struct config *base,
    struct config **out, char *err, size_t errlen)
{
	struct config_errors errs = { 0 };
	struct store_txn txn;
	char *text;

	*out = NULL;
	if (store_txn_begin(st, false, &txn) != 0) {
		snprintf(err, errlen, "%s: %s", store_errname(txn.err),
		    txn.detail);
		store_txn_abort(&txn);
		return OPS_E_STORE;
	}
	text = text_get(&txn);
	store_txn_abort(&txn);
	if (config_with_groups(base, text != NULL ? text : "", out, &errs) !=
	    0) {
		first_error(&errs, err, errlen);
		free(text);
		return OPS_E_INVAL;
	}
	free(text);
	return 0;
}

/* One group's section, as the text keeps it. */
static void
section(struct text *t, const char *name, const char *address,
    const char *primary, const char *backup, const char *ttl)
{
	text_add(t, "[group %s]\naddress = %s\n", name, address);
	if (primary != NULL)
		text_add(t, "primary = %s\n", primary);
	if (backup != NULL)
		text_add(t, "backup = %s\n", backup);
	if (ttl != NULL)
		text_add(t, "ttl = %s\n", ttl);
	text_add(t, "\n");
}

/*
 * The text of every run-time group of cur, but skip (NULL: none), which
 * the caller writes itself.
 */
static void
text_of(struct text *t, const struct config *cur, const char *skip)
{
	for (size_t i = 0; i < cur->ngroup; i++) {
		const struct cfg_group *g = &cur->groups[i];
		char ttl[16];

		if (!g->runtime || (skip != NULL && strcmp(g->name, skip) == 0))
			continue;
		snprintf(ttl, sizeof(ttl), "%us", g->ttl);
		section(t, g->name, g->address_auto ? "auto" : g->address,
		    g->primary_name, g->backup_name, ttl);
	}
}

/* The history event of a change, with the group as it is now. */
static void
history(struct store_txn *txn, const struct config *ncfg, const char *group,
    const char *event, const char *actor, int64_t now_ms)
{
	json_t *p = ncfg != NULL ? ops_group_definition(ncfg, group) : NULL;
	char *s;

	if (p == NULL)
		p = json_object();
	json_object_set_new(p, "level", json_string("info"));
	json_object_set_new(p, "actor", actor != NULL ? json_string(actor) :
	    json_null());
	s = json_dumps(p, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(p);
	store_history_append(txn, now_ms, group, event, s != NULL ? s : "{}",
	    NULL);
	free(s);
}

/* Check what will be written into the text. */
static bool
spec_ok(const struct ops_group_spec *sp, struct ops_reply *r)
{
	if (!config_name_valid(sp->name)) {
		reply_set(r, OPS_BAD_REQUEST, "bad_name", "'%.64s' is not a"
		    " valid group name (1-63 letters, digits, '-', '_' or '.',"
		    " starting with a letter or digit)", sp->name != NULL ?
		    sp->name : "");
		return false;
	}
	if (sp->address != NULL && !word_ok(sp->address)) {
		reply_set(r, OPS_BAD_REQUEST, "bad_address", "address: '%.64s'"
		    " is not a label, a name in the zone, or auto",
		    sp->address);
		return false;
	}
	if (sp->primary != NULL && !config_name_valid(sp->primary)) {
		reply_set(r, OPS_BAD_REQUEST, "bad_stack", "primary: '%.64s'"
		    " is not a stack name", sp->primary);
		return false;
	}
	if (sp->backup != NULL && !config_name_valid(sp->backup)) {
		reply_set(r, OPS_BAD_REQUEST, "bad_stack", "backup: '%.64s'"
		    " is not a stack name", sp->backup);
		return false;
	}
	if (sp->ttl != NULL && !word_ok(sp->ttl)) {
		reply_set(r, OPS_BAD_REQUEST, "bad_ttl", "ttl: '%.64s' is not"
		    " a duration (e.g. 60s, 5m)", sp->ttl);
		return false;
	}
	return true;
}

/*
 * The common part of add and set: the write transaction, the text in
 * force, the new text judged, written with its history event.
 */
static int
change(struct store *st, const struct config *cfg,
    const struct ops_group_spec *sp, bool add, int64_t now_ms,
    struct ops_reply *r)
{
	struct config_errors errs = { 0 };
	struct config *cur = NULL, *ncfg = NULL;
	const struct cfg_group *g;
	struct store_txn txn;
	struct text t = { 0 };
	char *old = NULL, msg[OPS_MSG_MAX], ttlbuf[16];
	const void *blob;
	size_t blen;

	if (store_txn_begin(st, true, &txn) != 0) {
		reply_set(r, OPS_FAILED, "store", "store: %s: %s",
		    store_errname(txn.err), txn.detail);
		store_txn_abort(&txn);
		return 1;
	}
	old = text_get(&txn);
	if (config_with_groups(cfg, old != NULL ? old : "", &cur, &errs) != 0) {
		first_error(&errs, msg, sizeof(msg));
		reply_set(r, OPS_REFUSED, "state_unfit", "the groups in the"
		    " state no longer fit the configuration file: %s", msg);
		goto out;
	}
	g = config_group_find(cur, sp->name);
	if (add) {
		if (g != NULL) {
			reply_set(r, OPS_REFUSED, g->runtime ? "exists" :
			    "in_config", g->runtime ? "group %s exists" :
			    "group %s is defined in the configuration file",
			    sp->name);
			goto out;
		}
		if (store_group_get(&txn, sp->name, &blob, &blen)) {
			reply_set(r, OPS_REFUSED, "leftover", "group %s still"
			    " has state from an earlier group of that name:"
			    " failoverctl group delete %s removes it",
			    sp->name, sp->name);
			goto out;
		}
		text_of(&t, cur, NULL);
		section(&t, sp->name, sp->address != NULL ? sp->address :
		    "auto", sp->primary, sp->backup, sp->ttl);
	} else {
		if (g == NULL) {
			reply_set(r, OPS_UNKNOWN, "unknown_group",
			    "unknown group %s", sp->name);
			goto out;
		}
		if (!g->runtime) {
			reply_set(r, OPS_REFUSED, "in_config", "group %s is"
			    " defined in the configuration file: change it"
			    " there", sp->name);
			goto out;
		}
		snprintf(ttlbuf, sizeof(ttlbuf), "%us", g->ttl);
		/* The group keeps its place among the others. */
		for (size_t i = 0; i < cur->ngroup; i++) {
			const struct cfg_group *o = &cur->groups[i];
			char ot[16];

			if (!o->runtime)
				continue;
			if (o != g) {
				snprintf(ot, sizeof(ot), "%us", o->ttl);
				section(&t, o->name, o->address_auto ? "auto" :
				    o->address, o->primary_name,
				    o->backup_name, ot);
				continue;
			}
			section(&t, g->name, g->address_auto ? "auto" :
			    g->address, sp->set_primary ? sp->primary :
			    g->primary_name, sp->set_backup ? sp->backup :
			    g->backup_name, sp->set_ttl && sp->ttl != NULL ?
			    sp->ttl : ttlbuf);
		}
	}
	if (t.nomem) {
		reply_set(r, OPS_FAILED, "nomem", "out of memory");
		goto out;
	}
	if (config_with_groups(cfg, t.s != NULL ? t.s : "", &ncfg, &errs) !=
	    0) {
		first_error(&errs, msg, sizeof(msg));
		reply_set(r, OPS_BAD_REQUEST, "invalid", "%s", msg);
		goto out;
	}
	/* A name that was ever handed out stays with its first group. */
	g = config_group_find(ncfg, sp->name);
	if (add && !g->address_auto) {
		const char *zone = ncfg->dns.zone;
		size_t al = strlen(g->address), zl = strlen(zone);
		struct store_addr a;
		char key[STORE_NAME_MAX + 1];

		if (al > zl + 1 && strcasecmp(g->address + al - zl, zone) == 0)
			snprintf(key, sizeof(key), "%.*s", (int)(al - zl - 1),
			    g->address);
		else
			snprintf(key, sizeof(key), "%s", g->address);
		if (store_addr_get(&txn, key, &a) || store_addr_get(&txn,
		    g->address, &a)) {
			reply_set(r, OPS_REFUSED, "address_taken", "address %s"
			    " was %s group %s and is never handed out again",
			    g->address, a.state == STORE_ADDR_TOMBSTONE ?
			    "deleted with" : "allocated to", a.group);
			goto out;
		}
	}
	store_meta_put(&txn, OPS_GROUPS_META, t.s != NULL ? t.s : "", t.n);
	store_generation_bump(&txn);
	history(&txn, ncfg, sp->name, add ? "group_added" : "group_changed",
	    sp->actor, now_ms);
	if (store_txn_commit(&txn) != 0) {
		reply_set(r, OPS_FAILED, "store", "store: %s: %s",
		    store_errname(txn.err), txn.detail);
		goto out;
	}
	reply_set(r, OPS_DONE, "", "%s: %s (primary %s, backup %s, ttl %us)",
	    sp->name, add ? "added" : "changed", g->primary_name != NULL ?
	    g->primary_name : "none", g->backup_name != NULL ?
	    g->backup_name : "none", g->ttl);
out:
	store_txn_abort(&txn);
	config_free(cur);
	config_free(ncfg);
	free(old);
	free(t.s);
	return r->code;
}

int
ops_group_add(struct store *st, const struct config *cfg,
    const struct ops_group_spec *spec, int64_t now_ms, struct ops_reply *r)
{
	memset(r, 0, sizeof(*r));
	if (!spec_ok(spec, r))
		return 1;
	return change(st, cfg, spec, true, now_ms, r);
}

int
ops_group_set(struct store *st, const struct config *cfg,
    const struct ops_group_spec *spec, int64_t now_ms, struct ops_reply *r)
{
	struct eng_group g;
	struct config *cur = NULL;
	bool stored = false;
	char err[OPS_MSG_MAX];

	memset(r, 0, sizeof(*r));
	if (spec->address != NULL) {
		reply_set(r, OPS_BAD_REQUEST, "address_fixed", "address: a"
		    " group's address cannot change (its users point at it);"
		    " add a new group instead");
		return 1;
	}
	if (!spec_ok(spec, r))
		return 1;
	if (!spec->set_primary && !spec->set_backup && !spec->set_ttl) {
		reply_set(r, OPS_BAD_REQUEST, "nothing", "nothing to change"
		    " (give primary, backup or ttl)");
		return 1;
	}
	/*
	 * Not in the middle of a switch: its phases act on the stacks the
	 * group has now.  (Read before the write begins; the daemon takes
	 * a change in only between two steps of a group.)
	 */
	if (ops_groups_config(st, cfg, &cur, err, sizeof(err)) == 0 &&
	    ops_group_state(st, cur, spec->name, &g, &stored, err,
	    sizeof(err)) == 0 && stored && g.status == ENG_SWITCHING) {
		config_free(cur);
		reply_set(r, OPS_REFUSED, "switching", "group %s is switching:"
		    " change it once the switch has ended", spec->name);
		return 1;
	}
	config_free(cur);
	return change(st, cfg, spec, false, now_ms, r);
}

int
ops_group_remove(struct store *st, const struct config *cfg,
    const char *group, bool record_gone, const char *actor, int64_t now_ms,
    char *addr, size_t addrlen, struct ops_reply *r)
{
	struct config *cur = NULL;
	const struct cfg_group *cg;
	struct store_txn txn;
	struct eng_group g;
	struct text t = { 0 };
	bool stored = false, has_addr;
	char err[OPS_MSG_MAX];

	memset(r, 0, sizeof(*r));
	addr[0] = '\0';
	if (ops_groups_config(st, cfg, &cur, err, sizeof(err)) != 0) {
		reply_set(r, OPS_REFUSED, "state_unfit", "the groups in the"
		    " state no longer fit the configuration file: %s", err);
		return 1;
	}
	if ((cg = config_group_find(cur, group)) == NULL) {
		reply_set(r, OPS_UNKNOWN, "unknown_group", "unknown group %s",
		    group);
		goto out;
	}
	if (!cg->runtime) {
		reply_set(r, OPS_REFUSED, "in_config", "group %s is defined in"
		    " the configuration file: remove it there, then"
		    " failoverctl group delete %s", group, group);
		goto out;
	}
	if (cg->primary >= 0 || cg->backup >= 0) {
		reply_set(r, OPS_REFUSED, "has_stacks", "%s: the group points"
		    " at %s%s%s: set it to no primary and no backup first",
		    group, cg->primary_name != NULL ? cg->primary_name : "",
		    cg->primary_name != NULL && cg->backup_name != NULL ?
		    " and " : "", cg->backup_name != NULL ? cg->backup_name :
		    "");
		goto out;
	}
	has_addr = ops_group_address(st, cur, group, addr, addrlen) == 0;
	if (!record_gone && ops_group_state(st, cur, group, &g, &stored, err,
	    sizeof(err)) == 0 && stored && g.pub_stack >= 0) {
		reply_set(r, OPS_REFUSED, "published", "%s: its record %s is"
		    " still published: failoverctl group delete %s removes it"
		    " with a signed UPDATE", group, addr, group);
		goto out;
	}
	/* The definition first: once it is gone, nothing manages the group
	   any more, and what is left is what group delete removes. */
	if (store_txn_begin(st, true, &txn) != 0) {
		reply_set(r, OPS_FAILED, "store", "store: %s: %s",
		    store_errname(txn.err), txn.detail);
		store_txn_abort(&txn);
		goto out;
	}
	text_of(&t, cur, group);
	if (t.nomem) {
		store_txn_abort(&txn);
		reply_set(r, OPS_FAILED, "nomem", "out of memory");
		goto out;
	}
	store_meta_put(&txn, OPS_GROUPS_META, t.s != NULL ? t.s : "", t.n);
	store_generation_bump(&txn);
	if (!has_addr)
		history(&txn, NULL, group, "group_deleted", actor, now_ms);
	if (store_txn_commit(&txn) != 0) {
		reply_set(r, OPS_FAILED, "store", "store: %s: %s",
		    store_errname(txn.err), txn.detail);
		goto out;
	}
	if (!has_addr) {
		/* Never had an address: nothing to tombstone. */
		addr[0] = '\0';
		reply_set(r, OPS_DONE, "", "%s: deleted (no address was ever"
		    " allocated)", group);
		goto out;
	}
	reply_set(r, OPS_DONE, "", "%s: no longer defined; %s to tombstone",
	    group, addr);
out:
	config_free(cur);
	free(t.s);
	return r->code;
}

json_t *
ops_group_definition(const struct config *cfg, const char *group)
{
	const struct cfg_group *g = config_group_find(cfg, group);

	if (g == NULL)
		return NULL;
	return json_pack("{s:s,s:s,s:o,s:o,s:i}",
	    "origin", g->runtime ? "runtime" : "file",
	    "address", g->address_auto ? "auto" : g->address,
	    "primary", g->primary_name != NULL ?
	    json_string(g->primary_name) : json_null(),
	    "backup", g->backup_name != NULL ? json_string(g->backup_name) :
	    json_null(),
	    "ttl", (int)g->ttl);
}
