/*
 * fs_gate_int.h - what the files of gate/ share; no other module
 * includes it.
 *
 * The gate's records live in the gallery's record tables:
 *   GT_META      name -> value: the gallery id, the profile text, the
 *                wrapped keys, the key file's path, the audit chain's
 *                base and head
 *   GT_USERS     user name -> account record
 *   GT_SESSIONS  sha256(token) -> {user, created, expires}
 *   GT_AUDIT     sequence number (u64 BE) -> entry || its MAC
 * Table numbers are stored; they are only ever appended.
 */
#ifndef FS_GATE_INT_H
#define FS_GATE_INT_H

#include "fs_gate.h"
#include "../engine/fs_pack.h"

enum { GT_META = 1, GT_USERS = 2, GT_SESSIONS = 3, GT_AUDIT = 4 };

#define GATE_ID_BYTES 16

struct fs_gate {
    fs_gallery *gal;
    char        dir[4096];
    uint8_t     id[GATE_ID_BYTES];
    char        id_hex[2 * GATE_ID_BYTES + 1];
    uint8_t     kek[FS_KEY_BYTES];        /* from the key file */
    uint8_t     data_key[FS_KEY_BYTES];   /* seals images and templates */
    uint8_t     audit_key[FS_KEY_BYTES];  /* MACs the audit trail */
    char        key_path[4096];
    fs_profile  profile;
    char       *profile_text;
    fs_user     who;                      /* the session's account */
    int         have_who;
    uint8_t     session[FS_SHA256_BYTES]; /* its token's hash, as stored */
};

/* Meta values: a NUL-terminated copy (FS_NOTFOUND when absent). */
int  gate_meta_get(fs_gallery_batch *b, const char *name, char *out,
                   size_t cap, fs_detail *d);
int  gate_meta_put(fs_gallery_batch *b, const char *name, const void *val,
                   size_t len, fs_detail *d);

/* Accounts (fs_account.c). */
int  gate_user_get(fs_gallery_batch *b, const char *name, fs_user *u,
                   uint8_t pwrec[], fs_detail *d);
int  gate_user_put(fs_gallery_batch *b, const fs_user *u,
                   const uint8_t pwrec[], fs_detail *d);
#define GATE_PWREC_BYTES 64                /* algorithm, cost, salt, hash */
int  gate_password_hash(const char *password, uint8_t pwrec[]);
/* 1 when password matches, 0 when not; the same work either way. */
int  gate_password_verify(const char *password, const uint8_t pwrec[]);
/* Creates the first administrator (fs_gate_create). */
int  gate_user_create(fs_gallery_batch *b, const fs_user *u,
                      const char *password, int min_len, fs_detail *d);

/* Keys (fs_keys.c). */
int  gate_keyfile_default(const uint8_t id[GATE_ID_BYTES], char *path,
                          size_t cap, fs_detail *d);
int  gate_keyfile_create(const char *path, const char *id_hex,
                         const uint8_t kek[FS_KEY_BYTES], fs_detail *d);
int  gate_keyfile_read(const char *path, const char *id_hex,
                       uint8_t kek[FS_KEY_BYTES], fs_detail *d);
/* The data and audit keys sealed under kek, for GT_META "keys". */
#define GATE_WRAPPED_BYTES (2 * FS_KEY_BYTES + FS_SEAL_OVERHEAD)
int  gate_keys_wrap(const fs_gate *g, const uint8_t kek[FS_KEY_BYTES],
                    uint8_t out[GATE_WRAPPED_BYTES]);
int  gate_keys_unwrap(fs_gate *g, const uint8_t kek[FS_KEY_BYTES],
                      const uint8_t in[GATE_WRAPPED_BYTES]);
/* Makes the directories of path (0700) as needed. */
int  gate_mkdirs(const char *path, fs_detail *d);

/* The audit trail (fs_audit.c). */
int  gate_audit_append(fs_gate *g, fs_gallery_batch *b, const char *user,
                       const char *unit, const fs_audit_entry *e,
                       fs_detail *d);
int  gate_audit_start(fs_gate *g, fs_gallery_batch *b, fs_detail *d);

int64_t gate_now_us(void);

/* A refused action on the trail, under user (the session's, or the name
 * tried), in a transaction of its own; returns rc.  Best effort: a trail
 * that cannot take it has refused the action anyway. */
int  gate_refusal(fs_gate *g, const char *user, const char *unit,
                  const char *action, const char *objects, int rc,
                  const fs_detail *why);

#endif /* FS_GATE_INT_H */
