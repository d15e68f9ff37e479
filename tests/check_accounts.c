/*
 * check_accounts.c - accounts, sessions and the profile against a hostile
 * insider (issue 12, G1-G3, G18): rows written into data.mdb behind the
 * gate's back (a session whose token the attacker chose, an account with
 * its roles raised or its disabled flag or lockout cleared) are refused as
 * tampered and never obeyed; the file holds no password hash or account
 * field in plain; accounts come back only by an admin's hand (enable,
 * unlock, passwd), each audited; a failed login says one thing whatever
 * the reason; a profile change cannot relax the retention or the login
 * limits.
 *
 * In-process through the fs_gate API, for speed; the file is edited with
 * LMDB directly, the gate closed meanwhile, as an attacker with the file
 * would.  A few runs of the real binary check the user subcommands'
 * --help, the password on stdin, and the one answer at login as a person
 * sees it.
 */
#include <check.h>
#include <lmdb.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "../engine/facesearch.h"
#include "../engine/base/fs_pack.h"
#include "fs_testutil.h"

#define PW TU_PASSWORD
#define ATTACKER_PW "Attacker-Chose-This-1"

/* The gate's tables (gate/fs_gate_int.h), as an attacker reads them off
 * the file. */
enum { T_USERS = 2, T_SESSIONS = 3 };

static char gal[4096];
static fs_gate *g;

/* detroit as shipped but quicker to fail logins in: two failures lock,
 * 20 ms pause.  Stricter than shipped on the failures, so the floors
 * below are the shipped detroit's. */
static char *quick_profile(void)
{
    return tu_profile_logins("detroit", 2, 20);
}

/* Each person works from a runtime directory of their own. */
static void as(const char *user)
{
    char dir[64];
    snprintf(dir, sizeof dir, "run-%s", user);
    setenv("XDG_RUNTIME_DIR", tu_path(tu_tmp, dir), 1);
}

static int login_pw(const char *user, const char *pw, fs_detail *d)
{
    char path[4200];
    as(user);
    return fs_gate_login(g, user, pw, path, sizeof path, d);
}

static void login(const char *user)
{
    fs_detail d = { "" };
    ck_assert_msg(login_pw(user, PW, &d) == FS_OK, "login %s: %s", user,
                  d.msg);
}

static void reopen(void)
{
    fs_detail d = { "" };
    if (g)
        fs_gate_close(g);
    g = NULL;
    ck_assert_msg(fs_gate_open(gal, NULL, &g, &d) == FS_OK, "%s", d.msg);
}

static void add_user(const char *name, unsigned roles, const char *unit)
{
    fs_user u;
    fs_detail d = { "" };
    memset(&u, 0, sizeof u);
    snprintf(u.name, sizeof u.name, "%s", name);
    snprintf(u.unit, sizeof u.unit, "%s", unit);
    u.roles = roles;
    if (roles & FS_ROLES_TRAINED)
        snprintf(u.trained, sizeof u.trained, "2025-01-15");
    ck_assert_msg(fs_user_add(g, &u, PW, &d) == FS_OK, "%s", d.msg);
}

/* The model the gallery is made for: none in this process (nothing is
 * embedded here); the service's real one when a service serves it, which
 * refuses a gallery of another model. */
static char model_id[128] = "test-model";
static char model_sha256[65] = "0123456789abcdef0123456789abcdef"
                               "0123456789abcdef0123456789abcdef";

/* A gallery made by admin (logged in), with eve, a requester. */
static void acc_setup(void)
{
    tu_tmp_setup();
    snprintf(gal, sizeof gal, "%s/gallery", tu_tmp);
    char *text = quick_profile();
    fs_gate_init in = { text, strlen(text), "admin", "TEST", PW, NULL,
                        model_id, model_sha256, NULL, NULL };
    char key[4200];
    fs_detail d = { "" };
    ck_assert_msg(fs_gate_create(gal, &in, key, sizeof key, &d) == FS_OK,
                  "%s", d.msg);
    free(text);
    g = NULL;
    reopen();
    login("admin");
    add_user("eve", FS_ROLE_REQUESTER, "UNIT-ZEBRA-7731");
}

static void acc_teardown(void)
{
    if (g)
        fs_gate_close(g);
    g = NULL;
    tu_tmp_teardown();
}

/* ---- the file, as an attacker edits it ------------------------------------ */

typedef tu_raw raw;

/* The gate closed first: LMDB allows one handle per process. */
static void raw_open(raw *r)
{
    if (g)
        fs_gate_close(g);
    g = NULL;
    tu_raw_open(r, gal);
}

static void raw_close(raw *r)
{
    tu_raw_close(r);
    reopen();
}

static MDB_val raw_key(unsigned table, const void *key, size_t klen,
                       uint8_t buf[512])
{
    buf[0] = (uint8_t)table;
    memcpy(buf + 1, key, klen);
    return (MDB_val){ klen + 1, buf };
}

/* A copy of the record's value (freed by the caller), or NULL. */
static uint8_t *raw_get(raw *r, unsigned table, const void *key,
                        size_t klen, size_t *len)
{
    uint8_t kb[512];
    MDB_val k = raw_key(table, key, klen, kb), v;
    if (mdb_get(r->txn, r->dbi, &k, &v) != 0)
        return NULL;
    uint8_t *copy = malloc(v.mv_size);
    memcpy(copy, v.mv_data, v.mv_size);
    *len = v.mv_size;
    return copy;
}

static void raw_put(raw *r, unsigned table, const void *key, size_t klen,
                    const void *val, size_t len)
{
    uint8_t kb[512];
    MDB_val k = raw_key(table, key, klen, kb);
    MDB_val v = { len, (void *)val };
    ck_assert_int_eq(mdb_put(r->txn, r->dbi, &k, &v, 0), 0);
}

/* An account record as the gate wrote it in plain before sealing
 * (version, unit, roles, trained, disabled, created, failures,
 * locked_until, the scrypt record), with a password of the attacker's
 * choosing hashed the way the gate hashes (at a lower, accepted cost). */
static fs_wbuf plain_account(unsigned roles, int disabled, int failures,
                             int64_t locked_until)
{
    uint8_t pwrec[64] = { 1, 10, 8, 1 };
    memset(pwrec + 16, 0x5a, 16);
    ck_assert_int_eq(EVP_PBE_scrypt(ATTACKER_PW, strlen(ATTACKER_PW),
                                    pwrec + 16, 16, 1 << 10, 8, 1,
                                    64 << 20, pwrec + 32, 32), 1);
    fs_wbuf w = { 0 };
    fs_wbuf_u64(&w, 1);
    fs_wbuf_str(&w, "TEST");
    fs_wbuf_u64(&w, roles);
    fs_wbuf_str(&w, "2025-01-15");
    fs_wbuf_u64(&w, (uint64_t)disabled);
    fs_wbuf_u64(&w, (uint64_t)time(NULL));
    fs_wbuf_u64(&w, (uint64_t)failures);
    fs_wbuf_u64(&w, (uint64_t)locked_until);
    fs_wbuf_put(&w, pwrec, sizeof pwrec);
    ck_assert(!w.oom);
    return w;
}

/* Every audit entry's "action|objects|outcome" line, in order (as admin). */
typedef struct trail_text {
    char  *s;
    size_t len;
} trail_text;

static int collect(void *ctx, const fs_audit_record *r)
{
    trail_text *t = ctx;
    char line[3000];
    int n = snprintf(line, sizeof line, "%s: %s|%s|%s\n", r->user, r->action,
                     r->objects, r->outcome);
    t->s = realloc(t->s, t->len + (size_t)n + 1);
    memcpy(t->s + t->len, line, (size_t)n + 1);
    t->len += (size_t)n;
    return 0;
}

static char *trail(void)
{
    trail_text t = { NULL, 0 };
    fs_audit_filter f = { 0 };
    fs_detail d = { "" };
    as("admin");
    ck_assert_msg(fs_audit_walk(g, &f, collect, &t, &d) == FS_OK, "%s",
                  d.msg);
    return t.s;
}

static void expect_in_trail(const char *what)
{
    char *t = trail();
    ck_assert_msg(strstr(t, what), "'%s' not on the trail:\n%s", what, t);
    free(t);
}

/* ---- sealed sessions (G1) ----------------------------------------------------- */

static void write_token(const char *path, const uint8_t token[32])
{
    char hex[66];
    fs_hex(token, 32, hex);
    hex[64] = '\n';
    hex[65] = 0;
    ck_assert_int_eq(tu_write(path, hex, 65), 0);
    chmod(path, 0600);
}

/* eve, a requester with the file, writes a session row for the admin
 * under a token of her choosing, then under a real admin session record
 * moved there: neither makes her anyone, and nothing she asks is done. */
START_TEST(test_G1_planted_session_row_opens_nothing)
{
    char eve_session[4200], admin_session[4200];
    fs_detail d = { "" };
    as("admin");
    ck_assert_int_eq(fs_gate_login(g, "admin", PW, admin_session,
                                   sizeof admin_session, &d), FS_OK);
    as("eve");
    ck_assert_int_eq(fs_gate_login(g, "eve", PW, eve_session,
                                   sizeof eve_session, &d), FS_OK);
    uint8_t token[32], hash[32], admin_token[32], admin_hash[32];
    memset(token, 0xa7, sizeof token);
    fs_sha256(token, sizeof token, hash);
    size_t len;
    char *hex = tu_read(admin_session, &len);
    ck_assert_uint_ge(len, 64);
    hex[64] = 0;                                  /* the newline */
    ck_assert_int_eq(fs_unhex(hex, admin_token, 32), FS_OK);
    free(hex);
    fs_sha256(admin_token, 32, admin_hash);

    for (int moved = 0; moved < 2; moved++) {
        raw r;
        raw_open(&r);
        if (moved) {       /* the admin's own sealed record, at eve's key */
            uint8_t *v = raw_get(&r, T_SESSIONS, admin_hash, 32, &len);
            ck_assert_ptr_nonnull(v);
            raw_put(&r, T_SESSIONS, hash, 32, v, len);
            free(v);
        } else {           /* a plausible record, in the old plain form */
            fs_wbuf w = { 0 };
            fs_wbuf_str(&w, "admin");
            fs_wbuf_u64(&w, (uint64_t)time(NULL));
            fs_wbuf_u64(&w, (uint64_t)time(NULL) + 3600);
            raw_put(&r, T_SESSIONS, hash, 32, w.p, w.len);
            fs_wbuf_free(&w);
        }
        raw_close(&r);
        as("eve");
        write_token(eve_session, token);
        fs_user who;
        int rc = fs_gate_session(g, FS_ROLE_ADMIN, "user add", &who, &d);
        ck_assert_msg(rc == FS_ETAMPER || rc == FS_ESESSION, "%d %s", rc,
                      d.msg);
        ck_assert_msg(strstr(d.msg, "session record"), "%s", d.msg);
        fs_user u;
        memset(&u, 0, sizeof u);
        snprintf(u.name, sizeof u.name, "mallory%d", moved);
        snprintf(u.unit, sizeof u.unit, "X");
        u.roles = FS_ROLE_ADMIN;
        ck_assert_int_ne(fs_user_add(g, &u, ATTACKER_PW, &d), FS_OK);
        ck_assert_int_ne(fs_gate_set_profile(g, "x", 1, &d), FS_OK);
    }
    /* nothing was done, the attempt is on the trail, and logins still
     * work: the next one clears the bad row and says so */
    login("admin");
    fs_user *list;
    size_t n;
    ck_assert_int_eq(fs_user_list(g, &list, &n, &d), FS_OK);
    ck_assert_uint_eq(n, 2);
    free(list);
    expect_in_trail("refused: a session record fails its check");
    expect_in_trail("1 session record that failed its check removed");
}
END_TEST

/* ---- sealed accounts (G1-G3) --------------------------------------------------- */

/* Login as eve and her session both refused as tampered, naming her. */
static void expect_eve_refused(const char *attack)
{
    fs_detail d = { "" };
    int rc = login_pw("eve", ATTACKER_PW, &d);
    ck_assert_msg(rc == FS_ETAMPER, "%s: login %d %s", attack, rc, d.msg);
    ck_assert_msg(strstr(d.msg, "account record of 'eve'"), "%s: %s",
                  attack, d.msg);
    ck_assert_int_eq(login_pw("eve", PW, &d), FS_ETAMPER);
    fs_user who;
    ck_assert_int_ne(fs_gate_session(g, 0, "user list", &who, &d), FS_OK);
    as("admin");
    fs_user *list = NULL;
    size_t n;
    ck_assert_int_eq(fs_user_list(g, &list, &n, &d), FS_ETAMPER);
    ck_assert_msg(strstr(d.msg, "'eve'"), "%s", d.msg);
    free(list);
}

/* eve's account edited offline: her roles raised to admin, her disabled
 * flag cleared, her lockout cleared (each a record in the form the gate
 * used to keep, with a password she chose), a byte of the sealed record
 * flipped, the admin's sealed record moved to her name.  Each is refused
 * as tampered, naming her; put back, her account works again. */
START_TEST(test_G1_G3_account_edited_offline_refused)
{
    fs_detail d = { "" };
    /* locked and disabled first, so the plain records clear something */
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(login_pw("eve", "Wrong-Passw0rd-1", &d), FS_EAUTH);
    as("admin");
    ck_assert_int_eq(fs_user_disable(g, "eve", &d), FS_OK);
    raw r;
    size_t eve_len = 0, admin_len = 0;
    raw_open(&r);
    uint8_t *eve = raw_get(&r, T_USERS, "eve", 3, &eve_len);
    uint8_t *admin = raw_get(&r, T_USERS, "admin", 5, &admin_len);
    ck_assert_ptr_nonnull(eve);
    ck_assert_ptr_nonnull(admin);
    raw_close(&r);
    static const char *const attacks[] = {
        "roles raised", "disabled cleared", "lockout cleared",
        "byte flipped", "admin's record moved"
    };
    for (int a = 0; a < 5; a++) {
        raw_open(&r);
        if (a < 3) {
            fs_wbuf w = plain_account(a == 0 ? FS_ROLE_ADMIN
                                      : FS_ROLE_REQUESTER, 0, 0, 0);
            raw_put(&r, T_USERS, "eve", 3, w.p, w.len);
            fs_wbuf_free(&w);
        } else if (a == 3) {
            uint8_t *v = malloc(eve_len);
            memcpy(v, eve, eve_len);
            v[eve_len / 2] ^= 1;
            raw_put(&r, T_USERS, "eve", 3, v, eve_len);
            free(v);
        } else {
            raw_put(&r, T_USERS, "eve", 3, admin, admin_len);
        }
        raw_close(&r);
        expect_eve_refused(attacks[a]);
    }
    /* a whole account planted under a new name */
    raw_open(&r);
    fs_wbuf w = plain_account(FS_ROLE_ADMIN, 0, 0, 0);
    raw_put(&r, T_USERS, "mallory", 7, w.p, w.len);
    fs_wbuf_free(&w);
    raw_put(&r, T_USERS, "eve", 3, eve, eve_len);
    raw_close(&r);
    ck_assert_int_eq(login_pw("mallory", ATTACKER_PW, &d), FS_ETAMPER);
    ck_assert_msg(strstr(d.msg, "'mallory'"), "%s", d.msg);
    expect_in_trail("refused: the account record of 'mallory' fails");
    /* eve's own record back: disabled, as the admin left her */
    raw_open(&r);
    uint8_t kb[512];
    MDB_val k = raw_key(T_USERS, "mallory", 7, kb);
    ck_assert_int_eq(mdb_del(r.txn, r.dbi, &k, NULL), 0);
    raw_close(&r);
    ck_assert_int_eq(login_pw("eve", PW, &d), FS_EAUTH);
    as("admin");
    ck_assert_int_eq(fs_user_enable(g, "eve", &d), FS_OK);
    ck_assert_int_eq(fs_user_unlock(g, "eve", &d), FS_OK);
    login("eve");
    free(eve);
    free(admin);
}
END_TEST

/* The file alone gives no password hash to crack and no account field:
 * neither the scrypt record's header nor eve's unit is in data.mdb. */
START_TEST(test_G1_no_password_hash_or_account_in_plain)
{
    fs_gate_close(g);
    g = NULL;
    const char *file = tu_path(gal, "data.mdb");
    /* algorithm 1 (scrypt), log2 N 15, r 8, p 1, then zeros to the salt */
    static const uint8_t scrypt_head[16] = { 1, 15, 8, 1 };
    ck_assert(!tu_file_holds(file, scrypt_head, sizeof scrypt_head));
    ck_assert(!tu_file_holds(file, "UNIT-ZEBRA-7731", 15));
    ck_assert(!tu_file_holds(file, PW, strlen(PW)));
    raw r;
    size_t len;
    raw_open(&r);
    uint8_t *v = raw_get(&r, T_USERS, "eve", 3, &len);
    ck_assert_ptr_nonnull(v);
    ck_assert_ptr_null(memmem(v, len, "UNIT-ZEBRA", 10));
    free(v);
    raw_close(&r);
}
END_TEST

/* ---- recovery (G1, G2) ---------------------------------------------------------- */

/* enable, unlock and another's password are an admin's; refused to
 * others (G2) and on the trail either way; a password is never on it. */
START_TEST(test_G2_enable_unlock_passwd_admin_only_audited)
{
    fs_detail d = { "" };
    add_user("aud", FS_ROLE_AUDITOR, "TEST");
    ck_assert_int_eq(fs_user_disable(g, "aud", &d), FS_OK);
    login("eve");
    ck_assert_int_eq(fs_user_enable(g, "aud", &d), FS_DENIED);
    ck_assert_msg(strstr(d.msg, "G2"), "%s", d.msg);
    ck_assert_int_eq(fs_user_unlock(g, "aud", &d), FS_DENIED);
    ck_assert_int_eq(fs_user_passwd(g, "aud", NULL, "New-Passw0rd-2026",
                                    &d), FS_DENIED);
    ck_assert_msg(strstr(d.msg, "G2"), "%s", d.msg);
    ck_assert_int_eq(login_pw("aud", PW, &d), FS_EAUTH);      /* disabled */
    /* the admin brings aud back, unlocks eve after two failures */
    as("admin");
    ck_assert_int_eq(fs_user_enable(g, "aud", &d), FS_OK);
    ck_assert_int_eq(fs_user_enable(g, "ghost", &d), FS_NOTFOUND);
    login("aud");
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(login_pw("eve", "Wrong-Passw0rd-1", &d), FS_EAUTH);
    ck_assert_int_eq(login_pw("eve", PW, &d), FS_EAUTH);        /* locked */
    as("admin");
    ck_assert_int_eq(fs_user_unlock(g, "eve", &d), FS_OK);
    login("eve");
    /* nobody disables themselves, so an enabled admin always remains */
    as("admin");
    ck_assert_int_eq(fs_user_disable(g, "admin", &d), FS_DENIED);
    ck_assert_msg(strstr(d.msg, "G2"), "%s", d.msg);
    /* the admin sets eve's password: the strength rule holds (G1) */
    ck_assert_int_eq(fs_user_passwd(g, "eve", NULL, "short", &d), FS_EINVAL);
    ck_assert_int_eq(fs_user_passwd(g, "eve", NULL, "Admin-Set-Passw0rd-1",
                                    &d), FS_OK);
    ck_assert_int_eq(login_pw("eve", PW, &d), FS_EAUTH);
    ck_assert_int_eq(login_pw("eve", "Admin-Set-Passw0rd-1", &d), FS_OK);
    char *t = trail();
    ck_assert_msg(strstr(t, "eve: user enable||refused: G2"), "%s", t);
    ck_assert_msg(strstr(t, "eve: user unlock||refused: G2"), "%s", t);
    ck_assert_msg(strstr(t, "eve: user passwd|user aud: password set by an "
                         "admin|refused: G2"), "%s", t);
    ck_assert_msg(strstr(t, "admin: user enable|user aud|ok"), "%s", t);
    ck_assert_msg(strstr(t, "admin: user unlock|user eve|ok"), "%s", t);
    ck_assert_msg(strstr(t, "admin: user enable|user ghost|refused: no user"),
                  "%s", t);
    ck_assert_msg(strstr(t, "admin: user passwd|user eve: password set by an "
                         "admin|ok"), "%s", t);
    ck_assert_msg(strstr(t, "the password is too short"), "%s", t);
    ck_assert_ptr_null(strstr(t, "Admin-Set-Passw0rd-1"));
    free(t);
}
END_TEST

/* One's own password: the current one is checked as a login checks it
 * (a wrong one counted and locking), the strength rule applies, and the
 * old password opens nothing after. */
START_TEST(test_G1_passwd_own_needs_the_current_password)
{
    fs_detail d = { "" };
    login("eve");
    ck_assert_int_eq(fs_user_passwd(g, NULL, PW, "weak", &d), FS_EINVAL);
    ck_assert_int_eq(fs_user_passwd(g, NULL, PW, PW, &d), FS_EINVAL);
    ck_assert_int_eq(fs_user_passwd(g, "eve", "Wrong-Passw0rd-1",
                                    "Next-Passw0rd-91", &d), FS_EAUTH);
    ck_assert_int_eq(fs_user_passwd(g, NULL, PW, "Next-Passw0rd-91", &d),
                     FS_OK);
    ck_assert_int_eq(login_pw("eve", PW, &d), FS_EAUTH);
    ck_assert_int_eq(login_pw("eve", "Next-Passw0rd-91", &d), FS_OK);
    /* two wrong current passwords lock the account, as two logins would:
     * an open session is no way round the lockout */
    ck_assert_int_eq(fs_user_passwd(g, NULL, "Wrong-Passw0rd-1",
                                    "Other-Passw0rd-92", &d), FS_EAUTH);
    ck_assert_int_eq(fs_user_passwd(g, NULL, "Wrong-Passw0rd-2",
                                    "Other-Passw0rd-92", &d), FS_EAUTH);
    ck_assert_int_eq(fs_user_passwd(g, NULL, "Next-Passw0rd-91",
                                    "Other-Passw0rd-92", &d), FS_ELOCKED);
    ck_assert_int_eq(login_pw("eve", "Next-Passw0rd-91", &d), FS_EAUTH);
    char *t = trail();
    ck_assert_msg(strstr(t, "eve: user passwd|eve|refused: wrong current "
                         "password (OS uid "), "%s", t);
    ck_assert_msg(strstr(t, "); account locked for "), "%s", t);
    ck_assert_msg(strstr(t, "eve: user passwd|user eve: own password "
                         "changed|ok"), "%s", t);
    ck_assert_ptr_null(strstr(t, "Next-Passw0rd"));
    free(t);
}
END_TEST

/* A password changed or set ends the account's other sessions, so
 * whoever logged in with the old one is out (G1); one's own current
 * session goes on. */
START_TEST(test_G1_new_password_ends_the_other_sessions)
{
    fs_detail d = { "" };
    fs_user who;
    char path[4200];
    login("eve");                                   /* at her desk */
    setenv("XDG_RUNTIME_DIR", tu_path(tu_tmp, "run-eve-laptop"), 1);
    ck_assert_int_eq(fs_gate_login(g, "eve", PW, path, sizeof path, &d),
                     FS_OK);
    ck_assert_msg(fs_user_passwd(g, NULL, PW, "Next-Passw0rd-91", &d)
                  == FS_OK, "%s", d.msg);
    ck_assert_int_eq(fs_gate_session(g, 0, "test", &who, &d), FS_OK);
    as("eve");
    ck_assert_int_eq(fs_gate_session(g, 0, "test", &who, &d), FS_ESESSION);
    /* set by an admin: every session of hers ends */
    login("admin");
    ck_assert_msg(fs_user_passwd(g, "eve", NULL, "Admin-Set-Passw0rd-7", &d)
                  == FS_OK, "%s", d.msg);
    setenv("XDG_RUNTIME_DIR", tu_path(tu_tmp, "run-eve-laptop"), 1);
    ck_assert_int_eq(fs_gate_session(g, 0, "test", &who, &d), FS_ESESSION);
    as("admin");
    ck_assert_int_eq(fs_gate_session(g, 0, "test", &who, &d), FS_OK);
}
END_TEST

/* ---- one answer at login (G1) ------------------------------------------------------ */

/* An unknown name, a wrong password, a locked and a disabled account:
 * the same code and message in-process, byte-identical stderr and the
 * same status from the binary, each after the profile's pause; only the
 * trail says which it was. */
START_TEST(test_G1_one_answer_for_unknown_wrong_locked_disabled)
{
    fs_detail d = { "" };
    add_user("dan", FS_ROLE_REQUESTER, "TEST");
    add_user("lee", FS_ROLE_REQUESTER, "TEST");
    ck_assert_int_eq(fs_user_disable(g, "dan", &d), FS_OK);
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(login_pw("lee", "Wrong-Passw0rd-1", &d), FS_EAUTH);
    /* the right password for each of the locked and disabled ones */
    static const struct { const char *user, *pw; } tries[] = {
        { "nobody", PW }, { "eve", "Wrong-Passw0rd-1" }, { "lee", PW },
        { "dan", PW },
    };
    char first[512] = "";
    for (size_t i = 0; i < 4; i++) {
        ck_assert_int_eq(login_pw(tries[i].user, tries[i].pw, &d), FS_EAUTH);
        if (i == 0)
            snprintf(first, sizeof first, "%s", d.msg);
        ck_assert_str_eq(d.msg, first);
    }
    fs_gate_close(g);
    g = NULL;
    char *err0 = NULL;
    for (size_t i = 0; i < 4; i++) {
        char in[64], *out, *err;
        snprintf(in, sizeof in, "%s\n", tries[i].pw);
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int st = tu_run_input(in, (char *const[]){ "facesearch", "login",
            "--user", (char *)tries[i].user, "--password-stdin", "--gallery",
            gal, NULL }, &out, &err);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        ck_assert_msg(st == 1, "%s: %d %s", tries[i].user, st, err);
        ck_assert_str_eq(out, "");
        ck_assert_double_ge((double)(t1.tv_sec - t0.tv_sec) +
                            (t1.tv_nsec - t0.tv_nsec) * 1e-9, 0.02);
        if (i == 0)
            err0 = strdup(err);
        ck_assert_str_eq(err, err0);
        free(out);
        free(err);
    }
    ck_assert_ptr_nonnull(strstr(err0, "login refused"));
    free(err0);
    reopen();
    char *t = trail();
    ck_assert_msg(strstr(t, "nobody: login|nobody|refused: no such user"),
                  "%s", t);
    ck_assert_msg(strstr(t, "eve: login|eve|refused: wrong password"), "%s",
                  t);
    ck_assert_msg(strstr(t, "lee: login|lee|refused: account locked"), "%s",
                  t);
    ck_assert_msg(strstr(t, "dan: login|dan|refused: account disabled"),
                  "%s", t);
    free(t);
}
END_TEST

/* ---- profile floors (G1, G18) ---------------------------------------------------- */

/* detroit as shipped with one line's value replaced. */
static char *detroit_with(const char *key, const char *value)
{
    char start[64], line[128];
    snprintf(start, sizeof start, "%s =", key);
    snprintf(line, sizeof line, "%s = %s", key, value);
    return tu_profile_with(fs_profile_builtin("detroit"), start, line);
}

static void hash_hex(const char *text, char hex[65])
{
    uint8_t h[32];
    fs_sha256(text, strlen(text), h);
    fs_hex(h, 32, hex);
}

/* Every floor refused, naming its rule, key and both values, and nothing
 * changes; a stricter profile is taken, its entry naming the keys that
 * changed and the hashes of both texts; an administrator's own profile
 * is its own floor. */
START_TEST(test_G1_G18_profile_floors)
{
    static const struct { const char *key, *value, *rule, *was; } relax[] = {
        { "retention.audit_days", "364", "G18", "365" },
        { "login.max_failures", "6", "G1", "5" },
        { "login.lockout_minutes", "14", "G1", "15" },
        { "login.failure_delay_ms", "999", "G1", "1000" },
        { "password.min_length", "11", "G1", "12" },
        { "session.hours", "9", "G1", "8" },
    };
    fs_detail d = { "" };
    for (size_t i = 0; i < sizeof relax / sizeof *relax; i++) {
        char *t = detroit_with(relax[i].key, relax[i].value);
        ck_assert_int_eq(fs_gate_set_profile(g, t, strlen(t), &d), FS_DENIED);
        ck_assert_msg(strstr(d.msg, relax[i].rule) && strstr(d.msg,
                      relax[i].key) && strstr(d.msg, relax[i].value) &&
                      strstr(d.msg, relax[i].was), "%s", d.msg);
        free(t);
    }
    ck_assert_int_eq(fs_gate_profile(g)->login_max_failures, 2);
    /* stricter: taken, with what changed on the trail */
    const char *text;
    ck_assert_int_eq(fs_gate_profile_show(g, &text, &d), FS_OK);
    char old_hex[65], new_hex[65];
    hash_hex(text, old_hex);
    char *t = detroit_with("retention.audit_days", "400");
    hash_hex(t, new_hex);
    ck_assert_msg(fs_gate_set_profile(g, t, strlen(t), &d) == FS_OK, "%s",
                  d.msg);
    free(t);
    ck_assert_int_eq(fs_gate_profile(g)->retention_audit_days, 400);
    char *log = trail();
    char want[400];
    snprintf(want, sizeof want, "sha256 %s -> %s; changed: "
             "retention.audit_days, login.max_failures, "
             "login.failure_delay_ms|ok", old_hex, new_hex);
    ck_assert_msg(strstr(log, want), "want %s in\n%s", want, log);
    ck_assert_msg(strstr(log, "G18: retention.audit_days = 364 would relax"),
                  "%s", log);
    free(log);
    /* a profile of the administrator's own name: its values are the floor */
    t = detroit_with("name", "ourcity");
    char *u = strstr(t, "retention.audit_days = 365");
    ck_assert_ptr_nonnull(u);
    memcpy(u + strlen("retention.audit_days = "), "500", 3);
    ck_assert_msg(fs_gate_set_profile(g, t, strlen(t), &d) == FS_OK, "%s",
                  d.msg);
    memcpy(u + strlen("retention.audit_days = "), "450", 3);
    ck_assert_int_eq(fs_gate_set_profile(g, t, strlen(t), &d), FS_DENIED);
    ck_assert_msg(strstr(d.msg, "current ourcity profile's 500"), "%s",
                  d.msg);
    free(t);
}
END_TEST

/* G18: a gallery under lacris (5 years of trail) cannot reach a laxer
 * policy's floors by a name: not by detroit's own text, not by a text
 * named detroit with lacris's values (whose floors would be detroit's 365
 * days at the next change), not through a name of the administrator's
 * own first.  The retention stays 1826 days and the purge of a 400-day-old
 * trail is refused. */
START_TEST(test_G18_profile_name_cannot_lower_the_floors)
{
    fs_detail d = { "" };
    const char *lacris = fs_profile_builtin("lacris");
    ck_assert_msg(fs_gate_set_profile(g, lacris, strlen(lacris), &d) ==
                  FS_OK, "%s", d.msg);            /* stricter: taken */
    const char *detroit = fs_profile_builtin("detroit");
    ck_assert_int_eq(fs_gate_set_profile(g, detroit, strlen(detroit), &d),
                     FS_DENIED);
    ck_assert_msg(strstr(d.msg, "G18") && strstr(d.msg, "1826"), "%s",
                  d.msg);
    char *t = detroit_with("retention.audit_days", "1826");
    ck_assert_int_eq(fs_gate_set_profile(g, t, strlen(t), &d), FS_DENIED);
    ck_assert_msg(strstr(d.msg, "G18: the name detroit would bring its "
                  "shipped retention.audit_days = 365") &&
                  strstr(d.msg, "shipped lacris profile's 1826"), "%s",
                  d.msg);
    /* through a name of one's own: its values are then the floor */
    char *own = tu_profile_with(t, "name =", "name = ourcity");
    ck_assert_msg(fs_gate_set_profile(g, own, strlen(own), &d) == FS_OK,
                  "%s", d.msg);
    ck_assert_int_eq(fs_gate_set_profile(g, t, strlen(t), &d), FS_DENIED);
    ck_assert_msg(strstr(d.msg, "current ourcity profile's 1826"), "%s",
                  d.msg);
    free(own);
    free(t);
    ck_assert_str_eq(fs_gate_profile(g)->name, "ourcity");
    ck_assert_int_eq(fs_gate_profile(g)->retention_audit_days, 1826);
    uint64_t n;
    ck_assert_int_eq(fs_audit_purge(g, ((int64_t)time(NULL) - 400 * 86400) *
                                    1000000, 0, &n, &d), FS_DENIED);
    ck_assert_msg(strstr(d.msg, "1826"), "%s", d.msg);
}
END_TEST

/* ---- the command line ------------------------------------------------------------- */

/* user --help shows the recovery verbs and how passwd reads stdin; a
 * user changes their own password with two lines on stdin, and without a
 * terminal or --password-stdin nothing is asked or changed. */
START_TEST(test_G1_user_commands_cli)
{
    fs_gate_close(g);
    g = NULL;
    static const char *const help[] = { "user", "--help", NULL };
    tu_expect_on(gal, 0, "user passwd [NAME]", NULL, help);
    tu_expect_on(gal, 0, "first line current, second line new", NULL, help);
    tu_expect_on(gal, 0, "user unlock NAME", NULL, help);
    static const char *const unlock[] = { "user", "unlock", "eve", NULL };
    as("admin");
    tu_expect_on(gal, 0, "unlocked user eve", NULL, unlock);
    static const char *const own[] = { "user", "passwd",
                                       "--password-stdin", NULL };
    static const char *const tty[] = { "user", "passwd", NULL };
    as("eve");
    ck_assert_int_eq(tu_login(gal, "eve", PW), 0);
    tu_expect_on(gal, 2, "--password-stdin", NULL, tty);
    tu_expect_on(gal, 1, "G2", NULL, unlock);
    tu_expect_on(gal, 1, "current password is wrong",
                 "Wrong-Passw0rd-1\nNext-Passw0rd-91\n", own);
    tu_expect_on(gal, 0, "password of eve set",
                 PW "\nNext-Passw0rd-91\n", own);
    ck_assert_int_eq(tu_login(gal, "eve", PW), 1);
    ck_assert_int_eq(tu_login(gal, "eve", "Next-Passw0rd-91"), 0);
    reopen();
}
END_TEST

static void acc_setup_service(void)
{
    fs_engine_options o = { .model_path = tu_model_path(), .threads = 1,
                            .max_batch = 1 };
    fs_engine *e;
    ck_assert_int_eq(fs_engine_open(&o, &e, NULL), FS_OK);
    snprintf(model_id, sizeof model_id, "%s", fs_engine_model_id(e));
    snprintf(model_sha256, sizeof model_sha256, "%s",
             fs_engine_model_sha256(e));
    fs_engine_close(e);
    acc_setup();
    tu_service_mode(1);
}

/* The accounts' tests, in this process or through the service.  Through
 * the service only the one that runs the command line: the others drive
 * the gate through the library in this process, which service mode does
 * not change (running them twice would only cost time). */
TCase *tcase_accounts(int through_service)
{
    TCase *tc = tcase_create(through_service ? "accounts-through-service"
                                             : "accounts");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, through_service ? acc_setup_service
                              : acc_setup, acc_teardown);
    if (through_service) {
        tcase_add_test(tc, test_G1_user_commands_cli);
        return tc;
    }
    tcase_add_test(tc, test_G1_planted_session_row_opens_nothing);
    tcase_add_test(tc, test_G1_new_password_ends_the_other_sessions);
    tcase_add_test(tc, test_G1_G3_account_edited_offline_refused);
    tcase_add_test(tc, test_G1_no_password_hash_or_account_in_plain);
    tcase_add_test(tc, test_G2_enable_unlock_passwd_admin_only_audited);
    tcase_add_test(tc, test_G1_passwd_own_needs_the_current_password);
    tcase_add_test(tc, test_G1_one_answer_for_unknown_wrong_locked_disabled);
    tcase_add_test(tc, test_G1_G18_profile_floors);
    tcase_add_test(tc, test_G18_profile_name_cannot_lower_the_floors);
    tcase_add_test(tc, test_G1_user_commands_cli);
    return tc;
}

Suite *suite_accounts(void)
{
    Suite *s = suite_create("accounts");
    suite_add_tcase(s, tcase_accounts(0));
    return s;
}
