/*
 * check_eval.c - the accuracy figures of engine/fs_eval.h against small
 * cases computed by hand (each figure's arithmetic in the comment above
 * it), and `facesearch eval` end to end: its options, its refusals, its
 * JSON and its SVG.
 */
#include <check.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../engine/base/fs_json.h"
#include "../engine/fs_eval.h"
#include "fs_testutil.h"

#define EPS 1e-9

/* Three gallery columns, seven probes:
 *   A mate 0, scores .5 .5 .1: tied with a non-mate, so rank 2
 *   B mate 1, scores .2 .9 .3: rank 1, score .9
 *   C mate 2, scores .9 .8 .7: rank 3
 *   D mate 0, no face: a miss
 *   E mated, its mate's enrolment failed: a miss
 *   F non-mated, scores .4 .6 .3: best .6
 *   G non-mated, no face
 * 5 mated probes, 2 non-mated. */
static const float S[7 * 3] = {
    .5f, .5f, .1f,   .2f, .9f, .3f,   .9f, .8f, .7f,   0, 0, 0,
    0, 0, 0,         .4f, .6f, .3f,   0, 0, 0
};
static const int32_t MATE[7] = { 0, 1, 2, 0, FS_EVAL_MATE_ABSENT,
                                 FS_EVAL_NONMATED, FS_EVAL_NONMATED };
static const uint8_t SEARCHED[7] = { 1, 1, 1, 0, 1, 1, 0 };
static const fs_eval_set SET = { S, 7, 3, MATE, SEARCHED };

START_TEST(test_ranks_count_ties_against_the_mate)
{
    uint32_t rank[7];
    fs_eval_ranks(&SET, rank);
    static const uint32_t want[7] = { 2, 1, 3, 0, 0, 0, 0 };
    for (int p = 0; p < 7; p++)
        ck_assert_uint_eq(rank[p], want[p]);
    ck_assert_uint_eq(fs_eval_mated(&SET), 5);
}
END_TEST

/* CMC over 5 mated probes: rank 1 B (1/5), rank 2 A, rank 3 C; D and E
 * never; past the gallery's 3 columns the curve stays flat. */
START_TEST(test_cmc_counts_misses_and_runs_past_the_gallery)
{
    uint32_t rank[7];
    fs_eval_ranks(&SET, rank);
    double cmc[50];
    fs_eval_cmc(&SET, rank, 50, cmc);
    ck_assert_double_eq_tol(cmc[0], 0.2, EPS);
    ck_assert_double_eq_tol(cmc[1], 0.4, EPS);
    ck_assert_double_eq_tol(cmc[2], 0.6, EPS);
    ck_assert_double_eq_tol(cmc[49], 0.6, EPS);
}
END_TEST

/* Open set.  Mated list: B's .9 (the only mate at rank 1), four misses;
 * non-mated: F's .6 and G (no face).  FPIR .01 of 2 allows 0 false
 * positives: the threshold is just above .6 and only B passes: FNIR 4/5.
 * FPIR .5 allows one, and G cannot be one: threshold -1, FNIR still 4/5
 * (rank-1 misses stay misses).  At .6 itself F is a candidate (ties
 * accepted): FPIR 1/2; above .9 nobody: FNIR 1. */
START_TEST(test_open_set_thresholds_and_rates)
{
    uint32_t rank[7];
    fs_eval_ranks(&SET, rank);
    fs_eval_open o;
    ck_assert_int_eq(fs_eval_open_make(&SET, rank, &o, NULL), FS_OK);
    ck_assert_uint_eq(o.nmated, 5);
    ck_assert_uint_eq(o.nnonmated, 2);
    double t, fnir, fpir;
    ck_assert_int_eq(fs_eval_fnir_at(&o, 0.01, &t, &fnir), FS_OK);
    ck_assert(t > 0.6 && t < 0.6000001);
    ck_assert_double_eq_tol(fnir, 0.8, EPS);
    ck_assert_int_eq(fs_eval_fnir_at(&o, 0.5, &t, &fnir), FS_OK);
    ck_assert_double_eq(t, -1);
    ck_assert_double_eq_tol(fnir, 0.8, EPS);
    fs_eval_rates_at(&o, 0.6f, &fpir, &fnir);
    ck_assert_double_eq_tol(fpir, 0.5, EPS);
    ck_assert_double_eq_tol(fnir, 0.8, EPS);
    fs_eval_rates_at(&o, 0.95, &fpir, &fnir);
    ck_assert_double_eq(fpir, 0);
    ck_assert_double_eq(fnir, 1);

    /* DET: just above .6 (FPIR 0, FNIR .8), then at .6 (FPIR .5) */
    fs_eval_point pt[3];
    ck_assert_uint_eq(fs_eval_det(&o, pt), 2);
    ck_assert_double_eq(pt[0].fpir, 0);
    ck_assert_double_eq_tol(pt[0].fnir, 0.8, EPS);
    ck_assert_double_eq_tol(pt[1].fpir, 0.5, EPS);
    ck_assert_double_eq_tol(pt[1].threshold, 0.6f, EPS);
    fs_eval_open_free(&o);
}
END_TEST

/* Nothing searched at all: every rate a number, the misses counted. */
START_TEST(test_every_probe_without_a_face)
{
    static const uint8_t none[7] = { 0 };
    fs_eval_set s = { NULL, 7, 3, MATE, none };
    uint32_t rank[7];
    fs_eval_ranks(&s, rank);
    double cmc[5];
    fs_eval_cmc(&s, rank, 5, cmc);
    for (int r = 0; r < 5; r++)
        ck_assert_double_eq(cmc[r], 0);
    fs_eval_open o;
    ck_assert_int_eq(fs_eval_open_make(&s, rank, &o, NULL), FS_OK);
    double t, fnir;
    ck_assert_int_eq(fs_eval_fnir_at(&o, 0.01, &t, &fnir), FS_OK);
    ck_assert_double_eq(t, -1);
    ck_assert_double_eq(fnir, 1);
    fs_eval_point pt[3];
    ck_assert_uint_eq(fs_eval_det(&o, pt), 0);
    fs_eval_group g;
    int32_t all[7] = { 0, 0, 0, 0, 0, 0, 0 };
    fs_eval_groups(&s, rank, all, 1, t, &g);
    ck_assert_uint_eq(g.mated, 5);
    ck_assert_double_eq(g.rank1, 0);
    ck_assert_double_eq(g.fnir, 1);
    ck_assert_double_eq(g.fpir, 0);
    fs_eval_open_free(&o);
}
END_TEST

/* One probe, its mate the whole gallery: rank 1 at every rank; with no
 * non-mated probe there is no FPIR, so no threshold. */
START_TEST(test_one_probe)
{
    static const float one = .7f;
    static const int32_t m = 0;
    static const uint8_t yes = 1;
    fs_eval_set s = { &one, 1, 1, &m, &yes };
    uint32_t rank;
    fs_eval_ranks(&s, &rank);
    ck_assert_uint_eq(rank, 1);
    double cmc[20];
    fs_eval_cmc(&s, &rank, 20, cmc);
    ck_assert_double_eq(cmc[0], 1);
    ck_assert_double_eq(cmc[19], 1);
    fs_eval_open o;
    ck_assert_int_eq(fs_eval_open_make(&s, &rank, &o, NULL), FS_OK);
    double t = 9, fnir = 9;
    ck_assert_int_eq(fs_eval_fnir_at(&o, 0.01, &t, &fnir), FS_EINVAL);
    ck_assert_double_eq(t, 9);
    fs_eval_open_free(&o);
}
END_TEST

/* Only non-mated probes (no identity has a mate): CMC and FNIR are 0,
 * never NaN, and the FPIR threshold still stands. */
START_TEST(test_no_mated_probe)
{
    static const float sc[2] = { .3f, .8f };
    static const int32_t m[2] = { FS_EVAL_NONMATED, FS_EVAL_NONMATED };
    static const uint8_t yes[2] = { 1, 1 };
    fs_eval_set s = { sc, 2, 1, m, yes };
    uint32_t rank[2];
    fs_eval_ranks(&s, rank);
    double cmc[1];
    fs_eval_cmc(&s, rank, 1, cmc);
    ck_assert_double_eq(cmc[0], 0);
    fs_eval_open o;
    ck_assert_int_eq(fs_eval_open_make(&s, rank, &o, NULL), FS_OK);
    double t, fnir;
    ck_assert_int_eq(fs_eval_fnir_at(&o, 0.5, &t, &fnir), FS_OK);
    ck_assert_double_eq(t, nextafterf(.3f, 2.0f));
    ck_assert_double_eq(fnir, 0);
    fs_eval_open_free(&o);
}
END_TEST

/* Four 2-D templates: a (1,0) and b (.8,.6) one person, c (.6,.8) and
 * d (0,1) another.  Mated pairs ab .8, cd .8; non-mated ac .6, ad 0,
 * bc .96, bd .6.  FAR .25 of 4 allows one: threshold just above .6, TAR
 * 2/2; FAR .1 allows none: just above .96, TAR 0.  Best accuracy at .8:
 * both mated accepted, bc the one false accept: (1 + 3/4) / 2. */
START_TEST(test_verification)
{
    static const float t[8] = { 1, 0, .8f, .6f, .6f, .8f, 0, 1 };
    static const int32_t lab[4] = { 7, 7, 9, 9 };
    static const double far[2] = { 0.25, 0.1 };
    fs_eval_verify v;
    ck_assert_int_eq(fs_eval_verification(t, lab, 4, 2, far, 2, &v, NULL),
                     FS_OK);
    ck_assert_uint_eq(v.mated_pairs, 2);
    ck_assert_uint_eq(v.nonmated_pairs, 4);
    ck_assert(v.threshold[0] > 0.6 && v.threshold[0] < 0.6000001);
    ck_assert_double_eq(v.tar[0], 1);
    ck_assert(v.threshold[1] > 0.96 && v.threshold[1] < 0.9600001);
    ck_assert_double_eq(v.tar[1], 0);
    ck_assert_double_eq_tol(v.accuracy, 0.875, EPS);
    ck_assert_double_eq_tol(v.accuracy_threshold, 0.8, 1e-6);

    /* a non-mated pair tied with the mated ones at .8 is a false accept
     * there: e = b's twin under a third label adds ae .8, be 1, ce .96,
     * de .6; accepting down to .8 lets in be, bc, ce and ae of the 8
     * non-mated, and that is still the best: (1 + 4/8) / 2 */
    static const float t5[10] = { 1, 0, .8f, .6f, .6f, .8f, 0, 1, .8f, .6f };
    static const int32_t lab5[5] = { 7, 7, 9, 9, 3 };
    ck_assert_int_eq(fs_eval_verification(t5, lab5, 5, 2, far, 1, &v, NULL),
                     FS_OK);
    ck_assert_uint_eq(v.nonmated_pairs, 8);
    ck_assert_double_eq_tol(v.accuracy, 0.75, EPS);

    /* one person only: nothing to compare against */
    fs_detail d = { "" };
    static const int32_t same[4] = { 1, 1, 1, 1 };
    ck_assert_int_eq(fs_eval_verification(t, same, 4, 2, far, 2, &v, &d),
                     FS_EINVAL);
    ck_assert_ptr_nonnull(strstr(d.msg, "non-mated pair"));
}
END_TEST

static int by_desc(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x < y) - (x > y);
}

/* Lists long enough for the radix sort: 5000 non-mated searches whose
 * best scores (a one-column gallery) span signs, both zeros, tiny and
 * huge magnitudes, ties, and no face (-inf), come out descending and
 * equal to qsort's order. */
START_TEST(test_long_lists_sorted)
{
    enum { N = 5000 };
    float *sc = malloc(N * sizeof *sc), *ref = malloc(N * sizeof *ref);
    int32_t *mate = malloc(N * sizeof *mate);
    uint8_t *srch = malloc(N);
    uint32_t *rank = malloc(N * sizeof *rank);
    ck_assert(sc && ref && mate && srch && rank);
    uint32_t x = 12345;
    for (int i = 0; i < N; i++) {
        x = x * 1664525u + 1013904223u;
        float v = ((float)(x >> 8) / 16777216.0f - 0.5f) * 2.0f;
        sc[i] = i % 7 == 0 ? v * 1e30f : i % 11 == 0 ? v * 1e-30f
              : i % 13 == 0 ? 0.25f : i % 17 == 0 ? (i % 2 ? 0.0f : -0.0f)
              : v;
        mate[i] = FS_EVAL_NONMATED;
        srch[i] = i % 19 != 0;
        ref[i] = srch[i] ? sc[i] : -INFINITY;
    }
    fs_eval_set set = { sc, N, 1, mate, srch };
    fs_eval_ranks(&set, rank);
    fs_eval_open o;
    ck_assert_int_eq(fs_eval_open_make(&set, rank, &o, NULL), FS_OK);
    ck_assert_uint_eq(o.nnonmated, N);
    qsort(ref, N, sizeof *ref, by_desc);
    for (int i = 0; i < N; i++)
        ck_assert_msg(o.nonmated[i] == ref[i], "at %d: %g, not %g", i,
                      o.nonmated[i], ref[i]);
    ck_assert(isinf(o.nonmated[N - 1]) && o.nonmated[N - 1] < 0);
    fs_eval_open_free(&o);
    free(sc);
    free(ref);
    free(mate);
    free(srch);
    free(rank);
}
END_TEST

/* Verification over 120 templates (6960 non-mated pairs, the radix
 * sort's): its rates and best accuracy as counted pair by pair. */
START_TEST(test_verification_long)
{
    enum { N = 120, D = 4 };
    static float t[N * D], sc[N * N];
    static int32_t lab[N];
    uint32_t x = 777;
    for (int i = 0; i < N; i++) {
        double ss = 0;
        for (int k = 0; k < D; k++) {
            x = x * 1664525u + 1013904223u;
            t[i * D + k] = (float)(x >> 8) / 16777216.0f - 0.5f +
                           (k == i % 30 % D ? 0.6f : 0);
            ss += (double)t[i * D + k] * t[i * D + k];
        }
        for (int k = 0; k < D; k++)
            t[i * D + k] = (float)(t[i * D + k] / sqrt(ss));
        lab[i] = i % 30;
    }
    static const double far[2] = { 1e-2, 1e-3 };
    fs_eval_verify v;
    ck_assert_int_eq(fs_eval_verification(t, lab, N, D, far, 2, &v, NULL),
                     FS_OK);
    ck_assert_uint_eq(v.mated_pairs, 180);
    ck_assert_uint_eq(v.nonmated_pairs, 6960);
    fs_eval_scores(t, N, t, N, D, sc);
    for (int f = 0; f < 2; f++) {
        size_t fa = 0, ta = 0;         /* at the threshold given */
        double below = -INFINITY;      /* the highest non-mated refused */
        for (int i = 0; i < N; i++)
            for (int j = i + 1; j < N; j++) {
                float s = sc[i * N + j];
                if (lab[i] == lab[j])
                    ta += s >= v.threshold[f];
                else if (s >= v.threshold[f])
                    fa++;
                else if (s > below)
                    below = s;
            }
        ck_assert_uint_le(fa, (size_t)floor(far[f] * 6960));
        /* and it is the lowest such: the next score down lets too many in */
        ck_assert((float)below == nextafterf((float)v.threshold[f], -INFINITY)
                  || fa == (size_t)floor(far[f] * 6960));
        ck_assert_double_eq_tol(v.tar[f], ta / 180.0, 1e-12);
    }
    double best = 0.5;
    for (int a = 0; a < N * N; a++) {       /* every mated score a cut */
        if (lab[a / N] != lab[a % N] || a / N >= a % N)
            continue;
        size_t tp = 0, tn = 0;
        for (int i = 0; i < N; i++)
            for (int j = i + 1; j < N; j++) {
                int in = sc[i * N + j] >= sc[a];
                if (lab[i] == lab[j])
                    tp += in;
                else
                    tn += !in;
            }
        double acc = 0.5 * (tp / 180.0 + tn / 6960.0);
        best = acc > best ? acc : best;
    }
    ck_assert_double_eq_tol(v.accuracy, best, 1e-12);
}
END_TEST

/* Groups at threshold .5: {A, B} have B at rank 1 over .5 (rank-1 1/2,
 * FNIR 1/2, no non-mated probe); {C, F, G} have C at rank 3 (rank-1 0,
 * FNIR 1) and F over .5 of its two non-mated (FPIR 1/2); D and E in
 * none. */
START_TEST(test_groups)
{
    uint32_t rank[7];
    fs_eval_ranks(&SET, rank);
    static const int32_t grp[7] = { 0, 0, 1, -1, -1, 1, 1 };
    fs_eval_group g[2];
    fs_eval_groups(&SET, rank, grp, 2, 0.5, g);
    ck_assert_uint_eq(g[0].mated, 2);
    ck_assert_uint_eq(g[0].nonmated, 0);
    ck_assert_double_eq_tol(g[0].rank1, 0.5, EPS);
    ck_assert_double_eq_tol(g[0].fnir, 0.5, EPS);
    ck_assert_double_eq(g[0].fpir, 0);
    ck_assert_uint_eq(g[1].mated, 1);
    ck_assert_uint_eq(g[1].nonmated, 2);
    ck_assert_double_eq(g[1].rank1, 0);
    ck_assert_double_eq(g[1].fnir, 1);
    ck_assert_double_eq_tol(g[1].fpir, 0.5, EPS);
}
END_TEST

/* The score matrix is the probes' dot products with the gallery's. */
START_TEST(test_scores)
{
    static const float q[4] = { 1, 0, .6f, .8f };
    static const float g[6] = { 1, 0, 0, 1, .8f, .6f };
    float out[6];
    fs_eval_scores(q, 2, g, 3, 2, out);
    static const float want[6] = { 1, 0, .8f, .6f, .8f, .96f };
    for (int i = 0; i < 6; i++)
        ck_assert_float_eq_tol(out[i], want[i], 1e-6);
}
END_TEST

/* ---- facesearch eval ---------------------------------------------------- */

static const fs_json *get(const fs_json *j, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *k = strtok(buf, "/"); k; k = strtok(NULL, "/")) {
        j = fs_json_get(j, k);
        ck_assert_msg(j != NULL, "no '%s' in '%s'", k, path);
    }
    return j;
}

/* dlib's johns as a data set: three identities of 11 images searched,
 * two of one image as non-mated probes; demographics for four of them;
 * three faces94 photos, in folders of their own, as distractors. */
static char *johns_set(void)
{
    const char *sh = tu_shared();
    if (!sh)
        return NULL;
    static const char *const johns[] = { "John_Salley", "John_Savage",
        "John_Schneider", "John_Shimkus", "John_Simm" };
    char *set = strdup(tu_path(tu_tmp, "set"));
    mkdir(set, 0700);
    for (int i = 0; i < 5; i++) {
        char src[4096], dst[4200];
        snprintf(src, sizeof src, "%s/datasets/dlib_johns/%s", sh, johns[i]);
        snprintf(dst, sizeof dst, "%s/%s", set, johns[i]);
        if (i < 3) {
            ck_assert_int_eq(symlink(src, dst), 0);
            continue;
        }
        mkdir(dst, 0700);
        struct dirent **f;
        int nf = scandir(src, &f, NULL, alphasort);
        ck_assert_int_gt(nf, 2);
        char one[8300], link[4300];
        snprintf(one, sizeof one, "%s/%s", src, f[2]->d_name);
        snprintf(link, sizeof link, "%s/x.jpg", dst);
        ck_assert_int_eq(symlink(one, link), 0);
        for (int k = 0; k < nf; k++)
            free(f[k]);
        free(f);
    }
    static const char csv[] =
        "identity,Sex,\"Age band\",notes\n"
        "John_Salley,M,30-49,x\n"
        "John_Savage,M,50-69,\n"
        "John_Shimkus,F,50-69,\n"
        "John_Simm,F,,\n"
        "Nobody_Here,F,18-29,\n";
    ck_assert_int_eq(tu_write(tu_path(set, "demographics.csv"), csv,
                              sizeof csv - 1), 0);
    return set;
}

START_TEST(test_cli_eval_everything)
{
    char *set = johns_set();
    if (!set)
        return;
    const char *dis = tu_path(tu_tmp, "distractors");
    mkdir(dis, 0700);
    static const char *const people[] = { "9326871", "9332898", "9336923" };
    for (int i = 0; i < 3; i++) {
        char sub[4200], src[4096], dst[4400];
        snprintf(sub, sizeof sub, "%s/%s", dis, people[i]);
        mkdir(sub, 0700);
        snprintf(src, sizeof src, "%s/datasets/faces94/%s/%s.1.jpg",
                 tu_shared(), people[i], people[i]);
        snprintf(dst, sizeof dst, "%s/a.jpg", sub);
        ck_assert_int_eq(symlink(src, dst), 0);
    }
    char *svg = strdup(tu_path(tu_tmp, "curves.svg"));
    fs_json *j = tu_run_json(0, (char *const[]){ "facesearch", "eval", set,
        "--svg", svg, "--distractors", (char *)dis, "--threshold", "-1",
        "--z-threshold", "-1000", "--top-threshold", "-1000", "--json",
        NULL });
    ck_assert_int_eq(tu_num(j, "images"), 35);
    ck_assert_int_eq(tu_num(j, "no_face"), 0);
    ck_assert_int_eq(tu_num(get(j, "distractors"), "images"), 3);
    ck_assert_int_eq(tu_num(get(j, "distractors"), "enrolled"), 3);
    ck_assert_int_eq(tu_num(j, "gallery"), 6);
    ck_assert_int_eq(tu_num(j, "mated_probes"), 30);
    ck_assert_int_eq(tu_num(j, "nonmated_probes"), 2);
    ck_assert_double_ge(tu_num(get(j, "closed_set/cmc"), "1"), 0.95);
    ck_assert_double_eq(tu_num(get(j, "closed_set/cmc"), "50"), 1.0);
    ck_assert_double_le(tu_num(get(j, "open_set/fnir_at_fpir/0.1"), "fnir"),
                        0.2);
    const fs_json *det = get(j, "open_set/det");
    ck_assert_int_eq(det->type, FS_JSON_ARRAY);
    ck_assert_int_eq(get(j, "open_set_normalised/det")->type, FS_JSON_ARRAY);
    /* at the least cosine, and far below any z, every search that found
     * a face has a candidate, and only rank-1 mates are found */
    double miss = 1 - tu_num(get(j, "closed_set/cmc"), "1");
    ck_assert_double_eq(tu_num(get(j, "open_set/at_threshold"), "fpir"), 1);
    ck_assert_double_eq_tol(tu_num(get(j, "open_set/at_threshold"), "fnir"),
                            miss, 1e-4);
    ck_assert_double_eq(tu_num(get(j, "open_set_normalised/at_threshold"),
                               "fpir"), 1);
    ck_assert_double_eq_tol(tu_num(get(j, "open_set_normalised/at_threshold"),
                                   "fnir"), miss, 1e-4);
    ck_assert_double_eq(tu_num(get(j, "open_set_top_cohort/at_threshold"),
                               "fpir"), 1);
    /* 3 x C(11,2) mated pairs of the 35 templates' 595 */
    ck_assert_int_eq(tu_num(get(j, "verification"), "mated_pairs"), 165);
    ck_assert_int_eq(tu_num(get(j, "verification"), "nonmated_pairs"), 430);
    ck_assert_double_ge(tu_num(get(j, "verification/best_accuracy"),
                            "accuracy"), 0.9);
    ck_assert_double_le(tu_num(get(j, "verification/tar_at_far/0.001"), "tar"),
                        1);
    /* groups: John_Schneider has no row; Simm no age band; Nobody_Here
     * is no identity of the set */
    const fs_json *sex = get(j, "groups/sex/values");
    ck_assert_int_eq(tu_num(get(sex, "M"), "mated_probes"), 20);
    ck_assert_int_eq(tu_num(get(sex, "F"), "mated_probes"), 0);
    ck_assert_int_eq(tu_num(get(sex, "F"), "nonmated_probes"), 2);
    const fs_json *age = get(j, "groups/age_band/values");
    ck_assert_int_eq(tu_num(get(age, "50-69"), "mated_probes"), 10);
    ck_assert_int_eq(tu_num(get(age, "50-69"), "nonmated_probes"), 1);
    ck_assert_ptr_null(fs_json_get(age, "18-29"));
    ck_assert_ptr_null(fs_json_get(get(j, "groups"), "notes"));
    ck_assert_double_ge(tu_num(get(j, "groups/sex/gap"), "fnir"), 0);
    ck_assert_double_gt(tu_num(get(j, "times"), "template_ms_per_image"), 0);
    ck_assert_double_gt(tu_num(get(j, "times"), "search_ms_per_probe"), 0);
    fs_json_free(j);

    size_t len;
    char *text = tu_read(svg, &len);
    ck_assert_ptr_nonnull(text);
    ck_assert_ptr_nonnull(strstr(text, "Cumulative match characteristic"));
    ck_assert_ptr_nonnull(strstr(text, "Detection error tradeoff"));
    ck_assert_ptr_nonnull(strstr(text, "<polyline"));
    ck_assert_ptr_nonnull(strstr(text, ">cosine: FNIR at FPIR 0.1, 0.01, "
                                       "0.003<"));
    ck_assert_ptr_nonnull(strstr(text, ">normalised over the gallery<"));
    ck_assert_ptr_nonnull(strstr(text, ">normalised over the top 50 others<"));
    ck_assert_ptr_nonnull(strstr(text, ">0.01<"));     /* a log tick */
    free(text);

    /* the text report says the same */
    char *out, *err;
    ck_assert_int_eq(TU_RUN(&out, &err, "eval", set), 0);
    ck_assert_ptr_nonnull(strstr(out, "165 mated and 430 non-mated pairs"));
    ck_assert_ptr_nonnull(strstr(out, "by sex (at the FPIR 0.01 threshold)"));
    ck_assert_ptr_nonnull(strstr(out, "gap between best and worst"));
    ck_assert_ptr_nonnull(strstr(out, "ms per search (median)"));
    ck_assert_ptr_nonnull(strstr(out, "normalised over each probe's "
                                      "gallery scores, FNIR at FPIR:"));
    ck_assert_ptr_nonnull(strstr(out, "normalised over each probe's top 50 "
                                      "others, FNIR at FPIR:"));
    free(out);
    free(err);
    free(svg);
    free(set);
}
END_TEST

/* Every bad input refused before any work, with its reason, and no
 * half-made output left behind. */
START_TEST(test_cli_eval_refusals)
{
    char *svg = strdup(tu_path(tu_tmp, "x.svg"));
    char *empty = strdup(tu_path(tu_tmp, "empty"));
    mkdir(empty, 0700);
    TU_REFUSED(2, "give one DATASET_DIR", "eval");
    TU_REFUSED(2, "cannot read data set", "eval",
               (char *)tu_path(tu_tmp, "nowhere"));
    TU_REFUSED(2, "--face must be centre or largest", "eval", empty,
               "--face", "left");
    TU_REFUSED(2, "--threshold must be a number from -1 to 1", "eval", empty,
               "--threshold", "2");
    TU_REFUSED(2, "--z-threshold must be a number", "eval", empty,
               "--z-threshold", "abc");
    TU_REFUSED(2, "holds no images in identity folders", "eval", empty,
               "--svg", svg);
    ck_assert_int_ne(access(svg, F_OK), 0);
    /* files but no identity folder */
    char *flat = strdup(tu_path(tu_tmp, "flat"));
    mkdir(flat, 0700);
    ck_assert_int_eq(tu_write(tu_path(flat, "a.jpg"), "x", 1), 0);
    TU_REFUSED(2, "holds no images in identity folders", "eval", flat);
    /* an identity, and distractors that are not there, not a folder,
     * or empty */
    char *set = strdup(tu_path(tu_tmp, "set"));
    mkdir(set, 0700);
    mkdir(tu_path(set, "A"), 0700);
    ck_assert_int_eq(tu_write(tu_path(tu_path(set, "A"), "1.jpg"), "x", 1),
                     0);
    TU_REFUSED(2, "cannot read distractors", "eval", set, "--distractors",
               (char *)tu_path(tu_tmp, "nowhere"));
    TU_REFUSED(2, "cannot read distractors", "eval", set, "--distractors",
               (char *)tu_path(flat, "a.jpg"));
    TU_REFUSED(2, "hold no files", "eval", set, "--distractors", empty,
               "--svg", svg);
    ck_assert_int_ne(access(svg, F_OK), 0);
    TU_REFUSED(2, "--distractors needs a folder", "eval", set,
               "--distractors", "");
    /* demographics without their key column, or broken */
    static const char nokey[] = "name,sex\nA,F\n";
    ck_assert_int_eq(tu_write(tu_path(set, "demographics.csv"), nokey,
                              sizeof nokey - 1), 0);
    TU_REFUSED(2, "no 'identity' column", "eval", set);
    static const char broken[] = "identity,sex\n\"A,F\n";
    ck_assert_int_eq(tu_write(tu_path(set, "demographics.csv"), broken,
                              sizeof broken - 1), 0);
    TU_REFUSED(2, "line 2: unterminated quote", "eval", set);
    free(svg);
    free(empty);
    free(flat);
    free(set);
}
END_TEST

/* Row .1 .2 .3: mean .2, population deviation sqrt(.02/3), so -1.2247,
 * 0, 1.2247; a flat row and a one-column gallery have no spread: 0.
 * With a cohort of the 2 highest others, row .9 .5 .4 .3 .1: .9 against
 * {.5 .4} (mean .45, deviation .05) is 9; .5 against {.9 .4} -0.6; .4
 * against {.9 .5} -1.5; .3 and .1 against {.9 .5} -2 and -3. */
START_TEST(test_normalise)
{
    static const float in[6] = { .1f, .2f, .3f, .5f, .5f, .5f };
    float out[6];
    ck_assert_int_eq(fs_eval_normalise(in, 2, 3, 0, out), FS_OK);
    ck_assert_float_eq_tol(out[0], -1.2247449f, 1e-5);
    ck_assert_float_eq_tol(out[1], 0, 1e-5);
    ck_assert_float_eq_tol(out[2], 1.2247449f, 1e-5);
    for (int j = 3; j < 6; j++)
        ck_assert_float_eq(out[j], 0);
    float one = .9f;
    ck_assert_int_eq(fs_eval_normalise(&one, 1, 1, 5, &one), FS_OK);
    ck_assert_float_eq(one, 0);
    static const float row[5] = { .3f, .9f, .1f, .5f, .4f };
    static const float want[5] = { -2, 9, -3, -0.6f, -1.5f };
    float z[5];
    ck_assert_int_eq(fs_eval_normalise(row, 1, 5, 2, z), FS_OK);
    for (int j = 0; j < 5; j++)
        ck_assert_float_eq_tol(z[j], want[j], 1e-4);
}
END_TEST

/* The fusion by hand: the first model's top 2 of 4 re-scored as the
 * mean of the two standardised scores, the rest -INFINITY; a missing
 * second score keeps the first's alone; a tie at the cut goes to the
 * lower column. */
START_TEST(test_fuse)
{
    const float s1[4] = { 0.9f, 0.5f, 0.8f, 0.7f };
    const float s2[4] = { 0.1f, 0.9f, 0.6f, NAN };
    fs_eval_fusion f = { { 0.5, 0.5 }, { 0.1, 0.2 }, 2 };
    float out[4];
    ck_assert_int_eq(fs_eval_fuse(s1, s2, 1, 4, &f, out), FS_OK);
    ck_assert_float_eq_tol(out[0], 1.0f, 1e-5f);   /* (4 - 2) / 2 */
    ck_assert_float_eq_tol(out[2], 1.75f, 1e-5f);  /* (3 + 0.5) / 2 */
    ck_assert(out[1] == -INFINITY && out[3] == -INFINITY);
    f.shortlist = 10;                               /* past the gallery */
    ck_assert_int_eq(fs_eval_fuse(s1, s2, 1, 4, &f, out), FS_OK);
    ck_assert_float_eq_tol(out[1], 0.5f * (0.0f + 2.0f), 1e-5f);
    ck_assert_float_eq_tol(out[3], 2.0f, 1e-5f);   /* first alone */
    const float t1[3] = { 0.7f, 0.7f, 0.7f }, t2[3] = { 0.5f, 0.5f, 0.5f };
    f.shortlist = 2;
    ck_assert_int_eq(fs_eval_fuse(t1, t2, 1, 3, &f, out), FS_OK);
    ck_assert(out[0] > -INFINITY && out[1] > -INFINITY);
    ck_assert(out[2] == -INFINITY);
    double mean, sd;
    const float v[3] = { 1.0f, NAN, 3.0f };
    fs_eval_score_stats(v, 3, &mean, &sd);
    ck_assert_double_eq_tol(mean, 2.0, 1e-12);
    ck_assert_double_eq_tol(sd, 1.0, 1e-12);
    fs_eval_score_stats(v + 1, 1, &mean, &sd);      /* nothing to count */
    ck_assert_double_eq(mean, 0);
    ck_assert_double_eq(sd, 0);
}
END_TEST

/* --second-model: faceres alone and fused on the Johns, every image with
 * both templates, the shortlist the frozen one; refused with no second
 * model file. */
START_TEST(test_cli_eval_second_model)
{
    char *set = johns_set();
    if (!set)
        return;
    fs_json *j = tu_run_json(0, (char *const[]){ "facesearch", "eval", set,
        "--second-model", "--json", NULL });
    const fs_json *sm = get(j, "second_model");
    ck_assert_int_eq(tu_num(sm, "no_second_template"), 0);
    ck_assert_int_eq(tu_num(sm, "shortlist"), 200);
    ck_assert_double_ge(tu_num(get(sm, "alone/cmc"), "1"), 0.9);
    ck_assert_double_ge(tu_num(get(sm, "fused/cmc"), "1"), 0.95);
    ck_assert_double_le(tu_num(get(sm, "fused/open_set/fnir_at_fpir/0.1"),
                               "fnir"), 0.2);
    ck_assert_double_gt(tu_num(sm, "rescore_ms_per_probe"), 0);
    fs_json_free(j);
    /* without the flag, no second opinion */
    j = tu_run_json(0, (char *const[]){ "facesearch", "eval", set, "--json",
                                        NULL });
    ck_assert_ptr_null(fs_json_get(j, "second_model"));
    ck_assert_ptr_null(fs_json_get(j, "subject_templates"));
    fs_json_free(j);
    /* a first model with no faceres beside it: refused, naming the file */
    char *dir = strdup(tu_path(tu_tmp, "models"));
    mkdir(dir, 0700);
    char *lone = strdup(tu_path(dir, "face_resnet_v1.fsm"));
    ck_assert_int_eq(symlink(tu_model_path(), lone), 0);
    TU_REFUSED(2, "faceres_v1.fsm", "eval", set, "--second-model",
               "--model", lone);
    free(lone);
    free(dir);
    free(set);
}
END_TEST

/* --enrol-images: the Johns enrol their first 4 of 11 (the rest probe),
 * or 10 when asked for more than they can spare; each subject is one
 * gallery column, its best-of and mean templates scored beside its
 * first, and the second model's columns the same subjects. */
START_TEST(test_cli_eval_enrol_images)
{
    char *set = johns_set();
    if (!set)
        return;
    fs_json *j = tu_run_json(0, (char *const[]){ "facesearch", "eval", set,
        "--enrol-images", "4", "--second-model", "--json", NULL });
    ck_assert_int_eq(tu_num(j, "enrol_images"), 4);
    ck_assert_int_eq(tu_num(j, "gallery"), 3);
    ck_assert_int_eq(tu_num(j, "mated_probes"), 21);
    ck_assert_int_eq(tu_num(j, "nonmated_probes"), 2);
    const fs_json *st = get(j, "subject_templates");
    ck_assert_int_eq(tu_num(st, "templates"), 12);
    ck_assert_double_ge(tu_num(get(st, "best_of/cmc"), "1"), 0.95);
    ck_assert_double_ge(tu_num(get(st, "mean/cmc"), "1"), 0.95);
    ck_assert_double_eq(tu_num(get(st, "mean/cmc"), "50"), 1.0);
    ck_assert_int_eq(get(st, "best_of/open_set/det")->type, FS_JSON_ARRAY);
    /* every John fit or not, the mean of the fit is a mean of some */
    ck_assert_int_le(tu_num(st, "unfit"), 12);
    ck_assert_double_ge(tu_num(get(st, "mean_of_fit/cmc"), "1"), 0.9);
    ck_assert_int_eq(tu_num(get(j, "second_model"), "no_second_template"), 0);
    ck_assert_double_ge(tu_num(get(j, "second_model/fused/cmc"), "1"), 0.95);
    /* 1:1 is every pair of the set's images, whoever is enrolled */
    ck_assert_int_eq(tu_num(get(j, "verification"), "mated_pairs"), 165);
    fs_json_free(j);
    j = tu_run_json(0, (char *const[]){ "facesearch", "eval", set,
        "--enrol-images", "20", "--json", NULL });
    ck_assert_int_eq(tu_num(j, "mated_probes"), 3);
    ck_assert_int_eq(tu_num(get(j, "subject_templates"), "templates"), 30);
    fs_json_free(j);
    TU_REFUSED(2, "--enrol-images must be", "eval", set, "--enrol-images",
               "0");
    free(set);
}
END_TEST

Suite *suite_eval(void);
Suite *suite_eval(void)
{
    Suite *s = suite_create("eval");
    TCase *tc = tcase_create("metrics");
    tcase_add_test(tc, test_ranks_count_ties_against_the_mate);
    tcase_add_test(tc, test_cmc_counts_misses_and_runs_past_the_gallery);
    tcase_add_test(tc, test_open_set_thresholds_and_rates);
    tcase_add_test(tc, test_every_probe_without_a_face);
    tcase_add_test(tc, test_one_probe);
    tcase_add_test(tc, test_no_mated_probe);
    tcase_add_test(tc, test_verification);
    tcase_add_test(tc, test_groups);
    tcase_add_test(tc, test_long_lists_sorted);
    tcase_add_test(tc, test_verification_long);
    tcase_add_test(tc, test_scores);
    tcase_add_test(tc, test_normalise);
    tcase_add_test(tc, test_fuse);
    suite_add_tcase(s, tc);
    tc = tcase_create("cli");
    tcase_add_checked_fixture(tc, tu_tmp_setup, tu_tmp_teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_cli_eval_everything);
    tcase_add_test(tc, test_cli_eval_refusals);
    tcase_add_test(tc, test_cli_eval_second_model);
    tcase_add_test(tc, test_cli_eval_enrol_images);
    suite_add_tcase(s, tc);
    return s;
}
