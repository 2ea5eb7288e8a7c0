/*
 * privdrop.c - dropping root for `user = NAME` (the steps and checks are in privdrop.h).
 * Owns nothing. Calls libc. Called by runtime.c.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "daemon/privdrop.h"

#include <errno.h>
#include <ftw.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

/* nftw's callback has no context argument: the ids of the one walk running. */
static uid_t walk_uid;
static gid_t walk_gid;
static int walk_errno;

static int hand_over(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    if (lchown(path, walk_uid, walk_gid) != 0) {
        walk_errno = errno;
        return 1;
    }
    return 0;
}

/* state_dir and everything under it (links themselves, never what they point to). */
static sf_status hand_over_state(const char *dir, uid_t uid, gid_t gid, char *err, size_t errlen)
{
    walk_uid = uid;
    walk_gid = gid;
    walk_errno = 0;
    if (nftw(dir, hand_over, 16, FTW_PHYS | FTW_MOUNT) != 0) {
        snprintf(err, errlen, "cannot hand %s to the user: %s", dir,
                 strerror(walk_errno ? walk_errno : errno));
        return SF_EIO;
    }
    return SF_OK;
}

/* The drop took: every id is the user's, and root cannot be had back. */
static sf_status verify(uid_t uid, gid_t gid, char *err, size_t errlen)
{
    uid_t ru, eu, su;
    gid_t rg, eg, sg;
    if (getresuid(&ru, &eu, &su) != 0 || getresgid(&rg, &eg, &sg) != 0 || ru != uid || eu != uid ||
        su != uid || rg != gid || eg != gid || sg != gid) {
        snprintf(err, errlen, "the user and group ids did not all change");
        return SF_EFATAL;
    }
    if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
        snprintf(err, errlen, "root could be regained after dropping privileges");
        return SF_EFATAL;
    }
    return SF_OK;
}

sf_status privdrop_to(const char *user, const char *state_dir, char *err, size_t errlen)
{
    struct passwd pw, *found = NULL;
    char buf[4096];
    int e = getpwnam_r(user, &pw, buf, sizeof buf, &found);
    if (e != 0 || !found) {
        snprintf(err, errlen, "user = %s: no such user%s%s", user, e ? ": " : "",
                 e ? strerror(e) : "");
        return SF_EINVAL;
    }
    if (geteuid() != 0) {
        if (geteuid() == pw.pw_uid && getuid() == pw.pw_uid)
            return SF_OK; /* started as the user already */
        snprintf(err, errlen, "user = %s needs sigflow to start as root (it runs as uid %u)", user,
                 (unsigned)geteuid());
        return SF_EINVAL;
    }
    sf_status st = hand_over_state(state_dir, pw.pw_uid, pw.pw_gid, err, errlen);
    if (st != SF_OK)
        return st;
    /* Groups first: once the user id is not root, they cannot change any more. */
    if (initgroups(pw.pw_name, pw.pw_gid) != 0) {
        snprintf(err, errlen, "initgroups(%s): %s", user, strerror(errno));
        return SF_EFATAL;
    }
    if (setresgid(pw.pw_gid, pw.pw_gid, pw.pw_gid) != 0) {
        snprintf(err, errlen, "setresgid(%u): %s", (unsigned)pw.pw_gid, strerror(errno));
        return SF_EFATAL;
    }
    if (setresuid(pw.pw_uid, pw.pw_uid, pw.pw_uid) != 0) {
        snprintf(err, errlen, "setresuid(%u): %s", (unsigned)pw.pw_uid, strerror(errno));
        return SF_EFATAL;
    }
    return verify(pw.pw_uid, pw.pw_gid, err, errlen);
}
