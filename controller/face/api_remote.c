/*
 * api_remote.c - a command or a group change given to a member that does
 * not lead (issue 14): handed to the leader through etcd (the host's
 * command and group entries, shell/daemon_cluster_cmd.c), and the HTTP
 * answer sent when the leader's comes back.
 *
 * A follower's command waits for the leader's answer (bounded by
 * daemon_cluster_cmd.c): the request outlives its handler, so its
 * connection is taken out of the request deadline as an event stream's
 * is, and closed() says when the client went away before the answer.
 */
#include "controller/face/api_int.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <jansson.h>

#include "controller/base/log.h"
#include "controller/face/api_conn.h"

struct remote_call {
	struct api		*a;
	struct evhttp_request	*req;
	bool			 gone;
	enum ops_verb		 verb;
	enum ops_remote_gop	 gop;		/* NONE: a command */
	char			 group[API_NAME_MAX];
	char			 peer[80];
};

static void
remote_closed(struct evhttp_request *req, void *arg)
{
	struct remote_call *rc = arg;

	rc->gone = true;
}

static void
remote_reply(struct remote_call *rc, const struct ops_reply *rp,
    const char *leader)
{
	struct call c;
	json_t *out;
	int code;

	memset(&c, 0, sizeof(c));
	c.a = rc->a;
	c.req = rc->req;
	c.path = "(command given to the leader)";
	code = api_outcome_status(rp->outcome);
	if (strcmp(rp->reason, "no_leader") == 0 ||
	    strcmp(rp->reason, "cluster_unavailable") == 0)
		code = 503;
	else if (strcmp(rp->reason, "no_answer") == 0)
		code = 504;	/* taken; its outcome not known */
	if (code != 200)
		out = json_pack("{s:s, s:s, s:i}", "error", rp->message,
		    "reason", rp->reason, "status", code);
	else if (rc->gop != OPS_RGROUP_NONE) {
		/* The group as the leader made it: this member's store has
		 * it once etcd's copy arrives (failoverctl group list). */
		code = rc->gop == OPS_RGROUP_ADD ? 201 :
		    rc->gop == OPS_RGROUP_SET ? 200 : 204;
		out = code == 204 ? NULL : json_pack("{s:s, s:s}", "name",
		    rc->group, "message", rp->message);
	} else {
		out = json_pack("{s:b, s:s, s:s, s:s}", "ok", 1, "group",
		    rc->group, "command", ops_verb_name(rc->verb), "message",
		    rp->message);
		if (out != NULL && rc->verb == OPS_SWITCH) {
			json_object_set_new(out, "request_id",
			    json_integer((json_int_t)rp->request_id));
			json_object_set_new(out, "nswitch",
			    json_integer(rp->nswitch));
		}
	}
	if (out != NULL && leader[0] != '\0')
		json_object_set_new(out, "leader", json_string(leader));
	/* The connection was taken out of the guard's request deadline
	 * (api_conns_stream): it ends with this answer. */
	evhttp_add_header(evhttp_request_get_output_headers(rc->req),
	    "Connection", "close");
	log_info(rc->gop != OPS_RGROUP_NONE ? (code < 300 ? "api_group" :
	    "api_group_refused") : code < 300 ? "api_command" :
	    "api_command_refused",
	    "group=%s cmd=%s http_status=%d reason=%s leader=%s peer=%s",
	    log_q(rc->group), rc->gop != OPS_RGROUP_NONE ?
	    ops_remote_gop_cmd(rc->gop) : ops_verb_name(rc->verb), code,
	    log_q(rp->reason),
	    log_q(leader[0] ? leader : "none"), log_q(rc->peer));
	if (code == 204) {
		api_log_reply(&c, 204, NULL);
		evhttp_send_reply(rc->req, 204, "No Content", NULL);
		return;
	}
	api_reply_json(&c, code, out);
}

static void
remote_done(const struct ops_reply *rp, const char *leader, uint64_t epoch,
    void *ctx)
{
	struct remote_call *rc = ctx;

	if (!rc->gone)
		api_conns_stream_forget(rc->a->conns, rc->req);
	/* Gone: evhttp let go of the request, and replying frees it. */
	remote_reply(rc, rp, leader);
	free(rc);
}

/* 1: apply it here; 0: answered or to be answered. */
static int
remote_give(struct call *c, const struct ops_request *rq,
    enum ops_remote_gop gop,
    const struct ops_group_spec *sp, struct ops_reply *rp)
{
	struct remote_call *rc = calloc(1, sizeof(*rc));
	const char *group = gop != OPS_RGROUP_NONE ? sp->name : rq->group;
	int r;

	if (rc == NULL) {
		api_reply_error(c, 500, "out of memory");
		return 0;
	}
	rc->a = c->a;
	rc->req = c->req;
	rc->verb = rq != NULL ? rq->verb : OPS_PAUSE;
	rc->gop = gop;
	snprintf(rc->group, sizeof(rc->group), "%s", group != NULL ? group :
	    "");
	api_peer_of(c->req, rc->peer, sizeof(rc->peer));
	if (!api_conns_stream(c->a->conns, c->req, 5, remote_closed, rc)) {
		free(rc);
		api_reply_error(c, 500, "connection not known");
		return 0;
	}
	r = gop != OPS_RGROUP_NONE ? c->a->h.group(c->a->h.arg, gop, sp, remote_done, rc,
	    rp) : c->a->h.command(c->a->h.arg, rq, remote_done, rc, rp);
	if (r == 0)
		return 0;
	api_conns_stream_forget(c->a->conns, c->req);
	if (r < 0)
		remote_reply(rc, rp, "");
	free(rc);
	return r < 0 ? 0 : 1;
}

int
api_cmd_remote(struct call *c, const struct ops_request *rq, struct ops_reply *rp)
{
	return remote_give(c, rq, 0, NULL, rp);
}

/* A group change on a member that does not lead: 1 to apply it here. */
int
api_group_remote(struct call *c, enum ops_remote_gop gop,
    const struct ops_group_spec *sp)
{
	struct ops_reply rp;

	if (c->a->h.group == NULL)
		return 1;
	memset(&rp, 0, sizeof(rp));
	return remote_give(c, NULL, gop, sp, &rp);
}
