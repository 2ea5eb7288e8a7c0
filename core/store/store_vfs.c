#include "store/store_vfs.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

/*
 * SQLite writes each WAL frame as two writes at consecutive offsets: its 24-byte header, then
 * its page (walWriteOneFrame). On this project's measuring VM a system call costs about as
 * much as the copy of a page, so the two are joined: a WAL file's 24-byte write is held, and
 * written together with the write that continues it. Anything else done with the file first
 * writes what is held (a read, a sync, a size, a lock, a truncation, a close, a write
 * elsewhere), so no caller ever sees the file without it, and a sync covers it as before.
 * SQLite answers the header's write before it reaches the file; a failure to write it is
 * answered to the next call, which for a frame is the page's write of the same frame.
 */

#define FRAME_HEADER 24

typedef struct held_file {
    sqlite3_file base; /* pMethods: held_methods (first: SQLite's handle is this) */
    sqlite3_file *real;
    bool wal;
    bool held; /* header holds a frame header not yet written, at held_off */
    sqlite3_int64 held_off;
    unsigned char header[FRAME_HEADER];
    unsigned char *joined; /* header + the write after it */
    size_t joined_cap;
} held_file;

static sqlite3_vfs *real_vfs;
static sqlite3_vfs held_vfs;
static sqlite3_io_methods held_methods;
static atomic_uint_fast64_t frames_joined;

static int write_held(held_file *p)
{
    if (!p->held)
        return SQLITE_OK;
    p->held = false;
    return p->real->pMethods->xWrite(p->real, p->header, FRAME_HEADER, p->held_off);
}

static int held_write(sqlite3_file *f, const void *buf, int amt, sqlite3_int64 off)
{
    held_file *p = (held_file *)f;
    if (p->held && off == p->held_off + FRAME_HEADER && amt > 0) {
        size_t n = FRAME_HEADER + (size_t)amt;
        if (n > p->joined_cap) {
            unsigned char *b = realloc(p->joined, n);
            if (!b) {
                int rc = write_held(p); /* no room to join: two writes, as SQLite does */
                return rc != SQLITE_OK ? rc : p->real->pMethods->xWrite(p->real, buf, amt, off);
            }
            p->joined = b;
            p->joined_cap = n;
        }
        memcpy(p->joined, p->header, FRAME_HEADER);
        memcpy(p->joined + FRAME_HEADER, buf, (size_t)amt);
        p->held = false;
        atomic_fetch_add_explicit(&frames_joined, 1, memory_order_relaxed);
        return p->real->pMethods->xWrite(p->real, p->joined, (int)n, p->held_off);
    }
    int rc = write_held(p);
    if (rc != SQLITE_OK)
        return rc;
    if (p->wal && amt == FRAME_HEADER) {
        memcpy(p->header, buf, FRAME_HEADER);
        p->held_off = off;
        p->held = true;
        return SQLITE_OK;
    }
    return p->real->pMethods->xWrite(p->real, buf, amt, off);
}

static int held_close(sqlite3_file *f)
{
    held_file *p = (held_file *)f;
    int rc = write_held(p);
    int rc2 = p->real->pMethods->xClose(p->real);
    free(p->joined);
    p->joined = NULL;
    return rc != SQLITE_OK ? rc : rc2;
}

/* The rest: what is held is written first, then the default VFS does it. */
#define REAL(p) ((p)->real->pMethods)
#define HELD_FIRST(f)                                                                              \
    held_file *p = (held_file *)(f);                                                               \
    int held_rc = write_held(p);                                                                   \
    if (held_rc != SQLITE_OK)                                                                      \
    return held_rc

static int held_read(sqlite3_file *f, void *buf, int amt, sqlite3_int64 off)
{
    HELD_FIRST(f);
    return REAL(p)->xRead(p->real, buf, amt, off);
}

static int held_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    HELD_FIRST(f);
    return REAL(p)->xTruncate(p->real, size);
}

static int held_sync(sqlite3_file *f, int flags)
{
    HELD_FIRST(f);
    return REAL(p)->xSync(p->real, flags);
}

static int held_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
    HELD_FIRST(f);
    return REAL(p)->xFileSize(p->real, size);
}

static int held_lock(sqlite3_file *f, int level)
{
    HELD_FIRST(f);
    return REAL(p)->xLock(p->real, level);
}

static int held_unlock(sqlite3_file *f, int level)
{
    HELD_FIRST(f);
    return REAL(p)->xUnlock(p->real, level);
}

static int held_check_reserved(sqlite3_file *f, int *out)
{
    HELD_FIRST(f);
    return REAL(p)->xCheckReservedLock(p->real, out);
}

static int held_file_control(sqlite3_file *f, int op, void *arg)
{
    HELD_FIRST(f);
    return REAL(p)->xFileControl(p->real, op, arg);
}

static int held_sector_size(sqlite3_file *f)
{
    held_file *p = (held_file *)f;
    return REAL(p)->xSectorSize(p->real);
}

static int held_device_characteristics(sqlite3_file *f)
{
    held_file *p = (held_file *)f;
    return REAL(p)->xDeviceCharacteristics(p->real);
}

static int held_shm_map(sqlite3_file *f, int region, int size, int extend, void volatile **out)
{
    HELD_FIRST(f);
    return REAL(p)->xShmMap(p->real, region, size, extend, out);
}

static int held_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
    HELD_FIRST(f);
    return REAL(p)->xShmLock(p->real, offset, n, flags);
}

static void held_shm_barrier(sqlite3_file *f)
{
    held_file *p = (held_file *)f;
    REAL(p)->xShmBarrier(p->real);
}

static int held_shm_unmap(sqlite3_file *f, int delete_flag)
{
    HELD_FIRST(f);
    return REAL(p)->xShmUnmap(p->real, delete_flag);
}

static int held_fetch(sqlite3_file *f, sqlite3_int64 off, int amt, void **out)
{
    HELD_FIRST(f);
    return REAL(p)->xFetch(p->real, off, amt, out);
}

static int held_unfetch(sqlite3_file *f, sqlite3_int64 off, void *page)
{
    HELD_FIRST(f);
    return REAL(p)->xUnfetch(p->real, off, page);
}

static int held_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *f, int flags,
                     int *out_flags)
{
    (void)vfs;
    held_file *p = (held_file *)f;
    memset(p, 0, sizeof *p);
    p->real = (sqlite3_file *)(p + 1);
    p->wal = (flags & SQLITE_OPEN_WAL) != 0;
    int rc = real_vfs->xOpen(real_vfs, name, p->real, flags, out_flags);
    /* SQLite calls xClose on a file whose pMethods is set, even after a failed open. */
    p->base.pMethods = p->real->pMethods ? &held_methods : NULL;
    return rc;
}

/* The VFS's other methods are the default VFS's own. */
static int held_delete(sqlite3_vfs *v, const char *name, int sync_dir)
{
    (void)v;
    return real_vfs->xDelete(real_vfs, name, sync_dir);
}

static int held_access(sqlite3_vfs *v, const char *name, int flags, int *out)
{
    (void)v;
    return real_vfs->xAccess(real_vfs, name, flags, out);
}

static int held_full_pathname(sqlite3_vfs *v, const char *name, int n, char *out)
{
    (void)v;
    return real_vfs->xFullPathname(real_vfs, name, n, out);
}

static void *held_dl_open(sqlite3_vfs *v, const char *name)
{
    (void)v;
    return real_vfs->xDlOpen(real_vfs, name);
}

static void held_dl_error(sqlite3_vfs *v, int n, char *msg)
{
    (void)v;
    real_vfs->xDlError(real_vfs, n, msg);
}

static void (*held_dl_sym(sqlite3_vfs *v, void *h, const char *sym))(void)
{
    (void)v;
    return real_vfs->xDlSym(real_vfs, h, sym);
}

static void held_dl_close(sqlite3_vfs *v, void *h)
{
    (void)v;
    real_vfs->xDlClose(real_vfs, h);
}

static int held_randomness(sqlite3_vfs *v, int n, char *out)
{
    (void)v;
    return real_vfs->xRandomness(real_vfs, n, out);
}

static int held_sleep(sqlite3_vfs *v, int us)
{
    (void)v;
    return real_vfs->xSleep(real_vfs, us);
}

static int held_current_time(sqlite3_vfs *v, double *out)
{
    (void)v;
    return real_vfs->xCurrentTime(real_vfs, out);
}

static int held_last_error(sqlite3_vfs *v, int n, char *msg)
{
    (void)v;
    return real_vfs->xGetLastError ? real_vfs->xGetLastError(real_vfs, n, msg) : 0;
}

static int held_current_time64(sqlite3_vfs *v, sqlite3_int64 *out)
{
    (void)v;
    return real_vfs->xCurrentTimeInt64(real_vfs, out);
}

static pthread_once_t once = PTHREAD_ONCE_INIT;
static bool registered;

static void register_vfs(void)
{
    if (sqlite3_initialize() != SQLITE_OK || !(real_vfs = sqlite3_vfs_find(NULL)) ||
        real_vfs->iVersion < 2 || !real_vfs->xCurrentTimeInt64)
        return;
    held_methods = (sqlite3_io_methods){
        .iVersion = 3,
        .xClose = held_close,
        .xRead = held_read,
        .xWrite = held_write,
        .xTruncate = held_truncate,
        .xSync = held_sync,
        .xFileSize = held_file_size,
        .xLock = held_lock,
        .xUnlock = held_unlock,
        .xCheckReservedLock = held_check_reserved,
        .xFileControl = held_file_control,
        .xSectorSize = held_sector_size,
        .xDeviceCharacteristics = held_device_characteristics,
        .xShmMap = held_shm_map,
        .xShmLock = held_shm_lock,
        .xShmBarrier = held_shm_barrier,
        .xShmUnmap = held_shm_unmap,
        .xFetch = held_fetch,
        .xUnfetch = held_unfetch,
    };
    held_vfs = (sqlite3_vfs){
        .iVersion = 2,
        .szOsFile = (int)sizeof(held_file) + real_vfs->szOsFile,
        .mxPathname = real_vfs->mxPathname,
        .zName = STORE_VFS_NAME,
        .xOpen = held_open,
        .xDelete = held_delete,
        .xAccess = held_access,
        .xFullPathname = held_full_pathname,
        .xDlOpen = held_dl_open,
        .xDlError = held_dl_error,
        .xDlSym = held_dl_sym,
        .xDlClose = held_dl_close,
        .xRandomness = held_randomness,
        .xSleep = held_sleep,
        .xCurrentTime = held_current_time,
        .xGetLastError = held_last_error,
        .xCurrentTimeInt64 = held_current_time64,
    };
    registered = sqlite3_vfs_register(&held_vfs, 0) == SQLITE_OK;
}

const char *store_vfs_name(void)
{
    pthread_once(&once, register_vfs);
    return registered ? STORE_VFS_NAME : NULL;
}

uint64_t store_vfs_frames_joined(void)
{
    return atomic_load_explicit(&frames_joined, memory_order_relaxed);
}
