/* fs_perm.c - permission rules: POSIX mode bits against an AUTH_SYS
 * credential, as knfsd over a Linux file system applies them (root
 * bypass, sticky directories, owner override for data ops, SETATTR
 * ownership rules). */
#include "config.h"

#include <string.h>

#include "fs_internal.h"
#include "merr.h"

#define M_ISUID 04000
#define M_ISGID 02000
#define M_ISVTX 01000
#define M_IXUGO 00111
#define M_IXGRP 00010

int fs_in_group(const fs_cred *c, uint32_t gid)
{
	if (c->gid == gid)
		return 1;
	for (uint32_t i = 0; i < c->ngids && i < FS_NGROUPS; i++)
		if (c->gids[i] == gid)
			return 1;
	return 0;
}

/* The rwx bits that apply to c: owner, else group, else other. */
static int fs_class_bits(const fs_cred *c, const fs_rec *r)
{
	if (c->uid == r->uid)
		return (int)(r->mode >> 6) & 7;
	if (fs_in_group(c, r->gid))
		return (int)(r->mode >> 3) & 7;
	return (int)r->mode & 7;
}

int fs_perm(const fs_cred *c, const fs_rec *r, int may)
{
	if (c->uid == 0) {
		/* root: read/write always; execute if a dir or any x bit */
		if ((may & FS_MAY_EXEC) && r->type != FS_DIR &&
		    !(r->mode & M_IXUGO))
			return MAGMA_EACCES;
		return 0;
	}
	return (fs_class_bits(c, r) & may) == may ? 0 : MAGMA_EACCES;
}

int fs_perm_data(const fs_cred *c, const fs_rec *r, int may)
{
	if (c->uid == r->uid || fs_perm(c, r, may) == 0)
		return 0;
	/* reading a file one may only execute (the client loads it) */
	if (may == FS_MAY_READ && fs_perm(c, r, FS_MAY_EXEC) == 0)
		return 0;
	return MAGMA_EACCES;
}

int fs_perm_sticky(const fs_cred *c, const fs_rec *dir, const fs_rec *victim)
{
	if (!(dir->mode & M_ISVTX) || c->uid == 0 || c->uid == dir->uid ||
	    c->uid == victim->uid)
		return 0;
	return MAGMA_EPERM;
}

uint32_t fs_perm_access(const fs_cred *c, const fs_rec *r, uint32_t want)
{
	uint32_t g = 0;
	int rd = fs_perm(c, r, FS_MAY_READ) == 0;
	int wr = fs_perm(c, r, FS_MAY_WRITE) == 0;
	int ex = fs_perm(c, r, FS_MAY_EXEC) == 0;

	if (rd)
		g |= FS_ACCESS_READ;
	if (r->type == FS_DIR) {
		if (ex)
			g |= FS_ACCESS_LOOKUP;
		if (ex && wr)
			g |= FS_ACCESS_MODIFY | FS_ACCESS_EXTEND |
			     FS_ACCESS_DELETE;
	} else {
		if (wr)
			g |= FS_ACCESS_MODIFY | FS_ACCESS_EXTEND;
		if (ex)
			g |= FS_ACCESS_EXECUTE;
	}
	return g & want;
}

void fs_perm_kill_suid(const fs_cred *c, fs_rec *r)
{
	if (c->uid == 0 || r->type != FS_REG)
		return;
	r->mode &= ~(uint32_t)M_ISUID;
	if (r->mode & M_IXGRP)
		r->mode &= ~(uint32_t)M_ISGID;
}

/* chown/chgrp/chmod checks against the record as it is (Linux
 * setattr_prepare: chown_ok, chgrp_ok, owner for chmod). */
static int fs_perm_owner(const fs_cred *c, const fs_rec *r, const fs_sattr *sa)
{
	if (c->uid == 0)
		return 0;
	if (sa->set_uid && sa->uid != r->uid)
		return MAGMA_EPERM;
	if (sa->set_gid && sa->gid != r->gid &&
	    (c->uid != r->uid || !fs_in_group(c, sa->gid)))
		return MAGMA_EPERM;
	if (sa->set_mode && c->uid != r->uid)
		return MAGMA_EPERM;
	return 0;
}

/* Apply owner, group and mode once allowed. */
static void fs_perm_apply(const fs_cred *c, fs_rec *r, const fs_sattr *sa)
{
	uint32_t gid = sa->set_gid ? sa->gid : r->gid;
	uint32_t mode = r->mode & 07777;

	if (sa->set_mode) {
		mode = sa->mode & 07777;
		if (c->uid != 0 && !fs_in_group(c, gid))
			mode &= ~(uint32_t)M_ISGID;
	}
	/* knfsd: a chown of a non-directory drops setuid/setgid */
	if ((sa->set_uid || sa->set_gid) && r->type != FS_DIR) {
		mode &= ~(uint32_t)M_ISUID;
		if (mode & M_IXGRP)
			mode &= ~(uint32_t)M_ISGID;
	}
	if (sa->set_uid)
		r->uid = sa->uid;
	r->gid = gid;
	r->mode = mode;
}

static int fs_perm_time(const fs_cred *c, const fs_rec *r, int how)
{
	if (how == FS_TIME_DONT || c->uid == 0 || c->uid == r->uid)
		return 0;
	if (how == FS_TIME_CLIENT)
		return MAGMA_EPERM;
	/* "now" needs write permission (utimes(NULL)) */
	return fs_perm(c, r, FS_MAY_WRITE);
}

static int fs_time_set(fs_time *t, int how, const fs_time *given,
                       const fs_time *now)
{
	if (how == FS_TIME_SERVER)
		*t = *now;
	else if (how == FS_TIME_CLIENT) {
		if (given->nsec >= 1000000000u)
			return MAGMA_EINVAL;
		*t = *given;
	} else if (how != FS_TIME_DONT)
		return MAGMA_EINVAL;
	return 0;
}

int fs_perm_setattr(const fs_cred *c, fs_rec *r, const fs_sattr *sa,
                    const fs_time *now)
{
	int rc;

	if ((rc = fs_perm_time(c, r, sa->set_atime)) ||
	    (rc = fs_perm_time(c, r, sa->set_mtime)))
		return rc;
	if ((rc = fs_perm_owner(c, r, sa)))
		return rc;
	if ((sa->set_atime == FS_TIME_CLIENT &&
	     sa->atime.nsec >= 1000000000u) ||
	    (sa->set_mtime == FS_TIME_CLIENT && sa->mtime.nsec >= 1000000000u))
		return MAGMA_EINVAL;
	fs_perm_apply(c, r, sa);
	if ((rc = fs_time_set(&r->atime, sa->set_atime, &sa->atime, now)) ||
	    (rc = fs_time_set(&r->mtime, sa->set_mtime, &sa->mtime, now)))
		return rc;
	return 0;
}
