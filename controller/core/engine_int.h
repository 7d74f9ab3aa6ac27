/*
 * engine_int.h - what the engine's files share: the context of one entry
 * point and the helpers that more than one file uses.  engine.c is the
 * state machine; engine_cmd.c the operators' commands; engine_plan.c the
 * switch plan; engine_names.c the names.  Not for the engine's users, who
 * see only engine.h.
 */
#ifndef FAILOVERD_ENGINE_INT_H
#define FAILOVERD_ENGINE_INT_H

#include "controller/core/engine.h"

#define FX_MAX	12

struct ctx {
	struct eng_group	*g;
	const struct eng_world	*w;
	const struct config	*cfg;
	const struct cfg_group	*grp;
	int64_t			 now;		/* wall: ids, stamps */
	int64_t			 mono;		/* deadlines, durations */
	struct eng_out		*out;
	size_t			 nrec;
	size_t			 nfx;
	struct eng_action	 fx[FX_MAX];
	struct eng_action	 sink;		/* overflow: never reached */
};

/* Append a RECORD action NAME at LVL; its key/values follow with ei_kv. */
struct eng_action *ei_record(struct ctx *, const char *name, enum eng_level);
void	 ei_kv(struct eng_action *, const char *key, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* A stack's name, or "-" for ENG_NONE. */
const char *ei_sname(const struct config *, int stack);
/* The hook of phase P on stack S, or NULL: the phase is skipped. */
const struct cfg_hook *ei_phase_hook(const struct config *, int stack,
	    enum eng_phase);
/* The stack a phase of SW runs on. */
int	 ei_phase_stack(const struct eng_switch *, enum eng_phase);
/* Whether S is one of the group's two stacks. */
bool	 ei_in_group(const struct eng_group *, int stack);
/* Start a switch to stack TO. */
void	 ei_start_switch(struct ctx *, int to, enum eng_reason, bool force);
/* The target of a switch command; false when there is none. */
bool	 ei_target_of(const struct eng_group *, const struct eng_cmd *, int *to);
/* Apply an operator's command (engine_cmd.c); returns ENG_OK or a refusal. */
int	 ei_on_cmd(struct ctx *, const struct eng_cmd *);

#endif
