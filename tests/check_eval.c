/*
 * check_eval.c - the accuracy figures of engine/fs_eval.h against small
 * cases computed by hand (each figure's arithmetic in the comment above
 * it).
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    tcase_add_test(tc, test_scores);
    suite_add_tcase(s, tc);
    return s;
}
