/*
 * check_faceres.c - the second network (embed/fs_faceres.h) and its chip
 * (fs_face_chip224): descriptors within 1e-4 of faceres' own runtime
 * (tfjs, cpu backend; tests/faceres/golden.js made golden.json) on two
 * face chips and one of noise, the same answer at any batch size or
 * thread count, the chip cut again from dlib's photos as committed, and
 * a model file without the network refused.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../embed/fs_embed.h"
#include "../embed/fs_faceres.h"
#include "../engine/facesearch.h"
#include "../engine/base/fs_json.h"
#include "fs_testutil.h"

#define FR_TOL 1e-4             /* per element: the brief's bound */

static const char *tests_dir(void)
{
    const char *dir = getenv("FACESEARCH_TESTS");
    return dir && *dir ? dir : "tests";
}

/* models/faceres_v1.fsm, beside the first model (make models). */
static const char *faceres_path(void)
{
    static char path[4200];
    const char *model = tu_model_path(), *slash = strrchr(model, '/');
    snprintf(path, sizeof path, "%.*s" FS_FR_MODEL_FILE,
             slash ? (int)(slash - model + 1) : 0, model);
    return path;
}

static fs_faceres *open_faceres(int threads)
{
    fs_model *m = NULL;
    fs_faceres *fr = NULL;
    fs_detail d = { "" };
    ck_assert_msg(fs_model_open(faceres_path(), &m, &d) == FS_OK, "%s",
                  d.msg);
    ck_assert_msg(fs_faceres_create(m, threads, &fr, &d) == FS_OK, "%s",
                  d.msg);
    fs_model_close(m);
    return fr;
}

/* golden.js's noise chip: the same LCG. */
static void lcg_chip(uint8_t *c)
{
    uint32_t st = 4242;
    for (size_t i = 0; i < FS_FR_CHIP_BYTES; i++) {
        st = 1664525u * st + 1013904223u;
        c[i] = (uint8_t)(st >> 24);
    }
}

static void load_chip(const char *file, uint8_t *c)
{
    if (strncmp(file, "lcg:", 4) == 0) {
        lcg_chip(c);
        return;
    }
    fs_image img;
    fs_detail d = { "" };
    ck_assert_msg(fs_image_load(tu_path(tu_path(tests_dir(), "faceres"),
                                        file), &img, &d) == FS_OK, "%s",
                  d.msg);
    ck_assert_int_eq(img.width, FS_FR_CHIP_SIZE);
    ck_assert_int_eq(img.height, FS_FR_CHIP_SIZE);
    memcpy(c, img.rgb, FS_FR_CHIP_BYTES);
    fs_image_release(&img);
}

START_TEST(test_faceres_golden)
{
    fs_json *g;
    fs_detail d = { "" };
    ck_assert_msg(fs_json_parse_file(tu_path(tu_path(tests_dir(), "faceres"),
                                             "golden.json"), &g, &d) == FS_OK,
                  "%s", d.msg);
    const fs_json *chips = fs_json_get(g, "chips");
    ck_assert_ptr_nonnull(chips);
    size_t n = chips->n;
    ck_assert_uint_eq(n, 3);
    uint8_t *c = malloc(n * FS_FR_CHIP_BYTES);
    float *desc = malloc(n * FS_FR_DESC_DIM * sizeof *desc);
    for (size_t i = 0; i < n; i++)
        load_chip(fs_json_get(chips->items[i], "file")->string,
                  c + i * FS_FR_CHIP_BYTES);
    fs_faceres *fr = open_faceres(0);
    ck_assert_int_eq(fs_faceres_forward(fr, c, n, desc), FS_OK);
    fs_faceres_free(fr);
    double worst = 0, mag = 0;
    for (size_t i = 0; i < n; i++) {
        const fs_json *ref = fs_json_get(chips->items[i], "desc");
        ck_assert_uint_eq(ref->n, FS_FR_DESC_DIM);
        for (int k = 0; k < FS_FR_DESC_DIM; k++) {
            double r = ref->items[k]->number;
            double diff = fabs(desc[i * FS_FR_DESC_DIM + k] - r);
            ck_assert_msg(diff <= FR_TOL, "%s[%d]: %.9g vs %.9g",
                          fs_json_get(chips->items[i], "file")->string, k,
                          desc[i * FS_FR_DESC_DIM + k], r);
            worst = diff > worst ? diff : worst;
            mag = fabs(r) > mag ? fabs(r) : mag;
        }
    }
    /* a descriptor of zeros would match nothing: the test can fail */
    ck_assert(mag > 0.5);
    printf("faceres golden: max |diff| %.3g over %zu chips\n", worst, n);
    free(c);
    free(desc);
    fs_json_free(g);
}
END_TEST

/* Rows of a batch are independent and the split over threads changes
 * only who computes what: the answer is the same to the bit. */
START_TEST(test_faceres_batch_and_threads_invariant)
{
    enum { N = 10 };
    uint8_t *c = malloc((size_t)N * FS_FR_CHIP_BYTES);
    float *a = malloc((size_t)N * FS_FR_DESC_DIM * sizeof *a);
    float *b = malloc((size_t)N * FS_FR_DESC_DIM * sizeof *b);
    for (int i = 0; i < N; i++) {
        lcg_chip(c + (size_t)i * FS_FR_CHIP_BYTES);
        c[(size_t)i * FS_FR_CHIP_BYTES + 7 * i] ^= 0x55;   /* distinct */
    }
    fs_faceres *one = open_faceres(1), *two = open_faceres(2);
    ck_assert_int_eq(fs_faceres_forward(one, c, N, a), FS_OK);
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(fs_faceres_forward(two,
                                            c + (size_t)i * FS_FR_CHIP_BYTES,
                                            1, b + (size_t)i * FS_FR_DESC_DIM),
                         FS_OK);
    double m = 0;
    for (size_t i = 0; i < (size_t)N * FS_FR_DESC_DIM; i++)
        m = fmax(m, fabs((double)a[i] - b[i]));
    ck_assert_msg(m <= 1e-5, "batch/threads change the result by %g", m);
    ck_assert(memcmp(a, a + FS_FR_DESC_DIM, FS_FR_DESC_DIM * sizeof *a));
    fs_faceres_free(one);
    fs_faceres_free(two);
    free(c);
    free(a);
    free(b);
}
END_TEST

/* The first network's file has none of faceres' tensors: refused by name. */
START_TEST(test_faceres_wrong_model_refused)
{
    fs_model *m = NULL;
    fs_faceres *fr = NULL;
    fs_detail d = { "" };
    ck_assert_int_eq(fs_model_open(tu_model_path(), &m, &d), FS_OK);
    ck_assert_int_eq(fs_faceres_create(m, 1, &fr, &d), FS_EFORMAT);
    ck_assert_ptr_null(fr);
    ck_assert_msg(strstr(d.msg, "conv1/convolution/merged_input"), "%s",
                  d.msg);
    fs_model_close(m);
}
END_TEST

/* Each model file where the other network's belongs: refused when the
 * engine opens, naming the first tensor missing, as building would (the
 * engine builds its networks only on first use, but `init` must not tie
 * a gallery to a model no network can run). */
START_TEST(test_engine_open_refuses_the_wrong_models)
{
    fs_engine_options o = { .model_path = faceres_path(), .threads = 1 };
    fs_engine *e = NULL;
    fs_detail d = { "" };
    ck_assert_int_eq(fs_engine_open(&o, &e, &d), FS_EFORMAT);
    ck_assert_ptr_null(e);
    ck_assert_msg(strstr(d.msg, "conv32_down/conv/filters"), "%s", d.msg);
    o.model_path = tu_model_path();
    o.second_model_path = tu_model_path();
    ck_assert_int_eq(fs_engine_open(&o, &e, &d), FS_EFORMAT);
    ck_assert_ptr_null(e);
    ck_assert_msg(strstr(d.msg, "conv1/convolution/merged_input"), "%s",
                  d.msg);
    /* the checks alone agree with building */
    fs_model *m = NULL;
    ck_assert_int_eq(fs_model_open(faceres_path(), &m, &d), FS_OK);
    ck_assert_int_eq(fs_faceres_check(m, &d), FS_OK);
    ck_assert_int_eq(fs_net_check(m, &d), FS_EFORMAT);
    fs_model_close(m);
    ck_assert_int_eq(fs_model_open(tu_model_path(), &m, &d), FS_OK);
    ck_assert_int_eq(fs_net_check(m, &d), FS_OK);
    ck_assert_int_eq(fs_faceres_check(m, &d), FS_EFORMAT);
    fs_model_close(m);
}
END_TEST

/* The committed chips are fs_face_chip224's cut of dlib's photos (as
 * golden.js says): cut again, they come out the same, within a grey
 * level for the rounding of another compiler's floating point. */
START_TEST(test_faceres_chip224_reproduces_committed)
{
    const char *shared = tu_shared();
    if (!shared)
        return;
    static const char *src[2][2] = {
        { "datasets/dlib_johns/John_Simm/000288_00470387.jpg",
          "john_simm.png" },
        { "datasets/dlib_johns/John_Savage/000264_01099001.jpg",
          "john_savage.png" },
    };
    fs_engine_options o = { .landmarks_path = tu_landmarks(), .threads = 1 };
    fs_engine *e = NULL;
    fs_detail d = { "" };
    ck_assert_msg(fs_engine_open(&o, &e, &d) == FS_OK, "%s", d.msg);
    uint8_t *want = malloc(FS_FR_CHIP_BYTES), *got = malloc(FS_FR_CHIP_BYTES);
    for (int i = 0; i < 2; i++) {
        fs_image img;
        ck_assert_msg(fs_image_read(tu_path(shared, src[i][0]), &img, &d) ==
                      FS_OK, "%s", d.msg);
        fs_face f[8];
        int n = 0;
        ck_assert_int_eq(fs_engine_detect(e, &img, f, 8, &n, &d), FS_OK);
        ck_assert_int_ge(n, 1);
        int k = fs_default_face(f, n, img.width, img.height);
        ck_assert_int_eq(fs_face_chip224(&img, &f[k], got, &d), FS_OK);
        load_chip(src[i][1], want);
        int worst = 0;
        for (size_t p = 0; p < FS_FR_CHIP_BYTES; p++)
            worst = abs(want[p] - got[p]) > worst ? abs(want[p] - got[p])
                                                  : worst;
        ck_assert_msg(worst <= 1, "%s: off by %d grey levels", src[i][1],
                      worst);
        fs_image_release(&img);
    }
    free(want);
    free(got);
    fs_engine_close(e);
}
END_TEST

/* Bad input: no image, no face. */
START_TEST(test_faceres_chip224_bad_input)
{
    uint8_t *c = malloc(FS_FR_CHIP_BYTES);
    fs_detail d = { "" };
    fs_face f;
    memset(&f, 0, sizeof f);
    fs_image none = { 0 };
    ck_assert_int_eq(fs_face_chip224(&none, &f, c, &d), FS_EINVAL);
    ck_assert_int_eq(fs_face_chip224(NULL, &f, c, &d), FS_EINVAL);
    /* every landmark on one point: no similarity places a chip */
    uint8_t px[3 * 4] = { 0 };
    fs_image tiny = { .width = 2, .height = 2, .channels = 3,
                      .depth_bits = 8, .rgb = px };
    ck_assert_int_eq(fs_face_chip224(&tiny, &f, c, &d), FS_EINVAL);
    free(c);
}
END_TEST

Suite *suite_faceres(void);
Suite *suite_faceres(void)
{
    Suite *s = suite_create("faceres");
    TCase *tc = tcase_create("network");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_faceres_golden);
    tcase_add_test(tc, test_faceres_batch_and_threads_invariant);
    tcase_add_test(tc, test_faceres_wrong_model_refused);
    tcase_add_test(tc, test_engine_open_refuses_the_wrong_models);
    tcase_add_test(tc, test_faceres_chip224_reproduces_committed);
    tcase_add_test(tc, test_faceres_chip224_bad_input);
    suite_add_tcase(s, tc);
    return s;
}
