/*
 * check_enroll.c - `facesearch enroll` and `gallery` as an admin
 * and a benchmarker run them: the per-image report, idempotent re-runs, refusals of
 * bad input (G8, G20), possible duplicate records, and an enrolment killed
 * with SIGKILL mid-batch that a re-run finishes with nothing lost and
 * nothing twice.  The tests with faces use ../shared/datasets/faces94 and
 * skip when it is absent.
 */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../engine/base/fs_json.h"
#include "../index/fs_index.h"
#include "fs_testutil.h"

extern char **environ;

/* faces94 identities, each one sitting of 20 frontal photos. */
static const char *const people[] = { "9326871", "9332898", "9336923",
                                      "9338446", "9338454", "9338462" };

static const char *faces94(void)
{
    static char dir[4096];
    const char *sh = tu_shared();
    if (!sh)
        return NULL;
    snprintf(dir, sizeof dir, "%s/datasets/faces94", sh);
    return access(dir, R_OK) == 0 ? dir : NULL;
}

/* DIR/<subject>/<person>.<k>.jpg linked to faces94's photos k0..k0+n-1. */
static void link_photos(const char *dir, const char *subject,
                        const char *person, int k0, int n)
{
    char sub[4096], src[4096], dst[4200];
    snprintf(sub, sizeof sub, "%s/%s", dir, subject);
    mkdir(dir, 0700);
    mkdir(sub, 0700);
    for (int k = k0; k < k0 + n; k++) {
        snprintf(src, sizeof src, "%s/%s/%s.%d.jpg", faces94(), person,
                 person, k);
        snprintf(dst, sizeof dst, "%s/%s.%d.jpg", sub, person, k);
        ck_assert_int_eq(symlink(src, dst), 0);
    }
}

static char *base;                  /* the test case's template */

/* What every test starts from, made once per test case and copied for
 * each: <scratch>/gallery made by tu_init_gallery, its admin's session
 * (the copies share the template's key and anchor files). */
static void base_setup(void)
{
    char gal[4096];
    base = tu_template_begin(gal);
    tu_init_gallery(gal);
    tu_template_done(base);
}

static void base_teardown(void)
{
    tu_template_free(&base);
}

static void setup(void)
{
    char gal[4096];
    tu_template_start(base, gal);
}

/* The item of the JSON report whose image path ends with `tail`. */
static const fs_json *item(const fs_json *j, const char *tail)
{
    const fs_json *items = fs_json_get(j, "items");
    for (size_t i = 0; items && i < items->n; i++) {
        const char *p = fs_json_get(items->items[i], "image")->string;
        size_t lp = strlen(p), lt = strlen(tail);
        if (lp >= lt && strcmp(p + lp - lt, tail) == 0)
            return items->items[i];
    }
    ck_abort_msg("no item '%s' in the report", tail);
    return NULL;
}

static const char *str(const fs_json *j, const char *key)
{
    const fs_json *v = fs_json_get(j, key);
    return v && v->type == FS_JSON_STRING ? v->string : "";
}

START_TEST(test_enroll_dir_report_and_rerun)
{
    if (!faces94())
        return;
    char *dir = (char *)tu_path(tu_tmp, "mugshots");
    char *gal = (char *)tu_path(tu_tmp, "gallery");
    char *rep = (char *)tu_path(tu_tmp, "report.csv");
    link_photos(dir, "A100", people[0], 1, 2);
    link_photos(dir, "B200", people[1], 1, 2);
    /* bad input beside good: a text file named .jpg, an MP4 (G8), a
     * stray file outside any subject folder, a bad subject folder name */
    ck_assert_int_eq(tu_write(tu_path(dir, "B200/notes.jpg"), "hello", 5), 0);
    static const uint8_t mp4[] = { 0, 0, 0, 24, 'f', 't', 'y', 'p', 'i',
        's', 'o', 'm', 0, 0, 2, 0, 'i', 's', 'o', 'm', 'm', 'p', '4', '1' };
    ck_assert_int_eq(tu_write(tu_path(dir, "A100/clip.jpg"), mp4,
                              sizeof mp4), 0);
    ck_assert_int_eq(tu_write(tu_path(dir, "stray.jpg"), "x", 1), 0);
    link_photos(dir, "bad name", people[2], 1, 1);

    fs_json *j = tu_run_json(0, (char *const[]){ "facesearch", "enroll", dir,
        "--gallery", gal, "--report", rep, "--batch", "3", "--json", NULL });
    ck_assert_int_eq(tu_num(j, "images"), 8);
    ck_assert_int_eq(tu_num(j, "enrolled"), 4);
    ck_assert_int_eq(tu_num(j, "rejected"), 4);
    ck_assert_str_eq(str(item(j, "A100/9326871.1.jpg"), "status"),
                     "enrolled");
    ck_assert_str_eq(str(item(j, "A100/9326871.1.jpg"), "subject"), "A100");
    ck_assert_ptr_nonnull(strstr(str(item(j, "A100/clip.jpg"), "reason"),
                                 "G8"));
    ck_assert_ptr_nonnull(strstr(str(item(j, "B200/notes.jpg"), "reason"),
                                 "notes.jpg"));
    ck_assert_ptr_nonnull(strstr(str(item(j, "stray.jpg"), "reason"),
                                 "subject folder"));
    ck_assert_ptr_nonnull(strstr(str(item(j, "bad name/9336923.1.jpg"),
                                     "reason"), "subject id"));
    fs_json_free(j);

    /* the CSV report: a header and one row per image */
    size_t len;
    char *csv = tu_read(rep, &len);
    ck_assert_ptr_nonnull(csv);
    ck_assert_ptr_nonnull(strstr(csv, "image,subject,status,image_id,"));
    int rows = 0;
    for (char *p = csv; (p = strchr(p, '\n')); p++)
        rows++;
    ck_assert_int_eq(rows, 9);
    ck_assert_ptr_nonnull(strstr(csv, "B200,enrolled,"));
    free(csv);

    /* a re-run enrols nothing twice */
    j = tu_run_json(0, (char *const[]){ "facesearch", "enroll", dir,
        "--gallery", gal, "--json", NULL });
    ck_assert_int_eq(tu_num(j, "enrolled"), 0);
    ck_assert_int_eq(tu_num(j, "already"), 4);
    fs_json_free(j);

    j = tu_run_json(0, (char *const[]){ "facesearch", "gallery", "stats",
        "--gallery", gal, "--json", NULL });
    ck_assert_int_eq(tu_num(j, "subjects"), 2);
    ck_assert_int_eq(tu_num(j, "images"), 4);
    ck_assert_ptr_nonnull(strstr(str(j, "model"), "dlib"));
    fs_json_free(j);

    j = tu_run_json(0, (char *const[]){ "facesearch", "gallery", "show", "A100",
        "--gallery", gal, "--json", NULL });
    const fs_json *imgs = fs_json_get(j, "images");
    ck_assert_uint_eq(imgs->n, 2);
    ck_assert_str_eq(str(imgs->items[0], "lawful_source"), "booking");
    fs_json_free(j);
}
END_TEST

START_TEST(test_enroll_manifest)
{
    if (!faces94())
        return;
    char *gal = (char *)tu_path(tu_tmp, "gallery");
    char *man = (char *)tu_path(tu_tmp, "list.csv");
    char csv[8192];
    const char *f = faces94();
    snprintf(csv, sizeof csv,
             "image,subject_id,name,booking_number,capture_date,source,agency\n"
             "%s/%s/%s.1.jpg,S1,\"Roe, Richard \"\"Rick\"\"\",BK-1,2023-04-01,"
             "booking,Unit 7\n"
             "%s/%s/%s.2.jpg,S1,,BK-2,2023-13-01,booking,\n"
             "%s/%s/%s.3.jpg,S2,Jane Doe,BK-3,,facebook,\n"
             "missing.jpg,S3,,,,arrest,\n"
             "only,three,fields\n",
             f, people[0], people[0], f, people[0], people[0], f, people[1],
             people[1]);
    ck_assert_int_eq(tu_write(man, csv, strlen(csv)), 0);
    fs_json *j = tu_run_json(0, (char *const[]){ "facesearch", "enroll",
        "--manifest", man, "--gallery", gal, "--json", NULL });
    ck_assert_int_eq(tu_num(j, "images"), 5);
    ck_assert_int_eq(tu_num(j, "enrolled"), 1);
    ck_assert_ptr_nonnull(strstr(str(item(j, "9326871.2.jpg"), "reason"),
                                 "capture_date"));
    ck_assert_ptr_nonnull(strstr(str(item(j, "9332898.3.jpg"), "reason"),
                                 "G20"));
    ck_assert_ptr_nonnull(strstr(str(item(j, "missing.jpg"), "reason"),
                                 "missing.jpg"));
    ck_assert_ptr_nonnull(strstr(str(item(j, "list.csv"), "reason"),
                                 "line 6"));
    fs_json_free(j);
    j = tu_run_json(0, (char *const[]){ "facesearch", "gallery", "show", "S1",
        "--gallery", gal, "--json", NULL });
    ck_assert_str_eq(str(j, "name"), "Roe, Richard \"Rick\"");
    const fs_json *im = fs_json_get(j, "images")->items[0];
    ck_assert_str_eq(str(im, "booking_number"), "BK-1");
    ck_assert_str_eq(str(im, "capture_date"), "2023-04-01");
    ck_assert_str_eq(str(im, "source_agency"), "Unit 7");
    fs_json_free(j);
}
END_TEST

/* Two subject records holding photos of one person: the second is
 * reported as a possible duplicate of the first. */
START_TEST(test_enroll_reports_possible_duplicate)
{
    if (!faces94())
        return;
    char *dir = (char *)tu_path(tu_tmp, "mugshots");
    char *gal = (char *)tu_path(tu_tmp, "gallery");
    link_photos(dir, "P1", people[3], 1, 1);
    link_photos(dir, "P2", people[4], 1, 1);
    fs_json *j = tu_run_json(0, (char *const[]){ "facesearch", "enroll", dir,
        "--gallery", gal, "--json", NULL });
    ck_assert_int_eq(tu_num(j, "possible_duplicates"), 0);
    fs_json_free(j);
    char *dir2 = (char *)tu_path(tu_tmp, "more");
    link_photos(dir2, "P9", people[3], 5, 1);     /* P1's face again */
    j = tu_run_json(0, (char *const[]){ "facesearch", "enroll", dir2,
        "--gallery", gal, "--json", NULL });
    ck_assert_int_eq(tu_num(j, "possible_duplicates"), 1);
    const fs_json *it = item(j, "P9/9338446.5.jpg");
    ck_assert_str_eq(str(it, "possible_duplicate_of"), "P1");
    ck_assert_double_ge(tu_num(it, "similarity"), 0.95);
    fs_json_free(j);
    /* on the trail, with its score: an enrolment matched a face */
    char *out, *err;
    ck_assert_int_eq(tu_run_on(gal, NULL, &out, &err, (const char *const[]){
        "audit", "log", NULL }), 0);
    ck_assert_msg(strstr(out, "possible duplicates: P9 ~ P1 (0.9"), "%s",
                  out);
    free(out);
    free(err);
}
END_TEST

/* G21: an enrolled photo's bytes are nowhere in the gallery's file (nor
 * the administrator's password); the test first proves it can find them
 * in a file that does hold them. */
START_TEST(test_G21_enrolled_image_not_in_the_file)
{
    if (!faces94())
        return;
    char *dir = (char *)tu_path(tu_tmp, "mugshots");
    char gal[4096];
    snprintf(gal, sizeof gal, "%s", tu_path(tu_tmp, "gallery"));
    link_photos(dir, "K1", people[1], 3, 1);
    fs_json *j = tu_run_json(0, (char *const[]){ "facesearch", "enroll", dir,
        "--gallery", gal, "--json", NULL });
    ck_assert_int_eq(tu_num(j, "enrolled"), 1);
    fs_json_free(j);
    char photo[4200];
    snprintf(photo, sizeof photo, "%s/%s/%s.3.jpg", faces94(), people[1],
             people[1]);
    size_t plen, flen;
    uint8_t *img = tu_read(photo, &plen);
    uint8_t *file = tu_read(tu_path(gal, "data.mdb"), &flen);
    ck_assert_ptr_nonnull(img);
    ck_assert_ptr_nonnull(file);
    ck_assert_uint_gt(plen, 4096);
    const uint8_t *run = img + plen / 2;          /* 64 bytes of scan data */
    ck_assert_ptr_nonnull(memmem(img, plen, run, 64));
    ck_assert_msg(memmem(file, flen, run, 64) == NULL, "the photo's bytes "
                  "are readable in data.mdb");
    ck_assert_ptr_null(memmem(file, flen, TU_PASSWORD, strlen(TU_PASSWORD)));
    free(img);
    free(file);
    /* and the gallery reads back what went in, through the key */
    j = tu_run_json(0, (char *const[]){ "facesearch", "gallery", "show", "K1",
        "--gallery", gal, "--json", NULL });
    fs_json_free(j);
}
END_TEST

static uint64_t images_in(const char *gal)
{
    fs_gallery *g;
    fs_gallery_options o = { .readonly = 1 };
    fs_gallery_stats st = { 0 };
    if (fs_gallery_open(gal, &o, &g, NULL) != FS_OK)
        return 0;
    fs_gallery_stat(g, &st, NULL);
    fs_gallery_close(g);
    return st.images;
}

/* SIGKILL once some batches are in and others are not: the gallery is
 * consistent, and a re-run ends with every image exactly once. */
START_TEST(test_enroll_killed_then_resumed)
{
    if (!faces94())
        return;
    enum { PEOPLE = 6, EACH = 4 };
    char *dir = (char *)tu_path(tu_tmp, "mugshots");
    char *gal = (char *)tu_path(tu_tmp, "gallery");
    for (int p = 0; p < PEOPLE; p++)
        link_photos(dir, people[p], people[p], 1, EACH);
    char *argv[] = { "facesearch", "enroll", dir, "--gallery", gal,
                     "--batch", "2", NULL };
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    ck_assert_int_eq(posix_spawn(&pid, tu_bin(), &fa, NULL, argv, environ),
                     0);
    posix_spawn_file_actions_destroy(&fa);
    uint64_t seen = 0;
    for (int i = 0; i < 6000 && seen < 4; i++) {
        usleep(10000);
        seen = images_in(gal);
    }
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    ck_assert_msg(WIFSIGNALED(status), "the enrolment ended before the "
                  "kill: the test proves nothing");
    seen = images_in(gal);
    ck_assert_uint_lt(seen, PEOPLE * EACH);
    ck_assert_uint_eq(seen % 2, 0);              /* whole batches only */

    char *out, *err;
    ck_assert_int_eq(TU_RUN(&out, &err, "gallery", "verify", "--gallery",
                            gal), 0);
    free(out);
    free(err);
    fs_json *j = tu_run_json(0, (char *const[]){ "facesearch", "enroll", dir,
        "--gallery", gal, "--json", NULL });
    ck_assert_int_eq(tu_num(j, "already"), (double)seen);
    ck_assert_int_eq(tu_num(j, "enrolled"), PEOPLE * EACH - (double)seen);
    fs_json_free(j);
    ck_assert_uint_eq(images_in(gal), PEOPLE * EACH);
    ck_assert_int_eq(TU_RUN(&out, &err, "gallery", "verify", "--gallery",
                            gal), 0);
    free(out);
    free(err);
}
END_TEST

/* G20: a removed subject is gone from every view, and its images can be
 * enrolled again as new. */
START_TEST(test_G20_cli_remove)
{
    if (!faces94())
        return;
    char *dir = (char *)tu_path(tu_tmp, "mugshots");
    char *gal = (char *)tu_path(tu_tmp, "gallery");
    link_photos(dir, "R1", people[5], 1, 2);
    link_photos(dir, "R2", people[0], 1, 1);
    fs_json_free(tu_run_json(0, (char *const[]){ "facesearch", "enroll", dir,
        "--gallery", gal, "--json", NULL }));
    TU_REFUSED(2, "--reason", "gallery", "remove", "R1", "--gallery", gal);
    char *out, *err;
    ck_assert_int_eq(TU_RUN(&out, &err, "gallery", "remove", "R1",
                            "--reason", "record sealed by court order",
                            "--gallery", gal), 0);
    ck_assert_ptr_nonnull(strstr(out, "removed subject R1"));
    free(out);
    free(err);
    TU_REFUSED(2, "no subject 'R1'", "gallery", "show", "R1", "--gallery",
               gal);
    TU_REFUSED(2, "no subject 'R1'", "gallery", "remove", "R1", "--reason",
               "again", "--gallery", gal);
    fs_json *j = tu_run_json(0, (char *const[]){ "facesearch", "gallery",
        "stats", "--gallery", gal, "--json", NULL });
    ck_assert_int_eq(tu_num(j, "subjects"), 1);
    ck_assert_int_eq(tu_num(j, "images"), 1);
    fs_json_free(j);
    j = tu_run_json(0, (char *const[]){ "facesearch", "enroll", dir,
        "--gallery", gal, "--json", NULL });
    ck_assert_int_eq(tu_num(j, "enrolled"), 2);
    ck_assert_int_eq(tu_num(j, "already"), 1);
    fs_json_free(j);
}
END_TEST

START_TEST(test_enroll_refuses_bad_usage)
{
    char gal[4096];       /* kept: tu_path's buffers are reused */
    snprintf(gal, sizeof gal, "%s", tu_path(tu_tmp, "gallery"));
    char *empty = (char *)tu_path(tu_tmp, "empty");
    mkdir(empty, 0700);
    TU_REFUSED(2, "no DIR or --manifest", "enroll", "--gallery", gal);
    TU_REFUSED(2, "not both", "enroll", empty, "--manifest", "x.csv",
               "--gallery", gal);
    TU_REFUSED(2, "nowhere", "enroll", (char *)tu_path(tu_tmp, "nowhere"),
               "--gallery", gal);
    TU_REFUSED(2, "names no images", "enroll", empty, "--gallery", gal);
    TU_REFUSED(2, "--batch must be", "enroll", empty, "--batch", "0",
               "--gallery", gal);
    char *man = (char *)tu_path(tu_tmp, "m.csv");
    ck_assert_int_eq(tu_write(man, "image,subject_id\nx.jpg,S\n", 25), 0);
    TU_REFUSED(2, "no 'name' column", "enroll", "--manifest", man,
               "--gallery", gal);
    ck_assert_int_eq(tu_write(man, "\x89PNG\0\0", 6), 0);
    TU_REFUSED(2, "not a text file", "enroll", "--manifest", man,
               "--gallery", gal);
    char *one = (char *)tu_path(tu_tmp, "one");
    mkdir(one, 0700);
    mkdir(tu_path(one, "S1"), 0700);
    ck_assert_int_eq(tu_write(tu_path(one, "S1/x.jpg"), "x", 1), 0);
    TU_REFUSED(2, "cannot write report", "enroll", one, "--report",
               (char *)tu_path(tu_tmp, "no/such/dir/r.csv"), "--gallery",
               gal);
    /* nothing above enrolled anything */
    fs_json *j = tu_run_json(0, (char *const[]){ "facesearch", "gallery",
        "stats", "--gallery", gal, "--json", NULL });
    ck_assert_int_eq(tu_num(j, "images"), 0);
    fs_json_free(j);
    TU_REFUSED(2, "no gallery at", "gallery", "stats", "--gallery",
               (char *)tu_path(tu_tmp, "nowhere"));
    TU_REFUSED(2, "unknown gallery command 'drop'", "gallery", "drop");
    TU_REFUSED(2, "which gallery command", "gallery");
    TU_REFUSED(2, "show needs one SUBJECT", "gallery", "show", "--gallery",
               gal);
    TU_REFUSED(2, "--rank must be exact or compressed", "gallery", "config",
               "--rank", "fast", "--gallery", gal);
}
END_TEST

/* A manifest whose only row never closes its quote: that row is
 * rejected with its line, nothing is enrolled, the run itself succeeds. */
START_TEST(test_enroll_manifest_unterminated_quote)
{
    char *gal = (char *)tu_path(tu_tmp, "gallery");
    char *man = (char *)tu_path(tu_tmp, "m.csv");
    const char *csv = "image,subject_id,name,booking_number,capture_date,"
                      "source\nx.jpg,S1,\"Roe, Rich,B1,,booking\n";
    ck_assert_int_eq(tu_write(man, csv, strlen(csv)), 0);
    fs_json *j = tu_run_json(0, (char *const[]){ "facesearch", "enroll",
        "--manifest", man, "--gallery", gal, "--json", NULL });
    ck_assert_int_eq(tu_num(j, "enrolled"), 0);
    ck_assert_int_eq(tu_num(j, "rejected"), 1);
    ck_assert_ptr_nonnull(strstr(str(item(j, "m.csv"), "reason"),
                                 "line 2: unterminated quote"));
    fs_json_free(j);
}
END_TEST

Suite *suite_enroll(void);
Suite *suite_enroll(void)
{
    Suite *s = suite_create("enroll");
    TCase *tc = tcase_create("enroll");
    tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
    tcase_add_checked_fixture(tc, setup, tu_tmp_teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_enroll_dir_report_and_rerun);
    tcase_add_test(tc, test_enroll_manifest);
    tcase_add_test(tc, test_enroll_reports_possible_duplicate);
    tcase_add_test(tc, test_enroll_killed_then_resumed);
    tcase_add_test(tc, test_G21_enrolled_image_not_in_the_file);
    tcase_add_test(tc, test_G20_cli_remove);
    tcase_add_test(tc, test_enroll_refuses_bad_usage);
    tcase_add_test(tc, test_enroll_manifest_unterminated_quote);
    suite_add_tcase(s, tc);
    return s;
}
