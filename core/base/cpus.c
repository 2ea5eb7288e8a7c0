#include "base/cpus.h"

#include <sched.h>
#include <unistd.h>

/* n clamped to 1..max (max 0 counts as 1: a pool of no threads is never what was meant). */
static unsigned clamp_count(long n, unsigned max)
{
    if (n < 1)
        n = 1;
    if (max < 1)
        max = 1;
    return (unsigned long)n > max ? max : (unsigned)n;
}

unsigned cpus_online(unsigned max)
{
    return clamp_count(sysconf(_SC_NPROCESSORS_ONLN), max);
}

unsigned cpus_usable(unsigned max)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) == 0 && CPU_COUNT(&allowed) > 0 &&
        (n < 1 || CPU_COUNT(&allowed) < n))
        n = CPU_COUNT(&allowed);
    return clamp_count(n, max);
}
