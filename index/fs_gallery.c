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
 * The values of subjects, images, image_data and tblocks are envelopes: a
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
 * Each fs_gallery_batch is one LMDB write transaction: a crash at any
 * moment leaves the gallery at its last commit.  Not thread-safe: a
 * handle serves one thread at a time.
 */
#include "fs_index.h"

#include <assert.h>
#include <errno.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

#include "../engine/base/fs_crypt.h"
#include "../engine/base/fs_pack.h"

enum { DB_META, DB_SUBJECTS, DB_SUBJECT_NUM, DB_SUBJECT_IMAGES, DB_IMAGES,
       DB_IMAGE_DATA, DB_SHA, DB_TBLOCKS, DB_RECORDS, DB_COUNT };

static const char *const db_names[DB_COUNT] = {
    "meta", "subjects", "subject_num", "subject_images", "images",
    "image_data", "sha", "tblocks", "records"
};

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

typedef struct counters {
    uint64_t next_image, rows, images, image_bytes;
    uint32_t next_subject, subjects;
} counters;

struct fs_gallery {
    MDB_env  *env;
    MDB_dbi   dbi[DB_COUNT];
    char      dir[4096];
    int       readonly;
    int       sealed;                    /* G21: envelopes are sealed */
    int       unlocked;                  /* key holds the data key */
    uint8_t   key[FS_KEY_BYTES];
    fs_gallery_batch *open_batch;
    /* fs_gallery_load's matrix, and the counters it was read under */
    float    *vec;
    uint32_t *subj;
    size_t    vec_bytes, nrows;
    counters  vec_c;
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
    counters      c;
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

static int read_txn(fs_gallery *g, MDB_txn **txn, fs_detail *d)
{
    int mrc = mdb_txn_begin(g->env, NULL, MDB_RDONLY, txn);
    return mrc ? mdb_fail(g, d, mrc, "starting a read") : FS_OK;
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

/* Writes a record in its envelope straight into the space LMDB reserves
 * for it, the payload sealed when the gallery is: the plaintext never
 * reaches the map.  Every enveloped record goes through here. */
static int env_put(fs_gallery_batch *b, int db, const MDB_val *k,
                   const void *payload, size_t len, fs_detail *d)
{
    fs_gallery *g = b->g;
    char name[96];
    int rc = need_key(g, d);
    if (rc != FS_OK)
        return rc;
    MDB_val key = *k, v = { ENV_HDR + len, NULL };
    int mrc = mdb_put(b->txn, g->dbi[db], &key, &v, MDB_RESERVE);
    if (mrc) {
        char what[128];
        record_name(db, k, name, sizeof name);
        snprintf(what, sizeof what, "writing %s", name);
        return mdb_fail(g, d, mrc, what);
    }
    uint8_t *out = v.mv_data;
    memset(out, 0, ENV_HDR);
    out[0] = ENV_MAGIC0;
    out[1] = ENV_MAGIC1;
    out[2] = ENV_VERSION;
    if (!g->sealed) {
        if (len)
            memcpy(out + ENV_HDR, payload, len);
        return FS_OK;
    }
    out[3] = ENV_SEALED;
    uint8_t aad[AAD_MAX];
    rc = fs_seal(g->key, aad, record_aad(db, k, aad), payload, len,
                 out + ENV_HDR, out + ENV_NONCE, out + ENV_TAG);
    if (rc == FS_OK)
        return FS_OK;
    fs_wipe(out + ENV_HDR, len);             /* whatever it left there */
    record_name(db, k, name, sizeof name);
    return fs_fail(d, rc, "gallery '%s': cannot seal %s", g->dir, name);
}

/* The payload of the stored value v of record k in *r: where it lies in
 * LMDB's map when plain, or decrypted into out (cap bytes) when sealed,
 * since the map is read-only and nothing decrypted may reach the disk.
 * Every enveloped record is read through here. */
static int env_open(const fs_gallery *g, int db, const MDB_val *k,
                    const MDB_val *v, uint8_t *out, size_t cap, fs_rbuf *r,
                    fs_detail *d)
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
    } else if (!g->unlocked) {
        return need_key(g, d);
    } else if (len > cap) {
        rc = FS_EFORMAT;
        snprintf(buf, sizeof buf, "is too long (%zu bytes; damaged)", len);
    } else {
        uint8_t aad[AAD_MAX];
        rc = fs_unseal(g->key, aad, record_aad(db, k, aad), p + ENV_HDR,
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
    int rc = env_open(g, DB_SUBJECTS, &k, &v, buf, sizeof buf, &r, d);
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
    uint8_t key[8];
    be64(key, id);
    MDB_val k = { 8, key };
    assert(!w.oom);
    int rc = env_put(b, DB_IMAGES, &k, w.p, w.len, d);
    fs_wbuf_free(&w);                /* wipes the plaintext copy */
    return rc;
}

static int get_image_rec(const fs_gallery *g, MDB_txn *txn, uint64_t id,
                         image_rec *im, fs_detail *d)
{
    uint8_t key[8];
    be64(key, id);
    MDB_val k = { 8, key }, v;
    int mrc = mdb_get(txn, g->dbi[DB_IMAGES], &k, &v);
    if (mrc == MDB_NOTFOUND)
        return FS_NOTFOUND;
    if (mrc)
        return mdb_fail(g, d, mrc, "reading an image record");
    uint8_t buf[REC_MAX];
    fs_rbuf r = { 0 };
    int rc = env_open(g, DB_IMAGES, &k, &v, buf, sizeof buf, &r, d);
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

static int meta_get(const fs_gallery *g, MDB_txn *txn, const char *key,
                    char *out, size_t cap)
{
    MDB_val k = { strlen(key), (void *)key }, v;
    int mrc = mdb_get(txn, g->dbi[DB_META], &k, &v);
    if (mrc)
        return mrc;
    if (v.mv_size >= cap)
        return MDB_CORRUPTED;
    memcpy(out, v.mv_data, v.mv_size);
    out[v.mv_size] = 0;
    return 0;
}

static int meta_put(const fs_gallery *g, MDB_txn *txn, const char *key,
                    const char *val)
{
    MDB_val k = { strlen(key), (void *)key }, v = { strlen(val), (void *)val };
    return mdb_put(txn, g->dbi[DB_META], &k, &v, 0);
}

static int meta_get_u64(const fs_gallery *g, MDB_txn *txn, const char *key,
                        uint64_t *out)
{
    char buf[32], *end;
    int mrc = meta_get(g, txn, key, buf, sizeof buf);
    if (mrc)
        return mrc;
    errno = 0;
    unsigned long long v = strtoull(buf, &end, 10);
    if (errno || end == buf || *end)
        return MDB_CORRUPTED;
    *out = v;
    return 0;
}

static int meta_put_u64(const fs_gallery *g, MDB_txn *txn, const char *key,
                        uint64_t v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
    return meta_put(g, txn, key, buf);
}

static const char *const counter_keys[] = {
    "next_image", "rows", "images", "image_bytes", "next_subject", "subjects"
};

static int counters_read(const fs_gallery *g, MDB_txn *txn, counters *c,
                         fs_detail *d)
{
    uint64_t v[6];
    for (int i = 0; i < 6; i++) {
        int mrc = meta_get_u64(g, txn, counter_keys[i], &v[i]);
        if (mrc)
            return mdb_fail(g, d, mrc == MDB_NOTFOUND ? MDB_CORRUPTED : mrc,
                            "reading the counters");
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
        int mrc = meta_put_u64(g, txn, counter_keys[i], v[i]);
        if (mrc)
            return mrc;
    }
    return 0;
}

/* ---- open ------------------------------------------------------------------ */

static int create_meta(fs_gallery *g, MDB_txn *txn,
                       const fs_gallery_options *opt, fs_detail *d)
{
    if (!opt->model_id || !opt->model_sha256)
        return fs_fail(d, FS_EINVAL, "a new gallery needs the model that "
                       "makes its templates");
    counters c = { 1, 0, 0, 0, 1, 0 };
    char created[32];
    snprintf(created, sizeof created, "%lld", (long long)time(NULL));
    int mrc = meta_put_u64(g, txn, "schema", FS_GALLERY_SCHEMA);
    if (!mrc) mrc = meta_put_u64(g, txn, "dim", FS_DESC_DIM);
    if (!mrc) mrc = meta_put(g, txn, "metric", META_METRIC);
    if (!mrc) mrc = meta_put(g, txn, "model_id", opt->model_id);
    if (!mrc) mrc = meta_put(g, txn, "model_sha256", opt->model_sha256);
    if (!mrc) mrc = meta_put(g, txn, "created", created);
    if (!mrc && opt->sealed) mrc = meta_put(g, txn, "sealed", "1");
    if (!mrc) mrc = counters_write(g, txn, &c);
    return mrc ? mdb_fail(g, d, mrc, "writing the meta record") : FS_OK;
}

/* The meta record against this build and the caller's model. */
static int check_meta(fs_gallery *g, MDB_txn *txn,
                      const fs_gallery_options *opt, fs_detail *d)
{
    uint64_t schema, dim;
    char metric[16], model[64], sha[80];
    int mrc = meta_get_u64(g, txn, "schema", &schema);
    if (mrc == MDB_NOTFOUND)
        return fs_fail(d, FS_EFORMAT, "'%s' is not a facesearch gallery "
                       "(no meta record)", g->dir);
    if (mrc)
        return mdb_fail(g, d, mrc, "reading the meta record");
    if (schema != FS_GALLERY_SCHEMA)
        return fs_fail(d, FS_EVERSION, "gallery '%s' has schema version "
                       "%llu; this build reads version %d", g->dir,
                       (unsigned long long)schema, FS_GALLERY_SCHEMA);
    mrc = meta_get_u64(g, txn, "dim", &dim);
    if (!mrc) mrc = meta_get(g, txn, "metric", metric, sizeof metric);
    if (!mrc) mrc = meta_get(g, txn, "model_id", model, sizeof model);
    if (!mrc) mrc = meta_get(g, txn, "model_sha256", sha, sizeof sha);
    if (mrc)
        return mdb_fail(g, d, mrc == MDB_NOTFOUND ? MDB_CORRUPTED : mrc,
                        "reading the meta record");
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
    mrc = meta_get(g, txn, "sealed", sealed, sizeof sealed);
    if (mrc == MDB_NOTFOUND)
        return FS_OK;
    if (mrc)
        return mdb_fail(g, d, mrc, "reading the meta record");
    if (strcmp(sealed, "1") != 0)
        return fs_fail(d, FS_EFORMAT, "gallery '%s' is damaged (meta "
                       "'sealed' is '%s')", g->dir, sealed);
    g->sealed = 1;
    return FS_OK;
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

    int mrc = mdb_env_create(&g->env);
    if (!mrc) mrc = mdb_env_set_maxdbs(g->env, 32);
    if (!mrc) mrc = mdb_env_set_mapsize(g->env, opt->map_size ?
                                        opt->map_size : DEFAULT_MAP_SIZE);
    if (!mrc) mrc = mdb_env_open(g->env, dir, (opt->readonly ? MDB_RDONLY : 0)
                                 | MDB_NOTLS, 0600);
    if (mrc) {
        rc = mdb_fail(g, d, mrc, "opening");
        goto fail;
    }
    MDB_txn *txn;
    mrc = mdb_txn_begin(g->env, NULL, opt->readonly ? MDB_RDONLY : 0, &txn);
    if (mrc) {
        rc = mdb_fail(g, d, mrc, "starting a transaction");
        goto fail;
    }
    for (int i = 0; i < DB_COUNT && !mrc; i++) {
        unsigned flags = opt->readonly ? 0 : MDB_CREATE;
        if (i == DB_SUBJECT_IMAGES)
            flags |= MDB_DUPSORT | MDB_DUPFIXED;
        mrc = mdb_dbi_open(txn, db_names[i], flags, &g->dbi[i]);
    }
    if (mrc == MDB_NOTFOUND) {
        rc = fs_fail(d, FS_EFORMAT, "'%s' is not a facesearch gallery", dir);
    } else if (mrc) {
        rc = mdb_fail(g, d, mrc, "opening its databases");
    } else {
        uint64_t schema;
        mrc = meta_get_u64(g, txn, "schema", &schema);
        if (mrc == MDB_NOTFOUND && opt->create && !opt->readonly)
            rc = create_meta(g, txn, opt, d);
        if (rc == FS_OK)
            rc = check_meta(g, txn, opt, d);
    }
    /* Committed even when read-only: an aborted transaction would take
     * the database handles it opened with it. */
    if (rc == FS_OK) {
        mrc = mdb_txn_commit(txn);
        if (mrc)
            rc = mdb_fail(g, d, mrc, "creating");
    } else {
        mdb_txn_abort(txn);
    }
    if (rc != FS_OK)
        goto fail;
    *out = g;
    return FS_OK;
fail:
    if (g->env)
        mdb_env_close(g->env);
    free(g);
    return rc;
}

static void release_matrix(fs_gallery *g)
{
    if (g->vec)
        munmap(g->vec, g->vec_bytes);
    free(g->subj);
    g->vec = NULL;
    g->subj = NULL;
    g->vec_bytes = 0;
    g->nrows = 0;
}

/* Forgets the data key. */
static void lock(fs_gallery *g)
{
    fs_wipe(g->key, sizeof g->key);
    g->unlocked = 0;
}

void fs_gallery_close(fs_gallery *g)
{
    if (!g)
        return;
    if (g->open_batch)
        fs_gallery_abort(g->open_batch);
    release_matrix(g);
    lock(g);
    mdb_env_close(g->env);
    free(g);
}

/* ---- the data key ---------------------------------------------------------- */

/* The key check is the empty payload sealed under the data key, with the
 * associated data of a record "key_check" in meta (no record of another
 * database can have it), kept in hex as meta values are text.  It tells a
 * wrong key at once instead of as tags failing record by record.
 * FS_OK when key opens it, FS_EKEY when it does not, FS_NOTFOUND when the
 * gallery has none yet and txn cannot write one; *wrote says it wrote. */
static int check_key(fs_gallery *g, MDB_txn *txn, int writable,
                     const uint8_t key[FS_KEY_BYTES], int *wrote,
                     fs_detail *d)
{
    static const char name[] = "key_check";
    MDB_val k = { sizeof name - 1, (void *)name };
    uint8_t aad[AAD_MAX], sealed[FS_SEAL_OVERHEAD], none[1];
    size_t aadlen = record_aad(DB_META, &k, aad);
    char hex[2 * FS_SEAL_OVERHEAD + 2];
    *wrote = 0;
    int mrc = meta_get(g, txn, name, hex, sizeof hex);
    if (mrc == MDB_NOTFOUND && !writable)
        return FS_NOTFOUND;
    if (mrc == MDB_NOTFOUND) {
        int rc = fs_seal_buf(key, aad, aadlen, NULL, 0, sealed);
        if (rc != FS_OK)
            return fs_fail(d, rc, "gallery '%s': cannot seal its key check",
                           g->dir);
        fs_hex(sealed, sizeof sealed, hex);
        mrc = meta_put(g, txn, name, hex);
        if (mrc)
            return mdb_fail(g, d, mrc, "writing the key check");
        *wrote = 1;
        return FS_OK;
    }
    if (mrc)
        return mdb_fail(g, d, mrc, "reading the key check");
    if (fs_unhex(hex, sealed, sizeof sealed) != FS_OK)
        return fs_fail(d, FS_EFORMAT, "gallery '%s' is damaged (its key "
                       "check is not %d hex bytes)", g->dir,
                       FS_SEAL_OVERHEAD);
    if (fs_unseal_buf(key, aad, aadlen, sealed, sizeof sealed, none) !=
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
    int rc, wrote = 0;
    if (b) {
        /* The first key check commits with the batch (and the gate's
         * wrapped key in it), or not at all. */
        rc = check_key(g, b->txn, !b->readonly, key, &wrote, d);
        b->wrote_key_check |= wrote;
    } else {
        /* A read first: every unlock but the first finds the check, and a
         * read waits on no writer. */
        MDB_txn *txn;
        rc = read_txn(g, &txn, d);
        if (rc == FS_OK) {
            rc = check_key(g, txn, 0, key, &wrote, d);
            mdb_txn_abort(txn);
        }
        if (rc == FS_NOTFOUND && !g->readonly) {
            int mrc = mdb_txn_begin(g->env, NULL, 0, &txn);
            rc = mrc ? mdb_fail(g, d, mrc, "starting a transaction")
                     : check_key(g, txn, 1, key, &wrote, d);
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
    if (rc != FS_OK)
        return rc;
    memcpy(g->key, key, sizeof g->key);
    g->unlocked = 1;
    return FS_OK;
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
        int rc = env_open(b->g, DB_TBLOCKS, &k, &v, p, TBLK_PAYLOAD, &r, d);
        if (rc == FS_OK && r.len != TBLK_PAYLOAD)
            rc = fs_fail(d, FS_EFORMAT, "gallery '%s' is damaged (template "
                         "block %u has %zu bytes)", b->g->dir, no, r.len);
        if (rc != FS_OK) {
            blk_free(b->g, p);
            return rc;
        }
        if (r.p != p)                   /* plain: still in the map */
            memcpy(p, r.p, TBLK_PAYLOAD);
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
        rc != FS_EINVAL && rc != FS_EKEY && rc != FS_EACCESS)
        b->failed = 1;
    return rc;
}

void fs_gallery_abort(fs_gallery_batch *b)
{
    if (!b)
        return;
    mdb_txn_abort(b->txn);
    blk_release(b);
    /* The key check this batch wrote is gone: a key kept without it
     * could seal records that no later unlock would vouch for. */
    if (b->wrote_key_check)
        lock(b->g);
    b->g->open_batch = NULL;
    free(b);
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
    if (rc == FS_OK) {
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
    blk_release(b);
    g->open_batch = NULL;
    /* The loaded matrix goes stale only with the rows: the gate's own
     * records (a search, its entry) commit beside it and keep it. */
    if (b->rows_changed)
        release_matrix(g);
    free(b);
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
    if (mdb_txn_begin(g->env, NULL, MDB_RDONLY, &txn))
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

static int gallery_put_in(fs_gallery_batch *b, const fs_mugshot *m,
                          fs_put_result *res, fs_detail *d)
{
    fs_gallery *g = b->g;
    int rc = can_change(b, d);
    if (rc == FS_OK)
        rc = check_mugshot(m, d);
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

static int read_rank_mode(const fs_gallery *g, MDB_txn *txn, int *mode)
{
    char buf[16];
    int mrc = meta_get(g, txn, "rank_mode", buf, sizeof buf);
    *mode = FS_RANK_EXACT;
    if (mrc == MDB_NOTFOUND)
        return 0;
    if (mrc)
        return mrc;
    for (int i = 0; i < 2; i++)
        if (strcmp(buf, rank_modes[i]) == 0)
            *mode = i;
    return 0;
}

int fs_gallery_rank_mode(fs_gallery *g, int *mode)
{
    MDB_txn *txn;
    if (mdb_txn_begin(g->env, NULL, MDB_RDONLY, &txn))
        return FS_EIO;
    int mrc = read_rank_mode(g, txn, mode);
    mdb_txn_abort(txn);
    return mrc ? FS_EIO : FS_OK;
}

static int gallery_set_rank_mode_in(fs_gallery_batch *b, int mode,
                                    fs_detail *d)
{
    int rc = writable(b, d);
    if (rc != FS_OK)
        return rc;
    if (mode != FS_RANK_EXACT && mode != FS_RANK_COMPRESSED)
        return fs_fail(d, FS_EINVAL, "no ranking mode %d", mode);
    int mrc = meta_put(b->g, b->txn, "rank_mode", rank_modes[mode]);
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
    fs_gallery_stats s = { .schema = FS_GALLERY_SCHEMA, .dim = FS_DESC_DIM };
    rc = counters_read(g, txn, &c, d);
    if (rc == FS_OK) {
        int mrc = meta_get(g, txn, "metric", s.metric, sizeof s.metric);
        if (!mrc) mrc = meta_get(g, txn, "model_id", s.model_id,
                                 sizeof s.model_id);
        if (!mrc) mrc = meta_get(g, txn, "model_sha256", s.model_sha256,
                                 sizeof s.model_sha256);
        if (!mrc) mrc = read_rank_mode(g, txn, &s.rank_mode);
        if (mrc)
            rc = mdb_fail(g, d, mrc, "reading the meta record");
    }
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
    int rc = need_key(g, d);
    if (rc == FS_OK)
        rc = read_txn(g, &txn, d);
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
        rc = p ? env_open(g, DB_IMAGE_DATA, &k, &v, p, cap, &r, d)
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

/* The matrix is mapped, not malloc'd: fresh zero pages, huge pages where
 * the kernel gives them, and no heap fragmentation for gigabytes (and the
 * kernel, not the heap, gets its plaintext back).  A sealed block is
 * opened once into one scratch block and copied from there as a plain
 * one is copied from the map: the one pass is all that sealing costs. */
int fs_gallery_load(fs_gallery *g, fs_templates *out, fs_detail *d)
{
    int rc = need_key(g, d);
    if (rc != FS_OK)
        return rc;
    if (g->vec) {
        /* another process may have put or removed rows since: every put
         * moves next_image on, every removal images down */
        MDB_txn *txn;
        counters now;
        if ((rc = read_txn(g, &txn, d)) != FS_OK)
            return rc;
        rc = counters_read(g, txn, &now, d);
        mdb_txn_abort(txn);
        if (rc != FS_OK)
            return rc;
        if (now.next_image == g->vec_c.next_image &&
            now.images == g->vec_c.images && now.rows == g->vec_c.rows) {
            *out = (fs_templates){ g->vec, g->subj, g->nrows };
            return FS_OK;
        }
        release_matrix(g);
    }
    uint8_t *scratch = g->sealed ? aligned_alloc(64, TBLK_PAYLOAD) : NULL;
    if (g->sealed && !scratch)
        return fs_fail(d, FS_ENOMEM, "no memory for a template block");
    MDB_txn *txn;
    rc = read_txn(g, &txn, d);
    if (rc != FS_OK) {
        free(scratch);
        return rc;
    }
    counters c;
    rc = counters_read(g, txn, &c, d);
    if (rc != FS_OK) {
        mdb_txn_abort(txn);
        free(scratch);
        return rc;
    }
    size_t n = (size_t)c.rows;
    size_t bytes = (n ? n : 1) * FS_DESC_DIM * sizeof(float);
    float *vec = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    uint32_t *subj = malloc((n ? n : 1) * sizeof *subj);
    if (vec == MAP_FAILED || !subj) {
        if (vec != MAP_FAILED)
            munmap(vec, bytes);
        free(subj);
        free(scratch);
        mdb_txn_abort(txn);
        return fs_fail(d, FS_ENOMEM, "no memory for %zu templates", n);
    }
    madvise(vec, bytes, MADV_HUGEPAGE);
    uint64_t nblocks = (n + FS_TBLOCK_ROWS - 1) / FS_TBLOCK_ROWS, seen = 0;
    MDB_cursor *cur = NULL;
    int mrc = mdb_cursor_open(txn, g->dbi[DB_TBLOCKS], &cur);
    if (mrc)
        rc = mdb_fail(g, d, mrc, "reading the templates");
    MDB_val k, v;
    for (mrc = rc == FS_OK ? mdb_cursor_get(cur, &k, &v, MDB_FIRST) : 0;
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
        rc = env_open(g, DB_TBLOCKS, &k, &v, scratch, TBLK_PAYLOAD, &r, d);
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
        for (size_t i = 0; i < want; i++)
            subj[row0 + i] = slots[i].subject;
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
    mdb_txn_abort(txn);
    if (scratch) {
        fs_wipe(scratch, TBLK_PAYLOAD);
        free(scratch);
    }
    if (rc != FS_OK) {
        munmap(vec, bytes);
        free(subj);
        return rc;
    }
    g->vec = vec;
    g->subj = subj;
    g->vec_bytes = bytes;
    g->nrows = n;
    g->vec_c = c;
    *out = (fs_templates){ vec, subj, n };
    return FS_OK;
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
    rc = counters_read(g, txn, &c, d);
    MDB_stat ms[DB_COUNT];
    for (int i = 0; rc == FS_OK && i < DB_COUNT; i++) {
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
                rc = env_open(g, DB_IMAGE_DATA, &dk, &dv, plain, plain_cap,
                              &r, d);
        }
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
