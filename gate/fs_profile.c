/*
 * fs_profile.c - the policy profile parser, and the matcher of G6's
 * prohibited purposes stated in other words.
 *
 * One table lists every key with its type and where it goes, so the
 * parser, the required-key check and the rule "every key known" are one
 * loop each.  Strict on purpose: a profile decides what the gate allows,
 * and a typo silently ignored would change policy.
 *
 * The matcher reads a profile and the caller's text only: no state, no
 * allocation, safe from any number of threads.
 */
#include "fs_gate.h"

#include "../engine/base/fs_file.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const fs_profile_names[] = {
    "detroit", "miami", "nypd", "nys-model", "lacris", NULL
};

/* The types from T_LIST on repeat, one item per line; the others are
 * given once. */
enum { T_STR, T_INT, T_BOOL, T_REAL, T_LIST, T_TERMS };

typedef struct pkey {
    const char *name;
    int         type;
    size_t      off;          /* T_LIST: the array; its count follows */
    size_t      size;         /* T_STR: capacity; T_LIST: count's offset */
    int         required;
    double      lo, hi;       /* T_INT, T_REAL */
} pkey;

#define STR(k, f, req) { k, T_STR, offsetof(fs_profile, f), \
                         sizeof(((fs_profile *)0)->f), req, 0, 0 }
#define INT(k, f, req, lo, hi) { k, T_INT, offsetof(fs_profile, f), 0, req, \
                                 lo, hi }
#define BOOL(k, f, req) { k, T_BOOL, offsetof(fs_profile, f), 0, req, 0, 1 }
#define REAL(k, f, req, lo, hi) { k, T_REAL, offsetof(fs_profile, f), 0, \
                                  req, lo, hi }
#define LIST(k, f, n) { k, T_LIST, offsetof(fs_profile, f), \
                        offsetof(fs_profile, n), 1, 0, 0 }
/* Optional: a gallery made before G6's phrases existed keeps its text. */
#define TERMS(k) { k, T_TERMS, offsetof(fs_profile, terms), 0, 0, 0, 0 }

static const pkey keys[] = {
    STR("name", name, 1),
    STR("title", title, 1),
    STR("source", source, 1),
    LIST("authorized_use", authorized_use, n_authorized_use),
    LIST("prohibited", prohibited, n_prohibited),
    TERMS("prohibited_terms"),
    BOOL("forbid_recorded_video", forbid_recorded_video, 1),
    INT("review.examiners", review_examiners, 1, 0, 10),
    INT("review.supervisors", review_supervisors, 1, 0, 10),
    BOOL("review.written_signoff", review_written_signoff, 1),
    STR("disclaimer", disclaimer, 1),
    INT("retention.audit_days", retention_audit_days, 1, 1, 36600),
    INT("retention.probe_days", retention_probe_days, 1, 0, 36600),
    BOOL("retention.purge_probe_on_no_candidate",
         purge_probe_on_no_candidate, 1),
    BOOL("outside_agency.allowed", outside_allowed, 1),
    BOOL("outside_agency.require_mou", outside_require_mou, 1),
    BOOL("outside_agency.require_disclaimer_ack", outside_require_ack, 1),
    BOOL("reports.weekly", reports_weekly, 1),
    BOOL("reports.monthly_audit", reports_monthly_audit, 1),
    BOOL("reports.annual", reports_annual, 1),
    INT("audit.sample_percent", audit_sample_percent, 0, 1, 100),
    INT("session.hours", session_hours, 1, 1, 24 * 7),
    INT("login.max_failures", login_max_failures, 1, 1, 100),
    INT("login.lockout_minutes", login_lockout_minutes, 1, 1, 60 * 24 * 30),
    INT("login.failure_delay_ms", login_failure_delay_ms, 1, 0, 10000),
    INT("password.min_length", password_min_length, 1, 10, 128),
    REAL("quality.min_face_px", quality.min_face_width, 0, 1, 10000),
    REAL("quality.min_eye_px", quality.min_eye_distance, 0, 1, 10000),
    REAL("quality.max_roll_deg", quality.max_roll, 0, 0, 180),
    REAL("quality.max_yaw_deg", quality.max_yaw, 0, 0, 90),
    REAL("quality.min_sharpness", quality.min_sharpness, 0, 0, 1e9),
    REAL("quality.min_brightness", quality.min_brightness, 0, 0, 255),
    REAL("quality.max_brightness", quality.max_brightness, 0, 0, 255),
    REAL("quality.min_contrast", quality.min_contrast, 0, 0, 255),
    /* in standard deviations above the probe's usual scores; a floor
     * below them (negative) would mean nothing an examiner could use */
    REAL("search.standing_floor", standing_floor, 0, 0, 100),
};
#define NKEYS (sizeof keys / sizeof keys[0])

/* The purposes prohibited_terms lines name, in first-seen order, with the
 * line that first named each.  Terms point into this table while the
 * lines are read and at the prohibited list once all are: a profile may
 * give the two keys in either order. */
typedef struct named_purposes {
    char slug[FS_PROFILE_LIST_MAX][64];
    int  line[FS_PROFILE_LIST_MAX];
    int  n;
} named_purposes;

/* ASCII on purpose: profiles and the matcher must not change with the
 * locale. */
static int is_alnum(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9');
}

static int to_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static void span_trim(const char **b, const char **e)
{
    while (*b < *e && (**b == ' ' || **b == '\t'))
        (*b)++;
    while (*e > *b && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
        (*e)--;
}

static char *trim(char *s, char *end)
{
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' ||
                       end[-1] == '\r'))
        end--;
    *end = 0;
    return s;
}

/* The index in np of the purpose [b, b + n), added when new. */
static int name_purpose(named_purposes *np, const char *b, size_t n,
                        int line, int *purpose, fs_detail *d)
{
    if (n == 0 || n >= sizeof np->slug[0])
        return fs_fail(d, FS_EINVAL, "profile line %d: prohibited_terms "
                       "must be 'purpose: phrase | phrase ...' with a "
                       "prohibited slug as the purpose", line);
    int i = 0;
    while (i < np->n && !(strncmp(np->slug[i], b, n) == 0 &&
                          np->slug[i][n] == 0))
        i++;
    if (i == FS_PROFILE_LIST_MAX)
        return fs_fail(d, FS_EINVAL, "profile line %d: prohibited_terms "
                       "names more than %d purposes", line,
                       FS_PROFILE_LIST_MAX);
    if (i == np->n) {
        memcpy(np->slug[i], b, n);
        np->slug[i][n] = 0;
        np->line[np->n++] = line;
    }
    *purpose = i;
    return FS_OK;
}

/* One phrase, [b, e) trimmed, stored in the form the matcher compares:
 * lower case, each run of spaces, apostrophes and hyphens one space. */
static int add_phrase(fs_profile *p, int purpose, const char *b,
                      const char *e, int line, fs_detail *d)
{
    int n = (int)(e - b);
    if (n == 0 || n >= FS_PROFILE_TERM_MAX)
        return fs_fail(d, FS_EINVAL, "profile line %d: prohibited_terms "
                       "phrases must be 1 to %d characters, not '%.*s'",
                       line, FS_PROFILE_TERM_MAX - 1, n > 64 ? 64 : n, b);
    if (p->n_terms == FS_PROFILE_TERMS_MAX)
        return fs_fail(d, FS_EINVAL, "profile line %d: prohibited_terms "
                       "takes at most %d phrases in all", line,
                       FS_PROFILE_TERMS_MAX);
    char *out = p->terms[p->n_terms].phrase;
    int k = 0;
    for (const char *c = b; c < e; c++) {
        if (is_alnum(*c)) {
            out[k++] = (char)to_lower(*c);
        } else if (*c == ' ' || *c == '\'' || *c == '-') {
            if (k && out[k - 1] != ' ')
                out[k++] = ' ';
        } else if (*c == '*' && c + 1 == e && k && out[k - 1] != ' ') {
            out[k++] = '*';
        } else {
            return fs_fail(d, FS_EINVAL, "profile line %d: prohibited_terms "
                           "phrase '%.*s' may hold only letters, digits, "
                           "spaces, apostrophes, hyphens and a '*' ending "
                           "its last word", line, n, b);
        }
    }
    while (k && out[k - 1] == ' ')
        k--;
    if (k == 0)
        return fs_fail(d, FS_EINVAL, "profile line %d: prohibited_terms "
                       "phrase '%.*s' has no letter or digit", line, n, b);
    out[k] = 0;
    p->terms[p->n_terms++].purpose = (unsigned char)purpose;
    return FS_OK;
}

/* A prohibited_terms line: "purpose: phrase | phrase ...". */
static int add_terms(fs_profile *p, named_purposes *np, const char *v,
                     int line, fs_detail *d)
{
    const char *colon = strchr(v, ':');
    if (!colon)
        return fs_fail(d, FS_EINVAL, "profile line %d: prohibited_terms "
                       "must be 'purpose: phrase | phrase ...'", line);
    const char *b = v, *e = colon;
    span_trim(&b, &e);
    int purpose = 0, rc = name_purpose(np, b, (size_t)(e - b), line,
                                       &purpose, d);
    for (const char *s = colon + 1; rc == FS_OK; ) {
        const char *bar = strchr(s, '|');
        b = s;
        e = bar ? bar : s + strlen(s);
        span_trim(&b, &e);
        rc = add_phrase(p, purpose, b, e, line, d);
        if (!bar)
            break;
        s = bar + 1;
    }
    return rc;
}

/* Once every line is read: each named purpose must be prohibited, and
 * the terms then point at the prohibited list. */
static int resolve_terms(fs_profile *p, const named_purposes *np,
                         fs_detail *d)
{
    int to[FS_PROFILE_LIST_MAX];
    for (int i = 0; i < np->n; i++) {
        to[i] = 0;
        while (to[i] < p->n_prohibited &&
               strcmp(p->prohibited[to[i]], np->slug[i]) != 0)
            to[i]++;
        if (to[i] == p->n_prohibited)
            return fs_fail(d, FS_EINVAL, "profile line %d: prohibited_terms "
                           "purpose '%s' is not one of the profile's "
                           "prohibited slugs", np->line[i], np->slug[i]);
    }
    for (int t = 0; t < p->n_terms; t++)
        p->terms[t].purpose = (unsigned char)to[p->terms[t].purpose];
    return FS_OK;
}

static int set_value(const pkey *k, fs_profile *p, named_purposes *np,
                     const char *v, int line, fs_detail *d)
{
    char *base = (char *)p, *end;
    switch (k->type) {
    case T_STR:
        if (strlen(v) >= k->size || !*v)
            return fs_fail(d, FS_EINVAL, "profile line %d: %s must be 1 to "
                           "%zu characters", line, k->name, k->size - 1);
        memcpy(base + k->off, v, strlen(v) + 1);
        return FS_OK;
    case T_BOOL:
        if (strcmp(v, "yes") && strcmp(v, "no"))
            return fs_fail(d, FS_EINVAL, "profile line %d: %s must be yes "
                           "or no, not '%s'", line, k->name, v);
        *(int *)(base + k->off) = strcmp(v, "yes") == 0;
        return FS_OK;
    case T_INT: case T_REAL: {
        errno = 0;
        double x = strtod(v, &end);
        if (errno || end == v || *end || !(x >= k->lo && x <= k->hi) ||
            (k->type == T_INT && x != (double)(long)x))
            return fs_fail(d, FS_EINVAL, "profile line %d: %s must be %s "
                           "from %g to %g, not '%s'", line, k->name,
                           k->type == T_INT ? "a whole number" : "a number",
                           k->lo, k->hi, v);
        if (k->type == T_INT)
            *(int *)(base + k->off) = (int)x;
        else
            *(double *)(base + k->off) = x;
        return FS_OK;
    }
    case T_LIST: {
        int *n = (int *)(base + k->size);
        char (*item)[64] = (char (*)[64])(base + k->off);
        if (*n >= FS_PROFILE_LIST_MAX || strlen(v) >= 64 || !*v)
            return fs_fail(d, FS_EINVAL, "profile line %d: %s takes at most "
                           "%d items of 1 to 63 characters", line, k->name,
                           FS_PROFILE_LIST_MAX);
        for (const char *c = v; *c; c++)
            if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
                  *c == '-'))
                return fs_fail(d, FS_EINVAL, "profile line %d: %s item "
                               "'%s' is not a slug ([a-z0-9-])", line,
                               k->name, v);
        for (int i = 0; i < *n; i++)
            if (strcmp(item[i], v) == 0)
                return fs_fail(d, FS_EINVAL, "profile line %d: %s '%s' is "
                               "listed twice", line, k->name, v);
        memcpy(item[(*n)++], v, strlen(v) + 1);
        return FS_OK;
    }
    case T_TERMS:
        return add_terms(p, np, v, line, d);
    }
    return FS_EINTERNAL;
}

int fs_profile_parse(const char *text, size_t len, fs_profile *out,
                     fs_detail *d)
{
    fs_profile p;
    memset(&p, 0, sizeof p);
    /* Optional keys: the quality limits default to the engine's own, so a
     * profile written before a limit existed still reads. */
    fs_quality_defaults(&p.quality);
    p.standing_floor = -INFINITY;           /* none: the top k, as ever */
    char seen[NKEYS] = { 0 };
    named_purposes np;
    np.n = 0;
    char *copy = malloc(len + 1);
    if (!copy)
        return fs_fail(d, FS_ENOMEM, "no memory for the profile");
    memcpy(copy, text, len);
    copy[len] = 0;
    int rc = FS_OK, line = 0;
    if (memchr(text, 0, len))
        rc = fs_fail(d, FS_EINVAL, "the profile is not text (NUL byte)");
    for (char *s = copy, *nl; rc == FS_OK && s < copy + len; s = nl + 1) {
        line++;
        nl = strchr(s, '\n');
        if (!nl)
            nl = copy + len;
        char *l = trim(s, nl);
        if (!*l || *l == '#')
            continue;
        char *eq = strchr(l, '=');
        if (!eq) {
            rc = fs_fail(d, FS_EINVAL, "profile line %d: expected "
                         "'key = value'", line);
            break;
        }
        char *v = trim(eq + 1, l + strlen(l));
        char *k = trim(l, eq);
        size_t i = 0;
        while (i < NKEYS && strcmp(keys[i].name, k) != 0)
            i++;
        if (i == NKEYS)
            rc = fs_fail(d, FS_EINVAL, "profile line %d: unknown key '%.64s'",
                         line, k);
        else if (seen[i] && keys[i].type < T_LIST)
            rc = fs_fail(d, FS_EINVAL, "profile line %d: '%s' is given "
                         "twice", line, k);
        else
            rc = set_value(&keys[i], &p, &np, v, line, d);
        if (i < NKEYS)
            seen[i] = 1;
    }
    free(copy);
    for (size_t i = 0; rc == FS_OK && i < NKEYS; i++)
        if (keys[i].required && !seen[i])
            rc = fs_fail(d, FS_EINVAL, "the profile has no '%s'",
                         keys[i].name);
    if (rc == FS_OK)
        rc = resolve_terms(&p, &np, d);
    if (rc == FS_OK)
        *out = p;
    return rc;
}

int fs_profile_load(const char *name, fs_profile *p, char **text,
                    fs_detail *d)
{
    return fs_profile_load_as(NULL, name, p, text, d);
}

int fs_profile_load_as(const fs_opener *o, const char *name, fs_profile *p,
                       char **text, fs_detail *d)
{
    const char *builtin = fs_profile_builtin(name);
    uint8_t *buf = NULL;
    size_t len;
    int rc;
    if (builtin) {
        len = strlen(builtin);
        buf = (uint8_t *)strdup(builtin);
        rc = buf ? FS_OK : fs_fail(d, FS_ENOMEM, "no memory");
    } else if (!strchr(name, '/') && !strchr(name, '.')) {
        return fs_fail(d, FS_NOTFOUND, "no profile '%s' (detroit, miami, "
                       "nypd, nys-model, lacris, or a file)", name);
    } else {
        rc = fs_read_file_as(o, name, 1 << 20, &buf, &len, d);
    }
    if (rc == FS_OK)
        rc = fs_profile_parse((const char *)buf, len, p, d);
    if (rc == FS_OK && text)
        *text = (char *)buf;
    else
        free(buf);
    return rc;
}

/* Whether key k holds the same value in a and b. */
static int same_value(const pkey *k, const fs_profile *a, const fs_profile *b)
{
    const char *x = (const char *)a + k->off, *y = (const char *)b + k->off;
    switch (k->type) {
    case T_STR:
        return strcmp(x, y) == 0;
    case T_INT: case T_BOOL:
        return *(const int *)x == *(const int *)y;
    case T_REAL:
        return *(const double *)x == *(const double *)y;
    case T_LIST: {
        int n = *(const int *)((const char *)a + k->size);
        if (n != *(const int *)((const char *)b + k->size))
            return 0;
        for (int i = 0; i < n; i++)
            if (strcmp(x + 64 * i, y + 64 * i) != 0)
                return 0;
        return 1;
    }
    case T_TERMS:
        if (a->n_terms != b->n_terms)
            return 0;
        for (int i = 0; i < a->n_terms; i++)
            if (a->terms[i].purpose != b->terms[i].purpose ||
                strcmp(a->terms[i].phrase, b->terms[i].phrase) != 0)
                return 0;
        return 1;
    }
    return 0;
}

int fs_profile_diff(const fs_profile *a, const fs_profile *b, char *out,
                    size_t cap)
{
    static const char more[] = ", ...";
    int n = 0, cut = 0;
    size_t len = 0;
    for (size_t i = 0; i < NKEYS; i++) {
        if (same_value(&keys[i], a, b))
            continue;
        n++;
        /* a name goes in only while room for the ellipsis stays */
        size_t need = strlen(keys[i].name) + 2;
        cut |= len + need + sizeof more > cap;
        if (!cut)
            len += (size_t)snprintf(out + len, cap - len, "%s%s",
                                    len ? ", " : "", keys[i].name);
    }
    if (cut && cap >= sizeof more)
        len += (size_t)snprintf(out + len, cap - len, "%s",
                                len ? more : more + 2);
    if (cap)
        out[len < cap ? len : cap - 1] = 0;
    return n;
}

/* Whether phrase's words start at t: letters and digits compared
 * case-blind, any other phrase character (a space, a slug's hyphen)
 * standing for one run of other characters in t.  The last word must end
 * where a text word ends, unless a '*' makes it a prefix. */
static int words_at(const char *t, const char *phrase)
{
    for (const char *c = phrase; *c; c++) {
        if (*c == '*')
            return 1;
        if (is_alnum(*c)) {
            if (to_lower((unsigned char)*t) != *c)
                return 0;
            t++;
        } else {
            if (!*t || is_alnum((unsigned char)*t))
                return 0;
            while (*t && !is_alnum((unsigned char)*t))
                t++;
        }
    }
    return !is_alnum((unsigned char)*t);
}

/* The purpose stated by the slug or phrase starting at t, or -1. */
static int purpose_at(const fs_profile *p, const char *t)
{
    for (int i = 0; i < p->n_prohibited; i++)
        if (words_at(t, p->prohibited[i]))
            return i;
    for (int i = 0; i < p->n_terms; i++)
        if (words_at(t, p->terms[i].phrase))
            return p->terms[i].purpose;
    return -1;
}

int fs_profile_prohibited(const fs_profile *p, const char *text,
                          char *purpose, size_t cap)
{
    for (const char *t = text; t && *t; t++) {
        if (!is_alnum((unsigned char)*t) ||
            (t > text && is_alnum((unsigned char)t[-1])))
            continue;
        int i = purpose_at(p, t);
        if (i >= 0) {
            if (purpose && cap)
                snprintf(purpose, cap, "%s", p->prohibited[i]);
            return 1;
        }
    }
    return 0;
}
