/*
 * bench_detect.c - `facesearch bench detect`: images per second for the
 * whole front of the pipeline (intake, decode, detection, landmarks, the
 * aligned chip of the default face) and the share of images with a face,
 * ours beside the peer: dlib's HOG detector as the face_recognition
 * library calls it by default, one upsampling on every image.  Both run
 * the same code but for that choice, in the same run, on the same bytes
 * (files are read into memory first: the disk is not measured).
 *
 * Sets: lfw-dev (250x250 news photos), faces94 (180x200 frontal), and a
 * few LFW photos enlarged to 1920x1920 (bilinear), as large camera
 * photos.  Engines alternate per set and thread count, ours first, then
 * the peer, then the peer, then ours, so drift hits both alike.
 */
#include "fs_bench.h"
#include "fs_bench_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../engine/facesearch.h"
#include "../engine/base/fs_pool.h"

#define LARGE_SIDE 1920
#define CANVAS_W   4000           /* a phone's 12 MP photo */
#define CANVAS_H   3000

/* 250x250 LFW photos (faces about 100 px wide) enlarged this much on the
 * 12 MP canvas: faces from about 200 px */
static const double growth[5] = { 2.0, 2.5, 3.0, 4.0, 6.0 };

/* The process's CPU time, s: every thread's, and only the pass's
 * threads work while it runs. */
static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

/* An lfw-dev photo enlarged (bilinear) to a square of side f x 250 px,
 * or to the whole canvas when f is 1, and set on a w x h mid-grey canvas
 * at a place that moves with k, appended to s as BMP bytes. */
static void large_add(const fs_bench_blob *photo, double f, int w, int h,
                      int k, fs_bench_set *s)
{
    fs_image img;
    uint8_t *copy = malloc(photo->n);
    if (!copy)
        return;
    memcpy(copy, photo->p, photo->n);
    if (fs_image_decode(copy, photo->n, "large", &img, NULL) != FS_OK) {
        free(copy);
        return;
    }
    int side = f == 1 ? (w < h ? w : h) : (int)(f * img.width);
    uint8_t *big = fs_bench_enlarge(&img, side);
    uint8_t *canvas = big && (side != w || side != h)
                      ? malloc((size_t)w * h * 3) : big;
    if (canvas && canvas != big) {
        memset(canvas, 128, (size_t)w * h * 3);
        int x0 = (int)((k * 611L) % (w - side + 1));
        int y0 = (int)((k * 347L) % (h - side + 1));
        for (int y = 0; y < side; y++)
            memcpy(canvas + 3 * ((size_t)(y0 + y) * w + x0),
                   big + 3 * (size_t)y * side, 3 * (size_t)side);
    }
    fs_bench_blob b = canvas ? fs_bench_bmp(canvas, w, h)
                             : (fs_bench_blob){ NULL, 0, NULL };
    if (canvas != big)
        free(canvas);
    free(big);
    fs_bench_blob *m = b.p ? realloc(s->files, sizeof *m *
                                     (size_t)(s->n + 1)) : NULL;
    if (m) {
        s->files = m;
        s->files[s->n++] = b;
    } else {
        free(b.p);
    }
    fs_image_release(&img);
    free(copy);
}

int fs_bench_detect(const fs_bench_detect_options *o,
                    fs_bench_detect_report *rep, fs_detail *d)
{
    memset(rep, 0, sizeof *rep);
    rep->ncpu = fs_cpu_count();
    fs_bench_set sets[4] = { { "lfw-dev", NULL, 0 },
                             { "faces94", NULL, 0 },
                             { "large-1920", NULL, 0 },
                             { "large-12mp", NULL, 0 } };
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/datasets/lfw-dev", o->shared_dir);
    if (fs_bench_load_set(dir, o->limit, &sets[0]) != FS_OK)
        return fs_fail(d, FS_ENOENT, "no images in '%s': bench detect "
                       "needs ../shared/datasets", dir);
    snprintf(dir, sizeof dir, "%s/datasets/faces94", o->shared_dir);
    fs_bench_load_set(dir, o->limit, &sets[1]);
    for (int i = 0, k = 0; i < sets[0].n && k < o->large; i += 97, k++) {
        large_add(&sets[0].files[i], 1, LARGE_SIDE, LARGE_SIDE, k, &sets[2]);
        large_add(&sets[0].files[i], growth[k % 5], CANVAS_W, CANVAS_H, k,
                  &sets[3]);
    }
    int tlist[2] = { 1, rep->ncpu }, nt = rep->ncpu > 1 ? 2 : 1;
    if (o->threads > 0) {
        tlist[0] = o->threads;
        nt = 1;
    }
    int rc = FS_OK;
    for (int ti = 0; ti < nt && rc == FS_OK; ti++) {
        int T = tlist[ti];
        fs_pool *pool = NULL;
        fs_engine **eng[2];
        eng[0] = calloc((size_t)T, sizeof **eng);
        eng[1] = calloc((size_t)T, sizeof **eng);
        if (!eng[0] || !eng[1] || fs_pool_create(T, &pool) != FS_OK)
            rc = fs_fail(d, FS_ENOMEM, "cannot set up %d threads", T);
        for (int k = 0; rc == FS_OK && k < 2; k++)
            for (int t = 0; rc == FS_OK && t < T; t++) {
                /* one image per thread: each engine keeps to its own */
                fs_engine_options eo = { .model_path = NULL,
                                         .detect_mode = k, .threads = 1 };
                rc = fs_engine_open(&eo, &eng[k][t], d);
                if (rc == FS_OK)
                    rc = fs_bench_engine_warm(eng[k][t], d);
            }
        for (int si = 0; rc == FS_OK && si < 4; si++) {
            if (sets[si].n == 0)
                continue;
            /* the peer doubles a 12 MP photo to 48 MP before its scan:
             * some 20 s a photo, nothing to learn from at this size */
            int peer = si != 3;
            say(o, "%s: %d images, %d thread(s)%s", sets[si].name,
                sets[si].n, T, peer ? "" : ", facesearch only");
            double secs[2] = { 0, 0 }, small[2] = { 0, 0 }, cpu[2] = { 0, 0 };
            int faces[2] = { 0, 0 };
            double *width = calloc((size_t)sets[si].n, sizeof *width);
            if (!width) {
                rc = fs_fail(d, FS_ENOMEM, "no memory");
                break;
            }
            static const int order[4] = { 0, 1, 1, 0 };
            for (int k = 0; k < 4; k++) {
                int e = order[k];
                if (e == 1 && !peer)
                    continue;
                double c0 = cpu_now();
                secs[e] += fs_bench_front_pass(pool, eng[e], &sets[si],
                                               &faces[e], NULL, NULL, width);
                cpu[e] += cpu_now() - c0;
                for (int i = 0; i < sets[si].n; i++)
                    if (width[i] > 0 && (small[e] == 0 || width[i] < small[e]))
                        small[e] = width[i];
            }
            free(width);
            for (int k = 0; k < 1 + peer && rep->n < FS_BENCH_MAX_RESULTS;
                 k++) {
                fs_bench_detect_result *r = &rep->r[rep->n++];
                snprintf(r->engine, sizeof r->engine, "%s",
                         k == 0 ? "facesearch" : "dlib-upsample1");
                snprintf(r->set, sizeof r->set, "%s", sets[si].name);
                r->threads = T;
                r->images = sets[si].n;
                r->with_face = faces[k];
                r->detection_rate = (double)faces[k] / sets[si].n;
                r->images_per_s = 2.0 * sets[si].n / secs[k];
                r->ms_per_image = 1e3 / r->images_per_s;
                r->min_face = small[k];
                r->cpu_ms_per_image = 1e3 * cpu[k] / (2.0 * sets[si].n);
            }
        }
        for (int k = 0; k < 2; k++) {
            for (int t = 0; eng[k] && t < T; t++)
                fs_engine_close(eng[k][t]);
            free(eng[k]);
        }
        fs_pool_free(pool);
    }
    for (int i = 0; i < 4; i++)
        fs_bench_free_set(&sets[i]);
    return rc;
}
