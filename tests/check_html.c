/*
 * check_html.c - the self-contained pages (tools/fs_html.c) and the
 * comparison sheet of a search (`facesearch search --html`), checked in a
 * real browser: headless Chromium loads each page, counts its images
 * that loaded and takes a screenshot (tu_browser_render).  What a refused
 * search leaves (no file, G10), the disclaimer at top and bottom and no
 * word of ours that calls a candidate more than a lead (G11), and text
 * that cannot become markup.
 *
 * The sheet's gallery is made once per test case (three subjects, one
 * with two mugshots, all from the test photo) and shared by its tests,
 * each writing its own files.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../engine/facesearch.h"
#include "../tools/fs_html.h"
#include "fs_testutil.h"

static char gal[4096];
static char *base;                  /* the case's directory, or NULL */
static int have_face;               /* the test photo is there */

#define RUN(out, err, ...) \
    tu_run_on(gal, NULL, out, err, (const char *const[]){ __VA_ARGS__, NULL })
#define EXPECT(want, what, ...) \
    tu_expect_on(gal, want, what, NULL, \
                 (const char *const[]){ __VA_ARGS__, NULL })

static void login(const char *user)
{
    ck_assert_int_eq(tu_login(gal, user, TU_PASSWORD), 0);
}

/* A mugshot of the test photo at dir/subject/name. */
static void mugshot(const char *dir, const char *subject, const char *name,
                    double scale, int mirror)
{
    char sub[4300];
    snprintf(sub, sizeof sub, "%s/%s", dir, subject);
    mkdir(sub, 0700);
    ck_assert_int_eq(tu_face_variant(tu_path(sub, name), scale, mirror), 0);
}

/* detroit, its people, three subjects enrolled (subj-a with two
 * mugshots, so the sheet must find the one whose template ranked), and
 * request R1 filed by ray. */
static void base_setup(void)
{
    base = tu_mkdtemp();
    tu_tmp = base;
    setenv("XDG_RUNTIME_DIR", tu_path(base, "run"), 1);
    setenv("XDG_CONFIG_HOME", tu_path(base, "config"), 1);
    snprintf(gal, sizeof gal, "%s/gallery", base);
    tu_init_gallery(gal);
    tu_add_user(gal, "eve", "examiner", "2026-01-15");
    tu_add_user(gal, "ray", "requester", NULL);
    have_face = tu_face_photo() != NULL;
    if (have_face) {
        char dir[4200];
        snprintf(dir, sizeof dir, "%s/mugshots", base);
        ck_assert_int_eq(mkdir(dir, 0700), 0);
        /* the nearer of the two to the probe enrolled second */
        mugshot(dir, "subj-a", "booking-1.bmp", 1.3, 1);
        mugshot(dir, "subj-a", "booking-2.bmp", 1.0, 0);
        mugshot(dir, "subj-b", "booking.bmp", 0.9, 1);
        mugshot(dir, "subj-c", "booking.bmp", 1.15, 0);
        EXPECT(0, "4 enrolled", "enroll", dir);
        ck_assert_int_eq(tu_face_variant(tu_path(base, "probe.bmp"), 0.8, 0),
                         0);
    }
    login("ray");
    tu_request_robbery(gal, "R1");
    tu_tmp = NULL;
}

static void base_teardown(void)
{
    tu_rmtree(base);
    free(base);
    base = NULL;
}

/* s with the five markup characters as fs_html writes them. */
static char *escaped(const char *s)
{
    char *out = malloc(6 * strlen(s) + 1), *o = out;
    for (; *s; s++) {
        const char *e = *s == '&' ? "&amp;" : *s == '<' ? "&lt;"
                        : *s == '>' ? "&gt;" : *s == '"' ? "&quot;"
                        : *s == '\'' ? "&#39;" : NULL;
        if (e) {
            memcpy(o, e, strlen(e));
            o += strlen(e);
        } else {
            *o++ = *s;
        }
    }
    *o = 0;
    return out;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* The page's own words: the disclaimers and the embedded images' data
 * taken out (base64 may spell anything). */
static char *own_words(const char *page, const char *disc)
{
    char *w = strdup(page);
    for (char *p; (p = strstr(w, disc));)
        memmove(p, p + strlen(disc), strlen(p + strlen(disc)) + 1);
    for (char *p = w; (p = strstr(p, "data:image/png;base64,"));) {
        char *q = strchr(p, '"');
        ck_assert_ptr_nonnull(q);
        memmove(p, q, strlen(q) + 1);
    }
    return w;
}

/* The checks every sheet passes: the disclaimer as the first and last
 * thing on the page, no words of ours beyond a lead, nothing that loads
 * from outside or runs, and, in Chromium, every image loaded (the
 * probe, its chip, and per candidate the probe's chip again, the
 * candidate's chip and mugshot). */
static void sheet_ok(const char *path, int candidates)
{
    char *page = tu_read_private(path);
    fs_profile p;
    ck_assert_int_eq(fs_profile_load("detroit", &p, NULL, NULL), FS_OK);
    char *disc = escaped(p.disclaimer);
    const char *top = strstr(page, disc), *h1 = strstr(page, "<h1>");
    const char *first_card = strstr(page, "class=\"card\"");
    ck_assert_msg(top && h1 && top < h1, "no disclaimer above the title");
    ck_assert_int_eq(count(page, disc), 2);
    const char *last = top;
    for (const char *q; (q = strstr(last + 1, disc));)
        last = q;
    const char *last_card = first_card;
    for (const char *q; last_card && (q = strstr(last_card + 1,
                                                 "class=\"card\""));)
        last_card = q;
    ck_assert_msg(last_card && last > last_card, "no disclaimer below the "
                  "candidates");
    ck_assert_int_eq(count(page, "class=\"card\""), candidates);
    char *mine = own_words(page, disc);
    ck_assert_msg(!strcasestr(mine, "match") && !strcasestr(mine, "identif"),
                  "%s", mine);
    ck_assert_msg(!strcasestr(mine, "<script") && !strstr(mine, "src=\"http")
                  && !strstr(mine, "href="), "%s", mine);
    ck_assert_msg(strstr(mine, "similarity score"), "%s", mine);
    free(mine);
    free(disc);
    free(page);
    tu_page r;
    if (!tu_browser_render(path, 1100, 2400, &r))
        return;
    ck_assert_int_eq(r.images, 2 + 3 * candidates);
    ck_assert_msg(r.loaded == r.images, "%d of %d images loaded", r.loaded,
                  r.images);
    ck_assert_int_eq(r.svgs, 1);
    tu_page_free(&r);
}

/* G10, G11: the sheet of a released search shows the probe, its chip
 * and each candidate beside it, and every image loads in a browser;
 * with --landmarks the pictures carry them. */
START_TEST(test_G10_G11_comparison_sheet_renders)
{
    if (!have_face)
        return;
    login("eve");
    const char *sheet = tu_path(base, "sheet.html");
    char *out, *err;
    ck_assert_int_eq(RUN(&out, &err, "search", "--request", "R1",
                         tu_path(base, "probe.bmp"), "--human-review", "--k",
                         "3", "--html", sheet), 0);
    ck_assert_msg(strstr(out, "comparison sheet: ") && strstr(out, sheet),
                  "%s", out);
    free(out);
    free(err);
    sheet_ok(sheet, 3);
    size_t len;
    char *page = tu_read(sheet, &len);
    ck_assert_msg(strstr(page, "subj-a") && strstr(page, "subj-b") &&
                  strstr(page, "subj-c") && strstr(page, ">S1<") &&
                  strstr(page, ">2026-0042<") && strstr(page, ">eve<") &&
                  strstr(page, ">robbery<"), "header or candidates missing");
    ck_assert_ptr_null(strstr(page, "with landmarks"));
    const char *sheet2 = tu_path(base, "sheet-landmarks.html");
    ck_assert_int_eq(RUN(&out, &err, "search", "--request", "R1",
                         tu_path(base, "probe.bmp"), "--human-review", "--k",
                         "2", "--html", sheet2, "--landmarks", "--json"), 0);
    ck_assert_msg(strstr(out, "\"sheet\":"), "%s", out);
    free(out);
    free(err);
    sheet_ok(sheet2, 2);
    char *page2 = tu_read(sheet2, &len);
    /* the probe, its chip; per candidate both chips and the mugshot */
    ck_assert_int_eq(count(page2, "with landmarks"), 2 + 3 * 2);
    /* the probe's picture and chip differ by what is drawn on them */
    const char *a = strstr(page, "base64,"), *b = strstr(page2, "base64,");
    for (int i = 0; i < 2; i++) {
        ck_assert(a && b);
        size_t la = strcspn(a, "\""), lb = strcspn(b, "\"");
        ck_assert(la != lb || memcmp(a, b, la) != 0);
        a = strstr(a + la, "base64,");
        b = strstr(b + lb, "base64,");
    }
    free(page);
    free(page2);
}
END_TEST

/* G10: a refused search writes no file at all, whatever refused it:
 * no --human-review, not an examiner, a probe unfit for search (G13). */
START_TEST(test_G10_refused_search_leaves_no_sheet)
{
    const char *sheet = tu_path(base, "refused.html");
    login("eve");
    const char *probe = tu_path(base, "probe.bmp");
    if (!have_face) {
        probe = tu_path(base, "grey.png");
        ck_assert_int_eq(tu_write_png(probe, 300, 300, 3, 8), 0);
    }
    EXPECT(1, "G10", "search", "--request", "R1", probe, "--html", sheet);
    ck_assert_int_eq(access(sheet, F_OK), -1);
    const char *grey = tu_path(base, "grey.png");
    ck_assert_int_eq(tu_write_png(grey, 300, 300, 3, 8), 0);
    EXPECT(1, "G13", "search", "--request", "R1", grey, "--human-review",
           "--html", sheet);
    ck_assert_int_eq(access(sheet, F_OK), -1);
    EXPECT(2, "no request", "search", "--request", "R9", probe,
           "--human-review", "--html", sheet);
    ck_assert_int_eq(access(sheet, F_OK), -1);
    login("ray");
    EXPECT(1, "examiner", "search", "--request", "R1", probe,
           "--human-review", "--html", sheet);
    ck_assert_int_eq(access(sheet, F_OK), -1);
}
END_TEST

/* An existing file is never overwritten: exit 2 before any search, the
 * file as it was; --landmarks alone, and an empty --html, are usage
 * errors. */
/* How many searches the trail holds, released or rejected. */
static int searches_on_trail(void)
{
    login("admin");
    char *out, *err;
    ck_assert_int_eq(RUN(&out, &err, "audit", "log"), 0);
    int n = count(out, ", search S");
    free(out);
    free(err);
    return n;
}

START_TEST(test_html_existing_file_refused)
{
    int before = searches_on_trail();
    login("eve");
    const char *sheet = tu_path(base, "kept.html");
    ck_assert_int_eq(tu_write(sheet, "kept", 4), 0);
    const char *probe = tu_path(base, "probe.bmp");
    EXPECT(2, "exists", "search", "--request", "R1", probe,
           "--human-review", "--html", sheet);
    size_t len;
    char *kept = tu_read(sheet, &len);
    ck_assert_str_eq(kept, "kept");
    free(kept);
    EXPECT(2, "--html", "search", "--request", "R1", probe,
           "--human-review", "--landmarks");
    EXPECT(2, "--html", "search", "--request", "R1", probe,
           "--human-review", "--html", "");
    /* refused before anything was searched */
    ck_assert_int_eq(searches_on_trail(), before);
}
END_TEST

/* The template of the image file at path under the rule, in-process. */
static void template_of(fs_engine *e, const char *path, int rule,
                        float tmpl[FS_DESC_DIM])
{
    fs_face_job job;
    memset(&job, 0, sizeof job);
    job.path = path;
    fs_detail d = { "" };
    ck_assert_int_eq(fs_engine_read(e, &job, 1, &d), FS_OK);
    ck_assert_int_eq(fs_engine_templates(e, &job, 1, rule, &d), FS_OK);
    ck_assert_msg(job.rc == FS_OK, "%s", job.reason);
    memcpy(tmpl, job.tmpl, sizeof job.tmpl);
    fs_face_jobs_release(&job, 1);
}

/* G9, G10: the mugshot beside each candidate comes through the gate
 * that released the list, and is the one whose template ranked: its own
 * template scores what the list says (subj-a has two mugshots, and
 * only one of them scores that). */
START_TEST(test_G10_candidate_mugshot_is_its_best_template)
{
    if (!have_face)
        return;
    login("eve");
    fs_gate *g;
    fs_engine *e;
    fs_detail d = { "" };
    ck_assert_int_eq(fs_gate_open(gal, NULL, &g, &d), FS_OK);
    fs_engine_options o = { .model_path = tu_model_path(),
                            .landmarks_path = tu_landmarks(), .threads = 1 };
    ck_assert_int_eq(fs_engine_open(&o, &e, &d), FS_OK);
    const char *probe = tu_path(base, "probe.bmp");
    size_t len;
    uint8_t *bytes = tu_read(probe, &len);
    fs_search_in in = { "R1", bytes, len, probe, -1, 3, 1, NULL };
    fs_candidates *c = NULL;
    ck_assert_msg(fs_gate_search(g, e, &in, &c, &d) == FS_OK, "%s", d.msg);
    free(bytes);
    float pt[FS_DESC_DIM], mt[FS_DESC_DIM];
    template_of(e, probe, FS_FACE_CENTRE, pt);
    ck_assert_int_eq(fs_candidates_count(c), 3);
    for (size_t i = 0; i < 3; i++) {
        fs_candidate x;
        ck_assert_int_eq(fs_candidates_get(c, i, &x), FS_OK);
        uint8_t *img = NULL;
        size_t n = 0;
        ck_assert_msg(fs_candidates_image(g, c, i, &img, &n, &d) == FS_OK,
                      "%s", d.msg);
        char name[64];
        snprintf(name, sizeof name, "mugshot-%zu.bmp", i);
        const char *path = tu_path(base, name);
        ck_assert_int_eq(tu_write(path, img, n), 0);
        free(img);
        template_of(e, path, FS_FACE_DOMINANT, mt);
        unlink(path);
        double dot = 0;
        for (int k = 0; k < FS_DESC_DIM; k++)
            dot += (double)pt[k] * mt[k];
        ck_assert_msg(fabs(dot - x.score) < 1e-4, "candidate %s: its "
                      "mugshot scores %f, the list %f", x.subject, dot,
                      (double)x.score);
    }
    uint8_t *img = NULL;
    size_t n = 0;
    ck_assert_int_eq(fs_candidates_image(g, c, 3, &img, &n, &d), FS_EINVAL);
    ck_assert_ptr_null(img);
    fs_candidates_free(c);
    fs_engine_close(e);
    fs_gate_close(g);
}
END_TEST

/* The same sheet when the gallery is the service's: the file is made
 * with the user's rights by the client, and a refusal leaves none. */
START_TEST(test_G10_sheet_through_the_service)
{
    if (!have_face)
        return;
    tu_tmp = base;                    /* the service's socket and log */
    tu_service_mode(1);
    login("eve");
    const char *sheet = tu_path(base, "served.html");
    const char *probe = tu_path(base, "probe.bmp");
    EXPECT(1, "G10", "search", "--request", "R1", probe, "--html", sheet);
    ck_assert_int_eq(access(sheet, F_OK), -1);
    EXPECT(0, "comparison sheet", "search", "--request", "R1", probe,
           "--human-review", "--k", "1", "--html", sheet);
    tu_service_mode(0);
    tu_service_stop(gal);
    tu_tmp = NULL;
    sheet_ok(sheet, 1);
}
END_TEST

static const char *const EVIL = "<script>alert(1)</script> & \"quoted\" 'x'";

/* Every text escaped, wherever it goes: title, subtitle, disclaimer,
 * headings, paragraphs, fields, tables, captions, chart labels; a byte
 * that does not decode shows a placeholder; the page and an SVG chart
 * alone load in Chromium with their images and no script. */
START_TEST(test_html_escapes_text_and_bars_render)
{
    tu_tmp_setup();
    const char *path = tu_path(tu_tmp, "page.html");
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fs_html h;
    fs_html_begin(&h, f, EVIL, EVIL, EVIL);
    fs_html_heading(&h, 2, EVIL);
    fs_html_para(&h, "a line\nwith a break and a bell \a");
    const char *labels[] = { "subject", "note" };
    const char *values[] = { EVIL, EVIL };
    fs_html_fields(&h, labels, values, 2);
    fs_html_table_begin(&h, labels, 2);
    fs_html_table_row(&h, values, 2);
    fs_html_table_end(&h);
    /* an image as a file holds it (BMP), and bytes that are no image */
    uint8_t rgb[40 * 30 * 3];
    for (size_t i = 0; i < sizeof rgb; i++)
        rgb[i] = (uint8_t)(i * 7);
    const char *bmp = tu_path(tu_tmp, "x.bmp");
    ck_assert_int_eq(tu_write_bmp(bmp, rgb, 40, 30), 0);
    size_t blen;
    uint8_t *bytes = tu_read(bmp, &blen);
    fs_html_row_begin(&h);
    ck_assert_int_eq(fs_html_image(&h, bytes, blen, EVIL, EVIL, 120), FS_OK);
    ck_assert_int_eq(fs_html_image(&h, (const uint8_t *)"nope", 4, EVIL,
                                   EVIL, 120), FS_EINVAL);
    fs_html_row_end(&h);
    free(bytes);
    const char *bar_labels[] = { EVIL, "second, a long label that goes on "
                                 "and on past its column", "zero",
                                 "negative", "not a number" };
    const double bar_values[] = { 0.9712, 12, 0, -3, NAN };
    fs_html_bars(&h, EVIL, bar_labels, bar_values, 5);
    ck_assert_int_eq(fs_html_end(&h, EVIL), FS_OK);
    ck_assert_int_eq(fclose(f), 0);

    size_t len;
    char *page = tu_read(path, &len);
    char *evil = escaped(EVIL);
    ck_assert_ptr_null(strcasestr(page, "<script"));
    ck_assert_ptr_null(strchr(page, '\a'));
    /* title, banner x2, h1, subtitle, h2, fields, table, alt x2,
     * captions x2, chart title x2 (heading and SVG title), its label */
    ck_assert_int_ge(count(page, evil), 15);
    ck_assert_int_eq(count(page, "<rect"), 5);
    ck_assert_msg(strstr(page, "not decode"), "no placeholder");
    free(evil);

    tu_page r;
    if (tu_browser_render(path, 1000, 1400, &r)) {
        ck_assert_int_eq(r.images, 1);
        ck_assert_int_eq(r.loaded, 1);
        ck_assert_int_eq(r.svgs, 1);
        /* the only script in the DOM is the one the render injected */
        ck_assert_int_eq(count(r.dom, "<script"), 1);
        ck_assert_msg(strstr(r.dom, "&lt;script&gt;alert(1)&lt;/script&gt;"),
                      "the text did not stay text");
        tu_page_free(&r);
        /* the chart alone, as an SVG file: the XML parser is strict */
        const char *s0 = strstr(page, "<svg"), *s1 = strstr(page, "</svg>");
        ck_assert(s0 && s1);
        const char *svg = tu_path(tu_tmp, "chart.svg");
        ck_assert_int_eq(tu_write(svg, s0, (size_t)(s1 + 6 - s0)), 0);
        char *dom = tu_browser_dom(svg);
        ck_assert_ptr_nonnull(dom);
        ck_assert_msg(!strstr(dom, "parsererror") && count(dom, "<rect") == 5,
                      "%s", dom);
        free(dom);
    }
    free(page);
    tu_tmp_teardown();
}
END_TEST

/* A write that fails is reported at the end, not lost. */
START_TEST(test_html_write_failure_reported)
{
    FILE *f = fopen("/dev/full", "w");
    if (!f)
        return;
    setvbuf(f, NULL, _IONBF, 0);
    fs_html h;
    fs_html_begin(&h, f, "t", NULL, "d");
    fs_html_para(&h, "p");
    ck_assert_int_eq(fs_html_end(&h, "d"), FS_EIO);
    fclose(f);
}
END_TEST

Suite *suite_html(void)
{
    Suite *s = suite_create("html");
    TCase *t = tcase_create("sheet");
    tcase_set_timeout(t, 180);
    tcase_add_unchecked_fixture(t, base_setup, base_teardown);
    tcase_add_test(t, test_G10_G11_comparison_sheet_renders);
    tcase_add_test(t, test_G10_refused_search_leaves_no_sheet);
    tcase_add_test(t, test_html_existing_file_refused);
    tcase_add_test(t, test_G10_candidate_mugshot_is_its_best_template);
    tcase_add_test(t, test_G10_sheet_through_the_service);
    suite_add_tcase(s, t);
    t = tcase_create("page");
    tcase_set_timeout(t, 60);
    tcase_add_test(t, test_html_escapes_text_and_bars_render);
    tcase_add_test(t, test_html_write_failure_reported);
    suite_add_tcase(s, t);
    return s;
}
