/*
 * fs_report.c - what a request's searches come to (G15-G17): the reports
 * an examiner issues, every release of one to someone outside, and the
 * requester's final word on whether the lead led anywhere.
 *
 * A report is a record of what was said, so it is kept as issued, sealed
 * in GT_REPORTS: the request as it stood, the lead with every sign-off
 * (a possible-match report), the quality reasons (an image rejection),
 * and the disclaimer of the profile then in force (G11).  A later change
 * of profile or request does not rewrite what was sent.  There is one
 * report per lead, one no-match report per request and one rejection
 * report per rejected search (a request may reject several images, each
 * answered); asking again shows the one issued, on the trail as a read.
 *
 * A lead report needs every sign-off its profile asks for (G14); a
 * no-match report needs a released list and no lead approved or still in
 * review, so the requester is not told "nothing" while a candidate is
 * being compared (G15).  Releases (G16) are sealed in GT_RELEASES, each
 * with recipient, manner and the number, address or witness, and counted
 * on the report.  The outcome (G17) is written once on the request.
 */
#include "fs_gate_int.h"

#include "../engine/base/fs_text.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REPORT_VERSION  1
#define RELEASE_VERSION 1

#define ANY_ROLE (FS_ROLE_ADMIN | FS_ROLE_EXAMINER | FS_ROLE_SUPERVISOR | \
                  FS_ROLE_REQUESTER | FS_ROLE_AUDITOR)

/* A walk's "found it, stop": above every FS_* code, which are <= 0. */
#define FOUND 1

static const char *const kind_names[] = { "?", "lead", "no-match",
                                          "rejection" };
static const char *const manner_names[] = { "?", "email", "phone",
                                            "in-person" };

int fs_report_kind_parse(const char *s, int *kind)
{
    for (int i = FS_REPORT_LEAD; i <= FS_REPORT_REJECTION; i++)
        if (s && strcmp(s, kind_names[i]) == 0) {
            *kind = i;
            return FS_OK;
        }
    return FS_EINVAL;
}

const char *fs_report_kind_name(int kind)
{
    return kind >= FS_REPORT_LEAD && kind <= FS_REPORT_REJECTION
           ? kind_names[kind] : "?";
}

const char *fs_manner_name(int manner)
{
    return manner >= FS_MANNER_EMAIL && manner <= FS_MANNER_IN_PERSON
           ? manner_names[manner] : "?";
}

/* ---- records ------------------------------------------------------------- */

/* A record packed inside another (the request and the lead a report
 * keeps as they stood): its length, then its bytes as stored. */
static void nested_pack(fs_wbuf *w, const void *x,
                        void (*pack)(fs_wbuf *w, const void *x))
{
    fs_wbuf in = { 0 };
    pack(&in, x);
    w->oom |= in.oom;
    fs_wbuf_u64(w, in.len);
    fs_wbuf_put(w, in.p, in.len);
    fs_wbuf_free(&in);
}

static int nested_unpack(fs_rbuf *b, void *x,
                         int (*unpack)(const uint8_t *p, size_t len, void *x))
{
    uint64_t n = fs_rbuf_u64(b);
    if (b->bad || n > b->len - b->off ||
        unpack(b->p + b->off, (size_t)n, x) != FS_OK)
        return b->bad = 1, FS_ETAMPER;
    b->off += (size_t)n;
    return FS_OK;
}

static void pack_request(fs_wbuf *w, const void *x)
{
    gate_request_pack(w, x);
}

static void pack_lead(fs_wbuf *w, const void *x)
{
    gate_lead_pack(w, x);
}

static int unpack_request(const uint8_t *p, size_t len, void *x)
{
    return gate_request_unpack(p, len, x);
}

static int unpack_lead(const uint8_t *p, size_t len, void *x)
{
    return gate_lead_unpack(p, len, x);
}

static void report_pack(fs_wbuf *w, const fs_report *r)
{
    fs_wbuf_u64(w, REPORT_VERSION);
    fs_wbuf_str(w, r->id);
    fs_wbuf_u64(w, (uint64_t)r->kind);
    nested_pack(w, &r->request, pack_request);
    nested_pack(w, &r->lead, pack_lead);    /* zero but for a lead report */
    const char *s[] = { r->search, r->reasons, r->disclaimer, r->issued_by };
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
        fs_wbuf_str(w, s[i]);
    fs_wbuf_u64(w, (uint64_t)r->issued);
    fs_wbuf_u64(w, r->releases);
}

static int report_unpack(const uint8_t *v, size_t len, fs_report *r)
{
    fs_rbuf b = { v, len, 0, 0 };
    memset(r, 0, sizeof *r);
    uint64_t version = fs_rbuf_u64(&b);
    fs_rbuf_str(&b, r->id, sizeof r->id);
    r->kind = (int)fs_rbuf_u64(&b);
    if (nested_unpack(&b, &r->request, unpack_request) != FS_OK ||
        nested_unpack(&b, &r->lead, unpack_lead) != FS_OK)
        return FS_ETAMPER;
    struct { char *dst; size_t cap; } s[] = {
        { r->search, sizeof r->search }, { r->reasons, sizeof r->reasons },
        { r->disclaimer, sizeof r->disclaimer },
        { r->issued_by, sizeof r->issued_by },
    };
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
        fs_rbuf_str(&b, s[i].dst, s[i].cap);
    r->issued = (int64_t)fs_rbuf_u64(&b);
    r->releases = (uint32_t)fs_rbuf_u64(&b);
    return b.bad || b.off != len || version != REPORT_VERSION ||
           !strcmp(fs_report_kind_name(r->kind), "?") ? FS_ETAMPER : FS_OK;
}

static int report_get(fs_gate *g, fs_gallery_batch *b, const char *id,
                      fs_report *r, fs_detail *d)
{
    uint64_t seq;
    uint8_t key[8];
    /* gate_id_parse names requests and searches; a report is named here */
    if (gate_id_parse(id, 'P', &seq, NULL) != FS_OK)
        return fs_fail(d, FS_NOTFOUND, "no report '%.20s' (ids look like "
                       "P12)", id);
    gate_seq_key(seq, key);
    uint8_t *v;
    size_t len;
    int rc = gate_sealed_get(g, b, GT_REPORTS, key, 8, &v, &len, d);
    if (rc == FS_NOTFOUND)
        return fs_fail(d, rc, "no report '%s'", id);
    if (rc != FS_OK)
        return rc;
    rc = report_unpack(v, len, r);
    fs_wipe(v, len);
    free(v);
    if (rc == FS_OK && strcmp(r->id, id) != 0)
        rc = FS_ETAMPER;
    return rc == FS_OK ? rc : fs_fail(d, rc, "the record of report '%s' is "
                                      "damaged", id);
}

static int seq_put(fs_gate *g, fs_gallery_batch *b, unsigned table,
                   const char *id, char prefix, const fs_wbuf *w,
                   fs_detail *d)
{
    uint64_t seq;
    uint8_t key[8];
    int rc = gate_id_parse(id, prefix, &seq, d);
    if (rc != FS_OK)
        return rc;
    gate_seq_key(seq, key);
    return w->oom ? fs_fail(d, FS_ENOMEM, "no memory for record %s", id)
                  : gate_sealed_put(g, b, table, key, 8, w->p, w->len, d);
}

static int report_put(fs_gate *g, fs_gallery_batch *b, const fs_report *r,
                      fs_detail *d)
{
    fs_wbuf w = { 0 };
    report_pack(&w, r);
    int rc = seq_put(g, b, GT_REPORTS, r->id, 'P', &w, d);
    fs_wbuf_free(&w);
    return rc;
}

static void release_pack(fs_wbuf *w, const fs_release *r)
{
    fs_wbuf_u64(w, RELEASE_VERSION);
    const char *s[] = { r->id, r->report, r->request, r->to, r->detail,
                        r->by };
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
        fs_wbuf_str(w, s[i]);
    fs_wbuf_u64(w, (uint64_t)r->manner);
    fs_wbuf_u64(w, (uint64_t)r->time);
}

static int release_unpack(const uint8_t *v, size_t len, fs_release *r)
{
    fs_rbuf b = { v, len, 0, 0 };
    memset(r, 0, sizeof *r);
    uint64_t version = fs_rbuf_u64(&b);
    struct { char *dst; size_t cap; } s[] = {
        { r->id, sizeof r->id }, { r->report, sizeof r->report },
        { r->request, sizeof r->request }, { r->to, sizeof r->to },
        { r->detail, sizeof r->detail }, { r->by, sizeof r->by },
    };
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
        fs_rbuf_str(&b, s[i].dst, s[i].cap);
    r->manner = (int)fs_rbuf_u64(&b);
    r->time = (int64_t)fs_rbuf_u64(&b);
    return b.bad || b.off != len || version != RELEASE_VERSION ||
           !strcmp(fs_manner_name(r->manner), "?") ? FS_ETAMPER : FS_OK;
}

/* ---- walks ----------------------------------------------------------------- */

typedef struct each_report {
    int (*fn)(void *ctx, const fs_report *r);
    void *ctx;
} each_report;

static int report_of_walk(void *ctx, const fs_record *rec, const uint8_t *v,
                          size_t len, fs_detail *d)
{
    each_report *e = ctx;
    fs_report *r = malloc(sizeof *r);        /* 20 KB: not on a walk's stack */
    if (!r)
        return fs_fail(d, FS_ENOMEM, "no memory for a report");
    int rc = report_unpack(v, len, r);
    if (rc != FS_OK)
        rc = fs_fail(d, FS_ETAMPER, "report record %llu is damaged",
                     (unsigned long long)gate_seq_of(rec->key));
    else
        rc = e->fn(e->ctx, r);
    fs_wipe(r, sizeof *r);
    free(r);
    return rc;
}

int gate_reports_each(fs_gate *g, fs_gallery_batch *b,
                      int (*fn)(void *ctx, const fs_report *r), void *ctx,
                      fs_detail *d)
{
    each_report e = { fn, ctx };
    return gate_walk_sealed(g, b, GT_REPORTS, NULL, report_of_walk, &e, d);
}

typedef struct each_release {
    int (*fn)(void *ctx, const fs_release *r);
    void *ctx;
} each_release;

static int release_of_walk(void *ctx, const fs_record *rec,
                           const uint8_t *v, size_t len, fs_detail *d)
{
    each_release *e = ctx;
    fs_release r;
    if (release_unpack(v, len, &r) != FS_OK)
        return fs_fail(d, FS_ETAMPER, "release record %llu is damaged",
                       (unsigned long long)gate_seq_of(rec->key));
    return e->fn(e->ctx, &r);
}

int gate_releases_each(fs_gate *g, fs_gallery_batch *b,
                       int (*fn)(void *ctx, const fs_release *r),
                       void *ctx, fs_detail *d)
{
    each_release e = { fn, ctx };
    return gate_walk_sealed(g, b, GT_RELEASES, NULL, release_of_walk, &e,
                            d);
}

/* The report already issued of kind for what it answers: the lead, the
 * request (no-match) or the rejected search. */
typedef struct issued_find {
    int         kind;
    const char *ref;
    char        id[FS_ID_MAX];
} issued_find;

static int issued_match(void *ctx, const fs_report *r)
{
    issued_find *f = ctx;
    const char *of = f->kind == FS_REPORT_LEAD ? r->lead.id
                     : f->kind == FS_REPORT_NO_MATCH ? r->request.id
                     : r->search;
    if (r->kind != f->kind || strcmp(of, f->ref) != 0)
        return FS_OK;
    memcpy(f->id, r->id, FS_ID_MAX);
    return FOUND;
}

/* The request's latest image rejection (G13): its search id and reasons. */
typedef struct rejected_find {
    const char *request;
    char        search[FS_ID_MAX];
    char        reasons[256];
} rejected_find;

static int rejected_match(void *ctx, const fs_record *rec, const uint8_t *v,
                          size_t len, fs_detail *d)
{
    rejected_find *f = ctx;
    gate_search *s;
    int rc = gate_search_unpack(rec, v, len, &s, d);
    if (rc != FS_OK)
        return rc;
    if (!s->released && strcmp(s->request, f->request) == 0) {
        memcpy(f->search, s->id, FS_ID_MAX);
        snprintf(f->reasons, sizeof f->reasons, "%s", s->reasons);
    }
    gate_search_free(s);
    return FS_OK;
}

/* ---- issuing (G14, G15) ------------------------------------------------------ */

/* What a lead lacks before it can be reported, as the refusal says it. */
static int lead_incomplete(const fs_lead *l, fs_detail *d)
{
    if (l->state == FS_LEAD_REJECTED)
        return fs_fail(d, FS_DENIED, "G14: lead %s was rejected by a "
                       "supervisor: a rejected lead is not reported", l->id);
    char needs[128];
    fs_lead_needs(l, needs, sizeof needs);
    return fs_fail(d, FS_DENIED, "G14: lead %s still %s: a possible-match "
                   "report waits for every sign-off its profile requires "
                   "(G15)", l->id, needs);
}

typedef struct issuing {
    fs_gate    *g;
    int         kind;
    const char *ref;
    fs_report  *r;                    /* built here */
    char        action[32];
    char        objects[192];
    char        case_no[FS_FIELD_MAX];
    char        justification[FS_JUSTIFY_MAX];
} issuing;

/* What the report answers, read and checked in the batch: the lead and
 * its request, or the request (and its latest rejected search). */
static int issue_subject(issuing *x, fs_gallery_batch *b, fs_detail *d)
{
    fs_gate *g = x->g;
    fs_report *r = x->r;
    int rc;
    if (x->kind == FS_REPORT_LEAD) {
        if ((rc = gate_lead_get(g, b, x->ref, &r->lead, d)) != FS_OK ||
            (rc = gate_request_get(g, b, r->lead.request, &r->request, d))
            != FS_OK)
            return rc;
        snprintf(x->objects, sizeof x->objects, "lead %s, request %s",
                 r->lead.id, r->request.id);
        memcpy(r->search, r->lead.search, FS_ID_MAX);
        return fs_lead_complete(&r->lead) ? FS_OK
                                          : lead_incomplete(&r->lead, d);
    }
    if ((rc = gate_request_get(g, b, x->ref, &r->request, d)) != FS_OK)
        return rc;
    const fs_request *q = &r->request;
    snprintf(x->objects, sizeof x->objects, "request %s", q->id);
    if (x->kind == FS_REPORT_REJECTION) {
        if (!q->rejections)
            return fs_fail(d, FS_DENIED, "G13: request %s has no image "
                           "rejection to report", q->id);
        rejected_find f = { q->id, "", "" };
        rc = gate_walk_sealed(g, b, GT_SEARCHES, NULL, rejected_match, &f,
                              d);
        if (rc == FS_OK && !f.search[0])
            rc = fs_fail(d, FS_ETAMPER, "request %s counts %u image "
                         "rejection%s but none is stored", q->id,
                         q->rejections, q->rejections == 1 ? "" : "s");
        if (rc != FS_OK)
            return rc;
        memcpy(r->search, f.search, FS_ID_MAX);
        snprintf(r->reasons, sizeof r->reasons, "%s", f.reasons);
        snprintf(x->objects, sizeof x->objects, "request %s, search %s",
                 q->id, r->search);
        return FS_OK;
    }
    if (!q->searches)
        return fs_fail(d, FS_DENIED, "G15: request %s has no released "
                       "search: a no-match report answers a search that "
                       "was made", q->id);
    unsigned proposed = 0, approved = 0;
    if ((rc = gate_leads_of(g, b, q->id, &proposed, &approved, d)) != FS_OK)
        return rc;
    if (approved)
        return fs_fail(d, FS_DENIED, "G15: request %s has an approved lead: "
                       "its report is a possible-match report (report "
                       "lead)", q->id);
    if (proposed)
        return fs_fail(d, FS_DENIED, "G14: a lead of request %s is still in "
                       "review: no no-match report until it is approved or "
                       "rejected", q->id);
    return FS_OK;
}

static int issue_in(void *ctx, fs_gallery_batch *b, fs_detail *d)
{
    issuing *x = ctx;
    fs_gate *g = x->g;
    fs_report *r = x->r;
    int rc = issue_subject(x, b, d);
    snprintf(x->case_no, sizeof x->case_no, "%s", r->request.case_no);
    snprintf(x->justification, sizeof x->justification, "%s",
             r->request.justification);
    if (rc != FS_OK)
        return rc;
    issued_find f = { x->kind, x->kind == FS_REPORT_LEAD ? r->lead.id
                      : x->kind == FS_REPORT_NO_MATCH ? r->request.id
                      : r->search, "" };
    rc = gate_reports_each(g, b, issued_match, &f, d);
    char objects[sizeof x->objects];
    memcpy(objects, x->objects, sizeof objects);
    if (rc == FOUND) {                  /* issued already: shown again */
        memcpy(r->id, f.id, FS_ID_MAX);
        snprintf(x->action, sizeof x->action, "report show");
        snprintf(x->objects, sizeof x->objects, "report %s (issued "
                 "already), %s", r->id, objects);
        return FS_OK;
    }
    uint64_t seq;
    if (rc != FS_OK ||
        (rc = gate_next_seq(g, b, GT_REPORTS, &seq, d)) != FS_OK)
        return rc;
    gate_id_format('P', seq, r->id);
    r->kind = x->kind;
    snprintf(r->disclaimer, sizeof r->disclaimer, "%s",
             g->profile.disclaimer);
    snprintf(r->issued_by, sizeof r->issued_by, "%s", g->who.name);
    r->issued = (int64_t)time(NULL);
    snprintf(x->objects, sizeof x->objects, "report %s, %s", r->id,
             objects);
    return report_put(g, b, r, d);
}

int fs_report_issue(fs_gate *g, int kind, const char *ref,
                    char id[FS_ID_MAX], fs_detail *d)
{
    if (kind < FS_REPORT_LEAD || kind > FS_REPORT_REJECTION)
        return fs_fail(d, FS_EINVAL, "a report is lead, no-match or "
                       "rejection");
    issuing x;
    memset(&x, 0, sizeof x);
    snprintf(x.action, sizeof x.action, "report %s",
             fs_report_kind_name(kind));
    int rc = gate_require(g, FS_ROLE_EXAMINER | FS_ROLE_SUPERVISOR, 1,
                          x.action, d);
    if (rc != FS_OK)
        return rc;
    if (!ref || !*ref)
        return fs_fail(d, FS_EINVAL, "report %s needs the %s it answers",
                       fs_report_kind_name(kind),
                       kind == FS_REPORT_LEAD ? "lead" : "request");
    if (!(x.r = calloc(1, sizeof *x.r)))
        return fs_fail(d, FS_ENOMEM, "no memory for a report");
    x.g = g;
    x.kind = kind;
    x.ref = ref;
    snprintf(x.objects, sizeof x.objects, "%s %.15s",
             kind == FS_REPORT_LEAD ? "lead" : "request", ref);
    fs_audit_entry e = { x.action, x.case_no, x.justification, x.objects,
                         "ok" };
    rc = gate_change(g, issue_in, &x, &e, d);
    if (rc == FS_OK)
        memcpy(id, x.r->id, FS_ID_MAX);
    fs_wipe(x.r, sizeof *x.r);
    free(x.r);
    return rc;
}

/* ---- reading ------------------------------------------------------------------- */

/* A report in a read view, as the session's user may see it: a requester
 * who holds no other role sees only their own requests' reports. */
static int report_read(fs_gate *g, fs_gallery_batch *b, const char *id,
                       fs_report *r, fs_detail *d)
{
    int rc = report_get(g, b, id, r, d);
    if (rc == FS_OK && !gate_request_visible(g, &r->request))
        rc = fs_fail(d, FS_NOTFOUND, "no report '%s'", id);
    return rc;
}

static int report_view(fs_gate *g, const char *action, const char *id,
                       fs_report *r, fs_gallery_batch **view, fs_detail *d)
{
    char objects[FS_ID_MAX + 16];
    snprintf(objects, sizeof objects, "report %.15s", id ? id : "");
    int rc = gate_require_read(g, ANY_ROLE, action, objects, d);
    if (rc != FS_OK || (rc = gate_read(g, view, d)) != FS_OK)
        return rc;
    if ((rc = report_read(g, *view, id ? id : "", r, d)) != FS_OK)
        fs_gallery_abort(*view);
    return rc;
}

int fs_report_get(fs_gate *g, const char *id, fs_report *r, fs_detail *d)
{
    fs_gallery_batch *b;
    int rc = report_view(g, "report show", id, r, &b, d);
    if (rc == FS_OK)
        fs_gallery_abort(b);
    return rc;
}

/* The subject's first stored image; none (NULL) when the subject has
 * left the gallery since (G20): the report still stands. */
static int mugshot_of(fs_gate *g, const char *subject, uint8_t **bytes,
                      size_t *len, fs_detail *d)
{
    fs_subject_info info;
    fs_image_info image;
    size_t n = 0;
    int rc = fs_gallery_subject(gate_gallery(g), subject, &info, &image, 1,
                                &n, d);
    if (rc == FS_NOTFOUND || (rc == FS_OK && n == 0))
        return FS_OK;
    return rc == FS_OK ? fs_gallery_image(gate_gallery(g), image.id, bytes,
                                          len, d) : rc;
}

int fs_report_images(fs_gate *g, const char *id, uint8_t **probe,
                     size_t *probe_len, uint8_t **mugshot,
                     size_t *mugshot_len, fs_detail *d)
{
    *probe = *mugshot = NULL;
    *probe_len = *mugshot_len = 0;
    fs_report *r = malloc(sizeof *r);
    if (!r)
        return fs_fail(d, FS_ENOMEM, "no memory for a report");
    fs_gallery_batch *b;
    int rc = report_view(g, "report images", id, r, &b, d);
    int viewed = rc == FS_OK;
    if (viewed) {
        gate_search *s = NULL;
        if (r->search[0] && (rc = gate_search_get(g, b, r->search, &s, d))
            == FS_OK)
            rc = gate_probe_get(g, b, s, probe, probe_len, d);
        gate_search_free(s);
        fs_gallery_abort(b);
    }
    /* a purged probe (FS_NOTFOUND, said in d) still leaves the mugshot
     * to show beside its placeholder */
    if (viewed && (rc == FS_OK || rc == FS_NOTFOUND) &&
        r->kind == FS_REPORT_LEAD) {
        fs_detail md = { "" };
        int mrc = mugshot_of(g, r->lead.subject, mugshot, mugshot_len, &md);
        if (mrc != FS_OK) {
            rc = mrc;
            *d = md;
        }
    }
    if (rc != FS_OK && *probe) {
        fs_wipe(*probe, *probe_len);
        free(*probe);
        *probe = NULL;
        *probe_len = 0;
    }
    fs_wipe(r, sizeof *r);
    free(r);
    return rc;
}

/* ---- dissemination (G16) -------------------------------------------------------- */

static int email_ok(const char *s)
{
    const char *at = strchr(s, '@');
    if (!at || at == s || strchr(at + 1, '@'))
        return 0;
    const char *dot = strrchr(at, '.');
    if (!dot || dot == at + 1 || !dot[1] || strstr(at, ".."))
        return 0;
    for (const char *c = s; *c; c++)
        if (!isalnum((unsigned char)*c) && !strchr("@.-_+'", *c))
            return 0;
    return 1;
}

static int phone_ok(const char *s)
{
    int digits = 0;
    for (const char *c = s; *c; c++) {
        if (!isdigit((unsigned char)*c) && !strchr(" +-()", *c))
            return 0;
        digits += isdigit((unsigned char)*c) != 0;
    }
    return digits >= 7;
}

/* A person's name: letters (any script), spaces, . ' -, two letters at
 * least; no digits, so a number or an address is not taken for one. */
static int person_ok(const char *s)
{
    int letters = 0;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (!isalpha(*c) && *c < 0x80 && !strchr(" .'-", *c))
            return 0;
        letters += isalpha(*c) || *c >= 0x80;
    }
    return letters >= 2;
}

int fs_manner_parse(const char *s, int *manner, char *detail, size_t cap,
                    fs_detail *d)
{
    static const char forms[] = "email:ADDRESS, phone:NUMBER or "
                                "in-person:WITNESS";
    if (!s || !*s)
        return fs_fail(d, FS_EINVAL, "G16: a release says how it was made "
                       "(--manner %s)", forms);
    const char *colon = strchr(s, ':');
    size_t klen = colon ? (size_t)(colon - s) : strlen(s);
    int m = 0;
    for (int i = FS_MANNER_EMAIL; i <= FS_MANNER_IN_PERSON; i++)
        if (strlen(manner_names[i]) == klen &&
            strncmp(s, manner_names[i], klen) == 0)
            m = i;
    if (!m)
        return fs_fail(d, FS_EINVAL, "G16: manner '%.*s' is not one of %s",
                       (int)(klen > 32 ? 32 : klen), s, forms);
    static const char *const what[] = { "", "an e-mail address",
                                        "a phone number",
                                        "the name of the witness" };
    static const char *const field[] = { "", "e-mail address (--manner)",
                                         "phone number (--manner)",
                                         "witness (--manner)" };
    const char *v = colon ? colon + 1 : "";
    if (!*v)
        return fs_fail(d, FS_EINVAL, "G16: manner %s needs %s after '%s:'",
                       manner_names[m], what[m], manner_names[m]);
    size_t max = cap < FS_FIELD_MAX ? cap - 1 : FS_FIELD_MAX - 1;
    int rc = fs_text_check(field[m], v, max, d);
    if (rc != FS_OK)
        return rc;
    if (m == FS_MANNER_EMAIL && !email_ok(v))
        return fs_fail(d, FS_EINVAL, "G16: '%s' is not an e-mail address "
                       "(name@domain.tld)", v);
    if (m == FS_MANNER_PHONE && !phone_ok(v))
        return fs_fail(d, FS_EINVAL, "G16: '%s' is not a phone number "
                       "(digits, spaces and + - ( ), at least 7 digits)", v);
    if (m == FS_MANNER_IN_PERSON && !person_ok(v))
        return fs_fail(d, FS_EINVAL, "G16: '%s' is not a person's name: an "
                       "in-person release names its witness (letters, "
                       "spaces, . ' -)", v);
    *manner = m;
    snprintf(detail, cap, "%s", v);
    return FS_OK;
}

typedef struct releasing {
    fs_gate    *g;
    const char *report;
    fs_release  rel;
    char        objects[FS_FIELD_MAX * 2 + 96];
    char        case_no[FS_FIELD_MAX];
} releasing;

static int release_in(void *ctx, fs_gallery_batch *b, fs_detail *d)
{
    releasing *x = ctx;
    fs_gate *g = x->g;
    fs_release *rel = &x->rel;
    fs_report *r = malloc(sizeof *r);
    if (!r)
        return fs_fail(d, FS_ENOMEM, "no memory for a report");
    uint64_t seq;
    int rc = report_get(g, b, x->report, r, d);
    if (rc == FS_OK)
        rc = gate_next_seq(g, b, GT_RELEASES, &seq, d);
    if (rc == FS_OK) {
        gate_id_format('D', seq, rel->id);
        memcpy(rel->report, r->id, FS_ID_MAX);
        memcpy(rel->request, r->request.id, FS_ID_MAX);
        snprintf(rel->by, sizeof rel->by, "%s", g->who.name);
        rel->time = (int64_t)time(NULL);
        snprintf(x->case_no, sizeof x->case_no, "%s", r->request.case_no);
        snprintf(x->objects, sizeof x->objects, "release %s, report %s, "
                 "request %s, to %s, by %s %s", rel->id, r->id,
                 r->request.id, rel->to, fs_manner_name(rel->manner),
                 rel->detail);
        fs_wbuf w = { 0 };
        release_pack(&w, rel);
        rc = seq_put(g, b, GT_RELEASES, rel->id, 'D', &w, d);
        fs_wbuf_free(&w);
    }
    if (rc == FS_OK) {
        r->releases++;
        rc = report_put(g, b, r, d);
    }
    fs_wipe(r, sizeof *r);
    free(r);
    return rc;
}

int fs_report_disseminate(fs_gate *g, const char *report, const char *to,
                          const char *manner, char id[FS_ID_MAX],
                          fs_detail *d)
{
    int rc = gate_require(g, FS_ROLE_EXAMINER | FS_ROLE_SUPERVISOR, 0,
                          "disseminate", d);
    if (rc != FS_OK)
        return rc;
    releasing x;
    memset(&x, 0, sizeof x);
    x.g = g;
    x.report = report ? report : "";
    size_t tlen = to ? strlen(to) : 0;
    if (tlen < 2 || tlen >= sizeof x.rel.to)
        return fs_fail(d, FS_EINVAL, "G16: a release names its recipient "
                       "(--to NAME, 2 to %zu characters)",
                       sizeof x.rel.to - 1);
    if ((rc = fs_text_check("recipient (--to)", to, sizeof x.rel.to - 1, d))
        != FS_OK ||
        (rc = fs_manner_parse(manner, &x.rel.manner, x.rel.detail,
                              sizeof x.rel.detail, d)) != FS_OK)
        return rc;
    snprintf(x.rel.to, sizeof x.rel.to, "%s", to);
    snprintf(x.objects, sizeof x.objects, "report %.15s, to %s, by %s %s",
             x.report, to, fs_manner_name(x.rel.manner), x.rel.detail);
    fs_audit_entry e = { "disseminate", x.case_no, NULL, x.objects, "ok" };
    rc = gate_change(g, release_in, &x, &e, d);
    if (rc == FS_OK)
        memcpy(id, x.rel.id, FS_ID_MAX);
    return rc;
}

typedef struct release_list {
    const char *report;
    fs_release *v;
    size_t      n, cap;
} release_list;

static int collect_release(void *ctx, const fs_release *r)
{
    release_list *l = ctx;
    if (l->report && strcmp(r->report, l->report) != 0)
        return FS_OK;
    void *arr = l->v;
    int rc = gate_room_for_one(&arr, l->n, &l->cap, sizeof *l->v, NULL);
    l->v = arr;
    if (rc == FS_OK)
        l->v[l->n++] = *r;
    return rc;
}

int fs_release_list(fs_gate *g, const char *report, fs_release **out,
                    size_t *n, fs_detail *d)
{
    char objects[FS_ID_MAX + 32];
    snprintf(objects, sizeof objects, "releases%s%.15s",
             report ? " of report " : "", report ? report : "");
    int rc = gate_require_read(g, FS_ROLE_ADMIN | FS_ROLE_EXAMINER |
                               FS_ROLE_SUPERVISOR | FS_ROLE_AUDITOR,
                               "release list", objects, d);
    fs_gallery_batch *b;
    if (rc != FS_OK || (rc = gate_read(g, &b, d)) != FS_OK)
        return rc;
    release_list l = { report, NULL, 0, 0 };
    fs_report *r = report ? malloc(sizeof *r) : NULL;
    if (report && !r)
        rc = fs_fail(d, FS_ENOMEM, "no memory for a report");
    else if (report)
        rc = report_get(g, b, report, r, d);
    if (rc == FS_OK)
        rc = gate_releases_each(g, b, collect_release, &l, d);
    if (rc == FS_ENOMEM && !d->msg[0])
        fs_fail(d, rc, "no memory for the releases");
    fs_gallery_abort(b);
    if (r)
        fs_wipe(r, sizeof *r);
    free(r);
    if (rc != FS_OK) {
        free(l.v);
        return rc;
    }
    *out = l.v;
    *n = l.n;
    return FS_OK;
}

/* ---- the outcome (G17) ------------------------------------------------------------ */

typedef struct outcome {
    fs_gate    *g;
    const char *id;
    int         positive;
    char        objects[96];
    char        case_no[FS_FIELD_MAX];
} outcome;

static const char *positive_name(int p)
{
    return p == FS_POSITIVE_YES ? "yes" : p == FS_POSITIVE_NO ? "no" : "?";
}

static int outcome_in(void *ctx, fs_gallery_batch *b, fs_detail *d)
{
    outcome *o = ctx;
    fs_gate *g = o->g;
    fs_request r;
    int rc = gate_request_get(g, b, o->id, &r, d);
    if (rc == FS_OK && !gate_request_visible(g, &r))
        rc = fs_fail(d, FS_NOTFOUND, "no request '%s'", o->id);
    if (rc != FS_OK)
        return rc;
    snprintf(o->case_no, sizeof o->case_no, "%s", r.case_no);
    if (!(g->who.roles & FS_ROLE_SUPERVISOR) &&
        strcmp(r.filed_by, g->who.name) != 0)
        return fs_fail(d, FS_DENIED, "G17: the outcome of request %s is "
                       "recorded by the requester who filed it (%s) or a "
                       "supervisor", r.id, r.filed_by);
    if (r.positive_id != FS_POSITIVE_UNKNOWN) {
        char when[32];
        time_t t = (time_t)r.outcome_time;
        struct tm tm;
        strftime(when, sizeof when, "%Y-%m-%d", gmtime_r(&t, &tm));
        return fs_fail(d, FS_DENIED, "G17: the outcome of request %s is "
                       "already recorded (positive identification: %s, by "
                       "%s on %s)", r.id, positive_name(r.positive_id),
                       r.outcome_by, when);
    }
    r.positive_id = o->positive;
    snprintf(r.outcome_by, sizeof r.outcome_by, "%s", g->who.name);
    r.outcome_time = (int64_t)time(NULL);
    return gate_request_put(g, b, &r, d);
}

int fs_request_outcome(fs_gate *g, const char *request, int positive_id,
                       fs_detail *d)
{
    int rc = gate_require(g, FS_ROLE_REQUESTER | FS_ROLE_SUPERVISOR, 0,
                          "outcome", d);
    if (rc != FS_OK)
        return rc;
    if (positive_id != FS_POSITIVE_YES && positive_id != FS_POSITIVE_NO)
        return fs_fail(d, FS_EINVAL, "G17: an outcome says whether the "
                       "lead led to a positive identification: yes or no");
    outcome o;
    memset(&o, 0, sizeof o);
    o.g = g;
    o.id = request ? request : "";
    o.positive = positive_id;
    snprintf(o.objects, sizeof o.objects, "request %.15s: positive "
             "identification %s", o.id, positive_name(positive_id));
    fs_audit_entry e = { "outcome", o.case_no, NULL, o.objects, "ok" };
    return gate_change(g, outcome_in, &o, &e, d);
}
