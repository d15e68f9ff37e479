/*
 * cmd_report.c - `facesearch report`, `disseminate` and `outcome`: the
 * reports a request's searches come to (G15), every release of one
 * (G16), and the requester's final word (G17).
 *
 * A report is printed by walking it once (report_walk) into a sink: a
 * title, headed sections, label/value fields and paragraphs, and the
 * disclaimer last.  The terminal's sink wraps the words; a page's sink
 * (fs_html.h: fs_html_begin, _heading, _fields, _para, _end, with the
 * images through the sink's images hook) walks the same report, so what
 * the two say cannot drift apart.  Our words call a candidate a
 * candidate with a similarity, never a match or an identification (G11);
 * the disclaimer is the profile's, as it stood when the report was issued.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fs_cli.h"

const fs_opt cmd_report_opts[] = {
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

static void when(int64_t t, char *buf, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!t)
        snprintf(buf, cap, "-");
    else
        strftime(buf, cap, "%Y-%m-%d %H:%M UTC", gmtime_r(&tt, &tm));
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
        when(o->time, at, sizeof at);
        snprintf(line, sizeof line, "%zu. %s by %s (%s), %s", i + 1,
                 fs_signoff_kind_name(o->kind), o->user, o->unit, at);
        s->para(s->ctx, line);
        char note[FS_NOTE_MAX + 32];
        snprintf(note, sizeof note, "How they concluded: %s", o->note);
        s->para(s->ctx, note);
    }
}

static void report_walk(const fs_report *r, const report_sink *s)
{
    const fs_request *q = &r->request;
    char issued[32], filed[32], subtitle[128], requester[2 * FS_FIELD_MAX + 8];
    when(r->issued, issued, sizeof issued);
    when(q->filed, filed, sizeof filed);
    snprintf(subtitle, sizeof subtitle, "Report %s, issued %s by %s", r->id,
             issued, r->issued_by);
    snprintf(requester, sizeof requester, "%s, %s", q->requester, q->agency);
    s->title(s->ctx, report_title(r->kind), subtitle, r->disclaimer);
    const char *labels[] = { "Report", "Request", "Case", "Crime",
                             "Requester", "Contact", "Filed" };
    const char *values[] = { r->id, q->id, q->case_no, q->crime, requester,
                             q->contact, filed };
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

static void text_end(void *ctx, const char *disclaimer)
{
    (void)ctx;
    printf("\n");
    wrapped(disclaimer, 0);
}

static const report_sink text_sink = {
    NULL, text_title, text_heading, text_fields, text_para, NULL, text_end
};

/* ---- JSON -------------------------------------------------------------------- */

static void json_member(const char *key, const char *value, int first)
{
    printf("%s\"%s\":", first ? "" : ",", key);
    fs_json_str(stdout, value);
}

static void print_json(const fs_report *r)
{
    const fs_request *q = &r->request;
    char issued[32];
    when(r->issued, issued, sizeof issued);
    printf("{");
    json_member("id", r->id, 1);
    json_member("kind", fs_report_kind_name(r->kind), 0);
    json_member("title", report_title(r->kind), 0);
    printf(",\"request\":{");
    const char *k[] = { "id", "case", "crime", "requester", "agency",
                        "contact", "filed_by" };
    const char *v[] = { q->id, q->case_no, q->crime, q->requester, q->agency,
                        q->contact, q->filed_by };
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
        json_member(k[i], v[i], i == 0);
    printf("}");
    json_member("search", r->search, 0);
    if (r->kind == FS_REPORT_LEAD) {
        const fs_lead *l = &r->lead;
        printf(",\"lead\":{");
        json_member("id", l->id, 1);
        json_member("subject", l->subject, 0);
        printf(",\"rank\":%d,\"score\":", l->rank);
        fs_json_float(stdout, l->score);
        json_member("state", fs_lead_state_name(l->state), 0);
        printf(",\"signoffs\":[");
        for (size_t i = 0; i < l->n_signoffs; i++) {
            const fs_signoff *o = &l->signoffs[i];
            char at[32];
            when(o->time, at, sizeof at);
            printf("%s{", i ? "," : "");
            json_member("kind", fs_signoff_kind_name(o->kind), 1);
            json_member("user", o->user, 0);
            json_member("unit", o->unit, 0);
            json_member("time", at, 0);
            json_member("note", o->note, 0);
            printf("}");
        }
        printf("]}");
    }
    if (r->kind == FS_REPORT_REJECTION)
        json_member("reasons", r->reasons, 0);
    json_member("issued_by", r->issued_by, 0);
    json_member("issued", issued, 0);
    printf(",\"releases\":%u", r->releases);
    json_member("disclaimer", r->disclaimer, 0);
    printf("}\n");
}

/* ---- report ------------------------------------------------------------------- */

static int show_report(const fs_args *a, const char *id)
{
    fs_report *r = malloc(sizeof *r);
    if (!r) {
        fs_error_msg("no memory for a report");
        return EXIT_INTERNAL;
    }
    fs_detail d = { "" };
    int rc = fs_report_get(a->gate, id, r, &d);
    if (rc == FS_OK) {
        if (a->json)
            print_json(r);
        else
            report_walk(r, &text_sink);
    }
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
    if (strcmp(a->pos[0], "show") == 0)
        return show_report(a, a->pos[1]);
    int kind;
    if (fs_report_kind_parse(a->pos[0], &kind) != FS_OK)
        return EXIT_INTERNAL;       /* the dispatcher checked the name */
    char id[FS_ID_MAX];
    fs_detail d = { "" };
    int rc = fs_report_issue(a->gate, kind, a->pos[1], id, &d);
    return rc == FS_OK ? show_report(a, id) : fs_cli_fail(rc, &d);
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
        json_member("id", id, 1);
        json_member("report", a->pos[0], 0);
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
        json_member("request", a->pos[0], 1);
        json_member("positive_id", p, 0);
        printf("}\n");
    } else {
        printf("request %s: positive identification %s recorded\n",
               FS_SHOW(a->pos[0]), p);
    }
    return EXIT_OK;
}
