/*
 * fs_rank.c - exact top-k of distinct subjects over a template matrix
 * (the ranking half of fs_index.h).
 *
 * A search is a scan.  The rows are cut into one contiguous range of
 * whole blocks (BLOCK_ROWS rows) per thread of the pool, so a single probe
 * uses every core.  A thread reads its range in order (the int8 copy as
 * FS_Q8_STREAMS far-apart streams side by side), BLOCK_ROWS rows at a
 * time: the kernels of fs_rank_kern.c write the scores of every probe of
 * the call into a small buffer, and a vector filter keeps only the scores
 * at or above the probe's current k-th best, so after the first chunks
 * almost nothing reaches the heap.  Batches of BLAS_MIN_NQ probes or more
 * are bound by arithmetic rather than memory: their blocks go through one
 * single-threaded OpenBLAS sgemm each instead.
 *
 * The heap ("topk") keeps one entry per subject: a small open-addressing
 * table maps a subject to its heap slot, so a second row of a kept
 * subject updates that entry in place instead of taking a second place.
 * Each thread fills its own topk per probe; the caller's thread then
 * pushes every thread's entries into one more topk, which keeps a
 * subject's best whichever thread saw it, and sorts it.  Order: score
 * descending, then subject ascending, then row ascending.
 *
 * The compressed mode scans an int8 copy made at creation (per-dimension
 * scales, fs_rank_int.h's layout), keeps a shortlist of subjects the same
 * way, then re-scores every row of each shortlisted subject with the float
 * kernel (rows of one subject are chained by `next`).  Its scores are
 * therefore bit-identical to the exact mode's; only a subject that falls
 * out of the shortlist is lost.
 *
 * The bounded pass (exact mode, single probes and small batches) scans
 * the same int8 copy but loses nothing: it keeps, per thread, a topk of
 * lower bounds and a list of candidate rows, and re-scores in float the
 * candidates whose upper bound reaches the k-th lower bound; the argument
 * that this gives the float scan's list bit for bit is at take_bounded.
 *
 * Invariants: all scratch is allocated by fs_ranker_create, sized for
 * k <= FS_RANK_MAX_K, BATCH probes and the pool's threads; fs_rank_topk
 * allocates nothing (OpenBLAS aside).  Not thread-safe per ranker: calls
 * are serialised by the caller (fs_index.h).
 */
#include "fs_index.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <cblas.h>

#include "fs_rank_int.h"

#define BLOCK_ROWS   1024   /* rows scored per step: 512 KB of floats stay
                               in L2 while several probes pass over them */
#define BATCH        64     /* probes per pass over the gallery */
#define BLAS_MIN_NQ  12     /* from here sgemm beats a kernel call per
                               probe (1M rows, 2 threads: even at 12, 10%
                               ahead at 16, 2x at 64) */
#define SHORTLIST_MAX 65536 /* largest shortlist opt->shortlist may ask */
#define CAND_MAX     4096   /* candidate rows per probe and thread in the
                               bounded pass: random 1M-row galleries need
                               a few hundred; past it the probe is ranked
                               by the float scan instead */
#define EMPTY        UINT32_MAX
#define HUGE_ALIGN   ((size_t)2 << 20)

/* The default shortlist for k.  On 1M random unit vectors a shortlist of
 * k + 14 already gives recall@50 = 1 over 2000 probes (k alone: 0.975);
 * twice k and more leaves room for the denser neighbourhoods of real,
 * clustered galleries. */
static size_t default_shortlist(size_t k)
{
    return 2 * k + 64;
}

/* ---- topk: the best `cap` distinct subjects ---------------------------- */

typedef struct tk_ent {
    float    score;
    uint32_t subject, row;
    uint32_t hslot;          /* its entry in the subject table */
} tk_ent;

typedef struct tk_slot {
    uint32_t subject;
    uint32_t pos;            /* heap position, EMPTY when the slot is free */
} tk_slot;

typedef struct topk {
    tk_ent  *h;              /* a heap whose root is the worst entry kept */
    tk_slot *tab;            /* subject -> heap position, linear probing */
    uint32_t cap, n, shift;  /* table size is 1 << (32 - shift) */
    float    thr;            /* root's score once full, else -inf: scores
                                below it cannot enter */
} topk;

static inline int better(const tk_ent *a, const tk_ent *b)
{
    if (a->score != b->score)
        return a->score > b->score;
    if (a->subject != b->subject)
        return a->subject < b->subject;
    return a->row < b->row;
}

static inline uint32_t tk_home(const topk *t, uint32_t subject)
{
    return (subject * 0x9E3779B1u) >> t->shift;
}

static inline uint32_t tk_mask(const topk *t)
{
    return (uint32_t)(0xffffffffu >> t->shift);
}

static int tk_init(topk *t, uint32_t maxcap)
{
    uint32_t size = 16, shift = 28;
    while (size < 2 * maxcap) {
        size <<= 1;
        shift--;
    }
    t->h = malloc((size_t)maxcap * sizeof *t->h);
    t->tab = malloc((size_t)size * sizeof *t->tab);
    if (!t->h || !t->tab)
        return FS_ENOMEM;
    for (uint32_t i = 0; i < size; i++)
        t->tab[i].pos = EMPTY;
    t->shift = shift;
    t->cap = maxcap;
    t->n = 0;
    t->thr = -INFINITY;
    return FS_OK;
}

static void tk_release(topk *t)
{
    free(t->h);
    free(t->tab);
}

/* Empties t for a new search keeping `cap` entries (at most its size). */
static void tk_reset(topk *t, uint32_t cap)
{
    for (uint32_t i = 0; i < t->n; i++)
        t->tab[t->h[i].hslot].pos = EMPTY;
    t->n = 0;
    t->cap = cap;
    t->thr = -INFINITY;
}

/* Heap moves carry a hole rather than swapping: each entry that moves is
 * written once, with its table slot. */
static inline void tk_place(topk *t, uint32_t p, const tk_ent *e)
{
    t->h[p] = *e;
    t->tab[e->hslot].pos = p;
}

static void tk_up(topk *t, uint32_t p)
{
    tk_ent e = t->h[p];
    while (p > 0) {
        uint32_t parent = (p - 1) / 2;
        if (!better(&t->h[parent], &e))
            break;
        tk_place(t, p, &t->h[parent]);
        p = parent;
    }
    tk_place(t, p, &e);
}

static void tk_down(topk *t, uint32_t p)
{
    tk_ent e = t->h[p];
    for (;;) {
        uint32_t w = 2 * p + 1;
        if (w >= t->n)
            break;
        if (w + 1 < t->n && better(&t->h[w], &t->h[w + 1]))
            w++;                             /* the worse child */
        if (!better(&e, &t->h[w]))
            break;
        tk_place(t, p, &t->h[w]);
        p = w;
    }
    tk_place(t, p, &e);
}

static inline uint32_t tk_find(const topk *t, uint32_t subject)
{
    uint32_t m = tk_mask(t), i = tk_home(t, subject);
    while (t->tab[i].pos != EMPTY && t->tab[i].subject != subject)
        i = (i + 1) & m;
    return i;
}

/* Frees slot i, shifting later entries of its probe run back so that
 * lookups need no tombstones. */
static void tk_unslot(topk *t, uint32_t i)
{
    uint32_t m = tk_mask(t), j = i;
    for (;;) {
        t->tab[i].pos = EMPTY;
        for (;;) {
            j = (j + 1) & m;
            if (t->tab[j].pos == EMPTY)
                return;
            uint32_t k = tk_home(t, t->tab[j].subject);
            /* j's entry may stay unless its home lies cyclically in (i, j] */
            int stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
            if (!stays)
                break;
        }
        t->tab[i] = t->tab[j];
        t->h[t->tab[i].pos].hslot = i;
        i = j;
    }
}

static void tk_push(topk *t, float score, uint32_t subject, uint32_t row)
{
    tk_ent c = { score, subject, row, 0 };
    if (t->n == t->cap && !better(&c, &t->h[0]))
        return;
    uint32_t s = tk_find(t, subject);
    if (t->tab[s].pos != EMPTY) {            /* the subject is kept */
        tk_ent *e = &t->h[t->tab[s].pos];
        if (!better(&c, e))
            return;
        e->score = score;
        e->row = row;
        tk_down(t, t->tab[s].pos);
    } else if (t->n < t->cap) {
        uint32_t p = t->n++;
        c.hslot = s;
        t->h[p] = c;
        t->tab[s] = (tk_slot){ subject, p };
        tk_up(t, p);
    } else {                                 /* replaces the worst */
        tk_unslot(t, t->h[0].hslot);
        s = tk_find(t, subject);             /* the shift may move it */
        c.hslot = s;
        t->h[0] = c;
        t->tab[s] = (tk_slot){ subject, 0 };
        tk_down(t, 0);
    }
    t->thr = t->n == t->cap ? t->h[0].score : -INFINITY;
}

/* Writes t's entries best first and empties t (a heap sort: the worst is
 * moved to the end each time). */
static size_t tk_take(topk *t, fs_hit *out)
{
    size_t n = t->n;
    for (uint32_t m = t->n; m > 1; m--) {
        tk_ent worst = t->h[0];
        t->h[0] = t->h[m - 1];
        t->n = m - 1;
        tk_down(t, 0);
        tk_place(t, m - 1, &worst);
    }
    t->n = (uint32_t)n;
    for (size_t i = 0; i < n; i++)
        out[i] = (fs_hit){ t->h[i].subject, t->h[i].row, t->h[i].score };
    tk_reset(t, t->cap);
    return n;
}

/* ---- the ranker ------------------------------------------------------- */

/* A row the bounded pass must re-score unless the final k-th lower bound
 * rules it out: its row and an upper bound of its float score. */
typedef struct cand {
    uint32_t row;
    float    up;
} cand;

typedef struct cand_list {
    cand    *c;              /* CAND_MAX */
    uint32_t n;
    int      overflow;       /* some candidate was dropped */
} cand_list;

typedef struct worker {
    float    *scores;        /* BATCH x BLOCK_ROWS */
    uint32_t *idx;           /* BLOCK_ROWS */
    const float **rows;      /* BLOCK_ROWS */
    topk      tk[BATCH];
    cand_list cl[BLAS_MIN_NQ];   /* bounded pass, per probe */
} worker;

/* A row's bounds in the bounded pass (see take_bounded). */
typedef struct row_bound {
    float a;                 /* |e| + gamma |x|, rounded up */
    float b;                 /* |c|, rounded up */
} row_bound;

/* A probe's side of them. */
typedef struct probe_bound {
    double s;                /* the int8 probe is s * p * qscale, rounded */
    double off;              /* 128 * sum of the int8 probe */
    double pn, dn;           /* |p| and |delta|, rounded up */
    double bmax;             /* the largest bound of any row */
} probe_bound;

enum { PATH_F32, PATH_SGEMM, PATH_Q8, PATH_BOUNDED };
enum { COPY_NONE, COPY_RESERVED, COPY_BUILT };

struct fs_ranker {
    const float    *vec;
    const uint32_t *subject;
    size_t          n;
    int             mode, isa, exact;
    int             path;          /* PATH_*: how this call scans */
    const fs_rank_kernels *kern;
    fs_pool        *pool;
    int             nt;
    size_t          shortlist;     /* opt->shortlist; 0: default */
    uint32_t        tkcap;         /* every topk's size */

    /* the int8 copy: compressed mode, and the exact mode's bounded pass */
    int             copy;          /* COPY_* */
    long            calls;         /* single-probe calls (FS_EXACT_AUTO) */
    size_t          rescored;      /* rows re-scored by the last call */
    size_t          fallbacks;     /* probes given to the float scan */
    uint8_t        *q8;            /* nblk blocks of fs_rank_int.h */
    size_t          q8_bytes, nblk;
    float           qscale[FS_DESC_DIM];
    float         (*maxabs)[FS_DESC_DIM];  /* per thread, while building */
    float         (*maxab)[2];             /* per thread: max a, max b */
    row_bound      *rb;            /* bounded pass: n rows */
    size_t          rb_bytes;
    float           amax, bmax;    /* the largest a and b of any row */
    probe_bound     pb[BLAS_MIN_NQ];
    uint32_t       *next;          /* rows of one subject, in a ring */
    int8_t         *pq8;           /* BATCH quantised probes */
    topk            rerank;

    worker         *w;
    topk            merge;

    /* the call in progress */
    const float    *probes;
    size_t          nq;
    uint32_t        keep;          /* entries each thread keeps per probe */
};

static void *alloc64(size_t bytes)
{
    return aligned_alloc(64, (bytes + 63) & ~(size_t)63);
}

/* Where the scores of a chunk come from: score i is row a + i (CONTIG,
 * i < lim), or for FS_Q8_STREAMS streams of len blocks from block a, a
 * row of block a + (i / 16 % 4) * len + i0 + i / 64 (Q8). */
typedef struct chunk {
    enum { CONTIG, Q8 } kind;
    size_t a, len, i0, lim;
} chunk;

static inline size_t chunk_row(const chunk *c, size_t i)
{
    switch (c->kind) {
    case Q8:
        return (c->a + i / FS_Q8_ROWS % FS_Q8_STREAMS * c->len + c->i0 +
                i / (FS_Q8_ROWS * FS_Q8_STREAMS)) * FS_Q8_ROWS +
               i % FS_Q8_ROWS;
    default:
        return i < c->lim ? c->a + i : SIZE_MAX;
    }
}

/* The scores s[0..n) of one probe into its topk: the vector filter first,
 * so only scores that can still enter are looked at. */
static void take(const fs_ranker *r, topk *t, uint32_t *idx, const float *s,
                 size_t n, const chunk *c)
{
    size_t m = r->kern->filter_ge(s, n, t->thr, idx);
    for (size_t j = 0; j < m; j++) {
        size_t i = idx[j], row;
        if (s[i] >= t->thr && (row = chunk_row(c, i)) < r->n)
            tk_push(t, s[i], r->subject[row], (uint32_t)row);
    }
}

/* ---- the bounded pass ---------------------------------------------------
 *
 * Why its list is the float scan's, bit for bit.
 *
 * Notation: row x, its int8 codes c (c_d = x_d / qscale_d rounded and
 * clipped to +-127), its reconstruction xh_d = qscale_d c_d and residual
 * e = x - xh; probe p, v_d = p_d qscale_d (exact in double: a product of
 * two floats), its int8 codes a (any integers) and scale s, and
 * delta_d = a_d / s - v_d.  The kernel's integer I = sum (c_d + 128) a_d
 * is exact, so with off = 128 sum a_d, est = (I - off) / s is exactly
 * sum (a_d / s) c_d.  Then
 *   p.x = p.xh + p.e = sum v_d c_d + p.e = est - delta.c + p.e,
 * and by Cauchy-Schwarz |p.x - est| <= |delta| |c| + |p| |e|.  The float
 * score f the kernels compute (any order of the 128 products and sums,
 * with or without FMA) is within gamma_128 sum |p_d x_d| <=
 * gamma_128 |p| |x| of p.x (gamma_n = n u / (1 - n u), u = 2^-24).  So
 *   |f - est| <= |p| a + |delta| b,  a = |e| + gamma_128 |x|,  b = |c|,
 * with a and b stored per row rounded up to float, |p| and |delta|
 * computed in double per probe and rounded up, and a relative margin of
 * 1e-9 (plus 1e-9 absolute) over the sum for the double arithmetic of est
 * and the bound, whose own error is below 1e-15.  lo = est - bound and
 * up = est + bound enclose f.
 *
 * Each thread keeps the best k distinct subjects by lo (its topk, one
 * entry per subject as everywhere), so its k-th lo, thr, has k distinct
 * subjects each with a row whose float score is >= thr: the k-th best
 * distinct-subject float score, K, is >= thr, and thr only rises.  A row
 * is dropped only when up < thr (a thread's current thr, or at the end
 * the k-th lo of all threads merged, L >= every thr): its float score is
 * then < K, strictly, so it is not the best row of any subject in the
 * true top k (whose best rows score >= K), whatever the ties.  The rows
 * re-scored therefore include the best row of every top-k subject and
 * every row of such a subject that ties with it (same score >= K), so
 * those subjects come out with the float scan's score and row; any other
 * subject comes out with a score no better than its true best, which
 * ranks behind all of them already.  The re-scored rows go through the
 * same topk (score, then subject, then row) with scores from
 * dot_f32_rows, which gives each row the same bits as the scan's kernel
 * (fs_rank_int.h): the top k are the scan's, in the scan's order.  When
 * fewer than k subjects exist thr stays -inf and every row is a
 * candidate; when a thread's candidates outgrow CAND_MAX after dropping
 * those under its thr, the probe is ranked by the float scan instead.
 *
 * The vector filter works on I directly: a row can only matter when
 * up >= thr, so est >= thr - bmax (bmax >= every row's bound), i.e.
 * I >= off + s (thr - bmax); that threshold is rounded down by one unit
 * more than its double error, and I is an integer, so nothing that
 * matters is filtered out. */

/* Rounded towards -inf / +inf to float. */
static float down_f(double x)
{
    float f = (float)x;
    return (double)f > x ? nextafterf(f, -INFINITY) : f;
}

static float up_f(double x)
{
    float f = (float)x;
    return (double)f < x ? nextafterf(f, INFINITY) : f;
}

static double bound_margin(double bound, double est)
{
    return bound * (1 + 1e-9) + 1e-9 * (1 + fabs(est));
}

/* The threshold on I below which no row can reach thr: up >= thr means
 * est (1 +- 1e-9) >= thr - bmax, so est >= e - 2e-9 |e| with
 * e = thr - bmax, then one unit of I and the double error more. */
static float int_threshold(const probe_bound *pb, float thr)
{
    if (thr == -INFINITY)
        return -INFINITY;
    double e = (double)thr - pb->bmax;
    double t = pb->off + pb->s * (e - 2e-9 * fabs(e));
    return down_f(floor(t - 1 - 1e-9 * fabs(t)));
}

/* Drops the candidates that thr now rules out. */
static void cand_prune(cand_list *cl, float thr)
{
    uint32_t m = 0;
    for (uint32_t i = 0; i < cl->n; i++)
        if (cl->c[i].up >= thr)
            cl->c[m++] = cl->c[i];
    cl->n = m;
}

/* The int8 scores s[0..n) of probe q: lower bounds into the thread's
 * topk, rows that may still matter into its candidates. */
static void take_bounded(const fs_ranker *r, worker *w, size_t q,
                         const float *s, size_t n, const chunk *c)
{
    const probe_bound *pb = &r->pb[q];
    topk *t = &w->tk[q];
    cand_list *cl = &w->cl[q];
    if (cl->overflow)               /* the float scan ranks it: done here */
        return;
    size_t m = r->kern->filter_ge(s, n, int_threshold(pb, t->thr), w->idx);
    for (size_t j = 0; j < m; j++) {
        size_t i = w->idx[j], row = chunk_row(c, i);
        if (row >= r->n)
            continue;
        double est = ((double)s[i] - pb->off) / pb->s;
        double b = bound_margin(pb->pn * r->rb[row].a + pb->dn * r->rb[row].b,
                                est);
        tk_push(t, down_f(est - b), r->subject[row], (uint32_t)row);
        float up = up_f(est + b);
        if (up < t->thr)
            continue;
        /* A prune that frees little would run again a few rows on: on a
         * gallery of near-identical rows that was a pass over the list
         * for every row, 1.7 s a probe against the float scan's 21 ms
         * (1M rows).  Past three quarters kept, the probe goes to the
         * float scan, so a prune costs at most 4 rows' worth each. */
        if (cl->n == CAND_MAX) {
            cand_prune(cl, t->thr);
            if (cl->n > CAND_MAX - CAND_MAX / 4) {
                cl->overflow = 1;
                return;
            }
        }
        cl->c[cl->n++] = (cand){ (uint32_t)row, up };
    }
}

/* Rows [lo, hi) in blocks of BLOCK_ROWS, each scored for every probe by
 * one sgemm: batches are bound by arithmetic, not memory. */
static void scan_sgemm(fs_ranker *r, worker *w, size_t lo, size_t hi)
{
    for (size_t row = lo; row < hi; row += BLOCK_ROWS) {
        size_t nb = hi - row < BLOCK_ROWS ? hi - row : BLOCK_ROWS;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)r->nq,
                    (int)nb, FS_DESC_DIM, 1.0f, r->probes, FS_DESC_DIM,
                    r->vec + row * FS_DESC_DIM, FS_DESC_DIM, 0.0f,
                    w->scores, BLOCK_ROWS);
        chunk c = { CONTIG, row, 0, 0, nb };
        for (size_t q = 0; q < r->nq; q++)
            take(r, &w->tk[q], w->idx, w->scores + q * BLOCK_ROWS, nb, &c);
    }
}

/* Rows [lo, hi) in order, BLOCK_ROWS at a time (a chunk stays in L2
 * while every probe of the call passes over it).  One plain sequential
 * stream per thread: the hardware prefetcher's best case.  (Reading 16
 * far-apart streams side by side with software prefetch, as this scan
 * did before, was 1.3-1.5x slower on 1M rows here, 1 and 2 threads,
 * interleaved A/B; the scan with it ran at 54% of a plain read on the
 * AVX-512 machine of issue 15.) */
static void scan_f32(fs_ranker *r, worker *w, size_t lo, size_t hi)
{
    for (size_t row = lo; row < hi; row += BLOCK_ROWS) {
        size_t nb = hi - row < BLOCK_ROWS ? hi - row : BLOCK_ROWS;
        for (size_t i = 0; i < nb; i++)
            w->rows[i] = r->vec + (row + i) * FS_DESC_DIM;
        chunk c = { CONTIG, row, 0, 0, nb };
        for (size_t q = 0; q < r->nq; q++) {
            float *sc = w->scores + q * BLOCK_ROWS;
            r->kern->dot_f32_rows(w->rows, nb, r->probes + q * FS_DESC_DIM,
                                  sc);
            take(r, &w->tk[q], w->idx, sc, nb, &c);
        }
    }
}

/* int8 scores: a shortlist (compressed) or bounds (the bounded pass). */
static void take_q8(const fs_ranker *r, worker *w, size_t q, const float *s,
                    size_t n, const chunk *c)
{
    if (r->path == PATH_BOUNDED)
        take_bounded(r, w, q, s, n, c);
    else
        take(r, &w->tk[q], w->idx, s, n, c);
}

/* The int8 blocks of rows [lo, hi) the same way, FS_Q8_STREAMS streams;
 * the blocks left over go as one more group, padded with a zero block. */
static void scan_q8(fs_ranker *r, worker *w, size_t lo, size_t hi)
{
    const fs_rank_kernels *k = r->kern;
    size_t b0 = lo / FS_Q8_ROWS;
    size_t nb = (hi - lo + FS_Q8_ROWS - 1) / FS_Q8_ROWS;
    size_t len = nb / FS_Q8_STREAMS;
    size_t step = BLOCK_ROWS / (FS_Q8_ROWS * FS_Q8_STREAMS);
    const uint8_t *base[FS_Q8_STREAMS];
    for (size_t i0 = 0; i0 < len; i0 += step) {
        size_t ni = len - i0 < step ? len - i0 : step;
        for (int s = 0; s < FS_Q8_STREAMS; s++)
            base[s] = r->q8 + (b0 + (size_t)s * len + i0) * FS_Q8_BLOCK;
        chunk c = { Q8, b0, len, i0, 0 };
        for (size_t q = 0; q < r->nq; q++) {
            float *sc = w->scores + q * BLOCK_ROWS;
            k->dot_u8_streams(base, ni, r->pq8 + q * FS_DESC_DIM, sc);
            take_q8(r, w, q, sc, ni * FS_Q8_STREAMS * FS_Q8_ROWS, &c);
        }
    }
    size_t rest = b0 + len * FS_Q8_STREAMS, left = b0 + nb - rest;
    if (left == 0)
        return;
    for (size_t s = 0; s < FS_Q8_STREAMS; s++)
        base[s] = s < left ? r->q8 + (rest + s) * FS_Q8_BLOCK
                           : fs_rank_zero_block;
    chunk c = { CONTIG, rest * FS_Q8_ROWS, 0, 0, left * FS_Q8_ROWS };
    for (size_t q = 0; q < r->nq; q++) {
        float *sc = w->scores + q * BLOCK_ROWS;
        k->dot_u8_streams(base, 1, r->pq8 + q * FS_DESC_DIM, sc);
        take_q8(r, w, q, sc, FS_Q8_STREAMS * FS_Q8_ROWS, &c);
    }
}

static void scan_team(void *arg, int tid, int nt)
{
    fs_ranker *r = arg;
    worker *w = &r->w[tid];
    long lo, hi;
    /* whole blocks per thread: every block is scored by the same calls
     * whatever the thread count (sgemm's rounding depends on its
     * operands' shapes), and int8 blocks stay whole */
    fs_pool_split((long)((r->n + BLOCK_ROWS - 1) / BLOCK_ROWS), tid, nt,
                  &lo, &hi);
    size_t a = (size_t)lo * BLOCK_ROWS, b = (size_t)hi * BLOCK_ROWS;
    if (b > r->n)
        b = r->n;
    for (size_t q = 0; q < r->nq; q++)
        tk_reset(&w->tk[q], r->keep);
    if (r->path == PATH_BOUNDED)
        for (size_t q = 0; q < r->nq; q++)
            w->cl[q].n = 0, w->cl[q].overflow = 0;
    if (a >= b)
        return;
    if (r->path == PATH_Q8 || r->path == PATH_BOUNDED)
        scan_q8(r, w, a, b);
    else if (r->path == PATH_SGEMM)
        scan_sgemm(r, w, a, b);
    else
        scan_f32(r, w, a, b);
}

/* Every thread's entries for probe q into r->merge. */
static void merge_threads(fs_ranker *r, size_t q, uint32_t keep)
{
    tk_reset(&r->merge, keep);
    for (int t = 0; t < r->nt; t++) {
        const topk *tk = &r->w[t].tk[q];
        for (uint32_t i = 0; i < tk->n; i++)
            tk_push(&r->merge, tk->h[i].score, tk->h[i].subject,
                    tk->h[i].row);
    }
}

/* The exact float score of every row of every shortlisted subject. */
static void rerank(fs_ranker *r, const float *probe, uint32_t k)
{
    const float *rows[FS_Q8_ROWS];
    float sc[FS_Q8_ROWS];
    uint32_t id[FS_Q8_ROWS], m = 0;
    tk_reset(&r->rerank, k);
    for (uint32_t e = 0; e < r->merge.n; e++) {
        uint32_t first = r->merge.h[e].row, i = first;
        do {
            rows[m] = r->vec + (size_t)i * FS_DESC_DIM;
            id[m++] = i;
            i = r->next[i];
            if (m == FS_Q8_ROWS || (i == first && e + 1 == r->merge.n)) {
                r->kern->dot_f32_rows(rows, m, probe, sc);
                for (uint32_t j = 0; j < m; j++)
                    tk_push(&r->rerank, sc[j], r->subject[id[j]], id[j]);
                m = 0;
            }
        } while (i != first);
    }
}

/* int8 probe: the per-dimension scales of the copy folded in, then one
 * scale for the whole probe, returned (0 for a probe of zeros). */
static float quantise_probe(const fs_ranker *r, const float *p, int8_t *out)
{
    float v[FS_DESC_DIM], mx = 0;
    for (int d = 0; d < FS_DESC_DIM; d++) {
        v[d] = p[d] * r->qscale[d];
        if (fabsf(v[d]) > mx)
            mx = fabsf(v[d]);
    }
    float s = mx > 0 ? 127.0f / mx : 0;
    for (int d = 0; d < FS_DESC_DIM; d++) {
        long x = lrintf(v[d] * s);
        out[d] = (int8_t)(x > 127 ? 127 : x < -127 ? -127 : x);
    }
    return s;
}

/* The probe's side of the bounds (take_bounded): |p| and |delta| in
 * double, each rounded up by more than its own rounding. */
static void probe_bounds(const fs_ranker *r, const float *p, const int8_t *a,
                         float s, probe_bound *pb)
{
    double sc = s > 0 ? s : 1;        /* a probe of zeros: a = 0, est = 0 */
    double pp = 0, dd = 0, mag = 0, sum = 0;
    for (int d = 0; d < FS_DESC_DIM; d++) {
        double v = (double)p[d] * r->qscale[d], av = a[d] / sc;
        pp += (double)p[d] * p[d];
        dd += (av - v) * (av - v);
        mag += fabs(av) + fabs(v);
        sum += a[d];
    }
    pb->s = sc;
    pb->off = 128 * sum;
    pb->pn = sqrt(pp) * (1 + 1e-12);
    pb->dn = sqrt(dd) * (1 + 1e-12) + 1e-15 * mag;
    pb->bmax = bound_margin(pb->pn * r->amax + pb->dn * r->bmax, 0);
}

/* The bounded pass's list for probe q of the call: every thread's lower
 * bounds merged give L, then each candidate whose upper bound reaches L
 * is re-scored in float.  Returns 0 when a thread dropped candidates (the
 * caller then runs the float scan). */
static int finish_bounded(fs_ranker *r, size_t q, uint32_t k, fs_hit *out,
                          size_t *nhits)
{
    const float *probe = r->probes + q * FS_DESC_DIM;
    const float *rows[FS_Q8_ROWS];
    float sc[FS_Q8_ROWS];
    uint32_t id[FS_Q8_ROWS], m = 0;
    for (int t = 0; t < r->nt; t++)
        if (r->w[t].cl[q].overflow)
            return 0;
    merge_threads(r, q, k);
    float L = r->merge.thr;
    tk_reset(&r->merge, k);
    tk_reset(&r->rerank, k);
    for (int t = 0; t < r->nt; t++) {
        const cand_list *cl = &r->w[t].cl[q];
        for (uint32_t i = 0; i <= cl->n; i++) {
            if (i < cl->n && cl->c[i].up >= L) {
                rows[m] = r->vec + (size_t)cl->c[i].row * FS_DESC_DIM;
                id[m++] = cl->c[i].row;
            }
            if (m == FS_Q8_ROWS || (m > 0 && i == cl->n)) {
                r->kern->dot_f32_rows(rows, m, probe, sc);
                for (uint32_t j = 0; j < m; j++)
                    tk_push(&r->rerank, sc[j], r->subject[id[j]], id[j]);
                r->rescored += m;
                m = 0;
            }
        }
    }
    *nhits = tk_take(&r->rerank, out);
    return 1;
}

/* Probe q of the call by the float scan alone (the bounded pass's way
 * out); the other probes' state is left as it is. */
static void exact_one(fs_ranker *r, size_t q, uint32_t k, fs_hit *out,
                      size_t *nhits)
{
    const float *probes = r->probes;
    size_t nq = r->nq;
    int path = r->path;
    r->probes += q * FS_DESC_DIM;
    r->nq = 1;
    r->path = PATH_F32;
    if (r->pool)
        fs_pool_run(r->pool, scan_team, r);
    else
        scan_team(r, 0, 1);
    merge_threads(r, 0, k);
    *nhits = tk_take(&r->merge, out);
    r->probes = probes;
    r->nq = nq;
    r->path = path;
}

static void build_copy(fs_ranker *r);

/* How a call of nq probes scans, building the copy when FS_EXACT_AUTO
 * has waited long enough. */
static int choose_path(fs_ranker *r, size_t nq)
{
    if (r->mode == FS_RANK_COMPRESSED)
        return PATH_Q8;
    if (nq >= BLAS_MIN_NQ)
        return PATH_SGEMM;
    if (r->copy == COPY_RESERVED && nq > 0 && ++r->calls >= 2)
        build_copy(r);
    return r->copy == COPY_BUILT ? PATH_BOUNDED : PATH_F32;
}

/* Subjects each thread keeps per probe: k, or the compressed shortlist. */
static size_t keep_for(const fs_ranker *r, size_t k)
{
    if (r->mode != FS_RANK_COMPRESSED)
        return k;
    size_t keep = r->shortlist ? r->shortlist : default_shortlist(k);
    if (keep < k)
        keep = k;
    return keep > r->tkcap ? r->tkcap : keep;
}

void fs_ranker_info(const fs_ranker *r, size_t k, fs_rank_info *info)
{
    info->mode = r->mode;
    info->isa = r->isa;
    info->int8_kernel = r->kern->dot_u8_name;
    info->shortlist = r->mode == FS_RANK_COMPRESSED ? keep_for(r, k) : 0;
    info->bounded = r->mode == FS_RANK_EXACT && r->copy == COPY_BUILT;
    info->matrix_bytes = r->n * FS_DESC_DIM * sizeof(float);
    info->copy_bytes = r->copy == COPY_BUILT ? r->q8_bytes + r->rb_bytes : 0;
    info->rescored = r->rescored;
    info->fallbacks = r->fallbacks;
}

int fs_rank_topk(fs_ranker *r, const float *probes, size_t nq, size_t k,
                 fs_hit *hits, size_t *nhits)
{
    if (!r || (nq && (!probes || !hits || !nhits)) || k < 1 ||
        k > FS_RANK_MAX_K)
        return FS_EINVAL;
    for (size_t i = 0; i < nq * FS_DESC_DIM; i++)
        if (!isfinite(probes[i]))
            return FS_EINVAL;
    size_t keep = keep_for(r, k);
    r->path = choose_path(r, nq);
    r->rescored = 0;
    for (size_t q0 = 0; q0 < nq; q0 += BATCH) {
        r->probes = probes + q0 * FS_DESC_DIM;
        r->nq = nq - q0 < BATCH ? nq - q0 : BATCH;
        r->keep = (uint32_t)keep;
        if (r->n == 0) {
            for (size_t q = 0; q < r->nq; q++)
                nhits[q0 + q] = 0;
            continue;
        }
        for (size_t q = 0; (r->path == PATH_Q8 || r->path == PATH_BOUNDED) &&
                           q < r->nq; q++) {
            const float *p = r->probes + q * FS_DESC_DIM;
            int8_t *a = r->pq8 + q * FS_DESC_DIM;
            float s = quantise_probe(r, p, a);
            if (r->path == PATH_BOUNDED)
                probe_bounds(r, p, a, s, &r->pb[q]);
        }
        if (r->pool)
            fs_pool_run(r->pool, scan_team, r);
        else
            scan_team(r, 0, 1);
        for (size_t q = 0; q < r->nq; q++) {
            fs_hit *out = hits + (q0 + q) * k;
            if (r->path == PATH_BOUNDED) {
                if (!finish_bounded(r, q, (uint32_t)k, out, &nhits[q0 + q])) {
                    exact_one(r, q, (uint32_t)k, out, &nhits[q0 + q]);
                    r->fallbacks++;
                }
                continue;
            }
            merge_threads(r, q, (uint32_t)keep);
            if (r->mode == FS_RANK_COMPRESSED) {
                rerank(r, r->probes + q * FS_DESC_DIM, (uint32_t)k);
                tk_reset(&r->merge, (uint32_t)keep);
                nhits[q0 + q] = tk_take(&r->rerank, out);
            } else {
                nhits[q0 + q] = tk_take(&r->merge, out);
            }
        }
    }
    return FS_OK;
}

/* ---- creation --------------------------------------------------------- */

/* The copy is built in two passes over the matrix on the pool: the
 * largest |x_d| of each dimension (the scales), then the codes, and for
 * the bounded pass each row's a = |e| + gamma_128 |x| and b = |c|
 * (take_bounded), computed in double and rounded up to float. */
typedef struct q8_job {
    fs_ranker *r;
    int        stage;                     /* 0: max |x| per dim; 1: copy */
} q8_job;

#define GAMMA_128 (128.0 / 16777216.0 / (1 - 128.0 / 16777216.0))

static void q8_team(void *arg, int tid, int nt)
{
    q8_job *j = arg;
    fs_ranker *r = j->r;
    long lo, hi;
    fs_pool_split((long)r->nblk, tid, nt, &lo, &hi);
    size_t rlo = (size_t)lo * FS_Q8_ROWS, rhi = (size_t)hi * FS_Q8_ROWS;
    if (rhi > r->n)
        rhi = r->n;
    if (j->stage == 0) {
        float *mx = r->maxabs[tid];
        for (int d = 0; d < FS_DESC_DIM; d++)
            mx[d] = 0;
        for (size_t i = rlo; i < rhi; i++)
            for (int d = 0; d < FS_DESC_DIM; d++) {
                float a = fabsf(r->vec[i * FS_DESC_DIM + d]);
                if (a > mx[d])
                    mx[d] = a;
            }
        return;
    }
    float inv[FS_DESC_DIM];
    for (int d = 0; d < FS_DESC_DIM; d++)
        inv[d] = 1.0f / r->qscale[d];
    memset(r->q8 + (size_t)lo * FS_Q8_BLOCK, 128,
           (size_t)(hi - lo) * FS_Q8_BLOCK);          /* padding rows: 0 */
    float amax = 0, bmax = 0;
    for (size_t i = rlo; i < rhi; i++) {
        const float *x = r->vec + i * FS_DESC_DIM;
        uint8_t *blk = r->q8 + i / FS_Q8_ROWS * FS_Q8_BLOCK +
                       i % FS_Q8_ROWS * 4;
        double ee = 0, xx = 0, cc = 0;
        for (int d = 0; d < FS_DESC_DIM; d++) {
            long c = lrintf(x[d] * inv[d]);
            c = c > 127 ? 127 : c < -127 ? -127 : c;
            blk[d / 4 * 4 * FS_Q8_ROWS + d % 4] = (uint8_t)(c + 128);
            double e = (double)x[d] - (double)r->qscale[d] * (double)c;
            ee += e * e;
            xx += (double)x[d] * x[d];
            cc += (double)(c * c);
        }
        if (!r->rb)
            continue;
        row_bound *b = &r->rb[i];
        b->a = up_f((sqrt(ee) + GAMMA_128 * sqrt(xx)) * (1 + 1e-12));
        b->b = up_f(sqrt(cc) * (1 + 1e-12));
        amax = b->a > amax ? b->a : amax;
        bmax = b->b > bmax ? b->b : bmax;
    }
    r->maxab[tid][0] = amax;
    r->maxab[tid][1] = bmax;
}

/* Rings of rows per subject, in row order: a stable LSD radix sort of the
 * rows by subject (two 16-bit passes), then each run linked in a ring. */
static int link_subjects(fs_ranker *r)
{
    size_t n = r->n;
    uint32_t *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    size_t *cnt = malloc(65537 * sizeof *cnt);
    r->next = malloc(n * sizeof *r->next);
    if (!a || !b || !cnt || !r->next) {
        free(a); free(b); free(cnt);
        return FS_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        a[i] = (uint32_t)i;
    for (int pass = 0; pass < 2; pass++) {
        memset(cnt, 0, 65537 * sizeof *cnt);
        for (size_t i = 0; i < n; i++)
            cnt[(r->subject[a[i]] >> (16 * pass) & 0xffff) + 1]++;
        for (size_t v = 1; v <= 65536; v++)
            cnt[v] += cnt[v - 1];
        for (size_t i = 0; i < n; i++)
            b[cnt[r->subject[a[i]] >> (16 * pass) & 0xffff]++] = a[i];
        uint32_t *t = a;
        a = b;
        b = t;
    }
    for (size_t s = 0; s < n;) {
        size_t e = s + 1;
        while (e < n && r->subject[a[e]] == r->subject[a[s]])
            e++;
        for (size_t i = s; i < e; i++)
            r->next[a[i]] = a[i + 1 < e ? i + 1 : s];
        s = e;
    }
    free(a);
    free(b);
    free(cnt);
    return FS_OK;
}

/* The copy's memory, taken at creation so that no call allocates: pages
 * untouched until build_copy cost nothing but address space. */
static int reserve_copy(fs_ranker *r, int bounds)
{
    r->nblk = (r->n + FS_Q8_ROWS - 1) / FS_Q8_ROWS;
    r->q8_bytes = (r->nblk * FS_Q8_BLOCK + HUGE_ALIGN - 1) & ~(HUGE_ALIGN - 1);
    r->q8 = aligned_alloc(HUGE_ALIGN, r->q8_bytes);
    r->pq8 = alloc64(BATCH * FS_DESC_DIM);
    r->maxabs = calloc((size_t)r->nt, sizeof *r->maxabs);
    r->maxab = calloc((size_t)r->nt, sizeof *r->maxab);
    if (!r->q8 || !r->pq8 || !r->maxabs || !r->maxab)
        return FS_ENOMEM;
    if (bounds) {
        r->rb_bytes = r->n * sizeof *r->rb;
        if (!(r->rb = alloc64(r->rb_bytes)))
            return FS_ENOMEM;
    }
    /* a gallery scan walks it end to end: 2 MB pages spare the TLB */
    madvise(r->q8, r->q8_bytes, MADV_HUGEPAGE);
    r->copy = COPY_RESERVED;
    return FS_OK;
}

static void build_copy(fs_ranker *r)
{
    q8_job job = { r, 0 };
    for (job.stage = 0; job.stage < 2; job.stage++) {
        if (r->pool)
            fs_pool_run(r->pool, q8_team, &job);
        else
            q8_team(&job, 0, 1);
        if (job.stage == 0)
            for (int d = 0; d < FS_DESC_DIM; d++) {
                float mx = 0;
                for (int t = 0; t < r->nt; t++)
                    if (r->maxabs[t][d] > mx)
                        mx = r->maxabs[t][d];
                r->qscale[d] = mx > 0 ? mx / 127.0f : 1.0f;
            }
    }
    r->amax = r->bmax = 0;
    for (int t = 0; t < r->nt; t++) {
        r->amax = fmaxf(r->amax, r->maxab[t][0]);
        r->bmax = fmaxf(r->bmax, r->maxab[t][1]);
    }
    r->copy = COPY_BUILT;
}

void fs_rank_options_kept(fs_rank_options *opt, size_t n)
{
    if (opt->mode == FS_RANK_EXACT && opt->exact == FS_EXACT_AUTO &&
        n >= FS_RANK_BOUNDED_MIN)
        opt->exact = FS_EXACT_BOUNDED;
}

int fs_ranker_create(const fs_templates *t, const fs_rank_options *opt,
                     fs_ranker **out, fs_detail *d)
{
    static const fs_rank_options defaults = { FS_RANK_EXACT, -1, NULL, 0,
                                              FS_EXACT_AUTO };
    if (!opt)
        opt = &defaults;
    if (!t || !out)
        return fs_fail(d, FS_EINVAL, "no templates or no result pointer");
    if (t->n && (!t->vec || !t->subject))
        return fs_fail(d, FS_EINVAL, "%zu templates without data", t->n);
    if (t->n > UINT32_MAX - 1)
        return fs_fail(d, FS_ETOOBIG, "%zu templates: at most %u", t->n,
                       UINT32_MAX - 1);
    if (opt->mode != FS_RANK_EXACT && opt->mode != FS_RANK_COMPRESSED)
        return fs_fail(d, FS_EINVAL, "unknown ranking mode %d", opt->mode);
    if (opt->exact < FS_EXACT_AUTO || opt->exact > FS_EXACT_BOUNDED)
        return fs_fail(d, FS_EINVAL, "unknown exact ranking %d", opt->exact);
    if (opt->isa < -1 || opt->isa > FS_ISA_AVX512)
        return fs_fail(d, FS_EINVAL, "unknown instruction-set level %d",
                       opt->isa);
    if (opt->shortlist > SHORTLIST_MAX)
        return fs_fail(d, FS_EINVAL, "shortlist of %zu rows: at most %d",
                       opt->shortlist, SHORTLIST_MAX);
    fs_ranker *r = calloc(1, sizeof *r);
    if (!r)
        return fs_fail(d, FS_ENOMEM, "no memory for a ranker");
    r->vec = t->vec;
    r->subject = t->subject;
    r->n = t->n;
    r->mode = opt->mode;
    r->exact = opt->exact;
    int best = fs_isa_best();
    r->isa = opt->isa < 0 || opt->isa > best ? best : opt->isa;
    r->kern = fs_rank_kernels_for(r->isa);
    r->pool = opt->pool;
    r->nt = r->pool ? fs_pool_threads(r->pool) : 1;
    r->shortlist = opt->shortlist;
    r->tkcap = FS_RANK_MAX_K;
    if (r->mode == FS_RANK_COMPRESSED) {
        size_t s = opt->shortlist ? opt->shortlist
                                  : default_shortlist(FS_RANK_MAX_K);
        r->tkcap = (uint32_t)(s > FS_RANK_MAX_K ? s : FS_RANK_MAX_K);
    }
    int rc = FS_OK;
    r->w = calloc((size_t)r->nt, sizeof *r->w);
    if (!r->w || tk_init(&r->merge, r->tkcap) != FS_OK ||
        tk_init(&r->rerank, FS_RANK_MAX_K) != FS_OK)
        rc = FS_ENOMEM;
    for (int i = 0; rc == FS_OK && i < r->nt; i++) {
        worker *w = &r->w[i];
        w->scores = alloc64(sizeof(float) * BATCH * BLOCK_ROWS);
        w->idx = alloc64(sizeof(uint32_t) * BLOCK_ROWS);
        w->rows = alloc64(sizeof(float *) * BLOCK_ROWS);
        if (!w->scores || !w->idx || !w->rows)
            rc = FS_ENOMEM;
        for (int q = 0; rc == FS_OK && q < BATCH; q++)
            rc = tk_init(&w->tk[q], r->tkcap);
    }
    int bounded = r->mode == FS_RANK_EXACT && r->n &&
                  (r->exact == FS_EXACT_BOUNDED ||
                   (r->exact == FS_EXACT_AUTO && r->n >= FS_RANK_BOUNDED_MIN));
    for (int i = 0; rc == FS_OK && bounded && i < r->nt; i++)
        for (int q = 0; rc == FS_OK && q < BLAS_MIN_NQ; q++)
            if (!(r->w[i].cl[q].c = malloc(CAND_MAX * sizeof(cand))))
                rc = FS_ENOMEM;
    if (rc == FS_OK && (bounded || (r->mode == FS_RANK_COMPRESSED && r->n)))
        rc = reserve_copy(r, bounded);
    if (rc == FS_OK && r->mode == FS_RANK_COMPRESSED && r->n)
        rc = link_subjects(r);
    if (rc == FS_OK && r->copy == COPY_RESERVED &&
        (r->mode == FS_RANK_COMPRESSED || r->exact == FS_EXACT_BOUNDED))
        build_copy(r);
    if (rc != FS_OK) {
        fs_ranker_free(r);
        return fs_fail(d, rc, "no memory for a ranker over %zu templates",
                       t->n);
    }
    /* our team owns the cores: BLAS threads under it would fight it */
    openblas_set_num_threads(1);
    *out = r;
    return FS_OK;
}

void fs_ranker_free(fs_ranker *r)
{
    if (!r)
        return;
    for (int i = 0; r->w && i < r->nt; i++) {
        free(r->w[i].scores);
        free(r->w[i].idx);
        free(r->w[i].rows);
        for (int q = 0; q < BATCH; q++)
            tk_release(&r->w[i].tk[q]);
        for (int q = 0; q < BLAS_MIN_NQ; q++)
            free(r->w[i].cl[q].c);
    }
    free(r->w);
    tk_release(&r->merge);
    tk_release(&r->rerank);
    free(r->q8);
    free(r->pq8);
    free(r->maxabs);
    free(r->maxab);
    free(r->rb);
    free(r->next);
    free(r);
}
