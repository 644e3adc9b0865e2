/* merr.h - Magma's one error convention.
 *
 * Every function that can fail returns 0 on success or a negative
 * MAGMA_E* code from this enum.  errno values are translated once, at the
 * place they are read (merr_from_errno), never read again later.
 * The mapping to nfsstat3 lives in server/nfs3_err.c, nowhere else. */
#ifndef MAGMA_MERR_H
#define MAGMA_MERR_H

enum magma_err {
	MAGMA_OK = 0,
	MAGMA_EPERM = -1,         /* not owner / operation not permitted */
	MAGMA_ENOENT = -2,        /* no such flare or entry */
	MAGMA_EIO = -3,           /* I/O error, corrupt record */
	MAGMA_EACCES = -4,        /* permission denied */
	MAGMA_EEXIST = -5,        /* entry exists */
	MAGMA_EXDEV = -6,         /* cross-export link or rename */
	MAGMA_ENOTDIR = -7,       /* not a directory */
	MAGMA_EISDIR = -8,        /* is a directory */
	MAGMA_EINVAL = -9,        /* invalid argument */
	MAGMA_EFBIG = -10,        /* file too large */
	MAGMA_ENOSPC = -11,       /* store or disk full */
	MAGMA_EROFS = -12,        /* read-only export */
	MAGMA_EMLINK = -13,       /* too many links */
	MAGMA_ENAMETOOLONG = -14, /* name over 255 bytes */
	MAGMA_ENOTEMPTY = -15,    /* directory not empty */
	MAGMA_EDQUOT = -16,       /* quota exceeded */
	MAGMA_ESTALE = -17,       /* handle names a removed flare */
	MAGMA_EBADHANDLE =
	        -18,          /* handle forged, corrupt or of another network */
	MAGMA_ENOTSYNC = -19, /* guarded SETATTR: ctime did not match */
	MAGMA_EBADCOOKIE = -20, /* READDIR cookie or verifier no longer valid */
	MAGMA_ENOTSUPP = -21,   /* operation not supported on this object */
	MAGMA_ETOOSMALL = -22,  /* buffer or count too small for one entry */
	MAGMA_EBADTYPE = -23,   /* type not supported (MKNOD) */
	MAGMA_ENOMEM = -24,     /* allocation failed */
	MAGMA_ECONFLICT = -25,  /* compare-and-swap lost: version changed */
	MAGMA_EUNAVAIL = -26,   /* resource unavailable: no owner answers */
	MAGMA_ECONFIG = -27,    /* bad or missing configuration */
	MAGMA_EADDRINUSE = -28, /* listen address taken */
	MAGMA_EGARBAGE = -29,   /* undecodable input */
	MAGMA_EPROTO = -30,     /* protocol violation by a peer */
	MAGMA_ECRYPTO = -31,    /* key derivation or MAC failure */
	MAGMA_ESYS = -32,       /* other system error (see log) */
	MAGMA_ELOOP = -33,      /* too many levels of forwarding */
	MAGMA_EJUKEBOX = -34,   /* try again later */
	MAGMA_ERANGE = -35,     /* value out of range */
	MAGMA_EREMOTE = -36,    /* not this node's copy to serve: ask others */
	MAGMA_E_LAST = -37
};

/* Human-readable text for a MAGMA_E* code; never NULL, static storage. */
const char *magma_strerror(int err);

/* Translate an errno value (as a value, e.g. saved right after a call)
 * into a MAGMA_E* code.  0 maps to MAGMA_OK. */
int merr_from_errno(int errnum);

#endif
