/*
 * fs_bench.h - the benchmarks behind `facesearch bench`: our engine and
 * its peers measured in one run, on the same inputs and weights.
 *
 * Every figure is a median over repeated timed batches after a warm-up.
 * The engines take turns in rounds (ours, then each peer, for every
 * configuration, then again), so slow drift of a shared machine hits all
 * of them alike; a ratio is the median of the per-round ratios.  Targets
 * are judged as such ratios, never as absolute times.  Nothing here prints: progress goes through a
 * callback, results into a report the command formats.
 */
#ifndef FS_BENCH_H
#define FS_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include "../engine/base/fs_error.h"

#define FS_BENCH_MAX_RESULTS 32
#define FS_BENCH_MAX_ROUNDS  9

enum { FS_PEER_DLIB = 1, FS_PEER_TFJS = 2,        /* bench embed */
       FS_PEER_FAISS = 4, FS_PEER_HNSW = 8 };     /* bench rank */

typedef struct fs_bench_result {
    char   engine[32];         /* "facesearch", "dlib-dnn", "tfjs-wasm" */
    int    threads, batch;
    int    ok;                 /* 0: see note */
    double ms_per_face, faces_per_s;
    double gflops;             /* facesearch only: nominal FLOPs/time */
    double gflops_executed;    /* facesearch only: FLOPs it computes */
    int    rounds;             /* rounds measured */
    double round_ms[FS_BENCH_MAX_ROUNDS];   /* ms per face, per round */
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
    double      seconds;       /* per engine and configuration, in all */
    int         rounds;        /* turns the engines take; <= 0: 3 */
    int         peers;         /* FS_PEER_* mask */
    void      (*progress)(void *ctx, const char *msg);
    void       *ctx;
} fs_bench_embed_options;

typedef struct fs_bench_embed_report {
    int    ncpu;
    int    chips;
    char   chip_source[64];
    char   model_sha256[65];
    char   blas_core[32];      /* OpenBLAS's kernel set (openblas_get_corename) */
    char   isa[16];            /* widest vector ISA our kernels use */
    double flops_per_face;     /* nominal, as direct convolution */
    double flops_executed;     /* what facesearch computes per face at
                                  batch 16 (more at batch 1) */
    double sgemm_gflops_1;     /* OpenBLAS sgemm 1024^3, one thread */
    double sgemm_gflops_all;   /* the same on every core at once */
    double gemm_gflops_1;      /* ours (fs_gemm_run) 1024^3, one thread */
    double gemm_gflops_all;    /* the same on every core at once */
    int    n;
    fs_bench_result r[FS_BENCH_MAX_RESULTS];
} fs_bench_embed_report;

int fs_bench_embed(const fs_bench_embed_options *opt,
                   fs_bench_embed_report *rep, fs_detail *d);

/* The result for engine/threads/batch, or NULL. */
const fs_bench_result *fs_bench_find(const fs_bench_embed_report *rep,
                                     const char *engine, int threads,
                                     int batch);

/* Median over the rounds both measured of time(a) / time(b); 0 when
 * either is missing. */
double fs_bench_ratio(const fs_bench_result *a, const fs_bench_result *b);

/* ---- bench detect ------------------------------------------------------ */

/* The target for large photos: a 12 MP photo (4000x3000) with a face of
 * 200 px or more through the front in at most this many ms on 1 thread. */
#define FS_BENCH_DETECT_12MP_MS 150.0

typedef struct fs_bench_detect_options {
    const char *shared_dir;    /* ../shared: datasets/lfw-dev, faces94 */
    int         limit;         /* images per set; <= 0: all */
    int         large;         /* LFW photos enlarged to 1920x1920, and as
                                  many set on 4000x3000 canvases, enlarged
                                  2-6x (faces of about 200-600 px) */
    int         threads;       /* 0: 1 and all cores */
    void      (*progress)(void *ctx, const char *msg);
    void       *ctx;
} fs_bench_detect_options;

typedef struct fs_bench_detect_result {
    char   engine[32];         /* "facesearch", "dlib-upsample1" */
    char   set[32];            /* "lfw-dev", "faces94", "large-1920",
                                  "large-12mp" (facesearch only) */
    int    threads, images, with_face;
    double detection_rate, images_per_s, ms_per_image;
    double min_face;           /* the narrowest default face found, box
                                  width in px; 0: none found */
    double cpu_ms_per_image;   /* the process's CPU time (all threads) per
                                  image: what a shared machine changes
                                  least; on 1 thread, the time on a core
                                  of one's own */
} fs_bench_detect_result;

typedef struct fs_bench_detect_report {
    int                    ncpu, n;
    fs_bench_detect_result r[FS_BENCH_MAX_RESULTS];
} fs_bench_detect_report;

int fs_bench_detect(const fs_bench_detect_options *opt,
                    fs_bench_detect_report *rep, fs_detail *d);

/* ---- bench rank -------------------------------------------------------- */

#define FS_BENCH_RANK_BATCH    64        /* the batch configuration */
#define FS_BENCH_HNSW_MAX      2000000   /* no hnswlib build above this */

typedef struct fs_bench_rank_options {
    const char *exe_dir;       /* where fs-peer-rank lives */
    const char *work_dir;      /* the gallery, the peer's vectors, the
                                  hnswlib cache (build/bench) */
    size_t      n;             /* gallery rows (random unit vectors) */
    int         queries;       /* probes, cycled through */
    int         k;
    int         threads;       /* 0: 1 and all cores */
    double      seconds;       /* per engine and configuration and round */
    int         rounds;        /* <= 0: 3 */
    int         peers;         /* FS_PEER_FAISS | FS_PEER_HNSW */
    uint64_t    seed;
    void      (*progress)(void *ctx, const char *msg);
    void       *ctx;
} fs_bench_rank_options;

typedef struct fs_bench_rank_result {
    char   engine[32];         /* "facesearch-exact", "facesearch-exact-f32",
                                  "facesearch-compressed", "faiss-flatip",
                                  "hnswlib" */
    int    threads, batch;
    int    ok;                 /* 0: see note */
    double probes_per_s;
    double ms_p50, ms_p99;     /* per probe (a batch's time / its size) */
    double gb_per_s;           /* the fp32 gallery's bytes x probes/s */
    double recall_at_k;        /* against the float scan's lists; <0 n/a */
    int    rounds;
    double round_ms[FS_BENCH_MAX_ROUNDS];   /* median ms per probe */
    char   note[200];
} fs_bench_rank_result;

typedef struct fs_bench_rank_report {
    int      ncpu, nt, tlist[2];   /* thread counts run */
    size_t   rows;                 /* gallery size */
    int      dim, k, queries, rounds;
    uint64_t seed;
    char     isa[16];              /* our float kernels' level */
    char     q8_kernel[32];        /* the int8 first pass's instruction */
    char     gallery_source[4200]; /* its directory */
    double   build_s;              /* enrolling the vectors; 0: reused */
    double   gallery_s;            /* opening it: fs_gallery_open + _load */
    /* peak resident memory (VmHWM, bytes; 0: not readable), each from a
     * reset just before: the enrolment when the gallery was made, the
     * open with its load, and the whole process at the end (the bench's
     * rankers per thread count and mode, each with its own copy) */
    size_t   enrol_peak, open_peak, run_peak;
    size_t   enrol_file;   /* of the enrolment's: LMDB's mapped pages (the
                              page cache's, reclaimable) at its end */
    double   compress_s;           /* building the int8 copy (all cores) */
    size_t   shortlist;            /* compressed: subjects re-ranked */
    /* facesearch-exact (all threads): whether the bounded pass served,
     * the float matrix's and the int8 copy's bytes, the call that built
     * the copy, the rows it re-scores per probe (median), and how many
     * queries' lists equal the float scan's bit for bit */
    int      bounded;
    size_t   matrix_bytes, bounded_copy_bytes;
    double   bounded_build_s, bounded_rescored;
    int      exact_identical;
    /* memory read bandwidth, per thread count of tlist, GB/s: the
     * median over rounds of each round's figure (the mean of a median
     * pass right before and one right after the float scan), and the
     * spread of the rounds; over mem_bytes (1 GiB, or the gallery when
     * larger) */
    double   mem_gbs[2], mem_min[2], mem_max[2];
    size_t   mem_bytes;
    double   mem_round[2][FS_BENCH_MAX_ROUNDS];
    int      n_notes;
    char     notes[6][200];
    int      n;
    fs_bench_rank_result r[24];
} fs_bench_rank_report;

int fs_bench_rank(const fs_bench_rank_options *opt, fs_bench_rank_report *rep,
                  fs_detail *d);

const fs_bench_rank_result *fs_bench_rank_find(const fs_bench_rank_report *rep,
                                               const char *engine,
                                               int threads, int batch);

/* An engine's single-probe scan on tlist[ti] threads as a share of the
 * memory bandwidth measured on as many threads in the same rounds
 * (median of the per-round shares): the fp32 gallery's bytes over the
 * probe's time; 0 when not run. */
double fs_bench_rank_bandwidth_share(const fs_bench_rank_report *rep,
                                     const char *engine, int ti);

/* Median over the rounds both measured of time(slow) / time(fast): how
 * many times faster `fast` is; 0 when either is missing. */
double fs_bench_rank_speedup(const fs_bench_rank_result *fast,
                             const fs_bench_rank_result *slow);

/* bench rank --mpi (tools/facesearch_mpi.c: MPI stays there): the rows
 * of bench rank's vectors (seed, n) that shard index of count holds,
 * every count-th from index (count 1: all of them), as templates whose
 * subjects are the rows' numbers + 1, one subject a row, so the shards'
 * top k merge into the whole's (fs_shard_merge); *rows maps each
 * template back to its row.  Free with fs_bench_rank_part_free. */
struct fs_templates;
int  fs_bench_rank_part(uint64_t seed, size_t n, unsigned index,
                        unsigned count, struct fs_templates *t,
                        uint32_t **rows, fs_detail *d);
void fs_bench_rank_part_free(struct fs_templates *t, uint32_t *rows);
/* bench rank's nq probes of seed into out (nq * FS_DESC_DIM floats). */
void fs_bench_rank_probes(uint64_t seed, int nq, float *out);
/* The q-quantile (0..1, nearest rank) of v[0..n) (sorts v); also in
 * fs_bench_int.h, for the benchmarks' own files. */
double fs_bench_quantile(double *v, size_t n, double q);

/* ---- bench search ------------------------------------------------------ */

/* The target: the whole gated search takes at most this share of the
 * reference pipeline's detection + embedding (median of round ratios). */
#define FS_BENCH_SEARCH_TARGET 0.5

/* The stages of fs_search_stages, in order, as the report names them. */
enum { FS_BENCH_STAGES = 7, FS_BENCH_STAGE_RANK = 5 };
extern const char *const fs_bench_search_stage_names[FS_BENCH_STAGES];

typedef struct fs_bench_search_options {
    const char *model_path;    /* the network the gallery is tied to */
    const char *peer_dlib;     /* the fs-peer-dlib-embed binary */
    const char *work_dir;      /* the gallery is kept in work_dir/search-N */
    const char *shared_dir;    /* ../shared: datasets/lfw-dev, the probe */
    size_t      n;             /* templates in the gallery */
    int         k;             /* candidates per search */
    int         rounds;        /* <= 0: 3 */
    void      (*progress)(void *ctx, const char *msg);
    void       *ctx;
    const char *cli;           /* the facesearch binary, run as a person
                                  runs it (facesearch-service, -cli) */
    const char *service;       /* the facesearchd binary */
    const char *landmarks_path;  /* as the commands load it (fs_engine_options),
                                  so the cold open is what they pay */
    const char *second_model_path;  /* faceres: the same search on a
                                  gallery whose recipe names it, in the
                                  same run; NULL: not measured */
} fs_bench_search_options;

/* A gallery with a second model is searched in the same run on at most
 * this many templates (each image's second template is 2 KB more, and
 * what the second model adds does not grow with the gallery: one probe
 * pass and FS_FUSION_FROZEN's shortlist re-scored). */
#define FS_BENCH_FUSED_MAX 20000

typedef struct fs_bench_search_result {
    char   engine[32];         /* "facesearch", "reference-detect-embed",
                                  "cold-open", "facesearch-service",
                                  "facesearch-cli" */
    int    ok;                 /* 0: see note */
    double ms_p50;             /* median over the rounds */
    double ms_p99;             /* over every timed search; 0: not kept */
    int    runs;               /* timed searches (ms_p99's sample) */
    int    rounds;
    double round_ms[FS_BENCH_MAX_ROUNDS];
    /* medians over the rounds of its parts: the reference's detection
     * and embedding; the cold open's gate, engine (model) and landmark
     * model; the service's round trip that opens no gallery
     * (`facesearch request --help` through it) and floor (`facesearch
     * request show` through it); others: unused */
    double part_ms[3];
    char   note[300];
} fs_bench_search_result;

enum { FS_BENCH_OURS = 0, FS_BENCH_REFERENCE = 1, FS_BENCH_COLD = 2,
       FS_BENCH_SERVICE = 3, FS_BENCH_CLI = 4,
       FS_BENCH_SEARCH_ENGINES = 5 };

typedef struct fs_bench_search_report {
    int      ncpu, k, rounds;
    size_t   n;
    char     gallery_dir[4200];
    double   build_s;          /* making the gallery; 0: reused */
    uint64_t gallery_bytes;    /* its LMDB data file */
    char     probe_source[256];   /* the lfw-dev photo on the canvas */
    int      probe_width, probe_height;
    size_t   probe_bytes;
    double   stage_ms[FS_BENCH_STAGES];  /* facesearch: each stage's median
                                            over the rounds */
    int      rank_threads;     /* the threads the gate ranked on */
    double   rank_build_ms;    /* making the ranker the gate keeps with
                                  the matrix (once per matrix) */
    double   rank_scan_ms;     /* one probe's exact top k on that kept
                                  ranker, over the same N templates in
                                  memory, on those threads */
    double   rank_scan_all_ms; /* the same on every core */
    double   ratio;            /* facesearch / reference, median of the
                                  round ratios; 0 when not measured */
    double   ratio_service;    /* facesearch-service / reference, median
                                  of the round ratios: the figure the
                                  target is judged on; 0: not measured */
    double   ratio_cli;        /* facesearch-cli / reference, the same */
    double   service_warm_s;   /* facesearchd's start: model, landmarks
                                  and the matrix loaded, till it listens */
    char     search_id[16];    /* the run's last search */
    size_t   candidates;       /* in its list */
    int      searches;         /* released in this run */
    int      audited;          /* of those, found on the audit trail */
    fs_bench_search_result r[FS_BENCH_SEARCH_ENGINES];   /* FS_BENCH_* */
    /* The same library call on a gallery of fused_n templates whose
     * recipe names the second model (fused_ok 0: see fused_note):
     * medians over its searches of the whole search, of the probe's
     * second-model pass and of the shortlist's re-scoring (its second
     * templates read and the list fused), and of its ranking of
     * max(k, 200); the plain search's figures are stage_ms and r[0]. */
    int      fused_ok;
    size_t   fused_n;
    double   fused_ms, fused_second_ms, fused_rescore_ms, fused_rank_ms;
    char     fused_note[300];
} fs_bench_search_report;

/* The whole gated search of one 640x480 probe with one face (an lfw-dev
 * photo, 1.5x, on a canvas) through fs_gate_search, on a sealed detroit
 * gallery of n random unit templates made through the gate and kept in
 * work_dir (a random password in a 0600 file beside it, sessions under a
 * private XDG_RUNTIME_DIR there while it runs), beside the reference
 * pipeline's detection (dlib's HOG upsampled once) and dlib's DNN on the
 * same probe; the same search as a person runs the command, through a
 * facesearchd started on the gallery for the run and in-process; then
 * the cold per-command cost of opening a gate and an engine.  FS_ENOENT
 * when lfw-dev has no usable photo. */
int fs_bench_search(const fs_bench_search_options *opt,
                    fs_bench_search_report *rep, fs_detail *d);

/* ---- bench enroll ------------------------------------------------------ */

/* The targets: enrolment at least this many times the reference's
 * images per second (median of round ratios), and at least this many
 * images per second on 2 cores. */
#define FS_BENCH_ENROLL_RATIO   3.0
#define FS_BENCH_ENROLL_RATE    150.0
#define FS_BENCH_ENROLL_BATCH   64      /* images per commit, as enroll's */

typedef struct fs_bench_enroll_options {
    const char *model_path;    /* the network */
    const char *landmarks_path;  /* as the commands load it */
    const char *peer_dlib;     /* the fs-peer-dlib-embed binary */
    const char *work_dir;      /* the galleries: work_dir/enroll-N */
    const char *dataset;       /* DIR/<identity>/<image>: lfw-dev */
    int         limit;         /* images, the first in name order; >= 1 */
    int         rounds;        /* <= 0: 3 */
    void      (*progress)(void *ctx, const char *msg);
    void       *ctx;
} fs_bench_enroll_options;

typedef struct fs_bench_enroll_result {
    char   engine[32];         /* "facesearch", "reference-detect-embed" */
    int    ok;                 /* 0: see note */
    double images_per_s;       /* median over the rounds */
    double ms_per_image;       /* 1000 / images_per_s */
    int    rounds;
    double round_ms[FS_BENCH_MAX_ROUNDS];   /* ms per image, per round */
    /* the reference: the front (decode, HOG upsampled once, landmarks,
     * chip) and dlib's DNN, ms per image, medians over the rounds */
    double part_ms[2];
    int    with_face;          /* ours: enrolled; reference: a chip made */
    double cpu_ms;             /* ours: the process's CPU time per image
                                  (all threads), median over the rounds:
                                  what a shared machine does not change
                                  much, and the rate's bound, ncpu * 1000
                                  / cpu_ms, when every core is ours */
    char   note[300];
} fs_bench_enroll_result;

enum { FS_BENCH_ENROLL_OURS = 0, FS_BENCH_ENROLL_REFERENCE = 1,
       FS_BENCH_ENROLL_ENGINES = 2 };

typedef struct fs_bench_enroll_report {
    int      ncpu, images, rounds, batch;
    char     dataset[4200];
    char     gallery_dir[4200];
    int      enrolled, rejected;   /* the last round's */
    uint64_t templates;            /* in its gallery after the run */
    int      audited;              /* its images the audit trail names */
    double   ratio;                /* ours / reference images/s, median of
                                      the round ratios; 0: not measured */
    fs_bench_enroll_result r[FS_BENCH_ENROLL_ENGINES];
} fs_bench_enroll_report;

/* Enrolment of the first `limit` images of a labelled set, intake to
 * commit, through the gate's enroller as `facesearch enroll` runs it
 * (batches of FS_BENCH_ENROLL_BATCH, each committed sealed with its audit
 * entries) into a fresh detroit gallery per round under work_dir, beside
 * the reference pipeline on the same images: dlib's HOG upsampled once
 * with landmarks and chip (one image per core) and dlib's own DNN on each
 * chip, one chip per batch, BLAS on every core.  FS_ENOENT when the set
 * holds no image. */
int fs_bench_enroll(const fs_bench_enroll_options *opt,
                    fs_bench_enroll_report *rep, fs_detail *d);

#endif /* FS_BENCH_H */
