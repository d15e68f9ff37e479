/*
 * check_stats.c - the oversight figures and the monthly compliance
 * audit's sample (G19), over a scripted set of requests: several crime
 * types, refusals of named rules (G3, G5, G6, G10), released searches, an
 * image rejection (G13), requests closed with each outcome.  The figures
 * must be exactly as scripted and add up; a period that excludes them
 * counts nothing; the sample is reproducible from its seed, drawn from
 * the right month and carries each search's trail.  The scenario runs the
 * real binary once per test case (a template gallery copied for each
 * test); the figures are read both in-process and through the CLI.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "../engine/facesearch.h"
#include "../engine/base/fs_json.h"
#include "fs_testutil.h"

static char gal[4096];
static char *base;                  /* the test case's template, or NULL */
static int64_t t0, t1;              /* when the scenario ran (unix s) */
static int have_face;               /* the released searches ran */

#define RUN(out, err, ...) \
    tu_run_on(gal, NULL, out, err, (const char *const[]){ __VA_ARGS__, NULL })
#define EXPECT(want, what, ...) \
    tu_expect_on(gal, want, what, NULL, \
                 (const char *const[]){ __VA_ARGS__, NULL })

/* Files a request of crime as ray, with justification (NULL: a proper
 * one); want the exit status. */
static void file_as_ray(const char *crime, const char *justification,
                        int want, const char *what)
{
    tu_as(gal, "ray");
    tu_expect_on(gal, want, what, NULL, (const char *const[]){
        "request", "new", "--case", "2026-0042", "--crime", crime,
        "--requester", "Det. Ray Jones", "--agency", "TEST", "--contact",
        "ray.jones@example.org", "--justification", justification ?
        justification : "Armed robbery of a gas station on Grand River; "
        "the clerk saw the suspect's face at the counter", "--source",
        "photo taken by the victim's phone", NULL });
}

/* The script, as its people would run it:
 *   R1 robbery            S1 released; stays open
 *   R2 homicide           S2 released; closed no-candidate
 *   R3 robbery            S3 an image rejection (G13); closed rejected
 *   R4 aggravated-assault no search; stays open
 * and refused on the way: a crime type not authorized (G5), a prohibited
 * purpose (G6), a search without --human-review (G10), an examiner added
 * with a training date in the future (G3).  Without the face photo the
 * released searches are left out (have_face 0). */
static void scenario(void)
{
    file_as_ray("robbery", NULL, 0, "R1");
    file_as_ray("homicide", NULL, 0, "R2");
    file_as_ray("robbery", NULL, 0, "R3");
    file_as_ray("aggravated-assault", NULL, 0, "R4");
    file_as_ray("jaywalking", NULL, 1, "G5");
    file_as_ray("robbery", "to learn, for the file, his immigration status",
                1, "G6");
    tu_as(gal, "admin");
    tu_expect_on(gal, 1, "G3", TU_PASSWORD "\n", (const char *const[]){
                 "user", "add", "zed", "--roles", "examiner", "--unit",
                 "TEST", "--trained", "2099-01-01", "--password-stdin",
                 NULL });
    const char *probe = tu_path(tu_tmp, "probe.bmp");
    have_face = tu_face_variant(probe, 0.8, 0) == 0;
    uint8_t *grey = malloc(200 * 200 * 3);
    memset(grey, 128, 200 * 200 * 3);
    const char *blank = tu_path(tu_tmp, "blank.bmp");
    ck_assert_int_eq(tu_write_bmp(blank, grey, 200, 200), 0);
    free(grey);
    tu_as(gal, "eve");
    EXPECT(1, "G10", "search", "--request", "R1", blank);
    if (have_face) {
        EXPECT(0, "S1", "search", "--request", "R1", probe, "--human-review");
        EXPECT(0, "S2", "search", "--request", "R2", probe, "--human-review");
    }
    EXPECT(1, "G13", "search", "--request", "R3", blank, "--human-review");
    EXPECT(0, "closed", "request", "close", "R2", "--outcome",
           "no-candidate");
    EXPECT(0, "closed", "request", "close", "R3", "--outcome", "rejected");
}

/* A detroit gallery with its people (eve examiner, ray requester, sam
 * supervisor, aud auditor), the face enrolled when the photo is there,
 * and the scenario run: made once per test case, copied for each test. */
static void base_setup(void)
{
    base = tu_template_begin(gal);
    tu_init_gallery(gal);
    tu_add_user(gal, "eve", "examiner", "2026-01-15");
    tu_add_user(gal, "ray", "requester", NULL);
    tu_add_user(gal, "sam", "supervisor", "2025-06-01");
    tu_add_user(gal, "aud", "auditor", NULL);
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/mugshots/subj-ec1984", base);
    ck_assert_int_eq(mkdir(tu_path(base, "mugshots"), 0700), 0);
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    if (tu_face_variant(tu_path(dir, "booking.bmp"), 1.0, 0) == 0)
        EXPECT(0, "1 enrolled", "enroll", tu_path(base, "mugshots"));
    t0 = (int64_t)time(NULL);
    scenario();
    t1 = (int64_t)time(NULL) + 1;
    tu_as(gal, "aud");
    tu_template_done(base);
}

static void base_teardown(void)
{
    tu_template_free(&base);
}

/* A fresh copy of the template (its anchor as the template left it, or
 * the entries of the test before would read as a fork). */
static void setup(void)
{
    tu_template_start(base, gal);
}

static fs_gate *open_as(const char *user)
{
    tu_as(gal, user);
    fs_gate *g;
    fs_detail d = { "" };
    ck_assert_msg(fs_gate_open(gal, NULL, &g, &d) == FS_OK, "%s", d.msg);
    return g;
}

static fs_stats count(fs_gate *g, int64_t from, int64_t to)
{
    fs_stats s;
    fs_detail d = { "" };
    ck_assert_msg(fs_stats_count(g, from, to, &s, &d) == FS_OK, "%s", d.msg);
    return s;
}

static uint64_t crime_count(const fs_stats *s, const char *crime)
{
    for (size_t i = 0; i < s->n_crimes; i++)
        if (strcmp(s->crimes[i].crime, crime) == 0)
            return s->crimes[i].requests;
    return 0;
}

/* What every set of figures owes: each request filed is open or closed
 * with one outcome, the crime types share out the requests, and the
 * refusals the rules. */
static void assert_adds_up(const fs_stats *s)
{
    ck_assert_uint_eq(s->requests_filed, s->requests_open +
                      s->requests_closed[1] + s->requests_closed[2] +
                      s->requests_closed[3]);
    ck_assert_uint_eq(s->requests_fulfilled, s->requests_closed[1] +
                      s->requests_closed[2]);
    uint64_t crimes = 0, rules = 0;
    for (size_t i = 0; i < s->n_crimes; i++)
        crimes += s->crimes[i].requests;
    for (int k = 0; k <= FS_STATS_RULES; k++)
        rules += s->violations[k];
    ck_assert_uint_eq(crimes, s->requests_filed);
    ck_assert_uint_eq(rules, s->refusals);
}

static void assert_nothing(const fs_stats *s)
{
    uint64_t sum = s->requests_filed + s->requests_open +
                   s->requests_fulfilled + s->n_crimes +
                   s->searches_released + s->searches_rejected +
                   s->leads_proposed + s->leads_approved +
                   s->leads_rejected + s->releases + s->positive_yes +
                   s->positive_no + s->refusals;
    for (int k = 0; k < 4; k++)
        sum += s->requests_closed[k] + s->reports[k];
    for (int k = 0; k <= FS_STATS_RULES; k++)
        sum += s->violations[k];
    ck_assert_uint_eq(sum, 0);
}

/* ---- the figures -------------------------------------------------------- */

START_TEST(test_G19_figures_exactly_as_scripted_and_add_up)
{
    fs_gate *g = open_as("aud");
    fs_stats s = count(g, t0, t1);
    fs_gate_close(g);
    assert_adds_up(&s);
    ck_assert_uint_eq(s.requests_filed, 4);
    ck_assert_uint_eq(s.requests_open, 2);
    ck_assert_uint_eq(s.requests_closed[FS_OUTCOME_LEAD], 0);
    ck_assert_uint_eq(s.requests_closed[FS_OUTCOME_NO_CANDIDATE], 1);
    ck_assert_uint_eq(s.requests_closed[FS_OUTCOME_REJECTED], 1);
    ck_assert_uint_eq(s.requests_fulfilled, 1);
    ck_assert_uint_eq(s.n_crimes, 3);
    ck_assert_str_eq(s.crimes[0].crime, "aggravated-assault");
    ck_assert_uint_eq(crime_count(&s, "robbery"), 2);
    ck_assert_uint_eq(crime_count(&s, "homicide"), 1);
    ck_assert_uint_eq(crime_count(&s, "aggravated-assault"), 1);
    ck_assert_uint_eq(s.searches_released, have_face ? 2 : 0);
    ck_assert_uint_eq(s.searches_rejected, 1);
    /* an image rejection is an outcome, not a violation */
    ck_assert_uint_eq(s.refusals, 4);
    ck_assert_uint_eq(s.violations[3], 1);
    ck_assert_uint_eq(s.violations[5], 1);
    ck_assert_uint_eq(s.violations[6], 1);
    ck_assert_uint_eq(s.violations[10], 1);
    ck_assert_uint_eq(s.violations[13], 0);
    ck_assert_uint_eq(s.violations[0], 0);
}
END_TEST

/* A member of a JSON object, checked for its type. */
static const fs_json *member(const fs_json *j, const char *key,
                             fs_json_type type)
{
    const fs_json *v = fs_json_get(j, key);
    ck_assert_msg(v && v->type == type, "JSON member '%s'", key);
    return v;
}

static double figure(const fs_json *j, const char *group, const char *key)
{
    return member(member(j, group, FS_JSON_OBJECT), key,
                  FS_JSON_NUMBER)->number;
}

/* The month that holds the scenario, as --month takes it. */
static void scenario_month(char month[16])
{
    time_t now = (time_t)t0;
    struct tm tm;
    strftime(month, 16, "%Y-%m", gmtime_r(&now, &tm));
}

/* The same figures through the CLI, as text and under stable JSON keys,
 * for the month that holds the scenario; a supervisor may read them. */
START_TEST(test_G19_stats_cli_text_and_json)
{
    char month[16];
    scenario_month(month);
    tu_as(gal, "sam");
    char *out, *err;
    ck_assert_int_eq(RUN(&out, &err, "stats", "monthly", "--month", month,
                         "--json"), 0);
    fs_json *j = NULL;
    ck_assert_msg(fs_json_parse(out, strlen(out), &j, NULL) == FS_OK, "%s",
                  out);
    const fs_json *p = member(j, "period", FS_JSON_OBJECT);
    ck_assert_str_eq(member(p, "kind", FS_JSON_STRING)->string, "month");
    ck_assert_str_eq(member(p, "name", FS_JSON_STRING)->string, month);
    ck_assert(figure(j, "requests", "filed") == 4);
    ck_assert(figure(j, "requests", "open") == 2);
    ck_assert(figure(j, "requests", "fulfilled") == 1);
    ck_assert(figure(j, "requests", "closed_no_candidate") == 1);
    ck_assert(figure(j, "requests", "closed_rejected") == 1);
    ck_assert(figure(j, "crime_types", "robbery") == 2);
    ck_assert(figure(j, "searches", "released") == (have_face ? 2 : 0));
    ck_assert(figure(j, "searches", "image_rejected") == 1);
    ck_assert(figure(j, "violations", "total") == 4);
    ck_assert(figure(j, "violations", "G5") == 1);
    ck_assert(figure(j, "violations", "G21") == 0);
    ck_assert(figure(j, "leads", "proposed") == 0);
    ck_assert(figure(j, "reports", "no_match") == 0);
    ck_assert(figure(j, "disseminations", "releases") == 0);
    ck_assert(figure(j, "positive_identifications", "yes") == 0);
    fs_json_free(j);
    free(out);
    free(err);
    ck_assert_int_eq(RUN(&out, &err, "stats", "monthly", "--month", month),
                     0);
    ck_assert_msg(strstr(out, "Oversight figures for the month ") &&
                  strstr(out, month), "%s", out);
    ck_assert_msg(strstr(out, "  robbery ") && strstr(out, "  G10 ") &&
                  !strstr(out, "  G21 "), "%s", out);
    free(out);
    free(err);
    /* the current week and year by default, the period said */
    EXPECT(0, "Oversight figures for the week ", "stats", "weekly");
    EXPECT(0, "Oversight figures for the year ", "stats", "annual");
}
END_TEST

/* A period that excludes the scenario counts nothing, before or after. */
START_TEST(test_G19_period_excluding_them_counts_zero)
{
    fs_gate *g = open_as("aud");
    fs_stats before = count(g, t0 - 40 * 86400, t0);
    fs_stats after = count(g, t1 + 60, t1 + 3600);
    fs_gate_close(g);
    assert_nothing(&before);
    assert_nothing(&after);
    tu_as(gal, "aud");
    char *out, *err;
    ck_assert_int_eq(RUN(&out, &err, "stats", "annual", "--year", "2020",
                         "--json"), 0);
    ck_assert_msg(strstr(out, "\"requests\":{\"filed\":0,") &&
                  strstr(out, "\"crime_types\":{}") &&
                  strstr(out, "\"violations\":{\"total\":0,"), "%s", out);
    free(out);
    free(err);
}
END_TEST

/* Who reads the figures: a requester is refused (G2), and that refusal
 * is itself one more violation of G2 in the figures. */
START_TEST(test_G19_G2_figures_only_for_oversight)
{
    tu_as(gal, "ray");
    EXPECT(1, "G2", "stats", "weekly");
    tu_as(gal, "eve");
    EXPECT(1, "G2", "audit", "sample", "--n", "1");
    tu_as(gal, "sam");
    EXPECT(1, "G2", "audit", "sample", "--n", "1");
    fs_gate *g = open_as("aud");
    fs_stats s = count(g, t0, (int64_t)time(NULL) + 1);
    fs_gate_close(g);
    assert_adds_up(&s);
    ck_assert_uint_eq(s.refusals, 7);
    ck_assert_uint_eq(s.violations[2], 3);
    /* the readings on the trail, the period in dates */
    tu_as(gal, "aud");
    EXPECT(0, "\"action\":\"stats\",\"case\":\"\",\"justification\":\"\","
           "\"objects\":\"figures for [20", "audit", "log", "--json");
    EXPECT(0, "seed 3", "audit", "sample", "--n", "1", "--month", "2020-01",
           "--seed", "3");
    EXPECT(0, "audit sample  [1 search of [2020-01-01T00:00:00Z, "
           "2020-02-01T00:00:00Z), seed 3]", "audit", "log");
}
END_TEST

/* The review workflow over the scenario's lists, as its people would run
 * it: on S1 a lead rejected (L1), then another corroborated and approved
 * (L2), eve's own corroboration refused (G14); the possible-match report,
 * its release, R1 closed with the lead and its positive identification;
 * no-match and rejection reports for R2 and R3.  Each counted once, in
 * its kind, and the whole still adds up. */
START_TEST(test_G14_G17_workflow_counted)
{
    if (!have_face)
        return;
    tu_as(gal, "admin");
    tu_add_user(gal, "eli", "examiner", "2026-02-01");
    const char *note = "Compared eyes, nose and ear shape side by side";
    tu_as(gal, "eve");
    EXPECT(0, "L1", "review", "propose", "--search", "S1", "--subject",
           "subj-ec1984", "--note", note);
    tu_as(gal, "sam");
    EXPECT(0, "rejected", "review", "reject", "L1", "--note", note);
    tu_as(gal, "eve");
    EXPECT(0, "L2", "review", "propose", "--search", "S1", "--subject",
           "subj-ec1984", "--note", note);
    EXPECT(1, "G14", "review", "corroborate", "L2", "--note", note);
    tu_as(gal, "eli");
    EXPECT(0, "L2", "review", "corroborate", "L2", "--note", note);
    tu_as(gal, "sam");
    EXPECT(0, "approved", "review", "approve", "L2", "--note", note);
    tu_as(gal, "eve");
    EXPECT(0, "P1", "report", "lead", "L2");
    EXPECT(0, "P2", "report", "no-match", "R2");
    EXPECT(0, "P3", "report", "rejection", "R3");
    EXPECT(0, "D1", "disseminate", "P1", "--to", "Det. Ray Jones",
           "--manner", "email:ray.jones@example.org");
    tu_as(gal, "ray");
    EXPECT(0, "closed", "request", "close", "R1", "--outcome", "lead");
    EXPECT(0, "R1", "outcome", "R1", "--positive-id", "yes");
    fs_gate *g = open_as("aud");
    fs_stats s = count(g, t0, (int64_t)time(NULL) + 1);
    fs_stats before = count(g, t0 - 40 * 86400, t0);
    fs_gate_close(g);
    assert_adds_up(&s);
    assert_nothing(&before);
    ck_assert_uint_eq(s.leads_proposed, 2);
    ck_assert_uint_eq(s.leads_approved, 1);
    ck_assert_uint_eq(s.leads_rejected, 1);
    ck_assert_uint_eq(s.reports[FS_REPORT_LEAD], 1);
    ck_assert_uint_eq(s.reports[FS_REPORT_NO_MATCH], 1);
    ck_assert_uint_eq(s.reports[FS_REPORT_REJECTION], 1);
    ck_assert_uint_eq(s.releases, 1);
    ck_assert_uint_eq(s.positive_yes, 1);
    ck_assert_uint_eq(s.positive_no, 0);
    ck_assert_uint_eq(s.requests_closed[FS_OUTCOME_LEAD], 1);
    ck_assert_uint_eq(s.requests_open, 1);
    ck_assert_uint_eq(s.requests_fulfilled, 2);
    ck_assert_uint_eq(s.refusals, 5);
    ck_assert_uint_eq(s.violations[14], 1);
    tu_as(gal, "aud");
    char *out, *err;
    ck_assert_int_eq(RUN(&out, &err, "stats", "annual", "--json"), 0);
    ck_assert_msg(strstr(out, "\"leads\":{\"proposed\":2,\"approved\":1,"
                  "\"rejected\":1}") && strstr(out, "\"reports\":{\"lead\":1,"
                  "\"no_match\":1,\"rejection\":1}") &&
                  strstr(out, "\"disseminations\":{\"releases\":1}") &&
                  strstr(out, "\"positive_identifications\":{\"yes\":1,"
                  "\"no\":0}"), "%s", out);
    free(out);
    free(err);
}
END_TEST

/* ---- the sample -------------------------------------------------------- */

static fs_sample_item *draw(fs_gate *g, int64_t from, int64_t to, size_t n,
                            uint64_t seed, size_t *got, uint64_t *pop)
{
    fs_sample_item *v = NULL;
    fs_detail d = { "" };
    ck_assert_msg(fs_audit_sample(g, from, to, n, seed, &v, got, pop, &d) ==
                  FS_OK, "%s", d.msg);
    return v;
}

/* The ids of a sample, "S1,S3". */
static void ids_of(const fs_sample_item *v, size_t n, char *buf, size_t cap)
{
    buf[0] = 0;
    for (size_t i = 0; i < n; i++)
        snprintf(buf + strlen(buf), cap - strlen(buf), "%s%s", i ? "," : "",
                 v[i].search);
}

/* The same seed draws the same searches; other seeds draw others; more
 * than there are draws them all; each comes with its trail. */
START_TEST(test_G19_sample_reproducible_from_seed)
{
    fs_gate *g = open_as("aud");
    size_t n;
    uint64_t pop;
    uint64_t want = have_face ? 3 : 1;
    char first[64], again[64], other[64];
    fs_sample_item *v = draw(g, t0, t1, 1, 42, &n, &pop);
    ck_assert_uint_eq(pop, want);
    ck_assert_uint_eq(n, 1);
    ids_of(v, n, first, sizeof first);
    fs_audit_sample_free(v, n);
    v = draw(g, t0, t1, 1, 42, &n, &pop);
    ids_of(v, n, again, sizeof again);
    fs_audit_sample_free(v, n);
    ck_assert_str_eq(first, again);
    int differs = 0;
    for (uint64_t seed = 1; seed <= 16 && want > 1; seed++) {
        v = draw(g, t0, t1, 1, seed, &n, &pop);
        ids_of(v, n, other, sizeof other);
        fs_audit_sample_free(v, n);
        differs |= strcmp(other, first) != 0;
    }
    ck_assert(differs || want == 1);
    /* n past the population: all of them, in search order */
    v = draw(g, t0, t1, 10, 7, &n, &pop);
    ck_assert_uint_eq(n, want);
    ids_of(v, n, other, sizeof other);
    ck_assert_str_eq(other, have_face ? "S1,S2,S3" : "S1");
    for (size_t i = 0; i < n; i++) {
        const fs_sample_item *it = &v[i];
        int released = !(have_face ? i == 2 : 1);
        ck_assert_int_eq(it->released, released);
        ck_assert_str_eq(it->request, have_face ? (i == 0 ? "R1" : i == 1 ?
                         "R2" : "R3") : "R3");
        ck_assert_str_eq(it->case_no, "2026-0042");
        ck_assert_str_eq(it->examiner, "eve");
        ck_assert(it->time >= t0 && it->time < t1);
        ck_assert_msg(it->n_entries >= 1, "%s has no trail", it->search);
        char want_obj[32];
        snprintf(want_obj, sizeof want_obj, "search %s,", it->search);
        for (size_t e = 0; e < it->n_entries; e++)
            ck_assert_msg(strstr(it->entries[e].objects, want_obj), "%s: %s",
                          it->search, it->entries[e].objects);
        ck_assert_str_eq(it->entries[0].action, "search");
        ck_assert_str_eq(it->entries[0].outcome, released ?
                         "released for human review" :
                         "image rejected (G13): no face found");
    }
    fs_audit_sample_free(v, n);
    fs_gate_close(g);
    /* the CLI prints the seed, and the same seed the same sample */
    tu_as(gal, "aud");
    char *out1, *out2, *err;
    ck_assert_int_eq(RUN(&out1, &err, "audit", "sample", "--n", "2",
                         "--seed", "99", "--json"), 0);
    free(err);
    ck_assert_int_eq(RUN(&out2, &err, "audit", "sample", "--n", "2",
                         "--seed", "99", "--json"), 0);
    free(err);
    ck_assert_str_eq(out1, out2);
    ck_assert_msg(strstr(out1, "\"seed\":\"99\"") &&
                  strstr(out1, "\"trail\":[{"), "%s", out1);
    free(out1);
    free(out2);
    ck_assert_int_eq(RUN(&out1, &err, "audit", "sample", "--n", "1"), 0);
    ck_assert_msg(strstr(out1, ", seed ") && strstr(out1, "--seed "), "%s",
                  out1);
    free(out1);
    free(err);
}
END_TEST

/* With ten searches more (image rejections on R4, made in-process), the
 * trail of S1 is its own: "search S1" is not "search S10". */
START_TEST(test_G19_sample_trail_names_whole_search_ids)
{
    const char *blank = tu_path(tu_tmp, "blank.bmp");
    uint8_t *grey = malloc(200 * 200 * 3);
    memset(grey, 128, 200 * 200 * 3);
    ck_assert_int_eq(tu_write_bmp(blank, grey, 200, 200), 0);
    free(grey);
    size_t len;
    uint8_t *bytes = tu_read(blank, &len);
    fs_engine *e;
    fs_detail d = { "" };
    fs_engine_options o = { .model_path = tu_model_path(),
                            .landmarks_path = tu_landmarks(), .threads = 1 };
    ck_assert_int_eq(fs_engine_open(&o, &e, &d), FS_OK);
    fs_gate *g = open_as("eve");
    for (int i = 0; i < 10; i++) {
        fs_search_in in = { "R4", bytes, len, blank, -1, 5, 1, NULL };
        fs_candidates *c = NULL;
        ck_assert_int_eq(fs_gate_search(g, e, &in, &c, &d), FS_DENIED);
    }
    fs_gate_close(g);
    fs_engine_close(e);
    free(bytes);
    g = open_as("aud");
    size_t n;
    uint64_t pop;
    fs_sample_item *v = draw(g, t0, (int64_t)time(NULL) + 1, 100, 5, &n,
                             &pop);
    fs_gate_close(g);
    ck_assert_uint_eq(n, have_face ? 13 : 11);
    ck_assert_str_eq(v[0].search, "S1");
    ck_assert_str_eq(v[n - 1].search, have_face ? "S13" : "S11");
    for (size_t i = 0; i < n; i++) {
        ck_assert_msg(v[i].n_entries == 1, "%s: %zu entries", v[i].search,
                      v[i].n_entries);
        char want[32];
        snprintf(want, sizeof want, "search %s,", v[i].search);
        ck_assert_msg(strstr(v[i].entries[0].objects, want), "%s: %s",
                      v[i].search, v[i].entries[0].objects);
    }
    fs_audit_sample_free(v, n);
}
END_TEST

/* A month without searches gives none; this month's are drawn from it. */
START_TEST(test_G19_sample_drawn_from_the_right_month)
{
    fs_period now, before;
    ck_assert_int_eq(fs_period_parse(FS_PERIOD_MONTH, NULL, t0, &now, NULL),
                     FS_OK);
    ck_assert_int_eq(fs_period_parse(FS_PERIOD_MONTH, NULL, now.from - 1,
                                     &before, NULL), FS_OK);
    fs_gate *g = open_as("aud");
    size_t n = 99;
    uint64_t pop = 99;
    fs_sample_item *v = draw(g, before.from, before.to, 5, 1, &n, &pop);
    ck_assert_ptr_null(v);
    ck_assert_uint_eq(n, 0);
    ck_assert_uint_eq(pop, 0);
    v = draw(g, now.from, now.to, 5, 1, &n, &pop);
    ck_assert_uint_eq(pop, have_face ? 3 : 1);
    ck_assert_uint_eq(n, pop);
    fs_audit_sample_free(v, n);
    fs_gate_close(g);
    tu_as(gal, "aud");
    EXPECT(0, "0 of the 0 searches made in 2020-01", "audit", "sample",
           "--n", "5", "--month", "2020-01");
    EXPECT(0, "\"population\":0,\"n\":0,\"sample\":[]", "audit", "sample",
           "--n", "5", "--month", before.name, "--json");
    EXPECT(0, have_face ? "3 of the 3 searches made in " :
           "1 of the 1 search made in ", "audit", "sample", "--n", "5",
           "--month", now.name);
}
END_TEST

/* Every bad option is a usage error (exit 2) naming it, and reads
 * nothing. */
START_TEST(test_G19_bad_options_exit_2)
{
    tu_as(gal, "aud");
    static const char *const bad[][7] = {
        { "stats", "weekly", "--week", "2026-W54", NULL },
        { "stats", "weekly", "--week", "2025-W53", NULL },
        { "stats", "weekly", "--week", "2026-W00", NULL },
        { "stats", "weekly", "--week", "2026W01", NULL },
        { "stats", "weekly", "--week", "2026-12", NULL },
        { "stats", "monthly", "--month", "2026-13", NULL },
        { "stats", "monthly", "--month", "2026-1", NULL },
        { "stats", "monthly", "--month", "1969-12", NULL },
        { "stats", "annual", "--year", "26", NULL },
        { "stats", "annual", "--year", "2026x", NULL },
        { "stats", "monthly", "--year", "2026", NULL },
        { "audit", "sample", "--n", "0", NULL },
        { "audit", "sample", "--n", "two", NULL },
        { "audit", "sample", "--n", "1", "--month", "2026-00" },
        { "audit", "sample", "--n", "1", "--seed", "-1" },
        { "audit", "sample", "--n", "1", "--seed", "1e3" },
        { "audit", "sample", "--n", "1", "--seed",
          "18446744073709551616" },
        { "audit", "sample", "--n", "1", "--html", "" },
    };
    static const char *const named[] = {
        "--week", "--week", "--week", "--week", "--week", "--month",
        "--month", "--month", "--year", "--year", "--year", "--n", "--n",
        "--month", "--seed", "--seed", "--seed", "--html"
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        tu_expect_on(gal, 2, named[i], NULL, bad[i]);
    EXPECT(2, "--n", "audit", "sample");
    EXPECT(2, "options only", "stats", "weekly", "extra");
    EXPECT(2, "which stats command", "stats");
    EXPECT(2, "unknown stats command 'daily'", "stats", "daily");
    /* none of them was a reading: nothing but the logins on the trail */
    fs_gate *g = open_as("aud");
    fs_stats s = count(g, t1, (int64_t)time(NULL) + 1);
    fs_gate_close(g);
    ck_assert_uint_eq(s.refusals, 0);
}
END_TEST

/* ---- periods and rules, without a gallery ------------------------------- */

static int64_t utc(int y, int m, int d)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = y - 1900;
    tm.tm_mon = m - 1;
    tm.tm_mday = d;
    return (int64_t)timegm(&tm);
}

static void period_is(int kind, const char *text, int64_t now,
                      const char *name, int64_t from, int64_t to)
{
    fs_period p;
    fs_detail d = { "" };
    ck_assert_msg(fs_period_parse(kind, text, now, &p, &d) == FS_OK, "%s: %s",
                  text ? text : name, d.msg);
    ck_assert_str_eq(p.name, name);
    ck_assert_int_eq(p.kind, kind);
    ck_assert_int_eq(p.from, from);
    ck_assert_int_eq(p.to, to);
}

START_TEST(test_G19_iso_weeks_months_years)
{
    /* 2026 starts on a Thursday: its week 1 starts in 2025, it has 53 */
    period_is(FS_PERIOD_WEEK, "2026-W01", 0, "2026-W01", utc(2025, 12, 29),
              utc(2026, 1, 5));
    period_is(FS_PERIOD_WEEK, "2026-W53", 0, "2026-W53", utc(2026, 12, 28),
              utc(2027, 1, 4));
    period_is(FS_PERIOD_WEEK, "2021-W01", 0, "2021-W01", utc(2021, 1, 4),
              utc(2021, 1, 11));
    period_is(FS_PERIOD_WEEK, NULL, utc(2027, 1, 1) + 3600, "2026-W53",
              utc(2026, 12, 28), utc(2027, 1, 4));
    period_is(FS_PERIOD_WEEK, NULL, utc(2025, 12, 31), "2026-W01",
              utc(2025, 12, 29), utc(2026, 1, 5));
    period_is(FS_PERIOD_WEEK, NULL, utc(2026, 12, 3) + 86399, "2026-W49",
              utc(2026, 11, 30), utc(2026, 12, 7));
    period_is(FS_PERIOD_MONTH, "2024-02", 0, "2024-02", utc(2024, 2, 1),
              utc(2024, 3, 1));
    period_is(FS_PERIOD_MONTH, "2026-12", 0, "2026-12", utc(2026, 12, 1),
              utc(2027, 1, 1));
    period_is(FS_PERIOD_MONTH, NULL, utc(2026, 3, 31) + 86399, "2026-03",
              utc(2026, 3, 1), utc(2026, 4, 1));
    period_is(FS_PERIOD_YEAR, "2024", 0, "2024", utc(2024, 1, 1),
              utc(2025, 1, 1));
    period_is(FS_PERIOD_YEAR, NULL, utc(2026, 7, 1), "2026", utc(2026, 1, 1),
              utc(2027, 1, 1));
    static const struct { int kind; const char *text; } bad[] = {
        { FS_PERIOD_WEEK, "2025-W53" }, { FS_PERIOD_WEEK, "2026-W5" },
        { FS_PERIOD_WEEK, "2026-w05" }, { FS_PERIOD_WEEK, "" },
        { FS_PERIOD_MONTH, "2026-13" }, { FS_PERIOD_MONTH, "2026-00" },
        { FS_PERIOD_MONTH, "2026-1x" }, { FS_PERIOD_MONTH, "2026/01" },
        { FS_PERIOD_YEAR, "1969" }, { FS_PERIOD_YEAR, "20261" },
        { FS_PERIOD_YEAR, "+202" }, { 0, "2026" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        fs_period p;
        fs_detail d = { "" };
        ck_assert_msg(fs_period_parse(bad[i].kind, bad[i].text, 0, &p, &d) ==
                      FS_EINVAL && d.msg[0], "'%s' parsed", bad[i].text);
    }
}
END_TEST

START_TEST(test_G19_violation_counted_under_first_rule_named)
{
    static const struct { const char *text; int rule; } cases[] = {
        { "refused: G10: the list is released only for human review", 10 },
        { "refused: G3, G9: 'search' needs a trained examiner", 3 },
        { "refused: G2: 'stats' needs the role admin", 2 },
        { "refused: G21", 21 },
        { "refused: G22: no such rule, then G5", 5 },
        { "refused: no session", 0 },
        { "refused: request XG5 and G5a", 0 },
        { "refused: G0 and G", 0 },
        { "", 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        ck_assert_msg(fs_stats_rule_of(cases[i].text) == cases[i].rule,
                      "'%s'", cases[i].text);
    ck_assert_int_eq(fs_stats_rule_of(NULL), 0);
}
END_TEST

/* How many rows of figures a page's tables hold. */
static int count_rows(const char *page)
{
    int n = 0;
    for (const char *p = page; (p = strstr(p, "<tr><td>")); p += 8)
        n++;
    return n;
}

/* G19: the figures as a page: made 0600, no disclaimer banner (it shows
 * no candidate), every row of the text's table as a row of the page's
 * with the same number, the --json figures among them, and its charts
 * drawn as SVG in a browser; an existing file is refused (exit 2).  The
 * audit sample's page holds every search drawn and every entry of their
 * trails. */
START_TEST(test_G19_figures_and_sample_pages)
{
    char month[16];
    scenario_month(month);
    tu_as(gal, "sam");
    const char *path = tu_path(tu_tmp, "figures.html");
    char *out, *err;
    ck_assert_int_eq(RUN(&out, &err, "stats", "monthly", "--month", month,
                         "--json", "--html", path), 0);
    fs_json *j = NULL;
    ck_assert_msg(fs_json_parse(out, strlen(out), &j, NULL) == FS_OK, "%s",
                  out);
    ck_assert_str_eq(member(j, "page", FS_JSON_STRING)->string, path);
    free(out);
    free(err);
    char *page = tu_read_private(path);
    ck_assert_ptr_null(strstr(page, "class=\"disclaimer"));
    ck_assert_msg(strstr(page, "<h1>Oversight figures</h1>") &&
                  strstr(page, month), "no title or period");
    /* the --json figures on the page, under their labels */
    const struct { const char *group, *key, *label; } some[] = {
        { "requests", "filed", "filed" }, { "requests", "open", "open" },
        { "requests", "closed_rejected", "closed: rejected" },
        { "crime_types", "robbery", "robbery" },
        { "searches", "image_rejected", "image rejections (G13)" },
        { "violations", "total", "refusals" }, { "violations", "G5", "G5" },
    };
    for (size_t i = 0; i < sizeof some / sizeof some[0]; i++) {
        char row[160];
        snprintf(row, sizeof row, "<tr><td>%s</td><td>%llu</td></tr>",
                 some[i].label, (unsigned long long)figure(j, some[i].group,
                                                          some[i].key));
        ck_assert_msg(strstr(page, row), "'%s' not on the page", row);
    }
    fs_json_free(j);
    /* every row of the text's table, the same on the page */
    ck_assert_int_eq(RUN(&out, &err, "stats", "monthly", "--month", month),
                     0);
    int rows = 0;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        char label[96];
        unsigned long long v;
        int at = 0;
        if (strncmp(line, "  ", 2) != 0 || strstr(line, "(none)"))
            continue;
        char *end = line + strlen(line);
        while (end > line && end[-1] != ' ')
            end--;
        ck_assert_int_eq(sscanf(end, "%llu%n", &v, &at), 1);
        char *l = line + 2, *e = end;
        while (e > l && e[-1] == ' ')
            e--;
        snprintf(label, sizeof label, "%.*s", (int)(e - l), l);
        char row[160];
        snprintf(row, sizeof row, "<tr><td>%s</td><td>%llu</td></tr>", label,
                 v);
        ck_assert_msg(strstr(page, row), "'%s' not on the page", row);
        rows++;
    }
    ck_assert_int_eq(count_rows(page), rows);
    free(out);
    free(err);
    free(page);
    EXPECT(2, "exists", "stats", "monthly", "--month", month, "--html",
           path);
    EXPECT(2, "--html", "stats", "monthly", "--html", "");

    /* the audit sample's page: each search drawn, with every entry of
     * its trail as the --json gives them */
    tu_as(gal, "aud");
    const char *spath = tu_path(tu_tmp, "audit-sample.html");
    ck_assert_int_eq(RUN(&out, &err, "audit", "sample", "--n", "10",
                         "--seed", "7", "--month", month, "--json", "--html",
                         spath), 0);
    ck_assert_msg(fs_json_parse(out, strlen(out), &j, NULL) == FS_OK, "%s",
                  out);
    free(out);
    free(err);
    char *spage = tu_read_private(spath);
    ck_assert_ptr_null(strstr(spage, "class=\"disclaimer"));
    ck_assert_ptr_nonnull(strstr(spage, "--seed 7"));
    const fs_json *items = member(j, "sample", FS_JSON_ARRAY);
    ck_assert_uint_ge(items->n, 1);
    int entries = 0;
    for (size_t i = 0; i < items->n; i++) {
        const fs_json *it = items->items[i];
        char want[160];
        snprintf(want, sizeof want, ">Search %s<",
                 member(it, "search", FS_JSON_STRING)->string);
        ck_assert_msg(strstr(spage, want), "'%s' not on the page", want);
        const fs_json *trail = member(it, "trail", FS_JSON_ARRAY);
        for (size_t e = 0; e < trail->n; e++, entries++) {
            const fs_json *x = trail->items[e];
            /* "2026-12-03T22:58:01.123456Z" to the second */
            char at[20];
            snprintf(at, sizeof at, "%s",
                     member(x, "time", FS_JSON_STRING)->string);
            at[10] = ' ';
            snprintf(want, sizeof want, "<tr><td>%.0f</td><td>%s</td>"
                     "<td>%s (", member(x, "seq", FS_JSON_NUMBER)->number,
                     at, member(x, "user", FS_JSON_STRING)->string);
            ck_assert_msg(strstr(spage, want), "'%s' not on the page", want);
        }
    }
    ck_assert_int_eq(count_rows(spage), entries);
    fs_json_free(j);
    free(spage);
    EXPECT(2, "'--html' is for 'audit sample'", "audit", "log", "--html",
           tu_path(tu_tmp, "log.html"));

    tu_page pg;
    if (!tu_browser_render(path, 1000, 1600, &pg))
        return;
    ck_assert_msg(pg.svgs >= 3, "%d charts", pg.svgs);
    ck_assert_int_eq(pg.images, 0);
    tu_page_free(&pg);
    ck_assert_int_eq(tu_browser_render(spath, 1200, 1400, &pg), 1);
    ck_assert_int_eq(pg.images, 0);
    tu_page_free(&pg);
}
END_TEST

Suite *suite_stats(void)
{
    Suite *s = suite_create("stats");
    TCase *t = tcase_create("units");
    tcase_add_test(t, test_G19_iso_weeks_months_years);
    tcase_add_test(t, test_G19_violation_counted_under_first_rule_named);
    suite_add_tcase(s, t);
    t = tcase_create("figures");
    tcase_add_unchecked_fixture(t, base_setup, base_teardown);
    tcase_add_checked_fixture(t, setup, tu_tmp_teardown);
    tcase_set_timeout(t, 300);
    tcase_add_test(t, test_G19_figures_exactly_as_scripted_and_add_up);
    tcase_add_test(t, test_G19_stats_cli_text_and_json);
    tcase_add_test(t, test_G19_figures_and_sample_pages);
    tcase_add_test(t, test_G19_period_excluding_them_counts_zero);
    tcase_add_test(t, test_G19_G2_figures_only_for_oversight);
    tcase_add_test(t, test_G14_G17_workflow_counted);
    tcase_add_test(t, test_G19_sample_reproducible_from_seed);
    tcase_add_test(t, test_G19_sample_trail_names_whole_search_ids);
    tcase_add_test(t, test_G19_sample_drawn_from_the_right_month);
    tcase_add_test(t, test_G19_bad_options_exit_2);
    suite_add_tcase(s, t);
    return s;
}
