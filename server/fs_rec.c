/* fs_rec.c - encode and decode the namespace records (formats in
 * fs_rec.h).  A bounded cursor reads fixed-size little-endian fields; any
 * overrun or trailing garbage makes the record corrupt. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fs_internal.h"
#include "fs_rec.h"
#include "merr.h"
#include "mlog.h"

/* ---- a small write cursor over a malloc'd buffer ---- */

typedef struct wbuf {
	uint8_t *p;
	size_t len, cap;
} wbuf;

static void w_bytes(wbuf *w, const void *b, size_t n)
{
	if (w->len + n <= w->cap)
		memcpy(w->p + w->len, b, n);
	w->len += n; /* overflow detected by the caller comparing len/cap */
}

static void w_u8(wbuf *w, uint8_t v)
{
	w_bytes(w, &v, 1);
}

static void w_u16(wbuf *w, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
	w_bytes(w, b, 2);
}

static void w_u32(wbuf *w, uint32_t v)
{
	uint8_t b[4];
	for (int i = 0; i < 4; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	w_bytes(w, b, 4);
}

static void w_u64(wbuf *w, uint64_t v)
{
	uint8_t b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	w_bytes(w, b, 8);
}

static void w_time(wbuf *w, const fs_time *t)
{
	w_u64(w, (uint64_t)t->sec);
	w_u32(w, t->nsec);
}

static void w_ref(wbuf *w, const fs_ref *r)
{
	w_bytes(w, r->home, KEYS_RING_LEN);
	w_bytes(w, r->id, KEYS_ID_LEN);
}

static int w_open(wbuf *w, size_t cap)
{
	w->p = malloc(cap);
	w->len = 0;
	w->cap = cap;
	return w->p ? 0 : MAGMA_ENOMEM;
}

static int w_close(wbuf *w, uint8_t **out, size_t *len)
{
	if (w->len > w->cap) {
		free(w->p);
		LOG_E("record overflow (%zu > %zu)", w->len, w->cap);
		return MAGMA_EIO;
	}
	*out = w->p;
	*len = w->len;
	return 0;
}

/* ---- a bounded read cursor ---- */

typedef struct rbuf {
	const uint8_t *p;
	size_t len, pos;
	int bad;
} rbuf;

static const uint8_t *r_take(rbuf *r, size_t n)
{
	if (r->bad || r->len - r->pos < n) {
		r->bad = 1;
		return NULL;
	}
	const uint8_t *p = r->p + r->pos;
	r->pos += n;
	return p;
}

static void r_bytes(rbuf *r, void *out, size_t n)
{
	const uint8_t *p = r_take(r, n);
	if (p)
		memcpy(out, p, n);
	else
		memset(out, 0, n);
}

static uint64_t r_uint(rbuf *r, size_t n)
{
	const uint8_t *p = r_take(r, n);
	uint64_t v = 0;
	if (!p)
		return 0;
	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static uint32_t r_u32(rbuf *r)
{
	return (uint32_t)r_uint(r, 4);
}
static uint64_t r_u64(rbuf *r)
{
	return r_uint(r, 8);
}

static void r_time(rbuf *r, fs_time *t)
{
	t->sec = (int64_t)r_u64(r);
	t->nsec = r_u32(r);
	if (t->nsec >= 1000000000u)
		r->bad = 1;
}

static void r_ref(rbuf *r, fs_ref *ref)
{
	r_bytes(r, ref->home, KEYS_RING_LEN);
	r_bytes(r, ref->id, KEYS_ID_LEN);
}

static int r_start(rbuf *r, const void *val, size_t len)
{
	r->p = val;
	r->len = val ? len : 0;
	r->pos = 0;
	r->bad = 0;
	return r_uint(r, 1) == FS_REC_FMT ? 0 : MAGMA_EIO;
}

static int r_finish(rbuf *r, const char *what)
{
	if (r->bad || r->pos != r->len) {
		LOG_E("corrupt %s record (%zu bytes)", what, r->len);
		return MAGMA_EIO;
	}
	return 0;
}

/* ---- flare record ---- */

#define REC_FIXED (1 + 5 * 4 + 2 * 8 + 2 * 4 + 3 * 12 + 36 + 1 + 8 + 2)

int fs_rec_encode(const fs_rec *r, uint8_t **out, size_t *len)
{
	wbuf w;
	if (r->target_len > FS_PATH_MAX)
		return MAGMA_ENAMETOOLONG;
	if (w_open(&w, REC_FIXED + r->target_len))
		return MAGMA_ENOMEM;
	w_u8(&w, FS_REC_FMT);
	w_u32(&w, r->type);
	w_u32(&w, r->mode);
	w_u32(&w, r->nlink);
	w_u32(&w, r->uid);
	w_u32(&w, r->gid);
	w_u64(&w, r->size);
	w_u64(&w, r->used);
	w_u32(&w, r->rdev_major);
	w_u32(&w, r->rdev_minor);
	w_time(&w, &r->atime);
	w_time(&w, &r->mtime);
	w_time(&w, &r->ctime);
	w_ref(&w, &r->parent);
	w_u8(&w, r->has_verf ? 1 : 0);
	w_bytes(&w, r->verf, 8);
	w_u16(&w, (uint16_t)r->target_len);
	w_bytes(&w, r->target, r->target_len);
	return w_close(&w, out, len);
}

int fs_rec_decode(const void *val, size_t len, fs_rec *r)
{
	rbuf b;
	memset(r, 0, sizeof(*r));
	if (r_start(&b, val, len)) {
		b.bad = 1;
		return r_finish(&b, "flare");
	}
	r->type = r_u32(&b);
	r->mode = r_u32(&b);
	r->nlink = r_u32(&b);
	r->uid = r_u32(&b);
	r->gid = r_u32(&b);
	r->size = r_u64(&b);
	r->used = r_u64(&b);
	r->rdev_major = r_u32(&b);
	r->rdev_minor = r_u32(&b);
	r_time(&b, &r->atime);
	r_time(&b, &r->mtime);
	r_time(&b, &r->ctime);
	r_ref(&b, &r->parent);
	r->has_verf = (int)r_uint(&b, 1);
	r_bytes(&b, r->verf, 8);
	r->target_len = (uint32_t)r_uint(&b, 2);
	if (r->target_len > FS_PATH_MAX || r->type < FS_REG ||
	    r->type > FS_FIFO || r->has_verf > 1 ||
	    r->size > FS_MAX_FILE_SIZE) {
		b.bad = 1;
		r->target_len = 0; /* never index past target[] below */
	} else {
		r_bytes(&b, r->target, r->target_len);
		if (memchr(r->target, 0, r->target_len))
			b.bad = 1; /* symlink targets never hold NUL */
	}
	r->target[r->target_len] = 0;
	return r_finish(&b, "flare");
}

/* ---- binding ---- */

int fs_bind_encode(const fs_bind *bd, uint8_t **out, size_t *len)
{
	wbuf w;
	if (w_open(&w, 1 + 4 + 36))
		return MAGMA_ENOMEM;
	w_u8(&w, FS_REC_FMT);
	w_u32(&w, bd->type);
	w_ref(&w, &bd->ref);
	return w_close(&w, out, len);
}

int fs_bind_decode(const void *val, size_t len, fs_bind *bd)
{
	rbuf b;
	memset(bd, 0, sizeof(*bd));
	if (r_start(&b, val, len) == 0) {
		bd->type = r_u32(&b);
		r_ref(&b, &bd->ref);
		if (bd->type < FS_REG || bd->type > FS_FIFO)
			b.bad = 1;
	} else {
		b.bad = 1;
	}
	return r_finish(&b, "binding");
}

/* ---- directory entry ---- */

int fs_ent_encode(const fs_ent *e, uint8_t **out, size_t *len)
{
	wbuf w;
	if (e->namelen == 0 || e->namelen > FS_NAME_MAX)
		return MAGMA_EINVAL;
	if (w_open(&w, 1 + 4 + 36 + 2 + e->namelen))
		return MAGMA_ENOMEM;
	w_u8(&w, FS_REC_FMT);
	w_u32(&w, e->type);
	w_ref(&w, &e->ref);
	w_u16(&w, (uint16_t)e->namelen);
	w_bytes(&w, e->name, e->namelen);
	return w_close(&w, out, len);
}

int fs_ent_decode(const void *sub, size_t sublen, const void *val, size_t len,
                  fs_ent *e)
{
	rbuf b;
	memset(e, 0, sizeof(*e));
	if (sublen != FS_SUB_ENTRY_LEN || ((const uint8_t *)sub)[0] != 'D') {
		LOG_E("corrupt entry sub key (%zu bytes)", sublen);
		return MAGMA_EIO;
	}
	memcpy(e->name_key, (const uint8_t *)sub + 1, KEYS_RING_LEN);
	if (r_start(&b, val, len) == 0) {
		e->type = r_u32(&b);
		r_ref(&b, &e->ref);
		e->namelen = (size_t)r_uint(&b, 2);
		if (e->namelen == 0 || e->namelen > FS_NAME_MAX ||
		    e->type < FS_REG || e->type > FS_FIFO)
			b.bad = 1;
		else
			r_bytes(&b, e->name, e->namelen);
		/* A name the namespace could never have written: '/', NUL,
		 * "." or "..". */
		if (!b.bad && fs_name_check(e->name, e->namelen) != 0)
			b.bad = 1;
	} else {
		b.bad = 1;
	}
	e->name[e->namelen <= FS_NAME_MAX ? e->namelen : 0] = 0;
	return r_finish(&b, "entry");
}

/* ---- sub keys ---- */

uint64_t fs_be64_get(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

void fs_be64_put(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

void fs_sub_flare(const uint8_t id[KEYS_ID_LEN], uint8_t out[FS_SUB_FLARE_LEN])
{
	out[0] = 'F';
	memcpy(out + 1, id, KEYS_ID_LEN);
}

void fs_sub_chunk(const uint8_t id[KEYS_ID_LEN], uint64_t idx,
                  uint8_t out[FS_SUB_CHUNK_LEN])
{
	out[0] = 'C';
	memcpy(out + 1, id, KEYS_ID_LEN);
	fs_be64_put(out + 1 + KEYS_ID_LEN, idx);
}

void fs_sub_entry(const uint8_t name_key[KEYS_RING_LEN],
                  uint8_t out[FS_SUB_ENTRY_LEN])
{
	out[0] = 'D';
	memcpy(out + 1, name_key, KEYS_RING_LEN);
}
