/*
 * bench_rank.c - `facesearch bench rank`: top-k search over a gallery of
 * N random unit vectors (128-D), single probes and batches of 64, on one
 * thread and on all cores, beside the libraries a user would otherwise
 * pick, on the same vectors in the same run:
 *   - facesearch-exact       fs_rank_topk, exact (the default mode): from
 *                            its second call on 64Ki rows or more, the
 *                            bounded int8 pass + float re-score
 *   - facesearch-exact-f32   the same lists by the float scan alone
 *                            (FS_EXACT_SCAN; single probes only, batches
 *                            take sgemm either way)
 *   - facesearch-compressed  the int8 first pass + exact re-rank of a
 *                            shortlist (may miss a subject)
 *   - faiss-flatip           Debian's Faiss 1.7.3 IndexFlatIP (exact)
 *   - hnswlib                hnswlib 0.6.2, M=16, ef_construction=200,
 *                            ef=200 (approximate)
 * and the machine's memory read bandwidth, measured in every round, as
 * the physical bound of an exact scan.
 *
 * The peers live in one child process (benchmarks/peer_rank.cpp,
 * bin/fs-peer-rank) that maps the vectors from a raw file under work_dir
 * and answers commands line by line, so the engines take turns in rounds
 * without reloading anything.  Faiss runs with OMP_WAIT_POLICY=PASSIVE:
 * OpenMP's default spinning makes it several times slower on a small
 * shared machine, and we measure it at its best.  The hnswlib index is
 * cached in work_dir, keyed by N and seed.
 *
 * Recall is measured on every query against the float scan's lists (one
 * subject per row here, so rows are the ids), and facesearch-exact's list
 * of every query must equal the float scan's bit for bit (ids, order,
 * scores): the bounded pass's claim, checked on each run.  Effective GB/s is the fp32
 * gallery's size times probes per second: for an exact single probe it is
 * the bandwidth really used, for batches and the compressed mode it says
 * how far they get past that bound.
 */
#include "fs_bench.h"
#include "fs_bench_int.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "../engine/base/fs_pool.h"
#include "../index/fs_index.h"

#include "../engine/base/fs_crypt.h"

#define D          FS_DESC_DIM
#define BATCH      FS_BENCH_RANK_BATCH
#define MIN_CALLS  3
#define MAX_LAT    (1 << 16)      /* latencies kept per result */
#define HUGE_ALIGN ((size_t)2 << 20)
#define PROBE_SEED(s) ((s) + 0x5eed)       /* the probes: another set */
#define VEC_FORMAT 1              /* bump when the vectors change */

enum { E_EXACT, E_EXACT_F32, E_COMPRESSED, E_FAISS, E_HNSW, NENGINES };
static const char *const engine_name[NENGINES] = {
    "facesearch-exact", "facesearch-exact-f32", "facesearch-compressed",
    "faiss-flatip", "hnswlib"
};
static const char *const peer_engine[NENGINES] = {
    NULL, NULL, NULL, "faiss", "hnswlib"
};

static void note(fs_bench_rank_report *rep, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void note(fs_bench_rank_report *rep, const char *fmt, ...)
{
    if (rep->n_notes >= 6)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rep->notes[rep->n_notes++], sizeof rep->notes[0], fmt, ap);
    va_end(ap);
}

/* ---- the vectors -------------------------------------------------------- */

/* Memory for a matrix that a scan walks end to end: 2 MB aligned and
 * advised into huge pages before the first touch. */
static float *alloc_matrix(size_t rows, size_t *bytes)
{
    *bytes = (rows * D * sizeof(float) + HUGE_ALIGN - 1) & ~(HUGE_ALIGN - 1);
    float *m = aligned_alloc(HUGE_ALIGN, *bytes ? *bytes : HUGE_ALIGN);
    if (m)
        madvise(m, *bytes, MADV_HUGEPAGE);
    return m;
}

/* The gallery the engines search: n random unit vectors, one subject
 * each ("r0000001"...), enrolled through the gallery API like any other
 * (no image; the record's sha256 is that of the vector's bytes), in
 * batches of ENROL_BATCH, under work_dir keyed by n and seed.  A gallery
 * left there by an earlier run is reused, and one cut short (commits are
 * atomic and in order) is finished from where it stopped.  Then the
 * engines scan what fs_gallery_load reads back, the peer gets those very
 * bytes through a raw file. */
#define ENROL_BATCH 10000
#define BENCH_MODEL "bench-random-unit-v1"   /* not a network: a recipe */

typedef struct gallery {
    fs_gallery  *g;
    fs_templates t;
} gallery;

static int enrol(const fs_bench_rank_options *o, fs_pool *pool, fs_gallery *g,
                 size_t have, fs_detail *d)
{
    float *vec = malloc((size_t)ENROL_BATCH * D * sizeof *vec);
    if (!vec)
        return fs_fail(d, FS_ENOMEM, "no memory");
    int rc = FS_OK;
    double t0 = fs_bench_now();
    say(o, "enrolling %zu random unit vectors into the gallery (%zu there "
        "already)", o->n - have, have);
    for (size_t i0 = have; rc == FS_OK && i0 < o->n; i0 += ENROL_BATCH) {
        size_t m = o->n - i0 < ENROL_BATCH ? o->n - i0 : ENROL_BATCH;
        fs_bench_random_units(pool, o->seed, i0, m, vec);
        fs_gallery_batch *b;
        if ((rc = fs_gallery_begin(g, &b, d)) != FS_OK)
            break;
        for (size_t i = 0; rc == FS_OK && i < m; i++) {
            char subject[FS_SUBJECT_MAX];
            snprintf(subject, sizeof subject, "r%07zu", i0 + i + 1);
            fs_mugshot ms = { .subject = subject, .lawful_source = "bench" };
            memcpy(ms.tmpl, vec + i * D, sizeof ms.tmpl);
            fs_sha256(ms.tmpl, sizeof ms.tmpl, ms.sha256);
            rc = fs_gallery_put(b, &ms, NULL, d);
            if (rc == FS_EXISTS)        /* an earlier run's: keep it */
                rc = FS_OK;
        }
        if (rc == FS_OK)
            rc = fs_gallery_commit(b, d);
        else
            fs_gallery_abort(b);
        double el = fs_bench_now() - t0, rate = (double)(i0 + m - have) / el;
        say(o, "gallery: %zu/%zu vectors, %.0f/s, ETA %.0f s", i0 + m, o->n,
            rate, (double)(o->n - i0 - m) / rate);
    }
    free(vec);
    return rc;
}

/* A figure of /proc/self/status in bytes ("VmHWM": the peak resident
 * since the last peak_reset; "RssFile": the file pages mapped now); 0
 * where it cannot be read (not Linux). */
static size_t status_bytes(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    size_t kb = 0, n = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, key, n) && line[n] == ':' &&
            sscanf(line + n + 1, "%zu", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb * 1024;
}

static void peak_reset(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (f) {
        fputs("5", f);
        fclose(f);
    }
}

static int gallery_get(const fs_bench_rank_options *o, fs_pool *pool,
                       gallery *gal, fs_bench_rank_report *rep, fs_detail *d)
{
    char dir[4200], sha[65];
    unsigned char md[32];
    snprintf(dir, sizeof dir, "%s/gallery-v%d-g%d-n%zu-s%llu", o->work_dir,
             VEC_FORMAT, FS_GALLERY_SCHEMA, o->n, (unsigned long long)o->seed);
    fs_sha256(BENCH_MODEL, strlen(BENCH_MODEL), md);
    fs_hex(md, 32, sha);
    fs_gallery_options go = { .create = 1, .model_id = BENCH_MODEL,
                              .model_sha256 = sha };
    double t0 = fs_bench_now();
    int rc = fs_gallery_open(dir, &go, &gal->g, d);
    fs_gallery_stats st;
    if (rc == FS_OK)
        rc = fs_gallery_stat(gal->g, &st, d);
    if (rc != FS_OK)
        return rc;
    int fresh = st.templates < o->n;
    if (fresh) {
        peak_reset();
        if ((rc = enrol(o, pool, gal->g, (size_t)st.templates, d)) != FS_OK)
            return rc;
        rep->enrol_peak = status_bytes("VmHWM");
        rep->enrol_file = status_bytes("RssFile");
        /* time the open as a later run sees it */
        rep->build_s = fs_bench_now() - t0;
        fs_gallery_close(gal->g);
        gal->g = NULL;
        t0 = fs_bench_now();
        if ((rc = fs_gallery_open(dir, &go, &gal->g, d)) != FS_OK)
            return rc;
    }
    say(o, "opening the gallery %s", dir);
    peak_reset();
    if ((rc = fs_gallery_load(gal->g, &gal->t, d)) != FS_OK)
        return rc;
    rep->open_peak = status_bytes("VmHWM");
    rep->gallery_s = fs_bench_now() - t0;
    if (gal->t.n != o->n)
        return fs_fail(d, FS_EFORMAT, "gallery '%s' holds %zu templates, "
                       "not %zu", dir, gal->t.n, o->n);
    snprintf(rep->gallery_source, sizeof rep->gallery_source, "%s", dir);
    return FS_OK;
}

static void gallery_release(gallery *gal)
{
    fs_gallery_close(gal->g);
}

/* The raw file of rows for the peer, kept between runs (same name, same
 * content: the rows are a function of n and seed). */
static int raw_file(const char *path, const float *rows, size_t n)
{
    struct stat st;
    size_t bytes = n * D * sizeof(float);
    if (stat(path, &st) == 0 && (size_t)st.st_size == bytes)
        return FS_OK;
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int rc = fs_bench_write_file(tmp, rows, bytes);
    if (rc == FS_OK && rename(tmp, path) != 0)
        rc = FS_EIO;
    if (rc != FS_OK)
        unlink(tmp);
    return rc;
}

/* ---- memory bandwidth --------------------------------------------------- */

/* STREAM's read kernel, the physical bound of an exact scan: each thread
 * reads one contiguous part of its own (no two threads touch a page), one
 * plain sequential stream (the hardware prefetcher's best case, no
 * software prefetch), into eight independent accumulators (no dependency
 * chain between loads), over a buffer of at least MEM_BYTES (32x the
 * largest last-level cache we have seen, so no pass finds its data in
 * cache), median of MEM_REPS passes after a warm-up.  The yardstick
 * before it took the better of two patterns (1 stream, or 16 streams
 * with software prefetch) each the median of 3 passes: a maximum of
 * noisy figures, biased up, and the 16-stream pattern is not what the
 * machine streams but what it bursts; it printed 52 GB/s on 2 threads of
 * a machine that gives 33.
 *
 * The read is done two ways, and the faster median is the yardstick:
 * STREAM's (above), and in the float scan's own order at its level
 * (read_rows_scan512 or read_rows_scan256).  Once the scan kept its sums
 * in registers, it read 1M rows at 33-35 GB/s on one thread of an AMD
 * EPYC where STREAM's read gave 25-31 in the same runs (share 1.02-1.44):
 * a yardstick that the scan beats bounds nothing.  One core's reads there
 * are paced by what it keeps in flight, and the scan's order keeps more:
 * it read at 31-34 GB/s where STREAM's gave 25-30 and a float multiply-
 * add read of 8 sums 25-27 (2 runs of 3 rounds, each the median of 5
 * passes).  Each way is one full sequential pass of real reads, so the
 * better of two medians is a rate the machine gave. */
#define MEM_BYTES ((size_t)1 << 30)
#define MEM_REPS  5

typedef uint64_t (*read_fn)(const float *p, size_t rows);

typedef struct read_job {
    const float *buf;
    size_t       rows;
    read_fn      read;
    uint64_t     sink[256];
} read_job;

#if defined(__x86_64__)
__attribute__((target("avx2")))
static uint64_t read_rows_avx2(const float *p, size_t rows)
{
    const __m256i *v = (const __m256i *)(const void *)p;
    size_t n = rows * D / 8;                   /* ymm words; D/8 per row */
    __m256i a[8];
    for (int j = 0; j < 8; j++)
        a[j] = _mm256_setzero_si256();
    for (size_t i = 0; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++)
            a[j] = _mm256_add_epi64(a[j], _mm256_load_si256(v + i + j));
    for (int j = 1; j < 8; j++)
        a[0] = _mm256_xor_si256(a[0], a[j]);
    return (uint64_t)_mm256_extract_epi64(a[0], 0) ^
           (uint64_t)_mm256_extract_epi64(a[0], 3);
}

/* The read in the AVX2 scan's order: 8 rows a step, each row's 16 ymm
 * into four sums, its lines asked for 1 KB ahead (dot8_avx2 without its
 * probe, transposition and selection). */
__attribute__((target("avx2,fma")))
static uint64_t read_rows_scan256(const float *p, size_t rows)
{
    const __m256 c = _mm256_set1_ps(0.5f);
    __m256 f[8];
    for (int j = 0; j < 8; j++)
        f[j] = _mm256_setzero_ps();
    for (size_t r = 0; r + 8 <= rows; r += 8)
#pragma GCC unroll 8
        for (int k = 0; k < 8; k++) {
            const float *row = p + (r + (size_t)k) * D;
            for (int l = 0; l < 8; l++)
                _mm_prefetch((const char *)row + 1024 + 64 * l, _MM_HINT_T0);
            __m256 a[4];
            for (int j = 0; j < 4; j++)
                a[j] = _mm256_mul_ps(_mm256_load_ps(row + 8 * j), c);
            for (int j = 4; j < D / 8; j += 4)
                for (int i = 0; i < 4; i++)
                    a[i] = _mm256_fmadd_ps(_mm256_load_ps(row + 8 * (j + i)),
                                           c, a[i]);
            __m256 sum = _mm256_add_ps(_mm256_add_ps(a[0], a[2]),
                                       _mm256_add_ps(a[1], a[3]));
            f[k] = _mm256_add_ps(f[k], sum);
        }
    for (int j = 1; j < 8; j++)
        f[0] = _mm256_add_ps(f[0], f[j]);
    float o[8];
    _mm256_storeu_ps(o, f[0]);
    uint32_t bits;
    memcpy(&bits, &o[0], sizeof bits);
    return bits;
}

/* The read in the AVX-512 scan's order: 16 rows a step, each row's 8 zmm
 * into two sums, its lines asked for 1 KB ahead (index/fs_rank_kern.c's
 * dot16_avx512 without its probe, transposition and selection). */
__attribute__((target("avx512f")))
static uint64_t read_rows_scan512(const float *p, size_t rows)
{
    const __m512 c = _mm512_set1_ps(0.5f);
    __m512 a[16];
    for (int j = 0; j < 16; j++)
        a[j] = _mm512_setzero_ps();
    for (size_t r = 0; r + 16 <= rows; r += 16)
#pragma GCC unroll 16
        for (int k = 0; k < 16; k++) {
            const float *row = p + (r + (size_t)k) * D;
            for (int l = 0; l < 8; l++)
                _mm_prefetch((const char *)row + 1024 + 64 * l, _MM_HINT_T0);
            __m512 x = _mm512_mul_ps(_mm512_load_ps(row), c);
            __m512 y = _mm512_mul_ps(_mm512_load_ps(row + 16), c);
            for (int j = 2; j < 8; j += 2) {
                x = _mm512_fmadd_ps(_mm512_load_ps(row + 16 * j), c, x);
                y = _mm512_fmadd_ps(_mm512_load_ps(row + 16 * j + 16), c, y);
            }
            a[k] = _mm512_add_ps(a[k], _mm512_add_ps(x, y));
        }
    for (int j = 1; j < 16; j++)
        a[0] = _mm512_add_ps(a[0], a[j]);
    float f = _mm512_reduce_add_ps(a[0]);
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    return bits;
}
#endif

static uint64_t read_rows(const float *p, size_t rows)
{
#if defined(__x86_64__)
    if (fs_isa_best() >= FS_ISA_AVX2)
        return read_rows_avx2(p, rows);
#endif
    const uint64_t *w = (const uint64_t *)(const void *)p;
    uint64_t a[8] = { 0 };
    for (size_t i = 0; i < rows * D / 2; i += 8)
        for (int j = 0; j < 8; j++)
            a[j] += w[i + j];
    return a[0] ^ a[1] ^ a[2] ^ a[3] ^ a[4] ^ a[5] ^ a[6] ^ a[7];
}

static void read_team(void *arg, int tid, int nt)
{
    read_job *j = arg;
    long lo, hi;
    fs_pool_split((long)j->rows, tid, nt, &lo, &hi);
    j->sink[tid % 256] = j->read(j->buf + (size_t)lo * D,
                                 (size_t)(hi - lo));
}

/* GB/s of reading the whole buffer on the pool's threads with one way of
 * reading: the median of MEM_REPS passes after a warm-up pass. */
static double bandwidth_by(fs_pool *pool, const float *buf, size_t rows,
                           read_fn read)
{
    read_job j = { buf, rows, read, { 0 } };
    double t[MEM_REPS];
    fs_pool_run(pool, read_team, &j);
    for (int i = 0; i < MEM_REPS; i++) {
        double t0 = fs_bench_now();
        fs_pool_run(pool, read_team, &j);
        t[i] = fs_bench_now() - t0;
    }
    return (double)rows * D * sizeof(float) / fs_bench_median(t, MEM_REPS) /
           1e9;
}

/* The yardstick: the better of the ways of reading (above). */
static double bandwidth(fs_pool *pool, const float *buf, size_t rows)
{
    double gbs = bandwidth_by(pool, buf, rows, read_rows);
#if defined(__x86_64__)
    read_fn scan_order = fs_isa_best() >= FS_ISA_AVX512 ? read_rows_scan512
                       : fs_isa_best() >= FS_ISA_AVX2 ? read_rows_scan256
                       : NULL;
    if (scan_order)
        gbs = fmax(gbs, bandwidth_by(pool, buf, rows, scan_order));
#endif
    return gbs;
}

/* ---- timing ------------------------------------------------------------- */

typedef struct lat_list {
    double *v;
    size_t  n;
} lat_list;

static void lat_add(lat_list *l, double ms)
{
    if (l->n < MAX_LAT)
        l->v[l->n++] = ms;
}

/* Probes [first, first + batch) of the query set, wrapping around. */
static const float *probes_at(const float *q, int nq, long first, int batch,
                              float *buf)
{
    if (first % nq + batch <= nq)
        return q + (size_t)(first % nq) * D;
    for (int i = 0; i < batch; i++)
        memcpy(buf + (size_t)i * D, q + (size_t)((first + i) % nq) * D,
               D * sizeof *buf);
    return buf;
}

/* One round of one of our rankers: calls of `batch` probes for `seconds`
 * (at least MIN_CALLS), each call's ms per probe into lat and the round's
 * median into *round_ms. */
static int time_ours(fs_ranker *r, const float *q, int nq, long *cursor,
                     int batch, int k, double seconds, float *buf,
                     fs_hit *hits, size_t *nh, lat_list *lat,
                     double *round_ms)
{
    double *mine = malloc(MAX_LAT * sizeof *mine);
    if (!mine)
        return FS_ENOMEM;
    int rc = fs_rank_topk(r, probes_at(q, nq, *cursor, batch, buf),
                          (size_t)batch, (size_t)k, hits, nh);  /* warm-up */
    int calls = 0;
    double start = fs_bench_now();
    while (rc == FS_OK && calls < MAX_LAT &&
           (calls < MIN_CALLS || fs_bench_now() - start < seconds)) {
        *cursor += batch;
        const float *p = probes_at(q, nq, *cursor, batch, buf);
        double t0 = fs_bench_now();
        rc = fs_rank_topk(r, p, (size_t)batch, (size_t)k, hits, nh);
        double ms = (fs_bench_now() - t0) * 1e3 / batch;
        mine[calls++] = ms;
        lat_add(lat, ms);
    }
    *round_ms = fs_bench_median(mine, calls);
    free(mine);
    return rc;
}

/* ---- the peer process --------------------------------------------------- */

typedef struct peer {
    fs_bench_child c;
    int            up;
    int            has[NENGINES];
    char           errfile[4200];
    char          *line;
    size_t         cap;
} peer;

static int peer_line(peer *p)
{
    ssize_t got = getline(&p->line, &p->cap, p->c.from);
    if (got <= 0)
        return FS_EIO;
    p->line[strcspn(p->line, "\n")] = 0;
    return FS_OK;
}

static void peer_failed(peer *p, char *why, size_t len)
{
    char tail[200];
    fs_bench_last_line(p->errfile, tail, sizeof tail);
    snprintf(why, len, "fs-peer-rank failed%s%s", tail[0] ? ": " : "", tail);
}

static int peer_start(const fs_bench_rank_options *o, peer *p, int want_hnsw,
                      const char *vecfile, const char *qfile,
                      const char *hnsw_cache, char *why, size_t whylen)
{
    char exe[4200], n[32], nq[32], k[32], engines[32];
    snprintf(exe, sizeof exe, "%s/fs-peer-rank", o->exe_dir);
    if (access(exe, X_OK) != 0) {
        snprintf(why, whylen, "%s is not built (make all)", exe);
        return FS_ENOENT;
    }
    snprintf(n, sizeof n, "%zu", o->n);
    snprintf(nq, sizeof nq, "%d", o->queries);
    snprintf(k, sizeof k, "%d", o->k);
    snprintf(engines, sizeof engines, "%s%s%s",
             o->peers & FS_PEER_FAISS ? "faiss" : "",
             (o->peers & FS_PEER_FAISS) && want_hnsw ? "," : "",
             want_hnsw ? "hnswlib" : "");
    char *argv[] = { exe, "--vectors", (char *)vecfile, "--n", n,
                     "--queries", (char *)qfile, "--nq", nq, "--k", k,
                     "--engines", engines, "--hnsw-cache", (char *)hnsw_cache,
                     NULL };
    /* Faiss's batches go to OpenBLAS, with a worker per core as it would
     * run alone: not the one thread the front sets for ours */
    char blas[48];
    snprintf(blas, sizeof blas, "OPENBLAS_NUM_THREADS=%d", fs_cpu_count());
    const char *env[] = { "OMP_WAIT_POLICY=PASSIVE", blas, NULL };
    snprintf(p->errfile, sizeof p->errfile, "%s/peer-rank.err", o->work_dir);
    if (fs_bench_child_start(argv, env, p->errfile, &p->c) != FS_OK) {
        snprintf(why, whylen, "cannot start %s", exe);
        return FS_EIO;
    }
    p->up = 1;
    while (peer_line(p) == FS_OK) {
        if (strncmp(p->line, "progress ", 9) == 0) {
            say(o, "%s", p->line + 9);
        } else if (strcmp(p->line, "ready") == 0) {
            p->has[E_FAISS] = !!(o->peers & FS_PEER_FAISS);
            p->has[E_HNSW] = want_hnsw;
            return FS_OK;
        }
    }
    peer_failed(p, why, whylen);
    fs_bench_child_stop(&p->c);
    p->up = 0;
    return FS_EIO;
}

/* The peer's result rows for every query (k per query, -1 for none). */
static int peer_ids(peer *p, int e, int nq, int k, long *ids)
{
    fprintf(p->c.to, "ids %s\n", peer_engine[e]);
    fflush(p->c.to);
    if (peer_line(p) != FS_OK || strncmp(p->line, "ids ", 4) != 0)
        return FS_EIO;
    for (int q = 0; q < nq; q++) {
        if (peer_line(p) != FS_OK)
            return FS_EIO;
        char *s = p->line, *end;
        for (int j = 0; j < k; j++, s = end) {
            ids[(size_t)q * k + j] = strtol(s, &end, 10);
            if (end == s)
                return FS_EIO;
        }
    }
    return FS_OK;
}

/* One round of a peer engine, as time_ours. */
static int peer_time(peer *p, int e, int batch, int threads, double seconds,
                     long *cursor, lat_list *lat, double *round_ms)
{
    fprintf(p->c.to, "run %s %d %d %g %ld\n", peer_engine[e], batch, threads,
            seconds, *cursor);
    fflush(p->c.to);
    if (peer_line(p) != FS_OK || strncmp(p->line, "lat ", 4) != 0)
        return FS_EIO;
    char *s = p->line + 4 + strcspn(p->line + 4, " "), *end;
    long calls = strtol(s, &end, 10);
    if (end == s || calls <= 0)
        return FS_EIO;
    double *mine = malloc((size_t)calls * sizeof *mine);
    if (!mine)
        return FS_ENOMEM;
    long got = 0;
    for (s = end; got < calls; s = end) {
        double ms = strtod(s, &end);
        if (end == s)
            break;
        mine[got++] = ms / batch;
        lat_add(lat, ms / batch);
    }
    *round_ms = fs_bench_median(mine, (int)got);
    *cursor += (calls + 1) * batch;
    free(mine);
    return got == calls ? FS_OK : FS_EIO;
}

/* ---- recall ------------------------------------------------------------- */

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

/* Mean over queries of |ids ∩ truth| / |truth|; both lists k per query,
 * -1 padding in ids.  Sorts both in place. */
static double recall(long *ids, long *truth, const size_t *ntruth, int nq,
                     int k)
{
    double sum = 0;
    for (int q = 0; q < nq; q++) {
        long *a = ids + (size_t)q * k, *b = truth + (size_t)q * k;
        size_t nb = ntruth[q], hit = 0;
        qsort(a, (size_t)k, sizeof *a, cmp_long);
        qsort(b, nb, sizeof *b, cmp_long);
        for (size_t i = 0, j = 0; i < (size_t)k && j < nb;) {
            if (a[i] < b[j])
                i++;
            else if (a[i] > b[j])
                j++;
            else {
                hit += a[i] >= 0;
                i++;
                j++;
            }
        }
        sum += nb ? (double)hit / (double)nb : 1.0;
    }
    return sum / nq;
}

/* Rows of our lists as ids, k per query. */
static void hit_rows(const fs_hit *h, const size_t *nh, int nq, int k,
                     long *out)
{
    for (int q = 0; q < nq; q++)
        for (int j = 0; j < k; j++)
            out[(size_t)q * k + j] = (size_t)j < nh[q] ?
                (long)h[(size_t)q * k + j].row : -1;
}

/* ---- the run ------------------------------------------------------------ */

static fs_bench_rank_result *add_result(fs_bench_rank_report *rep, int e,
                                        int threads, int batch)
{
    if (rep->n >= (int)(sizeof rep->r / sizeof rep->r[0]))
        return NULL;
    fs_bench_rank_result *r = &rep->r[rep->n++];
    memset(r, 0, sizeof *r);
    snprintf(r->engine, sizeof r->engine, "%s", engine_name[e]);
    r->threads = threads;
    r->batch = batch;
    r->recall_at_k = -1;
    return r;
}

typedef struct run {
    const fs_bench_rank_options *o;
    fs_bench_rank_report *rep;
    gallery      g;
    float       *queries, *buf;
    fs_pool     *pool[2];
    fs_ranker   *rk[2][E_FAISS];   /* [thread list index][our engine] */
    fs_hit      *hits;
    size_t      *nh;
    long        *truth, *ids;
    size_t      *ntruth;
    peer         peer;
    fs_bench_rank_result *slot[2][2][NENGINES];   /* [t][batch][engine] */
    lat_list     lat[2][2][NENGINES];
} run;

/* Our rankers on each thread count.  facesearch-exact is made as the
 * gate makes it (FS_EXACT_AUTO) and given its two first calls here: the
 * second builds the int8 copy when the gallery is large enough, timed. */
static int setup_rankers(run *u, fs_detail *d)
{
    const fs_bench_rank_options *o = u->o;
    fs_bench_rank_report *rep = u->rep;
    const fs_templates *t = &u->g.t;
    static const int mode[E_FAISS] = { FS_RANK_EXACT, FS_RANK_EXACT,
                                       FS_RANK_COMPRESSED };
    static const int exact[E_FAISS] = { FS_EXACT_AUTO, FS_EXACT_SCAN,
                                        FS_EXACT_AUTO };
    for (int ti = 0; ti < rep->nt; ti++) {
        int rc = fs_pool_create(rep->tlist[ti], &u->pool[ti]);
        if (rc != FS_OK)
            return fs_fail(d, rc, "cannot start %d threads", rep->tlist[ti]);
        for (int m = 0; m < E_FAISS; m++) {
            fs_rank_options ro = { mode[m], -1,
                                   rep->tlist[ti] > 1 ? u->pool[ti] : NULL,
                                   0, exact[m] };
            fs_ranker **r = &u->rk[ti][m];
            double t0 = fs_bench_now();
            if (m != E_EXACT_F32)
                say(o, "%s: building the int8 copy (%d thread(s))",
                    engine_name[m], rep->tlist[ti]);
            if ((rc = fs_ranker_create(t, &ro, r, d)) != FS_OK)
                return rc;
            if (m == E_COMPRESSED && ti == rep->nt - 1)
                rep->compress_s = fs_bench_now() - t0;
            if (m != E_EXACT)
                continue;
            for (int call = 0; call < 2 && rc == FS_OK; call++) {
                t0 = fs_bench_now();
                rc = fs_rank_topk(*r, u->queries, 1, (size_t)o->k, u->hits,
                                  u->nh);
            }
            if (rc != FS_OK)
                return fs_fail(d, rc, "%s failed", engine_name[m]);
            if (ti == rep->nt - 1)
                rep->bounded_build_s = fs_bench_now() - t0;
        }
    }
    fs_rank_info info;
    fs_ranker_info(u->rk[rep->nt - 1][E_EXACT], (size_t)o->k, &info);
    rep->bounded = info.bounded;
    rep->matrix_bytes = info.matrix_bytes;
    rep->bounded_copy_bytes = info.copy_bytes;
    return FS_OK;
}

/* Every query's list from ranker r, in batches, into u->hits and n. */
static int rank_all(run *u, fs_ranker *r, size_t *n)
{
    size_t nq = (size_t)u->o->queries, k = (size_t)u->o->k;
    for (size_t q0 = 0; q0 < nq; q0 += BATCH) {
        size_t m = nq - q0 < BATCH ? nq - q0 : BATCH;
        int rc = fs_rank_topk(r, u->queries + q0 * D, m, k,
                              u->hits + q0 * k, n + q0);
        if (rc != FS_OK)
            return rc;
    }
    return FS_OK;
}

/* Each query alone through facesearch-exact and the float scan, on all
 * threads: how many lists are the same bit for bit (ids, order, scores),
 * the rows the bounded pass re-scored (median per probe), and
 * facesearch-exact's recall against the scan's lists. */
static int exact_identity(run *u, fs_detail *d)
{
    const fs_bench_rank_options *o = u->o;
    fs_bench_rank_report *rep = u->rep;
    fs_ranker *ex = u->rk[rep->nt - 1][E_EXACT],
              *sc = u->rk[rep->nt - 1][E_EXACT_F32];
    size_t nq = (size_t)o->queries, k = (size_t)o->k, na, nb;
    fs_hit *a = malloc(2 * k * sizeof *a), *b = a + k;
    double *res = malloc(nq * sizeof *res);
    long *ids = malloc(2 * nq * k * sizeof *ids), *truth = ids + nq * k;
    size_t *nt = malloc(nq * sizeof *nt);
    int rc = a && res && ids && nt ? FS_OK : FS_ENOMEM;
    say(o, "%s and %s: each query alone, compared", engine_name[E_EXACT],
        engine_name[E_EXACT_F32]);
    rep->exact_identical = 0;
    for (size_t q = 0; rc == FS_OK && q < nq; q++) {
        const float *p = u->queries + q * D;
        fs_rank_info info;
        if ((rc = fs_rank_topk(ex, p, 1, k, a, &na)) != FS_OK ||
            (rc = fs_rank_topk(sc, p, 1, k, b, &nb)) != FS_OK)
            break;
        fs_ranker_info(ex, k, &info);
        res[q] = (double)info.rescored;
        rep->exact_identical += na == nb && memcmp(a, b, na * sizeof *a) == 0;
        nt[q] = nb;
        for (size_t i = 0; i < k; i++) {
            ids[q * k + i] = i < na ? (long)a[i].row : -1;
            truth[q * k + i] = i < nb ? (long)b[i].row : -1;
        }
    }
    if (rc == FS_OK) {
        rep->bounded_rescored = fs_bench_quantile(res, nq, 0.5);
        double rcl = recall(ids, truth, nt, o->queries, o->k);
        for (int ti = 0; ti < rep->nt; ti++)
            for (int bi = 0; bi < 2; bi++)
                for (int e = E_EXACT; e <= E_EXACT_F32; e++)
                    if (u->slot[ti][bi][e])
                        u->slot[ti][bi][e]->recall_at_k =
                            e == E_EXACT ? rcl : 1.0;
    }
    free(a);
    free(res);
    free(ids);
    free(nt);
    return rc == FS_OK ? FS_OK : fs_fail(d, rc, "exact ranking failed");
}

/* The float scan's lists for every query, in batches (the truth every
 * other recall is measured against), and the compressed mode's recall. */
static int our_recall(run *u, fs_detail *d)
{
    const fs_bench_rank_options *o = u->o;
    fs_bench_rank_report *rep = u->rep;
    size_t nq = (size_t)o->queries;
    int last = rep->nt - 1, rc;
    say(o, "exact lists of all %zu queries", nq);
    if ((rc = rank_all(u, u->rk[last][E_EXACT_F32], u->ntruth)) != FS_OK)
        return fs_fail(d, rc, "exact ranking failed");
    hit_rows(u->hits, u->ntruth, o->queries, o->k, u->truth);
    if ((rc = rank_all(u, u->rk[last][E_COMPRESSED], u->nh)) != FS_OK)
        return fs_fail(d, rc, "compressed ranking failed");
    hit_rows(u->hits, u->nh, o->queries, o->k, u->ids);
    long *truth = malloc(nq * (size_t)o->k * sizeof *truth);
    if (!truth)
        return fs_fail(d, FS_ENOMEM, "no memory");
    memcpy(truth, u->truth, nq * (size_t)o->k * sizeof *truth);
    double rc_recall = recall(u->ids, truth, u->ntruth, o->queries, o->k);
    free(truth);
    for (int ti = 0; ti < rep->nt; ti++)
        for (int bi = 0; bi < 2; bi++)
            if (u->slot[ti][bi][E_COMPRESSED])
                u->slot[ti][bi][E_COMPRESSED]->recall_at_k = rc_recall;
    return exact_identity(u, d);
}

static void peer_recall(run *u, int e)
{
    const fs_bench_rank_options *o = u->o;
    size_t cells = (size_t)o->queries * o->k;
    long *truth = malloc(cells * sizeof *truth);
    double rcl = -1;
    if (truth && peer_ids(&u->peer, e, o->queries, o->k, u->ids) == FS_OK) {
        memcpy(truth, u->truth, cells * sizeof *truth);
        rcl = recall(u->ids, truth, u->ntruth, o->queries, o->k);
    }
    free(truth);
    for (int ti = 0; ti < u->rep->nt; ti++)
        for (int bi = 0; bi < 2; bi++)
            if (u->slot[ti][bi][e])
                u->slot[ti][bi][e]->recall_at_k = rcl;
}

/* Starts the peer (or says in every peer slot why not). */
static void start_peers(run *u)
{
    const fs_bench_rank_options *o = u->o;
    fs_bench_rank_report *rep = u->rep;
    char vecfile[4200], qfile[4200], cache[4200], why[300] = "";
    unsigned long long seed = (unsigned long long)o->seed;
    snprintf(vecfile, sizeof vecfile, "%s/rank-v%d-n%zu-s%llu.f32",
             o->work_dir, VEC_FORMAT, o->n, seed);
    snprintf(qfile, sizeof qfile, "%s/rank-v%d-q%d-s%llu.f32", o->work_dir,
             VEC_FORMAT, o->queries, seed);
    snprintf(cache, sizeof cache, "%s/hnsw-v%d-n%zu-s%llu-M16-efc200.bin",
             o->work_dir, VEC_FORMAT, o->n, seed);
    int want_hnsw = !!(o->peers & FS_PEER_HNSW);
    char hnsw_why[200] = "not asked for (--peers)";
    if (want_hnsw && o->n > FS_BENCH_HNSW_MAX && access(cache, R_OK) != 0) {
        want_hnsw = 0;
        snprintf(hnsw_why, sizeof hnsw_why, "not built above %d vectors "
                 "(%.0f+ minutes at the ~1200 inserts/s of 2 cores here); "
                 "a cached index in %s would be used", FS_BENCH_HNSW_MAX,
                 (double)o->n / 1200.0 / 60.0, o->work_dir);
    }
    if (!(o->peers & FS_PEER_FAISS) && !want_hnsw) {
        snprintf(why, sizeof why, "not asked for (--peers)");
    } else {
        say(o, "writing the vectors for the peer to %s", vecfile);
        if (raw_file(vecfile, u->g.t.vec, u->g.t.n) != FS_OK ||
            raw_file(qfile, u->queries, (size_t)o->queries) != FS_OK)
            snprintf(why, sizeof why, "cannot write %s", vecfile);
        else if (want_hnsw && access(cache, R_OK) != 0)
            say(o, "hnswlib: building the index once (cached in %s)", cache);
        if (!why[0] && peer_start(o, &u->peer, want_hnsw, vecfile, qfile,
                                  cache, why, sizeof why) == FS_OK)
            note(rep, "faiss-flatip runs with OMP_WAIT_POLICY=PASSIVE "
                 "(OpenMP's default spinning is several times slower on a "
                 "small shared machine); hnswlib answers one probe on one "
                 "thread, a batch on all given threads");
    }
    for (int e = E_FAISS; e < NENGINES; e++)
        for (int ti = 0; ti < rep->nt; ti++)
            for (int bi = 0; bi < 2; bi++) {
                fs_bench_rank_result *r = u->slot[ti][bi][e];
                if (r && !u->peer.has[e])
                    snprintf(r->note, sizeof r->note, "%s",
                             e == E_HNSW && !want_hnsw ? hnsw_why :
                             why[0] ? why : "not asked for (--peers)");
            }
    for (int e = E_FAISS; e < NENGINES; e++)
        if (u->peer.has[e]) {
            say(o, "%s: lists of all %d queries", engine_name[e], o->queries);
            peer_recall(u, e);
        }
    if (u->peer.has[E_HNSW])
        note(rep, "hnswlib's recall here is on random unit vectors, the "
             "worst case of a graph index (no neighbourhoods to follow): "
             "it says little of its recall on face templates");
}

static int rounds_run(run *u, fs_detail *d)
{
    const fs_bench_rank_options *o = u->o;
    fs_bench_rank_report *rep = u->rep;
    static const int batches[2] = { 1, BATCH };
    long cursor[NENGINES] = { 0 };
    int rc = FS_OK;
    const float *membuf = u->g.t.vec;
    size_t memrows = u->g.t.n, membytes = 0;
    float *own = NULL;
    if (memrows * D * sizeof(float) < MEM_BYTES) {
        /* a smaller gallery may sit in cache; the bound is DRAM's */
        memrows = MEM_BYTES / (D * sizeof(float));
        own = alloc_matrix(memrows, &membytes);
        if (!own)
            return fs_fail(d, FS_ENOMEM, "no memory for the bandwidth test");
        memset(own, 0x3c, membytes);    /* floats of 0.0115: the float */
                                        /* read meets no subnormals */
        membuf = own;
    }
    rep->mem_bytes = memrows * D * sizeof(float);
    for (int round = 0; round < rep->rounds && rc == FS_OK; round++)
        for (int ti = 0; ti < rep->nt && rc == FS_OK; ti++) {
            int th = rep->tlist[ti];
            double mem_before = 0;
            for (int bi = 0; bi < 2 && rc == FS_OK; bi++)
                for (int e = 0; e < NENGINES && rc == FS_OK; e++) {
                    fs_bench_rank_result *r = u->slot[ti][bi][e];
                    lat_list *lat = &u->lat[ti][bi][e];
                    if (!r || (e >= E_FAISS && !u->peer.has[e]))
                        continue;
                    /* The yardstick right before and right after the
                     * float scan, and their mean: this VM's bandwidth
                     * wandered by a third between runs (25-36 GB/s on 1
                     * thread), so the share pairs it with its moment. */
                    int bracket = e == E_EXACT_F32 && bi == 0;
                    if (bracket) {
                        say(o, "round %d/%d: memory read bandwidth, %d "
                            "thread(s)", round + 1, rep->rounds, th);
                        mem_before = bandwidth(u->pool[ti], membuf, memrows);
                    }
                    say(o, "round %d/%d: %s, %d thread(s), batch %d",
                        round + 1, rep->rounds, r->engine, th, batches[bi]);
                    double ms = 0;
                    if (e < E_FAISS) {
                        rc = time_ours(u->rk[ti][e], u->queries,
                                       o->queries, &cursor[e], batches[bi],
                                       o->k, o->seconds, u->buf, u->hits,
                                       u->nh, lat, &ms);
                        if (rc != FS_OK)
                            fs_fail(d, rc, "%s failed", r->engine);
                    } else if (peer_time(&u->peer, e, batches[bi], th,
                                         o->seconds, &cursor[e], lat,
                                         &ms) != FS_OK) {
                        char why[300];
                        peer_failed(&u->peer, why, sizeof why);
                        snprintf(r->note, sizeof r->note, "%s", why);
                        u->peer.has[E_FAISS] = u->peer.has[E_HNSW] = 0;
                        continue;
                    }
                    if (ms > 0)
                        r->round_ms[r->rounds++] = ms;
                    if (bracket)
                        rep->mem_round[ti][round] =
                            (mem_before + bandwidth(u->pool[ti], membuf,
                                                    memrows)) / 2;
                }
        }
    for (int ti = 0; ti < rep->nt; ti++) {
        double v[FS_BENCH_MAX_ROUNDS];
        memcpy(v, rep->mem_round[ti], sizeof v);
        rep->mem_gbs[ti] = fs_bench_median(v, rep->rounds);
        rep->mem_min[ti] = rep->mem_max[ti] = v[0];
        for (int i = 1; i < rep->rounds; i++) {
            rep->mem_min[ti] = fmin(rep->mem_min[ti], v[i]);
            rep->mem_max[ti] = fmax(rep->mem_max[ti], v[i]);
        }
    }
    free(own);
    return rc;
}

static void summarise(run *u)
{
    fs_bench_rank_report *rep = u->rep;
    double gallery_gb = (double)rep->rows * D * sizeof(float) / 1e9;
    for (int ti = 0; ti < rep->nt; ti++)
        for (int bi = 0; bi < 2; bi++)
            for (int e = 0; e < NENGINES; e++) {
                fs_bench_rank_result *r = u->slot[ti][bi][e];
                lat_list *l = &u->lat[ti][bi][e];
                if (!r || r->rounds == 0 || l->n == 0)
                    continue;
                double sum = 0;
                for (size_t i = 0; i < l->n; i++)
                    sum += l->v[i];
                r->ms_p50 = fs_bench_quantile(l->v, l->n, 0.5);
                r->ms_p99 = fs_bench_quantile(l->v, l->n, 0.99);
                r->probes_per_s = 1e3 * (double)l->n / sum;
                r->gb_per_s = gallery_gb * r->probes_per_s;
                r->ok = 1;
            }
}

int fs_bench_rank(const fs_bench_rank_options *o, fs_bench_rank_report *rep,
                  fs_detail *d)
{
    memset(rep, 0, sizeof *rep);
    rep->ncpu = fs_cpu_count();
    rep->tlist[0] = o->threads > 0 ? o->threads : 1;
    rep->tlist[1] = rep->ncpu;
    rep->nt = o->threads > 0 || rep->ncpu == 1 ? 1 : 2;
    rep->rows = o->n;
    rep->dim = D;
    rep->k = o->k;
    rep->queries = o->queries;
    rep->seed = o->seed;
    rep->rounds = o->rounds > 0 ? o->rounds : 3;
    if (rep->rounds > FS_BENCH_MAX_ROUNDS)
        rep->rounds = FS_BENCH_MAX_ROUNDS;
    snprintf(rep->isa, sizeof rep->isa, "%s", fs_isa_name(fs_isa_best()));
    if (o->n < 1 || o->n > UINT32_MAX - 1 || o->queries < 1 || o->k < 1 ||
        o->k > FS_RANK_MAX_K)
        return fs_fail(d, FS_EINVAL, "bad gallery size, query count or k");
    if (mkdir(o->work_dir, 0755) != 0 && errno != EEXIST)
        return fs_fail(d, FS_EIO, "cannot create '%s': %s", o->work_dir,
                       strerror(errno));

    run u;
    memset(&u, 0, sizeof u);
    u.o = o;
    u.rep = rep;
    size_t cells = (size_t)o->queries * o->k;
    size_t most = o->queries > BATCH ? (size_t)o->queries : BATCH;
    int rc = FS_OK;
    fs_pool *all = NULL;
    u.queries = aligned_alloc(64, (size_t)o->queries * D * sizeof(float));
    u.buf = aligned_alloc(64, BATCH * D * sizeof(float));
    u.hits = malloc(most * o->k * sizeof *u.hits);    /* a batch, or all */
    u.nh = malloc(most * sizeof *u.nh);
    u.ntruth = malloc((size_t)o->queries * sizeof *u.ntruth);
    u.truth = malloc(cells * sizeof *u.truth);
    u.ids = malloc(cells * sizeof *u.ids);
    if (!u.queries || !u.buf || !u.hits || !u.nh || !u.ntruth || !u.truth ||
        !u.ids) {
        rc = fs_fail(d, FS_ENOMEM, "no memory");
        goto out;
    }
    for (int ti = 0; ti < rep->nt; ti++)
        for (int bi = 0; bi < 2; bi++)
            for (int e = 0; e < NENGINES; e++) {
                /* a batch takes sgemm in both exact engines: one line */
                if (!(bi && e == E_EXACT_F32))
                    u.slot[ti][bi][e] = add_result(rep, e, rep->tlist[ti],
                                                   bi ? BATCH : 1);
                u.lat[ti][bi][e].v = malloc(MAX_LAT * sizeof(double));
                if (!u.lat[ti][bi][e].v) {
                    rc = fs_fail(d, FS_ENOMEM, "no memory");
                    goto out;
                }
            }
    if ((rc = fs_pool_create(rep->ncpu, &all)) != FS_OK) {
        rc = fs_fail(d, rc, "cannot start threads");
        goto out;
    }
    if ((rc = gallery_get(o, all, &u.g, rep, d)) != FS_OK)
        goto out;
    fs_bench_random_units(all, PROBE_SEED(o->seed), 0, (size_t)o->queries,
                          u.queries);                /* probes: another set */
    if ((rc = setup_rankers(&u, d)) != FS_OK)
        goto out;
    fs_rank_info info;
    fs_ranker_info(u.rk[rep->nt - 1][E_COMPRESSED], (size_t)o->k, &info);
    rep->shortlist = info.shortlist;
    snprintf(rep->q8_kernel, sizeof rep->q8_kernel, "%s", info.int8_kernel);
    if ((rc = our_recall(&u, d)) != FS_OK)
        goto out;
    start_peers(&u);
    if ((rc = rounds_run(&u, d)) != FS_OK)
        goto out;
    summarise(&u);
    rep->run_peak = status_bytes("VmHWM");
out:
    if (u.peer.up) {
        fprintf(u.peer.c.to, "quit\n");
        fs_bench_child_stop(&u.peer.c);
    }
    free(u.peer.line);
    for (int ti = 0; ti < 2; ti++) {
        for (int m = 0; m < E_FAISS; m++)
            fs_ranker_free(u.rk[ti][m]);
        fs_pool_free(u.pool[ti]);
    }
    for (int ti = 0; ti < 2; ti++)
        for (int bi = 0; bi < 2; bi++)
            for (int e = 0; e < NENGINES; e++)
                free(u.lat[ti][bi][e].v);
    fs_pool_free(all);
    gallery_release(&u.g);
    free(u.queries);
    free(u.buf);
    free(u.hits);
    free(u.nh);
    free(u.ntruth);
    free(u.truth);
    free(u.ids);
    return rc;
}

const fs_bench_rank_result *fs_bench_rank_find(const fs_bench_rank_report *rep,
                                               const char *engine,
                                               int threads, int batch)
{
    for (int i = 0; i < rep->n; i++)
        if (strcmp(rep->r[i].engine, engine) == 0 &&
            rep->r[i].threads == threads && rep->r[i].batch == batch &&
            rep->r[i].ok)
            return &rep->r[i];
    return NULL;
}

double fs_bench_rank_speedup(const fs_bench_rank_result *fast,
                             const fs_bench_rank_result *slow)
{
    if (!fast || !slow)
        return 0;
    return fs_bench_round_ratio(slow->round_ms, slow->rounds, fast->round_ms,
                                fast->rounds);
}

double fs_bench_rank_bandwidth_share(const fs_bench_rank_report *rep,
                                     const char *engine, int ti)
{
    if (ti < 0 || ti >= rep->nt)
        return 0;
    const fs_bench_rank_result *e = fs_bench_rank_find(
        rep, engine, rep->tlist[ti], 1);
    if (!e)
        return 0;
    double gb = (double)rep->rows * D * sizeof(float) / 1e9;
    double v[FS_BENCH_MAX_ROUNDS];
    int n = 0;
    for (int i = 0; i < e->rounds && i < rep->rounds; i++)
        if (rep->mem_round[ti][i] > 0)
            v[n++] = gb / (e->round_ms[i] * 1e-3) / rep->mem_round[ti][i];
    return fs_bench_median(v, n);
}

/* ---- parts for bench rank --mpi ----------------------------------------- */

int fs_bench_rank_part(uint64_t seed, size_t n, unsigned index,
                       unsigned count, fs_templates *t, uint32_t **rows,
                       fs_detail *d)
{
    memset(t, 0, sizeof *t);
    *rows = NULL;
    if (count < 1 || index >= count || n < 1 || n > UINT32_MAX - 1)
        return fs_fail(d, FS_EINVAL, "part %u of %u of %zu rows", index,
                       count, n);
    size_t m = n / count + (index < n % count), bytes;
    float *vec = alloc_matrix(m ? m : 1, &bytes);
    uint32_t *subj = malloc((m ? m : 1) * sizeof *subj);
    uint32_t *row = malloc((m ? m : 1) * sizeof *row);
    if (!vec || !subj || !row) {
        free(vec);
        free(subj);
        free(row);
        return fs_fail(d, FS_ENOMEM, "no memory for %zu rows", m);
    }
    for (size_t j = 0, r = index; j < m; j++, r += count) {
        if (count == 1) {               /* the whole: in one call */
            fs_bench_random_units(NULL, seed, 0, n, vec);
            for (size_t i = 0; i < n; i++) {
                subj[i] = (uint32_t)i + 1;
                row[i] = (uint32_t)i;
            }
            break;
        }
        fs_bench_random_units(NULL, seed, r, 1, vec + j * D);
        subj[j] = (uint32_t)r + 1;
        row[j] = (uint32_t)r;
    }
    *t = (fs_templates){ vec, subj, m };
    *rows = row;
    return FS_OK;
}

void fs_bench_rank_part_free(fs_templates *t, uint32_t *rows)
{
    free((void *)t->vec);
    free((void *)t->subject);
    free(rows);
    memset(t, 0, sizeof *t);
}

void fs_bench_rank_probes(uint64_t seed, int nq, float *out)
{
    fs_bench_random_units(NULL, PROBE_SEED(seed), 0, (size_t)nq, out);
}
