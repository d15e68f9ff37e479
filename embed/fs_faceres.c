/*
 * fs_faceres.c - forward pass of HSE's faceres (fs_faceres.h).
 *
 * A batch is NHWC float32 in two buffers that the layers ping-pong
 * between.  Every layer is split by output rows (pixels of the batch
 * stacked) over the team, with a barrier between layers: the network is
 * a chain, each layer reads all of the one before.  The per-channel
 * scale of each depthwise layer is folded into its filters at create
 * time, so every layer ends in the same pass: + shift, ReLU6.
 */
#include "fs_faceres.h"
#include "fs_embed_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "../engine/base/fs_pool.h"

#define FR_PAIRS   13
#define FR_LAYERS  (1 + 2 * FR_PAIRS)
#define FR_BATCH   8                /* chips per internal batch */
#define FR_ROWS    128              /* conv1 im2col rows per tile */

enum { L_CONV1, L_DW, L_PW };

typedef struct layer {
    int    kind, stride;
    int    h, w, cin;               /* input */
    int    ho, wo, cout;            /* output */
    int    pad;                     /* top/left padding (SAME) */
    float *wt;                      /* dw: [9][c] */
    fs_gemm_b g;                    /* conv1: [27][32]; pw: [cin][cout] */
    float *b;                       /* [cout] */
} layer;

struct fs_faceres {
    fs_pool *pool;
    layer    l[FR_LAYERS];
    size_t   act_floats;            /* largest activation of one chip */
    size_t   batch_alloc;
    float   *buf[2];
    float  **tile;                  /* per thread: conv1's im2col */
    double   flops;
};


/* ---- building --------------------------------------------------------- */

static int need(const fs_model *m, const char *name, unsigned ndim,
                const unsigned *dims, const float **data, fs_detail *d)
{
    fs_tensor t;
    if (fs_model_find(m, name, &t) != FS_OK)
        return fs_fail(d, FS_EFORMAT, "model has no tensor '%s'", name);
    int ok = t.ndim == ndim;
    for (unsigned i = 0; ok && i < ndim; i++)
        ok = t.dims[i] == dims[i];
    if (!ok)
        return fs_fail(d, FS_ESHAPE, "model tensor '%s' has the wrong shape",
                       name);
    *data = t.data;
    return FS_OK;
}

/* TF "SAME": the output is ceil(in / stride), the padding the window
 * needs split with the extra pixel at the bottom and right. */
static void same(layer *l, int k)
{
    l->ho = (l->h + l->stride - 1) / l->stride;
    l->wo = (l->w + l->stride - 1) / l->stride;
    int total = (l->ho - 1) * l->stride + k - l->h;
    l->pad = total > 0 ? total / 2 : 0;
}

/* Layer l's weights from m, or with check only its tensors checked. */
static int load_layer(fs_faceres *fr, layer *l, const fs_model *m, int pair,
                      int check, fs_detail *d)
{
    char name[FS_MODEL_NAME_MAX], bn[FS_MODEL_NAME_MAX];
    const float *w = NULL, *sub = NULL, *mul = NULL;
    int rc;
    if (l->kind == L_CONV1) {
        unsigned dims[4] = { 3, 3, 3, (unsigned)l->cout };
        if ((rc = need(m, "conv1/convolution/merged_input", 4, dims, &w,
                       d)) != FS_OK)
            return rc;
        snprintf(bn, sizeof bn, "conv1_bn/batchnorm_1/sub");
    } else if (l->kind == L_DW) {
        unsigned dims[4] = { 3, 3, (unsigned)l->cin, 1 };
        snprintf(name, sizeof name, "conv_dw_%d/depthwise_kernel", pair);
        if ((rc = need(m, name, 4, dims, &w, d)) != FS_OK)
            return rc;
        snprintf(name, sizeof name, "conv_dw_%d_bn/batchnorm_1/mul", pair);
        if ((rc = need(m, name, 1, (unsigned[]){ (unsigned)l->cout }, &mul,
                       d)) != FS_OK)
            return rc;
        snprintf(bn, sizeof bn, "conv_dw_%d_bn/batchnorm_1/sub", pair);
    } else {
        unsigned dims[4] = { 1, 1, (unsigned)l->cin, (unsigned)l->cout };
        snprintf(name, sizeof name, "conv_pw_%d/convolution/merged_input",
                 pair);
        if ((rc = need(m, name, 4, dims, &w, d)) != FS_OK)
            return rc;
        snprintf(bn, sizeof bn, "conv_pw_%d_bn/batchnorm_1/sub", pair);
    }
    if ((rc = need(m, bn, 1, (unsigned[]){ (unsigned)l->cout }, &sub,
                   d)) != FS_OK || check)
        return rc;
    l->b = fs_alloc64((size_t)l->cout);
    if (!l->b)
        return fs_fail(d, FS_ENOMEM, "no memory for the network");
    memcpy(l->b, sub, (size_t)l->cout * sizeof *l->b);
    if (l->kind != L_DW) {
        int k = l->kind == L_CONV1 ? 27 : l->cin;
        if (fs_gemm_b_init(&l->g, w, k, l->cout, FS_GEMM_BEST) != FS_OK)
            return fs_fail(d, FS_ENOMEM, "no memory for the network");
    } else {
        size_t nw = 9 * (size_t)l->cin;
        if (!(l->wt = fs_alloc64(nw)))
            return fs_fail(d, FS_ENOMEM, "no memory for the network");
        /* HWIO with O = 1: [ky][kx][c], as used */
        for (size_t i = 0; i < nw; i++)
            l->wt[i] = w[i] * mul[i % (size_t)l->cin];
    }
    double macs = (double)l->ho * l->wo * l->cout *
                  (l->kind == L_CONV1 ? 27.0 : l->kind == L_DW ? 9.0 : l->cin);
    fr->flops += 2.0 * macs;
    size_t act = (size_t)l->ho * l->wo * l->cout;
    if (act > fr->act_floats)
        fr->act_floats = act;
    return FS_OK;
}

static int plan(fs_faceres *fr, const fs_model *m, int check, fs_detail *d)
{
    static const int pw_out[FR_PAIRS] = { 64, 128, 128, 256, 256, 512, 512,
                                          512, 512, 512, 512, 1024, 1024 };
    int h = FS_FR_CHIP_SIZE, c = 3;
    fr->act_floats = (size_t)h * h * 3;
    for (int i = 0; i < FR_LAYERS; i++) {
        layer *l = &fr->l[i];
        int pair = (i + 1) / 2;                 /* 1..13 for dw and pw */
        l->kind = i == 0 ? L_CONV1 : i % 2 ? L_DW : L_PW;
        l->stride = l->kind == L_CONV1 ? 2 :
                    l->kind == L_DW && (pair == 2 || pair == 4 ||
                                        pair == 6 || pair == 12) ? 2 : 1;
        l->h = l->w = h;
        l->cin = c;
        l->cout = l->kind == L_CONV1 ? 32 : l->kind == L_DW ? c :
                  pw_out[pair - 1];
        same(l, l->kind == L_PW ? 1 : 3);
        int rc = load_layer(fr, l, m, pair, check, d);
        if (rc != FS_OK)
            return rc;
        h = l->ho;
        c = l->cout;
    }
    fr->act_floats = (fr->act_floats + 15) & ~(size_t)15;
    return FS_OK;
}

int fs_faceres_create(const fs_model *m, int threads, fs_faceres **out,
                      fs_detail *d)
{
    fs_faceres *fr = calloc(1, sizeof *fr);
    if (!fr)
        return fs_fail(d, FS_ENOMEM, "no memory for the network");
    int rc = plan(fr, m, 0, d);
    if (rc == FS_OK && fs_pool_create(threads, &fr->pool) != FS_OK)
        rc = fs_fail(d, FS_ENOMEM, "no memory for the network's threads");
    if (rc == FS_OK) {
        int nt = fs_pool_threads(fr->pool);
        fr->tile = calloc((size_t)nt, sizeof *fr->tile);
        for (int i = 0; fr->tile && i < nt; i++)
            if (!(fr->tile[i] = fs_alloc64(FR_ROWS * 27)))
                break;
        if (!fr->tile || !fr->tile[nt - 1])
            rc = fs_fail(d, FS_ENOMEM, "no memory for the network");
    }
    if (rc != FS_OK) {
        fs_faceres_free(fr);
        return rc;
    }
    /* Our team owns the cores, as under fs_net. */
    openblas_set_num_threads(1);
    *out = fr;
    return FS_OK;
}

int fs_faceres_check(const fs_model *m, fs_detail *d)
{
    fs_faceres *fr = calloc(1, sizeof *fr);
    if (!fr)
        return fs_fail(d, FS_ENOMEM, "no memory for the network");
    int rc = plan(fr, m, 1, d);
    fs_faceres_free(fr);
    return rc;
}

void fs_faceres_free(fs_faceres *fr)
{
    if (!fr)
        return;
    for (int i = 0; i < FR_LAYERS; i++) {
        free(fr->l[i].wt);
        fs_gemm_b_free(&fr->l[i].g);
        free(fr->l[i].b);
    }
    if (fr->tile)
        for (int i = 0; fr->pool && i < fs_pool_threads(fr->pool); i++)
            free(fr->tile[i]);
    free(fr->tile);
    free(fr->buf[0]);
    free(fr->buf[1]);
    fs_pool_free(fr->pool);
    free(fr);
}

double fs_faceres_flops(const fs_faceres *fr)
{
    return fr->flops;
}

/* ---- running ---------------------------------------------------------- */

typedef struct job {
    fs_faceres    *fr;
    const uint8_t *chips;
    int            n;
    float         *desc;
} job;

static void run_conv1(const layer *l, const float *in, float *out,
                      float *tile, long lo, long hi)
{
    for (long r0 = lo; r0 < hi; r0 += FR_ROWS) {
        long r1 = r0 + FR_ROWS < hi ? r0 + FR_ROWS : hi;
        float *a = tile;
        for (long r = r0; r < r1; r++, a += 27) {
            long n = r / ((long)l->ho * l->wo);
            int oy = (int)(r / l->wo % l->ho), ox = (int)(r % l->wo);
            const float *img = in + (size_t)n * l->h * l->w * 3;
            for (int ky = 0; ky < 3; ky++)
                for (int kx = 0; kx < 3; kx++) {
                    int iy = oy * 2 - l->pad + ky, ix = ox * 2 - l->pad + kx;
                    float *dst = a + (ky * 3 + kx) * 3;
                    if (iy < 0 || iy >= l->h || ix < 0 || ix >= l->w)
                        dst[0] = dst[1] = dst[2] = 0.0f;
                    else
                        memcpy(dst, img + ((size_t)iy * l->w + ix) * 3,
                               3 * sizeof *dst);
                }
        }
        fs_gemm_run(&l->g, r1 - r0, tile, 27, out + (size_t)r0 * l->cout,
                    l->cout, 0, l->cout, l->b, 0.0f, 6.0f);
    }
}

/* out = ReLU6(*sum + shift), 16 channels (by pointer: a vector passed
 * by value would change the ABI between the clones) */
static inline void relu6(float *out, const v16 *sum, const float *bias)
{
    const v16 zero = { 0 }, six = zero + 6.0f;
    v16 v = *sum + V16(bias);
    v = (v16)((v16i)v & (v > zero));
    v16i over = v > six;
    V16(out) = (v16)(((v16i)v & ~over) | ((v16i)six & over));
}

/* One output pixel of a depthwise layer: its valid taps (x[t], w[t], in
 * the filter's order) summed in registers, 64 channels at a time so that
 * four sums' chains overlap, then + shift and ReLU6, written once.  The
 * sums are the ones a pass per tap made, in the same order, to the bit.
 * Channels come in multiples of 16 (plan). */
__attribute__((target_clones("avx512f", "avx2", "default")))
static void dw_pixel(float *restrict out, const float *const *x,
                     const float *const *w, int taps,
                     const float *restrict bias, int c)
{
    int c0 = 0;
    for (; c0 + 64 <= c; c0 += 64) {
        v16 a0 = { 0 }, a1 = { 0 }, a2 = { 0 }, a3 = { 0 };
        for (int t = 0; t < taps; t++) {
            const float *xt = x[t] + c0, *wt = w[t] + c0;
            a0 += V16(xt) * V16(wt);
            a1 += V16(xt + 16) * V16(wt + 16);
            a2 += V16(xt + 32) * V16(wt + 32);
            a3 += V16(xt + 48) * V16(wt + 48);
        }
        relu6(out + c0, &a0, bias + c0);
        relu6(out + c0 + 16, &a1, bias + c0 + 16);
        relu6(out + c0 + 32, &a2, bias + c0 + 32);
        relu6(out + c0 + 48, &a3, bias + c0 + 48);
    }
    for (; c0 < c; c0 += 16) {
        v16 a = { 0 };
        for (int t = 0; t < taps; t++)
            a += V16(x[t] + c0) * V16(w[t] + c0);
        relu6(out + c0, &a, bias + c0);
    }
}

static void run_dw(const layer *l, const float *in, float *out, long lo,
                   long hi)
{
    int c = l->cin;
    for (long r = lo; r < hi; r++) {
        long n = r / ((long)l->ho * l->wo);
        int oy = (int)(r / l->wo % l->ho), ox = (int)(r % l->wo);
        const float *img = in + (size_t)n * l->h * l->w * c;
        const float *x[9], *w[9];
        int taps = 0;
        for (int ky = 0; ky < 3; ky++) {
            int iy = oy * l->stride - l->pad + ky;
            if (iy < 0 || iy >= l->h)
                continue;
            for (int kx = 0; kx < 3; kx++) {
                int ix = ox * l->stride - l->pad + kx;
                if (ix < 0 || ix >= l->w)
                    continue;
                x[taps] = img + ((size_t)iy * l->w + ix) * c;
                w[taps++] = l->wt + (size_t)(ky * 3 + kx) * c;
            }
        }
        dw_pixel(out + (size_t)r * c, x, w, taps, l->b, c);
    }
}

static void run_pw(const layer *l, const float *in, float *out, long lo,
                   long hi)
{
    fs_gemm_run(&l->g, hi - lo, in + (size_t)lo * l->cin, l->cin,
                out + (size_t)lo * l->cout, l->cout, 0, l->cout, l->b, 0.0f,
                6.0f);
}

/* Activations of a batch are stored densely (image after image), so a
 * pointwise layer over the whole batch is one matrix. */
static void forward_team(void *arg, int tid, int nt)
{
    /* VGGFace2's mean, B, G, R: the network was trained on B,G,R pixels
     * minus it. */
    static const float mean_bgr[3] = { 91.4953f, 103.8827f, 131.0912f };
    job *j = arg;
    fs_faceres *fr = j->fr;
    const long px = (long)FS_FR_CHIP_SIZE * FS_FR_CHIP_SIZE;
    long lo, hi;
    fs_pool_split(j->n * px, tid, nt, &lo, &hi);
    for (long i = lo; i < hi; i++)
        for (int c = 0; c < 3; c++)
            fr->buf[0][3 * i + c] = (float)j->chips[3 * i + 2 - c] -
                                    mean_bgr[c];
    int src = 0;
    for (int i = 0; i < FR_LAYERS; i++) {
        fs_pool_barrier(fr->pool);
        const layer *l = &fr->l[i];
        fs_pool_split(j->n * (long)l->ho * l->wo, tid, nt, &lo, &hi);
        const float *in = fr->buf[src];
        float *out = fr->buf[1 - src];
        if (l->kind == L_CONV1)
            run_conv1(l, in, out, fr->tile[tid], lo, hi);
        else if (l->kind == L_DW)
            run_dw(l, in, out, lo, hi);
        else
            run_pw(l, in, out, lo, hi);
        src = 1 - src;
    }
    fs_pool_barrier(fr->pool);
    const layer *last = &fr->l[FR_LAYERS - 1];
    int hw = last->ho * last->wo, c = last->cout;
    fs_pool_split((long)j->n * c, tid, nt, &lo, &hi);
    for (long k = lo; k < hi; k++) {
        long n = k / c;
        int ch = (int)(k % c);
        const float *x = fr->buf[src] + (size_t)n * hw * c + ch;
        float s = 0.0f;
        for (int p = 0; p < hw; p++)
            s += x[(size_t)p * c];
        j->desc[(size_t)n * FS_FR_DESC_DIM + ch] = s / (float)hw;
    }
}

int fs_faceres_forward(fs_faceres *fr, const uint8_t *chips, size_t n,
                       float *desc)
{
    size_t batch = n < FR_BATCH ? n : FR_BATCH;
    int rc = fs_act_reserve(fr->buf, 2, fr->act_floats,
                            &fr->batch_alloc, batch);
    if (rc != FS_OK)
        return rc;
    for (size_t done = 0; done < n; done += batch) {
        size_t now = n - done < batch ? n - done : batch;
        job j = { fr, chips + done * FS_FR_CHIP_BYTES, (int)now,
                  desc + done * FS_FR_DESC_DIM };
        fs_pool_run(fr->pool, forward_team, &j);
    }
    return FS_OK;
}
