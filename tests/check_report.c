/*
 * check_report.c - what a request's searches come to (G11, G12-G17): the
 * possible-match, no-match and image rejection reports, each carrying the
 * profile's disclaimer and refused until what it reports stands (every
 * sign-off of the lead, a search made, an image rejected); who reads
 * them; every release recorded with its manner, bad manners refused with
 * nothing recorded; the requester's outcome, once.  Most tests run the
 * real binary; the review steps (no CLI of their own in this suite) and
 * the images and release list drive the library in-process, as the
 * logged-in user.
 */
#include <check.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../engine/facesearch.h"
#include "../engine/base/fs_json.h"
#include "../engine/base/fs_pack.h"
#include "../gate/fs_gate_int.h"
#include "fs_testutil.h"

#define SUBJECT "subj-ec1984"      /* the enrolled face's subject id */

static char gal[4096];
static char *base;                  /* the test case's template */

#define RUN(out, err, ...) \
    tu_run_on(gal, NULL, out, err, (const char *const[]){ __VA_ARGS__, NULL })
#define EXPECT(want, what, ...) \
    tu_expect_on(gal, want, what, NULL, \
                 (const char *const[]){ __VA_ARGS__, NULL })

/* ---- the template ------------------------------------------------------- */

/* A detroit gallery (two examiners and a supervisor sign a lead) with
 * eve and eva (examiners), sam (supervisor), ray and rita (requesters),
 * aud (auditor), and the face enrolled as SUBJECT when the photo is
 * there; made once per test case, copied for each test as check_search
 * does (the copies share the template's key and anchor files). */
static void base_setup(void)
{
    base = tu_template_begin(gal);
    tu_init_gallery(gal);
    tu_add_user(gal, "eve", "examiner", "2026-01-15");
    tu_add_user(gal, "eva", "examiner", "2025-11-02");
    tu_add_user(gal, "sam", "supervisor", "2025-06-01");
    tu_add_user(gal, "ray", "requester", NULL);
    tu_add_user(gal, "rita", "requester", NULL);
    tu_add_user(gal, "aud", "auditor", NULL);
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/mugshots/%s", base, SUBJECT);
    ck_assert_int_eq(mkdir(tu_path(base, "mugshots"), 0700), 0);
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    if (tu_face_variant(tu_path(dir, "booking.bmp"), 1.0, 0) == 0)
        EXPECT(0, "1 enrolled", "enroll", tu_path(base, "mugshots"));
    tu_as(gal, "admin");
    tu_template_done(base);
}

static void base_teardown(void)
{
    tu_template_free(&base);
}

static void setup(void)
{
    tu_template_start(base, gal);
}

/* ---- steps ----------------------------------------------------------------- */

/* A robbery request filed by `by` (a requester): R<n>. */
static void file_request(const char *by)
{
    tu_as(gal, by);
    tu_request_robbery(gal, "R");
}

/* A released search of request by eve, with a second picture of the
 * enrolled face: 0 when the photo is absent (the test then skips). */
static int searched(const char *request)
{
    const char *probe = tu_path(tu_tmp, "probe.bmp");
    if (access(probe, F_OK) != 0 && tu_face_variant(probe, 0.8, 0) != 0)
        return 0;
    tu_as(gal, "eve");
    EXPECT(0, SUBJECT, "search", "--request", request, probe,
           "--human-review");
    return 1;
}

/* An image rejection (G13) of request: a grey square has no face. */
static void rejected(const char *request)
{
    const char *blank = tu_path(tu_tmp, "blank.bmp");
    if (access(blank, F_OK) != 0) {
        uint8_t *grey = malloc(200 * 200 * 3);
        memset(grey, 128, 200 * 200 * 3);
        ck_assert_int_eq(tu_write_bmp(blank, grey, 200, 200), 0);
        free(grey);
    }
    tu_as(gal, "eve");
    EXPECT(1, "G13", "search", "--request", request, blank,
           "--human-review");
}

/* The gate opened in this process as user (logged in through the binary
 * first, so the session file is theirs). */
static fs_gate *gate_as(const char *user)
{
    tu_as(gal, user);
    fs_gate *g;
    fs_detail d = { "" };
    ck_assert_msg(fs_gate_open(gal, NULL, &g, &d) == FS_OK, "%s", d.msg);
    return g;
}

/* s with every run of white space as one space: the disclaimer as the
 * terminal wraps it. */
static char *squeezed(const char *s)
{
    char *o = malloc(strlen(s) + 1), *w = o;
    for (; *s; s++)
        if (!isspace((unsigned char)*s))
            *w++ = *s;
        else if (w > o && w[-1] != ' ')
            *w++ = ' ';
    while (w > o && w[-1] == ' ')
        w--;
    *w = 0;
    return o;
}

static const char *detroit_disclaimer(void)
{
    static fs_profile p;
    ck_assert_int_eq(fs_profile_load("detroit", &p, NULL, NULL), FS_OK);
    return p.disclaimer;
}

/* The report printed by args (issue or show), as text and as JSON: the
 * disclaimer at the end of the text, in the JSON's "disclaimer", and the
 * text, its lines joined, holding `says`.  Returns the report's id (static). */
static const char *report_says(const char *says, const char *const args[])
{
    static char id[16];
    char *out, *err;
    ck_assert_msg(tu_run_on(gal, NULL, &out, &err, args) == 0, "%s %s: %s",
                  args[0], args[1], err);
    char *flat = squeezed(out), *disc = squeezed(detroit_disclaimer());
    size_t fl = strlen(flat), dl = strlen(disc);
    ck_assert_msg(fl > dl && strcmp(flat + fl - dl, disc) == 0,
                  "the text does not end with the disclaimer: %s", out);
    ck_assert_msg(strstr(flat, says), "'%s' not in: %s", says, out);
    free(flat);
    free(disc);
    free(out);
    free(err);
    const char *jargs[8];
    size_t n = 0;
    for (; args[n]; n++)
        jargs[n] = args[n];
    jargs[n++] = "--json";
    jargs[n] = NULL;
    ck_assert_int_eq(tu_run_on(gal, NULL, &out, &err, jargs), 0);
    fs_json *j = NULL;
    ck_assert_msg(fs_json_parse(out, strlen(out), &j, NULL) == FS_OK, "%s",
                  out);
    const fs_json *v = fs_json_get(j, "disclaimer");
    ck_assert_msg(v && v->type == FS_JSON_STRING &&
                  strcmp(v->string, detroit_disclaimer()) == 0, "%s", out);
    v = fs_json_get(j, "id");
    ck_assert(v && v->type == FS_JSON_STRING);
    snprintf(id, sizeof id, "%s", v->string);
    fs_json_free(j);
    free(out);
    free(err);
    return id;
}

#define REPORT_SAYS(says, ...) \
    report_says(says, (const char *const[]){ __VA_ARGS__, NULL })

/* ---- no-match and rejection reports (G13, G15, G11) -------------------------- */

/* G15: the requester is told no candidate was found, once a search was
 * made and no lead stands; the report is the same when asked again, and
 * its request's requester (only) reads it. */
START_TEST(test_G15_no_match_report)
{
    file_request("ray");
    tu_as(gal, "eve");
    EXPECT(1, "G15: request R1 has no released search", "report",
           "no-match", "R1");
    if (!searched("R1"))
        return;
    tu_as(gal, "ray");
    EXPECT(1, "G2", "report", "no-match", "R1");   /* requesters read */
    tu_as(gal, "eve");
    ck_assert_str_eq(REPORT_SAYS("No candidate was found", "report",
                                 "no-match", "R1"), "P1");
    ck_assert_str_eq(REPORT_SAYS("NO MATCH REPORT", "report", "no-match",
                                 "R1"), "P1");
    EXPECT(0, "Det. Ray Jones, TEST", "report", "show", "P1");
    EXPECT(2, "no report 'P2'", "report", "show", "P2");
    EXPECT(2, "no report 'X1'", "report", "show", "X1");
    EXPECT(2, "no request 'R9'", "report", "no-match", "R9");
    tu_as(gal, "ray");
    ck_assert_str_eq(REPORT_SAYS("request R1", "report", "show", "P1"),
                     "P1");
    tu_as(gal, "rita");
    EXPECT(2, "no report 'P1'", "report", "show", "P1");
    tu_as(gal, "aud");
    EXPECT(0, "report P1, request R1", "audit", "log");
    EXPECT(0, "report P1 (issued already), request R1", "audit", "log");
}
END_TEST

/* G13, G15: an unfit probe's report gives the quality reasons and invites
 * another image; one report per rejected search. */
START_TEST(test_G13_G15_rejection_report)
{
    file_request("ray");
    tu_as(gal, "eve");
    EXPECT(1, "G13: request R1 has no image rejection", "report",
           "rejection", "R1");
    rejected("R1");
    const char *id = REPORT_SAYS("no face found", "report", "rejection",
                                 "R1");
    ck_assert_str_eq(id, "P1");
    REPORT_SAYS("submit another image", "report", "show", "P1");
    REPORT_SAYS("IMAGE REJECTION REPORT", "report", "rejection", "R1");
    EXPECT(0, "\"search\":\"S1\"", "report", "show", "P1", "--json");
    EXPECT(0, "\"reasons\":\"no face found\"", "report", "show", "P1",
           "--json");
    /* another image, rejected too: its own report */
    rejected("R1");
    tu_as(gal, "eve");
    ck_assert_str_eq(REPORT_SAYS("search S2", "report", "rejection", "R1"),
                     "P2");
}
END_TEST

/* G12: the images of a report come from the case file; once the probe is
 * purged (a detroit request closed with no viable candidate) the report
 * still reads, and its images say the probe is gone. */
START_TEST(test_G12_report_images_after_purge)
{
    file_request("ray");
    rejected("R1");
    EXPECT(0, "P1", "report", "rejection", "R1");
    fs_gate *g = gate_as("eve");
    uint8_t *probe, *mug;
    size_t pl, ml;
    fs_detail d = { "" };
    ck_assert_msg(fs_report_images(g, "P1", &probe, &pl, &mug, &ml, &d)
                  == FS_OK, "%s", d.msg);
    size_t blen;
    uint8_t *blank = tu_read(tu_path(tu_tmp, "blank.bmp"), &blen);
    ck_assert(probe && pl == blen && memcmp(probe, blank, blen) == 0);
    ck_assert_ptr_null(mug);
    free(blank);
    free(probe);
    fs_gate_close(g);
    tu_as(gal, "ray");
    EXPECT(0, "\"probes_purged\":1", "request", "close", "R1", "--outcome",
           "no-candidate", "--json");
    g = gate_as("eve");
    ck_assert_int_eq(fs_report_images(g, "P1", &probe, &pl, &mug, &ml, &d),
                     FS_NOTFOUND);
    ck_assert_msg(strstr(d.msg, "G12") && strstr(d.msg, "S1"), "%s", d.msg);
    ck_assert(!probe && !mug);
    fs_gate_close(g);
    REPORT_SAYS("no face found", "report", "show", "P1");
}
END_TEST

/* ---- the lead report (G14, G15) ---------------------------------------------- */

static void step_ok(const char *user, int rc, const fs_detail *d)
{
    ck_assert_msg(rc == FS_OK, "%s: %s", user, d->msg);
}

/* One review step by user through the gate's verb, which must take it:
 * the proposal of SUBJECT from S1 (it becomes L1), or a sign-off on L1. */
static void review_step(const char *user, int kind, const char *note)
{
    fs_detail d = { "" };
    char lead[FS_ID_MAX];
    fs_gate *g = gate_as(user);
    int rc = kind == FS_SIGN_PROPOSE
             ? fs_review_propose(g, "S1", SUBJECT, note, lead, &d)
             : kind == FS_SIGN_CORROBORATE
             ? fs_review_corroborate(g, "L1", note, &d)
             : kind == FS_SIGN_APPROVE ? fs_review_approve(g, "L1", note, &d)
             : fs_review_reject(g, "L1", note, &d);
    step_ok(user, rc, &d);
    if (kind == FS_SIGN_PROPOSE)
        ck_assert_str_eq(lead, "L1");
    fs_gate_close(g);
}

/* G14, G15: no possible-match report before every sign-off of the
 * profile; the complete one shows every sign-off with its note, the
 * candidate's similarity (never a "match"), and the disclaimer; while the
 * lead is in review or approved, no no-match report. */
START_TEST(test_G14_G15_lead_report_needs_every_signoff)
{
    file_request("ray");
    if (!searched("R1"))
        return;
    fs_detail d = { "" };
    review_step("eve", FS_SIGN_PROPOSE,
                "Same ear shape, scar over the left eyebrow");
    EXPECT(1, "G14: lead L1 still needs 1 more examiner", "report", "lead",
           "L1");
    EXPECT(1, "G14: a lead of request R1 is still in review", "report",
           "no-match", "R1");
    review_step("eva", FS_SIGN_CORROBORATE,
                "Nose bridge and hairline agree");
    EXPECT(1, "G14: lead L1 still needs 1 supervisor", "report", "lead",
           "L1");
    review_step("sam", FS_SIGN_APPROVE,
                "Both comparisons are sound; approved as a lead");
    tu_as(gal, "eve");
    EXPECT(1, "G15: request R1 has an approved lead", "report", "no-match",
           "R1");
    char *out, *err;
    ck_assert_int_eq(RUN(&out, &err, "report", "lead", "L1"), 0);
    const char *says[] = {
        "POSSIBLE MATCH REPORT - INVESTIGATIVE LEAD ONLY", "Report P1",
        SUBJECT, "similarity 0.", "proposed by eve", "corroborated by eva",
        "approved by sam", "Same ear shape", "Nose bridge and hairline",
        "approved as a lead"
    };
    for (size_t i = 0; i < sizeof says / sizeof says[0]; i++)
        ck_assert_msg(strstr(out, says[i]), "'%s' not in %s", says[i], out);
    /* our words, between the title and the disclaimer */
    char *mine = strdup(strchr(out, '\n'));
    char *cut = strstr(mine, "The result of a facial");
    ck_assert_ptr_nonnull(cut);
    *cut = 0;
    ck_assert_msg(!strcasestr(mine, "match") &&
                  !strcasestr(mine, "identified"), "%s", mine);
    free(mine);
    free(out);
    free(err);
    REPORT_SAYS("How they concluded: Same ear shape", "report", "show",
                "P1");
    EXPECT(0, "\"kind\":\"corroborated\",\"user\":\"eva\"", "report", "show",
           "P1", "--json");
    fs_gate *g = gate_as("ray");
    uint8_t *probe, *mug;
    size_t pl, ml;
    ck_assert_msg(fs_report_images(g, "P1", &probe, &pl, &mug, &ml, &d)
                  == FS_OK, "%s", d.msg);
    ck_assert(probe && pl > 1000 && mug && ml > 1000);
    free(probe);
    free(mug);
    fs_gate_close(g);
}
END_TEST

/* G14: a rejected lead is not reported. */
START_TEST(test_G14_rejected_lead_not_reported)
{
    file_request("ray");
    if (!searched("R1"))
        return;
    review_step("eve", FS_SIGN_PROPOSE,
                "Same ear shape, scar over the left eyebrow");
    review_step("sam", FS_SIGN_REJECT,
                "The scar is on the other side: not the same person");
    tu_as(gal, "eve");
    EXPECT(1, "G14: lead L1 was rejected", "report", "lead", "L1");
    EXPECT(0, "No candidate was found", "report", "no-match", "R1");
}
END_TEST

/* ---- the report pages (--html) ---------------------------------------------- */

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* The page at path, made 0600, read whole; the disclaimer's banner once
 * above the title and once again at the end. */
static char *page_ok(const char *path)
{
    char *page = tu_read_private(path);
    const char *first = strstr(page, "class=\"disclaimer");
    const char *h1 = strstr(page, "<h1>");
    ck_assert_msg(first && h1 && first < h1, "no disclaimer above the "
                  "title in %s", path);
    ck_assert_int_eq(count(page, "class=\"disclaimer"), 2);
    const char *last = strstr(first + 1, "class=\"disclaimer");
    ck_assert_msg(strstr(last, "</main>") || strstr(last, "</body>"),
                  "the second disclaimer is not at the end");
    return page;
}

/* A lead L1 of request R1 (searched already) with its three sign-offs. */
static void signed_off(void)
{
    review_step("eve", FS_SIGN_PROPOSE,
                "Same ear shape, scar over the left eyebrow");
    review_step("eva", FS_SIGN_CORROBORATE,
                "Nose bridge and hairline agree");
    review_step("sam", FS_SIGN_APPROVE,
                "Both comparisons are sound; approved as a lead");
}

/* G14, G15, G11: the three kinds of report as pages in a browser: the
 * lead's with the probe and the mugshot loaded side by side and every
 * sign-off's note; the rejection's with its probe, its reasons and the
 * invitation; the no-match's telling no candidate was found; each with
 * the disclaimer at its top and its bottom, and our words never a
 * "match". */
START_TEST(test_G14_G15_G11_report_pages_render)
{
    file_request("ray");                /* R1: a lead */
    if (!searched("R1"))
        return;
    signed_off();
    file_request("ray");                /* R2: an unfit image */
    rejected("R2");
    file_request("rita");               /* R3: no candidate */
    searched("R3");
    tu_as(gal, "eve");
    const char *lead = tu_path(tu_tmp, "lead-report.html");
    const char *rej = tu_path(tu_tmp, "rejection-report.html");
    const char *none = tu_path(tu_tmp, "no-match-report.html");
    EXPECT(0, "report page: ", "report", "lead", "L1", "--html", lead);
    EXPECT(0, "\"page\":", "report", "rejection", "R2", "--html", rej,
           "--json");
    EXPECT(0, "No candidate was found", "report", "no-match", "R3",
           "--html", none);

    char *page = page_ok(lead);
    const char *says[] = {
        "<h1>Possible match report - investigative lead only</h1>",
        ">P1<", ">2026-0042<", ">robbery<", "Det. Ray Jones, TEST",
        SUBJECT, "similarity 0.", "proposed by eve", "corroborated by eva",
        "approved by sam", "How they concluded: Same ear shape, scar over "
        "the left eyebrow", "How they concluded: Nose bridge and hairline "
        "agree", "approved as a lead", " UTC", "0 recorded (G16)"
    };
    for (size_t i = 0; i < sizeof says / sizeof says[0]; i++)
        ck_assert_msg(strstr(page, says[i]), "'%s' not on the lead's page",
                      says[i]);
    ck_assert_int_eq(count(page, "class=\"card\""), 3);
    free(page);
    page = page_ok(rej);
    ck_assert(strstr(page, "<h1>Image rejection report</h1>") &&
              strstr(page, "no face found") &&
              strstr(page, "submit another image"));
    free(page);
    page = page_ok(none);
    ck_assert(strstr(page, "<h1>No match report</h1>") &&
              strstr(page, "No candidate was found") &&
              !strstr(page, "class=\"missing\""));
    free(page);

    tu_page pg;
    if (!tu_browser_render(lead, 1100, 2000, &pg))
        return;
    ck_assert_msg(pg.images == 2 && pg.loaded == 2, "lead: %d of %d images "
                  "loaded", pg.loaded, pg.images);
    ck_assert_ptr_nonnull(strstr(pg.dom, "Nose bridge and hairline agree"));
    tu_page_free(&pg);
    ck_assert_int_eq(tu_browser_render(rej, 1100, 1100, &pg), 1);
    ck_assert_msg(pg.images == 1 && pg.loaded == 1, "rejection: %d of %d",
                  pg.loaded, pg.images);
    tu_page_free(&pg);
    ck_assert_int_eq(tu_browser_render(none, 1100, 1100, &pg), 1);
    ck_assert_int_eq(pg.images, 0);     /* it answers no one search */
    tu_page_free(&pg);
}
END_TEST

/* G14: a lead report refused before its sign-offs leaves no page; an
 * existing OUT.html is refused (exit 2) before any report is issued and
 * kept as it was; --html needs a path.  G12: the page of a report whose
 * probe was purged says so in the probe's place. */
START_TEST(test_G14_G12_report_page_refusals)
{
    file_request("ray");
    const char *out = tu_path(tu_tmp, "report.html");
    if (searched("R1")) {
        review_step("eve", FS_SIGN_PROPOSE,
                    "Same ear shape and scar");
        tu_as(gal, "eve");
        EXPECT(1, "G14: lead L1 still needs 1 more examiner", "report",
               "lead", "L1", "--html", out);
        ck_assert_int_ne(access(out, F_OK), 0);
    }
    file_request("ray");
    rejected("R2");
    tu_as(gal, "eve");
    ck_assert_int_eq(tu_write(out, "kept", 4), 0);
    EXPECT(2, "exists", "report", "rejection", "R2", "--html", out);
    EXPECT(2, "no report 'P1'", "report", "show", "P1");  /* none issued */
    size_t len;
    char *kept = tu_read(out, &len);
    ck_assert_str_eq(kept, "kept");
    free(kept);
    EXPECT(2, "--html", "report", "rejection", "R2", "--html", "");
    EXPECT(0, "P1", "report", "rejection", "R2");
    tu_as(gal, "ray");
    EXPECT(0, "\"probes_purged\":1", "request", "close", "R2", "--outcome",
           "no-candidate", "--json");
    const char *purged = tu_path(tu_tmp, "purged.html");
    EXPECT(0, "report page: ", "report", "show", "P1", "--html", purged);
    char *page = page_ok(purged);
    ck_assert_msg(strstr(page, "class=\"missing\"") &&
                  strstr(page, "no longer kept") && strstr(page, "G12"),
                  "no placeholder for the purged probe");
    ck_assert_ptr_null(strstr(page, "data:image/png"));
    free(page);
    tu_page pg;
    if (!tu_browser_render(purged, 1100, 1100, &pg))
        return;
    ck_assert_int_eq(pg.images, 0);
    ck_assert_ptr_nonnull(strstr(pg.dom, "no longer kept"));
    tu_page_free(&pg);
}
END_TEST

/* ---- dissemination (G16) ------------------------------------------------------ */

/* A report to release: the rejection report P1 of R1 (no photo needed). */
static void a_report(void)
{
    file_request("ray");
    rejected("R1");
    EXPECT(0, "P1", "report", "rejection", "R1");
}

/* G16: every release recorded with recipient, manner and detail: on the
 * report's count, in the release list, and on the trail. */
START_TEST(test_G16_every_dissemination_recorded)
{
    a_report();
    EXPECT(0, "D1", "disseminate", "P1", "--to", "Det. Ray Jones",
           "--manner", "email:ray.jones@example.org");
    EXPECT(0, "\"id\":\"D2\"", "disseminate", "P1", "--to", "Det. Ray Jones",
           "--manner", "phone:+1 (313) 555-0142", "--json");
    tu_as(gal, "sam");
    EXPECT(0, "D3", "disseminate", "P1", "--to", "Sgt. Ann Lee", "--manner",
           "in-person:Lt. Mary O'Neil");
    tu_as(gal, "ray");
    EXPECT(1, "G2", "disseminate", "P1", "--to", "Det. Ray Jones",
           "--manner", "email:ray.jones@example.org");
    EXPECT(0, "\"releases\":3", "report", "show", "P1", "--json");
    fs_gate *g = gate_as("aud");
    fs_release *v = NULL;
    size_t n = 0;
    fs_detail d = { "" };
    ck_assert_msg(fs_release_list(g, "P1", &v, &n, &d) == FS_OK, "%s",
                  d.msg);
    ck_assert_int_eq(n, 3);
    const struct { const char *id, *to, *detail, *by; int manner; } want[] = {
        { "D1", "Det. Ray Jones", "ray.jones@example.org", "eve",
          FS_MANNER_EMAIL },
        { "D2", "Det. Ray Jones", "+1 (313) 555-0142", "eve",
          FS_MANNER_PHONE },
        { "D3", "Sgt. Ann Lee", "Lt. Mary O'Neil", "sam",
          FS_MANNER_IN_PERSON },
    };
    for (size_t i = 0; i < n; i++) {
        ck_assert_str_eq(v[i].id, want[i].id);
        ck_assert_str_eq(v[i].report, "P1");
        ck_assert_str_eq(v[i].request, "R1");
        ck_assert_str_eq(v[i].to, want[i].to);
        ck_assert_str_eq(v[i].detail, want[i].detail);
        ck_assert_str_eq(v[i].by, want[i].by);
        ck_assert_int_eq(v[i].manner, want[i].manner);
        ck_assert(v[i].time > 0);
    }
    free(v);
    ck_assert_int_eq(fs_release_list(g, "P7", &v, &n, &d), FS_NOTFOUND);
    fs_gate_close(g);
    tu_as(gal, "aud");
    EXPECT(0, "disseminate  case 2026-0042  [release D1, report P1, request "
           "R1, to Det. Ray Jones, by email ray.jones@example.org]",
           "audit", "log");
    EXPECT(0, "release D3, report P1, request R1, to Sgt. Ann Lee, by "
           "in-person Lt. Mary O'Neil", "audit", "log");
}
END_TEST

/* G16: a manner that does not say how, or to whom, is refused as bad
 * input (exit 2) naming what is wrong, and nothing is recorded. */
START_TEST(test_G16_bad_manner_refused_nothing_recorded)
{
    a_report();
    const struct { const char *manner, *says; } bad[] = {
        { "email", "needs an e-mail address after 'email:'" },
        { "email:", "needs an e-mail address" },
        { "fax:313 555 0142", "manner 'fax' is not one of" },
        { "email:ray.jones", "'ray.jones' is not an e-mail address" },
        { "email:ray@example", "is not an e-mail address" },
        { "email:@example.org", "is not an e-mail address" },
        { "phone:555-01", "is not a phone number" },
        { "phone:call 3135550142", "is not a phone number" },
        { "in-person:", "needs the name of the witness" },
        { "in-person:4711", "is not a person's name" },
        { "in-person:x@y.org", "is not a person's name" },
        { "", "G16" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        EXPECT(2, bad[i].says, "disseminate", "P1", "--to",
               "Det. Ray Jones", "--manner", bad[i].manner);
    EXPECT(2, "--manner", "disseminate", "P1", "--to", "Det. Ray Jones");
    EXPECT(2, "--to", "disseminate", "P1", "--manner",
           "email:ray.jones@example.org");
    EXPECT(2, "recipient", "disseminate", "P1", "--to", "R", "--manner",
           "email:ray.jones@example.org");
    EXPECT(2, "no report 'P9'", "disseminate", "P9", "--to",
           "Det. Ray Jones", "--manner", "email:ray.jones@example.org");
    EXPECT(0, "\"releases\":0", "report", "show", "P1", "--json");
    fs_gate *g = gate_as("aud");
    fs_release *v = NULL;
    size_t n = 9;
    fs_detail d = { "" };
    ck_assert_int_eq(fs_release_list(g, NULL, &v, &n, &d), FS_OK);
    ck_assert_int_eq(n, 0);
    free(v);
    fs_gate_close(g);
    tu_as(gal, "aud");
    EXPECT(0, "refused: no report 'P9'", "audit", "log");
    /* the first release after them is D1 */
    tu_as(gal, "eve");
    EXPECT(0, "D1", "disseminate", "P1", "--to", "Det. Ray Jones",
           "--manner", "email:ray.jones@example.org");
}
END_TEST

/* ---- the outcome (G17) --------------------------------------------------------- */

static int positive_of(const char *request, char by[FS_USER_MAX])
{
    fs_gate *g = gate_as("aud");
    fs_request r;
    fs_detail d = { "" };
    ck_assert_msg(fs_request_get(g, request, &r, &d) == FS_OK, "%s", d.msg);
    fs_gate_close(g);
    snprintf(by, FS_USER_MAX, "%s", r.outcome_by);
    ck_assert(r.positive_id == FS_POSITIVE_UNKNOWN || r.outcome_time > 0);
    return r.positive_id;
}

/* G17: the requester who filed the request, or a supervisor, records the
 * outcome once; anyone else is refused; a second time is refused. */
START_TEST(test_G17_outcome_once_by_filer_or_supervisor)
{
    file_request("ray");
    file_request("rita");
    char by[FS_USER_MAX];
    ck_assert_int_eq(positive_of("R1", by), FS_POSITIVE_UNKNOWN);
    tu_as(gal, "rita");
    EXPECT(2, "no request 'R1'", "outcome", "R1", "--positive-id", "yes");
    tu_as(gal, "eve");
    EXPECT(1, "G2", "outcome", "R1", "--positive-id", "yes");
    tu_as(gal, "ray");
    EXPECT(2, "--positive-id yes or no", "outcome", "R1", "--positive-id",
           "maybe");
    EXPECT(2, "--positive-id", "outcome", "R1");
    EXPECT(2, "no request 'R7'", "outcome", "R7", "--positive-id", "yes");
    EXPECT(0, "positive identification yes recorded", "outcome", "R1",
           "--positive-id", "yes");
    EXPECT(1, "G17: the outcome of request R1 is already recorded "
           "(positive identification: yes, by ray", "outcome", "R1",
           "--positive-id", "no");
    ck_assert_int_eq(positive_of("R1", by), FS_POSITIVE_YES);
    ck_assert_str_eq(by, "ray");
    tu_as(gal, "sam");
    EXPECT(1, "already recorded", "outcome", "R1", "--positive-id", "no");
    EXPECT(0, "\"positive_id\":\"no\"", "outcome", "R2", "--positive-id",
           "no", "--json");
    ck_assert_int_eq(positive_of("R2", by), FS_POSITIVE_NO);
    ck_assert_str_eq(by, "sam");
    tu_as(gal, "aud");
    EXPECT(0, "outcome  case 2026-0042  [request R1: positive "
           "identification yes]", "audit", "log");
    EXPECT(0, "refused: G17: the outcome of request R1 is already",
           "audit", "log");
}
END_TEST

/* A request record of version 1 (before G17's fields) still reads, with
 * the outcome unknown; version 2 keeps them; damage is refused. */
START_TEST(test_G17_request_record_versions)
{
    fs_wbuf w = { 0 };
    fs_wbuf_u64(&w, 1);
    const char *s[] = { "R4", "2026-0042", "robbery", "Det. Ray Jones",
                        "TEST", "ray.jones@example.org", "facts", "phone",
                        "ray", "", "" };
    for (size_t i = 0; i < 11; i++)
        fs_wbuf_str(&w, s[i]);
    for (size_t i = 0; i < 10; i++)
        fs_wbuf_u64(&w, i == 3 ? 1700000000u : 0);
    fs_request r;
    ck_assert_int_eq(gate_request_unpack(w.p, w.len, &r), FS_OK);
    ck_assert_str_eq(r.id, "R4");
    ck_assert_int_eq(r.filed, 1700000000);
    ck_assert_int_eq(r.positive_id, FS_POSITIVE_UNKNOWN);
    ck_assert_str_eq(r.outcome_by, "");
    fs_wbuf_free(&w);
    r.positive_id = FS_POSITIVE_NO;
    snprintf(r.outcome_by, sizeof r.outcome_by, "sam");
    r.outcome_time = 1700000100;
    fs_wbuf v2 = { 0 };
    gate_request_pack(&v2, &r);
    fs_request back;
    ck_assert_int_eq(gate_request_unpack(v2.p, v2.len, &back), FS_OK);
    ck_assert_int_eq(back.positive_id, FS_POSITIVE_NO);
    ck_assert_str_eq(back.outcome_by, "sam");
    ck_assert_int_eq(back.outcome_time, 1700000100);
    ck_assert_int_eq(gate_request_unpack(v2.p, v2.len - 1, &back),
                     FS_ETAMPER);
    v2.p[0] = 3;                              /* a version not yet made */
    ck_assert_int_eq(gate_request_unpack(v2.p, v2.len, &back), FS_ETAMPER);
    fs_wbuf_free(&v2);
}
END_TEST

Suite *suite_report(void)
{
    Suite *s = suite_create("report");
    TCase *t = tcase_create("reports");
    tcase_set_tags(t, "policy");
    tcase_add_unchecked_fixture(t, base_setup, base_teardown);
    tcase_add_checked_fixture(t, setup, tu_tmp_teardown);
    tcase_set_timeout(t, 600);
    tcase_add_test(t, test_G15_no_match_report);
    tcase_add_test(t, test_G13_G15_rejection_report);
    tcase_add_test(t, test_G12_report_images_after_purge);
    tcase_add_test(t, test_G14_G15_lead_report_needs_every_signoff);
    tcase_add_test(t, test_G14_rejected_lead_not_reported);
    tcase_add_test(t, test_G14_G15_G11_report_pages_render);
    tcase_add_test(t, test_G14_G12_report_page_refusals);
    tcase_add_test(t, test_G16_every_dissemination_recorded);
    tcase_add_test(t, test_G16_bad_manner_refused_nothing_recorded);
    tcase_add_test(t, test_G17_outcome_once_by_filer_or_supervisor);
    suite_add_tcase(s, t);
    t = tcase_create("records");
    tcase_add_test(t, test_G17_request_record_versions);
    suite_add_tcase(s, t);
    return s;
}
