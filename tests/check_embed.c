/*
 * check_embed.c - the network: dlib's descriptors to float32 precision
 * on the golden chips, the same answer whatever the batch size, chunking
 * or thread count, and the unit-norm template.
 */
#include <check.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../embed/fs_embed.h"
#include "../engine/facesearch.h"
#include "../engine/base/fs_json.h"
#include "fs_testutil.h"

#define GOLDEN_TOL 1e-5     /* per element, as the issue and NETWORK.md */

static fs_engine *open_engine(int threads, int max_batch)
{
    fs_engine_options o = { .model_path = tu_model_path(), .threads = threads,
                            .landmarks_path = tu_landmarks(),
                            .max_batch = max_batch };
    fs_engine *e = NULL;
    fs_detail d = { "" };
    int rc = fs_engine_open(&o, &e, &d);
    ck_assert_msg(rc == FS_OK, "engine: %s", d.msg);
    return e;
}

/* Embeds every chip named in a golden-format JSON file and returns the
 * largest deviation from its reference embedding. */
static double check_against(const char *json_path, const char *chip_dir,
                            int *count)
{
    fs_json *g;
    fs_detail d = { "" };
    ck_assert_msg(fs_json_parse_file(json_path, &g, &d) == FS_OK, "%s",
                  d.msg);
    size_t n = g->n;
    uint8_t *chips = malloc(n * FS_CHIP_BYTES);
    float *desc = malloc(n * FS_DESC_DIM * sizeof *desc);
    for (size_t i = 0; i < n; i++) {
        const char *file = fs_json_get(g->items[i], "file")->string;
        uint8_t *c = chips + i * FS_CHIP_BYTES;
        if (chip_dir) {
            int rc = fs_chip_read(tu_path(chip_dir, file), c, &d);
            ck_assert_msg(rc == FS_OK, "%s", d.msg);
        } else {
            ck_assert_int_eq(tu_synthetic_chip(file, c), 0);
        }
    }
    fs_engine *e = open_engine(0, 16);
    ck_assert_int_eq(fs_engine_embed(e, chips, n, desc, NULL), FS_OK);
    fs_engine_close(e);
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        const fs_json *ref = fs_json_get(g->items[i], "embedding");
        ck_assert_uint_eq(ref->n, FS_DESC_DIM);
        for (int k = 0; k < FS_DESC_DIM; k++) {
            double diff = fabs(desc[i * FS_DESC_DIM + k] -
                               ref->items[k]->number);
            ck_assert_msg(diff <= GOLDEN_TOL, "%s[%d]: %.9g vs %.9g",
                          fs_json_get(g->items[i], "file")->string, k,
                          desc[i * FS_DESC_DIM + k], ref->items[k]->number);
            if (diff > worst)
                worst = diff;
        }
    }
    *count = (int)n;
    free(chips);
    free(desc);
    fs_json_free(g);
    return worst;
}

/* All 16 golden chips (6 faces, their mirrors, 4 synthetic) against the
 * reference implementation's output. */
START_TEST(test_embed_golden_chips)
{
    const char *sh = tu_shared();
    if (!sh)
        return;
    char dir[4096], json[4200];
    snprintf(dir, sizeof dir, "%s/golden", sh);
    snprintf(json, sizeof json, "%s/golden.json", dir);
    int n;
    double worst = check_against(json, dir, &n);
    ck_assert_int_eq(n, 16);
    fprintf(stderr, "golden: 16 chips, max |diff| %.3g\n", worst);
}
END_TEST

/* The synthetic golden chips, rebuilt from their recipes, against the
 * reference embeddings kept in tests/ (copied from golden.json), so the
 * network is checked on a machine without ../shared as well. */
START_TEST(test_embed_synthetic_chips_without_shared)
{
    int n;
    const char *dir = getenv("FACESEARCH_TESTS");
    check_against(tu_path(dir && *dir ? dir : "tests",
                          "golden_synthetic.json"), NULL, &n);
    ck_assert_int_eq(n, 4);
}
END_TEST

static void make_chips(uint8_t *c, int n)
{
    static const char *names[] = { "syn_gradient.png", "syn_checker.png",
                                   "syn_gray128.png", "syn_lcg.png" };
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(tu_synthetic_chip(names[i % 4],
                                           c + (size_t)i * FS_CHIP_BYTES), 0);
    /* make every chip distinct */
    for (int i = 0; i < n; i++)
        c[(size_t)i * FS_CHIP_BYTES + 3 * (75 * 150 + 75)] = (uint8_t)(i * 9);
}

static double max_diff(const float *a, const float *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        if (fabs((double)a[i] - b[i]) > m)
            m = fabs((double)a[i] - b[i]);
    return m;
}

/* One chip alone, in a batch of 20 cut into chunks of 8, and on 1 or 2
 * threads: the descriptor does not depend on how the work was cut. */
START_TEST(test_embed_batch_and_threads_invariant)
{
    enum { N = 20 };
    uint8_t *chips = malloc((size_t)N * FS_CHIP_BYTES);
    make_chips(chips, N);
    float *one = malloc(N * FS_DESC_DIM * sizeof(float));
    float *batch = malloc(N * FS_DESC_DIM * sizeof(float));
    float *two = malloc(N * FS_DESC_DIM * sizeof(float));
    fs_engine *e1 = open_engine(1, 8), *e2 = open_engine(2, 16);
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(fs_engine_embed(e1, chips + (size_t)i * FS_CHIP_BYTES,
                                         1, one + i * FS_DESC_DIM, NULL),
                         FS_OK);
    ck_assert_int_eq(fs_engine_embed(e1, chips, N, batch, NULL), FS_OK);
    ck_assert_int_eq(fs_engine_embed(e2, chips, N, two, NULL), FS_OK);
    ck_assert_double_le(max_diff(one, batch, N * FS_DESC_DIM), 1e-6);
    ck_assert_double_le(max_diff(one, two, N * FS_DESC_DIM), 1e-6);
    /* distinct chips give distinct descriptors: the batch is not mixed */
    ck_assert_double_gt(max_diff(one, one + FS_DESC_DIM, FS_DESC_DIM), 1e-4);
    fs_engine_close(e1);
    fs_engine_close(e2);
    free(chips);
    free(one);
    free(batch);
    free(two);
}
END_TEST

/* The fast path (Winograd F(2x2,3x3) for the 3x3 stride-1 layers) gives
 * the descriptors of the reference path (im2col + sgemm everywhere), at
 * batch 1, in batches that leave partial tiles, on 1 and 2 threads, with
 * the threads sharing each layer (batches of 3) or each running its own
 * images (a batch of 8). */
START_TEST(test_embed_winograd_matches_direct)
{
    enum { N = 8 };
    uint8_t *chips = malloc((size_t)N * FS_CHIP_BYTES);
    make_chips(chips, N);
    fs_model *m;
    fs_detail d = { "" };
    ck_assert_int_eq(fs_model_open(tu_model_path(), &m, &d), FS_OK);
    float ref[N * FS_DESC_DIM], got[N * FS_DESC_DIM];
    fs_net *direct, *fast1, *fast2, *fast3;
    fs_net_options od = { 1, 4, 1 }, o1 = { 1, 4, 0 }, o2 = { 2, 3, 0 },
                   o3 = { 2, 8, 0 };
    ck_assert_int_eq(fs_net_create(m, &od, &direct, &d), FS_OK);
    ck_assert_int_eq(fs_net_create(m, &o1, &fast1, &d), FS_OK);
    ck_assert_int_eq(fs_net_create(m, &o2, &fast2, &d), FS_OK);
    ck_assert_int_eq(fs_net_create(m, &o3, &fast3, &d), FS_OK);
    fs_model_close(m);
    ck_assert_int_eq(fs_net_forward(direct, chips, N, ref), FS_OK);
    ck_assert_int_eq(fs_net_forward(fast1, chips, N, got), FS_OK);
    ck_assert_double_le(max_diff(ref, got, N * FS_DESC_DIM), 2e-6);
    ck_assert_int_eq(fs_net_forward(fast2, chips, 1, got), FS_OK);
    ck_assert_double_le(max_diff(ref, got, FS_DESC_DIM), 2e-6);
    ck_assert_int_eq(fs_net_forward(fast2, chips, N, got), FS_OK);
    ck_assert_double_le(max_diff(ref, got, N * FS_DESC_DIM), 2e-6);
    memset(got, 0, sizeof got);
    ck_assert_int_eq(fs_net_forward(fast3, chips, N, got), FS_OK);
    ck_assert_double_le(max_diff(ref, got, N * FS_DESC_DIM), 2e-6);
    /* the fast path really is a different computation */
    ck_assert_double_gt(max_diff(ref, got, N * FS_DESC_DIM), 0.0);
    ck_assert_double_eq_tol(fs_net_flops_per_chip(direct, 0),
                            fs_net_flops_per_chip(fast1, 0), 1.0);
    /* about 0.54 GFLOP nominal (NETWORK.md); Winograd runs ~55% of it;
     * the 1x1 layer's centre tap saves a little even on the direct path */
    ck_assert_double_gt(fs_net_flops_per_chip(direct, 0), 0.53e9);
    ck_assert_double_lt(fs_net_flops_per_chip(direct, 0), 0.55e9);
    ck_assert_double_lt(fs_net_flops_per_chip(direct, 16),
                        fs_net_flops_per_chip(direct, 0));
    ck_assert_double_gt(fs_net_flops_per_chip(direct, 16),
                        0.99 * fs_net_flops_per_chip(direct, 0));
    ck_assert_double_lt(fs_net_flops_per_chip(fast1, 16),
                        0.6 * fs_net_flops_per_chip(fast1, 0));
    ck_assert_double_gt(fs_net_flops_per_chip(fast1, 1),
                        fs_net_flops_per_chip(fast1, 16));
    fs_net_free(direct);
    fs_net_free(fast1);
    fs_net_free(fast2);
    fs_net_free(fast3);
    free(chips);
}
END_TEST

/* After warm-up, embedding allocates nothing: the buffers are sized by
 * the largest batch seen, on the layer-shared and per-thread paths. */
START_TEST(test_embed_no_allocation_after_warm_up)
{
    enum { N = 16 };
    uint8_t *chips = malloc((size_t)N * FS_CHIP_BYTES);
    make_chips(chips, N);
    float *desc = malloc(N * FS_DESC_DIM * sizeof(float));
    float *tmpl = malloc(N * FS_DESC_DIM * sizeof(float));
    fs_engine *e = open_engine(2, N);
    ck_assert_int_eq(fs_engine_embed(e, chips, N, desc, tmpl), FS_OK);
    /* no ck_assert inside: Check's own bookkeeping allocates */
    int bad = 0;
    long before = tu_alloc_count();
    for (int r = 0; r < 2; r++)
        for (int n = 1; n <= N; n *= 2)
            bad |= fs_engine_embed(e, chips, (size_t)n, desc, tmpl) != FS_OK;
    long after = tu_alloc_count();
    ck_assert_int_eq(bad, 0);
    ck_assert_int_eq(after, before);
    /* the counter does see the engine's allocations */
    fs_engine_close(e);
    e = open_engine(1, 4);
    ck_assert_int_gt(tu_alloc_count(), before);
    fs_engine_close(e);
    free(chips);
    free(desc);
    free(tmpl);
}
END_TEST

/* Opening reads and checks the model; the network (some 90 allocations
 * and 30 MB of folded weights) is built by the first embedding, so a
 * command refused before it embeds (a search the gate turns away) never
 * pays for it.  The network built late embeds as one built at once. */
START_TEST(test_engine_builds_the_network_on_first_use)
{
    uint8_t chip[FS_CHIP_BYTES];
    ck_assert_int_eq(tu_synthetic_chip("syn_gradient.png", chip), 0);
    float warm[FS_DESC_DIM], late[FS_DESC_DIM];
    fs_engine *e = open_engine(1, 1);
    fs_engine_options o = { .model_path = tu_model_path(), .threads = 1,
                            .max_batch = 1 };
    fs_detail d = { "" };
    ck_assert_int_eq(fs_engine_warm(e, &d), FS_OK);       /* built now */
    ck_assert_int_eq(fs_engine_embed(e, chip, 1, warm, NULL), FS_OK);
    fs_engine_close(e);
    /* no ck_assert between the counts: Check's own bookkeeping allocates */
    long t0 = tu_alloc_count();
    int opening = fs_engine_open(&o, &e, &d);
    long opened = tu_alloc_count();
    int embedding = opening == FS_OK ?
                    fs_engine_embed(e, chip, 1, late, NULL) : opening;
    long embedded = tu_alloc_count();
    ck_assert_msg(opening == FS_OK, "%s", d.msg);
    ck_assert_int_eq(embedding, FS_OK);
    ck_assert_msg(opened - t0 < 16 && embedded - opened > 60,
                  "allocations: %ld opening, %ld at the first embedding",
                  opened - t0, embedded - opened);
    ck_assert_mem_eq(warm, late, sizeof warm);
    fs_engine_close(e);
}
END_TEST

START_TEST(test_embed_template_is_unit_norm)
{
    uint8_t chip[FS_CHIP_BYTES];
    ck_assert_int_eq(tu_synthetic_chip("syn_gradient.png", chip), 0);
    float desc[FS_DESC_DIM], tmpl[FS_DESC_DIM];
    fs_engine *e = open_engine(1, 1);
    ck_assert_int_eq(fs_engine_embed(e, chip, 1, desc, tmpl), FS_OK);
    fs_engine_close(e);
    double ss = 0, dot = 0, dn = 0;
    for (int k = 0; k < FS_DESC_DIM; k++) {
        ss += (double)tmpl[k] * tmpl[k];
        dot += (double)tmpl[k] * desc[k];
        dn += (double)desc[k] * desc[k];
    }
    ck_assert_double_eq_tol(ss, 1.0, 1e-6);
    ck_assert_double_eq_tol(dot, sqrt(dn), 1e-5);   /* same direction */
    ck_assert_double_gt(sqrt(dn), 1.0);             /* raw is not normalised */
}
END_TEST

/* --mirror's recipe: the template of the mean of a chip's and its
 * mirror image's descriptors, so a chip and its mirror image get the
 * very same template; the raw descriptors stay the chip's own (the
 * golden vectors hold them), and with the mirror off nothing changes. */
START_TEST(test_embed_mirror_template)
{
    uint8_t chip[FS_CHIP_BYTES], flip[FS_CHIP_BYTES];
    ck_assert_int_eq(tu_synthetic_chip("syn_lcg.png", chip), 0);
    for (int y = 0; y < FS_CHIP_SIZE; y++)
        for (int x = 0; x < FS_CHIP_SIZE; x++)
            memcpy(flip + 3 * ((size_t)y * FS_CHIP_SIZE + x),
                   chip + 3 * ((size_t)y * FS_CHIP_SIZE + FS_CHIP_SIZE - 1 -
                               x), 3);
    float d[2][FS_DESC_DIM], t[2][FS_DESC_DIM], dm[FS_DESC_DIM],
          tm[2][FS_DESC_DIM], mean[FS_DESC_DIM];
    fs_engine *e = open_engine(1, 4);
    ck_assert_int_eq(fs_engine_embed(e, chip, 1, d[0], t[0]), FS_OK);
    ck_assert_int_eq(fs_engine_embed(e, flip, 1, d[1], t[1]), FS_OK);
    ck_assert_double_gt(max_diff(t[0], t[1], FS_DESC_DIM), 1e-3);
    fs_engine_set_mirror(e, 1);
    ck_assert_int_eq(fs_engine_embed(e, chip, 1, dm, tm[0]), FS_OK);
    ck_assert_int_eq(fs_engine_embed(e, flip, 1, dm, tm[1]), FS_OK);
    ck_assert_mem_eq(tm[0], tm[1], sizeof tm[0]);
    ck_assert_mem_eq(dm, d[1], sizeof dm);          /* the chip's own */
    for (int k = 0; k < FS_DESC_DIM; k++)
        mean[k] = 0.5f * (d[0][k] + d[1][k]);
    float want[FS_DESC_DIM];
    ck_assert_int_eq(fs_template_from_descriptor(mean, want), FS_OK);
    ck_assert_double_le(max_diff(tm[0], want, FS_DESC_DIM), 1e-6);
    fs_engine_set_mirror(e, 0);
    ck_assert_int_eq(fs_engine_embed(e, chip, 1, dm, tm[0]), FS_OK);
    ck_assert_mem_eq(tm[0], t[0], sizeof tm[0]);
    fs_engine_close(e);
}
END_TEST

START_TEST(test_engine_bad_model_path)
{
    fs_engine_options o = { .model_path = "/nonexistent/model.fsm",
                            .threads = 1, .max_batch = 1 };
    fs_engine *e = NULL;
    fs_detail d = { "" };
    ck_assert_int_eq(fs_engine_open(&o, &e, &d), FS_ENOENT);
    ck_assert_ptr_null(e);
    ck_assert_ptr_nonnull(strstr(d.msg, "/nonexistent/model.fsm"));
    ck_assert_int_eq(fs_engine_open(NULL, &e, &d), FS_EINVAL);
}
END_TEST

/* fs_gemm_run, each way it can run (the AVX-512 tiles where the CPU has
 * them, OpenBLAS's product), against a product in double: every tile
 * height (1-12 rows and more), panels cut short by n, k from 1 up,
 * strided rows, bias or none, a clamp or none, all columns or a block
 * of them; and nothing written past the columns or the m rows asked. */
static uint32_t gemm_seed = 12345;
static float gemm_rand(void)
{
    gemm_seed = gemm_seed * 1664525u + 1013904223u;
    return (float)(gemm_seed >> 8) / (float)(1u << 24) * 2.0f - 1.0f;
}

START_TEST(test_gemm_matches_a_double_product)
{
    static const int ms[] = { 1, 5, 12, 13, 25, 100 };
    static const int ks[] = { 1, 3, 27, 64, 300 };
    static const int ns[] = { 7, 16, 17, 32, 40, 100 };
    const float sentinel = 1234.5f;
    int packed_seen = 0, cases = 0;
    for (int level = FS_GEMM_BEST; level <= FS_GEMM_BLAS; level++)
        for (size_t mi = 0; mi < sizeof ms / sizeof *ms; mi++)
            for (size_t ki = 0; ki < sizeof ks / sizeof *ks; ki++)
                for (size_t ni = 0; ni < sizeof ns / sizeof *ns; ni++) {
        int m = ms[mi], k = ks[ki], n = ns[ni];
        int c0 = n > FS_GEMM_COLS && mi % 2 ? FS_GEMM_COLS : 0;
        int c1 = c0 && n > 2 * FS_GEMM_COLS ? 2 * FS_GEMM_COLS : n;
        int lda = k + (int)(ni % 2) * 3, ldc = c1 - c0 + 5;
        int with_bias = (mi + ki) % 2, relu6 = (ki + ni) % 2;
        float lo = relu6 ? 0.0f : -INFINITY, hi = relu6 ? 6.0f : INFINITY;
        float *a = malloc((size_t)m * lda * sizeof *a);
        float *w = malloc((size_t)k * n * sizeof *w);
        float *bias = malloc((size_t)n * sizeof *bias);
        float *c = malloc((size_t)(m + 1) * ldc * sizeof *c);
        ck_assert(a && w && bias && c);
        for (int i = 0; i < m * lda; i++)
            a[i] = gemm_rand();
        for (int i = 0; i < k * n; i++)
            w[i] = gemm_rand() * 3.0f;
        for (int i = 0; i < n; i++)
            bias[i] = gemm_rand() * 4.0f;
        for (int i = 0; i < (m + 1) * ldc; i++)
            c[i] = sentinel;
        fs_gemm_b b;
        ck_assert_int_eq(fs_gemm_b_init(&b, w, k, n, level), FS_OK);
        packed_seen |= b.packed;
        ck_assert(level == FS_GEMM_BEST || !b.packed);
        fs_gemm_run(&b, m, a, lda, c, ldc, c0, c1, with_bias ? bias : NULL,
                    lo, hi);
        for (int r = 0; r <= m; r++)
            for (int jc = 0; jc < ldc; jc++) {
                float got = c[(size_t)r * ldc + jc];
                int j = c0 + jc;
                if (r == m || j >= c1) {
                    ck_assert_msg(got == sentinel, "level %d m %d k %d n %d: "
                                  "wrote C[%d][%d]", level, m, k, n, r, j);
                    continue;
                }
                double want = with_bias ? bias[j] : 0.0, mag = fabs(want);
                for (int p = 0; p < k; p++) {
                    double t = (double)a[(size_t)r * lda + p] *
                               w[(size_t)p * n + j];
                    want += t;
                    mag += fabs(t);
                }
                want = want < lo ? lo : want > hi ? hi : want;
                ck_assert_msg(fabs(got - want) <= 1e-6 * (mag + 1.0),
                              "level %d m %d k %d n %d: C[%d][%d] %.7g, "
                              "want %.7g", level, m, k, n, r, j, got, want);
            }
        fs_gemm_b_free(&b);
        free(a);
        free(w);
        free(bias);
        free(c);
        cases++;
    }
    ck_assert_int_eq(cases, 2 * 6 * 5 * 6);
    if (__builtin_cpu_supports("avx512f"))
        ck_assert_msg(packed_seen, "AVX-512 here, yet no packed weights");
    else
        fprintf(stderr, "gemm: no AVX-512 here: OpenBLAS's product only\n");
}
END_TEST

Suite *suite_embed(void);
Suite *suite_embed(void)
{
    Suite *s = suite_create("embed");
    TCase *tc = tcase_create("network");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_embed_golden_chips);
    tcase_add_test(tc, test_embed_synthetic_chips_without_shared);
    tcase_add_test(tc, test_engine_builds_the_network_on_first_use);
    tcase_add_test(tc, test_embed_batch_and_threads_invariant);
    tcase_add_test(tc, test_embed_winograd_matches_direct);
    tcase_add_test(tc, test_gemm_matches_a_double_product);
    tcase_add_test(tc, test_embed_no_allocation_after_warm_up);
    tcase_add_test(tc, test_embed_template_is_unit_norm);
    tcase_add_test(tc, test_embed_mirror_template);
    tcase_add_test(tc, test_engine_bad_model_path);
    suite_add_tcase(s, tc);
    return s;
}
