/*
 * daemon_reload.c - reload (SIGHUP, or a group made at run time): a new
 * configuration, with the run-time groups derived into it, judged whole
 * and swapped in by the one rebuild that start-up uses, or refused whole
 * with the reason.
 */
#include "controller/shell/daemon_int.h"
#include "controller/shell/daemon_cluster_rt.h"
#include "controller/shell/daemon_quorum.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "controller/face/api.h"
#include "controller/core/engine_codec.h"
#include "controller/base/log.h"
#include "controller/shell/sdnotify.h"

/* ---- daemon_reload ---- */

/*
 * The groups made at run time (face/ops_group.h): their text in the store,
 * copied ("" when there is none); NULL when the store cannot be read
 * (logged).
 */
char *
daemon_groups_text(struct daemon *d)
{
	struct store_txn txn;
	const void *v;
	size_t len = 0;
	char *s;

	if (store_txn_begin(d->store, false, &txn) != 0) {
		log_error("store_failed", "op=groups error=%s detail=%s",
		    store_errname(txn.err), log_q(txn.detail));
		store_txn_abort(&txn);
		return NULL;
	}
	if (!store_meta_get(&txn, OPS_GROUPS_META, &v, &len))
		len = 0;
	if ((s = malloc(len + 1)) == NULL)
		fatal("out_of_memory", "where=groups");
	if (len > 0)
		memcpy(s, v, len);
	s[len] = '\0';
	store_txn_abort(&txn);
	return s;
}

/*
 * base and the groups of text: the configuration to put in force, or NULL
 * when they do not fit together (each error logged as event).  partial
 * (at start): rather than NULL, base with the groups that fit, each
 * judged with those kept before it, so that one group whose stack left the
 * file does not take the others with it.
 */
struct config *
daemon_groups_derive(struct daemon *d, const struct config *base, const char *text,
    const char *event, bool partial)
{
	struct config_errors errs = { 0 };
	struct config *ncfg = NULL;
	char *keep, *cand;
	const char *p, *next;

	if (config_with_groups(base, text, &ncfg, &errs) == 0)
		return ncfg;
	for (size_t i = 0; i < errs.n; i++)
		log_error(event, "error=%s", log_q(errs.msg[i]));
	config_errors_free(&errs);
	if (!partial)
		return NULL;
	/* The text is ops_group.c's: one "[group NAME]" section a group. */
	if ((keep = strdup("")) == NULL)
		fatal("out_of_memory", "where=groups");
	for (p = text; *p != '\0'; p = next) {
		next = strstr(p + 1, "\n[group ");
		next = next != NULL ? next + 1 : p + strlen(p);
		if (asprintf(&cand, "%s%.*s", keep, (int)(next - p), p) == -1)
			fatal("out_of_memory", "where=groups");
		if (config_with_groups(base, cand, &ncfg, &errs) == 0) {
			config_free(ncfg);
			free(keep);
			keep = cand;
		} else {
			config_errors_free(&errs);
			free(cand);
		}
	}
	ncfg = NULL;
	if (config_with_groups(base, keep, &ncfg, &errs) != 0)
		config_errors_free(&errs);
	free(keep);
	return ncfg;
}

static int	 world_swap(struct daemon *, struct config *);

/*
 * A group was added, changed or deleted at run time (by the API, or by
 * failoverctl: the generation moved): take the store's groups in, as a
 * daemon_reload takes a new file in.  Groups that do not fit the file are
 * refused and the world in force is kept.
 */
void
daemon_groups_sync(struct daemon *d)
{
	struct config *ncfg;
	size_t nrt = 0;
	char *text;

	if (d->store == NULL || d->stopping)
		return;
	/* A batch on its way to etcd names groups by index: take the
	 * change in at the next poll once it is answered (as reload). */
	if (d->cluster != NULL && daemon_flush_busy()) {
		d->flags_gen = 0;
		return;
	}
	if ((text = daemon_groups_text(d)) == NULL)
		return;
	if (d->rt_text != NULL && strcmp(text, d->rt_text) == 0) {
		free(text);
		return;
	}
	free(d->rt_text);
	d->rt_text = text;
	daemon_flush(d);
	if ((ncfg = daemon_groups_derive(d, d->cfg, text, "groups_refused",
	    false)) == NULL)
		return;
	if (world_swap(d, ncfg) != 0)
		return;
	for (size_t i = 0; i < d->cfg->ngroup; i++)
		nrt += d->cfg->groups[i].runtime;
	log_info("groups_applied", "groups=%zu runtime=%zu", d->cfg->ngroup,
	    nrt);
	dclrt_changed(d);
}

static void
reload_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	if (!d->stopping)
		daemon_reload(d);
}

void
daemon_reload(struct daemon *d)
{
	struct config *ncfg = NULL, *fcfg = NULL;
	struct config_errors errs = { 0 };
	char *text = NULL;

	sdnotify_reloading();
	probelog_sync(d);
	daemon_flush(d);
	/* A batch on its way to etcd names groups of this configuration:
	 * daemon_reload once it is answered. */
	if (d->cluster != NULL && daemon_flush_busy()) {
		struct timeval tv = { 0, 20000 };

		if (d->ev_reload == NULL)
			d->ev_reload = evtimer_new(d->base, reload_cb, d);
		if (d->ev_reload != NULL)
			evtimer_add(d->ev_reload, &tv);
		return;
	}
	if (config_load(d->config_path, &fcfg, &errs) != 0) {
		for (size_t i = 0; i < errs.n; i++)
			log_error("reload_refused", "error=%s",
			    log_q(errs.msg[i]));
		log_error("reload_failed", "file=%s errors=%zu"
		    " detail=\"the running configuration is kept\"",
		    log_q(d->config_path), errs.n);
		config_errors_free(&errs);
		sdnotify_ready();
		return;
	}
	/* The groups made at run time, judged against the new file. */
	if (d->store == NULL) {
		ncfg = fcfg;
		fcfg = NULL;
	} else if ((text = daemon_groups_text(d)) != NULL)
		ncfg = daemon_groups_derive(d, fcfg, text, "reload_refused", false);
	config_free(fcfg);
	if (ncfg == NULL) {
		log_error("reload_failed", "file=%s detail=%s",
		    log_q(d->config_path), log_q("the groups made at run time"
		    " do not fit the new file; the running configuration is"
		    " kept"));
		free(text);
		sdnotify_ready();
		return;
	}
	if (world_swap(d, ncfg) == 0) {
		if (text != NULL) {
			free(d->rt_text);
			d->rt_text = text;
			text = NULL;
		}
		log_info("reloaded", "file=%s stacks=%zu groups=%zu",
		    log_q(d->config_path), d->cfg->nstack, d->cfg->ngroup);
		api_reload(d->api);
		dcluster_reload(d);
	}
	free(text);
	sdnotify_ready();
}

/*
 * Put a new, fully validated configuration in force (ncfg is taken; on a
 * refusal it is freed and 0 is not returned).  Group states are carried
 * across by name (encode with the old configuration, decode with the
 * new); a stack whose probe settings did not change keeps its probe and
 * its health undisturbed.
 */
static int
world_swap(struct daemon *d, struct config *ncfg)
{
	struct config *ocfg = d->cfg;
	struct dstack *ostacks = d->stacks;
	struct dgroup *ogroups = d->groups;
	struct health *ohealth = d->health;
	size_t onstack = ocfg->nstack, ongroup = ocfg->ngroup;
	size_t onwitness = ocfg->controller.nwitness;
	char err[256];

	/*
	 * A group in the middle of a switch cannot go: its hook's answer
	 * would have nowhere to land and the journal entry would never end.
	 */
	for (size_t o = 0; o < ongroup; o++)
		if (ogroups[o].st.status == ENG_SWITCHING &&
		    config_group_find(ncfg, ocfg->groups[o].name) == NULL) {
			log_error("reload_failed", "file=%s group=%s detail=%s",
			    log_q(d->config_path), log_q(ocfg->groups[o].name),
			    log_q("a group cannot be removed while it is"
			    " switching; the running configuration is kept"));
			config_free(ncfg);
			return -1;
		}
	if (strcmp(ncfg->controller.state_dir, ocfg->controller.state_dir) != 0)
		log_warn("reload_partial", "key=state_dir detail=%s",
		    log_q("state_dir changes need a restart; ignored"));

	/* Encode every group state against the old configuration. */
	char **blobs = calloc(ongroup ? ongroup : 1, sizeof(char *));
	size_t *lens = calloc(ongroup ? ongroup : 1, sizeof(size_t));
	if (blobs == NULL || lens == NULL)
		goto nomem;
	for (size_t i = 0; i < ongroup; i++)
		if (eng_group_encode(&ogroups[i].st, ocfg, &blobs[i],
		    &lens[i]) != 0)
			goto nomem;

	struct world_old old = { ocfg, ostacks, ogroups, ohealth, blobs, lens };

	d->cfg = ncfg;
	d->stacks = NULL;
	d->groups = NULL;
	d->health = NULL;
	if (world_build(d, &old) != 0)
		goto nomem;
	/* The quorum's tables follow the stacks before any group steps. */
	dquorum_reload(d);
	if (!d->stopping)
		(void)stacks_start(d);	/* a failure is logged; the rest run */

	/* The DNS engine keeps in-flight work; reopen it on a change, with
	 * the answers going where start-up sent them. */
	if (ddns_engine_open(d, d->dns_host, err, sizeof(err)) != 0)
		log_error("reload_partial", "key=dns error=%s", log_q(err));

	/* Witnesses are cheap: start them again. */
	witnesses_free(d, onwitness);
	if (!d->stopping && witnesses_start(d) != 0)
		log_error("reload_partial", "key=witness");

	stacks_free(ostacks, onstack);
	groups_free(ogroups, ongroup);
	free(ohealth);
	for (size_t i = 0; i < ongroup; i++)
		free(blobs[i]);
	free(blobs);
	free(lens);
	config_free(ocfg);

	daemon_update_roles(d);
	world_resume(d);
	/* Pause and pin as the store has them now, for every group. */
	d->flags_deferred = true;
	return 0;
nomem:
	fatal("out_of_memory", "where=daemon_reload");
}
