/*
 * cpus.h - how many CPUs this process may run on: the CPUs of its affinity mask (taskset,
 * systemd's CPUAffinity=, a container's cpuset), else the online ones. Sizes the thread
 * pools that want one thread a CPU: the ingest event loops and the replay parsers; the
 * online CPUs size the scoring shards' default. Pure queries, no state.
 */
#ifndef SIGFLOW_CPUS_H
#define SIGFLOW_CPUS_H

/* The CPUs the calling thread may run on, clamped to 1..max. */
unsigned cpus_usable(unsigned max);
/* The CPUs online, whatever the affinity mask, clamped to 1..max. */
unsigned cpus_online(unsigned max);

#endif
