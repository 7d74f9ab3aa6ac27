/*
 * engine_codec.h - struct eng_group to bytes and back, for the store.
 *
 * The encoding is one JSON object (jansson), versioned, readable with
 * mdb_dump, stacks and the group named rather than indexed so that it
 * survives a reload that reorders the configuration.  Version 1:
 *
 *   {"v":1,"group":"www","status":"switching","active":"app1",
 *    "standby":"app2","paused":false,"pinned":null,"has_switched":true,
 *    "last_switch_ms":1700000000000,"last_switch_mono_ms":5000,
 *    "nswitch":1,"held":"none",
 *    "switch":{"id":"www-1700000000000","from":"app1","to":"app2",
 *      "reason":"auto","force":false,"phase":"promote","running":true,
 *      "attempt":1,"maint_on_ok":true,"failed_phase":"done",
 *      "started_ms":...,"phase_started_ms":...,"ended_ms":0,
 *      "started_mono_ms":...,"phase_started_mono_ms":...},
 *    "dns":{"pub":"app1","pub_ttl":5,"want":"app1","want_ttl":5,
 *      "ticket":0,"sent":"app1","sent_ttl":5,"last_ticket":3,
 *      "failures":0,"retry_ms":0,"online":"app1"},
 *    "precheck":{"running":false,"ok":false,"next_ms":0,"exit":0}}
 *
 * The *_mono_ms fields and dns.retry_ms, precheck.next_ms are on the
 * monotonic clock: valid within one run (a reload), rebased by RESUME
 * (engine.h, Time).  Fields added since version 1 was first written
 * (the mono ones, maint_on_ok, failed_phase) may be absent: 0, false,
 * "done".
 *
 * An unknown version is an error: never guess at a newer layout.
 */
#ifndef FAILOVERD_ENGINE_CODEC_H
#define FAILOVERD_ENGINE_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "config/config.h"
#include "controller/core/engine.h"

#define ENG_CODEC_VERSION	1

/* Decode results besides 0. */
#define ENG_DECODE_RESET	1	/* roles no longer matched the config:
					   reset (see eng_group_decode) */
#define ENG_E_CODEC		(-2)	/* not JSON, or a field is missing */
#define ENG_E_VERSION		(-3)	/* unknown "v" */
#define ENG_E_NOGROUP		(-4)	/* the group is not in the config */

/*
 * The state as a new JSON object (caller json_decref()s), or NULL when out
 * of memory.  Also what the HTTP API and `failoverctl status --json` show.
 */
json_t	*eng_group_to_json(const struct eng_group *, const struct config *);

/*
 * Encode: *out is a NUL-terminated compact JSON string of *len bytes
 * (caller free()s).  Returns 0 or ENG_E_CODEC (out of memory).
 */
int	 eng_group_encode(const struct eng_group *, const struct config *,
	    char **out, size_t *len);

/*
 * Decode len bytes into *g, mapping names to the indexes of cfg (which
 * may be a newer configuration than the one that encoded it).  Returns
 * 0; ENG_DECODE_RESET when the stored roles do not match the group's
 * stacks in cfg any more and were reset to the configuration's (primary
 * active, backup standby; a switch that was running with a stack that is
 * gone ends in FAILED so an operator looks at it; a group that lost its
 * stacks becomes RESERVED); or a negative ENG_E_* with a message in err.
 * *g is only written on success (>= 0).
 */
int	 eng_group_decode(const char *buf, size_t len, const struct config *,
	    struct eng_group *g, char *err, size_t errlen);

/*
 * A switch journal entry (store_journal_put, keyed by the switch's id):
 * the state as eng_group_encode() writes it, with one more field, the
 * leadership epoch it was written under in a cluster (DESIGN.md: the
 * epoch is recorded with every journal entry):
 *
 *   {"v":1,"group":"www",...,"epoch":42}
 *
 * "epoch" is left out when 0 (a controller alone), so an entry written
 * alone is byte for byte what eng_group_encode() gives, and entries
 * written before the field existed read back as epoch 0: the version
 * stays 1 (a field added, not a layout changed; eng_group_decode()
 * ignores it).  Encode returns as eng_group_encode().
 */
int	 eng_journal_encode(const struct eng_group *, const struct config *,
	    uint64_t epoch, char **out, size_t *len);
/*
 * Decode a journal entry: as eng_group_decode(), and *epoch (when not
 * NULL) the entry's epoch, 0 when it has none.  An "epoch" that is not a
 * non-negative integer is ENG_E_CODEC.
 */
int	 eng_journal_decode(const char *buf, size_t len, const struct config *,
	    struct eng_group *g, uint64_t *epoch, char *err, size_t errlen);

#endif
