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

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cblas.h>

#include "../engine/facesearch.h"
#include "../engine/fs_json.h"
#include "../engine/fs_pool.h"

extern char **environ;

#define MIN_TIMED 5

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void say(const fs_bench_embed_options *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void say(const fs_bench_embed_options *o, const char *fmt, ...)
{
    if (!o->progress)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    o->progress(o->ctx, msg);
}

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

static int write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return FS_EIO;
    size_t w = fwrite(data, 1, len, f);
    return fclose(f) == 0 && w == len ? FS_OK : FS_EIO;
}

/* ---- OpenBLAS's own peak ---------------------------------------------- */

typedef struct sgemm_job {
    int    n;
    double seconds;
    double gflops[64];
} sgemm_job;

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
    double t[64];
    int reps = 0;
    double start = now();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, j->n, j->n, j->n,
                1.0f, a, j->n, b, j->n, 0.0f, c, j->n);       /* warm-up */
    while (reps < 64 && (reps < 3 || now() - start < j->seconds)) {
        double t0 = now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, j->n, j->n,
                    j->n, 1.0f, a, j->n, b, j->n, 0.0f, c, j->n);
        t[reps++] = now() - t0;
    }
    j->gflops[tid] = 2.0 * j->n * (double)nn / median(t, reps) / 1e9;
    free(a); free(b); free(c);
}

/* GFLOP/s of single-threaded sgemm on `threads` cores at once, summed. */
static double sgemm_peak(int threads, double seconds)
{
    fs_pool *p;
    if (fs_pool_create(threads, &p) != FS_OK)
        return 0;
    sgemm_job j = { 1024, seconds, { 0 } };
    openblas_set_num_threads(1);
    fs_pool_run(p, sgemm_team, &j);
    double sum = 0;
    for (int i = 0; i < fs_pool_threads(p) && i < 64; i++)
        sum += j.gflops[i];
    fs_pool_free(p);
    return sum;
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

static void time_ours(fs_engine *e, const uint8_t *chips, int nchips,
                      int batch, double seconds, fs_bench_result *r,
                      double flops)
{
    uint8_t *in = malloc((size_t)batch * FS_CHIP_BYTES);
    float *desc = malloc((size_t)batch * FS_DESC_DIM * sizeof *desc);
    double *t = malloc(100000 * sizeof *t);
    if (!in || !desc || !t) {
        snprintf(r->note, sizeof r->note, "out of memory");
        goto out;
    }
    for (int i = 0; i < batch; i++)
        memcpy(in + (size_t)i * FS_CHIP_BYTES,
               chips + (size_t)(i % nchips) * FS_CHIP_BYTES, FS_CHIP_BYTES);
    fs_engine_embed(e, in, (size_t)batch, desc, NULL);     /* warm-up */
    int n = 0;
    double start = now();
    while (n < 100000 && (n < MIN_TIMED || now() - start < seconds)) {
        double t0 = now();
        if (fs_engine_embed(e, in, (size_t)batch, desc, NULL) != FS_OK) {
            snprintf(r->note, sizeof r->note, "embedding failed");
            goto out;
        }
        t[n++] = now() - t0;
    }
    r->ms_per_face = median(t, n) * 1e3 / batch;
    r->faces_per_s = 1e3 / r->ms_per_face;
    r->gflops = flops / (r->ms_per_face * 1e-3) / 1e9;
    r->ok = 1;
out:
    free(in);
    free(desc);
    free(t);
}

/* ---- peers ------------------------------------------------------------ */

typedef struct peer_run {
    const char *engine;
    char      **argv;
    int         threads;
    const char *dump;          /* file the peer writes descriptors to */
} peer_run;

/* Spawns argv with BLAS/OpenMP threads set, returns its stdout (one JSON
 * line) in out, the tail of its stderr in err. */
static int spawn_capture(char **argv, int threads, const char *errfile,
                         char *out, size_t outlen)
{
    int fds[2];
    if (pipe(fds) != 0)
        return FS_EIO;
    size_t nenv = 0;
    while (environ[nenv])
        nenv++;
    char **env = calloc(nenv + 3, sizeof *env);
    char blas[64], omp[64];
    snprintf(blas, sizeof blas, "OPENBLAS_NUM_THREADS=%d", threads);
    snprintf(omp, sizeof omp, "OMP_NUM_THREADS=%d", threads);
    size_t k = 0;
    for (size_t i = 0; env && i < nenv; i++)
        if (strncmp(environ[i], "OPENBLAS_NUM_THREADS=", 21) != 0 &&
            strncmp(environ[i], "OMP_NUM_THREADS=", 16) != 0)
            env[k++] = environ[i];
    if (env) {
        env[k++] = blas;
        env[k++] = omp;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, errfile,
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null",
                                     O_RDONLY, 0);
    pid_t pid;
    int rc = env ? posix_spawnp(&pid, argv[0], &fa, NULL, argv, env) : ENOMEM;
    posix_spawn_file_actions_destroy(&fa);
    free(env);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        return FS_ENOENT;
    }
    size_t got = 0;
    for (;;) {
        ssize_t r = read(fds[0], out + got, outlen - 1 - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
        if (got == outlen - 1)
            break;
    }
    out[got] = 0;
    close(fds[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? FS_OK : FS_EIO;
}

static void last_line(const char *path, char *buf, size_t len)
{
    buf[0] = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f))
        if (line[0] != '\n')
            snprintf(buf, len, "%s", line);
    fclose(f);
    buf[strcspn(buf, "\n")] = 0;
}

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

static void run_peer(const peer_run *p, const char *tmp, const float *ours,
                     int nchips, fs_bench_result *r)
{
    char errfile[4200], out[4096];
    snprintf(errfile, sizeof errfile, "%s/%s.err", tmp, p->engine);
    int rc = spawn_capture(p->argv, p->threads, errfile, out, sizeof out);
    fs_json *j = NULL;
    const fs_json *ms;
    if (rc != FS_OK) {
        char tail[200];
        last_line(errfile, tail, sizeof tail);
        snprintf(r->note, sizeof r->note, "%s failed%s%s", p->engine,
                 tail[0] ? ": " : "", tail);
        return;
    }
    if (fs_json_parse(out, strcspn(out, "\n"), &j, NULL) != FS_OK ||
        !(ms = fs_json_get(j, "ms_per_face")) ||
        ms->type != FS_JSON_NUMBER || !(ms->number > 0)) {
        snprintf(r->note, sizeof r->note, "%s printed no result",
                 p->engine);
        fs_json_free(j);
        return;
    }
    r->ms_per_face = ms->number;
    r->faces_per_s = 1e3 / ms->number;
    r->ok = 1;
    const fs_json *te = fs_json_get(j, "threads_effective");
    if (te && te->type == FS_JSON_NUMBER && (int)te->number != p->threads)
        snprintf(r->note, sizeof r->note, "ran on %d thread(s)",
                 (int)te->number);
    fs_json_free(j);
    if (p->dump)
        r->max_abs_diff = max_abs_diff(p->dump, ours, nchips);
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
    if (spawn_capture(argv, 1, "/dev/null", out, sizeof out) != FS_OK) {
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
    if (!ours || write_file(chipfile, chips,
                            (size_t)rep->chips * FS_CHIP_BYTES) != FS_OK) {
        rc = fs_fail(d, FS_EIO, "cannot write chips to '%s'", tmp);
        goto out;
    }

    say(o, "OpenBLAS sgemm 1024^3: 1 thread, then %d at once", rep->ncpu);
    rep->sgemm_gflops_1 = sgemm_peak(1, o->seconds / 2);
    rep->sgemm_gflops_all = sgemm_peak(rep->ncpu, o->seconds / 2);

    for (int ti = 0; ti < nt; ti++) {
        fs_engine_options eo = { o->model_path, tlist[ti], 16 };
        fs_engine *e;
        if ((rc = fs_engine_open(&eo, &e, d)) != FS_OK)
            goto out;
        rep->flops_per_face = fs_engine_flops_per_chip(e);
        snprintf(rep->model_sha256, sizeof rep->model_sha256, "%s",
                 fs_engine_model_sha256(e));
        if (ti == 0)
            fs_engine_embed(e, chips, (size_t)rep->chips, ours, NULL);
        for (int bi = 0; bi < nb; bi++) {
            say(o, "facesearch: %d thread(s), batch %d", tlist[ti],
                blist[bi]);
            fs_bench_result *r = add_result(rep, "facesearch", tlist[ti],
                                            blist[bi]);
            if (r)
                time_ours(e, chips, rep->chips, blist[bi], o->seconds, r,
                          rep->flops_per_face);
        }
        fs_engine_close(e);
    }

    char dlib[4200], node_dir[4096], script[4200], why[300] = "";
    snprintf(dlib, sizeof dlib, "%s/fs-peer-dlib-embed", o->exe_dir);
    int tfjs_ok = (o->peers & FS_PEER_TFJS) &&
                  tfjs_ready(o, node_dir, sizeof node_dir, why,
                             sizeof why) == 0;
    snprintf(script, sizeof script, "%s/peer_tfjs_wasm.mjs", node_dir);
    for (int pi = 0; pi < 2; pi++) {
        int mask = pi == 0 ? FS_PEER_DLIB : FS_PEER_TFJS;
        const char *engine = pi == 0 ? "dlib-dnn" : "tfjs-wasm";
        if (!(o->peers & mask))
            continue;
        int first = 1;
        for (int ti = 0; ti < nt; ti++)
            for (int bi = 0; bi < nb; bi++) {
                fs_bench_result *r = add_result(rep, engine, tlist[ti],
                                                blist[bi]);
                if (!r)
                    continue;
                if (pi == 1 && !tfjs_ok) {
                    snprintf(r->note, sizeof r->note, "%s", why);
                    continue;
                }
                if (pi == 0 && access(dlib, X_OK) != 0) {
                    snprintf(r->note, sizeof r->note, "%s is not built "
                             "(make all)", dlib);
                    continue;
                }
                say(o, "%s: %d thread(s), batch %d", engine, tlist[ti],
                    blist[bi]);
                char cnt[16], bs[16], secs[32], th[16];
                snprintf(cnt, sizeof cnt, "%d", rep->chips);
                snprintf(bs, sizeof bs, "%d", blist[bi]);
                snprintf(secs, sizeof secs, "%g", o->seconds);
                snprintf(th, sizeof th, "%d", tlist[ti]);
                char *dl[] = { dlib, "--model", (char *)o->model_path,
                               "--chips", chipfile, "--count", cnt,
                               "--batch", bs, "--seconds", secs,
                               first ? "--dump" : NULL, dump, NULL };
                char *tf[] = { "node", script, "--chips", chipfile,
                               "--count", cnt, "--batch", bs, "--threads",
                               th, "--seconds", secs,
                               first ? "--dump" : NULL, dump, NULL };
                peer_run p = { engine, pi == 0 ? dl : tf, tlist[ti],
                               first ? dump : NULL };
                run_peer(&p, tmp, ours, rep->chips, r);
                if (r->ok)
                    first = 0;
            }
    }
    rc = FS_OK;
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
