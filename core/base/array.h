/*
 * array.h - growing a malloc'd array by doubling, the one way every part of the core does it.
 * Owns nothing (the caller owns the array). Calls the allocator only. Used by config,
 * replay (labels, input chunks, backtest results) and score (learning image).
 */
#ifndef SIGFLOW_ARRAY_H
#define SIGFLOW_ARRAY_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Room for one more element in the array *arrp points to (a `T **`: n in use of *cap, each
 * elem bytes): when full, the capacity doubles (from first when it was 0) and *arrp and *cap
 * are updated. The new room is not cleared. false when memory ran out or the size would
 * overflow; the array is untouched then.
 */
bool array_grow(void *arrp, size_t n, size_t *cap, size_t elem, size_t first);

#endif
