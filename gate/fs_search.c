/*
 * fs_search.c - the gated search (G8-G13) and the custody of probes (G12).
 *
 * fs_gate_search is the one door to a candidate list.  Every condition of
 * the gate is checked before the probe is even decoded, so a refused
 * search has no list to leak, not even through its timing; the list that
 * is made is committed, sealed, with the probe and the audit entry in one
 * transaction before the caller sees it, so no list exists without its
 * entry.  The ranking below knows rows, subject numbers and scores; the
 * subject ids are looked up here, in the gate, through the unlocked
 * gallery that never leaves it.  The ranking is the gallery's own, or,
 * for a sharded gallery, its shards' through the caller's ranker
 * (fs_gate_set_ranker, fs_shard.c), held to this gallery's records.
 *
 * The probe's template is made by the gallery's recipe (the mirror, and
 * a second model's template when it names one).  With a second model
 * the first ranks a shortlist of max(k, FS_FUSION_FROZEN's) subjects,
 * each re-scored by the fusion eval measures (fs_eval_fused) with the
 * second model's template of the image its first score came from, and
 * the top k by the fused score are the list (rescore_second).
 *
 * Records: GT_SEARCHES[search number] holds who searched, when, for which
 * request, with which model, k, face and probe hash, and the list or the
 * quality reasons of an image rejection (G13); from version 2 each
 * candidate's standing, the profile's floor on it and how many the floor
 * held back (version 1 records read with no standing, NaN, and no
 * floor).  GT_PROBES[request number || search number] holds the probe's
 * bytes; both sealed.  Probes go when the profile's retention ends
 * (fs_gate_purge) unless their request is held as evidence, and at once
 * when a request closes with no viable candidate under a profile that
 * says so (gate_probes_drop).
 */
#include "fs_gate_int.h"
#include "../engine/fs_eval.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* 1: the list; 2: each candidate's standing, the floor and how many it
 * held back after it; 3: as 2, each candidate with second and fused */
#define SEARCH_VERSION       2
#define SEARCH_VERSION_FUSED 3
#define PROBE_VERSION        1   /* the probe's record: unchanged */

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Seconds since *t0, which moves on to now. */
static double lap(double *t0)
{
    double t = now_s(), dt = t - *t0;
    *t0 = t;
    return dt;
}
enum { SEARCH_RELEASED = 0, SEARCH_REJECTED = 1 };

/* Beside each candidate, its best template's row, the way back to the
 * mugshot it was found by (fs_candidates_image); never shown. */
struct fs_candidates {
    char         search_id[FS_ID_MAX];
    char         request_id[FS_ID_MAX];
    char         disclaimer[1024];
    fs_candidates_about about;
    uint32_t    *row;
    size_t       n;
    fs_candidate c[];
};

size_t fs_candidates_count(const fs_candidates *c) { return c->n; }
const char *fs_candidates_search_id(const fs_candidates *c)
{
    return c->search_id;
}
const char *fs_candidates_request_id(const fs_candidates *c)
{
    return c->request_id;
}
const char *fs_candidates_disclaimer(const fs_candidates *c)
{
    return c->disclaimer;
}

const fs_candidates_about *fs_candidates_info(const fs_candidates *c)
{
    return &c->about;
}

int fs_candidates_get(const fs_candidates *c, size_t i, fs_candidate *out)
{
    if (i >= c->n)
        return FS_EINVAL;
    *out = c->c[i];
    return FS_OK;
}

void fs_candidates_free(fs_candidates *c)
{
    if (!c)
        return;
    free(c->row);
    fs_wipe(c, sizeof *c + c->n * sizeof c->c[0]);
    free(c);
}

/* ---- records ----------------------------------------------------------------- */

/* What one search leaves: its record, and its probe in the case file. */
typedef struct search_rec {
    fs_gate          *g;
    const fs_request *req;
    const uint8_t    *probe;
    size_t            probe_len;
    uint8_t           sha[FS_SHA256_BYTES];
    int               status, face, k;
    const char       *reasons;          /* rejected: the quality verdict */
    const fs_candidates *list;          /* released */
    const char       *model;            /* the engine's, the gallery's too */
    int64_t           time;             /* unix seconds */
    char              id[FS_ID_MAX];    /* out */
    char              objects[320];
} search_rec;

/* Version 2's and 3's tail: each candidate's standing, then the floor and how
 * many it held back (a rejection: no candidates, no floor). */
static void pack_standing(fs_wbuf *w, const fs_candidates *list)
{
    size_t n = list ? list->n : 0;
    for (size_t i = 0; i < n; i++)
        fs_wbuf_u64(w, fs_f32_bits(list->c[i].standing));
    double floor = list ? list->about.standing_floor : -INFINITY;
    uint64_t fbits;
    memcpy(&fbits, &floor, sizeof fbits);
    fs_wbuf_u64(w, fbits);
    fs_wbuf_u64(w, list ? list->about.held_back : 0);
}

static void unpack_standing(fs_rbuf *rb, uint64_t version, gate_search *s)
{
    s->standing_floor = -INFINITY;
    s->held_back = 0;
    for (size_t i = 0; i < s->n; i++) {
        s->list[i].standing = NAN;              /* not kept before 2 */
        if (version >= 2)
            s->list[i].standing = fs_bits_f32(fs_rbuf_u64(rb));
    }
    if (version < 2)
        return;
    uint64_t fbits = fs_rbuf_u64(rb);
    memcpy(&s->standing_floor, &fbits, sizeof fbits);
    s->held_back = (size_t)fs_rbuf_u64(rb);
}

static void pack_search(fs_wbuf *w, const search_rec *s)
{
    int fused = s->list && s->list->n && s->list->c[0].rescored;
    fs_wbuf_u64(w, fused ? SEARCH_VERSION_FUSED : SEARCH_VERSION);
    fs_wbuf_str(w, s->id);
    fs_wbuf_str(w, s->req->id);
    fs_wbuf_str(w, s->g->who.name);
    fs_wbuf_u64(w, (uint64_t)s->time);
    fs_wbuf_u64(w, (uint64_t)s->status);
    fs_wbuf_str(w, s->model);
    fs_wbuf_u64(w, (uint64_t)s->k);
    fs_wbuf_u64(w, (uint64_t)(int64_t)s->face);
    fs_wbuf_put(w, s->sha, sizeof s->sha);
    fs_wbuf_str(w, s->reasons);
    size_t n = s->list ? s->list->n : 0;
    fs_wbuf_u64(w, n);
    for (size_t i = 0; i < n; i++) {
        fs_wbuf_str(w, s->list->c[i].subject);
        fs_wbuf_u64(w, fs_f32_bits(s->list->c[i].score));
        if (fused) {
            fs_wbuf_u64(w, fs_f32_bits(s->list->c[i].second));
            fs_wbuf_u64(w, fs_f32_bits(s->list->c[i].fused));
        }
    }
    pack_standing(w, s->list);
}

/* The entry's note of the profile's floor, when it set one: the floor
 * applied and how many it held back, never who. */
static void standing_note(const fs_candidates *list, char *buf, size_t cap)
{
    if (!list || !isfinite(list->about.standing_floor))
        return;
    size_t len = strlen(buf);
    snprintf(buf + len, cap - len, ", standing floor %g, %zu held back",
             list->about.standing_floor, list->about.held_back);
}

static void probe_key(uint64_t request, uint64_t search, uint8_t key[16])
{
    gate_seq_key(request, key);
    gate_seq_key(search, key + 8);
}

static int request_stands(fs_gate *g, fs_gallery_batch *b, const char *id,
                          fs_request *r, fs_detail *d);

/* The search, its probe and the request's counters, in the batch whose
 * commit carries the entry. */
static int store_in(void *ctx, fs_gallery_batch *b, fs_detail *d)
{
    search_rec *s = ctx;
    fs_gate *g = s->g;
    fs_request r;
    uint64_t seq, rseq;
    int rc = request_stands(g, b, s->req->id, &r, d);  /* closed, its
                                    crime no longer authorized meanwhile */
    if (rc == FS_OK)
        rc = gate_next_seq(g, b, GT_SEARCHES, &seq, d);
    if (rc == FS_OK)
        rc = gate_id_parse(r.id, 'R', &rseq, d);
    if (rc != FS_OK)
        return rc;
    gate_id_format('S', seq, s->id);
    fs_wbuf w = { 0 };
    pack_search(&w, s);
    uint8_t key[16];
    gate_seq_key(seq, key);
    rc = w.oom ? fs_fail(d, FS_ENOMEM, "no memory for the search record")
               : gate_sealed_put(g, b, GT_SEARCHES, key, 8, w.p, w.len, d);
    fs_wbuf_free(&w);
    if (rc == FS_OK) {                          /* the probe, G12 */
        fs_wbuf p = { 0 };
        fs_wbuf_u64(&p, PROBE_VERSION);
        fs_wbuf_put(&p, s->sha, sizeof s->sha);
        fs_wbuf_put(&p, s->probe, s->probe_len);
        probe_key(rseq, seq, key);
        rc = p.oom ? fs_fail(d, FS_ENOMEM, "no memory for the probe")
                   : gate_sealed_put(g, b, GT_PROBES, key, 16, p.p, p.len,
                                     d);
        fs_wbuf_free(&p);
    }
    if (rc != FS_OK)
        return rc;
    if (s->status == SEARCH_REJECTED) {
        r.rejections++;
        snprintf(r.last_rejection, sizeof r.last_rejection, "%s",
                 s->reasons);
    } else {
        r.searches++;
    }
    char sha[2 * FS_SHA256_BYTES + 1];
    fs_hex(s->sha, sizeof s->sha, sha);
    snprintf(s->objects, sizeof s->objects, "request %s, search %s, crime "
             "%s, k %d, probe sha256 %.16s", r.id, s->id, r.crime, s->k,
             sha);
    standing_note(s->list, s->objects, sizeof s->objects);
    return gate_request_put(g, b, &r, d);
}

int gate_probes_drop(fs_gallery_batch *b, const char *request, uint64_t *n,
                     fs_detail *d)
{
    uint64_t rseq, count = 0;
    int rc = gate_id_parse(request, 'R', &rseq, d);
    if (rc != FS_OK)
        return rc;
    uint8_t key[16];
    probe_key(rseq, 0, key);
    fs_record r;
    while ((rc = fs_record_seek(b, GT_PROBES, key, 16, 0, &r, d)) == FS_OK &&
           r.klen == 16 && gate_seq_of(r.key) == rseq) {
        memcpy(key, r.key, 16);
        if ((rc = fs_record_del(b, GT_PROBES, key, 16, d)) == FS_OK)
            count++;
    }
    if (rc != FS_OK && rc != FS_NOTFOUND)
        return rc;
    *n += count;
    return FS_OK;
}

int gate_search_unpack(const fs_record *rec, const uint8_t *v, size_t len,
                       gate_search **out, fs_detail *d)
{
    fs_rbuf rb = { v, len, 0, 0 };
    gate_search h;
    memset(&h, 0, sizeof h);
    uint64_t version = fs_rbuf_u64(&rb);
    fs_rbuf_str(&rb, h.id, sizeof h.id);
    fs_rbuf_str(&rb, h.request, sizeof h.request);
    fs_rbuf_str(&rb, h.examiner, sizeof h.examiner);
    h.time = (int64_t)fs_rbuf_u64(&rb);
    h.released = fs_rbuf_u64(&rb) == SEARCH_RELEASED;
    fs_rbuf_str(&rb, h.model, sizeof h.model);
    h.k = (int)fs_rbuf_u64(&rb);
    h.face = (int)(int64_t)fs_rbuf_u64(&rb);
    fs_rbuf_get(&rb, h.probe_sha256, sizeof h.probe_sha256);
    fs_rbuf_str(&rb, h.reasons, sizeof h.reasons);
    uint64_t n = fs_rbuf_u64(&rb);
    if (rb.bad || version < 1 || version > SEARCH_VERSION_FUSED ||
        rec->klen != 8 || n > FS_RANK_MAX_K ||
        gate_id_parse(h.request, 'R', &h.request_seq, NULL) != FS_OK)
        return fs_fail(d, FS_ETAMPER, "search record %llu is damaged",
                       (unsigned long long)gate_seq_of(rec->key));
    gate_search *s = malloc(sizeof *s + (size_t)n * sizeof s->list[0]);
    if (!s)
        return fs_fail(d, FS_ENOMEM, "no memory for a search record");
    *s = h;
    s->n = (size_t)n;
    for (size_t i = 0; i < s->n; i++) {
        s->list[i].rank = (int)i + 1;
        fs_rbuf_str(&rb, s->list[i].subject, sizeof s->list[i].subject);
        s->list[i].score = fs_bits_f32(fs_rbuf_u64(&rb));
        s->list[i].rescored = version == SEARCH_VERSION_FUSED;
        if (s->list[i].rescored) {
            s->list[i].second = fs_bits_f32(fs_rbuf_u64(&rb));
            s->list[i].fused = fs_bits_f32(fs_rbuf_u64(&rb));
        }
    }
    unpack_standing(&rb, version, s);
    if (rb.bad) {
        gate_search_free(s);
        return fs_fail(d, FS_ETAMPER, "search record %llu is damaged",
                       (unsigned long long)gate_seq_of(rec->key));
    }
    *out = s;
    return FS_OK;
}

void gate_search_free(gate_search *s)
{
    if (s)
        fs_wipe(s, sizeof *s + s->n * sizeof s->list[0]);
    free(s);
}

int gate_search_get(fs_gate *g, fs_gallery_batch *b, const char *id,
                    gate_search **out, fs_detail *d)
{
    uint64_t seq;
    int rc = gate_id_parse(id, 'S', &seq, d);
    if (rc != FS_OK)
        return rc;
    uint8_t key[8];
    gate_seq_key(seq, key);
    fs_record rec;
    rc = fs_record_get(b, GT_SEARCHES, key, 8, &rec, d);
    if (rc == FS_NOTFOUND)
        return fs_fail(d, rc, "no search %s", id);
    uint8_t *v = NULL;
    size_t len = 0;
    if (rc == FS_OK)
        rc = gate_sealed_open(g, GT_SEARCHES, &rec, &v, &len, d);
    if (rc == FS_OK)
        rc = gate_search_unpack(&rec, v, len, out, d);
    if (v)
        fs_wipe(v, len);
    free(v);
    return rc;
}

int gate_probe_get(fs_gate *g, fs_gallery_batch *b, const gate_search *s,
                   uint8_t **bytes, size_t *len, fs_detail *d)
{
    uint64_t seq;
    int rc = gate_id_parse(s->id, 'S', &seq, d);
    if (rc != FS_OK)
        return rc;
    uint8_t key[16], *v = NULL;
    size_t n = 0;
    probe_key(s->request_seq, seq, key);
    rc = gate_sealed_get(g, b, GT_PROBES, key, 16, &v, &n, d);
    if (rc == FS_NOTFOUND)
        return fs_fail(d, rc, "the probe of search %s is no longer kept "
                       "(purged under the retention, G12)", s->id);
    if (rc != FS_OK)
        return rc;
    /* version, sha256, then the bytes */
    size_t head = 8 + FS_SHA256_BYTES;
    uint8_t *img = n > head ? malloc(n - head) : NULL;
    if (img)
        memcpy(img, v + head, n - head);
    fs_wipe(v, n);
    free(v);
    if (!img)
        return fs_fail(d, n > head ? FS_ENOMEM : FS_ETAMPER, "the probe of "
                       "search %s %s", s->id, n > head ? "does not fit in "
                       "memory" : "is damaged");
    *bytes = img;
    *len = n - head;
    return FS_OK;
}

/* ---- the search ---------------------------------------------------------------- */

/* A refusal on the trail under the search's name, with the request and,
 * once it is read, its case and crime type (G9). */
static int refuse(fs_gate *g, const char *request, const fs_request *r,
                  int rc, fs_detail *d)
{
    char objects[192];
    if (r)
        snprintf(objects, sizeof objects, "request %s, case %s, crime %s",
                 r->id, r->case_no, r->crime);
    else
        snprintf(objects, sizeof objects, "request %.15s", request);
    return gate_refusal(g, g->who.name, g->who.unit, "search", objects, rc,
                        d);
}

/* G4-G8 and G10 (a, b) as b holds the request, under the profile in force
 * in b: when the search starts, and again in the batch that would release
 * its list. */
static int request_stands(fs_gate *g, fs_gallery_batch *b, const char *id,
                          fs_request *r, fs_detail *d)
{
    memset(r, 0, sizeof *r);
    int rc = gate_request_get(g, b, id, r, d);
    if (rc == FS_OK && r->state != FS_REQUEST_OPEN)
        rc = fs_fail(d, FS_DENIED, "G10: request %s is closed (%s): a closed "
                     "case releases no candidates", r->id,
                     fs_outcome_name(r->outcome));
    if (rc == FS_OK) {
        fs_request_form f = { r->case_no, r->crime, r->requester, r->agency,
                              r->contact, r->justification, r->source,
                              r->from_video, r->ack_disclaimer };
        fs_detail why = { "" };
        rc = fs_request_check(&g->profile, &f, &why);
        if (rc != FS_OK)
            rc = fs_fail(d, rc, "G10: request %s no longer stands under "
                         "profile %s as it is now: %s", r->id,
                         g->profile.name, why.msg);
    }
    if (rc == FS_OK && r->outside)        /* suspended since, say */
        rc = gate_outside_ok(g, b, r->agency, r->ack_disclaimer, d);
    return rc;
}

/* The request as it stands before anything of the probe or the gallery
 * is touched. */
static int request_open(fs_gate *g, const char *id, fs_request *r,
                        fs_detail *d)
{
    fs_gallery_batch *b;
    int rc = gate_read(g, &b, d);
    if (rc != FS_OK)
        return rc;
    rc = request_stands(g, b, id, r, d);
    fs_gallery_abort(b);
    return rc;
}

/* The template of the probe's face, or FS_DENIED (G13) with the quality
 * verdict in reasons when it has no face fit for search. */
static int probe_template(fs_gate *g, fs_engine *e, const fs_search_in *in,
                          int *face, float tmpl[FS_DESC_DIM], float *tmpl2,
                          char *reasons, size_t cap, fs_search_stages *st,
                          double *t0, fs_detail *d)
{
    uint8_t *copy = malloc(in->probe_len);    /* decoding may edit it */
    if (!copy)
        return fs_fail(d, FS_ENOMEM, "no memory for the probe");
    memcpy(copy, in->probe, in->probe_len);
    const char *name = in->probe_name ? in->probe_name : "the probe";
    fs_image img = { 0 };
    int rc = fs_image_decode(copy, in->probe_len, name, &img, d);
    fs_wipe(copy, in->probe_len);
    free(copy);
    st->intake = lap(t0);
    if (rc != FS_OK)
        return rc;
    fs_face *faces = malloc(FS_MAX_FACES * sizeof *faces);
    int n = 0;
    fs_engine_set_quality(e, &g->profile.quality);
    rc = faces ? fs_engine_detect(e, &img, faces, FS_MAX_FACES, &n, d)
               : fs_fail(d, FS_ENOMEM, "no memory for the faces");
    int f = in->face;
    if (rc == FS_OK && f >= n && n > 0)
        rc = fs_fail(d, FS_EINVAL, "--face %d: the probe holds %d face%s "
                     "(0 to %d)", f, n, n == 1 ? "" : "s", n - 1);
    if (rc == FS_OK && f < 0)
        f = fs_default_face(faces, n, img.width, img.height);
    if (rc == FS_OK && n == 0) {
        snprintf(reasons, cap, "no face found");
        rc = FS_DENIED;
    } else if (rc == FS_OK && !faces[f].quality.ok) {
        snprintf(reasons, cap, "%s", faces[f].quality.reasons);
        rc = FS_DENIED;
    }
    uint8_t chip[FS_CHIP_BYTES];
    float desc[FS_DESC_DIM];
    st->detect = lap(t0);
    if (rc == FS_OK)
        rc = fs_engine_face_chip(e, &img, &faces[f], chip, d);
    st->align = lap(t0);
    if (rc == FS_OK)
        rc = fs_engine_embed(e, chip, 1, desc, tmpl);
    st->embed = lap(t0);
    if (rc == FS_OK && tmpl2)         /* the recipe's second model */
        rc = fs_engine_face_second(e, &img, &faces[f], tmpl2, d);
    st->second = lap(t0);
    if (rc == FS_DENIED)
        fs_fail(d, rc, "G13: the probe is unfit for search: %s", reasons);
    *face = f;
    free(faces);
    fs_image_release(&img);
    return rc;
}

int gate_ranker(fs_gate *g, fs_engine *e, fs_ranker **rk, fs_detail *d)
{
    fs_pool *pool = NULL;
    int mode = FS_RANK_EXACT;
    int rc = fs_engine_pool(e, &pool, d);
    if (rc == FS_OK)
        rc = fs_gallery_rank_mode(g->gal, &mode);
    fs_rank_options ro = { .mode = mode, .isa = -1, .pool = pool };
    return rc == FS_OK ? fs_gallery_ranker(g->gal, &ro, rk, d) : rc;
}

/* The top k of the gallery's own templates, in this process. */
static int rank_here(fs_gate *g, fs_engine *e, const float tmpl[FS_DESC_DIM],
                     int k, fs_hit *hits, size_t *nh, fs_detail *d)
{
    fs_ranker *rk = NULL;
    *nh = 0;
    int rc = gate_ranker(g, e, &rk, d);
    if (rc == FS_OK && rk)
        rc = fs_rank_topk(rk, tmpl, 1, (size_t)k, hits, nh);
    if (rc == FS_OK && rk)
        fs_gallery_hit_rows(g->gal, tmpl, hits, *nh);
    return rc;
}

/* The top k over the shards, through the caller's ranker: the set must
 * be the home's current one, and each hit must name a subject and a row
 * of it here, so a stale or foreign shard cannot put a wrong face on the
 * list. */
static int rank_shards(fs_gate *g, const float tmpl[FS_DESC_DIM], int k,
                       fs_hit *hits, size_t *nh, fs_detail *d)
{
    fs_shard_set set;
    *nh = 0;
    int rc = gate_shard_set(g, &set, d);
    if (rc == FS_NOTFOUND)
        rc = fs_fail(d, FS_EFORMAT, "gallery '%s' has no shards: make them "
                     "with 'facesearch gallery shard'", g->dir);
    if (rc == FS_OK)
        rc = g->ranker->rank(g->ranker->ctx, &set, tmpl, (size_t)k, hits,
                             nh, d);
    if (rc == FS_OK && *nh > (size_t)k)
        rc = fs_fail(d, FS_EINTERNAL, "the shards gave %zu hits for k %d",
                     *nh, k);
    for (size_t i = 0; rc == FS_OK && i < *nh; i++) {
        char id[FS_SUBJECT_MAX];
        uint64_t image;
        if (fs_gallery_subject_id(g->gal, hits[i].subject, id) != FS_OK ||
            fs_gallery_row_image(g->gal, hits[i].row, id, &image, NULL)
            != FS_OK)
            rc = fs_fail(d, FS_EFORMAT, "the shards' hit %zu (subject "
                         "number %u, row %u) is not this gallery's: the "
                         "shards are not this gallery's as it is now", i + 1,
                         hits[i].subject, hits[i].row);
    }
    return rc;
}

/* ---- the standing (issue 17) ------------------------------------------- */

size_t gate_standing_depth(int k)
{
    return k > FS_EVAL_COHORT ? (size_t)k : FS_EVAL_COHORT + 1;
}

int gate_standing(const fs_hit *hits, size_t nh, size_t n, float *standing)
{
    if (!nh)
        return FS_OK;
    float *sc = calloc(nh, sizeof *sc), *z = calloc(nh, sizeof *z);
    int rc = FS_ENOMEM;
    if (sc && z) {
        for (size_t i = 0; i < nh; i++)
            sc[i] = hits[i].score;
        rc = fs_eval_normalise(sc, 1, nh, FS_EVAL_COHORT, z);
    }
    for (size_t i = 0; rc == FS_OK && i < n && i < nh; i++)
        standing[i] = z[i];
    free(sc);
    free(z);
    return rc;
}

size_t gate_standing_floor(fs_candidate *c, uint32_t *row, size_t *n,
                           double floor)
{
    if (floor == -INFINITY)                     /* none: the top k */
        return 0;
    size_t kept = 0, was = *n;
    for (size_t i = 0; i < was; i++) {
        if (!(c[i].standing >= floor))
            continue;
        c[kept] = c[i];
        c[kept].rank = (int)kept + 1;
        if (row)
            row[kept] = row[i];
        kept++;
    }
    for (size_t i = kept; i < was; i++)         /* no trace of who */
        memset(&c[i], 0, sizeof c[i]);
    *n = kept;
    return was - kept;
}

/* The list's standings from the ranking's hits. */
static int list_standing(fs_candidates *c, const fs_hit *hits,
                         size_t nh, fs_detail *d)
{
    float *z = c->n ? malloc(c->n * sizeof *z) : NULL;
    int rc = c->n && !z ? FS_ENOMEM : gate_standing(hits, nh, c->n, z);
    if (rc != FS_OK) {
        free(z);
        return fs_fail(d, rc, "no memory for the candidates' standing");
    }
    for (size_t i = 0; i < c->n; i++)
        c->c[i].standing = z[i];
    free(z);
    return FS_OK;
}

/* The profile's floor on the standing, over the list as it is shown
 * (after a second model's re-scoring, when the recipe has one), noted
 * on the list. */
static void list_floor(const fs_gate *g, fs_candidates *c)
{
    c->about.standing_floor = g->profile.standing_floor;
    c->about.held_back = gate_standing_floor(c->c, c->row, &c->n,
                                             g->profile.standing_floor);
}

/* The exact top k of distinct subjects, as a list with the subjects'
 * ids: made here, in the gate, and nowhere else. */
static int rank(fs_gate *g, fs_engine *e, const float tmpl[FS_DESC_DIM],
                int k, const fs_request *r, fs_candidates **out,
                fs_detail *d)
{
    /* the engine's models were held to the gallery's: gate_engine_fits */
    int rc = FS_OK;
    size_t nh = 0, depth = gate_standing_depth(k);   /* the cohort's too */
    fs_candidates *c = calloc(1, sizeof *c + (size_t)k * sizeof c->c[0]);
    fs_hit *hits = malloc(depth * sizeof *hits);
    if (c)
        c->row = malloc((size_t)k * sizeof *c->row);
    if (!c || !hits || !c->row)
        rc = fs_fail(d, FS_ENOMEM, "no memory for the candidates");
    if (rc == FS_OK)
        rc = g->ranker ? rank_shards(g, tmpl, (int)depth, hits, &nh, d)
                       : rank_here(g, e, tmpl, (int)depth, hits, &nh, d);
    size_t listed = nh < (size_t)k ? nh : (size_t)k;
    for (size_t i = 0; rc == FS_OK && i < listed; i++) {
        c->c[i].rank = (int)i + 1;
        c->c[i].score = hits[i].score;
        c->row[i] = hits[i].row;
        rc = fs_gallery_subject_id(g->gal, hits[i].subject,
                                   c->c[i].subject);
        if (rc != FS_OK)
            rc = fs_fail(d, rc, "subject number %u of the ranking has no "
                         "sound record", hits[i].subject);
    }
    if (rc == FS_OK) {
        c->n = listed;
        rc = list_standing(c, hits, nh, d);
    }
    free(hits);
    if (rc != FS_OK) {
        fs_candidates_free(c);
        return rc;
    }
    snprintf(c->request_id, sizeof c->request_id, "%s", r->id);
    fs_candidates_about *a = &c->about;
    snprintf(a->case_no, sizeof a->case_no, "%s", r->case_no);
    snprintf(a->crime, sizeof a->crime, "%s", r->crime);
    snprintf(a->examiner, sizeof a->examiner, "%s", g->who.name);
    snprintf(a->model, sizeof a->model, "%s", fs_engine_model_id(e));
    snprintf(c->disclaimer, sizeof c->disclaimer, "%s",
             g->profile.disclaimer);
    *out = c;
    return FS_OK;
}

/* Places the first model ranks for a list of k under the recipe: k
 * alone, or with a second model the shortlist the fusion re-scores. */
static int shortlist_for(const fs_recipe *r, int k)
{
    const fs_eval_fusion fz = FS_FUSION_FROZEN;
    size_t n = r->second_model_id[0] && fz.shortlist > (size_t)k
               ? fz.shortlist : (size_t)k;
    return n < FS_RANK_MAX_K ? (int)n : FS_RANK_MAX_K;
}

typedef struct fused_at {
    float  fused;
    size_t at;                        /* the first model's place */
} fused_at;

static int by_fused(const void *a, const void *b)
{
    const fused_at *x = a, *y = b;
    if (x->fused != y->fused)
        return x->fused < y->fused ? 1 : -1;
    return (x->at > y->at) - (x->at < y->at);
}

/* The first model's shortlist c re-scored with the second model: each
 * candidate's second template (of the image its first score came from:
 * c->row) against the probe's, the two scores fused as eval fuses them
 * (fs_eval_fused, FS_FUSION_FROZEN), the list ordered by the fused score
 * (ties: the first model's order) and cut to k.  A second template
 * missing or altered is refused (FS_ETAMPER), never skipped. */
static int rescore_second(fs_gate *g, fs_candidates *c,
                          const float tmpl2[FS_DESC2_DIM], int k,
                          fs_detail *d)
{
    const fs_eval_fusion fz = FS_FUSION_FROZEN;
    if (g->ranker)
        return fs_fail(d, FS_EINVAL, "a sharded gallery keeps no second "
                       "templates");
    size_t n = c->n, m = n ? n : 1;
    float *t2 = malloc(m * FS_DESC2_DIM * sizeof *t2);
    float *s2 = malloc(m * sizeof *s2);
    fused_at *o = malloc(m * sizeof *o);
    fs_candidate *cc = malloc(m * sizeof *cc);
    uint32_t *row = malloc(m * sizeof *row);
    int rc = t2 && s2 && o && cc && row ? FS_OK
             : fs_fail(d, FS_ENOMEM, "no memory for the shortlist");
    if (rc == FS_OK && n)
        rc = fs_gallery_seconds(g->gal, c->row, n, t2, d);
    if (rc == FS_OK)            /* the cosines as eval computes them */
        fs_eval_scores(tmpl2, 1, t2, n, FS_DESC2_DIM, s2);
    for (size_t i = 0; rc == FS_OK && i < n; i++) {
        c->c[i].rescored = 1;
        c->c[i].second = s2[i];
        c->c[i].fused = fs_eval_fused(&fz, c->c[i].score, s2[i]);
        o[i] = (fused_at){ c->c[i].fused, i };
    }
    if (rc == FS_OK) {
        qsort(o, n, sizeof *o, by_fused);
        for (size_t i = 0; i < n; i++) {
            cc[i] = c->c[o[i].at];
            cc[i].rank = (int)i + 1;
            row[i] = c->row[o[i].at];
        }
        memcpy(c->c, cc, n * sizeof *cc);
        memcpy(c->row, row, n * sizeof *row);
        c->n = n < (size_t)k ? n : (size_t)k;
    }
    if (t2)
        fs_wipe(t2, m * FS_DESC2_DIM * sizeof *t2);
    free(t2);
    free(s2);
    free(o);
    free(cc);
    free(row);
    return rc;
}

int fs_gate_search(fs_gate *g, fs_engine *e, const fs_search_in *in,
                   fs_candidates **out, fs_detail *d)
{
    fs_search_stages st = { 0 };
    double t0 = now_s();
    int rc = gate_require(g, FS_ROLE_EXAMINER, 1, "search", d);
    if (rc != FS_OK)
        return rc;
    const char *rid = in->request_id ? in->request_id : "";
    if (in->k < 1 || in->k > FS_RANK_MAX_K)
        return fs_fail(d, FS_EINVAL, "k must be 1 to %d, not %d",
                       FS_RANK_MAX_K, in->k);
    fs_request r;
    if ((rc = request_open(g, rid, &r, d)) != FS_OK)
        return refuse(g, rid, rc == FS_NOTFOUND ? NULL : &r, rc, d);
    if (!in->human_review)
        return refuse(g, rid, &r, fs_fail(d, FS_DENIED, "G10: the list is "
                      "released only for human review: --human-review "
                      "affirms that the candidates go to a trained "
                      "examiner's visual comparison as investigative leads "
                      "only"), d);
    if (in->probe_name &&
        (rc = fs_intake_check_arg(in->probe_name, d)) != FS_OK)
        return refuse(g, rid, &r, rc, d);    /* a stream or device, G8 */
    if (!in->probe || !in->probe_len)
        return fs_fail(d, FS_EINVAL, "no probe image given");

    search_rec s;
    memset(&s, 0, sizeof s);
    s.g = g;
    s.req = &r;
    s.probe = in->probe;
    s.probe_len = in->probe_len;
    s.k = in->k;
    s.model = fs_engine_model_id(e);   /* rank() holds the gallery to it */
    s.time = (int64_t)time(NULL);
    fs_sha256(in->probe, in->probe_len, s.sha);
    fs_recipe recipe;
    if ((rc = gate_engine_fits(g, e, &recipe, d)) != FS_OK)
        return refuse(g, rid, &r, rc, d);
    float tmpl[FS_DESC_DIM], tmpl2[FS_DESC2_DIM];
    int second = recipe.second_model_id[0] != 0;
    char reasons[256] = "";
    st.gate = lap(&t0);
    rc = probe_template(g, e, in, &s.face, tmpl, second ? tmpl2 : NULL,
                        reasons, sizeof reasons, &st, &t0, d);
    if (rc == FS_DENIED && reasons[0]) {
        /* an image rejection (G13): kept on the request with its probe */
        s.status = SEARCH_REJECTED;
        s.reasons = reasons;
        char outcome[320];
        snprintf(outcome, sizeof outcome, "image rejected (G13): %s",
                 reasons);
        fs_audit_entry ae = { "search", r.case_no, r.justification,
                              s.objects, outcome };
        fs_detail why = { "" };
        int src = gate_change(g, store_in, &s, &ae, &why);
        if (src != FS_OK)
            return fs_fail(d, src, "%s", why.msg);
        return fs_fail(d, FS_DENIED, "G13: the probe is unfit for search "
                       "(%s); image rejection %s is on request %s, and the "
                       "requester may submit another image", reasons, s.id,
                       r.id);
    }
    if (rc != FS_OK)
        return refuse(g, rid, &r, rc, d);
    fs_candidates *c = NULL;
    rc = rank(g, e, tmpl, shortlist_for(&recipe, in->k), &r, &c, d);
    st.rank = lap(&t0);
    if (rc == FS_OK && second)
        rc = rescore_second(g, c, tmpl2, in->k, d);
    if (rc == FS_OK)
        list_floor(g, c);
    st.rescore = lap(&t0);
    fs_wipe(tmpl2, sizeof tmpl2);
    if (rc != FS_OK) {
        fs_candidates_free(c);
        return refuse(g, rid, &r, rc, d);   /* on the trail, failed too */
    }
    s.list = c;
    snprintf(s.objects, sizeof s.objects, "request %s", r.id);  /* a
                                       refusal's; store_in writes the rest */
    fs_audit_entry ae = { "search", r.case_no, r.justification, s.objects,
                          "released for human review" };
    rc = gate_change(g, store_in, &s, &ae, d);
    fs_wipe(tmpl, sizeof tmpl);
    if (rc != FS_OK) {
        fs_candidates_free(c);
        return rc;
    }
    snprintf(c->search_id, sizeof c->search_id, "%s", s.id);
    c->about.time = s.time;
    st.store = lap(&t0);
    if (in->stages)
        *in->stages = st;
    *out = c;
    return FS_OK;
}

/* The mugshot a released candidate was found by, read through the gate
 * that released the list: the candidates object is the proof of release
 * (only fs_gate_search makes one), and the session must still be an
 * examiner's. */
int fs_candidates_image(fs_gate *g, const fs_candidates *c, size_t i,
                        uint8_t **bytes, size_t *len, fs_detail *d)
{
    int rc = gate_require(g, FS_ROLE_EXAMINER, 1, "search", d);
    if (rc != FS_OK)
        return rc;
    if (i >= c->n)
        return fs_fail(d, FS_EINVAL, "search %s has %zu candidates, not %zu",
                       c->search_id, c->n, i + 1);
    uint64_t image;
    rc = fs_gallery_row_image(g->gal, c->row[i], c->c[i].subject, &image, d);
    return rc == FS_OK ? fs_gallery_image(g->gal, image, bytes, len, d) : rc;
}

/* ---- retention (G12) --------------------------------------------------------- */

typedef struct purge_ctx {
    fs_gate          *g;
    fs_gallery_batch *b;
    int               dry_run;
    int64_t           before;         /* unix seconds, set in the batch */
    uint64_t          n;
    char              objects[128];
} purge_ctx;

/* One search's probe goes when it is older than the retention, still
 * there, and its request is not held as evidence. */
static int purge_one(void *ctx, const fs_record *rec, const uint8_t *v,
                     size_t len, fs_detail *d)
{
    purge_ctx *p = ctx;
    gate_search *s;
    int rc = gate_search_unpack(rec, v, len, &s, d);
    if (rc != FS_OK)
        return rc;
    uint8_t key[16];
    int old = s->time < p->before;
    probe_key(s->request_seq, gate_seq_of(rec->key), key);
    char req[FS_ID_MAX];
    snprintf(req, sizeof req, "%s", s->request);
    gate_search_free(s);
    if (!old)
        return FS_OK;
    fs_record probe;
    rc = fs_record_get(p->b, GT_PROBES, key, 16, &probe, d);
    if (rc == FS_NOTFOUND)
        return FS_OK;
    fs_request r;
    if (rc == FS_OK)
        rc = gate_request_get(p->g, p->b, req, &r, d);
    if (rc != FS_OK || r.evidence)
        return rc;
    p->n++;
    return p->dry_run ? FS_OK : fs_record_del(p->b, GT_PROBES, key, 16, d);
}

static int purge_in(void *ctx, fs_gallery_batch *b, fs_detail *d)
{
    purge_ctx *p = ctx;
    p->b = b;
    /* the retention of the profile in force in this batch: one set
     * longer since the purge began holds (gate_standing_now read it) */
    p->before = (int64_t)time(NULL) -
                (int64_t)p->g->profile.retention_probe_days * 86400;
    int rc = gate_walk_sealed(p->g, b, GT_SEARCHES, NULL, purge_one, p,
                              d);
    snprintf(p->objects, sizeof p->objects, "%llu probe%s older than %d "
             "days%s", (unsigned long long)p->n, p->n == 1 ? "" : "s",
             p->g->profile.retention_probe_days,
             p->dry_run ? " (dry run: none removed)" : " removed");
    return rc;
}

int fs_gate_purge(fs_gate *g, int dry_run, uint64_t *n, fs_detail *d)
{
    int rc = gate_require(g, FS_ROLE_ADMIN, 0, "purge", d);
    if (rc != FS_OK)
        return rc;
    purge_ctx p = { g, NULL, dry_run, 0, 0, "" };
    fs_audit_entry e = { "purge", NULL, "G12 probe retention", p.objects,
                         "ok" };
    rc = gate_change(g, purge_in, &p, &e, d);
    if (rc == FS_OK)
        *n = p.n;
    return rc;
}
