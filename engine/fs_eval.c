/*
 * fs_eval.c - accuracy figures from scores (see fs_eval.h for what each
 * means and the conservative conventions on ties and misses).
 *
 * Everything is counting over sorted lists: a rate at a threshold is a
 * binary search in a descending list, a threshold at a rate is the list's
 * element at that quantile.  The pair scores of verification come from
 * OpenBLAS in row blocks, so all pairs of a few thousand templates take
 * a fraction of a second and little memory beyond the scores kept.
 */
#include "fs_eval.h"

#include <cblas.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static double share(size_t k, size_t n)
{
    return n ? (double)k / (double)n : 0;
}

static int desc(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x < y) - (x > y);
}

/* A float's bits as an unsigned key whose order is the floats' order,
 * reversed (descending), and back. */
static uint32_t key_desc(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return ~(u & 0x80000000u ? ~u : u | 0x80000000u);
}

static float from_key_desc(uint32_t k)
{
    uint32_t a = ~k, u = a & 0x80000000u ? a & 0x7fffffffu : ~a;
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* v sorted descending.  Verification's non-mated pairs run to millions,
 * where qsort's comparisons took most of eval's figures (0.8 s for lfw-
 * dev's 7M): a radix sort of three 11-bit digits does it in linear
 * time; short lists, or no memory for its two key arrays, take qsort. */
static void sort_desc(float *v, size_t n)
{
    enum { BITS = 11, RADIX = 1 << BITS, RADIX_MIN = 4096 };
    uint32_t *a = n >= RADIX_MIN ? malloc(2 * n * sizeof *a) : NULL;
    if (!a) {
        qsort(v, n, sizeof *v, desc);
        return;
    }
    uint32_t *b = a + n;
    for (size_t i = 0; i < n; i++)
        a[i] = key_desc(v[i]);
    for (int shift = 0; shift < 32; shift += BITS) {
        size_t at[RADIX] = { 0 };
        for (size_t i = 0; i < n; i++)
            at[a[i] >> shift & (RADIX - 1)]++;
        for (size_t d = 0, sum = 0; d < RADIX; d++) {
            size_t c = at[d];
            at[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            b[at[a[i] >> shift & (RADIX - 1)]++] = a[i];
        uint32_t *t = a;
        a = b;
        b = t;
    }
    for (size_t i = 0; i < n; i++)      /* an odd number of passes */
        v[i] = from_key_desc(a[i]);
    free(a < b ? a : b);
}

/* Entries of a descending list at t or above. */
static size_t at_or_above(const float *v, size_t n, double t)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if ((double)v[mid] >= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The lowest threshold that at most floor(rate * n) entries of the
 * descending list v reach: just above the entry at that index (which
 * also leaves out entries tied with it above the index). */
static double threshold_at(const float *v, size_t n, double rate)
{
    size_t allow = (size_t)floor(rate * (double)n);
    if (allow >= n || !isfinite(v[allow]))
        return -1;
    return nextafterf(v[allow], INFINITY);
}

size_t fs_eval_mated(const fs_eval_set *s)
{
    size_t m = 0;
    for (size_t p = 0; p < s->nprobe; p++)
        m += s->mate[p] != FS_EVAL_NONMATED;
    return m;
}

void fs_eval_ranks(const fs_eval_set *s, uint32_t *rank)
{
    for (size_t p = 0; p < s->nprobe; p++) {
        int32_t m = s->mate[p];
        rank[p] = 0;
        if (m < 0 || (size_t)m >= s->ngallery || !s->searched[p])
            continue;
        const float *row = s->scores + p * s->ngallery;
        float ms = row[m];
        uint32_t above = 0;
        for (size_t j = 0; j < s->ngallery; j++)
            above += j != (size_t)m && row[j] >= ms;
        rank[p] = above + 1;
    }
}

void fs_eval_cmc(const fs_eval_set *s, const uint32_t *rank, size_t maxrank,
                 double *cmc)
{
    memset(cmc, 0, maxrank * sizeof *cmc);
    size_t mated = fs_eval_mated(s);
    for (size_t p = 0; p < s->nprobe; p++)
        if (rank[p] >= 1 && rank[p] <= maxrank)
            cmc[rank[p] - 1] += 1;
    double run = 0;
    for (size_t r = 0; r < maxrank; r++) {
        run += cmc[r];
        cmc[r] = mated ? run / (double)mated : 0;
    }
}

static float best(const fs_eval_set *s, size_t p)
{
    float b = -INFINITY;
    if (!s->ngallery)
        return b;
    const float *row = s->scores + p * s->ngallery;
    for (size_t j = 0; j < s->ngallery; j++)
        if (row[j] > b)
            b = row[j];
    return b;
}

int fs_eval_open_make(const fs_eval_set *s, const uint32_t *rank,
                      fs_eval_open *o, fs_detail *d)
{
    size_t nm = fs_eval_mated(s), nn = s->nprobe - nm;
    fs_eval_open r = { malloc((nm + 1) * sizeof(float)), 0,
                       malloc((nn + 1) * sizeof(float)), 0 };
    if (!r.mated || !r.nonmated) {
        fs_eval_open_free(&r);
        return fs_fail(d, FS_ENOMEM, "out of memory");
    }
    for (size_t p = 0; p < s->nprobe; p++) {
        if (s->mate[p] == FS_EVAL_NONMATED)
            r.nonmated[r.nnonmated++] = s->searched[p] ? best(s, p)
                                                       : -INFINITY;
        else
            r.mated[r.nmated++] = rank[p] == 1 ?
                s->scores[p * s->ngallery + (size_t)s->mate[p]] : -INFINITY;
    }
    sort_desc(r.mated, r.nmated);
    sort_desc(r.nonmated, r.nnonmated);
    *o = r;
    return FS_OK;
}

void fs_eval_open_free(fs_eval_open *o)
{
    free(o->mated);
    free(o->nonmated);
    memset(o, 0, sizeof *o);
}

void fs_eval_rates_at(const fs_eval_open *o, double t, double *fpir,
                      double *fnir)
{
    *fpir = share(at_or_above(o->nonmated, o->nnonmated, t), o->nnonmated);
    *fnir = o->nmated ?
        1 - share(at_or_above(o->mated, o->nmated, t), o->nmated) : 0;
}

int fs_eval_fnir_at(const fs_eval_open *o, double fpir, double *threshold,
                    double *fnir)
{
    if (!o->nnonmated)
        return FS_EINVAL;
    double t = threshold_at(o->nonmated, o->nnonmated, fpir), unused;
    fs_eval_rates_at(o, t, &unused, fnir);
    *threshold = t;
    return FS_OK;
}

size_t fs_eval_det(const fs_eval_open *o, fs_eval_point *pt)
{
    size_t n = 0;
    const float *v = o->nonmated;
    for (size_t i = 0; i < o->nnonmated && isfinite(v[i]); i++) {
        if (i && v[i] == v[i - 1])
            continue;
        double t = nextafterf(v[i], INFINITY);
        pt[n].threshold = t;
        fs_eval_rates_at(o, t, &pt[n].fpir, &pt[n].fnir);
        n++;
    }
    if (n) {        /* the lowest score itself: every search a candidate */
        double t = v[at_or_above(v, o->nnonmated, -FLT_MAX) - 1];
        pt[n].threshold = t;
        fs_eval_rates_at(o, t, &pt[n].fpir, &pt[n].fnir);
        n++;
    }
    return n;
}

void fs_eval_scores(const float *probes, size_t nprobe, const float *gallery,
                    size_t ngallery, size_t dim, float *out)
{
    if (!nprobe || !ngallery)
        return;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nprobe,
                (int)ngallery, (int)dim, 1.0f, probes, (int)dim, gallery,
                (int)dim, 0.0f, out, (int)ngallery);
}

/* The n highest of v (n >= 1, n <= len) into a min-heap h: h[0] the
 * lowest of them. */
static void top_n(const float *v, size_t len, float *h, size_t n)
{
    size_t k = 0;
    for (size_t j = 0; j < len; j++) {
        float x = v[j];
        if (k == n && x <= h[0])
            continue;
        size_t i;
        if (k < n) {                    /* sift up from the end */
            i = k++;
            while (i && h[(i - 1) / 2] > x) {
                h[i] = h[(i - 1) / 2];
                i = (i - 1) / 2;
            }
        } else {                        /* replace the root, sift down */
            i = 0;
            for (;;) {
                size_t c = 2 * i + 1;
                if (c >= n)
                    break;
                if (c + 1 < n && h[c + 1] < h[c])
                    c++;
                if (h[c] >= x)
                    break;
                h[i] = h[c];
                i = c;
            }
        }
        h[i] = x;
    }
}

static float zscore(double x, double sum, double sq, double n)
{
    double mean = sum / n, var = sq / n - mean * mean;
    return var > 1e-18 ? (float)((x - mean) / sqrt(var)) : 0.0f;
}

int fs_eval_normalise(const float *scores, size_t nprobe, size_t ngallery,
                      size_t cohort, float *out)
{
    size_t n = cohort && cohort < ngallery ? cohort : ngallery - 1;
    float *h = cohort && ngallery > 1 ? malloc((n + 1) * sizeof *h) : NULL;
    if (cohort && ngallery > 1 && !h)
        return FS_ENOMEM;
    for (size_t p = 0; p < nprobe; p++) {
        const float *row = scores + p * ngallery;
        float *o = out + p * ngallery;
        if (ngallery < 2) {
            for (size_t j = 0; j < ngallery; j++)
                o[j] = 0;
            continue;
        }
        double sum = 0, sq = 0;
        if (!cohort) {
            for (size_t j = 0; j < ngallery; j++) {
                sum += row[j];
                sq += (double)row[j] * row[j];
            }
            for (size_t j = 0; j < ngallery; j++)
                o[j] = zscore(row[j], sum, sq, (double)ngallery);
            continue;
        }
        /* the n + 1 highest; each score's cohort is them less itself,
         * or less the lowest of them when it is not among them */
        top_n(row, ngallery, h, n + 1);
        for (size_t i = 0; i <= n; i++) {
            sum += h[i];
            sq += (double)h[i] * h[i];
        }
        for (size_t j = 0; j < ngallery; j++) {
            double x = row[j] >= h[0] ? row[j] : h[0];
            o[j] = zscore(row[j], sum - x, sq - x * x, (double)n);
        }
    }
    free(h);
    return FS_OK;
}

void fs_eval_score_stats(const float *s, size_t n, double *mean, double *sd)
{
    double sum = 0, sq = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(s[i])) {
            sum += s[i];
            sq += (double)s[i] * s[i];
            k++;
        }
    *mean = k ? sum / (double)k : 0;
    double var = k ? sq / (double)k - *mean * *mean : 0;
    *sd = var > 0 ? sqrt(var) : 0;
}

float fs_eval_fused(const fs_eval_fusion *f, float s1, float s2)
{
    double sd0 = f->sd[0] > 0 ? f->sd[0] : 1, sd1 = f->sd[1] > 0 ? f->sd[1] : 1;
    double z = (s1 - f->mean[0]) / sd0;
    return isnan(s2) ? (float)z : (float)(0.5 * (z + (s2 - f->mean[1]) / sd1));
}

int fs_eval_fuse(const float *s1, const float *s2, size_t nprobe,
                 size_t ngallery, const fs_eval_fusion *f, float *out)
{
    size_t n = f->shortlist < ngallery ? f->shortlist : ngallery;
    float *h = n ? malloc(n * sizeof *h) : NULL;
    if (n && !h)
        return FS_ENOMEM;
    for (size_t p = 0; p < nprobe; p++) {
        const float *a = s1 + p * ngallery, *b = s2 + p * ngallery;
        float *o = out + p * ngallery;
        for (size_t j = 0; j < ngallery; j++)
            o[j] = -INFINITY;
        if (!n)
            continue;
        top_n(a, ngallery, h, n);
        size_t above = 0;               /* columns strictly above the cut */
        for (size_t j = 0; j < ngallery; j++)
            above += a[j] > h[0];
        size_t room = n - above;        /* for columns tied at the cut */
        for (size_t j = 0; j < ngallery; j++) {
            if (a[j] < h[0] || (a[j] == h[0] && room == 0))
                continue;
            if (a[j] == h[0])
                room--;
            o[j] = fs_eval_fused(f, a[j], b[j]);
        }
    }
    free(h);
    return FS_OK;
}

/* Appends v to a growing list. */
static int push(float **v, size_t *n, size_t *cap, float x)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 4096;
        float *nv = realloc(*v, nc * sizeof *nv);
        if (!nv)
            return FS_ENOMEM;
        *v = nv;
        *cap = nc;
    }
    (*v)[(*n)++] = x;
    return FS_OK;
}

/* The best accuracy with the two kinds of pair weighted equally: the
 * best threshold accepts down to some mated score (or nothing). */
static void best_accuracy(const float *m, size_t nm, const float *nn,
                          size_t nnn, double *acc, double *thr)
{
    *acc = 0.5;
    *thr = nextafterf(m[0] > nn[0] ? m[0] : nn[0], INFINITY);
    size_t j = 0;
    for (size_t i = 0; i < nm; i++) {
        if (i + 1 < nm && m[i + 1] == m[i])
            continue;           /* accept every mated pair tied here */
        while (j < nnn && nn[j] >= m[i])
            j++;
        double a = 0.5 * ((double)(i + 1) / (double)nm +
                          (double)(nnn - j) / (double)nnn);
        if (a > *acc) {
            *acc = a;
            *thr = m[i];
        }
    }
}

int fs_eval_verification(const float *tmpl, const int32_t *label, size_t n,
                         size_t dim, const double *far, size_t nfar,
                         fs_eval_verify *out, fs_detail *d)
{
    enum { BLOCK = 256 };
    if (nfar > 4)
        return fs_fail(d, FS_EINVAL, "at most 4 false accept rates");
    float *m = NULL, *nn = NULL;
    size_t nm = 0, cm = 0, nnn = 0, cn = 0;
    float *blk = n ? malloc((size_t)BLOCK * n * sizeof *blk) : NULL;
    int rc = n && !blk ? FS_ENOMEM : FS_OK;
    for (size_t i0 = 0; rc == FS_OK && i0 < n; i0 += BLOCK) {
        size_t bn = n - i0 < BLOCK ? n - i0 : BLOCK;
        fs_eval_scores(tmpl + i0 * dim, bn, tmpl, n, dim, blk);
        for (size_t i = i0; rc == FS_OK && i < i0 + bn; i++)
            for (size_t j = i + 1; rc == FS_OK && j < n; j++) {
                float x = blk[(i - i0) * n + j];
                rc = label[i] == label[j] ? push(&m, &nm, &cm, x)
                                          : push(&nn, &nnn, &cn, x);
            }
    }
    free(blk);
    if (rc != FS_OK) {
        free(m);
        free(nn);
        return fs_fail(d, rc, "out of memory");
    }
    if (!nm || !nnn) {
        free(m);
        free(nn);
        return fs_fail(d, FS_EINVAL, "verification needs a mated and a "
                       "non-mated pair (%zu and %zu here)", nm, nnn);
    }
    sort_desc(m, nm);
    sort_desc(nn, nnn);
    fs_eval_verify r = { .mated_pairs = nm, .nonmated_pairs = nnn };
    for (size_t f = 0; f < nfar; f++) {
        r.threshold[f] = threshold_at(nn, nnn, far[f]);
        r.tar[f] = share(at_or_above(m, nm, r.threshold[f]), nm);
    }
    best_accuracy(m, nm, nn, nnn, &r.accuracy, &r.accuracy_threshold);
    free(m);
    free(nn);
    *out = r;
    return FS_OK;
}

void fs_eval_groups(const fs_eval_set *s, const uint32_t *rank,
                    const int32_t *group, size_t ngroups, double threshold,
                    fs_eval_group *out)
{
    /* the three rates hold their counts until the end */
    memset(out, 0, ngroups * sizeof *out);
    for (size_t p = 0; p < s->nprobe; p++) {
        if (group[p] < 0 || (size_t)group[p] >= ngroups)
            continue;
        fs_eval_group *g = &out[group[p]];
        if (s->mate[p] == FS_EVAL_NONMATED) {
            g->nonmated++;
            g->fpir += s->searched[p] && best(s, p) >= threshold;
        } else {
            g->mated++;
            g->rank1 += rank[p] == 1;
            g->fnir += rank[p] == 1 &&
                s->scores[p * s->ngallery + (size_t)s->mate[p]] >= threshold;
        }
    }
    for (size_t i = 0; i < ngroups; i++) {
        fs_eval_group *g = &out[i];
        g->rank1 = g->mated ? g->rank1 / (double)g->mated : 0;
        g->fnir = g->mated ? 1 - g->fnir / (double)g->mated : 0;
        g->fpir = g->nonmated ? g->fpir / (double)g->nonmated : 0;
    }
}
