/* member.c - membership (member.h): the table on disk, the coordinator's
 * serialized changes and their push, the heartbeat thread and the view.
 *
 * Locks, always taken in this order and never held across a network call
 * except change_lock:
 *   change_lock  the coordinator's one-change-at-a-time mutex: held from
 *                reading the current table to installing the next one
 *                (so no two changes start from one epoch);
 *   install_lock orders "newer?" + write DIR/table + swap d->table, so
 *                the file and the table in memory never go backwards;
 *   d->table_lock (rwlock) the table pointer;
 *   lock         health, pending fetch, listener, movement. */
#include "config.h"

#include "member.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "magmad.h"
#include "magma_peer.h"
#include "member_int.h"
#include "member_rpc.h"
#include "member_table.h"
#include "merr.h"
#include "mlog.h"
#include "peer_srv.h"

int64_t member_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void member_hex(const uint8_t id[RING_ID_LEN], char out[2 * RING_ID_LEN + 1])
{
	keys_hex(id, RING_ID_LEN, out);
}

/* ---- the table: on disk and in memory ---- */

static int table_path(struct magmad *d, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", d->data_dir, MEMBER_TABLE_FILE);
	return n < 0 || (size_t)n >= len ? MAGMA_ENAMETOOLONG : 0;
}

/* Write the table durably: temporary file, fsync, rename, fsync dir. */
static int table_write(struct magmad *d, const ring *rg)
{
	char path[CONF_PATH_MAX + 32], tmp[CONF_PATH_MAX + 40];
	uint8_t *buf = NULL;
	size_t len = 0, off = 0;
	int fd = -1, dfd, rc;

	if ((rc = table_path(d, path, sizeof(path))) < 0)
		return rc;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((rc = ring_encode(rg, &buf, &len)) < 0)
		return rc;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = merr_from_errno(errno);
		goto out;
	}
	while (off < len) {
		ssize_t w = write(fd, buf + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			rc = merr_from_errno(errno);
			goto out;
		}
		off += (size_t)w;
	}
	if (fsync(fd) < 0 || rename(tmp, path) < 0) {
		rc = merr_from_errno(errno);
		goto out;
	}
	dfd = open(d->data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
out:
	if (fd >= 0)
		close(fd);
	if (rc < 0) {
		unlink(tmp);
		LOG_E("cannot write the table to %s: %s", path,
		      magma_strerror(rc));
	}
	free(buf);
	return rc;
}

/* Read DIR/table: MAGMA_ENOENT when there is none. */
static int table_read(struct magmad *d, ring **out)
{
	char path[CONF_PATH_MAX + 32];
	uint8_t *buf = NULL;
	struct stat sb;
	size_t off = 0;
	int fd, rc = 0;

	if ((rc = table_path(d, path, sizeof(path))) < 0)
		return rc;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? MAGMA_ENOENT : merr_from_errno(errno);
	if (fstat(fd, &sb) < 0 || sb.st_size <= 0 || sb.st_size > (8 << 20)) {
		rc = MAGMA_EGARBAGE;
		goto out;
	}
	buf = malloc((size_t)sb.st_size);
	if (!buf) {
		rc = MAGMA_ENOMEM;
		goto out;
	}
	while (off < (size_t)sb.st_size) {
		ssize_t r = read(fd, buf + off, (size_t)sb.st_size - off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = r < 0 ? merr_from_errno(errno) : MAGMA_EGARBAGE;
			goto out;
		}
		off += (size_t)r;
	}
	rc = ring_decode(buf, off, out);
out:
	free(buf);
	close(fd);
	return rc;
}

uint64_t member_epoch(struct magmad *d)
{
	uint64_t e = 0;

	pthread_rwlock_rdlock(&d->table_lock);
	if (d->table)
		(void)ring_epoch(d->table, &e);
	pthread_rwlock_unlock(&d->table_lock);
	return e;
}

int member_table_copy(struct magmad *d, ring **out)
{
	int rc = MAGMA_EUNAVAIL;

	pthread_rwlock_rdlock(&d->table_lock);
	if (d->table)
		rc = ring_dup(d->table, out);
	pthread_rwlock_unlock(&d->table_lock);
	return rc;
}

/* Install rg (taken over whatever happens) when it is newer than the
 * current table, or always with force (start-up).  Written to disk
 * first: a table is never served before it is durable.  MAGMA_ECONFLICT
 * when it is not newer. */
int member_install(struct magmad *d, ring *rg, int force)
{
	member *m = d->member;
	ring *old = NULL;
	uint64_t e = 0;
	size_t n = 0;
	int rc;

	pthread_mutex_lock(&m->install_lock);
	pthread_rwlock_rdlock(&d->table_lock);
	rc = force || member_table_newer(d->table, rg) ? 0 : MAGMA_ECONFLICT;
	pthread_rwlock_unlock(&d->table_lock);
	if (rc == 0)
		rc = table_write(d, rg);
	if (rc == 0) {
		pthread_rwlock_wrlock(&d->table_lock);
		old = d->table;
		d->table = rg;
		pthread_rwlock_unlock(&d->table_lock);
		(void)ring_epoch(rg, &e);
		(void)ring_count(rg, &n);
		rg = NULL;
	}
	pthread_mutex_unlock(&m->install_lock);
	ring_free(rg);
	ring_free(old);
	if (rc == 0) {
		LOG_I("routing table epoch %" PRIu64 " installed: %zu member%s",
		      e, n, n == 1 ? "" : "s");
		member_view_changed(m);
	}
	return rc;
}

/* ---- the view ---- */

void member_view_changed(member *m)
{
	pthread_mutex_lock(&m->lock);
	m->view_gen++;
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->lock);
}

static health *health_find(member *m, const uint8_t id[RING_ID_LEN])
{
	for (size_t i = 0; i < m->nh; i++)
		if (memcmp(m->h[i].id, id, RING_ID_LEN) == 0)
			return &m->h[i];
	return NULL;
}

int member_view(struct magmad *d, ring **out)
{
	member *m = d->member;
	uint8_t(*down)[RING_ID_LEN] = NULL;
	size_t nd = 0;
	int rc;

	if (m == NULL)
		return member_table_copy(d, out);
	pthread_mutex_lock(&m->lock);
	if (m->nh) {
		down = malloc(m->nh * sizeof(*down));
		if (down == NULL) {
			pthread_mutex_unlock(&m->lock);
			return MAGMA_ENOMEM;
		}
	}
	for (size_t i = 0; i < m->nh; i++)
		if (m->h[i].down)
			memcpy(down[nd++], m->h[i].id, RING_ID_LEN);
	pthread_mutex_unlock(&m->lock);
	pthread_rwlock_rdlock(&d->table_lock);
	rc = d->table ? member_table_view(d->table, down, nd, out)
	              : MAGMA_EUNAVAIL;
	pthread_rwlock_unlock(&d->table_lock);
	free(down);
	return rc;
}

int member_reachable(struct magmad *d, const uint8_t id[RING_ID_LEN])
{
	member *m = d->member;
	health *h;
	int up = 1;

	if (m == NULL || memcmp(id, d->node_id, RING_ID_LEN) == 0)
		return 1;
	pthread_mutex_lock(&m->lock);
	h = health_find(m, id);
	if (h)
		up = !h->down;
	pthread_mutex_unlock(&m->lock);
	return up;
}

/* Mark id down or up in the view; logged once per change. */
void member_mark(member *m, const uint8_t id[RING_ID_LEN], int down,
                 const char *why)
{
	char hex[2 * RING_ID_LEN + 1];
	health *h;
	int changed = 0;

	pthread_mutex_lock(&m->lock);
	h = health_find(m, id);
	if (h && h->down != down) {
		h->down = down;
		changed = 1;
		m->view_gen++;
		pthread_cond_broadcast(&m->cond);
	}
	if (h && !down)
		h->last_ok = member_now_ms();
	pthread_mutex_unlock(&m->lock);
	if (!changed)
		return;
	member_hex(id, hex);
	if (down)
		LOG_W("member %s is down (%s)", hex, why);
	else
		LOG_I("member %s is up again", hex);
}

void member_suspect(struct magmad *d, const uint8_t id[RING_ID_LEN])
{
	if (d->member == NULL || memcmp(id, d->node_id, RING_ID_LEN) == 0)
		return;
	member_mark(d->member, id, 1, "a call to it failed");
}

void member_saw_epoch(struct magmad *d, uint64_t epoch,
                      const uint8_t from_id[RING_ID_LEN])
{
	member *m = d->member;

	if (m == NULL || epoch <= member_epoch(d))
		return;
	pthread_mutex_lock(&m->lock);
	if (epoch > m->want_epoch) {
		m->want_epoch = epoch;
		m->want_from_set = from_id != NULL;
		if (from_id)
			memcpy(m->want_from, from_id, RING_ID_LEN);
		pthread_cond_broadcast(&m->cond);
	}
	pthread_mutex_unlock(&m->lock);
}

void member_on_view(struct magmad *d, member_view_fn fn, void *arg)
{
	member *m = d->member;

	if (m == NULL)
		return;
	pthread_mutex_lock(&m->lock);
	m->view_fn = fn;
	m->view_arg = arg;
	pthread_mutex_unlock(&m->lock);
}

void member_set_handoff(struct magmad *d, int data_path_moves_data)
{
	if (d->member)
		d->member->handoff = data_path_moves_data != 0;
}

int member_handoff(struct magmad *d)
{
	return d->member ? d->member->handoff : 0;
}

void member_set_movement(struct magmad *d, const member_movement *mv)
{
	member *m = d->member;

	if (m == NULL)
		return;
	pthread_mutex_lock(&m->lock);
	m->mv = *mv;
	m->mv.what[sizeof(m->mv.what) - 1] = '\0';
	pthread_mutex_unlock(&m->lock);
}

void member_get_movement(struct magmad *d, member_movement *mv)
{
	member *m = d->member;

	memset(mv, 0, sizeof(*mv));
	if (m == NULL)
		return;
	pthread_mutex_lock(&m->lock);
	*mv = m->mv;
	pthread_mutex_unlock(&m->lock);
}

/* ---- start and stop ---- */

/* This node as a ring member, with the addresses it bound. */
void member_self(struct magmad *d, ring_member *rm)
{
	memset(rm, 0, sizeof(*rm));
	memcpy(rm->id, d->node_id, RING_ID_LEN);
	conf_format_addr(&d->peer_bound, rm->peer, sizeof(rm->peer));
	conf_format_addr(&d->nfs_bound, rm->nfs, sizeof(rm->nfs));
	rm->weight = RING_WEIGHT_DEFAULT;
	rm->state = RING_UP;
}

void member_self_node(struct magmad *d, peer_node *pn)
{
	ring_member rm;

	member_self(d, &rm);
	memset(pn, 0, sizeof(*pn));
	snprintf(pn->network, sizeof(pn->network), "%s", d->cfg.network);
	memcpy(pn->id, d->node_id, RING_ID_LEN);
	snprintf(pn->peer, sizeof(pn->peer), "%s", rm.peer);
	snprintf(pn->nfs, sizeof(pn->nfs), "%s", rm.nfs);
	pn->proto_version = PEER_PROTO_VERSION;
}

/* The coordinator's start: the stored table (with our addresses brought
 * up to date), or the first table of a new network. */
static int start_coordinator(struct magmad *d, ring *stored)
{
	ring_member self;
	ring *rg = NULL;
	int rc;

	if (stored == NULL) {
		rc = member_table_copy(d, &rg); /* magmad's lone table */
		if (rc == 0)
			rc = member_install(d, rg, 1);
		if (rc < 0)
			fprintf(stderr,
			        "magmad: cannot write the first table: "
			        "%s\n",
			        magma_strerror(rc));
		return rc;
	}
	rc = member_install(d, stored, 1);
	if (rc < 0) {
		fprintf(stderr, "magmad: cannot install the stored table: %s\n",
		        magma_strerror(rc));
		return rc;
	}
	member_self(d, &self);
	rc = member_coord_change(d, MEMBER_OP_JOIN, &self, NULL);
	if (rc > 0)
		rc = 0;
	if (rc < 0)
		fprintf(stderr,
		        "magmad: cannot update this node in the table: "
		        "%s\n",
		        magma_strerror(rc));
	return rc;
}

/* A member's start: JOIN through the coordinator (idempotent: it also
 * catches up a restarted member).  Without a stored table this is the
 * first start after `magmactl join`, and the coordinator must answer. */
static int start_member(struct magmad *d, ring *stored)
{
	member_answer ans;
	int rc;

	if (stored) {
		rc = member_install(d, stored, 1);
		if (rc < 0) {
			fprintf(stderr,
			        "magmad: cannot install the stored table: %s\n",
			        magma_strerror(rc));
			return rc;
		}
	}
	rc = member_join_coordinator(d, &ans);
	if (rc == 0) {
		rc = member_install(d, ans.table, 0);
		if (rc == MAGMA_ECONFLICT)
			rc = 0; /* a push got here first */
		if (rc < 0)
			return rc;
		return 0;
	}
	if (stored) {
		LOG_W("coordinator %s: %s; serving with the stored table "
		      "(epoch %" PRIu64 ") and retrying",
		      d->cfg.coordinator, magma_strerror(rc), member_epoch(d));
		d->member->need_join = 1;
		return 0;
	}
	if (rc == MAGMA_ECRYPTO)
		fprintf(stderr,
		        "magmad: cannot join: coordinator %s refused our "
		        "keyphrase (wrong keyphrase file)\n",
		        d->cfg.coordinator);
	else
		fprintf(stderr,
		        "magmad: cannot join the network: coordinator %s: %s\n",
		        d->cfg.coordinator,
		        rc == MAGMA_EUNAVAIL ? "unreachable"
		                             : magma_strerror(rc));
	return rc;
}

int member_start(struct magmad *d)
{
	member *m;
	ring *stored = NULL;
	char path[CONF_PATH_MAX + 32];
	int rc;

	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return MAGMA_ENOMEM;
	m->d = d;
	pthread_mutex_init(&m->lock, NULL);
	pthread_mutex_init(&m->change_lock, NULL);
	pthread_mutex_init(&m->install_lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&m->cond, &ca);
	pthread_condattr_destroy(&ca);
	m->is_coord = d->cfg.coordinator[0] == '\0';
	d->member = m;

	rc = table_read(d, &stored);
	if (rc < 0 && rc != MAGMA_ENOENT) {
		table_path(d, path, sizeof(path));
		fprintf(stderr, "magmad: cannot read the table %s: %s\n", path,
		        magma_strerror(rc));
		return rc;
	}
	rc = m->is_coord ? start_coordinator(d, stored)
	                 : start_member(d, stored);
	if (rc < 0)
		return rc;
	{
		ring_member self;
		pthread_rwlock_rdlock(&d->table_lock);
		if (ring_member_find(d->table, d->node_id, &self) < 0)
			LOG_W("this node is not a member of its table "
			      "(removed?): it serves no keys");
		pthread_rwlock_unlock(&d->table_lock);
	}
	rc = pthread_create(&m->thread, NULL, member_thread, d);
	if (rc != 0) {
		fprintf(stderr, "magmad: cannot start the heartbeat thread\n");
		return MAGMA_ESYS;
	}
	m->running = 1;
	LOG_I("membership: %s, heartbeat every %u ms, down after %u ms",
	      m->is_coord ? "this node is the coordinator" : "member",
	      d->cfg.heartbeat_ms, d->cfg.down_after_ms);
	return 0;
}

void member_stop(struct magmad *d)
{
	member *m = d->member;

	if (m == NULL)
		return;
	if (m->running) {
		pthread_mutex_lock(&m->lock);
		m->stop = 1;
		pthread_cond_broadcast(&m->cond);
		pthread_mutex_unlock(&m->lock);
		pthread_join(m->thread, NULL);
	}
	d->member = NULL;
	free(m->h);
	pthread_cond_destroy(&m->cond);
	pthread_mutex_destroy(&m->lock);
	pthread_mutex_destroy(&m->change_lock);
	pthread_mutex_destroy(&m->install_lock);
	free(m);
}
