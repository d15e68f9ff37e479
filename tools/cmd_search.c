/*
 * cmd_search.c - `facesearch search --request ID PROBE`: the gated search
 * (G8-G13).  The command reads the probe and prints what the gate
 * releases; every condition is the gate's (fs_gate_search), so nothing of
 * a candidate list can reach this file unless the gate let it out.  The
 * list carries the profile's disclaimer above and below (G11), and our
 * own words never call a candidate more than a lead.
 *
 * --html OUT.html writes the comparison sheet beside the list: the probe
 * and its aligned chip, then each candidate's chip beside the probe's and
 * the mugshot it was found by (fs_candidates_image, through the gate).
 * The file is made before the search (so an existing one is refused with
 * nothing searched) and goes again when the run fails, so a refused
 * search leaves no file at all (G10).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fs_cli.h"
#include "fs_html.h"
#include "../engine/base/fs_file.h"

const fs_opt cmd_search_opts[] = {
    { "request", "ID", "the open request the search is for (G4, G10)" },
    { "face", "N", "which face of the probe, strongest first (default: "
                   "the one nearest the centre)" },
    { "k", "K", "how many candidates (default 20)" },
    { "human-review", NULL, "affirm that the list goes to a trained "
                            "examiner's visual comparison, as investigative "
                            "leads only (G10: required)" },
    { "threads", "T", "threads for detection and ranking (default: all)" },
    { "html", "OUT.html", "also write the comparison sheet, a self-contained "
                          "page for side-by-side visual comparison (a new "
                          "file, 0600)" },
    { "landmarks", NULL, "on the sheet, draw the 68 landmarks the chips "
                         "were aligned by, on the chips and on the probe "
                         "and mugshots (with the face's box)" },
    { NULL, NULL, NULL }
};

/* The standing in words an examiner reads once (text and sheet). */
#define STANDING_WHAT "how far the score stands above this " \
    "probe's usual scores, those of the 50 most similar other people in " \
    "the gallery, in standard deviations; it says how unusual the score " \
    "is for this probe, not who is pictured"

/* The profile's floor on the standing, when it sets one: how many it
 * held back, never who. */
static void json_floor(const fs_candidates *c)
{
    const fs_candidates_about *ab = fs_candidates_info(c);
    if (!isfinite(ab->standing_floor))
        return;
    printf(",\"standing_floor\":");
    fs_json_float(stdout, ab->standing_floor);
    printf(",\"held_back\":%zu", ab->held_back);
}

static int floor_words(const fs_candidates *c, char *buf, size_t cap)
{
    const fs_candidates_about *ab = fs_candidates_info(c);
    if (!isfinite(ab->standing_floor))
        return 0;
    snprintf(buf, cap, "%zu candidate%s of the top %zu held back: standing "
             "below the profile's floor of %g", ab->held_back,
             ab->held_back == 1 ? "" : "s",
             ab->held_back + fs_candidates_count(c), ab->standing_floor);
    return 1;
}

static void text_floor(const fs_candidates *c)
{
    char words[160];
    if (floor_words(c, words, sizeof words))
        printf("%s\n", words);
}

static void print_list(const fs_args *a, const fs_candidates *c,
                       const char *sheet)
{
    size_t n = fs_candidates_count(c);
    const char *disc = fs_candidates_disclaimer(c);
    fs_candidate x;
    if (a->json) {
        printf("{\"search_id\":\"%s\",\"request\":\"%s\",\"disclaimer\":",
               fs_candidates_search_id(c), fs_candidates_request_id(c));
        fs_json_str(stdout, disc);
        printf(",\"candidates\":[");
        for (size_t i = 0; fs_candidates_get(c, i, &x) == FS_OK; i++) {
            printf("%s{\"rank\":%d,\"subject\":", i ? "," : "", x.rank);
            fs_json_str(stdout, x.subject);
            printf(",\"score\":");
            fs_json_float(stdout, x.score);
            printf(",\"standing\":");
            fs_json_float(stdout, x.standing);
            if (x.rescored) {
                printf(",\"second\":");
                fs_json_float(stdout, x.second);
                printf(",\"fused\":");
                fs_json_float(stdout, x.fused);
            }
            printf("}");
        }
        printf("]");
        json_floor(c);
        if (sheet) {
            printf(",\"sheet\":");
            fs_json_str(stdout, sheet);
        }
        printf("}\n");
        return;
    }
    int fused = n && fs_candidates_get(c, 0, &x) == FS_OK && x.rescored;
    printf("%s\n\nsearch %s for request %s: %zu candidate%s for human "
           "comparison, most similar first\n  rank  subject%*s  score  "
           "standing%s\n",
           FS_SHOW(disc), fs_candidates_search_id(c),
           fs_candidates_request_id(c), n,
           n == 1 ? "" : "s", FS_SUBJECT_MAX - 40, "",
           fused ? "   second    fused" : "");
    for (size_t i = 0; fs_candidates_get(c, i, &x) == FS_OK; i++) {
        printf("  %4d  %-31s  %.4f  %8.2f", x.rank, FS_SHOW(x.subject),
               x.score, x.standing);
        if (fused)
            printf("  %7.4f  %7.4f", x.second, x.fused);
        printf("\n");
    }
    text_floor(c);
    printf("\nscores are cosine similarities computed by the system; a "
           "candidate is an investigative lead for a trained examiner's "
           "visual comparison\nstanding: %s\n", STANDING_WHAT);
    if (fused)
        printf("second: the second model's cosine similarity; fused: the "
               "two standardised and averaged, the order of the list\n");
    if (sheet)
        printf("comparison sheet: %s\n", FS_SHOW(sheet));
    printf("\n%s\n", FS_SHOW(disc));
}

/* ---- the comparison sheet ------------------------------------------------ */

#define CHIP_CSS_PX   180       /* chips shown side by side at this width */
#define IMAGE_CSS_PX  240       /* a probe or mugshot beside them */
#define WITH_LM(on)   ((on) ? ", with landmarks" : "")

/* One face image on the sheet: the picture and the aligned chip the
 * engine made of that face, the one the template came from; with
 * --landmarks the 68 points drawn on both (and the face's box on the
 * picture), so the examiner sees how the chip was aligned. */
typedef struct sheet_face {
    fs_image img;               /* scaled for the page, maybe drawn on */
    uint8_t  chip[FS_CHIP_BYTES];
    int      have_chip;
} sheet_face;

/* Decodes bytes and finds the face: `want` (the --face of the search),
 * else for a probe the one nearest the centre, for a mugshot its
 * dominant face, as enrolment chose it.  A failed decode is the error;
 * no face found leaves have_chip 0. */
static int sheet_face_make(fs_engine *e, const uint8_t *bytes, size_t len,
                           const char *name, int want, int mugshot,
                           int landmarks, sheet_face *out, fs_detail *d)
{
    memset(out, 0, sizeof *out);
    uint8_t *copy = malloc(len ? len : 1);
    fs_face *faces = malloc(FS_MAX_FACES * sizeof *faces);
    fs_image img = { 0 };
    int rc = copy && faces ? FS_OK
             : fs_fail(d, FS_ENOMEM, "no memory for the sheet's images");
    if (rc == FS_OK) {
        memcpy(copy, bytes, len);
        rc = fs_image_decode(copy, len, name, &img, d);
        fs_wipe(copy, len);
    }
    int n = 0, f = -1;
    if (rc == FS_OK)
        rc = fs_engine_detect(e, &img, faces, FS_MAX_FACES, &n, d);
    if (rc == FS_OK) {
        f = want >= 0 && want < n ? want
            : mugshot ? fs_dominant_face(faces, n)
                      : fs_default_face(faces, n, img.width, img.height);
        if (f < 0 && n > 0)
            f = 0;
    }
    if (rc == FS_OK && f >= 0) {
        rc = fs_engine_face_chip(e, &img, &faces[f], out->chip, d);
        out->have_chip = rc == FS_OK;
    }
    if (rc == FS_OK && out->have_chip && landmarks) {
        float points[136];
        fs_image chip = { FS_CHIP_SIZE, FS_CHIP_SIZE, 3, 8, { 0 },
                          out->chip };
        rc = fs_face_chip_landmarks(&faces[f], points, d);
        if (rc == FS_OK)
            fs_draw_landmarks(&chip, points, 1.0);
    }
    double scale = 1;
    if (rc == FS_OK)
        rc = fs_image_scale(&img, FS_HTML_IMAGE_MAX_SIDE, &out->img, &scale,
                            d);
    if (rc == FS_OK && landmarks && f >= 0)
        fs_draw_faces(&out->img, &faces[f], 1, 0, scale);
    fs_image_release(&img);
    free(copy);
    free(faces);
    return rc;
}

static void sheet_face_release(sheet_face *s)
{
    if (s->img.rgb)
        fs_wipe(s->img.rgb, (size_t)s->img.width * s->img.height * 3);
    fs_image_release(&s->img);
    fs_wipe(s->chip, sizeof s->chip);
}

/* The chip of a sheet face as a figure, or a placeholder saying why
 * there is none: `gone`, or no face found. */
static void chip_figure(fs_html *h, const sheet_face *s, const char *alt,
                        const char *caption, const char *gone)
{
    fs_image chip = { FS_CHIP_SIZE, FS_CHIP_SIZE, 3, 8, { 0 },
                      (uint8_t *)s->chip };
    if (s->have_chip)
        fs_html_pixels(h, &chip, alt, caption, CHIP_CSS_PX);
    else
        fs_html_missing(h, alt, caption, gone ? gone
                                              : "no face found to align");
}

static void header(fs_html *h, const fs_candidates *c)
{
    const fs_candidates_about *ab = fs_candidates_info(c);
    char when[64] = "";
    time_t t = (time_t)ab->time;
    struct tm tm;
    if (gmtime_r(&t, &tm))
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
    char count[32];
    snprintf(count, sizeof count, "%zu", fs_candidates_count(c));
    const char *labels[] = { "Request", "Case", "Crime type", "Examiner",
                             "Search", "Time", "Model", "Candidates" };
    const char *values[] = { fs_candidates_request_id(c), ab->case_no,
                             ab->crime, ab->examiner,
                             fs_candidates_search_id(c), when, ab->model,
                             count };
    fs_html_fields(h, labels, values, sizeof labels / sizeof *labels);
}

/* The similarity scores of the list at a glance, best first. */
static int score_chart(fs_html *h, const fs_candidates *c, fs_detail *d)
{
    size_t n = fs_candidates_count(c);
    if (n == 0)
        return FS_OK;
    char (*names)[FS_SUBJECT_MAX + 16] = malloc(n * sizeof *names);
    const char **labels = malloc(n * sizeof *labels);
    double *values = malloc(n * sizeof *values);
    int rc = names && labels && values ? FS_OK
             : fs_fail(d, FS_ENOMEM, "no memory for the score chart");
    fs_candidate x;
    for (size_t i = 0; rc == FS_OK && i < n; i++) {
        fs_candidates_get(c, i, &x);
        snprintf(names[i], sizeof names[i], "%d. %s", x.rank, x.subject);
        labels[i] = names[i];
        values[i] = x.score;
    }
    if (rc == FS_OK)
        fs_html_bars(h, "Similarity score of each candidate (cosine; "
                     "higher is more similar)", labels, values, n);
    free(names);
    free(labels);
    free(values);
    return rc;
}

/* One candidate: its chip beside the probe's, then the mugshot.  A
 * mugshot the gallery no longer holds as it was (the subject removed, or
 * its rows moved since the search) shows as a placeholder; anything else
 * that fails (storage, tampering, the session) fails the sheet. */
static int candidate_card(fs_html *h, fs_gate *g, fs_engine *e,
                          const fs_candidates *c, size_t i,
                          const sheet_face *probe, int landmarks,
                          fs_detail *d)
{
    fs_candidate x;
    fs_candidates_get(c, i, &x);
    char title[FS_SUBJECT_MAX + 32], note[192], alt[FS_SUBJECT_MAX + 64],
         cap[FS_SUBJECT_MAX + 64], second[80] = "";
    snprintf(title, sizeof title, "Candidate %d: %s", x.rank, x.subject);
    /* a fused gallery's list is ordered by the fused score: the sheet
     * shows what ordered it, as the table does */
    if (x.rescored)
        snprintf(second, sizeof second, ", second model %.4f, fused %.4f",
                 x.second, x.fused);
    snprintf(note, sizeof note, "similarity score %.4f%s, standing %.2f "
             "(rank %d of %zu)", x.score, second, x.standing, x.rank,
             fs_candidates_count(c));
    uint8_t *bytes = NULL;
    size_t len = 0;
    sheet_face m;
    memset(&m, 0, sizeof m);
    fs_detail why = { "" };
    int rc = fs_candidates_image(g, c, i, &bytes, &len, &why);
    const char *gone = rc == FS_NOTFOUND ? "no longer in the gallery as it "
                                           "was when searched" : NULL;
    if (rc == FS_OK)
        rc = sheet_face_make(e, bytes, len, x.subject, -1, 1, landmarks, &m,
                             &why);
    if (rc != FS_OK && !gone) {
        fs_fail(d, rc, "candidate %d (%s): %s", x.rank, x.subject, why.msg);
        goto out;
    }
    rc = FS_OK;
    fs_html_card_begin(h, title, note);
    fs_html_row_begin(h);
    snprintf(cap, sizeof cap, "Probe, aligned%s", WITH_LM(landmarks));
    chip_figure(h, probe, "the probe's aligned face", cap, NULL);
    snprintf(alt, sizeof alt, "candidate %d's aligned face", x.rank);
    snprintf(cap, sizeof cap, "Candidate %d, aligned%s", x.rank,
             WITH_LM(landmarks));
    chip_figure(h, &m, alt, cap, gone);
    snprintf(alt, sizeof alt, "candidate %d's mugshot", x.rank);
    snprintf(cap, sizeof cap, "Candidate %d as enrolled%s", x.rank,
             WITH_LM(landmarks));
    if (gone)
        fs_html_missing(h, alt, cap, gone);
    else
        fs_html_pixels(h, &m.img, alt, cap, IMAGE_CSS_PX);
    fs_html_row_end(h);
    fs_html_card_end(h);
out:
    sheet_face_release(&m);
    if (bytes)
        fs_wipe(bytes, len);
    free(bytes);
    return rc;
}

static int write_sheet(fs_args *a, fs_engine *e, const fs_candidates *c,
                       const uint8_t *probe, size_t probe_len,
                       const char *probe_name, int face, FILE *f,
                       fs_detail *d)
{
    int landmarks = fs_arg(a, "landmarks") != NULL;
    const char *disc = fs_candidates_disclaimer(c);
    char sub[128];
    snprintf(sub, sizeof sub, "Search %s for request %s: candidates for a "
             "trained examiner's visual comparison",
             fs_candidates_search_id(c), fs_candidates_request_id(c));
    sheet_face p;
    int rc = sheet_face_make(e, probe, probe_len, probe_name, face, 0,
                             landmarks, &p, d);
    if (rc != FS_OK)
        return rc;
    fs_html h;
    fs_html_begin(&h, f, "Comparison sheet", sub, disc);
    header(&h, c);
    fs_html_heading(&h, 2, "Probe");
    fs_html_row_begin(&h);
    char cap[96];
    snprintf(cap, sizeof cap, "Probe as submitted%s", WITH_LM(landmarks));
    fs_html_pixels(&h, &p.img, "the probe image", cap, IMAGE_CSS_PX);
    snprintf(cap, sizeof cap, "Probe, aligned: the face searched%s",
             WITH_LM(landmarks));
    chip_figure(&h, &p, "the probe's aligned face", cap, NULL);
    fs_html_row_end(&h);
    fs_html_heading(&h, 2, "Candidates");
    fs_html_para(&h, "Scores are cosine similarities computed by the "
                 "system between the probe's template and each "
                 "candidate's closest template. A candidate is an "
                 "investigative lead for a trained examiner's visual "
                 "comparison; a high score alone shows nothing about "
                 "who is pictured.");
    fs_html_para(&h, "Standing: " STANDING_WHAT ".");
    char words[160];
    if (floor_words(c, words, sizeof words))
        fs_html_para(&h, words);
    rc = score_chart(&h, c, d);
    for (size_t i = 0; rc == FS_OK && i < fs_candidates_count(c); i++)
        rc = candidate_card(&h, a->gate, e, c, i, &p, landmarks, d);
    sheet_face_release(&p);
    int wrc = fs_html_end(&h, disc);
    if (rc == FS_OK && wrc != FS_OK)
        rc = fs_fail(d, wrc, "cannot write the comparison sheet");
    return rc;
}

int cmd_search(fs_args *a)
{
    const char *request = fs_arg(a, "request");
    if (!request || !*request)
        return fs_usage_error(a, "search needs --request ID (G4)");
    if (a->npos != 1)
        return fs_usage_error(a, "search needs one PROBE_IMAGE");
    long k, face, threads;
    if (fs_arg_int(a, "k", 1, FS_RANK_MAX_K, 20, &k) != EXIT_OK ||
        fs_arg_int(a, "face", 0, FS_MAX_FACES - 1, -1, &face) != EXIT_OK ||
        fs_arg_int(a, "threads", 0, 1024, 0, &threads) != EXIT_OK)
        return EXIT_USAGE;
    const char *path = a->pos[0];
    if (fs_arg(a, "landmarks") && !fs_arg(a, "html"))
        return fs_usage_error(a, "--landmarks draws on the comparison "
                              "sheet: give --html OUT.html too");
    const char *html;
    FILE *hf;
    int st = fs_cli_html(a, "the comparison sheet", &html, &hf);
    if (st != EXIT_OK)
        return st;
    fs_detail d = { "" };
    uint8_t *probe = NULL;
    size_t len = 0;
    /* A stream or device address is not opened: the gate refuses it by
     * name (G8), on the trail. */
    int rc = fs_intake_check_arg(path, NULL) == FS_OK
             ? fs_cli_read(a, path, FS_IMAGE_MAX_BYTES, &probe, &len, &d)
             : FS_OK;
    if (rc != FS_OK)
        return fs_cli_finish(a, html, hf, fs_cli_fail(rc, &d));
    char buf[4096], lbuf[4096];
    fs_engine_options o = { .model_path = fs_model_path(a, buf, sizeof buf),
                            .landmarks_path = fs_landmarks_path(a, lbuf,
                                                                sizeof lbuf),
                            .threads = (int)threads };
    fs_engine *e = NULL;
    rc = fs_cli_engine(a, &o, &e, &d);
    fs_candidates *c = NULL;
    if (rc == FS_OK) {
        fs_search_in in = { request, probe, len, path, (int)face, (int)k,
                            fs_arg(a, "human-review") != NULL, NULL };
        rc = fs_gate_search(a->gate, e, &in, &c, &d);
    }
    /* the sheet before the list, so a list is printed only with its
     * sheet when one was asked for */
    if (rc == FS_OK && hf)
        rc = write_sheet(a, e, c, probe, len, path, (int)face, hf, &d);
    fs_cli_engine_done(a, e);
    if (probe) {
        fs_wipe(probe, len);
        free(probe);
    }
    if (rc == FS_OK)
        print_list(a, c, html);
    fs_candidates_free(c);
    st = rc == FS_OK ? EXIT_OK : fs_cli_fail(rc, &d);
    return fs_cli_finish(a, html, hf, st);
}
