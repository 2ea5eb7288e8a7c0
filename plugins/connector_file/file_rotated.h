/*
 * file_rotated.h - finding the file a checkpoint was taken in after it was rotated away while
 * the daemon was down: a sibling of the followed path (same directory, name starting with the
 * path's name: events.ndjson.1, events.ndjson-20261201) that is the checkpoint's inode.
 * Owns nothing. Calls libc (opendir, fstatat). Used by connector_file.c on the first open.
 */
#ifndef FILE_ROTATED_H
#define FILE_ROTATED_H

#include <stddef.h>
#include <stdint.h>

#define FILE_ROTATED_MAX_SCAN 4096 /* directory entries looked at, at most */

/* The path of the sibling of `path` whose inode is `ino`, into out. 0 found, -1 not. */
int file_rotated_find(const char *path, uint64_t ino, char *out, size_t outlen);

#endif
