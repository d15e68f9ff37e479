/*
 * check_gallery.c - the LMDB gallery: writes and reads back, idempotent
 * enrolment by image sha256, removal without a trace (G20), refusal of
 * galleries from another model, schema or dimension, of damaged files,
 * and consistency after a writer is killed mid-batch.
 */
#include <check.h>
#include <fcntl.h>
#include <lmdb.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../index/fs_index.h"
#include "fs_testutil.h"

#define MODEL_ID  "dlib_resnet_v1"
#define MODEL_SHA "f54a6b36be16aaaa0000111122223333444455556666777788889999aaaabbbb"

static fs_gallery *open_new(const char *dir)
{
    fs_gallery_options o = { .create = 1, .model_id = MODEL_ID,
                             .model_sha256 = MODEL_SHA };
    fs_gallery *g = NULL;
    fs_detail d = { "" };
    int rc = fs_gallery_open(dir, &o, &g, &d);
    ck_assert_msg(rc == FS_OK, "open: %s", d.msg);
    return g;
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
}

/* Enrols images [from, to): image i belongs to subject "s<i % nsub>". */
static void enrol_range(fs_gallery *g, int from, int to, int nsub)
{
    fs_gallery_batch *b;
    fs_detail d = { "" };
    ck_assert_int_eq(fs_gallery_begin(g, &b, &d), FS_OK);
    for (int i = from; i < to; i++) {
        char subject[32];
        uint8_t bytes[64];
        fs_mugshot m;
        snprintf(subject, sizeof subject, "s%d", i % nsub);
        fake_mugshot(i, subject, &m, bytes, sizeof bytes);
        int rc = fs_gallery_put(b, &m, NULL, &d);
        ck_assert_msg(rc == FS_OK || rc == FS_EXISTS, "put %d: %s", i, d.msg);
    }
    ck_assert_msg(fs_gallery_commit(b, &d) == FS_OK, "commit: %s", d.msg);
}

/* The row holding image number i's template, found by its content. */
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
    ck_assert_int_eq(fs_gallery_open(gdir(), &o, &g, &d), FS_OK);
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

/* Rewrites one meta value behind the gallery's back. */
static void poke_meta(const char *dir, const char *key, const char *val)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    ck_assert_int_eq(mdb_env_create(&env), 0);
    mdb_env_set_maxdbs(env, 32);
    ck_assert_int_eq(mdb_env_open(env, dir, 0, 0600), 0);
    ck_assert_int_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
    ck_assert_int_eq(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
    MDB_val k = { strlen(key), (void *)key }, v = { strlen(val), (void *)val };
    ck_assert_int_eq(mdb_put(txn, dbi, &k, &v, 0), 0);
    ck_assert_int_eq(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
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
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    mdb_env_create(&env);
    mdb_env_set_maxdbs(env, 32);
    ck_assert_int_eq(mdb_env_open(env, gdir(), 0, 0600), 0);
    mdb_txn_begin(env, NULL, 0, &txn);
    ck_assert_int_eq(mdb_dbi_open(txn, "tblocks", 0, &dbi), 0);
    uint8_t key[4] = { 0 }, val[100] = { 'F', 'R', 1 };
    MDB_val k = { 4, key }, v = { sizeof val, val };
    ck_assert_int_eq(mdb_put(txn, dbi, &k, &v, 0), 0);
    ck_assert_int_eq(mdb_txn_commit(txn), 0);
    mdb_env_close(env);

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
            if (fs_gallery_open(gdir(), &o, &cg, NULL) != FS_OK)
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
        ck_assert_int_eq(fs_gallery_open(gdir(), NULL, &g, &d), FS_OK);
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

Suite *suite_gallery(void)
{
    Suite *s = suite_create("gallery");
    TCase *tc = tcase_create("store");
    tcase_add_checked_fixture(tc, tu_tmp_setup, tu_tmp_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_gallery_roundtrip);
    tcase_add_test(tc, test_gallery_put_idempotent_by_sha);
    tcase_add_test(tc, test_gallery_abort_leaves_nothing);
    tcase_add_test(tc, test_gallery_refuses_bad_records);
    tcase_add_test(tc, test_gallery_rank_mode);
    tcase_add_test(tc, test_gallery_records);
    tcase_add_test(tc, test_G20_remove_leaves_no_trace);
    tcase_add_test(tc, test_gallery_refuses_other_model);
    tcase_add_test(tc, test_gallery_refuses_other_schema_and_dim);
    tcase_add_test(tc, test_gallery_refuses_damaged_or_missing);
    tcase_add_test(tc, test_gallery_refuses_damaged_block);
    tcase_add_test(tc, test_gallery_survives_sigkill);
    suite_add_tcase(s, tc);
    return s;
}
