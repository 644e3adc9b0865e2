/* merr.c - text and errno translation for MAGMA_E* codes. */
#include "merr.h"

#include <errno.h>
#include <stddef.h>

static const char *const merr_text[] = {
	[0] = "success",
	[-MAGMA_EPERM] = "operation not permitted",
	[-MAGMA_ENOENT] = "no such file or directory",
	[-MAGMA_EIO] = "input/output error",
	[-MAGMA_EACCES] = "permission denied",
	[-MAGMA_EEXIST] = "file exists",
	[-MAGMA_EXDEV] = "cross-device link",
	[-MAGMA_ENOTDIR] = "not a directory",
	[-MAGMA_EISDIR] = "is a directory",
	[-MAGMA_EINVAL] = "invalid argument",
	[-MAGMA_EFBIG] = "file too large",
	[-MAGMA_ENOSPC] = "no space left on device",
	[-MAGMA_EROFS] = "read-only file system",
	[-MAGMA_EMLINK] = "too many links",
	[-MAGMA_ENAMETOOLONG] = "file name too long",
	[-MAGMA_ENOTEMPTY] = "directory not empty",
	[-MAGMA_EDQUOT] = "disk quota exceeded",
	[-MAGMA_ESTALE] = "stale file handle",
	[-MAGMA_EBADHANDLE] = "bad file handle",
	[-MAGMA_ENOTSYNC] = "guard ctime does not match",
	[-MAGMA_EBADCOOKIE] = "bad readdir cookie",
	[-MAGMA_ENOTSUPP] = "operation not supported",
	[-MAGMA_ETOOSMALL] = "buffer too small",
	[-MAGMA_EBADTYPE] = "unsupported object type",
	[-MAGMA_ENOMEM] = "out of memory",
	[-MAGMA_ECONFLICT] = "version conflict",
	[-MAGMA_EUNAVAIL] = "resource unavailable",
	[-MAGMA_ECONFIG] = "bad configuration",
	[-MAGMA_EADDRINUSE] = "address already in use",
	[-MAGMA_EGARBAGE] = "malformed input",
	[-MAGMA_EPROTO] = "protocol error",
	[-MAGMA_ECRYPTO] = "cryptographic failure",
	[-MAGMA_ESYS] = "system error",
	[-MAGMA_ELOOP] = "too many levels of forwarding",
	[-MAGMA_EJUKEBOX] = "try again later",
	[-MAGMA_ERANGE] = "value out of range",
	[-MAGMA_EREMOTE] = "not held by this node",
};

const char *magma_strerror(int err)
{
	if (err > 0 || err <= MAGMA_E_LAST || merr_text[-err] == NULL)
		return "unknown error";
	return merr_text[-err];
}

int merr_from_errno(int errnum)
{
	switch (errnum) {
	case 0: return MAGMA_OK;
	case EPERM: return MAGMA_EPERM;
	case ENOENT: return MAGMA_ENOENT;
	case EIO: return MAGMA_EIO;
	case EACCES: return MAGMA_EACCES;
	case EEXIST: return MAGMA_EEXIST;
	case EXDEV: return MAGMA_EXDEV;
	case ENOTDIR: return MAGMA_ENOTDIR;
	case EISDIR: return MAGMA_EISDIR;
	case EINVAL: return MAGMA_EINVAL;
	case EFBIG: return MAGMA_EFBIG;
	case ENOSPC: return MAGMA_ENOSPC;
	case EROFS: return MAGMA_EROFS;
	case EMLINK: return MAGMA_EMLINK;
	case ENAMETOOLONG: return MAGMA_ENAMETOOLONG;
	case ENOTEMPTY: return MAGMA_ENOTEMPTY;
	case EDQUOT: return MAGMA_EDQUOT;
	case ESTALE: return MAGMA_ESTALE;
	case ENOMEM: return MAGMA_ENOMEM;
	case EADDRINUSE: return MAGMA_EADDRINUSE;
	case ERANGE: return MAGMA_ERANGE;
	case ELOOP: return MAGMA_ELOOP;
	case EAGAIN: return MAGMA_EJUKEBOX;
	default: return MAGMA_ESYS;
	}
}
