/* member_hb.c - the heartbeat thread (member.h): every heartbeat_interval
 * it sends HELLO (which carries our epoch) to every other member of the
 * table, one after the other; a member that has not answered for
 * down_after is down in the view (logged once) and up again at its
 * first answer.  The same thread fetches a newer table when one was
 * seen (member_saw_epoch), retries a failed catch-up JOIN, and calls the
 * view listener after each change of the view.
 *
 * The grace rule (DESIGN 5), on the coordinator only: a member silent
 * for down_grace is set RING_DOWN in the table, so that placement gives
 * its ranges to the next members and repair restores r copies (refused
 * while that could strand data: see member_srv.c); a member that the
 * table has down and that answers again is set RING_JOINING, to catch
 * up before it serves (the data path makes it RING_UP).
 *
 * Missed writes.  While this node is paused (SIGSTOP, a stalled VM) or
 * cut off for longer than down_after, the others have it down in their
 * view: its keys are written through the backups, which do not forward
 * to it, and it stays up in the table.  So, when this node owns ranges
 * and others do too, it stops serving as primary (node_net_missed) when
 *   - its clock thread, which ticks every down_after/4 (at most 250 ms),
 *     finds a gap of more than down_after between two ticks (paused;
 *     the heartbeat rounds themselves may be that slow when peers do
 *     not answer), or
 *   - a round finds it cut off: with at least two other owners, it and
 *     those not down in the view are no majority of the owners (with
 *     one other owner, that one's silence cannot be told from its
 *     death, and this node goes on serving),
 * and the round after which it is no longer cut off and every other
 * owner has either answered or is down releases repair's catch-up
 * (repair_missed); repair serves again when that pass is over.  The
 * reads that run between a SIGCONT and the clock thread's next tick
 * are refused by kv_net_serving itself: the clock stamps kv_net_tick,
 * and a stamp older than down_after fails the check. */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kv_net.h"
#include "magmad.h"
#include "member_int.h"
#include "member_table.h"
#include "merr.h"
#include "mlog.h"
#include "node_net.h"

#define JOIN_RETRY_MS 5000

/* A heartbeat connection, owned by the thread. */
typedef struct hb_conn {
	uint8_t id[RING_ID_LEN];
	char peer[RING_ADDR_MAX];
	peer_client *pc;
	int keep;
	int refused; /* the grace rule's refusal was logged */
	int ok;      /* the last HELLO was answered */
} hb_conn;

typedef struct hb {
	struct magmad *d;
	member *m;
	hb_conn *c;
	size_t nc;
	peer_node me;
} hb;

/* A failure of the link, not an answer from the peer. */
static int link_error(int rc)
{
	return rc == MAGMA_EUNAVAIL || rc == MAGMA_ECRYPTO ||
	       rc == MAGMA_EPROTO || rc == MAGMA_ENOMEM;
}

static int hb_client(hb *b, const char *addr, peer_client **out)
{
	struct magmad *d = b->d;
	int down = (int)d->cfg.down_after_ms;
	peer_client_opts o = { down < 1000 ? down : 1000, down, down };

	return peer_client_new(addr, d->keys.join_token, d->node_id, &o, out);
}

/* Make the health list and the connections follow the table. */
static void sync_members(hb *b)
{
	struct magmad *d = b->d;
	member *m = b->m;
	ring *rg = NULL;
	health *nh = NULL;
	size_t n = 0, k = 0;
	int64_t now = member_now_ms();

	if (member_table_copy(d, &rg) < 0)
		return;
	(void)ring_count(rg, &n);
	nh = calloc(n ? n : 1, sizeof(*nh));
	if (nh == NULL)
		goto out;
	for (size_t i = 0; i < b->nc; i++)
		b->c[i].keep = 0;
	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < n; i++) {
		ring_member x;
		health *old = NULL;

		if (ring_member_at(rg, i, &x) < 0 ||
		    memcmp(x.id, d->node_id, RING_ID_LEN) == 0)
			continue;
		for (size_t j = 0; j < m->nh; j++)
			if (memcmp(m->h[j].id, x.id, RING_ID_LEN) == 0)
				old = &m->h[j];
		if (old) {
			nh[k] = *old;
		} else {
			memcpy(nh[k].id, x.id, RING_ID_LEN);
			nh[k].last_ok = now; /* up until proven otherwise */
		}
		k++;
		for (size_t j = 0; j < b->nc; j++)
			if (memcmp(b->c[j].id, x.id, RING_ID_LEN) == 0 &&
			    strcmp(b->c[j].peer, x.peer) == 0)
				b->c[j].keep = 1;
	}
	free(m->h);
	m->h = nh;
	m->nh = k;
	pthread_mutex_unlock(&m->lock);
	/* Drop connections of removed or readdressed members, add new. */
	for (size_t j = 0; j < b->nc;) {
		if (b->c[j].keep) {
			j++;
			continue;
		}
		peer_client_free(b->c[j].pc);
		b->c[j] = b->c[--b->nc];
	}
	for (size_t i = 0; i < n; i++) {
		ring_member x;
		int have = 0;
		hb_conn *nc;

		if (ring_member_at(rg, i, &x) < 0 ||
		    memcmp(x.id, d->node_id, RING_ID_LEN) == 0)
			continue;
		for (size_t j = 0; j < b->nc; j++)
			if (memcmp(b->c[j].id, x.id, RING_ID_LEN) == 0)
				have = 1;
		if (have)
			continue;
		nc = realloc(b->c, (b->nc + 1) * sizeof(*nc));
		if (nc == NULL)
			break;
		b->c = nc;
		memset(&nc[b->nc], 0, sizeof(*nc));
		memcpy(nc[b->nc].id, x.id, RING_ID_LEN);
		snprintf(nc[b->nc].peer, sizeof(nc[b->nc].peer), "%s", x.peer);
		if (hb_client(b, x.peer, &nc[b->nc].pc) == 0)
			b->nc++;
	}
out:
	ring_free(rg);
}

static void ping_all(hb *b)
{
	struct magmad *d = b->d;
	member *m = b->m;

	for (size_t i = 0; i < b->nc; i++) {
		hb_conn *c = &b->c[i];
		peer_node them;
		uint64_t seen;
		int rc, down_now = 0;

		peer_client_set_epoch(c->pc, member_epoch(d));
		rc = peer_call_hello(c->pc, &b->me, &them);
		c->ok = !link_error(rc);
		if (c->ok) {
			c->refused = 0;
			member_mark(m, c->id, 0, "");
			seen = peer_client_seen_epoch(c->pc);
			if (seen > member_epoch(d))
				member_saw_epoch(d, seen, c->id);
			continue;
		}
		pthread_mutex_lock(&m->lock);
		for (size_t j = 0; j < m->nh; j++)
			if (memcmp(m->h[j].id, c->id, RING_ID_LEN) == 0 &&
			    !m->h[j].down &&
			    member_now_ms() - m->h[j].last_ok >=
			            (int64_t)d->cfg.down_after_ms)
				down_now = 1;
		pthread_mutex_unlock(&m->lock);
		if (down_now) {
			char why[96];
			snprintf(why, sizeof(why),
			         "no answer for %u ms at %s: %s",
			         d->cfg.down_after_ms, c->peer,
			         magma_strerror(rc));
			member_mark(m, c->id, 1, why);
		}
	}
}

static hb_conn *conn_of(hb *b, const uint8_t id[RING_ID_LEN])
{
	for (size_t i = 0; i < b->nc; i++)
		if (memcmp(b->c[i].id, id, RING_ID_LEN) == 0)
			return &b->c[i];
	return NULL;
}

/* One member x of the table, on the coordinator: silent_ms is how long
 * it has not answered (-1: it answered the last heartbeat). */
static void grace_one(hb *b, const ring_member *x, int64_t silent_ms)
{
	struct magmad *d = b->d;
	hb_conn *c = conn_of(b, x->id);
	char hex[2 * RING_ID_LEN + 1];
	ring_member rm;
	int rc;

	memset(&rm, 0, sizeof(rm));
	memcpy(rm.id, x->id, RING_ID_LEN);
	member_hex(x->id, hex);
	if (x->state == RING_DOWN && silent_ms < 0) {
		rm.state = RING_JOINING;
		rc = member_coord_change(d, MEMBER_OP_SET_STATE, &rm, NULL);
		if (rc > 0)
			LOG_I("member %s (%s) answers again: joining, to catch "
			      "up (table epoch %" PRIu64 ")",
			      hex, x->peer, member_epoch(d));
		else if (rc < 0)
			LOG_W("member %s answers again, but cannot be set "
			      "joining: %s",
			      hex, magma_strerror(rc));
		return;
	}
	if (x->state == RING_DOWN ||
	    silent_ms < (int64_t)d->cfg.down_grace_ms ||
	    silent_ms < (int64_t)d->cfg.down_after_ms)
		return;
	rm.state = RING_DOWN;
	rc = member_coord_change(d, MEMBER_OP_SET_STATE, &rm, NULL);
	if (rc > 0) {
		LOG_W("member %s (%s) silent for %" PRId64 " ms (down_grace "
		      "%u ms): down in the table (epoch %" PRIu64 "); the "
		      "others restore its copies",
		      hex, x->peer, silent_ms, d->cfg.down_grace_ms,
		      member_epoch(d));
	} else if (rc < 0 && c && !c->refused) {
		c->refused = 1;
		LOG_W("member %s (%s) silent for %" PRId64 " ms, but left in "
		      "the table: %s",
		      hex, x->peer, silent_ms,
		      rc == MAGMA_EJUKEBOX
		              ? "too few members answer, or it may hold "
		                "the only reachable copy of some range"
		              : magma_strerror(rc));
	}
}

/* ---- missed writes (top of file) ---- */

static int is_owner(const ring_member *x)
{
	return x->state == RING_UP || x->state == RING_LEAVING;
}

/* This node owns ranges, and some other member does too. */
static int owner_with_others(struct magmad *d)
{
	ring *rg = NULL;
	size_t n = 0, others = 0;
	int own = 0;

	if (member_table_copy(d, &rg) < 0)
		return 0;
	(void)ring_count(rg, &n);
	for (size_t i = 0; i < n; i++) {
		ring_member x;
		if (ring_member_at(rg, i, &x) < 0 || !is_owner(&x))
			continue;
		if (memcmp(x.id, d->node_id, RING_ID_LEN) == 0)
			own = 1;
		else
			others++;
	}
	ring_free(rg);
	return own && others > 0;
}

static void log_missed(int64_t ms)
{
	LOG_W("missed heartbeats for %" PRId64 " ms (paused or cut off): not "
	      "serving until caught up",
	      ms);
}

/* After a round: enter or leave "cut off", and release the catch-up
 * once the others answer. */
static void check_cut_off(hb *b)
{
	struct magmad *d = b->d;
	member *m = b->m;
	ring *rg = NULL;
	size_t n = 0, owners = 0, down = 0, waiting = 0;
	int64_t last = 0;
	int own = 0, cut, newly = 0, release = 0;

	if (d->net == NULL || member_table_copy(d, &rg) < 0)
		return;
	(void)ring_count(rg, &n);
	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < n; i++) {
		ring_member x;
		hb_conn *c;
		health *h = NULL;

		if (ring_member_at(rg, i, &x) < 0)
			continue;
		if (memcmp(x.id, d->node_id, RING_ID_LEN) == 0) {
			own = is_owner(&x);
			continue;
		}
		if (!is_owner(&x))
			continue;
		owners++;
		for (size_t j = 0; j < m->nh; j++)
			if (memcmp(m->h[j].id, x.id, RING_ID_LEN) == 0)
				h = &m->h[j];
		c = conn_of(b, x.id);
		if (h && h->down) {
			down++;
			if (h->last_ok > last)
				last = h->last_ok;
		} else if (c == NULL || !c->ok) {
			waiting++; /* not answered yet, not down yet */
		}
	}
	cut = own && owners >= 2 && 2 * (owners - down + 1) <= owners + 1;
	if (cut && !m->cut_off && !m->missed) {
		newly = 1;
		node_net_missed(d, 1);
		m->missed = 1;
	}
	m->cut_off = cut;
	if (m->missed && (!own || (!cut && waiting == 0))) {
		release = 1;
		m->missed = 0;
		node_net_missed(d, 0);
	}
	pthread_mutex_unlock(&m->lock);
	ring_free(rg);
	if (newly)
		log_missed(member_now_ms() - last);
	if (release && own)
		LOG_I("%zu of %zu other owners answer: catching up before "
		      "serving as primary",
		      owners - down, owners);
}

/* Boot time: it goes on while the host sleeps too. */
static int64_t boot_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The clock thread (top of file). */
static void *clock_thread(void *arg)
{
	hb *b = arg;
	struct magmad *d = b->d;
	member *m = b->m;
	int64_t limit = d->cfg.down_after_ms, step = limit / 4;
	int64_t last = boot_ms();

	step = step < 10 ? 10 : step > 250 ? 250 : step;
	kv_net_set_tick_limit(d->net, d->cfg.down_after_ms);
	pthread_mutex_lock(&m->lock);
	while (!m->stop) {
		int64_t at = member_now_ms() + step, now;
		struct timespec ts = { (time_t)(at / 1000),
			               (long)(at % 1000) * 1000000 };

		while (!m->stop && member_now_ms() < at)
			pthread_cond_timedwait(&m->cond, &m->lock, &ts);
		if (m->stop)
			break;
		pthread_mutex_unlock(&m->lock);
		now = boot_ms();
		/* Serving off before the fresh tick lets reads in. */
		if (now - last > limit && owner_with_others(d)) {
			pthread_mutex_lock(&m->lock);
			node_net_missed(d, 1);
			m->missed = 1;
			pthread_mutex_unlock(&m->lock);
			log_missed(now - last);
		}
		kv_net_tick(d->net);
		last = now;
		pthread_mutex_lock(&m->lock);
	}
	pthread_mutex_unlock(&m->lock);
	kv_net_set_tick_limit(d->net, 0);
	return NULL;
}

/* The grace rule (top of file), once a round on the coordinator. */
static void grace(hb *b)
{
	struct magmad *d = b->d;
	member *m = b->m;
	ring *rg = NULL;
	size_t n = 0;

	if (!m->is_coord || d->cfg.down_grace_ms == 0 ||
	    member_table_copy(d, &rg) < 0)
		return;
	(void)ring_count(rg, &n);
	for (size_t i = 0; i < n; i++) {
		ring_member x;
		hb_conn *c;
		int64_t silent = -2; /* not in the health list yet */

		if (ring_member_at(rg, i, &x) < 0 ||
		    memcmp(x.id, d->node_id, RING_ID_LEN) == 0)
			continue;
		c = conn_of(b, x.id);
		pthread_mutex_lock(&m->lock);
		for (size_t j = 0; j < m->nh; j++)
			if (memcmp(m->h[j].id, x.id, RING_ID_LEN) == 0)
				silent = member_now_ms() - m->h[j].last_ok;
		pthread_mutex_unlock(&m->lock);
		/* Back only on a real answer: a fresh health entry (our
		 * start-up) is presumed up without one. */
		if (c && c->ok)
			silent = -1;
		if (silent != -2)
			grace_one(b, &x, silent);
	}
	ring_free(rg);
}

/* Fetch the table from the member that showed a newer epoch, or from
 * the coordinator when it is unknown to us. */
static void fetch(hb *b, int from_set, const uint8_t from[RING_ID_LEN])
{
	struct magmad *d = b->d;
	char addr[CONF_ADDR_MAX + 16] = "";
	peer_client *pc = NULL;
	ring *rg = NULL;
	int rc;

	if (from_set) {
		ring *cur = NULL;
		ring_member x;
		if (member_table_copy(d, &cur) == 0 &&
		    ring_member_find(cur, from, &x) == 0)
			snprintf(addr, sizeof(addr), "%s", x.peer);
		ring_free(cur);
	}
	if (addr[0] == '\0') {
		if (b->m->is_coord)
			return; /* nobody's table is newer than ours */
		snprintf(addr, sizeof(addr), "%s", d->cfg.coordinator);
	}
	rc = member_client(d, addr, 5000, &pc);
	if (rc == 0)
		rc = member_call_table_get(pc, &rg);
	peer_client_free(pc);
	if (rc == 0) {
		rc = member_install(d, rg, 0);
		if (rc == MAGMA_ECONFLICT)
			rc = 0;
	}
	if (rc < 0)
		LOG_I("cannot fetch the newer table from %s: %s", addr,
		      magma_strerror(rc));
}

static void retry_join(hb *b)
{
	member_answer ans;
	int rc = member_join_coordinator(b->d, &ans);

	if (rc < 0)
		return;
	b->m->need_join = 0;
	LOG_I("caught up with the coordinator %s", b->d->cfg.coordinator);
	rc = member_install(b->d, ans.table, 0);
	(void)rc; /* MAGMA_ECONFLICT: already current */
}

static void notify(hb *b)
{
	member *m = b->m;
	member_view_fn fn;
	void *arg;
	ring *view = NULL;

	pthread_mutex_lock(&m->lock);
	fn = m->view_fn;
	arg = m->view_arg;
	pthread_mutex_unlock(&m->lock);
	if (fn && member_view(b->d, &view) == 0)
		fn(arg, view);
	ring_free(view);
}

void *member_thread(void *arg)
{
	hb b = { .d = arg };
	member *m;
	uint64_t handled = 0, seen_gen = 0;
	int64_t next_round = 0, next_join = 0;
	pthread_t tick_th;
	int clock_on = 0;

	m = b.m = b.d->member;
	member_self_node(b.d, &b.me);
	if (b.d->net != NULL &&
	    pthread_create(&tick_th, NULL, clock_thread, &b) == 0)
		clock_on = 1;
	else if (b.d->net != NULL)
		LOG_W("no clock thread: a pause goes unnoticed until repair");
	for (;;) {
		uint64_t want, gen;
		uint8_t from[RING_ID_LEN];
		int from_set, stop;
		int64_t now = member_now_ms();

		pthread_mutex_lock(&m->lock);
		stop = m->stop;
		want = m->want_epoch;
		from_set = m->want_from_set;
		memcpy(from, m->want_from, RING_ID_LEN);
		pthread_mutex_unlock(&m->lock);
		if (stop)
			break;
		if (want > handled) {
			handled = want;
			if (want > member_epoch(b.d))
				fetch(&b, from_set, from);
		}
		if (now >= next_round) {
			next_round = now + b.d->cfg.heartbeat_ms;
			/* a fetch not done yet gets another go each round */
			if (want > member_epoch(b.d))
				handled = 0;
			sync_members(&b);
			ping_all(&b);
			check_cut_off(&b);
			grace(&b);
			if (m->need_join && now >= next_join) {
				next_join = now + JOIN_RETRY_MS;
				retry_join(&b);
			}
		}
		pthread_mutex_lock(&m->lock);
		gen = m->view_gen;
		pthread_mutex_unlock(&m->lock);
		if (gen != seen_gen) {
			seen_gen = gen;
			notify(&b);
		}
		/* Sleep until the next round, a stop, or a newer epoch. */
		pthread_mutex_lock(&m->lock);
		while (!m->stop && m->want_epoch <= handled &&
		       m->view_gen == seen_gen &&
		       member_now_ms() < next_round) {
			int64_t at = next_round;
			struct timespec ts = { (time_t)(at / 1000),
				               (long)(at % 1000) * 1000000 };
			pthread_cond_timedwait(&m->cond, &m->lock, &ts);
		}
		pthread_mutex_unlock(&m->lock);
	}
	if (clock_on)
		pthread_join(tick_th, NULL); /* m->stop is set */
	for (size_t i = 0; i < b.nc; i++)
		peer_client_free(b.c[i].pc);
	free(b.c);
	return NULL;
}
