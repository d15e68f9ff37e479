/*
 * facesearch.h - the public C API of the facesearch engine.
 *
 * The engine composes the modules along the one direction data flows:
 * intake -> detect -> embed -> rank -> gate -> report.  The command-line
 * tool uses this header only.
 *
 * Errors follow fs_error.h: FS_OK or a negative FS_E* code, results in
 * out-parameters written only on success, and an optional fs_detail for
 * the human message.
 *
 * An fs_engine runs one call at a time (callers serialise); it spreads
 * each call over its own threads.
 */
#ifndef FACESEARCH_H
#define FACESEARCH_H

#include <stddef.h>
#include <stdint.h>

#include "fs_error.h"
#include "fs_types.h"
#include "../detect/fs_detect.h"    /* fs_image, fs_face: pipeline results */

#define FS_VERSION "0.1.0"

typedef struct fs_engine fs_engine;

typedef struct fs_engine_options {
    const char *model_path;   /* the converted model file (make models);
                                 NULL: no embedding (detection only) */
    const char *landmarks_path;  /* NULL: FS_LANDMARKS_PATH */
    int         detect_mode;     /* FS_DETECT_*: 0 is ours */
    int         threads;      /* <= 0: one per online CPU */
    int         max_batch;    /* chips per network batch; <= 0: 16 */
} fs_engine_options;

int  fs_engine_open(const fs_engine_options *opt, fs_engine **out,
                    fs_detail *d);
void fs_engine_close(fs_engine *e);

const char *fs_engine_model_id(const fs_engine *e);
const char *fs_engine_model_sha256(const fs_engine *e);
int         fs_engine_threads(const fs_engine *e);
/* Per chip: with batch 0 the network's nominal FLOPs (as direct
 * convolution), else those this engine computes at that batch size. */
double      fs_engine_flops_per_chip(const fs_engine *e, int batch);

/* Descriptors of n aligned chips (n * FS_CHIP_BYTES bytes, R,G,B).
 * desc receives n * FS_DESC_DIM raw network outputs, as dlib computes
 * them; tmpl, when not NULL, the unit-norm templates used for ranking. */
int fs_engine_embed(fs_engine *e, const uint8_t *chips, size_t n,
                    float *desc, float *tmpl);

/* Reads an aligned chip file: a 150x150 8-bit RGB image (FS_ESHAPE
 * otherwise, with the detail naming what the file holds). */
int fs_chip_read(const char *path, uint8_t *chip, fs_detail *d);

/* Reads a still image through intake (G8: refusals name the rule) and
 * decodes it upright. */
int fs_image_read(const char *path, fs_image *img, fs_detail *d);

/* Faces in an image, strongest first, each with landmarks and quality
 * (G13).  The landmark model loads on the first call. */
int fs_engine_detect(fs_engine *e, const fs_image *img, fs_face *faces,
                     int max, int *n, fs_detail *d);
/* The aligned 150x150 chip of a detected face. */
int fs_engine_face_chip(fs_engine *e, const fs_image *img,
                        const fs_face *f, uint8_t *chip, fs_detail *d);

#endif /* FACESEARCH_H */
