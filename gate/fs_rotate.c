/*
 * fs_rotate.c - keys that really rotate and removals that really remove
 * (G21, G20): the gallery rewritten so that what the old key opened, or
 * what was removed, is not in the live file any more.
 *
 * A rotation makes a new key-encryption key, data key and audit key,
 * re-seals every sealed record (the gate's and the index's), re-MACs the
 * audit trail, and wraps the new keys under the new KEK, all in one
 * batch; then the new key file replaces the old one and the environment
 * is compacted, so neither the old wrapped keys nor anything sealed under
 * the old data key survives in free pages.  The whole of it holds the
 * gallery's lock exclusive: no other handle, in this process or another,
 * is open meanwhile, so two rotations cannot interleave.
 *
 * Crash safety: the new key file is written first under a unique name
 * (never overwriting, directory synced) and the batch records that name
 * as "key.pending"; a crash after the commit but before the rename leaves
 * a gallery that fs_gate_open unlocks with the pending file and finishes.
 * A crash before the commit leaves a stale file no gallery needs, which
 * the next rotation removes.
 */
#include "fs_gate_int.h"

#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct rotation {
    fs_gate    *g;
    uint8_t     kek[FS_KEY_BYTES], data[FS_KEY_BYTES], audit[FS_KEY_BYTES];
    const char *pending;
} rotation;

static int rotate_in(void *ctx, fs_gallery_batch *b, fs_detail *d)
{
    rotation *x = ctx;
    fs_gate *g = x->g;
    int rc = gate_sealed_all(g, b, x->data, d);
    if (rc == FS_OK)
        rc = fs_gallery_rekey(b, x->data, d);
    if (rc == FS_OK)                 /* the trail last: g takes the key */
        rc = gate_audit_rekey(g, b, x->audit, d);
    if (rc != FS_OK)
        return rc;
    memcpy(g->data_key, x->data, FS_KEY_BYTES);
    uint8_t wrapped[GATE_WRAPPED_BYTES];
    rc = gate_keys_wrap(g, x->kek, g->key_path, wrapped);
    if (rc == FS_OK)
        rc = gate_meta_plain_put(b, "keys", wrapped, sizeof wrapped, d);
    if (rc == FS_OK)
        rc = gate_meta_plain_put(b, "key_path", g->key_path,
                                 strlen(g->key_path), d);
    if (rc == FS_OK)
        rc = gate_meta_plain_put(b, "key.pending", x->pending,
                                 strlen(x->pending), d);
    return rc;
}

/* Key files an interrupted rotation left: with the lock held and this
 * gallery open on its current key, none of them is needed. */
static void remove_stale(const char *key_path)
{
    char pattern[4200];
    glob_t gl;
    snprintf(pattern, sizeof pattern, "%s.new-*", key_path);
    if (glob(pattern, GLOB_NOSORT, NULL, &gl) != 0)
        return;
    for (size_t i = 0; i < gl.gl_pathc; i++)
        unlink(gl.gl_pathv[i]);
    globfree(&gl);
}

static int rotate(void *ctx, fs_detail *d)
{
    fs_gate *g = ctx;
    rotation x = { .g = g };
    uint8_t old_data[FS_KEY_BYTES], old_audit[FS_KEY_BYTES], tag[8];
    char pending[4200], tag_hex[17];
    if (fs_random(x.kek, FS_KEY_BYTES) || fs_random(x.data, FS_KEY_BYTES) ||
        fs_random(x.audit, FS_KEY_BYTES) || fs_random(tag, sizeof tag))
        return fs_fail(d, FS_EINTERNAL, "the random generator failed");
    remove_stale(g->key_path);
    fs_hex(tag, sizeof tag, tag_hex);
    snprintf(pending, sizeof pending, "%s.new-%s", g->key_path, tag_hex);
    x.pending = pending;
    int rc = gate_keyfile_create(pending, g->id_hex, x.kek, d);
    if (rc != FS_OK)
        goto out;
    memcpy(old_data, g->data_key, sizeof old_data);
    memcpy(old_audit, g->audit_key, sizeof old_audit);
    fs_audit_entry e = { "key rotate", NULL, "new key-encryption, data and "
                         "audit keys; every record re-sealed", g->key_path,
                         "ok" };
    rc = gate_change(g, rotate_in, &x, &e, d);
    if (rc != FS_OK) {                   /* the batch is gone: so are they */
        memcpy(g->data_key, old_data, sizeof old_data);
        memcpy(g->audit_key, old_audit, sizeof old_audit);
        unlink(pending);
    } else {
        memcpy(g->kek, x.kek, FS_KEY_BYTES);
        /* committed: the gallery wants the new key, wherever it is now */
        fs_detail why;
        if (gate_file_replace(pending, g->key_path, &why) != FS_OK)
            rc = fs_fail(d, FS_EIO, "the keys are rotated but the new key "
                         "file is not in place (%s): the next open "
                         "finishes it", why.msg);
    }
    fs_wipe(old_data, sizeof old_data);
    fs_wipe(old_audit, sizeof old_audit);
out:
    fs_wipe(&x, sizeof x);
    return rc;
}

int gate_alone(fs_gate *g, const char *action, const char *objects,
               int (*work)(void *ctx, fs_detail *d), void *ctx,
               fs_detail *d)
{
    int rc = fs_gallery_lock_exclusive(g->gal, d);
    if (rc != FS_OK)
        return gate_refusal(g, g->who.name, g->who.unit, action, objects,
                            rc, d);
    rc = work(ctx, d);
    if (rc == FS_OK)
        rc = fs_gallery_compact(g->gal, d);
    fs_gallery_lock_shared(g->gal);
    return rc;
}

int fs_gate_key_rotate(fs_gate *g, fs_detail *d)
{
    int rc = gate_require(g, FS_ROLE_ADMIN, 0, "key rotate", d);
    if (rc == FS_OK)
        rc = gate_shard_rotation_guard(g, d);
    return rc == FS_OK ? gate_alone(g, "key rotate", g->key_path, rotate, g,
                                    d) : rc;
}
