/*
 * bench_embed.c - `facesearch bench embed`: milliseconds per face of our
 * network on one thread and on all cores, at batch 1 and 16, beside
 *   - dlib's own DNN (benchmarks/peer_dlib_embed.cpp: dlib's anet_type
 *     filled with the same weights), and
 *   - tfjs-wasm running @vladmandic/face-api in Node
 *     (benchmarks/peers/tfjs-wasm, installed through npm on first use),
 * all on the same chips, plus OpenBLAS sgemm's own peak for reference.
 *
 * Peers run as child processes speaking one protocol: chips as a raw
 * file, threads through the environment (BLAS) or --threads (tfjs), one
 * JSON line on stdout.  Each peer's descriptors are checked against ours,
 * so a fast but wrong peer (or a wrong us) shows in the report.
 */
#include "fs_bench.h"
#include "fs_bench_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cblas.h>

#include "../embed/fs_embed.h"
#include "../engine/facesearch.h"
#include "../engine/base/fs_pool.h"

#define MIN_TIMED 5

/* ---- inputs ----------------------------------------------------------- */

/* The golden face chips when ../shared is there (real faces), else chips
 * made from the golden set's recipes (timing does not depend on content,
 * and the cross-check against peers still holds). */
static int load_chips(const fs_bench_embed_options *o, uint8_t **out,
                      int *n, char *source, size_t srclen)
{
    enum { MAXC = 12 };
    uint8_t *c = malloc((size_t)MAXC * FS_CHIP_BYTES);
    if (!c)
        return FS_ENOMEM;
    int got = 0;
    for (int i = 1; o->shared_dir && i <= 6; i++)
        for (int flip = 0; flip < 2; flip++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/golden/face%d%s.png",
                     o->shared_dir, i, flip ? "_flip" : "");
            if (fs_chip_read(path, c + (size_t)got * FS_CHIP_BYTES, NULL) ==
                FS_OK)
                got++;
        }
    if (got > 0) {
        snprintf(source, srclen, "golden face chips");
    } else {
        uint32_t state = 12345;
        for (got = 0; got < MAXC; got++) {
            uint8_t *p = c + (size_t)got * FS_CHIP_BYTES;
            for (int i = 0; i < FS_CHIP_BYTES; i++) {
                state = 1664525u * state + 1013904223u;
                p[i] = (uint8_t)(state >> 24);
            }
        }
        snprintf(source, srclen, "synthetic (no shared/golden)");
    }
    *out = c;
    *n = got;
    return FS_OK;
}

/* ---- the matrix products' own peaks ------------------------------------ */

/* Both products the machine offers us, each at 1024^3 on every thread
 * at once: OpenBLAS's, whose kernels OPENBLAS_CORETYPE may hold back,
 * and ours (fs_gemm_run).  The faster is the yardstick: each is a rate
 * the machine gave, so it never reads above what it can do. */
typedef struct sgemm_job {
    int    n;
    double seconds;
    double gflops[64];              /* OpenBLAS's */
    double ours[64];                /* fs_gemm_run's */
} sgemm_job;

/* GFLOP/s of one n^3 product, median of timed runs after a warm-up. */
static double product_rate(const sgemm_job *j, const fs_gemm_b *g,
                           const float *a, const float *b, float *c)
{
    double t[64];
    int reps = 0, n = j->n;
    double start = fs_bench_now();
    for (int run = 0; run <= 64; run++) {       /* run 0: the warm-up */
        double t0 = fs_bench_now();
        if (g)
            fs_gemm_run(g, n, a, n, c, n, 0, n, NULL, -INFINITY, INFINITY);
        else
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n,
                        1.0f, a, n, b, n, 0.0f, c, n);
        if (run > 0)
            t[reps++] = fs_bench_now() - t0;
        if (reps >= 3 && fs_bench_now() - start >= j->seconds)
            break;
    }
    return 2.0 * n * (double)n * n / fs_bench_median(t, reps) / 1e9;
}

static void sgemm_team(void *arg, int tid, int nt)
{
    (void)nt;
    sgemm_job *j = arg;
    size_t nn = (size_t)j->n * j->n;
    float *a = aligned_alloc(64, nn * 4), *b = aligned_alloc(64, nn * 4),
          *c = aligned_alloc(64, nn * 4);
    if (!a || !b || !c) {
        free(a); free(b); free(c);
        j->gflops[tid] = 0;
        return;
    }
    for (size_t i = 0; i < nn; i++) {
        a[i] = (float)(i % 13) * 0.01f;
        b[i] = (float)(i % 7) * 0.01f;
    }
    j->gflops[tid] = product_rate(j, NULL, a, b, c);
    fs_gemm_b g;
    j->ours[tid] = fs_gemm_b_init(&g, b, j->n, j->n, FS_GEMM_BEST) == FS_OK
                 ? product_rate(j, &g, a, b, c) : 0;
    fs_gemm_b_free(&g);
    free(a); free(b); free(c);
}

/* GFLOP/s of each single-threaded product on `threads` cores at once,
 * summed: OpenBLAS's into *blas, ours into *ours. */
static void sgemm_peak(int threads, double seconds, double *blas,
                       double *ours)
{
    fs_pool *p;
    *blas = *ours = 0;
    if (fs_pool_create(threads, &p) != FS_OK)
        return;
    sgemm_job j = { 1024, seconds, { 0 }, { 0 } };
    openblas_set_num_threads(1);
    fs_pool_run(p, sgemm_team, &j);
    for (int i = 0; i < fs_pool_threads(p) && i < 64; i++) {
        *blas += j.gflops[i];
        *ours += j.ours[i];
    }
    fs_pool_free(p);
}

/* ---- our engine ------------------------------------------------------- */

static fs_bench_result *add_result(fs_bench_embed_report *rep,
                                   const char *engine, int threads,
                                   int batch)
{
    if (rep->n >= FS_BENCH_MAX_RESULTS)
        return NULL;
    fs_bench_result *r = &rep->r[rep->n++];
    memset(r, 0, sizeof *r);
    snprintf(r->engine, sizeof r->engine, "%s", engine);
    r->threads = threads;
    r->batch = batch;
    r->max_abs_diff = -1;
    return r;
}

/* One round of our engine: median ms per face over batches timed for
 * `seconds` (at least MIN_TIMED of them). */
static double time_ours(fs_engine *e, const uint8_t *chips, int nchips,
                        int batch, double seconds)
{
    uint8_t *in = malloc((size_t)batch * FS_CHIP_BYTES);
    float *desc = malloc((size_t)batch * FS_DESC_DIM * sizeof *desc);
    enum { MAXT = 100000 };
    double *t = malloc(MAXT * sizeof *t), ms = 0;
    if (!in || !desc || !t)
        goto out;
    for (int i = 0; i < batch; i++)
        memcpy(in + (size_t)i * FS_CHIP_BYTES,
               chips + (size_t)(i % nchips) * FS_CHIP_BYTES, FS_CHIP_BYTES);
    fs_engine_embed(e, in, (size_t)batch, desc, NULL);     /* warm-up */
    int n = 0;
    double start = fs_bench_now();
    while (n < MAXT && (n < MIN_TIMED || fs_bench_now() - start < seconds)) {
        double t0 = fs_bench_now();
        if (fs_engine_embed(e, in, (size_t)batch, desc, NULL) != FS_OK)
            goto out;
        t[n++] = fs_bench_now() - t0;
    }
    ms = fs_bench_median(t, n) * 1e3 / batch;
out:
    free(in);
    free(desc);
    free(t);
    return ms;
}

/* ---- peers ------------------------------------------------------------ */

typedef struct peer_run {
    const char *engine;
    char      **argv;
    int         threads;
    const char *dump;          /* file the peer writes descriptors to */
} peer_run;

static double max_abs_diff(const char *dump, const float *ours, int n)
{
    float *v = malloc((size_t)n * FS_DESC_DIM * sizeof *v);
    FILE *f = fopen(dump, "rb");
    double mx = -1;
    if (v && f && fread(v, sizeof *v, (size_t)n * FS_DESC_DIM, f) ==
                      (size_t)n * FS_DESC_DIM) {
        mx = 0;
        for (size_t i = 0; i < (size_t)n * FS_DESC_DIM; i++)
            if (fabs((double)v[i] - ours[i]) > mx || isnan(v[i]))
                mx = isnan(v[i]) ? INFINITY : fabs((double)v[i] - ours[i]);
    }
    if (f)
        fclose(f);
    free(v);
    return mx;
}

/* One round of a peer: its ms per face (0 on failure, with r->note
 * saying why); with p->dump, also its descriptors against ours. */
static double run_peer(const peer_run *p, const char *tmp, const float *ours,
                       int nchips, fs_bench_result *r)
{
    char errfile[4200];
    snprintf(errfile, sizeof errfile, "%s/%s.err", tmp, p->engine);
    double v;
    if (fs_bench_peer_ms(p->argv, p->threads, errfile, p->engine, &v,
                         r->note, sizeof r->note) != FS_OK)
        return 0;
    if (p->dump)
        r->max_abs_diff = max_abs_diff(p->dump, ours, nchips);
    return v;
}

/* Installs the tfjs peer under build/peers once (npm ci); 0 when ready. */
static int tfjs_ready(const fs_bench_embed_options *o, char *dest,
                      size_t len, char *why, size_t whylen)
{
    char setup[4200];
    snprintf(setup, sizeof setup, "%s/benchmarks/peers/tfjs-wasm/setup.sh",
             o->tree_dir);
    snprintf(dest, len, "%s/build/peers/tfjs-wasm", o->tree_dir);
    if (access(setup, R_OK) != 0) {
        snprintf(why, whylen, "peer sources not found (%s)", setup);
        return -1;
    }
    say(o, "installing the tfjs-wasm peer with npm (first run only)");
    char *argv[] = { "sh", setup, dest, NULL };
    char out[256];
    if (fs_bench_spawn_threads(argv, 1, "/dev/null", out, sizeof out) !=
        FS_OK) {
        snprintf(why, whylen, "npm install of the tfjs-wasm peer failed "
                 "(run: sh %s %s)", setup, dest);
        return -1;
    }
    return 0;
}

/* ---- the run ---------------------------------------------------------- */

int fs_bench_embed(const fs_bench_embed_options *o,
                   fs_bench_embed_report *rep, fs_detail *d)
{
    memset(rep, 0, sizeof *rep);
    rep->ncpu = fs_cpu_count();
    int tlist[2] = { 1, rep->ncpu }, nt = rep->ncpu > 1 ? 2 : 1;
    if (o->threads > 0) {
        tlist[0] = o->threads;
        nt = 1;
    }
    int blist[2] = { 1, 16 }, nb = 2;
    if (o->batch > 0) {
        blist[0] = o->batch;
        nb = 1;
    }
    uint8_t *chips = NULL;
    float *ours = NULL;
    char tmp[] = "/tmp/facesearch-bench-XXXXXX";
    int rc = load_chips(o, &chips, &rep->chips, rep->chip_source,
                        sizeof rep->chip_source);
    if (rc != FS_OK)
        return fs_fail(d, rc, "no memory for the chips");
    if (!mkdtemp(tmp)) {
        free(chips);
        return fs_fail(d, FS_EIO, "cannot create a temporary directory: %s",
                       strerror(errno));
    }
    char chipfile[64], dump[64];
    snprintf(chipfile, sizeof chipfile, "%s/chips.rgb", tmp);
    snprintf(dump, sizeof dump, "%s/peer.f32", tmp);
    ours = malloc((size_t)rep->chips * FS_DESC_DIM * sizeof *ours);
    if (!ours || fs_bench_write_file(chipfile, chips,
                            (size_t)rep->chips * FS_CHIP_BYTES) != FS_OK) {
        rc = fs_fail(d, FS_EIO, "cannot write chips to '%s'", tmp);
        goto out;
    }

    say(o, "1024^3 products, OpenBLAS's and ours: 1 thread, then %d at once",
        rep->ncpu);
    sgemm_peak(1, 1.0, &rep->sgemm_gflops_1, &rep->gemm_gflops_1);
    sgemm_peak(rep->ncpu, 1.0, &rep->sgemm_gflops_all, &rep->gemm_gflops_all);
    snprintf(rep->blas_core, sizeof rep->blas_core, "%s",
             openblas_get_corename());
    snprintf(rep->isa, sizeof rep->isa, "%s",
             __builtin_cpu_supports("avx512f") ? "avx512f" :
             __builtin_cpu_supports("avx2") ? "avx2" : "sse2");

    fs_engine *eng[2] = { NULL, NULL };
    for (int ti = 0; ti < nt; ti++) {
        fs_engine_options eo = { .model_path = o->model_path,
                                  .threads = tlist[ti], .max_batch = 16 };
        if ((rc = fs_engine_open(&eo, &eng[ti], d)) != FS_OK)
            goto out_engines;
    }
    rep->flops_per_face = fs_engine_flops_per_chip(eng[0], 0);
    rep->flops_executed = fs_engine_flops_per_chip(eng[0], 16);
    snprintf(rep->model_sha256, sizeof rep->model_sha256, "%s",
             fs_engine_model_sha256(eng[0]));
    if ((rc = fs_engine_embed(eng[0], chips, (size_t)rep->chips, ours,
                              NULL)) != FS_OK) {
        fs_fail(d, rc, "embedding the chips failed");
        goto out_engines;
    }

    /* every result slot first, so rounds fill them in a fixed order */
    static const char *names[3] = { "facesearch", "dlib-dnn", "tfjs-wasm" };
    int want[3] = { 1, !!(o->peers & FS_PEER_DLIB),
                    !!(o->peers & FS_PEER_TFJS) };
    fs_bench_result *slot[3][2][2] = { { { NULL } } };
    for (int ei = 0; ei < 3; ei++)
        for (int ti = 0; want[ei] && ti < nt; ti++)
            for (int bi = 0; bi < nb; bi++)
                slot[ei][ti][bi] = add_result(rep, names[ei], tlist[ti],
                                              blist[bi]);

    char dlib[4200], node_dir[4096], script[4200], why[300] = "";
    snprintf(dlib, sizeof dlib, "%s/fs-peer-dlib-embed", o->exe_dir);
    if (want[1] && access(dlib, X_OK) != 0) {
        snprintf(why, sizeof why, "%s is not built (make all)", dlib);
        want[1] = 0;
    }
    for (int ti = 0; !want[1] && ti < nt; ti++)
        for (int bi = 0; bi < nb; bi++)
            if (slot[1][ti][bi])
                snprintf(slot[1][ti][bi]->note, sizeof slot[1][ti][bi]->note,
                         "%s", why);
    if (want[2] && tfjs_ready(o, node_dir, sizeof node_dir, why,
                              sizeof why) != 0)
        want[2] = 0;
    snprintf(script, sizeof script, "%s/peer_tfjs_wasm.mjs", node_dir);
    for (int ti = 0; ti < nt; ti++)
        for (int bi = 0; bi < nb; bi++) {
            fs_bench_result *r = slot[2][ti][bi];
            if (r && !want[2])
                snprintf(r->note, sizeof r->note, "%s", why);
            else if (r && tlist[ti] > 1) {
                /* tfjs-wasm has no threads under Node: the 1-thread row
                 * is its figure; timing it again would only add noise */
                snprintf(r->note, sizeof r->note, "tfjs-wasm runs on one "
                         "thread under Node");
                slot[2][ti][bi] = NULL;
            }
        }

    int rounds = o->rounds > 0 ? o->rounds : 3;
    if (rounds > FS_BENCH_MAX_ROUNDS)
        rounds = FS_BENCH_MAX_ROUNDS;
    double per = o->seconds / rounds;
    int dumped[3] = { 1, 0, 0 };
    for (int round = 0; round < rounds; round++)
        for (int ti = 0; ti < nt; ti++)
            for (int bi = 0; bi < nb; bi++)
                for (int ei = 0; ei < 3; ei++) {
                    fs_bench_result *r = slot[ei][ti][bi];
                    if (!r || !want[ei])
                        continue;
                    say(o, "round %d/%d: %s, %d thread(s), batch %d",
                        round + 1, rounds, names[ei], tlist[ti], blist[bi]);
                    double ms;
                    if (ei == 0) {
                        ms = time_ours(eng[ti], chips, rep->chips,
                                       blist[bi], per);
                    } else {
                        char cnt[16], bs[16], secs[32], th[16];
                        snprintf(cnt, sizeof cnt, "%d", rep->chips);
                        snprintf(bs, sizeof bs, "%d", blist[bi]);
                        snprintf(secs, sizeof secs, "%g", per);
                        snprintf(th, sizeof th, "%d", tlist[ti]);
                        char *dump_arg = dumped[ei] ? NULL : "--dump";
                        char *dl[] = { dlib, "--model",
                                       (char *)o->model_path, "--chips",
                                       chipfile, "--count", cnt, "--batch",
                                       bs, "--seconds", secs, dump_arg, dump,
                                       NULL };
                        char *tf[] = { "node", script, "--chips", chipfile,
                                       "--count", cnt, "--batch", bs,
                                       "--threads", th, "--seconds", secs,
                                       dump_arg, dump, NULL };
                        peer_run p = { names[ei], ei == 1 ? dl : tf,
                                       tlist[ti], dump_arg ? dump : NULL };
                        ms = run_peer(&p, tmp, ours, rep->chips, r);
                        if (ms > 0)
                            dumped[ei] = 1;
                    }
                    if (ms > 0)
                        r->round_ms[r->rounds++] = ms;
                }
    for (int i = 0; i < rep->n; i++) {
        fs_bench_result *r = &rep->r[i];
        if (r->rounds == 0)
            continue;
        double v[FS_BENCH_MAX_ROUNDS];
        memcpy(v, r->round_ms, sizeof v);
        r->ms_per_face = fs_bench_median(v, r->rounds);
        r->faces_per_s = 1e3 / r->ms_per_face;
        r->ok = 1;
        if (strcmp(r->engine, "facesearch") == 0) {
            r->gflops = rep->flops_per_face / (r->ms_per_face * 1e-3) / 1e9;
            r->gflops_executed = fs_engine_flops_per_chip(eng[0], r->batch) /
                                 (r->ms_per_face * 1e-3) / 1e9;
        }
    }
    rc = FS_OK;
out_engines:
    fs_engine_close(eng[0]);
    fs_engine_close(eng[1]);
out:
    unlink(chipfile);
    unlink(dump);
    char errf[128];
    snprintf(errf, sizeof errf, "%s/dlib-dnn.err", tmp);
    unlink(errf);
    snprintf(errf, sizeof errf, "%s/tfjs-wasm.err", tmp);
    unlink(errf);
    rmdir(tmp);
    free(chips);
    free(ours);
    return rc;
}

const fs_bench_result *fs_bench_find(const fs_bench_embed_report *rep,
                                     const char *engine, int threads,
                                     int batch)
{
    for (int i = 0; i < rep->n; i++)
        if (strcmp(rep->r[i].engine, engine) == 0 &&
            rep->r[i].threads == threads && rep->r[i].batch == batch &&
            rep->r[i].ok)
            return &rep->r[i];
    return NULL;
}

double fs_bench_ratio(const fs_bench_result *a, const fs_bench_result *b)
{
    if (!a || !b)
        return 0;
    return fs_bench_round_ratio(a->round_ms, a->rounds, b->round_ms,
                                b->rounds);
}
