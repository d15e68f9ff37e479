/*
 * fs_gate.c - the gate's life cycle: creating a gallery with its keys and
 * first administrator, opening and unlocking one, the begin/commit pair
 * that puts every change on the audit trail, and key rotation.
 */
#include "fs_gate_int.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The shipped profiles, compiled in from gate/profiles/ (Makefile). */
extern const char *const fs_profile_texts[];

const char *fs_profile_builtin(const char *name)
{
    for (int i = 0; fs_profile_names[i]; i++)
        if (strcmp(fs_profile_names[i], name) == 0)
            return fs_profile_texts[i];
    return NULL;
}

/* The records read before the key is known (the id, the wrapped keys and
 * where the key file is) are plain; the wrapped keys' associated data
 * binds the other two, so an edit of either fails the unwrap. */
int gate_meta_plain_get(fs_gallery_batch *b, const char *name, char *out,
                        size_t cap, fs_detail *d)
{
    fs_record r;
    int rc = fs_record_get(b, GT_META, name, strlen(name), &r, d);
    if (rc != FS_OK)
        return rc;
    if (r.vlen >= cap)
        return fs_fail(d, FS_EFORMAT, "the gate's '%s' record is damaged",
                       name);
    memcpy(out, r.val, r.vlen);
    out[r.vlen] = 0;
    return FS_OK;
}

int gate_meta_plain_put(fs_gallery_batch *b, const char *name,
                        const void *val, size_t len, fs_detail *d)
{
    return fs_record_put(b, GT_META, name, strlen(name), val, len, 0, d);
}

int gate_meta_get(fs_gate *g, fs_gallery_batch *b, const char *name,
                  char *out, size_t cap, fs_detail *d)
{
    uint8_t *v;
    size_t len;
    int rc = gate_sealed_get(g, b, GT_META, name, strlen(name), &v, &len, d);
    if (rc != FS_OK)
        return rc;
    if (len >= cap || memchr(v, 0, len))
        rc = fs_fail(d, FS_EFORMAT, "the gate's '%s' record is damaged",
                     name);
    else
        memcpy(out, v, len), out[len] = 0;
    fs_wipe(v, len);
    free(v);
    return rc;
}

int gate_meta_put(fs_gate *g, fs_gallery_batch *b, const char *name,
                  const void *val, size_t len, fs_detail *d)
{
    return gate_sealed_put(g, b, GT_META, name, strlen(name), val, len, d);
}

static void gate_free(fs_gate *g)
{
    if (!g)
        return;
    if (g->gal)
        fs_gallery_close(g->gal);
    free(g->profile_text);
    fs_wipe(g, sizeof *g);
    free(g);
}

void fs_gate_close(fs_gate *g)
{
    gate_free(g);
}

int fs_gate_warm(fs_gate *g, fs_engine *e, fs_detail *d)
{
    fs_ranker *rk;
    return gate_ranker(g, e, &rk, d);
}

void fs_gate_set_opener(fs_gate *g, const fs_opener *o)
{
    g->opener = o;
}

const char *fs_gate_id(const fs_gate *g)
{
    return g->id_hex;
}

const fs_profile *fs_gate_profile(const fs_gate *g) { return &g->profile; }

/* With rc FS_OK, the handle's profile from now on: text (its own now) and
 * its parse p; else the old one stays.  Frees what it does not keep, and
 * returns rc. */
static int profile_keep(fs_gate *g, int rc, char *text, fs_profile *p)
{
    if (rc == FS_OK) {
        free(g->profile_text);
        g->profile_text = text;
        g->profile = *p;
    } else {
        free(text);
    }
    free(p);
    return rc;
}

int gate_profile_now(fs_gate *g, fs_gallery_batch *b, fs_detail *d)
{
    uint8_t *text = NULL;
    size_t len = 0;
    int rc = gate_sealed_get(g, b, GT_META, "profile", 7, &text, &len, d);
    if (rc == FS_NOTFOUND)      /* init writes it first: removed since */
        return fs_fail(d, FS_ETAMPER, "gallery '%s' lacks its profile "
                       "record (removed)", g->dir);
    if (rc != FS_OK)
        return rc;
    if (g->profile_text && strlen(g->profile_text) == len &&
        memcmp(g->profile_text, text, len) == 0) {
        free(text);
        return FS_OK;
    }
    char *copy = strndup((const char *)text, len);
    fs_profile *p = malloc(sizeof *p);
    free(text);
    rc = copy && p ? fs_profile_parse(copy, len, p, d)
                   : fs_fail(d, FS_ENOMEM, "no memory for the profile");
    return profile_keep(g, rc, copy, p);
}

int fs_gate_profile_show(fs_gate *g, const char **text, fs_detail *d)
{
    int rc = gate_require_read(g, 0, "profile show", g->profile.name, d);
    if (rc == FS_OK)
        *text = g->profile_text;
    return rc;
}
const char *fs_gate_key_path(const fs_gate *g) { return g->key_path; }

/* ---- creating ---------------------------------------------------------------- */

/* Removes a half-made gallery directory (only the files LMDB makes). */
static void remove_gallery_dir(const char *dir)
{
    static const char *const files[] = { "data.mdb", "lock.mdb",
                                         "gallery.lock" };
    char path[4200];
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}

typedef struct first_records {
    fs_gate             *g;
    const fs_gate_init  *in;
} first_records;

static int put_first_records(void *ctx, fs_gallery_batch *b, fs_detail *d)
{
    const first_records *f = ctx;
    fs_gate *g = f->g;
    uint8_t wrapped[GATE_WRAPPED_BYTES];
    int rc = fs_gallery_unlock(g->gal, g->data_key, d);
    if (rc == FS_OK)
        rc = gate_keys_wrap(g, g->kek, g->key_path, wrapped);
    if (rc == FS_OK)
        rc = gate_meta_plain_put(b, "id", g->id_hex, strlen(g->id_hex), d);
    if (rc == FS_OK)
        rc = gate_meta_plain_put(b, "keys", wrapped, sizeof wrapped, d);
    if (rc == FS_OK)
        rc = gate_meta_plain_put(b, "key_path", g->key_path,
                                 strlen(g->key_path), d);
    if (rc == FS_OK)
        rc = gate_meta_put(g, b, "profile", g->profile_text,
                           strlen(g->profile_text), d);
    if (rc == FS_OK)
        rc = gate_meta_put(g, b, "anchor", g->anchor_path,
                           strlen(g->anchor_path), d);
    if (rc == FS_OK)
        rc = gate_user_create(g, b, &g->who, f->in->password,
                              g->profile.password_min_length, d);
    if (rc == FS_OK)
        rc = gate_audit_start(g, b, d);
    return rc;
}

/* The gallery's first commit: keys, profile, administrator, the trail's
 * base, and the init entry by that administrator. */
static int create_records(fs_gate *g, const fs_gate_init *in, fs_detail *d)
{
    memset(&g->who, 0, sizeof g->who);
    snprintf(g->who.name, sizeof g->who.name, "%s", in->admin);
    snprintf(g->who.unit, sizeof g->who.unit, "%s", in->unit);
    g->who.roles = FS_ROLE_ADMIN;
    g->have_who = 1;
    char objects[160];
    snprintf(objects, sizeof objects, "gallery %s, profile %s, admin %s",
             g->id_hex, g->profile.name, g->who.name);
    fs_audit_entry e = { "init", NULL, NULL, objects, "ok" };
    first_records f = { g, in };
    return gate_change(g, put_first_records, &f, &e, d);
}

int fs_gate_create(const char *dir, const fs_gate_init *in, char *key_path,
                   size_t key_path_cap, fs_detail *d)
{
    struct stat st;
    if (!dir || !*dir)
        return fs_fail(d, FS_EINVAL, "no gallery directory given");
    if (stat(dir, &st) == 0)
        return fs_fail(d, FS_EXISTS, "'%s' already exists: init makes a new "
                       "gallery and never reuses a directory", dir);
    int rc = fs_user_check_name(in->admin, d);
    if (rc == FS_OK)
        rc = fs_secure_process(d);
    if (rc != FS_OK)
        return rc;
    fs_gate *g = calloc(1, sizeof *g);
    if (!g)
        return fs_fail(d, FS_ENOMEM, "no memory for the gate");
    gate_caller_default(g);
    g->profile_text = strndup(in->profile_text, in->profile_len);
    if (!g->profile_text) {
        gate_free(g);
        return fs_fail(d, FS_ENOMEM, "no memory for the profile");
    }
    if ((rc = fs_profile_parse(in->profile_text, in->profile_len,
                               &g->profile, d)) != FS_OK ||
        (rc = fs_password_check(in->password, in->admin,
                                g->profile.password_min_length, d)) != FS_OK) {
        gate_free(g);
        return rc;
    }
    if (fs_random(g->id, sizeof g->id) || fs_random(g->kek, FS_KEY_BYTES) ||
        fs_random(g->data_key, FS_KEY_BYTES) ||
        fs_random(g->audit_key, FS_KEY_BYTES)) {
        gate_free(g);
        return fs_fail(d, FS_EINTERNAL, "the random generator failed");
    }
    fs_hex(g->id, sizeof g->id, g->id_hex);
    /* recorded absolute: later commands run from anywhere */
    rc = in->key_file ? gate_path_absolute(in->key_file, g->key_path, d)
         : gate_keyfile_default(g->id, g->key_path, sizeof g->key_path, d);
    if (rc == FS_OK)
        rc = gate_keyfile_outside(g->key_path, dir, d);
    if (rc == FS_OK)
        rc = in->anchor_file ? gate_path_absolute(in->anchor_file, g->anchor_path,
                                             d)
             : fs_gate_anchor_default(g->key_path, g->anchor_path,
                                     sizeof g->anchor_path);
    if (rc == FS_OK)
        rc = gate_keyfile_outside(g->anchor_path, dir, d);
    if (rc != FS_OK) {
        gate_free(g);
        return rc;
    }
    /* Built beside its final place and renamed in at the end, so a crash
     * leaves no half-made gallery under the name. */
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.init-%s", dir, g->id_hex);
    rc = gate_keyfile_create(g->key_path, g->id_hex, g->kek, d);
    if (rc != FS_OK) {
        gate_free(g);
        return rc;
    }
    fs_gallery_options go = { .create = 1, .sealed = 1,
                              .model_id = in->model_id,
                              .model_sha256 = in->model_sha256,
                              .recipe = in->recipe };
    rc = fs_gallery_open(tmp, &go, &g->gal, d);
    if (rc == FS_OK)
        rc = create_records(g, in, d);
    if (g->gal) {
        fs_gallery_close(g->gal);
        g->gal = NULL;
    }
    if (rc == FS_OK && rename(tmp, dir) != 0)
        rc = fs_fail(d, fs_errno_code(errno), "cannot move the new gallery "
                     "to '%s': %s", dir, strerror(errno));
    if (rc != FS_OK) {
        remove_gallery_dir(tmp);
        unlink(g->key_path);
    } else if (snprintf(key_path, key_path_cap, "%s", g->key_path) >=
               (int)key_path_cap) {
        rc = fs_fail(d, FS_EINVAL, "key path too long");
    }
    gate_free(g);
    return rc;
}

/* ---- opening ------------------------------------------------------------------ */

/* Unwraps the keys with the key file at path, else with the one a key
 * rotation had committed but not yet put in place (crash between the two:
 * meta "key.pending" names it), which is then moved into place. */
static int unlock_keys(fs_gate *g, fs_gallery_batch *b,
                       const uint8_t *wrapped, const char *recorded,
                       const char *path, fs_detail *d)
{
    char pending[4096] = "";
    if (gate_meta_plain_get(b, "key.pending", pending, sizeof pending, NULL)
        != FS_OK || !strcmp(pending, path))
        pending[0] = 0;
    const char *try[2] = { path, pending };
    int rc = FS_EKEY;
    fs_detail first = { "" };
    for (int i = 0; i < 2 && rc != FS_OK; i++) {
        if (i == 1 && (!pending[0] || access(pending, F_OK) != 0))
            break;
        rc = gate_keyfile_read(try[i], g->id_hex, g->kek,
                               i ? NULL : &first);
        if (rc == FS_OK &&
            gate_keys_unwrap(g, g->kek, recorded, wrapped) != FS_OK)
            rc = fs_fail(i ? NULL : &first, FS_EKEY, "key file '%s' does "
                         "not open this gallery's keys (a rotated-out or "
                         "foreign key, or the gallery's key records were "
                         "edited)", try[i]);
        if (rc == FS_OK && i == 1 &&
            gate_file_replace(pending, path, &first) != FS_OK)
            rc = FS_EKEY;
    }
    if (rc != FS_OK)
        return fs_fail(d, FS_EKEY, "%s", first.msg);
    snprintf(g->key_path, sizeof g->key_path, "%s", path);
    return FS_OK;
}

/* The gate's records read before and after the keys are known. */
static int open_records(fs_gate *g, const fs_gate_options *opt,
                        fs_detail *d)
{
    fs_gallery_batch *b;
    int rc = fs_gallery_begin_read(g->gal, &b, d);
    if (rc != FS_OK)
        return rc;
    char path[4096];
    fs_record r;
    rc = gate_meta_plain_get(b, "id", g->id_hex, sizeof g->id_hex, d);
    if (rc == FS_NOTFOUND)
        rc = fs_fail(d, FS_EFORMAT, "'%s' is a gallery without accounts or "
                     "keys: make galleries with 'facesearch init'", g->dir);
    if (rc == FS_OK && fs_unhex(g->id_hex, g->id, sizeof g->id) != FS_OK)
        rc = fs_fail(d, FS_ETAMPER, "the gallery's id record is damaged");
    if (rc == FS_OK)
        rc = gate_meta_plain_get(b, "key_path", path, sizeof path, d);
    if (rc == FS_OK &&
        (rc = fs_record_get(b, GT_META, "keys", 4, &r, d)) == FS_OK &&
        r.vlen != GATE_WRAPPED_BYTES)
        rc = fs_fail(d, FS_ETAMPER, "the gallery's wrapped keys are "
                     "damaged");
    if (rc == FS_OK)
        rc = gate_keyfile_outside(opt->key_file ? opt->key_file : path,
                                  g->dir, d);
    if (rc == FS_OK)
        rc = unlock_keys(g, b, r.val, path,
                         opt->key_file ? opt->key_file : path, d);
    if (rc == FS_OK) {
        rc = fs_gallery_unlock(g->gal, g->data_key, d);
        if (rc == FS_EINVAL)       /* init always seals: meta was edited */
            rc = fs_fail(d, FS_ETAMPER, "gallery '%s' no longer says it is "
                         "sealed: its meta record was tampered with",
                         g->dir);
    }
    if (rc == FS_OK)
        rc = gate_profile_now(g, b, d);
    if (rc == FS_OK)
        rc = gate_meta_get(g, b, "anchor", g->anchor_path,
                           sizeof g->anchor_path, d);
    fs_gallery_abort(b);
    if (rc == FS_NOTFOUND)
        rc = fs_fail(d, FS_ETAMPER, "gallery '%s' lacks one of its gate "
                     "records (removed)", g->dir);
    return rc;
}

int fs_gate_open(const char *dir, const fs_gate_options *opt, fs_gate **out,
                 fs_detail *d)
{
    static const fs_gate_options none = { 0 };
    if (!opt)
        opt = &none;
    /* the keys are about to be in this process's memory: no core dump
     * or same-user debugger may take them, whatever the front end */
    int rc = fs_secure_process(d);
    if (rc != FS_OK)
        return rc;
    fs_gate *g = calloc(1, sizeof *g);
    if (!g)
        return fs_fail(d, FS_ENOMEM, "no memory for the gate");
    gate_caller_default(g);
    snprintf(g->dir, sizeof g->dir, "%s", dir ? dir : "");
    fs_gallery_options go = { .model_id = opt->model_id,
                              .model_sha256 = opt->model_sha256,
                              .warm = opt->warm,
                              .nowait = opt->nowait,
                              .alone_wait_ms = opt->alone_wait_ms };
    rc = fs_gallery_open(dir, &go, &g->gal, d);
    if (rc == FS_OK)
        rc = open_records(g, opt, d);
    if (rc != FS_OK) {
        gate_free(g);
        return rc;
    }
    *out = g;
    return FS_OK;
}

/* ---- actions ---------------------------------------------------------------------- */

int gate_begin(fs_gate *g, fs_gallery_batch **b, fs_detail *d)
{
    g->anchor_pending = 0;
    return fs_gallery_begin(g->gal, b, d);
}

int gate_read(fs_gate *g, fs_gallery_batch **b, fs_detail *d)
{
    return fs_gallery_begin_read(g->gal, b, d);
}

int gate_audit(fs_gate *g, fs_gallery_batch *b, const fs_audit_entry *e,
                  fs_detail *d)
{
    if (!g->have_who)
        return fs_fail(d, FS_ESESSION, "no session: nothing runs "
                       "anonymously (G1)");
    return gate_audit_append(g, b, g->who.name, g->who.unit, e, d);
}

int gate_commit(fs_gate *g, fs_gallery_batch *b, const fs_audit_entry *e,
                fs_detail *d)
{
    int rc = gate_audit(g, b, e, d);
    if (rc != FS_OK) {
        fs_gallery_abort(b);
        return rc;
    }
    return gate_txn_commit(g, b, d);
}

int gate_begin_standing(fs_gate *g, fs_gallery_batch **b,
                        const fs_audit_entry *e, fs_detail *d)
{
    int rc = gate_begin(g, b, d);
    if (rc != FS_OK || (rc = gate_standing_now(g, *b, d)) == FS_OK)
        return rc;
    fs_gallery_abort(*b);
    return gate_standing_refused(rc)
           ? gate_refusal(g, g->who.name, g->who.unit, e->action, e->objects,
                          rc, d)
           : rc;
}

int gate_change(fs_gate *g,
                int (*change)(void *ctx, fs_gallery_batch *b, fs_detail *d),
                void *ctx, const fs_audit_entry *e, fs_detail *d)
{
    fs_gallery_batch *b;
    int rc = gate_begin_standing(g, &b, e, d);
    if (rc != FS_OK)
        return rc;
    if ((rc = change(ctx, b, d)) != FS_OK) {
        fs_gallery_abort(b);
        /* a change the rules or its input refused is on the trail too */
        if (rc == FS_DENIED || rc == FS_EINVAL || rc == FS_EXISTS ||
            rc == FS_NOTFOUND)
            gate_refusal(g, g->who.name, g->who.unit, e->action, e->objects,
                         rc, d);
        return rc;
    }
    return gate_commit(g, b, e, d);
}

int gate_refusal(fs_gate *g, const char *user, const char *unit,
                 const char *action, const char *objects, int rc,
                 const fs_detail *why)
{
    char outcome[600];
    snprintf(outcome, sizeof outcome, "refused: %s",
             why && why->msg[0] ? why->msg : fs_strerror(rc));
    fs_audit_entry e = { action, NULL, NULL, objects, outcome };
    fs_gallery_batch *b;
    if (gate_begin(g, &b, NULL) == FS_OK) {
        if (gate_audit_append(g, b, user, unit, &e, NULL) == FS_OK)
            gate_txn_commit(g, b, NULL);
        else
            fs_gallery_abort(b);
    }
    return rc;
}

static int note(fs_gate *g, const fs_audit_entry *e, fs_detail *d)
{
    fs_gallery_batch *b;
    int rc = gate_begin_standing(g, &b, e, d);
    return rc == FS_OK ? gate_commit(g, b, e, d) : rc;
}

int gate_note(fs_gate *g, const fs_audit_entry *e, fs_detail *d)
{
    return note(g, e, d);
}

int gate_note_read(fs_gate *g, const char *action, const char *objects,
                   fs_detail *d)
{
    fs_audit_entry e = { action, NULL, NULL, objects, "ok" };
    return note(g, &e, d);
}

int gate_require_read(fs_gate *g, unsigned any_of, const char *action,
                      const char *objects, fs_detail *d)
{
    int rc = gate_require(g, any_of, 0, action, d);
    return rc == FS_OK ? gate_note_read(g, action, objects, d) : rc;
}

/* ---- the profile ---------------------------------------------------------- */

/* The limits a profile change may not relax: the retention of the trail
 * (G18) and the login limits (G1).  at_least: the new value must not be
 * below the floor; else not above it. */
static const struct profile_floor {
    const char *key;
    size_t      off;
    int         at_least;
    const char *rule;
} profile_floors[] = {
    { "retention.audit_days", offsetof(fs_profile, retention_audit_days), 1,
      "G18" },
    { "login.max_failures", offsetof(fs_profile, login_max_failures), 0,
      "G1" },
    { "login.lockout_minutes", offsetof(fs_profile, login_lockout_minutes),
      1, "G1" },
    { "login.failure_delay_ms", offsetof(fs_profile, login_failure_delay_ms),
      1, "G1" },
    { "password.min_length", offsetof(fs_profile, password_min_length), 1,
      "G1" },
    { "session.hours", offsetof(fs_profile, session_hours), 0, "G1" },
};

static int floor_value(const fs_profile *p, const struct profile_floor *f)
{
    return *(const int *)((const char *)p + f->off);
}

/* The first floor of `floor` that p relaxes, or NULL. */
static const struct profile_floor *relaxed(const fs_profile *floor,
                                           const fs_profile *p)
{
    for (size_t i = 0; i < sizeof profile_floors / sizeof *profile_floors;
         i++) {
        const struct profile_floor *f = &profile_floors[i];
        int was = floor_value(floor, f), now = floor_value(p, f);
        if (!(f->at_least ? now >= was : now <= was))
            return f;
    }
    return NULL;
}

/* FS_DENIED naming the rule, the key and both values when p relaxes a
 * floor: the shipped profile of the current one's name, else (an
 * administrator's own profile) the current values.  A new name that is a
 * shipped policy's brings that policy's floors for every later change,
 * so it must be at least as strict: else a text named detroit with
 * lacris's values would pass, and detroit's own 365 days after it. */
static int check_floors(const fs_gate *g, const fs_profile *p, fs_detail *d)
{
    fs_profile shipped;
    const fs_profile *floor = &g->profile;
    const char *builtin = fs_profile_builtin(g->profile.name);
    if (builtin && fs_profile_parse(builtin, strlen(builtin), &shipped,
                                    NULL) == FS_OK)
        floor = &shipped;
    const char *kind = floor == &shipped ? "shipped" : "current";
    const struct profile_floor *f = relaxed(floor, p);
    if (f)
        return fs_fail(d, FS_DENIED, "%s: %s = %d would relax the %s %s "
                       "profile's %d (a profile change may %s it, not %s "
                       "it)", f->rule, f->key, floor_value(p, f), kind,
                       floor->name, floor_value(floor, f),
                       f->at_least ? "raise" : "lower",
                       f->at_least ? "lower" : "raise");
    const char *named = strcmp(p->name, g->profile.name) != 0
                        ? fs_profile_builtin(p->name) : NULL;
    if (!named)
        return FS_OK;
    fs_profile *next = malloc(sizeof *next);
    if (!next)
        return fs_fail(d, FS_ENOMEM, "no memory for the profile");
    int rc = FS_OK;
    if (fs_profile_parse(named, strlen(named), next, NULL) == FS_OK &&
        (f = relaxed(floor, next)))
        rc = fs_fail(d, FS_DENIED, "%s: the name %s would bring its shipped "
                     "%s = %d as the floor of later changes, laxer than the "
                     "%s %s profile's %d (a gallery may take the name of a "
                     "policy at least as strict as its own)", f->rule,
                     next->name, f->key, floor_value(next, f), kind,
                     floor->name, floor_value(floor, f));
    free(next);
    return rc;
}

typedef struct new_profile {
    fs_gate          *g;
    const fs_profile *p;
    const char       *text;
    size_t            len;
} new_profile;

/* Inside the change, so a refusal goes on the trail with what was tried. */
static int put_profile(void *ctx, fs_gallery_batch *b, fs_detail *d)
{
    const new_profile *np = ctx;
    int rc = check_floors(np->g, np->p, d);
    return rc == FS_OK ? gate_meta_put(np->g, b, "profile", np->text,
                                       np->len, d) : rc;
}

int fs_gate_set_profile(fs_gate *g, const char *text, size_t len,
                        fs_detail *d)
{
    fs_profile *p = malloc(sizeof *p);      /* large: the G6 phrases */
    if (!p)
        return fs_fail(d, FS_ENOMEM, "no memory for the profile");
    int rc = gate_require(g, FS_ROLE_ADMIN, 0, "profile set", d);
    if (rc == FS_OK)
        rc = fs_profile_parse(text, len, p, d);
    char *copy = rc == FS_OK ? strndup(text, len) : NULL;
    if (rc == FS_OK && !copy)
        rc = fs_fail(d, FS_ENOMEM, "no memory for the profile");
    if (rc != FS_OK) {
        free(p);
        return rc;
    }
    /* What changed, for the auditor: both texts by hash, and the keys. */
    uint8_t h[2][FS_SHA256_BYTES];
    char hex[2][2 * FS_SHA256_BYTES + 1], changed[700], objects[1024];
    fs_sha256(g->profile_text, strlen(g->profile_text), h[0]);
    fs_sha256(text, len, h[1]);
    fs_hex(h[0], sizeof h[0], hex[0]);
    fs_hex(h[1], sizeof h[1], hex[1]);
    int n = fs_profile_diff(&g->profile, p, changed, sizeof changed);
    snprintf(objects, sizeof objects, "profile %s -> %s (%zu bytes); "
             "sha256 %s -> %s; changed: %s", g->profile.name, p->name, len,
             hex[0], hex[1], n ? changed : "no value");
    new_profile np = { g, p, copy, len };
    fs_audit_entry e = { "profile set", NULL, NULL, objects, "ok" };
    rc = gate_change(g, put_profile, &np, &e, d);
    return profile_keep(g, rc, copy, p);
}
