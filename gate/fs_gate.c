/*
 * fs_gate.c - the gate's life cycle: creating a gallery with its keys and
 * first administrator, opening and unlocking one, the begin/commit pair
 * that puts every change on the audit trail, and key rotation.
 */
#include "fs_gate_int.h"

#include <errno.h>
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

int gate_meta_get(fs_gallery_batch *b, const char *name, char *out,
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

int gate_meta_put(fs_gallery_batch *b, const char *name, const void *val,
                  size_t len, fs_detail *d)
{
    return fs_record_put(b, GT_META, name, strlen(name), val, len, 0, d);
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

const fs_profile *fs_gate_profile(const fs_gate *g) { return &g->profile; }

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
    static const char *const files[] = { "data.mdb", "lock.mdb" };
    char path[4200];
    for (size_t i = 0; i < 2; i++) {
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
        rc = gate_keys_wrap(g, g->kek, wrapped);
    if (rc == FS_OK)
        rc = gate_meta_put(b, "id", g->id_hex, strlen(g->id_hex), d);
    if (rc == FS_OK)
        rc = gate_meta_put(b, "keys", wrapped, sizeof wrapped, d);
    if (rc == FS_OK)
        rc = gate_meta_put(b, "key_path", g->key_path, strlen(g->key_path),
                           d);
    if (rc == FS_OK)
        rc = gate_meta_put(b, "profile", g->profile_text,
                           strlen(g->profile_text), d);
    if (rc == FS_OK)
        rc = gate_user_create(b, &g->who, f->in->password,
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
    if (rc != FS_OK)
        return rc;
    fs_gate *g = calloc(1, sizeof *g);
    if (!g)
        return fs_fail(d, FS_ENOMEM, "no memory for the gate");
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
    char cwd[2048];
    if (in->key_file)          /* recorded absolute: later commands run */
        rc = snprintf(g->key_path, sizeof g->key_path, "%s%s%s",   /* from */
                      in->key_file[0] == '/' ? "" :                /* anywhere */
                      getcwd(cwd, sizeof cwd) ? cwd : ".",
                      in->key_file[0] == '/' ? "" : "/", in->key_file)
             < (int)sizeof g->key_path ? FS_OK
             : fs_fail(d, FS_EINVAL, "key file path too long");
    else
        rc = gate_keyfile_default(g->id, g->key_path, sizeof g->key_path, d);
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
                              .model_sha256 = in->model_sha256 };
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

/* Unwraps the keys with the key file at path; when that fails and a
 * rotation left its new file (path.new) unrenamed, finishes it. */
static int unlock_keys(fs_gate *g, const uint8_t *wrapped, const char *path,
                       fs_detail *d)
{
    char next[4200];
    snprintf(next, sizeof next, "%s.new", path);
    const char *try[2] = { path, next };
    int rc = FS_EKEY;
    fs_detail first = { "" };
    for (int i = 0; i < 2 && rc != FS_OK; i++) {
        if (i == 1 && access(next, F_OK) != 0)
            break;
        rc = gate_keyfile_read(try[i], g->id_hex, g->kek,
                               i ? NULL : &first);
        if (rc == FS_OK && gate_keys_unwrap(g, g->kek, wrapped) != FS_OK)
            rc = fs_fail(i ? NULL : &first, FS_EKEY, "key file '%s' does "
                         "not open this gallery's keys (a rotated-out or "
                         "foreign key)", try[i]);
        if (rc == FS_OK && i == 1 && rename(next, path) != 0)
            rc = fs_fail(&first, FS_EKEY, "cannot finish the key rotation "
                         "(rename '%s'): %s", next, strerror(errno));
    }
    if (rc != FS_OK)
        return fs_fail(d, FS_EKEY, "%s", first.msg);
    snprintf(g->key_path, sizeof g->key_path, "%s", path);
    return FS_OK;
}

int fs_gate_open(const char *dir, const fs_gate_options *opt, fs_gate **out,
                 fs_detail *d)
{
    static const fs_gate_options none = { 0 };
    if (!opt)
        opt = &none;
    fs_gate *g = calloc(1, sizeof *g);
    if (!g)
        return fs_fail(d, FS_ENOMEM, "no memory for the gate");
    snprintf(g->dir, sizeof g->dir, "%s", dir ? dir : "");
    fs_gallery_options go = { .model_id = opt->model_id,
                              .model_sha256 = opt->model_sha256 };
    int rc = fs_gallery_open(dir, &go, &g->gal, d);
    fs_gallery_batch *b = NULL;
    if (rc == FS_OK)
        rc = fs_gallery_begin_read(g->gal, &b, d);
    char path[4096];
    uint8_t wrapped[GATE_WRAPPED_BYTES];
    fs_record r;
    if (rc == FS_OK) {
        rc = gate_meta_get(b, "id", g->id_hex, sizeof g->id_hex, d);
        if (rc == FS_NOTFOUND)
            rc = fs_fail(d, FS_EFORMAT, "'%s' is a gallery without "
                         "accounts or keys: make galleries with "
                         "'facesearch init'", dir);
    }
    if (rc == FS_OK && fs_unhex(g->id_hex, g->id, sizeof g->id) != FS_OK)
        rc = fs_fail(d, FS_EFORMAT, "the gallery's id is damaged");
    if (rc == FS_OK)
        rc = gate_meta_get(b, "key_path", path, sizeof path, d);
    if (rc == FS_OK &&
        (rc = fs_record_get(b, GT_META, "keys", 4, &r, d)) == FS_OK) {
        if (r.vlen != sizeof wrapped)
            rc = fs_fail(d, FS_EFORMAT, "the gallery's wrapped keys are "
                         "damaged");
        else
            memcpy(wrapped, r.val, sizeof wrapped);
    }
    if (rc == FS_OK &&
        (rc = fs_record_get(b, GT_META, "profile", 7, &r, d)) == FS_OK) {
        g->profile_text = strndup((const char *)r.val, r.vlen);
        rc = g->profile_text ? fs_profile_parse(g->profile_text, r.vlen,
                                                &g->profile, d)
                             : fs_fail(d, FS_ENOMEM, "no memory");
    }
    if (b)
        fs_gallery_abort(b);
    if (rc == FS_NOTFOUND)
        rc = fs_fail(d, FS_EFORMAT, "gallery '%s' lacks one of its gate "
                     "records (damaged)", dir);
    if (rc == FS_OK)
        rc = unlock_keys(g, wrapped, opt->key_file ? opt->key_file : path,
                         d);
    if (rc == FS_OK) {
        rc = fs_gallery_unlock(g->gal, g->data_key, d);
        if (rc == FS_EINVAL)       /* init always seals: meta was edited */
            rc = fs_fail(d, FS_ETAMPER, "gallery '%s' no longer says it is "
                         "sealed: its meta record was tampered with", dir);
    }
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
    return fs_gallery_commit(b, d);
}

int gate_change(fs_gate *g,
                int (*change)(void *ctx, fs_gallery_batch *b, fs_detail *d),
                void *ctx, const fs_audit_entry *e, fs_detail *d)
{
    fs_gallery_batch *b;
    int rc = gate_begin(g, &b, d);
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
            fs_gallery_commit(b, NULL);
        else
            fs_gallery_abort(b);
    }
    return rc;
}

static int note(fs_gate *g, const fs_audit_entry *e, fs_detail *d)
{
    fs_gallery_batch *b;
    int rc = gate_begin(g, &b, d);
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

typedef struct meta_value {
    const char *name;
    const void *val;
    size_t      len;
} meta_value;

static int put_meta_value(void *ctx, fs_gallery_batch *b, fs_detail *d)
{
    const meta_value *v = ctx;
    return gate_meta_put(b, v->name, v->val, v->len, d);
}

int fs_gate_set_profile(fs_gate *g, const char *text, size_t len,
                        fs_detail *d)
{
    fs_profile p;
    int rc = gate_require(g, FS_ROLE_ADMIN, 0, "profile set", d);
    if (rc == FS_OK)
        rc = fs_profile_parse(text, len, &p, d);
    if (rc != FS_OK)
        return rc;
    char *copy = strndup(text, len);
    if (!copy)
        return fs_fail(d, FS_ENOMEM, "no memory for the profile");
    char objects[128];
    snprintf(objects, sizeof objects, "profile %s -> %s (%zu bytes)",
             g->profile.name, p.name, len);
    meta_value v = { "profile", copy, len };
    fs_audit_entry e = { "profile set", NULL, NULL, objects, "ok" };
    rc = gate_change(g, put_meta_value, &v, &e, d);
    if (rc != FS_OK) {
        free(copy);
        return rc;
    }
    free(g->profile_text);
    g->profile_text = copy;
    g->profile = p;
    return FS_OK;
}

/* ---- key rotation -------------------------------------------------------------------- */

int fs_gate_key_rotate(fs_gate *g, fs_detail *d)
{
    int rc = gate_require(g, FS_ROLE_ADMIN, 0, "key rotate", d);
    if (rc != FS_OK)
        return rc;
    uint8_t kek[FS_KEY_BYTES], wrapped[GATE_WRAPPED_BYTES];
    char next[4200];
    snprintf(next, sizeof next, "%s.new", g->key_path);
    unlink(next);                 /* a stale one: the current key works */
    rc = fs_random(kek, sizeof kek) == FS_OK
         ? gate_keys_wrap(g, kek, wrapped) : FS_EINTERNAL;
    if (rc == FS_OK)
        rc = gate_keyfile_create(next, g->id_hex, kek, d);
    if (rc == FS_OK) {
        meta_value v = { "keys", wrapped, sizeof wrapped };
        fs_audit_entry e = { "key rotate", NULL, NULL, g->key_path, "ok" };
        rc = gate_change(g, put_meta_value, &v, &e, d);
    }
    if (rc != FS_OK) {
        unlink(next);
    } else if (rename(next, g->key_path) != 0) {
        /* The gallery already wants the new key; open picks it up. */
        rc = fs_fail(d, FS_EIO, "the keys are re-wrapped but '%s' could not "
                     "replace '%s' (%s): the next open finishes it", next,
                     g->key_path, strerror(errno));
    } else {
        memcpy(g->kek, kek, sizeof kek);
    }
    fs_wipe(kek, sizeof kek);
    return rc;
}
