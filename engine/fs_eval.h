/*
 * fs_eval.h - the accuracy figures NIST's face recognition evaluations
 * (FRTE 1:N and 1:1) report, computed from scores: the CMC, FNIR at a
 * fixed FPIR with its threshold, the DET curve, 1:1 verification (TAR at
 * a fixed FAR, best-threshold accuracy), the same per demographic group.
 *
 * Pure functions over score matrices and template lists: no I/O, no
 * engine, no gallery.  `facesearch eval` (tools/cmd_eval.c) gathers the
 * templates of a labelled set and hands them here; tests/check_eval.c
 * holds every figure to a hand-computed case.
 *
 * Conventions, the conservative reading wherever there is a choice:
 *  - a tie counts against the system: a mate whose score equals a
 *    non-mate's ranks below it (an examiner shown the two at one score
 *    was not shown the mate first), and a pair or probe whose score
 *    equals the threshold is accepted, so a non-mate there is a false
 *    positive;
 *  - a mated probe that was not searched (no face found) or whose mate is
 *    not in the gallery (its enrolment image had no face) is a miss at
 *    every rank and every threshold; a non-mated probe with no face
 *    stays in the FPIR denominator and is never a false positive;
 *  - a rate over nobody (no mated probe, no pair) is 0, never NaN; the
 *    counts beside it say so.
 */
#ifndef FS_EVAL_H
#define FS_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include "base/fs_error.h"

enum {
    FS_EVAL_NONMATED    = -1,   /* the probe's identity is not enrolled */
    FS_EVAL_MATE_ABSENT = -2    /* it should be, but its enrolment failed */
};

/* A 1:N search of every probe against the whole gallery. */
typedef struct fs_eval_set {
    const float   *scores;    /* nprobe rows of ngallery scores, row-major;
                                 the rows of unsearched probes are unread
                                 (scores NULL when none was searched) */
    size_t         nprobe, ngallery;
    const int32_t *mate;      /* per probe: its mate's gallery column, or
                                 FS_EVAL_NONMATED / FS_EVAL_MATE_ABSENT */
    const uint8_t *searched;  /* per probe: 1 when it had a template */
} fs_eval_set;

/* rank[p]: the 1-based rank of probe p's mate among the gallery's
 * columns (ties against it), 0 for a non-mated or missed probe. */
void fs_eval_ranks(const fs_eval_set *s, uint32_t *rank);

/* Mated probes: those whose mate is not FS_EVAL_NONMATED. */
size_t fs_eval_mated(const fs_eval_set *s);

/* cmc[r - 1] for r = 1..maxrank: the share of mated probes whose mate
 * ranks at r or better. */
void fs_eval_cmc(const fs_eval_set *s, const uint32_t *rank, size_t maxrank,
                 double *cmc);

/* The scores open-set figures are read from, each list descending:
 * per mated probe, its mate's score when the mate ranks first, else
 * -INFINITY (a miss at any threshold); per non-mated probe, its best
 * score, -INFINITY when it was not searched. */
typedef struct fs_eval_open {
    float  *mated;
    size_t  nmated;
    float  *nonmated;
    size_t  nnonmated;
} fs_eval_open;

/* FS_OK or FS_ENOMEM; fs_eval_open_free releases. */
int  fs_eval_open_make(const fs_eval_set *s, const uint32_t *rank,
                       fs_eval_open *o, fs_detail *d);
void fs_eval_open_free(fs_eval_open *o);

/* At threshold t (a score at t is a candidate): the false positive
 * identification rate (non-mated probes with a candidate) and the false
 * negative one (mated probes whose mate is not the first candidate). */
void fs_eval_rates_at(const fs_eval_open *o, double t, double *fpir,
                      double *fnir);

/* The lowest threshold whose FPIR stays within fpir (just above the
 * non-mated score at that quantile; -1, the least cosine, when fewer
 * non-mated probes than the rate allows were searched) and the FNIR
 * there.  FS_EINVAL when there is no non-mated probe to measure on. */
int  fs_eval_fnir_at(const fs_eval_open *o, double fpir, double *threshold,
                     double *fnir);

/* One point of a DET curve. */
typedef struct fs_eval_point {
    double threshold, fpir, fnir;
} fs_eval_point;

/* The DET curve, FPIR rising: one point just above each distinct
 * searched non-mated score, and one at the lowest (every search yields a
 * candidate).  Writes at most nnonmated + 1 points; returns how many. */
size_t fs_eval_det(const fs_eval_open *o, fs_eval_point *pt);

/* 1:1 verification over every pair of n templates (dim floats each,
 * unit length): pairs of one label are mated, of two labels non-mated. */
typedef struct fs_eval_verify {
    size_t mated_pairs, nonmated_pairs;
    /* per requested FAR: the threshold (as fs_eval_fnir_at's), the
     * true accept rate there */
    double threshold[4], tar[4];
    /* the best accuracy with mated and non-mated pairs weighted equally
     * (as if as many non-mated pairs as mated were drawn, without the
     * draw), and the threshold that gives it */
    double accuracy, accuracy_threshold;
} fs_eval_verify;

/* nfar at most 4.  FS_EINVAL without a mated or a non-mated pair;
 * FS_ENOMEM. */
int fs_eval_verification(const float *tmpl, const int32_t *label, size_t n,
                         size_t dim, const double *far, size_t nfar,
                         fs_eval_verify *out, fs_detail *d);

/* Figures of one group of probes (one value of one demographic column)
 * at one threshold, set on the whole set. */
typedef struct fs_eval_group {
    size_t mated, nonmated;     /* its probes */
    double rank1;               /* mated probes whose mate ranks first */
    double fnir, fpir;          /* at the threshold */
} fs_eval_group;

/* group[p]: probe p's group (0..ngroups-1), or -1 for none. */
void fs_eval_groups(const fs_eval_set *s, const uint32_t *rank,
                    const int32_t *group, size_t ngroups, double threshold,
                    fs_eval_group *out);

/* Score normalisation for open-set search: each probe's score for a
 * gallery entry judged against the probe's own scores over the gallery
 * (which an exact ranking computes anyway), as (score - mean) / standard
 * deviation.  cohort 0: over the whole row, the score itself included (a
 * threshold then means "this many deviations above what this probe
 * scores against everybody"); cohort N: over the N highest other scores
 * of the row (fewer when the gallery is smaller), the adaptive cohort of
 * speaker verification's AS-norm, which rises with the gallery's size as
 * the best false candidate does.  A row of one column, or with no
 * spread, comes out 0.  FS_OK or FS_ENOMEM.
 *
 * A row cut to its m best scores (m >= cohort + 1, or the whole row)
 * gives those m the values the whole row gives them, as their cohort
 * lies within the cut: what lets the gated search compute a candidate's
 * standing from its ranked list alone (gate/fs_search.c). */
int fs_eval_normalise(const float *scores, size_t nprobe, size_t ngallery,
                      size_t cohort, float *out);

/* The cohort of a search's standing and of eval's top-cohort figures:
 * the 50 best other subjects, as long as the longest candidate list
 * eval ranks, fixed before any measurement, not tuned. */
#define FS_EVAL_COHORT 50

/* A second model's opinion (issue 17): each model's score standardised
 * by its mean and spread over probe-gallery pairs, frozen on one data
 * set (FS_FUSION_FROZEN: lfw-dev, every probe against its gallery), and
 * the two averaged; only the first model's `shortlist` best columns of a
 * row are re-scored, so a search pays for that many second comparisons,
 * not a second scan.  The rest of the row goes to -INFINITY: a mate
 * outside the shortlist is a miss. */
typedef struct fs_eval_fusion {
    double   mean[2], sd[2];      /* per model: of its scores */
    size_t   shortlist;           /* columns re-scored per probe */
} fs_eval_fusion;

/* Measured by `facesearch eval --second-model` on lfw-dev (face_resnet_v1
 * on dlib's chip, faceres_v1 on the 224 chip; 3267 searched probes x 501
 * gallery entries, nearly all non-mated pairs): each model's score mean,
 * then standard deviation; re-scoring the top 200. */
#define FS_FUSION_FROZEN { { 0.8353, 0.3693 }, { 0.0351, 0.0724 }, 200 }

/* One pair's fused score: the mean of the two standardised scores, the
 * first's alone when s2 is NaN.  The gated search (gate/fs_search.c)
 * re-scores its shortlist with it, as fs_eval_fuse does eval's. */
float fs_eval_fused(const fs_eval_fusion *f, float s1, float s2);

/* Mean and standard deviation of the n scores of s that are not NaN. */
void fs_eval_score_stats(const float *s, size_t n, double *mean, double *sd);

/* out: per probe, the fused score of the first model's f->shortlist best
 * gallery columns of s1 (ties there: the lower column first), -INFINITY
 * elsewhere.  A pair whose second score is NaN (a template missing)
 * keeps the first model's standardised score alone.  FS_OK or
 * FS_ENOMEM. */
int fs_eval_fuse(const float *s1, const float *s2, size_t nprobe,
                 size_t ngallery, const fs_eval_fusion *f, float *out);

/* out = probes x gallery^T: every probe's cosine score against every
 * gallery template (rows of dim floats, unit length). */
void fs_eval_scores(const float *probes, size_t nprobe, const float *gallery,
                    size_t ngallery, size_t dim, float *out);

#endif /* FS_EVAL_H */
