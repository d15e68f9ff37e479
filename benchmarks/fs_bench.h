/*
 * fs_bench.h - the benchmarks behind `facesearch bench`: our engine and
 * its peers measured in one run, on the same inputs and weights.
 *
 * Every figure is a median over repeated timed batches after a warm-up;
 * targets are judged as ratios against peers measured in the same run,
 * never as absolute times.  Nothing here prints: progress goes through a
 * callback, results into a report the command formats.
 */
#ifndef FS_BENCH_H
#define FS_BENCH_H

#include "../engine/fs_error.h"

#define FS_BENCH_MAX_RESULTS 32

enum { FS_PEER_DLIB = 1, FS_PEER_TFJS = 2 };

typedef struct fs_bench_result {
    char   engine[32];         /* "facesearch", "dlib-dnn", "tfjs-wasm" */
    int    threads, batch;
    int    ok;                 /* 0: see note */
    double ms_per_face, faces_per_s;
    double gflops;             /* facesearch only */
    double max_abs_diff;       /* peers: against our descriptors; <0 n/a */
    char   note[200];
} fs_bench_result;

typedef struct fs_bench_embed_options {
    const char *model_path;
    const char *exe_dir;       /* where fs-peer-dlib-embed lives */
    const char *tree_dir;      /* the source tree (benchmarks/peers/...) */
    const char *shared_dir;    /* ../shared, for the golden chips; may be
                                  NULL or absent: synthetic chips then */
    int         threads;       /* 0: 1 and all cores */
    int         batch;         /* 0: 1 and 16 */
    double      seconds;       /* per measurement */
    int         peers;         /* FS_PEER_* mask */
    void      (*progress)(void *ctx, const char *msg);
    void       *ctx;
} fs_bench_embed_options;

typedef struct fs_bench_embed_report {
    int    ncpu;
    int    chips;
    char   chip_source[64];
    char   model_sha256[65];
    double flops_per_face;
    double sgemm_gflops_1;     /* OpenBLAS sgemm 1024^3, one thread */
    double sgemm_gflops_all;   /* the same on every core at once */
    int    n;
    fs_bench_result r[FS_BENCH_MAX_RESULTS];
} fs_bench_embed_report;

int fs_bench_embed(const fs_bench_embed_options *opt,
                   fs_bench_embed_report *rep, fs_detail *d);

/* The result for engine/threads/batch, or NULL. */
const fs_bench_result *fs_bench_find(const fs_bench_embed_report *rep,
                                     const char *engine, int threads,
                                     int batch);

#endif /* FS_BENCH_H */
