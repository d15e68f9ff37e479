/*
 * cmd_report.c - `facesearch report`, `disseminate` and `outcome`: the
 * reports a request's searches come to (G15), every release of one
 * (G16), and the requester's final word (G17).
 *
 * A report is printed by walking it once (report_walk) into a sink: a
 * title, headed sections, label/value fields and paragraphs, and the
 * disclaimer last.  The terminal's sink wraps the words; the page's sink
 * (--html OUT.html, through fs_html.h, with the probe and the mugshot
 * through the sink's images hook) walks the same report, so what the two
 * say cannot drift apart.  Our words call a candidate a
 * candidate with a similarity, never a match or an identification (G11);
 * the disclaimer is the profile's, as it stood when the report was issued.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fs_cli.h"
#include "fs_html.h"

const fs_opt cmd_report_opts[] = {
    { "html", "OUT.html", "also write the report as a self-contained page "
                          "(a new file) with the probe and the candidate's "
                          "mugshot" },
    { NULL, NULL, NULL }
};

const fs_opt cmd_disseminate_opts[] = {
    { "to", "NAME", "who received the report" },
    { "manner", "HOW", "email:ADDRESS, phone:NUMBER or in-person:WITNESS "
                       "(G16)" },
    { NULL, NULL, NULL }
};

const fs_opt cmd_outcome_opts[] = {
    { "positive-id", "yes|no", "whether the lead led to a positive "
                               "identification (G17)" },
    { NULL, NULL, NULL }
};

static void when_text(int64_t t, char *buf, size_t cap)
{
    fs_cli_time(t, "%Y-%m-%d %H:%M UTC", buf, cap);
}

/* ---- the walk ------------------------------------------------------------- */

/* Where a report goes: the terminal's text, or a page. */
typedef struct report_sink {
    void *ctx;
    void (*title)(void *ctx, const char *title, const char *subtitle,
                  const char *disclaimer);
    void (*heading)(void *ctx, const char *text);
    void (*fields)(void *ctx, const char *const *labels,
                   const char *const *values, size_t n);
    void (*para)(void *ctx, const char *text);
    /* one of a list (a sign-off): its line, then what it says */
    void (*item)(void *ctx, const char *title, const char *text);
    /* the probe and the candidate's mugshot, where the sink shows images
     * (NULL: the terminal, which does not) */
    void (*images)(void *ctx, const fs_report *r);
    void (*end)(void *ctx, const char *disclaimer);
} report_sink;

static const char *report_title(int kind)
{
    return kind == FS_REPORT_LEAD
           ? "POSSIBLE MATCH REPORT - INVESTIGATIVE LEAD ONLY"
           : kind == FS_REPORT_NO_MATCH ? "NO MATCH REPORT"
           : "IMAGE REJECTION REPORT";
}

static void walk_lead(const fs_report *r, const report_sink *s)
{
    const fs_lead *l = &r->lead;
    char rank[64], score[64];
    snprintf(rank, sizeof rank, "%d in the candidate list of search %s",
             l->rank, l->search);
    snprintf(score, sizeof score, "similarity %.2f", l->score);
    s->heading(s->ctx, "Candidate");
    const char *labels[] = { "Lead", "Subject", "Rank", "Score" };
    const char *values[] = { l->id, l->subject, rank, score };
    s->fields(s->ctx, labels, values, 4);
    s->para(s->ctx, "The candidate was compared with the probe by trained "
            "examiners and signed off as below. It is an investigative "
            "lead only, not a positive identification, and is not "
            "probable cause to arrest.");
    s->heading(s->ctx, "Review and sign-offs");
    for (size_t i = 0; i < l->n_signoffs; i++) {
        const fs_signoff *o = &l->signoffs[i];
        char at[32], line[FS_USER_MAX + FS_FIELD_MAX + 96];
        when_text(o->time, at, sizeof at);
        snprintf(line, sizeof line, "%zu. %s by %s (%s), %s", i + 1,
                 fs_signoff_kind_name(o->kind), o->user, o->unit, at);
        char note[FS_NOTE_MAX + 32];
        snprintf(note, sizeof note, "How they concluded: %s", o->note);
        s->item(s->ctx, line, note);
    }
}

static void report_walk(const fs_report *r, const report_sink *s)
{
    const fs_request *q = &r->request;
    char issued[32], filed[32], subtitle[128], releases[48];
    char requester[2 * FS_FIELD_MAX + 8];
    when_text(r->issued, issued, sizeof issued);
    when_text(q->filed, filed, sizeof filed);
    snprintf(subtitle, sizeof subtitle, "Report %s, issued %s by %s", r->id,
             issued, r->issued_by);
    snprintf(requester, sizeof requester, "%s, %s", q->requester, q->agency);
    snprintf(releases, sizeof releases, "%u recorded (G16)", r->releases);
    s->title(s->ctx, report_title(r->kind), subtitle, r->disclaimer);
    const char *labels[] = { "Report", "Request", "Case", "Crime",
                             "Requester", "Contact", "Filed", "Releases" };
    const char *values[] = { r->id, q->id, q->case_no, q->crime, requester,
                             q->contact, filed, releases };
    s->fields(s->ctx, labels, values, sizeof labels / sizeof labels[0]);
    if (s->images)
        s->images(s->ctx, r);
    char text[512];
    if (r->kind == FS_REPORT_LEAD) {
        walk_lead(r, s);
    } else if (r->kind == FS_REPORT_REJECTION) {
        s->heading(s->ctx, "Image quality");
        snprintf(text, sizeof text, "The probe image of request %s (search "
                 "%s) is unfit for face search: %s.", q->id, r->search,
                 r->reasons);
        s->para(s->ctx, text);
        s->para(s->ctx, "No search of the gallery was made with it. You "
                "are invited to submit another image, a clearer and more "
                "frontal view of the face, for the same request.");
    } else {
        s->heading(s->ctx, "Result");
        snprintf(text, sizeof text, "No candidate was found. The search "
                 "made for request %s gave no candidate that the examiners "
                 "could put forward as an investigative lead.", q->id);
        s->para(s->ctx, text);
    }
    s->end(s->ctx, r->disclaimer);
}

/* ---- the terminal ------------------------------------------------------------ */

#define WIDTH 76

/* text, shown safely, wrapped at WIDTH with every line indented. */
static void wrapped(const char *text, int indent)
{
    const char *p = FS_SHOW(text);
    int col = 0;
    while (*p) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, " ");
        if (!n)
            break;
        if (col && col + 1 + (int)n > WIDTH) {
            printf("\n");
            col = 0;
        }
        if (!col)
            col = printf("%*s", indent, "");
        else
            col += printf(" ");
        col += printf("%.*s", (int)n, p);
        p += n;
    }
    printf("\n");
}

static void text_title(void *ctx, const char *title, const char *subtitle,
                       const char *disclaimer)
{
    (void)ctx;
    (void)disclaimer;                    /* the terminal's comes last */
    printf("%s\n", title);
    for (size_t i = 0; i < strlen(title); i++)
        putchar('=');
    printf("\n%s\n", FS_SHOW(subtitle));
}

static void text_heading(void *ctx, const char *text)
{
    (void)ctx;
    printf("\n%s\n", text);
}

static void text_fields(void *ctx, const char *const *labels,
                        const char *const *values, size_t n)
{
    (void)ctx;
    printf("\n");
    for (size_t i = 0; i < n; i++)
        printf("  %-10s %s\n", labels[i], FS_SHOW(values[i]));
}

static void text_para(void *ctx, const char *text)
{
    (void)ctx;
    printf("\n");
    wrapped(text, 2);
}

static void text_item(void *ctx, const char *title, const char *text)
{
    text_para(ctx, title);
    text_para(ctx, text);
}

static void text_end(void *ctx, const char *disclaimer)
{
    (void)ctx;
    printf("\n");
    wrapped(disclaimer, 0);
}

static const report_sink text_sink = {
    NULL, text_title, text_heading, text_fields, text_para, text_item, NULL,
    text_end
};

/* ---- the page ------------------------------------------------------------------ */

#define IMAGE_CSS_PX 300            /* the probe and the mugshot, side by side */

typedef struct page {
    fs_html     h;
    FILE       *f;
    fs_gate    *gate;
    int         rc;                 /* the first failure, FS_OK */
    fs_detail  *d;
} page;

/* The terminal's title is in capitals; a page's heading reads better in
 * sentence case ("Possible match report - investigative lead only"). */
static void page_title(void *ctx, const char *title, const char *subtitle,
                       const char *disclaimer)
{
    page *p = ctx;
    char t[96];
    size_t i = 0;
    for (; title[i] && i + 1 < sizeof t; i++)
        t[i] = i ? (char)tolower((unsigned char)title[i]) : title[i];
    t[i] = 0;
    fs_html_begin(&p->h, p->f, t, subtitle, disclaimer);
}

static void page_heading(void *ctx, const char *text)
{
    fs_html_heading(&((page *)ctx)->h, 2, text);
}

static void page_fields(void *ctx, const char *const *labels,
                        const char *const *values, size_t n)
{
    fs_html_fields(&((page *)ctx)->h, labels, values, n);
}

static void page_para(void *ctx, const char *text)
{
    fs_html_para(&((page *)ctx)->h, text);
}

static void page_item(void *ctx, const char *title, const char *text)
{
    page *p = ctx;
    fs_html_card_begin(&p->h, title, NULL);
    fs_html_para(&p->h, text);
    fs_html_card_end(&p->h);
}

/* One image of the report, or a box saying why there is none (a probe
 * purged under the retention, a subject removed from the gallery, bytes
 * that no longer decode). */
static void page_image(page *p, const uint8_t *bytes, size_t len,
                       const char *alt, const char *caption, const char *why)
{
    if (!bytes)
        fs_html_missing(&p->h, alt, caption, why);
    else                /* bytes that do not decode: fs_html says so */
        (void)fs_html_image(&p->h, bytes, len, alt, caption, IMAGE_CSS_PX);
}

static void page_images(void *ctx, const fs_report *r)
{
    page *p = ctx;
    if (!r->search[0])
        return;                     /* a no-match report names no search */
    uint8_t *probe = NULL, *mug = NULL;
    size_t pl = 0, ml = 0;
    fs_detail d = { "" };
    int rc = fs_report_images(p->gate, r->id, &probe, &pl, &mug, &ml, &d);
    if (rc != FS_OK && rc != FS_NOTFOUND && p->rc == FS_OK) {
        p->rc = rc;                 /* damaged or unreadable: no page */
        *p->d = d;
    }
    char cap[96];
    fs_html_heading(&p->h, 2, r->kind == FS_REPORT_LEAD
                    ? "Probe and candidate" : "Probe");
    fs_html_row_begin(&p->h);
    snprintf(cap, sizeof cap, "Probe of search %s, as submitted", r->search);
    page_image(p, probe, pl, "the probe image", cap,
               rc == FS_NOTFOUND ? d.msg : "the probe could not be read");
    if (r->kind == FS_REPORT_LEAD) {
        snprintf(cap, sizeof cap, "Candidate %s: gallery image",
                 r->lead.subject);
        page_image(p, mug, ml, "the candidate's gallery image", cap,
                   rc == FS_OK || rc == FS_NOTFOUND
                   ? "the subject is no longer in the gallery"
                   : "the gallery image could not be read");
    }
    fs_html_row_end(&p->h);
    if (probe)
        fs_wipe(probe, pl);
    if (mug)
        fs_wipe(mug, ml);
    free(probe);
    free(mug);
}

static void page_end(void *ctx, const char *disclaimer)
{
    page *p = ctx;
    int rc = fs_html_end(&p->h, disclaimer);
    if (rc != FS_OK && p->rc == FS_OK)
        p->rc = fs_fail(p->d, rc, "cannot write the report's page");
}

/* The report as a page into f: FS_OK or why not. */
static int write_page(fs_gate *g, const fs_report *r, FILE *f, fs_detail *d)
{
    page p = { .f = f, .gate = g, .rc = FS_OK, .d = d };
    const report_sink s = { &p, page_title, page_heading, page_fields,
                            page_para, page_item, page_images, page_end };
    report_walk(r, &s);
    return p.rc;
}

/* ---- JSON -------------------------------------------------------------------- */

static void print_json(const fs_report *r, const char *page_path)
{
    const fs_request *q = &r->request;
    char issued[32];
    fs_cli_utc(r->issued, issued, sizeof issued);
    printf("{");
    fs_json_member("id", r->id, 1);
    fs_json_member("kind", fs_report_kind_name(r->kind), 0);
    fs_json_member("title", report_title(r->kind), 0);
    printf(",\"request\":{");
    const char *k[] = { "id", "case", "crime", "requester", "agency",
                        "contact", "filed_by" };
    const char *v[] = { q->id, q->case_no, q->crime, q->requester, q->agency,
                        q->contact, q->filed_by };
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
        fs_json_member(k[i], v[i], i == 0);
    printf("}");
    fs_json_member("search", r->search, 0);
    if (r->kind == FS_REPORT_LEAD) {
        printf(",\"lead\":");
        fs_cli_lead_json(&r->lead);
    }
    if (r->kind == FS_REPORT_REJECTION)
        fs_json_member("reasons", r->reasons, 0);
    fs_json_member("issued_by", r->issued_by, 0);
    fs_json_member("issued", issued, 0);
    printf(",\"releases\":%u", r->releases);
    fs_json_member("disclaimer", r->disclaimer, 0);
    if (page_path)
        fs_json_member("page", page_path, 0);
    printf("}\n");
}

/* ---- report ------------------------------------------------------------------- */

/* The report id, printed (and with f, its page written first, so the
 * report is printed only with its page when one was asked for). */
static int show_report(const fs_args *a, const char *id, const char *html,
                       FILE *f)
{
    fs_report *r = malloc(sizeof *r);
    if (!r) {
        fs_error_msg("no memory for a report");
        return EXIT_INTERNAL;
    }
    fs_detail d = { "" };
    int rc = fs_report_get(a->gate, id, r, &d);
    if (rc == FS_OK && f)
        rc = write_page(a->gate, r, f, &d);
    if (rc == FS_OK) {
        if (a->json) {
            print_json(r, html);
        } else {
            report_walk(r, &text_sink);
            if (html)
                printf("\nreport page: %s\n", FS_SHOW(html));
        }
    }
    fs_wipe(r, sizeof *r);
    free(r);
    return rc == FS_OK ? EXIT_OK : fs_cli_fail(rc, &d);
}

int cmd_report(fs_args *a)
{
    if (a->npos != 2)
        return fs_usage_error(a, "report %s needs one %s", a->pos[0],
                              strcmp(a->pos[0], "lead") == 0 ? "LEAD"
                              : strcmp(a->pos[0], "show") == 0 ? "ID"
                              : "REQUEST");
    /* the file first, so an existing one refuses the run before a report
     * is issued; any failure after removes it (a refused lead report,
     * G14, leaves nothing) */
    const char *html;
    FILE *f;
    int st = fs_cli_html(a, "the report's page", &html, &f);
    if (st != EXIT_OK)
        return st;
    char id[FS_ID_MAX];
    int kind;
    if (strcmp(a->pos[0], "show") == 0) {
        st = show_report(a, a->pos[1], html, f);
    } else if (fs_report_kind_parse(a->pos[0], &kind) != FS_OK) {
        st = EXIT_INTERNAL;         /* the dispatcher checked the name */
    } else {
        fs_detail d = { "" };
        int rc = fs_report_issue(a->gate, kind, a->pos[1], id, &d);
        st = rc == FS_OK ? show_report(a, id, html, f) : fs_cli_fail(rc, &d);
    }
    return fs_cli_finish(a, html, f, st);
}

/* ---- disseminate, outcome ---------------------------------------------------- */

int cmd_disseminate(fs_args *a)
{
    if (a->npos != 1)
        return fs_usage_error(a, "disseminate needs one REPORT");
    if (!fs_arg(a, "to") || !fs_arg(a, "manner"))
        return fs_usage_error(a, "G16: a release names its recipient (--to "
                              "NAME) and how it was made (--manner)");
    char id[FS_ID_MAX];
    fs_detail d = { "" };
    int rc = fs_report_disseminate(a->gate, a->pos[0], fs_arg(a, "to"),
                                   fs_arg(a, "manner"), id, &d);
    if (rc != FS_OK)
        return fs_cli_fail(rc, &d);
    if (a->json) {
        printf("{");
        fs_json_member("id", id, 1);
        fs_json_member("report", a->pos[0], 0);
        printf("}\n");
    } else {
        printf("%s\n", FS_SHOW(id));
    }
    return EXIT_OK;
}

int cmd_outcome(fs_args *a)
{
    if (a->npos != 1)
        return fs_usage_error(a, "outcome needs one REQUEST");
    const char *p = fs_arg(a, "positive-id");
    int positive = p && strcmp(p, "yes") == 0 ? FS_POSITIVE_YES
                   : p && strcmp(p, "no") == 0 ? FS_POSITIVE_NO : 0;
    if (!positive)
        return fs_usage_error(a, "G17: outcome needs --positive-id yes or "
                              "no");
    fs_detail d = { "" };
    int rc = fs_request_outcome(a->gate, a->pos[0], positive, &d);
    if (rc != FS_OK)
        return fs_cli_fail(rc, &d);
    if (a->json) {
        printf("{");
        fs_json_member("request", a->pos[0], 1);
        fs_json_member("positive_id", p, 0);
        printf("}\n");
    } else {
        printf("request %s: positive identification %s recorded\n",
               FS_SHOW(a->pos[0]), p);
    }
    return EXIT_OK;
}
