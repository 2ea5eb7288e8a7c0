#include "base/cpus.h"

#include <sched.h>
#include <unistd.h>

unsigned cpus_usable(unsigned max)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) == 0 && CPU_COUNT(&allowed) > 0 &&
        (n < 1 || CPU_COUNT(&allowed) < n))
        n = CPU_COUNT(&allowed);
    if (n < 1)
        n = 1;
    if (max < 1)
        max = 1;
    return (unsigned long)n > max ? max : (unsigned)n;
}
