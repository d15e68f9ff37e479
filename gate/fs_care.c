/*
 * fs_care.c - the gallery's care through the gate (G20, G21): counts,
 * records, removal, consistency, the ranking setting and the write of
 * enrolled mugshots.  Each verb checks who acts and puts the action on
 * the trail, reads before anything is shown, changes in the transaction
 * that holds their entry.
 */
#include "fs_gate_int.h"

#include "../engine/base/fs_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OVERSIGHT (FS_ROLE_ADMIN | FS_ROLE_AUDITOR)

int fs_gate_gallery_stat(fs_gate *g, fs_gallery_stats *st, fs_detail *d)
{
    int rc = gate_require_read(g, OVERSIGHT, "gallery stats", NULL, d);
    return rc == FS_OK ? fs_gallery_stat(g->gal, st, d) : rc;
}

int fs_gate_recipe(fs_gate *g, fs_recipe *out, fs_detail *d)
{
    return fs_gallery_recipe(g->gal, out, d);
}

int gate_engine_fits(fs_gate *g, fs_engine *e, fs_recipe *out, fs_detail *d)
{
    fs_gallery_stats st;
    int rc = fs_gallery_stat(g->gal, &st, d);
    if (rc != FS_OK)
        return rc;
    if (strcmp(st.model_id, fs_engine_model_id(e)) != 0 ||
        strcmp(st.model_sha256, fs_engine_model_sha256(e)) != 0)
        return fs_fail(d, FS_EMODEL, "the gallery's templates come from "
                       "model %s (sha256 %.12s...); this engine runs %s "
                       "(sha256 %.12s...): they are not comparable",
                       st.model_id, st.model_sha256, fs_engine_model_id(e),
                       fs_engine_model_sha256(e));
    const fs_recipe *r = &st.recipe;
    const char *has = fs_engine_second_model_id(e);
    if (r->second_model_id[0] &&
        (strcmp(r->second_model_id, has) != 0 ||
         strcmp(r->second_model_sha256, fs_engine_second_model_sha256(e))))
        return fs_fail(d, FS_EMODEL, "the gallery's recipe re-scores with "
                       "a second model, %s (sha256 %.12s...); this engine "
                       "runs %s%s%.12s%s (it loads %s from beside the "
                       "first model, where 'make models' puts it)",
                       r->second_model_id, r->second_model_sha256,
                       has[0] ? has : "none", has[0] ? " (sha256 " : "",
                       fs_engine_second_model_sha256(e),
                       has[0] ? "...)" : "", FS_FR_MODEL_FILE);
    fs_engine_set_mirror(e, r->mirror);
    if (out)
        *out = *r;
    return FS_OK;
}

int fs_gate_subject_show(fs_gate *g, const char *subject,
                         fs_subject_info *info, fs_image_info *images,
                         size_t max, size_t *n, fs_detail *d)
{
    char objects[FS_SUBJECT_MAX + 16];
    snprintf(objects, sizeof objects, "subject %s", subject);
    int rc = gate_require_read(g, FS_ROLE_ADMIN, "gallery show", objects, d);
    return rc == FS_OK ? fs_gallery_subject(g->gal, subject, info, images,
                                            max, n, d) : rc;
}

/* The subjects the trail says were removed and not enrolled again. */
typedef struct removed_subject {
    char     id[FS_SUBJECT_MAX];
    uint64_t seq;                     /* the removal's entry */
} removed_subject;

typedef struct removed {
    removed_subject *v;
    size_t           n, cap;
} removed;

static size_t removed_find(const removed *r, const char *id)
{
    size_t i = 0;
    while (i < r->n && strcmp(r->v[i].id, id) != 0)
        i++;
    return i;
}

static int follow_removals(void *ctx, const fs_audit_record *e)
{
    removed *r = ctx;
    if (strcmp(e->outcome, "ok") != 0)
        return 0;
    if (strcmp(e->action, "gallery remove") == 0 &&
        strncmp(e->objects, "subject ", 8) == 0) {
        const char *id = e->objects + 8;
        size_t i = removed_find(r, id);
        void *arr = r->v;
        int rc = i < r->n ? FS_OK
                 : gate_room_for_one(&arr, r->n, &r->cap, sizeof *r->v, NULL);
        r->v = arr;
        if (rc != FS_OK)
            return rc;
        snprintf(r->v[i].id, FS_SUBJECT_MAX, "%s", id);
        r->v[i].seq = e->seq;
        r->n += i == r->n;
    } else if (strcmp(e->action, "enroll") == 0 && r->n) {
        /* objects: "subject/image subject/image ..." */
        char one[FS_SUBJECT_MAX];
        for (const char *p = e->objects; *p; ) {
            size_t len = strcspn(p, "/ ");
            if (len < sizeof one) {
                memcpy(one, p, len);
                one[len] = 0;
                size_t i = removed_find(r, one);
                if (i < r->n)            /* enrolled again: may be there */
                    r->v[i] = r->v[--r->n];
            }
            p += len;
            p += strcspn(p, " ");
            p += strspn(p, " ");
        }
    }
    return 0;
}

/* G20, G18: what the trail removed must be absent, so a subject brought
 * back from an older copy of the file shows. */
static int removals_hold(fs_gate *g, fs_detail *d)
{
    removed r = { NULL, 0, 0 };
    int rc = gate_audit_each(g, follow_removals, &r, d);
    if (rc == FS_ENOMEM)
        rc = fs_fail(d, rc, "no memory to follow the removals");
    for (size_t i = 0; rc == FS_OK && i < r.n; i++) {
        fs_subject_info info;
        int src = fs_gallery_subject(g->gal, r.v[i].id, &info, NULL, 0, NULL,
                                     NULL);
        if (src != FS_NOTFOUND)
            rc = fs_fail(d, FS_ETAMPER, "subject '%s' was removed (audit "
                         "entry %llu) but is in the gallery: its records "
                         "were put back from an older copy", r.v[i].id,
                         (unsigned long long)r.v[i].seq);
    }
    free(r.v);
    return rc;
}

/* Every sealed record of the gate opens, every counter is ahead of the
 * records it numbers, and the agencies are all there. */
static int gate_records_hold(fs_gate *g, fs_detail *d)
{
    fs_gallery_batch *b;
    int rc = gate_read(g, &b, d);
    if (rc == FS_OK) {
        rc = gate_sealed_all(g, b, NULL, d);
        uint64_t n;
        if (rc == FS_OK)
            rc = gate_counters_hold(g, b, d);
        if (rc == FS_OK)
            rc = gate_agencies_counted(g, b, &n, d);
        fs_gallery_abort(b);
    }
    return rc;
}

int fs_gate_gallery_verify(fs_gate *g, fs_detail *d)
{
    int rc = gate_require_read(g, OVERSIGHT, "gallery verify", NULL, d);
    if (rc == FS_OK)
        rc = fs_gallery_verify(g->gal, d);
    if (rc == FS_OK)
        rc = gate_records_hold(g, d);
    return rc == FS_OK ? removals_hold(g, d) : rc;
}

typedef struct removal {
    fs_gate              *g;
    const char           *subject;
    const fs_audit_entry *e;
} removal;

static int remove_in(void *ctx, fs_gallery_batch *b, fs_detail *d)
{
    return fs_gallery_remove(b, ((const removal *)ctx)->subject, d);
}

static int remove_alone(void *ctx, fs_detail *d)
{
    const removal *x = ctx;
    return gate_change(x->g, remove_in, ctx, x->e, d);
}

int fs_gate_subject_remove(fs_gate *g, const char *subject,
                           const char *reason, fs_detail *d)
{
    int rc = gate_require(g, FS_ROLE_ADMIN, 0, "gallery remove", d);
    if (rc != FS_OK)
        return rc;
    if (!reason || !*reason)
        return fs_fail(d, FS_EINVAL, "G20: a removal says why (--reason)");
    if ((rc = fs_text_check("removal reason (--reason)", reason,
                            FS_JUSTIFY_MAX - 1, d)) != FS_OK)
        return rc;
    char objects[FS_SUBJECT_MAX + 16];
    snprintf(objects, sizeof objects, "subject %s", subject);
    fs_audit_entry e = { "gallery remove", NULL, reason, objects, "ok" };
    /* Removed means gone from the file: the freed pages that still hold
     * the subject's records go in the compaction that follows. */
    removal x = { g, subject, &e };
    return gate_alone(g, "gallery remove", objects, remove_alone, &x, d);
}

static int rank_in(void *mode, fs_gallery_batch *b, fs_detail *d)
{
    return fs_gallery_set_rank_mode(b, *(int *)mode, d);
}

int fs_gate_set_rank_mode(fs_gate *g, int mode, fs_detail *d)
{
    int rc = gate_require(g, FS_ROLE_ADMIN, 0, "gallery config", d);
    if (rc != FS_OK)
        return rc;
    char objects[32];
    snprintf(objects, sizeof objects, "rank %s",
             mode == FS_RANK_EXACT ? "exact" : "compressed");
    fs_audit_entry e = { "gallery config", NULL, NULL, objects, "ok" };
    return gate_change(g, rank_in, &mode, &e, d);
}

/* ---- the enrolment write ------------------------------------------------ */

typedef struct put_batch {
    fs_gate          *g;
    const fs_mugshot *m;
    size_t            n;
    fs_put_result    *res;
    int              *rcs;            /* per image, or NULL: all or none */
    fs_detail        *why;
    char              objects[1024];
    char              reason[128];
    size_t            added;
    int               parts;          /* entries already written */
} put_batch;

/* The entries name every image the batch adds (G18, G20): when the
 * list outgrows one entry, the full part goes on the trail in the same
 * batch and the list goes on in the next. */
static int name_images(put_batch *p, fs_gallery_batch *b,
                       const fs_mugshot *m, uint64_t id, fs_detail *d)
{
    char one[FS_SUBJECT_MAX + 24];
    snprintf(one, sizeof one, "%s/%llu", m->subject, (unsigned long long)id);
    size_t len = strlen(p->objects);
    if (len + strlen(one) + 2 > sizeof p->objects) {
        char part[48];
        snprintf(part, sizeof part, "part %d of the batch", ++p->parts);
        fs_audit_entry e = { "enroll", NULL, part, p->objects, "ok" };
        int rc = gate_audit(p->g, b, &e, d);
        if (rc != FS_OK)
            return rc;
        len = 0;
    }
    snprintf(p->objects + len, sizeof p->objects - len, "%s%s",
             len ? " " : "", one);
    return FS_OK;
}

/* What the admin wrote about a mugshot, as text (the gallery checks the
 * subject id's alphabet and the lengths; the lawful source is one of
 * three words). */
static int mugshot_text_ok(const fs_mugshot *m, fs_detail *d)
{
    const char *what[] = { "subject's name", "booking number",
                           "capture date", "source agency" };
    const char *v[] = { m->name, m->booking_number, m->capture_date,
                        m->source_agency };
    int rc = FS_OK;
    for (size_t i = 0; rc == FS_OK && i < sizeof v / sizeof v[0]; i++)
        rc = fs_text_check(what[i], v[i], FS_FIELD_MAX - 1, d);
    return rc;
}

static int put_in(void *ctx, fs_gallery_batch *b, fs_detail *d)
{
    put_batch *p = ctx;
    char sources[64] = "";
    for (size_t i = 0; i < p->n; i++) {
        const fs_mugshot *m = &p->m[i];
        fs_put_result r;
        fs_detail *why = p->rcs ? &p->why[i] : d;
        int rc = mugshot_text_ok(m, why);
        if (rc == FS_OK)
            rc = fs_gallery_put(b, m, &r, why);
        if (p->rcs)
            p->rcs[i] = rc;
        if (rc == FS_EINVAL && p->rcs)      /* refused before any write */
            continue;
        if (rc != FS_OK && rc != FS_EXISTS)
            return p->rcs ? fs_fail(d, rc, "%s", p->why[i].msg) : rc;
        if (p->res)
            p->res[i] = r;
        if (rc == FS_EXISTS)
            continue;
        p->added++;
        if ((rc = name_images(p, b, m, r.image_id, d)) != FS_OK)
            return rc;
        const char *src = m->lawful_source ? m->lawful_source : "";
        if (!strstr(sources, src) &&
            strlen(sources) + strlen(src) + 2 < sizeof sources)
            snprintf(sources + strlen(sources),
                     sizeof sources - strlen(sources), "%s%s",
                     sources[0] ? "," : "", src);
    }
    snprintf(p->reason, sizeof p->reason, "%zu image%s enrolled; lawful "
             "source %s%s", p->added, p->added == 1 ? "" : "s", sources,
             p->parts ? "; the last part of the batch" : "");
    return FS_OK;
}

int gate_enroll_put(fs_gate *g, const fs_mugshot *m, size_t n,
                    fs_put_result *res, int *rcs, fs_detail *why,
                    fs_detail *d)
{
    put_batch p = { g, m, n, res, rcs, why, "", "", 0, 0 };
    fs_audit_entry e = { "enroll", NULL, p.reason, p.objects, "ok" };
    return gate_change(g, put_in, &p, &e, d);
}

int fs_gate_enroll_templates(fs_gate *g, const fs_mugshot *m, size_t n,
                             fs_put_result *res, fs_detail *d)
{
    int rc = gate_require(g, FS_ROLE_ADMIN, 0, "enroll", d);
    if (rc != FS_OK)
        return rc;
    for (size_t i = 0; i < n; i++) {
        const char *s = m[i].lawful_source;
        if (!s || (strcmp(s, "booking") && strcmp(s, "arrest") &&
                   strcmp(s, "parole")))
            return fs_fail(d, FS_DENIED, "G20: lawful source '%s' is not a "
                           "mugshot source (booking, arrest or parole)",
                           s ? s : "");
    }
    return gate_enroll_put(g, m, n, res, NULL, NULL, d);
}

/* For the enroller (fs_enroll.c): the gallery to read templates and ids
 * from, once the admin has been checked. */
fs_gallery *gate_gallery(fs_gate *g)
{
    return g->gal;
}
