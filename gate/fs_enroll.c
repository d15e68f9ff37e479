/*
 * fs_enroll.c - enrolment: image files in, gallery records out.
 *
 * A batch goes: checks of what the admin wrote (subject id, lawful
 * source: G20), files read and hashed (fs_engine_read), images already in
 * the gallery or twice in the batch set aside before anything is decoded,
 * templates made under the gallery rule of one dominant face and the
 * gallery's recipe (the mirror, a second model's template of the same
 * face: an image without one is rejected), one gallery commit, and only then each new
 * subject checked against every other subject for a possible duplicate.
 * Nothing here reads anything but the paths the admin named (G12: a probe
 * can only get in by being named).
 *
 * The enroller keeps its own copy of the gallery's templates, grown as
 * batches commit, so the duplicate check never rereads the store.  Not
 * thread-safe: it drives the engine's threads itself.
 */
#include "fs_gate_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

struct fs_enroller {
    fs_engine     *e;
    fs_pool       *pool;
    fs_gate       *gate;
    fs_gallery    *g;
    fs_face_job   *jobs;
    fs_put_result *put;
    float         *tmpl2;             /* njobs_cap second templates, when
                                         the recipe keeps them */
    size_t         njobs_cap;
    fs_recipe      recipe;
    /* every template of the gallery, for the duplicate check */
    float         *vec;
    uint32_t      *subj;
    size_t         n, cap, vec_bytes;
};

static void reject(fs_enroll_item *it, int rc, const char *why)
{
    it->status = FS_ENROLL_REJECTED;
    it->rc = rc;
    snprintf(it->reason, sizeof it->reason, "%s", why);
}

static int lawful_source_ok(const char *s)
{
    return s && (strcmp(s, "booking") == 0 || strcmp(s, "arrest") == 0 ||
                 strcmp(s, "parole") == 0);
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

int fs_enroller_open(fs_engine *e, fs_gate *gate, fs_enroller **out,
                     fs_detail *d)
{
    int rc = gate_require(gate, FS_ROLE_ADMIN, 0, "enroll", d);
    if (rc != FS_OK)
        return rc;
    if (!fs_engine_model_id(e)[0])
        return fs_fail(d, FS_EINVAL, "enrolment needs the model");
    fs_gallery *g = gate_gallery(gate);
    fs_recipe recipe;
    rc = gate_engine_fits(gate, e, &recipe, d);
    if (rc != FS_OK)
        return rc;
    fs_pool *pool;
    rc = fs_engine_pool(e, &pool, d);
    if (rc != FS_OK)
        return rc;
    fs_enroller *en = calloc(1, sizeof *en);
    if (!en)
        return fs_fail(d, FS_ENOMEM, "no memory for enrolment");
    en->e = e;
    en->recipe = recipe;
    en->pool = pool;
    en->gate = gate;
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

int fs_enroller_note(fs_enroller *en, const char *source,
                     const char *summary, fs_detail *d)
{
    fs_audit_entry e = { "enroll", NULL, source, summary, "ok" };
    return gate_note(en->gate, &e, d);
}

void fs_enroller_close(fs_enroller *en)
{
    if (!en)
        return;
    free(en->jobs);
    free(en->put);
    free(en->tmpl2);
    if (en->vec)
        munmap(en->vec, en->vec_bytes);
    free(en->subj);
    free(en);
}

/* Each new subject against every other subject: the best other one, when
 * close enough, is reported as a possible duplicate record. */
static int check_duplicates(fs_enroller *en, fs_enroll_item *items,
                            size_t n, fs_detail *d)
{
    size_t nq = 0;
    for (size_t i = 0; i < n; i++)
        nq += items[i].status == FS_ENROLLED && en->put[i].new_subject;
    if (nq == 0 || en->n < 2)
        return FS_OK;
    float *q = malloc(nq * FS_DESC_DIM * sizeof *q);
    fs_hit *hits = malloc(nq * 2 * sizeof *hits);
    size_t *nhits = malloc(nq * sizeof *nhits), *who = malloc(nq * sizeof *who);
    fs_templates t = { en->vec, en->subj, en->n };
    fs_rank_options ro = { .mode = FS_RANK_EXACT, .isa = -1,
                           .pool = en->pool };
    fs_ranker *r = NULL;
    int rc = q && hits && nhits && who ? FS_OK : FS_ENOMEM;
    if (rc == FS_OK)
        rc = fs_ranker_create(&t, &ro, &r, d);
    if (rc == FS_OK) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (items[i].status == FS_ENROLLED && en->put[i].new_subject) {
                memcpy(q + k * FS_DESC_DIM, en->jobs[i].tmpl,
                       sizeof en->jobs[i].tmpl);
                who[k++] = i;
            }
        rc = fs_rank_topk(r, q, nq, 2, hits, nhits);
    }
    /* hits are distinct subjects: the new one itself, and the best other */
    for (size_t k = 0; rc == FS_OK && k < nq; k++) {
        size_t i = who[k];
        for (size_t h = 0; h < nhits[k]; h++) {
            const fs_hit *hit = &hits[k * 2 + h];
            if (hit->subject == en->put[i].subject_number)
                continue;
            if (hit->score >= FS_DUPLICATE_COSINE &&
                fs_gallery_subject_id(en->g, hit->subject,
                                      items[i].duplicate_of) == FS_OK)
                items[i].duplicate_score = hit->score;
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

/* The batch's possible duplicates on the trail before anyone reads them:
 * the check compares each new face with the whole gallery, so an
 * enrolment could serve as a search with no case (a probe enrolled as a
 * mugshot, its match read, the subject removed); the auditor sees which
 * new subject resembled which (G18). */
static int note_duplicates(fs_enroller *en, const fs_enroll_item *items,
                           size_t n, fs_detail *d)
{
    char objects[1024], one[2 * FS_SUBJECT_MAX + 40];
    size_t len = 0, shown = 0, total = 0;
    for (size_t i = 0; i < n; i++)
        total += items[i].duplicate_of[0] != 0;
    if (total == 0)
        return FS_OK;
    len = (size_t)snprintf(objects, sizeof objects, "possible duplicates:");
    for (size_t i = 0; i < n; i++) {
        if (!items[i].duplicate_of[0])
            continue;
        size_t m = (size_t)snprintf(one, sizeof one, "%s %s ~ %s (%.4f)",
                                    shown ? "," : "", items[i].subject,
                                    items[i].duplicate_of,
                                    items[i].duplicate_score);
        if (len + m + 24 >= sizeof objects)    /* room for "and N more" */
            break;
        memcpy(objects + len, one, m + 1);
        len += m;
        shown++;
    }
    if (shown < total)
        snprintf(objects + len, sizeof objects - len, ", and %zu more",
                 total - shown);
    /* an action of its own: "enroll" entries list subject/image pairs,
     * which the removal check (fs_care.c) reads */
    fs_audit_entry e = { "enroll duplicates", NULL, NULL, objects, "ok" };
    return gate_note(en->gate, &e, d);
}

/* The accepted images, written in one commit with the entry that names
 * them (fs_care.c); an image the gallery refuses before writing is
 * rejected with its reason and the rest go in. */
static int write_batch(fs_enroller *en, fs_enroll_item *items, size_t n,
                       fs_detail *d)
{
    fs_mugshot *m = calloc(n, sizeof *m);
    size_t *at = calloc(n, sizeof *at);
    int *rcs = calloc(n, sizeof *rcs);
    fs_detail *why = calloc(n, sizeof *why);
    fs_put_result *res = calloc(n, sizeof *res);
    size_t k = 0;
    int rc = m && at && rcs && why && res ? FS_OK
             : fs_fail(d, FS_ENOMEM, "no memory for a batch of %zu", n);
    for (size_t i = 0; rc == FS_OK && i < n; i++) {
        const fs_face_job *j = &en->jobs[i];
        const fs_enroll_item *it = &items[i];
        if (it->status)
            continue;
        m[k] = (fs_mugshot){ it->subject, it->name, it->booking_number,
                             it->capture_date, it->source_agency,
                             it->lawful_source, j->bytes, j->len, { 0 },
                             { 0 }, NULL };
        memcpy(m[k].sha256, j->sha256, 32);
        memcpy(m[k].tmpl, j->tmpl, sizeof m[k].tmpl);
        m[k].tmpl2 = j->tmpl2;
        at[k++] = i;
    }
    if (rc == FS_OK && k)
        rc = gate_enroll_put(en->gate, m, k, res, rcs, why, d);
    for (size_t q = 0; rc == FS_OK && q < k; q++) {
        fs_enroll_item *it = &items[at[q]];
        en->put[at[q]] = res[q];
        if (rcs[q] == FS_EINVAL) {
            reject(it, rcs[q], why[q].msg);
            continue;
        }
        it->status = rcs[q] == FS_OK ? FS_ENROLLED : FS_ENROLL_ALREADY;
        it->image_id = res[q].image_id;
    }
    free(m);
    free(at);
    free(rcs);
    free(why);
    free(res);
    return rc;
}

int fs_enroller_run(fs_enroller *en, fs_enroll_item *items, size_t n,
                    fs_detail *d)
{
    fs_detail scratch;
    if (!d)
        d = &scratch;
    int second = en->recipe.second_model_id[0] != 0;
    if (n > en->njobs_cap) {
        free(en->jobs);
        free(en->put);
        free(en->tmpl2);
        en->jobs = calloc(n, sizeof *en->jobs);
        en->put = calloc(n, sizeof *en->put);
        en->tmpl2 = second ? malloc(n * FS_DESC2_DIM * sizeof *en->tmpl2)
                           : NULL;
        en->njobs_cap = n;
        if (!en->jobs || !en->put || (second && !en->tmpl2)) {
            en->njobs_cap = 0;
            return fs_fail(d, FS_ENOMEM, "no memory for a batch of %zu", n);
        }
    }
    int rc = grow(en, en->n + n);
    if (rc != FS_OK)
        return fs_fail(d, rc, "no memory for %zu more templates", n);

    /* what the admin wrote, before any file is touched */
    for (size_t i = 0; i < n; i++) {
        fs_enroll_item *it = &items[i];
        fs_face_job *j = &en->jobs[i];
        memset(j, 0, sizeof *j);
        j->path = it->path;
        j->tmpl2 = second ? en->tmpl2 + i * FS_DESC2_DIM : NULL;
        it->status = 0;
        it->rc = FS_OK;
        it->reason[0] = it->duplicate_of[0] = 0;
        it->image_id = 0;
        it->duplicate_score = 0;
        fs_detail id = { "" };
        if (fs_gallery_check_subject_id(it->subject, &id) != FS_OK) {
            reject(it, FS_EINVAL, id.msg);
        } else if (!lawful_source_ok(it->lawful_source)) {
            snprintf(id.msg, sizeof id.msg, "lawful source '%s' is not a "
                     "mugshot source (G20: booking, arrest or parole)",
                     it->lawful_source ? it->lawful_source : "");
            reject(it, FS_DENIED, id.msg);
        }
        j->skip = it->status != 0;
    }
    rc = fs_engine_read(en->e, en->jobs, n, d);

    /* images already in, or twice in this batch, go no further */
    for (size_t i = 0; rc == FS_OK && i < n; i++) {
        fs_face_job *j = &en->jobs[i];
        if (j->skip)
            continue;
        if (j->rc != FS_OK) {
            reject(&items[i], j->rc, j->reason);
            j->skip = 1;
            continue;
        }
        uint64_t id = 0;
        int seen = fs_gallery_find_sha(en->g, j->sha256, &id) == FS_OK;
        for (size_t p = 0; !seen && p < i; p++)
            seen = !en->jobs[p].skip &&
                   memcmp(en->jobs[p].sha256, j->sha256, 32) == 0;
        if (seen) {
            items[i].status = FS_ENROLL_ALREADY;
            items[i].image_id = id;
            j->skip = 1;
        }
    }
    if (rc == FS_OK)
        rc = fs_engine_templates(en->e, en->jobs, n, FS_FACE_DOMINANT, d);
    for (size_t i = 0; rc == FS_OK && i < n; i++)
        if (!en->jobs[i].skip && en->jobs[i].rc != FS_OK)
            reject(&items[i], en->jobs[i].rc, en->jobs[i].reason);
        else if (!en->jobs[i].skip && second && !en->jobs[i].has2)
            reject(&items[i], FS_EINVAL, "the second model's chip of the "
                   "face cannot be cut (the gallery's recipe keeps a "
                   "second template of every image)");
    if (rc == FS_OK)
        rc = write_batch(en, items, n, d);
    if (rc == FS_OK) {
        for (size_t i = 0; i < n; i++)
            if (items[i].status == FS_ENROLLED)
                append(en, en->jobs[i].tmpl, en->put[i].subject_number);
        rc = check_duplicates(en, items, n, d);
        if (rc == FS_OK)
            rc = note_duplicates(en, items, n, d);
    }
    fs_face_jobs_release(en->jobs, n);
    return rc;
}
