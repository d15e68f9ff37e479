/*
 * fs_profile.c - the policy profile parser.
 *
 * One table lists every key with its type and where it goes, so the
 * parser, the required-key check and the rule "every key known" are one
 * loop each.  Strict on purpose: a profile decides what the gate allows,
 * and a typo silently ignored would change policy.
 */
#include "fs_gate.h"

#include "../engine/base/fs_file.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const fs_profile_names[] = {
    "detroit", "miami", "nypd", "nys-model", "lacris", NULL
};

enum { T_STR, T_INT, T_BOOL, T_REAL, T_LIST };

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

static const pkey keys[] = {
    STR("name", name, 1),
    STR("title", title, 1),
    STR("source", source, 1),
    LIST("authorized_use", authorized_use, n_authorized_use),
    LIST("prohibited", prohibited, n_prohibited),
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
};
#define NKEYS (sizeof keys / sizeof keys[0])

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

static int set_value(const pkey *k, fs_profile *p, const char *v, int line,
                     fs_detail *d)
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
        if (errno || end == v || *end || x < k->lo || x > k->hi ||
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
    char seen[NKEYS] = { 0 };
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
        else if (seen[i] && keys[i].type != T_LIST)
            rc = fs_fail(d, FS_EINVAL, "profile line %d: '%s' is given "
                         "twice", line, k);
        else
            rc = set_value(&keys[i], &p, v, line, d);
        if (i < NKEYS)
            seen[i] = 1;
    }
    free(copy);
    for (size_t i = 0; rc == FS_OK && i < NKEYS; i++)
        if (keys[i].required && !seen[i])
            rc = fs_fail(d, FS_EINVAL, "the profile has no '%s'",
                         keys[i].name);
    if (rc == FS_OK)
        *out = p;
    return rc;
}

int fs_profile_load(const char *name, fs_profile *p, char **text,
                    fs_detail *d)
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
        rc = fs_read_file(name, 1 << 20, &buf, &len, d);
    }
    if (rc == FS_OK)
        rc = fs_profile_parse((const char *)buf, len, p, d);
    if (rc == FS_OK && text)
        *text = (char *)buf;
    else
        free(buf);
    return rc;
}

/* TEMPORARY until the phrase lists land: the slugs' own words. */
int fs_profile_prohibited(const fs_profile *p, const char *text,
                          char *purpose, size_t cap)
{
    if (!text)
        return 0;
    char low[2048];
    size_t n = 0;
    for (const char *c = text; *c && n < sizeof low - 1; c++)
        low[n++] = (*c >= 'A' && *c <= 'Z') ? (char)(*c + 32)
                   : (*c == ' ' ? '-' : *c);
    low[n] = 0;
    for (int i = 0; i < p->n_prohibited; i++)
        if (strstr(low, p->prohibited[i])) {
            snprintf(purpose, cap, "%s", p->prohibited[i]);
            return 1;
        }
    return 0;
}
