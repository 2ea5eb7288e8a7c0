#include "base/array.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

bool array_grow(void *arrp, size_t n, size_t *cap, size_t elem, size_t first)
{
    if (n < *cap)
        return true;
    size_t ncap = *cap ? *cap * 2 : first;
    if (ncap <= *cap || ncap > SIZE_MAX / elem)
        return false;
    void *arr;
    memcpy(&arr, arrp, sizeof arr); /* arrp is a T **: read and written as bytes */
    void *p = realloc(arr, ncap * elem);
    if (!p)
        return false;
    memcpy(arrp, &p, sizeof p);
    *cap = ncap;
    return true;
}
