/*
 * fs_rank.c - exact top-k of distinct subjects over a template matrix
 * (the ranking half of fs_index.h).
 *
 * A search is a scan.  The rows are cut into one contiguous range per
 * thread of the pool (a single probe uses every core), each range into
 * blocks of BLOCK_ROWS rows.  For each block the kernels of
 * fs_rank_kern.c write the scores of every probe into a small buffer
 * (batches of BLAS_MIN_NQ probes or more go through one OpenBLAS sgemm
 * per block instead), and a vector filter keeps only the scores at or
 * above the probe's current k-th best: after the first blocks almost
 * nothing reaches the heap.
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
#define BLAS_MIN_NQ  8      /* from here sgemm beats one kernel call per
                               probe (bench rank measures both sides) */
#define SHORTLIST_MAX 65536 /* largest shortlist opt->shortlist may ask */
#define EMPTY        UINT32_MAX
#define HUGE_ALIGN   ((size_t)2 << 20)

/* The default shortlist for k: measured to keep recall@50 >= 0.999 on 1M
 * random unit vectors with room to spare (benchmarks/README.md). */
static size_t default_shortlist(size_t k)
{
    return 4 * k + 256;
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

static inline void tk_swap(topk *t, uint32_t i, uint32_t j)
{
    tk_ent e = t->h[i];
    t->h[i] = t->h[j];
    t->h[j] = e;
    t->tab[t->h[i].hslot].pos = i;
    t->tab[t->h[j].hslot].pos = j;
}

static void tk_up(topk *t, uint32_t p)
{
    while (p > 0) {
        uint32_t parent = (p - 1) / 2;
        if (!better(&t->h[parent], &t->h[p]))
            break;
        tk_swap(t, parent, p);
        p = parent;
    }
}

static void tk_down(topk *t, uint32_t p)
{
    for (;;) {
        uint32_t w = 2 * p + 1;
        if (w >= t->n)
            break;
        if (w + 1 < t->n && better(&t->h[w], &t->h[w + 1]))
            w++;                             /* the worse child */
        if (!better(&t->h[p], &t->h[w]))
            break;
        tk_swap(t, p, w);
        p = w;
    }
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
        tk_swap(t, 0, m - 1);
        t->n = m - 1;
        tk_down(t, 0);
    }
    t->n = (uint32_t)n;
    for (size_t i = 0; i < n; i++)
        out[i] = (fs_hit){ t->h[i].subject, t->h[i].row, t->h[i].score };
    tk_reset(t, t->cap);
    return n;
}

/* ---- the ranker ------------------------------------------------------- */

typedef struct worker {
    float    *scores;        /* BATCH x BLOCK_ROWS */
    uint32_t *idx;           /* BLOCK_ROWS */
    topk      tk[BATCH];
} worker;

struct fs_ranker {
    const float    *vec;
    const uint32_t *subject;
    size_t          n;
    int             mode, isa;
    const fs_rank_kernels *kern;
    fs_pool        *pool;
    int             nt;
    size_t          shortlist;     /* opt->shortlist; 0: default */
    uint32_t        tkcap;         /* every topk's size */

    /* compressed mode */
    uint8_t        *q8;            /* nblk blocks of fs_rank_int.h */
    size_t          q8_bytes, nblk;
    float           qscale[FS_DESC_DIM];
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

/* Scans rows [lo, hi) for the r->nq probes of the call; lo is a multiple
 * of BLOCK_ROWS. */
static void scan(fs_ranker *r, worker *w, size_t lo, size_t hi)
{
    const fs_rank_kernels *k = r->kern;
    size_t nq = r->nq;
    for (size_t q = 0; q < nq; q++)
        tk_reset(&w->tk[q], r->keep);
    for (size_t row = lo; row < hi; row += BLOCK_ROWS) {
        size_t nb = hi - row < BLOCK_ROWS ? hi - row : BLOCK_ROWS;
        if (r->mode == FS_RANK_COMPRESSED) {
            const uint8_t *blk = r->q8 + row / FS_Q8_ROWS * FS_Q8_BLOCK;
            size_t nblk = (nb + FS_Q8_ROWS - 1) / FS_Q8_ROWS;
            for (size_t q = 0; q < nq; q++)
                k->dot_u8(blk, nblk, r->pq8 + q * FS_DESC_DIM,
                          w->scores + q * BLOCK_ROWS);
        } else if (nq >= BLAS_MIN_NQ) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nq,
                        (int)nb, FS_DESC_DIM, 1.0f, r->probes, FS_DESC_DIM,
                        r->vec + row * FS_DESC_DIM, FS_DESC_DIM, 0.0f,
                        w->scores, BLOCK_ROWS);
        } else {
            for (size_t q = 0; q < nq; q++)
                k->dot_f32(r->vec + row * FS_DESC_DIM, nb,
                           r->probes + q * FS_DESC_DIM,
                           w->scores + q * BLOCK_ROWS);
        }
        for (size_t q = 0; q < nq; q++) {
            topk *t = &w->tk[q];
            const float *s = w->scores + q * BLOCK_ROWS;
            size_t m = k->filter_ge(s, nb, t->thr, w->idx);
            for (size_t j = 0; j < m; j++) {
                size_t i = w->idx[j];
                if (s[i] >= t->thr)
                    tk_push(t, s[i], r->subject[row + i],
                            (uint32_t)(row + i));
            }
        }
    }
}

static void scan_team(void *arg, int tid, int nt)
{
    fs_ranker *r = arg;
    long lo, hi;
    /* whole blocks per thread: every block is scored by the same calls
     * whatever the thread count (sgemm's rounding depends on its operands'
     * shapes), and int8 blocks stay whole */
    fs_pool_split((long)((r->n + BLOCK_ROWS - 1) / BLOCK_ROWS), tid, nt,
                  &lo, &hi);
    size_t a = (size_t)lo * BLOCK_ROWS, b = (size_t)hi * BLOCK_ROWS;
    scan(r, &r->w[tid], a, b < r->n ? b : r->n);
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
    float buf[FS_Q8_ROWS * FS_DESC_DIM] __attribute__((aligned(64)));
    float sc[FS_Q8_ROWS];
    uint32_t rows[FS_Q8_ROWS], m = 0;
    tk_reset(&r->rerank, k);
    for (uint32_t e = 0; e < r->merge.n; e++) {
        uint32_t first = r->merge.h[e].row, i = first;
        do {
            memcpy(buf + (size_t)m * FS_DESC_DIM,
                   r->vec + (size_t)i * FS_DESC_DIM, sizeof(float) *
                   FS_DESC_DIM);
            rows[m++] = i;
            i = r->next[i];
            if (m == FS_Q8_ROWS || (i == first && e + 1 == r->merge.n)) {
                r->kern->dot_f32(buf, m, probe, sc);
                for (uint32_t j = 0; j < m; j++)
                    tk_push(&r->rerank, sc[j], r->subject[rows[j]], rows[j]);
                m = 0;
            }
        } while (i != first);
    }
}

/* int8 probe: the per-dimension scales of the copy folded in, then one
 * scale for the whole probe. */
static void quantise_probe(const fs_ranker *r, const float *p, int8_t *out)
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
    size_t keep = k;
    if (r->mode == FS_RANK_COMPRESSED) {
        keep = r->shortlist ? r->shortlist : default_shortlist(k);
        if (keep < k)
            keep = k;
        if (keep > r->tkcap)
            keep = r->tkcap;
    }
    for (size_t q0 = 0; q0 < nq; q0 += BATCH) {
        r->probes = probes + q0 * FS_DESC_DIM;
        r->nq = nq - q0 < BATCH ? nq - q0 : BATCH;
        r->keep = (uint32_t)keep;
        if (r->n == 0) {
            for (size_t q = 0; q < r->nq; q++)
                nhits[q0 + q] = 0;
            continue;
        }
        if (r->mode == FS_RANK_COMPRESSED)
            for (size_t q = 0; q < r->nq; q++)
                quantise_probe(r, r->probes + q * FS_DESC_DIM,
                               r->pq8 + q * FS_DESC_DIM);
        if (r->pool)
            fs_pool_run(r->pool, scan_team, r);
        else
            scan_team(r, 0, 1);
        for (size_t q = 0; q < r->nq; q++) {
            fs_hit *out = hits + (q0 + q) * k;
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

typedef struct q8_job {
    fs_ranker *r;
    float    (*maxabs)[FS_DESC_DIM];      /* one row per thread */
    int        stage;                     /* 0: max |x| per dim; 1: copy */
} q8_job;

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
        float *mx = j->maxabs[tid];
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
    for (size_t i = rlo; i < rhi; i++) {
        uint8_t *blk = r->q8 + i / FS_Q8_ROWS * FS_Q8_BLOCK +
                       i % FS_Q8_ROWS * 4;
        for (int d = 0; d < FS_DESC_DIM; d++) {
            long x = lrintf(r->vec[i * FS_DESC_DIM + d] * inv[d]);
            x = x > 127 ? 127 : x < -127 ? -127 : x;
            blk[d / 4 * 4 * FS_Q8_ROWS + d % 4] = (uint8_t)(x + 128);
        }
    }
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

static int build_compressed(fs_ranker *r)
{
    r->nblk = (r->n + FS_Q8_ROWS - 1) / FS_Q8_ROWS;
    r->q8_bytes = (r->nblk * FS_Q8_BLOCK + HUGE_ALIGN - 1) & ~(HUGE_ALIGN - 1);
    r->q8 = aligned_alloc(HUGE_ALIGN, r->q8_bytes);
    r->pq8 = alloc64(BATCH * FS_DESC_DIM);
    if (!r->q8 || !r->pq8)
        return FS_ENOMEM;
    /* a gallery scan walks it end to end: 2 MB pages spare the TLB */
    madvise(r->q8, r->q8_bytes, MADV_HUGEPAGE);
    q8_job job = { r, calloc((size_t)r->nt, sizeof *job.maxabs), 0 };
    q8_job *j = &job;
    if (!j->maxabs)
        return FS_ENOMEM;
    for (j->stage = 0; j->stage < 2; j->stage++) {
        if (r->pool)
            fs_pool_run(r->pool, q8_team, j);
        else
            q8_team(j, 0, 1);
        if (j->stage == 0)
            for (int d = 0; d < FS_DESC_DIM; d++) {
                float mx = 0;
                for (int t = 0; t < r->nt; t++)
                    if (j->maxabs[t][d] > mx)
                        mx = j->maxabs[t][d];
                r->qscale[d] = mx > 0 ? mx / 127.0f : 1.0f;
            }
    }
    free(j->maxabs);
    return link_subjects(r);
}

int fs_ranker_create(const fs_templates *t, const fs_rank_options *opt,
                     fs_ranker **out, fs_detail *d)
{
    static const fs_rank_options defaults = { FS_RANK_EXACT, -1, NULL, 0 };
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
        if (!w->scores || !w->idx)
            rc = FS_ENOMEM;
        for (int q = 0; rc == FS_OK && q < BATCH; q++)
            rc = tk_init(&w->tk[q], r->tkcap);
    }
    if (rc == FS_OK && r->mode == FS_RANK_COMPRESSED && r->n)
        rc = build_compressed(r);
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
        for (int q = 0; q < BATCH; q++)
            tk_release(&r->w[i].tk[q]);
    }
    free(r->w);
    tk_release(&r->merge);
    tk_release(&r->rerank);
    free(r->q8);
    free(r->pq8);
    free(r->next);
    free(r);
}
