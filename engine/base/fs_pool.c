/*
 * fs_pool.c - the thread team of fs_pool.h.
 *
 * Workers sleep on a condition variable between runs (an idle engine
 * costs nothing) and are woken by a bump of `generation`.  Inside a run,
 * barriers are sense-reversing counters on C11 atomics: a thread spins
 * with a pause hint for a short while, then yields the CPU, so a team
 * larger than the machine still makes progress.
 *
 * A pool survives fork(): the child of a process that made a team (the
 * service forks one child per connection from a warm parent) has none of
 * its threads, so the first run in a new process starts them again.  The
 * parent is idle when it forks, its workers asleep on the condition
 * variable, so the mutex and the conditions are made afresh, not copied.
 */
#include "fs_pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define cpu_relax() _mm_pause()
#else
#define cpu_relax() ((void)0)
#endif

struct fs_pool {
    int             n;
    pid_t           pid;          /* the process whose threads these are */
    pthread_t      *threads;
    pthread_mutex_t mu;
    pthread_cond_t  wake, done;
    unsigned long   generation;
    int             running;      /* workers still in the current run */
    int             quit;
    fs_pool_fn      fn;
    void           *arg;
    atomic_int      arrived;
    atomic_int      sense;
};

typedef struct {
    fs_pool *p;
    int      tid;
} worker_arg;

static void *worker(void *v)
{
    worker_arg *wa = v;
    fs_pool *p = wa->p;
    int tid = wa->tid;
    free(wa);
    unsigned long seen = 0;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (p->generation == seen && !p->quit)
            pthread_cond_wait(&p->wake, &p->mu);
        if (p->quit) {
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
        seen = p->generation;
        fs_pool_fn fn = p->fn;
        void *arg = p->arg;
        pthread_mutex_unlock(&p->mu);

        fn(arg, tid, p->n);

        pthread_mutex_lock(&p->mu);
        if (--p->running == 0)
            pthread_cond_signal(&p->done);
        pthread_mutex_unlock(&p->mu);
    }
}

int fs_cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* The team's synchronisation made and its workers started, in this
 * process.  On failure the started ones are told to quit and joined. */
static int start(fs_pool *p)
{
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    p->generation = 0;
    p->running = 0;
    p->quit = 0;
    atomic_init(&p->arrived, 0);
    atomic_init(&p->sense, 0);
    p->pid = getpid();
    for (int i = 1; i < p->n; i++) {
        worker_arg *wa = malloc(sizeof *wa);
        if (wa) {
            wa->p = p;
            wa->tid = i;
        }
        if (!wa || pthread_create(&p->threads[i], NULL, worker, wa) != 0) {
            free(wa);
            pthread_mutex_lock(&p->mu);
            p->quit = 1;
            pthread_cond_broadcast(&p->wake);
            pthread_mutex_unlock(&p->mu);
            for (int j = 1; j < i; j++)
                pthread_join(p->threads[j], NULL);
            return FS_ETHREAD;
        }
    }
    return FS_OK;
}

int fs_pool_create(int threads, fs_pool **out)
{
    fs_pool *p = calloc(1, sizeof *p);
    if (!p)
        return FS_ENOMEM;
    p->n = threads > 0 ? threads : fs_cpu_count();
    p->threads = calloc((size_t)p->n, sizeof *p->threads);
    int rc = p->threads ? start(p) : FS_ENOMEM;
    if (rc != FS_OK) {
        free(p->threads);
        free(p);
        return rc;
    }
    *out = p;
    return FS_OK;
}

void fs_pool_free(fs_pool *p)
{
    if (!p)
        return;
    if (p->pid != getpid()) {       /* a child's copy: no threads to stop */
        free(p->threads);
        free(p);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->n; i++)
        pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    free(p->threads);
    free(p);
}

int fs_pool_threads(const fs_pool *p)
{
    return p->n;
}

void fs_pool_run(fs_pool *p, fs_pool_fn fn, void *arg)
{
    if (p->n == 1) {
        fn(arg, 0, 1);
        return;
    }
    /* A run has no way to fail: a child that cannot start its team stops
     * as a failed stack allocation would, before any work is half done. */
    if (p->pid != getpid() && start(p) != FS_OK)
        abort();
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->arg = arg;
    p->running = p->n - 1;
    p->generation++;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);

    fn(arg, 0, p->n);

    pthread_mutex_lock(&p->mu);
    while (p->running > 0)
        pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

void fs_pool_barrier(fs_pool *p)
{
    if (p->n == 1)
        return;
    int sense = atomic_load_explicit(&p->sense, memory_order_relaxed);
    if (atomic_fetch_add_explicit(&p->arrived, 1, memory_order_acq_rel) ==
        p->n - 1) {
        atomic_store_explicit(&p->arrived, 0, memory_order_relaxed);
        atomic_store_explicit(&p->sense, !sense, memory_order_release);
        return;
    }
    for (unsigned spins = 0;
         atomic_load_explicit(&p->sense, memory_order_acquire) == sense;
         spins++) {
        if (spins < 4096)
            cpu_relax();
        else
            sched_yield();
    }
}

void fs_pool_split(long n, int tid, int nthreads, long *lo, long *hi)
{
    long base = n / nthreads, extra = n % nthreads;
    *lo = tid * base + (tid < extra ? tid : extra);
    *hi = *lo + base + (tid < extra ? 1 : 0);
}
