/*
 * fs_net.c - forward pass of dlib's face-recognition ResNet (NETWORK.md).
 *
 * Activations are NHWC float32 in three buffers per batch.  Every
 * convolution runs as tiles of output rows: each thread turns a tile of
 * its rows into an im2col matrix (contiguous runs of C floats, since a
 * row of neighbours is contiguous in NHWC), multiplies it by the filters
 * with one single-threaded product (fs_gemm_run), then writes the tile out in one fused
 * pass: + bias (conv bias and batch-norm shift folded), + residual,
 * ReLU.  The batch-norm scale is folded into the filters at create time.
 * The 3x3 stride-1 layers (86% of the FLOPs) run as Winograd F(2x2,3x3)
 * instead: 16 products over transformed tiles, 2.25x fewer products;
 * the im2col path stays as their tested reference (fs_net_options.direct).
 *
 * A whole batch is one fs_pool_run.  With a few chips, threads split every
 * layer's output rows (or, for small layers, its output channels) and
 * meet at a barrier between layers, so a single chip is spread over all
 * cores.  With enough chips for every thread, each runs the whole network
 * on its own share of them, with no barrier for one core's jitter to
 * stall the others on.
 *
 * The residual add happens in place: conv2 of a block writes
 * relu(conv + bias + x) over x, row by row, and no thread reads x for that
 * layer except at the row it writes.  In a down block the conv branch can
 * be smaller than the pooled shortcut (3x3 vs 4x4, 1x1 vs 2x2); the
 * shortcut positions it does not reach are left as they are, which is
 * relu(shortcut + 0): the shortcut averages ReLU outputs, so it is >= 0.
 */
#include "fs_embed.h"
#include "fs_embed_int.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "../engine/base/fs_pool.h"

#define NBUF        3
#define TILE_FLOATS (1 << 18)     /* im2col tile budget per thread */
#define TILE_MIN    256           /* rows: keeps filter repacking cheap */
#define SPLIT_ROWS_MIN 64         /* rows per thread before channels split */
#define WINO_TILES_MIN 16         /* tiles in a layer for Winograd to pay */
#define BY_IMAGE_MIN   4          /* images per thread to split by image */
#define MAX_CONVS   32
#define MAX_OPS     64

typedef struct conv {
    int    k, stride, pad, cin, cout;
    float *w;                       /* [k*k*cin][cout], scale folded in
                                       (while building) */
    float *b;                       /* [cout] */
    float *u;                       /* Winograd filters [16][cin][cout], or
                                       NULL: 3x3 stride 1 only (while
                                       building) */
    int    wino;                    /* gu holds the Winograd filters */
    fs_gemm_b gw;                   /* w, as the products take it */
    fs_gemm_b gu[16];               /* u's 16 matrices, as they take them */
} conv;

enum { OP_CONV, OP_MAXPOOL, OP_AVGPOOL };

typedef struct op {
    int         kind;
    int         src, dst, add;      /* buffers; add < 0: none */
    int         relu;
    int         h, w, c;            /* input */
    int         ho, wo, co;         /* output grid of the op */
    int         dh, dw;             /* spatial size of the dst tensor */
    size_t      img;                /* floats between images in a buffer */
    const conv *cv;
} op;

struct fs_net {
    fs_pool *pool;
    int      max_batch;
    int      direct;                /* no Winograd: the reference path */
    int      nconv, nops;
    conv     convs[MAX_CONVS];
    op       ops[MAX_OPS];
    float   *fc;                    /* [256][128] */
    int      final_h, final_w, final_c, final_buf;
    size_t   act_floats;            /* largest activation of one chip */
    size_t   batch_alloc;           /* chips the buffers hold */
    float   *buf[NBUF];
    size_t   tile_floats, ctile_floats;
    float  **tile, **ctile;         /* per thread */
    double   flops;                 /* as direct convolution */
    double   head_flops;            /* pooling and fc */
};


/* ---- building the plan ------------------------------------------------ */

typedef struct builder {
    fs_net         *net;
    const fs_model *m;
    fs_detail      *d;
    int             h, w, c, x;     /* current tensor and its buffer */
    int             check;          /* 1: tensors checked, nothing built */
} builder;

static int tensor(builder *b, const char *name, unsigned ndim,
                  const unsigned *dims, fs_tensor *t)
{
    if (fs_model_find(b->m, name, t) != FS_OK)
        return fs_fail(b->d, FS_EFORMAT, "model has no tensor '%s'", name);
    int ok = t->ndim == ndim;
    for (unsigned i = 0; ok && i < ndim; i++)
        ok = t->dims[i] == dims[i];
    if (!ok)
        return fs_fail(b->d, FS_ESHAPE, "model tensor '%s' has the wrong "
                       "shape", name);
    return FS_OK;
}

/*
 * Winograd F(2x2, 3x3) (Lavin & Gray 2016): a 2x2 output tile from a 4x4
 * input tile in 16 products instead of 36.  With
 *   G   = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1]      (filter, 4x3)
 *   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]  (input, 4x4)
 *   A^T = [1 1 1 0; 0 1 -1 -1]                     (output, 2x4)
 * y = A^T [ (G g G^T) .* (B^T d B) ] A, and the elementwise product over
 * all tiles and channels at one of the 16 positions xi is a matrix
 * product: M_xi[tile][co] = sum_ci V_xi[tile][ci] U_xi[ci][co], done by
 * sgemm.  F(2x2) keeps float32 error at the level of direct convolution
 * (its transforms only add, subtract and halve).
 */
static void wino_filters(conv *cv)
{
    static const double G[4][3] = {
        { 1, 0, 0 }, { .5, .5, .5 }, { .5, -.5, .5 }, { 0, 0, 1 }
    };
    int cin = cv->cin, cout = cv->cout;
    for (int ci = 0; ci < cin; ci++)
        for (int co = 0; co < cout; co++) {
            double g[3][3], t[4][3];
            for (int y = 0; y < 3; y++)
                for (int x = 0; x < 3; x++)
                    g[y][x] = cv->w[((size_t)(y * 3 + x) * cin + ci) * cout +
                                    co];
            for (int i = 0; i < 4; i++)
                for (int x = 0; x < 3; x++)
                    t[i][x] = G[i][0] * g[0][x] + G[i][1] * g[1][x] +
                              G[i][2] * g[2][x];
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++)
                    cv->u[((size_t)(i * 4 + j) * cin + ci) * cout + co] =
                        (float)(t[i][0] * G[j][0] + t[i][1] * G[j][1] +
                                t[i][2] * G[j][2]);
        }
}

/* The filters in the form the products take them (fs_gemm_b_init); the
 * plain copies are then dropped. */
static int gemm_weights(conv *cv)
{
    int rc = fs_gemm_b_init(&cv->gw, cv->w, cv->k * cv->k * cv->cin,
                            cv->cout, FS_GEMM_BEST);
    for (int xi = 0; rc == FS_OK && cv->u && xi < 16; xi++)
        rc = fs_gemm_b_init(&cv->gu[xi], cv->u + (size_t)xi * cv->cin *
                            cv->cout, cv->cin, cv->cout, FS_GEMM_BEST);
    cv->wino = rc == FS_OK && cv->u;
    free(cv->w);
    free(cv->u);
    cv->w = cv->u = NULL;
    return rc;
}

/* Loads "<prefix>/conv/filters|bias" and "<prefix>/scale/weights|biases"
 * and folds them: w' = w*s, b' = b*s + t. */
static int load_conv(builder *b, const char *prefix, int k, int stride,
                     int pad, int cin, int cout, int centre,
                     const conv **out)
{
    fs_net *net = b->net;
    assert(net->nconv < MAX_CONVS);
    conv *cv = &net->convs[net->nconv++];
    *cv = (conv){ .k = k, .stride = stride, .pad = pad, .cin = cin,
                  .cout = cout };
    char name[FS_MODEL_NAME_MAX];
    fs_tensor f, bias, sw, sb;
    unsigned fd[4] = { (unsigned)k, (unsigned)k, (unsigned)cin,
                       (unsigned)cout };
    unsigned cd[1] = { (unsigned)cout };
    int rc;
    snprintf(name, sizeof name, "%s/conv/filters", prefix);
    if ((rc = tensor(b, name, 4, fd, &f)) != FS_OK)
        return rc;
    snprintf(name, sizeof name, "%s/conv/bias", prefix);
    if ((rc = tensor(b, name, 1, cd, &bias)) != FS_OK)
        return rc;
    snprintf(name, sizeof name, "%s/scale/weights", prefix);
    if ((rc = tensor(b, name, 1, cd, &sw)) != FS_OK)
        return rc;
    snprintf(name, sizeof name, "%s/scale/biases", prefix);
    if ((rc = tensor(b, name, 1, cd, &sb)) != FS_OK)
        return rc;
    *out = cv;
    if (b->check)
        return FS_OK;
    size_t kk = (size_t)k * k * cin;
    cv->w = fs_alloc64(kk * cout);
    cv->b = fs_alloc64(cout);
    if (!cv->w || !cv->b)
        return FS_ENOMEM;
    for (size_t r = 0; r < kk; r++)
        for (int o = 0; o < cout; o++)
            cv->w[r * cout + o] = f.data[r * cout + o] * sw.data[o];
    for (int o = 0; o < cout; o++)
        cv->b[o] = bias.data[o] * sw.data[o] + sb.data[o];
    if (centre) {
        /* a 'same' kxk conv on a 1x1 input only ever meets the zero
         * padding outside its centre tap: it is a 1x1 conv */
        size_t c = (size_t)(k / 2) * k + k / 2;
        memmove(cv->w, cv->w + c * cin * cout, (size_t)cin * cout *
                sizeof *cv->w);
        cv->k = 1;
        cv->pad = 0;
    } else if (k == 3 && stride == 1 && pad == 1 && cin % 16 == 0 &&
        cout % 16 == 0 && !b->net->direct) {
        cv->u = fs_alloc64((size_t)16 * cin * cout);
        if (!cv->u)
            return FS_ENOMEM;
        wino_filters(cv);
    }
    return gemm_weights(cv);
}

static void track(fs_net *net, int h, int w, int c)
{
    size_t n = (size_t)h * w * c;
    if (n > net->act_floats)
        net->act_floats = n;
}

static op *add_op(builder *b, int kind, int src, int dst)
{
    fs_net *net = b->net;
    assert(net->nops < MAX_OPS);
    op *o = &net->ops[net->nops++];
    memset(o, 0, sizeof *o);
    o->kind = kind;
    o->src = src;
    o->dst = dst;
    o->add = -1;
    o->h = b->h;
    o->w = b->w;
    o->c = b->c;
    return o;
}

/* conv of the current tensor (buffer src) into dst; dst's spatial size is
 * the conv's own unless dh/dw are larger (a down block's shortcut). */
static int plan_conv(builder *b, const char *prefix, int k, int stride,
                     int pad, int cout, int relu, int src, int dst, int add,
                     int dh, int dw)
{
    const conv *cv;
    int centre = b->h == 1 && b->w == 1 && stride == 1 && 2 * pad + 1 == k;
    int rc = load_conv(b, prefix, k, stride, pad, b->c, cout, centre, &cv);
    if (rc != FS_OK)
        return rc;
    op *o = add_op(b, OP_CONV, src, dst);
    o->cv = cv;
    o->relu = relu;
    o->add = add;
    o->ho = (b->h + 2 * pad - k) / stride + 1;
    o->wo = (b->w + 2 * pad - k) / stride + 1;
    o->co = cout;
    o->dh = dh > o->ho ? dh : o->ho;
    o->dw = dw > o->wo ? dw : o->wo;
    b->net->flops += 2.0 * o->ho * o->wo * (double)k * k * b->c * cout;
    b->h = o->ho;
    b->w = o->wo;
    b->c = cout;
    track(b->net, o->dh, o->dw, cout);
    return FS_OK;
}

static int plan_residual(builder *b, const char *stage)
{
    char p[64];
    int x = b->x, a = (x + 1) % NBUF, c = b->c, rc;
    snprintf(p, sizeof p, "%s/conv1", stage);
    if ((rc = plan_conv(b, p, 3, 1, 1, c, 1, x, a, -1, 0, 0)) != FS_OK)
        return rc;
    snprintf(p, sizeof p, "%s/conv2", stage);
    return plan_conv(b, p, 3, 1, 1, c, 1, a, x, x, 0, 0);
}

static int plan_residual_down(builder *b, const char *stage, int cout)
{
    char p[64];
    int x = b->x, a = (x + 1) % NBUF, s = (x + 2) % NBUF, rc;
    int h = b->h, w = b->w;
    /* shortcut: 2x2 average pool, channels zero-extended to cout */
    op *o = add_op(b, OP_AVGPOOL, x, s);
    o->ho = o->dh = h / 2;
    o->wo = o->dw = w / 2;
    o->co = cout;
    track(b->net, h / 2, w / 2, cout);
    snprintf(p, sizeof p, "%s/conv1", stage);
    if ((rc = plan_conv(b, p, 3, 2, 0, cout, 1, x, a, -1, 0, 0)) != FS_OK)
        return rc;
    snprintf(p, sizeof p, "%s/conv2", stage);
    if ((rc = plan_conv(b, p, 3, 1, 1, cout, 1, a, s, s, h / 2,
                        w / 2)) != FS_OK)
        return rc;
    b->h = h / 2;
    b->w = w / 2;
    b->x = s;
    return FS_OK;
}

static int plan(builder *b)
{
    static const struct { const char *name; int down, cout; } stages[] = {
        { "conv32_1", 0, 32 },   { "conv32_2", 0, 32 },
        { "conv32_3", 0, 32 },   { "conv64_down", 1, 64 },
        { "conv64_1", 0, 64 },   { "conv64_2", 0, 64 },
        { "conv64_3", 0, 64 },   { "conv128_down", 1, 128 },
        { "conv128_1", 0, 128 }, { "conv128_2", 0, 128 },
        { "conv256_down", 1, 256 }, { "conv256_1", 0, 256 },
        { "conv256_2", 0, 256 }, { "conv256_down_out", 1, 256 },
    };
    int rc;
    b->h = b->w = FS_CHIP_SIZE;
    b->c = 3;
    track(b->net, b->h, b->w, b->c);
    /* buffer 0 holds the normalised input */
    if ((rc = plan_conv(b, "conv32_down", 7, 2, 0, 32, 1, 0, 1, -1, 0,
                        0)) != FS_OK)
        return rc;
    op *o = add_op(b, OP_MAXPOOL, 1, 0);
    o->ho = o->dh = (b->h - 3) / 2 + 1;
    o->wo = o->dw = (b->w - 3) / 2 + 1;
    o->co = b->c;
    b->h = o->ho;
    b->w = o->wo;
    b->x = 0;
    for (size_t i = 0; i < sizeof stages / sizeof stages[0]; i++) {
        rc = stages[i].down ? plan_residual_down(b, stages[i].name,
                                                 stages[i].cout)
                            : plan_residual(b, stages[i].name);
        if (rc != FS_OK)
            return rc;
    }
    fs_tensor fc;
    unsigned fd[2] = { (unsigned)b->c, FS_DESC_DIM };
    if ((rc = tensor(b, "fc", 2, fd, &fc)) != FS_OK || b->check)
        return rc;
    b->net->fc = fs_alloc64(fc.count);
    if (!b->net->fc)
        return FS_ENOMEM;
    memcpy(b->net->fc, fc.data, fc.count * sizeof(float));
    b->net->head_flops = 2.0 * b->c * FS_DESC_DIM;
    b->net->flops += b->net->head_flops;
    b->net->final_h = b->h;
    b->net->final_w = b->w;
    b->net->final_c = b->c;
    b->net->final_buf = b->x;
    return FS_OK;
}

/* Tiles per chunk of a Winograd layer: V and M of a chunk stay in L2. */
static int wino_tiles(const conv *cv)
{
    int t = TILE_FLOATS / (16 * (cv->cin + cv->cout));
    return t > 16 ? t : 16;
}

static int tile_rows(const conv *cv)
{
    int k = cv->k * cv->k * cv->cin;
    int t = TILE_FLOATS / k;
    return t > TILE_MIN ? t : TILE_MIN;
}

int fs_net_create(const fs_model *m, const fs_net_options *opt,
                  fs_net **out, fs_detail *d)
{
    fs_net *net = calloc(1, sizeof *net);
    if (!net)
        return fs_fail(d, FS_ENOMEM, "no memory for the network");
    net->max_batch = opt && opt->max_batch > 0 ? opt->max_batch : 16;
    net->direct = opt ? opt->direct : 0;
    builder b = { net, m, d, 0, 0, 0, 0, 0 };
    int rc = plan(&b);
    /* Every image owns one slot of the largest activation in every
     * buffer, whatever layer fills it: threads running their own images
     * through different layers at once never touch each other's. */
    net->act_floats = (net->act_floats + 15) & ~(size_t)15;
    for (int i = 0; i < net->nops; i++)
        net->ops[i].img = net->act_floats;
    if (rc == FS_OK)
        rc = fs_pool_create(opt ? opt->threads : 0, &net->pool);
    if (rc != FS_OK) {
        fs_net_free(net);
        return rc == FS_ENOMEM ? fs_fail(d, rc, "no memory for the "
                                         "network") : rc;
    }
    for (int i = 0; i < net->nconv; i++) {
        const conv *cv = &net->convs[i];
        size_t t = (size_t)tile_rows(cv);
        size_t k = (size_t)cv->k * cv->k * cv->cin;
        if (t * k > net->tile_floats)
            net->tile_floats = t * k;
        if (t * cv->cout > net->ctile_floats)
            net->ctile_floats = t * cv->cout;
        if (cv->wino) {
            size_t w = 16 * (size_t)wino_tiles(cv);
            if (w * cv->cin > net->tile_floats)
                net->tile_floats = w * cv->cin;
            if (w * cv->cout > net->ctile_floats)
                net->ctile_floats = w * cv->cout;
        }
    }
    int nt = fs_pool_threads(net->pool);
    net->tile = calloc((size_t)nt, sizeof *net->tile);
    net->ctile = calloc((size_t)nt, sizeof *net->ctile);
    for (int i = 0; net->tile && net->ctile && i < nt; i++) {
        net->tile[i] = fs_alloc64(net->tile_floats);
        net->ctile[i] = fs_alloc64(net->ctile_floats);
        if (!net->tile[i] || !net->ctile[i])
            break;
    }
    if (!net->tile || !net->ctile || !net->tile[nt - 1] ||
        !net->ctile[nt - 1]) {
        fs_net_free(net);
        return fs_fail(d, FS_ENOMEM, "no memory for the network");
    }
    /* Our team owns the cores: BLAS threads under it would fight it. */
    openblas_set_num_threads(1);
    *out = net;
    return FS_OK;
}

int fs_net_check(const fs_model *m, fs_detail *d)
{
    fs_net *net = calloc(1, sizeof *net);
    if (!net)
        return fs_fail(d, FS_ENOMEM, "no memory for the network");
    builder b = { net, m, d, 0, 0, 0, 0, 1 };
    int rc = plan(&b);
    fs_net_free(net);
    return rc;
}

void fs_net_free(fs_net *net)
{
    if (!net)
        return;
    if (net->pool) {
        int nt = fs_pool_threads(net->pool);
        for (int i = 0; i < nt; i++) {
            if (net->tile)
                free(net->tile[i]);
            if (net->ctile)
                free(net->ctile[i]);
        }
        fs_pool_free(net->pool);
    }
    free(net->tile);
    free(net->ctile);
    for (int i = 0; i < net->nconv; i++) {
        free(net->convs[i].w);
        free(net->convs[i].b);
        free(net->convs[i].u);
        fs_gemm_b_free(&net->convs[i].gw);
        for (int xi = 0; xi < 16; xi++)
            fs_gemm_b_free(&net->convs[i].gu[xi]);
    }
    for (int i = 0; i < NBUF; i++)
        free(net->buf[i]);
    free(net->fc);
    free(net);
}

int fs_net_threads(const fs_net *net)
{
    return fs_pool_threads(net->pool);
}

/* Winograd pays off while each of its 16 sgemm calls has enough tiles;
 * below that (4x4 layers at batch 1) the one im2col sgemm is faster. */
static int use_wino(const op *o, int nimg)
{
    return o->cv->wino && (long)nimg * ((o->h + 1) / 2) * ((o->w + 1) / 2) >=
                       WINO_TILES_MIN;
}

double fs_net_flops_per_chip(const fs_net *net, int batch)
{
    if (batch <= 0)
        return net->flops;
    double f = net->head_flops;
    for (int i = 0; i < net->nops; i++) {
        const op *o = &net->ops[i];
        if (o->kind != OP_CONV)
            continue;
        const conv *cv = o->cv;
        f += use_wino(o, batch)
             ? 2.0 * 16 * ((o->ho + 1) / 2) * ((o->wo + 1) / 2) * o->c * o->co
             : 2.0 * o->ho * o->wo * (double)cv->k * cv->k * o->c * o->co;
    }
    return f;
}

/* ---- running it ------------------------------------------------------- */

typedef struct job {
    fs_net        *net;
    const uint8_t *chips;
    int            n;
    float         *desc;
} job;

/* What one thread computes of a batch: images [n0, n0 + n), of which it
 * is share `sub` of `nsub`; tid picks its scratch buffers.  Either every
 * thread shares every layer (nsub = team size, barriers between layers)
 * or each runs the whole network on its own images (nsub = 1). */
typedef struct part {
    int tid;
    int n0, n;
    int sub, nsub;
} part;

/* Rows [*lo, *hi) of an op with `per` rows per image that part p owns,
 * when they are split by rows. */
static void part_rows(const part *p, long per, long *lo, long *hi)
{
    fs_pool_split(p->n * per, p->sub, p->nsub, lo, hi);
    *lo += p->n0 * per;
    *hi += p->n0 * per;
}

/* One fused pass over a finished tile: bias, residual, ReLU.  `add` may
 * be `out` itself (the in-place residual), so neither is restrict.  Vectorised
 * by the compiler for each ISA; the best is chosen at load time. */
__attribute__((target_clones("avx512f", "avx2", "default")))
static void epilogue(float *out, const float *restrict c,
                     const float *restrict bias, const float *add, int n,
                     int relu)
{
    if (add)
        for (int i = 0; i < n; i++) {
            float v = c[i] + bias[i] + add[i];
            out[i] = relu && v < 0.0f ? 0.0f : v;
        }
    else
        for (int i = 0; i < n; i++) {
            float v = c[i] + bias[i];
            out[i] = relu && v < 0.0f ? 0.0f : v;
        }
}

/* Image n and position (y, x) of row r of an h x w grid stacked over the
 * images of a batch: output rows, pooling windows, Winograd tiles. */
static inline void grid_pos(long r, int h, int w, long *n, int *y, int *x)
{
    *n = r / ((long)h * w);
    *y = (int)(r / w % h);
    *x = (int)(r % w);
}

/* Rows [r0, r1) of the im2col matrix of op o over input `in`. */
static void im2col(const op *o, const float *in, long r0, long r1,
                   float *restrict a)
{
    const conv *cv = o->cv;
    int k = cv->k, c = o->c;
    size_t kc = (size_t)k * c;
    for (long r = r0; r < r1; r++) {
        long n;
        int oy, ox;
        grid_pos(r, o->ho, o->wo, &n, &oy, &ox);
        int iy0 = oy * cv->stride - cv->pad, ix0 = ox * cv->stride - cv->pad;
        const float *img = in + (size_t)n * o->img;
        for (int ky = 0; ky < k; ky++, a += kc) {
            int iy = iy0 + ky;
            if (iy < 0 || iy >= o->h) {
                memset(a, 0, kc * sizeof *a);
                continue;
            }
            const float *row = img + (size_t)iy * o->w * c;
            if (ix0 >= 0 && ix0 + k <= o->w) {     /* the common case */
                memcpy(a, row + (size_t)ix0 * c, kc * sizeof *a);
                continue;
            }
            for (int kx = 0; kx < k; kx++) {
                int ix = ix0 + kx;
                if (ix < 0 || ix >= o->w)
                    memset(a + (size_t)kx * c, 0, c * sizeof *a);
                else
                    memcpy(a + (size_t)kx * c, row + (size_t)ix * c,
                           c * sizeof *a);
            }
        }
    }
}

/* Which part of a layer thread tid computes: rows [*r0, *r1) and output
 * channels [*c0, *c1).  Rows are split while each thread gets enough of
 * them for an efficient sgemm; below that (the small late layers, above
 * all at batch 1) every thread takes all rows and a block of channels,
 * repeating the cheap im2col or input transform, so a single chip is
 * still spread over every core. */
static void split_work(const part *p, long per, int co, long *r0,
                       long *r1, int *c0, int *c1)
{
    int nt = p->nsub;
    if (nt == 1 || p->n * per >= (long)SPLIT_ROWS_MIN * nt ||
        co < FS_GEMM_COLS * nt) {
        part_rows(p, per, r0, r1);
        *c0 = 0;
        *c1 = co;
        return;
    }
    long u0, u1;             /* in units of a packed panel's channels */
    fs_pool_split(co / FS_GEMM_COLS, p->sub, nt, &u0, &u1);
    *r0 = p->n0 * per;
    *r1 = (p->n0 + p->n) * per;
    *c0 = (int)(FS_GEMM_COLS * u0);
    *c1 = u1 == co / FS_GEMM_COLS && u1 > u0 ? co     /* and the rest */
                                             : (int)(FS_GEMM_COLS * u1);
}

static void run_conv(fs_net *net, const op *o, const part *p)
{
    const conv *cv = o->cv;
    int kk = cv->k * cv->k * o->c, co = o->co, c0, c1;
    long lo, hi;
    split_work(p, (long)o->ho * o->wo, co, &lo, &hi, &c0, &c1);
    int cn = c1 - c0;
    const float *in = net->buf[o->src];
    float *out = net->buf[o->dst];
    const float *add = o->add >= 0 ? net->buf[o->add] : NULL;
    float *a = net->tile[p->tid], *c = net->ctile[p->tid];
    long step = tile_rows(cv);
    for (long r0 = lo; r0 < hi; r0 += step) {
        long r1 = r0 + step < hi ? r0 + step : hi;
        im2col(o, in, r0, r1, a);
        fs_gemm_run(&cv->gw, r1 - r0, a, kk, c, cn, c0, c1, NULL, -INFINITY,
                    INFINITY);
        for (long r = r0; r < r1; r++) {
            long n;
            int oy, ox;
            grid_pos(r, o->ho, o->wo, &n, &oy, &ox);
            size_t at = (size_t)n * o->img + ((size_t)oy * o->dw + ox) * co +
                        c0;
            epilogue(out + at, c + (size_t)(r - r0) * cn, cv->b + c0,
                     add ? add + at : NULL, cn, o->relu);
        }
    }
}

/* 16 channels at a time (v16, fs_embed_int.h).  Winograd layers have
 * channel counts that are multiples of 16 (wino_eligible). */

/* V_xi[t][ci] = (B^T d B)[xi] for tiles [t0, t1) of op o. */
__attribute__((target_clones("avx512f", "avx2", "default")))
static void wino_input(const op *o, const float *in, long t0, long t1,
                       float *restrict v)
{
    static const float zeros[16];
    int c = o->c, th = (o->h + 1) / 2, tw = (o->w + 1) / 2;
    size_t plane = (size_t)(t1 - t0) * c;     /* one V_xi matrix */
    for (long t = t0; t < t1; t++) {
        long n;
        int ty, tx;
        grid_pos(t, th, tw, &n, &ty, &tx);
        int y0 = 2 * ty - 1, x0 = 2 * tx - 1;
        const float *img = in + (size_t)n * o->img;
        const float *p[4][4];
        size_t step[4][4];                   /* 0 for padding */
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++) {
                int y = y0 + i, x = x0 + j;
                int inside = y >= 0 && y < o->h && x >= 0 && x < o->w;
                p[i][j] = inside ? img + ((size_t)y * o->w + x) * c : zeros;
                step[i][j] = inside ? 16 : 0;
            }
        float *dst = v + (size_t)(t - t0) * c;
        for (int ci = 0; ci < c; ci += 16) {
            v16 r[4][4];
            for (int j = 0; j < 4; j++) {       /* B^T d, column j */
                v16 d0 = V16(p[0][j]), d1 = V16(p[1][j]),
                    d2 = V16(p[2][j]), d3 = V16(p[3][j]);
                r[0][j] = d0 - d2;
                r[1][j] = d1 + d2;
                r[2][j] = d2 - d1;
                r[3][j] = d1 - d3;
            }
            for (int i = 0; i < 4; i++) {       /* (B^T d) B, row i */
                float *q = dst + (size_t)(i * 4) * plane + ci;
                V16(q) = r[i][0] - r[i][2];
                V16(q + plane) = r[i][1] + r[i][2];
                V16(q + 2 * plane) = r[i][2] - r[i][1];
                V16(q + 3 * plane) = r[i][1] - r[i][3];
            }
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++)
                    p[i][j] += step[i][j];
        }
    }
}

/* y = A^T M A for tiles [t0, t1) and channels [c0, c1) (the columns M
 * holds), then bias, residual and ReLU. */
__attribute__((target_clones("avx512f", "avx2", "default")))
static void wino_output(const op *o, const float *m, long t0, long t1,
                        int c0, int c1, float *out, const float *add)
{
    int co = o->co, cn = c1 - c0, th = (o->h + 1) / 2, tw = (o->w + 1) / 2;
    size_t plane = (size_t)(t1 - t0) * cn;
    const float *bias = o->cv->b;
    const v16 zero = { 0 };
    for (long t = t0; t < t1; t++) {
        long n;
        int ty, tx;
        grid_pos(t, th, tw, &n, &ty, &tx);
        const float *src = m + (size_t)(t - t0) * cn;
        float *dst[2][2];
        const float *ad[2][2];
        for (int dy = 0; dy < 2; dy++)
            for (int dx = 0; dx < 2; dx++) {
                int y = 2 * ty + dy, x = 2 * tx + dx;
                size_t at = (size_t)n * o->img + ((size_t)y * o->dw + x) * co +
                            c0;
                int inside = y < o->ho && x < o->wo;
                dst[dy][dx] = inside ? out + at : NULL;
                ad[dy][dx] = inside && add ? add + at : NULL;
            }
        for (int c = 0; c < cn; c += 16) {
            v16 s[4][2];
            for (int i = 0; i < 4; i++) {       /* M A, row i */
                const float *q = src + (size_t)(i * 4) * plane + c;
                v16 m0 = V16(q), m1 = V16(q + plane), m2 = V16(q + 2 * plane),
                    m3 = V16(q + 3 * plane);
                s[i][0] = m0 + m1 + m2;
                s[i][1] = m1 - m2 - m3;
            }
            v16 b = V16(bias + c0 + c);
            for (int dy = 0; dy < 2; dy++)
                for (int dx = 0; dx < 2; dx++) {
                    if (!dst[dy][dx])
                        continue;
                    v16 r = dy == 0 ? s[0][dx] + s[1][dx] + s[2][dx]
                                    : s[1][dx] - s[2][dx] - s[3][dx];
                    r += b;
                    if (ad[dy][dx])
                        r += V16(ad[dy][dx] + c);
                    if (o->relu)
                        r = (v16)((v16i)r & (r > zero));
                    V16(dst[dy][dx] + c) = r;
                }
        }
    }
}

static void run_wino(fs_net *net, const op *o, const part *p)
{
    const conv *cv = o->cv;
    int th = (o->h + 1) / 2, tw = (o->w + 1) / 2, ci = o->c, co = o->co;
    int c0, c1;
    long lo, hi;
    split_work(p, (long)th * tw, co, &lo, &hi, &c0, &c1);
    int cn = c1 - c0;
    const float *in = net->buf[o->src];
    float *out = net->buf[o->dst];
    const float *add = o->add >= 0 ? net->buf[o->add] : NULL;
    float *v = net->tile[p->tid], *m = net->ctile[p->tid];
    long step = wino_tiles(cv);
    for (long t0 = lo; t0 < hi; t0 += step) {
        long t1 = t0 + step < hi ? t0 + step : hi;
        int rows = (int)(t1 - t0);
        wino_input(o, in, t0, t1, v);
        for (int xi = 0; xi < 16; xi++)
            fs_gemm_run(&cv->gu[xi], rows, v + (size_t)xi * rows * ci, ci,
                        m + (size_t)xi * rows * cn, cn, c0, c1, NULL,
                        -INFINITY, INFINITY);
        wino_output(o, m, t0, t1, c0, c1, out, add);
    }
}

__attribute__((target_clones("avx512f", "avx2", "default")))
static void run_maxpool(fs_net *net, const op *o, const part *p)
{
    long lo, hi;
    part_rows(p, (long)o->ho * o->wo, &lo, &hi);
    int c = o->c;
    for (long r = lo; r < hi; r++) {
        long n;
        int oy, ox;
        grid_pos(r, o->ho, o->wo, &n, &oy, &ox);
        const float *img = net->buf[o->src] + (size_t)n * o->img;
        float *restrict out = net->buf[o->dst] + (size_t)n * o->img +
                              ((size_t)oy * o->wo + ox) * c;
        const float *win = img + ((size_t)(2 * oy) * o->w + 2 * ox) * c;
        memcpy(out, win, c * sizeof *out);
        for (int ky = 0; ky < 3; ky++)
            for (int kx = 0; kx < 3; kx++) {
                const float *q = win + ((size_t)ky * o->w + kx) * c;
                for (int i = 0; i < c; i++)
                    out[i] = q[i] > out[i] ? q[i] : out[i];
            }
    }
}

static void run_avgpool(fs_net *net, const op *o, const part *p)
{
    long lo, hi;
    part_rows(p, (long)o->ho * o->wo, &lo, &hi);
    int c = o->c, co = o->co;
    for (long r = lo; r < hi; r++) {
        long n;
        int oy, ox;
        grid_pos(r, o->ho, o->wo, &n, &oy, &ox);
        const float *img = net->buf[o->src] + (size_t)n * o->img;
        const float *top = img + ((size_t)(2 * oy) * o->w + 2 * ox) * c;
        const float *bot = top + (size_t)o->w * c;
        float *restrict out = net->buf[o->dst] + (size_t)n * o->img +
                              ((size_t)oy * o->wo + ox) * co;
        for (int i = 0; i < c; i++)
            out[i] = (top[i] + top[c + i] + bot[i] + bot[c + i]) * 0.25f;
        memset(out + c, 0, (size_t)(co - c) * sizeof *out);
    }
}

static void run_input(fs_net *net, const job *j, const part *p)
{
    static const float mean[3] = { 122.782f, 117.001f, 104.298f };
    long lo, hi;
    part_rows(p, (long)FS_CHIP_SIZE * FS_CHIP_SIZE, &lo, &hi);
    const long px = (long)FS_CHIP_SIZE * FS_CHIP_SIZE;
    for (long i = lo; i < hi; i++) {
        float *x = net->buf[0] + (size_t)(i / px) * net->act_floats +
                   3 * (size_t)(i % px);
        for (int c = 0; c < 3; c++)
            x[c] = ((float)j->chips[3 * i + c] - mean[c]) / 256.0f;
    }
}

static void run_head(fs_net *net, const job *j, const part *p)
{
    long lo, hi;
    part_rows(p, 1, &lo, &hi);
    int hw = net->final_h * net->final_w, c = net->final_c;
    float g[256];
    assert(c <= 256);
    for (long n = lo; n < hi; n++) {
        const float *x = net->buf[net->final_buf] + (size_t)n * net->act_floats;
        for (int i = 0; i < c; i++) {
            float s = 0.0f;
            for (int p = 0; p < hw; p++)
                s += x[(size_t)p * c + i];
            g[i] = s / (float)hw;
        }
        float *out = j->desc + (size_t)n * FS_DESC_DIM;
        for (int o = 0; o < FS_DESC_DIM; o++)
            out[o] = 0.0f;
        for (int i = 0; i < c; i++)
            for (int o = 0; o < FS_DESC_DIM; o++)
                out[o] += g[i] * net->fc[(size_t)i * FS_DESC_DIM + o];
    }
}

static void forward_team(void *arg, int tid, int nt)
{
    job *j = arg;
    fs_net *net = j->net;
    part p = { tid, 0, j->n, tid, nt };
    /* Enough images for every thread, evenly: each runs the network on
     * its own, with no barrier between layers for jitter to stall on. */
    int by_image = nt > 1 && j->n >= BY_IMAGE_MIN * nt &&
                   (j->n % nt == 0 || j->n >= 2 * BY_IMAGE_MIN * nt);
    if (by_image) {
        long lo, hi;
        fs_pool_split(j->n, tid, nt, &lo, &hi);
        p = (part){ tid, (int)lo, (int)(hi - lo), 0, 1 };
    }
    run_input(net, j, &p);
    for (int i = 0; i < net->nops; i++) {
        if (!by_image)
            fs_pool_barrier(net->pool);
        const op *o = &net->ops[i];
        if (o->kind == OP_CONV && use_wino(o, p.n))
            run_wino(net, o, &p);
        else if (o->kind == OP_CONV)
            run_conv(net, o, &p);
        else if (o->kind == OP_MAXPOOL)
            run_maxpool(net, o, &p);
        else
            run_avgpool(net, o, &p);
    }
    if (!by_image)
        fs_pool_barrier(net->pool);
    run_head(net, j, &p);
}

int fs_net_forward(fs_net *net, const uint8_t *chips, size_t n, float *desc)
{
    size_t batch = n < (size_t)net->max_batch ? n : (size_t)net->max_batch;
    int rc = fs_act_reserve(net->buf, NBUF, net->act_floats,
                            &net->batch_alloc, batch);
    if (rc != FS_OK)
        return rc;
    for (size_t done = 0; done < n; done += batch) {
        size_t now = n - done < batch ? n - done : batch;
        job j = { net, chips + done * FS_CHIP_BYTES, (int)now,
                  desc + done * FS_DESC_DIM };
        fs_pool_run(net->pool, forward_team, &j);
    }
    return FS_OK;
}

int fs_template_from_descriptor(const float *desc, float *tmpl)
{
    double ss = 0.0;
    for (int i = 0; i < FS_DESC_DIM; i++)
        ss += (double)desc[i] * desc[i];
    if (!(ss > 0.0) || !isfinite(ss))
        return FS_EINVAL;
    float inv = (float)(1.0 / sqrt(ss));
    for (int i = 0; i < FS_DESC_DIM; i++)
        tmpl[i] = desc[i] * inv;
    return FS_OK;
}
