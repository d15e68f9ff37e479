/*
 * fs_detect.c - faces in a still image: where (dlib's HOG detector),
 * their 68 landmarks, their aligned chips, and whether they are fit for
 * search (G13).  dlib does the pixel work through dlib_adapter.h; the
 * choices are made here.  Those live in the vision module (fs_vision.h),
 * loaded by the first detector opened.
 *
 * Upsampling: dlib's HOG window is 80x80, so one doubling finds faces
 * down to about 40 px.  Doubling costs four times the scan, so images are
 * scanned as they are first and doubled only when that found nothing.
 *
 * Large and mid-size photos (a side of WORK_MIN_SIDE px or more) are
 * scanned in two stages that together make dlib's one pyramid.  Its
 * window is 80x80 and its pyramid steps down by 5/6 a level, so level l
 * finds faces about 80 (6/5)^l px wide: its first WORK_LEVELS = 5 levels
 * the faces under 80 (6/5)^5 = 199 px (WORK_MIN_FACE), and those levels
 * hold 1 - (5/6)^10 = 84% of its pixels.  So:
 *   1. the photo shrunk to (5/6)^5 = 0.40 of its sides (area averaging,
 *      one read of it) and scanned whole: dlib's levels 5 and on, every
 *      face of WORK_MIN_FACE px or more, at a sixth of the work (a
 *      4000x3000 photo is scanned at 1608x1206);
 *   2. only when that found nothing, the photo itself, its first
 *      WORK_LEVELS levels: the smaller faces.
 * A photo without a large face costs what one scan did (and a read): the
 * full resolution is not scanned twice, and a CCTV still with small faces
 * is not slowed.  The boxes come back in the full image's pixels, and the
 * landmarks and the chip are made from the full image, so a face's chip
 * is what dlib makes of the full photo for that box.  Faces under
 * WORK_MIN_FACE are not sought beside a larger one: the price, and why
 * smaller photos (crops, mugshots, where the whole scan is cheap) keep
 * the one scan.
 *
 * Not thread-safe per detector (OpenCV's cascade keeps per-image state);
 * one detector per thread.  The HOG scan of one image may be shared by a
 * pool's threads (fs_detect_faces), each running its share of dlib's
 * loops (dlib_adapter.h).
 */
#include "fs_detect.h"

#include <math.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs_vision.h"

#define MAX_UPSAMPLED_SIDE 2000   /* doubling larger images costs too much */
/* The two stages (above): the first scans at dlib's pyramid level
 * WORK_LEVELS, where a face of WORK_MIN_FACE px fills dlib's 80 px window.
 * On 20 12 MP photos with faces from 182 px, per photo on 1 thread (CPU
 * ms, a shared machine): 1399 scanned whole, 364 at 88 px, 285 at 80, 256
 * at 72; every face found each time. */
#define WORK_LEVELS        5
#define WORK_SCALE         (3125.0 / 7776.0)      /* (5/6)^WORK_LEVELS */
#define WORK_MIN_FACE      200    /* px: 80 / WORK_SCALE = 199 */
#define WORK_MIN_SIDE      (5 * WORK_MIN_FACE)    /* a WORK_MIN_FACE face
                                     a fifth of the frame or less */

/* Where dlib's HOG box sits relative to the cascade's, measured on 390
 * LFW faces both found: 0.913 of its width (sd 0.093), centred 0.081
 * widths lower.  The shape predictor was trained on HOG boxes. */
#define CASCADE_TO_HOG_SCALE 0.913
#define CASCADE_TO_HOG_DOWN  0.081
#define MIN_FACE             40

/* The landmark model is 95 MB and read-only once loaded: clones share
 * it, and the last one closed frees it. */
typedef struct shared_lm {
    fs_landmarker *lm;
    atomic_int     refs;
} shared_lm;

struct fs_detector {
    const fs_vision *v;           /* the module's table (fs_vision.h) */
    fs_hog          *hog;
    shared_lm       *lm;
    fs_cascade      *cascade;
    int              mode;        /* FS_DETECT_* */
};

void fs_detector_set_mode(fs_detector *det, int mode)
{
    det->mode = mode;
}

void fs_quality_defaults(fs_quality_limits *q)
{
    q->min_face_width = 40;
    q->min_eye_distance = 20;
    q->max_roll = 30;
    q->max_yaw = 45;
    q->min_sharpness = 20;
    q->min_brightness = 40;
    q->max_brightness = 220;
    q->min_contrast = 15;
}

/* OpenCV's cascade, the last resort when HOG finds nothing: loaded on
 * that first need, not with the detector, since parsing its 900 KB of
 * XML was most of a command's start-up under the sanitizers and a part
 * of it without. */
static int cascade_ready(fs_detector *det, fs_detail *d)
{
    if (det->cascade)
        return FS_OK;
    int rc = det->v->cascade_open(FS_CASCADE_PATH, &det->cascade);
    return rc == FS_OK ? FS_OK
           : fs_fail(d, rc, "cannot load the face cascade '%s' (Debian "
                     "package opencv-data; run 'make deps')",
                     FS_CASCADE_PATH);
}

/* HOG and, when first needed, the cascade: the per-thread state around
 * a landmark model. */
static int detector_make(const fs_vision *v, shared_lm *lm, int mode,
                         fs_detector **out, fs_detail *d)
{
    fs_detector *det = calloc(1, sizeof *det);
    if (!det)
        return fs_fail(d, FS_ENOMEM, "no memory for the face detector");
    atomic_fetch_add(&lm->refs, 1);
    det->v = v;
    det->lm = lm;
    det->mode = mode;
    int rc = v->hog_create(&det->hog);
    if (rc != FS_OK) {
        fs_fail(d, rc, "cannot make the HOG face detector");
        fs_detector_close(det);
        return rc;
    }
    *out = det;
    return FS_OK;
}

/* The one wording of a landmark model that does not open, for the
 * detector and the converter. */
static int landmarks_refused(const char *path, int rc, fs_detail *d)
{
    if (rc == FS_ENOENT)
        return fs_fail(d, rc, "cannot open the landmark model '%s' (Debian "
                       "package libdlib-data; run 'make deps')", path);
    if (rc == FS_ETRUNC || rc == FS_ECHECKSUM)
        return fs_fail(d, rc, "the landmark model '%s' is %s: make it again "
                       "('make models')", path, rc == FS_ETRUNC
                       ? "cut short" : "altered (its checksum differs)");
    if (rc != FS_OK)
        return fs_fail(d, rc, "'%s' is not a 68-point shape predictor",
                       path);
    return FS_OK;
}

int fs_landmarks_convert(const char *from, const char *to, fs_detail *d)
{
    fs_landmarker *lm;
    char tmp[4200];
    const fs_vision *v;
    int rc = fs_vision_get(&v, d);
    if (rc != FS_OK)
        return rc;
    if ((rc = landmarks_refused(from, v->landmarker_open(from, &lm),
                                d)) != FS_OK)
        return rc;
    snprintf(tmp, sizeof tmp, "%s.tmp", to);
    rc = v->landmarker_save(lm, tmp);
    v->landmarker_close(lm);
    if (rc == FS_OK && rename(tmp, to) != 0)
        rc = FS_EIO;
    if (rc != FS_OK) {
        unlink(tmp);
        return fs_fail(d, rc, "cannot write the landmark model '%s'", to);
    }
    return FS_OK;
}

int fs_detector_open(const char *path, fs_detector **out, fs_detail *d)
{
    if (!path)
        path = FS_LANDMARKS_PATH;
    const fs_vision *v;
    int rc = fs_vision_get(&v, d);
    if (rc != FS_OK)
        return rc;
    shared_lm *lm = calloc(1, sizeof *lm);
    if (!lm)
        return fs_fail(d, FS_ENOMEM, "no memory for the face detector");
    rc = v->landmarker_open(path, &lm->lm);
    landmarks_refused(path, rc, d);
    if (rc != FS_OK) {
        free(lm);
        return rc;
    }
    rc = detector_make(v, lm, FS_DETECT_DEFAULT, out, d);
    if (rc != FS_OK) {                  /* the detector held the only ref */
        return rc;
    }
    return FS_OK;
}

int fs_detector_clone(const fs_detector *src, fs_detector **out,
                      fs_detail *d)
{
    return detector_make(src->v, src->lm, src->mode, out, d);
}

void fs_detector_close(fs_detector *det)
{
    if (!det)
        return;
    det->v->hog_free(det->hog);
    det->v->cascade_close(det->cascade);
    if (atomic_fetch_sub(&det->lm->refs, 1) == 1) {
        det->v->landmarker_close(det->lm->lm);
        free(det->lm);
    }
    free(det);
}

static void add_reason(fs_quality *q, const char *fmt, double v, double lim)
{
    size_t n = strlen(q->reasons);
    snprintf(q->reasons + n, sizeof q->reasons - n, "%s", n ? "; " : "");
    n = strlen(q->reasons);
    snprintf(q->reasons + n, sizeof q->reasons - n, fmt, v, lim);
    q->ok = 0;
}

static void mean_point(const float *pts, int from, int to, double *x,
                       double *y)
{
    *x = *y = 0;
    for (int i = from; i <= to; i++) {
        *x += pts[2 * i];
        *y += pts[2 * i + 1];
    }
    *x /= to - from + 1;
    *y /= to - from + 1;
}

static inline double grey(const fs_image *img, int x, int y)
{
    const uint8_t *p = img->rgb + 3 * ((size_t)y * img->width + x);
    return 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
}

/* Grey-level statistics inside the face box: mean, deviation, and the
 * variance of the 4-neighbour Laplacian (focus). */
static void grey_stats(const fs_image *img, const double box[4],
                       fs_quality *q)
{
    int x0 = (int)fmax(1, box[0]), y0 = (int)fmax(1, box[1]);
    int x1 = (int)fmin(img->width - 2, box[0] + box[2]);
    int y1 = (int)fmin(img->height - 2, box[1] + box[3]);
    double s = 0, ss = 0, ls = 0, lss = 0;
    long n = 0;
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++) {
            double g = grey(img, x, y);
            double lap = grey(img, x - 1, y) + grey(img, x + 1, y) +
                         grey(img, x, y - 1) + grey(img, x, y + 1) - 4 * g;
            s += g;
            ss += g * g;
            ls += lap;
            lss += lap * lap;
            n++;
        }
    if (n == 0)
        return;
    q->brightness = s / n;
    q->contrast = sqrt(fmax(0, ss / n - q->brightness * q->brightness));
    q->sharpness = fmax(0, lss / n - (ls / n) * (ls / n));
}

static void judge(const fs_image *img, fs_face *f, const fs_quality_limits *l)
{
    fs_quality *q = &f->quality;
    memset(q, 0, sizeof *q);
    q->ok = 1;
    const float *p = f->landmarks;
    double lx, ly, rx, ry;
    mean_point(p, 36, 41, &lx, &ly);           /* the subject's right eye */
    mean_point(p, 42, 47, &rx, &ry);
    q->face_width = f->box[2];
    q->eye_distance = hypot(rx - lx, ry - ly);
    q->roll = atan2(ry - ly, rx - lx) * 180 / M_PI;
    /* yaw from how the nose tip (30) splits the jaw (0 .. 16) */
    double dl = hypot(p[60] - p[0], p[61] - p[1]);
    double dr = hypot(p[32] - p[60], p[33] - p[61]);
    double t = dl + dr > 0 ? (dl - dr) / (dl + dr) : 0;
    q->yaw = asin(fmax(-1, fmin(1, t))) * 180 / M_PI;
    grey_stats(img, f->box, q);
    if (q->face_width < l->min_face_width)
        add_reason(q, "face %.0f px wide, under %.0f", q->face_width,
                   l->min_face_width);
    if (q->eye_distance < l->min_eye_distance)
        add_reason(q, "eyes %.0f px apart, under %.0f", q->eye_distance,
                   l->min_eye_distance);
    if (fabs(q->roll) > l->max_roll)
        add_reason(q, "head tilted %.0f degrees, over %.0f", fabs(q->roll),
                   l->max_roll);
    if (fabs(q->yaw) > l->max_yaw)
        add_reason(q, "head turned about %.0f degrees, over %.0f",
                   fabs(q->yaw), l->max_yaw);
    if (q->sharpness < l->min_sharpness)
        add_reason(q, "blurred (sharpness %.0f, under %.0f)", q->sharpness,
                   l->min_sharpness);
    if (q->brightness < l->min_brightness)
        add_reason(q, "too dark (mean grey %.0f, under %.0f)", q->brightness,
                   l->min_brightness);
    if (q->brightness > l->max_brightness)
        add_reason(q, "overexposed (mean grey %.0f, over %.0f)",
                   q->brightness, l->max_brightness);
    if (q->contrast < l->min_contrast)
        add_reason(q, "flat contrast (%.0f, under %.0f)", q->contrast,
                   l->min_contrast);
}

/* Leaves are fetched this many trees ahead of their add: enough loads
 * in flight to hide memory behind the adds (the adds of a faces94 face,
 * one run each: 0.70 ms at 8 ahead, 0.84 at none, 0.89 at 16). */
#define LEAF_PREFETCH 8

/* dlib's shape_predictor::operator(), on the flat forests: per cascade,
 * the feature pixels for the current shape, then every tree's leaf, then
 * the leaves added in tree order, so that the sums, and the landmarks,
 * are dlib's to the bit.  A cascade's pixels are fixed before its trees
 * run, so all its leaves are known before the first add and can be
 * fetched ahead. */
static int fit_landmarks(const fs_vision *v, const fs_landmarker *lm,
                         const fs_image *img, const fs_hog_box *box,
                         float points[136])
{
    const fs_shape_forest *f = v->landmarker_forest(lm);
    const int leaves = f->splits + 1;
    float shape[FS_SHAPE_COORDS], pix[FS_SHAPE_MAX_PIXELS];
    const float *leaf[FS_SHAPE_MAX_TREES];
    memcpy(shape, f->initial, sizeof shape);
    for (int c = 0; c < f->cascades; c++) {
        int rc = v->landmarker_sample(lm, img->rgb, img->width,
                                      img->height, box, c, shape, pix);
        if (rc != FS_OK)
            return rc;
        const size_t first = (size_t)c * f->trees;
        for (int t = 0; t < f->trees; t++) {
            const fs_shape_split *sp = f->split + (first + t) * f->splits;
            int i = 0;
            while (i < f->splits)
                i = pix[sp[i].a] - pix[sp[i].b] > sp[i].thresh ? 2 * i + 1
                                                               : 2 * i + 2;
            leaf[t] = f->leaf + ((first + t) * leaves + (i - f->splits)) *
                                    FS_SHAPE_COORDS;
        }
        for (int t = 0; t < f->trees; t++) {
            if (t + LEAF_PREFETCH < f->trees)
                for (int o = 0; o < FS_SHAPE_COORDS; o += 16)
                    __builtin_prefetch(leaf[t + LEAF_PREFETCH] + o);
            const float *v = leaf[t];
            for (int k = 0; k < FS_SHAPE_COORDS; k++)
                shape[k] += v[k];
        }
    }
    return v->landmarker_place(box, shape, points);
}

typedef struct hog_job {
    const fs_vision *v;
    fs_hog_run      *run;
    fs_pool         *pool;
} hog_job;

static void hog_team(void *arg, int tid, int nt)
{
    hog_job *j = arg;
    (void)tid;
    (void)nt;
    j->v->hog_features(j->run);
    fs_pool_barrier(j->pool);
    j->v->hog_filters(j->run);
}

/* One HOG pass (dlib_adapter.h's steps), on pool's threads when it has
 * more than one. */
static int hog_pass(const fs_detector *det, fs_pool *pool,
                    const fs_image *img, double scale, int levels,
                    fs_hog_box *boxes, int *found)
{
    const fs_vision *v = det->v;
    fs_hog_run *run;
    int rc = v->hog_begin(det->hog, img->rgb, img->width, img->height,
                          scale, levels, &run);
    if (rc != FS_OK)
        return rc;
    if (pool && fs_pool_threads(pool) > 1) {
        hog_job j = { v, run, pool };
        fs_pool_run(pool, hog_team, &j);
    } else {
        v->hog_features(run);
        v->hog_filters(run);
    }
    return v->hog_end(run, boxes, FS_MAX_FACES, found);
}

int fs_detect_faces(fs_detector *det, fs_pool *pool, const fs_image *img,
                    const fs_quality_limits *ql, fs_face *faces, int max,
                    int *n, fs_detail *d)
{
    fs_quality_limits defaults;
    if (!ql) {
        fs_quality_defaults(&defaults);
        ql = &defaults;
    }
    /* every pass reads img's own pixels (dlib_adapter.h: no copy) */
    fs_hog_box boxes[FS_MAX_FACES];
    int found = 0, by = FS_FOUND_HOG, rc;
    if (det->mode == FS_DETECT_UPSAMPLE_ALWAYS) {
        rc = hog_pass(det, pool, img, 2, 0, boxes, &found);
        by = FS_FOUND_HOG_X2;
        goto fit;
    }
    int levels = 0;                     /* the whole pyramid */
    rc = FS_OK;
    if (img->width >= WORK_MIN_SIDE || img->height >= WORK_MIN_SIDE) {
        rc = hog_pass(det, pool, img, WORK_SCALE, 0, boxes, &found);
        levels = WORK_LEVELS;
    }
    if (rc == FS_OK && found == 0)
        rc = hog_pass(det, pool, img, 1, levels, boxes, &found);
    if (rc == FS_OK && found == 0 &&
        (img->width <= MAX_UPSAMPLED_SIDE && img->height <= MAX_UPSAMPLED_SIDE)) {
        by = FS_FOUND_HOG_X2;
        rc = hog_pass(det, pool, img, 2, 0, boxes, &found);
    }
    if (rc == FS_OK && found == 0) {
        double cb[FS_MAX_FACES][4];
        by = FS_FOUND_CASCADE;
        if ((rc = cascade_ready(det, d)) != FS_OK)
            return rc;
        rc = det->v->cascade_detect(det->cascade, img->rgb, img->width,
                                    img->height, MIN_FACE, cb, FS_MAX_FACES,
                                    &found);
        for (int i = 0; rc == FS_OK && i < found; i++) {
            double w = cb[i][2] * CASCADE_TO_HOG_SCALE;
            double cx = cb[i][0] + cb[i][2] / 2;
            double cy = cb[i][1] + cb[i][3] / 2 + cb[i][2] * CASCADE_TO_HOG_DOWN;
            boxes[i] = (fs_hog_box){ cx - w / 2, cy - w / 2, cx + w / 2 - 1,
                                     cy + w / 2 - 1, 0, 0 };
        }
    }
fit:;
    int k = 0;
    for (int i = 0; rc == FS_OK && i < found && k < max; i++, k++) {
        fs_face *f = &faces[k];
        memset(f, 0, sizeof *f);
        f->box[0] = boxes[i].left;
        f->box[1] = boxes[i].top;
        f->box[2] = boxes[i].right - boxes[i].left + 1;
        f->box[3] = boxes[i].bottom - boxes[i].top + 1;
        f->score = boxes[i].score;
        f->found_by = by;
        rc = fit_landmarks(det->v, det->lm->lm, img, &boxes[i],
                           f->landmarks);
        if (rc == FS_OK)
            judge(img, f, ql);
    }
    if (rc != FS_OK)
        return fs_fail(d, rc, "face detection failed: %s", fs_strerror(rc));
    *n = k;
    return FS_OK;
}

int fs_default_face(const fs_face *faces, int n, int width, int height)
{
    int best = -1;
    double bd = 0;
    for (int i = 0; i < n; i++) {
        double cx = faces[i].box[0] + faces[i].box[2] / 2 - width / 2.0;
        double cy = faces[i].box[1] + faces[i].box[3] / 2 - height / 2.0;
        double dist = cx * cx + cy * cy;
        if (best < 0 || dist < bd) {
            best = i;
            bd = dist;
        }
    }
    return best;
}

int fs_dominant_face(const fs_face *faces, int n)
{
    int best = -1;
    for (int i = 0; i < n; i++)
        if (best < 0 || faces[i].box[2] > faces[best].box[2])
            best = i;
    for (int i = 0; i < n; i++)
        if (i != best &&
            faces[best].box[2] < FS_DOMINANT_WIDTH_RATIO * faces[i].box[2])
            return -1;
    return best;
}

int fs_face_chip(const fs_image *img, const fs_face *f, uint8_t *chip,
                 fs_detail *d)
{
    const fs_vision *v;
    int rc = fs_vision_get(&v, d);
    if (rc != FS_OK)
        return rc;
    rc = v->face_chip(img->rgb, img->width, img->height, f->landmarks, chip);
    return rc == FS_OK ? FS_OK : fs_fail(d, rc, "cannot cut the face chip: "
                                         "%s", fs_strerror(rc));
}

int fs_face_chip_landmarks(const fs_face *f, float points[136],
                           fs_detail *d)
{
    const fs_vision *v;
    int rc = fs_vision_get(&v, d);
    if (rc != FS_OK)
        return rc;
    rc = v->chip_points(f->landmarks, points);
    return rc == FS_OK ? FS_OK : fs_fail(d, rc, "cannot place the landmarks "
                                         "on the chip: %s", fs_strerror(rc));
}

static void dot(uint8_t *px, int w, int h, int x, int y, const uint8_t c[3])
{
    if (x >= 0 && y >= 0 && x < w && y < h)
        memcpy(px + 3 * ((size_t)y * w + x), c, 3);
}

void fs_draw_landmarks(fs_image *img, const float points[136], double scale)
{
    static const uint8_t yellow[3] = { 255, 230, 0 };
    for (int k = 0; k < 68; k++)
        for (int dy = -1; dy <= 1; dy++)
            for (int dx = -1; dx <= 1; dx++)
                dot(img->rgb, img->width, img->height,
                    (int)(scale * points[2 * k] + 0.5) + dx,
                    (int)(scale * points[2 * k + 1] + 0.5) + dy, yellow);
}

void fs_draw_faces(fs_image *img, const fs_face *faces, int n, int chosen,
                   double scale)
{
    static const uint8_t green[3] = { 0, 220, 0 }, red[3] = { 230, 0, 0 };
    int w = img->width, h = img->height;
    uint8_t *px = img->rgb;
    for (int i = 0; i < n; i++) {
        const fs_face *f = &faces[i];
        const uint8_t *c = f->quality.ok ? green : red;
        int x0 = (int)(scale * f->box[0]), y0 = (int)(scale * f->box[1]);
        int x1 = (int)(scale * (f->box[0] + f->box[2]));
        int y1 = (int)(scale * (f->box[1] + f->box[3]));
        for (int t = 0; t < (i == chosen ? 3 : 1); t++) {
            for (int x = x0 - t; x <= x1 + t; x++) {
                dot(px, w, h, x, y0 - t, c);
                dot(px, w, h, x, y1 + t, c);
            }
            for (int y = y0 - t; y <= y1 + t; y++) {
                dot(px, w, h, x0 - t, y, c);
                dot(px, w, h, x1 + t, y, c);
            }
        }
        fs_draw_landmarks(img, f->landmarks, scale);
    }
}

int fs_annotate(const fs_image *img, const fs_face *faces, int n,
                int chosen, const char *png_path, fs_detail *d)
{
    const fs_vision *v;
    int rc = fs_vision_get(&v, d);
    if (rc != FS_OK)
        return rc;
    fs_image copy = *img;
    copy.rgb = malloc((size_t)img->width * img->height * 3);
    if (!copy.rgb)
        return fs_fail(d, FS_ENOMEM, "no memory to annotate");
    memcpy(copy.rgb, img->rgb, (size_t)img->width * img->height * 3);
    fs_draw_faces(&copy, faces, n, chosen, 1.0);
    rc = v->cv_write_png(png_path, copy.rgb, copy.width, copy.height);
    free(copy.rgb);
    return rc == FS_OK ? FS_OK : fs_fail(d, rc, "cannot write '%s'",
                                         png_path);
}
