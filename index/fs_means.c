/*
 * fs_means.c - one template per subject: the mean of its rows (the half
 * of fs_index.h under "one template per subject").
 *
 * The rows are grouped by subject with a stable radix sort of the row
 * numbers by subject (two passes of 16 bits), so subject numbers may be
 * anything and each subject's rows stay in row order; the sums are in
 * double, in that order, so the mean does not depend on the thread count
 * or the instruction set.
 */
#include "fs_index.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fs_rank_int.h"

/* One stable counting pass: the n row numbers of `in` into `out` by the
 * 16 bits of their subject number at `shift`.  (`in` is not const: gcc
 * 12 takes a const pointer to fresh malloc memory for a read of it.) */
static void radix_pass(const uint32_t *subject, uint32_t *in, uint32_t *out,
                       size_t n, int shift, size_t count[65536])
{
    memset(count, 0, 65536 * sizeof *count);
    for (size_t i = 0; i < n; i++)
        count[subject[in[i]] >> shift & 0xFFFF]++;
    size_t at = 0;
    for (size_t b = 0; b < 65536; b++) {
        size_t c = count[b];
        count[b] = at;
        at += c;
    }
    for (size_t i = 0; i < n; i++)
        out[count[subject[in[i]] >> shift & 0xFFFF]++] = in[i];
}

void fs_subject_means_free(fs_subject_means *m)
{
    if (!m)
        return;
    free(m->start);
    free(m->rows);
    free(m->own);
    free(m->own_subject);
    memset(m, 0, sizeof *m);
}

int fs_subject_means_make(const fs_templates *from, fs_subject_means *out,
                          fs_detail *d)
{
    memset(out, 0, sizeof *out);
    size_t n = from->n;
    if (n > UINT32_MAX - 1)
        return fs_fail(d, FS_ETOOBIG, "%zu templates: at most %u", n,
                       UINT32_MAX - 1);
    /* a radix sort: with qsort of (subject, row) keys, 10M rows of
     * subjects in no order took 8.45 s, now 5.6-5.75 s */
    uint32_t *tmp = malloc((n ? n : 1) * sizeof *tmp);
    size_t *count = malloc(65536 * sizeof *count);
    out->rows = malloc((n ? n : 1) * sizeof *out->rows);
    out->start = malloc((n + 1) * sizeof *out->start);
    if (!tmp || !count || !out->rows || !out->start) {
        free(tmp);
        free(count);
        fs_subject_means_free(out);
        return fs_fail(d, FS_ENOMEM, "no memory for the subjects of %zu "
                       "templates", n);
    }
    for (size_t i = 0; i < n; i++)
        out->rows[i] = (uint32_t)i;
    radix_pass(from->subject, out->rows, tmp, n, 0, count);
    radix_pass(from->subject, tmp, out->rows, n, 16, count);
    free(tmp);
    free(count);
    size_t ns = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || from->subject[out->rows[i]] !=
                      from->subject[out->rows[i - 1]])
            out->start[ns++] = (uint32_t)i;
    out->start[ns] = (uint32_t)n;
    out->own = aligned_alloc(64, (ns ? ns : 1) * FS_DESC_DIM * sizeof(float));
    out->own_subject = malloc((ns ? ns : 1) * sizeof *out->own_subject);
    if (!out->own || !out->own_subject) {
        fs_subject_means_free(out);
        return fs_fail(d, FS_ENOMEM, "no memory for %zu subject means", ns);
    }
    for (size_t s = 0; s < ns; s++) {
        const uint32_t *r = out->rows + out->start[s];
        size_t m = out->start[s + 1] - out->start[s];
        float *v = out->own + s * FS_DESC_DIM;
        out->own_subject[s] = from->subject[r[0]];
        if (m == 1) {
            memcpy(v, from->vec + (size_t)r[0] * FS_DESC_DIM,
                   FS_DESC_DIM * sizeof *v);
            continue;
        }
        double sum[FS_DESC_DIM] = { 0 }, ss = 0;
        for (size_t j = 0; j < m; j++) {
            const float *x = from->vec + (size_t)r[j] * FS_DESC_DIM;
            for (int k = 0; k < FS_DESC_DIM; k++)
                sum[k] += x[k];
        }
        for (int k = 0; k < FS_DESC_DIM; k++)
            ss += sum[k] * sum[k];
        /* rows pulling exactly apart leave nothing to point at: zeros,
         * which score 0 against every probe */
        double inv = ss > 0 ? 1.0 / sqrt(ss) : 0.0;
        for (int k = 0; k < FS_DESC_DIM; k++)
            v[k] = (float)(sum[k] * inv);
    }
    out->t = (fs_templates){ out->own, out->own_subject, ns };
    return FS_OK;
}

void fs_subject_means_best_rows(const fs_subject_means *m,
                                const fs_templates *from, const float *probe,
                                fs_hit *hits, size_t n)
{
    const fs_rank_kernels *k = fs_rank_kernels_for(fs_isa_best());
    enum { GROUP = 64 };
    for (size_t h = 0; h < n; h++) {
        uint32_t s = hits[h].row;
        const uint32_t *r = m->rows + m->start[s];
        size_t cnt = m->start[s + 1] - m->start[s];
        uint32_t best = r[0];
        float best_score = -INFINITY;
        for (size_t a = 0; a < cnt; a += GROUP) {
            const float *x[GROUP];
            float sc[GROUP];
            size_t g = cnt - a < GROUP ? cnt - a : GROUP;
            for (size_t j = 0; j < g; j++)
                x[j] = from->vec + (size_t)r[a + j] * FS_DESC_DIM;
            k->dot_f32_rows(x, g, probe, sc);
            for (size_t j = 0; j < g; j++)   /* rows ascend: ties keep the
                                                lower */
                if (sc[j] > best_score) {
                    best_score = sc[j];
                    best = r[a + j];
                }
        }
        hits[h].row = best;
    }
}
