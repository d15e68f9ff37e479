/*
 * fs_review.c - leads and their corroboration (G14).
 *
 * A lead is one candidate of a released list that an examiner proposes
 * after a visual comparison.  It becomes an approved lead only when as
 * many distinct people as the profile in force at the proposal asked for
 * have signed it: the proposer, review.examiners corroborating examiners,
 * then review.supervisors supervisors.  The lead keeps those two numbers,
 * so a profile changed later neither strands nor waves through a lead in
 * review.  Every check of a sign-off runs inside the change that writes
 * it, so a refusal is on the trail with its rule and a sign-off never
 * exists without its entry.  A request has one lead at a time: while one
 * is proposed or approved no other may be proposed; a rejected lead
 * leaves room for another.  A lead's state only moves forward (proposed
 * -> approved or rejected).  Leads are sealed records of GT_LEADS.
 */
#include "fs_gate_int.h"

#include "../engine/base/fs_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LEAD_VERSION 1

#define ANY_ROLE (FS_ROLE_ADMIN | FS_ROLE_EXAMINER | FS_ROLE_SUPERVISOR | \
                  FS_ROLE_REQUESTER | FS_ROLE_AUDITOR)

static const char *const state_names[] = { "proposed", "approved",
                                           "rejected" };
static const char *const kind_names[] = { "proposed", "corroborated",
                                          "approved", "rejected" };

const char *fs_lead_state_name(int state)
{
    return state >= FS_LEAD_PROPOSED && state <= FS_LEAD_REJECTED
           ? state_names[state] : "?";
}

const char *fs_signoff_kind_name(int kind)
{
    return kind >= FS_SIGN_PROPOSE && kind <= FS_SIGN_REJECT
           ? kind_names[kind] : "?";
}

static size_t count_kind(const fs_lead *l, int kind)
{
    size_t n = 0;
    for (size_t i = 0; i < l->n_signoffs; i++)
        n += l->signoffs[i].kind == kind;
    return n;
}

/* Extra corroborations count as corroborations only: they never stand in
 * for a supervisor. */
static int signed_enough(const fs_lead *l)
{
    return l->n_signoffs > 0 && l->signoffs[0].kind == FS_SIGN_PROPOSE &&
           count_kind(l, FS_SIGN_REJECT) == 0 &&
           count_kind(l, FS_SIGN_CORROBORATE) >= (size_t)l->examiners_needed &&
           count_kind(l, FS_SIGN_APPROVE) >= (size_t)l->supervisors_needed;
}

int fs_lead_complete(const fs_lead *l)
{
    return l && l->state == FS_LEAD_APPROVED && signed_enough(l);
}

void fs_lead_needs(const fs_lead *l, char *buf, size_t cap)
{
    if (l->state != FS_LEAD_PROPOSED) {
        snprintf(buf, cap, "nothing: %s", fs_lead_state_name(l->state));
        return;
    }
    size_t have_e = count_kind(l, FS_SIGN_CORROBORATE);
    size_t have_s = count_kind(l, FS_SIGN_APPROVE);
    size_t need_e = have_e < (size_t)l->examiners_needed
                    ? (size_t)l->examiners_needed - have_e : 0;
    size_t need_s = have_s < (size_t)l->supervisors_needed
                    ? (size_t)l->supervisors_needed - have_s : 0;
    if (need_e && need_s)
        snprintf(buf, cap, "needs %zu more examiner%s, then %zu "
                 "supervisor%s", need_e, need_e == 1 ? "" : "s", need_s,
                 need_s == 1 ? "" : "s");
    else if (need_e)
        snprintf(buf, cap, "needs %zu more examiner%s", need_e,
                 need_e == 1 ? "" : "s");
    else
        snprintf(buf, cap, "needs %zu %ssupervisor%s", need_s,
                 have_s ? "more " : "", need_s == 1 ? "" : "s");
}

/* ---- records ------------------------------------------------------------------ */

static void lead_pack(fs_wbuf *w, const fs_lead *l)
{
    fs_wbuf_u64(w, LEAD_VERSION);
    fs_wbuf_str(w, l->id);
    fs_wbuf_str(w, l->request);
    fs_wbuf_str(w, l->search);
    fs_wbuf_str(w, l->subject);
    const uint64_t v[] = { (uint64_t)l->rank, fs_f32_bits(l->score),
                           (uint64_t)l->state,
                           (uint64_t)l->examiners_needed,
                           (uint64_t)l->supervisors_needed, l->n_signoffs };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        fs_wbuf_u64(w, v[i]);
    for (size_t i = 0; i < l->n_signoffs; i++) {
        const fs_signoff *s = &l->signoffs[i];
        fs_wbuf_u64(w, (uint64_t)s->kind);
        fs_wbuf_str(w, s->user);
        fs_wbuf_str(w, s->unit);
        fs_wbuf_u64(w, (uint64_t)s->time);
        fs_wbuf_str(w, s->note);
    }
}

static int lead_unpack(const uint8_t *p, size_t len, fs_lead *l)
{
    fs_rbuf b = { p, len, 0, 0 };
    memset(l, 0, sizeof *l);
    uint64_t version = fs_rbuf_u64(&b);
    fs_rbuf_str(&b, l->id, sizeof l->id);
    fs_rbuf_str(&b, l->request, sizeof l->request);
    fs_rbuf_str(&b, l->search, sizeof l->search);
    fs_rbuf_str(&b, l->subject, sizeof l->subject);
    uint64_t v[6];
    for (size_t i = 0; i < 6; i++)
        v[i] = fs_rbuf_u64(&b);
    l->rank = (int)v[0];
    l->score = fs_bits_f32(v[1]);
    l->state = (int)v[2];
    l->examiners_needed = (int)v[3];
    l->supervisors_needed = (int)v[4];
    if (v[5] > FS_SIGNOFFS_MAX || v[2] > FS_LEAD_REJECTED)
        return FS_ETAMPER;
    l->n_signoffs = (size_t)v[5];
    for (size_t i = 0; i < l->n_signoffs; i++) {
        fs_signoff *s = &l->signoffs[i];
        s->kind = (int)fs_rbuf_u64(&b);
        fs_rbuf_str(&b, s->user, sizeof s->user);
        fs_rbuf_str(&b, s->unit, sizeof s->unit);
        s->time = (int64_t)fs_rbuf_u64(&b);
        fs_rbuf_str(&b, s->note, sizeof s->note);
    }
    return b.bad || b.off != len || version != LEAD_VERSION
           ? FS_ETAMPER : FS_OK;
}

void gate_lead_pack(fs_wbuf *w, const fs_lead *l)
{
    lead_pack(w, l);
}

int gate_lead_unpack(const uint8_t *p, size_t len, fs_lead *l)
{
    return lead_unpack(p, len, l);
}

/* gate_id_parse names requests and searches; a lead's id is named here. */
static int lead_key(const char *id, uint8_t key[8], fs_detail *d)
{
    uint64_t seq;
    if (gate_id_parse(id, 'L', &seq, NULL) != FS_OK)
        return fs_fail(d, FS_NOTFOUND, "no lead '%.20s' (ids look like L12)",
                       id ? id : "");
    gate_seq_key(seq, key);
    return FS_OK;
}

int gate_lead_get(fs_gate *g, fs_gallery_batch *b, const char *id,
                  fs_lead *l, fs_detail *d)
{
    uint8_t key[8], *v;
    size_t len;
    int rc = lead_key(id, key, d);
    if (rc == FS_OK)
        rc = gate_sealed_get(g, b, GT_LEADS, key, 8, &v, &len, d);
    if (rc == FS_NOTFOUND)
        return fs_fail(d, rc, "no lead '%.20s'", id);
    if (rc != FS_OK)
        return rc;
    rc = lead_unpack(v, len, l);
    fs_wipe(v, len);
    free(v);
    if (rc == FS_OK && strcmp(l->id, id) != 0)
        rc = FS_ETAMPER;
    return rc == FS_OK ? rc : fs_fail(d, rc, "the record of lead '%s' is "
                                      "damaged", id);
}

static int lead_put(fs_gate *g, fs_gallery_batch *b, const fs_lead *l,
                    fs_detail *d)
{
    uint8_t key[8];
    int rc = lead_key(l->id, key, d);
    if (rc != FS_OK)
        return rc;
    fs_wbuf w = { 0 };
    lead_pack(&w, l);
    rc = w.oom ? fs_fail(d, FS_ENOMEM, "no memory for a lead")
               : gate_sealed_put(g, b, GT_LEADS, key, 8, w.p, w.len, d);
    fs_wbuf_free(&w);
    return rc;
}

typedef struct lead_walk {
    int       (*fn)(void *ctx, const fs_lead *l);
    void       *ctx;
    fs_lead     l;               /* one record at a time: they are big */
} lead_walk;

static int walk_one(void *ctx, const fs_record *r, const uint8_t *v,
                    size_t len, fs_detail *d)
{
    lead_walk *w = ctx;
    if (lead_unpack(v, len, &w->l) != FS_OK || r->klen != 8)
        return fs_fail(d, FS_ETAMPER, "lead record %llu is damaged",
                       r->klen == 8 ? (unsigned long long)gate_seq_of(r->key)
                                    : 0ULL);
    return w->fn(w->ctx, &w->l);
}

int gate_leads_each(fs_gate *g, fs_gallery_batch *b,
                    int (*fn)(void *ctx, const fs_lead *l), void *ctx,
                    fs_detail *d)
{
    lead_walk *w = malloc(sizeof *w);
    if (!w)
        return fs_fail(d, FS_ENOMEM, "no memory to read the leads");
    w->fn = fn;
    w->ctx = ctx;
    int rc = gate_walk_sealed(g, b, GT_LEADS, NULL, walk_one, w, d);
    fs_wipe(w, sizeof *w);
    free(w);
    return rc;
}

/* What a request's leads allow, and the newest of each standing state
 * (to name it in a refusal). */
typedef struct leads_of {
    const char *request;
    unsigned    proposed, approved;
    char        last_proposed[FS_ID_MAX], last_approved[FS_ID_MAX];
} leads_of;

static int count_of(void *ctx, const fs_lead *l)
{
    leads_of *c = ctx;
    if (strcmp(l->request, c->request) != 0)
        return FS_OK;
    if (l->state == FS_LEAD_PROPOSED) {
        c->proposed++;
        memcpy(c->last_proposed, l->id, FS_ID_MAX);
    } else if (l->state == FS_LEAD_APPROVED) {
        c->approved++;
        memcpy(c->last_approved, l->id, FS_ID_MAX);
    }
    return FS_OK;
}

static int leads_count(fs_gate *g, fs_gallery_batch *b, leads_of *c,
                       fs_detail *d)
{
    return gate_leads_each(g, b, count_of, c, d);
}

int gate_leads_of(fs_gate *g, fs_gallery_batch *b, const char *request,
                  unsigned *proposed, unsigned *approved, fs_detail *d)
{
    leads_of c;
    memset(&c, 0, sizeof c);
    c.request = request;
    int rc = leads_count(g, b, &c, d);
    if (rc == FS_OK) {
        if (proposed)
            *proposed = c.proposed;
        if (approved)
            *approved = c.approved;
    }
    return rc;
}

/* ---- sign-offs ----------------------------------------------------------------- */

/* What a step's audit entry says, filled as the change learns it: the
 * entry points into it, refusals included. */
typedef struct step {
    fs_gate    *g;
    int         kind;                   /* FS_SIGN_* */
    const char *lead;                   /* corroborate, approve, reject */
    const char *search, *subject;       /* propose */
    const char *note;
    fs_lead     l;
    char        objects[320];
    char        case_no[FS_FIELD_MAX];
    char        justification[FS_JUSTIFY_MAX];
    char        outcome[32];
} step;

static void step_objects(step *s)
{
    snprintf(s->objects, sizeof s->objects, "lead %s, search %s, request "
             "%s, subject %s, rank %d", s->l.id, s->l.search, s->l.request,
             s->l.subject, s->l.rank);
}

static int note_check(const char *note, fs_detail *d)
{
    size_t n = note ? strlen(note) : 0;
    if (n < FS_NOTE_MIN)
        return fs_fail(d, FS_EINVAL, "G14: a sign-off's note says how you "
                       "concluded, in at least %d characters (--note)",
                       FS_NOTE_MIN);
    return fs_text_check("note (--note)", note, FS_NOTE_MAX - 1, d);
}

/* The request a lead belongs to, for its case and justification on the
 * entry. */
static int step_request(step *s, fs_gallery_batch *b, fs_request *r,
                        fs_detail *d)
{
    int rc = gate_request_get(s->g, b, s->l.request, r, d);
    if (rc == FS_OK) {
        snprintf(s->case_no, sizeof s->case_no, "%s", r->case_no);
        snprintf(s->justification, sizeof s->justification, "%s",
                 r->justification);
    }
    return rc;
}

static void sign(step *s)
{
    fs_signoff *o = &s->l.signoffs[s->l.n_signoffs++];
    memset(o, 0, sizeof *o);
    o->kind = s->kind;
    snprintf(o->user, sizeof o->user, "%s", s->g->who.name);
    snprintf(o->unit, sizeof o->unit, "%s", s->g->who.unit);
    o->time = (int64_t)time(NULL);
    snprintf(o->note, sizeof o->note, "%s", s->note);
    if (s->kind == FS_SIGN_REJECT)
        s->l.state = FS_LEAD_REJECTED;
    else if (signed_enough(&s->l))
        s->l.state = FS_LEAD_APPROVED;
    snprintf(s->outcome, sizeof s->outcome, "%s", s->l.state ==
             FS_LEAD_APPROVED ? "ok: lead approved" : s->l.state ==
             FS_LEAD_REJECTED ? "ok: lead rejected" : "ok");
}

static int propose_in(void *ctx, fs_gallery_batch *b, fs_detail *d)
{
    step *s = ctx;
    fs_gate *g = s->g;
    gate_search *x = NULL;
    int rc = gate_search_get(g, b, s->search, &x, d);
    if (rc != FS_OK)
        return rc;
    fs_request r;
    fs_lead *l = &s->l;
    snprintf(l->search, sizeof l->search, "%s", x->id);
    snprintf(l->request, sizeof l->request, "%s", x->request);
    rc = step_request(s, b, &r, d);
    if (rc == FS_OK && !x->released)
        rc = fs_fail(d, FS_DENIED, "G13: search %s released no list (its "
                     "probe was rejected: %s): there is no candidate to "
                     "propose", x->id, x->reasons);
    else if (rc == FS_OK && r.state != FS_REQUEST_OPEN)
        rc = fs_fail(d, FS_DENIED, "G10: request %s is closed (%s): its "
                     "list can no longer give a lead", r.id,
                     fs_outcome_name(r.outcome));
    size_t i = 0;
    while (rc == FS_OK && i < x->n && strcmp(x->list[i].subject,
                                             s->subject) != 0)
        i++;
    if (rc == FS_OK && i == x->n)
        rc = fs_fail(d, FS_NOTFOUND, "subject '%.64s' is not on the list "
                     "of search %s", s->subject, x->id);
    if (rc == FS_OK) {
        snprintf(l->subject, sizeof l->subject, "%s", x->list[i].subject);
        l->rank = x->list[i].rank;
        l->score = x->list[i].score;
    }
    gate_search_free(x);
    leads_of c;
    memset(&c, 0, sizeof c);
    c.request = l->request;
    if (rc == FS_OK)
        rc = leads_count(g, b, &c, d);
    if (rc == FS_OK && c.proposed)
        rc = fs_fail(d, FS_DENIED, "G14: request %s has lead %s in review: "
                     "one lead per request at a time", l->request,
                     c.last_proposed);
    else if (rc == FS_OK && c.approved)
        rc = fs_fail(d, FS_DENIED, "G14: request %s has an approved lead "
                     "already (%s)", l->request, c.last_approved);
    if (rc == FS_OK)
        rc = note_check(s->note, d);
    uint64_t seq;
    if (rc == FS_OK)
        rc = gate_next_seq(g, b, GT_LEADS, &seq, d);
    if (rc != FS_OK)
        return rc;
    gate_id_format('L', seq, l->id);
    l->state = FS_LEAD_PROPOSED;
    l->examiners_needed = g->profile.review_examiners;
    l->supervisors_needed = g->profile.review_supervisors;
    sign(s);
    step_objects(s);
    return lead_put(g, b, l, d);
}

/* Who signed a lead already, as a refusal's words; NULL when nobody of
 * that name did. */
static const char *signed_as(const fs_lead *l, const char *user)
{
    for (size_t i = 0; i < l->n_signoffs; i++)
        if (strcmp(l->signoffs[i].user, user) == 0)
            return l->signoffs[i].kind == FS_SIGN_PROPOSE ? "proposed it"
                   : "signed it already";
    return NULL;
}

static int sign_in(void *ctx, fs_gallery_batch *b, fs_detail *d)
{
    step *s = ctx;
    fs_gate *g = s->g;
    fs_lead *l = &s->l;
    fs_request r;
    int rc = gate_lead_get(g, b, s->lead, l, d);
    if (rc != FS_OK)
        return rc;
    step_objects(s);
    if ((rc = step_request(s, b, &r, d)) != FS_OK)
        return rc;
    const char *who = g->who.name, *as = signed_as(l, who);
    if (l->state != FS_LEAD_PROPOSED)
        return fs_fail(d, FS_DENIED, "G14: lead %s is %s already: a lead's "
                       "state only moves forward", l->id,
                       fs_lead_state_name(l->state));
    if (as)
        return fs_fail(d, FS_DENIED, "G14: %s %s (lead %s): each sign-off "
                       "is a distinct person, nobody reviews their own "
                       "proposal", who, as, l->id);
    if (s->kind != FS_SIGN_REJECT && r.state != FS_REQUEST_OPEN)
        return fs_fail(d, FS_DENIED, "G14: request %s is closed (%s): its "
                       "lead %s can no longer be signed, only rejected",
                       r.id, fs_outcome_name(r.outcome), l->id);
    size_t have = count_kind(l, FS_SIGN_CORROBORATE);
    if (s->kind == FS_SIGN_APPROVE && have < (size_t)l->examiners_needed) {
        size_t miss = (size_t)l->examiners_needed - have;
        return fs_fail(d, FS_DENIED, "G14: lead %s needs %zu more "
                       "corroborating examiner%s before a supervisor "
                       "approves it (profile: %d)", l->id, miss,
                       miss == 1 ? "" : "s", l->examiners_needed);
    }
    if (l->n_signoffs >= FS_SIGNOFFS_MAX)
        return fs_fail(d, FS_DENIED, "G14: lead %s holds %d sign-offs, the "
                       "most one lead can: a supervisor approves or rejects "
                       "it", l->id, FS_SIGNOFFS_MAX);
    if ((rc = note_check(s->note, d)) != FS_OK)
        return rc;
    sign(s);
    return lead_put(g, b, l, d);
}

static const char *const step_actions[] = {
    "review propose", "review corroborate", "review approve", "review reject"
};

static int step_run(step *s, fs_detail *d)
{
    static const unsigned roles[] = { FS_ROLE_EXAMINER, FS_ROLE_EXAMINER,
                                      FS_ROLE_SUPERVISOR, FS_ROLE_SUPERVISOR };
    const char *action = step_actions[s->kind];
    int rc = gate_require(s->g, roles[s->kind], 1, action, d);
    if (rc != FS_OK)
        return rc;
    snprintf(s->outcome, sizeof s->outcome, "ok");
    fs_audit_entry e = { action, s->case_no, s->justification, s->objects,
                         s->outcome };
    return gate_change(s->g, s->kind == FS_SIGN_PROPOSE ? propose_in : sign_in,
                       s, &e, d);
}

static step *step_new(fs_gate *g, int kind, const char *note, fs_detail *d)
{
    step *s = calloc(1, sizeof *s);
    if (!s) {
        fs_fail(d, FS_ENOMEM, "no memory for a sign-off");
        return NULL;
    }
    s->g = g;
    s->kind = kind;
    s->note = note;
    return s;
}

static void step_free(step *s)
{
    if (s)
        fs_wipe(s, sizeof *s);
    free(s);
}

int fs_review_propose(fs_gate *g, const char *search, const char *subject,
                      const char *note, char id[FS_ID_MAX], fs_detail *d)
{
    step *s = step_new(g, FS_SIGN_PROPOSE, note, d);
    if (!s)
        return FS_ENOMEM;
    s->search = search ? search : "";
    s->subject = subject ? subject : "";
    /* what a refusal before the lead exists names: the input, shown */
    char shown[FS_SUBJECT_MAX * 4 + 1];
    fs_text_escape(s->subject, shown, sizeof shown, 0);
    snprintf(s->objects, sizeof s->objects, "search %.15s, subject %s",
             s->search, shown);
    int rc = step_run(s, d);
    if (rc == FS_OK)
        memcpy(id, s->l.id, FS_ID_MAX);
    step_free(s);
    return rc;
}

static int sign_lead(fs_gate *g, int kind, const char *lead, const char *note,
                     fs_detail *d)
{
    step *s = step_new(g, kind, note, d);
    if (!s)
        return FS_ENOMEM;
    s->lead = lead ? lead : "";
    snprintf(s->objects, sizeof s->objects, "lead %.15s", s->lead);
    int rc = step_run(s, d);
    step_free(s);
    return rc;
}

int fs_review_corroborate(fs_gate *g, const char *lead, const char *note,
                          fs_detail *d)
{
    return sign_lead(g, FS_SIGN_CORROBORATE, lead, note, d);
}

int fs_review_approve(fs_gate *g, const char *lead, const char *note,
                      fs_detail *d)
{
    return sign_lead(g, FS_SIGN_APPROVE, lead, note, d);
}

int fs_review_reject(fs_gate *g, const char *lead, const char *note,
                     fs_detail *d)
{
    return sign_lead(g, FS_SIGN_REJECT, lead, note, d);
}

/* ---- reading ------------------------------------------------------------------- */

/* A requester sees the leads of the requests they filed, as they see
 * those requests; the others are as if absent. */
static int lead_visible(fs_gate *g, fs_gallery_batch *b, const fs_lead *l,
                        fs_detail *d)
{
    fs_request r;
    if (g->who.roles & ~(unsigned)FS_ROLE_REQUESTER)
        return FS_OK;
    int rc = gate_request_get(g, b, l->request, &r, d);
    if (rc == FS_OK && !gate_request_visible(g, &r))
        rc = FS_NOTFOUND;
    return rc;
}

int fs_lead_get(fs_gate *g, const char *id, fs_lead *l, fs_detail *d)
{
    char objects[FS_ID_MAX + 16];
    snprintf(objects, sizeof objects, "lead %.15s", id ? id : "");
    int rc = gate_require_read(g, ANY_ROLE, "review show", objects, d);
    fs_gallery_batch *b;
    if (rc != FS_OK || (rc = gate_read(g, &b, d)) != FS_OK)
        return rc;
    fs_lead *x = malloc(sizeof *x);
    rc = x ? gate_lead_get(g, b, id, x, d)
           : fs_fail(d, FS_ENOMEM, "no memory for a lead");
    if (rc == FS_OK)
        rc = lead_visible(g, b, x, d);
    fs_gallery_abort(b);
    if (rc == FS_NOTFOUND)
        rc = fs_fail(d, rc, "no lead '%.20s'", id ? id : "");
    if (rc == FS_OK)
        memcpy(l, x, sizeof *l);
    free(x);
    return rc;
}

typedef struct lead_list {
    fs_gate          *g;
    fs_gallery_batch *b;
    const char       *request;
    fs_lead          *v;
    size_t            n, cap;
    fs_detail        *d;
} lead_list;

static int collect_lead(void *ctx, const fs_lead *l)
{
    lead_list *c = ctx;
    if (c->request && strcmp(l->request, c->request) != 0)
        return FS_OK;
    int rc = lead_visible(c->g, c->b, l, c->d);
    if (rc == FS_NOTFOUND)
        return FS_OK;
    void *arr = c->v;
    if (rc == FS_OK)
        rc = gate_room_for_one(&arr, c->n, &c->cap, sizeof *c->v, c->d);
    c->v = arr;
    if (rc == FS_OK)
        c->v[c->n++] = *l;
    return rc;
}

int fs_lead_list(fs_gate *g, const char *request, fs_lead **out, size_t *n,
                 fs_detail *d)
{
    char objects[FS_ID_MAX + 32];
    if (request)
        snprintf(objects, sizeof objects, "leads of request %.15s", request);
    else
        snprintf(objects, sizeof objects, "leads");
    int rc = gate_require_read(g, ANY_ROLE, "review list", objects, d);
    fs_gallery_batch *b;
    if (rc != FS_OK || (rc = gate_read(g, &b, d)) != FS_OK)
        return rc;
    lead_list c = { g, b, request, NULL, 0, 0, d };
    if (request) {          /* a request one may not see is as if absent */
        fs_request r;
        rc = gate_request_get(g, b, request, &r, d);
        if (rc == FS_OK && !gate_request_visible(g, &r))
            rc = fs_fail(d, FS_NOTFOUND, "no request '%s'", request);
    }
    if (rc == FS_OK)
        rc = gate_leads_each(g, b, collect_lead, &c, d);
    fs_gallery_abort(b);
    if (rc != FS_OK) {
        free(c.v);
        return rc;
    }
    *out = c.v;
    *n = c.n;
    return FS_OK;
}
