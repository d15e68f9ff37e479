/*
 * check_gallery.c - the LMDB gallery: writes and reads back, idempotent
 * enrolment by image sha256, removal without a trace (G20), refusal of
 * galleries from another model, schema or dimension, of damaged files,
 * and consistency after a writer is killed mid-batch.  Encryption at rest
 * (G21): no image or template in the file, no read without the key,
 * tampered or planted records refused; and the store's tests run again on
 * a sealed gallery (the "sealed" test case).  The template recipe
 * (schema 4): recorded, MAC'd, a schema 3 gallery read as before, and the
 * second model's templates kept per image, sealed, refused when missing
 * or edited.
 */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <lmdb.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../index/fs_index.h"
#include "fs_testutil.h"

#define MODEL_ID  "dlib_resnet_v1"
#define MODEL_SHA "f54a6b36be16aaaa0000111122223333444455556666777788889999aaaabbbb"

/* The test case's mode: the "sealed" case runs the store's tests again
 * on sealed galleries, through open_gallery and open_new. */
static int sealed_mode;

static void plain_setup(void)
{
    tu_tmp_setup();
    sealed_mode = 0;
}

static void sealed_setup(void)
{
    tu_tmp_setup();
    sealed_mode = 1;
}

/* A data key of the tests; seeds tell keys apart. */
static void test_key(uint8_t key[FS_KEY_BYTES], int seed)
{
    for (int i = 0; i < FS_KEY_BYTES; i++)
        key[i] = (uint8_t)(seed * 101 + i * 7);
}

/* Opens a gallery; a sealed one is unlocked with key 1, as the gate
 * would after reading its wrapped key. */
static int open_gallery(const char *dir, const fs_gallery_options *o,
                        fs_gallery **g, fs_detail *d)
{
    fs_gallery *h = NULL;
    fs_gallery_stats st;
    int rc = fs_gallery_open(dir, o, &h, d);
    if (rc == FS_OK)
        rc = fs_gallery_stat(h, &st, d);
    if (rc == FS_OK && st.sealed) {
        uint8_t key[FS_KEY_BYTES];
        test_key(key, 1);
        rc = fs_gallery_unlock(h, key, d);
    }
    if (rc != FS_OK) {
        fs_gallery_close(h);
        return rc;
    }
    *g = h;
    return FS_OK;
}

/* A new gallery, sealed or not. */
static fs_gallery *open_made(const char *dir, int sealed)
{
    fs_gallery_options o = { .create = 1, .model_id = MODEL_ID,
                             .model_sha256 = MODEL_SHA, .sealed = sealed };
    fs_gallery *g = NULL;
    fs_detail d = { "" };
    int rc = open_gallery(dir, &o, &g, &d);
    ck_assert_msg(rc == FS_OK, "open: %s", d.msg);
    fs_gallery_stats st;
    ck_assert_int_eq(fs_gallery_stat(g, &st, &d), FS_OK);
    ck_assert_int_eq(st.sealed, sealed);
    return g;
}

/* A new gallery in the test case's mode. */
static fs_gallery *open_new(const char *dir)
{
    return open_made(dir, sealed_mode);
}

static const char *gdir(void)
{
    return tu_path(tu_tmp, "gallery");
}

/* A deterministic unit vector and image bytes for image number i. */
static void fake_mugshot(int i, const char *subject, fs_mugshot *m,
                         uint8_t *bytes, size_t len)
{
    uint32_t x = 2654435761u * (uint32_t)(i + 1);
    double ss = 0;
    for (int j = 0; j < FS_DESC_DIM; j++) {
        x = x * 1664525u + 1013904223u;
        m->tmpl[j] = (float)((double)(x >> 8) / (1 << 24) - 0.5);
        ss += (double)m->tmpl[j] * m->tmpl[j];
    }
    for (int j = 0; j < FS_DESC_DIM; j++)
        m->tmpl[j] = (float)(m->tmpl[j] / sqrt(ss));
    for (size_t j = 0; j < len; j++)
        bytes[j] = (uint8_t)(i * 31 + j * 7);
    memset(m->sha256, 0, 32);
    memcpy(m->sha256, &i, sizeof i);
    m->subject = subject;
    m->name = "Doe, John";
    m->booking_number = "B-1";
    m->capture_date = "2024-05-01";
    m->source_agency = "Unit 7";
    m->lawful_source = "booking";
    m->image = len ? bytes : NULL;
    m->image_len = len;
    m->tmpl2 = NULL;
}

/* Puts images [from, to) in batch b: image i belongs to subject
 * "s<i % nsub>". */
static void put_range(fs_gallery_batch *b, int from, int to, int nsub)
{
    fs_detail d = { "" };
    for (int i = from; i < to; i++) {
        char subject[32];
        uint8_t bytes[64];
        fs_mugshot m;
        snprintf(subject, sizeof subject, "s%d", i % nsub);
        fake_mugshot(i, subject, &m, bytes, sizeof bytes);
        int rc = fs_gallery_put(b, &m, NULL, &d);
        ck_assert_msg(rc == FS_OK || rc == FS_EXISTS, "put %d: %s", i, d.msg);
    }
}

/* The same in a batch of its own. */
static void enrol_range(fs_gallery *g, int from, int to, int nsub)
{
    fs_gallery_batch *b;
    fs_detail d = { "" };
    ck_assert_int_eq(fs_gallery_begin(g, &b, &d), FS_OK);
    put_range(b, from, to, nsub);
    ck_assert_msg(fs_gallery_commit(b, &d) == FS_OK, "commit: %s", d.msg);
}

/* One change in a batch of its own, as the CLI makes it. */
static int remove_subject(fs_gallery *g, const char *subject, fs_detail *d)
{
    fs_gallery_batch *b;
    int rc = fs_gallery_begin(g, &b, d);
    if (rc != FS_OK)
        return rc;
    rc = fs_gallery_remove(b, subject, d);
    if (rc != FS_OK) {
        fs_gallery_abort(b);
        return rc;
    }
    return fs_gallery_commit(b, d);
}

static int set_rank_mode(fs_gallery *g, int mode, fs_detail *d)
{
    fs_gallery_batch *b;
    int rc = fs_gallery_begin(g, &b, d);
    if (rc != FS_OK)
        return rc;
    rc = fs_gallery_set_rank_mode(b, mode, d);
    if (rc != FS_OK) {
        fs_gallery_abort(b);
        return rc;
    }
    return fs_gallery_commit(b, d);
}

/* The row holding image number i's template, found by its content. */
static long find_row(const fs_templates *t, int i)
{
    fs_mugshot m;
    uint8_t bytes[1];
    fake_mugshot(i, "x", &m, bytes, 0);
    for (size_t r = 0; r < t->n; r++)
        if (memcmp(t->vec + r * FS_DESC_DIM, m.tmpl, sizeof m.tmpl) == 0)
            return (long)r;
    return -1;
}

START_TEST(test_gallery_roundtrip)
{
    fs_gallery *g = open_new(gdir());
    /* more than one block, the last one partial */
    enrol_range(g, 0, FS_TBLOCK_ROWS + 300, 500);
    fs_gallery_close(g);

    /* read-only, as the admin tools open it */
    fs_gallery_options o = { .readonly = 1, .model_id = MODEL_ID,
                             .model_sha256 = MODEL_SHA };
    fs_detail d = { "" };
    ck_assert_int_eq(open_gallery(gdir(), &o, &g, &d), FS_OK);
    fs_gallery_stats st;
    ck_assert_int_eq(fs_gallery_stat(g, &st, &d), FS_OK);
    ck_assert_uint_eq(st.images, FS_TBLOCK_ROWS + 300);
    ck_assert_uint_eq(st.templates, FS_TBLOCK_ROWS + 300);
    ck_assert_uint_eq(st.subjects, 500);
    ck_assert_uint_eq(st.blocks, 2);
    ck_assert_uint_eq(st.image_bytes, 64ull * (FS_TBLOCK_ROWS + 300));
    ck_assert_str_eq(st.model_id, MODEL_ID);

    fs_templates t;
    ck_assert_int_eq(fs_gallery_load(g, &t, &d), FS_OK);
    ck_assert_uint_eq(t.n, FS_TBLOCK_ROWS + 300);
    ck_assert_uint_eq((uintptr_t)t.vec % 64, 0);
    /* rows in enrolment order, each with its subject's number */
    for (int i = 0; i < (int)t.n; i += 97) {
        ck_assert_int_eq(find_row(&t, i), i);
        char id[FS_SUBJECT_MAX], want[32];
        ck_assert_int_eq(fs_gallery_subject_id(g, t.subject[i], id), FS_OK);
        snprintf(want, sizeof want, "s%d", i % 500);
        ck_assert_str_eq(id, want);
    }

    fs_subject_info si;
    fs_image_info ii[8];
    size_t n;
    ck_assert_int_eq(fs_gallery_subject(g, "s7", &si, ii, 8, &n, &d), FS_OK);
    ck_assert_uint_eq(n, 3);               /* images 7, 507, 1007 */
    ck_assert_uint_eq(si.images, 3);
    ck_assert_str_eq(si.name, "Doe, John");
    ck_assert_str_eq(ii[0].lawful_source, "booking");
    ck_assert_str_eq(ii[0].capture_date, "2024-05-01");
    uint8_t *bytes;
    size_t len;
    ck_assert_int_eq(fs_gallery_image(g, ii[0].id, &bytes, &len, &d), FS_OK);
    ck_assert_uint_eq(len, 64);
    ck_assert_uint_eq(bytes[1], (uint8_t)(7 * 31 + 7));
    free(bytes);
    ck_assert_int_eq(fs_gallery_subject(g, "nobody", &si, NULL, 0, &n, &d),
                     FS_NOTFOUND);
    ck_assert_int_eq(fs_gallery_verify(g, &d), FS_OK);
    fs_gallery_close(g);
}
END_TEST

START_TEST(test_gallery_put_idempotent_by_sha)
{
    fs_gallery *g = open_new(gdir());
    enrol_range(g, 0, 10, 3);
    fs_gallery_batch *b;
    fs_detail d = { "" };
    ck_assert_int_eq(fs_gallery_begin(g, &b, &d), FS_OK);
    fs_mugshot m;
    uint8_t bytes[64];
    fake_mugshot(4, "other", &m, bytes, sizeof bytes);
    fs_put_result res;
    ck_assert_int_eq(fs_gallery_put(b, &m, &res, &d), FS_EXISTS);
    uint64_t id;
    ck_assert_int_eq(fs_gallery_find_sha(g, m.sha256, &id), FS_OK);
    ck_assert_uint_eq(res.image_id, id);
    /* the same bytes twice in one batch */
    fake_mugshot(20, "s9", &m, bytes, sizeof bytes);
    ck_assert_int_eq(fs_gallery_put(b, &m, &res, &d), FS_OK);
    ck_assert_int_eq(res.new_subject, 1);
    ck_assert_int_eq(fs_gallery_put(b, &m, &res, &d), FS_EXISTS);
    ck_assert_int_eq(fs_gallery_commit(b, &d), FS_OK);
    enrol_range(g, 0, 10, 3);              /* a re-run adds nothing */
    fs_gallery_stats st;
    ck_assert_int_eq(fs_gallery_stat(g, &st, &d), FS_OK);
    ck_assert_uint_eq(st.images, 11);
    ck_assert_uint_eq(st.subjects, 4);
    ck_assert_int_eq(fs_gallery_find_sha(g, (uint8_t[32]){ 99 }, &id),
                     FS_NOTFOUND);
    ck_assert_int_eq(fs_gallery_verify(g, &d), FS_OK);
    fs_gallery_close(g);
}
END_TEST

START_TEST(test_gallery_abort_leaves_nothing)
{
    fs_gallery *g = open_new(gdir());
    enrol_range(g, 0, 5, 5);
    fs_gallery_batch *b;
    fs_detail d = { "" };
    ck_assert_int_eq(fs_gallery_begin(g, &b, &d), FS_OK);
    fs_mugshot m;
    uint8_t bytes[64];
    fake_mugshot(50, "late", &m, bytes, sizeof bytes);
    ck_assert_int_eq(fs_gallery_put(b, &m, NULL, &d), FS_OK);
    fs_gallery_abort(b);
    fs_gallery_stats st;
    ck_assert_int_eq(fs_gallery_stat(g, &st, &d), FS_OK);
    ck_assert_uint_eq(st.images, 5);
    fs_subject_info si;
    ck_assert_int_eq(fs_gallery_subject(g, "late", &si, NULL, 0, NULL, &d),
                     FS_NOTFOUND);
    ck_assert_int_eq(fs_gallery_verify(g, &d), FS_OK);
    fs_gallery_close(g);
}
END_TEST

/* The admin's ranking choice persists; exact unless set. */
START_TEST(test_gallery_rank_mode)
{
    fs_gallery *g = open_new(gdir());
    int mode = -1;
    fs_detail d = { "" };
    ck_assert_int_eq(fs_gallery_rank_mode(g, &mode), FS_OK);
    ck_assert_int_eq(mode, FS_RANK_EXACT);
    ck_assert_int_eq(set_rank_mode(g, 7, &d), FS_EINVAL);
    ck_assert_int_eq(set_rank_mode(g, FS_RANK_COMPRESSED, &d),
                     FS_OK);
    fs_gallery_close(g);
    ck_assert_int_eq(fs_gallery_open(gdir(), NULL, &g, &d), FS_OK);
    ck_assert_int_eq(fs_gallery_rank_mode(g, &mode), FS_OK);
    ck_assert_int_eq(mode, FS_RANK_COMPRESSED);
    fs_gallery_stats st;
    ck_assert_int_eq(fs_gallery_stat(g, &st, &d), FS_OK);
    ck_assert_int_eq(st.rank_mode, FS_RANK_COMPRESSED);
    fs_gallery_close(g);
}
END_TEST

START_TEST(test_gallery_refuses_bad_records)
{
    fs_gallery *g = open_new(gdir());
    fs_gallery_batch *b;
    fs_detail d = { "" };
    ck_assert_int_eq(fs_gallery_begin(g, &b, &d), FS_OK);
    static const char *bad_ids[] = { "", ".hidden", "a/b", "a b", "x\ny",
        "0123456789012345678901234567890123456789012345678901234567890123" };
    fs_mugshot m;
    uint8_t bytes[8];
    for (size_t i = 0; i < sizeof bad_ids / sizeof *bad_ids; i++) {
        fake_mugshot((int)i, bad_ids[i], &m, bytes, sizeof bytes);
        ck_assert_msg(fs_gallery_put(b, &m, NULL, &d) == FS_EINVAL,
                      "accepted subject id '%s'", bad_ids[i]);
        ck_assert_ptr_nonnull(strstr(d.msg, "subject id"));
    }
    fake_mugshot(1, "ok", &m, bytes, sizeof bytes);
    m.booking_number = "B\x01";
    ck_assert_int_eq(fs_gallery_put(b, &m, NULL, &d), FS_EINVAL);
    ck_assert_ptr_nonnull(strstr(d.msg, "booking number"));
    fake_mugshot(1, "ok", &m, bytes, sizeof bytes);
    m.tmpl[0] += 1.0f;                     /* not unit length */
    ck_assert_int_eq(fs_gallery_put(b, &m, NULL, &d), FS_EINVAL);
    ck_assert_int_eq(fs_gallery_commit(b, &d), FS_OK);
    fs_gallery_stats st;
    ck_assert_int_eq(fs_gallery_stat(g, &st, &d), FS_OK);
    ck_assert_uint_eq(st.images, 0);
    fs_gallery_close(g);
}
END_TEST

/* G20: a removed subject leaves no record, template, image or index
 * entry, and every other image keeps its own template. */
START_TEST(test_G20_remove_leaves_no_trace)
{
    fs_gallery *g = open_new(gdir());
    enrol_range(g, 0, FS_TBLOCK_ROWS + 20, 50);   /* s3 rows spread out */
    fs_detail d = { "" };
    fs_subject_info si;
    ck_assert_int_eq(fs_gallery_subject(g, "s3", &si, NULL, 0, NULL, &d),
                     FS_OK);
    uint32_t gone = si.number;
    ck_assert_int_eq(remove_subject(g, "s3", &d), FS_OK);
    ck_assert_int_eq(remove_subject(g, "s3", &d), FS_NOTFOUND);
    ck_assert_ptr_nonnull(strstr(d.msg, "s3"));

    ck_assert_int_eq(fs_gallery_verify(g, &d), FS_OK);
    fs_templates t;
    ck_assert_int_eq(fs_gallery_load(g, &t, &d), FS_OK);
    int removed = 0;
    for (int i = 0; i < FS_TBLOCK_ROWS + 20; i++) {
        long row = find_row(&t, i);
        if (i % 50 == 3) {
            ck_assert_int_eq(row, -1);       /* its template is gone */
            removed++;
            fs_mugshot m;
            uint8_t b1[1];
            uint64_t id;
            fake_mugshot(i, "s3", &m, b1, 0);
            ck_assert_int_eq(fs_gallery_find_sha(g, m.sha256, &id),
                             FS_NOTFOUND);
        } else {
            ck_assert_int_ge(row, 0);
            ck_assert_uint_ne(t.subject[row], gone);
        }
    }
    ck_assert_uint_eq(t.n, FS_TBLOCK_ROWS + 20 - removed);
    char id[FS_SUBJECT_MAX];
    ck_assert_int_eq(fs_gallery_subject_id(g, gone, id), FS_NOTFOUND);
    fs_gallery_stats st;
    ck_assert_int_eq(fs_gallery_stat(g, &st, &d), FS_OK);
    ck_assert_uint_eq(st.subjects, 49);
    ck_assert_uint_eq(st.image_bytes, 64ull * t.n);
    ck_assert_uint_eq(st.blocks, 1);       /* the tail block went too */

    /* re-enrolment of the same images is possible again */
    enrol_range(g, 3, 4, 50);
    ck_assert_int_eq(fs_gallery_subject(g, "s3", &si, NULL, 0, NULL, &d),
                     FS_OK);
    ck_assert_uint_ne(si.number, gone);
    ck_assert_int_eq(fs_gallery_verify(g, &d), FS_OK);
    fs_gallery_close(g);
}
END_TEST

START_TEST(test_gallery_refuses_other_model)
{
    fs_gallery *g = open_new(gdir());
    fs_gallery_close(g);
    fs_gallery_options o = { .model_id = MODEL_ID,
        .model_sha256 = "0000000000000000000000000000000000000000000000000000000000000000" };
    fs_detail d = { "" };
    ck_assert_int_eq(fs_gallery_open(gdir(), &o, &g, &d), FS_EMODEL);
    ck_assert_ptr_nonnull(strstr(d.msg, "another model") ?
                          strstr(d.msg, "another model") :
                          strstr(d.msg, "made by model"));
    o.model_id = "other_net";
    ck_assert_int_eq(fs_gallery_open(gdir(), &o, &g, &d), FS_EMODEL);
    ck_assert_ptr_nonnull(strstr(d.msg, "other_net"));
    /* admin tools that name no model still open it */
    ck_assert_int_eq(fs_gallery_open(gdir(), NULL, &g, &d), FS_OK);
    fs_gallery_close(g);
}
END_TEST

/* Behind the gallery's back, straight through LMDB: one record of one
 * database read (a malloc'd copy), written (val), or deleted (val NULL). */
static void *raw_get(const char *dir, const char *db, const void *key,
                     size_t klen, size_t *len)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    ck_assert_int_eq(mdb_env_create(&env), 0);
    mdb_env_set_maxdbs(env, 32);
    ck_assert_int_eq(mdb_env_open(env, dir, MDB_RDONLY, 0600), 0);
    ck_assert_int_eq(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
    ck_assert_int_eq(mdb_dbi_open(txn, db, 0, &dbi), 0);
    MDB_val k = { klen, (void *)key }, v;
    ck_assert_int_eq(mdb_get(txn, dbi, &k, &v), 0);
    void *copy = malloc(v.mv_size);
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, v.mv_data, v.mv_size);
    *len = v.mv_size;
    mdb_txn_abort(txn);
    mdb_env_close(env);
    return copy;
}

static void raw_put(const char *dir, const char *db, const void *key,
                    size_t klen, const void *val, size_t vlen)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    ck_assert_int_eq(mdb_env_create(&env), 0);
    mdb_env_set_maxdbs(env, 32);
    ck_assert_int_eq(mdb_env_open(env, dir, 0, 0600), 0);
    ck_assert_int_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
    ck_assert_int_eq(mdb_dbi_open(txn, db, 0, &dbi), 0);
    MDB_val k = { klen, (void *)key }, v = { vlen, (void *)val };
    ck_assert_int_eq(val ? mdb_put(txn, dbi, &k, &v, 0)
                         : mdb_del(txn, dbi, &k, NULL), 0);
    ck_assert_int_eq(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
}

/* Rewrites one meta value. */
static void poke_meta(const char *dir, const char *key, const char *val)
{
    raw_put(dir, "meta", key, strlen(key), val, strlen(val));
}

START_TEST(test_gallery_refuses_other_schema_and_dim)
{
    fs_gallery *g = open_new(gdir());
    fs_gallery_close(g);
    fs_detail d = { "" };
    poke_meta(gdir(), "schema", "7");
    ck_assert_int_eq(fs_gallery_open(gdir(), NULL, &g, &d), FS_EVERSION);
    ck_assert_ptr_nonnull(strstr(d.msg, "schema version 7"));
    char schema[16];
    snprintf(schema, sizeof schema, "%d", FS_GALLERY_SCHEMA);
    poke_meta(gdir(), "schema", schema);
    poke_meta(gdir(), "dim", "512");
    ck_assert_int_eq(fs_gallery_open(gdir(), NULL, &g, &d), FS_EFORMAT);
    ck_assert_ptr_nonnull(strstr(d.msg, "512-D"));
}
END_TEST

START_TEST(test_gallery_refuses_damaged_or_missing)
{
    fs_gallery *g;
    fs_detail d = { "" };
    ck_assert_int_eq(fs_gallery_open(gdir(), NULL, &g, &d), FS_ENOENT);
    ck_assert_ptr_nonnull(strstr(d.msg, "no gallery"));
    /* a file where the directory belongs */
    ck_assert_int_eq(tu_write(gdir(), "x", 1), 0);
    ck_assert_int_eq(fs_gallery_open(gdir(), NULL, &g, &d), FS_ENOTFILE);
    unlink(gdir());

    g = open_new(gdir());
    enrol_range(g, 0, 100, 10);
    fs_gallery_close(g);
    /* garbage over both LMDB meta pages */
    const char *data = tu_path(gdir(), "data.mdb");
    int fd = open(data, O_WRONLY);
    ck_assert_int_ge(fd, 0);
    uint8_t junk[8192];
    memset(junk, 0x5a, sizeof junk);
    ck_assert_int_eq(pwrite(fd, junk, sizeof junk, 0), (ssize_t)sizeof junk);
    close(fd);
    ck_assert_int_eq(fs_gallery_open(gdir(), NULL, &g, &d), FS_EFORMAT);
    ck_assert_ptr_nonnull(strstr(d.msg, "damaged"));

    /* an LMDB environment that is no gallery */
    const char *other = tu_path(tu_tmp, "plain");
    mkdir(other, 0700);
    MDB_env *env;
    mdb_env_create(&env);
    ck_assert_int_eq(mdb_env_open(env, other, 0, 0600), 0);
    mdb_env_close(env);
    ck_assert_int_eq(fs_gallery_open(other, NULL, &g, &d), FS_EFORMAT);
    ck_assert_ptr_nonnull(strstr(d.msg, "not a facesearch gallery"));
}
END_TEST

/* A template block overwritten in place, through LMDB: the load and
 * verify refuse it instead of ranking garbage. */
START_TEST(test_gallery_refuses_damaged_block)
{
    fs_gallery *g = open_new(gdir());
    enrol_range(g, 0, 10, 10);
    fs_gallery_close(g);
    uint8_t key[4] = { 0 }, val[100] = { 'F', 'R', 1 };
    raw_put(gdir(), "tblocks", key, sizeof key, val, sizeof val);

    fs_detail d = { "" };
    ck_assert_int_eq(fs_gallery_open(gdir(), NULL, &g, &d), FS_OK);
    fs_templates t;
    ck_assert_int_eq(fs_gallery_load(g, &t, &d), FS_EFORMAT);
    ck_assert_ptr_nonnull(strstr(d.msg, "template block 0"));
    ck_assert_int_eq(fs_gallery_verify(g, &d), FS_EFORMAT);
    fs_gallery_close(g);
}
END_TEST

/* A writer killed with SIGKILL at a random moment of a batch: the
 * gallery opens consistent at its last commit, and a re-run finishes
 * the job with nothing lost and nothing twice. */
START_TEST(test_gallery_survives_sigkill)
{
    enum { TOTAL = 3000, BATCH = 100, NSUB = 700 };
    fs_gallery *g = open_new(gdir());
    fs_gallery_close(g);
    for (int trial = 0; trial < 3; trial++) {
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            fs_gallery_options o = { .model_id = MODEL_ID,
                                     .model_sha256 = MODEL_SHA };
            fs_gallery *cg;
            if (open_gallery(gdir(), &o, &cg, NULL) != FS_OK)
                _exit(2);
            for (int from = 0; from < TOTAL; from += BATCH)
                enrol_range(cg, from, from + BATCH, NSUB);
            _exit(0);
        }
        usleep(20000 + 40000 * trial);
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);

        fs_detail d = { "" };
        ck_assert_int_eq(open_gallery(gdir(), NULL, &g, &d), FS_OK);
        ck_assert_msg(fs_gallery_verify(g, &d) == FS_OK, "trial %d: %s",
                      trial, d.msg);
        fs_gallery_stats st;
        ck_assert_int_eq(fs_gallery_stat(g, &st, &d), FS_OK);
        ck_assert_uint_eq(st.images % BATCH, 0);   /* whole batches only */
        fs_gallery_close(g);
    }
    g = open_new(gdir());
    for (int from = 0; from < TOTAL; from += BATCH)
        enrol_range(g, from, from + BATCH, NSUB);
    fs_detail d = { "" };
    ck_assert_int_eq(fs_gallery_verify(g, &d), FS_OK);
    fs_gallery_stats st;
    ck_assert_int_eq(fs_gallery_stat(g, &st, &d), FS_OK);
    ck_assert_uint_eq(st.images, TOTAL);
    ck_assert_uint_eq(st.subjects, NSUB);
    fs_templates t;
    ck_assert_int_eq(fs_gallery_load(g, &t, &d), FS_OK);
    for (int i = 0; i < TOTAL; i += 37)
        ck_assert_int_ge(find_row(&t, i), 0);
    fs_gallery_close(g);
}
END_TEST

static void put_str(fs_gallery_batch *b, unsigned table, const char *k,
                    const char *v)
{
    ck_assert_int_eq(fs_record_put(b, table, k, strlen(k), v, strlen(v), 0,
                                   NULL), FS_OK);
}

static void expect_rec(const fs_record *r, const char *k, const char *v)
{
    ck_assert_uint_eq(r->klen, strlen(k));
    ck_assert_int_eq(memcmp(r->key, k, r->klen), 0);
    ck_assert_uint_eq(r->vlen, strlen(v));
    ck_assert_int_eq(memcmp(r->val, v, r->vlen), 0);
}

/* The gate's records: tables kept apart, ordered walks, the table's last
 * record, no overwrite when asked, nothing kept from an aborted batch and
 * no writes through a read-only view. */
/* The loaded matrix outlives commits that touch no row (a search's
 * record and its audit entry), follows this handle's own puts, and is
 * read afresh when another handle (another process) put rows since. */
START_TEST(test_gallery_matrix_follows_the_rows)
{
    fs_gallery *g = open_new(gdir());
    enrol_range(g, 0, 10, 10);
    fs_templates t, t2;
    fs_detail d = { "" };
    ck_assert_int_eq(fs_gallery_load(g, &t, &d), FS_OK);
    fs_gallery_batch *b;
    ck_assert_int_eq(fs_gallery_begin(g, &b, &d), FS_OK);
    put_str(b, 7, "search", "a record beside the rows");
    ck_assert_int_eq(fs_gallery_commit(b, &d), FS_OK);
    ck_assert_int_eq(fs_gallery_load(g, &t2, &d), FS_OK);
    ck_assert_ptr_eq(t2.vec, t.vec);             /* kept, not reread */
    ck_assert_uint_eq(t2.n, 10);
    enrol_range(g, 10, 12, 12);                  /* its own put */
    ck_assert_int_eq(fs_gallery_load(g, &t2, &d), FS_OK);
    ck_assert_uint_eq(t2.n, 12);
    fs_gallery_options o = { .model_id = MODEL_ID,
                             .model_sha256 = MODEL_SHA };
    fs_gallery *other;
    ck_assert_int_eq(open_gallery(gdir(), &o, &other, &d), FS_OK);
    enrol_range(other, 12, 13, 13);              /* another's put */
    ck_assert_int_eq(remove_subject(other, "s3", &d), FS_OK);
    fs_gallery_close(other);
    ck_assert_int_eq(fs_gallery_load(g, &t2, &d), FS_OK);
    ck_assert_uint_eq(t2.n, 12);                 /* 13 rows, one removed */
    ck_assert_int_eq(find_row(&t2, 12) >= 0, 1);
    ck_assert_int_eq(find_row(&t2, 3), -1);
    fs_gallery_close(g);
}
END_TEST

/* The file pages this process maps now, in bytes; 0 without /proc. */
static size_t rss_file(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    size_t kb = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "RssFile: %zu kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb * 1024;
}

/* A 10M gallery's load must not leave the sealed blocks it read through
 * LMDB's map resident beside the matrix it made of them (a second 5 GB
 * in the peak), nor may dropping them lose a row: appending to a block
 * read and dropped, in a later batch, keeps every row. */
START_TEST(test_gallery_load_keeps_one_copy)
{
    enum { N = 16384 };
    if (!rss_file())
        return;                          /* no /proc: nothing to read */
    fs_gallery *g = open_new(gdir());
    enrol_range(g, 0, N, N);
    fs_gallery_close(g);
    g = open_new(gdir());
    fs_templates t;
    fs_detail d = { "" };
    size_t before = rss_file();
    ck_assert_int_eq(fs_gallery_load(g, &t, &d), FS_OK);
    size_t grew = rss_file() - before, matrix = (size_t)N * FS_DESC_DIM * 4;
    ck_assert_msg(grew < matrix / 4, "the load left %zu of a %zu-byte "
                  "matrix's blocks mapped", grew, matrix);
    enrol_range(g, N, N + 100, N + 100);
    ck_assert_int_eq(fs_gallery_load(g, &t, &d), FS_OK);
    ck_assert_uint_eq(t.n, N + 100);
    for (int i = 0; i < N + 100; i += 997)
        ck_assert_int_ge(find_row(&t, i), 0);
    ck_assert_int_ge(find_row(&t, N + 99), 0);
    fs_gallery_close(g);
}
END_TEST

START_TEST(test_gallery_records)
{
    fs_gallery *g = open_new(gdir());
    fs_gallery_batch *b;
    fs_record r;
    fs_detail d = { "" };
    ck_assert_int_eq(fs_gallery_begin(g, &b, &d), FS_OK);
    ck_assert_int_eq(fs_record_last(b, 2, &r, &d), FS_NOTFOUND);
    put_str(b, 2, "b", "two-b");
    put_str(b, 2, "a", "two-a");
    put_str(b, 2, "c", "two-c");
    put_str(b, 1, "z", "one-z");
    put_str(b, 3, "a", "three-a");
    ck_assert_int_eq(fs_record_put(b, 2, "a", 1, "x", 1, FS_RECORD_NEW, &d),
                     FS_EXISTS);
    ck_assert_int_eq(fs_record_put(b, 0, "a", 1, "x", 1, 0, &d), FS_EINVAL);
    ck_assert_int_eq(fs_record_put(b, 256, "a", 1, "x", 1, 0, &d),
                     FS_EINVAL);
    ck_assert_int_eq(fs_gallery_commit(b, &d), FS_OK);

    ck_assert_int_eq(fs_gallery_begin_read(g, &b, &d), FS_OK);
    ck_assert_int_eq(fs_record_get(b, 2, "a", 1, &r, &d), FS_OK);
    expect_rec(&r, "a", "two-a");
    ck_assert_int_eq(fs_record_get(b, 1, "a", 1, &r, &d), FS_NOTFOUND);
    ck_assert_int_eq(fs_record_seek(b, 2, NULL, 0, 0, &r, &d), FS_OK);
    expect_rec(&r, "a", "two-a");
    ck_assert_int_eq(fs_record_seek(b, 2, "a", 1, 1, &r, &d), FS_OK);
    expect_rec(&r, "b", "two-b");
    ck_assert_int_eq(fs_record_seek(b, 2, "bb", 2, 0, &r, &d), FS_OK);
    expect_rec(&r, "c", "two-c");
    ck_assert_int_eq(fs_record_seek(b, 2, "c", 1, 1, &r, &d), FS_NOTFOUND);
    ck_assert_int_eq(fs_record_last(b, 2, &r, &d), FS_OK);
    expect_rec(&r, "c", "two-c");
    ck_assert_int_eq(fs_record_last(b, 3, &r, &d), FS_OK);
    expect_rec(&r, "a", "three-a");
    ck_assert_int_eq(fs_record_put(b, 2, "d", 1, "x", 1, 0, &d), FS_EACCESS);
    ck_assert_int_eq(fs_record_del(b, 2, "a", 1, &d), FS_EACCESS);
    ck_assert_int_eq(fs_gallery_commit(b, &d), FS_OK);

    ck_assert_int_eq(fs_gallery_begin(g, &b, &d), FS_OK);
    ck_assert_int_eq(fs_record_del(b, 2, "c", 1, &d), FS_OK);
    ck_assert_int_eq(fs_record_del(b, 2, "c", 1, &d), FS_NOTFOUND);
    put_str(b, 2, "e", "two-e");
    fs_gallery_abort(b);
    ck_assert_int_eq(fs_gallery_begin_read(g, &b, &d), FS_OK);
    ck_assert_int_eq(fs_record_last(b, 2, &r, &d), FS_OK);
    expect_rec(&r, "c", "two-c");
    fs_gallery_abort(b);
    fs_gallery_close(g);
}
END_TEST

/* ---- G21: encryption at rest ------------------------------------------- */

/* Enrols a few mugshots whose image bytes hold one distinctive 64-byte
 * run, under a distinctive name, then counts what the raw data file
 * shows of them: the run, the name, and the first 64 bytes of each
 * template as stored (floats). */
static int plaintext_in_file(const char *dir, int sealed)
{
    enum { N = 4, LEN = 700 };
    static const char name[] = "Qwertyuiop, Zanzibar";
    uint8_t run[64];
    for (int j = 0; j < 64; j++)
        run[j] = (uint8_t)(0xa5 ^ (j * 29));
    float tmpl[N][FS_DESC_DIM];
    fs_gallery *g = open_made(dir, sealed);
    fs_gallery_batch *b;
    fs_detail d = { "" };
    ck_assert_int_eq(fs_gallery_begin(g, &b, &d), FS_OK);
    for (int i = 0; i < N; i++) {
        uint8_t bytes[LEN];
        fs_mugshot m;
        fake_mugshot(100 + i, "g21", &m, bytes, sizeof bytes);
        memcpy(bytes + 100 + i, run, sizeof run);
        m.name = name;
        memcpy(tmpl[i], m.tmpl, sizeof m.tmpl);
        ck_assert_msg(fs_gallery_put(b, &m, NULL, &d) == FS_OK, "%s", d.msg);
    }
    ck_assert_int_eq(fs_gallery_commit(b, &d), FS_OK);
    fs_gallery_close(g);

    size_t len;
    uint8_t *file = tu_read(tu_path(dir, "data.mdb"), &len);
    ck_assert_ptr_nonnull(file);
    int found = (memmem(file, len, run, sizeof run) != NULL) +
                (memmem(file, len, name, strlen(name)) != NULL);
    for (int i = 0; i < N; i++)
        found += memmem(file, len, tmpl[i], 64) != NULL;
    free(file);
    return found;
}

START_TEST(test_G21_sealed_file_holds_no_image_or_template)
{
    /* the search finds them all where nothing is sealed */
    ck_assert_int_eq(plaintext_in_file(tu_path(tu_tmp, "plain"), 0), 6);
    ck_assert_int_eq(plaintext_in_file(tu_path(tu_tmp, "sealed"), 1), 0);
}
END_TEST

/* Every read or write of sealed or MAC'd records refused for want of
 * the key (setting the rank mode too: its MAC needs it); what needs no
 * key (stat, batches, the gate's records, reading the rank mode) still
 * works. */
static void expect_locked(fs_gallery *g)
{
    fs_detail d = { "" };
    fs_templates t;
    ck_assert_int_eq(fs_gallery_load(g, &t, &d), FS_EKEY);
    ck_assert_ptr_nonnull(strstr(d.msg, "sealed and no key was given"));
    ck_assert_int_eq(fs_gallery_subject(g, "s1", NULL, NULL, 0, NULL, &d),
                     FS_EKEY);
    uint8_t *bytes;
    size_t len;
    ck_assert_int_eq(fs_gallery_image(g, 1, &bytes, &len, &d), FS_EKEY);
    char id[FS_SUBJECT_MAX];
    ck_assert_int_eq(fs_gallery_subject_id(g, 1, id), FS_EKEY);
    ck_assert_int_eq(fs_gallery_verify(g, &d), FS_EKEY);
    fs_gallery_batch *b;
    ck_assert_int_eq(fs_gallery_begin(g, &b, &d), FS_OK);
    fs_mugshot m;
    uint8_t img[64];
    fake_mugshot(50, "s1", &m, img, sizeof img);
    ck_assert_int_eq(fs_gallery_put(b, &m, NULL, &d), FS_EKEY);
    ck_assert_int_eq(fs_gallery_remove(b, "s1", &d), FS_EKEY);
    ck_assert_int_eq(fs_record_put(b, 1, "k", 1, "v", 1, 0, &d), FS_OK);
    ck_assert_int_eq(fs_gallery_set_rank_mode(b, FS_RANK_EXACT, &d),
                     FS_EKEY);
    ck_assert_int_eq(fs_gallery_commit(b, &d), FS_OK);
    int mode = -1;
    ck_assert_int_eq(fs_gallery_rank_mode(g, &mode), FS_OK);
    ck_assert_int_eq(mode, FS_RANK_EXACT);
    fs_gallery_stats st;
    ck_assert_int_eq(fs_gallery_stat(g, &st, &d), FS_OK);
    ck_assert_int_eq(st.sealed, 1);
}

/* Everything enrol_range(from, to, nsub) wrote reads back equal. */
static void expect_enrolled(fs_gallery *g, int from, int to, int nsub)
{
    fs_detail d = { "" };
    fs_templates t;
    ck_assert_msg(fs_gallery_load(g, &t, &d) == FS_OK, "load: %s", d.msg);
    ck_assert_uint_eq(t.n, (size_t)(to - from));
    for (int i = from; i < to; i++) {
        char subject[32], id[FS_SUBJECT_MAX];
        uint8_t want[64], *bytes;
        size_t len;
        uint64_t image;
        fs_mugshot m;
        snprintf(subject, sizeof subject, "s%d", i % nsub);
        fake_mugshot(i, subject, &m, want, sizeof want);
        long row = find_row(&t, i);
        ck_assert_int_ge(row, 0);
        ck_assert_int_eq(fs_gallery_subject_id(g, t.subject[row], id), FS_OK);
        ck_assert_str_eq(id, subject);
        ck_assert_int_eq(fs_gallery_find_sha(g, m.sha256, &image), FS_OK);
        ck_assert_int_eq(fs_gallery_image(g, image, &bytes, &len, &d), FS_OK);
        ck_assert_uint_eq(len, sizeof want);
        ck_assert_int_eq(memcmp(bytes, want, len), 0);
        free(bytes);
    }
    fs_subject_info si;
    ck_assert_int_eq(fs_gallery_subject(g, "s1", &si, NULL, 0, NULL, &d),
                     FS_OK);
    ck_assert_str_eq(si.name, "Doe, John");
    ck_assert_msg(fs_gallery_verify(g, &d) == FS_OK, "verify: %s", d.msg);
}

START_TEST(test_G21_wrong_or_missing_key_refused)
{
    fs_gallery *g = open_made(gdir(), 1);        /* key 1 */
    enrol_range(g, 0, 10, 5);
    fs_gallery_close(g);

    fs_detail d = { "" };
    uint8_t key[FS_KEY_BYTES];
    ck_assert_int_eq(fs_gallery_open(gdir(), NULL, &g, &d), FS_OK);
    expect_locked(g);
    test_key(key, 2);
    ck_assert_int_eq(fs_gallery_unlock(g, key, &d), FS_EKEY);
    ck_assert_ptr_nonnull(strstr(d.msg, "not this gallery's key"));
    expect_locked(g);
    test_key(key, 1);
    ck_assert_int_eq(fs_gallery_unlock(g, key, &d), FS_OK);
    expect_enrolled(g, 0, 10, 5);
    /* a wrong key later leaves the right one in place */
    test_key(key, 3);
    ck_assert_int_eq(fs_gallery_unlock(g, key, &d), FS_EKEY);
    expect_enrolled(g, 0, 10, 5);
    fs_gallery_close(g);

    g = open_made(tu_path(tu_tmp, "plain"), 0);
    ck_assert_int_eq(fs_gallery_unlock(g, key, &d), FS_EINVAL);
    fs_gallery_close(g);
}
END_TEST

/* The gate's first unlock: its wrapped data key and the gallery's key
 * check go in one batch and commit, or abort, together. */
START_TEST(test_G21_first_key_check_commits_with_its_batch)
{
    fs_gallery_options o = { .create = 1, .model_id = MODEL_ID,
                             .model_sha256 = MODEL_SHA, .sealed = 1 };
    fs_gallery *g;
    fs_gallery_batch *b;
    fs_detail d = { "" };
    uint8_t k1[FS_KEY_BYTES], k2[FS_KEY_BYTES];
    test_key(k1, 1);
    test_key(k2, 2);
    ck_assert_int_eq(fs_gallery_open(gdir(), &o, &g, &d), FS_OK);

    /* aborted: the key check is gone, so is the key */
    ck_assert_int_eq(fs_gallery_begin(g, &b, &d), FS_OK);
    ck_assert_int_eq(fs_gallery_unlock(g, k2, &d), FS_OK);
    put_range(b, 0, 3, 2);
    fs_gallery_abort(b);
    expect_locked(g);

    /* committed: the key, kept in the gate's records, opens it later */
    ck_assert_int_eq(fs_gallery_begin(g, &b, &d), FS_OK);
    ck_assert_int_eq(fs_record_put(b, 7, "data key", 8, k1, sizeof k1,
                                   FS_RECORD_NEW, &d), FS_OK);
    ck_assert_int_eq(fs_gallery_unlock(g, k1, &d), FS_OK);
    put_range(b, 0, 10, 5);
    ck_assert_int_eq(fs_gallery_commit(b, &d), FS_OK);
    fs_gallery_close(g);

    ck_assert_int_eq(fs_gallery_open(gdir(), NULL, &g, &d), FS_OK);
    uint8_t key[FS_KEY_BYTES];
    fs_record r;
    ck_assert_int_eq(fs_gallery_begin_read(g, &b, &d), FS_OK);
    ck_assert_int_eq(fs_record_get(b, 7, "data key", 8, &r, &d), FS_OK);
    ck_assert_uint_eq(r.vlen, sizeof key);
    memcpy(key, r.val, sizeof key);
    ck_assert_int_eq(fs_gallery_commit(b, &d), FS_OK);
    ck_assert_int_eq(fs_gallery_unlock(g, k2, &d), FS_EKEY);
    ck_assert_int_eq(fs_gallery_unlock(g, key, &d), FS_OK);
    expect_enrolled(g, 0, 10, 5);
    fs_gallery_close(g);
}
END_TEST

/* The LMDB key of image number i's record (ids[i]), of block 0, or of
 * subject "s<i % 5>", in buf. */
static size_t spoil_key(const char *db, int i, const uint64_t *ids,
                        uint8_t *buf)
{
    if (strcmp(db, "tblocks") == 0) {
        memset(buf, 0, 4);
        return 4;
    }
    if (strcmp(db, "subjects") == 0)
        return (size_t)snprintf((char *)buf, 16, "s%d", i % 5);
    for (int j = 0; j < 8; j++)
        buf[j] = (uint8_t)(ids[i] >> (56 - 8 * j));
    return 8;
}

/* The read a spoiled record stops, and how its detail names it. */
static int read_spoiled(fs_gallery *g, const char *db, int i,
                        const uint64_t *ids, char *name, size_t cap,
                        fs_detail *d)
{
    char subject[16];
    snprintf(subject, sizeof subject, "s%d", i % 5);
    if (strcmp(db, "tblocks") == 0) {
        fs_templates t;
        snprintf(name, cap, "template block 0");
        return fs_gallery_load(g, &t, d);
    }
    if (strcmp(db, "image_data") == 0) {
        uint8_t *bytes = NULL;
        size_t len;
        snprintf(name, cap, "image %llu's data",
                 (unsigned long long)ids[i]);
        int rc = fs_gallery_image(g, ids[i], &bytes, &len, d);
        free(bytes);
        return rc;
    }
    if (strcmp(db, "images") == 0)
        snprintf(name, cap, "image %llu's record",
                 (unsigned long long)ids[i]);
    else
        snprintf(name, cap, "subject '%s'", subject);
    fs_image_info ii[8];
    size_t n;
    return fs_gallery_subject(g, subject, NULL, ii, 8, &n, d);
}

/* Records changed behind the gallery's back, one at a time and put back
 * after: a flipped ciphertext byte, a value copied under another key, a
 * plain envelope planted.  The read that meets it and fs_gallery_verify
 * both refuse it, naming it. */
START_TEST(test_G21_tampered_ciphertext_refused)
{
    enum { FLIP, COPY, PLANT };
    static const struct {
        const char *db;
        int         how, victim, source;
        size_t      at;                        /* FLIP: byte of the value */
    } cases[] = {
        { "image_data", FLIP,  2, 0, 32 + 10 },
        { "tblocks",    FLIP,  0, 0, 40000 },
        { "subjects",   FLIP,  1, 0, 32 + 3 },
        { "images",     FLIP,  3, 0, 33 },     /* its ciphertext's first */
        { "image_data", COPY,  4, 1, 0 },
        { "images",     COPY,  4, 1, 0 },
        { "image_data", PLANT, 3, 0, 0 },
    };
    fs_gallery *g = open_made(gdir(), 1);
    enrol_range(g, 0, 10, 5);
    uint64_t ids[10];
    for (int i = 0; i < 10; i++) {
        fs_mugshot m;
        uint8_t none[1];
        fake_mugshot(i, "x", &m, none, 0);
        ck_assert_int_eq(fs_gallery_find_sha(g, m.sha256, &ids[i]), FS_OK);
    }
    fs_gallery_close(g);

    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        const char *db = cases[c].db;
        uint8_t key[16], src[16];
        size_t klen = spoil_key(db, cases[c].victim, ids, key), len, slen;
        uint8_t *orig = raw_get(gdir(), db, key, klen, &len);
        uint8_t *val;
        if (cases[c].how == COPY) {
            size_t sk = spoil_key(db, cases[c].source, ids, src);
            val = raw_get(gdir(), db, src, sk, &slen);
        } else {
            val = malloc(len);
            ck_assert_ptr_nonnull(val);
            memcpy(val, orig, len);
            slen = len;
            if (cases[c].how == FLIP)
                val[cases[c].at] ^= 0x01;
            else
                val[3] = 0;                    /* flags: not sealed */
        }
        raw_put(gdir(), db, key, klen, val, slen);

        fs_detail d = { "" };
        char name[64];
        ck_assert_int_eq(open_gallery(gdir(), NULL, &g, &d), FS_OK);
        int rc = read_spoiled(g, db, cases[c].victim, ids, name,
                              sizeof name, &d);
        ck_assert_msg(rc == FS_ETAMPER, "case %zu: %d %s", c, rc, d.msg);
        ck_assert_msg(strstr(d.msg, name), "case %zu: '%s' does not name "
                      "%s", c, d.msg, name);
        ck_assert_ptr_nonnull(strstr(d.msg, cases[c].how == PLANT ?
                                     "not sealed" : "integrity check"));
        ck_assert_int_eq(fs_gallery_verify(g, &d), FS_ETAMPER);
        ck_assert_msg(strstr(d.msg, name), "verify, case %zu: %s", c,
                      d.msg);
        fs_gallery_close(g);
        raw_put(gdir(), db, key, klen, orig, len);
        free(orig);
        free(val);
    }

    /* meta no longer saying "sealed": no key is taken, and the sealed
     * records are not read as plain ones */
    size_t sealed_len;
    void *sealed_val = raw_get(gdir(), "meta", "sealed", 6, &sealed_len);
    raw_put(gdir(), "meta", "sealed", 6, NULL, 0);
    fs_detail d = { "" };
    uint8_t key[FS_KEY_BYTES], *bytes;
    size_t len;
    test_key(key, 1);
    ck_assert_int_eq(fs_gallery_open(gdir(), NULL, &g, &d), FS_OK);
    ck_assert_int_eq(fs_gallery_unlock(g, key, &d), FS_EINVAL);
    ck_assert_int_eq(fs_gallery_image(g, ids[0], &bytes, &len, &d),
                     FS_ETAMPER);
    ck_assert_ptr_nonnull(strstr(d.msg, "not marked sealed"));
    fs_gallery_close(g);

    /* put back, the gallery is whole: the changes alone were refused */
    raw_put(gdir(), "meta", "sealed", 6, sealed_val, sealed_len);
    free(sealed_val);
    ck_assert_int_eq(open_gallery(gdir(), NULL, &g, &d), FS_OK);
    expect_enrolled(g, 0, 10, 5);
    fs_gallery_close(g);
}
END_TEST

/* The plain indexes cannot lend one subject's face to another: a number
 * or an image listed under the wrong id is refused by the sealed records
 * it points to, and a removal through it takes nothing. */
START_TEST(test_G21_doctored_index_cannot_swap_faces)
{
    fs_gallery *g = open_made(gdir(), 1);
    enrol_range(g, 0, 10, 5);
    fs_detail d = { "" };
    fs_subject_info s1, s2;
    fs_image_info ii[4];
    size_t n;
    ck_assert_int_eq(fs_gallery_subject(g, "s1", &s1, NULL, 0, NULL, &d),
                     FS_OK);
    ck_assert_int_eq(fs_gallery_subject(g, "s2", &s2, ii, 4, &n, &d), FS_OK);
    fs_gallery_close(g);

    uint8_t num[4] = { (uint8_t)(s1.number >> 24), (uint8_t)(s1.number >> 16),
                       (uint8_t)(s1.number >> 8), (uint8_t)s1.number };
    raw_put(gdir(), "subject_num", num, 4, "s2", 2);
    ck_assert_int_eq(open_gallery(gdir(), NULL, &g, &d), FS_OK);
    char id[FS_SUBJECT_MAX];
    ck_assert_int_eq(fs_gallery_subject_id(g, s1.number, id), FS_EFORMAT);
    fs_gallery_close(g);
    raw_put(gdir(), "subject_num", num, 4, "s1", 2);

    uint8_t image[8];
    for (int j = 0; j < 8; j++)
        image[j] = (uint8_t)(ii[0].id >> (56 - 8 * j));
    raw_put(gdir(), "subject_images", "s1", 2, image, 8);
    ck_assert_int_eq(open_gallery(gdir(), NULL, &g, &d), FS_OK);
    ck_assert_int_eq(fs_gallery_subject(g, "s1", NULL, ii, 4, &n, &d),
                     FS_EFORMAT);
    ck_assert_ptr_nonnull(strstr(d.msg, "listed under subject 's1'"));
    ck_assert_int_eq(remove_subject(g, "s1", &d), FS_EFORMAT);
    uint8_t *bytes;
    size_t len;
    ck_assert_int_eq(fs_gallery_image(g, ii[0].id, &bytes, &len, &d), FS_OK);
    free(bytes);
    fs_gallery_close(g);
}
END_TEST

/* ---- G21: authenticated meta ------------------------------------------- */

static const char *const meta_records[] = {
    "schema", "dim", "metric", "model_id", "model_sha256", "created",
    "sealed", "rank_mode", "key_check", "next_image", "rows", "images",
    "image_bytes", "next_subject", "subjects",
    "mirror", "second_model_id", "second_model_sha256", "subject_template"
};
#define META_RECORDS (sizeof meta_records / sizeof *meta_records)

/* Opens the gallery and gives it key 1: the code of the first refusal,
 * the detail in d. */
static int open_unlock(fs_gallery **g, fs_detail *d)
{
    uint8_t key[FS_KEY_BYTES];
    test_key(key, 1);
    int rc = fs_gallery_open(gdir(), NULL, g, d);
    if (rc != FS_OK)
        return rc;
    rc = fs_gallery_unlock(*g, key, d);
    if (rc != FS_OK) {
        fs_gallery_close(*g);
        *g = NULL;
    }
    return rc;
}

/* The refusal of an edited meta record: at open (what is read before
 * the key: the schema, the model, "sealed") or at unlock, FS_ETAMPER
 * naming it. */
static void expect_meta_refused(const char *name, const char *how)
{
    fs_gallery *g = NULL;
    fs_detail d = { "" };
    char want[64];
    snprintf(want, sizeof want, "meta record '%s'", name);
    int rc = open_unlock(&g, &d);
    if (g)
        fs_gallery_close(g);
    if (rc == FS_EINVAL && strcmp(name, "sealed") == 0)
        return;                 /* no longer sealed: the gate's alarm */
    if (rc != FS_ETAMPER && strstr(" schema dim metric model_id "
                                   "model_sha256 ", name))
        ck_assert_msg(rc != FS_OK, "%s '%s' opened", how, name);
    else
        ck_assert_msg(rc == FS_ETAMPER && strstr(d.msg, want),
                      "%s '%s': %d %s", how, name, rc, d.msg);
}

/* Every meta record of a sealed gallery edited offline, one at a time
 * and put back after: its MAC flipped, its text changed under the old
 * MAC, the record removed; and records planted.  Each is refused when
 * the key is given, naming the record, and the gallery is whole again
 * once put back. */
START_TEST(test_G21_meta_edited_offline_refused)
{
    fs_gallery *g = open_made(gdir(), 1);
    enrol_range(g, 0, 10, 5);
    fs_detail d = { "" };
    ck_assert_int_eq(set_rank_mode(g, FS_RANK_COMPRESSED, &d), FS_OK);
    fs_gallery_close(g);

    for (size_t i = 0; i < META_RECORDS; i++) {
        const char *name = meta_records[i];
        size_t klen = strlen(name), len;
        uint8_t *orig = raw_get(gdir(), "meta", name, klen, &len);
        uint8_t *val = malloc(len + 8);
        ck_assert_ptr_nonnull(val);
        size_t tlen = strnlen((const char *)orig, len);
        ck_assert_uint_eq(len, tlen + 1 + 32);  /* text, NUL, MAC */

        memcpy(val, orig, len);
        val[len - 1] ^= 0x01;                    /* the MAC */
        raw_put(gdir(), "meta", name, klen, val, len);
        expect_meta_refused(name, "MAC flipped of");

        raw_put(gdir(), "meta", name, klen, orig, tlen);   /* MAC dropped */
        expect_meta_refused(name, "MAC dropped of");

        raw_put(gdir(), "meta", name, klen, NULL, 0);
        expect_meta_refused(name, "removed");
        raw_put(gdir(), "meta", name, klen, orig, len);
        free(val);
        free(orig);
    }

    /* plausible values under the old MAC: a counter, the rank mode */
    static const struct { const char *name, *val; } plant[] = {
        { "rows", "9" }, { "images", "11" }, { "next_image", "5" },
        { "rank_mode", "exact" }, { "subjects", "4" },
        { "mirror", "1" }, { "second_model_id", "faceres" },
        { "subject_template", "mean" },
    };
    for (size_t i = 0; i < sizeof plant / sizeof *plant; i++) {
        const char *name = plant[i].name;
        size_t klen = strlen(name), len, vlen = strlen(plant[i].val);
        uint8_t *orig = raw_get(gdir(), "meta", name, klen, &len);
        size_t tlen = strnlen((const char *)orig, len);
        uint8_t val[64];
        memcpy(val, plant[i].val, vlen);
        memcpy(val + vlen, orig + tlen, len - tlen);
        raw_put(gdir(), "meta", name, klen, val, vlen + len - tlen);
        expect_meta_refused(name, "planted value in");
        raw_put(gdir(), "meta", name, klen, orig, len);
        free(orig);
    }
    /* a record this build never writes, with or without a MAC's room */
    raw_put(gdir(), "meta", "rank_shortlist", 14, "9", 1);
    expect_meta_refused("rank_shortlist", "planted");
    raw_put(gdir(), "meta", "rank_shortlist", 14, NULL, 0);

    ck_assert_int_eq(open_unlock(&g, &d), FS_OK);
    expect_enrolled(g, 0, 10, 5);
    int mode;
    ck_assert_int_eq(fs_gallery_rank_mode(g, &mode), FS_OK);
    ck_assert_int_eq(mode, FS_RANK_COMPRESSED);
    fs_gallery_close(g);
}
END_TEST

/* Meta edited while a handle is open and unlocked (by another process,
 * as an insider with the file would): the next read that acts upon it
 * refuses it, and so does verify. */
START_TEST(test_G21_meta_edited_under_an_open_handle_refused)
{
    fs_gallery *g = open_made(gdir(), 1);
    enrol_range(g, 0, 10, 5);
    fs_detail d = { "" };
    for (int c = 0; c < 2; c++) {
        const char *name = c ? "rank_mode" : "rows";
        size_t klen = strlen(name), len;
        uint8_t *orig = NULL;
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            orig = raw_get(gdir(), "meta", name, klen, &len);
            orig[0] = c ? 'c' : '9';     /* "compressed"-ish, 9 rows */
            raw_put(gdir(), "meta", name, klen, orig, len);
            _exit(0);
        }
        int status;
        waitpid(pid, &status, 0);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);

        char want[64];
        snprintf(want, sizeof want, "meta record '%s'", name);
        fs_gallery_stats st;
        ck_assert_int_eq(fs_gallery_stat(g, &st, &d), FS_ETAMPER);
        ck_assert_msg(strstr(d.msg, want), "%s", d.msg);
        int mode;
        if (c) {
            ck_assert_int_eq(fs_gallery_rank_mode(g, &mode), FS_ETAMPER);
        } else {
            fs_gallery_batch *b;
            fs_templates t;
            ck_assert_int_eq(fs_gallery_begin(g, &b, &d), FS_ETAMPER);
            ck_assert_msg(strstr(d.msg, want), "%s", d.msg);
            ck_assert_int_eq(fs_gallery_load(g, &t, &d), FS_ETAMPER);
            ck_assert_msg(strstr(d.msg, want), "%s", d.msg);
        }
        ck_assert_int_eq(fs_gallery_verify(g, &d), FS_ETAMPER);
        ck_assert_msg(strstr(d.msg, want), "%s", d.msg);
        /* put back by the same hand */
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            orig = raw_get(gdir(), "meta", name, klen, &len);
            orig[0] = c ? 'e' : '1';
            raw_put(gdir(), "meta", name, klen, orig, len);
            _exit(0);
        }
        waitpid(pid, &status, 0);
        ck_assert_msg(fs_gallery_verify(g, &d) == FS_OK, "%s", d.msg);
    }
    fs_gallery_close(g);
}
END_TEST

/* An unsealed gallery has no MACs and believes its meta, as before. */
START_TEST(test_gallery_unsealed_meta_has_no_macs)
{
    fs_gallery *g = open_made(gdir(), 0);
    enrol_range(g, 0, 10, 5);
    fs_gallery_close(g);
    size_t len;
    char *v = raw_get(gdir(), "meta", "rows", 4, &len);
    ck_assert_uint_eq(len, 2);
    ck_assert_int_eq(memcmp(v, "10", 2), 0);
    free(v);
    poke_meta(gdir(), "rank_mode", "compressed");
    fs_detail d = { "" };
    ck_assert_int_eq(fs_gallery_open(gdir(), NULL, &g, &d), FS_OK);
    int mode;
    ck_assert_int_eq(fs_gallery_rank_mode(g, &mode), FS_OK);
    ck_assert_int_eq(mode, FS_RANK_COMPRESSED);
    ck_assert_int_eq(fs_gallery_verify(g, &d), FS_OK);
    fs_gallery_close(g);
}
END_TEST

/* The key check removed from a gallery that holds records cannot pass
 * it off as new, with meta that no MAC covers. */
START_TEST(test_G21_key_check_removed_refused)
{
    fs_gallery *g = open_made(gdir(), 1);
    enrol_range(g, 0, 10, 5);
    fs_gallery_close(g);
    static const char *names[] = { "key_check", "rows" };
    for (size_t i = 0; i < 2; i++) {          /* both: MACs stripped */
        size_t len;
        char *v = raw_get(gdir(), "meta", names[i], strlen(names[i]), &len);
        if (i == 0)
            raw_put(gdir(), "meta", names[i], 9, NULL, 0);
        else
            raw_put(gdir(), "meta", names[i], 4, v, strlen(v));
        free(v);
    }
    fs_gallery *h;
    fs_detail d = { "" };
    ck_assert_int_eq(open_unlock(&h, &d), FS_ETAMPER);
    ck_assert_msg(strstr(d.msg, "meta record 'key_check'"), "%s", d.msg);
}
END_TEST

/* ---- re-keying ---------------------------------------------------------- */

START_TEST(test_G21_rekey_reseals_everything)
{
    enum { N = FS_TBLOCK_ROWS + 40, NSUB = 300 };
    fs_gallery *g = open_made(gdir(), 1);
    enrol_range(g, 0, N, NSUB);
    fs_detail d = { "" };
    ck_assert_int_eq(set_rank_mode(g, FS_RANK_COMPRESSED, &d), FS_OK);
    fs_templates t;
    ck_assert_int_eq(fs_gallery_load(g, &t, &d), FS_OK);
    size_t bytes = t.n * FS_DESC_DIM * sizeof(float);
    float *before = malloc(bytes);
    uint32_t *subj = malloc(t.n * sizeof *subj);
    ck_assert(before && subj);
    memcpy(before, t.vec, bytes);
    memcpy(subj, t.subject, t.n * sizeof *subj);
    size_t n = t.n;

    uint8_t k1[FS_KEY_BYTES], k2[FS_KEY_BYTES];
    test_key(k1, 1);
    test_key(k2, 2);
    /* aborted: the old key goes on, the new one opens nothing */
    fs_gallery_batch *b;
    ck_assert_int_eq(fs_gallery_begin(g, &b, &d), FS_OK);
    ck_assert_msg(fs_gallery_rekey(b, k2, &d) == FS_OK, "%s", d.msg);
    fs_gallery_abort(b);
    expect_enrolled(g, 0, N, NSUB);
    fs_gallery_close(g);
    ck_assert_int_eq(fs_gallery_open(gdir(), NULL, &g, &d), FS_OK);
    ck_assert_int_eq(fs_gallery_unlock(g, k2, &d), FS_EKEY);
    ck_assert_int_eq(fs_gallery_unlock(g, k1, &d), FS_OK);
    expect_enrolled(g, 0, N, NSUB);

    /* committed: the handle goes on under the new key */
    ck_assert_int_eq(fs_gallery_begin(g, &b, &d), FS_OK);
    ck_assert_int_eq(fs_record_put(b, 3, "mine", 4, "x", 1, 0, &d), FS_OK);
    ck_assert_msg(fs_gallery_rekey(b, k2, &d) == FS_OK, "%s", d.msg);
    ck_assert_int_eq(fs_gallery_commit(b, &d), FS_OK);
    expect_enrolled(g, 0, N, NSUB);
    enrol_range(g, N, N + 5, NSUB);             /* written under it too */
    fs_gallery_close(g);

    ck_assert_int_eq(fs_gallery_open(gdir(), NULL, &g, &d), FS_OK);
    ck_assert_int_eq(fs_gallery_unlock(g, k1, &d), FS_EKEY);
    ck_assert_msg(fs_gallery_unlock(g, k2, &d) == FS_OK, "%s", d.msg);
    ck_assert_msg(fs_gallery_verify(g, &d) == FS_OK, "%s", d.msg);
    int mode;
    ck_assert_int_eq(fs_gallery_rank_mode(g, &mode), FS_OK);
    ck_assert_int_eq(mode, FS_RANK_COMPRESSED);
    ck_assert_int_eq(fs_gallery_begin_read(g, &b, &d), FS_OK);
    fs_record r;
    ck_assert_int_eq(fs_record_get(b, 3, "mine", 4, &r, &d), FS_OK);
    expect_rec(&r, "mine", "x");               /* the caller's, untouched */
    fs_gallery_abort(b);
    ck_assert_int_eq(fs_gallery_load(g, &t, &d), FS_OK);
    ck_assert_uint_eq(t.n, n + 5);
    ck_assert_int_eq(memcmp(t.vec, before, bytes), 0);
    ck_assert_int_eq(memcmp(t.subject, subj, n * sizeof *subj), 0);
    fs_gallery_close(g);
    free(before);
    free(subj);
}
END_TEST

/* ---- compaction and the lock ------------------------------------------- */

/* A subject "gone" of two images, a small one (within a page) and a big
 * one (pages of its own), each with a marker of its own. */
static void put_marked(fs_gallery *g, uint8_t marks[2][32])
{
    static uint8_t img[2][6000];
    static const size_t lens[2] = { 700, 6000 };
    fs_gallery_batch *b;
    fs_detail d = { "" };
    ck_assert_int_eq(fs_gallery_begin(g, &b, &d), FS_OK);
    for (int i = 0; i < 2; i++) {
        fs_mugshot m;
        for (int j = 0; j < 32; j++)
            marks[i][j] = (uint8_t)(0x3c ^ (j * 37) ^ (i * 101));
        fake_mugshot(5000 + i, "gone", &m, img[i], lens[i]);
        memcpy(img[i] + 300, marks[i], 32);
        ck_assert_int_eq(fs_gallery_put(b, &m, NULL, &d), FS_OK);
    }
    ck_assert_int_eq(fs_gallery_commit(b, &d), FS_OK);
}

static int holds(const uint8_t *needle, size_t n)
{
    return tu_file_holds(tu_path(gdir(), "data.mdb"), needle, n);
}

START_TEST(test_G20_compaction_drops_removed_subject)
{
    fs_gallery *g = open_made(gdir(), 0);
    enrol_range(g, 0, 200, 20);
    uint8_t marks[2][32];
    put_marked(g, marks);
    enrol_range(g, 200, 400, 20);
    fs_detail d = { "" };
    ck_assert_int_eq(remove_subject(g, "gone", &d), FS_OK);
    /* freed, not gone: what compaction is for */
    ck_assert(holds(marks[0], 32) || holds(marks[1], 32));
    ck_assert_msg(fs_gallery_compact(g, &d) == FS_OK, "%s", d.msg);
    ck_assert(!holds(marks[0], 32));
    ck_assert(!holds(marks[1], 32));
    expect_enrolled(g, 0, 400, 20);
    fs_gallery_close(g);
    ck_assert_int_eq(open_gallery(gdir(), NULL, &g, &d), FS_OK);
    expect_enrolled(g, 0, 400, 20);
    fs_gallery_close(g);
}
END_TEST

/* Sealed: the removed subject's sealed records, as raw bytes. */
START_TEST(test_G20_compaction_drops_removed_sealed_records)
{
    fs_gallery *g = open_made(gdir(), 1);
    enrol_range(g, 0, 200, 20);
    uint8_t marks[2][32];
    put_marked(g, marks);
    enrol_range(g, 200, 400, 20);
    fs_detail d = { "" };
    fs_image_info ii[2];
    size_t n;
    ck_assert_int_eq(fs_gallery_subject(g, "gone", NULL, ii, 2, &n, &d),
                     FS_OK);
    fs_gallery_close(g);
    uint8_t *raw[4];
    size_t len[4];
    for (int i = 0; i < 2; i++) {
        uint8_t key[8];
        for (int j = 0; j < 8; j++)
            key[j] = (uint8_t)(ii[i].id >> (56 - 8 * j));
        raw[2 * i] = raw_get(gdir(), "images", key, 8, &len[2 * i]);
        raw[2 * i + 1] = raw_get(gdir(), "image_data", key, 8,
                                 &len[2 * i + 1]);
    }
    ck_assert_int_eq(open_gallery(gdir(), NULL, &g, &d), FS_OK);
    ck_assert_int_eq(remove_subject(g, "gone", &d), FS_OK);
    int before = 0;
    for (int i = 0; i < 4; i++)   /* the ciphertext, past the header */
        before += holds(raw[i] + 32, 32);
    ck_assert_int_gt(before, 0);
    ck_assert_msg(fs_gallery_compact(g, &d) == FS_OK, "%s", d.msg);
    for (int i = 0; i < 4; i++) {
        ck_assert_msg(!holds(raw[i] + 32, 32), "record %d survives", i);
        free(raw[i]);
    }
    expect_enrolled(g, 0, 400, 20);
    fs_gallery_close(g);
}
END_TEST

/* Whether a lock of type conflicting with one held on gallery.lock by
 * someone else. */
static int lock_held(short type)
{
    int fd = open(tu_path(gdir(), "gallery.lock"), O_RDONLY);
    ck_assert_int_ge(fd, 0);
    struct flock fl = { .l_type = type, .l_whence = SEEK_SET };
    ck_assert_int_eq(fcntl(fd, F_OFD_GETLK, &fl), 0);
    close(fd);
    return fl.l_type != F_UNLCK;
}

static ino_t data_inode(void)
{
    struct stat st;
    ck_assert_int_eq(stat(tu_path(gdir(), "data.mdb"), &st), 0);
    return st.st_ino;
}

/* Another handle open, in this process here, keeps compaction off the
 * file: FS_EBUSY with nothing changed and the shared lock still held;
 * once it closes, compaction goes through.  Read-only handles hold the
 * lock too; the exclusive one is held across calls on demand. */
START_TEST(test_gallery_compaction_waits_for_other_handles)
{
    fs_gallery_close(open_made(gdir(), 0));
    fs_gallery_options impatient = { .alone_wait_ms = 200 };
    fs_gallery *g, *other;
    fs_detail d = { "" };
    ck_assert_int_eq(fs_gallery_open(gdir(), &impatient, &g, &d), FS_OK);
    enrol_range(g, 0, 50, 10);
    fs_gallery_options ro = { .readonly = 1 };
    ck_assert_int_eq(fs_gallery_open(gdir(), &ro, &other, &d), FS_OK);
    ino_t ino = data_inode();
    ck_assert_int_eq(fs_gallery_compact(g, &d), FS_EBUSY);
    ck_assert_msg(strstr(d.msg, "in use") && strstr(d.msg, "waited 0.2 s"),
                  "%s", d.msg);
    ck_assert_int_eq(fs_gallery_compact(other, &d), FS_EACCESS);
    ck_assert(data_inode() == ino);
    ck_assert(lock_held(F_WRLCK) && !lock_held(F_RDLCK));
    fs_gallery_close(other);
    ck_assert(lock_held(F_WRLCK));             /* g's own, still shared */
    expect_enrolled(g, 0, 50, 10);
    ck_assert_msg(fs_gallery_compact(g, &d) == FS_OK, "%s", d.msg);
    ck_assert(data_inode() != ino);
    ck_assert(lock_held(F_WRLCK) && !lock_held(F_RDLCK));

    ck_assert_int_eq(fs_gallery_lock_exclusive(g, &d), FS_OK);
    ck_assert(lock_held(F_RDLCK));
    ck_assert_int_eq(fs_gallery_compact(g, &d), FS_OK);
    ck_assert(lock_held(F_RDLCK));             /* the caller's, kept */
    fs_gallery_lock_shared(g);
    ck_assert(!lock_held(F_RDLCK));
    expect_enrolled(g, 0, 50, 10);
    fs_gallery_close(g);
    ck_assert(!lock_held(F_WRLCK));
    struct stat st;
    ck_assert_int_eq(stat(tu_path(gdir(), "gallery.lock"), &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
}
END_TEST

/* A handle that needs the gallery alone outlasts one that closes within
 * its wait: a search in flight when a key rotation starts ends, and the
 * rotation goes on rather than being refused (the last CI run's sanitized
 * searches outlasted the old fixed 2 s). */
START_TEST(test_gallery_alone_outlasts_a_handle_that_closes)
{
    fs_gallery_close(open_made(gdir(), 0));
    int ready[2];
    ck_assert_int_eq(pipe(ready), 0);
    pid_t kid = fork();
    ck_assert_int_ge(kid, 0);
    if (kid == 0) {                  /* a search: open, read, close */
        fs_gallery_options ro = { .readonly = 1 };
        fs_gallery *other;
        fs_detail kd;
        int rc = fs_gallery_open(gdir(), &ro, &other, &kd);
        if (write(ready[1], "x", 1) != 1 || rc != FS_OK)
            _exit(1);
        struct timespec ts = { 0, 600 * 1000000L };
        nanosleep(&ts, NULL);
        fs_gallery_close(other);
        _exit(0);
    }
    char c;
    ck_assert_int_eq(read(ready[0], &c, 1), 1);
    close(ready[0]);
    close(ready[1]);
    fs_gallery_options patient = { .alone_wait_ms = 30000 };
    fs_gallery *g;
    fs_detail d = { "" };
    ck_assert_int_eq(fs_gallery_open(gdir(), &patient, &g, &d), FS_OK);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_msg(fs_gallery_lock_exclusive(g, &d) == FS_OK, "%s", d.msg);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    int st;
    ck_assert_int_eq(waitpid(kid, &st, 0), kid);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    /* it did wait for the other handle, which was open when it began */
    ck_assert_int_ge((t1.tv_sec - t0.tv_sec) * 1000 +
                     (t1.tv_nsec - t0.tv_nsec) / 1000000, 300);
    ck_assert_int_eq(fs_gallery_compact(g, &d), FS_OK);
    fs_gallery_lock_shared(g);
    fs_gallery_close(g);
}
END_TEST

/* The race three concurrent key rotations ran into (G21): a handle waits
 * for the gallery alone while another takes it first and seals it under
 * a new key.  The file may even keep its inode (here no compaction
 * follows; with two, the freed inode can come back), so the waiter learns
 * it from its key: told to open again, never handed a gallery its key no
 * longer opens, where it would re-seal records it cannot read. */
/* Another handle takes the gallery alone first (this one waits for it
 * meanwhile), and seals it under key 2 (rekey) or only adds rows; returns
 * what this handle's wait ended in. */
static int wait_behind(fs_gallery *g, int rekey, fs_detail *d)
{
    pid_t kid = fork();
    ck_assert_int_ge(kid, 0);
    if (kid == 0) {                  /* first to the turnstile, then waits */
        uint8_t k2[FS_KEY_BYTES];
        fs_gallery *other;
        fs_gallery_batch *b;
        test_key(k2, 2);
        int rc = open_gallery(gdir(), NULL, &other, d);
        if (rc == FS_OK)
            rc = fs_gallery_lock_exclusive(other, d);
        if (rc == FS_OK && (rc = fs_gallery_begin(other, &b, d)) == FS_OK) {
            rc = rekey ? fs_gallery_rekey(b, k2, d)
                       : fs_record_put(b, 3, "mine", 4, "x", 1, 0, d);
            rc = rc == FS_OK ? fs_gallery_commit(b, d) : rc;
        }
        fs_gallery_lock_shared(other);
        fs_gallery_close(other);
        _exit(rc == FS_OK ? 0 : 1);
    }
    struct timespec ts = { 0, 300 * 1000000L };
    nanosleep(&ts, NULL);
    int rc = fs_gallery_lock_exclusive(g, d);
    int st;
    ck_assert_int_eq(waitpid(kid, &st, 0), kid);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the change "
                  "before it failed");
    return rc;
}

START_TEST(test_G21_waiter_told_the_keys_changed_meanwhile)
{
    fs_gallery *g = open_made(gdir(), 1);
    enrol_range(g, 0, 20, 4);
    fs_detail d = { "" };
    /* a commit changes the file, not which file it is: no start over */
    int rc = wait_behind(g, 0, &d);
    ck_assert_msg(rc == FS_OK, "rc %d: %s", rc, d.msg);
    fs_gallery_lock_shared(g);
    rc = wait_behind(g, 1, &d);
    ck_assert_msg(rc == FS_EBUSY, "rc %d: %s", rc, d.msg);
    ck_assert_ptr_nonnull(strstr(d.msg, "new key"));
    fs_gallery_close(g);
    uint8_t k2[FS_KEY_BYTES];
    test_key(k2, 2);
    ck_assert_int_eq(fs_gallery_open(gdir(), NULL, &g, &d), FS_OK);
    ck_assert_msg(fs_gallery_unlock(g, k2, &d) == FS_OK, "%s", d.msg);
    ck_assert_msg(fs_gallery_verify(g, &d) == FS_OK, "%s", d.msg);
    fs_gallery_close(g);
}
END_TEST

/* The service's parent refreshes its warm matrix between clients and
 * must not wait on a gallery held alone (a rotation, a removal): a
 * nowait open is FS_EBUSY at once, and opens as usual once it is shared
 * again. */
START_TEST(test_gallery_nowait_open_while_held_alone)
{
    fs_gallery *g = open_made(gdir(), 0), *other = NULL;
    fs_detail d = { "" };
    ck_assert_int_eq(fs_gallery_lock_exclusive(g, &d), FS_OK);
    fs_gallery_options o = { .nowait = 1 };
    ck_assert_int_eq(fs_gallery_open(gdir(), &o, &other, &d), FS_EBUSY);
    ck_assert_ptr_nonnull(strstr(d.msg, "held alone"));
    fs_gallery_lock_shared(g);
    fs_gallery_close(g);
    ck_assert_msg(fs_gallery_open(gdir(), &o, &other, &d) == FS_OK, "%s",
                  d.msg);
    fs_gallery_close(other);
}
END_TEST

/* A warm matrix outlives the handles that read it: the next handle given
 * the holder ranks on the same rows without reading them again, and
 * reads them afresh once another handle put rows (as the service's
 * children find what an enrolment added). */
START_TEST(test_gallery_warm_matrix_outlives_its_handle)
{
    fs_gallery *g = open_made(gdir(), 1);
    enrol_range(g, 0, 40, 8);
    fs_gallery_close(g);
    fs_gallery_warm *w;
    ck_assert_int_eq(fs_gallery_warm_new(&w), FS_OK);
    fs_gallery_options o = { .warm = w };
    fs_detail d = { "" };
    fs_templates t1, t2, t3;
    ck_assert_int_eq(open_gallery(gdir(), &o, &g, &d), FS_OK);
    ck_assert_msg(fs_gallery_load(g, &t1, &d) == FS_OK, "%s", d.msg);
    ck_assert_uint_eq(t1.n, 40);
    fs_gallery_close(g);
    float row[FS_DESC_DIM];                    /* still mapped: the holder's */
    memcpy(row, t1.vec + 39 * FS_DESC_DIM, sizeof row);
    ck_assert_int_eq(open_gallery(gdir(), &o, &g, &d), FS_OK);
    ck_assert_int_eq(fs_gallery_load(g, &t2, &d), FS_OK);
    ck_assert_ptr_eq(t2.vec, t1.vec);          /* not read again */
    ck_assert_uint_eq(t2.n, 40);
    ck_assert_int_eq(memcmp(row, t2.vec + 39 * FS_DESC_DIM, sizeof row), 0);
    fs_gallery_close(g);
    g = open_made(gdir(), 1);                  /* another handle puts */
    enrol_range(g, 40, 50, 8);
    fs_gallery_close(g);
    ck_assert_int_eq(open_gallery(gdir(), &o, &g, &d), FS_OK);
    ck_assert_int_eq(fs_gallery_load(g, &t3, &d), FS_OK);
    ck_assert_uint_eq(t3.n, 50);
    fs_gallery_close(g);
    fs_gallery_warm_free(w);
}
END_TEST

/* The warm matrix and a fresh read of the store agree, row for row. */
static void same_as_fresh(const fs_templates *t)
{
    fs_gallery *g;
    fs_detail d = { "" };
    fs_templates f;
    ck_assert_int_eq(open_gallery(gdir(), NULL, &g, &d), FS_OK);
    ck_assert_msg(fs_gallery_load(g, &f, &d) == FS_OK, "%s", d.msg);
    ck_assert_uint_eq(t->n, f.n);
    ck_assert_int_eq(memcmp(t->vec, f.vec, f.n * FS_DESC_DIM * sizeof(float)),
                     0);
    ck_assert_int_eq(memcmp(t->subject, f.subject, f.n * sizeof(uint32_t)),
                     0);
    fs_gallery_close(g);
}

/* What another handle puts is added to a warm matrix, not read whole
 * again (at 10M rows the service's parent would stall for the whole read
 * after every enrolment); a removal, which moves rows, reads it whole.
 * A mark left in row 0 (block 0) tells which: only a whole read undoes
 * it. */
START_TEST(test_gallery_warm_matrix_grows_by_what_was_put)
{
    fs_gallery *g = open_made(gdir(), 1);
    enrol_range(g, 0, 1100, 50);              /* blocks 0 and 1 */
    fs_gallery_close(g);
    fs_gallery_warm *w;
    ck_assert_int_eq(fs_gallery_warm_new(&w), FS_OK);
    fs_gallery_options o = { .warm = w };
    fs_detail d = { "" };
    fs_templates t;
    ck_assert_int_eq(open_gallery(gdir(), &o, &g, &d), FS_OK);
    ck_assert_msg(fs_gallery_load(g, &t, &d) == FS_OK, "%s", d.msg);
    fs_gallery_close(g);
    float *row0 = (float *)t.vec, keep = row0[0];
    row0[0] = 7.0f;
    g = open_made(gdir(), 1);
    enrol_range(g, 1100, 2200, 60);           /* into block 2, new subjects */
    fs_gallery_close(g);
    ck_assert_int_eq(open_gallery(gdir(), &o, &g, &d), FS_OK);
    ck_assert_msg(fs_gallery_load(g, &t, &d) == FS_OK, "%s", d.msg);
    fs_gallery_close(g);
    ck_assert_uint_eq(t.n, 2200);
    ck_assert(t.vec[0] == 7.0f);              /* block 0 was not read again */
    ((float *)t.vec)[0] = keep;
    same_as_fresh(&t);
    ((float *)t.vec)[0] = 7.0f;
    g = open_made(gdir(), 1);                 /* a removal moves rows */
    ck_assert_msg(remove_subject(g, "s3", &d) == FS_OK, "%s", d.msg);
    enrol_range(g, 2200, 2210, 60);
    fs_gallery_close(g);
    ck_assert_int_eq(open_gallery(gdir(), &o, &g, &d), FS_OK);
    ck_assert_msg(fs_gallery_load(g, &t, &d) == FS_OK, "%s", d.msg);
    fs_gallery_close(g);
    ck_assert(t.vec[0] != 7.0f);              /* read whole */
    same_as_fresh(&t);
    fs_gallery_warm_free(w);
}
END_TEST

/* The ranker kept with the matrix (fs_gallery_ranker): handed back while
 * the rows and the options stay, made again when either changes.  In a
 * warm holder it builds the bounded pass at once on a large gallery, so
 * that the service's children inherit it made, and ranks as a fresh float
 * scan does, bit for bit; a handle's own, made for one search, does not. */
START_TEST(test_gallery_ranker_kept_with_its_matrix)
{
    const int n = FS_RANK_BOUNDED_MIN;
    fs_gallery *g = open_made(gdir(), 0);
    enrol_range(g, 0, n, n / 4);
    fs_detail d = { "" };
    fs_rank_options ro = { .mode = FS_RANK_EXACT, .isa = -1 };
    fs_ranker *own, *again;
    fs_rank_info in;
    ck_assert_msg(fs_gallery_ranker(g, &ro, &own, &d) == FS_OK, "%s", d.msg);
    fs_ranker_info(own, 50, &in);
    ck_assert_uint_eq(in.copy_bytes, 0);
    ck_assert_int_eq(fs_gallery_ranker(g, &ro, &again, &d), FS_OK);
    ck_assert_ptr_eq(again, own);
    fs_gallery_close(g);

    fs_gallery_warm *w;
    ck_assert_int_eq(fs_gallery_warm_new(&w), FS_OK);
    fs_gallery_options o = { .warm = w };
    ck_assert_int_eq(open_gallery(gdir(), &o, &g, &d), FS_OK);
    fs_ranker *warm;
    ck_assert_int_eq(fs_gallery_ranker(g, &ro, &warm, &d), FS_OK);
    fs_ranker_info(warm, 50, &in);
    ck_assert_int_eq(in.bounded, 1);
    ck_assert_uint_gt(in.copy_bytes, 0);
    fs_templates t;
    ck_assert_int_eq(fs_gallery_load(g, &t, &d), FS_OK);
    fs_rank_options fo = { .mode = FS_RANK_EXACT, .isa = -1,
                           .exact = FS_EXACT_SCAN };
    fs_ranker *scan;
    ck_assert_int_eq(fs_ranker_create(&t, &fo, &scan, &d), FS_OK);
    for (int p = 0; p < 3; p++) {
        const float *probe = t.vec + (size_t)(p * 9973 % n) * FS_DESC_DIM;
        fs_hit a[50], b[50];
        size_t na, nb;
        ck_assert_int_eq(fs_rank_topk(warm, probe, 1, 50, a, &na), FS_OK);
        ck_assert_int_eq(fs_rank_topk(scan, probe, 1, 50, b, &nb), FS_OK);
        ck_assert_uint_eq(na, nb);
        for (size_t i = 0; i < na; i++)
            ck_assert_msg(a[i].subject == b[i].subject &&
                          a[i].row == b[i].row &&
                          memcmp(&a[i].score, &b[i].score, sizeof a[i].score)
                              == 0, "probe %d, place %zu", p, i);
    }
    fs_ranker_free(scan);
    fs_gallery_close(g);

    /* a later open: the same one */
    ck_assert_int_eq(open_gallery(gdir(), &o, &g, &d), FS_OK);
    ck_assert_int_eq(fs_gallery_ranker(g, &ro, &again, &d), FS_OK);
    ck_assert_ptr_eq(again, warm);
    /* other options: another */
    fs_rank_options co = ro;
    co.mode = FS_RANK_COMPRESSED;
    ck_assert_int_eq(fs_gallery_ranker(g, &co, &again, &d), FS_OK);
    fs_ranker_info(again, 50, &in);
    ck_assert_int_eq(in.mode, FS_RANK_COMPRESSED);
    fs_gallery_close(g);
    /* rows another handle put: a ranker over them */
    g = open_made(gdir(), 0);
    enrol_range(g, n, n + 1, n + 1);
    fs_gallery_close(g);
    ck_assert_int_eq(open_gallery(gdir(), &o, &g, &d), FS_OK);
    ck_assert_int_eq(fs_gallery_ranker(g, &ro, &again, &d), FS_OK);
    ck_assert_int_eq(fs_gallery_load(g, &t, &d), FS_OK);
    ck_assert_uint_eq(t.n, (size_t)n + 1);
    long row = find_row(&t, n);
    ck_assert_int_ge(row, 0);
    fs_hit top;
    size_t nt;
    ck_assert_int_eq(fs_rank_topk(again, t.vec + (size_t)row * FS_DESC_DIM,
                                  1, 1, &top, &nt), FS_OK);
    ck_assert_uint_eq(nt, 1);
    ck_assert_uint_eq(top.row, (uint32_t)row);
    fs_gallery_close(g);
    fs_gallery_warm_free(w);
}
END_TEST

static int leftovers(void)
{
    int n = 0;
    DIR *dir = opendir(gdir());
    ck_assert_ptr_nonnull(dir);
    struct dirent *e;
    while ((e = readdir(dir)) != NULL)
        n += strncmp(e->d_name, "data.mdb.compact-", 17) == 0;
    closedir(dir);
    return n;
}

/* Compactions killed at random moments, over and over, and a leftover
 * planted: the gallery opens and verifies every time, and the next
 * compaction removes what was left. */
START_TEST(test_gallery_compaction_survives_sigkill)
{
    fs_gallery *g = open_made(gdir(), 1);
    enrol_range(g, 0, 3000, 700);
    fs_gallery_close(g);
    int killed_with_leftover = 0;
    for (int trial = 0; trial < 4; trial++) {
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            fs_gallery *cg;
            if (open_gallery(gdir(), NULL, &cg, NULL) != FS_OK)
                _exit(2);
            for (;;)
                if (fs_gallery_compact(cg, NULL) != FS_OK)
                    _exit(3);
        }
        usleep(30000 + 17000 * trial);
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        ck_assert(WIFSIGNALED(status));
        killed_with_leftover += leftovers() > 1;
        fs_detail d = { "" };
        ck_assert_int_eq(open_gallery(gdir(), NULL, &g, &d), FS_OK);
        ck_assert_msg(fs_gallery_verify(g, &d) == FS_OK, "trial %d: %s",
                      trial, d.msg);
        fs_gallery_close(g);
    }
    /* whether a kill left one depends on timing: one is planted too */
    ck_assert_int_eq(tu_write(tu_path(gdir(), "data.mdb.compact-dead01"),
                              "junk", 4), 0);
    ck_assert_int_ge(leftovers(), 1);
    fs_detail d = { "" };
    ck_assert_int_eq(open_gallery(gdir(), NULL, &g, &d), FS_OK);
    ck_assert_int_eq(fs_gallery_compact(g, &d), FS_OK);
    ck_assert_int_eq(leftovers(), 0);
    expect_enrolled(g, 0, 3000, 700);
    fs_gallery_close(g);
    (void)killed_with_leftover;
}
END_TEST

/* ---- the template recipe and second templates (schema 4) ------------------ */

#define SECOND_ID  "hse_faceres_test"
#define SECOND_SHA "03b5502f95c9736a0000111122223333444455556666777788889999aaaabbbb"

/* A new gallery made with recipe r. */
static fs_gallery *open_recipe(int sealed, const fs_recipe *r)
{
    fs_gallery_options o = { .create = 1, .model_id = MODEL_ID,
                             .model_sha256 = MODEL_SHA, .sealed = sealed,
                             .recipe = r };
    fs_gallery *g = NULL;
    fs_detail d = { "" };
    ck_assert_msg(open_gallery(gdir(), &o, &g, &d) == FS_OK, "open: %s",
                  d.msg);
    return g;
}

/* Image number i's second template: a deterministic unit vector. */
static void fake_second(int i, float v[FS_DESC2_DIM])
{
    uint32_t x = 40503u * (uint32_t)(i + 7);
    double ss = 0;
    for (int j = 0; j < FS_DESC2_DIM; j++) {
        x = x * 1664525u + 1013904223u;
        v[j] = (float)((double)(x >> 8) / (1 << 24));
        ss += (double)v[j] * v[j];
    }
    for (int j = 0; j < FS_DESC2_DIM; j++)
        v[j] = (float)(v[j] / sqrt(ss));
}

/* Images [from, to) with their second templates, as put_range. */
static void enrol_second(fs_gallery *g, int from, int to, int nsub)
{
    fs_gallery_batch *b;
    fs_detail d = { "" };
    ck_assert_int_eq(fs_gallery_begin(g, &b, &d), FS_OK);
    for (int i = from; i < to; i++) {
        char subject[32];
        uint8_t bytes[64];
        float v[FS_DESC2_DIM];
        fs_mugshot m;
        snprintf(subject, sizeof subject, "s%d", i % nsub);
        fake_mugshot(i, subject, &m, bytes, sizeof bytes);
        fake_second(i, v);
        m.tmpl2 = v;
        ck_assert_msg(fs_gallery_put(b, &m, NULL, &d) == FS_OK, "put %d: %s",
                      i, d.msg);
    }
    ck_assert_msg(fs_gallery_commit(b, &d) == FS_OK, "commit: %s", d.msg);
}

/* Every row's second template is its image's, as half floats keep it. */
static void expect_seconds(fs_gallery *g, int from, int to)
{
    fs_templates t;
    fs_detail d = { "" };
    ck_assert_int_eq(fs_gallery_load(g, &t, &d), FS_OK);
    for (int i = from; i < to; i++) {
        long row = find_row(&t, i);
        if (row < 0)
            continue;                   /* removed */
        float want[FS_DESC2_DIM], got[FS_DESC2_DIM];
        uint32_t r = (uint32_t)row;
        fake_second(i, want);
        ck_assert_msg(fs_gallery_seconds(g, &r, 1, got, &d) == FS_OK,
                      "row %u: %s", r, d.msg);
        for (int j = 0; j < FS_DESC2_DIM; j++) {
            ck_assert_float_eq(got[j], (float)(_Float16)want[j]);
            ck_assert_float_eq_tol(got[j], want[j], 1e-3);
        }
    }
}

START_TEST(test_gallery_recipe_recorded)
{
    fs_recipe r = { 1, SECOND_ID, SECOND_SHA, 0 }, got;
    fs_gallery *g = open_recipe(1, &r);
    fs_gallery_stats st;
    fs_detail d = { "" };
    ck_assert_int_eq(fs_gallery_stat(g, &st, &d), FS_OK);
    ck_assert_int_eq(st.schema, 5);
    ck_assert_int_eq(st.recipe.mirror, 1);
    ck_assert_int_eq(st.recipe.subject_mean, 0);
    ck_assert_str_eq(st.recipe.second_model_id, SECOND_ID);
    ck_assert_str_eq(st.recipe.second_model_sha256, SECOND_SHA);
    ck_assert_int_eq(fs_gallery_recipe(g, &got, &d), FS_OK);
    ck_assert_int_eq(memcmp(&got, &st.recipe, sizeof got), 0);
    fs_gallery_close(g);
    /* as stored: "mirror" reads 1, and an edit to 0 under its MAC is
     * refused naming it */
    size_t len;
    uint8_t *orig = raw_get(gdir(), "meta", "mirror", 6, &len);
    ck_assert_int_eq(orig[0], '1');
    orig[0] = '0';
    raw_put(gdir(), "meta", "mirror", 6, orig, len);
    expect_meta_refused("mirror", "turned off");
    free(orig);

    /* the default, and a second model without its sha256 refused */
    tu_rmtree(gdir());
    g = open_recipe(0, NULL);
    ck_assert_int_eq(fs_gallery_recipe(g, &got, &d), FS_OK);
    ck_assert_int_eq(got.mirror, 0);
    ck_assert_str_eq(got.second_model_id, "");
    fs_gallery_close(g);
    tu_rmtree(gdir());
    fs_recipe bad = { 0, SECOND_ID, "", 0 };
    fs_gallery_options o = { .create = 1, .model_id = MODEL_ID,
                             .model_sha256 = MODEL_SHA, .recipe = &bad };
    ck_assert_int_eq(fs_gallery_open(gdir(), &o, &g, &d), FS_EINVAL);
}
END_TEST

/* A meta value with the MAC a sealed gallery under key 1 gives it. */
static void poke_meta_maced(const char *name, const char *text)
{
    static const char label[] = "facesearch gallery meta mac v1";
    uint8_t key[FS_KEY_BYTES], mk[FS_KEY_BYTES], val[128];
    test_key(key, 1);
    const void *lp[1] = { label };
    size_t ll[1] = { sizeof label - 1 };
    fs_hmac_sha256(key, lp, ll, 1, mk);
    size_t n = strlen(text);
    const void *part[4] = { "meta", name, "", text };
    size_t plen[4] = { 5, strlen(name), 1, n };
    memcpy(val, text, n);
    val[n] = 0;
    fs_hmac_sha256(mk, part, plen, 4, val + n + 1);
    raw_put(gdir(), "meta", name, strlen(name), val, n + 1 + FS_SHA256_BYTES);
}

/* A sealed gallery of schema 3, made as that build made it (no recipe
 * records, no "second" database): it opens, read-only too, ranks as it
 * did, verifies, and takes new images, as the plain recipe. */
START_TEST(test_gallery_schema3_opens_as_before)
{
    fs_gallery *g = open_made(gdir(), 1);
    enrol_range(g, 0, 20, 7);
    fs_detail d = { "" };
    fs_mugshot q;
    uint8_t none[1];
    fake_mugshot(3, "q", &q, none, 0);
    fs_hit before[5], after[5];
    size_t nb = 0, na = 0;
    fs_templates t;
    fs_ranker *rk = NULL;
    fs_rank_options ro = { .mode = FS_RANK_EXACT, .isa = -1 };
    ck_assert_int_eq(fs_gallery_load(g, &t, &d), FS_OK);
    ck_assert_int_eq(fs_ranker_create(&t, &ro, &rk, &d), FS_OK);
    ck_assert_int_eq(fs_rank_topk(rk, q.tmpl, 1, 5, before, &nb), FS_OK);
    fs_ranker_free(rk);
    fs_gallery_close(g);

    poke_meta_maced("schema", "3");
    static const char *const recipe[] = { "mirror", "second_model_id",
                                          "second_model_sha256",
                                          "subject_template" };
    for (int i = 0; i < 4; i++)
        raw_put(gdir(), "meta", recipe[i], strlen(recipe[i]), NULL, 0);
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    ck_assert_int_eq(mdb_env_create(&env), 0);
    mdb_env_set_maxdbs(env, 32);
    ck_assert_int_eq(mdb_env_open(env, gdir(), 0, 0600), 0);
    ck_assert_int_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
    ck_assert_int_eq(mdb_dbi_open(txn, "second", 0, &dbi), 0);
    ck_assert_int_eq(mdb_drop(txn, dbi, 1), 0);
    ck_assert_int_eq(mdb_txn_commit(txn), 0);
    mdb_env_close(env);

    for (int ro_open = 1; ro_open >= 0; ro_open--) {
        fs_gallery_options o = { .readonly = ro_open };
        ck_assert_msg(open_gallery(gdir(), &o, &g, &d) == FS_OK, "%s open: "
                      "%s", ro_open ? "read-only" : "writable", d.msg);
        fs_gallery_stats st;
        ck_assert_int_eq(fs_gallery_stat(g, &st, &d), FS_OK);
        ck_assert_int_eq(st.schema, 3);
        ck_assert_int_eq(st.recipe.mirror, 0);
        ck_assert_str_eq(st.recipe.second_model_id, "");
        ck_assert_int_eq(fs_gallery_load(g, &t, &d), FS_OK);
        ck_assert_int_eq(fs_ranker_create(&t, &ro, &rk, &d), FS_OK);
        ck_assert_int_eq(fs_rank_topk(rk, q.tmpl, 1, 5, after, &na), FS_OK);
        fs_ranker_free(rk);
        ck_assert_uint_eq(na, nb);
        ck_assert_int_eq(memcmp(before, after, nb * sizeof *after), 0);
        ck_assert_msg(fs_gallery_verify(g, &d) == FS_OK, "verify: %s",
                      d.msg);
        fs_gallery_close(g);
    }
    ck_assert_int_eq(open_gallery(gdir(), NULL, &g, &d), FS_OK);
    enrol_range(g, 20, 22, 7);
    expect_enrolled(g, 0, 22, 7);
    fs_gallery_close(g);
    /* a recipe record planted in it is not one its schema has */
    poke_meta_maced("mirror", "1");
    expect_meta_refused("mirror", "planted in schema 3");
}
END_TEST

/* Second templates: required exactly when the recipe names a second
 * model, kept per image as half floats through removals that move rows,
 * removed with their image, and refused (FS_ETAMPER) when edited or
 * missing, by a search's read and by verify. */
/* The recipe's subject template (schema 5): a gallery made with the
 * mean ranks each subject by the mean of its rows, its hits naming the
 * subject's row nearest the probe, and stays so after more images; the
 * record edited under its MAC is refused; a schema 4 gallery (no record)
 * opens as best-of, as it was made. */
START_TEST(test_gallery_mean_recipe)
{
    fs_recipe r = { 0, "", "", 1 }, got;
    fs_gallery *g = open_recipe(1, &r);
    fs_detail d = { "" };
    ck_assert_int_eq(fs_gallery_recipe(g, &got, &d), FS_OK);
    ck_assert_int_eq(got.subject_mean, 1);
    for (int round = 0; round < 2; round++) {
        enrol_range(g, round * 30, round * 30 + 30, 9);
        fs_mugshot q;
        uint8_t none[1];
        fake_mugshot(4, "q", &q, none, 0);
        fs_rank_options ro = { .mode = FS_RANK_EXACT, .isa = -1 };
        fs_ranker *rk = NULL;
        fs_hit h[5], want[5];
        size_t nh = 0, nw = 0;
        ck_assert_msg(fs_gallery_ranker(g, &ro, &rk, &d) == FS_OK, "%s",
                      d.msg);
        ck_assert_int_eq(fs_rank_topk(rk, q.tmpl, 1, 5, h, &nh), FS_OK);
        fs_gallery_hit_rows(g, q.tmpl, h, nh);
        /* the same from the library's means over the matrix */
        fs_templates t;
        fs_subject_means m;
        fs_ranker *mr = NULL;
        ck_assert_int_eq(fs_gallery_load(g, &t, &d), FS_OK);
        ck_assert_int_eq(fs_subject_means_make(&t, &m, &d), FS_OK);
        ck_assert_uint_eq(m.t.n, 9);
        ck_assert_int_eq(fs_ranker_create(&m.t, &ro, &mr, &d), FS_OK);
        ck_assert_int_eq(fs_rank_topk(mr, q.tmpl, 1, 5, want, &nw), FS_OK);
        fs_subject_means_best_rows(&m, &t, q.tmpl, want, nw);
        ck_assert_uint_eq(nh, nw);
        for (size_t i = 0; i < nh; i++) {
            ck_assert(h[i].subject == want[i].subject &&
                      h[i].row == want[i].row && h[i].score == want[i].score);
            ck_assert_uint_eq(t.subject[h[i].row], h[i].subject);
        }
        /* image 4's subject has 6 or 7 rows: its mean is not image 4 */
        ck_assert_float_lt(h[0].score, 0.999f);
        fs_ranker_free(mr);
        fs_subject_means_free(&m);
    }
    fs_gallery_close(g);
    size_t len;
    uint8_t *orig = raw_get(gdir(), "meta", "subject_template", 16, &len);
    ck_assert_int_eq(memcmp(orig, "mean", 4), 0);
    memcpy(orig, "best", 4);
    raw_put(gdir(), "meta", "subject_template", 16, orig, len);
    expect_meta_refused("subject_template", "turned to best-of");
    free(orig);

    /* schema 4: no record, best-of */
    tu_rmtree(gdir());
    g = open_recipe(1, &r);
    fs_gallery_close(g);
    poke_meta_maced("schema", "4");
    raw_put(gdir(), "meta", "subject_template", 16, NULL, 0);
    ck_assert_int_eq(open_unlock(&g, &d), FS_OK);
    fs_gallery_stats st;
    ck_assert_int_eq(fs_gallery_stat(g, &st, &d), FS_OK);
    ck_assert_int_eq(st.schema, 4);
    ck_assert_int_eq(st.recipe.subject_mean, 0);
    fs_gallery_close(g);

    /* a plain gallery (no MACs) whose record is neither word, or gone:
     * damaged, named, whether opened or asked for its recipe */
    static const char *const bad[] = { "median", "", NULL };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        tu_rmtree(gdir());
        fs_gallery_close(open_recipe(0, &r));
        if (bad[i])
            poke_meta(gdir(), "subject_template", bad[i]);
        else
            raw_put(gdir(), "meta", "subject_template", 16, NULL, 0);
        int rc = fs_gallery_open(gdir(), NULL, &g, &d);
        if (rc == FS_OK) {
            rc = fs_gallery_recipe(g, &got, &d);
            fs_gallery_close(g);
        }
        ck_assert_msg(rc == FS_EFORMAT && strstr(d.msg, "damaged") &&
                      strstr(d.msg, bad[i] ? "subject template" : "missing"),
                      "%s: %d %s", bad[i] ? bad[i] : "(gone)", rc, d.msg);
        if (bad[i])
            ck_assert_ptr_nonnull(strstr(d.msg, bad[i]));
    }
}
END_TEST

START_TEST(test_gallery_second_templates)
{
    fs_recipe r = { 0, SECOND_ID, SECOND_SHA, 0 };
    fs_gallery *g = open_recipe(sealed_mode, &r);
    fs_detail d = { "" };
    fs_gallery_batch *b;
    fs_mugshot m;
    uint8_t bytes[8];
    fake_mugshot(100, "s9", &m, bytes, sizeof bytes);
    ck_assert_int_eq(fs_gallery_begin(g, &b, &d), FS_OK);
    ck_assert_int_eq(fs_gallery_put(b, &m, NULL, &d), FS_EINVAL);
    ck_assert_ptr_nonnull(strstr(d.msg, "second template"));
    fs_gallery_abort(b);

    enrol_second(g, 0, 6, 3);
    expect_seconds(g, 0, 6);
    ck_assert_int_eq(remove_subject(g, "s0", &d), FS_OK);  /* 0 and 3 */
    expect_seconds(g, 0, 6);
    ck_assert_msg(fs_gallery_verify(g, &d) == FS_OK, "verify: %s", d.msg);
    fs_gallery_close(g);

    /* image 2 (id 3) is row 1's; its record edited, then removed */
    uint8_t key[8] = { 0, 0, 0, 0, 0, 0, 0, 3 };
    size_t len;
    uint8_t *orig = raw_get(gdir(), "second", key, 8, &len);
    uint8_t *bad = malloc(len);
    memcpy(bad, orig, len);
    bad[len / 2] ^= 0x40;
    for (int c = 0; c < 2; c++) {
        raw_put(gdir(), "second", key, 8, c ? NULL : bad, len);
        ck_assert_int_eq(open_gallery(gdir(), NULL, &g, &d), FS_OK);
        fs_templates t;
        ck_assert_int_eq(fs_gallery_load(g, &t, &d), FS_OK);
        uint32_t row = (uint32_t)find_row(&t, 2);
        float got[FS_DESC2_DIM];
        int rc = fs_gallery_seconds(g, &row, 1, got, &d);
        if (c == 0 && !sealed_mode)
            ck_assert_int_eq(rc, FS_OK);   /* plain: nothing to check */
        else
            ck_assert_msg(rc == FS_ETAMPER && strstr(d.msg, "image 3's "
                          "second template"), "%d %s", rc, d.msg);
        rc = fs_gallery_verify(g, &d);
        if (c == 1 || sealed_mode)
            ck_assert_msg(rc == FS_ETAMPER, "verify: %d %s", rc, d.msg);
        fs_gallery_close(g);
    }
    raw_put(gdir(), "second", key, 8, orig, len);
    ck_assert_int_eq(open_gallery(gdir(), NULL, &g, &d), FS_OK);
    ck_assert_msg(fs_gallery_verify(g, &d) == FS_OK, "verify: %s", d.msg);
    if (sealed_mode) {               /* a new key re-seals them too */
        uint8_t k2[FS_KEY_BYTES];
        test_key(k2, 2);
        ck_assert_int_eq(fs_gallery_begin(g, &b, &d), FS_OK);
        ck_assert_msg(fs_gallery_rekey(b, k2, &d) == FS_OK, "%s", d.msg);
        ck_assert_int_eq(fs_gallery_commit(b, &d), FS_OK);
        fs_gallery_close(g);
        ck_assert_int_eq(fs_gallery_open(gdir(), NULL, &g, &d), FS_OK);
        ck_assert_int_eq(fs_gallery_unlock(g, k2, &d), FS_OK);
        expect_seconds(g, 0, 6);
        ck_assert_msg(fs_gallery_verify(g, &d) == FS_OK, "verify: %s",
                      d.msg);
    }
    fs_gallery_close(g);
    free(orig);
    free(bad);

    /* a gallery without a second model takes none and gives none */
    tu_rmtree(gdir());
    g = open_new(gdir());
    float v[FS_DESC2_DIM];
    fake_second(1, v);
    m.tmpl2 = v;
    ck_assert_int_eq(fs_gallery_begin(g, &b, &d), FS_OK);
    ck_assert_int_eq(fs_gallery_put(b, &m, NULL, &d), FS_EINVAL);
    m.tmpl2 = NULL;
    ck_assert_int_eq(fs_gallery_put(b, &m, NULL, &d), FS_OK);
    ck_assert_int_eq(fs_gallery_commit(b, &d), FS_OK);
    fs_templates t;
    ck_assert_int_eq(fs_gallery_load(g, &t, &d), FS_OK);
    uint32_t row = 0;
    ck_assert_int_eq(fs_gallery_seconds(g, &row, 1, v, &d), FS_EINVAL);
    fs_gallery_close(g);
}
END_TEST

Suite *suite_gallery(void)
{
    Suite *s = suite_create("gallery");
    TCase *tc = tcase_create("store");
    tcase_add_checked_fixture(tc, plain_setup, tu_tmp_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_gallery_roundtrip);
    tcase_add_test(tc, test_gallery_put_idempotent_by_sha);
    tcase_add_test(tc, test_gallery_abort_leaves_nothing);
    tcase_add_test(tc, test_gallery_refuses_bad_records);
    tcase_add_test(tc, test_gallery_rank_mode);
    tcase_add_test(tc, test_gallery_records);
    tcase_add_test(tc, test_gallery_matrix_follows_the_rows);
    tcase_add_test(tc, test_gallery_load_keeps_one_copy);
    tcase_add_test(tc, test_G20_remove_leaves_no_trace);
    tcase_add_test(tc, test_gallery_refuses_other_model);
    tcase_add_test(tc, test_gallery_refuses_other_schema_and_dim);
    tcase_add_test(tc, test_gallery_refuses_damaged_or_missing);
    tcase_add_test(tc, test_gallery_refuses_damaged_block);
    tcase_add_test(tc, test_gallery_survives_sigkill);
    tcase_add_test(tc, test_G21_sealed_file_holds_no_image_or_template);
    tcase_add_test(tc, test_G21_wrong_or_missing_key_refused);
    tcase_add_test(tc, test_G21_first_key_check_commits_with_its_batch);
    tcase_add_test(tc, test_G21_tampered_ciphertext_refused);
    tcase_add_test(tc, test_G21_doctored_index_cannot_swap_faces);
    tcase_add_test(tc, test_G21_meta_edited_offline_refused);
    tcase_add_test(tc, test_G21_meta_edited_under_an_open_handle_refused);
    tcase_add_test(tc, test_gallery_unsealed_meta_has_no_macs);
    tcase_add_test(tc, test_G21_key_check_removed_refused);
    tcase_add_test(tc, test_G21_rekey_reseals_everything);
    tcase_add_test(tc, test_G20_compaction_drops_removed_subject);
    tcase_add_test(tc, test_G20_compaction_drops_removed_sealed_records);
    tcase_add_test(tc, test_gallery_compaction_waits_for_other_handles);
    tcase_add_test(tc, test_gallery_alone_outlasts_a_handle_that_closes);
    tcase_add_test(tc, test_gallery_compaction_survives_sigkill);
    tcase_add_test(tc, test_gallery_nowait_open_while_held_alone);
    tcase_add_test(tc, test_G21_waiter_told_the_keys_changed_meanwhile);
    tcase_add_test(tc, test_gallery_warm_matrix_outlives_its_handle);
    tcase_add_test(tc, test_gallery_warm_matrix_grows_by_what_was_put);
    tcase_add_test(tc, test_gallery_ranker_kept_with_its_matrix);
    tcase_add_test(tc, test_gallery_recipe_recorded);
    tcase_add_test(tc, test_gallery_mean_recipe);
    tcase_add_test(tc, test_gallery_schema3_opens_as_before);
    tcase_add_test(tc, test_gallery_second_templates);
    suite_add_tcase(s, tc);

    /* The store's own tests again, on sealed galleries (G21). */
    tc = tcase_create("sealed");
    tcase_add_checked_fixture(tc, sealed_setup, tu_tmp_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_gallery_roundtrip);
    tcase_add_test(tc, test_gallery_put_idempotent_by_sha);
    tcase_add_test(tc, test_gallery_abort_leaves_nothing);
    tcase_add_test(tc, test_gallery_refuses_bad_records);
    tcase_add_test(tc, test_gallery_second_templates);
    tcase_add_test(tc, test_G20_remove_leaves_no_trace);
    tcase_add_test(tc, test_gallery_survives_sigkill);
    suite_add_tcase(s, tc);
    return s;
}
