/*
 * check_rank.c - the ranking of fs_index.h against a double-precision
 * brute force, at every instruction-set level this machine has.
 *
 * Two kinds of data.  "Grid" vectors have components k/16 with small
 * integer k: every dot product is exact in float whatever the order of
 * the additions, so the ranker (any kernel, any thread count, sgemm or
 * not) must equal the reference bit for bit, and scores tie massively,
 * which puts the tie rules (subject, then row) under load.  Random unit
 * vectors are the realistic case: there scores may differ from the
 * reference by rounding, so hits are compared exactly only where the
 * reference's neighbours are further apart than that rounding, and
 * groups of identical rows (forced ties) must come out in tie order.
 */
#include <check.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../engine/base/fs_pool.h"
#include "../index/fs_index.h"
#include "../index/fs_rank_int.h"
#include "fs_testutil.h"

#define D FS_DESC_DIM

/* ---- data ------------------------------------------------------------- */

static uint64_t rng_state;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static double uniform(void)
{
    return ((double)(rng() >> 11) + 0.5) / 9007199254740992.0;
}

static float gauss(void)
{
    return (float)(sqrt(-2 * log(uniform())) * cos(6.283185307179586 *
                                                   uniform()));
}

static void unit(float *v)
{
    double s = 0;
    for (int d = 0; d < D; d++)
        s += (double)v[d] * v[d];
    for (int d = 0; d < D; d++)
        v[d] = (float)(v[d] / sqrt(s));
}

static void random_unit(float *v)
{
    for (int d = 0; d < D; d++)
        v[d] = gauss();
    unit(v);
}

static void grid(float *v)
{
    for (int d = 0; d < D; d++)
        v[d] = (float)((int)(rng() % 9) - 4) / 16.0f;
}

typedef struct gallery {
    float    *vec;
    uint32_t *subject;
    size_t    n;
    uint32_t  max_subject;
} gallery;

/* n rows over `subjects` subject numbers spread apart (3s + 5), each row
 * given a random subject, so a subject's rows are scattered; then `dups`
 * rows are overwritten with copies of others (forced ties, across
 * subjects and within one). */
static gallery make_gallery(size_t n, uint32_t subjects, int grid_data,
                            size_t dups, uint64_t seed)
{
    rng_state = seed;
    gallery g = { aligned_alloc(64, (n ? n : 1) * D * sizeof(float)),
                  malloc((n ? n : 1) * sizeof(uint32_t)), n, 0 };
    for (size_t i = 0; i < n; i++) {
        if (grid_data)
            grid(g.vec + i * D);
        else
            random_unit(g.vec + i * D);
        g.subject[i] = 3 * (uint32_t)(rng() % subjects) + 5;
        if (g.subject[i] > g.max_subject)
            g.max_subject = g.subject[i];
    }
    for (size_t j = 0; j < dups && n > 1; j++) {
        size_t from = rng() % n, to = rng() % n;
        memcpy(g.vec + to * D, g.vec + from * D, D * sizeof(float));
        if (j % 3 == 0)                       /* a tie inside a subject */
            g.subject[to] = g.subject[from];
    }
    return g;
}

static void free_gallery(gallery *g)
{
    free(g->vec);
    free(g->subject);
}

/* Probes near chosen rows, so duplicated rows show up at the top. */
static float *make_probes(const gallery *g, size_t nq, int grid_data)
{
    float *q = aligned_alloc(64, nq * D * sizeof(float));
    for (size_t i = 0; i < nq; i++) {
        float *p = q + i * D;
        if (grid_data) {
            grid(p);
            continue;
        }
        const float *near = g->vec + (rng() % g->n) * D;
        for (int d = 0; d < D; d++)
            p[d] = near[d] + 0.05f * gauss();
        unit(p);
    }
    return q;
}

/* ---- the reference ----------------------------------------------------- */

typedef struct ref_hit {
    double   score;
    uint32_t subject, row;
} ref_hit;

static int ref_cmp(const void *a, const void *b)
{
    const ref_hit *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    if (x->subject != y->subject)
        return x->subject < y->subject ? -1 : 1;
    return (x->row > y->row) - (x->row < y->row);
}

/* Every subject's best row in double precision, best first; returns how
 * many subjects there are.  out holds g->max_subject + 1 entries. */
static size_t reference(const gallery *g, const float *q, ref_hit *out)
{
    size_t ns = g->max_subject + 1, m = 0;
    ref_hit *best = malloc(ns * sizeof *best);
    for (size_t s = 0; s < ns; s++)
        best[s] = (ref_hit){ -INFINITY, UINT32_MAX, UINT32_MAX };
    for (size_t i = 0; i < g->n; i++) {
        double s = 0;
        for (int d = 0; d < D; d++)
            s += (double)g->vec[i * D + d] * q[d];
        ref_hit h = { s, g->subject[i], (uint32_t)i };
        ref_hit *b = &best[g->subject[i]];
        if (b->subject == UINT32_MAX || ref_cmp(&h, b) < 0)
            *b = h;
    }
    for (size_t s = 0; s < ns; s++)
        if (best[s].subject != UINT32_MAX)
            out[m++] = best[s];
    qsort(out, m, sizeof *out, ref_cmp);
    free(best);
    return m;
}

/* Grid data: the hits equal the reference exactly. */
static void check_exact(const fs_hit *h, size_t nh, const ref_hit *ref,
                        size_t nref, size_t k, const char *what)
{
    ck_assert_msg(nh == (nref < k ? nref : k), "%s: %zu hits, want %zu",
                  what, nh, nref < k ? nref : k);
    for (size_t i = 0; i < nh; i++)
        ck_assert_msg(h[i].subject == ref[i].subject &&
                      h[i].row == ref[i].row &&
                      h[i].score == (float)ref[i].score,
                      "%s: hit %zu is subject %u row %u score %.9g, want "
                      "%u %u %.9g", what, i, h[i].subject, h[i].row,
                      h[i].score, ref[i].subject, ref[i].row,
                      ref[i].score);
}

#define TOL 1e-5

/* Random data: scores within TOL of the reference; a run of reference
 * hits closer than TOL to each other (a cluster) must come out as the
 * same set of subjects, and in the reference's order when its scores are
 * exactly equal (identical rows, which every kernel scores identically).
 * Returns how many hits were pinned to one subject and row. */
static size_t check_close(const fs_hit *h, size_t nh, const ref_hit *ref,
                          size_t nref, size_t k, const char *what)
{
    size_t want = nref < k ? nref : k, pinned = 0;
    ck_assert_msg(nh == want, "%s: %zu hits, want %zu", what, nh, want);
    for (size_t i = 0; i < nh; i++)
        ck_assert_msg(fabs(h[i].score - ref[i].score) < TOL,
                      "%s: hit %zu scores %.9g, reference %.9g", what, i,
                      h[i].score, ref[i].score);
    for (size_t a = 0; a < nh;) {
        size_t b = a + 1;
        while (b < nref && ref[b - 1].score - ref[b].score < TOL)
            b++;
        if (b > nh)                 /* straddles the cut: not comparable */
            break;
        int identical = ref[a].score == ref[b - 1].score;
        for (size_t i = a; i < b; i++) {
            size_t j = a;
            if (identical)
                j = i;
            else
                while (j < b && h[j].subject != ref[i].subject)
                    j++;
            ck_assert_msg(j < b && h[j].subject == ref[i].subject &&
                          h[j].row == ref[i].row,
                          "%s: reference hit %zu (subject %u row %u) not "
                          "found in place", what, i, ref[i].subject,
                          ref[i].row);
            pinned += identical || b == a + 1;
        }
        a = b;
    }
    return pinned;
}

/* ---- helpers ----------------------------------------------------------- */

static fs_ranker *ranker(const gallery *g, int mode, int isa, fs_pool *p,
                         size_t shortlist)
{
    fs_templates t = { g->vec, g->subject, g->n };
    fs_rank_options o = { mode, isa, p, shortlist, FS_EXACT_AUTO };
    fs_ranker *r = NULL;
    fs_detail d = { "" };
    ck_assert_msg(fs_ranker_create(&t, &o, &r, &d) == FS_OK, "%s", d.msg);
    return r;
}

static void search(fs_ranker *r, const float *q, size_t nq, size_t k,
                   fs_hit *h, size_t *nh)
{
    ck_assert_int_eq(fs_rank_topk(r, q, nq, k, h, nh), FS_OK);
}

/* ---- tests ------------------------------------------------------------- */

START_TEST(test_rank_isa_levels)
{
    int best = fs_isa_best();
    ck_assert(best >= FS_ISA_GENERIC && best <= FS_ISA_AVX512);
    ck_assert_str_eq(fs_isa_name(FS_ISA_GENERIC), "generic");
    ck_assert_str_eq(fs_isa_name(FS_ISA_AVX2), "avx2");
    ck_assert_str_eq(fs_isa_name(FS_ISA_AVX512), "avx512");
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx512f") &&
        __builtin_cpu_supports("avx512bw"))
        ck_assert_int_eq(best, FS_ISA_AVX512);
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        ck_assert_int_eq(best, FS_ISA_AVX2);
#endif
}
END_TEST

/* The float sum of fs_rank_kern.c's header, term by term. */
static float one_sum(const float *x, const float *q)
{
    float a[4][8], f[8];
    for (int c = 0; c < 4; c++)
        for (int l = 0; l < 8; l++) {
            a[c][l] = x[8 * c + l] * q[8 * c + l];
            for (int j = c + 4; j < D / 8; j += 4)
                a[c][l] = fmaf(x[8 * j + l], q[8 * j + l], a[c][l]);
        }
    for (int l = 0; l < 8; l++)
        f[l] = (a[0][l] + a[2][l]) + (a[1][l] + a[3][l]);
    return ((f[0] + f[4]) + (f[2] + f[6])) + ((f[1] + f[5]) + (f[3] + f[7]));
}

/* Every SIMD level's float kernel gives that one sum to the bit, for
 * every row of a group and of a short group, so the levels agree.  The
 * data spreads its terms over 2^-12 to 2^12, so a sum taken in any other
 * order differs: the plain-C kernel (another order) must. */
START_TEST(test_rank_float_kernels_one_sum)
{
    enum { N = 45 };                       /* 2 groups of 16 and 13 more */
    rng_state = 77;
    float *x = aligned_alloc(64, N * D * sizeof(float)), q[D];
    for (int i = 0; i < N * D; i++)
        x[i] = gauss() * ldexpf(1.0f, (int)(rng() % 25) - 12);
    for (int d = 0; d < D; d++)
        q[d] = gauss();
    const float *rows[N];
    float want[N], got[N];
    for (int i = 0; i < N; i++) {
        rows[i] = x + (size_t)(N - 1 - i) * D;       /* not in order */
        want[i] = one_sum(rows[i], q);
    }
    const fs_rank_kernels *g = fs_rank_kernels_for(FS_ISA_GENERIC);
    g->dot_f32_rows(rows, N, q, got);
    int differ = 0;
    for (int i = 0; i < N; i++)
        differ += memcmp(&got[i], &want[i], sizeof got[i]) != 0;
    ck_assert_msg(differ > 0, "the data cannot tell summation orders apart");
    for (int isa = FS_ISA_AVX2; isa <= fs_isa_best(); isa++)
        for (size_t n = N; n >= N - 16; n -= 5) {
            memset(got, 0xff, sizeof got);
            fs_rank_kernels_for(isa)->dot_f32_rows(rows, n, q, got);
            for (size_t i = 0; i < n; i++)
                ck_assert_msg(memcmp(&got[i], &want[i], sizeof got[i]) == 0,
                              "%s, %zu rows: row %zu scores %a, the sum %a",
                              fs_isa_name(isa), n, i, got[i], want[i]);
        }
    free(x);
}
END_TEST

/* Every level's int8 kernel gives each row's integer dot product
 * exactly, from fs_rank_int.h's layout: bytes and probe values to their
 * extremes (0 and 255, -127 and 127), every stream and block told apart,
 * so a kernel that sums a group twice, skips one or mixes up streams,
 * blocks or rows fails. */
START_TEST(test_rank_int8_kernels_exact)
{
    enum { NBLK = 3, S = FS_Q8_STREAMS, R = FS_Q8_ROWS };
    rng_state = 41;
    uint8_t *blk = aligned_alloc(64, (size_t)S * NBLK * FS_Q8_BLOCK);
    int8_t q[D];
    for (size_t i = 0; i < (size_t)S * NBLK * FS_Q8_BLOCK; i++)
        blk[i] = i % 7 == 0 ? 255 : i % 11 == 0 ? 0 : (uint8_t)rng();
    for (int d = 0; d < D; d++)
        q[d] = d % 5 == 0 ? 127 : d % 5 == 1 ? -127 : (int8_t)(rng() % 255 - 127);
    const uint8_t *base[S];
    for (int s = 0; s < S; s++)               /* streams apart, reversed */
        base[s] = blk + (size_t)(S - 1 - s) * NBLK * FS_Q8_BLOCK;
    float want[NBLK * S * R], got[NBLK * S * R];
    for (int b = 0; b < NBLK; b++)
        for (int s = 0; s < S; s++)
            for (int r = 0; r < R; r++) {
                long sum = 0;
                for (int d = 0; d < D; d++)
                    sum += (long)base[s][(size_t)b * FS_Q8_BLOCK +
                                         (size_t)(d / 4) * 4 * R + r * 4 +
                                         d % 4] * q[d];
                want[(S * b + s) * R + r] = (float)sum;
            }
    for (int isa = 0; isa <= fs_isa_best(); isa++) {
        memset(got, 0xff, sizeof got);
        fs_rank_kernels_for(isa)->dot_u8_streams(base, NBLK, q, got);
        for (int i = 0; i < NBLK * S * R; i++)
            ck_assert_msg(got[i] == want[i], "%s (%s): score %d is %.0f, "
                          "the sum %.0f", fs_isa_name(isa),
                          fs_rank_kernels_for(isa)->dot_u8_name, i,
                          (double)got[i], (double)want[i]);
    }
    free(blk);
}
END_TEST

/* Grid data at every level, 1 and 2 threads, single probes and batches
 * (through sgemm and not), k from 1 to FS_RANK_MAX_K: all exact. */
START_TEST(test_rank_grid_equals_reference)
{
    enum { N = 3001, NQ = 70 };             /* N: no multiple of 16 */
    gallery g = make_gallery(N, 1200, 1, 40, 11);
    float *q = make_probes(&g, NQ, 1);
    ref_hit *ref = malloc((g.max_subject + 1) * sizeof *ref);
    fs_hit *h = malloc((size_t)NQ * FS_RANK_MAX_K * sizeof *h);
    size_t nh[NQ], *nref = malloc(NQ * sizeof *nref);
    ref_hit **refs = malloc(NQ * sizeof *refs);
    for (int i = 0; i < NQ; i++) {
        nref[i] = reference(&g, q + i * D, ref);
        refs[i] = malloc(nref[i] * sizeof *ref);
        memcpy(refs[i], ref, nref[i] * sizeof *ref);
    }
    /* the data does what the test needs: ties at the cut of k = 50, and a
     * subject whose best row is not its first row */
    size_t ties = 0, later_row = 0;
    for (int i = 0; i < NQ; i++) {
        ties += refs[i][49].score == refs[i][50].score;
        for (int j = 0; j < 50; j++)
            for (uint32_t row = 0; row < refs[i][j].row; row++)
                if (g.subject[row] == refs[i][j].subject) {
                    later_row++;
                    break;
                }
    }
    ck_assert_uint_gt(ties, NQ / 4);
    ck_assert_uint_gt(later_row, NQ);
    fs_pool *pool;
    ck_assert_int_eq(fs_pool_create(2, &pool), FS_OK);
    static const size_t ks[] = { 1, 50, FS_RANK_MAX_K };
    for (int isa = 0; isa <= fs_isa_best(); isa++)
        for (int threads = 1; threads <= 2; threads++) {
            fs_ranker *r = ranker(&g, FS_RANK_EXACT, isa,
                                  threads > 1 ? pool : NULL, 0);
            for (size_t ki = 0; ki < 3; ki++) {
                size_t k = ks[ki];
                char what[96];
                /* one call of NQ: a batch of 64 through sgemm, then 6 */
                search(r, q, NQ, k, h, nh);
                for (int i = 0; i < NQ; i++) {
                    snprintf(what, sizeof what, "isa %d, %d thr, batch, "
                             "k %zu, probe %d", isa, threads, k, i);
                    check_exact(h + (size_t)i * k, nh[i], refs[i], nref[i],
                                k, what);
                }
                for (int i = 0; i < NQ; i += 13) {
                    search(r, q + i * D, 1, k, h, nh);
                    snprintf(what, sizeof what, "isa %d, %d thr, single, "
                             "k %zu, probe %d", isa, threads, k, i);
                    check_exact(h, nh[0], refs[i], nref[i], k, what);
                }
            }
            fs_ranker_free(r);
        }
    fs_pool_free(pool);
    for (int i = 0; i < NQ; i++)
        free(refs[i]);
    free(refs);
    free(nref);
    free(h);
    free(ref);
    free(q);
    free_gallery(&g);
}
END_TEST

/* Random unit vectors with duplicated rows, at every level. */
START_TEST(test_rank_random_close_to_reference)
{
    enum { N = 5003, NQ = 12, K = 50 };
    gallery g = make_gallery(N, 1500, 0, 300, 12);
    float *q = make_probes(&g, NQ, 0);
    ref_hit *ref = malloc((g.max_subject + 1) * sizeof *ref);
    fs_hit h[K];
    size_t nh, pinned = 0, exact_ties = 0;
    fs_pool *pool;
    ck_assert_int_eq(fs_pool_create(2, &pool), FS_OK);
    for (int i = 0; i < NQ; i++) {
        size_t nref = reference(&g, q + i * D, ref);
        for (int j = 0; j + 1 < K; j++)
            exact_ties += ref[j].score == ref[j + 1].score;
        for (int isa = 0; isa <= fs_isa_best(); isa++) {
            fs_ranker *r = ranker(&g, FS_RANK_EXACT, isa, pool, 0);
            search(r, q + i * D, 1, K, h, &nh);
            char what[64];
            snprintf(what, sizeof what, "isa %d, probe %d", isa, i);
            pinned += check_close(h, nh, ref, nref, K, what);
            fs_ranker_free(r);
        }
    }
    ck_assert_uint_gt(exact_ties, 0);             /* forced ties were hit */
    ck_assert_uint_gt(pinned, (size_t)NQ * K / 2);  /* most hits pinned */
    fs_pool_free(pool);
    free(ref);
    free(q);
    free_gallery(&g);
}
END_TEST

/* Thread counts split rows differently; the lists must not change. */
START_TEST(test_rank_threads_give_identical_lists)
{
    enum { N = 20011, NQ = 16, K = 100 };     /* NQ: sgemm's path too */
    gallery g = make_gallery(N, 9000, 0, 50, 13);
    float *q = make_probes(&g, NQ, 0);
    fs_hit *h1 = malloc(NQ * K * sizeof *h1), *h2 = malloc(NQ * K *
                                                           sizeof *h2);
    size_t n1[NQ], n2[NQ];
    fs_pool *p2, *p3;
    ck_assert_int_eq(fs_pool_create(2, &p2), FS_OK);
    ck_assert_int_eq(fs_pool_create(3, &p3), FS_OK);
    for (int mode = 0; mode < 2; mode++) {
        fs_ranker *a = ranker(&g, mode, -1, NULL, 0);
        fs_ranker *b = ranker(&g, mode, -1, p2, 0);
        fs_ranker *c = ranker(&g, mode, -1, p3, 0);
        for (int i = 0; i < NQ; i++)
            search(a, q + i * D, 1, K, h1 + i * K, n1 + i);
        for (int which = 0; which < 2; which++) {
            fs_ranker *r = which ? c : b;
            for (int i = 0; i < NQ; i++)
                search(r, q + i * D, 1, K, h2 + i * K, n2 + i);
            for (int i = 0; i < NQ; i++) {
                ck_assert_uint_eq(n1[i], K);
                ck_assert_uint_eq(n2[i], K);
            }
            ck_assert_msg(memcmp(h1, h2, NQ * K * sizeof *h1) == 0,
                          "mode %d: %d threads differ from 1", mode,
                          which ? 3 : 2);
        }
        /* the batch path: one call for all probes, 1 vs 3 threads */
        search(a, q, NQ, K, h1, n1);
        search(c, q, NQ, K, h2, n2);
        ck_assert(memcmp(h1, h2, NQ * K * sizeof *h1) == 0);
        fs_ranker_free(a);
        fs_ranker_free(b);
        fs_ranker_free(c);
    }
    fs_pool_free(p2);
    fs_pool_free(p3);
    free(h1);
    free(h2);
    free(q);
    free_gallery(&g);
}
END_TEST

/* Batches (sgemm) against single probes (the SIMD kernel) on random
 * data: the same lists up to rounding. */
START_TEST(test_rank_batch_matches_single)
{
    enum { N = 4099, NQ = 67, K = 20 };
    gallery g = make_gallery(N, 4099, 0, 0, 14);
    float *q = make_probes(&g, NQ, 0);
    fs_hit *hb = malloc(NQ * K * sizeof *hb), hs[K];
    size_t nb[NQ], ns;
    fs_ranker *r = ranker(&g, FS_RANK_EXACT, -1, NULL, 0);
    search(r, q, NQ, K, hb, nb);
    size_t same = 0;
    for (int i = 0; i < NQ; i++) {
        search(r, q + i * D, 1, K, hs, &ns);
        ck_assert_uint_eq(ns, nb[i]);
        for (int j = 0; j < K; j++) {
            ck_assert(fabsf(hs[j].score - hb[i * K + j].score) < TOL);
            same += hs[j].subject == hb[i * K + j].subject;
        }
    }
    /* rounding may swap a near-tie, nothing more */
    ck_assert_uint_ge(same, (size_t)NQ * K - 4);
    fs_ranker_free(r);
    free(hb);
    free(q);
    free_gallery(&g);
}
END_TEST

START_TEST(test_rank_small_and_empty_galleries)
{
    /* fewer subjects than k: every subject once */
    gallery g = make_gallery(40, 25, 0, 5, 15);
    float *q = make_probes(&g, 1, 0);
    ref_hit *ref = malloc((g.max_subject + 1) * sizeof *ref);
    size_t nref = reference(&g, q, ref);
    fs_hit *h = malloc(FS_RANK_MAX_K * sizeof *h);
    size_t nh;
    for (int mode = 0; mode < 2; mode++) {
        fs_ranker *r = ranker(&g, mode, -1, NULL, 0);
        search(r, q, 1, FS_RANK_MAX_K, h, &nh);
        check_close(h, nh, ref, nref, FS_RANK_MAX_K, "k > subjects");
        fs_ranker_free(r);
    }
    /* an empty gallery answers with nothing */
    fs_templates t = { NULL, NULL, 0 };
    for (int mode = 0; mode < 3; mode++) {
        fs_rank_options o = { mode % 2, -1, NULL, 0,
                              mode == 2 ? FS_EXACT_BOUNDED : FS_EXACT_AUTO };
        fs_ranker *r;
        ck_assert_int_eq(fs_ranker_create(&t, &o, &r, NULL), FS_OK);
        nh = 99;
        search(r, q, 1, 10, h, &nh);
        ck_assert_uint_eq(nh, 0);
        fs_ranker_free(r);
    }
    free(h);
    free(ref);
    free(q);
    free_gallery(&g);
}
END_TEST

START_TEST(test_rank_refuses_bad_arguments)
{
    gallery g = make_gallery(64, 10, 0, 0, 16);
    float *q = make_probes(&g, 1, 0);
    fs_templates t = { g.vec, g.subject, g.n }, nodata = { NULL, NULL, 5 };
    fs_ranker *r = NULL;
    fs_detail d = { "" };
    fs_rank_options bad_mode = { 7, -1, NULL, 0, 0 },
                    bad_isa = { 0, 3, NULL, 0, 0 },
                    big_list = { 1, -1, NULL, 1u << 20, 0 },
                    bad_exact = { 0, -1, NULL, 0, 3 };
    ck_assert_int_eq(fs_ranker_create(NULL, NULL, &r, &d), FS_EINVAL);
    ck_assert_int_eq(fs_ranker_create(&t, NULL, NULL, &d), FS_EINVAL);
    ck_assert_int_eq(fs_ranker_create(&nodata, NULL, &r, &d), FS_EINVAL);
    ck_assert_int_eq(fs_ranker_create(&t, &bad_mode, &r, &d), FS_EINVAL);
    ck_assert_ptr_nonnull(strstr(d.msg, "mode"));
    ck_assert_int_eq(fs_ranker_create(&t, &bad_isa, &r, &d), FS_EINVAL);
    ck_assert_int_eq(fs_ranker_create(&t, &big_list, &r, &d), FS_EINVAL);
    ck_assert_int_eq(fs_ranker_create(&t, &bad_exact, &r, &d), FS_EINVAL);
    ck_assert_ptr_nonnull(strstr(d.msg, "exact"));
    ck_assert_ptr_null(r);
    ck_assert_int_eq(fs_ranker_create(&t, NULL, &r, &d), FS_OK);
    fs_hit h[FS_RANK_MAX_K + 1];
    size_t nh = 12345;
    ck_assert_int_eq(fs_rank_topk(r, q, 1, 0, h, &nh), FS_EINVAL);
    ck_assert_int_eq(fs_rank_topk(r, q, 1, FS_RANK_MAX_K + 1, h, &nh),
                     FS_EINVAL);
    ck_assert_int_eq(fs_rank_topk(NULL, q, 1, 5, h, &nh), FS_EINVAL);
    ck_assert_int_eq(fs_rank_topk(r, NULL, 1, 5, h, &nh), FS_EINVAL);
    ck_assert_int_eq(fs_rank_topk(r, q, 1, 5, NULL, &nh), FS_EINVAL);
    ck_assert_int_eq(fs_rank_topk(r, q, 1, 5, h, NULL), FS_EINVAL);
    q[17] = NAN;
    ck_assert_int_eq(fs_rank_topk(r, q, 1, 5, h, &nh), FS_EINVAL);
    ck_assert_uint_eq(nh, 12345);                 /* untouched on failure */
    q[17] = 0;
    ck_assert_int_eq(fs_rank_topk(r, q, 1, 5, h, &nh), FS_OK);
    ck_assert_uint_eq(nh, 5);
    fs_ranker_free(r);
    fs_ranker_free(NULL);
    free(q);
    free_gallery(&g);
}
END_TEST

/* Subjects of each probe's list in ascending order, for set equality. */
static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static void subject_sets(const fs_hit *h, size_t nq, size_t k, uint32_t *out)
{
    for (size_t i = 0; i < nq * k; i++)
        out[i] = h[i].subject;
    for (size_t i = 0; i < nq; i++)
        qsort(out + i * k, k, sizeof *out, cmp_u32);
}

/* The int8 first pass loses almost nothing: recall@50 against the exact
 * list over 100k random unit vectors, each hit re-scored to the exact
 * mode's bits.  With a shortlist of k the first pass alone
 * picks the subjects: it must lose some (it is approximate, not a pass-
 * through), and the int8 kernels of every level must pick the same ones
 * (integer arithmetic has no rounding). */
START_TEST(test_rank_compressed_recall_random)
{
    enum { N = 100000, NQ = 16, K = 50 };
    gallery g = make_gallery(N, N, 0, 0, 17);
    for (size_t i = 0; i < N; i++)
        g.subject[i] = (uint32_t)i;
    rng_state = 99;
    float *q = aligned_alloc(64, NQ * D * sizeof(float));
    for (int i = 0; i < NQ; i++)
        random_unit(q + i * D);
    fs_hit *he = malloc(NQ * K * sizeof *he), *hc = malloc(NQ * K *
                                                           sizeof *hc);
    uint32_t *first = malloc(NQ * K * sizeof *first),
             *set = malloc(NQ * K * sizeof *set);
    size_t ne[NQ], nc[NQ];
    fs_pool *pool;
    ck_assert_int_eq(fs_pool_create(2, &pool), FS_OK);
    fs_ranker *ex = ranker(&g, FS_RANK_EXACT, -1, pool, 0);
    for (int i = 0; i < NQ; i++)        /* the kernel of the re-rank */
        search(ex, q + i * D, 1, K, he + i * K, ne + i);
    fs_ranker *c = ranker(&g, FS_RANK_COMPRESSED, -1, pool, 0);
    search(c, q, NQ, K, hc, nc);
    size_t found = 0;
    for (int i = 0; i < NQ; i++)
        for (int a = 0; a < K; a++)
            for (int b = 0; b < K; b++)
                if (hc[i * K + a].subject == he[i * K + b].subject) {
                    found++;
                    ck_assert(hc[i * K + a].score == he[i * K + b].score);
                    break;
                }
    ck_assert_msg(found >= 0.999 * NQ * K, "recall@50 %.4f",
                  (double)found / (NQ * K));
    fs_ranker_free(c);
    fs_ranker_free(ex);

    for (int isa = fs_isa_best(); isa >= 0; isa--) {
        c = ranker(&g, FS_RANK_COMPRESSED, isa, pool, K);
        search(c, q, NQ, K, hc, nc);
        subject_sets(hc, NQ, K, set);
        if (isa == fs_isa_best()) {
            memcpy(first, set, NQ * K * sizeof *set);
            found = 0;
            for (int i = 0; i < NQ; i++)
                for (int a = 0; a < K; a++)
                    for (int b = 0; b < K; b++)
                        found += hc[i * K + a].subject ==
                                 he[i * K + b].subject;
            ck_assert_uint_lt(found, (size_t)NQ * K);
        } else {
            ck_assert_msg(memcmp(first, set, NQ * K * sizeof *set) == 0,
                          "int8 kernels of isa %d and %d disagree", isa,
                          fs_isa_best());
        }
        fs_ranker_free(c);
    }
    fs_pool_free(pool);
    free(he);
    free(hc);
    free(first);
    free(set);
    free(q);
    free_gallery(&g);
}
END_TEST

/* Clustered data, as real galleries are: several close templates per
 * subject, scattered, probes near one of them.  The compressed mode must
 * find the same subjects with each one's best row. */
START_TEST(test_rank_compressed_clustered)
{
    enum { SUBJ = 4000, PER = 4, NQ = 20, K = 50 };
    size_t n = SUBJ * PER;
    gallery g = make_gallery(n, SUBJ, 0, 0, 18);
    float *centre = malloc(SUBJ * D * sizeof *centre);
    for (int s = 0; s < SUBJ; s++)
        random_unit(centre + s * D);
    for (size_t i = 0; i < n; i++) {
        uint32_t s = (uint32_t)(rng() % SUBJ);
        g.subject[i] = s;
        for (int d = 0; d < D; d++)
            g.vec[i * D + d] = centre[s * D + d] + 0.06f * gauss();
        unit(g.vec + i * D);
    }
    g.max_subject = SUBJ - 1;
    float *q = make_probes(&g, NQ, 0);
    fs_hit *he = malloc(NQ * K * sizeof *he), *hc = malloc(NQ * K *
                                                           sizeof *hc);
    size_t ne[NQ], nc[NQ];
    fs_ranker *ex = ranker(&g, FS_RANK_EXACT, -1, NULL, 0);
    fs_ranker *c = ranker(&g, FS_RANK_COMPRESSED, -1, NULL, 0);
    for (int i = 0; i < NQ; i++)
        search(ex, q + i * D, 1, K, he + i * K, ne + i);
    search(c, q, NQ, K, hc, nc);
    size_t same = 0;
    for (int i = 0; i < NQ * K; i++)
        same += hc[i].subject == he[i].subject && hc[i].row == he[i].row &&
                hc[i].score == he[i].score;
    ck_assert_msg(same >= (size_t)(0.999 * NQ * K), "%zu of %d hits agree",
                  same, NQ * K);
    fs_ranker_free(ex);
    fs_ranker_free(c);
    free(he);
    free(hc);
    free(q);
    free(centre);
    free_gallery(&g);
}
END_TEST

/* ---- one template per subject -------------------------------------------- */

/* The means against a reference in double over a gallery of subjects
 * with one to four scattered rows: every subject's mean, the ranking by
 * it, and each hit's row the subject's nearest (rule: issue 17's mean
 * template). */
START_TEST(test_rank_subject_means_reference)
{
    enum { N = 2000, NQ = 12, K = 30 };
    gallery g = make_gallery(N, 700, 0, 0, 23);
    float *q = make_probes(&g, NQ, 0);
    fs_templates t = { g.vec, g.subject, g.n };
    fs_subject_means m;
    fs_detail d = { "" };
    ck_assert_msg(fs_subject_means_make(&t, &m, &d) == FS_OK, "%s", d.msg);
    /* the reference: per subject number, the double sum */
    size_t ns = g.max_subject + 1, subjects = 0, multi = 0;
    double *sum = calloc(ns * D, sizeof *sum);
    int *cnt = calloc(ns, sizeof *cnt);
    for (size_t i = 0; i < N; i++) {
        cnt[g.subject[i]]++;
        for (int k = 0; k < D; k++)
            sum[(size_t)g.subject[i] * D + k] += g.vec[i * D + k];
    }
    for (size_t s = 0; s < ns; s++) {
        subjects += cnt[s] > 0;
        multi += cnt[s] > 1;
    }
    ck_assert_uint_eq(m.t.n, subjects);
    ck_assert_uint_gt(multi, subjects / 2);       /* the data does its job */
    for (size_t j = 0; j < m.t.n; j++) {
        uint32_t s = m.t.subject[j];
        ck_assert(j == 0 || s > m.t.subject[j - 1]);
        ck_assert_uint_eq(m.start[j + 1] - m.start[j], (size_t)cnt[s]);
        double ss = 0;
        for (int k = 0; k < D; k++)
            ss += sum[(size_t)s * D + k] * sum[(size_t)s * D + k];
        for (int k = 0; k < D; k++)
            ck_assert_msg(fabs(m.t.vec[j * D + k] -
                               sum[(size_t)s * D + k] / sqrt(ss)) < 1e-6,
                          "subject %u dim %d", s, k);
        for (uint32_t a = m.start[j]; a < m.start[j + 1]; a++)
            ck_assert(g.subject[m.rows[a]] == s &&
                      (a == m.start[j] || m.rows[a] > m.rows[a - 1]));
    }
    fs_rank_options o = { FS_RANK_EXACT, -1, NULL, 0, FS_EXACT_AUTO };
    fs_ranker *r = NULL;
    ck_assert_int_eq(fs_ranker_create(&m.t, &o, &r, &d), FS_OK);
    fs_hit h[K];
    size_t nh;
    for (int i = 0; i < NQ; i++) {
        const float *p = q + i * D;
        search(r, p, 1, K, h, &nh);
        ck_assert_uint_eq(nh, K);
        fs_subject_means_best_rows(&m, &t, p, h, nh);
        for (size_t a = 0; a < nh; a++) {
            uint32_t s = h[a].subject;
            double dot = 0, ss = 0;
            for (int k = 0; k < D; k++) {
                dot += sum[(size_t)s * D + k] * p[k];
                ss += sum[(size_t)s * D + k] * sum[(size_t)s * D + k];
            }
            ck_assert_msg(fabs(h[a].score - dot / sqrt(ss)) < 1e-5,
                          "probe %d hit %zu", i, a);
            ck_assert(a == 0 || h[a].score <= h[a - 1].score);
            /* the row: the subject's nearest, in double */
            double best = -2;
            uint32_t row = UINT32_MAX;
            for (size_t x = 0; x < N; x++) {
                if (g.subject[x] != s)
                    continue;
                double v = 0;
                for (int k = 0; k < D; k++)
                    v += (double)g.vec[x * D + k] * p[k];
                if (v > best)
                    best = v, row = (uint32_t)x;
            }
            ck_assert_msg(h[a].row == row, "probe %d hit %zu: row %u, the "
                          "nearest %u", i, a, h[a].row, row);
        }
    }
    fs_ranker_free(r);
    fs_subject_means_free(&m);
    ck_assert_ptr_null(m.own);
    free(sum);
    free(cnt);
    free(q);
    free_gallery(&g);
}
END_TEST

/* One row per subject: the means are the rows, bit for bit, and rank
 * exactly as the rows do.  Two rows either side of a probe outrank one
 * row nearer than either: the mean's point.  No rows: no means. */
START_TEST(test_rank_subject_means_single_rows_and_the_point)
{
    enum { N = 500, K = 20 };
    gallery g = make_gallery(N, 100000, 0, 0, 29);
    for (size_t i = 0; i < N; i++)
        g.subject[i] = (uint32_t)(7 * i + 3);       /* one row each */
    fs_templates t = { g.vec, g.subject, g.n };
    fs_subject_means m;
    fs_detail d = { "" };
    ck_assert_int_eq(fs_subject_means_make(&t, &m, &d), FS_OK);
    ck_assert_uint_eq(m.t.n, N);
    ck_assert_int_eq(memcmp(m.t.vec, g.vec, N * D * sizeof(float)), 0);
    fs_rank_options o = { FS_RANK_EXACT, -1, NULL, 0, FS_EXACT_SCAN };
    fs_ranker *rm = NULL, *rr = NULL;
    ck_assert_int_eq(fs_ranker_create(&m.t, &o, &rm, &d), FS_OK);
    ck_assert_int_eq(fs_ranker_create(&t, &o, &rr, &d), FS_OK);
    float *q = make_probes(&g, 1, 0);
    fs_hit a[K], b[K];
    size_t na, nb;
    search(rm, q, 1, K, a, &na);
    fs_subject_means_best_rows(&m, &t, q, a, na);
    search(rr, q, 1, K, b, &nb);
    ck_assert_uint_eq(na, nb);
    for (size_t i = 0; i < na; i++)
        ck_assert(a[i].subject == b[i].subject && a[i].row == b[i].row &&
                  memcmp(&a[i].score, &b[i].score, sizeof a[i].score) == 0);
    fs_ranker_free(rm);
    fs_ranker_free(rr);
    fs_subject_means_free(&m);
    free(q);

    /* subject 9: rows at +-40 degrees from the probe (cos 0.766 each, the
     * mean the probe itself); subject 4: one row at 30 degrees (0.866) */
    float v[3 * D] __attribute__((aligned(64))) = { 0 }, p[D] = { 0 };
    uint32_t subj[3] = { 9, 4, 9 };
    double c40 = cos(40 * M_PI / 180), s40 = sin(40 * M_PI / 180);
    v[0] = (float)c40, v[1] = (float)s40;
    v[D] = (float)cos(30 * M_PI / 180), v[D + 1] = (float)sin(30 * M_PI / 180);
    v[2 * D] = (float)c40, v[2 * D + 1] = (float)-s40;
    p[0] = 1;
    fs_templates t3 = { v, subj, 3 };
    ck_assert_int_eq(fs_subject_means_make(&t3, &m, &d), FS_OK);
    ck_assert_int_eq(fs_ranker_create(&m.t, &o, &rm, &d), FS_OK);
    ck_assert_int_eq(fs_ranker_create(&t3, &o, &rr, &d), FS_OK);
    search(rr, p, 1, 2, b, &nb);
    ck_assert(nb == 2 && b[0].subject == 4);        /* best-of: the one row */
    search(rm, p, 1, 2, a, &na);
    fs_subject_means_best_rows(&m, &t3, p, a, na);
    ck_assert(na == 2 && a[0].subject == 9 && a[1].subject == 4);
    ck_assert(fabsf(a[0].score - 1.0f) < 1e-6f);
    ck_assert_uint_eq(a[0].row, 0);      /* a tie at 0.766: the lower row */
    ck_assert_uint_eq(a[1].row, 1);
    fs_ranker_free(rm);
    fs_ranker_free(rr);
    fs_subject_means_free(&m);

    fs_templates none = { g.vec, g.subject, 0 };
    ck_assert_int_eq(fs_subject_means_make(&none, &m, &d), FS_OK);
    ck_assert_uint_eq(m.t.n, 0);
    ck_assert_uint_eq(m.start[0], 0);
    fs_subject_means_free(&m);
    free_gallery(&g);
}
END_TEST

/* ---- the bounded pass: bit for bit the float scan's lists ----------------- */

static fs_ranker *exact_ranker(const gallery *g, int isa, fs_pool *p,
                               int exact)
{
    fs_templates t = { g->vec, g->subject, g->n };
    fs_rank_options o = { FS_RANK_EXACT, isa, p, 0, exact };
    fs_ranker *r = NULL;
    fs_detail d = { "" };
    ck_assert_msg(fs_ranker_create(&t, &o, &r, &d) == FS_OK, "%s", d.msg);
    return r;
}

static void same_lists(const fs_hit *a, const size_t *na, const fs_hit *b,
                       const size_t *nb, size_t nq, size_t k,
                       const char *what, int isa, int threads)
{
    for (size_t q = 0; q < nq; q++) {
        ck_assert_msg(na[q] == nb[q], "%s (%s, %d thread(s)), probe %zu: %zu "
                      "hits, the float scan %zu", what, fs_isa_name(isa),
                      threads, q, na[q], nb[q]);
        for (size_t i = 0; i < na[q]; i++) {
            const fs_hit *x = &a[q * k + i], *y = &b[q * k + i];
            ck_assert_msg(x->subject == y->subject && x->row == y->row &&
                          memcmp(&x->score, &y->score, sizeof x->score) == 0,
                          "%s (%s, %d thread(s)), probe %zu, hit %zu: "
                          "subject %u row %u score %.9g, the float scan %u %u "
                          "%.9g", what, fs_isa_name(isa), threads, q, i,
                          x->subject, x->row, x->score, y->subject, y->row,
                          y->score);
        }
    }
}

/* The bounded pass against the float scan at every level, on 1 and 2
 * threads, probe by probe and as one small batch; `fallbacks` says
 * whether the float scan must take over (too many candidates) or must
 * not: where it must not, the bounded pass must have answered by itself.  Returns the
 * rows it re-scored over the single-probe calls of the last level. */
static size_t bounded_equals_scan(const gallery *g, const float *q, size_t nq,
                                  size_t k, const char *what, int fallbacks)
{
    fs_hit *a = malloc(nq * k * sizeof *a), *b = malloc(nq * k * sizeof *b);
    size_t *na = malloc(nq * sizeof *na), *nb = malloc(nq * sizeof *nb);
    size_t rescored = 0;
    fs_pool *pool;
    ck_assert_int_eq(fs_pool_create(2, &pool), FS_OK);
    for (int isa = 0; isa <= fs_isa_best(); isa++)
        for (int th = 1; th <= 2; th++) {
            fs_pool *p = th == 2 ? pool : NULL;
            fs_ranker *sc = exact_ranker(g, isa, p, FS_EXACT_SCAN);
            fs_ranker *bd = exact_ranker(g, isa, p, FS_EXACT_BOUNDED);
            fs_rank_info info;
            fs_ranker_info(bd, k, &info);
            ck_assert_int_eq(info.bounded, 1);
            rescored = 0;
            for (size_t i = 0; i < nq; i++) {
                search(sc, q + i * D, 1, k, b + i * k, nb + i);
                search(bd, q + i * D, 1, k, a + i * k, na + i);
                fs_ranker_info(bd, k, &info);
                rescored += info.rescored;
            }
            same_lists(a, na, b, nb, nq, k, what, isa, th);
            size_t nbatch = nq < 11 ? nq : 11;     /* under sgemm's 12 */
            search(bd, q, nbatch, k, a, na);
            same_lists(a, na, b, nb, nbatch, k, what, isa, th);
            fs_ranker_info(bd, k, &info);
            ck_assert_msg(fallbacks ? info.fallbacks > 0
                                    : info.fallbacks == 0, "%s: %zu probes "
                          "went to the float scan", what, info.fallbacks);
            fs_ranker_free(sc);
            fs_ranker_free(bd);
        }
    fs_pool_free(pool);
    free(a);
    free(b);
    free(na);
    free(nb);
    return rescored;
}

/* A probe of equal magnitudes, sign pattern from the seed: its int8 form
 * is exact (+-127), so the only error left is the rows'. */
static void sign_probe(float *p, uint64_t seed)
{
    rng_state = seed;
    for (int d = 0; d < D; d++)
        p[d] = (rng() & 1 ? 1.0f : -1.0f) / sqrtf((float)D);
}

/* Rows at the worst place of the int8 grid, crowded at the top.  Each
 * row has one huge dimension, 127/64 with the probe's sign (dimension
 * row % D, so every dimension's scale is 127/64 / 127 = 1/64 exactly);
 * every other value lies exactly halfway between two steps of that grid,
 * (c +- 1/2) / 64 with c even, so it rounds (to even) to c: an error of
 * half a step in every dimension, its sign that of the probe's component
 * times the row's sign sigma.  Against a probe of equal magnitudes that
 * error is parallel to the probe: the int8 estimate is off by exactly
 * |p| |e|, the bound itself, upwards (sigma = -1) or downwards (sigma =
 * +1).  The codes are then moved so that sum sign(p_d) c_d puts every
 * row's true score on one of 300 levels 2/(64 sqrt(D)) apart, the rows
 * of both signs interleaved: the k-th place is crowded with rows whose
 * estimates are off by the whole bound either way, so a bound any
 * tighter (half of it, say) drops a true hit or raises the cut above one.
 * (Rows are not of unit length: the bound uses each row's norm, and the
 * ranker needs no unit rows.) */
static gallery half_step_gallery(size_t n, uint32_t subjects,
                                 const float *probe, uint64_t seed)
{
    gallery g = make_gallery(n, subjects, 0, 0, seed);
    for (size_t i = 0; i < n; i++) {
        float *x = g.vec + i * D;
        int sigma = rng() & 1 ? 1 : -1, big = (int)(i % D), c[D], sum = 0;
        for (int d = 0; d < D; d++) {
            int sg = probe[d] > 0 ? 1 : -1;
            c[d] = d == big ? 0 : 2 * ((int)(rng() % 61) - 30);
            sum += sg * c[d];
        }
        int diff = 2 * (int)(rng() % 300) - 64 * sigma - sum;
        for (int d = 0; diff != 0; d = (d + 1) % D) {
            int sg = probe[d] > 0 ? 1 : -1, step = diff > 0 ? 2 : -2;
            if (d == big || abs(c[d] + step * sg) > 124)
                continue;
            c[d] += step * sg;
            diff -= step;
        }
        for (int d = 0; d < D; d++) {
            float sg = probe[d] > 0 ? 1.0f : -1.0f;
            x[d] = d == big ? sg * 127.0f / 64.0f
                            : ((float)c[d] + (float)sigma * sg * 0.5f) / 64.0f;
        }
    }
    return g;
}

/* Rows around the k-th place of probe p copied over others with one
 * value nudged by an ulp or two: scores differing in their last bits,
 * and values just off the half-steps, which round the other way. */
static void nudge_copies(gallery *g, const float *p, size_t k)
{
    double *sc = malloc(g->n * sizeof *sc), cut[2];
    for (size_t i = 0; i < g->n; i++) {
        sc[i] = 0;
        for (int d = 0; d < D; d++)
            sc[i] += (double)p[d] * g->vec[i * D + d];
    }
    double *sorted = malloc(g->n * sizeof *sorted);
    memcpy(sorted, sc, g->n * sizeof *sorted);
    for (size_t i = 0; i < g->n; i++)           /* partial: k + 20 best */
        for (size_t j = i + 1; i < k + 20 && j < g->n; j++)
            if (sorted[j] > sorted[i]) {
                double t = sorted[i];
                sorted[i] = sorted[j];
                sorted[j] = t;
            }
    cut[0] = sorted[k + 19];
    cut[1] = sorted[k > 20 ? k - 20 : 0];
    for (size_t i = 0; i < g->n; i++) {
        if (sc[i] < cut[0] || sc[i] > cut[1])
            continue;
        for (int c = 0; c < 3; c++) {
            size_t to = rng() % g->n;
            float *x = g->vec + to * D;
            memcpy(x, g->vec + i * D, D * sizeof *x);
            int d = (int)(rng() % D);
            for (int u = 0; u <= c; u++)
                x[d] = nextafterf(x[d], rng() & 1 ? INFINITY : -INFINITY);
            if (c == 0)
                g->subject[to] = g->subject[i];
        }
    }
    free(sorted);
    free(sc);
}

START_TEST(test_rank_bounded_half_steps)
{
    enum { N = 3000, NQ = 6, K = 50 };
    static const uint32_t subjects[3] = { 2000, 100, 2000 };
    float *q = aligned_alloc(64, NQ * D * sizeof *q);
    for (int s = 0; s < 3; s++) {
        sign_probe(q, 100 + (uint64_t)s);
        gallery g = half_step_gallery(N, subjects[s], q, 200 + (uint64_t)s);
        if (s == 2)
            nudge_copies(&g, q, K);
        /* the exact probe, then the same nudged off the grid's best case */
        for (size_t i = 1; i < NQ; i++)
            for (int d = 0; d < D; d++)
                q[i * D + d] = q[d] * (1.0f + 0.02f * gauss());
        bounded_equals_scan(&g, q, NQ, K, s == 0 ? "half-step rows" :
                            s == 1 ? "half-step rows, 100 subjects" :
                            "half-step rows, nudged copies", 0);
        free_gallery(&g);
    }
    free(q);
}
END_TEST

/* Near-ties at the k-th place: 300 rows that are one row with one
 * component nudged by a few ulps (scores differing in their last bits,
 * some equal), over distinct subjects and some shared, at the top of a
 * random gallery; k falls inside them. */
START_TEST(test_rank_bounded_near_ties)
{
    enum { N = 6000, NQ = 4, K = 50, TIED = 300 };
    gallery g = make_gallery(N, 5000, 0, 0, 31);
    float *q = make_probes(&g, NQ, 0);
    for (size_t j = 0; j < NQ; j++) {
        float *p = q + j * D, x0[D];
        int top = 0;
        for (int d = 0; d < D; d++) {
            x0[d] = p[d] + 0.3f * gauss() / sqrtf((float)D);
            if (fabsf(p[d]) > fabsf(p[top]))
                top = d;
        }
        unit(x0);
        for (size_t t = 0; t < TIED / NQ; t++) {
            size_t row = (j * TIED / NQ + t) * 7 % N;
            float *x = g.vec + row * D;
            memcpy(x, x0, sizeof x0);
            for (size_t u = 0; u < t % 9; u++)
                x[top] = nextafterf(x[top], t % 2 ? INFINITY : -INFINITY);
            if (t % 5 == 0)
                g.subject[row] = g.subject[(j * TIED / NQ) * 7 % N];
        }
    }
    bounded_equals_scan(&g, q, NQ, K, "near-ties", 0);
    bounded_equals_scan(&g, q, NQ, 20, "near-ties, k = 20", 0);
    free(q);
    free_gallery(&g);
}
END_TEST

/* bounded_equals_scan on a gallery of make_gallery's, with its probes. */
static size_t bounded_case(size_t n, uint32_t subjects, int grid_data,
                           size_t dups, uint64_t seed, size_t k,
                           const char *what, int fallbacks)
{
    enum { NQ = 6 };
    gallery g = make_gallery(n, subjects, grid_data, dups, seed);
    float *q = make_probes(&g, NQ, grid_data);
    size_t rescored = bounded_equals_scan(&g, q, NQ, k, what, fallbacks);
    free(q);
    free_gallery(&g);
    return rescored;
}

/* Many rows of few subjects around the k-th place, exact ties (grid
 * data, every score exact in float) and duplicated rows. */
START_TEST(test_rank_bounded_subjects_ties_dups)
{
    bounded_case(5000, 60, 0, 400, 41, 50, "60 subjects", 0);  /* ~83 rows */
    bounded_case(4000, 1500, 1, 300, 43, 100, "grid ties", 0);
}
END_TEST

/* k above the number of subjects: no cut ever forms, every row is a
 * candidate (each re-scored); past CAND_MAX rows a thread hands the probe
 * to the float scan, which must still give the same lists.  CAND_MAX is
 * 4096 (index/fs_rank.c): of 10000 rows, one of 2 threads holds 5000 at
 * least, so every probe goes over on either thread count. */
START_TEST(test_rank_bounded_k_above_subjects)
{
    ck_assert_uint_eq(bounded_case(2000, 30, 0, 20, 51, 50, "30 subjects", 0),
                      6 * 2000);
    bounded_case(10000, 30, 0, 20, 53, 50, "30 subjects, 10000 rows", 1);
}
END_TEST

/* A gallery of near-identical rows (one face enrolled over and over, or
 * built to be): no row's bounds rule it out, so after each prune the
 * candidate list is nearly full again.  The bounded pass gives the probe
 * to the float scan once a prune frees under a quarter (it used to prune
 * again on every row, 80x slower than the scan at 1M rows), and the
 * lists are the scan's. */
START_TEST(test_rank_bounded_near_identical_rows)
{
    enum { N = 20000, NQ = 3, K = 50 };
    gallery g = make_gallery(N, N, 0, 0, 61);
    float x0[D];
    for (int d = 0; d < D; d++)
        x0[d] = gauss();
    unit(x0);
    for (size_t i = 0; i < N; i++) {
        float *x = g.vec + i * D;
        for (int d = 0; d < D; d++)
            x[d] = x0[d] + 1e-3f * gauss();
        unit(x);
    }
    float *q = aligned_alloc(64, NQ * D * sizeof *q);
    for (size_t j = 0; j < NQ; j++) {
        for (int d = 0; d < D; d++)
            q[j * D + d] = x0[d] + (j ? 0.05f * gauss() : 0.0f);
        unit(q + j * D);
    }
    bounded_equals_scan(&g, q, NQ, K, "near-identical rows", 1);
    free(q);
    free_gallery(&g);
}
END_TEST

/* A random gallery: the bounded pass re-scores few rows, and
 * FS_EXACT_AUTO turns to it on its second call above
 * FS_RANK_BOUNDED_MIN rows, not before. */
START_TEST(test_rank_bounded_random_and_auto)
{
    enum { NQ = 4, K = 50 };
    gallery g = make_gallery(FS_RANK_BOUNDED_MIN, FS_RANK_BOUNDED_MIN, 0, 0,
                             61);
    float *q = make_probes(&g, NQ, 0);
    fs_hit *a = malloc(NQ * K * sizeof *a), *b = malloc(NQ * K * sizeof *b);
    size_t na[NQ], nb[NQ];
    fs_ranker *sc = exact_ranker(&g, -1, NULL, FS_EXACT_SCAN);
    fs_ranker *au = exact_ranker(&g, -1, NULL, FS_EXACT_AUTO);
    fs_rank_info info;
    for (size_t i = 0; i < NQ; i++) {
        search(sc, q + i * D, 1, K, b + i * K, nb + i);
        search(au, q + i * D, 1, K, a + i * K, na + i);
        fs_ranker_info(au, K, &info);
        ck_assert_int_eq(info.bounded, i > 0);
        ck_assert(i == 0 || (info.rescored >= K && info.rescored < 20 * K));
        /* 64Ki rows fill the copy's 2 MB pages exactly */
        ck_assert_uint_eq(info.copy_bytes, i ? (size_t)FS_RANK_BOUNDED_MIN *
                          FS_RANK_INT8_ROW_BYTES : 0);
    }
    same_lists(a, na, b, nb, NQ, K, "auto", -1, 1);
    ck_assert_uint_eq(info.matrix_bytes, (size_t)FS_RANK_BOUNDED_MIN * D * 4);
    fs_ranker_free(sc);
    fs_ranker_free(au);
    /* below the size, auto keeps the float scan */
    g.n = FS_RANK_BOUNDED_MIN - 1;
    au = exact_ranker(&g, -1, NULL, FS_EXACT_AUTO);
    for (size_t i = 0; i < NQ; i++)
        search(au, q + i * D, 1, K, a + i * K, na + i);
    fs_ranker_info(au, K, &info);
    ck_assert_int_eq(info.bounded, 0);
    ck_assert_uint_eq(info.copy_bytes, 0);
    fs_ranker_free(au);
    free(a);
    free(b);
    free(q);
    free_gallery(&g);
}
END_TEST

START_TEST(test_rank_no_allocation_per_call)
{
    enum { NQ = 70, K = FS_RANK_MAX_K };
    gallery g = make_gallery(3000, 2000, 0, 10, 19);
    float *q = make_probes(&g, NQ, 0);
    fs_hit *h = malloc((size_t)NQ * K * sizeof *h);
    size_t nh[NQ];
    fs_pool *pool;
    ck_assert_int_eq(fs_pool_create(2, &pool), FS_OK);
    fs_ranker *e = ranker(&g, FS_RANK_EXACT, -1, pool, 0);
    fs_ranker *c = ranker(&g, FS_RANK_COMPRESSED, -1, pool, 0);
    fs_ranker *b = exact_ranker(&g, -1, pool, FS_EXACT_BOUNDED);
    search(e, q, NQ, K, h, nh);                  /* BLAS warms up */
    /* no ck_assert inside: Check's own bookkeeping allocates */
    int bad = 0;
    long before = tu_alloc_count();
    for (size_t k = 1; k <= K; k *= 10) {
        bad |= fs_rank_topk(e, q, 1, k, h, nh) != FS_OK;
        bad |= fs_rank_topk(e, q, NQ, k, h, nh) != FS_OK;
        bad |= fs_rank_topk(c, q, 1, k, h, nh) != FS_OK;
        bad |= fs_rank_topk(c, q, NQ, k, h, nh) != FS_OK;
        bad |= fs_rank_topk(b, q, 1, k, h, nh) != FS_OK;
        bad |= fs_rank_topk(b, q, 5, k, h, nh) != FS_OK;
    }
    long after = tu_alloc_count();
    ck_assert_int_eq(bad, 0);
    ck_assert_int_eq(after, before);
    fs_ranker_free(e);
    fs_ranker_free(c);
    fs_ranker_free(b);
    /* the counter does see the ranker's allocations */
    e = ranker(&g, FS_RANK_EXACT, -1, NULL, 0);
    ck_assert_int_gt(tu_alloc_count(), after);
    fs_ranker_free(e);
    fs_pool_free(pool);
    free(h);
    free(q);
    free_gallery(&g);
}
END_TEST

/* ---- the thread team across fork() ---------------------------------------- */

/* Each thread marks its id, waits for the others, then checks they all
 * marked: a team with a thread missing would hang at the barrier or
 * leave a mark unset. */
typedef struct team_marks {
    fs_pool    *pool;
    atomic_int  seen[4];
    atomic_int  complete;
} team_marks;

static void mark_team(void *arg, int tid, int n)
{
    team_marks *m = arg;
    atomic_fetch_add(&m->seen[tid], 1);
    fs_pool_barrier(m->pool);
    int all = 1;
    for (int i = 0; i < n; i++)
        all &= atomic_load(&m->seen[i]) > 0;
    if (all)
        atomic_fetch_add(&m->complete, 1);
}

/* The service forks its children from a warm parent whose engine made
 * its team: the child has none of the team's threads, and its first run
 * starts them again, while the parent's team works on. */
START_TEST(test_pool_runs_in_a_forked_child)
{
    team_marks m = { 0 };
    ck_assert_int_eq(fs_pool_create(3, &m.pool), FS_OK);
    fs_pool_run(m.pool, mark_team, &m);
    ck_assert_int_eq(atomic_load(&m.complete), 3);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        team_marks c = { .pool = m.pool };
        alarm(20);                     /* a missing thread hangs: fail */
        fs_pool_run(m.pool, mark_team, &c);
        fs_pool_run(m.pool, mark_team, &c);
        int ok = atomic_load(&c.complete) == 6;
        fs_pool_free(m.pool);
        _exit(ok ? 0 : 1);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "the child's team did not run (status %d)", status);
    fs_pool_run(m.pool, mark_team, &m);
    ck_assert_int_eq(atomic_load(&m.complete), 6);
    fs_pool_free(m.pool);
}
END_TEST

Suite *suite_rank(void)
{
    Suite *s = suite_create("rank");
    TCase *tc = tcase_create("rank");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_rank_isa_levels);
    tcase_add_test(tc, test_rank_float_kernels_one_sum);
    tcase_add_test(tc, test_rank_int8_kernels_exact);
    tcase_add_test(tc, test_pool_runs_in_a_forked_child);
    tcase_add_test(tc, test_rank_grid_equals_reference);
    tcase_add_test(tc, test_rank_random_close_to_reference);
    tcase_add_test(tc, test_rank_threads_give_identical_lists);
    tcase_add_test(tc, test_rank_batch_matches_single);
    tcase_add_test(tc, test_rank_small_and_empty_galleries);
    tcase_add_test(tc, test_rank_refuses_bad_arguments);
    tcase_add_test(tc, test_rank_compressed_recall_random);
    tcase_add_test(tc, test_rank_compressed_clustered);
    tcase_add_test(tc, test_rank_bounded_half_steps);
    tcase_add_test(tc, test_rank_bounded_near_ties);
    tcase_add_test(tc, test_rank_bounded_subjects_ties_dups);
    tcase_add_test(tc, test_rank_bounded_k_above_subjects);
    tcase_add_test(tc, test_rank_bounded_near_identical_rows);
    tcase_add_test(tc, test_rank_bounded_random_and_auto);
    tcase_add_test(tc, test_rank_no_allocation_per_call);
    tcase_add_test(tc, test_rank_subject_means_reference);
    tcase_add_test(tc, test_rank_subject_means_single_rows_and_the_point);
    suite_add_tcase(s, tc);
    return s;
}
