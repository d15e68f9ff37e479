/*
 * fs_pool.h - a fixed team of threads that run one function together.
 *
 * fs_pool_run(p, fn, arg) runs fn(arg, tid, nthreads) on every thread of
 * the team, the caller being tid 0, and returns when all have finished.
 * Inside fn, fs_pool_barrier(p) holds each thread until all have reached
 * it, so a multi-stage computation (the layers of a network, the blocks
 * of a gallery scan) costs one wake-up, not one per stage.  Barriers spin
 * briefly and then yield, which suits one thread per core.
 *
 * A pool serves one fs_pool_run at a time; callers serialise.  fs_pool_run
 * and fs_pool_barrier allocate nothing.
 */
#ifndef FS_POOL_H
#define FS_POOL_H

#include "fs_error.h"

typedef struct fs_pool fs_pool;
typedef void (*fs_pool_fn)(void *arg, int tid, int nthreads);

/* threads <= 0 means one per online CPU. */
int  fs_pool_create(int threads, fs_pool **out);
void fs_pool_free(fs_pool *p);
int  fs_pool_threads(const fs_pool *p);
void fs_pool_run(fs_pool *p, fs_pool_fn fn, void *arg);
void fs_pool_barrier(fs_pool *p);

/* Rows [*lo, *hi) of n that thread tid of nthreads owns: contiguous,
 * sizes differing by at most one. */
void fs_pool_split(long n, int tid, int nthreads, long *lo, long *hi);

/* Online CPUs, at least 1. */
int  fs_cpu_count(void);

#endif /* FS_POOL_H */
