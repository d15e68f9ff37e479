/*
 * fs_session.c - logging in, the session token, and who is acting.
 *
 * A session is 32 random bytes.  The user's copy is kept by the caller
 * (fs_gate_caller: their session file, fs_token.c, in their own process;
 * the service's client otherwise); the gallery keeps only its SHA-256
 * with the account, the expiry and the OS user who logged in, so a copy
 * of the gallery opens no session, nor does the token for anyone else.
 * A token whose hash the gallery does not hold (forged, ended, expired)
 * is refused.
 *
 * Session records are sealed under the data key and bound to the token's
 * hash, so a row written into the file by someone without the key file
 * (a session whose token they chose) opens nothing: FS_ETAMPER, audited.
 *
 * Failed logins cost the profile's delay, count against the account and
 * lock it for a while after too many in a row; each is audited (G18).
 * An unknown name, a wrong password, a locked and a disabled account get
 * the same answer after the same hash work and delay, so names and
 * account states cannot be probed; the trail keeps the true reason.
 */
#include "fs_gate_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../engine/base/fs_file.h"

#define TOKEN_BYTES FS_TOKEN_BYTES

/* The caller a gate starts with: this process's user and session file. */
static int file_load(void *ctx, uint8_t token[FS_TOKEN_BYTES], fs_detail *d)
{
    return fs_session_load(((fs_gate *)ctx)->id_hex, token, d);
}

static int file_save(void *ctx, const uint8_t token[FS_TOKEN_BYTES],
                     char *where, size_t cap, fs_detail *d)
{
    return fs_session_save(((fs_gate *)ctx)->id_hex, token, where, cap, d);
}

static int file_drop(void *ctx, char *where, size_t cap, fs_detail *d)
{
    return fs_session_drop(((fs_gate *)ctx)->id_hex, where, cap, d);
}

void gate_caller_default(fs_gate *g)
{
    g->caller = (fs_gate_caller){ (uint32_t)geteuid(), file_load, file_save,
                                  file_drop, g };
}

void fs_gate_set_caller(fs_gate *g, const fs_gate_caller *c)
{
    if (c)
        g->caller = *c;
    else
        gate_caller_default(g);
    g->have_who = 0;
    g->need.set = 0;
}

/* Session record, sealed under the data key and bound to GT_SESSIONS and
 * the token's hash, so a row planted with a hash of the attacker's choice
 * (or a real one moved there) opens nothing: user, created, expires
 * (unix seconds), and the uid of the OS user who logged in, the only one
 * the token serves. */
#define NO_UID UINT64_MAX          /* a record from before sessions had one */
#define SESSION_TAMPERED "a session record fails its check (edited, moved " \
                         "or planted without the key): refused"

static int session_unpack(const uint8_t *v, size_t len,
                          char user[FS_USER_MAX], int64_t *expires,
                          uint64_t *uid, fs_detail *d)
{
    fs_rbuf rb = { v, len, 0, 0 };
    fs_rbuf_str(&rb, user, FS_USER_MAX);
    (void)fs_rbuf_u64(&rb);
    *expires = (int64_t)fs_rbuf_u64(&rb);
    *uid = rb.off < rb.len ? fs_rbuf_u64(&rb) : NO_UID;
    return rb.bad || rb.off != rb.len
           ? fs_fail(d, FS_EFORMAT, "a session record is damaged") : FS_OK;
}

static int session_get(fs_gate *g, fs_gallery_batch *b,
                       const uint8_t hash[32], char user[FS_USER_MAX],
                       int64_t *expires, uint64_t *uid, fs_detail *d)
{
    uint8_t *v;
    size_t len;
    int rc = gate_sealed_get(g, b, GT_SESSIONS, hash, 32, &v, &len, d);
    if (rc == FS_ETAMPER)
        return fs_fail(d, FS_ETAMPER, SESSION_TAMPERED);
    if (rc != FS_OK)
        return rc;
    rc = session_unpack(v, len, user, expires, uid, d);
    free(v);
    return rc;
}

static int session_put(fs_gate *g, fs_gallery_batch *b,
                       const uint8_t hash[32], const char *user,
                       int64_t now, fs_detail *d)
{
    fs_wbuf w = { 0 };
    fs_wbuf_str(&w, user);
    fs_wbuf_u64(&w, (uint64_t)now);
    fs_wbuf_u64(&w, (uint64_t)(now + 3600LL * g->profile.session_hours));
    fs_wbuf_u64(&w, g->caller.uid);
    int rc = w.oom ? fs_fail(d, FS_ENOMEM, "no memory for a session")
                   : gate_sealed_put(g, b, GT_SESSIONS, hash, 32, w.p, w.len,
                                     d);
    fs_wbuf_free(&w);
    return rc;
}

/* One pass over the sessions, removing those past their expiry, those
 * that fail their check (they can never open a session, and keeping them
 * would let one planted row stop every login: *bad counts them, for the
 * entry), and with user, every session of that account but keep's. */
static int sweep_sessions(fs_gate *g, fs_gallery_batch *b, int64_t now,
                          const char *user, const uint8_t *keep, int *bad,
                          fs_detail *d)
{
    fs_record r;
    int rc = fs_record_seek(b, GT_SESSIONS, NULL, 0, 0, &r, d);
    *bad = 0;
    while (rc == FS_OK) {
        uint8_t key[FS_RECORD_KEY_MAX], *v;
        size_t klen = r.klen, len;
        char who[FS_USER_MAX] = "";
        int64_t expires = 0;
        uint64_t uid;
        memcpy(key, r.key, klen);
        int orc = gate_sealed_open(g, GT_SESSIONS, &r, &v, &len, NULL);
        if (orc == FS_OK) {
            orc = session_unpack(v, len, who, &expires, &uid, NULL);
            free(v);
        }
        if (orc == FS_ENOMEM)
            return fs_fail(d, orc, "no memory to read the sessions");
        *bad += orc != FS_OK;
        int ends = user && strcmp(who, user) == 0 &&
                   !(keep && klen == 32 && memcmp(key, keep, 32) == 0);
        if (orc != FS_OK || expires <= now || ends)
            rc = fs_record_del(b, GT_SESSIONS, key, klen, d);
        if (rc == FS_OK)
            rc = fs_record_seek(b, GT_SESSIONS, key, klen, 1, &r, d);
    }
    return rc == FS_NOTFOUND ? FS_OK : rc;
}

int gate_sessions_end(fs_gate *g, fs_gallery_batch *b, const char *user,
                      const uint8_t *keep, fs_detail *d)
{
    int bad;
    return sweep_sessions(g, b, (int64_t)time(NULL), user, keep, &bad, d);
}

static void pause_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
    while (ms > 0 && nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

int gate_login_failed(fs_gate *g, fs_gallery_batch *b, const char *name,
                      fs_user *u, const uint8_t pwrec[], const char *action,
                      const char *why, fs_detail *d)
{
    const fs_profile *p = &g->profile;
    char outcome[240];
    snprintf(outcome, sizeof outcome, "refused: %s (OS uid %u)", why,
             (unsigned)g->caller.uid);
    if (u && pwrec) {
        int64_t now = (int64_t)time(NULL);
        if (++u->failures >= p->login_max_failures) {
            u->locked_until = now + 60LL * p->login_lockout_minutes;
            u->failures = 0;
            snprintf(outcome, sizeof outcome, "refused: %s (OS uid %u); "
                     "account locked for %d minutes after %d failures", why,
                     (unsigned)g->caller.uid, p->login_lockout_minutes,
                     p->login_max_failures);
        }
        int wrc = gate_user_put(g, b, u, pwrec, d);
        if (wrc != FS_OK) {
            fs_gallery_abort(b);
            return wrc;
        }
    }
    fs_audit_entry e = { action, NULL, NULL, name, outcome };
    int arc = gate_audit_append(g, b, name, u ? u->unit : "", &e, d);
    if (arc == FS_OK)
        arc = gate_txn_commit(g, b, d);
    else
        fs_gallery_abort(b);
    if (arc == FS_OK)
        pause_ms(p->login_failure_delay_ms);
    return arc;
}

/* A refused login: audited under the name given with its true reason
 * (counted when it was a wrong password), then one answer whatever the
 * reason, after the same hash work and the same delay, so that unknown
 * names, locked and disabled accounts cannot be told apart from outside
 * (G1); only the trail knows which it was. */
static int login_refused(fs_gate *g, fs_gallery_batch *b, const char *name,
                         fs_user *u, const uint8_t *pwrec, const char *why,
                         fs_detail *d)
{
    int rc = gate_login_failed(g, b, name, u, pwrec, "login", why, d);
    if (rc != FS_OK)
        return rc;
    return fs_fail(d, FS_EAUTH, "login refused: wrong user name or "
                   "password, or the account is locked or disabled (an "
                   "admin can tell which)");
}

int fs_gate_login(fs_gate *g, const char *name, const char *password,
                  char *session_path, size_t cap, fs_detail *d)
{
    fs_gallery_batch *b;
    int rc = gate_begin(g, &b, d);
    if (rc != FS_OK)
        return rc;
    /* the lockout and the session's length of the profile in force, not
     * of the one this handle read when it opened (a service's, kept for
     * days, outlives a \`profile set\`) */
    if ((rc = gate_profile_now(g, b, d)) != FS_OK) {
        fs_gallery_abort(b);
        return rc;
    }
    fs_user u;
    uint8_t pwrec[GATE_PWREC_BYTES];
    int64_t now = (int64_t)time(NULL);
    rc = fs_user_check_name(name, NULL) == FS_OK
         ? gate_user_get(g, b, name, &u, pwrec, d) : FS_NOTFOUND;
    if (rc == FS_NOTFOUND) {
        uint8_t dummy[GATE_PWREC_BYTES];   /* the same work as a real try */
        gate_password_hash(password, dummy);
        return login_refused(g, b, name, NULL, NULL, "no such user", d);
    }
    if (rc != FS_OK) {
        fs_gallery_abort(b);
        return gate_refusal(g, name, "", "login", name, rc, d);
    }
    /* The hash is checked whatever the account's state: the same work.
     * Only a wrong password on an open account counts towards a lock. */
    int ok = gate_password_verify(password, pwrec);
    int open = !u.disabled && u.locked_until <= now;
    const char *why = u.disabled ? "account disabled (G3)"
                      : !open ? "account locked"
                      : !ok ? "wrong password" : NULL;
    if (why) {
        rc = login_refused(g, b, name, &u, open ? pwrec : NULL, why, d);
        fs_wipe(pwrec, sizeof pwrec);
        return rc;
    }

    uint8_t token[TOKEN_BYTES], hash[32], old[TOKEN_BYTES];
    int bad = 0;
    u.failures = 0;
    u.locked_until = 0;
    rc = gate_user_put(g, b, &u, pwrec, d);
    fs_wipe(pwrec, sizeof pwrec);
    if (rc == FS_OK && g->caller.load(g->caller.ctx, old, NULL) == FS_OK) {
        fs_sha256(old, sizeof old, hash);     /* this user's last session */
        int drc = fs_record_del(b, GT_SESSIONS, hash, 32, d);
        rc = drc == FS_NOTFOUND ? FS_OK : drc;
    }
    if (rc == FS_OK)
        rc = sweep_sessions(g, b, now, NULL, NULL, &bad, d);
    if (rc == FS_OK && fs_random(token, sizeof token) != FS_OK)
        rc = fs_fail(d, FS_EINTERNAL, "the random generator failed");
    if (rc == FS_OK) {
        fs_sha256(token, sizeof token, hash);
        rc = session_put(g, b, hash, u.name, now, d);
    }
    if (rc == FS_OK)
        rc = g->caller.save(g->caller.ctx, token, session_path, cap, d);
    fs_wipe(token, sizeof token);
    if (rc != FS_OK) {
        fs_gallery_abort(b);
        return rc;
    }
    g->who = u;
    g->have_who = 1;
    /* which OS user: a session serves only them */
    char outcome[200];
    int n = snprintf(outcome, sizeof outcome, "ok (OS uid %u)",
                     (unsigned)g->caller.uid);
    if (bad)
        snprintf(outcome + n, sizeof outcome - (size_t)n, "; %d session "
                 "record%s that failed %s check removed (tampered)", bad,
                 bad == 1 ? "" : "s", bad == 1 ? "its" : "their");
    fs_audit_entry e = { "login", NULL, NULL, u.name, outcome };
    return gate_commit(g, b, &e, d);
}

static int end_session(void *ctx, fs_gallery_batch *b, fs_detail *d)
{
    return fs_record_del(b, GT_SESSIONS, ctx, FS_SHA256_BYTES, d);
}

int fs_gate_logout(fs_gate *g, fs_detail *d)
{
    fs_user who;
    char path[4200];
    int rc = g->have_who ? FS_OK : fs_gate_session(g, 0, "logout", &who, d);
    if (rc != FS_OK)
        return rc;
    fs_audit_entry e = { "logout", NULL, NULL, g->who.name, "ok" };
    g->need.any_of = 0;              /* any account may end its session */
    g->need.trained = 0;
    rc = gate_change(g, end_session, g->session, &e, d);
    return rc == FS_OK ? g->caller.drop(g->caller.ctx, path, sizeof path, d)
                       : rc;
}

static const char *role_word(unsigned any_of, char *buf, size_t cap)
{
    fs_roles_format(any_of, buf, cap);
    for (char *c = buf; *c; c++)
        if (*c == ',')
            *c = '|';
    return buf;
}

/* A refused session check on record; the refusal's code returns. */
static int refused(fs_gate *g, const char *user, const char *unit,
                   const char *action, int rc, fs_detail *d)
{
    return gate_refusal(g, user, unit, action, NULL, rc, d);
}

/* Trained: a training date on record, and not one still to come (G3). */
static int trained_now(const fs_user *u)
{
    char today[11];
    time_t t = time(NULL);
    struct tm tm;
    strftime(today, sizeof today, "%Y-%m-%d", gmtime_r(&t, &tm));
    return gate_valid_date(u->trained) && strcmp(u->trained, today) <= 0;
}

/* The session of hash and its account as b holds them: the session on
 * record, this OS user's and unexpired; the account enabled, holding one
 * of any_of (0: any) and, with trained, trained.  The refusal's code and
 * reason; *u the account when it was found (else its name empty). */
static int standing(fs_gate *g, fs_gallery_batch *b, const uint8_t hash[32],
                    unsigned any_of, int trained, const char *action,
                    fs_user *u, fs_detail *d)
{
    char name[FS_USER_MAX] = "";
    int64_t expires = 0;
    uint64_t uid = NO_UID;
    memset(u, 0, sizeof *u);
    int rc = session_get(g, b, hash, name, &expires, &uid, d);
    if (rc == FS_OK)
        rc = gate_user_get(g, b, name, u, NULL, d);
    if (rc == FS_ETAMPER)         /* a planted or edited record: never */
        snprintf(u->name, sizeof u->name, "%s", name);
    if (rc == FS_NOTFOUND)
        return fs_fail(d, FS_ESESSION, "the session token is not valid here "
                       "(ended, forged or from another gallery): log in "
                       "again");
    if (rc != FS_OK)
        return rc;
    if (uid != g->caller.uid)     /* a copied token, or an old record */
        return fs_fail(d, FS_ESESSION, "the session of '%s' belongs to "
                       "another OS user than uid %u: a copied token opens "
                       "nothing; log in yourself", u->name,
                       (unsigned)g->caller.uid);
    if (expires <= (int64_t)time(NULL))
        return fs_fail(d, FS_ESESSION, "the session of '%s' has expired: "
                       "log in again", u->name);
    if (u->disabled)
        return fs_fail(d, FS_EDISABLED, "G3: account '%s' is disabled",
                       u->name);
    if (any_of && !(u->roles & any_of)) {
        char need[96], has[96];
        fs_roles_format(u->roles, has, sizeof has);
        return fs_fail(d, FS_DENIED, "G2: '%s' needs the role %s; %s holds "
                       "%s", action, role_word(any_of, need, sizeof need),
                       u->name, has);
    }
    if (trained && !trained_now(u))
        return fs_fail(d, FS_DENIED, "G3, G9: '%s' needs a trained "
                       "examiner; %s has no training on record%s", action,
                       u->name, u->trained[0] ? " that has taken place" : "");
    return FS_OK;
}

/* The session's standing checked for a verb, remembered for the checks
 * its write transactions make again (gate_standing_now). */
static int session_open(fs_gate *g, unsigned any_of, int trained,
                        const char *action, fs_user *who, fs_detail *d)
{
    uint8_t token[TOKEN_BYTES], hash[32];
    int rc = g->caller.load(g->caller.ctx, token, d);
    if (rc != FS_OK)
        return refused(g, "-", "", action, rc, d);
    fs_sha256(token, sizeof token, hash);
    fs_wipe(token, sizeof token);
    fs_gallery_batch *b;
    if ((rc = fs_gallery_begin_read(g->gal, &b, d)) != FS_OK)
        return rc;
    fs_user u;
    rc = gate_profile_now(g, b, d);
    if (rc == FS_OK)
        rc = standing(g, b, hash, any_of, trained, action, &u, d);
    fs_gallery_abort(b);
    if (gate_standing_refused(rc))
        return refused(g, u.name[0] ? u.name : "-", u.unit, action, rc, d);
    if (rc != FS_OK)
        return rc;
    g->who = u;
    g->have_who = 1;
    memcpy(g->session, hash, sizeof hash);
    g->need = (gate_need){ 1, any_of, trained, "" };
    snprintf(g->need.action, sizeof g->need.action, "%s", action);
    *who = u;
    return FS_OK;
}

int fs_gate_session(fs_gate *g, unsigned any_of, const char *action,
                    fs_user *who, fs_detail *d)
{
    return session_open(g, any_of, 0, action, who, d);
}

int gate_require(fs_gate *g, unsigned any_of, int trained,
                 const char *action, fs_detail *d)
{
    fs_user who;
    return session_open(g, any_of, trained, action, &who, d);
}

int gate_standing_refused(int rc)
{
    return rc == FS_ESESSION || rc == FS_EDISABLED || rc == FS_DENIED ||
           rc == FS_ETAMPER;
}

int gate_standing_now(fs_gate *g, fs_gallery_batch *b, fs_detail *d)
{
    if (!g->need.set)
        return FS_OK;
    fs_user u;
    int rc = gate_profile_now(g, b, d);
    if (rc == FS_OK)
        rc = standing(g, b, g->session, g->need.any_of, g->need.trained,
                      g->need.action, &u, d);
    if (rc == FS_OK)
        g->who = u;
    return rc;
}

