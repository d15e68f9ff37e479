/*
 * fs_stats.c - the oversight figures and the monthly compliance audit's
 * sample (G19), counted from the gate's own records and its trail.
 *
 * Nothing here keeps a counter of its own: every figure is recounted from
 * what the gate stores (requests, searches, leads, reports, releases) and
 * from the trail, so the figures cannot drift from the records and they
 * add up by construction (each request filed in the period is open or
 * closed with exactly one outcome; each refusal on the trail names at
 * most one rule, the first it cites).  Requests are counted by their
 * filing time and as they stand now; searches, sign-offs, reports,
 * releases, outcomes and refusals by the time they happened.
 *
 * The sample is drawn by a generator of our own (splitmix64), never
 * rand(): the same seed, period and records draw the same searches on any
 * machine, so an auditor can draw a sample again and check it.
 *
 * Reading either is itself on the trail, before anything is counted.
 * Not thread-safe (a gate serves one thread); never prints.
 */
#include "fs_gate_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define OVERSIGHT (FS_ROLE_ADMIN | FS_ROLE_AUDITOR)

static int in_period(int64_t t, int64_t from, int64_t to)
{
    return t >= from && t < to;
}

/* "[2026-12-01T00:00:00Z, 2027-01-01T00:00:00Z)": a period as the trail
 * names it, for a person reading the log. */
static void period_text(int64_t from, int64_t to, char *buf, size_t cap)
{
    char a[32] = "?", b[32] = "?";
    time_t t[2] = { (time_t)from, (time_t)to };
    char *out[2] = { a, b };
    for (int i = 0; i < 2; i++) {
        struct tm tm;
        if (gmtime_r(&t[i], &tm))
            strftime(out[i], sizeof a, "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
    snprintf(buf, cap, "[%s, %s)", a, b);
}

/* ---- periods ------------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil): no time zone, no libc state. */
static int64_t days_of(int64_t y, unsigned m, unsigned dd)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + dd - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* ISO weekday, 1 (Monday) to 7, of a day number. */
static int weekday_of(int64_t days)
{
    int64_t w = (days + 3) % 7;        /* 1970-01-01 was a Thursday */
    return (int)(w < 0 ? w + 7 : w) + 1;
}

/* The Monday that starts ISO week 1 of year: the week holding 4 January. */
static int64_t iso_week1(int64_t year)
{
    int64_t jan4 = days_of(year, 1, 4);
    return jan4 - (weekday_of(jan4) - 1);
}

static int iso_weeks_in(int64_t year)
{
    return (int)((iso_week1(year + 1) - iso_week1(year)) / 7);
}

/* A whole number of exactly digits digits at s: its value, or -1. */
static long digits_at(const char *s, int digits)
{
    long v = 0;
    for (int i = 0; i < digits; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static const char *const period_forms[] = { "YYYY-Www", "YYYY-MM", "YYYY" };

int fs_period_parse(int kind, const char *text, int64_t now,
                    fs_period *out, fs_detail *d)
{
    if (kind < FS_PERIOD_WEEK || kind > FS_PERIOD_YEAR)
        return fs_fail(d, FS_EINVAL, "no such kind of period");
    fs_period p;
    memset(&p, 0, sizeof p);
    p.kind = kind;
    long year, part = 1;
    if (!text) {
        /* the current one, in UTC: the day's date, and for a week its ISO
         * week (which may belong to the year before or after) */
        int64_t day = now >= 0 ? now / 86400 : -((-now + 86399) / 86400);
        time_t t = (time_t)(day * 86400);
        struct tm tm;
        gmtime_r(&t, &tm);
        year = tm.tm_year + 1900L;
        part = kind == FS_PERIOD_MONTH ? tm.tm_mon + 1 : 1;
        if (kind == FS_PERIOD_WEEK) {
            if (day < iso_week1(year))
                year--;
            else if (day >= iso_week1(year + 1))
                year++;
            part = (long)((day - iso_week1(year)) / 7) + 1;
        }
    } else {
        size_t len = strlen(text);
        year = digits_at(text, 4);
        int ok = len >= 4 && year >= 1970 && year <= 9999;
        if (kind == FS_PERIOD_WEEK)
            ok = ok && len == 8 && text[4] == '-' && text[5] == 'W' &&
                 (part = digits_at(text + 6, 2)) >= 1 &&
                 part <= iso_weeks_in(year);
        else if (kind == FS_PERIOD_MONTH)
            ok = ok && len == 7 && text[4] == '-' &&
                 (part = digits_at(text + 5, 2)) >= 1 && part <= 12;
        else
            ok = ok && len == 4;
        if (!ok)
            return fs_fail(d, FS_EINVAL, "a %s is %s%s, not '%.40s'",
                           kind == FS_PERIOD_WEEK ? "week" : kind ==
                           FS_PERIOD_MONTH ? "month" : "year",
                           period_forms[kind - 1], kind == FS_PERIOD_WEEK ?
                           " (an ISO week of that year)" : "", text);
    }
    int64_t from, to;
    if (kind == FS_PERIOD_WEEK) {
        from = iso_week1(year) + 7 * (part - 1);
        to = from + 7;
        snprintf(p.name, sizeof p.name, "%04ld-W%02ld", year, part);
    } else if (kind == FS_PERIOD_MONTH) {
        from = days_of(year, (unsigned)part, 1);
        to = part == 12 ? days_of(year + 1, 1, 1)
             : days_of(year, (unsigned)part + 1, 1);
        snprintf(p.name, sizeof p.name, "%04ld-%02ld", year, part);
    } else {
        from = days_of(year, 1, 1);
        to = days_of(year + 1, 1, 1);
        snprintf(p.name, sizeof p.name, "%04ld", year);
    }
    p.from = from * 86400;
    p.to = to * 86400;
    *out = p;
    return FS_OK;
}

/* ---- rules named by refusals --------------------------------------------- */

int fs_stats_rule_of(const char *text)
{
    for (const char *c = text ? text : ""; *c; c++) {
        if (*c != 'G' || (c > text && isalnum((unsigned char)c[-1])) ||
            !isdigit((unsigned char)c[1]))
            continue;
        int n = 0, k = 1;
        while (isdigit((unsigned char)c[k]) && n < 100)
            n = n * 10 + (c[k++] - '0');
        if (isalnum((unsigned char)c[k]))
            continue;
        if (n >= 1 && n <= FS_STATS_RULES)
            return n;
    }
    return 0;
}

/* ---- the figures --------------------------------------------------------- */

typedef struct counting {
    fs_gate          *g;
    fs_gallery_batch *b;
    fs_stats         *s;
} counting;

/* One more request of crime: the types sorted by name, those past the
 * table's room counted under "(other)" so the column still adds up. */
static void count_crime(fs_stats *s, const char *crime)
{
    static const char other[] = "(other)";
    size_t i = 0;
    while (i < s->n_crimes && strcmp(s->crimes[i].crime, crime) < 0)
        i++;
    if (i < s->n_crimes && strcmp(s->crimes[i].crime, crime) == 0) {
        s->crimes[i].requests++;
        return;
    }
    if (s->n_crimes == FS_STATS_CRIMES_MAX) {
        size_t last = FS_STATS_CRIMES_MAX - 1;
        if (strcmp(s->crimes[last].crime, other) != 0) {
            /* the last type moves into "(other)" with the newcomer */
            snprintf(s->crimes[last].crime, sizeof s->crimes[last].crime,
                     "%s", other);
        }
        s->crimes[last].requests++;
        return;
    }
    memmove(&s->crimes[i + 1], &s->crimes[i],
            (s->n_crimes - i) * sizeof s->crimes[0]);
    snprintf(s->crimes[i].crime, sizeof s->crimes[i].crime, "%s", crime);
    s->crimes[i].requests = 1;
    s->n_crimes++;
}

static int count_request(void *ctx, const fs_record *rec, const uint8_t *v,
                         size_t len, fs_detail *d)
{
    (void)v;
    (void)len;
    counting *c = ctx;
    fs_stats *s = c->s;
    char id[FS_ID_MAX];
    fs_request r;
    gate_id_format('R', gate_seq_of(rec->key), id);
    int rc = gate_request_get(c->g, c->b, id, &r, d);
    if (rc != FS_OK)
        return rc == FS_NOTFOUND ? FS_ETAMPER : rc;
    /* G17: an outcome counts when it was recorded, whenever filed */
    if (r.positive_id && in_period(r.outcome_time, s->from, s->to)) {
        if (r.positive_id == FS_POSITIVE_YES)
            s->positive_yes++;
        else if (r.positive_id == FS_POSITIVE_NO)
            s->positive_no++;
    }
    if (!in_period(r.filed, s->from, s->to))
        return FS_OK;
    s->requests_filed++;
    count_crime(s, r.crime);
    if (r.state == FS_REQUEST_OPEN ||
        r.outcome < FS_OUTCOME_LEAD || r.outcome > FS_OUTCOME_REJECTED) {
        s->requests_open++;
        return FS_OK;
    }
    s->requests_closed[r.outcome]++;
    if (r.outcome == FS_OUTCOME_LEAD || r.outcome == FS_OUTCOME_NO_CANDIDATE)
        s->requests_fulfilled++;
    return FS_OK;
}

static int count_search(void *ctx, const fs_record *rec, const uint8_t *v,
                        size_t len, fs_detail *d)
{
    counting *c = ctx;
    gate_search *x;
    int rc = gate_search_unpack(rec, v, len, &x, d);
    if (rc != FS_OK)
        return rc;
    if (in_period(x->time, c->s->from, c->s->to)) {
        if (x->released)
            c->s->searches_released++;
        else
            c->s->searches_rejected++;
    }
    gate_search_free(x);
    return FS_OK;
}

static int count_entry(void *ctx, const fs_audit_record *r)
{
    fs_stats *s = ctx;
    if (r->time_us < s->from * 1000000 || r->time_us >= s->to * 1000000 ||
        strncmp(r->outcome, "refused", 7) != 0)
        return 0;
    s->refusals++;
    s->violations[fs_stats_rule_of(r->outcome)]++;
    return 0;
}

/* ---- the review workflow's figures (G14-G17) ----------------------------- */

/* A lead is counted proposed when its first sign-off falls in the period,
 * approved or rejected when the sign-off that decided it does. */
static int count_lead(void *ctx, const fs_lead *l)
{
    fs_stats *s = ctx;
    if (l->n_signoffs && in_period(l->signoffs[0].time, s->from, s->to))
        s->leads_proposed++;
    if (l->state == FS_LEAD_PROPOSED || !l->n_signoffs)
        return 0;
    const fs_signoff *last = &l->signoffs[l->n_signoffs - 1];
    if (!in_period(last->time, s->from, s->to))
        return 0;
    if (l->state == FS_LEAD_APPROVED)
        s->leads_approved++;
    else if (l->state == FS_LEAD_REJECTED)
        s->leads_rejected++;
    return 0;
}

static int count_report(void *ctx, const fs_report *r)
{
    fs_stats *s = ctx;
    if (in_period(r->issued, s->from, s->to) && r->kind >= FS_REPORT_LEAD &&
        r->kind <= FS_REPORT_REJECTION)
        s->reports[r->kind]++;
    return 0;
}

static int count_release(void *ctx, const fs_release *r)
{
    fs_stats *s = ctx;
    if (in_period(r->time, s->from, s->to))
        s->releases++;
    return 0;
}

/* Leads, reports and releases: the records fs_review.c and fs_report.c
 * keep, walked through their own readers. */
static int count_workflow(counting *c, fs_detail *d)
{
    int rc = gate_leads_each(c->g, c->b, count_lead, c->s, d);
    if (rc == FS_OK)
        rc = gate_reports_each(c->g, c->b, count_report, c->s, d);
    if (rc == FS_OK)
        rc = gate_releases_each(c->g, c->b, count_release, c->s, d);
    return rc;
}

int fs_stats_count(fs_gate *g, int64_t from, int64_t to, fs_stats *out,
                   fs_detail *d)
{
    char period[80], objects[128];
    period_text(from, to, period, sizeof period);
    snprintf(objects, sizeof objects, "figures for %s", period);
    int rc = gate_require_read(g, OVERSIGHT | FS_ROLE_SUPERVISOR, "stats",
                               objects, d);
    if (rc != FS_OK)
        return rc;
    if (to < from)
        return fs_fail(d, FS_EINVAL, "a period ends after it starts");
    fs_stats *s = calloc(1, sizeof *s);
    if (!s)
        return fs_fail(d, FS_ENOMEM, "out of memory for the figures");
    s->from = from;
    s->to = to;
    counting c = { g, NULL, s };
    if ((rc = gate_read(g, &c.b, d)) == FS_OK) {
        rc = gate_walk_sealed(g, c.b, GT_REQUESTS, NULL, count_request, &c,
                              d);
        if (rc == FS_OK)
            rc = gate_walk_sealed(g, c.b, GT_SEARCHES, NULL, count_search,
                                  &c, d);
        if (rc == FS_OK)
            rc = count_workflow(&c, d);
        fs_gallery_abort(c.b);
    }
    if (rc == FS_OK)
        rc = gate_audit_each(g, count_entry, s, d);
    if (rc == FS_OK)
        *out = *s;
    free(s);
    return rc;
}

/* ---- the compliance audit's sample --------------------------------------- */

/* splitmix64 (Steele, Lea, Flood 2014): small, fast, and the same
 * sequence everywhere for a seed. */
static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [0, n), n > 0: draws past the last whole multiple of n are
 * thrown back, so no search is likelier than another. */
static uint64_t below(uint64_t *state, uint64_t n)
{
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do
        x = splitmix64(state);
    while (x >= limit);
    return x % n;
}

typedef struct sampling {
    fs_gate          *g;
    fs_gallery_batch *b;
    int64_t           from, to;
    fs_sample_item   *v;             /* the population, then the sample */
    size_t            n, cap;
} sampling;

static int collect_search(void *ctx, const fs_record *rec, const uint8_t *v,
                          size_t len, fs_detail *d)
{
    sampling *p = ctx;
    gate_search *x;
    int rc = gate_search_unpack(rec, v, len, &x, d);
    if (rc != FS_OK)
        return rc;
    if (in_period(x->time, p->from, p->to)) {
        void *arr = p->v;
        rc = gate_room_for_one(&arr, p->n, &p->cap, sizeof *p->v, d);
        p->v = arr;
        if (rc == FS_OK) {
            fs_sample_item *it = &p->v[p->n++];
            memset(it, 0, sizeof *it);
            snprintf(it->search, sizeof it->search, "%s", x->id);
            snprintf(it->request, sizeof it->request, "%s", x->request);
            snprintf(it->examiner, sizeof it->examiner, "%s", x->examiner);
            it->time = x->time;
            it->released = x->released;
        }
    }
    gate_search_free(x);
    return rc;
}

static int by_search_number(const void *a, const void *b)
{
    const char *x = ((const fs_sample_item *)a)->search;
    const char *y = ((const fs_sample_item *)b)->search;
    size_t lx = strlen(x), ly = strlen(y);     /* "S9" before "S10" */
    return lx != ly ? (lx < ly ? -1 : 1) : strcmp(x, y);
}

/* Whether objects names search id as a whole word ("search S7", not
 * "search S70"). */
static int names_search(const char *objects, const char *id)
{
    char want[FS_ID_MAX + 8];
    snprintf(want, sizeof want, "search %s", id);
    size_t n = strlen(want);
    for (const char *c = objects; (c = strstr(c, want)); c++)
        if (!isalnum((unsigned char)c[n]) &&
            (c == objects || !isalnum((unsigned char)c[-1])))
            return 1;
    return 0;
}

typedef struct trail_of {
    sampling *p;
    size_t    n;                  /* the sample's size */
    int       rc;
    fs_detail *d;
} trail_of;

static int attach_entry(void *ctx, const fs_audit_record *r)
{
    trail_of *t = ctx;
    for (size_t i = 0; i < t->n; i++) {
        fs_sample_item *it = &t->p->v[i];
        if (!names_search(r->objects, it->search))
            continue;
        fs_audit_record *e = realloc(it->entries, (it->n_entries + 1) *
                                     sizeof *e);
        if (!e) {
            t->rc = fs_fail(t->d, FS_ENOMEM, "out of memory for the trail "
                            "of the sample");
            return 1;
        }
        it->entries = e;
        it->entries[it->n_entries++] = *r;
    }
    return 0;
}

void fs_audit_sample_free(fs_sample_item *items, size_t n)
{
    for (size_t i = 0; items && i < n; i++)
        free(items[i].entries);
    free(items);
}

int fs_audit_sample(fs_gate *g, int64_t from, int64_t to, size_t n,
                    uint64_t seed, fs_sample_item **out, size_t *n_out,
                    uint64_t *population, fs_detail *d)
{
    char period[80], objects[160];
    period_text(from, to, period, sizeof period);
    snprintf(objects, sizeof objects, "%zu search%s of %s, seed %llu", n,
             n == 1 ? "" : "es", period, (unsigned long long)seed);
    int rc = gate_require_read(g, OVERSIGHT, "audit sample", objects, d);
    if (rc != FS_OK)
        return rc;
    if (to < from)
        return fs_fail(d, FS_EINVAL, "a period ends after it starts");
    sampling p = { g, NULL, from, to, NULL, 0, 0 };
    if ((rc = gate_read(g, &p.b, d)) != FS_OK)
        return rc;
    rc = gate_walk_sealed(g, p.b, GT_SEARCHES, NULL, collect_search, &p, d);
    size_t pop = p.n, take = n < pop ? n : pop;
    /* a partial Fisher-Yates shuffle: the first take are the sample */
    uint64_t state = seed;
    for (size_t i = 0; rc == FS_OK && i < take; i++) {
        size_t j = i + (size_t)below(&state, pop - i);
        fs_sample_item t = p.v[i];
        p.v[i] = p.v[j];
        p.v[j] = t;
    }
    if (rc == FS_OK && take)
        qsort(p.v, take, sizeof *p.v, by_search_number);
    for (size_t i = 0; rc == FS_OK && i < take; i++) {
        fs_request r;
        rc = gate_request_get(g, p.b, p.v[i].request, &r, d);
        if (rc == FS_OK) {
            snprintf(p.v[i].case_no, sizeof p.v[i].case_no, "%s", r.case_no);
            snprintf(p.v[i].crime, sizeof p.v[i].crime, "%s", r.crime);
        }
    }
    fs_gallery_abort(p.b);
    trail_of t = { &p, take, FS_OK, d };
    if (rc == FS_OK && take) {
        rc = gate_audit_each(g, attach_entry, &t, d);
        if (t.rc != FS_OK)
            rc = t.rc;
    }
    if (rc != FS_OK) {
        fs_audit_sample_free(p.v, take);
        return rc;
    }
    if (!take) {
        free(p.v);
        p.v = NULL;
    }
    *out = p.v;
    *n_out = take;
    if (population)
        *population = pop;
    return FS_OK;
}
