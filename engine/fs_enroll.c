/*
 * fs_enroll.c - enrolment: image files in, gallery records out.
 *
 * A batch goes through four stages, each over every item at once:
 *   1. read and hash (threads): intake refuses streams and devices (G8)
 *      before a byte is read, the whole file is read and its sha256 taken;
 *   2. dedupe (serial): images already in the gallery, or twice in the
 *      batch, are reported as such and go no further;
 *   3. see (threads): intake's still-image checks, decode, detection, the
 *      one-dominant-face rule, alignment;
 *   4. embed the accepted chips in one network batch, write them with
 *      their bytes in one gallery commit, and only then check each new
 *      subject against every other subject for a possible duplicate.
 * Nothing here reads anything but the paths the admin named (G12: a probe
 * can only get in by being named).
 *
 * The enroller keeps its own copy of the gallery's templates, grown as
 * batches commit, so the duplicate check never rereads the store.  Not
 * thread-safe: it drives the engine's threads itself.
 */
#include "fs_engine_int.h"

#include <openssl/evp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "fs_file.h"

typedef struct job {
    fs_enroll_item *it;
    uint8_t        *bytes;
    size_t          len;
    uint8_t         sha[32];
    int             alive;           /* not yet refused or skipped */
    fs_put_result   put;
    uint8_t        *chip;            /* in the enroller's chip scratch */
    float           tmpl[FS_DESC_DIM];
} job;

struct fs_enroller {
    fs_engine  *e;
    fs_gallery *g;
    job        *jobs;
    size_t      njobs_cap;
    uint8_t    *chips;               /* njobs_cap chips */
    float      *desc, *tmpl;         /* njobs_cap descriptors each */
    /* every template of the gallery, for the duplicate check */
    float      *vec;
    uint32_t   *subj;
    size_t      n, cap, vec_bytes;
};

typedef struct team {
    fs_enroller *en;
    job         *jobs;
    size_t       n;
    atomic_size_t next;
    int          stage;
} team;

static void reject(job *j, int rc, const char *why)
{
    j->alive = 0;
    j->it->status = FS_ENROLL_REJECTED;
    j->it->rc = rc;
    snprintf(j->it->reason, sizeof j->it->reason, "%s", why);
}

static int lawful_source_ok(const char *s)
{
    return s && (strcmp(s, "booking") == 0 || strcmp(s, "arrest") == 0 ||
                 strcmp(s, "parole") == 0);
}

static void read_one(job *j)
{
    fs_detail d = { "" };
    const fs_enroll_item *it = j->it;
    if (!lawful_source_ok(it->lawful_source)) {
        snprintf(d.msg, sizeof d.msg, "lawful source '%s' is not a mugshot "
                 "source (G20: booking, arrest or parole)",
                 it->lawful_source ? it->lawful_source : "");
        reject(j, FS_DENIED, d.msg);
        return;
    }
    int rc = fs_gallery_check_subject_id(it->subject, &d);
    if (rc == FS_OK)
        rc = fs_intake_check_arg(it->path, &d);
    if (rc == FS_OK)
        rc = fs_read_file(it->path, FS_IMAGE_MAX_BYTES, &j->bytes, &j->len,
                          &d);
    if (rc != FS_OK) {
        reject(j, rc, d.msg);
        return;
    }
    if (!EVP_Digest(j->bytes, j->len, j->sha, NULL, EVP_sha256(), NULL))
        reject(j, FS_EINTERNAL, "sha256 failed");
}

/* Decode, detect, choose the face, align: what makes a chip. */
static void see_one(fs_detector *det, job *j)
{
    fs_detail d = { "" };
    fs_still st;
    int rc = fs_intake_identify(j->bytes, j->len, j->it->path, &st, &d);
    if (rc != FS_OK) {
        reject(j, rc, d.msg);
        return;
    }
    /* Decoding neutralises the orientation tag in place; the gallery
     * keeps the bytes as they came. */
    uint8_t tag[2] = { 0, 0 };
    if (st.orientation_at)
        memcpy(tag, j->bytes + st.orientation_at, 2);
    fs_image img;
    rc = fs_image_decode(j->bytes, j->len, j->it->path, &img, &d);
    if (st.orientation_at)
        memcpy(j->bytes + st.orientation_at, tag, 2);
    if (rc != FS_OK) {
        reject(j, rc, d.msg);
        return;
    }
    fs_face faces[FS_MAX_FACES];
    int n = 0;
    rc = fs_detect_faces(det, &img, NULL, faces, FS_MAX_FACES, &n, &d);
    int f = rc == FS_OK ? fs_dominant_face(faces, n) : -1;
    if (rc != FS_OK) {
        reject(j, rc, d.msg);
    } else if (n == 0) {
        reject(j, FS_NOTFOUND, "no face found");
    } else if (f < 0) {
        snprintf(d.msg, sizeof d.msg, "%d faces and none dominant (a "
                 "mugshot holds exactly one face)", n);
        reject(j, FS_EINVAL, d.msg);
    } else {
        rc = fs_face_chip(&img, &faces[f], j->chip, &d);
        if (rc != FS_OK)
            reject(j, rc, d.msg);
    }
    fs_image_release(&img);
}

static void front_team(void *arg, int tid, int nthreads)
{
    (void)nthreads;
    team *t = arg;
    for (;;) {
        size_t i = atomic_fetch_add(&t->next, 1);
        if (i >= t->n)
            break;
        job *j = &t->jobs[i];
        if (!j->alive)
            continue;
        if (t->stage == 1)
            read_one(j);
        else
            see_one(t->en->e->det[tid], j);
    }
}

static void run_stage(fs_enroller *en, size_t n, int stage)
{
    team t = { en, en->jobs, n, 0, stage };
    fs_pool_run(en->e->front, front_team, &t);
}

/* ---- the enroller's copy of the templates ------------------------------- */

static int grow(fs_enroller *en, size_t need)
{
    if (need <= en->cap)
        return FS_OK;
    size_t cap = en->cap ? en->cap : 1024;
    while (cap < need)
        cap *= 2;
    size_t bytes = cap * FS_DESC_DIM * sizeof(float);
    float *vec = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    uint32_t *subj = realloc(en->subj, cap * sizeof *subj);
    if (vec == MAP_FAILED || !subj) {
        if (vec != MAP_FAILED)
            munmap(vec, bytes);
        if (subj)
            en->subj = subj;
        return FS_ENOMEM;
    }
    if (en->vec) {
        memcpy(vec, en->vec, en->n * FS_DESC_DIM * sizeof(float));
        munmap(en->vec, en->vec_bytes);
    }
    en->vec = vec;
    en->subj = subj;
    en->cap = cap;
    en->vec_bytes = bytes;
    return FS_OK;
}

static void append(fs_enroller *en, const float *tmpl, uint32_t subject)
{
    memcpy(en->vec + en->n * FS_DESC_DIM, tmpl, FS_DESC_DIM * sizeof(float));
    en->subj[en->n++] = subject;
}

int fs_enroller_open(fs_engine *e, fs_gallery *g, fs_enroller **out,
                     fs_detail *d)
{
    if (!e->net)
        return fs_fail(d, FS_EINVAL, "enrolment needs the model");
    int rc = fs_engine_pool(e, d);
    if (rc != FS_OK)
        return rc;
    fs_enroller *en = calloc(1, sizeof *en);
    if (!en)
        return fs_fail(d, FS_ENOMEM, "no memory for enrolment");
    en->e = e;
    en->g = g;
    fs_templates t;
    rc = fs_gallery_load(g, &t, d);
    if (rc == FS_OK && grow(en, t.n + 1) != FS_OK)
        rc = fs_fail(d, FS_ENOMEM, "no memory for %zu templates", t.n);
    if (rc != FS_OK) {
        fs_enroller_close(en);
        return rc;
    }
    memcpy(en->vec, t.vec, t.n * FS_DESC_DIM * sizeof(float));
    memcpy(en->subj, t.subject, t.n * sizeof *en->subj);
    en->n = t.n;
    *out = en;
    return FS_OK;
}

void fs_enroller_close(fs_enroller *en)
{
    if (!en)
        return;
    free(en->jobs);
    free(en->chips);
    free(en->desc);
    free(en->tmpl);
    if (en->vec)
        munmap(en->vec, en->vec_bytes);
    free(en->subj);
    free(en);
}

/* Each new subject against every other subject: the best other one, when
 * close enough, is reported as a possible duplicate record. */
static int check_duplicates(fs_enroller *en, size_t n, fs_detail *d)
{
    size_t nq = 0;
    for (size_t i = 0; i < n; i++)
        nq += en->jobs[i].it->status == FS_ENROLLED &&
              en->jobs[i].put.new_subject;
    if (nq == 0 || en->n < 2)
        return FS_OK;
    float *q = malloc(nq * FS_DESC_DIM * sizeof *q);
    fs_hit *hits = malloc(nq * 2 * sizeof *hits);
    size_t *nhits = malloc(nq * sizeof *nhits);
    job **who = malloc(nq * sizeof *who);
    fs_templates t = { en->vec, en->subj, en->n };
    fs_rank_options ro = { .mode = FS_RANK_EXACT, .isa = -1,
                           .pool = en->e->front };
    fs_ranker *r = NULL;
    int rc = q && hits && nhits && who ? FS_OK : FS_ENOMEM;
    if (rc == FS_OK)
        rc = fs_ranker_create(&t, &ro, &r, d);
    if (rc == FS_OK) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            job *j = &en->jobs[i];
            if (j->it->status == FS_ENROLLED && j->put.new_subject) {
                memcpy(q + k * FS_DESC_DIM, j->tmpl, sizeof j->tmpl);
                who[k++] = j;
            }
        }
        rc = fs_rank_topk(r, q, nq, 2, hits, nhits);
    }
    for (size_t k = 0; rc == FS_OK && k < nq; k++) {
        job *j = who[k];
        for (size_t h = 0; h < nhits[k]; h++) {
            const fs_hit *hit = &hits[k * 2 + h];
            if (hit->subject == j->put.subject_number)
                continue;
            if (hit->score >= FS_DUPLICATE_COSINE &&
                fs_gallery_subject_id(en->g, hit->subject,
                                      j->it->duplicate_of) == FS_OK)
                j->it->duplicate_score = hit->score;
            break;
        }
    }
    fs_ranker_free(r);
    free(q);
    free(hits);
    free(nhits);
    free(who);
    return rc == FS_ENOMEM ? fs_fail(d, rc, "no memory for the duplicate "
                                     "check") : rc;
}

static int write_batch(fs_enroller *en, size_t n, fs_detail *d)
{
    fs_gallery_batch *b;
    int rc = fs_gallery_begin(en->g, &b, d);
    for (size_t i = 0; rc == FS_OK && i < n; i++) {
        job *j = &en->jobs[i];
        fs_enroll_item *it = j->it;
        if (!j->alive)
            continue;
        fs_mugshot m = { it->subject, it->name, it->booking_number,
                         it->capture_date, it->source_agency,
                         it->lawful_source, j->bytes, j->len, { 0 },
                         { 0 } };
        memcpy(m.sha256, j->sha, 32);
        memcpy(m.tmpl, j->tmpl, sizeof m.tmpl);
        fs_detail pd = { "" };
        int prc = fs_gallery_put(b, &m, &j->put, &pd);
        if (prc == FS_OK) {
            it->status = FS_ENROLLED;
            it->image_id = j->put.image_id;
        } else if (prc == FS_EXISTS) {
            it->status = FS_ENROLL_ALREADY;
            it->image_id = j->put.image_id;
            j->alive = 0;
        } else if (prc == FS_EINVAL) {   /* refused before any write */
            reject(j, prc, pd.msg);
        } else {
            snprintf(d->msg, sizeof d->msg, "%s", pd.msg);
            rc = prc;
        }
    }
    if (rc != FS_OK) {
        if (b)
            fs_gallery_abort(b);
        return rc;
    }
    return fs_gallery_commit(b, d);
}

int fs_enroller_run(fs_enroller *en, fs_enroll_item *items, size_t n,
                    fs_detail *d)
{
    fs_detail scratch;
    if (!d)
        d = &scratch;
    if (n > en->njobs_cap) {
        free(en->jobs);
        free(en->chips);
        free(en->desc);
        free(en->tmpl);
        en->jobs = malloc(n * sizeof *en->jobs);
        en->chips = malloc(n * FS_CHIP_BYTES);
        en->desc = malloc(n * FS_DESC_DIM * sizeof *en->desc);
        en->tmpl = malloc(n * FS_DESC_DIM * sizeof *en->tmpl);
        en->njobs_cap = n;
        if (!en->jobs || !en->chips || !en->desc || !en->tmpl) {
            en->njobs_cap = 0;
            return fs_fail(d, FS_ENOMEM, "no memory for a batch of %zu", n);
        }
    }
    int rc = grow(en, en->n + n);
    if (rc != FS_OK)
        return fs_fail(d, rc, "no memory for %zu more templates", n);
    for (size_t i = 0; i < n; i++) {
        job *j = &en->jobs[i];
        j->it = &items[i];
        j->chip = en->chips + i * FS_CHIP_BYTES;
        j->bytes = NULL;
        j->len = 0;
        j->alive = 1;
        items[i].status = 0;
        items[i].rc = FS_OK;
        items[i].reason[0] = 0;
        items[i].image_id = 0;
        items[i].duplicate_of[0] = 0;
        items[i].duplicate_score = 0;
    }

    run_stage(en, n, 1);
    for (size_t i = 0; i < n; i++) {
        job *j = &en->jobs[i];
        if (!j->alive)
            continue;
        uint64_t id;
        int seen = fs_gallery_find_sha(en->g, j->sha, &id) == FS_OK;
        for (size_t p = 0; !seen && p < i; p++)
            if (en->jobs[p].alive && memcmp(en->jobs[p].sha, j->sha, 32) == 0)
                seen = 1, id = 0;
        if (seen) {
            j->alive = 0;
            j->it->status = FS_ENROLL_ALREADY;
            j->it->image_id = id;
        }
    }
    size_t todo = 0;
    for (size_t i = 0; i < n; i++)
        todo += en->jobs[i].alive;
    if (todo && (rc = fs_engine_front(en->e, d)) != FS_OK)
        return rc;
    run_stage(en, n, 2);

    /* One network batch for every accepted chip, packed in place. */
    size_t nc = 0;
    for (size_t i = 0; i < n; i++)
        if (en->jobs[i].alive && nc++ != i)
            memcpy(en->chips + (nc - 1) * FS_CHIP_BYTES, en->jobs[i].chip,
                   FS_CHIP_BYTES);
    rc = nc ? fs_engine_embed(en->e, en->chips, nc, en->desc, en->tmpl)
            : FS_OK;
    if (rc != FS_OK)
        fs_fail(d, rc, "embedding failed: %s", fs_strerror(rc));
    for (size_t i = 0, c = 0; rc == FS_OK && i < n; i++)
        if (en->jobs[i].alive)
            memcpy(en->jobs[i].tmpl, en->tmpl + c++ * FS_DESC_DIM,
                   sizeof en->jobs[i].tmpl);
    if (rc == FS_OK)
        rc = write_batch(en, n, d);
    if (rc == FS_OK) {
        for (size_t i = 0; i < n; i++)
            if (en->jobs[i].it->status == FS_ENROLLED)
                append(en, en->jobs[i].tmpl, en->jobs[i].put.subject_number);
        rc = check_duplicates(en, n, d);
    }
    for (size_t i = 0; i < n; i++) {
        free(en->jobs[i].bytes);
        en->jobs[i].bytes = NULL;
    }
    return rc;
}
