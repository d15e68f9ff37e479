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

#include "../engine/facesearch.h"
#include "../engine/base/fs_pool.h"

#define LARGE_SIDE 1920

int fs_bench_detect(const fs_bench_detect_options *o,
                    fs_bench_detect_report *rep, fs_detail *d)
{
    memset(rep, 0, sizeof *rep);
    rep->ncpu = fs_cpu_count();
    fs_bench_set sets[3] = { { "lfw-dev", NULL, 0 },
                             { "faces94", NULL, 0 },
                             { "large-1920", NULL, 0 } };
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/datasets/lfw-dev", o->shared_dir);
    if (fs_bench_load_set(dir, o->limit, &sets[0]) != FS_OK)
        return fs_fail(d, FS_ENOENT, "no images in '%s': bench detect "
                       "needs ../shared/datasets", dir);
    snprintf(dir, sizeof dir, "%s/datasets/faces94", o->shared_dir);
    fs_bench_load_set(dir, o->limit, &sets[1]);
    for (int i = 0; i < sets[0].n && sets[2].n < o->large; i += 97) {
        fs_image img;
        uint8_t *copy = malloc(sets[0].files[i].n);
        if (!copy)
            break;
        memcpy(copy, sets[0].files[i].p, sets[0].files[i].n);
        if (fs_image_decode(copy, sets[0].files[i].n, "large", &img,
                            NULL) == FS_OK) {
            uint8_t *big = fs_bench_enlarge(&img, LARGE_SIDE);
            fs_bench_blob b = big ? fs_bench_bmp(big, LARGE_SIDE, LARGE_SIDE)
                                  : (fs_bench_blob){ NULL, 0, NULL };
            free(big);
            fs_bench_blob *m = b.p ? realloc(sets[2].files, sizeof *m *
                                    (size_t)(sets[2].n + 1)) : NULL;
            if (m) {
                sets[2].files = m;
                sets[2].files[sets[2].n++] = b;
            } else {
                free(b.p);
            }
            fs_image_release(&img);
        }
        free(copy);
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
        for (int si = 0; rc == FS_OK && si < 3; si++) {
            if (sets[si].n == 0)
                continue;
            say(o, "%s: %d images, %d thread(s)", sets[si].name, sets[si].n,
                T);
            double secs[2] = { 0, 0 };
            int faces[2] = { 0, 0 };
            static const int order[4] = { 0, 1, 1, 0 };
            for (int k = 0; k < 4; k++)
                secs[order[k]] += fs_bench_front_pass(pool, eng[order[k]],
                                                      &sets[si],
                                                      &faces[order[k]],
                                                      NULL, NULL);
            for (int k = 0; k < 2 && rep->n < FS_BENCH_MAX_RESULTS; k++) {
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
            }
        }
        for (int k = 0; k < 2; k++) {
            for (int t = 0; eng[k] && t < T; t++)
                fs_engine_close(eng[k][t]);
            free(eng[k]);
        }
        fs_pool_free(pool);
    }
    for (int i = 0; i < 3; i++)
        fs_bench_free_set(&sets[i]);
    return rc;
}
