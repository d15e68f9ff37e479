/*
 * fs_gallery.c - the mugshot gallery: one LMDB environment.
 *
 * Named databases:
 *   meta            text key -> value: schema, dim, metric, model, counters
 *   subjects        subject id -> record {number, images, name}
 *   subject_num     subject number (u32 BE) -> subject id
 *   subject_images  subject id -> image ids (u64 BE), DUPSORT
 *   images          image id (u64 BE) -> record {row, sizes, sha, metadata}
 *   image_data      image id (u64 BE) -> record {the image bytes}
 *   sha             sha256 of the bytes -> image id: enrolment's idempotence
 *   tblocks         block number (u32 BE) -> record {FS_TBLOCK_ROWS rows}
 *   second          image id (u64 BE) -> record {FS_DESC2_DIM half floats}:
 *                   the second model's template, when the recipe names
 *                   one (schema 4); keyed by image, so that a row moved
 *                   by a removal cannot pair it with another face
 *   records         table number (1 byte) + key -> the bytes of the modules
 *                   above (fs_record_*): their tables share this database
 *
 * Invariants, true after every commit:
 *   - the template rows are dense, 0 .. rows-1; every block but the last
 *     is full, and a row's slot in its block names its image and subject;
 *   - every image record names its row, and that row names the image;
 *   - a subject exists exactly while it has at least one image.
 * Removal keeps rows dense by moving the last row into the hole.
 *
 * The values of subjects, images, image_data, tblocks and second are
 * envelopes: a
 * 32-byte header (magic, version, flags, nonce, tag) and the payload.  In
 * a sealed gallery (G21; meta "sealed" = "1") every envelope is sealed
 * with AES-256-GCM under the data key fs_gallery_unlock gives: a fresh
 * nonce per write, the database name and the record's key as associated
 * data, so a value copied under another key fails its tag.  A sealed
 * gallery holds no plain envelope; one found there was planted.  What is
 * left plain: meta, the records database (its callers seal their own),
 * and the indexes subject_num, subject_images and sha, which hold subject
 * ids, image ids and image hashes, never a face, a template or a name.
 * Readers decrypt into memory of their own (the map is read-only, nothing
 * decrypted goes back to disk) and wipe what held images or templates.
 * The key check in meta (the empty payload sealed under the data key)
 * tells a wrong key from damage before any record is read.
 *
 * Meta stays text, readable before the key is given (open needs the
 * schema, the model and whether the gallery is sealed), but in a sealed
 * gallery every meta value is followed by a NUL and an HMAC-SHA256 of
 * its name and text under a key derived from the data key, so that an
 * edited counter or rank mode is refused (FS_ETAMPER) rather than acted
 * upon.  A sealed gallery has no MACs only until its first key check is
 * written, when it holds no records yet; from then on every meta record
 * of meta_names[] must be there with its MAC, and nothing else.  The
 * MACs are checked when the key is given (all of them), at every read
 * of meta by an unlocked handle, and by fs_gallery_verify.  They do not
 * stop a whole older meta record being put back with its MAC: the
 * counters are then at odds with the records, which verify catches.
 *
 * The environment is shared by handles of this and other processes;
 * each holds a shared lock on "gallery.lock" in the directory from before
 * its mdb_env_open to its close, and compaction, which replaces data.mdb
 * under them, takes it exclusive: with no other handle open, none can
 * keep writing to the old file.
 *
 * Each fs_gallery_batch is one LMDB write transaction: a crash at any
 * moment leaves the gallery at its last commit.  Not thread-safe: a
 * handle serves one thread at a time.
 */
#include "fs_index.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "../engine/base/fs_crypt.h"
#include "../engine/base/fs_file.h"
#include "../engine/base/fs_pack.h"

enum { DB_META, DB_SUBJECTS, DB_SUBJECT_NUM, DB_SUBJECT_IMAGES, DB_IMAGES,
       DB_IMAGE_DATA, DB_SHA, DB_TBLOCKS, DB_RECORDS, DB_SECOND, DB_COUNT };

static const char *const db_names[DB_COUNT] = {
    "meta", "subjects", "subject_num", "subject_images", "images",
    "image_data", "sha", "tblocks", "records", "second"
};

#define SECOND_BYTES (FS_DESC2_DIM * sizeof(_Float16))

#define ENV_HDR      32                  /* envelope header bytes */
#define ENV_MAGIC0   'F'
#define ENV_MAGIC1   'R'
#define ENV_VERSION  1
#define ENV_SEALED   0x01                /* payload is AES-256-GCM (G21) */
#define ENV_NONCE    4                   /* header offsets of nonce, tag */
#define ENV_TAG      (ENV_NONCE + FS_NONCE_BYTES)
#define REC_MAX      1024                /* a subject or image record */
#define AAD_MAX      (16 + 511)          /* a database name, an LMDB key */

/* A template block: row count, then per row its subject and image, then
 * the rows themselves, 64-byte aligned within the payload. */
typedef struct tslot {
    uint32_t subject;
    uint32_t reserved;
    uint64_t image;
} tslot;

#define TBLK_SLOTS_OFF  64
#define TBLK_VEC_OFF    (TBLK_SLOTS_OFF + FS_TBLOCK_ROWS * sizeof(tslot))
#define TBLK_PAYLOAD    (TBLK_VEC_OFF + \
                         (size_t)FS_TBLOCK_ROWS * FS_DESC_DIM * sizeof(float))

#define DEFAULT_MAP_SIZE ((size_t)1 << 40)   /* address space, not disk */
#define META_METRIC      "cosine"
#define META_MAC_LABEL   "facesearch gallery meta mac v1"

#define LOCK_FILE        "gallery.lock"
#define COMPACT_PREFIX   "data.mdb.compact-"  /* compaction's temporary */
#define EXCLUSIVE_POLL_MS 10

typedef struct counters {
    uint64_t next_image, rows, images, image_bytes;
    uint32_t next_subject, subjects;
} counters;

/* The data key and the meta MAC key derived from it. */
typedef struct keyset {
    uint8_t data[FS_KEY_BYTES];
    uint8_t mac[FS_KEY_BYTES];
} keyset;

/* A template matrix and the counters it was read under, and the ranker
 * over it with the options it was asked for (fs_gallery_ranker). */
struct fs_gallery_warm {
    float          *vec;
    uint32_t       *subj;
    uint64_t       *image;               /* per row: its image's id */
    size_t          vec_bytes, nrows;
    counters        c;
    fs_ranker      *rk;
    fs_rank_options ro;
    int             by_mean;             /* rk ranks means.t */
    fs_subject_means means;
};

struct fs_gallery {
    MDB_env  *env;                       /* NULL after a failed reopen */
    MDB_dbi   dbi[DB_COUNT];
    char      dir[4096];
    int       readonly;
    size_t    map_size;
    int       lock_fd;                   /* gallery.lock, held shared */
    int       lock_ex;                   /* ... or exclusive */
    int       sealed;                    /* G21: envelopes are sealed */
    int       nowait;                    /* FS_EBUSY rather than wait */
    int       alone_wait_ms;             /* fs_gallery_options' */
    int       unlocked;                  /* keys hold the data key */
    int       schema;                    /* as stored: 3, 4 or 5 */
    int       no_second_db;              /* a schema 3 gallery opened
                                            read-only: no "second" */
    keyset    keys;
    fs_gallery_batch *open_batch;
    /* fs_gallery_load's matrix: its own, or a warm holder's that
     * outlives the handle (fs_gallery_options.warm) */
    fs_gallery_warm  own;
    fs_gallery_warm *mx;
    uintptr_t map_lo, map_hi;            /* LMDB's map, once map_find ran */
};

typedef struct cached_block {
    uint32_t no;
    int      dirty;
    uint8_t *payload;                    /* TBLK_PAYLOAD bytes, aligned */
} cached_block;

struct fs_gallery_batch {
    fs_gallery   *g;
    MDB_txn      *txn;
    int           readonly;          /* fs_gallery_begin_read's view */
    int           wrote_key_check;   /* an abort takes the key back */
    int           failed;            /* a write failed part way: the batch
                                        can only be aborted */
    int           rows_changed;      /* a put or remove: the loaded matrix
                                        is stale after the commit */
    int           rekeyed;           /* keys below replace the handle's at
                                        commit; the batch uses them */
    int           took_exclusive;    /* rekey took the lock: shared again
                                        at the batch's end */
    keyset        keys;
    counters      c, c0;             /* c0: as read at begin */
    cached_block *blk;
    size_t        nblk, capblk;
};

/* ---- little helpers ------------------------------------------------------ */

static void be32(uint8_t *p, uint32_t v)
{
    for (int i = 3; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static void be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8
           | p[3];
}

static uint64_t get_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* LMDB's codes into ours, with the gallery and the step named. */
static int mdb_fail(const fs_gallery *g, fs_detail *d, int mrc,
                    const char *what)
{
    int rc;
    switch (mrc) {
    case MDB_MAP_FULL:
        rc = FS_ETOOBIG;
        break;
    case MDB_CORRUPTED: case MDB_PAGE_NOTFOUND: case MDB_INVALID:
    case MDB_VERSION_MISMATCH: case MDB_BAD_TXN:
        return fs_fail(d, FS_EFORMAT, "gallery '%s' is damaged (%s: %s)",
                       g->dir, what, mdb_strerror(mrc));
    case ENOMEM:
        rc = FS_ENOMEM;
        break;
    case EACCES: case EPERM: case EROFS:
        rc = FS_EACCESS;
        break;
    default:
        rc = FS_EIO;
    }
    return fs_fail(d, rc, "gallery '%s': %s: %s", g->dir, what,
                   mdb_strerror(mrc));
}

/* The handle lost its environment when a compaction could not reopen
 * the new file: every transaction is refused from then on. */
static int env_gone(const fs_gallery *g, fs_detail *d)
{
    return fs_fail(d, FS_EIO, "gallery '%s' could not be reopened after "
                   "its compaction: close it and open it again", g->dir);
}

static int read_txn(fs_gallery *g, MDB_txn **txn, fs_detail *d)
{
    if (!g->env)
        return env_gone(g, d);
    int mrc = mdb_txn_begin(g->env, NULL, MDB_RDONLY, txn);
    return mrc ? mdb_fail(g, d, mrc, "starting a read") : FS_OK;
}

/* ---- keys ------------------------------------------------------------------ */

/* The meta MAC key is the data key's HMAC of a label: one key given,
 * two uses kept apart. */
static void keys_derive(const uint8_t key[FS_KEY_BYTES], keyset *ks)
{
    static const char label[] = META_MAC_LABEL;
    const void *part[1] = { label };
    size_t len[1] = { sizeof label - 1 };
    memcpy(ks->data, key, FS_KEY_BYTES);
    fs_hmac_sha256(key, part, len, 1, ks->mac);
}

/* The keys records read or written in txn are under: a batch that
 * re-keyed uses its new keys, everything else the handle's. */
static const keyset *keys_for(const fs_gallery *g, const MDB_txn *txn)
{
    const fs_gallery_batch *b = g->open_batch;
    return b && b->rekeyed && b->txn == txn ? &b->keys : &g->keys;
}

/* Whether txn can open sealed records and meta MACs. */
static int have_keys(const fs_gallery *g, const MDB_txn *txn)
{
    return g->unlocked || keys_for(g, txn) != &g->keys;
}

/* ---- records: envelope and fields ---------------------------------------- */

/* Sealed records need the data key: FS_EKEY until fs_gallery_unlock. */
static int need_key(const fs_gallery *g, fs_detail *d)
{
    if (!g->sealed || g->unlocked)
        return FS_OK;
    return fs_fail(d, FS_EKEY, "gallery '%s' has its data sealed and no key "
                   "was given", g->dir);
}

/* A read transaction over sealed records: FS_EKEY until unlocked. */
static int sealed_read(fs_gallery *g, MDB_txn **txn, fs_detail *d)
{
    int rc = need_key(g, d);
    return rc == FS_OK ? read_txn(g, txn, d) : rc;
}

/* What a record is called in messages. */
static void record_name(int db, const MDB_val *k, char *out, size_t cap)
{
    const uint8_t *p = k->mv_data;
    switch (db) {
    case DB_SUBJECTS:
        snprintf(out, cap, "subject '%.*s'",
                 (int)(k->mv_size < FS_SUBJECT_MAX ? k->mv_size
                                                   : FS_SUBJECT_MAX),
                 (const char *)p);
        break;
    case DB_IMAGES: case DB_IMAGE_DATA:
        snprintf(out, cap, "image %llu's %s", k->mv_size == 8 ?
                 (unsigned long long)get_be64(p) : 0ull,
                 db == DB_IMAGES ? "record" : "data");
        break;
    case DB_TBLOCKS:
        snprintf(out, cap, "template block %u",
                 k->mv_size == 4 ? get_be32(p) : 0u);
        break;
    case DB_SECOND:
        snprintf(out, cap, "image %llu's second template", k->mv_size == 8 ?
                 (unsigned long long)get_be64(p) : 0ull);
        break;
    default:
        snprintf(out, cap, "a %s record", db_names[db]);
    }
}

/* The associated data of a record's seal: its database's name and its
 * key, so that a value copied or moved under another key fails its tag. */
static size_t record_aad(int db, const MDB_val *k, uint8_t aad[AAD_MAX])
{
    size_t n = strlen(db_names[db]) + 1;         /* the NUL separates */
    assert(n + k->mv_size <= AAD_MAX);           /* LMDB keys: <= 511 */
    memcpy(aad, db_names[db], n);
    memcpy(aad + n, k->mv_data, k->mv_size);
    return n + k->mv_size;
}

/* Fills the envelope at out: its header, and len bytes of payload
 * (already at out + ENV_HDR when payload is NULL) sealed under ks when
 * the gallery is sealed.  Every envelope is made here. */
static int env_make(const fs_gallery *g, const keyset *ks, int db,
                    const MDB_val *k, const void *payload, size_t len,
                    uint8_t *out, fs_detail *d)
{
    memset(out, 0, ENV_HDR);
    out[0] = ENV_MAGIC0;
    out[1] = ENV_MAGIC1;
    out[2] = ENV_VERSION;
    if (!payload)
        payload = out + ENV_HDR;
    if (!g->sealed) {
        if (len && payload != out + ENV_HDR)
            memcpy(out + ENV_HDR, payload, len);
        return FS_OK;
    }
    out[3] = ENV_SEALED;
    uint8_t aad[AAD_MAX];
    int rc = fs_seal(ks->data, aad, record_aad(db, k, aad), payload, len,
                     out + ENV_HDR, out + ENV_NONCE, out + ENV_TAG);
    if (rc == FS_OK)
        return FS_OK;
    fs_wipe(out + ENV_HDR, len);             /* whatever it left there */
    char name[96];
    record_name(db, k, name, sizeof name);
    return fs_fail(d, rc, "gallery '%s': cannot seal %s", g->dir, name);
}

/* Writes a record in its envelope straight into the space LMDB reserves
 * for it, the payload sealed when the gallery is: the plaintext never
 * reaches the map.  Every enveloped record goes through here. */
static int env_put(fs_gallery_batch *b, int db, const MDB_val *k,
                   const void *payload, size_t len, fs_detail *d)
{
    fs_gallery *g = b->g;
    if (g->sealed && !have_keys(g, b->txn))
        return need_key(g, d);
    MDB_val key = *k, v = { ENV_HDR + len, NULL };
    int mrc = mdb_put(b->txn, g->dbi[db], &key, &v, MDB_RESERVE);
    if (mrc) {
        char name[96], what[128];
        record_name(db, k, name, sizeof name);
        snprintf(what, sizeof what, "writing %s", name);
        return mdb_fail(g, d, mrc, what);
    }
    return env_make(g, keys_for(g, b->txn), db, k, payload, len,
                    v.mv_data, d);
}

/* The payload of the stored value v of record k in *r: where it lies in
 * LMDB's map when plain, or decrypted into out (cap bytes) when sealed,
 * since the map is read-only and nothing decrypted may reach the disk.
 * Every enveloped record is read through here. */
static int env_open(const fs_gallery *g, const MDB_txn *txn, int db,
                    const MDB_val *k, const MDB_val *v, uint8_t *out,
                    size_t cap, fs_rbuf *r, fs_detail *d)
{
    const uint8_t *p = v->mv_data;
    size_t len = v->mv_size >= ENV_HDR ? v->mv_size - ENV_HDR : 0;
    char buf[64];
    const char *why = buf;
    int rc;
    if (v->mv_size < ENV_HDR || p[0] != ENV_MAGIC0 || p[1] != ENV_MAGIC1) {
        rc = FS_EFORMAT;
        why = "has no envelope (damaged)";
    } else if (p[2] != ENV_VERSION) {
        rc = FS_EVERSION;
        snprintf(buf, sizeof buf, "is of envelope version %d; this build "
                 "reads %d", p[2], ENV_VERSION);
    } else if (!(p[3] & ENV_SEALED) != !g->sealed) {
        /* Either plaintext planted among sealed records, or sealed
         * records in a gallery whose meta no longer says so. */
        rc = FS_ETAMPER;
        why = g->sealed ? "is not sealed in a sealed gallery (planted or "
                          "tampered)"
                        : "is sealed but the gallery is not marked sealed "
                          "(meta tampered)";
    } else if (!g->sealed) {
        *r = (fs_rbuf){ p + ENV_HDR, len, 0, 0 };
        return FS_OK;
    } else if (!have_keys(g, txn)) {
        return need_key(g, d);
    } else if (len > cap) {
        rc = FS_EFORMAT;
        snprintf(buf, sizeof buf, "is too long (%zu bytes; damaged)", len);
    } else {
        uint8_t aad[AAD_MAX];
        rc = fs_unseal(keys_for(g, txn)->data, aad, record_aad(db, k, aad), p + ENV_HDR,
                       len, out, p + ENV_NONCE, p + ENV_TAG);
        if (rc == FS_OK) {
            *r = (fs_rbuf){ out, len, 0, 0 };
            return FS_OK;
        }
        why = rc == FS_ETAMPER ? "fails its integrity check (tampered or "
                                 "damaged)"
                               : "cannot be decrypted";
    }
    char name[96];
    record_name(db, k, name, sizeof name);
    return fs_fail(d, rc, "gallery '%s': %s %s", g->dir, name, why);
}

/* ---- subject and image records ------------------------------------------- */

typedef struct subject_rec {
    uint32_t number, images;
    char     name[FS_FIELD_MAX];
} subject_rec;

static int put_subject(fs_gallery_batch *b, const char *id,
                       const subject_rec *s, fs_detail *d)
{
    uint8_t rec[REC_MAX];        /* fields are checked on the way in */
    fs_wbuf w = FS_WBUF_FIXED(rec);
    fs_wbuf_u64(&w, s->number);
    fs_wbuf_u64(&w, s->images);
    fs_wbuf_str(&w, s->name);
    MDB_val k = { strlen(id), (void *)id };
    assert(!w.oom);
    int rc = env_put(b, DB_SUBJECTS, &k, w.p, w.len, d);
    fs_wbuf_free(&w);                /* wipes the plaintext copy */
    return rc;
}

/* FS_OK, FS_NOTFOUND, or a failure. */
static int get_subject(const fs_gallery *g, MDB_txn *txn, const char *id,
                       subject_rec *s, fs_detail *d)
{
    MDB_val k = { strlen(id), (void *)id }, v;
    int mrc = mdb_get(txn, g->dbi[DB_SUBJECTS], &k, &v);
    if (mrc == MDB_NOTFOUND)
        return FS_NOTFOUND;
    if (mrc)
        return mdb_fail(g, d, mrc, "reading a subject");
    uint8_t buf[REC_MAX];
    fs_rbuf r = { 0 };
    int rc = env_open(g, txn, DB_SUBJECTS, &k, &v, buf, sizeof buf, &r, d);
    if (rc != FS_OK)
        return rc;
    s->number = (uint32_t)fs_rbuf_u64(&r);
    s->images = (uint32_t)fs_rbuf_u64(&r);
    fs_rbuf_str(&r, s->name, sizeof s->name);
    if (r.bad)
        return fs_fail(d, FS_EFORMAT, "gallery '%s' is damaged (subject "
                       "'%s')", g->dir, id);
    return FS_OK;
}

typedef struct image_rec {
    uint64_t row, image_len;
    int64_t  enrolled;
    uint8_t  sha256[32];
    char     subject[FS_SUBJECT_MAX];
    char     booking_number[FS_FIELD_MAX], capture_date[FS_FIELD_MAX];
    char     source_agency[FS_FIELD_MAX], lawful_source[FS_FIELD_MAX];
} image_rec;

/* A record of db keyed by image id (images, image_data, second). */
static int image_put(fs_gallery_batch *b, int db, uint64_t id,
                     const void *payload, size_t len, fs_detail *d)
{
    uint8_t key[8];
    be64(key, id);
    MDB_val k = { 8, key };
    return env_put(b, db, &k, payload, len, d);
}

/* The stored value *v of db's record of image id, k keyed in key: FS_OK,
 * FS_NOTFOUND (no detail), or a failure. */
static int image_find(const fs_gallery *g, MDB_txn *txn, int db, uint64_t id,
                      uint8_t key[8], MDB_val *k, MDB_val *v, fs_detail *d)
{
    be64(key, id);
    *k = (MDB_val){ 8, key };
    int mrc = mdb_get(txn, g->dbi[db], k, v);
    if (mrc == MDB_NOTFOUND)
        return FS_NOTFOUND;
    if (mrc) {
        char name[96], what[128];
        record_name(db, k, name, sizeof name);
        snprintf(what, sizeof what, "reading %s", name);
        return mdb_fail(g, d, mrc, what);
    }
    return FS_OK;
}

static int put_image_rec(fs_gallery_batch *b, uint64_t id,
                         const image_rec *im, fs_detail *d)
{
    uint8_t rec[REC_MAX];        /* fields are checked on the way in */
    fs_wbuf w = FS_WBUF_FIXED(rec);
    fs_wbuf_u64(&w, im->row);
    fs_wbuf_u64(&w, im->image_len);
    fs_wbuf_u64(&w, (uint64_t)im->enrolled);
    fs_wbuf_put(&w, im->sha256, 32);
    fs_wbuf_str(&w, im->subject);
    fs_wbuf_str(&w, im->booking_number);
    fs_wbuf_str(&w, im->capture_date);
    fs_wbuf_str(&w, im->source_agency);
    fs_wbuf_str(&w, im->lawful_source);
    assert(!w.oom);
    int rc = image_put(b, DB_IMAGES, id, w.p, w.len, d);
    fs_wbuf_free(&w);                /* wipes the plaintext copy */
    return rc;
}

static int get_image_rec(const fs_gallery *g, MDB_txn *txn, uint64_t id,
                         image_rec *im, fs_detail *d)
{
    uint8_t key[8], buf[REC_MAX];
    MDB_val k, v;
    int rc = image_find(g, txn, DB_IMAGES, id, key, &k, &v, d);
    if (rc != FS_OK)
        return rc;
    fs_rbuf r = { 0 };
    rc = env_open(g, txn, DB_IMAGES, &k, &v, buf, sizeof buf, &r, d);
    if (rc != FS_OK)
        return rc;
    im->row = fs_rbuf_u64(&r);
    im->image_len = fs_rbuf_u64(&r);
    im->enrolled = (int64_t)fs_rbuf_u64(&r);
    fs_rbuf_get(&r, im->sha256, 32);
    fs_rbuf_str(&r, im->subject, sizeof im->subject);
    fs_rbuf_str(&r, im->booking_number, sizeof im->booking_number);
    fs_rbuf_str(&r, im->capture_date, sizeof im->capture_date);
    fs_rbuf_str(&r, im->source_agency, sizeof im->source_agency);
    fs_rbuf_str(&r, im->lawful_source, sizeof im->lawful_source);
    if (r.bad)
        return fs_fail(d, FS_EFORMAT, "gallery '%s' is damaged (image "
                       "%llu)", g->dir, (unsigned long long)id);
    return FS_OK;
}

/* An image a subject lists: missing, it is damage, not an answer.  The
 * list is a plain index; the image record (sealed, in a sealed gallery)
 * has the last word on whose image it is, so that a doctored list can
 * neither show one person's face under another's id nor have a removal
 * take it. */
static int get_listed_image(const fs_gallery *g, MDB_txn *txn,
                            const char *subject, uint64_t id, image_rec *im,
                            fs_detail *d)
{
    int rc = get_image_rec(g, txn, id, im, d);
    if (rc == FS_NOTFOUND)
        return fs_fail(d, FS_EFORMAT, "gallery '%s' is damaged (image %llu "
                       "is listed but missing)", g->dir,
                       (unsigned long long)id);
    if (rc == FS_OK && strcmp(im->subject, subject) != 0)
        return fs_fail(d, FS_EFORMAT, "gallery '%s' is damaged (image %llu "
                       "is listed under subject '%s' but is of '%s')",
                       g->dir, (unsigned long long)id, subject, im->subject);
    return rc;
}

/* ---- meta ------------------------------------------------------------------ */

/* Every meta record this build writes.  A sealed gallery with a key
 * check holds all of them its schema has (the recipe's since schema 4),
 * each with its MAC, and no other. */
static const char *const meta_names[] = {
    "schema", "dim", "metric", "model_id", "model_sha256", "created",
    "sealed", "rank_mode", "key_check", "next_image", "rows", "images",
    "image_bytes", "next_subject", "subjects",
    "mirror", "second_model_id", "second_model_sha256",
    "subject_template"
};
#define META_NAMES  (sizeof meta_names / sizeof *meta_names)
#define META_RECIPE 15                   /* meta_names[15..]: schema 4 */
#define META_SUBJECT 18                  /* meta_names[18..]: schema 5 */
#define META_NONE   "none"               /* no second model */

/* Whether meta record i belongs in g's schema. */
static int meta_owed(const fs_gallery *g, size_t i)
{
    return i < META_RECIPE || (i < META_SUBJECT && g->schema >= 4) ||
           g->schema >= 5;
}
#define META_MAX    256                  /* bytes of a meta text */

static const char *const counter_keys[] = {
    "next_image", "rows", "images", "image_bytes", "next_subject", "subjects"
};

/* A stored meta value: text, then, in a sealed gallery, a NUL and the
 * text's MAC. */
typedef struct meta_val {
    const char    *text;
    size_t         len;
    const uint8_t *mac;                  /* NULL: it has none */
} meta_val;

/* 0, or -1 when v is neither plain text nor text, NUL and MAC. */
static int meta_split(const MDB_val *v, meta_val *m)
{
    const char *p = v->mv_data;
    const char *nul = memchr(p, 0, v->mv_size);
    *m = (meta_val){ p, nul ? (size_t)(nul - p) : v->mv_size, NULL };
    if (!nul)
        return 0;
    if (v->mv_size != m->len + 1 + FS_SHA256_BYTES)
        return -1;
    m->mac = (const uint8_t *)nul + 1;
    return 0;
}

/* The MAC binds the text to its database and record name. */
static void meta_mac(const keyset *ks, const MDB_val *k, const char *text,
                     size_t len, uint8_t out[FS_SHA256_BYTES])
{
    static const char db[] = "meta";     /* its NUL separates */
    const void *part[4] = { db, k->mv_data, "", text };
    size_t plen[4] = { sizeof db, k->mv_size, 1, len };
    fs_hmac_sha256(ks->mac, part, plen, 4, out);
}

static int meta_tampered(const fs_gallery *g, const MDB_val *k,
                         const char *why, fs_detail *d)
{
    char name[48];
    size_t n = k->mv_size < sizeof name - 1 ? k->mv_size : sizeof name - 1;
    for (size_t i = 0; i < n; i++) {     /* a planted name is anything */
        char c = ((const char *)k->mv_data)[i];
        name[i] = c >= 0x20 && c < 0x7f ? c : '?';
    }
    name[n] = 0;
    return fs_fail(d, FS_ETAMPER, "gallery '%s': the gallery's meta record "
                   "'%s' %s", g->dir, name, why);
}

/* One stored meta record against ks: FS_OK, or FS_ETAMPER naming it. */
static int meta_check(const fs_gallery *g, const keyset *ks,
                      const MDB_val *k, const MDB_val *v, fs_detail *d)
{
    meta_val m;
    uint8_t mac[FS_SHA256_BYTES];
    if (meta_split(v, &m) != 0)
        return meta_tampered(g, k, "is malformed (tampered or damaged)", d);
    if (!m.mac)
        return meta_tampered(g, k, "carries no MAC (planted or edited)", d);
    meta_mac(ks, k, m.text, m.len, mac);
    if (!fs_equal_ct(mac, m.mac, sizeof mac))
        return meta_tampered(g, k, "fails its integrity check (edited or "
                             "planted)", d);
    return FS_OK;
}

static int meta_index(const MDB_val *k)
{
    for (size_t i = 0; i < META_NAMES; i++)
        if (strlen(meta_names[i]) == k->mv_size &&
            memcmp(meta_names[i], k->mv_data, k->mv_size) == 0)
            return (int)i;
    return -1;
}

/* Whether the gallery has its key check in txn's view. */
static int meta_keyed(const fs_gallery *g, MDB_txn *txn)
{
    MDB_val k = { 9, "key_check" }, v;
    return mdb_get(txn, g->dbi[DB_META], &k, &v) == 0;
}

/* A sealed gallery without its key check must be one that never had
 * one: no MAC in meta, no name this build does not write, no record and
 * the counters at their start.  Anything else had its key check removed
 * to pass off unauthenticated meta: FS_ETAMPER. */
static int meta_fresh(const fs_gallery *g, MDB_txn *txn, fs_detail *d)
{
    static const int held[] = { DB_SUBJECTS, DB_SUBJECT_NUM,
        DB_SUBJECT_IMAGES, DB_IMAGES, DB_IMAGE_DATA, DB_SHA, DB_TBLOCKS,
        DB_SECOND };
    static const char start[][2] = { "1", "0", "0", "0", "1", "0" };
    int fresh = 1;
    for (size_t i = 0; fresh && i < sizeof held / sizeof *held; i++) {
        MDB_stat st;
        if (held[i] == DB_SECOND && g->no_second_db)
            continue;
        int mrc = mdb_stat(txn, g->dbi[held[i]], &st);
        if (mrc)
            return mdb_fail(g, d, mrc, "reading its statistics");
        fresh = st.ms_entries == 0;
    }
    MDB_cursor *cur;
    int mrc = mdb_cursor_open(txn, g->dbi[DB_META], &cur);
    if (mrc)
        return mdb_fail(g, d, mrc, "reading the meta record");
    MDB_val k, v;
    for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); fresh && mrc == 0;
         mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        meta_val m;
        int i = meta_index(&k);
        fresh = i >= 0 && meta_split(&v, &m) == 0 && !m.mac;
        for (int c = 0; fresh && c < 6; c++)
            if (strcmp(meta_names[i], counter_keys[c]) == 0)
                fresh = m.len == 1 && m.text[0] == start[c][0];
    }
    mdb_cursor_close(cur);
    if (mrc && mrc != MDB_NOTFOUND)
        return mdb_fail(g, d, mrc, "reading the meta record");
    MDB_val kc = { 9, "key_check" };
    return fresh ? FS_OK
                 : meta_tampered(g, &kc, "is missing from a gallery that "
                                 "has held a key (removed)", d);
}

/* The text of meta record name into out (cap bytes with its NUL).  When
 * txn has the keys of a sealed gallery, the record is checked first:
 * edited, planted or removed is FS_ETAMPER naming it.  FS_NOTFOUND, with
 * no detail, when there is none and none is owed. */
static int meta_get(const fs_gallery *g, MDB_txn *txn, const char *name,
                    char *out, size_t cap, fs_detail *d)
{
    MDB_val k = { strlen(name), (void *)name }, v;
    int check = g->sealed && have_keys(g, txn);
    int mrc = mdb_get(txn, g->dbi[DB_META], &k, &v);
    if (mrc == MDB_NOTFOUND)
        return check && meta_keyed(g, txn)
               ? meta_tampered(g, &k, "is missing (removed)", d)
               : FS_NOTFOUND;
    if (mrc)
        return mdb_fail(g, d, mrc, "reading the meta record");
    meta_val m;
    int bad = meta_split(&v, &m) != 0;
    if (check) {
        int rc = !bad && !m.mac && !meta_keyed(g, txn)
                 ? meta_fresh(g, txn, d)
                 : meta_check(g, keys_for(g, txn), &k, &v, d);
        if (rc != FS_OK)
            return rc;
    }
    if (bad || m.len >= cap)
        return fs_fail(d, FS_EFORMAT, "gallery '%s' is damaged (its meta "
                       "record '%s')", g->dir, name);
    memcpy(out, m.text, m.len);
    out[m.len] = 0;
    return FS_OK;
}

/* Writes a meta record, with its MAC under ks unless ks is NULL (an
 * unsealed gallery, or a sealed one before its first key). */
static int meta_put(const fs_gallery *g, MDB_txn *txn, const keyset *ks,
                    const char *name, const char *val)
{
    size_t len = strlen(val);
    MDB_val k = { strlen(name), (void *)name },
            v = { len + (ks ? 1 + FS_SHA256_BYTES : 0), NULL };
    int mrc = mdb_put(txn, g->dbi[DB_META], &k, &v, MDB_RESERVE);
    if (mrc)
        return mrc;
    char *p = v.mv_data;
    memcpy(p, val, len);
    if (ks) {
        p[len] = 0;
        meta_mac(ks, &k, val, len, (uint8_t *)p + len + 1);
    }
    return 0;
}

/* The keys meta written in txn is MAC'd under: none unless sealed. */
static const keyset *meta_keys(const fs_gallery *g, const MDB_txn *txn)
{
    return g->sealed && have_keys(g, txn) ? keys_for(g, txn) : NULL;
}

/* As meta_get, a number; FS_EFORMAT when the text is not one. */
static int meta_get_u64(const fs_gallery *g, MDB_txn *txn, const char *name,
                        uint64_t *out, fs_detail *d)
{
    char buf[32], *end;
    int rc = meta_get(g, txn, name, buf, sizeof buf, d);
    if (rc != FS_OK)
        return rc;
    errno = 0;
    unsigned long long v = strtoull(buf, &end, 10);
    if (errno || end == buf || *end || buf[0] == '-')
        return fs_fail(d, FS_EFORMAT, "gallery '%s' is damaged (its meta "
                       "record '%s' is '%s')", g->dir, name, buf);
    *out = v;
    return FS_OK;
}

static int meta_put_u64(const fs_gallery *g, MDB_txn *txn, const keyset *ks,
                        const char *name, uint64_t v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
    return meta_put(g, txn, ks, name, buf);
}

/* Meta records every gallery of this schema must have. */
static int meta_required(const fs_gallery *g, MDB_txn *txn, const char *name,
                         uint64_t *out, fs_detail *d)
{
    int rc = meta_get_u64(g, txn, name, out, d);
    return rc == FS_NOTFOUND ? fs_fail(d, FS_EFORMAT, "gallery '%s' is "
                                       "damaged (no meta record '%s')",
                                       g->dir, name)
                             : rc;
}

const char *fs_recipe_subject_template(const fs_recipe *r)
{
    return r->subject_mean ? "mean" : "best";
}

/* The recipe in txn's view: a schema 3 gallery's is the plain one. */
static int recipe_read(const fs_gallery *g, MDB_txn *txn, fs_recipe *r,
                       fs_detail *d)
{
    char mirror[4];
    memset(r, 0, sizeof *r);
    if (g->schema < 4)
        return FS_OK;
    int rc = meta_get(g, txn, "mirror", mirror, sizeof mirror, d);
    if (rc == FS_OK)
        rc = meta_get(g, txn, "second_model_id", r->second_model_id,
                      sizeof r->second_model_id, d);
    if (rc == FS_OK)
        rc = meta_get(g, txn, "second_model_sha256", r->second_model_sha256,
                      sizeof r->second_model_sha256, d);
    if (rc == FS_NOTFOUND)
        return fs_fail(d, FS_EFORMAT, "gallery '%s' is damaged (a meta "
                       "record of its recipe is missing)", g->dir);
    if (rc != FS_OK)
        return rc;
    int none = !strcmp(r->second_model_id, META_NONE);
    if ((strcmp(mirror, "0") && strcmp(mirror, "1")) ||
        none != !strcmp(r->second_model_sha256, META_NONE))
        return fs_fail(d, FS_EFORMAT, "gallery '%s' is damaged (its recipe "
                       "reads mirror '%s', second model '%s')", g->dir,
                       mirror, r->second_model_id);
    r->mirror = mirror[0] == '1';
    if (none)
        r->second_model_id[0] = r->second_model_sha256[0] = 0;
    if (g->schema < 5)                   /* best-of, as it was made */
        return FS_OK;
    char subject[8];
    rc = meta_get(g, txn, "subject_template", subject, sizeof subject, d);
    if (rc == FS_NOTFOUND)
        return fs_fail(d, FS_EFORMAT, "gallery '%s' is damaged (a meta "
                       "record of its recipe is missing)", g->dir);
    if (rc != FS_OK)
        return rc;
    r->subject_mean = strcmp(subject, "mean") == 0;
    if (strcmp(subject, fs_recipe_subject_template(r)) != 0)
        return fs_fail(d, FS_EFORMAT, "gallery '%s' is damaged (its recipe "
                       "reads subject template '%s')", g->dir, subject);
    return FS_OK;
}

static int counters_read(const fs_gallery *g, MDB_txn *txn, counters *c,
                         fs_detail *d)
{
    uint64_t v[6];
    for (int i = 0; i < 6; i++) {
        int rc = meta_required(g, txn, counter_keys[i], &v[i], d);
        if (rc != FS_OK)
            return rc;
    }
    *c = (counters){ v[0], v[1], v[2], v[3], (uint32_t)v[4], (uint32_t)v[5] };
    return FS_OK;
}

static int counters_write(const fs_gallery *g, MDB_txn *txn,
                          const counters *c)
{
    uint64_t v[6] = { c->next_image, c->rows, c->images, c->image_bytes,
                      c->next_subject, c->subjects };
    for (int i = 0; i < 6; i++) {
        int mrc = meta_put_u64(g, txn, meta_keys(g, txn), counter_keys[i],
                               v[i]);
        if (mrc)
            return mrc;
    }
    return 0;
}

/* Every meta record of a sealed gallery that has its key check, against
 * ks: each carries its MAC, none of meta_names is missing, nothing else
 * is there. */
static int meta_verify_all(const fs_gallery *g, MDB_txn *txn,
                           const keyset *ks, fs_detail *d)
{
    MDB_cursor *cur;
    int mrc = mdb_cursor_open(txn, g->dbi[DB_META], &cur);
    if (mrc)
        return mdb_fail(g, d, mrc, "reading the meta record");
    uint32_t seen = 0;
    int rc = FS_OK;
    MDB_val k, v;
    for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == FS_OK && !mrc;
         mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        int i = meta_index(&k);
        rc = i < 0 || !meta_owed(g, (size_t)i)
             ? meta_tampered(g, &k, "is not one this gallery writes "
                             "(planted)", d)
             : meta_check(g, ks, &k, &v, d);
        if (i >= 0)
            seen |= 1u << i;
    }
    mdb_cursor_close(cur);
    if (rc == FS_OK && mrc != MDB_NOTFOUND)
        rc = mdb_fail(g, d, mrc, "reading the meta record");
    for (size_t i = 0; rc == FS_OK && i < META_NAMES; i++)
        if (meta_owed(g, i) && !(seen & 1u << i)) {
            MDB_val mk = { strlen(meta_names[i]), (void *)meta_names[i] };
            rc = meta_tampered(g, &mk, "is missing (removed)", d);
        }
    return rc;
}

/* Writes every meta record again with its MAC under ks: after the first
 * key check, and when the keys change.  The caller has checked them. */
static int meta_remac(const fs_gallery *g, MDB_txn *txn, const keyset *ks,
                      fs_detail *d)
{
    for (size_t i = 0; i < META_NAMES; i++) {
        MDB_val k = { strlen(meta_names[i]), (void *)meta_names[i] }, v;
        char text[META_MAX];
        meta_val m;
        int mrc = mdb_get(txn, g->dbi[DB_META], &k, &v);
        if (mrc == MDB_NOTFOUND)         /* "sealed" in a plain gallery */
            continue;
        if (mrc)
            return mdb_fail(g, d, mrc, "reading the meta record");
        if (meta_split(&v, &m) != 0 || m.len >= sizeof text)
            return meta_tampered(g, &k, "is malformed (tampered or "
                                 "damaged)", d);
        memcpy(text, m.text, m.len);     /* the put may move the page */
        text[m.len] = 0;
        mrc = meta_put(g, txn, ks, meta_names[i], text);
        if (mrc)
            return mdb_fail(g, d, mrc, "writing the meta record");
    }
    return FS_OK;
}

/* ---- the lock file ------------------------------------------------------------ */

/* Open file description locks rather than flock(2).  Both belong to the
 * open file, so two handles of one process hold two locks and exclude
 * each other; but an OFD lock turns from shared to exclusive atomically
 * or not at all, where flock drops the shared lock first, so that a
 * failed LOCK_NB attempt can leave the handle holding none while another
 * handle's compaction replaces the file under it. */
/* Two bytes of it: the gallery's own (shared by every handle, exclusive
 * for the one that needs the gallery alone), and a turnstile.  A handle
 * that wants the gallery alone holds the turnstile exclusive while it
 * waits, and every opener passes the turnstile (shared, let go at once)
 * before it takes the gallery's byte: so a steady stream of new handles
 * (the service's clients) cannot keep a key rotation waiting until it
 * gives up; the ones already in finish, and the rest wait for it. */
enum { LOCK_GALLERY = 0, LOCK_TURNSTILE = 1 };

static int lock_set(int fd, short type, int wait, int byte)
{
    struct flock fl = { .l_type = type, .l_whence = SEEK_SET,
                        .l_start = byte, .l_len = 1 };
    int r;
    do
        r = fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl);
    while (r != 0 && errno == EINTR);
    return r;
}

/* Opens gallery.lock (made 0600) and takes it shared, waiting while a
 * compaction holds it exclusive (unless opened with nowait). */
static int lock_open(fs_gallery *g, fs_detail *d)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/" LOCK_FILE, g->dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 && g->readonly && (errno == EACCES || errno == EROFS))
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return fs_fail(d, fs_errno_code(errno), "gallery '%s': cannot open "
                       "its lock file: %s", g->dir, strerror(errno));
    if (lock_set(fd, F_RDLCK, !g->nowait, LOCK_TURNSTILE) != 0 ||
        lock_set(fd, F_RDLCK, !g->nowait, LOCK_GALLERY) != 0) {
        int e = errno;
        close(fd);
        if (g->nowait && (e == EAGAIN || e == EACCES))
            return fs_fail(d, FS_EBUSY, "gallery '%s' is held alone (a key "
                           "rotation or a removal): try again", g->dir);
        return fs_fail(d, FS_EIO, "gallery '%s': cannot lock it: %s",
                       g->dir, strerror(e));
    }
    lock_set(fd, F_UNLCK, 0, LOCK_TURNSTILE);
    g->lock_fd = fd;
    return FS_OK;
}

static int  env_start(fs_gallery *g, const fs_gallery_options *opt,
                       fs_detail *d);
static void release_matrix(fs_gallery *g);
static void forget_key(fs_gallery *g);

/* The identity of data.mdb as it is now in the directory: its inode,
 * and its birth time where the file system keeps one.  The inode alone
 * does not tell: ext4 gives a compacted copy the inode the copy before it
 * freed, so two compactions while one handle waits can look like none.
 * (The change time would not do: every commit changes it.) */
typedef struct file_id {
    dev_t                 dev;
    ino_t                 ino;
    struct statx_timestamp born;         /* zero where not kept */
} file_id;

static int data_file_id(const fs_gallery *g, file_id *id)
{
    char path[4200];
    struct statx sx;
    snprintf(path, sizeof path, "%s/data.mdb", g->dir);
    if (statx(AT_FDCWD, path, 0, STATX_INO | STATX_BTIME, &sx) != 0)
        return -1;
    id->dev = makedev(sx.stx_dev_major, sx.stx_dev_minor);
    id->ino = sx.stx_ino;
    memset(&id->born, 0, sizeof id->born);
    if (sx.stx_mask & STATX_BTIME)
        id->born = sx.stx_btime;
    return 0;
}

/* A waiter lets go of the environment as well as its lock: LMDB's lock
 * file must be open in no process when a compaction puts a new data.mdb
 * in place, or the readers of the new file would go by the old one's
 * transaction numbers. */
static void env_let_go(fs_gallery *g)
{
    if (g->mx == &g->own)           /* a warm one is checked at its use */
        release_matrix(g);
    if (g->env)
        mdb_env_close(g->env);
    g->env = NULL;
}

/* Whether data.mdb is still the file `before` was taken of. */
static int data_file_same(const fs_gallery *g, const file_id *before)
{
    file_id now;
    return data_file_id(g, &now) == 0 && now.ino == before->ino &&
           now.dev == before->dev &&
           now.born.tv_sec == before->born.tv_sec &&
           now.born.tv_nsec == before->born.tv_nsec;
}

/* After waiting without the environment: opened again, and the key
 * checked against the file as it now is.  When another handle replaced
 * the file meanwhile (a compaction) or sealed it under another key (a
 * rotation), the caller is told to start over: what it read before may be
 * stale, and a key that no longer opens the file would have it re-seal
 * records it cannot read.  The key check is the one that cannot be
 * fooled; the file's identity catches a compaction that kept the key. */
static int env_take_back(fs_gallery *g, const file_id *before,
                         fs_detail *d)
{
    int had_key = g->unlocked;
    keyset ks = g->keys;
    g->unlocked = 0;
    int rc = env_start(g, NULL, d);
    int rekeyed = had_key && rc == FS_OK &&
                  fs_gallery_unlock(g, ks.data, NULL) != FS_OK;
    if (had_key && (rc != FS_OK || rekeyed))
        forget_key(g);
    fs_wipe(&ks, sizeof ks);
    if (rc == FS_OK && (rekeyed || !data_file_same(g, before)))
        rc = fs_fail(d, FS_EBUSY, "the gallery '%s' was %s by another "
                     "process while this one waited: open it again", g->dir,
                     rekeyed ? "sealed under a new key" : "rewritten (a "
                     "compaction)");
    return rc;
}

int fs_gallery_lock_exclusive(fs_gallery *g, fs_detail *d)
{
    if (g->readonly)
        return fs_fail(d, FS_EACCESS, "gallery '%s' is open read-only",
                       g->dir);
    /* Waiters let go of their shared lock while they wait, or two of
     * them would each hold what the other waits for; with a batch open
     * the environment cannot be let go, so that one only polls. */
    int dropped = 0, rc = FS_OK, turn = 0;
    file_id before;
    for (int waited = 0; !g->lock_ex; waited += EXCLUSIVE_POLL_MS) {
        if (!turn)
            turn = lock_set(g->lock_fd, F_WRLCK, 0, LOCK_TURNSTILE) == 0;
        if (turn && lock_set(g->lock_fd, F_WRLCK, 0, LOCK_GALLERY) == 0) {
            g->lock_ex = 1;
            break;
        }
        if (errno != EAGAIN && errno != EACCES) {
            rc = fs_fail(d, FS_EIO, "gallery '%s': cannot lock it: %s",
                         g->dir, strerror(errno));
            break;
        }
        if (waited >= g->alone_wait_ms) {
            rc = fs_fail(d, FS_EBUSY, "the gallery '%s' is in use by another "
                         "process or handle (waited %.1f s for it to close)",
                         g->dir, waited / 1000.0);
            break;
        }
        if (!dropped && !g->open_batch && data_file_id(g, &before) == 0) {
            env_let_go(g);
            dropped = lock_set(g->lock_fd, F_UNLCK, 0, LOCK_GALLERY) == 0;
        }
        struct timespec ts = { 0, EXCLUSIVE_POLL_MS * 1000000L };
        nanosleep(&ts, NULL);
    }
    if (turn)                       /* held or given up: let openers in */
        lock_set(g->lock_fd, F_UNLCK, 0, LOCK_TURNSTILE);
    if (!dropped)
        return rc;
    if (!g->lock_ex && lock_set(g->lock_fd, F_RDLCK, 1, LOCK_GALLERY) != 0)
        return fs_fail(d, FS_EIO, "gallery '%s': cannot lock it: %s",
                       g->dir, strerror(errno));
    fs_detail why;
    int brc = env_take_back(g, &before, &why);
    if (brc != FS_OK && g->lock_ex)
        fs_gallery_lock_shared(g);
    return brc != FS_OK ? fs_fail(d, brc, "%s", why.msg) : rc;
}

void fs_gallery_lock_shared(fs_gallery *g)
{
    /* Giving up exclusivity cannot conflict with anyone: it holds. */
    if (g->lock_ex && lock_set(g->lock_fd, F_RDLCK, 0, LOCK_GALLERY) == 0)
        g->lock_ex = 0;
}

/* ---- open ------------------------------------------------------------------ */

static int create_meta(fs_gallery *g, MDB_txn *txn,
                       const fs_gallery_options *opt, fs_detail *d)
{
    if (!opt->model_id || !opt->model_sha256)
        return fs_fail(d, FS_EINVAL, "a new gallery needs the model that "
                       "makes its templates");
    if (strlen(opt->model_id) >= sizeof ((fs_gallery_stats *)0)->model_id ||
        strlen(opt->model_sha256) >= 65)
        return fs_fail(d, FS_EINVAL, "the model's id or sha256 is too long");
    static const fs_recipe plain = { 0, "", "", 0 };
    const fs_recipe *r = opt->recipe ? opt->recipe : &plain;
    if (memchr(r->second_model_id, 0, sizeof r->second_model_id) == NULL ||
        memchr(r->second_model_sha256, 0, sizeof r->second_model_sha256)
        == NULL || !strcmp(r->second_model_id, META_NONE) ||
        (r->second_model_id[0] && strlen(r->second_model_sha256) != 64))
        return fs_fail(d, FS_EINVAL, "the recipe's second model needs an "
                       "id and a sha256");
    counters c = { 1, 0, 0, 0, 1, 0 };
    char created[32];
    snprintf(created, sizeof created, "%lld", (long long)time(NULL));
    /* No key yet: a sealed gallery's meta gets its MACs with its first
     * key check (fs_gallery_unlock). */
    int mrc = meta_put_u64(g, txn, NULL, "schema", FS_GALLERY_SCHEMA);
    if (!mrc) mrc = meta_put_u64(g, txn, NULL, "dim", FS_DESC_DIM);
    if (!mrc) mrc = meta_put(g, txn, NULL, "metric", META_METRIC);
    if (!mrc) mrc = meta_put(g, txn, NULL, "model_id", opt->model_id);
    if (!mrc) mrc = meta_put(g, txn, NULL, "model_sha256",
                             opt->model_sha256);
    if (!mrc) mrc = meta_put(g, txn, NULL, "created", created);
    if (!mrc) mrc = meta_put(g, txn, NULL, "rank_mode", "exact");
    if (!mrc && opt->sealed) mrc = meta_put(g, txn, NULL, "sealed", "1");
    if (!mrc) mrc = counters_write(g, txn, &c);
    if (!mrc) mrc = meta_put(g, txn, NULL, "mirror", r->mirror ? "1" : "0");
    if (!mrc) mrc = meta_put(g, txn, NULL, "second_model_id",
                             r->second_model_id[0] ? r->second_model_id
                                                   : META_NONE);
    if (!mrc) mrc = meta_put(g, txn, NULL, "second_model_sha256",
                             r->second_model_id[0] ? r->second_model_sha256
                                                   : META_NONE);
    if (!mrc) mrc = meta_put(g, txn, NULL, "subject_template",
                             fs_recipe_subject_template(r));
    return mrc ? mdb_fail(g, d, mrc, "writing the meta record") : FS_OK;
}

/* The meta record against this build and the caller's model (opt may be
 * NULL: any model). */
static int check_meta(fs_gallery *g, MDB_txn *txn,
                      const fs_gallery_options *opt, fs_detail *d)
{
    uint64_t schema, dim;
    char metric[16], model[64], sha[80];
    int rc = meta_get_u64(g, txn, "schema", &schema, d);
    if (rc == FS_NOTFOUND)
        return fs_fail(d, FS_EFORMAT, "'%s' is not a facesearch gallery "
                       "(no meta record)", g->dir);
    if (rc != FS_OK)
        return rc;
    if (schema < FS_GALLERY_SCHEMA_MIN || schema > FS_GALLERY_SCHEMA)
        return fs_fail(d, FS_EVERSION, "gallery '%s' has schema version "
                       "%llu; this build reads versions %d to %d", g->dir,
                       (unsigned long long)schema, FS_GALLERY_SCHEMA_MIN,
                       FS_GALLERY_SCHEMA);
    g->schema = (int)schema;
    rc = meta_required(g, txn, "dim", &dim, d);
    const char *what = "metric";
    if (rc == FS_OK) rc = meta_get(g, txn, what, metric, sizeof metric, d);
    if (rc == FS_OK) rc = meta_get(g, txn, what = "model_id", model,
                                   sizeof model, d);
    if (rc == FS_OK) rc = meta_get(g, txn, what = "model_sha256", sha,
                                   sizeof sha, d);
    /* the recipe's records are read where they are used (recipe_read):
     * in a sealed gallery, one removed is tampering, which only the
     * unlock that follows can tell */
    if (rc == FS_NOTFOUND)
        rc = fs_fail(d, FS_EFORMAT, "gallery '%s' is damaged (no meta "
                     "record '%s')", g->dir, what);
    if (rc != FS_OK)
        return rc;
    if (dim != FS_DESC_DIM || strcmp(metric, META_METRIC) != 0)
        return fs_fail(d, FS_EFORMAT, "gallery '%s' holds %llu-D %s "
                       "templates; this engine ranks %d-D %s", g->dir,
                       (unsigned long long)dim, metric, FS_DESC_DIM,
                       META_METRIC);
    if (opt && opt->model_id &&
        (strcmp(model, opt->model_id) != 0 || !opt->model_sha256 ||
         strcmp(sha, opt->model_sha256) != 0))
        return fs_fail(d, FS_EMODEL, "gallery '%s' was made by model %s "
                       "(sha256 %.12s...); this engine runs %s (sha256 "
                       "%.12s...): its templates are not comparable",
                       g->dir, model, sha, opt->model_id,
                       opt->model_sha256 ? opt->model_sha256 : "?");
    char sealed[4];
    rc = meta_get(g, txn, "sealed", sealed, sizeof sealed, d);
    if (rc == FS_NOTFOUND)
        return FS_OK;
    if (rc != FS_OK)
        return rc;
    if (strcmp(sealed, "1") != 0)
        return fs_fail(d, FS_EFORMAT, "gallery '%s' is damaged (meta "
                       "'sealed' is '%s')", g->dir, sealed);
    g->sealed = 1;
    return FS_OK;
}

/* Opens the LMDB environment in g->dir and its databases, makes the meta
 * of a new gallery (opt->create) and checks it against opt (NULL: any
 * model).  fs_gallery_open, and compaction's reopen, come here; on
 * failure g->env is NULL. */
static int env_start(fs_gallery *g, const fs_gallery_options *opt,
                     fs_detail *d)
{
    MDB_txn *txn = NULL;
    int rc = FS_OK;
    int mrc = mdb_env_create(&g->env);
    g->map_lo = g->map_hi = 0;
    g->no_second_db = 0;
    if (mrc)
        g->env = NULL;
    if (!mrc) mrc = mdb_env_set_maxdbs(g->env, 32);
    if (!mrc) mrc = mdb_env_set_mapsize(g->env, g->map_size);
    if (!mrc) mrc = mdb_env_open(g->env, g->dir, (g->readonly ? MDB_RDONLY
                                                              : 0)
                                 | MDB_NOTLS, 0600);
    if (!mrc) mrc = mdb_txn_begin(g->env, NULL, g->readonly ? MDB_RDONLY : 0,
                                  &txn);
    if (mrc)
        rc = mdb_fail(g, d, mrc, "opening");
    for (int i = 0; rc == FS_OK && i < DB_COUNT && !mrc; i++) {
        unsigned flags = g->readonly ? 0 : MDB_CREATE;
        if (i == DB_SUBJECT_IMAGES)
            flags |= MDB_DUPSORT | MDB_DUPFIXED;
        mrc = mdb_dbi_open(txn, db_names[i], flags, &g->dbi[i]);
        /* a schema 3 gallery has none until a writer opens it; what its
         * schema is, check_meta says below */
        if (i == DB_SECOND && mrc == MDB_NOTFOUND) {
            g->no_second_db = 1;
            mrc = 0;
        }
    }
    if (rc == FS_OK && mrc == MDB_NOTFOUND)
        rc = fs_fail(d, FS_EFORMAT, "'%s' is not a facesearch gallery",
                     g->dir);
    else if (rc == FS_OK && mrc)
        rc = mdb_fail(g, d, mrc, "opening its databases");
    MDB_val sk = { 6, "schema" }, sv;
    if (rc == FS_OK && opt && opt->create && !g->readonly &&
        mdb_get(txn, g->dbi[DB_META], &sk, &sv) == MDB_NOTFOUND)
        rc = create_meta(g, txn, opt, d);
    if (rc == FS_OK)
        rc = check_meta(g, txn, opt, d);
    if (rc == FS_OK && g->no_second_db && g->schema >= 4)
        rc = fs_fail(d, FS_EFORMAT, "gallery '%s' is damaged (no database "
                     "'second')", g->dir);
    /* Committed even when read-only: an aborted transaction would take
     * the database handles it opened with it. */
    if (rc == FS_OK) {
        mrc = mdb_txn_commit(txn);
        if (mrc)
            rc = mdb_fail(g, d, mrc, "creating");
    } else if (txn) {
        mdb_txn_abort(txn);
    }
    if (rc != FS_OK && g->env) {
        mdb_env_close(g->env);
        g->env = NULL;
    }
    return rc;
}

int fs_gallery_open(const char *dir, const fs_gallery_options *opt,
                    fs_gallery **out, fs_detail *d)
{
    static const fs_gallery_options none = { 0 };
    if (!dir || !*dir || !out)
        return fs_fail(d, FS_EINVAL, "no gallery directory given");
    if (!opt)
        opt = &none;
    fs_gallery *g = calloc(1, sizeof *g);
    if (!g)
        return fs_fail(d, FS_ENOMEM, "no memory for the gallery");
    snprintf(g->dir, sizeof g->dir, "%s", dir);
    g->readonly = opt->readonly;
    g->map_size = opt->map_size ? opt->map_size : DEFAULT_MAP_SIZE;
    g->lock_fd = -1;
    g->mx = opt->warm ? opt->warm : &g->own;
    g->nowait = opt->nowait;
    g->alone_wait_ms = opt->alone_wait_ms > 0 ? opt->alone_wait_ms
                                              : FS_GALLERY_ALONE_WAIT_MS;

    int rc = FS_OK;
    struct stat st;
    char data[4200];
    snprintf(data, sizeof data, "%s/data.mdb", dir);
    if (stat(dir, &st) != 0) {
        if (errno != ENOENT || !opt->create) {
            rc = fs_fail(d, fs_errno_code(errno), "no gallery at '%s': %s",
                         dir, strerror(errno));
            goto fail;
        }
        if (mkdir(dir, 0700) != 0) {
            rc = fs_fail(d, fs_errno_code(errno), "cannot create gallery "
                         "'%s': %s", dir, strerror(errno));
            goto fail;
        }
    } else if (!S_ISDIR(st.st_mode)) {
        rc = fs_fail(d, FS_ENOTFILE, "gallery '%s' is not a directory", dir);
        goto fail;
    } else if (!opt->create && stat(data, &st) != 0) {
        rc = fs_fail(d, FS_ENOENT, "no gallery at '%s' (no data.mdb)", dir);
        goto fail;
    }
    /* Shared before LMDB maps the file: a compaction under way finishes
     * first, and none starts while this handle has it open. */
    rc = lock_open(g, d);
    if (rc == FS_OK)
        rc = env_start(g, opt, d);
    if (rc != FS_OK)
        goto fail;
    *out = g;
    return FS_OK;
fail:
    if (g->lock_fd >= 0)
        close(g->lock_fd);
    free(g);
    return rc;
}

/* The ranker and the subject means it may rank, which the matrix's
 * next change makes stale. */
static void ranker_drop(fs_gallery_warm *m)
{
    fs_ranker_free(m->rk);
    m->rk = NULL;
    fs_subject_means_free(&m->means);
    m->by_mean = 0;
}

static void matrix_free(fs_gallery_warm *m)
{
    ranker_drop(m);                      /* it reads the arrays below */
    if (m->vec)
        munmap(m->vec, m->vec_bytes);
    free(m->subj);
    free(m->image);
    memset(m, 0, sizeof *m);
}

static void release_matrix(fs_gallery *g)
{
    matrix_free(g->mx);
}

int fs_gallery_warm_new(fs_gallery_warm **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? FS_OK : FS_ENOMEM;
}

void fs_gallery_warm_free(fs_gallery_warm *w)
{
    if (w) {
        matrix_free(w);
        free(w);
    }
}

static void forget_key(fs_gallery *g)
{
    fs_wipe(&g->keys, sizeof g->keys);
    g->unlocked = 0;
}

void fs_gallery_close(fs_gallery *g)
{
    if (!g)
        return;
    if (g->open_batch)
        fs_gallery_abort(g->open_batch);
    if (g->mx == &g->own)
        release_matrix(g);
    forget_key(g);
    if (g->env)
        mdb_env_close(g->env);
    if (g->lock_fd >= 0)                 /* after LMDB lets go of the file */
        close(g->lock_fd);
    free(g);
}

/* ---- the data key ---------------------------------------------------------- */

/* Writes the key check for ks (see check_key). */
static int key_check_put(fs_gallery *g, MDB_txn *txn, const keyset *ks,
                         fs_detail *d)
{
    static const char name[] = "key_check";
    MDB_val k = { sizeof name - 1, (void *)name };
    uint8_t aad[AAD_MAX], sealed[FS_SEAL_OVERHEAD];
    char hex[2 * FS_SEAL_OVERHEAD + 1];
    int rc = fs_seal_buf(ks->data, aad, record_aad(DB_META, &k, aad), NULL,
                         0, sealed);
    if (rc != FS_OK)
        return fs_fail(d, rc, "gallery '%s': cannot seal its key check",
                       g->dir);
    fs_hex(sealed, sizeof sealed, hex);
    int mrc = meta_put(g, txn, ks, name, hex);
    return mrc ? mdb_fail(g, d, mrc, "writing the key check") : FS_OK;
}

/* The key check is the empty payload sealed under the data key, with the
 * associated data of a record "key_check" in meta (no record of another
 * database can have it), kept in hex as meta values are text.  It tells a
 * wrong key at once instead of as tags failing record by record.
 * FS_OK when ks opens it, FS_EKEY when it does not, FS_NOTFOUND when the
 * gallery has none yet and txn cannot write one.  Written, *wrote says
 * so, and every meta record gets its MAC with it. */
static int check_key(fs_gallery *g, MDB_txn *txn, int writable,
                     const keyset *ks, int *wrote, fs_detail *d)
{
    static const char name[] = "key_check";
    MDB_val k = { sizeof name - 1, (void *)name };
    uint8_t aad[AAD_MAX], sealed[FS_SEAL_OVERHEAD], none[1];
    size_t aadlen = record_aad(DB_META, &k, aad);
    char hex[2 * FS_SEAL_OVERHEAD + 2];
    *wrote = 0;
    int rc = meta_get(g, txn, name, hex, sizeof hex, d);
    if (rc == FS_NOTFOUND && !writable)
        return FS_NOTFOUND;
    if (rc == FS_NOTFOUND) {
        rc = meta_fresh(g, txn, d);
        if (rc == FS_OK)
            rc = key_check_put(g, txn, ks, d);
        if (rc == FS_OK)
            rc = meta_remac(g, txn, ks, d);
        *wrote = rc == FS_OK;
        return rc;
    }
    if (rc != FS_OK)
        return rc;
    if (fs_unhex(hex, sealed, sizeof sealed) != FS_OK)
        return fs_fail(d, FS_EFORMAT, "gallery '%s' is damaged (its key "
                       "check is not %d hex bytes)", g->dir,
                       FS_SEAL_OVERHEAD);
    if (fs_unseal_buf(ks->data, aad, aadlen, sealed, sizeof sealed, none) !=
        FS_OK)
        return fs_fail(d, FS_EKEY, "gallery '%s': not this gallery's key",
                       g->dir);
    return FS_OK;
}

int fs_gallery_unlock(fs_gallery *g, const uint8_t key[FS_KEY_BYTES],
                      fs_detail *d)
{
    if (!g->sealed)
        return fs_fail(d, FS_EINVAL, "gallery '%s' is not sealed and takes "
                       "no key", g->dir);
    fs_gallery_batch *b = g->open_batch;
    keyset ks;
    keys_derive(key, &ks);
    int rc, wrote = 0;
    if (b) {
        /* The first key check commits with the batch (and the gate's
         * wrapped key in it), or not at all. */
        rc = check_key(g, b->txn, !b->readonly, &ks, &wrote, d);
        if (rc == FS_OK && !wrote)
            rc = meta_verify_all(g, b->txn, &ks, d);
        b->wrote_key_check |= wrote;
    } else {
        /* A read first: every unlock but the first finds the check, and a
         * read waits on no writer. */
        MDB_txn *txn;
        rc = read_txn(g, &txn, d);
        if (rc == FS_OK) {
            rc = check_key(g, txn, 0, &ks, &wrote, d);
            if (rc == FS_OK)
                rc = meta_verify_all(g, txn, &ks, d);
            mdb_txn_abort(txn);
        }
        if (rc == FS_NOTFOUND && !g->readonly) {
            int mrc = mdb_txn_begin(g->env, NULL, 0, &txn);
            rc = mrc ? mdb_fail(g, d, mrc, "starting a transaction")
                     : check_key(g, txn, 1, &ks, &wrote, d);
            if (rc == FS_OK)
                mrc = mdb_txn_commit(txn);
            else if (!mrc)
                mdb_txn_abort(txn);
            if (rc == FS_OK && mrc)
                rc = mdb_fail(g, d, mrc, "writing the key check");
        }
    }
    if (rc == FS_NOTFOUND)
        rc = fs_fail(d, FS_EACCESS, "gallery '%s' has no key check yet and "
                     "a read-only handle or view cannot write one", g->dir);
    if (rc == FS_OK) {
        g->keys = ks;
        g->unlocked = 1;
    }
    fs_wipe(&ks, sizeof ks);
    return rc;
}

/* ---- template blocks ------------------------------------------------------- */

static tslot *blk_slots(uint8_t *payload)
{
    return (tslot *)(void *)(payload + TBLK_SLOTS_OFF);
}

static float *blk_vec(uint8_t *payload)
{
    return (float *)(void *)(payload + TBLK_VEC_OFF);
}

/* A block's plaintext is a thousand templates: wiped before the heap
 * gets it back when the gallery keeps them sealed. */
static void blk_free(const fs_gallery *g, uint8_t *payload)
{
    if (payload && g->sealed)
        fs_wipe(payload, TBLK_PAYLOAD);
    free(payload);
}

/* A template block read through LMDB's map stays resident in this
 * process (file pages, the page cache's) until the kernel wants them: at
 * 10M rows that is a second 5 GB beside the matrix, in every peak, and
 * as much again in an enrolment that has appended to every block.  Its
 * pages are dropped from our mapping once copied.  The map is read-only
 * (no MDB_WRITEMAP), so nothing is lost and a later read maps them again
 * from the page cache; a block is a run of overflow pages of its own, so
 * no other record's page goes with it.  Only the map's pages: in a write
 * transaction a block already written lives in a dirty page of LMDB's
 * heap, which must be left alone: the map is found by the data file's
 * device and inode in /proc/self/maps (mdb_env_info gives its address
 * only for MDB_FIXEDMAP), and a process without /proc drops nothing. */
static void map_find(fs_gallery *g)
{
    struct stat st;
    int fd;
    FILE *f;
    char line[4352];
    g->map_hi = 1;                       /* looked for, found or not */
    if (mdb_env_get_fd(g->env, &fd) != 0 || fstat(fd, &st) != 0 ||
        !(f = fopen("/proc/self/maps", "r")))
        return;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi, off, ino;
        unsigned maj, min;
        char perm[8];
        if (sscanf(line, "%lx-%lx %7s %lx %x:%x %lu", &lo, &hi, perm, &off,
                   &maj, &min, &ino) == 7 && ino == (unsigned long)st.st_ino &&
            makedev(maj, min) == st.st_dev && off == 0) {
            g->map_lo = lo;
            g->map_hi = hi;
            break;
        }
    }
    fclose(f);
}

static void map_drop(fs_gallery *g, const void *p, size_t len)
{
    static size_t page;
    if (!g->map_hi)
        map_find(g);
    if (!page)
        page = (size_t)sysconf(_SC_PAGESIZE);
    uintptr_t a = (uintptr_t)p & ~(uintptr_t)(page - 1),
              e = ((uintptr_t)p + len + page - 1) & ~(uintptr_t)(page - 1);
    if (a >= g->map_lo && e <= g->map_hi)
        madvise((void *)a, e - a, MADV_DONTNEED);
}

/* The writable copy of block no within the batch, read from the store
 * the first time (or zeroed when the block does not exist yet).  The
 * batch works on these plaintext copies; they are sealed once, at
 * commit. */
static int blk_get(fs_gallery_batch *b, uint32_t no, uint8_t **payload,
                   fs_detail *d)
{
    for (size_t i = 0; i < b->nblk; i++)
        if (b->blk[i].no == no) {
            *payload = b->blk[i].payload;
            return FS_OK;
        }
    if (b->nblk == b->capblk) {
        size_t cap = b->capblk ? b->capblk * 2 : 4;
        cached_block *nb = realloc(b->blk, cap * sizeof *nb);
        if (!nb)
            return fs_fail(d, FS_ENOMEM, "no memory for a template block");
        b->blk = nb;
        b->capblk = cap;
    }
    uint8_t *p = aligned_alloc(64, TBLK_PAYLOAD);
    if (!p)
        return fs_fail(d, FS_ENOMEM, "no memory for a template block");
    uint8_t key[4];
    be32(key, no);
    MDB_val k = { 4, key }, v;
    int mrc = mdb_get(b->txn, b->g->dbi[DB_TBLOCKS], &k, &v);
    if (mrc == MDB_NOTFOUND) {
        memset(p, 0, TBLK_PAYLOAD);
    } else if (mrc) {
        free(p);
        return mdb_fail(b->g, d, mrc, "reading a template block");
    } else {
        fs_rbuf r = { 0 };
        int rc = env_open(b->g, b->txn, DB_TBLOCKS, &k, &v, p, TBLK_PAYLOAD, &r, d);
        if (rc == FS_OK && r.len != TBLK_PAYLOAD)
            rc = fs_fail(d, FS_EFORMAT, "gallery '%s' is damaged (template "
                         "block %u has %zu bytes)", b->g->dir, no, r.len);
        if (rc != FS_OK) {
            blk_free(b->g, p);
            return rc;
        }
        if (r.p != p)                   /* plain: still in the map */
            memcpy(p, r.p, TBLK_PAYLOAD);
        map_drop(b->g, v.mv_data, v.mv_size);
    }
    b->blk[b->nblk++] = (cached_block){ no, 0, p };
    *payload = p;
    return FS_OK;
}

static void blk_dirty(fs_gallery_batch *b, const uint8_t *payload)
{
    for (size_t i = 0; i < b->nblk; i++)
        if (b->blk[i].payload == payload)
            b->blk[i].dirty = 1;
}

/* Writes the dirty blocks that still hold rows and deletes those past
 * the end; the block count follows from the row count. */
static int blk_flush(fs_gallery_batch *b, fs_detail *d)
{
    uint64_t nblocks = (b->c.rows + FS_TBLOCK_ROWS - 1) / FS_TBLOCK_ROWS;
    for (size_t i = 0; i < b->nblk; i++) {
        cached_block *cb = &b->blk[i];
        if (!cb->dirty)
            continue;
        uint8_t key[4];
        be32(key, cb->no);
        MDB_val k = { 4, key };
        if (cb->no >= nblocks) {
            int mrc = mdb_del(b->txn, b->g->dbi[DB_TBLOCKS], &k, NULL);
            if (mrc && mrc != MDB_NOTFOUND)
                return mdb_fail(b->g, d, mrc, "removing a template block");
        } else {
            uint32_t rows = (uint32_t)(cb->no + 1 < nblocks ? FS_TBLOCK_ROWS
                            : b->c.rows - (uint64_t)cb->no * FS_TBLOCK_ROWS);
            memcpy(cb->payload, &rows, sizeof rows);
            int rc = env_put(b, DB_TBLOCKS, &k, cb->payload, TBLK_PAYLOAD, d);
            if (rc != FS_OK)
                return rc;
        }
        cb->dirty = 0;
    }
    return FS_OK;
}

static void blk_release(fs_gallery_batch *b)
{
    for (size_t i = 0; i < b->nblk; i++)
        blk_free(b->g, b->blk[i].payload);
    free(b->blk);
    b->blk = NULL;
    b->nblk = b->capblk = 0;
}

/* ---- writing ---------------------------------------------------------------- */

static int begin(fs_gallery *g, int readonly, fs_gallery_batch **out,
                 fs_detail *d)
{
    if (!readonly && g->readonly)
        return fs_fail(d, FS_EACCESS, "gallery '%s' is open read-only",
                       g->dir);
    if (g->open_batch)
        return fs_fail(d, FS_EINVAL, "gallery '%s' already has a batch "
                       "open", g->dir);
    if (!g->env)
        return env_gone(g, d);
    fs_gallery_batch *b = calloc(1, sizeof *b);
    if (!b)
        return fs_fail(d, FS_ENOMEM, "no memory for a batch");
    b->g = g;
    b->readonly = readonly;
    int mrc = mdb_txn_begin(g->env, NULL, readonly ? MDB_RDONLY : 0, &b->txn);
    if (mrc) {
        free(b);
        return mdb_fail(g, d, mrc, "starting a transaction");
    }
    int rc = counters_read(g, b->txn, &b->c, d);
    if (rc != FS_OK) {
        mdb_txn_abort(b->txn);
        free(b);
        return rc;
    }
    b->c0 = b->c;
    g->open_batch = b;
    *out = b;
    return FS_OK;
}

int fs_gallery_begin(fs_gallery *g, fs_gallery_batch **out, fs_detail *d)
{
    return begin(g, 0, out, d);
}

int fs_gallery_begin_read(fs_gallery *g, fs_gallery_batch **out,
                          fs_detail *d)
{
    return begin(g, 1, out, d);
}

static int writable(const fs_gallery_batch *b, fs_detail *d)
{
    return b->readonly ? fs_fail(d, FS_EACCESS, "gallery '%s': a write in "
                                 "a read-only view", b->g->dir) : FS_OK;
}

/* A write that failed part way may have left some of its records: LMDB
 * marks such a transaction failed, and so does the batch, which can then
 * only be aborted.  Refusals made before any write (a record already
 * there, none to remove, bad input, no key) leave it fit to go on. */
static int wrote(fs_gallery_batch *b, int rc)
{
    if (rc != FS_OK && rc != FS_EXISTS && rc != FS_NOTFOUND &&
        rc != FS_EINVAL && rc != FS_EKEY && rc != FS_EACCESS &&
        rc != FS_EBUSY)
        b->failed = 1;
    return rc;
}

/* Ends a batch whose transaction is over, committed or not. */
static void batch_end(fs_gallery_batch *b)
{
    fs_gallery *g = b->g;
    blk_release(b);
    if (b->rekeyed && b->txn == NULL)    /* committed: the new keys rule */
        g->keys = b->keys;
    fs_wipe(&b->keys, sizeof b->keys);
    if (b->took_exclusive)
        fs_gallery_lock_shared(g);
    g->open_batch = NULL;
    free(b);
}

void fs_gallery_abort(fs_gallery_batch *b)
{
    if (!b)
        return;
    mdb_txn_abort(b->txn);
    b->rekeyed = 0;
    /* The key check this batch wrote is gone: a key kept without it
     * could seal records that no later unlock would vouch for. */
    if (b->wrote_key_check)
        forget_key(b->g);
    batch_end(b);
}

int fs_gallery_commit(fs_gallery_batch *b, fs_detail *d)
{
    fs_gallery *g = b->g;
    if (b->readonly) {
        fs_gallery_abort(b);
        return FS_OK;
    }
    if (b->failed) {
        fs_gallery_abort(b);
        return fs_fail(d, FS_EINTERNAL, "a write of this batch failed part "
                       "way: it was aborted, not committed");
    }
    int rc = blk_flush(b, d);
    /* Unchanged counters are left alone: a batch of the gate's records
     * alone needs no key, and their MACs would need one. */
    if (rc == FS_OK && memcmp(&b->c, &b->c0, sizeof b->c) != 0) {
        int mrc = counters_write(g, b->txn, &b->c);
        if (mrc)
            rc = mdb_fail(g, d, mrc, "writing the counters");
    }
    if (rc != FS_OK) {
        fs_gallery_abort(b);
        return rc;
    }
    int mrc = mdb_txn_commit(b->txn);
    b->txn = NULL;
    if (mrc) {
        b->rekeyed = 0;
        if (b->wrote_key_check)
            forget_key(g);
    }
    /* The loaded matrix goes stale only with the rows: the gate's own
     * records (a search, its entry) commit beside it and keep it. */
    if (b->rows_changed)
        release_matrix(g);
    batch_end(b);
    return mrc ? mdb_fail(g, d, mrc, "committing") : FS_OK;
}

/* Subject ids become LMDB keys, file names in reports and CSV cells:
 * a small safe alphabet. */
int fs_gallery_check_subject_id(const char *s, fs_detail *d)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0)
        return fs_fail(d, FS_EINVAL, "empty subject id");
    if (n >= FS_SUBJECT_MAX)
        return fs_fail(d, FS_EINVAL, "subject id '%.20s...' is longer than "
                       "%d bytes", s, FS_SUBJECT_MAX - 1);
    if (s[0] == '.')
        return fs_fail(d, FS_EINVAL, "subject id '%s' starts with '.'", s);
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return fs_fail(d, FS_EINVAL, "subject id '%s' holds '%c' "
                           "(allowed: letters, digits, '.', '_', '-')", s,
                           c >= 0x20 && c < 0x7f ? c : '?');
    }
    return FS_OK;
}

static int check_field(const char *name, const char *s, fs_detail *d)
{
    if (!s)
        return FS_OK;
    size_t n = strlen(s);
    if (n >= FS_FIELD_MAX)
        return fs_fail(d, FS_EINVAL, "%s is longer than %d bytes", name,
                       FS_FIELD_MAX - 1);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return fs_fail(d, FS_EINVAL, "%s holds a control character",
                           name);
    return FS_OK;
}

static int check_mugshot(const fs_mugshot *m, fs_detail *d)
{
    int rc = fs_gallery_check_subject_id(m->subject, d);
    if (rc == FS_OK) rc = check_field("name", m->name, d);
    if (rc == FS_OK) rc = check_field("booking number", m->booking_number, d);
    if (rc == FS_OK) rc = check_field("capture date", m->capture_date, d);
    if (rc == FS_OK) rc = check_field("source agency", m->source_agency, d);
    if (rc == FS_OK) rc = check_field("lawful source", m->lawful_source, d);
    if (rc != FS_OK)
        return rc;
    double ss = 0;
    for (int i = 0; i < FS_DESC_DIM; i++)
        ss += (double)m->tmpl[i] * m->tmpl[i];
    if (!(ss > 0.98 && ss < 1.02))
        return fs_fail(d, FS_EINVAL, "template of subject '%s' is not of "
                       "unit length", m->subject);
    if (m->image_len && !m->image)
        return fs_fail(d, FS_EINVAL, "image bytes missing");
    return FS_OK;
}

int fs_gallery_find_sha(fs_gallery *g, const uint8_t sha256[32],
                        uint64_t *image_id)
{
    MDB_txn *txn;
    if (read_txn(g, &txn, NULL) != FS_OK)
        return FS_EIO;
    MDB_val k = { 32, (void *)sha256 }, v;
    int mrc = mdb_get(txn, g->dbi[DB_SHA], &k, &v);
    int rc = FS_OK;
    if (mrc == MDB_NOTFOUND)
        rc = FS_NOTFOUND;
    else if (mrc || v.mv_size != 8)
        rc = FS_EFORMAT;
    else
        *image_id = get_be64(v.mv_data);
    mdb_txn_abort(txn);
    return rc;
}

/* Writes of sealed records need a write batch and, sealed, the key. */
static int can_change(fs_gallery_batch *b, fs_detail *d)
{
    int rc = writable(b, d);
    return rc == FS_OK ? need_key(b->g, d) : rc;
}

/* ---- second templates ---------------------------------------------------- */

/* Half floats: a unit vector's values keep 3 significant digits, which
 * moves a cosine by about 1e-4 (tests/check_gallery.c), for a quarter
 * of float's bytes. */
static int second_put(fs_gallery_batch *b, uint64_t id, const float *t,
                      fs_detail *d)
{
    _Float16 h[FS_DESC2_DIM];
    for (size_t i = 0; i < FS_DESC2_DIM; i++)
        h[i] = (_Float16)t[i];
    int rc = image_put(b, DB_SECOND, id, h, sizeof h, d);
    fs_wipe(h, sizeof h);
    return rc;
}

/* Image id's second template in txn's view: its absence is tampering,
 * since every image of a gallery that keeps them has one. */
static int second_get(const fs_gallery *g, MDB_txn *txn, uint64_t id,
                      float *out, fs_detail *d)
{
    uint8_t key[8];
    MDB_val k, v;
    int rc = image_find(g, txn, DB_SECOND, id, key, &k, &v, d);
    if (rc == FS_NOTFOUND)
        return fs_fail(d, FS_ETAMPER, "gallery '%s': image %llu's second "
                       "template is missing (removed or damaged)", g->dir,
                       (unsigned long long)id);
    if (rc != FS_OK)
        return rc;
    _Float16 h[FS_DESC2_DIM];
    fs_rbuf r = { 0 };
    rc = env_open(g, txn, DB_SECOND, &k, &v, (uint8_t *)h, sizeof h, &r, d);
    if (rc == FS_OK && r.len != SECOND_BYTES)
        rc = fs_fail(d, FS_ETAMPER, "gallery '%s': image %llu's second "
                     "template is %zu bytes, not %zu (tampered or damaged)",
                     g->dir, (unsigned long long)id, r.len, SECOND_BYTES);
    if (rc == FS_OK && out) {
        memmove(h, r.p, SECOND_BYTES);       /* plain: it is in the map */
        for (size_t i = 0; i < FS_DESC2_DIM; i++)
            out[i] = (float)h[i];
    }
    fs_wipe(h, sizeof h);
    return rc;
}

int fs_gallery_recipe(fs_gallery *g, fs_recipe *out, fs_detail *d)
{
    fs_gallery_stats st;
    int rc = fs_gallery_stat(g, &st, d);
    if (rc == FS_OK)
        *out = st.recipe;
    return rc;
}

int fs_gallery_seconds(fs_gallery *g, const uint32_t *rows, size_t n,
                       float *out, fs_detail *d)
{
    const fs_gallery_warm *m = g->mx;
    MDB_txn *txn;
    int rc = sealed_read(g, &txn, d);
    if (rc != FS_OK)
        return rc;
    fs_recipe rp;
    rc = recipe_read(g, txn, &rp, d);
    if (rc == FS_OK && !rp.second_model_id[0])
        rc = fs_fail(d, FS_EINVAL, "gallery '%s' keeps no second templates",
                     g->dir);
    for (size_t i = 0; rc == FS_OK && i < n; i++) {
        image_rec im;
        if (!m->image || rows[i] >= m->nrows)
            rc = fs_fail(d, FS_EINVAL, "row %u is not in the loaded "
                         "templates", rows[i]);
        else if ((rc = get_image_rec(g, txn, m->image[rows[i]], &im, d))
                 == FS_NOTFOUND || (rc == FS_OK && im.row != rows[i]))
            rc = fs_fail(d, FS_NOTFOUND, "template row %u of gallery '%s' "
                         "changed since it was ranked", rows[i], g->dir);
        if (rc == FS_OK)
            rc = second_get(g, txn, m->image[rows[i]],
                            out + i * FS_DESC2_DIM, d);
    }
    mdb_txn_abort(txn);
    return rc;
}

static int gallery_put_in(fs_gallery_batch *b, const fs_mugshot *m,
                          fs_put_result *res, fs_detail *d)
{
    fs_gallery *g = b->g;
    fs_recipe rp;
    int rc = can_change(b, d);
    if (rc == FS_OK)
        rc = check_mugshot(m, d);
    if (rc == FS_OK)
        rc = recipe_read(g, b->txn, &rp, d);
    if (rc == FS_OK && !rp.second_model_id[0] != !m->tmpl2)
        rc = fs_fail(d, FS_EINVAL, rp.second_model_id[0]
                     ? "the gallery's recipe keeps a second template (%s) "
                       "of every image: this image has none"
                     : "the gallery's recipe keeps no second template%s",
                     rp.second_model_id);
    if (rc != FS_OK)
        return rc;
    MDB_val sk = { 32, (void *)m->sha256 }, sv;
    int mrc = mdb_get(b->txn, g->dbi[DB_SHA], &sk, &sv);
    if (mrc == 0) {
        if (sv.mv_size != 8)
            return mdb_fail(g, d, MDB_CORRUPTED, "reading the sha index");
        if (res)
            *res = (fs_put_result){ get_be64(sv.mv_data), 0, 0 };
        return FS_EXISTS;
    }
    if (mrc != MDB_NOTFOUND)
        return mdb_fail(g, d, mrc, "reading the sha index");

    /* Work on a copy of the counters: a failed put leaves them as they
     * were, and the caller may still commit the batch's other puts. */
    counters c = b->c;
    subject_rec s;
    int new_subject = 0;
    rc = get_subject(g, b->txn, m->subject, &s, d);
    if (rc == FS_NOTFOUND) {
        new_subject = 1;
        s = (subject_rec){ c.next_subject++, 0, "" };
        snprintf(s.name, sizeof s.name, "%s", m->name ? m->name : "");
        c.subjects++;
        uint8_t nk[4];
        be32(nk, s.number);
        MDB_val k = { 4, nk }, v = { strlen(m->subject), (void *)m->subject };
        mrc = mdb_put(b->txn, g->dbi[DB_SUBJECT_NUM], &k, &v, 0);
        if (mrc)
            return mdb_fail(g, d, mrc, "writing a subject");
    } else if (rc != FS_OK) {
        return rc;
    } else if (!s.name[0] && m->name) {
        snprintf(s.name, sizeof s.name, "%s", m->name);
    }
    s.images++;
    rc = put_subject(b, m->subject, &s, d);
    if (rc != FS_OK)
        return rc;

    uint64_t id = c.next_image++;
    image_rec im = { .row = c.rows, .image_len = m->image_len,
                     .enrolled = (int64_t)time(NULL) };
    memcpy(im.sha256, m->sha256, 32);
    snprintf(im.subject, sizeof im.subject, "%s", m->subject);
#define COPY(f) snprintf(im.f, sizeof im.f, "%s", m->f ? m->f : "")
    COPY(booking_number);
    COPY(capture_date);
    COPY(source_agency);
    COPY(lawful_source);
#undef COPY
    rc = put_image_rec(b, id, &im, d);
    if (rc != FS_OK)
        return rc;
    uint8_t ik[8];
    be64(ik, id);
    MDB_val k = { 8, ik }, v = { 8, ik };
    if (m->image_len) {
        rc = env_put(b, DB_IMAGE_DATA, &k, m->image, m->image_len, d);
        if (rc != FS_OK)
            return rc;
    }
    if (m->tmpl2 && (rc = second_put(b, id, m->tmpl2, d)) != FS_OK)
        return rc;
    mrc = mdb_put(b->txn, g->dbi[DB_SHA], &sk, &v, 0);
    if (!mrc) {
        MDB_val subk = { strlen(m->subject), (void *)m->subject };
        mrc = mdb_put(b->txn, g->dbi[DB_SUBJECT_IMAGES], &subk, &v, 0);
    }
    if (mrc)
        return mdb_fail(g, d, mrc, "writing the indexes");

    uint8_t *blk;
    rc = blk_get(b, (uint32_t)(c.rows / FS_TBLOCK_ROWS), &blk, d);
    if (rc != FS_OK)
        return rc;
    size_t slot = c.rows % FS_TBLOCK_ROWS;
    blk_slots(blk)[slot] = (tslot){ s.number, 0, id };
    memcpy(blk_vec(blk) + slot * FS_DESC_DIM, m->tmpl, sizeof m->tmpl);
    blk_dirty(b, blk);
    c.rows++;
    c.images++;
    c.image_bytes += m->image_len;
    b->c = c;
    if (res)
        *res = (fs_put_result){ id, s.number, new_subject };
    return FS_OK;
}

int fs_gallery_put(fs_gallery_batch *b, const fs_mugshot *m,
                   fs_put_result *res, fs_detail *d)
{
    b->rows_changed = 1;
    return wrote(b, gallery_put_in(b, m, res, d));
}

/* Frees template row `row` by moving the last row into it. */
static int remove_row(fs_gallery_batch *b, uint64_t row, fs_detail *d)
{
    uint64_t last = b->c.rows - 1;
    uint8_t *dst, *src;
    int rc = blk_get(b, (uint32_t)(row / FS_TBLOCK_ROWS), &dst, d);
    if (rc == FS_OK)
        rc = blk_get(b, (uint32_t)(last / FS_TBLOCK_ROWS), &src, d);
    if (rc != FS_OK)
        return rc;
    size_t ds = row % FS_TBLOCK_ROWS, ss = last % FS_TBLOCK_ROWS;
    if (row != last) {
        tslot moved = blk_slots(src)[ss];
        image_rec im;
        rc = get_image_rec(b->g, b->txn, moved.image, &im, d);
        if (rc == FS_NOTFOUND)
            rc = fs_fail(d, FS_EFORMAT, "gallery '%s' is damaged (row %llu "
                         "names no image)", b->g->dir,
                         (unsigned long long)last);
        if (rc != FS_OK)
            return rc;
        im.row = row;
        rc = put_image_rec(b, moved.image, &im, d);
        if (rc != FS_OK)
            return rc;
        blk_slots(dst)[ds] = moved;
        memcpy(blk_vec(dst) + ds * FS_DESC_DIM,
               blk_vec(src) + ss * FS_DESC_DIM, FS_DESC_DIM * sizeof(float));
    }
    memset(&blk_slots(src)[ss], 0, sizeof(tslot));
    memset(blk_vec(src) + ss * FS_DESC_DIM, 0, FS_DESC_DIM * sizeof(float));
    blk_dirty(b, dst);
    blk_dirty(b, src);
    b->c.rows--;
    return FS_OK;
}

static int remove_image(fs_gallery_batch *b, const char *subject,
                        uint64_t id, fs_detail *d)
{
    fs_gallery *g = b->g;
    image_rec im;
    int rc = get_listed_image(g, b->txn, subject, id, &im, d);
    if (rc != FS_OK)
        return rc;
    if (im.row >= b->c.rows)
        return fs_fail(d, FS_EFORMAT, "gallery '%s' is damaged (image %llu "
                       "names row %llu of %llu)", g->dir,
                       (unsigned long long)id, (unsigned long long)im.row,
                       (unsigned long long)b->c.rows);
    rc = remove_row(b, im.row, d);
    if (rc != FS_OK)
        return rc;
    uint8_t ik[8];
    be64(ik, id);
    MDB_val k = { 8, ik }, sk = { 32, im.sha256 };
    int mrc = mdb_del(b->txn, g->dbi[DB_IMAGES], &k, NULL);
    if (!mrc) {
        mrc = mdb_del(b->txn, g->dbi[DB_IMAGE_DATA], &k, NULL);
        if (mrc == MDB_NOTFOUND)         /* template-only records */
            mrc = 0;
    }
    if (!mrc && !g->no_second_db) {
        mrc = mdb_del(b->txn, g->dbi[DB_SECOND], &k, NULL);
        if (mrc == MDB_NOTFOUND)         /* a recipe without one */
            mrc = 0;
    }
    if (!mrc)
        mrc = mdb_del(b->txn, g->dbi[DB_SHA], &sk, NULL);
    if (mrc)
        return mdb_fail(g, d, mrc, "removing an image");
    b->c.images--;
    b->c.image_bytes -= im.image_len;
    return FS_OK;
}

/* Image ids of a subject, in a buffer the caller frees. */
static int subject_image_ids(const fs_gallery *g, MDB_txn *txn,
                             const char *subject, uint64_t **ids, size_t *n,
                             fs_detail *d)
{
    MDB_cursor *cur;
    int mrc = mdb_cursor_open(txn, g->dbi[DB_SUBJECT_IMAGES], &cur);
    if (mrc)
        return mdb_fail(g, d, mrc, "listing a subject's images");
    MDB_val k = { strlen(subject), (void *)subject }, v;
    size_t cnt = 0, cap = 0;
    uint64_t *out = NULL;
    int rc = FS_OK;
    for (mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY); mrc == 0;
         mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_DUP)) {
        if (v.mv_size != 8) {
            mrc = MDB_CORRUPTED;
            break;
        }
        if (cnt == cap) {
            cap = cap ? cap * 2 : 16;
            uint64_t *p = realloc(out, cap * sizeof *p);
            if (!p) {
                rc = fs_fail(d, FS_ENOMEM, "no memory for image ids");
                break;
            }
            out = p;
        }
        out[cnt++] = get_be64(v.mv_data);
    }
    mdb_cursor_close(cur);
    if (rc == FS_OK && mrc != MDB_NOTFOUND)
        rc = mdb_fail(g, d, mrc, "listing a subject's images");
    if (rc != FS_OK) {
        free(out);
        return rc;
    }
    *ids = out;
    *n = cnt;
    return FS_OK;
}

/* A subject by id, and its image ids when ids is not NULL (the caller
 * frees them); FS_NOTFOUND names the subject and the gallery. */
static int find_subject(const fs_gallery *g, MDB_txn *txn,
                        const char *subject, subject_rec *s, uint64_t **ids,
                        size_t *n, fs_detail *d)
{
    int rc = get_subject(g, txn, subject, s, d);
    if (rc == FS_NOTFOUND)
        return fs_fail(d, rc, "no subject '%s' in gallery '%s'", subject,
                       g->dir);
    if (rc == FS_OK && ids)
        rc = subject_image_ids(g, txn, subject, ids, n, d);
    return rc;
}

static int gallery_remove_in(fs_gallery_batch *b, const char *subject,
                             fs_detail *d)
{
    fs_gallery *g = b->g;
    int rc = can_change(b, d);
    if (rc == FS_OK)
        rc = fs_gallery_check_subject_id(subject, d);
    if (rc != FS_OK)
        return rc;
    subject_rec s;
    uint64_t *ids = NULL;
    size_t n = 0;
    rc = find_subject(g, b->txn, subject, &s, &ids, &n, d);
    for (size_t i = 0; rc == FS_OK && i < n; i++)
        rc = remove_image(b, subject, ids[i], d);
    free(ids);
    if (rc != FS_OK)
        return rc;
    uint8_t nk[4];
    be32(nk, s.number);
    MDB_val k = { strlen(subject), (void *)subject }, numk = { 4, nk };
    int mrc = mdb_del(b->txn, g->dbi[DB_SUBJECT_IMAGES], &k, NULL);
    if (!mrc) mrc = mdb_del(b->txn, g->dbi[DB_SUBJECTS], &k, NULL);
    if (!mrc) mrc = mdb_del(b->txn, g->dbi[DB_SUBJECT_NUM], &numk, NULL);
    if (mrc)
        return mdb_fail(g, d, mrc, "removing a subject");
    b->c.subjects--;
    return FS_OK;
}

int fs_gallery_remove(fs_gallery_batch *b, const char *subject,
                      fs_detail *d)
{
    b->rows_changed = 1;
    return wrote(b, gallery_remove_in(b, subject, d));
}

/* ---- records of the modules above ------------------------------------------ */

/* A record's LMDB key: its table's byte, then the caller's key. */
static int record_key(unsigned table, const void *key, size_t klen,
                      uint8_t *buf, MDB_val *k)
{
    if (table == 0 || table > 255 || klen > FS_RECORD_KEY_MAX ||
        (klen && !key))
        return FS_EINVAL;
    buf[0] = (uint8_t)table;
    if (klen)
        memcpy(buf + 1, key, klen);
    *k = (MDB_val){ klen + 1, buf };
    return FS_OK;
}

static void record_out(const MDB_val *k, const MDB_val *v, fs_record *out)
{
    *out = (fs_record){ (const uint8_t *)k->mv_data + 1, k->mv_size - 1,
                        v->mv_data, v->mv_size };
}

int fs_record_get(fs_gallery_batch *b, unsigned table, const void *key,
                  size_t klen, fs_record *out, fs_detail *d)
{
    uint8_t buf[FS_RECORD_KEY_MAX + 1];
    MDB_val k, v;
    if (record_key(table, key, klen, buf, &k) != FS_OK)
        return fs_fail(d, FS_EINVAL, "bad record key (table %u, %zu bytes)",
                       table, klen);
    int mrc = mdb_get(b->txn, b->g->dbi[DB_RECORDS], &k, &v);
    if (mrc == MDB_NOTFOUND)
        return FS_NOTFOUND;
    if (mrc)
        return mdb_fail(b->g, d, mrc, "reading a record");
    *out = (fs_record){ key, klen, v.mv_data, v.mv_size };
    return FS_OK;
}

/* The key of a record about to be written or removed, in a write batch. */
static int write_key(const fs_gallery_batch *b, unsigned table,
                     const void *key, size_t klen, uint8_t *buf, MDB_val *k,
                     fs_detail *d)
{
    int rc = writable(b, d);
    if (rc == FS_OK && record_key(table, key, klen, buf, k) != FS_OK)
        rc = fs_fail(d, FS_EINVAL, "bad record key (table %u, %zu bytes)",
                     table, klen);
    return rc;
}

static int record_put_in(fs_gallery_batch *b, unsigned table,
                         const void *key, size_t klen, const void *val,
                         size_t vlen, int flags, fs_detail *d)
{
    uint8_t buf[FS_RECORD_KEY_MAX + 1];
    MDB_val k, v = { vlen, (void *)val };
    int rc = write_key(b, table, key, klen, buf, &k, d);
    if (rc != FS_OK)
        return rc;
    int mrc = mdb_put(b->txn, b->g->dbi[DB_RECORDS], &k, &v,
                      (flags & FS_RECORD_NEW) ? MDB_NOOVERWRITE : 0);
    if (mrc == MDB_KEYEXIST)
        return FS_EXISTS;
    return mrc ? mdb_fail(b->g, d, mrc, "writing a record") : FS_OK;
}

int fs_record_put(fs_gallery_batch *b, unsigned table, const void *key,
                  size_t klen, const void *val, size_t vlen, int flags,
                  fs_detail *d)
{
    return wrote(b, record_put_in(b, table, key, klen, val, vlen, flags,
                                  d));
}

static int record_del_in(fs_gallery_batch *b, unsigned table,
                         const void *key, size_t klen, fs_detail *d)
{
    uint8_t buf[FS_RECORD_KEY_MAX + 1];
    MDB_val k;
    int rc = write_key(b, table, key, klen, buf, &k, d);
    if (rc != FS_OK)
        return rc;
    int mrc = mdb_del(b->txn, b->g->dbi[DB_RECORDS], &k, NULL);
    if (mrc == MDB_NOTFOUND)
        return FS_NOTFOUND;
    return mrc ? mdb_fail(b->g, d, mrc, "removing a record") : FS_OK;
}

int fs_record_del(fs_gallery_batch *b, unsigned table, const void *key,
                  size_t klen, fs_detail *d)
{
    return wrote(b, record_del_in(b, table, key, klen, d));
}

/* One cursor step from a key: the first record at or after it (after:
 * strictly after), or the table's last record (last). */
static int record_find(fs_gallery_batch *b, unsigned table, const void *key,
                       size_t klen, int after, int last, fs_record *out,
                       fs_detail *d)
{
    uint8_t buf[FS_RECORD_KEY_MAX + 2];
    MDB_val k, v;
    if (record_key(table, key, klen, buf, &k) != FS_OK)
        return fs_fail(d, FS_EINVAL, "bad record key (table %u, %zu bytes)",
                       table, klen);
    if (last) {
        /* The table's end is just before the next table's first key. */
        if (table == 255)
            return fs_fail(d, FS_EINVAL, "no table after 255");
        buf[0] = (uint8_t)(table + 1);
        k.mv_size = 1;
    }
    MDB_cursor *c;
    int mrc = mdb_cursor_open(b->txn, b->g->dbi[DB_RECORDS], &c);
    if (mrc)
        return mdb_fail(b->g, d, mrc, "reading records");
    MDB_val want = k;
    mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    if (last) {
        mrc = mdb_cursor_get(c, &k, &v, mrc == MDB_NOTFOUND ? MDB_LAST
                                                              : MDB_PREV);
    } else if (!mrc && after && k.mv_size == want.mv_size &&
               memcmp(k.mv_data, want.mv_data, k.mv_size) == 0) {
        mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
    }
    int rc = FS_OK;
    if (mrc == MDB_NOTFOUND || (!mrc && ((const uint8_t *)k.mv_data)[0] !=
                                           (uint8_t)table))
        rc = FS_NOTFOUND;
    else if (mrc)
        rc = mdb_fail(b->g, d, mrc, "reading records");
    else
        record_out(&k, &v, out);
    mdb_cursor_close(c);
    return rc;
}

int fs_record_seek(fs_gallery_batch *b, unsigned table, const void *key,
                   size_t klen, int after, fs_record *out, fs_detail *d)
{
    return record_find(b, table, key, klen, after, 0, out, d);
}

int fs_record_last(fs_gallery_batch *b, unsigned table, fs_record *out,
                   fs_detail *d)
{
    return record_find(b, table, NULL, 0, 0, 1, out, d);
}

/* ---- settings --------------------------------------------------------------- */

static const char *const rank_modes[] = { "exact", "compressed" };

static int read_rank_mode(const fs_gallery *g, MDB_txn *txn, int *mode,
                          fs_detail *d)
{
    char buf[16];
    int rc = meta_get(g, txn, "rank_mode", buf, sizeof buf, d);
    if (rc == FS_NOTFOUND)
        return fs_fail(d, FS_EFORMAT, "gallery '%s' is damaged (no meta "
                       "record 'rank_mode')", g->dir);
    for (int i = 0; rc == FS_OK && i < 2; i++)
        if (strcmp(buf, rank_modes[i]) == 0) {
            *mode = i;
            return FS_OK;
        }
    return rc != FS_OK ? rc : fs_fail(d, FS_EFORMAT, "gallery '%s' is "
                                      "damaged (rank mode '%s')", g->dir,
                                      buf);
}

int fs_gallery_rank_mode(fs_gallery *g, int *mode)
{
    MDB_txn *txn;
    int rc = read_txn(g, &txn, NULL);
    if (rc != FS_OK)
        return rc;
    rc = read_rank_mode(g, txn, mode, NULL);
    mdb_txn_abort(txn);
    return rc;
}

static int gallery_set_rank_mode_in(fs_gallery_batch *b, int mode,
                                    fs_detail *d)
{
    int rc = can_change(b, d);         /* sealed: its MAC needs the key */
    if (rc != FS_OK)
        return rc;
    if (mode != FS_RANK_EXACT && mode != FS_RANK_COMPRESSED)
        return fs_fail(d, FS_EINVAL, "no ranking mode %d", mode);
    int mrc = meta_put(b->g, b->txn, meta_keys(b->g, b->txn), "rank_mode",
                       rank_modes[mode]);
    return mrc ? mdb_fail(b->g, d, mrc, "writing the ranking mode") : FS_OK;
}

int fs_gallery_set_rank_mode(fs_gallery_batch *b, int mode, fs_detail *d)
{
    return wrote(b, gallery_set_rank_mode_in(b, mode, d));
}

/* ---- reading ---------------------------------------------------------------- */

int fs_gallery_stat(fs_gallery *g, fs_gallery_stats *st, fs_detail *d)
{
    MDB_txn *txn;
    int rc = read_txn(g, &txn, d);
    if (rc != FS_OK)
        return rc;
    counters c;
    fs_gallery_stats s = { .schema = g->schema, .dim = FS_DESC_DIM };
    rc = counters_read(g, txn, &c, d);
    if (rc == FS_OK) rc = recipe_read(g, txn, &s.recipe, d);
    if (rc == FS_OK) rc = meta_get(g, txn, "metric", s.metric,
                                   sizeof s.metric, d);
    if (rc == FS_OK) rc = meta_get(g, txn, "model_id", s.model_id,
                                   sizeof s.model_id, d);
    if (rc == FS_OK) rc = meta_get(g, txn, "model_sha256", s.model_sha256,
                                   sizeof s.model_sha256, d);
    if (rc == FS_OK) rc = read_rank_mode(g, txn, &s.rank_mode, d);
    if (rc == FS_NOTFOUND)             /* checked at open: removed since */
        rc = fs_fail(d, FS_EFORMAT, "gallery '%s' is damaged (a meta record "
                     "is missing)", g->dir);
    mdb_txn_abort(txn);
    if (rc != FS_OK)
        return rc;
    s.subjects = c.subjects;
    s.images = c.images;
    s.templates = c.rows;
    s.blocks = (c.rows + FS_TBLOCK_ROWS - 1) / FS_TBLOCK_ROWS;
    s.image_bytes = c.image_bytes;
    s.sealed = g->sealed;
    char data[4200];
    struct stat fst;
    snprintf(data, sizeof data, "%s/data.mdb", g->dir);
    if (stat(data, &fst) == 0)
        s.file_bytes = (uint64_t)fst.st_size;
    *st = s;
    return FS_OK;
}

int fs_gallery_subject(fs_gallery *g, const char *subject,
                       fs_subject_info *info, fs_image_info *images,
                       size_t max, size_t *n, fs_detail *d)
{
    int rc = need_key(g, d);
    if (rc == FS_OK)
        rc = fs_gallery_check_subject_id(subject, d);
    if (rc != FS_OK)
        return rc;
    MDB_txn *txn;
    rc = read_txn(g, &txn, d);
    if (rc != FS_OK)
        return rc;
    subject_rec s;
    uint64_t *ids = NULL;
    size_t cnt = 0;
    rc = find_subject(g, txn, subject, &s, images ? &ids : NULL, &cnt, d);
    for (size_t i = 0; rc == FS_OK && i < cnt && i < max; i++) {
        image_rec im;
        rc = get_listed_image(g, txn, subject, ids[i], &im, d);
        if (rc != FS_OK)
            break;
        fs_image_info *ii = &images[i];
        memset(ii, 0, sizeof *ii);
        ii->id = ids[i];
        ii->image_len = im.image_len;
        ii->enrolled = im.enrolled;
        memcpy(ii->sha256, im.sha256, 32);
        memcpy(ii->subject, im.subject, sizeof ii->subject);
        memcpy(ii->booking_number, im.booking_number, FS_FIELD_MAX);
        memcpy(ii->capture_date, im.capture_date, FS_FIELD_MAX);
        memcpy(ii->source_agency, im.source_agency, FS_FIELD_MAX);
        memcpy(ii->lawful_source, im.lawful_source, FS_FIELD_MAX);
    }
    mdb_txn_abort(txn);
    free(ids);
    if (rc != FS_OK)
        return rc;
    if (info) {
        memset(info, 0, sizeof *info);
        snprintf(info->id, sizeof info->id, "%s", subject);
        memcpy(info->name, s.name, sizeof info->name);
        info->number = s.number;
        info->images = s.images;
    }
    if (n)
        *n = images ? cnt : s.images;
    return FS_OK;
}

/* The number index is plain; the subject's own record (sealed, in a
 * sealed gallery) holds its number and has the last word, so that a
 * doctored index cannot put one person's id on another's face. */
int fs_gallery_subject_id(fs_gallery *g, uint32_t number,
                          char id[FS_SUBJECT_MAX])
{
    MDB_txn *txn;
    if (need_key(g, NULL) != FS_OK)
        return FS_EKEY;
    if (read_txn(g, &txn, NULL) != FS_OK)
        return FS_EIO;
    uint8_t nk[4];
    be32(nk, number);
    MDB_val k = { 4, nk }, v;
    char found[FS_SUBJECT_MAX];
    subject_rec s;
    int mrc = mdb_get(txn, g->dbi[DB_SUBJECT_NUM], &k, &v);
    int rc = FS_OK;
    if (mrc == MDB_NOTFOUND)
        rc = FS_NOTFOUND;
    else if (mrc || v.mv_size == 0 || v.mv_size >= FS_SUBJECT_MAX)
        rc = FS_EFORMAT;
    else {
        memcpy(found, v.mv_data, v.mv_size);
        found[v.mv_size] = 0;
        rc = get_subject(g, txn, found, &s, NULL);
        if (rc == FS_NOTFOUND || (rc == FS_OK && s.number != number))
            rc = FS_EFORMAT;
    }
    mdb_txn_abort(txn);
    if (rc == FS_OK)
        memcpy(id, found, sizeof found);
    return rc;
}

int fs_gallery_image(fs_gallery *g, uint64_t image_id, uint8_t **bytes,
                     size_t *len, fs_detail *d)
{
    MDB_txn *txn;
    int rc = sealed_read(g, &txn, d);
    if (rc != FS_OK)
        return rc;
    uint8_t ik[8];
    be64(ik, image_id);
    MDB_val k = { 8, ik }, v;
    int mrc = mdb_get(txn, g->dbi[DB_IMAGE_DATA], &k, &v);
    uint8_t *p = NULL;
    size_t cap = 0;
    fs_rbuf r = { 0 };
    if (mrc == MDB_NOTFOUND) {
        rc = fs_fail(d, FS_NOTFOUND, "no image %llu in gallery '%s'",
                     (unsigned long long)image_id, g->dir);
    } else if (mrc) {
        rc = mdb_fail(g, d, mrc, "reading an image");
    } else {
        /* The caller's buffer is where a sealed image is opened. */
        cap = v.mv_size > ENV_HDR ? v.mv_size - ENV_HDR : 0;
        p = malloc(cap ? cap : 1);
        rc = p ? env_open(g, txn, DB_IMAGE_DATA, &k, &v, p, cap, &r, d)
               : fs_fail(d, FS_ENOMEM, "no memory for an image");
    }
    if (rc == FS_OK) {
        if (r.p != p)                   /* plain: still in the map */
            memcpy(p, r.p, r.len);
        *bytes = p;
        *len = r.len;
    } else {
        free(p);                        /* fs_unseal wiped it */
    }
    mdb_txn_abort(txn);
    return rc;
}

/* The row's slot in its block names the image; the image's record must
 * name the row back and the subject, or the rows moved since (a removal
 * fills a hole with the last row) and the caller's row is stale. */
int fs_gallery_row_image(fs_gallery *g, uint64_t row, const char *subject,
                         uint64_t *image_id, fs_detail *d)
{
    MDB_txn *txn;
    int rc = sealed_read(g, &txn, d);
    if (rc != FS_OK)
        return rc;
    uint8_t *scratch = g->sealed ? aligned_alloc(64, TBLK_PAYLOAD) : NULL;
    uint8_t key[4];
    be32(key, (uint32_t)(row / FS_TBLOCK_ROWS));
    MDB_val k = { 4, key }, v;
    int mrc = g->sealed && !scratch ? 0
              : mdb_get(txn, g->dbi[DB_TBLOCKS], &k, &v);
    fs_rbuf r = { 0 };
    uint64_t id = 0;
    image_rec im;
    if (g->sealed && !scratch)
        rc = fs_fail(d, FS_ENOMEM, "no memory for a template block");
    else if (mrc == MDB_NOTFOUND)
        rc = FS_NOTFOUND;
    else if (mrc)
        rc = mdb_fail(g, d, mrc, "reading a template block");
    else
        rc = env_open(g, txn, DB_TBLOCKS, &k, &v, scratch, TBLK_PAYLOAD,
                      &r, d);
    if (rc == FS_OK && r.len != TBLK_PAYLOAD)
        rc = FS_NOTFOUND;
    if (rc == FS_OK) {
        tslot slot;
        memcpy(&slot, r.p + TBLK_SLOTS_OFF +
               (row % FS_TBLOCK_ROWS) * sizeof slot, sizeof slot);
        id = slot.image;
        rc = get_image_rec(g, txn, id, &im, d);
    }
    if (rc == FS_OK && (im.row != row || strcmp(im.subject, subject)))
        rc = FS_NOTFOUND;
    if (rc == FS_NOTFOUND)
        rc = fs_fail(d, rc, "template row %llu of gallery '%s' is no longer "
                     "subject '%s''s (the gallery changed since)",
                     (unsigned long long)row, g->dir, subject);
    mdb_txn_abort(txn);
    blk_free(g, scratch);
    if (rc == FS_OK)
        *image_id = id;
    return rc;
}

/* Template blocks first.. of the store, read in txn, into vec and subj,
 * which hold the n rows of c: every block checked to be where and as
 * full as it should be, sealed ones opened once into one scratch block
 * and copied from there as a plain one is copied from the map, and each
 * block's map pages let go of once copied (map_drop). */
static int read_blocks(fs_gallery *g, MDB_txn *txn, size_t n, uint64_t first,
                       float *vec, uint32_t *subj, uint64_t *image,
                       fs_detail *d)
{
    uint8_t *scratch = g->sealed ? aligned_alloc(64, TBLK_PAYLOAD) : NULL;
    if (g->sealed && !scratch)
        return fs_fail(d, FS_ENOMEM, "no memory for a template block");
    uint64_t nblocks = (n + FS_TBLOCK_ROWS - 1) / FS_TBLOCK_ROWS, seen = first;
    MDB_cursor *cur = NULL;
    int rc = FS_OK, mrc = mdb_cursor_open(txn, g->dbi[DB_TBLOCKS], &cur);
    if (mrc)
        rc = mdb_fail(g, d, mrc, "reading the templates");
    uint8_t start[4];
    be32(start, (uint32_t)first);
    MDB_val k = { sizeof start, start }, v;
    for (mrc = rc == FS_OK ? mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE) : 0;
         rc == FS_OK && mrc == 0;
         mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        fs_rbuf r = { 0 };
        if (k.mv_size != 4 || seen >= nblocks ||
            get_be32(k.mv_data) != seen) {
            rc = fs_fail(d, FS_EFORMAT, "gallery '%s' is damaged (template "
                         "block %llu is missing or out of place)", g->dir,
                         (unsigned long long)seen);
            break;
        }
        rc = env_open(g, txn, DB_TBLOCKS, &k, &v, scratch, TBLK_PAYLOAD, &r, d);
        if (rc != FS_OK)
            break;
        uint32_t rows = 0;
        if (r.len == TBLK_PAYLOAD)
            memcpy(&rows, r.p, sizeof rows);
        size_t want = seen + 1 < nblocks ? FS_TBLOCK_ROWS
                      : n - (size_t)seen * FS_TBLOCK_ROWS;
        if (r.len != TBLK_PAYLOAD || rows != want) {
            rc = fs_fail(d, FS_EFORMAT, "gallery '%s' is damaged (template "
                         "block %llu)", g->dir, (unsigned long long)seen);
            break;
        }
        size_t row0 = (size_t)seen * FS_TBLOCK_ROWS;
        memcpy(vec + row0 * FS_DESC_DIM, r.p + TBLK_VEC_OFF,
               want * FS_DESC_DIM * sizeof(float));
        const tslot *slots = (const tslot *)(const void *)
                             (r.p + TBLK_SLOTS_OFF);
        for (size_t i = 0; i < want; i++) {
            subj[row0 + i] = slots[i].subject;
            image[row0 + i] = slots[i].image;
        }
        map_drop(g, v.mv_data, v.mv_size);
        seen++;
    }
    if (rc == FS_OK && mrc != MDB_NOTFOUND)
        rc = mdb_fail(g, d, mrc, "reading the templates");
    if (rc == FS_OK && seen != nblocks)
        rc = fs_fail(d, FS_EFORMAT, "gallery '%s' is damaged (%llu template "
                     "blocks for %zu rows)", g->dir,
                     (unsigned long long)seen, n);
    if (cur)
        mdb_cursor_close(cur);
    if (scratch) {
        fs_wipe(scratch, TBLK_PAYLOAD);
        free(scratch);
    }
    return rc;
}

/* Whether the store went from was to now by puts alone: every image put
 * since is still there (a removal moves the last row into its hole, so
 * rows the matrix holds would have changed). */
static int only_appended(const counters *was, const counters *now)
{
    return now->rows > was->rows && now->next_image >= was->next_image &&
           now->images >= was->images &&
           now->next_image - was->next_image == now->images - was->images &&
           now->images - was->images == now->rows - was->rows;
}

/* The rows put since m was read, added to it: the block the matrix ended
 * in and every one after it, read again; the ranker over the old arrays
 * goes.  On failure the matrix goes too, to be read whole next time. */
static int matrix_append(fs_gallery *g, fs_gallery_warm *m, MDB_txn *txn,
                         const counters *now, fs_detail *d)
{
    size_t n = (size_t)now->rows;
    size_t bytes = n * FS_DESC_DIM * sizeof(float);
    ranker_drop(m);
    if (bytes > m->vec_bytes) {
        void *p = mremap(m->vec, m->vec_bytes, bytes, MREMAP_MAYMOVE);
        if (p == MAP_FAILED) {
            release_matrix(g);
            return fs_fail(d, FS_ENOMEM, "no memory for %zu templates", n);
        }
        m->vec = p;
        m->vec_bytes = bytes;
        madvise(p, bytes, MADV_HUGEPAGE);
    }
    uint32_t *subj = realloc(m->subj, n * sizeof *subj);
    if (subj)
        m->subj = subj;
    uint64_t *image = subj ? realloc(m->image, n * sizeof *image) : NULL;
    if (!image) {
        release_matrix(g);
        return fs_fail(d, FS_ENOMEM, "no memory for %zu templates", n);
    }
    m->image = image;
    int rc = read_blocks(g, txn, n, m->nrows / FS_TBLOCK_ROWS, m->vec, subj,
                         image, d);
    if (rc != FS_OK) {
        release_matrix(g);
        return rc;
    }
    m->nrows = n;
    m->c = *now;
    return FS_OK;
}

/* The matrix is mapped, not malloc'd: fresh zero pages, huge pages where
 * the kernel gives them, and no heap fragmentation for gigabytes (and the
 * kernel, not the heap, gets its plaintext back).  A matrix already read
 * is read again only as far as the store changed: rows put since are
 * added to it (the service's refresh after an enrolment reads what the
 * enrolment wrote, not the whole gallery again), anything else reads it
 * whole. */
int fs_gallery_load(fs_gallery *g, fs_templates *out, fs_detail *d)
{
    int rc = need_key(g, d);
    if (rc != FS_OK)
        return rc;
    fs_gallery_warm *m = g->mx;
    MDB_txn *txn;
    if ((rc = read_txn(g, &txn, d)) != FS_OK)
        return rc;
    counters c;
    if ((rc = counters_read(g, txn, &c, d)) != FS_OK) {
        mdb_txn_abort(txn);
        return rc;
    }
    if (m->vec) {
        /* another process may have put or removed rows since: every put
         * moves next_image on, every removal images down */
        if (c.next_image != m->c.next_image || c.images != m->c.images ||
            c.rows != m->c.rows)
            rc = only_appended(&m->c, &c) ? matrix_append(g, m, txn, &c, d)
                                          : (release_matrix(g), FS_OK);
        if (rc != FS_OK || m->vec) {
            mdb_txn_abort(txn);
            if (rc == FS_OK)
                *out = (fs_templates){ m->vec, m->subj, m->nrows };
            return rc;
        }
    }
    size_t n = (size_t)c.rows;
    size_t bytes = (n ? n : 1) * FS_DESC_DIM * sizeof(float);
    float *vec = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    uint32_t *subj = malloc((n ? n : 1) * sizeof *subj);
    uint64_t *image = malloc((n ? n : 1) * sizeof *image);
    if (vec == MAP_FAILED || !subj || !image) {
        if (vec != MAP_FAILED)
            munmap(vec, bytes);
        free(subj);
        free(image);
        mdb_txn_abort(txn);
        return fs_fail(d, FS_ENOMEM, "no memory for %zu templates", n);
    }
    madvise(vec, bytes, MADV_HUGEPAGE);
    rc = read_blocks(g, txn, n, 0, vec, subj, image, d);
    mdb_txn_abort(txn);
    if (rc != FS_OK) {
        munmap(vec, bytes);
        free(subj);
        free(image);
        return rc;
    }
    m->vec = vec;
    m->subj = subj;
    m->image = image;
    m->vec_bytes = bytes;
    m->nrows = n;
    m->c = c;
    *out = (fs_templates){ vec, subj, n };
    return FS_OK;
}

static int same_options(const fs_rank_options *a, const fs_rank_options *b)
{
    return a->mode == b->mode && a->isa == b->isa && a->pool == b->pool &&
           a->shortlist == b->shortlist && a->exact == b->exact;
}

int fs_gallery_ranker(fs_gallery *g, const fs_rank_options *opt,
                      fs_ranker **out, fs_detail *d)
{
    fs_templates t;
    int rc = fs_gallery_load(g, &t, d);
    if (rc != FS_OK)
        return rc;
    fs_gallery_warm *m = g->mx;
    if (m->rk && same_options(&m->ro, opt)) {
        *out = m->rk;
        return FS_OK;
    }
    ranker_drop(m);
    *out = NULL;
    if (t.n == 0)
        return FS_OK;
    fs_recipe rp;
    if ((rc = fs_gallery_recipe(g, &rp, d)) != FS_OK)
        return rc;
    if (rp.subject_mean) {
        if ((rc = fs_subject_means_make(&t, &m->means, d)) != FS_OK)
            return rc;
        m->by_mean = 1;
        t = m->means.t;
    }
    /* A holder that outlives the handles serves search after search (the
     * service's children inherit it built): its exact ranker makes the
     * bounded pass's copy now, once, rather than on a second search that
     * a child of one search never reaches. */
    fs_rank_options ro = *opt;
    if (m != &g->own)
        fs_rank_options_kept(&ro, t.n);
    if ((rc = fs_ranker_create(&t, &ro, &m->rk, d)) != FS_OK) {
        ranker_drop(m);
        return rc;
    }
    m->ro = *opt;
    *out = m->rk;
    return FS_OK;
}

void fs_gallery_hit_rows(fs_gallery *g, const float *probe, fs_hit *hits,
                         size_t n)
{
    fs_gallery_warm *m = g->mx;
    if (!m->by_mean)
        return;
    fs_templates t = { m->vec, m->subj, m->nrows };
    fs_subject_means_best_rows(&m->means, &t, probe, hits, n);
}

/* ---- verify ------------------------------------------------------------------ */

static int damaged(const fs_gallery *g, fs_detail *d, const char *what,
                   unsigned long long id)
{
    return fs_fail(d, FS_EFORMAT, "gallery '%s' is inconsistent: %s (%llu)",
                   g->dir, what, id);
}

/* Room for n bytes of plaintext in *buf: a bigger buffer replaces the
 * old one, wiped first (realloc would leave a copy in the heap). */
static int plain_fit(uint8_t **buf, size_t *cap, size_t n, fs_detail *d)
{
    if (n <= *cap)
        return FS_OK;
    if (*buf)
        fs_wipe(*buf, *cap);
    free(*buf);
    *cap = 0;
    *buf = malloc(n);
    if (!*buf)
        return fs_fail(d, FS_ENOMEM, "no memory for an image of %zu bytes",
                       n);
    *cap = n;
    return FS_OK;
}

/* Every subject number names a subject whose record holds that number:
 * the ranker's numbers become ids through this index. */
static int numbers_hold(fs_gallery *g, MDB_txn *txn, fs_detail *d)
{
    MDB_cursor *cur;
    MDB_val k, v;
    if (mdb_cursor_open(txn, g->dbi[DB_SUBJECT_NUM], &cur))
        return mdb_fail(g, d, EIO, "listing subject numbers");
    int rc = FS_OK, mrc;
    for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !mrc && rc == FS_OK;
         mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        char id[FS_SUBJECT_MAX];
        subject_rec s;
        uint32_t number = k.mv_size == 4 ? get_be32(k.mv_data) : 0;
        if (k.mv_size != 4 || !v.mv_size || v.mv_size >= sizeof id) {
            rc = damaged(g, d, "a subject number record is malformed",
                         number);
            break;
        }
        memcpy(id, v.mv_data, v.mv_size);
        id[v.mv_size] = 0;
        rc = get_subject(g, txn, id, &s, d);
        if (rc == FS_NOTFOUND || (rc == FS_OK && s.number != number))
            rc = damaged(g, d, "a subject number names another subject",
                         number);
    }
    mdb_cursor_close(cur);
    return rc == FS_OK && mrc != MDB_NOTFOUND
           ? mdb_fail(g, d, mrc, "listing subject numbers") : rc;
}

/* In a sealed gallery every record is opened, the image bytes too, so
 * that every tag is checked: the whole file is read and decrypted. */
int fs_gallery_verify(fs_gallery *g, fs_detail *d)
{
    fs_templates t;
    int rc = fs_gallery_load(g, &t, d);     /* blocks dense and in place */
    if (rc != FS_OK)
        return rc;
    MDB_txn *txn;
    rc = read_txn(g, &txn, d);
    if (rc != FS_OK)
        return rc;
    counters c;
    if (g->sealed)
        rc = meta_verify_all(g, txn, keys_for(g, txn), d);
    if (rc == FS_OK)
        rc = counters_read(g, txn, &c, d);
    fs_recipe rp;
    if (rc == FS_OK)
        rc = recipe_read(g, txn, &rp, d);
    MDB_stat ms[DB_COUNT] = { { 0 } };
    for (int i = 0; rc == FS_OK && i < DB_COUNT; i++) {
        if (i == DB_SECOND && g->no_second_db)
            continue;
        int mrc = mdb_stat(txn, g->dbi[i], &ms[i]);
        if (mrc)
            rc = mdb_fail(g, d, mrc, "reading its statistics");
    }
    if (rc == FS_OK && (ms[DB_IMAGES].ms_entries != c.images ||
                        ms[DB_SHA].ms_entries != c.images ||
                        c.rows != c.images))
        rc = damaged(g, d, "image, sha and row counts differ", c.images);
    if (rc == FS_OK && (ms[DB_SUBJECTS].ms_entries != c.subjects ||
                        ms[DB_SUBJECT_NUM].ms_entries != c.subjects))
        rc = damaged(g, d, "subject counts differ", c.subjects);
    if (rc == FS_OK && ms[DB_SUBJECT_IMAGES].ms_entries != c.images)
        rc = damaged(g, d, "subject image lists miss images", c.images);
    if (rc == FS_OK && ms[DB_SECOND].ms_entries >
                       (rp.second_model_id[0] ? c.images : 0))
        rc = fs_fail(d, FS_ETAMPER, "gallery '%s': %llu second templates "
                     "for %llu images (planted)", g->dir,
                     (unsigned long long)ms[DB_SECOND].ms_entries,
                     (unsigned long long)c.images);
    if (rc == FS_OK)
        rc = numbers_hold(g, txn, d);

    /* Every image: its row names it, its sha names it, its subject lists
     * it and holds the row's subject number. */
    MDB_cursor *cur = NULL;
    if (rc == FS_OK && mdb_cursor_open(txn, g->dbi[DB_IMAGES], &cur))
        rc = mdb_fail(g, d, EIO, "listing images");
    uint8_t *row_seen = rc == FS_OK ? calloc(c.rows ? c.rows : 1, 1) : NULL;
    if (rc == FS_OK && !row_seen)
        rc = fs_fail(d, FS_ENOMEM, "no memory to verify");
    uint64_t bytes = 0;
    uint8_t *plain = NULL;              /* where sealed images are opened */
    size_t plain_cap = 0;
    MDB_val k, v;
    int mrc = rc == FS_OK ? mdb_cursor_get(cur, &k, &v, MDB_FIRST) : 0;
    for (; rc == FS_OK && mrc == 0;
         mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 8) {
            rc = damaged(g, d, "bad image key", 0);
            break;
        }
        uint64_t id = get_be64(k.mv_data);
        image_rec im;
        subject_rec s;
        rc = get_image_rec(g, txn, id, &im, d);
        if (rc != FS_OK)
            break;
        if (im.row >= t.n || row_seen[im.row]) {
            rc = damaged(g, d, "image names a bad or shared row", id);
            break;
        }
        row_seen[im.row] = 1;
        bytes += im.image_len;
        MDB_val sk = { 32, im.sha256 }, sv;
        if (mdb_get(txn, g->dbi[DB_SHA], &sk, &sv) || sv.mv_size != 8 ||
            get_be64(sv.mv_data) != id) {
            rc = damaged(g, d, "sha index does not name the image", id);
            break;
        }
        rc = get_subject(g, txn, im.subject, &s, d);
        if (rc == FS_NOTFOUND)
            rc = damaged(g, d, "image of a missing subject", id);
        if (rc != FS_OK)
            break;
        if (t.subject[im.row] != s.number) {
            rc = damaged(g, d, "row holds another subject", im.row);
            break;
        }
        uint8_t ik[8];
        be64(ik, id);
        MDB_val subk = { strlen(im.subject), im.subject }, iv = { 8, ik };
        MDB_cursor *dc;
        if (mdb_cursor_open(txn, g->dbi[DB_SUBJECT_IMAGES], &dc) == 0) {
            int found = mdb_cursor_get(dc, &subk, &iv, MDB_GET_BOTH) == 0;
            mdb_cursor_close(dc);
            if (!found)
                rc = damaged(g, d, "subject does not list its image", id);
        }
        if (rc == FS_OK && im.image_len) {
            MDB_val dv, dk = { 8, ik };
            fs_rbuf r = { 0 };
            if (mdb_get(txn, g->dbi[DB_IMAGE_DATA], &dk, &dv) ||
                dv.mv_size != ENV_HDR + im.image_len)
                rc = damaged(g, d, "image bytes missing or cut", id);
            else if (g->sealed)
                rc = plain_fit(&plain, &plain_cap, im.image_len, d);
            if (rc == FS_OK)
                rc = env_open(g, txn, DB_IMAGE_DATA, &dk, &dv, plain,
                              plain_cap, &r, d);
        }
        if (rc == FS_OK && rp.second_model_id[0])
            rc = second_get(g, txn, id, NULL, d);
    }
    if (rc == FS_OK && mrc != MDB_NOTFOUND)
        rc = mdb_fail(g, d, mrc, "listing images");
    if (rc == FS_OK && bytes != c.image_bytes)
        rc = damaged(g, d, "image byte count differs", bytes);
    if (cur)
        mdb_cursor_close(cur);
    if (plain)
        fs_wipe(plain, plain_cap);
    free(plain);
    free(row_seen);
    mdb_txn_abort(txn);
    return rc;
}

/* ---- re-keying ------------------------------------------------------------- */

/* Opens every record of db under the batch's keys and seals it again
 * under to, in place, one at a time through a cursor: a gallery of any
 * size goes through one buffer (*buf, wiped when it grows). */
static int reseal_db(fs_gallery_batch *b, int db, const keyset *to,
                     uint8_t **buf, size_t *cap, fs_detail *d)
{
    fs_gallery *g = b->g;
    MDB_cursor *cur;
    int mrc = mdb_cursor_open(b->txn, g->dbi[db], &cur);
    if (mrc)
        return mdb_fail(g, d, mrc, "re-keying");
    int rc = FS_OK;
    MDB_val k, v;
    for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == FS_OK && !mrc;
         mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        uint8_t key[512];                /* LMDB keys: <= 511 bytes */
        MDB_val kc = { k.mv_size, key };
        fs_rbuf r = { 0 };
        assert(k.mv_size <= sizeof key);
        memcpy(key, k.mv_data, k.mv_size);   /* the put may move the page */
        rc = plain_fit(buf, cap, v.mv_size + ENV_HDR, d);
        if (rc == FS_OK)
            rc = env_open(g, b->txn, db, &kc, &v, *buf + ENV_HDR,
                          *cap - ENV_HDR, &r, d);
        if (rc == FS_OK)
            rc = env_make(g, to, db, &kc, NULL, r.len, *buf, d);
        if (rc == FS_OK) {
            MDB_val nv = { ENV_HDR + r.len, *buf };
            mrc = mdb_cursor_put(cur, &kc, &nv, MDB_CURRENT);
            if (mrc)
                rc = mdb_fail(g, d, mrc, "re-keying");
        }
    }
    if (rc == FS_OK && mrc != MDB_NOTFOUND)
        rc = mdb_fail(g, d, mrc, "re-keying");
    mdb_cursor_close(cur);
    return rc;
}

static int rekey_in(fs_gallery_batch *b, const uint8_t key[FS_KEY_BYTES],
                    fs_detail *d)
{
    static const int sealed_dbs[] = { DB_SUBJECTS, DB_IMAGES, DB_IMAGE_DATA,
                                      DB_TBLOCKS };
    fs_gallery *g = b->g;
    int rc = can_change(b, d);
    if (rc != FS_OK)
        return rc;
    if (!g->sealed)
        return fs_fail(d, FS_EINVAL, "gallery '%s' is not sealed and takes "
                       "no key", g->dir);
    /* Another handle holding the old key would go on sealing under it
     * after the commit: none may be open. */
    if (!g->lock_ex) {
        rc = fs_gallery_lock_exclusive(g, d);
        if (rc != FS_OK)
            return rc;
        b->took_exclusive = 1;
    }
    /* Checked under the old key first, so nothing edited is laundered
     * under the new one (the records are, as each is opened). */
    rc = meta_verify_all(g, b->txn, keys_for(g, b->txn), d);
    keyset to;
    keys_derive(key, &to);
    uint8_t *buf = NULL;
    size_t cap = 0;
    for (size_t i = 0; rc == FS_OK && i < sizeof sealed_dbs /
                                          sizeof *sealed_dbs; i++)
        rc = reseal_db(b, sealed_dbs[i], &to, &buf, &cap, d);
    if (rc == FS_OK && !g->no_second_db)
        rc = reseal_db(b, DB_SECOND, &to, &buf, &cap, d);
    if (rc == FS_OK)
        rc = key_check_put(g, b->txn, &to, d);
    if (rc == FS_OK)
        rc = meta_remac(g, b->txn, &to, d);
    if (buf)
        fs_wipe(buf, cap);
    free(buf);
    if (rc == FS_OK) {
        b->keys = to;
        b->rekeyed = 1;
    }
    fs_wipe(&to, sizeof to);
    return rc;
}

int fs_gallery_rekey(fs_gallery_batch *b, const uint8_t key[FS_KEY_BYTES],
                     fs_detail *d)
{
    return wrote(b, rekey_in(b, key, d));
}

/* ---- compaction ------------------------------------------------------------ */

/* What a compaction killed part way left behind.  Only ever called under
 * the exclusive lock, so no other compaction is writing it. */
static void compact_clean(const fs_gallery *g)
{
    DIR *dir = opendir(g->dir);
    if (!dir)
        return;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL)
        if (strncmp(e->d_name, COMPACT_PREFIX,
                    sizeof COMPACT_PREFIX - 1) == 0)
            unlinkat(dirfd(dir), e->d_name, 0);
    closedir(dir);
}

/* The copy is made whole and synced under a name of its own, then
 * renamed over data.mdb: a crash at any step leaves the old file or the
 * new one, never a mix. */
static int compact_in(fs_gallery *g, fs_detail *d)
{
    char tmp[4200], data[4200];
    compact_clean(g);
    snprintf(tmp, sizeof tmp, "%s/" COMPACT_PREFIX "XXXXXX", g->dir);
    snprintf(data, sizeof data, "%s/data.mdb", g->dir);
    int fd = mkostemp(tmp, O_CLOEXEC);          /* 0600 */
    if (fd < 0)
        return fs_fail(d, fs_errno_code(errno), "gallery '%s': cannot make "
                       "its compacted copy: %s", g->dir, strerror(errno));
    int mrc = mdb_env_copyfd2(g->env, fd, MDB_CP_COMPACT);
    int rc = mrc ? mdb_fail(g, d, mrc, "compacting") : FS_OK;
    if (rc == FS_OK && fsync(fd) != 0)
        rc = fs_fail(d, FS_EIO, "gallery '%s': cannot sync its compacted "
                     "copy: %s", g->dir, strerror(errno));
    close(fd);
    if (rc == FS_OK && rename(tmp, data) != 0)
        rc = fs_fail(d, fs_errno_code(errno), "gallery '%s': cannot put "
                     "its compacted copy in place: %s", g->dir,
                     strerror(errno));
    if (rc != FS_OK) {
        unlink(tmp);
        return rc;
    }
    /* data.mdb is the new file from here on, whatever follows. */
    int synced = fs_file_sync_dir(g->dir);
    int err = errno;
    env_let_go(g);
    rc = env_start(g, NULL, d);
    if (rc == FS_OK && synced != 0)
        rc = fs_fail(d, FS_EIO, "gallery '%s': cannot sync its directory: "
                     "%s", g->dir, strerror(err));
    return rc;
}

int fs_gallery_compact(fs_gallery *g, fs_detail *d)
{
    if (g->readonly)
        return fs_fail(d, FS_EACCESS, "gallery '%s' is open read-only",
                       g->dir);
    if (g->open_batch)
        return fs_fail(d, FS_EINVAL, "gallery '%s' has a batch open",
                       g->dir);
    if (!g->env)
        return env_gone(g, d);
    int took = !g->lock_ex;
    int rc = fs_gallery_lock_exclusive(g, d);
    if (rc == FS_OK)
        rc = compact_in(g, d);
    if (took)
        fs_gallery_lock_shared(g);
    return rc;
}
