/*
 * fs_bench_int.h - what the benchmarks of benchmarks/ share: a clock,
 * medians, small file helpers and the two ways a peer runs beside us (a
 * child that prints one JSON line, or a child we talk to line by line).
 * Private to benchmarks/.
 *
 * Children get our environment with some variables replaced (BLAS and
 * OpenMP thread counts, OpenMP's wait policy), stdin from us or
 * /dev/null, stdout to us, stderr to a file whose last line explains a
 * failure.
 */
#ifndef FS_BENCH_INT_H
#define FS_BENCH_INT_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/* Formats a progress message for an options struct's callback, when it
 * has one.  say(o, ...) in each benchmark is this on o's fields. */
void fs_bench_say(void (*progress)(void *ctx, const char *msg), void *ctx,
                  const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#define say(o, ...) fs_bench_say((o)->progress, (o)->ctx, __VA_ARGS__)

/* Monotonic seconds. */
double fs_bench_now(void);

/* Median of v[0..n) (sorts v); 0 when n is 0. */
double fs_bench_median(double *v, int n);
/* Median over the rounds both measured of a[i] / b[i]; 0 when none. */
double fs_bench_round_ratio(const double *a, int na, const double *b,
                            int nb);
/* The q-quantile (0..1, nearest rank) of v[0..n) (sorts v). */
double fs_bench_quantile(double *v, size_t n, double q);

int  fs_bench_write_file(const char *path, const void *data, size_t len);
/* The last non-empty line of a text file ("" when none). */
void fs_bench_last_line(const char *path, char *buf, size_t len);

/* Runs argv to completion with the NAME=VALUE strings of env_set (NULL-
 * terminated; may be NULL) replacing ours; its stdout lands in out.
 * FS_OK when it exited 0. */
int fs_bench_spawn_capture(char **argv, const char *const *env_set,
                           const char *errfile, char *out, size_t outlen);

/* A child we talk to: lines to its stdin, lines from its stdout. */
typedef struct fs_bench_child {
    pid_t pid;
    FILE *to, *from;
} fs_bench_child;

int  fs_bench_child_start(char **argv, const char *const *env_set,
                          const char *errfile, fs_bench_child *c);
/* Closes its stdin (which ends it) and waits; FS_OK when it exited 0. */
int  fs_bench_child_stop(fs_bench_child *c);

#endif /* FS_BENCH_INT_H */
