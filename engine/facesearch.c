/*
 * facesearch.c - the engine: composes detect/ and embed/ behind
 * fs_engine.h.
 */
#include "fs_engine_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../detect/fs_detect.h"

int fs_engine_open(const fs_engine_options *opt, fs_engine **out,
                   fs_detail *d)
{
    if (!opt)
        return fs_fail(d, FS_EINVAL, "no engine options given");
    fs_engine *e = calloc(1, sizeof *e);
    if (!e)
        return fs_fail(d, FS_ENOMEM, "no memory for the engine");
    snprintf(e->landmarks, sizeof e->landmarks, "%s",
             opt->landmarks_path ? opt->landmarks_path : FS_LANDMARKS_PATH);
    e->detect_mode = opt->detect_mode;
    if (opt->quality)
        e->quality = *opt->quality;
    else
        fs_quality_defaults(&e->quality);
    e->threads = opt->threads;
    if (!opt->model_path) {
        *out = e;
        return FS_OK;
    }
    e->net_options = (fs_net_options){ opt->threads, opt->max_batch, 0 };
    int rc = fs_model_open(opt->model_path, &e->model, d);
    if (rc == FS_OK && (rc = fs_net_check(e->model, d)) == FS_OK) {
        snprintf(e->model_id, sizeof e->model_id, "%s",
                 fs_model_id(e->model));
        snprintf(e->model_sha, sizeof e->model_sha, "%s",
                 fs_model_sha256_hex(e->model));
    }
    if (rc == FS_OK && opt->second_model_path &&
        (rc = fs_model_open(opt->second_model_path, &e->model2, d)) == FS_OK &&
        (rc = fs_faceres_check(e->model2, d)) == FS_OK) {
        snprintf(e->model2_id, sizeof e->model2_id, "%s",
                 fs_model_id(e->model2));
        snprintf(e->model2_sha, sizeof e->model2_sha, "%s",
                 fs_model_sha256_hex(e->model2));
    }
    if (rc != FS_OK) {
        fs_engine_close(e);
        return rc;
    }
    *out = e;
    return FS_OK;
}

int fs_engine_networks(fs_engine *e, fs_detail *d)
{
    int rc = FS_OK;
    if (e->model) {
        rc = fs_net_create(e->model, &e->net_options, &e->net, d);
        if (rc != FS_OK)
            return rc;
        fs_model_close(e->model);     /* the network keeps its own copy */
        e->model = NULL;
    }
    if (e->model2) {
        rc = fs_faceres_create(e->model2, e->net_options.threads, &e->fr, d);
        if (rc != FS_OK)
            return rc;
        fs_model_close(e->model2);
        e->model2 = NULL;
    }
    return FS_OK;
}

void fs_engine_close(fs_engine *e)
{
    if (!e)
        return;
    fs_model_close(e->model);
    fs_model_close(e->model2);
    fs_net_free(e->net);
    fs_faceres_free(e->fr);
    free(e->chips2);
    free(e->desc2);
    for (int i = 0; i < e->ndet; i++)
        fs_detector_close(e->det[i]);
    free(e->det);
    fs_pool_free(e->front);
    free(e->chips);
    free(e->desc);
    free(e->tmpl);
    free(e);
}

const char *fs_engine_model_id(const fs_engine *e)
{
    return e->model_id;
}

const char *fs_engine_model_sha256(const fs_engine *e)
{
    return e->model_sha;
}

const char *fs_engine_second_model_id(const fs_engine *e)
{
    return e->model2_id;
}

const char *fs_engine_second_model_sha256(const fs_engine *e)
{
    return e->model2_sha;
}

double fs_engine_flops_per_chip(fs_engine *e, int batch)
{
    return fs_engine_networks(e, NULL) == FS_OK && e->net ?
           fs_net_flops_per_chip(e->net, batch) : 0;
}

/* The chip seen in a mirror: each row's pixels in reverse order. */
static void chip_mirror(const uint8_t *chip, uint8_t *out)
{
    for (int y = 0; y < FS_CHIP_SIZE; y++) {
        const uint8_t *row = chip + (size_t)y * FS_CHIP_SIZE * 3;
        uint8_t *to = out + (size_t)y * FS_CHIP_SIZE * 3;
        for (int x = 0; x < FS_CHIP_SIZE; x++)
            memcpy(to + 3 * x, row + 3 * (FS_CHIP_SIZE - 1 - x), 3);
    }
}

/* desc averaged in place with the descriptors of the chips' mirror
 * images: a face is near enough symmetric that the mean keeps its
 * identity and loses some of the pose and light of one side. */
static int mirror_mean(fs_engine *e, const uint8_t *chips, size_t n,
                       float *desc)
{
    uint8_t *flip = malloc(n * FS_CHIP_BYTES);
    float *other = malloc(n * FS_DESC_DIM * sizeof *other);
    int rc = flip && other ? FS_OK : FS_ENOMEM;
    for (size_t i = 0; rc == FS_OK && i < n; i++)
        chip_mirror(chips + i * FS_CHIP_BYTES, flip + i * FS_CHIP_BYTES);
    if (rc == FS_OK)
        rc = fs_net_forward(e->net, flip, n, other);
    for (size_t i = 0; rc == FS_OK && i < n * FS_DESC_DIM; i++)
        desc[i] = 0.5f * (desc[i] + other[i]);
    free(flip);
    free(other);
    return rc;
}

int fs_engine_embed(fs_engine *e, const uint8_t *chips, size_t n,
                    float *desc, float *tmpl)
{
    int rc = fs_engine_networks(e, NULL);
    if (rc != FS_OK)
        return rc;
    if (!e->net)
        return FS_EINVAL;
    rc = fs_net_forward(e->net, chips, n, desc);
    if (rc != FS_OK || !tmpl)
        return rc;
    float *mean = NULL;
    if (e->mirror && n) {
        mean = malloc(n * FS_DESC_DIM * sizeof *mean);
        if (!mean)
            return FS_ENOMEM;
        memcpy(mean, desc, n * FS_DESC_DIM * sizeof *mean);
        if ((rc = mirror_mean(e, chips, n, mean)) != FS_OK) {
            free(mean);
            return rc;
        }
    }
    const float *from = mean ? mean : desc;
    for (size_t i = 0; rc == FS_OK && i < n; i++)
        rc = fs_template_from_descriptor(from + i * FS_DESC_DIM,
                                         tmpl + i * FS_DESC_DIM);
    free(mean);
    return rc;
}

void fs_engine_set_mirror(fs_engine *e, int on)
{
    e->mirror = on != 0;
}

int fs_chip_read(const char *path, uint8_t *chip, fs_detail *d)
{
    return fs_chip_load(path, chip, d);
}

void fs_engine_set_quality(fs_engine *e, const fs_quality_limits *q)
{
    e->quality = *q;
}

int fs_image_read(const char *path, fs_image *img, fs_detail *d)
{
    return fs_image_load(path, img, d);
}

int fs_engine_pool(fs_engine *e, fs_pool **pool, fs_detail *d)
{
    int rc = e->front ? FS_OK : fs_pool_create(e->threads, &e->front);
    if (rc != FS_OK)
        return fs_fail(d, rc, "cannot start the engine's threads");
    if (pool)
        *pool = e->front;
    return FS_OK;
}

/* Detectors for the first n threads, made as they are first needed:
 * dlib's are not safe to share, and the first one loads the landmark
 * model (a second or two) that the others share. */
static int detectors(fs_engine *e, int n, fs_detail *d)
{
    if (e->ndet >= n)
        return FS_OK;
    fs_detector **det = realloc(e->det, (size_t)n * sizeof *det);
    if (!det)
        return fs_fail(d, FS_ENOMEM, "no memory for the detectors");
    e->det = det;
    int rc = FS_OK;
    for (int i = e->ndet; i < n && rc == FS_OK; i++) {
        rc = i ? fs_detector_clone(det[0], &det[i], d)
               : fs_detector_open(e->landmarks, &det[0], d);
        if (rc == FS_OK && i == 0)
            fs_detector_set_mode(det[0], e->detect_mode);
        if (rc == FS_OK)
            e->ndet = i + 1;
    }
    return rc;
}

int fs_engine_warm(fs_engine *e, fs_detail *d)
{
    int rc = fs_engine_networks(e, d);
    return rc == FS_OK ? detectors(e, e->threads > 0 ? e->threads :
                                   fs_cpu_count(), d) : rc;
}

void fs_engine_set_opener(fs_engine *e, const fs_opener *o)
{
    e->opener = o;
}

int fs_engine_front(fs_engine *e, fs_detail *d)
{
    int rc = fs_engine_pool(e, NULL, d);
    return rc == FS_OK ? detectors(e, fs_pool_threads(e->front), d) : rc;
}

/* A single image needs one detector, not a team's worth; the team
 * shares its HOG scan, the largest part of a probe's time before the
 * ranking (a 640x480 probe on 2 cores: see fs_engine.h). */
int fs_engine_detect(fs_engine *e, const fs_image *img, fs_face *faces,
                     int max, int *n, fs_detail *d)
{
    fs_pool *pool = NULL;
    int rc = detectors(e, 1, d);
    if (rc == FS_OK)
        rc = fs_engine_pool(e, &pool, d);
    return rc == FS_OK ? fs_detect_faces(e->det[0], pool, img, &e->quality,
                                         faces, max, n, d) : rc;
}

int fs_engine_face_chip(fs_engine *e, const fs_image *img,
                        const fs_face *f, uint8_t *chip, fs_detail *d)
{
    (void)e;                          /* no state: dlib's own geometry */
    return fs_face_chip(img, f, chip, d);
}
