/*
 * cmd_audit.c - `facesearch audit verify | log | purge | sample`: the
 * auditor's view of the tamper-evident trail (G18) and the monthly
 * compliance audit's sample of searches (G19).  Reading the trail is
 * itself on the trail.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fs_cli.h"
#include "fs_html.h"

const fs_opt cmd_audit_opts[] = {
    { "since", "DATE", "log: entries from DATE (YYYY-MM-DD[THH:MM:SS], "
                       "UTC)" },
    { "until", "DATE", "log: entries before DATE" },
    { "user", "NAME", "log: one user's entries" },
    { "case", "NUMBER", "log: one case's entries" },
    { "before", "DATE", "purge: remove entries older than DATE" },
    { "dry-run", NULL, "purge: say what would go, change nothing" },
    { "anchor", "FILE", "verify: check the trail against this copy of its "
                        "anchor (default: the gallery's anchor file, when "
                        "readable)" },
    { "n", "N", "sample: how many searches to draw" },
    { "month", "YYYY-MM", "sample: the month searched (default: this month, "
                          "UTC)" },
    { "seed", "S", "sample: the generator's seed, 0 to 2^64-1 (default: "
                   "random; always printed)" },
    { "html", "OUT.html", "sample: also write it as a page (a new file), "
                          "each search with its trail entries as a table" },
    { NULL, NULL, NULL }
};

/* A date option as unix microseconds (UTC); 0 when absent. */
static int date_opt(const fs_args *a, const char *name, int64_t *us)
{
    const char *s = fs_arg(a, name);
    *us = 0;
    if (!s)
        return EXIT_OK;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = strptime(s, "%Y-%m-%d", &tm);
    if (end && *end == 'T')
        end = strptime(end + 1, "%H:%M:%S", &tm);
    if (!end || *end)
        return fs_usage_error(a, "--%s must be YYYY-MM-DD or "
                              "YYYY-MM-DDTHH:MM:SS, not '%s'", name, s);
    *us = (int64_t)timegm(&tm) * 1000000;
    return EXIT_OK;
}

/* unix microseconds as "2026-12-03T22:58:01.123456Z" */
static void time_text(int64_t us, char *out, size_t cap)
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    char buf[32];
    gmtime_r(&t, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, cap, "%s.%06lldZ", buf, (long long)(us % 1000000));
}

/* the same to the second, as people read it: "2026-12-03 22:58:01" (the
 * entry's number tells entries of one second apart) */
static void time_short(int64_t us, char *out, size_t cap)
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    strftime(out, cap, "%Y-%m-%d %H:%M:%S", gmtime_r(&t, &tm));
}

static void print_time(FILE *f, int64_t us)
{
    char buf[48];
    time_text(us, buf, sizeof buf);
    fputs(buf, f);
}

static int verify(fs_args *a)
{
    fs_detail d = { "" };
    fs_audit_check c;
    int rc = fs_audit_verify(a->gate, fs_arg(a, "anchor"), &c, &d);
    if (rc != FS_OK && rc != FS_ETAMPER)
        return fs_cli_fail(rc, &d);
    if (a->json) {
        printf("{\"intact\":%s,\"entries\":%llu,\"first\":%llu,"
               "\"last\":%llu,\"anchor\":", rc == FS_OK ? "true" : "false",
               (unsigned long long)c.entries, (unsigned long long)c.first,
               (unsigned long long)c.last);
        if (c.anchor[0])
            fs_json_str(stdout, c.anchor);
        else
            printf("null");
        printf(",\"anchored\":%llu,\"anchor_last\":%llu",
               (unsigned long long)c.anchored,
               (unsigned long long)c.anchor_last);
        if (rc != FS_OK) {
            printf(",\"first_bad_entry\":%llu,\"problem\":",
                   (unsigned long long)c.bad);
            fs_json_str(stdout, d.msg);
        }
        printf("}\n");
    }
    if (rc != FS_OK)
        return fs_cli_fail(rc, &d);
    if (!a->json) {
        printf("audit trail intact: %llu entries (%llu to %llu), each "
               "chained to the one before\n", (unsigned long long)c.entries,
               (unsigned long long)c.first, (unsigned long long)c.last);
        if (c.anchor[0])
            printf("anchor %s: %llu entries match, the newest %llu%s\n",
                   c.anchor, (unsigned long long)c.anchored,
                   (unsigned long long)c.anchor_last,
                   c.anchor_purged ? " (older ones purged under retention)"
                   : "");
        else
            printf("no anchor checked: name a copy with --anchor FILE\n");
    }
    return EXIT_OK;
}

typedef struct log_ctx {
    const fs_args *a;
    size_t         n;
} log_ctx;

static int print_entry(void *ctx, const fs_audit_record *r)
{
    log_ctx *c = ctx;
    if (c->a->json) {
        printf("%s{\"seq\":%llu,\"time\":\"", c->n ? "," : "",
               (unsigned long long)r->seq);
        print_time(stdout, r->time_us);
        const char *k[] = { "user", "unit", "action", "case",
                            "justification", "objects", "outcome" };
        const char *v[] = { r->user, r->unit, r->action, r->case_no,
                            r->justification, r->objects, r->outcome };
        printf("\"");
        for (int i = 0; i < 7; i++) {
            printf(",\"%s\":", k[i]);
            fs_json_str(stdout, v[i]);
        }
        printf("}");
    } else {
        printf("%6llu  ", (unsigned long long)r->seq);
        print_time(stdout, r->time_us);
        printf("  %s (%s)  %s", FS_SHOW(r->user),
               r->unit[0] ? FS_SHOW(r->unit) : "-", FS_SHOW(r->action));
        if (r->case_no[0])
            printf("  case %s", FS_SHOW(r->case_no));
        if (r->objects[0])
            printf("  [%s]", FS_SHOW(r->objects));
        if (r->justification[0])
            printf("  \"%s\"", FS_SHOW(r->justification));
        printf("  -> %s\n", FS_SHOW(r->outcome));
    }
    c->n++;
    return 0;
}

static int log_entries(fs_args *a)
{
    fs_audit_filter f = { 0, 0, fs_arg(a, "user"), fs_arg(a, "case") };
    int st = date_opt(a, "since", &f.since_us);
    if (st == EXIT_OK)
        st = date_opt(a, "until", &f.until_us);
    if (st != EXIT_OK)
        return st;
    log_ctx c = { a, 0 };
    fs_detail d = { "" };
    if (a->json)
        printf("[");
    int rc = fs_audit_walk(a->gate, &f, print_entry, &c, &d);
    if (a->json)
        printf("]\n");
    return rc == FS_OK ? EXIT_OK : fs_cli_fail(rc, &d);
}

static int purge(fs_args *a)
{
    int64_t before;
    int st = date_opt(a, "before", &before);
    if (st != EXIT_OK)
        return st;
    if (!before)
        return fs_usage_error(a, "purge needs --before DATE");
    fs_detail d = { "" };
    uint64_t n = 0;
    int rc = fs_audit_purge(a->gate, before, fs_arg(a, "dry-run") != NULL,
                            &n, &d);
    if (rc != FS_OK)
        return fs_cli_fail(rc, &d);
    if (a->json)
        printf("{\"purged\":%llu,\"dry_run\":%s}\n", (unsigned long long)n,
               fs_arg(a, "dry-run") ? "true" : "false");
    else
        printf("%s%llu audit entr%s older than %s\n",
               fs_arg(a, "dry-run") ? "would purge " : "purged ",
               (unsigned long long)n, n == 1 ? "y" : "ies",
               FS_SHOW(fs_arg(a, "before")));
    return st;
}

/* --seed as a whole decimal number, else a fresh one from the system. */
static int seed_opt(const fs_args *a, uint64_t *seed)
{
    const char *s = fs_arg(a, "seed");
    if (!s) {
        fs_detail d = { "" };
        int rc = fs_random(seed, sizeof *seed);
        return rc == FS_OK ? EXIT_OK
               : fs_cli_fail(fs_fail(&d, rc, "no random seed from the "
                                     "system"), &d);
    }
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (!isdigit((unsigned char)s[0]) || *end || errno == ERANGE)
        return fs_usage_error(a, "--seed must be a whole number from 0 to "
                              "18446744073709551615, not '%s'", s);
    *seed = v;
    return EXIT_OK;
}

static void sample_json(const fs_period *p, uint64_t seed, uint64_t pop,
                        const fs_sample_item *v, size_t n, const fs_args *a)
{
    /* the seed as a string: JSON numbers lose integers past 2^53 */
    printf("{\"month\":\"%s\",\"seed\":\"%llu\",\"population\":%llu,"
           "\"n\":%zu,\"sample\":[", p->name, (unsigned long long)seed,
           (unsigned long long)pop, n);
    for (size_t i = 0; i < n; i++) {
        const fs_sample_item *it = &v[i];
        const char *k[] = { "search", "request", "case", "crime",
                            "examiner" };
        const char *s[] = { it->search, it->request, it->case_no, it->crime,
                            it->examiner };
        for (size_t j = 0; j < sizeof k / sizeof *k; j++) {
            printf("%s\"%s\":", j ? "," : i ? ",{" : "{", k[j]);
            fs_json_str(stdout, s[j]);
        }
        printf(",\"time\":\"");
        print_time(stdout, it->time * 1000000);
        printf("\",\"released\":%s,\"trail\":[",
               it->released ? "true" : "false");
        log_ctx c = { a, 0 };
        for (size_t e = 0; e < it->n_entries; e++)
            print_entry(&c, &it->entries[e]);
        printf("]}");
    }
    printf("]}\n");
}

static void sample_text(const fs_period *p, uint64_t seed, uint64_t pop,
                        const fs_sample_item *v, size_t n, const fs_args *a)
{
    printf("Compliance audit sample (G19): %zu of the %llu search%s made in "
           "%s, seed %llu\n", n, (unsigned long long)pop,
           pop == 1 ? "" : "es", p->name, (unsigned long long)seed);
    printf("(the same sample again: audit sample --n %s --month %s --seed "
           "%llu)\n", FS_SHOW(fs_arg(a, "n")), p->name,
           (unsigned long long)seed);
    for (size_t i = 0; i < n; i++) {
        const fs_sample_item *it = &v[i];
        printf("\n%s  ", FS_SHOW(it->search));
        print_time(stdout, it->time * 1000000);
        printf("  request %s  case %s  crime %s  examiner %s  %s\n",
               FS_SHOW(it->request), FS_SHOW(it->case_no),
               FS_SHOW(it->crime), FS_SHOW(it->examiner),
               it->released ? "list released" : "image rejected (G13)");
        log_ctx c = { a, 0 };
        for (size_t e = 0; e < it->n_entries; e++)
            print_entry(&c, &it->entries[e]);
    }
}

/* The sample as a page: what was drawn and how to draw it again, then
 * per search its facts and its trail entries as a table (their case is
 * the search's, said once above it).  No disclaimer
 * banner: it shows no candidate, only what was done. */
static int sample_page(const fs_period *p, uint64_t seed, uint64_t pop,
                       const fs_sample_item *v, size_t n, const fs_args *a,
                       FILE *f, fs_detail *d)
{
    char sub[256], seed_s[24], when[48];
    snprintf(seed_s, sizeof seed_s, "%llu", (unsigned long long)seed);
    snprintf(sub, sizeof sub, "%zu of the %llu search%s made in %s, drawn "
             "with seed %s (G19)", n, (unsigned long long)pop,
             pop == 1 ? "" : "es", p->name, seed_s);
    fs_html h;
    fs_html_begin(&h, f, "Compliance audit sample", sub, NULL);
    char again[160];
    snprintf(again, sizeof again, "The same sample again: facesearch audit "
             "sample --n %s --month %s --seed %s", fs_arg(a, "n"), p->name,
             seed_s);
    fs_html_para(&h, again);
    if (!n)
        fs_html_para(&h, "No search was made in the month.");
    for (size_t i = 0; i < n; i++) {
        const fs_sample_item *it = &v[i];
        char title[96];
        snprintf(title, sizeof title, "Search %s", it->search);
        fs_html_card_begin(&h, title, it->released ? "list released"
                           : "image rejected (G13)");
        time_short(it->time * 1000000, when, sizeof when);
        const char *labels[] = { "Time (UTC)", "Request", "Case", "Crime",
                                 "Examiner" };
        const char *values[] = { when, it->request, it->case_no, it->crime,
                                 it->examiner };
        fs_html_fields(&h, labels, values, sizeof labels / sizeof *labels);
        static const char *const heads[] = {
            "#", "Time (UTC)", "User (unit)", "Action", "Objects",
            "Justification", "Outcome" };
        fs_html_table_begin(&h, heads, sizeof heads / sizeof *heads);
        for (size_t e = 0; e < it->n_entries; e++) {
            const fs_audit_record *r = &it->entries[e];
            char seq[24], who[FS_USER_MAX + FS_FIELD_MAX + 4];
            snprintf(seq, sizeof seq, "%llu", (unsigned long long)r->seq);
            time_short(r->time_us, when, sizeof when);
            snprintf(who, sizeof who, "%s (%s)", r->user,
                     r->unit[0] ? r->unit : "-");
            const char *cells[] = { seq, when, who, r->action, r->objects,
                                    r->justification, r->outcome };
            fs_html_table_row(&h, cells, sizeof cells / sizeof *cells);
        }
        fs_html_table_end(&h);
        fs_html_card_end(&h);
    }
    int rc = fs_html_end(&h, NULL);
    return rc == FS_OK ? FS_OK
           : fs_fail(d, rc, "cannot write the sample's page");
}

static int sample(fs_args *a)
{
    long n;
    if (!fs_arg(a, "n"))
        return fs_usage_error(a, "audit sample needs --n N");
    int st = fs_arg_int(a, "n", 1, 1000000, 0, &n);
    uint64_t seed = 0;
    if (st == EXIT_OK)
        st = seed_opt(a, &seed);
    if (st != EXIT_OK)
        return st;
    fs_detail d = { "" };
    fs_period p;
    if (fs_period_parse(FS_PERIOD_MONTH, fs_arg(a, "month"),
                        (int64_t)time(NULL), &p, &d) != FS_OK)
        return fs_usage_error(a, "--month: %s", d.msg);
    const char *html;
    FILE *f;
    if ((st = fs_cli_html(a, "the sample's page", &html, &f)) != EXIT_OK)
        return st;
    fs_sample_item *v = NULL;
    size_t got = 0;
    uint64_t pop = 0;
    int rc = fs_audit_sample(a->gate, p.from, p.to, (size_t)n, seed, &v,
                             &got, &pop, &d);
    /* the page first, so the sample is printed only with it */
    if (rc == FS_OK && f)
        rc = sample_page(&p, seed, pop, v, got, a, f, &d);
    if (rc == FS_OK && a->json)
        sample_json(&p, seed, pop, v, got, a);
    else if (rc == FS_OK)
        sample_text(&p, seed, pop, v, got, a);
    if (rc == FS_OK && html && !a->json)
        printf("\nsample page: %s\n", FS_SHOW(html));
    fs_audit_sample_free(v, got);
    st = rc == FS_OK ? EXIT_OK : fs_cli_fail(rc, &d);
    return fs_cli_finish(a, html, f, st);
}

int cmd_audit(fs_args *a)
{
    if (strcmp(a->pos[0], "verify") == 0)
        return a->npos == 1 ? verify(a)
               : fs_usage_error(a, "audit verify takes no arguments");
    if (a->npos != 1)
        return fs_usage_error(a, "audit %s takes options only", a->pos[0]);
    if (strcmp(a->pos[0], "log") == 0)
        return log_entries(a);
    if (strcmp(a->pos[0], "sample") == 0)
        return sample(a);
    return purge(a);
}
