/* member_int.h - what member.c, member_hb.c, member_srv.c and
 * member_ctl.c share; not an interface for other modules. */
#ifndef MAGMA_MEMBER_INT_H
#define MAGMA_MEMBER_INT_H

#include <pthread.h>
#include <stdint.h>

#include "member.h"
#include "member_rpc.h"
#include "peer_client.h"
#include "ring.h"

struct magmad;

/* What the heartbeats know of one other member. */
typedef struct health {
	uint8_t id[RING_ID_LEN];
	int64_t last_ok; /* member_now_ms() of the last answer */
	int down;        /* down in the view */
} health;

struct member {
	struct magmad *d;
	pthread_mutex_t change_lock;  /* coordinator: one change at a time */
	pthread_mutex_t install_lock; /* newer? + write + swap */
	pthread_mutex_t lock;         /* everything below */
	pthread_cond_t cond;          /* wakes the heartbeat thread */
	health *h;                    /* the other members */
	size_t nh;
	uint64_t view_gen;   /* bumped on every change of the view */
	uint64_t want_epoch; /* a newer epoch seen: fetch the table */
	uint8_t want_from[RING_ID_LEN];
	int want_from_set;
	member_view_fn view_fn;
	void *view_arg;
	member_movement mv;
	int stop;
	/* May have missed writes (member_hb.c): paused, or cut off from
	 * most other owners; not serving until the others answer and
	 * repair caught up.  cut_off: the last round found it so. */
	int missed;
	int cut_off;
	/* set once at start-up */
	int is_coord;
	int handoff;
	int need_join; /* the catch-up JOIN failed: retry it */
	int running;
	pthread_t thread;
};

int64_t member_now_ms(void);
void member_hex(const uint8_t id[RING_ID_LEN], char out[2 * RING_ID_LEN + 1]);
int member_table_copy(struct magmad *d, ring **out);
int member_install(struct magmad *d, ring *rg, int force);
void member_view_changed(member *m);
void member_mark(member *m, const uint8_t id[RING_ID_LEN], int down,
                 const char *why);
void member_self(struct magmad *d, ring_member *rm);
void member_self_node(struct magmad *d, peer_node *pn);
int member_handoff(struct magmad *d);

/* A fresh client of addr with the membership timeouts (short connect). */
int member_client(struct magmad *d, const char *addr, int call_ms,
                  peer_client **out);

/* Coordinator only: apply one change (member_table.h) under change_lock,
 * install it and push it to every other member.  *after (if not NULL)
 * gets a copy of the table after the change.  1 when the table
 * changed, 0 when the change changed nothing, or an error. */
int member_coord_change(struct magmad *d, int op, const ring_member *rm,
                        ring **after);

/* A member: JOIN this node through the coordinator (member_srv.c). */
int member_join_coordinator(struct magmad *d, member_answer *ans);

/* The heartbeat thread (member_hb.c); arg is the struct magmad. */
void *member_thread(void *arg);

#endif
