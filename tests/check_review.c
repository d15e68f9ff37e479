/*
 * check_review.c - leads and their corroboration (G14) as examiners,
 * supervisors, requesters and auditors meet them: the full path from a
 * released list to an approved lead, who may sign and who may not, one
 * lead per request at a time, the notes, the profile's numbers kept by
 * the lead, the trail, the closing of a request on its lead, and the
 * command line.  The gallery with its people and a released search is
 * made once per test case through the real binary and copied for each
 * test; most tests then drive the library in-process, logging in as each
 * person in turn, which keeps the suite quick.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../engine/facesearch.h"
#include "../engine/base/fs_json.h"
#include "fs_testutil.h"

#define SUBJECT "subj-ec1984"      /* the enrolled face's subject id */
#define NOTE    "features match at the eyes, nose and chin"

static char gal[4096];
static char *base;                  /* the test case's template, or NULL */
static int have_face;               /* the photo is there: S1 released */
static fs_gate *g;                  /* the test's gallery, in-process */

#define RUN(out, err, ...) \
    tu_run_on(gal, NULL, out, err, (const char *const[]){ __VA_ARGS__, NULL })
#define EXPECT(want, what, ...) \
    tu_expect_on(gal, want, what, NULL, \
                 (const char *const[]){ __VA_ARGS__, NULL })

/* A detroit gallery with its people: examiners e1, e2, e3, supervisors
 * s1, s2, "es" who is both, requesters ray and rita, auditor aud; one
 * face enrolled.  Through ray's request R1 e1's search S1 released a list
 * holding SUBJECT, and through R2 a blank probe was rejected (S2). */
static void people(const char *profile)
{
    if (strcmp(profile, "detroit") == 0)
        tu_init_gallery(gal);
    else
        tu_init_gallery_as(gal, profile, "admin");
    static const char *const who[][3] = {
        { "e1", "examiner", "2026-01-15" }, { "e2", "examiner", "2026-01-15" },
        { "e3", "examiner", "2026-01-15" },
        { "s1", "supervisor", "2025-06-01" },
        { "s2", "supervisor", "2025-06-01" },
        { "es", "examiner,supervisor", "2025-06-01" },
        { "ray", "requester", NULL }, { "rita", "requester", NULL },
        { "aud", "auditor", NULL },
    };
    for (size_t i = 0; i < sizeof who / sizeof who[0]; i++)
        tu_add_user(gal, who[i][0], who[i][1], who[i][2]);
}

static void file_request(void)
{
    EXPECT(0, "R", "request", "new", "--case", "2026-0042", "--crime",
           "robbery", "--requester", "Det. Ray Jones", "--agency", "TEST",
           "--contact", "ray.jones@example.org", "--justification",
           "Armed robbery of a gas station on Grand River; the clerk saw "
           "the suspect's face", "--source", "photo taken by the victim");
}

/* The face enrolled, R1 searched (S1) and, with rejected, R2's blank
 * probe refused (S2).  0 when the face photo is absent. */
static int searched(const char *dir, int rejected)
{
    char mug[4200];
    snprintf(mug, sizeof mug, "%s/mugshots-%d", dir, rejected);
    ck_assert_int_eq(mkdir(mug, 0700), 0);
    const char *subject = tu_path(mug, SUBJECT);
    ck_assert_int_eq(mkdir(subject, 0700), 0);
    if (tu_face_variant(tu_path(subject, "booking.bmp"), 1.0, 0) != 0)
        return 0;
    EXPECT(0, "1 enrolled", "enroll", mug);
    const char *probe = tu_path(dir, "probe.bmp");
    ck_assert_int_eq(tu_face_variant(probe, 0.8, 0), 0);
    tu_as(gal, "ray");
    file_request();
    tu_as(gal, "e1");
    EXPECT(0, SUBJECT, "search", "--request", "R1", probe, "--human-review");
    if (rejected) {
        tu_as(gal, "ray");
        file_request();
        uint8_t *grey = malloc(200 * 200 * 3);
        memset(grey, 128, 200 * 200 * 3);
        const char *blank = tu_path(dir, "blank.bmp");
        ck_assert_int_eq(tu_write_bmp(blank, grey, 200, 200), 0);
        free(grey);
        tu_as(gal, "e1");
        EXPECT(1, "G13", "search", "--request", "R2", blank,
               "--human-review");
    }
    return 1;
}

static void base_setup(void)
{
    base = tu_template_begin(gal);
    people("detroit");
    have_face = searched(base, 1);
    tu_template_done(base);
}

static void base_teardown(void)
{
    tu_template_free(&base);
}

/* The template copied (it shares the template's key file, and starts
 * from the anchor as the template left it), opened in-process. */
static void setup(void)
{
    tu_template_start(base, gal);
    fs_detail d = { "" };
    ck_assert_msg(fs_gate_open(gal, NULL, &g, &d) == FS_OK, "%s", d.msg);
}

static void teardown(void)
{
    if (g)
        fs_gate_close(g);
    g = NULL;
    tu_tmp_teardown();
}

/* ---- in-process helpers ----------------------------------------------------- */

static void as(const char *user)
{
    char path[4096];
    fs_detail d = { "" };
    ck_assert_msg(fs_gate_login(g, user, TU_PASSWORD, path, sizeof path, &d)
                  == FS_OK, "login %s: %s", user, d.msg);
}

/* rc is want, and the detail holds what (when given). */
static void expect_rc(int rc, const fs_detail *d, int want, const char *what,
                      const char *step)
{
    ck_assert_msg(rc == want && (!what || strstr(d->msg, what)),
                  "%s: rc %d (want %d), detail '%s' (want '%s')", step, rc,
                  want, d->msg, what ? what : "");
}

static void propose_ok(const char *user, const char *search, char id[16])
{
    as(user);
    fs_detail d = { "" };
    int rc = fs_review_propose(g, search, SUBJECT, NOTE, id, &d);
    expect_rc(rc, &d, FS_OK, NULL, "propose");
}

static void propose_refused(const char *user, const char *search,
                            const char *subject, const char *note, int want,
                            const char *what)
{
    as(user);
    char id[16] = "";
    fs_detail d = { "" };
    int rc = fs_review_propose(g, search, subject, note, id, &d);
    expect_rc(rc, &d, want, what, "propose");
    ck_assert_str_eq(id, "");
}

typedef int (*sign_fn)(fs_gate *, const char *, const char *, fs_detail *);

static void signs(const char *user, sign_fn fn, const char *lead, int want,
                  const char *what)
{
    as(user);
    fs_detail d = { "" };
    int rc = fn(g, lead, NOTE, &d);
    char step[64];
    snprintf(step, sizeof step, "%s signing %s", user, lead);
    expect_rc(rc, &d, want, what, step);
}

static void lead(const char *id, fs_lead *l)
{
    fs_detail d = { "" };
    ck_assert_msg(fs_lead_get(g, id, l, &d) == FS_OK, "%s", d.msg);
}

static int lead_state(const char *id)
{
    static fs_lead l;
    lead(id, &l);
    return l.state;
}

/* Trail entries (read as the auditor) of action whose outcome holds
 * what: how many. */
typedef struct trail_find {
    const char *action, *outcome;
    const char *case_no;
    int n;
} trail_find;

static int trail_one(void *ctx, const fs_audit_record *r)
{
    trail_find *f = ctx;
    if (strcmp(r->action, f->action) == 0 && strstr(r->outcome, f->outcome) &&
        (!f->case_no || strcmp(r->case_no, f->case_no) == 0))
        f->n++;
    return 0;
}

static int on_trail(const char *action, const char *outcome,
                    const char *case_no)
{
    as("aud");
    trail_find f = { action, outcome, case_no, 0 };
    fs_detail d = { "" };
    ck_assert_msg(fs_audit_walk(g, NULL, trail_one, &f, &d) == FS_OK, "%s",
                  d.msg);
    return f.n;
}

static void close_request(const char *id, int outcome, int want,
                          const char *what)
{
    as("ray");
    fs_detail d = { "" };
    int rc = fs_request_close(g, id, outcome, NULL, &d);
    expect_rc(rc, &d, want, what, "request close");
}

/* ---- the path -------------------------------------------------------------------- */

/* Proposed by e1, corroborated by e2, approved by s1: approved, with the
 * three sign-offs in order, each with its person, unit, time and note;
 * every step on the trail with the request's case; then the request
 * closes on its lead. */
START_TEST(test_G14_propose_corroborate_approve)
{
    if (!have_face)
        return;
    char id[16];
    propose_ok("e1", "S1", id);
    ck_assert_str_eq(id, "L1");
    fs_lead l;
    lead(id, &l);
    char needs[96];
    fs_lead_needs(&l, needs, sizeof needs);
    ck_assert_str_eq(needs, "needs 1 more examiner, then 1 supervisor");
    ck_assert_int_eq(l.state, FS_LEAD_PROPOSED);
    ck_assert(!fs_lead_complete(&l));
    ck_assert_str_eq(l.subject, SUBJECT);
    ck_assert_str_eq(l.request, "R1");
    ck_assert_str_eq(l.search, "S1");
    ck_assert_int_eq(l.rank, 1);
    ck_assert(l.score > 0.9f);
    ck_assert_int_eq(l.examiners_needed, 1);
    ck_assert_int_eq(l.supervisors_needed, 1);
    signs("e2", fs_review_corroborate, id, FS_OK, NULL);
    lead(id, &l);
    fs_lead_needs(&l, needs, sizeof needs);
    ck_assert_str_eq(needs, "needs 1 supervisor");
    ck_assert_int_eq(l.state, FS_LEAD_PROPOSED);
    signs("s1", fs_review_approve, id, FS_OK, NULL);
    lead(id, &l);
    ck_assert_int_eq(l.state, FS_LEAD_APPROVED);
    ck_assert(fs_lead_complete(&l));
    ck_assert_uint_eq(l.n_signoffs, 3);
    static const char *const who[] = { "e1", "e2", "s1" };
    static const int kind[] = { FS_SIGN_PROPOSE, FS_SIGN_CORROBORATE,
                                FS_SIGN_APPROVE };
    for (int i = 0; i < 3; i++) {
        ck_assert_str_eq(l.signoffs[i].user, who[i]);
        ck_assert_int_eq(l.signoffs[i].kind, kind[i]);
        ck_assert_str_eq(l.signoffs[i].unit, "TEST");
        ck_assert_str_eq(l.signoffs[i].note, NOTE);
        ck_assert(l.signoffs[i].time > 1700000000);
    }
    ck_assert(l.signoffs[0].time <= l.signoffs[2].time);
    ck_assert_int_eq(on_trail("review propose", "ok", "2026-0042"), 1);
    ck_assert_int_eq(on_trail("review corroborate", "ok", "2026-0042"), 1);
    ck_assert_int_eq(on_trail("review approve", "ok: lead approved",
                              "2026-0042"), 1);
    fs_lead *v;
    size_t n;
    fs_detail d = { "" };
    ck_assert_int_eq(fs_lead_list(g, "R1", &v, &n, &d), FS_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(v[0].id, "L1");
    free(v);
    ck_assert_int_eq(fs_lead_list(g, "R2", &v, &n, &d), FS_OK);
    ck_assert_uint_eq(n, 0);
    free(v);
    close_request("R1", FS_OUTCOME_NO_CANDIDATE, FS_DENIED, "G14");
    close_request("R1", FS_OUTCOME_LEAD, FS_OK, NULL);
}
END_TEST

/* Nobody reviews their own proposal, nobody signs twice, and one who
 * corroborated as an examiner cannot approve as a supervisor; each
 * refusal is on the trail naming G14. */
START_TEST(test_G14_distinct_people)
{
    if (!have_face)
        return;
    char id[16];
    propose_ok("e1", "S1", id);
    signs("e1", fs_review_corroborate, id, FS_DENIED, "G14: e1 proposed it");
    signs("es", fs_review_corroborate, id, FS_OK, NULL);
    signs("es", fs_review_corroborate, id, FS_DENIED, "G14: es signed it");
    signs("es", fs_review_approve, id, FS_DENIED, "G14: es signed it");
    signs("es", fs_review_reject, id, FS_DENIED, "G14");
    ck_assert_int_eq(lead_state(id), FS_LEAD_PROPOSED);
    ck_assert_int_eq(on_trail("review corroborate", "refused: G14", NULL), 2);
    ck_assert_int_eq(on_trail("review approve", "refused: G14", NULL), 1);
    signs("s1", fs_review_approve, id, FS_OK, NULL);
    ck_assert_int_eq(lead_state(id), FS_LEAD_APPROVED);
    fs_lead l;
    lead(id, &l);
    ck_assert_uint_eq(l.n_signoffs, 3);
}
END_TEST

/* A supervisor's approval waits for the profile's corroborations (and
 * says how many are missing); more corroborations than the profile asks
 * are taken but never stand in for the supervisor; an approved lead
 * takes no more sign-offs. */
START_TEST(test_G14_approval_waits_for_corroboration)
{
    if (!have_face)
        return;
    char id[16];
    propose_ok("e1", "S1", id);
    signs("s1", fs_review_approve, id, FS_DENIED, "needs 1 more "
          "corroborating examiner");
    signs("e2", fs_review_corroborate, id, FS_OK, NULL);
    signs("e3", fs_review_corroborate, id, FS_OK, NULL);
    ck_assert_int_eq(lead_state(id), FS_LEAD_PROPOSED);
    signs("s1", fs_review_approve, id, FS_OK, NULL);
    ck_assert_int_eq(lead_state(id), FS_LEAD_APPROVED);
    signs("s2", fs_review_approve, id, FS_DENIED, "approved already");
    signs("s2", fs_review_reject, id, FS_DENIED, "approved already");
    fs_lead l;
    lead(id, &l);
    ck_assert_uint_eq(l.n_signoffs, 4);
    ck_assert_int_eq(on_trail("review approve", "refused: G14: lead L1 "
                              "needs 1 more", NULL), 1);
}
END_TEST

/* G2, G3, G9: proposing and corroborating are a trained examiner's,
 * approving and rejecting a trained supervisor's.  (An examiner or
 * supervisor without a training date cannot exist: user add refuses it,
 * G3, check_accounts.c.) */
START_TEST(test_G2_G3_G9_who_may_sign)
{
    if (!have_face)
        return;
    static const char *const not_examiners[] = { "ray", "aud", "admin",
                                                  "s1" };
    for (size_t i = 0; i < 4; i++)
        propose_refused(not_examiners[i], "S1", SUBJECT, NOTE, FS_DENIED,
                        "G2");
    char id[16];
    propose_ok("e1", "S1", id);
    static const char *const not_supervisors[] = { "ray", "aud", "admin",
                                                   "e2" };
    for (size_t i = 0; i < 4; i++) {
        signs(not_supervisors[i], fs_review_approve, id, FS_DENIED, "G2");
        signs(not_supervisors[i], fs_review_reject, id, FS_DENIED, "G2");
    }
    signs("s1", fs_review_corroborate, id, FS_DENIED, "G2");
    signs("ray", fs_review_corroborate, id, FS_DENIED, "G2");
    fs_lead l;
    lead(id, &l);
    ck_assert_uint_eq(l.n_signoffs, 1);
    ck_assert_int_eq(on_trail("review propose", "refused: G2", NULL), 4);
}
END_TEST

/* One lead per request at a time: a second proposal while one is in
 * review is refused; a rejected lead leaves room for another; a rejected
 * lead is not signed again. */
START_TEST(test_G14_one_lead_per_request)
{
    if (!have_face)
        return;
    char id[16], id2[16];
    propose_ok("e1", "S1", id);
    propose_refused("e2", "S1", SUBJECT, NOTE, FS_DENIED, "G14: request R1 "
                    "has lead L1 in review");
    close_request("R1", FS_OUTCOME_LEAD, FS_DENIED, "G14: request R1 has no "
                  "approved lead");
    close_request("R1", FS_OUTCOME_NO_CANDIDATE, FS_DENIED, "G14");
    signs("s1", fs_review_reject, id, FS_OK, NULL);
    ck_assert_int_eq(lead_state(id), FS_LEAD_REJECTED);
    ck_assert_int_eq(on_trail("review reject", "ok: lead rejected", NULL), 1);
    signs("s2", fs_review_approve, id, FS_DENIED, "rejected already");
    signs("e3", fs_review_corroborate, id, FS_DENIED, "rejected already");
    propose_ok("e2", "S1", id2);
    ck_assert_str_eq(id2, "L2");
    signs("e1", fs_review_corroborate, id2, FS_OK, NULL);
    signs("s2", fs_review_approve, id2, FS_OK, NULL);
    propose_refused("e3", "S1", SUBJECT, NOTE, FS_DENIED, "G14: request R1 "
                    "has an approved lead");
    /* with its lead approved the request has a candidate */
    close_request("R1", FS_OUTCOME_NO_CANDIDATE, FS_DENIED, "approved");
    close_request("R1", FS_OUTCOME_LEAD, FS_OK, NULL);
}
END_TEST

/* What can be proposed: a subject on a released list (named when it is
 * not), of an open request; not a search that was an image rejection
 * (G13), nor one of a closed request (G10); ids that do not exist. */
START_TEST(test_G10_G13_G14_what_can_be_proposed)
{
    if (!have_face)
        return;
    propose_refused("e1", "S1", "subj-nobody", NOTE, FS_NOTFOUND,
                    "subject 'subj-nobody' is not on the list of search S1");
    propose_refused("e1", "S2", SUBJECT, NOTE, FS_DENIED, "G13");
    propose_refused("e1", "S9", SUBJECT, NOTE, FS_NOTFOUND, "S9");
    propose_refused("e1", "R1", SUBJECT, NOTE, FS_NOTFOUND, NULL);
    propose_refused("e1", NULL, NULL, NOTE, FS_NOTFOUND, NULL);
    signs("e2", fs_review_corroborate, "L9", FS_NOTFOUND, "no lead 'L9'");
    signs("s1", fs_review_approve, "S1", FS_NOTFOUND, "no lead");
    ck_assert_int_eq(on_trail("review propose", "refused: G13", NULL), 1);
    close_request("R1", FS_OUTCOME_REJECTED, FS_OK, NULL);
    propose_refused("e1", "S1", SUBJECT, NOTE, FS_DENIED, "G10: request R1 "
                    "is closed");
    fs_lead *v;
    size_t n;
    fs_detail d = { "" };
    ck_assert_int_eq(fs_lead_list(g, NULL, &v, &n, &d), FS_OK);
    ck_assert_uint_eq(n, 0);
    free(v);
}
END_TEST

/* A sign-off's note says how the person concluded: too short, missing,
 * or holding a control character is refused (FS_EINVAL) and nothing is
 * stored. */
START_TEST(test_G14_note_required)
{
    if (!have_face)
        return;
    propose_refused("e1", "S1", SUBJECT, "same guy", FS_EINVAL, "at least 10");
    propose_refused("e1", "S1", SUBJECT, NULL, FS_EINVAL, "--note");
    propose_refused("e1", "S1", SUBJECT, "match at the\nchin and eyes",
                    FS_EINVAL, "control character");
    propose_refused("e1", "S1", SUBJECT, "match at the\x1b[2Jchin and eyes",
                    FS_EINVAL, "control character");
    char id[16];
    propose_ok("e1", "S1", id);
    as("e2");
    fs_detail d = { "" };
    expect_rc(fs_review_corroborate(g, id, "ok", &d), &d, FS_EINVAL,
              "at least 10", "short corroboration");
    expect_rc(fs_review_corroborate(g, id, "looks right\t to me", &d), &d,
              FS_EINVAL, "control character", "tab in a note");
    fs_lead l;
    lead(id, &l);
    ck_assert_uint_eq(l.n_signoffs, 1);
    ck_assert_int_eq(on_trail("review propose", "refused: G14: a sign-off's "
                              "note", NULL), 2);
}
END_TEST

/* A requester sees the leads of the requests they filed, and no other
 * requester does; reading a lead goes on the trail. */
START_TEST(test_G14_requester_sees_own_leads)
{
    if (!have_face)
        return;
    char id[16];
    propose_ok("e1", "S1", id);
    fs_lead l;
    fs_lead *v;
    size_t n;
    fs_detail d = { "" };
    as("ray");
    ck_assert_int_eq(fs_lead_get(g, id, &l, &d), FS_OK);
    ck_assert_int_eq(fs_lead_list(g, NULL, &v, &n, &d), FS_OK);
    ck_assert_uint_eq(n, 1);
    free(v);
    as("rita");
    expect_rc(fs_lead_get(g, id, &l, &d), &d, FS_NOTFOUND, "no lead 'L1'",
              "rita reads L1");
    expect_rc(fs_lead_list(g, "R1", &v, &n, &d), &d, FS_NOTFOUND,
              "no request 'R1'", "rita lists R1's");
    ck_assert_int_eq(fs_lead_list(g, NULL, &v, &n, &d), FS_OK);
    ck_assert_uint_eq(n, 0);
    free(v);
    ck_assert_int_eq(on_trail("review show", "ok", NULL), 2);
    ck_assert_int_eq(on_trail("review list", "ok", NULL), 3);
}
END_TEST

/* The lead keeps the numbers of the profile in force when it was
 * proposed: a profile that asks for no review, set later, neither
 * approves a lead in review nor lets a supervisor skip its corroboration;
 * a lead proposed under it is approved at once. */
START_TEST(test_G14_lead_keeps_its_profile)
{
    if (!have_face)
        return;
    char id[16], id2[16];
    propose_ok("e1", "S1", id);
    as("admin");
    const char *text;
    fs_detail d = { "" };
    ck_assert_int_eq(fs_gate_profile_show(g, &text, &d), FS_OK);
    size_t cap = strlen(text) + 64;
    char *edited = malloc(cap), *at;
    snprintf(edited, cap, "%s", text);
    ck_assert_ptr_nonnull(at = strstr(edited, "review.examiners = 1"));
    at[strlen("review.examiners = ")] = '0';
    ck_assert_ptr_nonnull(at = strstr(edited, "review.supervisors = 1"));
    at[strlen("review.supervisors = ")] = '0';
    /* the template's quick failed-login pause back to detroit's floor */
    ck_assert_ptr_nonnull(at = strstr(edited, "login.failure_delay_ms = 100\n"));
    memmove(at + 28, at + 27, strlen(at + 27) + 1);
    at[27] = '0';
    ck_assert_msg(fs_gate_set_profile(g, edited, strlen(edited), &d) ==
                  FS_OK, "%s", d.msg);
    free(edited);
    signs("s1", fs_review_approve, id, FS_DENIED, "needs 1 more");
    signs("s1", fs_review_reject, id, FS_OK, NULL);
    propose_ok("e2", "S1", id2);
    fs_lead l;
    lead(id2, &l);
    ck_assert_int_eq(l.state, FS_LEAD_APPROVED);
    ck_assert(fs_lead_complete(&l));
    ck_assert_int_eq(l.examiners_needed, 0);
    ck_assert_uint_eq(l.n_signoffs, 1);
}
END_TEST

/* miami asks for no second review: the proposal is the approved lead,
 * and its entry says so. */
START_TEST(test_G14_miami_approves_at_once)
{
    fs_gate_close(g);
    g = NULL;
    snprintf(gal, sizeof gal, "%s/gallery-miami", tu_tmp);
    people("miami");
    /* miami's first authorized use */
    fs_profile p;
    ck_assert_int_eq(fs_profile_load("miami", &p, NULL, NULL), FS_OK);
    if (tu_face_variant(tu_path(tu_tmp, "probe.bmp"), 0.8, 0) != 0)
        return;
    const char *mug = tu_path(tu_tmp, "mugshots");
    ck_assert_int_eq(mkdir(mug, 0700), 0);
    ck_assert_int_eq(mkdir(tu_path(mug, SUBJECT), 0700), 0);
    ck_assert_int_eq(tu_face_variant(tu_path(tu_path(mug, SUBJECT),
                                             "booking.bmp"), 1.0, 0), 0);
    tu_as(gal, "admin");
    EXPECT(0, "1 enrolled", "enroll", mug);
    tu_as(gal, "ray");
    EXPECT(0, "R1", "request", "new", "--case", "2026-0042", "--crime",
           p.authorized_use[0], "--requester", "Det. Ray Jones", "--agency",
           "TEST", "--contact", "ray.jones@example.org", "--justification",
           "Armed robbery of a gas station on Grand River; the clerk saw "
           "the suspect's face", "--source", "photo taken by the victim");
    tu_as(gal, "e1");
    EXPECT(0, SUBJECT, "search", "--request", "R1",
           tu_path(tu_tmp, "probe.bmp"), "--human-review");
    fs_detail d = { "" };
    ck_assert_msg(fs_gate_open(gal, NULL, &g, &d) == FS_OK, "%s", d.msg);
    char id[16];
    propose_ok("e1", "S1", id);
    fs_lead l;
    lead(id, &l);
    ck_assert_int_eq(l.state, FS_LEAD_APPROVED);
    ck_assert(fs_lead_complete(&l));
    ck_assert_int_eq(l.examiners_needed, 0);
    ck_assert_int_eq(l.supervisors_needed, 0);
    ck_assert_int_eq(on_trail("review propose", "ok: lead approved", NULL),
                     1);
    signs("s1", fs_review_approve, id, FS_DENIED, "approved already");
    close_request("R1", FS_OUTCOME_LEAD, FS_OK, NULL);
}
END_TEST

/* ---- races ----------------------------------------------------------------------- */

/* One racer: who, and what they do once released (a proposal on S1, or
 * a corroboration of L1); what came of it. */
typedef struct racer {
    const char *user;
    int         corroborate;
    int         rc;
    char        msg[256];
} racer;

static int propose_s1(fs_gate *mine, void *state, fs_detail *d)
{
    (void)state;
    char id[16] = "";
    return fs_review_propose(mine, "S1", SUBJECT, NOTE, id, d);
}

static int corroborate_l1(fs_gate *mine, void *state, fs_detail *d)
{
    (void)state;
    return fs_review_corroborate(mine, "L1", NOTE, d);
}

/* The racers, each in a process of its own with its own handle and its
 * own session (tu_racer), held until every one is open, then released at
 * once.  The test's handle is closed across the forks (LMDB does not
 * share one with a child) and open again after. */
static void race(racer *who, int n)
{
    fs_gate_close(g);
    g = NULL;
    static const tu_verb verb[2] = { { NULL, propose_s1, NULL },
                                     { NULL, corroborate_l1, NULL } };
    int ready[2], go[2], back[8][2];
    ck_assert(n <= 8 && pipe(ready) == 0 && pipe(go) == 0);
    pid_t kid[8];
    for (int i = 0; i < n; i++) {
        ck_assert_int_eq(pipe(back[i]), 0);
        kid[i] = tu_racer(gal, who[i].user, &verb[who[i].corroborate],
                          ready[1], go[0], back[i][1]);
    }
    char c;
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(read(ready[0], &c, 1), 1);
    char all[8] = "gggggggg";
    ck_assert_int_eq(write(go[1], all, (size_t)n), n);
    for (int i = 0; i < n; i++) {
        int st, off = 0;
        char res[TU_RACER_OUT];
        ck_assert_int_eq(waitpid(kid[i], &st, 0), kid[i]);
        ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        ck_assert_int_eq(read(back[i][0], res, sizeof res),
                         (ssize_t)sizeof res);
        ck_assert_int_eq(sscanf(res, "%d %n", &who[i].rc, &off), 1);
        snprintf(who[i].msg, sizeof who[i].msg, "%s", res + off);
        close(back[i][0]);
        close(back[i][1]);
    }
    close(ready[0]);
    close(ready[1]);
    close(go[0]);
    close(go[1]);
    fs_detail d = { "" };
    ck_assert_msg(fs_gate_open(gal, NULL, &g, &d) == FS_OK, "%s", d.msg);
}

/* The one racer whose verb went through, the others refused with what
 * (asserted). */
static const racer *one_winner(const racer *who, int n, const char *what)
{
    const racer *won = NULL;
    for (int i = 0; i < n; i++) {
        if (who[i].rc == FS_OK) {
            ck_assert_msg(!won, "%s and %s both went through", won ? won->user
                          : "", who[i].user);
            won = &who[i];
        } else {
            ck_assert_msg(who[i].rc == FS_DENIED && strstr(who[i].msg, what),
                          "%s: rc %d, '%s' (want '%s')", who[i].user,
                          who[i].rc, who[i].msg, what);
        }
    }
    ck_assert_msg(won, "nobody went through");
    return won;
}

/* Insiders racing, each from a process of their own released at the
 * same moment: three examiners propose a lead on S1 at once, and one
 * lead comes of it, proposed by the one the other two were refused
 * for; then one examiner corroborates it twice at once, and it holds
 * one sign-off of theirs.  The trail has every try.  G14. */
START_TEST(test_G14_races_leave_one_lead_and_one_signoff)
{
    if (!have_face)
        return;
    racer p[3] = { { "e1", 0, 0, "" }, { "e2", 0, 0, "" },
                   { "e3", 0, 0, "" } };
    race(p, 3);
    const racer *won = one_winner(p, 3, "G14: request R1 has lead L1 in "
                                        "review");
    fs_lead l;
    lead("L1", &l);
    ck_assert_int_eq(l.state, FS_LEAD_PROPOSED);
    ck_assert_int_eq(l.n_signoffs, 1);
    ck_assert_str_eq(l.signoffs[0].user, won->user);
    fs_detail d = { "" };
    ck_assert_int_eq(fs_lead_get(g, "L2", &l, &d), FS_NOTFOUND);
    ck_assert_int_eq(on_trail("review propose", "", NULL), 3);
    ck_assert_int_eq(on_trail("review propose", "refused: G14", NULL), 2);

    const char *other = strcmp(won->user, "e1") == 0 ? "e2" : "e1";
    racer c[2] = { { other, 1, 0, "" }, { other, 1, 0, "" } };
    race(c, 2);
    one_winner(c, 2, "signed it already");
    lead("L1", &l);
    ck_assert_int_eq(l.n_signoffs, 2);
    ck_assert_str_eq(l.signoffs[1].user, other);
    ck_assert_int_eq(on_trail("review corroborate", "", NULL), 2);
    ck_assert_int_eq(on_trail("review corroborate", "refused: G14", NULL),
                     1);
}
END_TEST

/* ---- the command line ------------------------------------------------------------ */

/* Through bin/facesearch: the lead's id printed (and in --json), exit 2
 * for a bad note or a missing option, 1 with the rule for a refusal, the
 * lead shown with its sign-offs and what it still needs. */
START_TEST(test_G14_cli)
{
    if (!have_face)
        return;
    fs_gate_close(g);       /* the binary's turn */
    g = NULL;
    tu_as(gal, "e1");
    EXPECT(0, "review propose --search ID", "review", "--help");
    EXPECT(2, "at least 10", "review", "propose", "--search", "S1",
           "--subject", SUBJECT, "--note", "same");
    EXPECT(2, "control character", "review", "propose", "--search", "S1",
           "--subject", SUBJECT, "--note", "matches\x07 at the chin");
    EXPECT(2, "--subject", "review", "propose", "--search", "S1", "--note",
           NOTE);
    EXPECT(2, "is not on the list", "review", "propose", "--search", "S1",
           "--subject", "subj-x", "--note", NOTE);
    EXPECT(1, "G13", "review", "propose", "--search", "S2", "--subject",
           SUBJECT, "--note", NOTE);
    char *out, *err;
    ck_assert_int_eq(RUN(&out, &err, "review", "propose", "--search", "S1",
                         "--subject", SUBJECT, "--note", NOTE, "--json"), 0);
    fs_json *j = NULL;
    ck_assert_int_eq(fs_json_parse(out, strlen(out), &j, NULL), FS_OK);
    ck_assert_str_eq(fs_json_get(j, "id")->string, "L1");
    ck_assert_str_eq(fs_json_get(j, "state")->string, "proposed");
    fs_json_free(j);
    free(out);
    free(err);
    EXPECT(1, "G14: e1 proposed it", "review", "corroborate", "L1", "--note",
           NOTE);
    EXPECT(2, "needs one LEAD", "review", "corroborate", "--note", NOTE);
    EXPECT(0, "needs 1 more examiner, then 1 supervisor", "review", "list");
    EXPECT(0, "needs 1 more examiner, then 1 supervisor", "review", "show",
           "L1");
    tu_as(gal, "e2");
    EXPECT(0, "lead L1 corroborated: proposed (needs 1 supervisor)",
           "review", "corroborate", "L1", "--note", NOTE);
    tu_as(gal, "s1");
    ck_assert_int_eq(RUN(&out, &err, "review", "approve", "L1", "--note",
                         NOTE, "--json"), 0);
    ck_assert_int_eq(fs_json_parse(out, strlen(out), &j, NULL), FS_OK);
    ck_assert_str_eq(fs_json_get(j, "state")->string, "approved");
    const fs_json *s = fs_json_get(j, "signoffs");
    ck_assert(s && s->type == FS_JSON_ARRAY && s->n == 3);
    ck_assert_str_eq(fs_json_get(s->items[1], "user")->string, "e2");
    ck_assert_str_eq(fs_json_get(s->items[1], "kind")->string,
                     "corroborated");
    ck_assert_str_eq(fs_json_get(s->items[2], "note")->string, NOTE);
    ck_assert_int_eq(strlen(fs_json_get(s->items[2], "time")->string), 20);
    fs_json_free(j);
    free(out);
    free(err);
    EXPECT(0, "approved", "review", "list", "--request", "R1");
    EXPECT(2, "no lead 'L7'", "review", "show", "L7");
    tu_as(gal, "ray");
    EXPECT(0, "closed: lead", "request", "close", "R1", "--outcome", "lead");
}
END_TEST

Suite *suite_review(void)
{
    Suite *s = suite_create("review");
    TCase *t = tcase_create("review");
    tcase_set_tags(t, "policy");
    tcase_add_unchecked_fixture(t, base_setup, base_teardown);
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_set_timeout(t, 300);
    tcase_add_test(t, test_G14_propose_corroborate_approve);
    tcase_add_test(t, test_G14_distinct_people);
    tcase_add_test(t, test_G14_approval_waits_for_corroboration);
    tcase_add_test(t, test_G2_G3_G9_who_may_sign);
    tcase_add_test(t, test_G14_one_lead_per_request);
    tcase_add_test(t, test_G10_G13_G14_what_can_be_proposed);
    tcase_add_test(t, test_G14_note_required);
    tcase_add_test(t, test_G14_requester_sees_own_leads);
    tcase_add_test(t, test_G14_lead_keeps_its_profile);
    tcase_add_test(t, test_G14_miami_approves_at_once);
    tcase_add_test(t, test_G14_races_leave_one_lead_and_one_signoff);
    tcase_add_test(t, test_G14_cli);
    suite_add_tcase(s, t);
    return s;
}
