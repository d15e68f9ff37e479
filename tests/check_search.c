/*
 * check_search.c - the gated search as requesters, examiners, supervisors
 * and admins meet it (G4-G13): requests and agencies, every authorized and
 * prohibited use of the five profiles, the probe's intake, who may search,
 * the gate's three conditions, the disclaimer, probe custody and image
 * rejections, and a gallery whose recipe adds the mirror and a second
 * model (issue 17).  Each refusal is checked for its exit status, its rule in
 * the message, and that nothing of a candidate list shows anywhere: not
 * on stdout or stderr, not on the trail, not in any file written.  Most
 * tests run the real binary; the allocation-failure test drives the
 * library in-process.
 */
#include <check.h>
#include <ftw.h>
#include <lmdb.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../engine/facesearch.h"
#include "../engine/base/fs_json.h"
#include "../engine/base/fs_pack.h"
#include "../engine/fs_eval.h"
#include "../gate/fs_gate_int.h"
#include "fs_testutil.h"

#define SUBJECT "subj-ec1984"      /* the enrolled face's subject id */

static char gal[4096];
static char *base;                  /* the test case's template, or NULL */
static void people(const char *profile);
static void enrol_face(void);

/* What most tests start from, made once per test case and copied for
 * each test: a detroit gallery with its people, the face enrolled when
 * the photo is there, the admin's session.  A copy of a closed LMDB
 * environment is that gallery as it was; copies share the key file,
 * which stays in the template. */
static void base_setup(void)
{
    base = tu_template_begin(gal);
    people("detroit");
    enrol_face();
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

#define RUN(out, err, ...) \
    tu_run_on(gal, NULL, out, err, (const char *const[]){ __VA_ARGS__, NULL })
#define EXPECT(want, what, ...) \
    tu_expect_on(gal, want, what, NULL, \
                 (const char *const[]){ __VA_ARGS__, NULL })

/* A gallery under profile with its admin and one of each other role:
 * eve (examiner), ray (requester), sam (supervisor), aud (auditor). */
static void people(const char *profile)
{
    if (strcmp(profile, "detroit") == 0)
        tu_init_gallery(gal);
    else
        tu_init_gallery_as(gal, profile, "admin");
    tu_add_user(gal, "eve", "examiner", "2026-01-15");
    tu_add_user(gal, "ray", "requester", NULL);
    tu_add_user(gal, "sam", "supervisor", "2025-06-01");
    tu_add_user(gal, "aud", "auditor", NULL);
}

/* A member of a JSON object, checked for its type. */
static const fs_json *member(const fs_json *j, const char *key,
                             fs_json_type type)
{
    const fs_json *v = fs_json_get(j, key);
    ck_assert_msg(v && v->type == type, "JSON member '%s'", key);
    return v;
}

static const fs_json *item(const fs_json *array, size_t i)
{
    ck_assert(array->type == FS_JSON_ARRAY && i < array->n);
    return array->items[i];
}

/* The first authorized use of a shipped profile. */
static const char *first_use(const char *profile)
{
    static fs_profile p;
    ck_assert_int_eq(fs_profile_load(profile, &p, NULL, NULL), FS_OK);
    return p.authorized_use[0];
}

/* ---- requests --------------------------------------------------------- */

/* A well-formed robbery request of the requester's own unit, as argv:
 * crime replaced, the option `drop` (and its value) left out, extra
 * arguments added.  Returns argc. */
static int request_args(const char *args[48], const char *crime,
                        const char *drop, const char *const extra[])
{
    static const char *const form[] = {
        "--case", "2026-0042", "--crime", "robbery", "--requester",
        "Det. Ray Jones", "--agency", "TEST", "--contact",
        "ray.jones@example.org", "--justification",
        "Armed robbery of a gas station on Grand River; the clerk saw the "
        "suspect's face at the counter", "--source",
        "photo taken by the victim's phone", NULL
    };
    int n = 0;
    args[n++] = "request";
    args[n++] = "new";
    for (int i = 0; form[i]; i += 2) {
        if (drop && strcmp(form[i], drop) == 0)
            continue;
        args[n++] = form[i];
        args[n++] = strcmp(form[i], "--crime") == 0 && crime ? crime
                    : form[i + 1];
    }
    for (int i = 0; extra && extra[i]; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    return n;
}

/* Files the request as the session's user: the exit status, and its id
 * in id (when filed). */
static int file_request(const char *crime, const char *drop,
                        const char *const extra[], char id[16], char **err)
{
    const char *args[48];
    request_args(args, crime, drop, extra);
    char *out, *e;
    int st = tu_run_on(gal, NULL, &out, &e, args);
    if (st == 0 && id) {
        ck_assert_msg(out[0] == 'R' && strlen(out) < 16, "%s", out);
        snprintf(id, 16, "%.*s", (int)strcspn(out, "\n"), out);
    } else if (st == 0) {
        ck_assert_msg(out[0] == 'R', "%s", out);
    } else {
        ck_assert_str_eq(out, "");
    }
    free(out);
    if (err)
        *err = e;
    else
        free(e);
    return st;
}

static void filed(const char *crime, const char *const extra[], char id[16])
{
    char *err;
    int st = file_request(crime, NULL, extra, id, &err);
    ck_assert_msg(st == 0, "request new --crime %s: %s", crime ? crime : "robbery", err);
    free(err);
}

static void refused(int want, const char *rule, const char *crime,
                    const char *drop, const char *const extra[])
{
    char *err;
    int st = file_request(crime, drop, extra, NULL, &err);
    ck_assert_msg(st == want && strstr(err, rule) &&
                  strncmp(err, "facesearch: ", 12) == 0,
                  "crime %s, without %s: status %d, not %d with %s: %s",
                  crime ? crime : "robbery", drop ? drop : "-", st, want,
                  rule, err);
    free(err);
}

/* Every field of G4 missing in turn, then malformed: refused naming it,
 * and no request on file afterwards. */
START_TEST(test_G4_missing_or_malformed_field_named)
{
    tu_as(gal, "ray");
    static const char *const opts[] = {
        "--case", "--crime", "--requester", "--agency", "--contact",
        "--justification", "--source"
    };
    for (size_t i = 0; i < sizeof opts / sizeof *opts; i++)
        refused(2, opts[i], NULL, opts[i], NULL);
    const char *args[48];
    static const struct { const char *opt, *bad; } bad[] = {
        { "--case", "!!!" }, { "--case", "no digits" },
        { "--contact", "call me maybe" },
        { "--justification", "he did it" },
        { "--requester", "Ray\x1b[2JJones" }, { "--crime", "Robbery" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int n = request_args(args, NULL, bad[i].opt, NULL);
        args[n++] = bad[i].opt;
        args[n++] = bad[i].bad;
        args[n] = NULL;
        tu_expect_on(gal, 2, bad[i].opt, NULL, args);
    }
    EXPECT(0, "[]", "request", "list", "--json");
    char id[16];
    filed(NULL, NULL, id);
    ck_assert_str_eq(id, "R1");
    char *out, *err;
    request_args(args, NULL, NULL, (const char *const[]){ "--json", NULL });
    ck_assert_int_eq(tu_run_on(gal, NULL, &out, &err, args), 0);
    ck_assert_str_eq(out, "{\"id\":\"R2\"}\n");
    free(out);
    free(err);
}
END_TEST

/* A request's state only moves forward, each step on the trail; a
 * requester sees and closes only what they filed. */
START_TEST(test_G4_request_state_moves_forward)
{
    tu_add_user(gal, "rita", "requester", NULL);
    tu_as(gal, "ray");
    char id[16];
    filed(NULL, NULL, id);
    tu_as(gal, "rita");
    EXPECT(2, "no request 'R1'", "request", "show", "R1");
    EXPECT(2, "no request 'R1'", "request", "close", "R1", "--outcome",
           "lead");
    EXPECT(0, "no requests", "request", "list");
    tu_as(gal, "ray");
    EXPECT(2, "--outcome", "request", "close", "R1", "--outcome", "won");
    /* (a lead outcome needs an approved lead, G14: check_review.c) */
    EXPECT(0, "closed: rejected", "request", "close", "R1", "--outcome",
           "rejected");
    EXPECT(1, "only moves forward", "request", "close", "R1", "--outcome",
           "no-candidate");
    EXPECT(0, "\"outcome\":\"rejected\"", "request", "show", "R1",
           "--json");
    tu_as(gal, "aud");
    EXPECT(0, "closed: rejected", "audit", "log");
    EXPECT(0, "only moves forward", "audit", "log");
}
END_TEST

/* The words of a prohibited purpose, as a sentence: "immigration-status"
 * becomes "to learn his immigration status". */
static void purpose_words(const char *slug, char *buf, size_t cap)
{
    snprintf(buf, cap, "to learn, for the file, his %s", slug);
    for (char *c = buf; *c; c++)
        if (*c == '-')
            *c = ' ';
}

/* G5 and G6 for each of the five profiles: every authorized use files,
 * an unlisted crime type is refused naming G5, every prohibited purpose
 * is refused naming G6, as the crime type and as words in the
 * justification. */
START_TEST(test_G5_G6_every_use_of_each_profile)
{
    for (int pi = 0; fs_profile_names[pi]; pi++) {
        const char *name = fs_profile_names[pi];
        fs_profile p;
        ck_assert_int_eq(fs_profile_load(name, &p, NULL, NULL), FS_OK);
        snprintf(gal, sizeof gal, "%s/gallery-%s", tu_tmp, name);
        tu_init_gallery_as(gal, name, "admin");
        tu_add_user(gal, "ray", "requester", NULL);
        tu_as(gal, "ray");
        for (int i = 0; i < p.n_authorized_use; i++)
            filed(p.authorized_use[i], NULL, NULL);
        refused(1, "G5", "jaywalking", NULL, NULL);
        refused(1, "G5", "shoplifting", NULL, NULL);
        for (int i = 0; i < p.n_prohibited; i++) {
            refused(1, "G6", p.prohibited[i], NULL, NULL);
            char why[160];
            purpose_words(p.prohibited[i], why, sizeof why);
            refused(1, "G6", NULL, "--justification",
                    (const char *const[]){ "--justification", why, NULL });
        }
        char *out, *err;
        ck_assert_int_eq(RUN(&out, &err, "request", "list", "--json"), 0);
        size_t n = 0;
        for (const char *c = out; (c = strstr(c, "\"id\":")); c++)
            n++;
        ck_assert_msg(n == (size_t)p.n_authorized_use, "%s: %zu on file",
                      name, n);
        free(out);
        free(err);
    }
}
END_TEST

/* Outside agencies (G7): an agreement on file, the disclaimer
 * acknowledged, refused while suspended, a search for a suspended
 * agency's request refused; only an admin keeps the register; a profile
 * without outside requests refuses them. */
START_TEST(test_G7_outside_agency)
{
    const char *wcso[] = { "--agency", "Wayne County Sheriff",
                           "--ack-disclaimer", NULL };
    const char *no_ack[] = { "--agency", "Wayne County Sheriff", NULL };
    tu_as(gal, "ray");
    refused(1, "no agreement (MOU) on file", NULL, "--agency", wcso);
    tu_as(gal, "eve");
    EXPECT(1, "G2", "agency", "add", "Wayne County Sheriff", "--mou", "X");
    tu_as(gal, "admin");
    EXPECT(2, "--mou", "agency", "add", "Wayne County Sheriff");
    EXPECT(0, "added", "agency", "add", "Wayne County Sheriff", "--mou",
           "MOU-2026-07");
    EXPECT(2, "on file already", "agency", "add", "Wayne County Sheriff",
           "--mou", "MOU-2026-08");
    tu_as(gal, "ray");
    refused(1, "acknowledge the disclaimer", NULL, "--agency", no_ack);
    char id[16];
    filed(NULL, wcso, id);
    EXPECT(0, "\"outside_agency\":true", "request", "show", id, "--json");
    tu_as(gal, "admin");
    EXPECT(2, "--reason", "agency", "suspend", "Wayne County Sheriff");
    EXPECT(0, "suspended", "agency", "suspend", "Wayne County Sheriff",
           "--reason", "audit found searches without a case");
    EXPECT(0, "suspended: audit found", "agency", "list");
    tu_as(gal, "ray");
    refused(1, "is suspended", NULL, "--agency", wcso);
    tu_as(gal, "eve");
    const char *probe = tu_path(tu_tmp, "probe.gif");
    ck_assert_int_eq(tu_write_gif(probe, 1), 0);
    EXPECT(1, "G7", "search", "--request", id, probe, "--human-review");
    tu_as(gal, "admin");
    EXPECT(0, "reinstated", "agency", "reinstate", "Wayne County Sheriff");
    tu_as(gal, "ray");
    filed(NULL, wcso, NULL);

    snprintf(gal, sizeof gal, "%s/gallery-miami", tu_tmp);
    people("miami");
    tu_as(gal, "ray");
    refused(1, "no requests from outside agencies", first_use("miami"),
            "--agency", wcso);
}
END_TEST

/* A still taken from video is declared, refused under detroit (G8),
 * recorded under a profile that allows it. */
START_TEST(test_G8_still_from_video_declared)
{
    tu_as(gal, "ray");
    refused(1, "G8", NULL, NULL, (const char *const[]){ "--from-video",
                                                        NULL });
    snprintf(gal, sizeof gal, "%s/gallery-miami", tu_tmp);
    people("miami");
    tu_as(gal, "ray");
    char id[16];
    filed(first_use("miami"), (const char *const[]){ "--from-video", NULL },
          id);
    EXPECT(0, "\"from_video\":true", "request", "show", id, "--json");
}
END_TEST

/* ---- nothing of a list leaks --------------------------------------------- */

static const char *leak_word;          /* what must appear nowhere */

static int file_clean(const char *path, const struct stat *st, int flag,
                      struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    /* galleries' own stores hold their subjects, as they must */
    const char *base_name = strrchr(path, '/') ? strrchr(path, '/') + 1
                            : path;
    if (flag != FTW_F || strcmp(base_name, "data.mdb") == 0 ||
        strcmp(base_name, "lock.mdb") == 0)
        return 0;
    ck_assert_msg(!tu_file_holds(path, leak_word, strlen(leak_word)),
                  "'%s' is in %s", leak_word, path);
    return 0;
}

/* Whether a search entry of the trail (read as the auditor) names what;
 * the last search entry must hold rule, when given: the refusal is on
 * record.  Enrolment entries name subjects, as they should. */
static int trail_names(const char *what, const char *rule)
{
    char *out, *err;
    tu_as(gal, "aud");
    ck_assert_int_eq(RUN(&out, &err, "audit", "log", "--json"), 0);
    fs_json *j = NULL;
    ck_assert_int_eq(fs_json_parse(out, strlen(out), &j, NULL), FS_OK);
    int named = 0;
    const fs_json *last = NULL;
    for (size_t i = 0; i < j->n; i++) {
        const fs_json *e = j->items[i];
        if (strcmp(member(e, "action", FS_JSON_STRING)->string, "search"))
            continue;
        last = e;
        for (size_t k = 0; k < e->n; k++)
            named |= e->items[k]->type == FS_JSON_STRING &&
                     strstr(e->items[k]->string, what) != NULL;
    }
    ck_assert_msg(!rule || (last && strstr(member(last, "outcome",
                  FS_JSON_STRING)->string, rule)), "no refusal with %s on "
                  "the trail", rule);
    fs_json_free(j);
    free(out);
    free(err);
    return named;
}

/* A refused search as users see it: exit status 1, the rule in the one
 * line on stderr, nothing on stdout; then nothing of a list anywhere:
 * not the subject in the trail (read as the auditor), nor in any file
 * of the test's directory outside the galleries' sealed stores; and no
 * search stored on the request.  The session goes back to `as`. */
static void refused_search(const char *rule, const char *request,
                           const char *as, const char *const args[])
{
    char *out, *err;
    int st = tu_run_on(gal, NULL, &out, &err, args);
    ck_assert_msg(st == 1 && strstr(err, rule) && !strstr(err, SUBJECT) &&
                  strncmp(err, "facesearch: ", 12) == 0 &&
                  !strchr(err + 12, '\n') == 0 && strlen(strchr(err, '\n'))
                  == 1, "search: status %d, rule %s: %s", st, rule, err);
    ck_assert_msg(strcmp(out, "") == 0, "stdout: %s", out);
    free(out);
    free(err);
    ck_assert_msg(!trail_names(SUBJECT, rule), "the trail names %s",
                  SUBJECT);
    leak_word = SUBJECT;
    ck_assert_int_eq(nftw(tu_tmp, file_clean, 16, FTW_PHYS), 0);
    tu_as(gal, as);
    if (request) {
        ck_assert_int_eq(RUN(&out, &err, "request", "show", request,
                             "--json"), 0);
        ck_assert_msg(strstr(out, "\"searches\":0"), "%s", out);
        free(out);
        free(err);
    }
}

#define REFUSED_SEARCH(rule, request, as, ...) \
    refused_search(rule, request, as, \
                   (const char *const[]){ __VA_ARGS__, "--gallery", gal, \
                                          NULL } + 0)

/* A probe that is a video, an animated GIF or PNG, a stream or a device
 * is refused whatever the profile (G8), and the refusal is audited. */
START_TEST(test_G8_probe_must_be_one_still)
{
    snprintf(gal, sizeof gal, "%s/gallery-miami", tu_tmp);
    people("miami");
    tu_as(gal, "ray");
    char id[16];
    filed(first_use("miami"), NULL, id);
    tu_as(gal, "eve");
    const char *mp4 = tu_path(tu_tmp, "clip.mp4");
    ck_assert_int_eq(tu_write(mp4, "\0\0\0\x18" "ftypisom\0\0\x02\0isomiso2",
                              24), 0);
    const char *gif = tu_path(tu_tmp, "anim.gif");
    ck_assert_int_eq(tu_write_gif(gif, 3), 0);
    uint8_t png[4096];
    size_t n = tu_png(png, sizeof png, 8, 8, 3, 8, 2);
    const char *apng = tu_path(tu_tmp, "anim.png");
    ck_assert_int_eq(tu_write(apng, png, n), 0);
    const char *probes[] = { mp4, gif, apng, "rtsp://10.1.2.3/live",
                             "http://cams.example/still.jpg", "/dev/video0" };
    for (size_t i = 0; i < sizeof probes / sizeof *probes; i++)
        refused_search("G8", id, "eve", (const char *const[]){ "search",
                       "--request", id, probes[i], "--human-review", NULL });
}
END_TEST

/* Only trained examiners search (G9): a requester, a supervisor, a
 * disabled examiner and one whose training date has not come are each
 * refused before anything of the probe or the gallery is touched. */
static void *train_later(void *ctx, const void *val, size_t len,
                         size_t *nlen)
{
    (void)ctx;
    const char *date = "2026-01-15";
    for (size_t i = 0; i + 10 <= len; i++)
        if (memcmp((const char *)val + i, date, 10) == 0) {
            char *copy = malloc(len);
            memcpy(copy, val, len);
            memcpy(copy + i, "2099", 4);
            *nlen = len;
            return copy;
        }
    return NULL;
}

START_TEST(test_G9_only_trained_examiners_search)
{
    tu_as(gal, "ray");
    char id[16];
    filed(NULL, NULL, id);
    const char *probe = tu_path(tu_tmp, "probe.gif");
    ck_assert_int_eq(tu_write_gif(probe, 1), 0);
    static const char *const who[] = { "ray", "sam", "aud", "admin" };
    for (size_t i = 0; i < 4; i++) {
        tu_as(gal, who[i]);
        refused_search("G2", id, who[i], (const char *const[]){ "search",
                       "--request", id, probe, "--human-review", NULL });
    }
    /* eve's account is sealed: no training date in plain to move into
     * the future behind the gate's back (check_accounts.c replays edits) */
    ck_assert_int_eq(tu_edit_records(gal, 2, train_later, NULL), 0);
    tu_as(gal, "admin");
    EXPECT(0, "disabled", "user", "disable", "eve");
    ck_assert_int_eq(tu_login(gal, "eve", TU_PASSWORD), 1);
    tu_expect_on(gal, 1, "G3", TU_PASSWORD "\n", (const char *const[]){
                 "user", "add", "zed", "--roles", "examiner", "--unit",
                 "TEST", "--trained", "2099-01-01", "--password-stdin",
                 NULL });
}
END_TEST

/* A gallery with one enrolled face, SUBJECT, and a request R1 by ray;
 * the probe, another picture of the same person, at probe.  0 when the
 * face photo is absent (the test then skips). */
static void enrol_face(void)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/mugshots/%s", tu_tmp, SUBJECT);
    ck_assert_int_eq(mkdir(tu_path(tu_tmp, "mugshots"), 0700), 0);
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    if (tu_face_variant(tu_path(dir, "booking.bmp"), 1.0, 0) == 0)
        EXPECT(0, "1 enrolled", "enroll", tu_path(tu_tmp, "mugshots"));
}

static int face_gallery(const char *profile, const char *probe)
{
    if (tu_face_variant(probe, 0.8, 0) != 0)
        return 0;
    if (strcmp(profile, "detroit") != 0) {   /* detroit's is the template */
        snprintf(gal, sizeof gal, "%s/gallery-%s", tu_tmp, profile);
        people(profile);
        enrol_face();
    }
    tu_as(gal, "ray");
    filed(first_use(profile), NULL, NULL);
    return 1;
}

/* G10: released only for an open request, an authorized crime type and
 * the human-review flag; released, the list holds the enrolled face. */
START_TEST(test_G10_released_only_through_the_gate)
{
    const char *probe = tu_path(tu_tmp, "probe-1.bmp");
    if (!face_gallery("detroit", probe))
        return;
    tu_as(gal, "eve");
    REFUSED_SEARCH("G10", "R1", "eve", "search", "--request", "R1", probe);
    EXPECT(2, "no request 'R7'", "search", "--request", "R7", probe,
           "--human-review");
    char *out, *err;
    ck_assert_int_eq(RUN(&out, &err, "search", "--request", "R1", probe,
                         "--human-review", "--json"), 0);
    fs_json *j = NULL;
    ck_assert_int_eq(fs_json_parse(out, strlen(out), &j, NULL), FS_OK);
    const fs_json *c = item(member(j, "candidates", FS_JSON_ARRAY), 0);
    ck_assert_str_eq(member(j, "search_id", FS_JSON_STRING)->string, "S1");
    ck_assert_str_eq(member(j, "request", FS_JSON_STRING)->string, "R1");
    ck_assert_str_eq(member(c, "subject", FS_JSON_STRING)->string, SUBJECT);
    ck_assert(member(c, "rank", FS_JSON_NUMBER)->number == 1);
    ck_assert(member(c, "score", FS_JSON_NUMBER)->number > 0.9);
    /* one subject: nobody to stand above; no floor, nothing held back */
    ck_assert(member(c, "standing", FS_JSON_NUMBER)->number == 0);
    ck_assert_ptr_null(fs_json_get(j, "held_back"));
    ck_assert_ptr_null(fs_json_get(j, "standing_floor"));
    fs_json_free(j);
    free(out);
    free(err);
    /* G9: the search on the trail with case, crime and justification */
    tu_as(gal, "aud");
    EXPECT(0, "search  case 2026-0042  [request R1, search S1, crime "
           "robbery", "audit", "log");
    /* closed: nothing more is released */
    tu_as(gal, "ray");
    EXPECT(0, "closed", "request", "close", "R1", "--outcome", "rejected");
    tu_as(gal, "eve");
    REFUSED_SEARCH("closed", NULL, "eve", "search", "--request", "R1", probe,
                   "--human-review");
}
END_TEST

/* An edited detroit profile put in force by the admin (`profile set`),
 * eve acting again after. */
static void profile_set_as_admin(const char *name, const char *text)
{
    const char *file = tu_path(tu_tmp, name);
    ck_assert_int_eq(tu_write(file, text, strlen(text)), 0);
    tu_as(gal, "admin");
    EXPECT(0, "now runs under profile detroit", "profile", "set", file);
    tu_as(gal, "eve");
}

/* detroit without robbery, put in force by the admin. */
static void drop_robbery(void)
{
    char *edited = tu_profile_with(fs_profile_builtin("detroit"),
                                   "authorized_use = robbery", NULL);
    profile_set_as_admin("no-robbery.profile", edited);
    free(edited);
}

/* A crime type de-authorized by `profile set` after filing releases
 * nothing (G10 b, G5). */
START_TEST(test_G10_profile_set_deauthorizes_the_crime)
{
    tu_as(gal, "ray");
    char id[16];
    filed(NULL, NULL, id);
    drop_robbery();
    const char *probe = tu_path(tu_tmp, "probe.gif");
    ck_assert_int_eq(tu_write_gif(probe, 1), 0);
    REFUSED_SEARCH("G5", id, "eve", "search", "--request", id, probe,
                   "--human-review");
    REFUSED_SEARCH("no longer stands", id, "eve", "search", "--request", id,
                   probe, "--human-review");
}
END_TEST

/* G11: the disclaimer above and below the list, on every output; our own
 * words never call a candidate a match or an identification. */
START_TEST(test_G11_disclaimer_and_no_match_wording)
{
    const char *probe = tu_path(tu_tmp, "probe-1.bmp");
    if (!face_gallery("nypd", probe))
        return;
    fs_profile p;
    ck_assert_int_eq(fs_profile_load("nypd", &p, NULL, NULL), FS_OK);
    tu_as(gal, "eve");
    char *out, *err;
    ck_assert_int_eq(RUN(&out, &err, "search", "--request", "R1", probe,
                         "--human-review"), 0);
    size_t dl = strlen(p.disclaimer), ol = strlen(out);
    ck_assert_msg(strncmp(out, p.disclaimer, dl) == 0, "top: %s", out);
    ck_assert_msg(ol > dl + 1 && strncmp(out + ol - dl - 1, p.disclaimer,
                                         dl) == 0, "bottom: %s", out);
    ck_assert_msg(strstr(out, SUBJECT), "%s", out);
    /* what is ours: the output without the profile's own words */
    char *mine = strndup(out + dl, ol - 2 * dl - 1);
    ck_assert_msg(!strcasestr(mine, "match") &&
                  !strcasestr(mine, "identif"), "%s", mine);
    /* no floor in any shipped policy: the list whole, nothing held back,
     * the standing column explained once */
    ck_assert_msg(!strstr(mine, "held back") &&
                  strstr(mine, "score  standing\n") &&
                  strstr(mine, "\nstanding: how far"), "%s", mine);
    free(mine);
    free(out);
    free(err);
    ck_assert_int_eq(RUN(&out, &err, "search", "--request", "R1", probe,
                         "--human-review", "--json"), 0);
    fs_json *j = NULL;
    ck_assert_int_eq(fs_json_parse(out, strlen(out), &j, NULL), FS_OK);
    ck_assert_str_eq(member(j, "disclaimer", FS_JSON_STRING)->string,
                     p.disclaimer);
    fs_json_free(j);
    free(out);
    free(err);
}
END_TEST

/* G12: the probe never enters the searchable gallery and sits only
 * sealed in the case file; a detroit request closed with no viable
 * candidate loses its probes at once; past the retention the rest go,
 * except those held as evidence; each purge on the trail. */
START_TEST(test_G12_probe_custody)
{
    const char *probe = tu_path(tu_tmp, "probe-1.bmp");
    if (!face_gallery("detroit", probe))
        return;
    tu_as(gal, "eve");
    EXPECT(0, SUBJECT, "search", "--request", "R1", probe, "--human-review");
    size_t len;
    uint8_t *bytes = tu_read(probe, &len);
    ck_assert(len > 4096);
    ck_assert_msg(!tu_file_holds(tu_path(gal, "data.mdb"), bytes + len / 2, 64), "probe bytes in clear");
    free(bytes);
    tu_as(gal, "admin");
    EXPECT(0, "\"images\":1,", "gallery", "stats", "--json");
    tu_as(gal, "ray");
    EXPECT(0, "\"probes_purged\":1", "request", "close", "R1", "--outcome",
           "no-candidate", "--json");
    /* two more requests searched; one held as evidence */
    filed(NULL, NULL, NULL);
    filed(NULL, NULL, NULL);
    tu_as(gal, "eve");
    EXPECT(0, SUBJECT, "search", "--request", "R2", probe, "--human-review");
    EXPECT(0, SUBJECT, "search", "--request", "R3", probe, "--human-review");
    EXPECT(2, "--reason", "request", "hold", "R3");
    EXPECT(0, "evidence", "request", "hold", "R3", "--reason",
           "exhibit in the trial of case 2026-0042");
    tu_as(gal, "admin");
    EXPECT(0, "would remove 0 probes", "purge", "--dry-run");
    /* a retention of no days: everything but the evidence is past it */
    const char *file = tu_profile_file("zero.profile",
        tu_profile_with(fs_profile_builtin("detroit"),
                        "retention.probe_days =", "retention.probe_days = 0"));
    EXPECT(0, "detroit", "profile", "set", file);
    sleep(1);                              /* past the second it was made */
    EXPECT(0, "\"probes\":1,\"dry_run\":true", "purge", "--dry-run",
           "--json");
    EXPECT(0, "\"probes\":1,\"dry_run\":false", "purge", "--json");
    EXPECT(0, "\"probes\":0,", "purge", "--json");
    tu_as(gal, "eve");
    EXPECT(1, "G2", "purge");
    tu_as(gal, "aud");
    EXPECT(0, "1 probe older than 0 days removed", "audit", "log");
    EXPECT(0, "intact", "audit", "verify");
}
END_TEST

/* G13: a probe without a face fit for search ends in an image rejection
 * stored on the request, the requester invited to send another; nothing
 * is ranked. */
START_TEST(test_G13_unfit_probe_rejected_and_stored)
{
    tu_as(gal, "ray");
    char id[16];
    filed(NULL, NULL, id);
    uint8_t *grey = malloc(200 * 200 * 3);
    memset(grey, 128, 200 * 200 * 3);
    const char *blank = tu_path(tu_tmp, "blank.bmp");
    ck_assert_int_eq(tu_write_bmp(blank, grey, 200, 200), 0);
    free(grey);
    tu_as(gal, "eve");
    EXPECT(1, "G13", "search", "--request", id, blank, "--human-review");
    EXPECT(1, "submit another image", "search", "--request", id, blank,
           "--human-review");
    EXPECT(0, "\"rejections\":2", "request", "show", id, "--json");
    EXPECT(0, "\"last_rejection\":\"no face found\"", "request", "show", id,
           "--json");
    EXPECT(0, "\"searches\":0", "request", "show", id, "--json");
    tu_as(gal, "aud");
    EXPECT(0, "image rejected (G13): no face found", "audit", "log");
}
END_TEST

/* ---- a list never exists without its audit entry --------------------- */

typedef struct released {
    long n;
} released;

static int count_released(void *ctx, const fs_audit_record *r)
{
    if (strcmp(r->action, "search") == 0 &&
        strncmp(r->outcome, "released", 8) == 0)
        ((released *)ctx)->n++;
    return 0;
}

static long released_entries(fs_gate *g)
{
    released c = { 0 };
    ck_assert_int_eq(fs_audit_walk(g, NULL, count_released, &c, NULL),
                     FS_OK);
    return c.n;
}

/* Allocations of the search made to fail in turn: the search either
 * fails with no released entry added, or succeeds with exactly one.  Every
 * one of the last allocations (the list, the sealed records, the entry,
 * the commit) fails in turn; the front of the pipeline, which only feeds
 * them, one in every few. */
START_TEST(test_G10_list_never_without_its_entry)
{
    const char *probe = tu_path(tu_tmp, "probe-1.bmp");
    if (!face_gallery("detroit", probe))
        return;
    tu_as(gal, "admin");
    tu_add_user(gal, "eva", "examiner,auditor", "2026-01-15");
    tu_as(gal, "eva");
    fs_gate *g;
    fs_engine *e;
    fs_detail d = { "" };
    ck_assert_int_eq(fs_gate_open(gal, NULL, &g, &d), FS_OK);
    fs_engine_options o = { .model_path = tu_model_path(),
                            .landmarks_path = tu_landmarks(), .threads = 1 };
    ck_assert_int_eq(fs_engine_open(&o, &e, &d), FS_OK);
    size_t len;
    uint8_t *bytes = tu_read(probe, &len);
    fs_search_in in = { "R1", bytes, len, probe, -1, 5, 1, NULL };
    fs_candidates *c = NULL;
    /* the first search makes the ranker the gallery keeps
     * (fs_gallery_ranker): counted from the second, each search's own */
    ck_assert_msg(fs_gate_search(g, e, &in, &c, &d) == FS_OK, "%s", d.msg);
    fs_candidates_free(c);
    c = NULL;
    long a0 = tu_alloc_count();
    ck_assert_msg(fs_gate_search(g, e, &in, &c, &d) == FS_OK, "%s", d.msg);
    long all = tu_alloc_count() - a0;
    fs_candidates_free(c);
    long before = released_entries(g), failed = 0;
    for (long n = 0; n < all; n += n < all - 64 ? 7 : 1) {
        c = NULL;
        tu_alloc_fail_at(n);
        int rc = fs_gate_search(g, e, &in, &c, &d);
        tu_alloc_fail_at(-1);
        long after = released_entries(g);
        if (rc == FS_OK) {              /* the failure hit nothing vital */
            ck_assert_ptr_nonnull(c);
            ck_assert_int_eq(after, before + 1);
            fs_candidate x;
            ck_assert_int_eq(fs_candidates_get(c, 0, &x), FS_OK);
            ck_assert_str_eq(x.subject, SUBJECT);
            fs_candidates_free(c);
            before = after;
            continue;
        }
        ck_assert_msg(c == NULL && after == before, "allocation %ld of %ld "
                      "failed: rc %d, list %p, entries %ld -> %ld", n, all,
                      rc, (void *)c, before, after);
        failed++;
    }
    ck_assert_msg(failed > 10, "only %ld of %ld allocations failed the "
                  "search", failed, all);
    fs_audit_check chk;
    ck_assert_int_eq(fs_audit_verify(g, NULL, &chk, &d), FS_OK);
    free(bytes);
    fs_engine_close(e);
    fs_gate_close(g);
}
END_TEST

/* The racer's engine and probe, made before the race. */
typedef struct racing_search {
    fs_engine *e;
    uint8_t   *bytes;
    size_t     len;
    const char *probe;
} racing_search;

static void *search_prepare(void *probe)
{
    static racing_search rs;
    fs_engine_options o = { .model_path = tu_model_path(),
                            .landmarks_path = tu_landmarks(), .threads = 1 };
    fs_detail d = { "" };
    rs.probe = probe;
    rs.bytes = tu_read(probe, &rs.len);
    return fs_engine_open(&o, &rs.e, &d) == FS_OK ? &rs : NULL;
}

/* eve's search of R1: FS_OK only with a list. */
static int search_r1(fs_gate *g, void *state, fs_detail *d)
{
    racing_search *rs = state;
    if (!rs)
        return fs_fail(d, FS_EINVAL, "no engine");
    fs_search_in in = { "R1", rs->bytes, rs->len, rs->probe, -1, 5, 1,
                        NULL };
    fs_candidates *list = NULL;
    int rc = fs_gate_search(g, rs->e, &in, &list, d);
    fs_candidates_free(list);
    return rc;
}

/* The trail as aud reads it: after the entry holding `after`, eve's search
 * refused with `why`, and no list released anywhere. */
static void refused_after(const char *after, const char *why)
{
    tu_as(gal, "aud");
    char *out, *err;
    ck_assert_int_eq(RUN(&out, &err, "audit", "log"), 0);
    char want[300];
    snprintf(want, sizeof want, "eve (TEST)  search  [request R1]  -> "
             "refused: %s", why);
    const char *at = strstr(out, after);
    ck_assert_msg(at && strstr(at, want), "%s", out);
    ck_assert_ptr_null(strstr(out, "released for human review"));
    free(out);
    free(err);
}

static void disable_eve(void)
{
    tu_as(gal, "admin");
    EXPECT(0, "disabled", "user", "disable", "eve");
}

/* eve's search with meanwhile() run while it waits (tu_during): refused
 * with `why`, no list, and on the trail after `after`. */
static void refused_meanwhile(void (*meanwhile)(void), const char *after,
                              const char *why)
{
    const char *probe = tu_path(tu_tmp, "probe-1.bmp");
    if (!face_gallery("detroit", probe))
        return;
    char res[TU_RACER_OUT];
    tu_verb v = { search_prepare, search_r1, (void *)probe };
    tu_during(gal, "eve", &v, meanwhile, res);
    ck_assert_msg(res[0] == '-' && strstr(res, why), "eve's search: %s", res);
    refused_after(after, why);
}

/* G3, G10: an examiner disabled while her search runs gets nothing.  The
 * search checks her session when it starts and ranks for a while; the
 * write transaction that would release the list began after the disable
 * committed, so it checks her again. */
START_TEST(test_G3_disabled_during_search_gets_nothing)
{
    refused_meanwhile(disable_eve, "user disable  [user eve]  -> ok",
                      "G3: account 'eve' is disabled");
}
END_TEST

/* G5, G10 b: robbery taken off the profile while a robbery search runs
 * releases nothing.  Her handle read the profile when it opened; the
 * commit reads the one in force then and holds the request to it. */
START_TEST(test_G10_crime_deauthorized_during_search)
{
    refused_meanwhile(drop_robbery, "profile set", "G10: request R1 no "
                      "longer stands under profile detroit");
}
END_TEST

/* ray closes R1: no candidate came of it. */
static void ray_closes_r1(void)
{
    tu_as(gal, "ray");
    EXPECT(0, "closed: no-candidate", "request", "close", "R1", "--outcome",
           "no-candidate");
}

/* G10 a: a request closed while a search for it runs releases nothing;
 * the search checked it open when it started, and the batch that would
 * release the list checks it again. */
START_TEST(test_G10_request_closed_during_search)
{
    refused_meanwhile(ray_closes_r1, "request close", "G10: request R1 is "
                      "closed (no-candidate)");
}
END_TEST

/* eve logs out (her session file, the one her search runs under). */
static void eve_logs_out(void)
{
    tu_as(gal, "eve");
    EXPECT(0, "logged out eve", "logout");
}

/* G1, G10: a session ended while its search runs releases nothing: the
 * token checked at the start is checked again in the releasing batch. */
START_TEST(test_G1_session_ended_during_search)
{
    refused_meanwhile(eve_logs_out, "logout", "the session token is not "
                      "valid here");
}
END_TEST

/* admin's purge of the probes past the retention (`purge`). */
static int purge_probes(fs_gate *g, void *state, fs_detail *d)
{
    (void)state;
    uint64_t n;
    return fs_gate_purge(g, 0, &n, d);
}

/* detroit as shipped, its year of probe retention, put in force again. */
static void keep_probes_a_year(void)
{
    profile_set_as_admin("detroit.profile", fs_profile_builtin("detroit"));
}

/* G12: the retention a probe purge is held to is the one in force when
 * it commits.  Under a retention of no days eve's probe is past it; the
 * admin's purge waits at the write lock while the year is put back: the
 * probe stays, and the trail says none went, after the profile set. */
START_TEST(test_G12_retention_lengthened_during_a_probe_purge)
{
    const char *probe = tu_path(tu_tmp, "probe-1.bmp");
    if (!face_gallery("detroit", probe))
        return;
    char *none = tu_profile_with(fs_profile_builtin("detroit"),
                                 "retention.probe_days =",
                                 "retention.probe_days = 0");
    profile_set_as_admin("no-days.profile", none);
    EXPECT(0, SUBJECT, "search", "--request", "R1", probe, "--human-review");
    sleep(1);                              /* past the second it was made */
    tu_as(gal, "admin");
    EXPECT(0, "would remove 1 probe", "purge", "--dry-run");
    tu_verb v = { NULL, purge_probes, NULL };
    char res[TU_RACER_OUT];
    tu_during(gal, "admin", &v, keep_probes_a_year, res);
    ck_assert_msg(res[0] == '0', "admin's purge: %s", res);
    tu_as(gal, "aud");
    char *out, *err;
    ck_assert_int_eq(RUN(&out, &err, "audit", "log"), 0);
    const char *set = NULL;                      /* the last: the year's */
    for (const char *at = out; (at = strstr(at, "profile set")); at++)
        set = at;
    ck_assert_msg(set && strstr(set, "0 probes older than 365 days "
                  "removed"), "%s", out);
    free(out);
    free(err);
    /* the probe is there: under no days again, it would go */
    profile_set_as_admin("no-days.profile", none);
    free(none);
    tu_as(gal, "admin");
    EXPECT(0, "\"probes\":1,\"dry_run\":true", "purge", "--dry-run",
           "--json");
}
END_TEST

/* ---- the standing (issue 17) ------------------------------------------ */

static int by_score_desc(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* The z-score of row[i] against the `cohort` highest other scores of the
 * whole row (all others when fewer), written out here by sorting and
 * two passes, apart from fs_eval_normalise's heap and running sums. */
static double z_by_hand(const float *row, size_t n, size_t i, size_t cohort)
{
    float *o = malloc(n * sizeof *o);
    size_t m = 0;
    for (size_t j = 0; j < n; j++)
        if (j != i)
            o[m++] = row[j];
    qsort(o, m, sizeof *o, by_score_desc);
    size_t c = m < cohort ? m : cohort;
    double mean = 0, var = 0;
    for (size_t j = 0; j < c; j++)
        mean += o[j];
    mean /= (double)c;
    for (size_t j = 0; j < c; j++)
        var += (o[j] - mean) * (o[j] - mean);
    var /= (double)c;
    free(o);
    return var > 0 ? (row[i] - mean) / sqrt(var) : 0;
}

/* A probe's scores over a gallery of n subjects, best first, distinct. */
static void ranked_hits(fs_hit *h, size_t n)
{
    unsigned x = 12345;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        h[i].subject = (uint32_t)i;
        h[i].row = (uint32_t)(100 + i);
        h[i].score = 0.95f - 0.004f * (float)i -
                     0.001f * (float)((x >> 16) % 3) / 4.0f;
    }
    for (size_t i = 1; i < n; i++)      /* keep them best first */
        if (h[i].score >= h[i - 1].score)
            h[i].score = nextafterf(h[i - 1].score, 0);
}

/* The standing of a listed candidate is fs_eval_normalise's value for the
 * whole row with the cohort eval reports (50), though the search ranks
 * only the top max(k, 51): checked against a hand computation over the
 * whole row, for a gallery bigger than the cohort, one smaller, and one
 * of a single subject. */
START_TEST(test_standing_is_evals_top_cohort_z)
{
    enum { N = 300 };
    fs_hit h[N];
    float row[N], z[N];
    ranked_hits(h, N);
    for (size_t i = 0; i < N; i++)
        row[i] = h[i].score;
    ck_assert_uint_eq(FS_EVAL_COHORT, 50);
    ck_assert_uint_eq(gate_standing_depth(20), 51);
    ck_assert_uint_eq(gate_standing_depth(80), 80);
    static const size_t ks[] = { 1, 20, 51, 80 };
    for (size_t t = 0; t < sizeof ks / sizeof *ks; t++) {
        size_t k = ks[t], depth = gate_standing_depth((int)k);
        ck_assert_int_eq(gate_standing(h, depth, k, z), FS_OK);
        for (size_t i = 0; i < k; i++) {
            double want = z_by_hand(row, N, i, 50);
            ck_assert_msg(fabs(z[i] - want) < 1e-4 * (1 + fabs(want)),
                          "k %zu, candidate %zu: %g, by hand %g", k, i + 1,
                          z[i], want);
        }
        ck_assert(z[0] > 1 && (k == 1 || z[k - 1] < z[0]));
    }
    /* a gallery smaller than the cohort: every other subject is it */
    ck_assert_int_eq(gate_standing(h, 7, 7, z), FS_OK);
    for (size_t i = 0; i < 7; i++)
        ck_assert(fabs(z[i] - z_by_hand(row, 7, i, 50)) < 1e-4);
    z[0] = 9;
    ck_assert_int_eq(gate_standing(h, 1, 1, z), FS_OK);
    ck_assert(z[0] == 0);                       /* nobody to stand above */
}
END_TEST

/* The profile's floor holds back exactly the candidates below it, keeps
 * the rest in order, renumbered with their rows, and leaves nothing of
 * those held back; with no floor (-INFINITY) the list is untouched. */
START_TEST(test_standing_floor_holds_back_exactly)
{
    static const float standing[] = { 6.5f, 3.0f, 2.999f, 1.0f, -0.5f,
                                      NAN };
    enum { N = sizeof standing / sizeof *standing };
    fs_candidate c[N], was[N];
    uint32_t row[N];
    for (size_t i = 0; i < N; i++) {
        memset(&c[i], 0, sizeof c[i]);
        c[i].rank = (int)i + 1;
        snprintf(c[i].subject, sizeof c[i].subject, "s%zu", i);
        c[i].score = 0.9f - 0.01f * (float)i;
        c[i].standing = standing[i];
        row[i] = (uint32_t)(40 + i);
    }
    memcpy(was, c, sizeof c);
    size_t n = N;
    ck_assert_uint_eq(gate_standing_floor(c, row, &n, -INFINITY), 0);
    ck_assert_uint_eq(n, N);
    ck_assert_int_eq(memcmp(c, was, sizeof c), 0);
    ck_assert_uint_eq(row[N - 1], 40 + N - 1);
    n = N;                          /* a floor: a NaN is never above it */
    ck_assert_uint_eq(gate_standing_floor(c, row, &n, 3.0), 4);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(c[0].subject, "s0");
    ck_assert_str_eq(c[1].subject, "s1");
    ck_assert_int_eq(c[1].rank, 2);
    ck_assert_uint_eq(row[1], 41);
    for (size_t i = 2; i < N; i++)
        ck_assert_msg(c[i].subject[0] == 0 && c[i].score == 0,
                      "candidate %zu held back but left", i + 1);
    /* a non-monotone list (not what a ranking gives): each judged alone */
    memcpy(c, was, sizeof c);
    c[1].standing = 0.5f;
    c[3].standing = 4.0f;
    n = 5;
    ck_assert_uint_eq(gate_standing_floor(c, row, &n, 3.0), 3);
    ck_assert_str_eq(c[1].subject, "s3");
    ck_assert_int_eq(c[1].rank, 2);
    ck_assert_uint_eq(row[1], 43);
}
END_TEST

/* A search record as version 1 wrote it (before standings) still reads,
 * with no standing (NaN) and no floor; version 2's tail reads back; a
 * version from the future is refused as damaged. */
static void pack_record(fs_wbuf *w, uint64_t version, int tail)
{
    fs_wbuf_u64(w, version);
    fs_wbuf_str(w, "S3");
    fs_wbuf_str(w, "R2");
    fs_wbuf_str(w, "eve");
    fs_wbuf_u64(w, 1767225600);
    fs_wbuf_u64(w, 0);                          /* released */
    fs_wbuf_str(w, "face_resnet_v1");
    fs_wbuf_u64(w, 20);
    fs_wbuf_u64(w, 0);
    uint8_t sha[FS_SHA256_BYTES] = { 1 };
    fs_wbuf_put(w, sha, sizeof sha);
    fs_wbuf_str(w, "");
    fs_wbuf_u64(w, 2);
    float score[2] = { 0.95f, 0.91f }, st[2] = { 5.25f, 3.5f };
    for (int i = 0; i < 2; i++) {
        uint32_t bits;
        memcpy(&bits, &score[i], sizeof bits);
        fs_wbuf_str(w, i ? "subj-b" : "subj-a");
        fs_wbuf_u64(w, bits);
    }
    if (!tail)
        return;
    for (int i = 0; i < 2; i++) {
        uint32_t bits;
        memcpy(&bits, &st[i], sizeof bits);
        fs_wbuf_u64(w, bits);
    }
    double floor = 3.0;
    uint64_t fbits;
    memcpy(&fbits, &floor, sizeof fbits);
    fs_wbuf_u64(w, fbits);
    fs_wbuf_u64(w, 18);
}

START_TEST(test_standing_old_search_records_read)
{
    uint8_t key[8] = { 0, 0, 0, 0, 0, 0, 0, 3 };
    fs_record rec = { key, 8, NULL, 0 };
    gate_search *s = NULL;
    fs_detail d = { "" };
    fs_wbuf w = { 0 };
    pack_record(&w, 1, 0);
    ck_assert_int_eq(gate_search_unpack(&rec, w.p, w.len, &s, &d), FS_OK);
    ck_assert_uint_eq(s->n, 2);
    ck_assert_str_eq(s->list[1].subject, "subj-b");
    ck_assert(s->list[1].score == 0.91f);
    ck_assert(isnan(s->list[0].standing) && isnan(s->list[1].standing));
    ck_assert(isinf(s->standing_floor) && s->standing_floor < 0);
    ck_assert_uint_eq(s->held_back, 0);
    gate_search_free(s);
    fs_wbuf_free(&w);
    memset(&w, 0, sizeof w);
    pack_record(&w, 2, 1);
    ck_assert_int_eq(gate_search_unpack(&rec, w.p, w.len, &s, &d), FS_OK);
    ck_assert(s->list[0].standing == 5.25f && s->list[1].standing == 3.5f);
    ck_assert(s->standing_floor == 3.0);
    ck_assert_uint_eq(s->held_back, 18);
    gate_search_free(s);
    /* version 2 cut before its tail: damaged */
    ck_assert_int_eq(gate_search_unpack(&rec, w.p, w.len - 8, &s, &d),
                     FS_ETAMPER);
    fs_wbuf_free(&w);
    memset(&w, 0, sizeof w);
    pack_record(&w, 3, 1);
    ck_assert_int_eq(gate_search_unpack(&rec, w.p, w.len, &s, &d),
                     FS_ETAMPER);
    fs_wbuf_free(&w);
}
END_TEST

/* ---- the scenario ----------------------------------------------------- */

/* The search's --json, its list of n candidates, who first. */
static fs_json *search_json(const char *id, const char *probe,
                            const char *who, size_t n, const fs_json **list)
{
    char *out, *err;
    ck_assert_int_eq(RUN(&out, &err, "search", "--request", id, probe,
                         "--human-review", "--json"), 0);
    fs_json *j = NULL;
    ck_assert_int_eq(fs_json_parse(out, strlen(out), &j, NULL), FS_OK);
    free(out);
    free(err);
    *list = member(j, "candidates", FS_JSON_ARRAY);
    ck_assert_uint_eq((*list)->n, n);
    ck_assert_str_eq(member(item(*list, 0), "subject",
                            FS_JSON_STRING)->string, who);
    return j;
}

/* Each candidate's standing as the search gives it is the z-score of its
 * score against the others' (all nine: fewer than the cohort), computed
 * here from the scores of the list. */
static double listed_standing[10];

static void standing_shown(const fs_json *list)
{
    float row[10];
    ck_assert_uint_eq(list->n, 10);
    for (size_t i = 0; i < 10; i++)
        row[i] = (float)member(item(list, i), "score",
                               FS_JSON_NUMBER)->number;
    for (size_t i = 0; i < 10; i++) {
        double got = member(item(list, i), "standing",
                            FS_JSON_NUMBER)->number;
        double want = z_by_hand(row, 10, i, 50);
        ck_assert_msg(fabs(got - want) < 1e-3, "candidate %zu: standing "
                      "%g, by hand %g", i + 1, got, want);
        listed_standing[i] = got;
    }
}

/* A floor set between the first and the second candidate's standing
 * lists the first alone and says nine were held back, never who: in the
 * JSON, the text and the audit entry. */
static void floor_holds_back(const char *id, const char *probe,
                             const char *who)
{
    double floor = (listed_standing[0] + listed_standing[1]) / 2;
    ck_assert_msg(listed_standing[0] > listed_standing[1] + 0.2 &&
                  floor > 0, "%g %g", listed_standing[0],
                  listed_standing[1]);
    const char *det = fs_profile_builtin("detroit");
    size_t n = strlen(det) + 64;
    char *t = malloc(n), fl[32];
    snprintf(fl, sizeof fl, "%.3f", floor);
    snprintf(t, n, "%s\nsearch.standing_floor = %s\n", det, fl);
    profile_set_as_admin("floor.profile", t);
    free(t);
    const fs_json *list;
    fs_json *j = search_json(id, probe, who, 1, &list);
    ck_assert(member(j, "held_back", FS_JSON_NUMBER)->number == 9);
    ck_assert(fabs(member(j, "standing_floor", FS_JSON_NUMBER)->number -
                   atof(fl)) < 1e-9);
    fs_json_free(j);
    char *out, *err;
    ck_assert_int_eq(RUN(&out, &err, "search", "--request", id, probe,
                         "--human-review"), 0);
    char words[128];
    snprintf(words, sizeof words, "9 candidates of the top 10 held back: "
             "standing below the profile's floor of %g", atof(fl));
    ck_assert_msg(strstr(out, words) && strstr(out, "standing: how far"),
                  "%s", out);
    free(out);
    free(err);
    tu_as(gal, "aud");
    EXPECT(0, "9 held back", "audit", "log");
    tu_as(gal, "eve");
}

/* As an admin, a requester and an examiner would, on ten faces94
 * subjects: the mated subject ranks first, each candidate's standing is
 * the z-score eval measures and a profile's floor on it holds back those
 * below, and the same search without the gate's conditions leaks
 * nothing. */
START_TEST(test_scenario_faces94_mated_subject_first)
{
    const char *sh = tu_shared();
    if (!sh)
        return;
    char set[4200], cmd[8800];
    snprintf(set, sizeof set, "%s/datasets/faces94", sh);
    const char *mug = tu_path(tu_tmp, "mugshots");
    /* the first image of each of ten people, as DIR/<subject>/<image> */
    snprintf(cmd, sizeof cmd, "cd '%s' && for p in $(ls | head -10); do "
             "mkdir -p '%s'/$p && ln -s \"$PWD/$p/$p.1.jpg\" '%s'/$p/; done",
             set, mug, mug);
    ck_assert_int_eq(system(cmd), 0);
    people("detroit");
    EXPECT(0, "10 enrolled", "enroll", mug);
    tu_as(gal, "ray");
    char id[16];
    filed(NULL, NULL, id);
    snprintf(cmd, sizeof cmd, "ls '%s' | sed -n 4p", set);
    FILE *p = popen(cmd, "r");
    char who[64] = "";
    ck_assert_ptr_nonnull(fgets(who, sizeof who, p));
    pclose(p);
    who[strcspn(who, "\n")] = 0;
    char probe[4400];
    snprintf(probe, sizeof probe, "%s/%s/%s.5.jpg", set, who, who);
    tu_as(gal, "eve");
    const fs_json *list;
    fs_json *j = search_json(id, probe, who, 10, &list);
    standing_shown(list);
    fs_json_free(j);
    floor_holds_back(id, probe, who);
    char *out, *err;
    /* without the review flag: nothing of it, anywhere */
    ck_assert_int_eq(RUN(&out, &err, "search", "--request", id, probe), 1);
    ck_assert_str_eq(out, "");
    ck_assert_msg(strstr(err, "G10") && !strstr(err, who), "%s", err);
    free(out);
    free(err);
    ck_assert_msg(!trail_names(who, "G10"), "the trail names %s", who);
}
END_TEST

/* ---- a gallery with the mirror and a second model ----------------------- */

/* The faceres model beside the model under test, or NULL. */
static const char *second_model(void)
{
    static char path[4200];
    const char *m = tu_model_path(), *slash = strrchr(m, '/');
    snprintf(path, sizeof path, "%.*s" FS_FR_MODEL_FILE,
             slash ? (int)(slash - m + 1) : 0, m);
    return access(path, R_OK) == 0 ? path : NULL;
}

/* What the test computes itself, with the library's engine, of one
 * image: its first template from the face alone and with the mirror,
 * and its second template (a mugshot's as the gallery keeps it: half
 * floats). */
typedef struct own_templates {
    float plain[FS_DESC_DIM], mirror[FS_DESC_DIM], second[FS_DESC2_DIM];
} own_templates;

static void own(fs_engine *e, const char *path, int rule, int half,
                own_templates *t)
{
    fs_detail d = { "" };
    for (int m = 0; m < 2; m++) {
        fs_face_job j = { .path = path, .tmpl2 = t->second };
        fs_engine_set_mirror(e, m);
        ck_assert_int_eq(fs_engine_read(e, &j, 1, &d), FS_OK);
        ck_assert_int_eq(fs_engine_templates(e, &j, 1, rule, &d), FS_OK);
        ck_assert_msg(j.rc == FS_OK && j.has2, "%s: %s", path, j.reason);
        memcpy(m ? t->mirror : t->plain, j.tmpl, sizeof j.tmpl);
        fs_face_jobs_release(&j, 1);
    }
    for (int k = 0; half && k < FS_DESC2_DIM; k++)
        t->second[k] = (float)(_Float16)t->second[k];
}

static float dot(const float *a, const float *b, int n)
{
    float s = 0;
    for (int k = 0; k < n; k++)
        s += a[k] * b[k];
    return s;
}

/* init with a recipe's options (NULL-terminated); when it succeeds, the
 * administrator logged in and the users eve (examiner) and ray
 * (requester) added.  init's status, its output in *out and *err. */
static int init_recipe(char *const recipe[], char **out, char **err)
{
    char pw[64];
    snprintf(pw, sizeof pw, "%s\n", TU_PASSWORD);
    char *argv[16] = { "facesearch", "init", "--profile", "detroit",
                       "--admin", "admin", "--unit", "TEST",
                       "--password-stdin", "--gallery", gal };
    int n = 11;
    for (int i = 0; recipe[i] && n < 15; i++)
        argv[n++] = recipe[i];
    int st = tu_run_input(pw, argv, out, err);
    if (st == 0) {
        ck_assert_int_eq(tu_login(gal, "admin", TU_PASSWORD), 0);
        tu_add_user(gal, "eve", "examiner", "2026-01-15");
        tu_add_user(gal, "ray", "requester", NULL);
    }
    return st;
}

/* tu_tmp/mugshots/<person>/<person>.<n>.jpg for n = 1 .. photos[i] of
 * each of the people, links to the data set's photos: what enroll
 * takes. */
static void mugshots(const char *set, const char *const who[],
                     const int photos[], int people, char mug[4400])
{
    snprintf(mug, 4400, "%s/mugshots", tu_tmp);
    ck_assert_int_eq(mkdir(mug, 0700), 0);
    for (int i = 0; i < people; i++) {
        char dir[4500], src[4500], dst[4600];
        snprintf(dir, sizeof dir, "%s/%s", mug, who[i]);
        ck_assert_int_eq(mkdir(dir, 0700), 0);
        for (int n = 1; n <= photos[i]; n++) {
            snprintf(src, sizeof src, "%s/%s/%s.%d.jpg", set, who[i], who[i],
                     n);
            snprintf(dst, sizeof dst, "%s/%s.%d.jpg", dir, who[i], n);
            ck_assert_int_eq(symlink(src, dst), 0);
        }
    }
}

/* A request filed by ray and searched by eve with probe, for human
 * review: the list as --json gives it; the request's id in id. */
static fs_json *search_filed(const char *probe, char id[16])
{
    char *out, *err;
    fs_json *j = NULL;
    tu_as(gal, "ray");
    filed(NULL, NULL, id);
    tu_as(gal, "eve");
    ck_assert_int_eq(RUN(&out, &err, "search", "--request", id, probe,
                         "--human-review", "--json"), 0);
    ck_assert_int_eq(fs_json_parse(out, strlen(out), &j, NULL), FS_OK);
    free(out);
    free(err);
    return j;
}

/* init --mirror --second-model, three faces94 people enrolled (the first
 * photo of each), a search with the fifth photo of the third (whose list
 * the fusion orders otherwise than the first model would): every
 * candidate's score is the mirror-averaged templates' cosine, its
 * `second` the second templates' (the mugshot's as stored, half floats),
 * its `fused` the two standardised and averaged with the frozen spreads,
 * computed here from those two, and the list is ordered by `fused`.
 * The recipe shows in gallery stats; an engine without the second model,
 * sharding, and a second template edited or removed offline are
 * refused. */
START_TEST(test_fused_gallery_search)
{
    const char *sh = tu_shared();
    if (!sh)
        return;
    static const char *const who[] = { "9326871", "9332898", "9336923" };
    char set[4200], mug[4400], probe[4400];
    snprintf(set, sizeof set, "%s/datasets/faces94", sh);
    char *out, *err;
    int st = init_recipe((char *const[]){ "--mirror", "--second-model",
                                          NULL }, &out, &err);
    if (!second_model()) {           /* make models did not make it */
        tu_expect_refusal(st, 3, out, err, FS_FR_MODEL_FILE);
        free(out);
        free(err);
        return;
    }
    ck_assert_msg(st == 0, "init: %s", err);
    free(out);
    free(err);
    fs_json *j = tu_run_json(0, (char *const[]){ "facesearch", "gallery",
        "stats", "--gallery", gal, "--json", NULL });
    const fs_json *rc = member(j, "recipe", FS_JSON_OBJECT);
    member(rc, "mirror", FS_JSON_TRUE);
    ck_assert_ptr_nonnull(strstr(member(rc, "second_model",
                                        FS_JSON_STRING)->string, "faceres"));
    ck_assert_int_eq(tu_num(j, "schema"), 5);
    ck_assert_str_eq(member(rc, "subject_template", FS_JSON_STRING)->string,
                     "best");
    fs_json_free(j);

    mugshots(set, who, (const int[]){ 1, 1, 1 }, 3, mug);
    EXPECT(0, "3 enrolled", "enroll", mug);
    EXPECT(0, "consistent", "gallery", "verify");
    EXPECT(2, "second model", "gallery", "shard", "--into", "2",
           tu_path(tu_tmp, "shards"));
    char id[16];
    snprintf(probe, sizeof probe, "%s/%s/%s.5.jpg", set, who[2], who[2]);
    j = search_filed(probe, id);

    fs_engine_options eo = { .model_path = tu_model_path(),
                             .landmarks_path = tu_landmarks(),
                             .second_model_path = second_model() };
    fs_engine *e;
    fs_detail d = { "" };
    ck_assert_msg(fs_engine_open(&eo, &e, &d) == FS_OK, "%s", d.msg);
    own_templates p, m;
    own(e, probe, FS_FACE_CENTRE, 0, &p);
    const fs_eval_fusion fz = FS_FUSION_FROZEN;
    const fs_json *list = member(j, "candidates", FS_JSON_ARRAY);
    ck_assert_int_eq(list->n, 3);
    double last = INFINITY, last_score = INFINITY;
    int reordered = 0;
    for (size_t i = 0; i < list->n; i++) {
        const fs_json *c = item(list, i);
        const char *subject = member(c, "subject", FS_JSON_STRING)->string;
        char path[4600];
        snprintf(path, sizeof path, "%s/%s/%s.1.jpg", set, subject, subject);
        own(e, path, FS_FACE_DOMINANT, 1, &m);
        double score = tu_num(c, "score"), second = tu_num(c, "second");
        double fused = tu_num(c, "fused");
        ck_assert_double_eq_tol(score, dot(p.mirror, m.mirror, FS_DESC_DIM),
                                1e-5);
        if (i == 0)                      /* the mirror made a difference */
            ck_assert_double_gt(fabs(score - dot(p.plain, m.plain,
                                                 FS_DESC_DIM)), 1e-4);
        ck_assert_double_eq_tol(second, dot(p.second, m.second,
                                            FS_DESC2_DIM), 1e-5);
        double want = 0.5 * ((score - fz.mean[0]) / fz.sd[0] +
                             (second - fz.mean[1]) / fz.sd[1]);
        ck_assert_double_eq_tol(fused, want, 1e-4);
        ck_assert_double_le(fused, last);
        last = fused;
        reordered |= score > last_score;
        last_score = score;
    }
    ck_assert_msg(reordered, "the fusion kept the first model's order here");
    ck_assert_str_eq(member(item(list, 0), "subject", FS_JSON_STRING)->string,
                     who[2]);
    char first[128];
    snprintf(first, sizeof first, "similarity score %.4f, second model "
             "%.4f, fused %.4f,", tu_num(item(list, 0), "score"),
             tu_num(item(list, 0), "second"), tu_num(item(list, 0), "fused"));
    fs_json_free(j);
    fs_engine_close(e);
    EXPECT(0, "   second    fused", "search", "--request", id, probe,
           "--human-review");
    /* the comparison sheet shows what ordered the list */
    const char *sheet = tu_path(tu_tmp, "fused.html");
    EXPECT(0, "sheet", "search", "--request", id, probe, "--human-review",
           "--html", sheet);
    ck_assert_msg(tu_file_holds(sheet, first, strlen(first)),
                  "the sheet lacks '%s'", first);

    /* an engine without the second model: refused by the gate, before
     * the probe is looked at, and by the command that cannot load it */
    fs_gate *g;
    char session[4400];
    ck_assert_msg(fs_gate_open(gal, NULL, &g, &d) == FS_OK, "%s", d.msg);
    ck_assert_msg(fs_gate_login(g, "eve", TU_PASSWORD, session,
                                sizeof session, &d) == FS_OK, "%s", d.msg);
    fs_engine_options plain = { .model_path = tu_model_path(),
                                .landmarks_path = tu_landmarks() };
    ck_assert_int_eq(fs_engine_open(&plain, &e, &d), FS_OK);
    size_t plen;
    uint8_t *bytes = tu_read(probe, &plen);
    fs_search_in in = { id, bytes, plen, probe, -1, 3, 1, NULL };
    fs_candidates *cands = NULL;
    ck_assert_int_eq(fs_gate_search(g, e, &in, &cands, &d), FS_EMODEL);
    ck_assert_msg(strstr(d.msg, "recipe re-scores with a second model") &&
                  strstr(d.msg, "this engine runs none") && !cands,
                  "%s", d.msg);
    /* before the probe: bytes that are no image get the same refusal,
     * not the intake's */
    in.probe = (const uint8_t *)"not an image";
    in.probe_len = strlen("not an image");
    ck_assert_int_eq(fs_gate_search(g, e, &in, &cands, &d), FS_EMODEL);
    ck_assert_msg(strstr(d.msg, "this engine runs none") && !cands, "%s",
                  d.msg);
    free(bytes);
    fs_engine_close(e);
    fs_gate_close(g);
    char models[4400], link[4500];
    snprintf(models, sizeof models, "%s/models", tu_tmp);
    ck_assert_int_eq(mkdir(models, 0700), 0);
    snprintf(link, sizeof link, "%s/face_resnet_v1.fsm", models);
    ck_assert_int_eq(symlink(tu_model_path(), link), 0);
    ck_assert_int_eq(RUN(&out, &err, "search", "--request", id, probe,
                         "--human-review", "--model", link), 2);
    ck_assert_msg(strstr(err, "second model") && !strstr(out, who[2]),
                  "%s", err);
    free(out);
    free(err);

    /* the service loads the second model because the recipe names it (a
     * search through it is fused), and will not start where it cannot */
    tu_service_mode(1);
    EXPECT(0, "   second    fused", "search", "--request", id, probe,
           "--human-review");
    tu_service_mode(0);
    tu_service_stop(gal);
    const char *prog = tu_daemon();
    char *daemon[] = { (char *)prog, "--gallery", gal, "--socket",
                       (char *)tu_path(tu_tmp, "none.sock"), "--model", link,
                       NULL };
    ck_assert_int_ne(tu_run_program(prog, daemon, &out, &err), 0);
    ck_assert_msg(strstr(err, "cannot start") &&
                  strstr(err, "recipe re-scores with a second model"),
                  "%s", err);
    free(out);
    free(err);

    /* a second template edited, then removed, behind the gate's back */
    for (int c = 0; c < 2; c++) {
        tu_raw r;
        MDB_dbi dbi;
        MDB_cursor *cur;
        MDB_val k, v;
        tu_raw_open(&r, gal);
        ck_assert_int_eq(mdb_dbi_open(r.txn, "second", 0, &dbi), 0);
        ck_assert_int_eq(mdb_cursor_open(r.txn, dbi, &cur), 0);
        ck_assert_int_eq(mdb_cursor_get(cur, &k, &v, MDB_FIRST), 0);
        if (c == 0) {
            uint8_t *copy = malloc(v.mv_size);
            memcpy(copy, v.mv_data, v.mv_size);
            copy[v.mv_size - 7] ^= 0x10;
            MDB_val nv = { v.mv_size, copy };
            ck_assert_int_eq(mdb_cursor_put(cur, &k, &nv, MDB_CURRENT), 0);
            free(copy);
        } else {
            ck_assert_int_eq(mdb_cursor_del(cur, 0), 0);
        }
        mdb_cursor_close(cur);
        tu_raw_close(&r);
        ck_assert_int_eq(RUN(&out, &err, "search", "--request", id, probe,
                             "--human-review"), 3);
        ck_assert_msg(strstr(err, "second template") && !strstr(out, who[2]),
                      "%s", err);
        free(out);
        free(err);
        tu_as(gal, "admin");
        EXPECT(3, "second template", "gallery", "verify");
        tu_as(gal, "eve");
    }
}
END_TEST

/* init --mean-template, three faces94 people enrolled, the first with
 * three photos and the others with one; a search with the first's fifth
 * photo: the first's score is the cosine with the mean of its three
 * templates, computed here, the others' with their one (issue 17's mean
 * template); gallery stats shows the recipe; sharding is refused. */
START_TEST(test_mean_gallery_search)
{
    const char *sh = tu_shared();
    if (!sh)
        return;
    static const char *const who[] = { "9326871", "9332898", "9336923" };
    char set[4200], mug[4400], probe[4400], path[3][4600];
    snprintf(set, sizeof set, "%s/datasets/faces94", sh);
    char *out, *err;
    int st = init_recipe((char *const[]){ "--mean-template", NULL }, &out,
                         &err);
    ck_assert_msg(st == 0, "init: %s", err);
    free(out);
    free(err);
    fs_json *j = tu_run_json(0, (char *const[]){ "facesearch", "gallery",
        "stats", "--gallery", gal, "--json", NULL });
    const fs_json *rc = member(j, "recipe", FS_JSON_OBJECT);
    ck_assert_str_eq(member(rc, "subject_template", FS_JSON_STRING)->string,
                     "mean");
    fs_json_free(j);

    mugshots(set, who, (const int[]){ 3, 1, 1 }, 3, mug);
    EXPECT(0, "5 enrolled", "enroll", mug);
    EXPECT(2, "mean of its templates", "gallery", "shard", "--into", "2",
           tu_path(tu_tmp, "shards"));
    char id[16];
    snprintf(probe, sizeof probe, "%s/%s/%s.5.jpg", set, who[0], who[0]);
    j = search_filed(probe, id);

    fs_engine_options eo = { .model_path = tu_model_path(),
                             .landmarks_path = tu_landmarks() };
    fs_engine *e;
    fs_detail d = { "" };
    ck_assert_msg(fs_engine_open(&eo, &e, &d) == FS_OK, "%s", d.msg);
    fs_face_job pj = { .path = probe }, mj[3];
    ck_assert_int_eq(fs_engine_read(e, &pj, 1, &d), FS_OK);
    ck_assert_int_eq(fs_engine_templates(e, &pj, 1, FS_FACE_CENTRE, &d),
                     FS_OK);
    ck_assert_int_eq(pj.rc, FS_OK);
    const fs_json *list = member(j, "candidates", FS_JSON_ARRAY);
    ck_assert_int_eq(list->n, 3);
    for (size_t i = 0; i < list->n; i++) {
        const fs_json *c = item(list, i);
        const char *subject = member(c, "subject", FS_JSON_STRING)->string;
        int n = strcmp(subject, who[0]) ? 1 : 3;
        memset(mj, 0, sizeof mj);
        for (int k = 0; k < n; k++) {
            snprintf(path[k], sizeof path[k], "%s/%s/%s.%d.jpg", set,
                     subject, subject, k + 1);
            mj[k].path = path[k];
        }
        ck_assert_int_eq(fs_engine_read(e, mj, (size_t)n, &d), FS_OK);
        ck_assert_int_eq(fs_engine_templates(e, mj, (size_t)n,
                                             FS_FACE_DOMINANT, &d), FS_OK);
        double mean[FS_DESC_DIM] = { 0 }, ss = 0, want = 0;
        for (int k = 0; k < n; k++) {
            ck_assert_int_eq(mj[k].rc, FS_OK);
            for (int x = 0; x < FS_DESC_DIM; x++)
                mean[x] += mj[k].tmpl[x];
        }
        for (int x = 0; x < FS_DESC_DIM; x++)
            ss += mean[x] * mean[x];
        for (int x = 0; x < FS_DESC_DIM; x++)
            want += mean[x] / sqrt(ss) * pj.tmpl[x];
        ck_assert_double_eq_tol(tu_num(c, "score"), want, 1e-5);
        if (n == 3)       /* the mean, not the best of the three */
            ck_assert_double_gt(fabs(tu_num(c, "score") -
                                     dot(pj.tmpl, mj[0].tmpl, FS_DESC_DIM)),
                                1e-4);
        fs_face_jobs_release(mj, (size_t)n);
    }
    ck_assert_str_eq(member(item(list, 0), "subject", FS_JSON_STRING)->string,
                     who[0]);
    fs_face_jobs_release(&pj, 1);
    fs_engine_close(e);
    fs_json_free(j);
}
END_TEST

Suite *suite_search(void)
{
    Suite *s = suite_create("search");
    /* The requests' rules (fields, agencies, video, states): policy run
     * once, in the plain build; their code paths also serve the search
     * tests that the sanitized run keeps. */
    TCase *t = tcase_create("requests");
    tcase_set_tags(t, "policy");
    tcase_add_unchecked_fixture(t, base_setup, base_teardown);
    tcase_add_checked_fixture(t, setup, tu_tmp_teardown);
    tcase_set_timeout(t, 300);
    tcase_add_test(t, test_G4_missing_or_malformed_field_named);
    tcase_add_test(t, test_G4_request_state_moves_forward);
    tcase_add_test(t, test_G7_outside_agency);
    tcase_add_test(t, test_G8_still_from_video_declared);
    suite_add_tcase(s, t);
    /* Every use of the five profiles: policy, not memory; the sanitized
     * run leaves the policy cases out (CK_EXCLUDE_TAGS), the other tests
     * take the same code paths there. */
    t = tcase_create("profiles");
    tcase_set_tags(t, "policy");
    tcase_add_checked_fixture(t, setup, tu_tmp_teardown);
    tcase_set_timeout(t, 300);
    tcase_add_test(t, test_G5_G6_every_use_of_each_profile);
    suite_add_tcase(s, t);
    t = tcase_create("search");
    tcase_add_unchecked_fixture(t, base_setup, base_teardown);
    tcase_add_checked_fixture(t, setup, tu_tmp_teardown);
    tcase_set_timeout(t, 600);
    tcase_add_test(t, test_G8_probe_must_be_one_still);
    tcase_add_test(t, test_G9_only_trained_examiners_search);
    tcase_add_test(t, test_G10_released_only_through_the_gate);
    tcase_add_test(t, test_G10_profile_set_deauthorizes_the_crime);
    tcase_add_test(t, test_G10_list_never_without_its_entry);
    tcase_add_test(t, test_G11_disclaimer_and_no_match_wording);
    tcase_add_test(t, test_G12_probe_custody);
    tcase_add_test(t, test_G13_unfit_probe_rejected_and_stored);
    suite_add_tcase(s, t);
    /* one command committed while a search waits at the write lock:
     * the gate's verdicts, the same under the sanitizers (15 s there) */
    t = tcase_create("races");
    tcase_set_tags(t, "policy");
    tcase_add_unchecked_fixture(t, base_setup, base_teardown);
    tcase_add_checked_fixture(t, setup, tu_tmp_teardown);
    tcase_set_timeout(t, 300);
    tcase_add_test(t, test_G3_disabled_during_search_gets_nothing);
    tcase_add_test(t, test_G10_crime_deauthorized_during_search);
    tcase_add_test(t, test_G10_request_closed_during_search);
    tcase_add_test(t, test_G1_session_ended_during_search);
    tcase_add_test(t, test_G12_retention_lengthened_during_a_probe_purge);
    suite_add_tcase(s, t);
    t = tcase_create("standing");
    tcase_add_test(t, test_standing_is_evals_top_cohort_z);
    tcase_add_test(t, test_standing_floor_holds_back_exactly);
    tcase_add_test(t, test_standing_old_search_records_read);
    suite_add_tcase(s, t);
    t = tcase_create("scenario");
    tcase_add_checked_fixture(t, setup, tu_tmp_teardown);
    tcase_set_timeout(t, 300);
    tcase_add_test(t, test_scenario_faces94_mated_subject_first);
    tcase_add_test(t, test_fused_gallery_search);
    tcase_add_test(t, test_mean_gallery_search);
    suite_add_tcase(s, t);
    return s;
}
