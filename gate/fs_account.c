/*
 * fs_account.c - accounts, roles and passwords (G1-G3).
 *
 * Passwords are kept only as scrypt hashes (OpenSSL's EVP_PBE_scrypt:
 * N = 2^15, r = 8, p = 1, 32 MiB and about 0.1 s per try on one core)
 * with a random 16-byte salt; the cost is stored with each hash so it
 * can rise later without invalidating accounts.  Comparison is
 * constant-time.  Plain passwords are wiped as soon as they are hashed.
 *
 * Account records are sealed (AES-256-GCM under the data key, bound to
 * their table and name): without the key file nobody reads a hash to
 * crack offline, and an edited, moved or planted account (roles raised,
 * the disabled flag or a lockout cleared) is refused as tampered.
 *
 * Recovery (enable, unlock, another's password) is an admin's; a user
 * changes their own password by giving the current one, checked and
 * counted as a login is.
 */
#include "fs_gate_int.h"
#include "../engine/base/fs_text.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const struct { unsigned bit; const char *name; } role_names[] = {
    { FS_ROLE_ADMIN, "admin" },
    { FS_ROLE_EXAMINER, "examiner" },
    { FS_ROLE_SUPERVISOR, "supervisor" },
    { FS_ROLE_REQUESTER, "requester" },
    { FS_ROLE_AUDITOR, "auditor" },
};
#define NROLES (sizeof role_names / sizeof role_names[0])

int fs_roles_parse(const char *list, unsigned *roles, fs_detail *d)
{
    unsigned r = 0;
    const char *s = list ? list : "";
    while (*s) {
        size_t n = strcspn(s, ",");
        size_t i = 0;
        while (i < NROLES && !(strlen(role_names[i].name) == n &&
                               strncmp(role_names[i].name, s, n) == 0))
            i++;
        if (i == NROLES)
            return fs_fail(d, FS_EINVAL, "unknown role '%.*s' (roles: admin, "
                           "examiner, supervisor, requester, auditor)",
                           (int)(n > 32 ? 32 : n), s);
        r |= role_names[i].bit;
        s += n;
        if (*s == ',')
            s++;
    }
    if (!r)
        return fs_fail(d, FS_EINVAL, "no role given");
    *roles = r;
    return FS_OK;
}

void fs_roles_format(unsigned roles, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = 0;
    for (size_t i = 0; i < NROLES; i++)
        if (roles & role_names[i].bit)
            len += (size_t)snprintf(buf + (len < cap ? len : cap),
                                    len < cap ? cap - len : 0, "%s%s",
                                    len ? "," : "", role_names[i].name);
}

int fs_user_check_name(const char *name, fs_detail *d)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n >= FS_USER_MAX)
        return fs_fail(d, FS_EINVAL, "a user name has 1 to %d characters",
                       FS_USER_MAX - 1);
    if (!islower((unsigned char)name[0]))
        return fs_fail(d, FS_EINVAL, "user name '%s' must start with a "
                       "lower-case letter", name);
    for (size_t i = 0; i < n; i++)
        if (!islower((unsigned char)name[i]) &&
            !isdigit((unsigned char)name[i]) && !strchr("._-", name[i]))
            return fs_fail(d, FS_EINVAL, "user name '%s' may hold only "
                           "a-z, 0-9, '.', '_' and '-'", name);
    return FS_OK;
}

/* Case-insensitive substring: a password holding the user name. */
static int contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; n && *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return 1;
    return 0;
}

int fs_password_check(const char *pw, const char *user, int min_len,
                      fs_detail *d)
{
    size_t n = pw ? strlen(pw) : 0;
    if (n < (size_t)min_len)
        return fs_fail(d, FS_EINVAL, "the password is too short: at least "
                       "%d characters", min_len);
    if (n > 1024)
        return fs_fail(d, FS_EINVAL, "the password is longer than 1024 "
                       "characters");
    int lower = 0, upper = 0, digit = 0, other = 0, same = 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)pw[i];
        if (c < 0x20 || c == 0x7f)
            return fs_fail(d, FS_EINVAL, "the password holds a control "
                           "character");
        lower |= islower(c) != 0;
        upper |= isupper(c) != 0;
        digit |= isdigit(c) != 0;
        other |= !isalnum(c);
        same &= pw[i] == pw[0];
    }
    if (same)
        return fs_fail(d, FS_EINVAL, "the password is one character "
                       "repeated");
    if (user && strlen(user) >= 3 && contains_ci(pw, user))
        return fs_fail(d, FS_EINVAL, "the password contains the user name");
    if (lower + upper + digit + other < 3 && n < 2 * (size_t)min_len)
        return fs_fail(d, FS_EINVAL, "the password needs three of: lower "
                       "case, upper case, digits, other characters (or "
                       "%d characters of any kind)", 2 * min_len);
    return FS_OK;
}

/* ---- password hashes -------------------------------------------------------- */

/* pwrec: [0] algorithm (1 = scrypt), [1] log2 N, [2] r, [3] p,
 * [16..31] salt, [32..63] hash. */
enum { PW_SCRYPT = 1, PW_LOGN = 15, PW_R = 8, PW_P = 1 };

static int scrypt(const char *pw, const uint8_t pwrec[], uint8_t out[32])
{
    uint64_t N = (uint64_t)1 << pwrec[1];
    uint64_t mem = 128 * (uint64_t)pwrec[2] * (N + (uint64_t)pwrec[3] + 2);
    if (pwrec[0] != PW_SCRYPT || pwrec[1] < 10 || pwrec[1] > 22 ||
        !pwrec[2] || !pwrec[3])
        return FS_EFORMAT;
    return EVP_PBE_scrypt(pw, strlen(pw), pwrec + 16, 16, N, pwrec[2],
                          pwrec[3], mem + (1 << 20), out, 32) == 1
           ? FS_OK : FS_ENOMEM;
}

int gate_password_hash(const char *password, uint8_t pwrec[])
{
    memset(pwrec, 0, GATE_PWREC_BYTES);
    pwrec[0] = PW_SCRYPT;
    pwrec[1] = PW_LOGN;
    pwrec[2] = PW_R;
    pwrec[3] = PW_P;
    int rc = fs_random(pwrec + 16, 16);
    return rc == FS_OK ? scrypt(password, pwrec, pwrec + 32) : rc;
}

int gate_password_verify(const char *password, const uint8_t pwrec[])
{
    uint8_t h[32];
    int ok = scrypt(password, pwrec, h) == FS_OK &&
             fs_equal_ct(h, pwrec + 32, 32);
    fs_wipe(h, sizeof h);
    return ok;
}

/* ---- account records ---------------------------------------------------------- */

/* An account record is sealed under the data key and bound to GT_USERS
 * and the user name (gate_sealed_put), so roles, the disabled flag, the
 * lockout and the scrypt record can be neither read nor edited, moved to
 * another name or planted without the key file: such a record is
 * FS_ETAMPER naming the account, never obeyed. */
#define USER_VERSION 1

int gate_user_put(fs_gate *g, fs_gallery_batch *b, const fs_user *u,
                  const uint8_t pwrec[], fs_detail *d)
{
    fs_wbuf w = { 0 };
    fs_wbuf_u64(&w, USER_VERSION);
    fs_wbuf_str(&w, u->unit);
    fs_wbuf_u64(&w, u->roles);
    fs_wbuf_str(&w, u->trained);
    fs_wbuf_u64(&w, (uint64_t)u->disabled);
    fs_wbuf_u64(&w, (uint64_t)u->created);
    fs_wbuf_u64(&w, (uint64_t)u->failures);
    fs_wbuf_u64(&w, (uint64_t)u->locked_until);
    fs_wbuf_put(&w, pwrec, GATE_PWREC_BYTES);
    int rc = w.oom ? fs_fail(d, FS_ENOMEM, "no memory for an account")
                   : gate_sealed_put(g, b, GT_USERS, u->name, strlen(u->name),
                                     w.p, w.len, d);
    fs_wbuf_free(&w);              /* wiped: it held the password record */
    return rc;
}

/* The fields of an opened account record. */
static int user_unpack(const uint8_t *v, size_t len, const char *name,
                       fs_user *u, uint8_t pwrec[], fs_detail *d)
{
    fs_user x;
    memset(&x, 0, sizeof x);
    fs_rbuf rb = { v, len, 0, 0 };
    uint64_t version = fs_rbuf_u64(&rb);
    fs_rbuf_str(&rb, x.unit, sizeof x.unit);
    x.roles = (unsigned)fs_rbuf_u64(&rb);
    fs_rbuf_str(&rb, x.trained, sizeof x.trained);
    x.disabled = (int)fs_rbuf_u64(&rb);
    x.created = (int64_t)fs_rbuf_u64(&rb);
    x.failures = (int)fs_rbuf_u64(&rb);
    x.locked_until = (int64_t)fs_rbuf_u64(&rb);
    uint8_t pw[GATE_PWREC_BYTES];
    fs_rbuf_get(&rb, pw, sizeof pw);
    int rc = FS_OK;
    if (rb.bad || version != USER_VERSION || rb.off != rb.len ||
        strlen(name) >= sizeof x.name)
        rc = fs_fail(d, FS_EFORMAT, "the account record of '%s' is damaged",
                     name);
    if (rc == FS_OK) {
        memcpy(x.name, name, strlen(name) + 1);
        *u = x;
        if (pwrec)
            memcpy(pwrec, pw, sizeof pw);
    }
    fs_wipe(pw, sizeof pw);
    return rc;
}

int gate_user_get(fs_gate *g, fs_gallery_batch *b, const char *name,
                  fs_user *u, uint8_t pwrec[], fs_detail *d)
{
    uint8_t *v;
    size_t len;
    int rc = gate_sealed_get(g, b, GT_USERS, name, strlen(name), &v, &len,
                             d);
    if (rc == FS_ETAMPER)
        return fs_fail(d, FS_ETAMPER, "the account record of '%.63s' fails "
                       "its check (edited, moved or planted without the "
                       "key): refused", name);
    if (rc != FS_OK)
        return rc;
    rc = user_unpack(v, len, name, u, pwrec, d);
    fs_wipe(v, len);
    free(v);
    return rc;
}

int gate_valid_date(const char *s)
{
    int y, m, dd;
    char tail;
    if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &dd,
                                  &tail) != 3)
        return 0;
    struct tm tm = { .tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = dd,
                     .tm_hour = 12 };
    time_t t = timegm(&tm);
    struct tm back;
    gmtime_r(&t, &back);
    return y >= 1900 && back.tm_year == y - 1900 && back.tm_mon == m - 1 &&
           back.tm_mday == dd;
}

int gate_user_create(fs_gate *g, fs_gallery_batch *b, const fs_user *u,
                     const char *password, int min_len, fs_detail *d)
{
    int rc = fs_user_check_name(u->name, d);
    if (rc != FS_OK)
        return rc;
    if (!u->unit[0])
        return fs_fail(d, FS_EINVAL, "user '%s' needs a unit", u->name);
    if ((rc = fs_text_check("unit", u->unit, FS_FIELD_MAX - 1, d)) != FS_OK)
        return rc;
    if (!u->roles || (u->roles & ~(unsigned)((1u << NROLES) - 1)))
        return fs_fail(d, FS_EINVAL, "user '%s' needs at least one known "
                       "role", u->name);
    if (u->trained[0] && !gate_valid_date(u->trained))
        return fs_fail(d, FS_EINVAL, "training date '%s' is not a date "
                       "(YYYY-MM-DD)", u->trained);
    if ((u->roles & FS_ROLES_TRAINED) && !u->trained[0])
        return fs_fail(d, FS_DENIED, "G3: examiner and supervisor roles "
                       "need a training date (--trained YYYY-MM-DD)");
    char today[11];
    time_t now = time(NULL);
    struct tm tm;
    strftime(today, sizeof today, "%Y-%m-%d", gmtime_r(&now, &tm));
    if (u->trained[0] && strcmp(u->trained, today) > 0)
        return fs_fail(d, FS_DENIED, "G3: training date %s is still to "
                       "come: a role that needs training waits for it",
                       u->trained);
    if ((rc = fs_password_check(password, u->name, min_len, d)) != FS_OK)
        return rc;
    fs_user x = *u;
    x.created = (int64_t)time(NULL);
    x.disabled = 0;
    x.failures = 0;
    x.locked_until = 0;
    fs_record r;
    rc = fs_record_get(b, GT_USERS, u->name, strlen(u->name), &r, d);
    if (rc == FS_OK)
        return fs_fail(d, FS_EXISTS, "user '%s' already exists", u->name);
    if (rc != FS_NOTFOUND)
        return rc;
    uint8_t pwrec[GATE_PWREC_BYTES];
    rc = gate_password_hash(password, pwrec);
    if (rc != FS_OK)
        return fs_fail(d, rc, "cannot hash the password");
    rc = gate_user_put(g, b, &x, pwrec, d);
    fs_wipe(pwrec, sizeof pwrec);
    return rc;
}

typedef struct new_user {
    fs_gate       *g;
    const fs_user *u;
    const char    *password;
} new_user;

static int add_in(void *ctx, fs_gallery_batch *b, fs_detail *d)
{
    const new_user *nu = ctx;
    return gate_user_create(nu->g, b, nu->u, nu->password,
                            nu->g->profile.password_min_length, d);
}

int fs_user_add(fs_gate *g, const fs_user *u, const char *password,
                fs_detail *d)
{
    int rc = gate_require(g, FS_ROLE_ADMIN, 0, "user add", d);
    if (rc != FS_OK)
        return rc;
    char roles[96], objects[FS_USER_MAX + 128];
    fs_roles_format(u->roles, roles, sizeof roles);
    snprintf(objects, sizeof objects, "user %s roles %s", u->name, roles);
    new_user nu = { g, u, password };
    fs_audit_entry e = { "user add", NULL, NULL, objects, "ok" };
    return gate_change(g, add_in, &nu, &e, d);
}

/* ---- disable, enable, unlock ------------------------------------------------ */

/* The account an admin acts on: FS_NOTFOUND saying so when none. */
static int user_load(fs_gate *g, fs_gallery_batch *b, const char *name,
                     fs_user *u, uint8_t pwrec[], fs_detail *d)
{
    int rc = gate_user_get(g, b, name, u, pwrec, d);
    return rc == FS_NOTFOUND ? fs_fail(d, rc, "no user '%s'", name) : rc;
}

enum { ACCOUNT_DISABLE, ACCOUNT_ENABLE, ACCOUNT_UNLOCK };

typedef struct account_op {
    fs_gate    *g;
    const char *name;
    int         op;
} account_op;

static int account_op_in(void *ctx, fs_gallery_batch *b, fs_detail *d)
{
    const account_op *o = ctx;
    fs_user u;
    uint8_t pwrec[GATE_PWREC_BYTES];
    int rc = user_load(o->g, b, o->name, &u, pwrec, d);
    if (rc != FS_OK)
        return rc;
    if (o->op == ACCOUNT_DISABLE) {
        u.disabled = 1;
    } else if (o->op == ACCOUNT_ENABLE) {
        u.disabled = 0;
    } else {
        u.failures = 0;
        u.locked_until = 0;
    }
    rc = gate_user_put(o->g, b, &u, pwrec, d);
    fs_wipe(pwrec, sizeof pwrec);
    return rc;
}

/* The admin verbs on an account's state: the admin checked, the record
 * changed with its entry (a refusal on the trail too). */
static int account_verb(fs_gate *g, const char *name, int op,
                        const char *action, fs_detail *d)
{
    int rc = gate_require(g, FS_ROLE_ADMIN, 0, action, d);
    if (rc != FS_OK)
        return rc;
    char objects[FS_USER_MAX + 8];
    snprintf(objects, sizeof objects, "user %.63s", name ? name : "");
    if (fs_user_check_name(name, NULL) != FS_OK)
        return gate_refusal(g, g->who.name, g->who.unit, action, objects,
                            fs_fail(d, FS_NOTFOUND, "no user '%.63s'",
                                    name ? name : ""), d);
    /* The acting admin is enabled, so only they can be the last enabled
     * admin: refusing their own account keeps one, and keeps anyone from
     * locking the gallery's administration out by mistake. */
    if (op == ACCOUNT_DISABLE && strcmp(name, g->who.name) == 0)
        return gate_refusal(g, g->who.name, g->who.unit, action, objects,
                            fs_fail(d, FS_DENIED, "G2: nobody disables "
                                    "their own account (an administrator "
                                    "must remain)"), d);
    account_op o = { g, name, op };
    fs_audit_entry e = { action, NULL, NULL, objects, "ok" };
    return gate_change(g, account_op_in, &o, &e, d);
}

int fs_user_disable(fs_gate *g, const char *name, fs_detail *d)
{
    return account_verb(g, name, ACCOUNT_DISABLE, "user disable", d);
}

int fs_user_enable(fs_gate *g, const char *name, fs_detail *d)
{
    return account_verb(g, name, ACCOUNT_ENABLE, "user enable", d);
}

int fs_user_unlock(fs_gate *g, const char *name, fs_detail *d)
{
    return account_verb(g, name, ACCOUNT_UNLOCK, "user unlock", d);
}

/* ---- passwords ----------------------------------------------------------------- */

typedef struct new_password {
    fs_gate    *g;
    const char *name;
    const char *password;
    int         own;        /* the current one was just given right */
} new_password;

static int passwd_in(void *ctx, fs_gallery_batch *b, fs_detail *d)
{
    const new_password *np = ctx;
    fs_user u;
    uint8_t pwrec[GATE_PWREC_BYTES];
    int rc = user_load(np->g, b, np->name, &u, pwrec, d);
    if (rc == FS_OK && gate_password_hash(np->password, pwrec) != FS_OK)
        rc = fs_fail(d, FS_EINTERNAL, "cannot hash the password");
    if (np->own)                 /* as a login that succeeds */
        u.failures = 0;
    if (rc == FS_OK)
        rc = gate_user_put(np->g, b, &u, pwrec, d);
    fs_wipe(pwrec, sizeof pwrec);
    /* whoever knew the old password may hold a session: it ends here
     * (one's own current session goes on) */
    if (rc == FS_OK)
        rc = gate_sessions_end(np->g, b, np->name, np->own ? np->g->session
                               : NULL, d);
    return rc;
}

/* One's own password: the current one first, checked as a login checks
 * it (the same slow hash; a wrong one counted, locking the account after
 * the profile's number in a row, slowed and audited), so a session left
 * open is no way round the lockout.  Counted under the profile in force
 * in its batch, as a login's are: an admin who tightens the lockout while
 * the hash is being checked is obeyed. */
static int check_current(fs_gate *g, const char *current, fs_detail *d)
{
    fs_gallery_batch *b;
    fs_audit_entry e = { "user passwd", NULL, NULL, "own password", NULL };
    int rc = gate_begin_standing(g, &b, &e, d);
    if (rc != FS_OK)
        return rc;
    fs_user u;
    uint8_t pwrec[GATE_PWREC_BYTES];
    rc = gate_user_get(g, b, g->who.name, &u, pwrec, d);
    int ok = rc == FS_OK && gate_password_verify(current ? current : "",
                                                 pwrec);
    if (rc == FS_OK && u.locked_until > (int64_t)time(NULL)) {
        fs_gallery_abort(b);
        rc = gate_refusal(g, u.name, u.unit, "user passwd", "own password",
                          fs_fail(d, FS_ELOCKED, "account '%s' is locked "
                                  "after repeated wrong passwords; an admin "
                                  "can unlock it", u.name), d);
    } else if (rc == FS_OK && !ok) {
        rc = gate_login_failed(g, b, u.name, &u, pwrec, "user passwd",
                               "wrong current password", d);
        if (rc == FS_OK)
            rc = fs_fail(d, FS_EAUTH, "the current password is wrong");
    } else {
        fs_gallery_abort(b);
    }
    fs_wipe(pwrec, sizeof pwrec);
    return rc;
}

int fs_user_passwd(fs_gate *g, const char *name, const char *current,
                   const char *password, fs_detail *d)
{
    int rc = gate_require(g, 0, 0, "user passwd", d);
    if (rc != FS_OK)
        return rc;
    int own = !name || strcmp(name, g->who.name) == 0;
    const char *who = own ? g->who.name : name;
    char objects[FS_USER_MAX + 32];
    snprintf(objects, sizeof objects, "user %.63s: %s", who,
             own ? "own password changed" : "password set by an admin");
    /* Another's password is an admin's to set (G2). */
    if (!own && !(g->who.roles & FS_ROLE_ADMIN)) {
        char has[96];
        fs_roles_format(g->who.roles, has, sizeof has);
        return gate_refusal(g, g->who.name, g->who.unit, "user passwd",
                            objects, fs_fail(d, FS_DENIED, "G2: setting "
                            "another user's password needs the role admin; "
                            "%s holds %s", g->who.name, has), d);
    }
    if (own && (rc = check_current(g, current, d)) != FS_OK)
        return rc;
    /* G1: the profile's strength rule, whoever sets it. */
    if (own && current && password && strcmp(current, password) == 0)
        rc = fs_fail(d, FS_EINVAL, "the new password is the current one");
    else
        rc = fs_password_check(password, who,
                               g->profile.password_min_length, d);
    if (rc != FS_OK)
        return gate_refusal(g, g->who.name, g->who.unit, "user passwd",
                            objects, rc, d);
    new_password np = { g, who, password, own };
    fs_audit_entry e = { "user passwd", NULL, NULL, objects, "ok" };
    return gate_change(g, passwd_in, &np, &e, d);
}

/* ---- listing ------------------------------------------------------------------- */

/* By name, each record opened by gate_user_get, so one that fails its
 * check is named. */
static int list_in(fs_gate *g, fs_gallery_batch *b, fs_user **out,
                   size_t *n, fs_detail *d)
{
    fs_user *v = NULL;
    size_t len = 0, cap = 0;
    fs_record r;
    int rc = fs_record_seek(b, GT_USERS, NULL, 0, 0, &r, d);
    while (rc == FS_OK) {
        char name[FS_USER_MAX];
        if (r.klen >= sizeof name) {
            rc = fs_fail(d, FS_ETAMPER, "an account record has a bad name "
                         "(planted)");
            break;
        }
        memcpy(name, r.key, r.klen);
        name[r.klen] = 0;
        void *arr = v;
        rc = gate_room_for_one(&arr, len, &cap, sizeof *v, d);
        v = arr;
        if (rc == FS_OK)
            rc = gate_user_get(g, b, name, &v[len], NULL, d);
        if (rc != FS_OK)
            break;
        len++;
        rc = fs_record_seek(b, GT_USERS, name, strlen(name), 1, &r, d);
    }
    if (rc != FS_NOTFOUND) {
        free(v);
        return rc;
    }
    *out = v;
    *n = len;
    return FS_OK;
}

int fs_user_list(fs_gate *g, fs_user **out, size_t *n, fs_detail *d)
{
    fs_gallery_batch *b;
    int rc = gate_require_read(g, FS_ROLE_ADMIN | FS_ROLE_AUDITOR,
                               "user list", "accounts", d);
    if (rc == FS_OK)
        rc = gate_read(g, &b, d);
    if (rc != FS_OK)
        return rc;
    rc = list_in(g, b, out, n, d);
    fs_gallery_abort(b);
    return rc;
}
