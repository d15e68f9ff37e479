/*
 * fs_care.c - the gallery's care through the gate (G20, G21): counts,
 * records, removal, consistency, the ranking setting and the write of
 * enrolled mugshots.  Each verb checks who acts and puts the action on
 * the trail, reads before anything is shown, changes in the transaction
 * that holds their entry.
 */
#include "fs_gate_int.h"

#include <stdio.h>
#include <string.h>

#define OVERSIGHT (FS_ROLE_ADMIN | FS_ROLE_AUDITOR)

int fs_gate_gallery_stat(fs_gate *g, fs_gallery_stats *st, fs_detail *d)
{
    int rc = gate_require_read(g, OVERSIGHT, "gallery stats", NULL, d);
    return rc == FS_OK ? fs_gallery_stat(g->gal, st, d) : rc;
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

int fs_gate_gallery_verify(fs_gate *g, fs_detail *d)
{
    int rc = gate_require_read(g, OVERSIGHT, "gallery verify", NULL, d);
    return rc == FS_OK ? fs_gallery_verify(g->gal, d) : rc;
}

static int remove_in(void *subject, fs_gallery_batch *b, fs_detail *d)
{
    return fs_gallery_remove(b, subject, d);
}

int fs_gate_subject_remove(fs_gate *g, const char *subject,
                           const char *reason, fs_detail *d)
{
    int rc = gate_require(g, FS_ROLE_ADMIN, 0, "gallery remove", d);
    if (rc != FS_OK)
        return rc;
    if (!reason || !*reason)
        return fs_fail(d, FS_EINVAL, "G20: a removal says why (--reason)");
    char objects[FS_SUBJECT_MAX + 16];
    snprintf(objects, sizeof objects, "subject %s", subject);
    fs_audit_entry e = { "gallery remove", NULL, reason, objects, "ok" };
    return gate_change(g, remove_in, (void *)subject, &e, d);
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
    const fs_mugshot *m;
    size_t            n;
    fs_put_result    *res;
    int              *rcs;            /* per image, or NULL: all or none */
    fs_detail        *why;
    char              objects[1024];
    char              reason[128];
    size_t            added;
} put_batch;

/* The entry names every image the batch adds (G18, G20), as many as it
 * holds; the count and sources say the rest. */
static void name_images(put_batch *p, const fs_mugshot *m, uint64_t id)
{
    size_t len = strlen(p->objects);
    if (len + FS_SUBJECT_MAX + 24 >= sizeof p->objects) {
        if (!strstr(p->objects, " ..."))
            snprintf(p->objects + len, sizeof p->objects - len, " ...");
        return;
    }
    snprintf(p->objects + len, sizeof p->objects - len, "%s%s/%llu",
             len ? " " : "", m->subject, (unsigned long long)id);
}

static int put_in(void *ctx, fs_gallery_batch *b, fs_detail *d)
{
    put_batch *p = ctx;
    char sources[64] = "";
    for (size_t i = 0; i < p->n; i++) {
        const fs_mugshot *m = &p->m[i];
        fs_put_result r;
        int rc = fs_gallery_put(b, m, &r, p->rcs ? &p->why[i] : d);
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
        name_images(p, m, r.image_id);
        const char *src = m->lawful_source ? m->lawful_source : "";
        if (!strstr(sources, src) &&
            strlen(sources) + strlen(src) + 2 < sizeof sources)
            snprintf(sources + strlen(sources),
                     sizeof sources - strlen(sources), "%s%s",
                     sources[0] ? "," : "", src);
    }
    snprintf(p->reason, sizeof p->reason, "%zu image%s enrolled; lawful "
             "source %s", p->added, p->added == 1 ? "" : "s", sources);
    return FS_OK;
}

int gate_enroll_put(fs_gate *g, const fs_mugshot *m, size_t n,
                    fs_put_result *res, int *rcs, fs_detail *why,
                    fs_detail *d)
{
    put_batch p = { m, n, res, rcs, why, "", "", 0 };
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
