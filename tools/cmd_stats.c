/*
 * cmd_stats.c - `facesearch stats weekly | monthly | annual`: the
 * oversight board's figures (G19) for a calendar period, counted by the
 * gate from its records and its trail.
 *
 * The figures are laid out once, as a list of rows (stats_figures); the
 * text table and the JSON each walk that list, and so can a page writer
 * (fs_html_bars over a group's rows), so no renderer can show a figure
 * another leaves out or name it differently.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fs_cli.h"
#include "fs_html.h"

const fs_opt cmd_stats_opts[] = {
    { "html", "OUT.html", "also write the figures as a page (a new file) "
                          "with a table and a chart per group" },
    { "week", "YYYY-Www", "weekly: the ISO week (default: this week, UTC)" },
    { "month", "YYYY-MM", "monthly: the month (default: this month, UTC)" },
    { "year", "YYYY", "annual: the year (default: this year, UTC)" },
    { NULL, NULL, NULL }
};

/* The groups of figures, in order: a JSON object, a heading in the table,
 * a chart on a page. */
enum { G_REQUESTS, G_CRIMES, G_SEARCHES, G_LEADS, G_REPORTS, G_RELEASES,
       G_POSITIVE, G_VIOLATIONS, N_GROUPS };
static const struct group {
    const char *key, *heading, *chart;
} groups[N_GROUPS] = {
    { "requests", "Requests (filed in the period, as they stand now)",
      "Requests filed, by where they stand now" },
    { "crime_types", "Crime types (requests filed)",
      "Requests filed, by crime type" },
    { "searches", "Searches", "Searches, by result" },
    { "leads", "Leads (G14)", "Leads, by review" },
    { "reports", "Reports issued (G15)", "Reports issued, by kind" },
    { "disseminations", "Disseminations (G16)", "Releases" },
    { "positive_identifications", "Positive identifications (G17)",
      "Outcomes recorded: positive identification or not" },
    { "violations", "Policy violations (refusals on the trail, by rule)",
      "Refusals, by the rule named" },
};

/* One figure: its group, its JSON key and its label in the table.  sparse
 * rows (the rules) are shown in the table only when not zero; JSON keeps
 * every fixed key. */
typedef struct figure {
    int      group;
    char     key[64];
    char     label[80];
    uint64_t value;
    int      sparse;
    int      whole;                 /* a total of others: not a bar */
} figure;

#define FIGURES_MAX (32 + FS_STATS_CRIMES_MAX + FS_STATS_RULES + 1)

static void add(figure *f, size_t *n, int group, const char *key,
                const char *label, uint64_t value, int sparse)
{
    figure *x = &f[(*n)++];
    x->group = group;
    snprintf(x->key, sizeof x->key, "%s", key);
    snprintf(x->label, sizeof x->label, "%s", label);
    x->value = value;
    x->sparse = sparse;
    x->whole = 0;
}

/* The figures of s, group by group; returns how many (at most
 * FIGURES_MAX). */
static size_t stats_figures(const fs_stats *s, figure *f)
{
    size_t n = 0;
    add(f, &n, G_REQUESTS, "filed", "filed", s->requests_filed, 0);
    f[n - 1].whole = 1;
    add(f, &n, G_REQUESTS, "fulfilled", "fulfilled (lead or no candidate)",
        s->requests_fulfilled, 0);
    f[n - 1].whole = 1;             /* closed ones, counted again */
    add(f, &n, G_REQUESTS, "open", "open", s->requests_open, 0);
    add(f, &n, G_REQUESTS, "closed_lead", "closed: lead",
        s->requests_closed[FS_OUTCOME_LEAD], 0);
    add(f, &n, G_REQUESTS, "closed_no_candidate", "closed: no candidate",
        s->requests_closed[FS_OUTCOME_NO_CANDIDATE], 0);
    add(f, &n, G_REQUESTS, "closed_rejected", "closed: rejected",
        s->requests_closed[FS_OUTCOME_REJECTED], 0);
    for (size_t i = 0; i < s->n_crimes; i++)
        add(f, &n, G_CRIMES, s->crimes[i].crime, s->crimes[i].crime,
            s->crimes[i].requests, 0);
    add(f, &n, G_SEARCHES, "released", "lists released for review",
        s->searches_released, 0);
    add(f, &n, G_SEARCHES, "image_rejected", "image rejections (G13)",
        s->searches_rejected, 0);
    add(f, &n, G_LEADS, "proposed", "proposed", s->leads_proposed, 0);
    add(f, &n, G_LEADS, "approved", "approved", s->leads_approved, 0);
    add(f, &n, G_LEADS, "rejected", "rejected", s->leads_rejected, 0);
    add(f, &n, G_REPORTS, "lead", "possible match",
        s->reports[FS_REPORT_LEAD], 0);
    add(f, &n, G_REPORTS, "no_match", "no match",
        s->reports[FS_REPORT_NO_MATCH], 0);
    add(f, &n, G_REPORTS, "rejection", "image rejection",
        s->reports[FS_REPORT_REJECTION], 0);
    add(f, &n, G_RELEASES, "releases", "releases recorded", s->releases, 0);
    add(f, &n, G_POSITIVE, "yes", "yes", s->positive_yes, 0);
    add(f, &n, G_POSITIVE, "no", "no", s->positive_no, 0);
    add(f, &n, G_VIOLATIONS, "total", "refusals", s->refusals, 0);
    f[n - 1].whole = 1;
    for (int k = 1; k <= FS_STATS_RULES; k++) {
        char key[8];
        snprintf(key, sizeof key, "G%d", k);
        add(f, &n, G_VIOLATIONS, key, key, s->violations[k], 1);
    }
    add(f, &n, G_VIOLATIONS, "unnamed", "naming no rule", s->violations[0],
        1);
    return n;
}

static void day(int64_t t, char *buf, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm tm;
    strftime(buf, cap, "%Y-%m-%d", gmtime_r(&tt, &tm));
}

static const char *const kind_names[] = { "", "week", "month", "year" };

/* "the month 2026-12 (2026-12-01 to 2026-12-31, UTC)" */
static void period_words(const fs_period *p, char *buf, size_t cap)
{
    char from[16], last[16];
    day(p->from, from, sizeof from);
    day(p->to - 86400, last, sizeof last);
    snprintf(buf, cap, "the %s %s (%s to %s, UTC)", kind_names[p->kind],
             p->name, from, last);
}

/* Whether row i shows in a table (a sparse row only when not zero). */
static int row_shown(const figure *x)
{
    return !x->sparse || x->value;
}

static void print_text(const fs_period *p, const figure *f, size_t n,
                       const char *page)
{
    char words[96];
    period_words(p, words, sizeof words);
    printf("Oversight figures for %s\n", words);
    for (int g = 0; g < N_GROUPS; g++) {
        printf("\n%s\n", groups[g].heading);
        int shown = 0;
        for (size_t i = 0; i < n; i++) {
            if (f[i].group != g || !row_shown(&f[i]))
                continue;
            printf("  %-40s %8llu\n", FS_SHOW(f[i].label),
                   (unsigned long long)f[i].value);
            shown++;
        }
        if (!shown)
            printf("  (none)\n");
    }
    if (page)
        printf("\nfigures page: %s\n", FS_SHOW(page));
}

static void print_json(const fs_period *p, const figure *f, size_t n,
                       const char *page)
{
    char from[16], to[16];
    day(p->from, from, sizeof from);
    day(p->to, to, sizeof to);
    printf("{\"period\":{\"kind\":\"%s\",\"name\":\"%s\",\"from\":\"%s\","
           "\"to\":\"%s\"}", kind_names[p->kind], p->name, from, to);
    for (int g = 0; g < N_GROUPS; g++) {
        printf(",\"%s\":{", groups[g].key);
        int shown = 0;
        for (size_t i = 0; i < n; i++) {
            if (f[i].group != g)
                continue;
            printf("%s", shown++ ? "," : "");
            fs_json_str(stdout, f[i].key);
            printf(":%llu", (unsigned long long)f[i].value);
        }
        printf("}");
    }
    if (page) {
        printf(",\"page\":");
        fs_json_str(stdout, page);
    }
    printf("}\n");
}

/* The page: per group its table and, when two bars or more have
 * something to compare, its chart; no disclaimer banner, since the page
 * shows no candidate and no report, only counts. */
static int write_page(const fs_period *p, const figure *f, size_t n,
                      FILE *out, fs_detail *d)
{
    char words[96], sub[128];
    period_words(p, words, sizeof words);
    snprintf(sub, sizeof sub, "For %s, counted from the gallery's records "
             "and its audit trail (G19)", words);
    fs_html h;
    fs_html_begin(&h, out, "Oversight figures", sub, NULL);
    const char *labels[FIGURES_MAX];
    double values[FIGURES_MAX];
    for (int g = 0; g < N_GROUPS; g++) {
        fs_html_heading(&h, 2, groups[g].heading);
        size_t rows = 0, bars = 0;
        int any = 0;
        for (size_t i = 0; i < n; i++) {
            if (f[i].group != g || !row_shown(&f[i]))
                continue;
            char v[24];
            snprintf(v, sizeof v, "%llu", (unsigned long long)f[i].value);
            const char *cells[] = { f[i].label, v };
            if (!rows++) {
                static const char *const heads[] = { "Figure", "Count" };
                fs_html_counts_begin(&h, heads, 2);
            }
            fs_html_table_row(&h, cells, 2);
            if (!f[i].whole) {
                labels[bars] = f[i].label;
                values[bars++] = (double)f[i].value;
                any |= f[i].value != 0;
            }
        }
        if (rows)
            fs_html_table_end(&h);
        else
            fs_html_para(&h, "None in the period.");
        if (bars >= 2 && any)
            fs_html_bars(&h, groups[g].chart, labels, values, bars);
    }
    int rc = fs_html_end(&h, NULL);
    return rc == FS_OK ? FS_OK
           : fs_fail(d, rc, "cannot write the figures' page");
}

int cmd_stats(fs_args *a)
{
    static const struct { const char *sub, *opt; int kind; } kinds[] = {
        { "weekly", "week", FS_PERIOD_WEEK },
        { "monthly", "month", FS_PERIOD_MONTH },
        { "annual", "year", FS_PERIOD_YEAR },
    };
    if (a->npos != 1)
        return fs_usage_error(a, "stats %s takes options only", a->pos[0]);
    size_t k = 0;
    while (strcmp(kinds[k].sub, a->pos[0]) != 0)
        k++;                             /* the dispatcher checked the name */
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
        if (i != k && fs_arg(a, kinds[i].opt))
            return fs_usage_error(a, "--%s is for stats %s, not stats %s",
                                  kinds[i].opt, kinds[i].sub, kinds[k].sub);
    fs_detail d = { "" };
    fs_period p;
    if (fs_period_parse(kinds[k].kind, fs_arg(a, kinds[k].opt),
                        (int64_t)time(NULL), &p, &d) != FS_OK)
        return fs_usage_error(a, "--%s: %s", kinds[k].opt, d.msg);
    const char *html;
    FILE *out;
    int st = fs_cli_html(a, "the figures' page", &html, &out);
    if (st != EXIT_OK)
        return st;
    fs_stats *s = malloc(sizeof *s);
    figure *f = malloc(FIGURES_MAX * sizeof *f);
    int rc = s && f ? fs_stats_count(a->gate, p.from, p.to, s, &d)
             : fs_fail(&d, FS_ENOMEM, "out of memory for the figures");
    if (rc == FS_OK) {
        size_t n = stats_figures(s, f);
        /* the page first, so the figures are printed only with it */
        if (out)
            rc = write_page(&p, f, n, out, &d);
        if (rc == FS_OK && a->json)
            print_json(&p, f, n, html);
        else if (rc == FS_OK)
            print_text(&p, f, n, html);
    }
    free(s);
    free(f);
    st = rc == FS_OK ? EXIT_OK : fs_cli_fail(rc, &d);
    return fs_cli_finish(a, html, out, st);
}
