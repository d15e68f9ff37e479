/*
 * fs_request.c - agencies and search requests (G4-G8).
 *
 * A request is what makes a search lawful: a case, an authorized crime
 * type, who asks and why, and where the probe came from.  The checks of a
 * form (fs_request_check) depend only on the profile, so the search runs
 * them again, under the profile in force then, over the stored request:
 * a crime type de-authorized after filing releases nothing.  Requests and
 * agencies are sealed records; a request's state only moves forward
 * (open -> closed with its outcome), each step audited.
 */
#include "fs_gate_int.h"

#include "../engine/base/fs_text.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Version 2 added the outcome G17 records (positive_id, outcome_by,
 * outcome_time); a version-1 record reads with them zero. */
#define REQUEST_VERSION 2
#define AGENCY_VERSION  1
#define REASON_MAX      255      /* bytes of a suspension or hold reason */

static const char *const outcome_names[] = {
    "none", "lead", "no-candidate", "rejected"
};

int fs_outcome_parse(const char *s, int *outcome)
{
    for (int i = FS_OUTCOME_LEAD; i <= FS_OUTCOME_REJECTED; i++)
        if (s && strcmp(s, outcome_names[i]) == 0) {
            *outcome = i;
            return FS_OK;
        }
    return FS_EINVAL;
}

const char *fs_outcome_name(int outcome)
{
    return outcome >= 0 && outcome <= FS_OUTCOME_REJECTED
           ? outcome_names[outcome] : "?";
}

/* ---- the form (G4-G6, G8) ------------------------------------------------ */

/* min..cap-1 bytes: the length rule of every field (what the bytes may
 * be is fs_text_check's). */
static int length_ok(const char *s, size_t min, size_t cap)
{
    size_t n = s ? strlen(s) : 0;
    return n >= min && n < cap;
}

static int case_ok(const char *s)
{
    int digits = 0;
    for (const char *c = s; *c; c++) {
        if (!isalnum((unsigned char)*c) && !strchr("-/._", *c))
            return 0;
        digits += isdigit((unsigned char)*c) != 0;
    }
    return digits > 0 && isalnum((unsigned char)s[0]);
}

/* An e-mail address (x@y.z) or a phone number (7 digits or more). */
static int contact_ok(const char *s)
{
    const char *at = strchr(s, '@');
    if (at && at > s && strchr(at, '.') && at[1] != '.' &&
        s[strlen(s) - 1] != '.')
        return 1;
    int digits = 0;
    for (const char *c = s; *c; c++)
        digits += isdigit((unsigned char)*c) != 0;
    return digits >= 7;
}

static int slug_ok(const char *s)
{
    for (const char *c = s; *c; c++)
        if (!islower((unsigned char)*c) && !isdigit((unsigned char)*c) &&
            *c != '-')
            return 0;
    return 1;
}

typedef struct field {
    const char *value, *name, *option;
    size_t      min, cap;
} field;

int fs_request_check(const fs_profile *p, const fs_request_form *f,
                     fs_detail *d)
{
    /* G6 first: a prohibited purpose is refused as such, whatever else
     * the form lacks. */
    const char *said[] = { f->crime, f->justification, f->source };
    const char *said_name[] = { "crime type", "justification", "source" };
    for (int i = 0; i < 3; i++) {
        char purpose[64];
        if (said[i] && fs_profile_prohibited(p, said[i], purpose,
                                             sizeof purpose))
            return fs_fail(d, FS_DENIED, "G6: the %s states a prohibited "
                           "purpose (%s) under profile %s", said_name[i],
                           purpose, p->name);
    }
    const field fields[] = {
        { f->case_no, "case number", "--case", 1, 64 },
        { f->crime, "crime type", "--crime", 1, 64 },
        { f->requester, "requester name", "--requester", 2, FS_FIELD_MAX },
        { f->agency, "unit or agency", "--agency", 2, FS_FIELD_MAX },
        { f->contact, "contact", "--contact", 3, FS_FIELD_MAX },
        { f->justification, "justification", "--justification",
          FS_JUSTIFY_MIN, FS_JUSTIFY_MAX },
        { f->source, "lawful source of the probe image", "--source", 3,
          FS_FIELD_MAX },
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const field *x = &fields[i];
        if (!x->value || !*x->value)
            return fs_fail(d, FS_EINVAL, "G4: the request has no %s (%s)",
                           x->name, x->option);
        if (!length_ok(x->value, x->min, x->cap))
            return fs_fail(d, FS_EINVAL, "G4: the %s (%s) must be %zu to "
                           "%zu characters of text%s", x->name, x->option,
                           x->min, x->cap - 1, i == 5 ? " stating the "
                           "facts that amount to reasonable suspicion" : "");
        char what[80];
        snprintf(what, sizeof what, "%s (%s)", x->name, x->option);
        int rc = fs_text_check(what, x->value, x->cap - 1, d);
        if (rc != FS_OK)
            return rc;
    }
    if (!case_ok(f->case_no))
        return fs_fail(d, FS_EINVAL, "G4: case number '%s' (--case) is "
                       "malformed: letters, digits and - / . _, with at "
                       "least one digit", f->case_no);
    if (!slug_ok(f->crime))
        return fs_fail(d, FS_EINVAL, "G4: crime type '%s' (--crime) is "
                       "malformed: one of the profile's names, such as "
                       "'%s'", f->crime, p->authorized_use[0]);
    if (!contact_ok(f->contact))
        return fs_fail(d, FS_EINVAL, "G4: contact '%s' (--contact) is "
                       "neither an e-mail address nor a phone number",
                       f->contact);
    int authorized = 0;
    for (int i = 0; i < p->n_authorized_use; i++)
        authorized |= strcmp(p->authorized_use[i], f->crime) == 0;
    if (!authorized) {
        char list[FS_PROFILE_LIST_MAX * 66] = "";
        for (int i = 0; i < p->n_authorized_use; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s",
                     i ? ", " : "", p->authorized_use[i]);
        return fs_fail(d, FS_DENIED, "G5: crime type '%s' is not authorized "
                       "under profile %s (authorized: %s)", f->crime,
                       p->name, list);
    }
    if (f->from_video && p->forbid_recorded_video)
        return fs_fail(d, FS_DENIED, "G8: profile %s refuses a still taken "
                       "from video (recorded video is a prohibited source)",
                       p->name);
    return FS_OK;
}

/* ---- agencies (G7) ------------------------------------------------------ */

static int agency_get(fs_gate *g, fs_gallery_batch *b, const char *name,
                      fs_agency *a, fs_detail *d)
{
    uint8_t *v;
    size_t len;
    int rc = gate_sealed_get(g, b, GT_AGENCIES, name, strlen(name), &v, &len,
                             d);
    if (rc == FS_NOTFOUND)
        return fs_fail(d, rc, "no agency '%s'", name);
    if (rc != FS_OK)
        return rc;
    fs_agency x;
    memset(&x, 0, sizeof x);
    fs_rbuf r = { v, len, 0, 0 };
    uint64_t version = fs_rbuf_u64(&r);
    fs_rbuf_str(&r, x.name, sizeof x.name);
    fs_rbuf_str(&r, x.mou, sizeof x.mou);
    x.suspended = (int)fs_rbuf_u64(&r);
    fs_rbuf_str(&r, x.reason, sizeof x.reason);
    x.added = (int64_t)fs_rbuf_u64(&r);
    x.changed = (int64_t)fs_rbuf_u64(&r);
    int bad = r.bad || r.off != len || version != AGENCY_VERSION ||
              strcmp(x.name, name) != 0;
    free(v);
    if (bad)
        return fs_fail(d, FS_ETAMPER, "the record of agency '%s' is "
                       "damaged", name);
    *a = x;
    return FS_OK;
}

static int agency_put(fs_gate *g, fs_gallery_batch *b, const fs_agency *a,
                      fs_detail *d)
{
    fs_wbuf w = { 0 };
    fs_wbuf_u64(&w, AGENCY_VERSION);
    fs_wbuf_str(&w, a->name);
    fs_wbuf_str(&w, a->mou);
    fs_wbuf_u64(&w, (uint64_t)a->suspended);
    fs_wbuf_str(&w, a->reason);
    fs_wbuf_u64(&w, (uint64_t)a->added);
    fs_wbuf_u64(&w, (uint64_t)a->changed);
    int rc = w.oom ? fs_fail(d, FS_ENOMEM, "no memory for an agency")
                   : gate_sealed_put(g, b, GT_AGENCIES, a->name,
                                     strlen(a->name), w.p, w.len, d);
    fs_wbuf_free(&w);
    return rc;
}

int gate_agencies_counted(fs_gate *g, fs_gallery_batch *b, uint64_t *n,
                          fs_detail *d)
{
    uint64_t rows = 0, added;
    uint8_t key[FS_RECORD_KEY_MAX];
    fs_record r;
    int rc = fs_record_seek(b, GT_AGENCIES, NULL, 0, 0, &r, d);
    while (rc == FS_OK) {
        size_t klen = r.klen;
        memcpy(key, r.key, klen);
        rows++;
        rc = fs_record_seek(b, GT_AGENCIES, key, klen, 1, &r, d);
    }
    if (rc != FS_NOTFOUND ||
        (rc = gate_meta_count_get(g, b, "agencies", &added, d)) != FS_OK)
        return rc;
    if (rows != added)
        return fs_fail(d, FS_ETAMPER, "G7: %llu agency records where %llu "
                       "were added (agencies are never removed): a record "
                       "or the count was removed or planted offline",
                       (unsigned long long)rows, (unsigned long long)added);
    *n = rows;
    return FS_OK;
}

typedef struct agency_change {
    fs_gate    *g;
    const char *name, *mou, *reason;
    int         op;                    /* 0 add, 1 suspend, 2 reinstate */
} agency_change;

static int agency_in(void *ctx, fs_gallery_batch *b, fs_detail *d)
{
    const agency_change *c = ctx;
    fs_agency a;
    int rc = agency_get(c->g, b, c->name, &a, d);
    int64_t now = (int64_t)time(NULL);
    if (c->op == 0) {
        if (rc == FS_OK)
            return fs_fail(d, FS_EXISTS, "agency '%s' is on file already",
                           c->name);
        uint64_t n;
        if (rc != FS_NOTFOUND ||
            (rc = gate_agencies_counted(c->g, b, &n, d)) != FS_OK ||
            (rc = gate_meta_count_put(c->g, b, "agencies", n + 1, d)) !=
                FS_OK)
            return rc;
        memset(&a, 0, sizeof a);
        snprintf(a.name, sizeof a.name, "%s", c->name);
        snprintf(a.mou, sizeof a.mou, "%s", c->mou);
        a.added = now;
    } else if (rc != FS_OK) {
        return rc;
    } else if (c->op == 1) {
        a.suspended = 1;
        snprintf(a.reason, sizeof a.reason, "%s", c->reason);
    } else {
        if (!a.suspended)
            return fs_fail(d, FS_EINVAL, "agency '%s' is not suspended",
                           c->name);
        a.suspended = 0;
        a.reason[0] = 0;
    }
    a.changed = now;
    return agency_put(c->g, b, &a, d);
}

static int agency_change_run(agency_change *c, const char *action,
                             fs_detail *d)
{
    fs_gate *g = c->g;
    int rc = gate_require(g, FS_ROLE_ADMIN, 0, action, d);
    if (rc != FS_OK)
        return rc;
    if (!length_ok(c->name, 2, FS_FIELD_MAX))
        return fs_fail(d, FS_EINVAL, "an agency name is 2 to %d characters "
                       "of text", FS_FIELD_MAX - 1);
    if (c->op == 0 && !length_ok(c->mou, 1, FS_FIELD_MAX))
        return fs_fail(d, FS_EINVAL, "G7: an agency needs its agreement "
                       "on file (--mou REF, 1 to %d characters)",
                       FS_FIELD_MAX - 1);
    if (c->op == 1 && !length_ok(c->reason, 1, REASON_MAX + 1))
        return fs_fail(d, FS_EINVAL, "a suspension says why (--reason)");
    if ((rc = fs_text_check("agency name", c->name, FS_FIELD_MAX - 1, d))
        != FS_OK ||
        (rc = fs_text_check("MOU reference (--mou)", c->mou,
                            FS_FIELD_MAX - 1, d)) != FS_OK ||
        (rc = fs_text_check("suspension reason (--reason)", c->reason,
                            REASON_MAX, d)) != FS_OK)
        return rc;
    char objects[FS_FIELD_MAX * 2 + 16];
    snprintf(objects, sizeof objects, "agency %s%s%s", c->name,
             c->op == 0 ? ", MOU " : "", c->op == 0 ? c->mou : "");
    fs_audit_entry e = { action, NULL, c->reason, objects, "ok" };
    return gate_change(g, agency_in, c, &e, d);
}

int fs_agency_add(fs_gate *g, const char *name, const char *mou,
                  fs_detail *d)
{
    agency_change c = { g, name, mou, NULL, 0 };
    return agency_change_run(&c, "agency add", d);
}

int fs_agency_suspend(fs_gate *g, const char *name, const char *reason,
                      fs_detail *d)
{
    agency_change c = { g, name, NULL, reason, 1 };
    return agency_change_run(&c, "agency suspend", d);
}

int fs_agency_reinstate(fs_gate *g, const char *name, fs_detail *d)
{
    agency_change c = { g, name, NULL, NULL, 2 };
    return agency_change_run(&c, "agency reinstate", d);
}

typedef struct agency_list {
    fs_gate   *g;
    fs_gallery_batch *b;
    fs_agency *v;
    size_t     n, cap;
} agency_list;

static int collect_agency(void *ctx, const fs_record *r, const uint8_t *v,
                          size_t len, fs_detail *d)
{
    (void)v;
    (void)len;
    agency_list *l = ctx;
    char name[FS_FIELD_MAX];
    if (r->klen >= sizeof name)
        return fs_fail(d, FS_ETAMPER, "an agency record has a bad name");
    memcpy(name, r->key, r->klen);
    name[r->klen] = 0;
    void *arr = l->v;
    int rc = gate_room_for_one(&arr, l->n, &l->cap, sizeof *l->v, d);
    l->v = arr;
    return rc == FS_OK ? agency_get(l->g, l->b, name, &l->v[l->n++], d) : rc;
}

/* A listing verb: the checks, the reading on the trail, then fn over
 * every record of the sealed table in one read view (handed to *view
 * first, when fn reads more of it). */
static int list_table(fs_gate *g, unsigned roles, const char *action,
                      const char *objects, unsigned table,
                      int (*fn)(void *ctx, const fs_record *r,
                                const uint8_t *v, size_t len, fs_detail *d),
                      void *ctx, fs_gallery_batch **view, fs_detail *d)
{
    int rc = gate_require_read(g, roles, action, objects, d);
    fs_gallery_batch *b;
    if (rc != FS_OK || (rc = gate_read(g, &b, d)) != FS_OK)
        return rc;
    if (view)
        *view = b;
    rc = gate_walk_sealed(g, b, table, NULL, fn, ctx, d);
    fs_gallery_abort(b);
    return rc;
}

int fs_agency_list(fs_gate *g, fs_agency **out, size_t *n, fs_detail *d)
{
    agency_list l = { g, NULL, NULL, 0, 0 };
    int rc = list_table(g, FS_ROLE_ADMIN | FS_ROLE_SUPERVISOR |
                        FS_ROLE_AUDITOR, "agency list", "agencies",
                        GT_AGENCIES, collect_agency, &l, &l.b, d);
    if (rc != FS_OK) {
        free(l.v);
        return rc;
    }
    *out = l.v;
    *n = l.n;
    return FS_OK;
}

/* ---- request records -------------------------------------------------------- */

void gate_request_pack(fs_wbuf *w, const fs_request *r)
{
    fs_wbuf_u64(w, REQUEST_VERSION);
    const char *s[] = { r->id, r->case_no, r->crime, r->requester,
                        r->agency, r->contact, r->justification, r->source,
                        r->filed_by, r->closed_by, r->last_rejection };
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
        fs_wbuf_str(w, s[i]);
    const int64_t v[] = { r->from_video, r->ack_disclaimer, r->outside,
                          r->filed, r->state, r->outcome, r->closed,
                          r->evidence, r->searches, r->rejections };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        fs_wbuf_u64(w, (uint64_t)v[i]);
    fs_wbuf_u64(w, (uint64_t)r->positive_id);
    fs_wbuf_str(w, r->outcome_by);
    fs_wbuf_u64(w, (uint64_t)r->outcome_time);
}

int gate_request_unpack(const uint8_t *p, size_t len, fs_request *r)
{
    fs_rbuf b = { p, len, 0, 0 };
    memset(r, 0, sizeof *r);
    uint64_t version = fs_rbuf_u64(&b);
    struct { char *dst; size_t cap; } s[] = {
        { r->id, sizeof r->id }, { r->case_no, sizeof r->case_no },
        { r->crime, sizeof r->crime }, { r->requester, sizeof r->requester },
        { r->agency, sizeof r->agency }, { r->contact, sizeof r->contact },
        { r->justification, sizeof r->justification },
        { r->source, sizeof r->source }, { r->filed_by, sizeof r->filed_by },
        { r->closed_by, sizeof r->closed_by },
        { r->last_rejection, sizeof r->last_rejection },
    };
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
        fs_rbuf_str(&b, s[i].dst, s[i].cap);
    int64_t v[10];
    for (size_t i = 0; i < 10; i++)
        v[i] = (int64_t)fs_rbuf_u64(&b);
    r->from_video = (int)v[0];
    r->ack_disclaimer = (int)v[1];
    r->outside = (int)v[2];
    r->filed = v[3];
    r->state = (int)v[4];
    r->outcome = (int)v[5];
    r->closed = v[6];
    r->evidence = (int)v[7];
    r->searches = (uint32_t)v[8];
    r->rejections = (uint32_t)v[9];
    if (version >= 2) {
        uint64_t positive = fs_rbuf_u64(&b);
        r->positive_id = positive <= FS_POSITIVE_NO ? (int)positive : -1;
        fs_rbuf_str(&b, r->outcome_by, sizeof r->outcome_by);
        r->outcome_time = (int64_t)fs_rbuf_u64(&b);
    }
    return b.bad || b.off != len || version < 1 ||
           version > REQUEST_VERSION || r->positive_id < 0
           ? FS_ETAMPER : FS_OK;
}

int gate_request_get(fs_gate *g, fs_gallery_batch *b, const char *id,
                     fs_request *r, fs_detail *d)
{
    uint64_t seq;
    uint8_t key[8];
    int rc = gate_id_parse(id, 'R', &seq, d);
    if (rc != FS_OK)
        return rc;
    gate_seq_key(seq, key);
    uint8_t *v;
    size_t len;
    rc = gate_sealed_get(g, b, GT_REQUESTS, key, 8, &v, &len, d);
    if (rc == FS_NOTFOUND)
        return fs_fail(d, rc, "no request '%s'", id);
    if (rc != FS_OK)
        return rc;
    rc = gate_request_unpack(v, len, r);
    fs_wipe(v, len);
    free(v);
    if (rc == FS_OK && strcmp(r->id, id) != 0)
        rc = FS_ETAMPER;
    return rc == FS_OK ? rc : fs_fail(d, rc, "the record of request '%s' "
                                      "is damaged", id);
}

int gate_request_put(fs_gate *g, fs_gallery_batch *b, const fs_request *r,
                     fs_detail *d)
{
    uint64_t seq;
    uint8_t key[8];
    int rc = gate_id_parse(r->id, 'R', &seq, d);
    if (rc != FS_OK)
        return rc;
    gate_seq_key(seq, key);
    fs_wbuf w = { 0 };
    gate_request_pack(&w, r);
    rc = w.oom ? fs_fail(d, FS_ENOMEM, "no memory for a request")
               : gate_sealed_put(g, b, GT_REQUESTS, key, 8, w.p, w.len, d);
    fs_wbuf_free(&w);
    return rc;
}

/* ---- filing ------------------------------------------------------------------ */

typedef struct filing {
    fs_gate               *g;
    const fs_request_form *f;
    fs_request             r;
} filing;

int gate_outside_ok(fs_gate *g, fs_gallery_batch *b, const char *agency,
                      int ack, fs_detail *d)
{
    const fs_profile *p = &g->profile;
    if (!p->outside_allowed)
        return fs_fail(d, FS_DENIED, "G7: profile %s takes no requests from "
                       "outside agencies ('%s' is not the unit %s)", p->name,
                       agency, g->who.unit);
    fs_agency a;
    int rc = agency_get(g, b, agency, &a, d);
    if (rc == FS_NOTFOUND) {
        if (p->outside_require_mou)
            return fs_fail(d, FS_DENIED, "G7: outside agency '%s' has no "
                           "agreement (MOU) on file: an admin records it "
                           "with 'agency add'", agency);
        /* none needed, unless one was deleted offline (a suspension
         * lifted): the count kept beside them tells */
        uint64_t n;
        if ((rc = gate_agencies_counted(g, b, &n, d)) != FS_OK)
            return rc;
    } else if (rc != FS_OK) {
        return rc;
    } else if (a.suspended) {
        return fs_fail(d, FS_DENIED, "G7: agency '%s' is suspended (%s): "
                       "its requests are refused until it is reinstated",
                       agency, a.reason);
    }
    if (!ack && p->outside_require_ack)
        return fs_fail(d, FS_DENIED, "G7: an outside agency's requester "
                       "must acknowledge the disclaimer (--ack-disclaimer)");
    return FS_OK;
}

static int file_in(void *ctx, fs_gallery_batch *b, fs_detail *d)
{
    filing *x = ctx;
    const fs_request_form *f = x->f;
    fs_request *r = &x->r;
    r->outside = strcasecmp(f->agency, x->g->who.unit) != 0;
    int rc = r->outside ? gate_outside_ok(x->g, b, f->agency, f->ack_disclaimer,
                                     d) : FS_OK;
    uint64_t seq;
    if (rc == FS_OK)
        rc = gate_next_seq(x->g, b, GT_REQUESTS, &seq, d);
    if (rc != FS_OK)
        return rc;
    gate_id_format('R', seq, r->id);
    snprintf(r->case_no, sizeof r->case_no, "%s", f->case_no);
    snprintf(r->crime, sizeof r->crime, "%s", f->crime);
    snprintf(r->requester, sizeof r->requester, "%s", f->requester);
    snprintf(r->agency, sizeof r->agency, "%s", f->agency);
    snprintf(r->contact, sizeof r->contact, "%s", f->contact);
    snprintf(r->justification, sizeof r->justification, "%s",
             f->justification);
    snprintf(r->source, sizeof r->source, "%s", f->source);
    snprintf(r->filed_by, sizeof r->filed_by, "%s", x->g->who.name);
    r->from_video = f->from_video;
    r->ack_disclaimer = f->ack_disclaimer;
    r->filed = (int64_t)time(NULL);
    return gate_request_put(x->g, b, r, d);
}

int fs_request_file(fs_gate *g, const fs_request_form *f,
                    char id[FS_ID_MAX], fs_detail *d)
{
    int rc = gate_require(g, FS_ROLE_REQUESTER | FS_ROLE_EXAMINER |
                          FS_ROLE_SUPERVISOR, 0, "request new", d);
    if (rc != FS_OK)
        return rc;
    char objects[FS_FIELD_MAX * 2 + 64];
    snprintf(objects, sizeof objects, "case %.63s, crime %.63s, agency "
             "%.127s", f->case_no ? f->case_no : "",
             f->crime ? f->crime : "", f->agency ? f->agency : "");
    if ((rc = fs_request_check(&g->profile, f, d)) != FS_OK)
        return gate_refusal(g, g->who.name, g->who.unit, "request new",
                            objects, rc, d);
    filing x;
    memset(&x, 0, sizeof x);
    x.g = g;
    x.f = f;
    fs_audit_entry e = { "request new", f->case_no, f->justification,
                         objects, "ok" };
    rc = gate_change(g, file_in, &x, &e, d);
    if (rc == FS_OK)
        memcpy(id, x.r.id, FS_ID_MAX);
    return rc;
}

/* ---- reading ------------------------------------------------------------------- */

#define ANY_ROLE (FS_ROLE_ADMIN | FS_ROLE_EXAMINER | FS_ROLE_SUPERVISOR | \
                  FS_ROLE_REQUESTER | FS_ROLE_AUDITOR)

/* A requester who holds no other role sees only the requests they filed;
 * the others are as if absent. */
static int visible(const fs_gate *g, const fs_request *r)
{
    return (g->who.roles & ~(unsigned)FS_ROLE_REQUESTER) ||
           strcmp(r->filed_by, g->who.name) == 0;
}

int gate_request_visible(const fs_gate *g, const fs_request *r)
{
    return visible(g, r);
}

int fs_request_get(fs_gate *g, const char *id, fs_request *r, fs_detail *d)
{
    char objects[FS_ID_MAX + 16];
    snprintf(objects, sizeof objects, "request %.15s", id ? id : "");
    int rc = gate_require_read(g, ANY_ROLE, "request show", objects, d);
    fs_gallery_batch *b;
    if (rc != FS_OK || (rc = gate_read(g, &b, d)) != FS_OK)
        return rc;
    fs_request x;
    rc = gate_request_get(g, b, id, &x, d);
    fs_gallery_abort(b);
    if (rc == FS_OK && !visible(g, &x))
        rc = fs_fail(d, FS_NOTFOUND, "no request '%s'", id);
    if (rc == FS_OK)
        *r = x;
    return rc;
}

typedef struct request_list {
    fs_gate    *g;
    int         open_only;
    fs_request *v;
    size_t      n, cap;
} request_list;

static int collect_request(void *ctx, const fs_record *rec,
                           const uint8_t *v, size_t len, fs_detail *d)
{
    (void)rec;
    request_list *l = ctx;
    fs_request r;
    if (gate_request_unpack(v, len, &r) != FS_OK)
        return fs_fail(d, FS_ETAMPER, "a request record is damaged");
    if ((l->open_only && r.state != FS_REQUEST_OPEN) || !visible(l->g, &r))
        return FS_OK;
    void *arr = l->v;
    int rc = gate_room_for_one(&arr, l->n, &l->cap, sizeof *l->v, d);
    l->v = arr;
    if (rc == FS_OK)
        l->v[l->n++] = r;
    return rc;
}

int fs_request_list(fs_gate *g, int open_only, fs_request **out, size_t *n,
                    fs_detail *d)
{
    request_list l = { g, open_only, NULL, 0, 0 };
    int rc = list_table(g, ANY_ROLE, "request list", open_only
                        ? "open requests" : "requests", GT_REQUESTS,
                        collect_request, &l, NULL, d);
    if (rc != FS_OK) {
        free(l.v);
        return rc;
    }
    *out = l.v;
    *n = l.n;
    return FS_OK;
}

/* ---- closing and holding ------------------------------------------------------- */

typedef struct closing {
    fs_gate    *g;
    const char *id;
    int         outcome;                /* 0: hold as evidence */
    uint64_t    purged;
    char        objects[160];
    char        case_no[64];
} closing;

static int close_in(void *ctx, fs_gallery_batch *b, fs_detail *d)
{
    closing *c = ctx;
    fs_gate *g = c->g;
    fs_request r;
    int rc = gate_request_get(g, b, c->id, &r, d);
    if (rc == FS_OK && !visible(g, &r))
        rc = fs_fail(d, FS_NOTFOUND, "no request '%s'", c->id);
    if (rc != FS_OK)
        return rc;
    snprintf(c->case_no, sizeof c->case_no, "%s", r.case_no);
    if (!c->outcome) {
        r.evidence = 1;
        snprintf(c->objects, sizeof c->objects, "request %s: probes held "
                 "as evidence", r.id);
        return gate_request_put(g, b, &r, d);
    }
    if (r.state != FS_REQUEST_OPEN)
        return fs_fail(d, FS_DENIED, "request %s is closed already (%s): a "
                       "request's state only moves forward", r.id,
                       fs_outcome_name(r.outcome));
    /* G14: a lead goes out only approved, and a request with a lead in
     * review or approved has a candidate */
    unsigned proposed = 0, approved = 0;
    if ((rc = gate_leads_of(g, b, r.id, &proposed, &approved, d)) != FS_OK)
        return rc;
    if (c->outcome == FS_OUTCOME_LEAD && !approved)
        return fs_fail(d, FS_DENIED, "G14: request %s has no approved lead: "
                       "a lead is closed on only once corroborated and "
                       "approved", r.id);
    if (c->outcome == FS_OUTCOME_NO_CANDIDATE && (proposed || approved))
        return fs_fail(d, FS_DENIED, "G14: request %s has a lead %s: it "
                       "cannot close with no candidate (a supervisor "
                       "rejects the lead first)", r.id,
                       approved ? "approved" : "in review");
    r.state = FS_REQUEST_CLOSED;
    r.outcome = c->outcome;
    r.closed = (int64_t)time(NULL);
    snprintf(r.closed_by, sizeof r.closed_by, "%s", g->who.name);
    rc = gate_request_put(g, b, &r, d);
    if (rc == FS_OK && c->outcome == FS_OUTCOME_NO_CANDIDATE &&
        g->profile.purge_probe_on_no_candidate)
        rc = gate_probes_drop(b, r.id, &c->purged, d);
    snprintf(c->objects, sizeof c->objects, "request %s closed: %s; %llu "
             "probe%s purged", r.id, fs_outcome_name(c->outcome),
             (unsigned long long)c->purged, c->purged == 1 ? "" : "s");
    return rc;
}

int fs_request_close(fs_gate *g, const char *id, int outcome,
                     uint64_t *purged, fs_detail *d)
{
    int rc = gate_require(g, FS_ROLE_REQUESTER | FS_ROLE_EXAMINER |
                          FS_ROLE_SUPERVISOR, 0, "request close", d);
    if (rc != FS_OK)
        return rc;
    if (outcome < FS_OUTCOME_LEAD || outcome > FS_OUTCOME_REJECTED)
        return fs_fail(d, FS_EINVAL, "an outcome is lead, no-candidate or "
                       "rejected");
    closing c = { g, id, outcome, 0, "", "" };
    snprintf(c.objects, sizeof c.objects, "request %.15s", id ? id : "");
    fs_audit_entry e = { "request close", c.case_no, NULL, c.objects, "ok" };
    rc = gate_change(g, close_in, &c, &e, d);
    if (rc == FS_OK && purged)
        *purged = c.purged;
    return rc;
}

int fs_request_hold(fs_gate *g, const char *id, const char *reason,
                    fs_detail *d)
{
    int rc = gate_require(g, FS_ROLE_EXAMINER | FS_ROLE_SUPERVISOR |
                          FS_ROLE_ADMIN, 0, "request hold", d);
    if (rc != FS_OK)
        return rc;
    if (!length_ok(reason, 1, REASON_MAX + 1))
        return fs_fail(d, FS_EINVAL, "G12: holding probes as evidence says "
                       "why (--reason)");
    if ((rc = fs_text_check("reason for holding (--reason)", reason,
                            REASON_MAX, d)) != FS_OK)
        return rc;
    closing c = { g, id, 0, 0, "", "" };
    snprintf(c.objects, sizeof c.objects, "request %.15s", id ? id : "");
    fs_audit_entry e = { "request hold", c.case_no, reason, c.objects, "ok" };
    return gate_change(g, close_in, &c, &e, d);
}
