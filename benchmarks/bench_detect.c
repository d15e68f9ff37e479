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

#include <dirent.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../engine/facesearch.h"
#include "../engine/base/fs_file.h"
#include "../engine/base/fs_pool.h"

#define LARGE_SIDE 1920

typedef struct blob {
    uint8_t *p;
    size_t   n;
} blob;

typedef struct set {
    const char *name;
    blob       *files;
    int         n;
} set;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Up to limit images of DIR/<identity>/<image>, in name order. */
static int load_set(const char *dir, int limit, set *s)
{
    DIR *top = opendir(dir);
    if (!top)
        return FS_ENOENT;
    char **ids = NULL;
    int nid = 0;
    for (struct dirent *e; (e = readdir(top)) != NULL; ) {
        if (e->d_name[0] == '.')
            continue;
        char **m = realloc(ids, sizeof *ids * (size_t)(nid + 1));
        if (!m)
            break;
        ids = m;
        ids[nid++] = strdup(e->d_name);
    }
    closedir(top);
    qsort(ids, (size_t)nid, sizeof *ids, cmp_str);
    for (int i = 0; i < nid && (limit <= 0 || s->n < limit); i++) {
        char sub[4096];
        snprintf(sub, sizeof sub, "%s/%s", dir, ids[i]);
        DIR *d = opendir(sub);
        char **names = NULL;
        int nn = 0;
        for (struct dirent *e; d && (e = readdir(d)) != NULL; ) {
            if (e->d_name[0] == '.')
                continue;
            char **m = realloc(names, sizeof *names * (size_t)(nn + 1));
            if (!m)
                break;
            names = m;
            names[nn++] = strdup(e->d_name);
        }
        if (d)
            closedir(d);
        qsort(names, (size_t)nn, sizeof *names, cmp_str);
        for (int k = 0; k < nn && (limit <= 0 || s->n < limit); k++) {
            char path[8192];
            snprintf(path, sizeof path, "%s/%s", sub, names[k]);
            blob b;
            if (fs_read_file(path, FS_IMAGE_MAX_BYTES, &b.p, &b.n, NULL) ==
                FS_OK) {
                blob *m = realloc(s->files, sizeof *m * (size_t)(s->n + 1));
                if (!m) {
                    free(b.p);
                    break;
                }
                s->files = m;
                s->files[s->n++] = b;
            }
        }
        for (int k = 0; k < nn; k++)
            free(names[k]);
        free(names);
    }
    for (int i = 0; i < nid; i++)
        free(ids[i]);
    free(ids);
    return s->n > 0 ? FS_OK : FS_ENOENT;
}

/* An uncompressed 24-bit BMP of rgb, so the large set goes through
 * intake and decode like any file. */
static blob to_bmp(const uint8_t *rgb, int w, int h)
{
    size_t row = ((size_t)w * 3 + 3) & ~(size_t)3, n = 54 + row * h;
    blob b = { calloc(1, n), n };
    if (!b.p)
        return b;
    uint8_t *p = b.p;
    uint32_t hdr[] = { (uint32_t)n, 0, 54, 40, (uint32_t)w, (uint32_t)h };
    p[0] = 'B';
    p[1] = 'M';
    for (int i = 0; i < 6; i++)
        for (int k = 0; k < 4; k++)
            p[2 + 4 * i + k] = (uint8_t)(hdr[i] >> (8 * k));
    p[26] = 1;
    p[28] = 24;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const uint8_t *s = rgb + 3 * ((size_t)(h - 1 - y) * w + x);
            uint8_t *d = p + 54 + (size_t)y * row + 3 * (size_t)x;
            d[0] = s[2];
            d[1] = s[1];
            d[2] = s[0];
        }
    return b;
}

/* Bilinear enlargement of img to side x side. */
static uint8_t *enlarge(const fs_image *img, int side)
{
    uint8_t *out = malloc((size_t)side * side * 3);
    if (!out)
        return NULL;
    for (int y = 0; y < side; y++) {
        double fy = (y + 0.5) * img->height / side - 0.5;
        int y0 = fy < 0 ? 0 : (int)fy;
        int y1 = y0 + 1 < img->height ? y0 + 1 : y0;
        double wy = fy - y0 < 0 ? 0 : fy - y0;
        for (int x = 0; x < side; x++) {
            double fx = (x + 0.5) * img->width / side - 0.5;
            int x0 = fx < 0 ? 0 : (int)fx;
            int x1 = x0 + 1 < img->width ? x0 + 1 : x0;
            double wx = fx - x0 < 0 ? 0 : fx - x0;
            for (int c = 0; c < 3; c++) {
#define PX(xx, yy) img->rgb[3 * ((size_t)(yy) * img->width + (xx)) + c]
                double v = (1 - wy) * ((1 - wx) * PX(x0, y0) + wx * PX(x1, y0)) +
                           wy * ((1 - wx) * PX(x0, y1) + wx * PX(x1, y1));
#undef PX
                out[3 * ((size_t)y * side + x) + c] = (uint8_t)(v + 0.5);
            }
        }
    }
    return out;
}

typedef struct run {
    fs_engine **eng;               /* one per thread */
    const set  *s;
    atomic_int  next, with_face, failed;
} run;

static void run_team(void *arg, int tid, int nt)
{
    (void)nt;
    run *r = arg;
    uint8_t chip[FS_CHIP_BYTES];
    fs_face *faces = malloc(FS_MAX_FACES * sizeof *faces);
    uint8_t *copy = NULL;
    size_t cap = 0;
    for (int i; faces && (i = atomic_fetch_add(&r->next, 1)) < r->s->n; ) {
        const blob *b = &r->s->files[i];
        if (b->n > cap) {
            free(copy);
            copy = malloc(b->n);
            cap = copy ? b->n : 0;
        }
        if (!copy)
            break;
        memcpy(copy, b->p, b->n);       /* decoding may patch the bytes */
        fs_image img;
        int n = 0;
        if (fs_image_decode(copy, b->n, "bench", &img, NULL) != FS_OK) {
            atomic_fetch_add(&r->failed, 1);
            continue;
        }
        if (fs_engine_detect(r->eng[tid], &img, faces, FS_MAX_FACES, &n,
                             NULL) == FS_OK && n > 0) {
            int k = fs_default_face(faces, n, img.width, img.height);
            if (fs_engine_face_chip(r->eng[tid], &img, &faces[k], chip,
                                    NULL) == FS_OK)
                atomic_fetch_add(&r->with_face, 1);
        }
        fs_image_release(&img);
    }
    free(copy);
    free(faces);
}

/* Seconds for one pass over the set; *with_face images had a face. */
static double pass(fs_pool *pool, fs_engine **eng, const set *s,
                   int *with_face)
{
    run r = { eng, s, 0, 0, 0 };
    double t = fs_bench_now();
    fs_pool_run(pool, run_team, &r);
    t = fs_bench_now() - t;
    *with_face = atomic_load(&r.with_face);
    return t;
}

static void free_set(set *s)
{
    for (int i = 0; i < s->n; i++)
        free(s->files[i].p);
    free(s->files);
    s->files = NULL;
    s->n = 0;
}

int fs_bench_detect(const fs_bench_detect_options *o,
                    fs_bench_detect_report *rep, fs_detail *d)
{
    memset(rep, 0, sizeof *rep);
    rep->ncpu = fs_cpu_count();
    set sets[3] = { { "lfw-dev", NULL, 0 }, { "faces94", NULL, 0 },
                    { "large-1920", NULL, 0 } };
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/datasets/lfw-dev", o->shared_dir);
    if (load_set(dir, o->limit, &sets[0]) != FS_OK)
        return fs_fail(d, FS_ENOENT, "no images in '%s': bench detect "
                       "needs ../shared/datasets", dir);
    snprintf(dir, sizeof dir, "%s/datasets/faces94", o->shared_dir);
    load_set(dir, o->limit, &sets[1]);
    for (int i = 0; i < sets[0].n && sets[2].n < o->large; i += 97) {
        fs_image img;
        uint8_t *copy = malloc(sets[0].files[i].n);
        if (!copy)
            break;
        memcpy(copy, sets[0].files[i].p, sets[0].files[i].n);
        if (fs_image_decode(copy, sets[0].files[i].n, "large", &img,
                            NULL) == FS_OK) {
            uint8_t *big = enlarge(&img, LARGE_SIDE);
            blob b = big ? to_bmp(big, LARGE_SIDE, LARGE_SIDE)
                         : (blob){ NULL, 0 };
            free(big);
            blob *m = b.p ? realloc(sets[2].files, sizeof *m *
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
                fs_engine_options eo = { .model_path = NULL,
                                         .detect_mode = k };
                rc = fs_engine_open(&eo, &eng[k][t], d);
                fs_image warm = { 0, 0, 3, 8, { FS_IMG_UNKNOWN, 0, 0, 1, 0,
                                                0 }, NULL };
                fs_face f;
                int n;
                uint8_t px[3 * 64 * 64] = { 0 };
                warm.width = warm.height = 64;
                warm.rgb = px;               /* loads the models */
                if (rc == FS_OK)
                    rc = fs_engine_detect(eng[k][t], &warm, &f, 1, &n, d);
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
                secs[order[k]] += pass(pool, eng[order[k]], &sets[si],
                                       &faces[order[k]]);
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
        free_set(&sets[i]);
    return rc;
}
