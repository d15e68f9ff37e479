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
 *
 * Also the inputs more than one benchmark makes: random unit vectors,
 * image sets read into memory, made-up images as BMP bytes.
 */
#ifndef FS_BENCH_INT_H
#define FS_BENCH_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "../engine/fs_engine.h"

/* Formats a progress message for an options struct's callback, when it
 * has one.  say(o, ...) in each benchmark is this on o's fields. */
void fs_bench_say(void (*progress)(void *ctx, const char *msg), void *ctx,
                  const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#define say(o, ...) fs_bench_say((o)->progress, (o)->ctx, __VA_ARGS__)

/* Monotonic seconds. */
double fs_bench_now(void);

/* Median of v[0..n) (sorts v); 0 when n is 0. */
double fs_bench_median(double *v, int n);
/* Median of v[0..n), n <= FS_BENCH_MAX_ROUNDS, v left as it is: a
 * figure's rounds, kept for the report. */
double fs_bench_rounds_median(const double *v, int n);
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

/* fs_bench_spawn_capture with the BLAS and OpenMP thread counts set to
 * threads: how every peer is told how many cores it may use. */
int fs_bench_spawn_threads(char **argv, int threads, const char *errfile,
                           char *out, size_t outlen);
/* Runs a peer that prints one JSON line holding "ms_per_face" (BLAS and
 * OpenMP on threads): FS_OK with *ms, else why says what went wrong (the
 * last line of the peer's errfile when it failed). */
int fs_bench_peer_ms(char **argv, int threads, const char *errfile,
                     const char *engine, double *ms, char *why,
                     size_t whylen);

/* Runs argv to completion as a person runs a command: stdin and stdout
 * on /dev/null, stderr to errfile, env_set (as above) replacing ours;
 * *ms is the time from the spawn to the exit.  The spawn shares our
 * memory until the exec (posix_spawn), as a shell's fork of itself is
 * cheap, so our own size is not measured.  FS_OK when it exited 0. */
int fs_bench_run_timed(char **argv, const char *const *env_set,
                       const char *errfile, double *ms);

/* A service of ours: argv started with stdin on /dev/null and its
 * output to logfile, told to end (SIGTERM) should we die first, so an
 * interrupted benchmark leaves none behind.  fs_bench_daemon_alive says
 * whether it still runs (reaping it when it ended); fs_bench_daemon_stop
 * sends SIGTERM, waits a few seconds, then kills it, and reaps it. */
int  fs_bench_daemon_start(char **argv, const char *logfile, pid_t *pid);
int  fs_bench_daemon_alive(pid_t pid);
void fs_bench_daemon_stop(pid_t pid);

/* A child we talk to: lines to its stdin, lines from its stdout. */
typedef struct fs_bench_child {
    pid_t pid;
    FILE *to, *from;
} fs_bench_child;

int  fs_bench_child_start(char **argv, const char *const *env_set,
                          const char *errfile, fs_bench_child *c);
/* Closes its stdin (which ends it) and waits; FS_OK when it exited 0. */
int  fs_bench_child_stop(fs_bench_child *c);

/* ---- inputs ------------------------------------------------------------ */

/* Rows first .. first + n - 1 of the set `seed` of random unit vectors
 * (FS_DESC_DIM Gaussian components, normalised), into out, on pool's
 * threads (NULL: this one).  Each row is a function of seed and its
 * index alone, so galleries made in batches and across runs agree. */
void fs_bench_random_units(fs_pool *pool, uint64_t seed, size_t first,
                           size_t n, float *out);

/* Image files held in memory, so the disk is not measured. */
typedef struct fs_bench_blob {
    uint8_t *p;
    size_t   n;
    char    *name;            /* a set's "identity/file"; NULL: made here */
} fs_bench_blob;

typedef struct fs_bench_set {
    const char    *name;
    fs_bench_blob *files;
    int            n;
} fs_bench_set;

/* Up to limit (<= 0: all) images of DIR/<identity>/<image>, in name
 * order, appended to s; FS_ENOENT when s holds none. */
int  fs_bench_load_set(const char *dir, int limit, fs_bench_set *s);
void fs_bench_free_set(fs_bench_set *s);

/* An uncompressed 24-bit BMP of w x h R,G,B pixels, so a made-up image
 * goes through intake and decode like any file; p is NULL without
 * memory. */
fs_bench_blob fs_bench_bmp(const uint8_t *rgb, int w, int h);
/* img enlarged (bilinear) to side x side R,G,B pixels; NULL without
 * memory. */
uint8_t *fs_bench_enlarge(const fs_image *img, int side);

/* Loads what an engine loads on its first detection (the landmark model,
 * the detectors) by looking at a blank 64x64 image. */
int fs_bench_engine_warm(fs_engine *e, fs_detail *d);

/* ---- the front of the pipeline, as the reference runs it --------------- */

/* One image held in memory through the front as `bench detect` and the
 * reference pipelines run it: a private copy decoded (decoding may patch
 * the bytes), the faces eng finds (its detect mode: dlib's HOG upsampled
 * once for the reference), and the aligned chip of the default face
 * (*chosen, -1 when none) into chip when it is not NULL.  *n faces in
 * faces[FS_MAX_FACES]; FS_OK with *n == 0 when there is none. */
int fs_bench_front(fs_engine *eng, const fs_bench_blob *b, fs_face *faces,
                   int *n, int *chosen, uint8_t *chip, fs_detail *d);

/* fs_bench_front over every image of s on pool's threads, one engine of
 * eng per thread, images taken from a shared counter: its wall time in
 * seconds.  *with_face images gave a chip; when chips is not NULL, image
 * i's chip goes to chips + i * FS_CHIP_BYTES and has[i] says whether it
 * is there; when width is not NULL, width[i] is the default face's box
 * width (0: none). */
double fs_bench_front_pass(fs_pool *pool, fs_engine **eng,
                           const fs_bench_set *s, int *with_face,
                           uint8_t *chips, uint8_t *has, double *width);

/* ---- a benchmark's private sessions ------------------------------------ */

/* While a benchmark logs in to its own galleries, XDG_RUNTIME_DIR and
 * XDG_CONFIG_HOME point under dir (dir/run, dir/config, made 0700), so a
 * benchmarker's own sessions (same OS user, other galleries) stay as they
 * are; fs_bench_env_restore puts them back (a no-op when never set). */
typedef struct fs_bench_env {
    char *run, *cfg;
    int   set;
} fs_bench_env;

int  fs_bench_env_private(const char *dir, fs_bench_env *s, fs_detail *d);
void fs_bench_env_restore(fs_bench_env *s);

/* A random password for a benchmark's gallery accounts: letters of both
 * cases, digits and a '-' pass every profile's rule (a fixed one in the
 * source would open every benchmark gallery).  len >= 54. */
int  fs_bench_password(char *out, size_t len, fs_detail *d);

/* The wall clock, unix microseconds: where a run's audit walk starts. */
int64_t fs_bench_wall_us(void);

/* A benchmark's private directory dir (0700) under work_dir (made when
 * missing); FS_EIO naming dir when either cannot be made. */
int  fs_bench_dir(const char *work_dir, const char *dir, fs_detail *d);

/* Removes path and everything under it (no symlink followed); FS_OK when
 * it is gone or never was. */
int  fs_bench_remove_tree(const char *path);

#endif /* FS_BENCH_INT_H */
