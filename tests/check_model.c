/*
 * check_model.c - the model file: the converted weights are exactly the
 * reference weights, and every kind of bad file is refused on load with
 * a clear detail, before any tensor is used.  The broken copies are made
 * here from the real model.
 */
#include <check.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "../embed/fs_embed.h"
#include "../engine/base/fs_json.h"
#include "fs_testutil.h"

static uint8_t *orig;
static size_t orig_len;

static void setup(void)
{
    tu_tmp_setup();
    orig = tu_read(tu_model_path(), &orig_len);
    ck_assert_msg(orig != NULL, "cannot read the model: run 'make models'");
}

static void teardown(void)
{
    tu_tmp_teardown();
    free(orig);
}

/* Writes `len` bytes of the model, with byte `at` xor-ed by `flip`
 * (at < 0: none), and opens it; returns the code, detail in d.  A whole
 * model with one byte flipped is the last one written with that byte
 * changed in place, not 22 MB written again. */
static int open_variant(size_t len, long at, uint8_t flip, fs_detail *d)
{
    static long flipped = -1;          /* variant.fsm: orig but this byte */
    const char *p = tu_path(tu_tmp, "variant.fsm");
    if (len == orig_len && at >= 0 && flipped >= 0 &&
        access(p, F_OK) == 0) {
        FILE *f = fopen(p, "r+b");
        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(fseek(f, flipped, SEEK_SET), 0);
        ck_assert_int_eq(fputc(orig[flipped], f), orig[flipped]);
        ck_assert_int_eq(fseek(f, at, SEEK_SET), 0);
        ck_assert_int_eq(fputc(orig[at] ^ flip, f), orig[at] ^ flip);
        ck_assert_int_eq(fclose(f), 0);
    } else {
        uint8_t *b = malloc(len + 16);
        ck_assert_ptr_nonnull(b);
        memcpy(b, orig, len < orig_len ? len : orig_len);
        if (len > orig_len)
            memset(b + orig_len, 0, len - orig_len);
        if (at >= 0)
            b[at] ^= flip;
        ck_assert_int_eq(tu_write(p, b, len), 0);
        free(b);
    }
    flipped = len == orig_len && at >= 0 ? at : -1;
    fs_model *m = NULL;
    int rc = fs_model_open(p, &m, d);
    if (rc == FS_OK)
        fs_model_close(m);
    else
        ck_assert_ptr_null(m);
    return rc;
}

START_TEST(test_model_opens_whole)
{
    fs_model *m;
    fs_detail d = { "" };
    ck_assert_int_eq(fs_model_open(tu_model_path(), &m, &d), FS_OK);
    ck_assert_uint_eq(fs_model_tensor_count(m), 117);
    ck_assert_uint_eq(strlen(fs_model_sha256_hex(m)), 64);
    ck_assert_ptr_nonnull(strstr(fs_model_id(m), "dlib"));
    fs_tensor t;
    ck_assert_int_eq(fs_model_find(m, "conv32_down/conv/filters", &t), FS_OK);
    ck_assert_uint_eq(t.ndim, 4);
    ck_assert_uint_eq(t.dims[0], 7);
    ck_assert_uint_eq(t.dims[3], 32);
    ck_assert_uint_eq(t.count, 7 * 7 * 3 * 32);
    ck_assert_int_eq(fs_model_find(m, "no/such/tensor", &t), FS_NOTFOUND);
    size_t params = 0;
    for (size_t i = 0; i < fs_model_tensor_count(m); i++) {
        fs_model_tensor_at(m, i, &t);
        params += t.count;
    }
    ck_assert_uint_eq(params, 5614592);   /* NETWORK.md section 1 */
    fs_model_close(m);
}
END_TEST

/* The dequantised weights equal the reference decoder's: per tensor the
 * first four values bit for bit and the sum (weights_checksum.json). */
START_TEST(test_model_weights_match_reference)
{
    const char *sh = tu_shared();
    if (!sh)
        return;
    fs_json *ck;
    fs_detail d = { "" };
    char p[4096];
    snprintf(p, sizeof p, "%s/golden/weights_checksum.json", sh);
    ck_assert_int_eq(fs_json_parse_file(p, &ck, &d), FS_OK);
    const fs_json *ts = fs_json_get(ck, "tensors");
    fs_model *m;
    ck_assert_int_eq(fs_model_open(tu_model_path(), &m, &d), FS_OK);
    ck_assert_uint_eq(ts->n, fs_model_tensor_count(m));
    for (size_t i = 0; i < ts->n; i++) {
        fs_tensor t;
        fs_model_tensor_at(m, i, &t);
        ck_assert_str_eq(t.name, fs_json_get(ts->items[i], "name")->string);
        const fs_json *f4 = fs_json_get(ts->items[i], "first4");
        for (size_t k = 0; k < 4 && k < t.count; k++)
            ck_assert_msg(t.data[k] == (float)f4->items[k]->number,
                          "%s[%zu] differs", t.name, k);
        double sum = 0, want = fs_json_get(ts->items[i], "sum")->number;
        for (size_t k = 0; k < t.count; k++)
            sum += t.data[k];
        ck_assert_msg(fabs(sum - want) <= 1e-9 * (1 + fabs(want)) + 1e-9,
                      "%s: sum %.17g, reference %.17g", t.name, sum, want);
    }
    fs_model_close(m);
    fs_json_free(ck);
}
END_TEST

START_TEST(test_model_missing_refused)
{
    fs_model *m = NULL;
    fs_detail d = { "" };
    ck_assert_int_eq(fs_model_open(tu_path(tu_tmp, "none.fsm"), &m, &d),
                     FS_ENOENT);
    ck_assert_ptr_nonnull(strstr(d.msg, "none.fsm"));
    ck_assert_int_eq(fs_model_open(tu_tmp, &m, &d), FS_ENOTFILE); /* a dir */
    ck_assert_ptr_nonnull(strstr(d.msg, "not a regular file"));
}
END_TEST

START_TEST(test_model_empty_and_foreign_refused)
{
    fs_detail d = { "" };
    ck_assert_int_eq(open_variant(0, -1, 0, &d), FS_EFORMAT);
    ck_assert_ptr_nonnull(strstr(d.msg, "not a facesearch model"));
    ck_assert_int_eq(open_variant(orig_len, 0, 0x20, &d), FS_EFORMAT);
    ck_assert_ptr_nonnull(strstr(d.msg, "bad magic"));
}
END_TEST

START_TEST(test_model_truncated_refused)
{
    fs_detail d = { "" };
    ck_assert_int_eq(open_variant(100, -1, 0, &d), FS_ETRUNC);
    ck_assert_ptr_nonnull(strstr(d.msg, "truncated"));
    ck_assert_int_eq(open_variant(orig_len / 2, -1, 0, &d), FS_ETRUNC);
    ck_assert_int_eq(open_variant(orig_len - 1, -1, 0, &d), FS_ETRUNC);
    ck_assert_int_eq(open_variant(orig_len + 7, -1, 0, &d), FS_EFORMAT);
    ck_assert_ptr_nonnull(strstr(d.msg, "trailing"));
}
END_TEST

START_TEST(test_model_wrong_version_refused)
{
    fs_detail d = { "" };
    ck_assert_int_eq(open_variant(orig_len, 8, 0x03, &d), FS_EVERSION);
    ck_assert_ptr_nonnull(strstr(d.msg, "version 2"));
    ck_assert_ptr_nonnull(strstr(d.msg, "make models"));
}
END_TEST

START_TEST(test_model_corrupt_refused)
{
    fs_detail d = { "" };
    ck_assert_int_eq(open_variant(orig_len, (long)orig_len - 5, 1, &d),
                     FS_ECHECKSUM);
    ck_assert_ptr_nonnull(strstr(d.msg, "weights checksum"));
    ck_assert_int_eq(open_variant(orig_len, FS_MODEL_HEADER_BYTES + 3, 1, &d),
                     FS_ECHECKSUM);
    ck_assert_ptr_nonnull(strstr(d.msg, "table checksum"));
    ck_assert_int_eq(open_variant(orig_len, 40, 1, &d), FS_ECHECKSUM);
    ck_assert_ptr_nonnull(strstr(d.msg, "header checksum"));
}
END_TEST

/* The real model's tensor table with each tensor cut to its first value,
 * in place of orig: a header and table of the real one's shape, whose
 * every byte is checked as the real file's are, at a few KB per open
 * rather than 22 MB read and hashed. */
static void orig_cut_to_its_table(void)
{
    fs_model *m;
    fs_detail d = { "" };
    ck_assert_int_eq(fs_model_open(tu_model_path(), &m, &d), FS_OK);
    size_t n = fs_model_tensor_count(m);
    ck_assert_uint_eq(n, 117);
    fs_tensor *t = calloc(n, sizeof *t);
    for (size_t i = 0; i < n; i++) {
        fs_model_tensor_at(m, i, &t[i]);
        t[i] = (fs_tensor){ t[i].name, 1, { 1 }, 1, t[i].data };
    }
    const char *p = tu_path(tu_tmp, "cut.fsm");
    uint8_t sha[32] = { 0 };
    ck_assert_int_eq(fs_model_write(p, fs_model_id(m), sha, t, n, &d), FS_OK);
    free(t);
    fs_model_close(m);
    free(orig);
    orig = tu_read(p, &orig_len);
    ck_assert_ptr_nonnull(orig);
    ck_assert_uint_lt(orig_len, 64 * 1024);
}

/* A flipped bit anywhere in header and table is refused: every third
 * header byte and a spread of table bytes, each try on the cut copy. */
START_TEST(test_model_every_header_bit_checked)
{
    orig_cut_to_its_table();
    size_t end = FS_MODEL_HEADER_BYTES + 117 * FS_MODEL_ENTRY_BYTES;
    for (size_t at = 0; at < end;
         at += at < FS_MODEL_HEADER_BYTES ? 3 : 97) {
        fs_detail d = { "" };
        int rc = open_variant(orig_len, (long)at, (uint8_t)(1u << (at % 8)),
                              &d);
        ck_assert_msg(rc != FS_OK, "flip at byte %zu accepted", at);
        ck_assert_msg(d.msg[0] != 0, "no detail for byte %zu", at);
    }
}
END_TEST

/* A well-formed file that lacks a tensor, or has one of the wrong shape,
 * is refused by the network with the tensor named. */
static int net_from_tensors(fs_tensor *t, size_t n, fs_detail *d)
{
    const char *p = tu_path(tu_tmp, "edited.fsm");
    uint8_t sha[32] = { 0 };
    ck_assert_int_eq(fs_model_write(p, "edited", sha, t, n, d), FS_OK);
    fs_model *m;
    ck_assert_int_eq(fs_model_open(p, &m, d), FS_OK);
    fs_net *net = NULL;
    fs_net_options o = { 1, 1, 0 };
    int rc = fs_net_create(m, &o, &net, d);
    fs_net_free(net);
    fs_model_close(m);
    return rc;
}

START_TEST(test_model_missing_or_misshapen_tensor_refused)
{
    fs_model *m;
    fs_detail d = { "" };
    ck_assert_int_eq(fs_model_open(tu_model_path(), &m, &d), FS_OK);
    size_t n = fs_model_tensor_count(m);
    fs_tensor *t = calloc(n, sizeof *t);
    for (size_t i = 0; i < n; i++)
        fs_model_tensor_at(m, i, &t[i]);
    ck_assert_str_eq(t[n - 1].name, "fc");
    ck_assert_int_eq(net_from_tensors(t, n - 1, &d), FS_EFORMAT);
    ck_assert_ptr_nonnull(strstr(d.msg, "'fc'"));
    t[1].dims[0] = 16;                    /* conv32_down/conv/bias [32] */
    t[1].count = 16;
    ck_assert_int_eq(net_from_tensors(t, n, &d), FS_ESHAPE);
    ck_assert_ptr_nonnull(strstr(d.msg, "conv32_down/conv/bias"));
    free(t);
    fs_model_close(m);
}
END_TEST

START_TEST(test_model_write_leaves_nothing_on_failure)
{
    fs_model *m;
    fs_detail d = { "" };
    ck_assert_int_eq(fs_model_open(tu_model_path(), &m, &d), FS_OK);
    fs_tensor t;
    fs_model_tensor_at(m, 0, &t);
    uint8_t sha[32] = { 0 };
    const char *p = tu_path(tu_tmp, "no/such/dir/m.fsm");
    ck_assert_int_eq(fs_model_write(p, "x", sha, &t, 1, &d), FS_EIO);
    struct stat st;
    ck_assert_int_ne(stat(tu_path(tu_tmp, "no"), &st), 0);
    fs_model_close(m);
}
END_TEST

Suite *suite_model(void);
Suite *suite_model(void)
{
    Suite *s = suite_create("model");
    TCase *tc = tcase_create("file");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_model_opens_whole);
    tcase_add_test(tc, test_model_weights_match_reference);
    tcase_add_test(tc, test_model_missing_refused);
    tcase_add_test(tc, test_model_empty_and_foreign_refused);
    tcase_add_test(tc, test_model_truncated_refused);
    tcase_add_test(tc, test_model_wrong_version_refused);
    tcase_add_test(tc, test_model_corrupt_refused);
    tcase_add_test(tc, test_model_every_header_bit_checked);
    tcase_add_test(tc, test_model_missing_or_misshapen_tensor_refused);
    tcase_add_test(tc, test_model_write_leaves_nothing_on_failure);
    suite_add_tcase(s, tc);
    return s;
}
