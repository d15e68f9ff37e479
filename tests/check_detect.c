/*
 * check_detect.c - faces in real photos (../shared/datasets, skipped
 * when absent): found, with landmarks where faces have them; a photo
 * through detection, alignment and the network gives dlib's verdict on
 * identity; the chip is dlib's own, pixel for pixel, beside a reference
 * that is dlib end to end; quality (G13) turns unsuitable when the face
 * is blurred or dark.  Plus the detect command's refusals, which need no
 * data set.
 */
#include <check.h>
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../detect/fs_detect.h"
#include "../detect/fs_vision.h"
#include "../engine/base/fs_crypt.h"
#include "../engine/base/fs_file.h"
#include "../engine/facesearch.h"
#include "fs_testutil.h"

static const char *lfw(const char *who, int k)
{
    static char path[4][4096];
    static int next;
    const char *sh = tu_shared();
    if (!sh)
        return NULL;
    char *p = path[next++ % 4];
    snprintf(p, 4096, "%s/datasets/lfw-dev/%s/%s_%04d.jpg", sh, who, who, k);
    return p;
}

static fs_engine *engine(int with_model)
{
    fs_engine_options o = { .model_path = with_model ? tu_model_path() : NULL,
                            .landmarks_path = tu_landmarks(), .threads = 1,
                            .max_batch = 4 };
    fs_engine *e;
    fs_detail d = { "" };
    ck_assert_msg(fs_engine_open(&o, &e, &d) == FS_OK, "%s", d.msg);
    return e;
}

/* Detects the default face of a photo (0 when there is none) and, with
 * desc, returns its descriptor. */
static int face_of(fs_engine *e, fs_image *img, const char *path,
                   float desc[FS_DESC_DIM], fs_face *face)
{
    fs_detail d = { "" };
    ck_assert_msg(fs_image_read(path, img, &d) == FS_OK, "%s", d.msg);
    fs_face faces[FS_MAX_FACES];
    int n = 0;
    ck_assert_msg(fs_engine_detect(e, img, faces, FS_MAX_FACES, &n, &d) ==
                  FS_OK, "%s", d.msg);
    if (n == 0)
        return 0;
    int i = fs_default_face(faces, n, img->width, img->height);
    if (desc) {
        uint8_t chip[FS_CHIP_BYTES];
        ck_assert_int_eq(fs_engine_face_chip(e, img, &faces[i], chip, &d),
                         FS_OK);
        ck_assert_int_eq(fs_engine_embed(e, chip, 1, desc, NULL), FS_OK);
    }
    *face = faces[i];
    return 1;
}

START_TEST(test_detect_faces_and_landmarks_in_lfw)
{
    static const char *who[] = { "Aaron_Peirsol", "Abdoulaye_Wade",
                                 "Abdullah_Gul", "Abel_Pacheco",
                                 "Adam_Sandler" };
    if (!tu_shared())
        return;
    fs_engine *e = engine(0);
    int found = 0;
    for (size_t w = 0; w < sizeof who / sizeof who[0]; w++)
        for (int k = 1; k <= 3; k++) {
            fs_image img;
            fs_face f;
            if (!face_of(e, &img, lfw(who[w], k), NULL, &f)) {
                fs_image_release(&img);
                continue;
            }
            found++;
            /* HOG misses this dark half profile even doubled: the cascade
             * fallback finds it, and the landmarks fit its box */
            if (strcmp(who[w], "Abdoulaye_Wade") == 0 && k == 3)
                ck_assert_int_eq(f.found_by, FS_FOUND_CASCADE);
            else
                ck_assert_int_eq(f.found_by, FS_FOUND_HOG);
            /* LFW centres the face: a box of 60-200 px near the middle */
            ck_assert_double_gt(f.box[2], 60);
            ck_assert_double_lt(f.box[2], 200);
            double cx = f.box[0] + f.box[2] / 2, cy = f.box[1] + f.box[3] / 2;
            ck_assert_double_lt(fabs(cx - 125), 40);
            ck_assert_double_lt(fabs(cy - 125), 40);
            /* eyes (36-47) above the nose tip (30) above the mouth (48-67),
             * all inside the image */
            const float *p = f.landmarks;
            for (int i = 0; i < 68; i++) {
                ck_assert(p[2 * i] >= -5 && p[2 * i] <= 255);
                ck_assert(p[2 * i + 1] >= -5 && p[2 * i + 1] <= 255);
            }
            ck_assert_float_lt(p[2 * 37 + 1], p[2 * 30 + 1]);
            ck_assert_float_lt(p[2 * 30 + 1], p[2 * 62 + 1]);
            ck_assert_float_lt(p[2 * 36], p[2 * 45]);   /* left to right */
            fs_image_release(&img);
        }
    ck_assert_int_eq(found, 15);
    fs_engine_close(e);
}
END_TEST

/* Photo -> face -> dlib chip -> network: two photos of one person are
 * under dlib's 0.6 same-person distance, photos of different people over
 * it (the end-to-end check that alignment matches what the network was
 * trained on). */
START_TEST(test_detect_chip_embed_identity)
{
    static const char *who[] = { "Aaron_Peirsol", "Abdullah_Gul",
                                 "Adam_Sandler" };
    if (!tu_shared())
        return;
    fs_engine *e = engine(1);
    float desc[3][2][FS_DESC_DIM];
    for (int w = 0; w < 3; w++)
        for (int k = 0; k < 2; k++) {
            fs_image img;
            fs_face f;
            ck_assert(face_of(e, &img, lfw(who[w], k + 1), desc[w][k], &f));
            fs_image_release(&img);
        }
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
            for (int k = 0; k < 2; k++) {
                double s = 0;
                for (int i = 0; i < FS_DESC_DIM; i++) {
                    double t = desc[a][0][i] - desc[b][k][i];
                    s += t * t;
                }
                if (a == b && k == 0)
                    continue;
                if (a == b)
                    ck_assert_msg(sqrt(s) < 0.6, "%s: same person at %.3f",
                                  who[a], sqrt(s));
                else
                    ck_assert_msg(sqrt(s) > 0.6, "%s vs %s at %.3f", who[a],
                                  who[b], sqrt(s));
            }
    fs_engine_close(e);
}
END_TEST

/* G13: the same face, fine as taken, is judged unsuitable blurred and
 * darkened, with the reason named. */
START_TEST(test_G13_quality_flags_blur_and_darkness)
{
    if (!tu_shared())
        return;
    fs_engine *e = engine(0);
    fs_image img;
    fs_face f;
    ck_assert(face_of(e, &img, lfw("Adam_Sandler", 1), NULL, &f));
    ck_assert_msg(f.quality.ok, "sharp photo judged: %s", f.quality.reasons);
    size_t n = (size_t)img.width * img.height * 3;
    uint8_t *orig = malloc(n);
    memcpy(orig, img.rgb, n);
    /* a 9x9 box blur, three times */
    for (int pass = 0; pass < 3; pass++) {
        uint8_t *src = malloc(n);
        memcpy(src, img.rgb, n);
        for (int y = 0; y < img.height; y++)
            for (int x = 0; x < img.width; x++)
                for (int c = 0; c < 3; c++) {
                    int s = 0, k = 0;
                    for (int dy = -4; dy <= 4; dy++)
                        for (int dx = -4; dx <= 4; dx++) {
                            int yy = y + dy, xx = x + dx;
                            if (yy < 0 || xx < 0 || yy >= img.height ||
                                xx >= img.width)
                                continue;
                            s += src[3 * ((size_t)yy * img.width + xx) + c];
                            k++;
                        }
                    img.rgb[3 * ((size_t)y * img.width + x) + c] =
                        (uint8_t)(s / k);
                }
        free(src);
    }
    fs_face faces[FS_MAX_FACES];
    int nf = 0;
    fs_detail d = { "" };
    ck_assert_int_eq(fs_engine_detect(e, &img, faces, FS_MAX_FACES, &nf, &d),
                     FS_OK);
    for (int i = 0; i < nf; i++) {
        ck_assert(!faces[i].quality.ok);
        ck_assert_ptr_nonnull(strstr(faces[i].quality.reasons, "blurred"));
    }
    for (size_t i = 0; i < n; i++)
        img.rgb[i] = orig[i] / 8;
    ck_assert_int_eq(fs_engine_detect(e, &img, faces, FS_MAX_FACES, &nf, &d),
                     FS_OK);
    for (int i = 0; i < nf; i++) {
        ck_assert(!faces[i].quality.ok);
        ck_assert_ptr_nonnull(strstr(faces[i].quality.reasons, "too dark"));
    }
    free(orig);
    fs_image_release(&img);
    fs_engine_close(e);
}
END_TEST

/* G13's verdict on the face a template is made of reaches the job (eval
 * --enrol-images weighs a subject's templates by it): fit as taken,
 * unfit darkened to an eighth. */
START_TEST(test_G13_verdict_in_template_jobs)
{
    if (!tu_shared())
        return;
    fs_engine *e = engine(1);
    fs_image img;
    fs_detail d = { "" };
    const char *orig = lfw("Adam_Sandler", 1);
    ck_assert_int_eq(fs_image_read(orig, &img, &d), FS_OK);
    size_t n = (size_t)img.width * img.height * 3;
    for (size_t i = 0; i < n; i++)
        img.rgb[i] /= 8;
    char dir[] = "/tmp/fs_g13_XXXXXX", dark[64];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(dark, sizeof dark, "%s/dark.bmp", dir);
    ck_assert_int_eq(tu_write_bmp(dark, img.rgb, img.width, img.height), 0);
    fs_image_release(&img);
    fs_face_job jobs[2];
    memset(jobs, 0, sizeof jobs);
    jobs[0].path = orig;
    jobs[1].path = dark;
    ck_assert_int_eq(fs_engine_read(e, jobs, 2, &d), FS_OK);
    ck_assert_int_eq(fs_engine_templates(e, jobs, 2, FS_FACE_CENTRE, &d),
                     FS_OK);
    ck_assert_msg(jobs[0].rc == FS_OK && jobs[1].rc == FS_OK, "%s %s",
                  jobs[0].reason, jobs[1].reason);
    ck_assert_int_eq(jobs[0].quality_ok, 1);
    ck_assert_int_eq(jobs[1].quality_ok, 0);
    fs_face_jobs_release(jobs, 2);
    unlink(dark);
    rmdir(dir);
    fs_engine_close(e);
}
END_TEST

START_TEST(test_cli_detect_json_and_refusals)
{
    char *out, *err;
    const char *p = lfw("Aaron_Peirsol", 1);
    if (p) {
        int st = tu_run((char *const[]){ "facesearch", "detect", "--json",
                                         (char *)p, NULL }, &out, &err);
        ck_assert_msg(st == 0, "%s", err);
        ck_assert_ptr_nonnull(strstr(out, "\"faces\":[{\"box\":["));
        ck_assert_ptr_nonnull(strstr(out, "\"verdict\":\"ok\""));
        ck_assert_ptr_nonnull(strstr(out, "\"detector\":\"hog\""));
        ck_assert_ptr_nonnull(strstr(out, "\"landmarks\":[["));
        free(out);
        free(err);
        st = tu_run((char *const[]){ "facesearch", "detect", "--face", "5",
                                     (char *)p, NULL }, &out, &err);
        ck_assert_int_eq(st, 2);
        ck_assert_ptr_nonnull(strstr(err, "has 1 face"));
        free(out);
        free(err);
    }
    ck_assert_int_eq(tu_run((char *const[]){ "facesearch", "detect", NULL },
                            &out, &err), 2);
    ck_assert_ptr_nonnull(strstr(err, "no image given"));
    free(out);
    free(err);
    ck_assert_int_eq(tu_run((char *const[]){ "facesearch", "detect",
                                             "rtsp://cam/1", NULL },
                            &out, &err), 1);
    ck_assert_ptr_nonnull(strstr(err, "G8"));
    ck_assert(out[0] == 0);
    free(out);
    free(err);
}
END_TEST

static int visible(const struct dirent *e)
{
    return e->d_name[0] != '.';
}

/* n photos of ../shared/datasets/SET (SET/<identity>/<image>), spread
 * evenly over its identities in name order, the i-th pick taking the
 * identity's (i mod count)-th photo so that not every pick is a first
 * sitting.  The paths are malloc'd; returns how many. */
static int spread_photos(const char *set, int n, char **paths)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/datasets/%s", tu_shared(), set);
    struct dirent **ids;
    int nid = scandir(dir, &ids, visible, alphasort), k = 0;
    ck_assert_msg(nid > 0, "no identities in '%s'", dir);
    for (int i = 0; i < n && i < nid; i++) {
        const char *id = ids[(long)i * nid / n]->d_name;
        char sub[8192];
        snprintf(sub, sizeof sub, "%s/%s", dir, id);
        struct dirent **ph;
        int np = scandir(sub, &ph, visible, alphasort);
        ck_assert_msg(np > 0, "no photos in '%s'", sub);
        ck_assert_int_ge(asprintf(&paths[k++], "%s/%s", sub,
                                  ph[i % np]->d_name), 0);
        for (int j = 0; j < np; j++)
            free(ph[j]);
        free(ph);
    }
    for (int j = 0; j < nid; j++)
        free(ids[j]);
    free(ids);
    return k;
}

/* Photos whose faces the other passes find, so that boxes in fractions
 * of a pixel are held to dlib's rounding too (the spread picks hold one):
 * doubled HOG (halves; this box 90.5 wide) and the cascade (any
 * fraction; the second a small face near the edge). */
static const char *const other_passes[] = {
    "faces94/ksunth/ksunth.13.jpg",
    "lfw-dev/Abdoulaye_Wade/Abdoulaye_Wade_0003.jpg",
    "lfw-dev/Chung_Mong-hun/Chung_Mong-hun_0001.jpg",
};
#define N_OTHER    (int)(sizeof other_passes / sizeof other_passes[0])
#define REF_PHOTOS (40 + 20 + N_OTHER)  /* lfw-dev, faces94, the above */
#define REF_FACES  (4 * REF_PHOTOS)

/* dlib's own landmarks and chips (benchmarks/peer_dlib_chip.cpp) of the
 * nf faces of `list` ("LEFT TOP RIGHT BOTTOM PATH" a line), written to
 * chips_path, held to ours and to our landmarks: every landmark the same
 * and every chip sample within one grey level.  names[f] names face f's
 * photo in a failure. */
static void chips_match_dlib(const char *list, const char *chips_path,
                             int nf, const uint8_t *ours,
                             const float (*pts)[136],
                             const char *const *names)
{
    char *out, *err;
    int st = tu_run_program(tu_peer_chip(), (char *const[]){ "peer",
        "--landmarks", FS_LANDMARKS_PATH, "--faces", (char *)list, "--out",
        (char *)chips_path, NULL }, &out, &err);
    ck_assert_msg(st == 0, "reference failed (%d): %s", st, err);
    size_t len = 0;
    uint8_t *ref = tu_read(chips_path, &len);
    ck_assert_ptr_nonnull(ref);
    ck_assert_int_eq(len, (size_t)nf * FS_CHIP_BYTES);

    /* every difference counted before judging, so a failure says how
     * far off and how widespread, and at which stage it began */
    int max_diff = 0, worst = -1, moved = 0, first_moved = -1;
    long differing = 0;
    const char *line = out;
    for (int f = 0; f < nf; f++) {
        char *end;
        for (int k = 0; k < 136; k++, line = end) {
            long v = strtol(line, &end, 10);
            ck_assert_msg(end != line, "reference landmarks short at face "
                          "%d", f);
            if (v != (long)pts[f][k] && moved++ == 0)
                first_moved = f;
        }
        for (int p = 0; p < FS_CHIP_SIZE * FS_CHIP_SIZE; p++) {
            const uint8_t *a = ours + (size_t)f * FS_CHIP_BYTES + 3 * p;
            const uint8_t *r = ref + (size_t)f * FS_CHIP_BYTES + 3 * p;
            int dp = 0;
            for (int c = 0; c < 3; c++)
                dp = abs(a[c] - r[c]) > dp ? abs(a[c] - r[c]) : dp;
            differing += dp > 0;
            if (dp > max_diff) {
                max_diff = dp;
                worst = f;
            }
        }
    }
    ck_assert_msg(moved == 0 && max_diff <= 1, "%d of %d landmark "
                  "coordinates differ from dlib's (first in '%s'); chips "
                  "differ by up to %d grey levels (worst '%s'), %ld of %d "
                  "pixels, over %d faces", moved, 136 * nf,
                  moved ? names[first_moved] : "none",
                  max_diff, max_diff ? names[worst] : "none",
                  differing, nf * FS_CHIP_SIZE * FS_CHIP_SIZE, nf);
    free(out);
    free(err);
    free(ref);
}

/* Issue 3: the chip our pipeline makes (OpenCV's decode, our detector,
 * dlib's landmarks and chip geometry) equals dlib's own end to end (its
 * decoder, landmarks and chip; benchmarks/peer_dlib_chip.cpp) on real
 * photos, given the same face box: every landmark the same and every
 * chip sample within one grey level.  What the network was trained on is
 * dlib's chip; a drift here would move every descriptor. */
START_TEST(test_chip_equals_dlib_reference)
{
    if (!tu_shared())
        return;
    char *photos[REF_PHOTOS];
    int np = spread_photos("lfw-dev", 40, photos);
    np += spread_photos("faces94", 20, photos + np);
    for (int i = 0; i < N_OTHER; i++)
        ck_assert_int_ge(asprintf(&photos[np++], "%s/datasets/%s",
                                  tu_shared(), other_passes[i]), 0);
    char *dir = tu_mkdtemp();
    char list[4200], chips_path[4200];
    snprintf(list, sizeof list, "%s/faces.txt", dir);
    snprintf(chips_path, sizeof chips_path, "%s/chips.rgb", dir);
    FILE *lf = fopen(list, "w");
    ck_assert_ptr_nonnull(lf);

    fs_engine *e = engine(0);
    uint8_t *ours = malloc((size_t)REF_FACES * FS_CHIP_BYTES);
    float (*pts)[136] = malloc(REF_FACES * sizeof *pts);
    int face_photo[REF_FACES], nf = 0, with_face = 0;
    fs_face faces[FS_MAX_FACES];
    fs_detail d = { "" };
    for (int i = 0; i < np; i++) {
        fs_image img;
        int n = 0;
        ck_assert_msg(fs_image_read(photos[i], &img, &d) == FS_OK, "%s",
                      d.msg);
        ck_assert_msg(fs_engine_detect(e, &img, faces, FS_MAX_FACES, &n,
                                       &d) == FS_OK, "%s", d.msg);
        with_face += n > 0;
        for (int k = 0; k < n && nf < REF_FACES; k++, nf++) {
            const double *b = faces[k].box;
            ck_assert_msg(fs_engine_face_chip(e, &img, &faces[k],
                                              ours + (size_t)nf *
                                              FS_CHIP_BYTES, &d) == FS_OK,
                          "%s", d.msg);
            memcpy(pts[nf], faces[k].landmarks, sizeof pts[nf]);
            face_photo[nf] = i;
            /* the box as dlib's rectangle: right and bottom inclusive */
            fprintf(lf, "%.17g %.17g %.17g %.17g %s\n", b[0], b[1],
                    b[0] + b[2] - 1, b[1] + b[3] - 1, photos[i]);
        }
        fs_image_release(&img);
    }
    fs_engine_close(e);
    ck_assert_int_eq(fclose(lf), 0);
    ck_assert_int_eq(with_face, np);

    const char *names[REF_FACES];
    for (int f = 0; f < nf; f++)
        names[f] = photos[face_photo[f]];
    chips_match_dlib(list, chips_path, nf, ours, pts, names);
    free(pts);
    free(ours);
    for (int i = 0; i < np; i++)
        free(photos[i]);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* img enlarged (bilinear) to a side x side square pasted at (x0, y0) on a
 * w x h mid-grey canvas: a large photo with a face of known size. */
static uint8_t *on_large_canvas(const fs_image *img, int side, int w, int h,
                                int x0, int y0)
{
    uint8_t *c = malloc((size_t)w * h * 3);
    ck_assert_ptr_nonnull(c);
    memset(c, 128, (size_t)w * h * 3);
    for (int y = 0; y < side; y++) {
        double fy = fmax(0, (y + 0.5) * img->height / side - 0.5);
        int ya = (int)fy, yb = ya + 1 < img->height ? ya + 1 : ya;
        for (int x = 0; x < side; x++) {
            double fx = fmax(0, (x + 0.5) * img->width / side - 0.5);
            int xa = (int)fx, xb = xa + 1 < img->width ? xa + 1 : xa;
            for (int k = 0; k < 3; k++) {
#define PX(xx, yy) img->rgb[3 * ((size_t)(yy) * img->width + (xx)) + k]
                double v = (1 - (fy - ya)) * ((1 - (fx - xa)) * PX(xa, ya) +
                                             (fx - xa) * PX(xb, ya)) +
                           (fy - ya) * ((1 - (fx - xa)) * PX(xa, yb) +
                                        (fx - xa) * PX(xb, yb));
#undef PX
                c[3 * ((size_t)(y0 + y) * w + x0 + x) + k] =
                    (uint8_t)(v + 0.5);
            }
        }
    }
    return c;
}

/* Issue 15: a 12 MP phone photo (4000x3000) with a face of about 240 px
 * is scanned at a working resolution, and its face found there (a face
 * of 100 px beside it is not sought: the working resolution's price);
 * the box comes back in the full photo's pixels, and the landmarks and
 * the chip are made from the full photo: dlib's own, for that box, on
 * the full photo.  The same face is found when threads share the scan. */
START_TEST(test_large_photo_working_resolution_chip_is_dlibs)
{
    if (!tu_shared())
        return;
    enum { W = 4000, H = 3000, SIDE = 600, X0 = 2300, Y0 = 700 };
    char *photo;
    ck_assert_int_eq(spread_photos("lfw-dev", 1, &photo), 1);
    fs_image small, big;
    fs_detail d = { "" };
    ck_assert_msg(fs_image_read(photo, &small, &d) == FS_OK, "%s", d.msg);
    big = small;
    big.width = W;
    big.height = H;
    big.rgb = on_large_canvas(&small, SIDE, W, H, X0, Y0);
    /* and the photo as it is, its face some 100 px: under what a large
     * photo's first pass seeks, so not found beside the large one */
    for (int y = 0; y < small.height; y++)
        memcpy(big.rgb + 3 * ((size_t)(400 + y) * W + 400),
               small.rgb + 3 * (size_t)y * small.width, 3 * small.width);

    fs_engine *e = engine(0);
    fs_face faces[FS_MAX_FACES];
    int n = 0;
    ck_assert_msg(fs_engine_detect(e, &big, faces, FS_MAX_FACES, &n, &d) ==
                  FS_OK, "%s", d.msg);
    ck_assert_int_eq(n, 1);
    const fs_face *f = &faces[0];
    /* found at the working resolution, its box in the full photo's
     * pixels, on the enlarged photo, at least the 200 px asked for */
    ck_assert_int_eq(f->found_by, FS_FOUND_HOG);
    ck_assert(f->box[2] >= 200);
    ck_assert(f->box[0] >= X0 && f->box[0] + f->box[2] <= X0 + SIDE + 20);
    ck_assert(f->box[1] >= Y0 - 20 && f->box[1] + f->box[3] <= Y0 + SIDE);
    uint8_t *ours = malloc(FS_CHIP_BYTES);
    ck_assert_msg(fs_engine_face_chip(e, &big, f, ours, &d) == FS_OK, "%s",
                  d.msg);

    char *dir = tu_mkdtemp();
    char list[4200], chips_path[4200];
    snprintf(list, sizeof list, "%s/faces.txt", dir);
    snprintf(chips_path, sizeof chips_path, "%s/chips.rgb", dir);
    const char *bmp = tu_path(dir, "large.bmp");
    ck_assert_int_eq(tu_write_bmp(bmp, big.rgb, W, H), 0);
    FILE *lf = fopen(list, "w");
    ck_assert_ptr_nonnull(lf);
    fprintf(lf, "%.17g %.17g %.17g %.17g %s\n", f->box[0], f->box[1],
            f->box[0] + f->box[2] - 1, f->box[1] + f->box[3] - 1, bmp);
    ck_assert_int_eq(fclose(lf), 0);
    const char *names[1] = { "a 12 MP canvas" };
    chips_match_dlib(list, chips_path, 1, ours,
                     (const float (*)[136])f->landmarks, names);

    /* shared by two threads, the same face to the bit */
    fs_engine_options o2 = { .landmarks_path = tu_landmarks(),
                             .threads = 2 };
    fs_engine *e2;
    fs_face again[FS_MAX_FACES];
    int n2 = 0;
    ck_assert_msg(fs_engine_open(&o2, &e2, &d) == FS_OK, "%s", d.msg);
    ck_assert_msg(fs_engine_detect(e2, &big, again, FS_MAX_FACES, &n2, &d) ==
                  FS_OK, "%s", d.msg);
    ck_assert_int_eq(n2, n);
    ck_assert_mem_eq(again[0].box, faces[0].box, sizeof faces[0].box);
    ck_assert_mem_eq(again[0].landmarks, faces[0].landmarks,
                     sizeof faces[0].landmarks);
    fs_engine_close(e2);
    fs_engine_close(e);
    free(ours);
    free(big.rgb);
    fs_image_release(&small);
    free(photo);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* Issue 15: a mid-size photo (a side of 1000 px or more) is scanned in
 * two stages that make dlib's one pyramid (fs_detect.c): its levels from
 * 5 on at (5/6)^5 of the photo's sides, where a face of 200 px or more is
 * found (and a 100 px one beside it not sought), then, only when that
 * found nothing, the photo's first 5 levels: a lone face of 100, 150 or
 * 180 px (dlib's levels 0 to 4) is still found by that pass, not left to
 * the doubled one. */
START_TEST(test_mid_size_photo_two_stages)
{
    if (!tu_shared())
        return;
    enum { W = 1400, H = 1000 };
    char *photo;
    ck_assert_int_eq(spread_photos("lfw-dev", 1, &photo), 1);
    fs_image small;
    fs_detail d = { "" };
    ck_assert_msg(fs_image_read(photo, &small, &d) == FS_OK, "%s", d.msg);
    fs_engine *e = engine(0);
    fs_face faces[FS_MAX_FACES];
    /* enlargement of the 250 px photo (faces about 100 px), and the
     * faces expected: the large one alone beside the photo as it is */
    static const struct { int side, with_small, lo, hi; } c[] = {
        { 600, 1, 200, 330 }, { 450, 0, 150, 230 }, { 375, 0, 110, 190 },
        { 250, 0, 70, 130 },
    };
    for (size_t k = 0; k < sizeof c / sizeof c[0]; k++) {
        fs_image big = small;
        big.width = W;
        big.height = H;
        big.rgb = on_large_canvas(&small, c[k].side, W, H, 700, 300);
        if (c[k].with_small)
            for (int y = 0; y < small.height; y++)
                memcpy(big.rgb + 3 * ((size_t)(200 + y) * W + 100),
                       small.rgb + 3 * (size_t)y * small.width,
                       3 * small.width);
        int n = 0;
        ck_assert_msg(fs_engine_detect(e, &big, faces, FS_MAX_FACES, &n,
                                       &d) == FS_OK, "%s", d.msg);
        ck_assert_msg(n == 1, "side %d: %d faces", c[k].side, n);
        ck_assert_int_eq(faces[0].found_by, FS_FOUND_HOG);
        ck_assert_msg(faces[0].box[2] >= c[k].lo && faces[0].box[2] <= c[k].hi,
                      "side %d: a face of %.0f px", c[k].side,
                      faces[0].box[2]);
        ck_assert(faces[0].box[0] >= 680 &&
                  faces[0].box[0] + faces[0].box[2] <= 700 + c[k].side + 20);
        free(big.rgb);
    }
    fs_engine_close(e);
    fs_image_release(&small);
    free(photo);
}
END_TEST

/* bench detect's 12 MP set: one photo on a 4000x3000 canvas, its face
 * found, the narrowest face found reported, and the 150 ms target judged
 * on the 1-thread figure as the JSON says it. */
START_TEST(test_cli_bench_detect_large)
{
    if (!tu_shared())
        return;
    char *out, *err;
    int st = tu_run((char *const[]){ "facesearch", "bench", "detect",
                                     "--json", "--limit", "1", "--large",
                                     "1", "--threads", "1", NULL },
                    &out, &err);
    ck_assert_msg(st == 0, "%s", err);
    fs_json *j;
    fs_detail d = { "" };
    ck_assert_msg(fs_json_parse(out, strlen(out), &j, &d) == FS_OK, "%s",
                  d.msg);
    const fs_json *res = fs_json_get(j, "results"), *large = NULL;
    for (size_t i = 0; i < res->n; i++) {
        const fs_json *r = res->items[i];
        if (strcmp(fs_json_get(r, "set")->string, "large-12mp") != 0)
            continue;
        /* ours alone: the peer would double 12 MP first */
        ck_assert_str_eq(fs_json_get(r, "engine")->string, "facesearch");
        ck_assert_ptr_null(large);
        large = r;
    }
    ck_assert_ptr_nonnull(large);
    ck_assert(tu_num(large, "images") == 1 && tu_num(large, "with_face") == 1);
    ck_assert(tu_num(large, "min_face_px") >= 200);
    ck_assert(tu_num(large, "cpu_ms_per_image") > 0);
    const fs_json *t = fs_json_get(j, "targets");
    ck_assert_int_eq(t->n, 1);
    const fs_json *t0 = t->items[0];
    ck_assert_str_eq(fs_json_get(t0, "name")->string,
                     "large_12mp_ms_per_image_1thread");
    ck_assert(tu_num(t0, "value") == tu_num(large, "ms_per_image"));
    ck_assert(tu_num(t0, "at_most") == 150);
    ck_assert_int_eq(fs_json_get(t0, "met")->type == FS_JSON_TRUE,
                     tu_num(t0, "value") <= 150);
    fs_json_free(j);
    free(out);
    free(err);
}
END_TEST

/* One image's HOG scan shared by threads (dlib_adapter.h's steps) finds
 * what dlib's own detector finds, face for face, each box and confidence
 * to the bit and in the same order, on 1, 2 and 3 threads, on the pass
 * every image gets (grey, as is) and on the doubled one (RGB); the peer
 * reads the very pixels ours scanned, written losslessly. */
START_TEST(test_detect_split_over_threads_is_dlibs_own)
{
    const char *sh = tu_shared(), *face = tu_face_photo();
    char *photos[8];
    int np = 0;
    if (face)
        photos[np++] = strdup(face);
    if (sh) {
        static const char *const more[] = {
            "lfw-dev/Abdoulaye_Wade/Abdoulaye_Wade_0003.jpg",
            "lfw-dev/Chung_Mong-hun/Chung_Mong-hun_0001.jpg",
            "faces94/ksunth/ksunth.13.jpg",
        };
        for (size_t i = 0; i < sizeof more / sizeof more[0]; i++)
            ck_assert_int_ge(asprintf(&photos[np++], "%s/datasets/%s", sh,
                                      more[i]), 0);
        np += spread_photos("lfw-dev", 3, photos + np);
    }
    char *dir = tu_mkdtemp(), list[4200];
    snprintf(list, sizeof list, "%s/scans.txt", dir);
    FILE *lf = fopen(list, "w");
    ck_assert_ptr_nonnull(lf);
    fs_image img[8];
    fs_detail d = { "" };
    for (int i = 0; i < np; i++) {
        ck_assert_msg(fs_image_read(photos[i], &img[i], &d) == FS_OK, "%s",
                      d.msg);
        uint8_t *png;
        size_t len;
        char path[4300];
        ck_assert_int_eq(fs_image_encode_png(&img[i], &png, &len, &d), FS_OK);
        snprintf(path, sizeof path, "%s/%d.png", dir, i);
        ck_assert_int_eq(tu_write(path, png, len), 0);
        free(png);
        fprintf(lf, "0 %s\n1 %s\n", path, path);
    }
    ck_assert_int_eq(fclose(lf), 0);
    char *out, *err;
    int st = tu_run_program(tu_peer_chip(), (char *const[]){ "peer",
        "--detect", list, NULL }, &out, &err);
    ck_assert_msg(st == 0, "reference failed (%d): %s", st, err);

    fs_engine *eng[2][3];
    for (int pass = 0; pass < 2; pass++)
        for (int t = 1; t <= 3; t++) {
            fs_engine_options o = { .landmarks_path = tu_landmarks(),
                                    .threads = t, .detect_mode = pass ?
                                    FS_DETECT_UPSAMPLE_ALWAYS : 0 };
            ck_assert_msg(fs_engine_open(&o, &eng[pass][t - 1], &d) == FS_OK,
                          "%s", d.msg);
        }
    const char *line = out;
    int checked = 0;
    for (int i = 0; i < np; i++)
        for (int pass = 0; pass < 2; pass++) {
            char *end;
            long nref = strtol(line, &end, 10);
            ck_assert_msg(end != line, "reference output short");
            line = end;
            double ref[FS_MAX_FACES][5];
            for (long k = 0; k < nref; k++)
                for (int c = 0; c < 6; c++, line = end) {
                    double v = strtod(line, &end);
                    ck_assert_msg(end != line, "reference output short");
                    if (k < FS_MAX_FACES && c < 5)
                        ref[k][c] = v;
                }
            const double sc = pass ? 2 : 1;
            for (int t = 1; t <= 3; t++) {
                fs_face faces[FS_MAX_FACES];
                int n = 0;
                ck_assert_msg(fs_engine_detect(eng[pass][t - 1], &img[i],
                                               faces, FS_MAX_FACES, &n,
                                               &d) == FS_OK, "%s", d.msg);
                if (!pass && n > 0 && faces[0].found_by != FS_FOUND_HOG)
                    n = 0;            /* the grey pass found none */
                ck_assert_msg(n == (nref < FS_MAX_FACES ? nref : FS_MAX_FACES),
                              "'%s' pass %d, %d thread(s): %d faces, dlib "
                              "%ld", photos[i], pass, t, n, nref);
                for (int k = 0; k < n; k++) {
                    const double *b = faces[k].box, *r = ref[k];
                    const double want[5] = {
                        r[0] / sc, r[1] / sc,
                        ((r[2] + 1) / sc - 1) - r[0] / sc + 1,
                        ((r[3] + 1) / sc - 1) - r[1] / sc + 1, r[4] };
                    ck_assert_msg(b[0] == want[0] && b[1] == want[1] &&
                                  b[2] == want[2] && b[3] == want[3] &&
                                  faces[k].score == want[4],
                                  "'%s' pass %d, %d thread(s), face %d: "
                                  "%.17g %.17g %.17g %.17g (%.17g), dlib "
                                  "%.17g %.17g %.17g %.17g (%.17g)",
                                  photos[i], pass, t, k, b[0], b[1], b[2],
                                  b[3], faces[k].score, want[0], want[1],
                                  want[2], want[3], want[4]);
                }
                checked += n;
            }
        }
    ck_assert_int_eq(checked > 0, np > 0);
    for (int pass = 0; pass < 2; pass++)
        for (int t = 0; t < 3; t++)
            fs_engine_close(eng[pass][t]);
    for (int i = 0; i < np; i++) {
        fs_image_release(&img[i]);
        free(photos[i]);
    }
    free(out);
    free(err);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* The gallery rule: exactly one dominant face (twice as wide as any
 * other), else none. */
START_TEST(test_gallery_rule_one_dominant_face)
{
    fs_face f[3];
    memset(f, 0, sizeof f);
    ck_assert_int_eq(fs_dominant_face(f, 0), -1);
    f[0].box[2] = 80;
    ck_assert_int_eq(fs_dominant_face(f, 1), 0);
    f[1].box[2] = 200;                    /* a big face behind the first */
    ck_assert_int_eq(fs_dominant_face(f, 2), 1);
    f[2].box[2] = 120;                    /* two faces of like size */
    ck_assert_int_eq(fs_dominant_face(f, 3), -1);
    f[2].box[2] = 100;                    /* exactly half: still dominant */
    ck_assert_int_eq(fs_dominant_face(f, 3), 1);
}
END_TEST

/* Bytes of dlib's packed integers: a count byte (low nibble), then that
 * many bytes.  Floats are two of them, mantissa and exponent. */
static size_t skip_packed(const uint8_t *p, size_t at, int n)
{
    while (n-- > 0)
        at += 1 + (p[at] & 0x0f);
    return at;
}

/* dlib's serialization, enough to write a predictor: integers packed as
 * a count byte (0x80: negative) and that many little-endian bytes. */
static void put_packed(FILE *f, long long v)
{
    uint8_t buf[9], n = 0;
    unsigned long long u = v < 0 ? -(unsigned long long)v : (unsigned long long)v;
    do
        buf[1 + n++] = (uint8_t)(u & 0xff);
    while ((u >>= 8) != 0);
    buf[0] = n | (v < 0 ? 0x80 : 0);
    ck_assert_uint_eq(fwrite(buf, 1, 1 + n, f), 1 + n);
}

static void put_zero_float(FILE *f)        /* mantissa 0, exponent 0 */
{
    put_packed(f, 0);
    put_packed(f, 0);
}

static void put_zero_shape(FILE *f)        /* a 136 x 1 dlib matrix */
{
    put_packed(f, -136);
    put_packed(f, -1);
    for (int i = 0; i < 136; i++)
        put_zero_float(f);
}

/* A one-cascade, one-tree, one-split predictor sampling `pixels` pixels:
 * valid in dlib's format whatever the count. */
static void write_tiny_predictor(const char *path, long pixels)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    put_packed(f, 1);                       /* version */
    put_zero_shape(f);                      /* initial shape */
    put_packed(f, 1);                       /* cascades */
    put_packed(f, 1);                       /* trees */
    put_packed(f, 1);                       /* splits: pixel 0 - pixel 1 */
    put_packed(f, 0);
    put_packed(f, 1);
    put_zero_float(f);
    put_packed(f, 2);                       /* leaves */
    put_zero_shape(f);
    put_zero_shape(f);
    put_packed(f, 1);                       /* anchors, per cascade */
    put_packed(f, pixels);
    for (long i = 0; i < pixels; i++)
        put_packed(f, 0);
    put_packed(f, 1);                       /* deltas, per cascade */
    put_packed(f, pixels);
    for (long i = 0; i < pixels; i++) {
        put_zero_float(f);
        put_zero_float(f);
    }
    ck_assert_int_eq(fclose(f), 0);
}

/* The engine's detection with the landmark model at path: its code. */
static int detect_with_landmarks(const char *path)
{
    fs_engine_options o = { .landmarks_path = path, .threads = 1 };
    fs_engine *e;
    fs_detail d = { "" };
    ck_assert_int_eq(fs_engine_open(&o, &e, &d), FS_OK);
    uint8_t px[3 * 64 * 64] = { 0 };
    fs_image img = { .width = 64, .height = 64, .channels = 3, .depth_bits = 8,
                     .rgb = px };
    fs_face f;
    int n = 0, rc = fs_engine_detect(e, &img, &f, 1, &n, &d);
    if (rc != FS_OK)
        ck_assert_msg(strstr(d.msg, path) != NULL, "%s", d.msg);
    fs_engine_close(e);
    return rc;
}

/* The landmark model is read into our own arrays, and its indexes are
 * checked there (dlib trusts them): a damaged model is refused whole,
 * never half-loaded or read past its arrays. */
/* The model file at path cut short in place at each of cuts (ascending),
 * longest first: a 95 MB file written once, not once a cut.  A cut under
 * `header` bytes must be refused as no model (FS_EFORMAT), a longer one
 * as cut short (FS_ETRUNC); dlib's own files, which say nothing of their
 * length, pass theirs: FS_EFORMAT for every cut. */
static void cut_down(const char *path, const size_t *cuts, size_t n,
                     size_t header)
{
    for (size_t i = n; i-- > 0;) {
        ck_assert_int_eq(truncate(path, (off_t)cuts[i]), 0);
        ck_assert_msg(detect_with_landmarks(path) ==
                      (cuts[i] < header ? FS_EFORMAT : FS_ETRUNC),
                      "cut at %zu", cuts[i]);
    }
}

/* n bytes written over the file at path at offset at, in place. */
static void patch(const char *path, size_t at, const void *bytes, size_t n)
{
    int fd = open(path, O_WRONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pwrite(fd, bytes, n, (off_t)at), (ssize_t)n);
    ck_assert_int_eq(close(fd), 0);
}

START_TEST(test_landmark_model_refusals)
{
    size_t len;
    uint8_t *good = tu_read(FS_LANDMARKS_PATH, &len);
    ck_assert_ptr_nonnull(good);
    char *dir = tu_mkdtemp();
    const char *bad = tu_path(dir, "landmarks.dat");

    ck_assert_int_eq(detect_with_landmarks(tu_path(dir, "absent.dat")),
                     FS_ENOENT);
    ck_assert_int_eq(tu_write(bad, "", 0), 0);
    ck_assert_int_eq(detect_with_landmarks(bad), FS_EFORMAT);
    ck_assert_int_eq(tu_write(bad, "not a model\n", 12), 0);
    ck_assert_int_eq(detect_with_landmarks(bad), FS_EFORMAT);
    const size_t cuts[] = { 7, 4096, len / 2, len - 9 };
    ck_assert_int_eq(tu_write(bad, good, len), 0);
    cut_down(bad, cuts, sizeof cuts / sizeof *cuts, len);
    /* The first split's first pixel: after the version, the initial
     * shape (rows, columns, 136 floats), the counts of cascades, trees
     * and splits.  600 is past the cascade's 500 pixels but under the
     * format's limit; 60000 over both. */
    size_t at = skip_packed(good, 0, 1 + 2 + 2 * 136 + 3);
    size_t next = skip_packed(good, at, 1);
    static const uint8_t past[][3] = { { 2, 600 & 0xff, 600 >> 8 },
                                       { 2, 60000 & 0xff, 60000 >> 8 } };
    for (int k = 0; k < 2; k++) {
        FILE *f = fopen(bad, "wb");
        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(fwrite(good, 1, at, f), at);
        ck_assert_uint_eq(fwrite(past[k], 1, 3, f), 3);
        ck_assert_uint_eq(fwrite(good + next, 1, len - next, f), len - next);
        ck_assert_int_eq(fclose(f), 0);
        ck_assert_int_eq(detect_with_landmarks(bad), FS_EFORMAT);
    }
    /* A cascade samples at most 4096 pixels, the room the fit keeps for
     * them: one more would be written past it. */
    write_tiny_predictor(bad, 4096);
    ck_assert_int_eq(detect_with_landmarks(bad), FS_OK);
    write_tiny_predictor(bad, 4097);
    ck_assert_int_eq(detect_with_landmarks(bad), FS_EFORMAT);
    ck_assert_int_eq(tu_write(bad, good, len), 0);      /* the real thing */
    ck_assert_int_eq(detect_with_landmarks(bad), FS_OK);
    free(good);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* The faces an engine finds on a photo, with their chips. */
static int faces_and_chips(fs_engine *e, const char *photo, fs_face faces[4],
                           uint8_t chips[4][FS_CHIP_BYTES])
{
    fs_image img;
    fs_detail d = { "" };
    int n = 0;
    ck_assert_msg(fs_image_read(photo, &img, &d) == FS_OK, "%s", d.msg);
    ck_assert_msg(fs_engine_detect(e, &img, faces, 4, &n, &d) == FS_OK, "%s",
                  d.msg);
    for (int k = 0; k < n; k++)
        ck_assert_msg(fs_engine_face_chip(e, &img, &faces[k], chips[k], &d)
                      == FS_OK, "%s", d.msg);
    fs_image_release(&img);
    return n;
}

/* `make models` converts dlib's landmark model into our own layout, read
 * in a tenth of the time.  The numbers are dlib's to the bit: the same
 * landmarks and the same chips as from dlib's file, on the test photo
 * and on photos of ../shared when it is there. */
START_TEST(test_landmarks_converted_are_dlibs_own)
{
    char *dir = tu_mkdtemp();
    const char *flat = tu_path(dir, "landmarks_68.fsl");
    fs_detail d = { "" };
    ck_assert_msg(fs_landmarks_convert(FS_LANDMARKS_PATH, flat, &d) == FS_OK,
                  "%s", d.msg);
    ck_assert_int_ne(access(tu_path(dir, "landmarks_68.fsl.tmp"), F_OK), 0);
    char *photos[8];
    int np = 0;
    if (tu_face_photo())
        photos[np++] = strdup(tu_face_photo());
    if (tu_shared())
        np += spread_photos("lfw-dev", 6, photos + np);
    ck_assert_int_gt(np, 0);
    fs_engine_options oa = { .landmarks_path = FS_LANDMARKS_PATH,
                             .threads = 1 };
    fs_engine_options ob = { .landmarks_path = flat, .threads = 1 };
    fs_engine *ea, *eb;
    ck_assert_int_eq(fs_engine_open(&oa, &ea, &d), FS_OK);
    ck_assert_int_eq(fs_engine_open(&ob, &eb, &d), FS_OK);
    int seen = 0;
    for (int i = 0; i < np; i++) {
        fs_face a[4], b[4];
        static uint8_t ca[4][FS_CHIP_BYTES], cb[4][FS_CHIP_BYTES];
        int na = faces_and_chips(ea, photos[i], a, ca);
        int nb = faces_and_chips(eb, photos[i], b, cb);
        ck_assert_int_eq(na, nb);
        for (int k = 0; k < na; k++) {
            ck_assert_msg(memcmp(a[k].landmarks, b[k].landmarks,
                                 sizeof a[k].landmarks) == 0,
                          "%s face %d: landmarks differ", photos[i], k);
            ck_assert_msg(memcmp(ca[k], cb[k], FS_CHIP_BYTES) == 0,
                          "%s face %d: chips differ", photos[i], k);
        }
        seen += na;
        free(photos[i]);
    }
    fs_engine_close(ea);
    fs_engine_close(eb);
    ck_assert_int_gt(seen, 0);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* Our copy refused whole when it is cut short, altered, longer than its
 * header says or holds sizes out of bounds; a conversion from a file that
 * is no predictor writes nothing. */
START_TEST(test_landmarks_converted_refusals)
{
    char *dir = tu_mkdtemp();
    const char *flat = tu_path(dir, "good.fsl"), *bad = tu_path(dir, "bad.fsl");
    fs_detail d = { "" };
    ck_assert_int_eq(fs_landmarks_convert(FS_LANDMARKS_PATH, flat, &d), FS_OK);
    size_t len;
    uint8_t *good = tu_read(flat, &len);
    ck_assert_ptr_nonnull(good);
    const size_t header = 56;
    const size_t cuts[] = { 8, header, header + 4096, len / 2, len - 1 };
    ck_assert_int_eq(tu_write(bad, good, len), 0);
    cut_down(bad, cuts, sizeof cuts / sizeof *cuts, header);
    ck_assert_int_eq(tu_write(bad, good, len), 0);
    const size_t flips[] = { header, header + len / 3, len - 1 };
    for (size_t i = 0; i < sizeof flips / sizeof *flips; i++) {
        uint8_t flipped = good[flips[i]] ^ 0x10;
        patch(bad, flips[i], &flipped, 1);
        ck_assert_int_eq(detect_with_landmarks(bad), FS_ECHECKSUM);
        patch(bad, flips[i], good + flips[i], 1);
    }
    ck_assert_int_eq(truncate(bad, (off_t)len + 1), 0);  /* one 0 more */
    ck_assert_int_eq(detect_with_landmarks(bad), FS_EFORMAT);
    ck_assert_int_eq(truncate(bad, (off_t)len), 0);
    /* the header's sizes: cascades, trees, splits (a full tree's: 2^k-1),
     * pixels (within the fit's room) */
    static const struct { int at; uint32_t v; } sizes[] = {
        { 8, 0 }, { 8, 65 }, { 12, 0 }, { 12, 4097 }, { 16, 6 },
        { 16, 0 }, { 20, 0 }, { 20, 4097 },
    };
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        patch(bad, (size_t)sizes[i].at, &sizes[i].v, 4);
        ck_assert_msg(detect_with_landmarks(bad) == FS_EFORMAT,
                      "header byte %d = %u", sizes[i].at, sizes[i].v);
        patch(bad, (size_t)sizes[i].at, good + sizes[i].at, 4);
    }
    ck_assert_int_eq(detect_with_landmarks(bad), FS_OK); /* as restored */
    ck_assert_int_eq(tu_write(bad, "not a model\n", 12), 0);
    const char *out = tu_path(dir, "out.fsl");
    ck_assert_int_eq(fs_landmarks_convert(bad, out, &d), FS_EFORMAT);
    ck_assert_ptr_nonnull(strstr(d.msg, bad));
    ck_assert_int_ne(access(out, F_OK), 0);
    ck_assert_int_ne(access(tu_path(dir, "out.fsl.tmp"), F_OK), 0);
    free(good);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* bench detect runs both engines on the same images and says so; with
 * no data set it refuses clearly. */
START_TEST(test_cli_bench_detect)
{
    char *out, *err;
    if (tu_shared()) {
        int st = tu_run((char *const[]){ "facesearch", "bench", "detect",
                                         "--json", "--limit", "3", "--large",
                                         "0", "--threads", "1", NULL },
                        &out, &err);
        ck_assert_msg(st == 0, "%s", err);
        ck_assert_ptr_nonnull(strstr(out, "\"engine\":\"facesearch\","
                                          "\"set\":\"lfw-dev\",\"threads\":1,"
                                          "\"images\":3,\"with_face\":3"));
        ck_assert_ptr_nonnull(strstr(out, "\"engine\":\"dlib-upsample1\","
                                          "\"set\":\"lfw-dev\""));
        ck_assert_ptr_nonnull(strstr(out, "\"min_face_px\":"));
        free(out);
        free(err);
    }
    setenv("FACESEARCH_SHARED", "/nonexistent", 1);
    int st = tu_run((char *const[]){ "facesearch", "bench", "detect", NULL },
                    &out, &err);
    ck_assert_int_eq(st, 2);
    ck_assert_ptr_nonnull(strstr(err, "needs ../shared/datasets"));
    free(out);
    free(err);
}
END_TEST

/* The vision module (detect/fs_vision.h) is loaded by the first call
 * that needs it and not before: intake's own checks run without it.  Its
 * entry hands its table only to a loader of its own version. */
START_TEST(test_vision_module_on_first_use)
{
    const char *fork = getenv("CK_FORK");
    int fresh = !fork || strcmp(fork, "no") != 0;   /* a process per test */
    uint8_t px[4 * 4 * 3];
    memset(px, 128, sizeof px);
    char *tmp = tu_mkdtemp();
    const char *path = tu_path(tmp, "grey.bmp");
    ck_assert_int_eq(tu_write_bmp(path, px, 4, 4), 0);
    size_t len;
    uint8_t *bytes = tu_read(path, &len);
    tu_rmtree(tmp);
    free(tmp);
    fs_detail d = { "" };
    fs_still st;
    ck_assert_int_eq(fs_intake_identify(bytes, len, path, &st, &d), FS_OK);
    if (fresh)
        ck_assert(!fs_vision_loaded());
    fs_image img;
    ck_assert_msg(fs_image_decode(bytes, len, path, &img, &d) == FS_OK, "%s",
                  d.msg);
    ck_assert(fs_vision_loaded());
    ck_assert_int_eq(img.width, 4);
    fs_image_release(&img);
    free(bytes);

    char dir[4096], so[4200];
    fs_exe_dir(dir, sizeof dir);
    snprintf(so, sizeof so, "%s/" FS_VISION_FILE, dir);
    void *h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
    ck_assert_msg(h != NULL, "%s", dlerror());
    fs_vision_entry_fn *entry = (fs_vision_entry_fn *)dlsym(h,
                                                            FS_VISION_ENTRY);
    ck_assert_ptr_nonnull(entry);
    const fs_vision_host host = { malloc, fs_sha256 };
    ck_assert_ptr_null(entry(FS_VISION_VERSION + 1, &host));
    ck_assert_ptr_null(entry(FS_VISION_VERSION - 1, &host));
    ck_assert_ptr_null(entry(FS_VISION_VERSION, NULL));
    const fs_vision *v = entry(FS_VISION_VERSION, &host);
    ck_assert_ptr_nonnull(v);
    ck_assert_int_eq(v->version, FS_VISION_VERSION);
    ck_assert_uint_eq(v->size, sizeof *v);
    dlclose(h);
}
END_TEST

Suite *suite_detect(void);
Suite *suite_detect(void)
{
    Suite *s = suite_create("detect");
    TCase *tc = tcase_create("faces");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_detect_faces_and_landmarks_in_lfw);
    tcase_add_test(tc, test_detect_chip_embed_identity);
    tcase_add_test(tc, test_chip_equals_dlib_reference);
    tcase_add_test(tc, test_detect_split_over_threads_is_dlibs_own);
    tcase_add_test(tc, test_G13_quality_flags_blur_and_darkness);
    tcase_add_test(tc, test_G13_verdict_in_template_jobs);
    tcase_add_test(tc, test_cli_detect_json_and_refusals);
    tcase_add_test(tc, test_cli_bench_detect);
    tcase_add_test(tc, test_gallery_rule_one_dominant_face);
    tcase_add_test(tc, test_landmark_model_refusals);
    tcase_add_test(tc, test_landmarks_converted_are_dlibs_own);
    tcase_add_test(tc, test_landmarks_converted_refusals);
    tcase_add_test(tc, test_vision_module_on_first_use);
    suite_add_tcase(s, tc);
    /* a 12 MP photo made, scanned twice, written and read by dlib: ~5 s */
    TCase *large = tcase_create("large photos");
    tcase_set_timeout(large, 300);
    tcase_add_test(large, test_large_photo_working_resolution_chip_is_dlibs);
    tcase_add_test(large, test_mid_size_photo_two_stages);
    suite_add_tcase(s, large);
    /* bench detect on a 1920 px photo (the peer's ~4 s) and a 12 MP one:
     * a benchmark's contract, left out of the sanitized run */
    TCase *bench = tcase_create("bench detect large");
    tcase_set_tags(bench, "bench");
    tcase_set_timeout(bench, 300);
    tcase_add_test(bench, test_cli_bench_detect_large);
    suite_add_tcase(s, bench);
    return s;
}
