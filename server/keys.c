/* keys.c - every secret Magma uses, derived from the network keyphrase
 * with GnuTLS's KDFs, and the keyed hashes that place flares on the ring.
 * The derivation chain is documented in keys.h; changing any label,
 * salt or iteration count changes every key of every network. */
#include "keys.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "merr.h"
#include "mlog.h"

#define KEYS_SALT_PREFIX "magma/v1/" /* || network name: content keys */
/* The join token's salt: the '/' at its end is never in a network name
 * (conf_valid_network), so no network's salt equals it. */
#define KEYS_JOIN_SALT "magma/v1/join/"
#define KEYS_PHRASE_MAX 4096
/* Names longer than this are hashed from a heap copy (they are invalid
 * for fs anyway, but the hash must still be defined). */
#define KEYS_STACK_NAME 1024

/* HKDF-expand (RFC 5869) of KEYS_LEN bytes from prk under label. */
static int keys_expand(const uint8_t prk[KEYS_LEN], const char *label,
                       uint8_t out[KEYS_LEN])
{
	gnutls_datum_t key = { (unsigned char *)prk, KEYS_LEN };
	gnutls_datum_t info = { (unsigned char *)label,
		                (unsigned int)strlen(label) };
	int rc = gnutls_hkdf_expand(GNUTLS_MAC_SHA256, &key, &info, out,
	                            KEYS_LEN);
	if (rc < 0) {
		LOG_E("HKDF-expand(%s) failed: %s", label, gnutls_strerror(rc));
		return MAGMA_ECRYPTO;
	}
	return 0;
}

/* PBKDF2-SHA256 of the keyphrase under salt, KEYS_LEN bytes. */
static int keys_stretch(const void *phrase, size_t len, const void *salt,
                        size_t saltlen, uint8_t out[KEYS_LEN])
{
	gnutls_datum_t pw = { (unsigned char *)phrase, (unsigned int)len };
	gnutls_datum_t sd = { (unsigned char *)salt, (unsigned int)saltlen };
	int rc = gnutls_pbkdf2(GNUTLS_MAC_SHA256, &pw, &sd, KEYS_PBKDF2_ITER,
	                       out, KEYS_LEN);

	if (rc < 0) {
		LOG_E("PBKDF2 failed: %s", gnutls_strerror(rc));
		return MAGMA_ECRYPTO;
	}
	return 0;
}

int keys_derive_join(const void *phrase, size_t len, uint8_t out[KEYS_LEN])
{
	uint8_t master[KEYS_LEN], token[KEYS_LEN];
	int rc;

	if (phrase == NULL || len == 0)
		return MAGMA_EINVAL;
	/* Its own salt, without the network name: a joiner holds only the
	 * keyphrase and learns the name from a member, inside TLS. */
	rc = keys_stretch(phrase, len, KEYS_JOIN_SALT, strlen(KEYS_JOIN_SALT),
	                  master);
	if (rc == 0)
		rc = keys_expand(master, "magma join token", token);
	if (rc == 0)
		memcpy(out, token, KEYS_LEN);
	gnutls_memset(master, 0, sizeof(master));
	gnutls_memset(token, 0, sizeof(token));
	return rc;
}

int keys_derive(const void *phrase, size_t len, const char *network,
                magma_keys *out)
{
	uint8_t master[KEYS_LEN], content[KEYS_LEN];
	magma_keys k;
	char *salt = NULL;
	size_t netlen, saltlen;
	int rc;

	memset(&k, 0, sizeof(k));
	if (phrase == NULL || len == 0 || network == NULL || network[0] == '\0')
		return MAGMA_EINVAL;
	netlen = strlen(network);
	saltlen = strlen(KEYS_SALT_PREFIX) + netlen;
	salt = malloc(saltlen);
	if (salt == NULL)
		return MAGMA_ENOMEM;
	memcpy(salt, KEYS_SALT_PREFIX, strlen(KEYS_SALT_PREFIX));
	memcpy(salt + strlen(KEYS_SALT_PREFIX), network, netlen);

	/* The join token and the content secret come from different
	 * PBKDF2 runs: neither can be computed from the other, so a
	 * volunteer holding the token learns nothing about names or
	 * contents. */
	if ((rc = keys_derive_join(phrase, len, k.join_token)) < 0 ||
	    (rc = keys_stretch(phrase, len, salt, saltlen, master)) < 0 ||
	    (rc = keys_expand(master, "magma content", content)) < 0 ||
	    (rc = keys_expand(content, "magma ring", k.ring)) < 0 ||
	    (rc = keys_expand(content, "magma aead", k.aead)) < 0 ||
	    (rc = keys_expand(content, "magma handle", k.handle)) < 0)
		goto out;
	k.have_content = 1;
	*out = k;
	rc = 0;
out:
	gnutls_memset(master, 0, sizeof(master));
	gnutls_memset(content, 0, sizeof(content));
	gnutls_memset(&k, 0, sizeof(k));
	free(salt);
	return rc;
}

int keys_read_phrase_file(const char *path, char **phrase, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	struct stat st;
	int fd, rc;

	/* O_NONBLOCK: a FIFO in its place must not hang start-up. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		int e = errno;
		LOG_E("cannot open keyphrase file %s: %s", path, strerror(e));
		return e == ENOENT ? MAGMA_ENOENT : merr_from_errno(e);
	}
	if (fstat(fd, &st) < 0) {
		int e = errno;
		LOG_E("cannot stat keyphrase file %s: %s", path, strerror(e));
		rc = merr_from_errno(e);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		LOG_E("keyphrase file %s is not a regular file", path);
		rc = MAGMA_ECONFIG;
		goto out;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		LOG_E("keyphrase file %s is accessible by group or others "
		      "(mode %04o): run chmod 600 %s",
		      path, (unsigned)(st.st_mode & 07777), path);
		rc = MAGMA_ECONFIG;
		goto out;
	}
	/* One byte more than allowed, to see a too-long file without
	 * trusting st_size. */
	buf = malloc(KEYS_PHRASE_MAX + 2);
	if (buf == NULL) {
		rc = MAGMA_ENOMEM;
		goto out;
	}
	while (n < KEYS_PHRASE_MAX + 1) {
		ssize_t r = read(fd, buf + n, KEYS_PHRASE_MAX + 1 - n);
		if (r < 0) {
			int e = errno;
			if (e == EINTR)
				continue;
			LOG_E("cannot read keyphrase file %s: %s", path,
			      strerror(e));
			rc = merr_from_errno(e);
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > KEYS_PHRASE_MAX) {
		LOG_E("keyphrase file %s is larger than %d bytes", path,
		      KEYS_PHRASE_MAX);
		rc = MAGMA_ECONFIG;
		goto out;
	}
	if (n > 0 && buf[n - 1] == '\n') {
		n--;
		if (n > 0 && buf[n - 1] == '\r')
			n--;
	}
	if (n == 0) {
		LOG_E("keyphrase file %s is empty", path);
		rc = MAGMA_ECONFIG;
		goto out;
	}
	buf[n] = '\0';
	*phrase = buf;
	*len = n;
	buf = NULL;
	rc = 0;
out:
	if (buf != NULL) {
		gnutls_memset(buf, 0, KEYS_PHRASE_MAX + 2);
		free(buf);
	}
	close(fd);
	return rc;
}

/* Each thread keeps an HMAC-SHA1 state keyed with the last K_ring it
 * used: gnutls_hmac_output() returns the MAC and resets the state to
 * "keyed, nothing hashed", so a LOOKUP's hash no longer pays the key
 * schedule (measured: 228 ns per gnutls_hmac_fast, 122 ns keyed).
 * Per thread, so no locking; freed when the thread exits. */
typedef struct keys_mac_cache {
	uint8_t key[KEYS_LEN];
	gnutls_hmac_hd_t h; /* keyed with key, or NULL */
} keys_mac_cache;

static pthread_key_t keys_tls;
static pthread_once_t keys_tls_once = PTHREAD_ONCE_INIT;
static int keys_tls_ok;

static void keys_cache_free(void *p)
{
	keys_mac_cache *c = p;

	if (c->h != NULL)
		gnutls_hmac_deinit(c->h, NULL);
	gnutls_memset(c, 0, sizeof(*c));
	free(c);
}

static void keys_tls_init(void)
{
	keys_tls_ok = pthread_key_create(&keys_tls, keys_cache_free) == 0;
}

/* This thread's state keyed with k->ring, or NULL (then hash the slow
 * way). */
static gnutls_hmac_hd_t keys_ring_state(const magma_keys *k)
{
	keys_mac_cache *c;

	(void)pthread_once(&keys_tls_once, keys_tls_init);
	if (!keys_tls_ok)
		return NULL;
	c = pthread_getspecific(keys_tls);
	if (c == NULL) {
		c = calloc(1, sizeof(*c));
		if (c == NULL)
			return NULL;
		if (pthread_setspecific(keys_tls, c) != 0) {
			free(c);
			return NULL;
		}
	}
	if (c->h != NULL && memcmp(c->key, k->ring, KEYS_LEN) == 0)
		return c->h;
	if (c->h != NULL) {
		gnutls_hmac_deinit(c->h, NULL);
		c->h = NULL;
	}
	if (gnutls_hmac_init(&c->h, GNUTLS_MAC_SHA1, k->ring, KEYS_LEN) < 0) {
		c->h = NULL;
		return NULL;
	}
	memcpy(c->key, k->ring, KEYS_LEN);
	return c->h;
}

/* HMAC-SHA1 under K_ring.  Cannot fail for SHA1 outside FIPS mode; if
 * it ever does, the key is all zeros and the failure is logged rather
 * than returning uninitialised memory. */
static void keys_ring_hmac(const magma_keys *k, const void *msg, size_t len,
                           uint8_t out[KEYS_RING_LEN])
{
	gnutls_hmac_hd_t h = keys_ring_state(k);
	int rc;

	if (h != NULL && gnutls_hmac(h, msg, len) == 0) {
		gnutls_hmac_output(h, out);
		return;
	}
	if (h != NULL) { /* a half-fed state: drop it, next call rekeys */
		keys_mac_cache *c = pthread_getspecific(keys_tls);

		gnutls_hmac_deinit(c->h, NULL);
		c->h = NULL;
	}
	rc = gnutls_hmac_fast(GNUTLS_MAC_SHA1, k->ring, KEYS_LEN, msg, len,
	                      out);
	if (rc < 0) {
		LOG_E("HMAC-SHA1 failed: %s", gnutls_strerror(rc));
		memset(out, 0, KEYS_RING_LEN);
	}
}

void keys_ring_root(const magma_keys *k, uint8_t out[KEYS_RING_LEN])
{
	keys_ring_hmac(k, "/", 1, out);
}

/* Hash prefix || tail without a heap allocation in the common case. */
static void keys_ring_cat(const magma_keys *k, const void *prefix, size_t plen,
                          const void *tail, size_t tlen,
                          uint8_t out[KEYS_RING_LEN])
{
	uint8_t stackbuf[KEYS_ID_LEN + 1 + KEYS_STACK_NAME];
	uint8_t *msg = stackbuf;

	if (plen + tlen > sizeof(stackbuf)) {
		msg = malloc(plen + tlen);
		if (msg == NULL) {
			LOG_E("out of memory hashing a %zu-byte name", tlen);
			memset(out, 0, KEYS_RING_LEN);
			return;
		}
	}
	memcpy(msg, prefix, plen);
	if (tlen > 0)
		memcpy(msg + plen, tail, tlen);
	keys_ring_hmac(k, msg, plen + tlen, out);
	if (msg != stackbuf)
		free(msg);
}

void keys_ring_child(const magma_keys *k, const uint8_t parent[KEYS_ID_LEN],
                     const char *name, size_t namelen,
                     uint8_t out[KEYS_RING_LEN])
{
	uint8_t prefix[KEYS_ID_LEN + 1];

	memcpy(prefix, parent, KEYS_ID_LEN);
	prefix[KEYS_ID_LEN] = '/';
	keys_ring_cat(k, prefix, sizeof(prefix), name, namelen, out);
}

void keys_ring_derived(const magma_keys *k, const char *purpose,
                       const uint8_t id[KEYS_ID_LEN],
                       uint8_t out[KEYS_RING_LEN])
{
	/* purpose || 0x00 || id: the NUL keeps purposes prefix-free. */
	size_t plen = strlen(purpose);
	uint8_t stackbuf[64 + 1];
	uint8_t *prefix = stackbuf;

	if (plen + 1 > sizeof(stackbuf)) {
		prefix = malloc(plen + 1);
		if (prefix == NULL) {
			LOG_E("out of memory");
			memset(out, 0, KEYS_RING_LEN);
			return;
		}
	}
	memcpy(prefix, purpose, plen);
	prefix[plen] = 0;
	keys_ring_cat(k, prefix, plen + 1, id, KEYS_ID_LEN, out);
	if (prefix != stackbuf)
		free(prefix);
}

int keys_random(void *buf, size_t len)
{
	int rc = gnutls_rnd(GNUTLS_RND_RANDOM, buf, len);
	if (rc < 0) {
		LOG_E("random generator failed: %s", gnutls_strerror(rc));
		return MAGMA_ECRYPTO;
	}
	return 0;
}

void keys_hex(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * len] = '\0';
}
